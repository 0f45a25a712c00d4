"""Verbal confidence: reply parsing, the response format, risk–coverage and calibration."""

from __future__ import annotations

import math

import jsonschema
import pytest

from pytest_abstain.grading.verbal_confidence import (
    INSTRUCTION,
    REPLY_SCHEMA,
    StatedReply,
    parse_reply,
    response_format,
)
from pytest_abstain.results.risk_coverage import (
    CalibrationBin,
    calibration,
    default_thresholds,
    risk_coverage,
)

# --- the schema and the request --------------------------------------------------------------


def test_reply_schema_is_strict_mode_shaped() -> None:
    jsonschema.Draft202012Validator.check_schema(REPLY_SCHEMA)
    assert REPLY_SCHEMA["type"] == "object"
    assert REPLY_SCHEMA["additionalProperties"] is False
    # Strict mode wants every property required.
    assert sorted(REPLY_SCHEMA["required"]) == sorted(REPLY_SCHEMA["properties"])
    assert REPLY_SCHEMA["properties"]["answer"]["type"] == "string"
    confidence = REPLY_SCHEMA["properties"]["confidence"]
    assert (confidence["type"], confidence["minimum"], confidence["maximum"]) == ("number", 0, 1)


def test_response_format_shape() -> None:
    assert response_format() == {
        "type": "json_schema",
        "json_schema": {"name": "abstain_reply", "strict": True, "schema": REPLY_SCHEMA},
    }


def test_response_format_is_a_fresh_copy() -> None:
    first = response_format()
    first["json_schema"]["schema"]["properties"]["confidence"]["maximum"] = 100
    assert REPLY_SCHEMA["properties"]["confidence"]["maximum"] == 1
    assert response_format()["json_schema"]["schema"]["properties"]["confidence"]["maximum"] == 1


def test_instruction_names_both_keys_and_the_abstention() -> None:
    assert '"answer"' in INSTRUCTION
    assert '"confidence"' in INSTRUCTION
    assert "I don't know" in INSTRUCTION
    assert "from 0 to 1" in INSTRUCTION


# --- parse_reply: JSON -----------------------------------------------------------------------


def test_valid_json() -> None:
    assert parse_reply('{"answer": "Paris", "confidence": 0.9}') == StatedReply(
        "Paris", 0.9, None, True
    )


def test_integer_confidence_is_a_number() -> None:
    reply = parse_reply('{"answer": "Paris", "confidence": 1}')
    assert reply.confidence == 1.0
    assert isinstance(reply.confidence, float)


@pytest.mark.parametrize(
    "text",
    [
        '```json\n{"answer": "Paris", "confidence": 0.9}\n```',
        '```\n{"answer": "Paris", "confidence": 0.9}\n```',
        '  ```JSON\n{"answer": "Paris", "confidence": 0.9}```  ',
    ],
)
def test_fenced_json(text: str) -> None:
    assert parse_reply(text) == StatedReply("Paris", 0.9, None, True)


def test_json_embedded_in_prose() -> None:
    text = 'Sure. Here is my reply:\n{"answer": "Paris", "confidence": 0.8}\nHope that helps!'
    assert parse_reply(text) == StatedReply("Paris", 0.8, None, True)


def test_braces_and_quotes_inside_json_strings() -> None:
    text = 'Note: {"answer": "use {x} and \\"}\\" here", "confidence": 0.5} done'
    assert parse_reply(text) == StatedReply('use {x} and "}" here', 0.5, None, True)


def test_stray_brace_and_quote_in_prose_before_the_object() -> None:
    text = 'I think {maybe "x} then {"answer": "Oslo", "confidence": 0.5}'
    assert parse_reply(text) == StatedReply("Oslo", 0.5, None, True)


def test_prose_json_without_reply_keys_is_not_the_reply() -> None:
    text = 'My config is {"a": 1}. Then {"answer": "Rome", "confidence": 0.4}'
    assert parse_reply(text) == StatedReply("Rome", 0.4, None, True)


def test_reply_nested_in_a_broken_object() -> None:
    text = '{"meta": {"answer": "Rome", "confidence": 0.4}, oops}'
    assert parse_reply(text) == StatedReply("Rome", 0.4, None, True)


def test_long_answer_inside_long_prose() -> None:
    answer = "y" * 5000
    text = "x" * 3000 + ' {"answer": "' + answer + '", "confidence": 0.25} tail'
    assert parse_reply(text) == StatedReply(answer, 0.25, None, True)


def test_many_object_starts_parse_quickly() -> None:
    # Each '{"' is a possible object that fails at once; handing the parser the whole text at
    # each made this take about 7 s (its error counts every line before the failure).
    reply = parse_reply('{"' * 150_000)
    assert reply.problem == "no confidence stated"


def test_nesting_past_the_recursion_limit_is_not_a_reply() -> None:
    reply = parse_reply('{"a": ' * 100_000 + "Confidence: 0.4")
    assert reply.confidence == 0.4
    assert reply.structured is False


@pytest.mark.parametrize(
    ("text", "answer", "problem"),
    [
        (
            '{"answer": "Paris", "confidence": 1.7}',
            "Paris",
            "confidence: 1.7 is greater than the maximum of 1",
        ),
        (
            '{"answer": "Paris", "confidence": -0.1}',
            "Paris",
            "confidence: -0.1 is less than the minimum of 0",
        ),
        (
            '{"answer": "Paris", "confidence": "high"}',
            "Paris",
            "confidence: 'high' is not of type 'number'",
        ),
        ('{"answer": "Paris"}', "Paris", "missing key 'confidence'"),
        (
            '{"answer": "Paris", "confidence": 0.5, "reason": "capital"}',
            "Paris",
            "unknown key 'reason' (allowed: answer, confidence)",
        ),
        # A number stands as written: never the whole text, whose confidence digits would
        # match a numeric expected answer.
        ('{"answer": 2, "confidence": 1}', "2", "answer: 2 is not of type 'string'"),
        (
            '{"answer": "Paris", "confidence": NaN}',
            "Paris",
            "confidence: NaN is not a finite number",
        ),
        (
            '{"answer": "Paris", "confidence": Infinity}',
            "Paris",
            "confidence: Infinity is not a finite number",
        ),
        (
            '{"answer": "Paris", "confidence": true}',
            "Paris",
            "confidence: True is not of type 'number'",
        ),
        # No answer: nothing to grade (the plugin makes that reply an error).
        ("{}", "", "missing key 'answer'; missing key 'confidence'"),
    ],
)
def test_invalid_json_object(text: str, answer: str, problem: str) -> None:
    assert parse_reply(text) == StatedReply(answer, None, problem, True)


def test_all_problems_are_listed() -> None:
    reply = parse_reply('{"answer": ["a"], "confidence": "high"}')
    assert reply.problem == (
        "answer: ['a'] is not of type 'string'; confidence: 'high' is not of type 'number'"
    )


def test_a_huge_bad_value_is_clipped_in_the_problem() -> None:
    reply = parse_reply('{"answer": "Paris", "confidence": "' + "z" * 10_000 + '"}')
    assert reply.problem is not None
    assert len(reply.problem) < 300
    assert reply.problem.startswith("confidence: 'zzz")


# --- parse_reply: plain text -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "answer", "confidence"),
    [
        ("Paris\nConfidence: 0.8", "Paris", 0.8),
        ("Paris\nconfidence: 80%", "Paris", 0.8),
        ("Paris (confidence 0.65)", "Paris", 0.65),
        ("It is Paris. I am 90% confident.", "It is Paris", 0.9),
        ("Paris, I'm 75 percent sure", "Paris", 0.75),
        ("Paris with 90% confidence", "Paris", 0.9),
        ("Answer: Paris\nConfidence: 0.7\nParis has been the capital since 987.", "Paris", 0.7),
        ("**Answer:** Paris\n**Confidence:** 0.7", "Paris", 0.7),
        ("My confidence is 0.3. Answer: Oslo", "Oslo", 0.3),
        # Cut-off JSON is not an object; its answer key is still read.
        ('{"answer": "Paris", "confidence": 0.9', "Paris", 0.9),
    ],
)
def test_confidence_stated_in_text(text: str, answer: str, confidence: float) -> None:
    reply = parse_reply(text)
    assert (reply.answer, reply.problem, reply.structured) == (answer, None, False)
    assert reply.confidence == pytest.approx(confidence)


def test_the_last_text_statement_wins() -> None:
    reply = parse_reply("Confidence: 0.2\nAnswer: Bern\nOn reflection, confidence: 0.6")
    assert reply == StatedReply("Bern", 0.6, None, False)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (
            "Paris\nConfidence: 80",
            "stated confidence 80 is outside [0, 1] (write 80% for a percentage)",
        ),
        ("Paris\nConfidence: 150%", "stated confidence 150% is outside [0, 1]"),
        ("Paris\nConfidence: -0.2", "stated confidence -0.2 is outside [0, 1]"),
    ],
)
def test_text_confidence_out_of_range_is_a_problem_not_clamped(text: str, problem: str) -> None:
    assert parse_reply(text) == StatedReply("Paris", None, problem, False)


@pytest.mark.parametrize("text", ["Paris", "  The capital is Paris, I think.  ", ""])
def test_no_confidence_at_all(text: str) -> None:
    assert parse_reply(text) == StatedReply(text.strip(), None, "no confidence stated", False)


def test_a_json_value_that_is_not_an_object_is_text() -> None:
    assert parse_reply("0.8") == StatedReply("0.8", None, "no confidence stated", False)


# --- risk–coverage ---------------------------------------------------------------------------

# Six counted replies, plus three that must not count:
#   1 correct 0.95   2 correct 0.8   3 wrong 0.9   4 wrong 0.6   5 correct 0.5   6 abstained 0.3
#   (error 0.99, wrong without confidence, correct without confidence: excluded), so n = 6.
# t = 0:    all answer: 3 correct, 2 wrong, answered 5; coverage 5/6; error rate 2/6;
#           score (3 - 0*2)/6 = 0.5; risk 2/5 = 0.4.
# t = 0.5:  penalty 1; every answered reply has >= 0.5 (reply 5 states exactly 0.5 and answers):
#           3 correct, 2 wrong; score (3 - 2)/6 = 0.1667; risk 0.4.
# t = 0.75: penalty 3; replies 1, 2, 3 answer: 2 correct, 1 wrong, answered 3; coverage 0.5;
#           error rate 1/6 = 0.1667; score (2 - 3)/6 = -0.1667; risk 1/3.
# t = 0.9:  penalty 9; replies 1 and 3 (exactly 0.9) answer: 1 correct, 1 wrong; coverage 1/3;
#           error rate 0.1667; score (1 - 9)/6 = -1.3333; risk 0.5.
# t = 0.99: nobody answers: score 0, coverage 0, error rate 0, risk None.
GRADES = [
    "correct",
    "correct",
    "wrong",
    "wrong",
    "correct",
    "abstained",
    "error",
    "wrong",
    "correct",
]
CONFIDENCES: list[float | None] = [0.95, 0.8, 0.9, 0.6, 0.5, 0.3, 0.99, None, None]


def test_risk_coverage_against_a_hand_computed_example() -> None:
    points = risk_coverage(GRADES, CONFIDENCES, [0.0, 0.5, 0.75, 0.9, 0.99])
    counts = [(p.threshold, p.replies, p.answered, p.correct, p.wrong) for p in points]
    assert counts == [
        (0.0, 6, 5, 3, 2),
        (0.5, 6, 5, 3, 2),
        (0.75, 6, 3, 2, 1),
        (0.9, 6, 2, 1, 1),
        (0.99, 6, 0, 0, 0),
    ]
    assert [p.coverage for p in points] == pytest.approx([0.8333333, 0.8333333, 0.5, 0.3333333, 0])
    assert [p.score for p in points] == pytest.approx([0.5, 0.1666667, -0.1666667, -1.3333333, 0])
    assert [p.error_rate for p in points] == pytest.approx(
        [0.3333333, 0.3333333, 0.1666667, 0.1666667, 0]
    )
    assert [p.risk for p in points[:4]] == pytest.approx([0.4, 0.4, 0.3333333, 0.5])
    assert points[4].risk is None


def test_risk_coverage_keeps_the_threshold_order_given() -> None:
    points = risk_coverage(GRADES, CONFIDENCES, [0.9, 0.0])
    assert [(p.threshold, p.answered) for p in points] == [(0.9, 2), (0.0, 5)]


def test_replies_without_confidence_or_with_errors_do_not_count() -> None:
    points = risk_coverage(["error", "wrong", "correct"], [0.9, None, 0.7], [0.5])
    assert [(p.replies, p.answered, p.correct, p.wrong) for p in points] == [(1, 1, 1, 0)]
    assert points[0].score == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("grades", "confidences"),
    [([], []), (["error", "correct", "abstained"], [0.9, None, None])],
)
def test_risk_coverage_is_empty_without_counted_replies(
    grades: list[str], confidences: list[float | None]
) -> None:
    assert risk_coverage(grades, confidences, [0.0, 0.5]) == []


@pytest.mark.parametrize("threshold", [1.0, -0.1, 1.5, math.nan])
def test_risk_coverage_refuses_a_threshold_outside_0_1(threshold: float) -> None:
    with pytest.raises(ValueError, match=r"confidence target must be in \[0, 1\)"):
        risk_coverage(["correct"], [0.9], [0.5, threshold])
    # Even with nothing to count: a bad threshold is a caller's bug either way.
    with pytest.raises(ValueError, match="confidence target"):
        risk_coverage([], [], [threshold])


@pytest.mark.parametrize(
    ("grades", "confidences", "message"),
    [
        (["correct", "wrong"], [0.9], "2 grades but 1 confidences"),
        (["right"], [0.9], "unknown grade 'right'"),
        (["correct"], [1.5], r"stated confidence must be in \[0, 1\], got 1.5"),
        (["wrong"], [math.nan], "stated confidence must be in"),
    ],
)
def test_risk_coverage_refuses_bad_input(
    grades: list[str], confidences: list[float | None], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        risk_coverage(grades, confidences, [0.5])


def test_default_thresholds() -> None:
    # Exact literals on purpose: 0.05 * 3 is 0.15000000000000002, the grid must not drift.
    grid: tuple[float, ...] = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5)
    grid += (0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
    assert default_thresholds(None) == grid
    assert default_thresholds(0.75) == grid
    assert default_thresholds(0.9) == grid
    with_own = default_thresholds(0.33)
    assert len(with_own) == 21
    assert with_own[6:9] == (0.3, 0.33, 0.35)
    assert default_thresholds(0.99)[-2:] == (0.95, 0.99)


@pytest.mark.parametrize("stated", [1.0, -0.5])
def test_default_thresholds_refuses_a_bad_target(stated: float) -> None:
    with pytest.raises(ValueError, match="confidence target"):
        default_thresholds(stated)


# --- calibration -----------------------------------------------------------------------------

# Answered replies (abstained and error left out), 10 bins:
#   correct 0.95, wrong 0.9, correct 1.0 -> [0.9, 1.0]: 3 replies, mean confidence 0.95,
#                                           accuracy 2/3, gap 0.283333
#   correct 0.8                          -> [0.8, 0.9): mean 0.8, accuracy 1, gap 0.2
#   wrong 0.6                            -> [0.6, 0.7): mean 0.6, accuracy 0, gap 0.6
#   correct 0.5                          -> [0.5, 0.6): mean 0.5, accuracy 1, gap 0.5
# ECE = 3/6 * 0.283333 + 1/6 * (0.2 + 0.6 + 0.5) = 0.141667 + 0.216667 = 0.358333.
# Overall: mean confidence 4.75/6 = 0.791667, accuracy 4/6 = 0.666667, overconfidence 0.125.
CAL_GRADES = ["correct", "wrong", "correct", "correct", "wrong", "correct", "abstained", "error"]
CAL_CONFIDENCES: list[float | None] = [0.95, 0.9, 1.0, 0.8, 0.6, 0.5, 0.3, 0.1]


def test_calibration_against_a_hand_computed_example() -> None:
    result = calibration(CAL_GRADES, CAL_CONFIDENCES)
    assert result is not None
    assert result.answered == 6
    assert result.ece == pytest.approx(0.3583333)
    assert result.overconfidence == pytest.approx(0.125)
    assert [(b.lower, b.count) for b in result.bins] == [(0.5, 1), (0.6, 1), (0.8, 1), (0.9, 3)]
    assert [b.upper for b in result.bins] == pytest.approx([0.6, 0.7, 0.9, 1.0])
    assert [b.mean_confidence for b in result.bins] == pytest.approx([0.5, 0.6, 0.8, 0.95])
    assert [b.accuracy for b in result.bins] == pytest.approx([1.0, 0.0, 1.0, 0.6666667])
    assert isinstance(result.bins[0], CalibrationBin)


def test_a_perfectly_calibrated_bin_has_no_error() -> None:
    result = calibration(["correct", "wrong"], [0.5, 0.5], bins=2)
    assert result is not None
    assert (result.ece, result.overconfidence) == (0.0, 0.0)


@pytest.mark.parametrize("bins", [10, 22, 45])
def test_a_confidence_on_an_edge_goes_in_the_upper_bin(bins: int) -> None:
    # 15 / 22 * 22 is 14.999999999999998: multiplying would put that edge in the bin below.
    for k in range(bins):
        result = calibration(["correct"], [k / bins], bins=bins)
        assert result is not None
        (only,) = result.bins
        assert only.lower == k / bins
        assert only.upper == (k + 1) / bins


def test_point_one_and_one() -> None:
    result = calibration(["correct", "wrong"], [0.1, 1.0])
    assert result is not None
    assert [(b.lower, b.upper, b.count) for b in result.bins] == [
        (0.1, 0.2, 1),
        (0.9, 1.0, 1),
    ]


@pytest.mark.parametrize(
    ("grades", "confidences"),
    [
        ([], []),
        (["abstained", "error"], [0.4, 0.9]),
        (["correct", "wrong"], [None, None]),
    ],
)
def test_calibration_is_none_without_answered_confidences(
    grades: list[str], confidences: list[float | None]
) -> None:
    assert calibration(grades, confidences) is None


def test_calibration_refuses_no_bins_and_bad_confidences() -> None:
    with pytest.raises(ValueError, match="bins must be at least 1"):
        calibration(["correct"], [0.5], bins=0)
    with pytest.raises(ValueError, match="stated confidence"):
        calibration(["correct"], [1.01])


@pytest.mark.parametrize(
    "reply",
    [
        "```" + " " * 400 + "x",  # the old fence pattern took seconds on this
        "confidence" + " " * 20_000,  # and minutes on this
        "Confidence" + " *" * 5_000 + " 0.8",
        "Answer:" + " " * 10_000 + "Paris" + " *" * 5_000,
    ],
)
def test_model_written_text_is_parsed_in_bounded_steps(reply: str) -> None:
    # What matters is the result; a parser that backtracks turns these into a hang.
    stated = parse_reply(reply)
    assert stated.confidence is None
    assert stated.answer.strip()


def test_blanks_and_marks_around_a_stated_confidence_still_read() -> None:
    assert parse_reply("**Confidence level:**   0.7\nAnswer: Paris **").confidence == 0.7
    assert parse_reply("Answer: Paris **").answer == "Answer: Paris **"  # no confidence stated
    assert parse_reply("Paris.\nConfidence: 0.9").answer == "Paris"
    fenced = parse_reply('```JSON\n{"answer": "Paris", "confidence": 0.8}\n```')
    assert (fenced.answer, fenced.confidence) == ("Paris", 0.8)
