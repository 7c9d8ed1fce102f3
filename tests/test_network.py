"""Unit and property tests of the deep-linear-network functions."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from linnet import (
    balanced_factors,
    balancedness,
    deep_gd_step,
    end_to_end,
    layer_gradients,
    near_zero_init,
)

from strategies import depths, end_to_end_matrices, hidden_widths, seeds

# Round-off tolerance for products of at most six O(1) factors of size <= 5.
ATOL = 1e-10


def test_end_to_end_hand_computed():
    W_1 = np.array([[1.0, 2.0], [0.0, 1.0], [1.0, 0.0]])  # 2 -> 3
    W_2 = np.array([[1.0, 0.0, 2.0]])  # 3 -> 1
    np.testing.assert_allclose(end_to_end([W_1, W_2]), [[3.0, 2.0]])
    np.testing.assert_allclose(end_to_end([W_1]), W_1)


def test_layer_gradients_hand_computed():
    # L = G . (W_3 W_2 W_1) with scalars: dL/dW_2 = W_3 G W_1.
    grads = layer_gradients([[[2.0]], [[3.0]], [[5.0]]], [[7.0]])
    assert [g.item() for g in grads] == [105.0, 70.0, 42.0]


def test_deep_gd_step_with_weight_decay():
    new = deep_gd_step([[[2.0]], [[3.0]]], [[1.0]], lr=0.1, weight_decay=0.5)
    # (1 - 0.05) * 2 - 0.1 * 3 = 1.6 and (1 - 0.05) * 3 - 0.1 * 2 = 2.65
    np.testing.assert_allclose([w.item() for w in new], [1.6, 2.65])


def test_deep_gd_step_leaves_input_untouched():
    weights = [np.ones((2, 2)), np.ones((1, 2))]
    deep_gd_step(weights, np.ones((1, 2)), lr=0.1)
    np.testing.assert_array_equal(weights[0], np.ones((2, 2)))


def test_balanced_factors_hand_computed():
    W_1, _, W_3 = balanced_factors(np.array([[8.0]]), depth=3)
    assert W_1.item() == pytest.approx(2.0) and W_3.item() == pytest.approx(2.0)


def test_balanced_factors_respects_widths():
    W = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
    factors = balanced_factors(W, depth=3, widths=[5, 2])
    assert [f.shape for f in factors] == [(5, 3), (2, 5), (2, 2)]


def test_orthogonal_rectangular_layers_are_not_balanced():
    # A counterexample used in chapter 2: W_1 with orthonormal rows, W_2 a row.
    W_1 = np.eye(2, 3)
    W_2 = np.array([[1.0, 0.0]])
    assert balancedness([W_1, W_2])[0] == pytest.approx(1.0)


@given(W=end_to_end_matrices(), depth=depths, data=st.data())
@settings(max_examples=150, deadline=None)
def test_balanced_factors_product_and_balance(W, depth, data):
    widths = data.draw(hidden_widths(W, depth))
    factors = balanced_factors(W, depth, widths)
    assert len(factors) == depth
    np.testing.assert_allclose(end_to_end(factors), W, atol=ATOL)
    assert np.all(balancedness(factors) <= ATOL)


@given(depth=st.integers(2, 6), seed=seeds, d=st.integers(1, 4), k=st.integers(1, 4))
@settings(max_examples=50, deadline=None)
def test_near_zero_init_is_nearly_balanced(depth, seed, d, k):
    scale = 1e-3
    dims = [d, *([3] * (depth - 1)), k]
    weights = near_zero_init(dims, scale, np.random.default_rng(seed))
    assert [w.shape for w in weights] == [(dims[j], dims[j - 1]) for j in range(1, depth + 1)]
    # Each Gram matrix has Frobenius norm O(scale^2 * width); the imbalance is of that order.
    assert np.all(balancedness(weights) < 100 * scale**2)


def test_near_zero_init_is_seeded():
    a = near_zero_init([3, 2, 1], 0.1, 42)
    b = near_zero_init([3, 2, 1], 0.1, np.random.default_rng(42))
    for x, y in zip(a, b, strict=True):
        np.testing.assert_array_equal(x, y)
