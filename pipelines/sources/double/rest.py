"""The REST endpoints of the GitHub double: routing, filtering, ordering and pagination.

Everything here is pure with respect to HTTP: a :class:`RestRequest` goes in, a :class:`Reply`
comes out. Authentication, rate limits, ETags and faults are the server's business.
"""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from pipelines.sources.double.views import (
    RecordingView,
    is_date_only,
    parse_timestamp,
    timestamp_key,
)
from pipelines.sources.recording import JSON

DOCS_URL = "https://docs.github.com/rest"
DEFAULT_PER_PAGE = 30
MAX_PER_PAGE = 100
_DAY = 86400.0


@dataclass(frozen=True)
class RestRequest:
    """One REST GET, as the endpoints see it.

    Attributes:
        route: the path with any ``/api/v3`` prefix and trailing slash removed.
        query: query parameters (the last value of a repeated name wins).
        raw_query: the query string as sent, to carry other parameters into ``Link`` URLs.
        origin: ``http://host:port`` as the client addressed the server.
        prefix: ``""`` or ``"/api/v3"``, whichever the client used.
    """

    route: str
    query: dict[str, str]
    raw_query: str
    origin: str
    prefix: str

    @property
    def api_base(self) -> str:
        """Absolute URL of the API root the client is using."""
        return f"{self.origin}{self.prefix}"


@dataclass(frozen=True)
class Reply:
    """What an endpoint answers: a status, a JSON payload, a ``Link`` header, a redirect's target.

    ``location`` is a path on the double; the server signs it and makes it absolute.
    """

    status: int
    payload: Any
    link: str | None = None
    location: str | None = None


class RestError(Exception):
    """An error answer (404, 422) raised from inside an endpoint."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_payload(message: str) -> JSON:
    """The body GitHub sends with an error status."""
    return {"message": message, "documentation_url": DOCS_URL}


def not_found() -> RestError:
    """GitHub's answer to an unknown route, repository or object."""
    return RestError(404, "Not Found")


def validation_failed(parameter: str) -> RestError:
    """GitHub's answer to an invalid query parameter value."""
    return RestError(422, f"Validation Failed: invalid value for '{parameter}'")


Handler = Callable[[RestRequest, RecordingView, str, "re.Match[str]"], Reply]
_ROUTES: list[tuple[re.Pattern[str], Handler]] = []
REPO_PREFIX = re.compile(r"^/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)(?P<rest>/.*)?$")


def _route(pattern: str) -> Callable[[Handler], Handler]:
    def register(handler: Handler) -> Handler:
        _ROUTES.append((re.compile(f"^{pattern}$"), handler))
        return handler

    return register


def dispatch(request: RestRequest, view: RecordingView) -> Reply:
    """Answer a REST GET from the recording.

    Args:
        request: the parsed request.
        view: cached views of the recording.

    Returns:
        The reply; unknown routes, repositories and objects give 404, bad parameters 422.
    """
    try:
        return _dispatch(request, view)
    except RestError as error:
        return Reply(error.status, error_payload(error.message))


def _dispatch(request: RestRequest, view: RecordingView) -> Reply:
    matched = REPO_PREFIX.match(request.route)
    if matched is None:
        raise not_found()
    repo = view.resolve_repo(unquote(matched["owner"]), unquote(matched["name"]))
    if repo is None:
        raise not_found()
    rest = matched["rest"] or ""
    for pattern, handler in _ROUTES:
        hit = pattern.match(rest)
        if hit is not None:
            return handler(request, view, repo, hit)
    raise not_found()


# --- parameters -------------------------------------------------------------------------------


def _choice(request: RestRequest, name: str, allowed: tuple[str, ...], default: str) -> str:
    value = request.query.get(name)
    if value is None or value == "":
        return default
    if value not in allowed:
        raise validation_failed(name)
    return value


def _int_param(request: RestRequest, name: str, default: int) -> int:
    value = request.query.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        return default


def _since(request: RestRequest) -> float | None:
    value = request.query.get("since")
    if value is None or value == "":
        return None
    parsed = parse_timestamp(value)
    if parsed is None:
        raise validation_failed("since")
    return parsed


def _number(text: str) -> int:
    return int(text)


# --- pagination -------------------------------------------------------------------------------


def _page_url(request: RestRequest, page: int) -> str:
    params = [(k, v) for k, v in parse_qsl(request.raw_query, keep_blank_values=True) if k != "page"]
    params.append(("page", str(page)))
    path = quote(f"{request.prefix}{request.route}", safe="/")
    return f"{request.origin}{path}?{urlencode(params)}"


def _link_header(request: RestRequest, page: int, last: int) -> str | None:
    links: list[tuple[int, str]] = []
    if page > 1:
        links.append((page - 1, "prev"))
    if page < last:
        links.append((page + 1, "next"))
        links.append((last, "last"))
    if page > 1:
        links.append((1, "first"))
    if not links:
        return None
    return ", ".join(f'<{_page_url(request, number)}>; rel="{rel}"' for number, rel in links)


def paginate(request: RestRequest, items: list[JSON], *, wrap: str | None = None) -> Reply:
    """One page of ``items`` with GitHub's ``Link`` header.

    Args:
        request: supplies ``per_page`` (default 30, at most 100) and ``page`` (default 1).
        items: the whole, already filtered and ordered, list.
        wrap: when set, the body is ``{"total_count": len(items), wrap: page}`` as the Actions
            and Checks endpoints answer; otherwise the page itself.
    """
    per_page = _int_param(request, "per_page", DEFAULT_PER_PAGE)
    if per_page < 1:
        per_page = DEFAULT_PER_PAGE
    per_page = min(per_page, MAX_PER_PAGE)
    page = max(1, _int_param(request, "page", 1))
    last = max(1, math.ceil(len(items) / per_page))
    start = (page - 1) * per_page
    chunk = items[start : start + per_page]
    payload: Any = chunk if wrap is None else {"total_count": len(items), wrap: chunk}
    return Reply(200, payload, _link_header(request, page, last))


# --- ordering helpers -------------------------------------------------------------------------


def _ordered(
    view: RecordingView,
    source: str,
    repo: str,
    *,
    field: str | None,
    descending: bool,
    since: float | None = None,
    state: str | None = None,
) -> list[JSON]:
    base = view.sorted_list(source, repo, field, descending=descending)
    if since is None and state in (None, "all"):
        return base

    def build() -> list[JSON]:
        return [
            item
            for item in base
            if (state in (None, "all") or item.get("state") == state)
            and (since is None or timestamp_key(item.get("updated_at")) >= since)
        ]

    return view.cached(("filtered", source, repo, field, descending, since, state), build)


def _comment_order(request: RestRequest, *, default_sort: str | None) -> tuple[str | None, bool]:
    """Sort field and direction of the comment lists, where ``direction`` needs ``sort``."""
    sort = request.query.get("sort") or default_sort
    if sort is None:
        return None, False
    if sort not in ("created", "updated"):
        raise validation_failed("sort")
    if "sort" not in request.query:
        return f"{sort}_at", False
    return f"{sort}_at", _choice(request, "direction", ("asc", "desc"), "asc") == "desc"


# --- endpoints --------------------------------------------------------------------------------


@_route("")
def _repository(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    owner, name = repo.split("/", 1)
    return Reply(
        200,
        {
            "id": zlib.crc32(repo.encode()) & 0x7FFFFFFF,
            "name": name,
            "full_name": repo,
            "owner": {"login": owner},
            "default_branch": "main",
            "private": False,
            "url": f"{request.api_base}/repos/{repo}",
        },
    )


@_route("/pulls")
def _pulls(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    state = _choice(request, "state", ("open", "closed", "all"), "open")
    sort = _choice(request, "sort", ("created", "updated"), "created")
    # GitHub: "Default: desc when sort is created or sort is not specified, otherwise asc."
    direction = _choice(request, "direction", ("asc", "desc"), "desc" if sort == "created" else "asc")
    items = _ordered(
        view, "pull_requests", repo, field=f"{sort}_at", descending=direction == "desc", state=state
    )
    return paginate(request, items)


@_route(r"/pulls/comments")
def _review_comments(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    field, descending = _comment_order(request, default_sort=None)
    items = _ordered(view, "review_comments", repo, field=field, descending=descending, since=_since(request))
    return paginate(request, items)


@_route(r"/pulls/(?P<number>\d+)")
def _pull(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    pull = view.pull(repo, _number(hit["number"]))
    if pull is None:
        raise not_found()
    return Reply(200, pull)


def _require_pull(view: RecordingView, repo: str, number: int, mapping: dict[Any, list[JSON]]) -> None:
    if view.pull(repo, number) is None and (repo, number) not in mapping:
        raise not_found()


@_route(r"/pulls/(?P<number>\d+)/reviews")
def _reviews(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    number = _number(hit["number"])
    reviews = view.recording.reviews
    _require_pull(view, repo, number, reviews)
    return paginate(request, view.reviews(repo, number))


@_route(r"/pulls/(?P<number>\d+)/files")
def _files(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    number = _number(hit["number"])
    files = view.recording.pr_files
    _require_pull(view, repo, number, files)
    return paginate(request, files.get((repo, number), []))


@_route("/issues")
def _issues(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    state = _choice(request, "state", ("open", "closed", "all"), "open")
    sort = _choice(request, "sort", ("created", "updated", "comments"), "created")
    direction = _choice(request, "direction", ("asc", "desc"), "desc")
    field = "comments" if sort == "comments" else f"{sort}_at"
    items = _ordered(
        view,
        "issues",
        repo,
        field=field,
        descending=direction == "desc",
        since=_since(request),
        state=state,
    )
    wanted = [name.strip().lower() for name in (request.query.get("labels") or "").split(",") if name.strip()]
    creator = (request.query.get("creator") or "").lower()
    if wanted or creator:
        # GitHub: "labels: a list of comma separated label names"; an issue must carry every one.
        items = [
            item
            for item in items
            if all(
                name in {str(lab.get("name", "")).lower() for lab in item.get("labels") or []}
                for name in wanted
            )
            and (not creator or str((item.get("user") or {}).get("login", "")).lower() == creator)
        ]
    return paginate(request, items)


@_route("/issues/comments")
def _issue_comments(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    field, descending = _comment_order(request, default_sort="created")
    items = _ordered(view, "issue_comments", repo, field=field, descending=descending, since=_since(request))
    return paginate(request, items)


@_route("/issues/events")
def _issue_events(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    return paginate(request, view.sorted_list("issue_events", repo, "created_at", descending=True))


# --- Actions ----------------------------------------------------------------------------------


def _bound(text: str) -> tuple[float, float, bool]:
    """``(start, end, end_inclusive)`` of a date (a whole day) or an instant."""
    text = text.strip()
    parsed = parse_timestamp(text)
    if parsed is None:
        raise validation_failed("created")
    if is_date_only(text):
        return parsed, parsed + _DAY, False
    return parsed, parsed, True


def _split_operator(expression: str) -> tuple[str, str]:
    for operator in (">=", "<=", ">", "<"):
        if expression.startswith(operator):
            return operator, expression[len(operator) :]
    return "", expression


def _created_filter(expression: str) -> Callable[[float], bool]:
    """A predicate for GitHub's ``created`` qualifier: ``>=X``, ``>X``, ``<=X``, ``<X``, ``A..B``, ``X``.

    A bare date stands for the whole day, so ``>2024-01-01`` starts on the 2nd.
    """
    operator, operand = _split_operator(expression)
    if not operator and ".." in operand:
        low, high = (part.strip() for part in operand.split("..", 1))
        lower = _created_filter(f">={low}") if low not in ("", "*") else None
        upper = _created_filter(f"<={high}") if high not in ("", "*") else None
        return lambda ts: (lower is None or lower(ts)) and (upper is None or upper(ts))
    start, end, inclusive = _bound(operand)
    if operator == ">=":
        return lambda ts: ts >= start
    if operator == "<":
        return lambda ts: ts < start
    if operator == ">":
        return lambda ts: ts > end if inclusive else ts >= end
    if operator == "<=":
        return lambda ts: ts <= end if inclusive else ts < end
    return lambda ts: start <= ts <= end if inclusive else start <= ts < end


def _run_matches(run: JSON, filters: dict[str, str]) -> bool:
    for name, wanted in filters.items():
        if name == "actor":
            actor = run.get("actor")
            if not isinstance(actor, dict) or actor.get("login") != wanted:
                return False
        elif name == "status":
            if wanted not in (run.get("status"), run.get("conclusion")):
                return False
        elif str(run.get(name)) != wanted:
            return False
    return True


_RUN_FILTERS = {"actor": "actor", "branch": "head_branch", "event": "event", "status": "status"}


@_route("/actions/runs")
def _runs(request: RestRequest, view: RecordingView, repo: str, _: re.Match[str]) -> Reply:
    newest_first = view.sorted_list("workflow_runs", repo, "created_at", descending=True)
    filters = {
        field: request.query[param] for param, field in _RUN_FILTERS.items() if request.query.get(param)
    }
    for param in ("head_sha", "check_suite_id"):
        if request.query.get(param):
            filters[param] = request.query[param]
    created = request.query.get("created") or None
    if not filters and created is None:
        return paginate(request, newest_first, wrap="workflow_runs")
    predicate = _created_filter(created) if created is not None else None

    def build() -> list[JSON]:
        return [
            run
            for run in newest_first
            if _run_matches(run, filters)
            and (predicate is None or predicate(timestamp_key(run.get("created_at"))))
        ]

    key = ("runs", repo, created, tuple(sorted(filters.items())))
    return paginate(request, view.cached(key, build), wrap="workflow_runs")


def _latest_run(view: RecordingView, repo: str, run_id: str) -> tuple[JSON, int]:
    run = view.run(repo, int(run_id))
    if run is None:
        raise not_found()
    attempt = run.get("run_attempt")
    return run, attempt if isinstance(attempt, int) and attempt >= 1 else 1


@_route(r"/actions/runs/(?P<run>\d+)")
def _run(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    run, _ = _latest_run(view, repo, hit["run"])
    return Reply(200, run)


@_route(r"/actions/runs/(?P<run>\d+)/attempts/(?P<attempt>\d+)")
def _run_attempt(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    run, latest = _latest_run(view, repo, hit["run"])
    attempt = int(hit["attempt"])
    if attempt == latest:
        return Reply(200, run)
    earlier = view.recording.run_attempts.get((repo, int(hit["run"]), attempt))
    if attempt > latest or earlier is None:
        raise not_found()
    return Reply(200, earlier)


LOG_BLOB_PREFIX = "/_blobs/logs"


def _logs_redirect(view: RecordingView, repo: str, run_id: int, attempt: int) -> Reply:
    """GitHub answers a log download with a 302 to a short-lived signed URL, or 404 when there are none."""
    if (repo, run_id, attempt) not in view.recording.logs:
        raise not_found()
    return Reply(302, None, location=f"{LOG_BLOB_PREFIX}/{quote(repo, safe='')}/{run_id}/{attempt}")


@_route(r"/actions/runs/(?P<run>\d+)/logs")
def _run_logs(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    _, latest = _latest_run(view, repo, hit["run"])
    return _logs_redirect(view, repo, int(hit["run"]), latest)


@_route(r"/actions/runs/(?P<run>\d+)/attempts/(?P<attempt>\d+)/logs")
def _attempt_logs(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    _, latest = _latest_run(view, repo, hit["run"])
    attempt = int(hit["attempt"])
    if attempt > latest:
        raise not_found()
    return _logs_redirect(view, repo, int(hit["run"]), attempt)


@_route(r"/actions/runs/(?P<run>\d+)/attempts/(?P<attempt>\d+)/jobs")
def _attempt_jobs(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    _, latest = _latest_run(view, repo, hit["run"])
    attempt = int(hit["attempt"])
    if not 1 <= attempt <= latest:
        raise not_found()
    jobs = view.recording.jobs.get((repo, int(hit["run"]), attempt), [])
    return paginate(request, jobs, wrap="jobs")


@_route(r"/actions/runs/(?P<run>\d+)/jobs")
def _run_jobs(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    _, latest = _latest_run(view, repo, hit["run"])
    run_id = int(hit["run"])
    which = _choice(request, "filter", ("latest", "all"), "latest")
    jobs_by_attempt = view.recording.jobs
    if which == "latest":
        return paginate(request, jobs_by_attempt.get((repo, run_id, latest), []), wrap="jobs")

    def build() -> list[JSON]:
        every: list[JSON] = []
        for attempt in range(1, latest + 1):
            every.extend(jobs_by_attempt.get((repo, run_id, attempt), []))
        return every

    return paginate(request, view.cached(("all-jobs", repo, run_id), build), wrap="jobs")


# --- commits ----------------------------------------------------------------------------------


@_route(r"/commits/(?P<sha>[^/]+)/check-runs")
def _check_runs(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    runs = view.recording.check_runs.get((repo, unquote(hit["sha"])), [])
    return paginate(request, runs, wrap="check_runs")


def combined_state(statuses: list[JSON]) -> str:
    """GitHub's combined commit state: failure beats pending beats success; none is pending."""
    states = {status.get("state") for status in statuses}
    if states & {"failure", "error"}:
        return "failure"
    if not statuses or "pending" in states:
        return "pending"
    return "success"


@_route(r"/commits/(?P<sha>[^/]+)/status")
def _combined_status(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    sha = unquote(hit["sha"])
    # the newest status of each context (statuses are kept newest first), without its creator,
    # as GitHub's combined status gives them
    newest: dict[str, JSON] = {}
    for status in view.recording.commit_statuses.get((repo, sha), []):
        newest.setdefault(str(status.get("context")), {k: v for k, v in status.items() if k != "creator"})
    statuses = list(newest.values())
    page = paginate(request, statuses, wrap="statuses")
    body = {
        "state": combined_state(statuses),
        "sha": sha,
        "total_count": len(statuses),
        "statuses": page.payload["statuses"],
        "repository": {"full_name": repo},
        "commit_url": f"{request.api_base}/repos/{repo}/commits/{sha}",
        "url": f"{request.api_base}/repos/{repo}/commits/{sha}/status",
    }
    return Reply(200, body, page.link)


@_route(r"/statuses/(?P<sha>[^/]+)")  # the older path of the same listing, which PyGithub calls
@_route(r"/commits/(?P<sha>[^/]+)/statuses")
def _statuses(request: RestRequest, view: RecordingView, repo: str, hit: re.Match[str]) -> Reply:
    return paginate(request, view.recording.commit_statuses.get((repo, unquote(hit["sha"])), []))
