"""``repopilot benchmark maintenance``: speed of the maintenance action on a large organisation.

The organisation is synthetic (labelled so): ``people`` people in ``repositories`` repositories,
each person working in their own time zone (offsets from UTC-8 to UTC+9), mostly on weekday office
hours, over ``weeks`` weeks; ``issues`` issues opened (most also closed and commented on), and
pull request merges and workflow runs in proportion. Its events are counted by hour of week into
the ``activity`` export exactly as the pipeline's export lays it out (rates per week, the design's
impact score), and written as a verified exports folder.

Two figures are measured:

* in process: the action's decision for one repository (read the verified activity export, pool
  the organisation's template, plan the 7-day period's window with ``predict_optimal_time``), median
  over repeated calls; the verification of the exports before it (checksums and JSON Schemas, by
  :func:`actions.common.exports.verify`) is timed separately;
* the action's whole process (``python -m actions.maintain --dry-run``, interpreter start to
  exit) against those exports and the API double, inside the window so that it also reads the
  workflow and its runs; median over repeated runs.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from actions.common.exports import Exports, verify
from actions.common.schemas import SCHEMA_VERSION
from actions.maintain import read_activity
from actions.maintenance.config import MaintenanceConfig
from actions.maintenance.plan import Plan, plan_window
from actions.maintenance.windows import HOURS_PER_WEEK, IMPACT_WEIGHTS
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording

ORG = "synthetic-org"
AS_OF = datetime(2026, 11, 2, tzinfo=UTC)  # a Monday
BENCH_CONFIG = """tasks:
  dependency-update: {duration_hours: 2, workflow: deps.yml}
  cleanup: {enabled: false}
"""


def synthetic_activity(
    *, people: int = 1_000, issues: int = 100_000, repositories: int = 200, weeks: int = 26, seed: int = 11
) -> dict[str, Any]:
    """The ``activity`` export document of a synthetic organisation (see the module docstring)."""
    rng = np.random.default_rng(seed)
    offsets = rng.integers(-8, 10, size=people)  # each person's UTC offset in hours
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
    counts = {
        "issue_activity": np.zeros((repositories, HOURS_PER_WEEK)),
        "pr_merges": np.zeros((repositories, HOURS_PER_WEEK)),
        "workflow_runs": np.zeros((repositories, HOURS_PER_WEEK)),
        "active_users": np.zeros((repositories, HOURS_PER_WEEK)),
    }
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

    repositories_doc: dict[str, Any] = {}
    for index in range(repositories):
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
        repositories_doc[f"{ORG}/repo-{index:03d}"] = entry
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": AS_OF.isoformat().replace("+00:00", "Z"),
        "repositories": repositories_doc,
    }


def write_synthetic_exports(target: Path, document: dict[str, Any]) -> Exports:
    """A verified exports folder holding ``document`` as ``activity.json`` (no model, no scores)."""
    source = SourceInfo(
        kind="sample",
        synthetic=True,
        data_as_of=AS_OF,
        repositories=tuple(document["repositories"]),
    )

    def no_scores(_: object) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "model_version": None,
            "generated_at": "2026-11-02T00:00:00Z",
            "runs": [],
        }

    return write_exports(
        target,
        models_dir=None,
        source=source,
        documents={"activity": document},
        scores=no_scores,
        generated_at=AS_OF,
    )


def decide_in_process(exports: Exports, repository: str, config: MaintenanceConfig, now: datetime) -> Plan:
    """What the action computes before it talks to GitHub: activity, template, the period's plan."""
    activity, template, _ = read_activity(exports, repository)
    if activity is None:
        raise ValueError(f"no activity for {repository}")
    return plan_window(activity, config, "dependency-update", now, template=template)


def run_maintenance_benchmark(
    json_path: Path | None,
    *,
    repeats: int = 20,
    process_runs: int = 5,
    people: int = 1_000,
    issues: int = 100_000,
) -> dict[str, Any]:
    """Build the synthetic organisation's exports, time the decision and the action's process; print them."""
    with tempfile.TemporaryDirectory(prefix="repopilot-maintenance-bench-") as scratch:
        root = Path(scratch)
        document = synthetic_activity(people=people, issues=issues)
        exports = write_synthetic_exports(root / "exports", document)
        size = (exports.root / "activity.json").stat().st_size
        repository = f"{ORG}/repo-042"
        config_path = root / "maintenance.yml"
        config_path.write_text(BENCH_CONFIG, encoding="utf-8")
        config = MaintenanceConfig.model_validate({"tasks": {"dependency-update": {"duration_hours": 2}}})
        plan = decide_in_process(verify(exports.root), repository, config, AS_OF)
        if plan.window is None:
            raise ValueError("no window found for the benchmark repository")
        inside = datetime.fromisoformat(plan.window["start"]) + timedelta(minutes=10)
        timings, verifying = [], []
        for _ in range(repeats):
            started = time.perf_counter()
            checked = verify(exports.root)
            verifying.append(time.perf_counter() - started)
            started = time.perf_counter()
            again = decide_in_process(checked, repository, config, inside)
            timings.append(time.perf_counter() - started)
        if not again.inside:
            raise ValueError("the benchmark's moment is not inside the window")

        recording = Recording(repos=list(document["repositories"]), synthetic=True)
        with GitHubDouble(recording, token="benchmark-token") as double:  # noqa: S106 - loopback double
            double.writes.add_workflow(repository, ".github/workflows/deps.yml")
            argv = [
                sys.executable,
                "-m",
                "actions.maintain",
                "--repo",
                repository,
                "--exports",
                str(exports.root),
                "--config",
                str(config_path),
                "--now",
                inside.isoformat(),
                "--dry-run",
            ]
            env = {
                **os.environ,
                "GITHUB_TOKEN": "benchmark-token",
                "GITHUB_API_URL": double.url,
                "PYTHONPATH": str(Path(__file__).resolve().parents[1]),
            }
            for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "REPOPILOT_AUDIT_LOG"):
                env.pop(name, None)
            process = []
            decision = None
            for _ in range(process_runs):
                started = time.perf_counter()
                done = subprocess.run(argv, capture_output=True, text=True, env=env, check=True)  # noqa: S603
                process.append(time.perf_counter() - started)
                decision = json.loads(done.stdout)[0]["decision"]
        if decision != "would-start":
            raise ValueError(f"the action decided {decision!r}, not would-start")
    report: dict[str, Any] = {
        "organisation": {
            "people": people,
            "issues": issues,
            "repositories": len(document["repositories"]),
            "weeks": 26,
            "synthetic": True,
        },
        "decision_in_process_ms": {
            "median": round(1000 * statistics.median(timings), 2),
            "max": round(1000 * max(timings), 2),
            "repeats": repeats,
            "target": 500,
        },
        "verify_exports_ms": {
            "median": round(1000 * statistics.median(verifying), 2),
            "max": round(1000 * max(verifying), 2),
            "repeats": repeats,
            "activity_json_bytes": size,
        },
        "action_process_s": {
            "median": round(statistics.median(process), 3),
            "max": round(max(process), 3),
            "runs": process_runs,
            "target": 1.0,
            "decision": decision,
        },
    }
    print(
        f"maintenance on a synthetic organisation ({people:,} people, {issues:,} issues, "
        f"{len(document['repositories'])} repositories):\n"
        f"  decision in process (activity, template, 7-day plan): median "
        f"{report['decision_in_process_ms']['median']} ms (target < 500 ms)\n"
        f"  verifying the exports (checksums, JSON Schemas), which the action does first: median "
        f"{report['verify_exports_ms']['median']} ms\n"
        f"  action process, dry run, inside the window: median {report['action_process_s']['median']} s "
        "(target < 1 s)"
    )
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
