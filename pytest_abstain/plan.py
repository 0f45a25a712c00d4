"""A question resolved for this run (t, samples, prompt, gates) and the grading of its replies."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .grading import DEFAULT_IDK_PHRASES, Grade, grade_reply
from .prompts import Message, build_messages
from .responders import Reply
from .results import QuestionRecord, SuiteInfo
from .scoring import ErrorBudget
from .settings import (
    DEFAULT_SAMPLES,
    DEFAULT_SIGNIFICANCE,
    DEFAULT_THRESHOLD,
    DEFAULT_TOLERANCE,
    RunSettings,
    parse_thresholds,
)
from .suite import Gates, Question, SuiteSettings


@dataclass(frozen=True)
class QuestionPlan:
    """Everything needed to ask one question and grade its replies."""

    suite_key: str
    suite_name: str
    suite_path: Path
    index: int
    suite_size: int
    question: Question
    threshold: float
    samples: int
    confidence_stated: bool
    gates: Gates
    #: The error budget, normalised ("3", "5%"); None: any error fails the run.
    max_errors: str | None
    tolerance: float
    significance: float
    idk_phrases: tuple[str, ...]
    messages: list[Message]
    #: sha256 of the instruction template and system prompt, to tell baselines apart.
    prompt_sha: str | None
    system_prompt_sha: str | None
    #: In a threshold sweep, the suite's own key (suite_key then names one t of it).
    sweep: str | None = None
    #: In a threshold sweep: the calibration audit fails the run when it finds a problem.
    calibration_gate: bool = False
    #: With several models side by side, the one this item asks (None: the run's model).
    model: str | None = None
    #: With several models side by side: the suite's key without the model, to pair them.
    side_by_side: str | None = None


def sha256(text: str | None) -> str | None:
    return hashlib.sha256(text.encode("utf-8")).hexdigest() if text is not None else None


def plan_question(
    suite_key: str,
    suite_name: str,
    suite_path: Path,
    suite: SuiteSettings,
    run: RunSettings,
    question: Question,
    index: int,
    suite_size: int,
    sweep_threshold: float | None = None,
    sweep: str | None = None,
    model: str | None = None,
    side_by_side: str | None = None,
) -> QuestionPlan:
    """Resolve a question's settings: command line > suite > ini > default.

    In a threshold sweep, `sweep_threshold` is this item's t and `sweep` the suite's key.
    """
    threshold = (
        sweep_threshold
        if sweep_threshold is not None
        else float(run.threshold.pick(suite.threshold, DEFAULT_THRESHOLD))
    )
    if suite.prompt_template is False:
        template = None
    elif isinstance(suite.prompt_template, str):
        template = suite.prompt_template
    else:
        template = run.prompt_template
    return QuestionPlan(
        suite_key=suite_key,
        suite_name=suite.name or suite_name,
        suite_path=suite_path,
        index=index,
        suite_size=suite_size,
        question=question,
        threshold=threshold,
        samples=int(run.samples.pick(suite.samples, DEFAULT_SAMPLES)),
        confidence_stated=template is not None,
        gates=Gates(
            min_score=run.min_score.pick(suite.gates.min_score, None),
            max_error_rate=run.max_error_rate.pick(suite.gates.max_error_rate, None),
        ),
        max_errors=_budget(run.max_errors.pick(suite.gates.max_errors, None)),
        tolerance=float(run.tolerance.pick(suite.gates.tolerance, DEFAULT_TOLERANCE)),
        significance=float(run.significance.pick(suite.gates.significance, DEFAULT_SIGNIFICANCE)),
        idk_phrases=DEFAULT_IDK_PHRASES + run.idk_phrases + suite.idk_phrases,
        messages=build_messages(question.text, threshold, template, suite.system_prompt),
        prompt_sha=sha256(template),
        system_prompt_sha=sha256(suite.system_prompt),
        sweep=sweep,
        calibration_gate=bool(run.calibration_gate.pick(suite.gates.calibration, False)),
        model=model,
        side_by_side=side_by_side,
    )


def sweep_thresholds(run: RunSettings, suite: SuiteSettings) -> tuple[float, ...] | None:
    """The targets of a threshold sweep (command line > suite > ini), or None: no sweep."""
    given = run.thresholds.pick(suite.thresholds, None)
    return None if given is None else parse_thresholds(given)


def sweep_key(suite_key: str, threshold: float) -> str:
    """One t of a swept suite, e.g. 'abstain_facts.yaml[t=0.9]'."""
    return f"{suite_key}[t={threshold:g}]"


def _budget(value: object) -> str | None:
    # Already checked where it was given (option or suite schema); normalised for reports.
    return None if value is None else str(ErrorBudget.parse(value))


def record_of(
    plan: QuestionPlan,
    nodeid: str,
    responder: str,
    endpoint: str | None,
    replies: Sequence[Reply],
    grade: Callable[[QuestionPlan, str], Grade] | None = None,
) -> QuestionRecord:
    """Grade the replies (with `grade`, else the built-in grader); a reply that could not be
    obtained is an `error`, never graded, and so is one whose grading raised."""
    grades: list[Grade] = []
    texts: list[str | None] = []
    errors: list[str | None] = []
    for reply in replies:
        if reply.text is None:
            grades.append("error")
            texts.append(None)
            errors.append(reply.error or "no reply")
            continue
        try:
            if grade is None:
                given = grade_reply(reply.text, plan.question.expectation, plan.idk_phrases)
            else:
                given = grade(plan, reply.text)
        except Exception as exc:  # a grader bug is this question's error, not a crash
            grades.append("error")
            errors.append(f"grading failed: {type(exc).__name__}: {exc}")
        else:
            grades.append(given)
            errors.append(None)
        texts.append(reply.text)
    question = plan.question
    return QuestionRecord(
        suite=SuiteInfo(
            key=plan.suite_key,
            name=plan.suite_name,
            threshold=plan.threshold,
            samples=plan.samples,
            responder=responder,
            confidence_stated=plan.confidence_stated,
            min_score=plan.gates.min_score,
            max_error_rate=plan.gates.max_error_rate,
            max_errors=plan.max_errors,
            tolerance=plan.tolerance,
            significance=plan.significance,
            endpoint=endpoint,
            prompt_sha=plan.prompt_sha,
            system_prompt_sha=plan.system_prompt_sha,
            size=plan.suite_size,
            sweep=plan.sweep,
            calibration_gate=plan.calibration_gate,
            side_by_side=plan.side_by_side,
        ),
        nodeid=nodeid,
        index=plan.index,
        id=question.id,
        question=question.text,
        idk=question.expectation.idk,
        expected=list(question.expected),
        regex=question.regex,
        tags=list(question.tags),
        grades=grades,
        replies=texts,
        errors=errors,
        prompt_tokens=sum(r.prompt_tokens or 0 for r in replies),
        completion_tokens=sum(r.completion_tokens or 0 for r in replies),
        cached=sum(r.cached for r in replies),
        retries=sum(max(0, r.attempts - 1) for r in replies),
    )
