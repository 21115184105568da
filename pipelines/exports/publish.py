"""Publishing the exports to a branch of a repository, where every workflow step can read them.

One commit per publish, made through GitHub's git data API (blobs, a tree, a commit, the branch
ref), so readers see either the previous exports or the new ones, never a mix, and the branch's
history keeps every earlier export for rollback. Files whose content is already on the branch are
not uploaded again, and an export identical to the branch's head makes no commit at all.
The actions read the branch with :func:`actions.common.exports.open_exports`
(``github:OWNER/NAME@BRANCH``).
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass

from github import Github, GithubException, InputGitTreeElement

from actions.common.app_auth import AppAuthError
from actions.common.exports import MANIFEST, Exports


@dataclass(frozen=True)
class PublishResult:
    """What a publish did.

    Attributes:
        repository: ``owner/name`` published to.
        branch: the branch.
        commit: the branch's head after publishing.
        changed: whether a new commit was made.
        uploaded: files uploaded (the rest were already on the branch).
        files: files in the published exports.
    """

    repository: str
    branch: str
    commit: str
    changed: bool
    uploaded: int
    files: int


def git_blob_id(content: bytes) -> str:
    """The id git (and GitHub) gives a blob with this content."""
    return hashlib.sha1(f"blob {len(content)}\0".encode() + content, usedforsecurity=False).hexdigest()


def _exported_files(exports: Exports) -> dict[str, bytes]:
    paths = [MANIFEST, *(entry["path"] for entry in exports.manifest["files"].values())]
    return {path: (exports.root / path).read_bytes() for path in paths}


class PublishError(RuntimeError):
    """GitHub refused a publish; the message names the repository, the branch and the likely cause."""


_MEANINGS = {
    401: "the token is invalid or expired",
    403: "refused: the token needs contents: write on that repository (or a rate limit was hit)",
    404: "no such repository, or the token cannot see it",
    409: "the branch changed meanwhile; publish again",
    422: "the branch is protected or changed meanwhile; publish again or lift the protection",
}


EMPTY_REPOSITORY = "the exports repository has no commit yet: create one (e.g. a README) first"
"""What a 409 "Git Repository is empty." means: the git data API needs a first commit to exist."""


def _message(error: GithubException) -> str:
    """GitHub's own message ("Bad credentials"); it never carries the token."""
    message = error.data.get("message") if isinstance(error.data, dict) else None
    return message if isinstance(message, str) else ""


def _meaning(error: GithubException) -> str:
    message = _message(error)
    if error.status == 409 and "repository is empty" in message.lower():
        return EMPTY_REPOSITORY
    return _MEANINGS.get(error.status, "")


def publish_exports(exports: Exports, client: Github, repository: str, branch: str) -> PublishResult:
    """Make the head of ``branch`` of ``repository`` hold exactly ``exports``.

    Raises:
        PublishError: when GitHub refuses (no access, a protected branch, a repository without a
            commit, the GitHub App's credentials, ...), saying what it means.
    """
    try:
        return _publish(exports, client, repository, branch)
    except AppAuthError as error:
        # raised while the first request asks for an installation token: nothing was written
        raise PublishError(f"cannot publish the exports to {repository}@{branch}: {error}") from None
    except GithubException as error:
        meaning, message = _meaning(error), _message(error)
        raise PublishError(
            f"cannot publish the exports to {repository}@{branch}: GitHub answered HTTP {error.status}"
            + (f": {message}" if message else "")
            + (f" ({meaning})" if meaning else "")
        ) from None


def _publish(exports: Exports, client: Github, repository: str, branch: str) -> PublishResult:
    repo = client.get_repo(repository)
    files = _exported_files(exports)
    wanted = {path: git_blob_id(content) for path, content in files.items()}
    try:
        ref = repo.get_git_ref(f"heads/{branch}")
    except GithubException as error:
        if error.status != 404:
            raise
        ref = None
    present: dict[str, str] = {}
    parent = None
    if ref is not None:
        parent = repo.get_git_commit(ref.object.sha)
        tree = repo.get_git_tree(parent.tree.sha, recursive=True)
        present = {item.path: item.sha for item in tree.tree if item.type == "blob"}
        if present == wanted:
            return PublishResult(repository, branch, parent.sha, False, 0, len(files))
    known = set(present.values())
    uploaded = 0
    for path, content in files.items():
        if wanted[path] not in known:
            blob = repo.create_git_blob(base64.b64encode(content).decode("ascii"), "base64")
            known.add(blob.sha)
            uploaded += 1
    elements = [InputGitTreeElement(path, "100644", "blob", sha=sha) for path, sha in sorted(wanted.items())]
    new_tree = repo.create_git_tree(elements)
    model = exports.model_version or "no model"
    message = f"repopilot exports {exports.manifest['generated_at']} ({model})"
    commit = repo.create_git_commit(message, new_tree, [parent] if parent is not None else [])
    if ref is None:
        repo.create_git_ref(f"refs/heads/{branch}", commit.sha)
    else:
        ref.edit(commit.sha, force=False)
    return PublishResult(repository, branch, commit.sha, True, uploaded, len(files))
