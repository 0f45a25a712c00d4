"""A cheap guess of a text's language (pure): by script, then by common words and the letters
only one language of its script uses."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from .language_data import languages
from .textforms import ASCII_LETTER, has_unspaced, normalize, phrases_regex, script_of_letter

# The members of a letters class: single characters, or a range such as "\u3040-\u30ff".
_CLASS_MEMBERS = re.compile(r".-.|.", re.S)


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
    _score_words(scores, index, script, normalize(sample).split()[:80])  # enough to tell
    if not sample.isascii():
        _score_letters(scores, index, sample)
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


def _score_words(scores: dict[str, float], index: _Index, script: str, words: list[str]) -> None:
    """One point to each candidate language for each of its common words in `words`."""
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


def _score_letters(scores: dict[str, float], index: _Index, sample: str) -> None:
    """A point and a half for each telling letter in `sample`, shared by the candidate
    languages that use it, and for each telling range (kana)."""
    for letter in set(sample):
        owners = [code for code in index.by_letter.get(letter, ()) if code in scores]
        for owner in owners:
            scores[owner] += 1.5 / len(owners)
    for pattern, code in index.ranges:
        if code in scores and pattern.search(sample):
            scores[code] += 1.5


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
