"""An organisation's GitHub history held in memory, in the JSON shapes of the REST API.

A :class:`Recording` is what the offline sources produce (the DevLake snapshot reader and the
synthetic sample organisation) and what the GitHub API double serves over HTTP. Every object is
the JSON body GitHub returns for one item of a list endpoint, so the same parsing code runs on a
recording, on the double and on the real API.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

JSON = dict[str, Any]
RunAttempt = tuple[str, int, int]
"""``(repo, run id, attempt number)``."""
PullKey = tuple[str, int]
"""``(repo, pull request number)``."""
CommitKey = tuple[str, str]
"""``(repo, commit sha)``."""


@dataclass
class Recording:
    """GitHub REST objects of some repositories, keyed as the API serves them.

    Lists keyed by repository (``"owner/name"``) hold the items of the repository-wide list
    endpoints; the other mappings hold per-object sub-resources. Workflow runs hold the latest
    attempt of each run, as ``GET /repos/{o}/{r}/actions/runs`` does; earlier attempts are in
    ``run_attempts``.
    """

    repos: list[str] = field(default_factory=list)
    synthetic: bool = False
    pull_requests: dict[str, list[JSON]] = field(default_factory=dict)
    reviews: dict[PullKey, list[JSON]] = field(default_factory=dict)
    pr_files: dict[PullKey, list[JSON]] = field(default_factory=dict)
    review_comments: dict[str, list[JSON]] = field(default_factory=dict)
    issues: dict[str, list[JSON]] = field(default_factory=dict)
    issue_comments: dict[str, list[JSON]] = field(default_factory=dict)
    issue_events: dict[str, list[JSON]] = field(default_factory=dict)
    workflow_runs: dict[str, list[JSON]] = field(default_factory=dict)
    run_attempts: dict[RunAttempt, JSON] = field(default_factory=dict)
    jobs: dict[RunAttempt, list[JSON]] = field(default_factory=dict)
    check_runs: dict[CommitKey, list[JSON]] = field(default_factory=dict)
    commit_statuses: dict[CommitKey, list[JSON]] = field(default_factory=dict)
    logs: dict[RunAttempt, bytes] = field(default_factory=dict)

    def repo_listings(self) -> tuple[dict[str, list[JSON]], ...]:
        """The repository-wide list endpoints' contents, each keyed by repository."""
        return (
            self.pull_requests,
            self.review_comments,
            self.issues,
            self.issue_comments,
            self.issue_events,
            self.workflow_runs,
        )

    def object_count(self) -> int:
        """Count every object held, sub-resources included."""
        total = 0
        for value in (
            self.pull_requests,
            self.reviews,
            self.pr_files,
            self.review_comments,
            self.issues,
            self.issue_comments,
            self.issue_events,
            self.workflow_runs,
            self.jobs,
            self.check_runs,
            self.commit_statuses,
        ):
            total += sum(len(items) for items in value.values())
        return total + len(self.run_attempts)


def repo_of_url(url: str) -> str:
    """Return ``owner/name`` from a GitHub API URL such as ``.../repos/owner/name/pulls/1``.

    Raises:
        ValueError: if the URL does not address a repository.
    """
    marker = "/repos/"
    start = url.find(marker)
    if start < 0:
        raise ValueError(f"not a repository URL: {url!r}")
    parts = url[start + len(marker) :].split("/")
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise ValueError(f"not a repository URL: {url!r}")
    return f"{parts[0]}/{parts[1].split('?')[0]}"
