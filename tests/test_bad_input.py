"""Every public function rejects bad input with a clear TypeError/ValueError."""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import linnet
from linnet.data import make_regression
from linnet.dynamics import adagrad_step

W = np.ones((2, 3))
G = np.ones((2, 3))
X = np.ones((4, 3))
Y = np.ones((4, 2))
GOOD_WEIGHTS = [np.ones((2, 3)), np.ones((2, 2))]
NAN = np.array([[1.0, np.nan, 0.0], [0.0, 1.0, 0.0]])
INF = np.array([[1.0, np.inf, 0.0], [0.0, 1.0, 0.0]])

CASES = [
    # (call, exception, words the message must contain)
    (lambda: linnet.end_to_end([]), ValueError, "at least one layer"),
    (lambda: linnet.end_to_end(np.ones((2, 2))), TypeError, "list"),
    (lambda: linnet.end_to_end([np.ones((2, 3)), np.ones((2, 3))]), ValueError, "do not chain"),
    (lambda: linnet.end_to_end([np.ones(3)]), ValueError, "2-D"),
    (lambda: linnet.end_to_end([NAN]), ValueError, "NaN"),
    (lambda: linnet.end_to_end([["a", "b"]]), TypeError, "real numbers"),
    (lambda: linnet.layer_gradients(GOOD_WEIGHTS, np.ones((3, 2))), ValueError, "grad_e"),
    (lambda: linnet.layer_gradients(GOOD_WEIGHTS, INF[:, :3]), ValueError, "grad_e"),
    (lambda: linnet.layer_gradients([], G), ValueError, "at least one layer"),
    (lambda: linnet.deep_gd_step(GOOD_WEIGHTS, G, lr=0.0), ValueError, "lr"),
    (lambda: linnet.deep_gd_step(GOOD_WEIGHTS, G, lr=-1.0), ValueError, "lr"),
    (lambda: linnet.deep_gd_step(GOOD_WEIGHTS, G, lr=np.nan), ValueError, "lr"),
    (lambda: linnet.deep_gd_step(GOOD_WEIGHTS, G, lr="0.1"), TypeError, "lr"),
    (
        lambda: linnet.deep_gd_step(GOOD_WEIGHTS, G, 0.1, weight_decay=-0.1),
        ValueError,
        "weight_decay",
    ),
    (lambda: linnet.deep_gd_step(GOOD_WEIGHTS, np.ones((2, 2)), 0.1), ValueError, "grad_e"),
    (lambda: linnet.balanced_factors(W, depth=0), ValueError, "depth"),
    (lambda: linnet.balanced_factors(W, depth=2.0), TypeError, "depth"),
    (lambda: linnet.balanced_factors(W, depth=True), TypeError, "depth"),
    (lambda: linnet.balanced_factors(W, depth=3, widths=[2]), ValueError, "widths"),
    (lambda: linnet.balanced_factors(np.eye(3), depth=2, widths=[2]), ValueError, "rank"),
    (lambda: linnet.balanced_factors(NAN, depth=2), ValueError, "NaN"),
    (lambda: linnet.balanced_factors(np.ones(3), depth=2), ValueError, "2-D"),
    (lambda: linnet.near_zero_init([3], 0.1, 0), ValueError, "dims"),
    (lambda: linnet.near_zero_init([3, 0, 1], 0.1, 0), ValueError, "dims[1]"),
    (lambda: linnet.near_zero_init([3, 2], 0.0, 0), ValueError, "scale"),
    (lambda: linnet.near_zero_init([3, 2], np.inf, 0), ValueError, "scale"),
    (lambda: linnet.near_zero_init([3, 2], 0.1, "seed"), TypeError, "rng"),
    (lambda: linnet.near_zero_init("32", 0.1, 0), TypeError, "dims"),
    (lambda: linnet.balancedness([]), ValueError, "at least one layer"),
    (lambda: linnet.balancedness([np.ones((2, 3)), np.ones((1, 3))]), ValueError, "do not chain"),
    (lambda: linnet.psd_power(np.ones((2, 3)), 0.5), ValueError, "square"),
    (lambda: linnet.psd_power(np.array([[1.0, 2.0], [0.0, 1.0]]), 0.5), ValueError, "symmetric"),
    (lambda: linnet.psd_power(-np.eye(2), 0.5), ValueError, "positive semi-definite"),
    (lambda: linnet.psd_power(np.zeros((2, 2)), -1), ValueError, "singular"),
    (lambda: linnet.psd_power(np.eye(2), np.nan), ValueError, "alpha"),
    (lambda: linnet.end_to_end_update(W, np.ones((3, 2)), 2, 0.1), ValueError, "grad_e"),
    (lambda: linnet.end_to_end_update(W, G, 0, 0.1), ValueError, "depth"),
    (lambda: linnet.end_to_end_update(W, G, 2, 0.0), ValueError, "lr"),
    (lambda: linnet.end_to_end_update(W, G, 2, 0.1, -1.0), ValueError, "weight_decay"),
    (lambda: linnet.end_to_end_update(NAN, G, 2, 0.1), ValueError, "W_e"),
    (lambda: linnet.end_to_end_update(np.ones(3), np.ones(3), 2, 0.1), ValueError, "2-D"),
    (lambda: linnet.preconditioner(W, 0), ValueError, "depth"),
    (lambda: linnet.preconditioner(INF, 2), ValueError, "W_e"),
    (lambda: linnet.preconditioner_eigenvalues(W, 1.5), TypeError, "depth"),
    (lambda: linnet.preconditioner_eigenvalues(np.ones((2, 2, 2)), 2), ValueError, "2-D"),
    (lambda: linnet.single_output_update(np.ones(3), np.ones(2), 2, 0.1), ValueError, "grad"),
    (
        lambda: linnet.single_output_update(np.ones((1, 3)), np.ones((1, 3)), 2, 0.1),
        ValueError,
        "1-D",
    ),
    (lambda: linnet.single_output_update(np.ones(3), np.ones(3), -2, 0.1), ValueError, "depth"),
    (lambda: linnet.single_output_update(np.ones(3), np.ones(3), 2, -0.1), ValueError, "lr"),
    (
        lambda: linnet.single_output_update(np.ones(3), np.array([1, np.nan, 1]), 2, 0.1),
        ValueError,
        "grad",
    ),
    (lambda: linnet.lp_loss(W, X, Y, 3), ValueError, "even"),
    (lambda: linnet.lp_loss(W, X, Y, 0), ValueError, "even"),
    (lambda: linnet.lp_loss(W, X, Y, 2.5), ValueError, "even"),
    (lambda: linnet.lp_loss(W, X, Y, "4"), TypeError, "p"),
    (lambda: linnet.lp_loss(W, np.ones((4, 2)), Y, 4), ValueError, "X"),
    (lambda: linnet.lp_loss(W, X, np.ones((4, 3)), 4), ValueError, "y"),
    (lambda: linnet.lp_loss(W, X, np.ones(4), 4), ValueError, "y"),
    (lambda: linnet.lp_loss(W, X, np.ones((5, 2)), 4), ValueError, "y"),
    (lambda: linnet.lp_loss(W, np.full((4, 3), np.nan), Y, 4), ValueError, "X"),
    (lambda: linnet.lp_loss(1e80 * W, X, Y, 4), ValueError, "overflows"),
    (lambda: linnet.lp_loss_grad(W, X, Y, 5), ValueError, "even"),
    (lambda: linnet.lp_loss_grad(W, X, Y[:, :1], 4), ValueError, "y"),
    (lambda: linnet.lp_loss_grad(1e120 * W, X, Y, 4), ValueError, "diverged"),
    (lambda: linnet.lp_loss_grad(W, X, None, 4), TypeError, "y"),
    (lambda: linnet.imbalance([]), ValueError, "at least one layer"),
    (lambda: linnet.relative_imbalance([]), ValueError, "at least one layer"),
    (lambda: linnet.relative_imbalance([np.zeros((2, 3)), np.ones((1, 2))]), ValueError, "zero"),
    (lambda: linnet.imbalance([np.ones((2, 3)), np.ones((1, 3))]), ValueError, "do not chain"),
    (lambda: linnet.train_deep(GOOD_WEIGHTS, X, Y, 4, 0.1, steps=-1), ValueError, "steps"),
    (lambda: linnet.train_deep(GOOD_WEIGHTS, X, Y, 4, 0.1, steps=2.5), TypeError, "steps"),
    (lambda: linnet.train_deep(GOOD_WEIGHTS, X, Y, 3, 0.1, steps=1), ValueError, "even"),
    (lambda: linnet.train_deep(GOOD_WEIGHTS, X, Y, 4, 0.0, steps=1), ValueError, "lr"),
    (lambda: linnet.train_deep(GOOD_WEIGHTS, X[:, :2], Y, 4, 0.1, 1), ValueError, "X"),
    (lambda: linnet.train_end_to_end(W, X, Y, 4, 0, 0.1, 1), ValueError, "depth"),
    (lambda: linnet.train_end_to_end(W, X, Y, 4, 2, 0.1, 1, -1.0), ValueError, "weight_decay"),
    (lambda: linnet.train_end_to_end(NAN, X, Y, 4, 2, 0.1, 1), ValueError, "W_e"),
    (lambda: linnet.warmup_step_terms(np.ones(2), 1.0, np.ones(3), 0.1), ValueError, "grad"),
    (lambda: linnet.warmup_step_terms(np.ones(2), np.nan, np.ones(2), 0.1), ValueError, "omega2"),
    (lambda: linnet.warmup_step_terms(np.ones(2), 1.0, np.ones(2), -0.1), ValueError, "lr"),
    (
        lambda: linnet.warmup_memory(np.ones((3, 2)), np.ones(2), np.ones((3, 2)), 0.1),
        ValueError,
        "omega2_history",
    ),
    (
        lambda: linnet.warmup_memory(np.ones((3, 2)), np.ones(3), np.ones((3, 1)), 0.1),
        ValueError,
        "grad_history",
    ),
]

_RUN = linnet.Trajectory(W_e=np.ones((3, 1, 2)), loss=np.zeros(3))
CASES += [
    (lambda: linnet.relative_gap(_RUN, np.ones((3, 1, 2))), TypeError, "Trajectory"),
    (
        lambda: linnet.relative_gap(
            _RUN, linnet.Trajectory(W_e=np.ones((2, 1, 2)), loss=np.zeros(2))
        ),
        ValueError,
        "same steps",
    ),
    (
        lambda: linnet.relative_gap(
            _RUN, linnet.Trajectory(W_e=np.zeros((3, 1, 2)), loss=np.zeros(3))
        ),
        ValueError,
        "W_e = 0",
    ),
]

# Helpers outside the formula API: synthetic data.
CASES += [
    (lambda: make_regression(0, 2), ValueError, "m"),
    (lambda: make_regression(5, 2, noise=-1.0), ValueError, "noise"),
    (lambda: make_regression(5, 2, feature_scales=[1.0]), ValueError, "feature_scales"),
    (lambda: make_regression(5, 2, feature_scales=[1.0, -1.0]), ValueError, "feature_scales"),
    (lambda: make_regression(5, 2, seed=-3), ValueError, "seed"),
]

# Section 5 (Theorem 2): the end-to-end field, its loop integrals and curl.
_F2 = linnet.end_to_end_field(lambda w: np.ones_like(w), 2)
_E1, _E2, _E3 = np.eye(3)
CASES += [
    (lambda: linnet.end_to_end_field("grad", 2), TypeError, "grad_fn"),
    (lambda: linnet.end_to_end_field(lambda w: w, 0), ValueError, "depth"),
    (lambda: linnet.end_to_end_field(lambda w: w, 2.5), TypeError, "depth"),
    (lambda: _F2(np.array([1.0, np.nan])), ValueError, "w"),
    (lambda: _F2(np.ones((2, 2, 2))), ValueError, "w"),
    (lambda: linnet.end_to_end_field(lambda w: np.ones(3), 2)(np.ones(2)), ValueError, "grad_fn"),
    (lambda: linnet.end_to_end_field(lambda w: w * np.inf, 2)(np.ones(2)), ValueError, "grad_fn"),
    (lambda: linnet.sector_loop_integral("F", 0.1, 0.2, 0.0, 1.0), TypeError, "field"),
    (lambda: linnet.sector_loop_integral(_F2, 0.2, 0.1, 0.0, 1.0), ValueError, "r1 < r2"),
    (lambda: linnet.sector_loop_integral(_F2, -0.1, 0.1, 0.0, 1.0), ValueError, "0 <= r1"),
    (lambda: linnet.sector_loop_integral(_F2, 0.1, 0.2, 1.0, 1.0), ValueError, "theta1"),
    (lambda: linnet.sector_loop_integral(_F2, 0.1, 0.2, 0.0, 7.0), ValueError, "2 pi"),
    (lambda: linnet.sector_loop_integral(_F2, 0.1, np.inf, 0.0, 1.0), ValueError, "r2"),
    (lambda: linnet.sector_loop_integral(_F2, 0.1, 0.2, 0.0, 1.0, order=0), ValueError, "order"),
    (
        lambda: linnet.sector_loop_integral(_F2, 0.1, 0.2, 0.0, 1.0, _E1, _E1),
        ValueError,
        "orthonormal",
    ),
    (
        lambda: linnet.sector_loop_integral(_F2, 0.1, 0.2, 0.0, 1.0, _E1, np.ones(2)),
        ValueError,
        "shape",
    ),
    (
        lambda: linnet.sector_loop_integral(lambda w: w[:1], 0.1, 0.2, 0.0, 1.0),
        ValueError,
        "field(w)",
    ),
    (lambda: linnet.curl_2d(_F2, np.ones(1)), ValueError, "2 coordinates"),
    (lambda: linnet.field_jacobian(_F2, np.array([np.nan, 1.0])), ValueError, "NaN"),
    (lambda: linnet.field_jacobian(_F2, np.ones(2), h=0.0), ValueError, "h"),
    (lambda: linnet.curl_2d(_F2, np.ones(3), h=0.0), ValueError, "h"),
    (lambda: linnet.curl_2d(_F2, np.ones(3), _E1, 2 * _E2), ValueError, "orthonormal"),
    (lambda: linnet.curl_2d(None, np.ones(3)), TypeError, "field"),
    (lambda: linnet.curl_2d(_F2, "w"), TypeError, "w"),
]


# Chapters 4-5: the preconditioner's spectrum, singular-value dynamics, single output.
CASES += [
    (lambda: linnet.pair_eigenvalue(-1.0, 1.0, 2), ValueError, ">= 0"),
    (lambda: linnet.pair_eigenvalue(1.0, np.nan, 2), ValueError, "NaN"),
    (lambda: linnet.pair_eigenvalue(1.0, 1.0, 0), ValueError, "depth"),
    (lambda: linnet.pair_eigenvalue(np.ones((2, 2, 2)), 1.0, 2), ValueError, "2-D"),
    (lambda: linnet.singular_value_velocity(W, np.ones((3, 2)), 2), ValueError, "grad_e"),
    (lambda: linnet.singular_value_velocity(NAN, G, 2), ValueError, "NaN"),
    (
        lambda: linnet.singular_value_velocity(W, G, 2, weight_decay=-1.0),
        ValueError,
        "weight_decay",
    ),
    (lambda: linnet.aligned_mode_time(0.5, 0.6, 1.0, 2), ValueError, "sigma must lie"),
    (lambda: linnet.aligned_mode_time(1.0, 0.1, 1.0, 2), ValueError, "sigma must lie"),
    (lambda: linnet.aligned_mode_time(0.5, 0.0, 1.0, 2), ValueError, "sigma0"),
    (lambda: linnet.aligned_mode_time(0.5, 0.1, -1.0, 2), ValueError, "target"),
    (lambda: linnet.aligned_mode_flow([-1.0], 0.1, 1.0, 2), ValueError, "times"),
    (lambda: linnet.aligned_mode_flow([1.0], 1.5, 1.0, 2), ValueError, "sigma0"),
    (lambda: linnet.aligned_mode_flow([1.0], 0.1, 1.0, 0), ValueError, "depth"),
    (lambda: linnet.escape_time(0.1, 1.0, 2, fraction=1.0), ValueError, "fraction"),
    (lambda: linnet.escape_time(0.1, 1.0, 2, fraction="half"), TypeError, "fraction"),
    (lambda: linnet.escape_time_leading(0.6, 1.0, 2), ValueError, "sigma0"),
    (lambda: linnet.escape_time_leading(0.1, 0.0, 2), ValueError, "target"),
    (lambda: linnet.project_along(np.ones(3), np.ones(2)), ValueError, "g"),
    (lambda: linnet.project_along(np.ones((1, 3)), np.ones((1, 3))), ValueError, "1-D"),
    (lambda: linnet.project_along(np.ones(2), [np.inf, 0.0]), ValueError, "NaN or infinite"),
    (lambda: linnet.single_output_terms(np.ones(3), np.ones(2), 2, 0.1), ValueError, "grad"),
    (lambda: linnet.single_output_terms(np.ones(3), np.ones(3), 0, 0.1), ValueError, "depth"),
    (lambda: linnet.single_output_terms(np.ones(3), np.ones(3), 2, 0.0), ValueError, "lr"),
]

CASES += [
    (lambda: adagrad_step(np.ones(2), np.ones(3), np.zeros(2), 0.1), ValueError, "grad"),
    (lambda: adagrad_step(np.ones(2), np.ones(2), -np.ones(2), 0.1), ValueError, "accumulator"),
    (lambda: adagrad_step(np.ones(2), np.ones(2), np.zeros(2), 0.1, eps=0.0), ValueError, "eps"),
]


# Chapter 7: the non-linear convnet on the digits.
_DIGITS = linnet.load_digits()
_NET = linnet.init_convnet([0], channels=2, hidden=3)
_IMG, _LAB = _DIGITS.X_train[:4], _DIGITS.y_train[:4]
CASES += [
    (lambda: linnet.load_digits(test_fraction=1.0), ValueError, "test_fraction"),
    (lambda: linnet.load_digits(seed=-1), ValueError, "seed"),
    (lambda: linnet.load_digits(seed="0"), TypeError, "seed"),
    (lambda: linnet.init_convnet([]), ValueError, "seeds"),
    (lambda: linnet.init_convnet(3), TypeError, "seeds"),
    (lambda: linnet.init_convnet([0.5]), TypeError, "seeds"),
    (lambda: linnet.init_convnet([0], hidden=0), ValueError, "hidden"),
    (lambda: linnet.init_convnet([0], std=-1.0), ValueError, "std"),
    (lambda: linnet.init_convnet([0], factor_init="zeros"), ValueError, "factor_init"),
    (lambda: linnet.count_parameters({"conv_w": np.ones((1, 9, 2))}), ValueError, "keys"),
    (lambda: linnet.count_parameters([1, 2]), TypeError, "dict"),
    (lambda: linnet.convnet_loss_grad(_NET, np.ones((4, 7, 7)), _LAB), ValueError, "images"),
    (lambda: linnet.convnet_loss_grad(_NET, np.full((4, 8, 8), np.nan), _LAB), ValueError, "NaN"),
    (lambda: linnet.convnet_loss_grad(_NET, _IMG, _LAB[:3]), ValueError, "labels"),
    (lambda: linnet.convnet_loss_grad(_NET, _IMG, _LAB + 10), ValueError, "labels"),
    (
        lambda: linnet.convnet_loss_grad({**_NET, "conv_b": np.ones((2, 2))}, _IMG, _LAB),
        ValueError,
        "run axis",
    ),
    (lambda: linnet.train_convnet(_IMG, [0.1], [0], steps=1), TypeError, "Digits"),
    (lambda: linnet.train_convnet(_DIGITS, [0.0], [0], steps=1), ValueError, "lr"),
    (lambda: linnet.train_convnet(_DIGITS, [], [0], steps=1), ValueError, "lrs"),
    (lambda: linnet.train_convnet(_DIGITS, 0.1, [0], steps=0), ValueError, "steps"),
    (
        lambda: linnet.train_convnet(_DIGITS, 0.1, [0], steps=1, momentum=1.0),
        ValueError,
        "momentum",
    ),
    (lambda: linnet.train_convnet(_DIGITS, 0.1, [0], steps=1, decay=0.0), ValueError, "decay"),
    (
        lambda: linnet.train_convnet(_DIGITS, 0.1, [0], steps=1, batch_size=10**5),
        ValueError,
        "batch_size",
    ),
    (lambda: linnet.factor_pair_update(W, np.ones((2, 3)), G, 0.1), ValueError, "W_b"),
    (
        lambda: linnet.factor_pair_update(W, np.ones((2, 2)), np.ones((3, 3)), 0.1),
        ValueError,
        "grad",
    ),
    (lambda: linnet.factor_pair_update(W, np.ones((2, 2)), G, -0.1), ValueError, "lr"),
    (lambda: linnet.factor_pair_update(NAN, np.ones((2, 2)), G, 0.1), ValueError, "W_a"),
    (lambda: linnet.steps_to_reach([1.0, 0.5], [0, 1, 2], 0.7), ValueError, "equal length"),
    (lambda: linnet.steps_to_reach([1.0, 0.5], [1, 0], 0.7), ValueError, "increasing"),
    (lambda: linnet.steps_to_reach([1.0, 0.5], [0, 1], np.nan), ValueError, "target"),
    (lambda: linnet.speedup([1.0, 0.5], [1.0]), ValueError, "over_loss"),
    (lambda: linnet.speedup([1.0, np.nan], [1.0, 0.5]), ValueError, "base_loss"),
    (lambda: linnet.truncated_normal_std(-0.1), ValueError, "std"),
    (lambda: linnet.product_scale(0), ValueError, "inner"),
    (lambda: linnet.steps_to_levels([1.0, 0.5], []), ValueError, "levels"),
    (lambda: linnet.steps_to_levels([], [0.5]), ValueError, "losses"),
    (lambda: linnet.step_ratios([1.0], [np.nan], 10), ValueError, "steps_ref"),
    (lambda: linnet.step_ratios([1.0, 2.0], [1.0], 10), ValueError, "shape"),
    (lambda: linnet.order_verdict([2.0], resolution=0.5), ValueError, "resolution"),
    (lambda: linnet.order_verdict([]), ValueError, "ratios"),
    (lambda: linnet.init_convnet([0], dense_scale=(1.0, -1.0)), ValueError, "dense_scale"),
]


@pytest.mark.parametrize(("call", "exception", "words"), CASES)
def test_bad_input_raises_clear_error(call, exception, words):
    with pytest.raises(exception, match=None) as info:
        call()
    assert words in str(info.value), f"message {str(info.value)!r} should mention {words!r}"


def test_every_public_function_has_bad_input_cases():
    source = "\n".join(f"{c[0].__code__.co_names}" for c in CASES)
    functions = [n for n in linnet.__all__ if inspect.isfunction(getattr(linnet, n))]
    assert len(functions) >= 17
    for name in functions:
        assert f"'{name}'" in source, f"no bad-input test calls linnet.{name}"


# The experiment engine (Section 7.1) and its data.
from linnet import datasets  # noqa: E402

_X4 = np.random.default_rng(0).standard_normal((6, 3))
_y4 = np.ones(6)


def _run(**kw):
    args = {"p": 2, "lrs": [0.1], "steps": 2, **kw}
    return linnet.run_lp_regression(_X4, _y4, **args)


CASES += [
    (lambda: _run(lrs=[]), ValueError, "lrs"),
    (lambda: _run(lrs=[0.1, -0.1]), ValueError, "> 0"),
    (lambda: _run(lrs=[0.1, np.nan]), ValueError, "lrs"),
    (lambda: _run(lrs="0.1"), TypeError, "lrs"),
    (lambda: _run(p=3), ValueError, "even"),
    (lambda: _run(steps=0), ValueError, "steps"),
    (lambda: _run(steps=1.5), TypeError, "steps"),
    (lambda: _run(optimizer="sgd"), ValueError, "optimizer"),
    (lambda: _run(optimizer=None), TypeError, "optimizer"),
    (lambda: _run(depth=2, form="deep"), ValueError, "form"),
    (lambda: _run(depth=2, form="end_to_end", optimizer="adam"), ValueError, "factors"),
    (lambda: _run(depth=0), ValueError, "depth"),
    (lambda: _run(depth=3, width=[4]), ValueError, "width"),
    (lambda: _run(depth=3, width="4"), TypeError, "width"),
    (lambda: _run(init="zeros"), ValueError, "init"),
    (lambda: _run(init_scale=0.0), ValueError, "init_scale"),
    (lambda: _run(seed=-1), ValueError, "seed"),
    (lambda: _run(divergence_factor=1.0), ValueError, "divergence_factor"),
    (lambda: _run(momentum=0.9), TypeError, "hyper-parameter"),
    (lambda: _run(optimizer="adam", betas=(0.9,)), ValueError, "betas"),
    (lambda: _run(optimizer="adam", betas=(0.9, 1.0)), ValueError, "betas[1]"),
    (lambda: _run(optimizer="adam", eps=0.0), ValueError, "eps"),
    (lambda: _run(optimizer="adam", amsgrad=1), TypeError, "amsgrad"),
    (lambda: _run(optimizer="adadelta", rho=1.5), ValueError, "rho"),
    (lambda: _run(optimizer="adagrad", lr_decay=-1.0), ValueError, "lr_decay"),
    (lambda: _run(optimizer="momentum", nesterov=True, dampening=0.5), ValueError, "nesterov"),
    (lambda: _run(optimizer="gd", weight_decay=-1.0), ValueError, "weight_decay"),
    (lambda: linnet.run_lp_regression(_X4, np.ones(5), p=2, lrs=[0.1], steps=1), ValueError, "y"),
    (lambda: linnet.run_lp_regression(_X4[0], _y4, p=2, lrs=[0.1], steps=1), ValueError, "X"),
    (lambda: _run(depth=2, width=[0]), ValueError, "width[0]"),
    (lambda: _run().steps_to("low"), TypeError, "target"),
    (lambda: _run().steps_to(np.nan), ValueError, "NaN"),
    (lambda: linnet.lp_minimum(_X4, _y4, 5), ValueError, "even"),
    (lambda: linnet.lp_minimum(_X4, np.ones(4), 4), ValueError, "y"),
    (lambda: linnet.lp_minimum(_X4, _y4, 4, rtol=0.0), ValueError, "rtol"),
    (lambda: linnet.lp_minimum(np.full((6, 3), np.inf), _y4, 4), ValueError, "X"),
    (lambda: datasets.sensor_like(m=1), ValueError, "m"),
    (lambda: datasets.sensor_like(d=0), ValueError, "d"),
    (lambda: datasets.sensor_like(noise=-1.0), ValueError, "noise"),
    (lambda: datasets.sensor_like(m=10, d=2, standardize=1), TypeError, "standardize"),
    (lambda: datasets.tecator("salt"), ValueError, "target"),
    (lambda: datasets.tecator(1), TypeError, "target"),
    (lambda: datasets.uci_gas(3), TypeError, "path"),
    (lambda: datasets.uci_gas(".", gas="methane"), ValueError, "gas"),
    (lambda: datasets.zscore(np.ones((3, 2)), np.ones(2), "t"), ValueError, "y"),
    (lambda: datasets.zscore(np.ones((1, 2)), np.ones(1), "t"), ValueError, "at least 2"),
    (lambda: datasets.zscore([[np.nan, 1.0], [1.0, 1.0]], [1.0, 2.0], "t"), ValueError, "NaN"),
]
CASES += [
    (lambda: linnet.run_lp_regression_seeds(_X4, _y4, seeds=[], p=2, lrs=[0.1], steps=1),
     ValueError, "at least one seed"),
    (lambda: linnet.run_lp_regression_seeds(_X4, _y4, seeds=3, p=2, lrs=[0.1], steps=1),
     TypeError, "seeds"),
    (lambda: linnet.run_lp_regression_seeds(_X4, _y4, seeds=[1, -1], p=2, lrs=[0.1], steps=1),
     ValueError, "seeds[1]"),
    (lambda: linnet.run_lp_regression_seeds(_X4, _y4, seeds=[1], p=2, lrs=[0.1]),
     TypeError, "steps"),
    (lambda: linnet.run_lp_regression_seeds(_X4, _y4, seeds=[1], p=2, lrs=[0.1], steps=1, seed=2),
     TypeError, "seeds=["),
    (lambda: linnet.run_lp_regression_seeds(_X4, _y4, seeds=[1], p=2, lrs=[0.1], steps=1, rho=.5),
     TypeError, "hyper-parameter"),
    (lambda: linnet.run_lp_regression(_X4, np.ones((6, 2)), p=2, lrs=[0.1], steps=1,
                                      depth=2, width=[1]), ValueError, "rank"),
]  # fmt: skip

from linnet import protocol as experiments  # noqa: E402  (the protocol of §7.1)

CASES += [
    (lambda: experiments.lr_grid(1.0, 0.5), ValueError, "low <= high"),
    (lambda: experiments.lr_grid(0.0, 0.5), ValueError, "> 0"),
    (lambda: experiments.tune_lr(_X4, _y4, p=2, steps=2, lrs=[0.1], method="SGD"),
     ValueError, "unknown method"),
    (lambda: experiments.tune_lr(_X4, _y4, p=2, steps=2, lrs=[], method="GD"), ValueError, "lrs"),
    (lambda: experiments.tune_lr(_X4, _y4, p=2, steps=2, lrs=[0.1], extend=-1),
     ValueError, "extend"),
    (lambda: experiments.compare_methods(_X4, _y4, p=2, steps=2, methods=["SGD"]),
     ValueError, "unknown method"),
    (lambda: experiments.compare_methods(_X4, _y4, p=2, steps=2, seeds=[]),
     ValueError, "at least one seed"),
    (lambda: experiments.compare_methods(_X4, _y4, p=3, steps=2), ValueError, "even"),
    (lambda: experiments.Progress(0), ValueError, "total"),
]  # fmt: skip
CASES += [
    (lambda: _run(terms="norm"), ValueError, "end_to_end"),
    (lambda: _run(depth=2, form="end_to_end", terms="half"), ValueError, "terms"),
    (lambda: linnet.run_lp_regression(_X4, np.ones((6, 2)), p=2, lrs=[0.1], steps=1, depth=2,
                                      form="end_to_end", terms="norm"), ValueError, "one output"),
    (lambda: _run(keep_path="yes"), TypeError, "keep_path"),
]  # fmt: skip
