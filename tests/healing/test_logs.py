"""Run log archives and failure excerpts (actions.healing.logs)."""

from __future__ import annotations

import io
import tarfile
import zipfile
from pathlib import Path

import pytest

from actions.healing import logs
from actions.healing.logs import (
    LogArchiveError,
    clean_line,
    excerpt_from_jobs,
    excerpt_from_text,
    find_failure_excerpt,
    parse_plain_log,
    read_log_archive,
    split_lines,
)
from pipelines.ml.failure_excerpt import judge_case, read_groundtruth, run_excerpt_benchmark
from tests.conftest import require_shared

TS = "2024-05-01T10:00:00.1234567Z"


def _zip(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def _job_log(lines: list[str]) -> str:
    return "".join(f"{TS} {line}\r\n" for line in lines)


PASSING = _job_log(["##[group]Run npm ci", "##[endgroup]", "added 10 packages", "Tests: 5 passed"])
FAILING = _job_log(
    [
        "##[group]Run npm ci",
        "##[endgroup]",
        *[f"\x1b[32mprogress {i}\x1b[0m" for i in range(40)],
        "npm ERR! code ETIMEDOUT",
        "npm ERR! network request to https://registry.npmjs.org/left-pad failed, reason: connect ETIMEDOUT",
        "##[error]Process completed with exit code 1.",
        *[f"cleanup {i}" for i in range(10)],
    ]
)


def test_zip_archive_in_githubs_layout(tmp_path: Path) -> None:
    data = _zip(
        {
            "1_build.txt": PASSING,
            "2_test (3.11).txt": FAILING,
            "build/1_Set up job.txt": _job_log(["Current runner version: '2.320.0'"]),
            "test (3.11)/2_Run npm ci.txt": FAILING,
            "test (3.11)/1_Set up job.txt": _job_log(["Runner name: 'GitHub Actions 2'"]),
        }
    )
    path = tmp_path / "logs.zip"
    path.write_bytes(data)
    jobs = read_log_archive(path)
    assert [job.name for job in jobs] == ["build", "test (3.11)"]
    build, test = jobs
    assert not build.failed and test.failed
    assert [step.name for step in test.steps] == ["Set up job", "Run npm ci"]
    assert build.lines[0] == "##[group]Run npm ci"  # timestamp gone
    assert all("\x1b" not in line for line in test.lines)
    excerpt = excerpt_from_jobs(jobs)
    assert {line.job for line in excerpt.lines} == {"test (3.11)"}
    assert "npm ERR! code ETIMEDOUT" in excerpt.marker_lines
    assert len(excerpt.lines) < 20


def test_step_files_alone_make_the_job_log() -> None:
    jobs = read_log_archive(
        _zip({"lint/1_Set up job.txt": PASSING, "lint/2_Run ruff.txt": "E501 x\nerror: 1"})
    )
    assert len(jobs) == 1 and jobs[0].lines == ()
    assert jobs[0].all_lines()[-1] == "error: 1"


def test_path_traversal_names_are_ignored() -> None:
    data = _zip({"../../etc/1_passwd.txt": "root:x:0:0", "/abs/1_x.txt": "x", "1_ok.txt": PASSING})
    assert [job.name for job in read_log_archive(data)] == ["ok"]


def test_archive_with_only_unsafe_names_is_rejected() -> None:
    with pytest.raises(LogArchiveError, match="no job logs"):
        read_log_archive(_zip({"../1_evil.txt": "x"}))


def test_malformed_zip_is_rejected() -> None:
    data = _zip({"1_build.txt": PASSING})
    with pytest.raises(LogArchiveError, match="zip"):
        read_log_archive(data[:40])
    with pytest.raises(LogArchiveError, match="not a log archive"):
        read_log_archive(b"<html>rate limited</html>")


def test_oversized_member_is_rejected_without_trusting_headers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_MEMBER_BYTES", 1_000)
    bomb = _zip({"1_big.txt": "A" * 50_000})  # compresses to a few hundred bytes
    assert len(bomb) < 1_000
    with pytest.raises(LogArchiveError, match="too large"):
        read_log_archive(bomb)


def test_total_size_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_TOTAL_BYTES", 5_000)
    data = _zip({f"{i}_job{i}.txt": "B" * 2_000 for i in range(1, 5)})
    with pytest.raises(LogArchiveError, match="archive limit"):
        read_log_archive(data)


def test_too_many_members_are_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_MEMBERS", 3)
    with pytest.raises(LogArchiveError, match="files"):
        read_log_archive(_zip({f"{i}_j{i}.txt": "x" for i in range(1, 6)}))


def test_tar_gz_layout_and_links_skipped() -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        content = FAILING.encode()
        info = tarfile.TarInfo("3_deploy.txt")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
        link = tarfile.TarInfo("4_link.txt")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    jobs = read_log_archive(buffer.getvalue())
    assert [job.name for job in jobs] == ["deploy"]
    assert jobs[0].failed


def test_plain_full_github_log_is_split_by_job() -> None:
    text = "\n".join(
        [
            f"build\tSet up job\t{TS} Current runner version: '2.284.0'",
            f"build\tRun tests\t{TS} > Task :test FAILED",
            f"build\tRun tests\t{TS} FAILURE: Build failed with an exception.",
            f"lint\tRun ruff\t{TS} All checks passed!",
        ]
    )
    jobs = parse_plain_log(text)
    assert [job.name for job in jobs] == ["build", "lint"]
    assert [step.name for step in jobs[0].steps] == ["Set up job", "Run tests"]
    excerpt = excerpt_from_text(text)
    assert "FAILURE: Build failed with an exception." in excerpt.marker_lines


def test_clean_line_and_split() -> None:
    assert clean_line(f"{TS} \x1b[31mError:\x1b[0m boom") == "Error: boom"
    assert clean_line("[1;31mERROR[m] Failed") == "ERROR] Failed"
    assert split_lines("a\r\nb\rc\nd\n") == ["a", "b", "c", "d"]


def test_excerpt_is_bounded_and_prefers_the_late_strong_block() -> None:
    lines = ["warning: deprecated thing"] * 5 + ["ok"] * 500
    lines += ["Error: first failure"] + ["ok"] * 300
    lines += [f"[ERROR] /src/F{i}.java:[1,1] cannot find symbol" for i in range(200)]
    lines += ["ok"] * 20 + ["Traceback (most recent call last):", '  File "x.py"', "ValueError: bad"]
    excerpt = find_failure_excerpt(lines, max_lines=30, max_chars=2_000)
    assert len(excerpt.lines) <= 30
    assert len(excerpt.text) <= 2_000
    assert "Traceback (most recent call last):" in excerpt.marker_lines
    numbers = [line.number for line in excerpt.lines]
    assert numbers == sorted(numbers)


def test_log_without_markers_gives_its_tail() -> None:
    excerpt = find_failure_excerpt([f"line {i}" for i in range(100)])
    assert excerpt.lines[-1].text == "line 99"
    assert excerpt.marker_lines == []


def test_groundtruth_parsing(tmp_path: Path) -> None:
    path = tmp_path / "groundtruth"
    path.write_text("DEFAULT\nE 3-5\nC 2\nE 9\n")
    truth = read_groundtruth(path)
    assert truth.fmt == "DEFAULT"
    assert truth.error == {3, 4, 5, 9} and truth.context == {2}
    path.write_text("DEFAULT\nX 1\n")
    with pytest.raises(ValueError, match="cannot read"):
        read_groundtruth(path)


@pytest.mark.parametrize("case", ["casper_1774", "cidiff_57", "cidiff_11"])
def test_excerpt_finds_marked_error_lines_in_cidiff(case: str) -> None:
    case_dir = require_shared(f"failure-text/cidiff-breakages/{case}")
    result = judge_case(case_dir)
    assert result.hit, result
    assert result.excerpt_lines <= logs.MAX_EXCERPT_LINES
    assert result.precision > 0.1


def test_excerpt_benchmark_writes_json(tmp_path: Path) -> None:
    root = require_shared("failure-text/cidiff-breakages")
    data = tmp_path / "cases"
    data.mkdir()
    for case in ("astor_1278", "spork_441"):
        (data / case).symlink_to(root / case)
    report = run_excerpt_benchmark(data, tmp_path / "out.json")
    assert report["cases"] == 2
    assert 0.0 <= report["hit_rate"] <= 1.0
    assert (tmp_path / "out.json").exists()


def test_ghalogs_example_archive() -> None:
    path = require_shared("failure-text/ghalogs-example/log.tar.gz")
    jobs = read_log_archive(path)
    assert len(jobs) > 10
    assert all(job.all_lines() for job in jobs)
    assert not any(job.failed for job in jobs)  # the recorded run succeeded


def test_classify_a_run_from_its_archive() -> None:
    from actions.healing.classify import classify_log_archive

    result = classify_log_archive(_zip({"1_build.txt": PASSING, "2_test.txt": FAILING}), None)
    assert result["category"] == "transient"
    assert result["retryable"] is True
    assert any("ETIMEDOUT" in line for line in result["matched_lines"])


def test_tar_member_declaring_too_much_is_rejected(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "MAX_MEMBER_BYTES", 1_000)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        content = b"C" * 5_000
        info = tarfile.TarInfo("1_big.txt")
        info.size = len(content)
        archive.addfile(info, io.BytesIO(content))
    with pytest.raises(LogArchiveError, match="too large"):
        read_log_archive(buffer.getvalue())


def test_encrypted_zip_member_is_a_clear_error() -> None:
    data = bytearray(_zip({"1_build.txt": PASSING}))
    # Set the "encrypted" flag bit in the local header and the central directory entry.
    data[6] |= 0x01
    central = data.rfind(b"PK\x01\x02")
    data[central + 8] |= 0x01
    with pytest.raises(LogArchiveError, match="corrupt member"):
        read_log_archive(bytes(data))
