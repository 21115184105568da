"""Serve a 1,000-person sample organisation through the double, set up to time the merge and revert actions.

Run ``python -m tests.benchmarks.action_scene`` and, from another shell, the commands it prints
(``time .venv/bin/python -m actions.revert ... --dry-run``); stop it with Ctrl-C. The scene: an
auto-merged pull request whose merge commit failed CI on ``main`` (the revert action goes through
every check), and a safe open pull request (the auto-merge action goes through every check).
"""

from __future__ import annotations

import time

from pipelines.sources.double import GitHubDouble
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.actions.revert_helpers import failed_run, fresh_pull, merge_pull
from tests.conftest import FAKE_TOKEN


def main() -> None:
    """Build the scene, print the commands to time, serve until interrupted."""
    started = time.perf_counter()
    recording = generate_sample_org(SampleOrgSpec(people=1_000, with_logs=False))
    with GitHubDouble(recording, token=FAKE_TOKEN) as double:
        repo = recording.repos[0]
        merged = fresh_pull(double, repo)
        run_id = failed_run(double, repo, merge_pull(double, repo, merged))
        safe = fresh_pull(double, repo)
        double.configure_pull(
            repo,
            safe,
            mergeable=True,
            mergeable_state="clean",
            checks=[("build", "completed", "success")],
            statuses=[("codecov/project", "success", "88.00%")],
            reviews=[("someone-else", "APPROVED")],
        )
        people = len({p["user"]["login"] for pulls in recording.pull_requests.values() for p in pulls})
        print(
            f"# sample organisation: {len(recording.repos)} repositories, {people} pull request authors",
            flush=True,
        )
        print(f"# built in {time.perf_counter() - started:.1f} s; serving at {double.url}", flush=True)
        env = f"GITHUB_TOKEN={FAKE_TOKEN} GITHUB_API_URL={double.url}"
        print(
            f"{env} time .venv/bin/python -m actions.revert --repo {repo} --run-id {run_id} --dry-run",
            flush=True,
        )
        print(
            f"{env} time .venv/bin/python -m actions.automerge --repo {repo} --pr {safe} --dry-run "
            "--config <a file with: risk: {on_missing: allow}>",
            flush=True,
        )
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            return


if __name__ == "__main__":
    main()
