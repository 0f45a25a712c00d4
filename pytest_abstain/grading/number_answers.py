"""Finding a numeric answer in a reply: either reading of each number, in the answer's unit, to
the answer's precision."""

from __future__ import annotations

from dataclasses import replace

from .expectation import FLOAT_SLACK, Tolerance
from .found import DOUBTED, DOUBTED_CORRECT, NOT_FOUND, SURE, Found
from .grades import doubt_text
from .number_types import AnswerNumber, Mention
from .reply_view import ReplyView
from .units import scaled_unit, unit_factor


def find_number(reply: ReplyView, number: AnswerNumber, tolerance: Tolerance) -> Found:
    """The best reading of any number of the reply against the expected `number`."""
    exact_tolerance = EXACT if number.as_text else tolerance
    best = NOT_FOUND
    for mention in reply.numbers:
        found = _number_found(mention, number, exact_tolerance, tolerance.significant)
        if found.rank > best.rank:
            best = found
    return best


#: The tolerance of an answer written as text ("120k", "1.73 m"): none; the question's
#: numeric tolerance is for the numbers it lists.
EXACT = Tolerance()


def _number_found(
    mention: Mention, number: AnswerNumber, tolerance: Tolerance, significant: bool
) -> Found:
    """The best reading of one number in the reply: as written, its other reading ("5.137"),
    in the answer's unit ("8.849 km" for 8849 m)."""
    factor = unit_factor(mention.unit, number.unit)
    best = NOT_FOUND
    # Either reading of "5.137" in the reply, against either reading of "42,195" expected.
    readings = [number] if number.other is None else [number, replace(number, value=number.other)]
    for value in (mention.value, mention.other):
        for expected in readings:
            if value is None:
                continue
            if factor is None:  # "25 kg" for "25 MB": the number may match, the thing not
                if _compare(value, mention, expected, tolerance, significant).rank == SURE:
                    return Found(DOUBTED, "wrong", doubt_text("unit"), number=mention)
                continue
            found = _compare(value * factor, mention, expected, tolerance, significant)
            if found.rank > best.rank:
                best = found
    size = scaled_unit(mention.unit)
    if best.rank < SURE and number.unit is None and size not in (None, 1.0):
        # "8.849 km" when the answer is 8849 without a unit: metres, probably.
        converted = _compare(mention.value * (size or 1.0), mention, number, tolerance, significant)
        if converted.rank == SURE:
            return Found(DOUBTED_CORRECT, "correct", doubt_text("unit"), number=mention)
    return best


def _compare(
    value: float, mention: Mention, number: AnswerNumber, tolerance: Tolerance, significant: bool
) -> Found:
    expected = number.value
    diff = abs(value - expected)
    slack = FLOAT_SLACK * max(abs(expected), 1.0)
    rounds_to_answer = diff <= number.step / 2 + slack
    close = diff <= 0.1 * abs(expected) + slack
    if tolerance.allows(value, expected) or (significant and rounds_to_answer):
        if mention.approximate:
            return Found(
                DOUBTED_CORRECT, "correct", doubt_text("approximate number"), number=mention
            )
        return Found(SURE, "correct", number=mention)
    if mention.approximate:
        # "around 100k", "more than 3000": too wide to commit (SimpleQA: not attempted).
        return Found(DOUBTED, "abstained", doubt_text("approximate number"), number=mention)
    if rounds_to_answer:  # "124k" for "120k": right to the answer's last figure
        return Found(DOUBTED_CORRECT, "correct", doubt_text("near number"), number=mention)
    if diff <= max(mention.step, number.step) + slack and close:
        # Off by at most one in the last figure: "3518" or "3518.1" for 3518.17 (rounded or
        # cut), "1.74" for 1.73 (a near miss, or a source that differs).
        return Found(DOUBTED, "wrong", doubt_text("near number"), number=mention)
    # "100k" for "120k", 8800 for 8849: not the answer at its own precision.
    return NOT_FOUND
