"""Endpoint settings for one model of a run: `abstain_model_settings` ini lines such as
`[o4-mini] api = responses` or `[gpt-4o] rpm = 500` (pure).

Several models side by side often sit behind different APIs and account limits (OpenAI's
limits are per model): each line scopes one of `PER_MODEL_OPTIONS` to one model. A
generation parameter is not one of them: those have `abstain_generation`'s own `[model]`
lines, since they are part of what is tested (the cache key, the reports).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from ..generation import split_model_line
from .options import OPTIONS_BY_NAME

#: The settings a line may scope to one model.
PER_MODEL_OPTIONS = ("api", "rpm", "tpm")
INI = "abstain_model_settings"


@dataclass(frozen=True)
class ModelSettings:
    """One model's own settings; None where its lines say nothing (the run's apply)."""

    api: str | None = None
    #: The model's own per-minute budgets, kept besides the run's (--abstain-rpm/-tpm).
    rpm: int | None = None
    tpm: int | None = None


def parse_model_settings(lines: Iterable[str]) -> dict[str, ModelSettings]:
    """Each model's settings from the ini lines; ValueError names the bad line and why."""
    found: dict[str, ModelSettings] = {}
    for raw in lines:
        split = split_model_line(raw)
        if split is None:
            continue
        model, name, text = split
        if name not in PER_MODEL_OPTIONS:
            allowed = ", ".join(PER_MODEL_OPTIONS)
            raise ValueError(f"{raw.strip()!r}: {name!r} is not a per-model setting ({allowed})")
        option = OPTIONS_BY_NAME[name]
        if model is None:
            raise ValueError(
                f"{raw.strip()!r}: a line here is for one model ([model] {name} = ...); "
                f"for every model use {option.ini}"
            )
        try:
            value = option.kind(text)
        except ValueError:
            kind = option.kind.__name__
            raise ValueError(f"{raw.strip()!r}: expected {kind}, got {text!r}") from None
        problem = option.check(value) if option.check is not None else None
        if problem:
            raise ValueError(f"{raw.strip()!r}: {problem}, got {option.quote(value)}")
        found[model] = replace(found.get(model, ModelSettings()), **{name: value})
    return found
