"""Input checks shared by every public function of :mod:`linnet`.

Each checker either returns a clean value (a finite ``float64`` array, a plain
``int``) or raises ``TypeError`` / ``ValueError`` with a message that
names the offending argument and says what was expected.  Nothing downstream
has to worry about NaN, infinities or ragged shapes.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

FloatArray = NDArray[np.float64]


def as_finite_array(name: str, value: ArrayLike, ndim: int | tuple[int, ...]) -> FloatArray:
    """Return ``value`` as a finite float64 array with an allowed ``ndim``."""
    if isinstance(value, (str, bytes)) or value is None:
        raise TypeError(f"{name} must be an array of numbers, got {type(value).__name__}")
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{name} must be an array of real numbers ({exc})") from None
    allowed = (ndim,) if isinstance(ndim, int) else ndim
    if array.ndim not in allowed:
        wanted = " or ".join(f"{n}-D" for n in allowed)
        raise ValueError(f"{name} must be {wanted}, got an array of shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} contains NaN or infinite entries")
    return array


def as_matrix(name: str, value: ArrayLike) -> FloatArray:
    """A finite 2-D float array."""
    return as_finite_array(name, value, 2)


def as_weights(weights: Sequence[ArrayLike]) -> list[FloatArray]:
    """Validate ``weights = [W_1, ..., W_N]``: non-empty, 2-D, finite, chained shapes."""
    if isinstance(weights, np.ndarray) or not isinstance(weights, Sequence):
        raise TypeError(
            f"weights must be a list [W_1, ..., W_N] of 2-D arrays, got {type(weights).__name__}"
        )
    if len(weights) == 0:
        raise ValueError("weights must contain at least one layer (depth N >= 1), got []")
    mats = [as_matrix(f"weights[{j}] (W_{j + 1})", w) for j, w in enumerate(weights)]
    for j in range(1, len(mats)):
        if mats[j].shape[1] != mats[j - 1].shape[0]:
            raise ValueError(
                f"weights do not chain: W_{j + 1} has shape {mats[j].shape}, so it needs "
                f"{mats[j].shape[1]} inputs, but W_{j} has {mats[j - 1].shape[0]} outputs "
                f"(shape {mats[j - 1].shape}); W_j must have shape (n_j, n_(j-1))"
            )
    return mats


def as_int(name: str, value: Any, minimum: int) -> int:
    """A true integer (``bool`` rejected) that is at least ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return int(value)


def as_depth(depth: Any) -> int:
    """The depth ``N`` of a linear network: an integer ``>= 1``."""
    return as_int("depth", depth, 1)


def as_real(name: str, value: Any) -> float:
    """A finite real scalar."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a real number, got {value!r} ({type(value).__name__})")
    result = float(value)
    if not np.isfinite(result):
        raise ValueError(f"{name} must be finite, got {value}")
    return result


def as_lr(lr: Any) -> float:
    """The learning rate ``eta``: finite and strictly positive."""
    result = as_real("lr", lr)
    if result <= 0:
        raise ValueError(f"lr (the learning rate eta) must be > 0, got {lr}")
    return result


def as_weight_decay(weight_decay: Any) -> float:
    """The weight-decay coefficient ``lambda``: finite and non-negative."""
    result = as_real("weight_decay", weight_decay)
    if result < 0:
        raise ValueError(f"weight_decay (lambda) must be >= 0, got {weight_decay}")
    return result


def as_p(p: Any) -> int:
    """The exponent of the l_p loss: an even integer ``>= 2``."""
    if isinstance(p, bool) or not isinstance(p, numbers.Real):
        raise TypeError(f"p must be an even integer >= 2, got {p!r} ({type(p).__name__})")
    if not float(p).is_integer():
        raise ValueError(f"p must be an even integer >= 2, got {p}")
    p_int = int(p)
    if p_int < 2 or p_int % 2:
        raise ValueError(f"p must be an even integer >= 2, got {p}")
    return p_int


def same_shape(name: str, value: FloatArray, shape: tuple[int, ...], other: str) -> None:
    """Raise unless ``value.shape == shape``."""
    if value.shape != shape:
        raise ValueError(f"{name} must have the shape of {other}, {shape}, got {value.shape}")
