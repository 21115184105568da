"""Publishing the exports with a token of its own, so the ingestion token can stay read-only."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from github import GithubException

from pipelines.defs.resources import EXPORTS_TOKEN_ENV, ExportsTargetResource
from pipelines.sources.double import GitHubDouble
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.conftest import FAKE_TOKEN

PUBLISHING = FAKE_TOKEN[::-1]


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubDouble]:
    organisation = generate_sample_org(
        SampleOrgSpec(repositories=1, pull_requests_per_repo=5, runs_per_repo=5)
    )
    with GitHubDouble(organisation, token=PUBLISHING) as served:
        monkeypatch.setenv("GITHUB_API_URL", served.url)
        monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
        yield served


def _accepted(resource: ExportsTargetResource, double: GitHubDouble) -> bool:
    try:
        resource.client().get_repo(double.recording.repos[0]).full_name  # noqa: B018
    except GithubException as error:
        if error.status != 401:
            raise
        return False
    return True


def test_the_publishing_token_is_used_when_set(double: GitHubDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _accepted(ExportsTargetResource(), double)  # GITHUB_TOKEN, the ingestion token
    monkeypatch.setenv(EXPORTS_TOKEN_ENV, PUBLISHING)
    assert _accepted(ExportsTargetResource(), double)
    # a variable named in run configuration still wins
    assert not _accepted(ExportsTargetResource(token_env="GITHUB_TOKEN"), double)
