"""Run features of one workflow run, computed in plain Python from the runs before it.

The action computes the features of a single live run, so it cannot use the warehouse's Polars
build (:func:`pipelines.features.runs.build_run_features`); this module computes the same
documented features row by row, and a parity test holds the two to identical values. The
semantics (the Features contract of ARCHITECTURE.md):

* a run counts in the history of another only once it has finished, at
  ``max(finished_at, created_at + 1µs)``, and only if that instant is at or before the other's
  trigger (``created_at``);
* finished runs are ordered by that instant (then trigger time, repository, id, attempt): "the
  last N runs" are the last N in this order;
* the groups are the run's repository, workflow and branch (missing values form their own
  group), its repository and workflow, its repository and branch, its actor, its repository,
  and its commit within the repository;
* a run is in flight for another when it was triggered strictly before it and had not finished
  by its trigger.

Runs are dicts with the keys of ``RUN_INPUT_SCHEMA`` in ``pipelines/features/schemas.py``
(timestamps as aware ``datetime``).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

Run = Mapping[str, Any]
Value = float | int | str | None

WINDOWS: tuple[int, ...] = (5, 20)
"""Window sizes of the rolling failure rates (the warehouse build's defaults)."""

REPO_WINDOW = 50
DURATION_WINDOW = 5
REPO_DURATION_WINDOWS: tuple[int, ...] = (5, 20)

_ONE_MICROSECOND = timedelta(microseconds=1)
_HISTORY = ("repo", "workflow", "branch")


def _known_at(run: Run) -> datetime:
    finished: datetime = run["finished_at"]
    created: datetime = run["created_at"]
    return max(finished, created + _ONE_MICROSECOND)


def _rate(runs: Sequence[Run]) -> float | None:
    labels = [r["failed"] for r in runs if r["failed"] is not None]
    return sum(labels) / len(labels) if labels else None


def _median(values: Iterable[float | None]) -> float | None:
    present = [float(v) for v in values if v is not None]
    return statistics.median(present) if present else None


def _same(keys: tuple[str, ...], target: Run) -> Callable[[Run], bool]:
    return lambda run: all(run[k] == target[k] for k in keys)


def _seconds(later: datetime, earlier: datetime) -> float:
    return (later - earlier) / timedelta(microseconds=1) / 1e6


def finished_in_order(runs: Iterable[Run]) -> list[Run]:
    """The finished runs, in the order in which their outcomes became known."""
    indexed = [(i, r) for i, r in enumerate(runs) if r["finished_at"] is not None]
    indexed.sort(
        key=lambda ir: (
            _known_at(ir[1]),
            ir[1]["created_at"],
            ir[1]["repo"],
            ir[1]["id"],
            ir[1]["run_attempt"],
            ir[0],
        )
    )
    return [r for _, r in indexed]


def _history_features(target: Run, known: Sequence[Run], runs: Sequence[Run]) -> dict[str, Value]:
    t = target["created_at"]
    hist = [r for r in known if _same(_HISTORY, target)(r)]
    labels = [r["failed"] for r in hist if r["failed"] is not None]
    streak = 0
    for failed in reversed(labels):
        if not failed:
            break
        streak += 1
    earlier = [r["created_at"] for r in runs if _same(_HISTORY, target)(r) and r["created_at"] < t]
    last = hist[-1] if hist else None
    out: dict[str, Value] = {
        "prev_failed": float(labels[-1]) if labels else None,
        "prev_duration": None if last is None else last["duration_seconds"],
        "prev_log_tests_failed": None if last is None else last["log_tests_failed"],
        "prev_log_tests_run": None if last is None else last["log_tests_run"],
        "since_prev_run": _seconds(t, max(earlier)) if earlier else None,
        "since_prev_finish": None if last is None else _seconds(t, _known_at(last)),
        "fail_streak": streak,
        "completed_runs": len(hist),
        "runs_in_flight": len(earlier) - len(hist),
        "duration_median5": _median(r["duration_seconds"] for r in hist[-DURATION_WINDOW:]),
    }
    for n in WINDOWS:
        out[f"fail_rate_{n}"] = _rate(hist[-n:])
    return out


def _group_features(target: Run, known: Sequence[Run]) -> dict[str, Value]:
    out: dict[str, Value] = {}
    for name, keys in (("workflow", ("repo", "workflow")), ("branch", ("repo", "branch"))):
        group = [r for r in known if _same(keys, target)(r)]
        for n in WINDOWS:
            out[f"{name}_fail_rate_{n}"] = _rate(group[-n:])
    actor_known = target["actor"] is not None
    mine = [r for r in known if actor_known and r["actor"] == target["actor"]]
    overall = _rate(mine)
    out["actor_success_rate"] = None if overall is None else 1.0 - overall
    for n in WINDOWS:
        rate = _rate(mine[-n:])
        out[f"actor_success_rate_{n}"] = None if rate is None else 1.0 - rate
    durations = [r["duration_seconds"] for r in mine if r["duration_seconds"] is not None]
    out["actor_avg_duration"] = sum(durations) / len(durations) if durations else None
    out["actor_completed_runs"] = len(mine) if actor_known else None
    return out


def _repo_and_commit_features(target: Run, known: Sequence[Run], runs: Sequence[Run]) -> dict[str, Value]:
    t = target["created_at"]
    in_repo = [r for r in known if r["repo"] == target["repo"]]
    repo_labels = [r["failed"] for r in in_repo if r["failed"] is not None]
    repo_before = sum(1 for r in runs if r["repo"] == target["repo"] and r["created_at"] < t)
    out: dict[str, Value] = {
        "repo_prev_failed": float(repo_labels[-1]) if repo_labels else None,
        "since_repo_prev_finish": _seconds(t, _known_at(in_repo[-1])) if in_repo else None,
        "repo_runs_in_flight": repo_before - len(in_repo),
        f"repo_fail_rate_{REPO_WINDOW}": _rate(in_repo[-REPO_WINDOW:]),
    }
    for n in REPO_DURATION_WINDOWS:
        out[f"repo_duration_median{n}"] = _median(r["duration_seconds"] for r in in_repo[-n:])
    sha = target["head_sha"]
    built = [r for r in in_repo if sha is not None and r["head_sha"] == sha]
    labels = [r["failed"] for r in built if r["failed"] is not None]
    out["commit_prev_failed"] = float(labels[-1]) if labels else None
    out["commit_failures"] = None if sha is None else sum(1 for r in built if r["failed"])
    out["commit_completed_runs"] = None if sha is None else len(built)
    return out


def _change_features(target: Run) -> dict[str, Value]:
    added, deleted = target["lines_added"], target["lines_deleted"]
    churn = [target["src_churn"], target["test_churn"], target["doc_churn"]]
    total = None if any(c is None for c in churn) else sum(churn)

    def share(value: int | None) -> float | None:
        return value / total if total and value is not None else None

    def flag(value: bool | None) -> int | None:
        return None if value is None else int(value)

    created: datetime = target["created_at"]
    return {
        "hour": created.hour,
        "day_of_week": created.isoweekday(),
        "run_attempt": target["run_attempt"],
        "is_pr": flag(target["is_pr"]),
        "event": target["event"],
        "workflow": target["workflow"],
        "lines_added": added,
        "lines_deleted": deleted,
        "files_changed": target["files_changed"],
        "log_churn": None if added is None or deleted is None else math.log1p(added + deleted),
        "src_churn": target["src_churn"],
        "test_churn": target["test_churn"],
        "doc_churn": target["doc_churn"],
        "src_share": share(target["src_churn"]),
        "test_share": share(target["test_churn"]),
        "doc_share": share(target["doc_churn"]),
        "tests_added": target["tests_added"],
        "test_density": target["test_density"],
        "coverage": target["coverage"],
        "review_count": target["review_count"],
        "approval_seconds": target["approval_seconds"],
        "team_size": target["team_size"],
        "by_core_member": flag(target["by_core_member"]),
    }


def run_features(target: Run, runs: Sequence[Run]) -> dict[str, Value]:
    """Every feature of ``target`` as of its trigger, from ``runs`` (its history; may include it).

    Args:
        target: the run to describe.
        runs: runs of the organisation (any order); only those finished by ``target``'s trigger
            feed its history features, so passing later runs, or ``target`` itself, is harmless.

    Returns:
        Feature name → value (float, int, category string or None), the columns of
        ``build_run_features`` for this row.
    """
    known = [r for r in finished_in_order(runs) if _known_at(r) <= target["created_at"]]
    return {
        **_change_features(target),
        **_history_features(target, known, runs),
        **_group_features(target, known),
        **_repo_and_commit_features(target, known, runs),
    }
