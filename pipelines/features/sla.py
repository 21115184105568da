"""SLA clocks of issues and pull requests: priority, first response and resolution, as of an instant.

Each issue, and each pull request through its issue twin (``core.issues`` rows with
``is_pull_request``), created before ``as_of`` gets two clocks that start at its creation:

* the *response* clock stops at the first response: a comment (conversation or review comment),
  a review (when ``reviews`` are given), or, on issues only, a label or assignment change, by a
  human who is not the author;
* the *resolution* clock stops when it is closed.

Everything is as of ``as_of``: comments, reviews and events at or after it are invisible. Two
columns of ``core.issues`` are the state at fetch time rather than at ``as_of``, and are read back
to ``as_of`` from ``core.issue_events`` where the history allows:

* **labels** (for the priority): a label's state at ``as_of`` is the one its last ``labeled`` /
  ``unlabeled`` event before ``as_of`` left. A label whose first event comes later was there
  before it exactly when that event is ``unlabeled``. A label with no event at all (histories
  are often incomplete) is taken as present since creation when the issue has it now.
* **closed_at** is the last close. When the issue has ``closed`` / ``reopened`` events before
  ``as_of``, the last of them tells whether, and since when, it was closed at ``as_of``;
  without any, it was closed at ``as_of`` exactly when ``closed_at`` is before ``as_of``.

A recording taken at ``as_of`` therefore yields the same clocks as the full history read as of
``as_of``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

import polars as pl

from pipelines.features.frames import require_columns, utc_column
from pipelines.features.schemas import UTC_TIME

PRIORITIES = ("P0", "P1", "P2", "P3")
"""Priorities, most urgent first."""

RESPONSE_EVENTS = ("labeled", "unlabeled", "assigned", "unassigned")
"""Issue events that count as a response on issues: someone triaged it."""

_HOUR_US = 3_600_000_000
_SEP = r"[\s:/_.\-]*"
_LEVEL_WORDS: dict[str, str] = {
    "critical": "P0",
    "urgent": "P0",
    "blocker": "P0",
    "highest": "P0",
    "high": "P1",
    "medium": "P2",
    "normal": "P2",
    "moderate": "P2",
    "low": "P3",
    "lowest": "P3",
    "minor": "P3",
    "trivial": "P3",
}
# SEV1 is the most severe level of most incident scales (SEV0, where used, is above it).
_SEVERITY_LEVELS = {"0": "P0", "1": "P0", "2": "P1", "3": "P2", "4": "P3", "5": "P3"}
_WORDS = "|".join(_LEVEL_WORDS)
_P_LEVEL = re.compile(rf"(?:priority|prio|pri)?{_SEP}p([0-3])")
_PRIORITY_NUMBER = re.compile(rf"(?:priority|prio|pri){_SEP}([0-3])")
_SEVERITY_NUMBER = re.compile(rf"(?:severity|sev){_SEP}([0-5])")
_PREFIXED_WORD = re.compile(rf"(?:priority|prio|pri|severity|sev){_SEP}({_WORDS})")
_SUFFIXED_WORD = re.compile(rf"({_WORDS}){_SEP}(?:priority|prio|severity)")
_BARE_WORD = re.compile(r"(critical|urgent|blocker)")

SLA_SCHEMA = pl.Schema(
    {
        "as_of": UTC_TIME,
        "repo": pl.String(),
        "number": pl.Int64(),
        "is_pull_request": pl.Boolean(),
        "author": pl.String(),
        "author_is_bot": pl.Boolean(),
        "created_at": UTC_TIME,
        "priority": pl.String(),
        "first_response_at": UTC_TIME,
        "first_responder": pl.String(),
        "time_to_first_response_hours": pl.Float64(),
        "resolved_at": UTC_TIME,
        "time_to_resolution_hours": pl.Float64(),
        "response_clock_open": pl.Boolean(),
        "response_open_hours": pl.Float64(),
        "resolution_clock_open": pl.Boolean(),
        "resolution_open_hours": pl.Float64(),
    }
)
"""Columns of :func:`sla_clocks`."""


def label_priority(label: str) -> str | None:
    """The priority (``P0``..``P3``) a label name stands for under the default rules, or None.

    Case and separators (space, ``:``, ``/``, ``-``, ``_``, ``.``) do not matter. Recognised:
    ``P0``..``P3`` with an optional ``priority``/``prio``/``pri`` prefix (``priority/p1``),
    ``priority 0``..``3``, severities ``sev0``..``sev5`` (SEV0 and SEV1 → P0, SEV2 → P1, SEV3 → P2,
    SEV4 and SEV5 → P3), level words after ``priority``/``severity`` or before ``priority``
    (``priority: high``, ``high-priority``: critical/urgent/blocker/highest → P0, high → P1,
    medium/normal/moderate → P2, low/lowest/minor/trivial → P3), and the bare words
    ``critical``, ``urgent`` and ``blocker`` (P0).

    >>> [label_priority(x) for x in ("P2", "priority: high", "sev1", "critical", "bug")]
    ['P2', 'P1', 'P0', 'P0', None]
    """
    text = label.strip().lower()
    if match := _P_LEVEL.fullmatch(text) or _PRIORITY_NUMBER.fullmatch(text):
        return f"P{match.group(1)}"
    if match := _SEVERITY_NUMBER.fullmatch(text):
        return _SEVERITY_LEVELS[match.group(1)]
    if (
        match := _PREFIXED_WORD.fullmatch(text)
        or _SUFFIXED_WORD.fullmatch(text)
        or _BARE_WORD.fullmatch(text)
    ):
        return _LEVEL_WORDS[match.group(1)]
    return None


def _priority_table(labels: Iterable[str], priority_labels: Mapping[str, str] | None) -> pl.DataFrame:
    """``label → priority`` for the label names present, under the mapping or the default rules."""
    if priority_labels is None:
        found = {label: label_priority(label) for label in labels}
    else:
        mapping = {name.strip().lower(): value for name, value in priority_labels.items()}
        unknown = sorted(set(mapping.values()) - set(PRIORITIES))
        if unknown:
            raise ValueError(f"priority_labels maps to {unknown}; priorities are {list(PRIORITIES)}")
        found = {label: mapping.get(label.strip().lower()) for label in labels}
    rows = {label: value for label, value in found.items() if value is not None}
    return pl.DataFrame(
        {"label": list(rows), "priority": list(rows.values())},
        schema={"label": pl.String(), "priority": pl.String()},
    )


def _hours(later: pl.Expr, earlier: pl.Expr) -> pl.Expr:
    return (later - earlier).dt.total_microseconds() / _HOUR_US


def _events(issue_events: pl.DataFrame) -> pl.DataFrame:
    require_columns(
        issue_events,
        "issue_events",
        ("id", "repo", "issue_number", "event", "actor", "actor_is_bot", "label", "created_at"),
    )
    return issue_events.select(
        "repo",
        pl.col("issue_number").cast(pl.Int64()).alias("number"),
        pl.col("event").str.to_lowercase(),
        "actor",
        "actor_is_bot",
        pl.col("label").cast(pl.String()),
        utc_column(issue_events, "created_at"),
        pl.col("id").cast(pl.Int64()),
    ).filter(pl.col("created_at").is_not_null())


def _labels_at(issues: pl.DataFrame, events: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """``(repo, number, label)`` of the labels each issue had at ``as_of``."""
    keys = ["repo", "number", "label"]
    changes = events.filter(
        pl.col("event").is_in(["labeled", "unlabeled"]) & pl.col("label").is_not_null()
    ).sort("created_at", "id")
    last_before = (
        changes.filter(pl.col("created_at") < as_of)
        .group_by(keys)
        .agg(pl.col("event").last().alias("last_before"))
    )
    first_ever = changes.group_by(keys).agg(pl.col("event").first().alias("first_ever"))
    now = (
        issues.select("repo", "number", pl.col("labels").alias("label"))
        .explode("label")
        .filter(pl.col("label").is_not_null())
        .unique()
        .with_columns(now=pl.lit(True))
    )
    return (
        pl.concat([now.select(keys), first_ever.select(keys)])
        .unique()
        .join(last_before, on=keys, how="left")
        .join(first_ever, on=keys, how="left")
        .join(now, on=keys, how="left")
        .filter(
            pl.when(pl.col("last_before").is_not_null())
            .then(pl.col("last_before") == "labeled")
            .when(pl.col("first_ever").is_not_null())
            .then(pl.col("first_ever") == "unlabeled")
            .otherwise(pl.col("now").fill_null(False))
        )
        .select(keys)
    )


def _first_responses(
    issues: pl.DataFrame,
    comments: pl.DataFrame,
    events: pl.DataFrame,
    reviews: pl.DataFrame | None,
    as_of: datetime,
) -> pl.DataFrame:
    """Earliest response per issue, and who gave it (the smallest login on a tie)."""
    require_columns(comments, "comments", ("repo", "issue_number", "author", "author_is_bot", "created_at"))
    responses = [
        comments.select(
            "repo",
            pl.col("issue_number").cast(pl.Int64()).alias("number"),
            pl.col("author").alias("login"),
            pl.col("author_is_bot").alias("is_bot"),
            utc_column(comments, "created_at").alias("at"),
        ),
        events.join(
            issues.filter(~pl.col("is_pull_request")).select("repo", "number"),
            on=["repo", "number"],
            how="semi",
        )
        .filter(pl.col("event").is_in(RESPONSE_EVENTS))
        .select(
            "repo",
            "number",
            pl.col("actor").alias("login"),
            pl.col("actor_is_bot").alias("is_bot"),
            pl.col("created_at").alias("at"),
        ),
    ]
    if reviews is not None:
        require_columns(
            reviews, "reviews", ("repo", "pull_number", "reviewer", "reviewer_is_bot", "submitted_at")
        )
        responses.append(
            reviews.select(
                "repo",
                pl.col("pull_number").cast(pl.Int64()).alias("number"),
                pl.col("reviewer").alias("login"),
                pl.col("reviewer_is_bot").alias("is_bot"),
                utc_column(reviews, "submitted_at").alias("at"),
            )
        )
    return (
        pl.concat(responses)
        .filter(
            pl.col("login").is_not_null()
            & ~pl.col("is_bot").fill_null(False)
            & pl.col("at").is_not_null()
            & (pl.col("at") < as_of)
        )
        .join(issues.select("repo", "number", "author"), on=["repo", "number"], how="inner")
        .filter(pl.col("author").is_null() | (pl.col("login") != pl.col("author")))
        .sort("at", "login")
        .group_by("repo", "number")
        .agg(
            pl.col("at").first().alias("first_response_at"), pl.col("login").first().alias("first_responder")
        )
    )


def _resolutions(issues: pl.DataFrame, events: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """When each issue was closed, if it was closed at ``as_of``."""
    last = (
        events.filter(pl.col("event").is_in(["closed", "reopened"]) & (pl.col("created_at") < as_of))
        .sort("created_at", "id")
        .group_by("repo", "number")
        .agg(pl.col("event").last().alias("last_event"), pl.col("created_at").last().alias("last_at"))
    )
    return (
        issues.select("repo", "number", "closed_at")
        .join(last, on=["repo", "number"], how="left")
        .select(
            "repo",
            "number",
            pl.when(pl.col("last_event").is_not_null())
            .then(pl.when(pl.col("last_event") == "closed").then(pl.col("last_at")))
            .when(pl.col("closed_at") < as_of)
            .then(pl.col("closed_at"))
            .alias("resolved_at"),
        )
    )


def sla_clocks(
    issues: pl.DataFrame,
    comments: pl.DataFrame,
    issue_events: pl.DataFrame,
    *,
    as_of: datetime,
    priority_labels: Mapping[str, str] | None = None,
    reviews: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Response and resolution clocks of every issue and pull request created before ``as_of``.

    Columns (see :data:`SLA_SCHEMA` for types), all as of ``as_of``:

    * ``priority``: the most urgent priority among the labels it had at ``as_of`` (null if none);
    * ``first_response_at``, ``first_responder``, ``time_to_first_response_hours``: the first
      response (see the module docstring), null while there is none;
    * ``resolved_at``, ``time_to_resolution_hours``: when it was closed, null while open (an issue
      closed after ``as_of`` is open as of ``as_of``);
    * ``response_clock_open``: no response yet and not resolved (closing an issue stops the
      wait for an answer); ``response_open_hours``: hours from creation to ``as_of`` while
      the clock is open, else null;
    * ``resolution_clock_open``, ``resolution_open_hours``: likewise, while not resolved.

    Args:
        issues: ``core.issues`` (``repo, number, author, author_is_bot, labels, created_at,
            closed_at, is_pull_request``).
        comments: ``core.comments`` (``repo, issue_number, author, author_is_bot, created_at``;
            both kinds).
        issue_events: ``core.issue_events`` (``id, repo, issue_number, event, actor,
            actor_is_bot, label, created_at``).
        as_of: the instant the clocks are read at (timezone-aware).
        priority_labels: label name → ``P0``..``P3``, matched ignoring case and surrounding
            space; replaces the default rules of :func:`label_priority` when given.
        reviews: ``core.reviews`` (``repo, pull_number, reviewer, reviewer_is_bot,
            submitted_at``): when given, a review counts as a response to its pull request.

    Returns:
        One row per issue or pull request, sorted by ``repo`` and ``number``.

    Raises:
        ValueError: for a naive ``as_of``, a mapping to an unknown priority, or a missing input
            column.
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    as_of = as_of.astimezone(UTC)
    require_columns(
        issues,
        "issues",
        ("repo", "number", "author", "author_is_bot", "labels", "created_at", "closed_at", "is_pull_request"),
    )
    items = (
        issues.select(
            "repo",
            pl.col("number").cast(pl.Int64()),
            pl.col("is_pull_request").fill_null(False),
            "author",
            "author_is_bot",
            pl.col("labels").cast(pl.List(pl.String())),
            utc_column(issues, "created_at"),
            utc_column(issues, "closed_at"),
        )
        .filter(pl.col("created_at") < as_of)
        .unique(["repo", "number"], keep="last")
    )
    events = _events(issue_events)
    labels = _labels_at(items, events, as_of)
    priority = (
        labels.join(
            _priority_table(labels["label"].unique().to_list(), priority_labels), on="label", how="inner"
        )
        .group_by("repo", "number")
        # P0 < P1 < P2 < P3 as strings: the minimum is the most urgent.
        .agg(pl.col("priority").min())
    )
    responses = _first_responses(items, comments, events, reviews, as_of)
    resolutions = _resolutions(items, events, as_of)

    since_creation = _hours(pl.lit(as_of, dtype=UTC_TIME), pl.col("created_at"))
    response_open = pl.col("first_response_at").is_null() & pl.col("resolved_at").is_null()
    resolution_open = pl.col("resolved_at").is_null()
    return (
        items.join(priority, on=["repo", "number"], how="left")
        .join(responses, on=["repo", "number"], how="left")
        .join(resolutions, on=["repo", "number"], how="left")
        .with_columns(
            as_of=pl.lit(as_of, dtype=UTC_TIME),
            time_to_first_response_hours=_hours(pl.col("first_response_at"), pl.col("created_at")),
            time_to_resolution_hours=_hours(pl.col("resolved_at"), pl.col("created_at")),
            response_clock_open=response_open,
            response_open_hours=pl.when(response_open).then(since_creation),
            resolution_clock_open=resolution_open,
            resolution_open_hours=pl.when(resolution_open).then(since_creation),
        )
        .select(SLA_SCHEMA.keys())
        .cast(SLA_SCHEMA)
        .sort("repo", "number")
    )
