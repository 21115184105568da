"""A token that may not read check runs (a fine-grained one: GitHub offers it no Checks permission).

The sync still completes, with every other table and the commit statuses, and says so once per
repository; any other refusal still stops it.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.sources.base import SourceError
from pipelines.sources.double import GitHubDouble
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.conftest import FAKE_TOKEN
from tests.ingestion.sync import sync
from warehouse.db import connect, table_counts

SPEC = SampleOrgSpec(repositories=2, pull_requests_per_repo=40, runs_per_repo=80, issues_per_repo=10)


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    with GitHubDouble(generate_sample_org(SPEC), token=FAKE_TOKEN) as served:
        yield served


def _counts(home: Path) -> dict[str, int]:
    with connect(home / "warehouse.duckdb", read_only=True) as conn:
        return table_counts(conn, "core", ("check_runs", "commit_statuses", "pull_requests", "ci_runs"))


def test_the_double_refuses_like_github(double: GitHubDouble) -> None:
    repo = double.recording.repos[0]
    double.inject("403_forbidden", path_contains="/check-runs")
    request = urllib.request.Request(
        f"{double.url}/repos/{repo}/commits/abc/check-runs", headers={"Authorization": f"token {FAKE_TOKEN}"}
    )
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(request)
    assert refused.value.code == 403
    assert refused.value.headers["X-Accepted-GitHub-Permissions"] == "checks=read"
    assert refused.value.headers["X-RateLimit-Remaining"] != "0"  # not a rate limit
    assert json.loads(refused.value.read())["message"] == "Resource not accessible by personal access token"


def test_check_runs_refused_are_skipped_and_the_sync_completes(
    double: GitHubDouble, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    sync(double, tmp_path / "full")
    full = _counts(tmp_path / "full")
    assert full["check_runs"] > 0 and full["commit_statuses"] > 0  # the sample has both to lose

    double.inject("403_forbidden", times=10_000, path_contains="/check-runs")
    with caplog.at_level(logging.WARNING, logger="repopilot.github"):
        sync(double, tmp_path / "refused")
    refused = _counts(tmp_path / "refused")
    assert refused == full | {"check_runs": 0}
    warnings = [r.getMessage() for r in caplog.records if "check runs" in r.getMessage()]
    assert len(warnings) == len(double.recording.repos), warnings
    assert "Checks permission" in warnings[0]


def test_other_refusals_still_stop_the_sync(double: GitHubDouble, tmp_path: Path) -> None:
    double.inject("403_forbidden", times=10_000, path_contains="/issues")
    with pytest.raises(SourceError) as stopped:
        sync(double, tmp_path)
    assert stopped.value.status == 403
