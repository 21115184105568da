"""Read a recorded GitHub REST history in the DevLake raw-table layout.

DevLake's collectors store every item of every API page as one CSV row of
``_raw_github_api_<collection>.csv`` with the request ``url`` and the item's JSON ``data``.
The same object can be recorded more than once (collected twice, or at two versions); the
reader keeps one copy per object, the most recently updated, so that ingestion sees each
distinct object once. Rows are kept as recorded, including DevLake's edge cases (empty or
upper-case conclusions, bot accounts): normalising them is the warehouse models' job.
"""

from __future__ import annotations

import csv
import json
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pipelines.sources.base import SourceError
from pipelines.sources.recording import JSON, Recording, repo_of_url

_PULL_NUMBER = re.compile(r"/pulls/(\d+)/")

_COLLECTIONS: dict[str, str] = {
    "pull_requests": "pull_requests",
    "pull_requests_bot_filter": "pull_requests",
    "pull_request_reviews": "reviews",
    "pr_reviews_bot_filter": "reviews",
    "pull_request_review_comments": "review_comments",
    "issues": "issues",
    "comments": "issue_comments",
    "events": "issue_events",
    "runs": "workflow_runs",
    "jobs": "jobs",
}
"""DevLake collection (file name after ``_raw_github_api_``) → recording field."""


def _rows(path: Path) -> Iterator[tuple[str, JSON]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or not {"url", "data"} <= set(reader.fieldnames):
            raise SourceError(f"{path.name}: expected the DevLake columns 'url' and 'data'")
        for line, row in enumerate(reader, start=2):
            try:
                data = json.loads(row["data"])
            except json.JSONDecodeError as exc:
                raise SourceError(f"{path.name}, line {line}: 'data' is not JSON ({exc.msg})") from exc
            if not isinstance(data, dict):
                raise SourceError(f"{path.name}, line {line}: 'data' is not a JSON object")
            yield row["url"], data


def _version(obj: JSON) -> str:
    value: Any = obj.get("updated_at") or obj.get("submitted_at") or obj.get("created_at") or ""
    return str(value)


def _keep_newest(found: dict[Any, JSON], key: Any, obj: JSON) -> None:
    current = found.get(key)
    if current is None or _version(obj) >= _version(current):
        found[key] = obj


def read_devlake_snapshot(directory: Path) -> Recording:
    """Build a :class:`Recording` from the ``_raw_github_api_*.csv`` files of ``directory``.

    Raises:
        SourceError: if the directory holds no recognised file or a row is malformed.
    """
    if not directory.is_dir():
        raise SourceError(f"snapshot directory {str(directory)!r} does not exist")
    files = sorted(directory.glob("_raw_github_api_*.csv"))
    known = [f for f in files if f.stem.removeprefix("_raw_github_api_") in _COLLECTIONS]
    if not known:
        raise SourceError(
            f"snapshot directory {str(directory)!r} has no DevLake raw GitHub files "
            "(_raw_github_api_pull_requests.csv, _raw_github_api_runs.csv, ...)"
        )
    per_repo: dict[str, dict[Any, JSON]] = {field: {} for field in set(_COLLECTIONS.values())}
    repos: set[str] = set()
    for path in known:
        target = _COLLECTIONS[path.stem.removeprefix("_raw_github_api_")]
        for url, obj in _rows(path):
            repo = repo_of_url(url)
            repos.add(repo)
            if target == "reviews":
                match = _PULL_NUMBER.search(url)
                if match is None:
                    raise SourceError(f"{path.name}: cannot tell the pull request of {url!r}")
                _keep_newest(per_repo[target], (repo, int(match.group(1)), obj["id"]), obj)
            elif target == "jobs":
                _keep_newest(
                    per_repo[target], (repo, obj["run_id"], obj.get("run_attempt") or 1, obj["id"]), obj
                )
            else:
                _keep_newest(per_repo[target], (repo, obj["id"]), obj)

    rec = Recording(repos=sorted(repos))
    for field in (
        "pull_requests",
        "review_comments",
        "issues",
        "issue_comments",
        "issue_events",
        "workflow_runs",
    ):
        listing: dict[str, list[JSON]] = getattr(rec, field)
        for (repo, _id), obj in per_repo[field].items():
            listing.setdefault(repo, []).append(obj)
    for (repo, number, _id), obj in per_repo["reviews"].items():
        rec.reviews.setdefault((repo, number), []).append(obj)
    for (repo, run_id, attempt, _id), obj in per_repo["jobs"].items():
        rec.jobs.setdefault((repo, int(run_id), int(attempt)), []).append(obj)
    return rec
