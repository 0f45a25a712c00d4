"""Finding a text answer in a reply: whole, without its elisions, by its core or a part, misspelt,
or in another script."""

from __future__ import annotations

import functools
import re

from ..records import Grade
from .found import DOUBTED, DOUBTED_CORRECT, NOT_FOUND, SURE, SURE_PART, Found
from .grades import doubt_text
from .language_data import and_pattern, languages
from .reply_view import ReplyView
from .spelling import near_miss, same_skeleton, spaceless_match, word_near_miss
from .textforms import (
    has_apostrophe,
    has_unspaced,
    length_in_words,
    normalize,
    phrase_pattern,
    scripts_of,
)

#: Between a qualified answer's parts: "San Francisco, California", "carbonate (MgCO3)",
#: "Season 7: White Wedding".
_QUALIFIER = re.compile(r"\s*(?:[,;:/()\[\]（）：，；]|\s[-\u2013\u2014]\s)\s*")
#: Between the parts of a compound answer, in the answer's own script: "Malia and Sasha".
_CJK_PARTS = re.compile(r"[·・、，,和与及（）()]+")
_LEADING_ARTICLES = frozenset({"the", "a", "an"})


@functools.lru_cache(maxsize=4096)
def _answer_core(alias: str) -> str:
    """An answer without a leading English article ("The Hague" -> "hague")."""
    norm = normalize(alias)
    words = norm.split()
    if len(words) > 1 and words[0] in _LEADING_ARTICLES and alias.isascii():
        return " ".join(words[1:])
    return norm


def find_text(reply: ReplyView, alias: str, accept_core: bool) -> Found:
    """How the text answer `alias` is found in the reply: whole, elided, without spaces, or
    one of the partial ways (`_partial`)."""
    norm = _answer_core(alias)
    if not norm:
        return NOT_FOUND
    if len(norm) == 1 and norm.isalpha():
        # A multiple-choice letter: "A" is also the article and "I" the pronoun, so only the
        # letter alone or named as the choice counts ("B", "(B)", "The answer is B.").
        return Found(SURE, "correct", phrase=norm) if _names_letter(reply, norm) else NOT_FOUND
    if phrase_pattern(norm).search(reply.norm):
        return Found(SURE, "correct", phrase=norm)
    if has_apostrophe(alias) or has_apostrophe(reply.text):
        elided = normalize(alias, elide=True)
        if elided and phrase_pattern(elided).search(reply.elided):
            return Found(SURE, "correct", phrase=elided)
        # Turkish writes a suffix after an apostrophe: "Jüpiter'dir" is "Jüpiter" + "-dir".
        if phrase_pattern(norm).search(reply.split_apostrophes):
            return Found(SURE, "correct", phrase=norm)
    if spaceless_match(reply.norm, norm):
        return Found(SURE, "correct", phrase=norm)
    return _partial(reply, alias, norm, accept_core)


def _names_letter(reply: ReplyView, letter: str) -> bool:
    if reply.norm == letter:
        return True
    pattern = _CHOICE.get(letter)
    if pattern is None:
        pattern = _CHOICE[letter] = re.compile(
            rf"(?:^\s*\(?{letter}\)|\({letter}\)|\b(?:answer|option|choice)\s*(?:is\s*)?:?\s*\(?"
            rf"{letter}\b(?![''\u2019]))",
            re.IGNORECASE,
        )
    return pattern.search(reply.text) is not None


_CHOICE: dict[str, re.Pattern[str]] = {}


def _partial(reply: ReplyView, alias: str, norm: str, accept_core: bool) -> Found:
    """A qualified answer's core, a part of the answer, a near miss or another script."""
    segments = [normalize(s) for s in _QUALIFIER.split(alias)]
    segments = [s for s in segments if s and s != norm]
    for segment in segments:
        if phrase_pattern(segment).search(reply.norm):
            if accept_core:
                return Found(SURE, "correct", phrase=segment)
            return Found(DOUBTED_CORRECT, "correct", doubt_text("partial"), phrase=segment)
    # A part of a compound answer ("Malia" of "Malia and Sasha") is wrong; a part of one
    # name ("Kundera" for "Milan Kundera") is usually that name: the doubt's best guess.
    joins = and_pattern(reply.language)  # the answer is written in the question's language
    compound = joins.search(alias) is not None
    if compound and _every_part_named(reply.norm, norm, joins):
        named = [p.strip() for p in joins.split(norm) if p.strip()]
        return Found(SURE, "correct", phrase=named[0], parts=len(named))
    if has_unspaced(norm):
        parts = [w for p in _CJK_PARTS.split(alias) for w in normalize(p).split()]
        found = [p for p in parts if len(p) >= 2 and p in reply.norm]
        short = reply.norm.replace(" ", "")
        if found or (2 <= len(short) <= 12 and short in norm.replace(" ", "")):
            grade: Grade = "wrong" if compound or len(parts) > 2 else "correct"
            return Found(DOUBTED, grade, doubt_text("partial"))
    else:
        if near_miss(reply.norm, norm):
            return Found(DOUBTED, "correct", doubt_text("near miss"))
        # "de" of "Miguel de Cervantes" in "Lope de Vega" is no part of the answer.
        everywhere = _common_words()
        words = [w for w in norm.split() if (len(w) >= 2 and w not in everywhere) or w.isdigit()]
        reply_words = set(reply.norm.split())
        found_words = [w for w in words if w in reply_words]
        if found_words:
            common = languages()[reply.lang].words if reply.lang in languages() else frozenset()
            extra = reply_words - set(words) - common
            whole = len(found_words) == len(words)
            brief = length_in_words(reply.text) <= 6
            if compound and not whole and brief and not extra:
                part_words = [set(p.split()) for p in joins.split(norm) if p.strip()]
                if sum(1 for part in part_words if part & reply_words) < len(part_words):
                    # "Neil Armstrong." for "Neil Armstrong and Buzz Aldrin": one of two.
                    return Found(SURE_PART, "wrong")
                # "Malia and Sasha" for "Malia and Sasha Obama": each part, in short.
                return Found(DOUBTED_CORRECT, "correct", doubt_text("partial"))
            if not compound and brief and not extra and _is_tail(reply.norm, norm, common):
                # "Kundera." for "Milan Kundera" names the person, but "Korea" for "North
                # Korea" names another place: sure only where the suite accepts a core.
                if accept_core:
                    return Found(SURE, "correct", phrase=norm.split()[-1])
                return Found(DOUBTED_CORRECT, "correct", doubt_text("partial"))
            grade = "correct" if whole or (not compound and not extra) else "wrong"
            return Found(DOUBTED, grade, doubt_text("partial"))
        if same_skeleton(reply.norm, norm) or word_near_miss(reply.norm, norm):
            return Found(DOUBTED, "correct", doubt_text("near miss"))
    answer_scripts = _word_scripts(alias)
    reply_scripts = _word_scripts(reply.text)
    if reply_scripts and answer_scripts and not (reply_scripts & answer_scripts):
        return Found(DOUBTED, "correct", doubt_text("other script"))
    return NOT_FOUND


def _every_part_named(reply: str, alias: str, joins: re.Pattern[str]) -> bool:
    """Each part of a compound answer is in the reply, whole or by its own last word: "Marx
    and Engels" for "Karl Marx and Friedrich Engels" (but a last word two parts share, as in
    "Malia Obama and Sasha Obama", names neither)."""
    parts = [p.split() for p in joins.split(alias) if p.strip()]
    if len(parts) < 2 or not joins.search(reply):
        return False  # "Jacob Grimm." names one of "Jacob and Wilhelm Grimm"
    tails = [part[-1] for part in parts]
    words = set(reply.split())
    return all(
        phrase_pattern(" ".join(part)).search(reply) is not None
        or (tails.count(part[-1]) == 1 and part[-1] in words and len(part[-1]) >= 3)
        for part in parts
    )


def _is_tail(reply: str, alias: str, common: frozenset[str]) -> bool:
    """The reply, common words aside, is the answer's last words ("Kundera", "da Vinci"),
    in order and shorter than the answer."""
    core = [w for w in reply.split() if w not in common] or reply.split()
    words = alias.split()
    return 0 < len(core) < len(words) and words[-len(core) :] == core


@functools.cache
def _common_words() -> frozenset[str]:
    """The common words of every language ("de", "la", "the"): no part of a name."""
    return frozenset().union(*(lang.words for lang in languages().values()))


@functools.lru_cache(maxsize=4096)  # an answer's scripts, asked for every reply
def _word_scripts(text: str) -> frozenset[str]:
    """The scripts of a text's words of two letters or more: the initials of "J·K·罗琳"
    do not make it a Latin name."""
    if text.isascii():
        return scripts_of("ab") if _TWO_LETTERS.search(text) else frozenset()
    return frozenset().union(*(scripts_of(w) for w in _WORDS.findall(text) if len(w) >= 2))


_TWO_LETTERS = re.compile("[A-Za-z]{2}")

_WORDS = re.compile(r"[^\W\d_]+")
