"""Chaos at the level of a whole run (issue 13): hostile replies and error bodies, a full disk,
a crashed xdist worker, two runs updating one baseline. Each case failed before; each run here
is a real pytest process against the loopback server.
"""

from __future__ import annotations

import json
import resource
import signal
import stat
import subprocess
import sys
import threading
from pathlib import Path

import jsonschema
import pytest
from openai_server import FakeOpenAI, Fault

from pytest_abstain.files import write_atomic
from pytest_abstain.records import MAX_REPLY_CHARS, Counts, QuestionRecord, Reply, SuiteInfo
from pytest_abstain.render.json_report import build_report
from pytest_abstain.render.markdown import render_markdown
from pytest_abstain.results.baseline import read_baseline, update_baseline
from pytest_abstain.results.suites import SuiteResult, overall_metrics
from pytest_abstain.results.verdict import decide
from pytest_abstain.schema import load_schema
from pytest_abstain.suite import SuiteError, load_suite
from pytest_abstain.untrusted import MAX_ERROR_CHARS, encodable, plain

CAPITALS = {"France": "Paris", "Germany": "Berlin", "Spain": "Madrid", "Italy": "Rome"}


def capitals_suite(*, min_score: float | None = None, name: str | None = None) -> str:
    lines = []
    if name is not None:
        lines.append(f"name: {json.dumps(name)}")
    if min_score is not None:
        lines.append(f"gates: {{min_score: {min_score}}}")
    lines.append("questions:")
    lines += [
        f"  - {{id: {c.lower()}, question: 'What is the capital of {c}?', answer: {a}}}"
        for c, a in CAPITALS.items()
    ]
    return "\n".join(lines) + "\n"


def run_pytest(
    folder: Path, server: FakeOpenAI, *extra: str, limit_file_size: int | None = None
) -> subprocess.CompletedProcess[str]:
    """A pytest process in `folder`; `limit_file_size` makes the kernel refuse any write past
    that many bytes, as a full disk does (EFBIG instead of ENOSPC, the same OSError path)."""

    def limited() -> None:
        if limit_file_size is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # an error, not a killed process
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit_file_size, limit_file_size))

    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--color=no", "--abstain-model", "m", "--abstain-base-url", server.base_url, *extra,
    ]  # fmt: skip
    return subprocess.run(
        command, cwd=folder, capture_output=True, text=True, timeout=300, preexec_fn=limited
    )


def test_a_reply_with_a_lone_surrogate_is_graded_and_reported(
    tmp_path: Path, openai_server: FakeOpenAI, api_key: str
) -> None:
    # The valid JSON escape "\ud800" decodes to a string no file or xdist channel can encode.
    openai_server.replies = {"France": "Paris \ud800", "Germany": "\ud800"}
    openai_server.default_reply = "I don't know."
    (tmp_path / "abstain_capitals.yaml").write_text(capitals_suite(min_score=0.9))
    outputs = [
        "--abstain-report",
        "r.json",
        "--abstain-html",
        "r.html",
        "--abstain-markdown",
        "r.md",
    ]
    for workers in ([], ["-n", "2"]):
        result = run_pytest(tmp_path, openai_server, *outputs, *workers)
        # The gate fails (two abstentions and a wrong answer): exit 1, and said so.
        assert result.returncode == 1, result.stdout + result.stderr
        assert "INTERNALERROR" not in result.stdout + result.stderr
        assert "honesty gate failed" in result.stdout
        report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
        assert report["verdict"] == "failed"
        replies = {q["id"]: q["replies"] for q in report["suites"][0]["questions"]}
        assert replies["france"] == ["Paris \ufffd"]
        assert (tmp_path / "r.html").stat().st_size > 0
        assert (tmp_path / "r.md").stat().st_size > 0


def test_terminal_escapes_in_an_error_body_are_not_printed(
    tmp_path: Path, openai_server: FakeOpenAI, api_key: str
) -> None:
    hostile = "bad request\x1b[2J\x1b]0;owned\x07\x1b[31m red\rOVERWRITE"
    openai_server.faults = {"France": Fault(400, hostile)}
    openai_server.default_reply = "I don't know."
    (tmp_path / "abstain_capitals.yaml").write_text(capitals_suite())
    result = run_pytest(tmp_path, openai_server, "-rA")
    output = result.stdout + result.stderr
    assert "bad request" in output  # the reason is shown...
    assert " red" in output
    assert "\x1b" not in output and "\x07" not in output and "\r" not in output  # ...inert


def test_reply_boundary_makes_outside_text_safe() -> None:
    reply = Reply(text="Paris\r\n\x1b[1mbold\x1b[0m \ud800\x00")
    assert reply.text == "Paris\nbold \ufffd\ufffd"
    error = Reply.failed("x" * (MAX_ERROR_CHARS * 3)).error
    assert error is not None and len(error) < MAX_ERROR_CHARS + 100
    huge = Reply(text="Paris " * (MAX_REPLY_CHARS // 5))
    assert huge.text is None and huge.error is not None and "characters" in huge.error
    # Clean text passes unchanged (the common case costs no copy).
    clean = "Die Hauptstadt ist Paris.\n\tSicher."
    assert plain(clean) is clean and encodable(clean) is clean


def test_an_unwritable_report_fails_the_run_after_the_summary_and_keeps_the_baseline(
    tmp_path: Path, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.replies = {country: capital for country, capital in CAPITALS.items()}
    (tmp_path / "abstain_capitals.yaml").write_text(capitals_suite(min_score=0.5))
    baseline = ["--abstain-baseline", "b.json"]
    first = run_pytest(tmp_path, openai_server, *baseline, "--abstain-update-baseline")
    assert first.returncode == 0, first.stdout
    before = (tmp_path / "b.json").read_bytes()

    # Every write past 600 bytes fails, as on a full disk: the reports and the baseline.
    result = run_pytest(
        tmp_path, openai_server, *baseline, "--abstain-update-baseline",
        "--abstain-report", "r.json", "--abstain-html", "r.html", limit_file_size=600,
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert result.returncode not in (0, 1), output  # not a pass, and not a gate failure
    assert "INTERNALERROR" not in output
    # The summary and the gate verdict come first, then what could not be written.
    summary = output.index("honesty at a stated confidence target")
    failed_itself = output.index("the run itself FAILED")
    assert summary < failed_itself
    assert "score 1.000" in output
    assert f"{tmp_path / 'r.json'}" in output[failed_itself:]
    assert f"{tmp_path / 'r.html'}" in output[failed_itself:]
    assert "baseline NOT updated" in output
    assert (tmp_path / "b.json").read_bytes() == before
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written temporary file left


CRASHING_CONFTEST = """
import os, signal
from pathlib import Path

def pytest_abstain_make_responder(config, suite_path):
    def answer(prompt):
        # Kills its xdist worker once, on one question; the replacement worker answers.
        marker = Path(__file__).with_name("crashed-once")
        if "Spain" in prompt and not marker.exists():
            marker.write_text("")
            os.kill(os.getpid(), signal.SIGKILL)
        for country, capital in %r.items():
            if country in prompt:
                return capital
        return "I don't know."
    return answer
"""


def test_a_killed_xdist_worker_fails_the_verdict_and_keeps_the_baseline(
    tmp_path: Path, openai_server: FakeOpenAI, api_key: str
) -> None:
    (tmp_path / "abstain_capitals.yaml").write_text(capitals_suite())
    baseline = ["--abstain-baseline", "b.json", "--abstain-update-baseline"]
    first = run_pytest(tmp_path, openai_server, *baseline)
    assert first.returncode == 0, first.stdout
    before = (tmp_path / "b.json").read_bytes()

    (tmp_path / "conftest.py").write_text(CRASHING_CONFTEST % CAPITALS)
    result = run_pytest(
        tmp_path, openai_server, *baseline, "--abstain-report", "r.json", "-n", "2",
        "--abstain-concurrency", "1",
    )  # fmt: skip
    output = result.stdout + result.stderr
    assert (tmp_path / "crashed-once").exists()
    assert result.returncode != 0, output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "failed"
    assert any("crashed" in problem for problem in report["problems"])
    # The question that was running is an error in the report, not missing from it.
    questions = report["suites"][0]["questions"]
    crashed = [q for q in questions if q["grade"] == "error"]
    assert len(crashed) == 1 and "crashed" in crashed[0]["errors"][0]
    assert len(questions) == len(CAPITALS)
    assert "baseline NOT updated" in output
    assert (tmp_path / "b.json").read_bytes() == before


def test_two_runs_updating_one_baseline_keep_both_suites(
    tmp_path: Path, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.replies = dict(CAPITALS)
    openai_server.latency = 0.5  # both runs read the baseline before either writes it
    runs = []
    for team in ("a", "b"):
        folder = tmp_path / team
        folder.mkdir()
        (folder / f"abstain_{team}.yaml").write_text(capitals_suite())
        baseline = str(tmp_path / "b.json")
        command = [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--abstain-model", "m",
            "--abstain-base-url", openai_server.base_url, "--abstain-baseline", baseline,
            "--abstain-update-baseline",
        ]  # fmt: skip
        runs.append(subprocess.Popen(command, cwd=folder, stdout=subprocess.PIPE, text=True))
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    stored = read_baseline(tmp_path / "b.json")
    assert stored is not None
    assert set(stored.suites) == {"abstain_a.yaml", "abstain_b.yaml"}


def one_suite_result(key: str) -> SuiteResult:
    info = SuiteInfo(key=key, name=key, threshold=0.75, samples=1, responder="m",
                     confidence_stated=True, size=1)  # fmt: skip
    record = QuestionRecord(
        suite=info, nodeid=f"{key}::q", index=0, id="q", question="Q?", idk=False,
        expected=["A"], regex=None, tags=[], grades=["correct"], replies=["A"], errors=[None],
    )  # fmt: skip
    result = SuiteResult(info)
    result.questions.append(record)
    return result


def test_concurrent_baseline_updates_from_many_threads_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "baselines" / "b.json"
    writers = [
        threading.Thread(target=update_baseline, args=(path, [one_suite_result(f"s{i}")]))
        for i in range(24)
    ]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join()
    stored = read_baseline(path)
    assert stored is not None
    assert sorted(stored.suites) == sorted(f"s{i}" for i in range(24))
    assert stored.suites["s3"].questions["q"].counts == Counts(correct=1)


def test_a_carriage_return_in_a_name_cannot_start_a_markdown_line() -> None:
    result = one_suite_result("abstain_x.yaml\r## injected")
    text = render_markdown([result], [], decide([result], []), run_failed=False)
    assert not any(line.startswith("## injected") for line in text.splitlines())
    assert "\r" not in text


def test_output_problems_are_named_in_the_json_report() -> None:
    results = [one_suite_result("abstain_x.yaml")]
    run = {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 1}
    verdict = decide(results, [])
    report = build_report(results, overall_metrics(results), run, verdict, problems=["it broke"])
    jsonschema.validate(report, load_schema("report"))
    assert report["verdict"] == "failed" and report["problems"] == ["it broke"]
    assert "problems" not in build_report(results, overall_metrics(results), run, verdict)


def test_repeated_ctrl_c_stops_without_tracebacks(
    tmp_path: Path, openai_server: FakeOpenAI, api_key: str
) -> None:
    questions = "\n".join(
        f"  - {{id: q{i}, question: 'Question {i}?', idk: true}}" for i in range(300)
    )
    (tmp_path / "abstain_many.yaml").write_text(f"questions:\n{questions}\n")
    openai_server.latency = 0.2
    command = [
        sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--abstain-model", "m",
        "--abstain-base-url", openai_server.base_url, "--abstain-concurrency", "4",
    ]  # fmt: skip
    proc = subprocess.Popen(
        command, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    while len(openai_server.requests) < 20 and proc.poll() is None:
        threading.Event().wait(0.02)
    for _ in range(3):
        proc.send_signal(signal.SIGINT)
        threading.Event().wait(0.05)
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 2, output  # interrupted, as pytest says it
    assert "Traceback" not in output


def test_a_failing_results_hook_fails_the_run_but_not_the_other_outputs(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.replies = dict(CAPITALS)
    pytester.makefile(".yaml", abstain_capitals=capitals_suite())
    pytester.makeconftest(
        "def pytest_abstain_results(config, results, report):\n    raise KeyError('model')\n"
    )
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-html", "r.html", "--abstain-baseline", "b.json", "--abstain-update-baseline",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.INTERNAL_ERROR
    result.stdout.fnmatch_lines(["*the run itself FAILED*", "*pytest_abstain_results hook*"])
    assert (pytester.path / "r.html").stat().st_size > 0
    assert not (pytester.path / "b.json").exists()  # a failed run is no reference


def test_a_lone_surrogate_escape_in_a_suite_never_reaches_a_prompt(tmp_path: Path) -> None:
    suite = tmp_path / "abstain_s.yaml"
    suite.write_text('questions:\n  - {id: q1, question: "Capital \\ud800?", answer: Paris}\n')
    try:
        loaded = load_suite(suite)
    except SuiteError as exc:  # libyaml refuses the escape: a clean error naming the file
        assert str(suite) in str(exc)
    else:  # PyYAML's own parser reads it: the surrogate becomes U+FFFD at load
        assert loaded.questions[0].text == "Capital \ufffd?"


def test_an_output_that_was_a_link_to_a_device_is_replaced_by_a_private_regular_file(
    tmp_path: Path,
) -> None:
    report = tmp_path / "r.json"
    report.symlink_to("/dev/null")  # world-writable: its mode must not be copied
    write_atomic(report, "{}\n")
    assert not report.is_symlink() and report.read_text() == "{}\n"
    assert stat.S_IMODE(report.stat().st_mode) & stat.S_IWOTH == 0
