"""Counts, metrics and gate checks over graded replies (pure; no pytest)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..records import Counts
from ..shown import format_number


def penalty(threshold: float) -> float:
    """Points lost for a wrong answer at confidence target t: t / (1 - t)."""
    return threshold / (1.0 - threshold)


@dataclass(frozen=True)
class Metrics:
    """Rates over graded replies; None where there is nothing to divide by."""

    counts: Counts
    accuracy: float | None
    error_rate: float | None
    abstention_rate: float | None
    accuracy_given_attempted: float | None
    #: Mean points per graded reply: +1 correct, -t/(1-t) wrong, 0 abstained.
    score: float | None


def points(counts: Counts, threshold: float) -> float:
    """Total penalised points of `counts` at confidence target t."""
    return counts.correct - counts.wrong * penalty(threshold)


def _ratio(numerator: float, denominator: int) -> float | None:
    return numerator / denominator if denominator else None


def metrics_from(counts: Counts, total_points: float) -> Metrics:
    """Metrics from counts and their summed points (so suites at different t can be pooled)."""
    graded = counts.graded
    return Metrics(
        counts=counts,
        accuracy=_ratio(counts.correct, graded),
        error_rate=_ratio(counts.wrong, graded),
        abstention_rate=_ratio(counts.abstained, graded),
        accuracy_given_attempted=_ratio(counts.correct, counts.attempted),
        score=_ratio(total_points, graded),
    )


def compute_metrics(counts: Counts, threshold: float) -> Metrics:
    """Metrics of one suite at confidence target t."""
    return metrics_from(counts, points(counts, threshold))


@dataclass(frozen=True)
class ErrorBudget:
    """How many replies of a suite may be errors: a count ("3") or a share ("5%", "0.05").

    Errors are not scored, so a suite with holes is not comparable with its baseline; a
    budget is for endpoints known to fail now and then, where a few holes are acceptable.
    """

    count: int | None = None
    fraction: float | None = None

    @classmethod
    def parse(cls, raw: object) -> ErrorBudget:
        """From the command line, the ini or a suite file; ValueError says what it takes."""
        text = str(raw).strip()
        try:
            if text.endswith("%"):
                fraction = float(text[:-1]) / 100
            elif text.isdigit():
                return cls(count=int(text))
            else:
                fraction = float(text)
        except ValueError:
            fraction = -1.0
        if not 0 <= fraction <= 1:
            raise ValueError(
                "must be a count of replies (3), a percentage (5%) or a fraction in [0, 1] (0.05)"
            )
        return cls(fraction=fraction)

    def allowed(self, replies: int) -> int:
        """The most errors allowed among `replies`."""
        if self.count is not None:
            return self.count
        return int((self.fraction or 0.0) * replies + 1e-9)

    def __str__(self) -> str:
        if self.count is not None:
            return str(self.count)
        return f"{format_number((self.fraction or 0.0) * 100)}%"

    def check(
        self, errors: int, replies: int, what: str = "errors", key: str = "max_errors"
    ) -> tuple[bool, str]:
        """(within budget, the reason worded like the other gates)."""
        ok = errors <= self.allowed(replies)
        sign = "<=" if ok else ">"
        return ok, f"{what} {errors} of {replies} replies {sign} {key} {self}"


# --- JSON shapes, shared by the report and the baseline file ---------------------------------


def metrics_json(metrics: Metrics) -> dict[str, Any]:
    c = metrics.counts
    return {
        "correct": c.correct,
        "wrong": c.wrong,
        "abstained": c.abstained,
        "error": c.error,
        "graded": c.graded,
        "accuracy": metrics.accuracy,
        "error_rate": metrics.error_rate,
        "abstention_rate": metrics.abstention_rate,
        "accuracy_given_attempted": metrics.accuracy_given_attempted,
        "score": metrics.score,
    }


def counts_json(counts: Counts) -> dict[str, int]:
    return {"correct": counts.correct, "wrong": counts.wrong, "abstained": counts.abstained}
