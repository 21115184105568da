"""``repopilot benchmark heal``: the heal action's whole process time, start to exit, in dry run.

A sample organisation of 1,000 people (with log archives of failed attempts) is served by the
GitHub API double on loopback; its re-run priors are exported (the export the action reads,
counted from the recording's attempts as ``warehouse/sql/exports/rerun_history.sql`` counts them
in the warehouse); then ``python -m actions.heal --dry-run`` runs as a separate process on failed
runs of each failure class, and the wall time of each process is measured: interpreter start,
imports, reading and verifying the exports, the API calls, the log download, classification and
the decision.
"""

from __future__ import annotations

import json
import os
import resource
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import polars as pl

from actions.healing.classify import classify_failure
from actions.healing.logs import excerpt_from_jobs, read_log_archive
from pipelines.exports.documents import scores_document
from pipelines.exports.rerun_priors import rerun_priors_document
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.sources.double import GitHubDouble
from pipelines.sources.recording import Recording
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org


def _history(rec: Recording) -> list[dict[str, Any]]:
    """Re-runs of failed attempts by repository and workflow, as the warehouse query counts them."""
    attempts: dict[tuple[str, int, int], dict[str, Any]] = dict(rec.run_attempts)
    for repo, runs in rec.workflow_runs.items():
        for run in runs:
            attempts[(repo, int(run["id"]), int(run.get("run_attempt") or 1))] = run
    counts: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    for (repo, run_id, attempt), run in attempts.items():
        following = attempts.get((repo, run_id, attempt + 1))
        if (
            run.get("conclusion") in {"failure", "timed_out"}
            and following
            and following["status"] == "completed"
        ):
            entry = counts[(repo, str(run.get("name") or ""))]
            entry[0] += 1
            entry[1] += int(following.get("conclusion") == "success")
    return [
        {"repo": repo, "workflow": workflow, "workflow_path": None, "reruns": n, "successes": s}
        for (repo, workflow), (n, s) in sorted(counts.items())
    ]


def run_heal_benchmark(json_path: Path | None, *, people: int = 1_000, per_class: int = 3) -> dict[str, Any]:
    """Measure the action's process time on failed runs of each class; print and return the figures."""
    spec = SampleOrgSpec(people=people)
    rec = generate_sample_org(spec)
    now = spec.end
    with tempfile.TemporaryDirectory(prefix="repopilot-heal-bench-") as tmp:
        exports = write_exports(
            Path(tmp) / "exports",
            models_dir=None,
            source=SourceInfo("sample", True, now, tuple(rec.workflow_runs)),
            documents={"rerun_priors": rerun_priors_document(_history(rec), None, generated_at=now)},
            scores=lambda models: scores_document(pl.DataFrame(), models, generated_at=now),
            generated_at=now,
        )
        latest = {(repo, int(r["id"])): r for repo, runs in rec.workflow_runs.items() for r in runs}
        chosen: dict[str, list[tuple[str, int]]] = defaultdict(list)
        for (repo, run_id, attempt), archive in sorted(rec.logs.items(), reverse=True):
            run = latest[(repo, run_id)]
            if run.get("run_attempt") != attempt or run.get("conclusion") not in {"failure", "timed_out"}:
                continue
            category = classify_failure(excerpt_from_jobs(read_log_archive(archive)).text)["category"]
            if len(chosen[category]) < per_class:
                chosen[category].append((repo, run_id))
        times: dict[str, list[float]] = defaultdict(list)
        cpu: list[float] = []
        token = secrets.token_hex(20)  # a fresh loopback credential: nothing to leak
        with GitHubDouble(rec, token=token) as double:
            env = {
                **{k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "REPOPILOT_"))},
                "GITHUB_TOKEN": token,
                "GITHUB_API_URL": double.url,
            }
            stamp = now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            for category, runs in sorted(chosen.items()):
                for repo, run_id in runs:
                    argv = [sys.executable, "-m", "actions.heal", "--repo", repo, "--run-id", str(run_id)]
                    argv += ["--dry-run", "--exports", str(exports.root), "--now", stamp]
                    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
                    start = time.perf_counter()
                    done = subprocess.run(argv, capture_output=True, text=True, env=env, check=False)  # noqa: S603
                    elapsed = time.perf_counter() - start
                    after = resource.getrusage(resource.RUSAGE_CHILDREN)
                    # CPU time of the child alone: on a shared machine wall time mostly measures the queue
                    cpu.append(after.ru_utime - usage.ru_utime + after.ru_stime - usage.ru_stime)
                    if done.returncode != 0:
                        raise RuntimeError(f"the heal action failed on run {run_id}: {done.stderr.strip()}")
                    result = json.loads(done.stdout)[0]
                    times[f"{category}/{result['action']}"].append(elapsed)
    every = [t for values in times.values() for t in values]
    by_key = {k: [round(t, 3) for t in v] for k, v in sorted(times.items())}
    report: dict[str, Any] = {
        "people": people,
        "runs_measured": len(every),
        "process_seconds_median": round(statistics.median(every), 3),
        "process_seconds_max": round(max(every), 3),
        "process_cpu_seconds_median": round(statistics.median(cpu), 3),
        "process_cpu_seconds_max": round(max(cpu), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "by_class_and_action": by_key,
        "measured_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    print(f"heal action, dry run, whole process ({people:,}-person sample organisation, loopback double):")
    print(
        f"  wall: median {report['process_seconds_median']:.3f} s, max {report['process_seconds_max']:.3f} s"
    )
    print(
        f"  CPU (user+sys of the process): median {report['process_cpu_seconds_median']:.3f} s, "
        f"max {report['process_cpu_seconds_max']:.3f} s (load average {report['load_average_1min']})"
    )
    for key, values in by_key.items():
        print(f"  {key:<28} {', '.join(f'{v:.3f}' for v in values)}")
    if json_path is not None:
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
