"""Both guards on a suite's regexes: the load-time check that refuses the pattern shapes that
take exponential time, and the deadline that bounds every search of a reply. Grading takes its
search function as an argument, so only the caller that may own the process's signals (the
pytest glue, on the main thread) turns the deadline on."""

from __future__ import annotations

import math
import re
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..untrusted import clipped

# --- regex cost --------------------------------------------------------------------------------
#
# Python's backtracking regex engine takes exponential time when a repeated group can match
# the same text in several ways: (a+)+$ or (a|aa)*$ on "aaaa...b" tries every way to split
# the a's. Such a pattern is refused here, at load time, with the question named. The check
# reads the pattern text itself (the documented regex syntax, which is stable), not re's
# private parser, and is deliberately simple: a group repeated by *, + or {m,n} (n > 1) may
# not contain a variable repeat (*, +, ?, {m,n}) or an alternation (|). That refuses some
# harmless patterns ((ab?)+, (cat|dog)+), which are easy to rewrite; atomic groups (?>...)
# and possessive quantifiers (Python 3.11+) never backtrack and are allowed.
# Patterns without nesting can still be slow (\d+\d+$ is polynomial); the grader bounds the
# time of every regex search (REGEX_DEADLINE below) and grades a search past it `error`.

_REPEAT = re.compile(r"[*+?]|\{(\d*)(,?)(\d*)\}")
# What follows "(?" in a group that is not a comment: name, lookaround, flags.
_GROUP_PREFIX = re.compile(r"\?(?:P<\w+>|<[=!]|[:=!>]|[aiLmsux]*(?:-[imsx]*)?[:)])")


@dataclass
class _Group:
    start: int
    atomic: bool
    #: Holds a variable repeat or an alternation: repeating it is ambiguous.
    ambiguous: bool = False


def regex_problem(pattern: re.Pattern[str]) -> str | None:
    """Why `pattern` can take exponential time, or None; see the comment above."""
    text, verbose = pattern.pattern, bool(pattern.flags & re.VERBOSE)
    groups = [_Group(0, atomic=False)]  # the whole pattern is the outermost group
    i = 0
    while i < len(text):
        char, closed = text[i], None
        if verbose and char.isspace():
            i += 1
            continue
        if verbose and char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end
            continue
        if text.startswith("(?#", i):
            i = text.index(")", i) + 1
            continue
        if char == "(":
            prefix = _GROUP_PREFIX.match(text, i + 1)
            if prefix is None or not prefix[0].endswith(")"):
                groups.append(_Group(i, atomic=text.startswith("(?>", i)))
            i = prefix.end() if prefix else i + 1  # (?i) alone sets flags, it is no group
            continue
        if char == "|":
            groups[-1].ambiguous = True
            i += 1
            continue
        if char == ")":
            closed = groups.pop()
            i += 1
        elif char == "\\":
            i += 2
        elif char == "[":
            i = _after_class(text, i)
        else:
            i += 1
        # The atom (a character, class, escape or group) just read: is it repeated?
        while verbose and i < len(text) and text[i].isspace():
            i += 1
        repeat = _REPEAT.match(text, i)
        if repeat is not None and repeat[0] == "{}":
            repeat = None  # a literal "{}"
        ambiguous = closed is not None and closed.ambiguous and not closed.atomic
        if repeat is None:
            groups[-1].ambiguous |= ambiguous
            continue
        i = repeat.end()
        low, high = _bounds(repeat)
        possessive = text.startswith("+", i)
        i += 1 if text.startswith(("?", "+"), i) else 0
        if ambiguous and high > 1 and not possessive:
            assert closed is not None
            group = clipped(text[closed.start : repeat.start()], 60)
            return (
                f"the group {group} is repeated and repeats or alternates inside, which can "
                "take exponential time on some replies; rewrite it without the nested repeat "
                "(e.g. (a+)+ as a+, (a|b)+ as [ab]+)"
            )
        groups[-1].ambiguous |= ambiguous or low != high
    return None


def _after_class(text: str, start: int) -> int:
    """Where the character class opening at text[start] ("[") ends, past its "]"."""
    i = start + 1
    i += 1 if text.startswith("^", i) else 0
    i += 1 if text.startswith("]", i) else 0  # a leading ] is a literal
    while text[i] != "]":
        i += 2 if text[i] == "\\" else 1
    return i + 1


def _bounds(repeat: re.Match[str]) -> tuple[int, float]:
    """(min, max) of a quantifier; max is inf when unbounded."""
    if repeat[0] in ("*", "+", "?"):
        return {"*": (0, math.inf), "+": (1, math.inf), "?": (0, 1.0)}[repeat[0]]
    low = int(repeat[1] or 0)
    if not repeat[2]:  # {m}: exactly m
        return low, low
    return low, float(repeat[3]) if repeat[3] else math.inf


# --- regex deadline --------------------------------------------------------------------------
#
# A suite's regex runs on Python's backtracking engine, where some patterns take exponential
# or high-polynomial time on some texts ((a+)+$, \d+\d+$ on a long run of digits). The suite
# loader refuses the exponential shapes it can see (regex_problem above); this deadline bounds
# the rest. CPython's engine checks for signals every 4096 steps, so a SIGALRM timer stops a
# runaway search from inside. Signals only reach the main thread, and the timer is only set
# when nobody else uses SIGALRM (pytest-timeout's signal method does): elsewhere, and on
# Windows, the search runs unbounded and the load-time check is the only guard.

#: Seconds one regex search may take; a real answer pattern needs microseconds.
REGEX_DEADLINE = 0.5


class RegexTimeout(Exception):
    """A question's regex ran past REGEX_DEADLINE on a reply: that reply cannot be graded
    (the plugin records it as an `error`, never as wrong)."""


class _Alarm(Exception):
    pass


def _on_alarm(signum: int, frame: object) -> None:
    raise _Alarm


def _can_time() -> bool:
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getsignal(signal.SIGALRM) is signal.SIG_DFL
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


#: How grading runs a question's regex on a reply: True if it is found.
Search = Callable[[re.Pattern[str], str], bool]


def unbounded_search(regex: re.Pattern[str], text: str) -> bool:
    return regex.search(text) is not None


def bounded_search(regex: re.Pattern[str], text: str) -> bool:
    """`regex.search` stopped by RegexTimeout after REGEX_DEADLINE, where a timer can be set."""
    if not _can_time():
        return unbounded_search(regex, text)
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, REGEX_DEADLINE)
        try:
            return regex.search(text) is not None
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _Alarm:
        raise RegexTimeout(
            f"the regex {regex.pattern[:80]!r} took more than {REGEX_DEADLINE} s on a reply of "
            f"{len(text):,} characters; simplify it (repeats next to or inside repeats, such "
            "as \\d+\\d+ or (a+)+, make the search backtrack)"
        ) from None
    finally:
        signal.signal(signal.SIGALRM, previous)
