"""``repopilot benchmark failure-text`` and ``failure-excerpt`` on small samples (no target asserted)."""

from __future__ import annotations

import csv
import json
import random
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from sklearn.metrics import f1_score

from actions.healing.classify import classify_failure, excerpt_of
from actions.healing.rules import (
    CATEGORIES,
    CURATED_RULES,
    decide_by_rules,
    load_flakeranker_rules,
    match_rules,
)
from pipelines.cli import main
from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parents[2]
KEYS = (
    "macro_f1",
    "retry_f1",
    "rules_macro_f1",
    "rules_retry_f1",
    "curated_rules_macro_f1",
    "curated_rules_retry_f1",
)


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
    for prefix in ("", "rules_", "curated_rules_"):
        matrix = report[f"{prefix}confusion_matrix"]["rows_true_columns_predicted"]  # type: ignore[index]
        assert sum(map(sum, matrix)) == report["test_rows"]
    matrix = report["confusion_matrix"]["rows_true_columns_predicted"]  # type: ignore[index]
    errors = report["model_errors_by_group"]
    assert sum(errors.values()) == report["test_rows"] - sum(matrix[i][i] for i in range(3))  # type: ignore[union-attr]
    for baseline in ("", "curated_rules_"):
        for metric in ("macro_f1", "retry_f1"):
            delta = report[f"delta_{baseline}{metric}"]
            reference = report[f"{baseline or 'rules_'}{metric}"]
            assert delta == pytest.approx(report[metric] - reference)  # type: ignore[operator]
    assert report["seconds"] > 0  # type: ignore[operator]
    _check_persistence(report)


def _check_persistence(report: dict[str, Any]) -> None:
    """The persistence policy only turns transient predictions permanent, as many as it reports."""
    persistence = report["persistence"]
    assert set(persistence["chosen"]) <= {None, 1, 2, 3}
    assert [fold["persistent_after"] for fold in report["folds"]] == persistence["chosen"]
    with_ = report["confusion_matrix"]["rows_true_columns_predicted"]
    without = report["without_persistence_confusion_matrix"]["rows_true_columns_predicted"]
    moved = [with_[row][2] - without[row][2] for row in range(3)]
    assert [with_[row][1] for row in range(3)] == [without[row][1] for row in range(3)]
    assert [without[row][0] - with_[row][0] for row in range(3)] == moved and min(moved) >= 0
    assert sum(moved) == persistence["changed"] and moved[2] == persistence["changed_to_correct"]
    assert 0.0 <= report["without_persistence_macro_f1"] <= 1.0
    rules_with = report["curated_rules_with_persistence_confusion_matrix"]["rows_true_columns_predicted"]
    rules = report["curated_rules_confusion_matrix"]["rows_true_columns_predicted"]
    assert [rules_with[row][1] for row in range(3)] == [rules[row][1] for row in range(3)]
    assert all(rules_with[row][2] >= rules[row][2] for row in range(3))


def test_grouped_cv_writes_figures_and_artefact(
    tmp_path: Path,
    chunks: tuple[list[dict[str, str]], list[str]],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pipelines.ml import failure_text

    monkeypatch.setattr(failure_text, "GRID", ((0.25, 2.0), (4.0, 0.5)))  # the search, not its full size
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
    assert report["persistence"]["order"] == "build id from the log column"
    assert report["rules"]["flakeranker"] > 0
    assert "macro-F1" in capsys.readouterr().out
    artefact = json.loads(model.read_text())
    schema = json.loads((ROOT / "actions/schemas/failure_classifier.schema.json").read_text())
    jsonschema.Draft202012Validator(schema).validate(artefact)
    expected = "rules" if artefact["thresholds"]["combine"] == "rules" else "rules+model"
    assert classify_failure("Could not resolve host: github.com", artefact)["source"] == expected
    _check_baselines(report, rows, patterns)


def _check_baselines(report: dict[str, Any], rows: list[dict[str, str]], patterns: Path) -> None:
    """The baselines' figures, recomputed here with scikit-learn from the rules themselves."""
    flakeranker, _ = load_flakeranker_rules(patterns)
    labels = [row["label"] for row in rows]
    for name, rules in (("rules", flakeranker), ("curated_rules", [*CURATED_RULES, *flakeranker])):
        said = [decide_by_rules(match_rules(excerpt_of(row["text"])[0], rules)) for row in rows]
        macro = f1_score(labels, said, labels=list(CATEGORIES), average="macro", zero_division=0)
        retry = f1_score(
            [label != "permanent" for label in labels], [s != "permanent" for s in said], zero_division=0
        )
        assert report[f"{name}_macro_f1"] == pytest.approx(macro, abs=1e-12)
        assert report[f"{name}_retry_f1"] == pytest.approx(retry, abs=1e-12)
    # FlakeRanker's patterns hardly fire on Travis chunks; the shipped set does.
    assert report["curated_rules_retry_f1"] > report["rules_retry_f1"]


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
    assert report["persistence"]["order"].startswith("row order")
    # No patterns.csv: FlakeRanker's baseline has no rule, so it calls everything permanent.
    y = [row["label"] for row in rows]
    assert report["rules_confusion_matrix"]["rows_true_columns_predicted"] == [
        [0, 0, y.count(category)] for category in CATEGORIES
    ]
    all_permanent = f1_score(
        y, ["permanent"] * len(y), labels=list(CATEGORIES), average="macro", zero_division=0
    )
    assert report["rules_macro_f1"] == pytest.approx(all_permanent) and report["rules_retry_f1"] == 0.0
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


def test_model_without_rules_on_synthetic_csv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``--model-rules none``: the model reads the text alone and its artefact carries no rule."""
    from pipelines.ml import failure_text
    from tests.healing.test_classifier import synthetic_examples

    monkeypatch.setattr(failure_text, "GRID", ((4.0, 1.0),))
    monkeypatch.setattr(failure_text, "TERM_SETS", ("all",))
    rows = [
        {"source": e.source, "text": e.text, "label": e.label, "confidence": e.confidence}
        for e in synthetic_examples(70, seed=8)
    ]
    data = tmp_path / "synthetic.csv"
    _write_sample(data, rows, ["source", "text", "label", "confidence"])
    out, model = tmp_path / "report.json", tmp_path / "model.json"
    argv = ["benchmark", "failure-text", "--data", str(data), "--folds", "3", "--bootstrap", "20"]
    assert (
        main([*argv, "--model-rules", "none", "--seed", "3", "--json", str(out), "--model-out", str(model)])
        == 0
    )
    report = json.loads(out.read_text())
    _check_report(report)
    assert report["model_rules"] == "none" and report["seed"] == 3
    assert report["rules"]["curated"] == 0 and report["rules"]["flakeranker"] == 0
    # The curated baseline does not depend on what the model reads.
    assert report["curated_rules_per_class"]["transient"]["recall"] > 0
    artefact = json.loads(model.read_text())
    assert artefact["rules"] == [] and artefact["training"]["model_rules"] == "none"
    assert not any(term.startswith("r:") for term in artefact["vocabulary"])
    with pytest.raises(SystemExit):
        main([*argv, "--model-rules", "some"])
