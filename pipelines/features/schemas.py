"""Column contracts between the warehouse and the feature transforms.

The warehouse hands the feature code one frame per entity in these shapes, whatever the
source (GitHub, a recording, the sample organisation, TravisTorrent); columns a source cannot
fill are null. All timestamps are UTC.
"""

from __future__ import annotations

import polars as pl

UTC_TIME = pl.Datetime("us", "UTC")

RUN_INPUT_SCHEMA: dict[str, pl.DataType] = {
    # identity
    "id": pl.Int64(),  # run id (TravisTorrent: build id); attempts share it
    "run_attempt": pl.Int32(),  # 1 for the first attempt
    "repo": pl.String(),  # owner/name (TravisTorrent: gh_project_name)
    "workflow": pl.String(),  # workflow name or path (TravisTorrent: "travis")
    "branch": pl.String(),
    "event": pl.String(),  # push | pull_request | ... (lower-case)
    "head_sha": pl.String(),  # the commit built
    "actor": pl.String(),  # who triggered it (null when unknown, as in TravisTorrent)
    "is_pr": pl.Boolean(),
    "pull_number": pl.Int64(),
    # trigger and outcome
    "created_at": UTC_TIME,  # trigger time: every feature of the row is as of this instant
    "finished_at": UTC_TIME,  # when the outcome became known (null while running)
    "conclusion": pl.String(),  # success | failure | cancelled | timed_out | skipped | ... | null
    "failed": pl.Boolean(),  # the label: failure or timed_out (errored builds too); null if unknown
    "duration_seconds": pl.Float64(),  # the label for duration; null while running
    # the change (known at trigger time)
    "lines_added": pl.Int64(),
    "lines_deleted": pl.Int64(),
    "files_changed": pl.Int64(),
    "src_churn": pl.Int64(),
    "test_churn": pl.Int64(),
    "doc_churn": pl.Int64(),
    "tests_added": pl.Int64(),
    "test_density": pl.Float64(),  # tests per kLOC, the coverage proxy when no coverage exists
    "coverage": pl.Float64(),  # 0..100 from a coverage status, when one exists before the run
    "review_count": pl.Int64(),  # reviews submitted on the PR before created_at
    "approval_seconds": pl.Float64(),  # PR creation to first approval, if approved before created_at
    "team_size": pl.Int64(),
    "by_core_member": pl.Boolean(),
    # post-build facts: usable only as features of LATER runs (lagged), never of this row
    "log_tests_failed": pl.Float64(),
    "log_tests_run": pl.Float64(),
}
"""One row per run attempt; input of :func:`pipelines.features.runs.build_run_features`."""


def empty_runs() -> pl.DataFrame:
    """An empty frame with the run input schema."""
    return pl.DataFrame(schema=RUN_INPUT_SCHEMA)


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Select and cast ``frame`` to ``schema``, adding missing columns as nulls.

    Raises:
        ValueError: if a present column cannot be cast, naming it.
    """
    columns = []
    for name, dtype in schema.items():
        if name in frame.columns:
            columns.append(pl.col(name).cast(dtype, strict=False).alias(name))
        else:
            columns.append(pl.lit(None, dtype=dtype).alias(name))
    return frame.select(columns)
