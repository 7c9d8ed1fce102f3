"""Citations that tell apart two papers of the same authors and year (book/_ext/linnet_book.py).

The author-year style wrote "Arora et al. [2019]" for both 2019 papers of Arora et al. The
book's extension gives such years a letter, in the text and in the bibliography. Checked here
on the book's bibliography and in a tiny Sphinx project that uses the real extension and the
styles named in ``_config.yml``; ``tests/browser/test_bibliography.py`` checks the built book.
"""

from __future__ import annotations

import html
import importlib.util
import os
import re
import subprocess
import sys
from pathlib import Path

import pybtex.database
import pybtex.plugin
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
EXT = ROOT / "book" / "_ext"
spec = importlib.util.spec_from_file_location("linnet_book", EXT / "linnet_book.py")
book_ext = importlib.util.module_from_spec(spec)
sys.modules.setdefault("linnet_book", book_ext)  # its dataclass looks the module up
spec.loader.exec_module(book_ext)


def sphinx_config() -> dict:
    with open(ROOT / "_config.yml") as f:
        return yaml.safe_load(f)["sphinx"]["config"]


def test_config_names_the_extensions_styles():
    config = sphinx_config()
    assert config["bibtex_reference_style"] == book_ext.CITATION_STYLE
    assert config["bibtex_default_style"] == book_ext.BIBLIOGRAPHY_STYLE


def test_only_the_two_2019_papers_of_arora_et_al_get_letters():
    bib = pybtex.database.parse_file(ROOT / "book" / "references.bib")
    style = pybtex.plugin.find_plugin("pybtex.style.formatting", "alpha")()
    entries = style.sort(bib.entries.values())  # the bibliography's order
    suffixes = book_ext.year_suffixes(entries)
    assert suffixes == {"arora2019convergence": "a", "arora2019implicit": "b"}
    assert book_ext.in_text_authors(bib.entries["arora2019implicit"]) == "Arora et al."
    # with the letters, no two in-text citations read alike
    cited = [
        (book_ext.in_text_authors(e), e.fields["year"] + suffixes.get(e.key, "")) for e in entries
    ]
    assert len(cited) == len(set(cited))


def text_of(page: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", "", page)))


def sphinx_build(src: Path, env: dict[str, str] | None = None) -> str:
    """Build the Sphinx project in ``src`` as HTML (warnings are errors); its index page."""
    out = src / "_build"
    result = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "-q", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return (out / "index.html").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def tiny_site(tmp_path_factory) -> str:
    """A one-page Sphinx project citing the two 2019 papers, built with the book's styles."""
    config = sphinx_config()
    src = tmp_path_factory.mktemp("cite")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        'extensions = ["sphinxcontrib.bibtex", "linnet_book"]\n'
        f"bibtex_bibfiles = [{str(ROOT / 'book' / 'references.bib')!r}]\n"
        f"bibtex_reference_style = {config['bibtex_reference_style']!r}\n"
        f"bibtex_default_style = {config['bibtex_default_style']!r}\n"
    )
    (src / "index.rst").write_text(
        "Tiny\n====\n\n"
        "Textual :cite:t:`arora2019convergence` and :cite:t:`arora2019implicit`;\n"
        "parenthetical :cite:p:`arora2019convergence,arora2019implicit`;\n"
        "one of a kind :cite:t:`arora2018optimization`.\n\n"
        ".. bibliography::\n   :all:\n"
    )
    return sphinx_build(src)


def test_in_text_citations_carry_the_letters(tiny_site: str):
    text = text_of(tiny_site)
    assert "Textual Arora et al. [2019a] and Arora et al. [2019b];" in text
    assert "parenthetical [Arora et al., 2019a, Arora et al., 2019b];" in text
    assert "one of a kind Arora et al. [2018]." in text  # no letter without a twin


def test_letters_link_to_their_own_entries(tiny_site: str):
    link = r'<a class="reference internal" href="#([^"]+)"[^>]*>(2019[ab])<'
    links = dict(re.findall(link, tiny_site))  # target id -> year shown
    assert set(links.values()) == {"2019a", "2019b"}
    entries = {
        target: text_of(body)
        for target, body in re.findall(
            r'<div class="citation" id="([^"]+)"[^>]*>(.*?)</div>', tiny_site, re.S
        )
    }
    by_year = {year: entries[target] for target, year in links.items()}
    assert "[ACGH19]" in by_year["2019a"] and "A convergence analysis" in by_year["2019a"]
    assert "[ACHL19]" in by_year["2019b"] and "Implicit regularization" in by_year["2019b"]
    # the bibliography shows the same letters, and keeps its labels
    assert "(ICLR). 2019a." in by_year["2019a"] and "32. 2019b." in by_year["2019b"]


@pytest.fixture(scope="module")
def inline_site(tmp_path_factory) -> str:
    """A one-notebook Sphinx project executed inline (as the book is), quoting a number."""
    import nbformat

    src = tmp_path_factory.mktemp("inline")
    (src / "conf.py").write_text(
        f"import sys\nsys.path.insert(0, {str(EXT)!r})\n"
        'extensions = ["myst_nb", "sphinxcontrib.bibtex", "linnet_book"]\n'
        f"bibtex_bibfiles = [{str(ROOT / 'book' / 'references.bib')!r}]\n"
        'nb_execution_mode = "inline"\nnb_execution_raise_on_error = True\n'
        'exclude_patterns = ["_build"]\n'
    )
    nb = nbformat.v4.new_notebook()
    hidden = nbformat.v4.new_code_cell(
        'from linnet.text import quote\nx = quote(1.23456e-5, ".1e")'
    )
    hidden.metadata["tags"] = ["remove-cell"]
    nb.cells = [
        nbformat.v4.new_markdown_cell("# Tiny"),
        hidden,
        # the Markdown below a removed cell: myst-nb alone would not have run it yet
        nbformat.v4.new_markdown_cell("The error is {eval}`x`, small."),
        nbformat.v4.new_code_cell('y = quote("a, b")\nprint("shown")'),
        nbformat.v4.new_markdown_cell("Text {eval}`y`."),
    ]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(nb, src / "index.ipynb")
    return sphinx_build(src, env={**os.environ, "PYTHONPATH": str(ROOT / "src")})


def test_quoted_numbers_show_as_text_without_quotes(inline_site: str):
    text = text_of(inline_site)
    assert "The error is 1.2e-05, small." in text
    assert "Text a, b." in text
    assert "'" not in text.split("The error is")[1].split("small")[0]
