"""Evaluation splits: train on the past, test on the future, and hold out whole projects.

Every split keeps all attempts of an ``attempt_group`` (a commit built by one workflow) on one
side. In a time split a group whose attempts straddle the cut (or fall into the gap) cannot go
to either side without breaking "train strictly precedes test", so its rows are *purged*: left
out of both sides, and counted in :attr:`Split.purged`.

* :func:`time_split` — the first ``train_fraction`` of rows by trigger time train, the rest
  (after an optional gap) test.
* :func:`project_split` — a deterministic ~20% of repositories are held out entirely, for
  unseen-repository evaluation.
* :func:`time_series_folds` — expanding-window folds with a gap, for tuning.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import numpy.typing as npt

Indices = npt.NDArray[np.int64]
Times = npt.NDArray[np.datetime64]
Objects = npt.NDArray[np.object_]


@dataclass(frozen=True)
class Split:
    """Row indices of the two sides of a split.

    Attributes:
        train: indices of the training rows, in time order (ties in input order).
        test: indices of the evaluation rows, in time order.
        purged: rows left out of both sides (straddling groups, rows inside the gap).
        description: how the split was made, for reports.
    """

    train: Indices
    test: Indices
    purged: int
    description: str


def time_split(
    time: Times,
    groups: Objects,
    *,
    train_fraction: float = 0.8,
    gap: timedelta = timedelta(0),
) -> Split:
    """Split by trigger time: the earliest ``train_fraction`` of rows train, later rows test.

    The cut is the trigger time of the first row past the training share: rows strictly before
    it train; rows at or after ``cut + gap`` test. Groups with rows on both sides of the cut,
    or with a row inside the gap, are purged from both sides.

    Args:
        time: trigger time of every row.
        groups: ``attempt_group`` of every row.
        train_fraction: share of rows (by time order) before the cut, in (0, 1).
        gap: time left out between the last training trigger and the first test trigger.

    Returns:
        The split; ``train`` rows all precede every ``test`` row by at least ``gap``.

    Raises:
        ValueError: on a fraction outside (0, 1), a negative gap, or mismatched lengths.
    """
    if not 0.0 < train_fraction < 1.0:
        raise ValueError(f"train_fraction must be in (0, 1), got {train_fraction}")
    cut_time = _cut_time(time, groups, train_fraction, gap)
    return _split_at(time, groups, cut_time, None, gap, f"time: first {train_fraction:.0%} by start time")


def time_series_folds(
    time: Times,
    groups: Objects,
    *,
    n_folds: int = 3,
    gap: timedelta = timedelta(days=1),
    min_train_fraction: float = 0.5,
) -> list[Split]:
    """Expanding-window folds for tuning: each fold trains on the past and validates on the next block.

    The rows (by time) after the first ``min_train_fraction`` are cut into ``n_folds`` equal
    blocks; fold ``k`` trains on everything before block ``k`` and validates on block ``k``,
    leaving out ``gap`` after the cut. Straddling groups are purged as in :func:`time_split`.

    Args:
        time: trigger time of every row.
        groups: ``attempt_group`` of every row.
        n_folds: number of folds (>= 1).
        gap: time left out between each fold's training and validation rows.
        min_train_fraction: share of rows the first fold trains on, in (0, 1).

    Returns:
        ``n_folds`` splits, in time order of their validation blocks; a fold whose validation
        block ends up empty (tiny inputs) is dropped.

    Raises:
        ValueError: on invalid arguments or mismatched lengths.
    """
    if n_folds < 1:
        raise ValueError(f"n_folds must be >= 1, got {n_folds}")
    if not 0.0 < min_train_fraction < 1.0:
        raise ValueError(f"min_train_fraction must be in (0, 1), got {min_train_fraction}")
    _check(time, groups, gap)
    step = (1.0 - min_train_fraction) / n_folds
    folds = []
    for k in range(n_folds):
        start = min_train_fraction + k * step
        cut = _cut_time(time, groups, start, gap)
        end = None if k == n_folds - 1 else _cut_time(time, groups, start + step, gap)
        fold = _split_at(time, groups, cut, end, gap, f"fold {k + 1}/{n_folds}")
        if fold.train.size and fold.test.size:
            folds.append(fold)
    return folds


def held_out_projects(repos: Objects, *, test_fraction: float = 0.2, seed: int = 0) -> list[str]:
    """The repositories held out by :func:`project_split`: a deterministic ~``test_fraction`` of them.

    The choice depends only on the set of repository names and the seed (a keyed hash ranks
    them), not on row order or sizes; at least one repository is held out and at least one kept.

    Raises:
        ValueError: on a fraction outside (0, 1) or fewer than two repositories.
    """
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    names = sorted({str(r) for r in repos.tolist()})
    if len(names) < 2:
        raise ValueError("a project split needs at least two repositories")
    ranked = sorted(names, key=lambda r: hashlib.sha256(f"{seed}:{r}".encode()).hexdigest())
    count = min(len(names) - 1, max(1, round(test_fraction * len(names))))
    return sorted(ranked[:count])


def project_split(time: Times, repos: Objects, *, test_fraction: float = 0.2, seed: int = 0) -> Split:
    """Hold out whole repositories: train on the others, test on these (all of their history).

    Attempt groups never cross repositories, so group integrity holds by construction.

    Args:
        time: trigger time of every row (to order each side).
        repos: repository of every row.
        test_fraction: share of repositories held out (see :func:`held_out_projects`).
        seed: seed of the deterministic choice.

    Returns:
        The split; ``purged`` is 0.

    Raises:
        ValueError: as :func:`held_out_projects`, or on mismatched lengths.
    """
    if time.shape[0] != repos.shape[0]:
        raise ValueError("time and repos must have the same length")
    held = held_out_projects(repos, test_fraction=test_fraction, seed=seed)
    is_test = np.isin(repos.astype(str), np.asarray(held, dtype=str))
    order = _time_order(time)
    description = f"project: {len(held)} of {len({str(r) for r in repos.tolist()})} repositories held out"
    return Split(train=order[~is_test[order]], test=order[is_test[order]], purged=0, description=description)


def _check(time: Times, groups: Objects, gap: timedelta) -> None:
    if time.shape[0] != groups.shape[0]:
        raise ValueError("time and groups must have the same length")
    if gap < timedelta(0):
        raise ValueError(f"gap must not be negative, got {gap}")


def _time_order(time: Times) -> Indices:
    return np.argsort(time, kind="stable").astype(np.int64)


def _cut_time(time: Times, groups: Objects, fraction: float, gap: timedelta) -> np.datetime64:
    """Trigger time of the first row past ``fraction`` of the rows in time order."""
    _check(time, groups, gap)
    if time.shape[0] < 2:
        raise ValueError("a time split needs at least two rows")
    order = _time_order(time)
    position = min(time.shape[0] - 1, max(1, math.floor(fraction * time.shape[0])))
    cut: np.datetime64 = time[order[position]]
    return cut


def _split_at(
    time: Times,
    groups: Objects,
    cut: np.datetime64,
    end: np.datetime64 | None,
    gap: timedelta,
    description: str,
) -> Split:
    """Train strictly before ``cut``, test in ``[cut + gap, end)``; straddling groups purged."""
    start = cut + np.timedelta64(int(gap.total_seconds() * 1_000_000), "us")
    before = time < cut
    later = time >= end if end is not None else np.zeros(time.shape[0], dtype=bool)
    after = (time >= start) & ~later
    # a group is usable on a side only if every one of its rows is on that side; rows after a
    # fold's validation block belong to no side and do not spoil their group
    codes = np.unique(groups.astype(str), return_inverse=True)[1].reshape(-1)
    n_groups = int(codes.max()) + 1 if codes.size else 0
    rows_per_group = np.bincount(codes, minlength=n_groups)
    before_per_group = np.bincount(codes, weights=before, minlength=n_groups)
    after_or_later_per_group = np.bincount(codes, weights=after | later, minlength=n_groups)
    train_mask = before & (before_per_group[codes] == rows_per_group[codes])
    test_mask = after & (after_or_later_per_group[codes] == rows_per_group[codes])
    order = _time_order(time)
    train = order[train_mask[order]]
    test = order[test_mask[order]]
    purged = int((~later).sum()) - train.size - test.size
    return Split(train=train, test=test, purged=purged, description=description)
