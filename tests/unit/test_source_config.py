"""Source values, GitHub settings and conversions: clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipelines.sources.base import RecordingSource, SourceError
from pipelines.sources.github.helpers import file_from_graphql, parse_time, review_from_graphql
from pipelines.sources.github.settings import GitHubSettings, parse_repos
from pipelines.sources.recording import Recording, repo_of_url
from pipelines.sources.snapshot import read_devlake_snapshot
from pipelines.sources.spec import SourceSpec, open_source, parse_source


def test_parse_source_defaults_and_kinds() -> None:
    assert parse_source(None) == SourceSpec("sample")
    assert parse_source("", token="t", repos="a/b") == SourceSpec("github")
    assert parse_source("snapshot:/x") == SourceSpec("snapshot", Path("/x"))
    assert str(parse_source("snapshot:/x")) == "snapshot:/x"
    for bad, message in [
        ("gitlab", "unknown source"),
        ("snapshot", "needs a path"),
        ("sample:3", "takes no argument"),
    ]:
        with pytest.raises(SourceError, match=message):
            parse_source(bad)


def test_the_large_sample_is_the_thousand_person_organisation() -> None:
    from pipelines.sources.sample import SampleOrgSpec

    assert parse_source("sample:large") == SourceSpec("sample", size="large")
    assert str(parse_source("sample:large")) == "sample:large"
    large = SampleOrgSpec.large()
    assert large.people == 1_000 and large.repositories * large.issues_per_repo == 100_000


def test_open_source_refuses_incomplete_configuration() -> None:
    with pytest.raises(SourceError, match="GITHUB_TOKEN"):
        open_source(SourceSpec("github"), repos="a/b")
    with pytest.raises(SourceError, match="not a repository name"):
        open_source(SourceSpec("github"), token="secret-value", repos="not a repo")
    with pytest.raises(SourceError, match="GITHUB_API_URL") as excinfo:
        open_source(SourceSpec("github"), token="secret-value", repos="a/b", api_url="ftp://x")
    assert "secret-value" not in str(excinfo.value)
    with pytest.raises(SourceError, match="does not exist"):
        open_source(SourceSpec("travistorrent", Path("/x.parquet")))
    with pytest.raises(SourceError, match="does not exist"):
        open_source(SourceSpec("snapshot", Path("/nonexistent/dir")))


def test_repo_names_are_validated() -> None:
    assert parse_repos(" a/b , c-d/e.f ,") == ["a/b", "c-d/e.f"]
    for bad in ["a", "a/b/c", "-a/b", "a/..", "a/b c"]:
        with pytest.raises(ValueError, match="not a repository name"):
            parse_repos(bad)
    settings = GitHubSettings(api_url="https://ghe.example.com/api/v3/", repos=["a/b"])
    assert settings.api_url == "https://ghe.example.com/api/v3"
    assert "secret" not in repr(GitHubSettings(token="secret", repos=["a/b"]))  # type: ignore[arg-type]


def test_repo_of_url() -> None:
    assert repo_of_url("https://api.github.com/repos/o/n/pulls?page=1") == "o/n"
    assert repo_of_url("https://api.github.com/repos/o/n") == "o/n"
    with pytest.raises(ValueError, match="not a repository URL"):
        repo_of_url("https://api.github.com/users/x")


def test_graphql_conversions() -> None:
    review = review_from_graphql(
        {
            "databaseId": 7,
            "author": {"login": "dependabot", "__typename": "Bot"},
            "state": "APPROVED",
            "submittedAt": "2024-01-01T00:00:00Z",
            "commit": None,
        },
        "https://api.github.com/repos/o/n/pulls/3",
    )
    assert review["id"] == 7 and review["user"] == {"login": "dependabot[bot]", "type": "Bot"}
    assert review["commit_id"] is None
    assert review_from_graphql({"databaseId": 8, "author": None}, "u")["user"] is None
    assert file_from_graphql({"path": "a.py", "additions": 2, "deletions": 1, "changeType": "DELETED"}) == {
        "filename": "a.py",
        "status": "removed",
        "additions": 2,
        "deletions": 1,
        "changes": 3,
    }
    assert parse_time(None) is None
    assert parse_time("2021-02-18T14:59:13.000+08:00") == parse_time("2021-02-18T06:59:13Z")
    assert parse_time("2021-02-18T06:59:13").tzinfo is not None  # type: ignore[union-attr]


def test_snapshot_reader_rejects_bad_files(tmp_path: Path) -> None:
    with pytest.raises(SourceError, match="no DevLake raw GitHub files"):
        read_devlake_snapshot(tmp_path)
    (tmp_path / "_raw_github_api_issues.csv").write_text("id,url\n1,x\n", encoding="utf-8")
    with pytest.raises(SourceError, match="expected the DevLake columns"):
        read_devlake_snapshot(tmp_path)
    (tmp_path / "_raw_github_api_issues.csv").write_text(
        'url,data\nhttps://api.github.com/repos/o/n/issues,"{not json"\n', encoding="utf-8"
    )
    with pytest.raises(SourceError, match="line 2: 'data' is not JSON"):
        read_devlake_snapshot(tmp_path)


def test_recording_source_rejects_unknown_stream_and_repo() -> None:
    source = RecordingSource(Recording(repos=["o/n"]), "test")
    with pytest.raises(SourceError, match="unknown stream"):
        list(source.fetch("o/n", "stars", {}))
    with pytest.raises(SourceError, match="not in source"):
        list(source.fetch("o/other", "issues", {}))


def test_the_actions_timestamp_parser_converts_to_utc_and_can_refuse_naive_times() -> None:
    from datetime import UTC, datetime

    from actions.common.github import parse_time as action_time

    utc = datetime(2021, 2, 18, 6, 59, 13, tzinfo=UTC)
    assert action_time("2021-02-18T14:59:13+08:00") == utc
    assert action_time("2021-02-18T14:59:13+08:00").tzinfo is UTC  # type: ignore[union-attr]
    assert action_time("2021-02-18T06:59:13") == utc
    assert action_time("2021-02-18T06:59:13", naive_as_utc=False) is None
    assert action_time("2021-02-18T06:59:13Z", naive_as_utc=False) == utc
    assert action_time("yesterday") is None and action_time(None) is None
