"""``repopilot benchmark route-action``: the route action's whole process time, start to exit.

Writes a verified exports folder whose ``reviewers.json`` holds a synthetic 1,000-person team of one
repository of the sample organisation (expertise over that repository's real path prefixes, usual
hours, response times, review records), serves the sample organisation through the GitHub API double
on loopback, and runs ``python -m actions.route --dry-run`` on an open pull request of that repository
as a separate process, several times: the wall time from start to exit is what a workflow step pays
(interpreter start, imports, exports verification, the API reads, the decision, the summary). The
double answers from memory, so GitHub's own latency (one round trip per request, reported as the
request count) comes on top.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from actions.common.schemas import SCHEMA_VERSION
from pipelines.exports.documents import iso, scores_document
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.features.reviewers import path_prefix
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from pipelines.sources.sample import generate_sample_org

REPO = "repopilot-sample/web-frontend"
_TOKEN = "benchmark-token"  # noqa: S105 - a dummy credential the double checks, not a secret


def _children_cpu() -> float:
    """User and system CPU seconds of the finished child processes: the wall time minus the waiting."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def synthetic_reviewers(
    recording: Recording, repo: str = REPO, *, people: int = 1_000, seed: int = 7
) -> dict[str, Any]:
    """A ``reviewers.json`` document (valid against its schema) with ``people`` candidates of ``repo``.

    Each person knows a few of the repository's real path prefixes (from its pull requests' files),
    so the routed pull request's paths meet real expertise; the other fields are drawn like those of
    the in-process speed test (``tests/benchmarks/test_routing_speed.py``).
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
    as_of = datetime(2026, 11, 1, tzinfo=UTC)
    rows = []
    for index in range(people):
        usual = sorted(rng.sample(range(24), rng.randint(3, 10)))
        rows.append(
            {
                "repo": repo,
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
                "last_active_at": iso(as_of - timedelta(hours=rng.uniform(0, 500))),
            }
        )
    return {"schema_version": SCHEMA_VERSION, "as_of": iso(as_of), "reviewers": rows}


def write_team_exports(target: Path, document: dict[str, Any]) -> Path:
    """A verified exports folder at ``target`` holding ``document`` as ``reviewers.json``."""
    generated = datetime(2026, 11, 1, tzinfo=UTC)
    write_exports(
        target,
        models_dir=None,
        source=SourceInfo("sample", True, generated, (REPO,)),
        documents={"reviewers": document},
        scores=lambda models: scores_document(pl.DataFrame(), None, generated_at=generated),
        generated_at=generated,
    )
    return target


def run_route_action_benchmark(
    json_path: Path | None, *, people: int = 1_000, runs: int = 7
) -> dict[str, Any]:
    """Time ``runs`` dry-run processes of the route action; print the figures and return them."""
    if runs < 1:
        raise ValueError("runs must be at least 1")
    recording = generate_sample_org()
    open_pulls = [p for p in recording.pull_requests[REPO] if p["state"] == "open"]
    with tempfile.TemporaryDirectory(prefix="repopilot-route-bench-") as directory:
        root = Path(directory)
        exports = write_team_exports(root / "exports", synthetic_reviewers(recording, people=people))
        with GitHubDouble(recording, token=_TOKEN) as double:
            # a pull request that routing acts on: ready, nobody requested, no reviews yet
            number = int(min(p["number"] for p in open_pulls))
            double.configure_pull(
                REPO, number, draft=False, requested_reviewers=[], requested_teams=[], reviews=[]
            )
            env = {
                **os.environ,
                "GITHUB_TOKEN": _TOKEN,
                "GITHUB_API_URL": double.url,
                "GITHUB_STEP_SUMMARY": str(root / "summary.md"),
                "GITHUB_OUTPUT": str(root / "output"),
                "REPOPILOT_AUDIT_LOG": str(root / "audit.jsonl"),
            }
            for name in ("GITHUB_EVENT_PATH", "REPOPILOT_EXPORTS", "GITHUB_WORKSPACE"):
                env.pop(name, None)
            command = [
                sys.executable,
                "-m",
                "actions.route",
                "--dry-run",
                "--repo",
                REPO,
                "--pull",
                str(number),
                "--exports",
                str(exports),
            ]
            seconds = []
            cpu = []
            result: dict[str, Any] = {}
            requests = 0
            for _ in range(runs):
                before = len(double.requests)
                used = _children_cpu()
                started = time.perf_counter()
                done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
                seconds.append(time.perf_counter() - started)
                cpu.append(_children_cpu() - used)
                requests = len(double.requests) - before
                if done.returncode != 0:
                    raise RuntimeError(
                        f"the route action failed (exit {done.returncode}): {done.stderr.strip()}"
                    )
                result = json.loads(done.stdout)
    if (
        result.get("decision") != "assign"
        or result.get("eligible_count", 0) + result.get("excluded_count", 0) != people
    ):
        raise RuntimeError(f"the route action did not decide over the whole team: {result.get('reason')}")
    figures = {
        "people": people,
        "runs": runs,
        "seconds_min": round(min(seconds), 4),
        "seconds_median": round(statistics.median(seconds), 4),
        "seconds_max": round(max(seconds), 4),
        "cpu_seconds_median": round(statistics.median(cpu), 4),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "requests_per_run": requests,
        "selected": result["selected"],
        "eligible": result["eligible_count"],
        "excluded": result["excluded_count"],
        "command": "python -m actions.route --dry-run --repo REPO --pull N --exports DIR",
        "python": sys.version.split()[0],
    }
    print(
        f"route action, dry run, {people} people: median {figures['seconds_median']:.3f} s "
        f"(min {figures['seconds_min']:.3f}, max {figures['seconds_max']:.3f}) over {runs} processes, "
        f"median CPU {figures['cpu_seconds_median']:.3f} s (load average {figures['load_average_1min']}); "
        f"{requests} API requests each; selected {', '.join(result['selected'])}"
    )
    if json_path is not None:
        json_path.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    return figures
