"""Widgets that work live in Jupyter *and* respond in the static HTML book.

A static page has no kernel, so a Python callback can never run there.
:func:`precomputed_explorer` therefore renders a figure for every point of a
small grid of control values when the notebook is executed, and switches
between them in the browser: each slider's ``index`` is linked client-side
(``jslink``) to the ``selected_index`` of a ``Stack`` of picture frames.
:func:`live_explorer` is the ordinary kernel-backed version for Jupyter.

Chapters call :func:`explorer`, once per figure: it gives the live controls in
a kernel session and the precomputed frames when the book is built (``make
book`` sets the environment variable ``LINNET_STATIC_WIDGETS=1``).

Needs ``ipywidgets`` and ``matplotlib`` (not imported by ``linnet`` itself).
"""

from __future__ import annotations

import base64
import html
import io
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

from linnet.plotting import legibility_metadata, phone_png, with_phone_rendition

__all__ = ["STATIC_ENV", "explorer", "figure_png", "live_explorer", "precomputed_explorer"]

#: The environment variable that ``make book`` sets to ``"1"`` so that widgets are precomputed.
STATIC_ENV = "LINNET_STATIC_WIDGETS"

STATIC_NOTE = (
    "Figures for these slider values were computed when the book was built. "
    "Run the notebook in Jupyter for the live version, which accepts any value."
)


#: Width of the controls' descriptions, so that labels such as "learning rate" are not cut.
DESCRIPTION_WIDTH = "10em"


def figure_png(fig: Figure, dpi: int = 200) -> tuple[bytes, int]:
    """The PNG bytes of a matplotlib figure and its CSS width in pixels.

    The picture is rendered at ``dpi`` (200 by default: twice the 100 dpi at which it is
    displayed, for HiDPI screens, like the book's inline figures); the returned width is the
    displayed one, the figure's width in inches times 100, so that a figure of the column's
    width fills the column. The PNG carries the figure's phone rendition
    (:func:`linnet.plotting.phone_png`), which the book's site shows on narrow screens. The
    figure is closed afterwards.
    """
    buffer = io.BytesIO()
    css_width = round(fig.get_figwidth() * 100)
    fig.savefig(buffer, format="png", dpi=dpi, metadata=legibility_metadata(fig, dpi))
    png = with_phone_rendition(buffer.getvalue(), phone_png(fig, dpi=dpi))
    plt.close(fig)
    return png, css_width


def _check_controls(controls: Mapping[str, Sequence[Any]]) -> None:
    if not controls:
        raise ValueError("controls must name at least one control and its values")
    for name, values in controls.items():
        if len(values) < 2:
            raise ValueError(f"control {name!r} needs at least two values, got {list(values)}")


def _start_values(
    controls: Mapping[str, Sequence[Any]], start: Mapping[str, Any] | None
) -> dict[str, Any]:
    """The value each control opens on: ``start[name]`` if given, else its first value."""
    start = dict(start or {})
    unknown = set(start) - set(controls)
    if unknown:
        raise ValueError(f"start names no control: {sorted(unknown)}")
    for name, value in start.items():
        if value not in list(controls[name]):
            raise ValueError(
                f"start value {value!r} of {name!r} is not one of {list(controls[name])}"
            )
    return {name: start.get(name, values[0]) for name, values in controls.items()}


def precomputed_explorer(
    render: Callable[..., Figure],
    controls: Mapping[str, Sequence[Any]],
    labels: Mapping[str, str] | None = None,
    dpi: int = 200,
    note: str = STATIC_NOTE,
    alt: str = "Precomputed figure",
    start: Mapping[str, Any] | None = None,
) -> widgets.VBox:
    """Sliders over a grid of values, switching between precomputed figures client-side.

    Parameters
    ----------
    render : callable
        ``render(**values) -> matplotlib.figure.Figure`` for one value of every
        control; called once per grid point (so keep the grid small: the PNGs
        are embedded in the page).
    controls : mapping of str to sequence
        Control name -> the values its slider offers (at least two each).
    labels : mapping of str to str, optional
        Slider descriptions (plain text: widget labels are not typeset).
    dpi : int, default 200
        Resolution of the embedded images (twice their displayed resolution, for HiDPI
        screens).
    note : str
        Shown under the sliders, saying that the figures are precomputed.
    alt : str
        Start of each image's alternative text; the control values are appended.
    start : mapping of str to value, optional
        The grid value each control opens on (by default its first value).

    Returns
    -------
    ipywidgets.VBox
        Sliders, the note, and nested ``Stack`` widgets whose leaves are ``HTML``
        widgets holding one PNG each (with alt text).
    """
    _check_controls(controls)
    names = list(controls)
    labels = dict(labels or {})
    opening = _start_values(controls, start)
    sliders = [
        widgets.SelectionSlider(
            options=[(f"{v:g}" if isinstance(v, float) else str(v), v) for v in controls[name]],
            value=opening[name],
            description=labels.get(name, name),
            continuous_update=True,
            style={"description_width": DESCRIPTION_WIDTH},
            layout=widgets.Layout(width="100%", max_width="460px"),
        )
        for name in names
    ]

    def build(level: int, chosen: dict[str, Any]) -> widgets.Widget:
        if level == len(names):
            described = ", ".join(f"{labels.get(k, k)} = {v}" for k, v in chosen.items())
            png, width = figure_png(render(**chosen), dpi=dpi)
            data = base64.b64encode(png).decode("ascii")
            text = html.escape(f"{alt} ({described})", quote=True)
            # An HTML widget (not Image) so that the picture carries its own alt text.
            return widgets.HTML(
                f'<img class="linnet-frame" src="data:image/png;base64,{data}" alt="{text}" '
                f'style="width: 100%; max-width: {width}px; height: auto">'
            )
        name = names[level]
        children = [build(level + 1, {**chosen, name: v}) for v in controls[name]]
        first = list(controls[name]).index(opening[name])
        stack = widgets.Stack(children=children, selected_index=first)
        widgets.jslink((sliders[level], "index"), (stack, "selected_index"))
        return stack

    frames = build(0, {})
    caption = widgets.HTML(f"<small><em>{note}</em></small>")
    return widgets.VBox([*sliders, caption, frames])


def live_explorer(
    render: Callable[..., Figure],
    controls: Mapping[str, widgets.ValueWidget],
) -> widgets.VBox:
    """Kernel-backed controls that call ``render`` on every change (Jupyter only).

    ``render(**values)`` returns a figure, which is shown in an ``Output``
    widget.  Give slow controls ``continuous_update=False``.

    The figure is put into the widget's ``outputs`` directly
    (``ipywidgets.Output.append_display_data``), never by capturing the cell's output
    with ``with output:``.  Capturing makes a headless executor (``jupyter nbconvert
    --execute``, nbclient) mirror the widget by sending messages to the kernel on the
    channel on which it awaits the cell's reply, and that wait can then miss the reply and
    hang until its time-out; a notebook run without a front end must never wait on one.
    """
    if not controls:
        raise ValueError("controls must name at least one widget")
    output = widgets.Output()

    def update(_change: Any = None) -> None:
        values = {name: control.value for name, control in controls.items()}
        try:
            fig = render(**values)
        except (ArithmeticError, ValueError) as error:  # e.g. DivergenceError: say why
            output.outputs = ()
            output.append_stdout(f"No figure for {values}: {error}\n")
            return
        output.outputs = ()
        output.append_display_data(fig)
        plt.close(fig)

    for control in controls.values():
        control.observe(update, names="value")
    update()
    return widgets.VBox([*controls.values(), output])


def _live_control(name: str, values: Sequence[Any], label: str, value: Any) -> widgets.ValueWidget:
    """A kernel-backed slider over ``values`` opening on ``value`` (default live control)."""
    return widgets.SelectionSlider(
        options=[(f"{v:g}" if isinstance(v, float) else str(v), v) for v in values],
        value=value,
        description=label,
        continuous_update=False,
        style={"description_width": DESCRIPTION_WIDTH},
        layout=widgets.Layout(width="100%", max_width="460px"),
    )


def explorer(
    render: Callable[..., Figure],
    grid: Mapping[str, Sequence[Any]],
    *,
    live: Mapping[str, widgets.ValueWidget] | None = None,
    labels: Mapping[str, str] | None = None,
    alt: str = "Precomputed figure",
    static: bool | None = None,
    start: Mapping[str, Any] | None = None,
) -> widgets.VBox:
    """One explorer cell for both worlds: live in Jupyter, precomputed in the built book.

    Parameters
    ----------
    render : callable
        ``render(**values) -> matplotlib.figure.Figure``; a thin wrapper around tested
        ``linnet`` functions.
    grid : mapping of str to sequence
        Control name -> the values precomputed for the static page (at least two each).
    live : mapping of str to ipywidgets.ValueWidget, optional
        Kernel-backed controls for Jupyter (any value, not only the grid's). By default a
        ``SelectionSlider`` over each control's grid values, with
        ``continuous_update=False``. Live widgets given here should open on the same
        values as ``start``, so that both versions open on the same frame.
    labels : mapping of str to str, optional
        Plain-text descriptions of the controls.
    alt : str
        Start of the alternative text of every precomputed picture.
    static : bool, optional
        Force one version; by default precomputed iff the environment variable
        ``LINNET_STATIC_WIDGETS`` is ``"1"`` (``make book`` sets it).
    start : mapping of str to value, optional
        The grid value each control opens on, in both versions: the chapter's most telling
        frame. By default each control's first value.

    Returns
    -------
    ipywidgets.VBox
    """
    _check_controls(grid)
    labels = dict(labels or {})
    opening = _start_values(grid, start)
    if static is None:
        static = os.environ.get(STATIC_ENV) == "1"
    if static:
        return precomputed_explorer(render, grid, labels=labels, alt=alt, start=opening)
    controls = (
        dict(live)
        if live is not None
        else {
            name: _live_control(name, values, labels.get(name, name), opening[name])
            for name, values in grid.items()
        }
    )
    for control in controls.values():
        control.style.description_width = DESCRIPTION_WIDTH
    return live_explorer(render, controls)
