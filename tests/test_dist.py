"""What the site serves and says about itself (book/_ext/linnet_dist.py, issue 17).

The end-to-end checks on the built site are in ``tests/browser/test_dist.py``. Here: the
version has one value everywhere, the lock has hashes, the bundle's file list, and a tiny
Jupyter Book (one notebook, not executed) built with and without ``LINNET_REPOSITORY_URL``:
launch buttons with the right URLs in the first, none in the second.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import nbformat
import pytest

import linnet

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("linnet_dist", ROOT / "book/_ext/linnet_dist.py")
dist = importlib.util.module_from_spec(spec)
spec.loader.exec_module(dist)


def test_one_version_everywhere():
    with open(ROOT / "pyproject.toml", "rb") as f:
        declared = tomllib.load(f)["project"]["version"]
    assert dist.version() == declared == linnet.__version__
    assert dist.wheel_name(declared) == f"linnet-{declared}-py3-none-any.whl"
    assert declared in dist.bundle_name(declared)


def test_lock_pins_every_requirement_with_hashes():
    text = (ROOT / "requirements.lock").read_text()
    requirements = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", text, re.M)
    assert len(requirements) > 50
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 6)[-1])
    for block in blocks:
        if block.strip() and not block.startswith("#"):
            assert "--hash=sha256:" in block, block.splitlines()[0]
    names = {name.lower().replace("_", "-") for name, _ in requirements}
    assert {"sympy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab-myst"} <= names
    assert {"jupyter-book", "setuptools", "pytest", "nbval"} <= names


def test_book_extra_brings_what_a_chapter_runs_on():
    with open(ROOT / "pyproject.toml", "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    book = {re.split(r"[<>=!~ ]", r)[0].lower() for r in extras["book"]}
    assert {"sympy", "matplotlib", "ipywidgets", "jupyterlab", "jupyterlab-myst"} <= book
    imported = set()
    for path in sorted((ROOT / "book").glob("[0-9][0-9]_*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type == "code":
                imported |= set(re.findall(r"^\s*(?:from|import) ([a-z_]+)", cell.source, re.M))
    third_party = imported - set(sys.stdlib_module_names) - {"linnet", "numpy"}
    assert {m.replace("_", "-") for m in third_party} <= book, third_party - book


def test_bundle_members_are_sources_only():
    members = dist.bundle_members()
    names = {p.as_posix() for p in members}
    assert {"Makefile", "README.md", "pyproject.toml", "requirements.lock"} <= names
    assert any(n.startswith("src/linnet/") for n in names)
    assert any(re.match(r"book/\d\d_.*\.ipynb$", n) for n in names)
    for p in members:
        assert not {"_build", ".venv", "node_modules", "__pycache__"} & set(p.parts), p


def test_theme_options_follow_the_repository_variable():
    base = {"launch_buttons": {"binderhub_url": "https://mybinder.org"}, "repository_url": "x"}
    local = dist.theme_options(base, {})
    assert local["launch_buttons"] == {} and local["repository_url"] == ""
    assert not local["use_repository_button"]
    deployed = dist.theme_options(
        base,
        {"LINNET_REPOSITORY_URL": "https://github.com/o/r", "LINNET_REPOSITORY_BRANCH": "b"},
    )
    assert deployed["launch_buttons"] == base["launch_buttons"]
    assert deployed["repository_url"] == "https://github.com/o/r"
    assert deployed["repository_branch"] == "b" and deployed["use_repository_button"]


TINY_CONFIG = """
title: tiny
only_build_toc_files: true
exclude_patterns: [_build]
execute:
  execute_notebooks: "off"
launch_buttons:
  notebook_interface: jupyterlab
  binderhub_url: "https://mybinder.org"
  colab_url: "https://colab.research.google.com"
repository:
  url: ""
  branch: main
sphinx:
  local_extensions:
    linnet_dist: {ext}
"""
TINY_TOC = """
format: jb-book
root: book/intro
chapters:
  - file: book/01_tiny
  - file: book/run_it_yourself
"""


@pytest.fixture(scope="module")
def tiny_book(tmp_path_factory) -> Path:
    """A one-chapter book that uses the real extension, with a fake dist/ to publish."""
    root = tmp_path_factory.mktemp("tiny")
    (root / "book").mkdir()
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    (root / "_config.yml").write_text(TINY_CONFIG.format(ext=ROOT / "book" / "_ext"))
    (root / "_toc.yml").write_text(TINY_TOC)
    (root / "book/intro.md").write_text("# Tiny\n")
    (root / "book/run_it_yourself.md").write_text("# Run\n\n```{linnet-downloads}\n```\n")
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# A chapter"), nbformat.v4.new_code_cell("1")]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nb.metadata["language_info"] = {"name": "python"}
    nbformat.write(nb, root / "book/01_tiny.ipynb")
    fake = root / "fake_dist"
    fake.mkdir()
    ver = dist.version()
    for name in (dist.wheel_name(ver), dist.bundle_name(ver)):
        (fake / name).write_bytes(b"x")
    dist.write_checksums(fake)
    return root


def build(root: Path, out: str, **variables: str) -> Path:
    env = {k: v for k, v in os.environ.items() if not k.startswith("LINNET_")}
    env.update(variables, LINNET_DIST_DIR="fake_dist")
    jb = Path(sys.executable).parent / "jupyter-book"
    result = subprocess.run(
        [jb, "build", str(root), "--path-output", str(root / out), "-W", "-n", "--quiet"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return root / out / "_build" / "html"


def test_tiny_build_has_launch_buttons_only_with_a_repository(tiny_book: Path):
    repo = "https://github.com/someone/linnet-book"
    site = "https://someone.github.io/linnet-book"
    deployed = build(
        tiny_book,
        "deployed",
        LINNET_REPOSITORY_URL=repo,
        LINNET_REPOSITORY_BRANCH="main",
        LINNET_SITE_URL=site,
    )
    page = (deployed / "book/01_tiny.html").read_text()
    assert (
        "https://mybinder.org/v2/gh/someone/linnet-book/main?urlpath=lab/tree/book/01_tiny.ipynb"
        in page
    )
    assert (
        "https://colab.research.google.com/github/someone/linnet-book/blob/main/book/01_tiny.ipynb"
        in page
    )
    assert f'href="{repo}"' in page  # the repository button
    line = f'pip install "linnet[book] @ {site}/dist/{dist.wheel_name(dist.version())}"'
    assert line in html.unescape(re.sub(r"<[^>]+>", "", page))
    assert f"linnet {dist.version()} · built on " in page  # the footer
    assert (deployed / "dist" / f"{dist.wheel_name(dist.version())}.sha256").is_file()

    local = build(tiny_book, "local")
    page = (local / "book/01_tiny.html").read_text()
    assert "mybinder.org" not in page and "colab.research.google.com" not in page
    assert "github.com" not in page
    line = 'pip install "linnet[book] @ WHEEL-ADDRESS"'
    assert line in html.unescape(re.sub(r"<[^>]+>", "", page))
    assert f'href="../dist/{dist.wheel_name(dist.version())}"' in page


def test_bundle_outside_git_keeps_sources_and_drops_build_outputs(tmp_path: Path):
    root = tmp_path / "unzipped"
    for name in ["Makefile", "pyproject.toml", "book/01_a.ipynb", "src/linnet/__init__.py"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x\n")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    for junk in [
        "src/linnet/__pycache__/a.pyc",
        "src/linnet.egg-info/PKG-INFO",
        "book/_build/html/index.html",
        "book/.ipynb_checkpoints/01_a-checkpoint.ipynb",
        "tests/.venv/bin/python",
    ]:
        (root / junk).parent.mkdir(parents=True, exist_ok=True)
        (root / junk).write_text("junk\n")
    target = dist.make_bundle(tmp_path, root=root)
    top = f"linnet-book-{dist.version()}"
    with zipfile.ZipFile(target) as zf:
        names = sorted(zf.namelist())
    assert names == [
        f"{top}/{n}"
        for n in ["Makefile", "book/01_a.ipynb", "pyproject.toml", "src/linnet/__init__.py"]
    ]
    (tmp_path / "again").mkdir()
    again = dist.make_bundle(tmp_path / "again", root=root)
    assert again.read_bytes() == target.read_bytes()  # reproducible
