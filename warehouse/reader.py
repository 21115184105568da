"""The reader copy: a slim DuckDB file holding only what the dashboard and notebooks read.

``$REPOPILOT_HOME/reader.duckdb`` holds every table of ``core``, ``marts``, ``features`` and
``ml``, plus a ``slim`` schema: ``slim.sources`` (where the history came from, from
``raw.sources``), ``slim.sla_comments`` (the SLA action's own issue comments, typed, from
``raw.issue_comments``) and ``slim.manifest`` (format and write time). It never holds the
``raw`` schema, whose API JSON is most of the warehouse and which no reader needs.

The pipeline writes it after the tables it copies are rebuilt, inside the warehouse's single
write connection: the copy goes to a temporary file in the same folder, is checkpointed and
synced, then ``os.replace`` puts it in place. A reader therefore only ever opens a complete
file, and a connection opened before a replacement keeps reading the file it opened (POSIX
keeps a replaced file alive while it is open).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from warehouse.db import sql, table_exists

READER_FILE = "reader.duckdb"
READER_FORMAT = 1
"""Bumped when the reader copy's layout changes; readers refuse a copy of another format."""

READER_SCHEMAS = ("core", "marts", "features", "ml")
"""Warehouse schemas copied whole (``raw`` is not: readers use two small parts of it, below)."""

SLIM_SCHEMA = "slim"
"""The reader copy's own schema (not ``reader``: a file ``reader.duckdb`` opens as catalog ``reader``)."""

_ALIAS = "reader_copy"
"""The name the new file is attached under (the SQL files of ``warehouse/sql/reader`` use it)."""


@dataclass(frozen=True)
class ReaderReport:
    """What :func:`write_reader` wrote.

    Attributes:
        path: the reader copy, in place.
        tables: rows of each table copied, keyed ``schema.table``.
        bytes: the file's size.
        seconds: how long writing took.
    """

    path: Path
    tables: dict[str, int]
    bytes: int
    seconds: float


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def write_reader(conn: duckdb.DuckDBPyConnection, target: Path, *, comment_marker: str) -> ReaderReport:
    """Copy what readers use from the warehouse ``conn`` has as its default database to ``target``.

    Tables missing from the warehouse (an older schema) are missing from the copy too, so a
    reader reports them as it would on the warehouse.

    Args:
        conn: a connection whose current database is the warehouse (read-write: ATTACH writes).
        target: where the reader copy goes (replaced atomically).
        comment_marker: the marker the SLA action puts in its comments (``slim.sla_comments``).

    Returns:
        The tables and rows copied, the file's size and the time taken.
    """
    started = time.perf_counter()
    target.parent.mkdir(parents=True, exist_ok=True)
    for leftover in target.parent.glob(f".{target.name}.*.partial*"):  # a killed run's; one writer at a time
        leftover.unlink(missing_ok=True)
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    tables = [
        (str(schema), str(table))
        for schema, table in conn.execute(sql("reader/tables"), {"schemas": list(READER_SCHEMAS)}).fetchall()
    ]
    conn.execute(f"ATTACH {path_literal(partial)} AS {_ALIAS}")
    try:
        for schema in READER_SCHEMAS:
            conn.execute(f"CREATE SCHEMA {_ALIAS}.{schema}")
        for schema, table in tables:
            name = f"{_quoted(schema)}.{_quoted(table)}"
            conn.execute(f"CREATE TABLE {_ALIAS}.{name} AS SELECT * FROM {name}")  # noqa: S608 - catalogue names
        _write_slim(conn, comment_marker)
        counts = _row_counts(conn)
        conn.execute(f"CHECKPOINT {_ALIAS}")  # everything in the main file: the log is not moved with it
    except BaseException:
        conn.execute(f"DETACH {_ALIAS}")
        _remove(partial)
        raise
    conn.execute(f"DETACH {_ALIAS}")
    with partial.open("rb") as handle:
        os.fsync(handle.fileno())  # on disk before it is named: a crash leaves the old copy, not a torn one
    os.replace(partial, target)
    return ReaderReport(target, counts, target.stat().st_size, time.perf_counter() - started)


def _write_slim(conn: duckdb.DuckDBPyConnection, comment_marker: str) -> None:
    """Write the ``slim`` schema into the attached copy from the raw tables of the current database."""
    conn.execute(f"CREATE SCHEMA IF NOT EXISTS {_ALIAS}.{SLIM_SCHEMA}")
    if table_exists(conn, "raw", "sources"):
        conn.execute(sql("reader/sources"))
    if table_exists(conn, "raw", "issue_comments"):
        conn.execute(sql("reader/sla_comments"), {"marker": comment_marker})
    conn.execute(sql("reader/manifest"), {"format": READER_FORMAT, "written_at": datetime.now(UTC)})


def add_slim_schema(path: Path, *, comment_marker: str) -> None:
    """Add the reader copy's ``slim`` schema to a whole copy of the warehouse, in place.

    For a reader's private snapshot of a warehouse that has no reader copy: the snapshot then
    answers every reader query, at the cost of the small ``slim`` tables rather than of copying
    every table again. Idempotent: a file that has a manifest is left as it is.

    Args:
        path: the private copy (never the warehouse the pipeline writes).
        comment_marker: the marker the SLA action puts in its comments (``slim.sla_comments``).
    """
    with duckdb.connect() as conn:
        conn.execute(f"ATTACH {path_literal(path)} AS {_ALIAS}")
        conn.execute(f"USE {_ALIAS}")
        if table_exists(conn, SLIM_SCHEMA, "manifest"):
            return
        _write_slim(conn, comment_marker)
        conn.execute(f"CHECKPOINT {_ALIAS}")


def _row_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rows of every table of the attached copy, keyed ``schema.table``."""
    counts = {}
    for schema, table in conn.execute(sql("reader/copied"), {"database": _ALIAS}).fetchall():
        name = f"{_ALIAS}.{_quoted(schema)}.{_quoted(table)}"
        counts[f"{schema}.{table}"] = int(conn.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0])  # noqa: S608
    return counts


def path_literal(path: Path) -> str:
    """A path as a SQL string literal (ATTACH takes no bound parameters)."""
    return "'" + str(path).replace("'", "''") + "'"


def _remove(path: Path) -> None:
    """Delete a leftover partial copy and its write-ahead log."""
    path.unlink(missing_ok=True)
    path.with_name(path.name + ".wal").unlink(missing_ok=True)
