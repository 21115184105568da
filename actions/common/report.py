"""What an action leaves behind: step outputs, a step summary, audit records, and safe errors.

Everything written goes through :func:`redact` first: the token and any webhook URL the
process knows of are replaced, and anything shaped like a GitHub token or a Slack webhook is
masked even when the process was not told about it.
"""

from __future__ import annotations

import json
import os
import re
import sys
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
from github import GithubException

from actions.common.errors import ActionError
from actions.common.github import github_failure

SECRET_ENV = (
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "REPOPILOT_TOKEN",
    "SLACK_WEBHOOK_URL",
    "PAGERDUTY_ROUTING_KEY",
    "REPOPILOT_APP_PRIVATE_KEY",
)
"""Environment variables whose values are secrets wherever they appear."""

_SHAPES = re.compile(
    r"(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"
    r"|https://hooks\.slack\.com/[^\s\"']+|(?i:bearer|token)\s+[A-Za-z0-9._-]{16,})"
)
MASK = "***"


def _known_secrets(extra: Iterable[str] = ()) -> list[str]:
    values = [os.environ.get(name, "") for name in SECRET_ENV]
    return sorted({v for v in [*values, *extra] if len(v) >= 6}, key=len, reverse=True)


def redact(text: str, extra: Iterable[str] = ()) -> str:
    """``text`` with every known secret and every secret-shaped string masked."""
    for secret in _known_secrets(extra):
        text = text.replace(secret, MASK)
    return _SHAPES.sub(MASK, text)


def _redact_value(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_value(v) for v in value]
    return value


def write_outputs(outputs: Mapping[str, Any], path: str | None = None) -> None:
    """Append step outputs to ``$GITHUB_OUTPUT`` (nothing outside Actions).

    Values that are not strings are written as JSON; every value uses the multi-line form with
    a random delimiter, so no value can inject another output.
    """
    target = path or os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    with Path(target).open("a", encoding="utf-8") as handle:
        for name, value in outputs.items():
            text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
            delimiter = f"repopilot_{uuid.uuid4().hex}"
            handle.write(f"{name}<<{delimiter}\n{redact(text)}\n{delimiter}\n")


def markdown_table(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A GitHub-flavoured markdown table (cell pipes and newlines escaped)."""

    def cell(value: Any) -> str:
        text = "" if value is None else str(value)
        return text.replace("|", "\\|").replace("\n", " ")

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_summary(markdown: str, path: str | None = None) -> None:
    """Append markdown to ``$GITHUB_STEP_SUMMARY`` (nothing outside Actions)."""
    target = path or os.environ.get("GITHUB_STEP_SUMMARY")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(redact(markdown).rstrip() + "\n\n")


def audit_record(
    action: str,
    *,
    repository: str,
    subject: str,
    decision: str,
    dry_run: bool,
    details: Mapping[str, Any],
    now: datetime | None = None,
) -> dict[str, Any]:
    """One audit record: who decided what about which subject, when, and why (secrets redacted)."""
    server = os.environ.get("GITHUB_SERVER_URL", "https://github.com")
    run_id = os.environ.get("GITHUB_RUN_ID")
    record = {
        "timestamp": (now or datetime.now(UTC)).isoformat().replace("+00:00", "Z"),
        "action": action,
        "repository": repository,
        "subject": subject,
        "decision": decision,
        "dry_run": dry_run,
        "actor": os.environ.get("GITHUB_ACTOR"),
        "workflow_run": f"{server}/{repository}/actions/runs/{run_id}" if run_id else None,
        "details": dict(details),
    }
    redacted: dict[str, Any] = _redact_value(record)
    return redacted


def append_audit(record: Mapping[str, Any], path: str | Path | None = None) -> None:
    """Append a record to the JSON-lines audit log (``$REPOPILOT_AUDIT_LOG``; nothing if unset)."""
    target = path or os.environ.get("REPOPILOT_AUDIT_LOG")
    if target:
        with Path(target).open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(_redact_value(record), sort_keys=True) + "\n")


def unreachable(error: requests.RequestException) -> str:
    """The one line for a GitHub API that did not answer: where (scheme, host and port only) and how."""
    parts = urlsplit(os.environ.get("GITHUB_API_URL") or "https://api.github.com")
    where = f"{parts.scheme}://{parts.hostname or ''}" + (f":{parts.port}" if parts.port else "")
    return (
        f"the GitHub API at {where} could not be reached or stopped answering ({type(error).__name__}), "
        "after retries; check GITHUB_API_URL and the network, then run again"
    )


RECORD_FILES = ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "REPOPILOT_AUDIT_LOG")
"""Environment variables naming the files an action appends its outputs, summary and audit records to."""


def check_record_files() -> None:
    """Refuse to start when a file of :data:`RECORD_FILES` cannot be appended to.

    Checked before anything is decided or written to GitHub: an action that merged a pull request
    and then failed to write its audit record would leave a change nobody can account for.

    Raises:
        ActionError: naming the variable, the file and why.
    """
    for name in RECORD_FILES:
        value = os.environ.get(name)
        if not value:
            continue
        path = Path(value)
        folder = path.parent
        if path.is_dir():
            problem = "it is a folder"
        elif path.exists() and not os.access(path, os.W_OK):
            problem = "it is not writable"
        elif not folder.is_dir():
            problem = f"its folder {folder} does not exist"
        elif not path.exists() and not os.access(folder, os.W_OK | os.X_OK):
            problem = f"its folder {folder} is not writable"
        else:
            continue
        raise ActionError(f"{name} names {value}, which cannot be appended to: {problem}")


def run_cli(main: Callable[[Sequence[str] | None], int], argv: Sequence[str] | None = None) -> int:
    """Run an action's ``main`` and turn failures into one clear, redacted line and an exit code.

    An :class:`ActionError` prints its message, an uncaught GitHub answer what it means
    (:func:`~actions.common.github.github_failure`), a file that cannot be read or written its name
    and why; anything else prints only its type (a stack trace could carry request headers or
    payloads), unless ``RUNNER_DEBUG=1`` asks for details. The files that receive the outputs, the
    summary and the audit records are checked before ``main`` runs (:func:`check_record_files`).
    """
    try:
        check_record_files()
        return main(argv)
    except ActionError as error:
        print(f"::error::{redact(str(error))}", file=sys.stderr)
        return error.exit_code
    except GithubException as error:  # one no action caught: still one line saying what it means
        failure = github_failure(error, "talking to GitHub")
        print(f"::error::{redact(str(failure))}", file=sys.stderr)
        return failure.exit_code
    except requests.RequestException as error:  # after GithubRetry's retries: GitHub is out of reach
        print(f"::error::{redact(unreachable(error))}", file=sys.stderr)
        return 2
    except OSError as error:
        if error.filename is None:  # a connection's error can quote a URL: only its type is shown
            print(f"::error::internal error ({type(error).__name__})", file=sys.stderr)
            return 1
        print(f"::error::{redact(f'cannot use {error.filename}: {error.strerror}')}", file=sys.stderr)
        return 2
    except Exception as error:
        detail = f": {redact(str(error))}" if os.environ.get("RUNNER_DEBUG") == "1" else ""
        print(f"::error::internal error ({type(error).__name__}){detail}", file=sys.stderr)
        return 1
