"""Schedules that keep the warehouse fresh: ingestion hourly, features and models daily."""

from dagster import (
    AssetSelection,
    Backoff,
    Jitter,
    RetryPolicy,
    RunRequest,
    ScheduleEvaluationContext,
    SkipReason,
    define_asset_job,
    schedule,
)

from pipelines.defs.ingestion import INGEST_GROUP
from pipelines.defs.partitions import repository_partitions
from pipelines.defs.readers import READERS_GROUP

ingest_job = define_asset_job(
    "ingest_repositories",
    selection=AssetSelection.groups(INGEST_GROUP),
    partitions_def=repository_partitions,
    description="Fetch every stream of one repository partition into the landing zone.",
    # A scheduled sync outlasts a GitHub outage: GithubRetry handles seconds, this handles minutes.
    op_retry_policy=RetryPolicy(
        max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
    ),
)

refresh_job = define_asset_job(
    "refresh_warehouse",
    selection=AssetSelection.groups("warehouse", "marts", "features", READERS_GROUP),
    description="Load what landed, rebuild core, marts and features (with their blocking checks), "
    "then the reader copy.",
)


models_job = define_asset_job(
    "train_models",
    # not the reader copy: the next hourly refresh copies the same features
    selection=AssetSelection.groups("features", "ml"),
    description="Rebuild the features, train and judge a candidate, promote it if the gate passes.",
    # one retry: training is deterministic, so only a crash (not a refusal) is worth repeating
    op_retry_policy=RetryPolicy(max_retries=1, delay=300),
)

exports_job = define_asset_job(
    "export_and_publish",
    selection=AssetSelection.groups("exports"),
    description="Write the exports the actions read and publish them for workflow steps.",
    op_retry_policy=RetryPolicy(
        max_retries=3, delay=60, backoff=Backoff.EXPONENTIAL, jitter=Jitter.PLUS_MINUS
    ),
)


@schedule(cron_schedule="5 * * * *", job=ingest_job, execution_timezone="UTC")
def hourly_ingestion(context: ScheduleEvaluationContext) -> list[RunRequest] | SkipReason:
    """Every hour, one incremental ingestion run per repository partition.

    A run key per hour and repository makes a re-evaluated tick idempotent; the ``github_api``
    pool bounds how many of them talk to GitHub at once.
    """
    repos = context.instance.get_dynamic_partitions(repository_partitions.name or "repository")
    if not repos:
        return SkipReason("no repository partitions yet (the repositories sensor adds them)")
    tick = context.scheduled_execution_time.strftime("%Y-%m-%dT%H")
    return [RunRequest(run_key=f"{repo}@{tick}", partition_key=repo) for repo in repos]


@schedule(cron_schedule="35 * * * *", job=refresh_job, execution_timezone="UTC")
def hourly_warehouse_load(context: ScheduleEvaluationContext) -> RunRequest:
    """Half an hour after ingestion, load the landing zone and rebuild what depends on it."""
    return RunRequest(run_key=context.scheduled_execution_time.strftime("%Y-%m-%dT%H"))


@schedule(cron_schedule="15 3 * * *", job=models_job, execution_timezone="UTC")
def daily_models(context: ScheduleEvaluationContext) -> RunRequest:
    """Every night at 03:15 UTC, after that hour's load: features, a candidate model, the gate."""
    return RunRequest(run_key=context.scheduled_execution_time.strftime("%Y-%m-%d"))


@schedule(cron_schedule="45 4 * * *", job=exports_job, execution_timezone="UTC")
def daily_exports(context: ScheduleEvaluationContext) -> RunRequest:
    """Every day at 04:45 UTC, after the night's training, export and publish even if nothing was promoted.

    The promotion sensor alone would leave the reviewer workloads, activity, re-run priors and run
    scores the actions read as old as the last promotion: a refused candidate keeps the model in
    service, not the knowledge of the organisation. The current model is exported again unchanged.
    """
    return RunRequest(run_key=context.scheduled_execution_time.strftime("%Y-%m-%d"))
