"""Per-language data (`languages/*.json` beside this module): phrases of each kind, common words,
number words, and "and" in each language (pure).

Each language file lists, in that language, the phrases of each kind below. Abstention phrases
are specific enough to look for in every reply whatever its language; the short words (not,
or, about, the) mean something else in another language (Czech "a" is "and", Dutch "of" is
"or"), so they are looked for only in the reply's own language, and in English, which replies
in any language quote."""

from __future__ import annotations

import functools
import json
import re
from dataclasses import dataclass, field
from importlib import resources

from .textforms import PhraseFinder, normalize, phrases_regex

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
    folder = resources.files("pytest_abstain.grading").joinpath("languages")
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            code = entry.name[: -len(".json")]
            found[code] = _load(code, entry.read_text(encoding="utf-8"))
    return found


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


#: "And" in each language: it joins the parts of a compound answer ("Marx and Engels",
#: 马克思和恩格斯). Looked for in one language only: Czech "a" is the English article.
_AND = {"en": "and", "de": "und", "fr": "et", "es": "y e", "it": "e ed", "pt": "e", "nl": "en",
        "sv": "och", "pl": "i oraz", "cs": "a i", "ru": "и", "uk": "і та й", "tr": "ve",
        "vi": "và", "id": "dan", "hi": "और"}  # fmt: skip


@functools.lru_cache(maxsize=64)
def and_pattern(code: str) -> re.Pattern[str]:
    """Finds "and" of language `code` or English, or a joining sign (&, 和, と), in text."""
    words = "|".join({*_AND.get(code, "").split(), "and"})
    return re.compile(rf"(?<!\w)(?:{words})(?!\w)|[&和与及、と및]|\sو")


@functools.lru_cache(maxsize=64)
def item_break(code: str) -> re.Pattern[str]:
    """Splits a list into its items: at commas, semicolons and the "and"s of `and_pattern`."""
    return re.compile(r"[,;\u3001\uff0c\uff1b]|" + and_pattern(code).pattern)
