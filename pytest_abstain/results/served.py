"""Which model answered a suite: the served model names and fingerprints its replies carry,
counted, and the rule that says when a served name is another model than the one asked for
(pure)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from ..records import QuestionRecord

#: What may follow the requested name in the served name of the same model: a release date
#: (gpt-4o-2024-08-06, claude-3-5-sonnet@20240620, gpt-4-0613) or a version (-v1, -v2.1),
#: or Ollama's ":latest". A size or a variant (-mini, -32k, -turbo, :70b) is another model.
_RELEASE_SUFFIX = re.compile(r"[-_@:](\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|v\d+(\.\d+)*|latest)")


def same_model(requested: str, served: str) -> bool:
    """Whether `served` names the model `requested` names: the same name (ignoring case), or
    the requested name followed by a release date or version (`_RELEASE_SUFFIX`), as OpenAI
    answers "gpt-4o-2024-08-06" to "gpt-4o". Anything else is another model."""
    asked, answered = requested.casefold(), served.casefold()
    if answered == asked:
        return True
    rest = answered.removeprefix(asked)
    return rest != answered and _RELEASE_SUFFIX.fullmatch(rest) is not None


@dataclass(frozen=True)
class Served:
    """What the endpoint said answered a suite's replies."""

    requested: str
    #: Served model name → replies it answered; empty when nothing was served (the team's
    #: own responder) or the endpoint never said.
    models: Counter[str]
    #: system_fingerprint → replies that carried it.
    fingerprints: Counter[str]
    #: Replies obtained (with a text), whether or not they named a served model.
    replies: int

    @property
    def others(self) -> Counter[str]:
        """The served names that are another model than the one asked for, with counts."""
        return Counter(
            {name: n for name, n in self.models.items() if not same_model(self.requested, name)}
        )

    @property
    def mismatch(self) -> bool:
        return bool(self.others)


def served_of(requested: str, records: Iterable[QuestionRecord]) -> Served:
    """The served names and fingerprints over `records`' replies."""
    models: Counter[str] = Counter()
    fingerprints: Counter[str] = Counter()
    replies = 0
    for record in records:
        replies += sum(reply is not None for reply in record.replies)
        models.update(name for name in record.served_models if name is not None)
        fingerprints.update(fp for fp in record.fingerprints if fp is not None)
    return Served(requested, models, fingerprints, replies)
