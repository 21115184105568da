"""The routing engine: exclusions, cap, exemptions, fallbacks, determinism, breakdown, config errors."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from actions.routing.config import FACTORS, RoutingConfig, Weights
from actions.routing.engine import (
    Candidate,
    RoundRobinState,
    RoutedItem,
    calculate_assignment,
    path_prefixes,
    rank_candidates,
)

PR = RoutedItem(number=7, author="alice", labels=("bug",), paths=("src/api/handlers.py", "docs/intro.md"))


def _team() -> list[Candidate]:
    return [
        Candidate("alice", expertise={"src/api/": 9.0}, author_history={"alice": 9.0}, recent_activity=9),
        Candidate("bob", expertise={"src/api/": 3.0}, recent_activity=2, completed_reviews=4),
        Candidate("carol", author_history={"alice": 5.0}, recent_activity=1, completed_reviews=1),
        Candidate("dave", expertise={"docs/": 1.0}, open_reviews=2, median_response_hours=2.0),
        Candidate("erin", recent_activity=0.5),
    ]


def test_the_author_is_never_selected_even_as_the_best_expert() -> None:
    result = calculate_assignment(PR, _team())
    assert "alice" not in result.selected
    assert "alice" not in [score.login for score in result.scores]
    assert result.excluded["alice"] == "the author"
    assert result.selected == ("bob", "carol")
    assert result.fallback_used is None
    assert result.role == "reviewers"


def test_author_comparison_ignores_case() -> None:
    result = calculate_assignment(RoutedItem(1, "ALICE", paths=PR.paths), _team())
    assert "alice" not in result.selected and "alice" in result.excluded


def test_issue_gets_assignees_and_their_count() -> None:
    issue = RoutedItem(number=3, author="zed", kind="issue", paths=("src/api/x.py",))
    result = calculate_assignment(issue, _team(), RoutingConfig(assignees=1))
    assert result.role == "assignees" and len(result.selected) == 1
    assert result.to_dict()["role"] == "assignees"


def test_candidates_at_the_cap_are_excluded() -> None:
    team = _team()
    team[1] = Candidate("bob", expertise={"src/api/": 3.0}, open_reviews=3, recent_activity=2)
    result = calculate_assignment(PR, team, RoutingConfig(max_open_reviews=3))
    assert "bob" not in result.selected
    assert result.excluded["bob"].startswith("at the workload cap")
    assert result.fallback_used is None


def test_everyone_over_the_cap_falls_back_to_round_robin_then_random() -> None:
    team = [Candidate(login, recent_activity=1, open_reviews=5) for login in ("bob", "carol", "dave")]
    config = RoutingConfig(max_open_reviews=5, reviewers=1)
    robin = calculate_assignment(PR, team, config, round_robin_state=RoundRobinState(last="bob"))
    assert robin.fallback_used == "round_robin"
    assert robin.selected == ("carol",)
    assert robin.round_robin_state == RoundRobinState(last="carol")
    assert "workload cap" in robin.reason
    wrap = calculate_assignment(PR, team, config, round_robin_state=RoundRobinState(last="dave"))
    assert wrap.selected == ("bob",)

    chance = calculate_assignment(PR, team, config, seed=3)
    assert chance.fallback_used == "random"
    assert chance.selected[0] in {"bob", "carol", "dave"}
    assert chance.confidence == 0.0


def test_random_only_when_round_robin_is_not_configured() -> None:
    team = [Candidate(login, open_reviews=9) for login in ("bob", "carol")]
    config = RoutingConfig(max_open_reviews=9, fallback=("random",))
    result = calculate_assignment(PR, team, config, round_robin_state=RoundRobinState())
    assert result.fallback_used == "random"


def test_no_fallback_configured_assigns_nobody() -> None:
    team = [Candidate("bob", open_reviews=9)]
    result = calculate_assignment(PR, team, RoutingConfig(max_open_reviews=9, fallback=()))
    assert result.selected == () and result.fallback_used is None
    assert "no reviewers assigned" in result.reason


def test_cold_start_without_evidence_uses_the_fallback_among_eligible() -> None:
    team = [Candidate("bob"), Candidate("carol"), Candidate("dave", open_reviews=50)]
    result = calculate_assignment(PR, team, RoutingConfig(reviewers=2), round_robin_state=RoundRobinState())
    assert result.fallback_used == "round_robin"
    assert result.selected == ("bob", "carol")
    assert "evidence" in result.reason


def test_excluded_users_and_bots_are_never_selected() -> None:
    team = [*_team(), Candidate("ci-bot", expertise={"src/api/": 99.0}, is_bot=True)]
    result = calculate_assignment(PR, team, RoutingConfig(excluded_users=("BOB",)))
    assert "bob" not in result.selected and "ci-bot" not in result.selected
    assert result.excluded["bob"] == "excluded by configuration"
    assert result.excluded["ci-bot"] == "a bot"


def test_exempt_label_means_no_assignment_with_a_reason() -> None:
    item = RoutedItem(number=9, author="alice", labels=("No-Auto-Assign",))
    result = calculate_assignment(item, _team())
    assert result.selected == () and result.scores == ()
    assert "exempt label 'no-auto-assign'" in result.reason


def test_factor_breakdown_sums_to_the_total_and_is_ordered() -> None:
    result = calculate_assignment(PR, _team())
    totals = [score.total for score in result.scores]
    assert totals == sorted(totals, reverse=True)
    weights = dict(zip(FACTORS, RoutingConfig().weights.normalised(), strict=True))
    for score in result.scores:
        assert set(score.values) == set(FACTORS)
        assert sum(score.contributions.values()) == pytest.approx(score.total)
        for name in FACTORS:
            assert 0.0 <= score.values[name] <= 1.0
            assert score.contributions[name] == pytest.approx(weights[name] * score.values[name])
    assert 0.0 <= result.confidence <= 1.0


def test_expertise_blends_paths_and_history_with_the_author() -> None:
    only_paths = RoutingConfig(
        author_history_share=0.0,
        weights=Weights(expertise=1, workload=0, response_time=0, availability=0, performance=0),
    )
    only_author = only_paths.model_copy(update={"author_history_share": 1.0})
    assert rank_candidates(PR, _team(), only_paths)[0] == "bob"
    assert rank_candidates(PR, _team(), only_author)[0] == "carol"


def test_usual_hours_and_response_time_shape_the_factors() -> None:
    night = [0.0] * 24
    night[3] = 1.0
    team = [
        Candidate("bob", recent_activity=1, active_hours=night, median_response_hours=48),
        Candidate("carol", recent_activity=1, median_response_hours=1),
    ]
    item = RoutedItem(1, "alice", created_at=datetime(2024, 5, 1, 15, tzinfo=UTC))
    scores = {s.login: s for s in calculate_assignment(item, team).scores}
    assert scores["bob"].values["availability"] == pytest.approx(0.5)
    assert scores["carol"].values["availability"] == pytest.approx(1.0)
    assert scores["carol"].values["response_time"] > 0.5 > scores["bob"].values["response_time"]


def test_deterministic_and_independent_of_input_order() -> None:
    team = _team()
    first = calculate_assignment(PR, team, seed=11).to_dict()
    again = calculate_assignment(PR, list(reversed(team)), seed=11).to_dict()
    assert first["selected"] == again["selected"] and first["scores"] == again["scores"]
    tied = [Candidate(login, recent_activity=1) for login in ("zoe", "bob", "mia")]
    assert calculate_assignment(PR, tied).selected == ("bob", "mia")
    over = [Candidate(login, open_reviews=20) for login in "abcdefgh"]
    picks = {calculate_assignment(PR, over, seed=5).selected for _ in range(5)}
    assert len(picks) == 1


def test_to_dict_is_json() -> None:
    payload = calculate_assignment(PR, _team()).to_dict()
    decoded = json.loads(json.dumps(payload))
    assert decoded["selected"] == ["bob", "carol"]
    assert set(decoded["scores"][0]["factors"]) == set(FACTORS)
    assert decoded["fallback_used"] is None


def test_path_prefixes() -> None:
    assert path_prefixes(["a/b/c.py", "README.md"]) == {"a/", "a/b/", "a/b/c.py", "README.md"}


@pytest.mark.parametrize(
    ("document", "key"),
    [
        ({"weights": {"expertise": -1}}, "weights.expertise"),
        (
            {
                "weights": {
                    "expertise": 0,
                    "workload": 0,
                    "response_time": 0,
                    "availability": 0,
                    "performance": 0,
                }
            },
            "weights",
        ),
        ({"reviewers": 0}, "reviewers"),
        ({"max_open_reviews": "many"}, "max_open_reviews"),
        ({"author_history_share": 1.5}, "author_history_share"),
        ({"fallback": ["round_robin", "lottery"]}, "fallback.1"),
        ({"fallback": ["random", "random"]}, "fallback"),
        ({"reviewer": 2}, "reviewer"),
        ({"weights": {"expertize": 1}}, "weights.expertize"),
    ],
)
def test_config_errors_name_the_key(document: dict[str, object], key: str) -> None:
    with pytest.raises(ValidationError) as caught:
        RoutingConfig.model_validate(document)
    locations = [".".join(str(part) for part in error["loc"]) for error in caught.value.errors()]
    assert key in locations, locations


def test_config_defaults_and_normalisation() -> None:
    config = RoutingConfig.model_validate({})
    assert config.fallback == ("round_robin", "random")
    assert sum(config.weights.normalised()) == pytest.approx(1.0)
    assert RoutingConfig(exempt_labels=("WIP", "wip")).exempt_labels == ("wip",)


logins = st.sampled_from(["alice", "bob", "carol", "dave", "erin", "frank", "gina"])
candidates = st.builds(
    Candidate,
    login=logins,
    expertise=st.dictionaries(st.sampled_from(["src/", "docs/", "src/api/"]), st.floats(0, 10), max_size=2),
    author_history=st.dictionaries(logins, st.floats(0, 10), max_size=2),
    open_reviews=st.integers(0, 6),
    median_response_hours=st.none() | st.floats(0, 500),
    recent_activity=st.floats(0, 20),
    completed_reviews=st.floats(0, 20),
    completion_rate=st.none() | st.floats(0, 1),
    is_bot=st.booleans(),
)


@settings(max_examples=150, deadline=None)
@given(
    team=st.lists(candidates, max_size=8),
    author=logins,
    cap=st.integers(1, 6),
    wanted=st.integers(1, 3),
    excluded=st.lists(logins, max_size=2),
    robin=st.none() | st.builds(RoundRobinState, st.none() | logins),
    seed=st.integers(0, 100),
)
def test_selection_never_breaks_the_rules(
    team: list[Candidate],
    author: str,
    cap: int,
    wanted: int,
    excluded: list[str],
    robin: RoundRobinState | None,
    seed: int,
) -> None:
    config = RoutingConfig(max_open_reviews=cap, reviewers=wanted, excluded_users=tuple(excluded))
    result = calculate_assignment(
        RoutedItem(1, author, paths=("src/api/x.py",)), team, config, round_robin_state=robin, seed=seed
    )
    first = {}
    for candidate in team:
        first.setdefault(candidate.login, candidate)
    assert len(result.selected) == len(set(result.selected)) <= wanted
    for login in result.selected:
        candidate = first[login]
        assert login != author
        assert login not in excluded
        assert not candidate.is_bot
        if candidate.open_reviews >= cap:
            assert result.fallback_used is not None
    if result.fallback_used is None and result.selected:
        assert [s.login for s in result.scores[: len(result.selected)]] == list(result.selected)
