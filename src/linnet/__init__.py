"""linnet: deep linear networks and the end-to-end update rule.

A small, exact NumPy companion to Arora, Cohen & Hazan, *On the Optimization of
Deep Networks: Implicit Acceleration by Overparameterization* (ICML 2018,
arXiv:1802.06509).  Every formula of the paper that the book uses lives here
once, with the paper's equation or theorem in its docstring.

Plotting and widget helpers live in :mod:`linnet.plotting` and
:mod:`linnet.widgets` (they need matplotlib and ipywidgets).

Conventions: ``weights = [W_1, ..., W_N]`` with ``W_j`` of shape
``(n_j, n_{j-1})``; ``W_e = W_N ... W_1`` of shape ``(k, d)``; ``vec`` is
column-major.
"""

from . import datasets  # noqa: F401  (the module linnet.datasets)
from .engine import Run, lp_minimum, run_lp_regression, run_lp_regression_seeds
from .linalg import psd_power
from .losses import lp_loss, lp_loss_grad
from .network import (
    balanced_factors,
    balancedness,
    deep_gd_step,
    end_to_end,
    imbalance,
    layer_gradients,
    near_zero_init,
)
from .train import DivergenceError, Trajectory, relative_gap, train_deep, train_end_to_end
from .update import (
    end_to_end_update,
    preconditioner,
    preconditioner_eigenvalues,
    single_output_update,
)
from .warmup import WarmupStep, warmup_memory, warmup_step_terms

__version__ = "0.1.0"

__all__ = [
    "DivergenceError",
    "Run",
    "Trajectory",
    "WarmupStep",
    "balanced_factors",
    "balancedness",
    "deep_gd_step",
    "end_to_end",
    "end_to_end_update",
    "imbalance",
    "layer_gradients",
    "lp_loss",
    "lp_loss_grad",
    "lp_minimum",
    "near_zero_init",
    "preconditioner",
    "preconditioner_eigenvalues",
    "psd_power",
    "relative_gap",
    "run_lp_regression",
    "run_lp_regression_seeds",
    "single_output_update",
    "train_deep",
    "train_end_to_end",
    "warmup_memory",
    "warmup_step_terms",
]
