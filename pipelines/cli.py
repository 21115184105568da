"""The ``repopilot`` command.

``repopilot run`` materialises every asset against ``$REPOPILOT_HOME`` (the demo, on the built-in
sample organisation unless a GitHub token and repositories are configured); ``repopilot ingest``
is its ingestion part; ``repopilot benchmark ingest`` measures the GitHub source's request cost;
``repopilot benchmark ci`` trains and judges the CI models on TravisTorrent history;
``repopilot benchmark routing`` ranks reviewers of real merged pull requests from earlier history;
``repopilot benchmark windows`` judges learned maintenance windows on pull request history.
``repopilot benchmark failure-text`` and ``failure-excerpt`` judge self-healing's failure classifier
and failure excerpt; ``repopilot benchmark actions`` times every action's process from start to exit.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from pipelines.sources.base import SourceError

INGEST_SELECTION = "group:github_ingest or group:warehouse or group:readers"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="repopilot", description=__doc__.split("\n\n")[0] if __doc__ else None
    )
    parser.add_argument("--home", help="data directory (default: $REPOPILOT_HOME or ./.repopilot)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every retry and wait")
    commands = parser.add_subparsers(dest="command", required=True)

    for name, helptext in (
        ("run", "materialise the selected assets (default: all) in process"),
        ("ingest", "fetch GitHub history and rebuild the raw and core tables"),
    ):
        command = commands.add_parser(name, help=helptext)
        command.add_argument(
            "--source",
            default=os.environ.get("REPOPILOT_SOURCE", ""),
            help="github | sample | sample:large | snapshot:DIR | travistorrent:PATH (default: "
            "$REPOPILOT_SOURCE, else github when GITHUB_TOKEN (or REPOPILOT_APP_ID) and REPOPILOT_REPOS "
            "are set, else the synthetic sample organisation)",
        )
        if name == "run":
            command.add_argument("--select", help="Dagster asset selection, e.g. 'group:github_ingest'")

    bench = commands.add_parser("benchmark", help="measure cost and speed")
    bench_kinds = bench.add_subparsers(dest="benchmark", required=True)
    ingest = bench_kinds.add_parser(
        "ingest", help="sync the large sample organisation through the API double"
    )
    ingest.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ingest.add_argument("--scale", choices=["benchmark", "default"], default="benchmark")
    features = bench_kinds.add_parser(
        "features", help="time the run-feature build (TravisTorrent, synthetic)"
    )
    features.add_argument("--travistorrent", type=Path, help="TravisTorrent-schema build table")
    features.add_argument("--runs", type=int, default=1_000_000, help="synthetic runs (default 1,000,000)")
    features.add_argument("--json", type=Path, help="also write the figures as JSON here")
    ci = bench_kinds.add_parser("ci", help="train and judge the CI failure/duration models (TravisTorrent)")
    ci.add_argument("--train", type=Path, help="training build table (with --test)")
    ci.add_argument("--test", type=Path, help="test build table; its features use only its own builds")
    ci.add_argument("--data", type=Path, help="one build table, split by --split")
    ci.add_argument("--split", choices=["time", "project"], default="time", help="how to split --data")
    ci.add_argument("--trials", type=int, default=25, help="Optuna trials (default 25)")
    ci.add_argument("--json", type=Path, help="also write the report as JSON here")
    ci.add_argument("--card", type=Path, help="also write the model card (markdown + SVG) into DIR")
    routing = bench_kinds.add_parser(
        "routing", help="rank the approvers of merged pull requests from earlier history (community-health)"
    )
    routing.add_argument("--data", type=Path, required=True, help="directory of per-team JSON files")
    routing.add_argument(
        "--as-of",
        choices=["merged", "created"],
        default="merged",
        help="routing instant: merge time (history = PRs merged earlier) or opening time (stricter)",
    )
    routing.add_argument("--teams", help="comma-separated team file names to replay (default: all)")
    routing.add_argument("--json", type=Path, help="also write the figures as JSON here")
    windows = bench_kinds.add_parser(
        "windows", help="learned maintenance windows against the fixed one (pullreqs-layout parquet)"
    )
    windows.add_argument("--data", type=Path, required=True, help="pullreqs-layout parquet file")
    windows.add_argument("--min-events", type=int, default=300, help="fewest events per repository")
    windows.add_argument("--no-tune", action="store_true", help="use the action's default parameters")
    windows.add_argument("--json", type=Path, help="also write the figures as JSON here")
    text = bench_kinds.add_parser(
        "failure-text", help="judge the failure classifier (transient/dependency/permanent) against the rules"
    )
    text.add_argument("--train", type=Path, help="labelled CSV (text, label[, source]) to train on")
    text.add_argument("--test", type=Path, help="labelled CSV to test on (with --train)")
    text.add_argument("--data", type=Path, help="one labelled CSV, grouped CV by source")
    text.add_argument("--patterns", type=Path, help="FlakeRanker patterns.csv to merge into the rules")
    text.add_argument("--folds", type=int, default=5, help="outer folds for --data (default 5)")
    text.add_argument("--bootstrap", type=int, default=1000, help="bootstrap replicates (default 1000)")
    text.add_argument("--json", type=Path, help="also write the report as JSON here")
    text.add_argument("--model-out", type=Path, help="also write the artefact trained on all rows")
    text.add_argument("--seed", type=int, default=0, help="seed of the folds and the bootstrap (default 0)")
    text.add_argument(
        "--model-rules",
        choices=("all", "flakeranker", "none"),
        default="all",
        help="rules the model reads: curated + FlakeRanker (shipped, default), FlakeRanker alone, none",
    )
    excerpt = bench_kinds.add_parser(
        "failure-excerpt", help="judge the failure excerpt against marked error lines (cidiff breakages)"
    )
    excerpt.add_argument("--data", type=Path, required=True, help="cases: fail.log + groundtruth")
    excerpt.add_argument("--json", type=Path, help="also write the report as JSON here")
    actions = bench_kinds.add_parser(
        "actions", help="time every action's whole process in dry run (1,000-person organisation, API double)"
    )
    actions.add_argument("--runs", type=int, default=5, help="processes timed per action (default 5)")
    actions.add_argument("--only", help="comma-separated actions to time (default: all seven)")
    actions.add_argument(
        "--people", type=int, default=1_000, help="people in the organisation (default 1,000)"
    )
    actions.add_argument("--issues", type=int, default=100_000, help="issues behind the activity export")
    actions.add_argument("--json", type=Path, help="also write the figures as JSON here")
    dashboard = bench_kinds.add_parser(
        "dashboard", help="time the dashboard's pages on the warehouse in --home"
    )
    dashboard.add_argument("--json", type=Path, help="also write the figures as JSON here")
    noise = bench_kinds.add_parser(
        "gate-noise",
        help="by test-window size: how often the promotion gate refuses an equal failure or duration "
        "candidate, and how often its baseline rule passes one no better than the baselines",
    )
    noise.add_argument(
        "--sims", type=int, default=300, help="simulated windows per size, bootstrap rules (default 300)"
    )
    noise.add_argument(
        "--point-sims", type=int, default=1_000, help="simulated windows per size, baseline rule (1000)"
    )
    noise.add_argument("--failure-rate", type=float, default=0.2, help="share of failing attempt groups")
    noise.add_argument(
        "--groups", help="comma-separated window sizes in attempt groups (default 10,20,30,50,100,200,400)"
    )
    noise.add_argument("--json", type=Path, help="also write the figures as JSON here")
    gate = bench_kinds.add_parser(
        "gate", help="train a candidate on the warehouse in --home and judge it against its current model"
    )
    gate.add_argument("--seed", type=int, default=1, help="the candidate's seed (default 1)")
    gate.add_argument("--trials", type=int, default=10, help="Optuna trials (default 10)")
    gate.add_argument("--train-fraction", type=float, default=0.8, help="split fraction (default 0.8)")
    gate.add_argument("--history", type=float, default=1.0, help="earliest share of runs used (default all)")
    gate.add_argument("--json", type=Path, help="also write the figures as JSON here")
    return parser


def _bench_ingest(args: argparse.Namespace) -> None:
    from pipelines.benchmarks import run_ingest_benchmark

    run_ingest_benchmark(scale=args.scale, json_path=args.json)


def _bench_features(args: argparse.Namespace) -> None:
    from pipelines.benchmarks import run_features_benchmark

    run_features_benchmark(args.travistorrent, args.runs, args.json)


def _bench_ci(args: argparse.Namespace) -> None:
    from pipelines.ml.benchmark import run_ci_benchmark

    run_ci_benchmark(
        train=args.train,
        test=args.test,
        data=args.data,
        split=args.split,
        json_path=args.json,
        trials=args.trials,
        card_dir=args.card,
    )


def _bench_routing(args: argparse.Namespace) -> None:
    from pipelines.benchmarks_routing import run_routing_benchmark

    teams = [name.strip() for name in args.teams.split(",") if name.strip()] if args.teams else None
    run_routing_benchmark(args.data, args.json, as_of=args.as_of, teams=teams)


def _bench_windows(args: argparse.Namespace) -> None:
    from pipelines.benchmarks_windows import run_windows_benchmark

    run_windows_benchmark(args.data, args.json, min_events=args.min_events, tune=not args.no_tune)


def _bench_failure_text(args: argparse.Namespace) -> None:
    from pipelines.ml.failure_text import run_failure_text_benchmark

    run_failure_text_benchmark(
        train=args.train,
        test=args.test,
        data=args.data,
        patterns=args.patterns,
        json_path=args.json,
        model_out=args.model_out,
        folds=args.folds,
        bootstrap=args.bootstrap,
        seed=args.seed,
        model_rules=args.model_rules,
    )


def _bench_failure_excerpt(args: argparse.Namespace) -> None:
    from pipelines.ml.failure_excerpt import run_excerpt_benchmark

    run_excerpt_benchmark(args.data, args.json)


def _bench_actions(args: argparse.Namespace) -> None:
    from pipelines.benchmarks_actions import run_actions_benchmark

    only = [name.strip() for name in args.only.split(",") if name.strip()] if args.only else []
    run_actions_benchmark(args.json, runs=args.runs, only=only, people=args.people, issues=args.issues)


def _bench_dashboard(args: argparse.Namespace) -> None:
    from dashboards.bench import run_dashboard_benchmark

    run_dashboard_benchmark(_home(args), args.json)


def _bench_gate_noise(args: argparse.Namespace) -> None:
    from pipelines.ml.gate_bench import GROUPS, run_gate_noise

    sizes = tuple(int(n) for n in args.groups.split(",") if n.strip()) if args.groups else GROUPS
    run_gate_noise(
        groups=sizes,
        sims=args.sims,
        point_sims=args.point_sims,
        failure_rate=args.failure_rate,
        json_path=args.json,
    )


def _bench_gate(args: argparse.Namespace) -> None:
    from pipelines.ml.gate_bench import run_gate_check

    run_gate_check(
        _home(args),
        seed=args.seed,
        trials=args.trials,
        train_fraction=args.train_fraction,
        history=args.history,
        json_path=args.json,
    )


def _home(args: argparse.Namespace) -> Path:
    return Path(args.home or os.environ.get("REPOPILOT_HOME") or ".repopilot").expanduser().resolve()


# imports stay inside the functions: each benchmark pulls in only what it measures
_BENCHMARKS: dict[str, Callable[[argparse.Namespace], None]] = {
    "ingest": _bench_ingest,
    "features": _bench_features,
    "ci": _bench_ci,
    "routing": _bench_routing,
    "windows": _bench_windows,
    "failure-text": _bench_failure_text,
    "failure-excerpt": _bench_failure_excerpt,
    "actions": _bench_actions,
    "dashboard": _bench_dashboard,
    "gate-noise": _bench_gate_noise,
    "gate": _bench_gate,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit status."""
    args = _parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    if not args.verbose:
        # urllib3 repeats each retry that repopilot.github already reports with its wait and reason
        logging.getLogger("urllib3.connectionpool").setLevel(logging.ERROR)
    home = _home(args)
    try:
        if args.command == "benchmark":
            _BENCHMARKS[args.benchmark](args)
            return 0
        return _run(args, home)
    except (SourceError, ValueError) as exc:
        print(f"repopilot: error: {exc}", file=sys.stderr)
        return 2


def _run(args: argparse.Namespace, home: Path) -> int:
    from pipelines.defs.resources import HistorySourceResource, WarehouseResource
    from pipelines.defs.runner import RunFailedError, run_assets
    from warehouse.reader import READER_FILE

    select = INGEST_SELECTION if args.command == "ingest" else args.select
    history = HistorySourceResource(source=args.source)
    warehouse = WarehouseResource(home=str(home))
    try:
        summary = run_assets(history, warehouse, select, verbose=args.verbose)
    except RunFailedError as exc:
        print(f"repopilot: error: {exc}", file=sys.stderr)
        return 1
    label = f"{summary.source}" + ("  [SYNTHETIC DATA]" if summary.synthetic else "")
    print(f"source:       {label}")
    print(f"repositories: {', '.join(summary.repositories) or '(none: the table is loaded as a whole)'}")
    print(f"assets:       {len(summary.materialized)} materialised")
    print("core tables:")
    for table, count in summary.core_counts.items():
        print(f"  core.{table:<27} {count:>9,} rows")
    if summary.derived_counts:
        print("marts and features:")
        for name, count in summary.derived_counts.items():
            print(f"  {name:<32} {count:>9,} rows")
    current = summary.warehouse.parent / "models" / "current" / "report.json"
    if current.exists():
        report = json.loads(current.read_text(encoding="utf-8"))
        caveat = "  (synthetic data: not a claim about model quality)" if summary.synthetic else ""
        print(
            f"models:       ROC-AUC {report['failure']['roc_auc']:.3f}, balanced accuracy "
            f"{report['failure']['balanced_accuracy']:.3f} on the test window{caveat}"
        )
    for refusal in summary.refused:
        print(f"not promoted: {refusal}")
    print(f"warehouse:    {summary.warehouse}")
    reader = summary.warehouse.with_name(READER_FILE)
    if reader.exists():
        print(f"reader copy:  {reader} ({reader.stat().st_size / 1e6:,.1f} MB, what the dashboard reads)")
    print(
        "Dagster UI:   make ui   (or: DAGSTER_HOME="
        f"{summary.dagster_home} dagster dev -m pipelines.definitions)"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
