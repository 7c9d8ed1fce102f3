"""Figures for the column: legibility metadata and phone renditions (linnet.plotting)."""

from __future__ import annotations

import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pytest
from PIL import Image

from linnet.plotting import (
    PHONE_COLUMN_PX,
    PHONE_WIDTH,
    phone_png,
    png_text_chunks,
    screen_text_px,
    split_phone_rendition,
    use_book_style,
    with_phone_rendition,
)


def size(png: bytes) -> tuple[int, int]:
    return Image.open(io.BytesIO(png)).size


@pytest.fixture
def three_panels():
    use_book_style()
    fig, axes = plt.subplots(1, 3, figsize=(6.6, 3.0))
    for ax in axes:
        ax.plot([0, 1], [1, 0], label="a")
        ax.set_xlabel("steps")
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncols=3)
    yield fig
    plt.close(fig)


def test_phone_rendition_stacks_a_row_of_panels(three_panels):
    png = phone_png(three_panels, dpi=200)
    width, height = size(png)
    assert width <= 1.1 * PHONE_WIDTH * 200  # "tight" may add a few px of margin
    assert height > 2 * width  # three panels, one above the other


def test_phone_rendition_text_is_legible_in_a_phone_column(three_panels):
    png = phone_png(three_panels, dpi=200)
    chunks = png_text_chunks(png)
    px = screen_text_px(
        float(chunks["linnet:min-font-pt"]),
        size(png)[0],
        float(chunks["linnet:dpi"]),
        PHONE_COLUMN_PX,
    )
    assert px >= 9


def render(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    return buffer.getvalue()


def test_the_figure_is_restored_after_its_phone_rendition(three_panels):
    before = render(three_panels)
    phone_png(three_panels, dpi=100)
    assert three_panels.get_size_inches().tolist() == [6.6, 3.0]
    assert render(three_panels) == before  # layout, size and legend as they were


def test_a_two_by_two_grid_keeps_its_columns_and_gets_a_narrow_legend():
    fig, axes = plt.subplots(2, 2, figsize=(6.6, 4.4))
    for k in range(5):
        axes[0, 0].plot([0, 1], [k, 0], label=f"method {k}")
    fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="outside lower center", ncols=5)
    width, height = size(phone_png(fig, dpi=100))
    plt.close(fig)
    assert width <= 1.1 * PHONE_WIDTH * 100  # five legend entries in two columns fit
    assert height < 1.5 * width


def test_the_desktop_figure_would_be_too_small_on_a_phone(three_panels):
    # the reason for the phone rendition: 9 pt in a 6.6 in figure shown 342 px wide
    assert screen_text_px(9, 1320, 200, PHONE_COLUMN_PX) < 9


def test_phone_chunk_round_trips_and_png_stays_readable(three_panels):
    buffer = io.BytesIO()
    three_panels.savefig(buffer, format="png", dpi=50)
    desktop, phone = buffer.getvalue(), phone_png(three_panels, dpi=50)
    both = with_phone_rendition(desktop, phone)
    assert size(both) == size(desktop)  # viewers ignore the private chunk
    assert split_phone_rendition(both) == (desktop, phone)


def test_split_refuses_nothing_but_returns_none_without_a_rendition(three_panels):
    buffer = io.BytesIO()
    three_panels.savefig(buffer, format="png", dpi=50)
    assert split_phone_rendition(buffer.getvalue())[1] is None


def test_a_legend_too_wide_for_two_columns_gets_one():
    fig, ax = plt.subplots(figsize=(6.6, 3.4))
    for k in range(4):
        ax.plot([0, 1], [k, 0], label=f"overparameterized (product scale), rate {k}")
    fig.legend(loc="outside lower center", ncol=2)
    width, _ = size(phone_png(fig, dpi=100))
    plt.close(fig)
    assert width <= 1.05 * PHONE_WIDTH * 100
