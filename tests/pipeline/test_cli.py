"""The repopilot command: runs, and clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.cli import main


def test_run_on_snapshot_prints_counts_and_ui_hint(
    devlake_dir: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(home), "run", "--source", f"snapshot:{devlake_dir}"]) == 0
    out = capsys.readouterr().out
    assert "core.pull_requests" in out and "51 rows" in out
    assert str(home / "warehouse.duckdb") in out
    assert "dagster dev" in out
    assert "SYNTHETIC" not in out
    # 35 runs are too few to train and judge a model: reported as a refused promotion.
    assert "not promoted: promotion_gate on candidate_models: no candidate model" in out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--source", "nowhere"], "unknown source"),
        (["run", "--source", "snapshot:/does/not/exist"], "does not exist"),
        (["ingest", "--source", "github"], "GITHUB_TOKEN"),
        (["run", "--source", "snapshot:{devlake}", "--select", "no_such_asset"], "no_such_asset"),
    ],
)
def test_bad_input_fails_with_a_clear_message(
    argv: list[str],
    message: str,
    home: Path,
    devlake_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    argv = [a.replace("{devlake}", str(devlake_dir)) for a in argv]
    assert main(["--home", str(home), *argv]) != 0
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err
    assert not (home / "warehouse.duckdb").exists()
