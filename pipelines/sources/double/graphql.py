"""The GraphQL operations the double answers, recognised by their operation names.

The double does not parse GraphQL. It recognises each operation by its name and answers it from the
recording and the write state, with a fixed superset of the fields its callers select:

- ``query PullRequestDetails`` (:mod:`pipelines.sources.github.queries`): reviews and files of
  pull requests, converted from REST into their GraphQL shapes;
- ``query PullRequestMergeQueue($owner, $name, $number)``: a pull request's node ``id``, head and
  base, ``isMergeQueueEnabled``, ``isInMergeQueue`` and ``mergeQueueEntry``;
- ``mutation EnqueuePullRequest($input: EnqueuePullRequestInput!)``: ``enqueuePullRequest``;
- ``mutation RevertPullRequest($input: RevertPullRequestInput!)``: ``revertPullRequest``.

Mutation inputs and payloads follow GitHub's GraphQL reference (``RevertPullRequestInput``:
``pullRequestId``, ``title``, ``body``, ``draft``, ``clientMutationId``; payload ``pullRequest`` and
``revertPullRequest``. ``EnqueuePullRequestInput``: ``pullRequestId``, ``expectedHeadOid``, ``jump``;
payload ``mergeQueueEntry``). A refused mutation answers ``data: {field: null}`` with an error.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from dataclasses import dataclass
from typing import Any

from pipelines.sources.double.rest import RestError
from pipelines.sources.double.views import RecordingView
from pipelines.sources.double.writes import WriteState, pull_node_id
from pipelines.sources.recording import JSON

OPERATION = "PullRequestDetails"
_OPERATION = re.compile(r"\bquery\s+PullRequestDetails\b")
_NAMED = re.compile(r"^\s*(?P<kind>query|mutation)\s+(?P<name>[A-Za-z_][A-Za-z0-9_]*)")
OPERATIONS = {
    "PullRequestMergeQueue": "query",
    "EnqueuePullRequest": "mutation",
    "RevertPullRequest": "mutation",
}
"""The other operations the double answers, by name, with their kind."""
_CURSOR_PREFIX = "cursor:v1:"
MAX_FIRST = 100
NESTED_FIRST = 100

_CHANGE_TYPES = {
    "added": "ADDED",
    "removed": "DELETED",
    "modified": "MODIFIED",
    "renamed": "RENAMED",
    "copied": "COPIED",
    "changed": "CHANGED",
}


class GraphQLError(Exception):
    """A request the double cannot execute; answered as ``{"errors": [...]}`` at no cost."""

    def __init__(self, message: str, error_type: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.error_type = error_type

    def payload(self) -> JSON:
        """The response body."""
        error: JSON = {"message": self.message}
        if self.error_type is not None:
            error["type"] = self.error_type
        return {"errors": [error]}


class BadRequestError(Exception):
    """A body that is not a JSON object with a ``query`` string (answered with HTTP 400)."""


@dataclass(frozen=True)
class PullRequestDetailsCall:
    """Validated variables of a ``PullRequestDetails`` query."""

    owner: str
    name: str
    first: int
    offset: int


@dataclass(frozen=True)
class OperationCall:
    """A recognised operation other than ``PullRequestDetails``, with its variables (checked on use)."""

    name: str
    variables: JSON


@dataclass(frozen=True)
class RateLimitInfo:
    """The ``rateLimit`` field: what this request cost and what is left."""

    cost: int
    remaining: int
    reset_at: str


def encode_cursor(offset: int) -> str:
    """The opaque cursor that resumes after ``offset`` items."""
    return base64.b64encode(f"{_CURSOR_PREFIX}{offset}".encode()).decode("ascii")


def decode_cursor(cursor: str) -> int:
    """The offset an opaque cursor stands for.

    Raises:
        GraphQLError: when the cursor is not one the double issued.
    """
    try:
        text = base64.b64decode(cursor.encode("ascii"), validate=True).decode("ascii")
    except (binascii.Error, UnicodeError, ValueError):
        text = ""
    if text.startswith(_CURSOR_PREFIX) and text[len(_CURSOR_PREFIX) :].isdigit():
        return int(text[len(_CURSOR_PREFIX) :])
    raise GraphQLError(f"`{cursor}` does not appear to be a valid cursor.", "INVALID_CURSOR_ARGUMENTS")


def parse_request(body: bytes) -> PullRequestDetailsCall | OperationCall:
    """Read and validate a GraphQL POST body.

    Raises:
        BadRequestError: when the body is not a JSON object carrying a query.
        GraphQLError: for any other query, or invalid variables.
    """
    try:
        document = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError) as error:
        raise BadRequestError("Problems parsing JSON") from error
    if not isinstance(document, dict) or not isinstance(document.get("query"), str):
        raise BadRequestError("Problems parsing JSON")
    variables = document.get("variables") or {}
    named = _NAMED.match(document["query"])
    if named is not None and OPERATIONS.get(named["name"]) == named["kind"]:
        if not isinstance(variables, dict):
            raise GraphQLError("Variables must be an object")
        return OperationCall(name=named["name"], variables=variables)
    if not _OPERATION.search(document["query"]):
        raise GraphQLError("unsupported query")
    if not isinstance(variables, dict):
        raise GraphQLError("Variables must be an object")
    owner, name, first, after = (variables.get(key) for key in ("owner", "name", "first", "after"))
    if not isinstance(owner, str) or not isinstance(name, str):
        raise GraphQLError("Variable $owner and $name of type String! are required")
    if isinstance(first, bool) or not isinstance(first, int) or first < 0:
        raise GraphQLError("Variable $first of type Int! was provided invalid value")
    if first > MAX_FIRST:
        raise GraphQLError(
            f"Requesting {first} records on the `pullRequests` connection exceeds the `first` limit"
            f" of {MAX_FIRST} records.",
            "EXCESSIVE_PAGINATION",
        )
    if after is not None and not isinstance(after, str):
        raise GraphQLError("Variable $after of type String was provided invalid value")
    offset = 0 if after is None else decode_cursor(after)
    return PullRequestDetailsCall(owner=owner, name=name, first=first, offset=offset)


def _connection(items: list[JSON], nodes: list[JSON]) -> JSON:
    return {
        "totalCount": len(items),
        "pageInfo": {
            "hasNextPage": len(items) > len(nodes),
            "endCursor": encode_cursor(len(nodes)) if nodes else None,
        },
        "nodes": nodes,
    }


def _author(user: Any) -> JSON | None:
    if not isinstance(user, dict):
        return None
    login = str(user.get("login") or "")
    bot = user.get("type") == "Bot" or login.endswith("[bot]")
    return {"login": login, "__typename": "Bot" if bot else "User"}


def review_node(review: JSON) -> JSON:
    """A REST pull request review in the GraphQL shape the query selects."""
    commit_id = review.get("commit_id")
    return {
        "databaseId": review.get("id"),
        "author": _author(review.get("user")),
        "state": review.get("state"),
        "body": review.get("body"),
        "submittedAt": review.get("submitted_at"),
        "authorAssociation": review.get("author_association"),
        "commit": {"oid": commit_id} if commit_id else None,
    }


def file_node(changed: JSON) -> JSON:
    """A REST pull request file in the GraphQL shape the query selects."""
    status = str(changed.get("status") or "")
    return {
        "path": changed.get("filename"),
        "additions": changed.get("additions"),
        "deletions": changed.get("deletions"),
        "changeType": _CHANGE_TYPES.get(status, "CHANGED"),
    }


def _pull_node(view: RecordingView, repo: str, pull: JSON) -> JSON:
    number = pull.get("number")
    if not isinstance(number, int):
        return {"number": number, "updatedAt": pull.get("updated_at"), "reviews": None, "files": None}
    reviews = view.reviews(repo, number)
    files = view.recording.pr_files.get((repo, number), [])
    return {
        "number": number,
        "updatedAt": pull.get("updated_at"),
        "reviews": _connection(reviews, [review_node(r) for r in reviews[:NESTED_FIRST]]),
        "files": _connection(files, [file_node(f) for f in files[:NESTED_FIRST]]),
    }


def execute(view: RecordingView, call: PullRequestDetailsCall, rate: RateLimitInfo) -> JSON:
    """Answer a validated ``PullRequestDetails`` query.

    Args:
        view: cached views of the recording.
        call: the validated variables.
        rate: the ``rateLimit`` values to report (the request has been charged already).

    Returns:
        The response body: ``data`` and, for an unknown repository, ``errors``.
    """
    rate_limit = {"cost": rate.cost, "remaining": rate.remaining, "resetAt": rate.reset_at}
    repo = view.resolve_repo(call.owner, call.name)
    if repo is None:
        return {
            "data": {"rateLimit": rate_limit, "repository": None},
            "errors": [
                {
                    "type": "NOT_FOUND",
                    "path": ["repository"],
                    "locations": [{"line": 4, "column": 3}],
                    "message": f"Could not resolve to a Repository with the name '{call.owner}/{call.name}'.",
                }
            ],
        }
    ordered = view.sorted_list("pull_requests", repo, "updated_at", descending=True)
    page = ordered[call.offset : call.offset + call.first]
    end = call.offset + len(page)
    pulls = {
        "pageInfo": {
            "hasNextPage": end < len(ordered),
            "endCursor": encode_cursor(end) if page else None,
        },
        "nodes": [_pull_node(view, repo, pull) for pull in page],
    }
    return {"data": {"rateLimit": rate_limit, "repository": {"pullRequests": pulls}}}


# --- merge queue and revert --------------------------------------------------------------------


def _input(call: OperationCall, type_name: str, strings: tuple[str, ...], booleans: tuple[str, ...]) -> JSON:
    """The mutation's ``$input`` object, checked the way GitHub checks variable types."""
    given = call.variables.get("input")
    if not isinstance(given, dict):
        raise GraphQLError(f"Variable $input of type {type_name}! was provided invalid value")
    if not isinstance(given.get("pullRequestId"), str) or not given["pullRequestId"]:
        raise GraphQLError(
            f"Variable $input of type {type_name}! was provided invalid value for pullRequestId "
            "(Expected value to not be null)"
        )
    for key, value in given.items():
        known = key in ("pullRequestId", "clientMutationId", *strings, *booleans)
        if not known:
            raise GraphQLError(
                f"Variable $input of type {type_name}! was provided invalid value for {key} "
                "(Field is not defined on " + type_name + ")"
            )
        kind = bool if key in booleans else str
        if value is not None and not isinstance(value, kind):
            raise GraphQLError(f"Variable $input of type {type_name}! was provided invalid value for {key}")
    return given


def _refused(field: str, error: RestError, rate_limit: JSON | None = None) -> JSON:
    kind = "NOT_FOUND" if error.status == 404 else "UNPROCESSABLE"
    data: JSON = {field: None}
    if rate_limit is not None:
        data["rateLimit"] = rate_limit
    return {
        "data": data,
        "errors": [
            {"type": kind, "path": [field], "locations": [{"line": 2, "column": 3}], "message": error.message}
        ],
    }


def _merge_queue_of(view: RecordingView, writes: WriteState, call: OperationCall, rate_limit: JSON) -> JSON:
    owner, name, number = (call.variables.get(key) for key in ("owner", "name", "number"))
    if not isinstance(owner, str) or not isinstance(name, str):
        raise GraphQLError("Variable $owner and $name of type String! are required")
    if isinstance(number, bool) or not isinstance(number, int):
        raise GraphQLError("Variable $number of type Int! was provided invalid value")
    repo = view.resolve_repo(owner, name)
    pull = None if repo is None else view.pull(repo, number)
    if repo is None or pull is None:
        what = "Repository with the name" if repo is None else "PullRequest with the number of"
        target = f"'{owner}/{name}'" if repo is None else str(number)
        path = ["repository"] if repo is None else ["repository", "pullRequest"]
        data: JSON = {"rateLimit": rate_limit, "repository": None if repo is None else {"pullRequest": None}}
        error = {"type": "NOT_FOUND", "path": path, "message": f"Could not resolve to a {what} {target}."}
        return {"data": data, "errors": [error]}
    base = str((pull.get("base") or {}).get("ref") or "")
    entry = writes.queue_entry(repo, number)
    node = {
        "id": pull_node_id(repo, pull),
        "number": number,
        "state": "MERGED" if pull.get("merged") else str(pull.get("state") or "open").upper(),
        "headRefOid": (pull.get("head") or {}).get("sha"),
        "baseRefName": base,
        "isMergeQueueEnabled": (repo, base) in writes.merge_queues,
        "isInMergeQueue": entry is not None,
        "mergeQueueEntry": None
        if entry is None
        else {
            "id": entry["id"],
            "position": entry["position"],
            "state": entry["state"],
            "enqueuedAt": entry["enqueuedAt"],
        },
    }
    return {"data": {"rateLimit": rate_limit, "repository": {"pullRequest": node}}}


def _enqueue(writes: WriteState, call: OperationCall) -> JSON:
    given = _input(call, "EnqueuePullRequestInput", ("expectedHeadOid",), ("jump",))
    try:
        entry = writes.enqueue(given["pullRequestId"], given.get("expectedHeadOid"))
    except RestError as error:
        return _refused("enqueuePullRequest", error)
    payload = {
        "clientMutationId": given.get("clientMutationId"),
        "mergeQueueEntry": {
            "id": entry["id"],
            "position": entry["position"],
            "state": entry["state"],
            "enqueuedAt": entry["enqueuedAt"],
            "pullRequest": {"id": given["pullRequestId"], "number": entry["number"]},
        },
    }
    return {"data": {"enqueuePullRequest": payload}}


def _pull_ref(repo: str, pull: JSON) -> JSON:
    return {
        "id": pull_node_id(repo, pull),
        "number": pull.get("number"),
        "title": pull.get("title"),
        "url": pull.get("html_url") or f"https://github.com/{repo}/pull/{pull.get('number')}",
        "headRefName": (pull.get("head") or {}).get("ref"),
        "baseRefName": (pull.get("base") or {}).get("ref"),
        "isDraft": bool(pull.get("draft")),
    }


def _revert(writes: WriteState, call: OperationCall) -> JSON:
    given = _input(call, "RevertPullRequestInput", ("title", "body"), ("draft",))
    if writes.before_revert is not None:
        writes.before_revert(given["pullRequestId"])
    try:
        created = writes.revert_pull(
            given["pullRequestId"],
            title=given.get("title"),
            body=given.get("body"),
            draft=bool(given.get("draft") or False),
        )
    except RestError as error:
        return _refused("revertPullRequest", error)
    found = writes.pull_node(given["pullRequestId"])
    repo, reverted = found if found is not None else ("", {})
    payload = {
        "clientMutationId": given.get("clientMutationId"),
        "pullRequest": _pull_ref(repo, reverted),
        "revertPullRequest": _pull_ref(repo, created),
    }
    return {"data": {"revertPullRequest": payload}}


def execute_operation(
    view: RecordingView, writes: WriteState, call: OperationCall, rate: RateLimitInfo
) -> JSON:
    """Answer a recognised operation other than ``PullRequestDetails`` (see the module docstring).

    Raises:
        GraphQLError: for variables of the wrong type (answered like GitHub, without ``data``).
    """
    rate_limit = {"cost": rate.cost, "remaining": rate.remaining, "resetAt": rate.reset_at}
    if call.name == "PullRequestMergeQueue":
        return _merge_queue_of(view, writes, call, rate_limit)
    if call.name == "EnqueuePullRequest":
        return _enqueue(writes, call)
    return _revert(writes, call)
