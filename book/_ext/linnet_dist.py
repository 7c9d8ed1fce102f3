"""The book serves its own package: downloads, the one install line, buttons, version footer.

Loaded by Sphinx through ``local_extensions`` in ``_config.yml``; also a small command line
used by ``make dist`` (``python book/_ext/linnet_dist.py wheel|bundle|checksums DIR``).

* ``make dist`` builds the ``linnet`` wheel and the book's source bundle into ``_build/dist``
  (``linnet_dist.py wheel|bundle|checksums DIR``); this extension copies them (with their
  ``.sha256``) into the site's ``dist/`` folder.  Both are reproducible: entries sorted,
  stored uncompressed (deflate output depends on the zlib build), one timestamp
  (``SOURCE_DATE_EPOCH``: the environment's, else the last git commit's, else the one the
  bundle records in its file ``SOURCE_DATE_EPOCH``) and fixed permissions, so the wheel
  rebuilt from the bundle has the published sha256.
* ``{linnet-install}`` gives the one install line, ``{linnet-downloads}`` lists the downloads
  and ``{linnet-checksums}`` says how to check them (all on "Run it yourself"); every chapter
  gets a one-line "Run this chapter yourself" (a ``<details>``) after its title.  The line is
  ``pip install "linnet[book] @ URL"``: in the browser a small script (``linnet-dist.js``)
  fills in the wheel's absolute address from the page's own location (``http(s)`` or
  ``file``), so the copy button copies a working command; the HTML itself holds the address
  under ``LINNET_SITE_URL`` (set by the Pages workflow), else ``WHEEL-ADDRESS``.
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
import json
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
BUNDLE_DIRS = ["book", "src", "tests", "benchmarks", ".ci", ".github"]
# Written into the bundle by make_bundle: the timestamp its files (and a rebuilt wheel) carry.
EPOCH_FILE = "SOURCE_DATE_EPOCH"
ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest time a zip entry can hold
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
.linnet-install pre, .linnet-install-tested pre { white-space: pre-wrap; overflow-wrap: anywhere; }
.linnet-install-hint.linnet-filled { display: none; }
details.linnet-run-note {
  margin: 1rem 0; padding: 0 1rem; border-left: 0.2rem solid var(--pst-color-info);
  border-radius: 0.25rem; background: var(--pst-color-info-bg);
}
details.linnet-run-note > summary {
  padding: 0.625rem 0; cursor: pointer; font-weight: 600; line-height: 1.5;
  white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
details.linnet-run-note[open] { padding-bottom: 0.75rem; }
details.linnet-run-note[open] > summary { margin-bottom: 0.25rem; }
details.linnet-run-note > p:last-child { margin-bottom: 0; }
"""

# Fills every install line with the wheel's absolute address, resolved from the page's own
# location (the .linnet-wheel link's href), so that the copy button copies a working command;
# marks the chapter download links as downloads.
JS = """
document.addEventListener("DOMContentLoaded", () => {
  const wheel = document.querySelector("a.linnet-wheel");
  if (wheel) {
    for (const pre of document.querySelectorAll(".linnet-install pre")) {
      pre.textContent = 'pip install "linnet[book] @ ' + wheel.href + '"';
    }
    for (const hint of document.querySelectorAll(".linnet-install-hint")) {
      hint.classList.add("linnet-filled");
    }
    const constraints = document.querySelector("a.linnet-constraints");
    if (constraints) {
      for (const pre of document.querySelectorAll(".linnet-install-tested pre")) {
        pre.textContent =
          "pip install -c " + constraints.href + ' "linnet[book] @ ' + wheel.href + '"';
      }
    }
  }
  for (const a of document.querySelectorAll('a[href*="_sources/"][href$=".ipynb"]')) {
    a.setAttribute("download", a.getAttribute("href").split("/").pop());
  }
});
"""


# --- names, shared by the Makefile, the pages and the tests -------------------------------


def version(root: Path = ROOT) -> str:
    """The ``linnet`` version declared in ``pyproject.toml``."""
    with open(root / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def wheel_name(ver: str) -> str:
    return f"linnet-{ver}-py3-none-any.whl"


def pdf_name(ver: str) -> str:
    """The book as one PDF (``make pdf``, book/_ext/linnet_pdf.py)."""
    return f"linnet-book-{ver}.pdf"


def bundle_name(ver: str) -> str:
    return f"linnet-book-{ver}.zip"


def constraints_name(ver: str) -> str:
    """The versions the book was built and tested with, for ``pip install -c``."""
    return f"linnet-{ver}-constraints.txt"


def build_date() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    when = _dt.datetime.fromtimestamp(int(epoch), _dt.UTC) if epoch else _dt.datetime.now(_dt.UTC)
    return when.strftime("%Y-%m-%d")


def install_line(url: str) -> str:
    return f'pip install "linnet[book] @ {url}"'


def install_line_tested(wheel_url: str, constraints_url: str) -> str:
    """The install line that takes the tested versions (the constraints file) as well."""
    return f'pip install -c {constraints_url} "linnet[book] @ {wheel_url}"'


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


def _git(root: Path, *args: str) -> str | None:
    """Output of ``git args`` when ``root`` is the top of a git work tree, else None (so a
    bundle unzipped inside some other repository is treated as plain files)."""

    def run(*a: str) -> str:
        done = subprocess.run(["git", *a], cwd=root, capture_output=True, check=True)
        return done.stdout.decode()

    try:
        if Path(run("rev-parse", "--show-toplevel").strip()).resolve() != root.resolve():
            return None
        return run(*args)
    except (OSError, subprocess.CalledProcessError):
        return None


def source_epoch(root: Path = ROOT, environ: dict[str, str] | None = None) -> int:
    """The timestamp the wheel's and the bundle's entries carry (seconds since 1970, UTC).

    ``SOURCE_DATE_EPOCH`` from the environment if set; else, in a git work tree, the time of
    the last commit; else the value the source bundle records in its file ``SOURCE_DATE_EPOCH``;
    else 1980-01-01.  So the bundle, and a wheel rebuilt from it, carry the published files'
    timestamp.
    """
    environ = os.environ if environ is None else environ
    value = environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        value = (_git(root, "log", "-1", "--format=%ct") or "").strip()
    if not value and (root / EPOCH_FILE).is_file():
        value = (root / EPOCH_FILE).read_text().strip()
    return max(int(value or ZIP_EPOCH_MIN), ZIP_EPOCH_MIN)


def bundle_members(root: Path = ROOT) -> list[Path]:
    """Files of the source bundle, relative to ``root``: tracked by git when ``root`` is a
    git work tree (so stray local files stay out), else every file; never build outputs."""
    listed = _git(root, "ls-files", "-z", "--", *BUNDLE_FILES, *BUNDLE_DIRS)
    if listed is not None:
        candidates = [Path(p) for p in listed.split("\0") if p]
    else:
        candidates = [Path(p) for p in BUNDLE_FILES]
        for top in BUNDLE_DIRS:
            candidates += [p.relative_to(root) for p in (root / top).rglob("*") if p.is_file()]
    return sorted(
        p
        for p in candidates
        if (root / p).is_file()
        and p.as_posix() != EPOCH_FILE
        and not EXCLUDED_PARTS.intersection(p.parts)
        and not p.name.endswith((".pyc", ".egg-info"))
        and not any(part.endswith(".egg-info") for part in p.parts)
    )


def _executables(root: Path) -> set[str] | None:
    """Paths git records as executable (mode 100755), or None outside a git work tree."""
    staged = _git(root, "ls-files", "-s", "-z")
    if staged is None:
        return None
    return {e.split("\t", 1)[1] for e in staged.split("\0") if e.startswith("100755 ")}


def _zip_entry(name: str, epoch: int, executable: bool = False) -> zipfile.ZipInfo:
    """A zip entry that depends only on its name, the epoch and the executable bit."""
    info = zipfile.ZipInfo(name, date_time=time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6])
    info.create_system = 3  # Unix, on every OS, so that the permissions below are read
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_STORED
    return info


def make_bundle(out_dir: Path, root: Path = ROOT) -> Path:
    """Write ``linnet-book-VERSION.zip`` (one top folder of the same name) into ``out_dir``.

    Reproducible: sorted entries, stored uncompressed, each with the timestamp of
    :func:`source_epoch` (recorded in the bundle as its file ``SOURCE_DATE_EPOCH``) and mode
    644 (755 for executables), so the same sources give the same zip, byte for byte.
    """
    ver = version(root)
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / bundle_name(ver)
    top = target.stem
    epoch = source_epoch(root)
    executables = _executables(root)
    files = {rel.as_posix(): (root / rel) for rel in bundle_members(root)}
    files[EPOCH_FILE] = None
    with zipfile.ZipFile(target, "w") as zf:
        for name in sorted(files):
            path = files[name]
            if path is None:
                zf.writestr(_zip_entry(f"{top}/{name}", epoch), f"{epoch}\n")
                continue
            if executables is None:
                executable = bool(path.stat().st_mode & stat.S_IXUSR)
            else:
                executable = name in executables
            zf.writestr(_zip_entry(f"{top}/{name}", epoch, executable), path.read_bytes())
    return target


def normalize_wheel(wheel: Path, epoch: int) -> None:
    """Rewrite ``wheel`` reproducibly: the same entries and bytes, in a fixed order (the
    package, then ``.dist-info`` with ``RECORD`` last), stored uncompressed, with one
    timestamp and mode 644, whatever the build machine's clock, umask and zlib."""
    with zipfile.ZipFile(wheel) as zf:
        contents = {info.filename: zf.read(info) for info in zf.infolist() if not info.is_dir()}

    def order(name: str) -> tuple[bool, bool, str]:
        top = name.split("/", 1)[0]
        return top.endswith(".dist-info"), name.endswith(".dist-info/RECORD"), name

    tmp = wheel.with_name(wheel.name + ".tmp")
    with zipfile.ZipFile(tmp, "w") as zf:
        for name in sorted(contents, key=order):
            zf.writestr(_zip_entry(name, epoch), contents[name])
    tmp.replace(wheel)


def build_wheel(out_dir: Path, root: Path = ROOT) -> Path:
    """Build the ``linnet`` wheel of ``root`` into ``out_dir`` (with this interpreter's
    setuptools, no build isolation: the locked one) and make it reproducible."""
    epoch = source_epoch(root)
    env = dict(os.environ, SOURCE_DATE_EPOCH=str(epoch))
    out_dir = out_dir.resolve()
    shutil.rmtree(root / "build", ignore_errors=True)
    try:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check",
             "--no-deps", "--no-build-isolation", "--wheel-dir", str(out_dir), "."],
            cwd=root, env=env, check=True,
        )  # fmt: skip
    finally:
        shutil.rmtree(root / "build", ignore_errors=True)
    wheel = out_dir / wheel_name(version(root))
    normalize_wheel(wheel, epoch)
    return wheel


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s\\;]+)((?:\s*;[^\\\n]*)?)", re.M)


def write_constraints(out_dir: Path, root: Path = ROOT) -> Path:
    """Write ``NAME==VERSION`` for every package of ``requirements.lock``, without hashes.

    ``pip install -c FILE`` takes it: it only limits versions (a constraints file with hashes
    would make pip demand a hash for every file, build tools too), so the entries of the
    build and the tests do no harm to a reader's install; environment markers are kept.

    Returns
    -------
    Path
        The file written, named by :func:`constraints_name`.
    """
    pins = _PIN.findall((root / "requirements.lock").read_text(encoding="utf-8"))
    if not pins:
        raise ValueError(f"no NAME==VERSION line in {root / 'requirements.lock'}")
    target = out_dir / constraints_name(version(root))
    target.write_text(
        "# The versions linnet's book was built and tested with (requirements.lock, no hashes):\n"
        "#   pip install -c THIS-FILE \"linnet[book] @ WHEEL\"\n"
        + "".join(f"{name}=={ver}{marker.rstrip()}\n" for name, ver, marker in pins),
        encoding="utf-8",
    )
    return target


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


PYTHONS = "Python 3.11, 3.12 or 3.13"


def _wheel_link(docname: str, ver: str):
    """A link to the wheel on this site; the page's script reads its address (``.href``)."""
    from docutils import nodes

    wheel_rel, _, _ = _downloads(docname, ver)
    return nodes.reference("", wheel_name(ver), refuri=wheel_rel, classes=["linnet-wheel"])


def _install_line_nodes(docname: str, ver: str) -> list:
    """The install line (a code block with a copy button), and what it installs.

    The HTML holds the absolute address under ``LINNET_SITE_URL``, else ``WHEEL-ADDRESS``;
    in the browser the page's script puts in the address of the wheel's link, resolved
    from the page's own location, whatever the host (or a ``file://`` copy).
    """
    from docutils import nodes

    _, _, wheel_abs = _downloads(docname, ver)
    line = install_line(wheel_abs or "WHEEL-ADDRESS")
    block = nodes.literal_block(line, line, language="bash", classes=["linnet-install"])
    para = nodes.paragraph()
    para += nodes.Text("It installs ")
    para += _wheel_link(docname, ver)
    para += nodes.Text(" from this site, with what the chapters run on.")
    if not wheel_abs:
        hint = nodes.inline(classes=["linnet-install-hint"])
        hint += nodes.Text(
            " (Without JavaScript, replace WHEEL-ADDRESS with the address of that link: "
            "your browser's “copy link address”.)"
        )
        para += hint
    return [block, para]


def _chapter_note_nodes(docname: str, ver: str, html: bool) -> list:
    """The body of a chapter's "Run this chapter yourself"."""
    from docutils import nodes
    from sphinx import addnodes

    chapter = posixpath.basename(docname)
    source = _rel(docname, f"_sources/{docname}.ipynb")
    para = nodes.paragraph()
    para += nodes.Text("Download this chapter, ")
    if html:  # a real download (a host may serve .ipynb as text, which a browser shows)
        para += nodes.raw(
            "", f'<a class="reference external" href="{source}" download="{chapter}.ipynb">'
            f"<code>{chapter}.ipynb</code></a>", format="html",
        )  # fmt: skip
    else:
        ref = nodes.reference("", "", refuri=source)
        ref += nodes.literal(text=f"{chapter}.ipynb")
        para += ref
    para += nodes.Text(f", run the line below in a fresh {PYTHONS} environment, then ")
    para += nodes.literal(text=f"jupyter lab {chapter}.ipynb")
    para += nodes.Text(".")
    out = [para, *_install_line_nodes(docname, ver)]
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
    tail += nodes.Text("More ways to run the book, and how to check a download: ")
    tail += ref
    tail += nodes.Text(".")
    out.append(tail)
    return out


def _install_directive():
    from sphinx.util.docutils import SphinxDirective

    class LinnetInstall(SphinxDirective):
        """The one install line, with what it installs (for "Run it yourself")."""

        has_content = False

        def run(self) -> list:
            return _install_line_nodes(self.env.docname, version())

    return LinnetInstall


def _install_tested_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class LinnetInstallTested(SphinxDirective):
        """The install line with the tested versions (the constraints file beside the wheel).

        The HTML holds the absolute addresses under ``LINNET_SITE_URL``, else
        ``CONSTRAINTS-ADDRESS`` and ``WHEEL-ADDRESS``, which the page's script fills in from
        the links' own addresses.
        """

        has_content = False

        def run(self) -> list:
            ver = version()
            url = site_url()
            cons_rel = _rel(self.env.docname, f"dist/{constraints_name(ver)}")
            _, _, wheel_abs = _downloads(self.env.docname, ver)
            line = install_line_tested(
                wheel_abs or "WHEEL-ADDRESS",
                f"{url}/dist/{constraints_name(ver)}" if url else "CONSTRAINTS-ADDRESS",
            )
            block = nodes.literal_block(
                line, line, language="bash", classes=["linnet-install-tested"]
            )
            para = nodes.paragraph()
            para += nodes.Text("The constraints file ")
            para += nodes.reference(
                "", constraints_name(ver), refuri=cons_rel, classes=["linnet-constraints"]
            )
            para += nodes.Text(" lists them (from the bundle's requirements.lock).")
            return [block, para]

    return LinnetInstallTested


INSTALL_RECORD = ROOT / "benchmarks" / "reader_install.json"


def install_cost_sentence(record: dict[str, Any]) -> str:
    """What the one-line install costs, from ``benchmarks/reader_install.py --record``.

    >>> r = {"newest": {"packages": 106, "size_MB": 480, "seconds": 41},
    ...      "tested": {"packages": 106, "size_MB": 470, "seconds": 39},
    ...      "python": "3.11.7", "machine": "Linux x86_64", "date": "2026-12-07"}
    >>> install_cost_sentence(r)[:66]
    'The line installs 106 packages (480 MB on disk) in 41 s; with the '
    """
    new, tested = record["newest"], record["tested"]
    return (
        f"The line installs {new['packages']} packages ({new['size_MB']} MB on disk) in "
        f"{new['seconds']} s; with the tested versions, {tested['packages']} packages "
        f"({tested['size_MB']} MB) in {tested['seconds']} s. Measured with an empty pip cache "
        f"by benchmarks/reader_install.py on {record['date']} (Python {record['python']}, "
        f"{record['machine']}); the time is mostly downloading, so it depends on your "
        "connection. No Sphinx, myst-nb or Jupyter Book: those only build the website."
    )


def _install_cost_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class LinnetInstallCost(SphinxDirective):
        """One sentence: the packages, disk and time of the reader's install (recorded)."""

        has_content = False

        def run(self) -> list:
            self.env.note_dependency(str(INSTALL_RECORD))
            record = json.loads(INSTALL_RECORD.read_text(encoding="utf-8"))
            return [nodes.paragraph(text=install_cost_sentence(record))]

    return LinnetInstallCost


def _downloads_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class LinnetDownloads(SphinxDirective):
        """The site's downloads, each with its sha256 (for "Run it yourself")."""

        has_content = False

        def run(self) -> list:
            ver = version()
            docname = self.env.docname
            wheel_rel, bundle_rel, _ = _downloads(docname, ver)
            items = nodes.bullet_list()
            for label, href, what in [
                (wheel_name(ver), wheel_rel, "the linnet package with its data sets and "
                 "recorded results"),
                (bundle_name(ver), bundle_rel, "the whole book's sources"),
                (constraints_name(ver), _rel(docname, f"dist/{constraints_name(ver)}"),
                 "the versions of every package the book was built and tested with, "
                 "for pip install -c"),
                (pdf_name(ver), _rel(docname, f"dist/{pdf_name(ver)}"),
                 "the whole book as one PDF, with the exercises' solutions; explorers at their "
                 "opening frame"),
            ]:  # fmt: skip
                para = nodes.paragraph()
                para += nodes.reference("", label, refuri=href)
                para += nodes.Text(f" ({what}; ")
                para += nodes.reference("", "sha256", refuri=f"{href}.sha256")
                para += nodes.Text(")")
                items += nodes.list_item("", para)
            intro = nodes.paragraph(text=f"This site serves linnet {ver}:")
            return [intro, items]

    return LinnetDownloads


def _checksums_directive():
    from docutils import nodes
    from sphinx.util.docutils import SphinxDirective

    class LinnetChecksums(SphinxDirective):
        """How to check the downloads against their .sha256 files, and against a rebuild."""

        has_content = False

        def run(self) -> list:
            ver = version()
            sums = f"{wheel_name(ver)}.sha256 {bundle_name(ver)}.sha256"
            check = f"# Linux\nsha256sum -c {sums}\n# macOS\nshasum -a 256 -c {sums}"
            rebuild = (
                f"unzip {bundle_name(ver)} && cd linnet-book-{ver}\n"
                "make dist    # rebuilds the wheel and the bundle into _build/dist/\n"
                f"cd _build/dist && sha256sum -c ../../../{wheel_name(ver)}.sha256"
            )
            return [
                nodes.literal_block(check, check, language="bash"),
                nodes.paragraph(
                    text="Each line prints the file's name and OK, or FAILED if it differs. "
                    "The wheel and the bundle are reproducible: they hold their files in a "
                    "fixed order, with one timestamp (the bundle records it in its file "
                    "SOURCE_DATE_EPOCH) and fixed permissions, so a wheel rebuilt from the "
                    "bundle has the published sha256. To check, from the folder holding the "
                    "downloads:"
                ),
                nodes.literal_block(rebuild, rebuild, language="bash"),
            ]

    return LinnetChecksums


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
    """Insert "Run this chapter yourself" after the title of every chapter: in HTML a
    ``<details>`` whose summary is one line, so that a phone's first screen shows the chapter."""
    from docutils import nodes

    docname = app.env.docname
    if not CHAPTER.match(docname):
        return
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None or not isinstance(section[0], nodes.title):
        return
    html = getattr(app.builder, "format", "") == "html"
    body = _chapter_note_nodes(docname, version(), html)
    if html:
        opening = nodes.raw(
            "",
            '<details class="linnet-run-note">\n<summary>Run this chapter yourself</summary>',
            format="html",
        )
        parts = [opening, *body, nodes.raw("", "</details>", format="html")]
    else:
        note = nodes.admonition(classes=["note", "linnet-run-note"])
        note += nodes.title(text="Run this chapter yourself")
        for node in body:
            note += node
        parts = [note]
    for offset, node in enumerate(parts, start=1):
        section.insert(offset, node)


def configure(app: Any, config: Any) -> None:
    config.html_theme_options = theme_options(config.html_theme_options, dict(os.environ))
    footer = f"linnet {version(Path(app.confdir))} · built on {build_date()}"
    config.html_theme_options["extra_footer"] = f'<p class="linnet-build">{footer}</p>'


def copy_dist(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    source = Path(app.confdir) / os.environ.get("LINNET_DIST_DIR", "_build/dist")
    ver = version(Path(app.confdir))
    needed = [wheel_name(ver), bundle_name(ver), constraints_name(ver)]
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
    (static / "linnet-dist.js").write_text(JS.lstrip())


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


def add_book_pdf_button(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    """The whole book as a PDF in every page's download menu (after the theme fills it)."""
    for group in context.get("header_buttons", []):
        if group.get("label") == "download-buttons":
            group["buttons"].append(
                {
                    "type": "link",
                    "url": _rel(pagename, f"dist/{pdf_name(version(Path(app.confdir)))}"),
                    "text": "book .pdf",
                    "tooltip": "The whole book as a PDF",
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )


def setup(app: Any) -> dict[str, Any]:
    app.add_directive("linnet-install", _install_directive())
    app.add_directive("linnet-install-tested", _install_tested_directive())
    app.add_directive("linnet-install-cost", _install_cost_directive())
    app.add_directive("linnet-downloads", _downloads_directive())
    app.add_directive("linnet-checksums", _checksums_directive())
    app.add_directive("linnet-build-info", _build_info_directive())
    app.connect("config-inited", configure)
    app.connect("doctree-read", add_chapter_note)
    app.connect("build-finished", copy_dist)
    app.connect("html-page-context", add_book_pdf_button, priority=502)
    app.add_css_file("linnet-dist.css")
    app.add_js_file("linnet-dist.js")
    watchdog = NotebookWatchdog(float(os.environ.get("LINNET_NOTEBOOK_TIMEOUT", "600")))
    app.connect("source-read", watchdog.started)
    app.connect("doctree-read", watchdog.finished)
    return {"parallel_read_safe": True, "parallel_write_safe": True}


def main(argv: list[str]) -> int:
    commands = ("wheel", "bundle", "constraints", "checksums", "version", "epoch")
    if len(argv) != 2 or argv[0] not in commands:
        print(
            "usage: linnet_dist.py wheel|bundle|constraints|checksums DIR  |  "
            "linnet_dist.py version|epoch -",
            file=sys.stderr,
        )
        return 2
    if argv[0] == "version":
        print(version())
        return 0
    if argv[0] == "epoch":
        print(source_epoch())
        return 0
    out_dir = Path(argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    if argv[0] == "wheel":
        print(f"Wheel: {build_wheel(out_dir)}")
    elif argv[0] == "bundle":
        print(f"Bundle: {make_bundle(out_dir)}")
    elif argv[0] == "constraints":
        print(f"Constraints: {write_constraints(out_dir)}")
    else:
        write_checksums(out_dir)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
