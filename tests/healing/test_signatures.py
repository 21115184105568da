"""Failure signatures, the persistence policy, and the signatures' history the exports carry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from actions.common.schemas import problems
from actions.healing.config import SelfHealingConfig
from actions.healing.policy import RetryPrior
from actions.healing.priors import PriorTable
from actions.healing.signatures import SIGNATURE_LENGTH, normalise, persistent, signature
from pipelines.exports.build import rerun_priors_from_warehouse
from pipelines.ml.failure_text import CLASS_INDEX, Example, earlier_occurrences, with_persistence
from tests.healing.rerun_warehouse import Attempt, Run, build_rerun_warehouse
from warehouse.db import connect
from warehouse.frames import read_query

MOJO_A = (
    "t/https.t ........ \x1b[31mConnection error: Connect timeout at t/https.t line 12.\x1b[0m\n"
    "# Looks like your test exited with 255 just after 3.\n"
    "Build 4511 at /home/travis/build/sjdy521/Mojo-Webqq/lib/Mojo/Webqq.pm line 88, commit 3f2a9c1d7e"
)
MOJO_B = (
    "t/https.t ........ Connection error: Connect timeout at t/https.t line 14.\n"
    "#   Looks like your test exited with 255 just after 4.\n"
    "Build 5023 at /tmp/build-77/checkout/lib/Mojo/Webqq.pm line 91, commit 0b81ce44aa12"
)


def test_the_same_failure_in_two_builds_has_one_signature() -> None:
    assert signature(MOJO_A) == signature(MOJO_B)
    assert len(signature(MOJO_A)) == SIGNATURE_LENGTH and signature(MOJO_A) == signature(MOJO_A)
    assert "…/webqq.pm line 0" in normalise(MOJO_A) and "commit #" in normalise(MOJO_A)
    stamped = [
        f"2026-11-0{day}T10:1{day}:00.1234567Z curl: (28) Operation timed out after 3000{day} ms"
        for day in (1, 2)
    ]
    assert signature(stamped[0]) == signature(stamped[1])
    urls = [f"GET https://registry.npmjs.org/left-pad/-/left-pad-1.{n}.tgz failed: 503" for n in (2, 3)]
    assert signature(urls[0]) == signature(urls[1])


def test_different_failures_have_different_signatures() -> None:
    others = [
        MOJO_A.replace("Connect timeout", "Connection refused"),
        MOJO_A.replace("t/https.t", "t/http.t"),
        "FAILED tests/test_api.py::test_total - AssertionError: assert 1 == 2",
        "npm ERR! notarget No matching version found for left-pad@9.9.9",
        "",
    ]
    assert len({signature(text) for text in [MOJO_A, *others]}) == len(others) + 1


def test_persistence_applies_to_transient_failures_only() -> None:
    assert persistent("transient", 2, 2) and persistent("transient", 5, 1)
    assert not persistent("transient", 1, 2)
    assert not persistent("dependency", 9, 2) and not persistent("permanent", 9, 2)
    assert not persistent("transient", 9, 0) and not persistent("transient", 9, None)


def test_the_benchmark_counts_earlier_builds_of_the_same_repository() -> None:
    def chunk(source: str, build: int, text: str) -> Example:
        return Example(text, "permanent", source, "high", f"Perl/{source}/failed/{build}.log")

    examples = [
        chunk("o/mojo", 300, MOJO_B),
        chunk("o/mojo", 100, MOJO_A),
        chunk("o/mojo", 200, MOJO_A),
        chunk("o/mojo", 200, MOJO_A),  # a second chunk of build 200: not earlier than itself
        chunk("o/other", 50, MOJO_A),  # another repository's history does not count
        chunk("o/mojo", 400, "error: could not compile `foo`"),
    ]
    counts, how = earlier_occurrences(examples, [example.text for example in examples])
    assert counts.tolist() == [3, 0, 1, 1, 0, 0] and how == "build id from the log column"
    unordered = [Example(e.text, e.label, e.source, e.confidence) for e in examples]
    counts, how = earlier_occurrences(unordered, [example.text for example in unordered])
    assert counts.tolist() == [0, 1, 2, 3, 0, 0] and how.startswith("row order")

    t, d, p = (CLASS_INDEX[c] for c in ("transient", "dependency", "permanent"))
    predicted = np.array([t, t, d, p, t], dtype=np.int64)
    earlier = np.array([2, 1, 5, 5, 0], dtype=np.int64)
    assert with_persistence(predicted, earlier, 2).tolist() == [p, t, d, p, t]
    assert with_persistence(predicted, earlier, 1).tolist() == [p, p, d, p, t]
    assert with_persistence(predicted, earlier, None).tolist() == predicted.tolist()


def test_the_setting_is_validated() -> None:
    assert SelfHealingConfig().persistent_after == 2
    assert SelfHealingConfig.model_validate({"persistent_after": None}).persistent_after is None
    with pytest.raises(ValueError, match="persistent_after"):
        SelfHealingConfig.model_validate({"persistent_after": -1})
    with pytest.raises(ValueError, match="persistence_window_days"):
        SelfHealingConfig.model_validate({"persistence_window_days": 0})


START = datetime(2026, 9, 1, tzinfo=UTC)
TIMEOUT = (
    "curl: (28) Connection timed out after 30001 milliseconds",
    "Error: Process completed with exit code 28.",
)
OTHER = ("curl: (56) Recv failure: Connection reset by peer", "Error: Process completed with exit code 56.")


def _failed(
    head: str, day: float, *more: Attempt, lines: tuple[str, ...] = TIMEOUT, repo: str = "o/a"
) -> Run:
    return Run(repo, "CI", (Attempt("failure", lines=lines), *more), head, START + timedelta(days=day))


def test_the_export_sql_counts_runs_commits_and_failed_reruns(tmp_path: Path) -> None:
    runs = [
        _failed("c1", 0, Attempt("failure", lines=TIMEOUT)),  # re-run, failed again the same way
        _failed("c1", 1),
        _failed("c2", 2, Attempt("success")),  # re-run, passed
        _failed("c3", 3, Attempt("failure", lines=OTHER)),  # re-run, failed another way
        _failed("c4", 4, lines=OTHER),
        _failed("c5", 5, repo="o/b"),
        _failed("c0", -200),  # outside the 90 days before the newest failure
    ]
    path = build_rerun_warehouse(tmp_path / "warehouse.duckdb", runs)
    with connect(path) as conn:
        rows = read_query(conn, "exports/failure_signatures", {"days": 90, "max_commits": 2}).to_dicts()
        document = rerun_priors_from_warehouse(conn, None, generated_at=START + timedelta(days=10))
    by_key = {(row["repo"], row["signature"]): row for row in rows}
    assert set(by_key) == {
        ("o/a", signature("\n".join(TIMEOUT))),
        ("o/a", signature("\n".join(OTHER))),
        ("o/b", signature("\n".join(TIMEOUT))),
    }
    timeout = by_key[("o/a", signature("\n".join(TIMEOUT)))]
    assert (timeout["failed_runs"], timeout["commits"], timeout["reruns"], timeout["rerun_failures"]) == (
        4,
        3,
        3,
        1,
    )
    assert timeout["rerun_successes"] == 1  # c2's; c3's re-run failed another way
    assert timeout["first_seen"] == START + timedelta(minutes=1)
    assert timeout["last_seen"] == START + timedelta(days=3, minutes=1)
    assert [(c["head_sha"], c["runs"]) for c in timeout["recent_commits"]] == [("c3", 1), ("c2", 1)]
    other = by_key[("o/a", signature("\n".join(OTHER)))]
    assert (other["failed_runs"], other["commits"], other["reruns"], other["rerun_failures"]) == (2, 2, 0, 0)

    assert problems("rerun_priors", document) == []
    assert document["signatures"]["window_days"] == 90 and len(document["signatures"]["entries"]) == 3
    table = PriorTable(document)
    assert table.has_signatures
    timed_out = signature("\n".join(TIMEOUT))
    since = START - timedelta(days=30)
    later = table.recurrence("O/A", timed_out, head_sha="c9", before=START + timedelta(days=10), since=since)
    assert (later.commits, later.runs, later.first_seen, later.rerun_failures) == (
        3,
        4,
        START + timedelta(minutes=1),
        1,
    )
    same_commit = table.recurrence(
        "o/a", timed_out, head_sha="c1", before=START + timedelta(days=10), since=since
    )
    assert (same_commit.commits, same_commit.runs) == (2, 2)  # c1's own runs do not count
    early = table.recurrence("o/a", timed_out, head_sha="c9", before=START + timedelta(days=1), since=since)
    assert (early.commits, early.runs) == (1, 2)  # only what failed before; c1's two runs are one commit
    assert table.recurrence("o/a", "0" * 16, head_sha=None, before=START, since=since).runs == 0

    # the signature's own re-runs: 1 of 3 passed, shrunk towards the fallback by class_weight (2) re-runs
    fallback = RetryPrior(reruns=40, successes=36, smoothed_rate=0.9, failure_class="transient")
    own = table.signature_prior("O/A", timed_out, fallback)
    assert own is not None and (own.reruns, own.successes, own.failure_class) == (3, 1, "signature")
    assert own.rate == pytest.approx((1 + 2 * 0.9) / (3 + 2))
    unshrunk = table.signature_prior("o/a", timed_out, None)
    assert unshrunk is not None and unshrunk.rate == pytest.approx(1 / 3)
    assert table.signature_prior("o/a", signature("\n".join(OTHER)), fallback) is None  # never re-run
    assert table.signature_prior("o/a", "0" * 16, fallback) is None
    older = {
        **document,
        "signatures": {
            **document["signatures"],
            "entries": [
                {k: v for k, v in e.items() if k != "rerun_successes"}
                for e in document["signatures"]["entries"]
            ],
        },
    }
    assert problems("rerun_priors", older) == []  # documents written before the field stay valid
    assert PriorTable(older).signature_prior("o/a", timed_out, fallback) is None


def test_old_documents_without_signatures_stay_valid(tmp_path: Path) -> None:
    path = build_rerun_warehouse(tmp_path / "warehouse.duckdb", [_failed("c1", 0)])
    with connect(path) as conn:
        conn.execute("DROP TABLE features.failure_classes")
        document = rerun_priors_from_warehouse(conn, None, generated_at=START)
    assert "signatures" not in document and problems("rerun_priors", document) == []
    table = PriorTable(document)
    assert not table.has_signatures and not PriorTable(None).has_signatures
    assert table.recurrence("o/a", signature("x"), head_sha=None, before=START, since=START).runs == 0
