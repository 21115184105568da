"""The token never reaches anything a whole run writes: warehouse, models, model card, exports, Dagster."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pipelines.sources.double import GitHubDouble
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.conftest import FAKE_TOKEN
from tests.ingestion.sync import cli_env

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _run(home: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "-v", "--home", str(home), "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=800,
        check=False,
    )


def test_token_absent_from_a_whole_run_with_publishing_and_a_refused_publish(tmp_path: Path) -> None:
    organisation = generate_sample_org(
        SampleOrgSpec(repositories=2, pull_requests_per_repo=60, runs_per_repo=500, issues_per_repo=40)
    )
    home = tmp_path / "home"
    with GitHubDouble(organisation, token=FAKE_TOKEN) as double:
        env = cli_env(double) | {"REPOPILOT_EXPORTS_REPO": organisation.repos[0]}
        whole = _run(home, env)
        published = [r for r in double.requests if r.method == "POST" and "/git/" in r.path]
        refused = _run(home, env | {"GITHUB_TOKEN": FAKE_TOKEN[::-1]}, "--select", "group:exports")
    assert whole.returncode == 0, whole.stderr[-3000:]
    assert published, "the exports were not published, so the token was never used to write"
    assert (home / "models" / "current" / "model_card.md").is_file()
    assert (home / "exports" / "manifest.json").is_file()
    assert refused.returncode == 1 and "Bad credentials" in refused.stderr  # the cause, not the token
    for text in (whole.stdout, whole.stderr, refused.stdout, refused.stderr):
        assert FAKE_TOKEN not in text and FAKE_TOKEN[::-1] not in text
    written = [p for p in home.rglob("*") if p.is_file()]
    assert len(written) > 20
    for secret in (FAKE_TOKEN.encode(), FAKE_TOKEN[::-1].encode()):
        assert [p for p in written if secret in p.read_bytes()] == []
