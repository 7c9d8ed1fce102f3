"""One plotting style for the whole book (needs matplotlib; not imported by ``linnet``).

The palette is Okabe & Ito's colour-blind-safe set; depth ``N`` always gets the
same colour, so "depth 3" looks the same in every chapter.
"""

from __future__ import annotations

import matplotlib as mpl
from cycler import cycler

__all__ = ["PALETTE", "depth_color", "use_book_style"]

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


def use_book_style() -> None:
    """Set matplotlib's rcParams to the book's style (sizes, palette, grid, fonts)."""
    mpl.rcParams.update(
        {
            "figure.figsize": (7.0, 3.6),
            "figure.dpi": 100,
            "savefig.dpi": 100,
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
