"""The dashboard's data functions: windows, SLA judgement, filters, and scoring with the saved model."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboards import data
from dashboards.models import load_model, metric_comparison


def _activity(scores: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"hour_of_week": list(range(168)), "impact_score": scores})


def test_quiet_windows_pick_the_quietest_hours_at_their_next_start() -> None:
    scores = [1.0] * 168
    for hour in (2, 3, 100, 101, 150):  # Mon 02-04, Fri 04-06 quiet; Sun 06 alone
        scores[hour] = 0.0
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)  # a Wednesday
    windows = data.quiet_windows(_activity(scores), now, hours=2, count=2)
    assert windows["starts_at"].to_list() == [
        datetime(2026, 11, 27, 4, 0, tzinfo=UTC),  # Friday 04:00, this week
        datetime(2026, 11, 30, 2, 0, tzinfo=UTC),  # Monday 02:00, next week
    ]
    assert windows["impact"].to_list() == [0.0, 0.0]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.floats(0, 1), min_size=168, max_size=168),
    st.integers(1, 6),
    st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1)),
)
def test_quiet_windows_never_overlap_and_start_within_a_week(
    scores: list[float], hours: int, now: datetime
) -> None:
    now = now.replace(tzinfo=UTC)
    windows = data.quiet_windows(_activity(scores), now, hours=hours, count=3)
    starts = windows["starts_at"].to_list()
    assert len(starts) == 3
    assert all(now < s <= now + timedelta(days=7) for s in starts)
    assert all(b - a >= timedelta(hours=hours) for a, b in itertools.pairwise(starts))
    best = min(sum(scores[(h + k) % 168] for k in range(hours)) for h in range(168))
    assert min(windows["impact"]) == pytest.approx(best)


def test_sla_breaches_judge_answered_and_open_clocks_against_the_targets() -> None:
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA features")
    conn.execute(
        """CREATE TABLE features.sla_clock_states AS SELECT * FROM (VALUES
        -- P0 answered in 2 h (target 1 h): breached; P1 answered in 1 h (4 h): met
        (1, 'P0', 2.0, false, NULL, 10.0, false, NULL),
        (2, 'P1', 1.0, false, NULL, NULL, true, 100.0),
        -- no priority: still waiting after 80 h (72 h target): breached; P2 waiting 3 h: not judged yet
        (3, NULL, NULL, true, 80.0, NULL, true, 80.0),
        (4, 'P2', NULL, true, 3.0, NULL, true, 3.0)
        ) AS t(number, priority, time_to_first_response_hours, response_clock_open, response_open_hours,
               time_to_resolution_hours, resolution_clock_open, resolution_open_hours)"""
    )
    conn.execute(
        """CREATE OR REPLACE TABLE features.sla_clock_states AS SELECT
           TIMESTAMPTZ '2026-11-01' AS as_of, 'o/r' AS repo, number, false AS is_pull_request,
           'alice' AS author, false AS author_is_bot, TIMESTAMPTZ '2026-10-01' AS created_at, priority,
           time_to_first_response_hours, response_clock_open, response_open_hours,
           time_to_resolution_hours, resolution_clock_open, resolution_open_hours
           FROM features.sla_clock_states"""
    )
    clocks = data.sla_clocks(conn, data.Filters()).sort("number")
    assert clocks["response_breached"].to_list() == [True, False, True, False]
    assert clocks["resolution_breached"].to_list() == [False, True, False, False]
    assert data.sla_compliance(clocks, "response") == 0.5
    assert data.open_clocks(clocks)["number"].to_list() == [2, 3, 4]
    assert data.weekly_breaches(clocks)["breaches"].sum() == 3


def test_filters_bind_repositories_and_whole_days() -> None:
    filters = data.Filters.from_dates(("b/b", "a/a"), date(2026, 9, 1), date(2026, 9, 30))
    assert filters.repos == ("a/a", "b/b")
    assert filters.start == datetime(2026, 9, 1, tzinfo=UTC)
    assert filters.end == datetime(2026, 10, 1, tzinfo=UTC)
    assert data.Filters().params()["repos"] == []


def test_the_saved_model_scores_runs_exactly_as_the_report_says(demo_home: Path) -> None:
    model = load_model(demo_home)
    assert model is not None
    example = model.report["example_prediction"]
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        scores = model.score(data.run_features(conn, data.Filters()))
    row = scores.filter(pl.col("id") == example["run_id"]).row(0, named=True)
    assert row["probability"] == pytest.approx(example["probability"], abs=1e-9)
    assert row["risk_level"] == example["risk_level"]
    spec = json.loads((demo_home / "models" / "current" / "feature_spec.json").read_text(encoding="utf-8"))
    assert set(scores["risk_level"].cast(pl.String).unique()) <= {"LOW", "MEDIUM", "HIGH", "CRITICAL"}
    assert spec["threshold"] == model.threshold
    names = set(metric_comparison(model.report)["model"])
    assert {"LightGBM (calibrated)", "majority", "previous outcome", "rolling rate"} <= names


def test_no_model_means_none(home: Path) -> None:
    assert load_model(home) is None


def test_the_demo_has_no_post_mortems_and_says_what_they_hold(demo_home: Path) -> None:
    with duckdb.connect(str(demo_home / "reader.duckdb"), read_only=True) as conn:
        found = data.post_mortems(conn, data.Filters())
    assert found.is_empty()
    assert found.columns == ["repo", "issue_number", "issue_title", "posted_at", "url", "body"]
