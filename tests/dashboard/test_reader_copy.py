"""The dashboard reads the pipeline's reader copy in place, and a snapshot only without one."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from actions.sla.github_data import MARKER
from dashboards.snapshot import StaleReaderError, open_reader, read_copy
from tests.dashboard.conftest import PAGES
from warehouse.reader import READER_FILE, write_reader


def _counts(at: AppTest) -> tuple[int, ...]:
    text = " ".join(c.value for c in at.caption)
    found = re.search(r"([\d,]+) completed runs, ([\d,]+) failed", text)
    assert found is not None, text
    return tuple(int(g.replace(",", "")) for g in found.groups())


def _sidebar(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.sidebar.caption, *at.sidebar.warning, *at.sidebar.error])


def _messages(at: AppTest) -> str:
    return " ".join(str(e.value) for e in [*at.error, *at.info, *at.warning, *at.sidebar.error])


def test_the_demo_is_read_from_its_reader_copy(app: Callable[[Path, str], AppTest], demo_home: Path) -> None:
    at = app(demo_home, "overview")
    assert not at.exception, [e.value for e in at.exception]
    assert "Reader copy written" in _sidebar(at)
    assert "No reader copy" not in _sidebar(at)
    with duckdb.connect(str(demo_home / READER_FILE), read_only=True) as conn:
        runs, failed = conn.execute("SELECT sum(runs), sum(failures) FROM marts.ci_weekly").fetchone()  # type: ignore[misc]
    assert _counts(at) == (runs, failed)


def test_a_warehouse_without_a_reader_copy_is_read_through_a_snapshot_with_the_same_figures(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")  # built before the reader copy
    legacy = app(home, "overview")
    assert not legacy.exception, [e.value for e in legacy.exception]
    assert "No reader copy" in _sidebar(legacy) and "repopilot run" in _sidebar(legacy)
    assert _counts(legacy) == _counts(app(demo_home, "overview"))
    assert not (home / READER_FILE).exists()  # the dashboard only reads the data directory


def test_a_corrupt_reader_copy_is_passed_over_for_the_warehouse_and_named(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path
) -> None:
    shutil.copyfile(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    (home / READER_FILE).write_bytes(b"\x00garbage, not DuckDB\x00" * 4096)
    at = app(home, "overview")
    assert not at.exception, [e.value for e in at.exception]
    assert "reader copy was passed over" in _sidebar(at) and "not a readable DuckDB" in _sidebar(at)
    assert _counts(at) == _counts(app(demo_home, "overview"))


@pytest.mark.parametrize("page", [p for p in PAGES if p != "model"])
def test_a_corrupt_reader_copy_alone_is_named_as_such(
    app: Callable[[Path, str], AppTest], home: Path, page: str
) -> None:
    (home / READER_FILE).write_bytes(b"\x00garbage, not DuckDB\x00" * 4096)
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    text = _messages(at)
    assert "cannot be read" in text and READER_FILE in text and "repopilot run" in text, text


def test_a_reader_copy_of_another_format_is_not_read(demo_home: Path, tmp_path: Path) -> None:
    old = tmp_path / READER_FILE
    shutil.copyfile(demo_home / READER_FILE, old)
    with duckdb.connect(str(old)) as conn:
        conn.execute("UPDATE slim.manifest SET format = 0")
    with pytest.raises(StaleReaderError, match="another format"):
        open_reader(old)
    shutil.copyfile(demo_home / "warehouse.duckdb", tmp_path / "warehouse.duckdb")
    copy = read_copy(tmp_path, tmp_path / "private")  # what a notebook opens: the warehouse's snapshot
    assert copy.path.parent == tmp_path / "private"


@pytest.mark.parametrize("page", ["overview", "ci", "sla"])
def test_a_reader_copy_lacking_a_table_says_to_rebuild(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path, page: str
) -> None:
    shutil.copyfile(demo_home / READER_FILE, home / READER_FILE)
    with duckdb.connect(str(home / READER_FILE)) as conn:
        conn.execute("DROP TABLE slim.sources")
    at = app(home, page)
    assert not at.exception, [e.value for e in at.exception]
    assert any("older version of repopilot" in e.value for e in at.error), _messages(at)


def test_a_reader_copy_replaced_under_an_open_session_shows_the_new_file(
    app: Callable[[Path, str], AppTest], demo_home: Path, home: Path, tmp_path: Path
) -> None:
    shutil.copyfile(demo_home / READER_FILE, home / READER_FILE)
    at = app(home, "overview")
    before = _counts(at)
    newer = tmp_path / "warehouse.duckdb"
    shutil.copyfile(demo_home / "warehouse.duckdb", newer)
    with duckdb.connect(str(newer)) as conn:  # another pipeline run: the newest week's runs gone
        conn.execute(
            "DELETE FROM core.ci_runs "
            "WHERE created_at > (SELECT max(created_at) FROM core.ci_runs) - INTERVAL 7 DAY"
        )
        write_reader(conn, home / READER_FILE, comment_marker=MARKER)  # os.replace under the session
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    after = _counts(at)
    assert after[0] < before[0] and after[1] <= before[1]
    old = app(tmp_path, "overview")  # the same figures as reading that warehouse directly
    assert _counts(old) == after
