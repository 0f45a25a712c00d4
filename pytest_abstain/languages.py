"""Per-language phrase data (`languages/*.json`) and a cheap guess of a reply's language (pure).

Each language file lists, in that language, the phrases of each kind below. Abstention phrases
are specific enough to look for in every reply whatever its language; the short words (not,
or, about, the) mean something else in another language (Czech "a" is "and", Dutch "of" is
"or"), so they are looked for only in the reply's own language, and in English, which replies
in any language quote.
"""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources

from .textforms import (
    ASCII_LETTER,
    PhraseFinder,
    has_unspaced,
    normalize,
    phrases_regex,
    script_of_letter,
)

__all__ = [
    "ABSTAIN_KINDS",
    "KINDS",
    "Language",
    "abstain_finder",
    "abstain_phrases",
    "abstain_regex",
    "detect",
    "kind_finder",
    "kind_regex",
    "languages",
    "reply_language",
]

#: Ways of not answering: each is an abstention on its own.
ABSTAIN_KINDS = ("idk", "refusal", "clarification", "deflection")
#: Words that change how an answer reads, looked for in the reply's own language.
LOCAL_KINDS = (
    "hedge",  # "I think", "probably": uncertainty around an answer
    "contrast",  # "but", "however": a second statement after an abstention
    "negation",  # "not", "never", "wrong": the answer may be the one denied
    "knowing",  # "know", "information", "record": what a reply says it lacks
    "alternatives",  # "or", "either": several candidates
    "approximate",  # before a number: "about", "more than"
    "approximate_after",  # after a number: "or so", 左右
    "articles",  # dropped from the start of an expected answer
)
KINDS = ABSTAIN_KINDS + LOCAL_KINDS


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    #: The script its words are written in (a `textforms.scripts_of` name).
    script: str
    #: Common words (normalised), to tell languages of one script apart.
    words: frozenset[str]
    #: Letters that tell this language among those of its script ("ñ", "ř"), as a regex
    #: class; a letter several languages list tells each of them a little.
    letters: re.Pattern[str] | None
    #: A comma before decimals ("2,5"), a dot or space between thousands ("1.234.567").
    decimal_comma: bool
    #: kind -> normalised phrases.
    phrases: dict[str, tuple[str, ...]]
    #: Number words, normalised ("acht" -> 8); English ones are parsed as phrases instead.
    numbers: dict[str, float] = field(default_factory=dict)


class LanguageDataError(ValueError):
    """A language file is malformed (a packaging bug: tests load every file)."""


def _load(code: str, text: str) -> Language:
    data = json.loads(text)
    known = {*KINDS, "language", "script", "words", "letters", "decimal_comma", "numbers"}
    unknown = set(data) - known
    if unknown or not isinstance(data.get("language"), str):
        raise LanguageDataError(f"languages/{code}.json: unknown keys {sorted(unknown)}")
    phrases = {}
    for kind in KINDS:
        values = data.get(kind, [])
        if not all(isinstance(v, str) and v.strip() for v in values):
            raise LanguageDataError(f"languages/{code}.json: {kind} must be non-empty strings")
        phrases[kind] = tuple(dict.fromkeys(n for v in values if (n := normalize(v))))
    letters = data.get("letters")
    return Language(
        code=code,
        name=data["language"],
        script=data.get("script", "LATIN"),
        words=frozenset(normalize(w) for w in data.get("words", ())),
        letters=re.compile(f"[{letters}]") if letters else None,
        decimal_comma=bool(data.get("decimal_comma", False)),
        phrases=phrases,
        numbers=_numbers(code, data.get("numbers", {})),
    )


def _numbers(code: str, raw: object) -> dict[str, float]:
    if not isinstance(raw, dict) or not all(
        isinstance(v, (int, float)) and not isinstance(v, bool) for v in raw.values()
    ):
        raise LanguageDataError(f"languages/{code}.json: numbers must map words to numbers")
    return {normalize(word): float(value) for word, value in raw.items() if normalize(word)}


@functools.cache
def languages() -> dict[str, Language]:
    """Every shipped language, by code ("en", "zh", ...)."""
    folder = resources.files("pytest_abstain").joinpath("languages")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            code = entry.name[: -len(".json")]
            found[code] = _load(code, entry.read_text(encoding="utf-8"))
    return found


# The members of a letters class: single characters, or a range such as "\u3040-\u30ff".
_CLASS_MEMBERS = re.compile(r".-.|.", re.S)


@functools.cache
def abstain_phrases(kinds: tuple[str, ...] = ABSTAIN_KINDS) -> tuple[str, ...]:
    """The normalised phrases of `kinds` in every language."""
    return tuple(
        dict.fromkeys(p for lang in languages().values() for k in kinds for p in lang.phrases[k])
    )


@functools.cache
def kind_regex(kind: str, code: str) -> re.Pattern[str] | None:
    """Finds the `kind` words of language `code`, and of English, in normalised text."""
    langs = languages()
    codes = dict.fromkeys((code, "en"))
    return phrases_regex(p for c in codes if c in langs for p in langs[c].phrases[kind])


@dataclass(frozen=True)
class _Index:
    """What `detect` looks up, built once: the languages of each script, of each common
    word, and of each telling letter (only Japanese tells itself by a range: kana)."""

    by_script: dict[str, tuple[str, ...]]
    by_word: dict[str, tuple[str, ...]]
    #: For scripts without spaces: one regex per script finding its common words.
    unspaced_words: dict[str, re.Pattern[str]]
    #: Each letter with the languages of its script that use it: "ñ" tells Spanish, "ç"
    #: half tells French or Portuguese.
    by_letter: dict[str, tuple[str, ...]]
    ranges: tuple[tuple[re.Pattern[str], str], ...]
    #: The language of a script that has no telling letters (en, zh, ru).
    plain: dict[str, str]


_TELLING_KINDS = ("negation", "alternatives", "hedge", "contrast", "knowing")


@functools.cache
def _index() -> _Index:
    by_script: dict[str, list[str]] = {}
    by_word: dict[str, list[str]] = {}
    unspaced_words: dict[str, list[tuple[str, str]]] = {}
    by_letter: dict[str, list[str]] = {}
    ranges = []
    plain: dict[str, str] = {}
    for lang in languages().values():
        by_script.setdefault(lang.script, []).append(lang.code)
        # Common words, and the one-word entries of the local kinds ("eller", "nicht"):
        # each language's "or" and "not" tell it apart well.
        told = set(lang.words) | {
            phrase
            for kind in _TELLING_KINDS
            for phrase in lang.phrases[kind]
            if " " not in phrase and len(phrase) > 1
        }
        for word in sorted(told):
            by_word.setdefault(word, []).append(lang.code)
            unspaced_words.setdefault(lang.script, []).append((word, lang.code))
        if lang.letters is None:
            plain.setdefault(lang.script, lang.code)
        else:
            members = _CLASS_MEMBERS.findall(lang.letters.pattern[1:-1])
            for member in members:
                if len(member) == 3:
                    ranges.append((re.compile(f"[{member}]"), lang.code))
                else:
                    by_letter.setdefault(member.replace("\\", ""), []).append(lang.code)
    return _Index(
        by_script={k: tuple(v) for k, v in by_script.items()},
        by_word={k: tuple(v) for k, v in by_word.items()},
        unspaced_words={
            script: pattern
            for script, entries in unspaced_words.items()
            if (pattern := phrases_regex(w for w, _ in entries if has_unspaced(w)))
        },
        by_letter={k: tuple(v) for k, v in by_letter.items()},
        ranges=tuple(ranges),
        plain=plain,
    )


@functools.lru_cache(maxsize=4096)  # the same reply comes back in samples and questions
def detect(text: str, default: str = "en") -> str:
    """The language code a text is most likely in: by script, then common words and the
    letters only one language of its script uses. `default` when nothing tells (a bare
    number, a name): callers pass the question's language there."""
    index = _index()
    sample = text[:2000]  # enough to tell
    script = _main_script(sample[:300])
    if script is None:
        return default
    candidates = index.by_script.get(script, ())
    if not candidates:
        return default
    if len(candidates) == 1:
        return candidates[0]
    scores = dict.fromkeys(candidates, 0.0)
    words = normalize(sample).split()[:80]  # enough to tell
    if script in ("CJK", "HANGUL", "THAI"):
        # Words of a script without spaces are runs of characters: look for them inside.
        pattern = index.unspaced_words.get(script)
        seen = set(pattern.findall(" ".join(words))) if pattern else set()
        for word in seen:
            for code in index.by_word.get(word, ()):
                if code in scores:
                    scores[code] += 1
    else:
        by_word = index.by_word
        for codes in filter(None, map(by_word.get, words)):
            for code in codes:
                if code in scores:
                    scores[code] += 1
    if not sample.isascii():
        for letter in set(sample):
            owners = [code for code in index.by_letter.get(letter, ()) if code in scores]
            for owner in owners:
                scores[owner] += 1.5 / len(owners)
        for pattern, code in index.ranges:
            if code in scores and pattern.search(sample):
                scores[code] += 1.5
    if default in scores:
        # The question's language is the likeliest: "Mais de 5 mil" reads as French or
        # Portuguese, "da Vinci o" as Italian or Spanish.
        scores[default] += 0.75  # less than one word of evidence against it
    top = max(scores.values())
    best = default if scores.get(default) == top else max(scores, key=scores.__getitem__)
    if top == 0:
        # Nothing tells, and the question's language is of another script: the script's
        # language with no telling letters (en, zh, ru).
        return index.plain.get(script, default)
    return best


class _ScriptCodes(dict[int, str]):
    """`str.translate` table: each letter to one character naming its script, everything
    else to nothing, so one C-speed pass labels a reply. Filled lazily."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        script = script_of_letter(char) if char.isalpha() else None
        label = (
            ""
            if script is None
            else _SCRIPT_LABELS.setdefault(script, chr(0xE000 + len(_SCRIPT_LABELS)))
        )
        self[code] = label
        return label


_SCRIPT_LABELS: dict[str, str] = {}
_SCRIPT_CODES = _ScriptCodes()


def reply_language(text: str, question_language: str) -> str:
    """The language to read a reply in: its question's, when both are written in one script
    (a team's bot answers in the language it is asked in, and a short reply seldom says
    otherwise); else the language its own words and letters tell."""
    script = _main_script(text[:300])
    langs = languages()
    if script is None or (question_language in langs and langs[question_language].script == script):
        return question_language
    return detect(text, question_language)


def _main_script(text: str) -> str | None:
    """The script most of the letters are in (None: no letters)."""
    if text.isascii():
        return "LATIN" if ASCII_LETTER.search(text) else None
    labels = text.translate(_SCRIPT_CODES)
    if not labels:
        return None
    top = max(set(labels), key=labels.count)  # a handful of scripts at most: C-speed counts
    return next(script for script, label in _SCRIPT_LABELS.items() if label == top)


@functools.cache
def abstain_regex(kinds: tuple[str, ...] = ABSTAIN_KINDS) -> re.Pattern[str] | None:
    """Finds an abstention phrase of `kinds`, in any language, in normalised text."""
    return phrases_regex(abstain_phrases(kinds))


@functools.cache
def abstain_finder(kinds: tuple[str, ...] = ABSTAIN_KINDS) -> PhraseFinder:
    """`abstain_regex`'s matches, found faster."""
    return PhraseFinder(abstain_phrases(kinds))


@functools.cache
def kind_finder(kind: str, code: str) -> PhraseFinder:
    """`kind_regex`'s matches, found faster."""
    langs = languages()
    return PhraseFinder(
        p for c in dict.fromkeys((code, "en")) if c in langs for p in langs[c].phrases[kind]
    )
