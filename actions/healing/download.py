"""Downloading a workflow run's log archive as GitHub serves it.

``GET /repos/{o}/{r}/actions/runs/{id}/attempts/{n}/logs`` answers with a 302 to a short-lived,
signed blob URL holding the zip archive. The API call goes through PyGithub's requester, so its
``GithubRetry`` (5xx, rate limits) and pacing apply; the redirect is followed here, by a plain
request that carries no ``Authorization`` header: the signature in the URL is the credential, and
the token must not leave for another host. The download is bounded in bytes and time, and the
signed URL never appears in an error (its signature is as good as a password while it lasts).
"""

from __future__ import annotations

import urllib.error
import urllib.request
from urllib.parse import urlsplit

from github import GithubException
from github.Requester import Requester

from actions.common.errors import ActionError
from actions.healing.logs import MAX_ARCHIVE_BYTES, JobLog, LogArchiveError, read_log_archive

DOWNLOAD_TIMEOUT = 30.0
"""Seconds allowed for the blob download's connection and each read."""

MAX_DOWNLOAD_BYTES = 64 * 1024 * 1024
"""Compressed bytes accepted by default: runs' archives are rarely above a few MB."""

_CHUNK = 1 << 16


class LogDownloadError(ActionError):
    """The logs could not be downloaded, or what came back is not a readable log archive."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Blob hosts answer directly; a further redirect is refused rather than followed blindly."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _where(url: str) -> str:
    """The URL without its query (the signature) for messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def logs_location(requester: Requester, run_url: str, attempt: int) -> str:
    """The signed URL of an attempt's log archive, asked of the API (no download yet).

    Raises:
        LogDownloadError: the API has no logs for the attempt or answers something else than a redirect.
    """
    try:
        status, headers, _ = requester.requestBlob("GET", f"{run_url}/attempts/{attempt}/logs")
    except GithubException as error:
        raise LogDownloadError(f"cannot ask for the logs of attempt {attempt}: HTTP {error.status}") from None
    if status in (404, 410):
        raise LogDownloadError(
            f"GitHub has no logs for attempt {attempt} (HTTP {status}: not finished, expired or deleted)"
        )
    location = {name.lower(): value for name, value in headers.items()}.get("location")
    if status not in (301, 302, 303, 307) or not location:
        raise LogDownloadError(
            f"the logs endpoint answered HTTP {status} instead of a redirect to the archive"
        )
    return str(location)


def fetch_archive(
    location: str, *, api_url: str, max_bytes: int = MAX_DOWNLOAD_BYTES, timeout: float = DOWNLOAD_TIMEOUT
) -> bytes:
    """Download the archive at a signed ``location``, without credentials, at most ``max_bytes``.

    Args:
        location: the signed URL the logs endpoint redirected to.
        api_url: the API's base URL: when it is HTTPS, the archive must come over HTTPS too.
        max_bytes: the largest archive accepted (never above :data:`~actions.healing.logs.MAX_ARCHIVE_BYTES`).
        timeout: seconds for the connection and each read.

    Raises:
        LogDownloadError: a refused scheme, an HTTP error, a timeout, a body over the bound, or a
            body that is not a zip archive.
    """
    limit = min(max_bytes, MAX_ARCHIVE_BYTES)
    scheme = urlsplit(location).scheme.lower()
    secure_api = urlsplit(api_url).scheme.lower() == "https"
    if scheme not in ("http", "https") or (secure_api and scheme != "https"):
        raise LogDownloadError(f"refusing to download logs over {scheme or 'an unknown scheme'!r}")
    # No Authorization header: the token is for the API host only.
    request = urllib.request.Request(location, headers={"Accept": "application/zip"}, method="GET")  # noqa: S310 - scheme checked above
    opener = urllib.request.build_opener(_NoRedirect())
    try:
        with opener.open(request, timeout=timeout) as response:
            declared = response.headers.get("Content-Length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                raise LogDownloadError(f"the log archive is {int(declared):,} bytes (at most {limit:,})")
            chunks: list[bytes] = []
            size = 0
            while chunk := response.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise LogDownloadError(f"the log archive is larger than {limit:,} bytes")
                chunks.append(chunk)
    except urllib.error.HTTPError as error:
        raise LogDownloadError(
            f"the log archive at {_where(location)} answered HTTP {error.code} "
            "(the signed link may have expired)"
        ) from None
    except (urllib.error.URLError, TimeoutError, OSError) as error:
        reason = getattr(error, "reason", error)
        raise LogDownloadError(f"cannot download the log archive from {_where(location)}: {reason}") from None
    data = b"".join(chunks)
    if data[:4] not in (b"PK\x03\x04", b"PK\x05\x06"):
        raise LogDownloadError("the logs download is not a zip archive (GitHub serves logs as zip)")
    return data


def download_run_logs(
    requester: Requester,
    run_url: str,
    attempt: int,
    *,
    api_url: str,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
    timeout: float = DOWNLOAD_TIMEOUT,
) -> list[JobLog]:
    """The job logs of one attempt of a run: ask the API, follow the redirect, read the archive.

    Raises:
        LogDownloadError: the logs are unavailable, too large, or the archive is malformed.
    """
    archive = fetch_archive(
        logs_location(requester, run_url, attempt), api_url=api_url, max_bytes=max_bytes, timeout=timeout
    )
    try:
        return read_log_archive(archive)
    except LogArchiveError as error:
        raise LogDownloadError(f"the log archive of attempt {attempt} is malformed: {error}") from None
