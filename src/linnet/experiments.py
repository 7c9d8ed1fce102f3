r"""The command line of the Section 7.1 protocol: ``python -m linnet.experiments``.

Command line::

    python -m linnet.experiments acceleration [--data PATH] [--out DIR]
        [--budgets 1000,3000,10000] [--conventions torch,tf1] [--p 2,4]
        [--lrs LOW,HIGH] [--run-on 4] [--seeds 3] [--width 16] [--no-refine] [--no-plots]

It runs chapter 6's protocol (its defaults: the synthetic
:func:`linnet.datasets.sensor_like` data with ``m=512, d=32, seed=0`` and the
noise calibrated to the paper's data, ``r2=GAS_R2``, and
:func:`linnet.datasets.tecator`; rates from ``2**-9`` to ``2`` extended at the
edges, each method's best rate refined on a :math:`2^{1/4}` grid unless
``--no-refine``; 3 seeds; iterations counted up to 4 times the budget; the GD
networks also from a near-zero Gaussian start), or, with
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
import time
from collections.abc import Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

import numpy as np

from .engine import CONVENTIONS
from .protocol import Comparison, Progress, lr_grid
from .records import file_sha256
from .studies import _CONVENTION_FREE, CH6_PROTOCOL, SYNTHETIC, acceleration_rows, protocol_methods

__all__ = ["main", "read_acceleration"]


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


def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, float) and np.isnan(value):
        return "nan"
    return value


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
            provenance["data_sha256"] = file_sha256(where)
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
                    refine=not args.no_refine,
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
    if args.no_refine:
        command.append("--no-refine")
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
            "the loss at the budget (3 seeds), refine it on a 2^(1/4) grid around the best "
            "rate, then count iterations to reach GD's final "
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
    acc.add_argument(
        "--no-refine",
        action="store_true",
        help="keep each method's rate from the factor-2 grid (default: refine it on a "
        "2^(1/4) grid around the best rate, GD included)",
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
