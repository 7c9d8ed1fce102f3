"""Navigation and reading furniture of the site (issue 23, points 1, 4, 5, 8 and 9).

* The sidebar buttons: at 390, 800 and 1280 px a click on the *visible* ☰ button opens the
  site navigation and a second action (the close button, the backdrop, the button again)
  closes it; the same for the contents button where it is shown. (The theme binds its
  handlers to the first such button of the page, a hidden one; book/_static/linnet.js hands
  the visible buttons' clicks to it.)
* Tables on a phone: no header breaks inside a word; a table wider than its column scrolls
  inside its own box, shows a shadow on the side where columns are hidden and keeps its first
  column in place.
* Typography on a phone: h1 > h2 > h3; no punctuation mark starts a line right after inline
  math; captions smaller than the body text; explorer sliders at least 44 px high;
  column-aligned printed output keeps its columns (scrolls inside its box).
* Search: excerpts without the "Run this chapter yourself" box and without holes where
  formulas were; no page listed twice ("2. Balancedness > Balancedness"); the magnifier
  beside the query, not over it.
* Leaks: no ``<factory>`` and no ASCII formulas (``sigma_r^{2-2/N}``) in the API page's
  docstrings; a favicon; the reader's dark-mode preference is followed on a first visit.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urljoin

import pytest

from .conftest import toc_pages
from .weight import settle

PAGES = toc_pages()
CHAPTERS = [page for page in PAGES if re.match(r"book/\d\d_", page)]
CHAPTER = "book/02_balancedness.html"
WIDTHS = [390, 800, 1280]


@contextmanager
def opened(
    browser, base_url: str, page_path: str, width: int = 390, **options: Any
) -> Iterator[Any]:
    """The page at ``width`` px, loaded and typeset (console errors in ``page.errors``)."""
    context = browser.new_context(
        viewport={"width": width, "height": 844}, device_scale_factor=1, **options
    )
    try:
        page = context.new_page()
        page.set_default_timeout(15_000)
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(urljoin(base_url, page_path), wait_until="load")
        settle(page)
        if page.query_selector(".math"):
            page.wait_for_function(
                "() => window.MathJax && MathJax.startup && MathJax.startup.promise"
            )
            page.evaluate("() => MathJax.startup.promise")
            page.wait_for_timeout(100)  # linnet.js runs after the typesetting
        page.errors = errors
        yield page
    finally:
        context.close()


# --- 1. Sidebar buttons ------------------------------------------------------------------

VISIBLE_BUTTON = """sel => {
    const shown = [...document.querySelectorAll(sel)].filter(b => {
        const r = b.getBoundingClientRect();
        return b.offsetParent !== null && r.width > 0 && r.height > 0
            && getComputedStyle(b).visibility === 'visible';
    });
    return shown.length;
}"""

# Is the panel on screen? A dialog that is open and shows links inside the viewport, or the
# sidebar itself (at 1280 px the navigation is a column beside the text).
PANEL_STATE = """([dialogId, sidebarId]) => {
    const onScreen = el => {
        if (!el || el.offsetParent === null && getComputedStyle(el).position !== 'fixed')
            return false;
        const style = getComputedStyle(el);
        if (style.visibility === 'hidden' || style.display === 'none'
            || Number(style.opacity) < 0.5) return false;
        const r = el.getBoundingClientRect();
        return r.width > 50 && r.height > 50 && r.right > 20 && r.left < innerWidth - 20
            && r.bottom > 0 && r.top < innerHeight;
    };
    const dialog = document.getElementById(dialogId);
    const sidebar = document.getElementById(sidebarId);
    const links = root => root ? [...root.querySelectorAll('a')].filter(a => {
        const r = a.getBoundingClientRect();
        return r.width > 0 && r.left >= -1 && r.right <= innerWidth + 1
            && r.top >= 0 && r.top < innerHeight;
    }).length : 0;
    return {
        dialog: !!(dialog && dialog.open && onScreen(dialog) && links(dialog) > 0),
        sidebar: !!(sidebar && onScreen(sidebar) && links(sidebar) > 0),
    };
}"""

PANELS = {
    "navigation": (".primary-toggle", "pst-primary-sidebar-modal", "pst-primary-sidebar"),
    "contents": (".secondary-toggle", "pst-secondary-sidebar-modal", "pst-secondary-sidebar"),
}


def panel_open(page, panel: str) -> bool:
    _, dialog, sidebar = PANELS[panel]
    state = page.evaluate(PANEL_STATE, [dialog, sidebar])
    return state["dialog"] or state["sidebar"]


def click_visible(page, selector: str) -> None:
    page.locator(selector).locator("visible=true").first.click()
    page.wait_for_timeout(400)  # the sidebar's collapse transition


@pytest.mark.parametrize("panel", list(PANELS))
@pytest.mark.parametrize("width", WIDTHS)
def test_sidebar_button_opens_and_closes_its_panel(browser, base_url, width, panel):
    selector, dialog_id, _ = PANELS[panel]
    with opened(browser, base_url, CHAPTER, width) as page:
        if page.evaluate(VISIBLE_BUTTON, selector) == 0:
            # No button at this width: the panel is then a column beside the text.
            assert panel_open(page, panel), f"{panel} at {width} px: no button and no panel"
            return
        shown_before = panel_open(page, panel)
        click_visible(page, selector)
        after = panel_open(page, panel)
        assert after != shown_before, (
            f"{panel} at {width} px: clicking the visible button changed nothing "
            f"(panel shown: {shown_before})"
        )
        if page.evaluate("id => !!document.getElementById(id)?.open", dialog_id):
            # A dialog: its close button, a click on the backdrop and Escape close it.
            page.locator(f"#{dialog_id} .linnet-dialog-close").click()
            page.wait_for_timeout(300)
            assert not panel_open(page, panel), (
                f"{panel} at {width} px: the close button did not close it"
            )
            click_visible(page, selector)
            assert panel_open(page, panel), f"{panel} at {width} px: did not open again"
            box = page.locator(f"#{dialog_id}").bounding_box()
            x = box["x"] + box["width"] + 10 if box["x"] < 30 else box["x"] - 10
            page.mouse.click(x, 400)
            page.wait_for_timeout(300)
            assert not panel_open(page, panel), f"{panel} at {width} px: backdrop did not close"
            # The page is usable again and the sidebar's content is back in place.
            assert page.evaluate(VISIBLE_BUTTON, selector) > 0
        else:
            # A column that collapses: the same button brings it back.
            click_visible(page, selector)
            assert panel_open(page, panel) == shown_before, (
                f"{panel} at {width} px: a second click did not restore the panel"
            )
        assert page.errors == [], page.errors


# --- 9. Colour mode on a first visit -------------------------------------------------------

BACKGROUND = """() => {
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/[\\d.]+/g)
        .map(Number);
    return {theme: document.documentElement.dataset.theme,
            luminance: (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255};
}"""


@pytest.mark.parametrize("scheme", ["dark", "light"])
def test_first_visit_follows_the_colour_preference(browser, base_url, scheme):
    with opened(browser, base_url, CHAPTER, 1280, color_scheme=scheme) as page:
        state = page.evaluate(BACKGROUND)
        assert state["theme"] == scheme, state
        assert (state["luminance"] < 0.3) == (scheme == "dark"), state
        assert page.errors == [], page.errors


# --- 4. Tables on a phone ------------------------------------------------------------------

TABLE_PAGES = [
    "book/05_single_output.html",
    "book/06_acceleration.html",
    "book/07_nonlinear.html",
    "book/09_conclusion.html",
]

# Words of a header cell that the browser broke across lines: a word whose glyphs do not all
# sit on one line.
BROKEN_HEADER_WORDS = """() => {
    const broken = [];
    for (const th of document.querySelectorAll('article table th')) {
        if (th.offsetParent === null) continue;
        const walker = document.createTreeWalker(th, NodeFilter.SHOW_TEXT);
        for (let node; (node = walker.nextNode());) {
            for (const m of node.data.matchAll(/\\S+/g)) {
                const range = document.createRange();
                range.setStart(node, m.index);
                range.setEnd(node, m.index + m[0].length);
                const tops = new Set([...range.getClientRects()]
                    .filter(r => r.width > 0).map(r => Math.round(r.top)));
                if (tops.size > 1) broken.push(m[0]);
            }
        }
    }
    return broken;
}"""

WIDE_TABLES = """() => [...document.querySelectorAll('article table')]
    .filter(t => t.offsetParent !== null && !t.closest('td, th'))
    .map(t => {
        const box = t.closest('.linnet-scroll-box');
        const frame = box && box.parentElement;
        const ownBox = box || t.parentElement;
        const wide = t.getBoundingClientRect().width > ownBox.clientWidth + 1;
        const vw = document.documentElement.clientWidth;
        const cue = frame ? getComputedStyle(frame, '::after') : null;
        const first = t.querySelector('tbody tr > :first-child');
        return {
            head: t.querySelector('th') ? t.querySelector('th').textContent.trim() : '',
            wide,
            scrolls: !!box && ['auto', 'scroll'].includes(getComputedStyle(box).overflowX),
            inside: ownBox.getBoundingClientRect().right <= vw + 1,
            cue: !!cue && cue.content !== 'none' && Number(cue.opacity) > 0.5
                 && cue.backgroundImage.includes('gradient'),
            sticky: !!first && getComputedStyle(first).position === 'sticky',
        };
    })"""


@pytest.mark.parametrize("page_path", TABLE_PAGES)
def test_table_headers_do_not_break_inside_words_on_a_phone(browser, base_url, page_path):
    with opened(browser, base_url, page_path) as page:
        assert page.query_selector("article table th"), f"{page_path} has no table header"
        broken = page.evaluate(BROKEN_HEADER_WORDS)
        assert broken == [], f"{page_path} at 390 px: header words broken: {broken}"


@pytest.mark.parametrize("page_path", TABLE_PAGES)
def test_wide_tables_scroll_in_their_box_with_a_cue(browser, base_url, page_path):
    with opened(browser, base_url, page_path) as page:
        tables = page.evaluate(WIDE_TABLES)
        assert tables, f"{page_path} has no table"
        bad = [
            t
            for t in tables
            if t["wide"] and not (t["scrolls"] and t["inside"] and t["cue"] and t["sticky"])
        ]
        assert bad == [], f"{page_path} at 390 px: wide tables without a scroll box/cue: {bad}"
        # Scrolled to its end, a table shows no cue on the right (and one on the left).
        cues = page.evaluate(
            """async () => {
                const box = [...document.querySelectorAll('.linnet-scroll-box')]
                    .find(b => b.scrollWidth > b.clientWidth + 1 && b.querySelector('table'));
                if (!box) return null;
                box.scrollLeft = box.scrollWidth;
                await new Promise(r => setTimeout(r, 200));
                return [...box.parentElement.classList];
            }"""
        )
        if cues is not None:
            assert "linnet-scroll-more" not in cues and "linnet-scroll-moved" in cues, cues


def test_scorecard_fits_without_scrolling(browser, base_url):
    # Chapter 9's scorecard reads on a phone without scrolling sideways (it fits the column).
    with opened(browser, base_url, "book/09_conclusion.html") as page:
        tables = page.evaluate(WIDE_TABLES)
        assert tables and not tables[0]["wide"], tables[:1]


# --- 5. Typography on a phone --------------------------------------------------------------


def test_headings_keep_their_order_of_size_on_a_phone(browser, base_url):
    with opened(browser, base_url, CHAPTER) as page:
        sizes = page.evaluate(
            """() => ['h1', 'h2', 'h3'].map(h => {
                const el = document.querySelector('article ' + h);
                return el ? parseFloat(getComputedStyle(el).fontSize) : null;
            })"""
        )
        h1, h2, h3 = sizes
        assert h1 and h2 and h1 > h2, f"h1 {h1} px, h2 {h2} px"
        assert h3 is None or h2 > h3, f"h2 {h2} px, h3 {h3} px"


# A punctuation mark right after an inline formula that the browser put at the start of the
# next line.
STRANDED = """() => {
    const out = [];
    for (const math of document.querySelectorAll('article mjx-container:not([display="true"])')) {
        if (math.offsetParent === null || math.closest('pre, .linnet-widgets')) continue;
        let item = math.parentElement && math.parentElement.classList.contains('math')
            ? math.parentElement : math;
        let next = item.nextSibling;
        if (!next || next.nodeType !== Node.TEXT_NODE) continue;
        const m = /^[.,;:?!)]/.exec(next.data);
        if (!m) continue;
        const range = document.createRange();
        range.setStart(next, 0);
        range.setEnd(next, 1);
        const punct = range.getBoundingClientRect();
        const rects = [...math.getClientRects()];
        const last = rects[rects.length - 1];
        if (!last || punct.width === 0) continue;
        if (punct.top >= last.bottom - 1 || punct.left < last.left - 1)
            out.push((item.textContent + next.data).slice(0, 40));
    }
    return out;
}"""


@pytest.mark.parametrize("page_path", CHAPTERS)
def test_punctuation_stays_with_inline_math_on_a_phone(browser, base_url, page_path):
    with opened(browser, base_url, page_path) as page:
        stranded = page.evaluate(STRANDED)
        assert stranded == [], f"{page_path} at 390 px: punctuation after math: {stranded}"


def test_captions_are_smaller_than_body_text(browser, base_url):
    with opened(browser, base_url, CHAPTER) as page:
        sizes = page.evaluate(
            """() => {
                const size = el => parseFloat(getComputedStyle(el).fontSize);
                const body = size(document.querySelector('article section p'));
                const captions = [...document.querySelectorAll(
                    'article figcaption p, article figcaption .caption-text')].map(size);
                return {body, captions};
            }"""
        )
        assert sizes["captions"], "no caption on the page"
        assert max(sizes["captions"]) < sizes["body"], sizes


@pytest.mark.parametrize("width", [390, 1280])
def test_explorer_sliders_are_touch_targets(browser, base_url, width):
    with opened(browser, base_url, CHAPTER, width) as page:
        page.wait_for_selector(".linnet-widget-range", timeout=20_000)
        heights = page.evaluate(
            """() => [...document.querySelectorAll('article input[type=range]')]
                     .filter(el => el.offsetParent !== null)
                     .map(el => el.getBoundingClientRect().height)"""
        )
        assert heights and min(heights) >= 44, f"slider heights at {width} px: {heights}"


def test_aligned_output_keeps_its_columns_on_a_phone(browser, base_url):
    # Chapter 7's tuning printout: a table printed as text, columns aligned with spaces.
    with opened(browser, base_url, "book/07_nonlinear.html") as page:
        outputs = page.evaluate(
            """() => {
                document.querySelectorAll('article details').forEach(d => d.open = true);
                const vw = document.documentElement.clientWidth;
                return [...document.querySelectorAll('article div.cell_output pre')]
                    .filter(pre => pre.textContent.split('\\n')
                        .filter(line => /\\S {2,}\\S/.test(line)).length >= 2)
                    .map(pre => {
                        const style = getComputedStyle(pre);
                        const lines = pre.textContent.replace(/\\n$/, '').split('\\n').length;
                        const lineHeight = parseFloat(style.lineHeight)
                            || 1.2 * parseFloat(style.fontSize);
                        const padding = parseFloat(style.paddingTop)
                            + parseFloat(style.paddingBottom);
                        const rendered = Math.round((pre.clientHeight - padding) / lineHeight);
                        return {first: pre.textContent.slice(0, 40), lines, rendered,
                                whiteSpace: style.whiteSpace, overflowX: style.overflowX,
                                right: pre.getBoundingClientRect().right, vw};
                    });
            }"""
        )
        assert outputs, "chapter 7 prints no column-aligned output"
        for out in outputs:
            assert out["whiteSpace"] == "pre", out
            assert out["overflowX"] in ("auto", "scroll"), out
            assert out["rendered"] <= out["lines"], out
            assert out["right"] <= out["vw"] + 1, out


# --- 8. Search -----------------------------------------------------------------------------


def search(page, base_url: str, query: str) -> list[dict[str, str]]:
    page.goto(urljoin(base_url, f"search.html?q={query}"), wait_until="load")
    page.wait_for_selector("ul.search li", timeout=20_000)
    page.wait_for_function(
        "() => /Search finished/.test(document.getElementById('search-results').textContent)",
        timeout=20_000,
    )
    page.wait_for_timeout(1500)  # excerpts are fetched page by page
    return page.evaluate(
        """() => [...document.querySelectorAll('ul.search li')].map(li => ({
            title: li.querySelector('a').textContent.trim(),
            href: li.querySelector('a').getAttribute('href'),
            excerpt: (li.querySelector('p.context') || {}).textContent || ''}))"""
    )


@pytest.mark.parametrize("query", ["balancedness", "telescopes", "preconditioner"])
def test_search_excerpts_read_as_text(browser, base_url, query):
    with opened(browser, base_url, "index.html", 1280) as page:
        hits = search(page, base_url, query)
        assert hits, f"no hits for {query}"
        excerpts = [h["excerpt"] for h in hits if h["excerpt"]]
        assert excerpts, f"no excerpts for {query}"
        run_box = [e for e in excerpts if "Run this chapter yourself" in e or "WHEEL" in e]
        assert run_box == [], f"excerpts from the run box: {run_box[:2]}"
        # A removed formula leaves "Since , the product telescopes to ." behind.
        holes = [e for e in excerpts if re.search(r"\s[,.;:](\s|$)", e)]
        assert holes == [], f"excerpts with holes where formulas were: {holes[:2]}"
        tex = [e for e in excerpts if re.search(r"\\[A-Za-z]+|\\\(|\$", e)]
        assert tex == [], f"excerpts with TeX source: {tex[:2]}"


def test_search_lists_each_page_once(browser, base_url):
    with opened(browser, base_url, "index.html", 1280) as page:
        hits = search(page, base_url, "balancedness")
        titles = [h["title"] for h in hits]
        doubled = [
            t
            for t in titles
            if " > " in t
            and re.sub(r"^[\d.]+\s*", "", t.split(" > ")[0]).strip() == t.split(" > ")[1].strip()
        ]
        assert doubled == [], f"pages listed twice: {doubled}"
        keys = [(h["href"] or "").split("#")[0] for h in hits if "#" not in (h["href"] or "")]
        assert len(keys) == len(set(keys)), f"a page listed twice: {titles}"


@pytest.mark.parametrize("width", [390, 1280])
def test_search_field_magnifier_does_not_cover_the_query(browser, base_url, width):
    with opened(browser, base_url, "search.html?q=balancedness", width) as page:
        geometry = page.evaluate(
            """() => {
                const form = document.querySelector('.bd-search-container form.bd-search')
                    || document.querySelector('form.bd-search');
                const icon = form.querySelector('.fa-magnifying-glass, svg');
                const input = form.querySelector('input');
                const i = icon.getBoundingClientRect();
                const r = input.getBoundingClientRect();
                const textStart = r.left + parseFloat(getComputedStyle(input).paddingLeft)
                    + parseFloat(getComputedStyle(input).borderLeftWidth);
                return {iconRight: i.right, textStart, iconWidth: i.width};
            }"""
        )
        assert geometry["iconWidth"] > 0, geometry
        assert geometry["iconRight"] <= geometry["textStart"] + 0.5, geometry


# --- 9. API page and favicon ---------------------------------------------------------------

GREEK = "alpha|beta|gamma|delta|epsilon|eta|theta|lambda|mu|nu|rho|sigma|tau|phi|omega|nabla|pi"
ASCII_MATH = re.compile(
    rf"(?<![\w.])({GREEK})(?![\w(=])|(?<![\w.])({GREEK})_|\^[{{T(\d]|\b(sum|int)_|\|\||\w_\{{|<-"
)
PYTHON_NAME = re.compile(r"^\w+(\[[\w, ]+\])?$|^\w+=|\*\*")


def test_api_signatures_show_no_factory_placeholder(site):
    text = (site / "book" / "api.html").read_text(encoding="utf-8")
    assert "&lt;factory&gt;" not in text and "<factory>" not in text


def test_api_docstrings_write_formulas_as_math(browser, base_url):
    # A formula in a docstring is typeset (:math:), not shown as ``sigma_r^{2-2/N}``.
    with opened(browser, base_url, "book/api.html", 1280) as page:
        literals = page.evaluate(
            """() => [...document.querySelectorAll('dl.py > dd code.literal')]
                     .filter(c => !c.closest('pre, dt'))
                     .map(c => c.textContent.trim())"""
        )
        ascii_math = sorted(
            {t for t in literals if ASCII_MATH.search(t) and not PYTHON_NAME.search(t)}
        )
        assert ascii_math == [], f"formulas written as code in docstrings: {ascii_math}"


def test_site_has_a_favicon(browser, base_url, site):
    assert (site / "favicon.ico").is_file(), "no favicon.ico at the site's root"
    with opened(browser, base_url, CHAPTER, 1280) as page:
        href = page.evaluate(
            "() => document.querySelector('link[rel~=icon]')?.getAttribute('href')"
        )
        assert href, "no <link rel=icon> in the page"
        response = page.request.get(urljoin(page.url, href))
        assert response.ok, f"{href}: HTTP {response.status}"
        root = page.request.get(urljoin(base_url, "favicon.ico"))
        assert root.ok, f"favicon.ico: HTTP {root.status}"


MATHJAX_WIDTHS = """() => [...MathJax.startup.document.math]
    .filter(m => m.display && m.typesetRoot && m.typesetRoot.offsetParent !== null)
    .map(m => [m.metrics.containerWidth, m.typesetRoot.parentElement.clientWidth])"""


@pytest.mark.parametrize("width", [390, 1280])
@pytest.mark.parametrize("page_path", ["book/03_end_to_end.html", "book/04_preconditioner.html"])
def test_mathjax_breaks_equations_at_the_columns_width(browser, base_url, page_path, width):
    # MathJax breaks a display equation to the width it measures for its container; in the
    # theme's flex row it measured a fraction of the column and broke after every factor.
    with opened(browser, base_url, page_path, width) as page:
        widths = page.evaluate(MATHJAX_WIDTHS)
    assert widths, f"{page_path}: no display equation"
    short = [(m, c) for m, c in widths if m < 0.9 * c]
    assert short == [], f"{page_path} at {width} px: measured vs column width {short[:5]}"
