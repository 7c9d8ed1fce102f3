"""The SymPy helpers that chapters 1-3 use for their symbolic checks."""

from __future__ import annotations

import sympy as sp

from linnet.symbolic import (
    entrywise_layer_gradients,
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
