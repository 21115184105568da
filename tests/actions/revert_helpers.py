"""Building the scenes revert automation acts on, through the double: merged pull requests and failed runs.

:func:`race` runs several revert actions at the same moment, the way workflow runs of different
commits do: the double holds each ``revertPullRequest`` until every run has either sent one or
finished, so all of them count today's reverts before any opens one (the worst interleaving).
"""

from __future__ import annotations

import copy
import itertools
import json
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from github import Auth, Github

from actions.merging.config import MERGE_MARKER
from pipelines.sources.double import GitHubDouble
from tests.conftest import FAKE_TOKEN

_RUN_IDS = itertools.count(7_000_000_001)
_JOB_IDS = itertools.count(8_000_000_001)


def client(double: GitHubDouble) -> Github:
    """A PyGithub client of the double without retries or write spacing."""
    return Github(
        base_url=double.url,
        auth=Auth.Token(FAKE_TOKEN),
        retry=None,
        seconds_between_requests=None,
        seconds_between_writes=None,
    )


def merge_pull(
    double: GitHubDouble,
    repo: str,
    number: int,
    *,
    by_repopilot: bool = True,
    title: str | None = None,
    body: str | None = None,
    head_ref: str | None = None,
    labels: tuple[str, ...] = (),
) -> str:
    """Merge pull request ``number`` (squash) with a change of its own; returns the merge commit id.

    The head branch is the default branch's files plus ``changes/<number>.txt``, so the merge
    commit has a real change a revert undoes. ``by_repopilot`` puts repopilot's trailer on it.
    """
    writes = double.writes
    base = writes.branch_files(repo, "main")
    if base is None:
        writes.commit_files(repo, "main", {"README.md": "the project\n"}, "initial commit")
        base = writes.branch_files(repo, "main") or {}
    ref = head_ref or f"feature/change-{number}"
    files: dict[str, str | None] = {path: data.decode() for path, data in base.items()}
    files[f"changes/{number}.txt"] = f"change {number}\n"
    head = writes.commit_files(repo, ref, files, f"change {number}")
    fields: dict[str, Any] = {"mergeable": True, "mergeable_state": "clean", "draft": False}
    if title is not None:
        fields["title"] = title
    if body is not None:
        fields["body"] = body
    if head_ref is not None:
        fields["head"] = {**_pull(double, repo, number)["head"], "ref": head_ref, "sha": head}
    double.configure_pull(repo, number, head_sha=head, labels=list(labels), **fields)
    pull = client(double).get_repo(repo).get_pull(number)
    message = f"{MERGE_MARKER}\n" if by_repopilot else "Merged by a maintainer"
    status = pull.merge(
        commit_title=f"{pull.title} (#{number})", commit_message=message, merge_method="squash", sha=head
    )
    return str(status.sha)


def _pull(double: GitHubDouble, repo: str, number: int) -> dict[str, Any]:
    return next(p for p in double.recording.pull_requests[repo] if p["number"] == number)


_TOPICS = itertools.count(1)


def fresh_pull(double: GitHubDouble, repo: str, title: str = "Tune the docs build") -> int:
    """Open a new pull request from a new branch (through the API); returns its number."""
    branch = f"topic/{next(_TOPICS)}"
    double.writes.commit_files(repo, branch, {"topic.txt": branch}, "topic")
    return int(
        client(double).get_repo(repo).create_pull(title=title, body="", head=branch, base="main").number
    )


def failed_run(
    double: GitHubDouble,
    repo: str,
    sha: str,
    *,
    conclusion: str | None = "failure",
    branch: str = "main",
    event: str = "push",
    head_repository: str | None = None,
    jobs: tuple[tuple[str, str], ...] = (("build", "failure"), ("lint", "success")),
    run_id: int | None = None,
    attempt: int = 1,
) -> int:
    """Add a completed run of ``sha`` (a copy of one of the repo's runs) with ``jobs``; returns its id."""
    template = copy.deepcopy(double.recording.workflow_runs[repo][0])
    run_id = run_id or next(_RUN_IDS)
    full = head_repository or repo
    template.update(
        id=run_id,
        name="CI",
        run_number=run_id % 1000,
        head_sha=sha,
        head_branch=branch,
        event=event,
        status="completed",
        conclusion=conclusion,
        run_attempt=attempt,
        html_url=f"https://github.com/{repo}/actions/runs/{run_id}",
        pull_requests=[],
        head_repository={**(template.get("head_repository") or {}), "full_name": full},
    )
    double.add_workflow_run(repo, template)
    listed = []
    for name, job_conclusion in jobs:
        job_id = next(_JOB_IDS)
        listed.append(
            {
                "id": job_id,
                "run_id": run_id,
                "run_attempt": attempt,
                "name": name,
                "status": "completed",
                "conclusion": job_conclusion,
                "head_sha": sha,
                "html_url": f"https://github.com/{repo}/actions/runs/{run_id}/job/{job_id}",
                "steps": [],
            }
        )
    double.recording.jobs[(repo, run_id, attempt)] = listed
    double.invalidate()
    return run_id


RACE_TIMEOUT_SECONDS = 20.0


class _Gate:
    """The double's ``before_revert`` hook: holds every revert until all ``parties`` sent one or finished."""

    def __init__(self, parties: int) -> None:
        self._parties = parties
        self._arrived = 0
        self._open = False
        self._ready = threading.Condition()

    def hold(self, _node_id: str) -> None:
        with self._ready:
            self._arrived += 1
            self._ready.notify_all()
            if not self._ready.wait_for(lambda: self._open, RACE_TIMEOUT_SECONDS):
                raise TimeoutError("the racing runs never all arrived")

    def finished(self) -> None:
        with self._ready:
            self._arrived += 1
            self._ready.notify_all()

    def release_when_all_arrived(self) -> None:
        with self._ready:
            arrived = self._ready.wait_for(lambda: self._arrived >= self._parties, RACE_TIMEOUT_SECONDS)
            self._open = True
            self._ready.notify_all()
        if not arrived:
            raise TimeoutError("the racing runs never all arrived")


def race(
    double: GitHubDouble, main: Callable[[Sequence[str] | None], int], argvs: Sequence[Sequence[str]]
) -> list[dict[str, Any]]:
    """Run ``main`` once per argument list, concurrently, all deciding before any revert is opened.

    Each run writes its result JSON to a file of its own (``--output``); returns the results in the
    order of ``argvs``, ``{"exit_code": code}`` for a run that exited with another code than 0 (an
    exception raised by ``main`` is raised again). The environment (token, API URL, output files)
    is the caller's.
    """
    gate = _Gate(len(argvs))
    failures: list[BaseException] = []
    codes: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as folder:
        outputs = [Path(folder) / f"result-{index}.json" for index in range(len(argvs))]

        def one(index: int, argv: Sequence[str]) -> None:
            try:
                codes[index] = main([*argv, "--output", str(outputs[index])])
            except BaseException as error:  # handed to the test's thread
                failures.append(error)
            finally:
                gate.finished()

        double.writes.before_revert = gate.hold
        threads = [threading.Thread(target=one, args=pair) for pair in enumerate(argvs)]
        try:
            for thread in threads:
                thread.start()
            gate.release_when_all_arrived()
            for thread in threads:
                thread.join(RACE_TIMEOUT_SECONDS)
        finally:
            double.writes.before_revert = None
        if failures:
            raise failures[0]
        return [
            json.loads(output.read_text(encoding="utf-8"))
            if codes[index] == 0
            else {"exit_code": codes[index]}
            for index, output in enumerate(outputs)
        ]
