"""SymPy helpers for the book's symbolic derivations (needs sympy; not imported by ``linnet``).

The chapters prove identities on small symbolic matrices.  These helpers build
the symbolic objects once, so that every chapter differentiates the same way:
the factor gradients come from SymPy's own entry-wise differentiation of
``<G, W_N ... W_1>``, never from the formula being checked.
"""

from __future__ import annotations

from collections.abc import Sequence

import sympy as sp

__all__ = [
    "entrywise_layer_gradients",
    "single_output_field",
    "symbolic_factors",
    "symbolic_matrix",
    "symbolic_product",
    "symbolic_rotation",
    "vanishes_modulo",
]


def symbolic_matrix(name: str, rows: int, cols: int, **assumptions: bool) -> sp.Matrix:
    """A ``rows x cols`` matrix of symbols ``name_ij`` (1-based indices).

    Examples
    --------
    >>> symbolic_matrix("a", 1, 2)
    Matrix([[a_11, a_12]])
    """
    return sp.Matrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}", **assumptions))


def symbolic_factors(shapes: Sequence[tuple[int, int]], name: str = "w") -> list[sp.Matrix]:
    r"""Symbolic factors ``[W_1, ..., W_N]``; :math:`W_j` has shape ``shapes[j-1]``.

    ``shapes[j-1]`` is :math:`(n_j, n_{j-1})`, so consecutive shapes must chain.

    Examples
    --------
    >>> [W.shape for W in symbolic_factors([(3, 2), (1, 3)])]
    [(3, 2), (1, 3)]
    """
    for j in range(1, len(shapes)):
        if shapes[j][1] != shapes[j - 1][0]:
            raise ValueError(f"shapes do not chain: {shapes[j - 1]} then {shapes[j]}")
    return [symbolic_matrix(f"{name}{j + 1}", *shape, real=True) for j, shape in enumerate(shapes)]


def symbolic_product(mats: Sequence[sp.Matrix], size: int) -> sp.Matrix:
    """``mats[-1] * ... * mats[0]``, or the ``size x size`` identity when ``mats`` is empty.

    Examples
    --------
    >>> symbolic_product([], 2)
    Matrix([
    [1, 0],
    [0, 1]])
    """
    result = sp.eye(size)
    for mat in mats:
        result = mat * result
    return result


def entrywise_layer_gradients(factors: Sequence[sp.Matrix], G: sp.Matrix) -> list[sp.Matrix]:
    r"""Factor gradients :math:`\partial L^N / \partial W_j` of a linear loss, entry by entry.

    The loss is :math:`L^1(W) = \langle G, W \rangle`; SymPy differentiates every
    entry.  By the chain rule only the gradient :math:`G` of :math:`L^1` at
    :math:`W_e` enters the gradient of each factor, so the linear loss with a
    symbolic :math:`G` stands for any differentiable :math:`L^1`.

    Examples
    --------
    >>> W1, W2 = symbolic_factors([(1, 1), (1, 1)])
    >>> g = sp.Symbol("g")
    >>> entrywise_layer_gradients([W1, W2], sp.Matrix([[g]]))
    [Matrix([[g*w2_11]]), Matrix([[g*w1_11]])]
    """
    W_e = symbolic_product(factors, factors[0].shape[1])
    if G.shape != W_e.shape:
        raise ValueError(f"G must have the shape of W_e, {W_e.shape}, got {G.shape}")
    loss = (G.T * W_e).trace()
    return [W.applyfunc(lambda entry: sp.diff(loss, entry)) for W in factors]


def single_output_field(w: sp.Matrix, g: sp.Matrix, depth: sp.Expr | int) -> sp.Matrix:
    r"""The end-to-end field ``F(w) = |w|^{2-2/N} (g + (N-1) Pr_w g)`` as a SymPy column.

    The single-output form of the end-to-end update rule (§4.2 of the paper) that
    Theorem 2 (§5) studies; ``w`` and ``g`` are ``d x 1`` columns of expressions (``g``
    may itself depend on ``w``), ``depth`` a number or a symbol.  The numerical twin is
    :func:`linnet.end_to_end_field`.

    Examples
    --------
    >>> x, y = sp.symbols("x y", real=True)
    >>> single_output_field(sp.Matrix([x, y]), sp.Matrix([1, 0]), 1).T
    Matrix([[1, 0]])
    """
    if w.shape != g.shape or w.shape[1] != 1:
        raise ValueError(f"w and g must be columns of one shape, got {w.shape} and {g.shape}")
    sq_norm = (w.T * w)[0, 0]
    along = (w.T * g)[0, 0] / sq_norm * w
    return (sq_norm ** (1 - sp.Integer(1) / depth) * (g + (depth - 1) * along)).applyfunc(
        sp.simplify
    )


def symbolic_rotation(index: int) -> tuple[sp.Matrix, sp.Expr]:
    r"""A symbolic :math:`2 \times 2` rotation and the constraint its entries satisfy.

    Returns :math:`R_i = \begin{pmatrix} c_i & -s_i \\ s_i & c_i \end{pmatrix}` with real
    symbols ``c_i``, ``s_i`` and the polynomial :math:`c_i^2 + s_i^2 - 1`, which vanishes
    exactly when :math:`R_i` is a rotation.  Pass the constraints to
    :func:`vanishes_modulo` to decide identities that hold for every rotation.

    Examples
    --------
    >>> R, constraint = symbolic_rotation(0)
    >>> R
    Matrix([
    [c_0, -s_0],
    [s_0,  c_0]])
    >>> constraint
    c_0**2 + s_0**2 - 1
    """
    c, s = sp.symbols(f"c_{index} s_{index}", real=True)
    return sp.Matrix([[c, -s], [s, c]]), c**2 + s**2 - 1


def vanishes_modulo(matrix: sp.Matrix, constraints: Sequence[sp.Expr]) -> bool:
    r"""Whether every entry of a polynomial ``matrix`` is zero modulo ``constraints``.

    Each entry is expanded and reduced (``sympy.reduced``) by the constraints
    :math:`c_i^2 + s_i^2 - 1` of :func:`symbolic_rotation`.  These form a Gröbner
    basis (their leading terms :math:`c_i^2` are pairwise coprime), so a zero
    remainder means the entry vanishes for *every* choice of the rotations, and a
    non-zero remainder means it does not.

    Examples
    --------
    >>> R, constraint = symbolic_rotation(1)
    >>> vanishes_modulo(R.T * R - sp.eye(2), [constraint])
    True
    >>> vanishes_modulo(R - sp.eye(2), [constraint])
    False
    """
    entries = [sp.expand(entry) for entry in matrix]
    symbols = set().union(*(e.free_symbols for e in [*entries, *constraints]))
    gens = sorted(symbols, key=str)
    return all(sp.reduced(e, list(constraints), *gens)[1] == 0 for e in entries if e != 0)
