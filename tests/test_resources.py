"""linnet.resources: what the chapters read from disk ships with linnet, and they read it there.

The wheel alone must run every chapter (issue 23): so no chapter may read a path relative to
the folder it runs in; the files come from ``linnet.resources`` (one copy, under
``src/linnet/``, package data in ``pyproject.toml``).  That the built wheel holds them and
runs every chapter is checked in ``tests/test_dist.py`` and ``tests/browser/test_dist.py``.
"""

from __future__ import annotations

import json
import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

import nbformat
import pytest

import linnet
from linnet import records, resources

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb"))


def test_results_and_datasets_are_in_the_package():
    package = Path(linnet.__file__).parent
    assert resources.results_dir() == package / "_results"
    assert resources.datasets_dir() == package / "_datasets"
    lsq = json.loads(resources.result("gas_least_squares.json").read_text())
    assert lsq["least_squares_r2"] == pytest.approx(linnet.datasets.GAS_R2, rel=1e-12)
    assert records.gas_budget_dirs() == sorted(
        p.parent for p in resources.results_dir().glob("gas/T*/provenance.json")
    )
    assert len(records.gas_budget_dirs()) == 4
    assert records.RECORD.parent == resources.results_dir()


def test_missing_result_names_what_and_where():
    with pytest.raises(FileNotFoundError, match=r"no_such\.json.*_results"):
        resources.result("no_such.json")


def test_every_shipped_file_is_package_data():
    """Each file under _results/ and _datasets/ matches a package-data pattern (so the wheel
    holds it), and nothing is left in book/results/ (one copy)."""
    with open(ROOT / "pyproject.toml", "rb") as f:
        patterns = tomllib.load(f)["tool"]["setuptools"]["package-data"]["linnet"]
    package = ROOT / "src" / "linnet"
    for folder in ("_results", "_datasets"):
        for path in (package / folder).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                rel = path.relative_to(package).as_posix()
                depth = rel.count("/")
                assert any(fnmatch(rel, p) and depth == p.count("/") for p in patterns), rel
    assert not (ROOT / "book" / "results").exists()


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.name)
def test_chapters_read_no_file_relative_to_their_folder(path: Path):
    """A downloaded chapter runs in any folder: it reads shipped files through linnet."""
    relative = re.compile(r"""(Path|open)\(\s*["'](?!/)[^"']*["']""")
    for cell in nbformat.read(path, as_version=4).cells:
        if cell.cell_type == "code":
            for line in cell.source.splitlines():
                assert not relative.search(line), f"{path.name}: {line.strip()}"
