"""The non-linear convnet of chapter 7: data, hand-written gradients, training loop."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linnet import layer_gradients
from linnet.convnet_results import ARMS, LEVELS, load_arm, rerun_sample
from linnet.nonlinear import (
    convnet_loss_grad,
    count_parameters,
    factor_pair_update,
    init_convnet,
    load_digits,
    order_verdict,
    product_scale,
    speedup,
    step_ratios,
    steps_to_levels,
    steps_to_reach,
    train_convnet,
    truncated_normal_std,
)
from test_linalg_losses import STEPS, taylor_slope

from strategies import seeds

DATA = load_digits()


def small(seed, overparameterize, factor_init="normal", std=0.1):
    return init_convnet(
        [seed, seed + 1],
        channels=3,
        hidden=5,
        overparameterize=overparameterize,
        factor_init=factor_init,
        std=std,
    )


# ----------------------------------------------------------------------------- data


def test_digits_ship_with_the_package_and_split_by_class():
    assert len(DATA.y_train) + len(DATA.y_test) == 1797
    assert DATA.X_train.shape[1:] == DATA.X_test.shape[1:] == (8, 8)
    assert DATA.X_train.min() == -0.5 and DATA.X_train.max() == 0.5
    counts = np.bincount(DATA.y_test, minlength=10)
    assert counts.min() >= 35 and counts.max() <= 37  # 20 % of each class (174..183 images)


def test_digits_split_is_seeded():
    again, other = load_digits(), load_digits(seed=1)
    np.testing.assert_array_equal(again.X_train, DATA.X_train)
    np.testing.assert_array_equal(again.y_test, DATA.y_test)
    assert not np.array_equal(other.y_train, DATA.y_train)


# ------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("overparameterize", [False, True])
@given(seed=seeds)
@settings(max_examples=8, deadline=None)
def test_taylor_convnet_loss_grad(overparameterize, seed):
    # ReLU and max-pooling are only piecewise smooth, but a step of h <= 1e-3 along a random
    # direction almost never crosses a kink when the weights (std = 1) make the
    # pre-activations O(1): slope 2 +- 0.1.
    rng = np.random.default_rng(seed)
    params = small(seed % 1000, overparameterize, std=1.0)
    direction = {k: rng.standard_normal(v.shape) for k, v in params.items()}
    batch = rng.choice(len(DATA.y_train), size=9, replace=False)
    X, y = DATA.X_train[batch], DATA.y_train[batch]
    _, grads = convnet_loss_grad(params, X, y)

    def total(h):
        moved = {k: v + h * direction[k] for k, v in params.items()}
        return float(np.sum(convnet_loss_grad(moved, X, y)[0]))

    directional = sum(float(np.sum(grads[k] * direction[k])) for k in params)
    assert taylor_slope(total, directional, STEPS) == pytest.approx(2.0, abs=0.1)


@pytest.mark.parametrize("overparameterize", [False, True])
def test_gradient_matches_central_differences(overparameterize):
    # Central differences with eps = 1e-6 have error O(eps^2) + round-off O(1e-16 / eps):
    # about 1e-10 here, so 1e-7 absolute is a safe tolerance.
    params = small(3, overparameterize)
    X, y = DATA.X_train[:7], DATA.y_train[:7]
    _, grads = convnet_loss_grad(params, X, y)
    eps = 1e-6
    rng = np.random.default_rng(0)
    for key, value in params.items():
        for _ in range(6):
            idx = tuple(int(rng.integers(0, n)) for n in value.shape)
            plus = {k: v.copy() for k, v in params.items()}
            minus = {k: v.copy() for k, v in params.items()}
            plus[key][idx] += eps
            minus[key][idx] -= eps
            diff = convnet_loss_grad(plus, X, y)[0] - convnet_loss_grad(minus, X, y)[0]
            assert diff[idx[0]] / (2 * eps) == pytest.approx(grads[key][idx], abs=1e-7)


def test_factor_gradients_are_the_deep_linear_ones():
    # Through W = W_b W_a the factors get exactly linnet.layer_gradients([W_a, W_b], G),
    # with G the gradient of the same network with W as a single matrix.
    over = small(5, True)
    base = {k: v for k, v in over.items() if not k.endswith(("_wa", "_wb"))}
    for name in ("fc1", "fc2"):
        base[f"{name}_w"] = over[f"{name}_wb"] @ over[f"{name}_wa"]
    X, y = DATA.X_train[:11], DATA.y_train[:11]
    loss_over, g_over = convnet_loss_grad(over, X, y)
    loss_base, g_base = convnet_loss_grad(base, X, y)
    np.testing.assert_allclose(loss_over, loss_base, rtol=1e-13)
    for name in ("fc1", "fc2"):
        for r in range(2):
            g_a, g_b = layer_gradients(
                [over[f"{name}_wa"][r], over[f"{name}_wb"][r]], g_base[f"{name}_w"][r]
            )
            np.testing.assert_allclose(g_over[f"{name}_wa"][r], g_a, atol=1e-14)
            np.testing.assert_allclose(g_over[f"{name}_wb"][r], g_b, atol=1e-14)


def test_identity_factors_compute_the_base_function():
    base, over = small(7, False), small(7, True, factor_init="identity")
    np.testing.assert_array_equal(over["fc1_wa"], base["fc1_w"])
    X, y = DATA.X_train[:20], DATA.y_train[:20]
    np.testing.assert_allclose(
        convnet_loss_grad(over, X, y)[0], convnet_loss_grad(base, X, y)[0], rtol=1e-14
    )


def test_one_step_on_the_pair_moves_the_product_as_predicted():
    rng = np.random.default_rng(1)
    W_a, W_b, G = (
        rng.standard_normal((4, 6)),
        rng.standard_normal((3, 4)),
        rng.standard_normal((3, 6)),
    )
    g_a, g_b = layer_gradients([W_a, W_b], G)
    for lr in (1e-1, 1e-2, 1e-3):
        first, second = factor_pair_update(W_a, W_b, G, lr)
        exact = (W_b - lr * g_b) @ (W_a - lr * g_a)
        np.testing.assert_allclose(first + second, exact, atol=1e-12)
        # The first-order part alone is off by O(lr^2): the gap shrinks 100x per decade.
        assert np.linalg.norm(exact - first) == pytest.approx(
            lr**2 * np.linalg.norm(G @ W_a.T @ W_b.T @ G), rel=1e-9
        )


def test_parameter_count():
    C, H = 8, 24
    base = 9 * C + C + H * 16 * C + H + 10 * H + 10
    assert count_parameters(init_convnet([0], channels=C, hidden=H)) == base
    over = count_parameters(init_convnet([0], channels=C, hidden=H, overparameterize=True))
    assert over - base == H * H + 10 * 10


# --------------------------------------------------------------------------- training


def test_training_is_deterministic_and_a_grid_equals_single_runs():
    a = train_convnet(DATA, [0.05, 0.1], [0, 1], steps=30, overparameterize=True)
    b = train_convnet(DATA, [0.1], [1], steps=30, overparameterize=True)
    np.testing.assert_allclose(a.batch_loss[1, 1], b.batch_loss[0, 0], rtol=1e-5)
    c = train_convnet(DATA, [0.05, 0.1], [0, 1], steps=30, overparameterize=True)
    np.testing.assert_array_equal(a.batch_loss, c.batch_loss)


def test_train_loss_is_the_trailing_epoch_mean():
    run = train_convnet(DATA, [0.1], [0], steps=40, momentum=0.0)
    assert run.window == 23  # ceil(1438 / 64)
    np.testing.assert_allclose(run.train_loss[0, 0, 39], run.batch_loss[0, 0, 17:40].mean())
    np.testing.assert_allclose(run.train_loss[0, 0, 4], run.batch_loss[0, 0, :5].mean())


def test_diverging_runs_are_masked_without_warnings():
    run = train_convnet(DATA, [0.1, 1e4], [0], steps=30)
    assert np.all(np.isfinite(run.batch_loss[0]))
    assert np.isnan(run.batch_loss[1, 0, -1]) and np.isnan(run.test_accuracy[1, 0])


def test_a_better_model_is_learned_on_held_out_digits():
    run = train_convnet(DATA, [0.2], [0], steps=150)
    assert run.test_accuracy[0, 0] > 0.85


@pytest.mark.parametrize(
    ("base", "over", "expected"),
    [([3, 2, 1], [3, 1, 0.5], 1.5), ([3, 2, 1], [3, 2, 1], 1.0), ([3, 2, 1], [5, 5, 5], 0.0)],
)
def test_speedup(base, over, expected):
    assert speedup(base, over) == expected


def test_steps_to_reach_skips_nan():
    assert steps_to_reach([1.0, np.nan, 0.1], [1, 2, 3], 0.5) == 3.0


@given(st.floats(0.1, 10))
@settings(max_examples=10, deadline=None)
def test_speedup_of_a_curve_against_itself_is_one(scale):
    curve = scale * np.exp(-np.arange(20) / 5)
    assert speedup(curve, curve) == 1.0


# ------------------------------------------------------- initial scale and the ladder


def test_truncated_normal_std_matches_the_sampler():
    # 200 000 draws: the sample std has relative error about 1/sqrt(2 n) = 0.16 %,
    # so 1 % is a safe tolerance; an untruncated normal (0.1) would be 14 % off.
    from linnet.nonlinear import _truncated_normal

    draws = _truncated_normal(np.random.default_rng(0), (200_000,), 0.1)
    assert draws.std() == pytest.approx(truncated_normal_std(0.1), rel=0.01)
    assert truncated_normal_std(2.0) == pytest.approx(20 * truncated_normal_std(0.1))


@pytest.mark.parametrize("m", [10, 24, 512])
def test_product_scale_matches_sampled_products(m):
    # Mean over 5 seeds of std(W_b W_a) / std(W_a), with n_in = 128 columns: sampling
    # error of a few per cent, so 5 % tolerance.
    ratios = []
    for seed in range(5):
        p = init_convnet([seed], hidden=m, overparameterize=True)
        ratios.append((p["fc1_wb"][0] @ p["fc1_wa"][0]).std() / p["fc1_wa"][0].std())
    assert np.mean(ratios) == pytest.approx(product_scale(m), rel=0.05)


def test_dense_scale_rescales_the_same_draw():
    plain = init_convnet([3, 4])
    scaled = init_convnet([3, 4], dense_scale=(0.5, 2.0))
    np.testing.assert_array_equal(scaled["fc1_w"], 0.5 * plain["fc1_w"])
    np.testing.assert_array_equal(scaled["fc2_w"], 2.0 * plain["fc2_w"])
    np.testing.assert_array_equal(scaled["conv_w"], plain["conv_w"])


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"dense_scale": (0.5, 1.0), "overparameterize": True}, ValueError),
        ({"dense_scale": (0.0, 1.0)}, ValueError),
        ({"dense_scale": (1.0,)}, ValueError),
        ({"dense_scale": "big"}, TypeError),
        ({"dense_scale": (np.nan, 1.0)}, ValueError),
    ],
)
def test_dense_scale_rejects_bad_input(kwargs, error):
    with pytest.raises(error):
        init_convnet([0], **kwargs)


def test_steps_to_levels_agrees_with_steps_to_reach_and_censors():
    rng = np.random.default_rng(2)
    curves = np.exp(-np.cumsum(rng.uniform(0, 0.2, size=(3, 50)), axis=1))
    curves[1, 10:] = np.nan  # diverged
    levels = [0.9, 0.5, 0.1, 1e-3]
    got = steps_to_levels(curves, levels)
    steps = np.arange(1, 51)
    for r in range(3):
        for j, level in enumerate(levels):
            assert got[r, j] == steps_to_reach(curves[r], steps, level)
    assert np.isinf(got[1, -1]) and np.isinf(got[:, -1]).all()


def test_step_ratios_give_bounds_for_censored_sides():
    ratio, censored = step_ratios([100, np.inf, 50, np.inf], [300, 500, np.inf, np.inf], 1000)
    np.testing.assert_allclose(ratio[:3], [3.0, 0.5, 20.0])
    assert np.isnan(ratio[3])
    np.testing.assert_array_equal(censored, [False, True, True, True])
    with pytest.raises(ValueError, match="steps_over"):
        step_ratios([2000], [10], 1000)  # beyond the budget
    with pytest.raises(ValueError, match="share a shape"):
        step_ratios([1, 2], [1], 10)


@pytest.mark.parametrize(
    ("ratios", "expected"),
    [
        ([2.0, 3.0], "faster"),
        ([0.5, 0.4], "slower"),
        ([1.9, 0.6], "tie"),
        ([2.5, 1.0], "mixed"),
        ([np.nan, 2.0], "not reached"),
    ],
)
def test_order_verdict(ratios, expected):
    assert order_verdict(ratios) == expected


def test_order_verdict_rejects_bad_input():
    with pytest.raises(ValueError):
        order_verdict([])
    with pytest.raises(ValueError):
        order_verdict([2.0], resolution=1.0)


# ------------------------------------------------------------- recorded results


@pytest.mark.parametrize("name", list(ARMS))
def test_recorded_arm_matches_its_specification(name):
    arm = load_arm(name)
    spec = {k: list(v) if isinstance(v, tuple) else v for k, v in ARMS[name].items()}
    assert arm.meta["spec"] == spec  # ARMS changed without re-recording?
    np.testing.assert_array_equal(arm.lrs, ARMS[name]["lrs"])
    L, S = len(arm.lrs), len(arm.seeds)
    assert arm.train_loss.shape == (L, S, 200) and arm.ladder.shape == (L, S, len(LEVELS))
    # The exact ladder is consistent with the stored (every 10th step) curve: a stored
    # point at or below a level means the level was reached by that step.
    for j, level in enumerate(arm.levels):
        hit = arm.train_loss <= level
        first = np.where(hit.any(-1), arm.steps[np.argmax(hit, -1)], np.inf)
        assert np.all(arm.ladder[..., j] <= first)
    assert arm.command == f'python -m linnet.convnet_results --arms "{name}"'


def test_load_arm_rejects_unknown_names():
    with pytest.raises(ValueError, match="unknown arm"):
        load_arm("no such arm")
    with pytest.raises(ValueError, match="multiple"):
        rerun_sample("base", 0, 0, steps=15)
