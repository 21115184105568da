"""Fixtures of the action tests: the sample organisation behind the double, a workflow step's environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.sources.double import GitHubDouble
from pipelines.sources.sample import generate_sample_org
from tests.conftest import FAKE_TOKEN


@pytest.fixture
def sample_double() -> Iterator[GitHubDouble]:
    """The GitHub API double serving the sample organisation the demo home was built from."""
    with GitHubDouble(generate_sample_org(), token=FAKE_TOKEN) as double:
        yield double


@pytest.fixture
def action_env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, sample_double: GitHubDouble
) -> dict[str, Path]:
    """The environment of a workflow step: token, API URL, output, summary and audit files."""
    files = {name: tmp_path / name for name in ("output", "summary", "audit.jsonl")}
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", sample_double.url)
    monkeypatch.setenv("GITHUB_OUTPUT", str(files["output"]))
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(files["summary"]))
    monkeypatch.setenv("REPOPILOT_AUDIT_LOG", str(files["audit.jsonl"]))
    monkeypatch.setenv("RUNNER_TEMP", str(tmp_path / "runner"))
    monkeypatch.delenv("GITHUB_EVENT_PATH", raising=False)
    monkeypatch.delenv("REPOPILOT_EXPORTS", raising=False)
    return files
