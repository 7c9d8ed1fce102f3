"""psd_power, the l_p loss and Taylor tests of the hand-written gradients."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linnet import end_to_end, layer_gradients, lp_loss, lp_loss_grad, near_zero_init, psd_power

from strategies import depths, end_to_end_matrices, seeds


@given(W=end_to_end_matrices(), a=st.floats(0.0, 2.0), b=st.floats(0.0, 2.0))
@settings(max_examples=100, deadline=None)
def test_psd_power_semigroup(W, a, b):
    A = W.T @ W  # PSD, possibly singular
    np.testing.assert_allclose(psd_power(A, a) @ psd_power(A, b), psd_power(A, a + b), atol=1e-8)


def test_psd_power_hand_computed():
    A = np.array([[2.0, 1.0], [1.0, 2.0]])  # eigenvalues 1 and 3
    root = psd_power(A, 0.5)
    np.testing.assert_allclose(root @ root, A, atol=1e-12)
    np.testing.assert_allclose(psd_power(A, -1), np.linalg.inv(A), atol=1e-12)
    np.testing.assert_array_equal(psd_power(np.zeros((3, 3)), 0), np.eye(3))
    np.testing.assert_array_equal(psd_power(np.zeros((2, 2)), 0.5), np.zeros((2, 2)))


def test_psd_power_treats_round_off_as_zero():
    v = np.array([[1.0], [1.0]]) / np.sqrt(2.0)
    A = v @ v.T  # rank one; eigh returns a tiny (possibly negative) second eigenvalue
    np.testing.assert_allclose(psd_power(A, 1 / 3), A, atol=1e-12)


def test_lp_loss_hand_computed():
    X = np.array([[1.0, 2.0], [3.0, 4.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[0.0, 0.0], [3.0, 3.0]])  # residuals [[1, 2], [0, 1]]
    assert lp_loss(W, X, Y, 2) == pytest.approx((1 + 4 + 0 + 1) / (2 * 2))
    assert lp_loss(W, X, Y, 4) == pytest.approx((1 + 16 + 0 + 1) / (4 * 2))
    # gradient: (1/m) R^{p-1}^T X, R^3 = [[1, 8], [0, 1]]
    np.testing.assert_allclose(lp_loss_grad(W, X, Y, 4), np.array([[1, 2], [11, 20]]) / 2)


def test_lp_loss_vector_and_single_row_agree():
    rng = np.random.default_rng(1)
    X, y, w = rng.standard_normal((5, 3)), rng.standard_normal(5), rng.standard_normal(3)
    assert lp_loss(w, X, y, 4) == pytest.approx(lp_loss(w[None, :], X, y[:, None], 4))
    np.testing.assert_allclose(lp_loss_grad(w, X, y, 4), lp_loss_grad(w[None, :], X, y, 4)[0])


def taylor_slope(f, grad_dot_direction, step_sizes):
    """Slope of the Taylor remainder |f(h) - f(0) - h <grad, D>| against h, on a log-log scale.

    A correct gradient gives slope 2 where the h^2 term dominates: for h small enough that
    higher-order terms are negligible (their share depends on the curvature along D, so no
    single window fits every case) and large enough that the remainder is above round-off.
    As in pymanopt's check, we look at windows of three consecutive step sizes whose
    remainders are all above the round-off floor, and return the local slope closest to 2.
    A wrong gradient leaves a first-order remainder, slope 1, in every such window.
    """
    f0 = f(0.0)
    remainders = np.array([abs(f(h) - f0 - h * grad_dot_direction) for h in step_sizes])
    floor = 20 * np.finfo(float).eps * (abs(f0) + 1.0)
    slopes = [
        np.polyfit(np.log(step_sizes[i : i + 3]), np.log(remainders[i : i + 3]), 1)[0]
        for i in range(len(step_sizes) - 2)
        if np.all(remainders[i : i + 3] > floor)
    ]
    assert slopes, "every remainder is at round-off level: use larger step sizes"
    return min(slopes, key=lambda s: abs(s - 2))


# Step sizes 1e-3 .. 1e-7, half a decade apart: below 1e-3 a 1 % error in the gradient
# dominates the h^2 term for these O(1) problems; the smallest ones fall under the round-off
# floor and are skipped. Slope tolerance: 2 +- 0.1.
STEPS = np.logspace(-3, -7, 9)


@given(seed=seeds, p=st.sampled_from([2, 4, 6]), k=st.integers(1, 3))
@settings(max_examples=30, deadline=None)
def test_taylor_lp_loss_grad(seed, p, k):
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, k))
    W, D = rng.standard_normal((k, 3)), rng.standard_normal((k, 3))
    slope = taylor_slope(
        lambda h: lp_loss(W + h * D, X, Y, p), np.sum(lp_loss_grad(W, X, Y, p) * D), STEPS
    )
    assert slope == pytest.approx(2.0, abs=0.1)


@given(seed=seeds, depth=depths)
@settings(max_examples=30, deadline=None)
def test_taylor_layer_gradients(seed, depth):
    rng = np.random.default_rng(seed)
    dims = [3, *rng.integers(1, 4, size=depth - 1).tolist(), 2]
    weights = near_zero_init(dims, 0.8, rng)
    direction = near_zero_init(dims, 1.0, rng)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))

    def loss(h):
        return lp_loss(
            end_to_end([w + h * v for w, v in zip(weights, direction, strict=True)]), X, Y, 4
        )

    grads = layer_gradients(weights, lp_loss_grad(end_to_end(weights), X, Y, 4))
    directional = sum(np.sum(g * v) for g, v in zip(grads, direction, strict=True))
    assert taylor_slope(loss, directional, STEPS) == pytest.approx(2.0, abs=0.1)


def test_taylor_test_catches_a_wrong_gradient():
    # The check itself must be able to fail: a gradient off by 1% gives slope ~1.
    rng = np.random.default_rng(3)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 1))
    W, D = rng.standard_normal((1, 3)), rng.standard_normal((1, 3))
    wrong = 1.01 * np.sum(lp_loss_grad(W, X, Y, 4) * D)
    assert taylor_slope(lambda h: lp_loss(W + h * D, X, Y, 4), wrong, STEPS) < 1.5
