"""The bibliography as a reader sees it: readable labels, and a link for every entry.

Labels are made by the bibliography style from the authors and a *numeric* year
(``[ACGH19]``), disambiguated by the style if two would collide (``[ACGH19a]``). A year field
such as ``2019a`` once gave ``[ACGH9a]``, and a TeX accent ``Fran{\\c{c}}a`` gave
``[TFranccaHV21]``: both are checked here on the rendered page, after MathJax has run.

Two papers whose in-text citations would read alike ("Arora et al. [2019]") get a letter on
the year, in the text and in their entries (book/_ext/linnet_book.py; the style itself is
tested without a browser in ``tests/test_book_ext.py``).
"""

from __future__ import annotations

import re

LABEL = re.compile(r"^[A-Z][A-Za-z+]*\d\d[a-z]?$")  # initials (+ for many), year, suffix


def test_bibliography_labels_and_links(browser, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base_url + "book/bibliography.html")
    entries = page.eval_on_selector_all(
        "div.citation",
        """els => els.map(e => ({
            label: e.querySelector('.label')?.textContent.trim() ?? '',
            text: e.textContent,
            links: Array.from(e.querySelectorAll('a.reference.external'))
                        .map(a => a.href),
        }))""",
    )
    page.close()
    assert len(entries) >= 15, f"only {len(entries)} bibliography entries rendered"
    for entry in entries:
        label = entry["label"].strip("[]")
        assert LABEL.match(label), f"malformed label {entry['label']!r}"
        assert re.search(r"\d[a-z]\d|\d[a-z][A-Z]", label) is None, entry["label"]
        assert "\\" not in entry["text"] and "{" not in entry["text"], entry["text"][:120]
        assert entry["links"], f"{entry['label']} has no DOI, arXiv or publisher link"
    labels = [entry["label"] for entry in entries]
    assert len(labels) == len(set(labels)), f"duplicate labels: {sorted(labels)}"
    texts = " ".join(entry["text"] for entry in entries)
    assert "França" in texts  # the accent is rendered, not spelt as TeX
    by_label = {entry["label"].strip("[]"): entry["text"] for entry in entries}
    assert "2019a" in by_label["ACGH19"] and "2019b" in by_label["ACHL19"]


def test_same_year_papers_are_told_apart_in_the_text(browser, base_url: str) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(base_url + "book/04_preconditioner.html")
    cited = page.eval_on_selector_all(
        "span.bibtex-citation", "els => els.map(e => e.textContent.replace(/\\s+/g, ' ').trim())"
    )
    page.close()
    assert "Arora et al. [2019a]" in cited and "Arora et al. [2019b]" in cited, cited
    assert "Arora et al. [2019]" not in cited
