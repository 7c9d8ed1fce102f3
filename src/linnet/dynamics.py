r"""What the preconditioner does: its spectrum in closed form and singular-value dynamics.

Section 4.1 of the paper (Theorem 1, Claim 1) writes the end-to-end dynamics of a
balanced depth-``N`` linear network as a preconditioned gradient flow. This
module collects the closed forms that explain that preconditioner:

* :func:`pair_eigenvalue`: the eigenvalue of :math:`P_{W_e}` on the pair of
  singular directions :math:`(u_r, v_{r'})` as a function of the two singular values;
* :func:`singular_value_velocity`: how each singular value of ``W_e`` moves under
  the flow (Arora, Cohen, Hu & Luo 2019);
* :func:`aligned_mode_time`, :func:`aligned_mode_flow`, :func:`escape_time` and
  :func:`escape_time_leading`: the exact dynamics of one aligned mode of whitened
  ``l_2`` regression, ``d sigma / dt = N sigma^{2-2/N} (s - sigma)`` (Saxe,
  McClelland & Ganguli 2014), whose ``N = 2`` solution is the logistic curve;
* :func:`adagrad_step`: one coordinate-wise AdaGrad step, only to contrast with
  the rotation-equivariant preconditioner (not exported by :mod:`linnet`);
* :func:`neutral_singular_value`: the singular value at which depth neither
  slows nor speeds a singular direction (not exported by :mod:`linnet`).

Time is the training time ``tau = eta * t`` after ``t`` steps of learning rate
``eta`` (the book's chapter 4 writes ``tau``; the docstrings below write ``t``
for it where the formula is the paper's).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    FloatArray,
    as_depth,
    as_finite_array,
    as_lr,
    as_matrix,
    as_real,
    as_weight_decay,
    same_shape,
)
from .linalg import snap_zeros

__all__ = [
    "adagrad_step",
    "aligned_mode_flow",
    "aligned_mode_time",
    "escape_time",
    "escape_time_leading",
    "neutral_singular_value",
    "pair_eigenvalue",
    "singular_value_velocity",
]

# Relative gap |x - y| / max(x, y) of x = a^{2/N}, y = b^{2/N} below which the
# quotient (x^N - y^N) / (x - y) cancels badly and the (equal) sum is used instead.
_CLOSE = 1e-3


def _non_negative(name: str, value: ArrayLike) -> FloatArray:
    array = as_finite_array(name, value, (0, 1, 2))
    if np.any(array < 0):
        raise ValueError(f"{name} must be >= 0 (singular values are non-negative), got {value}")
    return array


def pair_eigenvalue(a: ArrayLike, b: ArrayLike, depth: int) -> FloatArray:
    r"""Eigenvalue of the preconditioner :math:`P_{W_e}` on a pair of singular directions.

    For singular values :math:`a = \sigma_r` and :math:`b = \sigma_{r'}` of :math:`W_e` (Claim 1
    of the paper, Section 4.1), the eigenvalue of :math:`P_{W_e}` on :math:`v_{r'} \otimes u_r`
    is (written :math:`\nu` as in the book's chapters 3 and 4, since :math:`\lambda` is the
    weight decay of :func:`~linnet.end_to_end_update`)

    .. math::

       \nu(a, b) &= \sum_{j=1}^{N} a^{2(N-j)/N} \, b^{2(j-1)/N}
       = \frac{a^2 - b^2}{a^{2/N} - b^{2/N}} \quad (a \ne b), \\
       \nu(a, a) &= N a^{2 - 2/N},

    a geometric sum in :math:`x = a^{2/N}`, :math:`y = b^{2/N}` (the eigenvectors and
    the sum are in §4.1 of the paper, after Claim 1; the quotient is the book's).
    It lies between :math:`\max(N \min(a, b)^{2-2/N}, \max(a, b)^{2-2/N})` and
    :math:`N \max(a, b)^{2-2/N}`; the lower bound :math:`\max(a, b)^{2-2/N}` (one term of
    the sum) says that every eigenvalue of :math:`P_{W_e}` is at least
    :math:`\sigma_{\min}(W_e)^{2-2/N}` for full-rank :math:`W_e`, the key inequality of Arora,
    Cohen, Golowich & Hu (2019). The quotient is used when ``x`` and ``y`` are well
    separated, the sum otherwise (where the quotient cancels); both are the same
    number. :math:`0^0 = 1`, so :math:`N = 1` gives 1.

    Parameters
    ----------
    a, b : array_like
        Non-negative singular values (broadcast against each other).
    depth : int
        :math:`N \ge 1`.

    Returns
    -------
    ndarray
        :math:`\nu(a, b)`, with the broadcast shape of ``a`` and ``b``.

    Examples
    --------
    >>> pair_eigenvalue(4.0, 1.0, depth=2)   # (16 - 1) / (4 - 1)
    array(5.)
    >>> pair_eigenvalue([1.0, 2.0], 2.0, depth=3)
    array([5.10724315, 7.5595263 ])
    """
    a_, b_ = np.broadcast_arrays(_non_negative("a", a), _non_negative("b", b))
    N = as_depth(depth)
    if N == 1:
        return np.ones(a_.shape)
    x, y = a_ ** (2 / N), b_ ** (2 / N)
    top = np.maximum(x, y)
    separated = np.abs(x - y) > _CLOSE * top
    with np.errstate(divide="ignore", invalid="ignore"):  # only used where separated
        quotient = (a_**2 - b_**2) / (x - y)
    geometric = sum((x ** (N - j) * y ** (j - 1) for j in range(1, N + 1)), np.zeros(x.shape))
    return np.where(separated, quotient, geometric)


def neutral_singular_value(depth: int) -> float:
    r"""The singular value at which depth ``N`` neither slows nor speeds a direction.

    Along a singular direction the preconditioner of Claim 1 (Section 4.1 of the
    paper) has the eigenvalue :math:`\nu(\sigma, \sigma) = N \sigma^{2-2/N}`
    (:func:`~linnet.pair_eigenvalue`), against 1 for plain gradient descent. It is below 1
    exactly when

    .. math::

       \sigma < N^{-N/(2N-2)} ,

    so only singular values below this threshold are slowed down by depth; above
    it they are sped up.

    Parameters
    ----------
    depth : int
        :math:`N \ge 2` (for :math:`N = 1` every eigenvalue is 1 and there is no threshold).

    Returns
    -------
    float
        :math:`N^{-N/(2N-2)}`: 0.5 for :math:`N = 2`, falling with :math:`N` (below
        :math:`N^{-1/2}`).

    Raises
    ------
    ValueError
        If ``depth < 2``.

    Examples
    --------
    >>> neutral_singular_value(2), round(neutral_singular_value(4), 4)
    (0.5, 0.3969)
    """
    N = as_depth(depth)
    if N < 2:
        raise ValueError(f"depth must be >= 2 (depth 1 never rescales), got {depth}")
    return float(N ** (-N / (2 * N - 2)))


def singular_value_velocity(
    W_e: ArrayLike, grad_e: ArrayLike, depth: int, weight_decay: float = 0.0
) -> FloatArray:
    r"""Velocities of the singular values of ``W_e`` under the end-to-end flow.

    If :math:`W_e = \sum_r \sigma_r u_r v_r^\top` has distinct singular values and moves by
    the flow of Theorem 1 (Section 4.1 of the paper; time :math:`t = \eta \cdot` steps), then
    (Arora, Cohen, Hu & Luo 2019)

    .. math::

       \dot\sigma_r = -\lambda N \sigma_r
         - N \big(\sigma_r^2\big)^{1 - 1/N} \, \langle \nabla L^1(W_e), u_r v_r^\top \rangle ,

    because :math:`u_r^\top [W_e W_e^\top]^{(j-1)/N} = \sigma_r^{2(j-1)/N} u_r^\top` and
    :math:`[W_e^\top W_e]^{(N-j)/N} v_r = \sigma_r^{2(N-j)/N} v_r`, so each of the :math:`N`
    terms contributes :math:`\sigma_r^{2-2/N} u_r^\top G v_r`. For :math:`N \ge 2` a zero
    singular value
    has zero velocity.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
    grad_e : array_like, shape (k, d)
        :math:`G = \nabla L^1(W_e)`.
    depth : int
        ``N >= 1``.
    weight_decay : float, default 0
        :math:`\lambda \ge 0`.

    Returns
    -------
    ndarray, shape (min(k, d),)
        :math:`d\sigma_r / dt` in the order of the singular values (descending).

    Examples
    --------
    >>> singular_value_velocity(np.diag([4.0, 0.0]), np.diag([-1.0, -1.0]), depth=2)
    array([8., 0.])
    """
    W = as_matrix("W_e", W_e)
    G = as_matrix("grad_e", grad_e)
    same_shape("grad_e", G, W.shape, "W_e")
    N = as_depth(depth)
    decay = as_weight_decay(weight_decay)
    U, s, Vt = np.linalg.svd(W, full_matrices=False)
    s = snap_zeros(s, max(W.shape))
    projected = np.einsum("kr,kd,rd->r", U, G, Vt)  # <G, u_r v_r^T>
    return -decay * N * s - N * (s**2) ** (1 - 1 / N) * projected


def _check_mode(sigma0: Any, target: Any, depth: int) -> tuple[float, float, int]:
    s0 = as_real("sigma0", sigma0)
    s = as_real("target", target)
    if s <= 0:
        raise ValueError(f"target (the singular value s of the target) must be > 0, got {target}")
    if not 0 < s0 < s:
        raise ValueError(f"sigma0 must satisfy 0 < sigma0 < target = {s}, got {sigma0}")
    return s0, s, as_depth(depth)


def _logit(sigma: FloatArray, s: float) -> FloatArray:
    return np.log(sigma / (s - sigma))


# Gauss-Legendre nodes on [-1, 1] for the time integral in the logit variable.
_NODES, _WEIGHTS = np.polynomial.legendre.leggauss(40)


def _time_between(z0: float, z1: FloatArray, s: float, N: int) -> FloatArray:
    r"""``int_{z0}^{z1} sigma(z)^{2/N - 1} / (N s) dz`` with ``sigma(z) = s / (1 + e^{-z})``.

    Composite Gauss-Legendre (40 nodes on panels of width <= 1): the integrand is
    analytic in a strip of half-width pi around the real axis, so this is exact
    to round-off.
    """
    z1 = np.atleast_1d(z1)
    panels = int(np.ceil(np.max(np.abs(z1 - z0)))) + 1
    edges = np.linspace(0.0, 1.0, panels + 1)
    total = np.zeros(z1.shape)
    for lo, hi in pairwise(edges):
        frac = lo + (hi - lo) * (_NODES + 1) / 2  # (n,)
        z = z0 + np.outer(z1 - z0, frac)  # (m, n)
        sigma = s / (1 + np.exp(-z))
        integrand = sigma ** (2 / N - 1) / (N * s)
        total += integrand @ _WEIGHTS * (z1 - z0) * (hi - lo) / 2
    return total


def aligned_mode_time(sigma: ArrayLike, sigma0: float, target: float, depth: int) -> FloatArray:
    r"""Time at which one aligned mode of whitened ``l_2`` regression reaches ``sigma``.

    With whitened inputs (:math:`X^\top X / m = I`) the :math:`\ell_2` gradient is
    :math:`\nabla L^1(W_e) = W_e - W_*`; if ``W_e(0)`` shares the singular vectors of
    ``W_*``, the end-to-end flow (Theorem 1) keeps them, and each singular value
    obeys :math:`d\sigma / dt = N \sigma^{2-2/N} (s - \sigma)` (Saxe, McClelland & Ganguli
    2014; :func:`singular_value_velocity`). Separating variables in the logit
    :math:`z = \log(\sigma / (s - \sigma))`,

    .. math::

       t(\sigma) = \int_{z(\sigma_0)}^{z(\sigma)} \frac{\sigma(z)^{2/N - 1}}{N s}\, dz,
       \qquad \sigma(z) = \frac{s}{1 + e^{-z}},

    which for :math:`N = 2` is :math:`(z(\sigma) - z(\sigma_0)) / (2 s)`: the logistic curve.
    Evaluated by Gauss-Legendre quadrature (accurate to round-off).

    Parameters
    ----------
    sigma : array_like
        Values in ``[sigma0, target)``.
    sigma0 : float
        Initial singular value, ``0 < sigma0 < target``.
    target : float
        The target's singular value ``s > 0``.
    depth : int
        ``N >= 1``.

    Returns
    -------
    ndarray
        Times ``t >= 0`` (in units of the learning rate), shaped like ``sigma``.

    Examples
    --------
    >>> t = aligned_mode_time(0.5, sigma0=0.01, target=1.0, depth=2)
    >>> bool(np.isclose(t, np.log(99) / 2))
    True
    """
    s0, s, N = _check_mode(sigma0, target, depth)
    values = as_finite_array("sigma", sigma, (0, 1))
    if np.any(values < s0) or np.any(values >= s):
        raise ValueError(f"sigma must lie in [sigma0, target) = [{s0}, {s}), got {sigma}")
    times = _time_between(float(_logit(np.array(s0), s)), _logit(values, s), s, N)
    return times.reshape(values.shape)


def aligned_mode_flow(times: ArrayLike, sigma0: float, target: float, depth: int) -> FloatArray:
    r"""The singular value ``sigma(t)`` of one aligned mode of whitened ``l_2`` regression.

    Solves :math:`d\sigma / dt = N \sigma^{2-2/N} (s - \sigma)`, :math:`\sigma(0) = \sigma_0`
    (see :func:`aligned_mode_time`). In closed form for ``N = 1``
    (:math:`s - (s - \sigma_0) e^{-t}`) and :math:`N = 2` (the logistic curve)

    .. math::

       \sigma(t) = \frac{s \, \sigma_0 e^{2 s t}}{s - \sigma_0 + \sigma_0 e^{2 s t}} ;

    for ``N >= 3`` by inverting :func:`aligned_mode_time` (interpolation on a grid,
    then Newton steps, to relative accuracy ``1e-12``).

    Parameters
    ----------
    times : array_like
        Times ``t >= 0``.
    sigma0, target : float
        ``0 < sigma0 < target``.
    depth : int
        ``N >= 1``.

    Returns
    -------
    ndarray
        ``sigma(t)``, shaped like ``times``.

    Examples
    --------
    >>> aligned_mode_flow([0.0, 1.0], sigma0=0.5, target=1.0, depth=2).round(4)
    array([0.5   , 0.8808])
    """
    s0, s, N = _check_mode(sigma0, target, depth)
    t = as_finite_array("times", times, (0, 1))
    if np.any(t < 0):
        raise ValueError("times must be >= 0")
    if N == 1:
        return s - (s - s0) * np.exp(-t)
    if N == 2:
        z = float(_logit(np.array(s0), s)) + 2 * s * t
        return s / (1 + np.exp(-z))
    z0 = float(_logit(np.array(s0), s))
    flat = t.ravel()
    # Coarse table of t(z), then Newton on t(z) = t (t is increasing in z).
    z_grid = z0 + np.concatenate([[0.0], np.geomspace(1e-6, 80.0, 400)])
    t_grid = _time_between(z0, z_grid, s, N)
    z = np.interp(flat, t_grid, z_grid)
    for _ in range(50):
        sigma = s / (1 + np.exp(-z))
        residual = _time_between(z0, z, s, N) - flat
        z = z - residual / (sigma ** (2 / N - 1) / (N * s))
        if np.all(np.abs(residual) <= 1e-13 * np.maximum(flat, 1.0)):
            break
    return (s / (1 + np.exp(-z))).reshape(t.shape)


def escape_time(sigma0: float, target: float, depth: int, fraction: float = 0.5) -> float:
    r"""Time for an aligned mode to climb from ``sigma0`` to ``fraction * target``.

    The length of the plateau of whitened ``l_2`` regression under the
    end-to-end flow (:func:`aligned_mode_time`). For ``N = 2`` and ``fraction = 1/2``
    it is :math:`\log((s - \sigma_0) / \sigma_0) / (2 s)`.

    Parameters
    ----------
    sigma0, target : float
        ``0 < sigma0 < fraction * target``.
    depth : int
    fraction : float, default 0.5
        In ``(sigma0 / target, 1)``.

    Returns
    -------
    float

    Examples
    --------
    >>> round(escape_time(0.01, 1.0, depth=2), 6), round(float(np.log(99)) / 2, 6)
    (2.297559, 2.297559)
    """
    s0, s, N = _check_mode(sigma0, target, depth)
    share = as_real("fraction", fraction)
    if not s0 / s < share < 1:
        raise ValueError(
            f"fraction must lie in (sigma0 / target, 1) = ({s0 / s}, 1), got {fraction}"
        )
    return float(aligned_mode_time(share * s, s0, s, N))


def escape_time_leading(sigma0: ArrayLike, target: float, depth: int) -> FloatArray:
    r"""Leading term of :func:`escape_time` (to half the target) as ``sigma0 -> 0``.

    .. math::

       t_{1/2} \approx
       \begin{cases}
         \log 2 & N = 1, \\
         \dfrac{\log(s / \sigma_0)}{2 s} & N = 2, \\
         \dfrac{\sigma_0^{-(N-2)/N}}{(N - 2)\, s} & N \ge 3,
       \end{cases}

    from :math:`\int_{\sigma_0} d\sigma / (N s \sigma^{2-2/N})`: near zero the factor
    :math:`s - \sigma` is :math:`s`. For :math:`N \ge 3` the plateau grows like a power of
    :math:`1/\sigma_0`, not like its logarithm: a very small initialisation makes a deep
    network slow to start.

    Parameters
    ----------
    sigma0 : array_like
        Initial singular values, ``0 < sigma0 < target / 2``.
    target : float
        ``s > 0``.
    depth : int

    Returns
    -------
    ndarray
        Shaped like ``sigma0``.

    Examples
    --------
    >>> escape_time_leading([1e-2, 1e-4], 1.0, depth=4)
    array([ 5., 50.])
    """
    s = as_real("target", target)
    if s <= 0:
        raise ValueError(f"target (the singular value s of the target) must be > 0, got {target}")
    s0 = as_finite_array("sigma0", sigma0, (0, 1))
    if np.any(s0 <= 0) or np.any(s0 >= s / 2):
        raise ValueError(f"sigma0 must lie in (0, target / 2) = (0, {s / 2}), got {sigma0}")
    N = as_depth(depth)
    if N == 1:
        return np.full(s0.shape, np.log(2.0))
    if N == 2:
        return np.log(s / s0) / (2 * s)
    return s0 ** (-(N - 2) / N) / ((N - 2) * s)


def adagrad_step(
    W: ArrayLike, grad: ArrayLike, accumulator: ArrayLike, lr: float, eps: float = 1e-8
) -> tuple[FloatArray, FloatArray]:
    r"""One AdaGrad step (Duchi, Hazan & Singer 2011), diagonal version.

    :math:`A \leftarrow A + G \odot G`, then
    :math:`W \leftarrow W - \eta\, G / (\sqrt{A} + \epsilon)` (entry-wise). The
    preconditioner is diagonal in the coordinates and built from the gradient
    history: unlike :math:`P_{W_e}` (Claim 1) it does not commute with rotations.
    Used by the book only for that comparison.

    Parameters
    ----------
    W, grad, accumulator : array_like, same shape
        Parameters, gradient, and the running sum of squared gradients (>= 0).
    lr : float
        :math:`\eta > 0`.
    eps : float, default 1e-8
        ``> 0``.

    Returns
    -------
    (new W, new accumulator)

    Examples
    --------
    >>> W, A = adagrad_step(np.zeros(2), np.array([3.0, -0.1]), np.zeros(2), lr=0.1)
    >>> W.round(6), A
    (array([-0.1,  0.1]), array([9.  , 0.01]))
    """
    params = as_finite_array("W", W, (1, 2))
    G = as_finite_array("grad", grad, (1, 2))
    same_shape("grad", G, params.shape, "W")
    acc = as_finite_array("accumulator", accumulator, (1, 2))
    same_shape("accumulator", acc, params.shape, "W")
    if np.any(acc < 0):
        raise ValueError("accumulator (a sum of squares) must be >= 0")
    eta = as_lr(lr)
    tiny = as_real("eps", eps)
    if tiny <= 0:
        raise ValueError(f"eps must be > 0, got {eps}")
    acc = acc + G * G
    return params - eta * G / (np.sqrt(acc) + tiny), acc
