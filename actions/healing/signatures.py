"""Failure signatures, and the persistence policy: a transient failure that keeps recurring is not one.

LogChunks' labelling rule 3 ("persistence overrides surface wording"): a network-looking error
that recurs across builds hours or months apart is permanent, because a rerun will not fix it
(Mojo-Webqq's ``Connect timeout at t/https.t`` for months, nginx-proxy's ``ConnectionError`` to
the proxy under test). One excerpt cannot show recurrence; a repository's history can. The
signature makes "the same failure" comparable across builds, and :func:`persistent` is the one
policy the ``failure-text`` benchmark and the heal action both apply.

The policy applies to failures classified **transient** only, and that asymmetry follows from the
definitions: transient means a re-run without any change is likely to succeed, so the same
failure on earlier, different builds is evidence against the class. Dependency means waiting for
something outside the repository is the fix; such a failure recurs by its nature until upstream
publishes or lands (electron's and redox's dependency failures on LogChunks recur across builds
and are rightly dependency), so recurrence says nothing against it.
"""

from __future__ import annotations

import hashlib
import re

from actions.healing.logs import strip_ansi

SIGNATURE_CHARS = 400
"""Characters of the normalised excerpt a signature covers (its start, where the error usually is)."""

SIGNATURE_LENGTH = 16
"""Hex digits of a signature (64 bits of SHA-256: collisions among one repository's failures are
out of the question)."""

# Not classify.normalise: the model's text drops paths and URLs whole (they name the repository, not
# the cause); a signature keeps file names and hosts, since another failing file is another failure.
_URL = re.compile(r"\b[a-z][a-z0-9+.-]*://[^\s'\"<>()]+")
# A path of two or more components (absolute, home- or drive-relative, or relative with a
# separator): build directories, temporary folders and checkouts differ between builds, file names
# and the last directories rarely do.
_PATH = re.compile(r"(?:(?:[a-z]:)?[\\/]|~[\\/]|\.{1,2}[\\/])?(?:[\w.@+-]+[\\/]){2,}([\w.@+-]*)")
# Commit ids, object ids and hashes: seven or more hex digits with a letter and a digit, or 0x-marked.
_HEX = re.compile(r"\b(?:0x[0-9a-f]+|(?=[0-9a-f]*[a-f])(?=[0-9a-f]*[0-9])[0-9a-f]{7,})\b")
_DIGITS = re.compile(r"\d+")
_SPACE = re.compile(r"\s+")


def normalise(excerpt: str) -> str:
    """The excerpt with what differs between builds of the same failure taken out.

    Lower case; terminal colour codes dropped; URLs keep their host; paths of two or more
    components keep their last component (``…/https.t``); commit ids, hashes and ``0x``
    addresses (seven or more hex digits) become ``#``; every run of digits becomes ``0`` (times,
    durations, line numbers, ports, build numbers); whitespace collapses to one space. The result
    is cut to :data:`SIGNATURE_CHARS` characters.
    """
    text = strip_ansi(excerpt).lower()
    text = _URL.sub(lambda m: "url:" + (m.group(0).split("://", 1)[1].split("/", 1)[0]), text)
    text = _PATH.sub(lambda m: "…/" + m.group(1), text)
    text = _HEX.sub("#", text)
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()[:SIGNATURE_CHARS]


def signature(excerpt: str) -> str:
    """A short stable hash of :func:`normalise` (hex, :data:`SIGNATURE_LENGTH` digits).

    The same failure in two builds (other numbers, times, paths, commit ids) has the same
    signature; an empty excerpt has the signature of the empty string.
    """
    digest = hashlib.sha256(normalise(excerpt).encode("utf-8")).hexdigest()
    return digest[:SIGNATURE_LENGTH]


def persistent(category: str, earlier_occurrences: int, min_recurrences: int | None) -> bool:
    """Whether a failure classified ``category`` is a persistent one (to treat as permanent).

    True when the category is ``transient``, the policy is on (``min_recurrences`` of 1 or more;
    None or 0 turns it off) and the same signature failed at least ``min_recurrences`` times
    before (in other builds of the same repository). Dependency and permanent failures are never
    changed (see the module docstring).
    """
    if not min_recurrences or min_recurrences < 1:
        return False
    return category == "transient" and earlier_occurrences >= min_recurrences
