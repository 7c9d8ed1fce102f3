"""The rendered book in a real browser: every page of the table of contents.

For each page: it loads with no failed request, no request leaving localhost and no console
error (beyond the allow-list below); every equation is typeset by MathJax; every image has
loaded; every internal link and anchor resolves; axe-core finds no serious or critical
accessibility violation. On chapter pages the widgets render and moving a slider changes the
figure. The search page finds a known word. A full-page screenshot of each chapter is saved in
``_build/screenshots/`` for humans.
"""

from __future__ import annotations

import itertools
import re
import time
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse

import pytest

from .conftest import AXE, ROOT, SCREENSHOTS, toc_pages
from .weight import settle

PAGES = toc_pages()
CHAPTERS = [page for page in PAGES if re.match(r"book/\d\d_", page)]

# Console messages that are not errors of this book (each with its reason).
CONSOLE_ALLOW = [
    # none so far
]


class IdCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("id", "name") and value:
                self.ids.add(value)


def ids_in(path: Path) -> set[str]:
    collector = IdCollector()
    collector.feed(path.read_text(encoding="utf-8"))
    return collector.ids


def open_page(browser, base_url: str, page_path: str):
    """Open a page, recording failed requests, external requests and console errors."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    problems: list[str] = []
    host = urlparse(base_url).netloc

    def route(route_obj):
        url = route_obj.request.url
        if urlparse(url).scheme in ("data", "blob") or urlparse(url).netloc == host:
            route_obj.continue_()
        else:
            problems.append(f"request leaves the site: {url}")
            route_obj.abort()

    page.route("**/*", route)
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url} ({r.failure})"))
    page.on(
        "response",
        lambda r: problems.append(f"HTTP {r.status}: {r.url}") if r.status >= 400 else None,
    )
    page.on(
        "console",
        lambda m: (
            problems.append(f"console {m.type}: {m.text}")
            if m.type == "error" and not any(a in m.text for a in CONSOLE_ALLOW)
            else None
        ),
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.goto(urljoin(base_url, page_path), wait_until="load")
    settle(page)
    return context, page, problems


def wait_for_mathjax(page) -> None:
    page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise")
    page.evaluate("() => MathJax.startup.promise")


@pytest.fixture(scope="module", params=PAGES)
def loaded(request, browser, base_url):
    context, page, problems = open_page(browser, base_url, request.param)
    if page.query_selector(".math"):
        wait_for_mathjax(page)
    time.sleep(0.3)  # let widget views render after the manager has loaded
    yield request.param, page, problems
    context.close()


def test_page_loads_cleanly(loaded):
    page_path, _, problems = loaded
    assert problems == [], f"{page_path}:\n" + "\n".join(problems)


def test_math_is_typeset(loaded):
    page_path, page, _ = loaded
    untypeset = page.evaluate(
        """() => [...document.querySelectorAll('span.math, div.math')]
                 .filter(el => !el.querySelector('mjx-container'))
                 .map(el => el.textContent.slice(0, 60))"""
    )
    assert untypeset == [], f"{page_path}: raw TeX left in {untypeset}"
    # Prose (not code, not program output) must not show TeX source: a "$" or a
    # backslash command left over means some math was not parsed.
    prose = page.evaluate(
        """() => {
            const article = document.querySelector('article').cloneNode(true);
            article.querySelectorAll('pre, code, mjx-container, .cell_input, script, style')
                   .forEach(el => el.remove());
            return article.textContent;
        }"""
    )
    leftovers = re.findall(r".{0,30}(?:\$|\\[A-Za-z]+|\\\(|\\\[).{0,30}", prose)
    assert leftovers == [], f"{page_path}: TeX source left in the text: {leftovers[:5]}"


def test_display_equations_fit_the_column(loaded):
    page_path, page, _ = loaded
    too_wide = page.evaluate(
        """() => [...document.querySelectorAll('mjx-container[display="true"]')]
                 .filter(el => el.scrollWidth > el.clientWidth + 2)
                 .map(el => el.textContent.slice(0, 50))"""
    )
    assert too_wide == [], f"{page_path}: equations wider than the text column: {too_wide}"


def test_images_load(loaded):
    page_path, page, _ = loaded
    broken = page.evaluate(
        """() => [...document.images]
                 .filter(img => !(img.complete && img.naturalWidth > 0))
                 .map(img => img.src.slice(0, 80))"""
    )
    assert broken == [], f"{page_path}: images that did not load: {broken}"


def test_internal_links_resolve(loaded, site, base_url):
    page_path, page, _ = loaded
    hrefs = page.evaluate("() => [...document.querySelectorAll('a[href]')].map(a => a.href)")
    host = urlparse(base_url).netloc
    missing = []
    for href in set(hrefs):
        url = urlparse(href)
        if url.netloc != host:
            continue
        target = site / unquote(url.path).lstrip("/")
        if target.is_dir():
            target = target / "index.html"
        if not target.exists():
            missing.append(href)
        elif url.fragment and target.suffix == ".html" and url.fragment not in ids_in(target):
            missing.append(href)
    assert missing == [], f"{page_path}: broken internal links {sorted(missing)}"


def test_accessibility_axe(loaded):
    page_path, page, _ = loaded
    page.add_script_tag(path=str(AXE))
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    serious = [
        f"{v['id']} ({v['impact']}): {v['help']} -- e.g. {v['nodes'][0]['target']}"
        for v in result["violations"]
        if v["impact"] in ("serious", "critical")
    ]
    assert serious == [], f"{page_path}:\n" + "\n".join(serious)


def test_figures_have_alt_text(loaded):
    page_path, page, _ = loaded
    missing = page.evaluate(
        """() => [...document.querySelectorAll('figure img')]
                 .filter(img => !(img.alt && img.alt.trim().length > 10))
                 .map(img => img.src.slice(-40))"""
    )
    assert missing == [], f"{page_path}: figure images without alt text: {missing}"


def test_headings_in_order(loaded):
    page_path, page, _ = loaded
    levels = page.evaluate(
        "() => [...document.querySelectorAll('article h1, article h2, article h3, article h4')]"
        ".map(h => Number(h.tagName[1]))"
    )
    assert levels and levels[0] == 1, f"{page_path}: first heading is not h1"
    jumps = [(a, b) for a, b in itertools.pairwise(levels) if b > a + 1]
    assert jumps == [], f"{page_path}: heading levels skip: {jumps}"


@pytest.mark.parametrize("page_path", CHAPTERS)
def test_widget_slider_changes_figure(browser, base_url, page_path):
    # The explorer is rendered by the book's own linnet-widgets.js from the saved widget state:
    # a range input per control, linked (jslink) to stacks of precomputed frames.
    context, page, problems = open_page(browser, base_url, page_path)
    try:
        page.wait_for_selector(".linnet-widgets input[type=range]", timeout=20_000)
        frames = page.locator("img.linnet-frame")
        explorer = page.locator(".linnet-widgets").filter(has=frames).first
        visible = explorer.locator("img.linnet-frame:visible").first
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        wait_for_mathjax(page)
        name = Path(page_path).stem
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
        before = visible.get_attribute("src")
        # Only the frames shown are in the page (and so fetched): one per explorer at first.
        assert explorer.locator("img.linnet-frame").count() == 1
        assert not before.startswith("data:"), "frames are files, not base64 in the page"
        slider = explorer.locator("input[type=range]").first
        label = slider.evaluate("el => el.labels[0] && el.labels[0].textContent")
        assert label and label.strip(), "the slider has no visible label"
        readout_before = explorer.locator(".linnet-widget-readout").first.inner_text()
        slider.scroll_into_view_if_needed()
        slider.focus()
        # an explorer may open on its last value (its most telling frame): then step back
        at_end = slider.evaluate("el => Number(el.value) >= Number(el.max)")
        page.keyboard.press("ArrowLeft" if at_end else "ArrowRight")
        page.wait_for_timeout(500)
        after = explorer.locator("img.linnet-frame:visible").first.get_attribute("src")
        assert before and after and before != after, "moving the slider did not change the figure"
        readout_after = explorer.locator(".linnet-widget-readout").first.inner_text()
        assert readout_after != readout_before, "the readout did not follow the slider"
        assert slider.get_attribute("aria-valuetext") == readout_after
        explorer.locator("img.linnet-frame:visible").first.evaluate(
            "img => img.complete || new Promise(r => img.onload = r)"
        )
        explorer.screenshot(path=str(SCREENSHOTS / f"{name}-widget.png"))
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_search_finds_a_known_word(browser, base_url):
    context, page, _ = open_page(browser, base_url, "search.html?q=balancedness")
    try:
        page.wait_for_selector("#search-results ul li, ul.search li", timeout=20_000)
        hits = page.locator("ul.search li").count()
        assert hits > 0
        assert "balancedness" in page.inner_text("ul.search").lower()
    finally:
        context.close()


def test_code_blocks_do_not_scroll_sideways(loaded):
    # At desktop width (1280 px) no code cell, shown or collapsed, is wider than the column.
    page_path, page, _ = loaded
    too_wide = page.evaluate(
        """() => {
            const closed = [...document.querySelectorAll('article details:not([open])')];
            closed.forEach(d => d.open = true);
            const longest = pre => pre.textContent.split('\\n')
                .reduce((a, b) => a.length > b.length ? a : b);
            const wide = [...document.querySelectorAll('article div.highlight pre')]
                .filter(pre => pre.scrollWidth > pre.clientWidth + 1).map(longest);
            closed.forEach(d => d.open = false);
            return wide;
        }"""
    )
    assert too_wide == [], f"{page_path}: code wider than the column, e.g. {too_wide[:3]}"


def test_images_are_sharp_on_hidpi_screens(loaded):
    # Figures are rendered at twice the size at which they are displayed.
    page_path, page, _ = loaded
    blurry = page.evaluate(
        """() => [...document.querySelectorAll('article img')]
                 .filter(img => img.clientWidth > 100 && img.naturalWidth < 1.9 * img.clientWidth)
                 .map(img => `${img.naturalWidth}px shown at ${img.clientWidth}px: `
                             + (img.alt || img.src).slice(0, 50))"""
    )
    assert blurry == [], f"{page_path}: images below 2x resolution: {blurry}"


@pytest.mark.parametrize("page_path", CHAPTERS)
def test_phone_width_keeps_title_and_widget_readouts_visible(browser, base_url, page_path):
    context = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2)
    page = context.new_page()
    try:
        page.goto(urljoin(base_url, page_path), wait_until="load")
        page.wait_for_selector(".linnet-widget-readout", state="attached", timeout=20_000)
        page.wait_for_timeout(300)
        problems = page.evaluate(
            """() => {
                const out = [];
                const vw = document.documentElement.clientWidth;
                const title = document.querySelector('article h1');
                const t = title.getBoundingClientRect();
                if (title.scrollWidth > title.clientWidth + 1 || t.right > vw + 1)
                    out.push(`title clipped: ${title.textContent.slice(0, 40)}`);
                for (const r of document.querySelectorAll('.linnet-widget-readout')) {
                    if (r.offsetParent === null) continue;  // inside a collapsed stack
                    const b = r.getBoundingClientRect();
                    if (b.width < 1 || b.left < -1 || b.right > vw + 1)
                        out.push(`readout off screen: "${r.textContent}" at ${b.left}-${b.right}`);
                    else if (r.scrollWidth > r.clientWidth + 1)
                        out.push(`readout cut: "${r.textContent}"`);
                    else if (getComputedStyle(r).visibility !== 'visible' || !r.textContent)
                        out.push('readout invisible');
                }
                for (const d of document.querySelectorAll('.linnet-widget-label')) {
                    if (d.offsetParent !== null && d.scrollWidth > d.clientWidth + 1)
                        out.push(`label cut: "${d.textContent}"`);
                }
                return out;
            }"""
        )
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(page_path).stem}-phone.png"))
        assert problems == [], f"{page_path} at 390 px: {problems}"
    finally:
        context.close()


def test_api_page_renders_docstring_formulas_as_math(browser, base_url):
    context, page, problems = open_page(browser, base_url, "book/api.html")
    try:
        wait_for_mathjax(page)
        typeset = page.evaluate("() => document.querySelectorAll('dl.py dd mjx-container').length")
        assert typeset >= 10, f"only {typeset} formulas typeset in the API docstrings"
        assert problems == [], "\n".join(problems)
    finally:
        context.close()


def test_api_page_shows_no_path_of_the_build_machine(site):
    # A default argument computed at import time (a Path) would print the checkout's location.
    text = (site / "book" / "api.html").read_text(encoding="utf-8")
    assert "PosixPath(" not in text and "WindowsPath(" not in text
    assert str(ROOT) not in text, "the API page shows where the book was built"


def test_build_status_says_where_the_book_ran(site):
    # Python, NumPy, the BLAS library and the kernel it chose on the build machine's CPU.
    import platform

    import numpy as np

    from linnet.records import machine

    text = re.sub(r"\s+", " ", (site / "book" / "build_status.html").read_text(encoding="utf-8"))
    m = machine()
    assert f"Python {platform.python_version()}" in text and f"NumPy {np.__version__}" in text
    assert f"ran its {m['blas_kernel']} kernels" in text and m["blas_kernel"] != "unknown"
