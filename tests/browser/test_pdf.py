"""The book as a PDF (issue 24), as a reader gets it from the site's ``dist/`` folder.

``make book`` prints the built site to ``_build/html/dist/linnet-book-VERSION.pdf`` with
Chromium (``book/_ext/linnet_pdf.py``). The PDF's text (``pdftotext``, poppler-utils) is
checked against the built pages: every chapter's and appendix's title and every theorem's
number and name are in it; nothing unresolved (``??``), no TeX source, no glue key, no "nan".
The contents give each chapter's page, and that page starts the chapter; its links and the
outline point inside the document. Equations are text in embedded fonts, not pictures, and
the file is at most 25 MB, with a correct ``.sha256`` beside it.

Skipped when the book, the PDF or poppler-utils is missing, unless
``LINNET_REQUIRE_BROWSER=1`` (``.ci/run``).
"""

from __future__ import annotations

import hashlib
import posixpath
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

from .conftest import ROOT, toc_pages, unavailable

MAX_BYTES = 25 * 1024 * 1024
KINDS = ("theorem", "lemma", "proposition", "corollary")  # prf: directives with a name
TEX = re.compile(r"\\[A-Za-z]{2,}")  # \frac, \mathbb, ... (a code line's \n is not one)
GLUE_KEY = re.compile(r"\bch\d+_[a-z0-9_]+")
NAN = re.compile(r"\bnan\b", re.IGNORECASE)
MATH_ALPHANUMERIC = re.compile("[\U0001d400-\U0001d7ff]")  # MathJax's italic letters


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["version"]


def printed_docnames() -> list[str]:
    """Chapters, appendices and the bibliography (the reference pages other than it are not
    printed), from ``_toc.yml``."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    names = []
    for part in toc.get("parts", []):
        reference = (part.get("caption") or "").strip().lower() == "reference"
        for chapter in part["chapters"]:
            if reference and chapter["file"] != "book/bibliography":
                continue
            names.append(chapter["file"])
            names += [s["file"] for s in chapter.get("sections", [])]
    return names


def words(text: str) -> str:
    return " ".join(text.split())


def fragments(node) -> list[str]:
    """The text of ``node`` between its formulas (which the PDF holds in MathJax's glyphs)."""
    node = node.__copy__()
    for junk in node.select("a.headerlink"):
        junk.decompose()
    for math in node.select(".math, mjx-container"):
        math.replace_with("\x00")
    text = re.sub(r"\\\(.*?\\\)", "\x00", node.get_text())  # TeX left for MathJax: \(...\)
    return [w for w in (words(t) for t in text.split("\x00")) if len(w) >= 3]


@pytest.fixture(scope="module")
def pdf(site: Path) -> Path:
    for tool in ("pdftotext", "pdfimages"):
        if shutil.which(tool) is None:
            unavailable(f"{tool} is not installed (Debian: apt-get install poppler-utils)")
    path = site / "dist" / f"linnet-book-{version()}.pdf"
    if not path.is_file():
        unavailable(f"{path.relative_to(site)} is not built (make book needs chromium)")
    return path


@pytest.fixture(scope="module")
def pages(pdf: Path) -> list[str]:
    out = subprocess.run(["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True)
    assert out.returncode == 0, out.stderr.decode()
    return out.stdout.decode("utf-8").split("\f")[:-1]


@pytest.fixture(scope="module")
def headings(site: Path) -> dict[str, list[str]]:
    """Each printed page's title (its ``h1``) as text fragments, from the built HTML."""
    bs4 = pytest.importorskip("bs4")
    out = {}
    for name in printed_docnames():
        soup = bs4.BeautifulSoup((site / f"{name}.html").read_text("utf-8"), "html.parser")
        out[name] = fragments(soup.select_one("article h1"))
    return out


def test_size_and_checksum(pdf: Path) -> None:
    assert pdf.stat().st_size <= MAX_BYTES, f"{pdf.stat().st_size / 1e6:.1f} MB"
    digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
    line = (pdf.parent / f"{pdf.name}.sha256").read_text()
    assert line == f"{digest}  {pdf.name}\n"


def test_title_page(pages: list[str]) -> None:
    first = words(pages[0])
    assert f"linnet {version()}" in first, first
    assert re.search(r"built on \d{4}-\d\d-\d\d", first), first


def test_every_title_and_theorem(site: Path, pages: list[str], headings) -> None:
    bs4 = pytest.importorskip("bs4")
    text = words(" ".join(pages))
    missing = [(n, f) for n, frags in headings.items() for f in frags if f not in text]
    assert not missing, f"page titles missing from the PDF: {missing}"
    names = []
    for name in printed_docnames():
        soup = bs4.BeautifulSoup((site / f"{name}.html").read_text("utf-8"), "html.parser")
        for kind in KINDS:
            for box in soup.select(f"div.proof.{kind} > p.admonition-title"):
                names.append(fragments(box))
    assert sum(1 for n in names if n and n[0].startswith("Theorem")) >= 5, names
    missing = [n for n in names for f in n if f not in text]
    assert not missing, f"theorem names missing from the PDF: {missing}"


def test_solutions_and_explorers(site: Path, pages: list[str]) -> None:
    """Every exercise's solution is printed (open), and every explorer says where it is live."""
    bs4 = pytest.importorskip("bs4")
    text = words(" ".join(pages))
    solutions, explorers = [], 0
    for name in printed_docnames():
        soup = bs4.BeautifulSoup((site / f"{name}.html").read_text("utf-8"), "html.parser")
        # "Solution to Exercise 5.3": the rest of a title may be laid out around its formulas
        # in an order pdftotext does not keep
        titles = soup.select("div.solution > p.admonition-title")
        solutions += [
            m.group(0)
            for t in titles
            if (m := re.match(r"Solution to Exercise [\d.]+", words(t.get_text())))
        ]
        views = soup.select('script[type="application/vnd.jupyter.widget-view+json"]')
        explorers += len({id(v.find_parent(class_="cell_output") or v.parent) for v in views})
    assert len(solutions) >= 9, solutions
    missing = [f for f in solutions if f not in text]
    assert not missing, f"solutions missing from the PDF: {missing}"
    assert explorers >= 9
    assert text.count("printed at its opening frame; the live version") == explorers


def test_every_page_links_the_pdf(site: Path, pdf: Path) -> None:
    """Every page's download menu, and "Run it yourself" with the checksum, link the PDF."""
    for name in (page.removesuffix(".html") for page in toc_pages()):
        html = (site / f"{name}.html").read_text("utf-8")
        hrefs = re.findall(r'href="([^"]+)"', html)
        targets = {posixpath.normpath(posixpath.join(posixpath.dirname(name), h)) for h in hrefs}
        assert f"dist/{pdf.name}" in targets, f"{name} does not link the PDF"
        if name == "book/run_it_yourself":
            assert f"dist/{pdf.name}.sha256" in targets


def test_nothing_unresolved(pages: list[str]) -> None:
    for number, page in enumerate(pages, start=1):
        for pattern, what in [
            (re.compile(r"\?\?"), "an unresolved reference"),
            (TEX, "TeX source"),
            (GLUE_KEY, "a glue key"),
            (NAN, "a nan"),
        ]:
            found = pattern.search(page)
            if found:
                context = page[max(0, found.start() - 80) : found.end() + 80]
                pytest.fail(f"page {number} shows {what}: {context!r}")


def test_contents_give_each_chapter_page(pdf: Path, pages: list[str], headings) -> None:
    """The contents (pages 2 onwards) give a page for every chapter, and it starts there."""
    # The contents run from page 2 to the page before the introduction.
    end = next(i for i, page in enumerate(pages) if i > 0 and re.match(r"\s*Introduction", page))
    layout = subprocess.run(
        ["pdftotext", "-layout", "-enc", "UTF-8", "-f", "2", "-l", str(end), str(pdf), "-"],
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    entries, pending = {}, ""
    for line in layout.splitlines():  # "title   page", a long title over two lines
        m = re.match(r"^\s*(\S.*?\S)\s{2,}(\d+)\s*$", line)
        if m:
            entries[words(f"{pending} {m.group(1)}")] = int(m.group(2))
            pending = ""
        else:
            pending = line.strip()
    assert len(entries) >= len(headings), entries
    for name, frags in headings.items():
        first = frags[0]
        pageno = next((n for title, n in entries.items() if first in title), None)
        assert pageno is not None, f"{name}: {first!r} not in the contents {list(entries)}"
        top = words(pages[pageno - 1])[:400]
        assert first in top, f"{name}: the contents say page {pageno}, which starts {top[:120]!r}"


def test_links_and_outline_stay_inside(pdf: Path) -> None:
    raw = pdf.read_bytes()
    assert b"/Outlines" in raw, "no outline (bookmarks)"
    for name in printed_docnames():
        dest = re.sub(r"[^A-Za-z0-9_-]", "-", name).encode()
        assert b"/Dest /" + dest in raw, f"no link to {name} (contents)"
    assert raw.count(b"/Subtype /Link") >= 200


def test_equations_are_text_not_pictures(pdf: Path, pages: list[str]) -> None:
    text = "".join(pages)
    assert len(MATH_ALPHANUMERIC.findall(text)) > 1000, "MathJax's letters are not text"
    listing = subprocess.run(
        ["pdfimages", "-list", str(pdf)], capture_output=True, check=True
    ).stdout.decode()
    small = []
    for row in listing.splitlines()[2:]:
        cols = row.split()
        width, height = int(cols[3]), int(cols[4])
        if height < 150 and width < 1200:  # a formula's size; figures are larger
            small.append(row)
    assert not small, "formula-sized pictures:\n" + "\n".join(small[:10])
