"""The recorded results (chapters 6 and 7) against reruns, with tolerances across machines.

Each record is rerun three ways: as it is (it must agree with the record within
``linnet.records.TOLERANCES``), with its inputs perturbed at round-off level (it must still
agree: a check tighter than round-off would fail on a reader's CPU, whose BLAS kernels
round differently), and with a real change, a learning rate or a seed (it must *not*
agree: a check that cannot fail checks nothing).  The BLAS settings are left alone; the
spread across kernels is measured once by ``benchmarks/kernel_spread.py``.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from linnet import records
from linnet.datasets import RegressionData
from linnet.protocol import FINE_FACTOR, lr_grid
from linnet.records import (
    EDGE_OF_STABILITY,
    RECORD,
    TOLERANCES,
    check_convnet_sample,
    check_record_entry,
    count_class,
    counts_agree,
    data_summary,
    perturbed,
    rerun_sample,
)
from linnet.studies import budget_study

STORED = json.loads(RECORD.read_text())


def _perturbed_data(data: RegressionData, rel: float) -> RegressionData:
    return data._replace(X=perturbed(data.X, rel, 1), y=perturbed(data.y, rel, 2))


# ----------------------------------------------------------------------- chapter 6


def test_chapter6_record_matches_the_data_and_settings():
    # A stale record (data recipe or settings changed) would silently be recomputed in the
    # chapter; here it fails: rerun `python -m linnet.records`.
    for name, data in records.chapter6_data().items():
        summary = data_summary(data.X, data.y)
        for key, (settings, _) in records._ch6_entries(name, data).items():
            assert STORED[key]["settings"] == json.loads(json.dumps(settings)), key
            assert np.allclose(STORED[key]["summary"], summary, rtol=TOLERANCES["data"], atol=0)
            result, hit = records.recorded(key, settings, lambda: None, summary=summary)
            assert hit and result == STORED[key]["result"]


def test_record_is_found_for_data_perturbed_at_round_off():
    # Another kernel computes the calibrated synthetic data with other rounding: the
    # record must still be used (its key is the recipe, its data check a tolerance).
    data = records.chapter6_data()["synthetic"]
    summary = data_summary(*_perturbed_data(data, 1e-15)[:2])
    key, (settings, _) = next(iter(records._ch6_entries("synthetic", data).items()))
    _, hit = records.recorded(key, settings, lambda: None, summary=summary)
    assert hit
    far = data_summary(*_perturbed_data(data, 1e-6)[:2])  # other data: recomputed
    assert records.recorded(key, settings, lambda: "fresh", summary=far) == ("fresh", False)


@pytest.mark.parametrize(
    ("key", "rel"),
    [("budgets/Tecator/l4", 0.0), ("budgets/Tecator/l2", 1e-15)],
    ids=["l4 as recorded", "l2 round-off perturbed"],
)
def test_chapter6_record_reproduces(key, rel):
    # Tecator (about 40 s each): every rate, step count and target agrees with the record
    # within the tolerances, also for data perturbed at round-off level (the l2 study
    # includes the networks at the edge of stability).
    data = _perturbed_data(records.chapter6_data()["Tecator"], rel)
    fresh = json.loads(json.dumps(records._ch6_entries("Tecator", data)[key][1]()))
    assert check_record_entry(key, fresh, STORED[key]["result"]) == [], key


def _restricted(result: dict, methods: list[str]) -> dict:
    """A budget-study result cut down to some methods (to rerun a few cheaply)."""
    reads = {
        T: {k: ({m: v[m] for m in methods} if isinstance(v, dict) else v) for k, v in read.items()}
        for T, read in result["reads"].items()
    }
    return {**result, "reads": reads, "precision": {m: result["precision"][m] for m in methods}}


def test_chapter6_robustness_record_reproduces_perturbed():
    data = _perturbed_data(records.chapter6_data()["synthetic"], 1e-15)
    key = "robustness/synthetic/l4"
    fresh = json.loads(json.dumps(records._ch6_entries("synthetic", data)[key][1]()))
    assert check_record_entry(key, fresh, STORED[key]["result"]) == []


@pytest.mark.parametrize(
    "change", [{"lrs": 2.0**0.125}, {"seed": 1}], ids=["rates x 2^(1/8)", "seed 1"]
)
def test_chapter6_check_fails_on_a_real_change(change):
    # The l4 study of Tecator with its grid shifted by a quarter octave, or another seed:
    # the check must see it (rates, counts or targets differ beyond the tolerances).
    data = records.chapter6_data()["Tecator"]
    lrs = lr_grid(*records.CH6_BUDGET_GRID, FINE_FACTOR) * change.get("lrs", 1.0)
    methods = ["GD", "GD, depth-2 network"]
    fresh = budget_study(
        data.X, data.y, p=4, methods={m: records.CH6_BUDGET_METHODS[m] for m in methods},
        lrs=lrs, seed=change.get("seed", 0),
    )  # fmt: skip
    stored = _restricted(STORED["budgets/Tecator/l4"]["result"], methods)
    unchanged = budget_study(
        data.X, data.y, p=4, methods={m: records.CH6_BUDGET_METHODS[m] for m in methods},
        lrs=lr_grid(*records.CH6_BUDGET_GRID, FINE_FACTOR),
    )  # fmt: skip
    assert check_record_entry("budgets/Tecator/l4", json.loads(json.dumps(unchanged)), stored) == []
    assert check_record_entry("budgets/Tecator/l4", json.loads(json.dumps(fresh)), stored)


def test_count_classes_and_tolerances():
    assert count_class("GD, depth-3 network", 2) == EDGE_OF_STABILITY
    assert counts_agree(1, 10**6, EDGE_OF_STABILITY)  # not compared: catapults
    assert counts_agree(5370, 5371, "adadelta") and not counts_agree(5370, 5500, "adadelta")
    assert counts_agree(1000, 1002) and not counts_agree(1000, 1010)
    assert not counts_agree(np.inf, 10**6) and counts_agree(np.inf, np.inf)
    with pytest.raises(ValueError):
        perturbed(np.ones(2), -1.0)


# ----------------------------------------------------------------------- chapter 7


@pytest.mark.parametrize("rel", [0.0, 1e-7], ids=["as recorded", "round-off perturbed"])
def test_convnet_records_reproduce(rel):
    # One width-24 run in full (its ladder), the first 100 steps of one width-512 run;
    # float32 training, so the round-off perturbation moves pixels by about one ulp.
    full = rerun_sample("tutorial init", i_lr=3, i_seed=2, perturb=rel)
    assert full["ladder_equal"] is not None and check_convnet_sample(full) == []
    start = rerun_sample("base 512, product scale", i_lr=4, i_seed=0, steps=100, perturb=rel)
    assert check_convnet_sample(start) == []


@pytest.mark.parametrize("other", [{"i_lr": 4}, {"i_seed": 1}], ids=["next rate", "seed 1"])
def test_convnet_check_fails_on_a_real_change(other):
    # A rerun of a neighbouring run, compared with the record of run (3, 2).
    recorded = rerun_sample("tutorial init", i_lr=3, i_seed=2, steps=200)
    changed = rerun_sample("tutorial init", **{"i_lr": 3, "i_seed": 2, **other}, steps=200)
    mixed = {**changed, "recorded": recorded["recorded"]}
    mixed["recorded_ladder"] = recorded["recorded_ladder"]
    assert check_convnet_sample(mixed)
