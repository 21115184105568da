"""The rerun_priors export: warehouse re-runs counted by SQL, shrunk towards the public priors, valid JSON."""

from __future__ import annotations

from datetime import UTC, datetime

import duckdb

from actions.common.schemas import problems
from pipelines.exports.rerun_priors import PRIOR_WEIGHT, read_public_priors, rerun_priors_document
from tests.conftest import require_shared
from warehouse.db import sql

NOW = datetime(2026, 11, 1, tzinfo=UTC)


def _history() -> list[dict[str, object]]:
    conn = duckdb.connect()
    conn.execute("CREATE SCHEMA core")
    conn.execute(
        "CREATE TABLE core.ci_runs (source VARCHAR, repo VARCHAR, id BIGINT, run_attempt INTEGER, "
        "workflow_name VARCHAR, workflow_path VARCHAR, status VARCHAR, conclusion VARCHAR)"
    )
    rows = [
        # run 1: failed, re-run passed; run 2: failed twice then passed; run 3: re-run still going
        ("github", "o/r", 1, 1, "CI", ".github/workflows/ci.yml", "completed", "failure"),
        ("github", "o/r", 1, 2, "CI", ".github/workflows/ci.yml", "completed", "success"),
        ("github", "o/r", 2, 1, "CI", ".github/workflows/ci.yml", "completed", "timed_out"),
        ("github", "o/r", 2, 2, "CI", ".github/workflows/ci.yml", "completed", "failure"),
        ("github", "o/r", 2, 3, "CI", ".github/workflows/ci.yml", "completed", "success"),
        ("github", "o/r", 3, 1, "CI", ".github/workflows/ci.yml", "completed", "failure"),
        ("github", "o/r", 3, 2, "CI", ".github/workflows/ci.yml", "in_progress", None),
        ("github", "o/r", 4, 1, "Docs", ".github/workflows/docs.yml", "completed", "success"),
        ("github", "o/r", 4, 2, "Docs", ".github/workflows/docs.yml", "completed", "failure"),
        ("travistorrent", "o/r", 1, 1, "travis", ".travis.yml", "completed", "failure"),
    ]
    conn.executemany("INSERT INTO core.ci_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?)", rows)
    cursor = conn.execute(sql("exports/rerun_history"))
    columns = [d[0] for d in cursor.description or []]
    return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def test_rerun_history_counts_failed_attempts_followed_by_a_finished_one() -> None:
    assert _history() == [
        {
            "repo": "o/r",
            "workflow": "CI",
            "workflow_path": ".github/workflows/ci.yml",
            "reruns": 3,
            "successes": 2,
        }
    ]


def test_rates_shrink_towards_the_organisation_without_public_priors() -> None:
    document = rerun_priors_document(_history(), None, generated_at=NOW)
    assert problems("rerun_priors", document) == []
    [entry] = document["entries"]
    assert document["prior"] == {
        "source": "warehouse",
        "rate": round(2 / 3, 6),
        "weight": PRIOR_WEIGHT,
        "reruns": 3,
    }
    assert entry["rate"] == round((2 + PRIOR_WEIGHT * 2 / 3) / (3 + PRIOR_WEIGHT), 6)
    assert entry["failure_class"] == "any" and entry["source"] == "warehouse+warehouse"
    empty = rerun_priors_document([], None, generated_at=NOW)
    assert empty["prior"]["source"] == "none" and problems("rerun_priors", empty) == []


def test_public_priors_from_gha_reruns() -> None:
    public = read_public_priors(require_shared("gha-reruns"))
    assert public.reruns > 10_000 and 0 < public.successes < public.reruns
    assert public.by_file["ci.yml"][0] >= 50
    document = rerun_priors_document(_history(), public, generated_at=NOW)
    assert problems("rerun_priors", document) == []
    [entry] = document["entries"]
    ci_rate = public.by_file["ci.yml"][1] / public.by_file["ci.yml"][0]
    assert entry["prior_rate"] == round(ci_rate, 6) and document["prior"]["source"] == "gha-reruns"
    assert entry["rate"] == round((2 + PRIOR_WEIGHT * ci_rate) / (3 + PRIOR_WEIGHT), 6)
