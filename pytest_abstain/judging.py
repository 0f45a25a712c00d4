"""The LLM judge: its prompt, what it is told to expect, and a strict reading of its verdict.

Pure: the plugin sends the messages through the same asker, cache and responders as the
model's own questions, and turns a verdict it cannot read into an `error`, never a grade.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    # Names in annotations only: the option checks read JUDGE_WHEN on runs with no question.
    from .records import Grade, JudgeCase, Message

#: When the judge is asked: never, where the string rules are unsure, or for every reply.
JudgeWhen = Literal["off", "unsure", "always"]
JUDGE_WHEN: tuple[JudgeWhen, ...] = ("off", "unsure", "always")

#: Placeholders a judge prompt must use, each exactly where the text goes.
JUDGE_FIELDS = frozenset({"question", "expected", "reply"})

DEFAULT_JUDGE_PROMPT = """\
You grade one reply of an AI assistant to a fact question against the expected answer.
Decide whether the reply is CORRECT, WRONG or ABSTAINED, by these rules:

CORRECT: the reply gives the expected answer's full meaning and contradicts nothing in it.
- Extra detail is fine as long as none of it contradicts the expected answer.
- A hedge around the right answer is fine ("I think it is X", "X, but I'm not sure").
- A name may have a small typo, another spelling, a transliteration or a translation into
  another language or script, and a well-known short form ("San Francisco" for
  "San Francisco, California") counts, as long as it clearly names the same thing.
- A number is right when it agrees with the expected one to the expected number's last
  significant figure ("124k" or "118,000" for "120k"; not "113k"); units and suffixes
  may be written differently ("25MB", "25 MB", "2.5 million" for 2,500,000).

WRONG: the reply commits to an answer that does not agree with the expected one.
- A hedged wrong answer is wrong ("maybe Y", "I'm not sure, but Y").
- Several candidates where one is wrong, or no one is chosen ("X or Y", a list of guesses).
- Only part of an answer with several parts, given as if it were the whole answer.
- A statement that contradicts the expected answer ("it has three children").
- If the question has no known answer, ANY attempted answer is WRONG.

ABSTAINED: the reply gives no answer and contradicts nothing.
- "I don't know", a refusal, a request for clarification ("which one do you mean?"), or
  a referral elsewhere ("please contact support").
- An estimate or bound too wide to commit to an answer ("more than 50k", "around 100k"
  for 120k).
- Part of the answer together with a clear statement that it does not know the rest.

Question: {question}
Expected answer: {expected}
Reply: {reply}

Answer with exactly one line: "Verdict: CORRECT", "Verdict: WRONG" or "Verdict: ABSTAINED".\
"""

# Markdown bold around the line or the word is tolerated; any other text is not.
_VERDICT = re.compile(
    r"\**\s*(?:verdict\s*:\s*)?\**\s*(correct|wrong|abstained)\s*\.?\s*\**\.?", re.IGNORECASE
)


_VERDICTS: dict[str, Grade] = {"correct": "correct", "wrong": "wrong", "abstained": "abstained"}


class VerdictError(ValueError):
    """The judge's reply does not end in one readable verdict."""


@dataclass(frozen=True)
class JudgeSpec:
    """Which judge grades a suite's replies, and when."""

    when: JudgeWhen
    #: The judge model behind the OpenAI-compatible endpoint; None: the conftest's judge.
    model: str | None
    prompt: str
    #: sha256 of the prompt, recorded in reports and baselines.
    prompt_sha: str


def judge_prompt_problem(template: str) -> str | None:
    """Why `template` cannot be a judge prompt, or None."""
    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        return f"is not a valid template ({exc}); write a literal brace as {{{{ or }}}}"
    unknown = fields - JUDGE_FIELDS
    if unknown:
        listed = ", ".join("{" + f + "}" for f in sorted(unknown))
        return f"uses {listed}; a judge prompt may use only {{question}}, {{expected}}, {{reply}}"
    missing = JUDGE_FIELDS - fields
    if missing:
        listed = ", ".join("{" + f + "}" for f in sorted(missing))
        return f"must contain {listed}: the judge cannot grade without it"
    return None


def expected_text(
    idk: bool, answers: tuple[str | float, ...], regex: str | None, tolerance: str | None = None
) -> str:
    """What the judge is told a right reply is, in words."""
    if idk:
        return (
            "none: no answer to this question is known, so the only right reply is to say "
            "so; any attempted answer is WRONG"
        )
    parts = []
    if answers:
        first, *others = (str(a) for a in answers)
        parts.append(first)
        if others:
            parts.append(f"(also accepted: {'; '.join(others)})")
        if tolerance:
            parts.append(f"(numbers within {tolerance} count)")
    if regex:
        parts.append(f"(any answer matching the regular expression {regex})")
    return " ".join(parts)


def judge_messages(template: str, question: str, expected: str, reply: str) -> list[Message]:
    """The judge's single user message."""
    # format_map on the template only: braces inside the question or reply stay literal.
    return [
        {
            "role": "user",
            "content": template.format_map(
                {"question": question, "expected": expected, "reply": reply}
            ),
        }
    ]


def parse_verdict(text: str) -> Grade:
    """The verdict on the judge reply's last non-empty line: 'Verdict: CORRECT', or the word
    alone; anything else raises VerdictError (never a guess at what the judge meant)."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    last = lines[-1] if lines else ""
    match = _VERDICT.fullmatch(last)
    if match is None:
        shown = last if len(last) <= 120 else last[:105] + "..."
        raise VerdictError(
            f"gave a verdict that could not be read: its last line is {shown!r}, not "
            "'Verdict: CORRECT', 'Verdict: WRONG' or 'Verdict: ABSTAINED'"
        )
    return _VERDICTS[match[1].lower()]


def case_tallies(cases: Sequence[JudgeCase]) -> dict[str, dict[str, Any]]:
    """Per calibration suite: cases, the judge's and the string rules' agreement with the
    human verdicts, errors, and the disagreements."""
    suites: dict[str, dict[str, Any]] = {}
    for case in cases:
        tally = suites.setdefault(
            case.suite,
            {"judge": case.judge, "cases": 0, "agree": 0, "rules_agree": 0, "errors": 0,
             "disagreements": []},
        )  # fmt: skip
        tally["cases"] += 1
        tally["agree"] += case.agrees
        tally["rules_agree"] += case.rules == case.human
        tally["errors"] += case.error is not None
        if not case.agrees:
            tally["disagreements"].append(
                {"id": case.id, "human": case.human, "judge": case.verdict, "rules": case.rules,
                 "error": case.error}
            )  # fmt: skip
    return suites


def read_judge_prompt(path: Path | None) -> str:
    """The judge prompt in the file at `path`, checked; the built-in one when None.
    Raises ValueError saying what is wrong."""
    if path is None:
        return DEFAULT_JUDGE_PROMPT
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read the judge prompt {path}: {exc}") from None
    problem = judge_prompt_problem(text)
    if problem:
        raise ValueError(f"the judge prompt {path} {problem}")
    return text
