"""``classify_failure``: transient, dependency or permanent, from a failure excerpt or a whole log.

Two layers, both shipped in one JSON artefact (``actions/schemas/failure_classifier.schema.json``):

* **rules** (:mod:`actions.healing.rules`): regexes that name the cause and give the matched lines;
* **model**: a multinomial logistic regression over TF-IDF word and character n-grams of the
  normalised excerpt (numbers, hashes, URLs and file paths as placeholders) and one term per rule
  that hit, plus the rules' scores as features, trained by
  :func:`pipelines.ml.failure_text.train_failure_classifier`. It is scored here in pure Python
  (the same :func:`analyze` that trained it, then the exported vocabulary, idf, coefficients and
  intercepts), so the action needs no scikit-learn; a parity test holds the probabilities to
  scikit-learn's within 1e-9.

With no artefact, or an artefact without a model (no labelled data), the curated rules decide
alone and the result says ``"source": "rules"``. With a model, ``thresholds.combine`` (chosen by
the training's inner cross-validation) says how the two decide together: ``model`` (the model,
fed the rules' scores), ``rules_first`` (a rule naming a retryable cause wins, else the model),
``both`` (retry only when the model and a rule agree) or ``rules``.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from actions.healing.logs import (
    MAX_EXCERPT_LINES,
    clean_line,
    excerpt_from_jobs,
    find_failure_excerpt,
    read_log_archive,
    split_lines,
    strip_ansi,
)
from actions.healing.rules import (
    CATEGORIES,
    CURATED_RULES,
    DEPENDENCY,
    PERMANENT,
    RETRYABLE,
    TRANSIENT,
    Rule,
    RuleError,
    RuleHit,
    decide_by_rules,
    match_rules,
    rule_scores,
)

SCHEMA_VERSION = 1
"""Version of the artefact layout this module understands; others are refused."""

DEFAULT_FEATURES: dict[str, Any] = {
    "head_chars": 1_500,
    "tail_chars": 4_500,
    "word_ngrams": [1, 2],
    "char_ngrams": [3, 5],
    "rule_feature_scale": 1.0,
    "normalise_paths": True,
    "rule_terms": True,
}
"""How text becomes features; stored in the artefact so that scoring repeats training exactly."""

RULE_FEATURES = ("rules_transient", "rules_dependency", "rules_permanent", "rules_retryable")
"""Names of the features appended after the vocabulary's, in this order."""

DEFAULT_RETRY_THRESHOLD = 0.5

_URL = re.compile(r"\b(?:https?|ftp|git|ssh)://\S+")
_PATH = re.compile(r"(?:\b[a-z]:)?(?:[\\/][\w.@+~-]+){2,}[\\/]?")
_HEX = re.compile(r"\b(?=[0-9a-f]*\d)(?=[0-9a-f]*[a-f])[0-9a-f]{7,}\b")
_NUMBER = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")
_WORD = re.compile(r"[a-z_][a-z0-9_]+")


class ClassifierError(ValueError):
    """An artefact that cannot be used (wrong schema version, inconsistent sizes)."""


def model_text(text: str, features: dict[str, Any] | None = None) -> str:
    """The part of the text the model reads: its head and its tail (failures end logs)."""
    config = features or DEFAULT_FEATURES
    head, tail = int(config["head_chars"]), int(config["tail_chars"])
    if len(text) > head + tail:
        text = text[:head] + "\n" + text[-tail:]
    return text


def normalise(text: str, paths: bool = False) -> str:
    """Lower case, no escape codes; URLs, hashes and numbers (and file paths) reduced to placeholders.

    Placeholders make ``connect ETIMEDOUT 104.16.3.35:443`` and ``... 151.101.0.1:443`` the same
    evidence, which is what lets the model carry over to repositories it has not seen. File paths
    (``/home/travis/build/owner/repo/src/x.lua``) name the repository, not the cause; artefacts made
    before ``normalise_paths`` existed keep their paths.
    """
    text = strip_ansi(text).lower()
    text = _URL.sub(" url ", text)
    if paths:
        text = _PATH.sub(" path ", text)
    text = _HEX.sub(" hexid ", text)
    text = _NUMBER.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def analyze(text: str, features: dict[str, Any] | None = None) -> list[str]:
    """Word n-grams (``w:``) and character n-grams (``c:``) of the normalised model text."""
    config = features or DEFAULT_FEATURES
    norm = normalise(model_text(text, config), bool(config.get("normalise_paths", False)))
    words = _WORD.findall(norm)
    low_w, high_w = (int(n) for n in config["word_ngrams"])
    low_c, high_c = (int(n) for n in config["char_ngrams"])
    terms: list[str] = []
    for n in range(low_w, high_w + 1):
        terms.extend("w:" + " ".join(words[i : i + n]) for i in range(len(words) - n + 1))
    for n in range(low_c, high_c + 1):
        terms.extend("c:" + norm[i : i + n] for i in range(len(norm) - n + 1))
    return terms


def model_terms(text: str, hits: Sequence[RuleHit], features: dict[str, Any] | None = None) -> list[str]:
    """The terms the model weighs: :func:`analyze`'s, plus one ``r:`` term per rule that hit.

    Rule terms let the model learn how far each rule is to be trusted, not only each category's sum.
    Artefacts made before ``rule_terms`` existed have no such terms.
    """
    config = features or DEFAULT_FEATURES
    terms = analyze(text, config)
    if config.get("rule_terms", False):
        terms.extend(dict.fromkeys("r:" + hit.rule.name for hit in hits))
    return terms


def rule_features(hits: Sequence[RuleHit], scale: float) -> list[float]:
    """The rules' evidence as model features (see :data:`RULE_FEATURES`)."""
    scores = rule_scores(hits)
    retryable = scores[TRANSIENT] + scores[DEPENDENCY]
    return [
        scale * math.log1p(scores[TRANSIENT]),
        scale * math.log1p(scores[DEPENDENCY]),
        scale * math.log1p(scores[PERMANENT]),
        scale * (1.0 if retryable > scores[PERMANENT] else 0.0),
    ]


def tfidf_vector(terms: Sequence[str], vocabulary: dict[str, int], idf: Sequence[float]) -> dict[int, float]:
    """Sparse l2-normalised TF-IDF with sublinear tf, as scikit-learn's ``TfidfVectorizer`` computes it."""
    counts = Counter(index for index in (vocabulary.get(term) for term in terms) if index is not None)
    weights = {index: (1.0 + math.log(count)) * idf[index] for index, count in counts.items()}
    norm = math.sqrt(sum(value * value for value in weights.values()))
    return {index: value / norm for index, value in weights.items()} if norm > 0 else {}


def _softmax(scores: Sequence[float]) -> list[float]:
    top = max(scores)
    exps = [math.exp(score - top) for score in scores]
    total = sum(exps)
    return [value / total for value in exps]


def rules_of(artefact: dict[str, Any] | None) -> list[Rule]:
    """The artefact's rules, or the curated ones when there is no artefact."""
    if artefact is None:
        return list(CURATED_RULES)
    try:
        return [Rule.from_dict(rule) for rule in artefact.get("rules", [])]
    except (KeyError, TypeError, RuleError) as exc:
        raise ClassifierError(f"failure classifier artefact has an unusable rule: {exc}") from exc


def check_artefact(artefact: dict[str, Any]) -> None:
    """Refuse an artefact this code does not understand (fail closed).

    Raises:
        ClassifierError: wrong schema version, unknown categories, or model arrays of the wrong size.
    """
    version = artefact.get("schema_version")
    if version != SCHEMA_VERSION:
        raise ClassifierError(
            f"failure classifier artefact has schema_version {version!r}; "
            f"this action understands {SCHEMA_VERSION}"
        )
    if list(artefact.get("categories", [])) != list(CATEGORIES):
        raise ClassifierError(f"failure classifier categories must be {list(CATEGORIES)}")
    if "coefficients" not in artefact:
        return
    width = len(artefact["vocabulary"]) + len(RULE_FEATURES)
    if len(artefact["idf"]) != len(artefact["vocabulary"]):
        raise ClassifierError("failure classifier: idf and vocabulary differ in length")
    if len(artefact["coefficients"]) != len(CATEGORIES) or any(
        len(row) != width for row in artefact["coefficients"]
    ):
        raise ClassifierError(f"failure classifier: coefficients must be {len(CATEGORIES)} rows of {width}")
    if len(artefact["intercepts"]) != len(CATEGORIES):
        raise ClassifierError("failure classifier: one intercept per category expected")


def predict_proba(text: str, artefact: dict[str, Any], hits: Sequence[RuleHit] | None = None) -> list[float]:
    """Probabilities of :data:`CATEGORIES` for ``text`` under the artefact's model."""
    features = artefact["features"]
    if hits is None:
        hits = match_rules(text, rules_of(artefact))
    vector = tfidf_vector(model_terms(text, hits, features), artefact["vocabulary"], artefact["idf"])
    extra = rule_features(hits, float(features["rule_feature_scale"]))
    offset = len(artefact["vocabulary"])
    scores = []
    for row, intercept in zip(artefact["coefficients"], artefact["intercepts"], strict=True):
        total = float(intercept)
        for index, value in vector.items():
            total += row[index] * value
        for position, value in enumerate(extra):
            total += row[offset + position] * value
        scores.append(total)
    return _softmax(scores)


def excerpt_of(text: str) -> tuple[str, list[str]]:
    """The excerpt to classify and its marker lines: a long log is cut to its failure excerpt first.

    Lines are cleaned either way (no timestamps or escape codes, at most ``MAX_LINE_CHARS`` each),
    which also bounds the time the rules' regexes can take.
    """
    lines = split_lines(text)
    if len(lines) <= MAX_EXCERPT_LINES:
        return "\n".join(clean_line(line) for line in lines), []
    excerpt = find_failure_excerpt(lines)
    return excerpt.text, excerpt.marker_lines


def classify_failure(excerpt_or_log: str, model: dict[str, Any] | None = None) -> dict[str, Any]:
    """Classify a failure as transient, dependency or permanent.

    Args:
        excerpt_or_log: the failure excerpt, or a whole job log (its excerpt is found first).
        model: the exported artefact (``failure_classifier.json``), or None for the curated rules alone.

    Returns:
        ``category``, ``confidence`` (the probability of the category; for rules alone, the share
        of the rule weight behind it), ``retryable``, ``matched_lines`` (the lines that explain the
        decision), ``matched_rules``, ``reason`` and ``source`` (``rules``, ``model`` or ``rules+model``).

    Raises:
        ClassifierError: the artefact is not one this code understands.
    """
    if model is not None:
        check_artefact(model)
    text, markers = excerpt_of(excerpt_or_log)
    hits = match_rules(text, rules_of(model))
    matched_rules = [hit.rule.name for hit in hits]
    rule_lines = list(dict.fromkeys(hit.line for hit in hits if hit.line))

    rules_category = decide_by_rules(hits)
    thresholds = model.get("thresholds", {}) if model is not None else {}
    how = str(thresholds.get("combine", "model"))
    if model is not None and "coefficients" in model and how != "rules":
        probabilities = dict(zip(CATEGORIES, predict_proba(text, model, hits), strict=True))
        retry_probability = probabilities[TRANSIENT] + probabilities[DEPENDENCY]
        threshold = float(thresholds.get("retry", DEFAULT_RETRY_THRESHOLD))
        if retry_probability >= threshold:
            category = TRANSIENT if probabilities[TRANSIENT] >= probabilities[DEPENDENCY] else DEPENDENCY
        else:
            category = PERMANENT
        model_says = f"model: {category} (retry p={retry_probability:.2f} vs threshold {threshold:.2f})"
        if how == "rules_first" and rules_category in RETRYABLE:
            category = rules_category  # a named retryable cause outranks the model
        elif how == "both" and rules_category not in RETRYABLE:
            category = PERMANENT  # retry only when a rule names a retryable cause too
        confidence = retry_probability if category in RETRYABLE else probabilities[PERMANENT]
        source = "rules+model" if hits else "model"
        agreeing = [hit for hit in hits if hit.rule.category == category]
        detail = ", ".join(dict.fromkeys(hit.rule.name for hit in agreeing)) or "no rule agrees"
        reason = f"{category} ({how}); {model_says}; rules: {rules_category} ({detail})"
        lines = [hit.line for hit in agreeing if hit.line] or rule_lines
    else:
        category = rules_category
        scores = rule_scores(hits)
        total = sum(scores.values())
        confidence = scores[category] / total if total > 0 else 0.5
        source = "rules"
        reason = (
            f"rules: {category} ({', '.join(h.rule.name for h in hits if h.rule.category == category)})"
            if scores[category] > 0
            else "rules: no transient or dependency rule matched, so the failure is taken as permanent"
        )
        lines = [hit.line for hit in hits if hit.rule.category == category and hit.line] or rule_lines

    if not lines:
        lines = markers or [line for line in split_lines(text) if line.strip()][-5:]
    return {
        "category": category,
        "confidence": round(float(confidence), 6),
        "retryable": category in RETRYABLE,
        "matched_lines": list(dict.fromkeys(lines))[:10],
        "matched_rules": matched_rules,
        "reason": reason,
        "source": source,
    }


def classify_log_archive(source: bytes | Path, model: dict[str, Any] | None = None) -> dict[str, Any]:
    """Classify a run from its log archive: the failed jobs' excerpt, then :func:`classify_failure`.

    Raises:
        LogArchiveError: the archive is malformed or too large.
        ClassifierError: the artefact is not one this code understands.
    """
    excerpt = excerpt_from_jobs(read_log_archive(source))
    return classify_failure(excerpt.text, model)
