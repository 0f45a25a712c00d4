"""A suite's results against its baseline, question by question (pure; no pytest).

A regression is declared only when the drop exceeds the tolerance *and* the pooled
permutation test (permutation.py: this run's samples against the baseline's pool, question by
question) finds it significant. The suite's tests (score, error rate and abstention on
answerable questions, for the suite and for each tag with enough questions) are corrected
together with Holm's procedure; in a run, every comparison's tests then form one family
(family.py), so the run's false-alarm rate stays at the chosen level however many suites and
tags it has.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from fractions import Fraction
from statistics import NormalDist

from ..records import (
    Counts,
    Metric,
    MetricComparison,
    QuestionChange,
    QuestionRecord,
    SuiteComparison,
    TagCost,
)
from ..shown import format_number
from .baseline import Baseline, BaselineSuite, shared_keys
from .orphans import renamed_from, unclaimed
from .permutation import EXACT_BUDGET, Stratum, pooled_test, smallest_p, stratum
from .scoring import penalty, points
from .stats import POWER, holm_rejections, mean, mean_interval
from .suites import SuiteResult

#: Below this share of questions in common, a baseline describes a different suite.
MIN_OVERLAP = 0.5
#: Questions listed per kind of change in messages; the JSON report has all of them.
CHANGES_SHOWN = 10
_Z = NormalDist()
#: Multiply-adds the exact tests of one suite's comparison may spend together (about 40 ms).
COMPARISON_BUDGET = 600_000


def _score(counts: Counts, threshold: float) -> float:
    return points(counts, threshold) / counts.graded


def _error_rate(counts: Counts, threshold: float) -> float:
    return counts.wrong / counts.graded


def _abstention(counts: Counts, threshold: float) -> float:
    return counts.abstained / counts.graded


_VALUES: dict[Metric, Callable[[Counts, float], float]] = {
    "score": _score,
    "error_rate": _error_rate,
    "answerable_abstention": _abstention,
}
#: The metrics where a higher value is worse.
_HIGHER_IS_WORSE: frozenset[Metric] = frozenset({"error_rate", "answerable_abstention"})


def _sample_values(metric: Metric, threshold: float) -> tuple[tuple[int, int, int], int]:
    """Integer values of a correct, wrong and abstained sample for the pooled test, and the
    scale they carry: a score's -t/(1-t) is a fraction (t = 0.7: -7/3, so values 3, -7, 0)."""
    if metric == "score":
        cost = Fraction(penalty(threshold)).limit_denominator(10_000)
        return (cost.denominator, -cost.numerator, 0), cost.denominator
    if metric == "error_rate":
        return (0, 1, 0), 1
    return (0, 0, 1), 1


#: One paired question for one metric: its baseline value, its value now, its stratum.
_Row = tuple[float, float, Stratum]


def _rows(
    metric: Metric, pairs: dict[str, tuple[Counts, Counts]], threshold: float
) -> dict[str, _Row]:
    """Each paired question's row for `metric`, built once for the suite and all its tags."""
    value = _VALUES[metric]
    values, _ = _sample_values(metric, threshold)
    # Questions share counts: each stratum is built once (a suite of 10,000 has a few dozen).
    built: dict[tuple[int, ...], Stratum] = {}
    rows = {}
    for qid, (before, after) in pairs.items():
        key = (before.correct, before.wrong, before.abstained, after.correct, after.wrong,
               after.abstained)  # fmt: skip
        found = built.get(key)
        if found is None:
            found = built[key] = stratum(_tally(before, values), _tally(after, values))
        rows[qid] = (value(before, threshold), value(after, threshold), found)
    return rows


def _tally(counts: Counts, values: tuple[int, int, int]) -> dict[int, int]:
    out: dict[int, int] = {}
    for value, count in zip(values, (counts.correct, counts.wrong, counts.abstained), strict=True):
        out[value] = out.get(value, 0) + count
    return out


def _change(
    qid: str, before: Counts, after: Counts, replies: tuple[str | None, str | None]
) -> QuestionChange | None:
    eps = 1e-9
    for kind, grade in (
        ("newly wrong", "wrong"),
        ("newly abstaining", "abstained"),
        ("newly correct", "correct"),
    ):
        if getattr(after, grade) / after.graded > getattr(before, grade) / before.graded + eps:
            return QuestionChange(qid, kind, before, after, *replies)  # type: ignore[arg-type]
    return None


def _metric(
    metric: Metric,
    scope: str,
    rows: Sequence[_Row],
    threshold: float,
    tolerance: float,
    budget: int,
) -> tuple[MetricComparison, int]:
    """The metric compared, and the multiply-adds its exact test spent of `budget`. Its
    detectable drop depends on the family's size: decide_comparison works it out."""
    before = [row[0] for row in rows]
    after = [row[1] for row in rows]
    _, scale = _sample_values(metric, threshold)
    # The null hypothesis is "the drop is within the tolerance": the threshold of each tail is
    # moved by the tolerance (summed over questions), so drops inside it fail at most alpha of
    # the time (exactly so at tolerance 0; near enough beyond, as the spread barely moves).
    test = pooled_test([row[2] for row in rows], tolerance * len(rows) * scale, budget)
    worse, better = (
        (test.upper, test.lower) if metric in _HIGHER_IS_WORSE else (test.lower, test.upper)
    )
    drop = mean(before) - mean(after)
    if metric in _HIGHER_IS_WORSE:
        drop = -drop
    # The spread of the mean difference under no change: a detectable drop scales with it.
    noise = test.spread / scale / len(rows) if test.spread > 0 else None
    compared = MetricComparison(
        metric=metric,
        scope=scope,
        questions=len(rows),
        baseline=mean(before),
        now=mean(after),
        baseline_interval=mean_interval(before),
        now_interval=mean_interval(after),
        delta_interval=mean_interval([a - b for b, a in zip(before, after, strict=True)]),
        p_value=worse,
        p_better=better,
        exact=test.exact,
        drop=drop,
        detectable=None,
        noise=noise,
    )
    return compared, test.cost


def largest_drop(metric: Metric, baseline: float, threshold: float) -> float:
    """The most a metric can get worse: a rate rises at most to 1, a score drops at most
    to -t/(1-t)."""
    return baseline + penalty(threshold) if metric == "score" else 1 - baseline


def metric_tolerance(metric: Metric, tolerance: float, threshold: float) -> float:
    """The tolerance is in rate points; a reply turning from correct to wrong moves the
    score by 1 + t/(1-t) as much, so the score's tolerance is scaled to match."""
    return tolerance * (1 + penalty(threshold)) if metric == "score" else tolerance


def detectable_at(noise: float | None, level: float, power: float = POWER) -> float | None:
    """The drop caught with `power` by a one-sided test at `level`, from a metric's noise."""
    if noise is None or noise <= 0:
        return None
    return (_Z.inv_cdf(1 - level) + _Z.inv_cdf(power)) * noise


def _possible(detectable: float | None, most: float) -> float | None:
    """The detectable drop, or None when it is more than the metric can drop at all: an
    error rate rises by at most 1 - its baseline, a score drops at most to -t/(1-t)."""
    return detectable if detectable is not None and detectable <= most + 1e-9 else None


def compared(
    results: Sequence[SuiteResult], baseline: Baseline, tag_min_questions: int, gating: bool
) -> list[SuiteResult]:
    """`results`, each with its comparison against `baseline`; `gating` False shows the
    comparisons without failing on them (the run is updating the baseline)."""
    left = unclaimed(results, baseline)
    shared = shared_keys(results)
    out = []
    for result in results:
        found = baseline.entry_of(result.info)
        comparison = compare_suite(
            result, None if found is None else found[1], tag_min_questions, gating
        )
        if result.info.baseline_id in shared:
            comparison = SuiteComparison(
                status="refused", message=shared[result.info.baseline_id], gating=gating
            )
        comparison.baseline_file = baseline.shown_path
        if found is None:
            comparison.renamed_from = renamed_from(result, left)
            if comparison.renamed_from is not None:
                comparison.message = (
                    "this suite is not in the baseline yet, but the entry "
                    f"{comparison.renamed_from} holds its questions: renamed or moved? "
                    "(see the baseline entries no suite claims)"
                )
        out.append(replace(result, comparison=comparison))
    return out


def compare_suite(
    result: SuiteResult, base: BaselineSuite | None, tag_min_questions: int, gating: bool = True
) -> SuiteComparison:
    """Compare `result` with its baseline entry, or say why it cannot be compared."""
    info = result.info
    comparison = SuiteComparison(
        status="compared", tolerance=info.tolerance, significance=info.significance, gating=gating
    )
    if base is None:
        comparison.status = "not in baseline"
        comparison.message = "this suite is not in the baseline yet: update it to start comparing"
        return comparison
    if abs(base.threshold - info.threshold) > 1e-12:
        comparison.status = "refused"
        comparison.message = (
            f"the baseline was made at t={format_number(base.threshold)} and this run states "
            f"t={format_number(info.threshold)}; scores at different targets are not comparable. "
            "Update the baseline in the same change that moves t"
        )
        return comparison

    now: dict[str, QuestionRecord] = {r.id: r for r in result.questions}
    comparison.added = sorted(set(now) - set(base.questions))
    # A question edited under the same id asks something else: it is not paired.
    comparison.edited = sorted(
        qid
        for qid in now
        if qid in base.questions and base.questions[qid].sha256 not in (None, now[qid].content_sha)
    )
    common = [qid for qid in now if qid in base.questions and qid not in comparison.edited]
    if result.partial:
        # Only part of the suite ran (-k, -x): what did not run was not removed.
        comparison.not_run = sorted(set(base.questions) - set(now))
    else:
        comparison.removed = sorted(set(base.questions) - set(now))
    overlap = len(common) / max(len(now), len(base.questions), 1)
    if overlap < MIN_OVERLAP and not result.partial:
        comparison.status = "refused"
        comparison.message = (
            f"only {len(common)} of the suite's {len(now)} questions are in its baseline "
            f"({len(base.questions)} questions): the questions changed wholesale. "
            "Update the baseline to start comparing again"
        )
        return comparison
    comparison.notes = _notes(result, base)
    comparison.recordings, comparison.pooled_since = base.recordings, base.pooled_since

    pairs: dict[str, tuple[Counts, Counts]] = {}
    for qid in common:
        before, after = base.questions[qid].counts, now[qid].counts
        if after.graded == 0 or before.graded == 0:
            comparison.unpaired.append(qid)  # an errored question is not evidence either way
            continue
        pairs[qid] = (before, after)
        change = _change(qid, before, after, (base.questions[qid].reply, None))
        if change is not None:
            # The reply is looked up only for a question that changed (a suite of 10,000).
            comparison.changes.append(replace(change, after_reply=now[qid].short_reply))

    scopes = [("suite", list(pairs))]
    for tag, tagged in _by_tag(result, pairs).items():
        if len(tagged) >= tag_min_questions:
            scopes.append((f"tag {tag}", tagged))
        else:
            comparison.tags_not_gated[tag] = len(tagged)
    if not pairs:
        if result.partial:
            # Running only new questions with -k is normal: there is nothing to compare yet.
            comparison.status = "not in baseline"
            comparison.message = "none of the questions that ran are in the baseline yet"
        else:
            comparison.status = "refused"
            comparison.message = "no question has graded replies on both sides"
        return comparison

    tested = _tested(scopes, now)
    alpha = info.significance
    tolerances = {m: metric_tolerance(m, info.tolerance, info.threshold) for m in _VALUES}
    metrics = []
    # The exact convolution is spent on the suite first, then on the tags in order, until the
    # comparison's budget is used (many large tags are approximated, as they can be).
    budget = COMPARISON_BUDGET
    rows = {metric: _rows(metric, pairs, info.threshold) for metric in _VALUES}
    for scope, metric, ids in tested:
        compared_metric, spent = _metric(
            metric, scope, [rows[metric][q] for q in ids], info.threshold, tolerances[metric],
            min(budget, EXACT_BUDGET),
        )  # fmt: skip
        budget -= spent
        metrics.append(compared_metric)
    comparison.metrics = metrics
    comparison.smallest_p = smallest_p([(b.graded, a.graded) for b, a in pairs.values()])
    # The suite's own family; a run's family-wise step (family.py) decides again across
    # every comparison of the run, the same way.
    return decide_comparison(
        comparison,
        info.threshold,
        holm_rejections([m.p_value for m in metrics], alpha),
        holm_rejections([m.p_better for m in metrics], alpha),
        len(metrics),
    )


#: How the note on a suite too small for any verdict begins.
UNTESTABLE_NOTE = "too small to test"


def decide_comparison(
    comparison: SuiteComparison,
    threshold: float,
    worse: Sequence[bool],
    better: Sequence[bool],
    family_size: int,
) -> SuiteComparison:
    """`comparison` with its metrics decided: `worse` and `better` say which tests the
    correction rejected (one per metric, in order) among `family_size` tests. A regression
    (improvement) also needs the drop (rise) itself beyond the tolerance. The detectable
    drops, and whether any change can be significant, are at the family's first Holm step."""
    level = comparison.significance / max(family_size, 1)
    metrics = []
    for m, rejected, improved in zip(comparison.metrics, worse, better, strict=True):
        tolerance = metric_tolerance(m.metric, comparison.tolerance, threshold)
        detectable = m.detectable
        if m.noise is not None:
            detectable = _possible(
                detectable_at(m.noise, level), largest_drop(m.metric, m.baseline, threshold)
            )
        metrics.append(
            replace(
                m,
                regressed=rejected and m.drop > tolerance,
                improved=improved and -m.drop > tolerance,
                detectable=detectable,
            )
        )
    paired = max((m.questions for m in metrics if m.scope == "suite"), default=0)
    untestable = bool(metrics) and comparison.smallest_p > level
    notes = [note for note in comparison.notes if not note.startswith(UNTESTABLE_NOTE)]
    if untestable:
        # No change can be significant, so no drop is "detectable": no figure is shown.
        metrics = [replace(m, detectable=None) for m in metrics]
        notes.append(
            f"{UNTESTABLE_NOTE}: with {paired} paired questions no change can be "
            f"significant at {format_number(comparison.significance)}"
            + (f" across {family_size} tests" if family_size > _suite_tests(metrics) else "")
            + "; add questions or samples"
        )
    return replace(
        comparison,
        metrics=metrics,
        untestable=untestable,
        notes=notes,
        family_size=family_size,
        tag_cost=_tag_cost(metrics, comparison.significance, family_size),
    )


def _suite_tests(metrics: Sequence[MetricComparison]) -> int:
    return sum(1 for m in metrics if m.scope == "suite")


def _tag_cost(
    metrics: Sequence[MetricComparison], alpha: float, family_size: int
) -> TagCost | None:
    """The suite's detectable error-rate rise at the family's first Holm step, with its
    tag tests in the family and without them; None without gated tags."""
    tag_tests = sum(1 for m in metrics if m.scope != "suite")
    suite = next((m for m in metrics if m.scope == "suite" and m.metric == "error_rate"), None)
    if not tag_tests or suite is None:
        return None

    def rise(tests: int) -> float | None:
        found = detectable_at(suite.noise, alpha / max(tests, 1))
        return _possible(found, largest_drop("error_rate", suite.baseline, 0.0))

    return TagCost(tag_tests, family_size, rise(family_size - tag_tests), rise(family_size))


def _by_tag(result: SuiteResult, pairs: dict[str, tuple[Counts, Counts]]) -> dict[str, list[str]]:
    """The paired questions of each tag of the suite, tags sorted (one pass, for many tags)."""
    by_tag: dict[str, list[str]] = {t: [] for r in result.questions for t in sorted(r.tags)}
    for record in result.questions:
        if record.id in pairs:
            for tag in dict.fromkeys(record.tags):
                by_tag[tag].append(record.id)
    return dict(sorted(by_tag.items()))


def _tested(
    scopes: Sequence[tuple[str, Sequence[str]]], now: dict[str, QuestionRecord]
) -> list[tuple[str, Metric, Sequence[str]]]:
    """(scope, metric, paired questions) of every test of the family, the suite's first."""
    tested: list[tuple[str, Metric, Sequence[str]]] = []
    for scope, ids in scopes:
        tested += [(scope, "score", ids), (scope, "error_rate", ids)]
        # Over-refusal: abstaining where there is an answer, tested like the error rate.
        answerable = [q for q in ids if not now[q].idk]
        if answerable:
            tested.append((scope, "answerable_abstention", answerable))
    return tested


def _notes(result: SuiteResult, base: BaselineSuite) -> list[str]:
    """Differences in what produced the two runs: worth knowing, not a reason to refuse."""
    info, made = result.info, base.produced_by
    notes = []
    if made.get("endpoint") != info.endpoint:
        notes.append(f"endpoint changed: {made.get('endpoint')} → {info.endpoint}")
    if made.get("responder") != info.responder:
        notes.append(f"responder changed: {made.get('responder')} → {info.responder}")
    if made.get("prompt_template_sha256") != info.prompt_sha:
        notes.append("the confidence instruction changed since the baseline")
    if made.get("system_prompt_sha256") != info.system_prompt_sha:
        notes.append("the system prompt changed since the baseline")
    served = _served_change(made.get("served_models"), sorted(result.served.models))
    if served is not None:
        notes.append(served)
    # Baselines from before the judge have neither key: the same as no judge.
    if made.get("judge") != info.judge:
        notes.append(f"judge changed: {made.get('judge') or 'none'} → {info.judge or 'none'}")
    elif made.get("judge_when") != info.judge_when:
        notes.append(f"the judge grades {info.judge_when or 'nothing'} now, "
                     f"{made.get('judge_when') or 'nothing'} in the baseline")  # fmt: skip
    elif made.get("judge_prompt_sha256") != info.judge_prompt_sha:
        notes.append("the judge prompt changed since the baseline")
    if bool(made.get("verbal_confidence")) != info.verbal_confidence:
        now = "on" if info.verbal_confidence else "off"
        notes.append(f"verbal confidence is {now} now (the prompt and replies differ)")
    # Baselines from before generation parameters have none to compare.
    if "generation" in made and made.get("generation") != info.generation:
        notes.append("the generation parameters changed since the baseline")
    if base.samples != info.samples:
        notes.append(f"samples per question changed: {base.samples} → {info.samples}")
    return notes


def _served_change(before: object, now: list[str]) -> str | None:
    """The note when the endpoint says another model answered than in the baseline. Only
    when both runs say: older baselines, the team's own responder and endpoints that name
    no model leave it unknown, which is no change to report."""
    if not isinstance(before, list) or not before or not now or sorted(before) == now:
        return None
    return f"served model changed: {', '.join(map(str, before))} → {', '.join(now)}"
