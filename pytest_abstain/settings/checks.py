"""Checks of option values: each says what is wrong with a value (None when it is usable),
for a usage error that names the option and quotes the value."""

from __future__ import annotations

import math

from ..sampling import parse_samples
from .defaults import MAX_CONCURRENCY, MAX_RETRIES


def parse_thresholds(raw: object) -> tuple[float, ...]:
    """A sweep's confidence targets, ascending: '0.5,0.75,0.9' or a list; ValueError if bad."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        raise ValueError("must be a list of confidence targets, e.g. 0.5,0.75,0.9")
    values: set[float] = set()
    for item in items:
        try:
            value = float(str(item).strip())
        except ValueError:
            raise ValueError(f"{str(item).strip()!r} is not a number") from None
        if not 0 <= value < 1:
            raise ValueError(f"each t must be in [0, 1), got {value:g}")
        values.add(value)
    if len(values) < 2:
        raise ValueError("a sweep needs at least two different values of t")
    return tuple(sorted(values))


def thresholds_problem(value: str) -> str | None:
    try:
        parse_thresholds(value)
    except ValueError as exc:
        return str(exc)
    return None


def error_budget_problem(value: str) -> str | None:
    # Imported only when a budget is given: the options table is read on every run, and
    # the scoring module loads the records with it.
    from ..results.scoring import ErrorBudget

    try:
        ErrorBudget.parse(value)
    except ValueError as exc:
        return str(exc)
    return None


def threshold_problem(value: float) -> str | None:
    return None if 0 <= value < 1 else "must be in [0, 1)"


def positive_int_problem(value: int) -> str | None:
    return None if value >= 1 else "must be at least 1"


def concurrency_problem(value: int) -> str | None:
    ok = 1 <= value <= MAX_CONCURRENCY
    return None if ok else f"must be from 1 to {MAX_CONCURRENCY}"


def retries_problem(value: int) -> str | None:
    return None if 0 <= value <= MAX_RETRIES else f"must be from 0 to {MAX_RETRIES}"


def samples_problem(value: object) -> str | None:
    try:
        parse_samples(value)
    except ValueError as exc:
        return str(exc)
    return None


def record_mode_problem(value: str) -> str | None:
    modes = ("missing", "replay", "all", "off")
    return None if value in modes else f"must be one of {', '.join(modes)}"


#: How the openai client asks: chat completions, or OpenAI's Responses API.
APIS = ("chat", "responses")


def api_problem(value: str) -> str | None:
    return None if value in APIS else f"must be one of {', '.join(APIS)}"


def judge_when_problem(value: str) -> str | None:
    from ..judging import JUDGE_WHEN  # only when given, as ErrorBudget above

    return None if value in JUDGE_WHEN else f"must be one of {', '.join(JUDGE_WHEN)}"


#: How a suite's floors decide (results/floors.py): on the point estimate, or its interval.
FLOOR_MODES = ("point", "interval")


def floor_problem(value: str) -> str | None:
    return None if value in FLOOR_MODES else f"must be one of {', '.join(FLOOR_MODES)}"


def positive_problem(value: float) -> str | None:
    return None if value > 0 and math.isfinite(value) else "must be a positive number of seconds"


def rate_problem(value: float) -> str | None:
    return None if 0 <= value <= 1 else "must be in [0, 1]"


def finite_problem(value: float) -> str | None:
    return None if math.isfinite(value) else "must be a finite number"


def non_negative_problem(value: float) -> str | None:
    return None if value >= 0 and math.isfinite(value) else "must be a number >= 0"


def level_problem(value: float) -> str | None:
    return None if 0 < value <= 0.5 else "must be in (0, 0.5], e.g. 0.05"


def parse_bool(raw: str) -> bool:
    """An ini flag: true/false, yes/no, on/off, 1/0."""
    lowered = raw.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError(raw)
