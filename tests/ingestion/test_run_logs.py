"""The run_logs stream against the double: excerpts of failed attempts, once each, bounded, crash-safe."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest

from actions.healing.logs import excerpt_from_jobs, read_log_archive
from pipelines.sources.base import SourceError
from pipelines.sources.double import GitHubDouble
from pipelines.sources.github.helpers import parse_time
from pipelines.sources.github.source import GitHubSource
from pipelines.sources.ingest import land_stream
from pipelines.sources.recording import Recording
from pipelines.sources.run_logs import wants_logs
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.conftest import FAKE_TOKEN
from tests.ingestion.sync import settings_for
from warehouse.db import build_core, connect
from warehouse.landing import LandingZone
from warehouse.loader import load_landed

SPEC = SampleOrgSpec(
    repositories=1, people=5, days=20, pull_requests_per_repo=10, runs_per_repo=90, issues_per_repo=3
)
STREAMS = ("workflow_runs", "run_logs")


@pytest.fixture
def recording() -> Recording:
    return generate_sample_org(SPEC)


@pytest.fixture
def double(recording: Recording) -> Iterator[GitHubDouble]:
    with GitHubDouble(recording, token=FAKE_TOKEN) as served:
        yield served


def _failed_attempts(rec: Recording) -> set[tuple[int, int]]:
    repo = rec.repos[0]
    runs = [*rec.workflow_runs[repo], *(o for (r, _, _), o in rec.run_attempts.items() if r == repo)]
    return {(int(r["id"]), int(r.get("run_attempt") or 1)) for r in runs if wants_logs(r)}


def _sync(double: GitHubDouble, home: Path, **overrides: Any) -> None:
    repo = double.recording.repos[0]
    source = GitHubSource(settings_for(double, [repo], **overrides))
    zone = LandingZone(home / "landing")
    try:
        for stream in STREAMS:
            land_stream(source, repo, stream, zone)
    finally:
        source.close()
    with connect(home / "warehouse.duckdb") as conn:
        load_landed(conn, zone)
        build_core(conn)


def _excerpts(home: Path) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        return conn.execute(
            "SELECT run_id, run_attempt, job, status, lines, line_numbers, markers, error "
            "FROM core.ci_log_excerpts ORDER BY ALL"
        ).fetchall()


def _log_requests(double: GitHubDouble) -> tuple[list[str], list[str]]:
    api = [r.path for r in double.requests if r.path.endswith("/logs")]
    blobs = [r.path for r in double.requests if r.path.startswith("/_blobs/")]
    return api, blobs


def test_each_failed_attempt_is_read_once_as_its_excerpt(double: GitHubDouble, home: Path) -> None:
    rec = double.recording
    failed = _failed_attempts(rec)
    with_logs = {(run, attempt) for (_, run, attempt) in rec.logs}
    assert len(failed) >= 5 and with_logs <= failed, "the sample has failed attempts with archives"

    _sync(double, home)
    rows = _excerpts(home)
    assert {(r[0], r[1]) for r in rows} == failed
    assert {(r[0], r[1]) for r in rows if r[3] == "excerpt"} == with_logs
    # One attempt, compared with the excerpt read straight from its archive.
    (_, run_id, attempt), archive = next(iter(rec.logs.items()))
    expected = excerpt_from_jobs(read_log_archive(archive)).lines
    got = [r for r in rows if (r[0], r[1]) == (run_id, attempt)]
    stored = [(r[2], n, text, marker) for r in got for n, text, marker in zip(r[5], r[4], r[6], strict=True)]
    assert [(line.job, line.number, line.text, line.marker) for line in expected] == stored
    assert any(r[6] and any(r[6]) for r in got), "no marker line in the excerpt"

    api, blobs = _log_requests(double)
    assert len(api) == len(failed) == len(set(api))
    assert len(blobs) == len(with_logs)
    # The token goes to the API, never to the signed blob URL.
    assert all(r.authorization_seen for r in double.requests if r.path.endswith("/logs"))
    assert not any(r.authorization_seen for r in double.requests if r.path.startswith("/_blobs/"))

    double.reset_log()
    _sync(double, home)
    assert _log_requests(double) == ([], [])
    assert _excerpts(home) == rows


def test_expired_logs_are_recorded_unavailable(double: GitHubDouble, home: Path) -> None:
    rec = double.recording
    key = next(iter(rec.logs))
    del rec.logs[key]
    _sync(double, home)
    rows = [r for r in _excerpts(home) if (r[0], r[1]) == key[1:]]
    assert [(r[2], r[3], r[4]) for r in rows] == [("", "unavailable", [])]
    assert "HTTP 404" in rows[0][7]
    assert not any(str(key[1]) in path for path in _log_requests(double)[1])


def test_corrupt_and_oversized_archives_are_recorded_and_do_not_stop_the_sync(
    double: GitHubDouble, home: Path, tmp_path: Path
) -> None:
    rec = double.recording
    corrupt, *others = list(rec.logs)
    rec.logs[corrupt] = b"PK\x03\x04 this is not a zip archive"
    _sync(double, home)
    rows = _excerpts(home)
    broken = [r for r in rows if (r[0], r[1]) == corrupt[1:]]
    assert [(r[3], r[4]) for r in broken] == [("corrupt", [])]
    assert "zip" in broken[0][7]
    assert {(r[0], r[1]) for r in rows if r[3] == "excerpt"} == {k[1:] for k in others}

    smallest = min(len(archive) for archive in rec.logs.values())
    capped = tmp_path / "capped"
    capped.mkdir()
    double.reset_log()
    _sync(double, capped, max_log_bytes=smallest - 1)
    statuses = {r[3] for r in _excerpts(capped) if (r[0], r[1]) in {k[1:] for k in rec.logs}}
    assert statuses == {"too_large"}


def test_a_new_failed_attempt_is_fetched_and_earlier_ones_are_not_again(
    double: GitHubDouble, home: Path
) -> None:
    rec = double.recording
    repo = rec.repos[0]
    _sync(double, home)
    newest = max(rec.workflow_runs[repo], key=lambda r: str(r["created_at"]))
    run = max(
        (r for r in rec.workflow_runs[repo] if (repo, r["id"], r["run_attempt"]) in rec.logs),
        key=lambda r: str(r["created_at"]),
    )
    lag = parse_time(newest["created_at"]) - parse_time(run["created_at"])  # type: ignore[operator]
    assert lag < timedelta(hours=72), "the re-run must fall inside the look-back window"
    attempt = int(run["run_attempt"]) + 1
    rerun = {**run, "run_attempt": attempt, "updated_at": "2030-01-01T00:00:00Z"}
    rec.logs[(repo, run["id"], attempt)] = rec.logs[(repo, run["id"], attempt - 1)]
    double.add_workflow_run(repo, rerun)

    double.reset_log()
    _sync(double, home)
    api, blobs = _log_requests(double)
    assert api == [f"/repos/{repo}/actions/runs/{run['id']}/attempts/{attempt}/logs"]
    assert len(blobs) == 1
    statuses = {(r[1], r[3]) for r in _excerpts(home) if r[0] == run["id"]}
    assert (attempt, "excerpt") in statuses and (attempt - 1, "excerpt") in statuses


def test_a_sync_dropped_while_downloading_resumes_without_refetching(
    double: GitHubDouble, home: Path, tmp_path: Path
) -> None:
    uninterrupted = tmp_path / "uninterrupted"
    uninterrupted.mkdir()
    _sync(double, uninterrupted, logs_per_batch=2)
    expected = _excerpts(uninterrupted)
    failed = len(_failed_attempts(double.recording))
    blob_order = _log_requests(double)[1]
    assert len(blob_order) >= 6

    double.reset_log()
    double.inject("drop", times=2, path_contains=blob_order[5])  # two attempts: max_attempts below
    with pytest.raises(SourceError, match="download"):
        _sync(double, home, logs_per_batch=2, max_attempts=2)
    first_api, _ = _log_requests(double)
    double.reset_log()
    _sync(double, home, logs_per_batch=2)
    second_api, _ = _log_requests(double)
    assert _excerpts(home) == expected
    # The batches landed before the drop are not asked again; the interrupted one (at most 2) is.
    assert 0 < len(set(first_api) & set(second_api)) <= 2
    assert len(second_api) < failed
    assert len(set(first_api) | set(second_api)) == failed
