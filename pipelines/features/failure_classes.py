"""Failure classes: each failed attempt's class from its log excerpt, with the lines that decided it.

The input is one row per failed attempt with the failure excerpt the ``run_logs`` stream kept
(``warehouse/sql/features/failure_inputs.sql``). Each excerpt goes through the self-healing
action's own classifier, :func:`actions.healing.classify.classify_failure` (its curated rules;
the trained text model is a product of the models stage, which runs after the features), so
the dashboard shows the classes the action would act on. The lines the classifier matched are
kept as the reason, each with where it sits in the log (``job:line``) when it is one of the
excerpt's lines.

Each classified excerpt also gets its failure signature
(:func:`actions.healing.signatures.signature`, the function the heal action applies to the
excerpt it reads): the same failure in different builds has the same signature, so the exports can
say how often a failure recurred (``exports/failure_signatures.sql``).

Attempts without an excerpt (logs expired, not read yet, too large, corrupt) keep their row with
a null class, so the share of unexplained failures stays visible.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from actions.healing.classify import classify_failure
from actions.healing.signatures import signature
from pipelines.features.frames import as_utc, require_columns
from pipelines.features.schemas import UTC_TIME

FAILURE_CLASSES = ("transient", "dependency", "permanent")

INPUT_COLUMNS = (
    "repo",
    "run_id",
    "run_attempt",
    "workflow_name",
    "conclusion",
    "created_at",
    "log_status",
    "lines",
    "line_refs",
)

FAILURE_CLASS_SCHEMA: dict[str, pl.DataType] = {
    "repo": pl.String(),
    "run_id": pl.Int64(),
    "run_attempt": pl.Int32(),
    "workflow_name": pl.String(),
    "conclusion": pl.String(),
    "created_at": UTC_TIME,
    "log_status": pl.String(),
    "failure_class": pl.String(),
    "confidence": pl.Float64(),
    "retryable": pl.Boolean(),
    "reason": pl.String(),
    "reason_lines": pl.List(pl.String()),
    "reason_line_refs": pl.List(pl.String()),
    "matched_rules": pl.List(pl.String()),
    "classifier": pl.String(),
    "signature": pl.String(),
}
"""Columns of ``features.failure_classes``."""

Classifier = Callable[[str], dict[str, Any]]


def _classify(lines: list[str], refs: list[str], classify: Classifier) -> dict[str, Any]:
    excerpt = "\n".join(lines)
    result = classify(excerpt)
    where: dict[str, str] = {}
    for text, ref in zip(lines, refs, strict=False):
        where.setdefault(text.strip(), ref)
    matched = [str(line) for line in result.get("matched_lines", [])]
    return {
        "failure_class": str(result["category"]),
        "confidence": float(result["confidence"]),
        "retryable": bool(result["retryable"]),
        "reason": str(result.get("reason", "")),
        "reason_lines": matched,
        "reason_line_refs": [where.get(line.strip()) for line in matched],
        "matched_rules": list(dict.fromkeys(str(name) for name in result.get("matched_rules", []))),
        "classifier": str(result.get("source", "")),
        "signature": signature(excerpt),
    }


_UNCLASSIFIED: dict[str, Any] = {
    "failure_class": None,
    "confidence": None,
    "retryable": None,
    "reason": None,
    "reason_lines": [],
    "reason_line_refs": [],
    "matched_rules": [],
    "classifier": None,
    "signature": None,
}


def failure_classes(inputs: pl.DataFrame, classify: Classifier = classify_failure) -> pl.DataFrame:
    """One row per failed attempt: its class, the classifier's confidence, and the reason lines.

    Args:
        inputs: the failed attempts with their excerpts (columns :data:`INPUT_COLUMNS`).
        classify: the classifier; :func:`classify_failure` with its curated rules by default.

    Raises:
        ValueError: when ``inputs`` lacks a column.
    """
    require_columns(inputs, "failure inputs", INPUT_COLUMNS)
    rows: list[dict[str, Any]] = []
    for row in as_utc(inputs.select(INPUT_COLUMNS), "created_at").iter_rows(named=True):
        lines = [str(line) for line in row["lines"] or []]
        decided = (
            _classify(lines, [str(r) for r in row["line_refs"] or []], classify)
            if row["log_status"] == "excerpt" and any(line.strip() for line in lines)
            else _UNCLASSIFIED
        )
        rows.append({key: row[key] for key in INPUT_COLUMNS[:7]} | decided)
    frame = pl.DataFrame(rows, schema=FAILURE_CLASS_SCHEMA)
    return frame.sort("repo", "created_at", "run_id", "run_attempt")
