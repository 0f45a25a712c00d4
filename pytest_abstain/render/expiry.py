"""Facts that expire, per suite: the stale questions (past their valid_until) and what became
of them, and the questions reaching valid_until within 30 days, for the terminal summary, the
JSON report, the Markdown summary and the HTML report (pure)."""

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
    for suite, groups in grouped(by_suite(notes)).items():
        lines.append((suite, {"bold": True}))
        for (heading, stale), entries in groups:
            lines.append((f"  {heading}", {"yellow": True} if stale else {}))
            texts = [f"    {text}" for text in entries]
            shown = texts if verbosity > 0 else texts[:SHOWN]
            lines.extend((text, {}) for text in shown)
            if len(texts) > len(shown):
                lines.append((f"    ... and {len(texts) - len(shown)} more (-v shows all)", {}))
    return lines


#: (the heading of a group of questions, whether it is the stale group), its questions' lines.
Group = tuple[tuple[str, bool], list[str]]


def grouped(suites: Mapping[str, list[dict[str, Any]]]) -> dict[str, list[Group]]:
    """Per suite (the JSON report's `expiry`): the stale group and the expiring group, each
    with a heading and one line per question, for every output to lay out its own way."""
    out: dict[str, list[Group]] = {}
    for suite, entries in suites.items():
        stale = [e for e in entries if e["state"] == "stale"]
        expiring = [e for e in entries if e["state"] == "expiring"]
        groups: list[Group] = []
        if stale:
            heading = (
                f"stale, past valid_until ({len(stale)}): the expected answer may no longer "
                "be true; update it and its valid_until"
            )
            groups.append(((heading, True), [_stale_text(e) for e in stale]))
        if expiring:
            heading = f"expiring within {EXPIRING_DAYS} days ({len(expiring)}):"
            groups.append(((heading, False), [_expiring_text(e) for e in expiring]))
        out[suite] = groups
    return out


def expiry_markdown(suites: Mapping[str, list[dict[str, Any]]]) -> list[str]:
    """The Markdown section: per suite, its stale and expiring questions, all of them."""
    if not suites:
        return []
    lines = ["### Facts that expire (valid_until)"]
    for suite, groups in grouped(suites).items():
        lines += ["", f"**{suite}**", ""]
        for (heading, stale), texts in groups:
            lines.append(f"- {'⚠️ ' if stale else ''}{heading}")
            lines += [f"  - {text}" for text in texts]
    return lines


def _stale_text(entry: Mapping[str, Any]) -> str:
    return f"{entry['id']}: valid until {entry['valid_until']}, {_ACTIONS[entry['action']]}"


def _expiring_text(entry: Mapping[str, Any]) -> str:
    days = entry["days_left"]
    left = "today is its last day" if days == 0 else f"{days} day{'s' if days != 1 else ''} left"
    return f"{entry['id']}: valid until {entry['valid_until']} ({left})"
