"""The best way any accepted answer, or the question's regex, is found in a reply."""

from __future__ import annotations

import unicodedata

from .expectation import Expectation
from .found import NOT_FOUND, SURE, Found
from .number_answers import find_number
from .numerals import answer_number
from .patterns import Search, unbounded_search
from .reply_view import ReplyView
from .text_answers import find_text


def _find(reply: ReplyView, answer: str | float, expectation: Expectation) -> Found:
    number = answer_number(answer)
    if number is None:
        return find_text(reply, str(answer), expectation.accept_core)
    return find_number(reply, number, expectation.tolerance)


def best_found(
    reply: ReplyView, expectation: Expectation, search: Search = unbounded_search
) -> Found:
    """The best way an accepted answer is found in the reply; the question's regex, run by
    `search`, makes it sure when no answer is."""
    best = NOT_FOUND
    for answer in expectation.answers:
        found = _find(reply, answer, expectation)
        if found.rank > best.rank:
            best = found
            if best.rank == SURE:
                break
    regex = expectation.regex
    if best.rank < SURE and regex and search(regex, unicodedata.normalize("NFKC", reply.text)):
        return Found(SURE, "correct")
    return best


def matches_answer(reply: str, expectation: Expectation) -> bool:
    """True if the reply surely contains an accepted answer or number, or matches the regex."""
    return best_found(ReplyView(reply, expectation.language), expectation).rank == SURE
