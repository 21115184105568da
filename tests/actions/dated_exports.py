"""Exports with a chosen ``generated_at``, for the tests of how actions treat stale exports."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl

from pipelines.exports.documents import scores_document
from pipelines.exports.writer import SourceInfo, write_exports

MISSING = object()
"""For :func:`restamp`: remove ``generated_at`` from the manifest."""


def dated_exports(
    target: Path,
    generated_at: datetime,
    repositories: tuple[str, ...],
    documents: Mapping[str, Mapping[str, Any]] | None = None,
    data_as_of: object = MISSING,
) -> Path:
    """A verified exports folder the pipeline's writer made at ``generated_at``; returns it.

    ``data_as_of`` is the newest event of their data (default: ``generated_at``, data fresh).
    """
    newest = generated_at if data_as_of is MISSING else data_as_of
    assert newest is None or isinstance(newest, datetime)
    return write_exports(
        target,
        models_dir=None,
        source=SourceInfo("sample", True, newest, repositories),
        documents=documents or {},
        scores=lambda models: scores_document(pl.DataFrame(), models, generated_at=generated_at),
        generated_at=generated_at,
    ).root


def restamp(folder: Path, generated_at: object) -> Path:
    """Rewrite the manifest's ``generated_at`` (a datetime, any JSON value, or :data:`MISSING`)."""
    path = folder / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if generated_at is MISSING:
        del manifest["generated_at"]
    elif isinstance(generated_at, datetime):
        manifest["generated_at"] = generated_at.isoformat().replace("+00:00", "Z")
    else:
        manifest["generated_at"] = generated_at
    path.write_text(json.dumps(manifest, indent=2), encoding="utf-8")
    return folder


def step_output(path: Path, name: str) -> str:
    """The last value of a step output (the multi-line form ``write_outputs`` uses)."""
    values = re.findall(rf"^{name}<<(\S+)\n(.*?)\n\1$", path.read_text(encoding="utf-8"), flags=re.M | re.S)
    assert values, name
    return str(values[-1][1])
