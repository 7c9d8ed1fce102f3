r"""linnet: deep linear networks and the end-to-end update rule.

A small, exact NumPy companion to Arora, Cohen & Hazan, *On the Optimization of
Deep Networks: Implicit Acceleration by Overparameterization* (ICML 2018,
arXiv:1802.06509).  Every formula of the paper that the book uses lives here
once, with the paper's section and theorem or claim in its docstring (the
paper's equation numbers are not cited).

Plotting and widget helpers live in :mod:`linnet.plotting` and
:mod:`linnet.widgets` (they need matplotlib and ipywidgets).

Conventions: ``weights = [W_1, ..., W_N]`` with :math:`W_j` of shape
:math:`n_j \times n_{j-1}`; :math:`W_e = W_N \cdots W_1` of shape
:math:`k \times d`; :math:`\operatorname{vec}` is column-major.
"""

from . import datasets, resources  # noqa: F401  (the modules linnet.datasets, linnet.resources)
from .conservative import curl_2d, end_to_end_field, field_jacobian, sector_loop_integral
from .dynamics import (
    aligned_mode_flow,
    aligned_mode_time,
    escape_time,
    escape_time_leading,
    pair_eigenvalue,
    singular_value_velocity,
)
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
    relative_imbalance,
)
from .nonlinear import (
    ConvNetRun,
    Digits,
    convnet_loss_grad,
    count_parameters,
    factor_pair_update,
    init_convnet,
    load_digits,
    order_verdict,
    product_scale,
    speedup,
    step_ratios,
    steps_to_levels,
    steps_to_reach,
    train_convnet,
    truncated_normal_std,
)
from .single_output import SingleOutputTerms, project_along, single_output_terms
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
    "ConvNetRun",
    "Digits",
    "DivergenceError",
    "Run",
    "SingleOutputTerms",
    "Trajectory",
    "WarmupStep",
    "aligned_mode_flow",
    "aligned_mode_time",
    "balanced_factors",
    "balancedness",
    "convnet_loss_grad",
    "count_parameters",
    "curl_2d",
    "deep_gd_step",
    "end_to_end",
    "end_to_end_field",
    "end_to_end_update",
    "escape_time",
    "escape_time_leading",
    "factor_pair_update",
    "field_jacobian",
    "imbalance",
    "init_convnet",
    "layer_gradients",
    "load_digits",
    "lp_loss",
    "lp_loss_grad",
    "lp_minimum",
    "near_zero_init",
    "order_verdict",
    "pair_eigenvalue",
    "preconditioner",
    "preconditioner_eigenvalues",
    "product_scale",
    "project_along",
    "psd_power",
    "relative_gap",
    "relative_imbalance",
    "run_lp_regression",
    "run_lp_regression_seeds",
    "sector_loop_integral",
    "single_output_terms",
    "single_output_update",
    "singular_value_velocity",
    "speedup",
    "step_ratios",
    "steps_to_levels",
    "steps_to_reach",
    "train_convnet",
    "train_deep",
    "train_end_to_end",
    "truncated_normal_std",
    "warmup_memory",
    "warmup_step_terms",
]
