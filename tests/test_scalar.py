"""The balanced scalar chain (chapter 2, "Why depth accelerates") and the paper's warm-up memory."""

from __future__ import annotations

import numpy as np
import pytest

import linnet
from linnet.scalar import chain_gd, chain_rate, no_overshoot_lr
from linnet.warmup import paper_memory


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
def test_chain_rate_is_the_flow_of_balanced_factors(depth):
    # equal factors a: dw/dt = sum_j (prod_{i != j} a)^2 (-L') = -N a^(2N-2) L'
    a = 0.7
    assert chain_rate(a**depth, depth) == pytest.approx(depth * a ** (2 * depth - 2))
    # and it is the preconditioner's eigenvalue along a singular direction (Claim 1)
    assert chain_rate(a, depth) == pytest.approx(linnet.pair_eigenvalue(a, a, depth))


@pytest.mark.parametrize(("depth", "p"), [(1, 4), (2, 2), (3, 4)])
def test_chain_gd_is_gradient_descent_on_the_network(depth, p):
    w0, lr, steps = 0.2, 0.3, 25
    ours = chain_gd(w0, depth, [lr], steps, p=p, target=1.0)[:, 0]
    factors = [np.array([[w0 ** (1 / depth)]]) for _ in range(depth)]
    run = linnet.train_deep(factors, np.ones((1, 1)), np.ones(1), p, lr, steps)
    np.testing.assert_allclose(ours, run.W_e[:, 0, 0], rtol=1e-12)


def test_chain_gd_marks_divergence_and_vectorises():
    w = chain_gd(0.5, 1, [0.1, 1e3], 20, p=4)
    assert np.isfinite(w[:, 0]).all() and np.isinf(w[-1, 1])
    np.testing.assert_array_equal(w[:, 0], chain_gd(0.5, 1, [0.1], 20, p=4)[:, 0])


@pytest.mark.parametrize("depth", [1, 2, 4])
@pytest.mark.parametrize("p", [2, 4, 6])
def test_no_overshoot_lr_gives_monotone_runs(depth, p):
    lr = no_overshoot_lr(0.05, depth, p)
    w = chain_gd(0.05, depth, [lr], 500, p=p)[:, 0]
    assert np.all(np.diff(w) >= 0) and np.all(w <= 1.0)
    # twice that share may still be monotone, but a share above 1 overshoots on l2, N = 1
    assert no_overshoot_lr(0.05, 1, 2, share=1.0) == pytest.approx(1.0)


def test_l4_is_sublinear_at_every_depth_but_depth_helps():
    # e_t ~ (2 eta_end t)^(-1/2): 100x less loss (10x less error^2) takes ~10x the steps
    counts = {}
    for depth in (1, 2):
        lr = no_overshoot_lr(0.01, depth, 4)
        w = chain_gd(0.01, depth, [lr], 4000, p=4)[:, 0]
        rel = (w - 1) ** 4 / (0.01 - 1) ** 4
        counts[depth] = [int(np.argmax(rel <= th)) for th in (1e-4, 1e-6)]
        assert 8 < counts[depth][1] / counts[depth][0] < 12
    assert counts[1][1] > 4 * counts[2][1]


def test_paper_memory_rebuilds_every_step():
    rng = np.random.default_rng(0)
    X, y, d = rng.standard_normal((20, 3)), rng.standard_normal(20), 3
    start = [0.3 * rng.standard_normal((1, d)), np.array([[0.4]])]
    lr, T = 0.02, 40
    run = linnet.train_deep(start, X, y, 4, lr, T, keep_weights=True)
    w1 = np.array([ws[0][0] for ws in run.weights])
    om = np.array([ws[1].item() for ws in run.weights])
    w = run.W_e[:, 0, :]
    g = np.array([linnet.lp_loss_grad(v, X, y, 4) for v in w])
    mu, kappa = paper_memory(w1, om, g, lr), linnet.warmup_memory(w1, om, g, lr)
    gamma = lr * np.einsum("td,td->t", w1, g) / om
    r = np.array(
        [linnet.warmup_step_terms(w1[t], om[t], g[t], lr).second_order for t in range(T + 1)]
    )
    for t in range(T):
        P = [np.prod(1 - gamma[s + 1 : t]) for s in range(t)]  # prod_{j=s+1}^{t-1}
        start_term = np.prod(1 - gamma[:t]) * w[0] + sum(P[s] * r[s] for s in range(t))
        rebuilt = w[t] - lr * om[t] ** 2 * g[t] - mu[t, :t] @ g[:t] - gamma[t] * start_term + r[t]
        np.testing.assert_allclose(rebuilt, w[t + 1], atol=1e-12)
        ratio = om[:t] / om[t] * np.array(P)
        np.testing.assert_allclose(mu[t, :t], kappa[t, :t] * ratio, rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: chain_gd(-0.1, 2, [0.1], 5), "w0"),
        (lambda: chain_gd(0.1, 2, [0.0], 5), "lrs"),
        (lambda: chain_gd(0.1, 2, [0.1], 5, p=3), "p"),
        (lambda: chain_rate([np.nan], 2), "NaN"),
        (lambda: no_overshoot_lr(1.5, 2), "w0"),
        (lambda: no_overshoot_lr(0.1, 2, share=2.0), "share"),
        (lambda: paper_memory(np.ones((2, 1)), [1.0, 0.0], np.ones((2, 1)), 0.1), "non-zero"),
    ],
)
def test_bad_input(call, words):
    with pytest.raises((ValueError, TypeError)) as info:
        call()
    assert words in str(info.value)
