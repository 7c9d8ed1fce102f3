"""Small Sphinx fixes for this book (loaded through ``local_extensions`` in ``_config.yml``).

* Jupyter Book 1 registers the inline scripts of sphinx-thebe and sphinx-togglebutton twice
  (once with ``filename=None``, once with ``filename=''``). The second ``const THEBE_JS_URL``
  then raises a JavaScript error on every page. Inline scripts whose body repeats are dropped.
* The build-status page (myst-nb's ``nb-exec-table``) speaks plainly: chapter titles, the
  execution time and "ran without errors" instead of file names, cache jargon and emoji.
* Sphinx marks bibliography entries with the deprecated ARIA role ``doc-biblioentry`` inside a
  ``role="list"`` container; screen readers (and axe-core) expect ``listitem`` children there.
"""

from __future__ import annotations

from typing import Any


def drop_duplicate_inline_scripts(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    bodies: set[str] = set()
    unique = []
    for script in context.get("script_files", []):
        body = getattr(script, "attributes", {}).get("body")
        if body:
            if body in bodies:
                continue
            bodies.add(body)
        unique.append(script)
    context["script_files"] = unique


def fix_bibliography_roles(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    if "body" in context:
        context["body"] = context["body"].replace('role="doc-biblioentry"', 'role="listitem"')


def plain_execution_table() -> None:
    """Reword myst-nb's execution statistics table for readers (see the module docstring)."""
    from docutils import nodes
    from myst_nb.ext import execution_tables as tables
    from sphinx.addnodes import pending_xref

    tables._key2header.clear()
    tables._key2header.update(
        {"runtime": "Execution time (s)", "succeeded": "Result", "mtime": "Executed on"}
    )
    tables._key2transform.update(
        {
            "runtime": lambda x: "-" if x is None else f"{x:.1f}",
            "succeeded": lambda x: "ran without errors" if x is True else "failed",
        }
    )
    original = tables.make_stat_table
    if getattr(original, "linnet_plain", False):
        return

    def make_stat_table(parent_docname: str, metadata: Any) -> nodes.table:
        table = original(parent_docname, metadata)
        for ref in table.findall(pending_xref):
            ref["refexplicit"] = False  # show the chapter's title, not its file name
        for entry in table.findall(nodes.entry):
            for text in entry.findall(nodes.Text):
                if text.astext() == "Document":
                    text.parent.replace(text, nodes.Text("Chapter"))
        return table

    make_stat_table.linnet_plain = True  # type: ignore[attr-defined]
    tables.make_stat_table = make_stat_table


def setup(app: Any) -> dict[str, Any]:
    plain_execution_table()
    app.connect("html-page-context", drop_duplicate_inline_scripts, priority=900)
    app.connect("html-page-context", fix_bibliography_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
