"""The book as a course: main-path budget, reading times, exercises, no text about its making.

The main path and its measures are defined in ``book/_ext/main_path.py`` (run it for a table).
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("main_path", ROOT / "book" / "_ext" / "main_path.py")
main_path = importlib.util.module_from_spec(spec)
sys.modules.setdefault("main_path", main_path)  # its dataclass looks the module up
spec.loader.exec_module(main_path)

CHAPTERS = main_path.chapters(ROOT)
#: the budget of the main path (issue 22): an afternoon's reading
MAIN_PATH_WORDS = 15_000
#: chapter 6 carries the experiments; its main path keeps to the core
CHAPTER6_WORDS = 2_500
#: kinds an exercise names at the start of its title
KINDS = ("Derive", "Implement", "Predict, then run", "Explain")
#: sentences about the book's own making (its history, versions, how it was written)
META = re.compile(
    r"(?i)earlier version|previous version|this chapter was written|when this (chapter|book)|"
    r"was at hand|also tried|earlier draft|first draft|the proof (above )?is general|"
    r"independent check|this version of (the|this) (book|chapter)"
)


def test_the_book_has_nine_chapters():
    assert [p.name[:2] for p in CHAPTERS] == [f"{i:02d}" for i in range(1, 10)]


def test_main_path_fits_an_afternoon():
    words = {p.stem: main_path.measure(p).words for p in CHAPTERS}
    assert sum(words.values()) <= MAIN_PATH_WORDS, words
    assert words["06_acceleration"] <= CHAPTER6_WORDS


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_chapter_opens_with_its_reading_time(path):
    assert main_path.stated_minutes(path) == main_path.measure(path).minutes, (
        "update the opening's reading time: python book/_ext/main_path.py"
    )


def _exercises(path: Path) -> list[tuple[str, str]]:
    """(label, title) of each exercise in a notebook."""
    text = "\n".join(
        "".join(c["source"])
        for c in json.loads(path.read_text())["cells"]
        if c["cell_type"] == "markdown"
    )
    found = re.findall(r"^(`{3,}|:{3,})\{exercise\}[ \t]*(.*)\n:label:\s*(\S+)", text, re.M)
    return [(label, title.strip()) for _, title, label in found]


def _solutions(path: Path) -> set[str]:
    text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    return set(re.findall(r"\{solution(?:-start)?\}\s+(\S+)", text))


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_make_the_reader_work(path):
    exercises = _exercises(path)
    assert len(exercises) >= (2 if path.stem.startswith("09") else 3)
    kinds = Counter(next((k for k in KINDS if t.startswith(k)), None) for _, t in exercises)
    assert None not in kinds, f"an exercise's title names no kind of {KINDS}: {exercises}"
    assert kinds["Derive"] >= 1 or path.stem.startswith("09")
    assert kinds["Implement"] + kinds["Predict, then run"] >= 1
    assert {label for label, _ in exercises} <= _solutions(path), "every exercise has a solution"


def test_at_least_26_exercises():
    assert sum(len(_exercises(p)) for p in CHAPTERS) >= 26


@pytest.mark.parametrize(
    "path",
    sorted((ROOT / "book").glob("*.ipynb")) + sorted((ROOT / "book").glob("*.md")),
    ids=lambda p: p.name,
)
def test_no_text_about_the_books_making(path):
    if path.suffix == ".ipynb":
        text = "\n".join("".join(c["source"]) for c in json.loads(path.read_text())["cells"])
    else:
        text = path.read_text()
    found = META.search(re.sub(r"\s+", " ", text))
    assert found is None, f"{path.name}: {found.group(0)!r}"


class _MainPathTables(HTMLParser):
    """Counts the tables of a built page that are not folded (details, dropdowns, exercises)."""

    FOLDED = ("dropdown", "solution", "exercise", "toggle-hidden", "tag_hide-cell")

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[bool] = []  # per open element: does it fold its content?
        self.tables = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in VOID:
            return
        classes = dict(attrs).get("class") or ""
        folds = tag == "details" or any(name in classes for name in self.FOLDED)
        if tag == "table" and not any(self.stack):
            self.tables += 1
        self.stack.append(folds)

    def handle_endtag(self, tag: str) -> None:
        if tag not in VOID and self.stack:
            self.stack.pop()


VOID = {
    "area",
    "base",
    "br",
    "col",
    "embed",
    "hr",
    "img",
    "input",
    "link",
    "meta",
    "source",
    "track",
    "wbr",
}


def main_path_tables(html: str) -> int:
    """Tables a reader meets on a built chapter's main path (folded ones not counted)."""
    parser = _MainPathTables()
    parser.feed(html)
    return parser.tables


def test_chapter6_shows_at_most_four_tables_on_its_main_path():
    page = ROOT / "_build" / "html" / "book" / "06_acceleration.html"
    if not page.exists():
        pytest.skip("the book is not built (run `make book`)")
    assert main_path_tables(page.read_text(encoding="utf-8")) <= 4
