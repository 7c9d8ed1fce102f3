r"""Chapter 6's studies, built on the Section 7.1 protocol (:mod:`linnet.protocol`).

* :func:`acceleration_rows`: the protocol at one budget under one or more optimizer
  conventions (the rows of ``python -m linnet.experiments acceleration``);
* :func:`budget_study` and :func:`budget_read`: one long run per method gives the verdict
  at every shorter budget, the rate re-tuned per budget (:func:`retune_at`);
* :func:`robustness_study`: the protocol for variants of one optimizer (conventions, eps);
* :func:`per_coordinate_run`: the book's control for the single-output rule of Claim 2
  (Section 4.2 of the paper), a growing step per coordinate without the coupling of
  coordinates through :math:`\|w\|`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_depth, as_int, as_matrix, as_p, as_real
from .engine import Run, _as_lrs, lp_minimum, run_lp_regression
from .protocol import (
    METHODS,
    Comparison,
    Progress,
    compare_methods,
    fewest_steps,
    relative_excess,
)

__all__ = [
    "BUDGETS",
    "CH6_PROTOCOL",
    "GAUSSIAN_START",
    "PRECISIONS",
    "SYNTHETIC",
    "BudgetRead",
    "acceleration_rows",
    "budget_read",
    "budget_study",
    "per_coordinate_run",
    "protocol_methods",
    "retune_at",
    "robustness_study",
]


#: Chapter 6's protocol, the defaults of ``python -m linnet.experiments acceleration``.
CH6_PROTOCOL: dict[str, Any] = {
    "budgets": (1000,),
    "seeds": 3,
    "grid": (2.0**-9, 2.0**1),
    "run_on": 4,
    "width": 16,
    "losses": (2, 4),
    "conventions": ("torch",),
}


#: Chapter 6's synthetic data (:func:`linnet.datasets.sensor_like` keywords): 512 x 32,
#: noise calibrated to the least-squares R^2 of the paper's data (``datasets.GAS_R2``).
SYNTHETIC: dict[str, Any] = {"m": 512, "d": 32, "seed": 0, "r2": 0.9436274368487378}


#: Optimizers whose update is the same under every convention (tested in the engine).
_CONVENTION_FREE = ("gd", "momentum")


BUDGETS = (1000, 3000, 10000)


PRECISIONS = tuple(
    float(e) for e in 10.0 ** -np.r_[np.arange(2, 3, 0.25), np.arange(3, 9)]
)  # relative gaps 1e-2 ... 1e-8: quarter decades down to 1e-3, then decades


def per_coordinate_run(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    lrs: ArrayLike,
    steps: int,
    depth: int,
    init_scale: float = 1e-3,
    seed: int = 0,
    divergence_factor: float = 1e3,
) -> Run:
    r"""Gradient descent with a growing step per coordinate: the book's control for Claim 2.

    Claim 2 (Section 4.2 of the paper) scales the whole gradient by the
    norm factor :math:`\|w\|^{2-2/N}` and pushes it along :math:`w`.  The
    norm factor both *grows* with training and *couples* the coordinates (a
    large coordinate sets the step of a small one).  This control keeps the
    growth and removes the coupling: every coordinate gets its own step

    .. math::

       w_i \leftarrow w_i - \eta\, N |w_i|^{2-2/N}\, \partial_i L(w),

    which is what Claim 2 would give coordinate by coordinate if each were
    a separate one-dimensional problem.  It is not gradient descent on any
    network and is not in the paper.  All rates of ``lrs`` run at once, from
    the same start as :func:`linnet.run_lp_regression` with the same ``seed``
    and ``init_scale`` (balanced start), and a rate whose loss becomes
    non-finite or exceeds ``divergence_factor`` times its initial value is
    frozen and recorded as diverged (losses ``inf`` from then on).

    Parameters
    ----------
    X : array_like, shape (m, d)
    y : array_like, shape (m,)
        One output (the setting of Claim 2).
    p : int
        Even loss exponent ``>= 2``.
    lrs : array_like, shape (R,)
        Learning rates, all ``> 0``.
    steps : int
        Number of steps, ``>= 1``.
    depth : int
        The depth ``N >= 1`` (``N = 1`` is gradient descent).
    init_scale : float, default 1e-3
        Norm of the start :math:`w(0)`.
    seed : int, default 0
    divergence_factor : float, default 1e3

    Returns
    -------
    Run
        With ``form="end_to_end"`` and ``terms="per_coordinate"``.

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> run = per_coordinate_run(X, y, p=2, lrs=[0.5, 1.0], steps=50, depth=1)
    >>> bool(run.final_loss.max() < 1e-10)   # N = 1 is gradient descent
    True
    >>> run.terms
    'per_coordinate'
    """
    N = as_depth(depth)
    order = as_p(p)
    n_steps = as_int("steps", steps, 1)
    blowup = as_real("divergence_factor", divergence_factor)
    if blowup <= 1:
        raise ValueError(f"divergence_factor must be > 1, got {divergence_factor}")
    inputs = as_matrix("X", X)
    target = np.asarray(y, dtype=float)
    if target.ndim != 1 or target.shape[0] != inputs.shape[0]:
        raise ValueError(
            f"y must be one output of shape ({inputs.shape[0]},) (Claim 2), got {target.shape}"
        )
    if not np.all(np.isfinite(target)):
        raise ValueError("y must be finite")
    rates = _as_lrs(lrs)
    # The start of the engine for this seed (one step of a tiny rate records W_e(0)).
    start = run_lp_regression(
        inputs, target, p=order, lrs=[1e-12], steps=1, seed=seed, init_scale=init_scale
    ).W_e0[0]
    m = inputs.shape[0]
    W = np.tile(start, (rates.size, 1))  # (R, d)
    power = 2.0 - 2.0 / N

    def loss_grad(W: FloatArray) -> tuple[FloatArray, FloatArray]:
        r = W @ inputs.T - target  # (R, m)
        with np.errstate(over="ignore", invalid="ignore"):
            odd = r.copy()  # r^(p-1) by products (faster than a float power)
            for _ in range(order - 2):
                odd *= r
            loss = np.einsum("ij,ij->i", odd, r) / (order * m)
            grad = odd @ inputs / m
        return loss, grad

    losses = np.empty((n_steps + 1, rates.size))
    loss, grad = loss_grad(W)
    losses[0] = loss
    limit = blowup * loss
    diverged = np.zeros(rates.size, dtype=bool)
    last = W.copy()
    for t in range(1, n_steps + 1):
        with np.errstate(over="ignore", invalid="ignore"):
            step = np.abs(W) if N == 2 else np.abs(W) ** power
            W = W - (rates * N)[:, None] * step * grad
        loss, grad = loss_grad(W)
        bad = ~np.isfinite(loss) | (loss > limit)
        diverged |= bad
        W[diverged] = start  # frozen, so nothing overflows
        grad[diverged] = 0.0
        loss = np.where(diverged, np.inf, loss)
        last[~diverged] = W[~diverged]
        losses[t] = loss
    return Run(
        losses=losses,
        lrs=rates,
        W_e0=start[None, :],
        W_e=last[:, None, :],
        diverged=diverged,
        p=order,
        optimizer="gd",
        depth=N,
        form="end_to_end",
        init="balanced",
        hyper={},
        terms="per_coordinate",
    )


def retune_at(run: Run, T: int) -> int:
    """Index of the rate with the lowest loss at step ``T`` (the protocol's choice at budget ``T``).

    A rate whose loss is ``inf`` at ``T`` (diverged by then) is excluded; a rate
    that diverges only after ``T`` is allowed, as it would be in a run of ``T``
    steps.

    Parameters
    ----------
    run : Run
        One run over a grid of rates, at least ``T`` steps long.
    T : int
        The budget.

    Returns
    -------
    int

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> run = run_lp_regression(X, y, p=2, lrs=[0.25, 1.0, 8.0], steps=20)
    >>> retune_at(run, 10)
    1
    """
    n = as_int("T", T, 0)
    if n >= run.losses.shape[0]:
        raise ValueError(f"T = {n} exceeds the run's {run.losses.shape[0] - 1} steps")
    at = run.losses[n]
    if not np.any(np.isfinite(at)):
        raise ValueError(f"every rate diverged by step {n}")
    return int(np.argmin(np.where(np.isfinite(at), at, np.inf)))


@dataclass(frozen=True)
class BudgetRead:
    """The protocol's outcome at one budget, read off one long run per method.

    Attributes
    ----------
    T
        The budget.
    target
        GD's loss at ``T`` at its rate re-tuned at ``T``.
    rel_gap
        The target's :func:`linnet.protocol.relative_excess`.
    lr
        Method -> its rate re-tuned at ``T``.
    at_edge
        Method -> whether that rate is the smallest or largest of the grid.
    iterations
        Method -> steps to the target at that rate, counted up to ``run_on * T``
        (``inf``: not reached by then, or not within the run).
    speedup
        Method -> GD's iterations over the method's (``nan`` if not reached).
    censored
        Method -> whether a missed target is only *censored*: the run ended before
        ``run_on * T`` steps, so the method might still reach it within the run-on
        that the other budgets allow.  A censored count is no verdict.
    run_on
        The run-on factor: counts go up to ``run_on * T`` steps, at every budget.
    """

    T: int
    target: float
    rel_gap: float
    lr: dict[str, float]
    at_edge: dict[str, bool]
    iterations: dict[str, float]
    speedup: dict[str, float]
    censored: dict[str, bool]
    run_on: int = 4


def budget_read(
    runs: Mapping[str, Run], T: int, L_star: float, *, baseline: str = "GD", run_on: int = 4
) -> BudgetRead:
    """Read the Section 7.1 protocol at budget ``T`` off one long run per method.

    Each method's rate is re-tuned at ``T`` (:func:`retune_at`); the target is
    the baseline's loss at ``T`` at its re-tuned rate; every method is scored
    by its steps to that target at its own re-tuned rate, counted up to
    ``run_on * T`` steps as in the protocol (a count above ``T`` means it needed
    a run-on).  Where the run is shorter than ``run_on * T`` and the target is
    not reached within it, the count is *censored* (``BudgetRead.censored``),
    not a loss: every budget has the same run-on.

    Parameters
    ----------
    runs : mapping
        Method label -> :class:`linnet.Run` (one seed, same start, same length).
    T : int
        The budget (at most the runs' length).
    L_star : float
        The optimal loss, for the target's relative gap.
    baseline : str, default "GD"
    run_on : int, default 4
        Counts go up to ``run_on * T`` steps.

    Returns
    -------
    BudgetRead

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> runs = {"GD": run_lp_regression(X, y, p=4, lrs=[0.5, 1.0, 2.0], steps=200)}
    >>> read = budget_read(runs, 100, 0.0)
    >>> read.iterations["GD"], read.speedup["GD"], read.censored["GD"]
    (100.0, 1.0, False)
    """
    if baseline not in runs:
        raise ValueError(f"the baseline {baseline!r} must be one of the runs")
    chosen = {label: retune_at(run, T) for label, run in runs.items()}
    base = runs[baseline]
    target = float(base.losses[T, chosen[baseline]])
    rel = float(relative_excess(target, base.losses[0, 0], L_star))
    limit = as_int("run_on", run_on, 1) * int(T)
    its, censored = {}, {}
    for label, run in runs.items():
        n = float(run.steps_to(target)[chosen[label]])
        its[label] = n if n <= limit else np.inf
        censored[label] = bool(np.isinf(its[label]) and run.losses.shape[0] - 1 < limit)
    gd = its[baseline]
    return BudgetRead(
        T=int(T),
        target=target,
        rel_gap=rel,
        lr={label: float(run.lrs[chosen[label]]) for label, run in runs.items()},
        at_edge={label: chosen[label] in (0, run.lrs.size - 1) for label, run in runs.items()},
        iterations=its,
        speedup={label: gd / n if np.isfinite(n) and n > 0 else np.nan for label, n in its.items()},
        censored=censored,
        run_on=int(run_on),
    )


def budget_study(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    methods: Mapping[str, Mapping[str, Any]],
    lrs: ArrayLike,
    budgets: Sequence[int] = BUDGETS,
    precisions: Sequence[float] = PRECISIONS,
    seed: int = 0,
    baseline: str = "GD",
) -> dict[str, Any]:
    r"""The Section 7.1 verdicts as a function of the step budget, from one run per method.

    Every method runs once (seed ``seed``) for ``max(budgets)`` steps over the
    whole grid ``lrs`` (one batched :func:`linnet.run_lp_regression` call);
    each budget is then read off that run with :func:`budget_read` (rates
    re-tuned per budget, target = the baseline's loss at the budget).  For each
    relative gap :math:`\epsilon` of ``precisions`` it also records each
    method's :func:`linnet.protocol.fewest_steps` to :math:`L^* + \epsilon (L_0 - L^*)` (rate
    chosen by that count among rates that never diverge).

    Parameters
    ----------
    X, y : array_like
    p : int
    methods : mapping
        Label -> options of :func:`linnet.run_lp_regression` (must contain ``baseline``).
    lrs : array_like
        The grid.
    budgets : sequence of int, default (1000, 3000, 10000)
    precisions : sequence of float, default 1e-2 ... 1e-8
    seed : int, default 0
    baseline : str, default "GD"

    Returns
    -------
    dict
        JSON-ready: ``L_star``, ``L0``, ``reads`` (one :class:`BudgetRead` as a
        dict per budget, keyed by ``str(T)``), ``precision`` (label -> steps per
        relative gap, ``inf`` if not reached) and ``precisions``.

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> out = budget_study(X, y, p=4, methods={"GD": {"optimizer": "gd"}},
    ...                    lrs=[0.5, 1.0, 2.0], budgets=[10, 20], precisions=[0.1])
    >>> sorted(out["reads"]), out["reads"]["10"]["iterations"]["GD"]
    (['10', '20'], 10.0)
    """

    if baseline not in methods:
        raise ValueError(f"methods must include the baseline {baseline!r}")
    horizon = max(as_int("budget", T, 1) for T in budgets)
    runs = {
        label: run_lp_regression(X, y, p=p, lrs=lrs, steps=horizon, seed=seed, **dict(opts))
        for label, opts in methods.items()
    }
    L_star = float(lp_minimum(X, y, p).L_star)
    L0 = float(runs[baseline].losses[0, 0])
    reads = {str(T): asdict(budget_read(runs, T, L_star, baseline=baseline)) for T in budgets}
    levels = [L_star + float(e) * (L0 - L_star) for e in precisions]
    precision = {
        label: [fewest_steps(run, level)[0] for level in levels] for label, run in runs.items()
    }
    return {
        "L_star": L_star,
        "L0": L0,
        "reads": reads,
        "precision": precision,
        "precisions": [float(e) for e in precisions],
    }


def robustness_study(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    steps: int,
    variants: Mapping[str, Mapping[str, Any]],
    lrs: ArrayLike,
    seeds: Sequence[int] = (0, 1, 2),
) -> dict[str, Any]:
    """The protocol (:func:`linnet.protocol.compare_methods`) for variants of one optimizer.

    Used for the baselines' conventions (PyTorch's defaults against the
    TensorFlow 1 defaults the paper used, and a sweep of AdaDelta's
    ``eps``): every variant is tuned and scored against GD's final loss.

    Parameters
    ----------
    X, y : array_like
    p, steps : int
    variants : mapping
        Label -> options of :func:`linnet.run_lp_regression` (hyper-parameters and
        ``conventions`` included).
    lrs : array_like
        Starting grid (extended at the edges as in the protocol).
    seeds : sequence of int, default (0, 1, 2)

    Returns
    -------
    dict
        JSON-ready: label -> ``{"lr", "at_edge", "iterations"}`` (per seed;
        ``inf`` if not reached within ``steps``), plus ``"GD"``.

    Examples
    --------
    >>> from linnet.datasets import sensor_like
    >>> data = sensor_like(m=40, d=4, seed=0)
    >>> out = robustness_study(data.X, data.y, p=4, steps=50, lrs=[0.01, 0.1, 1.0],
    ...                        variants={"AdaDelta": {"optimizer": "adadelta"}}, seeds=[0])
    >>> sorted(out)
    ['AdaDelta', 'GD']
    """
    out: dict[str, Any] = {}
    groups: dict[str, dict[str, dict[str, Any]]] = {}
    for label, options in variants.items():
        opts = dict(options)
        groups.setdefault(opts.pop("conventions", "torch"), {})[label] = opts
    for conventions, chosen in groups.items():
        comp = compare_methods(
            X, y, p=p, steps=steps, methods={"GD": METHODS["GD"], **chosen}, lrs=lrs,
            seeds=seeds, conventions=conventions,
        )  # fmt: skip
        for label, t in comp.tuned.items():
            out[label] = {
                "lr": t.best_lr,
                "at_edge": bool(t.at_edge),
                "iterations": [float(n) for n in comp.iterations[label]],
            }
    return out


#: The near-zero Gaussian start of the networks' control rows (chapter 6).
GAUSSIAN_START: dict[str, Any] = {"init": "gaussian", "init_scale": 0.01}


def protocol_methods(width: int = 16) -> dict[str, dict[str, Any]]:
    """:data:`linnet.protocol.METHODS` with chapter 6's hidden width, plus Gaussian starts.

    With the balanced start the width does not change :math:`W_e` (see
    :func:`linnet.run_lp_regression`); it is recorded for the label's sake.  After
    the GD networks come the same networks from a near-zero Gaussian start of that
    width (:data:`GAUSSIAN_START`, not balanced), the control that shows what the
    balanced start contributes.

    Examples
    --------
    >>> methods = protocol_methods()
    >>> methods["GD, depth-2 network"]["width"]
    16
    >>> gaussian = methods["GD, depth-2 network, Gaussian start"]
    >>> gaussian["width"], gaussian["init"], gaussian["init_scale"]
    (16, 'gaussian', 0.01)
    """
    n = as_int("width", width, 1)
    out: dict[str, dict[str, Any]] = {}
    for label, opts in METHODS.items():
        out[label] = {**opts, "width": n} if opts.get("form") == "factors" else dict(opts)
        if label == "GD, depth-3 network":
            for N in (2, 3):
                net = out[f"GD, depth-{N} network"]
                out[f"GD, depth-{N} network, Gaussian start"] = {**net, **GAUSSIAN_START}
    return out


def acceleration_rows(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    budget: int,
    methods: Mapping[str, Mapping[str, Any]],
    lrs: ArrayLike,
    seeds: Sequence[int],
    conventions: Sequence[str] = ("torch",),
    run_on: int = 4,
    progress: Progress | None = None,
    refine: bool = True,
) -> tuple[list[dict[str, Any]], dict[str, Comparison]]:
    """The protocol at one budget under one or more conventions: table rows and comparisons.

    The first convention runs every method; each further convention reruns only
    the methods whose optimizer depends on it (AdaGrad, AdaDelta, Adam), since
    gradient descent and momentum are the same under every convention.  Rows of
    convention-free methods carry ``conventions = "any"``.

    Returns
    -------
    rows : list of dict
        :meth:`linnet.protocol.Comparison.rows` with ``budget`` in front.
    comparisons : dict
        Convention -> :class:`linnet.protocol.Comparison`.

    Examples
    --------
    >>> from linnet.datasets import sensor_like
    >>> from linnet.protocol import lr_grid
    >>> data = sensor_like(m=40, d=4, seed=0)
    >>> rows, _ = acceleration_rows(data.X, data.y, p=4, budget=30,
    ...     methods={"GD": METHODS["GD"], "AdaGrad": METHODS["AdaGrad"]},
    ...     lrs=lr_grid(0.01, 1.0), seeds=[0], conventions=["torch", "tf1"])
    >>> [(r["method"], r["conventions"]) for r in rows]
    [('GD', 'any'), ('AdaGrad', 'torch'), ('AdaGrad', 'tf1')]
    """
    rows: list[dict[str, Any]] = []
    comparisons: dict[str, Comparison] = {}
    for i, conv in enumerate(conventions):
        chosen = {
            label: opts
            for label, opts in methods.items()
            if i == 0 or opts.get("optimizer", "gd") not in _CONVENTION_FREE
        }
        comp = compare_methods(
            X, y, p=p, steps=budget, methods=chosen, lrs=lrs, seeds=seeds,
            progress=progress, conventions=conv, run_on=run_on, refine=refine,
        )  # fmt: skip
        comparisons[conv] = comp
        for row in comp.rows():
            free = methods.get(row["method"], METHODS["GD"]).get("optimizer", "gd")
            if free in _CONVENTION_FREE:
                if i > 0:
                    continue
                row["conventions"] = "any"
            rows.append({"budget": budget, **row})
    return rows, comparisons
