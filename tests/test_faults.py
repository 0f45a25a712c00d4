"""Faults end to end: each failure class lands in the error bucket with its reason, retries
recover transient ones, the error budget decides the exit status, and a run that cannot
work stops with one message."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from direct_run import answering, run_suite
from openai_server import FakeOpenAI, Fault

from pytest_abstain.render.terminal import render
from pytest_abstain.results.suites import overall_metrics
from pytest_abstain.results.verdict import Verdict, decide

SUITE = """
name: tiny
questions:
  - id: capital
    question: What is the capital of France?
    answer: Paris
  - id: symbol
    question: What is the chemical symbol for gold?
    answer: Au
  - id: birthday
    question: What is Adam Kalai's birthday?
    idk: true
  - id: sides
    question: How many sides does a hexagon have?
    answer: 6
"""

REPLIES = {
    "capital of France": "Paris.",
    "symbol for gold": "Au.",
    "birthday": "I don't know.",
    "hexagon": "Six.",
}


def args(server: FakeOpenAI, *extra: str) -> list[str]:
    return [
        "--abstain-model", "fake-model", "--abstain-base-url", server.base_url,
        "--abstain-backoff", "0.01", "--abstain-timeout", "2", "--abstain-report", "r.json",
        *extra,
    ]  # fmt: skip


@pytest.fixture
def tiny(pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str) -> FakeOpenAI:
    pytester.makefile(".yaml", abstain_tiny=SUITE)
    openai_server.replies = dict(REPLIES)
    return openai_server


def report(pytester: pytest.Pytester) -> Any:
    return json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))


def question(data: Any, qid: str) -> Any:
    (suite,) = data["suites"]
    (found,) = [q for q in suite["questions"] if q["id"] == qid]
    return found


# One scenario per failure class: the question is an error with the reason, never a grade.
FAILURES = [
    (Fault(400, "no such parameter"), "HTTP 400 from http://127.0.0.1:*/v1: no such parameter"),
    (Fault(401, "Incorrect API key"), "HTTP 401 from http://127.0.0.1:*/v1: Incorrect API key"),
    (Fault(403, "not allowed"), "HTTP 403 from * not allowed"),
    (Fault(404, "no such model"), "HTTP 404 from * no such model"),
    (Fault(422, "unprocessable"), "HTTP 422 from * unprocessable"),
    # A 429 is retried against --abstain-rate-limit-wait, not the count.
    (Fault(429, "slow down", retry_after=0),
     "HTTP 429 from * slow down; still rate-limited after *s of waiting "
     "(--abstain-rate-limit-wait) (after * attempts)"),
    (Fault(500, "exploded"), "HTTP 500 from * exploded (after 3 attempts)"),
    (Fault(503, "overloaded"), "HTTP 503 from * overloaded (after 3 attempts)"),
    (Fault(kind="drop"), "cannot connect to http://127.0.0.1:*/v1: * (after 3 attempts)"),
    (Fault(kind="garbage"), "malformed response from *: body is not JSON (after 3 attempts)"),
    (Fault(kind="hang", hang=4),
     "no reply within 1.5s from *; * lower --abstain-concurrency or raise --abstain-timeout "
     "(now 1.5s) (after 3 attempts)"),
    (Fault(kind="no_choices"), "the endpoint returned no choices (*) (after 3 attempts)"),
    (Fault(kind="refusal", message="I can't help"), "the model refused: I can't help"),
    (Fault(kind="filtered"), "the reply was withheld by the endpoint's content filter"),
    (Fault(kind="empty"), "the endpoint returned an empty reply"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("fault", "message"), FAILURES, ids=[f"{f.kind}-{f.status}" for f, _ in FAILURES]
)
def test_each_failure_class_is_an_error_with_its_reason(
    pytester: pytest.Pytester, tiny: FakeOpenAI, fault: Fault, message: str
) -> None:
    tiny.faults = {"hexagon": fault}
    # Only the hang may time out: the others get a timeout no loaded machine reaches (a
    # first attempt that timed out would be retried and change what this test counts).
    timeout = "1.5" if fault.kind == "hang" else "30"
    result = pytester.runpytest(
        *args(tiny, "--abstain-retries", "2", "--abstain-timeout", timeout),
        *("--abstain-rate-limit-wait", "0.5"),
    )
    assert result.ret == 1
    assert result.parseoutcomes() == {"correct": 2, "abstained": 1, "errors": 1}
    result.stdout.fnmatch_lines(
        [
            "*no reply for 'sides' from fake-model (1 of 1 samples); not scored:",
            f"*sample 1: {message}",
            "  replies 4: correct 2, wrong 0, abstained 1, no reply 1",
        ]
    )
    sides = question(report(pytester), "sides")
    assert sides["grade"] == "error" and sides["grades"] == ["error"]
    transient = "after 3 attempts" in message
    hexagon = [r for r in tiny.requests if "hexagon" in r["messages"][-1]["content"]]
    if fault.kind == "hang":
        result.stdout.fnmatch_lines(["*1 reply timed out: *--abstain-concurrency*"])
    else:
        assert "timed out:" not in result.stdout.str()
    if fault.status == 429 and fault.kind == "status":
        assert len(hexagon) > 3  # waited out for its time, not stopped by the count
    else:
        assert len(hexagon) == (3 if transient else 1)


def test_transient_failures_are_retried_and_the_retries_reported(
    pytester: pytest.Pytester, tiny: FakeOpenAI
) -> None:
    tiny.faults = {
        "hexagon": Fault(503, "busy", times=2),
        "gold": Fault(429, "slow down", retry_after=0.01, times=1),
    }
    result = pytester.runpytest(*args(tiny))
    assert result.ret == 0
    assert result.parseoutcomes() == {"correct": 3, "abstained": 1}
    result.stdout.fnmatch_lines(
        ["  retries: 2 requests asked again (3 more attempts) after a transient failure*"]
    )
    data = report(pytester)
    assert data["suites"][0]["usage"]["retries"] == 3
    assert question(data, "sides")["retries"] == 2 and question(data, "symbol")["retries"] == 1


def test_errors_within_the_budget_show_but_do_not_fail_the_run(
    pytester: pytest.Pytester, tiny: FakeOpenAI
) -> None:
    tiny.faults = {"hexagon": Fault(400, "bad request")}
    result = pytester.runpytest(*args(tiny, "--abstain-max-errors", "1"))
    assert result.ret == 0
    assert result.parseoutcomes() == {"correct": 2, "abstained": 1, "errors": 1, "passed": 1}
    result.stdout.fnmatch_lines(
        [
            "*sample 1: HTTP 400 from *: bad request",
            "  gate passed: errors 1 of 4 replies <= max_errors 1",
            "1 question could not be answered (shown as errors above), within the suites' "
            "error budgets (max_errors): the run passes",
        ]
    )
    data = report(pytester)
    assert data["suites"][0]["gates"]["max_errors"] == "1"
    assert data["verdict"] == "passed"  # as the exit code says


@pytest.mark.parametrize(
    ("other", "extra"),
    [
        ("def test_broken():\n    assert False\n", []),
        ("def test_broken(:\n", ["--continue-on-collection-errors"]),
    ],
    ids=["failing-test", "collection-error"],
)
def test_a_budget_does_not_excuse_other_failures(
    pytester: pytest.Pytester, tiny: FakeOpenAI, other: str, extra: list[str]
) -> None:
    tiny.faults = {"hexagon": Fault(400, "bad request")}
    pytester.makepyfile(test_other=other)
    result = pytester.runpytest(*args(tiny, "--abstain-max-errors", "50%", *extra))
    assert result.ret == 1
    assert report(pytester)["verdict"] == "passed"  # the questions alone pass


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_a_wrong_key_stops_the_asking_with_one_message_and_the_unit_tests_still_run(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str, workers: list[str]
) -> None:
    questions = "\n".join(
        f"  - {{id: q{i}, question: 'Question number {i}?', idk: true}}" for i in range(100)
    )
    pytester.makefile(
        ".yaml", abstain_many=f"gates: {{max_error_rate: 0.5}}\nquestions:\n{questions}\n"
    )
    pytester.makepyfile(test_unit="def test_arithmetic():\n    assert 1 + 1 == 2\n")
    openai_server.faults = {"*": Fault(401, "Incorrect API key provided")}
    openai_server.latency = 0.02
    result = pytester.runpytest(*args(openai_server, "--abstain-concurrency", "4", *workers))
    # Exit 4 (the set-up is at fault) in a plain run and under xdist alike.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    outcomes = result.parseoutcomes()
    # The repo's own test ran; every question is an error, and the suite's gate failed.
    assert outcomes["passed"] == 1
    assert (outcomes["errors"], outcomes["failed"]) == (100, 1)
    out = result.stdout.str() + result.stderr.str()
    assert out.count("stopped early: the first 5 replies all failed the same way") == 1, out
    assert "Incorrect API key provided" in out
    # Each process stops after five identical failures, plus what was already in flight.
    assert len(openai_server.requests) <= (5 + 4) * max(1, len(workers))
    questions_reported = report(pytester)["suites"][0]["questions"]
    assert report(pytester)["verdict"] == "failed"
    assert all(q["grade"] == "error" for q in questions_reported)
    assert sum("not asked" in str(q) for q in questions_reported) >= 100 - len(
        openai_server.requests
    )


def test_under_xdist_the_stop_counts_every_workers_replies(
    pytester: pytest.Pytester,
    openai_server: FakeOpenAI,
    api_key: str,
    tmp_path_factory: pytest.TempPathFactory,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two workers with four failures each: neither alone reaches five, the run does."""
    # The controller's stop file goes to the temporary folder: this run's own, to see that
    # it is gone afterwards.
    temporary = tmp_path_factory.mktemp("tempdir")
    monkeypatch.setattr(tempfile, "tempdir", str(temporary))
    questions = "\n".join(
        f"  - {{id: q{i}, question: 'Question number {i}?', idk: true}}" for i in range(8)
    )
    pytester.makefile(".yaml", abstain_few=f"questions:\n{questions}\n")
    openai_server.faults = {"*": Fault(401, "Incorrect API key provided")}
    result = pytester.runpytest(
        *args(openai_server, "--abstain-concurrency", "1", "-n", "2", "--dist", "loadfile")
    )
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "stopped early" in result.stdout.str()
    assert not [p for p in temporary.iterdir() if p.name.startswith("abstain")]


# --- error budgets without pytest (tests/direct_run.py): the gate line and the verdict --------


def bad_request_on_the_hexagon(prompt: str) -> str:
    if "hexagon" in prompt:
        raise ValueError("bad request")
    return answering(REPLIES)(prompt)


def budgeted(tmp_path: Path, suite: str = SUITE, **cli: object) -> tuple[list[str], Verdict]:
    """The suite answered with one error: the summary's lines and the verdict."""
    path = tmp_path / "abstain_tiny.yaml"
    path.write_text(suite, encoding="utf-8")
    results = run_suite(path, bad_request_on_the_hexagon, cli=cli)
    assert results[0].counts.error == 1
    lines = [text for text, _ in render(results, overall_metrics(results), 0)]
    return lines, decide(results, [], question_errors=1)


def test_errors_beyond_the_budget_fail_the_gate(tmp_path: Path) -> None:
    # 10% of 4 replies allows none.
    lines, verdict = budgeted(tmp_path, max_errors="10%")
    pytest.LineMatcher(lines).fnmatch_lines(["*errors 1 of 4 replies > max_errors 10%*"])
    assert verdict.unexcused_errors == ("abstain_tiny.yaml",) and verdict.failed_gates
    # Not forgiven: no "the run passes" line, and the failed question and gate fail the run.
    assert verdict.forgiven == 0
    assert verdict.exit_status(1, 2, run_failed=False) == 1


def test_a_suite_sets_its_own_error_budget(tmp_path: Path) -> None:
    suite = 'gates: {max_errors: "25%"}\n' + SUITE
    lines, verdict = budgeted(tmp_path, suite)
    pytest.LineMatcher(lines).fnmatch_lines(
        ["  gate passed: errors 1 of 4 replies <= max_errors 25%"]
    )
    assert verdict.passed and verdict.exit_status(1, 1, run_failed=False) == 0
    # The command line still wins over the suite.
    _, stricter = budgeted(tmp_path, suite, max_errors="0")
    assert not stricter.passed and stricter.exit_status(1, 2, run_failed=False) == 1
