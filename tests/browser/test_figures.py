"""Figures designed for the column (issue 23): legible lettering and no sideways scrolling.

Every PNG the book draws carries its smallest font size and its resolution as PNG text chunks
(:func:`linnet.plotting.legibility_metadata`, written by the inline formatter and by the
explorer's frames). With the width the page shows it at, the smallest text's size on screen is
``font pt / 72 * shown px / figure inches`` (:func:`linnet.plotting.screen_text_px`). At 390 px
(a phone) every figure and explorer frame shows its smallest text at >= 9 CSS px and is no
wider than the panel that holds it. Figures and frames drawn by ``linnet`` carry a phone
rendition (:func:`linnet.plotting.phone_png`, panels stacked) that the page shows on narrow
screens through ``<picture>``; the test reads the picture the browser chose (``currentSrc``).
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from urllib.parse import unquote, urlparse

import pytest

from linnet.plotting import png_text_chunks, screen_text_px

from .conftest import toc_pages
from .test_phone import PHONE, opened

PAGES = [p for p in toc_pages() if re.match(r"book/(\d\d_|beyond_|details_)", p)]
MIN_TEXT_PX = 9.0

SHOWN = """() => [...document.querySelectorAll('article img')]
    .filter(img => img.offsetParent !== null && img.naturalWidth > 0)
    .map(img => {
        const box = img.getBoundingClientRect();
        const panel = img.closest('.linnet-widget-html, figure, .cell_output')
                      || img.parentElement;
        return {src: img.currentSrc || img.src, alt: img.alt, shown: box.width,
                natural: img.naturalWidth, right: box.right,
                panelRight: panel.getBoundingClientRect().right,
                panelScrolls: panel.scrollWidth > panel.clientWidth + 1};
    })"""


def png_bytes(src: str, site: Path, base_url: str) -> bytes:
    """The bytes of an image shown by the page: a data URI or a file of the built site."""
    if src.startswith("data:"):
        return base64.b64decode(src.partition(",")[2])
    path = unquote(urlparse(src).path).removeprefix(urlparse(base_url).path)
    return (site / path.lstrip("/")).read_bytes()


@pytest.fixture(scope="module", params=PAGES)
def shown_images(request, browser, base_url, site):
    with opened(browser, base_url, request.param, PHONE) as page:
        images = page.evaluate(SHOWN)
    for image in images:
        if image["src"].lower().split("?")[0].endswith(".png") or image["src"].startswith(
            "data:image/png"
        ):
            image["chunks"] = png_text_chunks(png_bytes(image["src"], site, base_url))
    return request.param, [i for i in images if "chunks" in i]


def test_every_figure_says_its_smallest_font(shown_images):
    page_path, images = shown_images
    unmarked = [i["alt"][:40] for i in images if "linnet:min-font-pt" not in i["chunks"]]
    assert unmarked == [], f"{page_path}: PNGs without linnet's text chunks: {unmarked}"


def test_figure_text_is_at_least_9_css_px_on_a_phone(shown_images):
    page_path, images = shown_images
    small = []
    for image in images:
        chunks = image["chunks"]
        if "linnet:min-font-pt" not in chunks:
            continue
        px = screen_text_px(
            float(chunks["linnet:min-font-pt"]),
            image["natural"],
            float(chunks["linnet:dpi"]),
            image["shown"],
        )
        if px < MIN_TEXT_PX:
            small.append(f"{px:.1f} px: {image['alt'][:50]}")
    assert small == [], f"{page_path} at 390 px, smallest text below {MIN_TEXT_PX} px: {small}"


def test_no_figure_is_wider_than_its_panel_on_a_phone(shown_images):
    page_path, images = shown_images
    wide = [i["alt"][:50] for i in images if i["right"] > i["panelRight"] + 1 or i["panelScrolls"]]
    assert wide == [], f"{page_path} at 390 px, figures wider than their panel: {wide}"
