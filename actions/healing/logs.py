"""Reading GitHub Actions run logs and finding the lines that explain a failure.

Two inputs are understood:

* the archive GitHub's ``GET /repos/{o}/{r}/actions/runs/{id}/logs`` returns: a zip with one
  ``{n}_{job}.txt`` per job at the top level and a ``{job}/{n}_{step}.txt`` per step (the GHALogs
  dataset stores the same layout as ``.tar.gz``, which is read too);
* a plain log, as copied from the web UI or ``gh run view --log``: ``job<TAB>step<TAB>timestamp
  line``, or ``timestamp line``, or any other text.

Archives come from the network, so they are read defensively: members whose names escape the
archive (absolute paths, ``..``) are ignored, and the number of members, each member's size and
the total uncompressed size are bounded while reading (never trusting the sizes the headers
claim), so a zip bomb is rejected with :class:`LogArchiveError` instead of filling memory.

:func:`find_failure_excerpt` scores every line for failure markers (``##[error]``, ``Error:``,
``FAILED``, tracebacks, ``npm ERR!``, non-zero exit codes, ...), groups nearby markers into
blocks, and keeps the strongest blocks (later ones win ties, as failures end logs) with a few
lines of context, bounded in lines and characters.
"""

from __future__ import annotations

import io
import re
import tarfile
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Protocol

MAX_MEMBERS = 2_000
"""Members read from an archive; a run has at most a few hundred jobs and steps."""
MAX_MEMBER_BYTES = 64 * 1024 * 1024
"""Uncompressed bytes of one log file."""
MAX_TOTAL_BYTES = 256 * 1024 * 1024
"""Uncompressed bytes of the whole archive."""
MAX_ARCHIVE_BYTES = 128 * 1024 * 1024
"""Compressed bytes accepted at all."""

CONTEXT_LINES = 3
MAX_EXCERPT_LINES = 60
MAX_EXCERPT_CHARS = 8_000
MAX_LINE_CHARS = 500

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TIMESTAMP = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z"
_FULL_GITHUB = re.compile(rf"^([^\t]*)\t([^\t]*)\t{_TIMESTAMP} ?")
_RAW_GITHUB = re.compile(rf"^\ufeff?{_TIMESTAMP} ?")
# Escape sequences, and the remains of colour codes whose ESC byte was lost on the way.
_ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]|\[(?:\d{1,3}(?:;\d{1,3})*)?m")
_JOB_FILE = re.compile(r"^(\d+)_(.+)\.txt$")


class LogArchiveError(ValueError):
    """The archive is malformed, or larger than the bounds allow."""


@dataclass(frozen=True)
class StepLog:
    """One step's log file: ``{job}/{number}_{name}.txt``."""

    number: int
    name: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class JobLog:
    """A job's log: its whole log (``{n}_{job}.txt``) and its steps' logs, lines cleaned."""

    name: str
    lines: tuple[str, ...]
    steps: tuple[StepLog, ...] = ()

    @property
    def failed(self) -> bool:
        """Whether the runner marked an error in the job (``##[error]``)."""
        return any(line.startswith("##[error]") for line in self.all_lines())

    def all_lines(self) -> tuple[str, ...]:
        """The whole log, or the steps' logs in order when the archive has no job file."""
        if self.lines:
            return self.lines
        return tuple(line for step in self.steps for line in step.lines)


@dataclass(frozen=True)
class ExcerptLine:
    """A line of the excerpt: where it is (1-based, in the lines given) and whether it is a marker."""

    number: int
    text: str
    marker: bool
    job: str = ""


@dataclass(frozen=True)
class Excerpt:
    """The failure excerpt: the explaining lines with context, in log order."""

    lines: tuple[ExcerptLine, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        """The excerpt as text, one line per line."""
        return "\n".join(line.text for line in self.lines)

    @property
    def marker_lines(self) -> list[str]:
        """The lines that carry a failure marker (the reason to show)."""
        return [line.text for line in self.lines if line.marker]


def split_lines(text: str) -> list[str]:
    """Split on CR LF, CR and LF (progress bars rewrite lines with a bare CR)."""
    lines = _LINE_BREAK.split(text)
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def strip_ansi(line: str) -> str:
    """Remove colour and cursor escape sequences."""
    return _ANSI.sub("", line)


def clean_line(line: str) -> str:
    """A log line without its ``job<TAB>step<TAB>``/timestamp prefix and escape sequences."""
    match = _FULL_GITHUB.match(line) or _RAW_GITHUB.match(line)
    if match:
        line = line[match.end() :]
    return strip_ansi(line)[:MAX_LINE_CHARS].rstrip()


def parse_plain_log(text: str) -> list[JobLog]:
    """Jobs of a plain log: by the ``job<TAB>step`` columns when present, else one job ``log``."""
    jobs: dict[str, dict[str, list[str]]] = {}
    for raw in split_lines(text):
        match = _FULL_GITHUB.match(raw)
        job, step = (match.group(1), match.group(2)) if match else ("log", "")
        jobs.setdefault(job, {}).setdefault(step, []).append(clean_line(raw))
    result = []
    for name, steps in jobs.items():
        step_logs = tuple(
            StepLog(number, step, tuple(lines))
            for number, (step, lines) in enumerate(steps.items(), 1)
            if step
        )
        result.append(JobLog(name, tuple(line for lines in steps.values() for line in lines), step_logs))
    return result


def _safe_name(name: str) -> PurePosixPath | None:
    """The member's path if it stays inside the archive, else None (ignored)."""
    name = name.replace("\\", "/")
    path = PurePosixPath(name)
    if not name or path.is_absolute() or re.match(r"^[A-Za-z]:", name) or ".." in path.parts:
        return None
    parts = [part for part in path.parts if part not in ("", ".")]
    return PurePosixPath(*parts) if parts else None


class _Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _read_bounded(stream: _Readable, name: str, budget: int) -> bytes:
    """Read at most the member limit and the remaining total budget, or raise."""
    limit = min(MAX_MEMBER_BYTES, budget)
    data = stream.read(limit + 1)
    if len(data) > limit:
        which = "member" if limit == MAX_MEMBER_BYTES else "archive"
        raise LogArchiveError(
            f"log archive too large: {which} limit exceeded while reading {name!r} "
            f"(at most {MAX_MEMBER_BYTES:,} bytes per file and {MAX_TOTAL_BYTES:,} in all)"
        )
    return data


def _zip_members(data: bytes) -> Iterator[tuple[PurePosixPath, bytes]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError) as exc:
        raise LogArchiveError(f"not a readable zip archive: {exc}") from exc
    with archive:
        infos = [info for info in archive.infolist() if not info.is_dir()]
        if len(infos) > MAX_MEMBERS:
            raise LogArchiveError(f"log archive has {len(infos):,} files (at most {MAX_MEMBERS:,})")
        budget = MAX_TOTAL_BYTES
        for info in infos:
            path = _safe_name(info.filename)
            if path is None:
                continue
            try:
                with archive.open(info) as stream:
                    content = _read_bounded(stream, info.filename, budget)
            except (
                zipfile.BadZipFile,
                zipfile.LargeZipFile,
                OSError,
                EOFError,
                NotImplementedError,
                RuntimeError,  # encrypted members
            ) as exc:
                raise LogArchiveError(f"corrupt member {info.filename!r} in the log archive: {exc}") from exc
            budget -= len(content)
            yield path, content


def _tar_members(data: bytes) -> Iterator[tuple[PurePosixPath, bytes]]:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")  # noqa: SIM115 - closed by ``with`` below
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise LogArchiveError(f"not a readable tar archive: {exc}") from exc
    with archive:
        budget = MAX_TOTAL_BYTES
        declared = 0
        count = 0
        try:
            for member in archive:
                # Skipping a member still decompresses it: bound what the headers declare too.
                declared += max(member.size, 0)
                if member.size > MAX_MEMBER_BYTES or declared > MAX_TOTAL_BYTES:
                    raise LogArchiveError(
                        f"log archive too large: {member.name!r} and those before it declare "
                        f"{declared:,} bytes (at most {MAX_MEMBER_BYTES:,} per file, "
                        f"{MAX_TOTAL_BYTES:,} in all)"
                    )
                if not member.isfile():
                    continue  # links and devices are never logs
                count += 1
                if count > MAX_MEMBERS:
                    raise LogArchiveError(f"log archive has more than {MAX_MEMBERS:,} files")
                path = _safe_name(member.name)
                stream = archive.extractfile(member)
                if path is None or stream is None:
                    continue
                content = _read_bounded(stream, member.name, budget)
                budget -= len(content)
                yield path, content
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise LogArchiveError(f"corrupt tar log archive: {exc}") from exc


def _decode(content: bytes) -> list[str]:
    return [clean_line(line) for line in split_lines(content.decode("utf-8", errors="replace"))]


def read_log_archive(source: bytes | Path) -> list[JobLog]:
    """Jobs of a run log archive (zip as GitHub serves it, or the same layout as tar/tar.gz).

    Raises:
        LogArchiveError: the archive is malformed, exceeds the bounds, or holds no log files.
    """
    data = source.read_bytes() if isinstance(source, Path) else source
    if len(data) > MAX_ARCHIVE_BYTES:
        raise LogArchiveError(f"log archive is {len(data):,} bytes (at most {MAX_ARCHIVE_BYTES:,})")
    if data[:4] == b"PK\x03\x04" or data[:4] == b"PK\x05\x06":
        members = _zip_members(data)
    elif data[:2] == b"\x1f\x8b" or data[257:262] == b"ustar":
        members = _tar_members(data)
    else:
        raise LogArchiveError("not a log archive: expected a zip (or tar.gz) file")

    job_files: dict[str, tuple[int, list[str]]] = {}
    step_files: dict[str, list[StepLog]] = {}
    for path, content in members:
        if not path.name.endswith(".txt"):
            continue
        match = _JOB_FILE.match(path.name)
        if len(path.parts) == 1 and match:
            job_files[match.group(2)] = (int(match.group(1)), _decode(content))
        elif len(path.parts) == 2 and match:
            step_files.setdefault(path.parts[0], []).append(
                StepLog(int(match.group(1)), match.group(2), tuple(_decode(content)))
            )
    if not job_files and not step_files:
        raise LogArchiveError("the archive holds no job logs ({n}_{job}.txt or {job}/{n}_{step}.txt)")
    order = {name: number for name, (number, _) in job_files.items()}
    names = sorted(set(job_files) | set(step_files), key=lambda name: (order.get(name, 1 << 30), name))
    return [
        JobLog(
            name,
            tuple(job_files[name][1]) if name in job_files else (),
            tuple(sorted(step_files.get(name, []), key=lambda step: step.number)),
        )
        for name in names
    ]


@dataclass(frozen=True)
class _Marker:
    pattern: re.Pattern[str]
    weight: float


_MARKERS: tuple[_Marker, ...] = tuple(
    _Marker(re.compile(pattern), weight)
    for pattern, weight in (
        (r"^##\[error\](?!Process completed with exit code)", 3.0),
        (r"^##\[error\]Process completed with exit code [1-9]", 1.0),
        (r"(?i)^\s*(?:\[?error\]?|fatal|fail(?:ed|ure)?)\s*[:!\]]", 2.5),
        (r"(?i)\berror(?:\[\w+\])?:\s", 2.0),
        (r"\b(?:FAILED|FAILURE|FAIL)\b", 2.0),
        (r"^Traceback \(most recent call last\)", 3.0),
        (r"^\s*E\s{2,}\S", 2.0),
        (r"^npm ERR!", 2.0),
        (r"(?i)\b\w*(?:Exception|Error)\b(?::|\s+at\b|$)", 1.5),
        (r"(?i)\bpanicked at\b|^--- FAIL|\bassert(?:ion)?\w*\s+(?:failed|error)", 2.5),
        (r"(?i)\b(?:exit(?:ed)?(?: with)?(?: status| code)?|returned non-zero exit status)\s*[1-9]\d*", 1.0),
        (r"(?i)Tests? run:.*(?:Failures|Errors): [1-9]", 2.0),
        (r"(?i)\b\d+ (?:failed|failing|errors?)\b", 1.5),
        (r"(?i)\b(?:cannot|could not|couldn't|unable to)\b", 1.0),
        (r"(?i)\bsomething went wrong\b|\bexiting with failure\b|\bfailed with\b", 1.5),
        (r"(?i)\btimed? ?out\b|\bconnection (?:reset|refused)\b|\bnot found\b", 1.0),
    )
)
# Lines that look like errors but only restate or advertise (Maven's help footer, stack frames, ...).
_NOISE = re.compile(
    r"(?i)^(?:\[?error\]?\s*(?:$|-> \[Help|to see the full stack trace|re-run maven|for more information"
    r"|\[Help \d\]|after correcting the problems|\s*mvn <)|\s*at [\w$.<>/]+\(|\s*\.\.\. \d+ more"
    r"|##\[(?:group|endgroup|debug|command)\]|\s*$)"
)
_ZERO = re.compile(r"(?i)\b0 (?:failed|errors?|failures)\b|Failures: 0, Errors: 0\b")
# Cheap first pass on the lower-cased line: a line with none of these can carry no marker.
_KEYWORDS = (
    "err", "fail", "fatal", "exit", "traceback", "exception", "cannot", "could not", "couldn't",
    "unable", "time", "connection", "not found", "panic", "assert", "wrong", "e  ",
)  # fmt: skip


def line_score(line: str) -> float:
    """How strongly a cleaned line marks a failure (0 for none)."""
    low = line.lower()
    if not any(keyword in low for keyword in _KEYWORDS) or _NOISE.match(line) or _ZERO.search(line):
        return 0.0
    return sum(marker.weight for marker in _MARKERS if marker.pattern.search(line))


def find_failure_excerpt(
    lines: Sequence[str],
    *,
    context: int = CONTEXT_LINES,
    max_lines: int = MAX_EXCERPT_LINES,
    max_chars: int = MAX_EXCERPT_CHARS,
    job: str = "",
) -> Excerpt:
    """The lines that explain the failure, with ``context`` lines around, within the bounds.

    Markers closer than ``2 * context + 1`` lines form a block; a block's score is the sum of its
    lines' scores, its strongest line's score counting double, and a small bonus for lying late
    in the log. Blocks are taken best first until ``max_lines`` is reached, then shown in order.
    """
    cleaned = [clean_line(line) for line in lines]
    scores = [line_score(line) for line in cleaned]
    marked = [index for index, score in enumerate(scores) if score >= 2.0]
    if not marked:
        marked = [index for index, score in enumerate(scores) if score > 0]
    if not marked:
        tail = range(max(0, len(lines) - min(max_lines, 2 * context + 1)), len(lines))
        return _build(cleaned, list(tail), set(), max_chars, job)

    blocks: list[list[int]] = [[marked[0]]]
    for index in marked[1:]:
        if index - blocks[-1][-1] <= 2 * context + 1:
            blocks[-1].append(index)
        else:
            blocks.append([index])
    total = max(len(lines), 1)

    def block_score(block: list[int]) -> float:
        # The strongest line and the position count most: a long run of similar errors (a hundred
        # compile errors) must not outweigh the summary at the end that names the failure.
        values = [scores[index] for index in block]
        return 2.0 * max(values) + min(sum(values), 12.0) / 4.0 + 4.0 * block[-1] / total

    chosen: set[int] = set()
    markers: set[int] = set()
    for block in sorted(blocks, key=block_score, reverse=True):
        start = max(0, block[0] - context)
        end = min(len(lines), block[-1] + context + 1)
        span = [index for index in range(start, end) if index not in chosen]
        if chosen and len(chosen) + len(span) > max_lines:
            continue
        if len(span) > max_lines - len(chosen):
            # One block larger than the budget: keep its start and its end, where causes and summaries sit.
            half = (max_lines - len(chosen)) // 2
            span = span[:half] + span[len(span) - (max_lines - len(chosen) - half) :]
        chosen.update(span)
        markers.update(index for index in block if index in chosen)
        if len(chosen) >= max_lines:
            break
    return _build(cleaned, sorted(chosen), markers, max_chars, job)


def _build(
    cleaned: Sequence[str], indices: list[int], markers: set[int], max_chars: int, job: str
) -> Excerpt:
    kept: list[ExcerptLine] = []
    size = 0
    for index in indices:
        text = cleaned[index]
        if size + len(text) + 1 > max_chars and kept:
            break
        size += len(text) + 1
        kept.append(ExcerptLine(index + 1, text, index in markers, job))
    return Excerpt(tuple(kept))


def excerpt_from_jobs(
    jobs: Sequence[JobLog], *, max_lines: int = MAX_EXCERPT_LINES, max_chars: int = MAX_EXCERPT_CHARS
) -> Excerpt:
    """The failure excerpt of a run: from the failed jobs (``##[error]``), else from every job.

    The budget is shared between failed jobs, the first failed jobs first.
    """
    failed = [job for job in jobs if job.failed] or list(jobs)
    share = max(2 * CONTEXT_LINES + 1, max_lines // max(len(failed), 1))
    collected: list[ExcerptLine] = []
    size = 0
    for job in failed:
        room_lines = min(share, max_lines - len(collected))
        room_chars = max_chars - size
        if room_lines <= 0 or room_chars <= 0:
            break
        excerpt = find_failure_excerpt(
            job.all_lines(), max_lines=room_lines, max_chars=room_chars, job=job.name
        )
        collected.extend(excerpt.lines)
        size += sum(len(line.text) + 1 for line in excerpt.lines)
    return Excerpt(tuple(collected))


def excerpt_from_text(text: str, **bounds: int) -> Excerpt:
    """The failure excerpt of a plain log (see :func:`parse_plain_log`)."""
    return excerpt_from_jobs(parse_plain_log(text), **bounds)
