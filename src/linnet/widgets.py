"""Widgets that work live in Jupyter *and* respond in the static HTML book.

A static page has no kernel, so a Python callback can never run there.
:func:`precomputed_explorer` therefore renders a figure for every point of a
small grid of control values when the notebook is executed, and switches
between them in the browser: each slider's ``index`` is linked client-side
(``jslink``) to the ``selected_index`` of a ``Stack`` of picture frames.
:func:`live_explorer` is the ordinary kernel-backed version for Jupyter.

Needs ``ipywidgets`` and ``matplotlib`` (not imported by ``linnet`` itself).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import ipywidgets as widgets
import matplotlib.pyplot as plt
from matplotlib.figure import Figure

__all__ = ["figure_png", "live_explorer", "precomputed_explorer"]

STATIC_NOTE = (
    "Figures for these slider values were computed when the book was built. "
    "Run the notebook in Jupyter for the live version, which accepts any value."
)


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """The PNG bytes of a matplotlib figure; the figure is closed afterwards."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    plt.close(fig)
    return buffer.getvalue()


def _check_controls(controls: Mapping[str, Sequence[Any]]) -> None:
    if not controls:
        raise ValueError("controls must name at least one control and its values")
    for name, values in controls.items():
        if len(values) < 2:
            raise ValueError(f"control {name!r} needs at least two values, got {list(values)}")


def precomputed_explorer(
    render: Callable[..., Figure],
    controls: Mapping[str, Sequence[Any]],
    labels: Mapping[str, str] | None = None,
    dpi: int = 80,
    note: str = STATIC_NOTE,
    alt: str = "Precomputed figure",
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
    dpi : int, default 80
        Resolution of the embedded images.
    note : str
        Shown under the sliders, saying that the figures are precomputed.
    alt : str
        Start of each image's alternative text; the control values are appended.

    Returns
    -------
    ipywidgets.VBox
        Sliders, the note, and nested ``Stack`` widgets whose leaves are ``HTML``
        widgets holding one PNG each (with alt text).
    """
    _check_controls(controls)
    names = list(controls)
    labels = dict(labels or {})
    sliders = [
        widgets.SelectionSlider(
            options=[(f"{v:g}" if isinstance(v, float) else str(v), v) for v in controls[name]],
            value=controls[name][0],
            description=labels.get(name, name),
            continuous_update=True,
            style={"description_width": "initial"},
            layout=widgets.Layout(width="420px"),
        )
        for name in names
    ]

    def build(level: int, chosen: dict[str, Any]) -> widgets.Widget:
        if level == len(names):
            described = ", ".join(f"{labels.get(k, k)} = {v}" for k, v in chosen.items())
            png = base64.b64encode(figure_png(render(**chosen), dpi=dpi)).decode("ascii")
            text = html.escape(f"{alt} ({described})", quote=True)
            # An HTML widget (not Image) so that the picture carries its own alt text.
            return widgets.HTML(
                f'<img class="linnet-frame" src="data:image/png;base64,{png}" alt="{text}">'
            )
        name = names[level]
        children = [build(level + 1, {**chosen, name: v}) for v in controls[name]]
        stack = widgets.Stack(children=children, selected_index=0)
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
    """
    if not controls:
        raise ValueError("controls must name at least one widget")
    output = widgets.Output()

    def update(**values: Any) -> None:
        with output:
            output.clear_output(wait=True)
            try:
                fig = render(**values)
            except (ArithmeticError, ValueError) as error:  # e.g. DivergenceError: say why
                print(f"No figure for {values}: {error}")
                return
            display_figure(fig)

    widgets.interactive_output(update, dict(controls))
    return widgets.VBox([*controls.values(), output])


def display_figure(fig: Figure) -> None:
    """Display ``fig`` in the current output and close it."""
    from IPython.display import display

    display(fig)
    plt.close(fig)
