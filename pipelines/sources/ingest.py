"""Fetch one stream of one repository from a source into the landing zone."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from pipelines.sources.base import HistorySource
from pipelines.sources.streams import STREAMS
from warehouse.landing import LandingZone


@dataclass
class LandReport:
    """What a fetch landed and what it cost."""

    repo: str
    stream: str
    batches: int = 0
    objects_by_table: Counter[str] = field(default_factory=Counter)
    completed: bool = False
    seconds: float = 0.0

    def objects(self) -> int:
        """Objects landed over all tables."""
        return sum(self.objects_by_table.values())


def land_stream(source: HistorySource, repo: str, stream: str, zone: LandingZone) -> LandReport:
    """Fetch ``stream`` of ``repo`` from where it stopped and land every batch as a file.

    A batch that carries the stream's new state marks the traversal complete. If the fetch
    fails part-way, batches already landed stay (they are complete pages) and the error
    propagates; the state stays where it was, so the next fetch resumes without a gap.

    Raises:
        ValueError: for an unknown stream.
    """
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; known: {', '.join(STREAMS)}")
    started = time.perf_counter()
    report = LandReport(repo, stream)
    states = zone.states(repo)
    for batch in source.fetch(repo, stream, states):
        if batch.object_count() == 0 and batch.state is None:
            continue
        zone.land(repo, stream, batch, source=source.label, synthetic=source.synthetic)
        report.batches += 1
        for table, items in batch.rows.items():
            report.objects_by_table[table] += len(items)
        report.completed = report.completed or batch.state is not None
    report.seconds = time.perf_counter() - started
    return report


def land_repository(source: HistorySource, repo: str, zone: LandingZone) -> list[LandReport]:
    """Land every stream of one repository, in dependency order (what one partition does)."""
    return [land_stream(source, repo, stream, zone) for stream in STREAMS]
