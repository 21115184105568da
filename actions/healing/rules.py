"""Rules that recognise why CI failed: our curated regexes, plus FlakeRanker's when trained in.

Each :class:`Rule` maps a regular expression to a category:

* ``transient`` — re-running the same job is likely to pass (network and DNS errors, registry
  5xx and rate limits, lost or full runners, CI time-outs, port collisions, remote browsers);
* ``dependency`` — something outside the repository is not in the needed state yet (a version
  or package not published, an image not pushed, a state lock held elsewhere); waiting helps;
* ``permanent`` — evidence that the code or configuration must change (the repo's own version
  conflicts, compile errors, assertions). A failure that no rule explains is permanent too.

The curated set (:data:`CURATED_RULES`) is written from general CI experience and the labelling
guide of the failure-text data (``LABELS.md``); it ships in the code, so self-healing works with no
trained model. :func:`load_flakeranker_rules` turns FlakeRanker's published patterns (ICSE-SEIP
2025, MIT) into rules, mapping each of its categories to ours (:data:`FLAKERANKER_CATEGORIES`);
training merges them into the exported artefact, as the action cannot read the data at run time.
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TRANSIENT = "transient"
DEPENDENCY = "dependency"
PERMANENT = "permanent"
CATEGORIES = (TRANSIENT, DEPENDENCY, PERMANENT)
RETRYABLE = frozenset({TRANSIENT, DEPENDENCY})

MAX_RULE_TEXT = 20_000
"""Characters of text the rules look at: FlakeRanker patterns span lines (``(.|\\n)*``)."""


class RuleError(ValueError):
    """A rule or a rule file that cannot be used."""


@dataclass(frozen=True)
class Rule:
    """A regular expression that points at a category.

    Attributes:
        name: short identifier shown in results (``network_timeout``, ``flakeranker:remote_call_timeout``).
        pattern: Python regular expression, matched case-insensitively, may span lines.
        category: ``transient``, ``dependency`` or ``permanent``.
        weight: how much one hit counts when rules alone decide.
        source: ``curated`` or ``flakeranker``.
    """

    name: str
    pattern: str
    category: str
    weight: float = 1.0
    source: str = "curated"

    def as_dict(self) -> dict[str, Any]:
        """The rule as exported (see ``actions/schemas/failure_classifier.schema.json``)."""
        return {
            "name": self.name,
            "pattern": self.pattern,
            "category": self.category,
            "weight": self.weight,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Rule:
        """A rule read back from an artefact; checks that its pattern compiles."""
        rule = cls(
            str(data["name"]),
            str(data["pattern"]),
            str(data["category"]),
            float(data.get("weight", 1.0)),
            str(data.get("source", "curated")),
        )
        if rule.category not in CATEGORIES:
            raise RuleError(f"rule {rule.name!r}: unknown category {rule.category!r}")
        compiled(rule.pattern)
        return rule


@functools.lru_cache(maxsize=1024)
def compiled(pattern: str) -> re.Pattern[str]:
    """The compiled, case-insensitive pattern (cached)."""
    try:
        return re.compile(pattern, re.IGNORECASE)
    except re.error as exc:
        raise RuleError(f"invalid rule pattern {pattern!r}: {exc}") from exc


def _curated(category: str, weight: float, **patterns: str) -> list[Rule]:
    return [Rule(name, pattern, category, weight) for name, pattern in patterns.items()]


CURATED_RULES: tuple[Rule, ...] = (
    *_curated(
        TRANSIENT,
        1.0,
        network_timeout=(
            r"\b(?:connect(?:ion)?|read|socket|handshake|request|download|operation)\s*(?:has\s+)?"
            r"(?:timed?[ -]?out|timeout)\b|\bETIMEDOUT\b|\bESOCKETTIMEDOUT\b|\bi/o timeout\b"
            r"|Timeout was reached|TLS handshake timeout|Client\.Timeout exceeded|ReadTimeoutError"
            r"|ConnectTimeoutError|Read timed out"
        ),
        connection_reset=(
            r"\bECONNRESET\b|connection reset by peer|Connection broken|remote end hung up unexpectedly"
            r"|transfer closed with outstanding read data|Empty reply from server|\bearly EOF\b"
            r"|unexpected disconnect while reading sideband|SSL_ERROR_SYSCALL"
            r"|\bRPC failed; (?:curl|HTTP|result)"
        ),
        connection_refused=(
            r"\bECONNREFUSED\b|Couldn't establish HTTP connection|Failed to open TCP connection"
            r"|Failed to establish a new connection|NewConnectionError|Network is unreachable"
            r"|No route to host|Max retries exceeded with url|spurious network error"
            r"|npm ERR! network\b|Could not connect to|Failed to connect to .* port \d+"
        ),
        dns=(
            r"Could not resolve host|Temporary failure in name resolution|Name or service not known"
            r"|\bEAI_AGAIN\b|getaddrinfo ENOTFOUND|\bno such host\b|server misbehaving"
            r"|UnknownHostException|Could not resolve hostname"
        ),
        tls=r"SSL connect error|handshake failure|SSLEOFError|EOF occurred in violation of protocol",
        server_error=(
            r"\b50[0234]\b[^\n]{0,40}(?:Server Error|Service Unavailable|Bad Gateway|Gateway Time-?out)"
            r"|Service (?:Temporarily )?Unavailable|Bad Gateway|Gateway Time-?out|HTTP error 5\d\d"
            r"|returned error: 5\d\d|response[^\n]{0,120}\bgot 5\d\d\b|status(?: code)?:? 5\d\d\b"
            r"|unexpected status[^\n]*\b5\d\d\b"
        ),
        rate_limit=(
            r"(?:HTTP|status|code|error|response)[^\n]{0,20}\b429\b|\b429 Too Many|Too Many Requests"
            r"|rate limit(?:ed| exceeded| reached)?\b|toomanyrequests|google\.com/sorry\b"
            r"|secondary rate limit|exceeded (?:the|your) (?:request )?quota"
        ),
        runner_lost=(
            r"runner has received a shutdown signal|lost communication with the server"
            r"|The hosted runner encountered an error|runner .{0,40}(?:went offline|was lost)"
            r"|The self-hosted runner .{0,60}lost|Received request to deprovision"
        ),
        ci_timeout=(
            r"exceeded the maximum execution time|No output has been received in the last \d+m"
            r"|exited with 124\b|execution took longer than|The job exceeded the maximum time limit"
            r"|build has been terminated|Job's log exceeded"
        ),
        runner_resources=(
            r"No space left on device|\bENOSPC\b|OOMKilled|exit code 137\b|JavaScript heap out of memory"
            r"|Cannot allocate memory|The runner has run out of"
        ),
        port_in_use=r"Address already in use|\bEADDRINUSE\b|address already in use",
        tool_download=(
            r"error occur?red while (?:installing|downloading|fetching)\b"
            r"|(?:unable|failed) to (?:download|fetch)[^\n]{0,80}(?:timed? ?out|connection|network|temporar)"
        ),
        runner_crash=(
            r"Access violation in generated code|Killed signal terminated program|ghc: panic!"
            r"|the compiler unexpectedly panicked|fatal error: (?:cannot allocate memory|out of memory)"
        ),
        external_service_test=(
            r"(?:httpbin\.org|badssl\.com|postman-echo\.com)[\s\S]{0,400}?(?:time[ds]? ?out|timeout)"
            r"|(?:time[ds]? ?out|timeout)[\s\S]{0,400}?(?:httpbin\.org|badssl\.com|postman-echo\.com)"
            r"|\b(?:GCS|S3|AzureStorage)Service(?:Test)?\b"
        ),
        remote_browser=(
            r"Disconnected,? because no message in|browser(?:stack)?[^\n]{0,60}disconnect"
            r"|\bDISCONNECTED\b|ping timeout|Sauce ?Labs[^\n]{0,60}(?:timeout|disconnect)"
        ),
    ),
    *_curated(
        DEPENDENCY,
        1.0,
        version_not_published=(
            r"No matching distribution found for|Could not find a version that satisfies the requirement"
            r"|No matching version found for|\bETARGET\b|\bnotarget\b|is not in (?:this|the npm) registry"
            r"|None of your spec sources contain a spec satisfying|Unable to find a specification for"
            r"|no matching package named|failed to select a version for"
            r"|No version of (?!%)[^\n]{1,80} is available"
            r"|unknown revision v?\d|Could not find artifact|Could not resolve dependencies for project"
            r"|Failed to collect dependencies|Could not find (?:any )?(?:version|package|module) "
            r"|Unable to resolve dependency|could not resolve (?:all )?(?:dependencies|artifacts)"
        ),
        package_missing_from_server=(
            r"\b404\b[^\n]{0,80}(?:package|registry|\.tgz|\.whl|\.jar|\.pom|\.gem|\.sig|crate|artifact)"
            r"|(?:package|artifact|crate|gem)[^\n]{0,80}\b404\b|E404\b"
        ),
        image_not_available=(
            r"manifest (?:for [^\n]{1,120} )?(?:unknown|not found)|pull access denied"
            r"|repository does not exist|ErrImagePull|ImagePullBackOff|image not found"
            r"|Unable to find image [^\n]* locally[\s\S]{0,300}not found"
        ),
        package_file_not_found=(
            r"\.(?:sig|tar\.gz|tgz|tar\.xz|tar\.bz2|zip|whl|jar|pom|gem|deb|rpm|nupkg|crate)\b[^\n]{0,40}"
            r"\bnot found\b"
            r"|\b404 Not Found\b[\s\S]{0,300}?\.(?:sig|tar\.gz|tgz|whl|jar|pom|gem|deb|rpm|crate)\b"
        ),
        upstream_source_broke=(
            r"-->\s*\S*[/\\]\.cargo[/\\]registry[/\\]src[/\\]"
            r"|node_modules[/\\]\S+\.d\.ts\(\d+,\d+\): error TS\d+"
            r"|Cannot find module '[^']+'[\s\S]{0,400}?at [^\n]*\(\S*node_modules[/\\]"
        ),
        lock_held=r"Error acquiring the state lock|state lock|lock is held by|Could not get lock",
        missing_module_from_upstream=r"Cannot find module '[^.'/][^']*'|ModuleNotFoundError: No module named",
    ),
    # The repo's own version conflicts also read "unable to resolve dependency": they must win.
    *_curated(
        PERMANENT,
        1.5,
        own_version_conflict=(
            r"\bERESOLVE\b|ResolutionImpossible|conflicting dependencies|\bNU1605\b|UnsatisfiableError"
            r"|version solving failed"
        ),
    ),
    # A link checker's 3xx/4xx findings need the list edited; they outweigh its network timeouts.
    *_curated(
        PERMANENT,
        3.0,
        link_checker_finding=r"(?m)^\s*\d+\.\s+(?:\[L\d+\]\s+)?(?:30[1278]|4\d\d)\s+https?://",
    ),
    *_curated(
        PERMANENT,
        0.75,
        assertion=(
            r"AssertionError|assert(?:ion)?[^\n]{0,20}failed|Expected[^\n]{0,80}(?:but|got|received|actual)"
            r"|expect\(received\)|\bnot equal to\b|Assert\.\w+\(\) Failure|ComparisonFailure"
        ),
        compile_error=(
            r"error TS\d+|\bSyntaxError\b|cannot find symbol|undefined reference|error\[E\d+\]"
            r"|COMPILATION ERROR|is not defined|undeclared identifier|Compilation failed|compile error"
            r"|Not in scope|No such file or directory|has no attribute|unexpected token"
        ),
        lint_or_format=(
            r"\blint(?:er|ing)?\b[^\n]{0,60}(?:error|fail)|would reformat|\bproblems? \(\d+ errors?"
        ),
    ),
)


FLAKERANKER_CATEGORIES: dict[str, str | None] = {
    # unauthorized_access: missing or wrong credentials must be fixed; a certificate hiccup passes.
    "container_platform_auth_failure": PERMANENT,
    "repository_access_denied": PERMANENT,
    "certificate_verification_failure": TRANSIENT,
    # infrastructure_issues: the CI platform's pods and runners.
    "helm_resource_error": PERMANENT,
    "runner_pod_failure": TRANSIENT,
    "runner_pod_not_found": TRANSIENT,
    "runner_instance_error": TRANSIENT,
    "runner_image_pull_failure": TRANSIENT,
    # remote_resource_errors: what lives elsewhere is missing (wait) or down (retry).
    "http_resource_not_found": DEPENDENCY,
    "external_file_invalid_format": None,  # ``parse error.*`` would claim every parser's error
    "api_gateway_deployment_error": TRANSIENT,
    "image_not_found": DEPENDENCY,
    "container_registry_server_error": TRANSIENT,
    "service_unavailable": TRANSIENT,
    # container_issues
    "docker_daemon_connection_failure": TRANSIENT,
    "image_build_permission_denied": PERMANENT,
    "image_push_write_error": TRANSIENT,
    "image_security_scan_failure": PERMANENT,
    "image_build_read_error": TRANSIENT,
    "container_not_found": TRANSIENT,
    "container_already_exists": TRANSIENT,
    # dependency_issues
    "dependency_installation_failure": DEPENDENCY,
    "dependencies_conflict_error": None,  # ``npm ERR! code ELIFECYCLE`` is any failing npm script
    "buggy_dependency": DEPENDENCY,
    "os_cmd_execution_error": PERMANENT,
    # environment_variables, internal_repository_issues, database_issues: the repo must change.
    "misconfigured_env_variable": PERMANENT,
    "repository_file_not_found": PERMANENT,
    "repository_file_access_error": PERMANENT,
    "db_table_undefined": PERMANENT,
    # internal_os_issues
    "apt_timezone_issue": TRANSIENT,
    # transient_vcs_errors, networking_issues, limits_exceeded
    "git_transient_error": TRANSIENT,
    "broker_connection_failure": TRANSIENT,
    "connection_closed_reset_broken": TRANSIENT,
    "connection_refused": TRANSIENT,
    "host_resolution_failure": TRANSIENT,
    "ssl_connection_error": TRANSIENT,
    "runner_pod_waiting_timeout": TRANSIENT,
    "job_execution_timeout": TRANSIENT,
    "cloud_token_limit_exceeded": TRANSIENT,
    "remote_call_timeout": TRANSIENT,
    "docker_pull_limit_reached": TRANSIENT,
    # memory_issues: the runner ran out, a re-run on a fresh runner usually passes.
    "static_analysis_tool_oom_error": TRANSIENT,
    "testing_device_oom_error": TRANSIENT,
    "container_oom_error": TRANSIENT,
    # flaky_test: our labels count a failing test without infrastructure trouble as permanent.
    "flaky_test": PERMANENT,
}
"""FlakeRanker category (third column) → our category; None drops a pattern that is too broad."""

FLAKERANKER_GROUPS: dict[str, str] = {
    "unauthorized_access": PERMANENT,
    "infrastructure_issues": TRANSIENT,
    "remote_resource_errors": TRANSIENT,
    "container_issues": TRANSIENT,
    "dependency_issues": DEPENDENCY,
    "environment_variables": PERMANENT,
    "internal_repository_issues": PERMANENT,
    "internal_os_issues": PERMANENT,
    "transient_vcs_errors": TRANSIENT,
    "memory_issues": TRANSIENT,
    "flaky_test": PERMANENT,
    "database_issues": PERMANENT,
    "networking_issues": TRANSIENT,
    "limits_exceeded": TRANSIENT,
}
"""Fallback by FlakeRanker group (second column) for categories not in the table above."""

_INLINE_FLAGS = re.compile(r"\(\?([aiLmsux]+)\)")


def _portable(pattern: str) -> str:
    """Python accepts inline flags only at the start; FlakeRanker puts ``(?m)`` inside alternations."""
    flags = "".join(sorted(set("".join(_INLINE_FLAGS.findall(pattern)))))
    body = _INLINE_FLAGS.sub("", pattern)
    return f"(?{flags}){body}" if flags else body


def load_flakeranker_rules(path: Path) -> tuple[list[Rule], list[str]]:
    """FlakeRanker's ``patterns.csv`` (``regex,group,category,comments``) as rules.

    Returns:
        The rules, and why each dropped pattern was dropped.

    Raises:
        RuleError: the file lacks the ``regex`` and ``group`` columns.
    """
    rules: list[Rule] = []
    dropped: list[str] = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if not reader.fieldnames or not {"regex", "group"} <= set(reader.fieldnames):
            raise RuleError(f"{path}: expected the columns regex,group,category")
        for number, row in enumerate(reader, 2):
            regex = (row.get("regex") or "").strip()
            if not regex:
                continue
            group = (row.get("group") or "").strip()
            kind = (row.get("category") or "").strip() or group
            category = (
                FLAKERANKER_CATEGORIES[kind]
                if kind in FLAKERANKER_CATEGORIES
                else FLAKERANKER_GROUPS.get(group)
            )
            if category is None:
                dropped.append(f"line {number} ({kind or group}): too broad or unmapped")
                continue
            pattern = _portable(regex)
            try:
                compiled(pattern)
            except RuleError as exc:
                dropped.append(f"line {number} ({kind}): {exc}")
                continue
            weight = 0.75 if category == PERMANENT else 1.0
            rules.append(Rule(f"flakeranker:{kind}:{number}", pattern, category, weight, "flakeranker"))
    return rules, dropped


@dataclass(frozen=True)
class RuleHit:
    """A rule that matched, and the line it matched on."""

    rule: Rule
    line: str


def match_rules(text: str, rules: Iterable[Rule]) -> list[RuleHit]:
    """Every rule that matches ``text`` (its first match), in rule order."""
    text = text[-MAX_RULE_TEXT:]
    hits: list[RuleHit] = []
    for rule in rules:
        match = compiled(rule.pattern).search(text)
        if match is None:
            continue
        start = text.rfind("\n", 0, match.start()) + 1
        end = text.find("\n", match.start())
        hits.append(RuleHit(rule, text[start : end if end >= 0 else len(text)].strip()[:300]))
    return hits


def rule_scores(hits: Sequence[RuleHit]) -> dict[str, float]:
    """Summed weight of the rules that hit, by category."""
    scores = dict.fromkeys(CATEGORIES, 0.0)
    for hit in hits:
        scores[hit.rule.category] += hit.rule.weight
    return scores


def decide_by_rules(hits: Sequence[RuleHit]) -> str:
    """The category with the largest summed weight; permanent when no rule, or a tie, says otherwise.

    A tie between transient and dependency goes to dependency: waiting then retrying is the
    safer of the two retrying decisions.
    """
    scores = rule_scores(hits)
    best = max(scores.values())
    if best <= 0 or scores[PERMANENT] >= best:
        return PERMANENT
    return DEPENDENCY if scores[DEPENDENCY] >= best else TRANSIENT
