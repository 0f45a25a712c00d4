"""Why an answer found in a reply may not be the reply's answer: one of several offered, an item
of a list, denied, part of a longer name, or among other numbers like it."""

from __future__ import annotations

import re

from ..records import Grade
from .expectation import Expectation
from .found import Found
from .grades import doubt_text
from .language_data import and_pattern, item_break
from .number_answers import EXACT
from .number_types import Mention
from .numerals import answer_number
from .reply_view import ReplyView
from .textforms import fold, length_in_words, normalize, phrase_pattern


def competing_doubt(reply: ReplyView, found: Found, expectation: Expectation) -> str | None:
    """Why an answer found in the reply may not be the reply's answer: it is one of several
    offered, one item of a list, denied, or among other numbers close to it."""
    rest = reply.norm
    if found.phrase:
        rest = phrase_pattern(found.phrase).sub(" ", rest)
    if reply.has("alternatives", rest):
        return doubt_text("alternatives")
    if found.parts:
        # "Malia, Sasha a Susan" for "Malia a Sasha": more names than the answer has parts.
        if _named_items(reply.text, reply.lang) > found.parts:
            return doubt_text("candidates")
    elif (
        len(_LIST_LINE.findall(reply.text)) >= 2
        or _short_lines(reply.text)
        or _SLASHED.search(reply.text)
        or _enumerated(reply.text, found.phrase, reply.lang)
        or _joined(reply, found.phrase)
    ):
        return doubt_text("candidates")
    if found.phrase and (_negated(reply, found.phrase) or _corrected(reply, found.phrase)):
        return doubt_text("negation")
    if found.phrase and _inside_longer_name(reply, found.phrase):
        return doubt_text("partial")
    if found.number is not None and _other_numbers(reply, found.number, expectation):
        return doubt_text("several numbers")
    return None


#: The answer-with-doubt's grade: denied, or one of several candidates, it is likely wrong.
DOUBT_GRADES: dict[str, Grade] = {"alternatives": "wrong", "candidates": "wrong",
                                   "negation": "wrong"}  # fmt: skip

#: Lines of a list: "- Paris", "2) Lyon".
_LIST_LINE = re.compile(r"^[ \t]*(?:[-*\u2022\u00b7\u30fb]|\d{1,2}[.)])[ \t]*\S", re.MULTILINE)
_SENTENCES = re.compile(r"[.!?\u3002\uff01\uff1f\n]+(?:\s+|$)|[\u3002\uff01\uff1f]")
_CLAUSES = re.compile(r"[,;:()\u3001\uff0c\uff1b\uff1a\uff08\uff09]|[.!?\u3002\uff01\uff1f\n]+")


def _joined(reply: ReplyView, phrase: str | None) -> bool:
    """In a short reply, the answer joined to another one ("Austen and Brontë")."""
    joins = and_pattern(reply.lang)
    if not phrase or length_in_words(reply.text) > 8 or joins.search(phrase):
        return False
    rest = phrase_pattern(phrase).sub(" \x00 ", reply.norm).split()
    if "\x00" not in rest:
        return False
    at = rest.index("\x00")
    after = rest[at + 1 : at + 3]
    before = rest[max(0, at - 2) : at]
    return (len(after) == 2 and joins.fullmatch(after[0]) is not None) or (
        len(before) == 2 and joins.fullmatch(before[1]) is not None
    )


def _named_items(text: str, code: str) -> int:
    """How many names a short list holds: items between commas and "and"s that start with a
    capital letter or are written in a script without capitals ("Marx and Engels, in 1848"
    names two)."""
    items = item_break(code).split(text)
    return sum(
        1
        for item in items
        if (letters := [c for c in item if c.isalpha()]) and not letters[0].islower()
    )


def _enumerated(text: str, phrase: str | None, code: str) -> bool:
    """The answer stands in a run of three or more short items ("Paris, Lyon, Nice")."""
    if not phrase:
        return False
    for sentence in _SENTENCES.split(text):
        if phrase_pattern(phrase).search(normalize(sentence)):
            items = [item for item in item_break(code).split(sentence) if item and item.strip()]
            return len(items) >= 3 and all(length_in_words(item) <= 4 for item in items)
    return False


def _short_lines(text: str) -> bool:
    """Two or more lines of a few words each, without bullets: a list all the same."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) >= 2 and all(length_in_words(line) <= 4 for line in lines)


# "Paris/Lyon": two names with a slash between them (not a date, a URL or "km/h").
_SLASHED = re.compile(r"(?<![\w/])[^\W\d_]{2,}\s*/\s*[^\W\d_]{2,}(?![\w/])")


def _corrected(reply: ReplyView, phrase: str) -> bool:
    """The answer, then a "but" or "actually" and another name: "It's often said to be Paris,
    but it's actually Lyon." A hedge after the "but" ("Paris, but I'm not sure") names none."""
    pattern = phrase_pattern(phrase)
    clauses = _CLAUSE_TEXT.split(reply.text)
    for at, clause in enumerate(clauses):
        if pattern.search(normalize(clause)):
            later = " ".join(clauses[at + 1 :])
            return reply.has("contrast", normalize(later)) and _OTHER_NAME.search(later) is not None
    return False


_CLAUSE_TEXT = re.compile(r"(?<=[,;:.!?\n])\s+")
# A capitalised word that does not open a sentence: a name ("I" and "I'm" are not).
_OTHER_NAME = re.compile(r"(?<=[a-z,;] )(?!I\b)[A-Z][a-z]{2,}")


def _inside_longer_name(reply: ReplyView, phrase: str) -> bool:
    """The answer is part of a longer name: "Guinea-Bissau" for Guinea, "Rocky II" for Rocky,
    "iPhone 15" for iPhone."""
    pattern = _LONGER.get(phrase)
    if pattern is None:
        words = r"\W+".join(re.escape(w) for w in phrase.split())
        pattern = _LONGER[phrase] = re.compile(
            rf"(?i)(?:[^\W\d_]-{words}\b|\b{words}-[^\W\d_]|\b{words}\s+(?:[IVX]{{1,4}}|\d+)\b(?!\s*[%.,:]?\s*\w))"
        )
    return pattern.search(fold(reply.text)) is not None


_LONGER: dict[str, re.Pattern[str]] = {}


def _negated(reply: ReplyView, phrase: str) -> bool:
    """A negation in the clause that holds the answer ("not Paris", "Paris is wrong")."""
    pattern = phrase_pattern(phrase)
    for clause in _CLAUSES.split(reply.text):
        norm = normalize(clause)
        if pattern.search(norm):
            return reply.has("negation", pattern.sub(" ", norm))
    return False


def _other_numbers(reply: ReplyView, found: Mention, expectation: Expectation) -> bool:
    """Other numbers of the same size as the answer ("$8 or $10"), not a year or a count
    beside it ("330 m, built in 1889")."""
    expected = found.value
    accepted = [n for n in map(answer_number, expectation.answers) if n is not None]
    for mention in reply.numbers:
        if mention is found or any(
            (EXACT if n.as_text else expectation.tolerance).allows(mention.value, n.value)
            for n in accepted
        ):
            continue
        if expected and 1 / 3 <= mention.value / expected <= 3:
            return True
    return False
