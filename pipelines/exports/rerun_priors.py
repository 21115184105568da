"""The ``rerun_priors`` export: how often re-running a failed run succeeded, for the heal action.

Counts come from the warehouse's run attempts (``warehouse/sql/exports/rerun_history.sql``): a
failed attempt followed by another attempt of the same run is a re-run, a success when that
attempt passed. They are kept per workflow (``failure_class: any``) and, for the failed attempts
whose failure was classified (``features.failure_classes``, one row per attempt, joined on
repository, run id and attempt: ``rerun_history_by_class.sql``), per workflow and class.

Rates are shrunk hierarchically, each level towards the one above with a fixed number of pseudo
re-runs (the posterior mean under a beta prior centred on the level above), so a workflow or a
class seen re-run twice is not judged on two coin flips:

* a workflow's rate is shrunk towards a prior rate with :data:`PRIOR_WEIGHT` pseudo re-runs:
  ``(successes + PRIOR_WEIGHT * prior) / (reruns + PRIOR_WEIGHT)``. The prior rate comes from the
  public re-run history of "On the Reruns of GitHub Actions Workflows" (MSR 2024, the
  ``gha-reruns`` data) when its folder is given: the rate of workflows with the same file name
  when there are at least :data:`MIN_FILE_RERUNS` of them, else over all its workflows; otherwise
  from the organisation's own re-runs pooled over its workflows; with neither, there is no prior
  and rates are the observed ones.
* a class's rate is shrunk towards its workflow's (already shrunk) rate with
  :data:`CLASS_PRIOR_WEIGHT` pseudo re-runs; that rate is the entry's ``prior_rate``. A class with
  few re-runs stays near its workflow's rate and moves to its own as they accumulate.

The workflow's rate includes the class's own re-runs, so these count at both levels: a class is
pulled a little less towards its workflow's other re-runs than a leave-one-out prior would pull
it, a small difference with two pseudo re-runs and one that keeps every class's prior the one
rate the workflow's entry shows.
The weights are fixed rather than fitted (an empirical-Bayes beta-binomial fit): a workflow has
at most three classes, too few to estimate how much its classes' rates spread. The heal action
uses a class's entry once it has ``min_history`` re-runs of its own, else the workflow's.

The document also carries the failure signatures' history (``signatures``, from
``warehouse/sql/exports/failure_signatures.sql`` once ``features.failure_classes`` is built): for
each repository and signature (:func:`actions.healing.signatures.signature`), the failed runs,
distinct head commits, first and last seen, the re-runs and how many failed again the same way, and
the most recently seen commits. The heal action turns a transient failure that already failed in
enough earlier runs on other commits into a permanent one (``persistent_after``). It is part of this
export rather than one of its own because it is the same kind of knowledge, the warehouse's re-run
history telling the heal action when a re-run is pointless, read at the same moment by the same
reader; the key is optional, so earlier documents stay valid.

The public data is read only from the folder the caller passes (the exports resource's
``rerun_priors`` field); nothing of it is committed, and only aggregate rates reach the export.
"""

from __future__ import annotations

import ast
import csv
import gzip
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from actions.common.conclusions import HEALABLE_CONCLUSIONS
from actions.common.schemas import SCHEMA_VERSION
from pipelines.exports.documents import iso

PRIOR_WEIGHT = 2.0
"""Pseudo re-runs the prior rate counts for in each workflow's rate."""
CLASS_PRIOR_WEIGHT = 2.0
"""Pseudo re-runs a workflow's rate counts for in the rate of each class of its failures."""
SIGNATURE_DAYS = 90
"""Days of failures (before the newest classified one) the signatures' history covers."""
SIGNATURE_COMMITS = 10
"""Most recently seen commits kept per signature (the heal action counts runs on other commits)."""
MIN_FILE_RERUNS = 50
"""Public re-runs of a workflow file name needed before its own rate is the prior."""
WORKFLOW_RERUNS_FILE = "dataframe_workflow_rerun_distinct.csv.gz"
"""The workflow-level re-run sets of the gha-reruns data: one row per (repository, workflow, branch)."""


@dataclass(frozen=True)
class PublicPriors:
    """Re-run outcomes in the public data: overall and by workflow file name.

    Attributes:
        reruns: failed runs that were run again.
        successes: of those, runs that then passed.
        by_file: workflow file name (``ci.yml``) → ``(reruns, successes)``.
    """

    reruns: int
    successes: int
    by_file: Mapping[str, tuple[int, int]]

    def rate_for(self, workflow_path: str | None) -> float | None:
        """The prior rate of a workflow file: its name's rate with enough data, else the overall one."""
        name = PurePosixPath(workflow_path or "").name
        reruns, successes = self.by_file.get(name, (0, 0))
        if reruns >= MIN_FILE_RERUNS:
            return successes / reruns
        return self.successes / self.reruns if self.reruns else None


def read_public_priors(folder: Path) -> PublicPriors:
    """Count re-run outcomes in the gha-reruns workflow table.

    Each row holds re-run sets (runs of one workflow on one commit, in order) with the conclusion
    of each run; a failed run followed by another run of the set is a re-run.

    Raises:
        FileNotFoundError: when the table is not in ``folder``.
        ValueError: when a row cannot be read.
    """
    path = folder / WORKFLOW_RERUNS_FILE
    csv.field_size_limit(1 << 26)  # a row lists every run URL of its sets
    total = [0, 0]
    by_file: dict[str, list[int]] = {}
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        for number, row in enumerate(csv.DictReader(handle), start=2):
            try:
                sets = ast.literal_eval(row["rerun conclusion"])
                name = PurePosixPath(row["workflow file path"]).name
            except (KeyError, ValueError, SyntaxError) as error:
                raise ValueError(f"{path.name}: row {number} cannot be read: {error}") from None
            counts = by_file.setdefault(name, [0, 0])
            for conclusions in sets:
                for before, after in itertools.pairwise(conclusions):
                    if before in HEALABLE_CONCLUSIONS:
                        passed = int(after == "success")
                        counts[0] += 1
                        counts[1] += passed
                        total[0] += 1
                        total[1] += passed
    return PublicPriors(total[0], total[1], {name: (c[0], c[1]) for name, c in by_file.items()})


def configured_public_priors(path: Path | None) -> PublicPriors | None:
    """The public priors in the gha-reruns folder ``path``; None when no folder is configured."""
    return None if path is None else read_public_priors(path)


def _shrunk(successes: int, reruns: int, prior: float | None, weight: float) -> float | None:
    """The rate with ``weight`` pseudo re-runs at the ``prior`` rate; the observed one without a prior."""
    if prior is None:
        return successes / reruns if reruns else None
    return (successes + weight * prior) / (reruns + weight)


def _rounded(rate: float | None) -> float | None:
    return None if rate is None else round(float(rate), 6)


def signatures_section(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """The ``signatures`` part of the document from rows of ``exports/failure_signatures``."""
    entries = [
        {
            "repo": str(row["repo"]),
            "signature": str(row["signature"]),
            "failed_runs": int(row["failed_runs"]),
            "commits": int(row["commits"]),
            "first_seen": iso(row["first_seen"]),
            "last_seen": iso(row["last_seen"]),
            "reruns": int(row["reruns"]),
            "rerun_successes": int(row["rerun_successes"]),
            "rerun_failures": int(row["rerun_failures"]),
            "recent_commits": [
                {
                    "head_sha": str(commit["head_sha"]),
                    "runs": int(commit["runs"]),
                    "first_seen": iso(commit["first_seen"]),
                    "last_seen": iso(commit["last_seen"]),
                }
                for commit in row["recent_commits"]
            ],
        }
        for row in rows
    ]
    entries.sort(key=lambda e: (e["repo"], e["signature"]))
    return {"window_days": SIGNATURE_DAYS, "max_commits": SIGNATURE_COMMITS, "entries": entries}


def rerun_priors_document(
    history: Iterable[Mapping[str, Any]],
    public: PublicPriors | None,
    *,
    generated_at: datetime,
    by_class: Iterable[Mapping[str, Any]] = (),
    signatures: Iterable[Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """The ``rerun_priors`` export from the warehouse's re-run counts and the public priors.

    Args:
        history: rows of ``exports/rerun_history`` (``repo``, ``workflow``, ``workflow_path``,
            ``reruns``, ``successes``).
        public: the public re-run priors, or None.
        generated_at: when the exports are made.
        by_class: rows of ``exports/rerun_history_by_class`` (``repo``, ``workflow``,
            ``failure_class``, ``reruns``, ``successes``); each workflow must be in ``history``.
        signatures: rows of ``exports/failure_signatures``, or None (no ``signatures`` key).

    Raises:
        ValueError: when a class row's workflow has no row in ``history``.
    """
    rows = list(history)
    own_reruns = sum(int(row["reruns"]) for row in rows)
    own_successes = sum(int(row["successes"]) for row in rows)
    source: str
    base_rate: float | None
    if public is not None and public.reruns:
        source, base_rate, base_reruns = "gha-reruns", public.successes / public.reruns, public.reruns
    elif own_reruns:
        source, base_rate, base_reruns = "warehouse", own_successes / own_reruns, own_reruns
    else:
        source, base_rate, base_reruns = "none", None, 0
    entries: list[dict[str, Any]] = []
    workflows: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        reruns, successes = int(row["reruns"]), int(row["successes"])
        prior_rate = (
            public.rate_for(row.get("workflow_path"))
            if public is not None and source == "gha-reruns"
            else base_rate
        )
        entry: dict[str, Any] = {
            "repo": str(row["repo"]),
            "workflow": str(row["workflow"]),
            "failure_class": "any",
            "reruns": reruns,
            "successes": successes,
            "prior_rate": _rounded(prior_rate),
            "rate": _rounded(_shrunk(successes, reruns, prior_rate, PRIOR_WEIGHT)),
            "source": "warehouse" if prior_rate is None else f"warehouse+{source}",
        }
        entries.append(entry)
        workflows[(entry["repo"], entry["workflow"])] = entry
    for row in by_class:
        key = (str(row["repo"]), str(row["workflow"]))
        workflow = workflows.get(key)
        if workflow is None:
            raise ValueError(f"re-runs of {row['failure_class']} failures of {key} have no workflow row")
        reruns, successes = int(row["reruns"]), int(row["successes"])
        entries.append(
            {
                "repo": key[0],
                "workflow": key[1],
                "failure_class": str(row["failure_class"]),
                "reruns": reruns,
                "successes": successes,
                "prior_rate": workflow["rate"],
                "rate": _rounded(_shrunk(successes, reruns, workflow["rate"], CLASS_PRIOR_WEIGHT)),
                "source": "warehouse+workflow" + workflow["source"].removeprefix("warehouse"),
            }
        )
    entries.sort(key=lambda e: (e["repo"], e["workflow"], e["failure_class"] != "any", e["failure_class"]))
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(generated_at),
        "prior": {
            "source": source,
            "rate": _rounded(base_rate),
            "weight": PRIOR_WEIGHT if base_rate is not None else 0.0,
            "class_weight": CLASS_PRIOR_WEIGHT,
            "reruns": base_reruns,
        },
        "entries": entries,
    }
    if signatures is not None:
        document["signatures"] = signatures_section(signatures)
    return document
