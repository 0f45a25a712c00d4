"""A question resolved for this run (t, samples, prompt, gates) and the grading of its replies."""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from .dialogue import PushbackSpec, context_sha, question_messages
from .grading import DEFAULT_IDK_PHRASES, INSTRUCTION, StatedReply, parse_reply, rule_grade
from .judging import (
    DEFAULT_JUDGE_PROMPT,
    JudgeSpec,
    JudgeWhen,
    VerdictError,
    expected_text,
    judge_messages,
    parse_verdict,
)
from .records import Grade, Message, QuestionRecord, Reply, SuiteInfo
from .results.scoring import ErrorBudget
from .sampling import parse_samples
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
    #: Replies per question; with `adaptive`, at most this many (sampling.py).
    samples: int
    confidence_stated: bool
    gates: Gates
    #: The error budget, normalised ("3", "5%"); None: any error fails the run.
    max_errors: str | None
    #: How many replies the rules may leave undecided, normalised; None: any number.
    max_undecided: str | None
    tolerance: float
    significance: float
    idk_phrases: tuple[str, ...]
    #: A support bot's "please contact support" counts as "I don't know".
    deflections: bool
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
    #: The LLM judge and when it grades; None: the string rules (and hooks) alone.
    judge: JudgeSpec | None = None
    #: Ask for the answer with a stated confidence, as JSON (grading/verbal_confidence.py).
    verbal_confidence: bool = False
    #: The suite's key in the baseline file when it is not `suite_key` (see SuiteInfo).
    baseline_key: str | None = None
    #: A wrong answer fails the question's test and the run, whatever the score.
    critical: bool = False
    #: Generation parameters for the model under test, as configured (generation.py; secret
    #: headers still in them): an openai responder sends them, a team's callable has none.
    generation: Mapping[str, object] = field(default_factory=dict)
    #: How the question's documents are sent: "prompt", "system" or "responder" (to the
    #: team's responder as its `context` keyword argument, in no message).
    context_as: str = "prompt"
    #: Push back after each reply, and with what turn; None: one reply per sample.
    pushback: PushbackSpec | None = None
    #: Past its valid_until on the run's day (expiry.py); kept or asked expecting idk.
    stale: bool = False
    #: samples: auto: a first reply, and the rest if the suite's first replies leave the
    #: gate's verdict open (results/settling.py).
    adaptive: bool = False

    @property
    def first_samples(self) -> int:
        """Replies asked before the suite's first replies are settled: one with samples:
        auto, except for a critical question, whose every reply is a chance to be wrong."""
        return 1 if self.adaptive and not self.critical else self.samples

    @property
    def context_sha(self) -> str | None:
        """sha256 of the question's documents and earlier turns; None: it has neither."""
        return context_sha(self.question.context, self.question.turns)


@dataclass(frozen=True)
class Graded:
    """One reply's first grade: by the string rules (with their doubt) or a conftest hook."""

    grade: Grade
    by: str = "rules"
    #: Why the rules may be wrong here (hedge, negation, ...); None: they are sure.
    doubt: str | None = None
    #: With verbal confidence: the answer read from the reply (what was graded), the
    #: confidence stated with it, and why none could be read.
    stated: StatedReply | None = None


#: A reply's first grade, or why it has none (no reply came back, or grading raised).
FirstGrade = Graded | str


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
    judge_prompt: str = DEFAULT_JUDGE_PROMPT,
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
    verbal = bool(run.verbal_confidence.pick(suite.verbal_confidence, False))
    context_as = suite.context_as or "prompt"
    messages = question_messages(question, threshold, template, suite.system_prompt, context_as)
    if verbal:
        # Appended, never formatted: the instruction's JSON braces are literal.
        messages[-1] = {**messages[-1], "content": f"{messages[-1]['content']}\n\n{INSTRUCTION}"}
    sampling = parse_samples(run.samples.pick(suite.samples, DEFAULT_SAMPLES))
    return QuestionPlan(
        suite_key=suite_key,
        suite_name=suite.name or suite_name,
        suite_path=suite_path,
        index=index,
        suite_size=suite_size,
        question=question,
        threshold=threshold,
        samples=sampling.budget,
        adaptive=sampling.auto,
        confidence_stated=template is not None,
        gates=Gates(
            min_score=run.min_score.pick(suite.gates.min_score, None),
            max_error_rate=run.max_error_rate.pick(suite.gates.max_error_rate, None),
            max_abstention_rate=run.max_abstention_rate.pick(suite.gates.max_abstention_rate, None),
            floor=run.floor.pick(suite.gates.floor, "point"),
        ),
        max_errors=_budget(run.max_errors.pick(suite.gates.max_errors, None)),
        max_undecided=_budget(run.max_undecided.pick(suite.gates.max_undecided, None)),
        tolerance=float(run.tolerance.pick(suite.gates.tolerance, DEFAULT_TOLERANCE)),
        significance=float(run.significance.pick(suite.gates.significance, DEFAULT_SIGNIFICANCE)),
        idk_phrases=_idk_phrases(run.idk_phrases, suite.idk_phrases),
        deflections=suite.deflections,
        messages=messages,
        prompt_sha=sha256(template),
        system_prompt_sha=sha256(suite.system_prompt),
        sweep=sweep,
        calibration_gate=bool(run.calibration_gate.pick(suite.gates.calibration, False)),
        model=model,
        side_by_side=side_by_side,
        judge=_judge(run, suite, judge_prompt),
        verbal_confidence=verbal,
        baseline_key=_baseline_key(suite, suite_key, side_by_side or sweep or suite_key),
        generation=run.generation_for(model or run.model, suite.generation),
        # The question's own word, else its suite's: both more specific than the ini.
        critical=bool(
            run.critical.pick(
                question.critical if question.critical is not None else suite.critical, False
            )
        ),
        context_as=context_as,
        pushback=_pushback(question, suite),
    )


def _pushback(question: Question, suite: SuiteSettings) -> PushbackSpec | None:
    """The question's pushback (its own word, else its suite's), or None: none."""
    wanted = question.pushback if question.pushback is not None else suite.pushback
    if not wanted:
        return None
    return PushbackSpec(suite.pushback_message, suite.pushback_open_message)


def _baseline_key(suite: SuiteSettings, suite_key: str, source: str) -> str | None:
    """The suite's baseline_key, else its name, with the model and t `suite_key` adds to
    its `source` ('Facts[gpt-4o][t=0.9]'); None: the entry is keyed by `suite_key`."""
    identity = suite.baseline_key or suite.name
    return None if identity is None else identity + suite_key.removeprefix(source)


@functools.lru_cache(maxsize=64)
def _idk_phrases(run_extra: tuple[str, ...], suite_extra: tuple[str, ...]) -> tuple[str, ...]:
    """The built-in phrases and the extras, one tuple per pair of extras: the grader finds
    its compiled phrase list by the tuple's identity, so every question of a suite shares it."""
    return DEFAULT_IDK_PHRASES + run_extra + suite_extra


def _judge(run: RunSettings, suite: SuiteSettings, prompt: str) -> JudgeSpec | None:
    """The suite's judge: on once a judge model is given, unless `when` says off. A
    calibration suite always asks it: checking the judge is its point."""
    model = run.judge_model.pick(suite.judge_model, None)
    when: JudgeWhen = run.judge.pick(suite.judge_when, None) or ("unsure" if model else "off")
    if suite.judge_calibration:
        when = "always"
    if when == "off":
        return None
    return JudgeSpec(when=when, model=model, prompt=prompt, prompt_sha=sha256(prompt) or "")


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


def first_grades(
    plan: QuestionPlan,
    replies: Sequence[Reply],
    grade: Callable[[QuestionPlan, str], Graded] | None = None,
) -> list[FirstGrade]:
    """Grade each obtained reply (with `grade`, else the string rules); a reply that did not
    come back, or whose grading raised, gets the reason instead of a grade."""
    graded: list[FirstGrade] = []
    for reply in replies:
        if reply.text is None:
            graded.append(reply.error or "no reply")
            continue
        # With verbal confidence the answer inside the JSON is graded, not the JSON.
        stated = parse_reply(reply.text) if plan.verbal_confidence else None
        text = reply.text if stated is None else stated.answer
        if not text.strip():
            graded.append(f"the reply has no answer to grade: {stated.problem if stated else ''}")
            continue
        try:
            if grade is None:
                rules = rule_grade(
                    text, plan.question.expectation, plan.idk_phrases, deflections=plan.deflections
                )
                first = Graded(rules.grade, "rules", rules.doubt)
            else:
                first = grade(plan, text)
        except Exception as exc:  # a grader bug is this question's error, not a crash
            graded.append(f"grading failed: {type(exc).__name__}: {exc}")
        else:
            graded.append(first if stated is None else replace(first, stated=stated))
    return graded


def to_judge(plan: QuestionPlan, graded: Sequence[FirstGrade]) -> list[int]:
    """Which replies the judge grades: where the rules are unsure, or all ("always"). A grade
    from a conftest hook is the team's own word and never goes to the judge."""
    judge = plan.judge
    if judge is None:
        return []
    return [
        index
        for index, first in enumerate(graded)
        if isinstance(first, Graded)
        and first.by == "rules"
        and (judge.when == "always" or first.doubt is not None)
    ]


def judge_request(plan: QuestionPlan, reply: str) -> list[Message]:
    """The messages that ask the judge to grade `reply` to the plan's question."""
    assert plan.judge is not None, "to_judge picks replies only where a judge is set"
    question = plan.question
    tolerance = question.expectation.tolerance
    bound = f"{tolerance.relative * 100:g}%" if tolerance.relative else f"{tolerance.absolute:g}"
    if tolerance.significant:
        bound = "the answer's last significant figure"
    expected = expected_text(
        question.expectation.idk,
        question.expected,
        question.regex,
        tolerance=bound
        if tolerance.relative or tolerance.absolute or tolerance.significant
        else None,
    )
    return judge_messages(plan.judge.prompt, question.text, expected, reply)


def record_of(
    plan: QuestionPlan,
    nodeid: str,
    responder: str,
    endpoint: str | None,
    replies: Sequence[Reply],
    graded: Sequence[FirstGrade],
    verdicts: Mapping[int, Reply] | None = None,
    judge_name: str | None = None,
    generation: Mapping[str, object] | None = None,
) -> QuestionRecord:
    """The question's record: each reply's first grade, replaced by the judge's verdict
    where the judge was asked (`verdicts`, by reply index). A judge that gave no reply, or
    one whose verdict cannot be read, makes that reply an `error`: never a silent grade."""
    judged = verdicts or {}
    idk = plan.question.expectation.idk
    outcomes = [_outcome(first, judged.get(i), judge_name, idk) for i, first in enumerate(graded)]
    firsts = [first if isinstance(first, Graded) else None for first in graded]
    stated = [first.stated if first else None for first in firsts]
    question = plan.question
    judge = plan.judge
    return QuestionRecord(
        suite=SuiteInfo(
            key=plan.suite_key,
            name=plan.suite_name,
            threshold=plan.threshold,
            samples=plan.samples,
            adaptive=plan.adaptive,
            responder=responder,
            confidence_stated=plan.confidence_stated,
            min_score=plan.gates.min_score,
            max_error_rate=plan.gates.max_error_rate,
            max_abstention_rate=plan.gates.max_abstention_rate,
            floor=plan.gates.floor or "point",
            max_errors=plan.max_errors,
            max_undecided=plan.max_undecided,
            tolerance=plan.tolerance,
            significance=plan.significance,
            endpoint=endpoint,
            prompt_sha=plan.prompt_sha,
            system_prompt_sha=plan.system_prompt_sha,
            size=plan.suite_size,
            sweep=plan.sweep,
            calibration_gate=plan.calibration_gate,
            side_by_side=plan.side_by_side,
            judge=None if judge is None else judge_name,
            judge_when=None if judge is None else judge.when,
            judge_prompt_sha=None if judge is None else judge.prompt_sha,
            verbal_confidence=plan.verbal_confidence,
            baseline_key=plan.baseline_key,
            generation=None if generation is None else dict(generation),
        ),
        nodeid=nodeid,
        index=plan.index,
        id=question.id,
        question=question.text,
        idk=question.expectation.idk,
        expected=list(question.expected),
        regex=question.regex,
        tags=list(question.tags),
        grades=[grade for grade, _, _ in outcomes],
        replies=[reply.text for reply in replies],
        errors=[error for _, error, _ in outcomes],
        prompt_tokens=sum(r.prompt_tokens or 0 for r in replies),
        completion_tokens=sum(r.completion_tokens or 0 for r in replies),
        cached=sum(r.cached for r in replies),
        retries=sum(max(0, r.attempts - 1) for r in replies),
        retried=sum(1 for r in replies if r.attempts > 1),
        graded_by=[by for _, _, by in outcomes],
        rule_grades=[first.grade if first else None for first in firsts],
        doubts=[first.doubt if first else None for first in firsts],
        confidences=[s.confidence if s else None for s in stated] if plan.verbal_confidence else [],
        confidence_problems=(
            [s.problem if s else None for s in stated] if plan.verbal_confidence else []
        ),
        judge_tokens=sum(
            (v.prompt_tokens or 0) + (v.completion_tokens or 0) for v in judged.values()
        ),
        critical=plan.critical,
        served_models=[reply.served_model for reply in replies],
        fingerprints=[reply.fingerprint for reply in replies],
        dropped=sorted({name for reply in replies for name in reply.dropped}),
        timed_out=sum(1 for reply in replies if reply.timed_out and reply.text is None),
        variant=question.variant,
        context_sha=plan.context_sha,
        turns=len(question.turns),
        valid_until=question.valid_until,
        stale=plan.stale,
    )


def _outcome(
    first: FirstGrade, verdict: Reply | None, judge_name: str | None, idk: bool
) -> tuple[Grade, str | None, str | None]:
    """A reply's final grade, why it has none (its error), and who gave it."""
    if isinstance(first, str):
        return "error", first, None
    if verdict is None:
        return first.grade, None, first.by
    if verdict.text is None:
        problem = f"gave no verdict: {verdict.error or 'no reply'}"
    else:
        try:
            grade = parse_verdict(verdict.text)
            if grade == "correct" and idk:
                # No answer is known, so none can be right: the judge misread the question
                # or the rubric. Counting it would turn an invented answer into +1.
                raise VerdictError(
                    f"said CORRECT on a question with no known answer (idk: true), which "
                    f"cannot be: its verdict was {_shown(verdict.text)}"
                )
            return grade, None, "judge"
        except VerdictError as exc:
            problem = str(exc)
    return "error", f"judge {judge_name or '(conftest)'} {problem}", "judge"


def _shown(text: str, limit: int = 200) -> str:
    """The judge's text, on one line and cut short, for an error message."""
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[: limit - 3] + "...")
