"""The routing engine: who should review a pull request, or take an issue.

:func:`calculate_assignment` scores every candidate with the weighted sum of five factors, each
normalised to [0, 1], and selects the best ones:

* ``expertise`` — what the candidate knows of this change. It blends two kinds of knowledge, in the
  proportion ``author_history_share`` of the configuration: the candidate's (recency-weighted)
  expertise in the changed paths, and their history with this author — how much of the author's
  earlier work they reviewed (or the author reviewed of theirs). Both are divided by the highest value
  among the candidates, so the best-informed candidate scores 1. Past approvals of the author's pull
  requests are the strongest single predictor of who approves the next one, and they are knowledge
  of the author's work, hence expertise.
* ``workload`` — room below the cap: ``1 - open_reviews / max_open_reviews``. People at or over the
  cap are not candidates at all.
* ``response_time`` — ``ref / (ref + median first-response hours)``, one half at the reference; an
  unknown median is neutral (one half).
* ``availability`` — recent activity (events in the recent window, divided by the highest among the
  candidates), halved when the item arrives outside the candidate's usual hours.
* ``performance`` — reviews the candidate completed recently (divided by the highest), times the
  share of review requests they completed when known: people who do see reviews through.

The author is never a candidate; neither are excluded users, bots (unless allowed), nor people at
or over the workload cap. When nobody eligible remains, or no eligible candidate has any evidence
(a cold start: zero expertise, availability and performance), the configured fallbacks apply in
order: round robin (when the caller keeps its state) and then a seeded random choice; the result
says which one in ``fallback_used``. Exempt labels mean no assignment at all.

Everything here is pure and deterministic: the same inputs and seed give the same result. Only the
standard library and numpy are used, so that an action starts fast.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

import numpy as np

from actions.routing.config import FACTORS, RoutingConfig

ItemKind = Literal["pull_request", "issue"]
FallbackUsed = Literal["round_robin", "random"]

OUTSIDE_HOURS_FACTOR = 0.5
"""Availability is multiplied by this when the item arrives outside the candidate's usual hours."""

_EVIDENCE = (0, 3, 4)
"""Factors that carry evidence about a candidate (expertise, availability, performance): when all
three are zero for everyone, the score only reflects defaults, and a fallback is fairer."""


@dataclass(frozen=True, slots=True)
class Candidate:
    """What is known of one possible reviewer or assignee, as of the routing instant.

    Attributes:
        login: GitHub login.
        expertise: recency-weighted knowledge per path prefix (``"src/api/"``, or a file at the root).
        author_history: recency-weighted reviews of each author's earlier work (lower-case login → weight).
        open_reviews: reviews currently requested of the candidate and not yet given.
        median_response_hours: median time to their first response on a review request, if known.
        recent_activity: events (reviews, comments, commits) in the recent window.
        active_hours: share of their activity per hour of the day (UTC, 24 values), if known.
        completed_reviews: recency-weighted count of reviews completed.
        completion_rate: share of review requests they completed, if known.
        is_bot: whether the account is a bot.
    """

    login: str
    expertise: Mapping[str, float] = field(default_factory=dict)
    author_history: Mapping[str, float] = field(default_factory=dict)
    open_reviews: int = 0
    median_response_hours: float | None = None
    recent_activity: float = 0.0
    active_hours: Sequence[float] | None = None
    completed_reviews: float = 0.0
    completion_rate: float | None = None
    is_bot: bool = False


@dataclass(frozen=True, slots=True)
class RoutedItem:
    """The pull request or issue being routed."""

    number: int
    author: str
    kind: ItemKind = "pull_request"
    labels: tuple[str, ...] = ()
    paths: tuple[str, ...] = ()
    created_at: datetime | None = None


@dataclass(slots=True)
class RoundRobinState:
    """Where round robin stands: the login it selected last (persisted by the caller)."""

    last: str | None = None


@dataclass(frozen=True, slots=True)
class CandidateScore:
    """One candidate's score: the total and each factor's normalised value and weighted contribution.

    The factors are kept as tuples in the order of ``FACTORS`` (cheap to build for a thousand people);
    :attr:`values` and :attr:`contributions` give them by name.
    """

    login: str
    total: float
    factor_values: tuple[float, ...]
    factor_contributions: tuple[float, ...]

    @property
    def values(self) -> dict[str, float]:
        """Normalised value of each factor, in [0, 1]."""
        return dict(zip(FACTORS, self.factor_values, strict=True))

    @property
    def contributions(self) -> dict[str, float]:
        """Weighted contribution of each factor; they sum to :attr:`total`."""
        return dict(zip(FACTORS, self.factor_contributions, strict=True))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "login": self.login,
            "total": round(self.total, 6),
            "factors": {
                name: {"value": round(value, 6), "contribution": round(contribution, 6)}
                for name, value, contribution in zip(
                    FACTORS, self.factor_values, self.factor_contributions, strict=True
                )
            },
        }


@dataclass(frozen=True, slots=True)
class AssignmentResult:
    """The decision: who is selected, why, and how every eligible candidate scored (best first)."""

    number: int
    kind: ItemKind
    selected: tuple[str, ...]
    scores: tuple[CandidateScore, ...]
    confidence: float
    fallback_used: FallbackUsed | None
    reason: str
    excluded: dict[str, str]
    round_robin_state: RoundRobinState | None = None

    @property
    def role(self) -> str:
        """``reviewers`` for a pull request, ``assignees`` for an issue."""
        return "reviewers" if self.kind == "pull_request" else "assignees"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (what the action writes to its outputs and audit record)."""
        return {
            "number": self.number,
            "kind": self.kind,
            "role": self.role,
            "selected": list(self.selected),
            "confidence": round(self.confidence, 6),
            "fallback_used": self.fallback_used,
            "reason": self.reason,
            "scores": [score.to_dict() for score in self.scores],
            "excluded": dict(self.excluded),
        }


def path_prefixes(paths: Iterable[str]) -> frozenset[str]:
    """Every prefix a changed path counts towards: each enclosing directory (with ``/``) and the path.

    >>> sorted(path_prefixes(["src/api/v2/routes.py"]))
    ['src/', 'src/api/', 'src/api/v2/', 'src/api/v2/routes.py']
    """
    prefixes: set[str] = set()
    for path in paths:
        parts = path.split("/")
        prefixes.update("/".join(parts[:depth]) + "/" for depth in range(1, len(parts)))
        prefixes.add(path)
    return frozenset(prefixes)


def factor_matrix(
    item: RoutedItem, candidates: Sequence[Candidate], config: RoutingConfig
) -> np.ndarray[Any, np.dtype[np.float64]]:
    """The normalised factor values, one row per candidate and one column per factor of ``FACTORS``."""
    count = len(candidates)
    prefixes = path_prefixes(item.paths)
    author = item.author.lower()
    # Candidates know a few prefixes each: intersecting key views stays in C for the usual miss.
    paths = np.array(
        [
            sum(c.expertise[p] for p in c.expertise.keys() & prefixes) if c.expertise else 0.0
            for c in candidates
        ],
        dtype=np.float64,
    )
    history = np.array([c.author_history.get(author, 0.0) for c in candidates], dtype=np.float64)
    share = config.author_history_share
    expertise = (1.0 - share) * _by_max(paths) + share * _by_max(history)

    cap = float(config.max_open_reviews)
    load = np.array([c.open_reviews for c in candidates], dtype=np.float64)
    workload = 1.0 - np.clip(load, 0.0, cap) / cap

    ref = config.response_time_reference_hours
    response = np.array(
        [
            0.5 if c.median_response_hours is None else ref / (ref + max(c.median_response_hours, 0.0))
            for c in candidates
        ],
        dtype=np.float64,
    )

    hour = item.created_at.hour if item.created_at is not None else None
    presence = np.array([_presence(c.active_hours, hour) for c in candidates], dtype=np.float64)
    activity = np.array([c.recent_activity for c in candidates], dtype=np.float64)
    availability = _by_max(activity) * presence

    completed = np.array([c.completed_reviews for c in candidates], dtype=np.float64)
    rate = np.array(
        [1.0 if c.completion_rate is None else min(max(c.completion_rate, 0.0), 1.0) for c in candidates],
        dtype=np.float64,
    )
    performance = _by_max(completed) * rate

    matrix = np.empty((count, len(FACTORS)), dtype=np.float64)
    for column, values in enumerate((expertise, workload, response, availability, performance)):
        matrix[:, column] = values
    return matrix


def score_candidates(
    item: RoutedItem, candidates: Sequence[Candidate], config: RoutingConfig
) -> tuple[np.ndarray[Any, np.dtype[np.float64]], np.ndarray[Any, np.dtype[np.float64]]]:
    """Factor values (``n × 5``) and total scores of ``candidates``, in their order (no exclusions)."""
    values = factor_matrix(item, candidates, config)
    return values, values @ np.asarray(config.weights.normalised(), dtype=np.float64)


def rank_candidates(item: RoutedItem, candidates: Sequence[Candidate], config: RoutingConfig) -> list[str]:
    """Logins of the eligible candidates, best first (what the benchmark ranks)."""
    eligible, _ = _eligible(item, candidates, config)
    if not eligible:
        return []
    _, totals = score_candidates(item, eligible, config)
    return [eligible[i].login for i in _order(totals, eligible)]


def calculate_assignment(
    item: RoutedItem,
    candidates: Sequence[Candidate],
    config: RoutingConfig | None = None,
    *,
    round_robin_state: RoundRobinState | None = None,
    seed: int | None = None,
) -> AssignmentResult:
    """Decide who reviews (pull request) or takes (issue) ``item``.

    Args:
        item: the pull request or issue.
        candidates: everyone who could be selected, with what is known of them.
        config: routing settings (the defaults when ``None``).
        round_robin_state: where round robin stands; when given, round robin is an available fallback
            and the result carries its next state. Without it, round robin is skipped.
        seed: seed of the random fallback (the configuration's seed when ``None``).

    Returns:
        The selection, every eligible candidate's score with its factor breakdown (best first), the
        confidence, the fallback used if any, and the reason.
    """
    config = config or RoutingConfig()
    wanted = config.reviewers if item.kind == "pull_request" else config.assignees
    role = "reviewers" if item.kind == "pull_request" else "assignees"
    exempt = sorted({label.lower() for label in item.labels} & set(config.exempt_labels))
    if exempt:
        return AssignmentResult(
            item.number, item.kind, (), (), 0.0, None, f"exempt label {exempt[0]!r}: no {role} assigned", {}
        )

    eligible, excluded = _eligible(item, candidates, config)
    scores: tuple[CandidateScore, ...] = ()
    if eligible:
        values, totals = score_candidates(item, eligible, config)
        order = _order(totals, eligible)
        scores = _breakdown(eligible, values, totals, order, config)
        if values[:, _EVIDENCE].any():
            selected = tuple(score.login for score in scores[:wanted])
            return AssignmentResult(
                item.number,
                item.kind,
                selected,
                scores,
                _confidence(totals, order, len(selected)),
                None,
                _reason(role, scores[: len(selected)]),
                excluded,
                round_robin_state,
            )
        pool = [c.login for c in eligible]
        why = "no candidate has any expertise, availability or performance evidence"
    else:
        # Everyone left is over the cap (or there is no one): the cap yields to having a reviewer.
        pool = [login for login, why in excluded.items() if why.startswith("at the workload cap")]
        why = "no candidate below the workload cap" if pool else "no eligible candidate"

    for strategy in config.fallback:
        if not pool:
            break
        if strategy == "round_robin" and round_robin_state is not None:
            selected, state = _round_robin(pool, wanted, round_robin_state)
            return AssignmentResult(
                item.number,
                item.kind,
                selected,
                scores,
                0.0,
                "round_robin",
                f"{why}; round robin selected {', '.join(selected)}",
                excluded,
                state,
            )
        if strategy == "random":
            rng = random.Random(config.seed if seed is None else seed)  # noqa: S311 (fairness, not security)
            selected = tuple(rng.sample(sorted(pool), min(wanted, len(pool))))
            return AssignmentResult(
                item.number,
                item.kind,
                selected,
                scores,
                0.0,
                "random",
                f"{why}; random choice selected {', '.join(selected)}",
                excluded,
                round_robin_state,
            )
    return AssignmentResult(
        item.number,
        item.kind,
        (),
        scores,
        0.0,
        None,
        f"{why}; no {role} assigned",
        excluded,
        round_robin_state,
    )


def _eligible(
    item: RoutedItem, candidates: Sequence[Candidate], config: RoutingConfig
) -> tuple[list[Candidate], dict[str, str]]:
    author = item.author.lower()
    banned = set(config.excluded_users)
    cap = config.max_open_reviews
    eligible: list[Candidate] = []
    excluded: dict[str, str] = {}
    seen: set[str] = set()
    for candidate in candidates:
        login = candidate.login.lower()
        if login in seen:
            continue
        seen.add(login)
        if login == author:
            excluded[candidate.login] = "the author"
        elif login in banned:
            excluded[candidate.login] = "excluded by configuration"
        elif candidate.is_bot and config.exclude_bots:
            excluded[candidate.login] = "a bot"
        elif candidate.open_reviews >= cap:
            excluded[candidate.login] = f"at the workload cap ({candidate.open_reviews} open, cap {cap})"
        else:
            eligible.append(candidate)
    return eligible, excluded


def _by_max(values: np.ndarray[Any, np.dtype[np.float64]]) -> np.ndarray[Any, np.dtype[np.float64]]:
    values = np.clip(values, 0.0, None)
    top = float(values.max()) if values.size else 0.0
    return values / top if top > 0.0 else np.zeros_like(values)


def _presence(active_hours: Sequence[float] | None, hour: int | None) -> float:
    if active_hours is None or hour is None or len(active_hours) != 24:
        return 1.0
    top = max(active_hours)
    if top <= 0.0:
        return 1.0
    return OUTSIDE_HOURS_FACTOR + (1.0 - OUTSIDE_HOURS_FACTOR) * max(active_hours[hour], 0.0) / top


def _order(totals: np.ndarray[Any, np.dtype[np.float64]], candidates: Sequence[Candidate]) -> list[int]:
    """Best first; ties go to the lower login so that the order never depends on input order."""
    logins = np.array([c.login.lower() for c in candidates])
    return [int(i) for i in np.lexsort((logins, -totals))]


def _breakdown(
    candidates: Sequence[Candidate],
    values: np.ndarray[Any, np.dtype[np.float64]],
    totals: np.ndarray[Any, np.dtype[np.float64]],
    order: Sequence[int],
    config: RoutingConfig,
) -> tuple[CandidateScore, ...]:
    weights = np.asarray(config.weights.normalised(), dtype=np.float64)
    contributions = (values * weights).tolist()
    rows = values.tolist()
    total = totals.tolist()
    return tuple(
        CandidateScore(candidates[i].login, total[i], tuple(rows[i]), tuple(contributions[i])) for i in order
    )


def _confidence(totals: np.ndarray[Any, np.dtype[np.float64]], order: Sequence[int], selected: int) -> float:
    """How clearly the selection stands out: the margin of the last selected over the next, by the top."""
    top = float(totals[order[0]])
    if top <= 0.0:
        return 0.0
    if selected >= len(order):
        return 1.0
    return max(0.0, min(1.0, (float(totals[order[selected - 1]]) - float(totals[order[selected]])) / top))


def _reason(role: str, chosen: Sequence[CandidateScore]) -> str:
    parts = []
    for score in chosen:
        strongest = max(FACTORS, key=lambda name: score.contributions[name])
        parts.append(f"{score.login} (score {score.total:.2f}, mostly {strongest.replace('_', ' ')})")
    return f"{role} by weighted score: " + ", ".join(parts)


def _round_robin(
    pool: Sequence[str], wanted: int, state: RoundRobinState
) -> tuple[tuple[str, ...], RoundRobinState]:
    """The next ``wanted`` logins after ``state.last`` in login order, wrapping around."""
    ring = sorted(pool, key=str.lower)
    start = 0
    if state.last is not None:
        after = [i for i, login in enumerate(ring) if login.lower() > state.last.lower()]
        start = after[0] if after else 0
    count = min(wanted, len(ring))
    selected = tuple(ring[(start + k) % len(ring)] for k in range(count))
    return selected, RoundRobinState(last=selected[-1])
