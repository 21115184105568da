"""The model matrix: inputs, categories fixed at training, labels and dropped rows."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from pipelines.features.runs import FEATURE_COLUMNS, KEY_COLUMNS, LABEL_COLUMNS
from pipelines.ml.dataset import encode, fit_spec, input_columns, make_dataset


def test_inputs_are_the_feature_columns(synthetic_features: pl.DataFrame) -> None:
    columns = input_columns(synthetic_features)
    assert set(columns) == set(FEATURE_COLUMNS)
    assert not set(columns) & (set(KEY_COLUMNS + LABEL_COLUMNS) - {"run_attempt"})


def test_rows_without_any_label_are_dropped(synthetic_features: pl.DataFrame) -> None:
    # runs still going: neither label known yet
    running = pl.int_range(pl.len()) % 50 == 0
    frame = synthetic_features.with_columns(
        pl.when(running).then(None).otherwise(pl.col("failed")).alias("failed"),
        pl.when(running).then(None).otherwise(pl.col("duration_seconds")).alias("duration_seconds"),
    )
    data = make_dataset(frame)
    assert len(data) == synthetic_features.height - synthetic_features.select(running.sum()).item()
    assert not set(data.ids.tolist()) & set(frame.filter(running)["id"].to_list()) - set(
        frame.filter(~running)["id"].to_list()
    )
    assert np.isin(data.failed[data.has_failure_label], [0.0, 1.0]).all()
    # cancelled runs keep their duration with an unknown outcome
    assert (~data.has_failure_label & data.has_duration_label).any()


def test_categories_are_fixed_at_training_time(synthetic_features: pl.DataFrame) -> None:
    train = synthetic_features.filter(pl.col("event") != "schedule")
    spec = fit_spec(train)
    assert "schedule" not in spec.categories["event"]
    assert spec.categories["event"] == tuple(sorted(spec.categories["event"]))
    matrix = encode(synthetic_features, spec)
    column = matrix[:, spec.names.index("event")]
    is_schedule = (synthetic_features.get_column("event") == "schedule").to_numpy()
    assert np.isnan(column[is_schedule]).all()
    assert not np.isnan(column[~is_schedule]).any()
    code = column[~is_schedule][0]
    assert spec.decode("event", code) == synthetic_features.filter(~pl.Series(is_schedule))["event"][0]
    assert spec.decode("event", math.nan) is None


def test_dataset_keeps_split_keys_and_baselines(synthetic_features: pl.DataFrame) -> None:
    data = make_dataset(synthetic_features)
    labelled = synthetic_features.filter(
        pl.col("failed").is_not_null() | pl.col("duration_seconds").is_not_null()
    )
    assert data.groups.tolist() == labelled["attempt_group"].to_list()
    assert data.repos.tolist() == labelled["repo"].to_list()
    assert np.array_equal(
        np.nan_to_num(data.baseline_previous, nan=-1), labelled["prev_failed"].fill_null(-1).to_numpy()
    )
    subset = data.subset(np.asarray([2, 0]))
    assert subset.ids.tolist() == [data.ids[2], data.ids[0]]
    assert subset.x.shape == (2, len(data.spec.names))
