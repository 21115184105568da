"""A refusal outlives its run: what a blocking check refused is not consumed by a later run."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import duckdb
from dagster import AssetKey, AssetSelection, DagsterInstance, materialize

from pipelines.defs.features import run_features
from pipelines.defs.ingestion import core_tables, raw_tables, raw_travis_builds
from pipelines.defs.models import PROMOTION_GATE, candidate_models, promoted_models, promotion_gate
from pipelines.defs.quality import quality_checks
from pipelines.defs.resources import HistorySourceResource, WarehouseResource
from pipelines.sources.base import RecordingSource
from pipelines.sources.ingest import land_repository
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from warehouse.landing import LandingZone


def _failure_messages(result: Any) -> str:
    return " ".join(
        str(event.step_failure_data.error.cause.message if event.step_failure_data.error.cause else "")
        + str(event.step_failure_data.error.message)
        for event in result.all_events
        if event.is_step_failure and event.step_failure_data and event.step_failure_data.error
    )


def _latest_run(instance: DagsterInstance, asset: str) -> str | None:
    event = instance.get_latest_materialization_event(AssetKey(asset))
    return event.run_id if event else None


def _land_small_sample(home: Path) -> None:
    small = SampleOrgSpec(
        repositories=1, pull_requests_per_repo=15, runs_per_repo=40, issues_per_repo=5, with_logs=False
    )
    source = RecordingSource(generate_sample_org(small), "test")
    zone = LandingZone(home / "landing")
    for repo in source.repositories():
        land_repository(source, repo, zone)


def test_features_are_not_built_from_a_core_table_an_earlier_run_refused(tmp_path: Path) -> None:
    _land_small_sample(tmp_path)
    warehouse = WarehouseResource(home=str(tmp_path))
    assets = [raw_tables, raw_travis_builds, core_tables, run_features, *quality_checks()]
    resources = {"warehouse": warehouse, "history": HistorySourceResource(source="sample")}
    instance = DagsterInstance.ephemeral()

    def run(selection: AssetSelection) -> Any:
        return materialize(
            assets, instance=instance, resources=resources, selection=selection, raise_on_error=False
        )

    core = AssetSelection.assets(raw_tables, raw_travis_builds, core_tables)
    features_only = AssetSelection.assets(run_features)
    assert run(core | features_only).success
    built = _latest_run(instance, "run_features")

    def set_first_conclusion(value: str) -> None:
        with duckdb.connect(str(warehouse.database_path)) as db:
            db.execute(
                "UPDATE raw.workflow_runs SET data = json_merge_patch(data, json_object('conclusion', $v)) "
                "WHERE key = (SELECT min(key) FROM raw.workflow_runs)",
                {"v": value},
            )

    set_first_conclusion("BOGUS")
    assert not run(core).success  # core.ci_runs is written, then its blocking check fails

    # The daily training job selects only the features: it must not build on the refused table.
    refused = run(features_only)
    assert not refused.success
    message = _failure_messages(refused)
    assert "data_quality on core_ci_runs failed" in message and "'bogus'" in message
    assert _latest_run(instance, "run_features") == built

    set_first_conclusion("failure")
    assert run(core).success
    again = run(features_only)
    assert again.success
    assert _latest_run(instance, "run_features") == again.run_id


def _report(roc_auc: float) -> dict[str, Any]:
    return {
        "failure": {"roc_auc": roc_auc, "pr_auc": 0.5, "balanced_accuracy": 0.7},
        "baselines": {"rolling_rate": {"roc_auc": 0.6}, "previous_outcome": {"balanced_accuracy": 0.6}},
        "duration": {"mae": 80.0, "baseline_mae": 100.0},
        # enough attempt groups for the gate to judge the figures (this test is about blocking)
        "windows": {
            "test": {"groups": 300, "failing_groups": 60, "passing_groups": 280, "duration_groups": 300}
        },
    }


def test_a_candidate_the_gate_refused_is_not_promoted_by_a_later_run(tmp_path: Path) -> None:
    models = tmp_path / "models"
    for name, roc_auc in (("current", 0.9), ("candidate", 0.7)):
        (models / name).mkdir(parents=True)
        (models / name / "report.json").write_text(json.dumps(_report(roc_auc)), encoding="utf-8")
    assets = [candidate_models, promoted_models, promotion_gate]
    resources = {"warehouse": WarehouseResource(home=str(tmp_path))}
    instance = DagsterInstance.ephemeral()

    def run(selection: AssetSelection) -> Any:
        return materialize(
            assets, instance=instance, resources=resources, selection=selection, raise_on_error=False
        )

    gate = AssetSelection.checks_for_assets(candidate_models)
    assert not run(gate).success  # the candidate is worse than the current model: refused
    # A run that only promotes (a --select, a retried step) must not bypass the verdict.
    refused = run(AssetSelection.assets(promoted_models))
    assert not refused.success
    assert f"{PROMOTION_GATE} on candidate_models failed" in _failure_messages(refused)
    assert "roc_auc fell by 0.200" in _failure_messages(refused)
    assert json.loads((models / "current" / "report.json").read_text())["failure"]["roc_auc"] == 0.9

    (models / "candidate" / "report.json").write_text(json.dumps(_report(0.95)), encoding="utf-8")
    assert run(gate).success
    assert run(AssetSelection.assets(promoted_models)).success
    assert json.loads((models / "current" / "report.json").read_text())["failure"]["roc_auc"] == 0.95
    assert json.loads((models / "previous" / "report.json").read_text())["failure"]["roc_auc"] == 0.9


def test_a_vanished_history_is_not_accepted_by_running_again(tmp_path: Path) -> None:
    """The row-count reference is the last accepted count, not the last (refused) materialisation."""
    _land_small_sample(tmp_path)
    instance = DagsterInstance.ephemeral()
    assets = [raw_tables, raw_travis_builds, core_tables, *quality_checks()]

    def run(**warehouse: Any) -> Any:
        resources = {
            "warehouse": WarehouseResource(home=str(tmp_path), **warehouse),
            "history": HistorySourceResource(source="sample"),
        }
        return materialize(assets, instance=instance, resources=resources, raise_on_error=False)

    assert run().success
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as db:
        runs = db.execute("SELECT count(*) FROM core.ci_runs").fetchone()
        db.execute("DELETE FROM raw.workflow_runs WHERE key <> (SELECT min(key) FROM raw.workflow_runs)")
    for _ in range(2):  # the hourly load runs again: the shrink must still be refused
        again = run()
        assert not again.success
        assert AssetKey("core_ci_runs") not in {e.asset_key for e in again.get_asset_materialization_events()}
        assert runs is not None
        with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as db:
            assert db.execute("SELECT count(*) FROM core.ci_runs").fetchone() == runs
    assert run(accept_row_drop=True).success  # removed on purpose: accepted once, by configuration
    assert run().success  # and the accepted count is the new reference
