"""A reply's forms (normalised, elided, its language, its numbers), each computed at most once
and only when a rule needs it."""

from __future__ import annotations

import re
from functools import cached_property

from .language_data import kind_finder
from .language_detection import reply_language
from .number_types import Mention
from .numerals import mentions
from .textforms import APOSTROPHES, normalize


class ReplyView:
    """A reply's forms, each computed at most once and only when a rule needs it."""

    def __init__(self, text: str, language: str = "en") -> None:
        self.text = text
        #: The question's language: the reply is read in it unless its script says otherwise.
        self.language = language
        self.norm = normalize(text)

    @cached_property
    def lang(self) -> str:
        return reply_language(self.text, self.language)

    @cached_property
    def numbers(self) -> list[Mention]:
        return mentions(self.text, self.lang)

    @cached_property
    def elided(self) -> str:
        return normalize(self.text, elide=True)

    @cached_property
    def split_apostrophes(self) -> str:
        """The reply with a suffix after an apostrophe set apart ("Jüpiter'dir")."""
        return normalize(_SUFFIX_APOSTROPHE.sub(" ", self.text))

    def has(self, kind: str, text: str | None = None) -> bool:
        """True if the reply (or `text`, normalised) has a `kind` word of its language."""
        return kind_finder(kind, self.lang).search(self.norm if text is None else text)


# An apostrophe between a word of three letters or more and a short suffix: "Jüpiter'dir",
# "Ankara'da"; not "I'd" or "don't".
_SUFFIX_APOSTROPHE = re.compile(
    f"(?<=[^\\W\\d_]{{3}})[{APOSTROPHES}](?=[^\\W\\d_]{{1,5}}(?![^\\W\\d_]))"
)
