"""``repopilot-heal``: re-run a failed workflow run when its failure is passing, and say why or why not.

Runs as a step of a GitHub Actions workflow (``actions/heal/action.yml``) on ``workflow_run``
``completed`` events, on a schedule (a sweep of recent failed runs), or by hand with ``--repo`` and
``--run-id``. For a failed run it downloads the latest attempt's logs, finds the failure excerpt,
classifies it (:func:`~actions.healing.classify.classify_failure`: transient, dependency or
permanent, with the matched lines), and decides with :func:`~actions.healing.policy.decide_retry`
from the configuration (``.github/self-healing.yml``), GitHub's limits and the re-run priors of the
exports. Unless ``--dry-run``, a retry is requested through "re-run failed jobs".

Persistence overrides surface wording: a failure classified transient whose signature
(:func:`~actions.healing.signatures.signature` of the excerpt) already failed in at least
``persistent_after`` earlier commits of the repository (the exports' signature
history, within ``persistence_window_days``) is not retried; it is reported as permanent, with the
classifier's own category kept as ``classified_category``
(:func:`~actions.healing.signatures.persistent`).

Waiting never needs state kept between runs: every wait is measured from the end of the failed
attempt (its ``updated_at``), and its jitter is seeded by the run and attempt, so every trigger
computes the same due time. A wait due within ``--max-sleep`` seconds is slept in the job; a longer
one is deferred, and a later trigger (the scheduled sweep of the example workflow) re-runs the
run once it is due. A dependency failure waits ``dependency_wait_seconds`` (with jitter) for the
dependency to clear, then re-runs: the re-run is the probe, and a failure again starts a new wait,
within ``max_retries``. Retries are counted from the run's own attempt number, which GitHub
increments on every re-run, so repeated triggers can never re-run a run more than ``max_retries``
times; before re-running, the run is read again and left alone if it changed meanwhile.

Environment: ``GITHUB_TOKEN`` (``actions: write`` to re-run, ``actions: read`` in dry-run;
``contents: read``), ``GITHUB_API_URL``, ``REPOPILOT_EXPORTS``, ``GITHUB_EVENT_PATH``,
``GITHUB_WORKSPACE``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from github import GithubException
from github.Repository import Repository

from actions.common.conclusions import HEALABLE_CONCLUSIONS, RUN_CONCLUSIONS
from actions.common.config import read_action_config
from actions.common.errors import ActionError, ExportError, InputError
from actions.common.exports import Exports, exports_from_arguments
from actions.common.freshness import age_outputs, exports_age
from actions.common.github import (
    TokenNeeds,
    action_client,
    add_common_arguments,
    event_path,
    github_failure,
    parse_now,
    parse_time,
    positive_number,
    read_event,
    repository_name,
)
from actions.common.report import (
    append_audit,
    audit_record,
    markdown_table,
    run_cli,
    write_outputs,
    write_summary,
)
from actions.healing.classify import ClassifierError, check_artefact, classify_failure
from actions.healing.config import SelfHealingConfig
from actions.healing.download import DOWNLOAD_TIMEOUT, MAX_DOWNLOAD_BYTES, LogDownloadError, download_run_logs
from actions.healing.logs import JobLog, excerpt_from_jobs
from actions.healing.policy import RetryDecision, RunState, decide_retry
from actions.healing.priors import PriorTable, Recurrence
from actions.healing.signatures import persistent, signature

ACTION = "self-healing"
CONFIG_FILE = "self-healing.yml"
TOKEN_NEEDS = TokenNeeds(
    ACTION, required=frozenset({"repo", "public_repo"}), allowed=frozenset({"repo", "public_repo"})
)
SUMMARY_EXCERPT_LINES = 40

Sleep = Callable[[float], None]


class Gateway(Protocol):
    """What healing needs of GitHub for one repository (the API, or a simulation in tests)."""

    def run(self, run_id: int) -> Mapping[str, Any]:
        """The latest attempt of a run, as the REST API returns it."""
        ...

    def logs(self, run_id: int, attempt: int) -> list[JobLog]:
        """The job logs of one attempt (raises :class:`LogDownloadError`)."""
        ...

    def rerun_failed_jobs(self, run_id: int) -> None:
        """Ask GitHub to re-run the failed jobs (raises :class:`RerunRefusedError`)."""
        ...


class RerunRefusedError(Exception):
    """GitHub refused the re-run (403 while running, after 30 days or 50 attempts, ...)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class GitHubGateway:
    """:class:`Gateway` over PyGithub (GithubRetry and write pacing apply to every API call)."""

    def __init__(self, repo: Repository, api_url: str, *, max_log_bytes: int = MAX_DOWNLOAD_BYTES) -> None:
        self.repo = repo
        self.api_url = api_url
        self.max_log_bytes = max_log_bytes

    def _url(self, run_id: int) -> str:
        return f"{self.repo.url}/actions/runs/{run_id}"

    def run(self, run_id: int) -> Mapping[str, Any]:
        """The latest attempt of a run."""
        _, data = self.repo.requester.requestJsonAndCheck("GET", self._url(run_id))
        if not isinstance(data, dict):
            raise InputError(f"run {run_id}: GitHub answered something else than a workflow run")
        return data

    def logs(self, run_id: int, attempt: int) -> list[JobLog]:
        """The job logs of one attempt, downloaded through the signed redirect."""
        return download_run_logs(
            self.repo.requester,
            self._url(run_id),
            attempt,
            api_url=self.api_url,
            max_bytes=self.max_log_bytes,
            timeout=DOWNLOAD_TIMEOUT,
        )

    def rerun_failed_jobs(self, run_id: int) -> None:
        """``POST .../rerun-failed-jobs``; GitHub's refusal is raised with its message."""
        try:
            self.repo.requester.requestJsonAndCheck("POST", f"{self._url(run_id)}/rerun-failed-jobs")
        except GithubException as error:
            data = error.data if isinstance(error.data, dict) else {}
            raise RerunRefusedError(
                error.status, str(data.get("message") or f"HTTP {error.status}")
            ) from None

    def failed_runs(self, since: datetime, limit: int) -> list[int]:
        """Ids of runs created since ``since`` whose latest attempt failed or timed out, newest first."""
        created = f">={since.strftime('%Y-%m-%dT%H:%M:%SZ')}"
        found: dict[int, datetime] = {}
        for status in sorted(HEALABLE_CONCLUSIONS):
            # listed attributes only: ``raw_data`` of a listed run would fetch the run again
            for run in self.repo.get_workflow_runs(status=status, created=created):
                found[run.id] = run.created_at
                if len(found) >= 4 * limit:
                    break
        return sorted(found, key=lambda run_id: found[run_id], reverse=True)[:limit]


@dataclass(frozen=True)
class Settings:
    """How one invocation acts: the configuration, what it knows, and how long it may wait."""

    config: SelfHealingConfig
    priors: PriorTable
    classifier: dict[str, Any] | None
    now: datetime
    dry_run: bool
    max_sleep: float


def run_state(data: Mapping[str, Any]) -> RunState:
    """The policy's view of a run's REST JSON.

    Raises:
        InputError: when the run has no id, attempt or creation time the decision can rely on.
    """
    created = parse_time(data.get("created_at"))
    attempt = data.get("run_attempt", 1)
    if created is None or isinstance(attempt, bool) or not isinstance(attempt, int) or attempt < 1:
        raise InputError("the workflow run has no usable created_at or run_attempt")
    # Recordings hold upper-case and empty values, and conclusions in the status field (DevLake's edge cases).
    status = str(data.get("status") or "").strip().lower()
    conclusion = str(data.get("conclusion") or "").strip().lower() or None
    if status in RUN_CONCLUSIONS:
        status, conclusion = "completed", conclusion or status
    return RunState(
        status=status,
        conclusion=conclusion,
        run_attempt=attempt,
        created_at=created,
        workflow=None if data.get("name") is None else str(data["name"]),
    )


def _rng(run_id: int, attempt: int) -> random.Random:
    # Seeded by the attempt: every trigger about this attempt computes the same jittered due time.
    return random.Random(f"repopilot-heal:{run_id}:{attempt}")  # noqa: S311 - jitter, not a secret


def _precheck(state: RunState, settings: Settings) -> RetryDecision | None:
    """A skip known before reading any log (not failed, running, GitHub's limits, retries used up)."""
    any_class = settings.config.model_copy(update={"retry_categories": ("transient",)})
    early = decide_retry(state, "transient", any_class, now=settings.now, rng=_rng(0, 0))
    return early if early.decision == "skip" else None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _recurrence(
    settings: Settings, repository: str, failure_signature: str, data: Mapping[str, Any], state: RunState
) -> Recurrence | None:
    """Earlier failures of this signature on other commits; None when persistence is off or unknown."""
    if not settings.config.persistent_after or not settings.priors.has_signatures:
        return None
    head = data.get("head_sha")
    return settings.priors.recurrence(
        repository,
        failure_signature,
        head_sha=head if isinstance(head, str) and head else None,
        before=state.created_at,
        since=settings.now - timedelta(days=settings.config.persistence_window_days),
    )


def heal_run(
    gateway: Gateway, repository: str, run_id: int, settings: Settings, *, sleep: Sleep = time.sleep
) -> dict[str, Any]:
    """Decide about one run and (unless dry-run) act; returns the result (see the README's outputs).

    ``action`` is what was done: ``rerun_requested``, ``would_rerun`` (dry-run), ``deferred`` (due
    later than ``max_sleep``; a later trigger acts), ``refused`` (GitHub said no), ``unchanged``
    (the run moved on meanwhile) or ``none``.

    Raises:
        LogDownloadError: the logs cannot be downloaded or read.
        InputError: the run's JSON lacks what the decision needs.
    """
    data = gateway.run(run_id)
    state = run_state(data)
    result: dict[str, Any] = {
        "repository": repository,
        "run_id": run_id,
        "run_attempt": state.run_attempt,
        "workflow": state.workflow,
        "html_url": data.get("html_url"),
        "status": state.status,
        "conclusion": state.conclusion,
        "category": None,
        "classified_category": None,
        "signature": None,
        "persistence": None,
        "confidence": None,
        "classifier": None,
        "matched_lines": [],
        "excerpt": "",
        "prior": None,
        "decision": "skip",
        "action": "none",
        "delay_seconds": 0.0,
        "due_at": None,
        "retry_number": 0,
        "reason": "",
        "dry_run": settings.dry_run,
    }
    early = _precheck(state, settings)
    if early is not None:
        result["reason"] = early.reason
        return result

    jobs = gateway.logs(run_id, state.run_attempt)
    excerpt = excerpt_from_jobs(jobs)
    classified = classify_failure(excerpt.text, settings.classifier)
    category = str(classified["category"])
    failure_signature = signature(excerpt.text)
    result.update(classified_category=category, signature=failure_signature)
    recurrence = _recurrence(settings, repository, failure_signature, data, state)
    if recurrence is not None:
        result["persistence"] = {
            "earlier_commits": recurrence.commits,
            "earlier_runs": recurrence.runs,
            "since": None if recurrence.first_seen is None else _iso(recurrence.first_seen),
            "rerun_failures": recurrence.rerun_failures,
        }
        if persistent(category, recurrence.commits, settings.config.persistent_after):
            category = "permanent"
    prior = settings.priors.lookup(
        repository, state.workflow, category, min_history=settings.config.min_history
    )
    own = settings.priors.signature_prior(repository, failure_signature, prior)
    if own is not None and own.reruns >= settings.config.min_history:
        # The most specific history with enough re-runs decides, as a class's does over its workflow's.
        prior = own
    result.update(
        category=category,
        confidence=classified["confidence"],
        classifier=classified["source"],
        matched_lines=list(classified["matched_lines"]),
        excerpt=excerpt.text,
        prior=None
        if prior is None
        else {
            "reruns": prior.reruns,
            "successes": prior.successes,
            "rate": prior.rate,
            "source": prior.source,
            "failure_class": prior.failure_class,
        },
    )
    finished = parse_time(data.get("updated_at")) or state.created_at
    decision = decide_retry(
        state, category, settings.config, now=settings.now, prior=prior, rng=_rng(run_id, state.run_attempt)
    )
    reason = f"{decision.reason}; classified {category} ({classified['reason']})"
    if category != result["classified_category"] and recurrence is not None and recurrence.first_seen:
        reason = (
            f"persistent: same failure on {recurrence.commits} earlier commits ({recurrence.runs} runs) "
            f"since {_iso(recurrence.first_seen)}: a re-run will not fix it, so it counts as permanent "
            "and is not re-run; "
            f"classified {result['classified_category']} ({classified['reason']})"
        )
    if decision.decision == "wait":
        due = finished + timedelta(seconds=decision.delay_seconds)
        if due <= settings.now + timedelta(seconds=settings.max_sleep):
            # The wait has passed (or will within the job): the dependency has had its time; re-run.
            decision = decide_retry(
                state,
                category,
                settings.config,
                now=settings.now,
                prior=prior,
                dependency_cleared=True,
                rng=_rng(run_id, state.run_attempt),
            )
            reason = (
                f"a dependency failure, waited {(due - finished).total_seconds():.0f} s after the "
                f"failure for it to clear: {decision.reason}; classified {category} ({classified['reason']})"
            )
            decision = RetryDecision(
                decision.decision, (due - finished).total_seconds(), decision.retry_number, decision.reason
            )
    result.update(
        decision=decision.decision,
        delay_seconds=round(decision.delay_seconds, 3),
        retry_number=decision.retry_number,
        reason=reason,
    )
    if decision.decision == "skip":
        return result
    due = finished + timedelta(seconds=decision.delay_seconds)
    result["due_at"] = _iso(due)
    remaining = (due - settings.now).total_seconds()
    if remaining > settings.max_sleep:
        result["action"] = "deferred"
        result["reason"] = (
            f"{reason}; due at {_iso(due)}, {remaining:.0f} s from now (more than max-sleep "
            f"{settings.max_sleep:.0f} s): a later trigger re-runs it"
        )
        return result
    if decision.decision == "wait":  # cannot happen: a wait within max-sleep became a retry above
        result["action"] = "deferred"
        return result
    if settings.dry_run:
        result["action"] = "would_rerun"
        return result
    if remaining > 0:
        sleep(remaining)
    current = run_state(gateway.run(run_id))
    if current.run_attempt != state.run_attempt or current.status != "completed":
        result["action"] = "unchanged"
        result["reason"] = (
            f"{reason}; the run moved on meanwhile (attempt {current.run_attempt}, {current.status}): "
            "nothing re-run"
        )
        return result
    try:
        gateway.rerun_failed_jobs(run_id)
    except RerunRefusedError as refused:
        result["action"] = "refused"
        result["reason"] = f"{reason}; GitHub refused the re-run (HTTP {refused.status}): {refused.message}"
        return result
    result["action"] = "rerun_requested"
    return result


# --- the command ---------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repopilot-heal", description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--repo", help="owner/name (with --run-id or --sweep)")
    parser.add_argument("--run-id", help="workflow run id (with --repo)")
    parser.add_argument("--sweep", action="store_true", help="handle the repository's recent failed runs")
    parser.add_argument("--since-hours", type=float, default=48.0, help="sweep: runs created this recently")
    parser.add_argument("--max-runs", type=int, default=20, help="sweep: at most this many runs")
    parser.add_argument("--config", type=Path, help="configuration file or repository root")
    parser.add_argument("--classifier", type=Path, help="failure classifier artefact (default: the exports')")
    parser.add_argument(
        "--max-sleep", type=float, default=0.0, help="seconds the job may wait for a retry that is due soon"
    )
    parser.add_argument("--max-log-bytes", type=int, default=MAX_DOWNLOAD_BYTES, help="largest log archive")
    parser.add_argument("--now", help="the current time (ISO 8601), for replays and tests")
    parser.add_argument("--dry-run", action="store_true", help="decide and explain without re-running")
    return parser


def _target(args: argparse.Namespace) -> tuple[str, int | None]:
    """``(repository, run id)``; a None run id means a sweep.

    Raises:
        InputError: for missing or malformed arguments or event payloads.
    """
    if args.repo or args.run_id:
        if not args.repo or not (args.run_id or args.sweep):
            raise InputError("--repo goes with --run-id or --sweep")
        repository = repository_name(args.repo)
        return repository, None if args.sweep else positive_number(args.run_id, "--run-id")
    event = event_path(args)
    if event is None:
        raise InputError("no run given: pass --repo and --run-id, or run on a workflow_run or schedule event")
    payload = read_event(event)
    owner = payload.get("repository")
    name = owner.get("full_name") if isinstance(owner, dict) else None
    if not isinstance(name, str):
        raise InputError("the event payload has no repository.full_name")
    run = payload.get("workflow_run")
    if run is None:
        if (
            args.sweep
            or "schedule" in payload
            or os.environ.get("GITHUB_EVENT_NAME")
            in {
                "schedule",
                "workflow_dispatch",
            }
        ):
            return repository_name(name), None
        raise InputError("the event is not a workflow_run event; pass --run-id or --sweep")
    if not isinstance(run, dict) or "id" not in run:
        raise InputError("the workflow_run payload has no 'id'")
    return repository_name(name), positive_number(run["id"], "workflow_run.id")


def _classifier(path: Path | None, exports: Exports | None) -> dict[str, Any] | None:
    """The classifier artefact (checked; fail closed) or None for the curated rules alone."""
    document: Any = None
    if path is not None:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError):
            raise InputError(f"cannot read the classifier artefact {path.name} as JSON") from None
    elif exports is not None and exports.has("failure_classifier"):
        document = exports.json("failure_classifier")
    if document is None:
        return None
    if not isinstance(document, dict):
        raise ExportError("the failure classifier artefact is not a JSON object")
    try:
        check_artefact(document)
    except ClassifierError as error:
        raise ExportError(str(error)) from None
    return document


def _fence(text: str) -> str:
    lines = text.splitlines()[-SUMMARY_EXCERPT_LINES:]
    return "```text\n" + "\n".join(line.replace("```", "ʼʼʼ") for line in lines) + "\n```"


def _summary(result: Mapping[str, Any]) -> str:
    verdict = {
        "rerun_requested": "re-run requested",
        "would_rerun": "would re-run (dry run)",
        "deferred": "re-run deferred",
        "refused": "re-run refused by GitHub",
        "unchanged": "left alone (the run moved on)",
        "none": "not re-run",
        "error": "could not be judged",
    }[str(result["action"])]
    lines = [f"### repopilot self-healing: run {result['run_id']} ({result.get('workflow')}) {verdict}", ""]
    rows = [
        ("class", f"{result['category']} (confidence {result['confidence']})" if result["category"] else "—"),
        (
            "decision",
            f"{result['decision']} · retry {result['retry_number']}"
            if result["retry_number"]
            else result["decision"],
        ),
        ("attempt", result["run_attempt"]),
        ("due", result["due_at"] or "—"),
    ]
    lines += [markdown_table(("", ""), rows), "", f"**Why:** {result['reason']}"]
    if result["matched_lines"]:
        lines += ["", "**Matched lines:**", _fence("\n".join(result["matched_lines"]))]
    if result["excerpt"]:
        lines += [
            "",
            "<details><summary>Failure excerpt</summary>",
            "",
            _fence(result["excerpt"]),
            "",
            "</details>",
        ]
    if result["dry_run"]:
        lines.append("\n<sub>dry run: nothing was re-run</sub>")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None, *, sleep: Sleep = time.sleep) -> int:
    """Heal one run (or sweep recent failures); print the results JSON. Returns the exit code."""
    args = _parser().parse_args(argv)
    if args.max_sleep < 0 or args.max_sleep > 6 * 3600:
        raise InputError("--max-sleep must be between 0 and 21600 seconds")
    if args.max_runs < 1 or args.since_hours <= 0:
        raise InputError("--max-runs and --since-hours must be positive")
    if args.max_log_bytes < 1:
        raise InputError("--max-log-bytes must be positive")
    now = parse_now(args.now)
    repository, run_id = _target(args)
    api_url = os.environ.get("GITHUB_API_URL") or "https://api.github.com"
    client = action_client(TOKEN_NEEDS)
    exports = exports_from_arguments(args, client)
    classifier = _classifier(args.classifier, exports)
    results: list[dict[str, Any]] = []
    try:
        repo = client.withLazy(True).get_repo(repository)
        config = read_action_config(args.config, repo, CONFIG_FILE, SelfHealingConfig)
        age = (
            None
            if exports is None
            else exports_age(
                exports,
                config.exports.max_age_hours,
                now=now,
                max_data_age_hours=config.exports.max_data_age_hours,
            )
        )
        settings = Settings(
            config, PriorTable.from_exports(exports), classifier, now, args.dry_run, args.max_sleep
        )
        gateway = GitHubGateway(repo, api_url, max_log_bytes=args.max_log_bytes)
        if run_id is not None:
            results.append(heal_run(gateway, repository, run_id, settings, sleep=sleep))
        else:
            for found in gateway.failed_runs(now - timedelta(hours=args.since_hours), args.max_runs):
                try:
                    results.append(heal_run(gateway, repository, found, settings, sleep=sleep))
                except ActionError as error:  # one unreadable run must not stop the sweep
                    results.append(
                        {"repository": repository, "run_id": found, "action": "error", "reason": str(error)}
                    )
    except LogDownloadError as error:
        raise LogDownloadError(f"run {run_id}: {error}") from None
    except GithubException as error:
        raise github_failure(error, "reading or re-running the run") from None

    notice = "" if age is None else age.warning("Failures were still judged with their re-run priors.")
    if notice:
        write_summary(notice)
    for result in results:
        if result["action"] != "error":
            write_summary(_summary(result))
        append_audit(
            audit_record(
                ACTION,
                repository=repository,
                subject=f"workflow run {result['run_id']} attempt {result.get('run_attempt')}",
                decision=f"{result.get('decision', 'skip')}/{result['action']}",
                dry_run=args.dry_run,
                details={
                    key: result.get(key)
                    for key in (
                        "category",
                        "classified_category",
                        "signature",
                        "persistence",
                        "confidence",
                        "classifier",
                        "matched_lines",
                        "prior",
                        "reason",
                        "due_at",
                    )
                }
                | {
                    "exports": None if exports is None else exports.origin,
                    "exports_age": None if age is None else age.record(),
                },
            )
        )
    text = json.dumps(results, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    last = results[-1] if results else {}
    write_outputs(
        {
            "category": str(last.get("category") or ""),
            "confidence": "" if last.get("confidence") is None else f"{last['confidence']:.4f}",
            "decision": str(last.get("decision") or ""),
            "action": str(last.get("action") or ""),
            "matched-lines": "\n".join(last.get("matched_lines") or []),
            "reason": str(last.get("reason") or ""),
            "rerun-requested": "true" if any(r["action"] == "rerun_requested" for r in results) else "false",
            **age_outputs(age),
            "results": results,
        }
    )
    return 0


def cli() -> None:
    """Console entry point."""
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
