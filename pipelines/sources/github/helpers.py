"""Conversions between GitHub's GraphQL and REST shapes, and timestamp parsing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

JSON = dict[str, Any]

_CHANGE_TYPES = {
    "ADDED": "added",
    "DELETED": "removed",
    "MODIFIED": "modified",
    "RENAMED": "renamed",
    "COPIED": "copied",
    "CHANGED": "changed",
}


def parse_time(value: Any) -> datetime | None:
    """Parse an ISO-8601 timestamp (``Z`` or an offset) to an aware UTC datetime; ``None`` if empty."""
    if not value:
        return None
    parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def review_from_graphql(node: JSON, pull_request_url: str) -> JSON:
    """Turn a GraphQL ``PullRequestReview`` node into the REST review shape the warehouse reads."""
    author = node.get("author")
    user = None
    if author is not None:
        is_bot = author.get("__typename") == "Bot"
        login = str(author["login"])
        # GraphQL names apps without the "[bot]" suffix that REST (and so the warehouse) uses.
        if is_bot and not login.endswith("[bot]"):
            login += "[bot]"
        user = {"login": login, "type": "Bot" if is_bot else "User"}
    commit = node.get("commit") or {}
    return {
        "id": node["databaseId"],
        "user": user,
        "body": node.get("body"),
        "state": node.get("state"),
        "submitted_at": node.get("submittedAt"),
        "commit_id": commit.get("oid"),
        "author_association": node.get("authorAssociation"),
        "pull_request_url": pull_request_url,
    }


def file_from_graphql(node: JSON) -> JSON:
    """Turn a GraphQL ``PullRequestChangedFile`` node into the REST ``/pulls/{n}/files`` shape."""
    additions = int(node.get("additions") or 0)
    deletions = int(node.get("deletions") or 0)
    return {
        "filename": node["path"],
        "status": _CHANGE_TYPES.get(str(node.get("changeType")), "changed"),
        "additions": additions,
        "deletions": deletions,
        "changes": additions + deletions,
    }
