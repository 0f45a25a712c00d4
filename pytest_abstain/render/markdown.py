"""The Markdown summary: for GitHub's step summary, or any CI that shows a Markdown file.

Per suite the verdict, the metrics with their baseline deltas, the sweep table and the
questions that changed; pure, like the terminal summary it mirrors.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..records import METRIC_NAMES, OrphanEntry, SuiteComparison, shortened
from ..results.scoring import Metrics, penalty
from ..results.suites import SuiteResult, leaderboard
from ..results.sweep import Sweep
from ..results.verdict import Verdict
from ..shown import format_number, format_percent, format_rate
from ..untrusted import plain
from .wording import (
    REPLY_SHOWN,
    UNTESTABLE,
    auto_samples_line,
    curve_shown,
    expiry_groups,
    judge_line,
    orphan_text,
    served_warning,
    stated_line,
    tag_cost_line,
    undecided_line,
)

_VERDICT = {
    "passed": "✅ passed",
    "failed": "❌ failed",
    "not gated": "➖ not gated",
    "not evaluated": "⏸ not evaluated",
}
#: Changed questions listed per kind before "and N more".
CHANGES_LISTED = 10
_LINE_BREAKS = re.compile("[\n\u2028\u2029]")


def _cell(text: object) -> str:
    """Safe in a table cell and as text: a pipe or newline would break the row, and GitHub
    renders raw HTML and Markdown (a suite name could carry <img> or **)."""
    # plain() turns a carriage return (which could start a heading line) into a line feed.
    escaped = html.escape(plain(str(text)), quote=False)
    for char in "\\`*_[]|#~":
        escaped = escaped.replace(char, "\\" + char)
    return _LINE_BREAKS.sub(" ", escaped)


def _metrics_rows(result: SuiteResult) -> list[str]:
    m: Metrics = result.metrics
    deltas: dict[str, str] = {}
    comparison = result.comparison
    if comparison is not None and comparison.status == "compared":
        for mc in comparison.metrics:
            if mc.scope != "suite":
                continue
            name = METRIC_NAMES[mc.metric]
            flag = " ❌" if mc.regressed else (" ✅" if mc.improved else "")
            if not flag and abs(mc.delta) > 1e-9:
                flag = ", not significant"
            deltas[name] = (
                f"{mc.baseline:.3f} → {mc.now:.3f} (Δ {mc.delta:+.3f}, p={mc.p_value:.2g}){flag}"
            )
    rows = [
        ("score", format_rate(m.score)),
        ("error rate", format_rate(m.error_rate)),
        ("accuracy", format_rate(m.accuracy)),
        ("abstention", format_rate(m.abstention_rate)),
        ("accuracy when answering", format_rate(m.accuracy_given_attempted)),
    ]
    rows += [(name, format_rate(now)) for name, now in _answerable_rows(comparison)]
    lines = ["| metric | now | against the baseline |", "|---|---|---|"]
    lines += [f"| {name} | {value} | {_cell(deltas.get(name, ''))} |" for name, value in rows]
    return lines


def _answerable_rows(comparison: SuiteComparison | None) -> list[tuple[str, float]]:
    """The over-refusal row, shown once it was compared with a baseline."""
    if comparison is None or comparison.status != "compared":
        return []
    return [
        (METRIC_NAMES[mc.metric], mc.now)
        for mc in comparison.metrics
        if mc.scope == "suite" and mc.metric == "answerable_abstention"
    ]


def _suite(result: SuiteResult) -> list[str]:
    info, counts = result.info, result.counts
    lines = [
        f"### {_cell(info.key)} — {_VERDICT.get(result.verdict, result.verdict)}",
        "",
        f"{_cell(info.name)}: responder {_cell(info.responder)}, t = "
        f"{format_number(info.threshold)} (a wrong answer costs "
        f"{format_number(penalty(info.threshold))}), {counts.total} replies: "
        f"{counts.correct} correct, {counts.wrong} wrong, {counts.abstained} abstained, "
        f"{counts.error} without a reply.",
        "",
        *_metrics_rows(result),
    ]
    served = served_warning(result)
    if served is not None:
        lines += ["", f"**Another model answered:** {_cell(served)}."]
    if info.judge_when is not None:
        lines += ["", f"LLM {_cell(judge_line(result))}."]
    auto = auto_samples_line(result)
    if auto is not None:
        lines += ["", f"**Samples** {_cell(auto).removeprefix('samples ')}."]
    undecided = undecided_line(result)
    if undecided is not None:
        lines += ["", f"**Undecided** {_cell(undecided).removeprefix('undecided ')}."]
    pushback = result.pushback()
    if pushback is not None:
        lines += ["", f"**Pushback** {_cell(pushback.describe()).removeprefix('pushback ')}."]
    stated = result.stated_confidence()
    if stated is not None:
        lines += ["", f"Stated {_cell(stated_line(stated)).removeprefix('stated ')}.", ""]
        lines += ["| abstaining below the stated confidence at t | answered | error rate | score |",
                  "|---|---|---|---|"]  # fmt: skip
        for p in curve_shown(stated, info.threshold):
            mark = " (this suite's t)" if p.threshold == info.threshold else ""
            lines.append(
                f"| {format_number(p.threshold)}{mark} | {format_percent(p.coverage)} | "
                f"{format_rate(p.error_rate)} | {format_rate(p.score)} |"
            )
    reasons = result.failures if result.verdict == "failed" else []
    comparison = result.comparison
    if comparison is not None and (cost := tag_cost_line(comparison)) is not None:
        lines += ["", f"{_cell(cost)}."]
    if reasons:
        lines += ["", "**Gate failed:**", *(f"- {_cell(reason)}" for reason in reasons)]
        if comparison is not None and comparison.regressions and comparison.accept_command:
            lines += ["", f"If the change is intended, accept it: `{comparison.accept_command}`"]
    held = [c for c in result.floor_checks() if c.status != "failed"]
    if held:
        # Floors that held, or (an interval floor) could not tell: each with its interval.
        marks = {"passed": "✅", "uncertain": "⚠️"}
        lines += ["", "**Floors:**", *(f"- {marks[c.status]} {_cell(c.describe())}" for c in held)]
    if comparison is not None and comparison.status != "compared" and comparison.message:
        lines += ["", f"Baseline: {_cell(comparison.message)}"]
    if comparison is not None and comparison.changes:
        lines += ["", *_changes(comparison)]
    return lines


def _reply(reply: str | None, missing: str) -> str:
    return missing if reply is None else _cell(shortened(reply, REPLY_SHOWN))


def _changes(comparison: SuiteComparison) -> list[str]:
    """The changed questions, one row each, with what the bot said then and now."""
    lines = [
        "| changed question | kind | baseline → now | reply then | reply now |",
        "|---|---|---|---|---|",
    ]
    for kind in ("newly wrong", "newly abstaining", "newly correct"):
        changed = comparison.changed(kind)
        for change in changed[:CHANGES_LISTED]:
            before_after = change.describe().split(": ", 1)[1]
            then = _reply(change.before_reply, "(not kept)")
            now = _reply(change.after_reply, "(no reply)")
            lines.append(
                f"| {_cell(change.id)} | {kind} | {_cell(before_after)} | {then} | {now} |"
            )
        if len(changed) > CHANGES_LISTED:
            more = len(changed) - CHANGES_LISTED
            lines.append(f"| … | {kind} | and {more} more | | |")
    return lines


def _orphans(orphans: Sequence[OrphanEntry], failed: Sequence[str]) -> list[str]:
    """The baseline entries no suite claimed; `failed`: those that fail the run."""
    lines = ["### Baseline entries no suite claims", ""]
    for orphan in orphans:
        mark = "❌ " if orphan.key in failed else ""
        lines.append(f"- {mark}{_cell(orphan_text(orphan))}")
    return lines


def _sweep(sweep: Sweep) -> list[str]:
    lines = [
        f"### {_cell(sweep.key)} — threshold sweep",
        "",
        "| t | answered | accuracy when answering | error rate | abstention | score |",
        "|---|---|---|---|---|---|",
    ]
    for row in sweep.rows:
        m = row.metrics
        lines.append(
            f"| {format_number(row.threshold)} | {format_percent(row.answered_rate)} | "
            f"{format_percent(m.accuracy_given_attempted)} | {format_percent(m.error_rate)} | "
            f"{format_percent(m.abstention_rate)} | {format_rate(m.score)} |"
        )
    lines.append("")
    lines.append("Abstaining on every question scores 0.")
    problems = [f for f in sweep.findings if f.failed]
    if problems:
        lines += ["", "**Calibration audit: the model does not follow the stated t.**"]
        lines += [f"- {f.check}: {_cell(f.message)}" for f in problems]
    elif not sweep.testable:
        lines += ["", f"Calibration audit: {UNTESTABLE}."]
    else:
        lines += ["", "Calibration audit: the model follows the stated t."]
    return lines


def _models(results: Sequence[SuiteResult]) -> list[str]:
    board = leaderboard(results)
    if not board:
        return []
    lines = [
        "### Models side by side",
        "",
        "Best penalised score first; plain accuracy may rank them differently.",
        "",
        "| model | score | rank | accuracy | rank | error rate | abstention |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {_cell(name)} | {format_rate(m.score)} | {by_score} | {format_rate(m.accuracy)} | "
        f"{by_accuracy} | {format_rate(m.error_rate)} | {format_rate(m.abstention_rate)} |"
        for name, m, by_score, by_accuracy in board
    ]
    return lines


def render_markdown(
    results: Sequence[SuiteResult],
    sweeps: Sequence[Sweep],
    verdict: Verdict,
    run_failed: bool,
    orphans: Sequence[OrphanEntry] = (),
    expiry: Mapping[str, list[dict[str, Any]]] | None = None,
) -> str:
    """The whole summary, as one Markdown document, headed by the run's verdict, with the
    baseline entries no suite claimed (`orphans`) and the facts that expire (`expiry`, the
    JSON report's) at the end."""
    failed = verdict.status(run_failed) == "failed"
    lines = [
        "## pytest-abstain: honesty at a stated confidence target",
        "",
        f"**{'❌ failed' if failed else '✅ passed'}** — {len(results)} suite(s).",
    ]
    if verdict.family.size:
        lines += ["", f"{_cell(verdict.family.describe())}."]
    if models := _models(results):
        lines += ["", *models]
    for result in results:
        lines += ["", *_suite(result)]
    for sweep in sweeps:
        lines += ["", *_sweep(sweep)]
    if orphans:
        lines += ["", *_orphans(orphans, verdict.orphaned)]
    if expiry:
        lines += ["", *_expiry(expiry)]
    return "\n".join(lines) + "\n"


def _expiry(suites: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """The Markdown section: per suite, its stale and expiring questions, all of them."""
    if not suites:
        return []
    lines = ["### Facts that expire (valid_until)"]
    for suite, groups in expiry_groups(suites).items():
        lines += ["", f"**{suite}**", ""]
        for (heading, stale), texts in groups:
            lines.append(f"- {'⚠️ ' if stale else ''}{heading}")
            lines += [f"  - {text}" for text in texts]
    return lines
