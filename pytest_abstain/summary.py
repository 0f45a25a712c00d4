"""The terminal summary, as (text, markup) lines (pure; the plugin writes them)."""

from __future__ import annotations

from collections.abc import Sequence

from .prompts import format_number, penalty
from .results import QuestionRecord, SuiteResult
from .scoring import Metrics

Line = tuple[str, dict[str, bool]]
#: Wrong questions listed per suite unless -v asks for all of them.
WORST_SHOWN = 5
REPLY_CHARS = 80


def _rate(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.3f}"


def metrics_line(metrics: Metrics) -> str:
    return (
        f"score {_rate(metrics.score)}   error rate {_rate(metrics.error_rate)}   "
        f"accuracy {_rate(metrics.accuracy)}   abstention {_rate(metrics.abstention_rate)}   "
        f"accuracy when answering {_rate(metrics.accuracy_given_attempted)}"
    )


def counts_line(metrics: Metrics) -> str:
    c = metrics.counts
    return (
        f"replies {c.total}: correct {c.correct}, wrong {c.wrong}, "
        f"abstained {c.abstained}, error {c.error}"
    )


def _short(text: str | None) -> str:
    if text is None:
        return "(no reply)"
    flat = " ".join(text.split())
    return flat if len(flat) <= REPLY_CHARS else flat[: REPLY_CHARS - 1] + "…"


def _expected(record: QuestionRecord) -> str:
    if record.idk:
        return "expected: I don't know"
    shown = [str(a) for a in record.expected]
    if record.regex:
        shown.append(f"/{record.regex}/")
    return "expected: " + " | ".join(shown)


def _wrong_line(record: QuestionRecord) -> str:
    counts = record.counts
    sample = next(
        (
            reply
            for reply, grade in zip(record.replies, record.grades, strict=True)
            if grade == "wrong"
        ),
        None,
    )
    return (
        f"    {record.id}: wrong {counts.wrong}/{len(record.grades)}  "
        f"{_short(sample)!r}  ({_expected(record)})"
    )


def verdict_line(result: SuiteResult) -> Line:
    if not result.gated:
        return ("  gate: none set (add gates: to the suite or --abstain-min-score)", {})
    if result.failures:
        return ("  gate FAILED: " + "; ".join(result.failures), {"red": True, "bold": True})
    return ("  gate passed: " + "; ".join(result.passes), {"green": True})


def render(results: Sequence[SuiteResult], overall: Metrics, verbosity: int) -> list[Line]:
    """The summary lines; -q gives one line per suite, -v lists every wrong question."""
    lines: list[Line] = []
    for result in results:
        info, metrics = result.info, result.metrics
        if verbosity < 0:
            verdict = {"failed": "gate FAILED", "passed": "gate passed"}.get(
                result.verdict, "no gate"
            )
            markup = {"red": True} if result.verdict == "failed" else {}
            text = (
                f"{info.key}: score {_rate(metrics.score)}, error rate "
                f"{_rate(metrics.error_rate)} at t={format_number(info.threshold)}: {verdict}"
            )
            lines.append((text, markup))
            continue
        stated = "" if info.confidence_stated else ", not stated in the prompt"
        lines.append((f"{info.key}  ({info.name})", {"bold": True}))
        lines.append(
            (
                f"  responder {info.responder}   t={format_number(info.threshold)} "
                f"(a wrong answer costs {format_number(penalty(info.threshold))}{stated})   "
                f"samples {info.samples}",
                {},
            )
        )
        lines.append(("  " + counts_line(metrics), {}))
        lines.append(("  " + metrics_line(metrics), {}))
        prompt_tokens, completion_tokens = result.tokens
        if prompt_tokens or completion_tokens:
            lines.append((f"  tokens: {prompt_tokens} prompt, {completion_tokens} completion", {}))
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
        lines.append(verdict_line(result))
    if len(results) > 1 and verbosity >= 0:
        lines.append(
            (f"overall ({len(results)} suites, each reply scored at its suite's t)", {"bold": True})
        )
        lines.append(("  " + counts_line(overall), {}))
        lines.append(("  " + metrics_line(overall), {}))
    return lines
