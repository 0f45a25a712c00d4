"""Abstentions: the phrases (data, in every shipped language) that say "I don't know", refuse,
ask which one is meant or deflect, found in a reply; and what else an abstaining reply says."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Sequence

from .language_data import abstain_finder, abstain_phrases
from .reply_view import ReplyView
from .textforms import PhraseFinder, length_in_words, normalize

#: The built-in abstention phrases of every shipped language (normalised): saying "I don't
#: know", refusing and asking which one is meant. Support-bot deflections ("please contact
#: support") count too unless a suite turns them off (`rule_grade(deflections=False)`).
DEFAULT_IDK_PHRASES: tuple[str, ...] = abstain_phrases(("idk", "refusal", "clarification"))

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
WHOLE_REPLY_IDK = frozenset(
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


def abstention_spans(
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
    return norm in WHOLE_REPLY_IDK or bool(abstention_spans(reply, norm, phrases, True))


def says_more(reply: ReplyView, spans: list[tuple[int, int]]) -> str | None:
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


def names_a_guess(view: ReplyView, spans: list[tuple[int, int]]) -> bool:
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


def declines_beyond_doubt(view: ReplyView) -> bool:
    """The reply asks which one is meant, refuses or deflects (more than "I'm not sure")."""
    return abstain_finder(_DECLINING).search(view.norm)


_DECLINING = ("refusal", "clarification", "deflection")


def declines_in_own_words(view: ReplyView) -> bool:
    """A short reply that denies having knowledge, in words no phrase list holds: "Nobody
    recorded that", "Darauf habe ich keinen Zugriff". It names no number, offers no guess
    and makes no second statement ("but ..."), so it commits to no answer."""
    return (
        length_in_words(view.text) <= _OWN_WORDS
        and not DIGIT.search(view.text)
        and view.has("negation")
        and view.has("knowing")
        and not view.has("hedge")
        and not view.has("contrast")
    )


DIGIT = re.compile(r"\d")

#: Longer than this, a reply that denies knowing something may also claim something.
_OWN_WORDS = 20
