"""The site serves its own package: end to end, from the built site, offline (issue 17).

The built ``_build/html`` is served on 127.0.0.1 (fixture ``base_url``). From the served pages
(never the checkout) the test follows the links to the wheel, the source bundle and one
chapter's ``.ipynb`` download, and checks them against the ``.sha256`` files beside them. It
installs the downloaded wheel into a fresh virtual environment that reuses the locked
environment's packages (a ``.pth`` line, so no network) but not the checkout's ``src/``,
executes the downloaded chapter headless there and checks that ``linnet`` came from the wheel.
It unzips the bundle and checks that it holds what ``make lab`` needs and no build output.
No browser is needed: plain HTTP requests.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
import urllib.request
import zipfile
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlparse

import pytest

from .conftest import ROOT, toc_pages

# The chapter executed in the fresh environment: one of the quickest (see the build status).
CHAPTER = "book/01_linear_networks"
RUN_PAGE = "book/run_it_yourself.html"


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


@pytest.fixture(scope="module")
def downloads(base_url: str, tmp_path_factory) -> dict[str, Path]:
    """Wheel, bundle and chapter, downloaded by following the served pages' links."""
    where = tmp_path_factory.mktemp("downloads")
    run_url, run_links = page(base_url, RUN_PAGE)
    chapter_url, chapter_links = page(base_url, f"{CHAPTER}.html")
    found = {
        "wheel": linked(run_url, run_links, r"/dist/[^/]+\.whl$"),
        "bundle": linked(run_url, run_links, r"/dist/[^/]+\.zip$"),
        "chapter wheel": linked(chapter_url, chapter_links, r"/dist/[^/]+\.whl$"),
        "chapter": linked(chapter_url, chapter_links, r"\.ipynb$"),
    }
    for what, urls in found.items():
        assert len(urls) == 1, f"expected one {what} link, found {urls}"
    assert found["chapter wheel"] == found["wheel"], "chapter and Run it yourself disagree"
    files = {}
    for what in ("wheel", "bundle", "chapter"):
        url = found[what][0]
        target = where / Path(urlparse(url).path).name
        target.write_bytes(get(url))
        files[what] = target
        if what != "chapter":
            assert f"{url}.sha256" in linked(run_url, run_links, r"\.sha256$")
            digest, name = get(f"{url}.sha256").decode().split()
            assert name == target.name
            assert hashlib.sha256(target.read_bytes()).hexdigest() == digest, f"{what}: sha256"
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


def test_install_line_on_run_it_yourself_and_every_chapter(base_url: str, downloads) -> None:
    site_url = os.environ.get("LINNET_SITE_URL", "").strip().rstrip("/")
    address = f"{site_url}/dist/{downloads['wheel'].name}" if site_url else "WHEEL-ADDRESS"
    line = f'pip install "linnet[book] @ {address}"'
    chapters = [p for p in toc_pages() if re.match(r"book/\d\d_", p)]
    for path in [RUN_PAGE, *chapters]:
        _, links = page(base_url, path)
        text = "".join(links.text)
        assert line in text, f"{path}: the install line {line!r} is missing"
        if not site_url:
            assert "copy link address" in text, path


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


def test_downloaded_chapter_runs_on_the_installed_wheel(downloads, tmp_path: Path) -> None:
    """Fresh venv + the locked packages (no network) + the wheel; no path to ``src/``."""
    env_dir = tmp_path / "env"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", env_dir], check=True)
    python = env_dir / "bin" / "python"
    purelib = Path(
        subprocess.run(
            [python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    )
    # The locked environment's packages, after the venv's own (a .pth line adds the folder
    # only: the editable install's own .pth/finder in it, which points at src/, is not run).
    locked = Path(sysconfig.get_paths()["purelib"])
    (purelib / "_locked_env.pth").write_text(f"{locked}\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PIP_", "PYTHON", "LINNET_"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1", OPENBLAS_NUM_THREADS="1")
    subprocess.run(
        [
            python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-index",
            "--force-reinstall",
            "--disable-pip-version-check",
            downloads["wheel"],
        ],
        check=True,
        env=env,
        cwd=tmp_path,
        timeout=300,
    )
    work = tmp_path / "reader"
    work.mkdir()
    chapter = work / downloads["chapter"].name
    chapter.write_bytes(downloads["chapter"].read_bytes())
    driver = work / "run_chapter.py"
    driver.write_text(
        textwrap.dedent(
            """
        import json, sys
        import nbformat
        from nbclient import NotebookClient
        nb = nbformat.read(sys.argv[1], as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(
            "import json, sys, linnet, linnet.datasets\\n"
            "print(json.dumps({'file': linnet.__file__, 'path': sys.path,"
            " 'exe': sys.executable, 'tecator': linnet.datasets.tecator().X.shape}))"
        ))
        NotebookClient(nb, timeout=120, kernel_name="python3").execute()
        print(nb.cells[-1].outputs[0]["text"])
        """
        )
    )
    result = subprocess.run(
        [python, driver, chapter.name],
        capture_output=True,
        text=True,
        env=env,
        cwd=work,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert Path(seen["exe"]).parent == python.parent
    assert Path(seen["file"]).resolve().is_relative_to(purelib.resolve()), seen["file"]
    src = (ROOT / "src").resolve()
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
