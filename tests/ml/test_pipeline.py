"""Training on run features as the assets do, and the promotion gate."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from pipelines.features.runs import build_run_features
from pipelines.features.synthetic_runs import synthetic_run_inputs
from pipelines.ml.card import build_model_card
from pipelines.ml.evidence import MIN_TEST_CLASS_GROUPS, MIN_TEST_GROUPS
from pipelines.ml.pipeline import promotion_verdict, train_models
from pipelines.ml.versus import group_counts


@pytest.fixture(scope="module")
def trained() -> Any:
    features = build_run_features(synthetic_run_inputs(3_000, repos=8, seed=3))
    return train_models(features, trials=2, seed=0)


def test_models_train_and_save_their_artifacts(trained: Any, tmp_path: Path) -> None:
    report = trained.report
    assert report["data"]["test_rows"] > 0 and report["data"]["fit_rows"] > report["data"]["calibration_rows"]
    assert 0.5 < report["failure"]["roc_auc"] <= 1.0
    folder = trained.save(tmp_path)
    names = {p.name for p in folder.iterdir()}
    assert {"failure_model.txt", "duration_point.txt", "duration_p10.txt", "duration_p90.txt"} <= names
    assert {"feature_spec.json", "report.json", "model_card.md"} <= names
    spec = json.loads((folder / "feature_spec.json").read_text(encoding="utf-8"))
    assert len(spec["risk_thresholds"]) == 3 and spec["features"]
    assert (folder / "failure_model.txt").read_text(encoding="utf-8").startswith("tree")


def test_too_little_history_is_refused_clearly() -> None:
    features = build_run_features(synthetic_run_inputs(150, repos=2, seed=1))
    with pytest.raises(ValueError, match="at least 200"):
        train_models(features, trials=1)


def test_promotion_gate(trained: Any) -> None:
    ok, reasons = promotion_verdict(trained.report, None)
    assert ok == (reasons == [])
    # A candidate that beats every baseline by construction, then variations of it.
    report = copy.deepcopy(trained.report)
    report["failure"]["roc_auc"] = report["baselines"]["rolling_rate"]["roc_auc"] + 0.05
    report["failure"]["balanced_accuracy"] = (
        report["baselines"]["previous_outcome"]["balanced_accuracy"] + 0.05
    )
    report["duration"]["mae"] = report["duration"]["baseline_mae"] * 0.8
    ok, reasons = promotion_verdict(report, None)
    assert ok, reasons
    worse = copy.deepcopy(report)
    worse["failure"]["roc_auc"] = report["baselines"]["rolling_rate"]["roc_auc"] - 0.01
    ok, reasons = promotion_verdict(worse, None)
    assert not ok and "rolling-rate baseline" in reasons[0]
    assert set(report["failure_noise"]) >= {"roc_auc", "pr_auc"}
    current = copy.deepcopy(report)
    allowed = 1.96 * math.hypot(report["failure_noise"]["pr_auc"], current["failure_noise"]["pr_auc"])
    current["failure"]["pr_auc"] = report["failure"]["pr_auc"] + allowed + 0.01
    ok, reasons = promotion_verdict(report, current)
    assert (
        not ok
        and f"pr_auc fell by {allowed + 0.01:.3f}" in reasons[0]
        and f"allowed {allowed:.3f}" in reasons[0]
    )
    current["failure"]["pr_auc"] = report["failure"]["pr_auc"] + allowed - 0.01
    assert promotion_verdict(report, current)[0]
    ok, _ = promotion_verdict(report, copy.deepcopy(report))
    assert ok


def _judgeable() -> dict[str, Any]:
    return {
        "failure": {"roc_auc": 0.8, "pr_auc": 0.5, "balanced_accuracy": 0.7},
        "baselines": {"rolling_rate": {"roc_auc": 0.6}, "previous_outcome": {"balanced_accuracy": 0.6}},
        "duration": {"mae": 80.0, "baseline_mae": 100.0},
        # a test window with enough evidence for the gate to judge the figures at all
        "windows": {
            "test": {"groups": 300, "failing_groups": 60, "passing_groups": 280, "duration_groups": 300}
        },
    }


@pytest.mark.parametrize("undefined", [None, float("nan")])
@pytest.mark.parametrize(
    ("section", "metric"),
    [("failure", "roc_auc"), ("failure", "pr_auc"), ("failure", "balanced_accuracy"), ("duration", "mae")],
)
def test_a_candidate_with_an_undefined_metric_is_refused(
    section: str, metric: str, undefined: float | None
) -> None:
    """A one-class test window leaves ROC-AUC undefined (null in report.json, NaN in memory)."""
    report = _judgeable()
    assert promotion_verdict(report, _judgeable()) == (True, [])
    report[section][metric] = undefined
    ok, reasons = promotion_verdict(report, _judgeable())
    assert not ok and "cannot be judged" in reasons[0]


def test_a_current_model_without_a_metric_does_not_block_a_judgeable_candidate() -> None:
    current = _judgeable()
    current["failure"]["pr_auc"] = None
    current["failure"]["roc_auc"] = 0.9
    ok, reasons = promotion_verdict(_judgeable(), current)
    assert not ok and reasons == [
        "roc_auc fell by 0.100 against the current model's figure on its own, different test window "
        "(tolerance 0.01: a report records no standard error; "
        "not compared on the same rows: the candidate's report has no same-row comparison)"
    ]
    current["failure"]["roc_auc"] = 0.8
    assert promotion_verdict(_judgeable(), current) == (True, [])


def test_across_windows_a_loss_counts_only_beyond_both_windows_noise() -> None:
    """Without a same-row comparison, the allowance is 1.96 × the root sum of squares of the SEs."""
    candidate, current = _judgeable(), _judgeable()
    candidate["failure_noise"] = {"roc_auc": 0.03, "pr_auc": 0.04}
    current["failure_noise"] = {"roc_auc": 0.04, "pr_auc": 0.03}
    current["failure"]["roc_auc"] = 0.8 + 0.09  # allowance 1.96 × 0.05 = 0.098
    assert promotion_verdict(candidate, current) == (True, [])
    current["failure"]["roc_auc"] = 0.8 + 0.11
    ok, reasons = promotion_verdict(candidate, current)
    assert not ok and reasons == [
        "roc_auc fell by 0.110 against the current model's figure on its own, different test window "
        "(allowed 0.098, 1.96 × the two windows' combined bootstrap standard error (0.030 and 0.040); "
        "not compared on the same rows: the candidate's report has no same-row comparison)"
    ]
    del current["failure_noise"]  # a current model trained before reports recorded it
    ok, reasons = promotion_verdict(candidate, current)
    assert not ok and "tolerance 0.01: a report records no standard error" in reasons[0]


# --- the least evidence on the test window


def _window(groups: int, failing: int, passing: int, duration: int) -> dict[str, Any]:
    return {
        "test": {
            "groups": groups,
            "failing_groups": failing,
            "passing_groups": passing,
            "duration_groups": duration,
        }
    }


def test_the_gate_passes_a_window_at_the_minimum_of_evidence() -> None:
    n, k = MIN_TEST_GROUPS, MIN_TEST_CLASS_GROUPS
    at = {**_judgeable(), "windows": _window(n, k, k, n)}
    assert promotion_verdict(at, None) == (True, [])
    above = {**_judgeable(), "windows": _window(n + 50, k + 10, n + 40, n + 50)}
    assert promotion_verdict(above, None) == (True, [])


@pytest.mark.parametrize(
    ("short", "counts"),
    [
        ("groups", (MIN_TEST_GROUPS - 1, MIN_TEST_CLASS_GROUPS, MIN_TEST_GROUPS - 1, MIN_TEST_GROUPS)),
        ("failing", (MIN_TEST_GROUPS, MIN_TEST_CLASS_GROUPS - 1, MIN_TEST_GROUPS, MIN_TEST_GROUPS)),
        ("passing", (MIN_TEST_GROUPS, MIN_TEST_GROUPS, MIN_TEST_CLASS_GROUPS - 1, MIN_TEST_GROUPS)),
        ("duration", (MIN_TEST_GROUPS, MIN_TEST_CLASS_GROUPS, MIN_TEST_GROUPS, MIN_TEST_GROUPS - 1)),
    ],
)
def test_below_the_minimum_the_gate_refuses_with_one_reason_naming_the_counts(
    short: str, counts: tuple[int, int, int, int]
) -> None:
    groups, failing, passing, duration = counts
    # figures that beat every baseline, and a current model far worse: only the evidence is short
    report = {**_judgeable(), "windows": _window(*counts)}
    current = _judgeable()
    current["failure"]["roc_auc"] = 0.55
    ok, reasons = promotion_verdict(report, current)
    assert not ok and len(reasons) == 1, short
    assert reasons[0].startswith(
        f"too little evidence on the test window: {groups} attempt groups with an outcome "
        f"({failing} with a failure, {passing} with a passing attempt) and {duration} with a duration"
    )
    assert (
        f"at least {MIN_TEST_GROUPS} attempt groups with an outcome and {MIN_TEST_GROUPS} with a duration, "
        f"{MIN_TEST_CLASS_GROUPS} of them with a failure and {MIN_TEST_CLASS_GROUPS} with a passing attempt"
    ) in reasons[0]
    assert "ingest more history" in reasons[0] and "wait for more runs" in reasons[0]


def test_a_one_class_window_is_refused_for_its_evidence_before_its_undefined_figures() -> None:
    report = {**_judgeable(), "windows": _window(150, 0, 150, 150)}
    report["failure"]["roc_auc"] = None
    ok, reasons = promotion_verdict(report, None)
    assert not ok and reasons[0].startswith("too little evidence") and "(0 with a failure" in reasons[0]


def test_a_report_without_the_counts_is_refused() -> None:
    report = _judgeable()
    del report["windows"]
    ok, reasons = promotion_verdict(report, None)
    assert not ok and reasons == [
        "the candidate's report records no attempt-group counts of its test window (trained before they "
        "were recorded), so it cannot be shown to hold enough evidence: train it again"
    ]


def test_the_group_counts_count_each_group_once_per_side() -> None:
    groups = np.asarray(["a", "a", "b", "c", "d", "e"], dtype=object)
    failed = np.asarray([1.0, 0.0, 0.0, np.nan, 1.0, 1.0])  # a retried to green; c without an outcome
    duration = np.asarray([60.0, 61.0, np.nan, 30.0, 90.0, np.nan])
    assert group_counts(failed, duration, groups) == {
        "groups": 4,
        "failing_groups": 3,
        "passing_groups": 2,
        "duration_groups": 3,
    }


def test_the_report_and_the_card_carry_the_test_windows_counts(trained: Any) -> None:
    windows = trained.report["windows"]
    for name in ("fit", "calibration", "trained", "test"):
        w = windows[name]
        assert 0 < w["groups"] <= w["failure_rows"], name
        assert 0 < w["failing_groups"] <= w["groups"] and 0 < w["passing_groups"] <= w["groups"]
        assert w["failing_groups"] + w["passing_groups"] >= w["groups"]  # a group may be on both sides
    assert windows["trained"]["groups"] == windows["fit"]["groups"] + windows["calibration"]["groups"]
    test = windows["test"]
    markdown = build_model_card(trained.report).markdown
    row = (
        f"| test | {test['rows']:,} | {test['failure_rows']:,} | {test['groups']:,} | "
        f"{test['failing_groups']:,} | {test['passing_groups']:,} | {test['duration_groups']:,} |"
    )
    assert row in markdown
    assert f"Evidence for the promotion gate: the test window's {test['groups']} attempt groups" in markdown


def test_a_small_organisation_gets_a_candidate_a_card_and_a_refusal_naming_its_counts(tmp_path: Path) -> None:
    # 300 runs: enough to train (MIN_LABELLED_RUNS), a test window of about 60 rows
    features = build_run_features(synthetic_run_inputs(300, repos=2, seed=1))
    small = train_models(features, trials=1, seed=0)
    test = small.report["windows"]["test"]
    assert test["groups"] < MIN_TEST_GROUPS
    folder = small.save(tmp_path)
    ok, reasons = promotion_verdict(small.report, None)
    assert not ok and len(reasons) == 1
    assert reasons[0].startswith(
        f"too little evidence on the test window: {test['groups']} attempt groups with an outcome "
        f"({test['failing_groups']} with a failure"
    )
    card = (folder / "model_card.md").read_text(encoding="utf-8")
    assert f"**Not promotable on this window:** {reasons[0]}." in card
