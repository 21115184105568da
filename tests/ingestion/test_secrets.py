"""The token never appears in logs, output, the warehouse, the landing zone, Dagster's storage or errors."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.sources.base import SourceError
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from tests.conftest import FAKE_TOKEN
from tests.ingestion.sync import cli_env, sync


def _ingest(home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "-v", "--home", str(home), "ingest"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def _files_containing(root: Path, needle: bytes) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file() and needle in p.read_bytes()]


def test_token_absent_from_logs_errors_and_storage_in_process(
    devlake_double: GitHubDouble,
    home: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    devlake_double.inject("500", times=1, path_contains="/pulls")
    devlake_double.inject("429_secondary", times=1, path_contains="/issues")
    with caplog.at_level(logging.DEBUG):
        sync(devlake_double, home)
        devlake_double.inject("500", times=20, path_contains="/actions/runs")
        devlake_double.touch_pull_request("panjf2000/ants", 4, updated_at="2031-01-01T00:00:00Z")
        with pytest.raises(SourceError) as excinfo:
            sync(devlake_double, home, max_attempts=2)
    captured = capsys.readouterr()
    assert caplog.records, "nothing was logged, so the check below would prove nothing"
    assert FAKE_TOKEN not in caplog.text
    assert FAKE_TOKEN not in captured.out + captured.err
    assert FAKE_TOKEN not in str(excinfo.value) and FAKE_TOKEN not in repr(excinfo.value)
    assert any(r.authorization_seen for r in devlake_double.requests), "the token was not even sent"
    assert _files_containing(home, FAKE_TOKEN.encode()) == []


def test_token_absent_from_cli_output_and_dagster_storage(
    devlake_recording: Recording, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    with GitHubDouble(devlake_recording, token=FAKE_TOKEN) as double:
        double.inject("502_html", times=1, path_contains="/issues/events")
        ok = _ingest(home, cli_env(double))
        refused = _ingest(home, cli_env(double, token=FAKE_TOKEN[::-1]))
    assert ok.returncode == 0, ok.stderr[-3000:]
    assert "core.pull_requests" in ok.stdout
    assert refused.returncode != 0
    assert "401" in refused.stderr
    for text in (ok.stdout, ok.stderr, refused.stdout, refused.stderr):
        assert FAKE_TOKEN not in text
        assert FAKE_TOKEN[::-1] not in text
    assert (home / "dagster").is_dir() and (home / "warehouse.duckdb").is_file()
    assert _files_containing(home, FAKE_TOKEN.encode()) == []
    assert _files_containing(home, FAKE_TOKEN[::-1].encode()) == []
