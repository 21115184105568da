"""A thin, well-behaved HTTP layer over PyGithub's requester.

PyGithub does the transport: authentication, connection reuse, and retries through
:class:`github.GithubRetry` (5xx, connection resets and timeouts with exponential backoff and
jitter; primary rate limits until ``X-RateLimit-Reset``; secondary limits honouring
``Retry-After``). This module adds what list syncing needs on top: conditional requests
(``If-None-Match`` → 304, which costs no rate limit), Link-header pagination, a proactive
pause when the primary budget is spent, bounded waits that say how long and why, and errors
that name the request but never the token.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit

import requests
import urllib3.exceptions
from github import Auth, Github, GithubException, GithubRetry
from github.GithubException import RateLimitExceededExceedsMaxWait
from github.Requester import Requester
from urllib3.connectionpool import ConnectionPool
from urllib3.response import BaseHTTPResponse
from urllib3.util.retry import Retry

from actions.common.app_auth import AppAuthError, InstallationAuth, installation_auth
from pipelines.sources.base import SourceError
from pipelines.sources.github.settings import GitHubSettings

log = logging.getLogger("repopilot.github")


@dataclass
class Reachability:
    """Whether the API has answered a client yet, shared by the copies urllib3 makes of its retry."""

    answered: bool = False


class LoggedRetry(GithubRetry):
    """:class:`GithubRetry` that logs each wait with its length and reason, and bounds it.

    Until the API has answered the client once (``reachability``), a connection that cannot be
    opened (refused, unknown host, connect timeout) is tried ``unreached_attempts`` times, not
    ``total``: an API that cannot be reached at all fails in seconds, while a connection lost
    mid-sync, after GitHub answered, is retried in full.
    """

    max_wait: float = 900.0
    reachability: Reachability | None = None
    unreached_attempts: int = 3

    def new(self, **kw: Any) -> Self:
        """A copy for the next attempt, keeping the settings urllib3 does not know about."""
        retry = super().new(**kw)
        retry.max_wait = self.max_wait
        retry.reachability = self.reachability
        retry.unreached_attempts = self.unreached_attempts
        return retry

    def increment(  # type: ignore[override]
        self,
        method: str | None = None,
        url: str | None = None,
        response: BaseHTTPResponse | None = None,
        error: Exception | None = None,
        _pool: ConnectionPool | None = None,
        _stacktrace: TracebackType | None = None,
    ) -> Retry:
        """Count a failed attempt; give up early when the API was never reached."""
        if response is not None and self.reachability is not None:
            self.reachability.answered = True
        elif (
            error is not None
            and self.reachability is not None
            and not self.reachability.answered
            and self._is_connection_error(error)
            and len(self.history) + 1 >= self.unreached_attempts
        ):
            raise urllib3.exceptions.MaxRetryError(_pool, url, error)  # type: ignore[arg-type]
        return super().increment(method, url, response, error, _pool, _stacktrace)  # type: ignore[arg-type]

    def sleep(self, response: BaseHTTPResponse | None = None) -> None:
        """Wait before the next attempt, logging why and for how long."""
        retry_after = self.get_retry_after(response) if response is not None else None
        if retry_after is not None:
            if retry_after > self.max_wait:
                raise SourceError(
                    f"GitHub asked to wait {retry_after:.0f}s (Retry-After), longer than the "
                    f"{self.max_wait:.0f}s allowed; try again later"
                )
            reason = f"HTTP {response.status if response is not None else '?'} with Retry-After"
            log.warning("GitHub rate limit: waiting %.1fs (%s)", retry_after, reason)
        else:
            backoff = self.get_backoff_time()
            last = self.history[-1] if self.history else None
            if last is not None and last.status in (403, 429):
                log.warning("GitHub rate limit (HTTP %s): waiting %.1fs for the reset", last.status, backoff)
            elif last is not None and last.status:
                log.warning("GitHub answered HTTP %s: waiting %.1fs before retrying", last.status, backoff)
            else:
                error = type(last.error).__name__ if last is not None and last.error is not None else "error"
                # before the first answer the retry is short and its failure says it all in one line
                first_contact = self.reachability is not None and not self.reachability.answered
                log.log(
                    logging.INFO if first_contact else logging.WARNING,
                    "GitHub request failed (%s): waiting %.1fs before retrying",
                    error,
                    backoff,
                )
        super().sleep(response)


@dataclass
class Response:
    """One answered request: status, body (``None`` for 304) and the headers used by syncing."""

    status: int
    body: Any
    etag: str | None
    next_url: str | None


@dataclass
class Download:
    """A file GitHub serves through a redirect to a signed URL (a run's log archive).

    Attributes:
        status: 200 when ``body`` holds the file; 404 or 410 when GitHub has none (expired);
            413 when the file is larger than the cap (``body`` is then ``None``).
        body: the file's bytes.
        size: bytes seen (for a refused file, at least the cap).
    """

    status: int
    body: bytes | None
    size: int


@dataclass
class RequestStats:
    """Requests spent, by outcome, for benchmark and asset metadata."""

    by_status: Counter[str] = field(default_factory=Counter)
    rate_limit_used: int = 0

    def total(self) -> int:
        """All requests answered."""
        return sum(self.by_status.values())


def _next_link(link_header: str | None) -> str | None:
    if not link_header:
        return None
    for part in link_header.split(","):
        segments = part.split(";")
        if any(seg.strip() == 'rel="next"' for seg in segments[1:]):
            return segments[0].strip().strip("<>")
    return None


class CredentialsRefusedError(SourceError):
    """GitHub refused the App's credentials: nothing can be read, so a sync stops before it starts."""


class GitHubClient:
    """GET and GraphQL requests against one GitHub API, with the policies described above."""

    def __init__(self, settings: GitHubSettings) -> None:
        self.settings = settings
        retry = LoggedRetry(
            # urllib3's total counts retries, so the first attempt comes on top of it
            total=settings.max_attempts - 1,
            backoff_factor=settings.backoff_factor,
            backoff_max=60,
            backoff_jitter=1.0,
            secondary_rate_wait=min(60.0, settings.max_rate_limit_wait),
            max_rate_limit_wait=settings.max_rate_limit_wait,
        )
        retry.max_wait = settings.max_rate_limit_wait
        self.reachability = Reachability()
        retry.reachability = self.reachability
        self._unreached_attempts = min(settings.unreached_attempts, settings.max_attempts)
        retry.unreached_attempts = self._unreached_attempts
        token = settings.token.get_secret_value() if settings.token is not None else None
        self.app_auth: InstallationAuth | None = None
        auth: Auth.Auth | None = Auth.Token(token) if token else None
        if settings.app is not None:
            self.app_auth = installation_auth(
                settings.app, owner=settings.app_owner(), margin=settings.app_refresh_margin
            )
            auth = self.app_auth
        self._github = Github(
            base_url=settings.api_url,
            auth=auth,
            per_page=settings.per_page,
            timeout=int(max(1, settings.timeout)),
            retry=retry,
            seconds_between_requests=settings.seconds_between_requests or None,
            # PyGithub spaces POSTs a second apart as writes; our only POSTs are GraphQL reads.
            seconds_between_writes=settings.seconds_between_requests or None,
        )
        self._requester: Requester = self._github.requester
        self._blobs = requests.Session()
        self.stats = RequestStats()
        self._base_path = urlsplit(settings.api_url).path.rstrip("/")

    def close(self) -> None:
        """Close pooled connections."""
        self._github.close()
        self._blobs.close()

    def _describe(self, url: str) -> str:
        path = urlsplit(url).path if url.startswith("http") else url
        return path.removeprefix(self._base_path) or "/"

    def _pause_if_exhausted(self, headers: dict[str, Any]) -> None:
        remaining = headers.get("x-ratelimit-remaining")
        reset = headers.get("x-ratelimit-reset")
        if remaining is None or reset is None or int(remaining) > 0:
            return
        wait = max(0.0, int(reset) - datetime.now(UTC).timestamp()) + 1.0
        if wait > self.settings.max_rate_limit_wait:
            raise SourceError(
                f"GitHub rate limit exhausted; it resets in {wait:.0f}s, longer than the "
                f"{self.settings.max_rate_limit_wait:.0f}s allowed; try again later"
            )
        log.warning("GitHub rate limit exhausted: waiting %.1fs for the reset", wait)
        time.sleep(wait)

    def get(self, url: str, params: dict[str, Any] | None = None, etag: str | None = None) -> Response:
        """GET a JSON document, conditionally when ``etag`` is given.

        Malformed JSON is retried like a 5xx (a proxy can truncate a body) a bounded number of
        times, then reported.

        Raises:
            SourceError: when GitHub keeps failing, refuses the request, or the body is not JSON.
        """
        headers = {"If-None-Match": etag} if etag else {}
        what = self._describe(url)
        for attempt in range(1, self.settings.max_attempts + 1):
            status, response_headers, output = self._request("GET", url, params, headers, what)
            lowered = {k.lower(): v for k, v in response_headers.items()}
            self.stats.by_status[str(status)] += 1
            if status == 304:
                return Response(304, None, lowered.get("etag", etag), None)
            try:
                body = json.loads(output) if output else None
            except json.JSONDecodeError:
                if attempt == self.settings.max_attempts:
                    raise SourceError(
                        f"GitHub returned malformed JSON for GET {what} {self.settings.max_attempts} times; "
                        "stopped without writing a partial page"
                    ) from None
                log.warning("GitHub returned malformed JSON for GET %s; retrying", what)
                time.sleep(min(60.0, self.settings.backoff_factor * 2**attempt))
                continue
            if status >= 400:
                raise self._error("GET", what, status, lowered, body)
            self.stats.rate_limit_used += 1
            self._pause_if_exhausted(lowered)
            return Response(status, body, lowered.get("etag"), _next_link(lowered.get("link")))
        raise SourceError(f"GET {what} failed")  # pragma: no cover - loop always returns or raises

    def download(self, url: str, max_bytes: int) -> Download:
        """GET a file GitHub answers with a 302 to a signed URL, and download it from there.

        The API request carries the token; the signed URL must not (it is a credential in
        itself, often on another host), so it is fetched by a separate plain HTTP session, never
        by PyGithub's redirect handling, which keeps the token when the host is the same. The
        signed URL never appears in logs or errors. At most ``max_bytes`` are read.

        Raises:
            SourceError: when GitHub refuses the request, answers without a redirect, or the
                download keeps failing.
        """
        what = self._describe(url)
        status, response_headers, output = self._request("GET", url, None, {}, what)
        lowered = {k.lower(): v for k, v in response_headers.items()}
        self.stats.by_status[str(status)] += 1
        if status in (404, 410):
            return Download(status, None, 0)
        if status >= 400:
            try:
                body = json.loads(output) if output else None
            except json.JSONDecodeError:
                body = None
            raise self._error("GET", what, status, lowered, body)
        location = lowered.get("location")
        if status not in (301, 302, 303, 307, 308) or not location:
            raise SourceError(f"GitHub answered HTTP {status} to GET {what} without a download location")
        self.stats.rate_limit_used += 1
        self._pause_if_exhausted(lowered)
        return self._fetch_signed(location, max_bytes, what)

    def _fetch_signed(self, location: str, max_bytes: int, what: str) -> Download:
        for attempt in range(1, self.settings.max_attempts + 1):
            try:
                with self._blobs.get(
                    location,
                    stream=True,
                    timeout=self.settings.timeout,
                    allow_redirects=False,
                    # A callable auth replaces any credential requests would find in ~/.netrc.
                    auth=lambda request: request,
                ) as response:
                    self.stats.by_status[f"blob {response.status_code}"] += 1
                    if response.status_code in (404, 410):
                        return Download(response.status_code, None, 0)
                    if response.status_code >= 500 or response.status_code == 429:
                        raise requests.exceptions.RetryError(f"HTTP {response.status_code}")
                    if response.status_code != 200:
                        raise SourceError(
                            f"the download of GET {what} was refused: HTTP {response.status_code} "
                            "(the signed URL may have expired; re-run to ask for a new one)",
                            response.status_code,
                        )
                    declared = int(response.headers.get("Content-Length") or 0)
                    if declared > max_bytes:
                        return Download(413, None, declared)
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_content(chunk_size=1 << 16):
                        size += len(chunk)
                        if size > max_bytes:
                            return Download(413, None, size)
                        chunks.append(chunk)
                    return Download(200, b"".join(chunks), size)
            except (requests.exceptions.RequestException, urllib3.exceptions.HTTPError) as exc:
                if attempt == self.settings.max_attempts:
                    raise SourceError(
                        f"the download of GET {what} kept failing ({type(exc).__name__}) after "
                        f"{self.settings.max_attempts} attempts; nothing partial was written, "
                        "re-run to resume"
                    ) from None
                wait = min(60.0, self.settings.backoff_factor * 2**attempt)
                error = type(exc).__name__
                log.warning("download of GET %s failed (%s); retrying in %.1fs", what, error, wait)
                time.sleep(wait)
        raise SourceError(f"GET {what} failed")  # pragma: no cover - loop always returns or raises

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        """Run a GraphQL query and return its ``data``.

        Raises:
            SourceError: on HTTP errors, GraphQL errors (rate limit included) or a bad body.
        """
        status, response_headers, output = self._request(
            "POST", self._requester.graphql_url, None, {}, "graphql", {"query": query, "variables": variables}
        )
        self.stats.by_status[f"graphql {status}"] += 1
        lowered = {k.lower(): v for k, v in response_headers.items()}
        try:
            body = json.loads(output) if output else {}
        except json.JSONDecodeError:
            raise SourceError("GitHub returned malformed JSON for a GraphQL query") from None
        if status >= 400:
            raise self._error("POST", "/graphql", status, lowered, body)
        errors = body.get("errors") or []
        if errors:
            message = "; ".join(str(err.get("message", err)) for err in errors[:3])
            raise SourceError(f"GitHub GraphQL query failed: {message}")
        self._pause_if_exhausted(lowered)
        data: dict[str, Any] = body.get("data") or {}
        return data

    def _request(
        self,
        verb: str,
        url: str,
        params: dict[str, Any] | None,
        headers: dict[str, str],
        what: str,
        body: Any | None = None,
    ) -> tuple[int, dict[str, Any], str]:
        try:
            answer = self._requester.requestJson(verb, url, params, headers, body)
            if answer[0] == 401 and self.app_auth is not None:
                # the token expired while the request waited (rate limit, retries): again, with a new one
                log.info("GitHub refused the installation token on %s %s; asking for a new one", verb, what)
                self.app_auth.expire()
                answer = self._requester.requestJson(verb, url, params, headers, body)
            self.reachability.answered = True
            return answer
        except AppAuthError as exc:
            self.reachability.answered = True
            raise CredentialsRefusedError(str(exc)) from None
        except RateLimitExceededExceedsMaxWait as exc:
            self.reachability.answered = True
            raise SourceError(
                f"GitHub rate limit on {verb} {what}: the reset is {exc.wait:.0f}s away, longer than "
                f"the {self.settings.max_rate_limit_wait:.0f}s allowed; try again later"
            ) from None
        except GithubException as exc:
            self.reachability.answered = True
            message = exc.data.get("message") if isinstance(exc.data, dict) else None
            raise SourceError(
                f"GitHub refused {verb} {what}: HTTP {exc.status}" + (f": {message}" if message else ""),
                exc.status,
            ) from None
        except requests.exceptions.RetryError:
            raise SourceError(
                f"GitHub kept failing on {verb} {what} after {self.settings.max_attempts} attempts "
                "(server errors); nothing partial was written, re-run to resume"
            ) from None
        except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
            reason = getattr(exc.args[0], "reason", None) if exc.args else None
            timed_out = isinstance(exc, requests.exceptions.Timeout) or isinstance(
                reason, urllib3.exceptions.TimeoutError
            )
            kind = "timed out" if timed_out else "lost the connection"
            attempts = self.settings.max_attempts
            if isinstance(reason, urllib3.exceptions.ConnectTimeoutError) and not self.reachability.answered:
                attempts = self._unreached_attempts
                # urllib3 files a refused connection under timeouts; it is neither, and says where to look
                refused = isinstance(reason, urllib3.exceptions.NewConnectionError)
                how = "" if refused else "connecting timed out; "
                kind = f"could not be reached at {self.settings.api_url} ({how}is GITHUB_API_URL right?)"
            elif isinstance(reason, urllib3.exceptions.NewConnectionError):
                kind = f"could no longer be reached at {self.settings.api_url}"
            raise SourceError(
                f"GitHub {kind} on {verb} {what} after {attempts} attempts; "
                "nothing partial was written, re-run to resume"
            ) from None

    def check_reachable(self) -> None:
        """Ask the API once (``GET /rate_limit``, which costs no rate limit) before a sync starts.

        Any HTTP answer, a refusal included, shows the API can be reached; the streams' own requests
        say what else is wrong. GitHub App credentials are checked here too (the request needs an
        installation token), so a wrong key or App id stops the sync before anything is written.

        Raises:
            SourceError: when no connection can be opened after the short bounded retry, or GitHub
                refuses the App's credentials (:class:`CredentialsRefusedError`).
        """
        try:
            self._request("GET", "/rate_limit", None, {}, "/rate_limit")
        except SourceError as exc:
            unreached = exc.status is None and not self.reachability.answered
            if unreached or isinstance(exc, CredentialsRefusedError):
                raise

    def _error(self, verb: str, what: str, status: int, headers: dict[str, Any], body: Any) -> SourceError:
        message = body.get("message") if isinstance(body, dict) else None
        unauthorised = "the token is missing, expired or wrong (GITHUB_TOKEN)"
        if self.app_auth is not None:
            unauthorised = "GitHub refused even a new installation token"
        hint = {
            401: unauthorised,
            403: "the token lacks access, or a rate limit could not be waited out",
            404: "no such repository or object, or the token cannot see it",
        }.get(status, "")
        text = f"GitHub answered HTTP {status} to {verb} {what}"
        if message:
            text += f": {message}"
        if hint:
            text += f" ({hint})"
        return SourceError(text, status)
