"""The ingestion benchmark's figures, on the default sample organisation (the large one is `-m slow`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.benchmarks import run_ingest_benchmark
from pipelines.cli import main


def _check_targets(figures: dict[str, object]) -> None:
    first = figures["first_sync"]
    second = figures["second_sync"]
    assert isinstance(first, dict) and isinstance(second, dict)
    for stream, row in first["list_streams"].items():
        pages = row["requests"] if stream != "workflow_runs" else row["requests"] - row["detail_requests"]
        assert pages <= 1.1 * row["minimum_pages"], stream
    assert first["pull_request_subresource_requests_per_pull_request"] <= 0.1
    # Logs: one API request per failed attempt (a 302 when there is an archive), one download per
    # archive, never with the token; the no-change re-sync asks nothing about logs.
    logs = first["run_logs"]
    assert logs["archives"] > 0
    assert first["requests_by_stream"]["run_logs"] == logs["failed_attempts"] + logs["archives"]
    assert logs["api_requests"] == logs["failed_attempts"] and logs["api_redirects"] == logs["archives"]
    assert logs["downloads"] == logs["archives"] and logs["downloads_with_token"] == 0
    assert second["requests_by_stream"]["run_logs"] == 0
    assert second["requests"] <= second["stream_repository_pairs"]
    assert set(second["statuses"]) <= {"304"}
    assert second["rate_limit_points"] == 0


def test_default_scale_benchmark_meets_the_request_targets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "bench.json"
    assert main(["benchmark", "ingest", "--scale", "default", "--json", str(out)]) == 0
    figures = json.loads(out.read_text(encoding="utf-8"))
    _check_targets(figures)
    assert figures["organisation"]["synthetic"] is True
    printed = capsys.readouterr().out
    assert "SYNTHETIC" in printed and "second sync (no changes)" in printed


@pytest.mark.slow
def test_benchmark_scale_meets_the_request_targets() -> None:
    figures = run_ingest_benchmark(scale="benchmark")
    assert figures["organisation"]["pull_requests"] >= 10_000
    assert figures["organisation"]["workflow_runs"] >= 50_000
    _check_targets(figures)
