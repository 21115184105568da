"""A workflow run and its history, read from the GitHub API into the run-feature inputs.

The mapping mirrors the warehouse's (``warehouse/sql/core/20_ci_runs.sql``,
``31_run_changes.sql`` and ``features/run_inputs.sql``), so the action describes a run the way
the model was trained to see it. Where the action cannot see what the warehouse sees, the
difference is stated here:

* history is the repository's runs created up to the trigger, newest first, at most
  ``max_runs`` of them (the warehouse has the whole history; the longest window, the
  repository's last 50 finished runs, fits comfortably in the default 300), and an actor's
  history covers this repository only;
* the change is read from the run's pull request when its head is the commit built (as in the
  warehouse: the final diff would describe a later push otherwise);
* coverage, team size and test density are left missing (the model handles missing values).
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from github.PullRequest import PullRequest
from github.Repository import Repository

from actions.common.conclusions import FAILED_CONCLUSIONS, RUN_CONCLUSIONS

CORE_MEMBER = frozenset({"owner", "member", "collaborator"})

_TEST_FILE = re.compile(
    r"(^|/)(tests?|spec|__tests__)/|(^|/)test_[^/]*$|_test\.[a-z]+$|\.(spec|test)\.[a-z]+$"
)
_DOC_FILE = re.compile(r"(^|/)docs?/|\.(md|rst|txt|adoc)$")


def _norm(value: Any) -> str | None:
    text = None if value is None else str(value).strip().lower()
    return text or None


def _time(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    else:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _seconds_between(start: datetime, end: datetime) -> float:
    # DuckDB's date_diff('second') counts whole-second boundaries
    return float(math.floor(end.timestamp()) - math.floor(start.timestamp()))


def run_input(data: Mapping[str, Any], repo: str) -> dict[str, Any]:
    """One run attempt (the REST JSON of a workflow run) as a row of the run-feature inputs.

    The change columns are left empty; :func:`change_of` fills them for the run being predicted.
    """
    status = _norm(data.get("status"))
    if status in RUN_CONCLUSIONS:  # a conclusion given as the status (as the SQL mapping also reads it)
        status = "completed"
    conclusion = _norm(data.get("conclusion"))
    created = _time(data.get("created_at"))
    updated = _time(data.get("updated_at"))
    started = _time(data.get("run_started_at")) or created
    completed = status == "completed"
    failed: bool | None = None
    if completed and conclusion is not None:
        failed = True if conclusion in FAILED_CONCLUSIONS else (False if conclusion == "success" else None)
    pulls = data.get("pull_requests") or []
    pull_number = pulls[0].get("number") if pulls and isinstance(pulls[0], Mapping) else None
    event = _norm(data.get("event"))
    actor = data.get("actor")
    return {
        "id": int(data["id"]),
        "run_attempt": int(data.get("run_attempt") or 1),
        "repo": repo,
        "workflow": data.get("name") or data.get("path"),
        "branch": data.get("head_branch"),
        "event": event,
        "head_sha": data.get("head_sha"),
        "actor": actor.get("login") if isinstance(actor, Mapping) else None,
        "is_pr": event == "pull_request" or pull_number is not None,
        "pull_number": pull_number,
        "created_at": created,
        "finished_at": updated if completed else None,
        "conclusion": conclusion,
        "failed": failed,
        "duration_seconds": _seconds_between(started, updated)
        if completed and started is not None and updated is not None
        else None,
        **dict.fromkeys(CHANGE_COLUMNS),
        "log_tests_failed": None,
        "log_tests_run": None,
    }


CHANGE_COLUMNS: tuple[str, ...] = (
    "lines_added",
    "lines_deleted",
    "files_changed",
    "src_churn",
    "test_churn",
    "doc_churn",
    "tests_added",
    "test_density",
    "coverage",
    "review_count",
    "approval_seconds",
    "team_size",
    "by_core_member",
)


def file_kind(filename: str) -> str:
    """``test``, ``doc`` or ``src``: the warehouse's classification of a changed file."""
    if _TEST_FILE.search(filename):
        return "test"
    if _DOC_FILE.search(filename):
        return "doc"
    return "src"


def change_of(pull: PullRequest, run: Mapping[str, Any]) -> dict[str, Any]:
    """The change columns of ``run`` from its pull request (empty if the PR moved on since)."""
    if pull.head.sha != run["head_sha"]:
        return {}
    churn = {"src": 0, "test": 0, "doc": 0}
    added = deleted = files = tests_added = 0
    for changed in pull.get_files():
        kind = file_kind(changed.filename)
        added += changed.additions
        deleted += changed.deletions
        files += 1
        churn[kind] += changed.additions + changed.deletions
        tests_added += int(kind == "test" and changed.status == "added")
    trigger: datetime = run["created_at"]
    reviews = [r for r in pull.get_reviews() if (at := _time(r.submitted_at)) is not None and at <= trigger]
    approvals = [_time(r.submitted_at) for r in reviews if _norm(r.state) == "approved"]
    first_approval = min((a for a in approvals if a is not None), default=None)
    created = _time(pull.created_at)
    association = _norm(pull.raw_data.get("author_association"))
    return {
        "lines_added": added if files else None,
        "lines_deleted": deleted if files else None,
        "files_changed": files if files else None,
        "src_churn": churn["src"],
        "test_churn": churn["test"],
        "doc_churn": churn["doc"],
        "tests_added": tests_added if files else None,
        "review_count": len(reviews),
        "approval_seconds": _seconds_between(created, first_approval)
        if created is not None and first_approval is not None
        else None,
        "by_core_member": None if association is None else association in CORE_MEMBER,
    }


def history(repo: Repository, target: Mapping[str, Any], *, max_runs: int = 300) -> list[dict[str, Any]]:
    """Runs of the repository created up to ``target``'s trigger (every attempt), newest first.

    Earlier attempts of re-run runs are fetched one by one (re-runs are rare).
    """
    trigger: datetime = target["created_at"]
    created = f"<={trigger.strftime('%Y-%m-%dT%H:%M:%SZ')}"
    rows: list[dict[str, Any]] = []
    for data in _listed_runs(repo, created):
        if len(rows) >= max_runs:
            break
        row = run_input(data, target["repo"])
        rows.append(row)
        for attempt in range(1, row["run_attempt"]):
            _, earlier = repo.requester.requestJsonAndCheck(
                "GET", f"{repo.url}/actions/runs/{row['id']}/attempts/{attempt}"
            )
            rows.append(run_input(earlier, target["repo"]))
    return rows


RUNS_PER_PAGE = 100
"""GitHub's largest page of workflow runs."""


def _listed_runs(repo: Repository, created: str) -> Iterator[dict[str, Any]]:
    """The repository's runs created in ``created`` (newest first), as the listing's JSON.

    Read page by page through the client's requester (its retries and rate limiting apply) rather
    than ``get_workflow_runs``: the ``raw_data`` of a listed PyGithub object fetches the object again,
    one request per run, and the listing already holds every field the features read.
    """
    page = 1
    while True:
        _, answer = repo.requester.requestJsonAndCheck(
            "GET",
            f"{repo.url}/actions/runs",
            parameters={"created": created, "per_page": RUNS_PER_PAGE, "page": page},
        )
        runs = answer.get("workflow_runs") or []
        yield from runs
        if len(runs) < RUNS_PER_PAGE:
            return
        page += 1
