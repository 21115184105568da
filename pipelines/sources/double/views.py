"""Sorted and indexed views of a :class:`~pipelines.sources.recording.Recording`, cached.

The double answers thousands of paginated requests over lists of tens of thousands of items;
sorting on every request would dominate a benchmark, so each ordering (and each filtered
variant) is built once and kept until the recording is mutated through the double.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable
from datetime import UTC, datetime
from typing import Any

from pipelines.sources.recording import JSON, Recording

OLDEST = float("-inf")
"""Sort key of a missing or unreadable timestamp: such items sort as the oldest."""

_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MAX_CACHED_LISTS = 1024


def parse_timestamp(value: object) -> float | None:
    """Parse an ISO-8601 timestamp (``Z`` or ``+hh:mm`` offsets) into epoch seconds.

    Args:
        value: the JSON value; naive timestamps are taken as UTC.

    Returns:
        Seconds since the epoch, or ``None`` when ``value`` is not a readable timestamp.
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def is_date_only(value: str) -> bool:
    """Tell whether ``value`` is a bare ``YYYY-MM-DD`` date."""
    return bool(_DATE_ONLY.match(value))


def timestamp_key(value: object) -> float:
    """Sort key of a timestamp value; missing or unreadable values sort as the oldest."""
    parsed = parse_timestamp(value)
    return OLDEST if parsed is None else parsed


def item_id(item: JSON) -> int:
    """The numeric ``id`` of an item, 0 when it has none (ties are broken by id)."""
    value = item.get("id")
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    try:
        return int(str(value))
    except ValueError:
        return 0


def _numeric_key(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return OLDEST
    return float(value)


def sort_items(items: Iterable[JSON], field: str | None, *, descending: bool) -> list[JSON]:
    """Sort items by a timestamp (or numeric) field, ties broken by id.

    Args:
        items: the items to sort (not modified).
        field: the field to sort by; ``None`` sorts by id alone. ``comments`` is numeric,
            every other field is read as an ISO-8601 timestamp.
        descending: newest (largest) first when true; ties then go by id descending too.

    Returns:
        A new list.
    """
    if field is None:
        return sorted(items, key=item_id, reverse=descending)
    value_key = _numeric_key if field == "comments" else timestamp_key

    def key(item: JSON) -> tuple[float, int]:
        return value_key(item.get(field)), item_id(item)

    return sorted(items, key=key, reverse=descending)


class RecordingView:
    """Indexes and sorted lists over a recording, built lazily and cached.

    Every method is thread safe. Callers that mutate the recording directly must call
    :meth:`invalidate` afterwards (the double's mutation helpers do).
    """

    def __init__(self, recording: Recording) -> None:
        self.recording = recording
        self.lock = threading.RLock()
        self.generation = 0
        self._lists: OrderedDict[Hashable, list[JSON]] = OrderedDict()
        self._repos: dict[str, str] | None = None
        self._pulls: dict[str, dict[int, JSON]] = {}
        self._runs: dict[str, dict[int, JSON]] = {}

    def invalidate(self) -> None:
        """Forget every cached index and ordering."""
        with self.lock:
            self.generation += 1
            self._lists.clear()
            self._repos = None
            self._pulls.clear()
            self._runs.clear()

    def resolve_repo(self, owner: str, name: str) -> str | None:
        """The recording's spelling of ``owner/name`` (matched case-insensitively), or None."""
        with self.lock:
            if self._repos is None:
                self._repos = {repo.lower(): repo for repo in self._known_repos()}
            return self._repos.get(f"{owner}/{name}".lower())

    def _known_repos(self) -> list[str]:
        rec = self.recording
        names: list[str] = list(rec.repos)
        for by_repo in rec.repo_listings():
            names.extend(by_repo)
        keyed: list[Iterable[tuple[Any, ...]]] = [
            rec.reviews,
            rec.pr_files,
            rec.run_attempts,
            rec.jobs,
            rec.check_runs,
            rec.commit_statuses,
        ]
        for mapping in keyed:
            names.extend(str(key[0]) for key in mapping)
        return names

    def pull(self, repo: str, number: int) -> JSON | None:
        """The pull request ``number`` of ``repo`` from the repository's list, or None."""
        with self.lock:
            index = self._pulls.get(repo)
            if index is None:
                index = {}
                for item in self.recording.pull_requests.get(repo, []):
                    value = item.get("number")
                    if isinstance(value, int):
                        index[value] = item
                self._pulls[repo] = index
            return index.get(number)

    def run(self, repo: str, run_id: int) -> JSON | None:
        """The latest attempt of workflow run ``run_id`` of ``repo``, or None."""
        with self.lock:
            index = self._runs.get(repo)
            if index is None:
                index = {item_id(item): item for item in self.recording.workflow_runs.get(repo, [])}
                self._runs[repo] = index
            return index.get(run_id)

    def reviews(self, repo: str, number: int) -> list[JSON]:
        """The reviews of a pull request, ordered by id (submission order), cached."""
        return self.cached(
            ("reviews", repo, number),
            lambda: sorted(self.recording.reviews.get((repo, number), []), key=item_id),
        )

    def cached(self, key: Hashable, build: Callable[[], list[JSON]]) -> list[JSON]:
        """Return the list cached under ``key``, building (and caching) it when absent.

        Args:
            key: identifies the list within the current generation.
            build: computes the list; it may itself call :meth:`cached`.
        """
        with self.lock:
            found = self._lists.get(key)
            if found is not None:
                self._lists.move_to_end(key)
                return found
            built = build()
            self._lists[key] = built
            if len(self._lists) > _MAX_CACHED_LISTS:
                self._lists.popitem(last=False)
            return built

    def sorted_list(self, source: str, repo: str, field: str | None, *, descending: bool) -> list[JSON]:
        """A repository-keyed list of the recording (e.g. ``"pull_requests"``), sorted and cached.

        Args:
            source: the name of a ``dict[str, list[JSON]]`` attribute of the recording.
            repo: the repository (as the recording spells it).
            field: see :func:`sort_items`.
            descending: see :func:`sort_items`.
        """

        def build() -> list[JSON]:
            by_repo: dict[str, list[JSON]] = getattr(self.recording, source)
            return sort_items(by_repo.get(repo, []), field, descending=descending)

        return self.cached(("sorted", source, repo, field, descending), build)
