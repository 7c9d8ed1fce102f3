r"""The Section 7.1 protocol: learning-rate grids, tuning, refinement, comparison, verdicts.

The paper's Section 7.1 compares, on an :math:`\ell_p` regression, gradient descent on the
linear model with gradient descent on deeper linear networks and with AdaGrad, AdaDelta and
Adam.  This module makes that comparison fair and repeatable, in the order a referee checks:

* :func:`lr_grid` and :func:`tune_lr`: every method gets its own learning rate, chosen on a
  factor-2 grid by the loss at the step budget (mean over seeds; a rate that diverges for any
  seed is excluded), the grid extended at an edge where the best rate sits;
* :func:`refine_rate`: a finer grid (factor :math:`2^{1/4}`) around a tuned rate;
* :func:`compare_methods`: every method from the same start per seed, scored by its
  iterations to the loss that gradient descent reaches at the budget
  (:class:`Comparison`), with :func:`relative_excess` for how demanding that target is;
* :func:`order_verdict` and :func:`edge_verdict`: faster, tie or slower, with the
  resolution of the grid, and the coarser verdict reproducible at the edge of stability.

It builds on the engine (``linnet.engine``); the studies of chapter 6
(:mod:`linnet.studies`) build on it, the records (:mod:`linnet.records`) store what they
computed, and :mod:`linnet.experiments` is the command line.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TextIO

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_int, as_matrix, as_p, as_real
from .engine import CONVENTIONS, Run, _as_lrs, lp_minimum, run_lp_regression_seeds

__all__ = [
    "EDGE_SPREAD",
    "FINE_FACTOR",
    "METHODS",
    "PAPER_METHODS",
    "Comparison",
    "Progress",
    "Tuned",
    "compare_methods",
    "edge_verdict",
    "fewest_steps",
    "lr_grid",
    "order_verdict",
    "refine_rate",
    "relative_excess",
    "tune_lr",
]


FINE_FACTOR = 2.0**0.25
"""Step of the refined learning-rate grid (:func:`tune_lr` with ``refine=True``).

The book's tie rule: two methods whose rates were tuned on a grid of step ``f`` tie when
their step counts differ by less than the factor ``f`` (:func:`order_verdict`), since a
rate known only to within a grid step moves a count by about that much.
"""

#: The methods of the comparison, label -> options of :func:`linnet.run_lp_regression`.
METHODS: dict[str, dict[str, Any]] = {
    "GD": {"optimizer": "gd", "depth": 1},
    "GD, depth-2 network": {"optimizer": "gd", "depth": 2, "form": "factors"},
    "GD, depth-3 network": {"optimizer": "gd", "depth": 3, "form": "factors"},
    "end-to-end rule, N=2": {"optimizer": "gd", "depth": 2, "form": "end_to_end"},
    "end-to-end rule, N=3": {"optimizer": "gd", "depth": 3, "form": "end_to_end"},
    "AdaGrad": {"optimizer": "adagrad", "depth": 1},
    "AdaDelta": {"optimizer": "adadelta", "depth": 1},
    "Adam": {"optimizer": "adam", "depth": 1},
    "Adam, depth-2 network": {"optimizer": "adam", "depth": 2, "form": "factors"},
    "heavy ball (not in the paper)": {"optimizer": "momentum", "depth": 1},
}


#: Labels of :data:`METHODS` that the paper's Section 7.1 reports.
PAPER_METHODS = frozenset(m for m in METHODS if "not in the paper" not in m)


def lr_grid(low: float, high: float, factor: float = 2.0) -> FloatArray:
    """The grid ``low, factor low, factor**2 low, ...`` up to ``high`` (inclusive, rounded).

    Parameters
    ----------
    low, high : float
        ``0 < low <= high``.
    factor : float, default 2
        The step, ``> 1`` (``FINE_FACTOR`` for the refined grid).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> lr_grid(0.25, 2.0).tolist()
    [0.25, 0.5, 1.0, 2.0]
    >>> len(lr_grid(1.0, 2.0, FINE_FACTOR))
    5
    """
    bounds = _as_lrs([low, high])
    if bounds[1] < bounds[0]:
        raise ValueError(f"lr_grid needs low <= high, got low={low}, high={high}")
    step = as_real("factor", factor)
    if step <= 1:
        raise ValueError(f"factor must be > 1, got {factor}")
    n = int(np.floor(np.log(bounds[1] / bounds[0]) / np.log(step) + 1e-9)) + 1
    return bounds[0] * step ** np.arange(n, dtype=float)


@dataclass(frozen=True, eq=False)
class Tuned:
    """One method with its learning rate tuned on a grid (see :func:`tune_lr`).

    Attributes
    ----------
    method
        Label of the method.
    options
        Options of :func:`linnet.run_lp_regression`.
    lrs
        The final grid (sorted, after any extension).
    score
        Per rate: mean over seeds of the final loss (``inf`` if any seed diverged).
    best_lr
        The rate with the lowest score.
    at_edge
        Whether the best rate is still the smallest or largest of the grid.
    runs
        One :class:`linnet.Run` per seed over the whole grid.
    conventions
        ``"torch"`` or ``"tf1"``: the optimizer defaults used
        (``linnet.engine.CONVENTIONS``).
    grid_factor
        The step of the grid around ``best_lr``: ``2`` on the starting grid,
        ``FINE_FACTOR`` (:math:`2^{1/4}`) after refinement.  Verdicts between
        methods tuned this way treat a smaller ratio of counts as a tie.
    """

    method: str
    options: dict[str, Any]
    lrs: FloatArray
    score: FloatArray
    best_lr: float
    at_edge: bool
    runs: list[Run]
    conventions: str = "torch"
    grid_factor: float = 2.0

    @property
    def best_index(self) -> int:
        """Index of ``best_lr`` in ``lrs``."""
        return int(np.flatnonzero(self.lrs == self.best_lr)[0])

    def curves(self) -> FloatArray:
        """Loss curves at the best rate, shape ``(steps + 1, n_seeds)``."""
        i = self.best_index
        return np.stack([run.losses[:, i] for run in self.runs], axis=1)


def _merge(old: list[Run], new: list[Run]) -> list[Run]:
    """Per seed, the union of two grids (sorted by rate)."""
    merged = []
    for a, b in zip(old, new, strict=True):
        lrs = np.concatenate([a.lrs, b.lrs])
        order = np.argsort(lrs)
        merged.append(
            Run(
                losses=np.concatenate([a.losses, b.losses], axis=1)[:, order],
                lrs=lrs[order],
                W_e0=a.W_e0,
                W_e=np.concatenate([a.W_e, b.W_e])[order],
                diverged=np.concatenate([a.diverged, b.diverged])[order],
                p=a.p,
                optimizer=a.optimizer,
                depth=a.depth,
                form=a.form,
                init=a.init,
                hyper=a.hyper,
                terms=a.terms,
                path=None
                if a.path is None or b.path is None
                else np.concatenate([a.path, b.path], axis=1)[:, order],
                conventions=a.conventions,
            )
        )
    return merged


def _score(runs: list[Run]) -> FloatArray:
    finals = np.stack([run.final_loss for run in runs])  # (seeds, rates), inf if diverged
    return finals.mean(axis=0)


def tune_lr(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    steps: int,
    lrs: ArrayLike,
    seeds: Sequence[int] = (0, 1, 2),
    method: str = "GD",
    options: Mapping[str, Any] | None = None,
    extend: int = 6,
    conventions: str = "torch",
    refine: bool = False,
) -> Tuned:
    """Tune one method's learning rate by its loss at the step budget.

    Every rate of ``lrs`` runs for every seed (one batched
    :func:`linnet.run_lp_regression_seeds` call).  The score of a rate is the
    mean over seeds of its final loss, ``inf`` if it diverged for any seed; the
    best rate minimises it.  If the best rate is the smallest or the largest
    of the grid, the grid is extended by two factor-2 steps in that direction
    and only the new rates are run, up to ``extend`` times.  With ``refine``, the
    rates ``best * FINE_FACTOR**k`` for ``k = -3, ..., 3`` (:math:`2^{1/4}` apart,
    filling the gaps to the factor-2 neighbours) are run too, and the best rate
    is chosen again, by the same rule, on the union.

    Parameters
    ----------
    X, y : array_like
        Data, as for :func:`linnet.run_lp_regression`.
    p, steps : int
        Loss exponent and step budget.
    lrs : array_like
        Starting grid (factor 2 apart, see :func:`lr_grid`).
    seeds : sequence of int, default (0, 1, 2)
    method : str, default "GD"
        A label of :data:`METHODS` (its options are used unless ``options`` is given).
    options : mapping, optional
        Options of :func:`linnet.run_lp_regression` (``optimizer``, ``depth``, ...).
    extend : int, default 6
        Maximal number of grid extensions.
    conventions : {"torch", "tf1"}, default "torch"
        Optimizer defaults for AdaGrad, AdaDelta and Adam: PyTorch's or
        TensorFlow 1's, which the paper used (AdaGrad accumulator 0.1 and no
        epsilon; AdaDelta ``rho=0.95``, ``eps=1e-8``; Adam's epsilon as
        "epsilon hat"); see :func:`linnet.run_lp_regression`.  Hyper-parameters
        given in ``options`` override them.
    refine : bool, default False
        Refine the rate on a :math:`2^{1/4}` grid around the best rate.

    Returns
    -------
    Tuned

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> tuned = tune_lr(X, y, p=2, steps=20, lrs=[0.25, 0.5], seeds=[0])
    >>> tuned.best_lr, tuned.at_edge   # 2.0 solves this problem in one step
    (2.0, False)
    """
    if options is None:
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r}; choose one of {list(METHODS)}")
        options = METHODS[method]
    grid = np.sort(_as_lrs(lrs))
    n_extend = as_int("extend", extend, 0)
    if "conventions" in options:
        raise TypeError("pass conventions= to tune_lr itself, not inside options")
    if not isinstance(conventions, str) or conventions not in CONVENTIONS:
        raise ValueError(f"unknown conventions {conventions!r}; choose one of {list(CONVENTIONS)}")
    kwargs = {"p": p, "steps": steps, "conventions": conventions, **options}
    runs = run_lp_regression_seeds(X, y, seeds=list(seeds), lrs=grid, **kwargs)
    for attempt in range(n_extend + 1):
        score = _score(runs)
        lrs_now = runs[0].lrs
        if np.all(np.isinf(score)):
            new = lrs_now[0] / np.array([4.0, 2.0])  # everything diverged: go lower
        else:
            best = int(np.argmin(score))
            if 0 < best < lrs_now.size - 1:
                break
            if best == 0:
                new = lrs_now[0] / np.array([4.0, 2.0])
            else:
                new = lrs_now[-1] * np.array([2.0, 4.0])
        if attempt == n_extend:
            break
        runs = _merge(runs, run_lp_regression_seeds(X, y, seeds=list(seeds), lrs=new, **kwargs))
    score = _score(runs)
    if np.all(np.isinf(score)):
        raise ValueError(f"{method}: every learning rate diverged for some seed")
    if refine:
        centre = float(runs[0].lrs[int(np.argmin(score))])
        fine = centre * FINE_FACTOR ** np.array([-3.0, -2.0, -1.0, 1.0, 2.0, 3.0])
        fine = fine[~np.isclose(fine[:, None], runs[0].lrs[None, :], rtol=1e-12).any(axis=1)]
        if fine.size:
            more = run_lp_regression_seeds(X, y, seeds=list(seeds), lrs=fine, **kwargs)
            runs = _merge(runs, more)
        score = _score(runs)
    lrs_final = runs[0].lrs
    best = int(np.argmin(score))
    return Tuned(
        method=method,
        options=dict(options),
        lrs=lrs_final,
        score=score,
        best_lr=float(lrs_final[best]),
        at_edge=best in (0, lrs_final.size - 1),
        runs=runs,
        conventions=conventions,
        grid_factor=FINE_FACTOR if refine else 2.0,
    )


@dataclass(frozen=True, eq=False)
class Comparison:
    """The outcome of :func:`compare_methods` on one data set and one ``p``.

    Attributes
    ----------
    p
        The loss exponent.
    steps
        The step budget.
    seeds
        The seeds (one starting point each).
    L_star
        :func:`linnet.lp_minimum` of the data.
    target
        Shape ``(n_seeds,)``: per seed, the final loss of depth-1 gradient
        descent at its tuned rate.
    tuned
        Method label -> :class:`Tuned`.
    iterations
        Method label -> ``(n_seeds,)`` steps to reach ``target`` at its tuned
        rate (``inf`` if not within ``run_on * steps``).
    conventions
        ``"torch"`` or ``"tf1"``: the adaptive baselines' defaults.
    """

    p: int
    steps: int
    seeds: tuple[int, ...]
    L_star: float
    target: FloatArray
    tuned: dict[str, Tuned]
    iterations: dict[str, FloatArray]
    conventions: str = "torch"
    run_on: int = 1
    network_diverged: dict[str, bool] = field(default_factory=dict)

    @property
    def L0(self) -> FloatArray:
        """Shape ``(n_seeds,)``: the loss at the common start :math:`W_e(0)` of each seed."""
        return np.array([run.losses[0, 0] for run in self.tuned["GD"].runs])

    @property
    def target_rel_gap(self) -> FloatArray:
        """Shape ``(n_seeds,)``: the target's relative gap :math:`(L_T - L^*)/(L_0 - L^*)`.

        Computed by :func:`relative_excess`.
        """
        return relative_excess(self.target, self.L0, self.L_star)

    def network_diverged_at(self, label: str) -> bool | None:
        """For an end-to-end rule, whether GD on the same network diverges at the rule's rate.

        The rule of Theorem 1 is gradient descent on a network only in the
        limit of small rates; at a rate where gradient descent on the explicit
        depth-``N`` network (``"GD, depth-N network"``) diverges for some seed,
        the rule's figure is not the network's.  ``None`` if ``label`` is not a
        rule or the network was not run (:func:`compare_methods` runs the network
        at the rule's rate when that rate is not on the network's own grid).
        """
        return self.network_diverged.get(label)

    def rows(self) -> list[dict[str, Any]]:
        """One dictionary per method: the table the chapter and the command print.

        A target that a seed does not reach within ``run_on * steps`` is
        censored: it is never averaged (as 0 or otherwise); the mean, the
        speed-up and the maximum are then NaN and ``reached`` is False.

        Keys (in this order):

        * ``method``, ``in_paper``, ``conventions`` (of the adaptive methods);
        * ``best_lr``, ``lr_grid_factor`` (the step of the grid it was chosen on:
          2, or :math:`2^{1/4}` when refined), ``lr_at_grid_edge``,
          ``network_diverged_at_lr`` (for an
          end-to-end rule: whether GD on the same explicit network diverges at
          the rule's rate, see :meth:`network_diverged_at`; else ``None``);
        * ``L_star``, ``L0_mean`` (loss at the start), ``target_mean`` (GD's
          final loss, mean over seeds), ``target_rel_gap`` (mean over seeds of
          :math:`(L_T - L^*)/(L_0 - L^*)`);
        * ``reached`` (every seed reached the target), ``seeds_reached``,
          ``run_on`` (the count horizon, ``run_on * steps``), ``ran_on``
          (some count exceeds the budget ``steps``);
        * ``iterations_mean`` (NaN unless every seed reached), ``iterations_min``
          (over the seeds that reached; NaN if none), ``iterations_max`` (NaN
          unless every seed reached), ``iterations_per_seed`` (``"a;b;c"``,
          ``nan`` for a seed that did not reach);
        * ``speedup_vs_gd`` (GD's mean iterations over this method's; NaN
          unless every seed reached);
        * ``final_gap_mean`` and ``final_rel_gap_mean`` (mean over seeds of
          :math:`L - L^*` and of the relative gap at the budget).
        """
        gd = float(np.mean(self.iterations["GD"])) if "GD" in self.iterations else np.nan
        L0 = self.L0
        out = []
        for label, tuned in self.tuned.items():
            its = np.asarray(self.iterations[label], dtype=float)
            hit = np.isfinite(its)
            every = bool(hit.all())
            mean = float(np.mean(its)) if every else np.nan
            final = tuned.curves()[-1]
            out.append(
                {
                    "method": label,
                    "in_paper": label in PAPER_METHODS,
                    "conventions": self.conventions,
                    "best_lr": tuned.best_lr,
                    "lr_grid_factor": tuned.grid_factor,
                    "lr_at_grid_edge": tuned.at_edge,
                    "network_diverged_at_lr": self.network_diverged_at(label),
                    "L_star": self.L_star,
                    "L0_mean": float(np.mean(L0)),
                    "target_mean": float(np.mean(self.target)),
                    "target_rel_gap": float(np.mean(self.target_rel_gap)),
                    "reached": every,
                    "seeds_reached": int(hit.sum()),
                    "run_on": self.run_on * self.steps,
                    "ran_on": bool(np.any(its[hit] > self.steps)),
                    "iterations_mean": mean,
                    "iterations_min": float(np.min(its[hit])) if hit.any() else np.nan,
                    "iterations_max": float(np.max(its)) if every else np.nan,
                    "iterations_per_seed": ";".join(
                        f"{v:.0f}" if np.isfinite(v) else "nan" for v in its
                    ),
                    "speedup_vs_gd": gd / mean if every and mean > 0 else np.nan,
                    "final_gap_mean": float(np.mean(final - self.L_star)),
                    "final_rel_gap_mean": float(
                        np.mean((final - self.L_star) / (L0 - self.L_star))
                    ),
                }
            )
        return out


class Progress:
    """A one-line text progress bar on a stream (no dependencies).

    Examples
    --------
    >>> import io
    >>> stream = io.StringIO()
    >>> bar = Progress(2, stream=stream, width=4)
    >>> bar.update("first"); bar.update("second"); bar.close()
    >>> stream.getvalue().splitlines()[-1].startswith("[####] 2/2")
    True
    """

    def __init__(self, total: int, *, stream: TextIO | None = None, width: int = 30) -> None:
        self.total = as_int("total", total, 1)
        self.width = as_int("width", width, 1)
        self.stream = sys.stderr if stream is None else stream
        self.done = 0
        self.start = time.perf_counter()

    def update(self, label: str = "") -> None:
        """Count one finished task and redraw the bar."""
        self.done = min(self.done + 1, self.total)
        filled = round(self.width * self.done / self.total)
        bar = "#" * filled + "." * (self.width - filled)
        elapsed = time.perf_counter() - self.start
        self.stream.write(f"\r[{bar}] {self.done}/{self.total} {elapsed:6.1f}s {label[:40]:<40}")
        self.stream.flush()

    def close(self) -> None:
        """End the line."""
        self.stream.write("\n")
        self.stream.flush()


def compare_methods(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    steps: int,
    methods: Mapping[str, Mapping[str, Any]] | Sequence[str] | None = None,
    lrs: ArrayLike | None = None,
    seeds: Sequence[int] = (0, 1, 2),
    extend: int = 6,
    progress: Progress | None = None,
    conventions: str = "torch",
    run_on: int = 1,
    refine: bool = True,
) -> Comparison:
    """Run the Section 7.1 comparison on one data set for one ``p``.

    Each method's rate is tuned with :func:`tune_lr` and, by default, refined on a
    :math:`2^{1/4}` grid around the best rate of the starting grid (GD included), so
    that every verdict rests on refined rates; the target of seed ``s``
    is the final loss of depth-1 gradient descent (``"GD"``, always included) at
    its tuned rate; every method's iterations to that target are counted at
    its own tuned rate.  With ``run_on > 1``, a method that misses the target
    within the budget for some seed is run on at its tuned rate for
    ``run_on * steps`` steps (all seeds, one batched
    :func:`linnet.run_lp_regression_seeds` call) and those seeds' counts are
    taken from the longer run (chapter 6 uses ``run_on=4``); a target still
    missed is ``inf``.

    Parameters
    ----------
    X, y : array_like
    p, steps : int
    methods : mapping or sequence of labels, optional
        Labels of :data:`METHODS`, or a mapping label -> options; default all.
    lrs : array_like, optional
        Starting grid for every method; default ``lr_grid(2**-12, 2**2)``.
    seeds : sequence of int, default (0, 1, 2)
    extend : int, default 6
        Grid extensions allowed per method (see :func:`tune_lr`).
    progress : Progress, optional
        Updated once per method.
    conventions : {"torch", "tf1"}, default "torch"
        Optimizer defaults of the adaptive baselines (see :func:`tune_lr`).
    run_on : int, default 1
        Count iterations up to ``run_on * steps`` (``1``: within the budget).
    refine : bool, default True
        Refine every method's rate (:func:`tune_lr` with ``refine=True``).

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from linnet.datasets import sensor_like
    >>> data = sensor_like(m=60, d=6, seed=0)
    >>> result = compare_methods(data.X, data.y, p=4, steps=100,
    ...                          methods=["GD", "end-to-end rule, N=2"], seeds=[0, 1])
    >>> [row["method"] for row in result.rows()]
    ['GD', 'end-to-end rule, N=2']
    >>> bool(np.all(result.iterations["GD"] <= 100))
    True
    """
    inputs = as_matrix("X", X)
    order = as_p(p)
    n_steps = as_int("steps", steps, 1)
    if methods is None:
        chosen: dict[str, Mapping[str, Any]] = dict(METHODS)
    elif isinstance(methods, Mapping):
        chosen = dict(methods)
    else:
        unknown = [m for m in methods if m not in METHODS]
        if unknown:
            raise ValueError(f"unknown method(s) {unknown}; choose from {list(METHODS)}")
        chosen = {m: METHODS[m] for m in methods}
    if "GD" not in chosen:
        chosen = {"GD": METHODS["GD"], **chosen}
    grid = lr_grid(2.0**-12, 2.0**2) if lrs is None else _as_lrs(lrs)
    seed_list = tuple(as_int(f"seeds[{i}]", s, 0) for i, s in enumerate(seeds))
    if not seed_list:
        raise ValueError("seeds must contain at least one seed")
    L_star = lp_minimum(inputs, y, order).L_star
    tuned: dict[str, Tuned] = {}
    for label, options in chosen.items():
        tuned[label] = tune_lr(
            inputs, y, p=order, steps=n_steps, lrs=grid, seeds=seed_list,
            method=label, options=options, extend=extend, conventions=conventions,
            refine=refine,
        )  # fmt: skip
        if progress is not None:
            progress.update(f"p={order} {label}")
    horizon = as_int("run_on", run_on, 1)
    target = tuned["GD"].curves()[-1]
    iterations = {}
    for label, t in tuned.items():
        its = np.array(
            [run.steps_to(level)[t.best_index] for run, level in zip(t.runs, target, strict=True)]
        )
        if horizon > 1 and not np.all(np.isfinite(its)):
            longer = run_lp_regression_seeds(
                inputs, y, seeds=list(seed_list), p=order, lrs=[t.best_lr],
                steps=horizon * n_steps, conventions=conventions, **t.options,
            )  # fmt: skip
            its = np.where(
                np.isfinite(its),
                its,
                [run.steps_to(level)[0] for run, level in zip(longer, target, strict=True)],
            )
        iterations[label] = its
    return Comparison(
        p=order,
        steps=n_steps,
        seeds=seed_list,
        L_star=L_star,
        target=target,
        tuned=tuned,
        iterations=iterations,
        conventions=conventions,
        run_on=horizon,
        network_diverged=_networks_at_rule_rates(
            inputs, y, tuned, seed_list, order, n_steps, conventions
        ),
    )


def _networks_at_rule_rates(
    X: FloatArray,
    y: ArrayLike,
    tuned: Mapping[str, Tuned],
    seeds: Sequence[int],
    p: int,
    steps: int,
    conventions: str,
) -> dict[str, bool]:
    """For each end-to-end rule: does GD on its explicit network diverge at the rule's rate?"""
    out = {}
    for label, t in tuned.items():
        opts = t.options
        if opts.get("form") != "end_to_end" or opts.get("depth", 1) < 2:
            continue
        net = next(
            (
                n
                for n in tuned.values()
                if n.options.get("form") == "factors"
                and n.options.get("optimizer", "gd") == "gd"
                and n.options.get("depth") == opts["depth"]
                and n.options.get("init", "balanced") == opts.get("init", "balanced")
            ),
            None,
        )
        if net is None:
            continue
        at = np.flatnonzero(net.lrs == t.best_lr)
        if at.size:
            out[label] = bool(any(run.diverged[at[0]] for run in net.runs))
        else:
            runs = run_lp_regression_seeds(
                X, y, seeds=list(seeds), p=p, lrs=[t.best_lr], steps=steps,
                conventions=conventions, **net.options,
            )  # fmt: skip
            out[label] = bool(any(run.diverged[0] for run in runs))
    return out


def relative_excess(level: ArrayLike, L0: ArrayLike, L_star: float) -> FloatArray:
    r"""The relative gap :math:`(L_T - L^*) / (L_0 - L^*)` of a loss level.

    A target of relative gap :math:`10^{-4}` asks a method to remove all but
    :math:`10^{-4}` of the initial excess loss; on data whose optimum is
    nearly exact, a "GD's final loss" target can sit at a relative gap so
    small that an iteration count measures only the last sliver of training.

    Parameters
    ----------
    level, L0 : array_like
        Loss levels and initial losses (broadcast together).
    L_star : float
        The optimal loss (:func:`linnet.lp_minimum`).

    Returns
    -------
    ndarray

    Examples
    --------
    >>> float(relative_excess(1.01, 2.0, 1.0))
    0.01
    """
    star = as_real("L_star", L_star)
    lev = np.asarray(level, dtype=float)
    start = np.asarray(L0, dtype=float)
    if np.any(start <= star):
        raise ValueError("every initial loss L0 must exceed L_star")
    return (lev - star) / (start - star)


def fewest_steps(run: Run, level: float) -> tuple[float, float]:
    """Fewest steps to a loss level over the rates of a run that never diverged.

    Parameters
    ----------
    run : Run
    level : float
        A loss level.

    Returns
    -------
    steps : float
        ``inf`` if no such rate reaches ``level`` within the run.
    lr : float
        The rate that does it (``nan`` if none).

    Examples
    --------
    >>> from linnet import run_lp_regression
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> run = run_lp_regression(X, y, p=2, lrs=[0.5, 2.0, 8.0], steps=5)
    >>> fewest_steps(run, 1e-20)    # rate 2 solves it in one step
    (1.0, 2.0)
    """
    steps = np.where(run.diverged, np.inf, run.steps_to(level))
    if not np.any(np.isfinite(steps)):
        return np.inf, np.nan
    i = int(np.argmin(steps))
    return float(steps[i]), float(run.lrs[i])


def _verdict_inputs(n_a: float, n_b: float, resolution: float) -> tuple[float, float, float]:
    """Checked ``(resolution, a, b)`` of a verdict: resolution >= 1, counts >= 0 or inf."""
    res = as_real("resolution", resolution)
    if res < 1:
        raise ValueError(f"resolution must be >= 1, got {resolution}")
    a, b = float(n_a), float(n_b)
    if np.isnan(a) or np.isnan(b) or a < 0 or b < 0:
        raise ValueError(f"iteration counts must be >= 0 or inf, got {n_a}, {n_b}")
    return res, a, b


def order_verdict(
    n_a: float, n_b: float, *, resolution: float = FINE_FACTOR, spread: float = 1.0
) -> str:
    """The order of two iteration counts, or a tie inside the resolution.

    ``"faster"`` if ``a`` needs fewer iterations than ``b`` by more than the
    factor ``resolution``, ``"slower"`` if more by that factor, ``"tie"``
    otherwise.  A count of ``inf`` (target not reached) is censored: it loses
    to any finite count, and two of them give ``"neither reached"``.  The
    resolution is the step of the grid on which both rates were tuned (the
    book's one tie rule): ``FINE_FACTOR`` (:math:`2^{1/4}`) for refined rates.
    A ratio within the factor ``spread`` of the threshold, on either side, is
    ``"borderline"``: ``spread`` is how far round-off on another CPU can move
    the ratio (``1``: not at all), so that no verdict flips between machines.

    Parameters
    ----------
    n_a, n_b : float
        Iteration counts (``inf`` allowed).
    resolution : float, default FINE_FACTOR
        Must be ``>= 1``.
    spread : float, default 1
        Must be ``>= 1``.

    Returns
    -------
    str

    Examples
    --------
    >>> order_verdict(100, 400), order_verdict(212, 236), order_verdict(np.inf, 10)
    ('faster', 'tie', 'slower')
    >>> order_verdict(100, 150, resolution=1.5, spread=1.02)
    'borderline'
    """
    res, a, b = _verdict_inputs(n_a, n_b, resolution)
    s = as_real("spread", spread)
    if s < 1:
        raise ValueError(f"spread must be >= 1, got {spread}")
    if np.isinf(a) and np.isinf(b):
        return "neither reached"
    if np.isinf(a):
        return "slower"
    if np.isinf(b):
        return "faster"
    ratio = max(a, b) / min(a, b) if min(a, b) > 0 else np.inf
    if res / s <= ratio <= res * s and s > 1:
        return "borderline"
    if a * res < b:
        return "faster"
    if b * res < a:
        return "slower"
    return "tie"


EDGE_SPREAD = 1.4
"""How far round-off moves a step count at the edge of stability (a factor; measured 1.31).

GD and Adam on networks with the l2 loss reach their tuned rates' targets through
"catapults" (the loss shoots up 50 to 120 times and comes back) whose timing round-off
decides: between OpenBLAS kernels their counts differ by up to 31 %, and a target reached
on one CPU may be missed on another (``benchmarks/kernel_spread.py``).
"""


def edge_verdict(n_a: float, n_b: float, *, resolution: float = 1.5) -> str:
    """The only order reproducible for a count at the edge of stability: faster or not.

    ``"faster"`` if ``a`` needs fewer iterations than ``b`` by more than
    ``resolution * EDGE_SPREAD`` (so that no machine's rounding can undo it), else
    ``"not faster"``: a tie, a loss and a target not reached (``inf``) are not told
    apart, since round-off moves such a count by up to ``EDGE_SPREAD`` and can turn a late
    arrival into none.

    Examples
    --------
    >>> edge_verdict(100, 400), edge_verdict(899, 1000), edge_verdict(np.inf, 1000)
    ('faster', 'not faster', 'not faster')
    """
    res, a, b = _verdict_inputs(n_a, n_b, resolution)
    return "faster" if np.isfinite(a) and a * res * EDGE_SPREAD < b else "not faster"


def refine_rate(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    steps: int,
    center: float,
    seeds: Sequence[int] = (0, 1, 2),
    options: Mapping[str, Any],
    factor: float = 2.0**0.25,
    half_width: int = 3,
) -> Tuned:
    """Re-tune a rate on a finer grid ``center * factor**k``, ``|k| <= half_width``.

    The criterion is the protocol's (:func:`tune_lr`: mean
    final loss over seeds, a rate that diverges for any seed excluded), without
    grid extension.  With ``factor = 2**(1/4)`` and ``half_width = 3`` the
    grid fills the gaps between ``center`` and its factor-2 neighbours.

    Parameters
    ----------
    X, y : array_like
    p, steps : int
    center : float
        The rate tuned on the coarse grid.
    seeds : sequence of int, default (0, 1, 2)
    options : mapping
        Options of :func:`linnet.run_lp_regression` for the method.
    factor : float, default 2**0.25
        Must be ``> 1``.
    half_width : int, default 3

    Returns
    -------
    Tuned

    Examples
    --------
    >>> X, y = np.eye(2), np.array([1.0, 0.5])
    >>> fine = refine_rate(X, y, p=2, steps=3, center=1.5, seeds=[0],
    ...                    options={"optimizer": "gd", "depth": 1})
    >>> round(fine.best_lr, 3)   # the grid point closest to the one-step rate 2
    2.121
    """
    c = as_real("center", center)
    f = as_real("factor", factor)
    if c <= 0 or f <= 1:
        raise ValueError(f"center must be > 0 and factor > 1, got {center}, {factor}")
    k = as_int("half_width", half_width, 1)
    grid = c * f ** np.arange(-k, k + 1, dtype=float)
    return tune_lr(X, y, p=p, steps=steps, lrs=grid, seeds=seeds, options=dict(options), extend=0)
