"""The live GitHub source: incremental, conditional, and cheap in requests.

Every list stream is read newest first (``sort=updated&direction=desc``, or the endpoint's own
newest-first order) with a *stable* first-page URL, so:

- a re-sync with no change is one conditional request answered 304 (no rate-limit cost);
- a sync with changes reads pages until it meets objects older than the cursor;
- an object that changes while the pages are read moves to the front, which shifts later
  items down (seen twice, harmless), never up (which would skip one);
- the cursor (the newest timestamp of the first page) and the first page's ETag are only
  handed over with the batch that completes the traversal, so a killed sync re-reads from
  the top and loses nothing.

Pull request sub-resources ride on one GraphQL query per 50 pull requests; jobs are fetched
only for the attempts that need them (failed ones by default); check runs and statuses only
for heads of open pull requests whose checks were not already complete; a failed attempt's
log archive once (two requests: the API's 302 and the signed download), kept as its excerpt.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any

from actions.common.conclusions import FAILED_CONCLUSIONS
from pipelines.sources.base import Batch, SourceError
from pipelines.sources.github.client import GitHubClient, Response
from pipelines.sources.github.helpers import file_from_graphql, parse_time, review_from_graphql
from pipelines.sources.github.queries import PULL_REQUEST_DETAILS
from pipelines.sources.github.settings import GitHubSettings
from pipelines.sources.run_logs import excerpt_records, too_large, unavailable, wants_logs

JSON = dict[str, Any]
log = logging.getLogger("repopilot.github")

# Wider than the failed runs: a cancelled attempt's jobs show which job and step it was stopped at.
_JOBS_FOR = FAILED_CONCLUSIONS | {"cancelled"}


class GitHubSource:
    """Reads repositories' history from the GitHub REST and GraphQL APIs through PyGithub."""

    synthetic = False

    def __init__(self, settings: GitHubSettings) -> None:
        if not settings.repos:
            raise SourceError("the github source needs repositories: set REPOPILOT_REPOS=owner/name,...")
        self.settings = settings
        self.label = f"github ({settings.api_url})"
        self.client = GitHubClient(settings)
        self._checks_refused: set[str] = set()

    def repositories(self) -> list[str]:
        """The configured repositories."""
        return list(self.settings.repos)

    def close(self) -> None:
        """Close the HTTP connections."""
        self.client.close()

    def check_reachable(self) -> None:
        """One request (free of rate limit) that fails in seconds when the API cannot be reached."""
        self.client.check_reachable()

    def fetch(self, repo: str, stream: str, states: Mapping[str, JSON]) -> Iterator[Batch]:
        """Yield the batches of one stream of ``repo``, resuming from ``states[stream]``."""
        state = dict(states.get(stream) or {})
        base = f"/repos/{repo}"
        if stream == "pull_requests":
            return self._pull_requests(base, state)
        if stream == "pull_request_details":
            return self._pull_request_details(repo, state, dict(states.get("pull_requests") or {}))
        if stream == "review_comments":
            return self._listing(
                f"{base}/pulls/comments", {"sort": "updated", "direction": "desc"}, "review_comments", state
            )
        if stream == "issues":
            return self._listing(
                f"{base}/issues", {"state": "all", "sort": "updated", "direction": "desc"}, "issues", state
            )
        if stream == "issue_comments":
            return self._listing(
                f"{base}/issues/comments", {"sort": "updated", "direction": "desc"}, "issue_comments", state
            )
        if stream == "issue_events":
            return self._listing(f"{base}/issues/events", {}, "issue_events", state, "created_at")
        if stream == "workflow_runs":
            return self._workflow_runs(base, state, dict(states.get("run_logs") or {}))
        if stream == "run_logs":
            return self._run_logs(base, state, dict(states.get("workflow_runs") or {}))
        if stream == "pr_head_checks":
            return self._head_checks(
                base, state, dict(states.get("pull_requests") or {}), dict(states.get("workflow_runs") or {})
            )
        raise SourceError(f"unknown stream {stream!r}")

    # -- generic newest-first traversal ------------------------------------------------------

    def _pages(
        self,
        path: str,
        params: dict[str, Any],
        state: JSON,
        time_field: str,
        items_key: str | None = None,
        stop_before: datetime | None = None,
    ) -> Iterator[tuple[list[JSON], JSON | None]]:
        """Yield ``(items newer than the cursor, final state or None)`` page by page."""
        cursor = parse_time(state.get("cursor"))
        if stop_before is None:
            stop_before = cursor
        params = {**params, "per_page": self.settings.per_page}
        first = self.client.get(path, params, etag=state.get("etag"))
        if first.status == 304:
            return
        newest = cursor
        response = first
        while True:
            items: list[JSON] = response.body if items_key is None else response.body[items_key]
            kept = []
            reached_cursor = False
            for item in items:
                when = parse_time(item.get(time_field))
                if stop_before is not None and when is not None and when < stop_before:
                    reached_cursor = True
                    continue
                kept.append(item)
                if when is not None and (newest is None or when > newest):
                    newest = when
            done = reached_cursor or response.next_url is None
            final = (
                {**state, "cursor": newest.isoformat() if newest else state.get("cursor"), "etag": first.etag}
                if done
                else None
            )
            yield kept, final
            if done or response.next_url is None:
                return
            response = self.client.get(response.next_url)

    def _listing(
        self, path: str, params: dict[str, Any], table: str, state: JSON, time_field: str = "updated_at"
    ) -> Iterator[Batch]:
        for items, final in self._pages(path, params, state, time_field):
            batch = Batch(state=final)
            for item in items:
                batch.add(table, item)
            yield batch

    # -- pull requests -------------------------------------------------------------------------

    def _pull_requests(self, base: str, state: JSON) -> Iterator[Batch]:
        open_heads: dict[str, str] = dict(state.get("open_heads") or {})
        params = {"state": "all", "sort": "updated", "direction": "desc"}
        for items, final in self._pages(f"{base}/pulls", params, state, "updated_at"):
            batch = Batch()
            for pr in items:
                batch.add("pull_requests", pr)
                number = str(pr["number"])
                sha = (pr.get("head") or {}).get("sha")
                if pr.get("state") == "open" and sha:
                    open_heads[number] = sha
                else:
                    open_heads.pop(number, None)
            if final is not None:
                batch.state = {**final, "open_heads": open_heads}
            yield batch

    def _pull_request_details(self, repo: str, state: JSON, pulls_state: JSON) -> Iterator[Batch]:
        """Reviews and files of pull requests updated after this stream's cursor.

        Costs nothing when the pull request stream has not moved past this stream's cursor.
        """
        cursor = parse_time(state.get("cursor"))
        pulls_cursor = parse_time(pulls_state.get("cursor"))
        if pulls_cursor is None or (cursor is not None and pulls_cursor <= cursor):
            return
        owner, name = repo.split("/", 1)
        after: str | None = None
        newest = cursor
        while True:
            data = self.client.graphql(
                PULL_REQUEST_DETAILS,
                {"owner": owner, "name": name, "first": self.settings.graphql_page_size, "after": after},
            )
            repository = data.get("repository")
            if repository is None:
                raise SourceError(f"GitHub GraphQL: repository {repo} not found or not visible to the token")
            connection = repository["pullRequests"]
            batch = Batch()
            reached_cursor = False
            for node in connection["nodes"]:
                updated = parse_time(node["updatedAt"])
                if cursor is not None and updated is not None and updated < cursor:
                    reached_cursor = True
                    break
                if updated is not None and (newest is None or updated > newest):
                    newest = updated
                self._add_details(repo, node, batch)
            page_info = connection["pageInfo"]
            done = reached_cursor or not page_info["hasNextPage"]
            if done:
                batch.state = {"cursor": newest.isoformat() if newest else None}
            yield batch
            if done:
                return
            after = page_info["endCursor"]

    def _add_details(self, repo: str, node: JSON, batch: Batch) -> None:
        number = str(node["number"])
        pr_url = f"{self.settings.api_url}/repos/{repo}/pulls/{number}"
        reviews = node["reviews"]
        if reviews["pageInfo"]["hasNextPage"]:
            for review in self._all(f"/repos/{repo}/pulls/{number}/reviews"):
                batch.add("reviews", review, number)
        else:
            for review in reviews["nodes"]:
                batch.add("reviews", review_from_graphql(review, pr_url), number)
        files = node["files"]
        if files is not None and files["pageInfo"]["hasNextPage"]:
            for item in self._all(f"/repos/{repo}/pulls/{number}/files"):
                batch.add("pr_files", item, number)
        elif files is not None:
            for item in files["nodes"]:
                batch.add("pr_files", file_from_graphql(item), number)

    def _all(self, path: str, items_key: str | None = None) -> Iterator[JSON]:
        response = self.client.get(path, {"per_page": self.settings.per_page})
        while True:
            items = response.body if items_key is None else response.body[items_key]
            yield from items
            if response.next_url is None:
                return
            response = self.client.get(response.next_url)

    # -- workflow runs ------------------------------------------------------------------------

    def _workflow_runs(self, base: str, state: JSON, logs_state: JSON) -> Iterator[Batch]:
        """Runs created since the cursor minus the look-back, their earlier attempts and jobs.

        ``state["seen"]`` remembers, for runs inside the look-back window, which attempt and
        conclusion were already fetched, so that re-reading the window costs only the list
        pages and not the per-run details again.

        Failed attempts met for the first time join ``state["logs_queue"]`` (``[seq, run id,
        attempt]``), which the ``run_logs`` stream works through; entries it has done (up to its
        ``through``) are dropped here, so the queue only holds what is still to be read.
        """
        cursor = parse_time(state.get("cursor"))
        stop_before = cursor - timedelta(hours=self.settings.lookback_hours) if cursor else None
        seen: dict[str, str] = dict(state.get("seen") or {})
        fresh: dict[str, str] = {}
        failed: list[tuple[int, int]] = []
        for runs, final in self._pages(
            f"{base}/actions/runs", {}, state, "created_at", "workflow_runs", stop_before
        ):
            batch = Batch()
            for run in runs:
                self._add_run(base, run, seen, fresh, batch, failed)
            if final is not None:
                horizon = parse_time(final.get("cursor"))
                keep_after = horizon - timedelta(hours=self.settings.lookback_hours) if horizon else None
                merged = {**seen, **fresh}
                batch.state = {
                    **final,
                    "seen": {
                        key: value
                        for key, value in merged.items()
                        if keep_after is None
                        or (parse_time(value.split("|", 2)[2]) or keep_after) >= keep_after
                    },
                    **self._logs_queue(state, logs_state, failed),
                }
            yield batch

    @staticmethod
    def _logs_queue(state: JSON, logs_state: JSON, failed: list[tuple[int, int]]) -> JSON:
        through = int(logs_state.get("through") or 0)
        last = int(state.get("logs_seq") or 0)
        queue = [entry for entry in state.get("logs_queue") or [] if int(entry[0]) > through]
        queued = {(int(entry[1]), int(entry[2])) for entry in queue}
        for run_id, attempt in dict.fromkeys(failed):
            if (run_id, attempt) not in queued:
                last += 1
                queue.append([last, run_id, attempt])
        return {"logs_queue": queue, "logs_seq": last}

    def _run_logs(self, base: str, state: JSON, runs_state: JSON) -> Iterator[Batch]:
        """The failure excerpts of the queued failed attempts, each attempt's archive read once.

        Each batch carries ``through``, the last queue entry it covers, so a killed stream
        resumes after the last landed batch. Nothing is asked when the queue holds nothing new.
        """
        through = int(state.get("through") or 0)
        pending = [entry for entry in runs_state.get("logs_queue") or [] if int(entry[0]) > through]
        size = self.settings.logs_per_batch
        for start in range(0, len(pending), size):
            chunk = pending[start : start + size]
            batch = Batch()
            for _seq, run_id, attempt in chunk:
                for record in self._log_records(base, int(run_id), int(attempt)):
                    batch.add("run_log_excerpts", record)
            batch.state = {"through": int(chunk[-1][0])}
            yield batch

    def _log_records(self, base: str, run_id: int, attempt: int) -> list[JSON]:
        cap = self.settings.max_log_bytes
        download = self.client.download(f"{base}/actions/runs/{run_id}/attempts/{attempt}/logs", cap)
        if download.status == 413:
            log.info("run %s attempt %s: log archive above %s bytes, not kept", run_id, attempt, cap)
            return [too_large(run_id, attempt, download.size, cap)]
        if download.body is None:
            return [unavailable(run_id, attempt, download.status)]
        records = excerpt_records(run_id, attempt, download.body)
        if records[0]["status"] == "corrupt":
            log.warning("run %s attempt %s: %s", run_id, attempt, records[0]["error"])
        return records

    def _add_run(
        self,
        base: str,
        run: JSON,
        seen: dict[str, str],
        fresh: dict[str, str],
        batch: Batch,
        failed: list[tuple[int, int]],
    ) -> None:
        run_id = run["id"]
        attempt = int(run.get("run_attempt") or 1)
        conclusion = (run.get("conclusion") or "").lower()
        fingerprint = f"{attempt}|{conclusion}|{run.get('created_at')}"
        batch.add("workflow_runs", run)
        if seen.get(str(run_id)) == fingerprint:
            return
        previous = seen.get(str(run_id))
        first_new_attempt = int(previous.split("|", 1)[0]) if previous else 1
        # The attempt seen last time was queued then if it had already failed.
        queued_before = (
            first_new_attempt if previous and previous.split("|", 2)[1] in FAILED_CONCLUSIONS else None
        )

        def queue_logs(obj: JSON, number: int) -> None:
            if self.settings.logs_for == "failed" and number != queued_before and wants_logs(obj):
                failed.append((int(run_id), number))

        for earlier in range(first_new_attempt, attempt):
            try:
                response = self.client.get(f"{base}/actions/runs/{run_id}/attempts/{earlier}")
            except SourceError as exc:
                if exc.status == 404:
                    log.info("run %s attempt %s is no longer available", run_id, earlier)
                    continue
                raise
            batch.add("workflow_runs", response.body)
            self._add_jobs(base, response.body, batch)
            queue_logs(response.body, earlier)
        self._add_jobs(base, run, batch)
        queue_logs(run, attempt)
        fresh[str(run_id)] = fingerprint

    def _add_jobs(self, base: str, run: JSON, batch: Batch) -> None:
        conclusion = (run.get("conclusion") or "").lower()
        if run.get("status") != "completed" and not conclusion:
            return
        if self.settings.jobs_for == "failed" and conclusion not in _JOBS_FOR:
            return
        attempt = int(run.get("run_attempt") or 1)
        for job in self._all(f"{base}/actions/runs/{run['id']}/attempts/{attempt}/jobs", "jobs"):
            batch.add("jobs", job)

    # -- checks of open pull request heads ---------------------------------------------------

    def _check_runs(self, base: str, sha: str, etag: str | None) -> Response | None:
        """The check runs of ``sha``, or None when the token may not read them.

        GitHub offers fine-grained personal access tokens no Checks permission, so such a token is
        refused check runs of private repositories (HTTP 403, not a rate limit). Nothing downstream
        needs them, so the statuses are still read and the sync goes on, with a warning per repository.
        """
        try:
            return self.client.get(
                f"{base}/commits/{sha}/check-runs", {"per_page": self.settings.per_page}, etag
            )
        except SourceError as error:
            if error.status != 403:
                raise
            if base not in self._checks_refused:
                self._checks_refused.add(base)
                log.warning(
                    "%s: the token may not read check runs (HTTP 403; GitHub gives fine-grained tokens no "
                    "Checks permission): they are skipped, commit statuses are still read",
                    base.removeprefix("/repos/"),
                )
            return None

    def _head_checks(self, base: str, state: JSON, pulls_state: JSON, runs_state: JSON) -> Iterator[Batch]:
        """Check runs and combined status of each open pull request's head commit.

        Nothing is asked when neither the open heads nor the workflow runs changed since the
        last look (checks move when CI runs do). A head whose checks were all complete is not
        asked again (a push would give it a new head); pending ones are asked conditionally.
        """
        open_heads: dict[str, str] = dict(pulls_state.get("open_heads") or {})
        inputs = {"open_heads": open_heads, "runs_etag": runs_state.get("etag")}
        if state.get("inputs") == inputs:
            return
        known: dict[str, JSON] = dict(state.get("heads") or {})
        heads: dict[str, JSON] = {}
        batch = Batch()
        for sha in sorted(set(open_heads.values())):
            previous = known.get(sha) or {}
            if previous.get("complete"):
                heads[sha] = previous
                continue
            checks = self._check_runs(base, sha, previous.get("checks_etag"))
            status = self.client.get(f"{base}/commits/{sha}/status", None, previous.get("status_etag"))
            complete = bool(previous.get("complete"))
            if checks is None:
                # the token may not read check runs: the head is done once its statuses are
                complete = True
            elif checks.status != 304:
                runs: list[JSON] = checks.body["check_runs"]
                for check in runs:
                    batch.add("check_runs", check, sha)
                complete = all(check.get("status") == "completed" for check in runs)
            if status.status != 304:
                for item in status.body.get("statuses", []):
                    batch.add("commit_statuses", item, sha)
                statuses_pending = (
                    status.body.get("total_count", 0) > 0 and status.body.get("state") == "pending"
                )
                complete = complete and not statuses_pending
            checks_etag = checks.etag if checks is not None else None
            heads[sha] = {"checks_etag": checks_etag, "status_etag": status.etag, "complete": complete}
        batch.state = {"heads": heads, "inputs": inputs}
        yield batch
