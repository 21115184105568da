"""The auto-merge decision: each safety check, each refusal, and a property that nothing unsafe merges."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import find, given, settings
from hypothesis import strategies as st

from actions.common.config import parse_config
from actions.common.errors import InputError
from actions.merging.config import AutoMergeConfig
from actions.merging.engine import (
    CheckRun,
    CommitStatus,
    MergeQueueState,
    PullState,
    Review,
    RunRisk,
    check_eligibility,
)

SHA = "b" * 40


def _pr(**changes: Any) -> PullState:
    base: dict[str, Any] = {
        "number": 7,
        "author": "alice",
        "mergeable": True,
        "mergeable_state": "clean",
        "head_sha": SHA,
        "head_ref": "alice/fix",
        "base_ref": "main",
        "check_runs": [CheckRun(id=1, name="build", status="completed", conclusion="success")],
        "statuses": [
            CommitStatus(id=2, context="codecov/project", state="success", description="91.5% (+0.2%)")
        ],
        "reviews": [Review(id=3, login="bob", state="APPROVED")],
    }
    return PullState.model_validate(base | changes)


LOW = RunRisk(run_id=11, probability=0.1, risk_level="LOW")
CONFIG = AutoMergeConfig(coverage={"minimum": 80.0})  # type: ignore[arg-type]


def _failed(result: dict[str, Any]) -> set[str]:
    return {c["name"] for c in result["checks"] if not c["passed"]}


def test_a_safe_pull_request_is_eligible_with_the_design_shape() -> None:
    result = check_eligibility(_pr(), CONFIG, LOW)
    assert result["eligible"] and result["decision"] == "merge" and result["blocking_reasons"] == []
    assert [c["name"] for c in result["checks"]] == [
        "required_checks",
        "approvals",
        "no_conflicts",
        "up_to_date",
        "coverage",
        "risk",
        "labels",
    ]
    assert result["merge_method"] == "squash" and result["delete_branch"] is True
    assert "91.50%" in next(c["detail"] for c in result["checks"] if c["name"] == "coverage")


@pytest.mark.parametrize(
    ("changes", "risk", "failing"),
    [
        ({"check_runs": [CheckRun(id=1, name="build", status="in_progress")]}, LOW, "required_checks"),
        (
            {"check_runs": [CheckRun(id=1, name="build", status="completed", conclusion="failure")]},
            LOW,
            "required_checks",
        ),
        (
            {"check_runs": [CheckRun(id=1, name="build", status="completed", conclusion="weird")]},
            LOW,
            "required_checks",
        ),
        (
            {"check_runs": [CheckRun(id=1, name="build", status="completed", conclusion=None)]},
            LOW,
            "required_checks",
        ),
        ({"check_runs": [], "statuses": []}, LOW, "required_checks"),
        (
            {"statuses": [CommitStatus(id=2, context="codecov/project", state="error")]},
            LOW,
            "required_checks",
        ),
        ({"reviews": []}, LOW, "approvals"),
        (
            {
                "reviews": [
                    Review(id=3, login="bob", state="APPROVED"),
                    Review(id=4, login="carol", state="CHANGES_REQUESTED"),
                ]
            },
            LOW,
            "approvals",
        ),
        (
            {
                "reviews": [
                    Review(id=3, login="bob", state="APPROVED"),
                    Review(id=4, login="bob", state="DISMISSED"),
                ]
            },
            LOW,
            "approvals",
        ),
        ({"reviews": [Review(id=3, login="alice", state="APPROVED")]}, LOW, "approvals"),
        ({"mergeable": None}, LOW, "no_conflicts"),
        ({"mergeable": False, "mergeable_state": "dirty"}, LOW, "no_conflicts"),
        ({"mergeable_state": "behind"}, LOW, "up_to_date"),
        ({"mergeable_state": "blocked"}, LOW, "up_to_date"),
        ({"mergeable_state": "unknown"}, LOW, "up_to_date"),
        (
            {
                "statuses": [
                    CommitStatus(id=2, context="codecov/project", state="success", description="79.9%")
                ]
            },
            LOW,
            "coverage",
        ),
        ({"statuses": [CommitStatus(id=2, context="ci/other", state="success")]}, LOW, "coverage"),
        ({}, None, "risk"),
        ({}, RunRisk(run_id=1, probability=0.51, risk_level="HIGH"), "risk"),
        ({"labels": ["WIP"]}, LOW, "labels"),
    ],
)
def test_every_refusal_names_its_check(changes: dict[str, Any], risk: RunRisk | None, failing: str) -> None:
    result = check_eligibility(_pr(**changes), CONFIG, risk)
    assert not result["eligible"] and result["decision"] == "blocked"
    assert failing in _failed(result)
    assert any(reason.startswith(f"{failing}: ") for reason in result["blocking_reasons"])


def test_a_later_approval_replaces_a_change_request_and_rerun_checks_supersede() -> None:
    pr = _pr(
        reviews=[
            Review(id=3, login="bob", state="CHANGES_REQUESTED"),
            Review(id=5, login="bob", state="APPROVED"),
        ],
        check_runs=[
            CheckRun(id=1, name="build", status="completed", conclusion="failure"),
            CheckRun(id=9, name="build", status="completed", conclusion="success"),
            CheckRun(id=10, name="auto-merge", status="in_progress"),
        ],
    )
    assert check_eligibility(pr, CONFIG, LOW)["eligible"]


@pytest.mark.parametrize(
    ("changes", "config", "why"),
    [
        ({"draft": True}, CONFIG, "draft"),
        ({"labels": ["No-Auto-Merge"]}, CONFIG, "exempt"),
        ({"state": "closed"}, CONFIG, "not open"),
        ({}, AutoMergeConfig(require_label="automerge"), "automerge"),
        ({}, AutoMergeConfig(enabled=False), "disabled"),
    ],
)
def test_skipped_pull_requests_are_never_eligible(
    changes: dict[str, Any], config: AutoMergeConfig, why: str
) -> None:
    result = check_eligibility(_pr(**changes), config, LOW)
    assert result["decision"] == "skipped" and not result["eligible"] and why in result["skip_reason"]


def test_settings_that_relax_a_check_do_so_explicitly() -> None:
    behind = _pr(mergeable_state="behind")
    assert check_eligibility(behind, CONFIG.model_copy(update={"merge_queue": True}), LOW)["eligible"]
    missing = CONFIG.model_copy(update={"risk": CONFIG.risk.model_copy(update={"on_missing": "allow"})})
    assert check_eligibility(_pr(), missing, None)["eligible"]
    required = CONFIG.model_copy(update={"required_checks": ("test",)})
    assert "test has not reported" in check_eligibility(_pr(), required, LOW)["blocking_reasons"][0]


def test_a_merge_queue_replaces_the_up_to_date_check_by_enqueueing() -> None:
    queue = MergeQueueState(enabled=True, node_id="PR_x")
    behind = check_eligibility(_pr(mergeable_state="behind", merge_queue=queue), CONFIG, LOW)
    assert behind["eligible"] and behind["decision"] == "enqueue"
    assert "merge_queue" in [c["name"] for c in behind["checks"]]
    assert "up_to_date" not in [c["name"] for c in behind["checks"]]
    assert behind["merge_queue"] == {"enabled": True, "in_queue": False, "position": None, "state": None}
    without = check_eligibility(_pr(merge_queue=MergeQueueState(enabled=False)), CONFIG, LOW)
    assert without["decision"] == "merge"
    assert check_eligibility(
        _pr(mergeable_state="behind", merge_queue=MergeQueueState(enabled=False)), CONFIG, LOW
    )["blocking_reasons"] == ["up_to_date: the branch is behind its base"]


def test_a_pull_request_in_the_queue_is_reported_and_never_enqueued_again() -> None:
    queued = MergeQueueState(enabled=True, in_queue=True, position=2, state="AWAITING_CHECKS")
    result = check_eligibility(_pr(merge_queue=queued), CONFIG, LOW)
    assert not result["eligible"] and result["decision"] == "queued"
    assert result["skip_reason"] == "already in the merge queue at position 2 (AWAITING_CHECKS)"


def test_a_configuration_contradicting_github_blocks() -> None:
    expects = CONFIG.model_copy(update={"merge_queue": True})
    result = check_eligibility(_pr(merge_queue=MergeQueueState(enabled=False)), expects, LOW)
    assert result["blocking_reasons"] == [
        "merge_queue: merge_queue is true but GitHub reports no merge queue on the base branch"
    ]
    refuses = CONFIG.model_copy(update={"merge_queue": False})
    result = check_eligibility(_pr(merge_queue=MergeQueueState(enabled=True)), refuses, LOW)
    assert result["blocking_reasons"] == [
        "merge_queue: the base branch requires its merge queue but merge_queue is false"
    ]


# --- the property: no combination of states merges unless every safety condition holds ---------

CHECK_STATES = st.sampled_from(
    [
        ("completed", "success"),
        ("completed", "neutral"),
        ("completed", "skipped"),
        ("completed", "failure"),
        ("completed", "cancelled"),
        ("completed", "timed_out"),
        ("completed", None),
        ("completed", "mystery"),
        ("queued", None),
        ("in_progress", None),
    ]
)
STATUS_STATES = st.sampled_from(["success", "pending", "failure", "error", "mystery"])
REVIEW_STATES = st.sampled_from(["APPROVED", "CHANGES_REQUESTED", "COMMENTED", "DISMISSED", "PENDING"])
MERGE_STATES = st.sampled_from(
    ["clean", "unstable", "has_hooks", "behind", "blocked", "dirty", "draft", "unknown"]
)
LOGINS = st.sampled_from(["alice", "bob", "carol", "dan"])
QUEUES = st.one_of(
    st.none(),
    st.builds(
        MergeQueueState,
        enabled=st.booleans(),
        in_queue=st.booleans(),
        position=st.one_of(st.none(), st.integers(1, 5)),
        state=st.sampled_from([None, "QUEUED", "AWAITING_CHECKS", "MERGEABLE", "UNMERGEABLE", "LOCKED"]),
    ),
)
LABELS = st.lists(st.sampled_from(["bug", "wip", "hold", "no-auto-merge", "automerge", "docs"]), max_size=2)


def _sometimes(draw: st.DrawFn, good: Any, other: st.SearchStrategy[Any]) -> Any:
    """``good`` most of the time, else anything ``other`` draws: single faults stay frequent."""
    return draw(other) if draw(st.integers(0, 7)) == 0 else good


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[PullState, AutoMergeConfig, RunRisk | None]:
    run_states = _sometimes(draw, [("completed", "success")], st.lists(CHECK_STATES, max_size=4))
    status_states = _sometimes(draw, ["success"], st.lists(STATUS_STATES, max_size=3))
    review_states = _sometimes(draw, ["APPROVED"], st.lists(REVIEW_STATES, max_size=5))
    # distinct ids, in any order: GitHub's ids are unique and later objects are not listed last
    count = len(run_states) + len(status_states) + len(review_states)
    ids = draw(st.lists(st.integers(1, 200), unique=True, min_size=count, max_size=count))
    runs = [
        CheckRun(
            id=ids.pop(),
            name=_sometimes(draw, "build", st.sampled_from(["build", "test", "lint"])),
            status=s,
            conclusion=c,
        )
        for s, c in run_states
    ]
    statuses = [
        CommitStatus(
            id=ids.pop(),
            context=_sometimes(draw, "codecov/project", st.sampled_from(["codecov/project", "ci/legacy"])),
            state=state,
            description=_sometimes(draw, "85.0%", st.sampled_from(["85.0%", "79.0%", "", "Waiting"])),
        )
        for state in status_states
    ]
    reviews = [
        Review(id=ids.pop(), login=_sometimes(draw, "bob", LOGINS), state=state) for state in review_states
    ]
    pr = PullState(
        number=1,
        author="alice",
        head_sha=SHA,
        head_ref="f",
        base_ref="main",
        draft=_sometimes(draw, False, st.booleans()),
        state=_sometimes(draw, "open", st.sampled_from(["open", "closed"])),
        mergeable=_sometimes(draw, True, st.sampled_from([True, False, None])),
        mergeable_state=_sometimes(draw, "clean", MERGE_STATES),
        labels=tuple(_sometimes(draw, [], LABELS)),
        check_runs=tuple(runs),
        statuses=tuple(statuses),
        reviews=tuple(reviews),
        merge_queue=_sometimes(draw, None, QUEUES),
    )
    config = AutoMergeConfig(
        required_approvals=_sometimes(draw, 1, st.integers(0, 3)),
        required_checks=tuple(
            _sometimes(draw, [], st.lists(st.sampled_from(["build", "test"]), max_size=2, unique=True))
        ),
        merge_queue=_sometimes(draw, None, st.sampled_from([None, True, False])),
        coverage={"minimum": _sometimes(draw, 80.0, st.sampled_from([None, 80.0]))},  # type: ignore[arg-type]
        risk={"on_missing": _sometimes(draw, "block", st.sampled_from(["block", "allow"]))},  # type: ignore[arg-type]
    )
    risk = _sometimes(
        draw, LOW, st.sampled_from([None, LOW, RunRisk(run_id=2, probability=0.9, risk_level="CRITICAL")])
    )
    return pr, config, risk


def _safe(pr: PullState, config: AutoMergeConfig, risk: RunRisk | None) -> bool:
    """An independent statement of the safety conditions (written without the engine's helpers)."""
    latest: dict[str, tuple[int, bool]] = {}
    for run in pr.check_runs:
        ok = run.status == "completed" and run.conclusion in ("success", "neutral", "skipped")
        if run.name != "auto-merge" and run.id >= latest.get(run.name, (-1, False))[0]:
            latest[run.name] = (run.id, ok)
    for status in pr.statuses:
        if status.id >= latest.get(status.context, (-1, False))[0]:
            latest[status.context] = (status.id, status.state == "success")
    checks_ok = bool(latest) and all(ok for _, ok in latest.values())
    checks_ok = checks_ok and all(name in latest for name in config.required_checks)
    final: dict[str, str] = {}
    for _, review in sorted(enumerate(pr.reviews), key=lambda t: (t[1].id, t[0])):
        if review.login != pr.author and review.state in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED"):
            final[review.login] = review.state
    reviews_ok = (
        "CHANGES_REQUESTED" not in final.values()
        and sum(s == "APPROVED" for s in final.values()) >= config.required_approvals
    )
    detected = None if pr.merge_queue is None else pr.merge_queue.enabled
    contradicted = config.merge_queue is not None and detected is not None and config.merge_queue != detected
    queue = bool(config.merge_queue) if detected is None else detected
    merge_ok = (
        not contradicted
        and pr.mergeable is True
        and (
            pr.mergeable_state in ("clean", "unstable", "has_hooks")
            or (pr.mergeable_state == "behind" and queue)
        )
    )
    in_queue_ok = pr.merge_queue is None or not pr.merge_queue.in_queue
    codecov = [x for x in pr.statuses if "codecov" in x.context]
    newest = max(codecov, key=lambda x: x.id) if codecov else None
    coverage_ok = config.coverage.minimum is None or (
        newest is not None and newest.state == "success" and newest.description == "85.0%"
    )
    risk_ok = (risk is None and config.risk.on_missing == "allow") or (
        risk is not None and risk.probability <= 0.5
    )
    labels_ok = not {"wip", "hold", "no-auto-merge"} & set(pr.labels)
    return (
        pr.state == "open"
        and not pr.draft
        and checks_ok
        and reviews_ok
        and merge_ok
        and coverage_ok
        and risk_ok
        and labels_ok
        and in_queue_ok
    )


@settings(max_examples=1000, deadline=None)
@given(scenarios())
def test_nothing_unsafe_is_ever_eligible(scenario: tuple[PullState, AutoMergeConfig, RunRisk | None]) -> None:
    pr, config, risk = scenario
    result = check_eligibility(pr, config, risk)
    detected = None if pr.merge_queue is None else pr.merge_queue.enabled
    queue = bool(config.merge_queue) if detected is None else detected
    if result["eligible"]:
        assert _safe(pr, config, risk), result
        assert all(c["passed"] for c in result["checks"])
        # a base branch with a merge queue is never merged into directly
        assert result["decision"] == ("enqueue" if queue else "merge")
    else:
        assert result["decision"] in ("blocked", "skipped", "queued")
    if pr.merge_queue is not None and pr.merge_queue.in_queue:
        assert not result["eligible"] and result["decision"] in ("queued", "skipped")


def test_the_property_generator_reaches_eligible_cases() -> None:
    # guards the property above against passing vacuously: it does generate mergeable cases
    found = find(
        scenarios(), lambda s: bool(check_eligibility(*s)["eligible"]), settings=settings(max_examples=5000)
    )
    assert _safe(*found)


# --- configuration files ------------------------------------------------------------------------


def test_config_errors_name_the_key_and_the_problem() -> None:
    with pytest.raises(InputError) as negative:
        parse_config("required_approvals: -1\n", "auto-merge.yml", AutoMergeConfig)
    assert str(negative.value) == (
        "auto-merge.yml: required_approvals: Input should be greater than or equal to 0"
    )
    with pytest.raises(InputError) as nested:
        parse_config("risk: {max_probability: 2}\nmerge_method: octopus\n", "auto-merge.yml", AutoMergeConfig)
    assert "risk.max_probability: Input should be less than or equal to 1" in str(nested.value)
    assert "merge_method: Input should be 'merge', 'squash' or 'rebase'" in str(nested.value)
    with pytest.raises(InputError, match="reqired_approvals: Extra inputs are not permitted"):
        parse_config("reqired_approvals: 2\n", "auto-merge.yml", AutoMergeConfig)
    with pytest.raises(InputError, match="top level must be a mapping"):
        parse_config("- a\n- b\n", "auto-merge.yml", AutoMergeConfig)
    assert parse_config("", "auto-merge.yml", AutoMergeConfig) == AutoMergeConfig()
    assert parse_config("# nothing\n", "auto-merge.yml", AutoMergeConfig) == AutoMergeConfig()


def test_a_key_given_twice_is_refused_not_silently_overridden() -> None:
    with pytest.raises(InputError) as twice:
        parse_config("required_approvals: 2\nrequired_approvals: 0\n", "auto-merge.yml", AutoMergeConfig)
    assert str(twice.value) == (
        "auto-merge.yml: the key 'required_approvals' is given twice (line 2, column 1); "
        "YAML allows each key once"
    )
    with pytest.raises(InputError, match="the key 'max_probability' is given twice"):
        parse_config("risk:\n  max_probability: 0.2\n  max_probability: 0.9\n", "a.yml", AutoMergeConfig)
    # the same name in two different mappings is two keys
    both = parse_config("enabled: true\nrevert: {enabled: false}\n", "auto-merge.yml", AutoMergeConfig)
    assert both.enabled and not both.revert.enabled


def test_config_errors_never_echo_the_value() -> None:
    secret = "ghp_" + "S" * 36
    for text in (
        f"required_approvals: {secret}\n",
        f"merge_method: {secret}\n",
        f"a: [{secret}\n",
        f"{secret}: 1\n",
        f"{secret}: 1\n{secret}: 2\n",
    ):
        with pytest.raises(InputError) as error:
            parse_config(text, "auto-merge.yml", AutoMergeConfig)
        assert secret not in str(error.value) and "SSSSSSSS" not in str(error.value), str(error.value)


def test_malformed_pull_request_payloads_are_refused() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError):
        _pr(head_sha="not-a-sha")
    with pytest.raises(ValidationError):
        _pr(reviews=[{"login": "bob", "state": "LGTM"}])
    with pytest.raises(ValidationError):
        _pr(number=0)
