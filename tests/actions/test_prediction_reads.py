"""What predict reads cheaply: a run's history from the listing's pages, LightGBM without its extras."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import lightgbm as lgb
import numpy as np
from github import Auth, Github

from actions.prediction.github_runs import RUNS_PER_PAGE, history, run_input
from pipelines.sources.double import GitHubDouble
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.conftest import FAKE_TOKEN


def test_history_is_read_from_the_listing_pages_without_fetching_each_run() -> None:
    recording = generate_sample_org(SampleOrgSpec(people=40, with_logs=False))
    name = recording.repos[0]
    with GitHubDouble(recording, token=FAKE_TOKEN) as double:
        repo = Github(base_url=double.url, auth=Auth.Token(FAKE_TOKEN), retry=None).get_repo(name, lazy=True)
        latest = max(recording.workflow_runs[name], key=lambda r: r["created_at"])
        target = run_input(repo.get_workflow_run(latest["id"]).raw_data, name)
        before = len(double.requests)
        rows = history(repo, target, max_runs=250)
        paths = [r.path for r in double.requests[before:]]
    listed = [p for p in paths if p.endswith("/actions/runs")]
    attempts = [p for p in paths if "/attempts/" in p]
    # three pages for 250 runs, one request per earlier attempt of a re-run, nothing else
    assert len(listed) == -(-250 // RUNS_PER_PAGE) and len(paths) == len(listed) + len(attempts)
    first = [
        r for r in rows if r["run_attempt"] == next(a["run_attempt"] for a in rows if a["id"] == r["id"])
    ]
    # max_runs counts every attempt read; earlier attempts follow their run
    assert len(rows) == len(first) + len(attempts) >= 250 and len(rows) - 250 < 3
    created = [r["created_at"] for r in first]
    assert created == sorted(created, reverse=True) and created[0] <= target["created_at"]
    want = sorted(
        (r for r in recording.workflow_runs[name] if r["created_at"] <= latest["created_at"]),
        key=lambda r: (r["created_at"], r["id"]),
        reverse=True,
    )[: len(first)]
    assert [r["id"] for r in first] == [int(r["id"]) for r in want]


def test_lightgbm_without_its_extras_predicts_the_same(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(400, 5))
    y = (x[:, 0] + rng.normal(scale=0.5, size=400) > 0).astype(float)
    booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 7}, lgb.Dataset(x, y), 20)
    model = tmp_path / "model.txt"
    model.write_text(booster.model_to_string(), encoding="utf-8")
    probe = x[:10]
    np.save(tmp_path / "probe.npy", probe)
    script = (
        "import json, sys, numpy as np\n"
        "from actions.prediction.model import LIGHTGBM_EXTRAS, import_lightgbm_alone\n"
        "lgb = import_lightgbm_alone()\n"
        "b = lgb.Booster(model_str=open(sys.argv[1]).read())\n"
        "x = np.load(sys.argv[2])\n"
        "print(json.dumps({'loaded': sorted(n for n in LIGHTGBM_EXTRAS if n in sys.modules),"
        " 'raw': b.predict(x, raw_score=True).tolist(),"
        " 'contrib': b.predict(x, pred_contrib=True).tolist()}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(model), str(tmp_path / "probe.npy")],
        capture_output=True,
        text=True,
        check=True,
    )
    got = json.loads(done.stdout)
    assert got["loaded"] == []
    np.testing.assert_allclose(got["raw"], booster.predict(probe, raw_score=True), rtol=1e-12)
    np.testing.assert_allclose(got["contrib"], booster.predict(probe, pred_contrib=True), rtol=1e-12)
