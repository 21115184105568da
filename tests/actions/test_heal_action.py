"""The heal action end to end against the double on the sample organisation (and the DevLake recording)."""

from __future__ import annotations

import io
import json
import shutil
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from dagster import DagsterInstance

import actions.heal as heal
from actions.common.exports import verify
from actions.common.github import connect as connect_github
from actions.common.report import run_cli
from actions.healing.classify import classify_failure
from actions.healing.logs import excerpt_from_jobs, read_log_archive
from actions.healing.signatures import signature
from pipelines.defs.resources import FAILURE_TEXT_ENV, HistorySourceResource, WarehouseResource
from pipelines.defs.runner import run_assets
from pipelines.exports.build import rerun_priors_from_warehouse
from pipelines.exports.documents import scores_document
from pipelines.exports.rerun_priors import rerun_priors_document
from pipelines.exports.writer import SourceInfo, write_exports
from pipelines.sources.double import GitHubDouble
from pipelines.sources.double.writes import TOO_OLD
from pipelines.sources.recording import JSON
from pipelines.sources.sample import generate_sample_org
from tests.actions.dated_exports import dated_exports, step_output
from tests.actions.rerun_support import SAMPLE_END, failed_with_logs, restored
from tests.conftest import FAKE_TOKEN
from tests.healing.labelled_text import write_labelled
from tests.healing.rerun_warehouse import Attempt, Run, build_rerun_warehouse, reruns
from warehouse.db import connect


@pytest.fixture(scope="module")
def module_double() -> Iterator[GitHubDouble]:
    with GitHubDouble(generate_sample_org(), token=FAKE_TOKEN) as double:
        double.writes.now = lambda: SAMPLE_END
        yield double


@pytest.fixture(scope="module")
def classes(module_double: GitHubDouble) -> dict[str, list[tuple[str, JSON]]]:
    """Failed first attempts with logs by the class the action will find, newest first."""
    found: dict[str, list[tuple[str, JSON]]] = {}
    for repo, run in failed_with_logs(module_double):
        if run["run_attempt"] > 1:
            continue
        archive = module_double.recording.logs[(repo, run["id"], run["run_attempt"])]
        category = classify_failure(excerpt_from_jobs(read_log_archive(archive)).text)["category"]
        found.setdefault(category, []).append((repo, run))
    assert {"transient", "dependency", "permanent"} <= set(found), found.keys()
    return found


@pytest.fixture
def double(
    module_double: GitHubDouble, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[GitHubDouble]:
    """The double restored after the test, and a workflow step's environment pointing at it."""
    for name, value in {
        "GITHUB_TOKEN": FAKE_TOKEN,
        "GITHUB_API_URL": module_double.url,
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"),
        "REPOPILOT_AUDIT_LOG": str(tmp_path / "audit.jsonl"),
        "RUNNER_TEMP": str(tmp_path / "runner"),
    }.items():
        monkeypatch.setenv(name, value)
    for name in ("GITHUB_EVENT_PATH", "REPOPILOT_EXPORTS", "GITHUB_WORKSPACE", "GITHUB_EVENT_NAME"):
        monkeypatch.delenv(name, raising=False)
    with restored(module_double) as restored_double:
        restored_double.reset_log()
        yield restored_double


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def _finished(run: JSON) -> datetime:
    return datetime.fromisoformat(str(run["updated_at"]).replace("Z", "+00:00"))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _heal(
    repo: str, run: JSON, *extra: str, now: datetime | None = None, sleep: Sleeps | None = None
) -> list[dict[str, Any]]:
    argv = ["--repo", repo, "--run-id", str(run["id"]), "--now", _iso(now or SAMPLE_END), *extra]
    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        assert heal.main(argv, sleep=sleep if sleep is not None else Sleeps()) == 0
    results: list[dict[str, Any]] = json.loads(out.getvalue())
    return results


def _written(tmp_path: Path) -> str:
    return "".join(
        (tmp_path / name).read_text(encoding="utf-8")
        for name in ("output", "summary", "audit.jsonl")
        if (tmp_path / name).exists()
    )


def test_transient_failure_is_rerun_once_with_backoff(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    repo, run = classes["transient"][0]
    sleeps = Sleeps()
    now = _finished(run) + timedelta(seconds=10)
    [first] = _heal(repo, run, "--max-sleep", "900", now=now, sleep=sleeps)
    assert (first["category"], first["decision"], first["action"], first["retry_number"]) == (
        "transient",
        "retry",
        "rerun_requested",
        1,
    )
    assert 48 <= first["delay_seconds"] <= 72  # the design's 60 s ± 20 % jitter
    assert sleeps == [pytest.approx(first["delay_seconds"] - 10, abs=1e-3)]
    assert first["matched_lines"] and all(line in first["excerpt"] for line in first["matched_lines"])
    assert double.writes.reruns == [(repo, run["id"], "rerun-failed-jobs")]
    assert double.count(method="POST", path_contains="/rerun-failed-jobs", status=201) == 1

    # the workflow_run event fires again, or the sweep comes by: the run is queued, nothing more happens
    [again] = _heal(repo, run, "--max-sleep", "900", now=now, sleep=sleeps)
    assert again["action"] == "none" and "still going" in again["reason"]
    assert len(double.writes.reruns) == 1 and len(sleeps) == 1

    # the re-run fails the same way: a second retry, with a doubled backoff, deferred past max-sleep
    archive = double.recording.logs[(repo, run["id"], 1)]
    double.writes.finish_run(repo, run["id"], "failure", logs=archive)
    [second] = _heal(repo, run, now=now)
    assert (second["decision"], second["action"], second["retry_number"]) == ("retry", "deferred", 2)
    assert 96 <= second["delay_seconds"] <= 144 and "a later trigger re-runs it" in second["reason"]

    summary = (tmp_path / "summary").read_text(encoding="utf-8")
    assert (
        "re-run requested" in summary
        and "Failure excerpt" in summary
        and first["matched_lines"][0] in summary
    )
    outputs = (tmp_path / "output").read_text(encoding="utf-8")
    assert "rerun-requested<<" in outputs and "category<<" in outputs
    audit = [json.loads(line) for line in (tmp_path / "audit.jsonl").read_text().splitlines()]
    assert [a["decision"] for a in audit] == ["retry/rerun_requested", "skip/none", "retry/deferred"]
    assert FAKE_TOKEN not in _written(tmp_path)
    blob_requests = [r for r in double.requests if r.path.startswith("/_blobs/")]
    assert blob_requests and not any(r.authorization_seen for r in blob_requests)


def test_permanent_failures_are_never_rerun(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]]
) -> None:
    for repo, run in classes["permanent"][:3]:
        [result] = _heal(repo, run, "--max-sleep", "900")
        assert (result["category"], result["decision"], result["action"]) == ("permanent", "skip", "none")
        assert "not retried" in result["reason"] and result["matched_lines"]
    assert double.writes.reruns == [] and double.count(method="POST") == 0


def test_dependency_failures_wait_then_rerun(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]]
) -> None:
    repo, run = classes["dependency"][0]
    finished = _finished(run)
    double.writes.now = lambda: finished + timedelta(hours=1)  # GitHub's clock, for its 30-day rule
    [early] = _heal(repo, run, now=finished + timedelta(seconds=60))
    assert (early["category"], early["decision"], early["action"]) == ("dependency", "wait", "deferred")
    due = datetime.fromisoformat(early["due_at"].replace("Z", "+00:00"))
    assert timedelta(seconds=600) <= due - finished <= timedelta(seconds=720)
    assert double.writes.reruns == []
    # the same trigger again computes the same due time: the wait needs no state between runs
    assert _heal(repo, run, now=finished + timedelta(seconds=61))[0]["due_at"] == early["due_at"]

    [later] = _heal(repo, run, now=due + timedelta(seconds=1))
    assert (later["decision"], later["action"]) == ("retry", "rerun_requested")
    assert "waited" in later["reason"] and double.writes.reruns == [(repo, run["id"], "rerun-failed-jobs")]
    double.writes.now = lambda: SAMPLE_END


def test_github_limits_refuse_with_the_reason(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]]
) -> None:
    (repo, running), (repo2, limit), (repo3, old) = classes["transient"][:3]
    running["status"], running["conclusion"] = "in_progress", None
    limit["run_attempt"] = 50
    double.invalidate()
    assert "still going" in _heal(repo, running)[0]["reason"]
    assert "at most 50 attempts" in _heal(repo2, limit)[0]["reason"]
    late = datetime.fromisoformat(str(old["created_at"]).replace("Z", "+00:00")) + timedelta(days=31)
    assert "younger than 30 days" in _heal(repo3, old, now=late)[0]["reason"]
    assert double.writes.reruns == [] and double.count(path_contains="/logs") == 0  # no logs needed

    # GitHub has the last word: its refusal is reported with its message
    double.writes.now = lambda: late
    try:
        [refused] = _heal(repo3, old)
    finally:
        double.writes.now = lambda: SAMPLE_END
    assert refused["action"] == "refused" and TOO_OLD in refused["reason"]


def test_dry_run_writes_nothing(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    for category in ("transient", "dependency"):
        repo, run = classes[category][0]
        [result] = _heal(
            repo, run, "--dry-run", "--max-sleep", "900", now=_finished(run) + timedelta(hours=1)
        )
        assert (result["action"], result["dry_run"]) == ("would_rerun", True)
    assert double.count(method="POST") == 0 and double.writes.reruns == []
    assert "dry run: nothing was re-run" in (tmp_path / "summary").read_text(encoding="utf-8")


def _break_logs(double: GitHubDouble, repo: str, run: JSON, data: bytes) -> None:
    double.recording.logs[(repo, run["id"], run["run_attempt"])] = data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"<html>not a zip</html>", "not a zip archive"),
        (b"PK\x03\x04" + b"\x00" * 60, "malformed"),
        (b"", "not a zip archive"),
    ],
)
def test_malformed_log_archives_are_rejected(
    double: GitHubDouble,
    classes: dict[str, list[tuple[str, JSON]]],
    capsys: pytest.CaptureFixture[str],
    data: bytes,
    message: str,
) -> None:
    repo, run = classes["transient"][0]
    _break_logs(double, repo, run, data)
    argv = ["--repo", repo, "--run-id", str(run["id"]), "--now", _iso(SAMPLE_END)]
    assert run_cli(heal.main, argv) == 2
    err = capsys.readouterr().err
    assert f"::error::run {run['id']}: " in err and message in err and FAKE_TOKEN not in err
    assert double.writes.reruns == []


def test_an_archive_without_job_logs_and_a_missing_archive(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], capsys: pytest.CaptureFixture[str]
) -> None:
    repo, run = classes["transient"][0]
    empty = io.BytesIO()
    with zipfile.ZipFile(empty, "w") as archive:
        archive.writestr("../escape.txt", "##[error]outside")
    _break_logs(double, repo, run, empty.getvalue())
    argv = ["--repo", repo, "--run-id", str(run["id"]), "--now", _iso(SAMPLE_END)]
    assert run_cli(heal.main, argv) == 2
    assert "holds no job logs" in capsys.readouterr().err
    del double.recording.logs[(repo, run["id"], run["run_attempt"])]
    assert run_cli(heal.main, argv) == 2
    assert "GitHub has no logs for attempt 1 (HTTP 404" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ("not json", "cannot read the event payload"),
        ("[1, 2]", "not a JSON object"),
        ('{"repository": {"full_name": "a/b"}, "pull_request": {}}', "not a workflow_run event"),
        ('{"repository": {"full_name": "a/b"}, "workflow_run": {"name": "CI"}}', "has no 'id'"),
        ('{"repository": {"full_name": "a/b"}, "workflow_run": {"id": "x1"}}', "positive integer"),
        ('{"repository": {"full_name": "../etc"}, "workflow_run": {"id": 1}}', "not a repository name"),
    ],
)
def test_malformed_event_payloads_are_rejected(
    double: GitHubDouble, tmp_path: Path, capsys: pytest.CaptureFixture[str], payload: str, message: str
) -> None:
    event = tmp_path / "event.json"
    event.write_text(payload, encoding="utf-8")
    assert run_cli(heal.main, ["--event", str(event)]) == 2
    assert message in capsys.readouterr().err
    assert double.count() == 0


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("max_retries: 99\n", "max_retries: Input should be less than or equal to 10"),
        ("retries: 2\n", "retries: Extra inputs are not permitted"),
        ("retry_categories: [permanent]\n", "permanent failures are never retried"),
        (f"max_retries: [\n{FAKE_TOKEN}", "not valid YAML"),
    ],
)
def test_malformed_configs_are_rejected(
    double: GitHubDouble,
    classes: dict[str, list[tuple[str, JSON]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    text: str,
    message: str,
) -> None:
    repo, run = classes["transient"][0]
    config = tmp_path / "self-healing.yml"
    config.write_text(text, encoding="utf-8")
    argv = ["--repo", repo, "--run-id", str(run["id"]), "--config", str(config)]
    assert run_cli(heal.main, argv) == 2
    err = capsys.readouterr().err
    assert message in err and FAKE_TOKEN not in err
    assert double.writes.reruns == []


def test_the_workflow_run_event_and_the_sweep(
    double: GitHubDouble,
    classes: dict[str, list[tuple[str, JSON]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    repo, run = classes["transient"][0]
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"repository": {"full_name": repo}, "workflow_run": run}), encoding="utf-8")
    assert run_cli(heal.main, ["--event", str(event), "--dry-run", "--now", _iso(SAMPLE_END)]) == 0
    [result] = json.loads(capsys.readouterr().out)
    assert (result["run_id"], result["action"]) == (run["id"], "would_rerun")

    argv = ["--repo", repo, "--sweep", "--since-hours", "240", "--max-runs", "5", "--dry-run"]
    assert run_cli(heal.main, [*argv, "--now", _iso(SAMPLE_END)]) == 0
    swept = json.loads(capsys.readouterr().out)
    assert 0 < len(swept) <= 5 and {r["action"] for r in swept} <= {"would_rerun", "none", "deferred"}
    assert all(r["conclusion"] in {"failure", "timed_out"} for r in swept)
    assert double.count(method="POST") == 0


def _exports_with_priors(tmp_path: Path, repo: str, workflow: str, reruns: int, successes: int) -> Path:
    document = rerun_priors_document(
        [
            {
                "repo": repo,
                "workflow": workflow,
                "workflow_path": None,
                "reruns": reruns,
                "successes": successes,
            }
        ],
        None,
        generated_at=SAMPLE_END,
    )
    return _exports_with(tmp_path, repo, document)


def _exports_with(tmp_path: Path, repo: str, document: dict[str, Any]) -> Path:
    return write_exports(
        tmp_path / "exports",
        models_dir=None,
        source=SourceInfo("sample", True, SAMPLE_END, (repo,)),
        documents={"rerun_priors": document},
        scores=lambda models: scores_document(pl.DataFrame(), models, generated_at=SAMPLE_END),
        generated_at=SAMPLE_END,
    ).root


def test_priors_skip_retries_that_rarely_succeed(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    repo, run = classes["transient"][0]
    poor = _exports_with_priors(tmp_path / "poor", repo, str(run["name"]), reruns=40, successes=2)
    [skipped] = _heal(repo, run, "--exports", str(poor))
    assert skipped["decision"] == "skip" and "below min_success_rate" in skipped["reason"]
    assert skipped["prior"]["reruns"] == 40 and skipped["prior"]["rate"] < 0.3
    assert skipped["persistence"] is None  # exports without the signatures' history: nothing known
    good = _exports_with_priors(tmp_path / "good", repo, str(run["name"]), reruns=40, successes=30)
    [retried] = _heal(repo, run, "--exports", str(good), "--dry-run")
    assert retried["action"] == "would_rerun" and retried["prior"]["rate"] > 0.7


def _heal_on_warehouse(
    tmp_path: Path, repo: str, run: JSON, runs: list[Run], *, classes: bool, now: datetime | None = None
) -> dict[str, Any]:
    """The dry-run decision, re-run priors from a warehouse of ``runs`` (with or without their classes)."""
    path = build_rerun_warehouse(tmp_path / "warehouse.duckdb", runs)
    with connect(path) as conn:
        if not classes:
            conn.execute("DROP TABLE features.failure_classes")
        document = rerun_priors_from_warehouse(conn, None, generated_at=SAMPLE_END)
    [result] = _heal(
        repo, run, "--exports", str(_exports_with(tmp_path, repo, document)), "--dry-run", now=now
    )
    return result


def test_class_priors_from_the_warehouse_change_the_decision(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    """A workflow whose re-runs rarely pass (people re-run its test failures) still gets its
    transient failures re-run, which usually pass; its dependency failures, which rarely clear on a
    re-run, are skipped though its re-runs mostly pass. Without the classes, the opposite."""
    repo, run = classes["transient"][0]
    workflow = str(run["name"])
    runs = [
        *reruns(repo, workflow, "permanent", ["failure"] * 29 + ["success"]),
        *reruns(repo, workflow, "transient", ["success"] * 8 + ["failure"] * 2),
    ]
    by_class = _heal_on_warehouse(tmp_path / "a", repo, run, runs, classes=True)
    assert (by_class["decision"], by_class["action"]) == ("retry", "would_rerun")
    assert by_class["prior"]["failure_class"] == "transient" and by_class["prior"]["reruns"] == 10
    assert by_class["prior"]["rate"] > 0.6
    by_workflow = _heal_on_warehouse(tmp_path / "b", repo, run, runs, classes=False)
    assert by_workflow["decision"] == "skip" and "re-runs of this workflow succeed" in by_workflow["reason"]
    assert by_workflow["prior"]["failure_class"] == "any" and by_workflow["prior"]["rate"] < 0.3

    repo, run = classes["dependency"][0]
    workflow = str(run["name"])
    runs = [
        *reruns(repo, workflow, "transient", ["success"] * 18 + ["failure"] * 2),
        *reruns(repo, workflow, "dependency", ["success"] + ["failure"] * 7),
    ]
    now = _finished(run) + timedelta(hours=1)  # past the dependency wait, within GitHub's 30 days
    by_class = _heal_on_warehouse(tmp_path / "c", repo, run, runs, classes=True, now=now)
    assert by_class["category"] == "dependency" and by_class["decision"] == "skip"
    assert "re-runs of dependency failures of this workflow succeed" in by_class["reason"]
    by_workflow = _heal_on_warehouse(tmp_path / "d", repo, run, runs, classes=False, now=now)
    assert by_workflow["decision"] == "retry" and by_workflow["prior"]["rate"] > 0.6
    assert double.count(method="POST") == 0


def test_a_failure_whose_own_reruns_keep_failing_is_not_rerun(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    """Transient failures of the workflow usually heal on a re-run, but this very failure (its
    signature) failed again on all five of its re-runs: its own history decides and it is skipped.
    Its re-runs all on the run's own commit, so persistence (other commits) plays no part."""
    repo, run = classes["transient"][0]
    workflow, head = str(run["name"]), str(run["head_sha"])
    lines = _excerpt_lines(double, repo, run)
    own = [
        Run(repo, workflow, (Attempt("failure", lines=lines), Attempt("failure", lines=lines)), head)
        for _ in range(5)
    ]
    healing = reruns(repo, workflow, "transient", ["success"] * 12 + ["failure"] * 3)
    result = _heal_on_warehouse(tmp_path / "a", repo, run, [*own, *healing], classes=True)
    assert (result["category"], result["decision"], result["action"]) == ("transient", "skip", "none")
    assert result["persistence"]["earlier_commits"] == 0
    assert result["prior"]["failure_class"] == "signature"
    assert (result["prior"]["reruns"], result["prior"]["successes"]) == (5, 0)
    # 0 of 5, shrunk by 2 pseudo re-runs towards the transient class's rate: 12 of 20, as are the
    # workflow's and the organisation's, so their own shrinking leaves it at 0.6
    assert result["prior"]["rate"] == pytest.approx((0 + 2 * 0.6) / (5 + 2), abs=1e-6)
    assert result["reason"].startswith("re-runs of this same failure succeed")

    # fewer than min_history re-runs of its own: the class decides, and the run is re-run
    result = _heal_on_warehouse(tmp_path / "b", repo, run, [*own[:4], *healing], classes=True)
    assert result["prior"]["failure_class"] == "transient" and result["decision"] == "retry"
    assert double.count(method="POST") == 0


def test_devlake_runs(
    devlake_double: GitHubDouble, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A real recording: old failures are refused for age before any download; it holds no logs."""
    monkeypatch.setenv("GITHUB_TOKEN", FAKE_TOKEN)
    monkeypatch.setenv("GITHUB_API_URL", devlake_double.url)
    for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY", "REPOPILOT_AUDIT_LOG", "GITHUB_WORKSPACE"):
        monkeypatch.delenv(name, raising=False)
    repo, runs = next(iter(devlake_double.recording.workflow_runs.items()))
    failed = [r for r in runs if str(r.get("conclusion") or "").lower() == "failure"]
    odd = next(r for r in failed if r["status"] != "completed")  # DevLake's upper-case edge case
    for run in (failed[0], odd):
        assert run_cli(heal.main, ["--repo", repo, "--run-id", str(run["id"])]) == 0
        [result] = json.loads(capsys.readouterr().out)
        assert result["action"] == "none" and "younger than 30 days" in result["reason"]
    created = datetime.fromisoformat(str(odd["created_at"]).replace("Z", "+00:00"))
    argv = ["--repo", repo, "--run-id", str(odd["id"]), "--now", _iso(created + timedelta(hours=2))]
    assert run_cli(heal.main, argv) == 2
    assert "GitHub has no logs for attempt" in capsys.readouterr().err
    assert devlake_double.count(method="POST") == 0


@pytest.mark.timeout(900)  # the first test asking for the demo home builds it (the whole pipeline)
def test_the_pipeline_exports_rerun_priors(demo_home: Path) -> None:
    """The demo's exports carry re-run priors from the warehouse's attempts, valid against their schema."""
    from actions.common.exports import verify
    from actions.healing.priors import PriorTable

    exports = verify(demo_home / "exports")
    assert exports.has("rerun_priors")
    document = exports.json("rerun_priors")
    assert document["entries"] and document["prior"]["source"] in {"warehouse", "gha-reruns"}
    table = PriorTable.from_exports(exports)
    entry = document["entries"][0]
    prior = table.lookup(entry["repo"], entry["workflow"], "transient", min_history=10**6)
    assert prior is not None and prior.reruns == entry["reruns"] and prior.rate == entry["rate"]
    frame = pl.DataFrame(document["entries"])
    assert (frame["successes"] <= frame["reruns"]).all() and frame["reruns"].sum() > 0
    # the sample's failures have logs: its re-runs are split by the class the pipeline gave them
    workflows = frame.filter(pl.col("failure_class") == "any")
    classed = frame.filter(pl.col("failure_class") != "any")
    assert set(classed["failure_class"]) >= {"transient", "permanent"}
    joined = classed.join(workflows, on=["repo", "workflow"], suffix="_workflow")
    assert joined.height == classed.height and (joined["prior_rate"] == joined["rate_workflow"]).all()
    totals = joined.group_by("repo", "workflow").agg(
        pl.col("reruns").sum(), pl.col("reruns_workflow").first()
    )
    assert (totals["reruns"] <= totals["reruns_workflow"]).all()
    by_class = classed.group_by("failure_class").agg(pl.col("successes").sum() / pl.col("reruns").sum())
    rates = dict(by_class.iter_rows())
    assert rates["transient"] > rates["permanent"]  # the sample re-runs transient failures more successfully
    # and the failure signatures' history: the pipeline's own signatures of the sample's excerpts
    signatures = pl.DataFrame(document["signatures"]["entries"])
    assert signatures.height > 0 and (signatures["failed_runs"] >= signatures["commits"]).all()
    assert (signatures["rerun_failures"] <= signatures["reruns"]).all()
    assert (signatures["first_seen"] <= signatures["last_seen"]).all()
    assert (signatures["recent_commits"].list.len() <= document["signatures"]["max_commits"]).all()


def test_the_repository_is_not_fetched_and_pygithub_warns_of_nothing(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]]
) -> None:
    """The repository object is lazy (no GET of the repository itself) without PyGithub's deprecated
    ``get_repo(..., lazy=True)``."""
    import warnings

    repo, run = classes["transient"][0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        [result] = _heal(repo, run, "--dry-run")
        lazy = connect_github(FAKE_TOKEN, double.url).withLazy(True).get_repo(repo)
    assert result["action"] == "would_rerun"
    assert not [w for w in caught if "lazy" in str(w.message)], [str(w.message) for w in caught]
    assert not [r.path for r in double.requests if r.path.rstrip("/") == f"/repos/{repo}"]
    before = len(double.requests)
    fetched = lazy.get_workflow_run(int(run["id"]))  # lazy too, as with get_repo(..., lazy=True)
    assert len(double.requests) == before
    assert fetched.conclusion == run["conclusion"] and len(double.requests) == before + 1


def _exports_with_history(tmp_path: Path, repo: str, runs: list[Run]) -> Path:
    """Exports whose re-run priors (with the signatures' history) come from a warehouse of ``runs``."""
    path = build_rerun_warehouse(tmp_path / "warehouse.duckdb", runs)
    with connect(path) as conn:
        document = rerun_priors_from_warehouse(conn, None, generated_at=SAMPLE_END)
    return _exports_with(tmp_path, repo, document)


def _excerpt_lines(double: GitHubDouble, repo: str, run: JSON) -> tuple[str, ...]:
    archive = double.recording.logs[(repo, run["id"], run["run_attempt"])]
    return tuple(excerpt_from_jobs(read_log_archive(archive)).text.splitlines())


def _earlier(repo: str, run: JSON, lines: tuple[str, ...], heads: list[str]) -> list[Run]:
    """Failed runs of ``repo`` a day apart before ``run``, one per head commit, with the excerpt ``lines``."""
    created = datetime.fromisoformat(str(run["created_at"]).replace("Z", "+00:00"))
    return [
        Run(repo, str(run["name"]), (Attempt("failure", lines=lines),), head, created - timedelta(days=n + 1))
        for n, head in enumerate(heads)
    ]


def test_a_transient_failure_that_keeps_recurring_is_not_rerun(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    repo, run = classes["transient"][0]
    lines = _excerpt_lines(double, repo, run)
    exports = _exports_with_history(tmp_path, repo, _earlier(repo, run, lines, ["a1", "a2", "a3"]))
    now = _finished(run) + timedelta(seconds=10)
    [result] = _heal(repo, run, "--exports", str(exports), "--max-sleep", "900", now=now)
    assert (result["category"], result["classified_category"]) == ("permanent", "transient")
    assert (result["decision"], result["action"]) == ("skip", "none")
    # the earliest of the three: three days before, plus the warehouse helper's minute per attempt
    first = datetime.fromisoformat(str(run["created_at"]).replace("Z", "+00:00")) - timedelta(
        days=3, minutes=-1
    )
    assert result["reason"].startswith(
        f"persistent: same failure on 3 earlier commits (3 runs) since {_iso(first)}"
    )
    assert result["persistence"] == {
        "earlier_commits": 3,
        "earlier_runs": 3,
        "since": _iso(first),
        "rerun_failures": 0,
    }
    assert result["signature"] == signature("\n".join(lines))
    assert double.writes.reruns == [] and double.count(method="POST") == 0
    audit = json.loads((tmp_path / "audit.jsonl").read_text(encoding="utf-8").splitlines()[-1])
    assert (
        audit["details"]["classified_category"] == "transient" and audit["details"]["category"] == "permanent"
    )

    # turned off in the configuration, or a higher threshold than the history holds: retried
    config = tmp_path / "self-healing.yml"
    for setting, earlier in (("persistent_after: 0", None), ("persistent_after: 4", 3)):
        config.write_text(setting + "\n", encoding="utf-8")
        argv = ["--exports", str(exports), "--config", str(config), "--dry-run", "--max-sleep", "900"]
        [retried] = _heal(repo, run, *argv, now=now)
        assert (retried["category"], retried["action"]) == ("transient", "would_rerun"), setting
        assert (retried["persistence"] or {}).get("earlier_commits") == earlier


def test_a_new_transient_failure_is_rerun(
    double: GitHubDouble, classes: dict[str, list[tuple[str, JSON]]], tmp_path: Path
) -> None:
    """Other failures on other commits, and this failure on this run's own commit, are no recurrence."""
    repo, run = classes["transient"][0]
    lines = _excerpt_lines(double, repo, run)
    other = ("curl: (6) Could not resolve host: example.org", "Error: Process completed with exit code 6.")
    assert signature("\n".join(other)) != signature("\n".join(lines))
    history = [
        *_earlier(repo, run, other, ["b1", "b2", "b3"]),
        *_earlier(repo, run, lines, [str(run["head_sha"])] * 3),
    ]
    exports = _exports_with_history(tmp_path, repo, history)
    now = _finished(run) + timedelta(seconds=10)
    [result] = _heal(repo, run, "--exports", str(exports), "--max-sleep", "900", now=now)
    assert (result["category"], result["classified_category"]) == ("transient", "transient")
    assert (result["decision"], result["action"]) == ("retry", "rerun_requested")
    assert result["persistence"] == {
        "earlier_commits": 0,
        "earlier_runs": 0,
        "since": None,
        "rerun_failures": 0,
    }
    assert double.writes.reruns == [(repo, run["id"], "rerun-failed-jobs")]


@pytest.mark.timeout(900)  # the first test asking for the demo home builds it (the whole pipeline)
def test_heal_reads_the_failure_classifier_the_pipeline_exported(
    double: GitHubDouble,
    classes: dict[str, list[tuple[str, JSON]]],
    demo_home: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """REPOPILOT_FAILURE_TEXT set: the asset trains, the exports carry it, heal classifies with it."""
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(demo_home / "models", home / "models", symlinks=True)
    monkeypatch.setenv(FAILURE_TEXT_ENV, str(write_labelled(tmp_path / "labelled.csv")))
    for select in ("failure_classifier", "exports"):
        run_assets(
            HistorySourceResource(source="sample"),
            WarehouseResource(home=str(home)),
            select=select,
            instance=DagsterInstance.ephemeral(),
        )
    exported = verify(home / "exports")
    assert exported.json("failure_classifier")["training"]["rows"] == 36
    assert not verify(demo_home / "exports").has("failure_classifier")  # built with the variable unset

    repo, run = classes["transient"][0]
    [with_model] = _heal(repo, run, "--exports", str(home / "exports"), "--dry-run")
    [rules_only] = _heal(repo, run, "--exports", str(demo_home / "exports"), "--dry-run")
    assert with_model["classifier"] in {"model", "rules+model"}
    assert rules_only["classifier"] == "rules"


def test_stale_priors_still_rerun_a_transient_failure_with_a_warning(
    double: GitHubDouble,
    classes: dict[str, list[tuple[str, JSON]]],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A re-run changes no code and is capped by max_retries: old priors warn, they do not stop it."""
    repo, run = classes["transient"][0]
    now = _finished(run) + timedelta(seconds=10)
    priors = [{"repo": repo, "workflow": run["name"], "workflow_path": None, "reruns": 40, "successes": 30}]
    made = now - timedelta(days=5)
    exports = dated_exports(
        tmp_path / "exports",
        made,
        (repo,),
        {"rerun_priors": rerun_priors_document(priors, None, generated_at=made)},
    )
    [result] = _heal(repo, run, "--exports", str(exports), "--dry-run", "--max-sleep", "900", now=now)
    assert (result["decision"], result["action"], result["prior"]["reruns"]) == ("retry", "would_rerun", 40)
    assert "::warning::stale exports" in capsys.readouterr().err
    assert step_output(tmp_path / "output", "exports-stale") == "true"
    assert float(step_output(tmp_path / "output", "exports-age-hours")) == 120.0
    assert "> **Stale exports.**" in (tmp_path / "summary").read_text()
    record = json.loads((tmp_path / "audit.jsonl").read_text().splitlines()[-1])
    assert record["details"]["exports_age"] == {
        "generated_at": _iso(made),
        "age_hours": 120.0,
        "max_age_hours": 48.0,
        "stale": True,
        "data_as_of": _iso(made),
        "data_age_hours": 0.0,
        "max_data_age_hours": 168.0,
        "data_stale": False,
    }
