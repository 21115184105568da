"""The synthetic sample organisation: shapes, integrity, determinism and the signals it carries."""

from __future__ import annotations

import io
import json
import re
import statistics
import time
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest

from pipelines.sources.recording import Recording, repo_of_url
from pipelines.sources.sample import ORG, SampleOrgSpec, flaky_workflows, generate_sample_org

SPEC = SampleOrgSpec()
END = SPEC.end.timestamp()
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z .*$")


@pytest.fixture(scope="module")
def rec() -> Recording:
    return generate_sample_org(SPEC)


def ts(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def dump(recording: Recording) -> str:
    """The whole recording as canonical JSON (tuple keys joined, log bytes in hex)."""
    out: dict[str, Any] = {"repos": recording.repos, "synthetic": recording.synthetic}
    for name in (
        "pull_requests",
        "reviews",
        "pr_files",
        "review_comments",
        "issues",
        "issue_comments",
        "issue_events",
        "workflow_runs",
        "run_attempts",
        "jobs",
        "check_runs",
        "commit_statuses",
        "logs",
    ):
        value = getattr(recording, name)
        out[name] = {
            (k if isinstance(k, str) else "|".join(map(str, k))): (v.hex() if isinstance(v, bytes) else v)
            for k, v in value.items()
        }
    return json.dumps(out, sort_keys=True)


def all_runs(rec: Recording) -> Iterator[dict[str, Any]]:
    """Every attempt of every run (latest ones and earlier ones)."""
    for runs in rec.workflow_runs.values():
        yield from runs
    yield from rec.run_attempts.values()


def first_attempt(rec: Recording, repo: str, run: dict[str, Any]) -> dict[str, Any]:
    if run["run_attempt"] == 1:
        return run
    return rec.run_attempts[(repo, run["id"], 1)]


def walk_times(obj: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(obj, dict):
        for key, value in obj.items():
            if (key.endswith("_at") or key == "timestamp") and isinstance(value, str):
                yield f"{path}.{key}", value
            else:
                yield from walk_times(value, f"{path}.{key}")
    elif isinstance(obj, list):
        for item in obj:
            yield from walk_times(item, path)


# ---------------------------------------------------------------------------------------------


def test_same_spec_gives_identical_json(rec: Recording) -> None:
    again = generate_sample_org(SPEC)
    assert dump(again) == dump(rec)
    other = generate_sample_org(
        SampleOrgSpec(seed=8, repositories=2, pull_requests_per_repo=10, runs_per_repo=40)
    )
    assert dump(other) != dump(rec)


def test_labelled_synthetic_with_expected_volume(rec: Recording) -> None:
    assert rec.synthetic is True
    assert len(rec.repos) == SPEC.repositories
    assert len(set(rec.repos)) == len(rec.repos)
    assert all(repo.startswith(f"{ORG}/") for repo in rec.repos)
    assert all(len(rec.pull_requests[r]) == SPEC.pull_requests_per_repo for r in rec.repos)
    issues_only = sum(1 for r in rec.repos for i in rec.issues[r] if "pull_request" not in i)
    assert issues_only == SPEC.repositories * SPEC.issues_per_repo
    runs = sum(len(rec.workflow_runs[r]) for r in rec.repos)
    target = SPEC.repositories * SPEC.runs_per_repo
    assert 0.85 * target <= runs <= 1.2 * target


def test_ids_unique_per_object_type(rec: Recording) -> None:
    groups: dict[str, list[int]] = {
        "pull_requests": [p["id"] for v in rec.pull_requests.values() for p in v],
        "issues": [i["id"] for v in rec.issues.values() for i in v],
        "reviews": [r["id"] for v in rec.reviews.values() for r in v],
        "review_comments": [c["id"] for v in rec.review_comments.values() for c in v],
        "issue_comments": [c["id"] for v in rec.issue_comments.values() for c in v],
        "issue_events": [e["id"] for v in rec.issue_events.values() for e in v],
        "workflow_runs": [r["id"] for v in rec.workflow_runs.values() for r in v],
        "jobs": [j["id"] for v in rec.jobs.values() for j in v],
        "check_runs": [c["id"] for v in rec.check_runs.values() for c in v],
        "commit_statuses": [s["id"] for v in rec.commit_statuses.values() for s in v],
        "check_suites": [r["check_suite_id"] for r in all_runs(rec)],
    }
    for name, ids in groups.items():
        assert ids, name
        assert all(isinstance(i, int) and i > 0 for i in ids), name
        assert len(ids) == len(set(ids)), name
    labels: dict[int, str] = {}
    for pr in (p for v in rec.pull_requests.values() for p in v):
        for label in pr["labels"]:
            assert labels.setdefault(label["id"], label["name"]) == label["name"]
    # Numbers are shared by issues and pull requests of a repository, as on GitHub.
    for repo in rec.repos:
        numbers = [i["number"] for i in rec.issues[repo]]
        assert len(numbers) == len(set(numbers))


def test_every_pull_request_has_an_issue_twin(rec: Recording) -> None:
    for repo in rec.repos:
        twins = {i["number"]: i for i in rec.issues[repo] if "pull_request" in i}
        assert len(twins) == len(rec.pull_requests[repo])
        for pr in rec.pull_requests[repo]:
            twin = twins[pr["number"]]
            assert twin["pull_request"]["url"] == pr["url"]
            assert twin["pull_request"]["merged_at"] == pr["merged_at"]
            assert twin["state"] == pr["state"]
            assert twin["id"] != pr["id"]
            assert twin["url"] == f"https://api.github.com/repos/{repo}/issues/{pr['number']}"


def test_object_shapes(rec: Recording) -> None:
    repo = rec.repos[0]
    pr = rec.pull_requests[repo][0]
    for key in [
        "id",
        "node_id",
        "number",
        "url",
        "html_url",
        "state",
        "title",
        "body",
        "user",
        "labels",
        "draft",
        "created_at",
        "updated_at",
        "closed_at",
        "merged_at",
        "merge_commit_sha",
        "head",
        "base",
        "author_association",
        "requested_reviewers",
        "assignees",
        "additions",
        "deletions",
        "changed_files",
        "commits",
        "comments",
        "review_comments",
        "mergeable_state",
    ]:
        assert key in pr, key
    assert pr["url"] == f"https://api.github.com/repos/{repo}/pulls/{pr['number']}"
    assert pr["base"]["ref"] == "main" and pr["head"]["repo"]["full_name"] == repo
    assert set(pr["user"]) >= {"login", "id", "type"}
    run = rec.workflow_runs[repo][0]
    for key in [
        "id",
        "name",
        "node_id",
        "head_branch",
        "head_sha",
        "path",
        "run_number",
        "event",
        "status",
        "conclusion",
        "workflow_id",
        "check_suite_id",
        "url",
        "html_url",
        "pull_requests",
        "created_at",
        "updated_at",
        "run_started_at",
        "actor",
        "triggering_actor",
        "run_attempt",
        "previous_attempt_url",
        "jobs_url",
        "logs_url",
        "rerun_url",
        "head_commit",
        "repository",
    ]:
        assert key in run, key
    assert re.fullmatch(r"\.github/workflows/(ci|lint|e2e|deploy)\.yml", run["path"])
    job = next(iter(rec.jobs.values()))[0]
    for key in [
        "id",
        "run_id",
        "run_attempt",
        "node_id",
        "head_sha",
        "url",
        "status",
        "conclusion",
        "created_at",
        "started_at",
        "completed_at",
        "name",
        "steps",
        "labels",
        "runner_name",
        "workflow_name",
        "head_branch",
    ]:
        assert key in job, key
    check = next(iter(rec.check_runs.values()))[0]
    assert check["app"]["slug"] == "github-actions"
    status = next(iter(rec.commit_statuses.values()))[0]
    assert status["state"] in {"success", "failure", "pending", "error"}
    described = [
        s["description"] for v in rec.commit_statuses.values() for s in v if s["context"] == "codecov/project"
    ]
    assert any(re.fullmatch(r"\d+\.\d\d% \([+-]\d+\.\d\d%\) compared to [0-9a-f]{7}", d) for d in described)
    event = next(e for v in rec.issue_events.values() for e in v if e["event"] == "labeled")
    assert {"name", "color"} <= set(event["label"]) and {"id", "number", "url"} <= set(event["issue"])
    issue = next(i for v in rec.issues.values() for i in v if "pull_request" not in i)
    assert all({"id", "name", "color"} <= set(label) for label in issue["labels"])


def test_referential_integrity(rec: Recording) -> None:
    numbers = {(r, p["number"]) for r in rec.repos for p in rec.pull_requests[r]}
    assert set(rec.pr_files) == numbers
    for repo in rec.repos:
        for pr in rec.pull_requests[repo]:
            files = rec.pr_files[(repo, pr["number"])]
            assert len({f["filename"] for f in files}) == len(files) == pr["changed_files"]
            assert sum(f["additions"] for f in files) == pr["additions"]
            assert sum(f["deletions"] for f in files) == pr["deletions"]
            assert all(f["status"] in {"added", "modified", "removed", "renamed"} for f in files)
    issue_numbers = {(r, i["number"]) for r in rec.repos for i in rec.issues[r]}
    assert set(rec.reviews) <= numbers and set(rec.pr_files) <= numbers
    for (repo, number), reviews in rec.reviews.items():
        for review in reviews:
            assert review["pull_request_url"].endswith(f"/repos/{repo}/pulls/{number}")
    review_ids = {r["id"] for v in rec.reviews.values() for r in v}
    for repo, comments in rec.review_comments.items():
        ids = {c["id"] for c in comments}
        for comment in comments:
            assert comment["pull_request_review_id"] in review_ids
            assert (repo, int(comment["pull_request_url"].rsplit("/", 1)[1])) in numbers
            assert comment.get("in_reply_to_id", comment["id"]) in ids
    for repo, comments in rec.issue_comments.items():
        for comment in comments:
            assert repo_of_url(comment["issue_url"]) == repo
            assert (repo, int(comment["issue_url"].rsplit("/", 1)[1])) in issue_numbers
    for repo, events in rec.issue_events.items():
        for event in events:
            assert (repo, event["issue"]["number"]) in issue_numbers
    latest = {(r, run["id"]): run["run_attempt"] for r in rec.repos for run in rec.workflow_runs[r]}
    for repo, run_id, attempt in rec.run_attempts:
        assert 1 <= attempt < latest[(repo, run_id)]
    for (repo, run_id), n in latest.items():
        for k in range(1, n + 1):
            assert (repo, run_id, k) in rec.jobs
            if k < n:
                assert (repo, run_id, k) in rec.run_attempts
    for (repo, run_id, attempt), jobs in rec.jobs.items():
        assert attempt <= latest[(repo, run_id)]
        assert all(j["run_id"] == run_id and j["run_attempt"] == attempt for j in jobs)
    for repo in rec.repos:
        for run in rec.workflow_runs[repo]:
            if run["run_attempt"] > 1:
                assert run["previous_attempt_url"].endswith(
                    f"/runs/{run['id']}/attempts/{run['run_attempt'] - 1}"
                )
            else:
                assert run["previous_attempt_url"] is None
            for pull in run["pull_requests"]:
                assert (repo, pull["number"]) in numbers
    run_shas = {(r, run["head_sha"]) for r in rec.repos for run in rec.workflow_runs[r]}
    assert set(rec.check_runs) <= run_shas
    pr_shas = {
        (r, run["head_sha"]) for r in rec.repos for run in rec.workflow_runs[r] if run["pull_requests"]
    }
    assert set(rec.commit_statuses) <= pr_shas
    job_ids = {j["id"] for v in rec.jobs.values() for j in v}
    assert {c["id"] for v in rec.check_runs.values() for c in v} <= job_ids


def test_timestamps_are_iso_ordered_and_not_after_end(rec: Recording) -> None:
    for name in (
        "pull_requests",
        "issues",
        "issue_comments",
        "review_comments",
        "issue_events",
        "workflow_runs",
    ):
        for items in getattr(rec, name).values():
            for path, value in walk_times(items):
                assert ISO.match(value), (name, path, value)
                assert ts(value) <= END, (name, path, value)
    for mapping in (rec.reviews, rec.run_attempts, rec.jobs, rec.check_runs, rec.commit_statuses):
        for path, value in walk_times(list(mapping.values())):
            assert ISO.match(value) and ts(value) <= END, (path, value)
    for repo in rec.repos:
        for item in [*rec.pull_requests[repo], *rec.issues[repo]]:
            assert ts(item["created_at"]) <= ts(item["updated_at"])
            if item["closed_at"]:
                assert ts(item["created_at"]) <= ts(item["closed_at"]) <= ts(item["updated_at"])
            assert (item["state"] == "closed") == (item["closed_at"] is not None)
        for pr in rec.pull_requests[repo]:
            for review in rec.reviews[(repo, pr["number"])]:
                assert ts(review["submitted_at"]) > ts(pr["created_at"])
            if pr["merged_at"]:
                assert pr["merged_at"] == pr["closed_at"]
    for run in all_runs(rec):
        assert ts(run["created_at"]) <= ts(run["run_started_at"]) <= ts(run["updated_at"])
    for jobs in rec.jobs.values():
        for job in jobs:
            assert ts(job["created_at"]) <= ts(job["started_at"])
            if job["completed_at"]:
                assert ts(job["started_at"]) <= ts(job["completed_at"])
            for step in job["steps"]:
                if step["completed_at"]:
                    assert ts(step["started_at"]) <= ts(step["completed_at"])


def test_bots_are_flagged(rec: Recording) -> None:
    users: dict[str, str] = {}
    for items in [*rec.pull_requests.values(), *rec.issue_comments.values(), *rec.workflow_runs.values()]:
        for item in items:
            for key in ("user", "actor", "triggering_actor"):
                if key in item:
                    users[item[key]["login"]] = item[key]["type"]
    bots = {login for login, kind in users.items() if kind == "Bot"}
    assert bots <= {"dependabot[bot]", "renovate[bot]", "github-actions[bot]"}
    assert len(bots) >= 2
    assert all(kind == "User" for login, kind in users.items() if not login.endswith("[bot]"))
    human_logins = {login for login, kind in users.items() if kind == "User"}
    assert 10 <= len(human_logins) <= SPEC.people
    bot_prs = [p for v in rec.pull_requests.values() for p in v if p["user"]["type"] == "Bot"]
    assert bot_prs and all(any(lb["name"] == "dependencies" for lb in p["labels"]) for p in bot_prs)


def test_pull_request_outcomes(rec: Recording) -> None:
    prs = [p for v in rec.pull_requests.values() for p in v]
    states = Counter("merged" if p["merged_at"] else p["state"] for p in prs)
    assert states["merged"] > 0.75 * len(prs)
    assert 0.03 * len(prs) <= states["open"] <= 0.12 * len(prs)
    assert states["closed"] > 0
    open_prs = [p for p in prs if p["state"] == "open"]
    newest = sorted(prs, key=lambda p: p["created_at"])[-len(prs) // 10 :]
    assert sum(1 for p in open_prs if p in newest) > len(open_prs) / 3
    reviews = [r for v in rec.reviews.values() for r in v]
    assert {r["state"] for r in reviews} == {"APPROVED", "CHANGES_REQUESTED", "COMMENTED"}
    events = Counter(e["event"] for v in rec.issue_events.values() for e in v)
    assert events["ready_for_review"] > 0 and events["review_requested"] > 0 and events["merged"] > 0
    sizes = sorted(p["additions"] + p["deletions"] for p in prs if p["user"]["type"] == "User")
    assert sizes[len(sizes) // 2] < 150 < sizes[int(len(sizes) * 0.97)]


def test_reviewers_know_the_touched_areas(rec: Recording) -> None:
    """Reviewers are mostly people who authored changes in the same top-level areas."""
    touched: dict[tuple[str, str], Counter[str]] = {}
    for repo in rec.repos:
        for pr in rec.pull_requests[repo]:
            for f in rec.pr_files[(repo, pr["number"])]:
                area = "/".join(f["filename"].split("/")[:2])
                touched.setdefault((repo, pr["user"]["login"]), Counter())[area] += 1
    hits = total = 0
    for repo in rec.repos:
        for pr in rec.pull_requests[repo]:
            areas = {"/".join(f["filename"].split("/")[:2]) for f in rec.pr_files[(repo, pr["number"])]}
            for review in rec.reviews[(repo, pr["number"])]:
                login = review["user"]["login"]
                if login == pr["user"]["login"]:
                    continue
                total += 1
                hits += bool(areas & set(touched.get((repo, login), Counter())))
    assert total > 0 and hits / total > 0.6


def test_activity_follows_working_hours(rec: Recording) -> None:
    """Per author, activity concentrates in a few hours of the day and rarely on weekends."""
    by_author: dict[str, list[datetime]] = {}
    for repo in rec.repos:
        for pr in rec.pull_requests[repo]:
            if pr["user"]["type"] == "User":
                by_author.setdefault(pr["user"]["login"], []).append(
                    datetime.fromisoformat(pr["created_at"][:-1])
                )
    concentrated = 0
    active = [times for times in by_author.values() if len(times) >= 10]
    for times in active:
        hours = Counter(t.hour for t in times)
        window = max(sum(hours[(h + k) % 24] for k in range(10)) for h in range(24))
        concentrated += window / len(times) > 0.8
    assert active and concentrated / len(active) > 0.8


def test_ci_fails_more_for_large_changes_and_flaky_workflows(rec: Recording) -> None:
    sizes = {
        (r, p["number"]): p["additions"] + p["deletions"] for r in rec.repos for p in rec.pull_requests[r]
    }
    flaky = set(flaky_workflows(SPEC))
    assert 1 <= len(flaky) <= 2
    small, large, flaky_runs, other_runs = [], [], [], []
    for repo in rec.repos:
        for run in rec.workflow_runs[repo]:
            first = first_attempt(rec, repo, run)
            if first["status"] != "completed" or first["conclusion"] == "cancelled":
                continue
            failed = first["conclusion"] in {"failure", "timed_out"}
            (flaky_runs if (repo, run["workflow_id"]) in flaky else other_runs).append(failed)
            if run["event"] == "pull_request" and (repo, run["workflow_id"]) not in flaky:
                size = sizes[(repo, run["pull_requests"][0]["number"])]
                if size <= 60:
                    small.append(failed)
                elif size >= 300:
                    large.append(failed)
    rate = statistics.mean
    assert len(large) >= 40 and len(small) >= 200
    assert rate(large) > 1.5 * rate(small)
    assert rate(flaky_runs) > 2 * rate(other_runs)


def test_failures_cluster_and_transient_ones_pass_on_rerun(rec: Recording) -> None:
    after_failure, after_success = [], []
    for repo in rec.repos:
        runs = sorted(rec.workflow_runs[repo], key=lambda r: r["id"])
        last: dict[tuple[str, int], bool] = {}
        for run in runs:
            first = first_attempt(rec, repo, run)
            if first["status"] != "completed" or first["conclusion"] == "cancelled":
                continue
            failed = first["conclusion"] in {"failure", "timed_out"}
            key = (run["head_branch"], run["workflow_id"])
            if key in last:
                (after_failure if last[key] else after_success).append(failed)
            last[key] = failed
    assert statistics.mean(after_failure) > 2 * statistics.mean(after_success)
    reruns = [
        r
        for v in rec.workflow_runs.values()
        for r in v
        if r["run_attempt"] > 1 and r["status"] == "completed"
    ]
    assert len(reruns) >= 20
    assert statistics.mean(r["conclusion"] == "success" for r in reruns) > 0.5


def test_unfinished_runs_near_the_end(rec: Recording) -> None:
    unfinished = [r for v in rec.workflow_runs.values() for r in v if r["status"] != "completed"]
    assert unfinished and all(r["conclusion"] is None for r in unfinished)
    assert {r["status"] for r in unfinished} <= {"in_progress", "queued"}
    assert all(END - ts(r["created_at"]) < 3_600 for r in unfinished)
    repo = next(
        repo for repo in rec.repos if any(r["status"] != "completed" for r in rec.workflow_runs[repo])
    )
    run = next(r for r in rec.workflow_runs[repo] if r["status"] != "completed")
    assert all(
        j["completed_at"] is None
        for j in rec.jobs[(repo, run["id"], run["run_attempt"])]
        if j["status"] != "completed"
    )


def test_failed_jobs_have_a_failed_step(rec: Recording) -> None:
    failed_jobs = [j for v in rec.jobs.values() for j in v if j["conclusion"] in {"failure", "timed_out"}]
    assert failed_jobs
    assert all(any(s["conclusion"] == "failure" for s in j["steps"]) for j in failed_jobs)
    for run in all_runs(rec):
        if run["conclusion"] in {"failure", "timed_out"}:
            jobs = rec.jobs[(repo_of_url(run["url"]), run["id"], run["run_attempt"])]
            assert any(j["conclusion"] == run["conclusion"] for j in jobs)


def test_logs_are_zips_in_githubs_layout(rec: Recording) -> None:
    assert rec.logs
    failed = {
        (repo_of_url(run["url"]), run["id"], run["run_attempt"])
        for run in all_runs(rec)
        if run["conclusion"] in {"failure", "timed_out"}
    }
    assert set(rec.logs) == failed
    excerpts = re.compile(
        r"ETIMEDOUT|503 Service Unavailable|Could not resolve host|operation was canceled|AssertionError|"
        r"expected 200 but got 500|error\[E0308\]|Could not find a version|ERESOLVE|"
        r"exceeded the maximum execution time|##\[error\]|Error|FAIL"
    )
    for key, blob in rec.logs.items():
        assert len(blob) < 16_000
        archive = zipfile.ZipFile(io.BytesIO(blob))
        names = archive.namelist()
        jobs = {j["name"]: j for j in rec.jobs[key]}
        top = [n for n in names if "/" not in n]
        assert top and all(re.fullmatch(r"\d+_[^/]+\.txt", n) for n in top)
        for name in top:
            job_name = name.split("_", 1)[1][:-4]
            assert job_name in jobs
            steps = [n for n in names if n.startswith(f"{job_name}/")]
            assert steps and all(re.fullmatch(rf"{re.escape(job_name)}/\d+_[^/]+\.txt", n) for n in steps)
        text = "".join(archive.read(n).decode() for n in top)
        assert all(LOG_LINE.match(line) for line in text.splitlines())
        assert excerpts.search(text)


def test_logs_can_be_skipped() -> None:
    small = SampleOrgSpec(repositories=1, pull_requests_per_repo=30, runs_per_repo=120, issues_per_repo=5)
    assert generate_sample_org(small).logs
    assert not generate_sample_org(SampleOrgSpec(**{**small.__dict__, "with_logs": False})).logs


def test_issue_priorities_drive_first_response(rec: Recording) -> None:
    created: dict[tuple[str, int], tuple[str, float, str]] = {}
    for repo in rec.repos:
        for issue in rec.issues[repo]:
            if "pull_request" in issue:
                continue
            labels = {label["name"] for label in issue["labels"]}
            assert labels & {"bug", "enhancement"}
            priority = next((p for p in ("P0", "P1", "P2", "P3") if p in labels), "")
            created[(repo, issue["number"])] = (priority, ts(issue["created_at"]), issue["user"]["login"])
    first: dict[tuple[str, int], float] = {}
    for repo in rec.repos:
        for comment in rec.issue_comments[repo]:
            key = (repo, int(comment["issue_url"].rsplit("/", 1)[1]))
            if key in created and comment["user"]["login"] != created[key][2]:
                first.setdefault(key, ts(comment["created_at"]) - created[key][1])
    delays: dict[str, list[float]] = {}
    for key, delay in first.items():
        delays.setdefault(created[key][0], []).append(delay)
    assert len(delays.get("P0", [])) >= 3 and len(delays.get("P3", [])) >= 10
    assert statistics.median(delays["P0"]) < statistics.median(delays["P3"])
    events = Counter(e["event"] for v in rec.issue_events.values() for e in v)
    assert all(events[name] > 0 for name in ("labeled", "assigned", "closed", "reopened"))
    closed = [i for v in rec.issues.values() for i in v if "pull_request" not in i and i["state"] == "closed"]
    assert closed and all(i["state_reason"] in {"completed", "not_planned"} for i in closed)


def test_issue_state_matches_its_events(rec: Recording) -> None:
    for repo in rec.repos:
        history: dict[int, list[tuple[float, int, str]]] = {}
        for event in rec.issue_events[repo]:
            if event["event"] in {"closed", "reopened"}:
                item = (ts(event["created_at"]), event["id"], event["event"])
                history.setdefault(event["issue"]["number"], []).append(item)
        for issue in rec.issues[repo]:
            changes = sorted(history.get(issue["number"], []))
            if issue["state"] == "closed":
                assert changes and changes[-1][2] == "closed"
                assert ts(issue["closed_at"]) == changes[-1][0]
            else:
                assert not changes or changes[-1][2] == "reopened"


def test_spec_validation() -> None:
    with pytest.raises(ValueError):
        SampleOrgSpec(repositories=0)
    with pytest.raises(ValueError):
        SampleOrgSpec(repositories=99)
    with pytest.raises(ValueError):
        SampleOrgSpec(end=datetime(2026, 1, 1))
    bench = SampleOrgSpec.benchmark()
    assert bench.repositories * bench.pull_requests_per_repo == 10_000
    assert bench.repositories * bench.runs_per_repo == 50_000
    assert not bench.with_logs


@pytest.mark.slow
def test_benchmark_spec(request: pytest.FixtureRequest) -> None:
    markexpr = str(request.config.getoption("markexpr") or "")
    if "slow" not in markexpr or "not slow" in markexpr:
        pytest.skip("the benchmark organisation takes ~20 s; run with -m slow")
    started = time.perf_counter()
    rec = generate_sample_org(SampleOrgSpec.benchmark())
    elapsed = time.perf_counter() - started
    assert elapsed < 60
    assert sum(len(v) for v in rec.pull_requests.values()) == 10_000
    assert 45_000 <= sum(len(v) for v in rec.workflow_runs.values()) <= 56_000
    assert not rec.logs
