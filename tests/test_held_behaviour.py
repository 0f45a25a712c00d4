"""Behaviour that mutations of the code once changed without any test noticing (issue 14):
each test here fails when its mutation is put back."""

from __future__ import annotations

import json

import pytest
from openai_server import FakeOpenAI, Fault

from pytest_abstain.records import Counts, Grade, QuestionRecord, SuiteInfo
from pytest_abstain.results.baseline import BaselineQuestion, BaselineSuite
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.suites import SuiteResult, leaderboard


def suite_result(
    key: str,
    grades: dict[str, Grade],
    *,
    size: int,
    responder: str = "m",
    paired: str | None = None,
) -> SuiteResult:
    info = SuiteInfo(key=key, name=key, threshold=0.75, samples=1, responder=responder,
                     confidence_stated=True, size=size, side_by_side=paired)  # fmt: skip
    result = SuiteResult(info)
    for index, (qid, grade) in enumerate(grades.items()):
        record = QuestionRecord(
            suite=info, nodeid=f"{key}::{qid}", index=index, id=qid, question=f"{qid}?",
            idk=False, expected=["A"], regex=None, tags=[], grades=[grade],
            replies=["A"], errors=[None],
        )  # fmt: skip
        result.questions.append(record)
    return result


def test_questions_a_partial_run_did_not_ask_are_not_run_not_removed() -> None:
    # Mutation: the partial-run branch dropped, so a `-k` run lists every unasked question as
    # removed from the suite.
    base = BaselineSuite(
        name="s", threshold=0.75, samples=1, produced_by={},
        questions={q: BaselineQuestion(Counts(correct=1)) for q in ("q1", "q2", "q3", "q4")},
    )  # fmt: skip
    partial = compare_suite(suite_result("s", {"q1": "correct"}, size=4), base, 10)
    assert partial.removed == [] and partial.not_run == ["q2", "q3", "q4"]
    whole = compare_suite(
        suite_result("s", {"q1": "correct", "q2": "correct"}, size=2), base, 10
    )  # the suite now declares two questions: the other two were removed
    assert whole.removed == ["q3", "q4"] and whole.not_run == []


def test_the_leaderboard_pools_only_suites_every_model_answered() -> None:
    # Mutation: suites asked of one model only (questions declared in Python) pooled too.
    results = [
        suite_result("a[m1]", {"q1": "correct"}, size=1, responder="m1", paired="a"),
        suite_result("a[m2]", {"q1": "correct"}, size=1, responder="m2", paired="a"),
        # Asked of m1 alone: counting it would rank m1 below m2.
        suite_result("b[m1]", {"q1": "wrong"}, size=1, responder="m1", paired="b"),
    ]
    board = {name: (metrics, by_score) for name, metrics, by_score, _ in leaderboard(results)}
    assert board["m1"][1] == board["m2"][1] == 1
    assert board["m1"][0].counts == Counts(correct=1)


def test_an_error_budget_does_not_pass_a_run_that_x_stopped(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    # Mutation: the budget excusing errors of a run that -x cut short, which then exited 0
    # "passed" after asking 2 of 6 questions.
    questions = "\n".join(f"  - {{id: q{i}, question: 'Q{i}?', idk: true}}" for i in range(6))
    pytester.makefile(".yaml", abstain_b=f"gates: {{max_errors: 5}}\nquestions:\n{questions}\n")
    openai_server.faults = {"Q1?": Fault(500, "internal error")}
    result = pytester.runpytest(
        "-x", "-p", "no:randomly", "--abstain-model", "m", "--abstain-base-url",
        openai_server.base_url, "--abstain-retries", "0", "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret != pytest.ExitCode.OK
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "failed"
    assert report["suites"][0]["verdict"] == "not evaluated"


def test_xdist_workers_ask_ahead_for_the_questions_queued_to_them(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    # Mutation: workers asked only for the question pytest was running (peak in flight 9 -> 2).
    questions = "\n".join(f"  - {{id: q{i}, question: 'Q{i}?', idk: true}}" for i in range(40))
    pytester.makefile(".yaml", abstain_many=f"questions:\n{questions}\n")
    openai_server.latency = 0.3  # replies overlap, whatever the machine's speed
    result = pytester.runpytest_subprocess(
        "-n", "2", "-p", "no:randomly", "--abstain-model", "m", "--abstain-base-url",
        openai_server.base_url, "--abstain-concurrency", "8",
    )  # fmt: skip
    assert result.ret == 0
    # Two workers running one question each would keep at most 2 requests in flight.
    assert openai_server.peak_in_flight > 2
