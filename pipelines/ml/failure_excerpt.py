"""How well :func:`actions.healing.logs.find_failure_excerpt` finds the lines that explain a failure.

Judged on the cidiff breakages (``failure-text/cidiff-breakages``): each case is a failing log
with a ``groundtruth`` file listing the error (``E``) and context (``C``) line ranges a person
marked. Lines are numbered from 1 after splitting on CR LF, CR and LF, as the
dataset's tool (Java's ``String.lines``) numbers them. Per case: whether the excerpt holds at
least one error line (``hit``), the share of its lines that are error or context lines
(``precision``), the share of error lines it covers (``recall``; error ranges can span thousands
of stack-trace lines, so this is small by design of the bound), and its size.
"""

from __future__ import annotations

import json
import re
import statistics
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from actions.healing.logs import MAX_EXCERPT_LINES, find_failure_excerpt, split_lines

_RANGE = re.compile(r"^([EC])\s+(\d+)(?:-(\d+))?\s*$")


@dataclass(frozen=True)
class GroundTruth:
    """Marked lines of one case (1-based) and the log format the dataset names."""

    fmt: str
    error: frozenset[int]
    context: frozenset[int]


def read_groundtruth(path: Path) -> GroundTruth:
    """Parse a cidiff ``groundtruth`` file (first line the format, then ``E a-b`` / ``C n`` lines)."""
    rows = [row.strip() for row in path.read_text(encoding="utf-8").splitlines() if row.strip()]
    if not rows:
        raise ValueError(f"{path}: empty groundtruth")
    error: set[int] = set()
    context: set[int] = set()
    for row in rows[1:]:
        match = _RANGE.match(row)
        if not match:
            raise ValueError(f"{path}: cannot read groundtruth line {row!r}")
        start = int(match.group(2))
        end = int(match.group(3) or start)
        (error if match.group(1) == "E" else context).update(range(start, end + 1))
    return GroundTruth(rows[0], frozenset(error), frozenset(context))


@dataclass(frozen=True)
class CaseResult:
    """The excerpt's quality on one case."""

    case: str
    fmt: str
    log_lines: int
    excerpt_lines: int
    excerpt_chars: int
    hit: bool
    precision: float
    recall: float
    seconds: float


def judge_case(case_dir: Path, max_lines: int = MAX_EXCERPT_LINES) -> CaseResult:
    """Extract the excerpt of ``case_dir/fail.log`` and compare it with ``groundtruth``."""
    truth = read_groundtruth(case_dir / "groundtruth")
    text = (case_dir / "fail.log").read_text(encoding="utf-8", errors="replace")
    started = time.perf_counter()
    lines = split_lines(text)
    excerpt = find_failure_excerpt(lines, max_lines=max_lines)
    seconds = time.perf_counter() - started
    numbers = {line.number for line in excerpt.lines}
    relevant = truth.error | truth.context
    return CaseResult(
        case=case_dir.name,
        fmt=truth.fmt,
        log_lines=len(lines),
        excerpt_lines=len(numbers),
        excerpt_chars=len(excerpt.text),
        hit=bool(numbers & truth.error),
        precision=len(numbers & relevant) / len(numbers) if numbers else 0.0,
        recall=len(numbers & truth.error) / len(truth.error) if truth.error else 0.0,
        seconds=seconds,
    )


def run_excerpt_benchmark(data: Path, json_path: Path | None = None) -> dict[str, Any]:
    """Judge every case under ``data``, print the summary and optionally write it as JSON."""
    cases = sorted(path for path in data.iterdir() if (path / "groundtruth").is_file())
    if not cases:
        raise ValueError(f"{data}: no case directories with a groundtruth file")
    results = [judge_case(case) for case in cases]
    report: dict[str, Any] = {
        "cases": len(results),
        "hit_rate": sum(result.hit for result in results) / len(results),
        "mean_precision": statistics.fmean(result.precision for result in results),
        "mean_recall": statistics.fmean(result.recall for result in results),
        "median_excerpt_lines": statistics.median(result.excerpt_lines for result in results),
        "max_excerpt_lines": max(result.excerpt_lines for result in results),
        "median_excerpt_chars": statistics.median(result.excerpt_chars for result in results),
        "median_log_lines": statistics.median(result.log_lines for result in results),
        "max_seconds": max(result.seconds for result in results),
        "per_case": [asdict(result) for result in results],
    }
    print(f"failure excerpt on {report['cases']} cidiff cases")
    print(f"  hit rate (excerpt holds an error line): {report['hit_rate']:.3f}")
    print(f"  mean precision (lines marked E or C):  {report['mean_precision']:.3f}")
    print(f"  mean recall of error lines:            {report['mean_recall']:.3f}")
    print(
        f"  excerpt lines: median {report['median_excerpt_lines']}, max {report['max_excerpt_lines']} "
        f"(logs: median {report['median_log_lines']} lines)"
    )
    for result in results:
        if not result.hit:
            print(f"  miss: {result.case} ({result.fmt}, {result.log_lines} lines)")
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report
