"""Moving Polars frames in and out of the warehouse (the feature code itself does no I/O)."""

from __future__ import annotations

import duckdb
import polars as pl

from warehouse.db import sql

_SCHEMAS = frozenset({"features", "marts", "ml"})


def read_relation(conn: duckdb.DuckDBPyConnection, relation: str) -> pl.DataFrame:
    """All rows of a table or view (``schema.name``, a fixed name from the code) as a Polars frame."""
    frame: pl.DataFrame = conn.sql(f"SELECT * FROM {relation}").pl()  # noqa: S608 - relation names are code constants
    return frame


def read_query(conn: duckdb.DuckDBPyConnection, name: str, params: dict[str, object]) -> pl.DataFrame:
    """The rows of the query ``warehouse/sql/<name>.sql`` with ``params`` bound, as a Polars frame."""
    frame: pl.DataFrame = conn.sql(sql(name), params=params).pl()
    return frame


def write_table(conn: duckdb.DuckDBPyConnection, schema: str, table: str, frame: pl.DataFrame) -> int:
    """Replace ``schema.table`` with ``frame`` in one statement; return the row count.

    Raises:
        ValueError: for a schema the feature code may not write, or a table name that is not an identifier.
    """
    if schema not in _SCHEMAS or not table.isidentifier():
        raise ValueError(f"refusing to write {schema}.{table}")
    arrow = frame.to_arrow()
    conn.register("frame_to_write", arrow)
    try:
        conn.execute(f"CREATE OR REPLACE TABLE {schema}.{table} AS SELECT * FROM frame_to_write")  # noqa: S608
    finally:
        conn.unregister("frame_to_write")
    return frame.height
