"""linnet: deep linear networks and the end-to-end update rule.

A small, exact NumPy companion to Arora, Cohen & Hazan, *On the Optimization of
Deep Networks: Implicit Acceleration by Overparameterization* (ICML 2018,
arXiv:1802.06509).  Every formula of the paper that the book uses lives here
once, with the paper's equation or theorem in its docstring.

Conventions: ``weights = [W_1, ..., W_N]`` with ``W_j`` of shape
``(n_j, n_{j-1})``; ``W_e = W_N ... W_1`` of shape ``(k, d)``; ``vec`` is
column-major.
"""

from .linalg import psd_power
from .losses import lp_loss, lp_loss_grad
from .network import (
    balanced_factors,
    balancedness,
    deep_gd_step,
    end_to_end,
    layer_gradients,
    near_zero_init,
)
from .update import (
    end_to_end_update,
    preconditioner,
    preconditioner_eigenvalues,
    single_output_update,
)

__version__ = "0.1.0"

__all__ = [
    "balanced_factors",
    "balancedness",
    "deep_gd_step",
    "end_to_end",
    "end_to_end_update",
    "layer_gradients",
    "lp_loss",
    "lp_loss_grad",
    "near_zero_init",
    "preconditioner",
    "preconditioner_eigenvalues",
    "psd_power",
    "single_output_update",
]
