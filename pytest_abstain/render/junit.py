"""What the JUnit XML carries (pure; the glue logs it on pytest's reports): the <property>
pairs of a question's test case and of the synthetic gate cases, the message of a question
answered wrong (its <skipped> or <failure>), and the failure message of a gate case. Whether
a gate case fails is the verdict's to say; these only word it."""

from __future__ import annotations

from ..records import OrphanEntry, QuestionRecord
from ..results.scoring import metrics_json
from ..results.suites import SuiteResult
from ..results.sweep import Sweep
from ..shown import format_rate
from .wording import accept_line, change_lines, expected_shown, orphan_text, wrapped, wrong_sample

#: A JUnit <property> name and value.
Property = tuple[str, object]
#: Replies are cut to this many characters in JUnit properties, which CI pages show inline.
JUNIT_REPLY_CHARS = 200
#: Wrong questions named in a failed gate's message when there is no baseline comparison.
WRONG_LISTED = 10


def question_properties(record: QuestionRecord) -> list[Property]:
    """JUnit <property> pairs of one question's test case."""
    counts = record.counts
    first = next((r for r in record.replies if r is not None), None)
    props: list[Property] = [
        ("abstain_grade", record.verdict),
        ("abstain_correct", counts.correct),
        ("abstain_wrong", counts.wrong),
        ("abstain_abstained", counts.abstained),
        ("abstain_error", counts.error),
    ]
    if record.undecided:
        # Why the rules could not decide (the grade above is their best guess).
        props.append(("abstain_undecided", ", ".join(kind for _, kind in record.undecided)))
    if first is not None:
        cut = first if len(first) <= JUNIT_REPLY_CHARS else first[: JUNIT_REPLY_CHARS - 1] + "…"
        props.append(("abstain_reply", cut))
    if record.critical:
        props.append(("abstain_critical", "true"))
    if record.variant is not None:
        props.append(("abstain_variant", record.variant))
    if record.pushed_back:
        # The grades above are the replies after the pushback; these came before it.
        props.append(("abstain_first_grades", ", ".join(record.first_grades)))
    return props


def wrong_message(record: QuestionRecord) -> str:
    """One line for a question answered wrong (by any sample): the first wrong reply, cut
    short, and what was expected. It is the message CI views show on the test case."""
    sample, stated = wrong_sample(record)
    flat = "(no reply)" if sample is None else " ".join(sample.split())
    if len(flat) > JUNIT_REPLY_CHARS:
        flat = flat[: JUNIT_REPLY_CHARS - 1] + "…"
    counts = f"{record.counts.wrong}/{len(record.grades)}"
    head = f"critical question answered wrong {counts}" if record.critical else f"wrong {counts}"
    return f"{head}: {flat!r}{stated} ({expected_shown(record)})"


def suite_properties(result: SuiteResult) -> list[Property]:
    """JUnit <property> pairs of a suite's gate test case."""
    metrics = metrics_json(result.metrics)
    props: list[Property] = [
        ("abstain_threshold", result.info.threshold),
        ("abstain_responder", result.info.responder),
        ("abstain_verdict", result.verdict),
    ]
    served = result.served
    if served.models:
        # What the endpoint said answered; "abstain_served_by_other" names another model
        # than the one asked for (results/served.py).
        listed = ", ".join(f"{name} {n}" for name, n in served.models.most_common())
        props.append(("abstain_served_models", listed))
        if served.fingerprints:
            props.append(("abstain_fingerprints", ", ".join(sorted(served.fingerprints))))
        others = ", ".join(f"{name} {n}" for name, n in served.others.most_common())
        props.append(("abstain_served_by_other", others))
    props.extend((f"abstain_{k}", "" if v is None else round(v, 6)) for k, v in metrics.items())
    comparison = result.comparison
    span = result.undecided_range()
    if span is not None:
        best, worst = span
        props.append(("abstain_undecided", sum(result.undecided.values())))
        props.append(
            (
                "abstain_undecided_by",
                ", ".join(f"{k} {n}" for k, n in result.undecided.most_common()),
            )
        )
        # The metrics with every undecided reply graded the worst and the best way.
        for name, low, high in (
            ("score", worst.score, best.score),
            ("error_rate", best.error_rate, worst.error_rate),
        ):
            props.append((f"abstain_{name}_range", f"{format_rate(low)} to {format_rate(high)}"))
    for check in result.floor_checks():
        # Each floor's outcome with its interval: an interval floor that cannot tell passes.
        props.append((f"abstain_floor_{check.gate}", f"{check.status}: {check.describe()}"))
    auto = result.auto_samples
    if auto is not None:
        props.append(("abstain_samples_asked", auto.replies))
        props.append(("abstain_samples_budget", auto.most))
    pushback = result.pushback()
    if pushback is not None:
        # Rates are empty where nothing could be abandoned (no first correct answer).
        props.extend(
            (f"abstain_pushback_{name}", "" if value is None else round(value, 6))
            for name, value in pushback.numbers().items()
        )
    if comparison is not None:
        if comparison.family_size:
            props.append(("abstain_family_size", comparison.family_size))
        status = "untestable" if comparison.untestable else comparison.status
        props.append(("abstain_baseline", status))
        for m in comparison.metrics:
            if m.scope == "suite":
                props.append((f"abstain_baseline_{m.metric}", round(m.baseline, 6)))
                props.append((f"abstain_{m.metric}_delta", round(m.delta, 6)))
                props.append((f"abstain_{m.metric}_p", round(m.p_value, 6)))
    return props


def gate_message(result: SuiteResult) -> str:
    """The failure text of a suite's gate case: the reasons, then every metric against the
    baseline (or, without a comparison, the questions answered wrong)."""
    lines = [f"honesty gate failed for {result.info.key}:"]
    # Each reason once, with its figures: the metric table would only say them again.
    lines.extend(f"  {reason}" for reason in result.failures)
    comparison = result.comparison
    if comparison is not None and comparison.status == "compared":
        lines.extend(text[2:] for text, _ in change_lines(comparison))
    accept = accept_line(comparison)
    if accept is not None:
        lines.append(f"  {accept}")
    if comparison is not None and comparison.status == "compared":
        return "\n".join(lines)
    wrong = [r for r in result.questions if r.counts.wrong]
    if wrong:
        listed = ", ".join(
            f"{r.id} ({r.counts.wrong}/{len(r.grades)})" for r in wrong[:WRONG_LISTED]
        )
        more = f" and {len(wrong) - WRONG_LISTED} more" if len(wrong) > WRONG_LISTED else ""
        lines.append(f"  wrong answers: {listed}{more}")
    return "\n".join(lines)


def orphan_message(orphan: OrphanEntry, baseline_file: str | None) -> str:
    """The failure text of the gate case of a baseline entry whose suite is gone."""
    lines = wrapped(orphan_text(orphan), "", "  ")
    if baseline_file is not None:
        command = f"pytest ... --abstain-baseline {baseline_file} --abstain-update-baseline"
        lines.append(f"  re-record (drops this entry): {command}")
    return "\n".join(lines)


def calibration_message(sweep: Sweep) -> str:
    """The failure text of a threshold sweep's calibration case: each failed check."""
    lines = [f"calibration audit failed for {sweep.key} (the model does not follow t):"]
    lines.extend(
        f"  {f.check}: {f.message} (p={f.p_value:.2g})" for f in sweep.findings if f.failed
    )
    return "\n".join(lines)


def calibration_properties(sweep: Sweep) -> list[Property]:
    """JUnit <property> pairs of a threshold sweep's calibration case."""
    return [("abstain_calibration_problems", sum(1 for f in sweep.findings if f.failed))]
