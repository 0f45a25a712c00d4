"""Grade one model reply as correct, wrong or abstained, and say where the rules cannot be
sure (pure; standard library only).

A grade without a doubt is one the rules are sure of. Where they are not (a partial or
near match, an approximate number, a hedge, several candidates, a translation...), the
grade carries a named doubt: the judge decides it, or the reports show it as undecided.
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Literal

from .languages import abstain_finder, abstain_phrases, kind_finder, languages, reply_language
from .numerals import (
    AnswerNumber,
    Mention,
    answer_number,
    approximate_in_any_language,
    extract_numbers,
    mentions,
    scaled_unit,
    unit_factor,
)
from .patterns import Search, unbounded_search
from .textforms import (
    APOSTROPHES,
    PhraseFinder,
    fold,
    has_apostrophe,
    has_unspaced,
    length_in_words,
    normalize,
    phrase_pattern,
    scripts_of,
)

__all__ = [
    "DEFAULT_IDK_PHRASES",
    "DOUBTS",
    "GRADES",
    "Expectation",
    "Grade",
    "RuleGrade",
    "Tolerance",
    "doubt_kind",
    "extract_numbers",
    "grade_reply",
    "is_abstention",
    "matches_answer",
    "normalize",
    "rule_grade",
]

Grade = Literal["correct", "wrong", "abstained", "error"]
GRADES: tuple[Grade, ...] = ("correct", "wrong", "abstained", "error")

# Relative slack for binary float noise: 1.1 - 1.0 is 0.10000000000000009, not 0.1.
_FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Tolerance:
    """How far a numeric reply may be from the expected number and still count.

    `significant`: a number counts when it agrees with the answer to the answer's last
    significant figure (SimpleQA's rule: "124k" for "120k", not "113k").
    """

    absolute: float = 0.0
    relative: float = 0.0
    significant: bool = False

    def __post_init__(self) -> None:
        for name, value in (("absolute", self.absolute), ("relative", self.relative)):
            if math.isnan(value) or value < 0:
                raise ValueError(f"tolerance {name} must be a number >= 0, got {value!r}")

    def allows(self, value: float, expected: float) -> bool:
        """True if `value` is within the absolute or the relative bound of `expected`."""
        diff = abs(value - expected)
        bound = max(self.absolute, self.relative * abs(expected))
        return (
            diff <= bound
            or math.isclose(diff, bound, rel_tol=_FLOAT_SLACK)
            or math.isclose(value, expected, rel_tol=_FLOAT_SLACK)
        )


@dataclass(frozen=True)
class Expectation:
    """What counts as a right reply to one question."""

    idk: bool = False
    answers: tuple[str | float, ...] = ()
    regex: re.Pattern[str] | None = None
    tolerance: Tolerance = Tolerance()
    #: An answer's qualifier may be left out: "San Francisco, California" accepts
    #: "San Francisco", and "carbonate (MgCO3)" accepts either part.
    accept_core: bool = False
    #: The question's language ("en", "cs"): a short reply ("Ponad 500 km.") is read in it
    #: when its own words do not tell.
    language: str = "en"


#: The built-in abstention phrases of every shipped language (normalised): saying "I don't
#: know", refusing and asking which one is meant. Support-bot deflections ("please contact
#: support") count too unless a suite turns them off (`rule_grade(deflections=False)`).
DEFAULT_IDK_PHRASES: tuple[str, ...] = abstain_phrases(("idk", "refusal", "clarification"))

# --- abstention ------------------------------------------------------------------------------

# Phrases that also occur in answers, and what around them makes them an answer: "Many people
# don't know that ...", "let me know if you are not sure", "I can't say enough good things",
# 不确定性 ("uncertainty"). (normalised phrase -> (text right before it, right after it)).
_GUARDS: dict[str, tuple[re.Pattern[str] | None, re.Pattern[str] | None]] = {
    "dont know": (re.compile(r"(?:people|you|they|who|many) $"), None),
    "not sure": (re.compile(r"(?:you are|youre|if|make) $"), None),
    "i cant say": (None, re.compile(r" enough")),
    "i cannot say": (None, re.compile(r" enough")),
    "不确定": (None, re.compile(r"性")),
    "不確定": (None, re.compile(r"性")),
}
# Accent stripping turns "no sé" (I don't know) into "no se", the start of "no se encuentra"
# ("is not located"), so that phrase also needs its accent in the casefolded reply.
_ACCENTED: dict[str, re.Pattern[str]] = {"no se": re.compile(r"(?<!\w)no\s+sé(?!\w)")}

#: Words that abstain when they are the whole reply ("Unknown."), but not inside a sentence
#: ("the author is unknown" may be the right answer to "who wrote it?").
_WHOLE_REPLY_IDK = frozenset(
    {"unknown", "not known", "unclear", "uncertain", "unsure", "desconocido", "inconnu",
     "unbekannt", "sconosciuto", "desconhecido", "неизвестно", "未知", "不详", "不明"}
)  # fmt: skip


def _phrases_matcher(phrases: Sequence[str], deflections: bool) -> PhraseFinder:
    """The finder for a phrase list. Found by the list's identity first: hashing a tuple of
    two thousand phrases for every reply would cost more than finding them."""
    entry = _MATCHERS.get((id(phrases), deflections))
    if entry is not None and entry[0] is phrases:
        return entry[1]
    if len(_MATCHERS) >= 64:
        _MATCHERS.clear()
    finder = _build_matcher(tuple(phrases), deflections)
    # The list is kept with its finder, so that its id cannot be reused while cached.
    _MATCHERS[(id(phrases), deflections)] = (phrases, finder)
    return finder


_MATCHERS: dict[tuple[int, bool], tuple[Sequence[str], PhraseFinder]] = {}


@functools.lru_cache(maxsize=64)
def _build_matcher(phrases: tuple[str, ...], deflections: bool) -> PhraseFinder:
    if phrases == DEFAULT_IDK_PHRASES:
        return abstain_finder() if deflections else abstain_finder(_NOT_DEFLECTING)
    extra = abstain_phrases(("deflection",)) if deflections else ()
    return PhraseFinder((*(normalize(p) for p in phrases), *extra))


_NOT_DEFLECTING = ("idk", "refusal", "clarification")


def _abstention_spans(
    reply: str, norm: str, phrases: Sequence[str], deflections: bool
) -> list[tuple[int, int]]:
    """Where `norm` (the normalised reply) says it does not know, refuses, asks which one is
    meant or deflects, leaving out look-alikes that are answers."""
    spans = []
    folded: str | None = None
    for start, end in _phrases_matcher(phrases, deflections).spans(norm):
        phrase = norm[start:end]
        before, after = _GUARDS.get(phrase, (None, None))
        if before is not None and before.search(norm, 0, start):
            continue
        if after is not None and after.match(norm, end):
            continue
        if phrase in _ACCENTED:
            folded = folded or unicodedata.normalize("NFKC", reply).casefold()
            if not _ACCENTED[phrase].search(folded):
                continue
        spans.append((start, end))
    return spans


def is_abstention(reply: str, phrases: Sequence[str] = DEFAULT_IDK_PHRASES) -> bool:
    """True if the reply says it does not know (or refuses, asks which one is meant, or
    deflects) in one of `phrases` or the built-in lists, compared as normalised whole words."""
    norm = normalize(reply)
    return norm in _WHOLE_REPLY_IDK or bool(_abstention_spans(reply, norm, phrases, True))


# --- the reply, read once ----------------------------------------------------------------------


class _Reply:
    """A reply's forms, each computed at most once and only when a rule needs it."""

    def __init__(self, text: str, language: str = "en") -> None:
        self.text = text
        #: The question's language: the reply is read in it unless its script says otherwise.
        self.language = language
        self.norm = normalize(text)

    @cached_property
    def lang(self) -> str:
        return reply_language(self.text, self.language)

    @cached_property
    def numbers(self) -> list[Mention]:
        return mentions(self.text, self.lang)

    @cached_property
    def elided(self) -> str:
        return normalize(self.text, elide=True)

    @cached_property
    def split_apostrophes(self) -> str:
        """The reply with a suffix after an apostrophe set apart ("Jüpiter'dir")."""
        return normalize(_SUFFIX_APOSTROPHE.sub(" ", self.text))

    def has(self, kind: str, text: str | None = None) -> bool:
        """True if the reply (or `text`, normalised) has a `kind` word of its language."""
        return kind_finder(kind, self.lang).search(self.norm if text is None else text)


# --- doubts ------------------------------------------------------------------------------------

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


def _doubt(kind: str) -> str:
    return f"{kind}: {DOUBTS[kind]}"


def doubt_kind(doubt: str) -> str:
    """The name of a doubt ("hedge") from its text ("hedge: says it does not know, ...")."""
    return doubt.split(":", 1)[0]


@dataclass(frozen=True)
class RuleGrade:
    """The string rules' grade, and why they may be wrong about it (None: they are sure)."""

    grade: Grade
    doubt: str | None = None


_SURE = 4
_DOUBTED_CORRECT = 3
_DOUBTED = 2
#: Surely a part only: wrong, unless another answer is found better.
_SURE_PART = 1


@dataclass(frozen=True)
class _Found:
    """How one expected answer was found in the reply; rank orders the ways."""

    rank: int
    grade: Grade
    doubt: str | None = None
    #: The matched stretch of the normalised reply (text answers), or the matched number.
    phrase: str | None = None
    number: Mention | None = None
    #: For a compound answer named part by part: how many parts it has.
    parts: int = 0


_NOT_FOUND = _Found(0, "wrong")

#: Between a qualified answer's parts: "San Francisco, California", "carbonate (MgCO3)",
#: "Season 7: White Wedding".
_QUALIFIER = re.compile(r"\s*(?:[,;:/()\[\]（）：，；]|\s[-\u2013\u2014]\s)\s*")
#: Between the parts of a compound answer, in the answer's own script: "Malia and Sasha".
_CJK_PARTS = re.compile(r"[·・、，,和与及（）()]+")
_LEADING_ARTICLES = frozenset({"the", "a", "an"})
#: Lines of a list: "- Paris", "2) Lyon".
_LIST_LINE = re.compile(r"^[ \t]*(?:[-*\u2022\u00b7\u30fb]|\d{1,2}[.)])[ \t]*\S", re.MULTILINE)
_SENTENCES = re.compile(r"[.!?\u3002\uff01\uff1f\n]+(?:\s+|$)|[\u3002\uff01\uff1f]")
_CLAUSES = re.compile(r"[,;:()\u3001\uff0c\uff1b\uff1a\uff08\uff09]|[.!?\u3002\uff01\uff1f\n]+")


@functools.lru_cache(maxsize=4096)
def _answer_core(alias: str) -> str:
    """An answer without a leading English article ("The Hague" -> "hague")."""
    norm = normalize(alias)
    words = norm.split()
    if len(words) > 1 and words[0] in _LEADING_ARTICLES and alias.isascii():
        return " ".join(words[1:])
    return norm


def _find_text(reply: _Reply, alias: str, accept_core: bool) -> _Found:
    norm = _answer_core(alias)
    if not norm:
        return _NOT_FOUND
    if len(norm) == 1 and norm.isalpha():
        # A multiple-choice letter: "A" is also the article and "I" the pronoun, so only the
        # letter alone or named as the choice counts ("B", "(B)", "The answer is B.").
        return _Found(_SURE, "correct", phrase=norm) if _names_letter(reply, norm) else _NOT_FOUND
    if phrase_pattern(norm).search(reply.norm):
        return _Found(_SURE, "correct", phrase=norm)
    if has_apostrophe(alias) or has_apostrophe(reply.text):
        elided = normalize(alias, elide=True)
        if elided and phrase_pattern(elided).search(reply.elided):
            return _Found(_SURE, "correct", phrase=elided)
        # Turkish writes a suffix after an apostrophe: "Jüpiter'dir" is "Jüpiter" + "-dir".
        if phrase_pattern(norm).search(reply.split_apostrophes):
            return _Found(_SURE, "correct", phrase=norm)
    if _spaceless_match(reply.norm, norm):
        return _Found(_SURE, "correct", phrase=norm)
    return _partial(reply, alias, norm, accept_core)


def _names_letter(reply: _Reply, letter: str) -> bool:
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


def _spaceless_match(reply: str, alias: str) -> bool:
    """ "Hyungwon Chung" for "Hyung Won Chung", "Tamilnadu" for "Tamil Nadu": the same letters
    split into other words (a word run of the reply spells the answer without spaces)."""
    target = alias.replace(" ", "")
    if len(target) < 5 or has_unspaced(target):
        return False
    words = reply.split()
    for start in range(len(words)):
        # At most len(target) words from each start (every word has a letter): linear.
        joined, end = "", start
        while end < len(words) and len(joined) < len(target):
            joined += words[end]
            end += 1
        if joined == target:
            return True
    return False


def _partial(reply: _Reply, alias: str, norm: str, accept_core: bool) -> _Found:
    """A qualified answer's core, a part of the answer, a near miss or another script."""
    segments = [normalize(s) for s in _QUALIFIER.split(alias)]
    segments = [s for s in segments if s and s != norm]
    for segment in segments:
        if phrase_pattern(segment).search(reply.norm):
            if accept_core:
                return _Found(_SURE, "correct", phrase=segment)
            return _Found(_DOUBTED_CORRECT, "correct", _doubt("partial"), phrase=segment)
    # A part of a compound answer ("Malia" of "Malia and Sasha") is wrong; a part of one
    # name ("Kundera" for "Milan Kundera") is usually that name: the doubt's best guess.
    joins = _compound(reply.language)  # the answer is written in the question's language
    compound = joins.search(alias) is not None
    if compound and _every_part_named(reply.norm, norm, joins):
        named = [p.strip() for p in joins.split(norm) if p.strip()]
        return _Found(_SURE, "correct", phrase=named[0], parts=len(named))
    if has_unspaced(norm):
        parts = [w for p in _CJK_PARTS.split(alias) for w in normalize(p).split()]
        found = [p for p in parts if len(p) >= 2 and p in reply.norm]
        short = reply.norm.replace(" ", "")
        if found or (2 <= len(short) <= 12 and short in norm.replace(" ", "")):
            grade: Grade = "wrong" if compound or len(parts) > 2 else "correct"
            return _Found(_DOUBTED, grade, _doubt("partial"))
    else:
        if _near_miss(reply.norm, norm):
            return _Found(_DOUBTED, "correct", _doubt("near miss"))
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
                    return _Found(_SURE_PART, "wrong")
                # "Malia and Sasha" for "Malia and Sasha Obama": each part, in short.
                return _Found(_DOUBTED_CORRECT, "correct", _doubt("partial"))
            if not compound and brief and not extra and _is_tail(reply.norm, norm, common):
                # "Kundera." for "Milan Kundera" names the person, but "Korea" for "North
                # Korea" names another place: sure only where the suite accepts a core.
                if accept_core:
                    return _Found(_SURE, "correct", phrase=norm.split()[-1])
                return _Found(_DOUBTED_CORRECT, "correct", _doubt("partial"))
            grade = "correct" if whole or (not compound and not extra) else "wrong"
            return _Found(_DOUBTED, grade, _doubt("partial"))
        if _same_skeleton(reply.norm, norm) or _word_near_miss(reply.norm, norm):
            return _Found(_DOUBTED, "correct", _doubt("near miss"))
    answer_scripts = _word_scripts(alias)
    reply_scripts = _word_scripts(reply.text)
    if reply_scripts and answer_scripts and not (reply_scripts & answer_scripts):
        return _Found(_DOUBTED, "correct", _doubt("other script"))
    return _NOT_FOUND


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
# An apostrophe between a word of three letters or more and a short suffix: "Jüpiter'dir",
# "Ankara'da"; not "I'd" or "don't".
_SUFFIX_APOSTROPHE = re.compile(
    f"(?<=[^\\W\\d_]{{3}})[{APOSTROPHES}](?=[^\\W\\d_]{{1,5}}(?![^\\W\\d_]))"
)
#: "And" in each language: it joins the parts of a compound answer ("Marx and Engels",
#: 马克思和恩格斯). Looked for in one language only: Czech "a" is the English article.
_AND = {"en": "and", "de": "und", "fr": "et", "es": "y e", "it": "e ed", "pt": "e", "nl": "en",
        "sv": "och", "pl": "i oraz", "cs": "a i", "ru": "и", "uk": "і та й", "tr": "ve",
        "vi": "và", "id": "dan", "hi": "और"}  # fmt: skip


@functools.lru_cache(maxsize=64)
def _compound(code: str) -> re.Pattern[str]:
    words = "|".join({*_AND.get(code, "").split(), "and"})
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)|[&和与及、と및]|\sو")


@functools.lru_cache(maxsize=64)
def _item_break(code: str) -> re.Pattern[str]:
    return re.compile(r"[,;\u3001\uff0c\uff1b]|" + _compound(code).pattern)


_SKELETON_MAP = str.maketrans({"w": "v", "c": "k", "q": "k", "z": "s", "x": "s", "j": "i",
                               "y": "i"})  # fmt: skip
_VOWELS = re.compile(r"(?<=.)[aeiou]+")
_DOUBLED = re.compile(r"(.)\1+")


def _skeleton(word: str) -> str:
    """A Latin name with its vowels and spelling variants folded away: "Dostoevsky" and
    "Dostojewski" are both "dstvsk" (transliterations of one name)."""
    word = word.replace("ph", "f").replace("th", "t").replace("ck", "k").translate(_SKELETON_MAP)
    return _DOUBLED.sub(r"\1", _VOWELS.sub("", word))


def _word_near_miss(reply: str, alias: str) -> bool:
    """A word of a short reply one edit from a long word of the answer (गाँधी for गांधी)."""
    words = reply.split()
    if len(words) > 6:
        return False
    targets = [w for w in alias.split() if len(w) >= 5]
    return any(
        abs(len(word) - len(target)) <= 1 and _within_edits(word, target, 1)
        for word in words
        for target in targets
    )


def _same_skeleton(reply: str, alias: str) -> bool:
    """A word of a short reply spells a word of the answer another way ("Londyn" for
    "London", "Tolstoi" for "Tolstoy")."""
    words = reply.split()
    if len(words) > 4 or not alias.isascii():
        return False
    targets = {_skeleton(w) for w in alias.split() if len(w) >= 3 and w.isalpha()}
    for word in words:
        if len(word) >= 3 and word.isascii() and word.isalpha():
            shape = _skeleton(word)
            if shape in targets and (len(shape) >= 3 or len(words) == 1):
                return True
    return False


def _near_miss(reply: str, alias: str) -> bool:
    """A stretch of the reply within a few edits of the answer ("Hyoong Won Choong")."""
    if len(alias) < 4 or not any(c.isalpha() for c in alias) or reply.count(" ") > 40:
        return False  # a long reply names its answer, it does not misspell it
    budget = max(1, len(alias) // 5)
    if len(_bigrams(alias) - _bigrams(reply)) > 2 * budget:
        return False  # each edit breaks at most two of the answer's letter pairs
    words = reply.split()
    size = len(alias.split())
    first, last = alias[0], alias[-1]
    for count in {max(1, size - 1), size, size + 1}:
        for start in range(len(words) - count + 1):
            # A typo seldom changes both ends: most windows are skipped unjoined.
            if words[start][0] != first and words[start + count - 1][-1] != last:
                continue
            window = " ".join(words[start : start + count])
            if abs(len(window) - len(alias)) <= budget and _within_edits(window, alias, budget):
                return True
    return False


@functools.lru_cache(maxsize=8192)
def _bigrams(text: str) -> frozenset[str]:
    return frozenset(text[i : i + 2] for i in range(len(text) - 1))


def _within_edits(a: str, b: str, budget: int) -> bool:
    """Levenshtein distance of a and b is at most `budget` (banded, so cheap)."""
    if a[0] != b[0] and a[-1] != b[-1]:
        return False  # a typo seldom changes both ends; this skips most windows
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, 1):
        current = [i] + [budget + 1] * len(b)
        low, high = max(1, i - budget), min(len(b), i + budget)
        for j in range(low, high + 1):
            cost = 0 if char_a == b[j - 1] else 1
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
        if min(current[max(0, low - 1) : high + 1]) > budget:
            return False
        previous = current
    return previous[len(b)] <= budget


def _find_number(reply: _Reply, number: AnswerNumber, tolerance: Tolerance) -> _Found:
    exact_tolerance = _EXACT if number.as_text else tolerance
    best = _NOT_FOUND
    for mention in reply.numbers:
        found = _number_found(mention, number, exact_tolerance, tolerance.significant)
        if found.rank > best.rank:
            best = found
    return best


_EXACT = Tolerance()


def _number_found(
    mention: Mention, number: AnswerNumber, tolerance: Tolerance, significant: bool
) -> _Found:
    """The best reading of one number in the reply: as written, its other reading ("5.137"),
    in the answer's unit ("8.849 km" for 8849 m)."""
    factor = unit_factor(mention.unit, number.unit)
    best = _NOT_FOUND
    # Either reading of "5.137" in the reply, against either reading of "42,195" expected.
    readings = [number] if number.other is None else [number, replace(number, value=number.other)]
    for value in (mention.value, mention.other):
        for expected in readings:
            if value is None:
                continue
            if factor is None:  # "25 kg" for "25 MB": the number may match, the thing not
                if _compare(value, mention, expected, tolerance, significant).rank == _SURE:
                    return _Found(_DOUBTED, "wrong", _doubt("unit"), number=mention)
                continue
            found = _compare(value * factor, mention, expected, tolerance, significant)
            if found.rank > best.rank:
                best = found
    size = scaled_unit(mention.unit)
    if best.rank < _SURE and number.unit is None and size not in (None, 1.0):
        # "8.849 km" when the answer is 8849 without a unit: metres, probably.
        converted = _compare(mention.value * (size or 1.0), mention, number, tolerance, significant)
        if converted.rank == _SURE:
            return _Found(_DOUBTED_CORRECT, "correct", _doubt("unit"), number=mention)
    return best


def _compare(
    value: float, mention: Mention, number: AnswerNumber, tolerance: Tolerance, significant: bool
) -> _Found:
    expected = number.value
    diff = abs(value - expected)
    slack = _FLOAT_SLACK * max(abs(expected), 1.0)
    rounds_to_answer = diff <= number.step / 2 + slack
    close = diff <= 0.1 * abs(expected) + slack
    if tolerance.allows(value, expected) or (significant and rounds_to_answer):
        if mention.approximate:
            return _Found(_DOUBTED_CORRECT, "correct", _doubt("approximate number"), number=mention)
        return _Found(_SURE, "correct", number=mention)
    if mention.approximate:
        # "around 100k", "more than 3000": too wide to commit (SimpleQA: not attempted).
        return _Found(_DOUBTED, "abstained", _doubt("approximate number"), number=mention)
    if rounds_to_answer:  # "124k" for "120k": right to the answer's last figure
        return _Found(_DOUBTED_CORRECT, "correct", _doubt("near number"), number=mention)
    if diff <= max(mention.step, number.step) + slack and close:
        # Off by at most one in the last figure: "3518" or "3518.1" for 3518.17 (rounded or
        # cut), "1.74" for 1.73 (a near miss, or a source that differs).
        return _Found(_DOUBTED, "wrong", _doubt("near number"), number=mention)
    # "100k" for "120k", 8800 for 8849: not the answer at its own precision.
    return _NOT_FOUND


def _find(reply: _Reply, answer: str | float, expectation: Expectation) -> _Found:
    number = answer_number(answer)
    if number is None:
        return _find_text(reply, str(answer), expectation.accept_core)
    return _find_number(reply, number, expectation.tolerance)


def _best(reply: _Reply, expectation: Expectation, search: Search = unbounded_search) -> _Found:
    best = _NOT_FOUND
    for answer in expectation.answers:
        found = _find(reply, answer, expectation)
        if found.rank > best.rank:
            best = found
            if best.rank == _SURE:
                break
    regex = expectation.regex
    if best.rank < _SURE and regex and search(regex, unicodedata.normalize("NFKC", reply.text)):
        return _Found(_SURE, "correct")
    return best


def matches_answer(reply: str, expectation: Expectation) -> bool:
    """True if the reply surely contains an accepted answer or number, or matches the regex."""
    return _best(_Reply(reply, expectation.language), expectation).rank == _SURE


# --- a found answer among others ---------------------------------------------------------------


def _competing(reply: _Reply, found: _Found, expectation: Expectation) -> str | None:
    """Why an answer found in the reply may not be the reply's answer: it is one of several
    offered, one item of a list, denied, or among other numbers close to it."""
    rest = reply.norm
    if found.phrase:
        rest = phrase_pattern(found.phrase).sub(" ", rest)
    if reply.has("alternatives", rest):
        return _doubt("alternatives")
    if found.parts:
        # "Malia, Sasha a Susan" for "Malia a Sasha": more names than the answer has parts.
        if _named_items(reply.text, reply.lang) > found.parts:
            return _doubt("candidates")
    elif (
        len(_LIST_LINE.findall(reply.text)) >= 2
        or _short_lines(reply.text)
        or _SLASHED.search(reply.text)
        or _enumerated(reply.text, found.phrase, reply.lang)
        or _joined(reply, found.phrase)
    ):
        return _doubt("candidates")
    if found.phrase and (_negated(reply, found.phrase) or _corrected(reply, found.phrase)):
        return _doubt("negation")
    if found.phrase and _inside_longer_name(reply, found.phrase):
        return _doubt("partial")
    if found.number is not None and _other_numbers(reply, found.number, expectation):
        return _doubt("several numbers")
    return None


#: The answer-with-doubt's grade: denied, or one of several candidates, it is likely wrong.
_DOUBT_GRADES: dict[str, Grade] = {"alternatives": "wrong", "candidates": "wrong",
                                   "negation": "wrong"}  # fmt: skip


def _joined(reply: _Reply, phrase: str | None) -> bool:
    """In a short reply, the answer joined to another one ("Austen and Brontë")."""
    joins = _compound(reply.lang)
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
    items = _item_break(code).split(text)
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
            items = [item for item in _item_break(code).split(sentence) if item and item.strip()]
            return len(items) >= 3 and all(length_in_words(item) <= 4 for item in items)
    return False


def _short_lines(text: str) -> bool:
    """Two or more lines of a few words each, without bullets: a list all the same."""
    lines = [line for line in text.splitlines() if line.strip()]
    return len(lines) >= 2 and all(length_in_words(line) <= 4 for line in lines)


# "Paris/Lyon": two names with a slash between them (not a date, a URL or "km/h").
_SLASHED = re.compile(r"(?<![\w/])[^\W\d_]{2,}\s*/\s*[^\W\d_]{2,}(?![\w/])")


def _corrected(reply: _Reply, phrase: str) -> bool:
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


def _inside_longer_name(reply: _Reply, phrase: str) -> bool:
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


def _negated(reply: _Reply, phrase: str) -> bool:
    """A negation in the clause that holds the answer ("not Paris", "Paris is wrong")."""
    pattern = phrase_pattern(phrase)
    for clause in _CLAUSES.split(reply.text):
        norm = normalize(clause)
        if pattern.search(norm):
            return reply.has("negation", pattern.sub(" ", norm))
    return False


def _other_numbers(reply: _Reply, found: Mention, expectation: Expectation) -> bool:
    """Other numbers of the same size as the answer ("$8 or $10"), not a year or a count
    beside it ("330 m, built in 1889")."""
    expected = found.value
    accepted = [n for n in map(answer_number, expectation.answers) if n is not None]
    for mention in reply.numbers:
        if mention is found or any(
            (_EXACT if n.as_text else expectation.tolerance).allows(mention.value, n.value)
            for n in accepted
        ):
            continue
        if expected and 1 / 3 <= mention.value / expected <= 3:
            return True
    return False


# --- the grade ---------------------------------------------------------------------------------


def _says_more(reply: _Reply, spans: list[tuple[int, int]]) -> str | None:
    """After an abstention, what else the reply says: "guess" (a hedged answer, which on an
    idk question is an attempt), "more" (a second statement), or None."""
    rest = reply.norm
    for start, end in reversed(spans):
        rest = rest[:start] + " " + rest[end:]
    if reply.has("hedge", rest):
        return "guess"
    if _HAS_NUMBER.search(rest) or length_in_words(rest) >= _MORE_WORDS:
        return "more"
    # "I'm sorry, but I can't help": a "but" before the abstention leads into it; after it,
    # a second statement follows ("I don't know her name, but she has three children").
    after = reply.norm[spans[-1][1] :] if spans else rest
    if reply.has("contrast", after) and length_in_words(after) >= 4:
        return "more"
    return None


#: A number in digits or in English words ("three children") after an abstention.
_HAS_NUMBER = re.compile(
    r"\d|(?<!\w)(?:two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|"
    r"thirty|forty|fifty|hundred|thousand|million|billion)(?!\w)"
)

#: After an abstention, this many more words are a second statement, not politeness.
_MORE_WORDS = 20

#: Replies of at least this many words (two characters of Chinese or Japanese count as one)
#: that neither match an answer nor abstain may give the answer in other words.
LONG_REPLY_WORDS = 12


def rule_grade(
    reply: str,
    expectation: Expectation,
    idk_phrases: Sequence[str] = DEFAULT_IDK_PHRASES,
    abstained: bool | None = None,
    *,
    deflections: bool = True,
    search: Search = unbounded_search,
) -> RuleGrade:
    """Grade by the string rules, with a named doubt (see DOUBTS) where they cannot decide.

    `abstained`, when given, decides the abstention instead of the phrase lists;
    `deflections` False: a support bot's "please contact support" is not an abstention.
    `search` runs the question's regex (patterns.bounded_search bounds its time);
    it raises nothing but what `search` raises.
    """
    view = _Reply(reply, expectation.language)
    spans: list[tuple[int, int]] = []
    # A hook that decided the abstention decided it for own words too.
    own_words = abstained is None
    if abstained is None:
        spans = _abstention_spans(reply, view.norm, idk_phrases, deflections)
        abstained = bool(spans) or view.norm in _WHOLE_REPLY_IDK
    if expectation.idk:
        return _grade_unanswerable(view, abstained, spans, own_words)
    found = _best(view, expectation, search)
    if found.rank == _SURE:
        # "I'm not sure, but I think it's Paris": a hedged answer counts (SimpleQA's rubric),
        # unless it is one of several, denied, or among other numbers. But "Which Paris do
        # you mean?" asks, and "I can't discuss Paris" refuses: the answer's name is no answer.
        if spans and _declines_beyond_doubt(view):
            asks = abstain_finder(("clarification",)).search(view.norm)
            return RuleGrade("abstained" if asks else "correct", _doubt("hedge"))
        doubt = _competing(view, found, expectation)
        return RuleGrade(_DOUBT_GRADES.get(doubt_kind(doubt), "correct") if doubt else "correct",
                         doubt)  # fmt: skip
    if abstained:
        if found.doubt is not None and doubt_kind(found.doubt) == "other script":
            found = _NOT_FOUND  # "I can't help with that" in Arabic names no Latin answer
        more = _says_more(view, spans)
        if more == "guess" and found.rank == 0:
            # "Maybe Lyon? I'm not sure": a hedged guess is an answer, and when it names
            # someone or something the rules are sure it is not the expected one.
            if _names_a_guess(view, spans):
                return RuleGrade("wrong")
            return RuleGrade("wrong", _doubt("hedge"))
        if found.rank > 0 or more:
            return RuleGrade("abstained", _doubt("hedge"))
        return RuleGrade("abstained")
    if found.rank == _SURE_PART:
        return RuleGrade("wrong")
    if found.rank > 0:
        return RuleGrade(found.grade, found.doubt)
    if own_words and _declines_in_own_words(view):
        return RuleGrade("abstained")
    if _numeric(expectation) and view.numbers:
        if _commits_to_other_numbers(view):
            return RuleGrade("wrong")
        # "Lebih dari 500 km" read as English: a bound in some language, not a value.
        return RuleGrade("abstained", _doubt("approximate number"))
    if length_in_words(reply) >= LONG_REPLY_WORDS:
        return RuleGrade("wrong", _doubt("long reply"))
    if view.has("negation"):
        # "I have no record of that": a wrong answer seldom denies; a way of not knowing that
        # the phrase lists miss usually does.
        return RuleGrade("wrong", _doubt("other words"))
    return RuleGrade("wrong")


def _numeric(expectation: Expectation) -> bool:
    """Every accepted answer is a number (and no regex accepts words)."""
    return (
        expectation.regex is None
        and bool(expectation.answers)
        and all(answer_number(a) is not None for a in expectation.answers)
    )


def _commits_to_other_numbers(view: _Reply) -> bool:
    """The reply states a number with no "about" or "more than" before it in any language:
    "the trash keeps files for 30 days" for 60 is wrong, however long the sentence."""
    return any(not approximate_in_any_language(view.text, m) for m in view.numbers)


def _names_a_guess(view: _Reply, spans: list[tuple[int, int]]) -> bool:
    """Besides "I'm not sure" and the hedge, the reply names something: a capitalised word
    past a sentence's start in the original text, or a word of a script without capitals
    ("Talvez Claude Monet? Não tenho certeza.", "可能是多伦多吧，我不是很确定。")."""
    rest = view.norm
    for start, end in reversed(spans):
        rest = rest[:start] + " " + rest[end:]
    if view.has("negation", rest) or view.has("contrast", rest):
        return False  # "maybe not", "perhaps, but check": no single guess to be sure of
    if _CAPITALISED_NAME.search(view.text):
        return True
    caseless = [w for w in rest.split() if w[0].isalpha() and not w[0].isascii()]
    return bool(caseless) and not any(c.isupper() or c.islower() for w in caseless for c in w[:1])


# A name: a capital after the first word ("Maybe Lyon", "Talvez Claude Monet"), not "I".
_CAPITALISED_NAME = re.compile(
    r"(?:(?<=\w\s)|(?<=\w,\s))(?!I\b)[A-Z\u00c0-\u00de\u0400-\u042f][\w\u0300-\u036f]+"
)


def _declines_beyond_doubt(view: _Reply) -> bool:
    """The reply asks which one is meant, refuses or deflects (more than "I'm not sure")."""
    return abstain_finder(_DECLINING).search(view.norm)


_DECLINING = ("refusal", "clarification", "deflection")


def _declines_in_own_words(view: _Reply) -> bool:
    """A short reply that denies having knowledge, in words no phrase list holds: "Nobody
    recorded that", "Darauf habe ich keinen Zugriff". It names no number, offers no guess
    and makes no second statement ("but ..."), so it commits to no answer."""
    return (
        length_in_words(view.text) <= _OWN_WORDS
        and not _DIGIT.search(view.text)
        and view.has("negation")
        and view.has("knowing")
        and not view.has("hedge")
        and not view.has("contrast")
    )


_DIGIT = re.compile(r"\d")

#: Longer than this, a reply that denies knowing something may also claim something.
_OWN_WORDS = 20


def _grade_unanswerable(
    view: _Reply, abstained: bool, spans: list[tuple[int, int]], own_words: bool
) -> RuleGrade:
    """Nothing is known, so any attempted answer is made up; but the phrase lists cannot know
    every way of declining ("Nobody has recorded that")."""
    if abstained:
        more = _says_more(view, spans)
        if more == "guess":  # "I don't know, maybe 1923" attempts an answer
            return RuleGrade("wrong", _doubt("hedge"))
        return RuleGrade("abstained", _doubt("hedge") if more else None)
    if own_words and _declines_in_own_words(view):
        return RuleGrade("abstained")
    if view.has("negation") or view.has("hedge"):
        return RuleGrade("wrong", _doubt("other words"))
    if length_in_words(view.text) >= LONG_REPLY_WORDS and not _DIGIT.search(view.text):
        # A long reply may decline in words no list holds; one that states a date or a
        # number ("launches in Q3 2026") has made something up.
        return RuleGrade("wrong", _doubt("other words"))
    return RuleGrade("wrong")


def grade_reply(
    reply: str,
    expectation: Expectation,
    idk_phrases: Sequence[str] = DEFAULT_IDK_PHRASES,
    abstained: bool | None = None,
) -> Grade:
    """The rules' grade of an obtained reply, without its doubt (see rule_grade)."""
    return rule_grade(reply, expectation, idk_phrases, abstained).grade
