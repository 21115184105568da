"""Splits: train strictly precedes test, attempt groups never cross, projects held out whole."""

from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pytest

from pipelines.ml.dataset import Dataset
from pipelines.ml.splits import held_out_projects, project_split, time_series_folds, time_split


def _times(minutes: list[int]) -> np.ndarray:
    return np.datetime64("2024-01-01T00:00:00", "us") + np.asarray(minutes, dtype="timedelta64[m]")


def test_time_split_by_hand_purges_a_straddling_group() -> None:
    time_ = _times([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    groups = np.asarray(["a", "b", "c", "d", "e", "f", "g", "h", "h", "i"], dtype=object)
    split = time_split(time_, groups, train_fraction=0.8)
    # the cut is at minute 8: group h (minutes 7 and 8) straddles it and is purged
    assert split.train.tolist() == [0, 1, 2, 3, 4, 5, 6]
    assert split.test.tolist() == [9]
    assert split.purged == 2


def test_time_split_gap_leaves_rows_out() -> None:
    time_ = _times(list(range(10)))
    groups = np.asarray([str(i) for i in range(10)], dtype=object)
    split = time_split(time_, groups, train_fraction=0.5, gap=timedelta(minutes=2))
    assert split.train.tolist() == [0, 1, 2, 3, 4]
    assert split.test.tolist() == [7, 8, 9]
    assert split.purged == 2


def _check_split(data: Dataset, train: np.ndarray, test: np.ndarray) -> None:
    assert train.size and test.size
    assert data.time[train].max() < data.time[test].min()
    assert not set(data.groups[train].tolist()) & set(data.groups[test].tolist())
    assert not set(train.tolist()) & set(test.tolist())


def test_time_split_on_synthetic_history(synthetic_dataset: Dataset) -> None:
    data = synthetic_dataset
    split = time_split(data.time, data.groups, train_fraction=0.8)
    _check_split(data, split.train, split.test)
    assert split.train.size + split.test.size + split.purged == len(data)
    assert 0.75 < split.train.size / len(data) <= 0.8


def test_time_series_folds_expand_with_a_gap(synthetic_dataset: Dataset) -> None:
    data = synthetic_dataset
    gap = timedelta(days=2)
    folds = time_series_folds(data.time, data.groups, n_folds=3, gap=gap, min_train_fraction=0.5)
    assert len(folds) == 3
    for fold in folds:
        _check_split(data, fold.train, fold.test)
        assert data.time[fold.test].min() - data.time[fold.train].max() >= np.timedelta64(gap)
    sizes = [fold.train.size for fold in folds]
    assert sizes == sorted(sizes)
    # validation blocks follow one another without overlapping
    for earlier, later in itertools.pairwise(folds):
        assert data.time[earlier.test].max() < data.time[later.test].min()


def test_project_split_holds_out_whole_repositories(synthetic_dataset: Dataset) -> None:
    data = synthetic_dataset
    split = project_split(data.time, data.repos, test_fraction=0.2, seed=3)
    train_repos = set(data.repos[split.train].tolist())
    test_repos = set(data.repos[split.test].tolist())
    assert not train_repos & test_repos
    assert len(test_repos) == round(0.2 * len(train_repos | test_repos))
    assert split.train.size + split.test.size == len(data)
    assert not set(data.groups[split.train].tolist()) & set(data.groups[split.test].tolist())


def test_project_choice_is_deterministic_and_order_free() -> None:
    repos = np.asarray([f"org/r{i}" for i in range(10)], dtype=object)
    chosen = held_out_projects(repos, seed=0)
    assert chosen == held_out_projects(repos[::-1], seed=0)
    assert len(chosen) == 2
    with pytest.raises(ValueError):
        held_out_projects(np.asarray(["only/one"], dtype=object))
