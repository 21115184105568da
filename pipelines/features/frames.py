"""Small helpers the feature transforms share: column checks and UTC normalisation."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import polars as pl

from pipelines.features.schemas import UTC_TIME


def require_columns(frame: pl.DataFrame, name: str, columns: Iterable[str]) -> None:
    """Fail clearly when an input frame lacks columns.

    Raises:
        ValueError: naming the frame and the missing columns.
    """
    missing = [column for column in columns if column not in frame.columns]
    if missing:
        raise ValueError(f"{name} lacks the columns {missing}")


def utc_column(frame: pl.DataFrame, name: str) -> pl.Expr:
    """Column ``name`` of ``frame`` as UTC microseconds; naive timestamps are taken as UTC.

    DuckDB hands timestamps over as ``Etc/UTC`` and Polars will not compare that with ``UTC``,
    so every transform normalises its inputs first.
    """
    dtype = frame.schema[name]
    column = pl.col(name)
    if isinstance(dtype, pl.Datetime):
        column = (
            column.dt.replace_time_zone("UTC")
            if dtype.time_zone is None
            else column.dt.convert_time_zone("UTC")
        )
    return column.cast(UTC_TIME).alias(name)


def as_utc(frame: pl.DataFrame, *columns: str) -> pl.DataFrame:
    """``frame`` with the given timestamp columns normalised by :func:`utc_column`."""
    return frame.with_columns([utc_column(frame, name) for name in columns])


def utc_instant(as_of: datetime) -> datetime:
    """An aware instant in UTC.

    Raises:
        ValueError: for a naive datetime (whose zone would be a guess).
    """
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        raise ValueError("as_of must be timezone-aware")
    return as_of.astimezone(UTC)
