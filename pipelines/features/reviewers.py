"""Reviewer features: who knows which code, how busy they are, how fast they answer, when they work.

Everything is computed *as of* an instant ``as_of``, as the Features contract requires: only pull
requests created, reviews submitted and comments written strictly before ``as_of`` are read, and
every state (open or closed, who is requested) is the one ``as_of`` saw: rows and timestamps at or
after ``as_of`` are ignored, so tables cut at ``as_of`` give the same output as the full ones.

Inputs are the warehouse's core tables as Polars frames (extra columns are ignored):

* ``pull_requests``: ``repo, number, author, author_is_bot, created_at, updated_at, closed_at,
  requested_reviewers``
* ``reviews``: ``repo, pull_number, reviewer, reviewer_is_bot, state, submitted_at``
* ``pr_files``: ``repo, pull_number, filename``
* ``comments``: ``repo, kind ('issue' | 'review'), issue_number, author, author_is_bot, created_at``

Bots (the ``*_is_bot`` flags) are never candidates and their actions are never counted. Timestamps
may be in any time zone, or naive meaning UTC; outputs are UTC.

Two snapshot columns cannot be dated, and are handled so that they cannot leak the future:

* ``requested_reviewers`` is the list at the time the pull request was fetched. It is trusted only
  when the pull request's ``updated_at`` is before ``as_of`` (a review request updates the pull
  request, so the list cannot have changed between ``updated_at`` and ``as_of``); otherwise only
  the reviews submitted before ``as_of`` say who is working on it. Read live (``as_of`` = now),
  every list is trusted; read back in time, most are not, so historical workloads count fewer
  requests than live ones. Review request events naming the requested reviewer, when given, are
  exact at any ``as_of`` and replace the list.
* ``pr_files`` holds each pull request's latest file list. A push after ``as_of`` can change it;
  file lists are taken as they are, since the areas a pull request touches rarely change.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

import polars as pl

from pipelines.features.frames import as_utc, require_columns, utc_instant
from pipelines.features.routing_history import (
    AUTHOR_LONG_HALF_LIFE_DAYS,
    AUTHOR_LONG_WEIGHT,
    AUTHOR_SHORT_HALF_LIFE_DAYS,
    COMMENT_WEIGHT,
    RECIPROCAL_WEIGHT,
)
from pipelines.features.schemas import UTC_TIME

HALF_LIFE_DAYS = 90.0
"""Default half-life of expertise: a change this many days old counts half as much as one today."""

AUTHOR_WEIGHT = 1.0
"""Expertise one authored pull request gives in each path prefix it touches."""

REVIEW_WEIGHT = 0.5
"""Expertise one reviewed pull request gives in each path prefix it touches: reading code teaches
less than writing it."""

PREFIX_DEPTH = 2
"""Directory levels a path prefix keeps (``src/api/handlers.py`` → ``src/api/``)."""

TOP_PATHS = 5
"""Number of path prefixes listed in ``expertise_paths``."""

RECENT_DAYS = 14
"""Window of "recent" activity before ``as_of``."""

USUAL_SHARE = (4, 5)
"""Share of a person's activity (numerator, denominator) that their usual hours of day hold: 80%."""

_HOUR_US = 3_600_000_000
_DAY_US = 24 * _HOUR_US

EXPERTISE_SCHEMA = pl.Schema(
    {
        "repo": pl.String(),
        "candidate": pl.String(),
        "path_prefix": pl.String(),
        "weight": pl.Float64(),
    }
)
"""Columns of :func:`path_expertise`."""

_PATH_WEIGHT = pl.Struct({"path_prefix": pl.String(), "weight": pl.Float64()})

REVIEWER_SCHEMA = pl.Schema(
    {
        "as_of": UTC_TIME,
        "repo": pl.String(),
        "candidate": pl.String(),
        "expertise_paths": pl.List(_PATH_WEIGHT),
        "open_workload": pl.Int64(),
        "median_first_response_hours": pl.Float64(),
        "events_last_14d": pl.Int64(),
        "usual_hours": pl.List(pl.Int32()),
        "in_usual_hours_share": pl.Float64(),
        "in_usual_hours_now": pl.Boolean(),
        "approval_rate": pl.Float64(),
        "changes_requested_rate": pl.Float64(),
        "reviews_done": pl.Int64(),
        "last_active_at": UTC_TIME,
    }
)
"""Columns of :func:`reviewer_features`."""


def path_prefix(filename: str, depth: int = PREFIX_DEPTH) -> str:
    """The path prefix a file counts towards: its first ``depth`` directories, with a trailing slash.

    A file at the repository root is its own prefix, so that repositories with a flat layout still
    tell their files apart.

    >>> path_prefix("src/api/v2/routes.py"), path_prefix("docs/intro.md"), path_prefix("go.mod")
    ('src/api/', 'docs/', 'go.mod')
    """
    parts = filename.split("/")
    directories = min(depth, len(parts) - 1)
    return filename if directories == 0 else "/".join(parts[:directories]) + "/"


def _prefix_expr(column: str, depth: int) -> pl.Expr:
    """Polars version of :func:`path_prefix`."""
    parts = pl.col(column).str.split("/")
    directories = (parts.list.len() - 1).clip(upper_bound=depth)
    return (
        pl.when(directories == 0)
        .then(pl.col(column))
        .otherwise(parts.list.head(directories).list.join("/") + "/")
    )


def _hours(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / _HOUR_US


def _human(flag: str, login: str) -> pl.Expr:
    return pl.col(login).is_not_null() & ~pl.col(flag).fill_null(False)


def _pull_requests(pull_requests: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    columns = ("repo", "number", "author", "author_is_bot", "created_at", "updated_at", "closed_at")
    require_columns(pull_requests, "pull_requests", (*columns, "requested_reviewers"))
    frame = pull_requests.select(
        *columns, pl.col("requested_reviewers").cast(pl.List(pl.String()))
    ).with_columns(pl.col("number").cast(pl.Int64()))
    frame = as_utc(frame, "created_at", "updated_at", "closed_at")
    return frame.filter(pl.col("created_at") < as_of).unique(["repo", "number"], keep="last")


def _reviews(reviews: pl.DataFrame, prs: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Human reviews before ``as_of``, with the pull request's author and creation time."""
    require_columns(
        reviews, "reviews", ("repo", "pull_number", "reviewer", "reviewer_is_bot", "state", "submitted_at")
    )
    frame = as_utc(
        reviews.select(
            "repo",
            pl.col("pull_number").cast(pl.Int64()).alias("number"),
            pl.col("reviewer").alias("login"),
            "reviewer_is_bot",
            pl.col("state").str.to_lowercase(),
            "submitted_at",
        ),
        "submitted_at",
    )
    frame = frame.filter(_human("reviewer_is_bot", "login") & (pl.col("submitted_at") < as_of))
    frame = frame.join(
        prs.select(
            "repo", "number", pl.col("author").alias("pr_author"), pl.col("created_at").alias("pr_at")
        ),
        on=["repo", "number"],
        how="left",
    )
    # A pull request's author answering their reviewers shows up as a review; it is not reviewing.
    return frame.with_columns(own=(pl.col("login") == pl.col("pr_author")).fill_null(False))


def _comments(comments: pl.DataFrame, prs: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Human comments before ``as_of``, flagged when they are on a pull request."""
    require_columns(
        comments, "comments", ("repo", "kind", "issue_number", "author", "author_is_bot", "created_at")
    )
    frame = as_utc(
        comments.select(
            "repo",
            "kind",
            pl.col("issue_number").cast(pl.Int64()).alias("number"),
            pl.col("author").alias("login"),
            "author_is_bot",
            "created_at",
        ),
        "created_at",
    )
    frame = frame.filter(_human("author_is_bot", "login") & (pl.col("created_at") < as_of))
    frame = frame.join(
        prs.select(
            "repo", "number", pl.col("author").alias("pr_author"), pl.col("created_at").alias("pr_at")
        ),
        on=["repo", "number"],
        how="left",
    )
    return frame.with_columns(
        on_pr=(pl.col("kind") == "review") | pl.col("pr_at").is_not_null(),
        own=(pl.col("login") == pl.col("pr_author")).fill_null(False),
    )


def _files(pr_files: pl.DataFrame, depth: int) -> pl.DataFrame:
    """Distinct path prefixes of each pull request."""
    require_columns(pr_files, "pr_files", ("repo", "pull_number", "filename"))
    return (
        pr_files.select("repo", pl.col("pull_number").cast(pl.Int64()).alias("number"), "filename")
        .filter(pl.col("filename").is_not_null())
        .select("repo", "number", _prefix_expr("filename", depth).alias("path_prefix"))
        .unique()
    )


def _expertise(
    prs: pl.DataFrame,
    revs: pl.DataFrame,
    files: pl.DataFrame,
    as_of: datetime,
    half_life_days: float,
) -> pl.DataFrame:
    authored = prs.filter(_human("author_is_bot", "author")).select(
        "repo",
        "number",
        pl.col("author").alias("candidate"),
        pl.col("created_at").alias("at"),
        pl.lit(AUTHOR_WEIGHT).alias("base"),
    )
    reviewed = (
        revs.filter(~pl.col("own"))
        .group_by("repo", "number", "login")
        .agg(pl.col("submitted_at").min().alias("at"))
        .select(
            "repo", "number", pl.col("login").alias("candidate"), "at", pl.lit(REVIEW_WEIGHT).alias("base")
        )
    )
    age_days = (pl.lit(as_of, dtype=UTC_TIME) - pl.col("at")).dt.total_microseconds() / _DAY_US
    return (
        pl.concat([authored, reviewed])
        .join(files, on=["repo", "number"], how="inner")
        .with_columns(weight=pl.col("base") * pl.lit(0.5).pow(age_days / half_life_days))
        # A fixed summation order keeps equal weights equal to the last bit, so ties sort stably.
        .sort("repo", "candidate", "path_prefix", "at", "number")
        .group_by("repo", "candidate", "path_prefix")
        .agg(pl.col("weight").sum())
        .sort(["repo", "candidate", "weight", "path_prefix"], descending=[False, False, True, False])
        .select(EXPERTISE_SCHEMA.keys())
        .cast(EXPERTISE_SCHEMA)
    )


def path_expertise(
    pull_requests: pl.DataFrame,
    reviews: pl.DataFrame,
    pr_files: pl.DataFrame,
    *,
    as_of: datetime,
    half_life_days: float = HALF_LIFE_DAYS,
    depth: int = PREFIX_DEPTH,
) -> pl.DataFrame:
    """Who knows which code: decayed expertise per person and path prefix, as of ``as_of``.

    Each pull request a human authored before ``as_of`` gives its author :data:`AUTHOR_WEIGHT` in
    every distinct path prefix (:func:`path_prefix`) among its files; each pull request they
    reviewed (a review on someone else's pull request, submitted before ``as_of``) gives
    :data:`REVIEW_WEIGHT`, dated at their first review. A contribution ``a`` days old is worth
    ``weight × 0.5 ** (a / half_life_days)``, and contributions add up.

    Args:
        pull_requests: ``core.pull_requests``.
        reviews: ``core.reviews``.
        pr_files: ``core.pr_files``.
        as_of: the instant the expertise is known at (timezone-aware).
        half_life_days: age in days at which a contribution counts half.
        depth: directory levels of a prefix.

    Returns:
        One row per ``(repo, candidate, path_prefix)`` with ``weight`` > 0, sorted by repository,
        candidate and decreasing weight.

    Raises:
        ValueError: for a naive ``as_of``, a half-life or depth that is not positive, or a missing
            input column.
    """
    as_of = utc_instant(as_of)
    if half_life_days <= 0 or depth < 1:
        raise ValueError("half_life_days and depth must be positive")
    prs = _pull_requests(pull_requests, as_of)
    return _expertise(prs, _reviews(reviews, prs, as_of), _files(pr_files, depth), as_of, half_life_days)


def expertise_score(path_expertise: pl.DataFrame, repo: str, paths: Iterable[str]) -> pl.DataFrame:
    """Score candidates for a change to ``paths`` of ``repo``, for routing a review.

    A candidate's score is the sum, over the changed paths, of the weights of their prefixes that
    contain the path: a directory prefix contains the paths under it (``src/`` contains
    ``src/api/x.py``, so broad knowledge counts too), a root-file prefix only itself. A path
    changed in an area counts once per prefix that holds it, so the areas where most of the change
    is weigh most.

    Args:
        path_expertise: the output of :func:`path_expertise`.
        repo: the repository of the change.
        paths: the changed file paths.

    Returns:
        ``candidate``, ``score`` and ``matched_paths`` (how many of the changed paths they have any
        expertise in), for candidates with a positive score, best first (ties by login).
    """
    changed = pl.DataFrame({"path": list(dict.fromkeys(paths))}, schema={"path": pl.String()})
    known = path_expertise.filter(pl.col("repo") == repo).select("candidate", "path_prefix", "weight")
    contains = pl.when(pl.col("path_prefix").str.ends_with("/"))
    matches = (
        changed.join(known, how="cross")
        .filter(
            contains.then(pl.col("path").str.starts_with(pl.col("path_prefix"))).otherwise(
                pl.col("path") == pl.col("path_prefix")
            )
        )
        .filter(pl.col("weight") > 0)
    )
    return (
        matches.group_by("candidate")
        .agg(
            pl.col("weight").sum().alias("score"),
            pl.col("path").n_unique().cast(pl.Int64()).alias("matched_paths"),
        )
        .sort(["score", "candidate"], descending=[True, False])
    )


def _usual_hours(activity: pl.DataFrame) -> pl.DataFrame:
    """The fewest hours of day (UTC) holding :data:`USUAL_SHARE` of each person's activity."""
    numerator, denominator = USUAL_SHARE
    keys = ["repo", "candidate"]
    return (
        activity.group_by(*keys, pl.col("at").dt.hour().cast(pl.Int32()).alias("hour"))
        .agg(pl.len().cast(pl.Int64()).alias("n"))
        .sort([*keys, "n", "hour"], descending=[False, False, True, False])
        .with_columns(
            total=pl.col("n").sum().over(keys),
            before=(pl.col("n").cum_sum() - pl.col("n")).over(keys),
        )
        # Integer comparison: 80% of a count is not exact in floating point.
        .filter(pl.col("before") * denominator < pl.col("total") * numerator)
        .group_by(keys)
        .agg(pl.col("hour").sort().alias("usual_hours"))
    )


def _requested(open_prs: pl.DataFrame, issue_events: pl.DataFrame | None, as_of: datetime) -> pl.DataFrame:
    """``(repo, number, author, candidate)`` of the review requests pending at ``as_of``."""
    if issue_events is None or "requested_reviewer" not in issue_events.columns:
        return (
            open_prs.filter(pl.col("updated_at") < as_of)
            .select("repo", "number", "author", pl.col("requested_reviewers").alias("candidate"))
            .explode("candidate")
        )
    require_columns(
        issue_events, "issue_events", ("repo", "issue_number", "event", "requested_reviewer", "created_at")
    )
    changes = as_utc(
        issue_events.select(
            "repo",
            pl.col("issue_number").cast(pl.Int64()).alias("number"),
            "event",
            pl.col("requested_reviewer").alias("candidate"),
            "created_at",
        ),
        "created_at",
    ).filter(
        pl.col("event").is_in(["review_requested", "review_request_removed"])
        & pl.col("candidate").is_not_null()
        & (pl.col("created_at") < as_of)
    )
    pending = (
        changes.sort("created_at", maintain_order=True)
        .group_by("repo", "number", "candidate")
        .agg(pl.col("event").last())
        .filter(pl.col("event") == "review_requested")
    )
    return pending.join(open_prs.select("repo", "number", "author"), on=["repo", "number"]).select(
        "repo", "number", "author", "candidate"
    )


def reviewer_features(
    pull_requests: pl.DataFrame,
    reviews: pl.DataFrame,
    pr_files: pl.DataFrame,
    comments: pl.DataFrame,
    *,
    as_of: datetime,
    half_life_days: float = HALF_LIFE_DAYS,
    issue_events: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per repository and candidate reviewer: expertise, workload, speed, availability, verdicts.

    Candidates are the humans who, before ``as_of``, authored a pull request of the repository,
    reviewed one or commented on one. A person's *activity* is every pull request they opened,
    review they submitted and comment they wrote in the repository (on issues too) before
    ``as_of``. "Reviews" below exclude a pull request author's reviews of their own pull request.

    Columns (see :data:`REVIEWER_SCHEMA` for types):

    * ``expertise_paths``: their :data:`TOP_PATHS` heaviest path prefixes, as
      ``{path_prefix, weight}`` (see :func:`path_expertise`; empty without files).
    * ``open_workload``: pull requests open at ``as_of`` (created before, not closed before) that
      someone else authored and on which they are a requested reviewer or have reviewed. Pending
      requests come from ``issue_events`` when it has a ``requested_reviewer`` column, else from
      ``requested_reviewers`` (see the module docstring).
    * ``median_first_response_hours``: median, over the pull requests they responded to, of the
      hours from creation to their first review or review comment; null if none.
    * ``events_last_14d``: their activity in the :data:`RECENT_DAYS` days before ``as_of``.
    * ``usual_hours``: the fewest hours of day (UTC) that hold 80% of their activity, ties going to
      the earlier hour.
    * ``in_usual_hours_share``: the share of their last-14-days activity inside ``usual_hours``
      (null without recent activity): low when they have left their usual rhythm.
    * ``in_usual_hours_now``: whether the hour of ``as_of`` is one of ``usual_hours``.
    * ``approval_rate`` / ``changes_requested_rate``: shares of their reviews that approved /
      requested changes (null without reviews); ``reviews_done``: how many reviews.
    * ``last_active_at``: their latest activity.

    Args:
        pull_requests: ``core.pull_requests``.
        reviews: ``core.reviews``.
        pr_files: ``core.pr_files``.
        comments: ``core.comments``.
        as_of: the instant the features are known at (timezone-aware).
        half_life_days: half-life of expertise (see :func:`path_expertise`).
        issue_events: optional ``core.issue_events`` (``repo, issue_number, event,
            requested_reviewer, created_at``). With the ``requested_reviewer`` column (the login
            a ``review_requested`` / ``review_request_removed`` event names), the requests pending
            at ``as_of`` are replayed from the events, exactly, at any ``as_of``; without it the
            argument is ignored.

    Returns:
        One row per ``(repo, candidate)``, sorted by both.

    Raises:
        ValueError: for a naive ``as_of``, a half-life that is not positive or a missing input
            column.
    """
    as_of = utc_instant(as_of)
    if half_life_days <= 0:
        raise ValueError("half_life_days must be positive")
    keys = ["repo", "candidate"]
    prs = _pull_requests(pull_requests, as_of)
    revs = _reviews(reviews, prs, as_of)
    coms = _comments(comments, prs, as_of)
    expertise = _expertise(prs, revs, _files(pr_files, PREFIX_DEPTH), as_of, half_life_days)

    human_prs = prs.filter(_human("author_is_bot", "author"))
    candidates = pl.concat(
        [
            human_prs.select("repo", pl.col("author").alias("candidate")),
            revs.select("repo", pl.col("login").alias("candidate")),
            coms.filter(pl.col("on_pr")).select("repo", pl.col("login").alias("candidate")),
        ]
    ).unique()
    activity = pl.concat(
        [
            human_prs.select("repo", pl.col("author").alias("candidate"), pl.col("created_at").alias("at")),
            revs.select("repo", pl.col("login").alias("candidate"), pl.col("submitted_at").alias("at")),
            coms.select("repo", pl.col("login").alias("candidate"), pl.col("created_at").alias("at")),
        ]
    ).join(candidates, on=keys, how="semi")
    recent = activity.filter(pl.col("at") >= as_of - timedelta(days=RECENT_DAYS))
    usual = _usual_hours(activity)

    reviewing = revs.filter(~pl.col("own"))
    verdicts = reviewing.group_by("repo", pl.col("login").alias("candidate")).agg(
        pl.len().cast(pl.Int64()).alias("reviews_done"),
        (pl.col("state") == "approved").mean().alias("approval_rate"),
        (pl.col("state") == "changes_requested").mean().alias("changes_requested_rate"),
    )

    responses = pl.concat(
        [
            reviewing.select("repo", "number", "login", pl.col("submitted_at").alias("at"), "pr_at"),
            coms.filter((pl.col("kind") == "review") & ~pl.col("own")).select(
                "repo", "number", "login", pl.col("created_at").alias("at"), "pr_at"
            ),
        ]
    ).filter(pl.col("pr_at").is_not_null())
    speed = (
        responses.group_by("repo", "number", "login")
        .agg(_hours(pl.col("at").min(), pl.col("pr_at").first()).alias("hours"))
        .group_by("repo", pl.col("login").alias("candidate"))
        .agg(pl.col("hours").median().alias("median_first_response_hours"))
    )

    open_prs = prs.filter(pl.col("closed_at").is_null() | (pl.col("closed_at") >= as_of))
    requested = _requested(open_prs, issue_events, as_of)
    engaged = reviewing.join(open_prs, on=["repo", "number"], how="semi").select(
        "repo", "number", pl.col("pr_author").alias("author"), pl.col("login").alias("candidate")
    )
    workload = (
        pl.concat([requested, engaged])
        .filter(pl.col("candidate").is_not_null() & (pl.col("candidate") != pl.col("author")).fill_null(True))
        .group_by(keys)
        .agg(pl.col("number").n_unique().cast(pl.Int64()).alias("open_workload"))
    )

    top_paths = expertise.group_by(keys, maintain_order=True).agg(
        pl.struct("path_prefix", "weight").head(TOP_PATHS).alias("expertise_paths")
    )
    recent_share = (
        recent.with_columns(hour=pl.col("at").dt.hour().cast(pl.Int32()))
        .join(
            usual.explode("usual_hours").rename({"usual_hours": "hour"}).with_columns(usual=pl.lit(True)),
            on=[*keys, "hour"],
            how="left",
        )
        .group_by(keys)
        .agg(
            pl.len().cast(pl.Int64()).alias("events_last_14d"),
            pl.col("usual").fill_null(False).mean().alias("in_usual_hours_share"),
        )
    )
    last_active = activity.group_by(keys).agg(pl.col("at").max().alias("last_active_at"))

    frame = candidates
    for part in (top_paths, workload, speed, recent_share, usual, verdicts, last_active):
        frame = frame.join(part, on=keys, how="left")
    return (
        frame.with_columns(
            as_of=pl.lit(as_of, dtype=UTC_TIME),
            expertise_paths=pl.col("expertise_paths").fill_null(pl.lit([], dtype=pl.List(_PATH_WEIGHT))),
            open_workload=pl.col("open_workload").fill_null(0),
            events_last_14d=pl.col("events_last_14d").fill_null(0),
            reviews_done=pl.col("reviews_done").fill_null(0),
            in_usual_hours_now=pl.col("usual_hours").list.contains(pl.lit(as_of.hour, dtype=pl.Int32())),
        )
        .select(REVIEWER_SCHEMA.keys())
        .cast(REVIEWER_SCHEMA)
        .sort(keys)
    )


TOP_AUTHORS = 50
"""Authors kept per candidate in :func:`author_history` (the heaviest), to bound the export."""

AUTHOR_HISTORY_SCHEMA = pl.Schema(
    {
        "repo": pl.String(),
        "candidate": pl.String(),
        "author_history": pl.List(pl.Struct({"author": pl.String(), "weight": pl.Float64()})),
    }
)
"""Columns of :func:`author_history`."""


def _decayed(at: str, as_of: datetime, half_life_days: float) -> pl.Expr:
    age_days = (pl.lit(as_of, dtype=UTC_TIME) - pl.col(at)).dt.total_seconds() / 86_400.0
    return (2.0 ** (-age_days / half_life_days)).cast(pl.Float64())


def author_history(
    pull_requests: pl.DataFrame,
    reviews: pl.DataFrame,
    comments: pl.DataFrame,
    *,
    as_of: datetime,
    top: int = TOP_AUTHORS,
) -> pl.DataFrame:
    """What each candidate knows of each author's work: the routing engine's ``author_history``.

    The same recency-weighted sum as the routing benchmark's history
    (:mod:`pipelines.features.routing_history`), from the warehouse's events up to ``as_of``:
    the candidate's approvals of the author's pull requests at a short and a long half-life
    (the long one weighted :data:`AUTHOR_LONG_WEIGHT`), the author's approvals of the candidate's
    pull requests (:data:`RECIPROCAL_WEIGHT`, long half-life) and the candidate's comments on the
    author's pull requests (:data:`COMMENT_WEIGHT`, long half-life). Events are timed when they
    happened (the benchmark's data only has merge times). Logins are lower-cased, as the engine
    compares them; bots and a person's own pull requests are left out.

    Returns:
        One row per ``(repo, candidate)`` with history: its ``top`` heaviest authors as
        ``{author, weight}``, heaviest first.
    """
    as_of = utc_instant(as_of)
    prs = _pull_requests(pull_requests, as_of).filter(_human("author_is_bot", "author"))
    approvals = (
        _reviews(reviews, prs, as_of)
        .filter(~pl.col("own") & (pl.col("state") == "approved") & pl.col("pr_author").is_not_null())
        .join(prs.select("repo", "number"), on=["repo", "number"], how="semi")
    )
    long = _decayed("submitted_at", as_of, AUTHOR_LONG_HALF_LIFE_DAYS)
    parts = [
        approvals.select(
            "repo",
            pl.col("login").alias("candidate"),
            pl.col("pr_author").alias("author"),
            (_decayed("submitted_at", as_of, AUTHOR_SHORT_HALF_LIFE_DAYS) + AUTHOR_LONG_WEIGHT * long).alias(
                "weight"
            ),
        ),
        approvals.select(
            "repo",
            pl.col("pr_author").alias("candidate"),
            pl.col("login").alias("author"),
            (RECIPROCAL_WEIGHT * long).alias("weight"),
        ),
        _comments(comments, prs, as_of)
        .filter(pl.col("on_pr") & ~pl.col("own") & pl.col("pr_author").is_not_null())
        .select(
            "repo",
            pl.col("login").alias("candidate"),
            pl.col("pr_author").alias("author"),
            (COMMENT_WEIGHT * _decayed("created_at", as_of, AUTHOR_LONG_HALF_LIFE_DAYS)).alias("weight"),
        ),
    ]
    return (
        pl.concat(parts)
        .with_columns(pl.col("candidate").str.to_lowercase(), pl.col("author").str.to_lowercase())
        .filter(pl.col("candidate") != pl.col("author"))
        .group_by("repo", "candidate", "author")
        .agg(pl.col("weight").sum())
        .sort(["repo", "candidate", "weight", "author"], descending=[False, False, True, False])
        .group_by("repo", "candidate", maintain_order=True)
        .agg(pl.struct("author", "weight").head(top).alias("author_history"))
        .cast(AUTHOR_HISTORY_SCHEMA)
    )
