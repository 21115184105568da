"""``repopilot benchmark failure-text`` and ``failure-excerpt`` on small samples (no target asserted)."""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path

import jsonschema
import pytest

from actions.healing.classify import classify_failure
from pipelines.cli import main
from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parents[2]
KEYS = ("macro_f1", "retry_f1", "rules_macro_f1", "rules_retry_f1")


def _write_sample(path: Path, rows: list[dict[str, str]], fields: list[str]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


@pytest.fixture(scope="module")
def chunks() -> tuple[list[dict[str, str]], list[str]]:
    """A small real sample: a dozen repositories holding retryable chunks, plus permanent ones."""
    source = require_shared("failure-text/logchunks/labelled_chunks.csv")
    csv.field_size_limit(sys.maxsize)
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [row for row in reader if len(row["text"]) < 3_000]
    rng = random.Random(0)
    retry_sources = sorted({row["source"] for row in rows if row["label"] != "permanent"})
    other_sources = sorted({row["source"] for row in rows} - set(retry_sources))
    chosen = set(retry_sources) | set(rng.sample(other_sources, 6))
    return [row for row in rows if row["source"] in chosen][:100], fields


def _check_report(report: dict[str, object]) -> None:
    for key in KEYS:
        value = report[key]
        low, high = report[f"{key}_ci"]  # type: ignore[misc]
        assert isinstance(value, float) and 0.0 <= value <= 1.0
        assert 0.0 <= low <= high <= 1.0
    per_class = report["per_class"]
    assert isinstance(per_class, dict) and set(per_class) == {"transient", "dependency", "permanent"}
    matrix = report["confusion_matrix"]["rows_true_columns_predicted"]  # type: ignore[index]
    assert sum(map(sum, matrix)) == report["test_rows"]
    assert report["seconds"] > 0  # type: ignore[operator]


def test_grouped_cv_writes_figures_and_artefact(
    tmp_path: Path, chunks: tuple[list[dict[str, str]], list[str]], capsys: pytest.CaptureFixture[str]
) -> None:
    rows, fields = chunks
    data = tmp_path / "chunks.csv"
    _write_sample(data, rows, fields)
    out, model = tmp_path / "report.json", tmp_path / "failure_classifier.json"
    patterns = require_shared("failure-text/flakeranker-patterns/patterns.csv")
    argv = ["benchmark", "failure-text", "--data", str(data), "--patterns", str(patterns), "--folds", "2"]
    status = main([*argv, "--bootstrap", "50", "--json", str(out), "--model-out", str(model)])
    assert status == 0
    report = json.loads(out.read_text())
    _check_report(report)
    assert report["mode"] == "grouped_cv" and len(report["folds"]) == 2
    assert report["rules"]["flakeranker"] > 0
    assert "macro-F1" in capsys.readouterr().out
    artefact = json.loads(model.read_text())
    schema = json.loads((ROOT / "actions/schemas/failure_classifier.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(artefact)
    expected = "rules" if artefact["thresholds"]["combine"] == "rules" else "rules+model"
    assert classify_failure("Could not resolve host: github.com", artefact)["source"] == expected


def test_train_test_mode(tmp_path: Path, chunks: tuple[list[dict[str, str]], list[str]]) -> None:
    rows, fields = chunks
    sources = sorted({row["source"] for row in rows})
    held_out = set(sources[::3])
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _write_sample(train, [row for row in rows if row["source"] not in held_out], fields)
    _write_sample(test, [row for row in rows if row["source"] in held_out], fields)
    out = tmp_path / "report.json"
    argv = ["benchmark", "failure-text", "--train", str(train), "--test", str(test), "--bootstrap", "50"]
    assert main([*argv, "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    _check_report(report)
    assert report["mode"] == "train_test"


def test_bad_arguments_and_labels(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["benchmark", "failure-text"]) == 2
    assert "--train and --test" in capsys.readouterr().err
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\nboom,flaky\n")
    assert main(["benchmark", "failure-text", "--data", str(bad)]) == 2
    assert "flaky" in capsys.readouterr().err
    missing = tmp_path / "missing.csv"
    missing.write_text("message,kind\nboom,permanent\n")
    assert main(["benchmark", "failure-text", "--data", str(missing)]) == 2


def test_excerpt_benchmark_command(tmp_path: Path) -> None:
    root = require_shared("failure-text/cidiff-breakages")
    data = tmp_path / "cases"
    data.mkdir()
    (data / "spork_441").symlink_to(root / "spork_441")
    out = tmp_path / "excerpt.json"
    assert main(["benchmark", "failure-excerpt", "--data", str(data), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["cases"] == 1 and report["per_case"][0]["case"] == "spork_441"


def test_benchmark_on_synthetic_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Runs without the shared data: hand-written failure lines from seven made-up repositories."""
    from pipelines.ml import failure_text
    from tests.healing.test_classifier import synthetic_examples

    monkeypatch.setattr(failure_text, "GRID", ((1.0, 1.0), (4.0, 2.0)))  # a smoke test, not a search
    monkeypatch.setattr(failure_text, "TERM_SETS", ("all",))
    fields = ["source", "text", "label", "confidence"]
    rows = [
        {"source": e.source, "text": e.text, "label": e.label, "confidence": e.confidence}
        for e in synthetic_examples(90, seed=7)
    ]
    data = tmp_path / "synthetic.csv"
    _write_sample(data, rows, fields)
    out, model = tmp_path / "report.json", tmp_path / "model.json"
    argv = ["benchmark", "failure-text", "--data", str(data), "--folds", "3", "--bootstrap", "30"]
    assert main([*argv, "--json", str(out), "--model-out", str(model)]) == 0
    report = json.loads(out.read_text())
    _check_report(report)
    assert report["rules"]["flakeranker"] == 0
    artefact = json.loads(model.read_text())
    assert artefact["training"]["rows"] == 90
    train, test = tmp_path / "train.csv", tmp_path / "test.csv"
    _write_sample(train, [r for r in rows if r["source"] != "repo3"], fields)
    _write_sample(test, [r for r in rows if r["source"] == "repo3"], fields)
    assert (
        main(["benchmark", "failure-text", "--train", str(train), "--test", str(test), "--bootstrap", "30"])
        == 0
    )


def test_excerpt_benchmark_on_a_made_up_case(tmp_path: Path) -> None:
    case = tmp_path / "cases" / "made_up_1"
    case.mkdir(parents=True)
    lines = [f"[INFO] step {i}" for i in range(100)] + ["[ERROR] Failed to execute goal: compilation failure"]
    (case / "fail.log").write_text("\r\n".join([*lines, "[INFO] done"]))
    (case / "groundtruth").write_text("DEFAULT\nE 101\nC 100\n")
    out = tmp_path / "excerpt.json"
    assert main(["benchmark", "failure-excerpt", "--data", str(tmp_path / "cases"), "--json", str(out)]) == 0
    report = json.loads(out.read_text())
    assert report["per_case"][0]["hit"] is True
    assert report["hit_rate"] == 1.0
    assert main(["benchmark", "failure-excerpt", "--data", str(tmp_path)]) == 2  # no cases there
