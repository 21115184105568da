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


def test_a_locked_warehouse_fails_with_the_lock_error_once_and_keeps_the_data(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    import duckdb

    for name in ("GITHUB_TOKEN", "REPOPILOT_REPOS", "REPOPILOT_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    database = home / "warehouse.duckdb"
    with duckdb.connect(str(database)) as db:
        db.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    holder = subprocess.Popen(  # another process writing: DuckDB allows one writer at a time
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({str(database)!r}); print('ok'); sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ok"
        code = main(["--home", str(home), "run", "--select", "group:features"])
    finally:
        holder.communicate("", timeout=30)
    err = capsys.readouterr().err
    assert code == 1
    # the cause, not Dagster's "Error occurred while executing op" wrapper, and one line for all steps
    (line,) = [line for line in err.splitlines() if line.startswith("repopilot: error:")]
    assert "Error occurred while executing op" not in line
    assert line.count("Could not set lock on file") == 1
    assert "run_features" in line and "reviewer_stats" in line
    with duckdb.connect(str(database), read_only=True) as db:
        assert db.execute("SELECT answer FROM kept").fetchone() == (42,)
