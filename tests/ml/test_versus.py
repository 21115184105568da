"""The candidate against the model in service on the same test rows (paired bootstrap) and the gate."""

from __future__ import annotations

import json
import math
import shutil
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import polars as pl
import pytest
from sklearn.metrics import average_precision_score, roc_auc_score

from pipelines.features.runs import build_run_features
from pipelines.features.synthetic_runs import synthetic_run_inputs
from pipelines.ml.card import build_model_card
from pipelines.ml.pipeline import promotion_verdict, train_models, versus_current_summary
from pipelines.ml.versus import MIN_UNSEEN_CLASS_GROUPS, MIN_UNSEEN_GROUPS, paired_bootstrap, weighted_auc


def test_the_weighted_figures_are_scikit_learns_with_sample_weights() -> None:
    rng = np.random.default_rng(1)
    y = (rng.random(300) < 0.3).astype(np.float64)
    p = np.round(rng.random(300) * 0.5 + 0.4 * y, 2)  # rounded: many tied scores
    weights = rng.integers(0, 4, size=(5, 300)).astype(np.float64)
    auc, ap = weighted_auc(y, p, weights)
    for i in range(5):
        assert auc[i] == pytest.approx(roc_auc_score(y, p, sample_weight=weights[i]), abs=1e-12)
        assert ap[i] == pytest.approx(average_precision_score(y, p, sample_weight=weights[i]), abs=1e-12)
    no_failures = np.where(y == 1, 0.0, 1.0)[None, :]
    assert np.isnan(weighted_auc(y, p, no_failures)[0][0])


def test_the_paired_interval_is_seeded_and_detects_a_better_model() -> None:
    rng = np.random.default_rng(2)
    y = (rng.random(400) < 0.3).astype(np.float64)
    good = np.clip(0.3 + 0.4 * (y - 0.3) + rng.normal(0, 0.2, 400), 0, 1)
    groups = np.asarray([f"g{i // 2}" for i in range(400)], dtype=object)
    same = paired_bootstrap(y, good, good, (0.5, 0.5), groups, replicates=200, seed=0)
    assert same["roc_auc"]["difference"] == 0.0 and same["roc_auc"]["ci95"] == [0.0, 0.0]
    noise = rng.random(400)
    worse = paired_bootstrap(y, noise, good, (0.5, 0.5), groups, replicates=200, seed=0)
    assert worse == paired_bootstrap(y, noise, good, (0.5, 0.5), groups, replicates=200, seed=0)
    assert worse["roc_auc"]["ci95"][1] < 0 and worse["pr_auc"]["ci95"][1] < 0
    assert worse["roc_auc"]["ci95"][0] < worse["roc_auc"]["difference"] < worse["roc_auc"]["ci95"][1]
    assert worse["roc_auc"]["candidate"] == pytest.approx(roc_auc_score(y, noise))


# --- the verdict on hand-made reports


def _judgeable(versus: dict[str, Any] | None = None) -> dict[str, Any]:
    report: dict[str, Any] = {
        "failure": {"roc_auc": 0.8, "pr_auc": 0.5, "balanced_accuracy": 0.7},
        "baselines": {"rolling_rate": {"roc_auc": 0.6}, "previous_outcome": {"balanced_accuracy": 0.6}},
        "duration": {"mae": 80.0, "baseline_mae": 100.0},
        # a test window with enough evidence for the gate to judge the figures at all
        "windows": {
            "test": {"groups": 300, "failing_groups": 60, "passing_groups": 280, "duration_groups": 300}
        },
    }
    if versus is not None:
        report["versus_current"] = versus
    return report


def _paired(roc: tuple[float, float], pr: tuple[float, float]) -> dict[str, Any]:
    def figures(ci: tuple[float, float]) -> dict[str, Any]:
        return {"candidate": 0.8, "current": 0.8 - sum(ci) / 2, "difference": sum(ci) / 2, "ci95": list(ci)}

    return {
        "same_rows": True,
        "rows": 500,
        "resampled": "attempt groups",
        "roc_auc": figures(roc),
        "pr_auc": figures(pr),
        "balanced_accuracy": figures((-0.1, 0.1)),
    }


def test_the_verdict_refuses_only_a_difference_below_zero_beyond_noise() -> None:
    # a stored figure of another window, far better, no longer matters once the rows are the same
    better_elsewhere = _judgeable()
    better_elsewhere["failure"]["roc_auc"] = 0.95
    assert promotion_verdict(_judgeable(_paired((-0.04, 0.01), (-0.02, 0.03))), better_elsewhere) == (
        True,
        [],
    )
    ok, reasons = promotion_verdict(_judgeable(_paired((-0.04, 0.01), (-0.09, -0.01))), better_elsewhere)
    assert not ok and reasons == [
        "PR-AUC is worse than the current model's beyond noise on the same 500 test rows: "
        "0.800 vs 0.850, difference -0.050 (95% interval -0.090 to -0.010)"
    ]
    # balanced accuracy is reported, not judged: the interval above straddles zero anyway
    assert "balanced accuracy 0.800 vs" in versus_current_summary(_judgeable(_paired((0, 0), (0, 0))), None)


def test_the_verdict_falls_back_to_stored_figures_and_says_the_windows_differ() -> None:
    current = _judgeable()
    current["failure"]["roc_auc"] = 0.9
    unscorable = {"same_rows": False, "current_version": "v1", "reason": "feature columns missing: ['x']"}
    ok, reasons = promotion_verdict(_judgeable(unscorable), current)
    assert not ok and reasons == [
        "roc_auc fell by 0.100 against the current model's figure on its own, different test window "
        "(tolerance 0.01: a report records no standard error; "
        "not compared on the same rows: feature columns missing: ['x'])"
    ]
    assert "different test windows" in versus_current_summary(_judgeable(unscorable), current)
    current["failure"]["roc_auc"] = 0.805
    assert promotion_verdict(_judgeable(unscorable), current) == (True, [])
    assert versus_current_summary(_judgeable(), None) == "no model in service"
    # models in service without their report: nothing to compare with, and the summary says so
    assert versus_current_summary(_judgeable(unscorable), None).startswith("not compared")
    assert promotion_verdict(_judgeable(unscorable), None) == (True, [])


# --- trained models on the synthetic runs


@pytest.fixture(scope="module")
def features() -> pl.DataFrame:
    return build_run_features(synthetic_run_inputs(3_000, repos=8, seed=3))


@pytest.fixture(scope="module")
def current(features: pl.DataFrame, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return train_models(features, trials=2, seed=0).save(tmp_path_factory.mktemp("models"))


def _current_report(folder: Path) -> dict[str, Any]:
    report: dict[str, Any] = json.loads((folder / "report.json").read_text(encoding="utf-8"))
    return report


def test_a_retrained_equal_candidate_passes_with_an_interval_around_zero(
    features: pl.DataFrame, current: Path
) -> None:
    report = train_models(features, trials=2, seed=0, current=current).report
    versus = report["versus_current"]
    assert versus["same_rows"] and versus["rows"] == report["failure"]["rows"]
    assert versus["current_version"] == json.loads((current / "report.json").read_text())["version"]
    for metric in ("roc_auc", "pr_auc", "balanced_accuracy"):
        low, high = versus[metric]["ci95"]
        assert low <= 0.0 <= high, (metric, versus[metric])
        assert versus[metric]["candidate"] == pytest.approx(report["failure"][metric])
    ok, reasons = promotion_verdict(report, _current_report(current))
    assert not any("current model" in reason for reason in reasons)
    assert ok == (reasons == [])
    card = build_model_card(report).markdown
    assert f"scored the same {versus['rows']} test rows" in card
    assert "| ROC-AUC |" in card.split("### Against the model in service")[1]


def test_a_candidate_trained_on_shuffled_labels_is_refused_with_the_interval(
    features: pl.DataFrame, current: Path
) -> None:
    # The training period's outcomes are shuffled; the test window (the latest 20%) keeps its own.
    cut = features["created_at"].sort()[int(0.75 * features.height)]
    before = features["created_at"] < cut
    shuffled = features["failed"].filter(before).shuffle(seed=5)
    noisy = features.with_columns(features["failed"].scatter(np.flatnonzero(before.to_numpy()), shuffled))
    report = train_models(noisy, trials=2, seed=0, current=current).report
    versus = report["versus_current"]
    assert versus["same_rows"] and versus["roc_auc"]["ci95"][1] < 0
    ok, reasons = promotion_verdict(report, _current_report(current))
    refusal = [r for r in reasons if r.startswith("ROC-AUC is worse than the current model's beyond noise")]
    assert not ok and refusal and "95% interval" in refusal[0]
    low, high = versus["roc_auc"]["ci95"]
    assert f"(95% interval {low:+.3f} to {high:+.3f})" in refusal[0]


def _beyond_noise(report: dict[str, Any], stored: dict[str, Any], metric: str) -> float:
    """A stored figure of the current model the candidate's falls short of by more than the noise."""
    errors = (report["failure_noise"][metric], stored["failure_noise"][metric])
    return float(report["failure"][metric] + 1.96 * math.hypot(*errors) + 0.01)


@pytest.mark.parametrize(
    "change", ["renamed feature", "re-encoded category", "unreadable model", "model cut short"]
)
def test_a_current_model_that_cannot_score_the_rows_falls_back_and_says_why(
    features: pl.DataFrame, current: Path, tmp_path: Path, change: str
) -> None:
    folder = tmp_path / "current"
    shutil.copytree(current, folder)
    spec = json.loads((folder / "feature_spec.json").read_text(encoding="utf-8"))
    names, categories = spec["features"]["names"], spec["features"]["categories"]
    if change == "renamed feature":
        names[names.index("duration_median5")] = "median_duration_last5"
        expected = "feature columns missing from the frame: ['median_duration_last5']"
    elif change == "re-encoded category":
        column = next(iter(categories))
        categories[column] = [f"code-{i}" for i in range(len(categories[column]))]
        expected = f"categorical input {column!r} on the test rows is among the current model's categories"
    elif change == "unreadable model":
        (folder / "failure_model.txt").write_text("not a model", encoding="utf-8")
        expected = "the current model cannot be loaded"
    else:  # LightGBM itself would abort the process (SIGABRT) on this file
        text = (folder / "failure_model.txt").read_text(encoding="utf-8")
        (folder / "failure_model.txt").write_text(text[: len(text) // 2], encoding="utf-8")
        expected = "failure_model.txt is not a whole LightGBM model"
    (folder / "feature_spec.json").write_text(json.dumps(spec), encoding="utf-8")
    report = train_models(features, trials=1, seed=0, current=folder).report
    versus = report["versus_current"]
    assert versus["same_rows"] is False and expected in versus["reason"]
    stored = _current_report(current)
    summary = versus_current_summary(report, stored)
    assert summary.startswith("stored figures of different test windows") and expected in summary
    assert f"Not compared on the same rows: {versus['reason']}" in build_model_card(report).markdown
    stored["failure"]["roc_auc"] = _beyond_noise(report, stored, "roc_auc")
    ok, reasons = promotion_verdict(report, stored)
    assert not ok and any("different test window" in r and expected in r for r in reasons)


# --- rows the current model was trained on


def test_a_test_group_with_a_row_inside_the_trained_period_goes_whole() -> None:
    from pipelines.ml.versus import trained_period, unseen_groups

    assert trained_period(None) is None and trained_period({"version": "old"}) is None
    assert trained_period({"windows": ["not", "a", "mapping"]}) is None
    assert trained_period({"windows": {"trained": {"first": "yesterday", "last": "today"}}}) is None
    assert trained_period({"windows": {"trained": {"first": None, "last": "2026-01-01T00:00:00Z"}}}) is None
    period = trained_period(
        {
            "windows": {
                "trained": {"first": "2026-01-01T00:00:00.000000Z", "last": "2026-01-10T00:00:00.000000Z"}
            }
        }
    )
    assert period is not None
    times = np.asarray(
        ["2025-12-31T23:59:59", "2026-01-10T00:00:00", "2026-01-09", "2026-01-11", "2026-01-12"],
        dtype="datetime64[us]",
    )
    groups = np.asarray(["before", "edge", "straddles", "straddles", "after"], dtype=object)
    test = SimpleNamespace(time=times, groups=groups)
    # rows before the period were never seen either; a row on its last instant was
    assert unseen_groups(test, period).tolist() == [True, False, False, False, True]  # type: ignore[arg-type]


def _strip_windows(current: Path, folder: Path) -> Path:
    shutil.copytree(current, folder)
    report = _current_report(folder)
    del report["windows"]
    (folder / "report.json").write_text(json.dumps(report), encoding="utf-8")
    return folder


def test_every_report_records_its_windows(current: Path, features: pl.DataFrame) -> None:
    windows = _current_report(current)["windows"]
    assert windows["trained"]["rows"] == windows["fit"]["rows"] + windows["calibration"]["rows"]
    assert windows["fit"]["first"] == windows["trained"]["first"] <= windows["calibration"]["first"]
    assert windows["calibration"]["last"] == windows["trained"]["last"] < windows["test"]["first"]
    assert windows["test"]["last"] == f"{features['created_at'].max():%Y-%m-%dT%H:%M:%S.%f}Z"
    assert len(windows["trained_keys_sha256"]) == 64
    card = (current / "model_card.md").read_text(encoding="utf-8")
    assert f"| trained (fit + calibration) | {windows['trained']['rows']:,} |" in card


def test_test_rows_the_current_model_was_trained_on_are_left_out(
    features: pl.DataFrame, current: Path
) -> None:
    # The candidate's test window starts at 70% of the history; the current model trained on 80%.
    report = train_models(features, trials=2, seed=0, current=current, train_fraction=0.7).report
    versus, trained = report["versus_current"], _current_report(current)["windows"]["trained"]
    unseen = versus["unseen"]
    assert versus["same_rows"] and unseen["checked"] and unseen["trained_last"] == trained["last"]
    assert unseen["test_rows"] == report["failure"]["rows"] and unseen["test_groups"] > versus["groups"]
    last = datetime.fromisoformat(trained["last"]).replace(tzinfo=None)
    test_first = datetime.fromisoformat(report["windows"]["test"]["first"]).replace(tzinfo=None)
    seen = features.filter(
        pl.col("failed").is_not_null()
        & pl.col("created_at").dt.replace_time_zone(None).is_between(test_first, last)
    ).height
    # every seen row goes, and with it the rest of its attempt group (a handful at most)
    assert seen > 100 and seen <= unseen["test_rows"] - versus["rows"] <= seen + 20
    assert versus["roc_auc"]["candidate"] != pytest.approx(report["failure"]["roc_auc"], abs=1e-9)
    summary = versus_current_summary(report, _current_report(current))
    assert f"on the same {versus['rows']} test rows ({unseen['note']})" in summary
    assert "outside the current model's training period" in build_model_card(report).markdown


def test_a_test_window_inside_the_current_training_falls_back_and_says_why(
    features: pl.DataFrame, current: Path
) -> None:
    # The candidate sees less history (first 70% of runs): its whole test window is in the current training.
    cut = features["created_at"].sort()[int(0.7 * features.height)]
    report = train_models(
        features.filter(pl.col("created_at") < cut), trials=2, seed=0, current=current
    ).report
    versus = report["versus_current"]
    assert versus["same_rows"] is False and versus["unseen"]["rows"] == 0
    assert versus["reason"].startswith("the current model was trained on the candidate's test window: 0 of ")
    assert (
        f"fewer than the {MIN_UNSEEN_GROUPS} ({MIN_UNSEEN_CLASS_GROUPS} with a failure and as many without)"
        in versus["reason"]
    )
    stored = _current_report(current)
    assert versus["reason"] in versus_current_summary(report, stored)
    assert f"Not compared on the same rows: {versus['reason']}" in build_model_card(report).markdown
    stored["failure"]["pr_auc"] = _beyond_noise(report, stored, "pr_auc")
    ok, reasons = promotion_verdict(report, stored)
    assert not ok and any("different test window" in r and versus["reason"] in r for r in reasons)


def test_without_overlap_or_a_recorded_period_the_comparison_is_the_one_on_all_rows(
    features: pl.DataFrame, current: Path, tmp_path: Path
) -> None:
    report = train_models(features, trials=2, seed=0, current=current).report
    checked = report["versus_current"]
    old = _strip_windows(current, tmp_path / "old")
    unchecked = train_models(features, trials=2, seed=0, current=old).report["versus_current"]
    assert checked["unseen"]["checked"] and not unchecked["unseen"]["checked"]
    assert checked["rows"] == checked["unseen"]["test_rows"] == unchecked["rows"]
    assert "no training period" in unchecked["unseen"]["note"]
    for metric in ("roc_auc", "pr_auc", "balanced_accuracy"):
        assert checked[metric] == unchecked[metric]
    # both on every labelled test row, as before the rows were checked
    assert checked["roc_auc"]["candidate"] == pytest.approx(report["failure"]["roc_auc"])
    flagged = {**_judgeable(), "versus_current": unchecked}
    assert "(unchecked: the current model's report records no training period" in versus_current_summary(
        flagged, None
    )
    assert "**Unchecked:**" in build_model_card(flagged).markdown


def test_the_gate_noise_benchmark_refuses_equal_candidates_rarely_on_large_windows(tmp_path: Path) -> None:
    from pipelines.cli import main
    from pipelines.ml.gate_bench import false_refusals

    out = tmp_path / "noise.json"
    assert main(["benchmark", "gate-noise", "--sims", "2", "--point-sims", "5", "--json", str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert [row["groups"] for row in report["by_groups"]] == [10, 20, 30, 50, 100, 200, 400]
    small, large = (false_refusals(n, failure_rate=0.2, sims=30, replicates=200, seed=0) for n in (20, 400))
    assert large["windows"] == 30 and large["failing_groups_mean"] > 60
    # equal models: the interval narrows with the window and rarely lies below zero on a large one
    assert large["roc_auc_interval_width_mean"] < small["roc_auc_interval_width_mean"] / 3
    assert large["equal_candidate_refused"] <= 0.15


def test_the_gate_noise_benchmark_reports_the_baseline_rule_and_the_duration_rules(tmp_path: Path) -> None:
    from pipelines.cli import main

    out = tmp_path / "noise.json"
    argv = ["benchmark", "gate-noise", "--sims", "3", "--point-sims", "20", "--groups", "10,40", "--json"]
    assert main([*argv, str(out)]) == 0
    report = json.loads(out.read_text(encoding="utf-8"))
    assert report["point_sims"] == 20 and report["worse"] == [
        {"roc_auc_deficit": 0.05, "mae_excess": 0.05},
        {"roc_auc_deficit": 0.1, "mae_excess": 0.1},
    ]
    kinds = {"equal", "worse_roc_auc_0.05_mae_0.05", "worse_roc_auc_0.1_mae_0.1"}
    rules = {"roc_auc", "balanced_accuracy", "duration_mae", "failure", "all"}
    for section in ("by_groups", "baseline_rule", "duration_equal"):
        assert [row["groups"] for row in report[section]] == [10, 40], section
    for row in report["baseline_rule"]:
        assert 0 < row["windows"] <= 20 and kinds <= set(row)
        for kind in kinds:
            assert set(row[kind]) == rules and all(0.0 <= v <= 1.0 for v in row[kind].values())
            assert row[kind]["all"] <= min(row[kind]["failure"], row[kind]["duration_mae"])
    for row in report["duration_equal"]:
        assert row["windows"] == 3 and 0.0 <= row["mae"] <= row["either"] <= 1.0
        assert row["coverage"] <= row["either"] and row["mae_interval_width_share"] > 0


def test_the_baseline_rule_passes_a_worse_candidate_less_often_on_a_larger_window() -> None:
    from pipelines.ml.gate_bench import baseline_false_passes, duration_false_refusals

    small, large = (baseline_false_passes(n, failure_rate=0.2, sims=300, seed=0) for n in (20, 400))
    worse = "worse_roc_auc_0.1_mae_0.1"
    assert large[worse]["failure"] < 0.05 < small[worse]["failure"]
    # an equal candidate beats the baselines by chance about as often on any window: a point comparison
    assert 0.25 < large["equal"]["failure"] < 0.6 and 0.25 < small["equal"]["failure"] < 0.6
    equal = duration_false_refusals(200, sims=40, replicates=200, seed=0)
    assert equal["either"] <= 0.2 and equal["coverage"] <= 0.1


def test_the_gate_benchmark_judges_a_candidate_on_a_warehouse_both_ways(
    features: pl.DataFrame, current: Path, tmp_path: Path
) -> None:
    import duckdb

    from pipelines.cli import main

    shutil.copytree(current, tmp_path / "models" / "current")
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as conn:
        conn.execute("CREATE SCHEMA features")
        conn.register("frame", features.to_arrow())
        conn.execute("CREATE TABLE features.run_features AS SELECT * FROM frame")
    out = tmp_path / "gate.json"
    # a candidate on the first 70% of the history: its whole test window is in the current training
    argv = [
        "--home",
        str(tmp_path),
        "benchmark",
        "gate",
        "--history",
        "0.7",
        "--trials",
        "1",
        "--json",
        str(out),
    ]
    assert main(argv) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    checked, before = figures["checked"]["versus_current"], figures["all_rows_as_before"]["versus_current"]
    assert not checked["same_rows"] and checked["unseen"]["test_rows"] == before["rows"] > 0
    assert before["same_rows"] and not before["unseen"]["checked"]
    assert figures["checked"]["summary"].startswith("stored figures of different test windows")
    assert figures["current_windows"] == _current_report(current)["windows"]
    assert not (tmp_path / "models" / "candidate").exists()


def test_a_comparison_with_a_model_no_longer_in_service_is_not_used() -> None:
    # the candidate was compared with v1 (and lost beyond noise); v2 was promoted in between
    stale = {**_paired((-0.09, -0.01), (-0.02, 0.03)), "current_version": "v1"}
    current = {**_judgeable(), "version": "v2"}
    ok, reasons = promotion_verdict(_judgeable(stale), current)
    assert ok and reasons == []  # stored figures of v2: equal, within tolerance
    summary = versus_current_summary(_judgeable(stale), current)
    assert summary == (
        "stored figures of different test windows (not compared on the same rows: the candidate was "
        "compared with model v1, but model v2 is in service now); duration: stored figures of different "
        "test windows (not compared on the same rows: the candidate's report predates the same-row "
        "duration comparison)"
    )
    current["failure"]["roc_auc"] = 0.9
    ok, reasons = promotion_verdict(_judgeable(stale), current)
    assert (
        not ok
        and reasons[0].startswith("roc_auc fell by 0.100")
        and "model v2 is in service now" in reasons[0]
    )
    assert not promotion_verdict(_judgeable(stale), {**current, "version": "v1"})[
        0
    ]  # still v1: paired refusal


# --- the duration model against the current one


def test_the_duration_bootstrap_figures_are_the_point_figures_and_detect_a_worse_model() -> None:
    from pipelines.ml.versus import _duration_figures, duration_bootstrap

    rng = np.random.default_rng(4)
    y = rng.lognormal(5.0, 0.5, 401)
    good = (y * rng.lognormal(0.0, 0.1, 401), y * 0.7, y * 1.3)
    figures = _duration_figures(y, good, np.ones((1, 401)))
    assert figures["mae"][0] == pytest.approx(np.mean(np.abs(y - good[0])))
    assert figures["median_ape"][0] == pytest.approx(np.median(np.abs(y - good[0]) / y))
    assert figures["interval_coverage"][0] == 1.0
    groups = np.asarray([f"g{i // 2}" for i in range(401)], dtype=object)
    same = duration_bootstrap(y, good, good, groups, replicates=200, seed=0)
    assert same["mae"]["difference"] == 0.0 and same["mae"]["ci95"] == [0.0, 0.0]
    worse = (good[0] * 1.5, good[1] * 1.5, good[2] * 1.5)  # biased: larger errors, coverage collapses
    out = duration_bootstrap(y, worse, good, groups, replicates=200, seed=0)
    assert out == duration_bootstrap(y, worse, good, groups, replicates=200, seed=0)
    assert out["mae"]["ci95"][0] > 0 and out["median_ape"]["ci95"][0] > 0
    coverage = out["interval_coverage"]
    assert coverage["current"] == 1.0 and coverage["candidate"] < 0.3
    assert coverage["candidate_ci95"][1] < 0.75 and coverage["current_ci95"] == [1.0, 1.0]


def _duration_paired(
    mae: tuple[float, float], candidate_coverage: tuple[float, float], current_coverage: tuple[float, float]
) -> dict[str, Any]:
    def figures(ci: tuple[float, float], current: float) -> dict[str, Any]:
        return {
            "candidate": current + sum(ci) / 2,
            "current": current,
            "difference": sum(ci) / 2,
            "ci95": list(ci),
        }

    coverage = {
        **figures((-0.05, 0.05), 0.8),
        "candidate": sum(candidate_coverage) / 2,
        "current": sum(current_coverage) / 2,
        "candidate_ci95": list(candidate_coverage),
        "current_ci95": list(current_coverage),
    }
    return {
        "compared": True,
        "rows": 480,
        "groups": 300,
        "mae": figures(mae, 80.0),
        "median_ape": figures((-0.02, 0.02), 0.2),
        "interval_coverage": coverage,
    }


def test_the_verdict_refuses_a_duration_model_worse_beyond_noise_on_the_same_rows() -> None:
    equal = {
        **_paired((-0.04, 0.01), (-0.02, 0.03)),
        "duration": _duration_paired((-5, 6), (0.76, 0.84), (0.77, 0.85)),
    }
    assert promotion_verdict(_judgeable(equal), None) == (True, [])
    summary = versus_current_summary(_judgeable(equal), None)
    assert (
        "; duration on the same 480 test rows with a duration (300 attempt groups), paired bootstrap: "
        in summary
    )
    assert "MAE 80.5s vs 80.0s, difference +0.5s (95% interval -5.0s to +6.0s)" in summary
    assert "P10–P90 coverage 0.800 (95% interval 0.760 to 0.840) vs 0.810 (0.770 to 0.850)" in summary
    worse = {**equal, "duration": _duration_paired((20, 60), (0.76, 0.84), (0.77, 0.85))}
    ok, reasons = promotion_verdict(_judgeable(worse), None)
    assert not ok and reasons == [
        "duration MAE is worse than the current model's beyond noise on the same 480 test rows with a "
        "duration: 120.0s vs 80.0s, difference +40.0s (95% interval +20.0s to +60.0s)"
    ]
    collapsed = {**equal, "duration": _duration_paired((-5, 6), (0.35, 0.45), (0.77, 0.85))}
    ok, reasons = promotion_verdict(_judgeable(collapsed), None)
    assert not ok and reasons == [
        "P10–P90 coverage misses 0.75–0.85 beyond noise where the current model's does not, on the same "
        "480 test rows with a duration: 0.400 (95% interval 0.350 to 0.450) vs 0.810 (0.770 to 0.850)"
    ]
    # a point figure just outside the band is noise on these rows; a band the current misses too is moot
    assert promotion_verdict(
        {
            **_judgeable(),
            "versus_current": {**equal, "duration": _duration_paired((-5, 6), (0.70, 0.78), (0.77, 0.85))},
        },
        None,
    )[0]
    assert promotion_verdict(
        {
            **_judgeable(),
            "versus_current": {**equal, "duration": _duration_paired((-5, 6), (0.35, 0.45), (0.60, 0.70))},
        },
        None,
    )[0]


def test_without_a_same_row_duration_comparison_the_stored_figures_judge_it_and_say_why() -> None:
    old = _paired((-0.04, 0.01), (-0.02, 0.03))  # a report written before the duration comparison
    current = _judgeable()
    assert promotion_verdict(_judgeable(old), current) == (True, [])
    assert (
        "duration: stored figures of different test windows (not compared on the same rows: the "
        "candidate's report predates the same-row duration comparison)"
        in versus_current_summary(_judgeable(old), current)
    )
    current["duration"]["mae"] = 70.0  # the candidate's 80s: 10s more, tolerance 10% of 70s
    ok, reasons = promotion_verdict(_judgeable(old), current)
    assert not ok and reasons == [
        "duration MAE rose by 10.0s against the current model's figure on its own, different test window "
        "(tolerance 7s: a report records no standard error; not compared on the same rows: the candidate's "
        "report predates the same-row duration comparison)"
    ]
    candidate = _judgeable(old)
    candidate["duration_noise"] = {"mae": 4.0, "interval_coverage": 0.02}
    current["duration_noise"] = {"mae": 5.0, "interval_coverage": 0.02}
    assert promotion_verdict(candidate, current) == (True, [])  # allowed 1.96 × √(4² + 5²) = 12.6s
    current["duration"]["mae"] = 60.0
    ok, reasons = promotion_verdict(candidate, current)
    assert not ok and reasons[0].startswith(
        "duration MAE rose by 20.0s against the current model's figure on its own, different test window "
        "(allowed 12.6s, 1.96 × the two windows' combined bootstrap standard error (4.0s and 5.0s)"
    )
    # the coverage band on each report's own figure, with its stored standard error
    current["duration"].update(mae=80.0, interval_coverage=0.8)
    candidate["duration"]["interval_coverage"] = 0.5
    ok, reasons = promotion_verdict(candidate, current)
    assert not ok and reasons == [
        "P10–P90 coverage 0.500 (95% interval 0.461 to 0.539) misses 0.75–0.85 where the current model's "
        "0.800 (95% interval 0.761 to 0.839) on its own, different test window does not (not compared on "
        "the same rows: the candidate's report predates the same-row duration comparison)"
    ]
    current["duration"]["interval_coverage"] = 0.55  # missed by both: the band does not judge
    assert promotion_verdict(candidate, current) == (True, [])


def _shuffled_before(features: pl.DataFrame, column: str, share: float = 0.75) -> pl.DataFrame:
    """``column`` shuffled over the training period; the test window (the latest 20%) keeps its own."""
    cut = features["created_at"].sort()[int(share * features.height)]
    before = features["created_at"] < cut
    shuffled = features[column].filter(before).shuffle(seed=5)
    return features.with_columns(features[column].scatter(np.flatnonzero(before.to_numpy()), shuffled))


def test_an_equal_retrained_duration_model_passes_with_intervals_around_zero(
    features: pl.DataFrame, current: Path
) -> None:
    report = train_models(features, trials=2, seed=0, current=current).report
    duration = report["versus_current"]["duration"]
    assert duration["compared"] and duration["rows"] == report["duration"]["rows"]
    for metric in ("mae", "median_ape", "interval_coverage"):
        low, high = duration[metric]["ci95"]
        assert low <= 0.0 <= high, (metric, duration[metric])
        assert duration[metric]["candidate"] == pytest.approx(report["duration"][metric])
    assert (
        set(report["duration_noise"]) >= {"mae", "interval_coverage"} and report["duration_noise"]["mae"] > 0
    )
    _, reasons = promotion_verdict(report, _current_report(current))
    assert not any("duration" in reason or "coverage" in reason for reason in reasons), reasons
    assert "duration on the same" in versus_current_summary(report, _current_report(current))
    assert "| duration MAE (s) |" in build_model_card(report).markdown


def test_a_duration_model_trained_on_shuffled_durations_is_refused_with_the_interval(
    features: pl.DataFrame, current: Path
) -> None:
    report = train_models(
        _shuffled_before(features, "duration_seconds"), trials=2, seed=0, current=current
    ).report
    mae = report["versus_current"]["duration"]["mae"]
    assert mae["ci95"][0] > 0 and mae["candidate"] > mae["current"]
    ok, reasons = promotion_verdict(report, _current_report(current))
    refusal = [
        r for r in reasons if r.startswith("duration MAE is worse than the current model's beyond noise")
    ]
    low, high = mae["ci95"]
    assert not ok and refusal and f"(95% interval {low:+.1f}s to {high:+.1f}s)" in refusal[0]


def test_a_duration_interval_that_collapses_is_refused_where_the_current_meets_the_band(
    features: pl.DataFrame, current: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import functools

    from pipelines.ml import benchmark
    from pipelines.ml.train import train_duration_model

    # conformalised to 30% coverage on the calibration slice instead of 80%
    monkeypatch.setattr(
        benchmark, "train_duration_model", functools.partial(train_duration_model, coverage=0.3)
    )
    report = train_models(features, trials=2, seed=0, current=current).report
    coverage = report["versus_current"]["duration"]["interval_coverage"]
    assert coverage["candidate_ci95"][1] < 0.75 <= coverage["current_ci95"][1]
    ok, reasons = promotion_verdict(report, _current_report(current))
    assert not ok and any(r.startswith("P10–P90 coverage misses 0.75–0.85 beyond noise") for r in reasons)


@pytest.mark.parametrize("damage", ["missing", "cut short"])
def test_a_current_duration_model_that_cannot_be_loaded_falls_back_and_says_why(
    features: pl.DataFrame, current: Path, tmp_path: Path, damage: str
) -> None:
    folder = tmp_path / "current"
    shutil.copytree(current, folder)
    model = folder / "duration_p90.txt"
    if damage == "missing":
        model.unlink()
    else:  # LightGBM would abort the process on this file: it is checked before it is parsed
        model.write_text(model.read_text(encoding="utf-8")[:5_000], encoding="utf-8")
    report = train_models(features, trials=1, seed=0, current=folder).report
    versus = report["versus_current"]
    assert versus["same_rows"] and not versus["duration"]["compared"]
    assert versus["duration"]["reason"].startswith("the current duration model cannot be loaded")
    stored = _current_report(current)
    summary = versus_current_summary(report, stored)
    why = versus["duration"]["reason"]
    assert (
        f"duration: stored figures of different test windows (not compared on the same rows: {why})"
        in summary
    )
    assert (
        f"Duration: not compared on the same rows: {versus['duration']['reason']}"
        in build_model_card(report).markdown
    )
    errors = (report["duration_noise"]["mae"], stored["duration_noise"]["mae"])
    stored["duration"]["mae"] = report["duration"]["mae"] - 1.96 * math.hypot(*errors) - 1.0
    ok, reasons = promotion_verdict(report, stored)
    assert not ok and any(
        r.startswith("duration MAE rose by") and "different test window" in r for r in reasons
    )
