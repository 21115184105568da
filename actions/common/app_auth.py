"""GitHub App credentials: an installation token that is renewed before it expires.

An installation token lasts an hour; a first sync of a real organisation takes longer. PyGithub's
:class:`github.Auth.AppInstallationAuth` signs the App's JWT and asks for installation tokens; the
subclass here makes the refresh margin a setting (PyGithub's is a module constant of 20 s), lets a
client drop a token GitHub refused (a request can wait out a rate limit past the token's expiry),
resolves the installation from the organisation when no id is given, and turns a refusal into one
line that names the setting to check. The private key, the JWT and the tokens appear in no message,
log record or repr.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from github import Auth, GithubException, GithubIntegration
from github.InstallationAuthorization import InstallationAuthorization
from github.Requester import Requester, WithRequester
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from actions.common.errors import ActionError

APP_ID_ENV = "REPOPILOT_APP_ID"
INSTALLATION_ID_ENV = "REPOPILOT_APP_INSTALLATION_ID"
PRIVATE_KEY_ENV = "REPOPILOT_APP_PRIVATE_KEY"
PRIVATE_KEY_FILE_ENV = "REPOPILOT_APP_PRIVATE_KEY_FILE"
APP_ENV = (APP_ID_ENV, INSTALLATION_ID_ENV, PRIVATE_KEY_ENV, PRIVATE_KEY_FILE_ENV)

DEFAULT_REFRESH_MARGIN = 300.0
"""Seconds before its expiry a token is replaced: longer than a request's retries with backoff take."""

_TOKEN_FIELD = re.compile(r"""(["']token["']\s*:\s*["'])[^"']*(["'])""")


class AppAuthError(ActionError):
    """GitHub App credentials that are incomplete, malformed, or refused by GitHub."""


class AppCredentials(BaseModel):
    """A GitHub App's id, its installation (None: the repositories' owner's), and its private key.

    Attributes:
        app_id: the App's id (its settings page, "App ID").
        installation_id: the installation on the organisation; None resolves it from the owner.
        private_key: the App's private key, PEM (the ``.pem`` file GitHub generated).
    """

    model_config = ConfigDict(frozen=True, hide_input_in_errors=True)

    app_id: int = Field(gt=0)
    installation_id: int | None = Field(default=None, gt=0)
    private_key: SecretStr

    @field_validator("private_key")
    @classmethod
    def _check_key(cls, value: SecretStr) -> SecretStr:
        text = value.get_secret_value().strip()
        if "\\n" in text and "\n" not in text:
            # a .env file or a CI secret often holds the PEM on one line with escaped newlines
            text = text.replace("\\n", "\n").strip()
        try:
            key = serialization.load_pem_private_key(text.encode(), password=None)
        except (ValueError, TypeError, UnsupportedAlgorithm):
            raise ValueError("not an unencrypted PEM private key (the App's .pem file)") from None
        if not isinstance(key, rsa.RSAPrivateKey):
            raise ValueError("not an RSA private key (GitHub Apps sign their JWTs with RS256)")
        return SecretStr(text)


def _describe(error: ValidationError) -> str:
    names = {"app_id": APP_ID_ENV, "installation_id": INSTALLATION_ID_ENV, "private_key": "the private key"}
    return "; ".join(
        f"{names.get(str(err['loc'][0]), str(err['loc'][0])) if err['loc'] else 'credentials'}: "
        + err["msg"].removeprefix("Value error, ")
        for err in error.errors(include_input=False)
    )


BOTH_CREDENTIALS_REFUSED = "set either GITHUB_TOKEN or the GitHub App (REPOPILOT_APP_*), not both"
"""The refusal when both credentials are set (ingestion and publishing alike)."""


def app_credentials(
    app_id: str | None,
    installation_id: str | None,
    private_key: str | None,
    private_key_file: str | None,
) -> AppCredentials | None:
    """The App credentials from their settings' values (empty: not set); None when none is set.

    Raises:
        AppAuthError: when they are half configured, the key file cannot be read, or a value is
            malformed. The message names the setting, never the key.
    """
    given = {
        APP_ID_ENV: app_id,
        INSTALLATION_ID_ENV: installation_id,
        PRIVATE_KEY_ENV: private_key,
        PRIVATE_KEY_FILE_ENV: private_key_file,
    }
    if not any(given.values()):
        return None
    if private_key and private_key_file:
        raise AppAuthError(f"GitHub App: set {PRIVATE_KEY_ENV} or {PRIVATE_KEY_FILE_ENV}, not both")
    missing = [name for name in (APP_ID_ENV,) if not given[name]]
    if not (private_key or private_key_file):
        missing.append(f"{PRIVATE_KEY_ENV} or {PRIVATE_KEY_FILE_ENV}")
    if missing:
        raise AppAuthError(f"GitHub App credentials are incomplete: set {' and '.join(missing)}")
    if private_key_file:
        path = Path(private_key_file).expanduser()
        try:
            private_key = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise AppAuthError(
                f"GitHub App: {PRIVATE_KEY_FILE_ENV} {str(path)!r} cannot be read ({type(exc).__name__})"
            ) from None
    try:
        return AppCredentials.model_validate(
            {"app_id": app_id, "installation_id": installation_id or None, "private_key": private_key}
        )
    except ValidationError as exc:
        raise AppAuthError(f"invalid GitHub App credentials: {_describe(exc)}") from None


def app_credentials_from_env(environ: Mapping[str, str]) -> AppCredentials | None:
    """:func:`app_credentials` from ``REPOPILOT_APP_*`` in ``environ``."""
    return app_credentials(*(environ.get(name) or None for name in APP_ENV))


class _IssuedTokenFilter(logging.Filter):
    """Masks the token in PyGithub's debug record of the answer that issued it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, str) and "token" in a for a in record.args):
            record.args = tuple(
                _TOKEN_FIELD.sub(r"\1(removed)\2", a) if isinstance(a, str) else a for a in record.args
            )
        return True


_FILTER = _IssuedTokenFilter()


class InstallationAuth(Auth.AppInstallationAuth):
    """:class:`github.Auth.AppInstallationAuth` with a refresh margin and a way to drop a refused token.

    It also resolves the installation from the organisation, and raises refusals as
    :class:`AppAuthError`. PyGithub reads :attr:`token` before every request, so each request
    carries a token valid for at least ``margin`` seconds more.
    """

    def __init__(self, credentials: AppCredentials, *, owner: str | None, margin: float) -> None:
        app = Auth.AppAuth(credentials.app_id, credentials.private_key.get_secret_value())
        # PyGithub requires an int; 0 stands for "resolve from the owner" until the first token
        super().__init__(app, credentials.installation_id or 0)
        if credentials.installation_id is None and not owner:
            raise AppAuthError(f"GitHub App: set {INSTALLATION_ID_ENV} (no organisation to look it up on)")
        self._resolved = credentials.installation_id
        self._owner = owner
        self._margin = timedelta(seconds=margin)
        self._issued: InstallationAuthorization | None = None
        self._integration: GithubIntegration | None = None
        self._lock = threading.Lock()
        self.tokens_issued = 0
        logging.getLogger("github.Requester").addFilter(_FILTER)

    def __repr__(self) -> str:
        return f"InstallationAuth(app_id={self.app_id}, installation_id={self._resolved})"

    def withRequester(self, requester: Requester) -> InstallationAuth:  # noqa: N802 (PyGithub's name)
        """Bind to the client's requester: the App's requests share its base URL, retry and timeout."""
        WithRequester.withRequester(self, requester.withAuth(self._app_auth))
        self._integration = GithubIntegration(**self.requester.kwargs)
        return self

    @property
    def installation_id(self) -> int:
        """The installation's id (0 until resolved from the owner)."""
        return self._resolved or 0

    @property
    def token(self) -> str:
        """A token valid for at least the margin, asking GitHub for a new one when needed."""
        with self._lock:
            if self._issued is None or self._issued.expires_at - self._margin <= datetime.now(UTC):
                self._issued = self._issue()
            return self._issued.token

    def expire(self) -> None:
        """Forget the current token (GitHub refused it): the next request asks for a new one."""
        with self._lock:
            self._issued = None

    def _issue(self) -> InstallationAuthorization:
        if self._integration is None:
            raise AppAuthError("GitHub App: the credentials are used before a client was made with them")
        what = f"GET /orgs/{self._owner}/installation"
        try:
            if self._resolved is None:
                self._resolved = self._integration.get_org_installation(str(self._owner)).id
            what = f"POST /app/installations/{self._resolved}/access_tokens"
            issued = self._integration.get_access_token(self._resolved)
        except GithubException as exc:
            raise AppAuthError(_refusal(what, exc, self._owner)) from None
        self.tokens_issued += 1
        return issued


def _refusal(what: str, exc: GithubException, owner: str | None) -> str:
    message = exc.data.get("message") if isinstance(exc.data, dict) else None
    if exc.status == 401:
        hint = f"is {APP_ID_ENV} the App's id, the private key the App's, and this machine's clock right?"
    elif exc.status == 404 and "/orgs/" in what:
        hint = f"the App is not installed on {owner}; install it there, or set {INSTALLATION_ID_ENV}"
    elif exc.status == 404:
        hint = f"is {INSTALLATION_ID_ENV} an installation of this App?"
    else:
        hint = ""
    text = f"GitHub App authentication failed: {what} answered HTTP {exc.status}"
    text += f": {message}" if message else ""
    return text + (f" ({hint})" if hint else "")


def installation_auth(
    credentials: AppCredentials, *, owner: str | None, margin: float = DEFAULT_REFRESH_MARGIN
) -> InstallationAuth:
    """The auth to pass to ``Github(auth=...)`` (see :class:`InstallationAuth`)."""
    return InstallationAuth(credentials, owner=owner, margin=margin)
