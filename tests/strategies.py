"""Hypothesis strategies shared by the property tests of :mod:`linnet`.

Matrices are drawn through their SVD so that the tests control conditioning:
non-zero singular values lie in ``[0.2, 3]`` and the others are exactly zero
(rank-deficient ``W_e``), which keeps "zero up to round-off" unambiguous.
"""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

sizes = st.integers(min_value=1, max_value=4)
depths = st.integers(min_value=1, max_value=6)
seeds = st.integers(min_value=0, max_value=2**32 - 1)


def orthonormal(rng: np.random.Generator, n: int, r: int) -> np.ndarray:
    """An ``n x r`` matrix with orthonormal columns (QR of a Gaussian matrix)."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return q[:, :r]


@st.composite
def end_to_end_matrices(draw, full_rank: bool = False, k: int | None = None) -> np.ndarray:
    """A ``k x d`` matrix of a chosen rank with well-separated singular values."""
    rows = draw(sizes) if k is None else k
    cols = draw(sizes)
    q = min(rows, cols)
    rank = q if full_rank else draw(st.integers(min_value=0, max_value=q))
    rng = np.random.default_rng(draw(seeds))
    s = np.sort(rng.uniform(0.2, 3.0, size=rank))[::-1]
    return (orthonormal(rng, rows, rank) * s) @ orthonormal(rng, cols, rank).T


@st.composite
def matrix_and_gradient(draw, full_rank: bool = False, k: int | None = None):
    """``(W_e, G)`` of equal shape; ``G`` has standard normal entries."""
    W = draw(end_to_end_matrices(full_rank=full_rank, k=k))
    rng = np.random.default_rng(draw(seeds))
    return W, rng.standard_normal(W.shape)


@st.composite
def hidden_widths(draw, W: np.ndarray, depth: int) -> list[int]:
    """Hidden widths ``[n_1, ..., n_{N-1}]``, each at least ``rank(W)``."""
    rank = int(np.linalg.matrix_rank(W)) if W.size else 0
    return draw(
        st.lists(
            st.integers(min_value=max(rank, 1), max_value=5),
            min_size=depth - 1,
            max_size=depth - 1,
        )
    )


learning_rates = st.floats(min_value=1e-3, max_value=0.5)
weight_decays = st.one_of(st.just(0.0), st.floats(min_value=1e-3, max_value=0.1))
