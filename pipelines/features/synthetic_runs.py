"""A fast, vectorised generator of SYNTHETIC run inputs for benchmarks and tests.

:func:`synthetic_run_inputs` returns a frame in
:data:`~pipelines.features.schemas.RUN_INPUT_SCHEMA` with the structure real CI history has,
so that the run-feature code is exercised (and timed) on realistic shapes rather than on
uniform noise. It is synthetic: no claim about model quality is ever made on it.

The structure it simulates:

* repositories of very different sizes (log-normal weights), each with one to five workflows
  drawn from a common set of names, a base duration, a base failure tendency and a flakiness
  per workflow;
* triggers (a push, a pull request update, a schedule, a manual dispatch) spread over one year
  with a weekday and office-hours profile; a trigger starts several workflows of its repository
  at the same instant on the same commit (so ``created_at`` ties are common);
* ``main`` and many feature branches; pull request events on feature branches;
* actors drawn from a per-repository team, some of them shared between repositories, the first
  ~30% of a team being core members; a few actors unknown (null);
* failures that are likelier for larger changes and smaller for documentation-only changes and
  core members, that persist for a few runs on the same repository, workflow and branch (a
  broken build stays broken until fixed), and flaky failures that do not persist;
* re-run attempts of failed runs (attempt 2, same id and commit), which usually pass when the
  failure was flaky and usually fail again when it was not;
* ``finished_at = created_at + duration``; runs still going at the end of the year have no
  outcome yet (null ``finished_at``, ``conclusion``, ``failed`` and ``duration_seconds``).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
import polars as pl

from pipelines.features.schemas import RUN_INPUT_SCHEMA, empty_runs

_WORKFLOW_NAMES = ("ci", "tests", "lint", "build", "e2e", "docs", "release")
_WORKFLOWS_ARRAY = np.array(_WORKFLOW_NAMES)
_TEST_WORKFLOWS = frozenset({"ci", "tests", "e2e"})
_EVENTS = ("push", "pull_request", "schedule", "workflow_dispatch")
_MAX_WORKFLOWS = 5
_ORG_LOGINS = 2_500
_START_US = int(datetime(2024, 1, 1, tzinfo=UTC).timestamp() * 1_000_000)  # a Monday
_DAYS = 366
_US = 1_000_000
_RERUN_SHARE = 0.04
_TIMEOUT_SECONDS = 3_600.0

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


def synthetic_run_inputs(n_runs: int, *, repos: int = 200, seed: int = 0) -> pl.DataFrame:
    """Generate ``n_runs`` synthetic run attempts across ``repos`` repositories.

    The same arguments always give the same frame. Rows come sorted by ``created_at``.

    Args:
        n_runs: exact number of rows (run attempts) to generate.
        repos: number of repositories the runs are spread over.
        seed: seed of the random generator.

    Returns:
        A frame with exactly the columns and dtypes of ``RUN_INPUT_SCHEMA``.

    Raises:
        ValueError: if ``n_runs`` is negative or ``repos`` is not positive.
    """
    if n_runs < 0:
        raise ValueError(f"n_runs must be >= 0, got {n_runs}")
    if repos < 1:
        raise ValueError(f"repos must be >= 1, got {repos}")
    if n_runs == 0:
        return empty_runs()
    rng = np.random.default_rng(seed)
    n_reruns = round(n_runs * _RERUN_SHARE) if n_runs >= 2 else 0
    n_first = n_runs - n_reruns

    # --- repositories and their workflows -----------------------------------------------------
    weight = rng.lognormal(0.0, 1.0, repos)
    weight /= weight.sum()
    n_workflows = rng.integers(1, _MAX_WORKFLOWS + 1, repos)
    name_of_slot = rng.permuted(np.tile(np.arange(len(_WORKFLOWS_ARRAY)), (repos, 1)), axis=1)[
        :, :_MAX_WORKFLOWS
    ]
    slot_fail = rng.normal(-3.4, 0.5, (repos, _MAX_WORKFLOWS))
    slot_flaky = rng.beta(1.0, 25.0, (repos, _MAX_WORKFLOWS))
    slot_duration = rng.lognormal(math.log(240.0), 0.7, (repos, _MAX_WORKFLOWS))
    slot_trigger_p = rng.uniform(0.5, 1.0, (repos, _MAX_WORKFLOWS))
    slot_trigger_p[:, 0] = 1.0
    slot_trigger_p[np.arange(_MAX_WORKFLOWS)[None, :] >= n_workflows[:, None]] = 0.0
    slot_has_tests = np.isin(_WORKFLOWS_ARRAY[name_of_slot], list(_TEST_WORKFLOWS))
    team = rng.integers(3, 41, repos)
    core = np.ceil(team * 0.3).astype(np.int64)
    branches = np.maximum(5, (weight * n_runs / 40.0).astype(np.int64))
    coverage_mean = np.where(rng.random(repos) < 0.5, rng.uniform(40.0, 95.0, repos), np.nan)
    density = rng.gamma(4.0, 5.0, repos)
    tests_total = rng.lognormal(math.log(400.0), 1.0, repos)

    # --- triggers, fanned out to workflows ------------------------------------------------------
    trig_repo, row_trigger, row_slot = _fan_out(rng, n_first, weight, slot_trigger_p)
    n_trig = len(trig_repo)
    trig_time = _trigger_times(rng, n_trig)
    on_main = rng.random(n_trig) < 0.45
    branch_no = np.where(on_main, -1, (rng.random(n_trig) * branches[trig_repo]).astype(np.int64))
    roll = rng.random(n_trig)
    event = np.where(
        on_main,
        np.where(roll < 0.9, 0, np.where(roll < 0.95, 2, 3)),
        np.where(roll < 0.7, 1, 0),
    )
    actor_slot = (rng.random(n_trig) ** 2 * team[trig_repo]).astype(np.int64)
    actor_login = (trig_repo * 7_919 + actor_slot * 104_729) % _ORG_LOGINS
    actor_known = rng.random(n_trig) >= 0.02
    added = np.floor(rng.lognormal(math.log(25.0), 1.4, n_trig)).astype(np.int64)
    deleted = np.floor(rng.lognormal(math.log(8.0), 1.5, n_trig)).astype(np.int64)
    churn = added + deleted
    doc_only = rng.random(n_trig) < 0.08
    test_part = np.where(doc_only, 0, np.round(churn * rng.beta(1.0, 3.0, n_trig))).astype(np.int64)
    doc_part = np.where(doc_only, churn, np.round(churn * rng.beta(1.0, 12.0, n_trig))).astype(np.int64)
    doc_part = np.minimum(doc_part, churn - test_part)
    src_part = churn - test_part - doc_part
    files = 1 + rng.poisson(0.8 * np.log1p(churn))
    tests_added = np.where(test_part > 0, rng.poisson(test_part / 40.0), 0)
    is_pr = event == 1
    reviews = rng.poisson(1.0, n_trig)
    approved = is_pr & (reviews > 0) & (rng.random(n_trig) < 0.7)
    approval = rng.lognormal(math.log(3.0 * 3_600.0), 1.2, n_trig)
    sha = _hex_shas(rng, n_trig)

    # --- first attempts: order, ids and outcomes ------------------------------------------------
    t = row_trigger
    repo = trig_repo[t]
    created = trig_time[t]
    order = np.lexsort((row_slot, t, created))
    t, repo, slot, created = t[order], repo[order], row_slot[order], created[order]
    run_id = 1_000_000_000 + np.arange(n_first, dtype=np.int64)

    log_churn = np.log1p(churn[t])
    core_member = actor_slot[t] < core[repo]
    logit = slot_fail[repo, slot] + 0.35 * log_churn - 0.8 * doc_only[t] - 0.3 * core_member
    real_fail = rng.random(n_first) < 1.0 / (1.0 + np.exp(-logit))
    persists = _persist(rng, real_fail, repo, slot, branch_no[t], created)
    flaky = rng.random(n_first) < slot_flaky[repo, slot]
    failed = persists | flaky
    flaky_only = flaky & ~persists
    duration = slot_duration[repo, slot] * rng.lognormal(0.0, 0.25, n_first) * (1.0 + 0.05 * log_churn)

    # --- re-runs of failed attempts -------------------------------------------------------------
    candidates = np.flatnonzero(failed)
    if len(candidates) < n_reruns:
        candidates = np.arange(n_first)
    parent = np.sort(rng.choice(candidates, size=n_reruns, replace=False))
    rerun_fails = rng.random(n_reruns) < np.where(flaky_only[parent], 0.1, 0.7)
    rerun_delay = rng.lognormal(math.log(600.0), 1.0, n_reruns)
    rerun_created = created[parent] + np.round((duration[parent] + rerun_delay) * _US).astype(np.int64)
    rerun_duration = slot_duration[repo[parent], slot[parent]] * rng.lognormal(0.0, 0.25, n_reruns)

    src = np.concatenate([np.arange(n_first), parent])
    t, repo, slot = t[src], repo[src], slot[src]
    created = np.concatenate([created, rerun_created])
    failed = np.concatenate([failed, rerun_fails])
    duration = np.concatenate([duration, rerun_duration])
    attempt = np.concatenate([np.ones(n_first, np.int32), np.full(n_reruns, 2, np.int32)])
    run_id = run_id[src]

    # --- conclusions, durations, post-build facts ---------------------------------------------
    n = n_runs
    roll = rng.random(n)
    timed_out = failed & (roll < 0.04)
    cancelled = ~failed & (roll < 0.015)
    duration = np.where(failed & ~timed_out, duration * rng.uniform(0.2, 1.0, n), duration)
    duration = np.where(timed_out, _TIMEOUT_SECONDS, duration)
    duration = np.where(cancelled, duration * rng.uniform(0.05, 0.6, n), duration)
    duration = np.round(duration, 3)
    finished = created + np.round(duration * _US).astype(np.int64)
    done = finished <= _START_US + _DAYS * 86_400 * _US
    conclusion = np.where(timed_out, 3, np.where(failed, 1, np.where(cancelled, 2, 0)))
    has_tests = slot_has_tests[repo, slot] & ~timed_out & ~cancelled & done
    tests_run = np.round(tests_total[repo] * rng.uniform(0.95, 1.05, n))
    tests_failed = np.where(failed, 1 + rng.poisson(1.5, n), 0).astype(np.float64)
    coverage = np.clip(coverage_mean[repo] + rng.normal(0.0, 2.0, n), 0.0, 100.0)

    frame = pl.DataFrame(
        {
            "id": run_id,
            "run_attempt": attempt,
            "_repo": repo,
            "_workflow": name_of_slot[repo, slot],
            "_branch": branch_no[t],
            "_event": event[t],
            "head_sha": sha.gather(t),
            "_actor": np.where(actor_known[t], actor_login[t], -1),
            "is_pr": is_pr[t],
            "_created": created,
            "_finished": np.where(done, finished, -1),
            "_conclusion": np.where(done, conclusion, -1),
            "failed": failed,
            "duration_seconds": duration,
            "_done": done,
            "lines_added": added[t],
            "lines_deleted": deleted[t],
            "files_changed": files[t],
            "src_churn": src_part[t],
            "test_churn": test_part[t],
            "doc_churn": doc_part[t],
            "tests_added": tests_added[t],
            "test_density": np.round(density[repo] * rng.lognormal(0.0, 0.05, n), 3),
            "coverage": np.round(coverage, 2),
            "review_count": np.where(is_pr[t], reviews[t], -1),
            "approval_seconds": np.where(approved[t], np.round(approval[t], 0), np.nan),
            "team_size": team[repo],
            "by_core_member": actor_slot[t] < core[repo],
            "_has_tests": has_tests,
            "log_tests_failed": tests_failed,
            "log_tests_run": tests_run,
        }
    )
    repo_names = pl.Series([f"synthetic-org/repo-{i:03d}" for i in range(repos)], dtype=pl.String)
    names = pl.Series(list(_WORKFLOW_NAMES), dtype=pl.String)
    events = pl.Series(list(_EVENTS), dtype=pl.String)
    conclusions = pl.Series(["success", "failure", "cancelled", "timed_out"], dtype=pl.String)
    done_col = pl.col("_done")
    frame = (
        frame.with_columns(
            repo=repo_names.gather(frame["_repo"]),
            workflow=names.gather(frame["_workflow"]),
            event=events.gather(frame["_event"]),
            conclusion=pl.when(done_col).then(conclusions.gather(frame["_conclusion"].clip(0, 3))),
        )
        .with_columns(
            branch=pl.when(pl.col("_branch") < 0)
            .then(pl.lit("main"))
            .otherwise(pl.format("feature/{}", pl.col("_branch"))),
            pull_number=pl.when(pl.col("is_pr")).then(pl.col("_branch") + 1),
            actor=pl.when(pl.col("_actor") >= 0).then(pl.format("dev-{}", pl.col("_actor"))),
            by_core_member=pl.when(pl.col("_actor") >= 0).then(pl.col("by_core_member")),
            created_at=pl.from_epoch(pl.col("_created"), time_unit="us").dt.replace_time_zone("UTC"),
            finished_at=pl.when(done_col).then(
                pl.from_epoch(pl.col("_finished"), time_unit="us").dt.replace_time_zone("UTC")
            ),
            failed=pl.when(done_col & (pl.col("_conclusion") != 2)).then(pl.col("failed")),
            duration_seconds=pl.when(done_col).then(pl.col("duration_seconds")),
            coverage=pl.col("coverage").fill_nan(None),
            review_count=pl.when(pl.col("review_count") >= 0).then(pl.col("review_count")),
            approval_seconds=pl.col("approval_seconds").fill_nan(None),
            log_tests_failed=pl.when(pl.col("_has_tests")).then(pl.col("log_tests_failed")),
            log_tests_run=pl.when(pl.col("_has_tests")).then(pl.col("log_tests_run")),
        )
        .sort("created_at", "id", "run_attempt", maintain_order=True)
    )
    return frame.select(pl.col(name).cast(dtype) for name, dtype in RUN_INPUT_SCHEMA.items())


def _fan_out(
    rng: np.random.Generator, n_rows: int, weight: Floats, trigger_p: Floats
) -> tuple[Ints, Ints, Ints]:
    """Draw triggers and the workflows each one starts, until exactly ``n_rows`` runs exist.

    Returns:
        The repository of every trigger, and for every run its trigger index and workflow slot.
    """
    expected = float((weight * trigger_p.sum(axis=1)).sum())
    batch = math.ceil(n_rows / expected * 1.05) + 16
    repos: list[Ints] = []
    masks: list[Bools] = []
    total = 0
    while total < n_rows:
        trig_repo = rng.choice(len(weight), size=batch, p=weight).astype(np.int64)
        mask = rng.random((batch, _MAX_WORKFLOWS)) < trigger_p[trig_repo]
        repos.append(trig_repo)
        masks.append(mask)
        total += int(mask.sum())
    trig_repo = np.concatenate(repos)
    row_trigger, row_slot = np.nonzero(np.concatenate(masks))
    return trig_repo, row_trigger[:n_rows].astype(np.int64), row_slot[:n_rows].astype(np.int64)


def _trigger_times(rng: np.random.Generator, n: int) -> Ints:
    """Trigger instants (µs since the epoch, UTC) over a year: busier on weekdays and by day."""
    day_weight = np.where(np.arange(_DAYS) % 7 < 5, 1.0, 0.3)
    day = rng.choice(_DAYS, size=n, p=day_weight / day_weight.sum())
    office = [0.6, 1.0, 1.4, 1.5, 1.3, 1.0, 1.4, 1.5, 1.4, 1.2, 0.9, 0.6]
    hour_weight = np.array([0.2] * 7 + office + [0.3] * 5)
    hour = rng.choice(24, size=n, p=hour_weight / hour_weight.sum())
    second = rng.integers(0, 3_600, n)
    micro = rng.integers(0, _US, n)
    return _START_US + ((day * 24 + hour) * 3_600 + second) * _US + micro


def _persist(
    rng: np.random.Generator, real_fail: Bools, repo: Ints, slot: Ints, branch: Ints, created: Ints
) -> Bools:
    """Extend every real failure over the next few runs of the same repository, workflow, branch.

    A failure at position ``i`` of its group keeps the group broken for ``L ~ Geometric(0.6) - 1``
    more runs. With the runs laid out group by group in time order, a run is failed when the
    running maximum of "broken until" positions reaches it; clipping each reach to the end of
    its own group keeps one group's breakage from leaking into the next.
    """
    n = len(real_fail)
    order = np.lexsort((created, branch, slot, repo))
    r, s, b = repo[order], slot[order], branch[order]
    new_group = np.ones(n, dtype=np.bool_)
    new_group[1:] = (r[1:] != r[:-1]) | (s[1:] != s[:-1]) | (b[1:] != b[:-1])
    starts = np.flatnonzero(new_group)
    ends = np.append(starts[1:], n) - 1
    group_end = np.repeat(ends, np.diff(np.append(starts, n)))
    pos = np.arange(n, dtype=np.int64)
    extra = rng.geometric(0.6, n) - 1
    reach = np.where(real_fail[order], np.minimum(pos + extra, group_end), -1)
    failed_sorted = np.maximum.accumulate(reach) >= pos
    failed = np.empty(n, dtype=np.bool_)
    failed[order] = failed_sorted
    return failed


def _hex_shas(rng: np.random.Generator, n: int) -> pl.Series:
    """``n`` random 40-character lower-case hexadecimal commit SHAs."""
    nibbles = rng.integers(0, 16, (n, 40), dtype=np.uint8)
    chars = np.ascontiguousarray(np.frombuffer(b"0123456789abcdef", dtype=np.uint8)[nibbles])
    return pl.Series("head_sha", chars.view("S40").ravel()).cast(pl.String)
