"""Facts that expire, per suite: the stale questions (past their valid_until) and what became
of them, and the questions reaching valid_until within 30 days, for the terminal summary and
the JSON report (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..expiry import EXPIRING_DAYS
from .wording import Line

#: Questions named per suite and state unless -v asks for all of them.
SHOWN = 10

_ACTIONS = {
    "keep": "graded as written",
    "idk": "asked expecting 'I don't know'",
    "skip": "skipped",
}


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
    for suite, entries in by_suite(notes).items():
        lines.append((suite, {"bold": True}))
        stale = [e for e in entries if e["state"] == "stale"]
        expiring = [e for e in entries if e["state"] == "expiring"]
        if stale:
            lines.append(
                (
                    f"  stale, past valid_until ({len(stale)}): the expected answer may no "
                    "longer be true; update it and its valid_until",
                    {"yellow": True},
                )
            )
            lines.extend(_listed(stale, verbosity, _stale_text))
        if expiring:
            lines.append((f"  expiring within {EXPIRING_DAYS} days ({len(expiring)}):", {}))
            lines.extend(_listed(expiring, verbosity, _expiring_text))
    return lines


def _stale_text(entry: Mapping[str, Any]) -> str:
    return f"{entry['id']}: valid until {entry['valid_until']}, {_ACTIONS[entry['action']]}"


def _expiring_text(entry: Mapping[str, Any]) -> str:
    days = entry["days_left"]
    left = "today is its last day" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"
    return f"{entry['id']}: valid until {entry['valid_until']} ({left})"


def _listed(entries: list[dict[str, Any]], verbosity: int, text: Any) -> list[Line]:
    shown = entries if verbosity > 0 else entries[:SHOWN]
    lines: list[Line] = [(f"    {text(entry)}", {}) for entry in shown]
    if len(entries) > len(shown):
        lines.append((f"    ... and {len(entries) - len(shown)} more (-v shows all)", {}))
    return lines
