"""``repopilot benchmark routing``: does the routing engine name the people who actually approve?

Protocol. Each team file of the community-health layout (merged pull requests with their author,
repository, approvers, commenters, merge time and age) is replayed in time order. At each pull
request's routing instant the engine ranks every earlier approver of the team, with the *default*
:class:`~actions.routing.config.RoutingConfig`, from features built only from pull requests merged
strictly before that instant (:class:`~pipelines.features.routing_history.TeamHistory`); the
ranking goes through :func:`actions.routing.engine.rank_candidates`, the engine users run.

* ``--as-of merged`` (default): the routing instant is the merge time, so the history is every pull
  request merged earlier; this is the protocol of the issue's baseline figures.
* ``--as-of created``: the routing instant is the opening time (merge time minus ``age`` days,
  which is rounded up, so never too late); stricter, and the only mode in which the router's own
  earlier picks can still be open, so the only one where the workload factor and the cap see a load.
  A pick counts as an open review until its pull request merges, which overstates the load of
  long-lived pull requests: with the default cap, the likeliest approver is often skipped.

A pull request is scored when it has at least one approver who is neither its author nor a bot, and
the team recorded at least one pull request before its routing instant; the same pull requests are
scored for the engine and for the baseline. Its approvers are the truth: ``top1``/``top3`` say
whether one of them is ranked first / in the first three, ``mrr`` is the mean of one over the best
rank of an approver (zero when none is ranked).

``baseline`` ranks the author's past approvers by how many of the author's pull requests each
approved, then everyone else by how many pull requests of the team they approved (ties by login).

``load_gini`` is how unevenly the top-ranked picks spread over people: per team, the Gini
coefficient of the number of first places over everyone who was a candidate at least once (people
never picked count, as zeros), averaged over teams weighted by scored pull requests.
``actual_gini`` is the same for the real approvals, for scale.

Teams are split by a hash of their file name into a ``tuning`` half and a ``held_out`` half. The
defaults of the routing configuration and of the history's half-lives were chosen by looking only at
the tuning half; the held-out half is reported separately (and the project owners keep further teams
that nobody here has seen).
"""

from __future__ import annotations

import hashlib
import heapq
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from actions.routing.config import RoutingConfig
from actions.routing.engine import RoutedItem, rank_candidates
from pipelines.features.routing_history import ReviewedPull, TeamHistory, approvers_of

AsOf = Literal["merged", "created"]
METRICS = ("top1", "top3", "mrr")


def team_split(file_name: str) -> Literal["tuning", "held_out"]:
    """Which half a team file belongs to: fixed by a hash of its name, not by its content."""
    digest = int(hashlib.sha256(file_name.encode("utf-8")).hexdigest(), 16)
    return "tuning" if digest % 2 == 0 else "held_out"


def load_team(path: Path) -> tuple[str, list[ReviewedPull]]:
    """The team's name and its merged pull requests with a known author, in merge order."""
    document = json.loads(path.read_text(encoding="utf-8"))
    team = str(document.get("team") or path.stem)
    pulls = []
    for row in document.get("pullRequests") or []:
        if not row.get("author") or not row.get("mergedAt"):
            continue
        merged = datetime.fromisoformat(str(row["mergedAt"]).replace("Z", "+00:00")).timestamp() / 86_400.0
        pulls.append(
            ReviewedPull(
                team=team,
                repo=str(row.get("repo") or ""),
                url=str(row.get("url") or ""),
                author=str(row["author"]),
                approvers=tuple(str(login) for login in (row.get("approvers") or {})),
                commenters=tuple(str(login) for login in (row.get("commenters") or {})),
                merged_at=merged,
                age_days=float(row.get("age") or 0.0),
            )
        )
    pulls.sort(key=lambda pull: (pull.merged_at, pull.url))
    return team, pulls


@dataclass
class _Tally:
    """Hits of one ranker over scored pull requests, and its first places per person."""

    prs: int = 0
    top1: int = 0
    top3: int = 0
    reciprocal: float = 0.0
    picks: Counter[str] = field(default_factory=Counter)

    def add(self, ranking: Sequence[str], truth: set[str]) -> None:
        self.prs += 1
        rank = next((position for position, login in enumerate(ranking, 1) if login in truth), None)
        if rank is not None:
            self.top1 += rank == 1
            self.top3 += rank <= 3
            self.reciprocal += 1.0 / rank
        if ranking:
            self.picks[ranking[0]] += 1


@dataclass
class TeamResult:
    """One team's replay: both rankers' tallies, the candidate pool and the real approvals."""

    team: str
    split: str
    engine: _Tally = field(default_factory=_Tally)
    baseline: _Tally = field(default_factory=_Tally)
    pool: set[str] = field(default_factory=set)
    actual: Counter[str] = field(default_factory=Counter)


def gini(counts: Iterable[float]) -> float:
    """Gini coefficient of non-negative counts (0: all equal; towards 1: all on one)."""
    values = sorted(counts)
    total = sum(values)
    n = len(values)
    if n == 0 or total <= 0:
        return 0.0
    weighted = sum((2 * i - n - 1) * value for i, value in enumerate(values, 1))
    return weighted / (n * total)


def _baseline_ranking(
    author: str, by_author: dict[str, Counter[str]], overall: Counter[str], people: Iterable[str]
) -> list[str]:
    own = by_author.get(author, Counter())
    return sorted(
        (login for login in people if login != author),
        key=lambda login: (-own[login], -overall[login], login),
    )


def replay_team(
    team: str, pulls: Sequence[ReviewedPull], config: RoutingConfig, as_of: AsOf = "merged", split: str = ""
) -> TeamResult:
    """Rank the approvers of each of the team's pull requests from earlier history only."""
    result = TeamResult(team=team, split=split)
    history = TeamHistory()
    by_author: dict[str, Counter[str]] = defaultdict(Counter)
    overall: Counter[str] = Counter()
    people: dict[str, None] = {}
    # Routing (kind 0) sorts before recording (kind 1) at the same instant: strictly earlier history.
    events = [
        (pull.created_at if as_of == "created" else pull.merged_at, 0, i) for i, pull in enumerate(pulls)
    ]
    events += [(pull.merged_at, 1, i) for i, pull in enumerate(pulls)]
    events.sort()
    open_picks: list[tuple[float, str]] = []
    load: Counter[str] = Counter()
    for instant, kind, index in events:
        pull = pulls[index]
        truth = set(approvers_of(pull))
        if kind == 1:
            history.record(pull)
            author = pull.author.lower()
            for login in truth:
                by_author[author][login] += 1
                overall[login] += 1
                people.setdefault(login, None)
            continue
        if not truth or history.recorded == 0:
            continue
        while open_picks and open_picks[0][0] <= instant:
            load[heapq.heappop(open_picks)[1]] -= 1
        item = RoutedItem(number=_number(pull.url), author=pull.author, paths=(f"{pull.repo}/",))
        ranking = rank_candidates(item, history.candidates(pull, instant, load), config)
        result.engine.add(ranking, truth)
        result.baseline.add(_baseline_ranking(pull.author.lower(), by_author, overall, people), truth)
        result.pool.update(login for login in people if login != pull.author.lower())
        result.actual.update(truth)
        if ranking:
            load[ranking[0]] += 1
            heapq.heappush(open_picks, (pull.merged_at, ranking[0]))
    return result


def _number(url: str) -> int:
    tail = url.rstrip("/").rsplit("/", 1)[-1]
    return int(tail) if tail.isdigit() else 0


def _figures(results: Sequence[TeamResult], ranker: Literal["engine", "baseline"]) -> dict[str, Any]:
    tallies = [(getattr(r, ranker), r) for r in results]
    prs = sum(t.prs for t, _ in tallies)
    if prs == 0:
        return {"prs": 0, "top1": None, "top3": None, "mrr": None, "load_gini": None}
    return {
        "prs": prs,
        "top1": round(sum(t.top1 for t, _ in tallies) / prs, 4),
        "top3": round(sum(t.top3 for t, _ in tallies) / prs, 4),
        "mrr": round(sum(t.reciprocal for t, _ in tallies) / prs, 4),
        "load_gini": round(
            sum(t.prs * gini(t.picks.get(login, 0) for login in r.pool) for t, r in tallies) / prs, 4
        ),
    }


def _section(results: Sequence[TeamResult]) -> dict[str, Any]:
    engine = _figures(results, "engine")
    baseline = _figures(results, "baseline")
    prs = engine["prs"]
    actual = (
        round(sum(r.engine.prs * gini(r.actual.get(login, 0) for login in r.pool) for r in results) / prs, 4)
        if prs
        else None
    )
    section: dict[str, Any] = {**engine, "baseline": baseline, "actual_gini": actual}
    if prs:
        section["gain"] = {key: round(engine[key] - baseline[key], 4) for key in (*METRICS, "load_gini")}
    return section


def run_routing_benchmark(
    data: Path,
    json_path: Path | None = None,
    *,
    as_of: AsOf = "merged",
    teams: Sequence[str] | None = None,
    config: RoutingConfig | None = None,
    quiet: bool = False,
) -> dict[str, Any]:
    """Replay every team file in ``data`` (or those named in ``teams``), print and return the figures."""
    config = config or RoutingConfig()
    files = sorted(data.glob("*.json"))
    if teams:
        wanted = {name.removesuffix(".json") for name in teams}
        files = [path for path in files if path.stem in wanted]
    if not files:
        raise ValueError(f"no team files (*.json) to replay in {data}")
    started = time.perf_counter()
    results = []
    for path in files:
        team, pulls = load_team(path)
        results.append(replay_team(team, pulls, config, as_of, split=team_split(path.name)))
    seconds = time.perf_counter() - started
    report: dict[str, Any] = {
        "data": str(data),
        "as_of": as_of,
        **_section(results),
        "seconds": round(seconds, 2),
        "config": config.model_dump(mode="json"),
        "splits": {
            split: {"teams": [r.team for r in results if r.split == split], **_section(chosen)}
            for split in ("tuning", "held_out")
            if (chosen := [r for r in results if r.split == split])
        },
        "teams": {r.team: {"split": r.split, **_section([r])} for r in results},
    }
    if not quiet:
        _print(report)
    if json_path is not None:
        json_path.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(report, indent=2), encoding="utf-8")
    return report


def _print(report: dict[str, Any]) -> None:
    print(
        f"routing benchmark (as of {report['as_of']}): {report['prs']:,} pull requests, {report['seconds']} s"
    )
    print(f"{'':<26}{'PRs':>7}  {'top1':>6} {'top3':>6} {'mrr':>6} {'gini':>6}")
    rows = [("all teams", report)] + [
        (f"{name} teams", section) for name, section in report["splits"].items()
    ]
    for name, section in rows:
        for label, figures in ((f"{name}: engine", section), (f"{name}: baseline", section["baseline"])):
            if figures["prs"]:
                print(
                    f"{label:<26}{figures['prs']:>7}  {figures['top1']:6.3f} {figures['top3']:6.3f} "
                    f"{figures['mrr']:6.3f} {figures['load_gini']:6.3f}"
                )
