"""The repopilot code location: ``dagster dev -m pipelines.definitions``."""

from __future__ import annotations

from dagster import Definitions, EnvVar

from pipelines.defs.alerts import RunAlertsResource, freshness_alerts_sensor, slack_on_run_failure
from pipelines.defs.exports import EXPORT_ASSETS
from pipelines.defs.failures import failure_class_check, failure_classes
from pipelines.defs.features import FEATURE_ASSETS
from pipelines.defs.freshness import FreshnessSettings, freshness_checks, freshness_sensor
from pipelines.defs.ingestion import (
    core_tables,
    landed_assets,
    marts,
    raw_tables,
    raw_travis_builds,
)
from pipelines.defs.models import MODEL_ASSETS, MODEL_CHECKS
from pipelines.defs.quality import quality_checks
from pipelines.defs.readers import READER_ASSETS
from pipelines.defs.resources import (
    FAILURE_PATTERNS_ENV,
    FAILURE_TEXT_ENV,
    RERUN_PRIORS_ENV,
    ExportsTargetResource,
    FailureTextResource,
    HistorySourceResource,
    WarehouseResource,
)
from pipelines.defs.schedules import (
    daily_exports,
    daily_models,
    exports_job,
    hourly_ingestion,
    hourly_warehouse_load,
    ingest_job,
    models_job,
    refresh_job,
)
from pipelines.defs.sensors import exports_after_promotion, repository_partitions_sensor


def _optional(name: str) -> str:
    """An optional variable's value when the code location loads; empty when unset."""
    return EnvVar(name).get_value(default="") or ""


def build_definitions(
    history: HistorySourceResource | None = None,
    warehouse: WarehouseResource | None = None,
    exports_target: ExportsTargetResource | None = None,
    failure_text: FailureTextResource | None = None,
    freshness: FreshnessSettings | None = None,
) -> Definitions:
    """The code location, with resources that can be replaced (the CLI and tests do).

    The default exports resource takes ``rerun_priors`` from ``$REPOPILOT_RERUN_PRIORS`` when the code
    location loads (``EnvVar.get_value``: the variable is optional, and an ``EnvVar`` field fails
    the run when its variable is unset, dagster-io/dagster#16232). The failure-text resource takes
    ``labelled`` and ``patterns`` from ``$REPOPILOT_FAILURE_TEXT`` and ``$REPOPILOT_FAILURE_PATTERNS``
    the same way. ``freshness`` sets the deadlines of the freshness checks (``pipelines.defs.freshness``).
    """
    freshness_checked = freshness_checks(freshness)
    return Definitions(
        assets=[
            *landed_assets,
            raw_tables,
            raw_travis_builds,
            core_tables,
            marts,
            *FEATURE_ASSETS,
            failure_classes,
            *READER_ASSETS,
            *MODEL_ASSETS,
            *EXPORT_ASSETS,
        ],
        asset_checks=[*quality_checks(), failure_class_check, *MODEL_CHECKS, *freshness_checked],
        jobs=[ingest_job, refresh_job, models_job, exports_job],
        schedules=[hourly_ingestion, hourly_warehouse_load, daily_models, daily_exports],
        sensors=[
            repository_partitions_sensor,
            exports_after_promotion,
            freshness_sensor(freshness_checked, freshness),
            slack_on_run_failure,
            freshness_alerts_sensor(freshness_checked),
        ],
        resources={
            "history": history or HistorySourceResource(),
            "warehouse": warehouse or WarehouseResource(),
            "exports_target": exports_target
            or ExportsTargetResource(rerun_priors=_optional(RERUN_PRIORS_ENV)),
            "alerts": RunAlertsResource(),
            "failure_text": failure_text
            or FailureTextResource(
                labelled=_optional(FAILURE_TEXT_ENV), patterns=_optional(FAILURE_PATTERNS_ENV)
            ),
        },
    )


defs = build_definitions()
