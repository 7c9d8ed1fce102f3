r"""The end-to-end update rule and its preconditioner (§4 of the paper).

Under balanced initialisation, gradient descent on :math:`W_1, \dots, W_N` moves
the end-to-end matrix by the *end-to-end update rule* (the discrete form of
Theorem 1, §4.1 of the paper)

.. math::

   W_e \leftarrow (1 - \eta\lambda N) W_e
       - \eta \sum_{j=1}^{N} [W_e W_e^\top]^{\frac{j-1}{N}} \, G \,
         [W_e^\top W_e]^{\frac{N-j}{N}},
   \qquad G = \nabla L^1(W_e),

i.e. :math:`\operatorname{vec}(W_e) \leftarrow (1 - \eta\lambda N) \operatorname{vec}(W_e)
- \eta P_{W_e} \operatorname{vec}(G)` with the preconditioner :math:`P_{W_e}` of
Claim 1 (§4.1).  For a single output it becomes the rule of Claim 2 (§4.2),
:func:`single_output_update`.  :func:`end_to_end_update` computes the rule from
one thin SVD of :math:`W_e`; :func:`preconditioner` builds :math:`P_{W_e}`
itself (:math:`kd \times kd`, from one full SVD), for teaching and testing only.
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
from .linalg import snap_zeros
from .single_output import project_along

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
    """``sum_j s_left[r]^{2(N-j)/N} s_right[r']^{2(j-1)/N}`` on the grid, ``0^0 = 1``.

    Also for stacks: ``s_left (..., a)`` and ``s_right (..., b)`` give ``(..., a, b)``.
    """
    left, right = s_left[..., :, None], s_right[..., None, :]
    total = np.zeros(np.broadcast_shapes(left.shape, right.shape))
    for j in range(1, depth + 1):
        total += left ** (2 * (depth - j) / depth) * right ** (2 * (j - 1) / depth)
    return total


def preconditioner_eigenvalues(W_e: ArrayLike, depth: int) -> FloatArray:
    r"""Eigenvalues of the preconditioner :math:`P_{W_e}` (Claim 1, §4.1 of the paper).

    With singular values :math:`\sigma_1 \ge \sigma_2 \ge \dots` of :math:`W_e`
    (padded with zeros to length :math:`k` for rows and :math:`d` for columns,
    i.e. the singular vectors completed to orthonormal bases
    :math:`\{u_r\}_{r \le k}` and :math:`\{v_{r'}\}_{r' \le d}`), the eigenvalue
    belonging to the eigenvector :math:`v_{r'} \otimes u_r` is

    .. math::

       \nu_{r, r'} = \sum_{j=1}^{N} \sigma_r^{2(N-j)/N} \, \sigma_{r'}^{2(j-1)/N},
       \qquad 0^0 = 1

    (written :math:`\nu` as in the book's chapters 3 and 4, since :math:`\lambda` is
    the weight decay of :func:`end_to_end_update`).

    For :math:`N = 1` every eigenvalue is 1 (plain gradient descent); for
    :math:`N \ge 2` and :math:`r = r'` it is :math:`N \sigma_r^{2-2/N}`, so
    directions in which :math:`W_e` is already large move faster, and it is
    zero exactly when :math:`\sigma_r = \sigma_{r'} = 0`: :math:`P_{W_e}` is
    singular iff :math:`W_e` is rank-deficient.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
    depth : int
        :math:`N \ge 1`.

    Returns
    -------
    ndarray, shape (k, d)
        :math:`\nu_{r, r'}` at row :math:`r`, column :math:`r'`.

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
    r"""The :math:`kd \times kd` preconditioner :math:`P_{W_e}` of Claim 1 (§4.1 of the paper).

    .. math::

       P_{W_e} = \sum_{j=1}^{N} [W_e^\top W_e]^{\frac{N-j}{N}}
                 \otimes [W_e W_e^\top]^{\frac{j-1}{N}},

    with :math:`\otimes` the Kronecker product, so that the end-to-end update
    reads :math:`\operatorname{vec}(W_e) \leftarrow (1 - \eta\lambda N)
    \operatorname{vec}(W_e) - \eta P_{W_e} \operatorname{vec}(G)` with
    column-major :math:`\operatorname{vec}`
    (:math:`\operatorname{vec}(A G B) = (B^\top \otimes A) \operatorname{vec}(G)`).

    Built from one full SVD :math:`W_e = U \Sigma V^\top` (the eigenbasis
    :math:`v_{r'} \otimes u_r` of §4.1, after Claim 1) as
    :math:`P_{W_e} = (V \otimes U) \operatorname{diag}(\operatorname{vec} \nu)
    (V \otimes U)^\top` with the :math:`k \times d` eigenvalues :math:`\nu_{r, r'}` of
    :func:`preconditioner_eigenvalues`, so it uses the same singular values, and
    the same round-off threshold on them, as :func:`end_to_end_update`.  (Powers
    of the Gram matrices :math:`W_e^\top W_e` would square the singular values
    first and lose every :math:`\sigma < 10^{-7}\sigma_1`.)  Use it to study
    :math:`P_{W_e}`, not to train.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
    depth : int
        :math:`N \ge 1`.

    Returns
    -------
    ndarray, shape (k*d, k*d)
        Symmetric positive semi-definite.  In exact arithmetic it is positive
        definite iff :math:`N = 1` or :math:`W_e` has full rank.  In floating
        point, singular values :math:`\le` ``zero_tolerance(s, max(k, d))``
        (:math:`10 \max(k, d)\, \varepsilon\, \sigma_1`, see
        :func:`linnet.linalg.zero_tolerance`) count as exactly zero: for
        :math:`N \ge 2` the computed :math:`P_{W_e}` is singular iff
        :math:`W_e` has a singular value at or below that threshold.

    Notes
    -----
    Accuracy, measured against :math:`P_{W_e}` evaluated from its definition with
    mpmath at 60 digits (``tests/test_update.py``, for :math:`kd \le 12` and
    :math:`N \le 4`): the returned matrix is within :math:`7 \varepsilon \|P_{W_e}\|`
    in the 2-norm when the singular values of :math:`W_e` are comparable.  A
    singular value far below :math:`\sigma_1` is computed only to about
    :math:`\varepsilon \sigma_1` (all a backward-stable SVD guarantees), an error that
    :math:`\sigma^{2/N}` amplifies: :math:`49 \varepsilon \|P_{W_e}\|` at
    :math:`\sigma = (1, 0.5, 10^{-9})`, :math:`N = 4`.  By Weyl's inequality every
    eigenvalue of the returned matrix is right to that absolute error, so an
    eigenvalue :math:`\nu \ll \|P_{W_e}\|` is guaranteed only to a relative
    :math:`\varepsilon \|P_{W_e}\| / \nu` or so, and a backward-stable eigensolver
    adds an error of that size even to the exact matrix rounded to float64.  At
    :math:`\sigma = (1, 0.5, 10^{-9})`, :math:`N = 3`, the smallest eigenvalue is
    :math:`3 \cdot 10^{-12}` (:math:`\varepsilon \|P_{W_e}\| / \nu = 2 \cdot 10^{-4}`):
    its relative error is :math:`1 \cdot 10^{-5}` in the returned matrix and
    :math:`1 \cdot 10^{-4}` after ``numpy.linalg.eigvalsh`` (for the exact matrix
    rounded to float64: :math:`2 \cdot 10^{-6}` and :math:`1 \cdot 10^{-4}`).  For the
    spectrum use :func:`preconditioner_eigenvalues`, whose error there is
    :math:`4 \cdot 10^{-9}` (that of the SVD's :math:`\sigma_3`).

    Examples
    --------
    >>> preconditioner(np.array([[4.0, 0.0]]), depth=2)
    array([[8., 0.],
           [0., 4.]])

    A singular value far below the largest one is kept
    (:math:`\nu(10^{-8}, 10^{-8}) = 2 \cdot 10^{-8}` at :math:`N = 2`):

    >>> float(np.linalg.eigvalsh(preconditioner(np.diag([1.0, 1e-8]), 2)).min())
    2e-08
    """
    W = as_matrix("W_e", W_e)
    N = as_depth(depth)
    k, d = W.shape
    U, s, Vt = np.linalg.svd(W)  # full: U (k, k), Vt (d, d)
    s = snap_zeros(s, max(k, d))
    s_left, s_right = np.zeros(k), np.zeros(d)
    s_left[: s.size], s_right[: s.size] = s, s
    basis = np.kron(Vt.T, U)  # column r + k r' is vec(u_r v_r'^T)
    eigenvalues = _eigen_grid(s_left, s_right, N).ravel(order="F")
    P: FloatArray = (basis * eigenvalues) @ basis.T
    return (P + P.T) / 2.0


def _preconditioned_gradient(W: FloatArray, G: FloatArray, N: int) -> FloatArray:
    """``sum_j [W W^T]^{(j-1)/N} G [W^T W]^{(N-j)/N}`` from one thin SVD of ``W``.

    Split ``G`` by the projections onto the column space ``U`` and row space
    ``V`` of the thin SVD.  Inside both spaces the sum is a Hadamard product
    with the eigenvalue grid; in a complement only the ``j`` whose power there
    is ``0`` survives (``[.]^0 = I``).  ``W`` and ``G`` may also be stacks
    ``(B, k, d)`` (the batched experiment engine uses this).
    """
    if N == 1:
        return G
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    s = snap_zeros(s, max(W.shape[-2:]))
    Ut, V = np.swapaxes(U, -1, -2), np.swapaxes(Vt, -1, -2)
    G_V = G @ V  # (k, q)
    core = Ut @ G_V  # (q, q)
    top = (s ** (2 * (N - 1) / N))[..., None, :]  # the power on both complements (j = 1, N)
    result = U @ (_eigen_grid(s, s, N) * core) @ Vt
    # left complement (outside col(U)): only j = 1, i.e. G [W^T W]^{(N-1)/N}
    result += ((G_V - U @ core) * top) @ Vt
    # right complement (outside row(V)): only j = N, i.e. [W W^T]^{(N-1)/N} G
    result += (U * top) @ (Ut @ G - core @ Vt)
    return result


def end_to_end_update(
    W_e: ArrayLike,
    grad_e: ArrayLike,
    depth: int,
    lr: float,
    weight_decay: float = 0.0,
) -> FloatArray:
    r"""One step of the end-to-end update rule (Theorem 1, §4.1 of the paper).

    .. math::

       W_e \leftarrow (1 - \eta\lambda N) W_e
         - \eta \sum_{j=1}^{N} [W_e W_e^\top]^{\frac{j-1}{N}} \, G \,
           [W_e^\top W_e]^{\frac{N-j}{N}}

    It is what gradient descent on balanced factors :math:`W_1, \dots, W_N`
    does to :math:`W_e = W_N \cdots W_1`, up to :math:`O(\eta^2)` per step.  The
    sum is computed from one thin SVD of :math:`W_e` (cost
    :math:`O(k d \min(k, d))`), never forming the :math:`kd \times kd`
    preconditioner.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
        Current end-to-end matrix.
    grad_e : array_like, shape (k, d)
        :math:`G = \nabla L^1(W_e)`.
    depth : int
        :math:`N \ge 1`; ``depth == 1`` is plain gradient descent.
    lr : float
        :math:`\eta > 0`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0` (weight decay on every factor becomes
        :math:`\lambda N` here).

    Returns
    -------
    ndarray, shape (k, d)

    Examples
    --------
    For :math:`W_e = (4 \;\; 0)` and :math:`N = 2` the preconditioner is
    :math:`\operatorname{diag}(8, 4)`:

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
    r"""The end-to-end update for a single output (Claim 2, §4.2 of the paper).

    .. math::

       w \leftarrow (1 - \eta\lambda N) w
         - \eta \|w\|^{2-\frac{2}{N}} \big(g + (N-1) \Pr_w(g)\big),
       \qquad \Pr_w(g) = \frac{\langle w, g \rangle}{\|w\|^2} \, w,

    where :math:`\Pr_w` projects onto the direction of :math:`w`
    (:math:`\Pr_0 = 0`).  Read it as an adaptive learning rate
    :math:`\eta \|w\|^{2-2/N}` plus a momentum-like push :math:`(N-1) \Pr_w`
    along the direction already travelled.  It equals :func:`end_to_end_update`
    applied to ``w[None, :]``.

    Parameters
    ----------
    w : array_like, shape (d,)
        The end-to-end weight vector (``W_e`` with one row).
    grad : array_like, shape (d,)
        :math:`g = \nabla L^1(w)`.
    depth : int
        :math:`N \ge 1`.
    lr : float
        :math:`\eta > 0`.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`.

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
    rate = float(vec_w @ vec_w) ** (1.0 - 1.0 / N)  # ||w||^{2-2/N}, with 0^0 = 1 for N = 1
    along = project_along(vec_w, g)  # Pr_w(g), with Pr_0 = 0
    return (1.0 - eta * decay * N) * vec_w - eta * rate * (g + (N - 1) * along)
