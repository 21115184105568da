"""Fixed vocabulary of the sample organisation: repositories, languages, workflows, names, texts.

Everything here is constant data; :mod:`pipelines.sources.sample` draws from it with a seeded
random generator, so the catalogue only bounds what a sample organisation can contain.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AreaTemplate:
    """A top-level code area of a repository.

    Attributes:
        path: directory prefix, with a trailing slash (``src/billing/``).
        nouns: domain words the area's file names and titles are made of.
    """

    path: str
    nouns: tuple[str, ...]


@dataclass(frozen=True)
class RepoTemplate:
    """A repository the sample organisation can contain.

    Attributes:
        name: repository name (without the organisation).
        language: key of :data:`LANGUAGES`.
        areas: code areas; ``docs/``, ``tests/`` and ``.github/workflows/`` are added to all.
        e2e: whether the repository has an end-to-end workflow.
        deploy: whether the repository has a deploy workflow.
    """

    name: str
    language: str
    areas: tuple[AreaTemplate, ...]
    e2e: bool
    deploy: bool


@dataclass(frozen=True)
class Language:
    """How a language shows up in file names, workflow steps and dependency manifests.

    Attributes:
        ext: source file extension, with the dot.
        test_pattern: test file name pattern under ``tests/``; ``{noun}`` is replaced.
        manifests: dependency manifest files at the repository root.
        generic: file stems every code area of the language has.
        packages: dependencies that bots bump and dependency failures name.
        toolchain: name of the step that installs the toolchain.
        install: name of the step that installs dependencies.
        build: name of the build step.
        test: name of the unit test step.
        lint: names of the lint steps.
        speed: duration factor of CI jobs relative to a Python project.
        bot_ecosystem: the Dependabot ecosystem directory of its branches.
    """

    ext: str
    test_pattern: str
    manifests: tuple[str, ...]
    generic: tuple[str, ...]
    packages: tuple[str, ...]
    toolchain: str
    install: str
    build: str
    test: str
    lint: tuple[str, ...]
    speed: float
    bot_ecosystem: str


LANGUAGES: dict[str, Language] = {
    "python": Language(
        ext=".py",
        test_pattern="tests/test_{noun}.py",
        manifests=("pyproject.toml", "requirements.txt"),
        generic=("models", "utils", "client", "handlers", "config", "errors", "schemas"),
        packages=("requests", "pydantic", "fastapi", "sqlalchemy", "boto3", "httpx", "celery", "redis"),
        toolchain="Set up Python",
        install="Install dependencies",
        build="Build package",
        test="Run pytest",
        lint=("Run ruff", "Run mypy"),
        speed=1.0,
        bot_ecosystem="pip",
    ),
    "node": Language(
        ext=".ts",
        test_pattern="tests/{noun}.test.ts",
        manifests=("package.json", "package-lock.json"),
        generic=("index", "utils", "client", "hooks", "config", "errors", "types"),
        packages=("react", "next", "axios", "lodash", "typescript", "vite", "zod", "eslint"),
        toolchain="Set up Node.js",
        install="Install dependencies",
        build="Build",
        test="Run unit tests",
        lint=("Run ESLint", "Check formatting"),
        speed=1.2,
        bot_ecosystem="npm_and_yarn",
    ),
    "go": Language(
        ext=".go",
        test_pattern="tests/{noun}_test.go",
        manifests=("go.mod", "go.sum"),
        generic=("server", "util", "client", "handler", "config", "errors", "types"),
        packages=(
            "google.golang.org/grpc",
            "github.com/prometheus/client_golang",
            "go.uber.org/zap",
            "github.com/go-chi/chi/v5",
            "github.com/stretchr/testify",
            "github.com/redis/go-redis/v9",
        ),
        toolchain="Set up Go",
        install="Download modules",
        build="Build",
        test="Run tests",
        lint=("Run golangci-lint",),
        speed=0.8,
        bot_ecosystem="go_modules",
    ),
    "rust": Language(
        ext=".rs",
        test_pattern="tests/{noun}.rs",
        manifests=("Cargo.toml", "Cargo.lock"),
        generic=("lib", "util", "client", "handler", "config", "error", "types"),
        packages=("tokio", "serde", "axum", "reqwest", "tracing", "sqlx", "clap", "anyhow"),
        toolchain="Install Rust toolchain",
        install="Fetch dependencies",
        build="Build",
        test="Run tests",
        lint=("Check formatting", "Run clippy"),
        speed=2.0,
        bot_ecosystem="cargo",
    ),
    "terraform": Language(
        ext=".tf",
        test_pattern="tests/{noun}.tftest.hcl",
        manifests=("versions.tf", ".terraform.lock.hcl"),
        generic=("main", "variables", "outputs", "locals", "providers"),
        packages=(
            "hashicorp/aws",
            "hashicorp/google",
            "hashicorp/kubernetes",
            "hashicorp/helm",
            "hashicorp/random",
        ),
        toolchain="Set up Terraform",
        install="Terraform init",
        build="Terraform validate",
        test="Terraform plan",
        lint=("Terraform fmt", "Run tflint"),
        speed=0.5,
        bot_ecosystem="terraform",
    ),
}


def _a(path: str, *nouns: str) -> AreaTemplate:
    return AreaTemplate(path, nouns)


REPOSITORIES: tuple[RepoTemplate, ...] = (
    RepoTemplate(
        "api-gateway",
        "go",
        (
            _a("cmd/gateway/", "main", "flags", "wiring"),
            _a("internal/routing/", "router", "matcher", "rewrite", "upstream", "balancer"),
            _a("internal/auth/", "jwt", "apikey", "oidc", "scopes"),
            _a("internal/ratelimit/", "bucket", "window", "quota", "redis_store"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "billing-service",
        "python",
        (
            _a("src/billing/", "invoice", "ledger", "tax_rate", "refund", "currency", "discount"),
            _a("src/api/", "routes", "serializers", "pagination", "webhooks"),
            _a("src/payments/", "stripe_client", "retry_policy", "settlement", "chargeback"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "web-frontend",
        "node",
        (
            _a("src/components/", "cart", "checkout_form", "header", "modal", "date_picker", "table"),
            _a("src/pages/", "home", "settings", "orders", "login", "dashboard"),
            _a("src/hooks/", "use_session", "use_fetch", "use_feature_flag", "use_debounce"),
            _a("src/styles/", "theme", "typography", "layout"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "infra-terraform",
        "terraform",
        (
            _a("modules/network/", "vpc", "subnets", "nat_gateway", "security_groups"),
            _a("modules/compute/", "autoscaling", "launch_template", "load_balancer"),
            _a("modules/database/", "rds", "parameter_group", "backups", "replicas"),
            _a("envs/", "production", "staging", "sandbox"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "auth-service",
        "go",
        (
            _a("internal/oauth/", "authorize", "token_exchange", "pkce", "consent"),
            _a("internal/session/", "store", "cookie", "refresh", "revocation"),
            _a("cmd/auth/", "main", "migrate", "seed"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "notification-service",
        "python",
        (
            _a("src/notifications/", "dispatcher", "preferences", "digest", "throttle"),
            _a("src/templates/", "renderer", "locales", "email_layout"),
            _a("src/channels/", "email", "sms", "push", "slack", "webhook"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "search-indexer",
        "rust",
        (
            _a("src/indexer/", "tokenizer", "segment", "merge_policy", "commit_log"),
            _a("src/query/", "parser", "scorer", "planner", "highlighter"),
            _a("src/storage/", "mmap", "compaction", "snapshot"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "mobile-app",
        "node",
        (
            _a("src/screens/", "onboarding", "profile", "order_history", "payment"),
            _a("src/navigation/", "stack", "deep_links", "tabs"),
            _a("src/api/", "client", "offline_queue", "auth_interceptor"),
        ),
        e2e=True,
        deploy=False,
    ),
    RepoTemplate(
        "data-pipeline",
        "python",
        (
            _a("src/ingest/", "kafka_consumer", "s3_loader", "schema_registry", "dedup"),
            _a("src/transform/", "sessionize", "enrich", "currency_normalize", "aggregates"),
            _a("src/warehouse/", "loader", "partitions", "vacuum"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "admin-dashboard",
        "node",
        (
            _a("src/components/", "user_table", "audit_log", "role_editor", "charts"),
            _a("src/routes/", "users", "billing", "settings", "reports"),
            _a("src/api/", "client", "permissions", "export"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "inventory-service",
        "go",
        (
            _a("internal/stock/", "reservation", "levels", "replenish", "events"),
            _a("internal/catalog/", "sku", "variants", "pricing", "import"),
            _a("internal/api/", "handlers", "middleware", "validation"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "payments-gateway",
        "rust",
        (
            _a("src/processor/", "authorize", "capture", "idempotency", "three_ds"),
            _a("src/ledger/", "entries", "balances", "reconcile"),
            _a("src/api/", "routes", "errors", "signatures"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "ml-platform",
        "python",
        (
            _a("src/training/", "trainer", "datasets", "hyperparams", "checkpoints"),
            _a("src/serving/", "predictor", "batching", "model_registry", "warmup"),
            _a("src/features/", "store", "transformers", "backfill"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "docs-site",
        "node",
        (
            _a("content/", "guides", "changelog", "api_reference", "tutorials"),
            _a("src/theme/", "navbar", "footer", "search_box", "code_block"),
            _a("src/plugins/", "sitemap", "redirects", "openapi"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "cli-tools",
        "go",
        (
            _a("cmd/cli/", "root", "login", "deploy", "logs"),
            _a("internal/config/", "loader", "profiles", "keyring"),
            _a("internal/output/", "table", "json", "spinner", "color"),
        ),
        e2e=False,
        deploy=False,
    ),
    RepoTemplate(
        "event-bus",
        "rust",
        (
            _a("src/broker/", "partition", "replication", "leader_election", "retention"),
            _a("src/consumer/", "group", "offsets", "rebalance"),
            _a("src/protocol/", "codec", "frames", "handshake"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "user-profile-service",
        "python",
        (
            _a("src/profiles/", "profile", "avatar", "privacy", "merge_accounts"),
            _a("src/api/", "routes", "serializers", "rate_limits"),
            _a("src/storage/", "repository", "cache", "migrations"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "design-system",
        "node",
        (
            _a("src/components/", "button", "input", "select", "tooltip", "toast"),
            _a("src/tokens/", "colors", "spacing", "motion"),
            _a("src/icons/", "sprite", "generated", "registry"),
        ),
        e2e=True,
        deploy=False,
    ),
    RepoTemplate(
        "k8s-platform",
        "terraform",
        (
            _a("modules/cluster/", "node_pools", "addons", "irsa", "upgrades"),
            _a("modules/observability/", "prometheus", "loki", "dashboards"),
            _a("envs/", "production", "staging"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "reporting-service",
        "python",
        (
            _a("src/reports/", "builder", "scheduler", "filters", "pivot"),
            _a("src/exports/", "csv_writer", "pdf_renderer", "xlsx_writer"),
            _a("src/api/", "routes", "jobs", "permissions"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "checkout-web",
        "node",
        (
            _a("src/cart/", "line_items", "promo_codes", "totals", "persistence"),
            _a("src/checkout/", "address_form", "payment_step", "review_step", "confirmation"),
            _a("src/components/", "price", "stepper", "spinner"),
        ),
        e2e=True,
        deploy=True,
    ),
    RepoTemplate(
        "feature-flags",
        "go",
        (
            _a("internal/flags/", "evaluator", "targeting", "rollout", "segments"),
            _a("internal/store/", "postgres", "cache", "audit"),
            _a("cmd/flagd/", "main", "reload"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "media-transcoder",
        "rust",
        (
            _a("src/encoder/", "h264", "av1", "audio", "bitrate_ladder"),
            _a("src/pipeline/", "scheduler", "chunker", "retry"),
            _a("src/storage/", "s3", "manifest", "cleanup"),
        ),
        e2e=False,
        deploy=True,
    ),
    RepoTemplate(
        "observability-stack",
        "terraform",
        (
            _a("modules/prometheus/", "rules", "scrape_configs", "retention"),
            _a("modules/grafana/", "dashboards", "datasources", "folders"),
            _a("modules/alerting/", "routes", "receivers", "silences"),
        ),
        e2e=False,
        deploy=True,
    ),
)
"""Repositories a sample organisation is drawn from; the largest organisation has one of each."""

DOC_FILES = (
    "docs/index.md",
    "docs/architecture.md",
    "docs/runbook.md",
    "docs/api.md",
    "docs/getting-started.md",
    "docs/adr/0001-record-architecture-decisions.md",
    "docs/adr/0002-use-postgres.md",
    "docs/troubleshooting.md",
)

FIRST_NAMES = (
    "alice", "bruno", "chen", "dana", "emeka", "fatima", "gustav", "hana", "ivan", "jia",
    "kofi", "lena", "mateo", "nadia", "oscar", "priya", "quentin", "rosa", "sven", "tomoko",
    "umar", "valeria", "wei", "ximena", "yusuf", "zofia", "amir", "beatriz", "carlos", "deepa",
    "elif", "felix", "grace", "hugo", "ines", "jonas", "kenji", "laila", "marek", "noor",
    "olga", "pedro", "rahul", "sara", "tariq", "ulla", "vikram", "wanjiru", "yara", "zane",
    "aiko", "bilal", "clara", "diego", "ebba", "farid", "gia", "henrik", "isla", "joao",
)  # fmt: skip

LAST_NAMES = (
    "ng", "kowalski", "wei", "okafor", "schmidt", "haddad", "lindqvist", "sato", "petrov", "li",
    "mensah", "fischer", "garcia", "rahman", "novak", "iyer", "dubois", "santos", "berg", "tanaka",
    "farouk", "rossi", "zhang", "lopez", "demir", "nowak", "karimi", "costa", "mendes", "pillai",
    "yilmaz", "wagner", "obi", "moreau", "silva", "keller", "mori", "aziz", "horvat", "chowdhury",
)  # fmt: skip

TIME_ZONES: tuple[tuple[int, float], ...] = (
    (-480, 3.0),
    (-420, 1.0),
    (-360, 1.0),
    (-300, 4.0),
    (-180, 1.0),
    (0, 3.0),
    (60, 5.0),
    (120, 2.0),
    (180, 1.0),
    (330, 3.0),
    (480, 2.0),
    (540, 1.0),
    (600, 1.0),
)
"""Home time zones as (UTC offset in minutes, weight); daylight saving time is ignored."""

LABELS: tuple[tuple[str, str, str], ...] = (
    ("bug", "d73a4a", "Something isn't working"),
    ("enhancement", "a2eeef", "New feature or request"),
    ("documentation", "0075ca", "Improvements or additions to documentation"),
    ("dependencies", "0366d6", "Pull requests that update a dependency file"),
    ("refactor", "c5def5", "Code change that neither fixes a bug nor adds a feature"),
    ("ci", "1d76db", "Continuous integration"),
    ("security", "ee0701", "Security related"),
    ("good first issue", "7057ff", "Good for newcomers"),
    ("needs-triage", "ededed", "Not yet triaged"),
    ("stale", "fef2c0", "No recent activity"),
    ("P0", "b60205", "Critical: drop everything"),
    ("P1", "d93f0b", "High priority"),
    ("P2", "fbca04", "Normal priority"),
    ("P3", "0e8a16", "Low priority"),
)
"""Labels every repository has, as (name, colour, description); ``area/<name>`` labels are added."""

AREA_LABEL_COLOR = "bfdadc"

FIX_VERBS = ("Fix", "Handle", "Guard against", "Correct", "Prevent")
FEATURE_VERBS = ("Add", "Support", "Introduce", "Expose", "Implement")
REFACTOR_VERBS = ("Refactor", "Simplify", "Extract", "Clean up", "Rename")
FIX_OBJECTS = (
    "nil {noun} in retries",
    "{noun} timeout on slow upstreams",
    "off-by-one in {noun} pagination",
    "race when closing {noun}",
    "wrong rounding in {noun}",
    "stale {noun} cache",
    "{noun} error on empty input",
    "duplicate {noun} events",
)
FEATURE_OBJECTS = (
    "{noun} metrics",
    "bulk {noun} endpoint",
    "{noun} filtering",
    "configurable {noun} limits",
    "{noun} audit trail",
    "async {noun} processing",
    "{noun} export",
)
REFACTOR_OBJECTS = (
    "{noun} module",
    "{noun} error handling",
    "{noun} configuration",
    "{noun} tests",
)

WIP_MESSAGES = (
    "WIP",
    "Add tests",
    "Handle edge case",
    "Fix typo",
    "Tidy up",
    "Split into smaller functions",
    "Update docs",
    "Rename variables",
    "Cover the error path",
)
CI_FIX_MESSAGES: dict[str, tuple[str, ...]] = {
    "permanent": ("Fix failing test", "Fix build", "Fix lint", "Fix type errors", "Make the test pass"),
    "dependency": ("Pin dependency", "Fix lockfile", "Revert dependency bump", "Relax version constraint"),
    "transient": ("Retrigger CI", "Empty commit to retrigger CI"),
}
REVIEW_FIX_MESSAGES = (
    "Address review comments",
    "Apply suggestions from code review",
    "Review feedback",
    "Rename per review",
    "Add missing test",
)

REVIEW_BODIES: dict[str, tuple[str, ...]] = {
    "APPROVED": ("LGTM", "Looks good, thanks!", "", "Ship it", "Nice cleanup 👍", ""),
    "CHANGES_REQUESTED": (
        "A few things to address before merging.",
        "This needs tests for the failure path.",
        "I think this breaks the existing behaviour, see comments.",
        "Please split this up, it is hard to review.",
    ),
    "COMMENTED": ("Some questions inline.", "", "Left a couple of nits.", "CI is red, can you take a look?"),
}
REVIEW_COMMENT_BODIES = (
    "nit: naming",
    "Could we add a test for this?",
    "This will break when the value is None.",
    "Why not reuse the existing helper here?",
    "Please handle the error instead of ignoring it.",
    "Is this change intentional?",
    "This allocation is in a hot loop.",
    "Can we log this at debug level instead?",
    "Magic number; make it a constant?",
    "Does this need a migration?",
)
REPLY_BODIES = ("Done.", "Good catch, fixed.", "Intentional, see the description.", "Added a test.")
PR_COMMENT_BODIES = (
    "Rebased on main.",
    "@{reviewer} could you take another look?",
    "Friendly ping 🙂",
    "Will follow up with the docs in a separate PR.",
    "Tested this on staging, works as expected.",
)

ISSUE_BUG_TITLES = (
    "{noun} returns 500 when the request body is empty",
    "{noun} is slow for large accounts",
    "Crash in {noun} after upgrade",
    "{noun} shows stale data after refresh",
    "Intermittent timeout in {noun}",
    "{noun} ignores the configured limit",
)
ISSUE_FEATURE_TITLES = (
    "Support bulk {noun} operations",
    "Add metrics for {noun}",
    "Allow configuring {noun} per tenant",
    "Document {noun} behaviour",
    "Make {noun} retries configurable",
)
ISSUE_COMMENT_BODIES = (
    "I can reproduce this on staging.",
    "Looking into it.",
    "Could you share the request id?",
    "This is caused by the recent {noun} change.",
    "Fix is in review.",
    "Workaround: restart the worker.",
    "Is this still happening?",
    "Adding this to the next sprint.",
    "Same here, started yesterday.",
)

RUNNER_VERSION = "2.320.0"
