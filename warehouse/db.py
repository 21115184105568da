"""DuckDB connections and the SQL files of the warehouse.

The warehouse is one DuckDB file, ``$REPOPILOT_HOME/warehouse.duckdb``. DuckDB allows one
writing process at a time, and refuses a read-only open from another process while it writes;
readers (dashboard, notebooks) therefore read the reader copy the pipeline writes beside it
(:mod:`warehouse.reader`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from functools import cache
from importlib import resources
from pathlib import Path

import duckdb

from pipelines.sources.streams import RAW_TABLES

CORE_SOURCES: dict[str, tuple[str, ...]] = {
    "pull_requests": ("pull_requests",),
    "reviews": ("reviews",),
    "pr_files": ("pr_files",),
    "issues": ("issues",),
    "comments": ("issue_comments", "review_comments"),
    "issue_events": ("issue_events",),
    "ci_runs": ("workflow_runs",),
    "ci_jobs": ("jobs",),
    "ci_log_excerpts": ("run_log_excerpts",),
    "check_runs": ("check_runs",),
    "commit_statuses": ("commit_statuses",),
    "people": ("pull_requests", "reviews", "issue_comments", "review_comments", "issues", "issue_events"),
    "run_changes": ("pr_files", "reviews", "pull_requests", "workflow_runs"),
}
"""Each core table and the raw tables it is built from (``travis_builds`` feeds runs too)."""

CORE_TABLES = tuple(CORE_SOURCES)

CORE_KEYS: dict[str, tuple[str, ...]] = {
    "pull_requests": ("repo", "id"),
    "reviews": ("repo", "id"),
    "pr_files": ("repo", "pull_number", "filename"),
    "issues": ("repo", "id"),
    "comments": ("repo", "kind", "id"),
    "issue_events": ("repo", "id"),
    "ci_runs": ("repo", "id", "run_attempt"),
    "ci_jobs": ("repo", "id"),
    "ci_log_excerpts": ("repo", "run_id", "run_attempt", "job"),
    "check_runs": ("repo", "id"),
    "commit_statuses": ("repo", "sha", "id"),
    "people": ("login",),
    "run_changes": ("repo", "id", "run_attempt"),
}
"""The columns that identify one row of each core table."""


@cache
def sql(name: str) -> str:
    """Return the text of ``warehouse/sql/<name>.sql`` (``name`` may contain a sub-folder)."""
    return resources.files("warehouse").joinpath("sql", f"{name}.sql").read_text(encoding="utf-8")


def core_model_names() -> list[str]:
    """The core model files, in the order they must run."""
    folder = resources.files("warehouse").joinpath("sql", "core")
    return sorted(
        f"core/{entry.name.removesuffix('.sql')}" for entry in folder.iterdir() if entry.name.endswith(".sql")
    )


def raw_table_sql(template: str, table: str) -> str:
    """Fill a raw-table template with a table name from the fixed list of raw tables.

    Raises:
        ValueError: for a name that is not a raw table (identifiers are never user input).
    """
    if table not in RAW_TABLES:
        raise ValueError(f"unknown raw table {table!r}")
    return sql(template).replace("{table}", table)


def connect(path: Path, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open the warehouse at ``path``, creating schemas and raw tables unless read-only."""
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    conn = duckdb.connect(str(path), read_only=read_only)
    conn.execute("SET TimeZone = 'UTC'")
    if not read_only:
        ensure_schema(conn)
    return conn


def ensure_schema(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the schemas, bookkeeping tables and every raw table if missing."""
    conn.execute(sql("schema"))
    for table in RAW_TABLES:
        conn.execute(raw_table_sql("raw_table", table))
    conn.execute(sql("travistorrent/empty"))


def _names(folder: str) -> list[str]:
    directory = resources.files("warehouse").joinpath("sql", folder)
    return sorted(
        f"{folder}/{e.name.removesuffix('.sql')}" for e in directory.iterdir() if e.name.endswith(".sql")
    )


def build_marts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild the ``marts`` tables from ``core``; return row counts."""
    names = _names("marts")
    for name in names:
        conn.execute(sql(name))
    return table_counts(conn, "marts", [n.split("/", 1)[1] for n in names])


def data_as_of(conn: duckdb.DuckDBPyConnection) -> datetime | None:
    """The newest event time in the core tables (``None`` for an empty warehouse)."""
    # fetchall, not fetchone: DuckDB keeps a partly fetched result open on the connection.
    rows = conn.execute(sql("features/as_of")).fetchall()
    value = rows[0][0] if rows else None
    return value.astimezone(UTC) if isinstance(value, datetime) else None


def create_feature_inputs(conn: duckdb.DuckDBPyConnection) -> None:
    """Create the views the feature code reads (``features.run_inputs``)."""
    conn.execute(sql("features/run_inputs"))


def build_core(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Rebuild every ``core`` table from ``raw`` in one transaction; return row counts."""
    conn.execute("BEGIN TRANSACTION")
    try:
        for name in core_model_names():
            conn.execute(sql(name))
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    return table_counts(conn, "core", CORE_TABLES)


def table_exists(conn: duckdb.DuckDBPyConnection, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists."""
    rows = conn.execute(sql("table_exists"), {"schema": schema, "table": table}).fetchall()
    return bool(rows[0][0])


def table_counts(
    conn: duckdb.DuckDBPyConnection, schema: str, tables: tuple[str, ...] | list[str]
) -> dict[str, int]:
    """Row count of each ``schema.table`` (0 for a missing table)."""
    present = {
        row[0]
        for row in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = $schema",
            {"schema": schema},
        ).fetchall()
    }
    counts: dict[str, int] = {}
    for table in tables:
        if table in present:
            rows = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchall()  # noqa: S608 - fixed names
            counts[table] = int(rows[0][0])
        else:
            counts[table] = 0
    return counts


def preview(conn: duckdb.DuckDBPyConnection, relation: str, limit: int = 5) -> str:
    """The first rows of a table as a markdown table, for asset metadata."""
    cursor = conn.execute(f"SELECT * FROM {relation} LIMIT {int(limit)}")  # noqa: S608 - fixed names
    columns = [d[0] for d in cursor.description or []]
    rows = cursor.fetchall()

    def cell(value: object) -> str:
        text = "" if value is None else str(value)
        return (text[:40] + "…" if len(text) > 40 else text).replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def derived_table_counts(conn: duckdb.DuckDBPyConnection) -> dict[str, int]:
    """Row counts of every table in ``marts``, ``features`` and ``ml``, keyed ``schema.table``."""
    tables = conn.execute(
        "SELECT schema_name, table_name, estimated_size FROM duckdb_tables() "
        "WHERE schema_name IN ('marts', 'features', 'ml') ORDER BY schema_name, table_name"
    ).fetchall()
    return {f"{schema}.{table}": int(size) for schema, table, size in tables}
