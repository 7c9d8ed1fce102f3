"""Small Sphinx fixes for this book (loaded through ``local_extensions`` in ``_config.yml``).

* Jupyter Book 1 registers the inline scripts of sphinx-thebe and sphinx-togglebutton twice
  (once with ``filename=None``, once with ``filename=''``). The second ``const THEBE_JS_URL``
  then raises a JavaScript error on every page. Inline scripts whose body repeats are dropped.
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


def setup(app: Any) -> dict[str, Any]:
    app.connect("html-page-context", drop_duplicate_inline_scripts, priority=900)
    app.connect("html-page-context", fix_bibliography_roles)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
