"""The JSON documents of the exports, built from the warehouse's feature tables.

Each document has a JSON Schema in ``actions/schemas`` (checked when the exports are written and
again when an action reads them). Timestamps are ISO 8601 in UTC.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl

from actions.common.schemas import SCHEMA_VERSION
from actions.maintenance.windows import HOURS_PER_WEEK, organisation_template
from actions.prediction.model import ExportedModels

SCORE_FACTORS = 3
"""Factors kept per scored run (the predict action gives the full explanation live)."""

ACTIVITY_SIGNALS: tuple[str, ...] = (
    "active_users",
    "workflow_runs",
    "pr_merges",
    "issue_activity",
    "impact_score",
)


def iso(value: datetime | None) -> str | None:
    """``value`` as an ISO 8601 UTC string ending in ``Z`` (None stays None)."""
    if value is None:
        return None
    text = value.isoformat().replace("+00:00", "Z")
    return text if text.endswith("Z") else f"{text}Z"


def scores_document(
    runs: pl.DataFrame, models: ExportedModels | None, *, generated_at: datetime
) -> dict[str, Any]:
    """The risk and duration of recent runs, scored by the exported models.

    Args:
        runs: rows of ``features.run_features`` with ``branch`` and ``head_sha`` (see
            ``warehouse/sql/exports/recent_runs.sql``).
        models: the exported models; without them the document lists no runs.
        generated_at: when the exports are made.
    """
    rows = runs.to_dicts() if models is not None else []
    predictions = models.predict(rows, top=SCORE_FACTORS) if models is not None and rows else []
    scored = []
    for row, result in zip(rows, predictions, strict=True):
        scored.append(
            {
                "repo": row["repo"],
                "run_id": int(row["id"]),
                "run_attempt": int(row["run_attempt"]),
                "workflow": row["workflow"],
                "branch": row["branch"],
                "head_sha": row["head_sha"],
                "created_at": iso(row["created_at"]),
                "conclusion": row["conclusion"],
                "probability": result["probability"],
                "risk_level": result["risk_level"],
                "confidence": result["confidence"],
                "predicted_duration_seconds": result["predicted_duration_seconds"],
                "duration_interval": result["duration_interval"],
                "factors": result["factors"],
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "model_version": None if models is None else str(models.spec["model_version"]),
        "generated_at": iso(generated_at),
        "runs": scored,
    }


def reviewers_document(
    stats: pl.DataFrame, *, as_of: datetime | None, author_history: pl.DataFrame | None = None
) -> dict[str, Any]:
    """Reviewer features per repository and candidate (rows of ``features.reviewer_stats``).

    ``author_history`` (rows of :func:`pipelines.features.reviewers.author_history`) adds what
    each candidate knows of each author's work, the routing engine's ``author_history``.
    """
    known: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for entry in (author_history if author_history is not None else pl.DataFrame()).to_dicts():
        known[(entry["repo"], entry["candidate"])] = [
            {"author": a["author"], "weight": float(a["weight"])} for a in entry["author_history"]
        ]
    reviewers = []
    for row in stats.sort("repo", "candidate").to_dicts():
        reviewers.append(
            {
                "repo": row["repo"],
                "login": row["candidate"],
                "expertise_paths": [
                    {"path_prefix": p["path_prefix"], "weight": float(p["weight"])}
                    for p in row["expertise_paths"] or []
                ],
                "open_workload": int(row["open_workload"] or 0),
                "median_first_response_hours": row["median_first_response_hours"],
                "events_last_14d": int(row["events_last_14d"] or 0),
                "usual_hours": [int(h) for h in row["usual_hours"] or []],
                "approval_rate": row["approval_rate"],
                "changes_requested_rate": row["changes_requested_rate"],
                "reviews_done": int(row["reviews_done"] or 0),
                "last_active_at": iso(row["last_active_at"]),
                "author_history": known.get((row["repo"], str(row["candidate"]).lower()), []),
            }
        )
    return {"schema_version": SCHEMA_VERSION, "as_of": iso(as_of), "reviewers": reviewers}


def activity_document(activity: pl.DataFrame, *, as_of: datetime | None) -> dict[str, Any]:
    """Activity by hour of week per repository (rows of ``features.activity_by_hour``).

    Hours missing from the table count as no activity.
    """
    repositories: dict[str, Any] = {}
    for (repo,), group in activity.sort("repo", "hour_of_week").group_by("repo", maintain_order=True):
        weeks = group["weeks_observed"].drop_nulls().to_list()
        entry: dict[str, Any] = {"weeks_observed": int(max(weeks, default=0))}
        hours = group["hour_of_week"].to_list()
        for signal in ACTIVITY_SIGNALS:
            week = [0.0] * HOURS_PER_WEEK
            for hour, value in zip(hours, group[signal].to_list(), strict=True):
                week[int(hour)] = max(float(value or 0.0), 0.0)
            entry[signal] = week
        repositories[str(repo)] = entry
    template = organisation_template(repositories)
    return {
        "schema_version": SCHEMA_VERSION,
        "as_of": iso(as_of),
        "repositories": repositories,
        # pooled once here, so an action can read only its own repository's entry
        "organisation": None if template is None else [float(v) for v in template],
    }
