"""Synthetic regression problems used throughout the book (seeded, no downloads)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np

from ._validation import FloatArray, as_int, as_real

__all__ = ["RegressionProblem", "make_regression"]


class RegressionProblem(NamedTuple):
    """``X`` of shape (m, d), targets ``y`` of shape (m, k) and the planted ``W_star`` (k, d)."""

    X: FloatArray
    y: FloatArray
    W_star: FloatArray


def make_regression(
    m: int,
    d: int,
    k: int = 1,
    seed: int = 0,
    noise: float = 0.0,
    feature_scales: Sequence[float] | None = None,
) -> RegressionProblem:
    r"""A seeded linear regression problem :math:`Y = X W_\star^\top + \text{noise}`.

    Rows of ``X`` are standard Gaussian, column ``i`` multiplied by
    ``feature_scales[i]`` (anisotropic inputs make the loss ill-conditioned);
    ``W_star`` has standard Gaussian entries; the noise is Gaussian with
    standard deviation ``noise``.

    Parameters
    ----------
    m, d, k : int
        Examples, inputs, outputs (all ``>= 1``).
    seed : int, default 0
        Seed of ``numpy.random.default_rng``.
    noise : float, default 0
        Standard deviation of the label noise (``>= 0``).
    feature_scales : sequence of float, optional
        ``d`` positive column scales; default all ones.

    Returns
    -------
    RegressionProblem

    Examples
    --------
    >>> X, y, W_star = make_regression(m=5, d=2, seed=1)
    >>> X.shape, y.shape, W_star.shape
    ((5, 2), (5, 1), (1, 2))
    """
    m_, d_, k_ = as_int("m", m, 1), as_int("d", d, 1), as_int("k", k, 1)
    sigma = as_real("noise", noise)
    if sigma < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    scales = np.ones(d_) if feature_scales is None else np.asarray(feature_scales, dtype=float)
    if scales.shape != (d_,) or not np.all(np.isfinite(scales)) or np.any(scales <= 0):
        raise ValueError(
            f"feature_scales must be {d_} positive finite numbers, got {feature_scales}"
        )
    rng = np.random.default_rng(as_int("seed", seed, 0))
    X = rng.standard_normal((m_, d_)) * scales
    W_star = rng.standard_normal((k_, d_))
    y = X @ W_star.T + sigma * rng.standard_normal((m_, k_))
    return RegressionProblem(X=X, y=y, W_star=W_star)
