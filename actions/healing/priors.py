"""Re-run priors read from the exports (``rerun_priors.json``).

How often re-running a run succeeded (by workflow and failure class, and by failure signature), and
how often each failure signature failed before (:class:`Recurrence`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from actions.common.exports import Exports
from actions.common.github import parse_time
from actions.healing.policy import SIGNATURE_SCOPE, RetryPrior

EXPORT = "rerun_priors"


@dataclass(frozen=True)
class Recurrence:
    """Earlier failed runs of a repository with one failure signature, on commits other than this one.

    Attributes:
        commits: the commits those runs built (what persistence counts: several workflows failing
            the same way on one push are one outage, not a recurrence).
        runs: those runs (counted over the export's most recently seen commits).
        first_seen: when the earliest of them failed, or None when there are none.
        rerun_failures: re-runs of the signature's failures that failed again the same way (all commits).
    """

    commits: int
    runs: int
    first_seen: datetime | None
    rerun_failures: int = 0


class PriorTable:
    """Re-run history by repository, workflow and failure class (``any`` when not known)."""

    def __init__(self, document: Mapping[str, Any] | None = None) -> None:
        self.origin = "none" if document is None else "exports"
        self._entries: dict[tuple[str, str, str], RetryPrior] = {}
        history = (document or {}).get("signatures")
        self.has_signatures = history is not None
        """Whether the exports carry the signatures' history (documents before it do not)."""
        weight = ((document or {}).get("prior") or {}).get("class_weight")
        self._signature_weight = float(weight or 0.0)
        self._signatures: dict[tuple[str, str], Mapping[str, Any]] = {
            (str(entry["repo"]).lower(), str(entry["signature"])): entry
            for entry in (history or {}).get("entries", [])
        }
        for entry in (document or {}).get("entries", []):
            key = (str(entry["repo"]).lower(), str(entry["workflow"]), str(entry["failure_class"]))
            self._entries[key] = RetryPrior(
                reruns=int(entry["reruns"]),
                successes=int(entry["successes"]),
                source=str(entry["source"]),
                smoothed_rate=None if entry["rate"] is None else float(entry["rate"]),
                failure_class=key[2],
            )

    @classmethod
    def from_exports(cls, exports: Exports | None) -> PriorTable:
        """The priors of verified exports; empty when there are none or they predate this export."""
        if exports is None or not exports.has(EXPORT):
            return cls()
        return cls(exports.json(EXPORT))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(
        self, repository: str, workflow: str | None, category: str, *, min_history: int = 1
    ) -> RetryPrior | None:
        """The prior of this class of failure of the workflow, else of any failure of it, else None.

        The class's entry is used once it has ``min_history`` re-runs of its own (its rate is shrunk
        towards the workflow's, so with fewer it says little more than the workflow's entry, which
        may have enough history to act on).
        """
        if workflow is None:
            return None
        repo = repository.lower()
        specific = self._entries.get((repo, workflow, category))
        if specific is not None and specific.reruns >= min_history:
            return specific
        return self._entries.get((repo, workflow, "any")) or specific

    def signature_prior(
        self, repository: str, signature: str, fallback: RetryPrior | None
    ) -> RetryPrior | None:
        """How re-runs of this very failure (its signature, in any workflow) went; None without any.

        The rate is shrunk towards ``fallback``'s (the workflow's or class's prior the decision
        would use otherwise) with the export's ``class_weight`` pseudo re-runs, as a class's rate is
        shrunk towards its workflow's. Entries written before ``rerun_successes`` existed give None.
        """
        entry = self._signatures.get((repository.lower(), signature))
        if entry is None or "rerun_successes" not in entry or not int(entry["reruns"]):
            return None
        reruns, successes = int(entry["reruns"]), int(entry["rerun_successes"])
        base = None if fallback is None else fallback.rate
        rate = (
            successes / reruns
            if base is None
            else (successes + self._signature_weight * base) / (reruns + self._signature_weight)
        )
        return RetryPrior(
            reruns=reruns,
            successes=successes,
            source="warehouse",
            smoothed_rate=rate,
            failure_class=SIGNATURE_SCOPE,
        )

    def recurrence(
        self, repository: str, signature: str, *, head_sha: str | None, before: datetime, since: datetime
    ) -> Recurrence:
        """Other commits (and their runs) of ``repository`` failing with ``signature`` in ``[since, before)``.

        A commit counts with all its runs when it was first seen before ``before`` and last seen
        at or after ``since``; the commit ``head_sha`` (the run being judged, and its own re-runs)
        never counts. An unknown signature, or exports without the signatures' history, give none.
        """
        entry = self._signatures.get((repository.lower(), signature))
        if entry is None:
            return Recurrence(0, 0, None)
        commits, runs, first = 0, 0, None
        for commit in entry["recent_commits"]:
            seen, last = parse_time(commit["first_seen"]), parse_time(commit["last_seen"])
            if seen is None or last is None:  # the schema requires both; nothing to count without them
                continue
            if (head_sha and commit["head_sha"] == head_sha) or seen >= before or last < since:
                continue
            commits += 1
            runs += int(commit["runs"])
            first = seen if first is None else min(first, seen)
        return Recurrence(commits, runs, first, int(entry["rerun_failures"]))
