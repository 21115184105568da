"""The double's GitHub App endpoints check JWTs as GitHub does; App credentials are checked on reading."""

from __future__ import annotations

import time
from collections.abc import Iterator

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from actions.common.app_auth import AppAuthError, app_credentials
from pipelines.sources.double import GitHubDouble
from pipelines.sources.double.apps import EXP_INVALID, EXP_TOO_FAR, IAT_INVALID, UNDECODABLE
from pipelines.sources.recording import Recording

APP_ID = 31


@pytest.fixture(scope="module")
def key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def double(key: rsa.RSAPrivateKey) -> Iterator[GitHubDouble]:
    with GitHubDouble(Recording(repos=["acme/widgets"]), token="ghp_static0123456789") as served:
        served.install_app(APP_ID, key.public_key(), installations={9: "acme"}, token_lifetime=1)
        yield served


def _pem(key: rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def _jwt(key: rsa.RSAPrivateKey, **claims: object) -> str:
    now = int(time.time())
    payload = {"iat": now - 60, "exp": now + 300, "iss": str(APP_ID)} | claims
    return jwt.encode(payload, key, algorithm="RS256")


def _post_token(double: GitHubDouble, credential: str, installation: int = 9) -> requests.Response:
    return requests.post(
        f"{double.url}/app/installations/{installation}/access_tokens",
        headers={"Authorization": f"Bearer {credential}"},
        timeout=5,
    )


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"exp": int(time.time()) - 5}, EXP_INVALID),
        ({"exp": int(time.time()) + 3600}, EXP_TOO_FAR),
        ({"iat": int(time.time()) + 3600}, IAT_INVALID),
        ({"iss": str(APP_ID + 1)}, UNDECODABLE),
    ],
)
def test_a_jwt_github_would_refuse_is_refused_with_its_message(
    double: GitHubDouble, key: rsa.RSAPrivateKey, claims: dict[str, object], message: str
) -> None:
    answer = _post_token(double, _jwt(key, **claims))
    assert answer.status_code == 401 and answer.json()["message"] == message


def test_a_jwt_signed_by_another_key_cannot_be_decoded(double: GitHubDouble) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    answer = _post_token(double, _jwt(other))
    assert answer.status_code == 401 and answer.json()["message"] == UNDECODABLE


def test_an_installation_token_works_until_its_expiry_then_is_bad_credentials(
    double: GitHubDouble, key: rsa.RSAPrivateKey
) -> None:
    assert _post_token(double, _jwt(key), installation=8).status_code == 404
    issued = _post_token(double, _jwt(key))
    assert issued.status_code == 201
    body = issued.json()
    assert body["token"].startswith("ghs_") and body["expires_at"].endswith("Z")
    headers = {"Authorization": f"token {body['token']}"}
    # the JWT authenticates the App, not the installation: it reads no repository
    jwt_headers = {"Authorization": f"Bearer {_jwt(key)}"}
    assert requests.get(f"{double.url}/repos/acme/widgets", headers=jwt_headers, timeout=5).status_code == 401
    expiry = double.app.issued[body["token"]] if double.app else 0.0
    if time.time() < expiry:
        assert requests.get(f"{double.url}/repos/acme/widgets", headers=headers, timeout=5).status_code == 200
    time.sleep(max(0.0, expiry - time.time()) + 0.05)
    refused = requests.get(f"{double.url}/repos/acme/widgets", headers=headers, timeout=5)
    assert refused.status_code == 401 and refused.json()["message"] == "Bad credentials"


def test_installations_are_listed_and_found_by_organisation(
    double: GitHubDouble, key: rsa.RSAPrivateKey
) -> None:
    headers = {"Authorization": f"Bearer {_jwt(key)}"}
    listing = requests.get(f"{double.url}/app/installations", headers=headers, timeout=5).json()
    assert [item["id"] for item in listing] == [9] and listing[0]["account"]["login"] == "acme"
    found = requests.get(f"{double.url}/orgs/ACME/installation", headers=headers, timeout=5)
    assert found.status_code == 200 and found.json()["app_id"] == APP_ID
    assert (
        requests.get(f"{double.url}/orgs/other/installation", headers=headers, timeout=5).status_code == 404
    )


def test_app_credentials_half_set_or_malformed_are_one_clear_error(key: rsa.RSAPrivateKey) -> None:
    pem = _pem(key)
    assert app_credentials(None, None, None, None) is None
    cases = {
        (
            "12",
            None,
            None,
            None,
        ): "incomplete: set REPOPILOT_APP_PRIVATE_KEY or REPOPILOT_APP_PRIVATE_KEY_FILE",
        (None, "5", pem, None): "incomplete: set REPOPILOT_APP_ID",
        (
            "12",
            None,
            pem,
            "/x.pem",
        ): "set REPOPILOT_APP_PRIVATE_KEY or REPOPILOT_APP_PRIVATE_KEY_FILE, not both",
        ("12", None, pem[:-80], None): "the private key: not an unencrypted PEM private key",
        ("twelve", None, pem, None): "REPOPILOT_APP_ID: Input should be a valid integer",
        ("12", None, _pem(ec.generate_private_key(ec.SECP256R1())), None): "not an RSA private key",
        ("12", None, None, "/nonexistent/app.pem"): "'/nonexistent/app.pem' cannot be read",
    }
    body = "".join(pem.splitlines()[1:-1])
    for values, expected in cases.items():
        with pytest.raises(AppAuthError) as error:
            app_credentials(*values)
        assert expected in str(error.value), str(error.value)
        assert body[:40] not in str(error.value) and body[-40:] not in str(error.value)
    escaped = app_credentials("12", "5", pem.replace("\n", "\\n"), None)
    assert escaped is not None and escaped.private_key.get_secret_value() == pem.strip()
