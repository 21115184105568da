"""Load a TravisTorrent-schema build table (Parquet or CSV) into ``raw.travis_builds``."""

from __future__ import annotations

from pathlib import Path

import duckdb

from warehouse.db import sql

REQUIRED_COLUMNS = (
    "tr_build_id",
    "gh_project_name",
    "gh_is_pr",
    "gh_pull_req_num",
    "git_branch",
    "git_trigger_commit",
    "tr_prev_build",
    "gh_build_started_at",
    "tr_status",
    "tr_duration",
    "git_diff_src_churn",
    "git_diff_test_churn",
    "gh_diff_files_added",
    "gh_diff_files_deleted",
    "gh_diff_files_modified",
    "gh_diff_tests_added",
    "gh_diff_doc_files",
    "gh_test_lines_per_kloc",
    "gh_team_size",
    "gh_by_core_team_member",
    "tr_log_num_tests_failed",
    "tr_log_num_tests_run",
)
"""Columns the core models map (the TravisTorrent schema of ``../shared/data/travistorrent``)."""


class TravisTorrentError(ValueError):
    """The file is not a TravisTorrent build table; the message says what is wrong."""


def load_travistorrent(conn: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Replace ``raw.travis_builds`` with the builds in ``path``; return the row count.

    The file is checked before anything is replaced, and the replacement is one transaction,
    so a bad file leaves the warehouse as it was.

    Raises:
        TravisTorrentError: if the file is missing, unreadable or lacks required columns.
    """
    if not path.is_file():
        raise TravisTorrentError(f"TravisTorrent table {str(path)!r} does not exist")
    if path.suffix not in {".parquet", ".csv"}:
        raise TravisTorrentError(f"TravisTorrent table {str(path)!r} must be a .parquet or .csv file")
    reader = "read_parquet" if path.suffix == ".parquet" else "read_csv_auto"
    try:
        columns = {
            row[0]
            for row in conn.execute(f"DESCRIBE SELECT * FROM {reader}($path)", {"path": str(path)}).fetchall()  # noqa: S608
        }
    except duckdb.Error as exc:
        raise TravisTorrentError(f"cannot read TravisTorrent table {str(path)!r}: {exc}") from None
    missing = [c for c in REQUIRED_COLUMNS if c not in columns]
    if missing:
        raise TravisTorrentError(
            f"{path.name} is not a TravisTorrent build table: missing {', '.join(missing)}"
        )
    statement = sql("travistorrent/load")
    if reader != "read_parquet":
        statement = statement.replace("read_parquet($path)", "read_csv_auto($path)")
    conn.execute("BEGIN TRANSACTION")
    try:
        conn.execute(statement, {"path": str(path)})
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    rows = conn.execute("SELECT count(*) FROM raw.travis_builds").fetchall()
    return int(rows[0][0])
