"""Numbers in replies and answers: digits with separators, scale suffixes (124k, 2,5 Mio., 3万),
precision, the unit after them, and whether the text makes them approximate."""

from __future__ import annotations

import functools
import math
import re
import unicodedata

from .language_data import kind_regex, languages
from .number_types import AnswerNumber, Mention
from .number_words import local_word_mentions, word_mentions
from .textforms import normalize, phrases_regex
from .units import UNIT_NAMES

_SCALE_WORDS: dict[str, float] = {}
for _words, _scale in (
    ("thousand thousands tsd tausend mil mille mila tys tis тыс тысяч тысячи bin nghìn ngàn ribu "
     "हज़ार हजार ألف אלף", 1e3),
    ("lakh lakhs लाख", 1e5),
    ("million millions mio mn mln millionen millones millón millon milioni milione milhões milhão "
     "miljoen miljon miljoner milion miliony milionów milionů млн миллион миллиона миллионов "
     "milyon triệu juta मिलियन مليون מיליון", 1e6),
    ("crore crores करोड़", 1e7),
    ("billion billions bn milliard milliards milliarde milliarden mrd miliardi miliardo bilhões "
     "bilhão miljard miljarder miliard miliardy miliardów млрд миллиард миллиарда миллиардов "
     "milyar tỷ miliar बिलियन مليار מיליארד", 1e9),
    ("trillion trillions billionen billón billones трлн триллион триллиона триллионов "
     "trilyon", 1e12),
):  # fmt: skip
    for _word in _words.split():
        _SCALE_WORDS[_word] = _scale

_CJK_SCALES = {"千": 1e3, "万": 1e4, "萬": 1e4, "十万": 1e5, "百万": 1e6, "千万": 1e7, "亿": 1e8,
               "億": 1e8, "兆": 1e12, "천": 1e3, "만": 1e4, "억": 1e8, "조": 1e12}  # fmt: skip

_LETTER_SCALES = {"k": 1e3, "K": 1e3, "M": 1e6, "B": 1e9}

_SCALE = re.compile(
    r"(?P<space>[ \u00a0\u202f]?)(?:"
    r"(?P<letter>[kKMB])(?![^\W\d_])"
    r"|(?P<word>(?i:"
    + "|".join(re.escape(w) for w in sorted(_SCALE_WORDS, key=len, reverse=True))
    + r"))\.?(?![^\W\d_])"
    r"|(?P<cjk>" + "|".join(sorted(_CJK_SCALES, key=len, reverse=True)) + "))"
)

# A number's body: grouped thousands or plain digits, then decimals; never right after a
# letter of a spaced script ("km²" is "km2" after NFKC, "MgCO3" and "Q3" hold no number),
# but right after Chinese, Japanese or Korean ("大约3500米"). Two conventions: "1,234.5"
# and "1.234,5" / "1 234,5"; a comma or dot followed by other than three digits is decimal.
_BODY = {
    False: re.compile(
        r"(?<![\d.])(?<![^\W\d_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
        r"(?P<int>\d{1,3}(?:(?P<sep>[, \u00a0\u202f])\d{3})(?:(?P=sep)\d{3})*(?!\d)|\d+)"
        r"(?:\.(?P<frac>\d+))?(?P<exp>[eE][-+]?\d+)?"
    ),
    True: re.compile(
        r"(?<![\d.])(?<![^\W\d_\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af])"
        r"(?P<int>\d{1,3}(?:(?P<sep>[. \u00a0\u202f'])\d{3})(?:(?P=sep)\d{3})*(?![\d])"
        r"|\d+)(?:[.,](?P<frac>\d+))?(?P<exp>[eE][-+]?\d+)?"
    ),
}

_SIGN = re.compile(r"(?<![0-9A-Za-z.,])[-\u2212]$")
# A unit: a sign, or a run of letters and their marks (Devanagari vowel signs are marks).
_UNIT = re.compile(
    r"[ \u00a0\u202f]?(?P<unit>%|°[cf]?|[$€£¥]|[\u4e00-\u9fff]"
    r"|[^\W\d_][^\s\d.,;:!?()\[\]{}\"'«»/\u3002\uff0c\u3001]{0,11})"
)

_RANGE = re.compile(
    r"\s*(?:[-\u2013\u2014~\u301c\uff5e]|to|bis|à|a|al|tot|do|до|至|到)\s*[-\u2212]?\d"
)

_APOSTROPHES = "'\u2019\u02bc"
_CJK_REST = re.compile(
    r"(?P<digits>\d+)(?P<unit>" + "|".join(sorted(_CJK_SCALES, key=len, reverse=True)) + ")"
)

_APPROX_SYMBOL_BEFORE = re.compile(r"[~\u2248\u223c\u301c\uff5e<>\u2264\u2265]\s*$")
_APPROX_SYMBOL_AFTER = re.compile(r"^\+")


def _step(int_part: str, frac: str | None) -> float:
    if frac:
        return _power_of_ten(-len(frac))
    stripped = int_part.rstrip("0")
    return _power_of_ten(len(int_part) - len(stripped)) if stripped else 1.0


def _power_of_ten(exponent: int) -> float:
    """10 ** exponent, as infinity or 0 past a float's range ("1e400" in a reply)."""
    try:
        return 10.0**exponent
    except OverflowError:
        return math.inf


def _as_float(number: float) -> float:
    try:
        return float(number)
    except OverflowError:  # an int beyond 1e308 compares as infinity, like "1e400" in a reply
        return math.inf if number > 0 else -math.inf


@functools.lru_cache(maxsize=64)
def _approx_patterns(code: str) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None]:
    before = kind_regex("approximate", code)
    after = kind_regex("approximate_after", code)
    return (
        re.compile(f"(?:{before.pattern})$") if before else None,
        re.compile(f"^(?:{after.pattern})") if after else None,
    )


class _DigitMap(dict[int, str]):
    """`str.translate` table: every decimal digit (Arabic-Indic ٨, Devanagari ८, ...) to its
    ASCII digit, one character for one, so positions stay put. Filled lazily."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        digit = unicodedata.decimal(char, None)
        kept = str(digit) if digit is not None and not char.isascii() else char
        self[code] = kept
        return kept


_DIGITS = _DigitMap()


def mentions(text: str, lang: str = "en", decimal_comma: bool | None = None) -> list[Mention]:
    """The numbers of `text` in order of appearance, read by the convention of `lang` (or
    the one given): "2.1 million" is one number, 2100000; a number right after "about" or
    before "or so", and either end of "100-200", is approximate.
    """
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS)
    if decimal_comma is None:
        decimal_comma = lang in languages() and languages()[lang].decimal_comma
    found: list[Mention] = []
    approx_before, approx_after = _approx_patterns(lang)
    range_next = False
    consumed = 0
    for match in _BODY[decimal_comma].finditer(text):
        if match.start() < consumed:
            continue  # the rest of 1億2614万, read with its first part
        int_part, frac, sep = match["int"], match["frac"], match["sep"]
        digits = int_part.replace(sep, "") if sep else int_part
        value = float(digits + ("." + frac if frac else "") + (match["exp"] or ""))
        step = _step(digits, frac) * (_power_of_ten(int(match["exp"][1:])) if match["exp"] else 1.0)
        # "5.137" is 5137 in Turkish and 5.137 in English, and a short reply seldom says
        # which language it is in: the other reading is kept as an alternative.
        other = None
        if sep in (".", ",") and len(int_part) <= 7 and not frac and not match["exp"]:
            other = value / 1000
        elif frac is not None and len(frac) == 3 and len(digits) <= 3 and not match["exp"]:
            other = value * 1000
        start, end = match.start(), match.end()
        if _SIGN.search(text, max(0, start - 1), start):
            value, start = -value, start - 1
            other = None if other is None else -other
        scale = _SCALE.match(text, end)
        if scale and not (scale["space"] and scale["letter"]):  # "5 M" is rarely a million
            factor = _scale_factor(scale)
            value, step, end = value * factor, step * factor, scale.end()
            other = None if other is None else other * factor
            # 1億2614万: a larger CJK unit, then the rest of the number in smaller ones.
            while scale["cjk"] and (more := _CJK_REST.match(text, end)):
                smaller = _CJK_SCALES[more["unit"]]
                if smaller >= factor:
                    break
                value += float(more["digits"]) * smaller
                step, end, factor = smaller, more.end(), smaller
        unit_match = _UNIT.match(text, end)
        unit = unit_match["unit"].casefold() if unit_match else None
        before = text[max(0, start - 30) : start]
        # "3500左右", "1億人以上": the marker may follow the unit.
        after = text[end : end + 12]
        after_unit = text[unit_match.end() : unit_match.end() + 12] if unit_match else ""
        approximate = (
            range_next
            or bool(
                _APPROX_SYMBOL_BEFORE.search(before)
                or _APPROX_SYMBOL_AFTER.search(after)
                or (unit == "s" and value % 10 == 0)  # "the 1990s"
                or _marked(approx_before, before)
                or _marked(approx_after, after)
                or (
                    unit_match is not None
                    and _marked(approx_after, after_unit, suffix=after_unit[:1] in _APOSTROPHES)
                )
            )
        )
        range_next = bool(_RANGE.match(text, end))
        consumed = end
        mention = Mention(value, start, end, step, unit, approximate or range_next, other)
        found.append(mention)
    found.extend(word_mentions(text.casefold()))
    if lang != "en" and lang in languages() and languages()[lang].numbers:
        found.extend(local_word_mentions(text, languages()[lang].numbers))
    found.sort(key=lambda m: m.start)
    return found


@functools.cache
def _any_language_approx() -> re.Pattern[str] | None:
    """The words before a number that make it a bound or an estimate, in every language."""
    phrases = (p for lang in languages().values() for p in lang.phrases["approximate"])
    pattern = phrases_regex(phrases)
    return re.compile(f"(?:{pattern.pattern})$") if pattern else None


def approximate_in_any_language(text: str, mention: Mention) -> bool:
    """`mention` follows "more than" or "about" in some language: when a reply's language
    is unclear, a number is not taken as committed before checking them all."""
    text = unicodedata.normalize("NFKC", text).translate(_DIGITS)
    return mention.approximate or _marked(
        _any_language_approx(), text[max(0, mention.start - 30) : mention.start]
    )


def _marked(pattern: re.Pattern[str] | None, edge: str, suffix: bool = False) -> bool:
    """A marker word at the edge of a number; edges without letters are skipped unread.
    `suffix`: a suffix after an apostrophe may come first (Turkish "km²'den fazla": "more
    than")."""
    if pattern is None or not any(char.isalpha() for char in edge):
        return False
    norm = normalize(edge)
    if pattern.search(norm):
        return True
    first, _, rest = norm.partition(" ")
    return suffix and len(first) <= 4 and pattern.search(rest) is not None


def _scale_factor(scale: re.Match[str]) -> float:
    return _SCALE_WORDS.get(
        (scale["word"] or "").casefold(),
        _LETTER_SCALES.get(scale["letter"] or "", _CJK_SCALES.get(scale["cjk"] or "", 1)),
    )


def extract_numbers(text: str) -> list[float]:
    """Numbers in `text` in order of appearance: "-2", "3,000", "1.5e3", "twenty-one", "124k"."""
    return [m.value for m in mentions(text)]


@functools.lru_cache(maxsize=4096, typed=True)  # typed: True is no 1
def answer_number(answer: str | float) -> AnswerNumber | None:
    """The number an expected answer is, or None for a word answer ("Paris", "1969 film").

    "120k", "1.73 m", "25 MB", "82,7 Millionen" and "384 400 km" are numbers with a scale or a
    unit; a longer text is not.
    """
    if isinstance(answer, bool):
        return None  # True is a word here, never the number 1
    if isinstance(answer, (int, float)):
        value = _as_float(answer)
        if not math.isfinite(value):
            return None  # an infinite answer would make every number "near" it
        if isinstance(answer, int):
            return AnswerNumber(value, _step(str(abs(answer)), None), None, False)
        text = repr(answer)
        frac = text.split(".")[1] if "." in text and "e" not in text else None
        return AnswerNumber(value, _step(text.split(".")[0].lstrip("-"), frac), None, False)
    text = unicodedata.normalize("NFKC", answer).strip()
    if not text or not (text[0].isdigit() or text[0] in "-\u2212"):
        return None
    # A decimal comma ("82,7") or space-grouped thousands ("384 400") read as one number
    # only in the other convention: take the first reading that makes the whole answer one.
    for decimal_comma in (False, True):
        found = mentions(text, decimal_comma=decimal_comma)
        if len(found) != 1 or found[0].start != 0:
            continue
        number = found[0]
        rest = text[number.end :].strip()
        if rest and not _is_unit(rest):
            return None  # "1969 film" is a title that starts with a number
        return AnswerNumber(number.value, number.step, rest.casefold() or None, True, number.other)
    return None


def _is_unit(text: str) -> bool:
    """A unit after an expected number: one word ("25 MB", "7 दिन", "30日間", "25 usuarios");
    "1969 film by Dennis Hopper" is a title that starts with a number."""
    return text.casefold() in UNIT_NAMES or len(text.split()) == 1
