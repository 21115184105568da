"""The landing zone: fetched batches as files, waiting for the single warehouse loader.

DuckDB allows one writing process, while repository partitions fetch in parallel processes.
So fetchers never write the warehouse: each batch becomes one JSON file, written to a temporary
name, flushed and renamed (atomic on POSIX), under ``landing/<owner>__<name>/<stream>/``. The
loader upserts pending files and advances the stream states in one transaction, then records
the committed state next to the files (``_committed.json``) and deletes them.

A fetcher resumes from the newest state it can see: the last pending batch that carries one,
else the committed state. A crash between the warehouse commit and the clean-up replays
batches that are already in (upserts make that harmless); the committed copy can lag the
warehouse but never lead it, so a resume may re-read, never skip.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pipelines.sources.base import Batch
from pipelines.sources.streams import RAW_TABLES, STREAMS

JSON = dict[str, Any]
_COMMITTED = "_committed.json"


@dataclass(frozen=True)
class LandedBatch:
    """A batch file waiting to be loaded."""

    path: Path
    repo: str
    stream: str
    seq: int


def repo_slug(repo: str) -> str:
    """Folder name of a repository (``owner/name`` → ``owner__name``)."""
    return repo.replace("/", "__")


def _write_atomically(path: Path, payload: JSON) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with tmp.open("w", encoding="utf-8") as handle:
        json.dump(payload, handle, separators=(",", ":"))
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class LandingZone:
    """Batch files per repository and stream under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _folder(self, repo: str, stream: str) -> Path:
        return self.root / repo_slug(repo) / stream

    def _batch_files(self, repo: str, stream: str) -> list[Path]:
        folder = self._folder(repo, stream)
        if not folder.is_dir():
            return []
        return sorted(p for p in folder.glob("*.json") if p.name != _COMMITTED)

    def _committed(self, repo: str, stream: str) -> JSON:
        path = self._folder(repo, stream) / _COMMITTED
        if not path.exists():
            return {"seq": 0, "state": {}}
        committed: JSON = json.loads(path.read_text(encoding="utf-8"))
        return committed

    def state(self, repo: str, stream: str) -> JSON:
        """The state a fetch of ``stream`` should resume from."""
        for path in reversed(self._batch_files(repo, stream)):
            payload = json.loads(path.read_text(encoding="utf-8"))
            if payload.get("state") is not None:
                state: JSON = payload["state"]
                return state
        committed_state: JSON = self._committed(repo, stream)["state"]
        return committed_state

    def states(self, repo: str) -> dict[str, JSON]:
        """Resume states of every stream of ``repo``."""
        return {stream: self.state(repo, stream) for stream in STREAMS}

    def next_seq(self, repo: str, stream: str) -> int:
        """Sequence number for the next batch file of the stream."""
        files = self._batch_files(repo, stream)
        last = int(files[-1].stem) if files else int(self._committed(repo, stream)["seq"])
        return last + 1

    def land(self, repo: str, stream: str, batch: Batch, *, source: str, synthetic: bool) -> LandedBatch:
        """Write one batch atomically; returns its handle."""
        unknown = set(batch.rows) - set(STREAMS[stream].tables)
        if unknown:
            raise ValueError(f"stream {stream} cannot fill raw tables {sorted(unknown)}")
        folder = self._folder(repo, stream)
        folder.mkdir(parents=True, exist_ok=True)
        seq = self.next_seq(repo, stream)
        fetched_at = datetime.now(UTC).isoformat()
        rows: dict[str, list[JSON]] = {}
        for table, items in batch.rows.items():
            spec = RAW_TABLES[table]
            rows[table] = [
                {"key": spec.key(obj, parent), "parent": parent, "version": spec.version(obj), "data": obj}
                for obj, parent in items
            ]
        payload = {
            "repo": repo,
            "stream": stream,
            "seq": seq,
            "source": source,
            "synthetic": synthetic,
            "fetched_at": fetched_at,
            "rows": rows,
            "state": batch.state,
        }
        path = folder / f"{seq:012d}.json"
        _write_atomically(path, payload)
        return LandedBatch(path, repo, stream, seq)

    def pending(self) -> list[LandedBatch]:
        """Every batch file waiting to be loaded, in load order."""
        found: list[LandedBatch] = []
        if not self.root.is_dir():
            return found
        for repo_dir in sorted(p for p in self.root.iterdir() if p.is_dir()):
            repo = repo_dir.name.replace("__", "/", 1)
            for stream in STREAMS:
                for path in self._batch_files(repo, stream):
                    found.append(LandedBatch(path, repo, stream, int(path.stem)))
        return found

    def read(self, landed: LandedBatch) -> JSON:
        """The content of a landed batch."""
        payload: JSON = json.loads(landed.path.read_text(encoding="utf-8"))
        return payload

    def mark_committed(
        self, loaded: list[LandedBatch], states: dict[tuple[str, str], tuple[int, JSON]]
    ) -> None:
        """After the warehouse commit: record committed states, then remove loaded files."""
        for (repo, stream), (seq, state) in states.items():
            _write_atomically(self._folder(repo, stream) / _COMMITTED, {"seq": seq, "state": state})
        last_seq: dict[tuple[str, str], int] = {}
        for landed in loaded:
            key = (landed.repo, landed.stream)
            last_seq[key] = max(last_seq.get(key, 0), landed.seq)
        for (repo, stream), seq in last_seq.items():
            if (repo, stream) not in states:
                committed = self._committed(repo, stream)
                _write_atomically(
                    self._folder(repo, stream) / _COMMITTED,
                    {"seq": max(seq, int(committed["seq"])), "state": committed["state"]},
                )
        for landed in loaded:
            landed.path.unlink(missing_ok=True)

    def clear_temporary(self) -> Iterator[Path]:
        """Remove temporary files left by a killed writer; yields what was removed."""
        if not self.root.is_dir():
            return
        for tmp in self.root.rglob(".*.tmp"):
            tmp.unlink(missing_ok=True)
            yield tmp
