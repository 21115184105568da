"""Read-only snapshots of the warehouse, so readers never meet the pipeline's write lock.

DuckDB lets one process write a database file, and a ``read_only`` connection from another
process is refused while that writer holds its lock (and would hold the file open against the
writer's next checkpoint). The dashboard therefore never opens ``warehouse.duckdb`` itself: it
copies the file to a private snapshot whenever its modification time or size changes and reads
the copy. File locks are advisory, so copying neither waits for nor blocks the writer.

A copy taken while a checkpoint rewrites the file could be torn. DuckDB commits a checkpoint by
rewriting its header last, so a copy is accepted only when the file's (mtime, size) is the same
before and after copying and the copy opens and answers a catalogue query; otherwise the copy
is retried, and when every attempt fails the reader keeps its previous snapshot. What the copy
shows is the state at the writer's last checkpoint (DuckDB checkpoints on close and whenever its
write-ahead log grows large); the log itself is not copied, because replaying a log against a
main file from a different checkpoint could apply changes twice.

Readers do not copy the warehouse when the pipeline has written its reader copy
(``$REPOPILOT_HOME/reader.duckdb``, :mod:`warehouse.reader`): that file only ever changes by being
replaced whole, so it is opened read-only in place, and a connection keeps the file it opened.
A warehouse without one (built before the reader copy existed, or while its first run is under
way) is still read through a snapshot, to which the reader copy's small ``slim`` schema is added,
so every reader query has one layout to read.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from actions.sla.github_data import MARKER as SLA_MARKER
from warehouse.reader import READER_FILE, READER_FORMAT, add_slim_schema, path_literal

WAREHOUSE_FILE = "warehouse.duckdb"
ATTACHED = "read_copy"
"""The name :func:`connect_read_only` attaches a file under."""
UNREADABLE_AFTER = 3
"""Consistent copies that fail to open, in a row, before the file is judged unreadable."""


class SnapshotError(RuntimeError):
    """The warehouse could not be copied consistently (it kept changing, or the copy is unreadable)."""


class UnreadableWarehouseError(SnapshotError):
    """The warehouse file stays the same yet cannot be opened: corrupt, truncated, or not DuckDB's.

    A file being written changes between copies; one that holds still through every attempt and
    still fails to open will not heal by waiting.
    """


class StaleReaderError(SnapshotError):
    """The reader copy is of another format than this version reads (written by another version)."""


@dataclass(frozen=True)
class FileVersion:
    """What identifies one state of the warehouse file: modification time and size."""

    mtime_ns: int
    size: int


@dataclass(frozen=True)
class Snapshot:
    """A consistent file to read: a private copy of the warehouse, or the reader copy in place.

    Attributes:
        path: the copy (open it read-only, with :func:`connect_read_only`).
        source: the warehouse file it was copied from (the reader copy itself for one).
        version: the source's version when copied.
        modified_at: the source's modification time (UTC); a reader copy's write time.
    """

    path: Path
    source: Path
    version: FileVersion
    modified_at: datetime


def home_directory(value: str | None = None) -> Path:
    """The data directory: ``value``, else ``$REPOPILOT_HOME``, else ``./.repopilot`` (as the CLI)."""
    raw = value or os.environ.get("REPOPILOT_HOME") or ".repopilot"
    return Path(raw).expanduser().resolve()


def file_version(path: Path) -> FileVersion | None:
    """The file's current version, or ``None`` when it does not exist."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return FileVersion(stat.st_mtime_ns, stat.st_size)


def _readable(path: Path) -> bool:
    try:
        with duckdb.connect(str(path), read_only=True) as conn:
            conn.execute("SELECT count(*) FROM duckdb_tables()").fetchall()
    except duckdb.Error:
        return False
    return True


def take_snapshot(source: Path, directory: Path, *, attempts: int = 8, pause: float = 0.05) -> Snapshot:
    """Copy ``source`` into ``directory`` unless a copy of its current version is already there.

    Args:
        source: the warehouse file.
        directory: where snapshots are kept (one file per version).
        attempts: copies to try while the file keeps changing under the copy.
        pause: seconds to wait after the first failed attempt (doubling, capped at one second).

    Raises:
        FileNotFoundError: when ``source`` does not exist.
        UnreadableWarehouseError: when every copy was consistent but none could be opened.
        SnapshotError: when no attempt produced a consistent, readable copy.
    """
    directory.mkdir(parents=True, exist_ok=True)
    unreadable = 0
    for attempt in range(attempts):
        before = file_version(source)
        if before is None:
            raise FileNotFoundError(source)
        target = directory / f"{_prefix(source)}{before.mtime_ns}-{before.size}.duckdb"
        if not target.exists():
            partial = directory / f".{target.name}.{os.getpid()}.partial"
            with contextlib.suppress(FileNotFoundError):  # the source may vanish between stat and copy
                shutil.copyfile(source, partial)
            stable = file_version(source) == before and partial.exists()
            readable = stable and _readable(partial)
            if not readable:
                partial.unlink(missing_ok=True)
                partial.with_name(partial.name + ".wal").unlink(missing_ok=True)
                unreadable = unreadable + 1 if stable else 0
                if unreadable >= UNREADABLE_AFTER:
                    raise UnreadableWarehouseError(
                        f"{source} is not a readable DuckDB database (corrupt, truncated, or written by "
                        "another DuckDB version)"
                    )
                time.sleep(min(1.0, pause * 2**attempt))
                continue
            os.replace(partial, target)
        modified = datetime.fromtimestamp(before.mtime_ns / 1e9, tz=UTC)
        return Snapshot(target, source, before, modified)
    raise SnapshotError(f"{source} kept changing while it was copied ({attempts} attempts)")


def _prefix(source: Path) -> str:
    """Snapshot names start with a digest of the source's path: one reader may watch several homes."""
    digest = hashlib.sha256(str(source.resolve()).encode()).hexdigest()[:12]
    return f"warehouse-{digest}-"


def prune(snapshot: Snapshot) -> None:
    """Delete the older snapshots of ``snapshot``'s source (open connections keep their file on POSIX).

    Snapshots of other sources are left alone: a reader may still be using them.
    """
    for path in snapshot.path.parent.glob(f"{_prefix(snapshot.source)}*.duckdb"):
        if path != snapshot.path:
            path.unlink(missing_ok=True)


def take_slim_snapshot(source: Path, directory: Path) -> Snapshot:
    """A snapshot of ``source`` that answers the reader copy's queries (its ``slim`` schema added).

    For a warehouse without a reader copy. The schema is added to the private copy in place,
    once per version: a few small tables, not a second copy of every table.

    Raises:
        FileNotFoundError: when ``source`` does not exist.
        UnreadableWarehouseError: when every copy was consistent but none could be opened.
        SnapshotError: when no attempt produced a consistent, readable copy.
    """
    snapshot = take_snapshot(source, directory)
    add_slim_schema(snapshot.path, comment_marker=SLA_MARKER)
    return snapshot


def connect_read_only(path: Path) -> duckdb.DuckDBPyConnection:
    """A read-only connection to the DuckDB file at ``path``, in a database instance of its own.

    ``duckdb.connect(path)`` shares one instance between the connections to a path in a process,
    so after the reader copy was replaced, a new connection would still read the file the first
    one opened. Attaching the file to a new in-memory instance opens the file now at ``path``.
    """
    conn = duckdb.connect()
    conn.execute(f"ATTACH {path_literal(path)} AS {ATTACHED} (READ_ONLY)")
    conn.execute(f"USE {ATTACHED}")  # per connection: dashboards.data USEs it again in each cursor
    conn.execute("SET TimeZone = 'UTC'")
    return conn


def open_reader(path: Path) -> Snapshot:
    """The reader copy at ``path``, checked: it opens and is of the format this version reads.

    Raises:
        FileNotFoundError: when ``path`` does not exist.
        UnreadableWarehouseError: when it is not a readable DuckDB database.
        StaleReaderError: when it has no manifest of this format (another version wrote it).
    """
    version = file_version(path)
    if version is None:
        raise FileNotFoundError(path)
    try:
        with connect_read_only(path) as conn:
            rows = conn.execute("SELECT format, written_at FROM slim.manifest").fetchall()
    except duckdb.CatalogException:  # no manifest: not a reader copy this version wrote
        rows = []
    except duckdb.Error as exc:
        raise UnreadableWarehouseError(
            f"{path} is not a readable DuckDB database (corrupt, truncated, or written by another "
            "DuckDB version)"
        ) from exc
    format_, written_at = rows[0] if rows else (None, None)
    if format_ != READER_FORMAT or not isinstance(written_at, datetime):
        raise StaleReaderError(
            f"{path} is a reader copy of another format ({format_}; this version reads {READER_FORMAT})"
        )
    return Snapshot(path, path, version, written_at.astimezone(UTC))


def default_directory() -> Path:
    """A private directory for this process's snapshots, removed when the process exits."""
    path = Path(tempfile.mkdtemp(prefix="repopilot-dashboard-"))
    atexit.register(shutil.rmtree, path, ignore_errors=True)
    return path


def read_copy(home: Path, directory: Path) -> Snapshot:
    """What a reader outside the dashboard (a notebook) opens read-only: never the warehouse itself.

    The reader copy of ``home`` when it is readable and of this version's format, else a slim
    snapshot of the warehouse written into ``directory``.

    Raises:
        FileNotFoundError: when ``home`` holds neither file.
        UnreadableWarehouseError: when the warehouse file cannot be opened.
        SnapshotError: when no consistent copy of the warehouse could be taken.
    """
    try:
        return open_reader(home / READER_FILE)
    except (FileNotFoundError, SnapshotError):
        return take_slim_snapshot(home / WAREHOUSE_FILE, directory)
