"""The bibliography as a reader sees it: readable labels, and a link for every entry.

Labels are made by the bibliography style from the authors and a *numeric* year
(``[ACGH19]``), disambiguated by the style if two would collide (``[ACGH19a]``). A year field
such as ``2019a`` once gave ``[ACGH9a]``, and a TeX accent ``Fran{\\c{c}}a`` gave
``[TFranccaHV21]``: both are checked here on the rendered page, after MathJax has run.
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
