"""The demo: `repopilot run` on the default source (the synthetic sample organisation)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from pipelines.cli import main
from pipelines.ml.evidence import evidence_shortfall

# each test runs the whole pipeline (twice): minutes on a busy machine
pytestmark = pytest.mark.timeout(900)


def test_demo_materialises_the_sample_org_and_labels_it_synthetic(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("REPOPILOT_REPOS", raising=False)
    monkeypatch.delenv("REPOPILOT_SOURCE", raising=False)
    assert main(["--home", str(home), "run"]) == 0
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        counts = dict(
            conn.execute(
                "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'core'"
            ).fetchall()
        )
        synthetic = conn.execute("SELECT bool_and(synthetic), count(*) FROM raw.sources").fetchone()
        failing = conn.execute(
            "SELECT count(*) FROM core.ci_runs WHERE conclusion = 'failure' AND run_attempt > 1"
        ).fetchone()
        bots = conn.execute("SELECT count(*) FROM core.pull_requests WHERE author_is_bot").fetchone()
    assert all(
        counts[t] > 0 for t in ("pull_requests", "reviews", "pr_files", "ci_runs", "ci_jobs", "issues")
    )
    assert synthetic == (True, 4)
    assert failing is not None and bots is not None and bots[0] > 0
    # the demo's test window holds the evidence the promotion gate asks for (419 attempt groups)
    candidate = json.loads((home / "models" / "candidate" / "report.json").read_text(encoding="utf-8"))
    assert evidence_shortfall(candidate) is None, evidence_shortfall(candidate)
    # A second run ingests nothing new and changes no count.
    assert main(["--home", str(home), "run"]) == 0
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        again = dict(
            conn.execute(
                "SELECT table_name, estimated_size FROM duckdb_tables() WHERE schema_name = 'core'"
            ).fetchall()
        )
    assert again == counts


def test_a_candidate_worse_than_the_current_model_is_not_promoted(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    monkeypatch.delenv("REPOPILOT_REPOS", raising=False)
    assert main(["--home", str(home), "run"]) == 0
    current = home / "models" / "current" / "report.json"
    if not current.exists():  # the demo's own candidate may already have been refused
        assert "not promoted: promotion_gate" in capsys.readouterr().out
        return
    capsys.readouterr()
    report = json.loads(current.read_text(encoding="utf-8"))
    assert "versus_current" not in report  # the demo's first model met no model in service
    # A feature renamed since the current model was trained: it cannot score the new candidate's
    # rows, so the gate falls back to its stored figure (made better than any candidate can beat).
    spec_path = home / "models" / "current" / "feature_spec.json"
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    names = spec["features"]["names"]
    names[names.index("duration_median5")] = "median_duration_last5"
    spec_path.write_text(json.dumps(spec), encoding="utf-8")
    report["failure"]["roc_auc"] = min(1.0, report["failure"]["roc_auc"] + 0.2)
    current.write_text(json.dumps(report), encoding="utf-8")
    assert main(["--home", str(home), "run", "--select", "key:candidate_models+"]) == 0
    out = capsys.readouterr().out
    assert "not promoted: promotion_gate on candidate_models" in out
    assert "roc_auc fell by" in out and "different test window" in out and "median_duration_last5" in out
    assert json.loads(current.read_text(encoding="utf-8")) == report  # the current model stayed
