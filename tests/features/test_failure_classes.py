"""features.failure_classes: hand-built excerpts against expected frames, and the sample's known causes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
from polars.testing import assert_frame_equal

from actions.healing.classify import classify_failure
from actions.healing.signatures import signature
from pipelines.features.failure_classes import FAILURE_CLASS_SCHEMA, failure_classes
from pipelines.sources.base import RecordingSource
from pipelines.sources.ingest import land_stream
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from warehouse.db import build_core, connect
from warehouse.frames import read_query
from warehouse.landing import LandingZone
from warehouse.loader import load_landed
from warehouse.quality import validate_table

UTC_TIME = pl.Datetime("us", "UTC")
INPUT_SCHEMA: dict[str, Any] = {
    "repo": pl.String,
    "run_id": pl.Int64,
    "run_attempt": pl.Int32,
    "workflow_name": pl.String,
    "conclusion": pl.String,
    "created_at": UTC_TIME,
    "log_status": pl.String,
    "lines": pl.List(pl.String),
    "line_refs": pl.List(pl.String),
}
T0 = datetime(2024, 5, 1, 9, tzinfo=UTC)
T1 = datetime(2024, 5, 2, 9, tzinfo=UTC)


def _inputs(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=INPUT_SCHEMA)


def _fake(text: str) -> dict[str, Any]:
    """A classifier whose answer the test controls: the first line naming a class decides."""
    for line in text.splitlines():
        for category in ("transient", "dependency", "permanent"):
            if category in line:
                return {
                    "category": category,
                    "confidence": 0.75,
                    "retryable": category != "permanent",
                    "matched_lines": [line],
                    "matched_rules": [f"{category}_rule", f"{category}_rule"],
                    "reason": f"rules: {category}",
                    "source": "rules",
                }
    return {"category": "permanent", "confidence": 0.5, "retryable": False, "matched_lines": []}


def test_each_failed_attempt_gets_its_class_and_reason_lines() -> None:
    inputs = _inputs(
        [
            {
                "repo": "o/b",
                "run_id": 7,
                "run_attempt": 2,
                "workflow_name": "ci",
                "conclusion": "failure",
                "created_at": T1,
                "log_status": "excerpt",
                "lines": ["setup", "  a transient blip  ", "done"],
                "line_refs": ["build:10", "build:11", "test:3"],
            },
            {
                "repo": "o/a",
                "run_id": 5,
                "run_attempt": 1,
                "workflow_name": "lint",
                "conclusion": "timed_out",
                "created_at": T0,
                "log_status": "unavailable",
                "lines": [],
                "line_refs": [],
            },
            {
                "repo": "o/a",
                "run_id": 6,
                "run_attempt": 1,
                "workflow_name": "ci",
                "conclusion": "failure",
                "created_at": T1,
                "log_status": "excerpt",
                "lines": ["x", "dependency missing"],
                "line_refs": ["test:1", "test:2"],
            },
            {
                "repo": "o/a",
                "run_id": 8,
                "run_attempt": 1,
                "workflow_name": "ci",
                "conclusion": "failure",
                "created_at": T1,
                "log_status": None,
                "lines": [],
                "line_refs": [],
            },
        ]
    )
    expected = pl.DataFrame(
        [
            ("o/a", 5, 1, "lint", "timed_out", T0, "unavailable", None, None, None, None, [], [], [], None,
             None),
            ("o/a", 6, 1, "ci", "failure", T1, "excerpt", "dependency", 0.75, True, "rules: dependency",
             ["dependency missing"], ["test:2"], ["dependency_rule"], "rules",
             signature("x\ndependency missing")),
            ("o/a", 8, 1, "ci", "failure", T1, None, None, None, None, None, [], [], [], None, None),
            ("o/b", 7, 2, "ci", "failure", T1, "excerpt", "transient", 0.75, True, "rules: transient",
             ["  a transient blip  "], ["build:11"], ["transient_rule"], "rules",
             signature("setup\n  a transient blip  \ndone")),
        ],
        schema=FAILURE_CLASS_SCHEMA,
        orient="row",
    )  # fmt: skip
    assert_frame_equal(failure_classes(inputs, _fake), expected)


def test_no_input_gives_an_empty_frame_of_the_schema() -> None:
    got = failure_classes(_inputs([]))
    assert got.height == 0 and got.schema == pl.Schema(FAILURE_CLASS_SCHEMA)


def test_the_real_classifier_decides_with_the_public_api() -> None:
    lines = [
        "Run npm ci",
        "npm ERR! code ETIMEDOUT",
        "npm ERR! network request to https://registry.npmjs.org/left-pad failed, reason: connect ETIMEDOUT",
        "##[error]Process completed with exit code 1.",
    ]
    row = {
        "repo": "o/a",
        "run_id": 1,
        "run_attempt": 1,
        "workflow_name": "ci",
        "conclusion": "failure",
        "created_at": T0,
        "log_status": "excerpt",
        "lines": lines,
        "line_refs": [f"build:{n}" for n in range(1, 5)],
    }
    got = failure_classes(_inputs([row])).row(0, named=True)
    direct = classify_failure("\n".join(lines))
    assert got["failure_class"] == direct["category"]
    assert got["confidence"] == direct["confidence"] and 0 <= got["confidence"] <= 1
    assert got["reason_lines"] == direct["matched_lines"] and got["reason_lines"]
    assert all(ref is not None and ref.startswith("build:") for ref in got["reason_line_refs"])


def test_sample_failures_classified_from_ingested_excerpts(tmp_path: Path) -> None:
    """End to end on a small sample: recording → run_logs stream → core → features; GX suite passes."""
    rec = generate_sample_org(
        SampleOrgSpec(
            repositories=1, people=5, days=20, pull_requests_per_repo=8, runs_per_repo=90, issues_per_repo=3
        )
    )
    source = RecordingSource(rec, "sample")
    zone = LandingZone(tmp_path / "landing")
    for stream in ("workflow_runs", "run_logs"):
        land_stream(source, rec.repos[0], stream, zone)
    with connect(tmp_path / "warehouse.duckdb") as conn:
        load_landed(conn, zone)
        build_core(conn)
        frame = failure_classes(read_query(conn, "features/failure_inputs", {}))
        conn.register("fc", frame.to_arrow())
        conn.execute("CREATE TABLE features.failure_classes AS SELECT * FROM fc")
        result = validate_table(conn, "features", "failure_classes")
    assert result.success, result.summary()
    assert frame.height == len(rec.logs) > 0
    assert frame["failure_class"].null_count() == 0
    assert set(frame["failure_class"]) <= {"transient", "dependency", "permanent"}
    assert frame["reason_lines"].list.len().min() > 0  # type: ignore[operator]
    assert len(set(frame["failure_class"])) >= 2, "the sample fails for more than one reason"


def test_quality_suite_rejects_an_unknown_class_and_a_confidence_above_one(tmp_path: Path) -> None:
    with duckdb.connect(str(tmp_path / "w.duckdb")) as conn:
        conn.execute("CREATE SCHEMA features")
        conn.execute(
            "CREATE TABLE features.failure_classes AS SELECT 'o/a' AS repo, 1::BIGINT AS run_id, "
            "1 AS run_attempt, TIMESTAMPTZ '2024-05-01 00:00:00+00' AS created_at, 'failure' AS conclusion, "
            "'flaky' AS failure_class, 1.5::DOUBLE AS confidence"
        )
        result = validate_table(conn, "features", "failure_classes")
    messages = " ".join(o.message for o in result.failures)
    assert not result.success and "failure_class" in messages and "confidence" in messages
