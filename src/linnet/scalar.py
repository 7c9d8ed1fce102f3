r"""Why depth accelerates, in one dimension: the balanced scalar chain.

A depth-``N`` network with one input, one output and hidden width one computes
:math:`w = w_N \cdots w_1`. Balancedness (§4.1 of the paper, Theorem 1 with
:math:`k = d = 1`) makes every :math:`|w_j|` equal to :math:`|w|^{1/N}`, and gradient
flow on the factors then moves the product by

.. math::

   \dot w = -N |w|^{2 - 2/N} \, L'(w),

the one-dimensional end-to-end rule: an adaptive learning rate
:math:`N |w|^{2-2/N}` that is small near :math:`w = 0` and grows with :math:`|w|`. Along
each singular direction of a matrix :math:`W_e` the same rate
:math:`N \sigma^{2-2/N}` acts (Claim 1 of the paper, the eigenvalue of :math:`P_{W_e}` on
that direction). N. Cohen's blog post on the paper (Off the Convex Path, 2 March 2018)
tells the same story.

* :func:`chain_rate`: the rate :math:`N |w|^{2-2/N}`;
* :func:`chain_gd`: gradient descent on the factors of a balanced chain with positive
  factors, for :math:`\ell_p` loss :math:`(w - y)^p / p`, for many learning rates at once;
* :func:`no_overshoot_lr`: the largest learning rate at which no step of the chain
  covers more than a given share of a Newton step, along the whole path from
  :math:`w_0` to :math:`y` (the rule the book's chapter 2 uses to compare depths in one
  dimension, where a tuned rate can land on the target in one lucky step).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_depth, as_finite_array, as_int, as_p, as_real

__all__ = ["chain_gd", "chain_rate", "no_overshoot_lr"]

#: |factor| beyond which a run of :func:`chain_gd` counts as diverged
_BLOW_UP = 1e6


def chain_rate(w: ArrayLike, depth: int) -> FloatArray:
    r"""The rate :math:`N |w|^{2 - 2/N}` of the balanced scalar chain.

    §4.1 of the paper (Theorem 1 for :math:`k = d = 1`): if the factors of
    :math:`w = w_N \cdots w_1` are balanced, :math:`|w_j| = |w|^{1/N}` for every
    :math:`j`, and gradient flow on the factors gives
    :math:`\dot w = \sum_j \big(\prod_{i \ne j} w_i\big) \dot w_j
    = -\sum_j \big(\prod_{i \ne j} w_i\big)^2 L'(w) = -N |w|^{2-2/N} L'(w)`.
    The same number, with :math:`|w|` replaced by a singular value :math:`\sigma` of
    :math:`W_e`, is the eigenvalue of the preconditioner along that singular direction
    (Claim 1; :func:`linnet.pair_eigenvalue` with equal arguments).

    Parameters
    ----------
    w : array_like
        Values of the product (any shape).
    depth : int
        ``N >= 1``; ``N = 1`` gives 1 everywhere (plain gradient descent).

    Returns
    -------
    ndarray
        :math:`N |w|^{2 - 2/N}`, shaped like ``w``.

    Examples
    --------
    >>> chain_rate([0.0, 0.25, 1.0], depth=2)
    array([0. , 0.5, 2. ])
    >>> chain_rate(0.5, depth=1)
    array(1.)
    """
    values = as_finite_array("w", w, (0, 1, 2))
    N = as_depth(depth)
    return np.asarray(N * np.abs(values) ** (2 - 2 / N))


def chain_gd(
    w0: float, depth: int, lrs: ArrayLike, steps: int, p: int = 4, target: float = 1.0
) -> FloatArray:
    r"""Gradient descent on the factors of a balanced scalar chain, for many rates at once.

    The chain starts balanced with equal positive factors :math:`a = w_0^{1/N}`; since
    every factor then has the same gradient :math:`L'(a^N) a^{N-1}`, the factors stay
    equal, and gradient descent on the network is exactly the scalar recursion

    .. math::

       a \leftarrow a - \eta \, L'(a^N) \, a^{N-1}, \qquad w = a^N,
       \qquad L(w) = \frac{(w - y)^p}{p},

    whose small-step limit is the flow :math:`\dot w = -N w^{2-2/N} L'(w)` of
    :func:`chain_rate` (§4.1 of the paper, Theorem 1 for :math:`k = d = 1`). It is
    :func:`linnet.train_deep` on ``N`` factors of shape ``(1, 1)`` with the single
    example ``x = 1``, vectorised over the learning rates.

    Parameters
    ----------
    w0 : float
        Initial product, ``> 0``.
    depth : int
        ``N >= 1`` (``N = 1``: plain gradient descent on ``w``).
    lrs : array_like, shape (R,)
        Learning rates, each ``> 0``.
    steps : int
        Number of steps, ``>= 1``.
    p : int, default 4
        Even exponent of the loss, ``>= 2``.
    target : float, default 1
        The minimiser ``y``.

    Returns
    -------
    ndarray, shape (steps + 1, R)
        The product ``w`` after each step for each rate; a run whose factor leaves
        ``|a| < 1e6`` is diverged and reads ``inf`` from then on.

    Examples
    --------
    >>> chain_gd(0.25, depth=2, lrs=[0.5], steps=2, p=2)[:, 0]
    array([0.25      , 0.47265625, 0.75476898])
    >>> chain_gd(0.5, depth=1, lrs=[1.0, 100.0], steps=3, p=4)[-1]
    array([0.71120331,        inf])
    """
    start = as_real("w0", w0)
    if start <= 0:
        raise ValueError(f"w0 (the initial product) must be > 0, got {w0}")
    N = as_depth(depth)
    rates = as_finite_array("lrs", lrs, 1)
    if np.any(rates <= 0):
        raise ValueError(f"lrs (learning rates) must all be > 0, got {lrs}")
    T = as_int("steps", steps, 1)
    exponent = as_p(p)
    y = as_real("target", target)
    a = np.full(rates.shape, start ** (1 / N))
    history = np.empty((T + 1, rates.size))
    history[0] = start
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(1, T + 1):
            w = a**N
            a = a - rates * (w - y) ** (exponent - 1) * a ** (N - 1)
            a = np.where(np.isfinite(a) & (np.abs(a) < _BLOW_UP), a, np.inf)
            history[t] = np.where(np.isfinite(a), a**N, np.inf)
    return history


def no_overshoot_lr(
    w0: float, depth: int, p: int = 4, target: float = 1.0, share: float = 0.5
) -> float:
    r"""The largest rate at which the chain's steps stay within a share of a Newton step.

    Along the path from :math:`w_0` to the minimiser :math:`y` of
    :math:`L(w) = (w - y)^p / p`, a step of the end-to-end rule moves :math:`w` by
    about :math:`\eta \, N|w|^{2-2/N} L'(w)`, and a Newton step by
    :math:`L'(w) / L''(w)`. This returns

    .. math::

       \eta = \frac{\text{share}}{\max_{w \in [w_0, y]} N |w|^{2-2/N} \, L''(w)},
       \qquad L''(w) = (p - 1)(w - y)^{p-2},

    so that the effective step :math:`\eta N |w|^{2-2/N}` is at most ``share`` times
    :math:`1 / L''` everywhere on the path: with ``share <= 1`` the iterates move
    monotonically towards :math:`y` and never overshoot (the rate grows with
    :math:`|w|`, so :math:`\eta N|w|^{2-2/N} |L'(w)| \le \text{share}\,(y - w)`). For
    :math:`\ell_2` and ``N = 1`` it is ``share`` (``share = 1`` is Newton's step);
    for :math:`\ell_4` the curvature :math:`3 (w - y)^2` is largest at the start and
    vanishes at the minimum. The rate of §4.1 of the paper (:func:`chain_rate`); the
    maximum is taken on a grid of 4001 points.

    Parameters
    ----------
    w0 : float
        Start, ``0 < w0 < target``.
    depth : int
        ``N >= 1``.
    p : int, default 4
        Even exponent, ``>= 2``.
    target : float, default 1
        ``y > w0``.
    share : float, default 0.5
        In ``(0, 1]``.

    Returns
    -------
    float

    Examples
    --------
    >>> no_overshoot_lr(0.1, depth=1, p=2)
    0.5
    >>> round(no_overshoot_lr(0.0001, depth=2, p=4), 3)   # max of 6 w (1 - w)^2 is 8/9
    0.562
    """
    start = as_real("w0", w0)
    y = as_real("target", target)
    if not 0 < start < y:
        raise ValueError(f"w0 must satisfy 0 < w0 < target = {y}, got {w0}")
    N = as_depth(depth)
    exponent = as_p(p)
    fraction = as_real("share", share)
    if not 0 < fraction <= 1:
        raise ValueError(f"share must lie in (0, 1], got {share}")
    path = np.linspace(start, y, 4001)
    curvature = (exponent - 1) * (path - y) ** (exponent - 2)
    return float(fraction / np.max(chain_rate(path, N) * curvature))
