"""Metric arithmetic against hand-computed values, and the gate checks."""

from __future__ import annotations

import pytest

from pytest_abstain.records import Counts, Grade, QuestionRecord, SuiteInfo
from pytest_abstain.results.scoring import compute_metrics, penalty
from pytest_abstain.results.suites import aggregate, overall_metrics


def test_simpleqa_example_from_the_design() -> None:
    # 22 correct, 26 wrong, 52 abstained of 100 at t = 0.75: 0.22 - 3 * 0.26 = -0.56.
    m = compute_metrics(Counts(correct=22, wrong=26, abstained=52), 0.75)
    assert m.score == pytest.approx(-0.56)
    assert m.error_rate == pytest.approx(0.26)
    assert m.accuracy == pytest.approx(0.22)
    assert m.abstention_rate == pytest.approx(0.52)
    assert m.accuracy_given_attempted == pytest.approx(22 / 48)


def test_the_guessing_model_scores_worse_despite_better_accuracy() -> None:
    careful = compute_metrics(Counts(correct=22, wrong=26, abstained=52), 0.75)
    guesser = compute_metrics(Counts(correct=24, wrong=75, abstained=1), 0.75)
    assert guesser.score == pytest.approx(0.24 - 3 * 0.75)
    assert guesser.accuracy is not None and careful.accuracy is not None
    assert guesser.accuracy > careful.accuracy
    assert guesser.score is not None and careful.score is not None
    assert guesser.score < careful.score


@pytest.mark.parametrize(("t", "cost"), [(0.0, 0.0), (0.5, 1.0), (0.75, 3.0), (0.9, 9.0)])
def test_penalty_is_t_over_one_minus_t(t: float, cost: float) -> None:
    assert penalty(t) == pytest.approx(cost)


def test_errors_are_not_graded() -> None:
    m = compute_metrics(Counts(correct=1, wrong=1, abstained=0, error=8), 0.5)
    assert m.counts.graded == 2 and m.counts.total == 10
    assert m.score == pytest.approx(0.0) and m.error_rate == pytest.approx(0.5)


def test_empty_input_gives_none_not_a_division_error() -> None:
    m = compute_metrics(Counts(), 0.75)
    assert (m.accuracy, m.error_rate, m.abstention_rate, m.score) == (None, None, None, None)
    assert m.accuracy_given_attempted is None
    only_abstained = compute_metrics(Counts(abstained=3), 0.75)
    assert only_abstained.score == 0 and only_abstained.accuracy_given_attempted is None


def _record(key: str, t: float, index: int, grades: list[Grade]) -> QuestionRecord:
    info = SuiteInfo(
        key=key, name=key, threshold=t, samples=len(grades), responder="r", confidence_stated=True
    )
    return QuestionRecord(
        suite=info,
        nodeid=f"{key}::q{index}",
        index=index,
        id=f"q{index}",
        question="?",
        idk=False,
        expected=["x"],
        regex=None,
        tags=[],
        grades=grades,
        replies=["x"] * len(grades),
        errors=[None] * len(grades),
    )


def test_aggregation_is_order_independent_and_pools_each_suite_at_its_t() -> None:
    records = [
        _record("b.yaml", 0.9, 1, ["wrong"]),
        _record("a.yaml", 0.5, 1, ["correct", "wrong"]),
        _record("b.yaml", 0.9, 0, ["correct", "correct"]),
        _record("a.yaml", 0.5, 0, ["abstained"]),
    ]
    results = aggregate(records)
    assert [r.info.key for r in results] == ["a.yaml", "b.yaml"]
    assert [q.id for q in results[1].questions] == ["q0", "q1"]
    assert aggregate(list(reversed(records)))[1].questions == results[1].questions
    a, b = results
    assert a.metrics.score == pytest.approx((1 - 1) / 3)
    assert b.metrics.score == pytest.approx((2 - 9) / 3)
    overall = overall_metrics(results)
    assert overall.counts == Counts(correct=3, wrong=2, abstained=1)
    assert overall.score == pytest.approx((1 - 1 + 2 - 9) / 6)


def test_question_verdict_is_the_worst_sample() -> None:
    assert _record("a", 0.5, 0, ["correct", "wrong"]).verdict == "wrong"
    assert _record("a", 0.5, 0, ["correct", "abstained"]).verdict == "abstained"
    assert _record("a", 0.5, 0, ["correct", "error"]).verdict == "error"
    assert _record("a", 0.5, 0, ["correct"]).verdict == "correct"


def test_sign_flip_p_value_is_exact_where_the_normal_approximation_is_not() -> None:
    from pytest_abstain.results.stats import sign_flip_p_value

    # 12 questions worse by 1 and 4 better by 1: the exact share of sign patterns with a
    # total <= -8 is P(Binomial(16, 1/2) <= 4) = 2517 / 65536.
    p, exact = sign_flip_p_value([-1.0] * 12 + [1.0] * 4)
    assert exact and p == pytest.approx(2517 / 65536)
    assert sign_flip_p_value([0.0, 0.0]) == (1.0, True)
    assert sign_flip_p_value([-1.0]) == (0.5, True)
