"""Wording that several outputs share, so each renderer reads it from here and none imports
another: the lines of a baseline comparison (terminal and the JUnit gate message), the
judge, undecided and stated-confidence sentences, the risk-coverage points reports show
(terminal, Markdown and HTML), and a wrong answer with what was expected (the terminal and
the JUnit message of its test case). Pure."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from typing import Any

from ..expiry import EXPIRING_DAYS
from ..grading import parse_reply
from ..records import (
    METRIC_NAMES,
    Interval,
    OrphanEntry,
    QuestionChange,
    QuestionRecord,
    SuiteComparison,
    shortened,
)
from ..results.baseline import Update
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


def expected_shown(record: QuestionRecord) -> str:
    """What a right reply to the question is: "expected: Paris | /paris/i", or "expected:
    I don't know" for an idk question."""
    if record.idk:
        return "expected: I don't know"
    shown = [str(a) for a in record.expected]
    if record.regex:
        shown.append(f"/{record.regex}/")
    return "expected: " + " | ".join(shown)


def wrong_sample(record: QuestionRecord) -> tuple[str | None, str]:
    """The question's first wrong reply as graded, and " at stated confidence 0.8" when it
    stated one; with verbal confidence the reply is JSON, and its answer is what was graded."""
    index = record.grades.index("wrong")
    sample, stated = record.replies[index], ""
    if record.confidences and sample is not None:
        sample = parse_reply(sample).answer
        confidence = record.confidences[index]
        stated = "" if confidence is None else f" at stated confidence {confidence:g}"
    return sample, stated


def _interval(interval: Interval) -> str:
    return f"[{interval.low:.3f}, {interval.high:.3f}]"


#: Characters of each reply a changed question shows (the baseline keeps up to 200).
REPLY_SHOWN = 40
#: Width long messages (a refusal, a rename) are wrapped to in the terminal and JUnit.
WIDTH = 100


def wrapped(text: str, first: str, rest: str) -> list[str]:
    """`text` in lines of at most WIDTH characters, the first indented by `first`."""
    return textwrap.wrap(text, WIDTH, initial_indent=first, subsequent_indent=rest) or [first]


def _listed(ids: Sequence[str], verbosity: int = 0) -> str:
    shown = ids if verbosity > 0 else ids[:CHANGES_SHOWN]
    more = f" ... and {len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
    return ", ".join(shown) + more


def comparison_lines(comparison: SuiteComparison, verbosity: int = 0) -> list[Line]:
    """Baseline vs now: each metric with its interval, then the questions that changed."""
    if comparison.status != "compared":
        markup = {"red": True} if comparison.regressions else {"yellow": True}
        label = "REFUSED" if comparison.status == "refused" else "not compared"
        text = f"vs baseline: {label}: {comparison.message}"
        return [(line, markup) for line in wrapped(text, "  ", "    ")]
    paired = comparison.metrics[0].questions if comparison.metrics else 0
    head = f"  vs baseline: {paired} paired questions"
    if comparison.recordings > 1:
        since = f" since {comparison.pooled_since}" if comparison.pooled_since else ""
        head += f" (baseline pooled from {comparison.recordings} recordings{since})"
    if comparison.not_run:
        head += f"; {len(comparison.not_run)} not run this time"
    lines: list[Line] = [(head, {"bold": True})]
    for what, ids in (
        ("added since (not compared)", comparison.added),
        ("removed since", comparison.removed),
        ("edited since (not compared)", comparison.edited),
    ):
        if ids:
            lines.append((f"    {what}: {_listed(ids, verbosity)}", {}))
    for m in comparison.metrics:
        if m.scope != "suite" and not (m.regressed or m.improved or verbosity > 0):
            continue
        name = METRIC_NAMES[m.metric].ljust(10)
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


def _quoted(reply: str | None, missing: str) -> str:
    return missing if reply is None else f'"{shortened(reply, REPLY_SHOWN)}"'


def change_line(change: QuestionChange) -> str:
    """'unknown-0: abstained 1/1 → wrong 1/1: "I don't know." → "1999."' (the replies
    when the baseline kept one)."""
    text = change.describe()
    if change.before_reply is None and change.after_reply is None:
        return text
    before = _quoted(change.before_reply, "(not kept)")
    return f"{text}: {before} → {_quoted(change.after_reply, '(no reply)')}"


def change_lines(comparison: SuiteComparison, verbosity: int = 0) -> list[Line]:
    """The questions that changed, one per line, and what else the comparison noticed."""
    lines: list[Line] = []
    for kind in ("newly wrong", "newly abstaining", "newly correct"):
        changes = comparison.changed(kind)
        if changes:
            shown = changes if verbosity > 0 else changes[:CHANGES_SHOWN]
            markup = {"yellow": True} if kind == "newly wrong" else {}
            lines.append((f"    {kind} ({len(changes)}):", markup))
            lines.extend((f"      {change_line(c)}", {}) for c in shown)
            if len(changes) > len(shown):
                lines.append((f"      ... and {len(changes) - len(shown)} more (-v shows all)", {}))
    if comparison.unpaired:
        unpaired = _listed(comparison.unpaired, verbosity)
        lines.append((f"    not compared (no graded reply): {unpaired}", {}))
    for note in comparison.notes:
        lines.extend((line, {}) for line in wrapped(f"note: {note}", "    ", "      "))
    if comparison.tags_not_gated:
        small = ", ".join(f"{t} ({n})" for t, n in comparison.tags_not_gated.items())
        lines.append((f"    tags too small to gate on their own: {small}", {}))
    cost = tag_cost_line(comparison)
    if cost is not None:
        lines.append((f"    {cost}", {}))
    detectable = detectable_line(comparison)
    if detectable is not None:
        lines.append((f"    {detectable}", {}))
    return lines


def tag_cost_line(comparison: SuiteComparison) -> str | None:
    """'tags cost power: 10 of the family's 14 tests; error-rate rise detectable 0.081
    without them, 0.097 with them' (at 80% power); None without gated tags."""
    cost = comparison.tag_cost
    if cost is None or comparison.untestable:
        return None
    text = f"tags cost power: {cost.tests} of the family's {cost.family} tests"
    if cost.without is None and cost.with_tags is None:
        return text
    return (
        f"{text}; error-rate rise detectable {format_rate(cost.without)} without them, "
        f"{format_rate(cost.with_tags)} with them"
    )


def detectable_line(comparison: SuiteComparison) -> str | None:
    """The drops the suite would catch with 80% power, each only when it is possible at
    all (a drop bigger than the metric can make is left out); None when no figure means
    anything (a suite too small to test says so instead)."""
    if comparison.untestable:
        return None
    suite = {m.metric: m for m in comparison.metrics if m.scope == "suite"}
    score, errors = suite.get("score"), suite.get("error_rate")
    if score is None or errors is None:
        return None
    parts = []
    if score.detectable is not None:
        parts.append(f"a score drop of {score.detectable:.3f}")
    if errors.detectable is not None:
        parts.append(f"an error-rate rise of {errors.detectable:.3f}")
    return "detectable at 80% power: " + ", ".join(parts) if parts else None


def gate_failure(result: SuiteResult) -> str:
    """Why a suite's gate failed, in one line that does not repeat the comparison shown
    above it: its floors, and the names of the metrics that regressed."""
    comparison = result.comparison
    baseline = set(comparison.regressions) if comparison is not None else set()
    reasons = [reason for reason in result.failures if reason not in baseline]
    if comparison is not None and comparison.regressions:
        if comparison.status == "refused":
            reasons.append("the baseline refused the comparison (above)")
        else:
            names = [m.label for m in comparison.metrics if m.regressed]
            reasons.append(f"regressed against the baseline: {', '.join(names)} (above)")
    return "; ".join(reasons)


def accept_line(comparison: SuiteComparison | None) -> str | None:
    """The command that accepts a regression, or a refusal, when the change is intended."""
    if comparison is None or not comparison.regressions or comparison.accept_command is None:
        return None
    return f"if the change is intended, accept it: {comparison.accept_command}"


def orphan_text(orphan: OrphanEntry) -> str:
    """What a baseline entry no suite claims means, and what to do about it."""
    if orphan.status == "other variant":
        return f"{orphan.key}: its suite ran with other models or thresholds: not compared"
    if orphan.status == "not collected":
        why = f" ({orphan.subset})" if orphan.subset else f" (it left out {orphan.path})"
        return f"{orphan.key}: not collected by this run{why}: not compared"
    if orphan.renamed_to is not None:
        return (
            f"{orphan.key}: no suite claims this baseline entry, and {orphan.renamed_to} "
            "holds its questions: renamed or moved? Give the suite a name: (or "
            "baseline_key:) so that its baseline follows it, and re-record the baseline"
        )
    return (
        f"{orphan.key}: no suite claims this baseline entry, though the run collected "
        f"everything where {orphan.path} was: removed, renamed or moved? If removed on "
        "purpose, re-record the baseline to drop it; if moved, give the suite a name: "
        "(or baseline_key:) and re-record"
    )


def orphan_lines(
    orphans: Sequence[OrphanEntry], baseline_file: str | None, updating: bool
) -> list[Line]:
    """The baseline entries no suite claims: those whose suite is gone fail the gate
    (unless this run updates the baseline, which drops them); the rest are noted."""
    if not orphans:
        return []
    lines: list[Line] = [("baseline entries no suite of this run claims:", {"bold": True})]
    for orphan in orphans:
        gone = orphan.status == "gone"
        lead = "  FAILED: " if gone and not updating else "  "
        markup = {"red": True} if gone and not updating else {"yellow": True}
        lines.extend((line, markup) for line in wrapped(orphan_text(orphan), lead, "    "))
        if gone and updating:
            lines.append(("    dropped from the baseline by this update", {}))
    if any(o.status == "gone" for o in orphans) and not updating and baseline_file:
        command = f"pytest ... --abstain-baseline {baseline_file} --abstain-update-baseline"
        lines.append((f"  re-record (drops the entries above): {command}", {}))
    return lines


def update_lines(update: Update, gone: Sequence[OrphanEntry]) -> list[str]:
    """What an update removed and moved, entry by entry."""
    renamed = {orphan.key: orphan.renamed_to for orphan in gone}
    lines = []
    for key in update.dropped:
        to = renamed.get(key)
        why = f"renamed to {to}?" if to else "removed, renamed or moved"
        lines.append(f"removed from the baseline: {key} (no suite claims it: {why})")
    for old, new in update.rekeyed:
        lines.append(f"moved in the baseline: {old} → {new} (the suite's name or baseline_key)")
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


def auto_samples_line(result: SuiteResult) -> str | None:
    """'samples auto (at most 3): 200 of 600 replies asked, 67% saved: settled on first
    replies: ...', or None with a fixed number of samples."""
    auto = result.auto_samples
    if auto is None:
        return None
    return (
        f"samples auto (at most {auto.budget}): {auto.replies} of {auto.most} replies asked, "
        f"{auto.saved:.0%} saved: {auto.why}"
    )


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


def served_note(result: SuiteResult) -> tuple[str, bool] | None:
    """What the endpoint said answered, for the responder line: 'served by gpt-4o-mini on
    48 of 48 replies; fingerprint fp_x', and whether another model than the one asked for
    answered (results/served.py decides); None when no reply named a model."""
    served = result.served
    if not served.models:
        return None
    others = served.others
    parts = []
    if others:
        names = ", ".join(f"{name} on {n}" for name, n in others.most_common())
        parts.append(f"served by {names} of {served.replies} replies")
    # The same model under its dated name (gpt-4o-2024-08-06): said, not flagged.
    dated = sorted(name for name in served.models if name not in others)
    if dated and dated != [served.requested]:
        parts.append(f"served as {', '.join(dated)}")
    fingerprints = served.fingerprints
    if len(fingerprints) == 1:
        parts.append(f"fingerprint {next(iter(fingerprints))}")
    elif fingerprints:
        parts.append(f"{len(fingerprints)} fingerprints")
    return ("; ".join(parts), bool(others)) if parts else None


def served_warning(result: SuiteResult) -> str | None:
    """'asked for gpt-4o, but served by gpt-4o-mini on 48 of 48 replies', the one line
    Markdown and HTML show when another model answered; None when none did."""
    served = result.served
    others = served.others
    if not others:
        return None
    names = ", ".join(f"{name} on {n}" for name, n in others.most_common())
    return f"asked for {served.requested}, but served by {names} of {served.replies} replies"


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


#: What became of a stale question, by the run's policy (--abstain-expired).
_EXPIRED_ACTIONS = {
    "keep": "graded as written",
    "idk": "asked expecting 'I don't know'",
    "skip": "skipped",
}


#: (the heading of a group of questions, whether it is the stale group), its questions' lines.
Group = tuple[tuple[str, bool], list[str]]


def expiry_groups(suites: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[Group]]:
    """Per suite (the JSON report's `expiry`): the stale group and the expiring group, each
    with a heading and one line per question, for every output to lay out its own way."""
    out: dict[str, list[Group]] = {}
    for suite, entries in suites.items():
        stale = [e for e in entries if e["state"] == "stale"]
        expiring = [e for e in entries if e["state"] == "expiring"]
        groups: list[Group] = []
        if stale:
            heading = (
                f"stale, past valid_until ({len(stale)}): the expected answer may no longer "
                "be true; update it and its valid_until"
            )
            groups.append(((heading, True), [_stale_text(e) for e in stale]))
        if expiring:
            heading = f"expiring within {EXPIRING_DAYS} days ({len(expiring)}):"
            groups.append(((heading, False), [_expiring_text(e) for e in expiring]))
        out[suite] = groups
    return out


def _stale_text(entry: Mapping[str, Any]) -> str:
    return f"{entry['id']}: valid until {entry['valid_until']}, {_EXPIRED_ACTIONS[entry['action']]}"


def _expiring_text(entry: Mapping[str, Any]) -> str:
    days = entry["days_left"]
    left = "today is its last day" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"
    return f"{entry['id']}: valid until {entry['valid_until']} ({left})"
