"""Claim 2 (single output) term by term, and the projection Pr_w."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from linnet import end_to_end_update, project_along, single_output_terms, single_output_update

from strategies import depths, learning_rates, seeds

ATOL = 1e-10  # O(1) vectors, a handful of flops: round-off only


@given(st.integers(1, 6), seeds)
def test_projection_is_an_orthogonal_projection(d, seed):
    rng = np.random.default_rng(seed)
    w, g, h = rng.standard_normal((3, d))
    P = np.column_stack([project_along(w, e) for e in np.eye(d)])  # its matrix
    np.testing.assert_allclose(P, P.T, atol=ATOL)  # symmetric
    np.testing.assert_allclose(P @ P, P, atol=ATOL)  # idempotent
    assert np.trace(P) == pytest.approx(1.0)  # rank one
    np.testing.assert_allclose(project_along(w, 2 * g + h), 2 * P @ g + P @ h, atol=ATOL)
    assert abs(w @ (g - project_along(w, g))) < ATOL
    np.testing.assert_allclose(project_along(w, w), w, atol=ATOL)


def test_projection_at_zero_is_zero():
    np.testing.assert_array_equal(project_along(np.zeros(3), np.ones(3)), np.zeros(3))


@given(st.integers(1, 5), depths, learning_rates, seeds, st.booleans())
def test_terms_recombine_into_claim_2(d, depth, lr, seed, at_zero):
    rng = np.random.default_rng(seed)
    w = np.zeros(d) if at_zero else rng.standard_normal(d)
    g = rng.standard_normal(d)
    terms = single_output_terms(w, g, depth, lr)
    rebuilt = w - terms.rate * (terms.gradient + (depth - 1) * terms.along_w)
    np.testing.assert_allclose(rebuilt, single_output_update(w, g, depth, lr), atol=ATOL)
    np.testing.assert_allclose(
        rebuilt, end_to_end_update(w[None, :], g[None, :], depth, lr)[0], atol=ATOL
    )
    assert terms.rate == pytest.approx(lr * np.linalg.norm(w) ** (2 - 2 / depth))
