"""The experiment engine: batched runs, PyTorch's optimizer equations, divergence, L*."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import linnet
from linnet import lp_loss, lp_loss_grad, lp_minimum, run_lp_regression
from linnet.engine import OPTIMIZERS, _certificate, _newton_step

# Round-off tolerance: a batched run and a one-rate run, or the engine and a
# reference loop, perform the same floating-point operations up to summation
# order in BLAS, so they agree to ~1e-12 relative over a few dozen steps.
RTOL = 1e-9


def problem(m=12, d=4, k=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    W = rng.standard_normal((k, d))
    y = X @ W.T + 0.1 * rng.standard_normal((m, k))
    return X, (y[:, 0] if k == 1 else y)


SMALL_LRS = {"gd": 0.05, "momentum": 0.02, "adagrad": 0.05, "adadelta": 1.0, "adam": 0.01}


# --------------------------------------------------------------------------
# Batched equals unbatched
# --------------------------------------------------------------------------


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
@pytest.mark.parametrize(("depth", "form", "k"), [(1, "factors", 1), (2, "factors", 2)])
def test_batched_equals_one_rate_at_a_time(optimizer, depth, form, k):
    X, y = problem(k=k)
    base = SMALL_LRS[optimizer]
    lrs = [base / 4, base / 2, base]
    batched = run_lp_regression(
        X, y, p=4, lrs=lrs, steps=30, optimizer=optimizer, depth=depth, form=form
    )
    for i, lr in enumerate(lrs):
        single = run_lp_regression(
            X, y, p=4, lrs=[lr], steps=30, optimizer=optimizer, depth=depth, form=form
        )
        np.testing.assert_allclose(batched.losses[:, i], single.losses[:, 0], rtol=RTOL)
        np.testing.assert_allclose(batched.W_e[i], single.W_e[0], rtol=RTOL, atol=1e-15)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("depth", [2, 3])
def test_batched_end_to_end_equals_one_rate_at_a_time(k, depth):
    X, y = problem(k=k, d=5)
    lrs = [0.01, 0.03, 0.1]
    batched = run_lp_regression(X, y, p=2, lrs=lrs, steps=40, depth=depth, form="end_to_end")
    for i, lr in enumerate(lrs):
        single = run_lp_regression(X, y, p=2, lrs=[lr], steps=40, depth=depth, form="end_to_end")
        np.testing.assert_allclose(batched.losses[:, i], single.losses[:, 0], rtol=RTOL)


# --------------------------------------------------------------------------
# The update rules against independent references
# --------------------------------------------------------------------------


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("depth", [2, 3])
def test_end_to_end_form_is_linnets_update_rule(k, depth):
    # Reference: linnet.end_to_end_update (Theorem 1), one step at a time.
    X, y = problem(k=k, d=5)
    run = run_lp_regression(
        X, y, p=4, lrs=[0.02], steps=25, depth=depth, form="end_to_end", init_scale=0.5
    )
    W = run.W_e0.copy()
    Y = y if k > 1 else y[:, None]
    losses = [lp_loss(W, X, Y, 4)]
    for _ in range(25):
        W = linnet.end_to_end_update(W, lp_loss_grad(W, X, Y, 4), depth, 0.02)
        losses.append(lp_loss(W, X, Y, 4))
    np.testing.assert_allclose(run.losses[:, 0], losses, rtol=RTOL)
    np.testing.assert_allclose(run.W_e[0], W, rtol=RTOL)


def test_end_to_end_weight_decay_is_linnets():
    X, y = problem(k=2, d=4)
    run = run_lp_regression(
        X, y, p=2, lrs=[0.05], steps=10, depth=2, form="end_to_end", weight_decay=0.1
    )
    W = run.W_e0.copy()
    for _ in range(10):
        W = linnet.end_to_end_update(W, lp_loss_grad(W, X, y, 2), 2, 0.05, 0.1)
    np.testing.assert_allclose(run.W_e[0], W, rtol=RTOL)


def test_factors_form_is_gradient_descent_on_the_factors():
    # Reference: linnet.deep_gd_step from the same balanced factors.
    X, y = problem(k=2, d=3)
    run = run_lp_regression(X, y, p=4, lrs=[0.05], steps=20, depth=3, width=4, init_scale=0.8)
    weights = linnet.balanced_factors(run.W_e0, 3, [4, 4])
    for _ in range(20):
        G = lp_loss_grad(linnet.end_to_end(weights), X, y, 4)
        weights = linnet.deep_gd_step(weights, G, 0.05)
    np.testing.assert_allclose(run.W_e[0], linnet.end_to_end(weights), rtol=RTOL)


def test_gaussian_init_is_near_zero_init():
    X, y = problem(k=2, d=3)
    run = run_lp_regression(
        X, y, p=2, lrs=[0.1], steps=1, depth=3, width=[4, 5], init="gaussian", seed=7
    )
    factors = linnet.near_zero_init([3, 4, 5, 2], 1e-3, np.random.default_rng(7))
    np.testing.assert_allclose(run.W_e0, linnet.end_to_end(factors), rtol=1e-14)


# Reference loops written straight from the pseudo-code of the torch.optim
# documentation (SGD, Adagrad, Adadelta, Adam), for a list of parameters whose
# gradient is given by `grad(params)`.


def torch_sgd(params, grad, lr, steps, momentum=0.0, dampening=0.0, nesterov=False, wd=0.0):
    theta = [w.copy() for w in params]
    b = [None] * len(theta)
    for t in range(1, steps + 1):
        gs = grad(theta)
        for i in range(len(theta)):
            g = gs[i]
            if wd != 0:
                g = g + wd * theta[i]
            if momentum != 0:
                if t > 1:
                    b[i] = momentum * b[i] + (1 - dampening) * g
                else:
                    b[i] = g
                if nesterov:
                    g = g + momentum * b[i]
                else:
                    g = b[i]
            theta[i] = theta[i] - lr * g
    return theta


def torch_adagrad(params, grad, lr, steps, lr_decay=0.0, wd=0.0, init_acc=0.0, eps=1e-10):
    theta = [w.copy() for w in params]
    state_sum = [np.full_like(w, init_acc) for w in theta]
    for t in range(1, steps + 1):
        gs = grad(theta)
        for i in range(len(theta)):
            g = gs[i]
            clr = lr / (1 + (t - 1) * lr_decay)
            if wd != 0:
                g = g + wd * theta[i]
            state_sum[i] = state_sum[i] + g**2
            theta[i] = theta[i] - clr * g / (np.sqrt(state_sum[i]) + eps)
    return theta


def torch_adadelta(params, grad, lr, steps, rho=0.9, eps=1e-6, wd=0.0):
    theta = [w.copy() for w in params]
    v = [np.zeros_like(w) for w in theta]  # square average
    u = [np.zeros_like(w) for w in theta]  # accumulate variables
    for _ in range(steps):
        gs = grad(theta)
        for i in range(len(theta)):
            g = gs[i]
            if wd != 0:
                g = g + wd * theta[i]
            v[i] = v[i] * rho + g**2 * (1 - rho)
            dx = np.sqrt(u[i] + eps) / np.sqrt(v[i] + eps) * g
            u[i] = u[i] * rho + dx**2 * (1 - rho)
            theta[i] = theta[i] - lr * dx
    return theta


def torch_adam(params, grad, lr, steps, betas=(0.9, 0.999), eps=1e-8, wd=0.0, amsgrad=False):
    beta1, beta2 = betas
    theta = [w.copy() for w in params]
    m = [np.zeros_like(w) for w in theta]
    v = [np.zeros_like(w) for w in theta]
    vmax = [np.zeros_like(w) for w in theta]
    for t in range(1, steps + 1):
        gs = grad(theta)
        for i in range(len(theta)):
            g = gs[i]
            if wd != 0:
                g = g + wd * theta[i]
            m[i] = beta1 * m[i] + (1 - beta1) * g
            v[i] = beta2 * v[i] + (1 - beta2) * g**2
            m_hat = m[i] / (1 - beta1**t)
            v_hat = v[i] / (1 - beta2**t)
            if amsgrad:
                vmax[i] = np.maximum(vmax[i], v_hat)
                theta[i] = theta[i] - lr * m_hat / (np.sqrt(vmax[i]) + eps)
            else:
                theta[i] = theta[i] - lr * m_hat / (np.sqrt(v_hat) + eps)
    return theta


REFERENCES = [
    ("gd", {}, lambda p, g, lr, n: torch_sgd(p, g, lr, n)),
    ("gd", {"weight_decay": 0.1}, lambda p, g, lr, n: torch_sgd(p, g, lr, n, wd=0.1)),
    ("momentum", {}, lambda p, g, lr, n: torch_sgd(p, g, lr, n, momentum=0.9)),
    (
        "momentum",
        {"momentum": 0.5, "dampening": 0.3, "weight_decay": 0.01},
        lambda p, g, lr, n: torch_sgd(p, g, lr, n, momentum=0.5, dampening=0.3, wd=0.01),
    ),
    (
        "momentum",
        {"nesterov": True},
        lambda p, g, lr, n: torch_sgd(p, g, lr, n, momentum=0.9, nesterov=True),
    ),
    ("adagrad", {}, lambda p, g, lr, n: torch_adagrad(p, g, lr, n)),
    (
        "adagrad",
        {"lr_decay": 0.1, "initial_accumulator_value": 0.5, "eps": 1e-3, "weight_decay": 0.1},
        lambda p, g, lr, n: torch_adagrad(p, g, lr, n, 0.1, 0.1, 0.5, 1e-3),
    ),
    ("adadelta", {}, lambda p, g, lr, n: torch_adadelta(p, g, lr, n)),
    (
        "adadelta",
        {"rho": 0.5, "eps": 1e-4, "weight_decay": 0.1},
        lambda p, g, lr, n: torch_adadelta(p, g, lr, n, 0.5, 1e-4, 0.1),
    ),
    ("adam", {}, lambda p, g, lr, n: torch_adam(p, g, lr, n)),
    (
        "adam",
        {"betas": (0.8, 0.99), "eps": 1e-6, "weight_decay": 0.1, "amsgrad": True},
        lambda p, g, lr, n: torch_adam(p, g, lr, n, (0.8, 0.99), 1e-6, 0.1, True),
    ),
]


@pytest.mark.parametrize(("optimizer", "hyper", "reference"), REFERENCES)
@pytest.mark.parametrize("depth", [1, 2])
def test_optimizer_matches_pytorch_documented_equations(optimizer, hyper, reference, depth):
    X, y = problem(k=2, d=3)
    lr, steps = SMALL_LRS[optimizer], 8
    run = run_lp_regression(
        X, y, p=4, lrs=[lr], steps=steps, optimizer=optimizer, depth=depth,
        init_scale=0.5, **hyper,
    )  # fmt: skip
    start = linnet.balanced_factors(run.W_e0, depth, [3] * (depth - 1))

    def grad(weights):
        return linnet.layer_gradients(weights, lp_loss_grad(linnet.end_to_end(weights), X, y, 4))

    final = reference(start, grad, lr, steps)
    np.testing.assert_allclose(run.W_e[0], linnet.end_to_end(final), rtol=RTOL, atol=1e-14)
    assert run.hyper == {**OPTIMIZERS[optimizer], **hyper}


# --------------------------------------------------------------------------
# Starting point, divergence, best rate, steps_to
# --------------------------------------------------------------------------


def test_same_seed_same_starting_point_across_models():
    X, y = problem(k=2, d=4)
    runs = [
        run_lp_regression(X, y, p=2, lrs=[0.1], steps=2, seed=3),
        run_lp_regression(X, y, p=2, lrs=[0.1], steps=2, seed=3, depth=2, form="end_to_end"),
        run_lp_regression(X, y, p=2, lrs=[0.1], steps=2, seed=3, depth=3),
        run_lp_regression(X, y, p=2, lrs=[0.1], steps=2, seed=3, depth=2, optimizer="adam"),
    ]
    for run in runs:
        np.testing.assert_array_equal(run.W_e0, runs[0].W_e0)
        assert run.losses[0, 0] == pytest.approx(lp_loss(runs[0].W_e0, X, y, 2), rel=1e-12)
    assert np.linalg.norm(runs[0].W_e0) == pytest.approx(1e-3)
    other = run_lp_regression(X, y, p=2, lrs=[0.1], steps=2, seed=4)
    assert not np.allclose(other.W_e0, runs[0].W_e0)


def test_gaussian_start_shared_by_factors_and_end_to_end():
    X, y = problem(k=1, d=4)
    kw = {"p": 2, "lrs": [0.1], "steps": 2, "depth": 3, "init": "gaussian", "init_scale": 0.3}
    a = run_lp_regression(X, y, form="factors", **kw)
    b = run_lp_regression(X, y, form="end_to_end", **kw)
    np.testing.assert_array_equal(a.W_e0, b.W_e0)


@pytest.mark.parametrize("optimizer", list(OPTIMIZERS))
def test_divergence_is_masked_never_nan(optimizer):
    X, y = problem()
    lrs = [1e-3, 1e1, 1e3, 1e6]
    run = run_lp_regression(X, y, p=4, lrs=lrs, steps=200, optimizer=optimizer, depth=2)
    assert not np.isnan(run.losses).any()
    assert np.all(np.isfinite(run.W_e))
    assert not run.diverged[0]
    assert np.all(np.isfinite(run.losses[:, ~run.diverged]))
    for i in np.flatnonzero(run.diverged):
        col = run.losses[:, i]
        first = np.argmax(~np.isfinite(col))
        assert first > 0 and np.all(np.isinf(col[first:])), "inf from divergence on"
        assert np.all(col[:first] <= 1e3 * col[0])
    if run.diverged.any():
        assert run.best_lr != lrs[int(np.flatnonzero(run.diverged)[0])]


def test_gd_divergence_detected_and_best_lr():
    # Quadratic with Hessian I/2: GD is stable for lr < 4, exact at lr = 2.
    X, y = np.eye(2), np.array([1.0, 0.5])
    run = run_lp_regression(X, y, p=2, lrs=[0.5, 1.0, 2.0, 3.5, 8.0], steps=10)
    assert run.diverged.tolist() == [False, False, False, False, True]
    assert run.best_lr == 2.0
    assert np.isinf(run.final_loss[4])
    with pytest.raises(ValueError, match="every learning rate diverged"):
        _ = run_lp_regression(X, y, p=2, lrs=[8.0, 16.0], steps=60).best_lr


def test_steps_to():
    X, y = np.eye(2), np.array([1.0, 0.5])
    run = run_lp_regression(X, y, p=2, lrs=[0.5, 1.0, 8.0], steps=60)
    target = 1e-6
    reached = run.steps_to(target)
    for i in range(2):
        t = int(reached[i])
        assert run.losses[t, i] <= target < run.losses[t - 1, i]
    assert reached[1] < reached[0]
    assert reached[2] == np.inf
    assert run.steps_to(-1.0).tolist() == [np.inf] * 3
    assert run.steps_to(np.inf).tolist() == [0.0] * 3


def test_loss_matches_linnet_loss_along_the_run():
    X, y = problem(k=2, d=3)
    run = run_lp_regression(X, y, p=6, lrs=[1e-3], steps=5)
    assert run.losses[-1, 0] == pytest.approx(lp_loss(run.W_e[0], X, y, 6), rel=1e-12)


# --------------------------------------------------------------------------
# lp_minimum
# --------------------------------------------------------------------------


@pytest.mark.parametrize("p", [2, 4, 6])
@pytest.mark.parametrize("k", [1, 2])
def test_lp_minimum_certified_by_gradient_norm(p, k):
    X, y = problem(m=40, d=5, k=k, seed=p)
    L_star, W_star = lp_minimum(X, y, p)
    g = lp_loss_grad(W_star, X, y, p)
    R = X @ W_star.T - (y if k > 1 else y[:, None])
    scale = np.abs(R.T) ** (p - 1) @ np.linalg.norm(X, axis=1) / len(X)
    # The certificate the docstring promises (per output, rtol = 1e-9).
    assert np.all(np.linalg.norm(g, axis=1) <= 1e-9 * scale)
    assert L_star == pytest.approx(lp_loss(W_star, X, y, p), rel=1e-12)
    # Convexity: random perturbations never go below L*.
    rng = np.random.default_rng(0)
    for scale in (1e-4, 1e-2, 1.0):
        W = W_star + scale * rng.standard_normal(W_star.shape)
        assert lp_loss(W, X, y, p) >= L_star * (1 - 1e-12)


def test_lp_minimum_p2_is_least_squares():
    X, y = problem(m=30, d=4)
    w = np.linalg.lstsq(X, y, rcond=None)[0]
    _, W_star = lp_minimum(X, y, 2)
    np.testing.assert_allclose(W_star[0], w, rtol=1e-12)


def test_lp_minimum_on_ill_conditioned_data():
    data = linnet.datasets.sensor_like(m=400, d=32, seed=1)
    for p in (2, 4):
        L_star, _ = lp_minimum(data.X, data.y, p)
        run = run_lp_regression(data.X, data.y, p=p, lrs=[1e-2], steps=50)
        assert np.all(run.losses >= L_star)


def test_lp_minimum_on_raw_tecator_spectra():
    # Regression (issue 14): on the raw (not z-scored) Tecator spectra, cond(X) ~ 1.6e7 and
    # |X||w| ~ 1e4 |r|, so the computed gradient cannot go below ~1e-7 of its scale on any
    # BLAS; the old certificate (rtol = 1e-9 of the scale only) failed on some kernels.
    X = linnet.datasets.tecator("fat", standardize=False).X
    y = linnet.datasets.tecator("fat").y
    L_star, W_star = lp_minimum(X, y, 4)
    w = W_star[0]
    grad, scale, floor = _certificate(X, y, w, 4)
    assert grad <= max(1e-9 * scale, floor)
    # The floor is a round-off bound, not a blank cheque: the gradient is still tiny.
    assert grad <= 1e-6 * scale and floor <= 1e-5 * scale
    # Newton decrement g^T H^{-1} g / 2 estimates L(W_star) - L*: negligible against L*.
    r = X @ w - y
    g = X.T @ r**3 / len(X)
    decrement = 0.5 * float(g @ _newton_step(X, r, 4))
    assert abs(decrement) <= 1e-9 * L_star
    assert L_star == pytest.approx(lp_loss(W_star, X, y, 4), rel=1e-12)
    rng = np.random.default_rng(0)
    for size in (1e-6, 1e-3):
        W = W_star * (1 + size * rng.standard_normal(W_star.shape))
        assert lp_loss(W, X, y, 4) >= L_star * (1 - 1e-12)


def test_lp_minimum_round_off_floor_is_negligible_on_well_conditioned_data():
    X, y = problem(m=40, d=5, k=1, seed=3)
    _, W_star = lp_minimum(X, y, 4)
    _, scale, floor = _certificate(X, y, W_star[0], 4)
    assert floor <= 1e-12 * scale  # there rtol = 1e-9 decides, as before


@pytest.mark.parametrize(
    "options",
    [
        {"optimizer": "adam"},
        {"depth": 2, "form": "end_to_end"},
        {"depth": 3, "optimizer": "adagrad"},
        {"depth": 2, "init": "gaussian", "width": 3, "optimizer": "momentum"},
    ],
)
def test_seeds_batched_equal_separate_runs(options):
    X, y = problem(k=2, d=3)
    lrs = [0.005, 0.01]
    runs = linnet.run_lp_regression_seeds(X, y, seeds=[0, 5, 2], p=4, lrs=lrs, steps=15, **options)
    for seed, run in zip([0, 5, 2], runs, strict=True):
        alone = run_lp_regression(X, y, seed=seed, p=4, lrs=lrs, steps=15, **options)
        np.testing.assert_array_equal(run.W_e0, alone.W_e0)
        np.testing.assert_allclose(run.losses, alone.losses, rtol=RTOL)
        np.testing.assert_allclose(run.W_e, alone.W_e, rtol=RTOL, atol=1e-15)
        assert run.optimizer == alone.optimizer and run.form == alone.form


@pytest.mark.parametrize("terms", ["both", "norm", "projection"])
def test_single_output_rule_ablations(terms):
    # Reference written from the formulas of the docstring (Claim 2 and its two halves).
    X, y = problem(k=1, d=4)
    N, lr = 3, 0.05
    run = run_lp_regression(
        X, y, p=4, lrs=[lr], steps=12, depth=N, form="end_to_end", terms=terms,
        init_scale=0.5, keep_path=True,
    )  # fmt: skip
    w = run.W_e0[0].copy()
    for t in range(12):
        np.testing.assert_allclose(run.path[t, 0, 0], w, rtol=RTOL)
        g = lp_loss_grad(w, X, y, 4)
        norm_factor = np.dot(w, w) ** (1 - 1 / N)
        push = g + (N - 1) * np.dot(w, g) / np.dot(w, w) * w
        step = {"both": norm_factor * push, "norm": norm_factor * g, "projection": push}[terms]
        w = w - lr * step
    np.testing.assert_allclose(run.W_e[0, 0], w, rtol=RTOL)
    if terms == "both":
        w2 = run.W_e0[0].copy()
        for _ in range(12):
            w2 = linnet.single_output_update(w2, lp_loss_grad(w2, X, y, 4), N, lr)
        np.testing.assert_allclose(run.W_e[0, 0], w2, rtol=RTOL)


def test_keep_path_records_every_step():
    X, y = problem(k=2, d=3)
    run = run_lp_regression(
        X, y, p=4, lrs=[0.01, 1e4], steps=20, depth=2, optimizer="adam", keep_path=True
    )
    assert run.path.shape == (21, 2, 2, 3)
    np.testing.assert_allclose(run.path[0, 0], run.W_e0, rtol=1e-12)  # product of factors
    np.testing.assert_array_equal(run.path[-1], run.W_e)
    for t in (0, 7, 20):
        assert run.losses[t, 0] == pytest.approx(lp_loss(run.path[t, 0], X, y, 4), rel=1e-10)
    assert run.diverged[1] and np.all(np.isfinite(run.path))
    assert run_lp_regression(X, y, p=2, lrs=[0.1], steps=2).path is None


@pytest.mark.parametrize(
    "singular_values",
    [[1.0, 0.5, 0.1], [1.0, 1e-2, 1e-5], [1.0, 0.3, 0.0], [0.0, 0.0, 0.0], [2.0, 2.0, 2.0]],
)
@pytest.mark.parametrize("depth", [2, 3, 5])
def test_batched_rule_matches_end_to_end_update(singular_values, depth):
    # Both branches (eigh of W W^T when s_min / s_max >= 1e-3, else the SVD), including
    # rank-deficient and zero W, against linnet.end_to_end_update (one thin SVD).
    from linnet.engine import _end_to_end_direction

    rng = np.random.default_rng(depth)
    U, _ = np.linalg.qr(rng.standard_normal((3, 3)))
    V, _ = np.linalg.qr(rng.standard_normal((6, 3)))
    W = (U * singular_values) @ V.T
    G = rng.standard_normal((3, 6))
    expected = (W - linnet.end_to_end_update(W, G, depth, 1.0)) if np.any(W) else None
    got = _end_to_end_direction(W[None], G[None], depth)[0]
    if expected is None:  # W = 0: only the j = N term with N = 1 survives, i.e. 0 for N >= 2
        expected = W - linnet.end_to_end_update(W, G, depth, 1.0)
    # Tolerance: round-off of two different factorisations, amplified by at most
    # (s_max / s_min)^2 <= 1e6 in the eigh branch: 1e-9 relative to |G| s_max^{2-2/N}.
    scale = np.linalg.norm(G) * max(max(singular_values), 1.0) ** 2
    np.testing.assert_allclose(got, expected, atol=1e-9 * scale)


@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("p", [2, 4])
def test_overflowing_end_to_end_runs_are_masked(k, p):
    # Rates and starting points far beyond any sensible value: nothing raises, no NaN.
    X, y = problem(m=20, d=4, k=k)
    for scale in (1e-3, 1e100):
        run = run_lp_regression(
            X, y, p=p, lrs=[1e-6, 1e2, 1e10, 1e100], steps=50, depth=3, form="end_to_end",
            init_scale=scale,
        )  # fmt: skip
        assert not np.isnan(run.losses).any() and np.all(np.isfinite(run.W_e))
        assert run.diverged[1:].all()


def test_a_start_whose_loss_overflows_counts_as_diverged():
    X, y = problem(m=20, d=4)
    run = run_lp_regression(X, y, p=4, lrs=[1e-6, 1e-3], steps=5, init_scale=1e100)
    assert run.diverged.all() and np.all(np.isinf(run.losses))
    with pytest.raises(ValueError, match="every learning rate diverged"):
        _ = run.best_lr


@settings(max_examples=40)
@given(
    m=st.integers(3, 8),
    d=st.integers(1, 4),
    k=st.integers(1, 3),
    p=st.sampled_from([2, 4]),
    model=st.sampled_from(
        [(1, "factors", "gd"), (2, "factors", "adam"), (3, "factors", "adagrad"),
         (2, "end_to_end", "gd"), (3, "end_to_end", "gd"), (1, "factors", "momentum"),
         (2, "factors", "adadelta")]
    ),
    init=st.sampled_from(["balanced", "gaussian"]),
    seed=st.integers(0, 2**16),
)  # fmt: skip
def test_property_batched_grid_equals_single_rates(m, d, k, p, model, init, seed):
    depth, form, optimizer = model
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((m, d))
    y = rng.standard_normal((m, k))
    lrs = [1e-3, 1e-2, 1e6]  # the last one diverges for most problems
    kw = {"p": p, "steps": 12, "depth": depth, "form": form, "optimizer": optimizer,
          "init": init, "init_scale": 0.3, "seed": seed}  # fmt: skip
    batched = run_lp_regression(X, y, lrs=lrs, **kw)
    assert not np.isnan(batched.losses).any()
    for i, lr in enumerate(lrs):
        single = run_lp_regression(X, y, lrs=[lr], **kw)
        assert batched.diverged[i] == single.diverged[0]
        np.testing.assert_allclose(batched.losses[:, i], single.losses[:, 0], rtol=RTOL)
        np.testing.assert_allclose(batched.W_e[i], single.W_e[0], rtol=RTOL, atol=1e-14)


# --------------------------------------------------------------------------
# Conventions: TensorFlow 1 (the paper's) vs PyTorch
# --------------------------------------------------------------------------


def _first_step(optimizer, conventions, X, y, lr, **hyper):
    run = run_lp_regression(
        X, y, p=2, lrs=[lr], steps=1, optimizer=optimizer, conventions=conventions,
        keep_path=True, **hyper,
    )  # fmt: skip
    g = lp_loss_grad(run.W_e0, X, y, 2)
    return run.path[0, 0], run.path[1, 0], g


def test_tf1_adagrad_first_step_by_hand():
    X, y = problem(m=12, d=4)
    lr = 0.3
    W0, W1, g = _first_step("adagrad", "tf1", X, y, lr)
    # TF1 ApplyAdagrad: accum = 0.1 + g^2, var -= lr g / sqrt(accum); no epsilon.
    np.testing.assert_allclose(W1, W0 - lr * g / np.sqrt(0.1 + g * g), rtol=1e-13)
    # PyTorch: sum = 0 + g^2, step lr g / (|g| + 1e-10), i.e. +-lr per entry.
    W0t, W1t, gt = _first_step("adagrad", "torch", X, y, lr)
    np.testing.assert_allclose(W1t, W0t - lr * gt / (np.abs(gt) + 1e-10), rtol=1e-13)
    assert not np.allclose(W1 - W0, W1t - W0t, rtol=1e-3)


def test_tf1_adadelta_first_step_by_hand():
    X, y = problem(m=12, d=4)
    lr = 1.0
    for conventions, rho, eps in (("tf1", 0.95, 1e-8), ("torch", 0.9, 1e-6)):
        W0, W1, g = _first_step("adadelta", conventions, X, y, lr)
        v = (1 - rho) * g * g
        delta = np.sqrt(0.0 + eps) / np.sqrt(v + eps) * g
        np.testing.assert_allclose(W1, W0 - lr * delta, rtol=1e-13)


def test_tf1_adam_eps_hat_by_hand():
    X, y = problem(m=12, d=4)
    lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-8
    run = run_lp_regression(
        X, y, p=2, lrs=[lr], steps=3, optimizer="adam", conventions="tf1", keep_path=True
    )
    W, m, v = run.W_e0.copy(), 0.0, 0.0
    for t in (1, 2, 3):
        g = lp_loss_grad(W, X, y, 2)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        # TF1 AdamOptimizer: lr_t = lr sqrt(1 - b2^t) / (1 - b1^t); eps added to sqrt(v_t)
        W = W - lr * np.sqrt(1 - b2**t) / (1 - b1**t) * m / (np.sqrt(v) + eps)
        np.testing.assert_allclose(run.path[t, 0], W, rtol=1e-12)
    # With a large epsilon the two placements differ visibly at step 1.
    tf = run_lp_regression(X, y, p=2, lrs=[lr], steps=1, optimizer="adam",
                           conventions="tf1", eps=1e-2)  # fmt: skip
    th = run_lp_regression(X, y, p=2, lrs=[lr], steps=1, optimizer="adam", eps=1e-2)
    assert not np.allclose(tf.W_e, th.W_e, rtol=1e-6)


def test_conventions_recorded_and_overridable():
    X, y = problem()
    run = run_lp_regression(X, y, p=4, lrs=[0.1], steps=2, optimizer="adadelta",
                            conventions="tf1", eps=1e-6)  # fmt: skip
    assert run.conventions == "tf1"
    assert run.hyper["rho"] == 0.95 and run.hyper["eps"] == 1e-6
    assert linnet.engine.CONVENTIONS["torch"] is OPTIMIZERS
    for opt in ("gd", "momentum"):  # identical in both conventions
        a = run_lp_regression(X, y, p=4, lrs=[0.01], steps=5, optimizer=opt)
        b = run_lp_regression(X, y, p=4, lrs=[0.01], steps=5, optimizer=opt, conventions="tf1")
        np.testing.assert_array_equal(a.losses, b.losses)
    seeds = linnet.run_lp_regression_seeds(
        X, y, seeds=[0, 1], p=4, lrs=[0.1], steps=3, optimizer="adagrad", conventions="tf1"
    )
    assert all(r.conventions == "tf1" and r.hyper["initial_accumulator_value"] == 0.1
               for r in seeds)  # fmt: skip


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"conventions": "tf2"}, ValueError, "conventions"),
        ({"conventions": 1}, TypeError, "conventions"),
        ({"optimizer": "adagrad", "eps": 0.0}, ValueError, "initial_accumulator_value"),
        ({"optimizer": "adam", "eps": 0.0}, ValueError, "eps"),
        ({"optimizer": "adam", "conventions": "tf1", "amsgrad": True}, ValueError, "amsgrad"),
    ],
)
def test_conventions_bad_input(kwargs, error, match):
    X, y = problem()
    with pytest.raises(error, match=match):
        run_lp_regression(X, y, p=4, lrs=[0.1], steps=2, **kwargs)
