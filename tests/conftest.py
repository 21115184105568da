"""Shared fixtures: the shared real data, temporary homes, the GitHub API double."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from pipelines.sources.snapshot import read_devlake_snapshot

FAKE_TOKEN = "ghp_REPOPILOTFAKETOKEN0123456789abcdefXYZ"  # recognisable, so tests can search for it


def shared_data_dir() -> Path:
    return Path(
        os.environ.get("REPOPILOT_SHARED_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
    )


def require_shared(relative: str) -> Path:
    """Path under the shared data, or skip (fail when REQUIRE_SHARED_DATA=1) if absent."""
    path = shared_data_dir() / relative
    if not path.exists():
        message = f"shared data not found: {path} (set REPOPILOT_SHARED_DATA)"
        if os.environ.get("REQUIRE_SHARED_DATA") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(scope="session")
def devlake_dir() -> Path:
    return require_shared("github-api/devlake-ants")


@pytest.fixture
def devlake_recording(devlake_dir: Path) -> Recording:
    return read_devlake_snapshot(devlake_dir)


@pytest.fixture
def devlake_double(devlake_recording: Recording) -> Iterator[GitHubDouble]:
    with GitHubDouble(devlake_recording, token=FAKE_TOKEN) as double:
        yield double


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture(scope="session")
def demo_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data directory holding the demo (`repopilot run` on the sample organisation), built once.

    Shared by the dashboard and notebook tests, which only read it: copy it before writing.
    """
    from pipelines.cli import main

    home = tmp_path_factory.mktemp("demo") / "home"
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "GITHUB_TOKEN",
            "REPOPILOT_REPOS",
            "REPOPILOT_SOURCE",
            "REPOPILOT_EXPORTS_REPO",
            "REPOPILOT_FAILURE_TEXT",
        ):
            patch.delenv(name, raising=False)
        assert main(["--home", str(home), "run"]) == 0
    assert (home / "exports" / "manifest.json").is_file()
    return home


@pytest.fixture(autouse=True)
def _no_write_spacing(monkeypatch: pytest.MonkeyPatch) -> None:
    """GitHub asks integrations to space writes a second apart; the loopback double does not need it."""
    monkeypatch.setenv("REPOPILOT_WRITE_SPACING_SECONDS", "0")
