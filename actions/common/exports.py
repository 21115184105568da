"""Reading the exports: from a local folder, or from the branch the publish asset writes.

An exports folder is trusted only when its manifest is valid, its schema version is one this
code understands, every file the manifest lists is present with the listed SHA-256, and every
JSON file validates against its schema. Anything else raises :class:`ExportError`: actions fail
closed rather than decide from exports they cannot trust.

Remote exports are named ``github:OWNER/NAME@BRANCH`` (the branch defaults to
:data:`DEFAULT_BRANCH`). They are downloaded once per commit into a cache folder (in a workflow,
one that ``actions/cache`` keeps) and verified like a local folder. A cached folder is used only
while its manifest is the commit's own (its git blob id, asked of GitHub on every run): the manifest
holds every file's checksum and ``generated_at``, so a cache cannot pass off other or older exports
as the branch's (:mod:`actions.common.freshness` takes the age from the manifest, never from file times).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any, overload

from github import Github, GithubException

from actions.common.errors import ExportError, InputError
from actions.common.github import github_failure, parse_time, repository_name
from actions.common.schemas import SCHEMA_NAMES, SCHEMA_VERSION, newer, problems, supported

DEFAULT_BRANCH = "repopilot-exports"
"""Branch of the exports repository that the publish asset writes."""

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class Exports:
    """A verified exports folder.

    Attributes:
        root: the folder.
        manifest: its manifest (valid against ``manifest.schema.json``).
        origin: where it came from (a path or ``github:OWNER/NAME@BRANCH#COMMIT``).
    """

    root: Path
    manifest: dict[str, Any]
    origin: str
    _read: dict[tuple[str, str | None], dict[str, Any]] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    @property
    def generated_at(self) -> datetime:
        """When the pipeline made the exports (the manifest's ``generated_at``, aware UTC)."""
        return manifest_time(self.manifest, self.origin)

    @property
    def data_as_of(self) -> datetime | None:
        """The newest event the exports were built from (``source.data_as_of``), None for no data."""
        return data_time(self.manifest, self.origin)

    @property
    def model_version(self) -> str | None:
        """Version of the models in the exports, or None when none was promoted yet."""
        model = self.manifest["model"]
        return None if model is None else str(model["version"])

    def has(self, name: str) -> bool:
        """Whether the manifest lists the file ``name``."""
        return name in self.manifest["files"]

    def path(self, name: str) -> Path:
        """Local path of the listed file ``name``.

        Raises:
            ExportError: when the manifest does not list it.
        """
        entry = self.manifest["files"].get(name)
        if entry is None:
            raise ExportError(f"the exports at {self.origin} have no {name!r} file")
        return self.root / str(entry["path"])

    def json(self, name: str, *, repository: str | None = None) -> dict[str, Any]:
        """The listed JSON file ``name``, checked against its schema when first read.

        With ``repository``, only that repository's part is kept and checked: the entry of a
        ``repositories`` object and the items of top-level lists that name a ``repo``. An action
        reads one repository, and checking a large organisation's whole file costs seconds.

        Raises:
            ExportError: when the file is not listed, not JSON, or breaks its schema.
        """
        key = (name, repository)
        if key not in self._read:
            path = self.path(name)
            try:
                document = json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                raise ExportError(f"exports at {self.origin}: {path.name} is not valid JSON") from None
            if repository is not None and isinstance(document, dict):
                document = _only(document, repository)
            schema = self.manifest["files"][name].get("schema")
            if schema is not None and schema not in SCHEMA_NAMES:
                raise ExportError(
                    f"exports at {self.origin}: {name} names the schema {schema[:60]!r}, which this action "
                    "does not know (update the action or re-run the exports)"
                )
            found = problems(schema, document) if schema is not None else []
            if found:
                raise ExportError(
                    f"exports at {self.origin}: {name} is invalid: "
                    + "; ".join(found[:5])
                    + _newer_hint(self.manifest["schema_version"])
                )
            self._read[key] = document
        return self._read[key]


def _only(document: dict[str, Any], repository: str) -> dict[str, Any]:
    """``document`` with one repository's entries (names compared as GitHub does, ignoring case)."""
    wanted = repository.lower()
    narrowed = dict(document)
    for name, value in document.items():
        if name == "repositories" and isinstance(value, dict):
            narrowed[name] = {k: v for k, v in value.items() if str(k).lower() == wanted}
        elif isinstance(value, list) and any(isinstance(v, dict) and "repo" in v for v in value):
            narrowed[name] = [
                v for v in value if not isinstance(v, dict) or str(v.get("repo", "")).lower() == wanted
            ]
    return narrowed


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes (hex), read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def git_blob_id(data: bytes) -> str:
    """The id git gives a blob holding ``data`` (what GitHub's contents and trees call ``sha``)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


def _newer_hint(version: str) -> str:
    """What to add to a schema problem of exports written with ``version``: newer is not corrupt."""
    if not newer(version):
        return ""
    return (
        f" (the exports were written with schema version {version}, newer than the {SCHEMA_VERSION} "
        "this action reads: update the action)"
    )


def manifest_time(manifest: dict[str, Any], origin: str) -> datetime:
    """The manifest's ``generated_at`` as an aware UTC datetime.

    Raises:
        ExportError: when it is not an ISO 8601 time with a UTC offset: the age of the exports
            cannot be known, so they cannot be trusted.
    """
    value = manifest.get("generated_at")
    moment = parse_time(value, naive_as_utc=False)
    if moment is None:
        shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
        raise ExportError(
            f"{MANIFEST} at {origin}: generated_at {shown} is not an ISO 8601 time with a UTC offset "
            "(e.g. 2026-11-27T03:15:00Z), so the age of the exports is unknown (re-run the exports)"
        )
    return moment


def data_time(manifest: dict[str, Any], origin: str) -> datetime | None:
    """The manifest's ``source.data_as_of`` as an aware UTC datetime; None when the warehouse was empty.

    Raises:
        ExportError: when it is neither null nor an ISO 8601 time with a UTC offset.
    """
    value = manifest["source"].get("data_as_of")
    moment = parse_time(value, naive_as_utc=False)
    if value is not None and moment is None:
        shown = repr(value[:40]) if isinstance(value, str) else type(value).__name__
        raise ExportError(
            f"{MANIFEST} at {origin}: source.data_as_of {shown} is not an ISO 8601 time with a UTC "
            "offset, so how old the data is cannot be known (re-run the exports)"
        )
    return moment


def _read_manifest(root: Path, origin: str) -> dict[str, Any]:
    path = root / MANIFEST
    if not path.is_file():
        raise ExportError(f"no exports at {origin}: {MANIFEST} is missing (has the pipeline run?)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ExportError(f"{MANIFEST} at {origin} is not valid JSON: {error}") from None
    version = manifest.get("schema_version") if isinstance(manifest, dict) else None
    if not isinstance(version, str) or not supported(version):
        raise ExportError(
            f"exports at {origin} have schema version {version!r}; this action reads {SCHEMA_VERSION} "
            "(update the action or re-run the exports)"
        )
    found = problems("manifest", manifest)
    if found:
        hint = _newer_hint(version)
        raise ExportError(f"{MANIFEST} at {origin} is invalid: " + "; ".join(found[:5]) + hint)
    manifest_time(manifest, origin)
    data_time(manifest, origin)
    return dict(manifest)


def verify(root: Path, origin: str | None = None, *, schemas: bool = True) -> Exports:
    """Check an exports folder and return it.

    Args:
        root: the folder.
        origin: how to name it in errors (default: the path).
        schemas: also check every JSON file against its schema now; without it, each file is
            checked when :meth:`Exports.json` first reads it (checksums are always checked).

    Raises:
        ExportError: naming the first problem: a missing or invalid manifest, an unknown schema
            version, a missing file, a checksum mismatch, or a JSON file that breaks its schema.
    """
    origin = origin or str(root)
    manifest = _read_manifest(root, origin)
    for entry in manifest["files"].values():
        path = root / entry["path"]
        if not path.is_file():
            raise ExportError(f"exports at {origin} list {entry['path']} but it is missing")
        if sha256_of(path) != entry["sha256"]:
            raise ExportError(f"exports at {origin}: {entry['path']} does not match its checksum")
    exports = Exports(root=root, manifest=manifest, origin=origin)
    if schemas:
        for name, entry in manifest["files"].items():
            if entry.get("schema") is not None:
                exports.json(name)
    return exports


def parse_location(location: str) -> tuple[str, str] | None:
    """``(repository, branch)`` of a ``github:OWNER/NAME[@BRANCH]`` location, None for a path.

    Raises:
        ExportError: for a malformed ``github:`` location.
    """
    if not location.startswith("github:"):
        return None
    target = location.removeprefix("github:")
    repository, _, branch = target.partition("@")
    try:
        repository_name(repository)
    except InputError:
        raise ExportError(f"exports location {location!r} is not github:OWNER/NAME[@BRANCH]") from None
    return repository, branch or DEFAULT_BRANCH


def _download(client: Github, repository: str, branch: str, target: Path) -> str:
    """Download the exports at the head of ``branch`` into ``target``; returns the commit id."""
    repo = client.withLazy(True).get_repo(repository)
    head = repo.get_git_ref(f"heads/{branch}").object.sha
    done = target / head
    if (done / MANIFEST).is_file():
        # anything that can write the cache can put any manifest under the commit's name, and the
        # manifest holds the checksums and generated_at: it must be the commit's own
        listed = repo.get_contents(MANIFEST, ref=head)
        if not isinstance(listed, list) and git_blob_id((done / MANIFEST).read_bytes()) == listed.sha:
            return head
        shutil.rmtree(done)
    tree = repo.get_git_tree(repo.get_git_commit(head).tree.sha, recursive=True)
    blobs = {item.path: item.sha for item in tree.tree if item.type == "blob"}
    if MANIFEST not in blobs:
        raise ExportError(f"branch {branch} of {repository} holds no {MANIFEST}")
    staging = Path(tempfile.mkdtemp(prefix=".download-", dir=target))
    try:
        for path, sha in blobs.items():
            relative = PurePosixPath(path)
            if relative.is_absolute() or ".." in relative.parts:
                continue  # never write outside the cache folder
            blob = repo.get_git_blob(sha)
            destination = staging.joinpath(*relative.parts)
            destination.parent.mkdir(parents=True, exist_ok=True)
            destination.write_bytes(base64.b64decode(blob.content))
        os.replace(staging, done)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return head


def open_exports(
    location: str | Path, *, client: Github | None = None, cache_dir: Path | None = None
) -> Exports:
    """The verified exports at ``location``: a folder, or ``github:OWNER/NAME[@BRANCH]``.

    Args:
        location: a local folder, or the repository and branch the publish asset writes.
        client: the GitHub client for a ``github:`` location.
        cache_dir: where downloads are kept, one folder per commit (default: a temporary folder).

    Raises:
        ExportError: when the exports cannot be read or trusted.
    """
    remote = parse_location(str(location))
    if remote is None:
        return verify(Path(location), schemas=False)
    if client is None:
        raise ExportError("reading exports from GitHub needs a token")
    repository, branch = remote
    cache = cache_dir or Path(tempfile.mkdtemp(prefix="repopilot-exports-"))
    cache.mkdir(parents=True, exist_ok=True)
    try:
        head = _download(client, repository, branch, cache)
    except GithubException as error:
        if error.status == 404:
            raise ExportError(f"cannot read exports from {repository}@{branch}: not found") from None
        raise ExportError(str(github_failure(error, f"reading exports from {repository}@{branch}"))) from None
    return verify(cache / head, f"github:{repository}@{branch}#{head[:12]}", schemas=False)


@overload
def exports_from_arguments(args: Any, client: Github | None, *, needed_for: str) -> Exports: ...


@overload
def exports_from_arguments(
    args: Any, client: Github | None, *, needed_for: None = None
) -> Exports | None: ...


def exports_from_arguments(
    args: Any, client: Github | None, *, needed_for: str | None = None
) -> Exports | None:
    """The exports named by ``--exports`` or ``$REPOPILOT_EXPORTS``.

    Downloads are cached under ``--cache-dir`` or the runner's temporary folder.

    Args:
        args: parsed arguments with ``exports`` and ``cache_dir`` (:func:`add_common_arguments`).
        client: the GitHub client, for a ``github:`` location.
        needed_for: what the action needs them for; when given, no location is an error.

    Raises:
        InputError: when the exports are needed and no location is given.
        ExportError: when they cannot be read or trusted.
    """
    location = args.exports or os.environ.get("REPOPILOT_EXPORTS")
    if not location:
        if needed_for is None:
            return None
        raise InputError(f"no exports: pass --exports or set REPOPILOT_EXPORTS ({needed_for})")
    cache = (
        args.cache_dir or Path(os.environ.get("RUNNER_TEMP") or tempfile.gettempdir()) / "repopilot-exports"
    )
    return open_exports(location, client=client, cache_dir=cache)
