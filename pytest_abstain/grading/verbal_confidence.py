"""Verbal confidence: ask for an answer with a stated confidence, and read the answer and the
confidence from the reply, as JSON or as text (pure; no pytest)."""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from typing import Any

import jsonschema

from ..schema import load_schema

__all__ = ["INSTRUCTION", "REPLY_SCHEMA", "StatedReply", "parse_reply", "response_format"]

#: The structured reply: {"answer": str, "confidence": number in [0, 1]}, nothing else.
#: It is sent verbatim as the OpenAI response_format schema, so the file holds only keywords
#: strict mode accepts (no $schema or $id); it is validated here as Draft 2020-12.
REPLY_SCHEMA: dict[str, Any] = load_schema("confidence_reply")

_VALIDATOR = jsonschema.Draft202012Validator(REPLY_SCHEMA)

#: Appended to the prompt (after the confidence-target instruction, if any). It holds literal
#: braces and no placeholders: append it after any str.format templating, never through it.
INSTRUCTION = (
    'Reply with only a JSON object {"answer": ..., "confidence": ...} and nothing else. '
    '"answer": your answer as a string, or "I don\'t know" if you will not answer. '
    '"confidence": your probability, a number from 0 to 1, that your answer is correct.'
)


def response_format() -> dict[str, Any]:
    """The OpenAI `response_format` value asking for a REPLY_SCHEMA object (a fresh copy)."""
    return {
        "type": "json_schema",
        "json_schema": {
            "name": "abstain_reply",
            "strict": True,
            "schema": copy.deepcopy(REPLY_SCHEMA),
        },
    }


# --- parsing a reply -------------------------------------------------------------------------


@dataclass(frozen=True)
class StatedReply:
    """A reply split into the answer and the confidence stated with it.

    `confidence` is None when none was stated or it was unusable; `problem` then says why.
    `structured` is True when the reply held a JSON object (valid or not), False when the
    confidence was looked for in plain text.
    """

    answer: str
    confidence: float | None
    problem: str | None
    structured: bool


def parse_reply(text: str) -> StatedReply:
    """Read the answer and confidence from a reply: a JSON object if there is one, else text."""
    found = _find_object(text)
    if found is None:
        return _parse_text(text)
    return _from_object(found, text)


_DECODER = json.JSONDecoder()
_REPLY_KEYS = frozenset(REPLY_SCHEMA["properties"])
#: Where an object with keys may start: "{" then a key's opening quote.
_OBJECT_START = re.compile(r'\{\s*"')
#: Characters handed to the parser at first; grown while a failure may be the window's cut.
_WINDOW = 1024


def _find_object(text: str) -> dict[str, Any] | None:
    stripped = text.strip()
    try:
        whole = json.loads(_unfenced(stripped))
    except (ValueError, RecursionError):
        whole = None
    # A reply that is nothing but one object is the reply, whatever its keys.
    if isinstance(whole, dict):
        return whole
    # Inside prose, only an object with a reply key counts: replies quote other JSON (an
    # example, a config) that says nothing about the answer. The real parser is tried at each
    # possible start, so braces and quotes inside JSON strings cannot mislead it, and a stray
    # quote in prose costs only the attempt that met it.
    for start in _OBJECT_START.finditer(text):
        try:
            value = _decode_at(text, start.start())
        except RecursionError:
            # Nesting past Python's recursion limit is no reply; every later start inside it
            # would walk the same depth again.
            return None
        if isinstance(value, dict) and _REPLY_KEYS & value.keys():
            return value
    return None


def _unfenced(text: str) -> str:
    """A whole reply wrapped in one Markdown code fence, with or without a "json" tag, without
    its fence. Read by hand, not by a regex: the model writes this text, and a pattern of
    optional blanks around an optional tag backtracks for seconds on "```" and 400 spaces."""
    if len(text) < 6 or not (text.startswith("```") and text.endswith("```")):
        return text
    inner = text[3:-3]
    first, newline, rest = inner.partition("\n")
    if first.strip().lower() in ("", "json"):
        inner = rest if newline else ""
    elif first.lstrip().lower().startswith("json"):
        inner = first.lstrip()[4:] + newline + rest
    return inner.strip()


def _decode_at(text: str, start: int) -> object:
    """The JSON value starting at text[start], or None if there is none.

    The parser only sees a window that grows while the failure may be where it was cut:
    JSONDecodeError counts the lines before the failure, so handing it the whole text at
    every start would make a reply full of "{" quadratic.
    """
    size = _WINDOW
    while True:
        window = text[start : start + size]
        try:
            return _DECODER.raw_decode(window)[0]
        except json.JSONDecodeError as error:
            cut = start + size < len(text)
            # A cut shows as a failure near the window's end (a number, literal or escape
            # split in two) or as an unterminated string, reported where the string began.
            at_cut = error.pos >= len(window) - 16 or error.msg.startswith("Unterminated")
            if not (cut and at_cut):
                return None
            size *= 4


def _from_object(found: dict[str, Any], text: str) -> StatedReply:
    answer = found.get("answer")
    confidence = found.get("confidence")
    problems: list[str] = []
    # Python's json reads NaN and Infinity; NaN passes minimum/maximum (every comparison with
    # it is false), so non-finite numbers are refused before the schema is asked.
    non_finite = False
    if isinstance(confidence, float) and not math.isfinite(confidence):
        non_finite = True
        spelled = "NaN" if math.isnan(confidence) else f"{'-' if confidence < 0 else ''}Infinity"
        problems.append(f"confidence: {spelled} is not a finite number")
    errors = sorted(_VALIDATOR.iter_errors(found), key=lambda e: ([*map(str, e.path)], e.message))
    for error in errors:
        if not (non_finite and list(error.path) == ["confidence"]):
            problems.extend(_describe(error))
    if problems:
        # The object's own answer, never the whole text: the confidence's digits would match
        # a numeric expected answer. A number stands as written; no answer is "" (an error).
        if isinstance(answer, (int, float)) and not isinstance(answer, bool):
            fallback = json.dumps(answer)
        else:
            fallback = answer if isinstance(answer, str) else ""
        return StatedReply(fallback, None, "; ".join(dict.fromkeys(problems)), True)
    # Valid against the schema: "answer" is a string and "confidence" a number in [0, 1].
    return StatedReply(found["answer"], float(found["confidence"]), None, True)


def _describe(error: jsonschema.ValidationError) -> list[str]:
    instance = error.instance
    if error.validator == "required" and isinstance(instance, dict):
        return [f"missing key {key!r}" for key in REPLY_SCHEMA["required"] if key not in instance]
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        allowed = ", ".join(REPLY_SCHEMA["properties"])
        unknown = ", ".join(_clip(repr(k)) for k in instance if k not in _REPLY_KEYS)
        return [f"unknown key {unknown} (allowed: {allowed})"]
    where = ".".join(map(str, error.path)) or "reply"
    # jsonschema quotes the offending value, which can be a whole essay.
    return [f"{where}: {_clip(error.message, 200)}"]


def _clip(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} chars)"


# --- plain-text fallback ---------------------------------------------------------------------

#: A number not glued to a word or another number: "0.8", ".8", "80", "-0.2" (refused later).
_NUMBER = r"(?<![\w.])(?P<number>[-+]?(?:\d+(?:\.\d+)?|\.\d+))"
_PERCENT = r"(?P<percent>%|[ \t]{0,8}percent\b)"
_ABOUT = r"(?:(?:about|around|approximately|roughly)[ \t]{1,8})?"

#: "Confidence: 0.8", "confidence: 80%", "(confidence 0.65)", "**Confidence level:** 0.7".
#: Every run of blanks or marks is bounded: replies are model-written, and unbounded runs
#: next to optional parts backtrack for minutes on "confidence" and 20,000 spaces.
_CONFIDENCE_FIRST = re.compile(
    r"(?:\bmy[ \t]{1,8})?\bconfidence(?:[ \t]{1,8}(?:level|score))?[\"'*_]{0,4}[ \t]{0,8}"
    r"(?:[:=~]|\bis\b|\bof\b)?[\"'*_]{0,4}[ \t]{0,8}"
    + _ABOUT
    + r"[*_]{0,4}"
    + _NUMBER
    + rf"(?:{_PERCENT})?",
    re.IGNORECASE,
)
#: "I am 90% confident", "I'm 75 percent sure", "with 90% confidence": a percentage only,
#: since a bare number before "sure" is too often something else.
_CONFIDENCE_LAST = re.compile(
    r"(?:\b(?:with|I[ \t]{1,8}am|I['’]m)[ \t]{1,8})?" + _ABOUT + _NUMBER + _PERCENT + r"[ \t]{0,8}"
    r"(?:confident|sure|certain|confidence)\b",
    re.IGNORECASE,
)
#: "Answer: Paris", "**Final answer:** Paris", "> answer = Paris".
_ANSWER_LINE = re.compile(
    r"^[ \t>*_#-]{0,8}(?:final[ \t]{1,8})?answer[ \t*_]{0,8}[:=][ \t*_]{0,8}(?P<value>\S.*)$",
    re.IGNORECASE | re.MULTILINE,
)
#: '"answer": "Paris"' in JSON too broken to parse (cut off, or with a trailing comma).
_ANSWER_KEY = re.compile(r'"answer"\s*:\s*"(?P<value>(?:[^"\\\n]|\\.)*)"')
_TRIM = " \t\r\n.,;:-–—"


def _parse_text(text: str) -> StatedReply:
    matches = [*_CONFIDENCE_FIRST.finditer(text), *_CONFIDENCE_LAST.finditer(text)]
    if not matches:
        return StatedReply(text.strip(), None, "no confidence stated", False)
    # The last statement wins: a reply that reasons first states its final confidence last.
    match = max(matches, key=lambda m: m.start())
    rest = _remove(text, match.start(), match.end())
    answer = _answer_in(rest)
    number, percent = match.group("number"), match.group("percent")
    value = float(number) / (100 if percent else 1)
    if not 0.0 <= value <= 1.0:
        stated = f"{number}%" if percent else number
        # "Confidence: 80" is most likely a percentage without its sign; still not guessed.
        hint = f" (write {number}% for a percentage)" if not percent and 1 < value <= 100 else ""
        problem = f"stated confidence {stated} is outside [0, 1]{hint}"
        return StatedReply(answer, None, problem, False)
    return StatedReply(answer, value, None, False)


def _answer_in(rest: str) -> str:
    """The value of an "Answer: ..." line or a broken JSON "answer" key, else all of `rest`."""
    line = _ANSWER_LINE.search(rest)
    if line:
        return line.group("value").rstrip(" \t*_")
    key = _ANSWER_KEY.search(rest)
    if key:
        try:
            value: str = json.loads(f'"{key.group("value")}"')
        except ValueError:
            return key.group("value")
        return value
    return rest


def _remove(text: str, start: int, end: int) -> str:
    """`text` without text[start:end], keeping the line break or space that separated it."""
    left, right = text[:start].rstrip(), text[end:].lstrip()
    gap = text[len(left) : start] + text[end : len(text) - len(right)]
    # "Paris (confidence 0.65)" leaves "Paris ()" otherwise.
    if left.endswith(("(", "[")) and right.startswith((")", "]")):
        left, right = left[:-1].rstrip(), right[1:].lstrip()
    if right[:1] in (".", ",", ";", ":", "!", "?") and left[-1:] in (".", ",", ";", ":", "!", "?"):
        # "It is Paris. I am 90% confident." would keep both full stops.
        right = right[1:].lstrip()
    if not left or not right or right[0] in ".,;:!?":
        joined = left + right
    else:
        joined = left + ("\n" if "\n" in gap else " ") + right
    return joined.strip(_TRIM)
