"""GitHub App authentication: a sync outlives its installation tokens; bad credentials fail in one line.

The double issues installation tokens of two seconds and refuses them (401 ``Bad credentials``) once
expired, as GitHub does after an hour. The private key is generated here, never committed.
"""

from __future__ import annotations

import logging
from pathlib import Path

import duckdb
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from pydantic import SecretStr

from actions.common.app_auth import APP_ENV, AppCredentials
from pipelines.cli import main
from pipelines.sources.double import GitHubDouble
from pipelines.sources.double.apps import GitHubApp
from pipelines.sources.github.client import CredentialsRefusedError, GitHubClient
from pipelines.sources.recording import Recording
from tests.ingestion.sync import core_snapshot, raw_snapshot, settings_for, sync

APP_ID = 4242
INSTALLATION = 77
MARGIN = 1.0
"""Seconds before expiry a token is replaced: with two-second tokens each serves about a second."""


def _pem(key: rsa.RSAPrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture(scope="module")
def app_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def app(devlake_double: GitHubDouble, app_key: rsa.RSAPrivateKey) -> GitHubApp:
    return devlake_double.install_app(
        APP_ID, app_key.public_key(), installations={INSTALLATION: "panjf2000"}, token_lifetime=2
    )


def _credentials(
    key: rsa.RSAPrivateKey, app_id: int = APP_ID, installation: int | None = INSTALLATION
) -> AppCredentials:
    return AppCredentials(app_id=app_id, installation_id=installation, private_key=SecretStr(_pem(key)))


def _app_sync(
    double: GitHubDouble, home: Path, key: rsa.RSAPrivateKey, **overrides: object
) -> dict[str, int]:
    return sync(double, home, token=None, app=_credentials(key), app_refresh_margin=MARGIN, **overrides)


def test_a_sync_outliving_several_tokens_lands_the_rows_of_a_token_sync(
    devlake_double: GitHubDouble,
    app: GitHubApp,
    app_key: rsa.RSAPrivateKey,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    sync(devlake_double, tmp_path / "token")
    devlake_double.reset_log()
    # PyGithub's own debug log (github.enable_console_debug_logging, its troubleshooting advice) included
    with caplog.at_level(logging.DEBUG), caplog.at_level(logging.DEBUG, logger="github"):
        # paced, so the sync lasts at least 2.3 s: longer than the two-second tokens, several times over
        counts = _app_sync(devlake_double, tmp_path / "app", app_key, seconds_between_requests=0.03)
    assert counts["pull_requests"] > 0
    assert len(app.issued) >= 3, f"the sync used {len(app.issued)} tokens: it did not outlive them"
    token_posts = devlake_double.count(path_contains=f"/app/installations/{INSTALLATION}/access_tokens")
    assert token_posts == len(app.issued) and app.refusals == []
    for table in ("token", "app"):
        assert (tmp_path / table / "warehouse.duckdb").is_file()
    assert core_snapshot(tmp_path / "app" / "warehouse.duckdb") == core_snapshot(
        tmp_path / "token" / "warehouse.duckdb"
    )
    assert raw_snapshot(tmp_path / "app" / "warehouse.duckdb") == raw_snapshot(
        tmp_path / "token" / "warehouse.duckdb"
    )
    # no secret in what was logged or printed: the tokens, any JWT (base64 of '{"'), the key
    captured = capsys.readouterr()
    text = caplog.text + captured.out + captured.err
    assert "access_tokens" in caplog.text, "PyGithub's debug log was not captured, so this proves nothing"
    key_body = "".join(_pem(app_key).splitlines()[1:-1])
    assert all(token not in text for token in app.issued)
    assert "eyJ" not in text and key_body[:64] not in text and key_body[-64:] not in text
    landed = b"".join(p.read_bytes() for p in (tmp_path / "app").rglob("*") if p.is_file())
    assert all(token.encode() not in landed for token in app.issued) and b"eyJ" not in landed


def test_a_token_refused_after_a_long_wait_is_replaced_and_the_request_repeated(
    devlake_double: GitHubDouble, app: GitHubApp, app_key: rsa.RSAPrivateKey
) -> None:
    app.token_lifetime = 3600
    settings = settings_for(devlake_double, ["panjf2000/ants"], token=None, app=_credentials(app_key))
    client = GitHubClient(settings)
    assert client.get("/repos/panjf2000/ants").status == 200
    app.expire_tokens()  # the client's token, still good for an hour by its clock, is refused now
    assert client.get("/repos/panjf2000/ants/pulls").status == 200
    assert devlake_double.count(status=401) == 1 and len(app.issued) == 2
    client.close()


def test_the_installation_is_resolved_from_the_organisation_through_an_enterprise_server_url(
    devlake_double: GitHubDouble, app: GitHubApp, app_key: rsa.RSAPrivateKey
) -> None:
    settings = settings_for(
        devlake_double,
        ["panjf2000/ants"],
        api_url=f"{devlake_double.url}/api/v3",
        token=None,
        app=_credentials(app_key, installation=None),
    )
    client = GitHubClient(settings)
    assert client.get("/repos/panjf2000/ants").status == 200
    client.close()
    assert devlake_double.count(path_contains="/api/v3/orgs/panjf2000/installation", status=200) == 1
    assert devlake_double.count(path_contains=f"/api/v3/app/installations/{INSTALLATION}/access_tokens") == 1


def test_an_uninstalled_app_stops_the_sync_and_a_rerun_lands_what_a_clean_sync_does(
    devlake_double: GitHubDouble, app: GitHubApp, app_key: rsa.RSAPrivateKey, tmp_path: Path
) -> None:
    sync(devlake_double, tmp_path / "clean")
    home = tmp_path / "app"
    _app_sync(devlake_double, home, app_key, repos=["panjf2000/ants"])
    app.installations.clear()
    app.expire_tokens()
    with pytest.raises(CredentialsRefusedError) as refused:
        _app_sync(devlake_double, home, app_key)
    assert str(refused.value).startswith(
        "GitHub App authentication failed: "
        f"POST /app/installations/{INSTALLATION}/access_tokens answered HTTP 404"
    )
    app.installations[INSTALLATION] = "panjf2000"
    _app_sync(devlake_double, home, app_key)
    assert core_snapshot(home / "warehouse.duckdb") == core_snapshot(tmp_path / "clean" / "warehouse.duckdb")
    assert raw_snapshot(home / "warehouse.duckdb") == raw_snapshot(tmp_path / "clean" / "warehouse.duckdb")


@pytest.mark.parametrize(
    ("wrong", "hint"),
    [("key", "A JSON web token could not be decoded"), ("app_id", "A JSON web token could not be decoded")],
)
def test_wrong_credentials_fail_in_one_line_and_leave_the_warehouse_untouched(
    devlake_recording: Recording,
    app_key: rsa.RSAPrivateKey,
    home: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    wrong: str,
    hint: str,
) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = other if wrong == "key" else app_key
    key_file = home.parent / "app.pem"
    key_file.write_text(_pem(key), encoding="utf-8")
    for name in ("GITHUB_TOKEN", "REPOPILOT_APP_PRIVATE_KEY", "REPOPILOT_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPOPILOT_APP_ID", str(APP_ID + 1 if wrong == "app_id" else APP_ID))
    monkeypatch.setenv("REPOPILOT_APP_INSTALLATION_ID", str(INSTALLATION))
    monkeypatch.setenv("REPOPILOT_APP_PRIVATE_KEY_FILE", str(key_file))
    monkeypatch.setenv("REPOPILOT_REPOS", "panjf2000/ants")
    with duckdb.connect(str(home / "warehouse.duckdb")) as conn:
        conn.execute("CREATE TABLE kept AS SELECT 42 AS answer")
    before = (home / "warehouse.duckdb").read_bytes()
    with GitHubDouble(devlake_recording) as double:
        app = double.install_app(APP_ID, app_key.public_key(), installations={INSTALLATION: "panjf2000"})
        monkeypatch.setenv("GITHUB_API_URL", double.url)
        assert main(["--home", str(home), "ingest", "--source", "github"]) == 2
    lines = [line for line in capfd.readouterr().err.splitlines() if line.strip()]
    assert lines == [
        f"repopilot: error: GitHub App authentication failed: POST /app/installations/{INSTALLATION}/"
        f"access_tokens answered HTTP 401: {hint} (is REPOPILOT_APP_ID the App's id, the private key "
        "the App's, and this machine's clock right?)"
    ]
    assert app.refusals == [hint] and app.issued == {}
    assert (home / "warehouse.duckdb").read_bytes() == before
    assert sorted(p.name for p in home.iterdir()) == ["warehouse.duckdb"]


def test_a_settings_error_never_shows_the_key(
    app_key: rsa.RSAPrivateKey, devlake_double: GitHubDouble
) -> None:
    with pytest.raises(ValueError, match="either GITHUB_TOKEN or the GitHub App") as both:
        settings_for(devlake_double, ["panjf2000/ants"], app=_credentials(app_key))
    with pytest.raises(ValueError, match="REPOPILOT_APP_INSTALLATION_ID") as owners:
        settings_for(devlake_double, ["a/b", "c/d"], token=None, app=_credentials(app_key, installation=None))
    key_body = "".join(_pem(app_key).splitlines()[1:-1])
    for error in (both.value, owners.value):
        assert key_body[:40] not in str(error) and key_body[:40] not in repr(error)
    assert key_body[:40] not in repr(_credentials(app_key))


KEY = "(the App's key)"
"""Stands for the generated key's PEM in the parameters below."""


@pytest.mark.parametrize(
    ("env", "line"),
    [
        (
            {"REPOPILOT_APP_ID": str(APP_ID)},
            "repopilot: error: GitHub App credentials are incomplete: set REPOPILOT_APP_PRIVATE_KEY or "
            "REPOPILOT_APP_PRIVATE_KEY_FILE",
        ),
        (
            {
                "REPOPILOT_APP_ID": str(APP_ID),
                "REPOPILOT_APP_PRIVATE_KEY": KEY,
                "GITHUB_TOKEN": "ghp_0123456789",
            },
            "repopilot: error: invalid GitHub settings: set either GITHUB_TOKEN or the GitHub App "
            "(REPOPILOT_APP_*), not both",
        ),
        (
            {
                "REPOPILOT_APP_ID": str(APP_ID),
                "REPOPILOT_APP_PRIVATE_KEY": KEY,
                "REPOPILOT_REPOS": "panjf2000/ants,other/repo",
            },
            "repopilot: error: invalid GitHub settings: set REPOPILOT_APP_INSTALLATION_ID: an App "
            "installation covers one account, and the repositories belong to other, panjf2000",
        ),
    ],
)
def test_half_configured_or_doubled_credentials_fail_in_one_line_before_any_request(
    app_key: rsa.RSAPrivateKey,
    home: Path,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    env: dict[str, str],
    line: str,
) -> None:
    for name in ("GITHUB_TOKEN", "REPOPILOT_SOURCE", *APP_ENV):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REPOPILOT_REPOS", "panjf2000/ants")
    monkeypatch.setenv("GITHUB_API_URL", "http://127.0.0.1:9")  # never asked: the settings stop it first
    for name, value in env.items():
        monkeypatch.setenv(name, _pem(app_key) if value == KEY else value)
    assert main(["--home", str(home), "ingest", "--source", "github"]) == 2
    lines = [text for text in capfd.readouterr().err.splitlines() if text.strip()]
    assert lines == [line]
    assert list(home.iterdir()) == []
