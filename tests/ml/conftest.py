"""Fixtures of the model tests: a synthetic run history (no quality claim is made on it)."""

from __future__ import annotations

import polars as pl
import pytest

from pipelines.features.runs import build_run_features
from pipelines.features.synthetic_runs import synthetic_run_inputs
from pipelines.ml.dataset import Dataset, make_dataset
from pipelines.ml.splits import time_split


@pytest.fixture(scope="session")
def synthetic_features() -> pl.DataFrame:
    return build_run_features(synthetic_run_inputs(20_000, repos=30, seed=1))


@pytest.fixture(scope="session")
def synthetic_dataset(synthetic_features: pl.DataFrame) -> Dataset:
    return make_dataset(synthetic_features)


@pytest.fixture(scope="session")
def train_test(synthetic_dataset: Dataset) -> tuple[Dataset, Dataset]:
    split = time_split(synthetic_dataset.time, synthetic_dataset.groups, train_fraction=0.7)
    return synthetic_dataset.subset(split.train), synthetic_dataset.subset(split.test)
