"""The double's workflows, workflow dispatch and issue creation, through PyGithub as the action uses them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from github import Auth, Github, GithubException

from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"


def _client(double: GitHubDouble) -> Github:
    return Github(auth=Auth.Token(FAKE_TOKEN), base_url=double.url, retry=None)


def test_workflows_are_listed_from_runs_and_additions(sample_double: GitHubDouble) -> None:
    added = sample_double.writes.add_workflow(
        REPO, ".github/workflows/deps.yml", name="Dependencies", dispatch_inputs=["mode"]
    )
    repo = _client(sample_double).get_repo(REPO)
    workflows = {w.path: w for w in repo.get_workflows()}
    assert set(workflows) == {
        ".github/workflows/ci.yml",
        ".github/workflows/deploy.yml",
        ".github/workflows/deps.yml",
    }
    assert workflows[".github/workflows/deps.yml"].id == added["id"]
    by_file = repo.get_workflow("deps.yml")
    assert by_file.name == "Dependencies" and by_file.state == "active"
    ci = repo.get_workflow("ci.yml")
    assert ci.id == 61002199 and ci.get_runs().totalCount == 265
    assert ci.get_runs(event="push").totalCount == 94


def test_a_dispatch_queues_a_run_the_listings_show(sample_double: GitHubDouble) -> None:
    moment = datetime(2026, 11, 7, 3, 30, tzinfo=UTC)
    sample_double.writes.now = lambda: moment
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    repo = _client(sample_double).get_repo(REPO)
    workflow = repo.get_workflow("deps.yml")
    assert workflow.get_runs().totalCount == 0
    run = workflow.create_dispatch("main", {"mode": "weekly"}, throw=True, return_run_details=True)
    assert workflow.create_dispatch("main", throw=True) is True  # 204 without the run's details
    runs = list(workflow.get_runs(event="workflow_dispatch", branch="main", created=">=2026-11-07T03:00:00Z"))
    assert [r.id for r in runs][-1] == run.id and len(runs) == 2
    queued = repo.get_workflow_run(run.id)
    assert queued.status == "queued" and queued.event == "workflow_dispatch" and queued.head_branch == "main"
    assert queued.created_at == moment and queued.run_number in {1, 2}
    assert workflow.get_runs(created=">=2026-11-07T04:00:00Z").totalCount == 0
    assert [(d.repo, d.ref, d.inputs) for d in sample_double.writes.dispatches] == [
        (REPO, "main", {"mode": "weekly"}),
        (REPO, "main", {}),
    ]


@pytest.mark.parametrize(
    ("workflow", "ref", "inputs", "status", "message"),
    [
        ("nope.yml", "main", {}, 404, "Not Found"),
        ("deps.yml", "no-such-branch", {}, 422, "No ref found for: no-such-branch"),
        ("deps.yml", "main", {"colour": "red"}, 422, 'Unexpected inputs provided: "colour"'),
        ("deps.yml", "main", {f"i{k}": "x" for k in range(11)}, 422, "up to 10"),
        ("ci.yml", "main", {}, 422, "does not have 'workflow_dispatch' trigger"),
    ],
)
def test_bad_dispatches_are_refused_like_github(
    sample_double: GitHubDouble, workflow: str, ref: str, inputs: dict[str, str], status: int, message: str
) -> None:
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml", dispatch_inputs=["mode"])
    repo = _client(sample_double).get_repo(REPO)
    before = len(sample_double.recording.workflow_runs[REPO])
    with pytest.raises(GithubException) as raised:
        repo.get_workflow(workflow).create_dispatch(ref, inputs, throw=True)
    assert raised.value.status == status and message in raised.value.data["message"]
    assert (
        sample_double.writes.dispatches == [] and len(sample_double.recording.workflow_runs[REPO]) == before
    )


def test_a_ref_must_be_given(sample_double: GitHubDouble) -> None:
    sample_double.writes.add_workflow(REPO, ".github/workflows/deps.yml")
    repo = _client(sample_double).get_repo(REPO)
    status, _, body = repo._requester.requestJson(  # no ref at all: PyGithub always sends one
        "POST", f"{repo.url}/actions/workflows/deps.yml/dispatches", input={"inputs": {}}
    )
    assert status == 422 and "ref" in body


def test_a_created_issue_is_listed_and_numbered_after_everything(sample_double: GitHubDouble) -> None:
    repo = _client(sample_double).get_repo(REPO)
    highest = max(
        int(x["number"])
        for x in [*sample_double.recording.issues[REPO], *sample_double.recording.pull_requests[REPO]]
    )
    issue = repo.create_issue(title="Maintenance", body="<!-- marker -->", labels=["maintenance"])
    assert issue.number == highest + 1 and issue.state == "open" and issue.user.login == "repopilot-bot"
    assert [label.name for label in issue.labels] == ["maintenance"]
    assert repo.get_issue(issue.number).body == "<!-- marker -->"
    assert any(i.number == issue.number for i in repo.get_issues(state="open", since=issue.created_at))
    with pytest.raises(GithubException) as raised:
        repo.create_issue(title="  ")
    assert raised.value.status == 422


def test_the_devlake_recordings_workflows_and_a_dispatch(devlake_double: GitHubDouble) -> None:
    repo = _client(devlake_double).get_repo("panjf2000/ants")
    paths = {w.path for w in repo.get_workflows()}
    assert paths == {".github/workflows/codeql.yml", ".github/workflows/lint.yml", ".github/workflows/ci.yml"}
    codeql = repo.get_workflow("codeql.yml")
    assert codeql.get_runs(event="schedule").totalCount == 11
    with pytest.raises(GithubException) as raised:  # its recorded runs never came from a dispatch
        codeql.create_dispatch("master", throw=True)
    assert raised.value.status == 422
    devlake_double.writes.add_workflow("panjf2000/ants", ".github/workflows/deps.yml")
    deps = repo.get_workflow("deps.yml")
    branch = next(r.head_branch for r in codeql.get_runs(event="push"))
    assert deps.create_dispatch(branch, throw=True) is True
    assert [r.head_branch for r in deps.get_runs(event="workflow_dispatch")] == [branch]
