"""Export assets: the files the actions read, written locally and published for workflow steps."""

from datetime import UTC, datetime

from dagster import AssetExecutionContext, AssetKey, MaterializeResult, MetadataValue, asset

from actions.common.exports import verify
from pipelines.defs.models import promoted_models
from pipelines.defs.partitions import WAREHOUSE_POOL
from pipelines.defs.quality import refuse_after_failed_checks
from pipelines.defs.resources import ExportsTargetResource, WarehouseResource
from pipelines.exports.build import build_exports
from pipelines.exports.publish import publish_exports

EXPORTS_GROUP = "exports"


@asset(
    group_name=EXPORTS_GROUP,
    deps=[
        promoted_models,
        AssetKey("reviewer_stats"),
        AssetKey("activity_by_hour"),
        AssetKey("failure_classes"),
        AssetKey("failure_classifier"),
        # read directly by the exports' SQL (recent run scores, re-run history, author history)
        AssetKey("run_features"),
        *(AssetKey(f"core_{t}") for t in ("ci_runs", "pull_requests", "reviews", "comments")),
    ],
    kinds={"json"},
    # it opens the warehouse: a read-only open and a writer in another process refuse each other
    pool=WAREHOUSE_POOL,
)
def exports(
    context: AssetExecutionContext, warehouse: WarehouseResource, exports_target: ExportsTargetResource
) -> MaterializeResult[None]:
    """``$REPOPILOT_HOME/exports``: what the actions read, each file checked against its JSON Schema.

    The manifest, the LightGBM text models, the feature specification, recent run scores, reviewer
    features, activity by hour of week, re-run priors by workflow and failure class, and the failure
    classifier when one was trained (``actions/schemas`` has their schemas).
    """
    refuse_after_failed_checks(context)
    with warehouse.connect(read_only=True) as conn:
        built = build_exports(
            conn,
            warehouse.home_path,
            generated_at=datetime.now(UTC),
            rerun_priors=exports_target.rerun_priors_path(),
        )
    manifest = built.manifest
    return MaterializeResult(
        metadata={
            "path": MetadataValue.path(str(built.root)),
            "schema_version": manifest["schema_version"],
            "model_version": built.model_version or "none promoted",
            "files": len(manifest["files"]),
            "synthetic": manifest["source"]["synthetic"],
            "manifest": MetadataValue.json(manifest),
        }
    )


@asset(group_name=EXPORTS_GROUP, deps=[exports], kinds={"github"})
def published_exports(
    context: AssetExecutionContext, warehouse: WarehouseResource, exports_target: ExportsTargetResource
) -> MaterializeResult[None]:
    """The exports on a branch of the organisation's repository, where the actions fetch them.

    Not configured (no ``REPOPILOT_EXPORTS_REPO``): nothing is published and the metadata says so.
    """
    target = exports_target.target()
    if target is None:
        context.log.info("exports not published: set REPOPILOT_EXPORTS_REPO to publish them")
        return MaterializeResult(metadata={"published": False, "reason": "REPOPILOT_EXPORTS_REPO is not set"})
    repository, branch = target
    result = publish_exports(
        verify(warehouse.home_path / "exports"), exports_target.client(), repository, branch
    )
    return MaterializeResult(
        metadata={
            "published": True,
            "location": f"github:{repository}@{branch}",
            "commit": result.commit,
            "changed": result.changed,
            "uploaded_files": result.uploaded,
            "files": result.files,
        }
    )


EXPORT_ASSETS = [exports, published_exports]
