"""Wording that several outputs share, so each renderer reads it from here and none imports
another: the lines of a baseline comparison (terminal and the JUnit gate message), the
judge, undecided and stated-confidence sentences, and the risk-coverage points reports show
(terminal, Markdown and HTML). Pure."""

from __future__ import annotations

from collections.abc import Sequence

from ..records import Interval, SuiteComparison
from ..results.comparison import CHANGES_SHOWN
from ..results.risk_coverage import CoveragePoint, StatedConfidence
from ..results.suites import SuiteResult
from ..results.verdict import Verdict
from ..shown import format_rate

#: A line of text and its terminal markup (e.g. {"red": True}); other outputs drop the markup.
Line = tuple[str, dict[str, bool]]

#: What an audit that could not fail says instead of "follows the stated t".
UNTESTABLE = "too few answered questions to judge: no check could fail at this level"


#: The t's of the risk-coverage curve the terminal shows (with the suite's own); the JSON
#: report has every 0.05.
CURVE_SHOWN = (0.0, 0.5, 0.75, 0.9, 0.95)


def _interval(interval: Interval) -> str:
    return f"[{interval.low:.3f}, {interval.high:.3f}]"


def comparison_lines(comparison: SuiteComparison, verbosity: int = 0) -> list[Line]:
    """Baseline vs now: each metric with its interval, then the questions that changed."""
    if comparison.status != "compared":
        markup = {"red": True} if comparison.regressions else {"yellow": True}
        label = "REFUSED" if comparison.status == "refused" else "not compared"
        return [(f"  vs baseline: {label}: {comparison.message}", markup)]
    paired = comparison.metrics[0].questions if comparison.metrics else 0
    head = f"  vs baseline: {paired} paired questions"
    if comparison.added:
        head += f"; added since (not compared): {', '.join(comparison.added)}"
    if comparison.removed:
        head += f"; removed since: {', '.join(comparison.removed)}"
    if comparison.edited:
        head += f"; edited since (not compared): {', '.join(comparison.edited)}"
    if comparison.not_run:
        head += f"; {len(comparison.not_run)} not run this time"
    lines: list[Line] = [(head, {"bold": True})]
    for m in comparison.metrics:
        if m.scope != "suite" and not (m.regressed or m.improved or verbosity > 0):
            continue
        name = ("score" if m.metric == "score" else "error rate").ljust(10)
        scope = "" if m.scope == "suite" else f"{m.scope} "
        verdict, markup = "", {}
        if m.regressed:
            verdict, markup = "  REGRESSED", {"red": True}
        elif m.improved:
            verdict, markup = "  improved", {"green": True}
        lines.append(
            (
                f"    {scope}{name} {m.baseline:.3f} {_interval(m.baseline_interval)} → "
                f"{m.now:.3f} {_interval(m.now_interval)}   Δ {m.delta:+.3f} "
                f"{_interval(m.delta_interval)}   p={m.p_value:.3g}{verdict}",
                markup,
            )
        )
    lines.extend(change_lines(comparison, verbosity))
    if not comparison.gating:
        lines.append(("    (reported only: this run updates the baseline)", {}))
    return lines


def change_lines(comparison: SuiteComparison, verbosity: int = 0) -> list[Line]:
    """The questions that changed, and what else the comparison noticed."""
    lines: list[Line] = []
    for kind in ("newly wrong", "newly abstaining", "newly correct"):
        changes = comparison.changed(kind)
        if changes:
            shown = changes if verbosity > 0 else changes[:CHANGES_SHOWN]
            more = f" ... and {len(changes) - len(shown)} more" if len(changes) > len(shown) else ""
            text = "; ".join(c.describe() for c in shown)
            markup = {"yellow": True} if kind == "newly wrong" else {}
            lines.append((f"    {kind} ({len(changes)}): {text}{more}", markup))
    if comparison.unpaired:
        lines.append((f"    not compared (no graded reply): {', '.join(comparison.unpaired)}", {}))
    lines.extend((f"    note: {note}", {}) for note in comparison.notes)
    if comparison.tags_not_gated:
        small = ", ".join(f"{t} ({n})" for t, n in comparison.tags_not_gated.items())
        lines.append((f"    tags too small to gate on their own: {small}", {}))
    suite_metrics = {m.metric: m for m in comparison.metrics if m.scope == "suite"}
    score, errors = suite_metrics.get("score"), suite_metrics.get("error_rate")
    if score and errors and score.detectable is not None and errors.detectable is not None:
        lines.append(
            (
                f"    detectable at 80% power: a score drop of {score.detectable:.3f}, "
                f"an error-rate rise of {errors.detectable:.3f}",
                {},
            )
        )
    return lines


def stated_line(stated: StatedConfidence) -> str:
    """'stated confidence: 8 of 8 replies; calibration error (ECE) 0.180, overconfident...'."""
    text = f"stated confidence: {stated.stated} of {stated.replies} replies"
    calibrated = stated.calibration
    if calibrated is not None:
        side = "over" if calibrated.overconfidence >= 0 else "under"
        text += (
            f"; calibration error (ECE) {format_rate(calibrated.ece)}, {side}confident by "
            f"{format_rate(abs(calibrated.overconfidence))} over {calibrated.answered} answers"
        )
    return text


def curve_shown(stated: StatedConfidence, threshold: float) -> list[CoveragePoint]:
    """The risk-coverage points reports show: a few t's and the suite's own."""
    return [p for p in stated.curve if p.threshold in CURVE_SHOWN or p.threshold == threshold]


def undecided_line(result: SuiteResult) -> str | None:
    """'undecided by the string rules: 3 of 8 replies (partial 2, hedge 1); graded the worst
    and the best way: score -0.500 to 0.750, error rate 0.125 to 0.500, ...', or None."""
    span = result.undecided_range()
    if span is None:
        return None
    best, worst = span
    why = ", ".join(f"{kind} {n}" for kind, n in result.undecided.most_common())
    return (
        f"undecided by the string rules: {sum(result.undecided.values())} of "
        f"{result.counts.graded} replies ({why}); graded the worst and the best way: "
        f"score {format_rate(worst.score)} to {format_rate(best.score)}, "
        f"error rate {format_rate(best.error_rate)} to {format_rate(worst.error_rate)}, "
        f"accuracy {format_rate(worst.accuracy)} to {format_rate(best.accuracy)}"
    )


def judge_line(result: SuiteResult) -> str:
    """'judge gpt-4o-mini (where the rules are unsure): 12 replies judged, 3 overturned...'."""
    info, tally = result.info, result.judged
    when = "every reply" if info.judge_when == "always" else "where the rules are unsure"
    text = (
        f"judge {info.judge or '(none)'} ({when}): {tally.judged} replies judged, "
        f"{tally.overturned} overturned the string rules"
    )
    if tally.failed:
        text += f", {tally.failed} without a readable verdict (errors)"
    return text + (f", {tally.tokens} tokens" if tally.tokens else "")


#: Suites named in the verdict's one line before "and N more".
VERDICT_NAMES = 3


def _named(keys: Sequence[str]) -> str:
    more = f" and {len(keys) - VERDICT_NAMES} more" if len(keys) > VERDICT_NAMES else ""
    return ", ".join(keys[:VERDICT_NAMES]) + more


def verdict_reason(
    verdict: Verdict, results: Sequence[SuiteResult], problems: Sequence[str] = ()
) -> str:
    """Why the run passed or failed, in one line (the HTML report's headline): '1 of 4
    suites failed their gate: facts.yaml (score -0.400 < min_score 0.25)'."""
    reasons: list[str] = []
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        reasons.append(f"the run itself failed: {problems[0]}{more}")
    if verdict.stopped:
        reasons.append("every reply failed the same way, so the run stopped asking")
    if verdict.failed_gates:
        gates = [f"{key} ({why[0]})" if why else key for key, why in verdict.failed_gates]
        reasons.append(f"{len(gates)} of {len(results)} suites failed their gate: {_named(gates)}")
    if verdict.failed_audits:
        reasons.append(f"the calibration audit failed: {_named(verdict.failed_audits)}")
    if verdict.disagreements:
        reasons.append(
            f"the judge disagrees with the person on {len(verdict.disagreements)} calibration cases"
        )
    if verdict.unexcused_errors:
        reasons.append(
            f"replies missing beyond the error budget: {_named(verdict.unexcused_errors)}"
        )
    if not verdict.complete:
        reasons.append("the run stopped early (-x or --maxfail): nothing was gated")
    if reasons:
        return "; ".join(reasons)
    gated = sum(result.gated for result in results)
    if not gated:
        return (
            "no suite has a gate (min_score, max_error_rate, max_errors or a baseline): "
            "nothing could fail"
        )
    line = f"every gate held: {gated} of {len(results)} suites gated"
    if verdict.forgiven:
        line += f"; {verdict.forgiven} questions without a reply, within the error budgets"
    return line
