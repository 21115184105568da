"""The double's commit statuses: created with POST /statuses/{sha}, read back as GitHub gives them."""

from __future__ import annotations

import pytest
from github import Auth, Github, GithubException

from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"


def _client(double: GitHubDouble) -> Github:
    return Github(base_url=double.url, auth=Auth.Token(FAKE_TOKEN), retry=None, seconds_between_writes=None)


def test_a_created_status_reads_back_newest_per_context_and_bad_ones_are_refused(
    sample_double: GitHubDouble,
) -> None:
    number = min(p["number"] for p in sample_double.recording.pull_requests[REPO] if p["state"] == "open")
    sample_double.configure_pull(REPO, number, statuses=[("codecov/project", "success", "91.20%")])
    repo = _client(sample_double).get_repo(REPO, lazy=True)
    sha = repo.get_pull(number).head.sha
    commit = repo.get_commit(sha)
    sample_double.writes.actor = "github-actions[bot]"
    first = commit.create_status(
        "success", description="failure risk 40.0% (MEDIUM), run 7", context="r/risk"
    )
    second = commit.create_status(
        "success", "https://github.com/x/y/actions/runs/8", "failure risk 5.0% (LOW), run 8", "r/risk"
    )
    assert second.id > first.id and second.creator.login == "github-actions[bot]"
    assert second.creator.type == "Bot" and second.target_url == "https://github.com/x/y/actions/runs/8"
    assert second.url == f"{sample_double.url}/repos/{REPO}/statuses/{sha}" and second.created_at is not None

    # the listing has every status, newest first, with its creator
    listed = [(s.context, s.description) for s in commit.get_statuses()]
    assert listed[:2] == [
        ("r/risk", "failure risk 5.0% (LOW), run 8"),
        ("r/risk", "failure risk 40.0% (MEDIUM), run 7"),
    ]
    assert ("codecov/project", "91.20%") in listed
    # the combined status has the newest of each context, without creators (GitHub's shape)
    combined = _client(sample_double).get_repo(REPO).get_commit(sha).get_combined_status()
    assert combined.total_count == 2 and combined.state == "success"
    assert {s.context: s.description for s in combined.statuses} == {
        "r/risk": "failure risk 5.0% (LOW), run 8",
        "codecov/project": "91.20%",
    }
    raw = repo._requester.requestJsonAndCheck("GET", f"{repo.url}/commits/{sha}/status")[1]
    assert all("creator" not in s for s in raw["statuses"])

    unnamed = commit.create_status("pending")
    assert unnamed.context == "default" and unnamed.description is None
    for state, description, where in (
        ("green", None, "'state'"),
        ("success", "x" * 141, "description is too long"),
    ):
        with pytest.raises(GithubException) as refused:
            commit.create_status(state, description=description or "ok")
        assert refused.value.status == 422 and where in str(refused.value.data["message"])
    with pytest.raises(GithubException) as unknown:
        repo.get_commit("0" * 40).create_status("success")
    assert unknown.value.status == 422 and "No commit found for SHA" in unknown.value.data["message"]
