"""Auto-merge on a head commit newer than the exported scores: the live repopilot/risk status decides."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from github import Auth, Github

from actions.automerge import main
from actions.common.risk_status import describe
from pipelines.sources.double import GitHubDouble
from tests.actions.test_automerge_action import REPO, _config, _safe_pull
from tests.conftest import FAKE_TOKEN

GATE = "coverage: {minimum: 80}\nrisk: {max_probability: 0.3}\n"


def _post(
    double: GitHubDouble, number: int, description: str, *, creator: str = "github-actions[bot]"
) -> None:
    """A status on the pull request's head commit, posted through the API as ``creator``."""
    double.writes.actor = creator
    repo = Github(base_url=double.url, auth=Auth.Token(FAKE_TOKEN), retry=None).get_repo(REPO, lazy=True)
    sha = repo.get_pull(number).head.sha
    repo.get_commit(sha).create_status("success", description=description, context="repopilot/risk")
    double.writes.actor = "repopilot-bot"


def _decide(number: int, config: Path, capsys: pytest.CaptureFixture[str], *extra: str) -> dict[str, object]:
    assert main(["--repo", REPO, "--pr", str(number), "--config", str(config), *extra]) == 0
    result: dict[str, object] = json.loads(capsys.readouterr().out)[0]
    return result


def _risk_check(result: dict[str, object]) -> dict[str, object]:
    checks = result["checks"]
    assert isinstance(checks, list)
    found: dict[str, object] = next(c for c in checks if c["name"] == "risk")
    return found


def test_a_low_live_risk_merges_and_says_where_it_came_from(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    _post(sample_double, number, describe(0.6, "HIGH", 501, 1))
    _post(sample_double, number, describe(0.12, "LOW", 501, 2))  # the re-run's attempt supersedes
    _post(sample_double, number, describe(0.05, "LOW", 502, 1))
    result = _decide(number, _config(tmp_path, GATE), capsys)
    check = _risk_check(result)
    assert check["passed"] and check["detail"] == (
        "12.0% failure risk (LOW, run 501) from the live prediction status; limit 30%"
    )
    assert result["decision"] == "merge" and result["merged"]
    assert result["risk"] == {
        "run_id": 501,
        "probability": 0.12,
        "risk_level": "LOW",
        "workflow": None,
        "source": "live prediction status",
    }
    audit = json.loads(action_env["audit.jsonl"].read_text().splitlines()[-1])
    assert audit["details"]["risk"]["source"] == "live prediction status"


def test_a_live_risk_above_the_limit_blocks(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    _post(sample_double, number, describe(0.05, "LOW", 601, 1))
    _post(sample_double, number, describe(0.3001, "MEDIUM", 602, 1))  # shown as 30.1%: above 30%
    result = _decide(number, _config(tmp_path, GATE), capsys)
    assert result["decision"] == "blocked" and not result["merged"]
    assert result["blocking_reasons"] == [
        "risk: 30.1% failure risk (MEDIUM, run 602) from the live prediction status; limit 30%"
    ]
    assert sample_double.writes.merges == []


@pytest.mark.parametrize(
    ("posts", "config", "reason"),
    [
        (
            [],
            GATE,
            "no exported risk score for the head commit (fail closed); no repopilot/risk status either",
        ),
        (
            [("mallory", describe(0.01, "LOW", 7, 1))],
            GATE,
            "repopilot/risk status ignored: created by mallory, not one of risk.status_creators "
            "(github-actions[bot])",
        ),
        (
            [("github-actions[bot]", describe(0.01, "LOW", 7, 1))],
            "coverage: {minimum: 80}\nrisk: {max_probability: 0.3, status_creators: []}\n",
            "repopilot/risk statuses are not used (risk.status_creators is empty)",
        ),
        (
            [("github-actions[bot]", "looks fine to me")],
            GATE,
            "cannot read the status description 'looks fine to me' "
            "(expected e.g. 'failure risk 12.3% (LOW), run 123456 attempt 1') (fail closed)",
        ),
    ],
    ids=["no-status", "untrusted-creator", "statuses-off", "unreadable"],
)
def test_without_a_trusted_readable_status_it_fails_closed(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    posts: list[tuple[str, str]],
    config: str,
    reason: str,
) -> None:
    number = _safe_pull(sample_double)
    for creator, description in posts:
        _post(sample_double, number, description, creator=creator)
    result = _decide(number, _config(tmp_path, config), capsys)
    detail = str(_risk_check(result)["detail"])
    assert result["decision"] == "blocked" and not _risk_check(result)["passed"]
    assert reason in detail and detail.startswith(
        "no exported risk score for the head commit (fail closed); "
    )
    assert sample_double.writes.merges == []


def test_an_untrusted_status_can_neither_lower_nor_raise_a_trusted_one(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    number = _safe_pull(sample_double)
    _post(sample_double, number, describe(0.6, "HIGH", 801, 1))
    _post(sample_double, number, describe(0.01, "LOW", 801, 2), creator="mallory")
    result = _decide(number, _config(tmp_path, GATE), capsys, "--dry-run")
    assert result["decision"] == "blocked" and "60.0% failure risk (HIGH, run 801)" in str(
        _risk_check(result)["detail"]
    )
