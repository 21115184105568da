"""Activity by hour of week: when a repository is busy, so maintenance can go where it is quiet.

Every action in a repository's history is placed in its hour of the week (UTC, Monday 00:00-00:59
is hour 0, Sunday 23:00-23:59 is hour 167), and each hour's counts are averaged over the weeks
observed. The actions read are (extra input columns are ignored):

* ``pull_requests``: opened (``created_at``, by ``author``) and merged (``merged_at``);
* ``reviews``: submitted (``submitted_at``, by ``reviewer``);
* ``comments``: written (``created_at``, by ``author``), on issues and pull requests;
* ``issues``: opened (``created_at``, by ``author``) and closed (``closed_at``);
* ``issue_events``: (``created_at``, by ``actor``);
* ``ci_runs``: workflow runs created (``created_at``, triggered by ``actor``).

Timestamps may be in any time zone, or naive meaning UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from actions.maintenance.windows import HOURS_PER_WEEK, IMPACT_WEIGHTS
from pipelines.features.frames import require_columns, utc_column
from pipelines.features.schemas import UTC_TIME

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_HOUR_OF_WEEK = 72
"""Hour of week of the Unix epoch: 1970-01-01 was a Thursday, 72 hours after Monday 00:00."""

ACTIVITY_SCHEMA = pl.Schema(
    {
        "repo": pl.String(),
        "hour_of_week": pl.Int32(),
        "day_of_week": pl.Int32(),
        "hour_of_day": pl.Int32(),
        "active_users": pl.Float64(),
        "workflow_runs": pl.Float64(),
        "pr_merges": pl.Float64(),
        "issue_activity": pl.Float64(),
        "weeks_observed": pl.Int64(),
        "impact_score": pl.Float64(),
    }
)
"""Columns of :func:`activity_by_hour_of_week`."""

_ACTION_SCHEMA = pl.Schema(
    {
        "repo": pl.String(),
        "at": UTC_TIME,
        "login": pl.String(),
        "human": pl.Boolean(),
        "kind": pl.String(),
    }
)


def _actions(frame: pl.DataFrame, at: str, login: str | None, bot: str | None, kind: str) -> pl.DataFrame:
    """One row per action: when, by whom (null when unknown), whether a human, and its kind."""
    human = (
        pl.lit(False)
        if login is None or bot is None
        else pl.col(login).is_not_null() & ~pl.col(bot).fill_null(False)
    )
    return frame.select(
        "repo",
        utc_column(frame, at).alias("at"),
        (pl.lit(None, dtype=pl.String()) if login is None else pl.col(login)).alias("login"),
        human.alias("human"),
        pl.lit(kind).alias("kind"),
    ).cast(_ACTION_SCHEMA)


def _all_actions(
    pull_requests: pl.DataFrame,
    reviews: pl.DataFrame,
    comments: pl.DataFrame,
    issues: pl.DataFrame,
    issue_events: pl.DataFrame,
    ci_runs: pl.DataFrame,
) -> pl.DataFrame:
    """Every action, with ``kind`` naming the term it counts towards (``user`` for none)."""
    require_columns(
        pull_requests,
        "pull_requests",
        ("repo", "number", "author", "author_is_bot", "created_at", "merged_at"),
    )
    require_columns(reviews, "reviews", ("repo", "reviewer", "reviewer_is_bot", "submitted_at"))
    require_columns(
        comments, "comments", ("repo", "kind", "issue_number", "author", "author_is_bot", "created_at")
    )
    require_columns(
        issues,
        "issues",
        ("repo", "number", "author", "author_is_bot", "created_at", "closed_at", "is_pull_request"),
    )
    require_columns(
        issue_events, "issue_events", ("repo", "issue_number", "event", "actor", "actor_is_bot", "created_at")
    )
    require_columns(ci_runs, "ci_runs", ("repo", "id", "run_attempt", "actor", "actor_is_bot", "created_at"))

    # Comments and events count as issue activity only on issues: pull request conversations
    # already show in active users, and merges stand for the pull requests' outcome.
    pull_numbers = pl.concat(
        [
            pull_requests.select("repo", pl.col("number").cast(pl.Int64())),
            issues.filter(pl.col("is_pull_request").fill_null(False)).select(
                "repo", pl.col("number").cast(pl.Int64())
            ),
        ]
    ).unique()
    on_issue = comments.with_columns(number=pl.col("issue_number").cast(pl.Int64())).join(
        pull_numbers, on=["repo", "number"], how="anti"
    )
    on_pr = comments.with_columns(number=pl.col("issue_number").cast(pl.Int64())).join(
        pull_numbers, on=["repo", "number"], how="semi"
    )
    events = issue_events.with_columns(number=pl.col("issue_number").cast(pl.Int64())).join(
        pull_numbers.with_columns(on_pr=pl.lit(True)), on=["repo", "number"], how="left"
    )
    # A close is counted once, from the issue's closed_at; its actor still counts as active.
    issue_event = ~pl.col("on_pr").fill_null(False) & (pl.col("event").fill_null("") != "closed")
    real_issues = issues.filter(~pl.col("is_pull_request").fill_null(False))
    # Attempts of a run share its created_at; the run is created once, by its first attempt's actor.
    runs = ci_runs.sort("run_attempt").unique(["repo", "id"], keep="first")
    parts = [
        _actions(pull_requests, "created_at", "author", "author_is_bot", "user"),
        _actions(
            pull_requests.filter(pl.col("merged_at").is_not_null()), "merged_at", None, None, "pr_merges"
        ),
        _actions(reviews, "submitted_at", "reviewer", "reviewer_is_bot", "user"),
        _actions(on_pr, "created_at", "author", "author_is_bot", "user"),
        _actions(on_issue, "created_at", "author", "author_is_bot", "issue_activity"),
        _actions(real_issues, "created_at", "author", "author_is_bot", "issue_activity"),
        _actions(
            real_issues.filter(pl.col("closed_at").is_not_null()), "closed_at", None, None, "issue_activity"
        ),
        _actions(events.filter(issue_event), "created_at", "actor", "actor_is_bot", "issue_activity"),
        _actions(events.filter(~issue_event), "created_at", "actor", "actor_is_bot", "user"),
        _actions(runs, "created_at", "actor", "actor_is_bot", "workflow_runs"),
    ]
    return pl.concat(parts).filter(pl.col("at").is_not_null() & pl.col("repo").is_not_null())


def activity_by_hour_of_week(
    pull_requests: pl.DataFrame,
    reviews: pl.DataFrame,
    comments: pl.DataFrame,
    issues: pl.DataFrame,
    issue_events: pl.DataFrame,
    ci_runs: pl.DataFrame,
    *,
    as_of: datetime | None = None,
) -> pl.DataFrame:
    """Average activity of each repository in each of the 168 hours of the week.

    A repository's observed span runs from the hour of its first action to the hour after its
    last one, or to ``as_of`` when given (then actions at or after ``as_of`` are ignored, and a
    pull request merged or an issue closed later counts as not merged or closed). Each hour of the
    week occurs ``weeks_observed`` times in the span, and every term is the total in that hour
    of the week divided by ``weeks_observed`` (0 when it never occurred):

    * ``active_users``: distinct humans acting in the hour (opening, reviewing, commenting,
      triggering a run, acting on an issue), averaged over the hour's occurrences;
    * ``workflow_runs``: workflow runs created (each run once, whatever its attempts);
    * ``pr_merges``: pull requests merged;
    * ``issue_activity``: issues opened and closed, plus comments and events on issues (not on
      pull requests, whose conversation shows in ``active_users``).

    ``impact_score`` is how much a maintenance window in that hour would disturb: each term is
    divided by its maximum over the repository's 168 hours (a term that is always 0 stays 0), and

        impact_score = 0.4 × users + 0.3 × runs + 0.2 × merges + 0.1 × issues

    (:data:`IMPACT_WEIGHTS`), in [0, 1]; the quietest hours have the lowest score.

    Args:
        pull_requests: ``core.pull_requests``.
        reviews: ``core.reviews``.
        comments: ``core.comments``.
        issues: ``core.issues``.
        issue_events: ``core.issue_events``.
        ci_runs: ``core.ci_runs``.
        as_of: when given (timezone-aware), the end of the span: later actions are invisible.

    Returns:
        168 rows per repository that has an action (before ``as_of``), sorted by repository and
        ``hour_of_week``; ``day_of_week`` is 0 for Monday and ``hour_of_day`` the UTC hour.

    Raises:
        ValueError: for a naive ``as_of`` or a missing input column.
    """
    end: pl.Expr
    if as_of is not None:
        if as_of.tzinfo is None or as_of.utcoffset() is None:
            raise ValueError("as_of must be timezone-aware")
        as_of = as_of.astimezone(UTC)
        # Whether a number is a pull request is known once it is created, not before.
        pull_requests = pull_requests.filter(utc_column(pull_requests, "created_at") < as_of)
        issues = issues.filter(utc_column(issues, "created_at") < as_of)
        # The span ends at as_of itself: an hour counts once any part of it was observed.
        end = pl.lit(-((_EPOCH - as_of) // timedelta(hours=1)), dtype=pl.Int64())
    actions = _all_actions(pull_requests, reviews, comments, issues, issue_events, ci_runs)
    if as_of is not None:
        actions = actions.filter(pl.col("at") < as_of)
    else:
        end = pl.col("hour").max() + 1
    actions = actions.with_columns(hour=pl.col("at").dt.epoch("us") // 3_600_000_000).with_columns(
        slot=((pl.col("hour") + _EPOCH_HOUR_OF_WEEK) % HOURS_PER_WEEK).cast(pl.Int32())
    )
    spans = actions.group_by("repo").agg(pl.col("hour").min().alias("start"), end.alias("end"))

    grid = spans.join(
        pl.DataFrame({"hour_of_week": pl.int_range(0, HOURS_PER_WEEK, eager=True, dtype=pl.Int32())}),
        how="cross",
    ).with_columns(
        # Occurrences of hour-of-week h among epoch hours k in [start, end): k + 72 ≡ h (mod 168).
        weeks_observed=(
            (pl.col("end") + _EPOCH_HOUR_OF_WEEK - 1 - pl.col("hour_of_week")) // HOURS_PER_WEEK
            - (pl.col("start") + _EPOCH_HOUR_OF_WEEK - 1 - pl.col("hour_of_week")) // HOURS_PER_WEEK
        ).cast(pl.Int64())
    )

    users = (
        actions.filter(pl.col("human"))
        .group_by("repo", "hour", "slot")
        .agg(pl.col("login").n_unique().alias("n"))
        .group_by("repo", pl.col("slot").alias("hour_of_week"))
        .agg(pl.col("n").sum().cast(pl.Float64()).alias("active_users"))
    )
    counts = (
        actions.filter(pl.col("kind") != "user")
        .group_by("repo", pl.col("slot").alias("hour_of_week"))
        .agg(
            *(
                (pl.col("kind") == term).sum().cast(pl.Float64()).alias(term)
                for term in ("workflow_runs", "pr_merges", "issue_activity")
            )
        )
    )
    terms = list(IMPACT_WEIGHTS)
    frame = (
        grid.join(users, on=["repo", "hour_of_week"], how="left")
        .join(counts, on=["repo", "hour_of_week"], how="left")
        .with_columns(
            pl.when(pl.col("weeks_observed") > 0)
            .then(pl.col(term).fill_null(0.0) / pl.col("weeks_observed"))
            .otherwise(0.0)
            .alias(term)
            for term in terms
        )
    )
    normalised = [
        (pl.col(term) / pl.col(term).max().over("repo")).fill_nan(0.0).fill_null(0.0) * weight
        for term, weight in IMPACT_WEIGHTS.items()
    ]
    return (
        frame.with_columns(
            day_of_week=pl.col("hour_of_week") // 24,
            hour_of_day=pl.col("hour_of_week") % 24,
            impact_score=pl.sum_horizontal(normalised),
        )
        .select(ACTIVITY_SCHEMA.keys())
        .cast(ACTIVITY_SCHEMA)
        .sort("repo", "hour_of_week")
    )
