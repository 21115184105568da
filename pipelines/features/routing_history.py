"""Reviewer history of one team, replayed in time order, as the routing engine's candidates.

The routing benchmark replays a team's merged pull requests (the community-health layout: author,
repository, ``approvers`` {login: count}, ``commenters``, ``mergedAt``, ``age`` in days) and needs,
for each one, what the router would have known about every possible approver *before* it.
:class:`TeamHistory` keeps that knowledge as recency-decayed counters, updated by :meth:`record`
when a pull request merges and read by :meth:`candidates` at a routing instant, so the features of a
pull request only ever come from pull requests recorded earlier.

How the history maps onto the engine's :class:`~actions.routing.engine.Candidate` (the data has no
file lists, no review requests and no review times, so some fields are proxies):

* ``expertise`` — approvals in the pull request's repository (``"<repo>/"`` is the path prefix),
  half-life :data:`EXPERTISE_HALF_LIFE_DAYS`: knowledge of that code base.
* ``author_history`` — approvals of this author's pull requests, at two half-lives (a short one, as
  who reviews an author changes over time, and a long one), plus the author's approvals of the
  candidate's own pull requests and the candidate's comments on the author's pull requests, each
  with a smaller weight: knowledge of the author's work.
* ``recent_activity`` — approvals and comments anywhere in the team, half-life
  :data:`ACTIVITY_HALF_LIFE_DAYS` (availability).
* ``completed_reviews`` — approvals anywhere in the team, half-life
  :data:`PERFORMANCE_HALF_LIFE_DAYS` (performance).
* ``median_response_hours`` — median age, in hours, of the candidate's last approved pull requests
  (how long the work they review stays open; the data has no first-response times).
* ``open_reviews`` — given by the caller (the benchmark counts the router's own earlier picks that
  are still open).

Everyone who approved a pull request of the team earlier is a candidate. Bots are recognised by the
``[bot]`` suffix or a ``bot`` login ending and are kept out of the history.
"""

from __future__ import annotations

import math
import statistics
from collections import defaultdict, deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from actions.routing.engine import Candidate

EXPERTISE_HALF_LIFE_DAYS = 7.0
AUTHOR_SHORT_HALF_LIFE_DAYS = 30.0
AUTHOR_LONG_HALF_LIFE_DAYS = 365.0
AUTHOR_LONG_WEIGHT = 0.3
"""Weight of the long-memory approvals of the author next to the short-memory ones."""
RECIPROCAL_WEIGHT = 0.5
"""Weight of the author's approvals of the candidate's pull requests (people review each other)."""
COMMENT_WEIGHT = 0.25
"""Weight of the candidate's comments on the author's pull requests."""
ACTIVITY_HALF_LIFE_DAYS = 7.0
PERFORMANCE_HALF_LIFE_DAYS = 30.0
RESPONSE_WINDOW = 20
"""Approved pull requests whose age gives the median response proxy."""

_LN2 = math.log(2.0)


@dataclass(frozen=True, slots=True)
class ReviewedPull:
    """One merged pull request of the community-health data."""

    team: str
    repo: str
    url: str
    author: str
    approvers: tuple[str, ...]
    commenters: tuple[str, ...]
    merged_at: float
    """Days since the epoch."""
    age_days: float

    @property
    def created_at(self) -> float:
        """Opening time (days since the epoch); ``age`` is rounded up, so this is never too late."""
        return self.merged_at - self.age_days


class _Decayed:
    """A sum of events, each decaying with a half-life: read at time ``t`` without storing events."""

    __slots__ = ("rate", "time", "value")

    def __init__(self, half_life_days: float) -> None:
        self.rate = _LN2 / half_life_days
        self.value = 0.0
        self.time = 0.0

    def add(self, t: float, amount: float = 1.0) -> None:
        self.value = self.value * math.exp(-self.rate * (t - self.time)) + amount
        self.time = t

    def at(self, t: float) -> float:
        return self.value * math.exp(-self.rate * (t - self.time))


def is_bot(login: str) -> bool:
    """Whether a login is a bot account (``dependabot[bot]``, ``sizebot``, ``renovate-bot``)."""
    lowered = login.lower()
    return lowered.endswith(("[bot]", "bot"))


class _Counters:
    """Decayed counters keyed by login, all with one half-life."""

    __slots__ = ("counters", "half_life")

    def __init__(self, half_life_days: float) -> None:
        self.half_life = half_life_days
        self.counters: dict[str, _Decayed] = {}

    def add(self, key: str, t: float) -> None:
        counter = self.counters.get(key)
        if counter is None:
            counter = self.counters[key] = _Decayed(self.half_life)
        counter.add(t)

    def at(self, key: str, t: float) -> float:
        counter = self.counters.get(key)
        return 0.0 if counter is None else counter.at(t)


class TeamHistory:
    """What a router knows about a team's reviewers, built from the pull requests recorded so far."""

    def __init__(self) -> None:
        self.recorded = 0
        self._repo: dict[str, _Counters] = defaultdict(lambda: _Counters(EXPERTISE_HALF_LIFE_DAYS))
        self._author_short: dict[str, _Counters] = defaultdict(lambda: _Counters(AUTHOR_SHORT_HALF_LIFE_DAYS))
        self._author_long: dict[str, _Counters] = defaultdict(lambda: _Counters(AUTHOR_LONG_HALF_LIFE_DAYS))
        # _approved_by[a][c]: how often a approved c's pull requests (read as c's reciprocal history).
        self._approved_by: dict[str, _Counters] = defaultdict(lambda: _Counters(AUTHOR_LONG_HALF_LIFE_DAYS))
        self._comments: dict[str, _Counters] = defaultdict(lambda: _Counters(AUTHOR_LONG_HALF_LIFE_DAYS))
        self._activity = _Counters(ACTIVITY_HALF_LIFE_DAYS)
        self._completed = _Counters(PERFORMANCE_HALF_LIFE_DAYS)
        self._ages: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=RESPONSE_WINDOW))
        self._approvers: dict[str, None] = {}

    def record(self, pull: ReviewedPull) -> None:
        """Add a merged pull request (at its merge time) to the history."""
        t = pull.merged_at
        author = pull.author.lower()
        self.recorded += 1
        for login in approvers_of(pull):
            self._approvers.setdefault(login, None)
            self._repo[pull.repo].add(login, t)
            self._author_short[author].add(login, t)
            self._author_long[author].add(login, t)
            self._approved_by[login].add(author, t)
            self._activity.add(login, t)
            self._completed.add(login, t)
            self._ages[login].append(pull.age_days * 24.0)
        for login in pull.commenters:
            lowered = login.lower()
            if lowered != author and not is_bot(lowered):
                self._comments[author].add(lowered, t)
                self._activity.add(lowered, t)

    def candidates(
        self, pull: ReviewedPull, t: float, open_reviews: Mapping[str, int] | None = None
    ) -> list[Candidate]:
        """Every earlier approver (the author included: the engine must leave them out) as of ``t``."""
        author = pull.author.lower()
        prefix = f"{pull.repo}/"
        repo = self._repo.get(pull.repo)
        short = self._author_short.get(author)
        long = self._author_long.get(author)
        approved_by_author = self._approved_by.get(author)
        comments = self._comments.get(author)
        load = open_reviews or {}
        result = []
        for login in self._approvers:
            history = (
                (short.at(login, t) if short else 0.0)
                + (AUTHOR_LONG_WEIGHT * long.at(login, t) if long else 0.0)
                + (RECIPROCAL_WEIGHT * approved_by_author.at(login, t) if approved_by_author else 0.0)
                + (COMMENT_WEIGHT * comments.at(login, t) if comments else 0.0)
            )
            ages = self._ages[login]
            result.append(
                Candidate(
                    login=login,
                    expertise={prefix: repo.at(login, t)} if repo else {},
                    author_history={author: history},
                    open_reviews=load.get(login, 0),
                    median_response_hours=statistics.median(ages) if ages else None,
                    recent_activity=self._activity.at(login, t),
                    completed_reviews=self._completed.at(login, t),
                )
            )
        return result


def approvers_of(pull: ReviewedPull) -> list[str]:
    """The pull request's approvers other than its author and bots, lower-cased, in the data's order."""
    author = pull.author.lower()
    return [login for login in _lower(pull.approvers) if login != author and not is_bot(login)]


def _lower(logins: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(login.lower() for login in logins))
