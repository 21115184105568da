"""The ``rerun_priors`` export: how often re-running a failed run succeeded, for the heal action.

Counts come from the warehouse's run attempts (``warehouse/sql/exports/rerun_history.sql``): a
failed attempt followed by another attempt of the same run is a re-run, a success when that
attempt passed. Each workflow's rate is shrunk towards a prior rate with :data:`PRIOR_WEIGHT`
pseudo re-runs, so a workflow seen re-run twice is not judged on two coin flips:

* the prior rate comes from the public re-run history of "On the Reruns of GitHub Actions
  Workflows" (MSR 2024, the ``gha-reruns`` data) when a path to it is configured: the rate of
  workflows with the same file name when there are at least :data:`MIN_FILE_RERUNS` of them,
  else over all its workflows;
* otherwise from the organisation's own re-runs pooled over its workflows;
* with neither, there is no prior and rates are the observed ones.

The pipeline reads the public data only from the configured path (``REPOPILOT_RERUN_PRIORS``);
nothing of it is committed, and only aggregate rates reach the export. The warehouse keeps no job
logs, so rows are for failures of any class (``failure_class: any``).
"""

from __future__ import annotations

import ast
import csv
import gzip
import itertools
import os
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
MIN_FILE_RERUNS = 50
"""Public re-runs of a workflow file name needed before its own rate is the prior."""
WORKFLOW_RERUNS_FILE = "dataframe_workflow_rerun_distinct.csv.gz"
"""The workflow-level re-run sets of the gha-reruns data: one row per (repository, workflow, branch)."""
ENV_PATH = "REPOPILOT_RERUN_PRIORS"
"""Environment variable naming the gha-reruns folder (unset: no public priors)."""


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


def configured_public_priors(path: Path | None = None) -> PublicPriors | None:
    """The public priors at ``path`` or ``$REPOPILOT_RERUN_PRIORS``; None when neither is set."""
    location = path or (Path(os.environ[ENV_PATH]) if os.environ.get(ENV_PATH) else None)
    return None if location is None else read_public_priors(location)


def rerun_priors_document(
    history: Iterable[Mapping[str, Any]], public: PublicPriors | None, *, generated_at: datetime
) -> dict[str, Any]:
    """The ``rerun_priors`` export from the warehouse's re-run counts and the public priors.

    Args:
        history: rows of ``exports/rerun_history`` (``repo``, ``workflow``, ``workflow_path``,
            ``reruns``, ``successes``).
        public: the public re-run priors, or None.
        generated_at: when the exports are made.
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
    entries = []
    for row in rows:
        reruns, successes = int(row["reruns"]), int(row["successes"])
        prior_rate = (
            public.rate_for(row.get("workflow_path"))
            if public is not None and source == "gha-reruns"
            else base_rate
        )
        if prior_rate is None:
            rate = successes / reruns if reruns else None
        else:
            rate = (successes + PRIOR_WEIGHT * prior_rate) / (reruns + PRIOR_WEIGHT)
        entries.append(
            {
                "repo": str(row["repo"]),
                "workflow": str(row["workflow"]),
                "failure_class": "any",
                "reruns": reruns,
                "successes": successes,
                "prior_rate": None if prior_rate is None else round(float(prior_rate), 6),
                "rate": None if rate is None else round(float(rate), 6),
                "source": "warehouse" if prior_rate is None else f"warehouse+{source}",
            }
        )
    return {
        "schema_version": SCHEMA_VERSION,
        "generated_at": iso(generated_at),
        "prior": {
            "source": source,
            "rate": None if base_rate is None else round(base_rate, 6),
            "weight": PRIOR_WEIGHT if base_rate is not None else 0.0,
            "reruns": base_reruns,
        },
        "entries": entries,
    }
