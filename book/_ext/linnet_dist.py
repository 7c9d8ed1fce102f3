"""The book serves its own package: downloads, the one install line, buttons, version footer.

Loaded by Sphinx through ``local_extensions`` in ``_config.yml``; also a small command line
used by ``make dist`` (``python book/_ext/linnet_dist.py bundle|checksums DIR``).

* ``make dist`` builds the ``linnet`` wheel and the book's source bundle into ``_build/dist``;
  this extension copies them (with their ``.sha256``) into the site's ``dist/`` folder.
* ``{linnet-downloads}`` (used on "Run it yourself") lists the downloads and gives the one
  install line; every chapter gets a short "Run this chapter yourself" note after its title.
  The line is ``pip install "linnet[book] @ URL"`` where URL is absolute when the deployment
  says where the site lives (``LINNET_SITE_URL``, set by the Pages workflow); otherwise the
  page links the wheel relative to itself and says to use that link's address.
* Launch buttons (Binder, Colab) and the repository button appear only when the deployment
  names its repository (``LINNET_REPOSITORY_URL``, and ``LINNET_REPOSITORY_BRANCH``, default
  ``main``); a local build has none.
* Every page's footer names the ``linnet`` version (from ``pyproject.toml``, the version the
  wheel and the bundle are named with) and the build date (UTC, or ``SOURCE_DATE_EPOCH``).
* A notebook that executes for longer than ``LINNET_NOTEBOOK_TIMEOUT`` seconds (default 600)
  stops the build with its name; a single cell is limited by ``execute: timeout``.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import posixpath
import re
import shutil
import stat
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CHAPTER = re.compile(r"^book/\d\d_[a-z0-9_]+$")

# What the source bundle holds: enough for `make lab` (and `make book` / `make test`).
BUNDLE_FILES = [
    "Makefile",
    "README.md",
    "pyproject.toml",
    "requirements.lock",
    "_config.yml",
    "_toc.yml",
    "package.json",
    "package-lock.json",
    ".gitignore",
]
BUNDLE_DIRS = ["book", "src", "tests", "benchmarks", ".ci"]
# Never in the bundle: build outputs, environments, caches.
EXCLUDED_PARTS = {
    "_build",
    ".venv",
    "node_modules",
    "_lockenv",
    "build",
    "data",
    "__pycache__",
    ".ipynb_checkpoints",
    ".pytest_cache",
    ".hypothesis",
    ".ruff_cache",
}

CSS = """
.linnet-install pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.linnet-run-note p:last-child { margin-bottom: 0; }
"""


# --- names, shared by the Makefile, the pages and the tests -------------------------------


def version(root: Path = ROOT) -> str:
    """The ``linnet`` version declared in ``pyproject.toml``."""
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def wheel_name(ver: str) -> str:
    return f"linnet-{ver}-py3-none-any.whl"


def bundle_name(ver: str) -> str:
    return f"linnet-book-{ver}.zip"


def build_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC) if epoch else _dt.datetime.now(_dt.UTC)
    return when.strftime("%Y-%m-%d")


def install_line(url: str) -> str:
    return f'pip install "linnet[book] @ {url}"'


def site_url() -> str:
    return os.environ.get("LINNET_SITE_URL", "").strip().rstrip("/")


def theme_options(base: dict[str, Any], environ: dict[str, str]) -> dict[str, Any]:
    """Theme options with the repository and launch buttons set from the environment.

    With ``LINNET_REPOSITORY_URL`` the repository button and the launch buttons configured in
    ``_config.yml`` (Binder, Colab) link to that repository at ``LINNET_REPOSITORY_BRANCH``
    (default ``main``). Without it there is no repository link and no launch button.

    >>> base = {"launch_buttons": {"colab_url": "https://colab.research.google.com"}}
    >>> theme_options(base, {})["launch_buttons"]
    {}
    >>> opts = theme_options(base, {"LINNET_REPOSITORY_URL": "https://github.com/o/r/"})
    >>> opts["repository_url"], opts["repository_branch"], opts["use_repository_button"]
    ('https://github.com/o/r', 'main', True)
    """
    opts = dict(base)
    repo = environ.get("LINNET_REPOSITORY_URL", "").strip().rstrip("/")
    if repo:
        opts["repository_url"] = repo
        opts["repository_branch"] = environ.get("LINNET_REPOSITORY_BRANCH", "").strip() or "main"
        opts["path_to_docs"] = ""
        opts["use_repository_button"] = True
    else:
        opts["repository_url"] = ""
        opts["launch_buttons"] = {}
        for button in ("use_repository_button", "use_edit_page_button", "use_issues_button"):
            opts[button] = False
    return opts


# --- make dist: the bundle and the checksums ----------------------------------------------


def bundle_members(root: Path = ROOT) -> list[Path]:
    """Files of the source bundle, relative to ``root``: tracked by git when ``root`` is a
    git work tree (so stray local files stay out), else every file; never build outputs."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=root, capture_output=True, check=True
        ).stdout.decode()

    try:  # only when root is the top of a git work tree (not a bundle unzipped in one)
        tracked = Path(git("rev-parse", "--show-toplevel").strip()).resolve() == root.resolve()
    except (OSError, subprocess.CalledProcessError):
        tracked = False
    if tracked:
        listed = git("ls-files", "-z", "--", *BUNDLE_FILES, *BUNDLE_DIRS)
        candidates = [Path(p) for p in listed.split("\0") if p]
    else:
        candidates = [Path(p) for p in BUNDLE_FILES]
        for top in BUNDLE_DIRS:
            candidates += [p.relative_to(root) for p in (root / top).rglob("*") if p.is_file()]
    return sorted(
        p
        for p in candidates
        if (root / p).is_file()
        and not EXCLUDED_PARTS.intersection(p.parts)
        and not p.name.endswith((".pyc", ".egg-info"))
        and not any(part.endswith(".egg-info") for part in p.parts)
    )


def make_bundle(out_dir: Path, root: Path = ROOT) -> Path:
    """Write ``linnet-book-VERSION.zip`` (one top folder of the same name) into ``out_dir``.

    Entries are sorted and carry one fixed timestamp, so the same sources give the same zip.
    """
    ver = version(root)
    target = out_dir / bundle_name(ver)
    top = target.stem
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))  # default: 1980-01-01
    stamp = time.gmtime(max(epoch, 315532800))[:6]
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for rel in bundle_members(root):
            info = zipfile.ZipInfo(f"{top}/{rel.as_posix()}", date_time=stamp)
            mode = (root / rel).stat().st_mode
            info.external_attr = ((0o755 if mode & stat.S_IXUSR else 0o644) | 0o100000) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, (root / rel).read_bytes())
    return target


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_checksums(out_dir: Path) -> None:
    """Write ``NAME.sha256`` (in ``sha256sum`` format) beside every file in ``out_dir``."""
    for path in sorted(out_dir.iterdir()):
        if path.is_file() and path.suffix != ".sha256":
            Path(f"{path}.sha256").write_text(f"{sha256_of(path)}  {path.name}\n")


# --- Sphinx -------------------------------------------------------------------------------


def _rel(docname: str, target: str) -> str:
    """``target`` (a path from the site root) relative to the page of ``docname``."""
    return posixpath.relpath(target, posixpath.dirname(docname) or ".")


def _downloads(docname: str, ver: str) -> tuple[str, str, str]:
    wheel = _rel(docname, f"dist/{wheel_name(ver)}")
    bundle = _rel(docname, f"dist/{bundle_name(ver)}")
    url = site_url()
    return wheel, bundle, (f"{url}/dist/{wheel_name(ver)}" if url else "")


def _install_nodes(docname: str, ver: str, chapter: str | None) -> list:
    """The paragraph(s) and the code block with the one install line, for ``docname``."""
    from docutils import nodes
    from sphinx import addnodes

    wheel_rel, _, wheel_abs = _downloads(docname, ver)
    out = []
    para = nodes.paragraph()
    if chapter:
        para += nodes.Text(
            "Download this chapter (.ipynb, the download button at the top), run the line "
            "below in a fresh Python 3.11+ environment, then "
        )
        para += nodes.literal(text=f"jupyter lab {chapter}.ipynb")
        para += nodes.Text(". ")
    if wheel_abs:
        para += nodes.Text("It installs ")
        para += nodes.reference("", wheel_name(ver), refuri=wheel_rel)
        para += nodes.Text(" from this site with what the chapters run on.")
    else:
        para += nodes.Text(
            "Replace WHEEL-ADDRESS with the address of this link (your browser's "
            "“copy link address”): "
        )
        para += nodes.reference("", wheel_name(ver), refuri=wheel_rel)
        para += nodes.Text(".")
    out.append(para)
    line = install_line(wheel_abs or "WHEEL-ADDRESS")
    block = nodes.literal_block(line, line, language="bash", classes=["linnet-install"])
    out.append(block)
    if chapter:
        tail = nodes.paragraph()
        if os.environ.get("LINNET_REPOSITORY_URL", "").strip():
            tail += nodes.Text("In Colab or Binder (launch button at the top), run it as ")
            tail += nodes.literal(text="%pip install …")
            tail += nodes.Text(" in a first cell. ")
        ref = addnodes.pending_xref(
            "",
            refdomain="std",
            reftype="doc",
            reftarget="/book/run_it_yourself",
            refexplicit=True,
            refwarn=True,
            refdoc=docname,
        )
        ref += nodes.inline(text="Run it yourself")
        tail += nodes.Text("More ways to run the book: ")
        tail += ref
        tail += nodes.Text(".")
        out.append(tail)
    return out


def _downloads_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class LinnetDownloads(SphinxDirective):
        """The site's downloads and the one install line (for "Run it yourself")."""

        has_content = False

        def run(self) -> list:
            ver = version()
            docname = self.env.docname
            wheel_rel, bundle_rel, _ = _downloads(docname, ver)
            items = nodes.bullet_list()
            for label, href, what in [
                (wheel_name(ver), wheel_rel, "the linnet package with its data sets"),
                (bundle_name(ver), bundle_rel, "the whole book's sources"),
            ]:
                para = nodes.paragraph()
                para += nodes.reference("", label, refuri=href)
                para += nodes.Text(f" ({what}; ")
                para += nodes.reference("", "sha256", refuri=f"{href}.sha256")
                para += nodes.Text(")")
                items += nodes.list_item("", para)
            intro = nodes.paragraph(text=f"This site serves linnet {ver}:")
            return [intro, items, *_install_nodes(docname, ver, None)]

    return LinnetDownloads


def _build_info_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class LinnetBuildInfo(SphinxDirective):
        """One sentence: the linnet version and the date of this build, with the downloads."""

        has_content = False

        def run(self) -> list:
            ver = version()
            wheel_rel, bundle_rel, _ = _downloads(self.env.docname, ver)
            para = nodes.paragraph(classes=["linnet-build"])
            para += nodes.Text(f"These pages were built on {build_date()} from linnet {ver}, ")
            para += nodes.Text("the version of the wheel ")
            para += nodes.reference("", wheel_name(ver), refuri=wheel_rel)
            para += nodes.Text(" and of the source bundle ")
            para += nodes.reference("", bundle_name(ver), refuri=bundle_rel)
            para += nodes.Text(" that this site serves.")
            from linnet.records import machine

            m = machine()
            where = nodes.paragraph(classes=["linnet-machine"])
            where += nodes.Text(
                f"The notebooks were executed with Python {m['python']} and NumPy {m['numpy']}, "
                f"whose BLAS ({m['blas']} {m['blas_version']}) ran its {m['blas_kernel']} "
                "kernels on the build machine's CPU. Another CPU picks other kernels, which "
                "round differently in the last bits; the recorded results are checked against "
                "reruns with tolerances measured across kernels (linnet.records)."
            )
            return [para, where]

    return LinnetBuildInfo


def add_chapter_note(app: Any, doctree: Any) -> None:
    """Insert "Run this chapter yourself" after the title of every chapter."""
    from docutils import nodes

    docname = app.env.docname
    if not CHAPTER.match(docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    note = nodes.admonition(classes=["note", "linnet-run-note"])
    note += nodes.title(text="Run this chapter yourself")
    chapter = posixpath.basename(docname)
    for node in _install_nodes(docname, version(), chapter):
        note += node
    section.insert(1, note)


def configure(app: Any, config: Any) -> None:
    config.html_theme_options = theme_options(config.html_theme_options, dict(os.environ))
    footer = f"linnet {version(Path(app.confdir))} · built on {build_date()}"
    config.html_theme_options["extra_footer"] = f'<p class="linnet-build">{footer}</p>'


def copy_dist(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = Path(app.confdir) / os.environ.get("LINNET_DIST_DIR", "_build/dist")
    ver = version(Path(app.confdir))
    needed = [wheel_name(ver), bundle_name(ver)]
    needed += [f"{name}.sha256" for name in needed]
    missing = [name for name in needed if not (source / name).is_file()]
    if missing:
        from sphinx.util import logging

        logging.getLogger(__name__).warning(
            "linnet_dist: %s missing in %s: run `make dist` (make book does)", missing, source
        )
        return
    target = Path(app.outdir) / "dist"
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    for name in needed:
        shutil.copy2(source / name, target / name)
    static = Path(app.outdir) / "_static"
    static.mkdir(exist_ok=True)
    (static / "linnet-dist.css").write_text(CSS.lstrip())


class NotebookWatchdog:
    """Stop the build, naming the notebook, when one notebook executes for too long."""

    def __init__(self, limit: float) -> None:
        self.limit = limit
        self.current: tuple[str, float] | None = None
        self.lock = threading.Lock()
        threading.Thread(target=self.watch, daemon=True).start()

    def started(self, app: Any, docname: str, source: list) -> None:
        with self.lock:
            self.current = (docname, time.monotonic())

    def finished(self, app: Any, doctree: Any) -> None:
        with self.lock:
            self.current = None

    def watch(self) -> None:
        import _thread

        while True:
            time.sleep(2)
            with self.lock:
                current = self.current
            if current and time.monotonic() - current[1] > self.limit:
                print(
                    f"\nerror: {current[0]} has been reading/executing for more than "
                    f"{self.limit:g} s (LINNET_NOTEBOOK_TIMEOUT): stopping the build",
                    file=sys.stderr,
                    flush=True,
                )
                with self.lock:
                    self.current = None
                _thread.interrupt_main()


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("linnet-downloads", _downloads_directive())
    app.add_directive("linnet-build-info", _build_info_directive())
    app.connect("config-inited", configure)
    app.connect("doctree-read", add_chapter_note)
    app.connect("build-finished", copy_dist)
    app.add_css_file("linnet-dist.css")
    watchdog = NotebookWatchdog(float(os.environ.get("LINNET_NOTEBOOK_TIMEOUT", "600")))
    app.connect("source-read", watchdog.started)
    app.connect("doctree-read", watchdog.finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in ("bundle", "checksums", "version"):
        print(
            "usage: linnet_dist.py bundle|checksums DIR  |  linnet_dist.py version -",
            file=sys.stderr,
        )
        return 2
    if argv[0] == "version":
        print(version())
        return 0
    out_dir = Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    if argv[0] == "bundle":
        print(f"Bundle: {make_bundle(out_dir)}")
    else:
        write_checksums(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
