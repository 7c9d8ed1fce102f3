"""The SymPy helpers that chapters 1-3 and 8 use for their symbolic checks."""

from __future__ import annotations

import numpy as np
import pytest
import sympy as sp

from linnet import end_to_end_field, psd_power
from linnet.conservative import field_jacobian, jacobian_asymmetry_map, nuclear_norm_potential
from linnet.symbolic import (
    end_to_end_matrix_field,
    entrywise_layer_gradients,
    field_jacobian_asymmetry,
    nuclear_norm_potential_2x2,
    polar_2x2,
    psd_power_2x2,
    sector_loop_integral_symbolic,
    single_output_field,
    symbolic_factors,
    symbolic_product,
    symbolic_rotation,
    vanishes_modulo,
)


def test_rotations_are_orthogonal_with_unit_determinant_modulo_constraints():
    R, constraint = symbolic_rotation(0)
    assert vanishes_modulo(R * R.T - sp.eye(2), [constraint])
    assert vanishes_modulo(sp.Matrix([[R.det() - 1]]), [constraint])


def test_product_of_rotations_is_a_rotation():
    (R1, c1), (R2, c2) = symbolic_rotation(1), symbolic_rotation(2)
    product = R2 * R1
    assert vanishes_modulo(product.T * product - sp.eye(2), [c1, c2])
    assert product[0, 0] - product[1, 1] == 0


def test_vanishes_modulo_rejects_false_identities():
    R, constraint = symbolic_rotation(3)
    assert not vanishes_modulo(R - sp.eye(2), [constraint])
    assert not vanishes_modulo(sp.Matrix([[R[0, 0] ** 2]]), [constraint])


def test_entrywise_gradients_match_the_chain_rule_at_depth_three():
    Ws = symbolic_factors([(2, 2), (1, 2), (1, 1)])
    G = sp.Matrix([sp.symbols("g_1 g_2")])  # the shape of W_e = W_3 W_2 W_1: 1 x 2
    grads = entrywise_layer_gradients(Ws, G)
    above = symbolic_product(Ws[2:], 1)
    below = symbolic_product(Ws[:1], 2)
    assert sp.expand(grads[1] - above.T * G * below.T) == sp.zeros(1, 2)


# --- chapter 8: the closed forms behind the multi-output certificate ---------------

ROT = sp.Matrix([[3, -4], [4, 3]]) / 5  # a rational rotation
W_PLUS = ROT * sp.diag(2, 1)  # det > 0, singular values 2 and 1


def test_psd_power_2x2_is_exact_and_matches_the_numerical_power():
    A = ROT * sp.diag(9, 4) * ROT.T
    root = psd_power_2x2(A, sp.Rational(1, 2))
    assert root * root == A  # exact, rational
    assert root == ROT * sp.diag(3, 2) * ROT.T
    cube = psd_power_2x2(A, sp.Rational(1, 3))
    assert (cube**3 - A).applyfunc(sp.simplify) == sp.zeros(2, 2)
    np.testing.assert_allclose(
        np.array(cube, dtype=float), psd_power(np.array(A, dtype=float), 1 / 3), atol=1e-12
    )
    assert psd_power_2x2(sp.diag(4, 4), sp.Rational(1, 2)) == sp.diag(2, 2)
    with pytest.raises(ValueError, match="symmetric"):
        psd_power_2x2(sp.Matrix([[1, 2], [0, 1]]), sp.Rational(1, 2))


@pytest.mark.parametrize("depth", [1, 2, 3])
def test_symbolic_matrix_field_matches_linnet(depth):
    rng = np.random.default_rng(depth)
    G = sp.Matrix(2, 2, [sp.Rational(int(v), 7) for v in rng.integers(-9, 9, 4)])
    F_sym = np.array(end_to_end_matrix_field(W_PLUS, G, depth), dtype=float)
    G_num, W_num = np.array(G, dtype=float), np.array(W_PLUS, dtype=float)
    F_num = end_to_end_field(lambda _: G_num, depth)(W_num)
    np.testing.assert_allclose(F_sym, F_num, atol=1e-12)  # O(1) values: round-off


def test_jacobian_asymmetry_is_exact_and_matches_finite_differences():
    G = sp.Matrix([[1, 0], [0, 0]])
    asym = field_jacobian_asymmetry(W_PLUS, G, 2)
    assert all(entry.is_Rational for entry in asym)
    assert asym == -asym.T and asym != sp.zeros(4, 4)
    G_num = np.array(G, dtype=float)
    J = field_jacobian(end_to_end_field(lambda _: G_num, 2), np.array(W_PLUS, dtype=float))
    # central differences, h = 1e-5: O(h^2) truncation ~1e-10 on O(1) derivatives
    np.testing.assert_allclose(J - J.T, np.array(asym, dtype=float), atol=1e-8)


def test_jacobian_asymmetry_vanishes_for_gradient_fields():
    G = sp.Matrix([[2, -1], [3, 5]])
    assert field_jacobian_asymmetry(W_PLUS, G, 1) == sp.zeros(4, 4)  # F = G


def test_every_nonzero_G_is_certified_at_depth_two_by_four_points():
    gs = sp.symbols("g_1:5", real=True)
    G = sp.Matrix(2, 2, gs)
    points = [sp.diag(2, 1), W_PLUS, sp.diag(2, -1), W_PLUS * sp.diag(1, -1)]
    rows = []
    for W0 in points:
        asym = field_jacobian_asymmetry(W0, G, 2)
        rows += [[sp.diff(asym[a, b], g) for g in gs] for a in range(4) for b in range(a + 1, 4)]
    assert sp.Matrix(rows).rank() == 4
    assert sp.Matrix(rows[:6]).rank() == 1  # one point alone does not suffice
    # two points with det > 0, then two with det < 0: each pair sees only half of the G
    plus, minus = sp.Matrix(rows[:12]), sp.Matrix(rows[12:])
    assert plus.rank() == 2 and minus.rank() == 2
    assert plus * sp.Matrix([1, 0, 0, -1]) == sp.zeros(12, 1)  # symmetric traceless
    assert plus * sp.Matrix([0, 1, 1, 0]) == sp.zeros(12, 1)
    assert minus * sp.Matrix([1, 0, 0, 1]) == sp.zeros(12, 1)  # a I + b J
    assert minus * sp.Matrix([0, -1, 1, 0]) == sp.zeros(12, 1)


def test_asymmetry_map_matches_its_exact_twin():
    G = sp.Matrix(2, 2, sp.symbols("g_1:5", real=True))
    exact = field_jacobian_asymmetry(W_PLUS, G, 2).reshape(16, 1).jacobian(list(G))
    numeric = jacobian_asymmetry_map(np.array(W_PLUS, dtype=float), 2)
    # central differences, h = 1e-5: O(h^2) truncation ~1e-10 on O(1) derivatives
    np.testing.assert_allclose(numeric, np.array(exact, dtype=float), atol=1e-8)


# --- chapter 8: the depth-2 nuclear-norm potential on det W > 0 and det W < 0 -------

W_MINUS = W_PLUS * sp.diag(1, -1)  # det < 0, singular values 2 and 1


@pytest.mark.parametrize("W0", [W_PLUS, W_MINUS, sp.Matrix([[3, 0], [4, 5]])])
def test_polar_closed_forms_are_the_exact_polar_decomposition(W0):
    sign = 1 if W0.det() > 0 else -1
    polar = polar_2x2(W0, sign)
    assert polar.left == psd_power_2x2(W0 * W0.T, sp.Rational(1, 2)).applyfunc(sp.radsimp)
    assert polar.right == psd_power_2x2(W0.T * W0, sp.Rational(1, 2)).applyfunc(sp.radsimp)
    assert (polar.factor.T * polar.factor).applyfunc(sp.simplify) == sp.eye(2)
    assert sp.simplify(polar.factor.det() - sign) == 0
    assert (polar.factor * polar.right - W0).applyfunc(sp.simplify) == sp.zeros(2, 2)
    singular = np.linalg.svd(np.array(W0, dtype=float), compute_uv=False)
    assert float(polar.nuclear_norm) == pytest.approx(singular.sum(), rel=1e-14)


@pytest.mark.parametrize("sign", [1, -1])
def test_nuclear_norm_gradient_is_the_polar_factor_symbolically(sign):
    W = sp.Matrix(2, 2, sp.symbols("w_1:5", real=True))
    polar = polar_2x2(W, sign)
    grad = W.applyfunc(lambda entry: sp.diff(polar.nuclear_norm, entry))
    assert (grad - polar.factor).applyfunc(sp.simplify) == sp.zeros(2, 2)


@pytest.mark.parametrize("sign", [1, -1])
def test_depth_two_field_is_the_gradient_of_the_potential_symbolically(sign):
    W = sp.Matrix(2, 2, sp.symbols("w_1:5", real=True))
    a, b = sp.symbols("a b", real=True)
    G = sp.Matrix([[a, b], [b, -a]]) if sign == 1 else sp.Matrix([[a, -b], [b, a]])
    polar = polar_2x2(W, sign)
    for root, gram in ((polar.left, W * W.T), (polar.right, W.T * W)):
        assert (root**2 - gram).applyfunc(sp.simplify) == sp.zeros(2, 2)
    potential = nuclear_norm_potential_2x2(W, G, sign)
    grad = W.applyfunc(lambda entry: sp.diff(potential, entry))
    field = polar.left * G + G * polar.right
    assert (grad - field).applyfunc(sp.simplify) == sp.zeros(2, 2)
    # the other half of the gradients is not conservative on this side
    other = sp.eye(2) if sign == 1 else sp.diag(1, -1)
    gap = W.applyfunc(lambda e: sp.diff(nuclear_norm_potential_2x2(W, other, sign), e))
    gap -= polar.left * other + other * polar.right
    point = dict(zip(W, [2, 0, 0, sign], strict=True))
    assert gap.subs(point) != sp.zeros(2, 2)


def test_potentials_agree_with_the_numerical_twin():
    G = sp.Matrix([[1, 2], [2, -1]])
    value = nuclear_norm_potential_2x2(W_PLUS, G)
    numeric, _ = nuclear_norm_potential(np.array(W_PLUS, dtype=float), np.array(G, dtype=float))
    assert float(value) == pytest.approx(numeric, rel=1e-14)


def test_polar_and_potential_reject_bad_input():
    with pytest.raises(ValueError, match="2 x 2"):
        polar_2x2(sp.eye(3))
    with pytest.raises(ValueError, match="sign"):
        polar_2x2(sp.eye(2), 0)
    with pytest.raises(ValueError, match="G"):
        nuclear_norm_potential_2x2(sp.eye(2), sp.eye(3))


def test_symbolic_sector_integral_of_the_constant_gradient_field():
    x, y = sp.symbols("x y", real=True)
    F = single_output_field(sp.Matrix([x, y]), sp.Matrix([1, 0]), 3)
    value = sector_loop_integral_symbolic(F, x, y, (1, 2), (0, sp.pi))
    a = sp.Rational(7, 3)
    closed = sp.Rational(2 * 1, 7) * (2**a - 1) * 2  # (N-1)(N-2)/(3N-2), cos 0 - cos pi
    assert sp.simplify(value - closed) == 0
    with pytest.raises(ValueError, match="2 x 1"):
        sector_loop_integral_symbolic(sp.Matrix([x]), x, y, (1, 2), (0, 1))


def test_matrix_field_rejects_bad_input():
    with pytest.raises(ValueError, match="2 x 2"):
        end_to_end_matrix_field(sp.eye(3), sp.eye(3), 2)
    with pytest.raises(ValueError, match="depth"):
        end_to_end_matrix_field(sp.eye(2), sp.eye(2), 0)
    with pytest.raises(ValueError, match="numeric"):
        field_jacobian_asymmetry(sp.Matrix(2, 2, sp.symbols("a:d")), sp.eye(2), 2)
