"""First-visit page weight, measured in Chromium (used by test_site.py and `make bench`).

A page's weight is the sum of the bytes of every response the browser receives when it opens
the page with an empty cache at 1280 px and scrolls to the bottom (so that lazily loaded
pictures are counted as a reader who reads the whole chapter fetches them), widgets left as
they are. The test server does not compress, so these are uncompressed bytes.
"""

from __future__ import annotations

import functools
import http.server
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urljoin

from .conftest import CHROMIUM_FLAGS, QuietHandler

#: The heaviest a chapter may be on a first visit (issue 16).
MAX_CHAPTER_BYTES = 4_000_000


def settle(page, timeout: float = 20_000) -> None:
    """Wait until the network is idle; on a busy machine, go on after ``timeout`` ms."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_load_state("networkidle", timeout=timeout)
    except PlaywrightTimeout:
        page.wait_for_timeout(500)


def scroll_to_bottom(page) -> None:
    """Scroll down a screen at a time, so that lazy images on the way start loading."""
    page.evaluate(
        """async () => {
            for (let y = 0; y < document.documentElement.scrollHeight; y += innerHeight / 2) {
                window.scrollTo(0, y);
                await new Promise(r => setTimeout(r, 30));
            }
        }"""
    )
    settle(page)


def page_weight(browser, base_url: str, page_path: str) -> dict[str, int]:
    """Bytes received per kind of file ("html", "js", "css", "font", "image", "other", "total")."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    finished = []
    page.on("requestfinished", lambda request: finished.append(request))
    try:
        page.goto(urljoin(base_url, page_path), wait_until="load")
        settle(page)
        scroll_to_bottom(page)
        weights = dict.fromkeys(["html", "js", "css", "font", "image", "other"], 0)
        for request in finished:
            size = request.sizes()["responseBodySize"]
            kind = {
                "document": "html",
                "script": "js",
                "stylesheet": "css",
                "font": "font",
                "image": "image",
            }.get(request.resource_type, "other")
            weights[kind] += size
        weights["total"] = sum(weights.values())
        return weights
    finally:
        context.close()


@contextmanager
def served(site: Path) -> Iterator[str]:
    """Serve ``site`` on localhost; yields the base URL."""
    handler = functools.partial(QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()


def site_weights(site: Path, pages: list[str]) -> dict[str, dict[str, int]]:
    """:func:`page_weight` of each page of the built ``site`` (needs Playwright and Chromium)."""
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if executable is None:
        raise RuntimeError("Chromium is not installed (Debian: apt-get install chromium)")
    with served(site) as base_url, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            return {page: page_weight(browser, base_url, page) for page in pages}
        finally:
            browser.close()
