"""Fixtures for the browser tests: the built site, served on localhost, and headless Chromium.

The tests need `make book` to have run (``_build/html``) and Debian's ``chromium``. Without
them they are skipped with a message, unless ``LINNET_REQUIRE_BROWSER=1`` (set by ``.ci/run``),
in which case they fail: CI must run them.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SITE = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
REQUIRED = os.environ.get("LINNET_REQUIRE_BROWSER") == "1"
# Chromium's flags for this sandbox: one definition, in the book's PDF printer.
_spec = importlib.util.spec_from_file_location(
    "linnet_pdf", ROOT / "book" / "_ext" / "linnet_pdf.py"
)
_pdf = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_pdf)
CHROMIUM_FLAGS = _pdf.CHROMIUM_FLAGS


def unavailable(reason: str) -> None:
    if REQUIRED:
        pytest.fail(f"browser tests are required here (LINNET_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"browser tests skipped: {reason}")


def toc_pages() -> list[str]:
    """Every page of the table of contents, as paths of HTML files relative to the site."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files += [chapter["file"]] + [s["file"] for s in chapter.get("sections", [])]
    return [f"{name}.html" for name in files]


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture(scope="session")
def site() -> Path:
    if not (SITE / "index.html").exists():
        unavailable("the book is not built: run `make book` first")
    return SITE


@pytest.fixture(scope="session")
def base_url(site: Path) -> Iterator[str]:
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()


@pytest.fixture(scope="session")
def browser(site: Path):
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        unavailable("Chromium is not installed (Debian: apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield browser
        browser.close()
