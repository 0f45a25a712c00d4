"""What abstaining below each stated confidence would have scored (the risk-coverage curve), and
how stated confidence matched accuracy (calibration) (pure; no pytest)."""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

from ..records import GRADES, Counts
from .scoring import points as penalised_points

__all__ = [
    "Calibration",
    "CalibrationBin",
    "CoveragePoint",
    "StatedConfidence",
    "calibration",
    "default_thresholds",
    "risk_coverage",
    "stated_confidence",
]

_GRADES = frozenset(GRADES)


def _check_threshold(threshold: float) -> None:
    # `not (... < ...)` also refuses NaN, for which every comparison is false.
    if not (0.0 <= threshold < 1.0):
        raise ValueError(f"a confidence target must be in [0, 1), got {threshold!r}")


def _stated(grades: Sequence[str], confidences: Sequence[float | None]) -> list[tuple[str, float]]:
    """The (grade, confidence) of graded replies that stated a confidence; errors dropped."""
    if len(grades) != len(confidences):
        raise ValueError(f"{len(grades)} grades but {len(confidences)} confidences")
    pairs: list[tuple[str, float]] = []
    for grade, confidence in zip(grades, confidences, strict=True):
        if grade not in _GRADES:
            raise ValueError(f"unknown grade {grade!r}")
        if grade == "error" or confidence is None:
            continue
        if not (0.0 <= confidence <= 1.0):
            raise ValueError(f"a stated confidence must be in [0, 1], got {confidence!r}")
        pairs.append((grade, confidence))
    return pairs


@dataclass(frozen=True)
class CoveragePoint:
    """The outcome had the model abstained whenever its stated confidence was below `threshold`.

    Rates are over `replies`, the graded replies that stated a confidence; `risk` is the error
    rate among the answered ones (None when none was answered).
    """

    threshold: float
    replies: int
    answered: int
    correct: int
    wrong: int
    coverage: float
    score: float
    error_rate: float
    risk: float | None


def risk_coverage(
    grades: Sequence[str],
    confidences: Sequence[float | None],
    thresholds: Sequence[float],
) -> list[CoveragePoint]:
    """One CoveragePoint per threshold, in the order given.

    Only replies graded correct, wrong or abstained that stated a confidence count. An empty
    list when there are none: a curve of zeros would read as a model that never answers.
    Raises ValueError for a threshold outside [0, 1), a confidence outside [0, 1], an unknown
    grade, or sequences of different lengths.
    """
    for threshold in thresholds:
        _check_threshold(threshold)
    stated = _stated(grades, confidences)
    n = len(stated)
    if n == 0:
        return []
    points: list[CoveragePoint] = []
    for t in thresholds:
        # Exact comparison on purpose: a stated 0.9 and t = 0.9 are the same float (both read
        # from "0.9"), so that reply answers, as the model said it would; at exactly t,
        # answering and abstaining have the same expected score anyway.
        correct = sum(1 for grade, c in stated if grade == "correct" and c >= t)
        wrong = sum(1 for grade, c in stated if grade == "wrong" and c >= t)
        answered = correct + wrong
        points.append(
            CoveragePoint(
                threshold=t,
                replies=n,
                answered=answered,
                correct=correct,
                wrong=wrong,
                coverage=answered / n,
                score=penalised_points(Counts(correct=correct, wrong=wrong), t) / n,
                error_rate=wrong / n,
                risk=wrong / answered if answered else None,
            )
        )
    return points


#: 0, 0.05, ..., 0.95. i / 20 is correctly rounded, so 15 / 20 == 0.75 exactly: no drift.
_GRID: tuple[float, ...] = tuple(i / 20 for i in range(20))


def default_thresholds(stated_t: float | None = None) -> tuple[float, ...]:
    """0, 0.05, ..., 0.95 plus the suite's own target `stated_t`, ascending, without repeats."""
    if stated_t is None:
        return _GRID
    _check_threshold(stated_t)
    return tuple(sorted({*_GRID, stated_t}))


@dataclass(frozen=True)
class StatedConfidence:
    """A suite's stated confidences: how many could be read, how well they matched accuracy,
    and what abstaining below each t would have scored."""

    #: Replies graded correct, wrong or abstained; of those, the ones with a usable confidence.
    replies: int
    stated: int
    #: Why a confidence could not be read ("question-id: problem"), in question order.
    problems: list[str]
    calibration: Calibration | None
    curve: list[CoveragePoint]

    def at(self, threshold: float) -> CoveragePoint | None:
        return next((p for p in self.curve if p.threshold == threshold), None)


def stated_confidence(
    grades: Sequence[str],
    confidences: Sequence[float | None],
    problems: Sequence[str],
    threshold: float,
) -> StatedConfidence:
    """The StatedConfidence of replies' grades and confidences at the suite's target."""
    graded = sum(1 for grade in grades if grade != "error")
    pairs = zip(grades, confidences, strict=True)
    stated = sum(1 for grade, c in pairs if grade != "error" and c is not None)
    return StatedConfidence(
        replies=graded,
        stated=stated,
        problems=list(problems),
        calibration=calibration(grades, confidences),
        curve=risk_coverage(grades, confidences, default_thresholds(threshold)),
    )


@dataclass(frozen=True)
class CalibrationBin:
    """Answered replies whose stated confidence fell in [lower, upper) ([lower, 1] for the last)."""

    lower: float
    upper: float
    count: int
    mean_confidence: float
    accuracy: float


@dataclass(frozen=True)
class Calibration:
    """How stated confidence matched accuracy over the answered replies.

    `ece` is the expected calibration error, Σ count/N · |accuracy − mean confidence| over the
    bins; `overconfidence` is mean confidence − accuracy overall (positive: overconfident).
    Only non-empty bins are listed.
    """

    answered: int
    ece: float
    overconfidence: float
    bins: list[CalibrationBin]


def calibration(
    grades: Sequence[str], confidences: Sequence[float | None], bins: int = 10
) -> Calibration | None:
    """Calibration of the correct and wrong replies that stated a confidence, in `bins`
    equal-width bins over [0, 1]; None when there is no such reply.

    Raises ValueError for bins < 1 and for the bad input risk_coverage refuses.
    """
    if bins < 1:
        raise ValueError(f"bins must be at least 1, got {bins!r}")
    answered = [
        (grade == "correct", c) for grade, c in _stated(grades, confidences) if grade != "abstained"
    ]
    if not answered:
        return None
    # bisect on the edges themselves puts a confidence equal to an edge in the bin above it;
    # int(c * bins) would not always (15 / 22 * 22 is 14.999999999999998).
    edges = [i / bins for i in range(bins)]
    grouped: list[list[tuple[bool, float]]] = [[] for _ in range(bins)]
    for hit, c in answered:
        grouped[bisect_right(edges, c) - 1].append((hit, c))
    total = len(answered)
    listed: list[CalibrationBin] = []
    ece = 0.0
    for index, members in enumerate(grouped):
        if not members:
            continue
        count = len(members)
        mean_confidence = math.fsum(c for _, c in members) / count
        accuracy = sum(hit for hit, _ in members) / count
        ece += count / total * abs(accuracy - mean_confidence)
        listed.append(
            CalibrationBin(index / bins, (index + 1) / bins, count, mean_confidence, accuracy)
        )
    overall_confidence = math.fsum(c for _, c in answered) / total
    overall_accuracy = sum(hit for hit, _ in answered) / total
    return Calibration(total, ece, overall_confidence - overall_accuracy, listed)
