r"""The :math:`\ell_p` regression loss of the paper's warm-up (§3) and experiments (§6, §7.1).

.. math::

   L(W) = \frac{1}{m} \sum_{i=1}^{m} \sum_{c=1}^{k} \frac{1}{p} \big((W x_i)_c - y_{ic}\big)^p

for an even integer :math:`p \ge 2`: :math:`p = 2` is least squares,
:math:`p = 4` the loss on which the paper finds that depth accelerates
gradient descent (§7.1).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_finite_array, as_p

__all__ = ["lp_loss", "lp_loss_grad"]


def _residuals(W_e: ArrayLike, X: ArrayLike, y: ArrayLike) -> tuple[FloatArray, FloatArray, bool]:
    """Validated residuals ``R = X W^T - Y`` of shape (m, k), the inputs, and whether W was 1-D."""
    W = as_finite_array("W_e", W_e, (1, 2))
    vector = W.ndim == 1
    W2 = W[None, :] if vector else W
    k, d = W2.shape
    inputs = as_finite_array("X", X, 2)
    m = inputs.shape[0]
    if inputs.shape[1] != d:
        raise ValueError(
            f"X must have shape (m, d) with d = {d} columns (the inputs of W_e), got {inputs.shape}"
        )
    targets = as_finite_array("y", y, (1, 2))
    if targets.ndim == 1:
        if k != 1:
            raise ValueError(
                f"y must have shape (m, k) = ({m}, {k}) for k = {k} outputs, got {targets.shape}"
            )
        targets = targets[:, None]
    if targets.shape != (m, k):
        raise ValueError(f"y must have shape (m,) or (m, k) = ({m}, {k}), got {targets.shape}")
    return inputs @ W2.T - targets, inputs, vector


def lp_loss(W_e: ArrayLike, X: ArrayLike, y: ArrayLike, p: Any) -> float:
    r"""The :math:`\ell_p` regression loss of a linear predictor ``W_e``.

    .. math::

       L(W) = \frac{1}{m} \sum_{i=1}^{m} \sum_{c=1}^{k}
              \frac{1}{p} \big((W x_i)_c - y_{ic}\big)^p,

    the loss of §3 of the paper (with the expectation replaced by the training
    average), written for :math:`k` outputs.

    Parameters
    ----------
    W_e : array_like, shape (k, d) or (d,)
        The linear predictor; a 1-D ``w`` means a single output.
    X : array_like, shape (m, d)
        One example per row.
    y : array_like, shape (m,) or (m, k)
        Targets.
    p : int
        Even integer ``>= 2``.

    Returns
    -------
    float

    Raises
    ------
    ValueError
        On mismatched shapes, non-finite entries, odd or ``< 2`` ``p``, or if the
        loss itself overflows.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> lp_loss(np.array([1.0, 1.0]), X, np.array([0.0, 3.0]), p=4)
    2.125
    """
    order = as_p(p)
    R, _, _ = _residuals(W_e, X, y)
    with np.errstate(over="ignore"):
        value = float(np.sum(R**order) / (order * R.shape[0]))
    if not np.isfinite(value):
        raise ValueError(f"the l_{order} loss overflows (residuals up to {np.max(np.abs(R)):.3g})")
    return value


def lp_loss_grad(W_e: ArrayLike, X: ArrayLike, y: ArrayLike, p: Any) -> FloatArray:
    r"""Gradient of :func:`lp_loss` with respect to ``W_e``.

    :math:`\nabla L(W) = \frac{1}{m} \sum_i r_i^{p-1} x_i^\top` where
    :math:`r_i = W x_i - y_i` (powers taken entry-wise), so the result has the
    shape of ``W_e``.

    Parameters
    ----------
    W_e : array_like, shape (k, d) or (d,)
    X : array_like, shape (m, d)
    y : array_like, shape (m,) or (m, k)
    p : int
        Even integer ``>= 2``.

    Returns
    -------
    ndarray
        Same shape as ``W_e``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> lp_loss_grad(np.array([1.0, 1.0]), X, np.array([0.0, 3.0]), p=4)
    array([ 0.5, -4. ])
    """
    order = as_p(p)
    R, inputs, vector = _residuals(W_e, X, y)
    with np.errstate(over="ignore", invalid="ignore"):
        grad = (R ** (order - 1)).T @ inputs / R.shape[0]
    if not np.all(np.isfinite(grad)):
        raise ValueError(
            f"the l_{order} loss gradient overflows (residuals up to {np.max(np.abs(R)):.3g}); "
            "training has probably diverged: lower the learning rate"
        )
    return grad[0] if vector else grad
