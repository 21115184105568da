"""Re-run priors read from the exports (``rerun_priors.json``): how often re-running a run succeeded."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from actions.common.exports import Exports
from actions.healing.policy import RetryPrior

EXPORT = "rerun_priors"


class PriorTable:
    """Re-run history by repository, workflow and failure class (``any`` when not known)."""

    def __init__(self, document: Mapping[str, Any] | None = None) -> None:
        self.origin = "none" if document is None else "exports"
        self._entries: dict[tuple[str, str, str], RetryPrior] = {}
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
