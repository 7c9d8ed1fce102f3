"""Small Sphinx fixes for this book (loaded through ``local_extensions`` in ``_config.yml``).

* Jupyter Book 1 registers the inline scripts of sphinx-thebe and sphinx-togglebutton twice
  (once with ``filename=None``, once with ``filename=''``). The second ``const THEBE_JS_URL``
  then raises a JavaScript error on every page. Inline scripts whose body repeats are dropped.
* The build-status page (myst-nb's ``nb-exec-table``) speaks plainly: chapter titles, the
  execution time and "ran without errors" instead of file names, cache jargon and emoji.
* Sphinx marks bibliography entries with the deprecated ARIA role ``doc-biblioentry`` inside a
  ``role="list"`` container; screen readers (and axe-core) expect ``listitem`` children there.
* Page weight: the widget state that myst-nb embeds in a page keeps only the models its views
  reach (and the links between them), without layout and style models (the book's renderer,
  ``linnet-widgets.js``, does not use them), and the explorers' base64 PNG frames become
  image files under ``_images/frames/`` (quantised to a 256-colour palette when that is
  smaller): the book's renderer puts a frame in the page only when it is shown, so a
  reader's browser fetches only the frames it shows. The theme's 1.5 MB
  Font Awesome script (which swaps icons for SVG) is dropped from every page: the theme's
  stylesheet already draws the same icons with the Font Awesome web fonts. The chapters'
  figures (``_images/*.png``) get a 256-colour palette too when that makes them smaller.
* API signatures: a dataclass field with a ``default_factory`` shows in the class's
  signature as ``name=<factory>``; it shows the value the factory makes instead
  (``hyper={}``, ``weights=[]``, ``imbalance=np.zeros((0, 0))``).
* The site's icon: ``html_favicon`` (an SVG) is linked from every page; ``favicon.ico``
  (``book/_static``) is also copied to the site's root, where browsers look for it.
* Numbers in the prose: the chapters quote measured numbers with ``{eval}`name```, which
  myst-nb evaluates only with inline execution (``execute_notebooks: inline``), in the
  kernel as it is when the Markdown cell is rendered. myst-nb runs a code cell only when it
  renders the next code cell it shows, so a ``remove-cell`` cell (never rendered) would not
  have run yet when the Markdown below it is rendered. Here every code cell above a Markdown
  cell runs first, as *Run All* does in JupyterLab (where jupyterlab-myst evaluates the
  same expressions).
* Citations: the author-year style writes "Arora et al. [2019]" for both 2019 papers of
  Arora et al.  The styles registered here (``bibtex_reference_style: author_year_suffixed``,
  ``bibtex_default_style: alpha_suffixed``) give the year a letter wherever two entries would
  read alike, in the text ("[2019a]", "[2019b]") and in the bibliography's entries, in the
  bibliography's order; the labels (``[ACGH19]``) are unchanged.
"""

from __future__ import annotations

import ast
import base64
import dataclasses
import hashlib
import inspect
import shutil
import textwrap
import io
import json
import posixpath
import re
import string
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pybtex.plugin
from pybtex.database import Entry
from pybtex.style.formatting.alpha import Style as AlphaStyle
from pybtex.style.template import node
from sphinx.errors import ExtensionError
from sphinxcontrib.bibtex.plugin import register_plugin
from sphinxcontrib.bibtex.style.referencing import PersonStyle
from sphinxcontrib.bibtex.style.referencing.author_year import AuthorYearReferenceStyle

from linnet.plotting import split_phone_rendition


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


WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
VIEW_ID = re.compile(r'"model_id":\s*"([0-9a-f]+)"')
MODEL_REF = re.compile(r"IPY_MODEL_([0-9a-f]+)")
DATA_PNG = re.compile(r"data:image/png;base64,([A-Za-z0-9+/=]+)")
FRAMES = "_images/frames"


#: Screens at most this wide get a figure's phone rendition (see linnet.plotting.phone_png).
PHONE_MEDIA = "(max-width: 600px)"
IMG_TAG = re.compile(r"<img\b[^>]*>")
SRC = re.compile(r'\bsrc="([^"]+)"')


def smallest_png(png: bytes) -> bytes:
    """``png``, or the same picture with a 256-colour palette if that is smaller (Pillow).

    The PNG's text chunks (``linnet:min-font-pt``, ``linnet:dpi``) are kept.
    """
    try:
        from PIL import Image, PngImagePlugin
    except ImportError:  # pragma: no cover - Pillow comes with matplotlib
        return png
    image = Image.open(io.BytesIO(png))
    info = PngImagePlugin.PngInfo()
    for key, value in getattr(image, "text", {}).items():
        info.add_text(key, value)
    if image.mode == "RGBA":
        if image.getchannel("A").getextrema()[0] < 255:
            return png  # real transparency: keep it
        image = image.convert("RGB")
    if image.mode != "RGB":
        return png
    palette = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, format="PNG", optimize=True, pnginfo=info)
    return out.getvalue() if out.tell() < len(png) else png


def reachable_models(state: dict, roots: list[str]) -> set[str]:
    """Models reachable from the views ``roots``, plus the links between reachable models."""
    seen: set[str] = set()
    todo = [r for r in roots if r in state]
    while todo:
        model_id = todo.pop()
        if model_id in seen:
            continue
        seen.add(model_id)
        todo += [r for r in MODEL_REF.findall(json.dumps(state[model_id]["state"])) if r in state]
    for model_id, model in state.items():
        if model.get("model_name") in ("LinkModel", "DirectionalLinkModel"):
            ends = set(MODEL_REF.findall(json.dumps(model["state"])))
            if ends and ends <= seen:
                seen.add(model_id)
    return seen


def light_widget_state(app: Any, pagename: str, body: str, views_html: str) -> str:
    """The widget state of one page, pruned and with its PNG frames moved to files."""
    data = json.loads(body.replace(r"<\/script>", "</script>"))
    state = data.get("state", {})
    keep = reachable_models(state, VIEW_ID.findall(views_html))
    state = {
        model_id: model
        for model_id, model in state.items()
        if model_id in keep
        and not model.get("model_name", "").endswith(("LayoutModel", "StyleModel"))
    }
    folder = Path(app.builder.outdir) / FRAMES
    folder.mkdir(parents=True, exist_ok=True)

    def to_file(png: bytes) -> str:
        png = smallest_png(png)
        name = hashlib.sha256(png).hexdigest()[:20] + ".png"
        target = folder / name
        if not target.exists():
            target.write_bytes(png)
        return posixpath.relpath(f"{FRAMES}/{name}", posixpath.dirname(pagename) or ".")

    def frame(match: re.Match) -> str:
        tag = match.group(0)
        data = DATA_PNG.search(tag)
        if data is None:
            return tag
        desktop, phone = split_phone_rendition(base64.b64decode(data.group(1)))
        tag = tag.replace(data.group(0), to_file(desktop))
        return tag if phone is None else picture(tag, to_file(phone))

    for model in state.values():
        value = model.get("state", {}).get("value")
        if isinstance(value, str) and "data:image/png;base64," in value:
            model["state"]["value"] = IMG_TAG.sub(frame, value)
    data["state"] = state
    return json.dumps(data, separators=(",", ":")).replace("</script>", r"<\/script>")


def externalise_widget_frames(
    app: Any, pagename: str, templatename: str, context: dict, doctree: Any
) -> None:
    scripts = context.get("script_files", [])
    for index, script in enumerate(scripts):
        attributes = getattr(script, "attributes", {})
        if attributes.get("type") != WIDGET_STATE or not attributes.get("body"):
            continue
        body = light_widget_state(app, pagename, attributes["body"], context.get("body", ""))
        scripts[index] = type(script)(
            script.filename, priority=script.priority, **{**attributes, "body": body}
        )


FONTAWESOME_JS = re.compile(r'[ \t]*<script[^>]*src="[^"]*/fontawesome\.js[^"]*"[^>]*></script>\n?')


def picture(img: str, phone_src: str) -> str:
    """An ``<img>`` tag wrapped in a ``<picture>`` that shows ``phone_src`` on narrow screens."""
    return (f'<picture><source media="{PHONE_MEDIA}" srcset="{phone_src}">{img}</picture>')


def phone_renditions(images: Path) -> set[str]:
    """Split each figure's phone rendition into ``NAME.phone.png``; the names that have one."""
    names = set()
    for path in sorted(images.glob("*.png")):
        if path.name.endswith(".phone.png"):
            continue
        desktop, phone = split_phone_rendition(path.read_bytes())
        if phone is not None:
            path.write_bytes(desktop)
            path.with_suffix(".phone.png").write_bytes(phone)
        if path.with_suffix(".phone.png").exists():
            names.add(path.name)
    return names


def with_pictures(html: str, names: set[str]) -> str:
    """``html`` with each ``<img>`` of a figure that has a phone rendition in a ``<picture>``."""

    def wrap(match: re.Match) -> str:
        tag = match.group(0)
        src = SRC.search(tag)
        if src is None or posixpath.basename(src.group(1)) not in names:
            return tag
        if match.string[max(0, match.start() - 200) : match.start()].rstrip().endswith(">"):
            before = match.string[max(0, match.start() - 200) : match.start()]
            if before.rstrip().endswith(f'srcset="{src.group(1)[:-4]}.phone.png">'):
                return tag
        return picture(tag, src.group(1)[:-4] + ".phone.png")

    return IMG_TAG.sub(wrap, html)


def lighten_site(app: Any, exception: Exception | None) -> None:
    """Phone renditions as ``<picture>`` sources; palette PNGs; no Font Awesome script."""
    if exception is not None or app.builder.format != "html":
        return
    images = Path(app.builder.outdir) / "_images"
    with_phone = phone_renditions(images)
    for path in images.glob("*.png"):
        png = path.read_bytes()
        smaller = smallest_png(png)
        if smaller is not png:
            path.write_bytes(smaller)
    for path in Path(app.builder.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        lighter = with_pictures(FONTAWESOME_JS.sub("", text), with_phone)
        if lighter != text:
            path.write_text(lighter, encoding="utf-8")


def factory_default(factory: Any) -> str:
    """How a dataclass field's ``default_factory`` reads in a signature.

    >>> factory_default(dict), factory_default(list)
    ('{}', '[]')
    >>> factory_default(lambda: (1, 2))
    '(1, 2)'
    """
    if getattr(factory, "__name__", "") == "<lambda>":
        try:
            source = textwrap.dedent(inspect.getsource(factory)).strip()
            lambdas = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Lambda)]
            if len(lambdas) == 1:
                return ast.unparse(lambdas[0].body)
        except (OSError, TypeError, SyntaxError):
            pass
    try:
        value = factory()
    except Exception:  # pragma: no cover - a factory that needs arguments
        return "..."
    text = repr(value)
    return text if len(text) <= 30 else f"{type(value).__name__}()"


def dataclass_factory_defaults(
    app: Any, what: str, name: str, obj: Any, options: Any, signature: str | None,
    return_annotation: str | None,
) -> tuple[str | None, str | None] | None:
    """Replace ``name=<factory>`` in a dataclass's signature (see the module docstring)."""
    if not signature or "<factory>" not in signature or not dataclasses.is_dataclass(obj):
        return None
    fields = {f.name: f for f in dataclasses.fields(obj)}

    def default(match: re.Match) -> str:
        field_ = fields.get(match.group(1))
        if field_ is None or field_.default_factory is dataclasses.MISSING:
            return match.group(0)
        return f"{match.group(1)}={factory_default(field_.default_factory)}"

    return re.sub(r"(\w+)=<factory>", default, signature), return_annotation


def copy_favicon_to_root(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for folder in app.config.html_static_path:
        icon = Path(app.confdir) / folder / "favicon.ico"
        if icon.is_file():
            shutil.copyfile(icon, Path(app.builder.outdir) / "favicon.ico")
            return


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


def run_cells_before_markdown() -> None:
    """Run every code cell above a Markdown cell before rendering it (see the docstring)."""
    from myst_nb.core.render import MditRenderMixin

    original = MditRenderMixin.render_nb_cell_markdown
    if getattr(original, "linnet_runs_cells", False):
        return

    def render_nb_cell_markdown(self: Any, token: Any) -> None:
        # up to and including this cell: nbclient skips the Markdown cell itself; outside
        # inline execution, this only looks up stored outputs
        self.nb_client.code_cell_outputs(token.meta["index"])
        original(self, token)

    render_nb_cell_markdown.linnet_runs_cells = True  # type: ignore[attr-defined]
    MditRenderMixin.render_nb_cell_markdown = render_nb_cell_markdown


CITATION_STYLE = "author_year_suffixed"  # bibtex_reference_style
BIBLIOGRAPHY_STYLE = "alpha_suffixed"  # bibtex_default_style


def with_year(entry: Entry, year: str) -> Entry:
    """A copy of ``entry`` (same key, fields and persons) with another year field."""
    copy = Entry(entry.original_type, fields=entry.fields, persons=entry.persons)
    copy.key = entry.key
    copy.fields["year"] = year
    return copy


def in_text_authors(entry: Entry, person: PersonStyle | None = None) -> str:
    """The author part of an in-text citation, as the author-year style writes it.

    One or two authors by name, three or more as the first one and "et al.".
    """
    person = person or PersonStyle()
    template = person.author_or_editor_or_title(full=False)
    text = template.format_data({"entry": entry, "style": SimpleNamespace(person=person)})
    return text.render_as("text")


def year_suffixes(entries: Iterable[Entry], person: PersonStyle | None = None) -> dict[str, str]:
    """Letters for the years of entries whose in-text citations would read alike.

    Entries with the same :func:`in_text_authors` and year get "a", "b", ... in the order
    given (the bibliography's); all others get none.

    >>> from pybtex.database import Person
    >>> def paper(key, *authors):
    ...     entry = Entry("article", fields={"year": "2019", "title": key})
    ...     entry.persons["author"] = [Person(a) for a in authors]
    ...     entry.key = key
    ...     return entry
    >>> year_suffixes([paper("x", "Arora, S.", "Cohen, N.", "Golowich, N."),
    ...                paper("y", "Arora, S.", "Cohen, N.", "Hu, W."),
    ...                paper("z", "Arora, S.", "Cohen, N.")])
    {'x': 'a', 'y': 'b'}
    """
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for entry in entries:
        if "year" in entry.fields:
            groups[in_text_authors(entry, person), entry.fields["year"]].append(entry.key)
    return {
        key: string.ascii_lowercase[i]
        for keys in groups.values()
        if len(keys) > 1
        for i, key in enumerate(keys)
    }


@node
def suffixed_year(children: list, data: dict[str, Any]) -> Any:
    """Format the one child with the entry's year carrying its letter (``2019a``)."""
    (child,) = children
    entry = data["entry"]
    suffix = data["style"].year_suffixes.get(entry.key, "")
    if suffix:
        data = {**data, "entry": with_year(entry, entry.fields["year"] + suffix)}
    return child.format_data(data)


@dataclass
class SuffixedAuthorYearReferenceStyle(AuthorYearReferenceStyle):
    """sphinxcontrib-bibtex's author-year citations, with the year letters of
    :func:`year_suffixes` (set by :func:`set_citation_year_suffixes`)."""

    year_suffixes: dict[str, str] = field(default_factory=dict)

    def inner(self, role_name: str) -> Any:
        return suffixed_year[super().inner(role_name)]


class SuffixedAlphaStyle(AlphaStyle):
    """pybtex's alpha style, with the year letters of :func:`year_suffixes` in the entries.

    sphinxcontrib-bibtex calls ``format_labels`` with all sorted entries of a bibliography
    before it formats any entry; pybtex makes ``format_labels`` an attribute of the
    instance (the label style's method), so it is wrapped here, not overridden.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.year_suffixes: dict[str, str] = {}
        labels = self.format_labels

        def format_labels(sorted_entries: list[Entry]) -> Iterable[str]:
            self.year_suffixes = year_suffixes(sorted_entries)
            return labels(sorted_entries)

        self.format_labels = format_labels

    def format_entry(self, label: str, entry: Entry, bib_data: Any = None) -> Any:
        suffix = self.year_suffixes.get(entry.key, "")
        if suffix:
            entry = with_year(entry, entry.fields["year"] + suffix)
        return super().format_entry(label, entry, bib_data=bib_data)


def set_citation_year_suffixes(app: Any) -> None:
    """Give the in-text style the letters of every entry of the bib files, in the order of
    the bibliography style (the book's bibliography lists them all)."""
    try:
        domain = app.env.get_domain("cite")
    except ExtensionError:  # sphinxcontrib-bibtex not loaded: nothing to do
        return
    style = getattr(domain, "reference_style", None)
    if not isinstance(style, SuffixedAuthorYearReferenceStyle):
        return
    sorter = pybtex.plugin.find_plugin("pybtex.style.formatting", app.config.bibtex_default_style)
    entries = sorter().sort(domain.bibdata.data.entries.values())
    style.year_suffixes = year_suffixes(entries, style.person)


def setup(app: Any) -> dict[str, Any]:
    plain_execution_table()
    run_cells_before_markdown()
    register_plugin(
        "sphinxcontrib.bibtex.style.referencing", CITATION_STYLE, SuffixedAuthorYearReferenceStyle
    )
    pybtex.plugin.register_plugin("pybtex.style.formatting", BIBLIOGRAPHY_STYLE, SuffixedAlphaStyle)
    # after sphinxcontrib-bibtex has made its reference style and read the bib files (500)
    app.connect("builder-inited", set_citation_year_suffixes, priority=900)
    app.connect("html-page-context", drop_duplicate_inline_scripts, priority=900)
    app.connect("html-page-context", fix_bibliography_roles)
    app.connect("html-page-context", externalise_widget_frames, priority=900)
    app.connect("build-finished", lighten_site)
    app.connect("build-finished", copy_favicon_to_root)
    app.setup_extension("sphinx.ext.autodoc")  # its event, even where a project lacks it
    app.connect("autodoc-process-signature", dataclass_factory_defaults)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
