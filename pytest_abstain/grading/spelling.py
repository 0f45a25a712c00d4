"""One name written another way: other spaces between its words, a typo, a transliteration."""

from __future__ import annotations

import functools
import re

from .textforms import has_unspaced


def spaceless_match(reply: str, alias: str) -> bool:
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


def near_miss(reply: str, alias: str) -> bool:
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


def word_near_miss(reply: str, alias: str) -> bool:
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


def same_skeleton(reply: str, alias: str) -> bool:
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


_SKELETON_MAP = str.maketrans({"w": "v", "c": "k", "q": "k", "z": "s", "x": "s", "j": "i",
                               "y": "i"})  # fmt: skip

_VOWELS = re.compile(r"(?<=.)[aeiou]+")
_DOUBLED = re.compile(r"(.)\1+")


def _skeleton(word: str) -> str:
    """A Latin name with its vowels and spelling variants folded away: "Dostoevsky" and
    "Dostojewski" are both "dstvsk" (transliterations of one name)."""
    word = word.replace("ph", "f").replace("th", "t").replace("ck", "k").translate(_SKELETON_MAP)
    return _DOUBLED.sub(r"\1", _VOWELS.sub("", word))
