"""One plotting style for the whole book (needs matplotlib; not imported by ``linnet``).

The palette is Okabe & Ito's colour-blind-safe set; depth ``N`` always gets the
same colour, so "depth 3" looks the same in every chapter.
"""

from __future__ import annotations

import math
import struct
import zlib
from typing import Any

import matplotlib as mpl
from cycler import cycler
from matplotlib.figure import Figure
from matplotlib.text import Text

__all__ = [
    "COLUMN_WIDTH",
    "PALETTE",
    "PHONE_COLUMN_PX",
    "PHONE_WIDTH",
    "depth_color",
    "legibility_metadata",
    "phone_png",
    "png_text_chunks",
    "screen_text_px",
    "smallest_font_pt",
    "split_phone_rendition",
    "use_book_style",
    "with_phone_rendition",
]

#: Okabe-Ito colours (black omitted), in the order used for depth 1, 2, 3, ...
PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442"]


def depth_color(depth: int) -> str:
    """The book's colour for a network of depth ``N`` (``depth >= 1``).

    Examples
    --------
    >>> depth_color(1)
    '#0072B2'
    """
    if depth < 1:
        raise ValueError(f"depth must be >= 1, got {depth}")
    return PALETTE[(depth - 1) % len(PALETTE)]


#: Width of the book's text column in inches at 100 dpi, i.e. 660 px. Size figures to it and
#: never wider, so that they are shown at their natural size and fonts stay >= 9 pt on screen.
COLUMN_WIDTH = 6.6


#: Width in CSS px of the text column on a 390 px phone (the theme's margins taken off).
PHONE_COLUMN_PX = 342


def smallest_font_pt(fig: Figure) -> float:
    """The smallest font size, in points, of any visible, non-empty text of a figure.

    Tick labels, axis labels, titles, legends and annotations all count; ``inf`` if the
    figure has no text. The figure is laid out first (tick labels get their text when drawn).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_xticks([0, 1], ["0", "1"], fontsize=7)
    >>> smallest_font_pt(fig)
    7.0
    >>> plt.close(fig)
    """
    fig.draw_without_rendering()
    sizes = [
        float(t.get_fontsize())
        for t in fig.findobj(Text)
        if t.get_visible() and t.get_text().strip()
    ]
    return min(sizes, default=math.inf)


def legibility_metadata(fig: Figure, dpi: float) -> dict[str, str]:
    """PNG text chunks that let a page compute a figure's smallest text size on screen.

    ``linnet:min-font-pt`` is :func:`smallest_font_pt`; ``linnet:dpi`` the resolution the
    PNG is rendered at, so that its width in inches is its width in pixels over ``dpi``.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_title("t", fontsize=12)
    >>> _ = ax.set_xticks([]), ax.set_yticks([])
    >>> legibility_metadata(fig, dpi=200)
    {'linnet:min-font-pt': '12', 'linnet:dpi': '200'}
    >>> plt.close(fig)
    """
    return {"linnet:min-font-pt": f"{smallest_font_pt(fig):g}", "linnet:dpi": f"{dpi:g}"}


def png_text_chunks(png: bytes) -> dict[str, str]:
    """The ``tEXt`` (and ``zTXt``) chunks of a PNG file, as a dictionary.

    Examples
    --------
    >>> import io, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure(figsize=(1, 1))
    >>> buffer = io.BytesIO()
    >>> fig.savefig(buffer, format="png", metadata={"linnet:dpi": "200"})
    >>> png_text_chunks(buffer.getvalue())["linnet:dpi"]
    '200'
    >>> plt.close(fig)
    """
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG file")
    chunks: dict[str, str] = {}
    at = 8
    while at + 8 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind = png[at + 4 : at + 8]
        data = png[at + 8 : at + 8 + length]
        if kind == b"tEXt":
            key, _, value = data.partition(b"\0")
            chunks[key.decode("latin-1")] = value.decode("latin-1")
        elif kind == b"zTXt":
            key, _, rest = data.partition(b"\0")
            chunks[key.decode("latin-1")] = zlib.decompress(rest[1:]).decode("latin-1")
        at += 12 + length
    return chunks


def screen_text_px(min_font_pt: float, png_width_px: int, dpi: float, shown_px: float) -> float:
    """Height in CSS px of a figure's smallest text when the figure is shown ``shown_px`` wide.

    A font of ``f`` points is ``f / 72`` inches tall in a figure ``png_width_px / dpi`` inches
    wide; shown ``shown_px`` CSS px wide, one inch of the figure takes
    ``shown_px * dpi / png_width_px`` px.

    Examples
    --------
    A 9 pt tick label in a 6.6 in figure shown 342 px wide (a phone's column):

    >>> round(screen_text_px(9, png_width_px=1320, dpi=200, shown_px=342), 1)
    6.5
    """
    return min_font_pt / 72 * shown_px * dpi / png_width_px


def use_book_style() -> None:
    """Set matplotlib's rcParams to the book's style (sizes, palette, grid, fonts).

    Figures default to the text column's width (:data:`COLUMN_WIDTH`); inside IPython they
    are shown as "retina" PNGs (rendered at twice their displayed resolution, for HiDPI
    screens).
    """
    mpl.rcParams.update(
        {
            "figure.figsize": (COLUMN_WIDTH, 3.3),
            "figure.dpi": 100,
            "savefig.dpi": 200,
            "font.size": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "figure.constrained_layout.use": True,
            "axes.prop_cycle": cycler(color=PALETTE),
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "legend.fontsize": 9,
            "legend.frameon": False,
            "lines.linewidth": 1.8,
            "image.cmap": "viridis",
        }
    )
    _retina_inline()


def _retina_inline() -> None:
    """Inside IPython, emit PNGs at 2x resolution with their displayed size as metadata."""
    try:
        from IPython import get_ipython
        from matplotlib_inline.backend_inline import set_matplotlib_formats
    except ImportError:  # pragma: no cover - plain Python without IPython
        return
    shell = get_ipython()
    if shell is not None:
        set_matplotlib_formats("retina")
        shell.display_formatter.formatters["image/png"].for_type(Figure, _retina_png)


def _retina_png(fig: Figure) -> tuple[bytes, dict[str, int]] | None:
    """IPython's retina PNG of ``fig``, carrying :func:`legibility_metadata`."""
    from IPython.core.pylabtools import retina_figure

    shown = retina_figure(fig, metadata=legibility_metadata(fig, 2 * fig.dpi))
    if shown is None:
        return None
    png, size = shown
    return with_phone_rendition(png, phone_png(fig, dpi=2 * fig.dpi)), size


#: Width in inches of a figure's phone rendition. Shown :data:`PHONE_COLUMN_PX` wide, a 9 pt
#: tick label is then 9 / 72 * 342 / 3.8 = 11.25 CSS px tall.
PHONE_WIDTH = 3.8
#: Height limits, in inches, of one panel of a phone rendition.
PHONE_PANEL_HEIGHT = (1.7, 2.6)
#: Type of the PNG chunk that carries a figure's phone rendition (ancillary, private).
PHONE_CHUNK = b"lnPh"


def _stackable(fig: Figure) -> tuple[list, Any] | None:
    """The figure's panels and their grid, if every panel fills one cell of one grid.

    Such a grid (one row of two or more panels, or three or more columns) is restacked as one
    column, row by row; a grid of two columns and several rows keeps its columns.
    """
    axes = [ax for ax in fig.axes if ax.get_subplotspec() is not None]
    if not axes:
        return None
    specs = [ax.get_subplotspec() for ax in axes]
    grid = specs[0].get_gridspec()
    nrows, ncols = grid.get_geometry()
    if any(spec.get_gridspec() is not grid for spec in specs) or ncols < 2:
        return None
    if nrows > 1 and ncols < 3:  # two columns of panels stay side by side, each 1.9 in wide
        return None
    if any(len(spec.rowspan) != 1 or len(spec.colspan) != 1 for spec in specs):
        return None
    return axes, grid


def _outside_loc(legend: Any) -> str | None:
    """The ``loc`` string of a figure legend placed ``"outside ..."``, or ``None``."""
    from matplotlib.legend import Legend

    where = getattr(legend, "_outside_loc", None)
    if where is None or legend._bbox_to_anchor is not None:
        return None
    name = {code: text for text, code in Legend.codes.items()}.get(legend._loc)
    if name is None:
        return None
    if where in ("upper", "lower"):
        return f"outside {name}"
    vertical = name.split()[0] if name != "center" else "center"
    return f"outside {where} {vertical}"


def _narrow_legends(fig: Figure, ncols: int) -> list[tuple[int, Any, Any]]:
    """Swap each wide ``"outside"`` figure legend for one of ``ncols`` columns.

    Returns what :func:`_restore_legends` needs to put the originals back.
    """
    swaps = []
    for index, legend in enumerate(list(fig.legends)):
        loc = _outside_loc(legend)
        if legend._ncols <= ncols or loc is None:
            continue
        labels = [t.get_text() for t in legend.texts]
        fig.legends.remove(legend)
        narrow = fig.legend(legend.legend_handles, labels, loc=loc, ncols=ncols)
        swaps.append((index, legend, narrow))
    return swaps


def _restore_legends(fig: Figure, swaps: list[tuple[int, Any, Any]]) -> None:
    for index, legend, narrow in reversed(swaps):
        narrow.remove()
        fig.legends.insert(index, legend)


def phone_png(fig: Figure, dpi: float = 200) -> bytes:
    """A PNG of ``fig`` laid out for a phone's column, with :func:`legibility_metadata`.

    The figure is redrawn :data:`PHONE_WIDTH` inches wide, so that its text keeps its size
    in points and shows at >= 9 CSS px in a 342 px column; a grid of panels is restacked as
    one column (row by row), and the figure's own legends get at most two columns (one, if two
    still stick out of the column). The figure is restored afterwards (size, layout, legends).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig, axes = plt.subplots(1, 2, figsize=(6.6, 3), layout="constrained")
    >>> png = phone_png(fig, dpi=100)
    >>> png_text_chunks(png)["linnet:dpi"], fig.get_size_inches().tolist()
    ('100', [6.6, 3.0])
    >>> plt.close(fig)
    """
    from matplotlib.gridspec import GridSpec

    size = fig.get_size_inches().copy()
    stack = _stackable(fig)
    specs = []
    if stack is not None:
        axes, grid = stack
        nrows, ncols = grid.get_geometry()
        panel_aspect = (size[1] / nrows) / (size[0] / ncols)
        panel = min(max(PHONE_WIDTH * panel_aspect, PHONE_PANEL_HEIGHT[0]), PHONE_PANEL_HEIGHT[1])
        column = GridSpec(nrows * ncols, 1, figure=fig)
        for ax in axes:
            spec = ax.get_subplotspec()
            specs.append((ax, spec))
            ax.set_subplotspec(column[spec.rowspan.start * ncols + spec.colspan.start, 0])
        height = panel * nrows * ncols + 0.6 * bool(fig.legends) + 0.3
    else:
        height = size[1] * min(1.0, max(PHONE_WIDTH / size[0], 0.75))
    fig.set_size_inches(PHONE_WIDTH, height)
    try:
        # figure legends in two columns, or in one if two still stick out of the column
        for ncols in (2, 1):
            legends = _narrow_legends(fig, ncols=ncols)
            try:
                png = _tight_png(fig, dpi)
            finally:
                _restore_legends(fig, legends)
            if _png_width(png) <= 1.05 * PHONE_WIDTH * dpi:
                break
    finally:
        for ax, spec in specs:
            ax.set_subplotspec(spec)
        fig.set_size_inches(*size)
    return png


def _tight_png(fig: Figure, dpi: float) -> bytes:
    """The figure as a PNG cropped to its content, with :func:`legibility_metadata`."""
    import io

    buffer = io.BytesIO()
    fig.savefig(
        buffer, format="png", dpi=dpi, bbox_inches="tight", metadata=legibility_metadata(fig, dpi)
    )
    return buffer.getvalue()


def _png_width(png: bytes) -> int:
    """Width in pixels of a PNG (from its header)."""
    return struct.unpack(">I", png[16:20])[0]


def with_phone_rendition(png: bytes, phone: bytes) -> bytes:
    """``png`` with ``phone`` (another PNG) in a private chunk, just before ``IEND``.

    Viewers ignore the chunk; the book's build turns it into a ``<picture>`` source for
    narrow screens (see :func:`split_phone_rendition`).

    Examples
    --------
    >>> import io, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure(figsize=(1, 1))
    >>> buffer = io.BytesIO()
    >>> fig.savefig(buffer, format="png")
    >>> plain = buffer.getvalue()
    >>> both = with_phone_rendition(plain, plain)
    >>> split_phone_rendition(both) == (plain, plain)
    True
    >>> plt.close(fig)
    """
    end = png.rindex(b"IEND") - 4
    chunk = struct.pack(">I", len(phone)) + PHONE_CHUNK + phone
    chunk += struct.pack(">I", zlib.crc32(PHONE_CHUNK + phone) & 0xFFFFFFFF)
    return png[:end] + chunk + png[end:]


def split_phone_rendition(png: bytes) -> tuple[bytes, bytes | None]:
    """The PNG without its phone-rendition chunk, and the phone rendition (or ``None``).

    Examples
    --------
    >>> import io, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure(figsize=(1, 1))
    >>> buffer = io.BytesIO()
    >>> fig.savefig(buffer, format="png")
    >>> split_phone_rendition(buffer.getvalue())[1] is None
    True
    >>> plt.close(fig)
    """
    at = 8
    while at + 8 <= len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        if png[at + 4 : at + 8] == PHONE_CHUNK:
            return png[:at] + png[at + 12 + length :], png[at + 8 : at + 8 + length]
        at += 12 + length
    return png, None
