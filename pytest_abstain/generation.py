"""Generation parameters of the model under test (temperature, max_tokens, ...): their checks,
their layers merged (command line > suite > ini for the model > ini > default), and the
forms they take: sent to the endpoint, and shown (in the cache key and reports) with the
values of secret-looking headers redacted (pure)."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from typing import Any

#: A reply longer than this is cut off and is an error, unless the team says otherwise
#: (0: no cap). Short answers take tens of tokens, a verbal-confidence JSON reply about 50;
#: 1024 leaves a chatty model room and stops a base model long before its context limit.
DEFAULT_MAX_TOKENS = 1024
#: The reasoning efforts OpenAI-compatible endpoints know of.
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")
#: OpenAI takes at most 4 stop sequences.
MAX_STOP = 4
#: A header whose name says it carries a credential: its value never leaves the request.
SECRET_HEADER = re.compile(
    r"authorization|cookie|key|token|secret|passw|credential|signature|session", re.IGNORECASE
)
#: What stands for a secret header's value wherever the parameters are shown or hashed.
REDACTED = "[redacted]"
#: `${NAME}` in a header value is the environment variable NAME, read when the run starts,
#: so the secret itself need not be written in a committed suite or ini file.
_ENV_REFERENCE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")
#: Parameters merged key by key across the layers, rather than replaced whole.
MAPPINGS = ("extra_body", "extra_headers")


def _number(low: float, high: float | None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        shown = f"[{low:g}, {high:g}]" if high is not None else f">= {low:g}"
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return f"must be a number {shown}"
        if not math.isfinite(value) or value < low or (high is not None and value > high):
            return f"must be a number {shown}"
        return None

    return check


def _whole(low: int, high: int | None) -> Callable[[Any], str | None]:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return "must be a whole number"
        if value < low or (high is not None and value > high):
            return f"must be a whole number from {low}" + (f" to {high}" if high else " up")
        return None

    return check


def _effort(value: Any) -> str | None:
    if value not in REASONING_EFFORTS:
        return f"must be one of {', '.join(REASONING_EFFORTS)}"
    return None


def _stop(value: Any) -> str | None:
    items = [value] if isinstance(value, str) else value
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_STOP:
        return f"must be a string or a list of 1 to {MAX_STOP} strings"
    if not all(isinstance(item, str) and item for item in items):
        return "must hold non-empty strings only"
    return None


def _body(value: Any) -> str | None:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        return "must be a mapping of parameter names to values"
    return None


def _headers(value: Any) -> str | None:
    if not isinstance(value, dict):
        return "must be a mapping of header names to string values"
    for name, text in value.items():
        if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9!#$%&'*+.^_`|~-]+", name):
            return f"has {str(name)[:40]!r}, which is not a header name"
        if not isinstance(text, str) or any(c in text for c in "\r\n\0"):
            return f"{name}: must be a string on one line"
    return None


#: Each parameter the model under test takes, with the check of its value.
CHECKS: dict[str, Callable[[Any], str | None]] = {
    "temperature": _number(0, 2),
    "top_p": _number(0, 1),
    "max_tokens": _whole(0, None),
    "seed": _whole(-(2**63), 2**63 - 1),
    "reasoning_effort": _effort,
    "stop": _stop,
    "extra_body": _body,
    "extra_headers": _headers,
}


def problems(params: Mapping[str, Any], where: str) -> list[str]:
    """What is wrong with each parameter of `params`, prefixed with `where` (its key)."""
    found = []
    for name, value in params.items():
        check = CHECKS.get(name)
        if check is None:
            known = ", ".join(CHECKS)
            found.append(f"{where}.{name}: not a generation parameter (known: {known})")
        elif (problem := check(value)) is not None:
            found.append(f"{where}.{name}: {problem}, got {_quoted(name, value)}")
    return found


def _quoted(name: str, value: Any) -> str:
    """A bad value as a message may quote it: a header mapping never (it may hold a key)."""
    return "a header mapping" if name == "extra_headers" else repr(value)[:80]


def merged(*layers: Mapping[str, Any] | None) -> dict[str, Any]:
    """The layers, lowest first, each key of a later one winning; `extra_body` and
    `extra_headers` merge key by key (the ini's gateway header survives a suite's route)."""
    out: dict[str, Any] = {}
    for layer in layers:
        for name, value in (layer or {}).items():
            if value is None:
                continue
            if name in MAPPINGS and isinstance(value, dict):
                out[name] = {**out.get(name, {}), **value}
            else:
                out[name] = value
    return out


def with_default(params: Mapping[str, Any]) -> dict[str, Any]:
    """`params` with the default token cap where none is given; a cap of 0 means none."""
    out = {"max_tokens": DEFAULT_MAX_TOKENS, **params}
    if out["max_tokens"] == 0:
        del out["max_tokens"]
    return out


def expanded(params: Mapping[str, Any], environ: Mapping[str, str]) -> dict[str, Any]:
    """The parameters as sent: each `${NAME}` in a header value replaced by that environment
    variable. ValueError names a variable that is not set (never its would-be value)."""
    headers = params.get("extra_headers")
    if not headers:
        return dict(params)

    def value_of(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in environ:
            raise ValueError(f"extra_headers: ${{{name}}} names an unset environment variable")
        return environ[name]

    sent = {name: _ENV_REFERENCE.sub(value_of, text) for name, text in headers.items()}
    return {**params, "extra_headers": sent}


def shown(params: Mapping[str, Any]) -> dict[str, Any]:
    """The parameters as the cache key, reports and messages hold them: a secret-looking
    header's value is REDACTED (a new token must not re-ask every question, and no file may
    hold it); other headers stay, since a routing header can change the reply."""
    headers = params.get("extra_headers")
    if not headers:
        return dict(params)
    safe = {n: REDACTED if SECRET_HEADER.search(n) else v for n, v in headers.items()}
    return {**params, "extra_headers": safe}


def secrets(params: Mapping[str, Any]) -> list[str]:
    """The values of secret-looking headers as sent, to be redacted from every failure text
    and kept out of every cache entry."""
    headers = params.get("extra_headers") or {}
    found = []
    for name, value in headers.items():
        if SECRET_HEADER.search(name):
            found.append(value)
            # "Bearer sk-..." is quoted back as the token alone, too.
            found.extend(part for part in value.split() if len(part) >= 8)
    return found


def split_model_line(raw: str) -> tuple[str | None, str, str] | None:
    """An ini line `name = value` or `[model] name = value` as (model, name, value text);
    None for a blank or comment line. ValueError quotes a line of another shape."""
    line = raw.strip()
    if not line or line.startswith("#"):
        return None
    model = None
    if line.startswith("["):
        model, bracket, line = line[1:].partition("]")
        model, line = model.strip(), line.strip()
        if not bracket or not model:
            raise ValueError(f"{raw.strip()!r}: expected [model] name = value")
    name, equals, text = line.partition("=")
    name = name.strip()
    if not equals or not name:
        raise ValueError(f"{raw.strip()!r}: expected name = value")
    return model, name, text.strip()


def parse_ini_lines(lines: list[str]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
    """`abstain_generation` ini lines: `name = value`, or `[model] name = value` for one model;
    each value read as a YAML flow value (`0.2`, `["\\n\\n"]`, `{X-Route: canary}`).
    Returns the run-wide parameters and those per model; ValueError says which line is bad."""
    general: dict[str, Any] = {}
    per_model: dict[str, dict[str, Any]] = {}
    if not any(line.strip() for line in lines):
        return general, per_model  # every run gets here: yaml waits for a real line
    import yaml

    for raw in lines:
        split = split_model_line(raw)
        if split is None:
            continue
        model, name, text = split
        try:
            value = yaml.safe_load(text) if text else None
        except yaml.YAMLError:
            raise ValueError(f"{raw.strip()!r}: the value is not a YAML value") from None
        target = general if model is None else per_model.setdefault(model, {})
        target[name] = value
    return general, per_model
