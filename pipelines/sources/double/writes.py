"""Endpoints of the double that change state: git data, branches, pull requests, issues and their labels.

The recording is read-only history; what actions and the publish asset write lives here, per
repository, so a test can read it back through the API (as a workflow step would) or inspect it
directly. Object ids are SHA-1 digests of the object's type, size and content, as git's are, so
the same content always gets the same id, as on GitHub.

Pull requests and issues are the recording's own objects: merging, labelling, assigning, requesting
reviewers, commenting and editing (``PATCH``: title, body, closing, reopening) change them in place
(under the view's lock, then invalidating its caches), so a later GET reads the change back, as it
would on GitHub. :meth:`WriteState.configure_pull` sets
the state an auto-merge decision reads (mergeability, checks, statuses, reviews, labels, draft).

Workflows are those the recording's runs name plus any a test adds with :meth:`WriteState.add_workflow`;
a workflow dispatch creates a queued run that the run listings then show.
Workflow runs are re-run (``POST .../actions/runs/{id}/rerun`` and ``.../rerun-failed-jobs``) with
GitHub's refusals: 403 while the run is queued or in progress, once it was created more than 30
days ago, and after 50 attempts; a re-run moves the attempt to the run's earlier attempts and
queues the next one, which :meth:`WriteState.finish_run` completes.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote

from pipelines.sources.double.rest import (
    _RUN_FILTERS,
    Reply,
    RestError,
    RestRequest,
    _created_filter,
    _run_matches,
    error_payload,
    not_found,
    paginate,
    validation_failed,
)
from pipelines.sources.double.views import RecordingView, item_id, timestamp_key

JSON = dict[str, Any]
Handler = Callable[["WriteState", RestRequest, str, re.Match[str], JSON], Reply | None]

_ROUTES: list[tuple[str, re.Pattern[str], Handler]] = []
LIST_BODY = "__list__"
EMPTY_REPOSITORY = "Git Repository is empty."
"""GitHub's 409 message for the git data API of a repository with no commit."""
"""Key under which the server passes a request body that is a bare JSON array."""


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
    """Mutable state behind the double's writing endpoints (thread-safe).

    Attributes:
        git: each repository's git objects and branch heads.
        actor: the login the token belongs to (author of what the double creates).
        deleted_branches: ``(repo, branch)`` of head branches deleted that the git store did not hold.
        merges: ``(repo, number, merge_method)`` of every merge, in order.
        reruns: ``(repo, run_id, "rerun" | "rerun-failed-jobs")`` of every re-run started, in order.
        merge_queues: ``(repo, base branch)`` → the entries of that branch's merge queue, in order;
            a branch is in the mapping when its merge queue is enabled (:meth:`enable_merge_queue`).
        reverts: ``(repo, reverted number, revert number)`` of every revert pull request created.
        default_branches: a repository's default branch when it is not ``main`` (``GET /repos/{o}/{r}``).
        now: the clock of created and merged timestamps.
        denied_permissions: permissions the token lacks (so far ``statuses``): a write that needs one is
            refused with 403 "Resource not accessible by integration", as GitHub refuses a
            ``GITHUB_TOKEN`` whose workflow's permissions block leaves it out.
        before_revert: a test's hook, called with the pull request's node id when a ``revertPullRequest``
            arrives and before it is applied (no lock held), to interleave concurrent clients the way
            two workflow runs deciding at the same moment do; None (default) applies it at once.
    """

    def __init__(self, view: RecordingView | None = None) -> None:
        self._lock = threading.Lock()
        self.git: dict[str, GitStore] = {}
        self.view = view
        self.actor = "repopilot-bot"
        self.deleted_branches: set[tuple[str, str]] = set()
        self.merges: list[tuple[str, int, str]] = []
        self.dispatches: list[Dispatch] = []
        self.workflows: dict[str, dict[str, _Workflow]] = {}
        self.reruns: list[tuple[str, int, str]] = []
        self.merge_queues: dict[tuple[str, str], list[JSON]] = {}
        self.reverts: list[tuple[str, int, int]] = []
        self.default_branches: dict[str, str] = {}
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.before_revert: Callable[[str], None] | None = None
        self.denied_permissions: set[str] = set()
        self.empty_repositories: set[str] = set()
        self._next_id = 9_000_000_000

    def store(self, repo: str) -> GitStore:
        """The git store of ``repo`` (created empty on first use)."""
        return self.git.setdefault(repo, GitStore())

    def branch_files(self, repo: str, branch: str) -> dict[str, bytes] | None:
        """Files at the head of ``branch`` of ``repo``, or None when there is no such branch."""
        with self._lock:
            store = self.git.get(repo)
            head = None if store is None else store.refs.get(f"heads/{branch}")
            return None if store is None or head is None else store.files(head)

    def commit_files(self, repo: str, branch: str, files: Mapping[str, str | None], message: str) -> str:
        """Commit ``files`` (path → text, None deletes) on top of ``branch`` (created if absent).

        Returns:
            The new commit's id, now the head of the branch.
        """
        with self._lock:
            self.empty_repositories.discard(repo)
            store = self.store(repo)
            parent = store.refs.get(f"heads/{branch}")
            current = {} if parent is None else store.files(parent)
            for path, text in files.items():
                if text is None:
                    current.pop(path, None)
                else:
                    current[path] = text.encode("utf-8")
            sha = _write_commit(store, current, [] if parent is None else [parent], message)
            store.refs[f"heads/{branch}"] = sha
            return sha

    def add_workflow(
        self, repo: str, path: str, *, name: str | None = None, dispatch_inputs: Iterable[str] | None = ()
    ) -> JSON:
        """Add a workflow file to ``repo`` (as if committed to its default branch); returns its JSON.

        Args:
            repo: the repository as the recording spells it.
            path: e.g. ``.github/workflows/deps.yml``.
            name: the workflow's ``name:`` (default: the file name).
            dispatch_inputs: the inputs its ``workflow_dispatch`` trigger declares; None when it has no
                such trigger (a dispatch then fails with 422, as on GitHub).
        """
        with self._lock:
            workflow = _Workflow(
                id=self.next_id(),
                name=name or path.rsplit("/", 1)[-1],
                path=path,
                created_at=self.stamp(),
                dispatch_inputs=None if dispatch_inputs is None else tuple(dispatch_inputs),
            )
            self.workflows.setdefault(repo, {})[path] = workflow
            return workflow.payload(repo, "https://api.github.com")

    def next_id(self) -> int:
        """A fresh object id (comments, labels, pull requests)."""
        self._next_id += 1
        return self._next_id

    def stamp(self) -> str:
        """The current time as GitHub writes it."""
        return self.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    def recording_view(self) -> RecordingView:
        """The view of the recording (pull requests and issues live there)."""
        if self.view is None:
            raise not_found()
        return self.view

    def make_empty(self, repo: str) -> None:
        """Make ``repo`` a repository with no commit yet (created without a README).

        GitHub answers every git data endpoint of such a repository (refs, blobs, trees, commits,
        reads and writes) with 409 "Git Repository is empty."; its first commit has to come from a
        push or the web (here :meth:`commit_files`), after which the endpoints work.
        """
        with self._lock:
            self.empty_repositories.add(repo)
            self.git.pop(repo, None)

    def enable_merge_queue(self, repo: str, branch: str = "main") -> None:
        """Turn on the merge queue of ``branch`` (as a ruleset's ``merge_queue`` rule does)."""
        with self._lock:
            self.merge_queues.setdefault((repo, branch), [])

    def queue_entry(self, repo: str, number: int) -> JSON | None:
        """The merge queue entry of pull request ``number``, or None when it is not queued."""
        with self._lock:
            return _queue_entry(self, repo, number)

    def land_merge_queue(self, repo: str, branch: str = "main") -> list[int]:
        """Merge every entry of ``branch``'s queue, first in first out, as the queue's merge group would.

        Returns:
            The pull request numbers merged.
        """
        view = self.recording_view()
        with self._lock, view.lock:
            entries = self.merge_queues.get((repo, branch), [])
            merged = []
            for entry in list(entries):
                pull = view.pull(repo, int(entry["number"]))
                if pull is not None:
                    title = f"{pull['title']} (#{entry['number']})"
                    _merge_pull(self, view, repo, pull, "squash", title, "")
                    merged.append(int(entry["number"]))
            entries.clear()
            view.invalidate()
            return merged

    def pull_node(self, node_id: str) -> tuple[str, JSON] | None:
        """``(repo, pull request)`` of a pull request's global node id, or None."""
        view = self.recording_view()
        with view.lock:
            for repo, pulls in view.recording.pull_requests.items():
                for pull in pulls:
                    if pull_node_id(repo, pull) == node_id:
                        return repo, pull
        return None

    def enqueue(self, node_id: str, expected_head: str | None) -> JSON:
        """``enqueuePullRequest``: add a pull request to its base branch's merge queue; returns the entry.

        Raises:
            RestError: 404 for an unknown node, 422 when the pull request cannot be queued.
        """
        found = self.pull_node(node_id)
        if found is None:
            raise RestError(404, f"Could not resolve to a node with the global id of '{node_id}'")
        repo, pull = found
        view = self.recording_view()
        with self._lock, view.lock:
            queue = self.merge_queues.get((repo, str(pull["base"]["ref"])))
            if queue is None:
                raise RestError(422, "Merge queue is not enabled for the base branch of this pull request")
            if pull.get("state") != "open" or pull.get("merged") or pull.get("draft"):
                raise RestError(422, "Pull request is not in a state that can be added to the merge queue")
            if expected_head is not None and expected_head != pull["head"]["sha"]:
                raise RestError(422, "Expected head OID does not match the head of the pull request")
            if _queue_entry(self, repo, int(pull["number"])) is not None:
                raise RestError(422, "Pull request is already in the merge queue")
            entry = {
                "id": f"MQE_{pull_node_id(repo, pull)[3:]}",
                "number": int(pull["number"]),
                "head_sha": str(pull["head"]["sha"]),
                "state": "AWAITING_CHECKS",
                "enqueuedAt": self.stamp(),
            }
            queue.append(entry)
            return {**entry, "position": len(queue)}

    def revert_pull(self, node_id: str, *, title: str | None, body: str | None, draft: bool) -> JSON:
        """``revertPullRequest``: a branch with a commit undoing a merged pull request, and its pull request.

        Like GitHub, the branch is ``revert-<number>-<head branch>`` off the base branch's head, the
        commit is ``Revert "<merge commit headline>"`` with ``This reverts commit <sha>.``, and the
        title and body default to ``Revert "<title>"`` and ``Reverts <repo>#<number>``. A change
        that a later commit touched again cannot be reverted automatically and is refused.

        Returns:
            The new pull request (REST JSON).

        Raises:
            RestError: 404 for an unknown node, 422 for a pull request that is not merged or whose
                merge cannot be reverted cleanly.
        """
        found = self.pull_node(node_id)
        if found is None:
            raise RestError(404, f"Could not resolve to a node with the global id of '{node_id}'")
        repo, pull = found
        view = self.recording_view()
        with self._lock, view.lock:
            number = int(pull["number"])
            merge_sha = pull.get("merge_commit_sha")
            if not pull.get("merged") or not merge_sha:
                raise RestError(422, "Only merged pull requests can be reverted")
            store = self.store(repo)
            base_ref = str(pull["base"]["ref"])
            base_head = store.refs.get(f"heads/{base_ref}")
            if merge_sha not in store.commits or base_head is None:
                raise RestError(422, "This pull request can't be reverted automatically")
            merge_commit = store.commits[merge_sha]
            merged = store.files(merge_sha)
            parent = merge_commit["parents"][0] if merge_commit["parents"] else None
            before = {} if parent is None else store.files(parent)
            current = store.files(base_head)
            for path in sorted(set(merged) | set(before)):
                if merged.get(path) == before.get(path):
                    continue
                if current.get(path) != merged.get(path):
                    raise RestError(422, "This pull request can't be reverted automatically")
                if path in before:
                    current[path] = before[path]
                else:
                    current.pop(path, None)
            headline = str(merge_commit["message"]).split("\n", 1)[0]
            message = f'Revert "{headline}"\n\nThis reverts commit {merge_sha}.'
            sha = _write_commit(store, current, [base_head], message)
            branch = f"revert-{number}-{pull['head']['ref']}"
            suffix = 1
            while f"heads/{branch}" in store.refs:
                suffix += 1
                branch = f"revert-{number}-{pull['head']['ref']}-{suffix}"
            store.refs[f"heads/{branch}"] = sha
            created = _open_pull(
                self,
                repo,
                title=title or f'Revert "{pull["title"]}"',
                body=body if body is not None else f"Reverts {repo}#{number}",
                head_ref=branch,
                base_ref=base_ref,
                draft=draft,
            )
            self.reverts.append((repo, number, int(created["number"])))
            return created

    def configure_pull(
        self,
        repo: str,
        number: int,
        *,
        checks: Iterable[tuple[str, str, str | None]] | None = None,
        statuses: Iterable[tuple[str, str, str]] | None = None,
        reviews: Iterable[tuple[str, str]] | None = None,
        labels: Iterable[str] | None = None,
        head_sha: str | None = None,
        **fields: Any,
    ) -> JSON:
        """Set what a test needs of an open pull request; returns the pull request JSON.

        Args:
            repo: the repository as the recording spells it.
            number: the pull request.
            checks: ``(name, status, conclusion)`` check runs replacing those of the head commit.
            statuses: ``(context, state, description)`` commit statuses replacing the head's.
            reviews: ``(login, state)`` reviews in submission order, replacing the existing ones.
            labels: label names replacing the existing ones.
            head_sha: a new head commit.
            fields: other pull request fields set as given (``mergeable``, ``mergeable_state``,
                ``draft``, ``state``, ...).

        Raises:
            KeyError: when the recording has no such pull request.
        """
        view = self.recording_view()
        with self._lock, view.lock:
            pull = view.pull(repo, number)
            if pull is None:
                raise KeyError(f"no pull request {repo}#{number}")
            if head_sha is not None:
                pull["head"] = {**pull["head"], "sha": head_sha}
            pull.update(fields)
            issue = _issue_twin(view, repo, number)
            if issue is not None and "draft" in fields:
                issue["draft"] = fields["draft"]
            sha = str(pull["head"]["sha"])
            rec = view.recording
            if checks is not None:
                rec.check_runs[(repo, sha)] = [
                    _check_run(self.next_id(), sha, name, status, conclusion, self.stamp())
                    for name, status, conclusion in checks
                ]
            if statuses is not None:
                # given oldest first, kept newest first as GitHub lists them
                rec.commit_statuses[(repo, sha)] = [
                    {
                        "id": self.next_id(),
                        "context": context,
                        "state": state,
                        "description": description,
                        "target_url": None,
                        "created_at": self.stamp(),
                        "updated_at": self.stamp(),
                        "creator": _user(self.actor),
                    }
                    for context, state, description in statuses
                ][::-1]
            if reviews is not None:
                rec.reviews[(repo, number)] = [
                    {
                        "id": self.next_id(),
                        "user": _user(login),
                        "state": state,
                        "body": "",
                        "submitted_at": self.stamp(),
                        "commit_id": sha,
                    }
                    for login, state in reviews
                ]
            if labels is not None:
                _set_labels(view, repo, number, list(labels), self)
            view.invalidate()
            return pull

    def finish_run(self, repo: str, run_id: int, conclusion: str, *, logs: bytes | None = None) -> JSON:
        """Complete the latest attempt of a run (a re-run finishing), with its log archive if given.

        Raises:
            KeyError: when the recording has no such run.
        """
        view = self.recording_view()
        with self._lock, view.lock:
            run = view.run(repo, run_id)
            if run is None:
                raise KeyError(f"no workflow run {repo}#{run_id}")
            run.update(status="completed", conclusion=conclusion, updated_at=self.stamp())
            if logs is not None:
                view.recording.logs[(repo, run_id, int(run.get("run_attempt") or 1))] = logs
            view.invalidate()
            return run

    def handle(self, method: str, request: RestRequest, repo: str, rest: str, body: JSON) -> Reply | None:
        """Answer ``method rest`` of ``repo`` if it is one of these endpoints, else None.

        A handler answering None passes the request on (to the recording's read-only endpoints).
        """
        if rest.startswith("/git/") and repo in self.empty_repositories:
            return Reply(409, error_payload(EMPTY_REPOSITORY))
        for route_method, pattern, handler in _ROUTES:
            hit = pattern.match(rest)
            if route_method == method and hit is not None:
                with self._lock:
                    try:
                        reply = handler(self, request, repo, hit, body)
                    except RestError as error:
                        return Reply(error.status, {"message": error.message})
                if reply is not None:
                    return reply
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
        sha = _pull_head(state, repo, hit["ref"].removeprefix("heads/"))
    if sha is None:
        raise not_found()
    return Reply(200, _ref_payload(request, repo, hit["ref"], sha))


def _pull_head(state: WriteState, repo: str, branch: str) -> str | None:
    """The head of a pull request's branch the git store does not hold (None once deleted)."""
    if state.view is None or (repo, branch) in state.deleted_branches:
        return None
    with state.view.lock:
        listed = state.view.recording.pull_requests.get(repo, [])
        pulls = [p for p in listed if p["head"].get("ref") == branch]
    newest = max(pulls, key=item_id, default=None)
    return None if newest is None else str(newest["head"]["sha"])


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


# --- pull requests, issues, labels, comments ----------------------------------------------------


def _user(login: str) -> JSON:
    return {
        "login": login,
        "id": int(hashlib.sha1(login.encode(), usedforsecurity=False).hexdigest()[:7], 16),
        "type": "Bot" if login.endswith("[bot]") else "User",
        "site_admin": False,
    }


def _check_run(run_id: int, sha: str, name: str, status: str, conclusion: str | None, now: str) -> JSON:
    return {
        "id": run_id,
        "head_sha": sha,
        "name": name,
        "status": status,
        "conclusion": conclusion,
        "started_at": now,
        "completed_at": now if status == "completed" else None,
        "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
        "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
        "pull_requests": [],
    }


def _label(name: str, repo_url: str, label_id: int) -> JSON:
    return {
        "id": label_id,
        "name": name,
        "url": f"{repo_url}/labels/{name}",
        "color": "ededed",
        "default": False,
    }


def _issue_twin(view: RecordingView, repo: str, number: int) -> JSON | None:
    for issue in view.recording.issues.get(repo, []):
        if issue.get("number") == number:
            return issue
    return None


def _issue_or_pull(view: RecordingView, repo: str, number: int) -> tuple[JSON | None, JSON | None]:
    """The issue and the pull request numbered ``number`` (either may be None, not both)."""
    issue, pull = _issue_twin(view, repo, number), view.pull(repo, number)
    if issue is None and pull is None:
        raise not_found()
    return issue, pull


def _set_labels(
    view: RecordingView, repo: str, number: int, names: list[str], state: WriteState
) -> list[JSON]:
    issue, pull = _issue_or_pull(view, repo, number)
    known = {label["name"].lower(): label for target in (issue, pull) if target for label in target["labels"]}
    url = f"https://api.github.com/repos/{repo}"
    labels = [known.get(name.lower()) or _label(name, url, state.next_id()) for name in dict.fromkeys(names)]
    for target in (issue, pull):
        if target is not None:
            target["labels"] = [dict(label) for label in labels]
    return labels


def _write_commit(store: GitStore, files: Mapping[str, bytes], parents: list[str], message: str) -> str:
    entries = []
    for path, data in sorted(files.items()):
        blob = _object_id("blob", data)
        store.blobs[blob] = data
        entries.append({"path": path, "mode": "100644", "type": "blob", "sha": blob, "size": len(data)})
    tree = _object_id("tree", "\n".join(f"{e['path']} {e['sha']}" for e in entries).encode())
    store.trees[tree] = entries
    sha = _object_id("commit", f"{tree}\n{' '.join(parents)}\n{message}".encode())
    store.commits[sha] = {"tree": tree, "parents": list(parents), "message": message}
    return sha


@_route("GET", r"/issues/(?P<number>\d+)")
def _get_issue(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    view = state.recording_view()
    with view.lock:
        issue, _pull = _issue_or_pull(view, repo, int(hit["number"]))
        if issue is None:
            raise not_found()
        return Reply(200, issue)


def _label_names(body: JSON) -> list[str]:
    """Label names of a request body: strings, or objects with a ``name`` (both are accepted)."""
    value = body.get("labels")
    if not isinstance(value, list):
        raise validation_failed("labels")
    names = [v.get("name") if isinstance(v, dict) else v for v in value]
    if not all(isinstance(n, str) and n.strip() for n in names):
        raise validation_failed("labels")
    return [str(n).strip() for n in names]


@_route("POST", r"/issues")
def _create_issue(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], body: JSON) -> Reply:
    title = body.get("title")
    if isinstance(title, int) and not isinstance(title, bool):
        title = str(title)  # GitHub takes a number as the title too
    if not isinstance(title, str) or not title.strip():
        raise validation_failed("title")
    text = body.get("body")
    if text is not None and (not isinstance(text, str) or len(text) > 65536):
        raise validation_failed("body")
    labels = _label_names(body) if "labels" in body else []
    assignees = _names(body, "assignees") if body.get("assignees") else []
    view = state.recording_view()
    with view.lock:
        rec = view.recording
        issues = rec.issues.setdefault(repo, [])
        numbers = [
            int(x["number"])
            for x in [*rec.pull_requests.get(repo, []), *issues]
            if isinstance(x.get("number"), int)
        ]
        number = max(numbers, default=0) + 1
        stamp = state.stamp()
        api = f"https://api.github.com/repos/{repo}"
        issue_id = state.next_id()
        issue: JSON = {
            "id": issue_id,
            "node_id": "I_" + base64.b64encode(f"Issue{issue_id}".encode()).decode("ascii").rstrip("="),
            "url": f"{api}/issues/{number}",
            "repository_url": api,
            "labels_url": f"{api}/issues/{number}/labels{{/name}}",
            "comments_url": f"{api}/issues/{number}/comments",
            "events_url": f"{api}/issues/{number}/events",
            "html_url": f"https://github.com/{repo}/issues/{number}",
            "number": number,
            "title": title,
            "user": _user(state.actor),
            "labels": [],
            "state": "open",
            "state_reason": None,
            "locked": False,
            "assignee": None,
            "assignees": [],
            "milestone": None,
            "comments": 0,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "closed_by": None,
            "author_association": "MEMBER",
            "body": text,
        }
        issues.append(issue)
        if labels:
            _set_labels(view, repo, number, labels, state)
        if assignees:
            issue["assignees"] = [_user(login) for login in dict.fromkeys(assignees)][:10]
            issue["assignee"] = issue["assignees"][0]
        view.invalidate()
        return Reply(201, issue)


_STATE_REASONS = ("completed", "not_planned", "reopened")


@_route("PATCH", r"/issues/(?P<number>\d+)")
def _update_issue(
    state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON
) -> Reply:
    if "title" in body and (not isinstance(body["title"], str) or not body["title"].strip()):
        raise validation_failed("title")
    if "body" in body and body["body"] is not None and not isinstance(body["body"], str):
        raise validation_failed("body")
    wanted_state = body.get("state")
    if wanted_state is not None and wanted_state not in ("open", "closed"):
        raise validation_failed("state")
    reason = body.get("state_reason")
    if reason is not None and reason not in _STATE_REASONS:
        raise validation_failed("state_reason")
    view = state.recording_view()
    number = int(hit["number"])
    with view.lock:
        issue, pull = _issue_or_pull(view, repo, number)
        targets = [t for t in (issue, pull) if t is not None]
        stamp = state.stamp()
        for target in targets:
            for key in ("title", "body"):
                if key in body:
                    target[key] = body[key]
            if "assignees" in body:
                logins = _names(body, "assignees") if body["assignees"] else []
                target["assignees"] = [_user(login) for login in dict.fromkeys(logins)][:10]
                target["assignee"] = target["assignees"][0] if target["assignees"] else None
            # state_reason is ignored unless the state changes, as GitHub documents
            if wanted_state is not None and wanted_state != target.get("state"):
                target["state"] = wanted_state
                if wanted_state == "closed":
                    target.update(closed_at=stamp, closed_by=_user(state.actor))
                    if issue is target:
                        target["state_reason"] = (
                            reason if reason in ("completed", "not_planned") else "completed"
                        )
                else:
                    target.update(closed_at=None, closed_by=None)
                    if issue is target:
                        target["state_reason"] = "reopened"
            target["updated_at"] = stamp
        if "labels" in body:
            _set_labels(view, repo, number, _label_names(body), state)
        view.invalidate()
        return Reply(200, issue or pull)


def _comments_of(view: RecordingView, repo: str, number: int) -> list[JSON]:
    suffix = f"/issues/{number}"
    return [
        c for c in view.recording.issue_comments.get(repo, []) if str(c.get("issue_url", "")).endswith(suffix)
    ]


@_route("GET", r"/issues/(?P<number>\d+)/comments")
def _get_comments(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    view = state.recording_view()
    with view.lock:
        number = int(hit["number"])
        _issue_or_pull(view, repo, number)
        return Reply(200, sorted(_comments_of(view, repo, number), key=item_id))


@_route("POST", r"/issues/(?P<number>\d+)/comments")
def _add_comment(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    text = _require(body, "body", str)
    if not text.strip() or len(text) > 65536:
        raise validation_failed("body")
    view = state.recording_view()
    number = int(hit["number"])
    with view.lock:
        issue, pull = _issue_or_pull(view, repo, number)
        comment_id = state.next_id()
        base = _repo_url(request, repo)
        comment = {
            "id": comment_id,
            "url": f"{base}/issues/comments/{comment_id}",
            "html_url": f"https://github.com/{repo}/issues/{number}#issuecomment-{comment_id}",
            "issue_url": f"https://api.github.com/repos/{repo}/issues/{number}",
            "user": _user(state.actor),
            "body": text,
            "created_at": state.stamp(),
            "updated_at": state.stamp(),
            "author_association": "NONE",
        }
        view.recording.issue_comments.setdefault(repo, []).append(comment)
        for target in (issue, pull):
            if target is not None and isinstance(target.get("comments"), int):
                target["comments"] += 1
        view.invalidate()
        return Reply(201, comment)


def _names(body: JSON, key: str) -> list[str]:
    value = body.get(key)
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise validation_failed(key)
    return [v.strip() for v in value]


@_route("GET", r"/issues/(?P<number>\d+)/labels")
def _get_labels(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    view = state.recording_view()
    with view.lock:
        issue, pull = _issue_or_pull(view, repo, int(hit["number"]))
        return Reply(200, (issue or pull or {}).get("labels", []))


@_route("POST", r"/issues/(?P<number>\d+)/labels")
def _add_labels(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    wanted = _names({"labels": body[LIST_BODY]} if LIST_BODY in body else body, "labels")
    view = state.recording_view()
    number = int(hit["number"])
    with view.lock:
        issue, pull = _issue_or_pull(view, repo, number)
        current = [label["name"] for label in (issue or pull or {}).get("labels", [])]
        labels = _set_labels(view, repo, number, current + wanted, state)
        view.invalidate()
        return Reply(200, labels)


@_route("DELETE", r"/issues/(?P<number>\d+)/labels/(?P<name>[^/]+)")
def _remove_label(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    view = state.recording_view()
    number, name = int(hit["number"]), unquote(hit["name"]).lower()
    with view.lock:
        issue, pull = _issue_or_pull(view, repo, number)
        current = [label["name"] for label in (issue or pull or {}).get("labels", [])]
        if name not in {c.lower() for c in current}:
            raise RestError(404, "Label does not exist")
        labels = _set_labels(view, repo, number, [c for c in current if c.lower() != name], state)
        view.invalidate()
        return Reply(200, labels)


@_route("POST", r"/issues/(?P<number>\d+)/assignees")
def _add_assignees(
    state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON
) -> Reply:
    logins = _names(body, "assignees")
    view = state.recording_view()
    with view.lock:
        issue, pull = _issue_or_pull(view, repo, int(hit["number"]))
        for target in (issue, pull):
            if target is not None:
                have = [a["login"] for a in target.get("assignees") or []]
                merged = list(dict.fromkeys(have + logins))[:10]  # GitHub keeps at most ten
                target["assignees"] = [_user(login) for login in merged]
                target["assignee"] = target["assignees"][0] if merged else None
        view.invalidate()
        return Reply(201, issue or pull)


@_route("POST", r"/pulls/(?P<number>\d+)/requested_reviewers")
def _request_reviewers(
    state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON
) -> Reply:
    logins = _names(body, "reviewers") if "reviewers" in body else []
    view = state.recording_view()
    with view.lock:
        pull = view.pull(repo, int(hit["number"]))
        if pull is None:
            raise not_found()
        author = str(pull["user"]["login"]).lower()
        if any(login.lower() == author for login in logins):
            raise RestError(422, "Review cannot be requested from pull request author.")
        have = [r["login"] for r in pull.get("requested_reviewers") or []]
        pull["requested_reviewers"] = [_user(login) for login in dict.fromkeys(have + logins)]
        view.invalidate()
        return Reply(201, pull)


@_route("PATCH", r"/pulls/(?P<number>\d+)")
def _update_pull(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    """Update a pull request: title, body, state (``open``/``closed``), base; 200 with the pull request."""
    for key in ("title", "body", "base"):
        if key in body and body[key] is not None and not isinstance(body[key], str):
            raise validation_failed(key)
    if "title" in body and not str(body["title"] or "").strip():
        raise validation_failed("title")
    wanted = body.get("state")
    if wanted is not None and wanted not in ("open", "closed"):
        raise validation_failed("state")
    view = state.recording_view()
    number = int(hit["number"])
    with view.lock:
        pull = view.pull(repo, number)
        if pull is None:
            raise not_found()
        if wanted is not None and wanted != pull.get("state") and pull.get("merged"):
            raise RestError(422, "Cannot change the state of a merged pull request")
        if wanted == "open" and pull.get("state") != "open":
            head = str((pull.get("head") or {}).get("ref") or "")
            if f"heads/{head}" not in state.store(repo).refs:
                raise RestError(422, "Cannot reopen a pull request whose head branch was deleted")
        if "base" in body and f"heads/{body['base']}" not in state.store(repo).refs:
            raise validation_failed("base")
        stamp = state.stamp()
        issue = _issue_twin(view, repo, number)
        for target in (pull, issue):
            if target is None:
                continue
            for key in ("title", "body"):
                if key in body:
                    target[key] = body[key]
            if wanted is not None and wanted != target.get("state"):
                target["state"] = wanted
                target["closed_at"] = stamp if wanted == "closed" else None
            target["updated_at"] = stamp
        if "base" in body:
            pull["base"] = {**pull["base"], "ref": body["base"], "label": body["base"]}
        view.invalidate()
        return Reply(200, pull)


_MERGE_METHODS = ("merge", "squash", "rebase")
_UNMERGEABLE_STATES = ("dirty", "blocked", "draft", "behind", "unknown")


@_route("PUT", r"/pulls/(?P<number>\d+)/merge")
def _merge(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    view = state.recording_view()
    number = int(hit["number"])
    method = body.get("merge_method", "merge")
    if method not in _MERGE_METHODS:
        raise validation_failed("merge_method")
    with view.lock:
        pull = view.pull(repo, number)
        if pull is None:
            raise not_found()
        if pull.get("merged") or pull.get("state") != "open":
            raise RestError(405, "Pull Request is not mergeable")
        if pull.get("draft") or pull.get("mergeable") is not True:
            raise RestError(405, "Pull Request is not mergeable")
        if pull.get("mergeable_state") in _UNMERGEABLE_STATES:
            reason = "Head branch is out of date" if pull["mergeable_state"] == "behind" else "not mergeable"
            raise RestError(405, f"Pull Request is {reason}" if reason == "not mergeable" else reason)
        if (repo, str(pull["base"]["ref"])) in state.merge_queues:
            # a ruleset's merge_queue rule: merges into the branch go through its queue only
            raise RestError(
                405, "Repository rule violations found\n\nChanges must be made through the merge queue"
            )
        head = str(pull["head"]["sha"])
        if body.get("sha") is not None and body.get("sha") != head:
            raise RestError(409, "Head branch was modified. Review and try the merge again.")
        title = body.get("commit_title") or f"Merge pull request #{number} from {pull['head'].get('ref')}"
        sha = _merge_pull(state, view, repo, pull, str(method), title, str(body.get("commit_message") or ""))
        view.invalidate()
        return Reply(200, {"sha": sha, "merged": True, "message": "Pull Request successfully merged"})


def _merge_pull(
    state: WriteState, view: RecordingView, repo: str, pull: JSON, method: str, title: str, message: str
) -> str:
    """Write the merge commit of ``pull`` on its base branch and mark it merged; returns the commit id."""
    number = int(pull["number"])
    head = str(pull["head"]["sha"])
    text = f"{title}\n\n{message}".rstrip()
    store = state.store(repo)
    base_ref = f"heads/{pull['base']['ref']}"
    base = store.refs.get(base_ref)
    # the double does no three-way merge: the head's files, when it knows them, are the result
    files = store.files(head) if head in store.commits else ({} if base is None else store.files(base))
    parents = [p for p in (base, head if method == "merge" else None) if p and p in store.commits]
    sha = _write_commit(store, files, parents, text)
    store.refs[base_ref] = sha
    stamp = state.stamp()
    pull.update(
        state="closed",
        merged=True,
        merged_at=stamp,
        closed_at=stamp,
        updated_at=stamp,
        merged_by=_user(state.actor),
        merge_commit_sha=sha,
        mergeable=None,
        mergeable_state="unknown",
    )
    issue = _issue_twin(view, repo, number)
    if issue is not None:
        issue.update(state="closed", closed_at=stamp, updated_at=stamp)
        if isinstance(issue.get("pull_request"), dict):
            issue["pull_request"]["merged_at"] = stamp
    state.merges.append((repo, number, method))
    return sha


@_route("DELETE", r"/git/refs?/(?P<ref>heads/.+)")
def _delete_ref(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    ref = unquote(hit["ref"])
    branch = ref.removeprefix("heads/")
    store = state.store(repo)
    if ref in store.refs:
        del store.refs[ref]
        return Reply(204, None)
    if _pull_head(state, repo, branch) is None:
        raise RestError(422, "Reference does not exist")
    state.deleted_branches.add((repo, branch))
    return Reply(204, None)


@_route("POST", r"/pulls")
def _create_pull(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], body: JSON) -> Reply:
    title = _require(body, "title", str)
    head_ref = _require(body, "head", str).split(":")[-1]
    base_ref = _require(body, "base", str)
    if not title.strip() or f"heads/{head_ref}" not in state.store(repo).refs:
        raise validation_failed("head" if title.strip() else "title")
    text = body.get("body") if isinstance(body.get("body"), str) else None
    pull = _open_pull(
        state,
        repo,
        title=title,
        body=text,
        head_ref=head_ref,
        base_ref=base_ref,
        draft=bool(body.get("draft")),
    )
    return Reply(201, pull)


def pull_node_id(repo: str, pull: JSON) -> str:
    """A pull request's global node id: the recording's, else one derived from its repository and number."""
    given = pull.get("node_id")
    if isinstance(given, str) and given:
        return given
    raw = base64.urlsafe_b64encode(f"{repo}#{pull.get('number')}".encode()).decode("ascii").rstrip("=")
    return f"PR_kwDO{raw}"


def _queue_entry(state: WriteState, repo: str, number: int) -> JSON | None:
    for (queued_repo, _branch), entries in state.merge_queues.items():
        for position, entry in enumerate(entries, start=1):
            if queued_repo == repo and entry["number"] == number:
                return {**entry, "position": position}
    return None


def _open_pull(
    state: WriteState,
    repo: str,
    *,
    title: str,
    body: str | None,
    head_ref: str,
    base_ref: str,
    draft: bool,
) -> JSON:
    """Open a pull request from ``head_ref`` (a branch of the git store) into ``base_ref`` (lock held)."""
    store = state.store(repo)
    head = store.refs[f"heads/{head_ref}"]
    view = state.recording_view()
    with view.lock:
        rec = view.recording
        pulls = rec.pull_requests.setdefault(repo, [])
        if any(p["head"].get("ref") == head_ref and p.get("state") == "open" for p in pulls):
            raise RestError(422, f"A pull request already exists for {head_ref}.")
        numbers = [
            int(x["number"]) for x in [*pulls, *rec.issues.get(repo, [])] if isinstance(x.get("number"), int)
        ]
        number = max(numbers, default=0) + 1
        stamp = state.stamp()
        api = f"https://api.github.com/repos/{repo}"
        web = f"https://github.com/{repo}/pull/{number}"
        pull: JSON = {
            "url": f"{api}/pulls/{number}",
            "id": state.next_id(),
            "html_url": web,
            "issue_url": f"{api}/issues/{number}",
            "number": number,
            "state": "open",
            "locked": False,
            "title": title,
            "user": _user(state.actor),
            "body": body,
            "labels": [],
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "merged_at": None,
            "merge_commit_sha": None,
            "assignee": None,
            "assignees": [],
            "requested_reviewers": [],
            "requested_teams": [],
            "head": {"ref": head_ref, "sha": head, "label": f"{repo.split('/')[0]}:{head_ref}"},
            "base": {"ref": base_ref, "sha": store.refs.get(f"heads/{base_ref}"), "label": base_ref},
            "draft": draft,
            "merged": False,
            "mergeable": None,
            "mergeable_state": "unknown",
            "merged_by": None,
            "comments": 0,
            "review_comments": 0,
            "commits": 1,
            "additions": 0,
            "deletions": 0,
            "changed_files": 0,
            "author_association": "NONE",
        }
        pull["node_id"] = pull_node_id(repo, pull)
        issue = {
            key: pull[key]
            for key in ("id", "number", "title", "user", "labels", "state", "assignee", "assignees", "body")
        } | {
            "url": f"{api}/issues/{number}",
            "html_url": web,
            "created_at": stamp,
            "updated_at": stamp,
            "closed_at": None,
            "comments": 0,
            "draft": pull["draft"],
            "pull_request": {"url": f"{api}/pulls/{number}", "html_url": web, "merged_at": None},
        }
        pulls.append(pull)
        rec.issues.setdefault(repo, []).append(issue)
        view.invalidate()
        return pull


@_route("GET", "")
def _repository(
    state: WriteState, request: RestRequest, repo: str, _: re.Match[str], __: JSON
) -> Reply | None:
    """The repository, when its default branch was set; otherwise the recording's answer (``main``)."""
    branch = state.default_branches.get(repo)
    if branch is None:
        return None
    owner, name = repo.split("/", 1)
    payload = {
        "id": zlib.crc32(repo.encode()) & 0x7FFFFFFF,
        "name": name,
        "full_name": repo,
        "owner": {"login": owner},
        "default_branch": branch,
        "private": False,
        "url": f"{request.api_base}/repos/{repo}",
    }
    return Reply(200, payload)


@_route("GET", r"/rules/branches/(?P<branch>[^/]+)")
def _branch_rules(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    """The rules that apply to a branch; only the merge queue rule is modelled."""
    if (repo, unquote(hit["branch"])) not in state.merge_queues:
        return Reply(200, [])
    rule = {
        "type": "merge_queue",
        "ruleset_source_type": "Repository",
        "ruleset_source": repo,
        "ruleset_id": 1,
        "parameters": {
            "check_response_timeout_minutes": 60,
            "grouping_strategy": "ALLGREEN",
            "max_entries_to_build": 5,
            "max_entries_to_merge": 5,
            "merge_method": "SQUASH",
            "min_entries_to_merge": 1,
            "min_entries_to_merge_wait_minutes": 5,
        },
    }
    return Reply(200, [rule])


def _rest_commit(request: RestRequest, repo: str, sha: str, commit: JSON) -> JSON:
    base = _repo_url(request, repo)
    return {
        "sha": sha,
        "url": f"{base}/commits/{sha}",
        "commit": {"message": commit["message"], "tree": {"sha": commit["tree"]}},
        "parents": [{"sha": p, "url": f"{base}/commits/{p}"} for p in commit["parents"]],
        "files": [],
    }


@_route("GET", r"/commits/(?P<sha>[0-9a-f]{40})")
def _get_rest_commit(
    state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON
) -> Reply:
    sha = hit["sha"]
    commit = state.store(repo).commits.get(sha)
    if commit is None:
        if not _known_commit(state, repo, sha):
            raise not_found()
        # a commit the recording only knows by its checks, statuses or pull requests: no content
        commit = {"message": "", "tree": _object_id("tree", b""), "parents": []}
    return Reply(200, _rest_commit(request, repo, sha, commit))


def _known_commit(state: WriteState, repo: str, sha: str) -> bool:
    """Whether the git store or the recording (checks, statuses, pull requests, runs) knows the commit."""
    if sha in state.store(repo).commits:
        return True
    view = state.recording_view()
    with view.lock:
        rec = view.recording
        known = (repo, sha) in rec.check_runs or (repo, sha) in rec.commit_statuses
        known = known or any(
            sha in (p["head"].get("sha"), p.get("merge_commit_sha")) for p in rec.pull_requests.get(repo, [])
        )
        return known or any(run.get("head_sha") == sha for run in rec.workflow_runs.get(repo, []))


STATUS_STATES = frozenset({"error", "failure", "pending", "success"})
STATUSES_PER_CONTEXT = 1000
"""GitHub's limit of statuses per commit and context: one more is a validation error."""


@_route("POST", r"/statuses/(?P<sha>[^/]+)")
def _create_status(
    state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON
) -> Reply:
    """``POST /repos/{o}/{r}/statuses/{sha}``: 201 with the status (its creator the token's user).

    GitHub answers 403 to a token without ``statuses: write`` (:attr:`WriteState.denied_permissions`),
    and 422 for a state outside error/failure/pending/success, a description over 140 characters, an
    unknown commit and the 1001st status of one context; the context defaults to ``default``. The
    commit's statuses are kept newest first, as GitHub lists them, and the combined status shows the
    newest of each context.
    """
    if "statuses" in state.denied_permissions:
        raise RestError(403, "Resource not accessible by integration")
    if body.get("state") not in STATUS_STATES:
        raise validation_failed("state")
    values = {key: body.get(key) for key in ("target_url", "description", "context")}
    if any(value is not None and not isinstance(value, str) for value in values.values()):
        raise validation_failed(
            next(k for k, v in values.items() if v is not None and not isinstance(v, str))
        )
    if values["description"] is not None and len(values["description"]) > 140:
        raise RestError(422, "Validation Failed: description is too long (maximum is 140 characters)")
    sha = unquote(hit["sha"])
    if not _known_commit(state, repo, sha):
        raise RestError(422, f"No commit found for SHA: {sha}")
    context = values["context"] or "default"
    view = state.recording_view()
    with view.lock:
        statuses = view.recording.commit_statuses.setdefault((repo, sha), [])
        if sum(1 for s in statuses if s.get("context") == context) >= STATUSES_PER_CONTEXT:
            raise RestError(
                422, "Validation Failed: This SHA and context has reached the maximum number of statuses."
            )
        status_id = state.next_id()
        status = {
            "url": f"{_repo_url(request, repo)}/statuses/{sha}",
            "avatar_url": None,
            "id": status_id,
            "node_id": base64.b64encode(f"011:StatusContext{status_id}".encode()).decode(),
            "state": body["state"],
            "description": values["description"],
            "target_url": values["target_url"],
            "context": context,
            "created_at": state.stamp(),
            "updated_at": state.stamp(),
            "creator": _user(state.actor),
        }
        statuses.insert(0, status)
        view.invalidate()
        return Reply(201, status)


@_route("GET", r"/commits/(?P<sha>[0-9a-f]{40})/pulls")
def _commit_pulls(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    view = state.recording_view()
    sha = hit["sha"]
    with view.lock:
        found = [
            p
            for p in view.recording.pull_requests.get(repo, [])
            if p.get("merge_commit_sha") == sha or p["head"].get("sha") == sha
        ]
    return Reply(200, found)


@_route("GET", r"/contents/(?P<path>.+)")
def _get_contents(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    path = unquote(hit["path"])
    ref = request.query.get("ref") or "main"
    store = state.store(repo)
    head = store.refs.get(f"heads/{ref}") or (ref if ref in store.commits else None)
    files = {} if head is None else store.files(head)
    if path not in files:
        raise not_found()
    data = files[path]
    blob = _object_id("blob", data)
    return Reply(
        200,
        {
            "type": "file",
            "encoding": "base64",
            "size": len(data),
            "name": path.rsplit("/", 1)[-1],
            "path": path,
            "sha": blob,
            "content": base64.b64encode(data).decode("ascii"),
            "url": f"{_repo_url(request, repo)}/contents/{path}",
        },
    )


@_route("GET", r"/pulls/(?P<number>\d+)/requested_reviewers")
def _requested(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    view = state.recording_view()
    with view.lock:
        pull = view.pull(repo, int(hit["number"]))
        if pull is None:
            raise not_found()
        return Reply(200, {"users": pull.get("requested_reviewers") or [], "teams": []})


# --- workflows and workflow dispatch -----------------------------------------------------------

MAX_DISPATCH_INPUTS = 10
"""GitHub: "The maximum number of properties is 10" (inputs of a workflow dispatch)."""


@dataclass(frozen=True)
class Dispatch:
    """One accepted workflow dispatch: where, which workflow, on which ref, with which inputs."""

    repo: str
    workflow_id: int
    ref: str
    inputs: JSON
    run_id: int


@dataclass(frozen=True)
class _Workflow:
    id: int
    name: str
    path: str
    created_at: str
    dispatch_inputs: tuple[str, ...] | None
    """Declared ``workflow_dispatch`` inputs; None without the trigger. A workflow known only from
    the recording's runs accepts any inputs when one of its runs was dispatched, none otherwise."""
    accepts_any_input: bool = False

    def payload(self, repo: str, api: str) -> JSON:
        return {
            "id": self.id,
            "node_id": "W_" + base64.b64encode(f"Workflow{self.id}".encode()).decode("ascii").rstrip("="),
            "name": self.name,
            "path": self.path,
            "state": "active",
            "created_at": self.created_at,
            "updated_at": self.created_at,
            "url": f"{api}/repos/{repo}/actions/workflows/{self.id}",
            "html_url": f"https://github.com/{repo}/blob/main/{self.path}",
            "badge_url": f"https://github.com/{repo}/workflows/{self.name}/badge.svg",
        }


def _workflows(state: WriteState, repo: str) -> list[_Workflow]:
    """The repository's workflows: those of its recorded runs, then those added (by id)."""
    found: dict[str, _Workflow] = {}
    view = state.recording_view()
    with view.lock:
        runs = sorted(
            view.recording.workflow_runs.get(repo, []), key=lambda r: timestamp_key(r.get("created_at"))
        )
        for run in runs:
            path, workflow_id = run.get("path"), run.get("workflow_id")
            if not isinstance(path, str) or not isinstance(workflow_id, int):
                continue
            path = path.split("@", 1)[0]  # a reusable workflow's path carries the ref
            known = found.get(path)
            dispatched = run.get("event") == "workflow_dispatch" or (
                known is not None and known.accepts_any_input
            )
            found[path] = _Workflow(
                id=workflow_id,
                name=str(run.get("name") or path.rsplit("/", 1)[-1]),
                path=path,
                created_at=str(run.get("created_at")) if known is None else known.created_at,
                dispatch_inputs=() if dispatched else None,
                accepts_any_input=dispatched,
            )
    found.update(state.workflows.get(repo, {}))
    return sorted(found.values(), key=lambda w: w.id)


def _workflow(state: WriteState, repo: str, key: str) -> _Workflow:
    """A workflow by id or file name (``deps.yml``), as GitHub resolves ``{workflow_id}``."""
    key = unquote(key)
    for workflow in _workflows(state, repo):
        if key == str(workflow.id) or key == workflow.path.rsplit("/", 1)[-1]:
            return workflow
    raise not_found()


@_route("GET", "/actions/workflows")
def _list_workflows(state: WriteState, request: RestRequest, repo: str, _: re.Match[str], __: JSON) -> Reply:
    items = [w.payload(repo, request.api_base) for w in _workflows(state, repo)]
    return paginate(request, items, wrap="workflows")


@_route("GET", r"/actions/workflows/(?P<workflow>[^/]+)")
def _get_workflow(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    return Reply(200, _workflow(state, repo, hit["workflow"]).payload(repo, request.api_base))


@_route("GET", r"/actions/workflows/(?P<workflow>[^/]+)/runs")
def _workflow_runs(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], _: JSON) -> Reply:
    workflow = _workflow(state, repo, hit["workflow"])
    filters = {
        field: request.query[param] for param, field in _RUN_FILTERS.items() if request.query.get(param)
    }
    for param in ("head_sha", "check_suite_id"):
        if request.query.get(param):
            filters[param] = request.query[param]
    created = request.query.get("created") or None
    predicate = _created_filter(created) if created is not None else None
    view = state.recording_view()
    with view.lock:
        newest_first = view.sorted_list("workflow_runs", repo, "created_at", descending=True)
        runs = [
            run
            for run in newest_first
            if run.get("workflow_id") == workflow.id
            and _run_matches(run, filters)
            and (predicate is None or predicate(timestamp_key(run.get("created_at"))))
        ]
    return paginate(request, runs, wrap="workflow_runs")


def _ref_head(state: WriteState, repo: str, ref: str) -> str | None:
    """The commit ``ref`` (a branch or tag, optionally ``refs/...``) points at, None if unknown."""
    name = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    store = state.store(repo)
    for key in (f"heads/{name}", f"tags/{name}"):
        if key in store.refs:
            return store.refs[key]
    view = state.recording_view()
    with view.lock:
        runs = [r for r in view.recording.workflow_runs.get(repo, []) if r.get("head_branch") == name]
    if runs:
        return str(max(runs, key=lambda r: timestamp_key(r.get("created_at")))["head_sha"])
    head = _pull_head(state, repo, name)
    if head is not None:
        return head
    # the double's repositories all have a default branch called main
    return (
        hashlib.sha1(f"{repo}@main".encode(), usedforsecurity=False).hexdigest() if name == "main" else None
    )


@_route("POST", r"/actions/workflows/(?P<workflow>[^/]+)/dispatches")
def _dispatch(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    workflow = _workflow(state, repo, hit["workflow"])
    ref = body.get("ref")
    if not isinstance(ref, str) or not ref:
        raise RestError(422, 'Invalid request.\n\n"ref" wasn\'t supplied.')
    inputs = body.get("inputs", {})
    if inputs is None:
        inputs = {}
    if not isinstance(inputs, dict) or not all(
        isinstance(v, str | bool | int | float) for v in inputs.values()
    ):
        raise validation_failed("inputs")
    if len(inputs) > MAX_DISPATCH_INPUTS:
        raise RestError(
            422, f"you may only define up to {MAX_DISPATCH_INPUTS} `inputs` for a workflow_dispatch event"
        )
    if workflow.dispatch_inputs is None:
        raise RestError(422, "Workflow does not have 'workflow_dispatch' trigger")
    head = _ref_head(state, repo, ref)
    if head is None:
        raise RestError(422, f"No ref found for: {ref}")
    unexpected = sorted(set(inputs) - set(workflow.dispatch_inputs))
    if unexpected and not workflow.accepts_any_input:
        raise RestError(422, "Unexpected inputs provided: " + ", ".join(f'"{name}"' for name in unexpected))
    view = state.recording_view()
    run_id = state.next_id()
    stamp = state.stamp()
    branch = ref.removeprefix("refs/heads/").removeprefix("refs/tags/")
    api = f"https://api.github.com/repos/{repo}"
    with view.lock:
        runs = view.recording.workflow_runs.setdefault(repo, [])
        number = 1 + max(
            (int(r.get("run_number") or 0) for r in runs if r.get("workflow_id") == workflow.id), default=0
        )
        actor = _user(state.actor)
        runs.append(
            {
                "id": run_id,
                "name": workflow.name,
                "node_id": "WFR_" + base64.b64encode(f"Run{run_id}".encode()).decode("ascii").rstrip("="),
                "head_branch": branch,
                "head_sha": head,
                "path": workflow.path,
                "display_title": workflow.name,
                "run_number": number,
                "event": "workflow_dispatch",
                "status": "queued",
                "conclusion": None,
                "workflow_id": workflow.id,
                "check_suite_id": state.next_id(),
                "url": f"{api}/actions/runs/{run_id}",
                "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
                "pull_requests": [],
                "created_at": stamp,
                "updated_at": stamp,
                "run_attempt": 1,
                "run_started_at": stamp,
                "actor": actor,
                "triggering_actor": actor,
                "jobs_url": f"{api}/actions/runs/{run_id}/jobs",
                "logs_url": f"{api}/actions/runs/{run_id}/logs",
                "workflow_url": f"{api}/actions/workflows/{workflow.id}",
                "head_commit": {"id": head, "message": "", "timestamp": stamp},
                "repository": {"full_name": repo},
                "head_repository": {"full_name": repo},
            }
        )
        view.invalidate()
    state.dispatches.append(Dispatch(repo, workflow.id, ref, dict(inputs), run_id))
    if body.get("return_run_details") is True:
        # GitHub answers 200 with the new run's id and links when asked, else 204 with no body
        return Reply(
            200,
            {
                "workflow_run_id": run_id,
                "run_url": f"{api}/actions/runs/{run_id}",
                "html_url": f"https://github.com/{repo}/actions/runs/{run_id}",
            },
        )
    return Reply(204, None)


# --- workflow run re-runs -------------------------------------------------------------------------

RERUN_MAX_ATTEMPTS = 50
"""GitHub re-runs a workflow run at most 50 times (full and failed-jobs re-runs count alike)."""
RERUN_MAX_AGE_DAYS = 30
"""GitHub re-runs only runs created in the last 30 days."""
ALREADY_RUNNING = "This workflow is already running"
TOO_OLD = "Unable to retry this workflow run because it was created over a month ago"
CANNOT_RETRY = "This workflow run cannot be retried"
# GitHub's own rule, kept apart from the actions' sets the double checks: "re-run failed jobs" also
# re-runs cancelled jobs.
_FAILED_JOB = frozenset({"failure", "cancelled", "timed_out", "startup_failure"})


def _parse_stamp(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _rerun(state: WriteState, repo: str, run_id: int, body: JSON, *, failed_only: bool) -> Reply:
    """Start a new attempt of a finished run, refusing as GitHub does (403 with GitHub's message)."""
    debug = body.get("enable_debug_logging", False)
    if not isinstance(debug, bool):
        raise validation_failed("enable_debug_logging")
    view = state.recording_view()
    with view.lock:
        run = view.run(repo, run_id)
        if run is None:
            raise not_found()
        if run.get("status") != "completed":
            raise RestError(403, ALREADY_RUNNING)
        created = _parse_stamp(run.get("created_at"))
        if created is not None and (state.now() - created).total_seconds() > RERUN_MAX_AGE_DAYS * 86_400:
            raise RestError(403, TOO_OLD)
        attempt = int(run.get("run_attempt") or 1)
        if attempt >= RERUN_MAX_ATTEMPTS:
            raise RestError(403, CANNOT_RETRY)
        rec = view.recording
        if failed_only:
            jobs = rec.jobs.get((repo, run_id, attempt), [])
            failed = run.get("conclusion") in _FAILED_JOB or any(
                j.get("conclusion") in _FAILED_JOB for j in jobs
            )
            if not failed:
                raise RestError(403, CANNOT_RETRY)
        rec.run_attempts[(repo, run_id, attempt)] = dict(run)
        stamp = state.stamp()
        run.update(
            run_attempt=attempt + 1,
            status="queued",
            conclusion=None,
            updated_at=stamp,
            run_started_at=stamp,
            triggering_actor=_user(state.actor),
            previous_attempt_url=f"{run.get('url') or ''!s}/attempts/{attempt}",
        )
        state.reruns.append((repo, run_id, "rerun-failed-jobs" if failed_only else "rerun"))
        view.invalidate()
    return Reply(201, {})


@_route("POST", r"/actions/runs/(?P<run>\d+)/rerun-failed-jobs")
def _rerun_failed_jobs(
    state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON
) -> Reply:
    return _rerun(state, repo, int(hit["run"]), body, failed_only=True)


@_route("POST", r"/actions/runs/(?P<run>\d+)/rerun")
def _rerun_all(state: WriteState, request: RestRequest, repo: str, hit: re.Match[str], body: JSON) -> Reply:
    return _rerun(state, repo, int(hit["run"]), body, failed_only=False)
