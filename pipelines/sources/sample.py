"""The sample organisation: a seeded, synthetic GitHub organisation, repopilot's built-in demo source.

:func:`generate_sample_org` simulates an organisation ``repopilot-sample`` over a window of days
and returns a :class:`~pipelines.sources.recording.Recording` whose every object has the JSON
shape of one item of the GitHub REST list endpoint it stands for, so the parsing code that runs
on real recordings runs on it unchanged. It is labelled synthetic (``Recording.synthetic``).

The simulation is event driven and seeded, with a fixed end date, so one spec always gives the
same bytes. Its signals are real but noisy, because models and routing learn from them:

* people work in their home time zone and hours (weekdays), so activity has an hour-of-week
  profile; they know code areas and have an experience level;
* pull request authors change files in the areas they know; reviewers are people who know the
  touched areas, and answer later the busier they are and the further their hours are;
* workflow runs fail more for larger changes, less experienced authors, flaky workflows and
  right after a failure on the same branch (failures cluster); transient failures usually pass
  when re-run, permanent ones need a fix push; the logs of failed attempts carry the excerpt of
  their failure class;
* issues get a first response sooner the higher their priority.

:func:`flaky_workflows` tells which workflows were made flaky (the ground truth of the CI
signals), without generating the organisation.
"""

from __future__ import annotations

import base64
import dataclasses
import functools
import heapq
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from pipelines.sources import sample_catalog as cat
from pipelines.sources.recording import JSON, Recording
from pipelines.sources.sample_logs import (
    DEPENDENCY,
    PERMANENT,
    TRANSIENT,
    Failure,
    LogContext,
    LogJob,
    LogStep,
    build_logs_zip,
    failing_roles,
    pick_failure,
)

ORG = "repopilot-sample"
"""Login of the sample organisation."""

_API = "https://api.github.com"
_WEB = "https://github.com"
_MINUTE = 60
_HOUR = 3_600
_DAY = 86_400
_DEFAULT_END = datetime(2026, 11, 1, tzinfo=UTC)

_STEP_SECONDS: dict[str, float] = {
    "setup": 3,
    "checkout": 4,
    "toolchain": 10,
    "install": 40,
    "build": 60,
    "test": 140,
    "lint": 30,
    "e2e": 420,
    "services": 45,
    "upload": 5,
    "login": 3,
    "publish": 150,
    "deploy": 130,
    "smoke": 20,
    "post": 1,
    "complete": 1,
}
_SIZE_SENSITIVE = frozenset({"build", "test", "lint", "e2e"})
_WORKFLOW_NAMES = {"ci": "CI", "lint": "Lint", "e2e": "E2E tests", "deploy": "Deploy"}
_TIMEOUT_MINUTES = {"ci": 20, "lint": 10, "e2e": 25, "deploy": 30}
_PERMANENT_LOGIT = {"ci": -2.7, "lint": -3.1, "e2e": -3.2, "deploy": -4.2}
_TRANSIENT_RATE = {"ci": 0.02, "lint": 0.012, "e2e": 0.04, "deploy": 0.035}
_FLAKY_RATE = 0.18
_LEVELS = (("junior", 0.25, 0.6), ("mid", 0.45, 0.0), ("senior", 0.30, -0.5))
_BOTS = (("dependabot[bot]", 49699333), ("renovate[bot]", 29139614), ("github-actions[bot]", 41898282))
_STALE_MARK = (
    "This pull request has been automatically marked as stale because it has not had recent activity. "
    "It will be closed in 30 days if no further activity occurs."
)
_STALE_CLOSE = "This pull request was closed because it has been stalled for 30 days with no activity."
_FIXES_PER_PR = 0.45
"""Fix pushes a pull request needs on average (CI and review fixes); calibrates the run budget."""
_MERGED_SHARE = 0.85
"""Share of pull requests merged in the window; calibrates the run budget."""


@dataclass(frozen=True)
class SampleOrgSpec:
    """Size and seed of a sample organisation.

    Attributes:
        seed: seeds every random choice; the same spec always gives the same organisation.
        repositories: number of repositories (at most the catalogue's 24).
        people: number of human members; three bots are added.
        days: length of the simulated window, ending at ``end``.
        pull_requests_per_repo: pull requests opened per repository in the window.
        runs_per_repo: workflow runs per repository, on average over the organisation: extra pushes
            are simulated to reach it, but every pull request and merge runs its workflows at
            least once, so a smaller budget is exceeded.
        issues_per_repo: issues opened per repository in the window.
        end: the instant the recording is taken; nothing happens after it. Fixed, not the wall
            clock, so the output does not depend on when it is generated.
        with_logs: whether to render log archives of failed attempts.
    """

    seed: int = 7
    repositories: int = 4
    people: int = 30
    days: int = 120
    pull_requests_per_repo: int = 120
    runs_per_repo: int = 500
    issues_per_repo: int = 60
    end: datetime = _DEFAULT_END
    with_logs: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.repositories <= len(cat.REPOSITORIES):
            raise ValueError(f"repositories must be between 1 and {len(cat.REPOSITORIES)}")
        if self.people < 3:
            raise ValueError("people must be at least 3")
        if self.days < 7:
            raise ValueError("days must be at least 7")
        if min(self.pull_requests_per_repo, self.runs_per_repo, self.issues_per_repo) < 0:
            raise ValueError("counts must not be negative")
        if self.end.tzinfo is None:
            raise ValueError("end must be timezone-aware")

    @classmethod
    def large(cls) -> SampleOrgSpec:
        """The benchmark organisation with 1,000 people and 100,000 issues (5,000 per repository)."""
        return dataclasses.replace(cls.benchmark(), people=1_000, issues_per_repo=5_000)

    @classmethod
    def benchmark(cls) -> SampleOrgSpec:
        """The large organisation: 20 repositories, 10,000 pull requests, ~50,000 runs, no logs."""
        return cls(
            repositories=20,
            people=150,
            days=365,
            pull_requests_per_repo=500,
            runs_per_repo=2_500,
            issues_per_repo=150,
            with_logs=False,
        )


# --------------------------------------------------------------------------------------------
# Small helpers


@functools.lru_cache(maxsize=1 << 16)
def _iso(t: int) -> str:
    # Cached: steps and jobs share their boundary instants, so equal strings are shared too.
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(t))


def _iso_or_none(t: int | None) -> str | None:
    return None if t is None else _iso(t)


def _node(prefix: str, number: int) -> str:
    raw = base64.b64encode(number.to_bytes(8, "big"), altchars=b"-_").decode().rstrip("=")
    return f"{prefix}_kwDO{raw}"


def _logistic(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def _lognormal(rng: random.Random, median: float, sigma: float) -> float:
    return median * math.exp(rng.gauss(0.0, sigma))


def _poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _sha(rng: random.Random) -> str:
    return f"{rng.getrandbits(160):040x}"


def _slug(text: str) -> str:
    out = "".join(ch if ch.isalnum() else "-" for ch in text.lower())
    return "-".join(part for part in out.split("-") if part)[:40]


def _words(noun: str) -> str:
    return noun.replace("_", " ")


# --------------------------------------------------------------------------------------------
# The organisation's layout: people, repositories, workflows


@dataclass(eq=False)
class _Person:
    login: str
    id: int
    bot: bool
    name: str
    email: str
    offset: int
    start: int
    end: int
    off_hours: float
    level: str
    skill: float
    association: str
    activity: float
    areas: dict[str, list[str]] = field(default_factory=dict)

    def json(self) -> JSON:
        path = quote(self.login)
        return {
            "login": self.login,
            "id": self.id,
            "node_id": _node("U" if not self.bot else "BOT", self.id),
            "avatar_url": f"https://avatars.githubusercontent.com/u/{self.id}?v=4",
            "url": f"{_API}/users/{path}",
            "html_url": f"{_WEB}/{'apps/' + self.login[:-5] if self.bot else self.login}",
            "type": "Bot" if self.bot else "User",
            "site_admin": False,
        }


@dataclass(frozen=True)
class _JobTemplate:
    name: str
    needs: tuple[int, ...]
    steps: tuple[tuple[str, str], ...]


@dataclass(eq=False)
class _Workflow:
    id: int
    kind: str
    name: str
    path: str
    flaky: bool
    transient: float
    jobs: tuple[_JobTemplate, ...]
    on_pr: bool
    on_push: bool
    has_install: bool
    paths: tuple[str, ...] | None


@dataclass(eq=False)
class _Repo:
    index: int
    template: cat.RepoTemplate
    language: cat.Language
    id: int
    full: str
    code_areas: list[str]
    files: dict[str, list[str]]
    workflows: list[_Workflow]
    labels: dict[str, tuple[int, str, str]]
    bot: _Person
    knowers: dict[str, list[_Person]] = field(default_factory=dict)
    owners: list[_Person] = field(default_factory=list)
    coverage0: float = 80.0
    coverage_drift: float = 0.0

    @property
    def name(self) -> str:
        return self.template.name

    def json(self) -> JSON:
        return {
            "id": self.id,
            "node_id": _node("R", self.id),
            "name": self.name,
            "full_name": self.full,
            "private": False,
            "owner": _org_json(),
            "html_url": f"{_WEB}/{self.full}",
            "url": f"{_API}/repos/{self.full}",
        }


def _org_json() -> JSON:
    return {
        "login": ORG,
        "id": 190_000_000,
        "node_id": _node("O", 190_000_000),
        "url": f"{_API}/users/{ORG}",
        "html_url": f"{_WEB}/{ORG}",
        "type": "Organization",
        "site_admin": False,
    }


@dataclass
class _Layout:
    humans: list[_Person]
    bots: dict[str, _Person]
    repos: list[_Repo]


def _steps(*middle: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return (
        ("Set up job", "setup"),
        ("Run actions/checkout@v4", "checkout"),
        *middle,
        ("Post Run actions/checkout@v4", "post"),
        ("Complete job", "complete"),
    )


def _job_templates(kind: str, lang_key: str, lang: cat.Language) -> tuple[_JobTemplate, ...]:
    tool, install = (lang.toolchain, "toolchain"), (lang.install, "install")
    terraform = lang_key == "terraform"
    if kind == "ci":
        test_steps = [tool, install, (lang.test, "test")]
        if not terraform:
            test_steps.append(("Upload coverage to Codecov", "upload"))
        return (
            _JobTemplate(
                "validate" if terraform else "build", (), _steps(tool, install, (lang.build, "build"))
            ),
            _JobTemplate("plan" if terraform else "test", (0,), _steps(*test_steps)),
        )
    if kind == "lint":
        middle = [tool]
        if lang_key in {"python", "node"}:
            middle.append(install)
        middle += [(name, "lint") for name in lang.lint]
        return (_JobTemplate("lint", (), _steps(*middle)),)
    if kind == "e2e":
        return (
            _JobTemplate(
                "e2e",
                (),
                _steps(
                    tool,
                    install,
                    ("Start services", "services"),
                    ("Run end-to-end tests", "e2e"),
                    ("Upload test report", "upload"),
                ),
            ),
        )
    if terraform:
        return (
            _JobTemplate("plan", (), _steps(tool, install, ("Terraform plan", "test"))),
            _JobTemplate("apply", (0,), _steps(tool, install, ("Terraform apply", "deploy"))),
        )
    return (
        _JobTemplate(
            "build-image",
            (),
            _steps(
                ("Set up Docker Buildx", "toolchain"),
                ("Log in to GitHub Container Registry", "login"),
                ("Build and push image", "publish"),
            ),
        ),
        _JobTemplate(
            "deploy",
            (0,),
            _steps(
                ("Configure AWS credentials", "login"),
                ("Deploy to staging", "deploy"),
                ("Smoke test", "smoke"),
            ),
        ),
    )


def _file_name(lang_key: str, area: str, stem: str) -> str:
    if lang_key == "node":
        head, *rest = stem.split("_")
        stem = head + "".join(part.title() for part in rest)
    ext = cat.LANGUAGES[lang_key].ext
    return f"{area}{stem}{ext}"


def _make_people(spec: SampleOrgSpec, rng: random.Random) -> list[_Person]:
    logins: dict[str, None] = {}
    people: list[_Person] = []
    zones = [zone for zone, _ in cat.TIME_ZONES]
    zone_weights = [weight for _, weight in cat.TIME_ZONES]
    next_id = 1_000_000
    while len(people) < spec.people:
        first, last = rng.choice(cat.FIRST_NAMES), rng.choice(cat.LAST_NAMES)
        style = rng.random()
        if style < 0.35:
            login = f"{first}-{last}"
        elif style < 0.6:
            login = f"{first[0]}{last}"
        elif style < 0.8:
            login = f"{first}{last}"
        else:
            login = f"{first}{rng.randint(2, 99)}"
        if login in logins:
            continue
        logins[login] = None
        next_id += rng.randint(1, 40_000)
        u = rng.random()
        level, skill = "senior", -0.5
        cumulative = 0.0
        for name, share, level_skill in _LEVELS:
            cumulative += share
            if u < cumulative:
                level, skill = name, level_skill
                break
        start = rng.choice((7 * 60, 8 * 60, 8 * 60 + 30, 9 * 60, 9 * 60, 9 * 60 + 30, 10 * 60, 10 * 60 + 30))
        length = rng.choice((8 * 60, 8 * 60 + 30, 9 * 60, 9 * 60 + 30))
        people.append(
            _Person(
                login=login,
                id=next_id,
                bot=False,
                name=f"{first.title()} {last.title()}",
                email=f"{next_id}+{login}@users.noreply.github.com",
                offset=rng.choices(zones, zone_weights)[0] * _MINUTE,
                start=start * _MINUTE,
                end=(start + length) * _MINUTE,
                off_hours=rng.uniform(0.03, 0.12),
                level=level,
                skill=skill,
                association="MEMBER" if rng.random() < 0.85 else "COLLABORATOR",
                activity=_lognormal(rng, 1.0, 0.5),
            )
        )
    return people


def _make_bots() -> dict[str, _Person]:
    bots: dict[str, _Person] = {}
    for login, user_id in _BOTS:
        bots[login] = _Person(
            login=login,
            id=user_id,
            bot=True,
            name=login,
            email=f"{user_id}+{login}@users.noreply.github.com",
            offset=0,
            start=0,
            end=_DAY,
            off_hours=1.0,
            level="bot",
            skill=0.0,
            association="NONE" if login.startswith("github-actions") else "CONTRIBUTOR",
            activity=1.0,
        )
    return bots


def _build_layout(spec: SampleOrgSpec) -> _Layout:
    """Draw people, repositories and workflows; depends only on seed, repositories and people."""
    rng = random.Random(spec.seed * 7_919 + 1)  # noqa: S311 - synthetic data, not security
    humans = _make_people(spec, rng)
    bots = _make_bots()
    templates = rng.sample(cat.REPOSITORIES, spec.repositories)
    repos: list[_Repo] = []
    workflow_id, label_id, repo_id = 61_000_000, 5_100_000_000, 710_000_000
    for index, template in enumerate(templates):
        lang = cat.LANGUAGES[template.language]
        repo_id += rng.randint(1_000, 900_000)
        code_areas = [area.path for area in template.areas]
        files: dict[str, list[str]] = {}
        for area in template.areas:
            stems = list(area.nouns) + rng.sample(lang.generic, k=min(len(lang.generic), rng.randint(2, 4)))
            files[area.path] = [_file_name(template.language, area.path, stem) for stem in stems]
        test_nouns = [noun for area in template.areas for noun in area.nouns]
        files["tests/"] = [cat.LANGUAGES[template.language].test_pattern.format(noun=n) for n in test_nouns]
        files["docs/"] = list(cat.DOC_FILES)
        kinds = ["ci"]
        if rng.random() < 0.85 or not (template.e2e or template.deploy):
            kinds.append("lint")
        if template.e2e:
            kinds.append("e2e")
        if template.deploy:
            kinds.append("deploy")
        workflows: list[_Workflow] = []
        # Path filters, as in the workflows' `on.pull_request.paths`: lint looks at code and tests,
        # end-to-end suites at the areas they exercise; CI runs unless only documentation changed.
        paths: dict[str, tuple[str, ...] | None] = {
            "ci": None,
            "lint": (*code_areas, "tests/", ".github/workflows/", ""),
            "e2e": tuple(sorted(rng.sample(code_areas, k=2))),
            "deploy": None,
        }
        for kind in kinds:
            workflow_id += rng.randint(1, 5_000)
            jobs = _job_templates(kind, template.language, lang)
            workflows.append(
                _Workflow(
                    id=workflow_id,
                    kind=kind,
                    name=_WORKFLOW_NAMES[kind],
                    path=f".github/workflows/{kind}.yml",
                    flaky=False,
                    transient=_TRANSIENT_RATE[kind],
                    jobs=jobs,
                    on_pr=kind != "deploy",
                    on_push=kind in {"ci", "deploy"},
                    has_install=any(role == "install" for job in jobs for _, role in job.steps),
                    paths=paths[kind],
                )
            )
        files[".github/workflows/"] = [wf.path for wf in workflows]
        labels: dict[str, tuple[int, str, str]] = {}
        for name, color, description in cat.LABELS:
            label_id += rng.randint(1, 3_000)
            labels[name] = (label_id, color, description)
        for area_path in code_areas:
            label_id += rng.randint(1, 3_000)
            name = "area/" + area_path.rstrip("/").rsplit("/", 1)[-1]
            labels[name] = (label_id, cat.AREA_LABEL_COLOR, f"Code under {area_path}")
        repos.append(
            _Repo(
                index=index,
                template=template,
                language=lang,
                id=repo_id,
                full=f"{ORG}/{template.name}",
                code_areas=code_areas,
                files=files,
                workflows=workflows,
                labels=labels,
                bot=bots["dependabot[bot]"] if rng.random() < 0.65 else bots["renovate[bot]"],
                coverage0=rng.uniform(72.0, 91.0),
                coverage_drift=rng.uniform(-2.0, 3.0),
            )
        )
    # One or two workflows of the organisation are flaky; end-to-end suites are the usual suspects.
    candidates = [wf for repo in repos for wf in repo.workflows if wf.kind in {"e2e", "ci"}]
    candidates.sort(key=lambda wf: (wf.kind != "e2e", wf.id))
    pool = candidates[: max(2, len(candidates) // 2)]
    for wf in rng.sample(pool, k=min(len(pool), 1 if len(repos) < 3 else 2)):
        wf.flaky = True
        wf.transient = _FLAKY_RATE
    _assign_areas(humans, repos, rng)
    return _Layout(humans, bots, repos)


def _assign_areas(humans: list[_Person], repos: list[_Repo], rng: random.Random) -> None:
    order = list(humans)
    rng.shuffle(order)
    for i, person in enumerate(order):
        home = repos[i % len(repos)]
        count = 1 + (person.level == "senior") + (rng.random() < 0.4)
        person.areas[home.full] = rng.sample(home.code_areas, k=min(count, len(home.code_areas)))
        if rng.random() < 0.12:
            person.areas[home.full].append(".github/workflows/")
        if len(repos) > 1 and rng.random() < 0.3:
            other = rng.choice([repo for repo in repos if repo is not home])
            person.areas.setdefault(other.full, []).append(rng.choice(other.code_areas))
    for repo in repos:
        for area in [*repo.code_areas, ".github/workflows/"]:
            knowers = [p for p in humans if area in p.areas.get(repo.full, [])]
            wanted = 2 if area == ".github/workflows/" else 3
            while len(knowers) < min(wanted, len(humans)):
                homes = [p for p in humans if repo.full in p.areas and p not in knowers]
                extra = rng.choice(homes or [p for p in humans if p not in knowers])
                extra.areas.setdefault(repo.full, []).append(area)
                knowers.append(extra)
            repo.knowers[area] = knowers
        members = [p for p in humans if repo.full in p.areas]
        members.sort(key=lambda p: (p.level != "senior", -len(p.areas[repo.full]), p.id))
        repo.owners = members[:3]


def flaky_workflows(spec: SampleOrgSpec = SampleOrgSpec()) -> list[tuple[str, int]]:
    """Return ``(repo, workflow id)`` of the workflows the sample organisation made flaky.

    This is the ground truth behind the transient failure rates; it is cheap to compute, since
    it draws only the organisation's layout.
    """
    layout = _build_layout(spec)
    return [(repo.full, wf.id) for repo in layout.repos for wf in repo.workflows if wf.flaky]


# --------------------------------------------------------------------------------------------
# Simulated objects (times are epoch seconds; ids are given when rendering)


@dataclass(eq=False, slots=True)
class _Commit:
    sha: str
    t: int
    message: str
    author: _Person


@dataclass(eq=False, slots=True)
class _File:
    filename: str
    status: str
    additions: int
    deletions: int
    previous: str | None
    sha: str


@dataclass(eq=False, slots=True)
class _ReviewComment:
    author: _Person
    t: int
    path: str
    line: int
    body: str
    commit: str
    reply_to: _ReviewComment | None
    review: _Review | None = None
    id: int = 0


@dataclass(eq=False, slots=True)
class _Review:
    reviewer: _Person
    t: int
    state: str
    body: str
    commit: str
    comments: list[_ReviewComment] = field(default_factory=list)
    id: int = 0


@dataclass(eq=False, slots=True)
class _Comment:
    author: _Person
    t: int
    body: str
    id: int = 0


@dataclass(eq=False, slots=True)
class _Event:
    actor: _Person
    t: int
    event: str
    label: str | None = None
    subject: _Person | None = None
    commit: str | None = None
    id: int = 0


@dataclass(eq=False)
class _PR:
    repo: _Repo
    number: int
    author: _Person
    created: int
    kind: str
    title: str
    body: str
    branch: str
    files: list[_File]
    labels: list[str]
    draft: bool
    fate: str
    workflows: list[_Workflow]
    base_sha: str
    risk: float
    touches_manifest: bool
    has_tests: bool
    ready: int | None = None
    commits: list[_Commit] = field(default_factory=list)
    reviews: list[_Review] = field(default_factory=list)
    comments: list[_Comment] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    requested: list[_Person] = field(default_factory=list)
    assignees: list[_Person] = field(default_factory=list)
    merged: int | None = None
    closed: int | None = None
    merged_by: _Person | None = None
    merge_sha: str | None = None
    head_failing: bool = False
    id: int = 0
    issue_id: int = 0

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)

    @property
    def lines(self) -> int:
        return self.additions + self.deletions


@dataclass(eq=False)
class _Issue:
    repo: _Repo
    number: int
    author: _Person
    created: int
    kind: str
    priority: str
    area: str
    title: str
    body: str
    comments: list[_Comment] = field(default_factory=list)
    events: list[_Event] = field(default_factory=list)
    closed: int | None = None
    state_reason: str | None = None
    id: int = 0


@dataclass(eq=False, slots=True)
class _Step:
    name: str
    number: int
    role: str
    conclusion: str
    started: int
    completed: int


@dataclass(eq=False, slots=True)
class _Job:
    name: str
    created: int
    started: int
    completed: int
    conclusion: str
    steps: list[_Step]
    runner: str
    id: int = 0


@dataclass(eq=False, slots=True)
class _Attempt:
    number: int
    actor: _Person
    started: int
    completed: int
    conclusion: str
    failure: Failure | None
    jobs: list[_Job]
    suite_id: int = 0


@dataclass(eq=False, slots=True)
class _Run:
    repo: _Repo
    workflow: _Workflow
    event: str
    branch: str
    commit: _Commit
    pr: _PR | None
    actor: _Person
    created: int
    lines: int
    permanent: Failure | None
    dependency: Failure | None
    attempts: list[_Attempt] = field(default_factory=list)
    id: int = 0
    number: int = 0


_Ev = tuple[int, int, str, "_Run | None", "_Person | None", str]


# --------------------------------------------------------------------------------------------
# The simulation


class _Generator:
    def __init__(self, spec: SampleOrgSpec) -> None:
        self.spec = spec
        self.end = int(spec.end.timestamp())
        self.start = self.end - spec.days * _DAY
        self.layout = _build_layout(spec)
        self.rng = random.Random(spec.seed * 7_919 + 2)  # noqa: S311 - synthetic data, not security
        self.prs: list[_PR] = []
        self.issues: list[_Issue] = []
        self.runs: list[_Run] = []
        self.load: dict[str, list[int]] = {}
        self.actions_bot = self.layout.bots["github-actions[bot]"]

    # -- time ------------------------------------------------------------------------------

    def _in_hours(self, p: _Person, t: int) -> bool:
        day, sod = divmod(t + p.offset, _DAY)
        return (day + 3) % 7 < 5 and p.start <= sod < p.end

    def _advance(self, p: _Person, t: int, work_seconds: float) -> int:
        """The instant ``work_seconds`` of p's working time after t (weekdays, local hours)."""
        remaining = float(work_seconds)
        local = t + p.offset
        while True:
            day, sod = divmod(local, _DAY)
            # 1970-01-01 was a Thursday: (day + 3) % 7 is the weekday with Monday as 0.
            if (day + 3) % 7 < 5:
                if sod < p.start:
                    local, sod = day * _DAY + p.start, p.start
                if sod < p.end:
                    available = p.end - sod
                    if remaining <= available:
                        return int(local + remaining) - p.offset
                    remaining -= available
            local = (day + 1) * _DAY

    def _act(self, p: _Person, t: int, work_seconds: float) -> int:
        """When p does something that takes ``work_seconds`` of attention, starting at t."""
        if p.bot or self.rng.random() < p.off_hours:
            return t + int(work_seconds)
        return self._advance(p, t, work_seconds)

    def _work_time(self, p: _Person, lo: int, hi: int) -> int:
        """A random instant in [lo, hi] within p's working hours (mostly)."""
        rng = self.rng
        t = rng.randint(lo, hi)
        if p.bot or rng.random() < p.off_hours:
            return t
        for _ in range(40):
            if self._in_hours(p, t):
                return t
            t = rng.randint(lo, hi)
        return t

    # -- choices ---------------------------------------------------------------------------

    def _current_load(self, p: _Person, t: int) -> int:
        heap = self.load.setdefault(p.login, [])
        while heap and heap[0] <= t:
            heapq.heappop(heap)
        return len(heap)

    def _pick_reviewers(self, pr: _PR, t: int) -> list[_Person]:
        rng = self.rng
        areas = {_area_of(pr.repo, f.filename) for f in pr.files}
        weights: dict[str, tuple[_Person, float]] = {}
        for area in sorted(area for area in areas if area):
            for person in pr.repo.knowers.get(area, []):
                if person is pr.author:
                    continue
                level = {"senior": 1.6, "mid": 1.0, "junior": 0.5}[person.level]
                old = weights.get(person.login, (person, 0.0))[1]
                weights[person.login] = (person, old + level)
        if not weights:
            for person in pr.repo.owners:
                if person is not pr.author:
                    weights[person.login] = (person, 1.0)
        if not weights or rng.random() < 0.08:
            person = rng.choice([p for p in self.layout.humans if p is not pr.author])
            weights.setdefault(person.login, (person, 0.4))
        people = [person for person, _ in weights.values()]
        scores = [w / (1.0 + 0.5 * self._current_load(p, t)) for p, w in weights.values()]
        wanted = 1 if pr.author.bot else rng.choices((1, 2, 3), (0.55, 0.38, 0.07))[0]
        chosen: list[_Person] = []
        while people and len(chosen) < wanted:
            index = rng.choices(range(len(people)), scores)[0]
            chosen.append(people.pop(index))
            scores.pop(index)
        return chosen

    # -- planning ----------------------------------------------------------------------------

    def _plan_repo(self, repo: _Repo) -> None:
        rng, spec = self.rng, self.spec
        members = [p for p in self.layout.humans if repo.full in p.areas]
        others = [p for p in self.layout.humans if repo.full not in p.areas]
        authors = members + others
        author_weights = [
            p.activity * (4.0 * len(p.areas[repo.full]) if p in members else 0.15) for p in authors
        ]
        items: list[tuple[int, int, _Person, str]] = []
        for i in range(spec.pull_requests_per_repo):
            if rng.random() < 0.12:
                author = repo.bot
                created = self._bot_time(author)
            else:
                author = rng.choices(authors, author_weights)[0]
                created = self._work_time(author, self.start + _HOUR, self.end - 20 * _MINUTE)
            items.append((created, i, author, "pr"))
        reporter_weights = [p.activity * (2.0 if p in members else 0.5) for p in authors]
        for i in range(spec.issues_per_repo):
            author = rng.choices(authors, reporter_weights)[0]
            created = self._work_time(author, self.start + _HOUR, self.end - 20 * _MINUTE)
            items.append((created, spec.pull_requests_per_repo + i, author, "issue"))
        items.sort(key=lambda item: (item[0], item[1]))
        prs: list[_PR] = []
        for number, (created, _, author, what) in enumerate(items, start=1):
            if what == "pr":
                prs.append(self._plan_pr(repo, number, author, created))
            else:
                self.issues.append(self._plan_issue(repo, number, author, created))
        self.prs.extend(prs)

    def _bot_time(self, bot: _Person) -> int:
        """When a dependency bot opens a pull request: on its schedule, inside the window."""
        rng = self.rng
        t = rng.randint(self.start + _DAY, self.end - _HOUR)
        day = t // _DAY
        if bot.login.startswith("dependabot"):
            # Dependabot's weekly schedule: Mondays around 05:00 UTC.
            day -= (day + 3) % 7
            step = 7 * _DAY
            opened = day * _DAY + 5 * _HOUR + rng.randint(0, 40 * _MINUTE)
        else:
            # Renovate's "before 5am" schedule, every day.
            step = _DAY
            opened = day * _DAY + 2 * _HOUR + rng.randint(0, 2 * _HOUR)
        while opened > self.end - 20 * _MINUTE:
            opened -= step
        while opened < self.start + _HOUR:
            opened += step
        return min(opened, self.end - 20 * _MINUTE)

    def _plan_pr(self, repo: _Repo, number: int, author: _Person, created: int) -> _PR:
        rng = self.rng
        files: list[_File] = []
        labels: list[str] = []
        if author.bot:
            kind = "deps"
            package = rng.choice(repo.language.packages)
            old = f"{rng.randint(0, 5)}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            major = int(old.split(".")[0]) + (1 if rng.random() < 0.2 else 0)
            new = f"{major}.{rng.randint(0, 30)}.{rng.randint(0, 9)}"
            short = package.rsplit("/", 1)[-1]
            if author.login.startswith("dependabot"):
                title = f"Bump {package} from {old} to {new}"
                branch = f"dependabot/{repo.language.bot_ecosystem}/{short}-{new}"
                body = (
                    f"Bumps [{package}](https://github.com/{package}) from {old} to {new}.\n\n"
                    "Dependabot will resolve any conflicts with this PR as long as you don't alter it "
                    "yourself."
                )
            else:
                title = f"Update dependency {package} to v{new}"
                branch = f"renovate/{short}-{major}.x"
                body = (
                    "This PR contains the following updates:\n\n| Package | Change |\n|---|---|\n"
                    f"| {package} | `{old}` -> `{new}` |"
                )
            manifest, lockfile = repo.language.manifests
            files.append(_File(manifest, "modified", 1, 1, None, _sha(rng)))
            lock_lines = int(_lognormal(rng, 12, 1.0)) + 1
            files.append(_File(lockfile, "modified", lock_lines, lock_lines, None, _sha(rng)))
            labels.append("dependencies")
            if rng.random() < 0.05:
                labels.append("security")
            draft = False
            fate = "abandon" if rng.random() < 0.12 else "merge"
        else:
            kinds, shares = ("fix", "feature", "refactor", "docs", "ci"), (0.36, 0.35, 0.16, 0.09, 0.04)
            kind = rng.choices(kinds, shares)[0]
            mine = [
                a for a in author.areas.get(repo.full, []) if a in repo.files and a != ".github/workflows/"
            ]
            primary = rng.choice(mine) if mine else rng.choice(repo.code_areas)
            noun = rng.choice(next(a.nouns for a in repo.template.areas if a.path == primary))
            title = _title(rng, kind, noun)
            level_factor = {"junior": 0.8, "mid": 1.0, "senior": 1.15}[author.level]
            kind_factor = {"fix": 0.6, "feature": 1.7, "refactor": 1.3, "docs": 0.8, "ci": 0.4}[kind]
            total = int(_lognormal(rng, 42 * level_factor * kind_factor, 1.2)) + 1
            delete_ratio = {"fix": 0.5, "feature": 0.2, "refactor": 0.9, "docs": 0.4, "ci": 0.5}[kind]
            deletions = int(total * delete_ratio * rng.uniform(0.2, 1.3))
            paths: list[tuple[str, str]] = []
            if kind == "docs":
                paths = [("docs/", f) for f in rng.sample(repo.files["docs/"], k=rng.randint(1, 3))]
            elif kind == "ci":
                pool = repo.files[".github/workflows/"]
                paths = [
                    (".github/workflows/", f) for f in rng.sample(pool, k=rng.randint(1, min(2, len(pool))))
                ]
            else:
                count = max(1, min(25, int(_lognormal(rng, 2.0, 0.75) + 0.5)))
                if total > 400:
                    count = max(count, int(math.log2(total)))
                areas = [primary]
                if rng.random() < 0.25:
                    areas.append(rng.choice(repo.code_areas))
                for j in range(count):
                    area = areas[j % len(areas)]
                    paths.append((area, rng.choice(repo.files[area])))
                test_p = {"junior": 0.35, "mid": 0.5, "senior": 0.65}[author.level]
                if rng.random() < test_p:
                    paths.append(("tests/", rng.choice(repo.files["tests/"])))
                if rng.random() < 0.1:
                    paths.append(("docs/", rng.choice(repo.files["docs/"])))
                if rng.random() < 0.06:
                    paths.append(("", repo.language.manifests[0]))
            seen: dict[str, tuple[str, str]] = {}
            for area, path in paths:
                seen.setdefault(path, (area, path))
            weights = [rng.expovariate(1.0) + 0.05 for _ in seen]
            scale = sum(weights)
            for (area, path), weight in zip(seen.values(), weights, strict=True):
                adds = max(1, round(total * weight / scale))
                dels = round(deletions * weight / scale)
                status, previous, filename = "modified", None, path
                u = rng.random()
                if area and area != ".github/workflows/" and kind != "docs" and u < 0.12:
                    status, dels = "added", 0
                    filename = _new_file(path, rng)
                elif area and kind == "refactor" and u < 0.2:
                    status, previous = "renamed", path
                    filename = _new_file(path, rng)
                elif area and u > 0.985:
                    status, adds, dels = "removed", 0, max(dels, 5)
                files.append(_File(filename, status, adds, dels, previous, _sha(rng)))
            labels.append(
                {
                    "fix": "bug",
                    "feature": "enhancement",
                    "refactor": "refactor",
                    "docs": "documentation",
                    "ci": "ci",
                }[kind]
            )
            if kind in {"fix", "feature", "refactor"} and rng.random() < 0.4:
                labels.append("area/" + primary.rstrip("/").rsplit("/", 1)[-1])
            branch = rng.choice((f"{author.login}/", f"{kind}/", "")) + _slug(title)
            body = _pr_body(rng, kind, title, files)
            draft = rng.random() < 0.1
            lines = sum(f.additions + f.deletions for f in files)
            u = rng.random()
            if u < 0.07:
                fate = "stale"
            elif u < 0.07 + 0.05 + (0.07 if lines > 800 else 0.0):
                fate = "abandon"
            else:
                fate = "merge"
        files.sort(key=lambda f: f.filename)
        touched = [_area_of(repo, f.filename) for f in files]
        non_docs = any(not (f.filename.startswith("docs/") or f.filename.endswith(".md")) for f in files)
        workflows = []
        for wf in repo.workflows:
            if not wf.on_pr or (wf.kind == "ci" and not non_docs):
                continue
            if wf.paths is not None and not any(area in wf.paths for area in touched):
                continue
            workflows.append(wf)
        return _PR(
            repo=repo,
            number=number,
            author=author,
            created=created,
            kind=kind,
            title=title,
            body=body,
            branch=branch,
            files=files,
            labels=labels,
            draft=draft,
            fate=fate,
            workflows=workflows,
            base_sha=_sha(rng),
            risk=rng.gauss(0.0, 0.5),
            touches_manifest=any(f.filename in repo.language.manifests for f in files),
            has_tests=any(f.filename.startswith("tests/") for f in files),
        )

    def _plan_issue(self, repo: _Repo, number: int, author: _Person, created: int) -> _Issue:
        rng = self.rng
        kind = "bug" if rng.random() < 0.6 else "enhancement"
        weights = (0.1, 0.25, 0.4, 0.25) if kind == "bug" else (0.01, 0.12, 0.47, 0.4)
        priority = rng.choices(("P0", "P1", "P2", "P3"), weights)[0]
        area = rng.choice(repo.code_areas)
        noun = _words(rng.choice(next(a.nouns for a in repo.template.areas if a.path == area)))
        pool = cat.ISSUE_BUG_TITLES if kind == "bug" else cat.ISSUE_FEATURE_TITLES
        title = rng.choice(pool).format(noun=noun)
        title = title[0].upper() + title[1:]
        if kind == "bug":
            body = (
                f"### What happened\n{title}.\n\n### Steps to reproduce\n1. Call the {noun} endpoint\n"
                "2. Observe the error\n\n### Expected\nNo error."
            )
        else:
            body = f"### Problem\nWe need {noun} to be more flexible.\n\n### Proposal\n{title}."
        return _Issue(repo, number, author, created, kind, priority, area, title, body)

    # -- workflow runs -----------------------------------------------------------------------

    def _new_run(
        self,
        *,
        wf: _Workflow,
        repo: _Repo,
        event: str,
        branch: str,
        commit: _Commit,
        pr: _PR | None,
        actor: _Person,
        created: int,
        prev_failed: bool,
        lines: int,
        skill: float,
        risk: float,
        queued: bool = False,
    ) -> _Run:
        rng = self.rng
        size = math.log1p(lines) - math.log(81.0)
        if event == "push":
            x = _PERMANENT_LOGIT[wf.kind] - 1.0 + 0.35 * size + (2.2 if prev_failed else 0.0)
        else:
            x = _PERMANENT_LOGIT[wf.kind] + 0.6 * size + skill + risk + (1.5 if prev_failed else 0.0)
        if pr is not None and pr.author.bot:
            x -= 0.8
        permanent = pick_failure(rng, PERMANENT, wf.kind, wf.flaky) if rng.random() < _logistic(x) else None
        dependency = None
        if wf.has_install:
            p_dep = 0.005
            if pr is not None and pr.author.bot:
                p_dep = 0.16
            elif pr is not None and pr.touches_manifest:
                p_dep = 0.1
            if rng.random() < p_dep:
                dependency = pick_failure(rng, DEPENDENCY, wf.kind, wf.flaky)
        run = _Run(repo, wf, event, branch, commit, pr, actor, created, lines, permanent, dependency)
        run.attempts.append(self._attempt(run, 1, created, actor, queue=90 if queued else 0))
        self.runs.append(run)
        return run

    def _attempt(self, run: _Run, number: int, started: int, actor: _Person, queue: int = 0) -> _Attempt:
        rng, wf = self.rng, run.workflow
        if number > 1 and run.dependency is not None and rng.random() < 0.3:
            # The missing package got published, or the registry index caught up.
            run.dependency = None
        failure: Failure | None
        if rng.random() < wf.transient:
            failure = pick_failure(rng, TRANSIENT, wf.kind, wf.flaky)
        else:
            failure = run.dependency or run.permanent
        jobs = self._jobs(run, started, failure, queue)
        completed = max(job.completed for job in jobs)
        conclusion = failure.conclusion if failure is not None else "success"
        return _Attempt(number, actor, started, completed, conclusion, failure, jobs)

    def _place_failure(self, wf: _Workflow, failure: Failure) -> tuple[int, int]:
        rng = self.rng
        if failure.role == "any":
            spots = [
                (ji, si)
                for ji, job in enumerate(wf.jobs)
                for si, (_, role) in enumerate(job.steps)
                if role in failing_roles(failure)
            ]
            return rng.choice(spots)
        for role in failing_roles(failure):
            spots = [
                (ji, si) for ji, job in enumerate(wf.jobs) for si, (_, r) in enumerate(job.steps) if r == role
            ]
            if spots:
                # Installs and checkouts break in the first job that runs them.
                return spots[0] if role in {"install", "checkout", "toolchain"} else rng.choice(spots)
        last = len(wf.jobs) - 1
        return last, len(wf.jobs[last].steps) - 3

    def _jobs(self, run: _Run, t0: int, failure: Failure | None, queue: int) -> list[_Job]:
        rng, wf = self.rng, run.workflow
        speed = run.repo.language.speed if wf.kind in {"ci", "lint"} else 1.0
        size_factor = 1.0 + 0.12 * math.log1p(run.lines / 40.0)
        fail_at = self._place_failure(wf, failure) if failure is not None else (-1, -1)
        timeout = _TIMEOUT_MINUTES[wf.kind] * _MINUTE
        jobs: list[_Job] = []
        for ji, template in enumerate(wf.jobs):
            ready = t0 if not template.needs else max(jobs[n].completed for n in template.needs)
            created = ready + rng.randint(1, 3)
            if any(jobs[n].conclusion != "success" for n in template.needs):
                jobs.append(_Job(template.name, created, created, created, "skipped", [], ""))
                continue
            started = created + queue + int(_lognormal(rng, 6.0 if not template.needs else 3.0, 0.8))
            job_noise = _lognormal(rng, 1.0, 0.25)
            t = started
            steps: list[_Step] = []
            conclusion = "success"
            broken = False
            for si, (name, role) in enumerate(template.steps):
                seconds = _STEP_SECONDS[role] * job_noise * _lognormal(rng, 1.0, 0.15)
                if role not in {"setup", "checkout", "post", "complete", "login"}:
                    seconds *= speed
                if role in _SIZE_SENSITIVE:
                    seconds *= size_factor
                if broken:
                    if (
                        role in {"post", "complete"}
                        and failure is not None
                        and failure.cause != "runner_lost"
                    ):
                        steps.append(_Step(name, si + 1, role, "success", t, t + 1))
                        t += 1
                    else:
                        steps.append(_Step(name, si + 1, role, "skipped", t, t))
                    continue
                step_conclusion = "success"
                if failure is not None and (ji, si) == fail_at:
                    broken = True
                    step_conclusion = "failure"
                    conclusion = failure.conclusion
                    if failure.cause == "timeout":
                        seconds = max(seconds, started + timeout - t)
                    elif role in {"install", "checkout"} or failure.cause == "runner_lost":
                        seconds *= rng.uniform(0.2, 0.9)
                    else:
                        seconds *= rng.uniform(0.5, 1.0)
                duration = max(1, int(seconds))
                steps.append(_Step(name, si + 1, role, step_conclusion, t, t + duration))
                t += duration
            runner = f"GitHub Actions {rng.randint(1, 900)}"
            jobs.append(
                _Job(template.name, created, started, t + rng.randint(0, 2), conclusion, steps, runner)
            )
        return jobs

    def _cancel(self, run: _Run, t: int) -> None:
        """Cancel the run's latest attempt at t if it is still running (concurrency group)."""
        attempt = run.attempts[-1]
        if attempt.completed <= t:
            return
        cut = t + self.rng.randint(2, 8)
        for job in attempt.jobs:
            if job.completed <= cut:
                continue
            job.conclusion = "cancelled"
            if job.started >= cut:
                job.started = job.completed = max(job.created, min(job.started, cut))
                if job.created > job.completed:
                    job.created = job.completed
                job.steps = []
                continue
            for step in job.steps:
                if step.completed <= cut:
                    continue
                if step.started < cut:
                    step.conclusion, step.completed = "cancelled", cut
                else:
                    step.conclusion, step.started, step.completed = "skipped", cut, cut
            job.completed = cut
        attempt.completed = max(job.completed for job in attempt.jobs)
        attempt.conclusion = "cancelled"
        attempt.failure = None

    def _rerun_probability(self, attempt: _Attempt) -> float:
        if attempt.failure is None:
            return 0.0
        base = {TRANSIENT: 0.72, DEPENDENCY: 0.35, PERMANENT: 0.12}[attempt.failure.kind]
        return base * 0.55 ** (attempt.number - 1) if attempt.number < 4 else 0.0

    # -- the main branch -------------------------------------------------------------------

    def _simulate_main(self, repo: _Repo) -> None:
        rng, end = self.rng, self.end
        workflows = [wf for wf in repo.workflows if wf.on_push]
        prev_failed: dict[int, bool] = {}
        merged = sorted(
            (pr for pr in self.prs if pr.repo is repo and pr.merged is not None),
            key=lambda pr: (pr.merged, pr.number),
        )
        for pr in merged:
            if pr.merged is None or pr.merge_sha is None or pr.merged_by is None:
                continue
            commit = _Commit(pr.merge_sha, pr.merged, f"{pr.title} (#{pr.number})", pr.author)
            ships = any(_area_of(repo, f.filename) in (*repo.code_areas, "") for f in pr.files)
            for wf in workflows:
                # `paths-ignore` on main: documentation-only merges neither test nor deploy.
                if (wf.kind == "ci" and not any(w.kind == "ci" for w in pr.workflows)) or (
                    wf.kind == "deploy" and not ships
                ):
                    continue
                created = pr.merged + rng.randint(2, 9)
                if created > end:
                    continue
                run = self._new_run(
                    wf=wf,
                    repo=repo,
                    event="push",
                    branch="main",
                    commit=commit,
                    pr=None,
                    actor=pr.merged_by,
                    created=created,
                    prev_failed=prev_failed.get(wf.id, False),
                    lines=pr.lines,
                    skill=0.0,
                    risk=0.0,
                )
                while True:
                    attempt = run.attempts[-1]
                    if attempt.completed > end or attempt.failure is None:
                        break
                    if rng.random() >= self._rerun_probability(attempt):
                        break
                    again = self._act(pr.merged_by, attempt.completed, _lognormal(rng, 20 * _MINUTE, 1.0))
                    if again > end:
                        break
                    run.attempts.append(self._attempt(run, attempt.number + 1, again, pr.merged_by))
                last = run.attempts[-1]
                if last.completed <= end:
                    prev_failed[wf.id] = last.failure is not None and last.failure.kind != TRANSIENT

    # -- issues ------------------------------------------------------------------------------

    def _simulate_issue(self, issue: _Issue, merged_by_author: dict[str, list[_PR]]) -> None:
        rng, end = self.rng, self.end
        repo, t0, author = issue.repo, issue.created, issue.author
        events = issue.events
        events.append(_Event(author, t0, "labeled", label=issue.kind))
        events.append(_Event(self.actions_bot, t0 + rng.randint(3, 20), "labeled", label="needs-triage"))
        knowers = [p for p in repo.knowers.get(issue.area, []) if p is not author] or [
            p for p in repo.owners if p is not author
        ]
        triager = rng.choice(repo.owners if repo.owners else knowers)
        pri = issue.priority
        if pri == "P0":
            triaged = t0 + int(_lognormal(rng, 20 * _MINUTE, 0.7))
        else:
            triaged = self._act(
                triager, t0, _lognormal(rng, {"P1": 1.5, "P2": 5.0, "P3": 10.0}[pri] * _HOUR, 0.8)
            )
        events.append(_Event(triager, triaged, "unlabeled", label="needs-triage"))
        events.append(_Event(triager, triaged + 2, "labeled", label=pri))
        if rng.random() < 0.7:
            events.append(
                _Event(
                    triager, triaged + 4, "labeled", label="area/" + issue.area.rstrip("/").rsplit("/", 1)[-1]
                )
            )
        responder = rng.choice(knowers) if knowers else triager
        no_response = {"P0": 0.0, "P1": 0.03, "P2": 0.08, "P3": 0.2}[pri]
        if rng.random() < no_response:
            return
        if pri == "P0":
            # Critical issues page the on-call engineer, whatever their working hours.
            first = t0 + int(_lognormal(rng, 25 * _MINUTE, 0.7))
        else:
            median = {"P1": 2.5, "P2": 9.0, "P3": 28.0}[pri] * _HOUR
            first = self._act(responder, t0, _lognormal(rng, median, 0.9))
        noun = _words(rng.choice(next(a.nouns for a in repo.template.areas if a.path == issue.area)))
        issue.comments.append(
            _Comment(responder, first, rng.choice(cat.ISSUE_COMMENT_BODIES).format(noun=noun))
        )
        assignee: _Person | None = None
        if rng.random() < {"P0": 1.0, "P1": 0.95, "P2": 0.7, "P3": 0.4}[pri]:
            assignee = responder if rng.random() < 0.8 or len(knowers) < 2 else rng.choice(knowers)
            events.append(_Event(responder, first + 5, "assigned", subject=assignee))
        t = first
        talkers = [author, assignee or responder]
        for _ in range(_poisson(rng, 1.2 + (1.0 if issue.kind == "bug" else 0.0))):
            speaker = rng.choice(talkers)
            t = self._act(speaker, t, _lognormal(rng, 8 * _HOUR, 1.0))
            issue.comments.append(
                _Comment(speaker, t, rng.choice(cat.ISSUE_COMMENT_BODIES).format(noun=noun))
            )
        if rng.random() >= {"P0": 0.97, "P1": 0.9, "P2": 0.7, "P3": 0.45}[pri]:
            return
        closer = assignee or responder
        median = {"P0": 4.0, "P1": 16.0, "P2": 60.0, "P3": 150.0}[pri] * _HOUR
        closed = self._act(closer, first, _lognormal(rng, median, 1.0))
        reason = "not_planned" if rng.random() < (0.25 if pri == "P3" else 0.08) else "completed"
        commit: str | None = None
        if reason == "completed" and issue.kind == "bug" and assignee is not None and rng.random() < 0.6:
            for pr in merged_by_author.get(f"{repo.full}:{assignee.login}", []):
                if (
                    pr.merged is not None
                    and first <= pr.merged <= closed + 3 * _DAY
                    and pr.created >= t0 - _HOUR
                    and "Fixes #" not in pr.body
                ):
                    pr.body += f"\n\nFixes #{issue.number}"
                    closed, commit, closer = (
                        pr.merged + rng.randint(2, 8),
                        pr.merge_sha,
                        pr.merged_by or closer,
                    )
                    break
        events.append(_Event(closer, closed, "closed", commit=commit))
        reasons = [reason]
        if rng.random() < 0.07:
            reopened = self._act(author, closed, _lognormal(rng, 20 * _HOUR, 1.0))
            events.append(_Event(author, reopened, "reopened"))
            issue.comments.append(_Comment(author, reopened - 1, "This is happening again."))
            if rng.random() < 0.7:
                again = self._act(closer, reopened, _lognormal(rng, 24 * _HOUR, 1.0))
                events.append(_Event(closer, again, "closed"))
                reasons.append("completed")
        # The state is the one the end instant sees: the last close, unless reopened since.
        closes = iter(reasons)
        for event in events:
            if event.t > end or event.event not in {"closed", "reopened"}:
                continue
            if event.event == "closed":
                issue.closed, issue.state_reason = event.t, next(closes)
            else:
                issue.closed, issue.state_reason = None, None

    # -- driver ------------------------------------------------------------------------------

    def generate(self) -> Recording:
        spec = self.spec
        for repo in self.layout.repos:
            self._plan_repo(repo)
        self.prs.sort(key=lambda pr: (pr.created, pr.repo.index, pr.number))
        lam = self._extra_push_rate()
        late = self._late_pushes()
        for pr in self.prs:
            _PullSim(self, pr, lam, late.get(id(pr), "")).run()
        for repo in self.layout.repos:
            self._simulate_main(repo)
        merged_by_author: dict[str, list[_PR]] = {}
        for pr in sorted(
            (pr for pr in self.prs if pr.merged is not None), key=lambda pr: (pr.merged or 0, pr.number)
        ):
            merged_by_author.setdefault(f"{pr.repo.full}:{pr.author.login}", []).append(pr)
        self.issues.sort(key=lambda issue: (issue.created, issue.repo.index, issue.number))
        for issue in self.issues:
            self._simulate_issue(issue, merged_by_author)
        return _Renderer(self, spec.with_logs).render()

    def _extra_push_rate(self) -> float:
        """Extra work-in-progress pushes per pull request that bring the runs near the budget.

        The budget is the organisation's: repositories with more workflows run more, as they
        would.
        """
        per_push = sum(len(pr.workflows) for pr in self.prs)
        needed = float(self.spec.runs_per_repo * len(self.layout.repos))
        for repo in self.layout.repos:
            on_push = sum(1 for wf in repo.workflows if wf.on_push)
            needed -= _MERGED_SHARE * on_push * sum(1 for pr in self.prs if pr.repo is repo)
        return max(0.0, needed / per_push - 1.0 - _FIXES_PER_PR) if per_push else 0.0

    def _late_pushes(self) -> dict[int, str]:
        """Pull requests that get a push minutes before the end, so some runs are unfinished."""
        late: dict[int, str] = {}
        for repo in self.layout.repos:
            newest = [pr for pr in self.prs if pr.repo is repo and pr.fate == "merge" and not pr.author.bot]
            for k, pr in enumerate(newest[-2:][::-1]):
                late[id(pr)] = "late-queued" if k == 0 and repo.index == 0 else "late"
        return late


class _PullSim:
    """Event-driven life of one pull request: pushes, CI runs, reviews, merge or close."""

    def __init__(self, gen: _Generator, pr: _PR, lam: float, late: str) -> None:
        self.gen, self.pr, self.rng, self.end = gen, pr, gen.rng, gen.end
        self.queue: list[_Ev] = []
        self.seq = 0
        self.head: _Commit | None = None
        self.head_runs: dict[int, _Run] = {}
        self.prev_failed: dict[int, bool] = {}
        self.fix_pending = False
        self.approvals: dict[str, _Person] = {}
        self.waiting: dict[str, _Person] = {}
        self.requested: dict[str, _Person] = {}
        self.expecting: dict[str, None] = {}
        self.nudging = False
        self.rounds: dict[str, int] = {}
        self.merge_pending = False
        self.done = False
        self.ready = not pr.draft
        self.fixes = 0
        self.previewed = False
        self.lam = lam
        self.late = late

    def schedule(
        self, t: int, kind: str, run: _Run | None = None, who: _Person | None = None, note: str = ""
    ) -> None:
        self.seq += 1
        heapq.heappush(self.queue, (t, self.seq, kind, run, who, note))

    def run(self) -> None:
        pr, rng, gen = self.pr, self.rng, self.gen
        t0, author = pr.created, pr.author
        pr.events.extend(_Event(author, t0, "labeled", label=label) for label in pr.labels)
        if not author.bot and rng.random() < 0.4:
            pr.events.append(_Event(author, t0 + 3, "assigned", subject=author))
            pr.assignees.append(author)
        self.schedule(t0, "push", who=author, note="open")
        t = t0
        for _ in range(_poisson(rng, self.lam + (1.2 if pr.draft else 0.0))):
            t = gen._act(author, t, _lognormal(rng, 50 * _MINUTE, 1.0))
            self.schedule(t, "push", who=author, note="wip")
        if pr.draft:
            self.schedule(gen._act(author, t0, _lognormal(rng, 6 * _HOUR, 0.9)), "ready", who=author)
        else:
            self.request_reviews(t0 + rng.randint(5, 90))
        if pr.fate == "abandon":
            self.schedule(gen._act(author, t0, _lognormal(rng, 40 * _HOUR, 0.8)), "close", who=author)
        elif pr.fate == "stale":
            # actions/stale: labelled after 30 days without activity, closed 30 days later.
            bot = gen.actions_bot
            self.schedule(t0 + 30 * _DAY + rng.randint(0, _HOUR), "stale", who=bot)
            self.schedule(t0 + 60 * _DAY + rng.randint(_HOUR, 2 * _HOUR), "close", who=bot, note=_STALE_CLOSE)
        if self.late:
            delta = rng.randint(3, 6) if self.late == "late-queued" else rng.randint(40, 4 * _MINUTE)
            self.schedule(self.end - delta, "push", who=author, note=self.late)
        while self.queue:
            t, _, kind, run, who, note = heapq.heappop(self.queue)
            if t > self.end:
                break
            if kind == "comment" and who is not None:
                pr.comments.append(_Comment(who, t, note))
                continue
            if self.done:
                continue
            if kind == "push" and who is not None:
                self.on_push(t, who, note)
            elif kind == "run_done" and run is not None:
                self.on_run_done(t, run)
            elif kind == "rerun" and run is not None and who is not None:
                self.on_rerun(t, run, who)
            elif kind == "review" and who is not None:
                self.on_review(t, who)
            elif kind == "ready":
                self.ready = True
                pr.ready = t
                pr.events.append(_Event(author, t, "ready_for_review"))
                self.request_reviews(t + rng.randint(5, 60))
            elif kind == "merge" and who is not None:
                self.on_merge(t, who, note)
            elif kind == "nudge":
                self.on_nudge(t, int(note))
            elif kind == "stale" and who is not None:
                pr.labels.append("stale")
                pr.events.append(_Event(who, t, "labeled", label="stale"))
                pr.comments.append(_Comment(who, t, _STALE_MARK))
            elif kind == "close" and who is not None:
                self.done = True
                pr.closed = t
                pr.events.append(_Event(who, t, "closed"))
                if note:
                    pr.comments.append(_Comment(who, t, note))
        pr.requested = list(self.requested.values())
        pr.draft = pr.draft and not self.ready
        pr.head_failing = any(r.attempts[-1].failure is not None for r in self.head_runs.values())

    def request_reviews(self, t: int) -> None:
        pr, rng, gen = self.pr, self.rng, self.gen
        reviewers = gen._pick_reviewers(pr, t)
        size = 1.0 + 0.25 * math.log1p(pr.lines / 150.0)
        for reviewer in reviewers:
            self.requested[reviewer.login] = reviewer
            pr.events.append(_Event(pr.author, t, "review_requested", subject=reviewer))
            if pr.fate == "stale" or rng.random() < 0.12:
                continue
            self.expect_review(t, reviewer, 2.5 * _HOUR * size)
        if not self.nudging and pr.fate != "stale":
            self.nudging = True
            self.schedule(gen._act(pr.author, t, _lognormal(rng, 14 * _HOUR, 0.5)), "nudge", note="0")
        if not pr.author.bot:
            for _ in range(_poisson(rng, 0.5)):
                speaker = rng.choice([pr.author, *reviewers])
                when = gen._act(speaker, t, _lognormal(rng, 6 * _HOUR, 1.2))
                body = rng.choice(cat.PR_COMMENT_BODIES)
                if reviewers:
                    body = body.format(reviewer=rng.choice(reviewers).login)
                self.schedule(when, "comment", who=speaker, note=body.replace("@{reviewer} ", ""))

    def expect_review(self, t: int, reviewer: _Person, median: float) -> None:
        """Schedule a review; reviewers with more reviews pending answer later."""
        gen = self.gen
        load = gen._current_load(reviewer, t)
        due = gen._act(reviewer, t, _lognormal(self.rng, median * (1.0 + 0.45 * load), 0.9))
        heapq.heappush(gen.load.setdefault(reviewer.login, []), due)
        self.expecting[reviewer.login] = None
        self.schedule(due, "review", who=reviewer)

    def on_nudge(self, t: int, count: int) -> None:
        """The author chases a pull request that nobody approved or is about to review."""
        pr, rng, gen = self.pr, self.rng, self.gen
        if pr.fate != "merge" or self.merge_pending:
            return
        if not self.approvals and not self.waiting and not self.expecting:
            reviewers = list(self.requested.values())
            if not reviewers or count >= 1:
                for extra in gen._pick_reviewers(pr, t)[:1]:
                    if extra.login not in self.requested:
                        self.requested[extra.login] = extra
                        pr.events.append(_Event(pr.author, t, "review_requested", subject=extra))
                        reviewers.append(extra)
            for reviewer in reviewers:
                self.expect_review(t, reviewer, 2 * _HOUR)
            if not pr.author.bot and reviewers:
                pr.comments.append(_Comment(pr.author, t, f"@{reviewers[0].login} friendly ping 🙂"))
        if count < 3:
            self.schedule(
                gen._act(pr.author, t, _lognormal(rng, 16 * _HOUR, 0.5)), "nudge", note=str(count + 1)
            )

    def on_push(self, t: int, pusher: _Person, note: str) -> None:
        pr, rng, gen = self.pr, self.rng, self.gen
        if note == "open":
            message, commit_t = pr.title, t - rng.randint(30, 600)
        elif note.startswith("ci-fix:"):
            message, commit_t = rng.choice(cat.CI_FIX_MESSAGES[note[7:]]), t - rng.randint(5, 120)
        elif note == "review-fix":
            message, commit_t = rng.choice(cat.REVIEW_FIX_MESSAGES), t - rng.randint(5, 300)
        else:
            message, commit_t = rng.choice(cat.WIP_MESSAGES), t - rng.randint(5, 300)
        commit = _Commit(_sha(rng), max(commit_t, pr.created - _HOUR), message, pusher)
        pr.commits.append(commit)
        self.head = commit
        self.fix_pending = False
        self.merge_pending = False
        for wf in pr.workflows:
            old = self.head_runs.get(wf.id)
            if old is not None:
                gen._cancel(old, t)
            run = gen._new_run(
                wf=wf,
                repo=pr.repo,
                event="pull_request",
                branch=pr.branch,
                commit=commit,
                pr=pr,
                actor=pusher,
                created=t + rng.randint(1, 6) if note != "late-queued" else t + 1,
                prev_failed=self.prev_failed.get(wf.id, False),
                lines=pr.lines,
                skill=pr.author.skill,
                risk=pr.risk,
                queued=note == "late-queued",
            )
            self.head_runs[wf.id] = run
            self.schedule(run.attempts[-1].completed, "run_done", run=run)
        if self.waiting:
            for reviewer in self.waiting.values():
                self.requested[reviewer.login] = reviewer
                pr.events.append(_Event(pr.author, t + 30, "review_requested", subject=reviewer))
                self.expect_review(t + 30, reviewer, 1.2 * _HOUR)
            self.waiting.clear()

    def on_run_done(self, t: int, run: _Run) -> None:
        pr, rng, gen = self.pr, self.rng, self.gen
        if self.head_runs.get(run.workflow.id) is not run:
            return
        attempt = run.attempts[-1]
        if attempt.conclusion == "cancelled":
            return
        failure = attempt.failure
        if failure is None:
            self.prev_failed[run.workflow.id] = False
            if run.workflow.kind == "e2e" and not self.previewed and run.repo.template.deploy:
                self.previewed = True
                url = f"https://pr-{pr.number}.{run.repo.name}.preview.{ORG}.dev"
                pr.comments.append(
                    _Comment(gen.actions_bot, t + rng.randint(5, 40), f"🚀 Preview deployed to {url}")
                )
            self.check_merge(t)
            return
        self.prev_failed[run.workflow.id] = failure.kind != TRANSIENT
        actor = pr.author if not pr.author.bot else rng.choice(pr.repo.owners or gen.layout.humans)
        if rng.random() < gen._rerun_probability(attempt):
            self.schedule(gen._act(actor, t, _lognormal(rng, 15 * _MINUTE, 1.0)), "rerun", run=run, who=actor)
            return
        if self.fix_pending:
            return
        if pr.author.bot:
            if rng.random() < 0.5 and pr.fate == "merge":
                self.fix_pending = True
                delay = _lognormal(rng, 3 * _HOUR, 1.0)
                self.schedule(gen._act(actor, t, delay), "push", who=actor, note=f"ci-fix:{failure.kind}")
            elif pr.fate == "merge":
                pr.fate = "abandon"
                self.schedule(t + int(_lognormal(rng, 3 * _DAY, 0.6)), "close", who=pr.author)
            return
        self.fixes += 1
        if self.fixes > 4 and pr.fate == "merge":
            pr.fate = "abandon"
            self.schedule(gen._act(pr.author, t, _lognormal(rng, 4 * _HOUR, 1.0)), "close", who=pr.author)
            return
        median = {TRANSIENT: 25 * _MINUTE, DEPENDENCY: 2 * _HOUR, PERMANENT: 1.5 * _HOUR}[failure.kind]
        self.fix_pending = True
        when = gen._act(pr.author, t, _lognormal(rng, median, 0.9))
        self.schedule(when, "push", who=pr.author, note=f"ci-fix:{failure.kind}")

    def on_rerun(self, t: int, run: _Run, actor: _Person) -> None:
        if self.head_runs.get(run.workflow.id) is not run:
            return
        previous = run.attempts[-1]
        attempt = self.gen._attempt(run, previous.number + 1, t, actor)
        run.attempts.append(attempt)
        self.schedule(attempt.completed, "run_done", run=run)

    def on_review(self, t: int, reviewer: _Person) -> None:
        pr, rng, gen = self.pr, self.rng, self.gen
        if self.head is None:
            return
        self.requested.pop(reviewer.login, None)
        self.expecting.pop(reviewer.login, None)
        round_index = self.rounds.get(reviewer.login, 0)
        self.rounds[reviewer.login] = round_index + 1
        ci_red = any(
            r.attempts[-1].completed <= t and r.attempts[-1].failure is not None
            for r in self.head_runs.values()
        )
        if pr.author.bot:
            p_changes = 0.03
        else:
            x = (
                -1.7
                + 0.45 * (math.log1p(pr.lines) - math.log(81.0))
                + 0.8 * pr.author.skill
                + (0.3 if reviewer.level == "senior" else 0.0)
                - 1.3 * round_index
                + 0.5 * pr.risk
            )
            p_changes = _logistic(x)
        u = rng.random()
        if ci_red and u < 0.5:
            state, body = "COMMENTED", "CI is red, can you take a look?"
        else:
            if u < p_changes:
                state = "CHANGES_REQUESTED"
            elif u < p_changes + 0.12 * 0.5**round_index:
                state = "COMMENTED"
            else:
                state = "APPROVED"
            body = rng.choice(cat.REVIEW_BODIES[state])
        review = _Review(reviewer, t, state, body, self.head.sha)
        count = {
            "CHANGES_REQUESTED": 1 + _poisson(rng, 1.2),
            "COMMENTED": _poisson(rng, 1.0),
            "APPROVED": _poisson(rng, 0.25),
        }[state]
        targets = [f for f in pr.files if f.status != "removed"] or pr.files
        for _ in range(count):
            target = rng.choice(targets)
            created = max(pr.created + 1, t - rng.randint(0, 240))
            comment = _ReviewComment(
                reviewer,
                created,
                target.filename,
                rng.randint(1, max(1, target.additions)),
                rng.choice(cat.REVIEW_COMMENT_BODIES),
                self.head.sha,
                None,
                review,
            )
            review.comments.append(comment)
            if not pr.author.bot and rng.random() < 0.3:
                when = gen._act(pr.author, t, _lognormal(rng, 1 * _HOUR, 1.0))
                if when <= self.end:
                    reply_review = _Review(pr.author, when, "COMMENTED", "", self.head.sha)
                    reply = _ReviewComment(
                        pr.author,
                        when,
                        target.filename,
                        comment.line,
                        rng.choice(cat.REPLY_BODIES),
                        self.head.sha,
                        comment,
                        reply_review,
                    )
                    reply_review.comments.append(reply)
                    pr.reviews.append(reply_review)
        pr.reviews.append(review)
        if state == "APPROVED":
            self.approvals[reviewer.login] = reviewer
            self.check_merge(t)
        elif state == "CHANGES_REQUESTED":
            self.approvals.pop(reviewer.login, None)
            self.waiting[reviewer.login] = reviewer
            if pr.author.bot:
                if pr.fate == "merge":
                    pr.fate = "abandon"
                    self.schedule(t + int(_lognormal(rng, 2 * _DAY, 0.6)), "close", who=pr.author)
            elif not self.fix_pending:
                self.fix_pending = True
                when = gen._act(pr.author, t, _lognormal(rng, 2.5 * _HOUR, 0.9))
                self.schedule(when, "push", who=pr.author, note="review-fix")
        elif rng.random() < 0.75:
            self.expect_review(t, reviewer, 3 * _HOUR)

    def check_merge(self, t: int) -> None:
        pr, rng, gen = self.pr, self.rng, self.gen
        if self.done or self.merge_pending or pr.fate != "merge" or self.fix_pending or not self.ready:
            return
        if self.late:
            # Kept open: its author pushes again minutes before the recording ends.
            return
        if not self.approvals or self.waiting or self.head is None:
            return
        for run in self.head_runs.values():
            attempt = run.attempts[-1]
            if attempt.completed > t or attempt.failure is not None or attempt.conclusion != "success":
                return
        approvers = list(self.approvals.values())
        merger = pr.author if not pr.author.bot and rng.random() < 0.7 else rng.choice(approvers)
        self.merge_pending = True
        self.schedule(
            gen._act(merger, t, _lognormal(rng, 35 * _MINUTE, 1.0)), "merge", who=merger, note=self.head.sha
        )

    def on_merge(self, t: int, merger: _Person, sha: str) -> None:
        pr = self.pr
        if self.head is None or self.head.sha != sha or not self.merge_pending:
            return
        self.done = True
        pr.merged = pr.closed = t
        pr.merged_by = merger
        pr.merge_sha = _sha(self.rng)
        pr.events.append(_Event(merger, t, "merged", commit=pr.merge_sha))
        pr.events.append(_Event(merger, t, "closed", commit=pr.merge_sha))


def _area_of(repo: _Repo, filename: str) -> str:
    for area in (*repo.code_areas, "tests/", "docs/", ".github/workflows/"):
        if filename.startswith(area):
            return area
    return ""


def _new_file(path: str, rng: random.Random) -> str:
    head, _, tail = path.rpartition("/")
    stem, dot, ext = tail.partition(".")
    suffix = rng.choice(("v2", "helpers", "extra", "impl", "legacy", "async"))
    joiner = "" if stem[:1].islower() and "_" not in stem and path.endswith(".ts") else "_"
    name = f"{stem}{joiner}{suffix.title() if joiner == '' else suffix}"
    return f"{head}/{name}{dot}{ext}" if head else f"{name}{dot}{ext}"


def _title(rng: random.Random, kind: str, noun: str) -> str:
    words = _words(noun)
    if kind == "fix":
        return f"{rng.choice(cat.FIX_VERBS)} {rng.choice(cat.FIX_OBJECTS).format(noun=words)}"
    if kind == "feature":
        return f"{rng.choice(cat.FEATURE_VERBS)} {rng.choice(cat.FEATURE_OBJECTS).format(noun=words)}"
    if kind == "refactor":
        return f"{rng.choice(cat.REFACTOR_VERBS)} {rng.choice(cat.REFACTOR_OBJECTS).format(noun=words)}"
    if kind == "docs":
        return f"Document {words} behaviour"
    return f"Speed up {words} CI job"


def _pr_body(rng: random.Random, kind: str, title: str, files: Sequence[_File]) -> str:
    tested = "- [x] unit tests" if any(f.filename.startswith("tests/") for f in files) else "- [ ] unit tests"
    locally = "x" if rng.random() < 0.6 else " "
    return f"## Summary\n{title}.\n\n## Testing\n{tested}\n- [{locally}] tested locally"


# --------------------------------------------------------------------------------------------
# Rendering: ids in creation order, then the GitHub JSON shapes


def _assign_ids(items: Iterable[Any], key: Callable[[Any], int], base: int, rng: random.Random) -> None:
    next_id = base
    for item in sorted(items, key=key):
        next_id += rng.randint(1, 9)
        item.id = next_id


class _Renderer:
    def __init__(self, gen: _Generator, with_logs: bool) -> None:
        self.gen = gen
        self.end = gen.end
        self.with_logs = with_logs
        self.rng = random.Random(gen.spec.seed * 7_919 + 3)  # noqa: S311 - synthetic data, not security
        self.users: dict[int, JSON] = {}

    def user(self, p: _Person) -> JSON:
        cached = self.users.get(p.id)
        if cached is None:
            cached = self.users[p.id] = p.json()
        return dict(cached)

    def assign_ids(self) -> None:
        gen, rng, end = self.gen, self.rng, self.end
        _assign_ids(gen.prs, lambda pr: pr.created, 1_700_000_000, rng)
        twins: list[Any] = [*gen.prs, *gen.issues]
        issue_ids: dict[int, int] = {}
        next_id = 2_300_000_000
        for item in sorted(twins, key=lambda item: item.created):
            next_id += rng.randint(1, 9)
            issue_ids[id(item)] = next_id
        for pr in gen.prs:
            pr.issue_id = issue_ids[id(pr)]
        for issue in gen.issues:
            issue.id = issue_ids[id(issue)]
        reviews = [r for pr in gen.prs for r in pr.reviews if r.t <= end]
        _assign_ids(reviews, lambda r: r.t, 2_100_000_000, rng)
        _assign_ids([c for r in reviews for c in r.comments], lambda c: c.t, 1_800_000_000, rng)
        comments = [c for pr in gen.prs for c in pr.comments] + [c for i in gen.issues for c in i.comments]
        _assign_ids([c for c in comments if c.t <= end], lambda c: c.t, 2_500_000_000, rng)
        events = [e for pr in gen.prs for e in pr.events] + [e for i in gen.issues for e in i.events]
        _assign_ids([e for e in events if e.t <= end], lambda e: e.t, 14_000_000_000, rng)
        _assign_ids(gen.runs, lambda run: run.created, 11_000_000_000, rng)
        counters: dict[int, int] = {}
        for run in sorted(gen.runs, key=lambda run: run.id):
            counters[run.workflow.id] = counters.get(run.workflow.id, 0) + 1
            run.number = counters[run.workflow.id]
        attempts = [a for run in gen.runs for a in run.attempts]
        next_id = 29_000_000_000
        for attempt in sorted(attempts, key=lambda a: a.started):
            next_id += rng.randint(1, 9)
            attempt.suite_id = next_id
        _assign_ids([job for a in attempts for job in a.jobs], lambda job: job.created, 31_000_000_000, rng)

    def render(self) -> Recording:
        gen, end = self.gen, self.end
        self.assign_ids()
        rec = Recording(repos=[repo.full for repo in gen.layout.repos], synthetic=True)
        for repo in gen.layout.repos:
            for listing in rec.repo_listings():
                listing[repo.full] = []
        issue_rows: dict[str, list[tuple[int, JSON]]] = {repo.full: [] for repo in gen.layout.repos}
        comment_rows: dict[str, list[JSON]] = {repo.full: [] for repo in gen.layout.repos}
        event_rows: dict[str, list[JSON]] = {repo.full: [] for repo in gen.layout.repos}
        review_comment_rows: dict[str, list[JSON]] = {repo.full: [] for repo in gen.layout.repos}
        for pr in sorted(gen.prs, key=lambda pr: pr.id, reverse=True):
            full = pr.repo.full
            pr_json, twin = self.pull_request(pr)
            rec.pull_requests[full].append(pr_json)
            issue_rows[full].append((pr.issue_id, twin))
            reviews = sorted((r for r in pr.reviews if r.t <= end), key=lambda r: r.id)
            rec.reviews[(full, pr.number)] = [self.review(pr, r) for r in reviews]
            rec.pr_files[(full, pr.number)] = [self.pr_file(pr, f) for f in pr.files]
            for review in reviews:
                review_comment_rows[full].extend(self.review_comment(pr, c) for c in review.comments)
            comment_rows[full].extend(
                self.issue_comment(full, pr.number, True, c) for c in pr.comments if c.t <= end
            )
            event_rows[full].extend(self.issue_event(full, pr, e) for e in pr.events if e.t <= end)
        for issue in gen.issues:
            full = issue.repo.full
            issue_rows[full].append((issue.id, self.issue(issue)))
            comment_rows[full].extend(
                self.issue_comment(full, issue.number, False, c) for c in issue.comments if c.t <= end
            )
            event_rows[full].extend(self.issue_event(full, issue, e) for e in issue.events if e.t <= end)
        for full in rec.repos:
            rows = sorted(issue_rows[full], key=lambda item: item[0], reverse=True)
            rec.issues[full] = [row for _, row in rows]
            rec.issue_comments[full] = sorted(comment_rows[full], key=lambda c: int(c["id"]))
            rec.review_comments[full] = sorted(review_comment_rows[full], key=lambda c: int(c["id"]))
            rec.issue_events[full] = sorted(event_rows[full], key=lambda e: int(e["id"]), reverse=True)
        self.render_runs(rec)
        self.render_statuses(rec)
        return rec

    # -- pull requests and issues ------------------------------------------------------------

    def label(self, repo: _Repo, name: str, with_color: bool = True) -> JSON:
        label_id, color, description = repo.labels[name]
        out: JSON = {
            "id": label_id,
            "node_id": _node("LA", label_id),
            "url": f"{_API}/repos/{repo.full}/labels/{quote(name)}",
            "name": name,
            "color": color,
            "default": name in {"bug", "enhancement", "documentation"},
            "description": description,
        }
        if not with_color:
            del out["color"]
        return out

    def pull_request(self, pr: _PR) -> tuple[JSON, JSON]:
        end, repo = self.end, pr.repo
        full, n = repo.full, pr.number
        commits = [c for c in pr.commits if c.t <= end]
        head_sha = commits[-1].sha if commits else pr.base_sha
        reviews = [r for r in pr.reviews if r.t <= end]
        comments = [c for c in pr.comments if c.t <= end]
        review_comments = [c for r in reviews for c in r.comments]
        events = [e for e in pr.events if e.t <= end]
        closed = pr.closed if pr.closed is not None and pr.closed <= end else None
        merged = pr.merged if pr.merged is not None and pr.merged <= end else None
        times = [pr.created, *(c.t for c in commits), *(r.t for r in reviews), *(c.t for c in comments)]
        times += [e.t for e in events]
        updated = max(t for t in times if t <= end)
        labels = [self.label(repo, name) for name in pr.labels]
        if closed is not None:
            mergeable_state = "unknown"
        elif pr.draft:
            mergeable_state = "draft"
        elif pr.head_failing:
            mergeable_state = "unstable"
        elif any(r.state == "APPROVED" for r in reviews):
            mergeable_state = "clean" if self.rng.random() > 0.1 else "dirty"
        else:
            mergeable_state = "blocked"
        head_repo = {"id": repo.id, "name": repo.name, "full_name": full, "url": f"{_API}/repos/{full}"}
        org = _org_json()
        pr_json: JSON = {
            "url": f"{_API}/repos/{full}/pulls/{n}",
            "id": pr.id,
            "node_id": _node("PR", pr.id),
            "html_url": f"{_WEB}/{full}/pull/{n}",
            "diff_url": f"{_WEB}/{full}/pull/{n}.diff",
            "patch_url": f"{_WEB}/{full}/pull/{n}.patch",
            "issue_url": f"{_API}/repos/{full}/issues/{n}",
            "number": n,
            "state": "closed" if closed is not None else "open",
            "locked": False,
            "title": pr.title,
            "user": self.user(pr.author),
            "body": pr.body,
            "labels": labels,
            "milestone": None,
            "active_lock_reason": None,
            "created_at": _iso(pr.created),
            "updated_at": _iso(updated),
            "closed_at": _iso_or_none(closed),
            "merged_at": _iso_or_none(merged),
            "merge_commit_sha": pr.merge_sha if merged is not None else (None if closed else _sha(self.rng)),
            "assignee": self.user(pr.assignees[0]) if pr.assignees else None,
            "assignees": [self.user(p) for p in pr.assignees],
            "requested_reviewers": [self.user(p) for p in pr.requested],
            "requested_teams": [],
            "head": {
                "label": f"{ORG}:{pr.branch}",
                "ref": pr.branch,
                "sha": head_sha,
                "user": dict(org),
                "repo": dict(head_repo),
            },
            "base": {
                "label": f"{ORG}:main",
                "ref": "main",
                "sha": pr.base_sha,
                "user": org,
                "repo": head_repo,
            },
            "author_association": pr.author.association,
            "auto_merge": None,
            "draft": pr.draft,
            "merged": merged is not None,
            "merged_by": self.user(pr.merged_by) if merged is not None and pr.merged_by else None,
            "mergeable": None if closed is not None else mergeable_state != "dirty",
            "mergeable_state": mergeable_state,
            "comments": len(comments),
            "review_comments": len(review_comments),
            "commits": len(commits),
            "additions": pr.additions,
            "deletions": pr.deletions,
            "changed_files": len(pr.files),
        }
        twin: JSON = {
            "id": pr.issue_id,
            "node_id": pr_json["node_id"],
            "url": f"{_API}/repos/{full}/issues/{n}",
            "repository_url": f"{_API}/repos/{full}",
            "comments_url": f"{_API}/repos/{full}/issues/{n}/comments",
            "events_url": f"{_API}/repos/{full}/issues/{n}/events",
            "html_url": f"{_WEB}/{full}/pull/{n}",
            "number": n,
            "title": pr.title,
            "user": self.user(pr.author),
            "labels": [self.label(repo, name) for name in pr.labels],
            "state": pr_json["state"],
            "locked": False,
            "assignee": pr_json["assignee"] and dict(pr_json["assignee"]),
            "assignees": [self.user(p) for p in pr.assignees],
            "milestone": None,
            "comments": len(comments),
            "created_at": pr_json["created_at"],
            "updated_at": pr_json["updated_at"],
            "closed_at": pr_json["closed_at"],
            "author_association": pr.author.association,
            "active_lock_reason": None,
            "draft": pr.draft,
            "body": pr.body,
            "state_reason": None,
            "pull_request": {
                "url": pr_json["url"],
                "html_url": pr_json["html_url"],
                "diff_url": pr_json["diff_url"],
                "patch_url": pr_json["patch_url"],
                "merged_at": pr_json["merged_at"],
            },
        }
        return pr_json, twin

    def review(self, pr: _PR, review: _Review) -> JSON:
        full = pr.repo.full
        return {
            "id": review.id,
            "node_id": _node("PRR", review.id),
            "user": self.user(review.reviewer),
            "body": review.body,
            "state": review.state,
            "html_url": f"{_WEB}/{full}/pull/{pr.number}#pullrequestreview-{review.id}",
            "pull_request_url": f"{_API}/repos/{full}/pulls/{pr.number}",
            "author_association": review.reviewer.association,
            "submitted_at": _iso(review.t),
            "commit_id": review.commit,
        }

    def pr_file(self, pr: _PR, f: _File) -> JSON:
        full = pr.repo.full
        path = quote(f.filename)
        out: JSON = {
            "sha": f.sha,
            "filename": f.filename,
            "status": f.status,
            "additions": f.additions,
            "deletions": f.deletions,
            "changes": f.additions + f.deletions,
            "blob_url": f"{_WEB}/{full}/blob/{f.sha}/{path}",
            "raw_url": f"{_WEB}/{full}/raw/{f.sha}/{path}",
            "contents_url": f"{_API}/repos/{full}/contents/{path}?ref={f.sha}",
        }
        if f.previous is not None:
            out["previous_filename"] = f.previous
        return out

    def review_comment(self, pr: _PR, c: _ReviewComment) -> JSON:
        full = pr.repo.full
        out: JSON = {
            "id": c.id,
            "node_id": _node("PRRC", c.id),
            "url": f"{_API}/repos/{full}/pulls/comments/{c.id}",
            "pull_request_review_id": c.review.id if c.review is not None else None,
            "diff_hunk": f"@@ -{max(1, c.line - 3)},6 +{max(1, c.line - 3)},7 @@",
            "path": c.path,
            "commit_id": c.commit,
            "original_commit_id": c.commit,
            "user": self.user(c.author),
            "body": c.body,
            "created_at": _iso(c.t),
            "updated_at": _iso(c.t),
            "html_url": f"{_WEB}/{full}/pull/{pr.number}#discussion_r{c.id}",
            "pull_request_url": f"{_API}/repos/{full}/pulls/{pr.number}",
            "author_association": c.author.association,
            "line": c.line,
            "original_line": c.line,
            "side": "RIGHT",
        }
        if c.reply_to is not None:
            out["in_reply_to_id"] = c.reply_to.id
        return out

    def issue_comment(self, full: str, number: int, is_pr: bool, c: _Comment) -> JSON:
        kind = "pull" if is_pr else "issues"
        return {
            "id": c.id,
            "node_id": _node("IC", c.id),
            "url": f"{_API}/repos/{full}/issues/comments/{c.id}",
            "html_url": f"{_WEB}/{full}/{kind}/{number}#issuecomment-{c.id}",
            "issue_url": f"{_API}/repos/{full}/issues/{number}",
            "user": self.user(c.author),
            "body": c.body,
            "created_at": _iso(c.t),
            "updated_at": _iso(c.t),
            "author_association": c.author.association,
        }

    def issue_event(self, full: str, item: _PR | _Issue, e: _Event) -> JSON:
        is_pr = isinstance(item, _PR)
        number = item.number
        issue: JSON = {
            "id": item.issue_id if isinstance(item, _PR) else item.id,
            "node_id": _node("PR" if is_pr else "I", item.id),
            "number": number,
            "url": f"{_API}/repos/{full}/issues/{number}",
            "html_url": f"{_WEB}/{full}/{'pull' if is_pr else 'issues'}/{number}",
            "title": item.title,
        }
        if is_pr:
            issue["pull_request"] = {"url": f"{_API}/repos/{full}/pulls/{number}"}
        out: JSON = {
            "id": e.id,
            "node_id": _node("E", e.id),
            "url": f"{_API}/repos/{full}/issues/events/{e.id}",
            "actor": self.user(e.actor),
            "event": e.event,
            "commit_id": e.commit,
            "commit_url": f"{_API}/repos/{full}/commits/{e.commit}" if e.commit else None,
            "created_at": _iso(e.t),
            "performed_via_github_app": None,
            "issue": issue,
        }
        if e.label is not None:
            label = item.repo.labels[e.label]
            out["label"] = {"name": e.label, "color": label[1]}
        if e.event == "assigned" and e.subject is not None:
            out["assignee"] = self.user(e.subject)
            out["assigner"] = self.user(e.actor)
        if e.event == "review_requested" and e.subject is not None:
            out["requested_reviewer"] = self.user(e.subject)
            out["review_requester"] = self.user(e.actor)
        return out

    def issue(self, issue: _Issue) -> JSON:
        end, repo = self.end, issue.repo
        full, n = repo.full, issue.number
        events = sorted((e for e in issue.events if e.t <= end), key=lambda e: e.t)
        labels: dict[str, None] = {}
        assignees: dict[str, _Person] = {}
        for e in events:
            if e.event == "labeled" and e.label:
                labels[e.label] = None
            elif e.event == "unlabeled" and e.label:
                labels.pop(e.label, None)
            elif e.event == "assigned" and e.subject is not None:
                assignees[e.subject.login] = e.subject
        comments = [c for c in issue.comments if c.t <= end]
        updated = max([issue.created, *(c.t for c in comments), *(e.t for e in events)])
        people = list(assignees.values())
        return {
            "id": issue.id,
            "node_id": _node("I", issue.id),
            "url": f"{_API}/repos/{full}/issues/{n}",
            "repository_url": f"{_API}/repos/{full}",
            "comments_url": f"{_API}/repos/{full}/issues/{n}/comments",
            "events_url": f"{_API}/repos/{full}/issues/{n}/events",
            "html_url": f"{_WEB}/{full}/issues/{n}",
            "number": n,
            "title": issue.title,
            "user": self.user(issue.author),
            "labels": [self.label(repo, name) for name in labels],
            "state": "closed" if issue.closed is not None else "open",
            "locked": False,
            "assignee": self.user(people[0]) if people else None,
            "assignees": [self.user(p) for p in people],
            "milestone": None,
            "comments": len(comments),
            "created_at": _iso(issue.created),
            "updated_at": _iso(updated),
            "closed_at": _iso_or_none(issue.closed),
            "author_association": issue.author.association,
            "active_lock_reason": None,
            "body": issue.body,
            "state_reason": issue.state_reason,
        }

    # -- workflow runs ---------------------------------------------------------------------

    def render_runs(self, rec: Recording) -> None:
        end = self.end
        for run in sorted(self.gen.runs, key=lambda run: run.id, reverse=True):
            attempts = [a for a in run.attempts if a.started <= end]
            if run.created > end or not attempts:
                continue
            for attempt in attempts:
                rendered = self.attempt(run, attempt, len(attempts))
                key = (run.repo.full, run.id, attempt.number)
                # Jobs waiting on others are created when those finish; some not yet at the end.
                jobs = [job for job in attempt.jobs if job.created <= end]
                if attempt is attempts[-1]:
                    rec.workflow_runs[run.repo.full].append(rendered)
                    checks = rec.check_runs.setdefault((run.repo.full, run.commit.sha), [])
                    checks.extend(self.check_run(run, job) for job in jobs)
                else:
                    rec.run_attempts[key] = rendered
                rec.jobs[key] = [self.job(run, attempt, job) for job in jobs]
                failure = attempt.failure
                if self.with_logs and failure is not None and attempt.completed <= end:
                    rec.logs[key] = self.logs(run, attempt, failure)
        for checks in rec.check_runs.values():
            checks.sort(key=lambda c: int(c["id"]), reverse=True)

    def attempt(self, run: _Run, attempt: _Attempt, latest: int) -> JSON:
        end = self.end
        full, run_url = run.repo.full, f"{_API}/repos/{run.repo.full}/actions/runs/{run.id}"
        if attempt.completed <= end:
            status, conclusion, updated = "completed", attempt.conclusion, attempt.completed
        else:
            started = [job.started for job in attempt.jobs if job.started <= end]
            status = "in_progress" if started else "queued"
            conclusion, updated = None, max([attempt.started, *started])
        pulls: list[JSON] = []
        if run.pr is not None:
            pr = run.pr
            repo_ref = {"id": run.repo.id, "url": f"{_API}/repos/{full}", "name": run.repo.name}
            pulls.append(
                {
                    "url": f"{_API}/repos/{full}/pulls/{pr.number}",
                    "id": pr.id,
                    "number": pr.number,
                    "head": {"ref": pr.branch, "sha": run.commit.sha, "repo": dict(repo_ref)},
                    "base": {"ref": "main", "sha": pr.base_sha, "repo": repo_ref},
                }
            )
        commit = run.commit
        author = {"name": commit.author.name, "email": commit.author.email}
        return {
            "id": run.id,
            "name": run.workflow.name,
            "node_id": _node("WFR", run.id),
            "head_branch": run.branch,
            "head_sha": commit.sha,
            "path": run.workflow.path,
            "display_title": run.pr.title if run.pr is not None else commit.message,
            "run_number": run.number,
            "event": run.event,
            "status": status,
            "conclusion": conclusion,
            "workflow_id": run.workflow.id,
            "check_suite_id": attempt.suite_id,
            "check_suite_node_id": _node("CS", attempt.suite_id),
            "url": run_url,
            "html_url": f"{_WEB}/{full}/actions/runs/{run.id}"
            + (f"/attempts/{attempt.number}" if attempt.number < latest else ""),
            "pull_requests": pulls,
            "created_at": _iso(run.created),
            "updated_at": _iso(updated),
            "actor": self.user(run.actor),
            "run_attempt": attempt.number,
            "referenced_workflows": [],
            "run_started_at": _iso(attempt.started),
            "triggering_actor": self.user(attempt.actor),
            "jobs_url": f"{run_url}/jobs",
            "logs_url": f"{run_url}/logs",
            "check_suite_url": f"{_API}/repos/{full}/check-suites/{attempt.suite_id}",
            "artifacts_url": f"{run_url}/artifacts",
            "cancel_url": f"{run_url}/cancel",
            "rerun_url": f"{run_url}/rerun",
            "previous_attempt_url": f"{run_url}/attempts/{attempt.number - 1}"
            if attempt.number > 1
            else None,
            "workflow_url": f"{_API}/repos/{full}/actions/workflows/{run.workflow.id}",
            "head_commit": {
                "id": commit.sha,
                "tree_id": f"{(int(commit.sha, 16) * 31 + 7) % (1 << 160):040x}",
                "message": commit.message,
                "timestamp": _iso(commit.t),
                "author": author,
                "committer": {"name": "GitHub", "email": "noreply@github.com"}
                if run.event == "push"
                else dict(author),
            },
            "repository": run.repo.json(),
            "head_repository": run.repo.json(),
        }

    def _job_view(self, job: _Job, with_steps: bool = True) -> tuple[str, str | None, int | None, list[JSON]]:
        """Status, conclusion, completion and steps of a job as the end instant sees it."""
        end = self.end
        if job.completed <= end:
            if not with_steps:
                return "completed", job.conclusion, job.completed, []
            steps = [
                {
                    "name": s.name,
                    "status": "completed",
                    "conclusion": s.conclusion,
                    "number": s.number,
                    "started_at": _iso(s.started),
                    "completed_at": _iso(s.completed),
                }
                for s in job.steps
            ]
            return "completed", job.conclusion, job.completed, steps
        if job.started > end:
            return "queued", None, None, []
        steps = []
        for s in job.steps:
            if s.completed <= end:
                status, conclusion = "completed", s.conclusion
                started, completed = _iso(s.started), _iso(s.completed)
            elif s.started <= end:
                status, conclusion, started, completed = "in_progress", None, _iso(s.started), None
            else:
                status, conclusion, started, completed = "queued", None, None, None
            steps.append(
                {
                    "name": s.name,
                    "status": status,
                    "conclusion": conclusion,
                    "number": s.number,
                    "started_at": started,
                    "completed_at": completed,
                }
            )
        return "in_progress", None, None, steps

    def job(self, run: _Run, attempt: _Attempt, job: _Job) -> JSON:
        full = run.repo.full
        status, conclusion, completed, steps = self._job_view(job)
        started = job.started if job.started <= self.end else job.created
        return {
            "id": job.id,
            "run_id": run.id,
            "run_url": f"{_API}/repos/{full}/actions/runs/{run.id}",
            "run_attempt": attempt.number,
            "node_id": _node("CR", job.id),
            "head_sha": run.commit.sha,
            "url": f"{_API}/repos/{full}/actions/jobs/{job.id}",
            "html_url": f"{_WEB}/{full}/actions/runs/{run.id}/job/{job.id}",
            "status": status,
            "conclusion": conclusion,
            "created_at": _iso(job.created),
            "started_at": _iso(started),
            "completed_at": _iso_or_none(completed),
            "name": job.name,
            "steps": steps,
            "check_run_url": f"{_API}/repos/{full}/check-runs/{job.id}",
            "labels": ["ubuntu-latest"],
            "runner_id": int(job.runner.rsplit(" ", 1)[-1]) if job.runner else None,
            "runner_name": job.runner or None,
            "runner_group_id": 2 if job.runner else None,
            "runner_group_name": "GitHub Actions" if job.runner else None,
            "workflow_name": run.workflow.name,
            "head_branch": run.branch,
        }

    def check_run(self, run: _Run, job: _Job) -> JSON:
        full = run.repo.full
        status, conclusion, completed, _ = self._job_view(job, with_steps=False)
        started = job.started if job.started <= self.end else job.created
        return {
            "id": job.id,
            "head_sha": run.commit.sha,
            "node_id": _node("CR", job.id),
            "external_id": f"{run.workflow.id}-{job.id}",
            "url": f"{_API}/repos/{full}/check-runs/{job.id}",
            "html_url": f"{_WEB}/{full}/actions/runs/{run.id}/job/{job.id}",
            "details_url": f"{_WEB}/{full}/actions/runs/{run.id}/job/{job.id}",
            "status": status,
            "conclusion": conclusion,
            "started_at": _iso(started),
            "completed_at": _iso_or_none(completed),
            "output": {"title": None, "summary": None, "text": None, "annotations_count": 0},
            "name": job.name,
            "check_suite": {"id": run.attempts[-1].suite_id},
            "app": {"id": 15368, "slug": "github-actions", "name": "GitHub Actions"},
            "pull_requests": [],
        }

    def logs(self, run: _Run, attempt: _Attempt, failure: Failure) -> bytes:
        repo = run.repo
        code = (
            [f.filename for f in run.pr.files if _area_of(repo, f.filename) in repo.code_areas]
            if run.pr
            else []
        )
        tests = [f.filename for f in run.pr.files if f.filename.startswith("tests/")] if run.pr else []
        seed = run.id * 31 + attempt.number
        pick = random.Random(seed)  # noqa: S311 - synthetic data, not security
        code_file = pick.choice(code) if code else pick.choice(repo.files[repo.code_areas[0]])
        test_file = pick.choice(tests) if tests else pick.choice(repo.files["tests/"])
        ctx = LogContext(
            repo=repo.full,
            sha=run.commit.sha,
            message=run.commit.message.splitlines()[0],
            language=repo.template.language,
            code_file=code_file,
            test_file=test_file,
            package=pick.choice(repo.language.packages),
            timeout_minutes=_TIMEOUT_MINUTES[run.workflow.kind],
        )
        jobs = [
            LogJob(
                job.name,
                job.runner,
                tuple(
                    LogStep(s.number, s.name, s.role, s.started, s.completed, s.conclusion == "failure")
                    for s in job.steps
                    if s.conclusion in {"success", "failure"}
                ),
            )
            for job in attempt.jobs
            if job.steps
        ]
        return build_logs_zip(jobs, failure, ctx, seed)

    # -- commit statuses -----------------------------------------------------------------

    def render_statuses(self, rec: Recording) -> None:
        end, rng = self.end, self.rng
        span = max(1, self.gen.end - self.gen.start)
        rows: list[tuple[int, str, str, JSON]] = []
        for run in sorted(self.gen.runs, key=lambda run: run.id):
            if run.pr is None or run.workflow.kind != "ci" or run.created > end:
                continue
            pr, repo, attempt = run.pr, run.repo, run.attempts[-1]
            terraform = repo.template.language == "terraform"
            context = "atlantis/plan" if terraform else "codecov/project"
            if attempt.completed > end:
                rows.append(
                    (
                        run.created + 20,
                        repo.full,
                        run.commit.sha,
                        self._status(
                            "pending",
                            context,
                            "Waiting for CI to complete",
                            f"{_WEB}/{repo.full}/pull/{pr.number}",
                        ),
                    )
                )
                continue
            if attempt.conclusion != "success":
                continue
            t = attempt.completed + rng.randint(20, 120)
            if t > end:
                continue
            if terraform:
                changes = rng.randint(0, 6)
                rows.append(
                    (
                        t,
                        repo.full,
                        run.commit.sha,
                        self._status(
                            "success",
                            context,
                            f"Plan succeeded: {changes} to add, {rng.randint(0, 3)} to change, 0 to destroy.",
                            f"https://atlantis.{ORG}.dev/lock?id={repo.name}%252Fdefault",
                        ),
                    )
                )
                continue
            base = repo.coverage0 + repo.coverage_drift * (pr.created - self.gen.start) / span
            delta = rng.gauss(0.05, 0.2) + (0.25 if pr.has_tests else -min(pr.lines, 600) / 400.0)
            coverage = min(99.9, base + delta)
            url = f"https://app.codecov.io/gh/{repo.full}/pull/{pr.number}"
            if rng.random() < 0.02:
                rows.append(
                    (
                        t,
                        repo.full,
                        run.commit.sha,
                        self._status("error", context, "Upload error: unable to find coverage report", url),
                    )
                )
                continue
            project = self._status(
                "success" if delta >= -1.0 else "failure",
                "codecov/project",
                f"{coverage:.2f}% ({delta:+.2f}%) compared to {pr.base_sha[:7]}",
                url,
            )
            patch_cov = max(0.0, min(100.0, rng.gauss(base + (8 if pr.has_tests else -15), 8)))
            patch = self._status(
                "success" if patch_cov >= base - 5 else "failure",
                "codecov/patch",
                f"{patch_cov:.2f}% of diff hit (target {base:.2f}%)",
                url,
            )
            rows.append((t, repo.full, run.commit.sha, project))
            rows.append((t + 1, repo.full, run.commit.sha, patch))
        next_id = 33_000_000_000
        for t, full, sha, status in sorted(rows, key=lambda row: row[0]):
            next_id += rng.randint(1, 9)
            status["id"] = next_id
            status["node_id"] = _node("SC", next_id)
            status["url"] = f"{_API}/repos/{full}/statuses/{sha}"
            status["created_at"] = status["updated_at"] = _iso(min(t, end))
            rec.commit_statuses.setdefault((full, sha), []).append(status)
        for statuses in rec.commit_statuses.values():
            statuses.sort(key=lambda s: int(s["id"]), reverse=True)

    def _status(self, state: str, context: str, description: str, target_url: str) -> JSON:
        bot = self.gen.actions_bot
        return {
            "avatar_url": f"https://avatars.githubusercontent.com/u/{bot.id}?v=4",
            "state": state,
            "description": description,
            "target_url": target_url,
            "context": context,
            "creator": self.user(bot),
        }


def generate_sample_org(spec: SampleOrgSpec = SampleOrgSpec()) -> Recording:
    """Generate the synthetic sample organisation ``repopilot-sample``.

    Args:
        spec: size and seed; the default is the demo organisation (4 repositories, 480 pull
            requests, ~2,000 workflow runs, with logs), :meth:`SampleOrgSpec.benchmark` the
            large one.

    Returns:
        A recording flagged ``synthetic``; equal specs give byte-identical recordings.
    """
    try:
        return _Generator(spec).generate()
    finally:
        _iso.cache_clear()
