"""Facts that expire, per suite: the stale questions (past their valid_until) and what became
of them, and the questions reaching valid_until within 30 days, for the terminal summary, the
JSON report (pure); the groups every output lays out are render/wording.py's
`expiry_groups`."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from .wording import Line, expiry_groups

#: Questions named per suite and state unless -v asks for all of them.
SHOWN = 10


def by_suite(notes: Iterable[Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The notes grouped per suite file (in the order suites first appear), each question
    once, stale first, each state soonest first (the JSON report's `expiry`)."""
    suites: dict[str, list[dict[str, Any]]] = {}
    seen: set[tuple[str, str]] = set()
    for note in notes:
        suite, qid = str(note["suite"]), str(note["id"])
        if (suite, qid) in seen:
            continue  # one per question, not per model or t that asked it
        seen.add((suite, qid))
        entry = {k: note[k] for k in ("id", "valid_until", "days_left", "state", "action")}
        suites.setdefault(suite, []).append(entry)
    for entries in suites.values():
        entries.sort(key=lambda e: (e["state"] != "stale", e["valid_until"], e["id"]))
    return suites


def expiry_lines(notes: Iterable[Mapping[str, Any]], verbosity: int = 0) -> list[Line]:
    """Per suite: its stale questions with what became of them, then those expiring soon."""
    lines: list[Line] = []
    for suite, groups in expiry_groups(by_suite(notes)).items():
        lines.append((suite, {"bold": True}))
        for (heading, stale), entries in groups:
            lines.append((f"  {heading}", {"yellow": True} if stale else {}))
            texts = [f"    {text}" for text in entries]
            shown = texts if verbosity > 0 else texts[:SHOWN]
            lines.extend((text, {}) for text in shown)
            if len(texts) > len(shown):
                lines.append((f"    ... and {len(texts) - len(shown)} more (-v shows all)", {}))
    return lines
