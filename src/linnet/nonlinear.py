r"""A small non-linear convnet in NumPy, for the paper's §7.2 experiment on 8x8 digits.

Section 7.2 of the paper trains TensorFlow's MNIST convnet tutorial model and
*overparameterizes* it by replacing the matrix :math:`W` of every dense layer by a
product :math:`W_b W_a` of two matrices (``W_a`` of the original shape, ``W_b`` square of
the layer's output width), with no non-linearity between them.  This module scales that
model down to the 8x8 UCI digits that ship with ``linnet``:

.. math::

    x \in \mathbb{R}^{8\times 8}
    \xrightarrow{\text{conv } 3\times 3,\ C \text{ channels}} \mathrm{ReLU}
    \xrightarrow{\text{max-pool } 2\times 2} \mathbb{R}^{4\cdot 4\cdot C}
    \xrightarrow{W_1,\, b_1} \mathrm{ReLU}
    \xrightarrow{W_2,\, b_2} \text{logits} \in \mathbb{R}^{10},

trained on the mean softmax cross-entropy with mini-batch SGD with momentum and a
staircase learning-rate decay, as in the tutorial.  With ``overparameterize=True``,
:math:`W_1 = W_{1b} W_{1a}` and :math:`W_2 = W_{2b} W_{2a}`.

Everything is batched over independent *runs* (a leading axis of length ``R`` on every
parameter), so that several seeds and learning rates train in one vectorised loop.  The
backward pass is written by hand (:func:`convnet_loss_grad`) and tested with a Taylor test
and finite differences.
"""

from __future__ import annotations

import gzip
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import FloatArray, as_finite_array, as_int, as_lr, as_matrix, as_real

__all__ = [
    "ConvNetRun",
    "Digits",
    "convnet_loss_grad",
    "count_parameters",
    "factor_pair_update",
    "init_convnet",
    "load_digits",
    "order_verdict",
    "product_scale",
    "speedup",
    "step_ratios",
    "steps_to_levels",
    "steps_to_reach",
    "train_convnet",
    "truncated_normal_std",
]

IntArray = NDArray[np.int64]
Params = dict[str, FloatArray]

#: Side of the images and number of classes of the digits data.
IMAGE_SIDE = 8
N_CLASSES = 10


# --------------------------------------------------------------------------- data


@dataclass(frozen=True)
class Digits:
    """The UCI 8x8 digits, split into a training and a test set.

    Attributes
    ----------
    X_train
        Array of shape ``(n_train, 8, 8)``: pixels rescaled from ``0..16`` to
        ``[-0.5, 0.5]`` (as the TensorFlow tutorial rescales MNIST).
    y_train
        Integer labels ``0..9``, shape ``(n_train,)``.
    X_test
        Array of shape ``(n_test, 8, 8)``, rescaled the same way.
    y_test
        Integer labels, shape ``(n_test,)``.
    """

    X_train: FloatArray
    y_train: IntArray
    X_test: FloatArray
    y_test: IntArray


@cache
def _digits_table() -> IntArray:
    """The shipped CSV file as an integer array (read once per session; never modified)."""
    with resources.files("linnet").joinpath("_datasets/digits.csv.gz").open("rb") as raw:
        table = np.loadtxt(gzip.open(raw, "rt"), delimiter=",", dtype=np.int64)
    table.setflags(write=False)
    return table


def load_digits(test_fraction: float = 0.2, seed: int = 0) -> Digits:
    """The UCI optical handwritten digits (1797 images, 8x8), with a seeded split.

    Reads the copy shipped inside ``linnet`` (``_datasets/digits.csv.gz``, CC BY 4.0,
    Alpaydin & Kaynak 1998; see ``_datasets/DIGITS_README.md``): nothing is downloaded.
    The split is a permutation drawn from ``numpy.random.default_rng(seed)``, stratified by
    class so that both parts keep the class proportions.

    Parameters
    ----------
    test_fraction : float
        Share of each class held out for testing, in ``(0, 1)``.
    seed : int
        Seed of the split (``>= 0``); the default gives the book's split.

    Returns
    -------
    Digits

    Examples
    --------
    >>> data = load_digits()
    >>> data.X_train.shape, data.X_test.shape
    ((1438, 8, 8), (359, 8, 8))
    >>> float(data.X_train.min()), float(data.X_train.max())
    (-0.5, 0.5)
    """
    fraction = as_real("test_fraction", test_fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    seed = as_int("seed", seed, 0)
    table = _digits_table()
    pixels, labels = table[:, :-1], table[:, -1]
    rng = np.random.default_rng(seed)
    test = np.zeros(len(labels), dtype=bool)
    for digit in range(N_CLASSES):
        members = rng.permutation(np.flatnonzero(labels == digit))
        test[members[: round(fraction * len(members))]] = True
    images = pixels.reshape(-1, IMAGE_SIDE, IMAGE_SIDE) / 16.0 - 0.5
    train_order = rng.permutation(np.flatnonzero(~test))
    test_order = np.flatnonzero(test)
    return Digits(images[train_order], labels[train_order], images[test_order], labels[test_order])


# --------------------------------------------------------------------------- model


def _rng(seed: Any) -> np.random.Generator:
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise TypeError(f"seeds must be integers, got {seed!r} ({type(seed).__name__})")
    return np.random.default_rng(int(seed))


def _truncated_normal(rng: np.random.Generator, shape: tuple[int, ...], std: float):
    """Normal(0, std^2) redrawn outside two standard deviations (TensorFlow's rule)."""
    out = rng.standard_normal(shape)
    bad = np.abs(out) > 2
    while np.any(bad):
        out[bad] = rng.standard_normal(int(bad.sum()))
        bad = np.abs(out) > 2
    return std * out


def _check_seeds(seeds: Sequence[int]) -> list[int]:
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Sequence):
        raise TypeError(f"seeds must be a list of integers, got {type(seeds).__name__}")
    if len(seeds) == 0:
        raise ValueError("seeds must contain at least one seed, got []")
    for s in seeds:
        _rng(s)
    return [int(s) for s in seeds]


def init_convnet(
    seeds: Sequence[int],
    *,
    channels: int = 8,
    hidden: int = 24,
    overparameterize: bool = False,
    std: float = 0.1,
    factor_init: str = "normal",
    dense_scale: tuple[float, float] = (1.0, 1.0),
) -> Params:
    r"""Initial parameters of the convnet, one run per seed (leading axis ``R = len(seeds)``).

    As in the TensorFlow MNIST tutorial used in §7.2 of the paper, every weight matrix and
    kernel is drawn from a normal distribution truncated at two standard deviations, with
    standard deviation ``std = 0.1``; the convolution's biases start at 0 and the dense
    biases at 0.1.  With ``overparameterize=True`` each dense matrix :math:`W` (shape
    ``(n_out, n_in)``) is replaced by a pair :math:`W_b W_a`, with :math:`W_a` of shape
    ``(n_out, n_in)`` and :math:`W_b` of shape ``(n_out, n_out)``, both drawn the same way
    (our reading of "initialised as the code initialises a dense matrix"; the paper does
    not spell this out).  For a given seed the two models share the convolution, the
    biases and :math:`W_a = W`.

    Parameters
    ----------
    seeds : sequence of int
        One seed per run.
    channels : int
        Number ``C`` of convolution channels (3x3 kernels); the dense layer sees
        ``16 C`` features.
    hidden : int
        Width of the hidden dense layer.
    overparameterize : bool
        Replace every dense matrix by a product of two (the paper's §7.2 modification).
    std : float
        Standard deviation of the truncated normal initialisation (> 0).
    factor_init : {"normal", "identity"}
        How the new square factors :math:`W_b` start: drawn like every other matrix
        (``"normal"``), or as the identity (``"identity"``: the overparameterized model
        then computes exactly the base model's function at initialisation).
    dense_scale : (float, float)
        Factors ``(c_1, c_2) > 0`` that multiply the base model's dense matrices
        :math:`W_1, W_2` after they are drawn (the same draw, rescaled).  With
        ``(product_scale(hidden), product_scale(10))`` the base model starts at the scale
        of the overparameterized model's products (:func:`product_scale`): the control
        that separates the initial scale from the overparameterization.  Only for the
        base model.

    Returns
    -------
    dict of str to ndarray
        ``conv_w`` ``(R, 9, C)``, ``conv_b`` ``(R, C)``, ``fc1_b`` ``(R, hidden)``,
        ``fc2_b`` ``(R, 10)`` and either ``fc1_w`` ``(R, hidden, 16 C)``, ``fc2_w``
        ``(R, 10, hidden)`` or the pairs ``fc1_wa``, ``fc1_wb`` ``(R, hidden, hidden)``,
        ``fc2_wa``, ``fc2_wb`` ``(R, 10, 10)``.

    Examples
    --------
    >>> params = init_convnet([0, 1], channels=4, hidden=8, overparameterize=True)
    >>> {k: v.shape for k, v in params.items()}["fc1_wb"]
    (2, 8, 8)
    """
    seeds = _check_seeds(seeds)
    channels = as_int("channels", channels, 1)
    hidden = as_int("hidden", hidden, 1)
    std = as_real("std", std)
    if std <= 0:
        raise ValueError(f"std must be > 0, got {std}")
    if factor_init not in ("normal", "identity"):
        raise ValueError(f"factor_init must be 'normal' or 'identity', got {factor_init!r}")
    scales = _dense_scale(dense_scale)
    if overparameterize and scales != (1.0, 1.0):
        raise ValueError("dense_scale rescales the base model only (overparameterize=False)")
    features = 4 * 4 * channels
    runs: list[Params] = []
    for seed in seeds:
        rng = _rng(seed)
        p = {
            "conv_w": _truncated_normal(rng, (9, channels), std),
            "conv_b": np.zeros(channels),
            "fc1_w": _truncated_normal(rng, (hidden, features), std),
            "fc1_b": np.full(hidden, 0.1),
            "fc2_w": _truncated_normal(rng, (N_CLASSES, hidden), std),
            "fc2_b": np.full(N_CLASSES, 0.1),
        }
        p["fc1_w"] *= scales[0]
        p["fc2_w"] *= scales[1]
        if overparameterize:
            p["fc1_wa"] = p.pop("fc1_w")
            p["fc2_wa"] = p.pop("fc2_w")
            if factor_init == "identity":
                p["fc1_wb"], p["fc2_wb"] = np.eye(hidden), np.eye(N_CLASSES)
            else:
                p["fc1_wb"] = _truncated_normal(rng, (hidden, hidden), std)
                p["fc2_wb"] = _truncated_normal(rng, (N_CLASSES, N_CLASSES), std)
        runs.append(p)
    return {k: np.stack([p[k] for p in runs]) for k in sorted(runs[0])}


def _dense_scale(dense_scale: Any) -> tuple[float, float]:
    if isinstance(dense_scale, (str, bytes)) or not isinstance(dense_scale, Sequence):
        raise TypeError(f"dense_scale must be a pair of numbers, got {dense_scale!r}")
    if len(dense_scale) != 2:
        raise ValueError(f"dense_scale must be a pair (c_1, c_2), got {dense_scale!r}")
    pair = (as_real("dense_scale[0]", dense_scale[0]), as_real("dense_scale[1]", dense_scale[1]))
    if min(pair) <= 0:
        raise ValueError(f"dense_scale must be positive, got {dense_scale!r}")
    return pair


def truncated_normal_std(std: float = 0.1) -> float:
    r"""Standard deviation of a normal :math:`N(0, \sigma^2)` truncated at :math:`\pm 2\sigma`.

    TensorFlow's ``truncated_normal`` initialiser, used by the tutorial model of the
    paper's §7.2, redraws values beyond two standard deviations; that shrinks the
    standard deviation to

    .. math::

        \sigma_t = \sigma \sqrt{1 - \frac{4\,\varphi(2)}{2\Phi(2) - 1}} \approx 0.880\,\sigma,

    with :math:`\varphi, \Phi` the standard normal density and distribution function.

    Parameters
    ----------
    std : float
        :math:`\sigma > 0`.

    Returns
    -------
    float

    Examples
    --------
    >>> round(truncated_normal_std(0.1), 4)
    0.088
    """
    sigma = as_real("std", std)
    if sigma <= 0:
        raise ValueError(f"std must be > 0, got {std}")
    density = math.exp(-2.0) / math.sqrt(2 * math.pi)
    mass = math.erf(2 / math.sqrt(2))
    return sigma * math.sqrt(1 - 4 * density / mass)


def product_scale(inner: int, std: float = 0.1) -> float:
    r"""How much larger the entries of :math:`W_b W_a` start than those of one matrix.

    With every entry of :math:`W_a` and :math:`W_b` drawn independently with mean 0 and
    standard deviation :math:`\sigma_t` (:func:`truncated_normal_std`), an entry of the
    product sums :math:`m` independent products (``inner`` :math:`= m`, the width between
    the factors), so its standard deviation is :math:`\sigma_t^2 \sqrt{m}`; divided by
    a single matrix's :math:`\sigma_t` the ratio is

    .. math::

        \frac{\operatorname{std}(W_b W_a)}{\operatorname{std}(W)} = \sigma_t \sqrt{m} .

    This is the initial scale of the paper's §7.2 overparameterization when the new
    factors are initialised like every other matrix: below 1 for the book's widths
    (:math:`m = 24` and 10), about 2 for the paper's first dense layer (:math:`m = 512`).

    Parameters
    ----------
    inner : int
        :math:`m \ge 1`.
    std : float
        :math:`\sigma` of the truncated normal initialiser.

    Returns
    -------
    float

    Examples
    --------
    >>> [round(product_scale(m), 2) for m in (10, 24, 512)]
    [0.28, 0.43, 1.99]
    """
    m = as_int("inner", inner, 1)
    return truncated_normal_std(std) * math.sqrt(m)


def count_parameters(params: Params) -> int:
    """Number of trainable parameters of *one* run (the leading run axis is not counted).

    Examples
    --------
    >>> base = count_parameters(init_convnet([0]))
    >>> over = count_parameters(init_convnet([0], overparameterize=True))
    >>> base, over, round(100 * (over - base) / base, 1)
    (3426, 4102, 19.7)
    """
    params = _check_params(params)
    return int(sum(v[0].size for v in params.values()))


_BASE_KEYS = {"conv_w", "conv_b", "fc1_w", "fc1_b", "fc2_w", "fc2_b"}
_OVER_KEYS = {"conv_w", "conv_b", "fc1_wa", "fc1_wb", "fc1_b", "fc2_wa", "fc2_wb", "fc2_b"}


def _check_params(params: Params) -> Params:
    if not isinstance(params, dict):
        raise TypeError(f"params must be a dict from init_convnet, got {type(params).__name__}")
    if set(params) not in (_BASE_KEYS, _OVER_KEYS):
        raise ValueError(
            f"params must have the keys of init_convnet's output, got {sorted(params)}"
        )
    out = {k: as_finite_array(f"params[{k!r}]", v, (2, 3)) for k, v in params.items()}
    runs = {v.shape[0] for v in out.values()}
    if len(runs) != 1:
        raise ValueError(f"params must share one leading run axis, got lengths {sorted(runs)}")
    return out


def _dense(params: Params, name: str) -> FloatArray:
    """The dense matrix ``W`` of layer ``name``: ``W`` itself or the product ``W_b W_a``."""
    if f"{name}_w" in params:
        return params[f"{name}_w"]
    return params[f"{name}_wb"] @ params[f"{name}_wa"]


def _patches(images: FloatArray) -> FloatArray:
    """im2col for a 3x3 'same' convolution: ``(..., 8, 8) -> (..., 64, 9)``."""
    pad = [(0, 0)] * (images.ndim - 2) + [(1, 1), (1, 1)]
    padded = np.pad(images, pad)
    cols = [padded[..., i : i + IMAGE_SIDE, j : j + IMAGE_SIDE] for i in range(3) for j in range(3)]
    return np.stack(cols, axis=-1).reshape(*images.shape[:-2], IMAGE_SIDE**2, 9)


def _pool_views(a1: FloatArray) -> list[FloatArray]:
    """The four members of every 2x2 pooling window: views of shape ``(R, B, 4, 4, C)``."""
    R, B, C = a1.shape[0], a1.shape[1], a1.shape[-1]
    grid = a1.reshape(R, B, 4, 2, 4, 2, C)
    return [grid[:, :, :, di, :, dj, :] for di in range(2) for dj in range(2)]


def _forward(params: Params, patches: FloatArray) -> dict[str, FloatArray]:
    """Forward pass. ``patches``: ``(R, B, 64, 9)`` or shared ``(B, 64, 9)``."""
    R, C = params["conv_w"].shape[0], params["conv_w"].shape[-1]
    B = patches.shape[-3]
    if patches.ndim == 3:  # one batch shared by all runs (numpy's broadcast matmul is slow)
        z1 = np.einsum("nk,rkc->rnc", patches.reshape(-1, 9), params["conv_w"], optimize=True)
    else:
        z1 = patches.reshape(R, -1, 9) @ params["conv_w"]
    z1 = (z1 + params["conv_b"][:, None, :]).reshape(R, B, 64, C)
    a1 = np.maximum(z1, 0.0)
    views = _pool_views(a1)
    pooled = np.maximum(np.maximum(views[0], views[1]), np.maximum(views[2], views[3]))
    features = pooled.reshape(R, B, 16 * C)
    W1, W2 = _dense(params, "fc1"), _dense(params, "fc2")
    z2 = features @ W1.transpose(0, 2, 1) + params["fc1_b"][:, None, :]
    a2 = np.maximum(z2, 0.0)
    logits = a2 @ W2.transpose(0, 2, 1) + params["fc2_b"][:, None, :]
    return {
        "z1": z1,
        "a1": a1,
        "pooled": pooled,
        "features": features,
        "z2": z2,
        "a2": a2,
        "logits": logits,
        "W1": W1,
        "W2": W2,
    }


def _cross_entropy(logits: FloatArray, labels: IntArray) -> tuple[FloatArray, FloatArray]:
    """Mean softmax cross-entropy per run, and the softmax probabilities."""
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_norm = np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    log_prob = shifted - log_norm
    picked = np.take_along_axis(log_prob, labels[..., None], axis=-1)[..., 0]
    return -picked.mean(axis=-1), np.exp(log_prob)


def _labels_for(labels: ArrayLike, shape: tuple[int, ...]) -> IntArray:
    lab = np.asarray(labels)
    if lab.shape != shape:
        raise ValueError(f"labels must have shape {shape} (one per image), got {lab.shape}")
    if not np.issubdtype(lab.dtype, np.integer) or lab.min() < 0 or lab.max() >= N_CLASSES:
        raise ValueError(f"labels must be integers in 0..{N_CLASSES - 1}")
    return lab.astype(np.int64)


def _pair_grads(grads: Params, params: Params, name: str, G: FloatArray) -> None:
    """Gradients of the factors from ``G = dL/dW``: ``W_b^T G`` and ``G W_a^T``."""
    if f"{name}_w" in params:
        grads[f"{name}_w"] = G
    else:
        grads[f"{name}_wa"] = params[f"{name}_wb"].transpose(0, 2, 1) @ G
        grads[f"{name}_wb"] = G @ params[f"{name}_wa"].transpose(0, 2, 1)


def _loss_grad(
    params: Params, patches: FloatArray, labels: IntArray, need_grad: bool = True
) -> tuple[FloatArray, Params, FloatArray]:
    """Unchecked core of :func:`convnet_loss_grad` (also returns the logits)."""
    cache = _forward(params, patches)
    loss, prob = _cross_entropy(cache["logits"], labels)
    if not need_grad:
        return loss, {}, cache["logits"]
    R, B, _ = prob.shape
    C = params["conv_w"].shape[-1]
    onehot = np.eye(N_CLASSES, dtype=prob.dtype)[labels]
    dlogits = (prob - onehot) / B  # softmax - one-hot, averaged over the batch
    grads: Params = {}
    a2 = cache["a2"]
    _pair_grads(grads, params, "fc2", dlogits.transpose(0, 2, 1) @ a2)
    grads["fc2_b"] = dlogits.sum(axis=1)
    dz2 = (dlogits @ cache["W2"]) * (cache["z2"] > 0)
    _pair_grads(grads, params, "fc1", dz2.transpose(0, 2, 1) @ cache["features"])
    grads["fc1_b"] = dz2.sum(axis=1)
    dpooled = (dz2 @ cache["W1"]).reshape(R, B, 4, 4, C)
    # Max-pooling routes the gradient to the first maximum of each window.
    da1 = np.zeros((R, B, 4, 2, 4, 2, C), dtype=dpooled.dtype)
    free = np.ones(dpooled.shape, dtype=bool)
    for k, view in enumerate(_pool_views(cache["a1"])):
        hit = free & (view == cache["pooled"])
        free &= ~hit
        da1[:, :, :, k // 2, :, k % 2, :] = np.where(hit, dpooled, 0.0)
    dz1 = da1.reshape(R, B * IMAGE_SIDE**2, C) * (cache["z1"] > 0).reshape(R, -1, C)
    if patches.ndim == 3:
        grads["conv_w"] = patches.reshape(-1, 9).T @ dz1
    else:
        grads["conv_w"] = patches.reshape(R, -1, 9).transpose(0, 2, 1) @ dz1
    grads["conv_b"] = dz1.sum(axis=1)
    return loss, grads, cache["logits"]


def convnet_loss_grad(
    params: Params, images: ArrayLike, labels: ArrayLike
) -> tuple[FloatArray, Params]:
    r"""Mean softmax cross-entropy of every run and its gradient (hand-written backward pass).

    For logits :math:`z \in \mathbb{R}^{10}` and label :math:`y` the loss is
    :math:`\ell = \log \sum_c e^{z_c} - z_y`, averaged over the mini-batch, and
    :math:`\partial \ell / \partial z = \mathrm{softmax}(z) - e_y`.  Through a factor
    pair :math:`W = W_b W_a` the chain rule gives
    :math:`\nabla_{W_a} = W_b^\top G` and :math:`\nabla_{W_b} = G W_a^\top` with
    :math:`G = \partial L / \partial W` (Theorem 1's setting of §4.1, for ``N = 2``).

    Parameters
    ----------
    params : dict of str to ndarray
        From :func:`init_convnet` (``R`` runs).
    images : array_like
        Shape ``(B, 8, 8)`` (the same batch for every run) or ``(R, B, 8, 8)``.
    labels : array_like of int
        Shape ``(B,)`` or ``(R, B)``, values ``0..9``.

    Returns
    -------
    loss : ndarray
        Shape ``(R,)``.
    grads : dict of str to ndarray
        Same keys and shapes as ``params``.

    Examples
    --------
    >>> data = load_digits()
    >>> params = init_convnet([0], channels=4, hidden=8)
    >>> loss, grads = convnet_loss_grad(params, data.X_train[:32], data.y_train[:32])
    >>> loss.shape, grads["fc1_w"].shape
    ((1,), (1, 8, 64))
    >>> bool(abs(loss[0] - np.log(10)) < 0.5)  # near chance level at initialisation
    True
    """
    params = _check_params(params)
    R = params["conv_w"].shape[0]
    imgs = as_finite_array("images", images, (3, 4))
    if imgs.shape[-2:] != (IMAGE_SIDE, IMAGE_SIDE) or (imgs.ndim == 4 and imgs.shape[0] != R):
        raise ValueError(
            f"images must have shape (B, 8, 8) or (R, B, 8, 8) with R = {R}, got {imgs.shape}"
        )
    lab = _labels_for(labels, imgs.shape[:-2])
    if lab.ndim == 1:
        lab = np.broadcast_to(lab, (R, *lab.shape))
    loss, grads, _ = _loss_grad(params, _patches(imgs), lab)
    return loss, grads


# --------------------------------------------------------------------------- training


@dataclass(frozen=True)
class ConvNetRun:
    """What :func:`train_convnet` recorded for a grid of learning rates x seeds.

    Attributes
    ----------
    lrs
        The ``L`` learning rates of the grid.
    seeds
        The ``S`` seeds of the grid.
    batch_loss
        Shape ``(L, S, steps)``: the mini-batch loss of every step (before its update);
        NaN once a run diverged.
    train_loss
        Shape ``(L, S, steps)``: the *training loss* the book plots, the mean of the
        mini-batch losses over the last epoch (a trailing window of ``window`` steps,
        fewer at the start) -- one pass over the training set, without extra forward
        passes.
    final_train_loss
        Shape ``(L, S)``: mean cross-entropy on the whole training set at the end.
    train_accuracy
        Shape ``(L, S)``: accuracy (fraction) on the training set at the end.
    test_accuracy
        Shape ``(L, S)``: accuracy (fraction) on the test set at the end.
    window
        Steps per epoch, ``ceil(n_train / batch_size)``.
    n_params
        Trainable parameters of one model.
    params
        Final parameters (float32), run axis of length ``L * S`` (learning rate major).
    """

    lrs: FloatArray
    seeds: IntArray
    batch_loss: FloatArray
    train_loss: FloatArray
    final_train_loss: FloatArray
    train_accuracy: FloatArray
    test_accuracy: FloatArray
    window: int
    n_params: int
    params: Params


def _evaluate(params: Params, patches: FloatArray, labels: IntArray, chunk: int = 8):
    """Mean loss and accuracy on a whole data set, a few runs at a time (bounded memory)."""
    R = params["conv_w"].shape[0]
    losses, accs = np.empty(R), np.empty(R)
    for start in range(0, R, chunk):
        part = {k: v[start : start + chunk] for k, v in params.items()}
        r = part["conv_w"].shape[0]
        lab = np.broadcast_to(labels, (r, len(labels)))
        with np.errstate(over="ignore", invalid="ignore"):
            loss, _, logits = _loss_grad(part, patches, lab, need_grad=False)
        losses[start : start + r] = loss
        accs[start : start + r] = (logits.argmax(-1) == labels).mean(-1)
    return losses, accs


def train_convnet(
    data: Digits,
    lrs: Sequence[float] | float,
    seeds: Sequence[int],
    *,
    steps: int,
    overparameterize: bool = False,
    momentum: float = 0.9,
    batch_size: int = 64,
    decay: float = 0.95,
    channels: int = 8,
    hidden: int = 24,
    factor_init: str = "normal",
    dense_scale: tuple[float, float] = (1.0, 1.0),
) -> ConvNetRun:
    r"""Train the convnet by mini-batch SGD with momentum, for every learning rate x seed.

    The optimizer is TensorFlow's ``MomentumOptimizer`` as used by the tutorial model of
    the paper's §7.2: with gradient :math:`g_t` of the mini-batch loss,

    .. math::

        v_{t+1} = \mu v_t + g_t, \qquad \theta_{t+1} = \theta_t - \eta_t v_{t+1},
        \qquad \eta_t = \eta\, \gamma^{\lfloor t B / n \rfloor},

    a staircase decay by :math:`\gamma` (``decay``) after every epoch of :math:`n`
    training images (:math:`\mu = 0` is plain SGD).  The tutorial's dropout and
    weight decay are left out: the question here is optimization.  Each seed fixes the
    initialisation (:func:`init_convnet`) and the order of the mini-batches (a fresh
    permutation every epoch), so the base and the overparameterized model see the same
    batches for the same seed.  A run whose loss or parameters stop being finite is
    frozen and its later losses are NaN.

    Parameters
    ----------
    data : Digits
        From :func:`load_digits`.
    lrs : float or sequence of float
        Learning rates :math:`\eta` (> 0).
    seeds : sequence of int
        Seeds.
    steps : int
        Number of mini-batch steps.
    overparameterize : bool
        Train the overparameterized model (every dense :math:`W` replaced by :math:`W_b W_a`).
    momentum : float
        :math:`\mu \in [0, 1)`; the tutorial's value is 0.9.
    batch_size : int
        :math:`B` (the tutorial's is 64).
    decay : float
        :math:`\gamma \in (0, 1]` (the tutorial's is 0.95 per epoch).
    channels, hidden : int
        Model size, see :func:`init_convnet`.
    factor_init : str
        Initialisation of the square factors, see :func:`init_convnet`.
    dense_scale : (float, float)
        Rescaling of the base model's dense matrices at initialisation, see
        :func:`init_convnet`.

    Returns
    -------
    ConvNetRun

    Examples
    --------
    >>> run = train_convnet(load_digits(), [0.05, 0.1], [0, 1], steps=60)
    >>> run.train_loss.shape, run.test_accuracy.shape
    ((2, 2, 60), (2, 2))
    >>> bool(np.all(run.train_loss[:, :, -1] < run.train_loss[:, :, 0]))
    True
    """
    if not isinstance(data, Digits):
        raise TypeError(f"data must be a Digits from load_digits, got {type(data).__name__}")
    lr_list = [lrs] if np.isscalar(lrs) else list(lrs)  # type: ignore[arg-type]
    if not lr_list:
        raise ValueError("lrs must contain at least one learning rate")
    lr_grid = np.array([as_lr(lr) for lr in lr_list])
    seed_list = _check_seeds(seeds)
    steps = as_int("steps", steps, 1)
    batch_size = as_int("batch_size", batch_size, 1)
    mu = as_real("momentum", momentum)
    if not 0.0 <= mu < 1.0:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    gamma = as_real("decay", decay)
    if not 0.0 < gamma <= 1.0:
        raise ValueError(f"decay must be in (0, 1], got {decay}")
    n_train = len(data.y_train)
    if batch_size > n_train:
        raise ValueError(f"batch_size must be <= {n_train} (the training set), got {batch_size}")

    L, S = len(lr_grid), len(seed_list)
    one = init_convnet(
        seed_list,
        channels=channels,
        hidden=hidden,
        overparameterize=overparameterize,
        factor_init=factor_init,
        dense_scale=dense_scale,
    )
    # Training runs in float32, as TensorFlow does (the gradients are tested in float64).
    params = {k: np.tile(v, (L,) + (1,) * (v.ndim - 1)).astype(np.float32) for k, v in one.items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    run_lr = np.repeat(lr_grid, S)  # learning rate major: run = i_lr * S + i_seed
    alive = np.ones(L * S, dtype=bool)

    # Mini-batch order: per seed, a fresh permutation each epoch (shared by the lr grid).
    epochs = -(-steps * batch_size // n_train) + 1
    orders = []
    for seed in seed_list:
        rng = np.random.default_rng([seed, 1])
        orders.append(np.concatenate([rng.permutation(n_train) for _ in range(epochs)]))
    order = np.stack(orders)

    train_patches = _patches(data.X_train).astype(np.float32)
    test_patches = _patches(data.X_test).astype(np.float32)
    batch_loss = np.full((L * S, steps), np.nan)

    for t in range(steps):
        idx = order[:, t * batch_size : (t + 1) * batch_size]
        idx = np.tile(idx, (L, 1))
        with np.errstate(over="ignore", invalid="ignore"):
            loss, grads, _ = _loss_grad(params, train_patches[idx], data.y_train[idx])
        ok = np.isfinite(loss)
        for g in grads.values():
            ok &= np.isfinite(g).reshape(len(ok), -1).all(axis=1)
        alive &= ok
        batch_loss[:, t] = np.where(alive, loss, np.nan)
        step_lr = np.where(alive, run_lr, 0.0) * gamma ** ((t * batch_size) // n_train)
        step_lr = step_lr.astype(np.float32)
        for k, g in grads.items():
            g = np.where(alive.reshape((-1,) + (1,) * (g.ndim - 1)), g, np.float32(0.0))
            velocity[k] = mu * velocity[k] + g
            shape = (-1,) + (1,) * (g.ndim - 1)
            params[k] = params[k] - step_lr.reshape(shape) * velocity[k]
        for v in params.values():
            alive &= np.isfinite(v).reshape(len(alive), -1).all(axis=1)

    window = -(-n_train // batch_size)
    sums = np.cumsum(batch_loss, axis=1)
    lagged = np.concatenate([np.zeros((L * S, window)), sums[:, :-window]], axis=1)[:, :steps]
    counts = np.minimum(np.arange(1, steps + 1), window)
    train_loss = (sums - lagged) / counts
    final_loss, train_acc = _evaluate(params, train_patches, data.y_train)
    _, test_acc = _evaluate(params, test_patches, data.y_test)
    return ConvNetRun(
        lrs=lr_grid,
        seeds=np.array(seed_list),
        batch_loss=batch_loss.reshape(L, S, -1),
        train_loss=train_loss.reshape(L, S, -1),
        final_train_loss=np.where(alive, final_loss, np.nan).reshape(L, S),
        train_accuracy=np.where(alive, train_acc, np.nan).reshape(L, S),
        test_accuracy=np.where(alive, test_acc, np.nan).reshape(L, S),
        window=window,
        n_params=count_parameters(one),
        params=params,
    )


# --------------------------------------------------------------------------- analysis


def factor_pair_update(
    W_a: ArrayLike, W_b: ArrayLike, grad: ArrayLike, lr: float
) -> tuple[FloatArray, FloatArray]:
    r"""The product :math:`W = W_b W_a` after one gradient step on the pair, split by order.

    A gradient step on the factors with :math:`G = \partial L / \partial W` moves the
    product to

    .. math::

        (W_b - \eta G W_a^\top)(W_a - \eta W_b^\top G)
        &= W - \eta \left(W_b W_b^\top G + G W_a^\top W_a\right) \\
        &\quad + \eta^2\, G W_a^\top W_b^\top G .

    The first-order term is Theorem 1's end-to-end dynamics (§4.1) for depth
    :math:`N = 2` *before* balancedness is used: with balanced factors
    (:math:`W_a W_a^\top = W_b^\top W_b`) it becomes the preconditioned update of
    Claim 1.  This identity holds whatever surrounds the layer (ReLUs, other layers), as
    long as those are held fixed during the step; it is what "carries over" from the
    linear theory to a dense layer inside a non-linear network.

    Parameters
    ----------
    W_a : array_like
        Shape ``(m, n)``.
    W_b : array_like
        Shape ``(k, m)``.
    grad : array_like
        :math:`G`, shape ``(k, n)``.
    lr : float
        :math:`\eta > 0`.

    Returns
    -------
    first_order : ndarray
        :math:`W - \eta (W_b W_b^\top G + G W_a^\top W_a)`.
    second_order : ndarray
        :math:`\eta^2 G W_a^\top W_b^\top G`; the exact new product is the sum.

    Examples
    --------
    >>> W_a, W_b, G = np.eye(2), 2 * np.eye(2), np.ones((2, 2))
    >>> first, second = factor_pair_update(W_a, W_b, G, lr=0.1)
    >>> first
    array([[ 1.5, -0.5],
           [-0.5,  1.5]])
    >>> np.allclose(first + second, (W_b - 0.1 * G @ W_a.T) @ (W_a - 0.1 * W_b.T @ G))
    True
    """
    A, Bm, G = as_matrix("W_a", W_a), as_matrix("W_b", W_b), as_matrix("grad", grad)
    eta = as_lr(lr)
    if Bm.shape[1] != A.shape[0]:
        raise ValueError(f"W_b must have W_a.shape[0] = {A.shape[0]} columns, got shape {Bm.shape}")
    if G.shape != (Bm.shape[0], A.shape[1]):
        raise ValueError(
            f"grad must have the shape of W_b @ W_a, {(Bm.shape[0], A.shape[1])}, got {G.shape}"
        )
    first = Bm @ A - eta * (Bm @ Bm.T @ G + G @ A.T @ A)
    return first, eta**2 * G @ A.T @ Bm.T @ G


def steps_to_reach(losses: ArrayLike, steps: ArrayLike, target: float) -> float:
    """The first step at which a recorded loss curve is at or below ``target``.

    Parameters
    ----------
    losses : array_like
        Shape ``(T,)``: losses recorded at ``steps`` (NaN = diverged, never reaches).
    steps : array_like
        Shape ``(T,)``: increasing step numbers.
    target : float
        The loss to reach.

    Returns
    -------
    float
        The step number, or ``inf`` if the curve never gets there.

    Examples
    --------
    >>> steps_to_reach([2.0, 1.0, 0.5, 0.6], [0, 10, 20, 30], target=0.55)
    20.0
    >>> steps_to_reach([2.0, 1.0], [0, 10], target=0.1)
    inf
    """
    steps_arr = np.asarray(steps, dtype=np.float64)
    loss_arr = np.asarray(losses, dtype=np.float64)
    if loss_arr.ndim != 1 or steps_arr.shape != loss_arr.shape:
        raise ValueError(
            f"losses and steps must be 1-D of equal length, got {loss_arr.shape} "
            f"and {steps_arr.shape}"
        )
    if loss_arr.size == 0:
        raise ValueError("losses must not be empty")
    if not np.all(np.isfinite(steps_arr)) or np.any(np.diff(steps_arr) <= 0):
        raise ValueError("steps must be finite and increasing")
    goal = as_real("target", target)
    with np.errstate(invalid="ignore"):
        hit = np.flatnonzero(loss_arr <= goal)
    return float(steps_arr[hit[0]]) if hit.size else float("inf")


def steps_to_levels(losses: ArrayLike, levels: Sequence[float]) -> FloatArray:
    """Steps at which loss curves first reach each level of a ladder (``inf``: not reached).

    The vectorised form of :func:`steps_to_reach` for curves recorded at every step
    (entry ``t - 1`` is step ``t``).  A level that is not reached within the curve is
    *censored*: the result is ``inf``, never 0, so it cannot be averaged by mistake.

    Parameters
    ----------
    losses : array_like
        Shape ``(..., T)``: loss curves, one entry per step (NaN = diverged).
    levels : sequence of float
        The loss levels of the ladder.

    Returns
    -------
    ndarray
        Shape ``(..., len(levels))``: step numbers as floats, ``inf`` where not reached.

    Examples
    --------
    >>> steps_to_levels([[2.0, 1.0, 0.5, 0.2]], [1.5, 0.5, 0.1])
    array([[ 2.,  3., inf]])
    """
    curves = np.asarray(losses, dtype=np.float64)
    if curves.ndim < 1 or curves.shape[-1] == 0:
        raise ValueError(f"losses must have at least one step, got shape {curves.shape}")
    if isinstance(levels, (str, bytes)) or not isinstance(levels, Sequence) or not levels:
        raise ValueError(f"levels must be a non-empty sequence of numbers, got {levels!r}")
    goals = np.array([as_real("level", v) for v in levels])
    with np.errstate(invalid="ignore"):
        below = curves[..., None, :] <= goals[:, None]
    first = np.argmax(below, axis=-1).astype(np.float64) + 1
    return np.where(below.any(axis=-1), first, np.inf)


def step_ratios(
    steps_over: ArrayLike, steps_ref: ArrayLike, budget: int
) -> tuple[FloatArray, NDArray[np.bool_]]:
    """How many times sooner a model reaches a level than a reference, censoring kept.

    The ratio is ``steps_ref / steps_over`` (above 1: the first model is faster).  A side
    that did not reach the level within ``budget`` steps (``inf``, as returned by
    :func:`steps_to_levels`) is replaced by ``budget``, so the ratio becomes a *bound*:
    a lower bound if the reference did not reach the level, an upper bound if the model
    did not; it is NaN when neither did.  The second result flags the bounds.

    Parameters
    ----------
    steps_over, steps_ref : array_like
        Steps to reach the levels (``inf`` = not reached), same shape.
    budget : int
        The number of steps the runs had.

    Returns
    -------
    ratio : ndarray
    censored : ndarray of bool

    Examples
    --------
    >>> ratio, censored = step_ratios([100, 400, np.inf], [200, np.inf, np.inf], 1000)
    >>> ratio, censored
    (array([2. , 2.5, nan]), array([False,  True,  True]))
    """
    over = np.asarray(steps_over, dtype=np.float64)
    ref = np.asarray(steps_ref, dtype=np.float64)
    if over.shape != ref.shape:
        raise ValueError(
            f"steps_over and steps_ref must share a shape, got {over.shape}, {ref.shape}"
        )
    cap = as_int("budget", budget, 1)
    for name, arr in (("steps_over", over), ("steps_ref", ref)):
        if np.any(np.isnan(arr)) or np.any(arr[np.isfinite(arr)] > cap) or np.any(arr < 1):
            raise ValueError(f"{name} must be steps in 1..{cap} or inf (not reached)")
    censored = np.isinf(over) | np.isinf(ref)
    ratio = np.minimum(ref, cap) / np.minimum(over, cap)
    return np.where(np.isinf(over) & np.isinf(ref), np.nan, ratio), censored


def order_verdict(ratios: ArrayLike, resolution: float = 2.0) -> str:
    """One verdict from per-seed step ratios: faster, slower, a tie, or mixed.

    "faster" only if every seed's ratio (or bound, :func:`step_ratios`) is at least
    ``resolution``, "slower" only if every one is at most ``1 / resolution``, "tie" if all
    lie strictly between, "mixed" otherwise, and "not reached" if some seed's models both
    missed the level.  ``resolution`` is the step-count gap a learning-rate grid cannot
    resolve: the step of the grid on which the rates were tuned (the book's one tie rule;
    chapter 7's recorded grids are spaced by factors of 2).

    Parameters
    ----------
    ratios : array_like
        Per-seed ratios, 1-D.
    resolution : float, default 2
        Above 1.

    Returns
    -------
    str

    Examples
    --------
    >>> order_verdict([2.5, 2.1]), order_verdict([1.2, 0.9]), order_verdict([2.5, 1.2])
    ('faster', 'tie', 'mixed')
    """
    r = np.asarray(ratios, dtype=np.float64)
    if r.ndim != 1 or r.size == 0:
        raise ValueError(f"ratios must be a non-empty 1-D array, got shape {r.shape}")
    factor = as_real("resolution", resolution)
    if factor <= 1:
        raise ValueError(f"resolution must be > 1, got {resolution}")
    if np.any(np.isnan(r)):
        return "not reached"
    if np.all(r >= factor):
        return "faster"
    if np.all(r <= 1 / factor):
        return "slower"
    if np.all((r > 1 / factor) & (r < factor)):
        return "tie"
    return "mixed"


def speedup(base_loss: ArrayLike, over_loss: ArrayLike) -> float:
    r"""How many times fewer steps the overparameterized model needs to reach the base
    model's final training loss.

    With :math:`L^\ast` the last entry of ``base_loss``, the result is
    :math:`s_{\text{base}} / s_{\text{over}}`, where :math:`s` is the first step at which a
    curve is at or below :math:`L^\ast` (:func:`steps_to_reach`; step ``t`` is entry
    ``t - 1``).  Above 1: the overparameterized model is faster; 0: it never gets there.

    Parameters
    ----------
    base_loss, over_loss : array_like
        Training-loss curves of equal length, one entry per step.

    Returns
    -------
    float

    Examples
    --------
    >>> speedup([3.0, 2.0, 1.0, 0.5], [2.0, 0.4, 0.3, 0.2])
    2.0
    >>> speedup([3.0, 2.0, 1.0, 0.5], [3.0, 3.0, 3.0, 3.0])
    0.0
    """
    base = as_finite_array("base_loss", base_loss, 1)
    over = np.asarray(over_loss, dtype=np.float64)
    if over.shape != base.shape:
        raise ValueError(
            f"over_loss must have the shape of base_loss, {base.shape}, got {over.shape}"
        )
    steps = np.arange(1, base.size + 1)
    target = float(base[-1])
    return steps_to_reach(base, steps, target) / steps_to_reach(over, steps, target)
