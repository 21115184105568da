"""A GitHub REST and GraphQL API double: a real HTTP server on loopback serving a recording.

:class:`GitHubDouble` runs a stdlib ``ThreadingHTTPServer`` in a background thread. Clients
(PyGithub, ``urllib``) talk HTTP to it exactly as to ``api.github.com``: token authentication,
GitHub App authentication (:meth:`GitHubDouble.install_app`: JWTs, expiring installation tokens),
primary rate limits with their headers, ETags and 304s, ``Link`` pagination, and injectable
faults (server errors, HTML gateway pages, rate limiting, truncated bodies, hung and dropped
connections).
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import hmac
import json
import re
import secrets
import select
import socket
import threading
import time
import traceback
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, cast, get_args
from urllib.parse import parse_qsl, unquote

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from pipelines.sources.double import graphql, rest
from pipelines.sources.double.apps import GitHubApp
from pipelines.sources.double.views import RecordingView, item_id
from pipelines.sources.double.writes import LIST_BODY, WriteState
from pipelines.sources.recording import JSON, Recording

FaultKind = Literal[
    "500", "502_html", "timeout", "403_primary", "403_forbidden", "429_secondary", "malformed_json", "drop"
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))

PRIMARY_RATE_LIMIT_MESSAGE = "API rate limit exceeded for user ID 1."
FORBIDDEN_MESSAGE = "Resource not accessible by personal access token"
"""GitHub's answer to a token without the permission an endpoint needs (``403_forbidden``): a
fine-grained personal access token asking for check runs, for one, since GitHub offers such tokens no
Checks permission."""
SECONDARY_RATE_LIMIT_MESSAGE = (
    "You have exceeded a secondary rate limit. Please wait a few minutes before you try again."
)
RATE_LIMIT_DOCS = "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"
MALFORMED_BODY = b'[{"id": 1, "url": '
BAD_GATEWAY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>502 Bad Gateway</h1><p>unicorn timed out</p></body></html>"
)
GRAPHQL_PATHS = ("/graphql", "/api/graphql")
REST_PREFIX = "/api/v3"
_JSON_TYPE = "application/json; charset=utf-8"
_APP_ROUTES = re.compile(
    r"^/app/installations(?:/(?P<id>\d+)(?P<tokens>/access_tokens)?)?$|^/orgs/(?P<org>[^/]+)/installation$"
)


@dataclass(frozen=True)
class RequestRecord:
    """One request the double received.

    Attributes:
        method: the HTTP method.
        path: the path as sent (any ``/api/v3`` prefix kept), without the query string.
        query: query parameters; the last value of a repeated name wins.
        status: the status answered; 0 when the connection was closed without an answer.
        if_none_match: the ``If-None-Match`` header, if sent.
        authorization_seen: whether an ``Authorization`` header was sent (never its value).
        rate_cost: points taken from the REST or GraphQL budget (0 or 1).
    """

    method: str
    path: str
    query: dict[str, str]
    status: int
    if_none_match: str | None
    authorization_seen: bool
    rate_cost: int


@dataclass
class _Fault:
    kind: FaultKind
    remaining: int
    path_contains: str | None


class _Budget:
    """A primary rate-limit budget that refills when its reset time passes, like GitHub's."""

    def __init__(self, resource: str, limit: int, reset_in_seconds: int) -> None:
        self.resource = resource
        self.limit = limit
        self.remaining = limit
        self.reset_in_seconds = reset_in_seconds
        self.reset_at = int(time.time()) + reset_in_seconds

    def refresh(self) -> None:
        now = time.time()
        if now >= self.reset_at:
            self.remaining = self.limit
            self.reset_at = int(now) + self.reset_in_seconds

    def charge(self) -> bool:
        self.refresh()
        if self.remaining <= 0:
            return False
        self.remaining -= 1
        return True

    def snapshot(self) -> JSON:
        return {
            "limit": self.limit,
            "remaining": self.remaining,
            "reset": self.reset_at,
            "used": max(0, self.limit - self.remaining),
            "resource": self.resource,
        }

    def headers(self) -> list[tuple[str, str]]:
        return [
            ("X-RateLimit-Limit", str(self.limit)),
            ("X-RateLimit-Remaining", str(self.remaining)),
            ("X-RateLimit-Reset", str(self.reset_at)),
            ("X-RateLimit-Used", str(max(0, self.limit - self.remaining))),
            ("X-RateLimit-Resource", self.resource),
        ]


def _dump(payload: Any) -> bytes:
    return json.dumps(payload, separators=(",", ":")).encode("utf-8")


def _etag_matches(if_none_match: str, etag: str) -> bool:
    opaque = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        candidate = candidate.strip()
        if candidate == "*" or candidate.removeprefix("W/") == opaque:
            return True
    return False


class GitHubDouble:
    """A loopback HTTP server that answers like the GitHub API from a :class:`Recording`.

    Example:
        >>> with GitHubDouble(recording, token="t") as double:  # doctest: +SKIP
        ...     gh = Github(base_url=double.url, auth=Auth.Token("t"))

    Attributes:
        url: ``http://127.0.0.1:PORT`` once started (empty before).
        recording: the recording served; mutate it through :meth:`touch_pull_request` and
            :meth:`add_workflow_run`, or call :meth:`invalidate` after changing it directly.
        requests: every request received, in order of arrival.
        timeout_seconds: how long a ``"timeout"`` fault stalls before answering.
        oauth_scopes: the scopes of a classic token, sent as ``X-OAuth-Scopes`` on every answer to
            an authenticated request (``""`` for a classic token without scopes); None sends no
            header, as GitHub does for a ``GITHUB_TOKEN``, a fine-grained or an app token.
        errors: tracebacks of unexpected exceptions inside the server (normally empty).
        app: the GitHub App installed by :meth:`install_app`, if any.
    """

    def __init__(
        self,
        recording: Recording,
        *,
        token: str | None = None,
        rate_limit: int = 5000,
        graphql_rate_limit: int = 5000,
        reset_in_seconds: int = 3600,
        oauth_scopes: str | None = None,
    ) -> None:
        self.recording = recording
        self.oauth_scopes = oauth_scopes
        self.url = ""
        self.requests: list[RequestRecord] = []
        self.timeout_seconds = 3.0
        self.retry_after_seconds = 1
        self.errors: list[str] = []
        self._token = token
        self.app: GitHubApp | None = None
        self._blob_key = secrets.token_bytes(16)
        self._view = RecordingView(recording)
        self.writes = WriteState(self._view)
        self._lock = threading.Lock()
        self._core = _Budget("core", rate_limit, reset_in_seconds)
        self._graphql = _Budget("graphql", graphql_rate_limit, reset_in_seconds)
        self._faults: list[_Fault] = []
        self._seqs: list[int] = []
        self._arrivals = 0
        self._drop_after: int | None = None
        self._drop_base = 0
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()

    def __repr__(self) -> str:
        return f"GitHubDouble(url={self.url!r}, repos={len(self.recording.repos)})"

    # --- lifecycle ------------------------------------------------------------------------------

    def start(self) -> str:
        """Start serving on ``127.0.0.1`` on a free port.

        Returns:
            The base URL, ``http://127.0.0.1:PORT``.
        """
        if self._server is not None:
            return self.url
        self._stopping.clear()
        server = _Server(("127.0.0.1", 0), self)
        self._server = server
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, name="github-double", daemon=True
        )
        self._thread.start()
        return self.url

    def stop(self) -> None:
        """Stop serving and close every open connection; safe to call twice."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> GitHubDouble:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def install_app(
        self,
        app_id: int,
        public_key: RSAPublicKey,
        *,
        installations: dict[int, str] | None = None,
        token_lifetime: int = 3600,
    ) -> GitHubApp:
        """Register a GitHub App, installed on ``installations`` (id → account login).

        Its installation tokens are accepted wherever the static token is, until they expire
        (``token_lifetime`` seconds, GitHub's hour by default; a test can make it short). With no
        ``installations``, it is installed on the owner of the first repository as installation 1.
        """
        if installations is None:
            owner = self.recording.repos[0].split("/")[0] if self.recording.repos else "octo"
            installations = {1: owner}
        self.app = GitHubApp(app_id, public_key, dict(installations), token_lifetime)
        return self.app

    # --- budgets --------------------------------------------------------------------------------

    @property
    def rate_remaining(self) -> int:
        """REST (``core``) budget left."""
        return self._core.remaining

    @rate_remaining.setter
    def rate_remaining(self, value: int) -> None:
        with self._lock:
            self._core.remaining = value

    @property
    def graphql_rate_remaining(self) -> int:
        """GraphQL budget left."""
        return self._graphql.remaining

    @graphql_rate_remaining.setter
    def graphql_rate_remaining(self, value: int) -> None:
        with self._lock:
            self._graphql.remaining = value

    # --- request log ----------------------------------------------------------------------------

    def count(
        self, *, status: int | None = None, path_contains: str | None = None, method: str | None = None
    ) -> int:
        """Count logged requests matching every given criterion.

        Args:
            status: the answered status (0 for connections closed without an answer).
            path_contains: a substring of the path (the query string is not searched).
            method: the HTTP method.
        """
        return sum(
            1
            for record in list(self.requests)
            if (status is None or record.status == status)
            and (path_contains is None or path_contains in record.path)
            and (method is None or record.method == method)
        )

    def reset_log(self) -> None:
        """Forget the requests logged so far."""
        with self._lock:
            self.requests.clear()
            self._seqs.clear()

    # --- faults ---------------------------------------------------------------------------------

    def inject(self, kind: FaultKind, *, times: int = 1, path_contains: str | None = None) -> None:
        """Queue a fault for the next ``times`` matching requests.

        Faults are consumed first in, first out: each request takes the oldest queued fault
        whose ``path_contains`` occurs in its target (path and query string as sent); a fault
        without ``path_contains`` matches any request. Faults are applied before
        authentication and rate limiting and cost no budget, except ``malformed_json`` (a 200
        GitHub would have charged) and ``timeout`` (answered normally after the stall).

        Args:
            kind: which fault, see :data:`FaultKind`.
            times: how many requests it hits.
            path_contains: restrict it to requests whose target contains this string.

        Raises:
            ValueError: for an unknown kind or ``times`` below 1.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            self._faults.append(_Fault(kind, times, path_contains))

    @property
    def pending_faults(self) -> int:
        """How many fault hits are still queued."""
        with self._lock:
            return sum(fault.remaining for fault in self._faults)

    @property
    def drop_after(self) -> int | None:
        """Close without an answer every request after the first N from now; None to stop."""
        return self._drop_after

    @drop_after.setter
    def drop_after(self, value: int | None) -> None:
        with self._lock:
            self._drop_after = value
            self._drop_base = self._arrivals

    # --- mutations ------------------------------------------------------------------------------

    def invalidate(self) -> None:
        """Drop cached orderings after the recording was changed directly."""
        self._view.invalidate()

    def touch_pull_request(self, repo: str, number: int, *, updated_at: str) -> None:
        """Set a pull request's ``updated_at`` (and its issue twin's) as an edit on GitHub would.

        Raises:
            KeyError: when the recording has no such pull request.
        """
        with self._view.lock:
            canonical = self._canonical(repo)
            pull = self._view.pull(canonical, number)
            if pull is None:
                raise KeyError(f"no pull request {repo}#{number} in the recording")
            pull["updated_at"] = updated_at
            for issue in self.recording.issues.get(canonical, []):
                if issue.get("number") == number and "pull_request" in issue:
                    issue["updated_at"] = updated_at
            self._view.invalidate()

    def add_workflow_run(self, repo: str, run: JSON) -> None:
        """Add a workflow run to a repository's runs.

        A run whose id is already present is a re-run: it replaces the latest attempt, which
        moves to ``recording.run_attempts`` when its attempt number differs.
        """
        with self._view.lock:
            canonical = self._canonical(repo)
            runs = self.recording.workflow_runs.setdefault(canonical, [])
            run_id = item_id(run)
            for index, existing in enumerate(runs):
                if item_id(existing) == run_id:
                    old_attempt = existing.get("run_attempt", 1)
                    if old_attempt != run.get("run_attempt", 1):
                        self.recording.run_attempts[(canonical, run_id, int(old_attempt))] = existing
                    runs[index] = run
                    break
            else:
                runs.append(run)
            self._view.invalidate()

    def configure_pull(self, repo: str, number: int, **changes: Any) -> JSON:
        """Set a pull request's state for a test (see :meth:`WriteState.configure_pull`)."""
        return self.writes.configure_pull(self._canonical(repo), number, **changes)

    def _canonical(self, repo: str) -> str:
        owner, _, name = repo.partition("/")
        return self._view.resolve_repo(owner, name) or repo

    # --- used by the request handler ------------------------------------------------------------

    def _arrive(self) -> tuple[int, bool]:
        with self._lock:
            seq = self._arrivals
            self._arrivals += 1
            drop = self._drop_after is not None and seq - self._drop_base >= self._drop_after
            return seq, drop

    def _take_fault(self, target: str) -> FaultKind | None:
        with self._lock:
            for index, fault in enumerate(self._faults):
                if fault.path_contains is None or fault.path_contains in target:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        del self._faults[index]
                    return fault.kind
            return None

    def _record(self, seq: int, record: RequestRecord, *, replace: bool = False) -> None:
        with self._lock:
            position = bisect.bisect_left(self._seqs, seq)
            if replace and position < len(self._seqs) and self._seqs[position] == seq:
                self.requests[position] = record
            elif not replace:
                self._seqs.insert(position, seq)
                self.requests.insert(position, record)

    def _authorized(self, header: str | None) -> bool:
        scheme, _, credential = (header or "").strip().partition(" ")
        credential = credential.strip()
        if self.app is not None and scheme.lower() in ("token", "bearer"):
            valid = self.app.token_valid(credential)
            if valid is not None:
                return valid  # an installation token: accepted until it expires, the static one or not
        if self._token is None:
            return True
        if header is None or scheme.lower() not in ("token", "bearer"):
            return False
        return hmac.compare_digest(credential.encode(), self._token.encode())

    def _budget(self, resource: str) -> _Budget:
        return self._graphql if resource == "graphql" else self._core

    def _sign(self, path: str) -> str:
        return hmac.new(self._blob_key, path.encode(), hashlib.sha256).hexdigest()

    def _rate_headers(self, resource: str) -> list[tuple[str, str]]:
        with self._lock:
            budget = self._budget(resource)
            budget.refresh()
            return budget.headers()

    def _charge(self, resource: str) -> tuple[bool, list[tuple[str, str]]]:
        with self._lock:
            budget = self._budget(resource)
            return budget.charge(), budget.headers()

    def _rate_limit_overview(self) -> JSON:
        with self._lock:
            self._core.refresh()
            self._graphql.refresh()
            core = self._core.snapshot()
            return {"resources": {"core": core, "graphql": self._graphql.snapshot()}, "rate": core}

    def _track(self, connection: socket.socket, *, open_: bool) -> None:
        with self._lock:
            if open_:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], double: GitHubDouble) -> None:
        self.double = double
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # Client disconnects surface here; they are part of the faults being simulated.
        return


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "GitHub.com"
    sys_version = ""
    # Headers and body go out in two writes; without this, Nagle plus delayed ACKs add ~40 ms.
    disable_nagle_algorithm = True
    # (arrival number, method, path, query) of the request not yet logged.
    _pending: tuple[int, str, str, str] | None = None

    @property
    def double(self) -> GitHubDouble:
        return cast(_Server, self.server).double

    def setup(self) -> None:
        super().setup()
        self.double._track(self.connection, open_=True)

    def finish(self) -> None:
        self.double._track(self.connection, open_=False)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        return

    def do_GET(self) -> None:
        self._handle("GET")

    def do_POST(self) -> None:
        self._handle("POST")

    def do_PUT(self) -> None:
        self._handle("PUT")

    def do_PATCH(self) -> None:
        self._handle("PATCH")

    def do_DELETE(self) -> None:
        self._handle("DELETE")

    # --- plumbing -------------------------------------------------------------------------------

    def _handle(self, method: str) -> None:
        double = self.double
        path, _, raw_query = self.path.partition("?")
        seq, drop = double._arrive()
        self._pending = (seq, method, path, raw_query)
        try:
            body = self._read_body()
            if drop:
                self._hang_up()
            else:
                self._answer(method, path, raw_query, body)
        except Exception:
            double.errors.append(traceback.format_exc())
            self.close_connection = True
            if self._pending is not None:
                self._send(500, _dump(rest.error_payload("double internal error")), [])
        finally:
            if self._pending is not None:
                self._commit(0, 0)

    def _commit(self, status: int, cost: int, *, replace: bool = False) -> None:
        """Log the request; done before the answer is written so a client never outruns the log."""
        pending = self._pending
        if pending is None:
            return
        seq, method, path, raw_query = pending
        self.double._record(
            seq,
            RequestRecord(
                method=method,
                path=path,
                query=dict(parse_qsl(raw_query, keep_blank_values=True)),
                status=status,
                if_none_match=self.headers.get("If-None-Match"),
                authorization_seen=self.headers.get("Authorization") is not None,
                rate_cost=cost,
            ),
            replace=replace,
        )
        self._pending = None

    def _hang_up(self) -> None:
        """Close the connection without answering."""
        self.close_connection = True
        self._commit(0, 0)

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if not length or not length.isdigit():
            return b""
        return self.rfile.read(int(length))

    def _send(
        self,
        status: int,
        body: bytes | None,
        headers: list[tuple[str, str]],
        content_type: str = _JSON_TYPE,
        *,
        cost: int = 0,
    ) -> None:
        """Log and write a response; logged with status 0 if the client has already gone."""
        pending = self._pending
        self._commit(status, cost)
        scopes = self.double.oauth_scopes
        authorization = self.headers.get("Authorization")
        if scopes is not None and authorization is not None and self.double._authorized(authorization):
            headers = [*headers, ("X-OAuth-Scopes", scopes)]
        try:
            self.send_response(status)
            for name, value in headers:
                self.send_header(name, value)
            if body is not None:
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body:
                self.wfile.write(body)
        except OSError:
            self.close_connection = True
            self._pending = pending
            self._commit(0, cost, replace=True)

    def _peer_closed(self) -> bool:
        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            peeked: bytes = self.connection.recv(1, socket.MSG_PEEK)
            return peeked == b""
        except OSError:
            return True

    # --- semantics ------------------------------------------------------------------------------

    def _answer(self, method: str, path: str, raw_query: str, body: bytes) -> None:
        double = self.double
        is_graphql = path.rstrip("/") in GRAPHQL_PATHS
        resource = "graphql" if is_graphql else "core"
        target = f"{path}?{raw_query}" if raw_query else path
        fault = double._take_fault(target)
        if fault == "drop":
            return self._hang_up()
        if fault == "timeout":
            double._stopping.wait(double.timeout_seconds)
            if self._peer_closed():
                return self._hang_up()
        elif fault is not None:
            return self._fault(fault, resource)

        if method == "GET" and path.startswith(f"{rest.LOG_BLOB_PREFIX}/"):
            return self._blob(path, raw_query)
        route = path.removeprefix(REST_PREFIX) if path.startswith(f"{REST_PREFIX}/") else path
        app_route = _APP_ROUTES.match(route.rstrip("/"))
        if double.app is not None and app_route is not None:
            return self._app(double.app, method, app_route, path.removesuffix(route))
        if not double._authorized(self.headers.get("Authorization")):
            payload = rest.error_payload("Bad credentials")
            return self._send(401, _dump(payload), double._rate_headers(resource))
        if is_graphql and method == "POST":
            return self._graphql(body)
        return self._rest(method, path, raw_query, body)

    def _app(self, app: GitHubApp, method: str, matched: re.Match[str], prefix: str) -> None:
        """The App's own endpoints, which take the App's JWT (and cost no rate limit here)."""
        refusal = app.check_jwt(self.headers.get("Authorization"))
        if refusal is not None:
            return self._send(401, _dump(rest.error_payload(refusal)), [])
        host = self.headers.get("Host")
        api_base = f"http://{host}{prefix}" if host else f"{self.double.url}{prefix}"
        not_found = _dump(rest.error_payload("Not Found"))
        if matched["org"] is not None:
            found = app.installation_of(unquote(matched["org"])) if method == "GET" else None
            if found is None:
                return self._send(404, not_found, [])
            return self._send(200, _dump(app.installation(found, api_base)), [])
        if matched["id"] is None:
            if method != "GET":
                return self._send(404, not_found, [])
            listing = [app.installation(number, api_base) for number in sorted(app.installations)]
            return self._send(200, _dump(listing), [])
        installation_id = int(matched["id"])
        wanted = "POST" if matched["tokens"] else "GET"
        if installation_id not in app.installations or method != wanted:
            return self._send(404, not_found, [])
        if matched["tokens"]:
            return self._send(201, _dump(app.issue(installation_id)), [])
        return self._send(200, _dump(app.installation(installation_id, api_base)), [])

    def _fault(self, fault: FaultKind, resource: str) -> None:
        double = self.double
        if fault == "500":
            payload = {"message": "Server Error"}
            return self._send(500, _dump(payload), double._rate_headers(resource))
        if fault == "502_html":
            return self._send(502, BAD_GATEWAY_HTML, [], "text/html; charset=utf-8")
        if fault == "403_primary":
            with double._lock:
                limit = double._budget(resource).limit
            headers = [
                ("X-RateLimit-Limit", str(limit)),
                ("X-RateLimit-Remaining", "0"),
                ("X-RateLimit-Reset", str(int(time.time()) + 1)),
                ("X-RateLimit-Used", str(limit)),
                ("X-RateLimit-Resource", resource),
            ]
            payload = {"message": PRIMARY_RATE_LIMIT_MESSAGE, "documentation_url": RATE_LIMIT_DOCS}
            return self._send(403, _dump(payload), headers)
        if fault == "403_forbidden":
            # not a rate limit: GitHub names the permission the endpoint needs, and charges the request
            charged, headers = double._charge(resource)
            if "/check-runs" in self.path or "/check-suites" in self.path:
                headers = [("X-Accepted-GitHub-Permissions", "checks=read"), *headers]
            payload = {"message": FORBIDDEN_MESSAGE, "documentation_url": "https://docs.github.com/rest"}
            return self._send(403, _dump(payload), headers, cost=int(charged))
        if fault == "429_secondary":
            headers = [("Retry-After", str(double.retry_after_seconds)), *double._rate_headers(resource)]
            payload = {"message": SECONDARY_RATE_LIMIT_MESSAGE, "documentation_url": RATE_LIMIT_DOCS}
            return self._send(429, _dump(payload), headers)
        # malformed_json: a 200 whose body was cut short; GitHub would have charged for it.
        charged, headers = double._charge(resource)
        return self._send(200, MALFORMED_BODY, headers, cost=int(charged))

    def _rest(self, method: str, path: str, raw_query: str, body: bytes) -> None:
        double = self.double
        prefix = ""
        route = path
        if path == REST_PREFIX or path.startswith(f"{REST_PREFIX}/"):
            prefix, route = REST_PREFIX, path[len(REST_PREFIX) :]
        route = route.rstrip("/") or "/"
        if route == "/rate_limit":
            overview = double._rate_limit_overview()
            return self._send(200, _dump(overview), double._rate_headers("core"))

        host = self.headers.get("Host")
        request = rest.RestRequest(
            route=route,
            query=dict(parse_qsl(raw_query, keep_blank_values=True)),
            raw_query=raw_query,
            origin=f"http://{host}" if host else double.url,
            prefix=prefix,
        )
        reply = self._state_reply(method, request, body)
        if reply is None and method != "GET":
            reply = rest.Reply(404, rest.error_payload("Not Found"))
        if reply is None:
            reply = rest.dispatch(request, double._view)
        if reply.location is not None:
            return self._redirect(request, reply.location)
        # Like GitHub (and GitHub Enterprise), object URLs name the server the client talks to.
        payload = _dump(reply.payload).replace(b"https://api.github.com", request.api_base.encode())
        headers: list[tuple[str, str]] = []
        if reply.status == 200 and method == "GET":
            etag = f'W/"{hashlib.sha1(payload, usedforsecurity=False).hexdigest()}"'
            if_none_match = self.headers.get("If-None-Match")
            if if_none_match and _etag_matches(if_none_match, etag):
                return self._send(304, None, [("ETag", etag), *double._rate_headers("core")])
            headers.append(("ETag", etag))
            headers.append(("Cache-Control", "private, max-age=60, s-maxage=60"))
            if reply.link:
                headers.append(("Link", reply.link))
        charged, rate_headers = double._charge("core")
        if not charged:
            limited = {"message": PRIMARY_RATE_LIMIT_MESSAGE, "documentation_url": RATE_LIMIT_DOCS}
            return self._send(403, _dump(limited), rate_headers)
        headers.append(("X-GitHub-Media-Type", "github.v3; format=json"))
        # a 204 has no body; one sent anyway would be read as the start of the next response
        body_out = None if reply.status == 204 else payload
        return self._send(reply.status, body_out, headers + rate_headers, cost=1)

    def _redirect(self, request: rest.RestRequest, location: str) -> None:
        """A 302 to a signed blob URL, as GitHub answers log downloads (charged like any call)."""
        charged, rate_headers = self.double._charge("core")
        if not charged:
            limited = {"message": PRIMARY_RATE_LIMIT_MESSAGE, "documentation_url": RATE_LIMIT_DOCS}
            return self._send(403, _dump(limited), rate_headers)
        url = f"{request.origin}{location}?sig={self.double._sign(location)}"
        return self._send(302, b"", [("Location", url), *rate_headers], cost=1)

    def _blob(self, path: str, raw_query: str) -> None:
        """A signed blob download: no token needed (nor wanted), a bad or missing signature is 403."""
        signature = dict(parse_qsl(raw_query)).get("sig", "")
        if not hmac.compare_digest(signature, self.double._sign(path)):
            return self._send(403, b"<Error><Code>AuthenticationFailed</Code></Error>", [], "application/xml")
        repo, run_id, attempt = path[len(rest.LOG_BLOB_PREFIX) + 1 :].split("/")
        archive = self.double.recording.logs.get((unquote(repo), int(run_id), int(attempt)))
        if archive is None:
            return self._send(404, b"<Error><Code>BlobNotFound</Code></Error>", [], "application/xml")
        return self._send(200, archive, [], "application/zip")

    def _state_reply(self, method: str, request: rest.RestRequest, body: bytes) -> rest.Reply | None:
        """The answer of a state-changing (or state-reading) endpoint, if the request is for one."""
        matched = rest.REPO_PREFIX.match(request.route)
        if matched is None:
            return None
        repo = self.double._view.resolve_repo(unquote(matched["owner"]), unquote(matched["name"]))
        if repo is None:
            return None
        document: Any = {}
        if body:
            try:
                document = json.loads(body)
            except ValueError:
                return rest.Reply(400, rest.error_payload("Problems parsing JSON"))
        if isinstance(document, list):
            document = {LIST_BODY: document}  # some endpoints take a bare array (labels)
        if not isinstance(document, dict):
            return rest.Reply(400, rest.error_payload("Problems parsing JSON"))
        return self.double.writes.handle(method, request, repo, matched["rest"] or "", document)

    def _graphql(self, body: bytes) -> None:
        double = self.double
        try:
            call = graphql.parse_request(body)
        except graphql.BadRequestError as error:
            payload = rest.error_payload(str(error))
            return self._send(400, _dump(payload), double._rate_headers("graphql"))
        except graphql.GraphQLError as error:
            return self._send(200, _dump(error.payload()), double._rate_headers("graphql"))
        with double._lock:
            budget = double._graphql
            charged = budget.charge()
            rate = graphql.RateLimitInfo(
                cost=1,
                remaining=budget.remaining,
                reset_at=datetime.fromtimestamp(budget.reset_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            )
            headers = budget.headers()
        if not charged:
            payload = {"errors": [{"type": "RATE_LIMITED", "message": "API rate limit exceeded"}]}
            return self._send(200, _dump(payload), headers)
        try:
            if isinstance(call, graphql.OperationCall):
                answer = graphql.execute_operation(double._view, double.writes, call, rate)
            else:
                answer = graphql.execute(double._view, call, rate)
        except graphql.GraphQLError as error:
            answer = error.payload()
        return self._send(200, _dump(answer), headers, cost=1)
