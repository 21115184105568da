"""The streams of GitHub history repopilot ingests, and the raw tables they fill.

A *stream* is one unit of incremental fetching per repository (one Dagster asset partition);
it can fill several raw tables, because some sub-resources are cheapest fetched together with
their parent (reviews and files ride along with a GraphQL page of pull requests, jobs with the
failed workflow runs they belong to).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

JSON = dict[str, Any]


@dataclass(frozen=True)
class RawTable:
    """A table of the ``raw`` schema: one row per API object, the JSON kept as it came.

    Attributes:
        name: table name in the ``raw`` schema.
        key: natural key of an object within its repository (``parent`` is passed for
            sub-resources that have no id of their own, such as changed files).
        version: the object's last-change timestamp; an upsert never replaces a row with an
            older version of the same object.
    """

    name: str
    key: Callable[[JSON, str | None], str]
    version: Callable[[JSON], str | None]


def _by_id(obj: JSON, parent: str | None) -> str:
    return str(obj["id"])


def _field(name: str, *fallbacks: str) -> Callable[[JSON], str | None]:
    def version(obj: JSON) -> str | None:
        for field_name in (name, *fallbacks):
            value = obj.get(field_name)
            if value:
                return str(value)
        return None

    return version


RAW_TABLES: dict[str, RawTable] = {
    table.name: table
    for table in (
        RawTable("pull_requests", _by_id, _field("updated_at", "created_at")),
        RawTable("reviews", _by_id, _field("submitted_at")),
        RawTable("pr_files", lambda obj, parent: f"{parent}:{obj['filename']}", lambda obj: None),
        RawTable("review_comments", _by_id, _field("updated_at", "created_at")),
        RawTable("issues", _by_id, _field("updated_at", "created_at")),
        RawTable("issue_comments", _by_id, _field("updated_at", "created_at")),
        RawTable("issue_events", _by_id, _field("created_at")),
        RawTable(
            "workflow_runs",
            lambda obj, parent: f"{obj['id']}:{obj.get('run_attempt') or 1}",
            _field("updated_at", "created_at"),
        ),
        RawTable("jobs", _by_id, _field("completed_at", "started_at", "created_at")),
        RawTable("check_runs", _by_id, _field("completed_at", "started_at")),
        RawTable("commit_statuses", _by_id, _field("updated_at", "created_at")),
        RawTable(
            "run_log_excerpts",
            lambda obj, parent: f"{obj['run_id']}:{obj['run_attempt']}:{obj.get('job') or ''}",
            lambda obj: None,
        ),
    )
}


@dataclass(frozen=True)
class Stream:
    """One incrementally fetched stream of a repository's history.

    Attributes:
        name: stream name; the Dagster asset is ``landed_<name>``.
        tables: the raw tables the stream fills.
        after: streams whose committed state this one reads (it runs after them).
        description: what the stream holds and how it is fetched.
    """

    name: str
    tables: tuple[str, ...]
    after: tuple[str, ...]
    description: str


STREAMS: dict[str, Stream] = {
    stream.name: stream
    for stream in (
        Stream(
            "pull_requests",
            ("pull_requests",),
            (),
            "Pull requests, newest update first, 100 a page, down to the cursor.",
        ),
        Stream(
            "pull_request_details",
            ("reviews", "pr_files"),
            ("pull_requests",),
            "Reviews and changed files of pull requests updated since the cursor, through one "
            "GraphQL query per 50 pull requests.",
        ),
        Stream(
            "review_comments",
            ("review_comments",),
            (),
            "Review comments on pull request diffs (repository-wide list).",
        ),
        Stream("issues", ("issues",), (), "Issues (and their pull request twins) by last update."),
        Stream("issue_comments", ("issue_comments",), (), "Issue and pull request conversation comments."),
        Stream("issue_events", ("issue_events",), (), "Issue events: labels, assignments, closes."),
        Stream(
            "workflow_runs",
            ("workflow_runs", "jobs"),
            (),
            "Workflow runs with every attempt, and the jobs with steps of failed attempts.",
        ),
        Stream(
            "pr_head_checks",
            ("check_runs", "commit_statuses"),
            ("pull_requests", "workflow_runs"),
            "Check runs and commit statuses of the head commits of open pull requests.",
        ),
        Stream(
            "run_logs",
            ("run_log_excerpts",),
            ("workflow_runs",),
            "The failure excerpt of each failed attempt's log archive, fetched once per attempt from "
            "the queue the workflow run stream fills (expired logs are recorded as unavailable).",
        ),
    )
}
