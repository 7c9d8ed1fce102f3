"""What the site serves and says about itself (book/_ext/linnet_dist.py, issues 17 and 23).

The end-to-end checks on the built site are in ``tests/browser/test_dist.py``. Here: the
version has one value everywhere, the lock has hashes, the bundle's file list, a tiny
Jupyter Book (one notebook, not executed) built with and without ``LINNET_REPOSITORY_URL``:
launch buttons with the right URLs in the first, none in the second; and the wheel and the
bundle are reproducible: built twice, and rebuilt from the unzipped bundle on another
"machine" (other mtimes, umask and no git), they have the same sha256.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import re
import shutil
import stat
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
    (root / "book/run_it_yourself.md").write_text(
        "# Run\n\nOne line installs it:\n\n```{linnet-install}\n```\n\n"
        "```{linnet-install-tested}\n```\n\n```{linnet-install-cost}\n```\n\n"
        "```{linnet-downloads}\n```\n\n```{linnet-checksums}\n```\n"
    )
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
    dist.write_constraints(fake)
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
    assert "linnet-dist.js" in page and (deployed / "_static" / "linnet-dist.js").is_file()
    # the chapter's note: one line (a <details>) that opens; the .ipynb link is a download
    assert '<details class="linnet-run-note">\n<summary>Run this chapter yourself</summary>' in page
    assert 'href="../_sources/book/01_tiny.ipynb" download="01_tiny.ipynb"' in page
    run = html.unescape(
        re.sub(r"<[^>]+>", "", (deployed / "book/run_it_yourself.html").read_text())
    )
    assert re.search(r"One line installs it:\s+" + re.escape(line), run), "line after the sentence"
    ver = dist.version()
    sums = f"{dist.wheel_name(ver)}.sha256 {dist.bundle_name(ver)}.sha256"
    assert f"sha256sum -c {sums}" in run and f"shasum -a 256 -c {sums}" in run
    # the tested versions: the constraints file beside the wheel, and the line that uses it
    cons = dist.constraints_name(ver)
    assert (deployed / "dist" / cons).is_file() and (deployed / "dist" / f"{cons}.sha256").is_file()
    tested = dist.install_line_tested(f"{site}/dist/{dist.wheel_name(ver)}", f"{site}/dist/{cons}")
    assert tested in run
    record = json.loads((ROOT / "benchmarks" / "reader_install.json").read_text())
    assert f"The line installs {record['newest']['packages']} packages" in run

    local = build(tiny_book, "local")
    page = (local / "book/01_tiny.html").read_text()
    assert "mybinder.org" not in page and "colab.research.google.com" not in page
    assert "github.com" not in page
    line = 'pip install "linnet[book] @ WHEEL-ADDRESS"'
    assert line in html.unescape(re.sub(r"<[^>]+>", "", page))
    # the page's script fills in the address of this link (tests/browser/test_dist.py)
    assert re.search(
        rf'<a class="[^"]*linnet-wheel[^"]*" href="\.\./dist/{re.escape(dist.wheel_name(ver))}"',
        page,
    )


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
        for n in [
            "Makefile",
            "SOURCE_DATE_EPOCH",
            "book/01_a.ipynb",
            "pyproject.toml",
            "src/linnet/__init__.py",
        ]
    ]
    (tmp_path / "again").mkdir()
    again = dist.make_bundle(tmp_path / "again", root=root)
    assert again.read_bytes() == target.read_bytes()  # reproducible


def test_source_epoch_environment_then_git_then_bundle_file(tmp_path: Path):
    assert dist.source_epoch(ROOT, {"SOURCE_DATE_EPOCH": "1700000000"}) == 1700000000
    if shutil.which("git") and (ROOT / ".git").exists():
        last = subprocess.run(
            ["git", "log", "-1", "--format=%ct"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip()
        assert dist.source_epoch(ROOT, {}) == int(last)
    assert dist.source_epoch(tmp_path, {}) == dist.ZIP_EPOCH_MIN  # nothing known: 1980
    (tmp_path / "SOURCE_DATE_EPOCH").write_text("1600000000\n")
    assert dist.source_epoch(tmp_path, {}) == 1600000000


def _unzip_elsewhere(bundle: Path, where: Path) -> Path:
    """Unzip as ``unzip`` does (modes restored), then make the copy look like another
    machine's: other mtimes, group-writable files (umask 002)."""
    with zipfile.ZipFile(bundle) as zf:
        zf.extractall(where)
        for info in zf.infolist():
            path = where / info.filename
            mode = (info.external_attr >> 16) & 0o777
            path.chmod(mode | 0o020)
            os.utime(path, (1_000_000_000 + len(info.filename),) * 2)
    return where / bundle.stem


@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="the published files come from git")
def test_wheel_and_bundle_are_reproducible_and_rebuilt_from_the_bundle(tmp_path, monkeypatch):
    """What `make dist` publishes == what `make dist` gives in the unzipped bundle."""
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    first, again = tmp_path / "first", tmp_path / "again"
    wheel = dist.build_wheel(first, ROOT)
    bundle = dist.make_bundle(first, ROOT)
    assert dist.make_bundle(again, ROOT).read_bytes() == bundle.read_bytes()
    # the wheel ships everything the chapters read: every tracked data file of the package
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        infos = zf.infolist()
    tracked = subprocess.run(
        ["git", "ls-files", "src/linnet"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    shipped = {p.removeprefix("src/") for p in tracked if p.split("/")[2].startswith("_")}
    assert any(n.startswith("linnet/_results/gas/") for n in shipped)
    assert shipped <= names, sorted(shipped - names)
    epoch = dist.source_epoch(ROOT)
    for info in infos:
        assert info.date_time == dist.time.gmtime(epoch - epoch % 2)[:6], info.filename  # 2 s
        assert info.external_attr >> 16 == stat.S_IFREG | 0o644, info.filename
    # another machine: the unzipped bundle (no git), its own mtimes and umask
    folder = _unzip_elsewhere(bundle, tmp_path / "reader")
    assert (folder / "SOURCE_DATE_EPOCH").read_text().strip() == str(epoch)
    rebuilt = tmp_path / "rebuilt"
    assert dist.sha256_of(dist.build_wheel(rebuilt, folder)) == dist.sha256_of(wheel)
    assert dist.sha256_of(dist.make_bundle(rebuilt, folder)) == dist.sha256_of(bundle)
    # the second build of the checkout's wheel is the same too
    assert dist.sha256_of(dist.build_wheel(again, ROOT)) == dist.sha256_of(wheel)


# A reader's install (issue 24): `linnet[book]` is what the chapters run on, and nothing of the
# build (Sphinx, myst-nb, Jupyter Book, jupyter-cache), which is in the `site` extra.
BUILD_ONLY = {"myst-nb", "jupyter-book", "sphinx", "jupyter-cache", "sqlalchemy"}


def _extra(name: str) -> set[str]:
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with open(ROOT / "pyproject.toml", "rb") as f:
        extras = tomllib.load(f)["project"]["optional-dependencies"]
    return {canonicalize_name(Requirement(r).name) for r in extras[name]}


def test_the_readers_extra_is_light():
    assert not BUILD_ONLY & _extra("book")
    assert {"jupyter-book", "myst-nb"} <= _extra("site")


def readers_closure() -> set[str]:
    """Every distribution that ``linnet[book]`` needs, read from the installed metadata."""
    from importlib import metadata

    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    with open(ROOT / "pyproject.toml", "rb") as f:
        project = tomllib.load(f)["project"]
    # linnet's own requirements from pyproject.toml (an editable install's metadata can be
    # older), the rest from what is installed
    todo = [
        (canonicalize_name(req.name), frozenset(req.extras))
        for req in map(
            Requirement, project["dependencies"] + project["optional-dependencies"]["book"]
        )
    ]
    seen: set[tuple[str, frozenset]] = set()
    names: set[str] = {"linnet"}
    while todo:
        name, extras = todo.pop()
        if (name, extras) in seen:
            continue
        seen.add((name, extras))
        names.add(name)
        for text in metadata.distribution(name).requires or []:
            req = Requirement(text)
            wanted = [{"extra": e} for e in extras] or [{"extra": ""}]
            if req.marker is None or any(req.marker.evaluate(env) for env in wanted):
                todo.append((canonicalize_name(req.name), frozenset(req.extras)))
    return names


def test_recorded_reader_install_is_the_locked_closure():
    # benchmarks/reader_install.py recorded what `pip install -c constraints "linnet[book] @
    # wheel"` installs (with its size and time, quoted on "Run it yourself"); with the tested
    # versions it must be exactly what linnet[book] needs in this locked environment
    record = json.loads((ROOT / "benchmarks" / "reader_install.json").read_text())
    needed = readers_closure()
    assert not BUILD_ONLY & needed, sorted(BUILD_ONLY & needed)
    tested = set(record["tested"]["names"])
    assert tested == needed, (
        f"missing from the record: {sorted(needed - tested)}, "
        f"not needed: {sorted(tested - needed)}; rerun benchmarks/reader_install.py --record"
    )
    assert record["tested"]["packages"] == len(tested)
    assert abs(record["newest"]["packages"] - len(needed)) <= 10


def test_constraints_file_pins_every_locked_version_without_hashes(tmp_path: Path):
    written = dist.write_constraints(tmp_path)
    assert written.name == dist.constraints_name(dist.version())
    lines = [ln for ln in written.read_text().splitlines() if not ln.startswith("#")]
    lock = (ROOT / "requirements.lock").read_text()
    locked = re.findall(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==(\S+) \\$", lock, re.M)
    assert [ln.split(";")[0].strip() for ln in lines] == [f"{n}=={v}" for n, v in locked]
    assert "--hash" not in written.read_text()
    line = dist.install_line_tested("https://x/linnet.whl", "https://x/c.txt")
    assert line == 'pip install -c https://x/c.txt "linnet[book] @ https://x/linnet.whl"'
