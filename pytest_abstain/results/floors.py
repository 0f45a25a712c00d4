"""A suite's floors (min_score, max_error_rate, max_abstention_rate), each checked with the
interval of its metric (pure; no pytest).

A floor is a point estimate against a fixed line, so a model just on the good side of it
fails now and then by the luck of the replies. Each check therefore carries the interval of
its metric, two-sided at 1 - 2 x the suite's significance, so that each end is a one-sided
bound at that significance (90% for the default 0.05: "95% sure it is at least ...").

- `floor: point` (the default) decides on the point estimate, as a floor always has; the
  interval is shown next to it.
- `floor: interval` fails only when the whole interval is past the floor: the metric is on
  the wrong side with the stated confidence. An interval that straddles the floor passes
  with a warning: the run cannot tell.

Repeated samples of one question mostly agree, so the question is the unit of every
interval: rates use Wilson's interval at the effective number of questions (the design
effect of the samples), the score the question-level normal interval.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from ..records import Counts, Interval, QuestionRecord
from ..shown import format_number, format_percent
from .scoring import points
from .stats import mean_interval

FloorMode = Literal["point", "interval"]
FLOOR_MODES: tuple[FloorMode, ...] = ("point", "interval")
FloorStatus = Literal["passed", "failed", "uncertain"]
_Z = NormalDist()


def floor_level(significance: float) -> float:
    """The two-sided level of a floor's interval: each end one-sided at `significance`."""
    return max(0.0, 1.0 - 2.0 * significance)


def rate_interval(shares: Sequence[float], replies: int, level: float) -> Interval | None:
    """Interval of the mean of per-question `shares` (of `replies` replies in all).

    Wilson's interval with the effective number of questions: p(1-p) over the variance of
    the mean. With one reply per question that is about the number of questions; samples
    that vary within a question count for more, up to `replies`. Where the spread says
    nothing (every share 0, or 1) each question counts once: the cautious side.
    """
    n = len(shares)
    if n == 0:
        return None
    share = sum(shares) / n
    variance = sum((s - share) ** 2 for s in shares) / (n - 1) if n > 1 else 0.0
    spread = share * (1 - share)
    effective = float(n)
    if spread > 0:
        effective = float(replies) if variance == 0 else min(float(replies), n * spread / variance)
    z = _Z.inv_cdf(0.5 + level / 2) if level > 0 else 0.0
    centre = (share + z * z / (2 * effective)) / (1 + z * z / effective)
    half = z * math.sqrt(spread / effective + z * z / (4 * effective * effective))
    half /= 1 + z * z / effective
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def _shares(records: Sequence[QuestionRecord], grade: str) -> tuple[list[float], int]:
    graded = [r.counts for r in records if r.counts.graded]
    return [getattr(c, grade) / c.graded for c in graded], sum(c.graded for c in graded)


def answerable_counts(records: Sequence[QuestionRecord]) -> Counts:
    """The grades of the questions with a known answer (not `idk`): where abstaining is
    over-refusal rather than honesty."""
    return Counts.summed(r.counts for r in records if not r.idk)


@dataclass(frozen=True)
class FloorCheck:
    """One floor against its metric: the value, the interval, and the outcome."""

    gate: str
    #: The metric as reasons name it: "score", "error_rate", "abstention_rate (answerable)".
    metric: str
    value: float
    limit: float
    interval: Interval | None
    #: Two-sided level of the interval (each end one-sided at the suite's significance).
    level: float
    mode: FloorMode

    @property
    def higher_is_worse(self) -> bool:
        return self.gate.startswith("max_")

    @property
    def beyond(self) -> bool:
        """The point estimate is on the wrong side of the floor."""
        return self.value > self.limit if self.higher_is_worse else self.value < self.limit

    @property
    def straddles(self) -> bool:
        interval = self.interval
        return interval is not None and interval.low <= self.limit <= interval.high

    @property
    def status(self) -> FloorStatus:
        if self.mode == "point":
            return "failed" if self.beyond else "passed"
        if self.interval is None:
            return "failed" if self.beyond else "passed"
        if self.straddles:
            return "uncertain"
        return "failed" if self.beyond else "passed"

    @property
    def interval_text(self) -> str:
        if self.interval is None:
            return ""
        low, high = self.interval.low, self.interval.high
        return f"{format_percent(self.level)} interval [{low:.3f}, {high:.3f}]"

    def describe(self) -> str:
        """'error_rate 0.240 > max_error_rate 0.2 (90% interval [0.190, 0.290])'; a check
        that cannot tell says its interval straddles the floor."""
        if self.higher_is_worse:
            sign = ">" if self.beyond else "<="
        else:
            sign = "<" if self.beyond else ">="
        text = f"{self.metric} {self.value:.3f} {sign} {self.gate} {format_number(self.limit)}"
        if not self.interval_text:
            return text
        if self.mode == "interval" and self.straddles:
            return (
                f"{text}, but its {self.interval_text} straddles it: not failed (floor: interval)"
            )
        if self.mode == "interval" and self.beyond:
            side = "above" if self.higher_is_worse else "below"
            return f"{text} ({self.interval_text}, all of it {side})"
        return f"{text} ({self.interval_text})"


def floor_checks(
    records: Sequence[QuestionRecord],
    threshold: float,
    *,
    min_score: float | None,
    max_error_rate: float | None,
    max_abstention_rate: float | None,
    significance: float,
    mode: FloorMode,
) -> list[FloorCheck]:
    """The suite's floors checked against its graded replies, in a fixed order; a floor whose
    metric has no reply (no answerable question for max_abstention_rate) is left out."""
    level = floor_level(significance)
    checks: list[FloorCheck] = []
    graded = [r for r in records if r.counts.graded]
    if min_score is not None and graded:
        per_question = [points(r.counts, threshold) / r.counts.graded for r in graded]
        replies = sum(r.counts.graded for r in graded)
        value = sum(points(r.counts, threshold) for r in graded) / replies
        interval = mean_interval(per_question, level) if len(graded) > 1 else None
        checks.append(FloorCheck("min_score", "score", value, min_score, interval, level, mode))
    rates = (
        ("max_error_rate", "error_rate", "wrong", max_error_rate, graded),
        (
            "max_abstention_rate",
            "abstention_rate (answerable)",
            "abstained",
            max_abstention_rate,
            [r for r in graded if not r.idk],
        ),
    )
    for gate, metric, grade, limit, among in rates:
        if limit is None or not among:
            continue
        shares, replies = _shares(among, grade)
        value = sum(getattr(r.counts, grade) for r in among) / replies
        interval = rate_interval(shares, replies, level)
        checks.append(FloorCheck(gate, metric, value, limit, interval, level, mode))
    return checks
