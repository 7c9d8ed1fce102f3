"""Training loops: gradient descent on the factors, and the end-to-end update rule.

Both loops minimise the ``l_p`` regression loss of :mod:`linnet.losses` and
record the end-to-end matrix and the loss after every step, so that a chapter
can compare a deep network with the rule of Theorem 1 (§4.1) step by step.  A loop
that produces a non-finite value stops with :class:`DivergenceError` instead
of returning NaN.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    FloatArray,
    as_depth,
    as_finite_array,
    as_int,
    as_lr,
    as_matrix,
    as_p,
    as_weight_decay,
    as_weights,
)
from .losses import lp_loss, lp_loss_grad
from .network import balancedness, deep_gd_step, end_to_end
from .update import end_to_end_update

__all__ = ["DivergenceError", "Trajectory", "relative_gap", "train_deep", "train_end_to_end"]


class DivergenceError(ArithmeticError):
    """Training left the range of floating point numbers: lower the learning rate."""


@dataclass(frozen=True)
class Trajectory:
    """What a training run recorded, one entry per step (index 0 = initialisation).

    Attributes
    ----------
    W_e
        Array of shape ``(steps + 1, k, d)``: the end-to-end matrix after each step.
    loss
        Array of shape ``(steps + 1,)``: the ``l_p`` loss after each step.
    imbalance
        Array of shape ``(steps + 1, N - 1)``: :func:`linnet.balancedness` after each
        step (deep runs only; empty otherwise).
    weights
        List of ``[W_1, ..., W_N]`` after each step, if ``keep_weights=True`` was passed.
    """

    W_e: FloatArray
    loss: FloatArray
    imbalance: FloatArray = field(default_factory=lambda: np.zeros((0, 0)))
    weights: list[list[FloatArray]] = field(default_factory=list)


def _check_run(X: ArrayLike, y: ArrayLike, p: int, lr: float, steps: int) -> tuple:
    return (
        as_matrix("X", X),
        as_finite_array("y", y, (1, 2)),
        as_p(p),
        as_lr(lr),
        as_int("steps", steps, 0),
    )


def _diverged(step: int, lr: float, detail: str) -> DivergenceError:
    return DivergenceError(
        f"training diverged at step {step} with lr={lr:g} ({detail}); "
        "use a smaller learning rate or a smaller initialisation"
    )


def _guarded(func: Callable[..., Any], W: FloatArray, data: tuple, step: int, lr: float) -> Any:
    """``func(W, X, y, p)``; an overflow there means the run diverged.

    Shapes were checked at step 0, so a ``ValueError`` now can only be an overflow.
    """
    try:
        return func(W, *data)
    except ValueError as exc:
        raise _diverged(step, lr, str(exc)) from None


def _finite_or_raise(arrays: Sequence[FloatArray], step: int, lr: float) -> None:
    if not all(np.all(np.isfinite(a)) for a in arrays):
        raise _diverged(step, lr, "weights became NaN or infinite")


def train_deep(
    weights: Sequence[ArrayLike],
    X: ArrayLike,
    y: ArrayLike,
    p: int,
    lr: float,
    steps: int,
    weight_decay: float = 0.0,
    keep_weights: bool = False,
) -> Trajectory:
    r"""Gradient descent on the factors of a deep linear network (§4.1 of the paper).

    Each step computes :math:`G = \nabla L^1(W_e)` with :func:`linnet.lp_loss_grad`
    and applies :func:`linnet.deep_gd_step`.

    Parameters
    ----------
    weights : sequence of array_like
        Initial ``[W_1, ..., W_N]``.
    X, y, p
        Data and exponent of the ``l_p`` loss (see :func:`linnet.lp_loss`).
    lr : float
        Learning rate :math:`\eta > 0`.
    steps : int
        Number of steps, ``>= 0``.
    weight_decay : float, default 0
    keep_weights : bool, default False
        Also record the factors after every step.

    Returns
    -------
    Trajectory

    Raises
    ------
    DivergenceError
        If the loss or the weights stop being finite.

    Examples
    --------
    >>> from linnet import balanced_factors
    >>> X, y = np.eye(2), np.array([1.0, -1.0])
    >>> run = train_deep(balanced_factors(np.array([[0.5, 0.5]]), 2), X, y, 2, 0.5, 200)
    >>> bool(run.loss[-1] < 1e-6), run.W_e.shape
    (True, (201, 1, 2))
    """
    mats = as_weights(weights)
    X_, y_, p_, eta, n_steps = _check_run(X, y, p, lr, steps)
    decay = as_weight_decay(weight_decay)
    W = end_to_end(mats)
    history_W, history_loss = [W], [lp_loss(W, X_, y_, p_)]  # bad shapes raise ValueError here
    history_imbalance = [balancedness(mats)]
    history_weights = [mats] if keep_weights else []
    for step in range(1, n_steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            mats = deep_gd_step(
                mats, _guarded(lp_loss_grad, W, (X_, y_, p_), step, eta), eta, decay
            )
            _finite_or_raise(mats, step, eta)
            W = end_to_end(mats)
        _finite_or_raise([W], step, eta)
        history_W.append(W)
        history_loss.append(_guarded(lp_loss, W, (X_, y_, p_), step, eta))
        history_imbalance.append(balancedness(mats))
        if keep_weights:
            history_weights.append(mats)
    return Trajectory(
        W_e=np.array(history_W),
        loss=np.array(history_loss),
        imbalance=np.array(history_imbalance),
        weights=history_weights,
    )


def train_end_to_end(
    W_e: ArrayLike,
    X: ArrayLike,
    y: ArrayLike,
    p: int,
    depth: int,
    lr: float,
    steps: int,
    weight_decay: float = 0.0,
) -> Trajectory:
    r"""Iterate the end-to-end update rule (Theorem 1, §4.1) on an :math:`\ell_p` loss.

    Each step is :func:`linnet.end_to_end_update` with the gradient of
    :func:`linnet.lp_loss`.

    ``depth == 1`` is plain gradient descent on ``W_e``.

    Parameters
    ----------
    W_e : array_like, shape (k, d)
        Initial end-to-end matrix.
    X, y, p
        Data and exponent of the ``l_p`` loss.
    depth : int
        :math:`N \ge 1`.
    lr : float
    steps : int
    weight_decay : float, default 0

    Returns
    -------
    Trajectory
        ``imbalance`` and ``weights`` are empty: there are no factors.

    Raises
    ------
    DivergenceError
        If the loss or ``W_e`` stop being finite.

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, -1.0])
    >>> run = train_end_to_end(np.array([[0.5, 0.5]]), X, y, 2, depth=2, lr=0.5, steps=200)
    >>> bool(run.loss[-1] < 1e-6)
    True
    """
    W = as_matrix("W_e", W_e)
    X_, y_, p_, eta, n_steps = _check_run(X, y, p, lr, steps)
    N = as_depth(depth)
    decay = as_weight_decay(weight_decay)
    history_W, history_loss = [W], [lp_loss(W, X_, y_, p_)]  # bad shapes raise ValueError here
    for step in range(1, n_steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):  # checked just below
            W = end_to_end_update(
                W, _guarded(lp_loss_grad, W, (X_, y_, p_), step, eta), N, eta, decay
            )
        _finite_or_raise([W], step, eta)
        history_W.append(W)
        history_loss.append(_guarded(lp_loss, W, (X_, y_, p_), step, eta))
    return Trajectory(W_e=np.array(history_W), loss=np.array(history_loss))


def relative_gap(run: Trajectory, reference: Trajectory) -> FloatArray:
    r"""Relative distance of two runs' end-to-end matrices, step by step.

    .. math::

       \frac{\|W_e^{\text{run}}(t) - W_e^{\text{ref}}(t)\|_F}{\|W_e^{\text{ref}}(t)\|_F}:

    how far gradient descent on the factors is from the end-to-end update rule
    (Theorem 1, §4.1 of the paper) over training.

    Parameters
    ----------
    run, reference : Trajectory
        Runs of equal length and shape, e.g. from :func:`train_deep` and
        :func:`train_end_to_end`.

    Returns
    -------
    ndarray, shape (steps + 1,)

    Raises
    ------
    ValueError
        If the runs differ in length or shape, or the reference passes through ``W_e = 0``.

    Examples
    --------
    >>> a = Trajectory(W_e=np.array([[[1.0, 0.0]], [[2.0, 0.0]]]), loss=np.zeros(2))
    >>> b = Trajectory(W_e=np.array([[[1.0, 0.0]], [[2.0, 1.0]]]), loss=np.zeros(2))
    >>> relative_gap(a, b).round(3)
    array([0.   , 0.447])
    """
    if not isinstance(run, Trajectory) or not isinstance(reference, Trajectory):
        raise TypeError(
            "run and reference must be Trajectory objects (from train_deep/train_end_to_end)"
        )
    if run.W_e.shape != reference.W_e.shape:
        raise ValueError(
            f"run and reference must have the same steps and W_e shape, got {run.W_e.shape} "
            f"and {reference.W_e.shape}"
        )
    axes = tuple(range(1, reference.W_e.ndim))
    size = np.linalg.norm(reference.W_e, axis=axes)
    if np.any(size == 0):
        raise ValueError("the reference run passes through W_e = 0: a relative gap is undefined")
    gap: FloatArray = np.linalg.norm(run.W_e - reference.W_e, axis=axes) / size
    return gap
