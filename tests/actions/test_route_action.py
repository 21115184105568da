"""The route action end to end against the double: the sample organisation and the DevLake recording.

Real exports are built the way the pipeline builds them (core tables → reviewer features →
``reviewers.json`` → a verified exports folder); small hand-made exports cover the edge cases.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

import actions.route as route
from actions.common.report import run_cli
from actions.common.schemas import SCHEMA_VERSION
from actions.route import main
from pipelines.exports.documents import reviewers_document, scores_document
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.features.reviewers import reviewer_features
from pipelines.sources.double import GitHubDouble
from tests.actions.dated_exports import step_output
from tests.conftest import FAKE_TOKEN
from tests.features.test_reviewers import devlake_core, sample_core

REPO = "repopilot-sample/web-frontend"
ANTS = "panjf2000/ants"

# the sample organisation's warehouse is built once per session (shared with the feature tests)
pytestmark = pytest.mark.timeout(600)


def _write(
    target: Path, document: dict[str, Any], as_of: datetime, kind: str, repos: tuple[str, ...]
) -> Path:
    write_exports(
        target,
        models_dir=None,
        source=SourceInfo(kind, kind == "sample", as_of, repos),
        documents={"reviewers": document},
        scores=lambda models: scores_document(pl.DataFrame(), None, generated_at=as_of),
        generated_at=as_of,
    )
    return target


def _exports_from_core(core: dict[str, pl.DataFrame], target: Path, kind: str) -> Path:
    """The pipeline's path: reviewer features as of the newest data, then the exports folder."""
    as_of = core["pull_requests"]["updated_at"].max()
    assert isinstance(as_of, datetime)
    stats = reviewer_features(
        core["pull_requests"],
        core["reviews"],
        core["pr_files"],
        core["comments"],
        as_of=as_of,
        issue_events=core["issue_events"],
    )
    repos = tuple(sorted(set(stats["repo"].to_list())))
    return _write(target, reviewers_document(stats, as_of=as_of), as_of, kind, repos)


@pytest.fixture(scope="module")
def sample_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _exports_from_core(sample_core(), tmp_path_factory.mktemp("route") / "exports", "sample")


@pytest.fixture(scope="module")
def devlake_exports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _exports_from_core(devlake_core(), tmp_path_factory.mktemp("route-ants") / "exports", "snapshot")


def _person(login: str, repo: str = REPO, **fields: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "repo": repo,
        "login": login,
        "expertise_paths": [],
        "open_workload": 0,
        "median_first_response_hours": None,
        "events_last_14d": 0,
        "usual_hours": [],
        "approval_rate": None,
        "changes_requested_rate": None,
        "reviews_done": 0,
        "last_active_at": None,
    }
    return row | fields


def _hand_exports(tmp_path: Path, people: list[dict[str, Any]]) -> Path:
    as_of = datetime.fromisoformat("2026-11-01T00:00:00+00:00")
    document = {"schema_version": SCHEMA_VERSION, "as_of": "2026-11-01T00:00:00Z", "reviewers": people}
    return _write(tmp_path / "hand-exports", document, as_of, "sample", (REPO,))


def _open_pull(double: GitHubDouble, repo: str = REPO, **changes: Any) -> dict[str, Any]:
    """An open, ready pull request with no reviewers requested and no reviews, as the test wants it."""
    pull = min(
        (p for p in double.recording.pull_requests[repo] if p["state"] == "open"), key=lambda p: p["number"]
    )
    state: dict[str, Any] = {"draft": False, "requested_reviewers": [], "requested_teams": [], "reviews": []}
    return double.configure_pull(repo, pull["number"], **(state | changes))


def _open_issue(double: GitHubDouble, repo: str = REPO) -> dict[str, Any]:
    issue = min(
        (
            i
            for i in double.recording.issues[repo]
            if i["state"] == "open" and not i.get("pull_request") and not i["assignees"]
        ),
        key=lambda i: i["number"],
    )
    return dict(issue)


def _pull(double: GitHubDouble, repo: str, number: int) -> dict[str, Any]:
    pull: dict[str, Any] = next(p for p in double.recording.pull_requests[repo] if p["number"] == number)
    return pull


def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8") if path.exists() else ""


def _everything(files: dict[str, Path], captured: Any) -> str:
    return captured.out + captured.err + "".join(_read(p) for p in files.values())


def _writes(double: GitHubDouble) -> int:
    return sum(double.count(method=m) for m in ("POST", "PUT", "PATCH", "DELETE"))


def _exported(exports: Path, repo: str) -> dict[str, dict[str, Any]]:
    document = json.loads((exports / "reviewers.json").read_text())
    return {r["login"]: r for r in document["reviewers"] if r["repo"] == repo}


# --------------------------------------------------------------------------------------------
# Happy paths


def test_a_pull_request_gets_reviewers_with_the_factor_breakdown(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    sample_exports: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = _open_pull(sample_double)
    author = pull["user"]["login"]
    code = main(["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(sample_exports)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["decision"] == "assign" and result["fallback_used"] is None, result["reason"]
    selected = result["selected"]
    assert len(selected) == 2 and author not in selected
    assert result["excluded"].get(author) == "the author"
    exported = _exported(sample_exports, REPO)
    assert set(selected) <= set(exported)
    # the selection is the top of the ranking, and the ranking is by total score
    totals = [s["total"] for s in result["scores"]]
    assert [s["login"] for s in result["scores"][:2]] == selected and totals == sorted(totals, reverse=True)
    assert result["paths"] > 0 and result["scores"][0]["factors"]["expertise"]["value"] > 0
    assert result["workload_source"] == "open review requests"
    requested = [r["login"] for r in _pull(sample_double, REPO, pull["number"])["requested_reviewers"]]
    assert requested == selected
    assert result["actions"] == [f"requested reviews from {', '.join(selected)}"]
    outputs = _read(action_env["output"])
    assert "selected<<" in outputs and ",".join(selected) in outputs and "confidence<<" in outputs
    summary = _read(action_env["summary"])
    assert (
        "| candidate | score | expertise | workload | response time | availability | performance |" in summary
    )
    assert f"| ✅ | {selected[0]} |" in summary
    audit = [json.loads(line) for line in _read(action_env["audit.jsonl"]).splitlines()]
    assert len(audit) == 1 and audit[0]["action"] == "route" and audit[0]["decision"] == "assign"
    assert audit[0]["details"]["selected"] == selected and audit[0]["dry_run"] is False
    assert FAKE_TOKEN not in _everything(action_env, captured)


def test_an_issue_gets_an_assignee(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    sample_exports: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    issue = _open_issue(sample_double)
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"action": "opened", "issue": issue, "repository": {"full_name": REPO}}))
    code = main(["--event", str(event), "--exports", str(sample_exports)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    result = json.loads(captured.out)
    assert result["kind"] == "issue" and result["role"] == "assignees" and result["decision"] == "assign"
    assert len(result["selected"]) == 1 and issue["user"]["login"] not in result["selected"]
    assert result["paths"] == 0 and set(result["selected"]) <= set(_exported(sample_exports, REPO))
    stored = next(i for i in sample_double.recording.issues[REPO] if i["number"] == issue["number"])
    assert [a["login"] for a in stored["assignees"]] == result["selected"]
    assert sample_double.count(method="POST", path_contains=f"/issues/{issue['number']}/assignees") == 1
    assert FAKE_TOKEN not in _everything(action_env, captured)


def test_dry_run_decides_and_writes_nothing(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    sample_exports: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = _open_pull(sample_double)
    sample_double.reset_log()
    args = ["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(sample_exports), "--dry-run"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "assign" and result["selected"] and result["actions"] == []
    assert _writes(sample_double) == 0
    assert _pull(sample_double, REPO, pull["number"])["requested_reviewers"] == []
    assert "would request" in _read(action_env["summary"])
    assert json.loads(_read(action_env["audit.jsonl"]))["dry_run"] is True


@pytest.mark.shared_data
def test_a_pull_request_of_the_devlake_recording(
    devlake_double: GitHubDouble,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    devlake_exports: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", devlake_double.url)
    monkeypatch.setenv("REPOPILOT_AUDIT_LOG", str(tmp_path / "audit.jsonl"))
    pull = min(
        (p for p in devlake_double.recording.pull_requests[ANTS] if p["state"] == "open"),
        key=lambda p: p["number"],
    )
    args = ["--repo", ANTS, "--pull", str(pull["number"]), "--exports", str(devlake_exports)]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    exported = _exported(devlake_exports, ANTS)
    assert result["decision"] == "assign" and result["fallback_used"] is None
    assert pull["user"]["login"] not in result["selected"] and set(result["selected"]) <= set(exported)
    # the recording has no file lists: the ranking rests on the review record and activity
    assert result["paths"] == 0
    assert all(s["factors"]["expertise"]["value"] == 0.0 for s in result["scores"])
    assert result["scores"][0]["factors"]["performance"]["value"] > 0.0
    requested = [r["login"] for r in _pull(devlake_double, ANTS, pull["number"])["requested_reviewers"]]
    assert requested == result["selected"]
    assert FAKE_TOKEN not in _read(tmp_path / "audit.jsonl")


# --------------------------------------------------------------------------------------------
# Refusals and fallbacks


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"draft": True}, "the pull request is a draft"),
        ({"state": "closed"}, "the pull request is closed"),
        ({"labels": ["Skip-Routing"]}, "exempt label 'skip-routing'"),
        ({"requested_reviewers": [{"login": "someone", "type": "User"}]}, "already has reviewers: someone"),
        ({"requested_teams": [{"slug": "core", "name": "core"}]}, "already has reviewers: team:core"),
        ({"reviews": [("reviewer-one", "COMMENTED")]}, "already reviewed by reviewer-one"),
    ],
)
def test_every_refusal_explains_and_writes_nothing(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    changes: dict[str, Any],
    reason: str,
) -> None:
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=3), _person("ben", reviews_done=2)])
    pull = _open_pull(sample_double, **changes)
    sample_double.reset_log()
    assert main(["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "skipped" and result["selected"] == []
    assert reason in result["skip_reason"], result["skip_reason"]
    assert _writes(sample_double) == 0
    assert reason in _read(action_env["summary"])
    assert json.loads(_read(action_env["audit.jsonl"]))["details"]["skip_reason"] == result["skip_reason"]


def test_an_assigned_issue_is_left_alone(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=3)])
    issue = next(
        i
        for i in sample_double.recording.issues[REPO]
        if i["state"] == "open" and i["assignees"] and not i.get("pull_request")
    )
    assert main(["--repo", REPO, "--issue", str(issue["number"]), "--exports", str(exports)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "skipped" and "already has assignees" in result["skip_reason"]
    assert _writes(sample_double) == 0


def test_live_review_requests_fill_the_workload_cap(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ana knows the code best, but two other open pull requests already wait for her review
    pull = _open_pull(sample_double)
    others = [
        p for p in sample_double.recording.pull_requests[REPO] if p["state"] == "open" and p is not pull
    ]
    for other in others[:2]:
        sample_double.configure_pull(
            REPO, other["number"], requested_reviewers=[{"login": "ana", "type": "User"}]
        )
    expert = [{"path_prefix": "src/", "weight": 9.0}]
    people = [_person("ana", expertise_paths=expert, events_last_14d=9), _person("ben", events_last_14d=2)]
    exports = _hand_exports(tmp_path, people)
    config = tmp_path / "routing.yml"
    config.write_text("reviewers: 1\nmax_open_reviews: 2\n")
    args = ["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports), "--config", str(config)]
    assert main([*args, "--dry-run"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["selected"] == ["ben"]
    assert result["excluded"]["ana"] == "at the workload cap (2 open, cap 2)"


def test_who_knows_the_authors_work_is_preferred(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # ana and ben are alike but for the exported history: ben has approved this author's work before
    pull = _open_pull(sample_double)
    author = str(pull["user"]["login"])
    alike = {"events_last_14d": 4, "reviews_done": 5}
    history = [{"author": author.upper(), "weight": 3.0}, {"author": "someone-else", "weight": 9.0}]
    people = [_person("ana", **alike), _person("ben", author_history=history, **alike)]
    config = tmp_path / "routing.yml"
    config.write_text("reviewers: 1\n")
    args = ["--repo", REPO, "--pull", str(pull["number"]), "--config", str(config), "--dry-run"]
    assert main([*args, "--exports", str(_hand_exports(tmp_path / "with", people))]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["selected"] == ["ben"]
    scores = {entry["login"]: entry["total"] for entry in result["scores"]}
    assert scores["ben"] > scores["ana"]

    # without the history the two tie on every factor
    people = [_person("ana", **alike), _person("ben", **alike)]
    assert main([*args, "--exports", str(_hand_exports(tmp_path / "without", people))]) == 0
    scores = {entry["login"]: entry["total"] for entry in json.loads(capsys.readouterr().out)["scores"]}
    assert scores["ben"] == pytest.approx(scores["ana"])


def test_cold_start_falls_back_and_says_so(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = _open_pull(sample_double)
    exports = _hand_exports(tmp_path, [_person(login) for login in ("ana", "ben", "cy")])
    state = tmp_path / "round-robin.json"
    state.write_text(json.dumps({"last": "ana"}))
    args = ["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports)]
    assert main([*args, "--round-robin-state", str(state)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["fallback_used"] == "round_robin" and result["selected"] == ["ben", "cy"]
    assert json.loads(state.read_text()) == {"last": "cy"}
    assert "fallback-used<<" in _read(action_env["output"]) and "round_robin" in _read(action_env["output"])
    sample_double.configure_pull(REPO, pull["number"], requested_reviewers=[])
    assert main(args) == 0  # no round robin state kept: a seeded random choice
    assert json.loads(capsys.readouterr().out)["fallback_used"] == "random"


def test_nobody_to_route_to(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = _open_pull(sample_double)
    exports = _hand_exports(
        tmp_path, [_person(pull["user"]["login"], events_last_14d=5), _person("x", repo="o/other")]
    )
    assert main(["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "unassigned" and result["selected"] == []
    assert "no eligible candidate" in result["reason"]
    assert _writes(sample_double) == 0


def test_github_refusing_the_request_is_reported(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pull = _open_pull(sample_double)
    real = route.calculate_assignment

    def then_hand_over(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        # the pull request changes hands mid-decision: GitHub refuses a review by its author (422)
        sample_double.configure_pull(REPO, pull["number"], user={"login": result.selected[0], "type": "User"})
        return result

    monkeypatch.setattr(route, "calculate_assignment", then_hand_over)
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=3)])
    assert main(["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports)]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["decision"] == "assign_failed" and result["error"].startswith("HTTP 422"), result
    assert result["actions"] == [] and _pull(sample_double, REPO, pull["number"])["requested_reviewers"] == []
    assert "GitHub refused the assignment" in _read(action_env["summary"])


# --------------------------------------------------------------------------------------------
# Malformed inputs


def test_malformed_events_are_rejected_clearly(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=3)])
    event = tmp_path / "event.json"
    for payload, message in [
        ("{not json", "cannot read the event payload"),
        ("[1, 2]", "not a JSON object"),
        (json.dumps({"pull_request": {"number": 1}}), "no repository.full_name"),
        (json.dumps({"repository": {"full_name": REPO}}), "names no pull request or issue"),
        (json.dumps({"repository": {"full_name": REPO}, "issue": "7"}), "issue is not an object"),
        (json.dumps({"repository": {"full_name": REPO}, "pull_request": {"number": -3}}), "positive integer"),
        (json.dumps({"repository": {"full_name": REPO}, "issue": {"number": True}}), "positive integer"),
        (
            json.dumps({"repository": {"full_name": "../etc"}, "issue": {"number": 1}}),
            "not a repository name",
        ),
        (
            json.dumps({"repository": {"full_name": FAKE_TOKEN}, "issue": {"number": 1}}),
            "not a repository name",
        ),
    ]:
        event.write_text(payload)
        assert run_cli(main, ["--event", str(event), "--exports", str(exports)]) == 2
        captured = capsys.readouterr()
        assert message in captured.err, (payload, captured.err)
        assert FAKE_TOKEN not in captured.err
    for argv, message in [
        ([], "nothing to route"),
        (["--repo", REPO], "exactly one of --pull and --issue"),
        (["--repo", REPO, "--pull", "1", "--issue", "2"], "exactly one of --pull and --issue"),
        (["--repo", REPO, "--pull", "x1"], "--pull must be a positive integer"),
        (["--repo", REPO, "--issue", str(_open_pull(sample_double)["number"])], "is a pull request"),
    ]:
        assert run_cli(main, [*argv, "--exports", str(exports)]) == 2
        assert message in capsys.readouterr().err
    assert _writes(sample_double) == 0


def test_malformed_configs_are_rejected_and_the_token_never_shows(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=3)])
    pull = _open_pull(sample_double)
    args = ["--repo", REPO, "--pull", str(pull["number"]), "--exports", str(exports)]
    for text, message in [
        (f"reviewers: {FAKE_TOKEN}\n", "routing.yml: reviewers: Input should be a valid integer"),
        (
            "weights: {expertise: 0, workload: 0, response_time: 0, availability: 0, performance: 0}\n",
            "at least one weight must be positive",
        ),
        ("reviewer: 2\n", "routing.yml: reviewer: Extra inputs are not permitted"),
        ("fallback: [random, random]\n", "each fallback strategy may appear once"),
        ("- a list\n", "the top level must be a mapping"),
        ("reviewers: [\n", "not valid YAML"),
    ]:
        sample_double.writes.commit_files(REPO, "main", {".github/routing.yml": text}, "config")
        assert run_cli(main, args) == 2
        captured = capsys.readouterr()
        assert message in captured.err, (text, captured.err)
        assert FAKE_TOKEN not in _everything(action_env, captured)
    sample_double.writes.commit_files(REPO, "main", {".github/routing.yml": "reviewers: 1\n"}, "fix")
    assert run_cli(main, [*args, "--dry-run"]) == 0
    assert json.loads(capsys.readouterr().out)["selected"] == ["ana"]
    state = tmp_path / "rr.json"
    state.write_text('{"last": 5}')
    assert run_cli(main, [*args, "--round-robin-state", str(state)]) == 2
    assert "round robin state" in capsys.readouterr().err
    assert _writes(sample_double) == 0


def test_missing_or_foreign_exports_fail_closed(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    pull = _open_pull(sample_double)
    args = ["--repo", REPO, "--pull", str(pull["number"])]
    assert run_cli(main, args) == 2
    assert "no exports: pass --exports" in capsys.readouterr().err
    assert run_cli(main, [*args, "--exports", str(tmp_path / "nowhere")]) == 3
    assert "manifest.json is missing" in capsys.readouterr().err
    exports = _hand_exports(tmp_path, [_person("ana")])
    document = json.loads((exports / "reviewers.json").read_text())
    document["reviewers"][0]["open_workload"] = -1
    (exports / "reviewers.json").write_text(json.dumps(document))
    assert run_cli(main, [*args, "--exports", str(exports)]) == 3
    assert "does not match its checksum" in capsys.readouterr().err
    assert _writes(sample_double) == 0


def test_stale_exports_still_route_with_a_warning_and_their_age(
    sample_double: GitHubDouble,
    action_env: dict[str, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Routing is advisory: a reviewer chosen from old statistics is better than none, but it is said."""
    exports = _hand_exports(tmp_path, [_person("ana", events_last_14d=3), _person("ben", reviews_done=2)])
    args = ["--repo", REPO, "--pull", str(_open_pull(sample_double)["number"]), "--exports", str(exports)]
    assert run_cli(main, [*args, "--config", str(tmp_path / "none.yml")]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["decision"] == "assign" and result["selected"]
    assert result["exports_age"]["stale"] and result["exports_age"]["generated_at"] == "2026-11-01T00:00:00Z"
    assert step_output(action_env["output"], "exports-stale") == "true"
    assert float(step_output(action_env["output"], "exports-age-hours")) == result["exports_age"]["age_hours"]
    assert (
        "> **Stale exports.**" in _read(action_env["summary"]) and "::warning::stale exports" in captured.err
    )
    assert json.loads(_read(action_env["audit.jsonl"]))["details"]["exports_age"]["stale"] is True

    config = tmp_path / "routing.yml"
    config.write_text("exports: {max_age_hours: 2160}\n", encoding="utf-8")
    assert run_cli(main, [*args, "--config", str(config), "--dry-run"]) == 0
    assert step_output(action_env["output"], "exports-stale") == "false"
