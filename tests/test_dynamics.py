"""The preconditioner's spectrum, singular-value dynamics and the aligned-mode solution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linnet import (
    aligned_mode_flow,
    aligned_mode_time,
    end_to_end_update,
    escape_time,
    escape_time_leading,
    lp_loss_grad,
    pair_eigenvalue,
    preconditioner,
    preconditioner_eigenvalues,
    singular_value_velocity,
    train_end_to_end,
)
from linnet.dynamics import adagrad_step, neutral_singular_value
from linnet.linalg import snap_zeros

from strategies import depths, matrix_and_gradient, orthonormal, seeds

# Sums and quotients of O(1) powers: a few ulps; 1e-9 leaves margin.
ATOL = 1e-9


def rk4(depth, sigma0, target, horizon, steps=4000):
    """Reference solution of d sigma/dt = N sigma^(2-2/N) (s - sigma) by RK4."""
    h, x = horizon / steps, sigma0

    def f(v):
        return depth * v ** (2 - 2 / depth) * (target - v)

    for _ in range(steps):
        k1 = f(x)
        k2 = f(x + h / 2 * k1)
        k3 = f(x + h / 2 * k2)
        k4 = f(x + h * k3)
        x += h / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
    return x


@given(matrix_and_gradient(), depths)
def test_pair_eigenvalue_is_the_spectrum_of_the_preconditioner(pair, depth):
    W, _ = pair
    k, d = W.shape
    # round-off zeros snapped to 0 as linnet does (x^{2/N} would amplify them)
    s = snap_zeros(np.linalg.svd(W, compute_uv=False), max(k, d))
    left, right = np.zeros(k), np.zeros(d)
    left[: s.size], right[: s.size] = s, s
    grid = pair_eigenvalue(left[:, None], right[None, :], depth)
    np.testing.assert_allclose(grid, preconditioner_eigenvalues(W, depth), atol=ATOL)
    np.testing.assert_allclose(
        np.sort(grid.ravel()), np.sort(np.linalg.eigvalsh(preconditioner(W, depth))), atol=1e-8
    )


@given(
    st.one_of(st.just(0.0), st.floats(1e-6, 5.0)),  # no underflow of a^2
    st.one_of(st.just(0.0), st.floats(1e-6, 5.0)),
    st.integers(1, 8),
)
def test_pair_eigenvalue_closed_form_and_bounds(a, b, depth):
    value = float(pair_eigenvalue(a, b, depth))
    terms = sum(
        a ** (2 * (depth - j) / depth) * b ** (2 * (j - 1) / depth)
        for j in range(1, 9)
        if j <= depth
    )
    assert value == pytest.approx(terms, rel=1e-12, abs=1e-300)
    low, high = sorted((a, b))
    exponent = 2 - 2 / depth
    assert depth * low**exponent * (1 - 1e-12) <= value <= depth * high**exponent * (1 + 1e-12)
    # sharper lower bound (Arora, Cohen, Golowich & Hu 2019): one term of the sum
    assert high**exponent * (1 - 1e-12) <= value
    if depth >= 2 and abs(a ** (2 / depth) - b ** (2 / depth)) > 1e-2:
        closed = (a**2 - b**2) / (a ** (2 / depth) - b ** (2 / depth))
        assert value == pytest.approx(closed, rel=1e-12)


@given(matrix_and_gradient(), st.integers(2, 6))
def test_smallest_eigenvalue_of_the_preconditioner_is_at_least_sigma_min_power(pair, depth):
    W, _ = pair
    s = np.linalg.svd(W, compute_uv=False)
    exponent = 2 - 2 / depth
    smallest = preconditioner_eigenvalues(W, depth).min()
    assert smallest >= s[-1] ** exponent * (1 - 1e-9) - 1e-12
    if W.shape[0] != W.shape[1]:  # attained on (sigma_min, padded zero)
        assert smallest == pytest.approx(s[-1] ** exponent, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("depth", [2, 3, 4, 8])
def test_neutral_singular_value(depth):
    threshold = neutral_singular_value(depth)
    assert pair_eigenvalue(threshold, threshold, depth) == pytest.approx(1.0, rel=1e-12)
    assert pair_eigenvalue(0.99 * threshold, 0.99 * threshold, depth) < 1.0
    assert pair_eigenvalue(1.01 * threshold, 1.01 * threshold, depth) > 1.0
    with pytest.raises(ValueError, match="depth"):
        neutral_singular_value(1)


def test_neutral_singular_value_hand_computed():
    assert neutral_singular_value(2) == 0.5
    assert neutral_singular_value(4) == pytest.approx(4 ** (-2 / 3))
    # at sigma = 0.5: exactly neutral for N = 2, sped up (sqrt 2) for N = 4
    assert pair_eigenvalue(0.5, 0.5, 4) == pytest.approx(np.sqrt(2))


def test_pair_eigenvalue_special_values():
    assert pair_eigenvalue(3.0, 3.0, 4) == pytest.approx(4 * 3.0**1.5)
    assert pair_eigenvalue(0.0, 0.0, 3) == 0.0
    assert pair_eigenvalue(0.0, 0.0, 1) == 1.0
    assert pair_eigenvalue(2.0, 0.0, 2) == pytest.approx(2.0)
    # nearly equal arguments: no cancellation
    assert pair_eigenvalue(1.0, 1.0 + 1e-12, 3) == pytest.approx(3.0, rel=1e-11)


@pytest.mark.parametrize("depth", [1, 2, 3, 5])
@pytest.mark.parametrize("decay", [0.0, 0.1])
def test_singular_value_velocity_matches_small_steps_of_the_rule(depth, decay):
    rng = np.random.default_rng(depth)
    U, V = orthonormal(rng, 3, 3), orthonormal(rng, 4, 3)
    W = (U * np.array([2.0, 1.0, 0.4])) @ V.T  # distinct singular values
    G = rng.standard_normal(W.shape)
    velocity = singular_value_velocity(W, G, depth, decay)
    errors = []
    for lr in (1e-3, 1e-4):
        W_next = end_to_end_update(W, G, depth, lr, decay)
        finite_difference = (np.linalg.svd(W_next, compute_uv=False) - [2.0, 1.0, 0.4]) / lr
        errors.append(np.abs(finite_difference - velocity).max())
    # one step of the rule is the flow plus O(eta^2): the quotient error is O(eta),
    # with a constant ~ ||P G||^2 / (singular gap) ~ 100 here
    assert errors[1] < 0.05
    assert errors[1] < errors[0] / 5


def test_zero_singular_value_has_zero_velocity():
    W = np.diag([2.0, 0.0])
    G = np.array([[0.3, -1.0], [0.7, 2.0]])
    assert singular_value_velocity(W, G, 3)[1] == 0.0  # exactly, not only <= 0
    assert singular_value_velocity(W, G, 1)[1] == pytest.approx(-2.0)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 6])
@pytest.mark.parametrize("sigma0", [0.3, 1e-2])
def test_aligned_mode_flow_solves_the_ode(depth, sigma0):
    horizon = 0.6 * escape_time(sigma0, 2.0, depth)  # still climbing: a sharp test
    exact = aligned_mode_flow([horizon], sigma0, 2.0, depth)[0]
    assert exact == pytest.approx(rk4(depth, sigma0, 2.0, horizon), rel=1e-8)
    times = np.linspace(0.0, 3 * horizon, 7)
    sigmas = aligned_mode_flow(times, sigma0, 2.0, depth)
    assert np.all(np.diff(sigmas) > 0) and sigmas[0] == pytest.approx(sigma0)
    inside = sigmas < 2.0 * (1 - 1e-9)
    np.testing.assert_allclose(
        aligned_mode_time(sigmas[inside], sigma0, 2.0, depth), times[inside], rtol=1e-9, atol=1e-12
    )


def test_escape_time_closed_form_and_leading_term():
    assert escape_time(1e-3, 2.0, 2) == pytest.approx(np.log((2.0 - 1e-3) / 1e-3) / 4)
    assert escape_time(1e-3, 1.0, 1) == pytest.approx(np.log(2 * (1 - 1e-3)))
    for depth in (2, 3, 4, 6):
        ratios = [
            escape_time(s0, 1.0, depth) / escape_time_leading(s0, 1.0, depth)
            for s0 in (1e-3, 1e-5, 1e-7)
        ]
        # the relative correction is O(1 / log(1/sigma0)) for N = 2, O(sigma0^{(N-2)/N}) else
        assert abs(ratios[-1] - 1) < abs(ratios[0] - 1) + 1e-12
        assert abs(ratios[-1] - 1) < 0.05


def test_end_to_end_rule_on_whitened_l2_follows_the_aligned_modes():
    rng = np.random.default_rng(0)
    U, V = orthonormal(rng, 2, 2), orthonormal(rng, 3, 2)
    targets, sigma0 = np.array([2.0, 1.0]), 0.05
    W_star = (U * targets) @ V.T
    X = np.sqrt(3.0) * np.eye(3)  # X^T X / m = I: whitened
    y = X @ W_star.T
    W0 = (U * sigma0) @ V.T
    np.testing.assert_allclose(lp_loss_grad(W0, X, y, 2), W0 - W_star, atol=1e-12)
    errors = []
    for lr in (2e-3, 1e-3):
        run = train_end_to_end(W0, X, y, 2, depth=3, lr=lr, steps=round(4.0 / lr))
        sv = np.linalg.svd(run.W_e, compute_uv=False)  # (steps+1, 2)
        times = lr * np.arange(sv.shape[0])
        exact = np.stack([aligned_mode_flow(times, sigma0, s, 3) for s in targets], axis=1)
        errors.append(np.abs(sv - exact).max())
    assert errors[1] < 0.02 and errors[1] < 0.6 * errors[0]  # O(eta)


@given(matrix_and_gradient(), depths, seeds)
def test_end_to_end_update_is_rotation_equivariant(pair, depth, seed):
    W, G = pair
    rng = np.random.default_rng(seed)
    U, V = orthonormal(rng, W.shape[0], W.shape[0]), orthonormal(rng, W.shape[1], W.shape[1])
    rotated = end_to_end_update(U @ W @ V.T, U @ G @ V.T, depth, 0.1)
    np.testing.assert_allclose(rotated, U @ end_to_end_update(W, G, depth, 0.1) @ V.T, atol=ATOL)


def test_adagrad_step_is_coordinate_wise_and_not_equivariant():
    G = np.array([[1.0, 0.0], [0.0, 0.01]])
    W, acc = adagrad_step(np.zeros((2, 2)), G, np.zeros((2, 2)), lr=0.1)
    np.testing.assert_allclose(acc, G * G)
    np.testing.assert_allclose(W, -0.1 * np.sign(G) * (np.abs(G) > 0), atol=1e-6)
    c, s = np.cos(0.4), np.sin(0.4)
    R = np.array([[c, -s], [s, c]])
    rotated, _ = adagrad_step(np.zeros((2, 2)), R @ G, np.zeros((2, 2)), lr=0.1)
    assert np.abs(rotated - R @ W).max() > 0.01
