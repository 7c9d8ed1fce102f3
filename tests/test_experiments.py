"""The Section 7.1 protocol: learning-rate tuning, the comparison table, the command."""

from __future__ import annotations

import csv

import numpy as np
import pytest

from linnet import datasets, run_lp_regression
from linnet.experiments import METHODS, PAPER_METHODS, compare_methods, lr_grid, main, tune_lr


def test_lr_grid_is_factor_two():
    grid = lr_grid(2.0**-3, 1.0)
    np.testing.assert_allclose(grid[1:] / grid[:-1], 2.0)
    assert grid[0] == 0.125 and grid[-1] == 1.0


def test_tune_extends_a_grid_whose_best_rate_is_at_the_edge():
    # Hessian I/2: the best fixed rate is 2 (one step); start far below it.
    X, y = np.eye(2), np.array([1.0, 0.5])
    tuned = tune_lr(X, y, p=2, steps=10, lrs=[2.0**-6, 2.0**-5], seeds=[0, 1])
    assert tuned.best_lr == 2.0 and not tuned.at_edge
    assert tuned.lrs[0] == 2.0**-6 and tuned.lrs.size > 2
    np.testing.assert_allclose(tuned.lrs[1:] / tuned.lrs[:-1], 2.0)
    # The merged grid equals a direct run on the final grid.
    direct = run_lp_regression(X, y, p=2, lrs=tuned.lrs, steps=10, seed=1)
    np.testing.assert_allclose(tuned.runs[1].losses, direct.losses, rtol=1e-12)
    # The score is the mean over seeds of the final loss; diverged rates are inf.
    finals = np.stack([r.final_loss for r in tuned.runs])
    np.testing.assert_allclose(tuned.score, finals.mean(axis=0))
    assert tuned.best_lr == tuned.lrs[np.argmin(tuned.score)]


def test_tune_reports_an_edge_when_extension_is_not_allowed():
    X, y = np.eye(2), np.array([1.0, 0.5])
    tuned = tune_lr(X, y, p=2, steps=10, lrs=[2.0**-6, 2.0**-5], seeds=[0], extend=0)
    assert tuned.at_edge and tuned.best_lr == 2.0**-5


def test_compare_methods_counts_iterations_to_gds_final_loss():
    data = datasets.sensor_like(m=120, d=8, seed=3)
    result = compare_methods(
        data.X, data.y, p=4, steps=150, methods=["end-to-end rule, N=2", "Adam"], seeds=[0, 1]
    )
    assert list(result.tuned) == ["GD", "end-to-end rule, N=2", "Adam"]
    gd = result.tuned["GD"]
    np.testing.assert_allclose(result.target, gd.curves()[-1])
    # GD reaches its own final loss at the latest at the budget.
    assert np.all(result.iterations["GD"] <= 150)
    for label, tuned in result.tuned.items():
        curves = tuned.curves()
        for s, its in enumerate(result.iterations[label]):
            if np.isfinite(its):
                assert curves[int(its), s] <= result.target[s]
                assert its == 0 or curves[int(its) - 1, s] > result.target[s]
            else:
                assert np.all(curves[:, s] > result.target[s])
    rows = result.rows()
    assert [r["method"] for r in rows] == list(result.tuned)
    assert rows[0]["speedup_vs_gd"] == pytest.approx(1.0)
    assert all(r["final_gap_mean"] >= -1e-12 for r in rows)


def test_methods_cover_the_paper():
    assert "heavy ball (not in the paper)" not in PAPER_METHODS
    optimizers = {m["optimizer"] for m in METHODS.values()}
    assert optimizers == {"gd", "momentum", "adagrad", "adadelta", "adam"}


def test_command_writes_table_and_figures(tmp_path, capsys):
    rng = np.random.default_rng(0)
    table = np.column_stack([rng.standard_normal((150, 128)), rng.uniform(10, 500, 150)])
    data_file = tmp_path / "ethanol.csv"
    np.savetxt(data_file, table, delimiter=",")
    out = tmp_path / "results"
    code = main(
        ["acceleration", "--data", str(data_file), "--out", str(out), "--steps", "15",
         "--seeds", "2"]
    )  # fmt: skip
    assert code == 0
    with (out / "acceleration.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(METHODS)
    assert {r["p"] for r in rows} == {"2", "4"}
    assert all(r["data"] == "uci_gas" and r["seeds"] == "2" for r in rows)
    for p in (2, 4):
        png = out / f"acceleration_uci_gas_p{p}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert "40/40" not in captured.err and f"{2 * len(METHODS)}/{2 * len(METHODS)}" in captured.err
    assert "wrote" in captured.out


def test_command_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        main(["acceleration", "--steps", "0"])
    with pytest.raises(SystemExit):
        main(["unknown"])


def test_tune_lr_and_compare_methods_pass_the_conventions():
    data = datasets.sensor_like(m=60, d=5, seed=2)
    kwargs = {"p": 4, "steps": 30, "lrs": lr_grid(2.0**-6, 1.0), "seeds": [0]}
    tf1 = tune_lr(data.X, data.y, method="AdaDelta", conventions="tf1", **kwargs)
    torch = tune_lr(data.X, data.y, method="AdaDelta", **kwargs)
    assert tf1.conventions == "tf1" and torch.conventions == "torch"
    assert tf1.runs[0].hyper["rho"] == 0.95 and torch.runs[0].hyper["rho"] == 0.9
    common = np.intersect1d(tf1.lrs, torch.lrs)
    assert common.size and not np.allclose(
        tf1.score[np.isin(tf1.lrs, common)], torch.score[np.isin(torch.lrs, common)]
    )
    direct = run_lp_regression(data.X, data.y, p=4, steps=30, lrs=tf1.lrs,
                               optimizer="adadelta", conventions="tf1")  # fmt: skip
    np.testing.assert_allclose(tf1.runs[0].losses, direct.losses, rtol=1e-12)
    result = compare_methods(data.X, data.y, methods=["AdaGrad"], conventions="tf1", **kwargs)
    assert result.conventions == "tf1"
    assert result.tuned["AdaGrad"].runs[0].hyper["initial_accumulator_value"] == 0.1
    with pytest.raises(ValueError, match="conventions"):
        tune_lr(data.X, data.y, method="AdaGrad", conventions="tf2", **kwargs)
    with pytest.raises(TypeError, match="conventions"):
        tune_lr(data.X, data.y, options={"optimizer": "adagrad", "conventions": "tf1"}, **kwargs)
