"""The book as one PDF, printed from the built site with Chromium (``make pdf``; ``make book``
runs it).

    python book/_ext/linnet_pdf.py [SITE]      # SITE defaults to _build/html

writes ``SITE/dist/linnet-book-VERSION.pdf`` and its ``.sha256`` (the format of
``linnet_dist.write_checksums``), beside the wheel and the source bundle.

Route: the HTML the site serves is printed by the Chromium the browser tests drive (Debian's
``chromium``, through Playwright), not rebuilt with LaTeX: the equations are MathJax's own
output (CHTML: text in MathJax's fonts, so vector and searchable), the explorers print their
saved opening frame, and no TeX Live is needed. The pages are assembled into ONE print document
(a title page, the contents, then every page of ``_toc.yml`` except the reference pages other
than the bibliography), so Chromium makes all links internal (contents, cross-references,
citations) and writes the outline (bookmarks) from the headings; the page numbers are CSS page
margin boxes. Chromium cannot put page numbers into the contents (no ``target-counter``), so
the document is printed twice: the first print carries an invisible marker at every contents
target; ``pdftotext`` (poppler-utils) finds each marker's page, the numbers are filled in (the
number boxes have a fixed width, so nothing moves) and the document is printed again, then
checked. No PDF library is needed.

Without Chromium, Playwright or ``pdftotext`` the PDF is skipped with a message, unless
``LINNET_REQUIRE_BROWSER=1`` (set by ``.ci/run``): then it is an error.
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
import linnet_dist  # noqa: E402  (checksums, version, build date: one definition)

PRINT_CSS = HERE / "print.css"
PRINT_PATH = "/__linnet_print__.html"  # served from memory, never written into the site
# Reference pages are left out of the PDF, except the bibliography.
REFERENCE_KEPT = {"book/bibliography"}
INTRO_TITLE = "Introduction"
# Display equations break to this width (the 174 mm column less the equation number's room).
PRINT_MATH_WIDTH = "36em"
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def pdf_name(ver: str) -> str:
    return f"linnet-book-{ver}.pdf"


# --- which pages, in which order ----------------------------------------------------------


def printed_pages(toc: dict) -> list[dict]:
    """The pages of the PDF in reading order: ``docname``, ``level`` (1: a chapter or an
    appendix, 2: a section page of an appendix) and ``part`` (the caption of its part).

    >>> toc = {"root": "book/intro", "parts": [
    ...     {"caption": "Chapters", "chapters": [{"file": "book/01_a"}]},
    ...     {"caption": "Appendices", "chapters": [
    ...         {"file": "book/beyond", "sections": [{"file": "book/beyond_x"}]}]},
    ...     {"caption": "Reference", "chapters": [{"file": "book/api"},
    ...                                           {"file": "book/bibliography"}]}]}
    >>> [(p["docname"], p["level"]) for p in printed_pages(toc)]  # doctest: +NORMALIZE_WHITESPACE
    [('book/intro', 1), ('book/01_a', 1), ('book/beyond', 1), ('book/beyond_x', 2),
     ('book/bibliography', 1)]
    """
    pages = [{"docname": toc["root"], "level": 1, "part": None}]
    for part in toc.get("parts", []):
        caption = part.get("caption")
        reference = (caption or "").strip().lower() == "reference"
        for chapter in part.get("chapters", []):
            if reference and chapter["file"] not in REFERENCE_KEPT:
                continue
            pages.append({"docname": chapter["file"], "level": 1, "part": caption})
            for section in chapter.get("sections", []):
                pages.append({"docname": section["file"], "level": 2, "part": caption})
    return pages


def slug(docname: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", docname)


# --- one print document from the built pages ------------------------------------------------


def _absolute(docname: str, url: str) -> str:
    """A site-relative URL of the page ``docname`` as a path from the site root."""
    return urljoin(f"/{docname}.html", url)


def _text(node) -> str:
    return " ".join(node.get_text(" ", strip=True).split())


class Assembler:
    def __init__(self, site: Path, pages: list[dict], site_url: str) -> None:
        self.site = site
        self.pages = pages
        self.site_url = site_url
        self.docnames = {p["docname"] for p in pages}
        self.entries: list[dict] = []  # contents entries: title, level, target id, part
        self.states: list[str] = []
        self.head: list[str] = []

    def link_target(self, docname: str, href: str) -> str | None:
        """Where a link of page ``docname`` points in the print document (``#id``), its
        absolute address on the site (pages not printed), or None (drop the link)."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc:
            return href
        if href.startswith("#"):
            return f"#{slug(docname)}--{href[1:]}" if href[1:] else f"#{slug(docname)}"
        path = _absolute(docname, parts.path).lstrip("/")
        target = path[: -len(".html")] if path.endswith(".html") else None
        if target in self.docnames:
            return f"#{slug(target)}--{parts.fragment}" if parts.fragment else f"#{slug(target)}"
        if self.site_url:
            return f"{self.site_url}/{path}" + (f"#{parts.fragment}" if parts.fragment else "")
        return None

    def page_body(self, page: dict, number: int):
        from bs4 import BeautifulSoup

        docname = page["docname"]
        soup = BeautifulSoup((self.site / f"{docname}.html").read_text("utf-8"), "html.parser")
        if not self.head:
            self.head = self.head_of(soup, docname)
        for script in soup.find_all("script", type=WIDGET_STATE):
            self.states.append(script.string or "")
        article = soup.find("article", class_="bd-article")
        if article is None:
            raise SystemExit(f"linnet_pdf: {docname}.html has no article")

        # What the screen needs and paper does not.
        for sel in [
            "a.headerlink",
            ".linnet-run-note",  # "Run this chapter yourself" (the title page gives the site)
            "details.above-input",  # hidden code cells print their output only
            "details.below-input",
            "button",
            ".thebe-launch-button",
            "script[type='text/x-thebe-config']",
        ]:
            for node in article.select(sel):
                node.decompose()
        for details in article.find_all("details"):
            details["open"] = ""
        for node in article.select(".dropdown"):
            node["class"] = [c for c in node.get("class", []) if c != "dropdown"]
        for a in article.select("a.image-reference"):
            a.unwrap()

        # Explorers: the saved opening frame, and where the live one is.
        live = f"{self.site_url}/{docname}.html" if self.site_url else ""
        seen = set()
        for script in article.find_all("script", type=WIDGET_VIEW):
            holder = script.find_parent(class_="cell_output") or script.parent
            if id(holder) in seen:
                continue
            seen.add(id(holder))
            note = soup.new_tag("p", attrs={"class": "linnet-print-live"})
            if live:
                note.append(
                    "The explorer above is printed at its opening frame; the live version is "
                    "on the book's site: "
                )
                a = soup.new_tag("a", href=live)
                a.string = live
                note.append(a)
                note.append(".")
            else:
                note.append(
                    "The explorer above is printed at its opening frame; the live version, "
                    "with its controls, is on the book's site (this chapter's web page)."
                )
            holder.insert_after(note)

        # Ids unique across pages; links to printed pages become internal.
        prefix = slug(docname)
        for node in article.find_all(id=True):
            node["id"] = f"{prefix}--{node['id']}"
        for a in article.find_all("a", href=True):
            target = self.link_target(docname, a["href"])
            if target is None:
                a.unwrap()
            else:
                a["href"] = target
        for node in article.find_all(["img", "source"], src=True):
            if not urlsplit(node["src"]).scheme:
                node["src"] = _absolute(docname, node["src"])

        # Headings: a section page of an appendix goes one level down.
        if page["level"] == 2:
            for level in range(5, 0, -1):
                for h in article.find_all(f"h{level}"):
                    h.name = f"h{level + 1}"
        top = article.find(["h1", "h2"])
        if docname == self.pages[0]["docname"] and top is not None:
            top.clear()
            top.append(INTRO_TITLE)

        # Contents entries (with their first-pass markers): the page, then a chapter's sections.
        def entry(heading, level: int, target: str) -> None:
            k = len(self.entries)
            inner = "".join(str(c) for c in heading.contents)
            plain = BeautifulSoup(inner, "html.parser")
            for math in plain.select(".math"):  # the words before the first formula
                for later in list(math.find_all_next(string=True)):
                    later.extract()
                math.decompose()
                break
            self.entries.append(
                {
                    "title": inner,  # HTML: its math is typeset in the contents too
                    "plain": _text(plain),
                    "level": level,
                    "target": target,
                    "part": page["part"],
                }
            )
            mark = soup.new_tag("span", attrs={"class": "linnet-print-mark"})
            mark.string = f"LNPDFMARK{k:03d}X"
            heading.insert(0, mark)

        if top is not None:
            entry(top, page["level"], prefix)
        if page["level"] == 1 and re.match(r"^book/\d\d_", docname):
            for h2 in article.find_all("h2"):
                section = h2.find_parent("section")
                if section is not None and section.get("id"):
                    entry(h2, 2, section["id"])

        wrapper = soup.new_tag("div", attrs={"class": "linnet-print-page", "id": prefix})
        for child in list(article.children):
            wrapper.append(child.extract())
        return wrapper

    def head_of(self, soup, docname: str) -> list[str]:
        """Stylesheets, MathJax (its configuration and loader) and the widget renderer."""
        out = []
        for link in soup.find_all("link", rel="stylesheet"):
            out.append(f'<link rel="stylesheet" href="{_absolute(docname, link["href"])}">')
        for script in soup.find_all("script"):
            src = script.get("src") or ""
            body = script.string or ""
            if body.lstrip().startswith("window.MathJax"):
                out.append(f"<script>{print_mathjax(body)}</script>")
            elif "mathjax" in src or "linnet-widgets" in src:
                defer = " defer" if script.has_attr("defer") else ""
                out.append(f'<script src="{_absolute(docname, src)}"{defer}></script>')
        return out

    def document(self, title: str, author: str, ver: str, date: str) -> str:
        bodies = [str(self.page_body(p, i)) for i, p in enumerate(self.pages)]
        if not any("linnet-widgets" in h for h in self.head):
            self.head.append('<script src="/vendor/linnet-widgets.js" defer></script>')
        states = "".join(
            f'<script type="{WIDGET_STATE}">{s}</script>' for s in self.states if s.strip()
        )
        where = (
            f'<p class="meta">Read it online, with live explorers: '
            f'<a href="{self.site_url}/">{self.site_url}/</a></p>'
            if self.site_url
            else '<p class="meta">The book\'s website has the same pages with live explorers.</p>'
        )
        titlepage = (
            '<div class="linnet-print-title">'
            f"<h1>{_escape(title)}</h1>"
            f'<p class="author">{_escape(author)}</p>'
            f'<p class="meta">linnet {_escape(ver)} · built on {_escape(date)}</p>'
            f"{where}</div>"
        )
        contents = ['<div class="linnet-print-contents"><h1>Contents</h1><ol>']
        part = None
        for k, e in enumerate(self.entries):
            if e["level"] == 1 and e["part"] != part:
                part = e["part"]
                if part:
                    contents.append(f'<li class="part">{_escape(part)}</li>')
            contents.append(
                f'<li class="level-{e["level"]}"><a class="entry" href="#{e["target"]}">'
                f'<span class="title">{e["title"]}</span><span class="leader"></span>'
                f'<span class="pageno" data-entry="{k}">000</span></a></li>'
            )
        contents.append("</ol></div>")
        css = PRINT_CSS.read_text("utf-8")
        return (
            '<!DOCTYPE html>\n<html lang="en" data-theme="light" data-mode="light">'
            f'<head><meta charset="utf-8"><title>{_escape(title)}</title>'
            f"{''.join(self.head)}<style>{css}</style>{states}</head>"
            '<body><div class="bd-content"><article class="bd-article">'
            f"{titlepage}{''.join(contents)}{''.join(bodies)}"
            "</article></div></body></html>"
        )


def print_mathjax(config_script: str) -> str:
    """The site's MathJax configuration, with display equations broken to the printed column.

    The site's ``linebreaks.width: 100%`` is relative to a container width that MathJax
    measures far too small here (about 170 px in a 590 px column), so long displays would
    break after nearly every factor; the column's width is given instead.
    """
    text = config_script.strip().removeprefix("window.MathJax").lstrip(" =").rstrip(";")
    config = json.loads(text)
    output = config.setdefault("output", {})
    output["displayOverflow"] = "linebreak"
    output.setdefault("linebreaks", {})["width"] = PRINT_MATH_WIDTH
    return f"window.MathJax = {json.dumps(config)};"


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --- printing -----------------------------------------------------------------------------


def serve(site: Path, document: str):
    """The site on 127.0.0.1, with the print document at PRINT_PATH (from memory)."""
    payload = document.encode("utf-8")

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self) -> None:
            if self.path.split("?")[0] == PRINT_PATH:
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            else:
                super().do_GET()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Handler, directory=str(site))
    )
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


READY = """async () => {
  await MathJax.startup.promise;
  document.querySelectorAll('img').forEach(img => { img.loading = 'eager'; });
  await MathJax.typesetPromise();
  await document.fonts.ready;
  await Promise.all([...document.images].map(img => img.complete ? null :
      new Promise(done => { img.onload = img.onerror = done; })));
  const bad = [...document.images].filter(img => !img.naturalWidth)
      .map(img => img.src.slice(0, 80));
  const errors = [...document.querySelectorAll('mjx-merror')].map(e => e.textContent);
  return {bad, errors, math: document.querySelectorAll('mjx-container').length};
}"""


def page_texts(pdf: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True
    ).stdout.decode("utf-8")
    return out.split("\f")[:-1] if out.endswith("\f") else out.split("\f")


def print_pdf(site: Path, document: str, n_entries: int, target: Path) -> dict:
    from playwright.sync_api import sync_playwright

    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    server = serve(site, document)
    url = f"http://127.0.0.1:{server.server_address[1]}{PRINT_PATH}"
    options = dict(print_background=True, prefer_css_page_size=True)
    # The first print only locates the markers: no outline, no tags (quicker, same layout).
    final = dict(options, outline=True, tagged=True)
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
            # The viewport is the text column (174 mm), so MathJax breaks lines for paper.
            page = browser.new_page(viewport={"width": 658, "height": 1000})
            page.emulate_media(media="print")
            t0 = time.monotonic()
            page.goto(url, wait_until="load", timeout=120_000)
            page.wait_for_function("() => window.MathJax?.startup?.promise")
            state = page.evaluate(READY)
            if state["bad"] or state["errors"]:
                raise SystemExit(f"linnet_pdf: images not loaded or MathJax errors: {state}")
            t1 = time.monotonic()
            first = target.with_suffix(".pass1.pdf")
            page.pdf(path=str(first), **options)
            t2 = time.monotonic()
            texts = page_texts(first)
            numbers = []
            for k in range(n_entries):
                mark = f"LNPDFMARK{k:03d}X"
                found = [i + 1 for i, t in enumerate(texts) if mark in t]
                if len(found) != 1:
                    raise SystemExit(f"linnet_pdf: contents entry {k}: marker on pages {found}")
                numbers.append(found[0])
            page.evaluate(
                """numbers => {
                  document.querySelectorAll('.linnet-print-mark').forEach(m => m.remove());
                  document.querySelectorAll('.pageno').forEach(
                      el => { el.textContent = String(numbers[+el.dataset.entry]); });
                }""",
                numbers,
            )
            t3 = time.monotonic()
            page.pdf(path=str(target), **final)
            times = (t1 - t0, t2 - t1, time.monotonic() - t3)
            browser.close()
        first.unlink()
    finally:
        server.shutdown()
    return {
        "numbers": numbers,
        "pages": len(page_texts(target)),
        "math": state["math"],
        "times": "load and typeset {:.0f} s, prints {:.0f} s + {:.0f} s".format(*times),
    }


def check(pdf: Path, entries: list[dict], numbers: list[int]) -> None:
    """Each contents entry's title starts on the page the contents gives (the second print)."""
    texts = [" ".join(t.split()) for t in page_texts(pdf)]
    wrong = []
    for e, n in zip(entries, numbers, strict=True):
        words = " ".join(e["plain"].split()[:3])
        if n > len(texts) or words not in texts[n - 1]:
            wrong.append((e["title"], n))
    if wrong:
        raise SystemExit(f"linnet_pdf: contents page numbers do not match the pages: {wrong}")


def tools_missing() -> str | None:
    if not (shutil.which("chromium") or shutil.which("chromium-browser")):
        return "Chromium is not installed (Debian: apt-get install chromium)"
    if not shutil.which("pdftotext"):
        return "pdftotext is not installed (Debian: apt-get install poppler-utils)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed"
    return None


def main(argv: list[str]) -> int:
    import yaml

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("site", nargs="?", default=str(ROOT / "_build" / "html"))
    parser.add_argument("--root", default=str(ROOT), help="the book's sources (_toc.yml ...)")
    parser.add_argument("--out", help="the PDF (default SITE/dist/linnet-book-VERSION.pdf)")
    args = parser.parse_args(argv)
    site, root = Path(args.site), Path(args.root)
    missing = tools_missing()
    if missing:
        if os.environ.get("LINNET_REQUIRE_BROWSER") == "1":
            print(
                f"error: the PDF is required (LINNET_REQUIRE_BROWSER=1) but {missing}",
                file=sys.stderr,
            )
            return 1
        print(f"warning: the PDF of the book is skipped: {missing}", file=sys.stderr)
        return 0
    start = time.monotonic()
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    config = yaml.safe_load((root / "_config.yml").read_text())
    pages = printed_pages(toc)
    absent = [p["docname"] for p in pages if not (site / f"{p['docname']}.html").is_file()]
    if absent:
        print(f"error: pages missing in {site}: {absent} (run `make book`)", file=sys.stderr)
        return 1
    ver = linnet_dist.version(root)
    assembler = Assembler(site, pages, linnet_dist.site_url())
    document = assembler.document(
        config.get("title", "The book"), config.get("author", ""), ver, linnet_dist.build_date()
    )
    target = Path(args.out) if args.out else site / "dist" / pdf_name(ver)
    target.parent.mkdir(parents=True, exist_ok=True)
    result = print_pdf(site, document, len(assembler.entries), target)
    check(target, assembler.entries, result["numbers"])
    Path(f"{target}.sha256").write_text(f"{linnet_dist.sha256_of(target)}  {target.name}\n")
    size = target.stat().st_size / 1e6
    print(
        f"PDF: {target} ({result['pages']} pages, {size:.1f} MB, {result['math']} formulas, "
        f"{len(pages)} site pages; {time.monotonic() - start:.0f} s: {result['times']})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
