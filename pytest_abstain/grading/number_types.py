"""A number as a reply writes it, and an expected answer that is a number."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Mention:
    """A number as a reply writes it."""

    value: float
    start: int
    end: int
    #: The place of its last significant digit: 10000 for "120k", 0.01 for "1.73".
    step: float
    #: A unit right after it ("m", "mb", "米"), folded; None when none is written.
    unit: str | None = None
    #: "about 100k", "more than 3000", 3500左右, "100-200": a bound or estimate, not a value.
    approximate: bool = False
    #: The other reading of "5.137" or "1,234" (a decimal or thousands separator).
    other: float | None = None


@dataclass(frozen=True)
class AnswerNumber:
    """An expected answer that is a number: 120000, "120k", "1.73 m", "25 MB", "3518.17"."""

    value: float
    step: float
    unit: str | None
    #: Written as text in the suite: the question's numeric tolerance does not apply.
    as_text: bool
    #: The other reading of "42,195" or "783.562" (a decimal or a thousands separator).
    other: float | None = None
