"""Numbers written in words: English ("twenty-one", "two hundred and five"), the number words
of the reply's language ("Acht", "vingt-deux"), and Chinese and Japanese numerals (三千五百)."""

from __future__ import annotations

import math
import re

from .number_types import Mention
from .textforms import has_unspaced, normalize


def local_word_mentions(text: str, numbers: dict[str, float]) -> list[Mention]:
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


def word_mentions(text: str) -> list[Mention]:
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
