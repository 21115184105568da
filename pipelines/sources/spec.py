"""Parse a ``--source`` value and open the source it names.

``github`` (live, through PyGithub), ``snapshot:DIR`` (a DevLake recording), ``sample`` (the
synthetic organisation; ``sample:large`` its 1,000-person, 100,000-issue size), and
``travistorrent:PATH`` (real public CI history in the TravisTorrent schema, loaded straight into
the warehouse). With no value: ``github`` when a token (or GitHub App credentials) and
repositories are configured, else ``sample``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from pydantic import SecretStr, ValidationError

from actions.common.app_auth import AppCredentials
from pipelines.sources.base import JSON, Batch, HistorySource, RecordingSource, SourceError
from pipelines.sources.github.settings import DEFAULT_API_URL, GitHubSettings, parse_repos
from pipelines.sources.recording import Recording


@dataclass(frozen=True)
class SourceSpec:
    """A parsed source value."""

    kind: str
    path: Path | None = None
    size: str = ""

    def __str__(self) -> str:
        if self.size:
            return f"{self.kind}:{self.size}"
        return f"{self.kind}:{self.path}" if self.path is not None else self.kind


def parse_source(
    value: str | None, *, token: str | None = None, repos: str | None = None, app: bool = False
) -> SourceSpec:
    """Parse a source value; ``None`` or empty picks ``github`` if configured, else ``sample``.

    ``app`` says GitHub App credentials are configured (they stand for a token).

    Raises:
        SourceError: for an unknown kind or a missing path.
    """
    if not value:
        return SourceSpec("github") if (token or app) and repos else SourceSpec("sample")
    kind, _, rest = value.partition(":")
    if kind == "sample" and rest == "large":
        return SourceSpec("sample", size="large")
    if kind in {"github", "sample"}:
        if rest:
            raise SourceError(f"source {kind!r} takes no argument (got {value!r})")
        return SourceSpec(kind)
    if kind in {"snapshot", "travistorrent"}:
        if not rest:
            raise SourceError(f"source {kind!r} needs a path: {kind}:PATH")
        return SourceSpec(kind, Path(rest).expanduser())
    raise SourceError(
        f"unknown source {value!r}: use github, sample, sample:large, snapshot:DIR or travistorrent:PATH"
    )


def open_source(
    spec: SourceSpec,
    *,
    token: str | None = None,
    repos: str | None = None,
    api_url: str | None = None,
    overrides: dict[str, object] | None = None,
    app: AppCredentials | None = None,
) -> HistorySource:
    """Open the source a spec names. Secrets stay inside the returned source.

    The github source authenticates with ``token`` or, exactly one of them, the App's ``app``.

    Raises:
        SourceError: when the source's configuration is incomplete or invalid.
    """
    if spec.kind == "sample" and spec.size == "large":
        return RecordingSource(_large_sample(), "sample:large (synthetic)")
    if spec.kind == "sample":
        return RecordingSource(_default_sample(), "sample (synthetic)")
    if spec.kind == "snapshot":
        from pipelines.sources.snapshot import read_devlake_snapshot

        return RecordingSource(read_devlake_snapshot(spec.path or Path()), f"snapshot:{spec.path}")
    if spec.kind == "travistorrent":
        return TravisTorrentSource(spec.path or Path())
    if not token and app is None:
        raise SourceError(
            "the github source needs a token: set GITHUB_TOKEN (read access to the repositories), "
            "or a GitHub App's REPOPILOT_APP_ID and private key"
        )
    try:
        settings = GitHubSettings(
            api_url=api_url or DEFAULT_API_URL,
            token=SecretStr(token) if token else None,
            app=app,
            repos=parse_repos(repos or ""),
            **(overrides or {}),
        )
    except (ValidationError, ValueError) as exc:
        raise SourceError(f"invalid GitHub settings: {_safe_errors(exc)}") from None
    from pipelines.sources.github.source import GitHubSource

    return GitHubSource(settings)


class TravisTorrentSource:
    """Real CI history from a TravisTorrent build table.

    It has no GitHub streams (so no repository partitions): the ``raw_travis_builds`` asset
    loads the table whole, and the core models map it into ``core.ci_runs``.
    """

    synthetic = False

    def __init__(self, path: Path) -> None:
        if not path.is_file():
            raise SourceError(f"TravisTorrent table {str(path)!r} does not exist")
        self.path = path
        self.label = f"travistorrent:{path}"

    def repositories(self) -> list[str]:
        """No repository partitions: the table is loaded as a whole."""
        return []

    def fetch(self, repo: str, stream: str, states: Mapping[str, JSON]) -> Iterator[Batch]:
        """Nothing to fetch per stream."""
        return iter(())

    def close(self) -> None:
        """Nothing to release."""


@cache
def _default_sample() -> Recording:
    # Seeded and deterministic, so one generation per process serves every partition's asset.
    from pipelines.sources.sample import generate_sample_org

    return generate_sample_org()


@cache
def _large_sample() -> Recording:
    from pipelines.sources.sample import SampleOrgSpec, generate_sample_org

    return generate_sample_org(SampleOrgSpec.large())


def _safe_errors(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        # a model-wide check has no field to name, and pydantic's "Value error, " says nothing
        return "; ".join(
            ("{}: ".format(".".join(map(str, err["loc"]))) if err["loc"] else "")
            + err["msg"].removeprefix("Value error, ")
            for err in exc.errors(include_input=False)
        )
    return str(exc)
