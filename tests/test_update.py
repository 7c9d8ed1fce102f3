"""The end-to-end update rule against its definitions (§4.1 Theorem 1, Claim 1; §4.2 Claim 2)."""

from __future__ import annotations

import itertools

import mpmath
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
    # The smallest, 3e-12, is 4e3 times eps ||P|| = 7e-16, but the matrix and eigvalsh
    # each determine it only to an absolute O(eps ||P||) (Weyl): positive, and right to
    # 1e-15 ||P|| = 4.5 eps ||P||, a relative 1e-3 (the 60-digit test below measures 1e-4).
    assert 0 < eig[0] and abs(eig[0] - expected[0]) < 1e-15 * expected[-1]
    # consistent with the SVD-based rule: P vec(G) == the rule's preconditioned step
    G = rng.standard_normal((3, 3))
    step = unvec(P @ vec(G), G.shape)
    np.testing.assert_allclose(rule_step(U, s, V, G), step, rtol=0, atol=1e-14)


# An independent reference: P_{W_e} from its definition (Claim 1, §4.1),
# sum_j [W^T W]^{(N-j)/N} (x) [W W^T]^{(j-1)/N}, evaluated with mpmath at 60 digits from
# the float64 matrix W itself (its entries are exact in mpmath), so the comparison
# measures linnet's round-off only.
DIGITS = 60
EPS = np.finfo(float).eps


def mp_psd_power(G: mpmath.matrix, alpha: float) -> mpmath.matrix:
    """``[G]^alpha`` of a symmetric PSD matrix from its eigendecomposition, ``[G]^0 = I``.

    Eigenvalues below ``1e-40 ||G||`` are the exact zeros of a rank-deficient Gram
    matrix (at 60 digits they come out near ``1e-58 ||G||``; the non-zero ones here are
    at least ``1e-18 ||G||``), so ``0^alpha = 0`` as in the book.
    """
    if alpha == 0:
        return mpmath.eye(G.rows)
    values, Q = mpmath.eigsy(G)
    top = max(abs(v) for v in values)
    powers = [0 if v <= mpmath.mpf("1e-40") * top else v**alpha for v in values]
    return Q * mpmath.diag(powers) * Q.T


def mp_kron(A: mpmath.matrix, B: mpmath.matrix) -> mpmath.matrix:
    K = mpmath.zeros(A.rows * B.rows, A.cols * B.cols)
    for i, j, p, q in itertools.product(range(A.rows), range(A.cols), range(B.rows), range(B.cols)):
        K[i * B.rows + p, j * B.cols + q] = A[i, j] * B[p, q]
    return K


def mp_preconditioner(W: np.ndarray, depth: int) -> mpmath.matrix:
    with mpmath.workdps(DIGITS):
        Wm = mpmath.matrix(W.tolist())
        right, left = Wm.T * Wm, Wm * Wm.T
        P = mpmath.zeros(W.size, W.size)
        for j in range(1, depth + 1):
            P += mp_kron(
                mp_psd_power(right, mpmath.mpf(depth - j) / depth),
                mp_psd_power(left, mpmath.mpf(j - 1) / depth),
            )
        return P


def preconditioner_tolerance(W: np.ndarray, depth: int) -> float:
    """A first-order bound on ``||P - P_ref||_2`` for linnet's float64 construction.

    Two sources, each with a factor 4 of margin: assembling ``(V (x) U) diag(nu)
    (V (x) U)^T`` from an orthonormal basis of order ``n = kd`` rounds by about
    ``n eps ||P||``; and a backward-stable SVD gives each singular value only to
    ``max(k, d) eps sigma_1`` (Weyl), an error that ``nu`` multiplies by its derivative,
    which is large at small ``sigma`` (``d sigma^{2/N} / d sigma = (2/N) sigma^{2/N-1}``).
    Errors of the singular vectors move ``P`` by the same orders.
    """
    k, d = W.shape
    s = np.linalg.svd(W, compute_uv=False)
    s = s[s > 10 * max(k, d) * EPS * s[0]]  # linnet's zeros (linnet.linalg.zero_tolerance)
    slope = 0.0
    if depth > 1 and s.size:
        a, b = s[:, None], s[None, :]
        terms = (
            (2 * (depth - j) / depth)
            * a ** (2 * (depth - j) / depth - 1)
            * b ** (2 * (j - 1) / depth)
            for j in range(1, depth)
        )
        # d nu / d a + d nu / d b on pairs of non-zero singular values (nu is symmetric),
        # and d nu(a, 0) / d a = (2 - 2/N) a^{1 - 2/N} on pairs with an exact zero
        slope = max(
            2 * float(np.max(sum(terms))), float(np.max((2 - 2 / depth) * s ** (1 - 2 / depth)))
        )
    norm_P = float(np.max(preconditioner_eigenvalues(W, depth)))
    return 4 * (W.size * EPS * norm_P + max(k, d) * EPS * s[0] * slope)


def rotated(s: list[float], seed: int = 3) -> np.ndarray:
    rng = np.random.default_rng(seed)
    U = np.linalg.qr(rng.standard_normal((len(s), len(s))))[0]
    V = np.linalg.qr(rng.standard_normal((len(s), len(s))))[0]
    return (U * np.array(s)) @ V.T


REFERENCE_CASES = {
    "rotated (1, 0.5, 1e-9)": rotated([1.0, 0.5, 1e-9]),
    "diag(1, 1e-8)": np.diag([1.0, 1e-8]),
    "exactly rank one": np.outer([1.0, 2.0], [1.0, -1.0, 0.5]),
    **{
        f"Gaussian {shape}": np.random.default_rng(sum(shape)).standard_normal(shape)
        for shape in [(1, 4), (2, 3), (3, 2), (3, 3), (4, 3)]
    },
}


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
@pytest.mark.parametrize("name", list(REFERENCE_CASES))
def test_preconditioner_matches_a_60_digit_reference(name, depth):
    W = REFERENCE_CASES[name]
    P = preconditioner(W, depth)
    with mpmath.workdps(DIGITS):
        gap = mpmath.matrix(P.tolist()) - mp_preconditioner(W, depth)
        error = np.linalg.norm(np.array(gap.tolist(), dtype=float), 2)
    # measured: <= 7 eps ||P|| (49 eps ||P|| for the rotated case at N = 4, where
    # sigma_3^{1/2} amplifies sigma_3's round-off), against bounds of 16 to 95000 eps ||P||;
    # the docstring of linnet.preconditioner states these numbers
    assert error <= preconditioner_tolerance(W, depth)


def test_smallest_eigenvalue_of_the_rotated_case_against_the_reference():
    # sigma = (1, 0.5, 1e-9), N = 3: the smallest eigenvalue is 3 sigma_3^{4/3} = 3e-12.
    W, n = REFERENCE_CASES["rotated (1, 0.5, 1e-9)"], 9
    P = preconditioner(W, 3)
    with mpmath.workdps(DIGITS):
        exact = float(min(mpmath.eigsy(mp_preconditioner(W, 3))[0]))
        of_matrix = float(min(mpmath.eigsy(mpmath.matrix(P.tolist()))[0]))
    norm_P = float(np.max(preconditioner_eigenvalues(W, 3)))
    assert exact == pytest.approx(3e-12, rel=1e-8)  # W is the rounded U diag(s) V^T
    # Its eigenvector v_3 (x) u_3 and nu(sigma_3, sigma_3) hardly depend on sigma_3's
    # round-off (d nu / d sigma = 4e-3), so only the assembly's O(n eps ||P||) enters
    # (Weyl), and eigvalsh adds as much again: a relative 2e-3 and 4e-3 here
    # (measured 1e-5 and 1e-4; the correctly rounded reference matrix gives 2e-6 and 1e-4).
    assert abs(of_matrix - exact) <= n * EPS * norm_P
    assert abs(np.linalg.eigvalsh(P)[0] - exact) <= 2 * n * EPS * norm_P
    # the closed form from the same SVD is limited only by the SVD's sigma_3 (4e-9)
    closed = float(np.min(preconditioner_eigenvalues(W, 3)))
    assert closed == pytest.approx(exact, rel=1e-7)


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
