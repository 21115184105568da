"""Settings of the live GitHub source."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from actions.common.app_auth import (
    BOTH_CREDENTIALS_REFUSED,
    DEFAULT_REFRESH_MARGIN,
    INSTALLATION_ID_ENV,
    AppCredentials,
)
from pipelines.sources.run_logs import MAX_LOG_BYTES

REPO_NAME = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")
DEFAULT_API_URL = "https://api.github.com"


def parse_repos(value: str) -> list[str]:
    """Parse ``REPOPILOT_REPOS`` (comma-separated ``owner/name``), rejecting bad names.

    Raises:
        ValueError: naming the first entry that is not ``owner/name``.
    """
    repos = [part.strip() for part in value.split(",") if part.strip()]
    for repo in repos:
        if not REPO_NAME.match(repo) or repo.endswith((".", "..")):
            raise ValueError(f"REPOPILOT_REPOS: {repo!r} is not a repository name of the form owner/name")
    return repos


class GitHubSettings(BaseModel):
    """How the live source talks to GitHub.

    Attributes:
        api_url: REST base URL; ``https://HOST/api/v3`` for GitHub Enterprise Server.
        token: a token with read access to the repositories (never logged or stored).
        app: GitHub App credentials instead of a token: installation tokens, renewed as they expire.
        app_refresh_margin: seconds before its expiry an installation token is replaced.
        repos: repositories to ingest.
        per_page: items per list page; GitHub's maximum of 100 minimises requests.
        graphql_page_size: pull requests per GraphQL page (each with up to 100 reviews and files).
        timeout: seconds before a request is abandoned and retried.
        max_attempts: attempts per request on 5xx, resets and timeouts before giving up.
        unreached_attempts: attempts of a client's first connection before the API is called
            unreachable (refused, unknown host, connect timeout); ``max_attempts`` once it answered.
        backoff_factor: seconds multiplied by ``2**attempt`` between attempts (jitter added).
        max_rate_limit_wait: longest wait, in seconds, for a rate-limit reset before stopping.
        lookback_hours: workflow runs created this long before the cursor are re-read, so
            that re-runs and runs that were still in progress are seen again.
        jobs_for: fetch jobs (with steps) for ``failed`` attempts only, or for ``all``.
        seconds_between_requests: pause between requests (GitHub recommends serial requests).
        logs_for: read the log archives of ``failed`` attempts (their failure excerpts are
            kept), or ``none``.
        max_log_bytes: largest log archive downloaded; a bigger one is recorded as too large.
        logs_per_batch: failed attempts whose excerpts are landed (and the queue advanced) together.
    """

    model_config = ConfigDict(frozen=True)

    api_url: str = DEFAULT_API_URL
    token: SecretStr | None = None
    app: AppCredentials | None = None
    app_refresh_margin: float = Field(default=DEFAULT_REFRESH_MARGIN, ge=0)
    repos: list[str] = Field(default_factory=list)
    per_page: int = Field(default=100, ge=1, le=100)
    graphql_page_size: int = Field(default=50, ge=1, le=100)
    timeout: float = Field(default=30.0, gt=0)
    max_attempts: int = Field(default=6, ge=1)
    unreached_attempts: int = Field(default=3, ge=1)
    backoff_factor: float = Field(default=1.0, ge=0)
    max_rate_limit_wait: float = Field(default=900.0, ge=0)
    lookback_hours: float = Field(default=72.0, ge=0)
    jobs_for: Literal["failed", "all"] = "failed"
    seconds_between_requests: float = Field(default=0.0, ge=0)
    logs_for: Literal["failed", "none"] = "failed"
    max_log_bytes: int = Field(default=MAX_LOG_BYTES, ge=1)
    logs_per_batch: int = Field(default=25, ge=1)

    @field_validator("api_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"GITHUB_API_URL must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    @field_validator("repos")
    @classmethod
    def _check_repos(cls, value: list[str]) -> list[str]:
        return parse_repos(",".join(value))

    @model_validator(mode="after")
    def _one_credential(self) -> GitHubSettings:
        if self.token is not None and self.app is not None:
            raise ValueError(BOTH_CREDENTIALS_REFUSED)
        owners = sorted({repo.split("/")[0].lower() for repo in self.repos})
        if self.app is not None and self.app.installation_id is None and len(owners) > 1:
            raise ValueError(
                f"set {INSTALLATION_ID_ENV}: an App installation covers one account, and the repositories "
                f"belong to {', '.join(owners)}"
            )
        return self

    def app_owner(self) -> str | None:
        """The account whose App installation is looked up when no installation id is set."""
        return self.repos[0].split("/")[0] if self.repos else None
