"""Deep linear networks ``W_e = W_N ... W_1`` and gradient descent on their factors.

Conventions (Section 4 of Arora, Cohen & Hazan, 2018): ``weights`` is the list
``[W_1, ..., W_N]`` with ``W_j`` of shape ``(n_j, n_{j-1})``, ``n_0 = d`` inputs
and ``n_N = k`` outputs, so the end-to-end matrix ``W_e`` has shape ``(k, d)``.
The overparameterized objective is ``L^N(W_1, ..., W_N) = L^1(W_e)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    FloatArray,
    as_depth,
    as_int,
    as_lr,
    as_matrix,
    as_real,
    as_weight_decay,
    as_weights,
    same_shape,
)
from .linalg import snap_zeros

__all__ = [
    "balanced_factors",
    "balancedness",
    "deep_gd_step",
    "end_to_end",
    "imbalance",
    "layer_gradients",
    "near_zero_init",
]


def _chain(mats: Sequence[FloatArray], size: int) -> FloatArray:
    """``mats[-1] @ ... @ mats[0]``, or the ``size x size`` identity if empty."""
    product = np.eye(size)
    for mat in mats:
        product = mat @ product
    return product


def end_to_end(weights: Sequence[ArrayLike]) -> FloatArray:
    """The end-to-end matrix ``W_e = W_N W_{N-1} ... W_1`` (Section 4 of the paper).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``, ``W_j`` of shape ``(n_j, n_{j-1})``.

    Returns
    -------
    ndarray, shape (k, d)

    Raises
    ------
    ValueError
        If ``weights`` is empty, a layer is not 2-D or not finite, or the shapes
        do not chain.

    Examples
    --------
    >>> W_1 = np.array([[1.0, 2.0]])      # 2 inputs -> 1 hidden unit
    >>> W_2 = np.array([[3.0], [4.0]])    # 1 hidden unit -> 2 outputs
    >>> end_to_end([W_1, W_2])
    array([[3., 6.],
           [4., 8.]])
    """
    mats = as_weights(weights)
    return _chain(mats[1:], mats[0].shape[0]) @ mats[0]


def layer_gradients(weights: Sequence[ArrayLike], grad_e: ArrayLike) -> list[FloatArray]:
    r"""Gradients of ``L^N(W_1..W_N) = L^1(W_e)`` with respect to each factor.

    ``dL^N/dW_j = (W_N ... W_{j+1})^T G (W_{j-1} ... W_1)^T`` with
    ``G = grad_e = nabla L^1(W_e)`` (Section 4 of the paper; the chain rule for a
    product of matrices).  Empty products are identities.

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``.
    grad_e : array_like, shape (k, d)
        The gradient of the end-to-end loss at ``W_e``.

    Returns
    -------
    list of ndarray
        ``[dL/dW_1, ..., dL/dW_N]``, each with the shape of its ``W_j``.

    Examples
    --------
    Depth 2 with scalars: ``L = L^1(w_2 w_1)`` so ``dL/dw_1 = w_2 G``.

    >>> [g.item() for g in layer_gradients([[[2.0]], [[3.0]]], [[1.0]])]
    [3.0, 2.0]
    """
    mats = as_weights(weights)
    d = mats[0].shape[1]
    G = as_matrix("grad_e", grad_e)
    same_shape("grad_e", G, (mats[-1].shape[0], d), "W_e = W_N ... W_1")
    depth = len(mats)
    # below[j] = W_j ... W_1 (below[0] = I_d); above[j] = W_N ... W_{j+1} (above[N] = I_k)
    below = [np.eye(d)]
    for mat in mats:
        below.append(mat @ below[-1])
    above = [np.eye(G.shape[0])]
    for mat in reversed(mats):
        above.append(above[-1] @ mat)
    above.reverse()
    return [above[j + 1].T @ G @ below[j].T for j in range(depth)]


def deep_gd_step(
    weights: Sequence[ArrayLike],
    grad_e: ArrayLike,
    lr: float,
    weight_decay: float = 0.0,
) -> list[FloatArray]:
    r"""One step of gradient descent on every factor (Section 4 of the paper).

    ``W_j <- (1 - eta lambda) W_j - eta dL^N/dW_j`` for ``j = 1..N``, where the
    gradients come from :func:`layer_gradients` at the *current* weights and
    ``lambda`` is the weight-decay coefficient (an ``l2`` penalty
    ``lambda/2 sum_j ||W_j||_F^2``).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``.
    grad_e : array_like, shape (k, d)
        ``nabla L^1(W_e)`` at the current ``W_e``.
    lr : float
        Learning rate ``eta > 0``.
    weight_decay : float, default 0
        ``lambda >= 0``.

    Returns
    -------
    list of ndarray
        New factors; the input is not modified.

    Examples
    --------
    >>> new = deep_gd_step([[[2.0]], [[3.0]]], [[1.0]], lr=0.1)
    >>> [round(w.item(), 12) for w in new]
    [1.7, 2.8]
    """
    mats = as_weights(weights)
    eta = as_lr(lr)
    decay = as_weight_decay(weight_decay)
    grads = layer_gradients(mats, grad_e)
    return [(1.0 - eta * decay) * w - eta * g for w, g in zip(mats, grads, strict=True)]


def balanced_factors(
    W_e: ArrayLike, depth: int, widths: Sequence[int] | None = None
) -> list[FloatArray]:
    r"""Exactly balanced factors ``[W_1, ..., W_N]`` whose product is ``W_e``.

    The construction in the proof of Theorem 2 / Section 5 of the paper: with
    the SVD ``W_e = U diag(s) V^T`` restricted to the ``r`` leading singular
    values, take ``W_1 = E_1 S^{1/N} V^T``, ``W_j = E_j S^{1/N} E_{j-1}^T`` and
    ``W_N = U S^{1/N} E_{N-1}^T``, where ``E_j`` are the first ``r`` columns of
    the ``n_j x n_j`` identity.  Then ``W_{j+1}^T W_{j+1} = W_j W_j^T =
    E_j S^{2/N} E_j^T`` (balancedness, the assumption of Theorem 1) and the product telescopes
    to ``W_e``.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
        Target end-to-end matrix.
    depth : int
        ``N >= 1``.  ``depth == 1`` returns ``[W_e]``.
    widths : sequence of int, optional
        Hidden widths ``[n_1, ..., n_{N-1}]``, each at least ``rank(W_e)``.
        Default: ``min(k, d)`` for every hidden layer.

    Returns
    -------
    list of ndarray

    Raises
    ------
    ValueError
        If ``len(widths) != depth - 1`` or a width is below ``rank(W_e)``.

    Examples
    --------
    >>> W_1, W_2 = balanced_factors(np.array([[4.0, 0.0]]), depth=2)
    >>> W_1, W_2
    (array([[2., 0.]]), array([[2.]]))
    >>> float(balancedness([W_1, W_2])[0])
    0.0
    """
    target = as_matrix("W_e", W_e)
    n_layers = as_depth(depth)
    k, d = target.shape
    if widths is None:
        hidden = [min(k, d)] * (n_layers - 1)
    else:
        hidden = [as_int(f"widths[{i}]", n, 1) for i, n in enumerate(widths)]
        if len(hidden) != n_layers - 1:
            raise ValueError(
                f"widths must list the {n_layers - 1} hidden widths of a depth-{n_layers} "
                f"network, got {len(hidden)}"
            )
    if n_layers == 1:
        return [target.copy()]
    U, s, Vt = np.linalg.svd(target, full_matrices=False)
    rank = int(np.count_nonzero(snap_zeros(s, max(k, d))))
    if min(hidden) < rank:
        raise ValueError(
            f"every hidden width must be >= rank(W_e) = {rank} to represent W_e, "
            f"got widths {hidden}"
        )
    r = min(min(hidden), s.size)  # keep r >= rank singular values (the rest are ~0)
    root = s[:r] ** (1.0 / n_layers)
    dims = [d, *hidden, k]
    factors = []
    for j in range(1, n_layers + 1):
        left = U[:, :r] if j == n_layers else np.eye(dims[j])[:, :r]
        right = Vt[:r, :] if j == 1 else np.eye(dims[j - 1])[:r, :]
        factors.append((left * root) @ right)
    return factors


def near_zero_init(dims: Sequence[int], scale: float, rng: Any) -> list[FloatArray]:
    """I.i.d. Gaussian factors with standard deviation ``scale`` (Section 8 of the paper).

    With a small ``scale`` the factors are approximately balanced: the
    imbalance is ``O(scale^2)`` while ``W_e`` is ``O(scale^N)``.

    Parameters
    ----------
    dims : sequence of int
        ``[d, n_1, ..., n_{N-1}, k]``: input size, hidden widths, output size
        (so ``len(dims) = N + 1 >= 2``).
    scale : float
        Standard deviation, ``> 0``.
    rng : numpy.random.Generator or int
        Generator, or a seed for ``numpy.random.default_rng``.

    Returns
    -------
    list of ndarray
        ``[W_1, ..., W_N]``, ``W_j`` of shape ``(dims[j], dims[j-1])``.

    Examples
    --------
    >>> [w.shape for w in near_zero_init([3, 4, 2], 1e-3, rng=0)]
    [(4, 3), (2, 4)]
    """
    if isinstance(dims, (str, bytes)) or not isinstance(dims, Sequence):
        raise TypeError(f"dims must be a list [d, n_1, ..., k] of integers, got {dims!r}")
    sizes = [as_int(f"dims[{i}]", n, 1) for i, n in enumerate(dims)]
    if len(sizes) < 2:
        raise ValueError(f"dims needs at least [d, k] (depth >= 1), got {list(dims)}")
    std = as_real("scale", scale)
    if std <= 0:
        raise ValueError(f"scale must be > 0, got {scale}")
    if isinstance(rng, np.random.Generator):
        gen = rng
    elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        gen = np.random.default_rng(rng)
    else:
        raise TypeError(f"rng must be a numpy.random.Generator or an int seed, got {rng!r}")
    return [std * gen.standard_normal((sizes[j], sizes[j - 1])) for j in range(1, len(sizes))]


def imbalance(weights: Sequence[ArrayLike]) -> list[FloatArray]:
    """The imbalance matrices ``D_j = W_{j+1}^T W_{j+1} - W_j W_j^T``, ``j = 1..N-1``.

    The factors are *balanced* when every ``D_j`` is zero; Theorem 1 of the
    paper assumes this at initialisation.  Under gradient flow
    with weight decay ``lambda``, ``dD_j/dt = -2 eta lambda D_j`` (so ``D_j`` is
    conserved without weight decay); one discrete step of gradient descent
    without weight decay adds exactly ``eta^2 (A^T A - B B^T)``, where ``A`` and
    ``B`` are the gradients with respect to ``W_{j+1}`` and ``W_j``.

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``.

    Returns
    -------
    list of ndarray
        ``D_j`` of shape ``(n_j, n_j)``; empty for ``N = 1``.

    Examples
    --------
    >>> imbalance([np.array([[1.0, 0.0]]), np.array([[2.0]])])
    [array([[3.]])]
    """
    mats = as_weights(weights)
    return [mats[j + 1].T @ mats[j + 1] - mats[j] @ mats[j].T for j in range(len(mats) - 1)]


def balancedness(weights: Sequence[ArrayLike]) -> FloatArray:
    """Distance from balancedness, ``||W_{j+1}^T W_{j+1} - W_j W_j^T||_F`` for ``j = 1..N-1``.

    The Frobenius norms of the matrices of :func:`imbalance`: all zero exactly
    when the factors are balanced (the assumption of Theorem 1 of the paper).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``.

    Returns
    -------
    ndarray, shape (N - 1,)
        Empty for ``N = 1``.

    Examples
    --------
    >>> balancedness([np.array([[1.0, 0.0]]), np.array([[2.0]])])
    array([3.])
    """
    return np.array([np.linalg.norm(D) for D in imbalance(weights)], dtype=np.float64)
