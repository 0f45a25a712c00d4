"""Ctrl-C in the middle of asking leaves every file whole, and no file or output holds the key."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openai_server import FakeOpenAI, Fault

from pytest_abstain.asking.cache import ResponseCache
from pytest_abstain.files import write_atomic

QUESTIONS = 200


def suite(count: int) -> str:
    lines = "\n".join(
        f"  - {{id: q{i}, question: 'Question number {i}?', idk: true}}" for i in range(count)
    )
    return f"questions:\n{lines}\n"


def pytest_command(server: FakeOpenAI, *extra: str) -> list[str]:
    return [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
        "--abstain-model", "fake-model", "--abstain-base-url", server.base_url, *extra,
    ]  # fmt: skip


def test_ctrl_c_while_asking_leaves_cache_baseline_and_report_whole(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_many=suite(QUESTIONS))
    files = ["--abstain-cache", "cache", "--abstain-baseline", "b.json"]
    update = ["--abstain-update-baseline", "--abstain-record", "off"]
    first = subprocess.run(
        pytest_command(openai_server, *files, *update),
        cwd=pytester.path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert first.returncode == 0, first.stdout
    baseline_before = (pytester.path / "b.json").read_bytes()

    openai_server.reset_stats()
    openai_server.latency = 0.1
    run = pytest_command(
        openai_server, *files, "--abstain-update-baseline", "--abstain-report", "r.json",
        "--abstain-concurrency", "4",
    )  # fmt: skip
    proc = subprocess.Popen(run, cwd=pytester.path, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while len(openai_server.requests) < 40 and time.monotonic() < deadline:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=30)
    assert proc.returncode == pytest.ExitCode.INTERRUPTED, out
    assert "KeyboardInterrupt" in out
    asked = len(openai_server.requests)
    assert asked < QUESTIONS

    # Fully old or fully new: the baseline is untouched, no report of half a run, and
    # every cache entry that exists is whole (no temporary file left behind).
    assert (pytester.path / "b.json").read_bytes() == baseline_before
    assert not (pytester.path / "r.json").exists()
    entries = list((pytester.path / "cache").rglob("*"))
    assert not [p for p in entries if p.name.endswith(".tmp")]
    stored = [p for p in entries if p.suffix == ".json"]
    assert 0 < len(stored) <= asked
    cache = ResponseCache(pytester.path / "cache")
    for path in stored:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert data["reply"]["text"] == "I don't know."
    assert cache.corrupt_entries() == []

    # The re-run asks only what the cache does not hold, and completes.
    openai_server.reset_stats()
    openai_server.latency = 0
    again = subprocess.run(
        pytest_command(openai_server, *files, "--abstain-report", "r.json"),
        cwd=pytester.path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert again.returncode == 0, again.stdout
    assert len(openai_server.requests) == QUESTIONS - len(stored)
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["suites"][0]["usage"]["cached_replies"] == len(stored)


SECRET = "sk-proj-SECRET-do-not-leak-4f1c9a"


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_the_api_key_appears_nowhere(
    pytester: pytest.Pytester,
    openai_server: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    workers: list[str],
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", SECRET)
    pytester.makefile(".yaml", abstain_many=suite(12))
    # Endpoints echo keys in their errors; a proxy may echo the whole header.
    openai_server.faults = {
        "number 3?": Fault(401, f"Incorrect API key provided: {SECRET}."),
        "number 4?": Fault(500, f"upstream rejected 'Authorization: Bearer {SECRET}'"),
    }
    result = pytester.runpytest_subprocess(
        *pytest_command(openai_server)[3:],
        "-v", "-rA", "--abstain-retries", "0",
        "--abstain-cache", "cache", "--abstain-report", "r.json", "--junitxml", "junit.xml",
        "--abstain-baseline", "b.json", "--abstain-update-baseline",
        "--abstain-baseline-allow-errors", "--abstain-explain-misses",
        *workers,
    )  # fmt: skip
    assert result.ret == 1  # the two errors
    # The key did reach the endpoint, so its absence below is not for want of using it.
    assert openai_server.requests[0]["_headers"]["authorization"] == f"Bearer {SECRET}"
    written = [p for p in pytester.path.rglob("*") if p.is_file()]
    assert {"r.json", "junit.xml", "b.json"} <= {p.name for p in written}
    assert len([p for p in written if p.parent.parent.name == "cache"]) == 10
    for path in written:
        assert SECRET.encode() not in path.read_bytes(), path
    output = result.stdout.str() + result.stderr.str()
    assert "[API key]" in output  # the echoes were there, redacted
    assert SECRET not in output
    assert "Bearer sk-" not in output and not any(SECRET[:12] in line for line in output.split())


def test_credentials_in_the_base_url_are_not_shown(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_many=suite(2))
    url = openai_server.base_url.replace("http://", "http://user:hunter2@")
    result = pytester.runpytest("--abstain-model", "m", "--abstain-base-url", url,
                                "--abstain-report", "r.json")  # fmt: skip
    assert result.ret == 0
    assert "hunter2" not in result.stdout.str()
    assert b"hunter2" not in (pytester.path / "r.json").read_bytes()
    assert os.environ["OPENAI_API_KEY"] not in result.stdout.str()


@pytest.mark.parametrize("stop", [KeyboardInterrupt, OSError])
def test_a_write_stopped_midway_leaves_the_old_file_and_no_debris(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, stop: type[BaseException]
) -> None:
    target = tmp_path / "baseline.json"
    target.write_text('{"old": true}\n', encoding="utf-8")

    def interrupted(src: object, dst: object) -> None:
        raise stop

    # The new text is fully on disk in the temporary file when the rename is stopped.
    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(stop):
        write_atomic(target, '{"new": true}\n' * 10_000)
    assert target.read_text(encoding="utf-8") == '{"old": true}\n'
    assert [p.name for p in tmp_path.iterdir()] == ["baseline.json"]


def test_written_files_are_readable_by_others_or_keep_their_mode(tmp_path: Path) -> None:
    fresh = tmp_path / "report.json"
    write_atomic(fresh, "{}\n")
    assert fresh.stat().st_mode & 0o777 == 0o644
    fresh.chmod(0o600)  # a file someone made private stays private
    write_atomic(fresh, "{}\n")
    assert fresh.stat().st_mode & 0o777 == 0o600
