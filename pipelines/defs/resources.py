"""Dagster resources: the history source and the warehouse.

Both read their configuration when a run uses them, never at import: fields left empty fall
back to the documented environment variables (``GITHUB_TOKEN``, ``REPOPILOT_REPOS``,
``GITHUB_API_URL``, ``REPOPILOT_HOME``, ``REPOPILOT_APP_*``). The token and the App's private key
are read from the environment (or the key's file) by name so they never appear in run
configuration, the Dagster UI or event logs.
"""

import os
from pathlib import Path

import duckdb
from dagster import ConfigurableResource
from github import Github
from pydantic import Field

from actions.common.app_auth import (
    APP_ID_ENV,
    BOTH_CREDENTIALS_REFUSED,
    INSTALLATION_ID_ENV,
    PRIVATE_KEY_ENV,
    PRIVATE_KEY_FILE_ENV,
    AppAuthError,
    AppCredentials,
    app_credentials,
    app_credentials_from_env,
    installation_auth,
)
from actions.common.exports import DEFAULT_BRANCH
from actions.common.github import connect as connect_github
from actions.common.github import repository_name
from pipelines.sources.base import HistorySource, SourceError
from pipelines.sources.spec import open_source, parse_source
from warehouse.db import connect
from warehouse.landing import LandingZone


class HistorySourceResource(ConfigurableResource):  # type: ignore[type-arg]
    """Where GitHub history comes from: ``github``, ``sample``, ``snapshot:DIR``.

    The ``sample`` source is the offline twin of ``github``: the same streams, in the same
    JSON shapes, from a seeded synthetic organisation.
    """

    source: str = Field(
        default="",
        description="github | sample | snapshot:DIR | travistorrent:PATH; empty: github if configured",
    )
    token_env: str = Field(default="GITHUB_TOKEN", description="environment variable holding the token")
    repos: str = Field(default="", description="owner/name,...; empty: $REPOPILOT_REPOS")
    api_url: str = Field(default="", description="REST base URL; empty: $GITHUB_API_URL or api.github.com")
    backoff_factor: float = Field(default=1.0, description="seconds × 2**attempt between retries")
    max_attempts: int = Field(default=6, description="attempts per request before giving up")
    timeout: float = Field(default=30.0, description="seconds per request")
    max_rate_limit_wait: float = Field(default=900.0, description="longest rate-limit wait, seconds")
    jobs_for: str = Field(default="failed", description="fetch jobs for 'failed' attempts or 'all'")
    app_id: str = Field(default="", description=f"GitHub App id instead of a token; empty: ${APP_ID_ENV}")
    app_installation_id: str = Field(
        default="", description=f"the App's installation; empty: ${INSTALLATION_ID_ENV}, else the owner's"
    )
    app_private_key_env: str = Field(
        default=PRIVATE_KEY_ENV, description="environment variable holding the App's private key (PEM)"
    )
    app_private_key_file: str = Field(
        default="", description=f"file of the App's private key; empty: ${PRIVATE_KEY_FILE_ENV}"
    )

    def app_credentials(self) -> AppCredentials | None:
        """The GitHub App credentials, or None when none is configured.

        Raises:
            SourceError: when they are half configured or malformed (never quoting the key).
        """
        try:
            return app_credentials(
                self.app_id or os.environ.get(APP_ID_ENV),
                self.app_installation_id or os.environ.get(INSTALLATION_ID_ENV),
                os.environ.get(self.app_private_key_env),
                self.app_private_key_file or os.environ.get(PRIVATE_KEY_FILE_ENV),
            )
        except AppAuthError as exc:
            raise SourceError(str(exc)) from None

    def travistorrent_path(self) -> Path | None:
        """The TravisTorrent table to load, when that is the configured source."""
        token = os.environ.get(self.token_env) or None
        repos = self.repos or os.environ.get("REPOPILOT_REPOS", "")
        spec = parse_source(self.source, token=token, repos=repos, app=bool(os.environ.get(APP_ID_ENV)))
        return spec.path if spec.kind == "travistorrent" else None

    def open(self) -> HistorySource:
        """Open the configured source."""
        token = os.environ.get(self.token_env) or None
        repos = self.repos or os.environ.get("REPOPILOT_REPOS", "")
        app = self.app_credentials()
        spec = parse_source(self.source, token=token, repos=repos, app=app is not None)
        return open_source(
            spec,
            token=token,
            app=app if spec.kind == "github" else None,
            repos=repos,
            api_url=self.api_url or os.environ.get("GITHUB_API_URL") or None,
            overrides={
                "backoff_factor": self.backoff_factor,
                "max_attempts": self.max_attempts,
                "timeout": self.timeout,
                "max_rate_limit_wait": self.max_rate_limit_wait,
                "jobs_for": self.jobs_for,
            },
        )


class WarehouseResource(ConfigurableResource):  # type: ignore[type-arg]
    """The DuckDB warehouse and the landing zone under ``$REPOPILOT_HOME``."""

    home: str = Field(default="", description="data directory; empty: $REPOPILOT_HOME or ./.repopilot")
    accept_row_drop: bool = Field(
        default=False,
        description="let this run's quality checks accept tables that shrank more than allowed "
        "(after removing data on purpose); the accepted counts become the new reference",
    )

    @property
    def home_path(self) -> Path:
        """The data directory."""
        return Path(self.home or os.environ.get("REPOPILOT_HOME") or ".repopilot").expanduser().resolve()

    @property
    def database_path(self) -> Path:
        """The DuckDB file."""
        return self.home_path / "warehouse.duckdb"

    def landing_zone(self) -> LandingZone:
        """The landing zone of fetched batches."""
        return LandingZone(self.home_path / "landing")

    def connect(self, *, read_only: bool = False) -> duckdb.DuckDBPyConnection:
        """Open the warehouse (read-write opens create the schemas)."""
        return connect(self.database_path, read_only=read_only)


RERUN_PRIORS_ENV = "REPOPILOT_RERUN_PRIORS"
"""The environment variable :func:`pipelines.definitions.build_definitions` sets ``rerun_priors`` from."""


EXPORTS_TOKEN_ENV = "REPOPILOT_EXPORTS_TOKEN"  # noqa: S105 (a variable name, not a secret)
"""A token for publishing alone: a fine-grained token's permissions hold for every repository it selects,
so ``contents: write`` on the exports repository needs a token of its own to leave ingestion read-only."""


class ExportsTargetResource(ConfigurableResource):  # type: ignore[type-arg]
    """How the exports are made and where they are published: a branch of a repository of the organisation.

    Empty publishing fields fall back to ``REPOPILOT_EXPORTS_REPO``, ``REPOPILOT_EXPORTS_BRANCH`` and
    ``GITHUB_API_URL``; with no repository, exports stay local (the demo). The credentials
    (``$REPOPILOT_EXPORTS_TOKEN`` when set, else the GitHub App of ``REPOPILOT_APP_*`` or ``$GITHUB_TOKEN``,
    one of the two) need ``contents: write`` on that repository only. ``rerun_priors`` is set by the code
    location from ``REPOPILOT_RERUN_PRIORS`` (:data:`RERUN_PRIORS_ENV`) or by run configuration.
    """

    repository: str = Field(default="", description="owner/name; empty: $REPOPILOT_EXPORTS_REPO")
    branch: str = Field(
        default="", description="branch; empty: $REPOPILOT_EXPORTS_BRANCH or repopilot-exports"
    )
    token_env: str = Field(
        default="",
        description="environment variable holding the token; empty: REPOPILOT_EXPORTS_TOKEN if set, "
        "else GITHUB_TOKEN",
    )
    api_url: str = Field(default="", description="REST base URL; empty: $GITHUB_API_URL or api.github.com")
    rerun_priors: str = Field(
        default="",
        description="folder of the public re-run data (gha-reruns) blended into the rerun_priors export; "
        "empty: the organisation's own re-runs only",
    )

    def rerun_priors_path(self) -> Path | None:
        """The gha-reruns folder, or None when not configured."""
        return Path(self.rerun_priors).expanduser() if self.rerun_priors else None

    def target(self) -> tuple[str, str] | None:
        """``(repository, branch)``, or None when publishing is not configured."""
        repository = self.repository or os.environ.get("REPOPILOT_EXPORTS_REPO", "")
        if not repository:
            return None
        branch = self.branch or os.environ.get("REPOPILOT_EXPORTS_BRANCH") or DEFAULT_BRANCH
        return repository_name(repository), branch

    def client(self) -> Github:
        """A GitHub client that publishes: the token of ``token_env``, else of ``REPOPILOT_EXPORTS_TOKEN``.

        Without either, the GitHub App's installation tokens when ``REPOPILOT_APP_*`` is set (the
        installation looked up on the exports repository's owner unless its id is given), else
        ``GITHUB_TOKEN``; as for ingestion, setting both is refused.

        Raises:
            AppAuthError: when the App is half configured, malformed, or set beside ``GITHUB_TOKEN``
                (one line naming the setting, never the key).
        """
        api_url = self.api_url or os.environ.get("GITHUB_API_URL")
        variable = self.token_env or (EXPORTS_TOKEN_ENV if os.environ.get(EXPORTS_TOKEN_ENV) else "")
        if variable:
            return connect_github(os.environ.get(variable) or None, api_url)
        app = app_credentials_from_env(os.environ)
        if app is None:
            return connect_github(os.environ.get("GITHUB_TOKEN") or None, api_url)
        if os.environ.get("GITHUB_TOKEN"):
            raise AppAuthError(
                f"{BOTH_CREDENTIALS_REFUSED} (or {EXPORTS_TOKEN_ENV} to publish with a token of its own)"
            )
        target = self.target()
        owner = target[0].split("/")[0] if target else None
        return connect_github(None, api_url, auth=installation_auth(app, owner=owner))


FAILURE_TEXT_ENV = "REPOPILOT_FAILURE_TEXT"
"""The environment variable the code location sets the labelled failure text (a CSV) from."""

FAILURE_PATTERNS_ENV = "REPOPILOT_FAILURE_PATTERNS"
"""The environment variable the code location sets FlakeRanker's ``patterns.csv`` from."""


class FailureTextResource(ConfigurableResource):  # type: ignore[type-arg]
    """What the failure classifier is trained on; empty ``labelled``: no classifier (heal keeps its rules).

    Set by the code location from ``REPOPILOT_FAILURE_TEXT`` and ``REPOPILOT_FAILURE_PATTERNS``
    (:data:`FAILURE_TEXT_ENV`, :data:`FAILURE_PATTERNS_ENV`) or by run configuration.
    """

    labelled: str = Field(
        default="",
        description="labelled failure text, a CSV with the columns text,label[,source,confidence] "
        "(LogChunks' labelled_chunks.csv); empty: no classifier is trained or exported",
    )
    patterns: str = Field(
        default="", description="FlakeRanker's patterns.csv, merged into the rules; empty: the curated rules"
    )

    def labelled_path(self) -> Path | None:
        """The labelled CSV, or None when not configured."""
        return Path(self.labelled).expanduser() if self.labelled else None

    def patterns_path(self) -> Path | None:
        """FlakeRanker's patterns, or None when not configured."""
        return Path(self.patterns).expanduser() if self.patterns else None
