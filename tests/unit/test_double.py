"""The GitHub API double, exercised over real HTTP with PyGithub and the stdlib clients."""

from __future__ import annotations

import http.client
import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest
from github import Auth, BadCredentialsException, Github, GithubException, GithubRetry, UnknownObjectException

from pipelines.sources.double import GitHubDouble, RequestRecord
from pipelines.sources.github.queries import PULL_REQUEST_DETAILS
from pipelines.sources.recording import JSON, Recording

REPO = "acme/widgets"
OTHER = "acme/gadgets"
TOKEN = "ghp_doubleTestToken0123456789"
BASE = datetime(2024, 1, 1, tzinfo=UTC)
PULL_COUNT = 250


def _iso(hours: float, offset_hours: int = 0) -> str:
    moment = BASE + timedelta(hours=hours)
    if offset_hours == 0:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    local = moment + timedelta(hours=offset_hours)
    return local.strftime("%Y-%m-%dT%H:%M:%S") + f"+{offset_hours:02d}:00"


def _pull(number: int) -> JSON:
    pull: JSON = {
        "id": 5000 + number,
        "number": number,
        "state": "closed" if number % 3 == 0 else "open",
        "created_at": _iso(number),
        # 37 is coprime with 250, so the update hours are a permutation of 0..249.
        "updated_at": _iso((number * 37) % PULL_COUNT, offset_hours=8 if number % 5 == 0 else 0),
        "user": {"login": f"dev{number % 7}", "type": "User"},
    }
    return pull


def make_recording() -> Recording:
    pulls = [_pull(n) for n in range(1, PULL_COUNT + 1)]
    pulls[19]["updated_at"] = _iso(500)  # PR 20 and PR 10 tie on the same instant, spelt differently
    pulls[9]["updated_at"] = _iso(500, offset_hours=8)
    del pulls[249]["updated_at"]  # PR 250 has no updated_at: it sorts as the oldest
    runs = [
        {
            "id": run_id,
            "run_attempt": 1,
            "status": "completed",
            "conclusion": "success",
            "head_branch": "main",
            "event": "push",
            "created_at": _iso(run_id * 24),
        }
        for run_id in range(1, 7)
    ]
    runs[2]["run_attempt"] = 2
    runs[3]["created_at"] = runs[4]["created_at"]  # runs 4 and 5 tie: id breaks it
    runs[5]["conclusion"] = "failure"
    recording = Recording(
        repos=[REPO, OTHER],
        pull_requests={REPO: pulls, OTHER: [_pull(n) for n in range(1, 4)]},
        reviews={
            (REPO, 1): [
                {
                    "id": 30,
                    "user": {"login": "renovate[bot]", "type": "User"},
                    "state": "COMMENTED",
                    "body": "",
                    "submitted_at": _iso(3),
                    "author_association": "NONE",
                    "commit_id": "c3",
                },
                {
                    "id": 10,
                    "user": {"login": "alice", "type": "User"},
                    "state": "APPROVED",
                    "body": "lgtm",
                    "submitted_at": _iso(1),
                    "author_association": "MEMBER",
                    "commit_id": "c1",
                },
                {
                    "id": 20,
                    "user": None,
                    "state": "CHANGES_REQUESTED",
                    "body": "no",
                    "submitted_at": _iso(2),
                    "author_association": "NONE",
                    "commit_id": None,
                },
                {
                    "id": 25,
                    "user": {"login": "ci", "type": "Bot"},
                    "state": "COMMENTED",
                    "body": "",
                    "submitted_at": _iso(2),
                    "author_association": "NONE",
                    "commit_id": "c2",
                },
            ],
            (REPO, 2): [
                {"id": 1000 + i, "user": {"login": "bob", "type": "User"}, "state": "COMMENTED"}
                for i in range(120)
            ],
        },
        pr_files={
            (REPO, 1): [
                {"filename": f"f/{status}.py", "status": status, "additions": 3, "deletions": 1}
                for status in ("added", "removed", "modified", "renamed", "copied", "changed", "odd")
            ]
        },
        review_comments={
            REPO: [
                {"id": 7, "created_at": _iso(5), "updated_at": _iso(50)},
                {"id": 3, "created_at": _iso(9), "updated_at": _iso(10)},
                {"id": 5, "created_at": _iso(1), "updated_at": _iso(90, offset_hours=8)},
            ]
        },
        issues={
            REPO: [{**_pull(n), "pull_request": {"url": f"/pulls/{n}"}, "comments": 0} for n in range(1, 6)]
            + [
                {
                    "id": 9000 + n,
                    "number": n,
                    "state": "open",
                    "created_at": _iso(n),
                    "updated_at": _iso(n + 1),
                    "comments": n - 250,
                }
                for n in range(251, 254)
            ]
        },
        issue_comments={
            REPO: [
                {"id": 2, "created_at": _iso(2), "updated_at": _iso(20)},
                {"id": 1, "created_at": _iso(1), "updated_at": _iso(30)},
            ]
        },
        issue_events={
            REPO: [
                {"id": 1, "created_at": _iso(1)},
                {"id": 3, "created_at": _iso(2)},
                {"id": 2, "created_at": _iso(2)},
            ]
        },
        workflow_runs={REPO: runs},
        run_attempts={(REPO, 3, 1): {**runs[2], "run_attempt": 1, "conclusion": "failure"}},
        jobs={
            (REPO, 3, 1): [{"id": 31, "name": "test", "conclusion": "failure"}],
            (REPO, 3, 2): [{"id": 32, "name": "test", "conclusion": "success"}],
        },
        check_runs={(REPO, "abc"): [{"id": 1, "name": "lint"}, {"id": 2, "name": "test"}]},
        commit_statuses={
            (REPO, "abc"): [{"state": "success", "context": "a"}, {"state": "error", "context": "b"}],
            (REPO, "def"): [{"state": "success", "context": "a"}, {"state": "success", "context": "b"}],
            (REPO, "ghi"): [{"state": "pending", "context": "a"}, {"state": "success", "context": "b"}],
        },
    )
    return recording


def _ts(value: str | None) -> float:
    return datetime.fromisoformat(value).timestamp() if value else float("-inf")


def expected_numbers(recording: Recording, field: str, *, descending: bool, state: str = "all") -> list[int]:
    pulls = [p for p in recording.pull_requests[REPO] if state == "all" or p["state"] == state]
    ordered = sorted(pulls, key=lambda p: (_ts(p.get(field)), p["id"]), reverse=descending)
    return [p["number"] for p in ordered]


@pytest.fixture
def double() -> Iterator[GitHubDouble]:
    with GitHubDouble(make_recording(), token=TOKEN) as running:
        yield running
    assert running.errors == []


def _github(base_url: str, token: str = TOKEN) -> Github:
    return Github(
        base_url=base_url,
        auth=Auth.Token(token),
        per_page=100,
        retry=GithubRetry(total=3, backoff_factor=0.01),
        seconds_between_requests=None,
        seconds_between_writes=None,
        timeout=5,
    )


@pytest.fixture
def gh(double: GitHubDouble) -> Iterator[Github]:
    client = _github(double.url)
    yield client
    client.close()


def raw(
    double: GitHubDouble,
    path: str,
    *,
    method: str = "GET",
    headers: dict[str, str] | None = None,
    body: Any = None,
    token: str | None = TOKEN,
    timeout: float = 5,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection; returns status, lower-cased headers and body."""
    port = urlparse(double.url).port
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    sent = dict(headers or {})
    if token is not None:
        sent["Authorization"] = f"token {token}"
    try:
        payload = None if body is None else json.dumps(body)
        conn.request(method, path, body=payload, headers=sent)
        response = conn.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        conn.close()


def links(header: str) -> dict[str, str]:
    found = {}
    for part in header.split(", "):
        url, rel = part.split("; ")
        found[rel[5:-1]] = url[1:-1]
    return found


def follow(gh: Github, path: str, params: dict[str, Any], key: str | None = None) -> list[JSON]:
    """Every item of a list endpoint, following ``Link: rel="next"`` from page to page."""
    items: list[JSON] = []
    url: str | None = path
    while url is not None:
        headers, data = gh.requester.requestJsonAndCheck("GET", url, params if url == path else None)
        items.extend(data[key] if key else data)
        url = links(headers["link"]).get("next") if "link" in headers else None
    return items


def wait_for_requests(double: GitHubDouble, count: int, seconds: float = 5.0) -> None:
    deadline = time.monotonic() + seconds
    while len(double.requests) < count and time.monotonic() < deadline:
        time.sleep(0.01)
    assert len(double.requests) >= count


# --- pagination and ordering ------------------------------------------------------------------


def test_pygithub_pages_through_all_pulls_once_in_order(double: GitHubDouble, gh: Github) -> None:
    repo = gh.get_repo(REPO)
    numbers = [pull.number for pull in repo.get_pulls(state="all", sort="created", direction="asc")]

    assert numbers == list(range(1, PULL_COUNT + 1))
    assert double.count(path_contains="/pulls", status=200) == 3
    assert [pull.number for pull in repo.get_pulls(state="all")] == list(range(PULL_COUNT, 0, -1))
    closed = [pull.number for pull in repo.get_pulls(state="closed")]
    assert closed == expected_numbers(double.recording, "created_at", descending=True, state="closed")


def test_link_headers_carry_other_parameters(double: GitHubDouble) -> None:
    base = f"/repos/{REPO}/pulls?state=all&direction=asc&per_page=100"

    _, first_headers, _ = raw(double, base)
    first = links(first_headers["link"])
    assert set(first) == {"next", "last"}
    assert first["next"].startswith(f"{double.url}/repos/{REPO}/pulls?")
    assert "state=all" in first["next"]
    assert "direction=asc" in first["next"]
    assert first["next"].endswith("page=2")
    assert first["last"].endswith("page=3")

    _, middle_headers, _ = raw(double, urlparse(first["next"]).path + "?" + urlparse(first["next"]).query)
    assert set(links(middle_headers["link"])) == {"prev", "next", "last", "first"}

    _, last_headers, body = raw(double, base + "&page=3")
    assert set(links(last_headers["link"])) == {"prev", "first"}
    assert len(json.loads(body)) == PULL_COUNT - 200

    _, single_headers, _ = raw(double, f"/repos/{OTHER}/pulls?state=all")
    assert "link" not in single_headers


def test_timestamps_with_offsets_and_missing_values_sort_correctly(double: GitHubDouble, gh: Github) -> None:
    params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 100}
    numbers = [p["number"] for p in follow(gh, f"/repos/{REPO}/pulls", params)]

    assert numbers == expected_numbers(double.recording, "updated_at", descending=True)
    assert numbers[:2] == [20, 10]  # same instant: higher id first when descending
    assert numbers[-1] == PULL_COUNT  # no updated_at sorts as oldest
    ascending = follow(gh, f"/repos/{REPO}/pulls", {"state": "all", "sort": "updated", "per_page": 100})
    assert [p["number"] for p in ascending] == numbers[::-1]  # GitHub: sort=updated defaults to asc


def test_sub_resources_and_lists(double: GitHubDouble, gh: Github) -> None:
    get = gh.requester.requestJsonAndCheck
    assert [r["id"] for r in get("GET", f"/repos/{REPO}/pulls/1/reviews")[1]] == [10, 20, 25, 30]
    assert len(follow(gh, f"/repos/{REPO}/pulls/2/reviews", {"per_page": 50})) == 120
    assert len(get("GET", f"/repos/{REPO}/pulls/1/files")[1]) == 7
    assert get("GET", f"/repos/{REPO}/pulls/7/reviews")[1] == []

    comments = get("GET", f"/repos/{REPO}/pulls/comments", {"sort": "updated", "direction": "desc"})[1]
    assert [c["id"] for c in comments] == [5, 7, 3]
    assert [c["id"] for c in get("GET", f"/repos/{REPO}/pulls/comments")[1]] == [3, 5, 7]
    since = get("GET", f"/repos/{REPO}/pulls/comments", {"since": _iso(40)})[1]
    assert [c["id"] for c in since] == [5, 7]

    issues = get("GET", f"/repos/{REPO}/issues", {"state": "all", "since": _iso(100)})[1]
    assert all(_ts(i["updated_at"]) >= _ts(_iso(100)) for i in issues)
    by_comments = get("GET", f"/repos/{REPO}/issues", {"sort": "comments", "direction": "desc"})[1]
    assert [i["number"] for i in by_comments][:3] == [253, 252, 251]
    assert sum("pull_request" in i for i in get("GET", f"/repos/{REPO}/issues", {"state": "all"})[1]) == 5

    issue_comments = get("GET", f"/repos/{REPO}/issues/comments", {"sort": "updated", "direction": "desc"})
    assert [c["id"] for c in issue_comments[1]] == [1, 2]
    assert [e["id"] for e in get("GET", f"/repos/{REPO}/issues/events")[1]] == [3, 2, 1]


def test_actions_runs_attempts_and_jobs(double: GitHubDouble, gh: Github) -> None:
    get = gh.requester.requestJsonAndCheck
    runs = get("GET", f"/repos/{REPO}/actions/runs")[1]
    assert runs["total_count"] == 6
    assert [r["id"] for r in runs["workflow_runs"]] == [6, 5, 4, 3, 2, 1]

    recent = get("GET", f"/repos/{REPO}/actions/runs", {"created": f">={_iso(72)}"})[1]
    assert recent["total_count"] == 4
    assert [r["id"] for r in recent["workflow_runs"]] == [6, 5, 4, 3]
    by_date = get("GET", f"/repos/{REPO}/actions/runs", {"created": ">=2024-01-04"})[1]
    assert by_date["total_count"] == 4
    failed = get("GET", f"/repos/{REPO}/actions/runs", {"status": "failure"})[1]
    assert [r["id"] for r in failed["workflow_runs"]] == [6]
    paged = follow(gh, f"/repos/{REPO}/actions/runs", {"per_page": 4}, key="workflow_runs")
    assert [r["id"] for r in paged] == [6, 5, 4, 3, 2, 1]

    assert get("GET", f"/repos/{REPO}/actions/runs/3")[1]["run_attempt"] == 2
    assert get("GET", f"/repos/{REPO}/actions/runs/3/attempts/1")[1]["conclusion"] == "failure"
    assert get("GET", f"/repos/{REPO}/actions/runs/3/attempts/2")[1]["conclusion"] == "success"
    assert [j["id"] for j in get("GET", f"/repos/{REPO}/actions/runs/3/jobs")[1]["jobs"]] == [32]
    assert get("GET", f"/repos/{REPO}/actions/runs/3/attempts/1/jobs")[1]["jobs"][0]["id"] == 31
    assert get("GET", f"/repos/{REPO}/actions/runs/3/jobs", {"filter": "all"})[1]["total_count"] == 2
    with pytest.raises(UnknownObjectException):
        get("GET", f"/repos/{REPO}/actions/runs/3/attempts/3")
    with pytest.raises(UnknownObjectException):
        get("GET", f"/repos/{REPO}/actions/runs/99")


def test_checks_statuses_and_repository(double: GitHubDouble, gh: Github) -> None:
    get = gh.requester.requestJsonAndCheck
    checks = get("GET", f"/repos/{REPO}/commits/abc/check-runs")[1]
    assert checks["total_count"] == 2
    assert [c["name"] for c in checks["check_runs"]] == ["lint", "test"]
    assert get("GET", f"/repos/{REPO}/commits/zzz/check-runs")[1] == {
        "total_count": 0,
        "check_runs": [],
        "url": f"/repos/{REPO}/commits/zzz/check-runs",
    }
    states = {
        sha: get("GET", f"/repos/{REPO}/commits/{sha}/status")[1]["state"]
        for sha in ("abc", "def", "ghi", "none")
    }
    assert states == {"abc": "failure", "def": "success", "ghi": "pending", "none": "pending"}

    repo = gh.get_repo(REPO)
    assert (repo.full_name, repo.default_branch, repo.private) == (REPO, "main", False)
    with pytest.raises(UnknownObjectException):
        gh.get_repo("acme/missing")
    with pytest.raises(UnknownObjectException):
        get("GET", f"/repos/{REPO}/pulls/999/reviews")


# --- ETags and budget -------------------------------------------------------------------------


def test_etag_revalidation_costs_nothing(double: GitHubDouble, gh: Github) -> None:
    path = f"/repos/{REPO}/pulls?state=all&per_page=100"
    status, headers, _ = raw(double, path)
    assert status == 200
    assert headers["etag"].startswith('W/"')
    after_first = double.rate_remaining
    assert after_first == 4999
    assert headers["x-ratelimit-remaining"] == "4999"

    status, headers_304, body = raw(double, path, headers={"If-None-Match": headers["etag"]})
    assert (status, body) == (304, b"")
    assert double.rate_remaining == after_first
    assert headers_304["x-ratelimit-remaining"] == "4999"
    assert double.requests[-1].rate_cost == 0
    assert double.requests[-1].if_none_match == headers["etag"]

    other_page, _, _ = raw(double, path + "&page=2", headers={"If-None-Match": headers["etag"]})
    assert other_page == 200  # the ETag belongs to one exact URL

    response_headers, data = gh.requester.requestJsonAndCheck(
        "GET", f"/repos/{REPO}/pulls", {"state": "all", "per_page": 100}, {"If-None-Match": headers["etag"]}
    )
    assert data is None
    assert response_headers["etag"] == headers["etag"]

    double.touch_pull_request(REPO, 200, updated_at="2031-01-01T00:00:00Z")  # on page 1
    changed, _, _ = raw(double, path, headers={"If-None-Match": headers["etag"]})
    assert changed == 200


def test_budget_decrements_and_exhausts() -> None:
    with GitHubDouble(make_recording(), token=TOKEN, rate_limit=3) as double:
        remaining = [raw(double, f"/repos/{REPO}")[1]["x-ratelimit-remaining"] for _ in range(3)]
        assert remaining == ["2", "1", "0"]
        assert double.rate_remaining == 0

        status, headers, body = raw(double, f"/repos/{REPO}")
        assert status == 403
        assert json.loads(body)["message"].startswith("API rate limit exceeded")
        assert headers["x-ratelimit-remaining"] == "0"
        assert int(headers["x-ratelimit-reset"]) > time.time()
        assert headers["x-ratelimit-used"] == "3"
        assert headers["x-ratelimit-resource"] == "core"

        status, _, body = raw(double, "/rate_limit")
        overview = json.loads(body)
        assert status == 200
        assert overview["resources"]["core"]["remaining"] == 0
        assert overview["resources"]["graphql"]["remaining"] == 5000
        assert [r.rate_cost for r in double.requests] == [1, 1, 1, 0, 0]
        assert double.count(status=200) == 4
        assert double.count(status=403) == 1


# --- faults -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "status", "content_type"),
    [
        ("500", 500, "application/json"),
        ("502_html", 502, "text/html"),
        ("403_primary", 403, "application/json"),
        ("429_secondary", 429, "application/json"),
        ("malformed_json", 200, "application/json"),
    ],
)
def test_fault_answers(double: GitHubDouble, kind: Any, status: int, content_type: str) -> None:
    double.inject(kind)
    got, headers, body = raw(double, f"/repos/{REPO}/pulls")
    assert got == status
    assert headers["content-type"].startswith(content_type)
    assert double.requests[-1].status == status
    if kind == "500":
        assert json.loads(body) == {"message": "Server Error"}
    elif kind == "502_html":
        assert body.lstrip().startswith(b"<")
    elif kind == "403_primary":
        assert json.loads(body)["message"] == "API rate limit exceeded for user ID 1."
        assert headers["x-ratelimit-remaining"] == "0"
        assert 0 < int(headers["x-ratelimit-reset"]) - time.time() <= 2
    elif kind == "429_secondary":
        assert headers["retry-after"] == "1"
        assert "secondary rate limit" in json.loads(body)["message"]
    else:
        assert body[:1] in (b"[", b"{")
        with pytest.raises(json.JSONDecodeError):
            json.loads(body)
    assert raw(double, f"/repos/{REPO}/pulls")[0] == 200  # consumed


def test_faults_are_fifo_and_matched_on_the_target(double: GitHubDouble) -> None:
    double.inject("500", path_contains="page=2")
    double.inject("502_html")
    double.inject("429_secondary", times=2)
    assert double.pending_faults == 4
    statuses = [raw(double, f"/repos/{REPO}/pulls?page={page}")[0] for page in (1, 2, 1, 1, 1)]
    assert statuses == [502, 500, 429, 429, 200]
    assert double.pending_faults == 0
    with pytest.raises(ValueError, match="unknown fault"):
        double.inject("teapot")  # type: ignore[arg-type]


def test_drop_closes_without_answer(double: GitHubDouble) -> None:
    double.inject("drop")
    with pytest.raises(ConnectionError):
        raw(double, f"/repos/{REPO}")
    assert double.requests[-1].status == 0
    assert double.requests[-1].rate_cost == 0
    assert raw(double, f"/repos/{REPO}")[0] == 200


def test_drop_after(double: GitHubDouble) -> None:
    raw(double, f"/repos/{REPO}")
    double.drop_after = 2
    assert raw(double, f"/repos/{REPO}")[0] == 200
    assert raw(double, f"/repos/{REPO}")[0] == 200
    for _ in range(2):
        with pytest.raises(ConnectionError):
            raw(double, f"/repos/{REPO}")
    double.drop_after = None
    assert raw(double, f"/repos/{REPO}")[0] == 200
    assert [r.status for r in double.requests] == [200, 200, 200, 0, 0, 200]


def test_timeout_fault(double: GitHubDouble) -> None:
    double.timeout_seconds = 0.6
    double.inject("timeout")
    with pytest.raises((TimeoutError, socket.timeout)):
        raw(double, f"/repos/{REPO}", timeout=0.1)
    wait_for_requests(double, 1)
    assert double.requests[0].status == 0
    assert double.requests[0].rate_cost == 0

    double.timeout_seconds = 0.1
    double.inject("timeout")
    started = time.monotonic()
    assert raw(double, f"/repos/{REPO}")[0] == 200
    assert time.monotonic() - started >= 0.1
    assert double.requests[-1].rate_cost == 1


def test_pygithub_retries_server_errors(double: GitHubDouble, gh: Github) -> None:
    double.inject("500")
    double.inject("502_html")
    assert gh.get_repo(REPO).full_name == REPO
    assert [r.status for r in double.requests] == [500, 502, 200]
    assert double.rate_remaining == 4999


# --- GraphQL ----------------------------------------------------------------------------------


def test_graphql_pull_request_details(double: GitHubDouble, gh: Github) -> None:
    numbers: list[int] = []
    nodes: dict[int, JSON] = {}
    after = None
    remaining: list[int] = []
    while True:
        headers, body = gh.requester.graphql_query(
            PULL_REQUEST_DETAILS, {"owner": "acme", "name": "widgets", "first": 100, "after": after}
        )
        assert headers["x-ratelimit-resource"] == "graphql"
        remaining.append(body["data"]["rateLimit"]["remaining"])
        page = body["data"]["repository"]["pullRequests"]
        for node in page["nodes"]:
            numbers.append(node["number"])
            nodes[node["number"]] = node
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert numbers == expected_numbers(double.recording, "updated_at", descending=True)
    assert remaining == [4999, 4998, 4997]
    assert double.graphql_rate_remaining == 4997
    assert double.rate_remaining == 5000

    first = nodes[1]
    assert first["updatedAt"] == double.recording.pull_requests[REPO][0]["updated_at"]
    reviews = first["reviews"]
    assert reviews["totalCount"] == 4
    assert reviews["pageInfo"]["hasNextPage"] is False
    assert [r["databaseId"] for r in reviews["nodes"]] == [10, 20, 25, 30]
    assert [r["author"] for r in reviews["nodes"]] == [
        {"login": "alice", "__typename": "User"},
        None,
        {"login": "ci", "__typename": "Bot"},
        {"login": "renovate[bot]", "__typename": "Bot"},
    ]
    assert reviews["nodes"][0] == {
        "databaseId": 10,
        "author": {"login": "alice", "__typename": "User"},
        "state": "APPROVED",
        "body": "lgtm",
        "submittedAt": _iso(1),
        "authorAssociation": "MEMBER",
        "commit": {"oid": "c1"},
    }
    assert reviews["nodes"][1]["commit"] is None
    assert [f["changeType"] for f in first["files"]["nodes"]] == [
        "ADDED",
        "DELETED",
        "MODIFIED",
        "RENAMED",
        "COPIED",
        "CHANGED",
        "CHANGED",
    ]
    assert first["files"]["nodes"][0] == {
        "path": "f/added.py",
        "additions": 3,
        "deletions": 1,
        "changeType": "ADDED",
    }
    many = nodes[2]["reviews"]
    assert many["totalCount"] == 120
    assert len(many["nodes"]) == 100
    assert many["pageInfo"]["hasNextPage"]
    assert nodes[7]["files"] == {
        "totalCount": 0,
        "pageInfo": {"hasNextPage": False, "endCursor": None},
        "nodes": [],
    }


def test_graphql_errors(double: GitHubDouble, gh: Github) -> None:
    with pytest.raises(UnknownObjectException):
        gh.requester.graphql_query(PULL_REQUEST_DETAILS, {"owner": "acme", "name": "nope", "first": 5})

    viewer = {"query": "query Viewer { viewer { login } }"}
    status, _, body = raw(double, "/graphql", method="POST", body=viewer)
    assert status == 200
    assert json.loads(body) == {"errors": [{"message": "unsupported query"}]}

    bad_cursor = {"owner": "acme", "name": "widgets", "first": 5, "after": "bm9wZQ=="}
    status, _, body = raw(
        double, "/graphql", method="POST", body={"query": PULL_REQUEST_DETAILS, "variables": bad_cursor}
    )
    assert status == 200
    assert "errors" in json.loads(body)

    double.graphql_rate_remaining = 0
    variables = {"owner": "acme", "name": "widgets", "first": 5}
    status, headers, body = raw(
        double, "/graphql", method="POST", body={"query": PULL_REQUEST_DETAILS, "variables": variables}
    )
    assert status == 200
    assert json.loads(body)["errors"][0]["type"] == "RATE_LIMITED"
    assert headers["x-ratelimit-resource"] == "graphql"
    assert headers["x-ratelimit-remaining"] == "0"
    with pytest.raises(GithubException):
        gh.requester.graphql_query(PULL_REQUEST_DETAILS, variables)

    double.inject("500", path_contains="/graphql")
    status, _, _ = raw(double, "/graphql", method="POST", body={"query": PULL_REQUEST_DETAILS})
    assert status == 500


# --- auth, prefix, secrecy --------------------------------------------------------------------


def test_auth_is_required(double: GitHubDouble) -> None:
    status, _, body = raw(double, f"/repos/{REPO}", token=None)
    assert status == 401
    assert json.loads(body)["message"] == "Bad credentials"
    assert double.requests[-1].authorization_seen is False
    assert double.requests[-1].rate_cost == 0
    bearer = raw(double, f"/repos/{REPO}", token=None, headers={"Authorization": f"Bearer {TOKEN}"})
    assert bearer[0] == 200

    wrong = _github(double.url, token="ghp_wrong")
    with pytest.raises(BadCredentialsException):
        wrong.get_repo(REPO)
    wrong.close()
    assert double.requests[-1].authorization_seen is True
    assert double.requests[-1].status == 401


def test_enterprise_prefix(double: GitHubDouble) -> None:
    client = _github(f"{double.url}/api/v3")
    try:
        numbers = [p.number for p in client.get_repo(REPO).get_pulls(state="all", direction="asc")]
        assert numbers == list(range(1, PULL_COUNT + 1))
        _, body = client.requester.graphql_query(
            PULL_REQUEST_DETAILS, {"owner": "acme", "name": "widgets", "first": 1, "after": None}
        )
        assert len(body["data"]["repository"]["pullRequests"]["nodes"]) == 1
    finally:
        client.close()
    assert all(r.path.startswith(("/api/v3/", "/api/graphql")) for r in double.requests)
    assert double.count(path_contains="/api/graphql", status=200) == 1


def test_token_never_echoed(double: GitHubDouble, gh: Github) -> None:
    seen: list[str] = []
    double.inject("500")
    double.inject("403_primary")
    for path in (f"/repos/{REPO}", f"/repos/{REPO}", f"/repos/{REPO}/pulls", "/rate_limit", "/nope"):
        status, headers, body = raw(double, path)
        seen.append(f"{status} {headers} {body!r}")
    seen.append(repr(raw(double, f"/repos/{REPO}", token="guess")))
    seen.append(
        repr(
            gh.requester.graphql_query(PULL_REQUEST_DETAILS, {"owner": "acme", "name": "widgets", "first": 2})
        )
    )
    seen.extend(repr(record) for record in double.requests)
    seen.append(repr(double))
    assert all(isinstance(r, RequestRecord) for r in double.requests)
    assert not any(TOKEN in text for text in seen)


# --- mutations --------------------------------------------------------------------------------


def test_mutations_invalidate_cached_orderings(double: GitHubDouble, gh: Github) -> None:
    get = gh.requester.requestJsonAndCheck
    params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": 5}
    assert get("GET", f"/repos/{REPO}/pulls", params)[1][0]["number"] == 20

    double.touch_pull_request(REPO, 3, updated_at="2030-01-01T00:00:00+02:00")
    assert get("GET", f"/repos/{REPO}/pulls", params)[1][0]["number"] == 3
    twin = next(i for i in double.recording.issues[REPO] if i["number"] == 3)
    assert twin["updated_at"] == "2030-01-01T00:00:00+02:00"
    _, body = gh.requester.graphql_query(
        PULL_REQUEST_DETAILS, {"owner": "acme", "name": "widgets", "first": 1}
    )
    assert body["data"]["repository"]["pullRequests"]["nodes"][0]["number"] == 3
    with pytest.raises(KeyError):
        double.touch_pull_request(REPO, 999, updated_at="2030-01-01T00:00:00Z")

    double.add_workflow_run(REPO, {"id": 77, "run_attempt": 1, "created_at": "2030-01-01T00:00:00Z"})
    runs = get("GET", f"/repos/{REPO}/actions/runs")[1]
    assert runs["total_count"] == 7
    assert runs["workflow_runs"][0]["id"] == 77

    double.add_workflow_run(REPO, {"id": 77, "run_attempt": 2, "created_at": "2030-01-01T00:00:00Z"})
    assert get("GET", f"/repos/{REPO}/actions/runs")[1]["total_count"] == 7
    assert get("GET", f"/repos/{REPO}/actions/runs/77")[1]["run_attempt"] == 2
    assert get("GET", f"/repos/{REPO}/actions/runs/77/attempts/1")[1]["run_attempt"] == 1
