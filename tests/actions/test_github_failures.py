"""What every action says when GitHub refuses: one line naming the cause, a bounded wait, no secret."""

from __future__ import annotations

from pathlib import Path

import pytest
import urllib3.util.retry

from actions.common.report import run_cli
from actions.route import main as route_main
from pipelines.sources.double import GitHubDouble
from tests.actions.test_route_action import _hand_exports, _open_pull, _person
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/web-frontend"


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The sleeps urllib3's retry asks for; a long one fails the test instead of stalling it."""
    asked: list[float] = []

    def sleep(seconds: float) -> None:
        asked.append(seconds)
        if seconds > 120:
            raise AssertionError(f"the action would sleep {seconds:.0f} s")

    monkeypatch.setattr(urllib3.util.retry.time, "sleep", sleep)
    return asked


def _route(
    double: GitHubDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str], *extra: str
) -> tuple[int, str]:
    """Route an open pull request with hand-made exports (neither step asks the API); exit code and stderr."""
    pull = _open_pull(double, repo=REPO)
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=2)])
    argv = ["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports), *extra]
    code = run_cli(route_main, argv)
    captured = capsys.readouterr()
    assert FAKE_TOKEN not in captured.out + captured.err
    return code, captured.err


def test_an_exhausted_rate_limit_stops_the_action_instead_of_sleeping_until_the_reset(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    sample_double.rate_remaining = 0  # the reset is an hour away
    code, err = _route(sample_double, tmp_path, capsys)
    assert code == 2, err
    lines = [line for line in err.splitlines() if line.startswith("::error::")]
    assert len(lines) == 1 and "HTTP 403" in lines[0] and "rate limit is used up until" in lines[0], err
    assert "try again later" in lines[0] and FAKE_TOKEN not in err
    assert all(s <= 60 for s in sleeps)
    assert not action_env["audit.jsonl"].exists()
    # exports read from a branch: the same reason, as an export error
    argv = ["--repo", REPO, "--pull", "1", "--exports", f"github:{REPO}", "--cache-dir", str(tmp_path)]
    assert run_cli(route_main, [*argv, "--dry-run"]) == 3
    err = capsys.readouterr().err
    assert f"reading exports from {REPO}@repopilot-exports: the token's rate limit is used up" in err, err


@pytest.mark.parametrize(("retry_after", "times"), [(3600, 10), (1, 1)])
def test_a_retry_after_is_waited_out_only_when_short(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    retry_after: int,
    times: int,
) -> None:
    sample_double.retry_after_seconds = retry_after
    sample_double.inject("429_secondary", times=times)
    code, err = _route(sample_double, tmp_path, capsys)
    if retry_after > 60:
        assert code == 2, err
        assert "HTTP 429" in err and "retry after 3600 s" in err and "try again later" in err
        assert all(s <= 60 for s in sleeps)
    else:
        assert code == 0, err
        assert retry_after in sleeps


def test_an_unknown_repository_and_a_refused_token_are_named(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=2)])
    code = run_cli(route_main, ["--repo", "nobody/nothing", "--pull", "1", "--exports", str(exports)])
    err = capsys.readouterr().err
    assert code == 2 and "HTTP 404" in err and "no such repository or object" in err, err
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_wrongtoken000000000000000000000000")
    code = run_cli(route_main, ["--repo", REPO, "--pull", "1", "--exports", str(exports)])
    err = capsys.readouterr().err
    assert code == 2 and "HTTP 401" in err and "the token is invalid or expired" in err, err
    assert "wrongtoken" not in err


@pytest.mark.parametrize("variable", ["REPOPILOT_AUDIT_LOG", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
def test_an_unwritable_record_file_stops_the_action_before_it_decides(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
) -> None:
    """An action that merged, then failed to write its audit record, would leave a change unaccounted for."""
    monkeypatch.setenv(variable, str(tmp_path / "no-such-folder" / "file"))
    sample_double.reset_log()
    code, err = _route(sample_double, tmp_path, capsys)
    assert code == 2 and f"::error::{variable} names " in err and "does not exist" in err, err
    assert sample_double.requests == []


def test_an_output_file_that_cannot_be_written_is_named(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    target = tmp_path / "missing" / "result.json"
    code, err = _route(sample_double, tmp_path, capsys, "--dry-run", "--output", str(target))
    assert code == 2 and f"::error::cannot use {target}: No such file or directory" in err, err


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("REPOPILOT_MAX_RATE_LIMIT_WAIT", "a minute", "must be a number of seconds, got 'a minute'"),
        ("REPOPILOT_WRITE_SPACING_SECONDS", "-1", "must be between 0 and 86400 seconds, got -1"),
    ],
)
def test_a_malformed_wait_setting_is_named(
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    variable: str,
    value: str,
    message: str,
) -> None:
    monkeypatch.setenv(variable, value)
    assert run_cli(route_main, ["--repo", REPO, "--pull", "1", "--dry-run"]) == 2
    assert f"::error::{variable} {message}" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["predict", "automerge", "revert", "route", "heal", "maintain", "sla_watch"])
def test_every_action_documents_its_exit_codes(name: str) -> None:
    import importlib

    from actions.common.errors import exit_codes

    module = importlib.import_module(f"actions.{name}")
    reads_exports = name not in {"revert", "sla_watch"}
    epilog = module._parser().epilog
    assert epilog == exit_codes(exports=reads_exports)
    # exit 3 is about exports: an action that reads none never returns it, so its help does not offer it
    assert ("3 exports missing" in epilog) == reads_exports and "1 an internal error" in epilog


@pytest.mark.parametrize(
    ("status", "data", "headers", "meaning"),
    [
        (401, {"message": "Bad credentials"}, {}, ": the token is invalid or expired"),
        (
            403,
            {"message": "Resource not accessible by integration"},
            {},
            ": refused (usually a permission the workflow's permissions block or the token lacks)",
        ),
        (
            403,
            {"message": "API rate limit exceeded for user ID 1."},
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "1795000000"},
            ": the token's rate limit is used up until 2026-11-18 11:06:40 UTC; try again later",
        ),
        (429, {"message": "slow"}, {"Retry-After": "90"}, ": rate limited (GitHub asks to retry after 90 s)"),
        (404, {"message": "Not Found"}, {}, ": no such repository or object, or the token cannot see it"),
        (500, {"message": "Server Error"}, {}, ""),
    ],
)
def test_github_failures_say_what_the_status_means(
    status: int, data: dict[str, str], headers: dict[str, str], meaning: str
) -> None:
    from github import GithubException

    from actions.common.github import github_failure

    text = str(github_failure(GithubException(status, data, headers), "doing it"))
    assert text.startswith(f"GitHub answered HTTP {status} while doing it{meaning}"), text
    assert data["message"] not in text


def test_an_unreachable_api_is_named_without_its_credentials(
    action_env: dict[str, Path],
    sleeps: list[float],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import socket

    with socket.socket() as closed:  # a port nothing listens on once this block ends
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    monkeypatch.setenv("GITHUB_API_URL", f"http://someone:{FAKE_TOKEN}@127.0.0.1:{port}/api/v3")
    assert run_cli(route_main, ["--repo", REPO, "--pull", "1", "--dry-run"]) == 2
    err = capsys.readouterr().err
    assert f"::error::the GitHub API at http://127.0.0.1:{port} could not be reached" in err, err
    assert FAKE_TOKEN not in err and "someone" not in err
