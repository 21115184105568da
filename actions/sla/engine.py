"""The design's ``check_sla_compliance``: response and resolution targets, CI success and availability.

Everything is judged over a window ending at ``now`` (``window_hours`` long) and, for the trend,
over the window before it, each as of its own end (later responses and runs are invisible).

* An item (issue or pull request) takes part in a window when it was created before the window's
  end and its clock had not already stopped before the window began. A clock that stopped within
  its target is *met*, one that stopped late or is still running past its target is *breached*,
  and one still running within its target is *pending* (not counted in the rate). The response
  clock stops at the first response, or at closing when nobody answered before (closing answers
  the item too, as in the warehouse's SLA clocks).
  Every breach is counted; a record (item, clock, hours over) is made for the most urgent
  ``max_breaches_listed`` only: an old organisation has tens of thousands of clocks open past
  their target, and a record each would cost more than the rest of the check.
* The success rate is the share of the window's completed workflow runs that succeeded
  (``success`` against ``failure``, ``timed_out`` and ``startup_failure``; cancelled, skipped and
  neutral runs say nothing about health and are left out).
* Availability: a workflow is down from a failed run until its next successful one; a repository
  is down while any of its workflows is; availability is the share of the window a repository is
  up, averaged over the repositories with runs.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import numpy as np
from numpy.typing import NDArray

from actions.common.conclusions import FAILED_CONCLUSIONS
from actions.sla.config import PRIORITIES, Priority, SlaConfig

Outcome = Literal["met", "breached", "pending"]
_OK = frozenset({"success"})
_TREND_TOLERANCE = 0.01
_CLOCKS = ("response", "resolution")


def _time(value: Any, field: str, required: bool = True) -> datetime | None:
    if type(value) is str and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError as exc:
            raise ValueError(f"{field} is not an ISO 8601 time: {value!r}") from exc
        offset = moment.utcoffset()
        if offset is None:
            raise ValueError(f"{field} must carry a time zone")
        return moment if moment.tzinfo is UTC else moment.astimezone(UTC)
    if value is None or value == "":
        if required:
            raise ValueError(f"{field} is required")
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise ValueError(f"{field} is not an ISO 8601 time: {value!r}") from exc
    else:
        raise ValueError(f"{field} must be an ISO 8601 string or a datetime")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{field} must carry a time zone")
    return moment.astimezone(UTC)


@dataclass(frozen=True)
class SlaItem:
    """An issue or pull request with its SLA clocks' start and stops."""

    repo: str
    number: int
    created_at: datetime
    first_response_at: datetime | None = None
    resolved_at: datetime | None = None
    labels: tuple[str, ...] = ()
    priority: Priority | None = None
    is_pull_request: bool = False
    title: str | None = None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> SlaItem:
        """An item from a mapping (``features.sla`` clock columns or GitHub-like fields)."""
        where = f"item {raw.get('repo', '?')}#{raw.get('number', '?')}"
        try:
            priority = raw.get("priority")
            if priority is not None and priority not in PRIORITIES:
                raise ValueError(f"priority {priority!r} is not one of {list(PRIORITIES)}")
            labels = raw.get("labels") or ()
            names = tuple(str(lab["name"]) if isinstance(lab, Mapping) else str(lab) for lab in labels)
            created = _time(raw.get("created_at"), "created_at")
            assert created is not None  # noqa: S101 - required above
            return cls(
                repo=str(raw["repo"]),
                number=int(raw["number"]),
                created_at=created,
                first_response_at=_time(raw.get("first_response_at"), "first_response_at", False),
                resolved_at=_time(raw.get("resolved_at", raw.get("closed_at")), "resolved_at", False),
                labels=names,
                priority=priority,
                is_pull_request=bool(raw.get("is_pull_request", False)),
                title=None if raw.get("title") is None else str(raw["title"]),
            )
        except KeyError as exc:
            raise ValueError(f"{where}: missing field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc


@dataclass(frozen=True)
class WorkflowRun:
    """A workflow run: which workflow, when it completed, and how."""

    repo: str
    workflow: str
    completed_at: datetime
    conclusion: str | None

    @classmethod
    def parse(cls, raw: Mapping[str, Any]) -> WorkflowRun:
        """A run from a mapping (``core.ci_runs`` or GitHub REST fields)."""
        where = f"run {raw.get('id', '?')}"
        try:
            completed = _time(
                raw.get("completed_at") or raw.get("updated_at") or raw.get("created_at"), "created_at"
            )
            assert completed is not None  # noqa: S101 - required above
            conclusion = raw.get("conclusion")
            workflow = raw.get("workflow") or raw.get("workflow_id") or raw.get("name") or "workflow"
            return cls(
                repo=str(raw["repo"]),
                workflow=str(workflow),
                completed_at=completed,
                conclusion=None if not conclusion else str(conclusion).strip().lower(),
            )
        except KeyError as exc:
            raise ValueError(f"{where}: missing field {exc.args[0]!r}") from exc
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{where}: {exc}") from exc


def _hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600


def _rate(met: int, breached: int) -> float | None:
    return None if met + breached == 0 else round(met / (met + breached), 4)


@dataclass(frozen=True)
class _Clocks:
    """The items as arrays of seconds since the epoch.

    A clock still running is +inf and one that stopped before every window judged is -inf, so
    ``stop < t`` reads "stopped before t" for both without a mask of their own.
    """

    items: list[SlaItem]
    priority_index: NDArray[np.int64]
    created: NDArray[np.float64]
    stops: dict[str, NDArray[np.float64]]
    targets: dict[str, NDArray[np.float64]]

    @classmethod
    def build(
        cls,
        items: Iterable[SlaItem | Mapping[str, Any]],
        config: SlaConfig,
        end: datetime,
        earliest: datetime,
    ) -> _Clocks:
        """The items created before ``end`` whose clocks were not both stopped before ``earliest``.

        One pass over the items (parsing those given as mappings), the only per-item Python work
        of a check: an organisation's history is mostly long-settled items, skipped on a few
        comparisons, and a timestamp is computed only for a stop inside the windows (most kept
        items are long open, with a response long ago).
        """
        inf = math.inf
        position = {p: i for i, p in enumerate(PRIORITIES)}
        cache: dict[tuple[str, ...], int] = {}
        kept: list[SlaItem] = []
        index: list[int] = []
        created: list[float] = []
        response: list[float] = []
        resolution: list[float] = []
        for given in items:
            item = given if isinstance(given, SlaItem) else SlaItem.parse(given)
            if item.created_at >= end:
                continue
            resolved = item.resolved_at
            if resolved is None:
                resolution_stop = inf
            elif resolved < earliest:
                resolution_stop = -inf
            else:
                resolution_stop = resolved.timestamp()
            responded = item.first_response_at
            if responded is None:
                # closing answers the item too (as in pipelines/features/sla.py): the wait ends there
                if resolution_stop == -inf:
                    continue
                response_stop = resolution_stop
            elif responded < earliest:
                if resolution_stop == -inf:
                    continue
                response_stop = -inf
            else:
                response_stop = responded.timestamp()
            if item.priority is not None:
                rank = position[item.priority]
            else:
                rank = cache.get(item.labels, -1)
                if rank < 0:
                    rank = cache[item.labels] = position[config.priority_of(item.labels)]
            kept.append(item)
            index.append(rank)
            created.append(item.created_at.timestamp())
            response.append(response_stop)
            resolution.append(resolution_stop)
        ranks = np.array(index, dtype=np.int64)
        hours = {
            clock: np.array([getattr(config.targets[p], f"{clock}_hours") for p in PRIORITIES])
            for clock in _CLOCKS
        }
        return cls(
            items=kept,
            priority_index=ranks,
            created=np.array(created, dtype=np.float64),
            stops={
                "response": np.array(response, dtype=np.float64),
                "resolution": np.array(resolution, dtype=np.float64),
            },
            targets={clock: hours[clock][ranks] if kept else np.zeros(0) for clock in _CLOCKS},
        )


@dataclass(frozen=True)
class _Breached:
    """One clock's breaches in a window: item positions and their elapsed hours, targets and state."""

    clock: str
    hit: NDArray[np.intp]
    elapsed: NDArray[np.float64]
    target: NDArray[np.float64]
    still_open: NDArray[np.bool_]


def _most_urgent(clocks: _Clocks, found: list[_Breached], limit: int) -> list[dict[str, Any]]:
    """The ``limit`` most urgent breach records: by priority, then most overdue, then repo and number.

    Records are built only for the chosen ones (and any tied with the last of them, so the
    repo and number tie-break is exact): an old organisation has tens of thousands of open
    clocks past their target, and a record each would cost more than the whole check.
    """
    ranks = np.concatenate([clocks.priority_index[b.hit] for b in found])
    over = np.concatenate([np.round(b.elapsed - b.target, 2) for b in found])
    chosen = np.ones(ranks.size, dtype=bool)
    if ranks.size > limit:
        last = np.lexsort((-over, ranks))[limit - 1]
        chosen = (ranks < ranks[last]) | ((ranks == ranks[last]) & (over >= over[last]))
    records: list[dict[str, Any]] = []
    offset = 0
    for breached in found:
        part = slice(offset, offset + breached.hit.size)
        offset = part.stop
        pick = np.flatnonzero(chosen[part])
        hit = breached.hit[pick]
        created_at = np.datetime_as_string(clocks.created[hit].astype("datetime64[s]"))
        elapsed = np.round(breached.elapsed[pick], 2).tolist()
        over_by = over[part][pick].tolist()
        target = breached.target[pick].tolist()
        still_open = breached.still_open[pick].tolist()
        for j, k in enumerate(hit.tolist()):
            item = clocks.items[k]
            records.append(
                {
                    "repo": item.repo,
                    "number": item.number,
                    "kind": "pull_request" if item.is_pull_request else "issue",
                    "title": item.title,
                    "priority": PRIORITIES[clocks.priority_index[k]],
                    "clock": breached.clock,
                    "target_hours": target[j],
                    "elapsed_hours": elapsed[j],
                    "over_by_hours": over_by[j],
                    "open": still_open[j],
                    "created_at": f"{created_at[j]}+00:00",
                }
            )
    records.sort(key=lambda b: (PRIORITIES.index(b["priority"]), -b["over_by_hours"], b["repo"], b["number"]))
    return records[:limit]


def _compliance(
    clocks: _Clocks, config: SlaConfig, start: datetime, end: datetime, collect: bool = True
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    begin, finish = start.timestamp(), end.timestamp()
    visible = clocks.created < finish
    counts: dict[Priority, dict[str, dict[str, int]]] = {
        p: {clock: {"met": 0, "breached": 0, "pending": 0} for clock in _CLOCKS} for p in PRIORITIES
    }
    found: list[_Breached] = []
    for clock in _CLOCKS:
        stop, target = clocks.stops[clock], clocks.targets[clock]
        # A clock that stopped before the window began is not part of it.
        considered = visible & ~(stop < begin)
        stopped = stop < finish
        elapsed = (np.where(stopped, stop, finish) - clocks.created) / 3600
        late = elapsed > target
        outcomes = {
            "met": considered & stopped & ~late,
            "breached": considered & late,
            "pending": considered & ~stopped & ~late,
        }
        for outcome, mask in outcomes.items():
            per_priority = np.bincount(clocks.priority_index[mask], minlength=len(PRIORITIES))
            for position, priority in enumerate(PRIORITIES):
                counts[priority][clock][outcome] = int(per_priority[position])
        if collect:
            hit = np.flatnonzero(outcomes["breached"])
            found.append(_Breached(clock, hit, elapsed[hit], target[hit], ~stopped[hit]))
    by_priority: dict[str, Any] = {}
    totals = {"met": 0, "breached": 0}
    for priority, by_clock in counts.items():
        entry: dict[str, Any] = {}
        for clock, tally in by_clock.items():
            target_hours = getattr(config.targets[priority], f"{clock}_hours")
            entry[clock] = {
                **tally,
                "rate": _rate(tally["met"], tally["breached"]),
                "target_hours": target_hours,
            }
            totals["met"] += tally["met"]
            totals["breached"] += tally["breached"]
        by_priority[priority] = entry
    overall = {
        clock: _rate(
            sum(counts[p][clock]["met"] for p in PRIORITIES),
            sum(counts[p][clock]["breached"] for p in PRIORITIES),
        )
        for clock in ("response", "resolution")
    }
    overall["combined"] = _rate(totals["met"], totals["breached"])
    breaches = _most_urgent(clocks, found, config.max_breaches_listed) if collect else []
    return {"overall": overall, "by_priority": by_priority}, breaches


def breach_counts(compliance: Mapping[str, Any]) -> dict[str, int]:
    """Breached clocks by priority, and ``total``, from a report's ``compliance``.

    These are exact whatever ``max_breaches_listed`` is: what decides an incident and its
    severity, where the report's ``breaches`` records only show the most urgent.
    """
    counts: dict[str, int] = {
        priority: sum(int(tally["breached"]) for tally in compliance["by_priority"][priority].values())
        for priority in PRIORITIES
    }
    return {**counts, "total": sum(counts.values())}


def _success_rate(runs: list[WorkflowRun], start: datetime, end: datetime) -> tuple[float | None, int, int]:
    ok = failed = 0
    for run in runs:
        if start <= run.completed_at < end:
            ok += run.conclusion in _OK
            failed += run.conclusion in FAILED_CONCLUSIONS
    return (None if ok + failed == 0 else round(ok / (ok + failed), 4)), ok, failed


def _merge(intervals: list[tuple[datetime, datetime]]) -> timedelta:
    total = timedelta(0)
    current: tuple[datetime, datetime] | None = None
    for begin, finish in sorted(intervals):
        if current is None or begin > current[1]:
            if current is not None:
                total += current[1] - current[0]
            current = (begin, finish)
        else:
            current = (current[0], max(current[1], finish))
    if current is not None:
        total += current[1] - current[0]
    return total


def _availability(
    runs: list[WorkflowRun], start: datetime, end: datetime
) -> tuple[float | None, dict[str, float]]:
    streams: dict[tuple[str, str], list[WorkflowRun]] = defaultdict(list)
    for run in runs:
        if run.completed_at < end and (run.conclusion in _OK or run.conclusion in FAILED_CONCLUSIONS):
            streams[(run.repo, run.workflow)].append(run)
    down: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    for (repo, _), stream in streams.items():
        stream.sort(key=lambda r: r.completed_at)
        down.setdefault(repo, [])
        since: datetime | None = None
        for run in stream:
            if run.conclusion in FAILED_CONCLUSIONS and since is None:
                since = run.completed_at
            elif run.conclusion in _OK and since is not None:
                down[repo].append((since, run.completed_at))
                since = None
        if since is not None:
            down[repo].append((since, end))
    length = end - start
    by_repo: dict[str, float] = {}
    for repo, intervals in down.items():
        clipped = [(max(a, start), min(b, end)) for a, b in intervals if b > start and a < end]
        by_repo[repo] = round(1 - _merge(clipped) / length, 4)
    if not by_repo:
        return None, {}
    return round(sum(by_repo.values()) / len(by_repo), 4), dict(sorted(by_repo.items()))


def _trend(previous: float | None, current: float | None) -> dict[str, Any]:
    if previous is None or current is None:
        return {"previous": previous, "current": current, "delta": None, "direction": None}
    delta = round(current - previous, 4)
    direction = (
        "improving" if delta > _TREND_TOLERANCE else "worsening" if delta < -_TREND_TOLERANCE else "stable"
    )
    return {"previous": previous, "current": current, "delta": delta, "direction": direction}


def check_sla_compliance(
    items: Iterable[SlaItem | Mapping[str, Any]],
    runs: Iterable[WorkflowRun | Mapping[str, Any]],
    config: SlaConfig,
    now: datetime,
) -> dict[str, Any]:
    """SLA compliance over the window ending at ``now``, its breaches, CI health and the trend.

    Args:
        items: issues and pull requests (:class:`SlaItem` or mappings with ``repo``, ``number``,
            ``created_at``, ``first_response_at``, ``resolved_at`` or ``closed_at``, ``labels``,
            ``priority``, ``is_pull_request``, ``title``).
        runs: workflow runs (:class:`WorkflowRun` or mappings with ``repo``, ``workflow`` /
            ``workflow_id`` / ``name``, ``completed_at`` / ``updated_at`` / ``created_at``,
            ``conclusion``).
        config: the SLA configuration.
        now: the end of the window (timezone-aware).

    Returns:
        ``window``, ``compliance`` (``overall`` and ``by_priority`` with met, breached, pending,
        rate and target per clock), ``breaches`` (records of the ``config.max_breaches_listed``
        most urgent: by priority, then most overdue), ``breach_count`` (all of them, as the
        compliance counts have them), ``breaches_truncated`` (whether some were left out of the
        records), ``success_rate``, ``availability``, ``trend`` (against the previous window)
        and ``compliant``.

    Raises:
        ValueError: for a naive ``now`` or a malformed item or run (naming it and the field).
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    end = now.astimezone(UTC)
    length = timedelta(hours=config.window_hours)
    start, previous_start = end - length, end - 2 * length
    parsed_runs = [run if isinstance(run, WorkflowRun) else WorkflowRun.parse(run) for run in runs]

    clocks = _Clocks.build(items, config, end, previous_start)
    compliance, breaches = _compliance(clocks, config, start, end)
    previous_compliance, _ = _compliance(clocks, config, previous_start, start, collect=False)
    breach_count = breach_counts(compliance)["total"]
    rate, ok, failed = _success_rate(parsed_runs, start, end)
    previous_rate, _, _ = _success_rate(parsed_runs, previous_start, start)
    availability, by_repo = _availability(parsed_runs, start, end)
    previous_availability, _ = _availability(parsed_runs, previous_start, start)

    success = {
        "value": rate,
        "target": config.success_rate_target,
        "met": None if rate is None else rate >= config.success_rate_target,
        "succeeded": ok,
        "failed": failed,
    }
    available = {
        "value": availability,
        "target": config.availability_target,
        "met": None if availability is None else availability >= config.availability_target,
        "by_repo": by_repo,
    }
    return {
        "as_of": end.isoformat(),
        "window": {"start": start.isoformat(), "end": end.isoformat(), "hours": config.window_hours},
        "compliance": compliance,
        "breaches": breaches,
        "breach_count": breach_count,
        "breaches_truncated": breach_count > len(breaches),
        "success_rate": success,
        "availability": available,
        "trend": {
            "compliance": _trend(
                previous_compliance["overall"]["combined"], compliance["overall"]["combined"]
            ),
            "success_rate": _trend(previous_rate, rate),
            "availability": _trend(previous_availability, availability),
        },
        "compliant": breach_count == 0 and success["met"] is not False and available["met"] is not False,
    }
