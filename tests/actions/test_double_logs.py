"""The double's log downloads: a 302 to a signed blob URL holding GitHub's zip archive, as on GitHub."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest
from github import Auth, Github, GithubException

from actions.healing.logs import read_log_archive
from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN


def _client(double: GitHubDouble) -> Github:
    return Github(base_url=double.url, auth=Auth.Token(FAKE_TOKEN), retry=None)


def _fetch(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_run_and_attempt_logs_redirect_to_the_archive(sample_double: GitHubDouble) -> None:
    (repo_name, run_id, attempt), archive = next(iter(sample_double.recording.logs.items()))
    run = _client(sample_double).get_repo(repo_name).get_workflow_run(run_id)
    requester = run._requester

    status, headers, _ = requester.requestBlob("GET", f"{run.url}/attempts/{attempt}/logs")
    assert status == 302
    location = headers["location"]
    assert location.startswith(sample_double.url) and "sig=" in location
    assert FAKE_TOKEN not in location
    assert _fetch(location) == (200, archive)
    assert read_log_archive(archive), "the archive holds job logs"

    tampered = location[:-4] + ("0000" if not location.endswith("0000") else "1111")
    assert _fetch(tampered)[0] == 403
    assert _fetch(location.split("?")[0])[0] == 403

    with pytest.raises(GithubException) as beyond:
        requester.requestJsonAndCheck("GET", f"{run.url}/attempts/{run.run_attempt + 1}/logs")
    assert beyond.value.status == 404


def test_runs_without_logs_answer_404(sample_double: GitHubDouble) -> None:
    logged = set(sample_double.recording.logs)
    repo_name, runs = next(iter(sample_double.recording.workflow_runs.items()))
    quiet = next(r for r in runs if (repo_name, r["id"], r.get("run_attempt") or 1) not in logged)
    run = _client(sample_double).get_repo(repo_name).get_workflow_run(quiet["id"])
    with pytest.raises(GithubException) as missing:
        run._requester.requestJsonAndCheck("GET", f"{run.url}/logs")
    assert missing.value.status == 404
