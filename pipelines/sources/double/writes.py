"""Endpoints of the double that change state: git data (blobs, trees, commits, refs) and branches.

The recording is read-only history; what actions and the publish asset write lives here, per
repository, so a test can read it back through the API (as a workflow step would) or inspect it
directly. Object ids are SHA-1 digests of the object's type, size and content, as git's are, so
the same content always gets the same id, as on GitHub.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pipelines.sources.double.rest import Reply, RestError, RestRequest, not_found, validation_failed

JSON = dict[str, Any]
Handler = Callable[["WriteState", RestRequest, str, re.Match[str], JSON], Reply]

_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []


def _route(method: str, pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _ROUTES.append((method, re.compile(f"^{pattern}$"), handler))
        return handler

    return register


def _object_id(kind: str, content: bytes) -> str:
    header = f"{kind} {len(content)}\0".encode()
    return hashlib.sha1(header + content, usedforsecurity=False).hexdigest()


@dataclass
class GitStore:
    """One repository's git objects and branch heads."""

    blobs: dict[str, bytes] = field(default_factory=dict)
    trees: dict[str, list[JSON]] = field(default_factory=dict)
    commits: dict[str, JSON] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def files(self, commit_sha: str) -> dict[str, bytes]:
        """Path → content of every file in a commit."""
        tree = self.trees[self.commits[commit_sha]["tree"]]
        return {e["path"]: self.blobs[e["sha"]] for e in tree if e["type"] == "blob"}


class WriteState:
    """Mutable state behind the double's writing endpoints (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.git: dict[str, GitStore] = {}

    def store(self, repo: str) -> GitStore:
        """The git store of ``repo`` (created empty on first use)."""
        return self.git.setdefault(repo, GitStore())

    def branch_files(self, repo: str, branch: str) -> dict[str, bytes] | None:
        """Files at the head of ``branch`` of ``repo``, or None when there is no such branch."""
        with self._lock:
            store = self.git.get(repo)
            head = None if store is None else store.refs.get(f"heads/{branch}")
            return None if store is None or head is None else store.files(head)

    def handle(self, method: str, request: RestRequest, repo: str, rest: str, body: JSON) -> Reply | None:
        """Answer ``method rest`` of ``repo`` if it is one of these endpoints, else None."""
        for route_method, pattern, handler in _ROUTES:
            hit = pattern.match(rest)
            if route_method == method and hit is not None:
                with self._lock:
                    try:
                        return handler(self, request, repo, hit, body)
                    except RestError as error:
                        return Reply(error.status, {"message": error.message})
        return None


def _repo_url(request: RestRequest, repo: str) -> str:
    return f"{request.api_base}/repos/{repo}"


def _require(body: JSON, key: str, kind: type) -> Any:
    value = body.get(key)
    if not isinstance(value, kind):
        raise validation_failed(key)
    return value


@_route("POST", "/git/blobs")
def _create_blob(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], body: JSON) -> Reply:
    content = _require(body, "content", str)
    encoding = body.get("encoding", "utf-8")
    if encoding == "base64":
        try:
            data = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError) as error:
            raise validation_failed("content") from error
    elif encoding == "utf-8":
        data = content.encode("utf-8")
    else:
        raise validation_failed("encoding")
    sha = _object_id("blob", data)
    state.store(repo).blobs[sha] = data
    return Reply(201, {"sha": sha, "url": f"{_repo_url(request, repo)}/git/blobs/{sha}"})


@_route("GET", r"/git/blobs/(?P<sha>[0-9a-f]{40})")
def _get_blob(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    data = state.store(repo).blobs.get(hit["sha"])
    if data is None:
        raise not_found()
    return Reply(
        200,
        {
            "sha": hit["sha"],
            "size": len(data),
            "encoding": "base64",
            "content": base64.b64encode(data).decode("ascii"),
            "url": f"{_repo_url(request, repo)}/git/blobs/{hit['sha']}",
        },
    )


def _tree_payload(request: RestRequest, repo: str, sha: str, entries: list[JSON]) -> JSON:
    return {
        "sha": sha,
        "url": f"{_repo_url(request, repo)}/git/trees/{sha}",
        "tree": [{**e, "url": f"{_repo_url(request, repo)}/git/blobs/{e['sha']}"} for e in entries],
        "truncated": False,
    }


@_route("POST", "/git/trees")
def _create_tree(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], body: JSON) -> Reply:
    store = state.store(repo)
    entries: dict[str, JSON] = {}
    base = body.get("base_tree")
    if base is not None:
        if base not in store.trees:
            raise validation_failed("base_tree")
        entries = {e["path"]: e for e in store.trees[base]}
    for item in _require(body, "tree", list):
        if not isinstance(item, dict) or not isinstance(item.get("path"), str) or item.get("type") != "blob":
            raise validation_failed("tree")
        if item.get("sha") is None and "sha" in item:
            entries.pop(item["path"], None)  # a null sha deletes the file
            continue
        if isinstance(item.get("content"), str):
            data = item["content"].encode("utf-8")
            sha = _object_id("blob", data)
            store.blobs[sha] = data
        elif item.get("sha") in store.blobs:
            sha = item["sha"]
        else:
            raise validation_failed("tree.sha")
        size = len(store.blobs[sha])
        entries[item["path"]] = {
            "path": item["path"],
            "mode": "100644",
            "type": "blob",
            "sha": sha,
            "size": size,
        }
    listing = sorted(entries.values(), key=lambda e: e["path"])
    sha = _object_id("tree", "\n".join(f"{e['path']} {e['sha']}" for e in listing).encode())
    store.trees[sha] = listing
    return Reply(201, _tree_payload(request, repo, sha, listing))


@_route("GET", r"/git/trees/(?P<sha>[0-9a-f]{40})")
def _get_tree(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    entries = state.store(repo).trees.get(hit["sha"])
    if entries is None:
        raise not_found()
    return Reply(200, _tree_payload(request, repo, hit["sha"], entries))


def _commit_payload(request: RestRequest, repo: str, sha: str, commit: JSON) -> JSON:
    base = _repo_url(request, repo)
    return {
        "sha": sha,
        "url": f"{base}/git/commits/{sha}",
        "message": commit["message"],
        "tree": {"sha": commit["tree"], "url": f"{base}/git/trees/{commit['tree']}"},
        "parents": [{"sha": p, "url": f"{base}/git/commits/{p}"} for p in commit["parents"]],
    }


@_route("POST", "/git/commits")
def _create_commit(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], body: JSON) -> Reply:
    store = state.store(repo)
    tree = _require(body, "tree", str)
    parents = body.get("parents", [])
    if tree not in store.trees:
        raise validation_failed("tree")
    if not isinstance(parents, list) or any(p not in store.commits for p in parents):
        raise validation_failed("parents")
    message = _require(body, "message", str)
    commit = {"tree": tree, "parents": list(parents), "message": message}
    sha = _object_id("commit", f"{tree}\n{' '.join(parents)}\n{message}".encode())
    store.commits[sha] = commit
    return Reply(201, _commit_payload(request, repo, sha, commit))


@_route("GET", r"/git/commits/(?P<sha>[0-9a-f]{40})")
def _get_commit(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    commit = state.store(repo).commits.get(hit["sha"])
    if commit is None:
        raise not_found()
    return Reply(200, _commit_payload(request, repo, hit["sha"], commit))


def _ref_payload(request: RestRequest, repo: str, ref: str, sha: str) -> JSON:
    base = _repo_url(request, repo)
    return {
        "ref": f"refs/{ref}",
        "url": f"{base}/git/refs/{ref}",
        "object": {"type": "commit", "sha": sha, "url": f"{base}/git/commits/{sha}"},
    }


@_route("GET", r"/git/refs?/(?P<ref>heads/.+)")
def _get_ref(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    sha = state.store(repo).refs.get(hit["ref"])
    if sha is None:
        raise not_found()
    return Reply(200, _ref_payload(request, repo, hit["ref"], sha))


@_route("POST", "/git/refs")
def _create_ref(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], body: JSON) -> Reply:
    store = state.store(repo)
    full = _require(body, "ref", str)
    sha = _require(body, "sha", str)
    if not full.startswith("refs/heads/") or sha not in store.commits:
        raise validation_failed("ref")
    ref = full.removeprefix("refs/")
    if ref in store.refs:
        raise RestError(422, "Reference already exists")
    store.refs[ref] = sha
    return Reply(201, _ref_payload(request, repo, ref, sha))


def _descends(store: GitStore, sha: str, ancestor: str) -> bool:
    pending, seen = [sha], set()
    while pending:
        current = pending.pop()
        if current == ancestor:
            return True
        if current not in seen:
            seen.add(current)
            pending.extend(store.commits[current]["parents"])
    return False


@_route("PATCH", r"/git/refs/(?P<ref>heads/.+)")
def _update_ref(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    store = state.store(repo)
    ref = hit["ref"]
    sha = _require(body, "sha", str)
    if ref not in store.refs:
        raise not_found()
    if sha not in store.commits:
        raise validation_failed("sha")
    if not body.get("force", False) and not _descends(store, sha, store.refs[ref]):
        raise RestError(422, "Update is not a fast forward")
    store.refs[ref] = sha
    return Reply(200, _ref_payload(request, repo, ref, sha))


@_route("GET", r"/branches/(?P<branch>[^/]+)")
def _get_branch(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    store = state.store(repo)
    sha = store.refs.get(f"heads/{hit['branch']}")
    if sha is None:
        raise RestError(404, "Branch not found")
    commit = _commit_payload(request, repo, sha, store.commits[sha])
    return Reply(
        200,
        {
            "name": hit["branch"],
            "commit": {"sha": sha, "url": f"{_repo_url(request, repo)}/commits/{sha}", "commit": commit},
            "protected": False,
        },
    )
