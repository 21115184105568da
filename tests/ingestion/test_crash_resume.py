"""A sync killed part-way and re-run leaves the warehouse identical to an uninterrupted sync."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipelines.sources.base import SourceError
from pipelines.sources.double import GitHubDouble
from tests.ingestion.sync import cli_env, core_snapshot, raw_snapshot, sync


@pytest.fixture
def uninterrupted(devlake_double: GitHubDouble, tmp_path: Path) -> Path:
    sync(devlake_double, tmp_path / "uninterrupted")
    devlake_double.reset_log()
    return tmp_path / "uninterrupted" / "warehouse.duckdb"


@pytest.mark.parametrize("after", [1, 4, 9, 17, 30])
def test_connection_dropped_after_n_requests_then_resumed(
    devlake_double: GitHubDouble, home: Path, uninterrupted: Path, after: int
) -> None:
    devlake_double.drop_after = after
    with pytest.raises(SourceError, match="lost the connection"):
        sync(devlake_double, home, max_attempts=2)
    devlake_double.drop_after = None
    sync(devlake_double, home)
    assert core_snapshot(home / "warehouse.duckdb") == core_snapshot(uninterrupted)
    assert raw_snapshot(home / "warehouse.duckdb") == raw_snapshot(uninterrupted)


def _ingest_command(home: Path) -> list[str]:
    return [sys.executable, "-m", "pipelines.cli", "--home", str(home), "ingest", "--source", "github"]


@pytest.mark.parametrize(
    ("stall_on", "landed_stream"), [("/issues/comments", "issues"), ("/actions/runs", "issue_events")]
)
def test_process_killed_with_sigkill_then_rerun(
    devlake_double: GitHubDouble, home: Path, uninterrupted: Path, stall_on: str, landed_stream: str
) -> None:
    # Stall one request so the kill lands mid-sync, after earlier streams have landed batches.
    devlake_double.timeout_seconds = 20
    devlake_double.inject("timeout", times=1, path_contains=stall_on)
    proc = subprocess.Popen(
        _ingest_command(home), env=cli_env(devlake_double), stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    # The stream before the stalled one has landed its batch: the fetcher now waits on the stall.
    deadline = time.monotonic() + 90
    while not list((home / "landing").glob(f"*/{landed_stream}/0*.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    landed_before_kill = list((home / "landing").rglob("0*.json"))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert landed_before_kill, "nothing had landed before the kill"

    rerun = subprocess.run(
        _ingest_command(home),
        env=cli_env(devlake_double),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert core_snapshot(home / "warehouse.duckdb") == core_snapshot(uninterrupted)
    assert raw_snapshot(home / "warehouse.duckdb") == raw_snapshot(uninterrupted)
