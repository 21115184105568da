"""The double's write endpoints: what an action changes reads back through later GETs, as on GitHub."""

from __future__ import annotations

import pytest
from github import Auth, Github, GithubException

from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"


def _client(double: GitHubDouble) -> Github:
    return Github(
        base_url=double.url,
        auth=Auth.Token(FAKE_TOKEN),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _open_pull(double: GitHubDouble) -> int:
    return min(p["number"] for p in double.recording.pull_requests[REPO] if p["state"] == "open")


def test_merge_reads_back_merged_and_refuses_what_github_refuses(sample_double: GitHubDouble) -> None:
    number = _open_pull(sample_double)
    repo = _client(sample_double).get_repo(REPO)
    sample_double.configure_pull(REPO, number, mergeable=False, mergeable_state="dirty")
    with pytest.raises(GithubException) as refused:
        repo.get_pull(number).merge(merge_method="squash")
    assert refused.value.status == 405

    sample_double.configure_pull(REPO, number, mergeable=True, mergeable_state="clean")
    pull = repo.get_pull(number)
    with pytest.raises(GithubException) as moved:
        pull.merge(merge_method="squash", sha="0" * 40)
    assert moved.value.status == 409
    with pytest.raises(GithubException) as bad_method:
        pull.merge(merge_method="octopus")
    assert bad_method.value.status == 422

    status = pull.merge(merge_method="squash", sha=pull.head.sha, commit_message="Auto-merged-by: repopilot")
    assert status.merged
    again = repo.get_pull(number)
    assert again.merged and again.state == "closed" and again.merge_commit_sha == status.sha
    assert repo.get_issue(number).state == "closed"
    assert "Auto-merged-by: repopilot" in repo.get_commit(status.sha).commit.message
    assert [p.number for p in repo.get_commit(status.sha).get_pulls()] == [number]
    assert sample_double.writes.merges == [(REPO, number, "squash")]
    with pytest.raises(GithubException) as twice:
        again.merge()
    assert twice.value.status == 405

    repo._requester.requestJsonAndCheck("DELETE", f"{repo.url}/git/refs/heads/{again.head.ref}")
    with pytest.raises(GithubException) as gone:
        repo._requester.requestJsonAndCheck("DELETE", f"{repo.url}/git/refs/heads/{again.head.ref}")
    assert gone.value.status == 422
    assert (REPO, again.head.ref) in sample_double.writes.deleted_branches


def test_labels_assignees_reviewers_and_comments_read_back(sample_double: GitHubDouble) -> None:
    number = _open_pull(sample_double)
    repo = _client(sample_double).get_repo(REPO)
    pull = repo.get_pull(number)
    issue = repo.get_issue(number)
    issue.add_to_labels("automerge", "hold")
    assert {label.name for label in repo.get_pull(number).labels} >= {"automerge", "hold"}
    issue.remove_from_labels("hold")
    assert "hold" not in {label.name for label in repo.get_issue(number).labels}
    with pytest.raises(GithubException) as missing:
        issue.remove_from_labels("never-there")
    assert missing.value.status == 404

    issue.add_to_assignees("jonas-nowak")
    assert "jonas-nowak" in [a.login for a in repo.get_issue(number).assignees]
    pull.create_review_request(reviewers=["jonas-nowak"])
    assert "jonas-nowak" in [u.login for u in repo.get_pull(number).get_review_requests()[0]]
    with pytest.raises(GithubException) as author:
        pull.create_review_request(reviewers=[pull.user.login])
    assert author.value.status == 422

    issue.create_comment("merged by repopilot")
    assert [c.body for c in repo.get_issue(number).get_comments()][-1] == "merged by repopilot"


def test_configured_state_is_what_the_api_serves(sample_double: GitHubDouble) -> None:
    number = _open_pull(sample_double)
    sample_double.configure_pull(
        REPO,
        number,
        head_sha="a" * 40,
        draft=True,
        checks=[("build", "completed", "success"), ("lint", "in_progress", None)],
        statuses=[("codecov/project", "success", "91.20% (+0.10%) compared to abc")],
        reviews=[("jonas-nowak", "APPROVED"), ("hanahaddad", "CHANGES_REQUESTED")],
        labels=["hold"],
    )
    repo = _client(sample_double).get_repo(REPO)
    pull = repo.get_pull(number)
    assert pull.head.sha == "a" * 40 and pull.draft
    commit = repo.get_commit("a" * 40)
    assert [(c.name, c.status, c.conclusion) for c in commit.get_check_runs()] == [
        ("build", "completed", "success"),
        ("lint", "in_progress", None),
    ]
    assert commit.get_combined_status().statuses[0].description.startswith("91.20%")
    assert [(r.user.login, r.state) for r in pull.get_reviews()] == [
        ("jonas-nowak", "APPROVED"),
        ("hanahaddad", "CHANGES_REQUESTED"),
    ]
    assert [label.name for label in pull.labels] == ["hold"]


def test_create_pull_from_a_branch_and_read_contents(sample_double: GitHubDouble) -> None:
    writes = sample_double.writes
    base = writes.commit_files(REPO, "main", {".github/auto-merge.yml": "required_approvals: 2\n"}, "config")
    writes.commit_files(REPO, "fix", {"a.txt": "x"}, "fix")
    repo = _client(sample_double).get_repo(REPO)
    text = repo.get_contents(".github/auto-merge.yml").decoded_content.decode()
    assert text == "required_approvals: 2\n"
    with pytest.raises(GithubException) as absent:
        repo.get_contents(".github/routing.yml")
    assert absent.value.status == 404
    created = repo.create_pull(title="Fix", body="why", head="fix", base="main")
    assert created.number > max(p["number"] for p in sample_double.recording.pull_requests[REPO][:-1])
    assert repo.get_pull(created.number).title == "Fix" and created.base.sha == base
    with pytest.raises(GithubException) as duplicate:
        repo.create_pull(title="Fix", body="why", head="fix", base="main")
    assert duplicate.value.status == 422
    with pytest.raises(GithubException) as no_branch:
        repo.create_pull(title="Fix", body="why", head="nope", base="main")
    assert no_branch.value.status == 422


def _graphql(double: GitHubDouble, query: str, variables: dict[str, object]) -> dict[str, object]:
    _, answer = _client(double).requester.requestJsonAndCheck(
        "POST", f"{double.url}/graphql", input={"query": query, "variables": variables}
    )
    return dict(answer)


def test_merge_queue_rule_enqueue_and_direct_merges_refused(sample_double: GitHubDouble) -> None:
    from actions.merging.graphql import ENQUEUE_MUTATION, MERGE_QUEUE_QUERY

    number = _open_pull(sample_double)
    sample_double.configure_pull(REPO, number, mergeable=True, mergeable_state="clean")
    repo = _client(sample_double).get_repo(REPO)
    owner, name = REPO.split("/")
    query = {"owner": owner, "name": name, "number": number}
    fields = _graphql(sample_double, MERGE_QUEUE_QUERY, query)["data"]["repository"]["pullRequest"]  # type: ignore[index]
    assert fields["isMergeQueueEnabled"] is False and fields["isInMergeQueue"] is False
    _, rules = repo._requester.requestJsonAndCheck("GET", f"{repo.url}/rules/branches/main")
    assert rules == []

    sample_double.writes.enable_merge_queue(REPO, "main")
    _, rules = repo._requester.requestJsonAndCheck("GET", f"{repo.url}/rules/branches/main")
    assert [rule["type"] for rule in rules] == ["merge_queue"]
    with pytest.raises(GithubException) as direct:
        repo.get_pull(number).merge(merge_method="squash")
    assert direct.value.status == 405 and "merge queue" in str(direct.value.data)

    node, head = fields["id"], fields["headRefOid"]
    moved = _graphql(
        sample_double, ENQUEUE_MUTATION, {"input": {"pullRequestId": node, "expectedHeadOid": "0" * 40}}
    )
    assert moved["data"] == {"enqueuePullRequest": None} and "head OID" in str(moved["errors"])
    done = _graphql(
        sample_double, ENQUEUE_MUTATION, {"input": {"pullRequestId": node, "expectedHeadOid": head}}
    )
    assert done["data"]["enqueuePullRequest"]["mergeQueueEntry"]["position"] == 1  # type: ignore[index]
    twice = _graphql(sample_double, ENQUEUE_MUTATION, {"input": {"pullRequestId": node}})
    assert "already in the merge queue" in str(twice["errors"])
    fields = _graphql(sample_double, MERGE_QUEUE_QUERY, query)["data"]["repository"]["pullRequest"]  # type: ignore[index]
    assert fields["isInMergeQueue"] is True and fields["mergeQueueEntry"]["state"] == "AWAITING_CHECKS"
    bad = _graphql(sample_double, ENQUEUE_MUTATION, {"input": {"pullRequestId": node, "jump": "yes"}})
    assert "invalid value for jump" in str(bad["errors"]) and "data" not in bad
    unknown = _graphql(sample_double, ENQUEUE_MUTATION, {"input": {"pullRequestId": "PR_nope"}})
    assert unknown["errors"][0]["type"] == "NOT_FOUND"  # type: ignore[index]


def test_revert_pull_request_mutation_as_github_answers_it(sample_double: GitHubDouble) -> None:
    from actions.merging.graphql import REVERT_MUTATION

    writes = sample_double.writes
    writes.commit_files(REPO, "main", {"README.md": "hi\n"}, "base")
    head = writes.commit_files(REPO, "feature", {"README.md": "hi\n", "new.txt": "x\n"}, "add new.txt")
    number = _open_pull(sample_double)
    pull = sample_double.configure_pull(REPO, number, head_sha=head, mergeable=True, mergeable_state="clean")
    node = pull["node_id"]
    not_merged = _graphql(sample_double, REVERT_MUTATION, {"input": {"pullRequestId": node}})
    assert not_merged["data"] == {"revertPullRequest": None} and "merged" in str(not_merged["errors"])
    _client(sample_double).get_repo(REPO).get_pull(number).merge(merge_method="squash", sha=head)
    answer = _graphql(sample_double, REVERT_MUTATION, {"input": {"pullRequestId": node, "draft": True}})
    created = answer["data"]["revertPullRequest"]["revertPullRequest"]  # type: ignore[index]
    assert answer["data"]["revertPullRequest"]["pullRequest"]["number"] == number  # type: ignore[index]
    assert created["headRefName"].startswith(f"revert-{number}-") and created["isDraft"] is True
    served = _client(sample_double).get_repo(REPO).get_pull(created["number"])
    assert served.title.startswith('Revert "') and served.body == f"Reverts {REPO}#{number}"
    files = writes.branch_files(REPO, created["headRefName"]) or {}
    assert "new.txt" not in files and files["README.md"] == b"hi\n"
    commit = writes.store(REPO).commits[served.head.sha]
    assert "This reverts commit" in commit["message"]
    missing = _graphql(sample_double, REVERT_MUTATION, {"input": {"title": "x"}})
    assert "pullRequestId (Expected value to not be null)" in str(missing["errors"])


def test_a_pull_request_closes_and_reopens_through_patch_and_the_listings_follow(
    sample_double: GitHubDouble,
) -> None:
    writes = sample_double.writes
    writes.commit_files(REPO, "main", {"README.md": "hi\n"}, "base")
    writes.commit_files(REPO, "to-close", {"README.md": "hi\n", "c.txt": "c\n"}, "c")
    repo = _client(sample_double).get_repo(REPO)
    number = repo.create_pull(title="Close me", body="", head="to-close", base="main").number
    repo.get_pull(number).edit(state="closed", title="Closed")
    served = repo.get_pull(number)
    assert served.state == "closed" and served.closed_at is not None and served.title == "Closed"
    assert not served.merged and repo.get_issue(number).state == "closed"
    closed = [p.number for p in repo.get_pulls(state="closed", sort="created", direction="desc")]
    assert number in closed and number not in [p.number for p in repo.get_pulls(state="open")]
    repo.get_pull(number).edit(state="open")
    assert repo.get_pull(number).state == "open" and repo.get_pull(number).closed_at is None
    for change, status in [({"state": "done"}, 422), ({"title": ""}, 422), ({"base": "nope"}, 422)]:
        with pytest.raises(GithubException) as refused:
            repo.get_pull(number).edit(**change)  # type: ignore[arg-type]
        assert refused.value.status == status
    with pytest.raises(GithubException) as absent:
        repo.get_pull(999_999).edit(state="closed")
    assert absent.value.status == 404
    # a merged pull request cannot be reopened
    merged = _open_pull(sample_double)
    head = writes.commit_files(REPO, "to-merge", {"README.md": "hi\n", "m.txt": "m\n"}, "m")
    sample_double.configure_pull(REPO, merged, head_sha=head, mergeable=True, mergeable_state="clean")
    repo.get_pull(merged).merge(merge_method="squash", sha=head)
    with pytest.raises(GithubException) as merged_refused:
        repo.get_pull(merged).edit(state="open")
    assert merged_refused.value.status == 422 and repo.get_pull(merged).merged
