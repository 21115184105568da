"""The reader copy: what it holds, that it is replaced whole, and the asset that writes it."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance

from actions.sla.github_data import MARKER
from pipelines import definitions
from pipelines.defs.ingestion import MART_SOURCES
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.defs.runner import run_assets
from warehouse.db import CORE_TABLES, build_core, build_marts, connect
from warehouse.reader import READER_FILE, write_reader


def read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A reader's connection as the dashboard opens one: its own instance, the file attached read-only.

    ``duckdb.connect(path)`` twice in one process shares one instance, and so one file, between them.
    """
    conn = duckdb.connect()
    conn.execute(f"ATTACH '{path}' AS read_copy (READ_ONLY)")
    conn.execute("USE read_copy")
    return conn


READER_SELECTION = "group:github_ingest or group:warehouse or group:marts or group:features or group:readers"


def _tables(conn: duckdb.DuckDBPyConnection, *, schemas: tuple[str, ...] | None = None) -> dict[str, int]:
    names = conn.execute("SELECT schema_name, table_name FROM duckdb_tables() ORDER BY ALL").fetchall()
    return {
        f"{s}.{t}": int(conn.execute(f'SELECT count(*) FROM "{s}"."{t}"').fetchall()[0][0])
        for s, t in names
        if schemas is None or s in schemas
    }


def test_the_asset_writes_last_in_the_hourly_refresh_and_takes_the_writer_pool() -> None:
    graph = definitions.defs.resolve_asset_graph()
    key = AssetKey("reader_warehouse")
    upstream = graph.get(key).parent_keys
    assert {AssetKey(f"core_{t}") for t in CORE_TABLES} <= upstream
    assert {AssetKey(f"marts_{m}") for m in MART_SOURCES} <= upstream
    assert {AssetKey(n) for n in ("run_features", "sla_clock_states", "failure_classes")} <= upstream
    assert definitions.defs.resolve_assets_def(key).node_def.pool == "warehouse_writer"  # type: ignore[attr-defined]
    refresh = definitions.defs.resolve_job_def("refresh_warehouse")
    assert key in refresh.asset_layer.executable_asset_keys
    training = definitions.defs.resolve_job_def("train_models")
    assert key not in training.asset_layer.executable_asset_keys


def test_the_demo_writes_a_reader_copy_without_raw_and_with_the_warehouses_rows(demo_home: Path) -> None:
    with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
        expected = _tables(conn, schemas=("core", "marts", "features", "ml"))
        sources = conn.execute("SELECT * FROM raw.sources ORDER BY repo").fetchall()
    with duckdb.connect(str(demo_home / READER_FILE), read_only=True) as conn:
        copied = _tables(conn)
        schemas = {row[0] for row in conn.execute("SELECT schema_name FROM duckdb_tables()").fetchall()}
        copied_sources = conn.execute("SELECT * FROM slim.sources ORDER BY repo").fetchall()
        manifest = conn.execute("SELECT format, written_at FROM slim.manifest").fetchall()
    assert "raw" not in schemas
    assert {f"core.{t}" for t in CORE_TABLES} <= set(expected)
    assert {k: v for k, v in copied.items() if not k.startswith("slim.")} == expected
    assert copied_sources == sources and len(sources) == 4
    assert manifest[0][0] == 1
    size = (demo_home / READER_FILE).stat().st_size
    assert size < (demo_home / "warehouse.duckdb").stat().st_size
    assert not [p for p in demo_home.iterdir() if p.name.startswith(f".{READER_FILE}")]  # no partial left


def _small_warehouse(path: Path, rows: int) -> None:
    with connect(path) as conn:
        build_core(conn)
        build_marts(conn)
        conn.execute(
            "CREATE OR REPLACE TABLE features.probe AS SELECT range AS i FROM range($n)", {"n": rows}
        )
        conn.execute(
            "INSERT INTO raw.issue_comments BY NAME SELECT 'o/r' AS repo, ?::VARCHAR AS key, "
            "?::JSON AS data, now() AS version, now() AS fetched_at",
            [
                str(rows),
                f'{{"id": {rows}, "issue_url": "https://api.github.com/repos/o/r/issues/7", '
                f'"created_at": "2026-10-30T12:00:00Z", "html_url": "h", "body": "{MARKER} n{rows}"}}',
            ],
        )
        conn.execute(
            "INSERT INTO raw.issue_comments BY NAME SELECT 'o/r' AS repo, 'x' || ?::VARCHAR AS key, "
            "?::JSON AS data, now() AS version, now() AS fetched_at",
            [str(rows), f'{{"id": {rows + 1000}, "body": "an ordinary comment"}}'],
        )


def test_replacing_the_reader_copy_keeps_an_open_connection_on_the_file_it_opened(tmp_path: Path) -> None:
    warehouse, reader = tmp_path / "warehouse.duckdb", tmp_path / READER_FILE
    _small_warehouse(warehouse, 3)
    with connect(warehouse) as conn:
        first = write_reader(conn, reader, comment_marker=MARKER)
    assert first.tables["features.probe"] == 3 and first.bytes == reader.stat().st_size
    old = read_only(reader)
    try:
        _small_warehouse(warehouse, 5)
        (tmp_path / f".{READER_FILE}.999.partial").write_bytes(b"left by a killed run")
        with connect(warehouse) as conn:  # the writer keeps its own lock; the open reader does not block it
            second = write_reader(conn, reader, comment_marker=MARKER)
        assert second.tables["features.probe"] == 5
        # the open connection still reads the complete file it opened; a new one reads the new file
        assert old.execute("SELECT count(*) FROM features.probe").fetchall() == [(3,)]
        assert old.execute("SELECT count(*) FROM core.ci_runs").fetchall() == [(0,)]
        with read_only(reader) as new:
            assert new.execute("SELECT count(*) FROM features.probe").fetchall() == [(5,)]
            comments = new.execute(
                "SELECT id, issue_number, body FROM slim.sla_comments ORDER BY id"
            ).fetchall()
    finally:
        old.close()
    assert comments == [(3, 7, f"{MARKER} n3"), (5, 7, f"{MARKER} n5")]  # only the SLA action's comments
    assert sorted(os.listdir(tmp_path)) == ["reader.duckdb", "warehouse.duckdb"]


def test_the_warehouse_lock_refuses_readers_but_the_reader_copy_does_not(tmp_path: Path) -> None:
    """Why the copy exists: while the pipeline holds the warehouse, the reader copy still opens."""
    warehouse, reader = tmp_path / "warehouse.duckdb", tmp_path / READER_FILE
    _small_warehouse(warehouse, 2)
    with connect(warehouse) as conn:
        write_reader(conn, reader, comment_marker=MARKER)
        script = (
            "import duckdb, sys\n"
            "try:\n    duckdb.connect(sys.argv[1], read_only=True)\n"
            "except duckdb.IOException:\n    print('locked')\n"
            "with duckdb.connect(sys.argv[2], read_only=True) as c:\n"
            "    print(c.execute('SELECT count(*) FROM features.probe').fetchall()[0][0])\n"
        )
        import subprocess
        import sys

        out = subprocess.run(
            [sys.executable, "-c", script, str(warehouse), str(reader)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.split()
    assert out == ["locked", "2"]


@pytest.mark.timeout(600)
def test_the_refresh_materialises_the_reader_copy_in_process(devlake_dir: Path, home: Path) -> None:
    summary = run_assets(
        HistorySourceResource(source=f"snapshot:{devlake_dir}"),
        WarehouseResource(home=str(home)),
        select=READER_SELECTION,
        instance=DagsterInstance.ephemeral(),
    )
    assert "reader_warehouse" in summary.materialized
    with duckdb.connect(str(home / READER_FILE), read_only=True) as conn:
        copied = _tables(conn)
    assert copied["core.pull_requests"] == summary.core_counts["pull_requests"] == 51
    assert copied["core.ci_runs"] == 35
    assert copied["slim.sources"] == 2
    assert not [name for name in copied if name.startswith("raw.")]
