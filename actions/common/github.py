"""The GitHub client of the actions: PyGithub with its own retry and pacing, and checked inputs."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubException, GithubRetry, RateLimitExceededException
from github.GithubException import RateLimitExceededExceedsMaxWait
from urllib3 import BaseHTTPResponse

from actions.common.errors import ActionError, InputError, exit_codes

DEFAULT_API_URL = "https://api.github.com"

MAX_RATE_LIMIT_WAIT = 60.0
"""Longest wait, in seconds, for a rate limit to reset before an action stops (the default).

A job waiting out an exhausted primary limit would otherwise sleep until its reset, up to an hour
of runner time; ``REPOPILOT_MAX_RATE_LIMIT_WAIT`` changes it.
"""

_REPOSITORY = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})/[A-Za-z0-9._-]{1,100}$")


def repository_name(value: str) -> str:
    """``value`` if it is a well-formed ``owner/name``.

    Raises:
        InputError: naming the problem (the value is not echoed back beyond 100 characters).
    """
    if not isinstance(value, str) or not _REPOSITORY.match(value) or value.split("/")[1] in {".", ".."}:
        raise InputError(f"not a repository name (owner/name): {str(value)[:100]!r}")
    return value


def positive_number(value: object, what: str) -> int:
    """``value`` as a positive integer (a run id, a pull request number).

    Raises:
        InputError: when it is not one.
    """
    if isinstance(value, bool):
        raise InputError(f"{what} must be a positive integer")
    try:
        number = int(str(value), 10)
    except ValueError:
        raise InputError(f"{what} must be a positive integer, got {str(value)[:40]!r}") from None
    if number < 1:
        raise InputError(f"{what} must be a positive integer, got {number}")
    return number


class _BoundedRetry(GithubRetry):
    """:class:`GithubRetry` that never sleeps longer than ``max_rate_limit_wait`` for a ``Retry-After``.

    GithubRetry caps the wait for a rate limit's reset, but urllib3 sleeps whatever a ``Retry-After``
    header asks (on a 429, or a 403 carrying one) without a bound.
    """

    def get_retry_after(self, response: BaseHTTPResponse) -> float | None:
        seconds = super().get_retry_after(response)
        bound = self.max_rate_limit_wait
        if seconds is not None and bound is not None and seconds > bound:
            raise RateLimitExceededExceedsMaxWait(response.status, None, dict(response.headers), wait=seconds)
        return seconds


def _seconds(variable: str, default: float) -> float:
    """The environment ``variable`` as a number of seconds (unset or empty: ``default``).

    Raises:
        InputError: when it is not a number from 0 to a day.
    """
    text = os.environ.get(variable) or ""
    if not text:
        return default
    try:
        seconds = float(text)
    except ValueError:
        raise InputError(f"{variable} must be a number of seconds, got {text[:20]!r}") from None
    if not 0 <= seconds <= 86400:
        raise InputError(f"{variable} must be between 0 and 86400 seconds, got {seconds:g}")
    return seconds


def connect(
    token: str | None, api_url: str | None = None, *, timeout: float = 15.0, auth: Auth.Auth | None = None
) -> Github:
    """A PyGithub client for the API at ``api_url`` (GitHub Enterprise: ``https://HOST/api/v3``).

    It authenticates with ``token``, or with ``auth`` instead (a GitHub App's installation tokens).

    Retries 5xx answers, timeouts and rate limits with GitHub's own back-off (``GithubRetry``),
    waiting at most ``REPOPILOT_MAX_RATE_LIMIT_WAIT`` seconds (default :data:`MAX_RATE_LIMIT_WAIT`)
    for a rate limit to reset (a longer wait stops the action: see :func:`github_failure`), and
    spaces writes one second apart as GitHub asks of integrations (its secondary limits);
    ``REPOPILOT_WRITE_SPACING_SECONDS`` changes that (0 turns it off, for a local API double).

    Raises:
        InputError: when either setting is not a number of seconds.
    """
    spacing = _seconds("REPOPILOT_WRITE_SPACING_SECONDS", 1.0)
    max_wait = _seconds("REPOPILOT_MAX_RATE_LIMIT_WAIT", MAX_RATE_LIMIT_WAIT)
    return Github(
        auth=auth or (Auth.Token(token) if token else None),
        base_url=(api_url or DEFAULT_API_URL).rstrip("/"),
        timeout=int(timeout),
        retry=_BoundedRetry(
            total=4,
            backoff_factor=0.5,
            secondary_rate_wait=min(60.0, max_wait),
            max_rate_limit_wait=max_wait,
        ),
        per_page=100,
        seconds_between_requests=None,
        seconds_between_writes=spacing if spacing > 0 else None,
    )


def _rate_limited(error: GithubException) -> bool:
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    message = str(error.data.get("message", "")) if isinstance(error.data, dict) else ""
    return isinstance(error, RateLimitExceededException) or (
        error.status in (403, 429)
        and (
            "retry-after" in headers or headers.get("x-ratelimit-remaining") == "0" or "rate limit" in message
        )
    )


def github_failure(error: GithubException, doing: str) -> ActionError:
    """The one-line error of a GitHub answer ``error`` met while ``doing`` something, saying what it means.

    ``GitHub answered HTTP <status> while <doing>``, then why: a refused token, an object that does not
    exist or that the token cannot see, or a rate limit with when it resets. GitHub's own message and
    the request are left out (they can carry a URL or a payload).
    """
    text = f"GitHub answered HTTP {error.status} while {doing}"
    headers = {k.lower(): v for k, v in (error.headers or {}).items()}
    if _rate_limited(error):
        reset = headers.get("x-ratelimit-reset", "")
        retry_after = headers.get("retry-after", "")
        if reset.isdigit() and headers.get("x-ratelimit-remaining") == "0":
            when = datetime.fromtimestamp(int(reset), UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
            text += f": the token's rate limit is used up until {when}"
        elif retry_after.isdigit():
            text += f": rate limited (GitHub asks to retry after {retry_after} s)"
        else:
            text += ": rate limited"
        return ActionError(text + "; try again later (REPOPILOT_MAX_RATE_LIMIT_WAIT sets how long to wait)")
    if error.status == 401:
        return ActionError(text + ": the token is invalid or expired")
    if error.status == 403:
        return ActionError(
            text + ": refused (usually a permission the workflow's permissions block or the token lacks)"
        )
    if error.status == 404:
        return ActionError(text + ": no such repository or object, or the token cannot see it")
    return ActionError(text)


def event_path(args: argparse.Namespace) -> Path | None:
    """The event payload file: ``--event``, else ``$GITHUB_EVENT_PATH``, else None."""
    if args.event is not None:
        return Path(args.event)
    variable = os.environ.get("GITHUB_EVENT_PATH")
    return Path(variable) if variable else None


def read_event(path: Path) -> dict[str, Any]:
    """The JSON object of an event payload file (``$GITHUB_EVENT_PATH``).

    Raises:
        InputError: when it cannot be read or is not a JSON object (the content is not echoed).
    """
    try:
        payload = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        raise InputError(f"cannot read the event payload at {path}") from None
    if not isinstance(payload, dict):
        raise InputError("the event payload is not a JSON object")
    return payload


def add_common_arguments(parser: argparse.ArgumentParser, *, exports: bool = True) -> None:
    """The options the actions share: the event, the exports and where results go; the exit codes.

    Args:
        parser: the action's parser.
        exports: False for an action that reads no exports: it offers neither ``--exports`` nor
            ``--cache-dir``, so nobody passes exports believing they count.
    """
    parser.epilog = parser.epilog or exit_codes(exports=exports)
    parser.add_argument("--event", type=Path, help="event payload (default: $GITHUB_EVENT_PATH)")
    if exports:
        parser.add_argument(
            "--exports", help="exports folder or github:OWNER/NAME[@BRANCH] (default: $REPOPILOT_EXPORTS)"
        )
        parser.add_argument("--cache-dir", type=Path, help="where downloaded exports are kept")
    parser.add_argument("--output", type=Path, help="also write the result JSON here")


EXCLUDED_SCOPES: frozenset[str] = frozenset(
    {
        "delete_repo",
        "site_admin",
        "admin:org",
        "admin:enterprise",
        "admin:repo_hook",
        "admin:org_hook",
        "admin:gpg_key",
        "admin:public_key",
        "admin:ssh_signing_key",
        "write:packages",
        "delete:packages",
    }
)
"""Classic token scopes no action ever needs: a token carrying one is refused before anything is read.

Any other ``admin:`` scope GitHub may add is refused as well (see :func:`excluded_scope`).
"""


@dataclass(frozen=True)
class TokenNeeds:
    """The classic token scopes an action needs (one of ``required``) and may use (``allowed``).

    A classic personal access token cannot be narrower than a scope, so ``repo`` is what reading a
    private repository takes even for an action that only reads; ``public_repo`` suffices for public
    ones. The workflow's ``permissions:`` block is what narrows a ``GITHUB_TOKEN``.

    Attributes:
        action: the action's name, for messages.
        required: scopes of which the token needs at least one.
        allowed: every scope the action can make use of (``required`` included).
    """

    action: str
    required: frozenset[str]
    allowed: frozenset[str]


def excluded_scope(scope: str) -> bool:
    """Whether ``scope`` is one no action may hold (:data:`EXCLUDED_SCOPES`, or any ``admin:`` scope)."""
    return scope in EXCLUDED_SCOPES or scope.startswith("admin:")


def scope_findings(scopes: Iterable[str] | None, needs: TokenNeeds) -> tuple[list[str], list[str]]:
    """``(refusals, warnings)`` for a token granted ``scopes`` (None: the token reports none).

    Refusals name each excluded scope; warnings name the scopes broader than ``needs`` and say when
    none of the required ones is present. Pure: :func:`check_token_scopes` asks GitHub.
    """
    if scopes is None:
        return [], []
    granted = sorted({s.strip() for s in scopes if s and s.strip()})
    refusals = [
        f"the token carries the excluded scope {scope!r}; {needs.action} refuses to run with it "
        f"(use a token with only {' or '.join(sorted(needs.required))}, or the workflow's GITHUB_TOKEN)"
        for scope in granted
        if excluded_scope(scope)
    ]
    broader = [s for s in granted if not excluded_scope(s) and s not in needs.allowed]
    warnings = []
    if broader:
        warnings.append(
            f"the token carries scopes {needs.action} does not need: {', '.join(broader)} "
            f"(it needs {' or '.join(sorted(needs.required))})"
        )
    if not needs.required & set(granted):
        warnings.append(
            f"the token has none of the scopes {needs.action} needs ({' or '.join(sorted(needs.required))}); "
            "GitHub may refuse its requests"
        )
    return refusals, warnings


def check_token_scopes(client: Github, needs: TokenNeeds) -> list[str] | None:
    """Refuse a classic token with an excluded scope, and warn about scopes broader than ``needs``.

    Asks ``GET /rate_limit`` (free of rate limit), whose answer carries ``X-OAuth-Scopes`` for a
    classic token. A ``GITHUB_TOKEN``, a fine-grained token or an app token sends no such header:
    that is said once, as a notice, and is not a failure. Without a token nothing is checked.

    Returns:
        The scopes the token carries, or None when the token reports none (or there is no token).

    Raises:
        ActionError: naming an excluded scope (never the token), or when GitHub refuses the token.
    """
    if client.requester.auth is None:
        return None
    try:
        client.get_rate_limit()
    except GithubException as error:
        raise github_failure(error, "checking the token") from None
    scopes = client.oauth_scopes
    if scopes is None:
        print(
            f"::notice::{needs.action}: the token reports no OAuth scopes: a GITHUB_TOKEN has what the "
            "workflow's permissions block grants, a fine-grained or app token the token's own permissions",
            file=sys.stderr,
        )
        return None
    refusals, warnings = scope_findings(scopes, needs)
    if refusals:
        raise ActionError("; ".join(refusals))
    for warning in warnings:
        print(f"::warning::{warning}", file=sys.stderr)
    return sorted({s.strip() for s in scopes if s.strip()})


def action_client(needs: TokenNeeds) -> Github:
    """The client of an action's process (``$GITHUB_TOKEN`` at ``$GITHUB_API_URL``), its token checked first.

    Every action calls this before it reads anything, so a token carrying an excluded scope is
    refused by all of them alike (:func:`check_token_scopes`).

    Raises:
        ActionError: naming an excluded scope, or when GitHub refuses the token.
        InputError: when a setting of the connection (:func:`connect`) is malformed.
    """
    client = connect(os.environ.get("GITHUB_TOKEN") or None, os.environ.get("GITHUB_API_URL"))
    check_token_scopes(client, needs)
    return client


def parse_time(value: object, *, naive_as_utc: bool = True) -> datetime | None:
    """A GitHub timestamp (ISO 8601, ``Z`` accepted) as an aware UTC datetime; None when absent or invalid.

    A time without an offset is taken as UTC, as GitHub's own are, unless ``naive_as_utc`` is False:
    then it is None (for callers that report such times instead of guessing).
    """
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC) if naive_as_utc else None
    return moment.astimezone(UTC)


def parse_now(text: str | None) -> datetime:
    """``--now`` as an aware UTC datetime (the current time when not given).

    Raises:
        InputError: for a value that is not ISO 8601 with a UTC offset (``Z`` accepted).
    """
    if not text:
        return datetime.now(UTC)
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InputError(f"--now is not an ISO 8601 time: {text[:40]!r}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise InputError("--now needs a UTC offset (e.g. 2024-06-08T03:00:00+00:00 or ...Z)")
    return moment.astimezone(UTC)
