"""`repopilot benchmark dashboard` prints and writes the render times of every page."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipelines.cli import main


def test_the_dashboard_benchmark_times_every_page(
    demo_home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPOPILOT_HOME", str(demo_home))
    out = tmp_path / "bench.json"
    assert main(["--home", str(demo_home), "benchmark", "dashboard", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    figures = json.loads(out.read_text(encoding="utf-8"))
    assert "first page, cold" in printed
    assert set(figures["pages_seconds"]) == {"ci", "routing", "maintenance", "sla", "model"}
    assert all(v > 0 for v in figures["pages_seconds"].values())
    assert figures["first_page_cold_seconds"] > 0 and figures["first_page_warm_median_seconds"] > 0
    every = {"overview", "ci", "routing", "maintenance", "sla", "model"}
    assert set(figures["pages_cold_queries_seconds"]) == every
    assert "opened, queries cold" in printed
    charts = figures["chart_data"]
    assert set(charts) == every and all(c["charts"] >= 1 and c["rows"] > 0 for c in charts.values())


def test_the_dashboard_benchmark_needs_a_warehouse(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--home", str(home), "benchmark", "dashboard"]) == 2
    assert "no warehouse" in capsys.readouterr().err
