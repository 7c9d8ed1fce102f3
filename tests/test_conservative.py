"""The end-to-end field, its loop integrals and curl (Section 5 of the paper, Theorem 2)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linnet import (
    curl_2d,
    end_to_end_field,
    end_to_end_update,
    lp_loss_grad,
    sector_loop_integral,
    single_output_update,
)
from linnet.conservative import field_jacobian, jacobian_asymmetry_map, nuclear_norm_potential
from linnet.data import make_regression

from strategies import depths, matrix_and_gradient, orthonormal, seeds

# Loop integrals of smooth fields by 64-node Gauss-Legendre quadrature on pieces of
# length O(1): the quadrature error is far below round-off, which is ~1e-15 per
# evaluation times O(100) evaluations; 1e-11 leaves margin.
LOOP_ATOL = 1e-11


def closed_form_loop(g_norm: float, N: int, r1: float, r2: float, t1: float, t2: float):
    """The constant-gradient loop integral, derived independently in chapter 8 (SymPy)."""
    a = 3 - 2 / N
    return g_norm * (N - 1) * (N - 2) / (3 * N - 2) * (r2**a - r1**a) * (np.cos(t1) - np.cos(t2))


def closed_form_curl(g_norm: float, N: int, rho: float, theta: float) -> float:
    return g_norm * (N - 1) * (N - 2) / N * rho ** (1 - 2 / N) * np.sin(theta)


def l4_problem(d: int = 3, seed: int = 0):
    X, y, _ = make_regression(m=20, d=d, seed=seed)
    return lambda w: lp_loss_grad(w, X, y[:, 0], 4)


def random_quadratic(d: int, seed: int):
    rng = np.random.default_rng(seed)
    A = rng.standard_normal((d, d))
    A = A @ A.T + 0.1 * np.eye(d)
    b = rng.standard_normal(d)
    return lambda w: A @ w - b


# --- the field itself ---------------------------------------------------------


@given(depth=depths, seed=seeds, d=st.integers(2, 5))
@settings(max_examples=60, deadline=None)
def test_vector_field_is_the_single_output_rule(depth, seed, d):
    rng = np.random.default_rng(seed)
    w, g = rng.standard_normal(d), rng.standard_normal(d)
    F = end_to_end_field(lambda _: g, depth)
    # w - F(w) is one step with eta = 1 of the rule of Section 4.2 (O(1) sizes: round-off).
    np.testing.assert_allclose(w - F(w), single_output_update(w, g, depth, lr=1.0), atol=1e-10)
    F_matrix = end_to_end_field(lambda _: g[None, :], depth)
    np.testing.assert_allclose(F_matrix(w[None, :])[0], F(w), atol=1e-12)


@given(depth=depths, seed=seeds)
@settings(max_examples=40, deadline=None)
def test_matrix_field_is_the_end_to_end_rule(depth, seed):
    rng = np.random.default_rng(seed)
    W, G = rng.standard_normal((3, 2)), rng.standard_normal((3, 2))
    F = end_to_end_field(lambda _: G, depth)
    np.testing.assert_allclose(W - F(W), end_to_end_update(W, G, depth, lr=1.0), atol=1e-10)


def test_field_at_zero_and_depth_one():
    g = np.array([1.0, -2.0])
    assert np.all(end_to_end_field(lambda _: g, 3)(np.zeros(2)) == 0.0)
    np.testing.assert_array_equal(end_to_end_field(lambda _: g, 1)(np.zeros(2)), g)


def test_grad_fn_sees_a_copy():
    seen = []
    F = end_to_end_field(lambda w: seen.append(w) or np.ones_like(w), 2)
    w = np.array([1.0, 2.0])
    F(w)
    seen[0][0] = 99.0
    assert w[0] == 1.0


# --- controls: gradient fields have zero loop integrals --------------------------


@pytest.mark.parametrize("seed", range(4))
def test_depth_one_is_a_gradient_field_on_every_loop(seed):
    rng = np.random.default_rng(seed)
    d = 4
    for grad in (l4_problem(d, seed), random_quadratic(d, seed)):
        F = end_to_end_field(grad, 1)
        Q = orthonormal(rng, d, 2)
        center = 0.3 * rng.standard_normal(d)
        value = sector_loop_integral(F, 0.1, 0.5, -1.0, 2.5, Q[:, 0], Q[:, 1], center)
        assert abs(value) < LOOP_ATOL * 100  # l4 gradients are O(10-100) here


@given(seed=seeds, r1=st.floats(0.0, 0.5), dr=st.floats(0.05, 1.0), t1=st.floats(-3.0, 3.0))
@settings(max_examples=40, deadline=None)
def test_depth_two_constant_gradient_is_conservative(seed, r1, dr, t1):
    # F = grad(|w| <w, g>) for N = 2 and constant g, so every loop integral vanishes.
    rng = np.random.default_rng(seed)
    d = 3
    g = rng.standard_normal(d)
    Q = orthonormal(rng, d, 2)
    F = end_to_end_field(lambda _: g, 2)
    value = sector_loop_integral(F, r1, r1 + dr, t1, t1 + 2.0, Q[:, 0], Q[:, 1])
    # |F| <= 2 |w| |g| = O(5): round-off of a 256-term sum, with margin.
    assert abs(value) < 1e-10


def test_depth_two_potential_matches_the_field():
    g = np.array([0.7, -1.1, 0.4])
    F = end_to_end_field(lambda _: g, 2)
    w = np.array([0.3, 0.2, -0.5])
    potential = lambda x: np.linalg.norm(x) * (x @ g)  # noqa: E731
    h = 1e-6
    numeric = [(potential(w + h * e) - potential(w - h * e)) / (2 * h) for e in np.eye(3)]
    np.testing.assert_allclose(F(w), numeric, atol=1e-8)  # central differences: O(h^2)


# --- the closed form of Theorem 2's proof ---------------------------------------


@given(
    depth=st.integers(2, 8),
    seed=seeds,
    r1=st.floats(0.0, 1.0),
    dr=st.floats(0.1, 1.0),
    t1=st.floats(-3.0, 3.0),
    dt=st.floats(0.1, 6.28),
)
@settings(max_examples=60, deadline=None)
def test_constant_gradient_loop_matches_closed_form(depth, seed, r1, dr, t1, dt):
    rng = np.random.default_rng(seed)
    d = 4
    Q = orthonormal(rng, d, 3)
    g_norm = rng.uniform(0.5, 2.0)
    # g in the plane along u, plus a component normal to the plane (which must not matter).
    g = g_norm * Q[:, 0] + rng.standard_normal() * Q[:, 2]
    F = end_to_end_field(lambda _: g, depth)
    value = sector_loop_integral(F, r1, r1 + dr, t1, t1 + dt, Q[:, 0], Q[:, 1])
    expected = closed_form_loop(g_norm, depth, r1, r1 + dr, t1, t1 + dt)
    # The integrand has a rho^{1-2/N} factor, not polynomial at rho = 0 when r1 = 0:
    # Gauss-Legendre still converges fast (integrable endpoint singularity); 1e-6 relative.
    assert value == pytest.approx(expected, rel=1e-6, abs=1e-9)


def test_closed_form_nonzero_for_depth_three_and_up():
    g = np.array([1.0, 0.0])
    values = [
        sector_loop_integral(end_to_end_field(lambda _: g, N), 0.5, 1.0, 0.0, np.pi)
        for N in range(1, 7)
    ]
    assert abs(values[0]) < LOOP_ATOL and abs(values[1]) < LOOP_ATOL
    assert all(v > 0.1 for v in values[2:])
    assert all(np.diff(values[2:]) > 0)  # (N-1)(N-2)/(3N-2) grows with N


@pytest.mark.parametrize("depth", [3, 4, 6])
def test_curl_matches_closed_form(depth):
    g = np.array([1.5, 0.0])
    F = end_to_end_field(lambda _: g, depth)
    for rho, theta in [(0.5, 0.3), (1.0, 2.0), (0.2, -1.0)]:
        w = rho * np.array([np.cos(theta), np.sin(theta)])
        # central differences, h = 1e-5: O(h^2) truncation plus ~1e-11 round-off.
        assert curl_2d(F, w) == pytest.approx(closed_form_curl(1.5, depth, rho, theta), abs=1e-7)


def test_curl_of_gradient_fields_vanishes_and_n2_anisotropic_does_not():
    rng = np.random.default_rng(0)
    w = np.array([0.4, -0.3])
    assert abs(curl_2d(end_to_end_field(random_quadratic(2, 0), 1), w)) < 1e-8
    assert abs(curl_2d(end_to_end_field(lambda _: np.array([1.0, 2.0]), 2), w)) < 1e-8
    # Beyond the paper: N = 2 with L = (a1 x^2 + a2 y^2)/2 - b.w has curl (a1 - a2) x y / |w|.
    a1, a2, b = 3.0, 1.0, rng.standard_normal(2)
    F = end_to_end_field(lambda x: np.array([a1, a2]) * x - b, 2)
    expected = (a1 - a2) * w[0] * w[1] / np.linalg.norm(w)
    assert curl_2d(F, w) == pytest.approx(expected, abs=1e-7)


def test_small_loops_approach_the_constant_gradient_limit():
    # A general loss with grad L(0) = g != 0: the loop integral over the sector scaled by
    # eps, divided by eps^{3-2/N}, tends to the closed form with g = grad L(0), error O(eps).
    grad = l4_problem(d=2, seed=1)
    g0 = grad(np.zeros(2))
    phi = np.arctan2(g0[1], g0[0])
    N = 3
    errors = []
    for eps in [1e-1, 1e-2, 1e-3]:
        F = end_to_end_field(grad, N)
        value = sector_loop_integral(F, 0.5 * eps, eps, phi + 0.2, phi + 2.5)
        expected = closed_form_loop(np.linalg.norm(g0), N, 0.5 * eps, eps, 0.2, 2.5)
        errors.append(abs(value / expected - 1))
    assert errors[-1] < 1e-2
    assert errors[0] > errors[1] > errors[2]


def test_matrix_field_loops_and_green_theorem():
    rng = np.random.default_rng(3)
    G = rng.standard_normal((2, 2))
    U, V = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    U /= np.linalg.norm(U)
    V -= np.vdot(U, V) * U
    V /= np.linalg.norm(V)
    center = rng.standard_normal((2, 2))
    # depth 1: a gradient field on matrices too.
    F1 = end_to_end_field(lambda W: G, 1)
    assert abs(sector_loop_integral(F1, 0.1, 0.4, 0.0, 3.0, U, V, center)) < LOOP_ATOL
    # Green: a thin sector's integral ~ curl at its middle times its area.
    F3 = end_to_end_field(lambda W: G, 3)
    r, dr, dt = 0.3, 1e-3, 1e-3
    loop = sector_loop_integral(F3, r, r + dr, 0.0, dt, U, V, center)
    mid = center + (r + dr / 2) * (np.cos(dt / 2) * U + np.sin(dt / 2) * V)
    area = 0.5 * dt * ((r + dr) ** 2 - r**2)
    assert loop / area == pytest.approx(curl_2d(F3, mid, U, V), rel=1e-3)  # O(dr, dt) error


def test_rotation_field_example():
    rotation = lambda w: np.array([-w[1], w[0]])  # noqa: E731
    full_annulus = sector_loop_integral(rotation, 1.0, 2.0, 0.0, 2 * np.pi)
    assert full_annulus == pytest.approx(2 * np.pi * (4 - 1), rel=1e-12)  # 2 x area


# --- the multi-output field: Jacobian, homogeneity, block restriction ---------------


def test_field_jacobian_of_a_gradient_is_symmetric_and_of_a_rotation_is_not():
    hess = np.array([[2.0, 1.0], [1.0, 3.0]])
    J = field_jacobian(lambda w: hess @ w, np.array([0.3, -1.0]))
    np.testing.assert_allclose(J, hess, atol=1e-9)
    J_rot = field_jacobian(lambda w: np.array([-w[1], w[0]]), np.zeros(2))
    np.testing.assert_allclose(J_rot - J_rot.T, [[0.0, -2.0], [2.0, 0.0]], atol=1e-9)
    with pytest.raises(ValueError, match="h"):
        field_jacobian(lambda w: w, np.zeros(2), h=0.0)


@pytest.mark.parametrize("depth", [2, 3, 4])
def test_matrix_field_is_positively_homogeneous(depth):
    rng = np.random.default_rng(depth)
    G, W = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    F = end_to_end_field(lambda _: G, depth)
    for t in (1e-3, 0.5, 7.0):
        np.testing.assert_allclose(F(t * W), t ** (2 - 2 / depth) * F(W), rtol=1e-10)


@pytest.mark.parametrize("depth", [2, 3])
def test_block_restriction_of_the_matrix_field(depth):
    # on matrices supported in one block, the field's component in that block is the
    # field of the block of G (the book's reduction of the multi-output case)
    rng = np.random.default_rng(10 + depth)
    G, W0 = rng.standard_normal((3, 4)), rng.standard_normal((2, 2))
    rows, cols = [2, 0], [1, 3]
    W = np.zeros((3, 4))
    W[np.ix_(rows, cols)] = W0
    F_big = end_to_end_field(lambda _: G, depth)(W)
    block_G = G[np.ix_(rows, cols)]
    F_small = end_to_end_field(lambda _: block_G, depth)(W0)
    np.testing.assert_allclose(F_big[np.ix_(rows, cols)], F_small, atol=1e-12)


@pytest.mark.parametrize("depth", [2, 3])
def test_multi_output_loops_shrink_like_t_to_the_3_minus_2_over_n(depth):
    rng = np.random.default_rng(depth)
    G = rng.standard_normal((2, 2))
    F = end_to_end_field(lambda _: G, depth)
    W0 = np.array([[1.2, -0.8], [1.6, 0.6]])
    U, V = np.eye(4)[0].reshape(2, 2), np.eye(4)[1].reshape(2, 2)
    base = sector_loop_integral(F, 0.1, 0.3, 0.0, np.pi, U, V, W0)
    assert abs(base) > 1e-4
    for t in (1e-3, 1e-1):
        small = sector_loop_integral(F, 0.1 * t, 0.3 * t, 0.0, np.pi, U, V, t * W0)
        np.testing.assert_allclose(small, t ** (3 - 2 / depth) * base, rtol=1e-9)


@pytest.mark.parametrize("shape", [(1, 3), (3, 1)])
def test_depth_two_field_with_one_row_or_column_is_a_gradient(shape):
    # part 2 of the book's multi-output theorem: F = grad(|W| <G, W>) when min(k, d) = 1
    rng = np.random.default_rng(sum(shape))
    G, W = rng.standard_normal(shape), rng.standard_normal(shape)
    F = end_to_end_field(lambda _: G, 2)

    def potential(M):
        return np.linalg.norm(M) * np.sum(G * M)

    h = 1e-6
    numeric = np.zeros(shape)
    for idx in np.ndindex(shape):
        E = np.zeros(shape)
        E[idx] = h
        numeric[idx] = (potential(W + E) - potential(W - E)) / (2 * h)
    # central differences: O(h^2) truncation plus round-off ~1e-10 / h
    np.testing.assert_allclose(F(W), numeric, atol=1e-8)
    J = field_jacobian(F, W)
    np.testing.assert_allclose(J, J.T, atol=1e-8)


def test_depth_two_square_field_is_not_a_gradient_for_random_G():
    # part 1 at N = 2: the Jacobian is asymmetric well beyond finite-difference error
    rng = np.random.default_rng(5)
    G, W = rng.standard_normal((2, 2)), rng.standard_normal((2, 2))
    J = field_jacobian(end_to_end_field(lambda _: G, 2), W)
    assert np.abs(J - J.T).max() > 1e-2


# --- depth 2, two by two: the nuclear-norm potential (a proposition of the book) -----

# Orthonormal bases of the two halves of R^{2x2}: symmetric traceless matrices (multiples
# of reflections) and a I + b J (multiples of rotations), flattened row-major.
SYMMETRIC_TRACELESS = np.array([[1.0, 0.0, 0.0, -1.0], [0.0, 1.0, 1.0, 0.0]]) / np.sqrt(2)
ROTATIONAL = np.array([[1.0, 0.0, 0.0, 1.0], [0.0, -1.0, 1.0, 0.0]]) / np.sqrt(2)
# Central differences with h = 1e-5 on O(1) entries: O(h^2) truncation plus ~1e-11
# round-off, so "zero" is ~1e-10; non-zero singular values are O(1).
RANK_TOL = 1e-6


def signed_points(sign: int, count: int, seed: int) -> list[np.ndarray]:
    """Random 2 x 2 matrices with det of the given sign and singular values in [0.5, 2]."""
    rng = np.random.default_rng(seed)
    points = []
    for _ in range(count):
        s = rng.uniform(0.5, 2.0, size=2)
        U, V = orthonormal(rng, 2, 2), orthonormal(rng, 2, 2)
        W = U @ np.diag(s) @ V.T
        points.append(W if np.sign(np.linalg.det(W)) == sign else W[:, ::-1])
    return points


@pytest.mark.parametrize(("sign", "kernel"), [(1, SYMMETRIC_TRACELESS), (-1, ROTATIONAL)])
def test_asymmetry_map_kernel_is_half_of_the_gradients_on_each_side(sign, kernel):
    M = np.vstack([jacobian_asymmetry_map(W, 2) for W in signed_points(sign, 5, 7 + sign)])
    assert M.shape == (80, 4)
    sv = np.linalg.svd(M, compute_uv=False)
    assert sv[1] > 0.1 and sv[2] < RANK_TOL  # rank 2
    _, _, Vt = np.linalg.svd(M)
    null = Vt[2:]
    np.testing.assert_allclose(null.T @ null, kernel.T @ kernel, atol=RANK_TOL)
    one = jacobian_asymmetry_map(signed_points(sign, 1, 3)[0], 2)
    assert np.linalg.matrix_rank(one, tol=RANK_TOL) == 1  # one point sees one direction


def test_asymmetry_map_is_linear_in_G_and_zero_at_depth_one():
    rng = np.random.default_rng(4)
    W, G = rng.standard_normal((2, 3)), rng.standard_normal((2, 3))
    M = jacobian_asymmetry_map(W, 3)
    assert M.shape == (36, 6)
    J = field_jacobian(end_to_end_field(lambda _: G, 3), W)
    np.testing.assert_allclose(M @ G.ravel(), (J - J.T).ravel(), atol=1e-8)
    assert np.all(jacobian_asymmetry_map(W, 1) == 0.0)  # F = G: Jacobian zero
    with pytest.raises(ValueError, match="W"):
        jacobian_asymmetry_map(np.array([1.0, 2.0]), 2)
    with pytest.raises(ValueError, match="depth"):
        jacobian_asymmetry_map(W, 0)
    with pytest.raises(ValueError, match="h"):
        jacobian_asymmetry_map(W, 2, h=-1.0)


@pytest.mark.parametrize(("sign", "basis"), [(1, SYMMETRIC_TRACELESS), (-1, ROTATIONAL)])
def test_depth_two_field_is_the_gradient_of_the_nuclear_norm_potential(sign, basis):
    rng = np.random.default_rng(20 + sign)
    for W in signed_points(sign, 4, 30 + sign):
        G = (rng.standard_normal(2) @ basis).reshape(2, 2)
        _, grad = nuclear_norm_potential(W, G)
        F = end_to_end_field(lambda _, G=G: G, 2)
        np.testing.assert_allclose(grad, F(W), atol=1e-12)  # O(1) values: round-off
        # on the other side the same G is not conservative: an O(1) gap
        W_other = W[:, ::-1]
        assert np.abs(nuclear_norm_potential(W_other, G)[1] - F(W_other)).max() > 1e-2


@given(W_G=matrix_and_gradient(full_rank=True))
@settings(max_examples=40, deadline=None)
def test_nuclear_norm_potential_gradient_matches_finite_differences(W_G):
    W, G = W_G
    value, grad = nuclear_norm_potential(W, G)
    assert value == pytest.approx(np.sum(G * W) * np.linalg.svd(W, compute_uv=False).sum())
    J = field_jacobian(lambda M: np.full_like(M, nuclear_norm_potential(M, G)[0]), W)
    # every row of J is the gradient; singular values >= 0.2 keep the SVD smooth
    np.testing.assert_allclose(J[0].reshape(W.shape), grad, atol=1e-6)


def test_nuclear_norm_potential_of_a_row_is_the_single_output_potential():
    w, g = np.array([[0.3, -1.2, 0.5]]), np.array([[1.0, 0.4, -0.7]])
    value, grad = nuclear_norm_potential(w, g)
    assert value == pytest.approx(np.linalg.norm(w) * np.sum(w * g))
    np.testing.assert_allclose(grad, end_to_end_field(lambda _: g, 2)(w), atol=1e-12)


def test_nuclear_norm_potential_rejects_bad_input():
    with pytest.raises(ValueError, match="rank-deficient"):
        nuclear_norm_potential(np.array([[1.0, 2.0], [2.0, 4.0]]), np.eye(2))
    with pytest.raises(ValueError, match="G"):
        nuclear_norm_potential(np.eye(2), np.eye(3))
    with pytest.raises(ValueError, match="NaN"):
        nuclear_norm_potential(np.eye(2), np.array([[np.nan, 0.0], [0.0, 1.0]]))
