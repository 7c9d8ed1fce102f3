"""The Section 7.1 protocol: learning-rate tuning, the comparison table, the command."""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import json

import numpy as np
import pytest

from linnet import datasets, lp_minimum, run_lp_regression
from linnet.experiments import main
from linnet.protocol import METHODS, PAPER_METHODS, compare_methods, lr_grid, tune_lr
from linnet.studies import protocol_methods

CLI_METHODS = protocol_methods()


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


def _gas_like_csv(tmp_path, m=150):
    rng = np.random.default_rng(0)
    table = np.column_stack([rng.standard_normal((m, 128)), rng.uniform(10, 500, m)])
    data_file = tmp_path / "ethanol.csv"
    np.savetxt(data_file, table, delimiter=",")
    return data_file


def test_command_writes_table_and_figures(tmp_path, capsys):
    data_file = _gas_like_csv(tmp_path)
    out = tmp_path / "results"
    code = main(
        ["acceleration", "--data", str(data_file), "--out", str(out), "--steps", "15",
         "--seeds", "2"]
    )  # fmt: skip
    assert code == 0
    with (out / "acceleration.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 2 * len(CLI_METHODS)
    assert {r["p"] for r in rows} == {"2", "4"}
    assert all(r["data"] == "uci_gas" and r["seeds"] == "2" for r in rows)
    for p in (2, 4):
        png = out / f"acceleration_uci_gas_p{p}_torch.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    captured = capsys.readouterr()
    assert f"{2 * len(CLI_METHODS)}/{2 * len(CLI_METHODS)}" in captured.err
    assert "wrote" in captured.out


def test_command_columns_budgets_conventions_and_censoring(tmp_path):
    data_file = _gas_like_csv(tmp_path)
    out = tmp_path / "results"
    argv = ["acceleration", "--data", str(data_file), "--out", str(out), "--budgets", "5,15",
            "--seeds", "2", "--conventions", "torch,tf1", "--p", "4", "--run-on", "1",
            "--no-plots"]  # fmt: skip
    assert main(argv) == 0
    with (out / "acceleration.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    adaptive = [m for m, o in CLI_METHODS.items() if o["optimizer"] not in ("gd", "momentum")]
    # Per budget: every method once, the adaptive ones once more under the second convention.
    assert len(rows) == 2 * (len(CLI_METHODS) + len(adaptive))
    assert [r["method"] for r in rows[: len(CLI_METHODS)]] == list(CLI_METHODS)  # networks first
    assert {r["lr_grid_factor"] for r in rows} == {str(2.0**0.25)}  # every rate refined
    for r in rows:
        want = {"torch", "tf1"} if r["method"] in adaptive else {"any"}
        assert r["conventions"] in want
    assert {r["budget"] for r in rows} == {"5", "15"}
    data = datasets.uci_gas(data_file)
    L_star = lp_minimum(data.X, data.y, 4).L_star
    for r in rows:
        assert float(r["L_star"]) == pytest.approx(L_star, rel=1e-12)
        gap = float(r["target_rel_gap"])
        L0 = float(r["L0_mean"])
        assert 0 < gap <= 1  # GD never ends above its start (it may stop at it)
        # the relative gap is (target - L*) / (L0 - L*), mean over seeds
        assert gap == pytest.approx((float(r["target_mean"]) - L_star) / (L0 - L_star), rel=0.05)
        per_seed = r["iterations_per_seed"].split(";")
        assert len(per_seed) == 2
        reached = r["reached"] == "True"
        assert reached == ("nan" not in per_seed)
        assert int(r["seeds_reached"]) == sum(v != "nan" for v in per_seed)
        if reached:
            assert float(r["speedup_vs_gd"]) > 0 and r["iterations_max"] != "nan"
            assert float(r["iterations_max"]) <= int(r["budget"])  # run_on 1: within budget
        else:  # censored: NaN, never 0
            assert r["speedup_vs_gd"] == "nan" and r["iterations_mean"] == "nan"
        if r["method"].startswith("end-to-end rule"):
            assert r["network_diverged_at_lr"] in ("True", "False")
        else:
            assert r["network_diverged_at_lr"] == ""
    assert any(r["reached"] == "False" for r in rows)  # the 5-step budget censors someone
    gd = [r for r in rows if r["method"] == "GD"]
    assert all(float(r["speedup_vs_gd"]) == 1.0 for r in gd)
    # The rows of one budget are compare_methods at that budget.
    direct = compare_methods(
        data.X, data.y, p=4, steps=5, seeds=[0, 1], lrs=lr_grid(2.0**-9, 2.0),
        methods=["GD", "Adam"], conventions="tf1",
    )  # fmt: skip
    row = next(r for r in rows if r["budget"] == "5" and r["method"] == "Adam"
               and r["conventions"] == "tf1")  # fmt: skip
    assert float(row["best_lr"]) == direct.tuned["Adam"].best_lr
    provenance = json.loads((out / "provenance.json").read_text())
    assert provenance["data_sha256"] == hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert "--data $LINNET_GAS_DATA" in provenance["command"]
    assert "--budgets 5,15" in provenance["command"] and str(tmp_path) not in provenance["command"]
    assert provenance["columns"] == list(rows[0])


def test_rows_censor_unreached_targets_as_nan():
    data = datasets.sensor_like(m=60, d=5, seed=1)
    result = compare_methods(data.X, data.y, p=4, steps=40, methods=["Adam"], seeds=[0, 1])
    its = {"GD": np.array([40.0, 40.0]), "Adam": np.array([20.0, np.inf])}
    rows = dataclasses.replace(result, iterations=its).rows()
    adam = rows[1]
    assert adam["reached"] is False and adam["seeds_reached"] == 1
    assert np.isnan(adam["speedup_vs_gd"]) and np.isnan(adam["iterations_mean"])
    assert adam["iterations_min"] == 20.0 and np.isnan(adam["iterations_max"])
    assert adam["iterations_per_seed"] == "20;nan"
    assert rows[0]["speedup_vs_gd"] == 1.0


def test_run_on_counts_past_the_budget():
    # A method ten times slower than GD (momentum 0, dampening 0.9: steps of 0.1 g after
    # the first), on a fixed grid whose top rate both pick: it misses GD's final loss within
    # the budget and reaches it in the run-on.
    data = datasets.sensor_like(m=60, d=5, seed=1)
    slow = {"optimizer": "momentum", "momentum": 0.0, "dampening": 0.9}
    kwargs = {"p": 4, "steps": 10, "seeds": [0, 1], "methods": {"slow": slow},
              "lrs": [0.01, 0.02, 0.04], "extend": 0}  # fmt: skip
    short = compare_methods(data.X, data.y, **kwargs)
    longer = compare_methods(data.X, data.y, run_on=50, **kwargs)
    assert np.all(np.isinf(short.iterations["slow"]))
    n_long = longer.iterations["slow"]
    assert np.all((n_long > 10) & (n_long <= 500))
    np.testing.assert_array_equal(longer.iterations["GD"], short.iterations["GD"])
    # Cross-check one count against a direct run of run_on * steps at the tuned rate.
    run = run_lp_regression(data.X, data.y, p=4, lrs=[longer.tuned["slow"].best_lr],
                            steps=500, seed=1, **slow)  # fmt: skip
    assert run.steps_to(longer.target[1])[0] == n_long[1]
    row = longer.rows()[1]
    assert row["run_on"] == 500 and row["ran_on"] and row["reached"]
    assert short.rows()[1]["reached"] is False and np.isnan(short.rows()[1]["speedup_vs_gd"])


def test_command_rejects_bad_arguments():
    with pytest.raises(SystemExit):
        main(["acceleration", "--steps", "0"])
    with pytest.raises(SystemExit):
        main(["unknown"])
    for bad in (["--budgets", "0"], ["--budgets", "a"], ["--conventions", "tf2"],
                ["--lrs", "2,1"], ["--p", "3"], ["--run-on", "0"]):  # fmt: skip
        with pytest.raises(SystemExit):
            main(["acceleration", *bad])


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


def test_command_defaults_are_chapter_6s_protocol():
    from linnet.studies import CH6_PROTOCOL, SYNTHETIC, protocol_methods

    assert SYNTHETIC["r2"] == datasets.GAS_R2 and (SYNTHETIC["m"], SYNTHETIC["d"]) == (512, 32)
    assert CH6_PROTOCOL["grid"] == (2.0**-9, 2.0**1) and CH6_PROTOCOL["run_on"] == 4
    assert CH6_PROTOCOL["seeds"] == 3 and CH6_PROTOCOL["budgets"] == (1000,)
    methods = protocol_methods()
    gaussian = [m for m in methods if m.endswith("Gaussian start")]
    assert [m for m in methods if m not in gaussian] == list(METHODS)
    assert gaussian == [
        "GD, depth-2 network, Gaussian start",
        "GD, depth-3 network, Gaussian start",
    ]
    assert list(methods).index(gaussian[0]) == list(methods).index("GD, depth-3 network") + 1
    assert all(o.get("width") == 16 for o in methods.values() if o.get("form") == "factors")


def test_tune_lr_refines_around_the_best_rate():
    # One-step problem: rate 2 is exact; the starting grid 1/4..1 puts the best at 1 (edge,
    # extended to 4), refinement adds 2^(k/4) around the coarse best and re-chooses.
    X, y = np.eye(2), np.array([1.0, 0.5])
    coarse = tune_lr(X, y, p=2, steps=3, lrs=[0.25, 0.5, 1.0], seeds=[0])
    fine = tune_lr(X, y, p=2, steps=3, lrs=[0.25, 0.5, 1.0], seeds=[0], refine=True)
    assert coarse.grid_factor == 2.0 and fine.grid_factor == 2.0**0.25
    around = coarse.best_lr * 2.0 ** (np.arange(-3, 4) / 4)
    assert np.all(np.isclose(around[:, None], fine.lrs[None, :]).any(axis=1))
    assert set(coarse.lrs) <= set(fine.lrs) and fine.score.min() <= coarse.score.min()
    comp = compare_methods(X, y, p=2, steps=3, methods=["GD"], seeds=[0], lrs=[0.25, 0.5, 1.0])
    assert comp.tuned["GD"].grid_factor == 2.0**0.25  # refined by default
