"""What the SLA check needs from the GitHub REST API: items with their first response, and workflow runs.

For each watched repository, with as few requests as the API allows:

* the open issues and pull requests (``GET /repos/{o}/{r}/issues?state=open``; the issues list holds
  pull requests too) and those closed since the start of the previous window
  (``state=closed&since=``, which filters on ``updated_at``: a closed item was updated when it
  closed, so none is missed);
* their first responses: the first issue comment, and for a pull request also the first review,
  by someone other than the author and not a bot. Comments come from one repository-wide listing
  (``/issues/comments?sort=created&direction=asc&since=``, starting at the oldest item that has
  comments, stopping once every such item is answered); reviews from each pull request's
  ``/reviews``. repopilot's own comments carry :data:`MARKER` and never count as a response;
* the workflow runs created since one window before the previous one (the extra window tells
  whether a workflow was already failing when the windows begin).

Incident issues (those carrying the incident label) are left out: they are not work to respond to.
Pages are read with PyGithub's requester (its authentication, retries and rate-limit handling),
100 per page, following the ``Link`` header.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from github.Requester import Requester

from actions.common.github import parse_time

MARKER = "<!-- repopilot-sla -->"
"""Hidden marker in every comment the SLA action writes (so it never counts as a response)."""

_NEXT = re.compile(r'<([^>]+)>;\s*rel="next"')
_ISSUE_NUMBER = re.compile(r"/issues/(\d+)$")


def _iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _when(value: Any) -> datetime | None:
    """A GitHub timestamp in UTC; None when absent, unreadable or without an offset (the engine says so)."""
    return parse_time(value, naive_as_utc=False)


def pages(
    requester: Requester, path: str, params: Mapping[str, str], wrap: str | None = None
) -> Iterator[dict[str, Any]]:
    """Every item of a paginated list endpoint (``wrap``: the key holding the items, e.g. ``workflow_runs``).

    Raises:
        ValueError: when GitHub answers something that is not a list of objects.
    """
    url: str | None = path
    query: dict[str, Any] | None = {**params, "per_page": 100}
    while url is not None:
        headers, data = requester.requestJsonAndCheck("GET", url, parameters=query)
        items = data.get(wrap) if wrap is not None and isinstance(data, dict) else data
        if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
            raise ValueError(f"GitHub answered {path} with something other than a list of objects")
        yield from items
        link = next((str(v) for k, v in headers.items() if k.lower() == "link"), "")
        match = _NEXT.search(link)
        url, query = (match.group(1), None) if match else (None, None)


def _login(user: Any) -> str | None:
    return str(user["login"]) if isinstance(user, Mapping) and user.get("login") else None


def _is_bot(user: Any) -> bool:
    login = _login(user) or ""
    return login.endswith("[bot]") or (isinstance(user, Mapping) and user.get("type") == "Bot")


def _labels(item: Mapping[str, Any]) -> list[str]:
    return [str(lab["name"]) if isinstance(lab, Mapping) else str(lab) for lab in item.get("labels") or []]


def fetch_items(
    requester: Requester, repo: str, since: datetime, incident_label: str
) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The items of ``repo`` whose clocks run or stopped since ``since``, with their first response.

    Returns:
        The items (mappings :meth:`actions.sla.engine.SlaItem.parse` reads) and request counts.
    """
    path = f"/repos/{repo}"
    found: dict[int, dict[str, Any]] = {}
    listed = 0
    for state, extra in (("open", {}), ("closed", {"since": _iso(since)})):
        for raw in pages(requester, f"{path}/issues", {"state": state, **extra}):
            listed += 1
            labels = _labels(raw)
            if incident_label.lower() in {name.lower() for name in labels}:
                continue
            closed = raw.get("closed_at")
            stopped = _when(closed)
            if state == "closed" and stopped is not None and stopped < since:
                continue  # updated lately, but its clocks stopped before the windows
            number = raw.get("number")
            if not isinstance(number, int):
                raise ValueError(f"{repo}: an issue without a number")
            found[number] = {
                "repo": repo,
                "number": number,
                "title": raw.get("title"),
                "created_at": raw.get("created_at"),
                "closed_at": closed if state == "closed" else None,
                "labels": labels,
                "is_pull_request": "pull_request" in raw,
                "first_response_at": None,
                "_author": _login(raw.get("user")),
                "_comments": raw.get("comments") != 0,  # unknown counts are looked up
            }
    counts = {"listed": listed, "pull_reviews": 0}
    _first_comments(requester, repo, found)
    for item in found.values():
        if item["is_pull_request"]:
            counts["pull_reviews"] += 1
            for review in pages(requester, f"{path}/pulls/{item['number']}/reviews", {}):
                user, at = review.get("user"), _when(review.get("submitted_at"))
                if at is not None and _login(user) != item["_author"] and not _is_bot(user):
                    current = _when(item["first_response_at"])
                    if current is None or at < current:
                        item["first_response_at"] = review["submitted_at"]
                    break  # reviews come in submission order
    items = [{k: v for k, v in item.items() if not k.startswith("_")} for item in found.values()]
    return items, counts


def _first_comments(requester: Requester, repo: str, found: dict[int, dict[str, Any]]) -> None:
    waiting = {n for n, item in found.items() if item["_comments"]}
    if not waiting:
        return
    created = [moment for n in waiting if (moment := _when(found[n]["created_at"])) is not None]
    if not created:
        return
    params = {"sort": "created", "direction": "asc", "since": _iso(min(created))}
    for comment in pages(requester, f"/repos/{repo}/issues/comments", params):
        match = _ISSUE_NUMBER.search(str(comment.get("issue_url", "")))
        number = int(match.group(1)) if match else None
        if number not in waiting:
            continue
        item = found[number]
        user = comment.get("user")
        if _login(user) == item["_author"] or _is_bot(user) or MARKER in str(comment.get("body") or ""):
            continue
        item["first_response_at"] = comment.get("created_at")
        waiting.discard(number)
        if not waiting:
            break


def fetch_runs(requester: Requester, repo: str, since: datetime) -> list[dict[str, Any]]:
    """The finished workflow runs of ``repo`` created since ``since``, as the SLA engine reads them."""
    runs = []
    params = {"created": f">={_iso(since)}"}
    for raw in pages(requester, f"/repos/{repo}/actions/runs", params, wrap="workflow_runs"):
        if not raw.get("conclusion"):
            continue  # still queued or running: only a finished run has a conclusion
        runs.append(
            {
                "id": raw.get("id"),
                "repo": repo,
                "workflow": raw.get("name") or raw.get("workflow_id"),
                "completed_at": raw.get("updated_at") or raw.get("created_at"),
                "conclusion": raw.get("conclusion"),
            }
        )
    return runs


def lookback(now: datetime, window_hours: float) -> tuple[datetime, datetime]:
    """``(items_since, runs_since)``: the previous window's start, and one window before it."""
    length = timedelta(hours=window_hours)
    return now - 2 * length, now - 3 * length
