r"""The paper's warm-up (§3): one extra scalar, :math:`w = \omega_2 w_1`.

Replace the linear predictor :math:`w` of an :math:`\ell_p` regression by
:math:`\omega_2 w_1` with :math:`w_1` a vector and :math:`\omega_2` a scalar:
a depth-2 linear network with one hidden unit, so gradient descent on ``(w_1, omega_2)`` is
:func:`linnet.deep_gd_step` on ``[w_1[None, :], [[omega_2]]]``.  One step
moves ``w`` by

.. math::

   w' = w - \rho \nabla - \eta (w_1^\top \nabla) w_1 + \eta^2 \omega_2 (w_1^\top \nabla) \nabla,
   \qquad \rho = \eta\,\omega_2^2,

an adaptive learning rate plus a term along :math:`w` that, unrolled, is a
weighted sum of past gradients (momentum-like memory).  This is the book's
exact form of the paper's warm-up, whose gradient-flow version reads
:math:`\dot w = -\rho \nabla - \sum \mu \nabla` with :math:`\rho = \eta\,\omega_2^2`
and the paper's memory coefficients :math:`\mu`.  Unrolling :math:`w_1` instead of
:math:`w` gives coefficients of the same role, written :math:`\kappa` here and in
chapter 1 because they are not the paper's :math:`\mu` (:func:`warmup_memory`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_finite_array, as_lr, as_real, same_shape

__all__ = ["WarmupStep", "paper_memory", "warmup_memory", "warmup_step_terms"]


class WarmupStep(NamedTuple):
    r"""The three terms of one warm-up step: ``rho``, ``along_w`` and ``second_order``.

    See :func:`warmup_step_terms` for the formulas (§3 of the paper).
    """

    rho: float
    along_w: FloatArray
    second_order: FloatArray


def warmup_step_terms(w1: ArrayLike, omega2: float, grad: ArrayLike, lr: float) -> WarmupStep:
    r"""Decompose one gradient step on :math:`(w_1, \omega_2)` as seen by :math:`w = \omega_2 w_1`.

    §3 of the paper: with :math:`\nabla = \nabla L(w)` at :math:`w = \omega_2 w_1`,

    .. math::

       (\omega_2 - \eta\, w_1^\top \nabla)(w_1 - \eta\, \omega_2 \nabla)
       = w - \rho \nabla - \eta (w_1^\top \nabla) w_1
         + \eta^2 \omega_2 (w_1^\top \nabla) \nabla

    with the adaptive learning rate :math:`\rho = \eta\,\omega_2^2`.  The term
    along :math:`w_1` (parallel to :math:`w`) carries the memory of past
    gradients.

    Parameters
    ----------
    w1 : array_like, shape (d,)
    omega2 : float
    grad : array_like, shape (d,)
        :math:`\nabla L` at :math:`w = \omega_2 w_1`.
    lr : float
        :math:`\eta > 0`.

    Returns
    -------
    WarmupStep
        ``rho`` (:math:`\rho = \eta\,\omega_2^2`), ``along_w``
        (:math:`\eta (w_1^\top \nabla) w_1`) and ``second_order``
        (:math:`\eta^2 \omega_2 (w_1^\top \nabla) \nabla`).

    Examples
    --------
    >>> terms = warmup_step_terms(np.array([1.0, 0.0]), 2.0, np.array([1.0, 1.0]), lr=0.1)
    >>> terms.rho, terms.along_w, terms.second_order
    (0.4, array([0.1, 0. ]), array([0.02, 0.02]))
    """
    v = as_finite_array("w1", w1, 1)
    g = as_finite_array("grad", grad, 1)
    same_shape("grad", g, v.shape, "w1")
    scalar = as_real("omega2", omega2)
    eta = as_lr(lr)
    inner = float(v @ g)
    return WarmupStep(
        rho=eta * scalar**2,
        along_w=eta * inner * v,
        second_order=eta**2 * scalar * inner * g,
    )


def warmup_memory(
    w1_history: ArrayLike, omega2_history: ArrayLike, grad_history: ArrayLike, lr: float
) -> FloatArray:
    r"""The memory coefficients ``kappa[t, tau]`` of the unrolled warm-up dynamics.

    Since :math:`w_1^{(t)} = w_1^{(0)} - \eta \sum_{\tau<t} \omega_2^{(\tau)} \nabla^{(\tau)}`
    exactly, the term along :math:`w` of :func:`warmup_step_terms` unrolls into

    .. math::

       w^{(t+1)} &= w^{(t)} - \rho^{(t)} \nabla^{(t)}
         - \sum_{\tau<t} \kappa^{(t,\tau)} \nabla^{(\tau)} \\
         &\quad - \eta (w_1^{(t)\top} \nabla^{(t)}) w_1^{(0)}
         + \eta^2 \omega_2^{(t)} (w_1^{(t)\top} \nabla^{(t)}) \nabla^{(t)}

    with :math:`\kappa^{(t,\tau)} = -\eta^2 (w_1^{(t)\top} \nabla^{(t)}) \omega_2^{(\tau)}`:
    past gradients re-applied, as in momentum (§3 of the paper, whose own memory
    coefficients :math:`\mu` unroll :math:`w` instead and are different numbers).

    Parameters
    ----------
    w1_history : array_like, shape (T, d)
        :math:`w_1^{(t)}` for :math:`t = 0, \dots, T-1`.
    omega2_history : array_like, shape (T,)
    grad_history : array_like, shape (T, d)
        :math:`\nabla^{(t)}` at :math:`w^{(t)} = w_1^{(t)} \omega_2^{(t)}`.
    lr : float

    Returns
    -------
    ndarray, shape (T, T)
        ``kappa[t, tau]`` (:math:`\kappa^{(t,\tau)}`) for :math:`\tau < t`, zero on and above
        the diagonal.

    Examples
    --------
    >>> kappa = warmup_memory([[1.0], [1.0]], [1.0, 2.0], [[1.0], [1.0]], lr=0.1)
    >>> kappa
    array([[ 0.  ,  0.  ],
           [-0.01,  0.  ]])
    """
    W1 = as_finite_array("w1_history", w1_history, 2)
    omegas = as_finite_array("omega2_history", omega2_history, 1)
    grads = as_finite_array("grad_history", grad_history, 2)
    same_shape("grad_history", grads, W1.shape, "w1_history")
    if omegas.shape != (W1.shape[0],):
        raise ValueError(
            f"omega2_history must have shape ({W1.shape[0]},) to match w1_history, "
            f"got {omegas.shape}"
        )
    eta = as_lr(lr)
    inner = np.einsum("td,td->t", W1, grads)
    return np.tril(-(eta**2) * np.outer(inner, omegas), k=-1)


def paper_memory(
    w1_history: ArrayLike, omega2_history: ArrayLike, grad_history: ArrayLike, lr: float
) -> FloatArray:
    r"""The paper's memory coefficients ``mu[t, tau]`` of the warm-up (§3), unrolling ``w``.

    One step of the warm-up is exactly
    :math:`w^{(t+1)} = (1 - \gamma^{(t)}) w^{(t)} - \rho^{(t)} \nabla^{(t)} + r^{(t)}` with
    :math:`\rho^{(t)} = \eta (\omega_2^{(t)})^2`,
    :math:`\gamma^{(t)} = \eta \langle w_1^{(t)}, \nabla^{(t)} \rangle / \omega_2^{(t)}` and the
    :math:`O(\eta^2)` remainder :math:`r^{(t)}` of :func:`linnet.warmup_step_terms`. Unrolling
    :math:`w^{(t)}` back to :math:`w^{(0)}` and multiplying by :math:`\gamma^{(t)}` gives
    §3's form :math:`w^{(t+1)} = w^{(t)} - \rho^{(t)} \nabla^{(t)}
    - \sum_{\tau<t} \mu^{(t,\tau)} \nabla^{(\tau)}` (plus a term in :math:`w^{(0)}` and
    the remainders) with

    .. math::

       \mu^{(t,\tau)} = -\gamma^{(t)} \rho^{(\tau)}
         \prod_{j=\tau+1}^{t-1} \big(1 - \gamma^{(j)}\big)
       = \kappa^{(t,\tau)} \, \frac{\omega_2^{(\tau)}}{\omega_2^{(t)}}
         \prod_{j=\tau+1}^{t-1} \big(1 - \gamma^{(j)}\big),

    where :math:`\kappa` are the coefficients of :func:`linnet.warmup_memory` (which unroll
    :math:`w_1` instead).

    Parameters
    ----------
    w1_history : array_like, shape (T, d)
    omega2_history : array_like, shape (T,)
        Non-zero.
    grad_history : array_like, shape (T, d)
    lr : float

    Returns
    -------
    ndarray, shape (T, T)
        ``mu[t, tau]`` for :math:`\tau < t`, zero on and above the diagonal.

    Examples
    --------
    >>> mu = paper_memory([[1.0], [1.0], [1.0]], [1.0, 1.0, 2.0], [[1.0]] * 3, lr=0.1)
    >>> mu.round(4)
    array([[ 0.    ,  0.    ,  0.    ],
           [-0.01  ,  0.    ,  0.    ],
           [-0.0045, -0.005 ,  0.    ]])
    """
    W1 = as_finite_array("w1_history", w1_history, 2)
    omegas = as_finite_array("omega2_history", omega2_history, 1)
    grads = as_finite_array("grad_history", grad_history, 2)
    same_shape("grad_history", grads, W1.shape, "w1_history")
    if omegas.shape != (W1.shape[0],):
        raise ValueError(
            f"omega2_history must have shape ({W1.shape[0]},) to match w1_history, "
            f"got {omegas.shape}"
        )
    if np.any(omegas == 0):
        raise ValueError("omega2_history must be non-zero (gamma divides by omega_2)")
    eta = as_lr(lr)
    gamma = eta * np.einsum("td,td->t", W1, grads) / omegas
    rho = eta * omegas**2
    T = W1.shape[0]
    mu = np.zeros((T, T))
    for t in range(1, T):
        # prod_{j=tau+1}^{t-1} (1 - gamma_j) for tau = 0..t-1 (empty product 1 at tau = t-1)
        tail = np.cumprod((1 - gamma[1:t])[::-1])[::-1]
        mu[t, :t] = -gamma[t] * rho[:t] * np.append(tail, 1.0)
    return mu
