"""Faults on the wire: the sync completes, or stops with a clear message and nothing half-written."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from pipelines.sources.base import SourceError
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from tests.conftest import FAKE_TOKEN
from tests.ingestion.sync import core_snapshot, raw_snapshot, sync
from warehouse.landing import LandingZone


@pytest.fixture
def baseline(devlake_recording: Recording, tmp_path: Path) -> dict[str, list[tuple[object, ...]]]:
    with GitHubDouble(devlake_recording, token=FAKE_TOKEN) as double:
        sync(double, tmp_path / "baseline")
    return core_snapshot(tmp_path / "baseline" / "warehouse.duckdb")


@pytest.mark.parametrize(
    ("kind", "path", "times"),
    [
        ("500", "/pulls", 2),
        ("502_html", "/issues", 2),
        ("timeout", "/actions/runs", 1),
        ("403_primary", "/issues/comments", 1),
        ("429_secondary", "/issues/events", 1),
        ("malformed_json", "/pulls/comments", 2),
        ("drop", "/pulls", 1),
        ("500", "/graphql", 1),
    ],
)
def test_transient_faults_are_retried_and_the_sync_completes(
    devlake_double: GitHubDouble,
    home: Path,
    baseline: dict[str, list[tuple[object, ...]]],
    kind: str,
    path: str,
    times: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    devlake_double.timeout_seconds = 2.5
    devlake_double.inject(kind, times=times, path_contains=path)  # type: ignore[arg-type]
    with caplog.at_level(logging.INFO):
        sync(devlake_double, home)
    assert core_snapshot(home / "warehouse.duckdb") == baseline
    faulted = [r for r in devlake_double.requests if r.status != 200 and r.status != 304]
    assert len(faulted) >= times, f"the {kind} fault was never served"
    if kind in {"403_primary", "429_secondary"}:
        assert any("waiting" in rec.getMessage() for rec in caplog.records), (
            "no log line says how long it waits"
        )


@pytest.mark.parametrize(
    ("kind", "path", "message"),
    [
        ("500", "/issues", "kept failing"),
        ("502_html", "/actions/runs", "kept failing"),
        ("drop", "/pulls/comments", "lost the connection"),
        ("malformed_json", "/issues/events", "malformed JSON"),
        ("timeout", "/issues/comments", "timed out"),
    ],
)
def test_persistent_faults_stop_with_a_clear_message_and_nothing_half_written(
    devlake_double: GitHubDouble, home: Path, kind: str, path: str, message: str
) -> None:
    sync(devlake_double, home)
    before = raw_snapshot(home / "warehouse.duckdb")
    ants = "panjf2000/ants"
    devlake_double.touch_pull_request(ants, 4, updated_at="2031-01-01T00:00:00Z")
    devlake_double.timeout_seconds = 2.5
    devlake_double.inject(kind, times=50, path_contains=path)  # type: ignore[arg-type]
    with pytest.raises(SourceError, match=message) as excinfo:
        sync(devlake_double, home, max_attempts=3)
    assert FAKE_TOKEN not in str(excinfo.value)
    assert "Traceback" not in str(excinfo.value)
    # The warehouse was not touched by the failed sync, and no partial batch file exists.
    assert raw_snapshot(home / "warehouse.duckdb") == before
    zone = LandingZone(home / "landing")
    assert not list((home / "landing").rglob(".*.tmp"))
    for landed in zone.pending():
        assert zone.read(landed)["rows"] is not None


def test_rate_limit_longer_than_allowed_stops_clearly(devlake_double: GitHubDouble, home: Path) -> None:
    devlake_double.inject("429_secondary", times=1, path_contains="/pulls")
    devlake_double.retry_after_seconds = 3600
    with pytest.raises(SourceError, match="longer than"):
        sync(devlake_double, home, max_rate_limit_wait=5)


def test_bad_token_is_refused_clearly_without_echoing_it(devlake_recording: Recording, home: Path) -> None:
    right_token = "ghp_the_right_one"
    with GitHubDouble(devlake_recording, token=right_token) as double, pytest.raises(SourceError) as excinfo:
        sync(double, home)
    text = str(excinfo.value)
    assert "401" in text and "GITHUB_TOKEN" in text
    assert FAKE_TOKEN not in text


def test_an_api_nobody_answers_at_is_named_not_called_a_timeout(home: Path) -> None:
    """urllib3 files a refused connection under timeouts: the message says where it tried instead."""
    from pipelines.sources.sample import generate_sample_org

    double = GitHubDouble(generate_sample_org(), token=FAKE_TOKEN)
    url = double.start()
    double.stop()  # nothing listens on its port any more
    with pytest.raises(SourceError) as excinfo:
        sync(double, home, repos=["repopilot-sample/docs-site"], max_attempts=2)
    text = str(excinfo.value)
    assert f"could not be reached at {url} (is GITHUB_API_URL right?)" in text, text
    assert "timed out" not in text and FAKE_TOKEN not in text
