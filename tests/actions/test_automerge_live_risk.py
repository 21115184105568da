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


class Live:
    """A safe pull request in the double, statuses posted on its head, auto-merge deciding on it."""

    def __init__(self, double: GitHubDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.double, self.tmp_path, self.capsys = double, tmp_path, capsys
        self.number = _safe_pull(double)

    def post(self, description: str, *, creator: str = "github-actions[bot]") -> None:
        """A status on the head commit, posted through the API as ``creator``."""
        self.double.writes.actor = creator
        client = Github(base_url=self.double.url, auth=Auth.Token(FAKE_TOKEN), retry=None)
        repo = client.get_repo(REPO, lazy=True)
        sha = repo.get_pull(self.number).head.sha
        repo.get_commit(sha).create_status("success", description=description, context="repopilot/risk")
        self.double.writes.actor = "repopilot-bot"

    def decide(self, config: str = GATE, *extra: str) -> dict[str, object]:
        path = _config(self.tmp_path, config)
        assert main(["--repo", REPO, "--pr", str(self.number), "--config", str(path), *extra]) == 0
        result: dict[str, object] = json.loads(self.capsys.readouterr().out)[0]
        return result


@pytest.fixture
def live(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> Live:
    return Live(sample_double, tmp_path, capsys)


def _risk_check(result: dict[str, object]) -> dict[str, object]:
    checks = result["checks"]
    assert isinstance(checks, list)
    found: dict[str, object] = next(c for c in checks if c["name"] == "risk")
    return found


def test_a_low_live_risk_merges_and_says_where_it_came_from(live: Live, action_env: dict[str, Path]) -> None:
    live.post(describe(0.6, "HIGH", 501, 1))
    live.post(describe(0.12, "LOW", 501, 2))  # the re-run's attempt supersedes
    live.post(describe(0.05, "LOW", 502, 1))
    result = live.decide()
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


def test_a_live_risk_above_the_limit_blocks(live: Live) -> None:
    live.post(describe(0.05, "LOW", 601, 1))
    live.post(describe(0.3001, "MEDIUM", 602, 1))  # shown as 30.1%: above 30%
    result = live.decide()
    assert result["decision"] == "blocked" and not result["merged"]
    assert result["blocking_reasons"] == [
        "risk: 30.1% failure risk (MEDIUM, run 602) from the live prediction status; limit 30%"
    ]
    assert live.double.writes.merges == []


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
    live: Live, posts: list[tuple[str, str]], config: str, reason: str
) -> None:
    for creator, description in posts:
        live.post(description, creator=creator)
    result = live.decide(config)
    detail = str(_risk_check(result)["detail"])
    assert result["decision"] == "blocked" and not _risk_check(result)["passed"]
    assert reason in detail and detail.startswith(
        "no exported risk score for the head commit (fail closed); "
    )
    assert live.double.writes.merges == []


def test_an_untrusted_status_can_neither_lower_nor_raise_a_trusted_one(live: Live) -> None:
    live.post(describe(0.6, "HIGH", 801, 1))
    live.post(describe(0.01, "LOW", 801, 2), creator="mallory")
    result = live.decide(GATE, "--dry-run")
    assert result["decision"] == "blocked" and "60.0% failure risk (HIGH, run 801)" in str(
        _risk_check(result)["detail"]
    )
