"""The site serves its own package: end to end, from the built site, offline (issues 17, 23).

The built ``_build/html`` is served on 127.0.0.1 (fixture ``base_url``). From the served pages
(never the checkout) the tests follow the links to the wheel, the source bundle and every
chapter's ``.ipynb`` download, and check them against the ``.sha256`` files beside them. In
Chromium, the install line on "Run it yourself" and on every chapter holds the wheel's absolute
address (filled in from the page's own location, over HTTP and from a ``file://`` copy), and
its copy button copies it; a chapter's "Run this chapter yourself" is one line that opens.
The copied line installs the wheel (``--no-deps``) into a fresh virtual environment that reuses
the locked environment's packages (a ``.pth`` line, so no network) but not the checkout's
``src/``; every downloaded chapter, alone in a temporary folder, then executes there headless,
with ``linnet`` from the wheel. The bundle holds what ``make lab`` needs and no build output.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import urllib.request
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from .conftest import ROOT, toc_pages

# The chapter whose links are followed first (any chapter would do).
CHAPTER = "book/01_linear_networks"
RUN_PAGE = "book/run_it_yourself.html"
CHAPTERS = [p for p in toc_pages() if re.match(r"book/\d\d_", p)]


class Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        href = dict(attrs).get("href")
        if tag == "a" and href:
            self.hrefs.append(href)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def get(url: str) -> bytes:
    assert urlparse(url).hostname == "127.0.0.1", f"link leaves the served site: {url}"
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.read()


def page(base_url: str, path: str) -> tuple[str, Links]:
    url = urljoin(base_url, path)
    parser = Links()
    parser.feed(get(url).decode("utf-8"))
    return url, parser


def linked(page_url: str, links: Links, pattern: str) -> list[str]:
    return sorted(
        {urljoin(page_url, h) for h in links.hrefs if re.search(pattern, urlparse(h).path)}
    )


def pyproject_version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def purelib_of(python: Path) -> Path:
    """The site-packages folder of the interpreter ``python``."""
    return Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )


@pytest.fixture(scope="module")
def downloads(base_url: str, tmp_path_factory) -> dict[str, Path]:
    """Wheel, bundle and chapter, downloaded by following the served pages' links."""
    where = tmp_path_factory.mktemp("downloads")
    run_url, run_links = page(base_url, RUN_PAGE)
    chapter_url, chapter_links = page(base_url, f"{CHAPTER}.html")
    found = {
        "wheel": linked(run_url, run_links, r"/dist/[^/]+\.whl$"),
        "bundle": linked(run_url, run_links, r"/dist/[^/]+\.zip$"),
        "constraints": linked(run_url, run_links, r"/dist/[^/]+-constraints\.txt$"),
        "chapter wheel": linked(chapter_url, chapter_links, r"/dist/[^/]+\.whl$"),
        "chapter": linked(chapter_url, chapter_links, r"\.ipynb$"),
    }
    for what, urls in found.items():
        assert len(urls) == 1, f"expected one {what} link, found {urls}"
    assert found["chapter wheel"] == found["wheel"], "chapter and Run it yourself disagree"
    files = {}
    for what in ("wheel", "bundle", "constraints", "chapter"):
        url = found[what][0]
        target = where / Path(urlparse(url).path).name
        target.write_bytes(get(url))
        files[what] = target
        if what != "chapter":
            assert f"{url}.sha256" in linked(run_url, run_links, r"\.sha256$")
            digest, name = get(f"{url}.sha256").decode().split()
            assert name == target.name
            assert hashlib.sha256(target.read_bytes()).hexdigest() == digest, f"{what}: sha256"
    files["wheel url"] = found["wheel"][0]
    files["constraints url"] = found["constraints"][0]
    chapters = where / "chapters"
    chapters.mkdir()
    for path in CHAPTERS:
        url, links = page(base_url, path)
        (notebook,) = linked(url, links, r"\.ipynb$")
        (chapters / Path(urlparse(notebook).path).name).write_bytes(get(notebook))
    files["chapters"] = chapters
    return files


def test_names_footer_and_pages_agree_on_the_version(base_url: str, downloads) -> None:
    version = pyproject_version()
    assert downloads["wheel"].name == f"linnet-{version}-py3-none-any.whl"
    assert downloads["bundle"].name == f"linnet-book-{version}.zip"
    with zipfile.ZipFile(downloads["wheel"]) as wheel:
        metadata = wheel.read(f"linnet-{version}.dist-info/METADATA").decode()
        names = wheel.namelist()
    assert f"\nVersion: {version}\n" in metadata
    assert any(n.startswith("linnet/_datasets/") and n.endswith(".csv.gz") for n in names)
    for path in toc_pages():
        _, links = page(base_url, path)
        text = " ".join("".join(links.text).split())
        footer = re.search(r"linnet (\S+) · built on (\d{4}-\d\d-\d\d)", text)
        assert footer, f"{path}: no version and build date in the footer"
        assert footer.group(1) == version, path
    _, status = page(base_url, "book/build_status.html")
    assert f"from linnet {version}," in " ".join("".join(status.text).split())


def expected_line(wheel_url: str) -> str:
    return f'pip install "linnet[book] @ {wheel_url}"'


def test_install_line_in_the_html_on_run_it_yourself_and_every_chapter(
    base_url: str, downloads
) -> None:
    """Without JavaScript: the deployed site's absolute line, or WHEEL-ADDRESS with a hint."""
    site_url = os.environ.get("LINNET_SITE_URL", "").strip().rstrip("/")
    address = f"{site_url}/dist/{downloads['wheel'].name}" if site_url else "WHEEL-ADDRESS"
    for path in [RUN_PAGE, *CHAPTERS]:
        _, links = page(base_url, path)
        text = "".join(links.text)
        assert expected_line(address) in text, f"{path}: the install line is missing"
        if not site_url:
            assert "copy link address" in text, path


@pytest.fixture(scope="module")
def copied_line(browser, base_url: str, downloads) -> str:
    """The install line as the copy button on the first chapter copies it (390 px, touch)."""
    context = browser.new_context(
        viewport={"width": 390, "height": 844},
        device_scale_factor=3,
        is_mobile=True,
        has_touch=True,
        permissions=["clipboard-read", "clipboard-write"],
    )
    tab = context.new_page()
    url = urljoin(base_url, f"{CHAPTER}.html")
    tab.goto(url, wait_until="load")
    tab.locator("details.linnet-run-note > summary").click()
    block = tab.locator(".linnet-install").first
    block.locator("pre").hover()
    block.locator("button.copybtn").click()
    copied = tab.evaluate("navigator.clipboard.readText()")
    context.close()
    assert copied.strip() == expected_line(downloads["wheel url"]), copied
    return copied.strip()


def test_install_line_is_filled_in_and_the_run_note_is_one_line(
    browser, base_url: str, downloads
) -> None:
    context = browser.new_context(
        viewport={"width": 390, "height": 844}, device_scale_factor=3, is_mobile=True
    )
    tab = context.new_page()
    bad = []
    for path in [RUN_PAGE, *CHAPTERS]:
        tab.goto(urljoin(base_url, path), wait_until="load")
        lines = tab.locator(".linnet-install pre").all_text_contents()  # also when folded
        if [t.strip() for t in lines] != [expected_line(downloads["wheel url"])]:
            bad.append(f"{path}: install lines {lines}")
        if tab.locator(".linnet-install-hint:visible").count():
            bad.append(f"{path}: the WHEEL-ADDRESS hint shows although the line is filled in")
        hrefs = tab.eval_on_selector_all(
            'a[href*="_sources/"][href$=".ipynb"]',
            "els => els.map(a => [a.href, a.getAttribute('download')])",
        )
        if not path.startswith(RUN_PAGE) and len(hrefs) < 2:  # the theme's and the note's
            bad.append(f"{path}: {len(hrefs)} links to the chapter's .ipynb")
        if any(not name or not href.endswith(f"/{name}") for href, name in hrefs):
            bad.append(f"{path}: a .ipynb link without a download attribute: {hrefs}")
        if path == RUN_PAGE:
            follows = tab.evaluate(
                """() => {
                const p = [...document.querySelectorAll("p")].find(
                    e => /one line installs it/.test(e.textContent));
                return p && p.nextElementSibling
                    && p.nextElementSibling.classList.contains("linnet-install");
            }"""
            )
            if not follows:
                bad.append(f"{path}: 'one line installs it' is not followed by the line")
            tested = tab.locator(".linnet-install-tested pre").all_text_contents()
            want = (
                f"pip install -c {downloads['constraints url']} "
                f'"linnet[book] @ {downloads["wheel url"]}"'
            )
            if [t.strip() for t in tested] != [want]:
                bad.append(f"{path}: the tested-versions line is {tested}, not {want}")
            text = tab.inner_text("article")
            if "sha256sum -c " not in text or "shasum -a 256 -c " not in text:
                bad.append(f"{path}: no sha256 check instructions")
            continue
        note = tab.locator("details.linnet-run-note")
        if note.count() != 1:
            bad.append(f"{path}: {note.count()} run notes")
            continue
        closed = note.bounding_box()
        title = tab.locator("article h1").first.bounding_box()
        if note.get_attribute("open") is not None or closed["height"] > 60:
            bad.append(f"{path}: the closed run note is {closed['height']:.0f} px tall")
        if closed["y"] + closed["height"] > 844 or closed["y"] < title["y"]:
            bad.append(f"{path}: the run note is not right under the title")
        note.locator("summary").click()
        if not note.locator(".linnet-install pre").is_visible():
            bad.append(f"{path}: the opened run note does not show the install line")
    context.close()
    assert not bad, "\n".join(bad)


def test_install_line_from_a_file_copy_of_the_site(browser, site: Path, downloads, venv) -> None:
    """Opened as file://, the page fills in a file:// address, and pip accepts that line."""
    context = browser.new_context()
    tab = context.new_page()
    tab.goto((site / f"{CHAPTER}.html").as_uri(), wait_until="load")
    line = tab.locator(".linnet-install pre").first.text_content().strip()
    context.close()
    wheel = site / "dist" / downloads["wheel"].name
    assert line == expected_line(wheel.as_uri()), line
    assert Path(unquote(urlparse(wheel.as_uri()).path)).is_file()
    python, env, cwd = venv
    plan = subprocess.run(
        [python, "-m", *shlex.split(line), "--dry-run", "--no-deps", "--no-index",
         "--force-reinstall", "--disable-pip-version-check"],
        capture_output=True, text=True, env=env, cwd=cwd, timeout=300,
    )  # fmt: skip
    assert plan.returncode == 0, plan.stdout[-2000:] + plan.stderr[-2000:]
    assert "Would install linnet-" in plan.stdout, plan.stdout


def test_launch_and_repository_buttons_only_with_a_repository(base_url: str) -> None:
    repo = os.environ.get("LINNET_REPOSITORY_URL", "").strip().rstrip("/")
    raw = get(urljoin(base_url, f"{CHAPTER}.html")).decode()
    for host in ("mybinder.org", "colab.research.google.com"):
        assert (host in raw) == bool(repo), f"{host}: expected {'a' if repo else 'no'} button"
    assert "executablebooks/jupyter-book" not in raw  # Jupyter Book's default repository
    if repo:
        assert repo in raw
    else:
        assert "github.com" not in raw


@pytest.fixture(scope="module")
def venv(tmp_path_factory) -> tuple[Path, dict[str, str], Path]:
    """Fresh venv + the locked packages (no network); no path to ``src/``, no linnet yet."""
    where = tmp_path_factory.mktemp("venv")
    env_dir = where / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env_dir], check=True)
    python = env_dir / "bin" / "python"
    purelib = purelib_of(python)
    # The locked environment's packages, after the venv's own (a .pth line adds the folder
    # only: the editable install's own .pth/finder in it, which points at src/, is not run).
    locked = Path(sysconfig.get_paths()["purelib"])
    (purelib / "_locked_env.pth").write_text(f"{locked}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "LINNET_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", OPENBLAS_NUM_THREADS="1")
    return python, env, where


RUN_ALL = """
import json, sys, time
from pathlib import Path
import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
report = {}
for path in sorted(Path(".").glob("[0-9][0-9]_*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "import json, sys, linnet, linnet.datasets\\n"
        "print(json.dumps({'file': linnet.__file__, 'path': sys.path,"
        " 'exe': sys.executable, 'tecator': linnet.datasets.tecator().X.shape}))"
    ))
    start = time.monotonic()
    try:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": "."}}).execute()
    except CellExecutionError as error:
        report[path.name] = {"error": str(error)[-1500:]}
    else:
        report[path.name] = json.loads(nb.cells[-1].outputs[0]["text"])
    report[path.name]["seconds"] = round(time.monotonic() - start, 1)
print(json.dumps(report))
"""


def test_every_chapter_runs_on_the_wheel_the_copied_line_installs(
    downloads, copied_line: str, venv
) -> None:
    """The copied line (+ ``--no-deps``: the dependencies are the locked ones, offline)
    installs the wheel from the served site; every chapter, downloaded from its page and
    alone in a folder, executes there with ``linnet`` from the wheel."""
    python, env, where = venv
    subprocess.run(
        [python, "-m", *shlex.split(copied_line), "--quiet", "--no-deps", "--no-index",
         "--force-reinstall", "--disable-pip-version-check"],
        check=True, env=env, cwd=where, timeout=300,
    )  # fmt: skip
    purelib = purelib_of(python)
    work = where / "reader"
    work.mkdir()
    chapters = sorted(downloads["chapters"].glob("*.ipynb"))
    assert len(chapters) == len(CHAPTERS)
    for chapter in chapters:
        (work / chapter.name).write_bytes(chapter.read_bytes())
    (work / "run_chapters.py").write_text(textwrap.dedent(RUN_ALL))
    result = subprocess.run(
        [python, "run_chapters.py"],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=3600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert sorted(report) == [c.name for c in chapters]
    failed = {name: r["error"] for name, r in report.items() if "error" in r}
    assert not failed, "\n\n".join(f"{name}:\n{error}" for name, error in failed.items())
    src = (ROOT / "src").resolve()
    for seen in report.values():
        assert Path(seen["exe"]).parent == python.parent
        assert Path(seen["file"]).resolve().is_relative_to(purelib.resolve()), seen["file"]
        assert not any(p and Path(p).resolve() == src for p in seen["path"]), seen["path"]
        assert seen["tecator"][0] > 0  # the shipped data files are in the wheel


def test_bundle_has_what_make_lab_needs_and_no_build_output(downloads, tmp_path: Path) -> None:
    version = pyproject_version()
    top = f"linnet-book-{version}"
    with zipfile.ZipFile(downloads["bundle"]) as bundle:
        names = bundle.namelist()
        assert all(n.startswith(f"{top}/") for n in names), "one top folder named with version"
        bundle.extractall(tmp_path)
    for name in names:
        parts = set(Path(name).parts)
        assert not parts & {"_build", ".venv", "node_modules", "__pycache__", "_lockenv"}, name
        assert ".egg-info" not in name and not name.endswith(".pyc"), name
    folder = tmp_path / top
    chapters = [p.removesuffix(".html") for p in toc_pages() if re.match(r"book/\d\d_", p)]
    needed = [
        "Makefile",
        "README.md",
        "pyproject.toml",
        "requirements.lock",
        "src/linnet/__init__.py",
        "src/linnet/_datasets/tecator.csv.gz",
        *[f"{c}.ipynb" for c in chapters],
    ]
    missing = [n for n in needed if not (folder / n).is_file()]
    assert not missing, missing
    with open(folder / "pyproject.toml", "rb") as f:
        assert tomllib.load(f)["project"]["version"] == version
    assert "--hash=sha256:" in (folder / "requirements.lock").read_text()
    # What `make lab` would run there (dry run: nothing is installed).
    plan = subprocess.run(
        ["make", "-n", "lab"],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert plan.returncode == 0, plan.stderr
    assert "--require-hashes" in plan.stdout and "jupyter lab book/" in plan.stdout
