"""The code location loads, and the demo materialises every asset."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from dagster import AssetKey, DagsterInstance, Definitions

from pipelines import definitions
from pipelines.defs.resources import (
    RERUN_PRIORS_ENV,
    ExportsTargetResource,
    HistorySourceResource,
    WarehouseResource,
)
from pipelines.defs.runner import run_assets
from pipelines.sources.streams import RAW_TABLES, STREAMS
from tests.conftest import require_shared


def test_code_location_is_loadable() -> None:
    Definitions.validate_loadable(definitions.defs)
    keys = definitions.defs.resolve_all_asset_keys()
    assert {AssetKey(f"landed_{s}") for s in STREAMS} <= set(keys)
    assert {AssetKey(f"raw_{t}") for t in RAW_TABLES} <= set(keys)
    assert AssetKey("core_ci_runs") in keys


def test_landed_assets_are_partitioned_by_repository_and_pooled() -> None:
    graph = definitions.defs.resolve_asset_graph()
    node = graph.get(AssetKey("landed_pull_requests"))
    assert node.is_partitioned
    assert node.partitions_def is not None and node.partitions_def.name == "repository"  # type: ignore[attr-defined]
    assert definitions.defs.resolve_assets_def(AssetKey("landed_pull_requests")).node_def.pool == "github_api"  # type: ignore[attr-defined]


def test_run_on_snapshot_materialises_everything(devlake_dir: Path, home: Path) -> None:
    summary = run_assets(
        HistorySourceResource(source=f"snapshot:{devlake_dir}"),
        WarehouseResource(home=str(home)),
        instance=DagsterInstance.ephemeral(),
    )
    assert summary.repositories == ["panjf2000/ants", "test/repo"]
    assert summary.core_counts["pull_requests"] == 51
    assert summary.core_counts["ci_runs"] == 35
    assert not summary.synthetic
    with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
        states = conn.execute("SELECT count(*) FROM raw.sync_state").fetchone()
        sources = conn.execute("SELECT DISTINCT synthetic FROM raw.sources").fetchall()
    assert states is not None and states[0] == 2 * len(STREAMS)
    assert sources == [(False,)]


def test_select_runs_only_the_selection(devlake_dir: Path, home: Path) -> None:
    summary = run_assets(
        HistorySourceResource(source=f"snapshot:{devlake_dir}"),
        WarehouseResource(home=str(home)),
        select="landed_issues",
        instance=DagsterInstance.ephemeral(),
    )
    assert summary.materialized == ["landed_issues"]
    assert list((home / "landing" / "panjf2000__ants" / "issues").glob("*.json"))


def test_repository_sensor_adds_missing_partitions(devlake_dir: Path) -> None:
    from dagster import SensorResult, SkipReason, build_sensor_context

    from pipelines.defs.sensors import repository_partitions_sensor

    instance = DagsterInstance.ephemeral()
    history = HistorySourceResource(source=f"snapshot:{devlake_dir}")
    context = build_sensor_context(instance=instance, resources={"history": history})
    result = repository_partitions_sensor(context)
    assert isinstance(result, SensorResult)
    requests = result.dynamic_partitions_requests or []
    assert [list(r.partition_keys) for r in requests] == [["panjf2000/ants", "test/repo"]]  # type: ignore[union-attr]
    instance.add_dynamic_partitions("repository", ["panjf2000/ants", "test/repo"])
    again = repository_partitions_sensor(
        build_sensor_context(instance=instance, resources={"history": history})
    )
    assert isinstance(again, SkipReason)


def test_hourly_ingestion_requests_one_run_per_repository(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from dagster import RunRequest, SkipReason, build_schedule_context

    from pipelines.defs.schedules import hourly_ingestion, hourly_warehouse_load, ingest_job

    instance = DagsterInstance.local_temp(tempdir=str(tmp_path))
    when = datetime(2026, 11, 2, 10, 5, tzinfo=UTC)
    empty = hourly_ingestion(build_schedule_context(instance=instance, scheduled_execution_time=when))
    assert isinstance(empty, SkipReason)
    instance.add_dynamic_partitions("repository", ["a/one", "b/two"])
    requests = hourly_ingestion(build_schedule_context(instance=instance, scheduled_execution_time=when))
    assert isinstance(requests, list)
    assert [(r.partition_key, r.run_key) for r in requests] == [
        ("a/one", "a/one@2026-11-02T10"),
        ("b/two", "b/two@2026-11-02T10"),
    ]
    load = hourly_warehouse_load(build_schedule_context(instance=instance, scheduled_execution_time=when))
    assert isinstance(load, RunRequest) and load.run_key == "2026-11-02T10"
    assert ingest_job.op_retry_policy is not None and ingest_job.op_retry_policy.max_retries == 3


def test_models_daily_and_exports_after_each_promotion() -> None:
    from datetime import UTC, datetime

    from dagster import build_schedule_context
    from dagster._core.definitions.events import AssetMaterialization

    from pipelines.defs.schedules import daily_models
    from pipelines.defs.sensors import exports_after_promotion

    repository = definitions.defs.get_repository_def()
    assert {"train_models", "export_and_publish"} <= {job.name for job in repository.get_all_jobs()}
    models = definitions.defs.resolve_job_def("train_models")
    assert AssetKey("candidate_models") in models.asset_layer.executable_asset_keys
    exports = definitions.defs.resolve_job_def("export_and_publish")
    assert exports.asset_layer.executable_asset_keys == {AssetKey("exports"), AssetKey("published_exports")}

    context = build_schedule_context(scheduled_execution_time=datetime(2026, 11, 27, 3, 15, tzinfo=UTC))
    request = daily_models(context)
    assert request.run_key == "2026-11-27"  # type: ignore[union-attr]

    instance = DagsterInstance.ephemeral()
    instance.report_runless_asset_event(AssetMaterialization(asset_key="promoted_models"))
    from dagster import build_sensor_context

    sensor_context = build_sensor_context(instance=instance, definitions=definitions.defs)
    result = exports_after_promotion.evaluate_tick(sensor_context)
    assert len(result.run_requests or []) == 1
    again = exports_after_promotion.evaluate_tick(
        build_sensor_context(instance=instance, cursor=sensor_context.cursor, definitions=definitions.defs)
    )
    assert not again.run_requests  # the same promotion is exported once


def test_exports_are_refreshed_daily_without_a_promotion() -> None:
    """Reviewer workloads, activity and re-run priors must not wait for the next promoted model."""
    from datetime import UTC, datetime

    from dagster import build_schedule_context

    from pipelines.defs.schedules import daily_exports

    schedule = definitions.defs.get_schedule_def("daily_exports")
    assert schedule.job_name == "export_and_publish"
    context = build_schedule_context(scheduled_execution_time=datetime(2026, 11, 27, 4, 45, tzinfo=UTC))
    request = daily_exports(context)
    assert request.run_key == "2026-11-27"  # type: ignore[union-attr]


def test_rerun_priors_folder_comes_from_the_environment_through_the_exports_resource(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(RERUN_PRIORS_ENV, str(tmp_path))
    resource = definitions.build_definitions().resources["exports_target"]
    assert isinstance(resource, ExportsTargetResource) and resource.rerun_priors_path() == tmp_path
    monkeypatch.delenv(RERUN_PRIORS_ENV)
    unset = definitions.build_definitions().resources["exports_target"]
    assert isinstance(unset, ExportsTargetResource) and unset.rerun_priors_path() is None
    given = ExportsTargetResource(rerun_priors=str(tmp_path / "other"))  # run configuration wins
    assert definitions.build_definitions(exports_target=given).resources["exports_target"] is given


@pytest.mark.timeout(900)  # the first test asking for the demo home builds it (the whole pipeline)
def test_exports_blend_the_configured_public_priors(
    demo_home: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The exports asset, run again on the demo's warehouse with REPOPILOT_RERUN_PRIORS set, reads it."""
    from actions.common.exports import verify

    folder = require_shared("gha-reruns")
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy2(demo_home / "warehouse.duckdb", home / "warehouse.duckdb")
    shutil.copytree(demo_home / "models", home / "models", symlinks=True)
    monkeypatch.setenv(RERUN_PRIORS_ENV, str(folder))
    run_assets(
        HistorySourceResource(source="sample"),
        WarehouseResource(home=str(home)),
        select="exports",
        instance=DagsterInstance.ephemeral(),
    )
    blended = verify(home / "exports").json("rerun_priors")
    plain = verify(demo_home / "exports").json("rerun_priors")
    assert plain["prior"]["source"] == "warehouse" and blended["prior"]["source"] == "gha-reruns"
    assert blended["prior"]["reruns"] > 10_000
    assert [(e["repo"], e["workflow"], e["failure_class"], e["reruns"]) for e in blended["entries"]] == [
        (e["repo"], e["workflow"], e["failure_class"], e["reruns"]) for e in plain["entries"]
    ]
    assert all(e["source"].endswith("gha-reruns") for e in blended["entries"])


# Assets given the warehouse resource only for its home folder (models, exports, the landing zone):
# they never open the DuckDB file, so they need not wait for its pool.
_HOME_PATH_ONLY = {"failure_classifier", "promoted_models", "published_exports"}


def test_every_asset_that_opens_the_warehouse_takes_its_pool() -> None:
    """A read-only open in one process and a writer in another refuse each other, readers included."""
    unpooled = []
    for assets_def in definitions.defs.resolve_asset_graph().assets_defs:
        if "warehouse" not in assets_def.required_resource_keys or not assets_def.keys:
            continue
        names = {key.to_user_string() for key in assets_def.keys}
        pool = assets_def.node_def.pool  # type: ignore[attr-defined]
        if all(name.startswith("landed_") for name in names):
            assert pool == "github_api", names
        elif not names <= _HOME_PATH_ONLY and pool != "warehouse_writer":
            unpooled.append(sorted(names))
    assert not unpooled, f"open the warehouse outside the warehouse_writer pool: {unpooled}"
    for name in ("candidate_models", "exports", "reader_warehouse", "run_features"):
        assert definitions.defs.resolve_assets_def(AssetKey(name)).node_def.pool == "warehouse_writer"  # type: ignore[attr-defined]
