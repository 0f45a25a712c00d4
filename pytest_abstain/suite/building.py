"""Questions and suite settings built from a document the schema has passed, with the checks
a schema cannot make: finite numbers, usable regexes and templates, known languages, unique
ids, and what a judge calibration suite may hold."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .. import generation as generation_params
from ..dialogue import places_context
from ..expiry import date_problem
from ..grading import Expectation, Tolerance, detect, languages, regex_problem
from ..prompts import template_problem
from ..results.scoring import ErrorBudget
from .conversations import SuiteFiles, distractors_of, documents_of, turns_of
from .data import RESERVED_IDS, Gates, Question, SuiteError, SuiteSettings
from .referenced_files import read_suite_file


def settings_from(
    source: str, data: Mapping[str, Any], base_dir: Path, root: Path
) -> SuiteSettings:
    """The suite-level keys of `data` (a file's top level or a module's marker); a file it
    names is read relative to `base_dir`, inside `root`."""
    system_prompt = data.get("system_prompt")
    if "system_prompt_file" in data:
        system_prompt = read_suite_file(
            source,
            "system_prompt_file",
            data["system_prompt_file"],
            base_dir,
            root,
            allowed=data.get("allow_secrets", ()),
        )
    template = data.get("prompt_template")
    if isinstance(template, str) and (problem := template_problem(template)):
        raise SuiteError(source, [f"prompt_template: {problem}"])
    if places_context(template) and data.get("context_as", "prompt") != "prompt":
        raise SuiteError(
            source,
            [f"prompt_template: it places {{context}}, but context_as is "
             f"{data['context_as']}: the documents go there instead; remove one"],
        )  # fmt: skip
    gates = data.get("gates", {})
    judge = data.get("judge")
    numbers = [("threshold", data.get("threshold"))]
    numbers += [("thresholds", value) for value in data.get("thresholds", ())]
    numbers += [
        (f"gates.{name}", value)
        for name, value in gates.items()
        if name not in ("calibration", "floor")
    ]
    for key, value in numbers:
        if problem := _number_problem(value):
            raise SuiteError(source, [f"{key}: {problem}"])
    for budget in ("max_errors", "max_undecided"):
        if budget in gates:
            try:
                ErrorBudget.parse(gates[budget])
            except ValueError as exc:
                raise SuiteError(source, [f"gates.{budget}: {exc}"]) from None
    params = data.get("generation")
    if params is not None and (found := generation_params.problems(params, "generation")):
        raise SuiteError(source, found)
    return SuiteSettings(
        generation=None if params is None else dict(params),
        name=data.get("name"),
        baseline_key=data.get("baseline_key"),
        threshold=data.get("threshold"),
        thresholds=tuple(data["thresholds"]) if "thresholds" in data else None,
        samples=data.get("samples"),
        system_prompt=system_prompt,
        prompt_template=template,
        idk_phrases=tuple(data.get("idk_phrases", ())),
        gates=Gates(**gates),
        # YAML reads a bare `off` as false.
        judge_when=_judge_when(judge.get("when") if isinstance(judge, dict) else judge),
        judge_model=judge.get("model") if isinstance(judge, dict) else None,
        judge_calibration=bool(data.get("judge_calibration", False)),
        verbal_confidence=data.get("verbal_confidence"),
        deflections=bool(data.get("deflections", True)),
        critical=data.get("critical"),
        context_as=data.get("context_as"),
        pushback=data.get("pushback"),
        pushback_message=_pushback_message(source, data.get("pushback_message")),
        pushback_open_message=data.get("pushback_open_message"),
    )


def _pushback_message(source: str, message: str | None) -> str | None:
    """The pushback template, checked: {candidate} is its only placeholder."""
    if message is None:
        return None
    try:
        message.format(candidate="")
    except (KeyError, IndexError, ValueError) as exc:
        raise SuiteError(
            source,
            [f"pushback_message: {message[:80]!r} cannot be filled ({type(exc).__name__}: "
             f"{exc}): {{candidate}} is its only placeholder; write literal braces as {{{{ "
             "and }}"],
        ) from None  # fmt: skip
    return message


def _judge_when(value: object) -> str | None:
    return "off" if value is False else (str(value) if value is not None else None)


def question_from(
    source: str,
    data: Mapping[str, Any],
    where: str,
    accept_core: bool = False,
    language: str | None = None,
    valid_until: str | None = None,
    files: SuiteFiles | None = None,
    variant: str | None = None,
    context_key: str = "context",
) -> Question:
    """One question entry; `where` locates it in messages, `accept_core`, `language` and
    `valid_until` are the suite's defaults for it. Context files are read with `files` (None:
    none may be named); `variant` names one of a with/without-context pair, whose context was
    written under `context_key`."""
    qid = data["id"]
    until = data.get("valid_until", valid_until)
    if until is not None and (problem := date_problem(until)):
        raise SuiteError(source, [f"question {qid!r} ({where}.valid_until): {problem}"])
    raw = data.get("answer", [])
    answers: tuple[str | float, ...] = tuple(raw) if isinstance(raw, list) else (raw,)
    for answer in answers:
        if problem := _number_problem(answer):
            raise SuiteError(source, [f"question {qid!r} ({where}.answer): {problem}"])
    tolerance = _tolerance(data.get("tolerance", 0))
    if tolerance is None:
        raise SuiteError(source, [f"question {qid!r} ({where}.tolerance): must be finite"])
    pattern: re.Pattern[str] | None = None
    if "regex" in data:
        try:
            pattern = re.compile(data["regex"], re.IGNORECASE)
            problem = regex_problem(pattern)
        # A huge repeat count overflows and thousands of nested groups overflow the stack
        # of re's parser: both are bad patterns, not crashes.
        except (re.error, OverflowError, RecursionError) as exc:
            problem = f"invalid regex: {exc}"
        if problem:
            raise SuiteError(source, [f"question {qid!r} ({where}.regex): {problem}"])
    return Question(
        id=qid,
        text=data["question"],
        expectation=Expectation(
            idk=bool(data.get("idk", False)),
            answers=answers,
            regex=pattern,
            tolerance=tolerance,
            accept_core=bool(data.get("accept_core", accept_core)),
            language=_language(source, qid, where, data.get("language", language), data),
        ),
        tags=tuple(data.get("tags", ())),
        expected=answers,
        regex=data.get("regex"),
        canned_reply=data.get("reply"),
        human_verdict=data.get("verdict"),
        critical=data.get("critical"),
        context=documents_of(source, qid, f"{where}.{context_key}", data.get("context"), files),
        variant=variant,
        turns=turns_of(source, qid, f"{where}.turns", data.get("turns")),
        pushback=data.get("pushback"),
        distractors=distractors_of(data.get("distractors")),
        valid_until=until,
    )


def _language(source: str, qid: str, where: str, given: str | None, data: Mapping[str, Any]) -> str:
    """The question's language: as the suite says, else guessed from the question."""
    if given is None:
        return detect(data["question"])
    if given not in languages():
        shipped = ", ".join(sorted(languages()))
        raise SuiteError(
            source,
            [f"question {qid!r} ({where}.language): {given!r} is not a shipped language "
             f"({shipped})"],
        )  # fmt: skip
    return given


def _tolerance(value: float | str) -> Tolerance | None:
    """The tolerance, or None when it is infinite (it would accept every number)."""
    if value == "significant":
        return Tolerance(significant=True)
    try:
        if isinstance(value, str):
            relative = float(value.rstrip("%")) / 100.0
            return Tolerance(relative=relative) if math.isfinite(relative) else None
        absolute = float(value)
    except OverflowError:
        return None
    return Tolerance(absolute=absolute) if math.isfinite(absolute) else None


def _number_problem(value: object) -> str | None:
    """Why a number cannot be used. NaN passes every bound of the schema (each comparison
    with it is false), and an infinite threshold or answer makes every score meaningless."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too big for a float
        return "is too large to compare as a number"
    return None if finite else f"must be a finite number, not {value!r}"


def check_ids(
    source: str, questions: Sequence[Question], positions: Sequence[int] | None = None
) -> None:
    """Every id is unique and none is a gate's reserved test id; `positions` are the entries
    the questions come from, where one entry makes several (a with/without-context pair)."""
    seen: dict[str, int] = {}
    problems = []
    for position, question in enumerate(questions):
        index = position if positions is None else positions[position]
        if question.id in RESERVED_IDS:
            problems.append(f"question id {question.id!r} (questions[{index}]) is reserved")
        if question.id in seen:
            problems.append(
                f"duplicate question id {question.id!r}: questions[{seen[question.id]}] "
                f"and questions[{index}]"
            )
        seen.setdefault(question.id, index)
    if problems:
        raise SuiteError(source, problems)


#: Suite keys a judge calibration suite has no use for: nothing is asked of the model.
_NOT_FOR_CALIBRATION = (
    "threshold", "thresholds", "samples", "gates", "verbal_confidence", "critical",
    "generation", "context_as", "pushback", "pushback_message", "pushback_open_message",
)  # fmt: skip


def check_calibration(
    source: str,
    calibration: bool,
    questions: Sequence[Question],
    document: Mapping[str, Any] | None = None,
) -> None:
    """A judge calibration suite has a canned reply and verdict on every question, and asks
    the judge; other suites have neither (the model's reply is the one graded there)."""
    if calibration:
        data = document or {}
        problems = [f"question {q.id!r}: a judge_calibration suite needs reply and verdict"
                    for q in questions if q.canned_reply is None]  # fmt: skip
        problems += [f"question {q.id!r}: idk: true has no right answer, so a reply to it "
                     "is wrong or abstained, not correct"
                     for q in questions
                     if q.expectation.idk and q.human_verdict == "correct"]  # fmt: skip
        problems += [f"question {q.id!r}: critical is for questions asked of the model; "
                     "a judge_calibration suite asks only the judge"
                     for q in questions if q.critical is not None]  # fmt: skip
        problems += [f"question {q.id!r}: context, turns and pushback are for questions "
                     "asked of the model; a judge_calibration suite asks only the judge"
                     for q in questions
                     if q.context or q.variant or q.turns or q.pushback]  # fmt: skip
        problems += [f"{key}: a judge_calibration suite asks only the judge; remove it"
                     for key in _NOT_FOR_CALIBRATION if key in data]  # fmt: skip
        judge = data.get("judge")
        when = judge.get("when") if isinstance(judge, dict) else judge
        if when in ("off", False):
            problems.append("judge: a judge_calibration suite always asks the judge")
        if problems:
            raise SuiteError(source, problems)
        return
    canned = [q.id for q in questions if q.canned_reply is not None]
    if canned:
        raise SuiteError(
            source,
            [f"question {qid!r}: reply and verdict are for judge calibration suites "
             "(judge_calibration: true)" for qid in canned],
        )  # fmt: skip
