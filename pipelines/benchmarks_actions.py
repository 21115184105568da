"""``repopilot benchmark actions``: each action's whole process, start to exit, in dry run.

One scene is built once, then every action's real CLI (``python -m actions.<name> --dry-run``) runs
against it as a separate process, ``runs`` times each (and predict once more without ``--dry-run``,
posting its ``repopilot/risk`` status: ``predict_status``):

* the API: the sample organisation (:mod:`pipelines.sources.sample`, ``people`` people, log
  archives of failed attempts) served by the GitHub API double on loopback, with what each action
  acts on set up through the double: a pull request to route, a safe pull request to auto-merge, an
  auto-merged pull request whose merge commit failed CI (revert), failed runs of each failure class
  (heal), a workflow inside a maintenance window (maintain);
* the exports, of the size a ``people``-person, ``issues``-issue organisation gives them, written and
  verified by the pipeline's writer (all synthetic, labelled so in the manifest):

  - ``activity``: ``repositories`` repositories (the sample organisation's first), people in their
    own time zones (:func:`synthetic_activity`);
  - ``reviewers``: every person a candidate in the routed repository (routing's worst case), and in
    one to three others (:func:`synthetic_reviewers`);
  - models and ``scores``: LightGBM models trained quickly (two tuning trials) on synthetic run
    history (:mod:`pipelines.features.synthetic_runs`), and the newest ``SCORE_LIMIT`` runs of a
    larger synthetic history scored by them, as the pipeline caps the export; predict reads these
    models, so its figure includes loading real boosters (not ones trained on the organisation);
  - ``rerun_priors``: the sample organisation's re-runs, counted as the warehouse counts them.

Per action: wall time (median, min, max), CPU time of the child (user + system, from ``os.wait4``:
on a shared machine wall time mostly measures the queue), requests made to the double, and the
decision taken. A failing action is an error, not a figure. The load average is recorded at the
start and the end so a loaded figure can be told apart. The double answers from memory, so
GitHub's own latency (a round trip per request) comes on top.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from github import Auth, Github

from actions.common.conclusions import HEALABLE_CONCLUSIONS
from actions.common.exports import verify
from actions.common.schemas import SCHEMA_VERSION
from actions.heal import run_state
from actions.healing.classify import classify_failure
from actions.healing.config import SelfHealingConfig
from actions.healing.logs import excerpt_from_jobs, read_log_archive
from actions.healing.policy import decide_retry
from actions.maintain import read_activity
from actions.maintenance.config import MaintenanceConfig
from actions.maintenance.plan import plan_window
from actions.maintenance.windows import HOURS_PER_WEEK, IMPACT_WEIGHTS, organisation_template
from actions.merging.config import MERGE_MARKER
from pipelines.exports.build import SCORE_LIMIT
from pipelines.exports.documents import iso, scores_document
from pipelines.exports.rerun_priors import rerun_priors_document
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.features.reviewers import path_prefix
from pipelines.features.runs import build_run_features
from pipelines.features.synthetic_runs import synthetic_run_inputs
from pipelines.ml.pipeline import train_models
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org

ACTIONS: tuple[str, ...] = (
    "predict",
    "predict_status",
    "automerge",
    "revert",
    "route",
    "heal",
    "maintain",
    "sla_watch",
)
"""What is timed, in report order: the action modules, and predict once more posting its status for real."""
MODULES: dict[str, str] = {"predict_status": "predict"}
"""The module of an entry not named after its module."""

ORG = "synthetic-org"
"""Owner of the activity export's repositories beyond the sample organisation's."""
AS_OF = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
AUTOMERGE_CONFIG = "risk: {on_missing: allow}\n"  # the safe pull request's head has no exported score
MAINTENANCE_CONFIG = (
    "tasks:\n  dependency-update: {duration_hours: 2, workflow: deps.yml}\n  cleanup: {enabled: false}\n"
)


def synthetic_activity(
    *,
    people: int = 1_000,
    issues: int = 100_000,
    repositories: int = 200,
    weeks: int = 26,
    seed: int = 11,
    names: Sequence[str] = (),
) -> dict[str, Any]:
    """The ``activity`` export document of a synthetic organisation.

    ``people`` people in ``repositories`` repositories (the first named by ``names``, the rest
    ``synthetic-org/repo-NNN``), each person in their own time zone (UTC-8 to UTC+9), mostly on
    weekday office hours, over ``weeks`` weeks; ``issues`` issues opened (most also closed and
    commented on), and pull request merges and workflow runs in proportion, counted by hour of week
    as the pipeline's export lays them out (rates per week, the design's impact score).
    """
    rng = np.random.default_rng(seed)
    offsets = rng.integers(-8, 10, size=people)
    weekend_share = rng.uniform(0.02, 0.15, size=people)
    # each person works in one to three repositories; a repository's own team is its first people
    homes = rng.integers(0, repositories, size=(people, 3))
    homes[:, 0] = np.arange(people) % repositories
    spread = rng.integers(1, 4, size=people)

    def events(count: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(repository, person, absolute hour since the start) of ``count`` events."""
        person = rng.integers(0, people, size=count)
        repo = homes[person, rng.integers(0, 3, size=count) % spread[person]]
        weekend = rng.random(count) < weekend_share[person]
        day = np.where(weekend, rng.integers(5, 7, size=count), rng.integers(0, 5, size=count))
        local_hour = np.clip(rng.normal(13.0, 3.0, size=count), 0, 23.99).astype(int)
        week = rng.integers(0, weeks, size=count)
        hour = (week * HOURS_PER_WEEK + day * 24 + local_hour - offsets[person]) % (weeks * HOURS_PER_WEEK)
        return repo, person, hour

    issue_events = [events(issues), events(int(issues * 0.8)), events(issues * 3)]  # opened, closed, comments
    merges, runs = events(issues // 3), events(issues * 2)
    everyone = [*issue_events, merges, runs]
    counts = {name: np.zeros((repositories, HOURS_PER_WEEK)) for name in IMPACT_WEIGHTS}
    for name, groups in (
        ("issue_activity", issue_events),
        ("pr_merges", [merges]),
        ("workflow_runs", [runs]),
    ):
        for repo, _, hour in groups:
            np.add.at(counts[name], (repo, hour % HOURS_PER_WEEK), 1.0)
    # active users: distinct people acting in a repository in an hour, summed over the weeks
    repo = np.concatenate([e[0] for e in everyone])
    person = np.concatenate([e[1] for e in everyone])
    hour = np.concatenate([e[2] for e in everyone])
    key = np.unique((repo.astype(np.int64) * weeks * HOURS_PER_WEEK + hour) * people + person)
    slot = key // people
    np.add.at(counts["active_users"], (slot // (weeks * HOURS_PER_WEEK), slot % HOURS_PER_WEEK), 1.0)

    labels = [*names[:repositories], *(f"{ORG}/repo-{i:03d}" for i in range(len(names), repositories))]
    repositories_doc: dict[str, Any] = {}
    for index, label in enumerate(labels):
        rates = {name: counts[name][index] / weeks for name in IMPACT_WEIGHTS}
        impact = np.zeros(HOURS_PER_WEEK)
        for name, weight in IMPACT_WEIGHTS.items():
            peak = rates[name].max()
            if peak > 0:
                impact += weight * rates[name] / peak
        entry: dict[str, Any] = {
            "weeks_observed": weeks,
            "impact_score": [round(float(v), 6) for v in impact],
        }
        entry |= {name: [round(float(v), 6) for v in rates[name]] for name in IMPACT_WEIGHTS}
        repositories_doc[label] = entry
    template = organisation_template(repositories_doc)
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": iso(AS_OF),
        "repositories": repositories_doc,
        # pooled at export time, as pipelines.exports.documents.activity_document does
        "organisation": None if template is None else [float(v) for v in template],
    }


def synthetic_reviewers(
    recording: Recording, repo: str, *, people: int = 1_000, others: Sequence[str] = (), seed: int = 7
) -> dict[str, Any]:
    """A ``reviewers`` document: ``people`` candidates in ``repo``, each also in up to two of ``others``.

    Each person knows a few of ``repo``'s real path prefixes (from its pull requests' files), so the
    routed pull request's paths meet real expertise; the other fields are drawn like those of the
    in-process speed test (``tests/benchmarks/test_routing_speed.py``).
    """
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not security
    prefixes = sorted(
        {
            path_prefix(f["filename"])
            for (name, _), files in recording.pr_files.items()
            if name == repo
            for f in files
        }
    )
    if not prefixes:
        raise ValueError(f"{repo} has no pull request files to draw expertise from")
    rows = []
    for index in range(people):
        usual = sorted(rng.sample(range(24), rng.randint(3, 10)))
        extra = rng.sample(list(others), min(len(others), rng.randint(0, 2)))
        for where in (repo, *extra):
            rows.append(
                {
                    "repo": where,
                    "login": f"dev{index:04d}",
                    "expertise_paths": [
                        {"path_prefix": prefix, "weight": round(rng.expovariate(1.0), 4)}
                        for prefix in rng.sample(prefixes, min(4, len(prefixes)))
                    ],
                    "open_workload": rng.randrange(0, 12),
                    "median_first_response_hours": rng.choice([None, round(rng.uniform(0.5, 96), 2)]),
                    "events_last_14d": int(rng.expovariate(0.2)),
                    "usual_hours": usual,
                    "approval_rate": round(rng.random(), 3),
                    "changes_requested_rate": round(rng.random() / 4, 3),
                    "reviews_done": int(rng.expovariate(0.1)),
                    "last_active_at": iso(AS_OF - timedelta(hours=rng.uniform(0, 500))),
                }
            )
    return {"schema_version": SCHEMA_VERSION, "as_of": iso(AS_OF), "reviewers": rows}


def rerun_history(rec: Recording) -> list[dict[str, Any]]:
    """Re-runs of failed attempts by repository and workflow, as the warehouse query counts them."""
    attempts: dict[tuple[str, int, int], dict[str, Any]] = dict(rec.run_attempts)
    for repo, runs in rec.workflow_runs.items():
        for run in runs:
            attempts[(repo, int(run["id"]), int(run.get("run_attempt") or 1))] = run
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (repo, run_id, attempt), run in attempts.items():
        following = attempts.get((repo, run_id, attempt + 1))
        if run.get("conclusion") in HEALABLE_CONCLUSIONS and following and following["status"] == "completed":
            entry = counts[(repo, str(run.get("name") or ""))]
            entry[0] += 1
            entry[1] += int(following.get("conclusion") == "success")
    return [
        {"repo": repo, "workflow": workflow, "workflow_path": None, "reruns": n, "successes": s}
        for (repo, workflow), (n, s) in sorted(counts.items())
    ]


def _recent_runs(count: int, seed: int = 5) -> pl.DataFrame:
    """Newest ``count`` latest attempts of a synthetic history, with branch and head (as recent_runs.sql)."""
    inputs = synthetic_run_inputs(count * 3, repos=200, seed=seed)
    features = build_run_features(inputs).join(
        inputs.select("repo", "id", "run_attempt", "branch", "head_sha"), on=["repo", "id", "run_attempt"]
    )
    latest = features.sort("run_attempt").group_by("repo", "id").last()
    return latest.sort("created_at", descending=True).head(count)


def write_scene_exports(
    target: Path,
    recording: Recording,
    repo: str,
    *,
    people: int,
    issues: int,
    repositories: int,
    scratch: Path,
) -> Path:
    """The scene's verified exports folder (see the module docstring); returns it."""
    trained = train_models(build_run_features(synthetic_run_inputs(3_000, repos=8, seed=3)), trials=2, seed=0)
    models_dir = trained.save(scratch / "models")
    recent = _recent_runs(SCORE_LIMIT)
    documents = {
        "activity": synthetic_activity(
            people=people, issues=issues, repositories=repositories, names=recording.repos
        ),
        "reviewers": synthetic_reviewers(
            recording, repo, people=people, others=[r for r in recording.repos if r != repo]
        ),
        "rerun_priors": rerun_priors_document(rerun_history(recording), None, generated_at=AS_OF),
    }
    exports = write_exports(
        target,
        models_dir=models_dir,
        source=SourceInfo("sample", True, AS_OF, tuple(recording.repos)),
        documents=documents,
        scores=lambda models: scores_document(recent, models, generated_at=AS_OF),
        # made now, as the pipeline's daily run makes them (the data stays as of AS_OF): auto-merge
        # refuses exports older than exports.max_age_hours
        generated_at=datetime.now(UTC).replace(microsecond=0),
    )
    return exports.root


def _client(double: GitHubDouble, token: str) -> Github:
    return Github(
        base_url=double.url,
        auth=Auth.Token(token),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _fresh_pull(double: GitHubDouble, token: str, repo: str, branch: str) -> int:
    """A new pull request from a new branch (through the API); returns its number."""
    double.writes.commit_files(repo, branch, {"topic.txt": branch}, "topic")
    pull = (
        _client(double, token)
        .get_repo(repo)
        .create_pull(title="Tune the docs build", body="", head=branch, base="main")
    )
    return int(pull.number)


def _failed_merge(double: GitHubDouble, token: str, repo: str) -> int:
    """Auto-merge a new pull request with a change, fail CI on its merge commit; returns the run id."""
    writes = double.writes
    if writes.branch_files(repo, "main") is None:
        writes.commit_files(repo, "main", {"README.md": "the project\n"}, "initial commit")
    base = writes.branch_files(repo, "main") or {}
    number = _fresh_pull(double, token, repo, "feature/benchmark-change")
    files: dict[str, str | None] = {path: data.decode() for path, data in base.items()}
    files["changes/benchmark.txt"] = "a change\n"
    head = writes.commit_files(repo, "feature/benchmark-change", files, "a change")
    double.configure_pull(repo, number, head_sha=head, mergeable=True, mergeable_state="clean", draft=False)
    pull = _client(double, token).get_repo(repo).get_pull(number)
    sha = pull.merge(
        commit_title=f"{pull.title} (#{number})",
        commit_message=f"{MERGE_MARKER}\n",
        merge_method="squash",
        sha=head,
    ).sha
    run = dict(double.recording.workflow_runs[repo][0])
    run_id = 7_000_000_001
    run.update(
        id=run_id,
        name="CI",
        head_sha=sha,
        head_branch="main",
        event="push",
        status="completed",
        conclusion="failure",
        run_attempt=1,
        html_url=f"https://github.com/{repo}/actions/runs/{run_id}",
        pull_requests=[],
    )
    double.add_workflow_run(repo, run)
    double.recording.jobs[(repo, run_id, 1)] = [
        {
            "id": 8_000_000_000 + i,
            "run_id": run_id,
            "run_attempt": 1,
            "name": name,
            "status": "completed",
            "conclusion": conclusion,
            "head_sha": sha,
            "steps": [],
            "html_url": f"https://github.com/{repo}/actions/runs/{run_id}/job/{8_000_000_000 + i}",
        }
        for i, (name, conclusion) in enumerate((("build", "failure"), ("lint", "success")))
    ]
    double.invalidate()
    return run_id


HEAL_DECISIONS: dict[str, set[str]] = {
    "transient": {"retry"},
    "dependency": {"retry", "wait"},
    "permanent": {"skip"},
}
"""What the heal action may decide about a failure of each class once it has classified it."""


def _failed_runs(rec: Recording, now: datetime) -> dict[int, tuple[str, str]]:
    """One failed latest attempt with a log archive per failure class: ``{run id: (repo, class)}``.

    Only runs the action may re-run at ``now`` are sampled, newest first: those passing the checks it
    makes before reading any log (finished, failed, retries left, GitHub's 50 attempts and 30 days), so
    every sample takes the download, classify and decide path rather than an early refusal.

    Raises:
        RuntimeError: when some failure class has no such run.
    """
    latest = {(repo, int(r["id"])): r for repo, runs in rec.workflow_runs.items() for r in runs}
    open_to_rerun = SelfHealingConfig(retry_categories=("transient",))
    candidates: list[tuple[datetime, str, int]] = []
    for repo, run_id, attempt in rec.logs:
        run = latest[(repo, run_id)]
        if run.get("run_attempt") != attempt:
            continue
        state = run_state(run)
        if decide_retry(state, "transient", open_to_rerun, now=now).decision != "skip":
            candidates.append((state.created_at, repo, run_id))
    chosen: dict[str, tuple[str, int]] = {}
    for _, repo, run_id in sorted(candidates, reverse=True):
        archive = rec.logs[(repo, run_id, int(latest[(repo, run_id)]["run_attempt"]))]
        category = str(classify_failure(excerpt_from_jobs(read_log_archive(archive)).text)["category"])
        chosen.setdefault(category, (repo, run_id))
    missing = sorted(set(HEAL_DECISIONS) - set(chosen))
    if missing:
        raise RuntimeError(f"no {' or '.join(missing)} failure among the runs re-runnable at {iso(now)}")
    return {chosen[c][1]: (chosen[c][0], c) for c in HEAL_DECISIONS}  # the re-run classes first


def _heal_check(expected: Mapping[int, tuple[str, str]]) -> Callable[[Any], str]:
    """The heal action's output check: the run was classified as sampled and decided on that class.

    A limit refusal (or any skip before the logs are read) leaves ``category`` empty and fails here,
    so the benchmark cannot time an early exit in place of the download, classify and decide path.
    """

    def check(output: Any) -> str:
        result = _one(output)
        _, category = expected[int(result["run_id"])]
        if result["category"] != category or result["decision"] not in HEAL_DECISIONS[category]:
            raise RuntimeError(
                f"the heal action decided {result['decision']!r} about run {result['run_id']} classified "
                f"{result['category']!r}, not one of {sorted(HEAL_DECISIONS[category])} for a {category} "
                f"failure: {result['reason']}"
            )
        return f"{category}/{result['action']}"

    return check


@dataclass
class Scene:
    """Each action's argument lists (cycled over the runs) and the check of its output."""

    commands: dict[str, list[list[str]]] = field(default_factory=dict)
    checks: dict[str, Callable[[Any], str]] = field(default_factory=dict)


def _one(output: Any) -> Mapping[str, Any]:
    """The first result of an action that prints a list of results, or its only one."""
    first = output[0] if isinstance(output, list) else output
    if not isinstance(first, Mapping):
        raise RuntimeError(f"the action printed {type(first).__name__}, not a result object")
    return first


def _expect(name: str, decision: str, wanted: set[str]) -> str:
    if decision not in wanted:
        raise RuntimeError(f"the {name} action decided {decision!r}, not one of {sorted(wanted)}")
    return decision


def build_scene(
    double: GitHubDouble, token: str, rec: Recording, exports: Path, root: Path, *, people: int, now: datetime
) -> Scene:
    """Set up in the double what each action acts on; return the commands and the checks of their output."""
    repo = rec.repos[0]
    scene = Scene()
    common = ["--dry-run", "--exports", str(exports)]

    run = max(rec.workflow_runs[repo], key=lambda r: (r.get("pull_requests") != [], r["created_at"]))
    predict = ["--repo", repo, "--run-id", str(run["id"]), "--post-status", "--exports", str(exports)]
    scene.commands["predict"] = [[*predict, "--dry-run"]]
    scene.checks["predict"] = lambda out: str(_one(out)["risk_level"])
    # not a dry run: the repopilot/risk status, predict's one write, posted to the double each time
    scene.commands["predict_status"] = [predict]
    scene.checks["predict_status"] = lambda out: (
        f"{_one(out)['risk_level']}, {_one(out)['status']['context']}"
    )

    safe = _fresh_pull(double, token, repo, "topic/benchmark-safe")
    double.configure_pull(
        repo,
        safe,
        mergeable=True,
        mergeable_state="clean",
        checks=[("build", "completed", "success")],
        statuses=[("codecov/project", "success", "88.00%")],
        reviews=[("someone-else", "APPROVED")],
    )
    automerge_config = root / "auto-merge.yml"
    automerge_config.write_text(AUTOMERGE_CONFIG, encoding="utf-8")
    scene.commands["automerge"] = [
        ["--repo", repo, "--pr", str(safe), "--config", str(automerge_config), *common]
    ]
    scene.checks["automerge"] = lambda out: _expect("automerge", str(_one(out)["decision"]), {"merge"})

    revert_run = _failed_merge(double, token, repo)
    scene.commands["revert"] = [["--repo", repo, "--run-id", str(revert_run), "--dry-run"]]
    scene.checks["revert"] = lambda out: _expect("revert", str(_one(out)["decision"]), {"revert"})

    routed = min(int(p["number"]) for p in rec.pull_requests[repo] if p["state"] == "open")
    double.configure_pull(repo, routed, draft=False, requested_reviewers=[], requested_teams=[], reviews=[])
    scene.commands["route"] = [["--repo", repo, "--pull", str(routed), *common]]

    def route_check(out: Any) -> str:
        if out.get("eligible_count", 0) + out.get("excluded_count", 0) != people:
            raise RuntimeError(f"the route action did not weigh the whole team: {out.get('reason')}")
        return _expect("route", str(out["decision"]), {"assign"})

    scene.checks["route"] = route_check

    stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    failed = _failed_runs(rec, now)
    scene.commands["heal"] = [
        ["--repo", failed_repo, "--run-id", str(run_id), "--now", str(stamp), *common]
        for run_id, (failed_repo, _) in failed.items()
    ]
    scene.checks["heal"] = _heal_check(failed)

    config = MaintenanceConfig.model_validate({"tasks": {"dependency-update": {"duration_hours": 2}}})
    activity, template, _ = read_activity(verify(exports), repo)
    if activity is None:
        raise RuntimeError(f"no activity exported for {repo}")
    plan = plan_window(activity, config, "dependency-update", AS_OF, template=template)
    if plan.window is None:
        raise RuntimeError(f"no maintenance window found for {repo}")
    inside = datetime.fromisoformat(plan.window["start"]) + timedelta(minutes=10)
    double.writes.add_workflow(repo, ".github/workflows/deps.yml")
    maintenance_config = root / "maintenance.yml"
    maintenance_config.write_text(MAINTENANCE_CONFIG, encoding="utf-8")
    scene.commands["maintain"] = [
        ["--repo", repo, "--config", str(maintenance_config), "--now", inside.isoformat(), *common]
    ]
    scene.checks["maintain"] = lambda out: _expect("maintain", str(_one(out)["decision"]), {"would-start"})

    scene.commands["sla_watch"] = [["--repos", ",".join(rec.repos), "--now", str(stamp), "--dry-run"]]
    scene.checks["sla_watch"] = lambda out: (
        f"{_one(out)['incident_status']}, {_one(out)['report']['breach_count']} breaches"
    )
    return scene


def _timed(argv: list[str], env: Mapping[str, str]) -> tuple[float, float, int, str, str]:
    """Run ``argv``: wall seconds, the child's CPU seconds (user + system), exit code, stdout, stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        process = subprocess.Popen(argv, stdout=out, stderr=err, env=dict(env))  # noqa: S603
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return (
            wall,
            usage.ru_utime + usage.ru_stime,
            process.returncode,
            out.read().decode("utf-8", "replace"),
            err.read().decode("utf-8", "replace"),
        )


def _stats(values: Sequence[float]) -> dict[str, float]:
    return {
        "median": round(statistics.median(values), 4),
        "min": round(min(values), 4),
        "max": round(max(values), 4),
    }


def run_actions_benchmark(
    json_path: Path | None,
    *,
    runs: int = 5,
    only: Sequence[str] = (),
    people: int = 1_000,
    issues: int = 100_000,
    repositories: int = 200,
) -> dict[str, Any]:
    """Build the scene once, time each action's dry-run process ``runs`` times; print and return the figures.

    Raises:
        ValueError: for an unknown action name or fewer than one run.
        RuntimeError: when an action fails or decides something other than what the scene sets up.
    """
    unknown = sorted(set(only) - set(ACTIONS))
    if unknown:
        raise ValueError(f"unknown action(s) {', '.join(unknown)}; known: {', '.join(ACTIONS)}")
    if runs < 1:
        raise ValueError("runs must be at least 1")
    selected = [name for name in ACTIONS if not only or name in only]
    started = time.perf_counter()
    spec = SampleOrgSpec(people=people)
    rec = generate_sample_org(spec)
    token = secrets.token_hex(20)  # a fresh loopback credential: nothing to leak
    with tempfile.TemporaryDirectory(prefix="repopilot-actions-bench-") as scratch:
        root = Path(scratch)
        exports = write_scene_exports(
            root / "exports",
            rec,
            rec.repos[0],
            people=people,
            issues=issues,
            repositories=repositories,
            scratch=root,
        )
        sizes = {p.name: p.stat().st_size for p in sorted(exports.glob("*.json"))}
        with GitHubDouble(rec, token=token) as double:
            scene = build_scene(double, token, rec, exports, root, people=people, now=spec.end)
            setup_seconds = time.perf_counter() - started
            env = {
                k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "REPOPILOT_", "RUNNER_"))
            }
            env |= {"GITHUB_TOKEN": token, "GITHUB_API_URL": double.url, "RUNNER_TEMP": str(root / "runner")}
            env |= {"GITHUB_STEP_SUMMARY": str(root / "summary.md"), "GITHUB_OUTPUT": str(root / "output")}
            env |= {"REPOPILOT_AUDIT_LOG": str(root / "audit.jsonl")}
            load_start = os.getloadavg()
            figures: dict[str, Any] = {}
            for name in selected:
                wall, cpu, requests, decisions = [], [], [], []
                variants = scene.commands[name]
                for index in range(runs):
                    module = MODULES.get(name, name)
                    argv = [sys.executable, "-m", f"actions.{module}", *variants[index % len(variants)]]
                    before = len(double.requests)
                    seconds, used, code, stdout, stderr = _timed(argv, env)
                    if code != 0:
                        raise RuntimeError(
                            f"the {name} action failed (exit {code}): {stderr.strip()[-2000:]}"
                        )
                    requests.append(len(double.requests) - before)
                    wall.append(seconds)
                    cpu.append(used)
                    decisions.append(scene.checks[name](json.loads(stdout)))
                figures[name] = {
                    "wall_seconds": _stats(wall),
                    "cpu_seconds": _stats(cpu),
                    "requests": _stats(requests),
                    "exit_code": 0,
                    "decisions": sorted(set(decisions)),
                    "command": f"python -m actions.{MODULES.get(name, name)} " + " ".join(variants[0]),
                }
            load_end = os.getloadavg()
    report: dict[str, Any] = {
        "organisation": {
            "people": people,
            "issues": issues,
            "repositories_in_activity": repositories,
            "api": f"sample organisation ({len(rec.repos)} repositories) behind the GitHub API double",
            "synthetic": True,
        },
        "export_bytes": sizes,
        "runs": runs,
        "load_average_start": [round(v, 2) for v in load_start],
        "load_average_end": [round(v, 2) for v in load_end],
        "setup_seconds": round(setup_seconds, 1),
        "python": sys.version.split()[0],
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "actions": figures,
    }
    print(
        f"actions, whole process, dry run (predict_status: posting): {people:,} people, {issues:,} issues, "
        f"{runs} runs each "
        f"(load average {report['load_average_start'][0]} at start, {report['load_average_end'][0]} at end)"
    )
    print(
        f"  {'action':<14} {'wall median':>11} {'min':>7} {'max':>7} {'CPU median':>10} "
        f"{'requests':>8}  decision"
    )
    for name, fig in figures.items():
        w, c = fig["wall_seconds"], fig["cpu_seconds"]
        print(
            f"  {name:<14} {w['median']:>10.3f}s {w['min']:>6.3f}s {w['max']:>6.3f}s {c['median']:>9.3f}s "
            f"{fig['requests']['median']:>8g}  {', '.join(fig['decisions'])}"
        )
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
