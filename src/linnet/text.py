"""Numbers quoted in the book's prose, formatted once and shown as plain text.

A chapter quotes a measured number in its Markdown with an inline expression,
``{eval}`ch4_spectrum_error```, evaluated by the kernel that ran the chapter: by myst-nb
when the book is built (``nb_execution_mode: inline``) and by ``jupyterlab-myst`` when a
reader runs the chapter in JupyterLab. Both show the value's ``text/plain``
representation, so a Python ``str`` would appear with quotes and a float with all its
digits. :func:`quote` binds the name to a :class:`Quoted` value whose representation is
the formatted text::

    ch4_spectrum_error = quote(float(spectrum_error), ".0e")

The format specification is Python's; its last letter decides whether the value is
formatted as a number or as a string (as myst-nb's ``{glue:text}`` role did).

Both renderers evaluate a Markdown cell's expressions when they reach it, so a chapter
binds every name it quotes in a code cell above the prose (``tests/test_book.py`` checks the
order). Chapter 9 recomputes the numbers it quotes from other chapters through ``linnet``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["Quoted", "format_value", "quote"]


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python scalar it holds; anything else unchanged."""
    item = getattr(value, "item", None)
    if callable(item) and getattr(value, "shape", None) == ():
        return item()
    return value


def format_value(value: Any, spec: str = "") -> str:
    """Format ``value`` by a format specification, as a number or as text.

    Parameters
    ----------
    value : object
        A number, a string or a NumPy scalar.
    spec : str, optional
        A format specification (``".2f"``, ``".0e"``, ``"s"``, ...); empty for ``str``.

    Returns
    -------
    str
        The text the prose shows.

    Examples
    --------
    >>> format_value(0.000123, ".1e")
    '1.2e-04'
    >>> format_value(3, ".2f"), format_value("1e-3", "s"), format_value(7)
    ('3.00', '1e-3', '7')
    """
    value = _plain(value)
    if spec == "":
        return str(value)
    kind = spec[-1]
    if kind == "s":
        value = str(value)
    elif kind in "bcdoxX":
        value = int(value)
    elif kind in "eEfFgGn%":
        value = float(value)
    return format(value, spec)


class Quoted(str):
    """Text quoted in the prose: a ``str`` whose representation is the text itself.

    ``repr`` (and so Jupyter's ``text/plain``) shows the text without quotes; the value
    it was formatted from stays available as ``value``.

    Parameters
    ----------
    text : str
        The formatted text.
    value : object, optional
        The value it was formatted from.

    Attributes
    ----------
    value : object
        The value the text was formatted from.

    Examples
    --------
    >>> q = Quoted("1e-15", 1.2e-15)
    >>> q
    1e-15
    >>> q.value, str(q) == "1e-15"
    (1.2e-15, True)
    """

    value: Any

    def __new__(cls, text: str, value: Any = None) -> Quoted:
        obj = super().__new__(cls, text)
        obj.value = text if value is None else value
        return obj

    def __repr__(self) -> str:
        return str(self)

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


def quote(value: Any, spec: str = "") -> Quoted:
    """Format a value for the prose: the text an ``{eval}`` role shows.

    Parameters
    ----------
    value : object
        A number, a string or a NumPy scalar.
    spec : str, optional
        A format specification (``".2f"``, ``".0e"``, ``"s"``, ...).

    Returns
    -------
    Quoted
        The formatted text, shown without quotes by Jupyter and the book.

    Examples
    --------
    >>> quote(0.0123456, ".2e")
    1.23e-02
    >>> quote(12.0, ".0f").value
    12.0
    """
    value = _plain(value)
    return Quoted(format_value(value, spec), value)
