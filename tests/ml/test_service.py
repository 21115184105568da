"""Promotion swaps the models in service; an interrupted swap leaves the previous models in service."""

from __future__ import annotations

from pathlib import Path

from pipelines.ml.service import models_in_service, promote


def _models(root: Path, **versions: str) -> Path:
    for name, version in versions.items():
        (root / name).mkdir(parents=True)
        (root / name / "report.json").write_text(version, encoding="utf-8")
    return root


def _version(folder: Path | None) -> str | None:
    return (folder / "report.json").read_text(encoding="utf-8") if folder else None


def test_promotion_keeps_the_replaced_models_as_previous(tmp_path: Path) -> None:
    models = _models(tmp_path / "models", candidate="v2", current="v1")
    assert _version(promote(models)) == "v2"
    assert _version(models / "previous") == "v1"
    assert not (models / "promoting").exists()


def test_the_first_promotion_and_no_models_at_all(tmp_path: Path) -> None:
    models = _models(tmp_path / "models", candidate="v1")
    assert models_in_service(models) is None
    assert _version(promote(models)) == "v1" and not (models / "previous").exists()


def test_a_promotion_stopped_between_its_renames_leaves_the_previous_models_in_service(
    tmp_path: Path,
) -> None:
    # killed after moving current aside, before moving the candidate's copy in
    models = _models(tmp_path / "models", candidate="v3", previous="v2", promoting="v3")
    assert _version(models_in_service(models)) == "v2"  # what the exports then read
    assert _version(promote(models)) == "v3"
    assert _version(models / "previous") == "v2"
