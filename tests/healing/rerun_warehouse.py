"""A small real warehouse of re-run attempts: rows in the core tables, classes by the pipeline's own code.

Runs and log excerpts go into ``core.ci_runs`` and ``core.ci_log_excerpts`` (made by ``build_core``
on an empty warehouse, so with their real columns); ``features.failure_classes`` is then built as
the ``failure_classes`` asset builds it, by the action's classifier reading the excerpts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pipelines.features.failure_classes import failure_classes
from warehouse.db import build_core, connect
from warehouse.frames import read_query, write_table

T0 = datetime(2026, 10, 1, tzinfo=UTC)

LOGS: dict[str, tuple[str, ...]] = {
    "transient": (
        "curl: (56) Recv failure: Connection reset by peer",
        "Error: Process completed with exit code 56.",
    ),
    "dependency": (
        "npm ERR! code ETARGET",
        "npm ERR! notarget No matching version found for left-pad@9.9.9",
    ),
    "permanent": (
        "FAILED tests/test_api.py::test_total - AssertionError: assert 1 == 2",
        "Error: Process completed with exit code 1.",
    ),
}
"""A failure excerpt the classifier puts in each class (checked by the tests that use them)."""


@dataclass(frozen=True)
class Attempt:
    """One attempt of a run: its conclusion and, for a failure with a log read, the class of its excerpt."""

    conclusion: str | None
    log: str | None = None
    status: str = "completed"
    lines: tuple[str, ...] = ()  # the excerpt, instead of the class's one in LOGS


@dataclass(frozen=True)
class Run:
    """A workflow run of ``repo`` with its attempts in order."""

    repo: str
    workflow: str
    attempts: tuple[Attempt, ...]
    head_sha: str | None = None
    created_at: datetime | None = None  # of the first attempt; T0 plus the run's number of hours if None


def reruns(repo: str, workflow: str, log: str | None, failed_then: Iterable[str]) -> list[Run]:
    """Runs whose first attempt failed (a ``log`` class excerpt) and was re-run once, one per outcome."""
    return [Run(repo, workflow, (Attempt("failure", log), Attempt(outcome))) for outcome in failed_then]


def build_rerun_warehouse(path: Path, runs: Iterable[Run]) -> Path:
    """Write the runs, their excerpts and their failure classes to a warehouse at ``path``."""
    run_rows: list[tuple[object, ...]] = []
    excerpt_rows: list[tuple[object, ...]] = []
    for run_id, run in enumerate(runs, start=1):
        for number, attempt in enumerate(run.attempts, start=1):
            created = (run.created_at or T0 + timedelta(hours=run_id)) + timedelta(minutes=number)
            run_rows.append(
                (
                    "github",
                    run_id,
                    number,
                    run.repo,
                    run.workflow,
                    f".github/workflows/{run.workflow.lower()}.yml",
                    attempt.status,
                    attempt.conclusion,
                    created,
                    run.head_sha,
                )
            )
            if attempt.log is not None or attempt.lines:
                lines = list(attempt.lines or LOGS[str(attempt.log)])
                excerpt_rows.append(
                    (
                        run_id,
                        number,
                        run.repo,
                        "build",
                        "excerpt",
                        lines,
                        list(range(10, 10 + len(lines))),
                        [True] * len(lines),
                    )
                )
    with connect(path) as conn:
        build_core(conn)
        conn.executemany(
            "INSERT INTO core.ci_runs (source, id, run_attempt, repo, workflow_name, workflow_path, status, "
            "conclusion, created_at, head_sha) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            run_rows,
        )
        conn.executemany(
            "INSERT INTO core.ci_log_excerpts (run_id, run_attempt, repo, job, status, lines, line_numbers, "
            "markers) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            excerpt_rows,
        )
        write_table(
            conn,
            "features",
            "failure_classes",
            failure_classes(read_query(conn, "features/failure_inputs", {})),
        )
    return path
