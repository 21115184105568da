"""``repopilot benchmark windows``: the report's keys on a subset of the real pull request table."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from actions.maintenance.windows import FIXED_WINDOW_START, HOURS_PER_WEEK
from pipelines.benchmarks_windows import Case, is_tuning_repository, make_cases, raw_argmin, summarise
from pipelines.cli import main
from tests.conftest import require_shared


def test_split_is_deterministic_and_balanced() -> None:
    names = [f"org{i}/repo{i}" for i in range(400)]
    tuning = [n for n in names if is_tuning_repository(n)]
    assert tuning == [n for n in names if is_tuning_repository(n)]
    assert 150 < len(tuning) < 250


def test_cases_hold_out_the_last_weeks() -> None:
    # Events every hour for 20 weeks, starting on a Monday 00:00 UTC (epoch hour 96).
    hours = np.arange(96, 96 + 20 * HOURS_PER_WEEK)
    cases, skipped = make_cases({"a/b": hours}, holdout_weeks=8)
    assert skipped == 0 and len(cases) == 1
    case = cases[0]
    assert case.held_out.sum() == 8 * HOURS_PER_WEEK and case.train.sum() == 12 * HOURS_PER_WEEK
    assert case.weeks_observed == 12
    late, skipped = make_cases({"a/b": hours}, holdout_weeks=8, origin=3)
    assert late == [] and skipped == 1


def test_summary_compares_with_the_fixed_window() -> None:
    held = np.zeros(HOURS_PER_WEEK)
    held[FIXED_WINDOW_START] = 2.0
    held[10] = 2.0
    case = Case("a/b", np.ones(HOURS_PER_WEEK), held, 0, 10.0)
    summary = summarise([case, case], [40, 40], 3)
    assert summary["learned_disruption_mean"] == 0.0 and summary["fixed_disruption_mean"] == 0.5
    assert summary["ratio"] == 0.0 and summary["share_not_worse"] == 1.0
    assert raw_argmin(case, 3) == 0  # all ties: the earliest hour


@pytest.mark.shared_data
def test_benchmark_on_a_subset_of_pullreqs(tmp_path: Path) -> None:
    source = require_shared("pullreqs/pullreqs.parquet")
    frame = pl.read_parquet(source, columns=["repo", "created_at", "merged_at", "closed_at"])
    repos = frame.group_by("repo").len().filter(pl.col("len") >= 300).sort("repo")["repo"].head(12)
    subset = tmp_path / "subset.parquet"
    frame.filter(pl.col("repo").is_in(repos.implode())).write_parquet(subset)
    out = tmp_path / "windows.json"

    assert main(["benchmark", "windows", "--data", str(subset), "--no-tune", "--json", str(out)]) == 0

    report = json.loads(out.read_text())
    for key in ("learned_disruption_mean", "fixed_disruption_mean", "ratio", "share_not_worse", "seconds"):
        assert key in report
    assert report["repositories_with_min_events"] == 12
    evaluated = report["repositories_evaluated"]
    assert evaluated["unseen"] + evaluated["tuning"] == 12
    for section in ("unseen", "tuning", "all"):
        assert set(report[section]["variants"]) == {
            "learned_without_template",
            "raw_argmin",
            "simple_smoothing",
        }
    assert 0 <= report["all"]["learned_disruption_mean"] <= 1
    assert report["all"]["repositories"] == 12
