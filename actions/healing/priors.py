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
            )

    @classmethod
    def from_exports(cls, exports: Exports | None) -> PriorTable:
        """The priors of verified exports; empty when there are none or they predate this export."""
        if exports is None or not exports.has(EXPORT):
            return cls()
        return cls(exports.json(EXPORT))

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, repository: str, workflow: str | None, category: str) -> RetryPrior | None:
        """The prior of this class of failure of the workflow, else of any failure of it, else None."""
        if workflow is None:
            return None
        repo = repository.lower()
        return self._entries.get((repo, workflow, category)) or self._entries.get((repo, workflow, "any"))
