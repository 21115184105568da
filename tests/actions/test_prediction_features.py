"""The action's plain-Python run features equal the warehouse's Polars build, row for row."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given, settings
from polars.testing import assert_frame_equal

from actions.prediction.features import run_features
from pipelines.features.runs import FEATURE_COLUMNS, build_run_features
from pipelines.features.schemas import RUN_INPUT_SCHEMA
from pipelines.features.synthetic_runs import synthetic_run_inputs
from tests.features.test_run_features import frame, histories

FEATURES = [c for c in FEATURE_COLUMNS if c != "run_attempt"]


def _by_row(runs: pl.DataFrame) -> pl.DataFrame:
    rows = runs.select(list(RUN_INPUT_SCHEMA)).to_dicts()
    computed = [run_features(row, rows) for row in rows]
    schema = build_run_features(runs.head(0)).select(FEATURES).schema
    return pl.DataFrame([{c: r[c] for c in FEATURES} for r in computed], schema=schema, orient="row")


def _warehouse(runs: pl.DataFrame) -> pl.DataFrame:
    return build_run_features(runs).select(FEATURES)


@settings(max_examples=60, deadline=None)
@given(rows=histories())
def test_random_histories(rows: list[dict[str, Any]]) -> None:
    runs = frame(rows)
    assert_frame_equal(_by_row(runs), _warehouse(runs))


def test_a_synthetic_organisation() -> None:
    runs = synthetic_run_inputs(600, repos=3, seed=7)
    got, want = _by_row(runs), _warehouse(runs)
    assert want["fail_rate_20"].null_count() < len(want)  # the history is not empty
    assert_frame_equal(got, want, check_exact=False, rel_tol=1e-12)
