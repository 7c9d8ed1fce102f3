r"""Deep linear networks :math:`W_e = W_N \cdots W_1` and gradient descent on their factors.

Conventions (§4 of Arora, Cohen & Hazan, 2018, *linear neural networks*):
``weights`` is the list ``[W_1, ..., W_N]`` with :math:`W_j` of shape
:math:`n_j \times n_{j-1}`, :math:`n_0 = d` inputs and :math:`n_N = k` outputs,
so the end-to-end matrix :math:`W_e` has shape :math:`k \times d`.  The
overparameterized objective is
:math:`L^N(W_1, \dots, W_N) = L^1(W_N \cdots W_1)`.
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
    "relative_imbalance",
]


def _chain(mats: Sequence[FloatArray], size: int) -> FloatArray:
    """``mats[-1] @ ... @ mats[0]``, or the ``size x size`` identity if empty."""
    product = np.eye(size)
    for mat in mats:
        product = mat @ product
    return product


def end_to_end(weights: Sequence[ArrayLike]) -> FloatArray:
    r"""The end-to-end matrix :math:`W_e = W_N W_{N-1} \cdots W_1` (§4 of the paper).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``, :math:`W_j` of shape :math:`(n_j, n_{j-1})`.

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
    r"""Gradients of :math:`L^N(W_1, \dots, W_N) = L^1(W_e)` with respect to each factor.

    .. math::

       \frac{\partial L^N}{\partial W_j}
         = (W_N \cdots W_{j+1})^\top \, G \, (W_{j-1} \cdots W_1)^\top,
       \qquad G = \nabla L^1(W_e),

    the chain rule for a product of matrices (§4.1 of the paper, the gradient
    used in the proof of Theorem 1).  Empty products are identities.

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
    Depth 2 with scalars: :math:`L = L^1(w_2 w_1)`, so
    :math:`\partial L / \partial w_1 = w_2 G`.

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
    r"""One step of gradient descent on every factor (§4.1 of the paper).

    .. math::

       W_j \leftarrow (1 - \eta\lambda) W_j - \eta \, \frac{\partial L^N}{\partial W_j},
       \qquad j = 1, \dots, N,

    where the gradients come from :func:`layer_gradients` at the *current*
    weights and :math:`\lambda` is the weight-decay coefficient (an
    :math:`\ell_2` penalty :math:`\frac{\lambda}{2} \sum_j \|W_j\|_F^2`).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``.
    grad_e : array_like, shape (k, d)
        :math:`\nabla L^1(W_e)` at the current :math:`W_e`.
    lr : float
        Learning rate :math:`\eta > 0`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`.

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

    The balanced construction of Arora, Cohen, Golowich & Hu (2019), which is
    also the book's proposition "depth adds no expressiveness" (chapter 1); it
    is not from Arora, Cohen & Hazan (2018), whose Theorem 1 (§4.1) only
    *assumes* balancedness.  With the thin SVD
    :math:`W_e = U \operatorname{diag}(s) V^\top` restricted to :math:`r`
    leading singular values (:math:`\operatorname{rank} W_e \le r \le \min_j n_j`),

    .. math::

       W_1 &= E_1 S^{1/N} V^\top, \\
       W_j &= E_j S^{1/N} E_{j-1}^\top \quad (1 < j < N), \\
       W_N &= U S^{1/N} E_{N-1}^\top,

    where :math:`S = \operatorname{diag}(s_1, \dots, s_r)` and :math:`E_j`
    holds the first :math:`r` columns of the :math:`n_j \times n_j` identity.
    Then :math:`W_{j+1}^\top W_{j+1} = W_j W_j^\top = E_j S^{2/N} E_j^\top`
    (balancedness) and the product telescopes to :math:`W_e`.  Singular values
    that are zero up to round-off are set to exactly zero first
    (:func:`linnet.linalg.snap_zeros`), so a rank-deficient :math:`W_e` gets
    factors of exactly its rank: :math:`x \mapsto x^{1/N}` would otherwise
    inflate round-off of order :math:`10^{-16}` to order :math:`10^{-16/N}`.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
        Target end-to-end matrix.
    depth : int
        :math:`N \ge 1`.  ``depth == 1`` returns ``[W_e]``.
    widths : sequence of int, optional
        Hidden widths :math:`[n_1, \dots, n_{N-1}]`, each at least :math:`\operatorname{rank} W_e`.
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
    s = snap_zeros(s, max(k, d))  # round-off zeros are exact zeros: 0^(1/N) = 0
    rank = int(np.count_nonzero(s))
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
    r"""I.i.d. Gaussian factors with standard deviation ``scale`` (near-zero initialisation).

    The near-zero regime of the paper's experiments (§7).  With a small
    ``scale`` :math:`s` the factors are approximately balanced in *absolute*
    terms: the imbalance is :math:`O(s^2)` while :math:`W_e` is :math:`O(s^N)`.
    Relative to the Gram matrices (also :math:`O(s^2)`) the imbalance does not
    shrink with :math:`s` (chapter 2 of the book).

    Parameters
    ----------
    dims : sequence of int
        :math:`[d, n_1, \dots, n_{N-1}, k]`: input size, hidden widths, output size
        (so ``len(dims)`` is :math:`N + 1 \ge 2`).
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
    r"""The imbalance matrices :math:`D_j = W_{j+1}^\top W_{j+1} - W_j W_j^\top`, j = 1..N-1.

    The factors are *balanced* when every :math:`D_j` is zero; Theorem 1 of the
    paper (§4.1) assumes this at initialisation.  Under gradient flow with
    weight decay :math:`\lambda`,
    :math:`\dot D_j = -2\eta\lambda D_j` (so :math:`D_j` is conserved without
    weight decay; Du, Hu & Lee (2018) conserve the difference of the squared
    Frobenius norms for homogeneous networks, the full matrix law is specific
    to linear ones).  One discrete step of gradient descent without weight
    decay adds exactly :math:`\eta^2 (A^\top A - B B^\top)`, where :math:`A`
    and :math:`B` are the gradients with respect to :math:`W_{j+1}` and
    :math:`W_j` (chapter 2 of the book).

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
    r"""Distance from balancedness, :math:`\|W_{j+1}^\top W_{j+1} - W_j W_j^\top\|_F`, j = 1..N-1.

    The Frobenius norms of the matrices of :func:`imbalance`: all zero exactly
    when the factors are balanced (the assumption of Theorem 1, §4.1 of the
    paper).  All at most :math:`\delta` is *δ-balancedness* in the sense of
    Arora, Cohen, Golowich & Hu (2019).

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


def relative_imbalance(weights: Sequence[ArrayLike]) -> FloatArray:
    r"""Imbalance relative to the size of the layers, :math:`\|D_j\|_F / \|W_j\|_F^2`.

    :func:`balancedness` measures the imbalance :math:`D_j` of :func:`imbalance`
    in absolute terms; this divides it by the squared size of the layer below the
    hidden layer :math:`j`, the scale of the Gram matrices that :math:`D_j`
    compares.  It is unchanged when every factor is multiplied by the same
    constant, so a near-zero Gaussian start (:func:`near_zero_init`) is *not*
    more balanced in this sense than a large one (chapter 2 of the book).

    Parameters
    ----------
    weights : sequence of array_like
        ``[W_1, ..., W_N]``.

    Returns
    -------
    ndarray, shape (N - 1,)
        Empty for ``N = 1``.

    Raises
    ------
    ValueError
        If some :math:`W_j` with :math:`j < N` is zero (the ratio is undefined).

    Examples
    --------
    >>> relative_imbalance([np.array([[1.0, 0.0]]), np.array([[2.0]])])
    array([3.])
    >>> relative_imbalance([np.array([[0.1, 0.0]]), np.array([[0.2]])])
    array([3.])
    """
    mats = as_weights(weights)
    sizes = np.array([np.sum(w * w) for w in mats[:-1]], dtype=np.float64)
    if np.any(sizes == 0):
        raise ValueError("relative_imbalance is undefined when a factor W_j (j < N) is zero")
    return balancedness(mats) / sizes
