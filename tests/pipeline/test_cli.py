"""The repopilot command: runs, and clear errors for bad input."""

from __future__ import annotations

import warnings
from pathlib import Path

import duckdb
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


def test_a_failed_step_is_reported_by_its_cause_once_without_a_traceback(
    home: Path, capfd: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A warehouse file that is not DuckDB: one line naming it, not Dagster's wrapper, and left as it was."""
    for name in ("GITHUB_TOKEN", "REPOPILOT_REPOS", "REPOPILOT_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    corrupt = bytes(range(256)) * 40
    (home / "warehouse.duckdb").write_bytes(corrupt)
    with warnings.catch_warnings(record=True) as warned:
        warnings.simplefilter("always")
        assert main(["--home", str(home), "ingest"]) == 1
    assert [w.message for w in warned if "beta" in str(w.message).lower()] == []
    err = capfd.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("repopilot: error:"), err  # no warnings either
    assert "not a valid DuckDB database file" in lines[0]
    assert lines[0].count("not a valid DuckDB") == 1  # steps with the same cause share one line
    assert "Error occurred while executing op" not in err and "Traceback" not in err
    assert (home / "warehouse.duckdb").read_bytes() == corrupt


def test_selecting_one_asset_of_a_multi_asset_runs_its_siblings(
    devlake_dir: Path, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The raw loader writes every raw table in one transaction: selecting one of them runs it whole."""
    source = f"snapshot:{devlake_dir}"
    assert main(["--home", str(home), "run", "--source", source, "--select", "group:github_ingest"]) == 0
    assert main(["--home", str(home), "run", "--source", source, "--select", "raw_pull_requests"]) == 0
    assert "assets:       12 materialised" in capsys.readouterr().out  # the loader's twelve raw tables
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        pulls = conn.execute("SELECT count(*) FROM raw.pull_requests").fetchone()
        issues = conn.execute("SELECT count(*) FROM raw.issues").fetchone()
    assert pulls is not None and pulls[0] > 0 and issues is not None and issues[0] > 0
