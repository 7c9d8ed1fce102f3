"""Speed benchmarks for linnet (run with `make bench`; not part of the test suite).

Prints a table and writes ``_build/bench.json``, a flat object of named figures
measured on the machine it runs on:

* ``e2e_step_over_gd_k1`` / ``e2e_step_over_gd_k8``: per-step cost of the
  end-to-end rule (depth 2, ``form="end_to_end"``) relative to a plain GD step,
  on a 2565 x 128 problem (the size of the paper's gas data) with k = 1 and
  k = 8 outputs (targets 1.15 and 1.5: one output needs no SVD);
* ``grid16_over_separate``: a 16-rate batched grid relative to 16 separate
  one-rate runs (target 0.5);
* ``deep3_step_over_gd``: a depth-3 ``factors`` step relative to GD, from the
  default balanced start (trained at width rank W_e(0)), and
  ``deep3_gaussian_step_over_gd`` from a Gaussian start (full width 128);
* ``chapter_NN_s``: execution time in seconds of each ``book/NN_*.ipynb``
  (nbclient, ``LINNET_STATIC_WIDGETS=1`` as in ``make book``);
* ``page_<page>_MB``: first-visit weight of each page of the built book
  (``_build/html``, after ``make book``): every byte Chromium receives opening it with an
  empty cache and scrolling to its end (``tests/browser/weight.py``), uncompressed; and
  ``page_weight_max_chapter_MB``, the heaviest chapter (target 4). Skipped, with a message,
  when the book is not built or Chromium is missing; ``--no-pages`` skips it.

Timings are the best of several interleaved repeats (the least disturbed by
other load); per-step costs are differences between runs of 120 and 20 steps,
so the set-up of a run cancels.  The engine figures use one BLAS thread (``OPENBLAS_NUM_THREADS=1``
unless set): on a small shared machine, multi-threaded BLAS on these thin
products is slower and very noisy.  The chapters run in kernels with the
environment ``make book`` gives them (the caller's, without that setting).

Also printed: the per-call cost of :func:`linnet.end_to_end_update` relative to
the gradient it preconditions, for a few shapes.
"""

from __future__ import annotations

import json
import os
import sys
import time
import timeit
from pathlib import Path

_CALLER_ENV = dict(os.environ)
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import numpy as np  # noqa: E402

import linnet  # noqa: E402
from linnet.data import make_regression  # noqa: E402
from linnet.datasets import sensor_like  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
TARGETS = {
    "e2e_step_over_gd_k1": 1.15,
    "e2e_step_over_gd_k8": 1.5,
    "grid16_over_separate": 0.5,
    "chapter_06_s": 45.0,
    "page_weight_max_chapter_MB": 4.0,
}


def best_time(func, repeat: int = 5, number: int = 20) -> float:
    """Best wall time of one call, in seconds."""
    return min(timeit.repeat(func, repeat=repeat, number=number)) / number


def interleaved(funcs: dict[str, object], repeat: int = 7) -> dict[str, float]:
    """Best time of each function, measured in alternation (shared load affects all alike)."""
    best = dict.fromkeys(funcs, np.inf)
    for _ in range(repeat):
        for name, func in funcs.items():
            start = time.perf_counter()
            func()
            best[name] = min(best[name], time.perf_counter() - start)
    return best


def engine_figures() -> dict[str, float]:
    data = sensor_like(m=2565, d=128, seed=0)
    X, y = data.X, data.y
    Y8 = np.stack([np.roll(y, 7 * c) for c in range(8)], axis=1)
    lr = 1e-3  # stable for every model here; no rate diverges
    short, long = 20, 120  # per-step cost = (t(long) - t(short)) / 100: set-up cancels

    def run(Y, steps, lrs=(lr,), **kw):
        return lambda: linnet.run_lp_regression(X, Y, p=4, lrs=list(lrs), steps=steps, **kw)

    models = {
        "gd_k1": (y, {}),
        "e2e_k1": (y, {"depth": 2, "form": "end_to_end"}),
        "gd_k8": (Y8, {}),
        "e2e_k8": (Y8, {"depth": 2, "form": "end_to_end"}),
        "deep3": (y, {"depth": 3}),
        "deep3_gaussian": (y, {"depth": 3, "init": "gaussian", "init_scale": 0.1}),
    }
    funcs = {}
    for name, (Y, kw) in models.items():
        funcs[name, short] = run(Y, short, **kw)
        funcs[name, long] = run(Y, long, **kw)
    t = interleaved(funcs, repeat=15)
    step = {name: (t[name, long] - t[name, short]) / (long - short) for name in models}
    lrs = 1e-4 * 2.0 ** np.arange(16)
    grid = interleaved(
        {
            "batched": run(y, long, lrs=lrs),
            "separate": lambda: [run(y, long, lrs=[r])() for r in lrs],
        },
        repeat=5,
    )
    return {
        "gd_step_k1_us": 1e6 * step["gd_k1"],
        "gd_step_k8_us": 1e6 * step["gd_k8"],
        "e2e_step_over_gd_k1": step["e2e_k1"] / step["gd_k1"],
        "e2e_step_over_gd_k8": step["e2e_k8"] / step["gd_k8"],
        "grid16_over_separate": grid["batched"] / grid["separate"],
        "deep3_step_over_gd": step["deep3"] / step["gd_k1"],
        "deep3_gaussian_step_over_gd": step["deep3_gaussian"] / step["gd_k1"],
        "blas_threads_engine": float(os.environ["OPENBLAS_NUM_THREADS"]),
        "cpu_count": float(os.cpu_count() or 0),
    }


def chapter_times() -> dict[str, float]:
    import nbformat
    from nbclient import NotebookClient

    os.environ.clear()
    os.environ.update(_CALLER_ENV)  # the kernels get the environment make book gives them
    os.environ["LINNET_STATIC_WIDGETS"] = "1"
    figures = {}
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(
            nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": path.parent}}
        )
        start = time.perf_counter()
        try:
            client.execute()
        except Exception as exc:  # report, do not hide, a failing chapter
            message = str(exc).strip().splitlines()[-1:] or [""]
            print(f"{path.name}: execution failed: {type(exc).__name__}: {message[0][:200]}",
                  file=sys.stderr)  # fmt: skip
            figures[f"chapter_{path.name[:2]}_s"] = float("nan")
            continue
        figures[f"chapter_{path.name[:2]}_s"] = time.perf_counter() - start
    return figures


def page_weights() -> dict[str, float]:
    """First-visit weight of every page of the built book, in MB (printed as a table)."""
    sys.path.insert(0, str(ROOT))
    from tests.browser.conftest import toc_pages
    from tests.browser.weight import site_weights

    site = ROOT / "_build" / "html"
    if not (site / "index.html").exists():
        print("page weights skipped: the book is not built (make book)", file=sys.stderr)
        return {}
    try:
        weights = site_weights(site, toc_pages())
    except (ImportError, RuntimeError) as exc:
        print(f"page weights skipped: {exc}", file=sys.stderr)
        return {}
    kinds = ["html", "js", "css", "font", "image", "other", "total"]
    print(f"\n{'page (MB, first visit)':<32}" + "".join(f"{k:>7}" for k in kinds))
    figures = {}
    for page, weight in weights.items():
        print(f"{page:<32}" + "".join(f"{weight[k] / 1e6:>7.2f}" for k in kinds))
        figures[f"page_{Path(page).stem}_MB"] = weight["total"] / 1e6
    chapters = [w["total"] / 1e6 for p, w in weights.items() if Path(p).stem[:2].isdigit()]
    if chapters:
        figures["page_weight_max_chapter_MB"] = max(chapters)
    return figures


def update_rule_table() -> None:
    print(f"{'m':>6} {'d':>4} {'k':>3} {'grad [ms]':>10} {'update [ms]':>12} {'ratio':>6}")
    for m, d, k in [(1000, 128, 1), (1000, 128, 8), (1000, 128, 32)]:
        X, y, _ = make_regression(m, d, k, seed=0)
        W = 0.1 * np.random.default_rng(0).standard_normal((k, d))
        G = linnet.lp_loss_grad(W, X, y, 4)
        t_grad = best_time(lambda X=X, y=y, W=W: linnet.lp_loss_grad(W, X, y, 4))
        t_update = best_time(lambda W=W, G=G: linnet.end_to_end_update(W, G, 3, 1e-3))
        print(
            f"{m:>6} {d:>4} {k:>3} {1e3 * t_grad:>10.3f} {1e3 * t_update:>12.3f} "
            f"{t_update / t_grad:>6.2f}"
        )


def main() -> None:
    update_rule_table()
    figures = engine_figures()
    if "--no-chapters" not in sys.argv:
        figures.update(chapter_times())
    if "--no-pages" not in sys.argv:
        figures.update(page_weights())
    print(f"\n{'figure':<30} {'value':>10} {'target':>8}")
    for name, value in figures.items():
        target = TARGETS.get(name)
        mark = "" if target is None else ("ok" if value <= target else "MISSED")
        if not np.isfinite(value):
            mark = "FAILED"
        shown = "" if target is None else f"<= {target:g}"
        print(f"{name:<30} {value:>10.3f} {shown:>8} {mark}")
    out = ROOT / "_build" / "bench.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    clean = {k: (round(v, 4) if np.isfinite(v) else None) for k, v in figures.items()}
    out.write_text(json.dumps(clean, indent=2) + "\n")  # null: a chapter that failed
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
