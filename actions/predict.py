"""``repopilot-predict``: the failure risk and duration of a workflow run, explained.

Runs as a step of a GitHub Actions workflow (``actions/predict/action.yml``), typically on a
``workflow_run`` event, or by hand with ``--repo`` and ``--run-id``. It reads the exports (a
local folder, or the branch the publish asset writes), computes the run's features from the
GitHub API exactly as the warehouse does, and prints the design's ``predict_workflow_outcome``
result as JSON; in Actions it also sets step outputs, writes a step-summary table of the
factors and appends an audit record.

With ``--post-status`` (and not ``--dry-run``) it also publishes the result on the run's head commit
as a ``repopilot/risk`` commit status (:mod:`actions.common.risk_status`): state ``success``, so it
is informational and blocks nothing unless branch protection requires it, its description the risk
and the run, its link the run. Auto-merge reads it for a head commit newer than the exported scores.
That is the only write; without it the action only reads.

Configuration comes from the environment: ``GITHUB_TOKEN`` (``actions: read``,
``contents: read``, ``pull-requests: read``; ``statuses: write`` to post the status),
``GITHUB_API_URL``, ``REPOPILOT_EXPORTS`` (the exports location), ``GITHUB_EVENT_PATH`` (the event
payload in Actions).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from github import GithubException
from github.GithubObject import NotSet
from github.Repository import Repository

from actions.common import risk_status
from actions.common.errors import ActionError, InputError
from actions.common.exports import exports_from_arguments
from actions.common.freshness import (
    DEFAULT_MAX_AGE_HOURS,
    DEFAULT_MAX_DATA_AGE_HOURS,
    MAX_AGE_LIMIT_HOURS,
    age_outputs,
    exports_age,
)
from actions.common.github import (
    TokenNeeds,
    action_client,
    add_common_arguments,
    event_path,
    github_failure,
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
from actions.prediction.features import run_features
from actions.prediction.github_runs import change_of, history, run_input
from actions.prediction.model import ExportedModels, import_lightgbm_alone

ACTION = "predict"
TOKEN_NEEDS = TokenNeeds(
    ACTION,
    required=frozenset({"repo", "public_repo"}),
    allowed=frozenset({"repo", "public_repo", "repo:status"}),
)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="repopilot-predict", description=__doc__.split("\n\n")[0])
    add_common_arguments(parser)
    parser.add_argument("--repo", help="owner/name (with --run-id)")
    parser.add_argument("--run-id", help="workflow run id (with --repo)")
    parser.add_argument("--max-history", type=int, default=300, help="earlier runs of the repository to read")
    parser.add_argument(
        "--post-status",
        action="store_true",
        help="publish the result as a commit status on the run's head commit (needs statuses: write)",
    )
    parser.add_argument(
        "--status-context",
        default=risk_status.RISK_CONTEXT,
        help="context of that status (default: %(default)s)",
    )
    parser.add_argument(
        "--max-exports-age-hours",
        type=float,
        default=DEFAULT_MAX_AGE_HOURS,
        help="older exports are stale: the prediction is made, with a warning, but no status is posted "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--max-data-age-hours",
        default=f"{DEFAULT_MAX_DATA_AGE_HOURS:g}",
        help="warn when the newest event in the exports was older than this when they were generated; "
        "off: never (a settings file's exports.max_data_age_hours: null) (default: %(default)s)",
    )
    parser.add_argument("--dry-run", action="store_true", help="write nothing to GitHub (no status)")
    return parser


def _data_age_limit(text: str) -> float | None:
    """``--max-data-age-hours`` as hours, or None for ``off`` (the settings files' ``null``).

    Raises:
        InputError: when it is neither ``off`` nor a number of hours above 0 and at most 90 days.
    """
    value = text.strip()
    if value.lower() == "off":
        return None
    problem = f"--max-data-age-hours must be off or above 0 and at most {MAX_AGE_LIMIT_HOURS:g}"
    try:
        hours = float(value)
    except ValueError:
        raise InputError(f"{problem}, got {value[:20]!r}") from None
    if not 0 < hours <= MAX_AGE_LIMIT_HOURS:
        raise InputError(f"{problem}, got {value[:20]!r}")
    return hours


def _post_status(
    repo: Repository, result: Mapping[str, Any], context: str, run_url: object
) -> dict[str, Any]:
    """Post the result as an informational commit status on the run's head commit; what was posted.

    Raises:
        GithubException: when GitHub refuses (a token without ``statuses: write`` gets 403).
    """
    description = risk_status.describe(
        float(result["probability"]),
        str(result["risk_level"]),
        int(result["run_id"]),
        int(result["run_attempt"]),
    )
    posted = repo.get_commit(str(result["head_sha"])).create_status(
        "success",
        target_url=run_url if isinstance(run_url, str) and run_url.startswith("https://") else NotSet,
        description=description,
        context=context,
    )
    return {"context": context, "sha": result["head_sha"], "id": posted.id, "description": description}


def _event_run(path: Path) -> tuple[str, Mapping[str, Any]]:
    """``(repository, run JSON)`` from a ``workflow_run`` event payload.

    Raises:
        InputError: when the payload is unreadable or not a workflow_run event.
    """
    payload = read_event(path)
    run = payload.get("workflow_run")
    repository = (
        (payload.get("repository") or {}).get("full_name")
        if isinstance(payload.get("repository"), dict)
        else None
    )
    if not isinstance(run, dict) or not isinstance(repository, str):
        raise InputError("the event is not a workflow_run event; pass --repo and --run-id instead")
    for key in ("id", "created_at", "status"):
        if key not in run:
            raise InputError(f"the workflow_run payload has no {key!r}")
    positive_number(run["id"], "workflow_run.id")
    return repository_name(repository), run


def _summary(result: Mapping[str, Any]) -> str:
    duration = result["predicted_duration_seconds"]
    interval = result["duration_interval"]
    lines = [
        f"### repopilot: {result['risk_level']} failure risk for run {result['run_id']}",
        "",
        f"**{result['probability']:.0%}** chance of failure (confidence {result['confidence']:.0%}). "
        f"{result['recommendation']}",
    ]
    if duration is not None and interval is not None:
        lines.append(
            f"Expected duration **{duration / 60:.1f} min** "
            f"(P10–P90 {interval[0] / 60:.1f}–{interval[1] / 60:.1f} min)."
        )
    rows = [
        (f["feature"], f["value"], f"{f['contribution']:+.3f}", f["direction"].replace("_", " "))
        for f in result["factors"]
    ]
    lines += ["", markdown_table(("factor", "value", "log-odds", "effect"), rows)]
    if "status" in result:
        status = result["status"]
        lines.append(f"\nPosted as the `{status['context']}` status on {str(status['sha'])[:12]}.")
    lines.append(f"\n<sub>model {result['model_version']} · exports {result['exports']}</sub>")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """Predict one run; print the result JSON. Returns the exit code."""
    args = _parser().parse_args(argv)
    client = action_client(TOKEN_NEEDS)
    if args.max_history < 1:
        raise InputError("--max-history must be at least 1")
    if not args.status_context.strip() or len(args.status_context) > 100:
        raise InputError("--status-context must be 1 to 100 characters")
    if not 0 < args.max_exports_age_hours <= MAX_AGE_LIMIT_HOURS:
        raise InputError(f"--max-exports-age-hours must be above 0 and at most {MAX_AGE_LIMIT_HOURS:g}")
    max_data_age_hours = _data_age_limit(args.max_data_age_hours)
    exports = exports_from_arguments(args, client, needed_for="the models come from them")
    age = exports_age(
        exports,
        args.max_exports_age_hours,
        setting="--max-exports-age-hours",
        max_data_age_hours=max_data_age_hours,
        data_setting="--max-data-age-hours",
    )
    models = ExportedModels.load(exports)

    try:
        if args.repo or args.run_id:
            if not (args.repo and args.run_id):
                raise InputError("--repo and --run-id go together")
            repository = repository_name(args.repo)
            repo = client.withLazy(True).get_repo(repository)
            data: Mapping[str, Any] = repo.get_workflow_run(positive_number(args.run_id, "--run-id")).raw_data
        else:
            event = event_path(args)
            if event is None:
                raise InputError("no run given: pass --repo and --run-id, or run on a workflow_run event")
            repository, data = _event_run(event)
            repo = client.withLazy(True).get_repo(repository)
        target = run_input(data, repository)
        if target["created_at"] is None:
            raise InputError("the run has no created_at time")
        if target["pull_number"] is not None:
            target.update(change_of(repo.get_pull(int(target["pull_number"])), target))
        runs = history(repo, target, max_runs=args.max_history)
    except GithubException as error:
        raise github_failure(error, "reading the run and its history") from None

    features = run_features(target, [*runs, target])
    prediction = models.predict([features])[0]
    result = {
        "repository": repository,
        "run_id": target["id"],
        "run_attempt": target["run_attempt"],
        "workflow": target["workflow"],
        "head_sha": target["head_sha"],
        **prediction,
        "model_version": exports.model_version,
        "exports": exports.origin,
        "synthetic_training_data": bool(exports.manifest["source"]["synthetic"]),
        "history_runs": len(runs),
        "exports_age": age.record(),
    }
    refused: str | None = None
    if args.post_status and age.stale:
        # auto-merge gates on the status: a risk from models this old must not let anything merge
        result["status_withheld"] = f"not posted: {age.reason()}"
    elif args.post_status and not args.dry_run:
        try:
            result["status"] = _post_status(repo, result, args.status_context, data.get("html_url"))
        except GithubException as error:
            # the prediction is still printed and recorded; the step fails after that
            doing = f"posting the {args.status_context} status on {str(result['head_sha'])[:12]}"
            refused = f"{github_failure(error, doing)} (posting needs statuses: write)"
    text = json.dumps(result, indent=2, sort_keys=True)
    print(text)
    if args.output:
        args.output.write_text(text + "\n", encoding="utf-8")
    write_outputs(
        {
            "probability": f"{result['probability']:.4f}",
            "risk-level": result["risk_level"],
            "confidence": f"{result['confidence']:.4f}",
            "predicted-duration-seconds": ""
            if result["predicted_duration_seconds"] is None
            else f"{result['predicted_duration_seconds']:.0f}",
            "recommendation": result["recommendation"],
            "status-posted": "true" if "status" in result else "false",
            **age_outputs(age),
            "result": result,
        }
    )
    withheld = f" The `{args.status_context}` status was not posted." if args.post_status else ""
    notice = age.warning(f"The prediction was still made from their models.{withheld}")
    write_summary("\n\n".join(filter(None, (notice, _summary(result)))))
    append_audit(
        audit_record(
            ACTION,
            repository=repository,
            subject=f"run {target['id']} attempt {target['run_attempt']}",
            decision=str(result["risk_level"]),
            dry_run="status" not in result,
            details={
                "probability": result["probability"],
                "model_version": result["model_version"],
                "factors": [f["feature"] for f in result["factors"]],
                "status": result.get("status"),
                "status_refused": refused,
                "status_withheld": result.get("status_withheld"),
                "exports_age": result["exports_age"],
            },
        )
    )
    if refused is not None:
        raise ActionError(refused)
    return 0


def cli() -> None:
    """Console entry point."""
    # this process only loads boosters; with the extras `--help` alone took 2.6 s of CPU, without 0.8 s
    import_lightgbm_alone()
    sys.exit(run_cli(main))


if __name__ == "__main__":
    cli()
