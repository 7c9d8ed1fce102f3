r"""The single-output case (Section 4.2 of the paper, Claim 2), term by term.

For one output the end-to-end matrix is a row ``W_e = w^T`` and the end-to-end
update rule (Theorem 1) becomes (Claim 2)

.. math::

   w \leftarrow (1 - \eta\lambda N)\, w
     - \eta \|w\|_2^{2 - 2/N} \big(\nabla L(w) + (N - 1)\, \mathrm{Pr}_w(\nabla L(w))\big),

with :math:`\mathrm{Pr}_w` the orthogonal projection onto the line spanned by
``w`` (:func:`project_along`). :func:`linnet.single_output_update` applies it;
:func:`single_output_terms` returns its two ingredients separately: the adaptive
learning rate and the amplified component along ``w``.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import FloatArray, as_depth, as_finite_array, as_lr, same_shape

__all__ = ["SingleOutputTerms", "project_along", "single_output_terms"]


def project_along(w: ArrayLike, g: ArrayLike) -> FloatArray:
    r"""The orthogonal projection :math:`\mathrm{Pr}_w(g)` of ``g`` onto the line of ``w``.

    .. math::

       \mathrm{Pr}_w(g) = \frac{w^\top g}{\|w\|_2^2}\, w \quad (w \ne 0),
       \qquad \mathrm{Pr}_0(g) = 0 ,

    the convention of Section 4.2 of the paper (Claim 2). ``Pr_w`` is linear,
    symmetric and idempotent, and ``g - Pr_w(g)`` is orthogonal to ``w``.

    Parameters
    ----------
    w, g : array_like, shape (d,)

    Returns
    -------
    ndarray, shape (d,)

    Examples
    --------
    >>> project_along(np.array([2.0, 0.0]), np.array([3.0, 4.0]))
    array([3., 0.])
    >>> project_along(np.zeros(2), np.array([3.0, 4.0]))
    array([0., 0.])
    """
    vec_w = as_finite_array("w", w, 1)
    vec_g = as_finite_array("g", g, 1)
    same_shape("g", vec_g, vec_w.shape, "w")
    sq_norm = float(vec_w @ vec_w)
    if sq_norm == 0:
        return np.zeros_like(vec_w)
    return (vec_w @ vec_g) / sq_norm * vec_w


class SingleOutputTerms(NamedTuple):
    r"""The ingredients of one single-output step (Claim 2 of the paper).

    :math:`w' = (1 - \eta\lambda N)\, w - \text{rate} \cdot (\text{gradient} + (N - 1)\,
    \text{along\_w})`.
    """

    rate: float
    gradient: FloatArray
    along_w: FloatArray


def single_output_terms(w: ArrayLike, grad: ArrayLike, depth: int, lr: float) -> SingleOutputTerms:
    r"""Split the single-output update rule (Claim 2 of the paper) into its ingredients.

    * the **adaptive learning rate** :math:`\rho = \eta \|w\|_2^{2-2/N}` (:math:`0^0 = 1`),
      tiny near :math:`w = 0` for :math:`N \ge 2` and growing as ``w`` grows;
    * the **gradient** :math:`\nabla L(w)` itself;
    * its **component along** ``w``, :math:`\mathrm{Pr}_w(\nabla L(w))`
      (:func:`project_along`), which the rule adds :math:`N - 1` more times: a push
      along the direction already travelled, momentum-like when ``w`` is an
      accumulation of past gradients from a near-zero start.

    Without weight decay, ``w - rate * (gradient + (N - 1) * along_w)`` is
    :func:`linnet.single_output_update`.

    Parameters
    ----------
    w, grad : array_like, shape (d,)
    depth : int
        :math:`N \ge 1`.
    lr : float
        :math:`\eta > 0`.

    Returns
    -------
    SingleOutputTerms

    Examples
    --------
    >>> terms = single_output_terms(np.array([4.0, 0.0]), np.array([1.0, 1.0]), 2, lr=0.1)
    >>> terms.rate, terms.gradient, terms.along_w
    (0.4, array([1., 1.]), array([1., 0.]))
    """
    vec_w = as_finite_array("w", w, 1)
    g = as_finite_array("grad", grad, 1)
    same_shape("grad", g, vec_w.shape, "w")
    N = as_depth(depth)
    eta = as_lr(lr)
    rate = eta * float(vec_w @ vec_w) ** (1.0 - 1.0 / N)
    return SingleOutputTerms(rate=rate, gradient=g, along_w=project_along(vec_w, g))
