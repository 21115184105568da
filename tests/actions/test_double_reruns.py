"""The double's re-run endpoints: a new queued attempt, and GitHub's refusals with its messages."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from github import Auth, Github, GithubException

from pipelines.sources.double import GitHubDouble
from pipelines.sources.double.writes import ALREADY_RUNNING, CANNOT_RETRY, TOO_OLD
from pipelines.sources.sample import generate_sample_org
from tests.actions.rerun_support import SAMPLE_END, failed_with_logs, restored
from tests.conftest import FAKE_TOKEN


@pytest.fixture(scope="module")
def module_double() -> Iterator[GitHubDouble]:
    with GitHubDouble(generate_sample_org(), token=FAKE_TOKEN) as double:
        double.writes.now = lambda: SAMPLE_END
        yield double


@pytest.fixture
def double(module_double: GitHubDouble) -> Iterator[GitHubDouble]:
    with restored(module_double) as double:
        yield double


def _client(double: GitHubDouble) -> Github:
    return Github(
        base_url=double.url,
        auth=Auth.Token(FAKE_TOKEN),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def _post(double: GitHubDouble, repo: str, run_id: int, kind: str) -> None:
    run = _client(double).get_repo(repo).get_workflow_run(run_id)
    run._requester.requestJsonAndCheck("POST", f"{run.url}/{kind}")


@pytest.mark.parametrize("kind", ["rerun-failed-jobs", "rerun"])
def test_a_rerun_queues_the_next_attempt(double: GitHubDouble, kind: str) -> None:
    repo, data = failed_with_logs(double)[0]
    run_id, attempt = int(data["id"]), int(data["run_attempt"])
    gh_run = _client(double).get_repo(repo).get_workflow_run(run_id)
    status, _, body = gh_run._requester.requestJson("POST", f"{gh_run.url}/{kind}")
    assert (status, body) == (201, "{}")

    again = _client(double).get_repo(repo).get_workflow_run(run_id)
    assert (again.run_attempt, again.status, again.conclusion) == (attempt + 1, "queued", None)
    previous = again.get_attempt(attempt)
    assert previous.run_attempt == attempt and previous.conclusion in {"failure", "timed_out"}
    assert double.writes.reruns[-1] == (repo, run_id, kind)

    with pytest.raises(GithubException) as running:
        _post(double, repo, run_id, kind)
    assert running.value.status == 403 and running.value.data["message"] == ALREADY_RUNNING

    double.writes.finish_run(repo, run_id, "success")
    finished = _client(double).get_repo(repo).get_workflow_run(run_id)
    assert (finished.status, finished.conclusion) == ("completed", "success")
    with pytest.raises(GithubException) as nothing_failed:
        _post(double, repo, run_id, "rerun-failed-jobs")
    assert nothing_failed.value.status == 403 and nothing_failed.value.data["message"] == CANNOT_RETRY


def test_refusals_after_30_days_and_50_attempts(double: GitHubDouble) -> None:
    repo, data = failed_with_logs(double)[0]
    run_id = int(data["id"])
    double.writes.now = lambda: SAMPLE_END + timedelta(days=31)
    try:
        with pytest.raises(GithubException) as old:
            _post(double, repo, run_id, "rerun-failed-jobs")
        assert old.value.status == 403 and old.value.data["message"] == TOO_OLD
    finally:
        double.writes.now = lambda: SAMPLE_END
    data["run_attempt"] = 50
    double.invalidate()
    with pytest.raises(GithubException) as limit:
        _post(double, repo, run_id, "rerun")
    assert limit.value.status == 403 and limit.value.data["message"] == CANNOT_RETRY
    assert double.writes.reruns == [] or double.writes.reruns[-1][1] != run_id


def test_malformed_bodies_and_unknown_runs(double: GitHubDouble) -> None:
    repo, data = failed_with_logs(double)[0]
    run = _client(double).get_repo(repo).get_workflow_run(int(data["id"]))
    with pytest.raises(GithubException) as bad:
        run._requester.requestJsonAndCheck(
            "POST", f"{run.url}/rerun-failed-jobs", input={"enable_debug_logging": "yes"}
        )
    assert bad.value.status == 422
    with pytest.raises(GithubException) as missing:
        run._requester.requestJsonAndCheck("POST", f"{run.url[: run.url.rindex('/')]}/1/rerun")
    assert missing.value.status == 404
    assert run.run_attempt == data["run_attempt"]
