r"""Is the end-to-end dynamics gradient descent on anything?  (Section 5 of the paper.)

The end-to-end update rule (Theorem 1; for a single output the form of §4.2,
Claim 2) moves ``w`` along ``-eta F(w)`` with

.. math::

   F(w) = \|w\|_2^{2-\frac{2}{N}}
          \Big(\nabla L(w) + (N-1)\,\Pr_w\big(\nabla L(w)\big)\Big),
   \qquad \Pr_w(g) = \frac{\langle w, g\rangle}{\|w\|_2^2}\, w .

If ``F`` were the gradient of a function ``L + R``, the rule would be plain
gradient descent with a regulariser ``R``.  Theorem 2 of the paper shows it is
not (single output, ``d >= 2``, ``N > 2``, ``nabla L(0) != 0``), by a closed
curve around which ``F`` has a non-zero line integral.  This module gives the
tools to look: the field itself (:func:`end_to_end_field`), its line integral
around the boundary of an annular sector (:func:`sector_loop_integral`) and its
curl in a 2-D plane (:func:`curl_2d`), and its Jacobian (:func:`linnet.field_jacobian`).
A gradient field has zero loop integral and zero curl on every loop and every
plane, and a symmetric Jacobian.  Beyond the paper, for a constant gradient ``G``:
the asymmetry of the Jacobian as a linear map of ``G``
(:func:`jacobian_asymmetry_map`), and the depth-2 potential
``<G, W> ||W||_*`` with its gradient (:func:`nuclear_norm_potential`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_depth, as_finite_array, as_int, as_real, same_shape
from .linalg import zero_tolerance
from .update import _preconditioned_gradient

__all__ = [
    "curl_2d",
    "end_to_end_field",
    "field_jacobian",
    "jacobian_asymmetry_map",
    "nuclear_norm_potential",
    "sector_loop_integral",
]

Field = Callable[[FloatArray], FloatArray]

#: How far from orthonormal the plane's ``u``, ``v`` may be (round-off of a QR or a
#: normalisation is ~1e-16; anything beyond 1e-8 is a mistake, not round-off).
ORTHONORMAL_TOL = 1e-8


def end_to_end_field(grad_fn: Callable[[FloatArray], ArrayLike], depth: int) -> Field:
    r"""The direction field ``F`` of the end-to-end update rule, as a function of ``w``.

    For a point ``w`` of shape ``(d,)`` (single output, §4.2 of the paper)

    .. math::

       F(w) = \|w\|^{2-\frac{2}{N}}\big(g + (N-1)\Pr_w(g)\big),
       \qquad g = \nabla L(w),

    and for a ``(k, d)`` matrix ``W`` (Theorem 1, §4.1) the matrix field

    .. math::

       F(W) = \sum_{j=1}^{N} [W W^\top]^{\frac{j-1}{N}}\, G\,
              [W^\top W]^{\frac{N-j}{N}}, \qquad G = \nabla L(W),

    so that the rule reads :math:`W \leftarrow W - \eta F(W)` (no weight decay: weight
    decay adds :math:`\eta \lambda N W`, itself a gradient, and cannot change whether
    :math:`F` is one).  A vector ``w`` is treated as the :math:`1 \times d` matrix, so both
    cases are one formula, the one :func:`linnet.end_to_end_update` uses.
    :math:`F(0) = 0` for :math:`N \ge 2`; for :math:`N = 1`, :math:`F = \nabla L`.

    Parameters
    ----------
    grad_fn : callable
        ``grad_fn(w)`` returns :math:`\nabla L(w)`, an array of the shape of ``w``.
    depth : int
        ``N >= 1``.

    Returns
    -------
    callable
        ``field(w)`` for ``w`` of shape ``(d,)`` or ``(k, d)``, returning an
        array of the same shape.  It raises ``ValueError`` on a non-finite
        ``w`` or when ``grad_fn`` returns a wrong shape or non-finite values.

    Examples
    --------
    A constant gradient :math:`g = (1, 0)` at :math:`w = (0, 2)`, depth 3:
    :math:`\mathrm{Pr}_w g = 0`, so :math:`F = 2^{4/3} g`.

    >>> F = end_to_end_field(lambda w: np.array([1.0, 0.0]), depth=3)
    >>> F(np.array([0.0, 2.0]))
    array([2.5198421, 0.       ])
    """
    if not callable(grad_fn):
        raise TypeError(f"grad_fn must be callable (w -> nabla L(w)), got {type(grad_fn).__name__}")
    N = as_depth(depth)

    def field(w: ArrayLike) -> FloatArray:
        point = as_finite_array("w", w, (1, 2))
        g = as_finite_array("grad_fn(w)", grad_fn(point.copy()), (1, 2))
        same_shape("grad_fn(w)", g, point.shape, "w")
        if point.ndim == 1:
            return _preconditioned_gradient(point[None, :], g[None, :], N)[0]
        return _preconditioned_gradient(point, g, N)

    field.__doc__ = f"The end-to-end field F of depth N = {N} (see linnet.end_to_end_field)."
    return field


def _plane(
    shape: tuple[int, ...] | None,
    u: ArrayLike | None,
    v: ArrayLike | None,
    center: ArrayLike | None,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Validated ``(center, u, v)`` of one shape, ``u`` and ``v`` orthonormal."""
    given = {
        name: as_finite_array(name, value, (1, 2))
        for name, value in (("center", center), ("u", u), ("v", v))
        if value is not None
    }
    if shape is None:
        shape = next(iter(given.values())).shape if given else (2,)
    for name, value in given.items():
        same_shape(name, value, shape, "the points")
    size = int(np.prod(shape))
    if (u is None or v is None) and size < 2:
        raise ValueError(f"the plane needs at least 2 coordinates, got points of shape {shape}")
    eye = np.eye(size)
    c = given.get("center", np.zeros(shape))
    e_u = given.get("u", eye[0].reshape(shape))
    e_v = given.get("v", eye[1].reshape(shape))
    gram = np.array([[np.vdot(a, b) for b in (e_u, e_v)] for a in (e_u, e_v)])
    if not np.allclose(gram, np.eye(2), rtol=0.0, atol=ORTHONORMAL_TOL):
        raise ValueError(
            "u and v must be orthonormal (<u,u> = <v,v> = 1, <u,v> = 0), got the Gram "
            f"matrix {gram.round(6).tolist()}"
        )
    return c, e_u, e_v


def _evaluate(field: Field, point: FloatArray) -> FloatArray:
    value = as_finite_array("field(w)", field(point), point.ndim)
    same_shape("field(w)", value, point.shape, "w")
    return value


def sector_loop_integral(
    field: Field,
    r1: float,
    r2: float,
    theta1: float,
    theta2: float,
    u: ArrayLike | None = None,
    v: ArrayLike | None = None,
    center: ArrayLike | None = None,
    order: int = 64,
) -> float:
    r"""Line integral of ``field`` counter-clockwise around an annular sector's boundary.

    The sector is :math:`\{c + \rho (\cos\theta\, u + \sin\theta\, v) :
    r_1 \le \rho \le r_2,\ \theta_1 \le \theta \le \theta_2\}` in the plane through
    :math:`c` = ``center`` spanned by the orthonormal ``u``, ``v``.  Its boundary is the
    closed curve of the proof of Theorem 2 (§5 of the paper): the outer arc
    (:math:`\rho = r_2`, :math:`\theta_1 \to \theta_2`), the radial leg in
    (:math:`\theta = \theta_2`), the inner arc backwards (:math:`\rho = r_1`) and the
    radial leg out (:math:`\theta = \theta_1`),

    .. math::

       \oint F \cdot dW
       &= \int_{\theta_1}^{\theta_2} \langle F, r_2\, e_\theta\rangle\, d\theta
       - \int_{r_1}^{r_2} \langle F, e_\rho(\theta_2)\rangle\, d\rho \\
       &\quad - \int_{\theta_1}^{\theta_2} \langle F, r_1\, e_\theta\rangle\, d\theta
       + \int_{r_1}^{r_2} \langle F, e_\rho(\theta_1)\rangle\, d\rho,

    with :math:`e_\rho = \cos\theta\, u + \sin\theta\, v` and
    :math:`e_\theta = -\sin\theta\, u + \cos\theta\, v`; each piece by Gauss-Legendre
    quadrature with ``order`` nodes (exact for polynomial integrands of degree
    :math:`< 2 \cdot` ``order``).  By the fundamental theorem of line integrals the result is
    0 whenever ``field`` is the gradient of a :math:`C^1` function near the
    curve.  Points may be vectors or matrices (:math:`\langle\cdot,\cdot\rangle` is then the
    Frobenius
    inner product); by default ``center = 0`` and ``u``, ``v`` are the first
    two coordinates (``e_1``, ``e_2`` of the flattened point).

    Parameters
    ----------
    field : callable
        ``field(w)`` returns an array of the shape of ``w``, e.g. from
        :func:`end_to_end_field`.
    r1, r2 : float
        Radii, ``0 <= r1 < r2``.
    theta1, theta2 : float
        Angles in radians, :math:`\theta_1 < \theta_2 \le \theta_1 + 2\pi`.
    u, v : array_like, optional
        Orthonormal directions spanning the plane; shape of the points.
    center : array_like, optional
        The centre of the sector (default 0); shape of the points.  Without
        ``center``, ``u`` or ``v`` the points are 2-D vectors.
    order : int, default 64
        Gauss-Legendre nodes per piece (``>= 1``).

    Returns
    -------
    float

    Examples
    --------
    A rotation field ``F(x, y) = (-y, x)`` has curl 2, so the integral is
    twice the sector's area, here a quarter of the unit disc:

    >>> rotation = lambda w: np.array([-w[1], w[0]])
    >>> round(sector_loop_integral(rotation, 0.0, 1.0, 0.0, np.pi / 2), 12)
    1.570796326795
    """
    if not callable(field):
        raise TypeError(f"field must be callable (w -> F(w)), got {type(field).__name__}")
    a, b = as_real("r1", r1), as_real("r2", r2)
    if not 0.0 <= a < b:
        raise ValueError(f"radii must satisfy 0 <= r1 < r2, got r1 = {r1}, r2 = {r2}")
    t1, t2 = as_real("theta1", theta1), as_real("theta2", theta2)
    if not t1 < t2 <= t1 + 2 * np.pi * (1 + 1e-12):
        raise ValueError(
            f"angles must satisfy theta1 < theta2 <= theta1 + 2 pi, got {theta1}, {theta2}"
        )
    n = as_int("order", order, 1)
    c, e_u, e_v = _plane(None, u, v, center)
    nodes, weights = np.polynomial.legendre.leggauss(n)

    def e_rho(t: float) -> FloatArray:
        return np.cos(t) * e_u + np.sin(t) * e_v

    def e_theta(t: float) -> FloatArray:
        return -np.sin(t) * e_u + np.cos(t) * e_v

    def arc(rho: float) -> float:
        if rho == 0.0:
            return 0.0
        ts = 0.5 * (t2 - t1) * nodes + 0.5 * (t1 + t2)
        vals = [np.vdot(_evaluate(field, c + rho * e_rho(t)), rho * e_theta(t)) for t in ts]
        return 0.5 * (t2 - t1) * float(weights @ np.array(vals))

    def leg(t: float) -> float:
        rhos = 0.5 * (b - a) * nodes + 0.5 * (a + b)
        direction = e_rho(t)
        vals = [np.vdot(_evaluate(field, c + rho * direction), direction) for rho in rhos]
        return 0.5 * (b - a) * float(weights @ np.array(vals))

    return arc(b) - leg(t2) - arc(a) + leg(t1)


def curl_2d(
    field: Field,
    w: ArrayLike,
    u: ArrayLike | None = None,
    v: ArrayLike | None = None,
    h: float = 1e-5,
) -> float:
    r"""The curl of ``field`` at ``w`` within the plane ``w + span(u, v)``.

    With ``F_u = <F, u>`` and ``F_v = <F, v>`` as functions of the plane's
    coordinates ``(s, t)`` (``W = w + s u + t v``), the curl is

    .. math::

       \operatorname{curl} F
       = \frac{\partial F_v}{\partial s} - \frac{\partial F_u}{\partial t},

    here by central differences with step :math:`h` (error :math:`O(h^2)` for a smooth
    field, plus round-off :math:`\sim \varepsilon |F| / h`).  It is ``0`` for a gradient field
    (equality of mixed partials), and by Green's theorem its integral over a
    region is :func:`sector_loop_integral` around it.

    Parameters
    ----------
    field : callable
        ``field(w)`` returns an array of the shape of ``w``.
    w : array_like, shape (d,) or (k, d)
        The point.
    u, v : array_like, optional
        Orthonormal directions of the shape of ``w`` (default the first two
        coordinates of the flattened ``w``).
    h : float, default 1e-5
        Finite-difference step, ``> 0``.

    Returns
    -------
    float

    Examples
    --------
    >>> rotation = lambda w: np.array([-w[1], w[0]])
    >>> round(curl_2d(rotation, np.array([0.3, -0.2])), 8)
    2.0
    """
    if not callable(field):
        raise TypeError(f"field must be callable (w -> F(w)), got {type(field).__name__}")
    point = as_finite_array("w", w, (1, 2))
    step = as_real("h", h)
    if step <= 0:
        raise ValueError(f"h (the finite-difference step) must be > 0, got {h}")
    _, e_u, e_v = _plane(point.shape, u, v, None)
    d_fv = np.vdot(_evaluate(field, point + step * e_u) - _evaluate(field, point - step * e_u), e_v)
    d_fu = np.vdot(_evaluate(field, point + step * e_v) - _evaluate(field, point - step * e_v), e_u)
    return float((d_fv - d_fu) / (2 * step))


def field_jacobian(field: Field, w: ArrayLike, h: float = 1e-5) -> FloatArray:
    r"""The Jacobian of ``field`` at ``w`` by central differences, on the flattened entries.

    ``J[a, b]`` approximates :math:`\partial F_a / \partial w_b`, with ``a`` and ``b``
    indexing the entries of ``w`` in row-major order (``w`` may be a vector or a
    matrix), error :math:`O(h^2)` plus round-off :math:`\sim \varepsilon |F| / h`.  A
    :math:`C^1` gradient field has a symmetric Jacobian; an antisymmetric part
    :math:`J - J^\top` beyond that error shows that ``field`` is not a gradient near
    ``w``.  Its entry ``(a, b)`` is minus :func:`curl_2d` in the plane of the
    coordinates ``a``, ``b``.  The book uses it for its multi-output extension of
    Theorem 2 (§5 of the paper); the exact twin is :func:`linnet.symbolic.field_jacobian_asymmetry`.

    Parameters
    ----------
    field : callable
        ``field(w)`` returns an array of the shape of ``w``.
    w : array_like, shape (d,) or (k, d)
        The point.
    h : float, default 1e-5
        Finite-difference step, ``> 0``.

    Returns
    -------
    ndarray, shape (w.size, w.size)

    Examples
    --------
    The gradient of :math:`x^2 y` has the symmetric Hessian as its Jacobian:

    >>> grad = lambda w: np.array([2 * w[0] * w[1], w[0] ** 2])
    >>> field_jacobian(grad, np.array([1.0, 2.0])).round(6)
    array([[4., 2.],
           [2., 0.]])
    """
    if not callable(field):
        raise TypeError(f"field must be callable (w -> F(w)), got {type(field).__name__}")
    point = as_finite_array("w", w, (1, 2))
    step = as_real("h", h)
    if step <= 0:
        raise ValueError(f"h (the finite-difference step) must be > 0, got {h}")
    basis = np.eye(point.size)
    columns = []
    for e in basis:
        shift = step * e.reshape(point.shape)
        diff = _evaluate(field, point + shift) - _evaluate(field, point - shift)
        columns.append(diff.ravel() / (2 * step))
    return np.array(columns).T


def jacobian_asymmetry_map(W: ArrayLike, depth: int, h: float = 1e-5) -> FloatArray:
    r"""The linear map :math:`G \mapsto J_G - J_G^\top` at ``W``, as a matrix (central differences).

    :math:`J_G` is the Jacobian (:func:`linnet.field_jacobian`) at ``W`` of the end-to-end field
    :math:`F_G(W) = \sum_{j=1}^{N} [W W^\top]^{\frac{j-1}{N}} G\, [W^\top W]^{\frac{N-j}{N}}`
    of a *constant* gradient :math:`G` (Theorem 1, §4.1 of the paper).  :math:`F_G` is
    linear in :math:`G`, so :math:`J_G - J_G^\top` is too: column :math:`i` of the result
    is the flattened (row-major) :math:`J_{E_i} - J_{E_i}^\top` for the :math:`i`-th unit
    matrix :math:`E_i` (row-major), and ``M @ G.ravel()`` is the flattened
    :math:`J_G - J_G^\top`.  A :math:`G` in the kernel has a symmetric Jacobian at ``W``,
    as a gradient field must; a :math:`G` outside it is certified non-conservative near
    ``W`` (up to the differences' error, :math:`O(h^2)` plus round-off
    :math:`\sim \varepsilon |F| / h`).
    Stacking the maps of several points (``np.vstack``) gives the :math:`G` whose
    Jacobian is symmetric at all of them.  The book uses it for its multi-output
    extension of Theorem 2 (§5 of the paper); the exact twin is
    :func:`linnet.symbolic.field_jacobian_asymmetry` with a symbolic :math:`G`.

    Parameters
    ----------
    W : array_like, shape (k, d)
        The point, an end-to-end matrix.
    depth : int
        ``N >= 1``.
    h : float, default 1e-5
        Finite-difference step, ``> 0``.

    Returns
    -------
    ndarray, shape ((k d)^2, k d)

    Examples
    --------
    At depth 2 and :math:`W = \mathrm{diag}(2, 1)` the map has rank 1, and the symmetric
    traceless :math:`G = \mathrm{diag}(1, -1)` is in its kernel:

    >>> M = jacobian_asymmetry_map(np.diag([2.0, 1.0]), depth=2)
    >>> M.shape, int(np.linalg.matrix_rank(M, tol=1e-6))
    ((16, 4), 1)
    >>> bool(np.abs(M @ np.array([1.0, 0.0, 0.0, -1.0])).max() < 1e-8)
    True
    """
    point = as_finite_array("W", W, 2)
    N = as_depth(depth)
    columns = []
    for unit in np.eye(point.size):
        G = unit.reshape(point.shape)
        J = field_jacobian(end_to_end_field(lambda _, G=G: G, N), point, h)
        columns.append((J - J.T).ravel())
    return np.array(columns).T


def nuclear_norm_potential(W: ArrayLike, G: ArrayLike) -> tuple[float, FloatArray]:
    r"""The potential :math:`\Phi_G(W) = \langle G, W\rangle \|W\|_*` and its gradient.

    With the nuclear norm :math:`\|W\|_* = \sum_r \sigma_r` and the thin SVD
    :math:`W = U \Sigma V^\top`,

    .. math::

       \nabla \Phi_G(W) = \|W\|_*\, G + \langle G, W\rangle\, U V^\top ,

    since the gradient of :math:`\|W\|_*` at a matrix of full rank :math:`\min(k, d)` is
    its polar factor :math:`U V^\top` (the nuclear norm is not differentiable at a
    rank-deficient matrix, which raises ``ValueError``).  For one row, :math:`\Phi_G` is
    :math:`\|w\| \langle w, g\rangle`, whose gradient is the depth-2 single-output field
    of a constant gradient (the field of Theorem 2, §5 of the paper).  For
    :math:`2 \times 2` matrices the book proves (chapter 8, beyond the paper) that the
    depth-2 field of a constant :math:`G` equals :math:`\nabla \Phi_G` on
    :math:`\det W > 0` when :math:`G` is symmetric and traceless, and on
    :math:`\det W < 0` when :math:`G` is a multiple of the identity plus an antisymmetric
    matrix.  The exact twin is :func:`linnet.symbolic.nuclear_norm_potential_2x2`.

    Parameters
    ----------
    W : array_like, shape (k, d)
        The point, of full rank.
    G : array_like, shape (k, d)
        The constant gradient.

    Returns
    -------
    value : float
    gradient : ndarray, shape (k, d)

    Examples
    --------
    At :math:`W = \mathrm{diag}(2, 1)` with :math:`G = \mathrm{diag}(1, -1)` the value is
    :math:`1 \cdot 3`; the gradient is :math:`3G + U V^\top = 3G + I`:

    >>> value, grad = nuclear_norm_potential(np.diag([2.0, 1.0]), np.diag([1.0, -1.0]))
    >>> value, grad
    (3.0, array([[ 4.,  0.],
           [ 0., -2.]]))
    """
    point = as_finite_array("W", W, 2)
    g = as_finite_array("G", G, 2)
    same_shape("G", g, point.shape, "W")
    U, s, Vt = np.linalg.svd(point, full_matrices=False)
    if s[-1] <= zero_tolerance(s, max(point.shape)):
        raise ValueError(
            "the nuclear norm is not differentiable at a rank-deficient W "
            f"(singular values {s.tolist()})"
        )
    nuclear = float(s.sum())
    inner = float(np.vdot(g, point))
    return inner * nuclear, nuclear * g + inner * (U @ Vt)
