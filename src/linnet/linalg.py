r"""Matrix powers used by the end-to-end update rule.

Theorem 1 of Arora, Cohen & Hazan (2018, §4.1) is written with fractional
powers :math:`[W_e W_e^\top]^{(j-1)/N}` and :math:`[W_e^\top W_e]^{(N-j)/N}`
of positive semi-definite (PSD) matrices.  :func:`psd_power` computes them from an
eigendecomposition, with two conventions the paper uses implicitly:

* :math:`A^0 = I` for every PSD :math:`A`, singular or not (so :math:`0^0 = 1`);
* eigenvalues that are zero up to round-off are treated as exactly zero, so
  that :math:`x \mapsto x^\alpha` (not Lipschitz at 0) does not amplify round-off.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_matrix, as_real

__all__ = ["psd_power", "snap_zeros", "zero_tolerance"]

#: How many machine epsilons (times the size and the largest magnitude) an
#: eigenvalue or singular value may be and still count as round-off of zero.
ROUND_OFF_FACTOR = 10.0


def zero_tolerance(values: FloatArray, size: int, axis: int | None = None) -> Any:
    """Largest magnitude that still counts as round-off of zero.

    ``ROUND_OFF_FACTOR * size * eps * max|values|``: the usual backward-error
    bound of a symmetric eigensolver or SVD (as in ``numpy.linalg.matrix_rank``,
    with a safety factor of 10).  A float; with ``axis``, the maximum is taken
    along that axis only and an array (dimensions kept) is returned, one
    tolerance per row of a stack.

    Examples
    --------
    >>> zero_tolerance(np.array([1.0, 1e-20]), 2) < 1e-13
    True
    """
    factor = ROUND_OFF_FACTOR * max(size, 1) * float(np.finfo(np.float64).eps)
    magnitudes = np.abs(np.asarray(values, dtype=np.float64))
    if axis is None:
        return factor * (float(np.max(magnitudes)) if magnitudes.size else 0.0)
    return factor * np.max(magnitudes, axis=axis, keepdims=True, initial=0.0)


def snap_zeros(values: FloatArray, size: int) -> FloatArray:
    """``values`` with every entry of magnitude ``<= zero_tolerance(values, size)`` set to 0.

    The one place where round-off of zero becomes exactly zero, for eigenvalues
    (:func:`linnet.psd_power`) and singular values (the end-to-end update, ranks).

    Examples
    --------
    >>> snap_zeros(np.array([2.0, 1e-17, -1e-17]), 3)
    array([2., 0., 0.])

    For a stack of arrays (``ndim > 1``) each row along the last axis gets its own
    tolerance:

    >>> snap_zeros(np.array([[2.0, 1e-17], [1e-20, 1e-30]]), 2)
    array([[2.e+00, 0.e+00],
           [1.e-20, 0.e+00]])
    """
    values = np.asarray(values, dtype=np.float64)
    tolerance = zero_tolerance(values, size, axis=-1 if values.ndim > 1 else None)
    return np.where(np.abs(values) <= tolerance, 0.0, values)


def psd_power(A: ArrayLike, alpha: Any) -> FloatArray:
    r"""Real power :math:`A^\alpha` of a symmetric positive semi-definite matrix.

    Used for the factors :math:`[W_e W_e^\top]^{(j-1)/N}` and
    :math:`[W_e^\top W_e]^{(N-j)/N}` of the end-to-end update rule (Theorem 1,
    §4.1 of the paper) and of the preconditioner :math:`P_{W_e}` of its
    Claim 1.  Computed as :math:`V \operatorname{diag}(\lambda^\alpha) V^\top`
    from ``numpy.linalg.eigh``.

    Parameters
    ----------
    A : array_like, shape (n, n)
        Symmetric PSD matrix (symmetric to ``1e-10`` relative; it is
        symmetrised before the eigendecomposition).
    alpha : float
        The exponent :math:`\alpha`.  :math:`\alpha = 0` returns the identity, also for
        singular ``A``.  A negative :math:`\alpha` needs ``A`` to be non-singular.

    Returns
    -------
    ndarray, shape (n, n)
        The symmetric PSD matrix :math:`A^\alpha`.

    Raises
    ------
    ValueError
        If ``A`` is not square, not symmetric, has an eigenvalue below
        ``-tolerance`` (not PSD), or is singular while :math:`\alpha < 0`.

    Notes
    -----
    Eigenvalues with :math:`|\lambda| \le 10\, n\, \varepsilon \max|\lambda|` are set to
    exactly zero before the power is taken (see :func:`linnet.linalg.zero_tolerance`).
    Applied to a Gram matrix :math:`W^\top W` this zeroes every singular value of
    :math:`W` below about :math:`\sqrt{10 n \varepsilon}\, \sigma_1 \approx
    10^{-7} \sigma_1` (the squares fall below the threshold), which is why
    :func:`linnet.preconditioner` and :func:`linnet.end_to_end_update` work from
    the SVD of :math:`W_e` instead.

    Examples
    --------
    >>> psd_power(np.diag([4.0, 9.0]), 0.5)
    array([[2., 0.],
           [0., 3.]])
    >>> psd_power(np.zeros((2, 2)), 0)
    array([[1., 0.],
           [0., 1.]])
    """
    mat = as_matrix("A", A)
    exponent = as_real("alpha", alpha)
    n, n_cols = mat.shape
    if n != n_cols:
        raise ValueError(f"A must be square, got shape {mat.shape}")
    if not np.allclose(mat, mat.T, rtol=1e-10, atol=1e-10 * float(np.max(np.abs(mat)))):
        raise ValueError("A must be symmetric (A == A.T up to 1e-10 relative)")
    if exponent == 0.0:
        return np.eye(n)
    eigvals, eigvecs = np.linalg.eigh((mat + mat.T) / 2.0)
    tol = zero_tolerance(eigvals, n)
    if np.any(eigvals < -tol):
        raise ValueError(
            f"A must be positive semi-definite, but it has eigenvalue {eigvals.min():.3g}"
        )
    eigvals = snap_zeros(eigvals, n)
    if exponent < 0 and np.any(eigvals == 0.0):
        raise ValueError(f"A is singular, so A^alpha is undefined for alpha = {exponent} < 0")
    powered: FloatArray = (eigvecs * eigvals**exponent) @ eigvecs.T
    return powered
