"""The source interface every origin of GitHub history implements.

A source lists its repositories and, for one repository and stream, yields :class:`Batch`es:
rows for raw tables plus, on the batch that completes a traversal, the stream's new state
(cursor, ETag, ...). The landing zone writes each batch atomically, and the loader commits a
batch's rows and its state in one warehouse transaction, so a stream killed at any point
resumes from the last committed state without gaps or duplicates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from pipelines.sources.recording import Recording
from pipelines.sources.run_logs import excerpt_records, unavailable, wants_logs
from pipelines.sources.streams import STREAMS

JSON = dict[str, Any]


class SourceError(RuntimeError):
    """A source could not deliver data; the message says why and what to do, never a secret.

    Attributes:
        status: the HTTP status GitHub answered, when the error is an HTTP refusal.
    """

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Batch:
    """Objects fetched together, per raw table, as ``(object, parent)`` pairs.

    Attributes:
        rows: raw table name → list of ``(API object, parent key or None)``.
        state: the stream's state once these rows are committed, or ``None`` to keep the
            previous state (an unfinished traversal must not move the cursor).
        requests: HTTP requests spent on this batch, by outcome (``"200"``, ``"304"``, ...).
    """

    rows: dict[str, list[tuple[JSON, str | None]]] = field(default_factory=dict)
    state: JSON | None = None
    requests: dict[str, int] = field(default_factory=dict)

    def add(self, table: str, obj: JSON, parent: str | None = None) -> None:
        """Append one object to a raw table of this batch."""
        self.rows.setdefault(table, []).append((obj, parent))

    def object_count(self) -> int:
        """Number of objects across all tables."""
        return sum(len(items) for items in self.rows.values())


class HistorySource(Protocol):
    """Where GitHub history comes from (live API, recording, sample organisation)."""

    label: str
    synthetic: bool

    def repositories(self) -> list[str]:
        """Repositories (``owner/name``) this source covers."""
        ...

    def fetch(self, repo: str, stream: str, states: Mapping[str, JSON]) -> Iterator[Batch]:
        """Yield batches of ``stream`` for ``repo``, resuming from ``states[stream]``.

        ``states`` holds the current state of every stream of the repository, because some
        streams depend on others (details of the pull requests that changed, checks of the
        open pull requests' heads).
        """
        ...

    def close(self) -> None:
        """Release connections."""
        ...


@runtime_checkable
class RemoteSource(Protocol):
    """A source behind a network API, which can be asked whether it is reachable before a sync."""

    def check_reachable(self) -> None:
        """Return when the API answers; raise :class:`SourceError` when it cannot be reached."""
        ...


def _log_records(rec: Recording, repo: str, run: JSON) -> list[JSON]:
    run_id, attempt = int(run["id"]), int(run.get("run_attempt") or 1)
    archive = rec.logs.get((repo, run_id, attempt))
    return [unavailable(run_id, attempt)] if archive is None else excerpt_records(run_id, attempt, archive)


class RecordingSource:
    """A source that serves an in-memory :class:`Recording` in full, one batch per stream.

    Used for the recorded snapshots and the sample organisation; upserts make a full re-read
    idempotent, so no cursor is needed.
    """

    def __init__(self, recording: Recording, label: str) -> None:
        self.recording = recording
        self.label = label
        self.synthetic = recording.synthetic

    def repositories(self) -> list[str]:
        """Repositories of the recording."""
        return list(self.recording.repos)

    def fetch(self, repo: str, stream: str, states: Mapping[str, JSON]) -> Iterator[Batch]:
        """Yield every object of the stream's tables for ``repo`` as a single batch."""
        if stream not in STREAMS:
            raise SourceError(f"unknown stream {stream!r}; known: {', '.join(STREAMS)}")
        if repo not in self.recording.repos:
            raise SourceError(f"repository {repo!r} is not in source {self.label}")
        rec = self.recording
        batch = Batch(state={"complete": True})
        if stream == "pull_requests":
            for obj in rec.pull_requests.get(repo, []):
                batch.add("pull_requests", obj)
        elif stream == "pull_request_details":
            for (r, number), reviews in rec.reviews.items():
                if r == repo:
                    for obj in reviews:
                        batch.add("reviews", obj, str(number))
            for (r, number), files in rec.pr_files.items():
                if r == repo:
                    for obj in files:
                        batch.add("pr_files", obj, str(number))
        elif stream == "workflow_runs":
            for obj in rec.workflow_runs.get(repo, []):
                batch.add("workflow_runs", obj)
            for (r, _run, _attempt), obj in rec.run_attempts.items():
                if r == repo:
                    batch.add("workflow_runs", obj)
            for (r, _run, _attempt), jobs in rec.jobs.items():
                if r == repo:
                    for obj in jobs:
                        batch.add("jobs", obj)
        elif stream == "pr_head_checks":
            for (r, sha), checks in rec.check_runs.items():
                if r == repo:
                    for obj in checks:
                        batch.add("check_runs", obj, sha)
            for (r, sha), statuses in rec.commit_statuses.items():
                if r == repo:
                    for obj in statuses:
                        batch.add("commit_statuses", obj, sha)
        elif stream == "run_logs":
            earlier = [obj for (r, _run, _attempt), obj in rec.run_attempts.items() if r == repo]
            for run in [*rec.workflow_runs.get(repo, []), *earlier]:
                if wants_logs(run):
                    for obj in _log_records(rec, repo, run):
                        batch.add("run_log_excerpts", obj)
        else:
            listing: dict[str, list[JSON]] = getattr(rec, stream)
            for obj in listing.get(repo, []):
                batch.add(stream, obj)
        yield batch

    def close(self) -> None:
        """Nothing to release."""
