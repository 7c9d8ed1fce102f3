"""linnet.text: the numbers the prose quotes ({eval}`name` in the chapters)."""

from __future__ import annotations

import numpy as np
import pytest

from linnet.text import Quoted, format_value, quote


@pytest.mark.parametrize(
    ("value", "spec", "text"),
    [
        (1.234e-15, ".0e", "1e-15"),
        (0.5, ".2f", "0.50"),
        (12, ".0f", "12"),
        (3, "", "3"),
        ("1e-3", "s", "1e-3"),
        ("1000, 3000", "", "1000, 3000"),
        (np.float64(2.5), ".1f", "2.5"),
        (np.int64(7), "", "7"),
        (2.0, "d", "2"),
    ],
)
def test_format_value_as_myst_nb_glue_text(value, spec, text):
    assert format_value(value, spec) == text


def test_quoted_shows_its_text_without_quotes():
    q = quote(0.000123, ".1e")
    assert isinstance(q, str) and isinstance(q, Quoted)
    assert repr(q) == str(q) == "1.2e-04"
    assert q.value == 0.000123
    # what Jupyter sends as text/plain (IPython's pretty printer)
    from IPython.lib.pretty import pretty

    assert pretty(q) == "1.2e-04"


def test_quote_keeps_the_value_and_plain_scalars():
    q = quote(np.float64(1.5), ".1f")
    assert q == "1.5" and type(q.value) is float
    assert quote("a, b") == "a, b" and quote("a, b").value == "a, b"
