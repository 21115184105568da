"""Publishing the exports as a GitHub App: installation tokens when no publishing token is given.

The double verifies the App's JWT against its public key and issues expiring installation tokens; the
private key is generated here, never committed. Publishing runs as the pipeline runs it
(``repopilot run --select published_exports``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from actions.common.app_auth import APP_ENV, AppAuthError
from actions.common.exports import verify
from pipelines.cli import main
from pipelines.defs.resources import EXPORTS_TOKEN_ENV, ExportsTargetResource
from pipelines.exports.publish import publish_exports
from pipelines.sources.double import GitHubDouble
from pipelines.sources.double.apps import GitHubApp
from pipelines.sources.sample import SampleOrgSpec, generate_sample_org
from tests.actions.dated_exports import dated_exports
from tests.conftest import FAKE_TOKEN
from tests.ingestion.test_app_auth import APP_ID, INSTALLATION, _pem

BRANCH = "repopilot-exports"


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def double(monkeypatch: pytest.MonkeyPatch) -> Iterator[GitHubDouble]:
    organisation = generate_sample_org(
        SampleOrgSpec(repositories=1, pull_requests_per_repo=5, runs_per_repo=5)
    )
    with GitHubDouble(organisation, token=FAKE_TOKEN) as served:
        for name in ("GITHUB_TOKEN", EXPORTS_TOKEN_ENV, "REPOPILOT_REPOS", *APP_ENV):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("GITHUB_API_URL", served.url)
        monkeypatch.setenv("REPOPILOT_SOURCE", "sample")
        monkeypatch.setenv("REPOPILOT_EXPORTS_REPO", served.recording.repos[0])
        yield served


@pytest.fixture
def app(double: GitHubDouble, app_key: rsa.RSAPrivateKey) -> GitHubApp:
    owner = double.recording.repos[0].split("/")[0]
    return double.install_app(APP_ID, app_key.public_key(), installations={INSTALLATION: owner})


def _exports(home: Path, hours_ago: float = 1.0) -> Path:
    made = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=hours_ago)
    return dated_exports(home / "exports", made, ("repopilot-sample/web-frontend",))


def _as_app(monkeypatch: pytest.MonkeyPatch, key: rsa.RSAPrivateKey) -> None:
    monkeypatch.setenv("REPOPILOT_APP_ID", str(APP_ID))
    monkeypatch.setenv("REPOPILOT_APP_PRIVATE_KEY", _pem(key))


def _files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_the_app_publishes_the_exports_with_an_installation_token(
    double: GitHubDouble,
    app: GitHubApp,
    app_key: rsa.RSAPrivateKey,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    exports = _exports(home)
    _as_app(monkeypatch, app_key)  # no installation id: looked up on the exports repository's owner
    repo = double.recording.repos[0]
    assert double.writes.branch_files(repo, BRANCH) is None
    assert main(["--home", str(home), "run", "--select", "published_exports"]) == 0
    assert double.writes.branch_files(repo, BRANCH) == _files(exports)
    owner = repo.split("/")[0]
    assert double.count(path_contains=f"/orgs/{owner}/installation", status=200) == 1
    assert len(app.issued) == 1 and app.refusals == []
    # every write carried the installation token (the double's static token was never given)
    assert double.count(method="POST", status=401) == 0 and double.count(method="POST", status=201) > 0
    captured = capfd.readouterr()
    key_body = "".join(_pem(app_key).splitlines()[1:-1])
    for text in (captured.out, captured.err):
        assert key_body[:64] not in text and "eyJ" not in text
        assert all(token not in text for token in app.issued)


def test_a_wrong_key_fails_in_one_line_and_leaves_the_branch_untouched(
    double: GitHubDouble,
    app: GitHubApp,
    app_key: rsa.RSAPrivateKey,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
    capfd: pytest.CaptureFixture[str],
) -> None:
    repo = double.recording.repos[0]
    _as_app(monkeypatch, app_key)
    monkeypatch.setenv("REPOPILOT_APP_INSTALLATION_ID", str(INSTALLATION))
    first = publish_exports(
        verify(_exports(home, hours_ago=30)), ExportsTargetResource().client(), repo, BRANCH
    )
    published = double.writes.branch_files(repo, BRANCH)
    assert first.changed and published is not None
    _exports(home)  # newer exports, to be published with a key that is not the App's
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key_file = home.parent / "app.pem"
    key_file.write_text(_pem(other), encoding="utf-8")
    monkeypatch.delenv("REPOPILOT_APP_PRIVATE_KEY")
    monkeypatch.setenv("REPOPILOT_APP_PRIVATE_KEY_FILE", str(key_file))
    capfd.readouterr()
    assert main(["--home", str(home), "run", "--select", "published_exports"]) == 1
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        # the runner names the step and gives the exception's message, not its class
        "repopilot: error: published_exports: "
        f"cannot publish the exports to {repo}@{BRANCH}: GitHub App "
        f"authentication failed: POST /app/installations/{INSTALLATION}/access_tokens answered HTTP 401: "
        "A JSON web token could not be decoded (is REPOPILOT_APP_ID the App's id, the private key the "
        "App's, and this machine's clock right?)"
    ]
    assert double.writes.branch_files(repo, BRANCH) == published
    assert app.refusals == ["A JSON web token could not be decoded"] and len(app.issued) == 1


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"GITHUB_TOKEN": FAKE_TOKEN},
            "set either GITHUB_TOKEN or the GitHub App (REPOPILOT_APP_*), not both "
            f"(or {EXPORTS_TOKEN_ENV} to publish with a token of its own)",
        ),
        (
            {"REPOPILOT_APP_PRIVATE_KEY_FILE": "/nonexistent/app.pem"},
            "GitHub App: set REPOPILOT_APP_PRIVATE_KEY or REPOPILOT_APP_PRIVATE_KEY_FILE, not both",
        ),
    ],
    ids=["token-and-app", "two-keys"],
)
def test_doubled_credentials_are_refused_in_one_line_without_the_key(
    double: GitHubDouble,
    app: GitHubApp,
    app_key: rsa.RSAPrivateKey,
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    message: str,
) -> None:
    _as_app(monkeypatch, app_key)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    double.reset_log()
    with pytest.raises(AppAuthError) as refused:
        ExportsTargetResource().client()
    assert str(refused.value) == message and "\n" not in str(refused.value)
    assert "".join(_pem(app_key).splitlines()[1:-1])[:64] not in str(refused.value)
    assert double.count() == 0


def test_an_incomplete_app_is_named(double: GitHubDouble, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REPOPILOT_APP_ID", str(APP_ID))
    with pytest.raises(
        AppAuthError, match=r"^GitHub App credentials are incomplete: set REPOPILOT_APP_PRIVATE_KEY"
    ):
        ExportsTargetResource().client()


def test_a_publishing_token_wins_over_the_app(
    double: GitHubDouble,
    app: GitHubApp,
    app_key: rsa.RSAPrivateKey,
    home: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _as_app(monkeypatch, app_key)  # the App ingests; publishing has a token of its own
    monkeypatch.setenv(EXPORTS_TOKEN_ENV, FAKE_TOKEN)
    repo = double.recording.repos[0]
    result = publish_exports(verify(_exports(home)), ExportsTargetResource().client(), repo, BRANCH)
    assert result.changed and app.issued == {} and double.count(path_contains="/app/") == 0
