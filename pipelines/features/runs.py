"""Run features: what was known about a CI run at the instant it was triggered.

:func:`build_run_features` turns run attempts (:data:`~pipelines.features.schemas.RUN_INPUT_SCHEMA`)
into one feature row per attempt, for the failure and duration models; :func:`naive_baselines`
gives the protocol's naive predictions for the same rows.

**As of trigger time.** A row's features use only what was known at its ``created_at``. Another
run's outcome, duration and post-build facts become known when it finished; to make that exact
and free of edge cases, each finished run is a *completion event* known at

    ``known_at = max(finished_at, created_at + 1 µs)``

and it counts for a row iff ``known_at <= row.created_at``. So a run that finished at or
before the trigger counts, a run never sees itself (even with a zero duration), and runs
triggered at the same instant never see each other. Because ``known_at`` is strictly after the
event's own trigger, rows triggered later can only ever become known later: appending them
never changes the features of earlier rows. The row's own ``failed``, ``conclusion``,
``duration_seconds``, ``finished_at`` and ``log_*`` columns feed only *later* rows.

**How.** Completion events are sorted once by ``known_at``; per group (repository, workflow,
branch, actor, ...) they carry cumulative counts, so "the last N completed runs" is a
difference of a cumulative sum and the same sum shifted by N within the group. Every row then
takes the latest event of its group known at its trigger with a backward ``join_asof``. All of
it is one lazy Polars query, with no per-row Python.

**Nulls.** Null ``repo``/``workflow``/``branch`` values form their own group (they are grouped
as one unknown value); a null ``actor`` gets null actor features and contributes to no actor's
history. A completed run with a null ``failed`` (e.g. cancelled) counts as completed but not in
failure rates, streaks or the previous outcome. Rates over windows without a known outcome,
and features of rows without history, are null; counts are 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

import polars as pl

from pipelines.features.schemas import RUN_INPUT_SCHEMA

DEFAULT_WINDOWS: tuple[int, ...] = (5, 20)
"""Window sizes (in completed runs) of the rolling failure rates, by default."""

REPO_WINDOW = 50
"""Window (in completed runs) of the repository-level failure rate."""

DURATION_WINDOW = 5
"""Window (in completed runs) of the rolling median duration, the duration baseline."""

REPO_DURATION_WINDOWS: tuple[int, ...] = (5, 20)
"""Windows (in completed runs) of the repository-level median durations: the reference of a
branch's first runs, and a steadier one than five runs of one branch."""

KEY_COLUMNS: list[str] = ["id", "run_attempt", "repo", "attempt_group"]
"""Columns identifying an output row (``attempt_group`` keeps attempts of a commit together)."""

LABEL_COLUMNS: list[str] = ["created_at", "failed", "duration_seconds", "conclusion"]
"""Columns passed through as labels (and the split time); never model inputs."""

CATEGORICAL_FEATURES: list[str] = ["event", "workflow"]
"""Feature columns left as strings; the model code encodes them with categories fixed at training."""

_NULL_KEY = "\x00<null>"
_ONE_MICROSECOND = timedelta(microseconds=1)
_HISTORY = ("repo", "workflow", "branch")

_BASE_DOCS: dict[str, str] = {
    # time and context of the trigger
    "hour": "Hour of day of the trigger (0-23, UTC).",
    "day_of_week": "ISO day of week of the trigger (1 = Monday ... 7 = Sunday, UTC).",
    "run_attempt": "Attempt number of the run (1 for the first attempt, >1 for re-runs).",
    "is_pr": "1 when triggered for a pull request, else 0 (Int8; null when unknown).",
    "event": "Triggering event (push, pull_request, schedule, ...); a string, categorical for the model.",
    "workflow": "Workflow name or path; a string, categorical for the model.",
    # the change
    "lines_added": "Lines added by the change built.",
    "lines_deleted": "Lines deleted by the change built.",
    "files_changed": "Files changed by the change built.",
    "log_churn": "log1p(lines_added + lines_deleted); null when either is unknown.",
    "src_churn": "Lines changed in production source files.",
    "test_churn": "Lines changed in test files.",
    "doc_churn": "Lines changed in documentation files.",
    "src_share": "src_churn / (src + test + doc churn); null when that total is 0 or unknown.",
    "test_share": "test_churn / (src + test + doc churn); null when that total is 0 or unknown.",
    "doc_share": "doc_churn / (src + test + doc churn); null when that total is 0 or unknown.",
    "tests_added": "Test cases added by the change.",
    "test_density": "Tests per kLOC of the code base (the coverage proxy when no coverage exists).",
    "coverage": "Coverage (0-100) reported before the run, when one exists.",
    "review_count": "Reviews submitted on the pull request before the trigger.",
    "approval_seconds": "Seconds from PR creation to first approval, if approved before the trigger.",
    "team_size": "Size of the team working on the repository.",
    "by_core_member": "1 when the change is by a core member, else 0 (Int8; null when unknown).",
    # history of the same repository, workflow and branch
    "prev_failed": (
        "Outcome (1.0 failed, 0.0 passed) of the latest run of the same repo, workflow and branch "
        "that finished at or before the trigger and has a known outcome; null without one."
    ),
    "prev_duration": "Duration (s) of the latest run of the same repo/workflow/branch finished by then.",
    "prev_log_tests_failed": (
        "Failed tests in the log of the latest run of the same repo/workflow/branch finished by the trigger "
        "(the post-build fact, lagged)."
    ),
    "prev_log_tests_run": (
        "Tests run in the log of the latest run of the same repo/workflow/branch finished by the trigger "
        "(the post-build fact, lagged)."
    ),
    "since_prev_run": "Seconds since the latest strictly earlier trigger of the same repo/workflow/branch.",
    "since_prev_finish": "Seconds since the latest run of the same repo/workflow/branch finished (by then).",
    "fail_streak": (
        "Failed runs of the same repo/workflow/branch finished by the trigger since the last passing one "
        "(runs without a known outcome skipped; 0 without history)."
    ),
    "completed_runs": "Runs of the same repo/workflow/branch finished by the trigger (any outcome).",
    "runs_in_flight": (
        "Runs of the same repo/workflow/branch triggered strictly before this one and not finished by its "
        "trigger (their outcome is not known yet)."
    ),
    "duration_median5": (
        "Median duration (s) of the last 5 runs of the same repo, workflow and branch finished by the "
        "trigger (missing durations ignored); the duration baseline."
    ),
}


def _normalise_windows(windows: Sequence[int]) -> tuple[int, ...]:
    for n in windows:
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"windows must be positive integers, got {windows!r}")
    return tuple(sorted(set(windows)))


def _window_docs(windows: Sequence[int]) -> dict[str, str]:
    docs: dict[str, str] = {}
    for n in windows:
        docs[f"fail_rate_{n}"] = (
            f"Failure rate over the last {n} runs of the same repo/workflow/branch finished by the trigger."
        )
    for n in windows:
        docs[f"workflow_fail_rate_{n}"] = (
            f"Failure rate over the last {n} runs of the same repo and workflow finished by the trigger "
            "(the rolling per-workflow baseline)."
        )
    for n in windows:
        docs[f"branch_fail_rate_{n}"] = (
            f"Failure rate over the last {n} runs of the same repo and branch finished by the trigger."
        )
    docs["actor_success_rate"] = (
        "1 - failure rate over all runs triggered by the same actor (any repository) finished by the trigger."
    )
    for n in windows:
        docs[f"actor_success_rate_{n}"] = (
            f"1 - failure rate over the last {n} runs of the same actor finished by the trigger."
        )
    docs["actor_avg_duration"] = "Mean duration (s) of the actor's runs finished by the trigger."
    docs["actor_completed_runs"] = "Runs of the actor finished by the trigger (null for an unknown actor)."
    docs[f"repo_fail_rate_{REPO_WINDOW}"] = (
        f"Failure rate over the last {REPO_WINDOW} runs of the repository finished by the trigger."
    )
    for n in REPO_DURATION_WINDOWS:
        docs[f"repo_duration_median{n}"] = (
            f"Median duration (s) of the last {n} runs of the repository (any workflow and branch) "
            "finished by the trigger (missing durations ignored)."
        )
    docs["repo_prev_failed"] = (
        "Outcome (1.0 failed, 0.0 passed) of the latest run of the repository (any workflow and branch) "
        "finished by the trigger with a known outcome; null without one."
    )
    docs["since_repo_prev_finish"] = "Seconds since the latest run of the repository finished (by then)."
    docs["repo_runs_in_flight"] = (
        "Runs of the repository triggered strictly before this one and not finished by its trigger."
    )
    docs["commit_prev_failed"] = (
        "Outcome of the latest run of the same commit (any workflow, branch or attempt) finished by the "
        "trigger with a known outcome; null without one or without a commit."
    )
    docs["commit_failures"] = (
        "Failed runs of the same commit finished by the trigger (0 without any; null without a commit)."
    )
    docs["commit_completed_runs"] = (
        "Runs of the same commit finished by the trigger (0 without any; null without a commit)."
    )
    return docs


def feature_docs(windows: Sequence[int] = DEFAULT_WINDOWS) -> dict[str, str]:
    """The documentation of every feature column built with ``windows``, in output order.

    Args:
        windows: the window sizes passed to :func:`build_run_features`.

    Returns:
        Feature column name → what it means and how it is computed.
    """
    return {**_BASE_DOCS, **_window_docs(_normalise_windows(windows))}


def feature_columns(windows: Sequence[int] = DEFAULT_WINDOWS) -> list[str]:
    """The model-input columns built with ``windows`` (no ids, no labels), in output order."""
    return list(feature_docs(windows))


FEATURE_DOCS: dict[str, str] = feature_docs(DEFAULT_WINDOWS)
"""Every feature of the default build, documented (also says which are nulls and strings)."""

FEATURE_COLUMNS: list[str] = feature_columns(DEFAULT_WINDOWS)
"""The model inputs of the default build: no ids, no labels."""


def build_run_features(runs: pl.DataFrame, *, windows: tuple[int, ...] = DEFAULT_WINDOWS) -> pl.DataFrame:
    """Compute the features of every run attempt as of its trigger time.

    Args:
        runs: one row per run attempt, with the columns and dtypes of ``RUN_INPUT_SCHEMA``
            (extra columns are ignored); any order, any number of repositories.
        windows: sizes N of the "last N completed runs" failure rates.

    Returns:
        One row per input row, in input order: :data:`KEY_COLUMNS`, :data:`LABEL_COLUMNS`, then
        ``feature_columns(windows)`` (``run_attempt``, a key and a feature, appears once, as a key).

    Raises:
        ValueError: if a schema column is missing or has another dtype, or a window is not a
            positive integer.
    """
    _check_schema(runs)
    wins = _normalise_windows(windows)
    rows = (
        runs.lazy()
        .select(list(RUN_INPUT_SCHEMA))
        .with_row_index("_row")
        .with_columns(
            [pl.col(c).fill_null(_NULL_KEY).alias(f"_{c}") for c in _HISTORY],
            _actor=pl.col("actor"),
            _commit=pl.col("head_sha").fill_null(_NULL_KEY),
        )
        .with_columns(
            # triggers strictly before the row in its group: ties triggered at one instant never count
            (pl.col("created_at").rank("min").over(_keys(_HISTORY)) - 1).cast(pl.Int64).alias("_before"),
            (pl.col("created_at").rank("min").over("_repo") - 1).cast(pl.Int64).alias("_repo_before"),
        )
    )
    events = (
        rows.filter(pl.col("finished_at").is_not_null())
        .with_columns(
            _known=pl.max_horizontal(pl.col("finished_at"), pl.col("created_at") + _ONE_MICROSECOND),
            _fail=pl.col("failed").cast(pl.Int64).fill_null(0),
            _labelled=pl.col("failed").is_not_null().cast(pl.Int64),
            _has_duration=pl.col("duration_seconds").is_not_null().cast(pl.Int64),
        )
        .sort(["_known", "created_at", "repo", "id", "run_attempt", "_row"], nulls_last=True)
    )
    triggers = rows.sort("created_at")

    history = _history_events(events, wins)
    previous_trigger = (
        rows.select(*_keys(_HISTORY), _prev_created=pl.col("created_at"))
        .sort("_prev_created")
        .unique(maintain_order=True)
    )
    workflow = _rate_events(events, ("repo", "workflow"), wins, "workflow_fail_rate")
    branch = _rate_events(events, ("repo", "branch"), wins, "branch_fail_rate")
    actor = _actor_events(events.filter(pl.col("actor").is_not_null()), wins)
    repo = _repo_events(events)
    commit = _commit_events(events.filter(pl.col("head_sha").is_not_null()))

    joined = (
        _asof(triggers, history, _keys(_HISTORY))
        .join_asof(
            previous_trigger,
            left_on="created_at",
            right_on="_prev_created",
            by=_keys(_HISTORY),
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,
        )
        .pipe(_asof, workflow, _keys(("repo", "workflow")))
        .pipe(_asof, branch, _keys(("repo", "branch")))
        .pipe(_asof, actor, ["_actor"])
        .pipe(_asof, repo, _keys(("repo",)))
        .pipe(_asof, commit, ["_repo", "_commit"])
    )
    features = _derive(joined, wins).sort("_row")
    # run_attempt is both a key and a feature: it is output once, among the keys
    columns = list(dict.fromkeys([*KEY_COLUMNS, *LABEL_COLUMNS, *feature_columns(wins)]))
    return features.select(columns).collect()


def naive_baselines(features: pl.DataFrame, *, window: int | None = None) -> pl.DataFrame:
    """The protocol's naive predictions for rows of :func:`build_run_features`.

    Args:
        features: output of :func:`build_run_features`.
        window: N of the per-workflow rolling failure rate to use; by default the largest
            ``workflow_fail_rate_N`` present.

    Returns:
        Per row, in the same order: ``id``, ``run_attempt``, ``repo``,
        ``baseline_previous_outcome`` ("same as the previous build": ``prev_failed``, a 0/1
        probability, null without history), ``baseline_rolling_rate`` (the rolling per-workflow
        failure rate) and ``baseline_duration_median5`` (median duration of the last 5 runs).

    Raises:
        ValueError: if the rolling-rate column for ``window`` (or any) is absent.
    """
    prefix = "workflow_fail_rate_"
    available = sorted(int(c.removeprefix(prefix)) for c in features.columns if c.startswith(prefix))
    if window is None:
        if not available:
            raise ValueError("features have no workflow_fail_rate_N column")
        window = available[-1]
    if window not in available:
        raise ValueError(f"features have no {prefix}{window} column (available: {available})")
    return features.select(
        "id",
        "run_attempt",
        "repo",
        pl.col("prev_failed").alias("baseline_previous_outcome"),
        pl.col(f"{prefix}{window}").alias("baseline_rolling_rate"),
        pl.col("duration_median5").alias("baseline_duration_median5"),
    )


def _check_schema(runs: pl.DataFrame) -> None:
    problems = []
    for name, dtype in RUN_INPUT_SCHEMA.items():
        if name not in runs.schema:
            problems.append(f"{name} missing")
        elif runs.schema[name] != dtype:
            problems.append(f"{name} is {runs.schema[name]}, expected {dtype}")
    if problems:
        raise ValueError("runs do not match RUN_INPUT_SCHEMA: " + "; ".join(problems))


def _keys(columns: Sequence[str]) -> list[str]:
    """The null-filled key columns standing for ``columns``."""
    return [f"_{c}" for c in columns]


def _asof(left: pl.LazyFrame, right: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """Attach to each row the latest completion event of its group known at its trigger.

    Both sides are sorted globally by their time key, hence within every ``by`` group, which
    is what a backward as-of join needs; exact matches count (known at the trigger instant).
    """
    return left.join_asof(
        right,
        left_on="created_at",
        right_on="_known",
        by=by,
        strategy="backward",
        allow_exact_matches=True,
        check_sortedness=False,
    ).drop("_known", strict=False)


def _last_per_instant(events: pl.LazyFrame, by: list[str]) -> pl.LazyFrame:
    """Keep the last event of each group and instant: it carries all the events of that instant.

    The as-of join would pick one of several events with the same ``known_at``; keeping only
    the last makes the choice explicit rather than an implementation detail.
    """
    return events.filter((pl.col("_known").shift(-1).over(by) != pl.col("_known")).fill_null(True))


def _cumulative(by: list[str]) -> list[pl.Expr]:
    return [
        pl.col("_fail").cum_sum().over(by).alias("_cf"),
        pl.col("_labelled").cum_sum().over(by).alias("_cl"),
    ]


def _rates(by: list[str], windows: Sequence[int], prefix: str) -> list[pl.Expr]:
    """Failure rates over the last N events: differences of cumulative sums and their N-lags."""
    out = []
    for n in windows:
        failures = pl.col("_cf") - pl.col("_cf").shift(n, fill_value=0).over(by)
        labelled = pl.col("_cl") - pl.col("_cl").shift(n, fill_value=0).over(by)
        out.append(pl.when(labelled > 0).then(failures / labelled).alias(f"{prefix}_{n}"))
    return out


def _rate_events(
    events: pl.LazyFrame, group: Sequence[str], windows: Sequence[int], prefix: str
) -> pl.LazyFrame:
    by = _keys(group)
    return (
        events.select(*by, "_known", "_fail", "_labelled")
        .with_columns(_cumulative(by))
        .with_columns(_rates(by, windows, prefix))
        .pipe(_last_per_instant, by)
        .select(*by, "_known", *(f"{prefix}_{n}" for n in windows))
    )


def _repo_events(events: pl.LazyFrame) -> pl.LazyFrame:
    by = _keys(("repo",))
    return (
        events.select(*by, "_known", "_fail", "_labelled", "duration_seconds", "failed")
        .with_columns(
            *_cumulative(by),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias("_repo_completed"),
            pl.col("failed").cast(pl.Float64).forward_fill().over(by).alias("repo_prev_failed"),
        )
        .with_columns(
            *_rates(by, (REPO_WINDOW,), "repo_fail_rate"),
            *(
                pl.col("duration_seconds")
                .rolling_median(n, min_samples=1)
                .over(by)
                .alias(f"repo_duration_median{n}")
                for n in REPO_DURATION_WINDOWS
            ),
        )
        .pipe(_last_per_instant, by)
        .select(
            *by,
            "_known",
            f"repo_fail_rate_{REPO_WINDOW}",
            *(f"repo_duration_median{n}" for n in REPO_DURATION_WINDOWS),
            "repo_prev_failed",
            "_repo_completed",
            pl.col("_known").alias("_repo_prev_known"),
        )
    )


def _commit_events(events: pl.LazyFrame) -> pl.LazyFrame:
    """History of each commit in its repository: every workflow, branch and attempt that built it."""
    by = ["_repo", "_commit"]
    return (
        events.select(*by, "_known", "_fail", "failed")
        .with_columns(
            pl.col("_fail").cum_sum().over(by).alias("commit_failures"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias("commit_completed_runs"),
            pl.col("failed").cast(pl.Float64).forward_fill().over(by).alias("commit_prev_failed"),
        )
        .pipe(_last_per_instant, by)
        .select(*by, "_known", "commit_prev_failed", "commit_failures", "commit_completed_runs")
    )


def _history_events(events: pl.LazyFrame, windows: Sequence[int]) -> pl.LazyFrame:
    by = _keys(_HISTORY)
    return (
        events.with_columns(
            *_cumulative(by),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias("completed_runs"),
            pl.col("failed").cast(pl.Float64).forward_fill().over(by).alias("prev_failed"),
            pl.col("duration_seconds")
            .rolling_median(DURATION_WINDOW, min_samples=1)
            .over(by)
            .alias("duration_median5"),
        )
        .with_columns(
            *_rates(by, windows, "fail_rate"),
            # failures since the last pass: cumulative failures minus their value at that pass
            (
                pl.col("_cf")
                - pl.when(pl.col("failed").not_()).then(pl.col("_cf")).forward_fill().over(by).fill_null(0)
            ).alias("fail_streak"),
        )
        .pipe(_last_per_instant, by)
        .select(
            *by,
            "_known",
            "prev_failed",
            pl.col("duration_seconds").alias("prev_duration"),
            pl.col("log_tests_failed").alias("prev_log_tests_failed"),
            pl.col("log_tests_run").alias("prev_log_tests_run"),
            "fail_streak",
            "completed_runs",
            "duration_median5",
            *(f"fail_rate_{n}" for n in windows),
            pl.col("_known").alias("_prev_known"),
        )
    )


def _actor_events(events: pl.LazyFrame, windows: Sequence[int]) -> pl.LazyFrame:
    by = ["_actor"]
    return (
        events.select(
            *by, "_known", "_fail", "_labelled", "_has_duration", pl.col("duration_seconds").fill_null(0.0)
        )
        .with_columns(
            *_cumulative(by),
            pl.col("duration_seconds").cum_sum().over(by).alias("_dur_sum"),
            pl.col("_has_duration").cum_sum().over(by).alias("_dur_n"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over(by).alias("actor_completed_runs"),
        )
        .with_columns(
            *_rates(by, windows, "_actor_fail_rate"),
            pl.when(pl.col("_cl") > 0).then(1.0 - pl.col("_cf") / pl.col("_cl")).alias("actor_success_rate"),
            pl.when(pl.col("_dur_n") > 0)
            .then(pl.col("_dur_sum") / pl.col("_dur_n"))
            .alias("actor_avg_duration"),
        )
        .pipe(_last_per_instant, by)
        .select(
            *by,
            "_known",
            "actor_success_rate",
            *((1.0 - pl.col(f"_actor_fail_rate_{n}")).alias(f"actor_success_rate_{n}") for n in windows),
            "actor_avg_duration",
            "actor_completed_runs",
        )
    )


def _seconds(delta: pl.Expr) -> pl.Expr:
    return delta.dt.total_microseconds().cast(pl.Float64) / 1e6


def _share(column: str) -> pl.Expr:
    total = pl.col("src_churn") + pl.col("test_churn") + pl.col("doc_churn")
    return pl.when(total > 0).then(pl.col(column) / total).alias(column.replace("_churn", "_share"))


def _derive(joined: pl.LazyFrame, windows: Sequence[int]) -> pl.LazyFrame:
    """Turn the joined history into the documented feature columns."""
    known_actor = pl.col("actor").is_not_null()
    has_commit = pl.col("head_sha").is_not_null()
    return joined.with_columns(
        pl.concat_str(
            pl.col("_repo"),
            pl.col("_workflow"),
            pl.coalesce(pl.col("head_sha"), pl.lit("#") + pl.col("id").cast(pl.String)),
            separator="|",
        ).alias("attempt_group"),
        pl.col("created_at").dt.hour().cast(pl.Int8).alias("hour"),
        pl.col("created_at").dt.weekday().cast(pl.Int8).alias("day_of_week"),
        pl.col("is_pr").cast(pl.Int8),
        pl.col("by_core_member").cast(pl.Int8),
        (pl.col("lines_added") + pl.col("lines_deleted")).cast(pl.Float64).log1p().alias("log_churn"),
        _share("src_churn"),
        _share("test_churn"),
        _share("doc_churn"),
        _seconds(pl.col("created_at") - pl.col("_prev_created")).alias("since_prev_run"),
        _seconds(pl.col("created_at") - pl.col("_prev_known")).alias("since_prev_finish"),
        pl.col("fail_streak").fill_null(0),
        pl.col("completed_runs").fill_null(0),
        (pl.col("_before") - pl.col("completed_runs").fill_null(0)).alias("runs_in_flight"),
        _seconds(pl.col("created_at") - pl.col("_repo_prev_known")).alias("since_repo_prev_finish"),
        (pl.col("_repo_before") - pl.col("_repo_completed").fill_null(0)).alias("repo_runs_in_flight"),
        *(
            pl.when(has_commit).then(pl.col(c).fill_null(0)).alias(c)
            for c in ("commit_failures", "commit_completed_runs")
        ),
        pl.when(has_commit).then(pl.col("commit_prev_failed")).alias("commit_prev_failed"),
        pl.when(known_actor).then(pl.col("actor_completed_runs").fill_null(0)).alias("actor_completed_runs"),
    )
