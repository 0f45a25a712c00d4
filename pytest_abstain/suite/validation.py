"""The suite JSON Schema applied to a document or to marker keywords, and its errors turned
into messages that name the question and the key, never quoting megabytes of value."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from typing import Any

import jsonschema

from ..schema import load_schema
from .data import SuiteError

#: What no name that becomes a test id or a heading may hold: the schema's rule for names
#: ($defs/line), applied to the file name, which the schema never sees.
CONTROL = re.compile(load_schema("suite")["$defs"]["line"]["not"]["pattern"])


def suite_schema() -> dict[str, Any]:
    """The published suite JSON Schema (draft 2020-12)."""
    return load_schema("suite")


#: Suite keys only a suite file takes.
_FILE_ONLY = ("questions", "dataset", "columns", "valid_until")


@cache
def _validator(part: str) -> jsonschema.Draft202012Validator:
    schema = suite_schema()
    if part == "suite":
        return jsonschema.Draft202012Validator(schema)
    defs = {"$defs": schema["$defs"]}
    if part == "question":
        return jsonschema.Draft202012Validator({"$ref": "#/$defs/question", **defs})
    # Suite-level keys given in Python (the abstain_suite marker): everything but the
    # questions and where they come from (a dataset is for suite files), and valid_until,
    # which a marked question takes itself.
    props = {k: v for k, v in schema["properties"].items() if k not in _FILE_ONLY}
    return jsonschema.Draft202012Validator(
        {"type": "object", "additionalProperties": False, "properties": props, **defs}
    )


_ROOT_LABELS = {
    "suite": "top level",
    "question": "@pytest.mark.abstain",
    "settings": "@pytest.mark.abstain_suite",
}


def check_schema(source: str, part: str, document: Any) -> None:
    """Raise a SuiteError listing the first ten ways `document` breaks the schema's `part`:
    "suite" (a file), "question" (a marker) or "settings" (a module's suite marker)."""
    errors = sorted(_validator(part).iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        root = _ROOT_LABELS[part]
        raise SuiteError(source, [_describe(document, e, root) for e in errors[:10]])


def entry_problems(entry: Any) -> list[str]:
    """How one question entry (a dataset's row) breaks the schema, first ten: 'answer: must
    be ...', or the problem alone where it is the entry's as a whole."""
    found = _validator("question").iter_errors(entry)
    errors = sorted(found, key=lambda e: list(map(str, e.path)))
    return [_describe(entry, e, "").removeprefix(": ") for e in errors[:10]]


def _where(document: Any, path: Iterable[Any], root: str) -> str:
    """'question 'x' (questions[3].answer)' or 'key threshold' for an error path."""
    parts = list(path)
    dotted = ""
    for part in parts:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    if len(parts) >= 2 and parts[0] == "questions" and isinstance(parts[1], int):
        entry = document["questions"][parts[1]]
        qid = entry.get("id") if isinstance(entry, dict) else None
        label = f"question {_clip(qid)!r}" if isinstance(qid, str) else f"question #{parts[1] + 1}"
        return f"{label} ({dotted})"
    return dotted or root


def _describe(document: Any, error: jsonschema.ValidationError, root: str) -> str:
    if error.validator in ("oneOf", "anyOf") and isinstance(error.instance, dict):
        # A mapping has the shape of the mapping branch (judge: {model: ...}): what is wrong
        # is inside it, at the key that branch names, not "must be A or a mapping".
        inside = [e for e in error.context or () if len(e.absolute_path) > len(error.path)]
        if inside:
            return _describe(document, inside[0], root)
    where = _where(document, error.absolute_path, root)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        known = ", ".join(sorted(allowed))
        listed = _clip(", ".join(map(repr, unknown)), 300)
        return f"{where}: unknown key {listed} (allowed: {known})"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where}: missing required key {missing!r}"
    message = schema.get("x-message") or error.message
    if isinstance(error.instance, bool) and error.validator in ("type", "oneOf"):
        message += " (YAML reads yes/no/true/false/on/off as booleans: quote the value)"
    # jsonschema's own messages quote the whole value, which can be megabytes.
    return f"{where}: {_clip(message, 300)}"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} chars)"
