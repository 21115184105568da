"""Activity by hour of week: hand-computed averages and impact, the as-of rule, sample signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from pipelines.features.activity import ACTIVITY_SCHEMA, activity_by_hour_of_week
from tests.features.test_reviewers import SHIFTS, devlake_core, moments, sample_core

UTC_TIME = pl.Datetime("us", "UTC")


def t(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


SCHEMAS: dict[str, dict[str, Any]] = {
    "pull_requests": {
        "repo": pl.String,
        "number": pl.Int32,
        "author": pl.String,
        "author_is_bot": pl.Boolean,
        "created_at": UTC_TIME,
        "merged_at": UTC_TIME,
    },
    "reviews": {
        "repo": pl.String,
        "reviewer": pl.String,
        "reviewer_is_bot": pl.Boolean,
        "submitted_at": UTC_TIME,
    },
    "comments": {
        "repo": pl.String,
        "kind": pl.String,
        "issue_number": pl.Int64,
        "author": pl.String,
        "author_is_bot": pl.Boolean,
        "created_at": UTC_TIME,
    },
    "issues": {
        "repo": pl.String,
        "number": pl.Int32,
        "author": pl.String,
        "author_is_bot": pl.Boolean,
        "created_at": UTC_TIME,
        "closed_at": UTC_TIME,
        "is_pull_request": pl.Boolean,
    },
    "issue_events": {
        "repo": pl.String,
        "issue_number": pl.Int64,
        "event": pl.String,
        "actor": pl.String,
        "actor_is_bot": pl.Boolean,
        "created_at": UTC_TIME,
    },
    "ci_runs": {
        "repo": pl.String,
        "id": pl.Int64,
        "run_attempt": pl.Int32,
        "actor": pl.String,
        "actor_is_bot": pl.Boolean,
        "created_at": UTC_TIME,
    },
}
ORDER = ("pull_requests", "reviews", "comments", "issues", "issue_events", "ci_runs")


def make(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, pl.DataFrame]:
    return {name: pl.DataFrame(rows.get(name, []), schema=SCHEMAS[name], orient="row") for name in ORDER}


def activity(f: dict[str, pl.DataFrame], as_of: datetime | None = None) -> pl.DataFrame:
    return activity_by_hour_of_week(*(f[name] for name in ORDER), as_of=as_of)


def hand_built() -> dict[str, pl.DataFrame]:
    # 2024-01-01 is a Monday: hour of week = 24 × (days since Monday) + hour.
    return make(
        {
            "pull_requests": [("o/r", 1, "alice", False, t("2024-01-01 09:15"), t("2024-01-08 10:30"))],
            "reviews": [
                ("o/r", "bob", False, t("2024-01-01 09:40")),
                ("o/r", "dependabot[bot]", True, t("2024-01-01 09:45")),
            ],
            "comments": [
                (
                    "o/r",
                    "issue",
                    1,
                    "alice",
                    False,
                    t("2024-01-01 09:50"),
                ),  # on the PR: a user, no issue activity
                ("o/r", "issue", 1, "github-actions[bot]", True, t("2024-01-01 09:55")),
                ("o/r", "issue", 2, "bob", False, t("2024-01-02 14:30")),
            ],
            "issues": [
                ("o/r", 2, "carol", False, t("2024-01-02 14:05"), t("2024-01-03 08:00"), False),
                ("o/r", 1, "alice", False, t("2024-01-01 09:15"), None, True),  # the PR's twin
            ],
            "issue_events": [
                ("o/r", 2, "labeled", "carol", False, t("2024-01-02 14:06")),
                ("o/r", 2, "closed", "carol", False, t("2024-01-03 08:00")),  # counted once, via closed_at
            ],
            "ci_runs": [
                ("o/r", 100, 1, "alice", False, t("2024-01-08 10:10")),
                ("o/r", 100, 2, "bob", False, t("2024-01-08 10:10")),  # a re-run: same run
                ("o/s", 7, 1, "dependabot[bot]", True, t("2024-01-07 23:30")),
            ],
        }
    )


def expected_frame(
    repo: str, weeks: dict[int, int], values: dict[int, tuple[float, float, float, float, float]]
) -> pl.DataFrame:
    rows = []
    for hour in range(168):
        users, runs, merges, issues, impact = values.get(hour, (0.0, 0.0, 0.0, 0.0, 0.0))
        rows.append(
            (repo, hour, hour // 24, hour % 24, users, runs, merges, issues, weeks.get(hour, 0), impact)
        )
    return pl.DataFrame(rows, schema=ACTIVITY_SCHEMA, orient="row")


def test_hand_computed_activity() -> None:
    got = activity(hand_built())
    # o/r is observed from Mon 2024-01-01 09:00 to Mon 2024-01-08 11:00 (170 hours): hours 9 and 10
    # of the week occur twice, every other hour once.
    weeks_r = {hour: 1 for hour in range(168)} | {9: 2, 10: 2}
    # Maxima: users 2 (hour 38), runs 0.5 and merges 0.5 (hour 10), issue activity 3 (hour 38).
    values_r = {
        9: (1.0, 0.0, 0.0, 0.0, 0.4 * 0.5),  # alice and bob in week 1, nobody in week 2
        10: (0.5, 0.5, 0.5, 0.0, 0.4 * 0.25 + 0.3 + 0.2),  # alice's run and the merge, week 2
        38: (2.0, 0.0, 0.0, 3.0, 0.4 + 0.1),  # carol opens #2 and labels it, bob comments
        56: (1.0, 0.0, 0.0, 1.0, 0.4 * 0.5 + 0.1 / 3),  # carol closes #2
    }
    # o/s saw one bot run, in the last hour of the week; other hours never occurred.
    expected = pl.concat(
        [
            expected_frame("o/r", weeks_r, values_r),
            expected_frame("o/s", {167: 1}, {167: (0.0, 1.0, 0.0, 0.0, 0.3)}),
        ]
    )
    assert_frame_equal(got, expected)


def test_as_of_extends_the_span_and_hides_later_actions() -> None:
    got = activity(hand_built(), as_of=t("2024-01-02 14:06"))
    # Only Monday's actions, carol's issue (14:05) and nothing later; the span ends at as_of.
    r = got.filter(pl.col("repo") == "o/r")
    assert r.filter(pl.col("hour_of_week") == 9)["active_users"].item() == 2.0
    assert r.filter(pl.col("hour_of_week") == 38).select("active_users", "issue_activity").row(0) == (
        1.0,
        1.0,
    )
    assert r["pr_merges"].sum() == 0 and r["workflow_runs"].sum() == 0
    assert r["weeks_observed"].sum() == 38 - 9 + 1
    assert set(got["repo"]) == {"o/r"}  # o/s had no action before as_of
    with pytest.raises(ValueError, match="timezone"):
        activity(hand_built(), as_of=datetime(2024, 1, 2))


def test_empty_inputs() -> None:
    got = activity(make({}))
    assert got.is_empty() and got.schema == ACTIVITY_SCHEMA


# --------------------------------------------------------------------------------------------
# The as-of rule


def truncate(f: dict[str, pl.DataFrame], cut: datetime) -> dict[str, pl.DataFrame]:
    """The tables as of ``cut``: later rows dropped, later merges and closes not happened yet."""

    def before(column: str) -> pl.Expr:
        return pl.when(pl.col(column) < cut).then(pl.col(column)).alias(column)

    return {
        "pull_requests": f["pull_requests"]
        .filter(pl.col("created_at") < cut)
        .with_columns(before("merged_at")),
        "reviews": f["reviews"].filter(pl.col("submitted_at") < cut),
        "comments": f["comments"].filter(pl.col("created_at") < cut),
        "issues": f["issues"].filter(pl.col("created_at") < cut).with_columns(before("closed_at")),
        "issue_events": f["issue_events"].filter(pl.col("created_at") < cut),
        "ci_runs": f["ci_runs"].filter(pl.col("created_at") < cut),
    }


BASE = datetime(2024, 1, 1, tzinfo=UTC)
PEOPLE = ("ana", "ben", "renovate[bot]")
offsets = st.integers(0, 21 * 24 * 60).map(lambda m: timedelta(minutes=m))


@st.composite
def histories(draw: st.DrawFn) -> dict[str, pl.DataFrame]:
    def who() -> tuple[str, bool]:
        login = draw(st.sampled_from(PEOPLE))
        return login, login.endswith("[bot]")

    rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name in ORDER}
    repos = st.sampled_from(("o/a", "o/b"))
    for number in range(1, draw(st.integers(0, 4)) + 1):
        created = BASE + draw(offsets)
        merged = draw(st.none() | offsets.map(lambda d, c=created: c + d))
        rows["pull_requests"].append((draw(repos), number, *who(), created, merged))
    for number in range(10, 10 + draw(st.integers(0, 4))):
        created = BASE + draw(offsets)
        closed = draw(st.none() | offsets.map(lambda d, c=created: c + d))
        rows["issues"].append((draw(repos), number, *who(), created, closed, False))
    for _ in range(draw(st.integers(0, 5))):
        rows["reviews"].append((draw(repos), *who(), BASE + draw(offsets)))
    for _ in range(draw(st.integers(0, 5))):
        number = draw(st.sampled_from((1, 2, 10, 11)))
        rows["comments"].append((draw(repos), "issue", number, *who(), BASE + draw(offsets)))
    for _ in range(draw(st.integers(0, 5))):
        event = draw(st.sampled_from(("labeled", "closed", "assigned")))
        rows["issue_events"].append(
            (draw(repos), draw(st.sampled_from((1, 10))), event, *who(), BASE + draw(offsets))
        )
    for run in range(draw(st.integers(0, 5))):
        created = BASE + draw(offsets)
        for attempt in range(1, draw(st.integers(1, 2)) + 1):
            rows["ci_runs"].append((draw(repos), run, attempt, *who(), created))
    return make(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(history=histories(), data=st.data())
def test_as_of_ignores_everything_after_it(history: dict[str, pl.DataFrame], data: st.DataObject) -> None:
    # Cuts at, just after and between the history's own instants find what random instants miss.
    cut = data.draw(st.sampled_from(moments(history))) + data.draw(SHIFTS)
    assert_frame_equal(activity(history, as_of=cut), activity(truncate(history, cut), as_of=cut))


def test_as_of_on_the_sample_organisation() -> None:
    f = sample_core()
    cut = datetime(2026, 9, 20, 15, 30, tzinfo=UTC)
    full = activity(f, as_of=cut)
    assert_frame_equal(full, activity(truncate(f, cut), as_of=cut))
    assert not full.equals(activity(f))


# --------------------------------------------------------------------------------------------
# Signals of the sample organisation (synthetic) and the DevLake recording


def test_sample_every_hour_of_every_repository() -> None:
    got = activity(sample_core())
    assert (
        got.group_by("repo")
        .agg(pl.len(), pl.col("hour_of_week").n_unique())
        .select(pl.col("len").eq(168).all() & pl.col("hour_of_week").eq(168).all())
        .item()
    )
    assert got["repo"].n_unique() == 4
    # 120 days: each hour of the week occurs 17 or 18 times... minus the partial first and last days.
    assert got["weeks_observed"].is_between(16, 18).all()
    assert got["impact_score"].is_between(0, 1).all()
    per_repo = got.group_by("repo").agg(pl.col("impact_score").max(), pl.col("active_users").sum())
    assert (per_repo["impact_score"] > 0.5).all() and (per_repo["active_users"] > 10).all()


def test_sample_activity_is_concentrated_in_working_days() -> None:
    """People work weekdays in their own time zones: weekends (UTC) are nearly quiet."""
    got = activity(sample_core())
    weekend = pl.col("day_of_week") >= 5
    by_part = got.group_by(weekend.alias("weekend")).agg(pl.col("active_users", "impact_score").mean())
    weekday_users, weekday_impact = (
        by_part.filter(~pl.col("weekend")).select("active_users", "impact_score").row(0)
    )
    weekend_users, weekend_impact = (
        by_part.filter(pl.col("weekend")).select("active_users", "impact_score").row(0)
    )
    assert weekend_users < 0.15 * weekday_users
    assert weekend_impact < 0.15 * weekday_impact
    # Nearly every weekend hour is quieter than the repository's median hour: maintenance goes there.
    weekend_hours = got.with_columns(median=pl.col("impact_score").median().over("repo")).filter(weekend)
    assert (weekend_hours["impact_score"] < weekend_hours["median"]).mean() >= 0.9


@pytest.mark.shared_data
def test_devlake_ants_activity() -> None:
    got = activity(devlake_core())
    # The recording also holds two pull requests of a 'test/repo'; every repository gets 168 hours.
    assert "panjf2000/ants" in set(got["repo"])
    assert (got.group_by("repo").len()["len"] == 168).all()
    ants = got.filter(pl.col("repo") == "panjf2000/ants")
    assert ants["workflow_runs"].sum() > 0 and ants["active_users"].sum() > 0
    # Four years of history, a handful of actions per week.
    assert ants["weeks_observed"].min() >= 200
