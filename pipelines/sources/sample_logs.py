"""Failure classes of the sample organisation's CI and the run log archives they leave.

A failed attempt of a workflow run fails for one :class:`Failure`: *transient* (network
timeouts, registry outages, lost runners, time-outs, flaky tests), *permanent* (test
assertions, compile errors, lint) or *dependency* (a package or version that cannot be
resolved). :func:`build_logs_zip` renders the attempt's logs as the zip archive GitHub serves at
``GET /repos/{o}/{r}/actions/runs/{id}/attempts/{n}/logs``: one ``{i}_{job}.txt`` per job at the
top level and a ``{job}/{step number}_{step}.txt`` per step, each line prefixed with a
timestamp like ``2026-10-03T10:15:02.1234567Z``.
"""

from __future__ import annotations

import io
import random
import time
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from pipelines.sources.sample_catalog import RUNNER_VERSION

TRANSIENT = "transient"
PERMANENT = "permanent"
DEPENDENCY = "dependency"
FAILURE_KINDS = (TRANSIENT, PERMANENT, DEPENDENCY)

_ROLE_FALLBACKS: dict[str, tuple[str, ...]] = {
    "install": ("install", "publish", "toolchain", "build"),
    "checkout": ("checkout",),
    "test": ("test", "e2e", "build", "lint", "deploy"),
    "build": ("build", "lint", "test", "publish"),
    "lint": ("lint", "build", "test"),
    "e2e": ("e2e", "test", "smoke"),
    "deploy": ("deploy", "publish", "smoke", "test"),
    "main": ("e2e", "test", "deploy", "publish", "lint", "build"),
    "any": ("install", "build", "test", "e2e", "lint", "publish", "deploy", "services"),
}


@dataclass(frozen=True)
class Failure:
    """Why an attempt of a workflow run failed.

    Attributes:
        kind: ``transient``, ``permanent`` or ``dependency``.
        cause: the concrete failure (``network_timeout``, ``test_assertion``, ...).
        role: role of the step it breaks in; see :func:`failing_roles`.
        conclusion: the job's and run's conclusion, ``failure`` or ``timed_out``.
    """

    kind: str
    cause: str
    role: str
    conclusion: str = "failure"


def failing_roles(failure: Failure) -> tuple[str, ...]:
    """Step roles the failure can happen in, best first."""
    return _ROLE_FALLBACKS.get(failure.role, (failure.role,))


def pick_failure(rng: random.Random, kind: str, workflow_kind: str, flaky: bool) -> Failure:
    """Draw the concrete failure of a kind for a workflow (``ci``, ``lint``, ``e2e``, ``deploy``).

    Flaky workflows fail transiently mostly through flaky tests and time-outs; others through
    the network and the runners.
    """
    if kind == TRANSIENT:
        if flaky:
            options: tuple[tuple[str, str, float], ...] = (
                ("flaky_test", "main", 0.45),
                ("timeout", "main", 0.2),
                ("runner_lost", "any", 0.15),
                ("network_timeout", "install", 0.1),
                ("registry_503", "install", 0.1),
            )
        else:
            options = (
                ("network_timeout", "install", 0.3),
                ("registry_503", "install", 0.22),
                ("dns", "checkout", 0.12),
                ("runner_lost", "any", 0.2),
                ("timeout", "main", 0.16 if workflow_kind in {"e2e", "deploy"} else 0.06),
            )
    elif kind == PERMANENT:
        by_workflow: dict[str, tuple[tuple[str, str, float], ...]] = {
            "ci": (("test_assertion", "test", 0.68), ("compile_error", "build", 0.32)),
            "lint": (("lint", "lint", 0.75), ("compile_error", "lint", 0.25)),
            "e2e": (("test_assertion", "e2e", 1.0),),
            "deploy": (("deploy_error", "deploy", 0.8), ("compile_error", "build", 0.2)),
        }
        options = by_workflow.get(workflow_kind, by_workflow["ci"])
    else:
        options = (("package_not_found", "install", 0.45), ("version_conflict", "install", 0.55))
    cause, role, _ = rng.choices(options, [weight for _, _, weight in options])[0]
    return Failure(kind, cause, role, "timed_out" if cause == "timeout" else "failure")


@dataclass(frozen=True)
class LogStep:
    """A step that ran, as the log archive shows it (times in epoch seconds)."""

    number: int
    name: str
    role: str
    started: int
    completed: int
    failed: bool


@dataclass(frozen=True)
class LogJob:
    """A job that ran in the attempt, with the steps that produced output."""

    name: str
    runner_name: str
    steps: tuple[LogStep, ...]


@dataclass(frozen=True)
class LogContext:
    """What the log lines talk about.

    Attributes:
        repo: ``owner/name``.
        sha: head commit.
        message: head commit message (first line).
        language: key of :data:`pipelines.sources.sample_catalog.LANGUAGES`.
        code_file: a changed source file the errors point at.
        test_file: a test file the assertions point at.
        package: the dependency a dependency failure names.
        timeout_minutes: the job time-out.
    """

    repo: str
    sha: str
    message: str
    language: str
    code_file: str
    test_file: str
    package: str
    timeout_minutes: int


def _stamp(t100ns: int) -> str:
    seconds, frac = divmod(t100ns, 10_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{frac:07d}Z"


def _name_of(repo: str) -> str:
    return repo.split("/", 1)[1]


def _stem(path: str) -> str:
    base = path.rsplit("/", 1)[-1]
    return base.split(".", 1)[0] or "module"


def _setup_lines(job: LogJob) -> list[str]:
    return [
        f"Current runner version: '{RUNNER_VERSION}'",
        f"Runner name: '{job.runner_name}'",
        "##[group]Operating System",
        "Ubuntu",
        "22.04.5",
        "LTS",
        "##[endgroup]",
        "##[group]Runner Image",
        "Image: ubuntu-22.04",
        "Version: 20241006.1.0",
        "##[endgroup]",
        "##[group]GITHUB_TOKEN Permissions",
        "Contents: read",
        "Metadata: read",
        "##[endgroup]",
        "Secret source: Actions",
        "Prepare workflow directory",
        "Prepare all required actions",
        "Getting action download info",
        "Download action repository 'actions/checkout@v4' (SHA:11bd71901bbe5b1630ceea73d27597364c9af683)",
        f"Complete job name: {job.name}",
    ]


def _checkout_lines(ctx: LogContext) -> list[str]:
    name = _name_of(ctx.repo)
    return [
        "##[group]Run actions/checkout@v4",
        "with:",
        f"  repository: {ctx.repo}",
        f"  ref: {ctx.sha}",
        "##[endgroup]",
        f"Syncing repository: {ctx.repo}",
        f"[command]/usr/bin/git init /home/runner/work/{name}/{name}",
        f"[command]/usr/bin/git remote add origin https://github.com/{ctx.repo}",
        "[command]/usr/bin/git -c protocol.version=2 fetch --no-tags --prune --no-recurse-submodules "
        f"--depth=1 origin +{ctx.sha}:refs/remotes/origin/head",
    ]


_TOOLCHAIN: dict[str, tuple[str, ...]] = {
    "python": (
        "##[group]Run actions/setup-python@v5",
        "with:",
        "  python-version: 3.12",
        "##[endgroup]",
        "Successfully set up CPython (3.12.7)",
    ),
    "node": (
        "##[group]Run actions/setup-node@v4",
        "with:",
        "  node-version: 20",
        "##[endgroup]",
        "Found in cache @ /opt/hostedtoolcache/node/20.18.0/x64",
    ),
    "go": (
        "##[group]Run actions/setup-go@v5",
        "with:",
        "  go-version: 1.23",
        "##[endgroup]",
        "Found in cache @ /opt/hostedtoolcache/go/1.23.2/x64",
    ),
    "rust": (
        "##[group]Run dtolnay/rust-toolchain@stable",
        "##[endgroup]",
        "info: syncing channel updates for 'stable-x86_64-unknown-linux-gnu'",
        "rustc 1.82.0 (f6e511eec 2024-10-15)",
    ),
    "terraform": (
        "##[group]Run hashicorp/setup-terraform@v3",
        "##[endgroup]",
        "Terraform v1.9.8",
        "on linux_amd64",
    ),
}


def _install_lines(ctx: LogContext) -> list[str]:
    pkg = ctx.package
    if ctx.language == "python":
        return [
            "##[group]Run pip install -r requirements.txt",
            "##[endgroup]",
            f"Collecting {pkg}>=1.0",
            f"  Downloading {pkg}-2.4.1-py3-none-any.whl (64 kB)",
            "Collecting urllib3<3,>=1.21.1",
            "  Using cached urllib3-2.2.3-py3-none-any.whl (126 kB)",
        ]
    if ctx.language == "node":
        return [
            "##[group]Run npm ci",
            "##[endgroup]",
            "npm WARN deprecated inflight@1.0.6: This module is not supported",
        ]
    if ctx.language == "go":
        return ["##[group]Run go mod download", "##[endgroup]", f"go: downloading {pkg} v1.8.0"]
    if ctx.language == "rust":
        return [
            "##[group]Run cargo fetch --locked",
            "##[endgroup]",
            "    Updating crates.io index",
            f"  Downloaded {pkg} v1.41.0",
        ]
    return [
        "##[group]Run terraform init -input=false",
        "##[endgroup]",
        "Initializing the backend...",
        "Initializing provider plugins...",
        f'- Finding {pkg} versions matching "~> 5.0"...',
    ]


_INSTALL_DONE: dict[str, tuple[str, ...]] = {
    "python": ("Successfully installed certifi-2024.8.30 idna-3.10 urllib3-2.2.3",),
    "node": ("added 1187 packages, and audited 1188 packages in 19s", "found 0 vulnerabilities"),
    "go": (),
    "rust": (),
    "terraform": ("- Installing hashicorp/aws v5.74.0...", "Terraform has been successfully initialized!"),
}


def _main_lines(role: str, step_name: str, ctx: LogContext) -> list[str]:
    lang = ctx.language
    name = _name_of(ctx.repo)
    if role == "build":
        return {
            "python": [
                "##[group]Run python -m build",
                "##[endgroup]",
                "* Creating isolated environment: venv+pip...",
                f"Successfully built {name}-0.1.0.tar.gz and {name}-0.1.0-py3-none-any.whl",
            ],
            "node": [
                "##[group]Run npm run build",
                "##[endgroup]",
                "> tsc -p . && vite build",
                "✓ 412 modules transformed.",
                "✓ built in 8.21s",
            ],
            "go": ["##[group]Run go build ./...", "##[endgroup]"],
            "rust": [
                "##[group]Run cargo build --locked",
                "##[endgroup]",
                f"   Compiling {name} v0.1.0",
                "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 48.12s",
            ],
            "terraform": [
                "##[group]Run terraform validate",
                "##[endgroup]",
                "Success! The configuration is valid.",
            ],
        }[lang]
    if role == "test":
        return {
            "python": [
                "##[group]Run pytest -q --cov",
                "##[endgroup]",
                "........................................................ [ 41%]",
                "........................................................ [ 83%]",
                "......................                                   [100%]",
                "============================= 134 passed in 12.34s =============================",
            ],
            "node": [
                "##[group]Run npm test",
                "##[endgroup]",
                "PASS tests/utils.test.ts",
                "Tests:       88 passed, 88 total",
                "Time:        9.412 s",
            ],
            "go": [
                "##[group]Run go test -race ./...",
                "##[endgroup]",
                f"ok  \tgithub.com/{ctx.repo}/internal/api\t0.412s",
                f"ok  \tgithub.com/{ctx.repo}/internal/store\t1.027s",
            ],
            "rust": [
                "##[group]Run cargo test --locked",
                "##[endgroup]",
                "running 42 tests",
                "test result: ok. 42 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out",
            ],
            "terraform": [
                "##[group]Run terraform plan -input=false",
                "##[endgroup]",
                "Plan: 0 to add, 2 to change, 0 to destroy.",
            ],
        }[lang]
    if role == "lint":
        done = {
            "Run ruff": "All checks passed!",
            "Run mypy": "Success: no issues found in 87 source files",
            "Check formatting": "All matched files use the expected style.",
            "Run golangci-lint": "0 issues.",
            "Run clippy": "    Finished `dev` profile [unoptimized + debuginfo] target(s) in 31.02s",
        }.get(step_name, "")
        return [
            f"##[group]Run {step_name.removeprefix('Run ').lower()}",
            "##[endgroup]",
            *([done] if done else []),
        ]
    if role == "e2e":
        return [
            "##[group]Run npx playwright test",
            "##[endgroup]",
            "Running 48 tests using 2 workers",
            "  48 passed (2.1m)",
        ]
    if role == "services":
        return [
            "##[group]Run docker compose up -d --wait",
            "##[endgroup]",
            " Container db  Started",
            f" Container {name}  Healthy",
        ]
    if role == "upload":
        return ["##[group]Run codecov/codecov-action@v4", "##[endgroup]", "info - Upload complete"]
    if role == "login":
        return ["##[group]Run docker/login-action@v3", "##[endgroup]", "Login Succeeded!"]
    if role == "publish":
        return [
            "##[group]Run docker/build-push-action@v6",
            "##[endgroup]",
            "#9 [build 4/6] RUN make build",
            "#12 exporting to image",
            "#12 pushing layers 4.2s done",
        ]
    if role == "deploy":
        return [
            "##[group]Run ./scripts/deploy.sh staging",
            "##[endgroup]",
            f"deployment.apps/{name} configured",
            f'Waiting for deployment "{name}" rollout to finish: 1 of 3 updated replicas are available...',
            f'deployment "{name}" successfully rolled out',
        ]
    if role == "smoke":
        return ["##[group]Run curl -fsS https://staging.internal/health", "##[endgroup]", '{"status":"ok"}']
    return [f"##[group]Run {step_name}", "##[endgroup]"]


_NO_HOST = "Could not resolve host: github.com"


def _failure_lines(failure: Failure, ctx: LogContext, job: LogJob) -> list[str]:
    lang = ctx.language
    pkg = ctx.package
    code, test, name = ctx.code_file, ctx.test_file, _name_of(ctx.repo)
    stem = _stem(code)
    cause = failure.cause
    if cause == "network_timeout":
        return {
            "python": [
                f"WARNING: Retrying (Retry(total=4, connect=None, read=None, redirect=None, status=None)) "
                f"after connection broken by 'ReadTimeoutError(\"HTTPSConnectionPool(host='pypi.org', "
                f"port=443): Read timed out. (read timeout=15)\")': /simple/{pkg}/",
                "ERROR: Could not install packages due to an OSError: HTTPSConnectionPool(host='files."
                "pythonhosted.org', port=443): Read timed out.",
            ],
            "node": [
                "npm ERR! code ETIMEDOUT",
                "npm ERR! syscall connect",
                "npm ERR! errno ETIMEDOUT",
                f"npm ERR! network request to https://registry.npmjs.org/{pkg} failed, reason: connect "
                "ETIMEDOUT 104.16.3.35:443",
                "npm ERR! network This is a problem related to network connectivity.",
            ],
            "go": [
                f'go: {pkg}@v1.8.0: Get "https://proxy.golang.org/{pkg}/@v/v1.8.0.zip": dial tcp: '
                "lookup proxy.golang.org on 127.0.0.53:53: read udp 127.0.0.1:41034->127.0.0.53:53: "
                "i/o timeout"
            ],
            "rust": [
                "warning: spurious network error (3 tries remaining): [28] Timeout was reached "
                "(Operation timed out after 30000 milliseconds with 0 bytes received)",
                f"error: failed to download `{pkg} v1.41.0`",
                "Caused by:",
                "  [28] Timeout was reached",
            ],
            "terraform": [
                "Error: Failed to install provider",
                f"Error while installing {pkg} v5.74.0: "
                'could not query provider registry: Get "https://registry.terraform.io/v1/providers/'
                f'{pkg}/versions": net/http: TLS handshake timeout',
            ],
        }[lang]
    if cause == "registry_503":
        if failure.role in {"publish"} or lang == "terraform":
            return [
                "#7 ERROR: failed to push ghcr.io/"
                + ctx.repo
                + ":"
                + ctx.sha[:7]
                + ": unexpected status from PUT request: 503 Service Unavailable",
                "ERROR: failed to solve: failed to push: 503 Service Unavailable",
            ]
        return {
            "python": [
                f"ERROR: HTTP error 503 while getting https://files.pythonhosted.org/packages/{pkg}-2.4.1.tar.gz",
                "ERROR: Could not install requirement from https://files.pythonhosted.org because of "
                "HTTP error 503 Server Error: Service Unavailable",
            ],
            "node": [
                f"npm ERR! 503 Service Unavailable - GET https://registry.npmjs.org/{pkg}",
                "npm ERR! A complete log of this run can be found in: /home/runner/.npm/_logs/debug-0.log",
            ],
            "go": [
                f"go: {pkg}@v1.8.0: reading https://proxy.golang.org/{pkg}/@v/v1.8.0.mod: "
                "503 Service Unavailable"
            ],
            "rust": [
                f"error: failed to get `{pkg}` as a dependency of package `{name} v0.1.0`",
                "Caused by:",
                "  failed to get 200 response from `https://index.crates.io/config.json`, got 503",
            ],
        }[lang]
    if cause == "dns":
        return [
            f"Error: fatal: unable to access 'https://github.com/{ctx.repo}/': {_NO_HOST}",
            "The process '/usr/bin/git' failed with exit code 128",
            "Waiting 13 seconds before trying again",
            f"Error: fatal: unable to access 'https://github.com/{ctx.repo}/': {_NO_HOST}",
            "##[error]The process '/usr/bin/git' failed with exit code 128",
        ]
    if cause == "runner_lost":
        return [
            "##[error]The runner has received a shutdown signal. This can happen when the runner service is "
            "stopped, or a manually started runner is canceled.",
            "##[error]Process completed with exit code 143.",
            "Error: The operation was canceled.",
        ]
    if cause == "timeout":
        return [
            f"##[error]The job running on runner {job.runner_name} has exceeded the maximum execution "
            f"time of {ctx.timeout_minutes} minutes.",
            "Error: The operation was canceled.",
        ]
    if cause == "flaky_test":
        if lang in {"node"} or failure.role == "e2e":
            return [
                f"  1) [chromium] › {test}:41:5 › {stem} › completes the flow",
                "    TimeoutError: locator.click: Timeout 5000ms exceeded.",
                "    Call log:",
                "      - waiting for getByRole('button', { name: 'Continue' })",
                "  1 flaky",
                "  47 passed (2.4m)",
                "  1 failed",
            ]
        return {
            "python": [
                f"FAILED {test}::test_{stem}_concurrent - ConnectionResetError: [Errno 104] "
                "Connection reset by peer",
                "E   ConnectionResetError: [Errno 104] Connection reset by peer",
                "=================== 1 failed, 133 passed in 14.02s ===================",
            ],
            "go": [
                f"--- FAIL: Test{stem.title().replace('_', '')}Concurrent (5.00s)",
                f"    {_stem(test)}_test.go:88: context deadline exceeded",
                "FAIL",
            ],
            "rust": [
                f"thread '{stem}::tests::concurrent_writers' panicked at {code}:212:9:",
                "called `Result::unwrap()` on an `Err` value: Elapsed(())",
                "test result: FAILED. 41 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
            ],
            "terraform": [
                "Error: Error acquiring the state lock",
                "Lock Info:",
                "  Operation: OperationTypePlan",
            ],
        }[lang]
    if cause == "test_assertion":
        if failure.role == "e2e":
            return [
                f"  1) [chromium] › {test}:27:5 › {stem} › returns the created resource",
                "    Error: expect(received).toBe(expected) // Object.is equality",
                "    Expected: 200",
                "    Received: 500",
                "  1 failed",
                "  47 passed (2.2m)",
            ]
        return {
            "python": [
                f"_________________________ test_{stem}_returns_ok _________________________",
                f"    def test_{stem}_returns_ok(client):",
                f"        response = client.post('/{stem}', json=payload)",
                ">       assert response.status_code == 200, f'expected 200 but got {response.status_code}'",
                "E   AssertionError: expected 200 but got 500",
                f"{test}:42: AssertionError",
                f"FAILED {test}::test_{stem}_returns_ok - AssertionError: expected 200 but got 500",
                "=================== 1 failed, 133 passed in 12.87s ===================",
            ],
            "node": [
                f"FAIL {test}",
                f"  ● {stem} › returns the total",
                "    expect(received).toBe(expected) // Object.is equality",
                "    Expected: 200",
                "    Received: 500",
                "Tests:       1 failed, 87 passed, 88 total",
            ],
            "go": [
                f"--- FAIL: Test{stem.title().replace('_', '')} (0.01s)",
                f"    {_stem(test)}_test.go:42: expected 200 but got 500",
                "FAIL",
                f"FAIL\tgithub.com/{ctx.repo}/{code.rsplit('/', 1)[0]}\t0.214s",
            ],
            "rust": [
                f"thread '{stem}::tests::returns_ok' panicked at {code}:88:9:",
                "assertion `left == right` failed",
                "  left: 500",
                " right: 200",
                "test result: FAILED. 41 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out",
            ],
            "terraform": [
                "Error: Invalid value for variable",
                f"  on {code} line 12:",
                "The instance_count must be at least 1.",
            ],
        }[lang]
    if cause == "compile_error":
        return {
            "python": [
                f"ERROR collecting {test}",
                f"ImportError while importing test module '{test}'.",
                f"E   ImportError: cannot import name 'compute_{stem}' from '{code[:-3].replace('/', '.')}'",
                "!!!!!!!!!!!!!!!!!!! Interrupted: 1 error during collection !!!!!!!!!!!!!!!!!!!",
            ],
            "node": [
                f"{code}(14,7): error TS2322: Type 'string' is not assignable to type 'number'.",
                "Found 1 error.",
            ],
            "go": [
                f"# github.com/{ctx.repo}/{code.rsplit('/', 1)[0]}",
                f"./{code}:57:9: undefined: {stem}Prefix",
            ],
            "rust": [
                "error[E0308]: mismatched types",
                f"  --> {code}:42:17",
                "   |",
                "42 |     let total: u64 = amount;",
                "   |                ---   ^^^^^^ expected `u64`, found `i64`",
                f"error: could not compile `{name}` (lib) due to 1 previous error",
            ],
            "terraform": [
                "Error: Unsupported argument",
                f'  on {code} line 12, in resource "aws_instance" "this":',
                'An argument named "instance_class" is not expected here.',
            ],
        }[lang]
    if cause == "lint":
        return {
            "python": [
                f"{code}:12:1: F401 [*] `os` imported but unused",
                "Found 1 error.",
                "[*] 1 fixable with the `--fix` option.",
            ],
            "node": [
                f"/home/runner/work/{name}/{name}/{code}",
                "  14:7  error  'total' is assigned a value but never used  "
                "@typescript-eslint/no-unused-vars",
                "✖ 1 problem (1 error, 0 warnings)",
            ],
            "go": [
                f"{code}:33:2: ineffectual assignment to err (ineffassign)",
                "1 issues:",
                "* ineffassign: 1",
            ],
            "rust": [
                "error: redundant clone",
                f"  --> {code}:61:22",
                "   = note: `-D clippy::redundant-clone` implied by `-D warnings`",
            ],
            "terraform": [
                "1 issue(s) found:",
                "",
                'Warning: variable "region" is declared but not used (terraform_unused_declarations)',
                f"  on {code} line 3:",
            ],
        }[lang]
    if cause == "deploy_error":
        return [
            f'error: deployment "{name}" exceeded its progress deadline',
            f"Error: UPGRADE FAILED: release {name} failed, and has been rolled back due to atomic being set",
            "Error: Process completed with exit code 1.",
        ]
    if cause == "package_not_found":
        return {
            "python": [
                f"ERROR: Could not find a version that satisfies the requirement {pkg}==9.9 "
                "(from versions: 1.0.0, 1.1.0, 2.0.0, 2.4.1)",
                f"ERROR: No matching distribution found for {pkg}==9.9",
            ],
            "node": [
                "npm ERR! code E404",
                f"npm ERR! 404 Not Found - GET https://registry.npmjs.org/{pkg}-utils - Not found",
                f"npm ERR! 404  '{pkg}-utils@^9.9.0' is not in this registry.",
            ],
            "go": [
                f"go: {pkg}@v9.9.0: reading https://proxy.golang.org/{pkg}/@v/v9.9.0.info: 404 Not Found",
                "\tserver response: not found: unknown revision v9.9.0",
            ],
            "rust": [
                f"error: no matching package named `{pkg}-utils` found",
                "location searched: registry `crates-io`",
                f"required by package `{name} v0.1.0 (/home/runner/work/{name}/{name})`",
            ],
            "terraform": [
                "Error: Failed to query available provider packages",
                f"Could not retrieve the list of available versions for provider {pkg}x: provider "
                f"registry registry.terraform.io does not have a provider named registry.terraform.io/{pkg}x",
            ],
        }[lang]
    if cause == "version_conflict":
        return {
            "python": [
                f"ERROR: Cannot install {pkg}==2.9.2 and {name}==0.1.0 because these package versions have "
                "conflicting dependencies.",
                "The conflict is caused by:",
                f"    {name} 0.1.0 depends on {pkg}<2",
                f"    The user requested {pkg}==2.9.2",
                "ERROR: ResolutionImpossible: for help visit https://pip.pypa.io/en/latest/topics/dependency-resolution/",
            ],
            "node": [
                "npm ERR! code ERESOLVE",
                "npm ERR! ERESOLVE unable to resolve dependency tree",
                f"npm ERR! Found: {pkg}@18.3.1",
                "npm ERR! Could not resolve dependency:",
                f'npm ERR! peer {pkg}@"^17.0.0" from legacy-widget@4.2.0',
            ],
            "go": [f"go: {pkg}@v1.9.0 requires go >= 1.24 (running go 1.23.2; GOTOOLCHAIN=local)"],
            "rust": [
                f"error: failed to select a version for `{pkg}`.",
                f"    ... required by package `{name} v0.1.0`",
                "versions that meet the requirements `^1.40` are: 1.41.0, 1.40.0",
                f"the package `{name}` depends on `{pkg}`, with features: `io-uring` but `{pkg}` does not "
                "have these features.",
            ],
            "terraform": [
                "Error: Failed to query available provider packages",
                f"Could not retrieve the list of available versions for provider {pkg}: locked provider "
                f"registry.terraform.io/{pkg} 5.31.0 does not match configured version constraint ~> 4.0",
            ],
        }[lang]
    return ["Error: unexpected failure"]


def _step_lines(step: LogStep, job: LogJob, ctx: LogContext, failure: Failure | None) -> list[str]:
    role = step.role
    if role == "setup":
        lines = _setup_lines(job)
    elif role == "checkout":
        lines = _checkout_lines(ctx)
        if not (step.failed and failure is not None and failure.cause == "dns"):
            lines += [
                f"[command]/usr/bin/git checkout --progress --force {ctx.sha}",
                f"HEAD is now at {ctx.sha[:7]} {ctx.message}",
            ]
    elif role == "toolchain":
        lines = list(_TOOLCHAIN[ctx.language])
    elif role == "install":
        lines = _install_lines(ctx)
        if not step.failed:
            lines += _INSTALL_DONE[ctx.language]
    elif role == "post":
        lines = [
            "Post job cleanup.",
            "[command]/usr/bin/git version",
            "git version 2.47.0",
            "[command]/usr/bin/git config --local --name-only --get-regexp core\\.sshCommand",
        ]
    elif role == "complete":
        lines = ["Cleaning up orphan processes"]
    else:
        lines = _main_lines(role, step.name, ctx)
        if step.failed:
            lines = lines[:2] + lines[2:-1]
    if step.failed and failure is not None:
        lines = lines + _failure_lines(failure, ctx, job)
        if failure.cause not in {"runner_lost", "timeout"}:
            lines.append(f"##[error]Process completed with exit code {128 if failure.cause == 'dns' else 1}.")
    return lines


def _sanitise(name: str) -> str:
    return "".join(ch for ch in name if ch not in '/\\:*?"<>|')


def _render(lines: list[str], started: int, completed: int, rng: random.Random) -> str:
    span = max(1, completed - started) * 10_000_000
    base = started * 10_000_000
    offsets = sorted(rng.randrange(span) for _ in lines)
    return "".join(f"{_stamp(base + off)} {line}\n" for off, line in zip(offsets, lines, strict=True))


def build_logs_zip(jobs: Sequence[LogJob], failure: Failure | None, ctx: LogContext, seed: int) -> bytes:
    """Render an attempt's logs as GitHub's run log archive.

    Args:
        jobs: the jobs that ran, in order; steps that were skipped are left out by the caller.
        failure: why the attempt failed; its excerpt goes into the failed step.
        ctx: repository, commit and files the lines refer to.
        seed: seeds the sub-second parts of the timestamps, so equal input gives equal bytes.

    Returns:
        The bytes of a zip archive with ``{i}_{job}.txt`` files at the top and one
        ``{job}/{n}_{step}.txt`` file per step.
    """
    rng = random.Random(seed)  # noqa: S311 - timestamps of synthetic logs, not security
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for index, job in enumerate(jobs, start=1):
            job_dir = _sanitise(job.name)
            parts: list[tuple[str, str]] = []
            for step in job.steps:
                text = _render(_step_lines(step, job, ctx, failure), step.started, step.completed, rng)
                parts.append((f"{job_dir}/{step.number}_{_sanitise(step.name)}.txt", text))
            whole = "".join(text for _, text in parts)
            for name, text in [(f"{index}_{job_dir}.txt", whole), *parts]:
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                info.compress_type = zipfile.ZIP_DEFLATED
                archive.writestr(info, text.encode())
    return buffer.getvalue()
