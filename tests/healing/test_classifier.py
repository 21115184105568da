"""The learned failure classifier: pure-Python scoring parity, artefact schema, fail-closed loading."""

from __future__ import annotations

import copy
import csv
import json
import random
import sys
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from actions.healing.classify import (
    DEFAULT_FEATURES,
    ClassifierError,
    analyze,
    classify_failure,
    excerpt_of,
    model_terms,
    normalise,
    predict_proba,
)
from actions.healing.rules import CATEGORIES, CURATED_RULES, PERMANENT, match_rules
from pipelines.ml import failure_text
from pipelines.ml.failure_text import (
    Example,
    fit_model,
    prepare,
    rule_set,
    to_artefact,
    train_failure_classifier,
)
from tests.conftest import require_shared

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((ROOT / "actions/schemas/failure_classifier.schema.json").read_text())

TEMPLATES = {
    "transient": [
        "npm ERR! network request to https://registry.npmjs.org/{w} failed, reason: socket hang up",
        "curl: (7) Failed to connect to {w}.example.org port 443: Connection timed out",
        "fatal: unable to access 'https://github.com/{w}/{w}/': Empty reply from server",
        "Get https://proxy.golang.org/{w}: dial tcp: i/o timeout",
    ],
    "dependency": [
        "ERROR: No matching distribution found for {w}==9.{n}",
        "npm ERR! notarget No matching version found for {w}@^{n}.0.0",
        "Unable to find a specification for `{w} (= {n}.0.0)` depended upon by `App`",
    ],
    "permanent": [
        "E   AssertionError: assert {n} == {m} in test_{w}",
        "src/{w}.ts({n},7): error TS2322: Type 'string' is not assignable to type 'number'.",
        "{w}.go:{n}: undefined: {w}Handler",
        "FAILED tests/test_{w}.py::test_{w} - KeyError: '{w}'",
        'Traceback (most recent call last):\n  File "{w}.py", line {n}\n'
        "NameError: name '{w}' is not defined",
    ],
}


def synthetic_examples(count: int, seed: int) -> list[Example]:
    rng = random.Random(seed)
    words = ["alpha", "beta", "gamma", "delta", "kappa", "omega", "sigma", "theta", "zeta", "lambda"]
    examples = []
    for i in range(count):
        label = rng.choice(["transient", "dependency", "permanent", "permanent"])
        text = rng.choice(TEMPLATES[label]).format(
            w=rng.choice(words), n=rng.randint(1, 99), m=rng.randint(1, 99)
        )
        examples.append(Example(text, label, f"repo{i % 7}", rng.choice(["high", "medium", "low"])))
    return examples


def _fit(examples: list[Example], rules: list[Any]) -> tuple[failure_text.FittedModel, dict[str, Any]]:
    data = prepare(examples, rules)
    model = fit_model(data, np.arange(len(examples), dtype=np.int64), c=4.0, scale=1.0, threshold=0.45)
    return model, to_artefact(model, rules, {"rows": len(examples)})


def test_pure_python_probabilities_equal_sklearn() -> None:
    rules = list(CURATED_RULES)
    model, artefact = _fit(synthetic_examples(120, seed=1), rules)
    artefact = json.loads(json.dumps(artefact))  # what the action reads back
    texts = [example.text for example in synthetic_examples(40, seed=2)]
    reference = model.proba_texts(texts, rules)
    ours = np.array([predict_proba(text, artefact) for text in texts])
    assert np.max(np.abs(ours - reference)) < 1e-9
    assert np.allclose(ours.sum(axis=1), 1.0)


def test_tfidf_equals_scikit_learn_vectorizer() -> None:
    """Term choice and idf match TfidfVectorizer(min_df, max_features) on the same analyser."""
    examples = synthetic_examples(80, seed=3)
    data = prepare(examples, list(CURATED_RULES))
    model = fit_model(data, np.arange(len(examples), dtype=np.int64), c=1.0, scale=1.0)
    texts = [example.text for example in examples]
    vectorizer = TfidfVectorizer(
        analyzer=lambda text: model_terms(text, match_rules(text, CURATED_RULES), DEFAULT_FEATURES),
        sublinear_tf=True,
        min_df=failure_text.MIN_DF,
        max_features=None,  # no ties to break: compare on the full min_df vocabulary
    )
    reference = vectorizer.fit_transform(texts)
    if len(model.terms) < failure_text.MAX_FEATURES:
        assert list(vectorizer.get_feature_names_out()) == [str(t) for t in model.terms]
        ours = model.transformer.transform(data.counts[:, model.columns])
        assert abs(ours - reference).max() < 1e-12


def test_artefact_validates_against_schema_and_classifies() -> None:
    _, artefact = _fit(synthetic_examples(120, seed=4), list(CURATED_RULES))
    artefact = json.loads(json.dumps(artefact))
    jsonschema.Draft202012Validator.check_schema(SCHEMA)
    jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(artefact)
    result = classify_failure(
        "npm ERR! network request to https://registry.npmjs.org/x failed, reason: socket hang up", artefact
    )
    assert set(result) == {
        "category",
        "confidence",
        "retryable",
        "matched_lines",
        "matched_rules",
        "reason",
        "source",
    }
    assert result["source"] == "rules+model"
    assert result["category"] in CATEGORIES
    assert result["retryable"] == (result["category"] != PERMANENT)
    assert 0.0 <= result["confidence"] <= 1.0
    plain = classify_failure("weird output nobody has seen", artefact)
    assert plain["source"] == "model"


def test_schema_rejects_a_broken_artefact() -> None:
    _, artefact = _fit(synthetic_examples(60, seed=5), list(CURATED_RULES))
    validator = jsonschema.Draft202012Validator(SCHEMA)
    broken = copy.deepcopy(artefact)
    del broken["idf"]
    assert list(validator.iter_errors(broken))
    broken = copy.deepcopy(artefact)
    broken["categories"] = ["permanent", "transient", "dependency"]
    assert list(validator.iter_errors(broken))


def test_rules_only_artefact_without_data() -> None:
    artefact = train_failure_classifier(None, None)
    jsonschema.Draft202012Validator(SCHEMA).validate(artefact)
    assert "coefficients" not in artefact
    result = classify_failure("Could not resolve host: github.com", artefact)
    assert result["source"] == "rules"
    assert result["category"] == "transient"


def test_artefact_of_another_version_is_refused() -> None:
    artefact = train_failure_classifier(None, None)
    with pytest.raises(ClassifierError, match="schema_version"):
        classify_failure("x", {**artefact, "schema_version": 2})
    _, model_artefact = _fit(synthetic_examples(60, seed=6), list(CURATED_RULES))
    model_artefact["intercepts"] = [0.0, 0.0]
    with pytest.raises(ClassifierError, match="intercept"):
        classify_failure("x", model_artefact)
    with pytest.raises(ClassifierError, match="rule"):
        classify_failure("x", {**artefact, "rules": [{"name": "r", "pattern": "(", "category": "transient"}]})


def test_normalise_reduces_numbers_hashes_and_urls() -> None:
    text = "\x1b[31mconnect ETIMEDOUT 104.16.3.35:443\x1b[0m at https://x.org/a?b=1 sha 4e8932e579d2e085"
    assert normalise(text) == "connect etimedout 0.0.0.0:0 at url sha hexid"


def test_paths_become_one_placeholder_when_asked() -> None:
    text = "at /home/travis/build/owner/repo/tests/libs/tap.lua:85 and C:\\Users\\ci\\src\\x.rs"
    assert normalise(text, paths=True) == "at path :0 and path"
    assert "tap.lua" in normalise(text)  # artefacts made before normalise_paths keep their paths


def test_rule_terms_follow_the_hits_and_the_artefact() -> None:
    text = "npm ERR! code ECONNRESET\nnpm ERR! network socket hang up"
    hits = match_rules(text, CURATED_RULES)
    terms = model_terms(text, hits, DEFAULT_FEATURES)
    assert "r:connection_reset" in terms and terms[: len(analyze(text))] == analyze(text)
    assert not any(
        term.startswith("r:") for term in model_terms(text, hits, {**DEFAULT_FEATURES, "rule_terms": False})
    )


def _sample_csv(tmp_path: Path, rows: int) -> Path:
    """A small sample of the real LogChunks CSV: every non-permanent row and some permanent ones."""
    source = require_shared("failure-text/logchunks/labelled_chunks.csv")
    csv.field_size_limit(sys.maxsize)
    with source.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        all_rows = list(reader)
    rng = random.Random(0)
    keep = [row for row in all_rows if row["label"] != "permanent"]
    keep += rng.sample([row for row in all_rows if row["label"] == "permanent"], rows - len(keep))
    path = tmp_path / "sample.csv"
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(keep)
    return path


def test_parity_on_real_chunks(tmp_path: Path) -> None:
    path = _sample_csv(tmp_path, 160)
    examples = failure_text.read_labelled(path)
    patterns = require_shared("failure-text/flakeranker-patterns/patterns.csv")
    rules, _ = rule_set(patterns)
    model, artefact = _fit(examples[::2], rules)
    artefact = json.loads(json.dumps(artefact))
    texts = [example.text for example in examples[1::2]]
    reference = model.proba_texts(texts, rules)
    ours = np.array([predict_proba(excerpt_of(text)[0], artefact) for text in texts])
    assert np.max(np.abs(ours - reference)) < 1e-9


def test_fast_f1_equals_scikit_learn() -> None:
    from sklearn.metrics import f1_score

    rng = np.random.default_rng(0)
    for _ in range(20):
        y = rng.integers(0, 3, 50)
        predicted = np.where(rng.random(50) < 0.6, y, rng.integers(0, 3, 50))
        expected = f1_score(y, predicted, labels=[0, 1, 2], average="macro", zero_division=0)
        assert failure_text.macro_f1(y, predicted) == pytest.approx(expected, abs=1e-12)
        expected_retry = f1_score(y != 2, predicted != 2, zero_division=0)
        assert failure_text.retry_f1(y, predicted) == pytest.approx(expected_retry, abs=1e-12)
    assert failure_text.retry_f1(np.array([2, 2]), np.array([2, 2])) == 0.0


def test_terms_of_one_repository_are_dropped_when_asked() -> None:
    """``min_repositories``: a term must occur in that many training repositories (rule terms stay)."""
    examples = [
        Example("ECONNRESET fetching luvit_only_module: no such host", "transient", "repoA", "high"),
        Example("ECONNRESET fetching luvit_only_module: no such host", "transient", "repoA", "high"),
        Example("ECONNRESET during download", "transient", "repoB", "high"),
        Example("assertion failed in widget", "permanent", "repoB", "high"),
        Example("assertion failed in gadget", "permanent", "repoC", "high"),
    ]
    data = prepare(examples, list(CURATED_RULES))
    everything = np.arange(len(examples), dtype=np.int64)
    spread = dict(
        zip(data.terms.tolist(), failure_text.repositories_per_term(data.counts, data.groups), strict=True)
    )
    assert spread["w:econnreset"] == 2 and spread["w:luvit_only_module"] == 1 and spread["w:failed"] == 2
    assert spread["r:dns"] == 1
    kept = {str(term) for term in data.terms[failure_text.fit_text(data, everything).columns]}
    assert "w:luvit_only_module" in kept  # in two texts: min_df alone keeps it
    strict = {
        str(term) for term in data.terms[failure_text.fit_text(data, everything, min_repositories=2).columns]
    }
    assert "w:luvit_only_module" not in strict and "w:econnreset" in strict
    assert "r:dns" in strict  # rule terms are not the repository's own words
    assert strict < kept
