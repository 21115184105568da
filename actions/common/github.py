"""The GitHub client of the actions: PyGithub with its own retry and pacing, and checked inputs."""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path
from typing import Any

from github import Auth, Github, GithubRetry

from actions.common.errors import InputError

DEFAULT_API_URL = "https://api.github.com"

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


def connect(token: str | None, api_url: str | None = None, *, timeout: float = 15.0) -> Github:
    """A PyGithub client for the API at ``api_url`` (GitHub Enterprise: ``https://HOST/api/v3``).

    Retries 5xx answers, timeouts and rate limits with GitHub's own back-off (``GithubRetry``),
    and spaces writes one second apart as GitHub asks of integrations (its secondary limits).
    """
    return Github(
        auth=Auth.Token(token) if token else None,
        base_url=(api_url or DEFAULT_API_URL).rstrip("/"),
        timeout=int(timeout),
        retry=GithubRetry(total=4, backoff_factor=0.5),
        per_page=100,
        seconds_between_requests=None,
        seconds_between_writes=1.0,
    )


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


def add_common_arguments(parser: argparse.ArgumentParser) -> None:
    """The options every action shares: the event, the exports and where results go."""
    parser.add_argument("--event", type=Path, help="event payload (default: $GITHUB_EVENT_PATH)")
    parser.add_argument(
        "--exports", help="exports folder or github:OWNER/NAME[@BRANCH] (default: $REPOPILOT_EXPORTS)"
    )
    parser.add_argument("--cache-dir", type=Path, help="where downloaded exports are kept")
    parser.add_argument("--output", type=Path, help="also write the result JSON here")
