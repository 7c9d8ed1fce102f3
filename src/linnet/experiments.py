r"""The protocol of Section 7.1 of the paper, as a library and as a command.

Section 7.1 compares, on an :math:`\ell_p` regression (``p = 2`` and ``p = 4``),
gradient descent on the linear model with gradient descent on deeper linear
networks (depth 2 and 3, i.e. the end-to-end rule of Theorem 1), and with the
adaptive methods AdaGrad, AdaDelta and Adam (also Adam on the depth-2
network).  This module makes that comparison *fair* and repeatable:

* every method gets its own learning rate, chosen on a factor-2 grid by the
  loss at the step budget (mean over seeds; a rate that diverges for any seed
  is excluded); if the best rate sits at an edge of the grid, the grid is
  extended by factor-2 steps in that direction (up to ``extend`` times) and
  ``Tuned.at_edge`` reports whether it is still at an edge;
* every method starts from the same :math:`W_e(0)` for a given seed;
* the score is the number of iterations each method needs to reach the loss
  that depth-1 gradient descent reaches at the budget (per seed), with its
  mean and spread over seeds.

Command line::

    python -m linnet.experiments acceleration [--data PATH] [--out DIR]
        [--budgets 1000,3000,10000] [--conventions torch,tf1] [--p 2,4]
        [--lrs LOW,HIGH] [--run-on 4] [--seeds 3] [--width 16] [--no-plots]

runs chapter 6's protocol (its defaults: the synthetic
:func:`linnet.datasets.sensor_like` data with ``m=512, d=32, seed=0`` and the
noise calibrated to the paper's data, ``r2=GAS_R2``, and
:func:`linnet.datasets.tecator`; rates from ``2**-9`` to ``2`` extended at the
edges; 3 seeds; iterations counted up to 4 times the budget), or, with
``--data``, on the UCI gas data at ``PATH``.  Each budget is a run of its own
(rates re-tuned at each budget).  ``--conventions`` chooses the adaptive
baselines' defaults (PyTorch's or TensorFlow 1's, which the paper used; both
with ``torch,tf1``).  It writes ``acceleration.csv`` (the columns of
``Comparison.rows()``, after ``data, m, d, p, seeds, budget``; an unreached
target is ``nan`` with ``reached = False``), ``provenance.json`` (command,
data sha256, versions, date) and, unless ``--no-plots``, one PNG of loss
curves per data set, ``p`` and convention (needs matplotlib) into ``DIR``
(default ``acceleration-results``).  On a machine busy with other work, run
it with ``OPENBLAS_NUM_THREADS=1``: the thin matrix products of the engine
gain little from BLAS threads and lose a lot when those threads compete with
other processes (measured: 2 to 6 times slower on a loaded 2-core machine).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path
from typing import Any, TextIO

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_int, as_matrix, as_p
from .engine import CONVENTIONS, Run, _as_lrs, lp_minimum, run_lp_regression_seeds

__all__ = [
    "CH6_PROTOCOL",
    "METHODS",
    "PAPER_METHODS",
    "SYNTHETIC",
    "Comparison",
    "Progress",
    "Tuned",
    "acceleration_rows",
    "compare_methods",
    "lr_grid",
    "main",
    "protocol_methods",
    "read_acceleration",
    "tune_lr",
]

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


def lr_grid(low: float, high: float) -> FloatArray:
    """The factor-2 grid ``low, 2 low, 4 low, ...`` up to ``high`` (inclusive, rounded).

    Parameters
    ----------
    low, high : float
        ``0 < low <= high``.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> lr_grid(0.25, 2.0).tolist()
    [0.25, 0.5, 1.0, 2.0]
    """
    bounds = _as_lrs([low, high])
    if bounds[1] < bounds[0]:
        raise ValueError(f"lr_grid needs low <= high, got low={low}, high={high}")
    n = int(np.floor(np.log2(bounds[1] / bounds[0]) + 1e-9)) + 1
    return bounds[0] * 2.0 ** np.arange(n)


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
    """

    method: str
    options: dict[str, Any]
    lrs: FloatArray
    score: FloatArray
    best_lr: float
    at_edge: bool
    runs: list[Run]
    conventions: str = "torch"

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
) -> Tuned:
    """Tune one method's learning rate by its loss at the step budget.

    Every rate of ``lrs`` runs for every seed (one batched
    :func:`linnet.run_lp_regression_seeds` call).  The score of a rate is the
    mean over seeds of its final loss, ``inf`` if it diverged for any seed; the
    best rate minimises it.  If the best rate is the smallest or the largest
    of the grid, the grid is extended by two factor-2 steps in that direction
    and only the new rates are run, up to ``extend`` times.

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
    lrs_final = runs[0].lrs
    if np.all(np.isinf(score)):
        raise ValueError(f"{method}: every learning rate diverged for some seed")
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

    @property
    def L0(self) -> FloatArray:
        """Shape ``(n_seeds,)``: the loss at the common start :math:`W_e(0)` of each seed."""
        return np.array([run.losses[0, 0] for run in self.tuned["GD"].runs])

    @property
    def target_rel_gap(self) -> FloatArray:
        """Shape ``(n_seeds,)``: the target's relative gap :math:`(L_T - L^*)/(L_0 - L^*)`.

        Computed by :func:`linnet.ablations.relative_excess`.
        """
        from .ablations import relative_excess

        return relative_excess(self.target, self.L0, self.L_star)

    def network_diverged_at(self, label: str) -> bool | None:
        """For an end-to-end rule, whether GD on the same network diverges at the rule's rate.

        The rule of Theorem 1 is gradient descent on a network only in the
        limit of small rates; at a rate where gradient descent on the explicit
        depth-``N`` network (``"GD, depth-N network"``) diverges for some seed,
        the rule's figure is not the network's.  ``None`` if ``label`` is not a
        rule, the network was not run, or the rate is not in the network's grid.
        """
        opts = self.tuned[label].options
        if opts.get("form") != "end_to_end" or opts.get("depth", 1) < 2:
            return None
        net = next(
            (
                t
                for t in self.tuned.values()
                if t.options.get("form") == "factors"
                and t.options.get("optimizer", "gd") == "gd"
                and t.options.get("depth") == opts["depth"]
                and t.options.get("init", "balanced") == opts.get("init", "balanced")
            ),
            None,
        )
        lr = self.tuned[label].best_lr
        if net is None or not np.any(net.lrs == lr):
            return None
        i = int(np.flatnonzero(net.lrs == lr)[0])
        return bool(any(run.diverged[i] for run in net.runs))

    def rows(self) -> list[dict[str, Any]]:
        """One dictionary per method: the table the chapter and the command print.

        A target that a seed does not reach within ``run_on * steps`` is
        censored: it is never averaged (as 0 or otherwise); the mean, the
        speed-up and the maximum are then NaN and ``reached`` is False.

        Keys (in this order):

        * ``method``, ``in_paper``, ``conventions`` (of the adaptive methods);
        * ``best_lr``, ``lr_at_grid_edge``, ``network_diverged_at_lr`` (for an
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
) -> Comparison:
    """Run the Section 7.1 comparison on one data set for one ``p``.

    Each method's rate is tuned with :func:`tune_lr`; the target of seed ``s``
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
    )


# ---------------------------------------------------------------------------
# Command line
# ---------------------------------------------------------------------------


def _plot(comparison: Comparison, title: str, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plotting import COLUMN_WIDTH, PALETTE, use_book_style

    use_book_style()
    fig, ax = plt.subplots(figsize=(COLUMN_WIDTH, 5.2))
    styles = ["-", "--", ":", "-."]
    floor = np.finfo(np.float64).eps * max(comparison.L_star, 1e-300)
    for i, (label, tuned) in enumerate(comparison.tuned.items()):
        gap = np.maximum(tuned.curves() - comparison.L_star, floor)  # round-off floor
        steps = np.arange(gap.shape[0])
        color = PALETTE[i % len(PALETTE)]
        ls = styles[(i // len(PALETTE)) % len(styles)]
        ax.plot(steps, np.median(gap, axis=1), color=color, ls=ls, lw=1.4,
                label=f"{label} (lr {tuned.best_lr:.3g})")  # fmt: skip
        ax.fill_between(steps, gap.min(axis=1), gap.max(axis=1), color=color, alpha=0.15, lw=0)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("L - L* (median, min-max over seeds)")
    ax.set_title(title)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, fontsize=9)
    fig.savefig(path)
    plt.close(fig)


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

#: Optimizers whose update is the same under every convention (tested in the engine).
_CONVENTION_FREE = ("gd", "momentum")


def protocol_methods(width: int = 16) -> dict[str, dict[str, Any]]:
    """:data:`METHODS` with chapter 6's hidden width for the explicit networks.

    With the balanced start the width does not change :math:`W_e` (see
    :func:`linnet.run_lp_regression`); it is recorded for the label's sake.

    Examples
    --------
    >>> protocol_methods()["GD, depth-2 network"]["width"]
    16
    """
    n = as_int("width", width, 1)
    return {
        label: {**opts, "width": n} if opts.get("form") == "factors" else dict(opts)
        for label, opts in METHODS.items()
    }


def _sha256(path: Path) -> str:
    import hashlib

    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    return value


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
) -> tuple[list[dict[str, Any]], dict[str, Comparison]]:
    """The protocol at one budget under one or more conventions: table rows and comparisons.

    The first convention runs every method; each further convention reruns only
    the methods whose optimizer depends on it (AdaGrad, AdaDelta, Adam), since
    gradient descent and momentum are the same under every convention.  Rows of
    convention-free methods carry ``conventions = "any"``.

    Returns
    -------
    rows : list of dict
        :meth:`Comparison.rows` with ``budget`` in front.
    comparisons : dict
        Convention -> :class:`Comparison`.

    Examples
    --------
    >>> from linnet.datasets import sensor_like
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
            progress=progress, conventions=conv, run_on=run_on,
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


def _typed(value: str) -> Any:
    if value == "":
        return None
    if value in ("True", "False"):
        return value == "True"
    try:
        number = float(value)
    except ValueError:
        return value
    return int(number) if number.is_integer() and "." not in value and "e" not in value else number


def read_acceleration(directory: str | Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Read what ``python -m linnet.experiments acceleration`` wrote: rows and provenance.

    Values are typed back (``"True"``/``"False"`` to bool, numbers to int or
    float, ``"nan"`` to NaN, an empty cell to ``None``; labels and
    ``iterations_per_seed`` stay strings).

    Parameters
    ----------
    directory : str or pathlib.Path
        The ``--out`` directory (holding ``acceleration.csv`` and ``provenance.json``).

    Returns
    -------
    rows : list of dict
    provenance : dict

    Examples
    --------
    >>> import contextlib, io, tempfile
    >>> table = np.random.default_rng(0).standard_normal((40, 129))
    >>> quiet = io.StringIO()
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     np.savetxt(f"{tmp}/g.csv", table, delimiter=",")
    ...     with contextlib.redirect_stdout(quiet), contextlib.redirect_stderr(quiet):
    ...         _ = main(["acceleration", "--data", f"{tmp}/g.csv", "--out", tmp,
    ...                   "--budgets", "5", "--p", "2", "--seeds", "1", "--no-plots"])
    ...     rows, provenance = read_acceleration(tmp)
    >>> rows[0]["method"], rows[0]["budget"], rows[0]["reached"], provenance["table"]
    ('GD', 5, True, 'acceleration.csv')
    """
    import json

    folder = Path(directory)
    provenance = json.loads((folder / "provenance.json").read_text())
    with (folder / provenance.get("table", "acceleration.csv")).open(newline="") as handle:
        raw = list(csv.DictReader(handle))
    keep = {"method", "conventions", "iterations_per_seed", "data"}
    rows = [{k: (v if k in keep else _typed(v)) for k, v in row.items()} for row in raw]
    return rows, provenance


def _int_list(text: str, name: str) -> list[int]:
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{name} must be comma-separated integers, got {text!r}"
        ) from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError(f"{name} must be integers >= 1, got {text!r}")
    return values


def _acceleration(args: argparse.Namespace) -> int:
    import json
    import os
    import platform
    from datetime import datetime

    from . import __version__, datasets

    started = time.perf_counter()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    provenance: dict[str, Any] = {}
    if args.data is not None:
        where = Path(args.data)
        sets = [("uci_gas", datasets.uci_gas(where))]
        if where.is_file():
            provenance["data_file"] = where.name
            provenance["data_sha256"] = _sha256(where)
    else:
        sets = [
            ("synthetic", datasets.sensor_like(**SYNTHETIC)),
            ("Tecator", datasets.tecator("fat")),
        ]
    methods = protocol_methods(args.width)
    seeds = list(range(args.seeds))
    grid = lr_grid(*args.lrs)
    n_tasks = sum(
        len(methods) if i == 0 else sum(
            o.get("optimizer", "gd") not in _CONVENTION_FREE for o in methods.values()
        ) + 1
        for i in range(len(args.conventions))
    ) * len(sets) * len(args.p) * len(args.budgets)  # fmt: skip
    progress = Progress(n_tasks)
    rows = []
    for name, data in sets:
        for p in args.p:
            for budget in args.budgets:
                found, comps = acceleration_rows(
                    data.X, data.y, p=p, budget=budget, methods=methods, lrs=grid,
                    seeds=seeds, conventions=args.conventions, run_on=args.run_on,
                    progress=progress,
                )  # fmt: skip
                head = {"data": name, "m": data.X.shape[0], "d": data.X.shape[1], "p": p}
                rows += [{**head, "seeds": len(seeds), **row} for row in found]
                if budget == max(args.budgets) and not args.no_plots:
                    for conv, comp in comps.items():
                        _plot(
                            comp,
                            f"{data.name}, l{p} loss, T = {budget} ({conv})",
                            out / f"acceleration_{name}_p{p}_{conv}.png",
                        )
    progress.close()
    table = out / "acceleration.csv"
    with table.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows([{k: _csv_value(v) for k, v in row.items()} for row in rows])
    command = ["python", "-m", "linnet.experiments", "acceleration"]
    if args.data is not None:
        command += ["--data", "$LINNET_GAS_DATA"]
    command += [
        "--budgets", ",".join(map(str, args.budgets)), "--seeds", str(args.seeds),
        "--conventions", ",".join(args.conventions), "--p", ",".join(map(str, args.p)),
        "--lrs", ",".join(f"{v!r}" for v in args.lrs), "--run-on", str(args.run_on),
        "--width", str(args.width),
    ]  # fmt: skip
    if args.no_plots:
        command.append("--no-plots")
    provenance.update(
        {
            "command": " ".join(command) + " --out DIR",
            "linnet_version": __version__,
            "numpy_version": np.__version__,
            "python": platform.python_version(),
            "openblas_num_threads": os.environ.get("OPENBLAS_NUM_THREADS", ""),
            "date_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "seconds": round(time.perf_counter() - started, 1),
            "table": table.name,
            "columns": list(rows[0]),
        }
    )
    (out / "provenance.json").write_text(json.dumps(provenance, indent=1) + "\n")
    figures = "" if args.no_plots else " and the figures"
    print(f"wrote {table}, provenance.json{figures} in {out}/")
    for row in rows:
        up = row["speedup_vs_gd"]
        shown = f"{up:5.2f}x" if np.isfinite(up) else "  not reached"
        print(
            f"{row['data']:>9} p={row['p']} T={row['budget']:<6} {row['conventions']:<5} "
            f"{row['method']:<30} lr {row['best_lr']:<9.3g} speed-up {shown}"
        )
    return 0


#: Chapter 6's synthetic data (:func:`linnet.datasets.sensor_like` keywords): 512 x 32,
#: noise calibrated to the least-squares R^2 of the paper's data (``datasets.GAS_R2``).
SYNTHETIC: dict[str, Any] = {"m": 512, "d": 32, "seed": 0, "r2": 0.9436274368487378}


def _float_pair(text: str) -> tuple[float, float]:
    try:
        values = tuple(float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--lrs must be 'low,high', got {text!r}") from None
    if len(values) != 2 or not 0 < values[0] <= values[1] or not np.all(np.isfinite(values)):
        raise argparse.ArgumentTypeError(
            f"--lrs must be 'low,high' with 0 < low <= high, got {text!r}"
        )
    return values  # type: ignore[return-value]


def _conventions(text: str) -> list[str]:
    values = [v.strip() for v in text.split(",") if v.strip()]
    bad = [v for v in values if v not in CONVENTIONS]
    if not values or bad or len(set(values)) != len(values):
        raise argparse.ArgumentTypeError(
            f"--conventions must list distinct names of {list(CONVENTIONS)}, got {text!r}"
        )
    return values


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``python -m linnet.experiments``.

    Examples
    --------
    >>> main(["--help"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    SystemExit: 0
    """
    parser = argparse.ArgumentParser(
        prog="python -m linnet.experiments",
        description="Experiments of Arora, Cohen & Hazan (2018) with linnet.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    acc = sub.add_parser(
        "acceleration",
        help="Section 7.1: GD on linear networks vs the end-to-end rule vs AdaGrad/AdaDelta/Adam",
        description=(
            "Chapter 6's protocol: tune each method's learning rate on a factor-2 grid by "
            "the loss at the budget (3 seeds), then count iterations to reach GD's final "
            "loss, running on to 4 times the budget if needed (l2 and l4 losses). Writes "
            "acceleration.csv (unreached targets are NaN with reached = False), "
            "provenance.json and PNG loss curves. On a busy machine, set "
            "OPENBLAS_NUM_THREADS=1 in the environment (BLAS threads then hurt)."
        ),
    )
    acc.add_argument(
        "--data",
        help="UCI gas-sensor data (zip, directory of batch*.dat, CSV or .csv.gz); "
        "default: chapter 6's data, the synthetic sensor_like(m=512, d=32, seed=0, "
        "r2=GAS_R2) and Tecator (fat)",
    )
    acc.add_argument("--out", default="acceleration-results", help="output directory")
    acc.add_argument(
        "--budgets",
        type=lambda t: _int_list(t, "--budgets"),
        default=list(CH6_PROTOCOL["budgets"]),
        help="comma-separated step budgets, each run on its own (default 1000; "
        "the issue's study: 1000,3000,10000)",
    )
    acc.add_argument(
        "--steps", type=int, default=None, help="one step budget (same as --budgets STEPS)"
    )
    acc.add_argument(
        "--seeds", type=int, default=CH6_PROTOCOL["seeds"], help="number of seeds (default 3)"
    )
    acc.add_argument(
        "--conventions",
        type=_conventions,
        default=list(CH6_PROTOCOL["conventions"]),
        help="optimizer defaults of AdaGrad/AdaDelta/Adam: torch, tf1 (the paper's "
        "TensorFlow 1), or torch,tf1 for both (default torch)",
    )
    acc.add_argument(
        "--p",
        type=lambda t: _int_list(t, "--p"),
        default=list(CH6_PROTOCOL["losses"]),
        help="loss exponents (default 2,4)",
    )
    acc.add_argument(
        "--lrs",
        type=_float_pair,
        default=CH6_PROTOCOL["grid"],
        help="'low,high': the starting factor-2 grid of rates (default 2^-9 to 2; "
        "extended at its edges as needed)",
    )
    acc.add_argument(
        "--run-on",
        type=int,
        default=CH6_PROTOCOL["run_on"],
        help="count iterations up to RUN_ON times the budget (default 4)",
    )
    acc.add_argument(
        "--width", type=int, default=CH6_PROTOCOL["width"], help="hidden width of the networks"
    )
    acc.add_argument("--no-plots", action="store_true", help="write no PNG figures")
    args = parser.parse_args(argv)
    if args.steps is not None:
        if args.steps < 1:
            parser.error("--steps must be >= 1")
        args.budgets = [args.steps]
    if args.seeds < 1 or args.run_on < 1 or args.width < 1:
        parser.error("--seeds, --run-on and --width must be >= 1")
    if any(p < 2 or p % 2 for p in args.p):
        parser.error(f"--p must list even integers >= 2, got {args.p}")
    return _acceleration(args)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
