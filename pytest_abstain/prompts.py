"""The confidence-target instruction and the chat messages sent for each question."""

from __future__ import annotations

import string
from typing import TYPE_CHECKING

from .shown import format_number

if TYPE_CHECKING:
    from .records import Message

#: Placeholders a prompt template may use; {context} holds a question's documents
#: (dialogue.py), empty for a question without any.
TEMPLATE_FIELDS = frozenset({"question", "threshold", "threshold_percent", "penalty", "context"})

#: States t and the scoring rule, so answering pays only above t confidence
#: (Kalai et al. 2025, "Why Language Models Hallucinate").
DEFAULT_TEMPLATE = (
    "{question}\n\n"
    "Answer only if you are more than {threshold_percent} confident that your answer is right. "
    "Scoring: a correct answer earns 1 point, a wrong answer costs {penalty} points, "
    'and replying "I don\'t know" earns 0 points.'
)


def template_problem(template: str) -> str | None:
    """Why `template` cannot be used, or None when it is fine."""
    try:
        parsed = list(string.Formatter().parse(template))
    except ValueError as exc:
        return f"prompt template is malformed ({exc}); write literal braces as {{{{ and }}}}"
    fields = {name for _, name, _, _ in parsed if name is not None}
    for _, name, spec, conversion in parsed:
        # str.format would reject these only when the prompt is built ({question!x}), or
        # obey them by building a gigabyte prompt ({question:>999999999}); values are text.
        if name is not None and (spec or conversion):
            extra = ("!" + conversion if conversion else "") + (":" + spec if spec else "")
            return (
                f"prompt template placeholder {{{name}{extra[:40]}}} takes no conversion or "
                f"format spec; write {{{name}}}"
            )
    unknown = sorted(f for f in fields if f not in TEMPLATE_FIELDS)
    if unknown:
        allowed = ", ".join("{" + f + "}" for f in sorted(TEMPLATE_FIELDS))
        shown = ", ".join("{" + f + "}" for f in unknown)
        return f"prompt template uses unknown placeholder {shown} (allowed: {allowed})"
    if "question" not in fields:
        return "prompt template must contain {question}"
    return None


def render_prompt(question: str, threshold: float, template: str | None, context: str = "") -> str:
    """The user message: the question inside `template`, or the question alone when None."""
    if template is None:
        return question
    # Imported here: the settings check templates on every run (template_problem), and the
    # scoring module loads the records with it.
    from .results.scoring import penalty

    return template.format(
        question=question,
        threshold=format_number(threshold),
        threshold_percent=f"{threshold * 100:g}%",
        penalty=format_number(penalty(threshold)),
        context=context,
    )


def build_messages(
    question: str, threshold: float, template: str | None, system_prompt: str | None
) -> list[Message]:
    """Chat messages for one question: an optional system message, then the user prompt."""
    messages: list[Message] = []
    if system_prompt:
        messages.append({"role": "system", "content": system_prompt})
    messages.append({"role": "user", "content": render_prompt(question, threshold, template)})
    return messages
