"""Text folded for comparison, scripts, and phrase lists compiled to one fast regex (pure)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable

__all__ = [
    "ASCII_LETTER",
    "UNSPACED",
    "PhraseFinder",
    "fold",
    "has_apostrophe",
    "has_unspaced",
    "length_in_words",
    "normalize",
    "phrase_pattern",
    "phrases_regex",
    "script_of_letter",
    "scripts_of",
]

# Scripts written without spaces between words: a match there cannot rely on word boundaries,
# and a character from them next to a Latin word acts as that word's boundary.
UNSPACED = (
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
_UNSPACED_CHAR = re.compile(f"[{UNSPACED}]")
# Korean is written with spaces; only the ideographic and syllabary scripts count here.
_UNSPACED_RUN = re.compile(f"[{UNSPACED}]+")
# Between a normalised phrase and its neighbour: nothing, a space, or an unspaced-script char.
BEFORE = f"(?<![^\\s{UNSPACED}])"
AFTER = f"(?![^\\s{UNSPACED}])"

# Only the accent blocks used by Latin, Greek, Cyrillic, Arabic and Hebrew are dropped: marks
# in Thai, Indic scripts or the kana voicing marks (が vs か) change the word, not its accent.
_DIACRITICS = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"
    "\u064b-\u065f\u0670\u0591-\u05bd\u05bf\u05c1\u05c2\u05c4\u05c5\u05c7]"
)
APOSTROPHES = "'\u2019\u2018\u02bc`"
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_STRAY_DOT = re.compile(r"(?<!\d)\.|\.(?!\d)")


# Only used for answer matching, so that "Paris's" and "l'Italie" still contain the answer.
_POSSESSIVE = re.compile(f"(?<=[^\\W\\d_])[{APOSTROPHES}]s?(?![^\\W\\d_])")
_HAS_APOSTROPHE = re.compile(f"[{APOSTROPHES}\uff07]")
_ELISION = re.compile(
    r"(?<![^\W\d_])(?:jusqu|lorsqu|puisqu|quoiqu|qu|[cdjlmnst]|dall|dell|nell|sull|all|un)"
    f"[{APOSTROPHES}](?=[^\\W\\d_])"
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


_CHARS = _CharMap({ord(char): "" for char in APOSTROPHES})
_CHARS[ord(".")] = "."  # a decimal point survives; _STRAY_DOT removes the others


def fold(text: str) -> str:
    """NFKC, casefold, strip accents. Casefold goes first because it can add marks ('İ')."""
    if text.isascii():
        return text.lower()  # same result, and most replies take this path
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _DIACRITICS.sub("", unicodedata.normalize("NFKD", text))
    return unicodedata.normalize("NFC", text)


@functools.lru_cache(maxsize=16384)
def normalize(text: str, *, elide: bool = False) -> str:
    """Fold `text` for comparison: "The São-Paulo's  3,000." -> "the sao paulos 3000".

    Articles are kept: whether "a" is an article depends on the language (in Czech it is
    "and"), so they are dropped only where the language is known (an answer's leading one).
    `elide` first drops possessives and elisions ("Paris's" -> "Paris", "l'Italie" -> "Italie").
    """
    folded = fold(text)
    if elide:
        folded = _ELISION.sub("", _POSSESSIVE.sub("", folded))
    if "," in folded:  # most texts have no comma or dot: skip their passes
        folded = _THOUSANDS.sub("", folded)
    folded = folded.translate(_CHARS)
    if "." in folded:
        folded = _STRAY_DOT.sub(" ", folded)
    return " ".join(folded.split())


def has_apostrophe(text: str) -> bool:
    return _HAS_APOSTROPHE.search(text) is not None


def has_unspaced(text: str) -> bool:
    return _UNSPACED_CHAR.search(text) is not None


def length_in_words(text: str) -> float:
    """Length in words, where two characters of a script written without spaces count as one
    word: a 300-character Chinese reply is long, not "one word"."""
    unspaced = sum(len(run) for run in _UNSPACED_RUN.findall(text))
    spaced = len(_UNSPACED_RUN.sub(" ", text).split())
    return spaced + unspaced / 2


#: Scripts told apart when a reply and an answer are compared ("Robinson" vs 鲁滨逊).
_SCRIPT_NAMES = ("LATIN", "CJK", "HIRAGANA", "KATAKANA", "HANGUL", "CYRILLIC", "GREEK",
                 "ARABIC", "HEBREW", "DEVANAGARI", "THAI", "BENGALI", "TAMIL", "GEORGIAN",
                 "ARMENIAN")  # fmt: skip


@functools.lru_cache(maxsize=8192)
def script_of_letter(char: str) -> str | None:
    """The script of one letter ("LATIN", "CJK", "CYRILLIC", ...), None for others."""
    name = unicodedata.name(char, "")
    for script in _SCRIPT_NAMES:
        if name.startswith(script):
            return "CJK" if script in ("HIRAGANA", "KATAKANA") else script
    return None


_LATIN = frozenset({"LATIN"})
ASCII_LETTER = re.compile("[A-Za-z]")
_NONE: frozenset[str] = frozenset()


def scripts_of(text: str) -> frozenset[str]:
    """The scripts of the letters in `text` (kana counts as CJK: names mix them)."""
    if text.isascii():  # most text: no table look-ups
        return _LATIN if ASCII_LETTER.search(text) else _NONE
    return frozenset(s for char in set(text) if char.isalpha() and (s := script_of_letter(char)))


_Node = dict[str, "_Node"]


def _trie(words: Iterable[str]) -> str:
    """A regex alternation of `words` as a character trie: one pass per position instead of
    one per phrase, which keeps a list of two thousand phrases cheap."""
    tree: _Node = {}
    for word in words:
        node = tree
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def render(node: _Node) -> str:
        ends = "" in node
        branches = [re.escape(char) + render(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if ends:
            return f"(?:{body})?"
        return body

    return render(tree)


def phrases_regex(phrases: Iterable[str]) -> re.Pattern[str] | None:
    """One regex that finds any of the normalised `phrases` in normalised text: as whole words
    in spaced scripts, anywhere in scripts written without spaces. Longest match first."""
    spaced: set[str] = set()
    unspaced: set[str] = set()
    for phrase in phrases:
        if phrase:
            (unspaced if has_unspaced(phrase) else spaced).add(phrase)
    parts = []
    if spaced:
        # The trie's optional tails are greedy, so the longest phrase that ends a word wins
        # ("not sure" over "not"), and backtracking finds "not" in "not, really".
        parts.append(f"{BEFORE}(?:{_trie(spaced)}){AFTER}")
    if unspaced:
        parts.append(_trie(unspaced))
    return re.compile("|".join(parts)) if parts else None


@functools.lru_cache(maxsize=4096)
def phrase_pattern(normalized: str) -> re.Pattern[str]:
    """Finds one normalised phrase in normalised text: as whole words, or anywhere in CJK."""
    if has_unspaced(normalized):
        return re.compile(re.escape(normalized))
    return re.compile(BEFORE + re.escape(normalized) + AFTER)


_END = "\x00"  # never a word of normalised text


class PhraseFinder:
    """Finds normalised phrases in normalised text as whole words, longest first, left to
    right: the same matches as `phrases_regex`, found word by word through a trie of words,
    which is several times faster on the usual (spaced) reply. Text with a script written
    without spaces goes through the regex, which also finds phrases inside a run."""

    def __init__(self, phrases: Iterable[str]) -> None:
        unique = [p for p in dict.fromkeys(phrases) if p]
        self._regex = phrases_regex(unique)
        self._trie: dict[str, dict] = {}  # type: ignore[type-arg]
        for phrase in unique:
            if has_unspaced(phrase):
                continue
            node = self._trie
            for word in phrase.split():
                node = node.setdefault(word, {})
            node[_END] = {}  # a phrase ends here

    def spans(self, text: str) -> list[tuple[int, int]]:
        """(start, end) of each match in `text` (normalised: words one space apart)."""
        if self._regex is None:
            return []
        if has_unspaced(text):
            return [m.span() for m in self._regex.finditer(text)]
        words = text.split(" ")
        trie = self._trie
        if trie.keys().isdisjoint(words):
            return []
        found = []
        index, position, count = 0, 0, len(words)
        while index < count:
            node = trie.get(words[index])
            if node is None:  # most words start no phrase
                position += len(words[index]) + 1
                index += 1
                continue
            end, ahead, length = -1, index, 0
            while node is not None:
                length += len(words[ahead]) + 1
                if _END in node:
                    end, end_length = ahead, length
                ahead += 1
                if ahead == count:
                    break
                node = node.get(words[ahead])
            if end < 0:
                position += len(words[index]) + 1
                index += 1
                continue
            found.append((position, position + end_length - 1))
            position += end_length
            index = end + 1
        return found

    def search(self, text: str) -> bool:
        """True if a phrase is in `text`; stops at the first (no positions computed)."""
        if self._regex is None:
            return False
        if has_unspaced(text):
            return self._regex.search(text) is not None
        words = text.split()
        trie = self._trie
        if trie.keys().isdisjoint(words):
            return False  # the usual case, decided at C speed
        for index, word in enumerate(words):
            node = trie.get(word)
            ahead = index + 1
            while node is not None:
                if _END in node:
                    return True
                if ahead == len(words):
                    break
                node = node.get(words[ahead])
                ahead += 1
        return False
