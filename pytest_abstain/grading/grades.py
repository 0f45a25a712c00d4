"""What grading returns: a grade, and the named doubt that says why the rules may be wrong
about it (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from ..records import Grade

#: Why the rules may be wrong about a grade, by name. A doubted reply goes to the judge, or
#: is shown as undecided.
DOUBTS: dict[str, str] = {
    "hedge": "says it does not know, yet answers or says more",
    "other words": "may say 'I don't know' in words the lists miss (a negation, a hedge)",
    "partial": "the reply holds part of an expected answer, or is part of one",
    "near miss": "close to an expected answer: a typo, a spelling or a transliteration",
    "other script": "written in another script than the expected answer: a translation?",
    "approximate number": "a number given as an estimate, a bound or a range",
    "near number": "a number close to the expected one, but not equal to it",
    "unit": "the expected number with another unit",
    "alternatives": "the answer is one of several offered ('X or Y')",
    "candidates": "the answer is one item of a list of candidates",
    "negation": "the answer appears next to a negation ('not X')",
    "several numbers": "the expected number and other numbers close to it",
    "long reply": "a long reply with no answer and no abstention: an answer in other words?",
}


def doubt_text(kind: str) -> str:
    """A doubt's text ("hedge: says it does not know, ...") from its name (see DOUBTS)."""
    return f"{kind}: {DOUBTS[kind]}"


@dataclass(frozen=True)
class RuleGrade:
    """The string rules' grade, and why they may be wrong about it (None: they are sure)."""

    grade: Grade
    doubt: str | None = None
