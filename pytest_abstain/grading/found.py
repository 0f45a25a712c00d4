"""How one expected answer was found in a reply, and the ranks that order the ways."""

from __future__ import annotations

from dataclasses import dataclass

from ..records import Grade
from .number_types import Mention

#: The ranks, best first: sure, doubted but likely correct, doubted.
SURE = 4
DOUBTED_CORRECT = 3
DOUBTED = 2
#: Surely a part only: wrong, unless another answer is found better.
SURE_PART = 1


@dataclass(frozen=True)
class Found:
    """How one expected answer was found in the reply; rank orders the ways."""

    rank: int
    grade: Grade
    doubt: str | None = None
    #: The matched stretch of the normalised reply (text answers), or the matched number.
    phrase: str | None = None
    number: Mention | None = None
    #: For a compound answer named part by part: how many parts it has.
    parts: int = 0


NOT_FOUND = Found(0, "wrong")
