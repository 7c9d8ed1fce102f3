r"""The experiment engine of Section 7.1: batched ``l_p`` regression runs.

:func:`run_lp_regression` trains one model on ``X, y`` with one optimizer for
*every learning rate of a grid at once*: the parameters of all rates are
stacked along a leading axis, so each step costs one batched product per
layer, whatever the number of rates.  It covers the comparisons of Section 7.1
of the paper (linear neural networks on a regression problem with the
:math:`\ell_2` and :math:`\ell_4` losses):

* ``depth=1``: the linear model :math:`W_e` itself;
* ``depth>=2, form="factors"``: an explicit deep linear network
  :math:`W_e = W_N \cdots W_1`, every factor trained by the optimizer (this is
  how "Adam on the overparameterized model" is run);
* ``depth>=2, form="end_to_end"``: the end-to-end update rule of Theorem 1 of
  Section 4.1 (gradient descent only), in the single-output form of Claim 2
  (Section 4.2) when there is one output, and otherwise from the batched
  eigendecomposition of the small ``k x k`` matrices :math:`W_e W_e^\top` (a
  batched thin SVD when their singular values spread over more than three
  decades).

The optimizers follow the update equations stated in the documentation of
PyTorch's ``torch.optim`` (``SGD``, ``Adagrad``, ``Adadelta``, ``Adam``), with
the same hyper-parameter names and defaults, so any run can be cross-checked
against PyTorch; ``conventions="tf1"`` switches the defaults (and Adam's
placement of epsilon) to those of TensorFlow 1's ``tf.train`` optimizers,
which the paper used (see :data:`CONVENTIONS`).  :func:`lp_minimum` gives the
optimal loss :math:`L^*`, so that curves can show :math:`L - L^*`.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from ._validation import (
    FloatArray,
    as_depth,
    as_finite_array,
    as_int,
    as_matrix,
    as_p,
    as_real,
)
from .network import balanced_factors, near_zero_init
from .update import _preconditioned_gradient

__all__ = [
    "CONVENTIONS",
    "OPTIMIZERS",
    "LpMinimum",
    "Run",
    "lp_minimum",
    "run_lp_regression",
    "run_lp_regression_seeds",
]

#: Optimizer names accepted by :func:`run_lp_regression`, with their hyper-parameters
#: and PyTorch's defaults (``eps_hat`` is linnet's switch for TensorFlow 1's Adam).
OPTIMIZERS: dict[str, dict[str, Any]] = {
    "gd": {"weight_decay": 0.0},
    "momentum": {"momentum": 0.9, "dampening": 0.0, "nesterov": False, "weight_decay": 0.0},
    "adagrad": {
        "lr_decay": 0.0,
        "weight_decay": 0.0,
        "initial_accumulator_value": 0.0,
        "eps": 1e-10,
    },
    "adadelta": {"rho": 0.9, "eps": 1e-6, "weight_decay": 0.0},
    "adam": {
        "betas": (0.9, 0.999),
        "eps": 1e-8,
        "weight_decay": 0.0,
        "amsgrad": False,
        "eps_hat": False,
    },
}

#: Named sets of optimizer defaults: ``"torch"`` (``torch.optim``, = :data:`OPTIMIZERS`)
#: and ``"tf1"`` (TensorFlow 1's ``tf.compat.v1.train`` optimizers, used by the paper):
#: AdaGrad ``initial_accumulator_value=0.1`` and no epsilon; AdaDelta ``rho=0.95``,
#: ``epsilon=1e-8``; Adam ``epsilon=1e-8`` added to the *uncorrected*
#: :math:`\sqrt{v_t}` ("epsilon hat", ``eps_hat=True``).  Momentum and gradient
#: descent are the same in both.  The update equations are written out in
#: :func:`run_lp_regression`.
CONVENTIONS: dict[str, dict[str, dict[str, Any]]] = {
    "torch": OPTIMIZERS,
    "tf1": {
        **OPTIMIZERS,
        "adagrad": {**OPTIMIZERS["adagrad"], "initial_accumulator_value": 0.1, "eps": 0.0},
        "adadelta": {**OPTIMIZERS["adadelta"], "rho": 0.95, "eps": 1e-8},
        "adam": {**OPTIMIZERS["adam"], "eps": 1e-8, "eps_hat": True},
    },
}

FORMS = ("factors", "end_to_end")
GRAM_RATIO = 1e-3  # smallest s_min / s_max for which the end-to-end rule uses eigh(W W^T)
TERMS = ("both", "norm", "projection")
INITS = ("balanced", "gaussian")


# ---------------------------------------------------------------------------
# Result
# ---------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Run:
    """What :func:`run_lp_regression` recorded, for every learning rate of the grid.

    Attributes
    ----------
    losses
        ``(steps + 1, len(lrs))``: the loss before the first step (row 0) and
        after each step.  From the step at which a rate is found to diverge
        on, its entries are ``inf`` (never NaN), so ``min`` and log-scale
        plots stay meaningful.
    lrs
        ``(len(lrs),)``: the learning rates, in the order given.
    W_e0
        ``(k, d)``: the common starting point :math:`W_e(0)` of every rate.
    W_e
        ``(len(lrs), k, d)``: the final end-to-end matrices (for a diverged
        rate, the last one whose loss was still acceptable).
    diverged
        ``(len(lrs),)`` bool: the loss became non-finite or exceeded
        ``divergence_factor`` times its initial value.
    p
        The loss exponent.
    optimizer
        The optimizer's name.
    depth
        The depth ``N``.
    form
        ``"factors"`` or ``"end_to_end"`` (always ``"factors"`` for depth 1).
    init
        ``"balanced"`` or ``"gaussian"``.
    hyper
        Every optimizer hyper-parameter, defaults included.
    conventions
        ``"torch"`` or ``"tf1"``: the set of defaults the run started from
        (``linnet.engine.CONVENTIONS``; ``hyper`` holds the values actually used).
    terms
        Which terms of the single-output rule were kept (``"both"`` normally).
    path
        ``(steps + 1, len(lrs), k, d)``: :math:`W_e` after every step, if the run
        was made with ``keep_path=True`` (else ``None``); a diverged rate keeps
        its last acceptable matrix.
    """

    losses: FloatArray
    lrs: FloatArray
    W_e0: FloatArray
    W_e: FloatArray
    diverged: np.ndarray
    p: int
    optimizer: str
    depth: int
    form: str
    init: str
    hyper: dict[str, Any] = field(default_factory=dict)
    terms: str = "both"
    path: FloatArray | None = None
    conventions: str = "torch"

    def __repr__(self) -> str:
        model = "linear model" if self.depth == 1 else f"depth {self.depth} ({self.form})"
        try:
            best = f"best_lr={self.best_lr:.3g}"
        except ValueError:
            best = "every rate diverged"
        return (
            f"Run({self.optimizer}, {model}, l{self.p} loss, {self.losses.shape[0] - 1} steps, "
            f"{self.lrs.size} rates from {self.lrs.min():.3g} to {self.lrs.max():.3g}, "
            f"{int(self.diverged.sum())} diverged, {best})"
        )

    @property
    def final_loss(self) -> FloatArray:
        """The loss after the last step, per rate (``inf`` for a diverged rate)."""
        return self.losses[-1]

    @property
    def best_index(self) -> int:
        """Index of the rate with the lowest final loss among those that did not diverge.

        Raises ``ValueError`` if every rate diverged.
        """
        if np.all(self.diverged):
            raise ValueError(
                f"every learning rate diverged (lrs from {self.lrs.min():.3g} to "
                f"{self.lrs.max():.3g}): extend the grid towards smaller rates"
            )
        final = np.where(self.diverged, np.inf, self.losses[-1])
        return int(np.argmin(final))

    @property
    def best_lr(self) -> float:
        """The learning rate with the lowest final loss among rates that did not diverge."""
        return float(self.lrs[self.best_index])

    def steps_to(self, target: float) -> FloatArray:
        """Per rate, the first step ``t`` with ``losses[t] <= target`` (``inf`` if never).

        Parameters
        ----------
        target : float
            A loss level (e.g. ``L* + tol`` or the final loss of a baseline).

        Returns
        -------
        ndarray, shape (len(lrs),)
            Float array of step counts, ``inf`` where the target is never reached.
        """
        if isinstance(target, bool) or not isinstance(target, numbers.Real):
            raise TypeError(f"target must be a real number, got {target!r}")
        level = float(target)
        if np.isnan(level):
            raise ValueError("target must not be NaN")
        hit = self.losses <= level
        first = np.argmax(hit, axis=0).astype(np.float64)
        return np.where(hit.any(axis=0), first, np.inf)


# ---------------------------------------------------------------------------
# Validation of the options
# ---------------------------------------------------------------------------


def _as_choice(name: str, value: Any, choices: Sequence[str]) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be one of {list(choices)}, got {value!r}")
    if value not in choices:
        raise ValueError(f"unknown {name} {value!r}; choose one of {list(choices)}")
    return value


def _as_unit_interval(name: str, value: Any, *, closed: bool) -> float:
    result = as_real(name, value)
    upper_ok = result <= 1.0 if closed else result < 1.0
    if result < 0.0 or not upper_ok:
        interval = "[0, 1]" if closed else "[0, 1)"
        raise ValueError(f"{name} must lie in {interval}, got {value}")
    return result


def _as_nonnegative(name: str, value: Any) -> float:
    result = as_real(name, value)
    if result < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return result


def _as_bool(name: str, value: Any) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _hyper(optimizer: str, given: dict[str, Any], conventions: str = "torch") -> dict[str, Any]:
    """The ``conventions`` defaults for ``optimizer``, overridden by ``given`` (validated)."""
    defaults = CONVENTIONS[_as_choice("conventions", conventions, tuple(CONVENTIONS))][optimizer]
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise TypeError(
            f"unknown hyper-parameter(s) {unknown} for optimizer {optimizer!r}; "
            f"it accepts {sorted(defaults)}"
        )
    hyper = {**defaults, **given}
    out: dict[str, Any] = {}
    for key, value in hyper.items():
        if key == "betas":
            if isinstance(value, (str, bytes)) or not isinstance(value, Sequence):
                raise TypeError(f"betas must be a pair (beta1, beta2), got {value!r}")
            if len(value) != 2:
                raise ValueError(f"betas must be a pair (beta1, beta2), got {value!r}")
            out[key] = tuple(
                _as_unit_interval(f"betas[{i}]", b, closed=False) for i, b in enumerate(value)
            )
        elif key in ("nesterov", "amsgrad", "eps_hat"):
            out[key] = _as_bool(key, value)
        elif key in ("momentum", "dampening", "rho"):
            out[key] = _as_unit_interval(key, value, closed=True)
        elif key == "eps":
            out[key] = as_real("eps", value)
            if out[key] < 0 or (out[key] == 0 and optimizer != "adagrad"):
                raise ValueError(f"eps must be > 0, got {value}")
        else:  # weight_decay, lr_decay, initial_accumulator_value
            out[key] = _as_nonnegative(key, value)
    if (
        optimizer == "momentum"
        and out["nesterov"]
        and (out["momentum"] <= 0 or out["dampening"] != 0)
    ):
        raise ValueError("nesterov momentum requires momentum > 0 and dampening = 0 (as PyTorch)")
    if optimizer == "adagrad" and out["eps"] == 0 and out["initial_accumulator_value"] <= 0:
        raise ValueError(
            "adagrad with eps = 0 (TensorFlow 1's form) needs initial_accumulator_value > 0, "
            "else its first step divides by zero wherever a gradient entry is zero"
        )
    if optimizer == "adam" and out["eps_hat"] and out["amsgrad"]:
        raise ValueError("eps_hat=True (TensorFlow 1's Adam) has no amsgrad variant")
    return out


def _as_lrs(lrs: Any) -> FloatArray:
    if isinstance(lrs, (str, bytes)) or lrs is None:
        raise TypeError(f"lrs must be a sequence of positive learning rates, got {lrs!r}")
    if isinstance(lrs, numbers.Real) and not isinstance(lrs, bool):
        lrs = [lrs]
    rates = as_finite_array("lrs", lrs, 1)
    if np.any(rates <= 0):
        raise ValueError(f"every learning rate in lrs must be > 0, got {rates.tolist()}")
    return rates


def _as_targets(y: Any, m: int) -> FloatArray:
    Y = as_finite_array("y", y, (1, 2))
    if Y.ndim == 1:
        Y = Y[:, None]
    if Y.shape[0] != m:
        raise ValueError(f"y must have m = {m} rows like X, got shape {Y.shape}")
    return Y


# ---------------------------------------------------------------------------
# Batched loss, gradient and optimizers
# ---------------------------------------------------------------------------


class _Problem:
    """``X``, tiled targets and the batched loss/gradient ``(B, k, d) -> (B,), (B, k, d)``."""

    def __init__(self, X: FloatArray, Y: FloatArray, p: int, batch: int) -> None:
        self.X = X
        self.p = p
        self.m, self.d = X.shape
        self.k = Y.shape[1]
        self.B = batch
        self.Yt = np.tile(Y, (1, batch))  # column b*k + c holds Y[:, c]
        self.scale = 1.0 / (p * self.m)
        # l2 with more examples than features: the gradient (X^T X W^T - X^T Y)^T / m from
        # the precomputed Gram matrix costs d^2 instead of m d per output (same value).
        self.gram = None
        if p == 2 and self.m > self.d:
            self.gram = X.T @ X / self.m
            self.XtY = np.tile((Y.T @ X) / self.m, (batch, 1))  # (B k, d)

    def residual_power(self, W: FloatArray) -> tuple[FloatArray, FloatArray]:
        R = self.X @ W.reshape(self.B * self.k, self.d).T
        R -= self.Yt
        if self.p == 2:
            return R, R
        if self.p == 4:
            return R, R * R * R
        return R, R ** (self.p - 1)

    def loss(self, W: FloatArray) -> FloatArray:
        R, Rp1 = self.residual_power(W)
        per_column = np.einsum("ij,ij->j", Rp1, R)
        if self.k > 1:
            per_column = per_column.reshape(self.B, self.k).sum(axis=1)
        return per_column * self.scale

    def loss_grad(self, W: FloatArray) -> tuple[FloatArray, FloatArray]:
        R, Rp1 = self.residual_power(W)
        per_column = np.einsum("ij,ij->j", Rp1, R)
        if self.k > 1:
            per_column = per_column.reshape(self.B, self.k).sum(axis=1)
        if self.gram is not None:
            grad = W.reshape(self.B * self.k, self.d) @ self.gram
            grad -= self.XtY
            return per_column * self.scale, grad.reshape(self.B, self.k, self.d)
        grad = (Rp1.T @ self.X).reshape(self.B, self.k, self.d)
        grad *= 1.0 / self.m
        return per_column * self.scale, grad


class _Optimizer:
    """PyTorch's documented update, applied to a list of stacked parameters ``(B, ...)``."""

    def __init__(self, name: str, hyper: dict[str, Any], params: list[FloatArray]) -> None:
        self.name = name
        self.h = hyper
        self.t = 0
        self.state: list[dict[str, FloatArray]] = [self._fresh(w) for w in params]

    def _fresh(self, w: FloatArray) -> dict[str, FloatArray]:
        if self.name == "momentum":
            return {"buf": np.zeros_like(w)}
        if self.name == "adagrad":
            return {"sum": np.full_like(w, self.h["initial_accumulator_value"])}
        if self.name == "adadelta":
            return {"v": np.zeros_like(w), "u": np.zeros_like(w)}
        if self.name == "adam":
            state = {"m": np.zeros_like(w), "v": np.zeros_like(w)}
            if self.h["amsgrad"]:
                state["vmax"] = np.zeros_like(w)
            return state
        return {}

    def reset(self, index: np.ndarray) -> None:
        """Return the state of the rates in ``index`` to its initial value."""
        for state in self.state:
            for key, value in state.items():
                value[index] = self.h["initial_accumulator_value"] if key == "sum" else 0.0

    def step(self, params: list[FloatArray], grads: list[FloatArray], lr: FloatArray) -> None:
        """Update ``params`` in place; ``lr`` has shape ``(B, 1, 1)`` (0 freezes a rate)."""
        self.t += 1
        t, h = self.t, self.h
        for w, g, state in zip(params, grads, self.state, strict=True):
            if h["weight_decay"]:
                g = g + h["weight_decay"] * w
            if self.name == "gd":
                w -= lr * g
            elif self.name == "momentum":
                buf = state["buf"]
                if t == 1:
                    buf[...] = g
                else:
                    buf *= h["momentum"]
                    buf += (1.0 - h["dampening"]) * g
                direction = g + h["momentum"] * buf if h["nesterov"] else buf
                w -= lr * direction
            elif self.name == "adagrad":
                clr = lr / (1.0 + (t - 1) * h["lr_decay"])
                state["sum"] += g * g
                w -= clr * g / (np.sqrt(state["sum"]) + h["eps"])
            elif self.name == "adadelta":
                rho, eps = h["rho"], h["eps"]
                v, u = state["v"], state["u"]
                v *= rho
                v += (1.0 - rho) * g * g
                delta = np.sqrt(u + eps) / np.sqrt(v + eps) * g
                u *= rho
                u += (1.0 - rho) * delta * delta
                w -= lr * delta
            else:  # adam
                beta1, beta2 = h["betas"]
                m_, v = state["m"], state["v"]
                m_ *= beta1
                m_ += (1.0 - beta1) * g
                v *= beta2
                v += (1.0 - beta2) * g * g
                m_hat = m_ / (1.0 - beta1**t)
                v_hat = v / (1.0 - beta2**t)
                if h["eps_hat"]:  # TensorFlow 1: eps added to sqrt(v_t), not sqrt(v_hat_t)
                    w -= (
                        (lr * (np.sqrt(1.0 - beta2**t) / (1.0 - beta1**t)))
                        * m_
                        / (np.sqrt(v) + h["eps"])
                    )
                    continue
                if h["amsgrad"]:
                    np.maximum(state["vmax"], v_hat, out=state["vmax"])
                    v_hat = state["vmax"]
                w -= lr * m_hat / (np.sqrt(v_hat) + h["eps"])


def _end_to_end_direction(
    W: FloatArray, G: FloatArray, N: int, terms: str = "both", lr: FloatArray | None = None
) -> FloatArray:
    r"""Batched :math:`\sum_j [W W^\top]^{(j-1)/N} G [W^\top W]^{(N-j)/N}`, ``W, G (B, k, d)``."""
    _, k, d = W.shape
    if k == 1:  # Claim 2: ||w||^{2-2/N} (g + (N-1) Pr_w(g)), no SVD needed
        sq = np.einsum("bki,bki->b", W, W)
        rate = sq ** (1.0 - 1.0 / N) if terms != "projection" else np.ones_like(sq)
        if lr is not None:  # fold the learning rates (B,) in the per-rate scalars
            rate = rate * lr
        out = G * rate[:, None, None]
        if terms != "norm":  # + rate (N-1) (w.g / |w|^2) w, with Pr_0 = 0
            along = np.einsum("bki,bki->b", W, G)
            push = rate * (N - 1) * along / np.where(sq > 0, sq, 1.0)
            out += push[:, None, None] * W
        return out
    gram = W @ W.transpose(0, 2, 1)
    finite = np.isfinite(gram).all(axis=(1, 2)) & np.isfinite(G).all(axis=(1, 2))
    if not finite.all():  # overflowing rates get NaN, so the next loss marks them diverged
        out = np.full_like(W, np.nan)
        if finite.any():
            out[finite] = _end_to_end_direction(W[finite], G[finite], N, terms)
        return out
    if k <= d:
        # Eigenvectors of the small k x k Gram matrix W W^T are far cheaper than an SVD;
        # they are accurate to ~eps (s_max / s_min)^2 <= 1e-10 relative when every
        # singular value is within a factor 1e3 of the largest, else use the SVD.
        lam, U = np.linalg.eigh(gram)
        if np.all(lam > GRAM_RATIO**2 * lam[:, -1:]) and np.all(lam[:, -1] > 0):
            Ut = U.transpose(0, 2, 1)
            Vt = (Ut @ W) / np.sqrt(lam)[:, :, None]  # rows: right singular vectors
            H = Ut @ G  # U^T G
            core = H @ Vt.transpose(0, 2, 1)  # U^T G V
            # powers[b, r, n] = s_r^{2n/N}; grid[r, r'] = sum_n s_r^{2(N-1-n)/N} s_r'^{2n/N}
            powers = (lam ** (1.0 / N))[:, :, None] ** np.arange(N)
            grid = powers[:, :, ::-1] @ powers.transpose(0, 2, 1)
            top = powers[:, :, N - 1 :]  # s_r^{2(N-1)/N}, the j = N term off the row space
            # U [grid o core] V^T + U diag(top) U^T G (I - V V^T)
            return U @ (((grid - top) * core) @ Vt + top * H)
    return _preconditioned_gradient(W, G, N)  # the SVD form of linnet.end_to_end_update


def _factor_gradients(
    factors: list[FloatArray], problem: _Problem
) -> tuple[FloatArray, FloatArray, list[FloatArray]]:
    """Loss, ``W_e`` and per-factor gradients of a batch of deep linear networks.

    ``dL/dW_j = (W_N ... W_{j+1})^T G (W_{j-1} ... W_1)^T``, with every product
    taken from the thin side (``k`` rows), so a step costs ``O(N k n^2)``
    per rate besides the loss gradient ``G``.
    """
    N = len(factors)
    above: list[FloatArray | None] = [None] * (N + 1)  # above[j] = W_N ... W_{j+1}
    above[N - 1] = factors[N - 1]
    for j in range(N - 1, 0, -1):
        above[j - 1] = above[j] @ factors[j - 1]
    W_e = above[0]
    loss, G = problem.loss_grad(W_e)
    grads: list[FloatArray] = []
    right = G  # G (W_{j-1} ... W_1)^T
    for j in range(1, N + 1):
        top = above[j]
        grads.append(right if top is None else top.transpose(0, 2, 1) @ right)
        if j < N:
            right = right @ factors[j - 1].transpose(0, 2, 1)
    return loss, W_e, grads


def _product(factors: list[FloatArray]) -> FloatArray:
    W = factors[0]
    for f in factors[1:]:
        W = f @ W
    return W


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def run_lp_regression(
    X: ArrayLike,
    y: ArrayLike,
    *,
    p: int,
    lrs: ArrayLike,
    steps: int,
    optimizer: str = "gd",
    depth: int = 1,
    form: str = "factors",
    width: int | Sequence[int] | None = None,
    init: str = "balanced",
    init_scale: float = 1e-3,
    seed: int = 0,
    divergence_factor: float = 1e3,
    terms: str = "both",
    keep_path: bool = False,
    conventions: str = "torch",
    **hyper: Any,
) -> Run:
    r"""Train an :math:`\ell_p` regression model for every learning rate of a grid at once.

    The loss is :math:`L(W_e) = \frac{1}{m}\sum_i \sum_c \frac1p ((W_e x_i)_c - y_{ic})^p`
    (:func:`linnet.lp_loss`, Section 3 and Section 7.1 of the paper).  All rates in
    ``lrs`` are run together on stacked parameters (one batched product per
    layer per step, no loop over rates); the result is the same as running
    them one at a time.

    **Models.** ``depth=1``: the linear model :math:`W_e`.  ``depth>=2`` with
    ``form="factors"``: a deep linear network :math:`W_e = W_N\cdots W_1` whose
    every factor is trained by ``optimizer`` (hidden widths ``width``).  ``depth>=2``
    with ``form="end_to_end"``: the end-to-end update rule (Theorem 1, Section 4.1)

    .. math::

       W_e \leftarrow W_e - \eta \sum_{j=1}^{N} [W_e W_e^\top]^{\frac{j-1}{N}}
       \nabla L(W_e) [W_e^\top W_e]^{\frac{N-j}{N}},

    which for one output is Claim 2 (Section 4.2),
    :math:`w \leftarrow w - \eta \|w\|^{2-2/N}(g + (N-1)\,\mathrm{Pr}_w(g))`;
    only gradient descent defines it, so any other ``optimizer`` is a ``ValueError``.

    **Start.** A seeded random :math:`W_e(0)` (standard Gaussian entries scaled to
    Frobenius norm ``init_scale``).  ``init="balanced"``: factors are
    :func:`linnet.balanced_factors` of it, so depth-1, end-to-end and factor runs
    with the same ``seed`` share :math:`W_e(0)`.  ``init="gaussian"``: i.i.d.
    Gaussian factors of standard deviation ``init_scale``
    (:func:`linnet.near_zero_init`), and :math:`W_e(0)` is their product (an
    end-to-end run with the same seed, depth and width starts from it too).

    **Optimizers** (``torch.optim`` documentation; :math:`\gamma` = the rate,
    :math:`g_t` = the gradient plus ``weight_decay`` :math:`\cdot\,\theta_{t-1}`):

    * ``"gd"`` (``SGD``): :math:`\theta_t = \theta_{t-1} - \gamma g_t`.
    * ``"momentum"`` (``SGD`` with ``momentum`` :math:`\mu` ``= 0.9``,
      ``dampening`` :math:`\tau` ``= 0``, ``nesterov=False``): :math:`b_1 = g_1`,
      :math:`b_t = \mu b_{t-1} + (1-\tau) g_t`, step along :math:`b_t`
      (or :math:`g_t + \mu b_t` if ``nesterov``).  Heavy ball; not in the paper.
    * ``"adagrad"`` (``lr_decay=0``, ``initial_accumulator_value=0``,
      ``eps=1e-10``): :math:`\tilde\gamma = \gamma / (1 + (t-1)\,\mathrm{lr\_decay})`,
      :math:`s_t = s_{t-1} + g_t^2`,
      :math:`\theta_t = \theta_{t-1} - \tilde\gamma g_t / (\sqrt{s_t} + \epsilon)`.
    * ``"adadelta"`` (``rho=0.9``, ``eps=1e-6``):
      :math:`v_t = \rho v_{t-1} + (1-\rho) g_t^2`,
      :math:`\Delta_t = \sqrt{u_{t-1} + \epsilon}\, g_t / \sqrt{v_t + \epsilon}`,
      :math:`u_t = \rho u_{t-1} + (1-\rho)\Delta_t^2`,
      :math:`\theta_t = \theta_{t-1} - \gamma \Delta_t`.
    * ``"adam"`` (``betas=(0.9, 0.999)``, ``eps=1e-8``, ``amsgrad=False``):
      :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
      :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2`,
      :math:`\theta_t = \theta_{t-1} - \gamma \hat m_t / (\sqrt{\hat v_t} + \epsilon)`
      with :math:`\hat m_t = m_t / (1-\beta_1^t)`, :math:`\hat v_t = v_t / (1-\beta_2^t)`
      (``amsgrad``: :math:`\hat v_t` replaced by its running maximum).

    **Conventions** (``linnet.engine.CONVENTIONS``).  ``conventions="torch"`` (default)
    gives the defaults above.  ``conventions="tf1"`` gives those of TensorFlow
    1's ``tf.compat.v1.train`` optimizers, which the paper's experiments used
    (its kernels ``ApplyAdagrad``, ``ApplyAdadelta``, ``ApplyAdam``):

    * AdaGrad (``AdagradOptimizer``, ``initial_accumulator_value=0.1``, no
      epsilon): :math:`s_0 = 0.1`, :math:`s_t = s_{t-1} + g_t^2`,
      :math:`\theta_t = \theta_{t-1} - \gamma g_t / \sqrt{s_t}` (the PyTorch
      form with ``initial_accumulator_value=0.1``, ``eps=0``), so the first
      step is :math:`\gamma g_1 / \sqrt{0.1 + g_1^2}` where PyTorch takes
      :math:`\gamma g_1 / (|g_1| + 10^{-10})`, a step of :math:`\pm\gamma`.
    * AdaDelta (``AdadeltaOptimizer``, ``rho=0.95``, ``epsilon=1e-8``): the
      same equations as PyTorch's above, with :math:`\rho = 0.95`,
      :math:`\epsilon = 10^{-8}`.
    * Adam (``AdamOptimizer``, ``beta1=0.9``, ``beta2=0.999``,
      ``epsilon=1e-8``): TensorFlow 1 applies epsilon as the "epsilon hat" of
      Kingma & Ba (the formula before their Section 2.1),
      :math:`\theta_t = \theta_{t-1} - \gamma \frac{\sqrt{1-\beta_2^t}}{1-\beta_1^t}
      \, m_t / (\sqrt{v_t} + \hat\epsilon)`; linnet implements exactly this
      when ``eps_hat=True``.  It equals PyTorch's form with a time-varying
      :math:`\epsilon_t = \hat\epsilon \sqrt{1-\beta_2^t}` in the
      denominator :math:`\sqrt{\hat v_t} + \epsilon_t`: at :math:`t = 1`
      that is :math:`\hat\epsilon \sqrt{10^{-3}} \approx 0.032\,\hat\epsilon`,
      tending to :math:`\hat\epsilon`.
    * Gradient descent and momentum are the same in both.

    Hyper-parameters passed explicitly (e.g. ``eps=1e-6``) override the
    convention's defaults.

    With ``form="end_to_end"``, ``weight_decay`` :math:`\lambda` acts as in
    :func:`linnet.end_to_end_update` (a factor :math:`1-\eta\lambda N`).

    **Cost.** One step costs two products of ``X`` with the stacked
    parameters (``m d`` per output and rate; for ``p = 2`` and ``m > d`` the
    second is replaced by the precomputed Gram matrix :math:`X^\top X / m`), plus
    :math:`O(N k r^2)` for the factors (width :math:`r`) or, for the end-to-end rule
    with :math:`k > 1`, :math:`O(k^2 d)` from the eigendecomposition of
    :math:`W_e W_e^\top` (a thin SVD if :math:`W_e` is ill-conditioned).

    **Divergence.** A rate whose loss becomes non-finite or exceeds
    ``divergence_factor`` times its initial loss is marked in ``Run.diverged``;
    its losses from that step on are ``inf`` and it is frozen (its parameters
    return to the start, so nothing overflows), never producing NaN.

    Parameters
    ----------
    X : array_like, shape (m, d)
        Inputs, one example per row.
    y : array_like, shape (m,) or (m, k)
        Targets.
    p : int
        Even integer ``>= 2`` (the loss exponent).
    lrs : array_like, shape (R,)
        Learning rates, all ``> 0`` (a single number is a grid of one).
    steps : int
        Number of steps, ``>= 1``.
    optimizer : {"gd", "momentum", "adagrad", "adadelta", "adam"}
    depth : int, default 1
        ``N >= 1``.
    form : {"factors", "end_to_end"}
        How a ``depth >= 2`` model is trained (ignored for ``depth = 1``).
    width : int or sequence of int, optional
        Hidden widths of a ``"factors"`` network (one int for all, or ``N - 1``
        ints); default ``max(d, k)``.  With ``init="balanced"`` every width
        must be at least ``r = rank W_e(0) = min(k, d)``, and the width does
        not matter: :func:`linnet.balanced_factors` pads the units beyond
        ``r`` with exact zeros, whose gradients vanish identically, so they
        stay zero under every optimizer here; the engine therefore trains
        the equivalent width-``r`` network (same :math:`W_e` at every step,
        up to round-off; tested against full-width reference loops).
    init : {"balanced", "gaussian"}
    init_scale : float, default 1e-3
        Frobenius norm of :math:`W_e(0)` (balanced), or the standard deviation of
        the factors (gaussian).
    seed : int, default 0
        Seed of ``numpy.random.default_rng`` for the initialisation.
    divergence_factor : float, default 1e3
        A loss above ``divergence_factor * losses[0]`` counts as divergence.
    terms : {"both", "norm", "projection"}
        For ablations of the single-output rule (``form="end_to_end"``, one
        output, ``depth >= 2`` only): ``"both"`` is Claim 2;
        ``"norm"`` keeps only the adaptive factor,
        :math:`w \leftarrow w - \eta \|w\|^{2-2/N} g`; ``"projection"`` keeps
        only the push along :math:`w`,
        :math:`w \leftarrow w - \eta (g + (N-1)\,\mathrm{Pr}_w(g))`.  These
        variants are not gradient descent on any network: the book's ablation.
    keep_path : bool, default False
        Record :math:`W_e` after every step in ``Run.path``.
    conventions : {"torch", "tf1"}, default "torch"
        Which optimizer defaults (and Adam epsilon placement) to start from:
        ``torch.optim``'s or TensorFlow 1's (see **Conventions** above).
    **hyper
        Optimizer hyper-parameters, named as in ``torch.optim`` plus Adam's
        ``eps_hat`` (``linnet.engine.CONVENTIONS`` lists them with their
        defaults per convention).

    Returns
    -------
    Run

    Raises
    ------
    ValueError, TypeError
        On bad shapes or values, an even ``p`` below 2, empty or non-positive
        ``lrs``, ``steps < 1``, an unknown optimizer, form, init or
        hyper-parameter, or ``form="end_to_end"`` with an optimizer other than
        ``"gd"``.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0]])
    >>> y = np.array([1.0, 0.5])
    >>> run = run_lp_regression(X, y, p=2, lrs=[0.5, 2.0, 8.0], steps=50)
    >>> run.losses.shape, run.diverged.tolist()
    ((51, 3), [False, False, True])
    >>> run.best_lr
    2.0
    >>> run
    Run(gd, linear model, l2 loss, 50 steps, 3 rates from 0.5 to 8, 1 diverged, best_lr=2)
    >>> deep = run_lp_regression(X, y, p=2, lrs=[1.0], steps=50, depth=3, form="end_to_end")
    >>> bool(np.allclose(deep.W_e0, run.W_e0))
    True

    The paper's TensorFlow 1 conventions for the adaptive baselines:

    >>> tf = run_lp_regression(X, y, p=2, lrs=[0.1], steps=5, optimizer="adadelta",
    ...                        conventions="tf1")
    >>> tf.conventions, tf.hyper["rho"], tf.hyper["eps"]
    ('tf1', 0.95, 1e-08)
    """
    setup = _setup(
        X, y, p, lrs, steps, optimizer, depth, form, width, init, init_scale,
        divergence_factor, hyper, terms, keep_path, conventions,
    )  # fmt: skip
    return _train(setup, [_start(setup, as_int("seed", seed, 0))])[0]


def run_lp_regression_seeds(
    X: ArrayLike, y: ArrayLike, *, seeds: Sequence[int], **options: Any
) -> list[Run]:
    """:func:`run_lp_regression` for several seeds at once: one :class:`Run` per seed.

    Every (seed, rate) pair is one slice of the same batch, so a grid of ``R``
    rates over ``S`` seeds costs one run with ``S R`` stacked problems; each
    returned run equals ``run_lp_regression(X, y, seed=s, **options)``.

    Parameters
    ----------
    X, y : array_like
        As for :func:`run_lp_regression`.
    seeds : sequence of int
        At least one seed (each ``>= 0``).
    **options
        Every other keyword of :func:`run_lp_regression` (``p``, ``lrs``,
        ``steps``, ``optimizer``, ...).

    Returns
    -------
    list of Run

    Examples
    --------
    >>> X, y = np.eye(3), np.array([1.0, 2.0, 3.0])
    >>> runs = run_lp_regression_seeds(X, y, seeds=[0, 1], p=4, lrs=[0.1, 0.2], steps=5)
    >>> len(runs), runs[1].losses.shape
    (2, (6, 2))
    >>> alone = run_lp_regression(X, y, seed=1, p=4, lrs=[0.1, 0.2], steps=5)
    >>> bool(np.allclose(runs[1].losses, alone.losses, rtol=1e-12))
    True
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a list of integer seeds, got {seeds!r}")
    if len(seeds) == 0:
        raise ValueError("seeds must contain at least one seed, got []")
    if "seed" in options:
        raise TypeError("pass seeds=[...], not seed=")
    for name in ("p", "lrs", "steps"):
        if name not in options:
            raise TypeError(f"run_lp_regression_seeds() missing keyword argument {name!r}")
    named = {
        key: options.pop(key)
        for key in (
            "p", "lrs", "steps", "optimizer", "depth", "form", "width", "init",
            "init_scale", "divergence_factor", "terms", "keep_path", "conventions",
        )
        if key in options
    }  # fmt: skip
    defaults = {
        "optimizer": "gd", "depth": 1, "form": "factors", "width": None,
        "init": "balanced", "init_scale": 1e-3, "divergence_factor": 1e3,
        "terms": "both", "keep_path": False, "conventions": "torch",
    }  # fmt: skip
    named = {**defaults, **named}
    setup = _setup(
        X, y, named["p"], named["lrs"], named["steps"], named["optimizer"], named["depth"],
        named["form"], named["width"], named["init"], named["init_scale"],
        named["divergence_factor"], options, named["terms"], named["keep_path"],
        named["conventions"],
    )  # fmt: skip
    starts = [_start(setup, as_int(f"seeds[{i}]", s, 0)) for i, s in enumerate(seeds)]
    return _train(setup, starts)


@dataclass(frozen=True, eq=False)
class _Setup:
    """Validated options of a run."""

    X: FloatArray
    Y: FloatArray
    p: int
    rates: FloatArray
    steps: int
    optimizer: str
    depth: int
    form: str
    hidden: list[int]
    init: str
    scale: float
    blowup: float
    hyper: dict[str, Any]
    terms: str
    keep_path: bool
    conventions: str


def _setup(
    X: Any, y: Any, p: Any, lrs: Any, steps: Any, optimizer: Any, depth: Any, form: Any,
    width: Any, init: Any, init_scale: Any, divergence_factor: Any, hyper: dict[str, Any],
    terms: Any = "both", keep_path: Any = False, conventions: Any = "torch",
) -> _Setup:  # fmt: skip
    inputs = as_matrix("X", X)
    m, d = inputs.shape
    Y = _as_targets(y, m)
    k = Y.shape[1]
    order = as_p(p)
    rates = _as_lrs(lrs)
    n_steps = as_int("steps", steps, 1)
    opt = _as_choice("optimizer", optimizer, tuple(OPTIMIZERS))
    N = as_depth(depth)
    how = _as_choice("form", form, FORMS)
    start = _as_choice("init", init, INITS)
    scale = as_real("init_scale", init_scale)
    if scale <= 0:
        raise ValueError(f"init_scale must be > 0, got {init_scale}")
    blowup = as_real("divergence_factor", divergence_factor)
    if blowup <= 1:
        raise ValueError(f"divergence_factor must be > 1, got {divergence_factor}")
    convention = _as_choice("conventions", conventions, tuple(CONVENTIONS))
    params_h = _hyper(opt, hyper, convention)
    if N >= 2 and how == "end_to_end" and opt != "gd":
        raise ValueError(
            f"form='end_to_end' is the update rule of gradient descent (Theorem 1); "
            f"optimizer={opt!r} needs form='factors'"
        )
    if N == 1:
        how = "factors"
        hidden: list[int] = []
    elif width is None:
        hidden = [max(d, k)] * (N - 1)
    elif isinstance(width, numbers.Integral) and not isinstance(width, bool):
        hidden = [as_int("width", width, 1)] * (N - 1)
    else:
        if isinstance(width, (str, bytes)) or not isinstance(width, Sequence):
            raise TypeError(f"width must be an int or a list of {N - 1} ints, got {width!r}")
        hidden = [as_int(f"width[{i}]", w, 1) for i, w in enumerate(width)]
        if len(hidden) != N - 1:
            raise ValueError(
                f"width must list the {N - 1} hidden widths of a depth-{N} network, "
                f"got {len(hidden)}"
            )
    rule_terms = _as_choice("terms", terms, TERMS)
    if rule_terms != "both" and (N < 2 or how != "end_to_end" or k != 1):
        raise ValueError(
            f"terms={rule_terms!r} ablates the single-output end-to-end rule (Claim 2): "
            f"it needs form='end_to_end', depth >= 2 and one output, got form={how!r}, "
            f"depth={N}, k={k}"
        )
    path = _as_bool("keep_path", keep_path)
    if start == "balanced" and hidden and min(hidden) < min(k, d):
        raise ValueError(
            f"with init='balanced' every hidden width must be >= rank W_e(0) = "
            f"min(k, d) = {min(k, d)}, got width {hidden}"
        )
    return _Setup(
        inputs, Y, order, rates, n_steps, opt, N, how, hidden, start, scale, blowup, params_h,
        rule_terms, path, convention,
    )  # fmt: skip


def _start(s: _Setup, seed: int) -> tuple[FloatArray, list[FloatArray]]:
    """The starting point ``W_e(0)`` and the factors to train from it."""
    rng = np.random.default_rng(seed)
    k, d = s.Y.shape[1], s.X.shape[1]
    if s.init == "balanced":
        W0 = rng.standard_normal((k, d))
        W0 *= s.scale / np.linalg.norm(W0)
        if s.depth == 1:
            return W0, [W0]
        # balanced_factors pads hidden units beyond r = rank W_e(0) = min(k, d) with
        # exact zeros; their gradients vanish identically, so they stay zero under
        # every optimizer and the width-r network gives the same W_e at lower cost.
        return W0, balanced_factors(W0, s.depth, [min(k, d)] * (s.depth - 1))
    factors = near_zero_init([d, *s.hidden, k], s.scale, rng)
    return _product(factors), factors


def _train(s: _Setup, starts: list[tuple[FloatArray, list[FloatArray]]]) -> list[Run]:
    """Run every (start, rate) pair as one batch and split the result per start."""
    X, Y, N = s.X, s.Y, s.depth
    k, d = Y.shape[1], X.shape[1]
    R, S = s.rates.size, len(starts)
    B = R * S
    rates = np.tile(s.rates, S)
    problem = _Problem(X, Y, s.p, B)
    lr_col = rates[:, None, None]
    active = np.ones(B, dtype=bool)
    diverged = np.zeros(B, dtype=bool)
    losses = np.empty((s.steps + 1, B))
    W0s = np.concatenate([np.broadcast_to(W0, (R, k, d)) for W0, _ in starts])
    end_to_end = s.form == "end_to_end" and N >= 2
    if end_to_end:
        start_params = [W0s.copy()]
        decay = s.hyper["weight_decay"] * N
        optim = None
    else:
        start_params = [
            np.concatenate([np.broadcast_to(f[j], (R, *f[j].shape)) for _, f in starts])
            for j in range(len(starts[0][1]))
        ]
        optim = _Optimizer(s.optimizer, s.hyper, start_params)
    params = [w.copy() for w in start_params]
    last_good = W0s.copy()
    n_steps = s.steps
    path = np.empty((n_steps + 1, B, k, d)) if s.keep_path else None

    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for t in range(n_steps + 1):
            if optim is None:
                W_e = params[0]
                loss, G = problem.loss_grad(W_e)
            elif N == 1:
                W_e = params[0]
                loss, G = problem.loss_grad(W_e) if t < n_steps else (problem.loss(W_e), None)
                grads = [G]
            else:
                loss, W_e, grads = _factor_gradients(params, problem)
            if t == 0:
                limit = s.blowup * np.maximum(loss, np.finfo(np.float64).tiny)
            bad = active & ~(np.isfinite(loss) & (loss <= limit))  # NaN and inf too
            if bad.any():
                active &= ~bad
                diverged |= bad
                for w, w0 in zip(params, start_params, strict=True):
                    w[bad] = w0[bad]
                if optim is not None:
                    optim.reset(bad)
                lr_col = np.where(active, rates, 0.0)[:, None, None]
            losses[t] = np.where(active, loss, np.inf)
            last_good[active] = W_e[active]
            if path is not None:
                path[t] = last_good
            if t == n_steps:
                break
            if optim is None:
                if k == 1:
                    step = _end_to_end_direction(params[0], G, N, s.terms, lr_col[:, 0, 0])
                else:
                    step = _end_to_end_direction(params[0], G, N, s.terms)
                    step *= lr_col
                if decay:
                    params[0] *= 1.0 - lr_col * decay
                params[0] -= step
            else:
                optim.step(params, grads, lr_col)

    return [
        Run(
            losses=losses[:, i * R : (i + 1) * R].copy(),
            lrs=s.rates.copy(),
            W_e0=W0,
            W_e=last_good[i * R : (i + 1) * R].copy(),
            diverged=diverged[i * R : (i + 1) * R].copy(),
            p=s.p,
            optimizer=s.optimizer,
            depth=N,
            form="end_to_end" if end_to_end else "factors",
            init=s.init,
            hyper=dict(s.hyper),
            terms=s.terms,
            path=None if path is None else path[:, i * R : (i + 1) * R].copy(),
            conventions=s.conventions,
        )
        for i, (W0, _) in enumerate(starts)
    ]


class LpMinimum(NamedTuple):
    """The optimum of the ``l_p`` regression loss: ``L_star`` and a minimiser ``W_star`` (k, d)."""

    L_star: float
    W_star: FloatArray


def _certificate(X: FloatArray, y: FloatArray, w: FloatArray, p: int) -> tuple[float, float, float]:
    """Gradient norm at ``w``, its cancellation-free scale and its round-off floor.

    Returns ``(grad, scale, floor)``: ``grad = ||X^T r^{p-1}|| / m`` with
    ``r = X w - y``; ``scale = sum_i |r_i|^{p-1} ||x_i|| / m``; ``floor`` bounds
    (to first order in the unit round-off, Higham, *Accuracy and Stability of
    Numerical Algorithms*, Sections 3.1 and 3.5) how far the *computed*
    gradient can be from the exact one, with ``gamma_n = n eps``: the residual
    has error ``|dr| <= gamma_{d+1} (|X| |w| + |y|)``, which moves the gradient
    by ``|X|^T ((p-1) |r|^{p-2} |dr|) / m``, and forming ``X^T r^{p-1}`` adds
    ``gamma_{m+p} |X|^T |r|^{p-1} / m``.
    """
    m, d = X.shape
    eps = np.finfo(np.float64).eps
    r = X @ w - y
    power = r ** (p - 1)
    grad = float(np.linalg.norm(X.T @ power)) / m
    absX = np.abs(X)
    scale = float(np.abs(power) @ np.linalg.norm(X, axis=1)) / m
    dr = (d + 1) * eps * (absX @ np.abs(w) + np.abs(y))
    moved = absX.T @ ((p - 1) * np.abs(r) ** (p - 2) * dr)
    formed = (m + p) * eps * (absX.T @ np.abs(power))
    floor = float(np.linalg.norm(moved + formed)) / m
    return grad, scale, floor


def _newton_step(X: FloatArray, r: FloatArray, p: int) -> FloatArray:
    r"""The Newton step ``H^{-1} g`` of the ``l_p`` loss, as a weighted least-squares problem.

    With ``D = (p-1) diag(r^{p-2})`` the gradient is ``X^T D r / ((p-1) m)`` and the
    Hessian ``X^T D X / m``, so the step minimises
    ``||D^{1/2} (X s - r / (p-1))||``: solving it by ``lstsq`` (an SVD of
    ``D^{1/2} X``) avoids forming ``X^T D X``, whose condition number is the
    square of that of ``D^{1/2} X`` (about ``1e15`` on the raw Tecator spectra,
    where the normal equations lose every digit of the step).
    """
    root = np.sqrt((p - 1) * r ** (p - 2))
    return np.linalg.lstsq(root[:, None] * X, root * r / (p - 1), rcond=None)[0]


def _lp_column(X: FloatArray, y: FloatArray, p: int, rtol: float, max_iter: int) -> FloatArray:
    """Damped Newton for one output column, started at least squares (see :func:`lp_minimum`)."""
    m = X.shape[0]
    w = np.linalg.lstsq(X, y, rcond=None)[0]

    def value(v: FloatArray) -> float:
        return float(np.sum((X @ v - y) ** p)) / (p * m)

    def certified(grad: float, scale: float, floor: float) -> bool:
        return grad <= max(rtol * scale, floor)

    f = value(w)
    polish = 3  # Newton steps still tried once only the round-off floor certifies w
    for _ in range(max_iter if p > 2 else 0):
        grad, scale, floor = _certificate(X, y, w, p)
        if grad <= rtol * scale:
            return w
        if grad <= floor:
            if polish == 0:
                return w
            polish -= 1
        r = X @ w - y
        g = X.T @ r ** (p - 1) / m
        step = _newton_step(X, r, p)
        slope = float(g @ step)
        full = w - step
        if value(full) <= f * (1 + 1e-12) and _certificate(X, y, full, p)[0] < grad:
            # Near the minimum the decrease is below round-off of f: take the full
            # Newton step as long as it shrinks the gradient (quadratic convergence).
            w, f = full, value(full)
            continue
        t = 1.0
        while True:
            trial = w - t * step
            f_trial = value(trial)
            if f_trial <= f - 0.25 * t * slope or t < 1e-12:
                break
            t *= 0.5
        if f_trial > f:  # no decrease possible at working precision
            break
        w, f = trial, f_trial
    grad, scale, floor = _certificate(X, y, w, p)
    if not certified(grad, scale, floor):
        raise RuntimeError(
            f"lp_minimum: the gradient norm at the result, {grad:.2e}, exceeds both rtol = "
            f"{rtol:.0e} times its scale {scale:.2e} and its round-off floor {floor:.2e} "
            f"(l_{p} loss, Newton stopped)"
        )
    return w


def lp_minimum(
    X: ArrayLike, y: ArrayLike, p: int, *, rtol: float = 1e-9, max_iter: int = 100
) -> LpMinimum:
    r"""The minimum :math:`L^*` of the :math:`\ell_p` regression loss and a minimiser.

    The loss :math:`L(W) = \frac{1}{m}\sum_i\sum_c \frac1p((W x_i)_c - y_{ic})^p`
    (:func:`linnet.lp_loss`; Sections 3 and 7.1 of the paper) is convex and
    separates over the outputs.  For ``p = 2`` the minimiser is least squares
    (``numpy.linalg.lstsq``, minimum norm); for ``p >= 4`` it is found by
    damped Newton steps with backtracking, started from least squares, on the
    gradient :math:`\frac1m X^\top r^{p-1}` and Hessian
    :math:`\frac{p-1}{m} X^\top \mathrm{diag}(r^{p-2}) X`.

    Each Newton step is solved as the weighted least-squares problem
    :math:`\min_s \|D^{1/2}(X s - r/(p-1))\|` with
    :math:`D = (p-1)\,\mathrm{diag}(r^{p-2})`, never through the normal
    equations :math:`X^\top D X`, whose condition number is the square of that
    of :math:`D^{1/2} X`.

    **Certificate.** The result is returned only if, for every output, the
    gradient norm at ``W_star`` is at most the larger of

    * ``rtol`` times the size it would have without cancellation,
      :math:`\frac1m \sum_i |r_i|^{p-1} \|x_i\|`, and
    * its *round-off floor*: the first-order bound on the error of the computed
      gradient, :math:`\frac1m \big\| |X|^\top\big((p-1)|r|^{p-2}\,
      \gamma_{d+1}(|X||w| + |y|)\big) + \gamma_{m+p} |X|^\top |r|^{p-1}
      \big\|` with :math:`\gamma_n = n\,\varepsilon` (Higham, *Accuracy and
      Stability of Numerical Algorithms*, Sections 3.1 and 3.5);

    else ``RuntimeError``.  The floor is why the certificate stays honest on
    ill-conditioned data: when :math:`|X||w|` is much larger than the residual
    (collinear features, large weights that cancel, as on the raw Tecator
    spectra with :math:`\mathrm{cond}(X) \approx 1.6 \cdot 10^7`), computing
    :math:`r = Xw - y` in floating point already perturbs the gradient by more
    than ``rtol`` times its scale, whatever the minimiser; no ``W`` can be
    certified below that level, and a gradient below it cannot be told from
    zero (the result minimises the loss of data perturbed by
    :math:`\gamma_{d+1}` relative in each entry).  On well-conditioned data
    the floor is about ``1e-14`` of the scale and ``rtol`` decides.  Since the
    loss is convex, a zero gradient is a global minimum; near it,
    :math:`L(W_\star) - L^*` is of order :math:`g^\top H^{-1} g` (second order
    in the small gradient).

    Parameters
    ----------
    X : array_like, shape (m, d)
    y : array_like, shape (m,) or (m, k)
    p : int
        Even integer ``>= 2``.
    rtol : float, default 1e-9
        Relative gradient-norm tolerance of the certificate.
    max_iter : int, default 100
        Newton iterations per output.

    Returns
    -------
    LpMinimum
        ``(L_star, W_star)`` with ``W_star`` of shape ``(k, d)``.

    Examples
    --------
    >>> X = np.array([[1.0], [1.0]])
    >>> L_star, W_star = lp_minimum(X, np.array([0.0, 2.0]), p=4)
    >>> round(L_star, 12), W_star.round(9).tolist()
    (0.25, [[1.0]])
    >>> from linnet import lp_loss_grad
    >>> grad = lp_loss_grad(W_star, X, np.array([0.0, 2.0]), p=4)
    >>> bool(np.linalg.norm(grad) < 1e-9)
    True
    """
    inputs = as_matrix("X", X)
    Y = _as_targets(y, inputs.shape[0])
    order = as_p(p)
    tolerance = as_real("rtol", rtol)
    if tolerance <= 0:
        raise ValueError(f"rtol must be > 0, got {rtol}")
    iters = as_int("max_iter", max_iter, 1)
    W_star = np.stack(
        [_lp_column(inputs, Y[:, c], order, tolerance, iters) for c in range(Y.shape[1])]
    )
    R = inputs @ W_star.T - Y
    L_star = float(np.sum(R**order)) / (order * inputs.shape[0])
    return LpMinimum(L_star=L_star, W_star=W_star)
