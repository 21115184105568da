"""Curated and FlakeRanker rules (actions.healing.rules) and classify_failure with rules alone."""

from __future__ import annotations

from pathlib import Path

import pytest

from actions.healing.classify import classify_failure
from actions.healing.rules import (
    CURATED_RULES,
    DEPENDENCY,
    PERMANENT,
    TRANSIENT,
    Rule,
    RuleError,
    decide_by_rules,
    load_flakeranker_rules,
    match_rules,
)
from tests.conftest import require_shared

CASES = [
    ("npm ERR! code ETIMEDOUT\nnpm ERR! network request to https://registry.npmjs.org/x failed", TRANSIENT),
    ("fatal: unable to access 'https://github.com/o/r/': Could not resolve host: github.com", TRANSIENT),
    ("error: RPC failed; curl 56 GnuTLS recv error (-9): Connection reset by peer", TRANSIENT),
    ("ERROR: HTTP error 503 while getting https://files.pythonhosted.org/packages/x.tar.gz", TRANSIENT),
    ("toomanyrequests: You have reached your pull rate limit.", TRANSIENT),
    ("##[error]The runner has received a shutdown signal.", TRANSIENT),
    ("OSError: [Errno 28] No space left on device", TRANSIENT),
    ("listen tcp 127.0.0.1:8080: bind: address already in use", TRANSIENT),
    ("ERROR: No matching distribution found for foo==9.9", DEPENDENCY),
    ("npm ERR! code ETARGET\nnpm ERR! notarget No matching version found for bar@^9.0.0.", DEPENDENCY),
    ("docker: Error response from daemon: manifest for img:abc123 not found: manifest unknown", DEPENDENCY),
    ("Error: Error acquiring the state lock", DEPENDENCY),
    ("npm ERR! code ERESOLVE\nnpm ERR! ERESOLVE unable to resolve dependency tree", PERMANENT),
    ("E   AssertionError: expected 200 but got 500", PERMANENT),
    ("src/app.ts(14,7): error TS2322: Type 'string' is not assignable to type 'number'.", PERMANENT),
    ("something completely different happened", PERMANENT),
    # Rules added after the error study of the failure-text benchmark (generic shapes, own wording).
    ("Error: An error occurred while installing GitVersion.", TRANSIENT),
    ("ghc: panic! (the 'impossible' happened)\n  (GHC version 8.6.5 for x86_64-unknown-linux)", TRANSIENT),
    ("FAIL: test_get (tests.test_client)\nrequest to https://httpbin.org/get timed out", TRANSIENT),
    ("HTTP/1.1 302 -> https://www.google.com/sorry/index?continue=https://www.google.com/", TRANSIENT),
    ("* Failure 404 Not Found\nerror: https://pkg.example.org/x86_64/foo-1.2.tar.gz not found", DEPENDENCY),
    (
        "error[E0599]: no method named `bar` found\n"
        "   --> /home/ci/.cargo/registry/src/index-1/foo-0.3.1/src/lib.rs:9:5",
        DEPENDENCY,
    ),
    (
        "Error: Cannot find module 'left-pad'\n    at Function.Module._resolveFilename (module.js:1:1)\n"
        "    at Object.<anonymous> (/ci/app/node_modules/some-lib/index.js:3:9)",
        DEPENDENCY,
    ),
    ("node_modules/@types/foo/index.d.ts(12,3): error TS2300: Duplicate identifier 'x'.", DEPENDENCY),
    # Shapes that looked retryable to the first rules but are not.
    ("src/styles.css\n  429:1  Unexpected missing newline at end of file", PERMANENT),
    ("helpers:rpc failed on line 88\nexpected ok, got {error, badarg}", PERMANENT),
    ('(error "No version of %s >= %S is available" package min-version)', PERMANENT),
    (
        "> Links\n  1. [L12] 404 https://example.org/gone\n  2. https://slow.example.org Net::ReadTimeout",
        PERMANENT,
    ),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_curated_rules_on_hand_written_lines(text: str, expected: str) -> None:
    assert decide_by_rules(match_rules(text, CURATED_RULES)) == expected


def test_rules_alone_result_shape() -> None:
    result = classify_failure("Step 3\nnpm ERR! code ECONNRESET\nnpm ERR! network socket hang up\n", None)
    assert result["category"] == TRANSIENT
    assert result["retryable"] is True
    assert result["source"] == "rules"
    assert "connection_reset" in result["matched_rules"]
    assert result["matched_lines"] == ["npm ERR! code ECONNRESET", "npm ERR! network socket hang up"]
    assert 0.0 < result["confidence"] <= 1.0
    assert "connection_reset" in result["reason"]


def test_unexplained_failure_is_permanent_with_marker_lines() -> None:
    log = "\n".join([f"step {i}" for i in range(100)] + ["Error: widget exploded", "exit code 2"])
    result = classify_failure(log, None)
    assert result["category"] == PERMANENT and not result["retryable"]
    assert result["matched_rules"] == []
    assert "Error: widget exploded" in result["matched_lines"]
    assert "no transient or dependency rule" in result["reason"]


def test_rule_round_trip_and_bad_patterns() -> None:
    rule = CURATED_RULES[0]
    assert Rule.from_dict(rule.as_dict()) == rule
    with pytest.raises(RuleError, match="invalid rule pattern"):
        Rule.from_dict({"name": "x", "pattern": "(unclosed", "category": TRANSIENT})
    with pytest.raises(RuleError, match="unknown category"):
        Rule.from_dict({"name": "x", "pattern": "a", "category": "flaky"})


def test_flakeranker_file_format(tmp_path: Path) -> None:
    path = tmp_path / "patterns.csv"
    path.write_text(
        "regex,group,category,comments\n"
        "(error|failed).*Connection refused,networking_issues,connection_refused,\n"
        "parse error.*,remote_resource_errors,external_file_invalid_format,\n"
        "(?m)wget \\$(\\n|.)*?missing URL,environment_variables,misconfigured_env_variable,\n"
        "\n"
        "(broken,networking_issues,connection_refused,\n"
    )
    rules, dropped = load_flakeranker_rules(path)
    assert [rule.category for rule in rules] == [TRANSIENT, PERMANENT]
    assert rules[1].pattern.startswith("(?m)")  # inline flag moved to the front
    assert len(dropped) == 2
    assert any("too broad" in reason for reason in dropped)
    path.write_text("a,b\n1,2\n")
    with pytest.raises(RuleError, match="columns"):
        load_flakeranker_rules(path)


def test_real_flakeranker_patterns_load() -> None:
    path = require_shared("failure-text/flakeranker-patterns/patterns.csv")
    rules, dropped = load_flakeranker_rules(path)
    assert len(rules) >= 45
    assert {rule.source for rule in rules} == {"flakeranker"}
    hits = match_rules("fatal: the remote end hung up unexpectedly", rules)
    assert decide_by_rules(hits) == TRANSIENT
    assert len(dropped) <= 5
