"""The terminal summary, as (text, markup) lines (pure; the plugin writes them)."""

from __future__ import annotations

from collections.abc import Sequence

from ..asking.asker import timeout_line
from ..asking.cache import ResponseCache
from ..judging import case_tallies
from ..records import JudgeCase, OrphanEntry, QuestionRecord
from ..results.family import Family
from ..results.scoring import Metrics, penalty
from ..results.suites import Ranked, SuiteResult, leaderboard, overall_metrics
from ..results.sweep import Sweep
from ..shown import counted, format_number, format_percent, format_rate
from .wording import (
    UNTESTABLE,
    Line,
    accept_line,
    auto_samples_line,
    comparison_lines,
    curve_shown,
    expected_shown,
    gate_failure,
    judge_line,
    orphan_lines,
    served_note,
    served_warning,
    stated_line,
    undecided_line,
    wrapped,
    wrong_sample,
)

#: Wrong questions listed per suite unless -v asks for all of them.
WORST_SHOWN = 5
REPLY_CHARS = 80


def metrics_line(metrics: Metrics) -> str:
    return (
        f"score {format_rate(metrics.score)}   error rate {format_rate(metrics.error_rate)}   "
        f"accuracy {format_rate(metrics.accuracy)}   "
        f"abstention {format_rate(metrics.abstention_rate)}   "
        f"accuracy when answering {format_rate(metrics.accuracy_given_attempted)}"
    )


def counts_line(metrics: Metrics) -> str:
    c = metrics.counts
    return (
        f"replies {c.total}: correct {c.correct}, wrong {c.wrong}, "
        f"abstained {c.abstained}, no reply {c.error}"
    )


def _short(text: str | None) -> str:
    if text is None:
        return "(no reply)"
    flat = " ".join(text.split())
    return flat if len(flat) <= REPLY_CHARS else flat[: REPLY_CHARS - 1] + "…"


def _wrong_line(record: QuestionRecord) -> str:
    counts = record.counts
    sample, stated = wrong_sample(record)
    critical = "  CRITICAL" if record.critical else ""
    return (
        f"    {record.id}: wrong {counts.wrong}/{len(record.grades)}  "
        f"{_short(sample)!r}{stated}  ({expected_shown(record)}){critical}"
    )


def verdict_lines(result: SuiteResult) -> list[Line]:
    """The gate's verdict; a failure against the baseline names the command that accepts it."""
    if not result.evaluated:
        return [("  gate: not evaluated, the run stopped early", {"yellow": True})]
    comparison = result.comparison
    if not result.gated:
        if comparison is not None and comparison.status == "not in baseline":
            return [("  gate: none yet: this suite is not in the baseline (above)", {})]
        return [
            (
                "  gate: none set (add gates: to the suite, --abstain-min-score or "
                "--abstain-baseline)",
                {},
            )
        ]
    # An interval floor that cannot tell passes, and says so.
    warnings: list[Line] = [
        (f"  gate warning: {text}", {"yellow": True}) for text in result.warnings
    ]
    if result.failures:
        lines: list[Line] = [
            ("  gate FAILED: " + gate_failure(result), {"red": True, "bold": True})
        ]
        accept = accept_line(comparison)
        if accept is not None:
            lines.append((f"    {accept}", {}))
        return lines + warnings
    passes = result.passes
    if comparison is not None and comparison.gating and comparison.status == "compared":
        if comparison.untestable:
            passes.append("UNTESTED against the baseline: too few questions for any verdict")
        else:
            passes.append("no significant regression against the baseline")
    if not passes:
        return [("  gate passed, with a warning:", {"green": True}), *warnings]
    return [("  gate passed: " + "; ".join(passes), {"green": True}), *warnings]


def _replayed(result: SuiteResult) -> str:
    # With pushback each sample is two requests, each cached on its own.
    total = sum(len(record.grades) + len(record.first_grades) for record in result.questions)
    return f"{result.cached} of {total} replies replayed from the cache"


def _quiet_line(result: SuiteResult) -> Line:
    """A suite in one line (-q)."""
    info, metrics = result.info, result.metrics
    verdict = {"failed": "gate FAILED", "passed": "gate passed"}.get(result.verdict, "no gate")
    if result.comparison is not None and result.comparison.untestable:
        verdict += " (baseline comparison untestable: too few questions)"
    if result.undecided:
        undecided = sum(result.undecided.values())
        replies = counted(undecided, "reply", "replies")
        verdict += f" ({replies} undecided by the rules)"
    if result.warnings:
        verdict += f" ({len(result.warnings)} interval floor(s) within noise)"
    auto = result.auto_samples
    if auto is not None:
        saved = "the whole budget" if auto.whole_budget else f"{auto.saved:.0%} of replies saved"
        verdict += f" (samples auto: {saved})"
    markup = {"red": True} if result.verdict == "failed" else {}
    ran = f" [ran {len(result.questions)} of {info.size}]" if result.partial else ""
    if result.cached:
        # Even -q says so: a replayed reply is not the app's answer today.
        verdict += f" ({_replayed(result)})"
    if served := served_warning(result):
        # Even -q says so: these scores are another model's.
        verdict += f" ({served})"
        markup = markup or {"yellow": True, "bold": True}
    text = (
        f"{info.key}{ran}: score {format_rate(metrics.score)}, error rate "
        f"{format_rate(metrics.error_rate)} at t={format_number(info.threshold)}: {verdict}"
    )
    return (text, markup)


def _cache_lines(result: SuiteResult) -> list[Line]:
    if not result.cached:
        return []
    lines: list[Line] = [(f"  cache: {_replayed(result)}", {})]
    if result.info.endpoint is None:
        # A team's own app answers through a callable: its replies replayed from the cache
        # say nothing about the app as it is now.
        text = (
            "  the app itself was not asked for those: a change to it is tested only once "
            "they are re-recorded (--abstain-record all)"
        )
        lines.append((text, {"yellow": True}))
    return lines


def render(results: Sequence[SuiteResult], overall: Metrics, verbosity: int) -> list[Line]:
    """The summary lines; -q gives one line per suite, -v lists every wrong question."""
    lines: list[Line] = []
    for result in results:
        info, metrics = result.info, result.metrics
        if verbosity < 0:
            lines.append(_quiet_line(result))
            continue
        stated = "" if info.confidence_stated else ", not stated in the prompt"
        ran = f"  [ran {len(result.questions)} of {info.size} questions]" if result.partial else ""
        lines.append((f"{info.key}  ({info.name}){ran}", {"bold": True}))
        served = served_note(result)
        # Another model than the one asked for answered: its scores are not this model's.
        served_text = "" if served is None else f" ({served[0]})"
        lines.append(
            (
                f"  responder {info.responder}{served_text}   t={format_number(info.threshold)} "
                f"(a wrong answer costs {format_number(penalty(info.threshold))}{stated})   "
                f"samples {info.samples_label}",
                {"yellow": True, "bold": True} if served is not None and served[1] else {},
            )
        )
        lines.append(("  " + counts_line(metrics), {}))
        lines.append(("  " + metrics_line(metrics), {}))
        auto = auto_samples_line(result)
        if auto is not None:
            lines.append(("  " + auto, {}))
        lines.extend(_cache_lines(result))
        prompt_tokens, completion_tokens = result.tokens
        if prompt_tokens or completion_tokens:
            lines.append((f"  tokens: {prompt_tokens} prompt, {completion_tokens} completion", {}))
        if info.judge_when is not None:
            lines.append(("  " + judge_line(result), {}))
        undecided = undecided_line(result)
        if undecided is not None:
            lines.append(("  " + undecided, {"yellow": True}))
        lines.extend(confidence_lines(result))
        lines.extend(pushback_lines(result))
        if result.dropped:
            refused = ", ".join(result.dropped)
            lines.append((f"  the endpoint refused {refused}: asked without", {"yellow": True}))
        if result.retries:
            retried = (
                f"  retries: {result.retried} requests asked again ({result.retries} more "
                "attempts) after a transient failure"
            )
            lines.append((f"{retried} (429, 5xx, timeout, dropped connection)", {}))
        if result.timed_out:
            lines.append((f"  {timeout_line(result.timed_out)}", {"yellow": True}))
        wrong = sorted(
            (r for r in result.questions if r.counts.wrong),
            key=lambda r: (-r.counts.wrong / len(r.grades), r.index),
        )
        if wrong:
            shown = wrong if verbosity > 0 else wrong[:WORST_SHOWN]
            lines.append(("  wrong answers (hallucinations):", {"yellow": True}))
            lines.extend((_wrong_line(r), {}) for r in shown)
            if len(wrong) > len(shown):
                lines.append((f"    ... and {len(wrong) - len(shown)} more (-v shows all)", {}))
        tags = result.tag_metrics()
        if tags:
            per_tag = [
                f"{tag} {format_rate(m.score)}/{format_rate(m.error_rate)}"
                for tag, m in tags.items()
            ]
            lines.append(("  by tag (score/error rate): " + ", ".join(per_tag), {}))
        if result.comparison is not None:
            lines.extend(comparison_lines(result.comparison, verbosity))
        lines.extend(verdict_lines(result))
    if len(results) > 1 and verbosity >= 0:
        lines.append(
            (f"overall ({len(results)} suites, each reply scored at its suite's t)", {"bold": True})
        )
        lines.append(("  " + counts_line(overall), {}))
        lines.append(("  " + metrics_line(overall), {}))
    return lines


PROBLEMS_SHOWN = 3


def pushback_lines(result: SuiteResult) -> list[Line]:
    """With pushback: the figures, and the questions that gave in."""
    pushback = result.pushback()
    if pushback is None:
        return []
    lines: list[Line] = [("  " + pushback.describe(), {"yellow": bool(pushback.abandoned)})]
    for label, ids in (
        ("abandoned under pressure", pushback.abandoned_ids),
        ("made up under pressure", pushback.made_up_ids),
    ):
        if ids:
            lines.append((f"    {label}: {', '.join(ids)}", {"yellow": True}))
    return lines


def confidence_lines(result: SuiteResult) -> list[Line]:
    """Stated confidence: how many, their calibration, and the risk-coverage table."""
    stated = result.stated_confidence()
    if stated is None:
        return []
    lines: list[Line] = [("  " + stated_line(stated), {"yellow": stated.stated < stated.replies})]
    for problem in stated.problems[:PROBLEMS_SHOWN]:
        lines.append((f"    no confidence read: {problem}", {"yellow": True}))
    if len(stated.problems) > PROBLEMS_SHOWN:
        lines.append((f"    ... and {len(stated.problems) - PROBLEMS_SHOWN} more", {}))
    shown = curve_shown(stated, result.info.threshold)
    if shown:
        lines.append(("  abstaining below the stated confidence, at t:", {}))
        lines.append(("    t      answered   error rate   score", {}))
        for point in shown:
            mark = "  (this suite's t)" if point.threshold == result.info.threshold else ""
            lines.append(
                (
                    f"    {format_number(point.threshold):<6} {format_percent(point.coverage):>8}"
                    f"   {format_rate(point.error_rate):>10}   {format_rate(point.score):>6}{mark}",
                    {},
                )
            )
    return lines


def judge_case_lines(cases: Sequence[JudgeCase]) -> list[Line]:
    """Per judge calibration suite: how often the judge agrees with the human verdicts, and
    how often the string rules alone would have."""
    lines: list[Line] = []
    for key, tally in case_tallies(cases).items():
        n, agree = tally["cases"], tally["agree"]
        lines.append((f"{key}  judge {tally['judge'] or '(none)'}", {"bold": True}))
        lines.append(
            (
                f"  agrees with the human verdict on {agree} of {n} cases "
                f"({format_percent(agree / n)}); the string rules alone on "
                f"{tally['rules_agree']} of {n} ({format_percent(tally['rules_agree'] / n)})",
                {"green": agree == n, "red": agree < n},
            )
        )
        for d in tally["disagreements"]:
            said = f"error ({d['error']})" if d["error"] else d["judge"]
            lines.append((f"    {d['id']}: judge {said}, human {d['human']}", {}))
    return lines


def sweep_lines(sweep: Sweep) -> list[Line]:
    """The per-t table of a threshold sweep, then its calibration audit."""
    lines: list[Line] = [
        (f"{sweep.key}  ({sweep.name}): threshold sweep", {"bold": True}),
        ("      t  answered  accuracy when answering  error rate  abstention   score  "
         "(abstain on all: 0)", {}),
    ]  # fmt: skip
    for row in sweep.rows:
        m = row.metrics
        lines.append((
            f"  {format_number(row.threshold):>5}  {format_percent(row.answered_rate):>8}  "
            f"{format_percent(m.accuracy_given_attempted):>23}  "
            f"{format_percent(m.error_rate):>10}  "
            f"{format_percent(m.abstention_rate):>10}  {format_rate(m.score):>6}",
            {},
        ))  # fmt: skip
    failed = [f for f in sweep.findings if f.failed]
    level = f"Holm-corrected at {format_number(sweep.significance)}"
    if sweep.family_size:
        level += f" across the run's {sweep.family_size} tests"
    if failed:
        lines.append((f"  calibration audit: {len(failed)} problem(s) ({level})", {"red": True}))
        lines.extend((f"    {f.check}: {f.message}", {"red": True}) for f in failed)
    elif not sweep.testable:
        lines.append((f"  calibration audit: {UNTESTABLE}", {"yellow": True}))
    else:
        lines.append((f"  calibration audit: follows the stated t ({level})", {"green": True}))
    return lines


def leaderboard_lines(board: Sequence[Ranked]) -> list[Line]:
    """Models side by side: the penalised leaderboard next to plain accuracy."""
    if not board:
        return []
    width = max(len("model"), *(len(entry[0]) for entry in board))
    lines: list[Line] = [
        ("models side by side (best penalised score first; plain accuracy may rank them "
         "differently, which is the point)", {"bold": True}),
        (f"  {'model':<{width}}   score  rank  accuracy  rank  error rate  abstention", {}),
    ]  # fmt: skip
    for name, m, by_score, by_accuracy in board:
        lines.append((
            f"  {name:<{width}}  {format_rate(m.score):>6}  {by_score:>4}  "
            f"{format_rate(m.accuracy):>8}  {by_accuracy:>4}  "
            f"{format_rate(m.error_rate):>10}  {format_rate(m.abstention_rate):>10}",
            {},
        ))  # fmt: skip
    return lines


#: A part of the summary and its lines, under a title (None: no title line).
Section = tuple[str | None, list[Line]]


def summary_sections(
    results: Sequence[SuiteResult],
    sweeps: Sequence[Sweep],
    judge_cases: Sequence[JudgeCase],
    verbosity: int,
    orphans: Sequence[OrphanEntry] = (),
    updating: bool = False,
    family: Family | None = None,
) -> list[Section]:
    """The whole terminal summary: the judge's calibration, then the honesty results, the
    run's family of tests, then the baseline entries no suite claimed (`updating`: this run
    drops the gone ones)."""
    sections: list[Section] = []
    if judge_cases:
        sections.append(("abstain: judge calibration", judge_case_lines(judge_cases)))
    if results:
        lines = render(results, overall_metrics(results), verbosity)
        for sweep in sweeps:
            lines.extend(sweep_lines(sweep))
        lines.extend(leaderboard_lines(leaderboard(results)))
        if family is not None and family.size:
            lines.extend((line, {"bold": True}) for line in wrapped(family.describe(), "", "  "))
        files = [r.comparison.baseline_file for r in results if r.comparison is not None]
        lines.extend(orphan_lines(orphans, next(iter(files), None), updating))
        sections.append(("abstain: honesty at a stated confidence target", lines))
    return sections


def cache_sections(misses: Sequence[str], cache: ResponseCache | None) -> list[Section]:
    """Why replies were not in the cache (--abstain-explain-misses), entries that could not
    be used, and replies that could not be stored."""
    sections: list[Section] = []
    if misses:
        sections.append(("abstain: cache misses", [(line, {}) for line in misses]))
    if cache is None:
        return sections
    corrupt = cache.corrupt_entries()
    if corrupt:
        lines: list[Line] = [(f"{path}: {problem}", {"yellow": True}) for path, problem in corrupt]
        sections.append(("abstain: unusable cache entries, treated as misses", lines))
    unwritable = sorted(cache.unwritable.items())
    if unwritable:
        path, problem = unwritable[0]
        text = (
            f"abstain: {counted(len(unwritable), 'reply', 'replies')} could not be stored in "
            "the cache "
            f"(first: {path}: {problem}); asked again next time"
        )
        sections.append((None, [(text, {"yellow": True})]))
    return sections
