"""The book's sources: clean notebooks, a table of contents that matches book/."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted(
    p for p in (ROOT / "book").glob("**/*.ipynb") if ".ipynb_checkpoints" not in p.parts
)


def toc_files() -> list[str]:
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for chapter in part["chapters"]:
            files += [chapter["file"]] + [s["file"] for s in chapter.get("sections", [])]
    files += [chapter["file"] for chapter in toc.get("chapters", [])]
    return files


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_committed_without_outputs_or_widget_state(path):
    nb = json.loads(path.read_text())
    for index, cell in enumerate(nb["cells"]):
        if cell["cell_type"] == "code":
            assert cell.get("outputs") == [], f"{path.name} cell {index} has outputs"
            assert cell.get("execution_count") is None, f"{path.name} cell {index} was executed"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} carries widget state"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_markdown_outputs_are_parsed_as_myst(path):
    # myst-nb parses a cell's text/markdown output as plain CommonMark unless told otherwise:
    # no tables, and Sphinx's smart quotes turn a table's "---" into an em dash.
    nb = json.loads(path.read_text())
    displays_markdown = any(
        "Markdown(" in "".join(cell["source"])
        for cell in nb["cells"]
        if cell["cell_type"] == "code"
    )
    if displays_markdown:
        fmt = nb["metadata"].get("mystnb", {}).get("render_markdown_format")
        assert fmt == "myst", f"{path.name} displays Markdown tables: set render_markdown_format"


def test_every_notebook_is_in_the_table_of_contents_and_back():
    listed = set(toc_files())
    on_disk = {str(p.relative_to(ROOT).with_suffix("")) for p in NOTEBOOKS}
    on_disk |= {str(p.relative_to(ROOT).with_suffix("")) for p in (ROOT / "book").glob("*.md")}
    assert on_disk - listed == set(), "pages in book/ missing from _toc.yml"
    assert listed - on_disk == set(), "_toc.yml lists pages that do not exist"


def test_config_gates_the_build():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["sphinx"]["config"]["nb_execution_raise_on_error"] is True
    # inline: every build re-executes every notebook, and {eval} roles are evaluated
    assert config["execute"]["execute_notebooks"] == "inline"
    assert config["only_build_toc_files"] is True


def test_every_public_function_has_a_doctested_example():
    import inspect

    import linnet

    for name in linnet.__all__:
        obj = getattr(linnet, name)
        if inspect.isfunction(obj):
            # inspect.getdoc: Python 3.13 strips docstring indentation at compile time
            _, _, examples = inspect.getdoc(obj).partition("Examples\n--------\n")
            assert ">>> " in examples, f"linnet.{name} has no doctested example"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_chapter_page_weight(path):
    # Embedded images (figures + precomputed widget frames) stay under 3 MB per chapter.
    page = ROOT / "_build" / "html" / path.relative_to(ROOT).with_suffix(".html")
    if not page.exists():
        pytest.skip("the book is not built (run `make book`)")
    html = page.read_text(encoding="utf-8")
    embedded = sum(len(m) * 3 // 4 for m in re.findall(r"base64,([A-Za-z0-9+/=]+)", html))
    embedded += sum(len(b["data"]) * 3 // 4 for b in _widget_buffers(html))
    linked = sum(
        (page.parent / src).stat().st_size
        for src in set(re.findall(r'<img[^>]+src="([^"]+\.png)"', html))
    )
    assert embedded + linked < 3_000_000, f"{path.name}: {(embedded + linked) / 1e6:.1f} MB"


def _widget_buffers(html: str) -> list[dict]:
    match = re.search(
        r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', html, re.S
    )
    if not match:
        return []
    state = json.loads(match.group(1))["state"]
    return [b for model in state.values() for b in model.get("buffers", [])]


# The prose quotes measured numbers with inline expressions, {eval}`name`, evaluated by myst-nb
# when the book is built and by jupyterlab-myst when a reader runs the chapter in JupyterLab;
# myst-nb's {glue} roles are shown by neither in Jupyter (issue 24).
EVAL = re.compile(r"\{eval\}`([^`]*)`")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_glue_left(path):
    text = path.read_text(encoding="utf-8")
    for pattern in ("{glue", "myst_nb", "glue("):
        assert pattern not in text, f"{path.name} still uses myst-nb glue ({pattern!r})"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_quoted_name_is_bound_before_its_prose(path):
    # Run All (Lab) and inline execution (the build) evaluate a Markdown cell's expressions
    # when they reach it: each name must be bound by an earlier code cell, and be a plain
    # name (myst-nb's {eval} accepts nothing else).
    import ast

    nb = json.loads(path.read_text(encoding="utf-8"))
    bound: set[str] = set()
    for index, cell in enumerate(nb["cells"]):
        source = "".join(cell["source"])
        if cell["cell_type"] == "code":
            tree = ast.parse(source)
            bound |= {
                n.id
                for n in ast.walk(tree)
                if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
            }
        elif cell["cell_type"] == "markdown":
            assert "user_expressions" not in cell.get("metadata", {}), (
                f"{path.name} cell {index} was saved with evaluated expressions"
            )
            for name in EVAL.findall(source):
                assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9_]*", name), f"{path.name}: {name!r}"
                assert name in bound, f"{path.name} cell {index} quotes {name} before it is bound"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_empty_code_cell(path):
    # JupyterLab's Run All skips an empty code cell, which then never gets an execution count
    nb = json.loads(path.read_text(encoding="utf-8"))
    empty = [
        i
        for i, c in enumerate(nb["cells"])
        if c["cell_type"] == "code" and not "".join(c["source"]).strip()
    ]
    assert empty == [], f"{path.name}: empty code cells {empty}"
