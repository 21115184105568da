"""The learned failure classifier of self-healing: training, export, and ``benchmark failure-text``.

Data: a CSV with at least ``text`` and ``label`` (``transient`` / ``dependency`` / ``permanent``),
optionally ``source`` (the repository; used to group) and ``confidence`` (high / medium / low;
used to weight), like ``failure-text/logchunks/labelled_chunks.csv``.

Every text goes through the action's own path first (:func:`actions.healing.classify.excerpt_of`:
a long chunk is cut to its failure excerpt), then becomes TF-IDF word and character n-grams
(:func:`actions.healing.classify.analyze`) plus the rules' scores. The model is a class-weighted
multinomial logistic regression. Rows weigh by confidence (high 1, medium 0.75, low 0.5) and
copies of one text in one repository share their weight (1/sqrt(copies)), so that a repository
that failed forty times with the same message does not dominate.

Choices made inside the training data only, by grouped cross-validation over repositories: the
text terms (:data:`TERM_SETS`, and :data:`MIN_REPOSITORIES`: terms seen in at least that many
repositories), the regularisation ``C`` and the scale of the rule features (:data:`GRID`), the retry
threshold on P(transient) + P(dependency) (:data:`THRESHOLDS`), and how rules and model decide
together (:data:`COMBINES`). The benchmark wraps this in an outer grouped cross-validation
(``--data``) or a train/test pair (``--train/--test``): test rows are never seen by any choice.

Persistence (LogChunks' labelling rule 3, "persistence overrides surface wording"): a failure the
model calls transient whose signature (:func:`actions.healing.signatures.signature` of its excerpt)
failed at least ``k`` times in earlier builds of the same repository becomes permanent
(:func:`actions.healing.signatures.persistent`, the heal action's own policy; it never touches
dependency predictions, see that module). Each chunk's earlier occurrences are counted among the
chunks of its repository in the same file, in build order: the build id of the ``log`` column
(``Lang/owner@repo/failed/<build_id>.log``), else the row order (noted in the report). They use no
label, only what the action would find in the warehouse. ``k`` (:data:`PERSISTENCE`, off first) is
chosen by the inner cross-validation with the other settings; the model's figures include it and
``without_persistence_*`` gives the same model's figures without it. The baselines never get the
recurrence signal; ``curated_rules_with_persistence_*`` (not a baseline) is the shipped rules with
it, at the threshold each fold chose for the model, to show what the model adds beyond both.

Two baselines: ``rules_*`` is FlakeRanker's seeded patterns alone (what the issue calls "the
seeded rules alone"); ``curated_rules_*`` is the rule set the action ships (curated plus
FlakeRanker's). The curated rules were written and revised while studying errors on LogChunks, so
on LogChunks their figures (and those of any model that reads them) are optimistic. ``--model-rules``
gives the model all rules, FlakeRanker's alone, or none, to measure what each part carries.

What the inner cross-validation finds on LogChunks (67 repositories, the 61 retryable chunks in 19 of
them): the text alone carries next to nothing from one repository to another, so the model adds
nothing over the rules it reads and the inner folds mostly keep the rules' decision;
``benchmark failure-text`` reports the folds' choices.
"""

from __future__ import annotations

import csv
import json
import math
import re
import sys
import time
from bisect import bisect_left
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import sparse  # type: ignore[import-untyped]
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support
from sklearn.model_selection import StratifiedGroupKFold
from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from actions.healing.classify import (
    DEFAULT_FEATURES,
    RULE_FEATURES,
    SCHEMA_VERSION,
    classify_failure,
    excerpt_of,
    model_terms,
)
from actions.healing.rules import (
    CATEGORIES,
    CURATED_RULES,
    DEPENDENCY,
    PERMANENT,
    TRANSIENT,
    Rule,
    decide_by_rules,
    load_flakeranker_rules,
    match_rules,
    rule_scores,
)
from actions.healing.signatures import persistent, signature

GRID: tuple[tuple[float, float], ...] = tuple((c, s) for c in (0.25, 1.0, 4.0, 16.0) for s in (0.5, 2.0, 8.0))
"""(C, rule feature scale) pairs tried by the inner cross-validation. With one C for all features, a
large scale and a small C trust the rules and shrink the text features: the inner folds (unseen
repositories) decide how far the text carries over."""
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7)
"""Retry thresholds tried by the inner cross-validation."""
TERM_SETS = ("all", "words")
"""Text features tried by the inner cross-validation: all n-grams, or word unigrams alone (fewer,
more generic terms, which may carry better to unseen repositories)."""
MIN_REPOSITORIES = (1, 3)
"""Tried by the inner cross-validation: keep only terms seen in at least this many training
repositories. A term one repository repeats forty times (its module names, its test names) says
nothing about another repository; the inner folds judge whether dropping such terms helps."""
COMBINES = ("model", "rules_first", "both", "rules")
"""How rules and model make the decision, also chosen by the inner cross-validation: the model alone;
the rules when they name a retryable cause, else the model (``rules_first``); retry only when both
say so (``both``, the category from the model); the rules alone. See :func:`combine`."""
PERSISTENCE: tuple[int | None, ...] = (None, 1, 2, 3)
"""Persistence thresholds tried by the inner cross-validation (None: off; tried first, so it wins ties)."""
MAX_FEATURES = 20_000
MIN_DF = 2
CONFIDENCE_WEIGHTS = {"high": 1.0, "medium": 0.75, "low": 0.5}
OUTER_FOLDS = 5
INNER_FOLDS = 4
BOOTSTRAP = 1_000
CLASS_INDEX = {category: index for index, category in enumerate(CATEGORIES)}

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


@dataclass(frozen=True)
class Example:
    """One labelled failure text."""

    text: str
    label: str
    source: str
    confidence: str
    log: str = ""


def read_labelled(path: Path) -> list[Example]:
    """Rows of a labelled CSV (``text``, ``label``; ``source`` and ``confidence`` optional).

    Raises:
        ValueError: missing columns, an unknown label, or no rows.
    """
    csv.field_size_limit(sys.maxsize)  # LogChunks holds chunks of several hundred kB
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        columns = set(reader.fieldnames or [])
        if not {"text", "label"} <= columns:
            raise ValueError(f"{path}: needs the columns text and label (found: {sorted(columns)})")
        rows = []
        for number, row in enumerate(reader, 2):
            label = (row["label"] or "").strip().lower()
            if label not in CATEGORIES:
                raise ValueError(f"{path}:{number}: label {row['label']!r} is not one of {list(CATEGORIES)}")
            rows.append(
                Example(
                    row["text"] or "",
                    label,
                    (row.get("source") or "").strip() or f"row{number}",
                    (row.get("confidence") or "high").strip().lower(),
                    (row.get("log") or "").strip(),
                )
            )
    if not rows:
        raise ValueError(f"{path}: no rows")
    return rows


_BUILD_ID = re.compile(r"/(\d+)\.log$")


def build_order(examples: Sequence[Example]) -> tuple[list[int], str]:
    """A sort key per example in its repository's history, and how it was found.

    The build id of the ``log`` column (``Lang/owner@repo/failed/<build_id>.log``; Travis build
    ids grow with time) when every row has one, else the row order.
    """
    ids = [_BUILD_ID.search(example.log) for example in examples]
    if ids and all(match is not None for match in ids):
        return [int(match.group(1)) for match in ids if match is not None], "build id from the log column"
    return list(range(len(examples))), "row order (no build id in a log column)"


def earlier_occurrences(examples: Sequence[Example], excerpts: Sequence[str]) -> tuple[Ints, str]:
    """For each example, how many earlier builds of its repository failed with the same signature.

    Chunks of the same build (equal keys) do not count for each other. Returns the counts and how
    the order was found (see :func:`build_order`).
    """
    order, how = build_order(examples)
    keys = [(example.source, signature(text)) for example, text in zip(examples, excerpts, strict=True)]
    seen: dict[tuple[str, str], list[int]] = {}
    for key, position in zip(keys, order, strict=True):
        seen.setdefault(key, []).append(position)
    for positions in seen.values():
        positions.sort()
    counts = [bisect_left(seen[key], position) for key, position in zip(keys, order, strict=True)]
    return np.array(counts, dtype=np.int64), how


def persistence_mask(earlier: Ints, min_recurrences: int | None) -> npt.NDArray[np.bool_]:
    """``(3, n)``: whether :func:`persistent` holds for each category (row) and each count (column).

    Computed once per threshold so that tuning does not call the policy for every candidate.
    """
    return np.array(
        [[persistent(category, int(count), min_recurrences) for count in earlier] for category in CATEGORIES],
        dtype=bool,
    ).reshape(len(CATEGORIES), len(earlier))


def apply_persistence(predicted: Ints, mask: npt.NDArray[np.bool_]) -> Ints:
    """``predicted`` with the predictions that ``mask`` (:func:`persistence_mask`) marks made permanent."""
    changed = mask[predicted, np.arange(len(predicted))]
    return np.where(changed, CLASS_INDEX[PERMANENT], predicted).astype(np.int64)


def with_persistence(predicted: Ints, earlier: Ints, min_recurrences: int | None) -> Ints:
    """``predicted`` with the transient predictions of persistent failures made permanent."""
    return apply_persistence(predicted, persistence_mask(earlier, min_recurrences))


MODEL_RULES = ("all", "flakeranker", "none")
"""Rule sets the model may be given (``--model-rules``): the curated rules plus FlakeRanker's (what
the action ships), FlakeRanker's seeded patterns alone (the issue's design, with no rule written
while looking at LogChunks), or none (the text alone)."""


def rule_set(patterns_path: Path | None, which: str = "all") -> tuple[list[Rule], list[str]]:
    """The rules of ``which`` (see :data:`MODEL_RULES`), and the FlakeRanker patterns dropped.

    ``all``: the curated rules, plus FlakeRanker's when its ``patterns.csv`` is given.

    Raises:
        ValueError: an unknown ``which``.
    """
    if which not in MODEL_RULES:
        raise ValueError(f"unknown rule set {which!r}; expected one of {list(MODEL_RULES)}")
    rules = list(CURATED_RULES) if which == "all" else []
    dropped: list[str] = []
    if patterns_path is not None and which != "none":
        extra, dropped = load_flakeranker_rules(patterns_path)
        rules.extend(extra)
    return rules, dropped


def baseline_rule_sets(patterns_path: Path | None) -> dict[str, list[Rule]]:
    """The two baselines the model is judged against.

    ``rules``: FlakeRanker's seeded patterns alone (the issue's "seeded rules alone"; none without
    ``patterns.csv``, so everything is permanent). ``curated_rules``: the rule set the action ships
    (curated plus FlakeRanker's); the curated rules were written and revised while studying errors
    on LogChunks, so their figures on it are optimistic.
    """
    return {"rules": rule_set(patterns_path, "flakeranker")[0], "curated_rules": rule_set(patterns_path)[0]}


@dataclass
class Prepared:
    """The examples as the model sees them: analysed terms, rule scores, labels, weights, groups."""

    counts: sparse.csr_matrix  # (n, all terms) term counts; columns follow ``terms``
    terms: npt.NDArray[np.str_]  # every term of every text, sorted (as scikit-learn sorts a vocabulary)
    scores: Floats  # (n, 3) summed rule weights by category
    decisions: list[str]  # rules-alone category
    y: Ints
    weights: Floats
    groups: npt.NDArray[np.str_]
    excerpts: list[str]  # what the rules and the model read (for the baselines' rule sets)
    earlier: Ints  # earlier builds of the same repository with the same signature
    order: str = ""  # how the builds were ordered (see build_order)


def prepare(examples: Sequence[Example], rules: Sequence[Rule]) -> Prepared:
    """Run the action's excerpt, analyser and rules over the examples (once; folds reuse it).

    The term counts cover every text, test texts included; that is only an index: which terms a
    model uses, and their idf, come from its training rows alone (:func:`fit_model`).
    """
    analysed: list[list[str]] = []
    scores: list[list[float]] = []
    decisions: list[str] = []
    excerpts: list[str] = []
    for example in examples:
        text, _ = excerpt_of(example.text)
        excerpts.append(text)
        hits = match_rules(text, rules)
        analysed.append(model_terms(text, hits, DEFAULT_FEATURES))
        by_category = rule_scores(hits)
        scores.append([by_category[category] for category in CATEGORIES])
        decisions.append(decide_by_rules(hits))
    copies = Counter((example.source, example.text) for example in examples)
    weights = np.array(
        [
            CONFIDENCE_WEIGHTS.get(example.confidence, 1.0)
            / math.sqrt(copies[(example.source, example.text)])
            for example in examples
        ]
    )
    counter = CountVectorizer(analyzer=_identity)
    counts = counter.fit_transform(analysed).tocsr()
    earlier, order = earlier_occurrences(examples, excerpts)
    return Prepared(
        counts,
        counter.get_feature_names_out(),
        np.array(scores, dtype=np.float64).reshape(-1, len(CATEGORIES)),
        decisions,
        np.array([CLASS_INDEX[example.label] for example in examples], dtype=np.int64),
        weights,
        np.array([example.source for example in examples]),
        excerpts,
        earlier,
        order,
    )


def _identity(terms: list[str]) -> list[str]:
    return terms


def _rule_matrix(scores: Floats, scale: float) -> sparse.csr_matrix:
    rows = []
    for transient, dependency, permanent in scores:
        retryable = transient + dependency
        rows.append(
            [
                scale * math.log1p(transient),
                scale * math.log1p(dependency),
                scale * math.log1p(permanent),
                scale * (1.0 if retryable > permanent else 0.0),
            ]
        )
    return sparse.csr_matrix(np.array(rows, dtype=np.float64).reshape(-1, len(RULE_FEATURES)))


@dataclass
class FittedModel:
    """The chosen terms, their idf (scikit-learn's ``TfidfTransformer``) and the regression."""

    terms: npt.NDArray[np.str_]
    columns: Ints  # positions of ``terms`` in the prepared data's term index
    transformer: TfidfTransformer
    regression: LogisticRegression
    c: float
    scale: float
    threshold: float
    combine: str = "model"

    def matrix(self, counts: sparse.csr_matrix, scores: Floats) -> sparse.csr_matrix:
        """Feature rows from counts over ``terms``: TF-IDF then the rule features (the artefact's order)."""
        return sparse.hstack([self.transformer.transform(counts), _rule_matrix(scores, self.scale)]).tocsr()

    def proba(self, counts: sparse.csr_matrix, scores: Floats) -> Floats:
        """scikit-learn's probabilities, columns in :data:`CATEGORIES` order."""
        raw = self.regression.predict_proba(self.matrix(counts, scores))
        out = np.zeros((raw.shape[0], len(CATEGORIES)))
        for column, label in enumerate(self.regression.classes_):
            out[:, int(label)] = raw[:, column]
        return out

    def proba_rows(self, data: Prepared, rows: Ints) -> Floats:
        """Probabilities of prepared rows."""
        return self.proba(data.counts[rows][:, self.columns], data.scores[rows])

    def proba_texts(self, texts: Sequence[str], rules: Sequence[Rule]) -> Floats:
        """Probabilities of new texts through scikit-learn (the reference the action must match)."""
        counter = CountVectorizer(
            analyzer=_identity, vocabulary={str(t): i for i, t in enumerate(self.terms)}
        )
        excerpts = [excerpt_of(text)[0] for text in texts]
        hits = [match_rules(text, rules) for text in excerpts]
        counts = counter.transform(
            [model_terms(text, found, DEFAULT_FEATURES) for text, found in zip(excerpts, hits, strict=True)]
        )
        scores = []
        for found in hits:
            by_category = rule_scores(found)
            scores.append([by_category[category] for category in CATEGORIES])
        return self.proba(counts, np.array(scores, dtype=np.float64).reshape(-1, len(CATEGORIES)))


def repositories_per_term(counts: sparse.csr_matrix, groups: npt.NDArray[np.str_]) -> Ints:
    """How many distinct groups (repositories) each column's term occurs in."""
    names, codes = np.unique(groups, return_inverse=True)
    membership = sparse.csr_matrix(
        (np.ones(len(codes)), (codes, np.arange(len(codes)))), shape=(len(names), len(codes))
    )
    present = (membership @ (counts > 0).astype(np.float64)) > 0
    return np.asarray(present.sum(axis=0)).ravel().astype(np.int64)


def select_terms(counts: sparse.csr_matrix, allowed: npt.NDArray[np.bool_] | None = None) -> Ints:
    """Columns kept, as ``TfidfVectorizer(min_df=MIN_DF, max_features=MAX_FEATURES)`` keeps them.

    Terms in at least ``MIN_DF`` texts (and ``allowed``), then the ``MAX_FEATURES`` most frequent
    (ties by term order).
    """
    df = np.asarray((counts > 0).sum(axis=0)).ravel()
    total = np.asarray(counts.sum(axis=0)).ravel()
    keep = df >= MIN_DF
    if allowed is not None:
        keep &= allowed
    columns = np.flatnonzero(keep)
    if len(columns) > MAX_FEATURES:
        columns = np.sort(columns[np.lexsort((columns, -total[columns]))[:MAX_FEATURES]])
    return columns.astype(np.int64)


@dataclass
class TextFeatures:
    """Terms and idf fitted on some rows, with the TF-IDF rows of those rows."""

    columns: Ints
    transformer: TfidfTransformer
    matrix: sparse.csr_matrix


def fit_text(data: Prepared, index: Ints, term_set: str = "all", min_repositories: int = 1) -> TextFeatures:
    """Choose the terms and fit the idf on ``index`` only.

    Args:
        data: the prepared rows.
        index: the training rows.
        term_set: see :data:`TERM_SETS`.
        min_repositories: keep terms seen in at least this many repositories of ``index``
            (see :data:`MIN_REPOSITORIES`); rule terms (``r:``) are always kept.
    """
    counts = data.counts[index]
    allowed = None
    if term_set == "words":
        allowed = np.array(
            [
                term.startswith("r:") or (term.startswith("w:") and " " not in term)
                for term in data.terms.tolist()
            ]
        )
    if min_repositories > 1:
        rule_terms = np.char.startswith(data.terms.astype(str), "r:")
        spread = (repositories_per_term(counts, data.groups[index]) >= min_repositories) | rule_terms
        allowed = spread if allowed is None else allowed & spread
    columns = select_terms(counts, allowed)
    counts = counts[:, columns]
    transformer = TfidfTransformer(sublinear_tf=True, norm="l2", smooth_idf=True).fit(counts)
    return TextFeatures(columns, transformer, transformer.transform(counts))


def fit_model(
    data: Prepared,
    index: Ints,
    c: float,
    scale: float,
    threshold: float = 0.5,
    text: TextFeatures | None = None,
    combine: str = "model",
    term_set: str = "all",
    min_repositories: int = 1,
) -> FittedModel:
    """Fit the text features (unless given, fitted on the same rows) and the regression on ``index``."""
    text = text or fit_text(data, index, term_set, min_repositories)
    # newton-cg: exact multinomial fit in a few iterations (lbfgs needs ~20x longer here).
    regression = LogisticRegression(
        C=c, class_weight="balanced", solver="newton-cg", max_iter=1_000, tol=1e-6
    )
    terms = data.terms[text.columns]
    model = FittedModel(terms, text.columns, text.transformer, regression, c, scale, threshold, combine)
    features = sparse.hstack([text.matrix, _rule_matrix(data.scores[index], scale)]).tocsr()
    regression.fit(features, data.y[index], sample_weight=data.weights[index])
    return model


def decide(proba: Floats, threshold: float) -> Ints:
    """Category indices: retry when P(transient) + P(dependency) reaches the threshold."""
    t, d, p = CLASS_INDEX[TRANSIENT], CLASS_INDEX[DEPENDENCY], CLASS_INDEX[PERMANENT]
    retry = proba[:, t] + proba[:, d] >= threshold
    return np.where(retry, np.where(proba[:, t] >= proba[:, d], t, d), p).astype(np.int64)


def combine(proba: Floats, threshold: float, how: str, rules_pred: Ints) -> Ints:
    """The decision of rules and model together (mirrors ``actions.healing.classify``)."""
    model_pred = decide(proba, threshold)
    permanent = CLASS_INDEX[PERMANENT]
    if how == "model":
        return model_pred
    if how == "rules":
        return rules_pred
    if how == "rules_first":
        return np.where(rules_pred != permanent, rules_pred, model_pred).astype(np.int64)
    if how == "both":
        return np.where(rules_pred != permanent, model_pred, permanent).astype(np.int64)
    raise ValueError(f"unknown combination {how!r}")


def rules_predictions(data: Prepared) -> Ints:
    """The rules-alone category indices of the prepared rows (the model's rule set)."""
    return np.array([CLASS_INDEX[decision] for decision in data.decisions], dtype=np.int64)


def predictions_of_rules(excerpts: Sequence[str], rules: Sequence[Rule]) -> Ints:
    """Category indices that ``rules`` alone give the excerpts."""
    return np.array(
        [CLASS_INDEX[decide_by_rules(match_rules(text, rules))] for text in excerpts], dtype=np.int64
    )


def _f1(true_positive: Floats, predicted: Floats, actual: Floats) -> Floats:
    denominator = predicted + actual
    return np.divide(2.0 * true_positive, denominator, out=np.zeros_like(denominator), where=denominator > 0)


def macro_f1(y: Ints, predicted: Ints) -> float:
    """Macro-averaged F1 over the three categories.

    Equal to scikit-learn's ``f1_score(average="macro", zero_division=0)`` but fast: tuning and
    the bootstrap call it tens of thousands of times.
    """
    k = len(CATEGORIES)
    matrix = np.bincount(y * k + predicted, minlength=k * k).reshape(k, k).astype(np.float64)
    return float(_f1(np.diag(matrix), matrix.sum(axis=0), matrix.sum(axis=1)).mean())


def retry_f1(y: Ints, predicted: Ints) -> float:
    """F1 of the retry decision (transient or dependency against permanent; positive = retryable)."""
    permanent = CLASS_INDEX[PERMANENT]
    actual, said = y != permanent, predicted != permanent
    hits = np.array([float(np.sum(actual & said))])
    return float(_f1(hits, np.array([float(said.sum())]), np.array([float(actual.sum())]))[0])


def _folds(data: Prepared, index: Ints, folds: int, seed: int) -> list[tuple[Ints, Ints]]:
    groups = data.groups[index]
    splits = min(folds, len(set(groups.tolist())))
    splitter = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
    return [(index[a], index[b]) for a, b in splitter.split(np.zeros(len(index)), data.y[index], groups)]


@dataclass(frozen=True)
class Choice:
    """What the inner cross-validation chose, and its score there."""

    c: float
    scale: float
    threshold: float
    combine: str
    score: float
    term_set: str = "all"
    min_repositories: int = 1
    persistent_after: int | None = None


def tune(data: Prepared, index: Ints, seed: int) -> Choice:
    """Choose every setting of the model by grouped cross-validation inside ``index`` only.

    The settings: term set and minimum repositories per term, (C, rule scale), retry threshold,
    combination and persistence threshold (:data:`PERSISTENCE`). The score is the mean of macro-F1
    and retry F1 over the pooled out-of-fold predictions; the first best in grid order wins ties,
    so the rules alone (last) win only when strictly better, and persistence only when it helps.
    """
    folds = _folds(data, index, INNER_FOLDS, seed)
    y = data.y[index]
    rules_pred = rules_predictions(data)[index]
    masks = {after: persistence_mask(data.earlier[index], after) for after in PERSISTENCE}
    best: Choice | None = None
    for term_set in TERM_SETS:
        for spread in MIN_REPOSITORIES:
            # The text features of each inner fold are shared by the grid points.
            texts = [fit_text(data, train, term_set, spread) for train, _ in folds]
            for c, scale in GRID:
                oof = np.zeros((len(data.y), len(CATEGORIES)))
                for (train, valid), text in zip(folds, texts, strict=True):
                    oof[valid] = fit_model(data, train, c, scale, text=text).proba_rows(data, valid)
                for threshold in THRESHOLDS:
                    for how in COMBINES:
                        combined = combine(oof[index], threshold, how, rules_pred)
                        for after in PERSISTENCE:
                            predicted = apply_persistence(combined, masks[after])
                            score = 0.5 * (macro_f1(y, predicted) + retry_f1(y, predicted))
                            if best is None or score > best.score + 1e-12:
                                best = Choice(c, scale, threshold, how, score, term_set, spread, after)
    assert best is not None  # noqa: S101 - GRID, THRESHOLDS and COMBINES are not empty
    return best


def fit_choice(data: Prepared, index: Ints, choice: Choice) -> FittedModel:
    """The model of ``choice`` fitted on ``index``."""
    return fit_model(
        data,
        index,
        choice.c,
        choice.scale,
        choice.threshold,
        combine=choice.combine,
        term_set=choice.term_set,
        min_repositories=choice.min_repositories,
    )


def to_artefact(model: FittedModel | None, rules: Sequence[Rule], training: dict[str, Any]) -> dict[str, Any]:
    """The JSON artefact the action scores (see ``actions/schemas/failure_classifier.schema.json``)."""
    artefact: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "kind": "failure_classifier",
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "categories": list(CATEGORIES),
        "rules": [rule.as_dict() for rule in rules],
        "thresholds": {
            "retry": model.threshold if model else 0.5,
            "combine": model.combine if model else "rules",
        },
        "training": training,
    }
    if model is not None:
        vocabulary = {str(term): index for index, term in enumerate(model.terms)}
        coefficients = np.zeros((len(CATEGORIES), model.regression.coef_.shape[1]))
        intercepts = np.zeros(len(CATEGORIES))
        for row, label in enumerate(model.regression.classes_):
            coefficients[int(label)] = model.regression.coef_[row]
            intercepts[int(label)] = model.regression.intercept_[row]
        artefact.update(
            {
                "features": {**DEFAULT_FEATURES, "rule_feature_scale": model.scale},
                "rule_features": list(RULE_FEATURES),
                "vocabulary": vocabulary,
                "idf": [float(value) for value in model.transformer.idf_],
                "coefficients": [[float(value) for value in row] for row in coefficients],
                "intercepts": [float(value) for value in intercepts],
            }
        )
    return artefact


def train_failure_classifier(
    csv_path: Path | None, patterns_path: Path | None = None, *, seed: int = 0, model_rules: str = "all"
) -> dict[str, Any]:
    """Train on a labelled CSV and return the artefact; with no CSV, the rules alone.

    Args:
        csv_path: labelled failure texts (see the module docstring), or None.
        patterns_path: FlakeRanker's ``patterns.csv`` to merge into the rules, or None.
        seed: seed of the inner cross-validation's fold assignment.
        model_rules: the rules the artefact carries and the model reads (see :data:`MODEL_RULES`).
    """
    # Many small sparse fits: BLAS threads only contend (a 10x slowdown on a shared 2-core host).
    with threadpool_limits(limits=1):
        return _train(csv_path, patterns_path, seed, model_rules)


def _rule_counts(rules: Sequence[Rule]) -> dict[str, int]:
    return {source: sum(rule.source == source for rule in rules) for source in ("curated", "flakeranker")}


def _train(csv_path: Path | None, patterns_path: Path | None, seed: int, model_rules: str) -> dict[str, Any]:
    rules, dropped = rule_set(patterns_path, model_rules)
    training: dict[str, Any] = {
        "rules": _rule_counts(rules),
        "model_rules": model_rules,
        "flakeranker_dropped": dropped,
    }
    if csv_path is None:
        return to_artefact(None, rules, {**training, "rows": 0})
    examples = read_labelled(csv_path)
    data = prepare(examples, rules)
    everything = np.arange(len(examples), dtype=np.int64)
    choice = tune(data, everything, seed)
    model = fit_choice(data, everything, choice)
    training.update(
        {
            "rows": len(examples),
            "repositories": len(set(data.groups.tolist())),
            "label_counts": dict(Counter(example.label for example in examples)),
            "hyperparameters": _choice_dict(choice),
        }
    )
    return to_artefact(model, rules, training)


def _choice_dict(choice: Choice) -> dict[str, Any]:
    return {
        "C": choice.c,
        "rule_feature_scale": choice.scale,
        "retry_threshold": choice.threshold,
        "combine": choice.combine,
        "term_set": choice.term_set,
        "min_repositories": choice.min_repositories,
        "persistent_after": choice.persistent_after,
        "inner_cv_score": choice.score,
    }


# --- benchmark ---------------------------------------------------------------------------------

BASELINES = ("rules", "curated_rules")
"""Prefixes of the baselines' figures (see :func:`baseline_rule_sets`)."""


def _scores(y: Ints, predictions: dict[str, Ints]) -> dict[str, float]:
    """macro-F1 and retry F1 of the model (no prefix) and each baseline, and the model's margins."""
    values: dict[str, float] = {}
    for name, predicted in predictions.items():
        prefix = f"{name}_" if name else ""
        values[f"{prefix}macro_f1"] = macro_f1(y, predicted)
        values[f"{prefix}retry_f1"] = retry_f1(y, predicted)
    for name in BASELINES:
        prefix = "" if name == "rules" else f"{name}_"  # delta_macro_f1: over the baseline
        for metric in ("macro_f1", "retry_f1"):
            values[f"delta_{prefix}{metric}"] = values[metric] - values[f"{name}_{metric}"]
    return values


def _bootstrap(
    y: Ints, predictions: dict[str, Ints], groups: npt.NDArray[np.str_], reps: int, seed: int
) -> dict[str, tuple[float, float]]:
    """95% percentile intervals of each figure, resampling whole groups with replacement."""
    rng = np.random.default_rng(seed)
    unique = np.unique(groups)
    members = {group: np.flatnonzero(groups == group) for group in unique}
    samples: dict[str, list[float]] = {}
    for _ in range(reps):
        chosen = rng.choice(unique, size=len(unique), replace=True)
        rows = np.concatenate([members[group] for group in chosen])
        values = _scores(y[rows], {name: predicted[rows] for name, predicted in predictions.items()})
        for key, value in values.items():
            samples.setdefault(key, []).append(value)
    return {
        key: (float(np.percentile(values, 2.5)), float(np.percentile(values, 97.5)))
        for key, values in samples.items()
    }


def _per_class(y: Ints, predicted: Ints) -> dict[str, dict[str, float]]:
    precision, recall, f1, support = precision_recall_fscore_support(
        y, predicted, labels=list(range(len(CATEGORIES))), zero_division=0
    )
    return {
        category: {
            "precision": float(precision[i]),
            "recall": float(recall[i]),
            "f1": float(f1[i]),
            "support": int(support[i]),
        }
        for i, category in enumerate(CATEGORIES)
    }


def _report(
    y: Ints,
    predictions: dict[str, Ints],
    groups: npt.NDArray[np.str_],
    reps: int,
    seed: int,
) -> dict[str, Any]:
    """Figures of the model (``predictions[""]``) and the baselines, with group-bootstrap intervals."""
    intervals = _bootstrap(y, predictions, groups, reps, seed)
    point = _scores(y, predictions)
    report: dict[str, Any] = dict(point)
    for key in point:
        report[f"{key}_ci"] = list(intervals[key])
    labels = list(range(len(CATEGORIES)))
    for name, predicted in predictions.items():
        prefix = f"{name}_" if name else ""
        report[f"{prefix}per_class"] = _per_class(y, predicted)
        report[f"{prefix}confusion_matrix"] = {
            "labels": list(CATEGORIES),
            "rows_true_columns_predicted": confusion_matrix(y, predicted, labels=labels).tolist(),
        }
    wrong = Counter(groups[predictions[""] != y].tolist())
    report.update(
        {
            "model_errors_by_group": dict(wrong.most_common()),
            "test_rows": len(y),
            "test_groups": len(set(groups.tolist())),
            "bootstrap": {
                "replicates": reps,
                "resampled": "groups (repositories)",
                "interval": "percentile 95%",
            },
        }
    )
    return report


def _persistence_effect(y: Ints, without: Ints, with_: Ints) -> dict[str, int]:
    """What the persistence policy changed: predictions, of which right (permanent), retries lost."""
    changed = without != with_
    permanent = CLASS_INDEX[PERMANENT]
    return {
        "changed": int(changed.sum()),
        "changed_to_correct": int((changed & (y == permanent)).sum()),
        "retries_lost": int((changed & (y != permanent) & (without == y)).sum()),
    }


def _speed(artefact: dict[str, Any], texts: Sequence[str]) -> float:
    """Mean milliseconds per ``classify_failure`` call with the exported artefact (pure Python)."""
    sample = list(texts)[:100]
    started = time.perf_counter()
    for text in sample:
        classify_failure(text, artefact)
    return 1000.0 * (time.perf_counter() - started) / max(len(sample), 1)


def run_failure_text_benchmark(
    *,
    train: Path | None = None,
    test: Path | None = None,
    data: Path | None = None,
    patterns: Path | None = None,
    json_path: Path | None = None,
    model_out: Path | None = None,
    folds: int = OUTER_FOLDS,
    bootstrap: int = BOOTSTRAP,
    seed: int = 0,
    model_rules: str = "all",
) -> dict[str, Any]:
    """Judge the classifier against both rule baselines, print the figures, optionally write JSON.

    ``--train A --test B``: tune and fit on A, judge on B. ``--data F``: outer grouped
    cross-validation by ``source`` (each repository is tested by a model that never saw it),
    pooled out-of-fold predictions judged once. ``model_rules`` chooses the rules the model reads
    and combines with (:data:`MODEL_RULES`); the baselines are always FlakeRanker's patterns alone
    (``rules_*``) and the shipped curated set (``curated_rules_*``), see :func:`baseline_rule_sets`.
    """
    with threadpool_limits(limits=1):
        return _benchmark(
            train, test, data, patterns, json_path, model_out, folds, bootstrap, seed, model_rules
        )


def _benchmark(
    train: Path | None,
    test: Path | None,
    data: Path | None,
    patterns: Path | None,
    json_path: Path | None,
    model_out: Path | None,
    folds: int,
    bootstrap: int,
    seed: int,
    model_rules: str,
) -> dict[str, Any]:
    started = time.perf_counter()
    rules, dropped = rule_set(patterns, model_rules)
    fold_info: list[dict[str, Any]] = []
    chosen_after: list[tuple[Ints, int | None]] = []  # test positions and the threshold their fold chose
    if data is not None and train is None and test is None:
        examples = read_labelled(data)
        prepared = prepare(examples, rules)
        test_index = np.arange(len(examples), dtype=np.int64)
        model_pred = np.zeros(len(examples), dtype=np.int64)
        without = np.zeros(len(examples), dtype=np.int64)
        all_rules = rules_predictions(prepared)
        for number, (train_index, fold_test) in enumerate(_folds(prepared, test_index, folds, seed)):
            choice = tune(prepared, train_index, seed + 1 + number)
            model = fit_choice(prepared, train_index, choice)
            without[fold_test] = combine(
                model.proba_rows(prepared, fold_test), choice.threshold, choice.combine, all_rules[fold_test]
            )
            model_pred[fold_test] = with_persistence(
                without[fold_test], prepared.earlier[fold_test], choice.persistent_after
            )
            chosen_after.append((fold_test, choice.persistent_after))
            fold_info.append(
                {
                    "fold": number,
                    "train_rows": len(train_index),
                    "test_rows": len(fold_test),
                    "test_repositories": len(set(prepared.groups[fold_test].tolist())),
                    **_choice_dict(choice),
                    "persistence": _persistence_effect(
                        prepared.y[fold_test], without[fold_test], model_pred[fold_test]
                    ),
                }
            )
        mode = {
            "mode": "grouped_cv",
            "data": str(data),
            "outer_folds": len(fold_info),
            "inner_folds": INNER_FOLDS,
        }
    elif train is not None and test is not None and data is None:
        train_examples, examples = read_labelled(train), read_labelled(test)
        prepared = prepare([*train_examples, *examples], rules)
        # Each file is its own history: a test chunk's earlier builds are those of the test file.
        train_earlier, train_order = earlier_occurrences(
            train_examples, prepared.excerpts[: len(train_examples)]
        )
        test_earlier, test_order = earlier_occurrences(examples, prepared.excerpts[len(train_examples) :])
        prepared.earlier = np.concatenate([train_earlier, test_earlier])
        prepared.order = f"train: {train_order}; test: {test_order}"
        train_index = np.arange(len(train_examples), dtype=np.int64)
        test_index = np.arange(len(train_examples), len(train_examples) + len(examples), dtype=np.int64)
        choice = tune(prepared, train_index, seed)
        model = fit_choice(prepared, train_index, choice)
        without = combine(
            model.proba_rows(prepared, test_index),
            choice.threshold,
            choice.combine,
            rules_predictions(prepared)[test_index],
        )
        model_pred = with_persistence(without, prepared.earlier[test_index], choice.persistent_after)
        chosen_after.append((np.arange(len(examples), dtype=np.int64), choice.persistent_after))
        fold_info.append(
            {
                **_choice_dict(choice),
                "persistence": _persistence_effect(prepared.y[test_index], without, model_pred),
            }
        )
        without = np.concatenate([np.zeros(len(train_examples), dtype=np.int64), without])
        mode = {"mode": "train_test", "train": str(train), "test": str(test), "inner_folds": INNER_FOLDS}
    else:
        raise ValueError("failure-text: give --train and --test, or --data alone")

    y, groups = prepared.y[test_index], prepared.groups[test_index]
    excerpts = [prepared.excerpts[i] for i in test_index]
    predictions = {"": model_pred, "without_persistence": without[test_index]}
    for name, baseline in baseline_rule_sets(patterns).items():
        predictions[name] = predictions_of_rules(excerpts, baseline)
    # Not a baseline: the shipped rules with the recurrence signal, at the threshold each fold chose
    # for the model, to show what the model adds beyond rules and persistence together.
    rules_with = predictions["curated_rules"].copy()
    earlier = prepared.earlier[test_index]
    for rows, after in chosen_after:
        rules_with[rows] = with_persistence(rules_with[rows], earlier[rows], after)
    predictions["curated_rules_with_persistence"] = rules_with
    report = {
        **mode,
        "seed": seed,
        "model_rules": model_rules,
        **_report(y, predictions, groups, bootstrap, seed),
        "folds": fold_info,
        "persistence": {
            "order": prepared.order,
            "thresholds_tried": list(PERSISTENCE),
            "chosen": [fold["persistent_after"] for fold in fold_info],
            **_persistence_effect(y, without[test_index], model_pred),
            "note": (
                "the model's figures include the persistence policy chosen by the inner CV; "
                "without_persistence_* are the same models without it; the baselines never use it; "
                "curated_rules_with_persistence_* (not a baseline) is the curated rules with the "
                "threshold each fold chose"
            ),
        },
        "rules": {**_rule_counts(rules), "dropped": dropped},
        "baselines": {
            "rules": "FlakeRanker's seeded patterns alone (the issue's 'seeded rules alone')",
            "curated_rules": (
                "the rule set the action ships (curated plus FlakeRanker's); the curated rules were "
                "written while studying LogChunks, so their figures here are optimistic"
            ),
        },
        "label_counts": {category: int((y == CLASS_INDEX[category]).sum()) for category in CATEGORIES},
    }
    # The exported model's speed, on the test texts, through the action's pure-Python path.
    artefact = to_artefact(model, rules, {"note": "benchmark speed probe (the last model fitted)"})
    report["classify_ms_per_failure"] = _speed(artefact, [example.text for example in examples])
    report["seconds"] = time.perf_counter() - started
    _print(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    if model_out is not None:
        source = data if data is not None else train
        write_artefact(
            train_failure_classifier(source, patterns, seed=seed, model_rules=model_rules), model_out
        )
    return report


def write_artefact(artefact: dict[str, Any], path: Path) -> None:
    """Write the artefact as compact JSON (floats keep full precision)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(artefact, separators=(",", ":")) + "\n", encoding="utf-8")


def _print(report: dict[str, Any]) -> None:
    def line(name: str) -> str:
        low, high = report[f"{name}_ci"]
        return f"{report[name]:.3f} [{low:.3f}, {high:.3f}]"

    rows, groups = report["test_rows"], report["test_groups"]
    print(f"failure-text ({report['mode']}, seed {report['seed']}): {rows} test rows from {groups} groups")
    print(f"  labels: {report['label_counts']}; model reads rules: {report['model_rules']} {report['rules']}")
    print("                   model                  FlakeRanker rules      curated rules (seen the data)")
    for metric, title in (("macro_f1", "macro-F1"), ("retry_f1", "retry F1")):
        print(f"  {title:<15}  {line(metric)}  {line('rules_' + metric)}  {line('curated_rules_' + metric)}")
    for metric, title in (("macro_f1", "macro-F1"), ("retry_f1", "retry F1")):
        print(
            f"  model - rules    {title}: vs FlakeRanker {line('delta_' + metric)}"
            f"   vs curated {line('delta_curated_rules_' + metric)}"
        )
    for category, values in report["per_class"].items():
        flakeranker = report["rules_per_class"][category]
        curated = report["curated_rules_per_class"][category]
        print(
            f"  {category:<10}  model P {values['precision']:.2f} R {values['recall']:.2f}   "
            f"FlakeRanker P {flakeranker['precision']:.2f} R {flakeranker['recall']:.2f}   "
            f"curated P {curated['precision']:.2f} R {curated['recall']:.2f}   (n={values['support']})"
        )
    matrix = report["confusion_matrix"]["rows_true_columns_predicted"]
    print(f"  model confusion (rows true, columns predicted {CATEGORIES}): {matrix}")
    errors = report["model_errors_by_group"]
    top = ", ".join(f"{group.rsplit('/', 1)[-1]} {count}" for group, count in list(errors.items())[:6])
    print(f"  model errors: {sum(errors.values())} in {len(errors)} groups; most: {top}")
    chosen = Counter(str(fold.get("combine")) for fold in report.get("folds", []))
    print(f"  decision chosen by the inner CV: {dict(chosen)}")
    persistence = report["persistence"]
    print(
        f"  without persistence: macro-F1 {line('without_persistence_macro_f1')}  "
        f"retry F1 {line('without_persistence_retry_f1')}"
    )
    print(
        f"  curated rules + persistence (not a baseline): macro-F1 "
        f"{line('curated_rules_with_persistence_macro_f1')}  "
        f"retry F1 {line('curated_rules_with_persistence_retry_f1')}"
    )
    print(
        f"  persistence (order: {persistence['order']}): thresholds chosen {persistence['chosen']}; "
        f"changed {persistence['changed']} predictions, {persistence['changed_to_correct']} to the right "
        f"class, {persistence['retries_lost']} correct retries lost"
    )
    print(f"  classify_failure: {report['classify_ms_per_failure']:.1f} ms per failure (pure Python)")
    print(f"  seconds: {report['seconds']:.1f}")
