"""The files shipped inside ``linnet``: recorded results and data sets.

Everything a chapter reads from disk is package data of ``linnet`` (``pyproject.toml``,
``[tool.setuptools.package-data]``), so that the wheel alone runs every chapter, from any
folder.  There is one copy of each file, under ``src/linnet/``: a source checkout (an editable
install) reads it there, an installed wheel reads its installed copy.

* ``_results/``: results recorded once and checked against reruns (:mod:`linnet.records`):
  chapter 6's budget sweeps (``ch6_budgets.json``), the results on the paper's gas-sensor data
  (``gas/T*/``, ``gas_least_squares.json``; ``GAS_README.md`` says how they were made) and
  chapter 7's convnet runs (``convnet_*.npz``; ``README.md``).
* ``_datasets/``: the small data sets, each with its licence note.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

__all__ = ["datasets_dir", "result", "results_dir"]


def _package_dir(name: str) -> Path:
    return Path(str(resources.files("linnet").joinpath(name)))


def results_dir() -> Path:
    """The folder of recorded results shipped with ``linnet`` (``linnet/_results``).

    Examples
    --------
    >>> sorted(p.name for p in (results_dir() / "gas").glob("T*"))
    ['T1000', 'T10000-p2', 'T10000-p4', 'T3000']
    """
    return _package_dir("_results")


def datasets_dir() -> Path:
    """The folder of data sets shipped with ``linnet`` (``linnet/_datasets``).

    Examples
    --------
    >>> (datasets_dir() / "tecator.csv.gz").is_file()
    True
    """
    return _package_dir("_datasets")


def result(*parts: str) -> Path:
    """The path of one shipped result file, e.g. ``result("gas_least_squares.json")``.

    Raises
    ------
    FileNotFoundError
        If ``linnet`` ships no such file (naming the folder that was searched).

    Examples
    --------
    >>> result("gas", "T1000", "provenance.json").name
    'provenance.json'
    """
    path = results_dir().joinpath(*parts)
    if not path.exists():
        raise FileNotFoundError(
            f"linnet ships no result {'/'.join(parts)!r} (looked in {results_dir()})"
        )
    return path
