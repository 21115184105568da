"""GitHub's workflow run conclusions, and the subsets repopilot reads them by.

Plain sets (importing nothing), shared by the actions, the pipelines and the quality suites. The
warehouse's SQL spells the same lists out; ``tests/unit/test_conclusions.py`` checks they agree.
"""

from __future__ import annotations

RUN_CONCLUSIONS = frozenset(
    {
        "success",
        "failure",
        "cancelled",
        "timed_out",
        "skipped",
        "neutral",
        "stale",
        "action_required",
        "startup_failure",
    }
)
"""Every conclusion GitHub gives a finished workflow run."""

FAILED_CONCLUSIONS = frozenset({"failure", "timed_out", "startup_failure"})
"""A run (or job) that failed: the prediction label, the SLA's failed runs, the attempts whose logs are
read, the failing jobs a revert names. Cancelled, skipped and neutral runs say nothing about health."""

HEALABLE_CONCLUSIONS = FAILED_CONCLUSIONS - {"startup_failure"}
"""Failed runs self-healing re-runs, and the failed attempts whose re-runs the priors count. A startup
failure (the workflow could not start, e.g. an invalid workflow file) fails the same way on a re-run
and leaves no job logs to classify."""
