"""Shared by the re-run tests: one sample organisation behind the double per module, restored after each test.

Generating the sample organisation takes seconds, so a module shares one double; re-runs change
runs in place, so each test gets the recording back as it found it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import JSON

SAMPLE_END = datetime(2026, 11, 1, tzinfo=UTC)
"""When the sample organisation's recording was taken: the tests' clock."""


@contextmanager
def restored(double: GitHubDouble) -> Iterator[GitHubDouble]:
    """Undo, on exit, every change made to runs, attempts, logs and the re-run log of ``double``."""
    rec = double.recording
    runs = {repo: [dict(run) for run in items] for repo, items in rec.workflow_runs.items()}
    attempts = dict(rec.run_attempts)
    logs = dict(rec.logs)
    reruns = len(double.writes.reruns)
    try:
        yield double
    finally:
        for repo, items in rec.workflow_runs.items():
            for run, saved in zip(items, runs[repo], strict=True):
                run.clear()
                run.update(saved)
        rec.run_attempts.clear()
        rec.run_attempts.update(attempts)
        rec.logs.clear()
        rec.logs.update(logs)
        del double.writes.reruns[reruns:]
        double.invalidate()


def latest_runs(double: GitHubDouble) -> dict[tuple[str, int], JSON]:
    """The latest attempt of every run, by ``(repo, run id)``."""
    return {
        (repo, int(run["id"])): run for repo, items in double.recording.workflow_runs.items() for run in items
    }


def failed_with_logs(double: GitHubDouble) -> list[tuple[str, JSON]]:
    """Runs whose latest attempt failed and has a log archive, newest first."""
    latest = latest_runs(double)
    found: list[tuple[str, Any]] = []
    for repo, run_id, attempt in double.recording.logs:
        run = latest.get((repo, run_id))
        if (
            run is not None
            and run.get("run_attempt", 1) == attempt
            and run.get("conclusion") in {"failure", "timed_out"}
        ):
            found.append((repo, run))
    return sorted(found, key=lambda item: str(item[1]["created_at"]), reverse=True)
