"""``repopilot benchmark ingest``: the GitHub source's request cost and speed, measured.

Generates the large sample organisation, serves it through the GitHub API double on loopback,
and syncs it through PyGithub exactly as a live sync would (same source, landing zone and
loader), twice: the second sync has nothing new and shows what a no-change re-sync costs.
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from pipelines.sources.double import GitHubDouble
from pipelines.sources.double.rest import LOG_BLOB_PREFIX
from pipelines.sources.github.settings import GitHubSettings
from pipelines.sources.github.source import GitHubSource
from pipelines.sources.ingest import land_stream
from pipelines.sources.recording import Recording
from pipelines.sources.run_logs import wants_logs
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from pipelines.sources.streams import STREAMS
from warehouse.db import build_core, connect
from warehouse.landing import LandingZone
from warehouse.loader import load_landed

_TOKEN = "benchmark-token"  # noqa: S105 - a dummy credential the double checks, not a secret

_LIST_ENDPOINTS = {
    "pull_requests": ("pulls?", "pull_requests"),
    "review_comments": ("pulls/comments", "review_comments"),
    "issues": ("/issues?", "issues"),
    "issue_comments": ("issues/comments", "issue_comments"),
    "issue_events": ("issues/events", "issue_events"),
    "workflow_runs": ("actions/runs?", "workflow_runs"),
}


def _minimum_pages(rec: Recording, field: str, per_page: int) -> int:
    listing: dict[str, list[Any]] = getattr(rec, field)
    return sum(max(1, math.ceil(len(items) / per_page)) for items in listing.values())


def _sync(double: GitHubDouble, settings: GitHubSettings, zone: LandingZone, db: Path) -> dict[str, Any]:
    source = GitHubSource(settings)
    requests_by_stream: dict[str, int] = {}
    objects: Counter[str] = Counter()
    started = time.perf_counter()
    try:
        for repo in settings.repos:
            for stream in STREAMS:
                before = len(double.requests)
                report = land_stream(source, repo, stream, zone)
                requests_by_stream[stream] = requests_by_stream.get(stream, 0) + len(double.requests) - before
                objects.update(report.objects_by_table)
    finally:
        source.close()
    fetched = time.perf_counter() - started
    with connect(db) as conn:
        load = load_landed(conn, zone)
        build_core(conn)
    return {
        "requests_by_stream": requests_by_stream,
        "objects_by_table": dict(objects),
        "fetch_seconds": fetched,
        "total_seconds": time.perf_counter() - started,
        "rows_loaded": load.rows(),
    }


def run_ingest_benchmark(scale: str = "benchmark", json_path: Path | None = None) -> dict[str, Any]:
    """Run the benchmark, print its table and return (and optionally write) the figures."""
    spec = SampleOrgSpec.benchmark() if scale == "benchmark" else SampleOrgSpec()
    # With log archives: the run_logs stream's real cost (a 302 and a download per archive) is measured.
    spec = SampleOrgSpec(**{**spec.__dict__, "with_logs": True})
    started = time.perf_counter()
    rec = generate_sample_org(spec)
    generated = time.perf_counter() - started
    per_page = 100
    with tempfile.TemporaryDirectory() as tmp, GitHubDouble(rec, token=_TOKEN, rate_limit=10**7) as double:
        settings = GitHubSettings(
            api_url=double.url, token=SecretStr(_TOKEN), repos=rec.repos, per_page=per_page
        )
        zone = LandingZone(Path(tmp) / "landing")
        db = Path(tmp) / "warehouse.duckdb"
        first = _sync(double, settings, zone, db)
        first_rate = [r.rate_cost for r in double.requests]
        log_api = [r for r in double.requests if r.path.endswith("/logs")]
        log_downloads = [r for r in double.requests if r.path.startswith(LOG_BLOB_PREFIX)]
        double.reset_log()
        budget_before = double.rate_remaining
        second = _sync(double, settings, zone, db)
        second_statuses = Counter(str(r.status) for r in double.requests)
        second_rate_points = budget_before - double.rate_remaining

    pulls = sum(len(v) for v in rec.pull_requests.values())
    lists: dict[str, Any] = {}
    for stream, (_marker, field) in _LIST_ENDPOINTS.items():
        minimum = _minimum_pages(rec, field, per_page)
        spent = first["requests_by_stream"][stream] if stream != "workflow_runs" else None
        lists[stream] = {"requests": spent, "minimum_pages": minimum}
    runs_requests = first["requests_by_stream"]["workflow_runs"]
    run_pages = _minimum_pages(rec, "workflow_runs", per_page)
    lists["workflow_runs"] = {
        "requests": runs_requests,
        "minimum_pages": run_pages,
        "detail_requests": runs_requests - run_pages,
    }
    objects = first["objects_by_table"]
    failed_attempts = sum(
        wants_logs(run) for runs in (*rec.workflow_runs.values(), rec.run_attempts.values()) for run in runs
    )
    figures: dict[str, Any] = {
        "organisation": {
            "repositories": len(rec.repos),
            "pull_requests": pulls,
            "workflow_runs": sum(len(v) for v in rec.workflow_runs.values()),
            "objects": rec.object_count(),
            "synthetic": True,
            "generate_seconds": round(generated, 2),
        },
        "first_sync": {
            "requests": sum(first["requests_by_stream"].values()),
            "requests_by_stream": first["requests_by_stream"],
            "requests_per_1000_objects": {
                stream: round(1000 * n / max(1, sum(objects.get(t, 0) for t in STREAMS[stream].tables)), 2)
                for stream, n in first["requests_by_stream"].items()
            },
            "objects_per_second": round(sum(objects.values()) / first["total_seconds"], 1),
            "seconds": round(first["total_seconds"], 2),
            "rate_limit_points": sum(first_rate),
            "list_streams": lists,
            "pull_request_subresource_requests_per_pull_request": round(
                first["requests_by_stream"]["pull_request_details"] / max(1, pulls), 4
            ),
            "run_logs": {
                "failed_attempts": failed_attempts,
                "archives": len(rec.logs),
                "api_requests": len(log_api),
                "api_redirects": sum(r.status == 302 for r in log_api),
                "downloads": len(log_downloads),
                "downloads_with_token": sum(r.authorization_seen for r in log_downloads),
                "excerpt_rows": objects.get("run_log_excerpts", 0),
            },
        },
        "second_sync": {
            "requests": sum(second["requests_by_stream"].values()),
            "requests_by_stream": second["requests_by_stream"],
            "statuses": dict(second_statuses),
            "rate_limit_points": second_rate_points,
            "stream_repository_pairs": len(rec.repos) * len(STREAMS),
            "seconds": round(second["total_seconds"], 2),
        },
    }
    _print(figures)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures


def _print(figures: dict[str, Any]) -> None:
    org = figures["organisation"]
    first = figures["first_sync"]
    second = figures["second_sync"]
    print(
        f"sample organisation (SYNTHETIC): {org['repositories']} repositories, {org['pull_requests']:,} pull "
        f"requests, {org['workflow_runs']:,} workflow runs, {org['objects']:,} objects "
        f"(generated in {org['generate_seconds']}s)"
    )
    print(
        f"\nfirst sync: {first['requests']:,} requests, {first['seconds']}s, "
        f"{first['objects_per_second']:,} objects/s"
    )
    print(f"{'stream':<24}{'requests':>10}{'per 1000 objects':>18}{'minimum pages':>15}")
    for stream, n in first["requests_by_stream"].items():
        minimum = first["list_streams"].get(stream, {}).get("minimum_pages", "")
        print(f"{stream:<24}{n:>10,}{first['requests_per_1000_objects'][stream]:>18}{minimum!s:>15}")
    print(
        "pull request sub-resources: "
        f"{first['pull_request_subresource_requests_per_pull_request']} requests per pull request"
    )
    logs = first["run_logs"]
    print(
        f"run logs: {logs['failed_attempts']:,} failed attempts, {logs['archives']:,} archives → "
        f"{logs['api_requests']:,} API requests ({logs['api_redirects']:,} redirects) + "
        f"{logs['downloads']:,} signed downloads ({logs['downloads_with_token']} with the token)"
    )
    print(
        f"\nsecond sync (no changes): {second['requests']} requests for {second['stream_repository_pairs']} "
        f"stream × repository pairs, statuses {second['statuses']}, "
        f"{second['rate_limit_points']} rate-limit points"
    )


def run_features_benchmark(
    travistorrent: Path | None, runs: int = 1_000_000, json_path: Path | None = None
) -> dict[str, Any]:
    """Time the run-feature build on TravisTorrent (through the warehouse) and on synthetic runs."""
    from pipelines.features.benchmark import benchmark_frame, benchmark_run_features
    from pipelines.features.schemas import RUN_INPUT_SCHEMA, conform
    from warehouse.db import create_feature_inputs
    from warehouse.frames import read_relation
    from warehouse.travistorrent import load_travistorrent

    figures: dict[str, Any] = {}
    if travistorrent is not None:
        with tempfile.TemporaryDirectory() as tmp, connect(Path(tmp) / "warehouse.duckdb") as conn:
            started = time.perf_counter()
            load_travistorrent(conn, travistorrent)
            build_core(conn)
            create_feature_inputs(conn)
            inputs = conform(read_relation(conn, "features.run_inputs"), RUN_INPUT_SCHEMA)
            prepared = time.perf_counter() - started
        figures["travistorrent"] = {**benchmark_frame(inputs), "warehouse_seconds": round(prepared, 2)}
    figures["synthetic"] = {**benchmark_run_features(runs), "synthetic": True}
    for name, row in figures.items():
        print(
            f"{name:<14} {int(row['rows']):>10,} runs  {row['seconds']:7.2f} s  "
            f"peak {row['peak_rss_mib'] / 1024:5.2f} GiB  ({int(row['features'])} columns)"
        )
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(figures, indent=2), encoding="utf-8")
    return figures
