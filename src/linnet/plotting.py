"""One plotting style for the whole book (needs matplotlib; not imported by ``linnet``).

The palette is Okabe & Ito's colour-blind-safe set; depth ``N`` always gets the
same colour, so "depth 3" looks the same in every chapter.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

__all__ = ["COLUMN_WIDTH", "PALETTE", "depth_color", "use_book_style"]

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
    if get_ipython() is not None:
        set_matplotlib_formats("retina")
