"""The failure_classifier asset: trained from labelled failure text when configured, kept for the exports."""

from __future__ import annotations

from pathlib import Path

import pytest
from dagster import DagsterInstance, materialize

from actions.common.schemas import problems
from actions.healing.classify import check_artefact
from pipelines import definitions
from pipelines.defs.models import failure_classifier
from pipelines.defs.resources import (
    FAILURE_PATTERNS_ENV,
    FAILURE_TEXT_ENV,
    FailureTextResource,
    WarehouseResource,
)
from pipelines.exports.classifier import classifier_path
from pipelines.ml.failure_text import train_failure_classifier, write_artefact
from tests.conftest import require_shared
from tests.healing.labelled_text import write_labelled


def _materialize(home: Path, labelled: str, patterns: str = "") -> object:
    return materialize(
        [failure_classifier],
        resources={
            "warehouse": WarehouseResource(home=str(home)),
            "failure_text": FailureTextResource(labelled=labelled, patterns=patterns),
        },
        instance=DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def _metadata(result: object) -> dict[str, object]:
    [event] = result.get_asset_materialization_events()  # type: ignore[attr-defined]
    return {key: getattr(value, "value", value) for key, value in event.materialization.metadata.items()}


def test_trains_a_classifier_that_validates_and_reports_its_training(tmp_path: Path) -> None:
    home = tmp_path / "home"
    result = _materialize(home, str(write_labelled(tmp_path / "labelled.csv")))
    assert result.success  # type: ignore[attr-defined]
    metadata = _metadata(result)
    assert metadata["configured"] is True
    assert (metadata["dagster/row_count"], metadata["repositories"]) == (36, 6)
    assert metadata["label_counts"] == {"transient": 12, "dependency": 12, "permanent": 12}
    assert metadata["inner_cv_choice"]["combine"] in {"model", "rules_first", "both", "rules"}  # type: ignore[index]
    assert metadata["rules"] == {"curated": metadata["rules_total"], "flakeranker": 0}
    import json

    artefact = json.loads(classifier_path(home).read_text(encoding="utf-8"))
    assert problems("failure_classifier", artefact) == []
    check_artefact(artefact)
    assert artefact["training"]["rows"] == 36 and "coefficients" in artefact


def test_unset_trains_nothing_and_drops_a_classifier_kept_before(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert _materialize(home, str(write_labelled(tmp_path / "labelled.csv"))).success  # type: ignore[attr-defined]
    assert classifier_path(home).is_file()
    result = _materialize(home, "")
    assert result.success  # type: ignore[attr-defined]
    assert _metadata(result) == {"configured": False, "dropped_previous": True}
    assert not classifier_path(home).exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("text,label\nConnection reset,flaky\n", "label 'flaky' is not one of"),
        ("text,category\nConnection reset,transient\n", "needs the columns text and label"),
        ("text,label\n", "no rows"),
    ],
)
def test_a_malformed_csv_fails_clearly_and_keeps_the_classifier(
    tmp_path: Path, content: str, message: str
) -> None:
    home = tmp_path / "home"
    write_artefact(train_failure_classifier(None), classifier_path(home))  # the rules alone: quick
    kept = classifier_path(home).read_bytes()
    bad = tmp_path / "bad.csv"
    bad.write_text(content, encoding="utf-8")
    result = _materialize(home, str(bad))
    assert not result.success  # type: ignore[attr-defined]
    [failure] = [e for e in result.all_events if e.is_step_failure]  # type: ignore[attr-defined]
    assert message in str(failure.step_failure_data.error.message)
    assert classifier_path(home).read_bytes() == kept


def test_a_missing_file_fails_clearly(tmp_path: Path) -> None:
    result = _materialize(tmp_path / "home", str(tmp_path / "nowhere.csv"))
    [failure] = [e for e in result.all_events if e.is_step_failure]  # type: ignore[attr-defined]
    assert "nowhere.csv: no such file" in str(failure.step_failure_data.error.message)


def test_the_failure_text_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(FAILURE_TEXT_ENV, str(tmp_path / "labelled.csv"))
    monkeypatch.setenv(FAILURE_PATTERNS_ENV, str(tmp_path / "patterns.csv"))
    resource = definitions.build_definitions().resources["failure_text"]
    assert isinstance(resource, FailureTextResource)
    assert (resource.labelled_path(), resource.patterns_path()) == (
        tmp_path / "labelled.csv",
        tmp_path / "patterns.csv",
    )
    monkeypatch.delenv(FAILURE_TEXT_ENV)
    monkeypatch.delenv(FAILURE_PATTERNS_ENV)
    unset = definitions.build_definitions().resources["failure_text"]
    assert isinstance(unset, FailureTextResource) and unset.labelled_path() is None


@pytest.mark.slow  # about 20 s: 668 rows, the whole inner cross-validation grid
def test_trains_on_logchunks_with_flakeranker_patterns(tmp_path: Path) -> None:
    labelled = require_shared("failure-text/logchunks/labelled_chunks.csv")
    patterns = require_shared("failure-text/flakeranker-patterns/patterns.csv")
    result = _materialize(tmp_path / "home", str(labelled), str(patterns))
    assert result.success  # type: ignore[attr-defined]
    metadata = _metadata(result)
    assert metadata["dagster/row_count"] == 668
    assert metadata["rules"]["flakeranker"] > 0  # type: ignore[index]
    assert set(metadata["label_counts"]) == {"transient", "dependency", "permanent"}  # type: ignore[arg-type]
