"""The least-privilege check of a classic token's scopes, in the framework and in every action."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from actions.automerge import TOKEN_NEEDS as AUTOMERGE_NEEDS
from actions.automerge import main as automerge_main
from actions.common.errors import ActionError
from actions.common.github import (
    EXCLUDED_SCOPES,
    TokenNeeds,
    check_token_scopes,
    connect,
    scope_findings,
)
from actions.common.report import run_cli
from actions.heal import main as heal_main
from actions.maintain import main as maintain_main
from actions.predict import main as predict_main
from actions.revert import main as revert_main
from actions.route import TOKEN_NEEDS as ROUTE_NEEDS
from actions.route import main as route_main
from actions.sla_watch import main as sla_main
from pipelines.sources.double import GitHubDouble
from tests.actions.test_route_action import _hand_exports, _open_pull, _person
from tests.conftest import FAKE_TOKEN

REPO = "repopilot-sample/docs-site"
NEEDS = TokenNeeds(
    "test", required=frozenset({"repo", "public_repo"}), allowed=frozenset({"repo", "public_repo"})
)


def test_findings_refuse_excluded_and_warn_on_broader_scopes() -> None:
    assert scope_findings(None, NEEDS) == ([], [])
    assert scope_findings(["repo"], NEEDS) == ([], [])
    for scope in [*sorted(EXCLUDED_SCOPES), "admin:some_future_thing"]:
        refusals, _ = scope_findings(["repo", scope], NEEDS)
        assert len(refusals) == 1 and repr(scope) in refusals[0], scope
    refusals, warnings = scope_findings(["repo", "gist", "workflow", ""], NEEDS)
    assert refusals == [] and warnings == [
        "the token carries scopes test does not need: gist, workflow (it needs public_repo or repo)"
    ]
    _, warnings = scope_findings([""], NEEDS)  # a classic token without any scope
    assert warnings == [
        "the token has none of the scopes test needs (public_repo or repo); GitHub may refuse its requests"
    ]
    # what one action needs another may not: auto-merge may use the workflow scope, routing may not
    assert scope_findings(["repo", "workflow"], AUTOMERGE_NEEDS)[1] == []
    assert scope_findings(["repo", "workflow"], ROUTE_NEEDS)[1] != []


def test_the_double_reports_scopes_like_github(
    sample_double: GitHubDouble, capsys: pytest.CaptureFixture[str]
) -> None:
    client = connect(FAKE_TOKEN, sample_double.url)
    assert check_token_scopes(client, NEEDS) is None  # no header: a GITHUB_TOKEN or fine-grained token
    notice = capsys.readouterr().err
    assert "reports no OAuth scopes" in notice
    # a workflow's permissions block narrows only its GITHUB_TOKEN; other tokens carry their own
    assert "the token's own permissions" in notice
    sample_double.oauth_scopes = "repo, read:org"
    client = connect(FAKE_TOKEN, sample_double.url)
    assert check_token_scopes(client, NEEDS) == ["read:org", "repo"]
    assert "::warning::the token carries scopes test does not need: read:org" in capsys.readouterr().err
    sample_double.oauth_scopes = "repo, delete_repo"
    with pytest.raises(ActionError, match="excluded scope 'delete_repo'") as refused:
        check_token_scopes(connect(FAKE_TOKEN, sample_double.url), NEEDS)
    assert FAKE_TOKEN not in str(refused.value)
    assert check_token_scopes(connect(None, sample_double.url), NEEDS) is None  # no token: nothing to check
    with pytest.raises(ActionError, match="HTTP 401"):
        check_token_scopes(connect("ghp_wrongtoken000000000000000000000", sample_double.url), NEEDS)


@pytest.mark.parametrize(
    "action", ["route", "automerge", "predict", "heal", "maintain", "sla_watch", "revert"]
)
def test_every_action_refuses_an_excluded_scope_before_reading_anything(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    action: str,
    tmp_path: Path,
) -> None:
    sample_double.oauth_scopes = "admin:org, repo"
    sample_double.reset_log()
    argv = {
        "route": (route_main, ["--repo", REPO, "--pull", "1", "--exports", str(tmp_path), "--dry-run"]),
        "automerge": (automerge_main, ["--repo", REPO, "--pr", "1", "--dry-run"]),
        "predict": (predict_main, ["--repo", REPO, "--run-id", "1", "--exports", str(tmp_path)]),
        "heal": (heal_main, ["--repo", REPO, "--run-id", "1", "--exports", str(tmp_path), "--dry-run"]),
        "maintain": (maintain_main, ["--repo", REPO, "--exports", str(tmp_path), "--dry-run"]),
        "sla_watch": (sla_main, ["--repos", REPO, "--dry-run"]),
        "revert": (revert_main, ["--repo", REPO, "--run-id", "1", "--dry-run"]),
    }
    main, args = argv[action]
    assert run_cli(main, args) == 2
    captured = capsys.readouterr()
    assert "excluded scope 'admin:org'" in captured.err and FAKE_TOKEN not in captured.err + captured.out
    assert [r.path for r in sample_double.requests] == ["/rate_limit"]
    assert not action_env["audit.jsonl"].exists() and not action_env["output"].exists()


def test_route_warns_on_broader_scopes_and_goes_on(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    sample_double.oauth_scopes = "repo, gist"
    pull = _open_pull(sample_double, repo="repopilot-sample/web-frontend")
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=2)])
    args = [
        "--repo",
        "repopilot-sample/web-frontend",
        "--pull",
        str(pull["number"]),
        "--exports",
        str(exports),
    ]
    assert run_cli(route_main, [*args, "--dry-run"]) == 0
    captured = capsys.readouterr()
    assert "::warning::the token carries scopes route does not need: gist" in captured.err
    assert json.loads(captured.out)["selected"] == ["ana"]
