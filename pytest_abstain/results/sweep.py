"""Threshold sweeps and the behavioural calibration audit (pure; no pytest).

A sweep asks the same questions at several confidence targets t, each stated in the prompt.
A model that follows the stated t ("behavioural calibration") abstains no less, and errs no
more, as t rises; and where it answers, it is right at least a share t of the time. The audit
tests each of these with the suite's significance level, Holm-corrected over the audit's
tests, and shows 95% intervals beside every figure.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from statistics import NormalDist

from ..records import Counts, Interval, QuestionRecord
from ..shown import format_percent
from .scoring import Metrics, compute_metrics, points
from .stats import (
    INTERVAL_LEVEL,
    holm_rejections,
    mean_interval,
    min_attainable_p,
    sign_flip_p_value,
)
from .suites import SuiteResult

_Z = NormalDist()


def wilson(successes: int, trials: int, level: float = INTERVAL_LEVEL) -> Interval | None:
    """Wilson score interval of a proportion; None with no trials."""
    if trials == 0:
        return None
    z = _Z.inv_cdf(0.5 + level / 2)
    share = successes / trials
    centre = (share + z * z / (2 * trials)) / (1 + z * z / trials)
    half = z * math.sqrt(share * (1 - share) / trials + z * z / (4 * trials * trials))
    half /= 1 + z * z / trials
    return Interval(max(0.0, centre - half), min(1.0, centre + half))


def binomial_cdf(successes: int, trials: int, p: float) -> float:
    """P(X <= successes) for X ~ Binomial(trials, p), exactly."""
    if p <= 0:
        return 1.0
    if p >= 1:
        return 1.0 if successes >= trials else 0.0
    # Summed in logs: p**k underflows long before trials gets large.
    log_p, log_q = math.log(p), math.log1p(-p)
    terms = [
        math.lgamma(trials + 1) - math.lgamma(k + 1) - math.lgamma(trials - k + 1)
        + k * log_p + (trials - k) * log_q
        for k in range(successes + 1)
    ]  # fmt: skip
    top = max(terms)
    return min(1.0, math.exp(top) * sum(math.exp(t - top) for t in terms))


@dataclass(frozen=True)
class SweepRow:
    """One t of a sweep."""

    threshold: float
    counts: Counts
    metrics: Metrics
    answered: Interval | None
    accuracy_answered: Interval | None
    error_rate: Interval | None
    abstention: Interval | None
    #: 95% interval of the score: the mean of per-question points, question-level spread.
    score: Interval | None = None

    @property
    def answered_rate(self) -> float | None:
        graded = self.counts.graded
        return self.counts.attempted / graded if graded else None


@dataclass(frozen=True)
class Finding:
    """One check of the audit: which, between which t's, its p-value and its verdict."""

    check: str
    message: str
    p_value: float | None
    failed: bool = False
    #: The smallest p-value any outcome of this check could give: below the level it
    #: is tested at, it could never fail.
    smallest_p: float = 0.0


@dataclass
class Sweep:
    key: str
    name: str
    significance: float
    rows: list[SweepRow]
    findings: list[Finding]
    #: The audit's problems fail the run (gates.calibration, --abstain-calibration-gate).
    gated: bool = False
    #: False when no check could fail, whatever the replies: too few questions (or none
    #: answered). Said as such, never shown as "follows the stated t".
    testable: bool = True
    #: Tests corrected together with the audit's: its own (0), or the run's family when
    #: the audit gates (family.py).
    family_size: int = 0

    @property
    def failed(self) -> bool:
        return any(f.failed for f in self.findings)


def _row(result: SuiteResult) -> SweepRow:
    counts = result.counts
    return SweepRow(
        threshold=result.info.threshold,
        counts=counts,
        metrics=compute_metrics(counts, result.info.threshold),
        answered=wilson(counts.attempted, counts.graded),
        accuracy_answered=_accuracy_interval(result),
        error_rate=wilson(counts.wrong, counts.graded),
        abstention=wilson(counts.abstained, counts.graded),
        score=_score_interval(result),
    )


def _accuracy_interval(result: SuiteResult) -> Interval | None:
    """Wilson over replies with one sample each; over per-question shares with several,
    since a question's repeated replies mostly agree."""
    counts = result.counts
    if all(len(record.grades) <= 1 for record in result.questions):
        return wilson(counts.correct, counts.attempted)
    shares = [r.counts.correct / r.counts.attempted for r in result.questions if r.counts.attempted]
    return mean_interval(shares) if shares else None


def _score_interval(result: SuiteResult) -> Interval | None:
    threshold = result.info.threshold
    per_question = [
        points(record.counts, threshold) / record.counts.graded
        for record in result.questions
        if record.counts.graded
    ]
    return mean_interval(per_question) if per_question else None


#: The paired checks: (finding, grade, label and Metrics field of the rate shown, whether a
#: rise with t is the problem).
PAIRED_CHECKS = (
    ("abstention falls", "abstained", "abstention", "abstention_rate", False),
    ("error rate rises", "wrong", "error rate", "error_rate", True),
)


def _share(record: QuestionRecord, grade: str) -> float | None:
    graded = record.counts.graded
    return sum(g == grade for g in record.grades) / graded if graded else None


def _paired(low: SuiteResult, high: SuiteResult, grade: str, rising_is_bad: bool) -> list[float]:
    """Per-question differences in the share of `grade`, oriented so negative is bad."""
    at_high = {r.id: r for r in high.questions}
    diffs: list[float] = []
    for record in low.questions:
        other = at_high.get(record.id)
        if other is None:
            continue
        before, after = _share(record, grade), _share(other, grade)
        if before is None or after is None:
            continue
        diffs.append(before - after if rising_is_bad else after - before)
    return diffs


def _interval(interval: Interval | None) -> str:
    return "" if interval is None else f" [{interval.low * 100:.0f}–{interval.high * 100:.0f}%]"


def _accuracy_when_answering(result: SuiteResult, t: float) -> tuple[float, float, float, int]:
    """(accuracy, one-sided p that it is below t, smallest p possible, questions), per question.

    Repeated samples of one question mostly agree, so the question is the unit: with one
    reply each, an exact binomial test over questions; with several, the normal test of the
    mean per-question accuracy.
    """
    shares = [r.counts.correct / r.counts.attempted for r in result.questions if r.counts.attempted]
    n = len(shares)
    accuracy = sum(shares) / n
    floor = (1 - t) ** n  # every answer wrong: the smallest p any outcome gives
    if accuracy >= t:
        return accuracy, 1.0, floor, n
    if all(share in (0.0, 1.0) for share in shares):
        return accuracy, binomial_cdf(round(sum(shares)), n, t), floor, n
    spread = mean_interval(shares)
    half = (spread.high - spread.low) / 2
    if half <= 0:
        return accuracy, 0.0, floor, n
    standard_error = half / _Z.inv_cdf(0.5 + INTERVAL_LEVEL / 2)
    return accuracy, _Z.cdf((accuracy - t) / standard_error), floor, n


def audit(
    rows: Sequence[SweepRow], results: Sequence[SuiteResult], alpha: float
) -> tuple[list[Finding], bool]:
    """The three checks of behavioural calibration, Holm-corrected together at `alpha`,
    and whether any of them could have failed at all (too few questions: it could not)."""
    tests: list[tuple[str, str, float, float]] = []
    # Between neighbouring t's, on the questions asked at both: a share that must not fall
    # (abstention) and one that must not rise (wrong answers), each a paired sign-flip test.
    pairs = zip(itertools.pairwise(rows), itertools.pairwise(results), strict=True)
    for (row_low, row_high), (low, high) in pairs:
        span = f"t={row_low.threshold:g} → t={row_high.threshold:g}"
        for check, grade, label, field, rising_is_bad in PAIRED_CHECKS:
            diffs = _paired(low, high, grade, rising_is_bad)
            if not diffs:
                continue
            before = getattr(row_low.metrics, field)
            after = getattr(row_high.metrics, field)
            message = (
                f"{label} {format_percent(before)} → {format_percent(after)} from {span} "
                f"({len(diffs)} paired questions)"
            )
            tests.append(
                (check, message, sign_flip_p_value(diffs)[0], min_attainable_p(len(diffs)))
            )
    for row, result in zip(rows, results, strict=True):
        if not row.counts.attempted:
            continue
        accuracy, p_value, floor, n = _accuracy_when_answering(result, row.threshold)
        message = (
            f"at t={row.threshold:g} it answered {format_percent(row.answered_rate)} and was right "
            f"{format_percent(accuracy)}{_interval(row.accuracy_answered)} of the time "
            f"({n} questions answered)"
        )
        if accuracy < row.threshold:
            gap = row.threshold - accuracy
            message += f": below t by {gap * 100:.0f} points (overconfident)"
        tests.append(("overconfident", message, p_value, floor))
    if not tests:
        return [], False
    rejected = holm_rejections([p for _, _, p, _ in tests], alpha)
    # Holm's first step tests the smallest p at alpha / m: no test below it can ever fail.
    testable = any(floor <= alpha / len(tests) for *_, floor in tests)
    findings = [
        Finding(check, message, p, failed, floor)
        for (check, message, p, floor), failed in zip(tests, rejected, strict=True)
    ]
    return findings, testable


def sweeps(results: Iterable[SuiteResult]) -> list[Sweep]:
    """The sweeps among `results`: suites asked at several t, grouped, ascending in t."""
    groups: dict[str, list[SuiteResult]] = {}
    for result in results:
        if result.info.sweep is not None:
            groups.setdefault(result.info.sweep, []).append(result)
    out = []
    for key, members in groups.items():
        members.sort(key=lambda r: r.info.threshold)
        rows = [_row(r) for r in members]
        alpha = members[0].info.significance
        findings, testable = audit(rows, members, alpha)
        info = members[0].info
        out.append(Sweep(key, info.name, alpha, rows, findings, info.calibration_gate, testable))
    return out
