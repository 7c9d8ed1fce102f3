"""Tests of linnet.studies and the verdicts of linnet.protocol (chapter 6's controls, read-outs)."""

import numpy as np
import pytest

from linnet import run_lp_regression
from linnet.datasets import sensor_like
from linnet.protocol import edge_verdict, fewest_steps, order_verdict, refine_rate, relative_excess
from linnet.studies import budget_read, per_coordinate_run, retune_at

DATA = sensor_like(m=40, d=5, seed=1)


def test_per_coordinate_depth1_is_gradient_descent():
    rates = [0.01, 0.05]
    ctrl = per_coordinate_run(DATA.X, DATA.y, p=4, lrs=rates, steps=30, depth=1, seed=3)
    gd = run_lp_regression(DATA.X, DATA.y, p=4, lrs=rates, steps=30, seed=3)
    np.testing.assert_allclose(ctrl.losses, gd.losses, rtol=1e-10)
    np.testing.assert_allclose(ctrl.W_e0, gd.W_e0)


def test_per_coordinate_step_is_coordinatewise():
    # One step by hand: w_i <- w_i - eta N |w_i|^(2 - 2/N) g_i.
    X, y, N, eta = DATA.X, DATA.y, 3, 0.1
    run = per_coordinate_run(X, y, p=2, lrs=[eta], steps=1, depth=N, init_scale=0.5)
    w = run.W_e0[0]
    g = X.T @ (X @ w - y) / X.shape[0]
    new = w - eta * N * np.abs(w) ** (2 - 2 / N) * g
    assert run.losses[1, 0] == pytest.approx(np.mean((X @ new - y) ** 2) / 2, rel=1e-12)
    # ... which is not the coupled rule (Claim 2's norm factor): the losses differ.
    rule = run_lp_regression(X, y, p=2, lrs=[eta], steps=1, depth=N, form="end_to_end",
                             init_scale=0.5, terms="norm")  # fmt: skip
    assert abs(rule.losses[1, 0] - run.losses[1, 0]) > 1e-6


def test_per_coordinate_divergence_is_recorded_not_nan():
    run = per_coordinate_run(DATA.X, DATA.y, p=4, lrs=[1e-3, 1e3], steps=50, depth=2,
                             init_scale=1.0)  # fmt: skip
    assert run.diverged.tolist() == [False, True]
    assert not np.isnan(run.losses).any()
    assert np.isinf(run.losses[-1, 1])


def test_per_coordinate_bad_input():
    with pytest.raises(ValueError, match="one output"):
        per_coordinate_run(DATA.X, np.ones((40, 2)), p=4, lrs=[0.1], steps=2, depth=2)
    with pytest.raises(ValueError):
        per_coordinate_run(DATA.X, DATA.y, p=3, lrs=[0.1], steps=2, depth=2)


def test_relative_excess():
    assert relative_excess(1.5, 2.0, 1.0) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="exceed"):
        relative_excess(1.0, 1.0, 1.0)


def test_retune_and_budget_read_match_short_runs():
    rates = 2.0 ** np.arange(-8, 2)
    long = run_lp_regression(DATA.X, DATA.y, p=4, lrs=rates, steps=300, seed=0)
    short = run_lp_regression(DATA.X, DATA.y, p=4, lrs=rates, steps=100, seed=0)
    assert retune_at(long, 100) == short.best_index  # a long run read at T = a run of T
    rule = run_lp_regression(DATA.X, DATA.y, p=4, lrs=rates, steps=300, seed=0, depth=2,
                             form="end_to_end")  # fmt: skip
    read = budget_read({"GD": long, "rule": rule}, 100, 0.0)
    assert read.iterations["GD"] == 100
    assert read.target == pytest.approx(short.final_loss[short.best_index])
    assert read.speedup["rule"] == pytest.approx(100 / read.iterations["rule"])
    with pytest.raises(ValueError, match="exceeds"):
        retune_at(long, 301)
    with pytest.raises(ValueError, match="baseline"):
        budget_read({"rule": rule}, 100, 0.0)


def test_fewest_steps_excludes_diverged_rates():
    run = run_lp_regression(np.eye(2), [1.0, 0.5], p=2, lrs=[0.5, 2.0, 8.0], steps=5)
    assert fewest_steps(run, 1e-20) == (1.0, 2.0)
    assert fewest_steps(run, -1.0)[0] == np.inf


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [(100, 400, "faster"), (400, 100, "slower"), (212, 236, "tie"), (100, 118, "tie"),
     (100, 120, "faster"),
     (np.inf, 10, "slower"), (10, np.inf, "faster"), (np.inf, np.inf, "neither reached")],
)  # fmt: skip
def test_order_verdict(a, b, expected):
    assert order_verdict(a, b) == expected


def test_order_verdict_borderline_band():
    # Within the factor `spread` of the threshold on either side: borderline.
    assert order_verdict(100, 149, resolution=1.5) == "tie"
    assert order_verdict(100, 149, resolution=1.5, spread=1.02) == "borderline"
    assert order_verdict(100, 151, resolution=1.5, spread=1.01) == "borderline"
    assert order_verdict(100, 160, resolution=1.5, spread=1.01) == "faster"
    with pytest.raises(ValueError):
        order_verdict(1, 2, spread=0.5)


def test_order_verdict_resolution():
    assert order_verdict(212, 236, resolution=1.05) == "faster"
    with pytest.raises(ValueError):
        order_verdict(1, 2, resolution=0.5)
    with pytest.raises(ValueError):
        order_verdict(np.nan, 2)


def test_refine_rate_grid():
    fine = refine_rate(np.eye(2), [1.0, 0.5], p=2, steps=3, center=1.5, seeds=[0],
                       options={"optimizer": "gd", "depth": 1})  # fmt: skip
    np.testing.assert_allclose(fine.lrs, 1.5 * 2.0 ** (np.arange(-3, 4) / 4))
    assert fine.best_lr == pytest.approx(1.5 * 2**0.5)
    with pytest.raises(ValueError):
        refine_rate(np.eye(2), [1.0, 0.5], p=2, steps=3, center=1.5, factor=1.0,
                    options={"optimizer": "gd"})  # fmt: skip


def test_edge_verdict_only_claims_what_round_off_cannot_undo():
    # faster only beyond resolution x EDGE_SPREAD; ties, losses and misses are "not faster"
    assert edge_verdict(100, 1000) == "faster"
    assert edge_verdict(899, 1000) == edge_verdict(1337, 1000) == "not faster"
    assert edge_verdict(np.inf, 1000) == "not faster"
    assert edge_verdict(1000 / (1.5 * 1.4) * 1.01, 1000) == "not faster"
    with pytest.raises(ValueError):
        edge_verdict(np.nan, 1.0)
    with pytest.raises(ValueError):
        edge_verdict(1.0, 2.0, resolution=0.5)
