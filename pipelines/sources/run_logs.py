"""Failure excerpts of failed attempts' log archives: what the ``run_logs`` stream stores.

A run's log archive can be hundreds of megabytes; what explains the failure is a few dozen lines.
So the archive is read once (bounded: :func:`actions.healing.logs.read_log_archive` rejects zip
bombs and corrupt members), cut to its failure excerpt
(:func:`actions.healing.logs.excerpt_from_jobs`) and dropped; ``raw.run_log_excerpts`` keeps
one object per job of the excerpt: its lines, their line numbers in the job's log, and which of
them carry a failure marker.

An attempt whose archive could not be used still gets one object (``job`` empty) saying why, so
it is never asked for again: ``unavailable`` (GitHub answered 404 or 410: logs expire after the
repository's retention period, 90 days by default), ``too_large`` (above the download cap),
``corrupt`` (not a readable archive) or ``empty`` (an archive without a single log line).
"""

from __future__ import annotations

from typing import Any, Literal

from actions.common.conclusions import FAILED_CONCLUSIONS
from actions.healing.logs import LogArchiveError, excerpt_from_jobs, read_log_archive

JSON = dict[str, Any]

LogStatus = Literal["excerpt", "unavailable", "too_large", "corrupt", "empty"]
LOG_STATUSES: tuple[LogStatus, ...] = ("excerpt", "unavailable", "too_large", "corrupt", "empty")

MAX_LOG_BYTES = 32 * 1024 * 1024
"""Default cap on a downloaded archive (compressed); bigger ones are recorded as ``too_large``."""


def wants_logs(run: JSON) -> bool:
    """Whether ``run`` (one attempt, REST shape) is a completed failed attempt whose logs explain it.

    Failed as :data:`~actions.common.conclusions.FAILED_CONCLUSIONS` says: a cancelled attempt explains
    no failure.
    """
    conclusion = str(run.get("conclusion") or "").lower()
    return str(run.get("status") or "").lower() == "completed" and conclusion in FAILED_CONCLUSIONS


def _record(run_id: int, attempt: int, status: LogStatus, **extra: Any) -> JSON:
    return {
        "run_id": int(run_id),
        "run_attempt": int(attempt),
        "job": "",
        "status": status,
        "lines": [],
        "line_numbers": [],
        "markers": [],
        "archive_bytes": None,
        "error": None,
        **extra,
    }


def unavailable(run_id: int, attempt: int, status: int = 404) -> JSON:
    """The record of an attempt whose logs GitHub no longer has (it answered ``status``)."""
    return _record(
        run_id, attempt, "unavailable", error=f"HTTP {status}: the logs expired or were never kept"
    )


def too_large(run_id: int, attempt: int, size: int, cap: int) -> JSON:
    """The record of an archive above the download cap (``size`` is what was seen before stopping)."""
    return _record(
        run_id, attempt, "too_large", archive_bytes=size, error=f"log archive larger than {cap:,} bytes"
    )


def excerpt_records(run_id: int, attempt: int, archive: bytes) -> list[JSON]:
    """One record per job of the archive's failure excerpt, or one record saying why there is none."""
    try:
        jobs = read_log_archive(archive)
    except LogArchiveError as exc:
        return [_record(run_id, attempt, "corrupt", archive_bytes=len(archive), error=str(exc)[:500])]
    by_job: dict[str, JSON] = {}
    for line in excerpt_from_jobs(jobs).lines:
        record = by_job.get(line.job)
        if record is None:
            record = by_job[line.job] = _record(
                run_id, attempt, "excerpt", job=line.job, archive_bytes=len(archive)
            )
        record["lines"].append(line.text)
        record["line_numbers"].append(line.number)
        record["markers"].append(line.marker)
    if not by_job:
        return [_record(run_id, attempt, "empty", archive_bytes=len(archive))]
    return list(by_job.values())
