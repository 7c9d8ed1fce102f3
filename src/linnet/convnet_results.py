r"""Chapter 7's convnet runs (the paper's §7.2 experiment), recorded once and shipped.

Training every arm of chapter 7 for 2000 steps takes minutes, more than a chapter may
spend, so the runs are recorded by one command and shipped with ``linnet`` under
``_results/`` (one compressed ``.npz`` file per arm, with the command, the ``linnet``
and NumPy versions inside)::

    python -m linnet.convnet_results            # every arm (about 15 min on 2 cores)
    python -m linnet.convnet_results --arms base "tutorial init"

Nothing is fitted or edited by hand: the chapter reads the files with
:func:`load_arm`, and reruns a sample with :func:`rerun_sample` (so does the test
suite), which must reproduce the recorded curves.

Every arm trains with the tutorial's optimizer (momentum 0.9, batches of 64, learning
rate decayed by 0.95 per epoch; :func:`linnet.train_convnet`) on a grid of learning
rates, three seeds each.  The arms:

- ``base``, ``tutorial init``, ``identity init``: the chapter's model (hidden width 24),
  without and with the overparameterization, the new square factors drawn like every
  other matrix or set to the identity;
- ``base, product scale``: the base model with its dense matrices rescaled at the start
  to the scale of the tutorial-init products (:func:`linnet.product_scale`), the control
  that separates the initial scale from the overparameterization;
- ``base 512``, ``base 512, product scale``, ``tutorial init 512``: the same at hidden
  width 512, the width of the paper's first dense layer, where the products start about
  twice as large as a single matrix.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ._validation import FloatArray
from .nonlinear import Digits, load_digits, product_scale, steps_to_levels, train_convnet
from .resources import results_dir

__all__ = ["ARMS", "LEVELS", "RecordedArm", "load_arm", "record_arm", "rerun_sample"]

#: Mini-batch steps per run (about 89 epochs of the 1438 training images).
STEPS = 2000
#: Seeds of every arm.
SEEDS = (0, 1, 2)
#: The ladder of training-loss levels whose first-passage steps are recorded exactly.
LEVELS = (1.0, 0.3, 0.1, 0.03, 0.01, 0.003, 0.001)
#: Curves are stored every ``EVERY`` steps (the ladder is exact, from every step).
EVERY = 10
#: The tutorial's optimizer, shared by every arm.
MOMENTUM = 0.9

_GRID_24 = (0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64)
_GRID_512 = (0.0025, 0.005, 0.01, 0.02, 0.04, 0.08, 0.16)  # the product starts larger

#: Arm name -> keyword arguments of :func:`linnet.train_convnet` (``lrs`` included).
ARMS: dict[str, dict[str, Any]] = {
    "base": {"hidden": 24, "lrs": _GRID_24},
    "base, product scale": {
        "hidden": 24,
        "dense_scale": (product_scale(24), product_scale(10)),
        "lrs": _GRID_24,
    },
    "tutorial init": {"hidden": 24, "overparameterize": True, "lrs": _GRID_24},
    "identity init": {
        "hidden": 24,
        "overparameterize": True,
        "factor_init": "identity",
        "lrs": _GRID_24,
    },
    "base 512": {"hidden": 512, "lrs": _GRID_24},
    "base 512, product scale": {
        "hidden": 512,
        "dense_scale": (product_scale(512), product_scale(10)),
        "lrs": _GRID_24,
    },
    "tutorial init 512": {"hidden": 512, "overparameterize": True, "lrs": _GRID_512},
}


@dataclass(frozen=True)
class RecordedArm:
    """One arm's recorded runs (``L`` learning rates x ``S`` seeds).

    Attributes
    ----------
    name
        The arm's name (a key of ``linnet.convnet_results.ARMS``).
    lrs
        Shape ``(L,)``.
    seeds
        Shape ``(S,)``.
    steps
        Shape ``(K,)``: the steps at which ``train_loss`` is stored (``EVERY, ..., STEPS``).
    train_loss
        Shape ``(L, S, K)``: the training loss (mean of the last epoch's mini-batch losses,
        :class:`linnet.ConvNetRun`), NaN once a run diverged.
    levels
        The ladder of loss levels.
    ladder
        Shape ``(L, S, len(levels))``: first step at which the training loss is at or
        below each level, ``inf`` if never within ``STEPS`` (censored).
    final_train_loss, train_accuracy, test_accuracy
        Shape ``(L, S)``: on the whole training set / test set after the last step.
    n_params
        Trainable parameters of one model.
    command
        The command that recorded the file.
    meta
        Everything else recorded with it: the arm's specification, seeds, ``linnet`` and
        NumPy versions.
    """

    name: str
    lrs: FloatArray
    seeds: np.ndarray
    steps: np.ndarray
    train_loss: FloatArray
    levels: tuple[float, ...]
    ladder: FloatArray
    final_train_loss: FloatArray
    train_accuracy: FloatArray
    test_accuracy: FloatArray
    n_params: int
    command: str
    meta: dict[str, Any]


def _file_name(name: str) -> str:
    slug = "".join(c if c.isalnum() else "_" for c in name)
    return f"convnet_{slug}.npz"


def _results_dir() -> Path:
    return results_dir()


def _check_arm(name: Any) -> dict[str, Any]:
    if name not in ARMS:
        raise ValueError(f"unknown arm {name!r}; the arms are {sorted(ARMS)}")
    return dict(ARMS[name])


def _train(
    name: str, lrs: Sequence[float], seeds: Sequence[int], steps: int, data: Digits | None = None
):
    spec = _check_arm(name)
    spec.pop("lrs")
    digits = load_digits() if data is None else data
    return train_convnet(digits, list(lrs), list(seeds), steps=steps, momentum=MOMENTUM, **spec)


def record_arm(name: str, out_dir: str | Path | None = None) -> Path:
    """Train one arm on its whole grid for ``STEPS`` steps and write its ``.npz`` file.

    Parameters
    ----------
    name : str
        A key of ``linnet.convnet_results.ARMS``.
    out_dir : str or Path, optional
        Where to write; by default the package's ``_results`` folder.

    Returns
    -------
    Path
        The file written.
    """
    lrs = _check_arm(name)["lrs"]
    run = _train(name, lrs, SEEDS, STEPS)
    folder = Path(out_dir) if out_dir is not None else _results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / _file_name(name)
    from . import __version__

    meta = {
        "arm": name,
        "spec": {k: list(v) if isinstance(v, tuple) else v for k, v in ARMS[name].items()},
        "steps": STEPS,
        "seeds": list(SEEDS),
        "momentum": MOMENTUM,
        "command": f'python -m linnet.convnet_results --arms "{name}"',
        "linnet": __version__,
        "numpy": np.__version__,
    }
    np.savez_compressed(
        path,
        meta=np.array(json.dumps(meta)),
        lrs=np.asarray(lrs, dtype=np.float64),
        seeds=np.asarray(SEEDS),
        steps=np.arange(EVERY, STEPS + 1, EVERY),
        train_loss=run.train_loss[:, :, EVERY - 1 :: EVERY].astype(np.float32),
        levels=np.asarray(LEVELS),
        ladder=steps_to_levels(run.train_loss, LEVELS),
        final_train_loss=run.final_train_loss,
        train_accuracy=run.train_accuracy,
        test_accuracy=run.test_accuracy,
        n_params=np.asarray(run.n_params),
    )
    return path


def load_arm(name: str) -> RecordedArm:
    """Read one arm's recorded runs (shipped with ``linnet``; nothing is trained).

    Parameters
    ----------
    name : str
        A key of ``linnet.convnet_results.ARMS``.

    Returns
    -------
    RecordedArm

    Examples
    --------
    >>> arm = load_arm("base")
    >>> arm.train_loss.shape[-1], arm.ladder.shape[-1]
    (200, 7)
    """
    _check_arm(name)
    path = _results_dir() / _file_name(name)
    if not path.is_file():
        raise FileNotFoundError(
            f"no recorded results for arm {name!r} ({path.name}); record them with "
            f'python -m linnet.convnet_results --arms "{name}"'
        )
    with np.load(path) as f:
        meta = json.loads(str(f["meta"]))
        return RecordedArm(
            name=name,
            lrs=f["lrs"],
            seeds=f["seeds"],
            steps=f["steps"],
            train_loss=f["train_loss"].astype(np.float64),
            levels=tuple(float(v) for v in f["levels"]),
            ladder=f["ladder"],
            final_train_loss=f["final_train_loss"],
            train_accuracy=f["train_accuracy"],
            test_accuracy=f["test_accuracy"],
            n_params=int(f["n_params"]),
            command=meta["command"],
            meta=meta,
        )


def rerun_sample(
    name: str, i_lr: int, i_seed: int, steps: int = STEPS, *, perturb: float = 0.0
) -> dict[str, Any]:
    """Retrain one recorded run (or its first ``steps`` steps) and compare with the record.

    A run depends only on its own learning rate and seed, not on the rest of the grid, so
    a single run reproduces its row of the recorded grid.

    Parameters
    ----------
    name : str
        A key of ``linnet.convnet_results.ARMS``.
    i_lr, i_seed : int
        Indices into the arm's learning rates and seeds.
    steps : int
        Number of steps to retrain, a multiple of ``EVERY`` and at most ``STEPS``; the
        recorded curve is compared up to that step, the ladder only if ``steps = STEPS``.
    perturb : float, default 0
        Relative size of a round-off perturbation of the training images (each pixel
        multiplied by ``1 + perturb * z``, ``z`` standard normal, seeded): ``1e-7`` moves
        pixels by about one float32 unit in the last place, as another machine's rounding
        would.  :func:`linnet.records.check_convnet_sample` says whether the rerun still
        agrees with the record within the tolerances measured across BLAS kernels.

    Returns
    -------
    dict
        ``curve_rel_err``: largest relative difference between the recorded and the
        retrained training-loss curve; ``ladder_equal``: whether the ladder steps agree
        (``None`` if ``steps < STEPS``); ``recorded``, ``rerun``: the two curves (every
        ``EVERY`` steps); ``ladder``: the rerun's first-passage steps of the levels, and
        ``recorded_ladder`` the recorded ones (both ``inf`` where not reached; for
        ``steps < STEPS`` the recorded ladder is cut at ``steps``).
    """
    arm = load_arm(name)
    if steps % EVERY or not 0 < steps <= STEPS:
        raise ValueError(f"steps must be a multiple of {EVERY} in (0, {STEPS}], got {steps}")
    lr, seed = float(arm.lrs[i_lr]), int(arm.seeds[i_seed])
    data = load_digits()
    if perturb:
        noise = np.random.default_rng(12345).standard_normal(data.X_train.shape)
        data = replace(data, X_train=data.X_train * (1.0 + float(perturb) * noise))
    run = _train(name, [lr], [seed], steps, data=data)
    curve = run.train_loss[0, 0, EVERY - 1 :: EVERY]
    recorded = arm.train_loss[i_lr, i_seed, : len(curve)]
    with np.errstate(invalid="ignore"):
        rel = np.nanmax(np.abs(curve - recorded) / recorded) if np.isfinite(recorded).any() else 0
    same_nan = bool(np.array_equal(np.isnan(curve), np.isnan(recorded)))
    ladder = steps_to_levels(run.train_loss[0, 0], arm.levels)
    recorded_ladder = np.where(arm.ladder[i_lr, i_seed] <= steps, arm.ladder[i_lr, i_seed], np.inf)
    ladder_equal = bool(np.array_equal(ladder, recorded_ladder)) if steps == STEPS else None
    return {
        "curve_rel_err": float(rel) if same_nan else float("inf"),
        "ladder_equal": ladder_equal,
        "recorded": recorded,
        "rerun": curve,
        "ladder": ladder,
        "recorded_ladder": recorded_ladder,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: record the given arms (default: all) into ``_results``."""
    parser = argparse.ArgumentParser(
        prog="python -m linnet.convnet_results",
        description="Record chapter 7's convnet runs (the paper's §7.2 experiment).",
    )
    parser.add_argument("--arms", nargs="*", default=list(ARMS), help="arm names")
    parser.add_argument("--out", default=None, help="output folder (default: the package's)")
    args = parser.parse_args(argv)
    for name in args.arms:
        _check_arm(name)
    for name in args.arms:
        print(f"recording {name!r} ...", flush=True)
        print(record_arm(name, args.out), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
