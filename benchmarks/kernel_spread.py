"""Spread of the recorded results across BLAS kernels (a one-off measurement, not a test).

The records shipped with ``linnet`` (chapter 6's sweeps, chapter 7's convnet runs, the gas
results under ``src/linnet/_results/gas/``) are recomputed on a reader's machine by the tests and
the chapters, whose CPU may make OpenBLAS pick other kernels than the recording machine's.
This script recomputes what the verdicts rest on and writes it to a JSON file; run it once
per kernel (``OPENBLAS_CORETYPE`` for that command alone), then compare the files::

    OPENBLAS_CORETYPE=Sandybridge python benchmarks/kernel_spread.py run _build/spread/sb.json
    OPENBLAS_CORETYPE=Haswell python benchmarks/kernel_spread.py run _build/spread/hw.json
    python benchmarks/kernel_spread.py run _build/spread/native.json
    python benchmarks/kernel_spread.py compare _build/spread/*.json

``compare`` prints, per kind of quantity, the largest relative difference between the
files and against the record, which is what the tolerances in ``linnet.records`` are
chosen from.  With ``LINNET_GAS_DATA`` set, the gas results of the shortest budget are
recomputed too (about 3 minutes).  ``--only ch6,convnet,gas`` picks parts.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # before numpy is imported

import numpy as np  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def _kernel() -> str:
    from threadpoolctl import threadpool_info

    blas = [i for i in threadpool_info() if i["user_api"] == "blas"]
    return ",".join(str(i.get("architecture")) for i in blas)


def _ch6() -> dict[str, Any]:
    from linnet.records import _ch6_entries, chapter6_data

    out = {}
    for name, data in chapter6_data().items():
        for key, (_, compute) in _ch6_entries(name, data).items():
            out[key] = json.loads(json.dumps(compute()))
            print(f"  {key}", flush=True)
    return out


#: (arm, i_lr, i_seed, steps): the runs the chapter and the tests retrain.
CONVNET_SAMPLES = (
    ("tutorial init", 3, 0, 2000),
    ("tutorial init", 3, 2, 2000),
    ("tutorial init 512", 3, 1, 200),
    ("base 512, product scale", 4, 0, 100),
)


def _convnet() -> dict[str, Any]:
    from linnet.records import rerun_sample

    out = {}
    for name, i_lr, i_seed, steps in CONVNET_SAMPLES:
        got = rerun_sample(name, i_lr, i_seed, steps=steps)
        out[f"{name}/{i_lr}/{i_seed}/{steps}"] = {
            "curve": [float(v) for v in got["rerun"]],
            "ladder": [float(v) for v in got["ladder"]],
            "final_loss": float(got["rerun"][-1]),
        }
        print(f"  {name} {i_lr} {i_seed} {steps}", flush=True)
    return out


def _gas() -> dict[str, Any]:
    from linnet.records import gas_budget_dirs, rerun_gas_record

    folder = min(gas_budget_dirs(), key=lambda d: len(d.name))
    with tempfile.TemporaryDirectory() as tmp:
        rows = rerun_gas_record(folder, os.environ["LINNET_GAS_DATA"], Path(tmp))
    return {folder.name: rows}


def run(path: Path, parts: list[str]) -> None:
    result: dict[str, Any] = {"kernel": _kernel(), "numpy": np.__version__}
    if "ch6" in parts:
        print("chapter 6 sweeps", flush=True)
        result["ch6"] = _ch6()
    if "convnet" in parts:
        print("chapter 7 convnet samples", flush=True)
        result["convnet"] = _convnet()
    if "gas" in parts and os.environ.get("LINNET_GAS_DATA"):
        print("gas results", flush=True)
        result["gas"] = _gas()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"wrote {path} ({result['kernel']})")


def _leaves(tree: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(tree, dict):
        out: dict[str, Any] = {}
        for key, value in tree.items():
            out.update(_leaves(value, f"{prefix}/{key}" if prefix else str(key)))
        return out
    if isinstance(tree, list) and tree and isinstance(tree[0], dict):
        out = {}
        for i, value in enumerate(tree):
            label = value.get("method", i) if isinstance(value, dict) else i
            tag = f"{value.get('p')}/{value.get('budget')}/{value.get('conventions')}/{label}"
            out.update(_leaves(value, f"{prefix}/{tag}"))
        return out
    return {prefix: tree}


def _kind(path: str) -> str:
    """Group a leaf by source, quantity and count class (for the printed table)."""
    from linnet.records import count_class

    parts = path.split("/")
    if parts[0] == "ch6" and parts[1] == "budgets":
        p = parts[3][1:]
        if parts[4] == "reads":
            qty, method = parts[6], parts[7] if len(parts) > 7 else ""
            return f"ch6 budgets: {qty} ({count_class(method, p)})" if method else f"ch6: {qty}"
        if parts[4] == "precision":
            return f"ch6 budgets: fewest steps ({count_class(parts[5], p, fewest=True)})"
        return f"ch6 budgets: {parts[4]}"
    if parts[0] == "ch6":
        return f"ch6 robustness: {parts[-1]} ({count_class(parts[-2], 4)})"
    if parts[0] == "gas":
        p, method, qty = parts[2], parts[5], parts[-1]
        return f"gas: {qty} ({count_class(method, p)})"
    return f"{parts[0]}: {parts[-1]} ({parts[1]})"


def _rel(a: Any, b: Any) -> float:
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if x.shape != y.shape:
        return np.inf
    both_inf = (np.isinf(x) & np.isinf(y) & (np.sign(x) == np.sign(y))) | (
        np.isnan(x) & np.isnan(y)
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        d = np.abs(x - y) / np.maximum(np.abs(y), 1e-300)
    d = np.where(both_inf, 0.0, d)
    d = np.where(np.isnan(d), np.inf, d)
    return float(d.max()) if d.size else 0.0


def _numeric(value: Any) -> Any:
    if isinstance(value, str) and ";" in value:
        return [float(v) for v in value.split(";")]
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def compare(paths: list[Path]) -> None:
    files = [json.loads(p.read_text()) for p in paths]
    print(
        "kernels:", ", ".join(f"{p.name}={f['kernel']}" for p, f in zip(paths, files, strict=True))
    )
    leaves = [_leaves({k: v for k, v in f.items() if k not in ("kernel", "numpy")}) for f in files]
    table: dict[str, tuple[float, str]] = {}
    for key in sorted(set().union(*leaves)):
        values = [_numeric(lv.get(key)) for lv in leaves]
        if any(isinstance(v, (str, bool)) or v is None for v in values):
            spread = 0.0 if len({json.dumps(v) for v in values}) == 1 else np.inf
        else:
            spread = max(_rel(a, values[0]) for a in values[1:])
        kind = _kind(key)
        if spread > table.get(kind, (-1.0, ""))[0]:
            table[kind] = (spread, key)
    width = max(len(k) for k in table)
    for kind, (spread, key) in sorted(table.items()):
        print(f"{kind:<{width}}  {spread:9.2e}   ({key})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run")
    r.add_argument("out", type=Path)
    r.add_argument("--only", default="ch6,convnet,gas")
    c = sub.add_parser("compare")
    c.add_argument("files", nargs="+", type=Path)
    args = parser.parse_args(argv)
    if args.cmd == "run":
        run(args.out, args.only.split(","))
    else:
        compare(args.files)
    return 0


if __name__ == "__main__":
    sys.exit(main())
