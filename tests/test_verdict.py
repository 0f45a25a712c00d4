"""The run's one verdict and the exit status it gives, decided without pytest: the matrix of
stops, run problems, error budgets and pytest's own status."""

from __future__ import annotations

import pytest
from suite_results import suite_result

from pytest_abstain.records import JudgeCase
from pytest_abstain.results.verdict import (
    EXIT_INTERNAL_ERROR,
    EXIT_OK,
    EXIT_TESTS_FAILED,
    EXIT_USAGE_ERROR,
    Verdict,
    decide,
)

#: pytest's own exit codes for an interrupted run and for a run that collected nothing.
INTERRUPTED, NO_TESTS = 2, 5


@pytest.mark.parametrize("pytest_status", [EXIT_OK, EXIT_TESTS_FAILED, INTERRUPTED])
@pytest.mark.parametrize("run_failed", [False, True])
def test_a_stop_is_a_usage_error_whatever_else_happened(
    pytest_status: int, run_failed: bool
) -> None:
    verdict = decide([suite_result("s.yaml", ["error"], max_errors="1")], [], question_errors=1,
                     stopped=True)  # fmt: skip
    assert verdict.stopped and not verdict.passed
    assert verdict.exit_status(pytest_status, 1, run_failed) == EXIT_USAGE_ERROR


def test_a_run_problem_never_passes_and_keeps_a_failure_status() -> None:
    verdict = decide([suite_result("s.yaml", ["correct"])], [])
    assert verdict.passed
    assert verdict.exit_status(EXIT_OK, 0, run_failed=True) == EXIT_INTERNAL_ERROR
    assert verdict.exit_status(EXIT_TESTS_FAILED, 1, run_failed=True) == EXIT_TESTS_FAILED
    assert verdict.exit_status(INTERRUPTED, 0, run_failed=True) == INTERRUPTED
    assert verdict.status(run_failed=True) == "failed" and verdict.status() == "passed"


def test_a_run_problem_forgives_no_question_error() -> None:
    verdict = decide([suite_result("s.yaml", ["correct", "error"], max_errors="1")], [],
                     question_errors=1)  # fmt: skip
    assert verdict.forgiven == 1
    assert verdict.exit_status(EXIT_TESTS_FAILED, 1, run_failed=True) == EXIT_TESTS_FAILED


def test_question_errors_within_every_budget_are_forgiven() -> None:
    results = [
        suite_result("a.yaml", ["correct", "error", "error"], max_errors="2"),
        suite_result("b.yaml", ["correct", "error"], max_errors="50%"),
    ]
    verdict = decide(results, [], question_errors=3)
    assert verdict.passed and verdict.unexcused_errors == () and verdict.forgiven == 3
    assert verdict.exit_status(EXIT_TESTS_FAILED, 3, run_failed=False) == EXIT_OK
    # Any other failed test still fails the run.
    assert verdict.exit_status(EXIT_TESTS_FAILED, 4, run_failed=False) == EXIT_TESTS_FAILED


@pytest.mark.parametrize("budget", [None, "0", "1"])
def test_errors_beyond_a_budget_or_without_one_fail(budget: str | None) -> None:
    results = [
        suite_result("ok.yaml", ["correct", "error"], max_errors="5"),
        suite_result("over.yaml", ["correct", "error", "error"], max_errors=budget),
    ]
    verdict = decide(results, [], question_errors=3)
    assert verdict.unexcused_errors == ("over.yaml",) and not verdict.passed
    assert verdict.forgiven == 0
    assert verdict.exit_status(EXIT_TESTS_FAILED, 3, run_failed=False) == EXIT_TESTS_FAILED


def test_an_incomplete_run_forgives_nothing() -> None:
    # -x after 2 of 6 questions: an error budget cannot excuse what was never gated.
    verdict = Verdict(question_errors=1, complete=False)
    assert verdict.passed and verdict.forgiven == 0
    assert verdict.exit_status(EXIT_TESTS_FAILED, 1, run_failed=False) == EXIT_TESTS_FAILED
    stopped = decide([suite_result("s.yaml", ["correct", "error"], max_errors="1")], [],
                     question_errors=1, complete=False)  # fmt: skip
    assert stopped.forgiven == 0
    assert stopped.exit_status(EXIT_TESTS_FAILED, 1, run_failed=False) == EXIT_TESTS_FAILED


@pytest.mark.parametrize("pytest_status", [EXIT_OK, EXIT_TESTS_FAILED, INTERRUPTED, NO_TESTS])
def test_otherwise_pytest_status_stands(pytest_status: int) -> None:
    verdict = decide([suite_result("s.yaml", ["correct", "wrong"])], [])
    assert verdict.exit_status(pytest_status, 1, run_failed=False) == pytest_status


def test_failed_gates_are_named_with_their_reasons_in_suite_order() -> None:
    results = [
        suite_result("b.yaml", ["wrong", "wrong"], min_score=0.0),
        suite_result("a.yaml", ["correct"], min_score=0.0),
        suite_result("c.yaml", ["wrong", "correct"], max_error_rate=0.1),
        suite_result("d.yaml", ["wrong"]),  # no gate: never fails
    ]
    verdict = decide(results, [])
    assert [key for key, _ in verdict.failed_gates] == ["b.yaml", "c.yaml"]
    # Two questions, both wrong: no spread, so the interval has no width either.
    assert verdict.failed_gates[0][1] == (
        "score -3.000 < min_score 0 (90% interval [-3.000, -3.000])",
    )
    assert verdict.failed_gates[1][1][0].startswith("error_rate 0.500 > max_error_rate 0.1 (")
    assert not verdict.passed and verdict.failed_audits == ()


def test_a_judge_disagreeing_with_a_person_fails_the_verdict() -> None:
    def case(id: str, verdict: str) -> JudgeCase:
        return JudgeCase(id=id, suite="cal.yaml", judge="j", human="wrong", verdict=verdict,
                         rules="correct", error=None)  # fmt: skip

    verdict = decide([], [], judge_cases=[case("agrees", "wrong"), case("not", "correct")])
    assert verdict.disagreements == ("cal.yaml::not",) and not verdict.passed
    assert decide([], [], judge_cases=[case("agrees", "wrong")]).passed


def test_the_verdict_is_frozen() -> None:
    verdict = decide([], [])
    with pytest.raises(AttributeError):
        verdict.stopped = True  # type: ignore[misc]
