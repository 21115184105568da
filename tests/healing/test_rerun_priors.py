"""The rerun_priors export: warehouse re-runs counted by SQL, by workflow and failure class, shrunk
hierarchically (class → workflow → public or organisation prior), valid JSON."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from actions.common.schemas import problems
from actions.healing.classify import classify_failure
from actions.healing.priors import PriorTable
from pipelines.exports.build import rerun_priors_from_warehouse
from pipelines.exports.rerun_priors import (
    CLASS_PRIOR_WEIGHT,
    PRIOR_WEIGHT,
    read_public_priors,
    rerun_priors_document,
)
from tests.conftest import require_shared
from tests.healing.rerun_warehouse import LOGS, Attempt, Run, build_rerun_warehouse, reruns
from warehouse.db import connect, sql
from warehouse.frames import read_query

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
        "class_weight": CLASS_PRIOR_WEIGHT,
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


def _classed_runs() -> list[Run]:
    return [
        *reruns("o/r", "CI", "transient", ["success", "success", "success", "failure"]),
        *reruns("o/r", "CI", "permanent", ["failure", "failure", "failure"]),
        # failed for a transient reason, then for a permanent one, then passed: one re-run of each class
        Run(
            "o/r",
            "CI",
            (Attempt("failure", "transient"), Attempt("failure", "permanent"), Attempt("success")),
        ),
        Run("o/r", "CI", (Attempt("failure"), Attempt("success"))),  # no log read: counts for "any" only
        Run("o/r", "CI", (Attempt("timed_out", "transient"), Attempt(None, status="in_progress"))),
        *reruns("o/r", "Docs", "dependency", ["success"]),
    ]


@pytest.fixture(scope="module")
def classed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The warehouse of :func:`_classed_runs`, shared by the tests that only read it."""
    return build_rerun_warehouse(tmp_path_factory.mktemp("classed") / "warehouse.duckdb", _classed_runs())


def test_the_excerpts_fall_in_the_classes_they_stand_for() -> None:
    for category, lines in LOGS.items():
        assert classify_failure("\n".join(lines))["category"] == category


def test_rerun_history_by_class_takes_the_class_of_each_re_run_attempt(classed: Path) -> None:
    with connect(classed, read_only=True) as conn:
        any_class = read_query(conn, "exports/rerun_history", {})
        by_class = read_query(conn, "exports/rerun_history_by_class", {})
    assert_frame_equal(
        any_class.drop("workflow_path"),
        pl.DataFrame(
            {"repo": ["o/r", "o/r"], "workflow": ["CI", "Docs"], "reruns": [10, 1], "successes": [5, 1]}
        ),
        check_dtypes=False,
    )
    assert_frame_equal(
        by_class,
        pl.DataFrame(
            {
                "repo": ["o/r"] * 3,
                "workflow": ["CI", "CI", "Docs"],
                "failure_class": ["permanent", "transient", "dependency"],
                "reruns": [4, 5, 1],
                "successes": [1, 3, 1],
            }
        ),
        check_dtypes=False,
    )


def test_class_rates_are_shrunk_towards_their_workflow_rate(classed: Path) -> None:
    with connect(classed, read_only=True) as conn:
        document = rerun_priors_from_warehouse(conn, None, generated_at=NOW)
    assert problems("rerun_priors", document) == []
    org = 6 / 11
    ci = round((5 + PRIOR_WEIGHT * org) / (10 + PRIOR_WEIGHT), 6)
    docs = round((1 + PRIOR_WEIGHT * org) / (1 + PRIOR_WEIGHT), 6)

    def entry(
        workflow: str, cls: str, reruns: int, successes: int, prior: float, weight: float
    ) -> dict[str, Any]:
        source = "warehouse+warehouse" if cls == "any" else "warehouse+workflow+warehouse"
        rate = round((successes + weight * prior) / (reruns + weight), 6)
        return {
            "repo": "o/r",
            "workflow": workflow,
            "failure_class": cls,
            "reruns": reruns,
            "successes": successes,
            "prior_rate": round(prior, 6),
            "rate": rate,
            "source": source,
        }

    assert document["prior"] == {
        "source": "warehouse",
        "rate": round(org, 6),
        "weight": PRIOR_WEIGHT,
        "class_weight": CLASS_PRIOR_WEIGHT,
        "reruns": 11,
    }
    assert document["entries"] == [
        entry("CI", "any", 10, 5, org, PRIOR_WEIGHT),
        entry("CI", "permanent", 4, 1, ci, CLASS_PRIOR_WEIGHT),
        entry("CI", "transient", 5, 3, ci, CLASS_PRIOR_WEIGHT),
        entry("Docs", "any", 1, 1, org, PRIOR_WEIGHT),
        entry("Docs", "dependency", 1, 1, docs, CLASS_PRIOR_WEIGHT),
    ]
    transient, permanent = document["entries"][2]["rate"], document["entries"][1]["rate"]
    assert permanent < ci < transient  # each class moved from the workflow's rate towards its own
    assert (ci, transient, permanent) == pytest.approx((0.507576, 0.573593, 0.335859), abs=1e-6)


def test_without_failure_classes_only_the_workflow_rows_are_exported(tmp_path: Path) -> None:
    path = build_rerun_warehouse(tmp_path / "warehouse.duckdb", _classed_runs())
    with connect(path, read_only=True) as conn:
        full = rerun_priors_from_warehouse(conn, None, generated_at=NOW)
    with connect(path) as conn:
        conn.execute("DROP TABLE features.failure_classes")
        bare = rerun_priors_from_warehouse(conn, None, generated_at=NOW)
    assert problems("rerun_priors", bare) == []
    assert bare["entries"] == [e for e in full["entries"] if e["failure_class"] == "any"]


def test_the_action_uses_a_class_entry_once_it_has_min_history(classed: Path) -> None:
    with connect(classed, read_only=True) as conn:
        table = PriorTable(rerun_priors_from_warehouse(conn, None, generated_at=NOW))
    transient = table.lookup("O/R", "CI", "transient", min_history=5)
    assert transient is not None and (transient.failure_class, transient.reruns) == ("transient", 5)
    permanent = table.lookup("o/r", "CI", "permanent", min_history=5)  # 4 re-runs: the workflow's
    assert permanent is not None and (permanent.failure_class, permanent.reruns) == ("any", 10)
    dependency = table.lookup("o/r", "CI", "dependency", min_history=1)  # never seen: the workflow's
    assert dependency is not None and dependency.failure_class == "any"
    assert table.lookup("o/r", "Docs", "dependency").failure_class == "dependency"  # type: ignore[union-attr]


def test_a_class_row_needs_its_workflow_row() -> None:
    row = {"repo": "o/r", "workflow": "CI", "failure_class": "transient", "reruns": 1, "successes": 1}
    with pytest.raises(ValueError, match="no workflow row"):
        rerun_priors_document([], None, generated_at=NOW, by_class=[row])


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        (lambda e: e.update(failure_class="flaky"), "is not one of"),
        (lambda e: e.update(prior_rate=None), "None is not of type 'number'"),
        (lambda e: e.update(rate=None), "None is not of type 'number'"),
        (lambda e: e.update(reruns=0), "less than the minimum of 1"),
        (lambda e: e.update(rate=1.5), "greater than the maximum of 1"),
        (lambda e: e.pop("source"), "'source' is a required property"),
    ],
)
def test_the_schema_rejects_a_bad_class_entry(classed: Path, change: Any, complaint: str) -> None:
    with connect(classed, read_only=True) as conn:
        document = rerun_priors_from_warehouse(conn, None, generated_at=NOW)
    bad = copy.deepcopy(document)
    [transient] = [e for e in bad["entries"] if e["failure_class"] == "transient"]
    change(transient)
    found = problems("rerun_priors", bad)
    assert found and all(line.startswith("entries/2") for line in found), found
    assert any(complaint in line for line in found), found
    bad = copy.deepcopy(document)
    bad["prior"]["class_weight"] = -1
    assert problems("rerun_priors", bad) == ["prior/class_weight: -1 is less than the minimum of 0"]
