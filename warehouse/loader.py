"""The single loader: landed batches → ``raw`` tables and stream states, in one transaction."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from warehouse.db import raw_table_sql, sql
from warehouse.landing import LandedBatch, LandingZone

JSON = dict[str, Any]


@dataclass
class LoadReport:
    """What one load did."""

    batches: int = 0
    rows_by_table: Counter[str] = field(default_factory=Counter)
    states_advanced: int = 0
    temporary_files_removed: int = 0

    def rows(self) -> int:
        """Rows upserted over all tables."""
        return sum(self.rows_by_table.values())


def _incoming(repo: str, rows: list[JSON], fetched_at: str) -> pa.Table:
    # Within one upsert a key may appear once: keep the newest version (later wins on ties).
    newest: dict[str, JSON] = {}
    for row in rows:
        current = newest.get(row["key"])
        if current is None or (row["version"] or "") >= (current["version"] or ""):
            newest[row["key"]] = row
    kept = list(newest.values())
    return pa.table(
        {
            "repo": pa.array([repo] * len(kept), pa.string()),
            "key": pa.array([r["key"] for r in kept], pa.string()),
            "parent": pa.array([r["parent"] for r in kept], pa.string()),
            "version": pa.array([r["version"] for r in kept], pa.string()),
            "data": pa.array([json.dumps(r["data"], separators=(",", ":")) for r in kept], pa.string()),
            "fetched_at": pa.array([fetched_at] * len(kept), pa.string()),
        }
    )


def load_landed(conn: duckdb.DuckDBPyConnection, zone: LandingZone) -> LoadReport:
    """Upsert every pending batch and advance stream states, all or nothing.

    The committed-state copies in the landing zone are written and the batch files removed
    only after the warehouse commit succeeded.
    """
    report = LoadReport()
    report.temporary_files_removed = sum(1 for _ in zone.clear_temporary())
    pending = zone.pending()
    if not pending:
        return report
    states: dict[tuple[str, str], tuple[int, JSON]] = {}
    sources: dict[str, tuple[str, bool]] = {}
    loaded: list[LandedBatch] = []
    conn.execute("BEGIN TRANSACTION")
    try:
        for landed in pending:
            payload = zone.read(landed)
            for table, rows in payload["rows"].items():
                if not rows:
                    continue
                incoming = _incoming(landed.repo, rows, payload["fetched_at"])
                conn.register("incoming", incoming)
                conn.execute(raw_table_sql("upsert_raw", table))
                conn.unregister("incoming")
                report.rows_by_table[table] += incoming.num_rows
            if payload.get("state") is not None:
                states[(landed.repo, landed.stream)] = (landed.seq, payload["state"])
            sources[landed.repo] = (payload["source"], bool(payload["synthetic"]))
            loaded.append(landed)
        for (repo, stream), (seq, state) in states.items():
            conn.execute(
                sql("upsert_state"),
                {"repo": repo, "stream": stream, "state": json.dumps(state), "batch_seq": seq},
            )
        for repo, (source, synthetic) in sources.items():
            conn.execute(sql("upsert_source"), {"repo": repo, "source": source, "synthetic": synthetic})
        conn.execute("COMMIT")
    except Exception:
        conn.execute("ROLLBACK")
        raise
    zone.mark_committed(loaded, states)
    report.batches = len(loaded)
    report.states_advanced = len(states)
    return report
