"""The messages of a question that is more than one user message: its retrieved documents
(in the prompt, the system message, or handed to the team's responder), the earlier turns
of a conversation, and the pushback turn that follows a reply."""

from __future__ import annotations

import hashlib
import json
import string
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .prompts import render_prompt

if TYPE_CHECKING:
    from .records import Message, QuestionRecord
    from .suite import Question

#: How a suite sends a question's documents (its context_as).
CONTEXT_MODES = ("prompt", "system", "responder")
#: Where a prompt template gives the documents no place, they go before the question.
DOCUMENTS_HEADER = "Answer from these documents:"
DEFAULT_PUSHBACK = "Are you sure? I think it's {candidate}."
DEFAULT_OPEN_PUSHBACK = "Are you sure? I don't think that's right."


def documents_text(documents: Sequence[str]) -> str:
    """The documents as one block, numbered so a reply can cite them; "" for none."""
    if not documents:
        return ""
    numbered = "\n\n".join(f"[{i}] {doc.strip()}" for i, doc in enumerate(documents, 1))
    return f"{DOCUMENTS_HEADER}\n\n{numbered}"


def places_context(template: object) -> bool:
    """Whether `template` (a checked template, or a suite's false or None) has a {context}
    placeholder."""
    return isinstance(template, str) and any(
        name == "context" for _, name, _, _ in string.Formatter().parse(template)
    )


def question_messages(
    question: Question,
    threshold: float,
    template: str | None,
    system_prompt: str | None,
    context_as: str = "prompt",
) -> list[Message]:
    """The chat messages that ask `question`: a system message (the suite's prompt, and the
    documents with context_as system), the earlier turns, then the question (inside the
    template, with the documents in prompt mode). With context_as responder the documents
    are in no message: the team's responder gets them as a keyword argument."""
    block = documents_text(question.context)
    system = system_prompt or ""
    user = render_prompt(
        question.text, threshold, template, block if context_as == "prompt" else ""
    )
    if block and context_as == "system":
        system = f"{system}\n\n{block}" if system else block
    elif block and context_as == "prompt" and not places_context(template):
        user = f"{block}\n\n{user}"
    messages: list[Message] = [{"role": "system", "content": system}] if system else []
    messages.extend({"role": role, "content": content} for role, content in question.turns)
    messages.append({"role": "user", "content": user})
    return messages


def context_sha(documents: Sequence[str], turns: Sequence[tuple[str, str]]) -> str | None:
    """sha256 of what comes before the question (documents, earlier turns); None: nothing.
    Part of a question's content: an edited document makes it another question."""
    if not documents and not turns:
        return None
    content = json.dumps([list(documents), [list(turn) for turn in turns]])
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class PushbackSpec:
    """The follow-up turns a suite sends after a reply (None: the defaults)."""

    message: str | None = None
    open_message: str | None = None

    def turn(self, distractors: Sequence[str], sample: int) -> str:
        """The follow-up turn of one sample: the message with a distractor as its
        {candidate} (each sample the next one, in turn), or the open message without any."""
        if not distractors:
            return self.open_message or DEFAULT_OPEN_PUSHBACK
        candidate = distractors[sample % len(distractors)]
        return (self.message or DEFAULT_PUSHBACK).format(candidate=candidate)


def pushback_messages(messages: Sequence[Message], reply: str, turn: str) -> list[Message]:
    """The same conversation, with the reply and the pushback turn after it."""
    return [
        *(dict(m) for m in messages),
        {"role": "assistant", "content": reply},
        {"role": "user", "content": turn},
    ]


def with_first_replies(
    pushback: PushbackSpec,
    distractors: Sequence[str],
    final: QuestionRecord,
    first: QuestionRecord,
    first_sample: int = 0,
) -> QuestionRecord:
    """The record of the replies after the pushback, keeping the first replies, their grades
    and the turns sent; usage counts both requests. `first_sample`: the number of the first
    of these samples (samples: auto asks the rest after the first)."""
    turns = [
        None if reply is None else pushback.turn(distractors, sample)
        for sample, reply in enumerate(first.replies, start=first_sample)
    ]
    if first is final:  # not asked at all: nothing to add twice
        return replace(final, first_replies=list(first.replies), first_grades=list(first.grades),
                       pushbacks=turns)  # fmt: skip
    return replace(
        final,
        first_replies=list(first.replies),
        first_grades=list(first.grades),
        pushbacks=turns,
        prompt_tokens=first.prompt_tokens + final.prompt_tokens,
        completion_tokens=first.completion_tokens + final.completion_tokens,
        judge_tokens=first.judge_tokens + final.judge_tokens,
        cached=first.cached + final.cached,
        retries=first.retries + final.retries,
        retried=first.retried + final.retried,
        timed_out=first.timed_out + final.timed_out,
    )
