"""Floors with intervals (results/floors.py) and the over-refusal floor, on results built in
memory; the plugin's end-to-end runs are in test_family_plugin.py."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from suite_results import suite_result

from pytest_abstain.records import Grade, QuestionRecord, SuiteInfo
from pytest_abstain.results.floors import floor_level, rate_interval
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.sweep import wilson


def with_idk(result: SuiteResult, idk_ids: set[str]) -> SuiteResult:
    """`result` with the named questions marked idk (no answer is known)."""
    questions = [replace(r, idk=r.id in idk_ids) for r in result.questions]
    return replace(result, questions=questions)


def test_point_floors_decide_on_the_estimate_and_show_the_interval() -> None:
    # 6 correct, 2 wrong, 2 abstained at t=0.75: score 0.0, error rate 0.2.
    grades = ["correct"] * 6 + ["wrong"] * 2 + ["abstained"] * 2
    held = suite_result("a.yaml", grades, min_score=0.0, max_error_rate=0.2)
    assert held.failures == []
    assert held.passes[0].startswith("score 0.000 >= min_score 0 (90% interval [")
    assert held.passes[1].startswith("error_rate 0.200 <= max_error_rate 0.2 (90% interval [")
    failed = suite_result("a.yaml", grades, min_score=0.1, max_error_rate=0.1)
    assert [r.split(" (")[0] for r in failed.failures] == [
        "score 0.000 < min_score 0.1",
        "error_rate 0.200 > max_error_rate 0.1",
    ]
    assert failed.verdict == "failed" and failed.warnings == []


def test_no_graded_reply_fails_a_floor() -> None:
    result = suite_result("a.yaml", ["error"] * 3, min_score=0.0, max_errors="3")
    (reason,) = result.failures
    assert reason.startswith("no graded replies: nothing to compare with the gates")


def test_the_interval_is_at_one_minus_twice_the_significance() -> None:
    assert floor_level(0.05) == pytest.approx(0.9)
    result = suite_result(
        "a.yaml", ["wrong"] + ["correct"] * 9, max_error_rate=0.5, significance=0.1
    )
    (check,) = result.floor_checks()
    assert check.level == pytest.approx(0.8) and "80% interval" in check.describe()


def test_an_interval_floor_fails_only_when_the_whole_interval_is_past_it() -> None:
    # 30 of 100 wrong: far above 0.1, but within noise of 0.27.
    grades = ["wrong"] * 30 + ["correct"] * 70
    clear = suite_result("a.yaml", grades, max_error_rate=0.1, floor="interval")
    assert clear.verdict == "failed"
    assert clear.failures[0].endswith("all of it above)")
    near = suite_result("a.yaml", grades, max_error_rate=0.27, floor="interval")
    assert near.verdict == "passed" and near.failures == []
    (warning,) = near.warnings
    assert warning.startswith("error_rate 0.300 > max_error_rate 0.27, but its 90% interval")
    assert warning.endswith("straddles it: not failed (floor: interval)")
    # The same figures under a point floor fail: that is the flap an interval floor stops.
    assert replace(near, info=replace(near.info, floor="point")).verdict == "failed"


def test_an_interval_floor_warns_on_the_good_side_of_the_floor_too() -> None:
    grades = ["wrong"] * 24 + ["correct"] * 76
    below = suite_result("a.yaml", grades, max_error_rate=0.27, floor="interval")
    assert below.verdict == "passed" and len(below.warnings) == 1
    assert below.warnings[0].startswith("error_rate 0.240 <= max_error_rate 0.27, but")


def test_an_interval_min_score_fails_when_the_whole_interval_is_below() -> None:
    grades = ["wrong"] * 50 + ["correct"] * 50  # score (50 - 150) / 100 = -1.0 at t=0.75
    low = suite_result("a.yaml", grades, min_score=0.5, floor="interval")
    assert low.failures[0].startswith("score -1.000 < min_score 0.5")
    assert low.failures[0].endswith("all of it below)")
    near = suite_result("a.yaml", grades, min_score=-0.8, floor="interval")
    assert near.verdict == "passed" and near.warnings


def test_rate_interval_with_one_reply_per_question_is_about_wilson() -> None:
    shares = [1.0] * 12 + [0.0] * 38
    ours = rate_interval(shares, 50, 0.95)
    theirs = wilson(12, 50)
    assert ours is not None and theirs is not None
    assert ours.low == pytest.approx(theirs.low, abs=0.01)
    assert ours.high == pytest.approx(theirs.high, abs=0.01)


def test_rate_interval_counts_agreeing_samples_as_one_question() -> None:
    # 3 samples per question: all three agree (as replies to one question mostly do) or
    # are spread evenly; agreeing samples carry less information, so the interval is wider.
    agreeing = rate_interval([1.0] * 10 + [0.0] * 40, 150, 0.9)
    spread = rate_interval([1 / 3] * 30 + [0.0] * 20, 150, 0.9)
    assert agreeing is not None and spread is not None
    assert agreeing.high - agreeing.low > spread.high - spread.low


def test_rate_interval_of_no_error_still_has_width() -> None:
    interval = rate_interval([0.0] * 20, 60, 0.9)
    assert interval is not None and interval.low == 0.0 and interval.high > 0.05
    assert rate_interval([], 0, 0.9) is None


def test_rate_interval_covers_the_true_rate_at_its_level() -> None:
    rng = random.Random(7)
    covered = 0
    runs = 400
    for _ in range(runs):
        shares = [sum(rng.random() < 0.2 for _ in range(3)) / 3 for _ in range(60)]
        interval = rate_interval(shares, 180, 0.9)
        assert interval is not None
        covered += interval.low <= 0.2 <= interval.high
    assert 0.85 <= covered / runs <= 0.96


def abstaining(grades: list[str], idk: int) -> SuiteResult:
    """Ten answerable questions with `grades`, then `idk` questions with no known answer,
    all abstained on; over-refusal gated at 0.3."""
    result = suite_result("a.yaml", [*grades, *(["abstained"] * idk)], max_abstention_rate=0.3)
    return with_idk(result, {f"q{i}" for i in range(len(grades), len(grades) + idk)})


def test_an_always_abstaining_model_fails_the_over_refusal_floor() -> None:
    result = abstaining(["abstained"] * 10, idk=5)
    assert result.metrics.score == 0 and result.metrics.error_rate == 0
    assert result.answerable_abstention_rate == 1.0
    assert result.verdict == "failed"
    assert result.failures[0].startswith(
        "abstention_rate (answerable) 1.000 > max_abstention_rate 0.3"
    )


def test_a_calibrated_model_passes_the_over_refusal_floor() -> None:
    # It abstains on every idk question (right) and on 2 of 10 answerable ones.
    result = abstaining(["correct"] * 8 + ["abstained"] * 2, idk=5)
    assert result.metrics.abstention_rate == pytest.approx(7 / 15)
    assert result.answerable_abstention_rate == pytest.approx(0.2)
    assert result.verdict == "passed"
    assert result.passes[0].startswith(
        "abstention_rate (answerable) 0.200 <= max_abstention_rate 0.3"
    )


def test_over_refusal_without_an_answerable_question_is_said_not_checked() -> None:
    result = abstaining([], idk=4)
    assert result.verdict == "passed"
    assert result.passes == ["max_abstention_rate: no question with a known answer was graded"]


PER_QUESTION: list[list[Grade]] = [
    ["abstained", "abstained", "correct"],
    ["abstained", "correct", "correct"],
]


def test_over_refusal_counts_samples_per_question() -> None:
    info = SuiteInfo(
        key="a.yaml", name="a", threshold=0.75, samples=3, responder="m",
        confidence_stated=True, max_abstention_rate=0.5,
    )  # fmt: skip
    records = [
        QuestionRecord(
            suite=info,
            nodeid=f"a::{i}",
            index=i,
            id=f"q{i}",
            question="?",
            idk=False,
            expected=["x"],
            regex=None,
            tags=[],
            grades=grades,
            replies=[],
            errors=[None] * 3,
        )
        for i, grades in enumerate(PER_QUESTION)
    ]
    result = SuiteResult(info, records)
    assert result.answerable_abstention_rate == pytest.approx(0.5)
    assert result.verdict == "passed"
