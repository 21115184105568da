"""Writing ``$REPOPILOT_HOME/exports``: models, feature specification, scores and features for actions.

The folder is assembled next to its final place, checked exactly as an action will check it
(:func:`actions.common.exports.verify`: manifest, schema version, checksums, JSON Schemas), and
only then swapped in, so a reader never sees half an export and a failed export leaves the
previous one in place. The run scores are computed from the exported files themselves, by the
code the predict action runs, so they are what an action would compute.
"""

from __future__ import annotations

import json
import shutil
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from actions.common.exports import MANIFEST, Exports, sha256_of, verify
from actions.common.schemas import SCHEMA_VERSION, problems
from actions.prediction.model import MODEL_FILES, ExportedModels
from pipelines.exports.documents import iso

MODEL_METRICS: dict[str, tuple[str, str]] = {
    "roc_auc": ("failure", "roc_auc"),
    "pr_auc": ("failure", "pr_auc"),
    "balanced_accuracy": ("failure", "balanced_accuracy"),
    "ece": ("failure", "ece"),
    "duration_mae": ("duration", "mae"),
    "duration_baseline_mae": ("duration", "baseline_mae"),
    "interval_coverage": ("duration", "interval_coverage"),
}
"""Manifest metric name → where it is in the model report."""


@dataclass(frozen=True)
class SourceInfo:
    """Where the exported knowledge came from (the manifest's ``source``)."""

    kind: str
    synthetic: bool
    data_as_of: datetime | None
    repositories: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """The manifest form."""
        return {
            "kind": self.kind,
            "synthetic": self.synthetic,
            "data_as_of": iso(self.data_as_of),
            "repositories": list(self.repositories),
        }


def _write_json(path: Path, document: Mapping[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=1, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8")


def _metrics(report: Mapping[str, Any]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for name, (section, key) in MODEL_METRICS.items():
        value = report.get(section, {}).get(key)
        out[name] = None if value is None else float(value)
    return out


class _Folder:
    """An exports folder being assembled: files with their manifest entries."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files: dict[str, dict[str, Any]] = {}

    def add_json(self, name: str, document: Mapping[str, Any]) -> None:
        found = problems(name, document)
        if found:
            raise ValueError(f"export {name} breaks its schema: " + "; ".join(found[:5]))
        path = self.root / f"{name}.json"
        _write_json(path, document)
        self.files[name] = {
            "path": path.name,
            "sha256": sha256_of(path),
            "bytes": path.stat().st_size,
            "schema": name,
        }

    def add_copy(self, name: str, source: Path, relative: str) -> None:
        path = self.root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, path)
        self.files[name] = {"path": relative, "sha256": sha256_of(path), "bytes": path.stat().st_size}

    def seal(self, source: SourceInfo, model: dict[str, Any] | None, generated_at: datetime) -> Exports:
        manifest = {
            "schema_version": SCHEMA_VERSION,
            "generated_at": iso(generated_at),
            "source": source.to_dict(),
            "model": model,
            "files": dict(sorted(self.files.items())),
        }
        _write_json(self.root / MANIFEST, manifest)
        return verify(self.root)


def write_exports(
    target: Path,
    *,
    models_dir: Path | None,
    source: SourceInfo,
    documents: Mapping[str, Mapping[str, Any]],
    scores: Callable[[ExportedModels | None], Mapping[str, Any]],
    generated_at: datetime,
) -> Exports:
    """Write a complete, verified exports folder at ``target``, replacing the previous one.

    Args:
        target: the exports folder (``$REPOPILOT_HOME/exports``).
        models_dir: the models in service (``models/current``), or None when none was promoted.
        source: where the data came from.
        documents: export name → JSON document (``reviewers``, ``activity``, ...).
        scores: builds the ``scores`` document from the exported models.
        generated_at: when the exports are made.

    Returns:
        The verified exports, at ``target``.

    Raises:
        ValueError: if a document breaks its schema (the previous exports stay in place).
        OSError: if the new folder cannot be swapped in (the previous exports are put back).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    previous = target.with_name(f"{target.name}.previous")
    if not target.exists() and previous.is_dir():
        # a run stopped between the two renames below: the previous exports are the valid ones
        previous.rename(target)
    # mkdir, not mkdtemp: mkdtemp makes the folder private (0700) and the swap would keep that
    staging = target.parent / f".exports-{uuid.uuid4().hex}"
    staging.mkdir()
    try:
        folder = _Folder(staging)
        model: dict[str, Any] | None = None
        models: ExportedModels | None = None
        if models_dir is not None and (models_dir / "feature_spec.json").is_file():
            report = json.loads((models_dir / "report.json").read_text(encoding="utf-8"))
            spec = json.loads((models_dir / "feature_spec.json").read_text(encoding="utf-8"))
            folder.add_json("feature_spec", spec)
            for name, filename in MODEL_FILES.items():
                folder.add_copy(name, models_dir / filename, f"models/{filename}")
            model = {"version": str(spec["model_version"]), "metrics": _metrics(report)}
            models = ExportedModels.load(folder.seal(source, model, generated_at))
        for name, document in documents.items():
            folder.add_json(name, document)
        folder.add_json("scores", scores(models))
        folder.seal(source, model, generated_at)
        shutil.rmtree(previous, ignore_errors=True)
        if target.exists():
            target.rename(previous)
        try:
            staging.rename(target)
        except OSError:
            if previous.is_dir() and not target.exists():
                previous.rename(target)
            raise
        shutil.rmtree(previous, ignore_errors=True)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return verify(target)
