"""SymPy helpers for the book's symbolic derivations (needs sympy; not imported by ``linnet``).

The chapters prove identities on small symbolic matrices.  These helpers build
the symbolic objects once, so that every chapter differentiates the same way:
the factor gradients come from SymPy's own entry-wise differentiation of
``<G, W_N ... W_1>``, never from the formula being checked.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sympy as sp

__all__ = [
    "Polar2x2",
    "end_to_end_matrix_field",
    "entrywise_layer_gradients",
    "field_jacobian_asymmetry",
    "nuclear_norm_potential_2x2",
    "polar_2x2",
    "psd_power_2x2",
    "sector_loop_integral_symbolic",
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
    r"""The end-to-end field :math:`F(w) = \|w\|^{2-2/N} (g + (N-1) \mathrm{Pr}_w g)`, in SymPy.

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


def sector_loop_integral_symbolic(
    F: sp.Matrix,
    x: sp.Symbol,
    y: sp.Symbol,
    radii: tuple[sp.Expr, sp.Expr],
    angles: tuple[sp.Expr, sp.Expr],
) -> sp.Expr:
    r"""Line integral of a planar field ``F(x, y)`` around an annular sector, in SymPy.

    The closed curve of the proof of Theorem 2 (§5 of the paper): the boundary of
    :math:`\{r_1 \le \rho \le r_2,\ \theta_1 \le \theta \le \theta_2\}`, counter-clockwise
    (outer arc, inward leg at :math:`\theta_2`, inner arc backwards, outward leg at
    :math:`\theta_1`), each piece integrated by SymPy.  The numerical twin is
    :func:`linnet.sector_loop_integral`.

    Examples
    --------
    The rotation field ``(-y, x)`` has curl 2: twice the area of the quarter disc.

    >>> x, y = sp.symbols("x y", real=True)
    >>> sector_loop_integral_symbolic(sp.Matrix([-y, x]), x, y, (0, 1), (0, sp.pi / 2))
    pi/2
    """
    if F.shape != (2, 1):
        raise ValueError(f"F must be a 2 x 1 column, got shape {F.shape}")
    r1, r2 = radii
    t1, t2 = angles
    rho = sp.Symbol("rho_", positive=True)
    theta = sp.Symbol("theta_", real=True)
    e_rho = sp.Matrix([sp.cos(theta), sp.sin(theta)])
    e_theta = sp.Matrix([-sp.sin(theta), sp.cos(theta)])
    polar = F.subs({x: rho * sp.cos(theta), y: rho * sp.sin(theta)}, simultaneous=True)

    def arc(r: sp.Expr) -> sp.Expr:
        integrand = sp.simplify(polar.dot(rho * e_theta).subs(rho, r))
        return sp.integrate(integrand, (theta, t1, t2))

    def leg(t: sp.Expr) -> sp.Expr:
        integrand = sp.simplify(polar.dot(e_rho).subs(theta, t))
        return sp.integrate(integrand, (rho, r1, r2))

    return arc(r2) - leg(t2) - arc(r1) + leg(t1)


def psd_power_2x2(A: sp.Matrix, p: sp.Expr | int) -> sp.Matrix:
    r"""The power :math:`A^p` of a symmetric positive definite :math:`2 \times 2` matrix, exactly.

    With the eigenvalues :math:`\lambda_\pm = (\tau \pm \sqrt{\tau^2 - 4\delta})/2`
    (:math:`\tau = \operatorname{tr} A`, :math:`\delta = \det A`), Sylvester's formula
    interpolates :math:`t \mapsto t^p` at the two eigenvalues:

    .. math::

       A^p = \lambda_-^p I + \frac{\lambda_+^p - \lambda_-^p}{\lambda_+ - \lambda_-}
             (A - \lambda_- I),

    valid when :math:`\lambda_+ \neq \lambda_-`; when ``A`` is numeric with equal
    eigenvalues, :math:`A = \lambda I` and :math:`A^p = \lambda^p I`.  These are the
    powers :math:`[W W^\top]^{(j-1)/N}`, :math:`[W^\top W]^{(N-j)/N}` of the end-to-end
    rule (Theorem 1, §4.1 of the paper).  At a matrix with rational eigenvalues whose
    ``p``-th powers are rational, the result is exact and rational.

    Examples
    --------
    >>> psd_power_2x2(sp.Matrix([[5, 4], [4, 5]]), sp.Rational(1, 2))
    Matrix([
    [2, 1],
    [1, 2]])
    """
    if A.shape != (2, 2) or sp.simplify(A[0, 1] - A[1, 0]) != 0:
        raise ValueError(f"A must be a symmetric 2 x 2 matrix, got {A.tolist()}")
    tau, delta = A.trace(), A.det()
    root = sp.sqrt(tau**2 - 4 * delta)
    if root == 0:  # numeric A = lambda I
        return (tau / 2) ** p * sp.eye(2)
    lam_plus, lam_minus = (tau + root) / 2, (tau - root) / 2
    slope = (lam_plus**p - lam_minus**p) / (lam_plus - lam_minus)
    return lam_minus**p * sp.eye(2) + slope * (A - lam_minus * sp.eye(2))


def end_to_end_matrix_field(W: sp.Matrix, G: sp.Matrix, depth: int) -> sp.Matrix:
    r"""The matrix end-to-end field for a :math:`2 \times 2` end-to-end matrix, in SymPy.

    .. math::

       F(W) = \sum_{j=1}^{N} [W W^\top]^{\frac{j-1}{N}}\, G\, [W^\top W]^{\frac{N-j}{N}},

    the direction of the end-to-end rule of Theorem 1 (§4.1 of the paper), whose
    single-output form Theorem 2 (§5) studies; the fractional powers come from
    :func:`psd_power_2x2` (so ``W`` must have distinct singular values, or be numeric).
    ``G`` is the gradient :math:`\nabla L^1(W)`, a constant or an expression in ``W``.
    The numerical twin is :func:`linnet.end_to_end_field`.

    Examples
    --------
    Depth 1 is gradient descent; depth 2 at :math:`W = \mathrm{diag}(2, 1)`:

    >>> W, G = sp.diag(2, 1), sp.Matrix([[0, 1], [0, 0]])
    >>> end_to_end_matrix_field(W, G, 1) == G
    True
    >>> end_to_end_matrix_field(W, G, 2)
    Matrix([
    [0, 3],
    [0, 0]])
    """
    if W.shape != (2, 2) or G.shape != (2, 2):
        raise ValueError(f"W and G must be 2 x 2, got {W.shape} and {G.shape}")
    if not (isinstance(depth, int) and depth >= 1):
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    field = sp.zeros(2, 2)
    for j in range(1, depth + 1):
        left, right = sp.Rational(j - 1, depth), sp.Rational(depth - j, depth)
        field += (
            (sp.eye(2) if left == 0 else psd_power_2x2(W * W.T, left))
            * G
            * (sp.eye(2) if right == 0 else psd_power_2x2(W.T * W, right))
        )
    return field


def _power_derivatives(M: sp.Matrix, dM: sp.Matrix, p: sp.Rational) -> tuple[sp.Matrix, sp.Matrix]:
    """``M^p`` and its derivative along ``dM``, exactly (``M`` numeric, ``p != 0``)."""
    if p == 0:
        return sp.eye(2), sp.zeros(2, 2)
    s = sp.Symbol("s", real=True)
    power = psd_power_2x2(M + s * dM, p)
    value = power.subs(s, 0).applyfunc(sp.radsimp)
    slope = power.diff(s).subs(s, 0).applyfunc(sp.radsimp)
    return value, slope


def field_jacobian_asymmetry(W0: sp.Matrix, G: sp.Matrix, depth: int) -> sp.Matrix:
    r"""The exact antisymmetric part :math:`J - J^\top` of the matrix field's Jacobian at ``W0``.

    :math:`J_{ab} = \partial F_a / \partial W_b` for the entries of
    :func:`end_to_end_matrix_field` (constant ``G``) in row-major order: column
    :math:`b` is the derivative of :math:`s \mapsto F(W_0 + s E_b)` at :math:`s = 0`,
    by the product rule from the exact derivatives of the closed-form powers
    :func:`psd_power_2x2`.  A :math:`C^1` gradient field has a symmetric Jacobian
    (symmetry of second derivatives), so a non-zero entry certifies that the field
    is not a gradient on any neighbourhood of ``W0``; entry :math:`(a, b)` is minus the
    curl in the plane of :math:`E_a, E_b`.  This is the book's multi-output extension
    of Theorem 2 (§5 of the paper).  ``W0`` must be numeric (exact rationals give an
    exact answer) with distinct singular values; ``G`` may contain symbols (the
    result is linear in them).

    Examples
    --------
    Depth 1 (:math:`F = G`) has Jacobian zero; depth 2 does not:

    >>> W0, G = sp.Matrix([[6, -4], [8, 3]]) / 5, sp.Matrix([[1, 0], [0, 0]])
    >>> field_jacobian_asymmetry(W0, G, 1) == sp.zeros(4, 4)
    True
    >>> field_jacobian_asymmetry(W0, G, 2)[0, 1]
    -164/375
    """
    if W0.shape != (2, 2) or W0.free_symbols:
        raise ValueError(f"W0 must be a numeric 2 x 2 matrix, got {W0}")
    if not (isinstance(depth, int) and depth >= 1):
        raise ValueError(f"depth must be an integer >= 1, got {depth!r}")
    columns = []
    for b in range(4):
        E = sp.zeros(2, 2)
        E[b] = 1
        dF = sp.zeros(2, 2)
        for j in range(1, depth + 1):
            left, right = sp.Rational(j - 1, depth), sp.Rational(depth - j, depth)
            A, dA = _power_derivatives(W0 * W0.T, E * W0.T + W0 * E.T, left)
            B, dB = _power_derivatives(W0.T * W0, E.T * W0 + W0.T * E, right)
            dF += dA * G * B + A * G * dB
        columns.append(list(dF))
    J = sp.Matrix(columns).T
    return (J - J.T).applyfunc(sp.expand)


class Polar2x2(NamedTuple):
    r"""The polar decomposition of a :math:`2 \times 2` matrix, exactly (:func:`polar_2x2`)."""

    #: :math:`\|W\|_* = \sigma_1 + \sigma_2`, the nuclear norm.
    nuclear_norm: sp.Expr
    #: The polar factor :math:`Q = U V^\top`, orthogonal with :math:`\det Q = \pm 1`.
    factor: sp.Matrix
    #: :math:`[W W^\top]^{1/2}`.
    left: sp.Matrix
    #: :math:`[W^\top W]^{1/2}`.
    right: sp.Matrix


def polar_2x2(W: sp.Matrix, sign: int = 1) -> Polar2x2:
    r"""Nuclear norm, polar factor and Gram square roots of a :math:`2 \times 2` ``W``, exactly.

    On the open set where :math:`\epsilon \det W > 0` (:math:`\epsilon` = ``sign``,
    :math:`\pm 1`), the singular values satisfy :math:`\sigma_1 \sigma_2 = \epsilon \det W`,
    so with :math:`s = \sigma_1 + \sigma_2`

    .. math::

       s &= \sqrt{\|W\|_F^2 + 2\epsilon \det W}, \\
       Q &= \frac{W + \epsilon \operatorname{cof} W}{s}, \\
       [W W^\top]^{1/2} &= \frac{W W^\top + \epsilon \det W\, I}{s}, \\
       [W^\top W]^{1/2} &= \frac{W^\top W + \epsilon \det W\, I}{s},

    by Cayley-Hamilton (:math:`S^2 - sS + \sigma_1\sigma_2 I = 0` for the square root
    :math:`S`, whose eigenvalues are :math:`\sigma_1, \sigma_2`); the cofactor matrix is
    :math:`\operatorname{cof} W = \det(W)\, W^{-\top}`, and :math:`Q = U V^\top` is the
    polar factor (:math:`W = Q\,[W^\top W]^{1/2}`), which is also the gradient of
    :math:`s`.  The square roots are the powers of the depth-2 end-to-end field (Theorem 1,
    §4.1 of the paper); the book uses them for its depth-2 potential, beyond the paper
    (chapter 8).  ``W`` may be symbolic: the formulas are then valid where
    :math:`\epsilon \det W > 0`, which the caller must ensure (SymPy cannot).

    Parameters
    ----------
    W : sympy.Matrix, shape (2, 2)
        Numbers or expressions.
    sign : {1, -1}, default 1
        The sign of :math:`\det W` on the region where the closed forms are used.

    Returns
    -------
    Polar2x2
        ``(nuclear_norm, factor, left, right)``: :math:`s`, :math:`Q`,
        :math:`[W W^\top]^{1/2}` and :math:`[W^\top W]^{1/2}`.

    Examples
    --------
    >>> polar = polar_2x2(sp.Matrix([[3, 0], [4, 5]]))  # singular values 3 sqrt(5), sqrt(5)
    >>> polar.nuclear_norm
    4*sqrt(5)
    >>> polar.right**2 == sp.Matrix([[25, 20], [20, 25]])
    True
    >>> polar.factor * polar.right == sp.Matrix([[3, 0], [4, 5]])
    True
    """
    if W.shape != (2, 2):
        raise ValueError(f"W must be 2 x 2, got shape {W.shape}")
    if sign not in (1, -1):
        raise ValueError(f"sign (of det W) must be 1 or -1, got {sign!r}")
    delta = sign * W.det()
    s = sp.sqrt((W.T * W).trace() + 2 * delta)
    return Polar2x2(
        nuclear_norm=s,
        factor=(W + sign * W.adjugate().T) / s,
        left=(W * W.T + delta * sp.eye(2)) / s,
        right=(W.T * W + delta * sp.eye(2)) / s,
    )


def nuclear_norm_potential_2x2(W: sp.Matrix, G: sp.Matrix, sign: int = 1) -> sp.Expr:
    r"""The potential :math:`\Phi_G(W) = \langle G, W \rangle \|W\|_*` of :math:`2 \times 2` ``W``.

    :math:`\|W\|_* = \sigma_1 + \sigma_2` in the closed form of :func:`polar_2x2`, valid
    where ``sign`` :math:`\cdot \det W > 0`.  The book's proposition (chapter 8, beyond
    §5 of the paper): at depth 2 the end-to-end field of a constant gradient :math:`G`
    is :math:`\nabla \Phi_G` on :math:`\det W > 0` when :math:`G` is symmetric and
    traceless, and on :math:`\det W < 0` when :math:`G` is a multiple of the identity plus
    an antisymmetric matrix.  It is the :math:`2 \times 2` analogue of the single-output
    potential :math:`\|w\| \langle w, g \rangle`.  The numerical twin is
    :func:`linnet.conservative.nuclear_norm_potential`.

    Parameters
    ----------
    W, G : sympy.Matrix, shape (2, 2)
        The point and the constant gradient (numbers or expressions).
    sign : {1, -1}, default 1
        The sign of :math:`\det W` on the region where the closed form is used.

    Returns
    -------
    sympy.Expr

    Examples
    --------
    >>> W, G = sp.diag(2, 1), sp.Matrix([[1, 0], [0, -1]])
    >>> nuclear_norm_potential_2x2(W, G)  # <G, W> = 1, sigma_1 + sigma_2 = 3
    3
    """
    if G.shape != (2, 2):
        raise ValueError(f"G must be 2 x 2, got shape {G.shape}")
    return (G.T * W).trace() * polar_2x2(W, sign).nuclear_norm
