"""The notebooks run top to bottom (jupytext → nbclient, a real kernel) on the demo warehouse."""

from __future__ import annotations

import os
import re
from pathlib import Path

import duckdb
import jupytext
import pytest
from nbclient import NotebookClient

from tests.conftest import shared_data_dir

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"

EXPECTED = {
    "ci_history": [r"completed runs over \d+ weeks; success rate \d+\.\d%"],
    "failure_model": [r"\d+ test runs \(report: \d+\)", r"ECE recomputed"],
    "routing": [r"changes \d+ files; top candidates"],
    "maintenance": [r"starts_at"],
}

REAL_DATA = {
    "ci_history": ("travistorrent/builds.parquet", r"TravisTorrent: .+: [\d,]+ builds, success rate"),
    "maintenance": ("pullreqs/pullreqs.parquet", r"[\d,]+ pull requests; quietest 2-hour windows"),
}


def _run(name: str) -> str:
    notebook = jupytext.read(NOTEBOOKS / f"{name}.py")
    client = NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(NOTEBOOKS)}}
    )
    client.execute()
    texts = []
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            texts.append(output.get("text", ""))
            texts.append(output.get("data", {}).get("text/plain", ""))
    return "\n".join(texts)


def test_every_notebook_is_a_percent_script_that_imports_the_project() -> None:
    found = sorted(p.stem for p in NOTEBOOKS.glob("*.py"))
    assert found == sorted(EXPECTED)
    for name in found:
        text = (NOTEBOOKS / f"{name}.py").read_text(encoding="utf-8")
        assert "format_name: percent" in text and "# %%" in text
        assert re.search(r"^from (dashboards|pipelines|warehouse)\b", text, re.M), name


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_notebook_runs_on_the_demo_warehouse(
    name: str, demo_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("REPOPILOT_HOME", str(demo_home))
    monkeypatch.setenv("REPOPILOT_SHARED_DATA", str(shared_data_dir()))
    output = _run(name)
    assert "SYNTHETIC" in output
    for pattern in EXPECTED[name]:
        assert re.search(pattern, output), (pattern, output[-2000:])
    if name == "failure_model":
        # Re-scoring the saved model on the same test window reproduces the report's figures.
        rows = re.search(r"(\d+) test runs \(report: (\d+)\)", output)
        assert rows is not None and rows.group(1) == rows.group(2)
        for metric in ("ECE", "ROC-AUC"):
            found = re.search(rf"{metric} recomputed (\d\.\d+); reported (\d\.\d+)", output)
            assert found is not None and found.group(1) == found.group(2), metric
    if name == "routing":
        # The example is the most recently opened pull request with files, not the highest number.
        with duckdb.connect(str(demo_home / "warehouse.duckdb"), read_only=True) as conn:
            repo, number = conn.execute(
                "SELECT p.repo, p.number FROM core.pull_requests AS p WHERE EXISTS (SELECT 1 FROM "
                "core.pr_files AS f WHERE f.repo = p.repo AND f.pull_number = p.number) "
                "ORDER BY p.created_at DESC LIMIT 1"
            ).fetchall()[0]
        assert f"{repo}#{number} (opened " in output, output[-2000:]
    if name in REAL_DATA:
        relative, pattern = REAL_DATA[name]
        present = (shared_data_dir() / relative).exists()
        if present:
            assert re.search(pattern, output), output[-2000:]
        else:
            assert "skipping the real-data section" in output
            if os.environ.get("REQUIRE_SHARED_DATA") == "1":
                pytest.fail(f"shared data not found: {shared_data_dir() / relative}")
