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
    relative_imbalance,
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


def test_balanced_factors_rank_one_depth_six_has_no_spurious_singular_values():
    # Issue 7: s ** (1/6) of a round-off zero (~1e-16) used to give ~1e-3.
    rng = np.random.default_rng(0)
    W = np.outer(rng.standard_normal(3), rng.standard_normal(4))
    for factor in balanced_factors(W, depth=6):
        s = np.linalg.svd(factor, compute_uv=False)
        assert np.all(s[1:] < 1e-12)


@given(
    W=end_to_end_matrices(),
    depth=st.integers(2, 6),
    seed=seeds,
    data=st.data(),
)
@settings(max_examples=150, deadline=None)
def test_balanced_factors_exact_on_rank_deficient_input(W, depth, seed, data):
    # Rank-deficient W_e (drawn with exact zero singular values, then rotated so that the
    # zeros become round-off): every factor has exactly rank(W_e) non-zero singular values.
    rank = int(np.linalg.matrix_rank(W)) if W.size else 0
    if rank == min(W.shape):
        rank_cut = data.draw(st.integers(0, rank))
        U, s, Vt = np.linalg.svd(W, full_matrices=False)
        s[rank_cut:] = 0.0
        W = (U * s) @ Vt
        rank = rank_cut
    widths = data.draw(hidden_widths(W, depth))
    factors = balanced_factors(W, depth, widths)
    np.testing.assert_allclose(end_to_end(factors), W, atol=ATOL)
    assert np.all(balancedness(factors) <= ATOL)
    # The non-zero singular values of each factor are s_i^(1/N) >= 0.2^(1/6) > 0.7; the
    # others must be round-off (<= 1e-12), not round-off raised to the power 1/N.
    for factor in factors:
        s = np.linalg.svd(factor, compute_uv=False)
        assert np.all(s[:rank] > 0.5)
        assert np.all(s[rank:] <= 1e-12)


@given(depth=st.integers(2, 5), seed=seeds, c=st.floats(1e-3, 1e3))
@settings(max_examples=50, deadline=None)
def test_relative_imbalance_is_scale_invariant(depth, seed, c):
    weights = near_zero_init([3, *([2] * (depth - 1)), 2], 1.0, seed)
    scaled = [c * w for w in weights]
    np.testing.assert_allclose(relative_imbalance(scaled), relative_imbalance(weights), rtol=1e-9)


def test_relative_imbalance_zero_when_balanced():
    factors = balanced_factors(np.array([[1.0, 2.0], [0.5, -1.0]]), depth=4)
    assert np.all(relative_imbalance(factors) < 1e-12)
