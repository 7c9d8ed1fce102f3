"""The end-to-end update rule against its definitions (§4.1 Theorem 1, Claim 1; §4.2 Claim 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linnet import (
    balanced_factors,
    deep_gd_step,
    end_to_end,
    end_to_end_update,
    preconditioner,
    preconditioner_eigenvalues,
    psd_power,
    single_output_update,
)

from strategies import depths, hidden_widths, learning_rates, matrix_and_gradient, weight_decays

# Eigenvalues and matrix powers of O(1) matrices of size <= 16 from eigh/SVD:
# backward stable, so errors are a few hundred eps at most; 1e-9 leaves margin.
ATOL = 1e-9


def vec(A: np.ndarray) -> np.ndarray:
    return A.ravel(order="F")


def unvec(v: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    return v.reshape(shape, order="F")


def test_vec_convention():
    rng = np.random.default_rng(0)
    A, G, B = rng.standard_normal((2, 3)), rng.standard_normal((3, 4)), rng.standard_normal((4, 5))
    np.testing.assert_allclose(vec(A @ G @ B), np.kron(B.T, A) @ vec(G))


def test_end_to_end_update_hand_computed_diagonal():
    # W_e = diag(4, 1), N = 2: lambda[r, r'] = s_r + s_r' (sum of sqrt-powers of s^2).
    W = np.diag([4.0, 1.0])
    G = np.ones((2, 2))
    expected = W - 0.1 * np.array([[8.0, 5.0], [5.0, 2.0]])
    np.testing.assert_allclose(end_to_end_update(W, G, depth=2, lr=0.1), expected)
    np.testing.assert_allclose(preconditioner_eigenvalues(W, 2), [[8.0, 5.0], [5.0, 2.0]])


def test_preconditioner_eigenvalues_zero_power_convention():
    # W_e = 0: for N >= 2 only the "0^0 = 1" terms survive, so P = 0 ... except N = 1.
    np.testing.assert_array_equal(preconditioner_eigenvalues(np.zeros((2, 3)), 1), np.ones((2, 3)))
    np.testing.assert_array_equal(preconditioner_eigenvalues(np.zeros((2, 3)), 3), np.zeros((2, 3)))


@given(WG=matrix_and_gradient(), depth=depths)
@settings(max_examples=150, deadline=None)
def test_preconditioner_is_symmetric_psd_with_stated_eigenvalues(WG, depth):
    W, _ = WG
    P = preconditioner(W, depth)
    assert P.shape == (W.size, W.size)
    np.testing.assert_allclose(P, P.T, atol=ATOL)
    eig = np.linalg.eigvalsh(P)
    assert eig.min() >= -ATOL
    expected = np.sort(preconditioner_eigenvalues(W, depth).ravel())
    np.testing.assert_allclose(eig, expected, atol=1e-8 * max(1.0, expected.max()))


def test_preconditioner_keeps_tiny_singular_values():
    # Regression (issue 15): powers of W^T W lost sigma = 1e-8 (eigenvalue 0).
    eig = np.linalg.eigvalsh(preconditioner(np.diag([1.0, 1e-8]), 2))
    np.testing.assert_allclose(eig, [2e-8, 1 + 1e-8, 1 + 1e-8, 2.0], rtol=1e-12)


def test_preconditioner_of_a_rotated_nearly_singular_matrix():
    # sigma = (1, 0.5, 1e-9), N = 3: the Gram-matrix build was off by 1.6e-6 relative.
    rng = np.random.default_rng(3)
    U = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    V = np.linalg.qr(rng.standard_normal((3, 3)))[0]
    s = np.array([1.0, 0.5, 1e-9])
    P = preconditioner((U * s) @ V.T, 3)
    terms = (s[:, None] ** (2 * (3 - j) / 3) * s[None, :] ** (2 * (j - 1) / 3) for j in (1, 2, 3))
    expected = np.sort(sum(terms).ravel())
    eig = np.linalg.eigvalsh(P)
    # all but the smallest (3e-12): relative round-off of O(1) arithmetic
    np.testing.assert_allclose(eig[1:], expected[1:], rtol=1e-12)
    # the smallest is below eps * ||P||: positive, and right up to that round-off
    assert 0 < eig[0] and abs(eig[0] - expected[0]) < 1e-15 * expected[-1]
    # consistent with the SVD-based rule: P vec(G) == the rule's preconditioned step
    G = rng.standard_normal((3, 3))
    step = unvec(P @ vec(G), G.shape)
    np.testing.assert_allclose(rule_step(U, s, V, G), step, rtol=0, atol=1e-14)


def rule_step(U, s, V, G):
    """P vec(G) as the SVD-based end-to-end rule computes it (lr = 1, N = 3)."""
    W = (U * s) @ V.T
    return W - end_to_end_update(W, G, 3, lr=1.0)


@given(WG=matrix_and_gradient(), depth=depths, lr=learning_rates, decay=weight_decays)
@settings(max_examples=200, deadline=None)
def test_end_to_end_update_equals_preconditioned_gradient(WG, depth, lr, decay):
    W, G = WG
    expected = (1 - lr * decay * depth) * W - lr * unvec(preconditioner(W, depth) @ vec(G), W.shape)
    actual = end_to_end_update(W, G, depth, lr, weight_decay=decay)
    np.testing.assert_allclose(actual, expected, atol=ATOL * max(1.0, np.abs(W).max() ** 2))


@given(WG=matrix_and_gradient(), depth=depths, lr=learning_rates)
@settings(max_examples=100, deadline=None)
def test_end_to_end_update_equals_literal_sum(WG, depth, lr):
    W, G = WG
    total = sum(
        psd_power(W @ W.T, (j - 1) / depth) @ G @ psd_power(W.T @ W, (depth - j) / depth)
        for j in range(1, depth + 1)
    )
    np.testing.assert_allclose(end_to_end_update(W, G, depth, lr), W - lr * total, atol=ATOL * 10)


@given(WG=matrix_and_gradient(k=1), depth=depths, lr=learning_rates, decay=weight_decays)
@settings(max_examples=150, deadline=None)
def test_single_output_update_matches_matrix_rule(WG, depth, lr, decay):
    W, G = WG
    w, g = W[0], G[0]
    np.testing.assert_allclose(
        single_output_update(w, g, depth, lr, decay),
        end_to_end_update(w[None, :], g[None, :], depth, lr, decay)[0],
        atol=ATOL,
    )


@given(WG=matrix_and_gradient(), lr=learning_rates, decay=weight_decays)
@settings(max_examples=100, deadline=None)
def test_depth_one_is_plain_gradient_descent(WG, lr, decay):
    W, G = WG
    np.testing.assert_allclose(
        end_to_end_update(W, G, 1, lr, decay), (1 - lr * decay) * W - lr * G, atol=1e-12
    )
    np.testing.assert_allclose(
        single_output_update(W[0], G[0], 1, lr, decay),
        (1 - lr * decay) * W[0] - lr * G[0],
        atol=1e-12,
    )


def one_step_gap(W, G, depth, lr, decay=0.0, widths=None):
    """|| W_e after one deep GD step - end-to-end update ||_F, from balanced factors."""
    factors = balanced_factors(W, depth, widths)
    deep = end_to_end(deep_gd_step(factors, G, lr, decay))
    return np.linalg.norm(deep - end_to_end_update(W, G, depth, lr, decay))


@pytest.mark.parametrize("depth", [2, 3, 4, 6])
@pytest.mark.parametrize("shape", [(1, 3), (3, 2), (2, 2)])
def test_deep_gd_matches_end_to_end_to_second_order(depth, shape):
    rng = np.random.default_rng(depth * 10 + shape[0])
    W, G = rng.standard_normal(shape), rng.standard_normal(shape)
    lrs = 1e-2 * 0.5 ** np.arange(5)
    gaps = np.array([one_step_gap(W, G, depth, lr, decay=0.05) for lr in lrs])
    slope = np.polyfit(np.log(lrs), np.log(gaps), 1)[0]
    # The gap is c eta^2 + O(eta^3): the log-log slope over a factor 16 in eta is 2 +- 0.1.
    assert slope == pytest.approx(2.0, abs=0.1)


@given(WG=matrix_and_gradient(), depth=st.integers(2, 5), data=st.data())
@settings(max_examples=100, deadline=None)
def test_deep_gd_gap_halves_twice_when_eta_halves(WG, depth, data):
    W, G = WG
    widths = data.draw(hidden_widths(W, depth))
    big, small = (one_step_gap(W, G, depth, lr, 0.0, widths) for lr in (1e-3, 5e-4))
    if big < 1e-11:  # second-order term vanishes (e.g. W_e = 0 and depth >= 3)
        assert small < 1e-11
    else:
        assert 3.0 < big / small < 5.0  # ratio 4 = 2^2 up to O(eta) corrections
