"""Suite results: the records of a suite's questions gathered, their metrics and gates, and
the leaderboard of several models."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..records import Counts, Grade, QuestionRecord, SuiteComparison, SuiteInfo
from .floors import FloorCheck, answerable_counts, floor_checks
from .pushback import PushbackFigures, pushback_figures
from .risk_coverage import StatedConfidence, stated_confidence
from .scoring import ErrorBudget, Metrics, compute_metrics, metrics_from
from .scoring import points as score_points
from .served import Served, served_of


@dataclass(frozen=True)
class AutoSamples:
    """What samples: auto asked of a suite, against its budget, and why."""

    budget: int
    questions: int
    replies: int
    #: Every question was asked its whole budget (the first replies left the verdict open,
    #: or the suite could not be settled on them: `why` says which).
    whole_budget: bool
    why: str

    @property
    def most(self) -> int:
        """The replies a fixed number of samples at the budget asks."""
        return self.questions * self.budget

    @property
    def saved(self) -> float:
        return 1 - self.replies / self.most if self.most else 0.0


@dataclass
class SuiteResult:
    """A suite's questions, metrics and gate verdict."""

    info: SuiteInfo
    questions: list[QuestionRecord] = field(default_factory=list)
    #: Set when a baseline was given: its regressions fail the gate too.
    comparison: SuiteComparison | None = None
    #: False when the run stopped early (-x, --maxfail): nothing is gated then.
    evaluated: bool = True

    @property
    def counts(self) -> Counts:
        return Counts.summed(record.counts for record in self.questions)

    @property
    def auto_samples(self) -> AutoSamples | None:
        """With samples: auto, what it asked and why; None with a fixed number."""
        if not self.info.adaptive or not self.questions:
            return None
        replies = sum(len(record.grades) for record in self.questions)
        return AutoSamples(
            budget=self.info.samples,
            questions=len(self.questions),
            replies=replies,
            whole_budget=all(len(r.grades) >= self.info.samples for r in self.questions),
            why=self.questions[0].sampling or "",
        )

    @property
    def metrics(self) -> Metrics:
        return compute_metrics(self.counts, self.info.threshold)

    @property
    def undecided(self) -> Counter[str]:
        """Replies the rules could not decide, by doubt name."""
        return Counter(kind for record in self.questions for _, kind in record.undecided)

    def undecided_range(self) -> tuple[Metrics, Metrics] | None:
        """The metrics with every undecided reply graded the best way (correct; abstained on
        an idk question) and the worst way (wrong); None when the rules decided every reply."""
        if not self.undecided:
            return None
        best: list[Grade] = []
        worst: list[Grade] = []
        for record in self.questions:
            open_replies = {index for index, _ in record.undecided}
            for index, grade in enumerate(record.grades):
                if index in open_replies:
                    best.append("abstained" if record.idk else "correct")
                    worst.append("wrong")
                else:
                    best.append(grade)
                    worst.append(grade)
        threshold = self.info.threshold
        return (
            compute_metrics(Counts.of(best), threshold),
            compute_metrics(Counts.of(worst), threshold),
        )

    def undecided_budget(self) -> tuple[bool, str] | None:
        """(within budget, why) when the suite limits undecided replies; else None."""
        if self.info.max_undecided is None:
            return None
        counts = self.counts
        return ErrorBudget.parse(self.info.max_undecided).check(
            sum(self.undecided.values()), counts.graded, "undecided", "max_undecided"
        )

    def tag_metrics(self) -> dict[str, Metrics]:
        """Metrics of the questions carrying each tag, tags in alphabetical order."""
        counts: dict[str, Counts] = {}
        for record in self.questions:
            for tag in record.tags:
                counts[tag] = counts.get(tag, Counts()) + record.counts
        return {tag: compute_metrics(counts[tag], self.info.threshold) for tag in sorted(counts)}

    @property
    def answerable_abstention_rate(self) -> float | None:
        """Abstention on the questions with a known answer: over-refusal (None: none graded)."""
        counts = answerable_counts(self.questions)
        return counts.abstained / counts.graded if counts.graded else None

    def floor_checks(self) -> list[FloorCheck]:
        """The suite's floors against its metrics, each with its interval."""
        info = self.info
        return floor_checks(
            self.questions,
            info.threshold,
            min_score=info.min_score,
            max_error_rate=info.max_error_rate,
            max_abstention_rate=info.max_abstention_rate,
            significance=info.significance,
            mode="interval" if info.floor == "interval" else "point",
        )

    def _floor_reasons(self, status: str) -> list[str]:
        """The floors with `status` ("failed", "passed", "uncertain"), worded for the gate."""
        info = self.info
        limits = (info.min_score, info.max_error_rate, info.max_abstention_rate)
        if all(limit is None for limit in limits):
            return []
        if self.counts.graded == 0:
            nothing = "no graded replies: nothing to compare with the gates"
            return [nothing] if status == "failed" else []
        reasons = [check.describe() for check in self.floor_checks() if check.status == status]
        unanswerable = not answerable_counts(self.questions).graded
        if status == "passed" and info.max_abstention_rate is not None and unanswerable:
            reasons.append("max_abstention_rate: no question with a known answer was graded")
        return reasons

    @property
    def warnings(self) -> list[str]:
        """Interval floors that cannot tell: the interval straddles the floor (not failed)."""
        return self._over_what(self._floor_reasons("uncertain"))

    @property
    def gated(self) -> bool:
        info = self.info
        floors = any(
            limit is not None
            for limit in (
                info.min_score,
                info.max_error_rate,
                info.max_abstention_rate,
                info.max_errors,
                info.max_undecided,
            )
        )
        c = self.comparison
        # A critical question is a gate of its own: its wrong answer fails the suite.
        critical = any(record.critical for record in self.questions)
        return floors or critical or (c is not None and c.gating and c.status != "not in baseline")

    @property
    def critical_wrong(self) -> list[QuestionRecord]:
        """Critical questions answered wrong (by any sample): each fails the suite's gate,
        whatever the score and the baseline."""
        return [record for record in self.questions if record.critical and record.counts.wrong]

    def error_budget(self) -> tuple[bool, str] | None:
        """(within budget, why) when the suite has an error budget; None when it has none."""
        if self.info.max_errors is None:
            return None
        counts = self.counts
        return ErrorBudget.parse(self.info.max_errors).check(counts.error, counts.total)

    @property
    def errors_excused(self) -> bool:
        """No errors, or as many as the suite's error budget allows (in a completed run)."""
        if not self.counts.error:
            return True
        budget = self.error_budget()
        return budget is not None and budget[0] and self.evaluated

    def _over_what(self, reasons: list[str]) -> list[str]:
        """Score and error-rate checks say when they were made on part of the suite: the
        replies lost to errors are not in them (the error budget decides if that fails)."""
        counts = self.counts
        if not counts.error or not reasons:
            return reasons
        over = f" (over {counts.graded} of {counts.total} replies: {counts.error} missing)"
        return [reason + over for reason in reasons]

    @property
    def failures(self) -> list[str]:
        reasons = self._over_what(self._floor_reasons("failed"))
        for budget in (self.error_budget(), self.undecided_budget()):
            if budget is not None and not budget[0]:
                reasons.append(budget[1])
        if self.comparison is not None:
            reasons.extend(self.comparison.regressions)
        reasons.extend(
            f"critical question {record.id!r} answered wrong {record.counts.wrong}/"
            f"{len(record.grades)}"
            for record in self.critical_wrong
        )
        return reasons

    @property
    def passes(self) -> list[str]:
        passes = self._over_what(self._floor_reasons("passed"))
        for budget in (self.error_budget(), self.undecided_budget()):
            if budget is not None and budget[0]:
                passes.append(budget[1])
        critical = sum(1 for record in self.questions if record.critical)
        if critical and not self.critical_wrong:
            passes.append(f"no critical question answered wrong ({critical} critical)")
        return passes

    @property
    def verdict(self) -> str:
        if not self.evaluated:
            return "not evaluated"
        if not self.gated:
            return "not gated"
        return "failed" if self.failures else "passed"

    @property
    def partial(self) -> bool:
        return len(self.questions) < self.info.size

    @property
    def cached(self) -> int:
        return sum(r.cached for r in self.questions)

    @property
    def retries(self) -> int:
        return sum(r.retries for r in self.questions)

    @property
    def served(self) -> Served:
        """The models (and fingerprints) the endpoint says answered this suite's replies."""
        return served_of(self.info.responder, self.questions)

    @property
    def dropped(self) -> list[str]:
        """Parameters the endpoint refused for any of the suite's replies."""
        return sorted({name for r in self.questions for name in r.dropped})

    @property
    def retried(self) -> int:
        """Requests that needed more than one attempt (`retries` counts the attempts)."""
        return sum(r.retried for r in self.questions)

    @property
    def timed_out(self) -> int:
        """Replies lost to a timeout: the endpoint is slower than the run asks of it."""
        return sum(r.timed_out for r in self.questions)

    @property
    def tokens(self) -> tuple[int, int]:
        return (
            sum(r.prompt_tokens for r in self.questions),
            sum(r.completion_tokens for r in self.questions),
        )

    @property
    def judged(self) -> JudgeTally:
        """How the judge's verdicts went, over every reply it was asked about."""
        tally = JudgeTally()
        for record in self.questions:
            # Records made without grading details (by hand, in tests) have none to zip.
            for by, rules, grade in zip(
                record.graded_by, record.rule_grades, record.grades, strict=False
            ):
                if by != "judge":
                    continue
                tally.judged += 1
                if grade == "error":
                    tally.failed += 1
                elif grade != rules:
                    tally.overturned += 1
        tally.tokens = sum(r.judge_tokens for r in self.questions)
        return tally

    def pushback(self) -> PushbackFigures | None:
        """With pushback: first replies against final ones (results/pushback.py)."""
        return pushback_figures(self.questions, self.info.threshold)

    def stated_confidence(self) -> StatedConfidence | None:
        """With verbal confidence: the stated confidences against the grades; else None."""
        if not self.info.verbal_confidence:
            return None
        grades: list[str] = []
        confidences: list[float | None] = []
        problems: list[str] = []
        for record in self.questions:
            for grade, confidence, problem in zip(
                record.grades, record.confidences, record.confidence_problems, strict=True
            ):
                grades.append(grade)
                confidences.append(confidence)
                if problem is not None and grade != "error":
                    problems.append(f"{record.id}: {problem}")
        return stated_confidence(grades, confidences, problems, self.info.threshold)


@dataclass
class JudgeTally:
    """Replies the judge graded, those where it disagreed with the string rules, and those
    it could not grade (no verdict, or one that could not be read: each an `error`)."""

    judged: int = 0
    overturned: int = 0
    failed: int = 0
    tokens: int = 0


def aggregate(records: Iterable[QuestionRecord], evaluated: bool = True) -> list[SuiteResult]:
    """Group records by suite, in a deterministic order whatever order they arrived in;
    `evaluated` False for a run that stopped early (nothing is gated)."""
    suites: dict[str, SuiteResult] = {}
    for record in records:
        result = suites.setdefault(record.suite.key, SuiteResult(record.suite, evaluated=evaluated))
        result.questions.append(record)
    for result in suites.values():
        result.questions.sort(key=lambda r: (r.index, r.nodeid))
    return [suites[key] for key in sorted(suites)]


def overall_metrics(results: Iterable[SuiteResult]) -> Metrics:
    """All suites pooled; each reply scored at its own suite's t."""
    per_suite = [(result.counts, result.info.threshold) for result in results]
    counts = Counts.summed(c for c, _ in per_suite)
    return metrics_from(counts, sum(score_points(c, t) for c, t in per_suite))


#: A model on the leaderboard: name, pooled metrics, rank by score, rank by plain accuracy.
Ranked = tuple[str, Metrics, int, int]


def leaderboard(results: Iterable[SuiteResult]) -> list[Ranked]:
    """Each responder's pooled metrics over its suites, best penalised score first, with its
    rank by score and by plain accuracy (1 = best; ties share a rank).

    Empty unless at least two responders answered: there is nothing to compare otherwise.
    """
    # Only suites asked of every model compare fairly (questions declared in Python are
    # asked of the first model only).
    paired = [r for r in results if r.info.side_by_side is not None]
    responders = {r.info.responder for r in paired}
    asked_by: dict[tuple[str, float], set[str]] = {}
    for result in paired:
        key = (result.info.side_by_side or "", result.info.threshold)
        asked_by.setdefault(key, set()).add(result.info.responder)
    groups: dict[str, list[SuiteResult]] = {}
    for result in paired:
        if asked_by[(result.info.side_by_side or "", result.info.threshold)] == responders:
            groups.setdefault(result.info.responder, []).append(result)
    if len(groups) < 2:
        return []
    board = [(name, overall_metrics(members)) for name, members in groups.items()]

    def value(number: float | None) -> float:
        return number if number is not None else float("-inf")

    def rank(number: float | None, values: list[float | None]) -> int:
        return 1 + sum(1 for other in values if value(other) > value(number))

    scores, accuracies = [m.score for _, m in board], [m.accuracy for _, m in board]
    ranked = [(n, m, rank(m.score, scores), rank(m.accuracy, accuracies)) for n, m in board]
    return sorted(ranked, key=lambda entry: (entry[2], entry[0]))


def lost_record(
    nodeid: str, reason: str, siblings: Iterable[QuestionRecord]
) -> QuestionRecord | None:
    """An error record for a question that produced none (its xdist worker crashed).

    Its suite is taken from a sibling: a record of the same file and the same parameters
    (model, t), found by node id. None when no sibling ran: then nothing says which suite
    it belonged to, and the run's problems name it instead.
    """
    path, _, name = nodeid.partition("::")
    qid, _, params = name.partition("[")
    for sibling in siblings:
        sibling_path, _, sibling_name = sibling.nodeid.partition("::")
        if sibling_path == path and sibling_name.partition("[")[2] == params:
            samples = sibling.suite.samples
            return QuestionRecord(
                suite=sibling.suite,
                nodeid=nodeid,
                # Its place in the file is unknown on the controller: listed last.
                index=sibling.suite.size,
                id=qid,
                question="",
                idk=False,
                expected=[],
                regex=None,
                tags=[],
                grades=["error"] * samples,
                replies=[None] * samples,
                errors=[reason] * samples,
                graded_by=[None] * samples,
                rule_grades=[None] * samples,
                doubts=[None] * samples,
            )
    return None
