"""The book's main path, measured: words a reader reads straight through, and reading times.

The *main path* of a chapter is its prose: the words of its Markdown cells, outside

- code cells and their outputs (tables printed by code included),
- mathematics (``$...$``, ``$$...$$``, ``{math}`` blocks),
- folded blocks (dropdowns, ``:class: dropdown`` admonitions, the "Checks" blocks),
- exercises and their solutions,
- tables,
- cells removed from the page (``remove-cell``).

Chapters are the numbered part of ``_toc.yml``; the appendices are not on the main path.

Reading time is estimated, for a reader who follows the mathematics, as one minute per
:data:`WORDS_PER_MINUTE` words of main-path prose plus :data:`MINUTES_PER_DISPLAY` per display
equation or figure on the main path, rounded up to a multiple of five minutes.

Run ``python book/_ext/main_path.py`` for a table of every chapter's count and reading time.
"""

from __future__ import annotations

import json
import math
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
WORDS_PER_MINUTE = 150
MINUTES_PER_DISPLAY = 0.5

#: directives whose whole body is folded or off the main path
_FOLDED = ("exercise", "solution", "dropdown", "toggle", "math", "list-table", "table",
           "code", "code-block", "code-cell")
_OPEN = re.compile(r"^\s*(`{3,}|:{3,})\s*\{([\w:-]+)\}(.*)$")
_OPEN_PLAIN = re.compile(r"^\s*(`{3,}|:{3,})\s*(\w*)\s*$")
_WORD = re.compile(r"[A-Za-z0-9\u2113][\w'\u2019\u2113-]*")
_READING = re.compile(r"[Rr]eading time:?\**\s*(?:about\s+)?(\d+)\s*min")


@dataclass(frozen=True)
class Chapter:
    """Main-path measures of one chapter."""

    path: Path
    words: int
    displays: int
    figures: int

    @property
    def minutes(self) -> int:
        """Reading time in minutes, rounded up to a multiple of five."""
        raw = self.words / WORDS_PER_MINUTE + MINUTES_PER_DISPLAY * (self.displays + self.figures)
        return max(5, 5 * math.ceil(raw / 5))


def chapters(root: Path = ROOT) -> list[Path]:
    """The numbered chapters listed in ``_toc.yml``, in order."""
    toc = yaml.safe_load((root / "_toc.yml").read_text())
    numbered = [part for part in toc["parts"] if part.get("numbered")]
    return [root / f"{c['file']}.ipynb" for part in numbered for c in part["chapters"]]


def _strip_inline(text: str) -> str:
    text = re.sub(r"<!--.*?-->", " ", text, flags=re.S)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"(?<!\\)\$[^$\n]+?(?<!\\)\$", " ", text)
    # a role keeps one word for its rendered text: {eq}`x` and {eval}`k` read as one token
    text = re.sub(r"\{[\w:-]+\}`[^`]*`", " X ", text)
    text = re.sub(r"`[^`]*`", " X ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    return text


def main_path_lines(markdown_cells: list[str]) -> list[str]:
    """Lines of Markdown on the main path (folded blocks, math, tables dropped).

    ``markdown_cells`` are the sources of the chapter's visible Markdown cells, in order; a
    solution may span several cells, so state carries across them.
    """
    kept: list[str] = []
    stack: list[tuple[str, bool]] = []  # (fence, folded)
    in_solution = False
    for source in markdown_cells:
        lines = source.splitlines()
        i = 0
        while i < len(lines):
            line = lines[i]
            opened = _OPEN.match(line)
            if opened and ("solution-start" in opened.group(2)):
                in_solution = True
            if opened and "solution-end" in opened.group(2):
                in_solution = False
                i += 1
                while i < len(lines) and not lines[i].strip().startswith(("```", ":::")):
                    i += 1
                i += 1
                continue
            if opened:
                name = opened.group(2)
                body = lines[i + 1 : i + 6]
                folded = (any(name.startswith(f) for f in _FOLDED)
                          or any(re.match(r"\s*:class:.*\b(dropdown|toggle)\b", b) for b in body))
                stack.append((opened.group(1), folded))
                i += 1
                continue
            if stack and line.strip() == stack[-1][0]:
                stack.pop()
                i += 1
                continue
            plain = _OPEN_PLAIN.match(line)
            if plain and plain.group(1).startswith("`"):
                stack.append((plain.group(1), True))  # a code fence
                i += 1
                continue
            folded = in_solution or any(f for _, f in stack)
            if not folded and not line.lstrip().startswith(("|", ":")):
                kept.append(line)
            i += 1
    return kept


def measure(path: Path) -> Chapter:
    """Main-path words, display equations and figures of one chapter notebook."""
    nb = json.loads(path.read_text())
    cells = [c for c in nb["cells"] if "remove-cell" not in c.get("metadata", {}).get("tags", [])]
    sources = ["".join(c["source"]) for c in cells if c["cell_type"] == "markdown"]
    text = "\n".join(main_path_lines(sources))
    words = len(_WORD.findall(_strip_inline(text)))
    all_md = "\n".join(sources)
    displays = len(re.findall(r"\{math\}|\$\$", all_md)) // 1
    figures = sum("figure:" in json.dumps(c.get("metadata", {})) or "plt.show()" in
                  "".join(c["source"]) for c in cells if c["cell_type"] == "code")
    return Chapter(path, words, displays, figures)


def stated_minutes(path: Path) -> int | None:
    """The reading time a chapter states in its opening cell, in minutes (None if absent)."""
    nb = json.loads(path.read_text())
    first = "".join(nb["cells"][0]["source"])
    match = _READING.search(first)
    return int(match.group(1)) if match else None


def main() -> int:
    total = 0
    print(f"{'chapter':32s} {'words':>6s} {'displays':>8s} {'figures':>7s} {'minutes':>7s} stated")
    for path in chapters():
        ch = measure(path)
        total += ch.words
        print(f"{path.stem:32s} {ch.words:6d} {ch.displays:8d} {ch.figures:7d} {ch.minutes:7d} "
              f"{stated_minutes(path)}")
    print(f"{'main path, chapters 1-9':32s} {total:6d}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
