"""How fast, and in how much memory, :func:`build_run_features` runs on a large synthetic history.

The build runs in a fresh child process (``spawn``) that reports its own peak resident set size
(``ru_maxrss``): ``tracemalloc`` cannot see Polars' native allocations, and the parent's peak would
include whatever it did before (generating the input, among others). The child reads the
synthetic input from a temporary Parquet file rather than receiving it pickled, so the figure is
not inflated by a serialised copy.
"""

from __future__ import annotations

import multiprocessing
import resource
import sys
import tempfile
import time
from multiprocessing.queues import Queue
from pathlib import Path

import polars as pl

from pipelines.features.runs import build_run_features
from pipelines.features.synthetic_runs import synthetic_run_inputs


def _rss_mib(maxrss: int) -> float:
    """``ru_maxrss`` in MiB: Linux reports KiB, macOS bytes."""
    return maxrss / (1024.0 * 1024.0) if sys.platform == "darwin" else maxrss / 1024.0


def _child(path: str, results: Queue[dict[str, float]]) -> None:
    """Load the input, build the features and report the time and this process's peaks."""
    runs = pl.read_parquet(path)
    loaded = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    features = build_run_features(runs)
    seconds = time.perf_counter() - started
    results.put(
        {
            "rows": float(features.height),
            "seconds": seconds,
            "peak_rss_mib": _rss_mib(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss),
            "loaded_rss_mib": _rss_mib(loaded),
            "features": float(features.width),
        }
    )


def benchmark_run_features(n_runs: int = 1_000_000, *, repos: int = 200, seed: int = 0) -> dict[str, float]:
    """Time the run-feature build on ``n_runs`` synthetic runs and measure its peak memory.

    Args:
        n_runs: number of synthetic run attempts.
        repos: number of repositories they are spread over.
        seed: seed of the synthetic generator.

    Returns:
        ``rows`` (rows built), ``seconds`` (wall time of ``build_run_features`` alone),
        ``peak_rss_mib`` (peak resident memory of the child process: interpreter, input frame
        and build), ``loaded_rss_mib`` (the child's peak before the build, i.e. with the input
        loaded), ``generate_seconds`` (time to generate the input) and ``features`` (output
        columns).

    Raises:
        RuntimeError: if the child process fails.
    """
    started = time.perf_counter()
    runs = synthetic_run_inputs(n_runs, repos=repos, seed=seed)
    generated = time.perf_counter() - started
    return {**benchmark_frame(runs), "generate_seconds": generated}


def benchmark_frame(runs: pl.DataFrame) -> dict[str, float]:
    """Time :func:`build_run_features` on ``runs`` in a fresh child process; see the module doc.

    Raises:
        RuntimeError: if the child process fails.
    """
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="repopilot-bench-") as tmp:
        path = Path(tmp) / "runs.parquet"
        runs.write_parquet(path)
        results: Queue[dict[str, float]] = context.Queue()
        child = context.Process(target=_child, args=(str(path), results))
        child.start()
        try:
            figures = results.get(timeout=3_600)
        finally:
            child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"benchmark child exited with {child.exitcode}")
    # the child's own ru_maxrss, not RUSAGE_CHILDREN: that is the largest peak of ANY child
    # this process ever waited for, which in a long-lived process need not be this one
    return figures


if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    for key, value in benchmark_run_features(n).items():
        print(f"{key}: {value:,.2f}")
