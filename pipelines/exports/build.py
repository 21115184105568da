"""Assembling the exports from the warehouse and the models in service."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from actions.common.exports import Exports
from actions.prediction.model import ExportedModels
from pipelines.exports.classifier import EXPORT_NAME as CLASSIFIER_EXPORT
from pipelines.exports.classifier import kept_classifier
from pipelines.exports.documents import activity_document, reviewers_document, scores_document
from pipelines.exports.rerun_priors import (
    SIGNATURE_COMMITS,
    SIGNATURE_DAYS,
    PublicPriors,
    configured_public_priors,
    rerun_priors_document,
)
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.features.reviewers import author_history
from pipelines.ml.service import models_in_service
from warehouse.db import data_as_of, sql, table_exists
from warehouse.frames import read_query, read_relation

SCORE_DAYS = 14
"""Runs triggered this many days before the newest run are scored in the exports."""

SCORE_LIMIT = 5_000
"""At most this many runs are scored (the newest)."""


def source_info(conn: duckdb.DuckDBPyConnection) -> SourceInfo:
    """Where the warehouse's data came from (``raw.sources``)."""
    rows = conn.execute(sql("exports/sources")).fetchall()
    kinds = {re.split(r"[:\s(]", str(r[1]), maxsplit=1)[0] for r in rows}
    kind = kinds.pop() if len(kinds) == 1 else ("mixed" if kinds else "unknown")
    known = {"github", "snapshot", "sample", "travistorrent", "mixed", "unknown"}
    return SourceInfo(
        kind=kind if kind in known else "unknown",
        synthetic=any(bool(r[2]) for r in rows),
        data_as_of=data_as_of(conn),
        repositories=tuple(str(r[0]) for r in rows),
    )


def _author_history(conn: duckdb.DuckDBPyConnection, as_of: datetime | None) -> pl.DataFrame | None:
    """What each candidate knows of each author's work, from the core tables as of the data's end."""
    if as_of is None:
        return None
    return author_history(
        read_relation(conn, "core.pull_requests"),
        read_relation(conn, "core.reviews"),
        read_relation(conn, "core.comments"),
        as_of=as_of,
    )


def rerun_priors_from_warehouse(
    conn: duckdb.DuckDBPyConnection, public: PublicPriors | None, *, generated_at: datetime
) -> dict[str, Any]:
    """The ``rerun_priors`` document: re-runs by workflow; by class and signatures once classes are built."""
    classified = table_exists(conn, "features", "failure_classes")
    by_class = read_query(conn, "exports/rerun_history_by_class", {}).to_dicts() if classified else []
    signatures = (
        read_query(
            conn, "exports/failure_signatures", {"days": SIGNATURE_DAYS, "max_commits": SIGNATURE_COMMITS}
        ).to_dicts()
        if classified
        else None
    )
    return rerun_priors_document(
        read_query(conn, "exports/rerun_history", {}).to_dicts(),
        public,
        generated_at=generated_at,
        by_class=by_class,
        signatures=signatures,
    )


def build_exports(
    conn: duckdb.DuckDBPyConnection, home: Path, *, generated_at: datetime, rerun_priors: Path | None = None
) -> Exports:
    """Write ``home/exports`` from the warehouse and ``home/models/current``.

    ``rerun_priors`` is the public re-run data's folder (the exports resource's field); None,
    re-run rates are shrunk towards the organisation's own. Re-runs are split by failure class
    when ``features.failure_classes`` has been built. The failure classifier is exported when the
    ``failure_classifier`` asset trained one (:func:`pipelines.exports.classifier.kept_classifier`).

    Returns:
        The verified exports.
    """
    as_of = data_as_of(conn)
    runs = read_query(conn, "exports/recent_runs", {"days": SCORE_DAYS, "limit": SCORE_LIMIT})
    documents = {
        "reviewers": reviewers_document(
            read_relation(conn, "features.reviewer_stats"),
            as_of=as_of,
            author_history=_author_history(conn, as_of),
        ),
        "activity": activity_document(read_relation(conn, "features.activity_by_hour"), as_of=as_of),
        "rerun_priors": rerun_priors_from_warehouse(
            conn, configured_public_priors(rerun_priors), generated_at=generated_at
        ),
    }
    classifier = kept_classifier(home)
    if classifier is not None:
        documents[CLASSIFIER_EXPORT] = classifier
    current = models_in_service(home / "models")

    def scores(models: ExportedModels | None) -> dict[str, object]:
        return scores_document(runs, models, generated_at=generated_at)

    return write_exports(
        home / "exports",
        models_dir=current,
        source=source_info(conn),
        documents=documents,
        scores=scores,
        generated_at=generated_at,
    )
