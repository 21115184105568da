"""The trained failure classifier kept between its training and the exports (``failure_classifier.json``).

The ``failure_classifier`` asset trains it from labelled failure text (LogChunks' columns, see
:func:`pipelines.ml.failure_text.read_labelled`) and FlakeRanker's ``patterns.csv`` when both are
configured, and keeps it at ``$REPOPILOT_HOME/models/failure_classifier.json``; the exports carry it
as ``failure_classifier``, where the heal action reads it instead of the rules alone.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from actions.common.schemas import problems
from pipelines.ml.failure_text import train_failure_classifier, write_artefact

EXPORT_NAME = "failure_classifier"
"""The export's name (its schema is ``actions/schemas/failure_classifier.schema.json``)."""


def classifier_path(home: Path) -> Path:
    """Where the trained classifier waits for the exports."""
    return home / "models" / f"{EXPORT_NAME}.json"


def train_and_keep(home: Path, labelled: Path, patterns: Path | None) -> dict[str, Any]:
    """Train on ``labelled`` (and FlakeRanker's ``patterns``), check it, then replace the kept one.

    Raises:
        ValueError: the CSV or the patterns cannot be read or are malformed, or the artefact breaks
            its schema; the classifier kept before (and so the exports) stay as they were.
    """
    for path in (labelled, patterns):
        if path is not None and not path.is_file():
            raise ValueError(f"{path}: no such file")
    try:
        artefact = train_failure_classifier(labelled, patterns)
    except UnicodeDecodeError as error:
        raise ValueError(f"{labelled}: not UTF-8 text ({error.reason})") from None
    found = problems(EXPORT_NAME, artefact)
    if found:
        raise ValueError("the trained classifier breaks its schema: " + "; ".join(found[:5]))
    target = classifier_path(home)
    staging = target.with_name(f".{target.name}.new")
    write_artefact(artefact, staging)
    os.replace(staging, target)  # atomic: the exports never read half a classifier
    return artefact


def forget(home: Path) -> bool:
    """Drop the kept classifier (training is no longer configured); whether there was one."""
    path = classifier_path(home)
    existed = path.is_file()
    path.unlink(missing_ok=True)
    return existed


def kept_classifier(home: Path) -> dict[str, Any] | None:
    """The classifier to export, or None when none was trained (heal then uses its rules)."""
    path = classifier_path(home)
    if not path.is_file():
        return None
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document
