"""Numbers in replies and answers: digits with separators, scale suffixes (124k, 2,5 Mio.,
3万), English number words, units, precision, and whether the text makes them approximate."""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass

from .languages import kind_regex, languages
from .textforms import has_unspaced, normalize, phrases_regex

__all__ = [
    "AnswerNumber",
    "Mention",
    "answer_number",
    "approximate_in_any_language",
    "extract_numbers",
    "mentions",
    "scaled_unit",
    "unit_factor",
]


@dataclass(frozen=True)
class Mention:
    """A number as a reply writes it."""

    value: float
    start: int
    end: int
    #: The place of its last significant digit: 10000 for "120k", 0.01 for "1.73".
    step: float
    #: A unit right after it ("m", "mb", "米"), folded; None when none is written.
    unit: str | None = None
    #: "about 100k", "more than 3000", 3500左右, "100-200": a bound or estimate, not a value.
    approximate: bool = False
    #: The other reading of "5.137" or "1,234" (a decimal or thousands separator).
    other: float | None = None


@dataclass(frozen=True)
class AnswerNumber:
    """An expected answer that is a number: 120000, "120k", "1.73 m", "25 MB", "3518.17"."""

    value: float
    step: float
    unit: str | None
    #: Written as text in the suite: the question's numeric tolerance does not apply.
    as_text: bool
    #: The other reading of "42,195" or "783.562" (a decimal or a thousands separator).
    other: float | None = None


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

#: Units written in several ways, folded to one name so "1.73 meters" is "1.73 m".
_UNIT_FAMILIES = {
    "m": "m meter meters metre metres mètres metros metri metrów metrů 米 м метр метра "
         "метров",
    "km": "km kilometer kilometers kilometre kilometres kilomètres kilómetros 公里 千米 км",
    "cm": "cm centimeter centimeters centimetre centimetres 厘米 см",
    "kg": "kg kilogram kilograms kilogramme kilogrammes kilogramos 公斤 千克 кг",
    "g": "g gram grams gramme grammes gramos 克 г",
    "%": "% percent per prozent pourcent por procent процент процентов 百分之",
    "mm": "mm millimeter millimeters millimetre millimetres 毫米 мм",
    "mg": "mg milligram milligrams 毫克 мг",
    "kb": "kb kilobyte kilobytes кб",
    "mb": "mb megabyte megabytes мб",
    "gb": "gb gigabyte gigabytes гб",
    "tb": "tb terabyte terabytes тб",
    "day": "day days tag tage tagen jour jours día días dia dias giorni дней дня день 天 日 일",
    "year": "year years jahr jahre jahren an ans año años ano anos anni лет года год 年 년",
    "hour": "h hour hours stunde stunden heure heures hora horas ore часов часа час 小时 시간",
    "minute": "min minute minutes minuten minuto minutos minuti минут минуты 分钟 분",
    "usd": "usd $ dollar dollars",
    "eur": "eur € euro euros",
}  # fmt: skip
_UNIT_NAMES = {word: name for name, words in _UNIT_FAMILIES.items() for word in words.split()}


#: Units of one family with their size in the family's base unit: "8.849 km" is 8849 m.
_UNIT_SIZES = {"km": ("m", 1e3), "m": ("m", 1.0), "cm": ("m", 1e-2), "mm": ("m", 1e-3),
               "kg": ("g", 1e3), "g": ("g", 1.0), "mg": ("g", 1e-3), "tb": ("mb", 1e6),
               "gb": ("mb", 1e3), "mb": ("mb", 1.0), "kb": ("mb", 1e-3)}  # fmt: skip


def unit_factor(reply_unit: str | None, answer_unit: str | None) -> float | None:
    """What a reply's number is multiplied by to be in the answer's unit: 1 when either unit
    is missing or unknown, 1000 for km against m; None when both are known and differ in
    kind ("25 GB" against "25 MB" is 1000, "25 kg" against "25 MB" is None)."""
    if reply_unit is None or answer_unit is None:
        return 1.0
    a, b = _UNIT_NAMES.get(reply_unit), _UNIT_NAMES.get(answer_unit)
    if a is None or b is None or a == b:
        return 1.0
    if a in _UNIT_SIZES and b in _UNIT_SIZES and _UNIT_SIZES[a][0] == _UNIT_SIZES[b][0]:
        return _UNIT_SIZES[a][1] / _UNIT_SIZES[b][1]
    return None


def scaled_unit(unit: str | None) -> float | None:
    """The size of a known unit of a family in its base ("km" -> 1000.0), else None."""
    name = _UNIT_NAMES.get(unit or "")
    return _UNIT_SIZES[name][1] if name in _UNIT_SIZES else None


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
    found.extend(_word_mentions(text.casefold()))
    if lang != "en" and lang in languages() and languages()[lang].numbers:
        found.extend(_local_word_mentions(text, languages()[lang].numbers))
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


def _local_word_mentions(text: str, numbers: dict[str, float]) -> list[Mention]:
    """Number words of the reply's language ("Acht.", "двадцать пять", "tres mil"): runs of
    them make one number, a larger word after a smaller one multiplying it ("quatre-vingts")
    and a smaller one after a larger adding to it ("vingt-deux"). Chinese and Japanese
    numerals are read positionally (三千五百), and only before a counter or at the end of a
    clause: a numeral character also starts ordinary words (一些 "some", 十分 "very")."""
    if has_unspaced(text) and not _HANGUL.search(text):
        return _cjk_numerals(text)
    if numbers.keys().isdisjoint(normalize(text).split()):
        return []  # no number word at all: the usual case
    found = []
    run: list[tuple[int, int, float]] = []
    last_end = -1
    for match in _WORD.finditer(text):
        value = numbers.get(normalize(match[0]))
        joined = run and _NUMBER_GAP.fullmatch(text, last_end, match.start())
        if run and (value is None or not joined):
            found.append(_combined(run))
            run = []
        if value is not None:
            run.append((match.start(), match.end(), value))
            last_end = match.end()
    if run:
        found.append(_combined(run))
    return found


#: Between the words of one number: a space, a hyphen, or "and" ("vingt et un", "y").
_NUMBER_GAP = re.compile(r"[\s\-\u2010\u2011]*(?:(?:et|y|e|und|en|och|i|a|и|ve|và)[\s]+)?")


def _combined(run: list[tuple[int, int, float]]) -> Mention:
    total, group = 0.0, 0.0
    for _, _, value in run:
        if value >= 1000:
            total += (group or 1) * value
            group = 0.0
        elif group and value > group:
            group *= value  # "quatre-vingts", "tres cientos"
        else:
            group += value
    return Mention(total + group, run[0][0], run[-1][1], 1.0)


_CJK_DIGITS = {"〇": 0, "零": 0, "一": 1, "二": 2, "两": 2, "兩": 2, "三": 3, "四": 4, "五": 5,
               "六": 6, "七": 7, "八": 8, "九": 9}  # fmt: skip
_CJK_UNITS = {"十": 10, "百": 100, "千": 1000}
_CJK_BIG = {"万": 10**4, "萬": 10**4, "亿": 10**8, "億": 10**8}
_CJK_NUMERAL = re.compile(
    "[" + "".join(_CJK_DIGITS) + "".join(_CJK_UNITS) + "".join(_CJK_BIG) + "]+"
    # a counter, a unit or the end of a clause after it
    "(?=[个個位名人本年米次天岁歳つ回件种種条條座家号月日台部只匹头頭張张枚元円度倍公千里"
    r"。．.,，、！!？?\s]|$)"
)


def _cjk_numerals(text: str) -> list[Mention]:
    found = []
    for match in _CJK_NUMERAL.finditer(text):
        if match.start() and _CJK_AFTER_NUMBER.match(text, match.start() - 1):
            continue  # the 万 of "3万", read with its digits already
        if not _CJK_NUMERAL_CHAR.match(match[0]):
            continue  # 万 or 亿 alone is a word ("万人" is "everyone")
        value = _cjk_value(match[0])
        if value is not None:
            found.append(Mention(value, match.start(), match.end(), 1.0))
    return found


_CJK_NUMERAL_CHAR = re.compile("[" + "".join(_CJK_DIGITS) + "".join(_CJK_UNITS) + "]")
_CJK_AFTER_NUMBER = re.compile("[0-9" + "".join(_CJK_DIGITS) + "".join(_CJK_UNITS) + "]")


def _cjk_value(numeral: str) -> float | None:
    """三千五百 -> 3500, 二十一 -> 21, 五万 -> 50000; None for what is no numeral (一一)."""
    total, section, digit = 0, 0, None
    for char in numeral:
        if char in _CJK_DIGITS:
            if digit is not None:
                return None  # two digits in a row: not a positional numeral
            digit = _CJK_DIGITS[char]
        elif char in _CJK_UNITS:
            section += (1 if digit is None else digit) * _CJK_UNITS[char]
            digit = None
        else:  # 万, 亿
            section += digit or 0
            total += (section or 1) * _CJK_BIG[char]
            section, digit = 0, None
    return float(total + section + (digit or 0))


_HANGUL = re.compile("[\uac00-\ud7af]")


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
    return text.casefold() in _UNIT_NAMES or len(text.split()) == 1


# --- English number words ----------------------------------------------------------------------

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


_ANY_NUMBER_WORD = re.compile(
    r"(?<![^\W\d_])(?:"
    + "|".join(sorted(_NUMBER_WORDS - {"a", "and"}, key=len, reverse=True))
    + r")(?![^\W\d_])"
)


def _word_mentions(text: str) -> list[Mention]:
    """The numbers written in English words in casefolded `text`."""
    if not _ANY_NUMBER_WORD.search(text):
        return []  # most replies: no word to parse
    found: list[Mention] = []
    run: list[str] = []
    spans: list[tuple[int, int]] = []

    def flush() -> None:
        index = 0
        while index < len(run):
            value, after = _parse_words(run, index)
            if after == index:
                index += 1
                continue
            found.append(Mention(float(value), spans[index][0], spans[after - 1][1], 1.0))
            index = after
        run.clear()
        spans.clear()

    last_end = -1
    for match in _WORD.finditer(text):
        word = match[0]
        if word not in _NUMBER_WORDS:
            flush()
            continue
        if run and not _WORD_GAP.fullmatch(text, last_end, match.start()):
            flush()  # "one, two" are two numbers, not "one two"
        run.append(word)
        spans.append((match.start(), match.end()))
        last_end = match.end()
    flush()
    return found
