r"""The end-to-end update rule and its preconditioner (Section 5 of the paper).

Under balanced initialisation, gradient descent on ``W_1, ..., W_N`` moves the
end-to-end matrix by (Theorem 1 in its discrete form, eq. (10) of the paper)

.. math::

   W_e \leftarrow (1 - \eta\lambda N) W_e
       - \eta \sum_{j=1}^{N} [W_e W_e^\top]^{\frac{j-1}{N}} \, G \,
         [W_e^\top W_e]^{\frac{N-j}{N}},
   \qquad G = \nabla L^1(W_e),

i.e. ``vec(W_e) <- (1 - eta lambda N) vec(W_e) - eta P_{W_e} vec(G)`` with the
preconditioner ``P_{W_e}`` of Claim 1.  :func:`end_to_end_update` computes it
from one thin SVD of ``W_e``; :func:`preconditioner` builds ``P_{W_e}`` itself
(``kd x kd``), for teaching and testing only.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    FloatArray,
    as_depth,
    as_finite_array,
    as_lr,
    as_matrix,
    as_weight_decay,
    same_shape,
)
from .linalg import psd_power, snap_zeros

__all__ = [
    "end_to_end_update",
    "preconditioner",
    "preconditioner_eigenvalues",
    "single_output_update",
]


def _singular_values(W: FloatArray) -> FloatArray:
    """Singular values (descending) with round-off zeros set to exactly 0."""
    return snap_zeros(np.linalg.svd(W, compute_uv=False), max(W.shape))


def _eigen_grid(s_left: FloatArray, s_right: FloatArray, depth: int) -> FloatArray:
    """``sum_j s_left[r]^{2(N-j)/N} s_right[r']^{2(j-1)/N}`` on the grid, ``0^0 = 1``."""
    total = np.zeros((s_left.size, s_right.size))
    for j in range(1, depth + 1):
        total += np.outer(s_left ** (2 * (depth - j) / depth), s_right ** (2 * (j - 1) / depth))
    return total


def preconditioner_eigenvalues(W_e: ArrayLike, depth: int) -> FloatArray:
    r"""Eigenvalues of the preconditioner ``P_{W_e}`` (Claim 1 of the paper).

    With singular values ``sigma_1 >= sigma_2 >= ...`` of ``W_e`` (padded with
    zeros to length ``k`` for rows and ``d`` for columns), the eigenvalue
    belonging to the pair ``(u_r, v_{r'})`` of left/right singular vectors is

    ``lambda[r, r'] = sum_{j=1}^{N} sigma_r^{2(N-j)/N} sigma_{r'}^{2(j-1)/N}``

    with ``0^0 = 1``.  For ``N = 1`` every eigenvalue is 1 (plain gradient
    descent); for ``N >= 2`` and ``r = r'`` it is ``N sigma_r^{2-2/N}``, so
    directions in which ``W_e`` is already large move faster.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
    depth : int
        ``N >= 1``.

    Returns
    -------
    ndarray, shape (k, d)

    Examples
    --------
    >>> preconditioner_eigenvalues(np.array([[4.0, 0.0]]), depth=2)
    array([[8., 4.]])
    """
    W = as_matrix("W_e", W_e)
    N = as_depth(depth)
    k, d = W.shape
    s = _singular_values(W)
    s_left = np.zeros(k)
    s_left[: s.size] = s
    s_right = np.zeros(d)
    s_right[: s.size] = s
    return _eigen_grid(s_left, s_right, N)


def preconditioner(W_e: ArrayLike, depth: int) -> FloatArray:
    r"""The ``kd x kd`` preconditioner ``P_{W_e}`` of Claim 1 of the paper.

    ``P_{W_e} = sum_{j=1}^{N} [W_e^T W_e]^{(N-j)/N} (x) [W_e W_e^T]^{(j-1)/N}``,
    with ``(x)`` the Kronecker product, so that the end-to-end update reads
    ``vec(W_e) <- (1 - eta lambda N) vec(W_e) - eta P_{W_e} vec(G)`` with
    column-major ``vec`` (``vec(A G B) = (B^T (x) A) vec(G)``).

    This builds the matrix literally from :func:`psd_power`: use it to study
    ``P_{W_e}``, not to train (see :func:`end_to_end_update`).

    Parameters
    ----------
    W_e : array_like, shape (k, d)
    depth : int
        ``N >= 1``.

    Returns
    -------
    ndarray, shape (k*d, k*d)
        Symmetric positive semi-definite; positive definite when ``W_e`` has
        full rank or ``N = 1``.

    Examples
    --------
    >>> preconditioner(np.array([[4.0, 0.0]]), depth=2)
    array([[8., 0.],
           [0., 4.]])
    """
    W = as_matrix("W_e", W_e)
    N = as_depth(depth)
    gram_rows, gram_cols = W @ W.T, W.T @ W
    return sum(
        (
            np.kron(psd_power(gram_cols, (N - j) / N), psd_power(gram_rows, (j - 1) / N))
            for j in range(1, N + 1)
        ),
        start=np.zeros((W.size, W.size)),
    )


def _preconditioned_gradient(W: FloatArray, G: FloatArray, N: int) -> FloatArray:
    """``sum_j [W W^T]^{(j-1)/N} G [W^T W]^{(N-j)/N}`` from one thin SVD of ``W``.

    Split ``G`` by the projections onto the column space ``U`` and row space
    ``V`` of the thin SVD.  Inside both spaces the sum is a Hadamard product
    with the eigenvalue grid; in a complement only the ``j`` whose power there
    is ``0`` survives (``[.]^0 = I``).
    """
    if N == 1:
        return G
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    s = snap_zeros(s, max(W.shape))
    G_V = G @ Vt.T  # (k, q)
    core = U.T @ G_V  # (q, q)
    top = s ** (2 * (N - 1) / N)  # the power on both complements (j = 1 or j = N)
    result = U @ (_eigen_grid(s, s, N) * core) @ Vt
    # left complement (outside col(U)): only j = 1, i.e. G [W^T W]^{(N-1)/N}
    result += (G_V - U @ core) * top @ Vt
    # right complement (outside row(V)): only j = N, i.e. [W W^T]^{(N-1)/N} G
    result += (U * top) @ (U.T @ G - core @ Vt)
    return result


def end_to_end_update(
    W_e: ArrayLike,
    grad_e: ArrayLike,
    depth: int,
    lr: float,
    weight_decay: float = 0.0,
) -> FloatArray:
    r"""One step of the end-to-end update rule (eq. (10) of the paper, Theorem 1).

    ``W_e <- (1 - eta lambda N) W_e
    - eta sum_{j=1}^N [W_e W_e^T]^{(j-1)/N} G [W_e^T W_e]^{(N-j)/N}``

    It is what gradient descent on balanced factors ``W_1, ..., W_N`` does to
    ``W_e = W_N ... W_1``, up to ``O(eta^2)``.  The sum is computed from one
    thin SVD of ``W_e`` (cost ``O(k d min(k, d))``), never forming the
    ``kd x kd`` preconditioner.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
        Current end-to-end matrix.
    grad_e : array_like, shape (k, d)
        ``G = nabla L^1(W_e)``.
    depth : int
        ``N >= 1``; ``depth == 1`` is plain gradient descent.
    lr : float
        ``eta > 0``.
    weight_decay : float, default 0
        ``lambda >= 0`` (weight decay on every factor becomes ``lambda N`` here).

    Returns
    -------
    ndarray, shape (k, d)

    Examples
    --------
    For ``W_e = [[4, 0]]`` and ``N = 2`` the preconditioner is ``diag(8, 4)``:

    >>> end_to_end_update(np.array([[4.0, 0.0]]), np.array([[1.0, 1.0]]), depth=2, lr=0.1)
    array([[ 3.2, -0.4]])
    """
    W = as_matrix("W_e", W_e)
    G = as_matrix("grad_e", grad_e)
    same_shape("grad_e", G, W.shape, "W_e")
    N = as_depth(depth)
    eta = as_lr(lr)
    decay = as_weight_decay(weight_decay)
    return (1.0 - eta * decay * N) * W - eta * _preconditioned_gradient(W, G, N)


def single_output_update(
    w: ArrayLike,
    grad: ArrayLike,
    depth: int,
    lr: float,
    weight_decay: float = 0.0,
) -> FloatArray:
    r"""The end-to-end update for a single output (Theorem 2 of the paper).

    ``w <- (1 - eta lambda N) w - eta ||w||^{2-2/N} (g + (N-1) Pr_w(g))``,
    where ``Pr_w(g) = (w.g / ||w||^2) w`` projects onto the direction of ``w``
    (``Pr_0 = 0``).  Read it as an adaptive learning rate ``eta ||w||^{2-2/N}``
    plus a momentum-like push ``(N-1) Pr_w`` along the direction already
    travelled.  It equals :func:`end_to_end_update` applied to ``w[None, :]``.

    Parameters
    ----------
    w : array_like, shape (d,)
        The end-to-end weight vector (``W_e`` with one row).
    grad : array_like, shape (d,)
        ``g = nabla L^1(w)``.
    depth : int
        ``N >= 1``.
    lr : float
        ``eta > 0``.
    weight_decay : float, default 0
        ``lambda >= 0``.

    Returns
    -------
    ndarray, shape (d,)

    Examples
    --------
    >>> single_output_update(np.array([4.0, 0.0]), np.array([1.0, 1.0]), depth=2, lr=0.1)
    array([ 3.2, -0.4])
    """
    vec_w = as_finite_array("w", w, 1)
    g = as_finite_array("grad", grad, 1)
    same_shape("grad", g, vec_w.shape, "w")
    N = as_depth(depth)
    eta = as_lr(lr)
    decay = as_weight_decay(weight_decay)
    sq_norm = float(vec_w @ vec_w)
    along = (vec_w @ g) / sq_norm * vec_w if sq_norm > 0 else np.zeros_like(vec_w)
    rate = sq_norm ** (1.0 - 1.0 / N)  # ||w||^{2-2/N}, with 0^0 = 1 for N = 1
    return (1.0 - eta * decay * N) * vec_w - eta * rate * (g + (N - 1) * along)
