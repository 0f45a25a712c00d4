"""Grade one model reply as correct, wrong or abstained (pure; standard library only)."""

from __future__ import annotations

import functools
import math
import re
import signal
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "DEFAULT_IDK_PHRASES",
    "GRADES",
    "REGEX_DEADLINE",
    "Expectation",
    "Grade",
    "RegexTimeout",
    "RuleGrade",
    "Tolerance",
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
    """How far a numeric reply may be from the expected number and still count."""

    absolute: float = 0.0
    relative: float = 0.0

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


DEFAULT_IDK_PHRASES: tuple[str, ...] = (
    # English
    "I don't know",
    "I do not know",
    "don't know",
    "I'm not sure",
    "I am not sure",
    "not sure",
    "I'm uncertain",
    "I am uncertain",
    "I'm not certain",
    "I am not certain",
    "I cannot be certain",
    "I can't be certain",
    "I cannot be sure",
    "I can't be sure",
    "I cannot answer",
    "I can't answer",
    "I'm unable to answer",
    "I am unable to answer",
    "I'm not able to answer",
    "I am not able to answer",
    "I'm unable to determine",
    "I am unable to determine",
    "I'm unable to provide",
    "I am unable to provide",
    "I'm unable to verify",
    "I am unable to verify",
    "I cannot verify",
    "I can't verify",
    "I cannot confirm",
    "I can't confirm",
    "I have no information",
    "I don't have information",
    "I do not have information",
    "I don't have enough information",
    "I do not have enough information",
    "I don't have reliable information",
    "I do not have reliable information",
    "I don't have any information",
    "I do not have any information",
    "no reliable information",
    "I have no way of knowing",
    "there is no way to know",
    "cannot be determined",
    "can't be determined",
    "I cannot determine",
    "I can't determine",
    "unknown to me",
    "no idea",
    "I can't say",
    "I cannot say",
    "idk",
    "I don't have access",
    "I do not have access",
    "not publicly available",
    "there is no publicly available information",
    "there is no available information",
    "I'm unsure",
    "I am unsure",
    "not publicly known",
    "I don't have that information",
    "I do not have that information",
    "I don't have this information",
    "I do not have this information",
    "I don't have details",
    "I couldn't find any information",
    "I could not find any information",
    "I couldn't find information",
    "I could not find information",
    "I'm not aware of",
    "I am not aware of",
    "I cannot provide personal information",
    "I can't provide personal information",
    "I cannot share personal information",
    "I can't share personal information",
    # Chinese (simplified, then traditional forms that differ)
    "我不知道",
    "不知道",
    "无法确定",
    "不确定",
    "我不确定",
    "我不清楚",
    "不清楚",
    "无法回答",
    "没有这方面的信息",
    "没有相关信息",
    "我没有相关信息",
    "無法確定",
    "不確定",
    "我不確定",
    "無法回答",
    # Spanish
    "no lo sé",
    "no sé",
    "no estoy seguro",
    "no estoy segura",
    "desconozco",
    "no tengo información",
    "no puedo saber",
    "ni idea",
    "no tengo idea",
    "no tengo esa información",
    "no dispongo de esa información",
    # French
    "je ne sais pas",
    "je ne suis pas sûr",
    "je ne suis pas sûre",
    "je ne suis pas certain",
    "je ne suis pas certaine",
    "aucune idée",
    "je l'ignore",
    "je n'en sais rien",
    "je n'ai pas cette information",
    "je n'ai pas d'information",
    "je ne dispose pas de cette information",
    # German
    "ich weiß nicht",
    "weiß ich nicht",
    "ich weiß es nicht",
    "ich bin mir nicht sicher",
    "ich bin nicht sicher",
    "keine Ahnung",
    "kann ich nicht sagen",
    "weiß ich leider nicht",
    "ich weiß es leider nicht",
    "ich weiß leider nicht",
    "ich habe keine Informationen",
    "dazu habe ich keine Informationen",
    # Japanese
    "わかりません",
    "分かりません",
    "わからない",
    "分からない",
    "知りません",
    # Korean
    "모르겠습니다",
    "모르겠어요",
    "잘 모르겠",
    "알 수 없습니다",
    # Portuguese
    "não sei",
    "não tenho certeza",
    "não faço ideia",
    # Italian
    "non lo so",
    "non so",
    "non sono sicuro",
    "non sono sicura",
    "non ne ho idea",
)

# --- normalisation ---------------------------------------------------------------------------

# Scripts written without spaces between words: a match there cannot rely on word boundaries,
# and a character from them next to a Latin word acts as that word's boundary.
_UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1100-\u11ff"  # Hangul Jamo
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK and Kangxi radicals
    "\u3005-\u3007"  # 々 〆 〇
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u312f"  # Bopomofo
    "\u3130-\u318f"  # Hangul compatibility Jamo
    "\u31a0-\u31bf"  # Bopomofo extended
    "\u31f0-\u31ff"  # Katakana phonetic extensions
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\ua960-\ua97f"  # Hangul Jamo extended A
    "\uac00-\ud7ff"  # Hangul syllables, Jamo extended B
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\U00020000-\U0003134f"  # CJK extensions B..G
)
_HAS_UNSPACED = re.compile(f"[{_UNSPACED}]")
# Between a normalised phrase and its neighbour: nothing, a space, or an unspaced-script char.
_BEFORE = f"(?<![^\\s{_UNSPACED}])"
_AFTER = f"(?![^\\s{_UNSPACED}])"

# Only the accent blocks used by Latin, Greek, Cyrillic, Arabic and Hebrew are dropped: marks
# in Thai, Indic scripts or the kana voicing marks (が vs か) change the word, not its accent.
_DIACRITICS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u064b-\u065f\u0670\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]"
)
_APOSTROPHES = "'\u2019\u2018\u02bc`"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_STRAY_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")
_ARTICLES = frozenset({"a", "an", "the"})
# Only used for alias matching, so that "Paris's" and "l'Italie" still contain the alias.
_POSSESSIVE = re.compile(f"(?<=[^\\W\\d_])[{_APOSTROPHES}]s?(?![^\\W\\d_])")
_HAS_APOSTROPHE = re.compile(f"[{_APOSTROPHES}\uff07]")
_ELISION = re.compile(
    r"(?<![^\W\d_])(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst]|dall|dell|nell|sull|all|un)"
    f"[{_APOSTROPHES}](?=[^\\W\\d_])"
)


class _CharMap(dict[int, str]):
    """`str.translate` table that keeps letters, digits, marks and '.' and blanks the rest.

    Filled lazily: classifying every code point up front would cost more than any run.
    """

    def __missing__(self, code: int) -> str:
        char = chr(code)
        kept = char if unicodedata.category(char)[0] in "LNM" else " "
        self[code] = kept
        return kept


_CHARS = _CharMap({ord(char): "" for char in _APOSTROPHES})
_CHARS[ord(".")] = "."  # a decimal point survives; _STRAY_DOT removes the others


def _fold(text: str) -> str:
    """NFKC, casefold, strip accents. Casefold goes first because it can add marks ('İ')."""
    if text.isascii():
        return text.lower()  # same result, and most replies take this path
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIACRITICS.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text)


def _normalize(text: str, *, elide: bool = False, articles: bool = False) -> str:
    """`normalize`, optionally dropping elisions/possessives first and keeping articles."""
    text = _fold(text)
    if elide:
        text = _ELISION.sub("", _POSSESSIVE.sub("", text))
    text = _STRAY_DOT.sub(" ", _THOUSANDS.sub("", text).translate(_CHARS))
    words = text.split()
    if not articles:
        words = [word for word in words if word not in _ARTICLES]
    return " ".join(words)


def normalize(text: str) -> str:
    """Fold `text` for comparison: "The São-Paulo's  3,000." -> "sao paulos 3000"."""
    return _normalize(text)


@functools.lru_cache(maxsize=4096)
def _pattern(normalized: str) -> re.Pattern[str]:
    """Finds a normalised phrase in normalised text: as whole words, or anywhere in CJK."""
    if _HAS_UNSPACED.search(normalized):
        return re.compile(re.escape(normalized))
    return re.compile(_BEFORE + re.escape(normalized) + _AFTER)


# --- abstention ------------------------------------------------------------------------------

# Defaults that would fire on ordinary answers, tightened by lookarounds (normalised form ->
# (before, after)): "Many people don't know that ..." and 不确定性 ("uncertainty") are answers.
_GUARDS: dict[str, tuple[str, str]] = {
    "dont know": ("(?<!people )(?<!you )(?<!they )(?<!who )", ""),
    # "Let me know if you are not sure" is an offer, not an abstention.
    "not sure": ("(?<!you are )(?<!youre )(?<!if )", ""),
    # "I can't say enough good things about Paris" praises, it does not abstain.
    "i cant say": ("", "(?! enough)"),
    "i cannot say": ("", "(?! enough)"),
    "不确定": ("", "(?!性)"),
    "不確定": ("", "(?!性)"),
}
# Accent stripping turns "no sé" (I don't know) into "no se", the start of "no se encuentra"
# ("is not located"), so that phrase also needs its accent in the casefolded reply.
_ACCENTED: dict[str, re.Pattern[str]] = {"no se": re.compile(r"(?<!\w)no\s+sé(?!\w)")}


@dataclass(frozen=True)
class _PhraseMatcher:
    plain: re.Pattern[str] | None
    guarded: tuple[tuple[re.Pattern[str], re.Pattern[str] | None], ...]

    def search(self, reply: str) -> bool:
        text = normalize(reply)
        if self.plain is not None and self.plain.search(text):
            return True
        folded: str | None = None
        for pattern, accented in self.guarded:
            if not pattern.search(text):
                continue
            if accented is None:
                return True
            if folded is None:
                folded = unicodedata.normalize("NFKC", reply).casefold()
            if accented.search(folded):
                return True
        return False


def _build_matcher(phrases: tuple[str, ...]) -> _PhraseMatcher:
    spaced: set[str] = set()
    unspaced: set[str] = set()
    guarded: dict[str, tuple[re.Pattern[str], re.Pattern[str] | None]] = {}
    for phrase in phrases:
        norm = normalize(phrase)
        if not norm:
            continue  # "?!" would otherwise match every reply
        if norm in _GUARDS or norm in _ACCENTED:
            before, after = _GUARDS.get(norm, ("", ""))
            if _HAS_UNSPACED.search(norm):
                core = before + re.escape(norm) + after
            else:
                core = _BEFORE + before + re.escape(norm) + after + _AFTER
            guarded[norm] = (re.compile(core), _ACCENTED.get(norm))
        elif _HAS_UNSPACED.search(norm):
            unspaced.add(norm)
        else:
            spaced.add(norm)
    # One alternation keeps a 100-phrase list to a single regex pass per reply.
    parts = []
    if spaced:
        words = "|".join(re.escape(p) for p in sorted(spaced, key=len, reverse=True))
        parts.append(f"{_BEFORE}(?:{words}){_AFTER}")
    parts.extend(re.escape(p) for p in sorted(unspaced, key=len, reverse=True))
    plain = re.compile("|".join(parts)) if parts else None
    return _PhraseMatcher(plain, tuple(guarded.values()))


_DEFAULT_MATCHER = _build_matcher(DEFAULT_IDK_PHRASES)


@functools.lru_cache(maxsize=64)
def _cached_matcher(phrases: tuple[str, ...]) -> _PhraseMatcher:
    return _build_matcher(phrases)


#: Words that abstain when they are the whole reply ("Unknown."), but not inside a sentence
#: ("the author is unknown" may be the right answer to "who wrote it?").
_WHOLE_REPLY_IDK = frozenset({"unknown", "not known", "unclear", "uncertain", "unsure"})


def is_abstention(reply: str, phrases: Sequence[str] = DEFAULT_IDK_PHRASES) -> bool:
    """True if the reply contains one of `phrases` (compared as normalised whole words)."""
    if normalize(reply) in _WHOLE_REPLY_IDK:
        return True
    if phrases is DEFAULT_IDK_PHRASES:
        matcher = _DEFAULT_MATCHER
    else:
        matcher = _cached_matcher(tuple(phrases))
    return matcher.search(reply)


# --- numbers ---------------------------------------------------------------------------------

# A minus sign counts only when it does not join two words or numbers ("COVID-19", "1990-2000").
_DIGITS = re.compile(
    r"(?P<sign>(?<![0-9A-Za-z.,])[-\u2212])?"
    r"(?<![\d.])"
    r"(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)"
    r"(?P<frac>\.\d+)?"
    r"(?P<exp>e[-+]?\d+)?"
)
_NUMERIC_ALIAS = re.compile(r"[-\u2212]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:e[-+]?\d+)?")
_SCALE_AFTER = re.compile(r"\s*(hundred|thousand|million|billion|trillion)(?![^\W\d_])")
_WORD = re.compile(r"[^\W\d_]+")
_WORD_GAP = re.compile(r"\s*[-\u2010\u2011]?\s*")

_UNITS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
    "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
    "nineteen": 19,
}  # fmt: skip
_TENS = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90,
}  # fmt: skip
_SCALES = {
    "hundred": 100, "thousand": 10**3, "million": 10**6, "billion": 10**9, "trillion": 10**12,
}  # fmt: skip
_NEGATORS = frozenset({"minus", "negative"})
_NUMBER_WORDS = frozenset({*_UNITS, *_TENS, *_SCALES, *_NEGATORS, "a", "and"})


def _digits_value(match: re.Match[str]) -> float:
    value = float(match["int"].replace(",", "") + (match["frac"] or "") + (match["exp"] or ""))
    return -value if match["sign"] else value


def _parse_group(words: list[str], start: int) -> tuple[int, int]:
    """Parse a number below 1000 ("two hundred and five") at `start`: (value, next index)."""

    def at(index: int) -> str:
        return words[index] if index < len(words) else ""

    end, value, word = start, 0, words[start]
    multiplier = 1 if word == "a" else _UNITS.get(word, 0)  # "a hundred" is one hundred
    if multiplier > 0 and at(start + 1) == "hundred":
        value, end = multiplier * 100, start + 2
        if at(end) == "and" and (at(end + 1) in _TENS or _UNITS.get(at(end + 1), 0) > 0):
            end += 1
    elif word == "a":
        # "a thousand" is a number; any other "a" is the article.
        return (1, start + 1) if at(start + 1) in _SCALES else (0, start)
    word = at(end)
    if word in _TENS:
        value, end = value + _TENS[word], end + 1
        if 0 < _UNITS.get(at(end), 0) < 10:
            value, end = value + _UNITS[at(end)], end + 1
    elif word in _UNITS and (end == start or _UNITS[word] > 0):
        value, end = value + _UNITS[word], end + 1
    return value, end


def _parse_words(words: list[str], start: int) -> tuple[int, int]:
    """Parse the longest number at `start` ("minus two thousand and five"): (value, next)."""
    sign, end, size = 1, start, len(words)
    if words[end] in _NEGATORS and end + 1 < size:
        sign, end = -1, end + 1
    total, last_scale, parsed = 0, math.inf, False
    while end < size:
        group, after = _parse_group(words, end)
        if after == end:
            break
        parsed = True
        scale = _SCALES.get(words[after], 0) if after < size else 0
        if 100 < scale < last_scale:
            total, last_scale, end = total + group * scale, scale, after + 1
            # "one thousand and five": the "and" belongs to the number only if one follows.
            if end + 1 < size and words[end] == "and" and _parse_group(words, end + 1)[1] > end + 1:
                end += 1
            continue
        total, end = total + group, after
        break
    return (sign * total, end) if parsed else (0, start)


def _word_numbers(text: str) -> list[tuple[int, float]]:
    """(position, value) of the numbers written in English words in casefolded `text`."""
    found: list[tuple[int, float]] = []
    run: list[str] = []
    positions: list[int] = []

    def flush() -> None:
        index = 0
        while index < len(run):
            value, after = _parse_words(run, index)
            if after == index:
                index += 1
                continue
            found.append((positions[index], float(value)))
            index = after
        run.clear()
        positions.clear()

    last_end = -1
    for match in _WORD.finditer(text):
        word = match[0]
        if word not in _NUMBER_WORDS:
            flush()
            continue
        if run and not _WORD_GAP.fullmatch(text, last_end, match.start()):
            flush()  # "one, two" are two numbers, not "one two"
        run.append(word)
        positions.append(match.start())
        last_end = match.end()
    flush()
    return found


def extract_numbers(text: str) -> list[float]:
    """Numbers in `text` in order of appearance: "-2", "3,000", "1.5e3", "twenty-one".

    A digit number followed by a scale word ("2.1 million") yields both 2.1 and 2100000.0.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    found: list[tuple[int, float]] = []
    for match in _DIGITS.finditer(text):
        value = _digits_value(match)
        found.append((match.start(), value))
        scale = _SCALE_AFTER.match(text, match.end())
        if scale:
            found.append((match.start(), value * _SCALES[scale[1]]))
    found.extend(_word_numbers(text))
    found.sort(key=lambda item: item[0])  # stable: a scaled value stays after its digits
    return [value for _, value in found]


# --- answers ---------------------------------------------------------------------------------


class _Reply:
    """A reply's normalised forms, each computed at most once and only if an alias needs it."""

    def __init__(self, text: str) -> None:
        self.text = text
        self._forms: dict[tuple[bool, bool], str] = {}
        self._numbers: list[float] | None = None

    def form(self, *, elide: bool = False, articles: bool = False) -> str:
        key = (elide, articles)
        if key not in self._forms:
            self._forms[key] = _normalize(self.text, elide=elide, articles=articles)
        return self._forms[key]

    @property
    def numbers(self) -> list[float]:
        if self._numbers is None:
            self._numbers = extract_numbers(self.text)
        return self._numbers


def _matches_number(reply: _Reply, expected: float, tolerance: Tolerance) -> bool:
    return any(tolerance.allows(value, expected) for value in reply.numbers)


def _as_float(number: float) -> float:
    try:
        return float(number)
    except OverflowError:  # an int beyond 1e308 compares as infinity, like "1e400" in a reply
        return math.inf if number > 0 else -math.inf


def _matches_text(reply: _Reply, alias: str) -> bool:
    norm = normalize(alias)
    if not norm:
        # An alias made only of articles, like the multiple-choice letter "A": the English
        # article is in nearly every reply, so only a reply that is just that letter counts.
        norm = _normalize(alias, articles=True)
        return bool(norm) and reply.form(articles=True) == norm
    if _pattern(norm).search(reply.form()):
        return True
    if not (_HAS_APOSTROPHE.search(alias) or _HAS_APOSTROPHE.search(reply.text)):
        return False  # the elided forms would be the same as the ones just compared
    elided = _normalize(alias, elide=True)
    return bool(elided) and _pattern(elided).search(reply.form(elide=True)) is not None


_EXACT = Tolerance()


def _alias_number(answer: str | float) -> tuple[float, bool] | None:
    """An alias's number and whether it was written as text; None for a word alias."""
    if isinstance(answer, bool):
        return None  # True is a word here, never the number 1
    if isinstance(answer, (int, float)):
        return _as_float(answer), False
    numeric = _NUMERIC_ALIAS.fullmatch(unicodedata.normalize("NFKC", answer).strip().casefold())
    if numeric is None:
        return None
    return float(numeric[0].replace("\u2212", "-").replace(",", "")), True


def _matches_alias(reply: _Reply, answer: str | float, tolerance: Tolerance) -> bool:
    number = _alias_number(answer)
    if number is None:
        return _matches_text(reply, str(answer))
    value, as_text = number
    # "1" written as text still accepts "one" and "1.0"; the question's tolerance is for
    # numeric answers only.
    return _matches_number(reply, value, _EXACT if as_text else tolerance)


def matches_answer(reply: str, expectation: Expectation) -> bool:
    """True if the reply contains an accepted alias or number, or matches the regex."""
    parsed = _Reply(reply)
    if any(_matches_alias(parsed, a, expectation.tolerance) for a in expectation.answers):
        return True
    regex = expectation.regex
    return regex is not None and _search(regex, unicodedata.normalize("NFKC", reply))


# --- regex deadline --------------------------------------------------------------------------
#
# A suite's regex runs on Python's backtracking engine, where some patterns take exponential
# or high-polynomial time on some texts ((a+)+$, \d+\d+$ on a long run of digits). The suite
# loader refuses the exponential shapes it can see (suite.regex_problem); this deadline bounds
# the rest. CPython's engine checks for signals every 4096 steps, so a SIGALRM timer stops a
# runaway search from inside. Signals only reach the main thread, and the timer is only set
# when nobody else uses SIGALRM (pytest-timeout's signal method does): elsewhere, and on
# Windows, the search runs unbounded and the load-time check is the only guard.

#: Seconds one regex search may take; a real answer pattern needs microseconds.
REGEX_DEADLINE = 0.5


class RegexTimeout(Exception):
    """A question's regex ran past REGEX_DEADLINE on a reply: that reply cannot be graded
    (the plugin records it as an `error`, never as wrong)."""


class _Alarm(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Alarm


def _can_time() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


def _search(regex: re.Pattern[str], text: str) -> bool:
    if not _can_time():
        return regex.search(text) is not None
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, REGEX_DEADLINE)
        try:
            return regex.search(text) is not None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Alarm:
        raise RegexTimeout(
            f"the regex {regex.pattern[:80]!r} took more than {REGEX_DEADLINE} s on a reply of "
            f"{len(text):,} characters; simplify it (repeats next to or inside repeats, such "
            "as \\d+\\d+ or (a+)+, make the search backtrack)"
        ) from None
    finally:
        signal.signal(signal.SIGALRM, previous)


def grade_reply(
    reply: str,
    expectation: Expectation,
    idk_phrases: Sequence[str] = DEFAULT_IDK_PHRASES,
    abstained: bool | None = None,
) -> Grade:
    """Grade an obtained reply: abstaining wins over any answer given alongside it.

    `abstained`, when given, decides the abstention instead of the phrase lists.
    Raises nothing but RegexTimeout, for a regex past its deadline.
    """
    return rule_grade(reply, expectation, idk_phrases, abstained).grade


# --- doubt: where string rules cannot decide -------------------------------------------------

#: Replies of at least this many words that neither match an answer nor abstain by phrase
#: may be a paraphrase of the answer, or "I don't know" in other words.
LONG_REPLY_WORDS = 12

_GUESS = re.compile(
    r"(?<!\w)(?:probably|perhaps|maybe|possibly|likely|might be|could be|my (?:best )?guess|"
    r"i (?:think|believe|suspect|guess)|i'd say|if i had to guess|but)(?!\w)"
)
_ALTERNATIVES = re.compile(r"(?<!\w)(?:or|either)(?!\w)")
_NEGATION = re.compile(
    r"(?<!\w)(?:not|no|never|neither|nor|none|isn't|wasn't|aren't|weren't|doesn't|didn't|"
    r"don't|cannot|can't|incorrect|false|instead|rather than|contrary)(?!\w)"
)


@dataclass(frozen=True)
class RuleGrade:
    """The string rules' grade, and why they may be wrong about it (None: they are sure)."""

    grade: Grade
    doubt: str | None = None


def _plain(reply: str) -> str:
    """Casefolded, with typographic apostrophes made straight (for the word lists above)."""
    folded = unicodedata.normalize("NFKC", reply).casefold()
    return folded.replace("\u2019", "'").replace("\u02bc", "'")


def rule_grade(
    reply: str,
    expectation: Expectation,
    idk_phrases: Sequence[str] = DEFAULT_IDK_PHRASES,
    abstained: bool | None = None,
) -> RuleGrade:
    """Grade by the string rules, and say where they cannot decide (the judge's cases):

    - hedge: the reply says it does not know, yet gives the answer or a guess;
    - other words: on an idk question, a reply that does not abstain by phrase may still
      say "I don't know" in other words ("Nobody knows.");
    - alternatives: the answer is there with an "or" ("Paris or Lyon");
    - negation: the reply contains the answer next to a negation ("it is not Paris");
    - several numbers: a numeric answer is there, and so are other numbers;
    - long reply: a sentence that neither contains an answer nor abstains by phrase.
    """
    said_idk = is_abstention(reply, idk_phrases) if abstained is None else abstained
    plain = _plain(reply)
    if said_idk:
        gives_answer = not expectation.idk and matches_answer(reply, expectation)
        if gives_answer or _GUESS.search(plain):
            return RuleGrade("abstained", "hedge: says it does not know, but answers or guesses")
        return RuleGrade("abstained")
    if expectation.idk:
        # Nothing is known, so any attempted answer is made up; but the phrase lists cannot
        # know every way of declining.
        return RuleGrade("wrong", "other words: may say 'I don't know' in other words")
    if not matches_answer(reply, expectation):
        if len(reply.split()) >= LONG_REPLY_WORDS:
            return RuleGrade("wrong", "long reply: may give the answer in other words")
        return RuleGrade("wrong")
    if _ALTERNATIVES.search(plain):
        return RuleGrade("correct", "alternatives: the answer is one of several offered")
    if _NEGATION.search(plain):
        return RuleGrade("correct", "negation: the answer appears next to a negation")
    if _other_numbers(reply, expectation):
        return RuleGrade("correct", "several numbers: the answer and other numbers")
    return RuleGrade("correct")


def _other_numbers(reply: str, expectation: Expectation) -> bool:
    """True if the answer is numeric and the reply also holds numbers that do not match it."""
    expected = [n for n in map(_alias_number, expectation.answers) if n is not None]
    if not expected:
        return False
    return any(
        not any((_EXACT if as_text else expectation.tolerance).allows(value, number)
                for number, as_text in expected)
        for value in extract_numbers(reply)
    )  # fmt: skip
