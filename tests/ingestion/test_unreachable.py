"""An API that cannot be reached fails ingestion in seconds and in one line; a lost connection is retried."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import urllib3.util.retry
from dagster import DagsterInstance, materialize

from pipelines.cli import main
from pipelines.defs.ingestion import landed_assets
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.sources.base import SourceError
from pipelines.sources.double import GitHubDouble
from pipelines.sources.github.client import GitHubClient
from pipelines.sources.github.settings import GitHubSettings
from pipelines.sources.recording import Recording
from tests.conftest import FAKE_TOKEN


@pytest.fixture
def closed_url() -> Iterator[str]:
    """A loopback port bound but not listening: every connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits between attempts, recorded instead of slept (urllib3 retries the first failure at once)."""
    waited: list[float] = []
    monkeypatch.setattr(urllib3.util.retry.time, "sleep", waited.append)
    return waited


def _settings(url: str) -> GitHubSettings:
    return GitHubSettings.model_validate({"api_url": url, "token": FAKE_TOKEN, "repos": ["octo/hello"]})


def test_an_api_never_reached_fails_after_the_short_retry(closed_url: str, sleeps: list[float]) -> None:
    client = GitHubClient(_settings(closed_url))  # six attempts per request by default
    with pytest.raises(SourceError) as raised:
        client.get("/repos/octo/hello/pulls")
    message = str(raised.value)
    assert f"could not be reached at {closed_url}" in message and "after 3 attempts" in message
    assert len(sleeps) == 1 and FAKE_TOKEN not in message


def test_a_connection_lost_after_the_api_answered_gets_every_attempt(sleeps: list[float]) -> None:
    with GitHubDouble(Recording(repos=["octo/hello"]), token=FAKE_TOKEN) as double:
        client = GitHubClient(_settings(double.url))
        client.get("/repos/octo/hello")
    # the double has stopped: its port refuses connections now, mid-sync for this client
    with pytest.raises(SourceError) as raised:
        client.get("/repos/octo/hello/pulls")
    assert "could no longer be reached" in str(raised.value) and "after 6 attempts" in str(raised.value)
    assert len(sleeps) == 4  # six attempts are five retries of GithubRetry, the first one immediate


def test_ingest_against_an_unreachable_api_says_so_in_one_line_and_writes_nothing(
    closed_url: str,
    sleeps: list[float],
    home: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("REPOPILOT_REPOS", "octo/hello")
    monkeypatch.setenv("GITHUB_API_URL", closed_url)
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    before = (home / "warehouse.duckdb").read_bytes()
    assert main(["--home", str(home), "ingest", "--source", "github"]) == 2
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        f"repopilot: error: GitHub could not be reached at {closed_url} (is GITHUB_API_URL right?) "
        "on GET /rate_limit after 3 attempts; nothing partial was written, re-run to resume"
    ]
    assert FAKE_TOKEN not in lines[0] and len(sleeps) == 1
    assert (home / "warehouse.duckdb").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["warehouse.duckdb"]


def test_each_ingestion_asset_fails_after_the_short_retry(
    closed_url: str, sleeps: list[float], home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The scheduled runs (no preflight): every stream gives up on the API in its first attempts."""
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    with DagsterInstance.ephemeral() as instance:
        instance.add_dynamic_partitions("repository", ["octo/hello"])
        result = materialize(
            landed_assets,
            partition_key="octo/hello",
            instance=instance,
            resources={
                "history": HistorySourceResource(source="github", repos="octo/hello", api_url=closed_url),
                "warehouse": WarehouseResource(home=str(home)),
            },
            raise_on_error=False,
        )
    failures = [event for event in result.all_events if event.is_step_failure]
    assert failures and not result.success
    for event in failures:
        error = event.step_failure_data.error
        text = str(error.cause.message if error and error.cause else error.message if error else "")
        assert "could not be reached" in text and "after 3 attempts" in text, text
    assert len(sleeps) == len(failures)
