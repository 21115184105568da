"""GitHub App authentication in the double: App JWTs checked as GitHub checks them, expiring tokens.

An App authenticates with a JWT it signs with its private key (RS256; ``iat``, ``exp`` at most ten
minutes ahead, ``iss`` = the App's id) to list its installations and to create installation access
tokens, which GitHub refuses with ``401 Bad credentials`` once their ``expires_at`` has passed. The
messages are GitHub's own.
"""

from __future__ import annotations

import math
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

JSON = dict[str, Any]

UNDECODABLE = "A JSON web token could not be decoded"
EXP_INVALID = (
    "'Expiration time' claim ('exp') must be a numeric value representing the future time at which "
    "the assertion expires"
)
EXP_TOO_FAR = "'Expiration time' claim ('exp') is too far in the future"
IAT_INVALID = (
    "'Issued at' claim ('iat') must be an Integer representing the time that the assertion was issued"
)
MAX_JWT_SECONDS = 600
CLOCK_LEEWAY = 60
"""Seconds of clock drift GitHub tolerates (it asks for ``iat`` 60 s in the past for the same reason)."""

DEFAULT_PERMISSIONS = {
    "metadata": "read",
    "contents": "read",
    "pull_requests": "read",
    "issues": "read",
    "actions": "read",
    "checks": "read",
    "statuses": "read",
}


def _stamp(seconds: float) -> str:
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class GitHubApp:
    """One App installed on accounts, and the installation tokens it was issued.

    Attributes:
        app_id: the App's id, the JWT's ``iss``.
        public_key: the public half of the App's key; JWTs are verified with it.
        installations: installation id → the login of the account it is on.
        token_lifetime: seconds an installation token lasts (GitHub: 3600).
        slug: the App's slug.
        issued: every token issued: token → expiry (epoch seconds).
        refusals: the messages of refused JWTs, in order (what a test asserts GitHub would say).
    """

    app_id: int
    public_key: RSAPublicKey
    installations: dict[int, str]
    token_lifetime: int = 3600
    slug: str = "repopilot"
    issued: dict[str, float] = field(default_factory=dict)
    refusals: list[str] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def check_jwt(self, authorization: str | None) -> str | None:
        """None when ``authorization`` carries a valid JWT of this App, else GitHub's refusal."""
        scheme, _, credential = (authorization or "").strip().partition(" ")
        message = self._refusal(credential.strip()) if scheme.lower() == "bearer" else UNDECODABLE
        if message is not None:
            with self._lock:
                self.refusals.append(message)
        return message

    def _refusal(self, credential: str) -> str | None:
        try:
            claims = jwt.decode(
                credential,
                self.public_key,
                algorithms=["RS256"],
                options={"verify_exp": False, "verify_iat": False, "verify_nbf": False},
            )
        except jwt.PyJWTError:
            return UNDECODABLE
        # another App's id means another App's key, which did not sign this
        if str(claims.get("iss")) != str(self.app_id):
            return UNDECODABLE
        now = time.time()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(iat, int) or iat > now + CLOCK_LEEWAY:
            return IAT_INVALID
        if not isinstance(exp, int) or exp <= now:
            return EXP_INVALID
        if exp > now + MAX_JWT_SECONDS + CLOCK_LEEWAY or exp - iat > MAX_JWT_SECONDS + CLOCK_LEEWAY:
            return EXP_TOO_FAR
        return None

    def token_valid(self, credential: str) -> bool | None:
        """Whether an installation token is still valid; None when this App never issued it."""
        with self._lock:
            expires = self.issued.get(credential)
        return None if expires is None else time.time() < expires

    def expire_tokens(self) -> None:
        """End the life of every token issued so far (as revoking them would)."""
        with self._lock:
            self.issued = dict.fromkeys(self.issued, 0.0)

    def issue(self, installation_id: int) -> JSON:
        """A new installation token's payload, as ``POST .../access_tokens`` answers it."""
        # GitHub states expiry to the second; the token lives until that very second
        expires = math.floor(time.time()) + self.token_lifetime
        token = "ghs_" + secrets.token_urlsafe(27).replace("-", "a").replace("_", "b")[:36]
        with self._lock:
            self.issued[token] = float(expires)
        return {
            "token": token,
            "expires_at": _stamp(expires),
            "permissions": dict(DEFAULT_PERMISSIONS),
            "repository_selection": "all",
        }

    def installation(self, installation_id: int, api_base: str) -> JSON:
        """An installation object, as GitHub's REST API gives it."""
        login = self.installations[installation_id]
        return {
            "id": installation_id,
            "account": {
                "login": login,
                "id": 1000 + installation_id,
                "type": "Organization",
                "url": f"{api_base}/orgs/{login}",
            },
            "repository_selection": "all",
            "access_tokens_url": f"{api_base}/app/installations/{installation_id}/access_tokens",
            "repositories_url": f"{api_base}/installation/repositories",
            "app_id": self.app_id,
            "app_slug": self.slug,
            "target_id": 1000 + installation_id,
            "target_type": "Organization",
            "permissions": dict(DEFAULT_PERMISSIONS),
            "events": [],
            "created_at": "2026-01-01T00:00:00Z",
            "updated_at": "2026-01-01T00:00:00Z",
            "single_file_name": None,
            "suspended_at": None,
        }

    def installation_of(self, login: str) -> int | None:
        """The installation on an account (logins compare case-insensitively, as on GitHub)."""
        for installation_id, account in self.installations.items():
            if account.lower() == login.lower():
                return installation_id
        return None
