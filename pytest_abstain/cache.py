"""The response cache: one JSON file per reply, keyed by everything that changes the reply.

Entries are written atomically (temporary file, then rename), so several processes (xdist
workers) can fill one cache at once, and an interrupted run leaves only whole entries. The key
covers the endpoint, the model, the generation parameters, the full messages (so the stated t
and the system prompt are in it) and the sample index; it never covers the API key, and nothing
the cache stores does either. Failed replies are not stored: they must be asked again.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from .prompts import Message
from .report import write_atomic
from .responders import Reply

CACHE_VERSION = 1
RecordMode = Literal["missing", "replay", "all", "off"]
RECORD_MODES: tuple[RecordMode, ...] = ("missing", "replay", "all", "off")


@dataclass(frozen=True)
class CacheKey:
    """What a reply depends on."""

    endpoint: str | None
    model: str
    params: Mapping[str, Any]
    messages: tuple[tuple[str, str], ...]
    sample: int

    @classmethod
    def of(
        cls,
        endpoint: str | None,
        model: str,
        params: Mapping[str, Any],
        messages: list[Message],
        sample: int,
    ) -> CacheKey:
        pairs = tuple((m["role"], m["content"]) for m in messages)
        return cls(endpoint, model, dict(params), pairs, sample)

    def parts(self) -> dict[str, Any]:
        return {
            "endpoint": self.endpoint,
            "model": self.model,
            "params": dict(sorted(self.params.items())),
            "messages": [{"role": r, "content": c} for r, c in self.messages],
            "sample": self.sample,
        }

    @property
    def digest(self) -> str:
        canonical = json.dumps(self.parts(), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class ResponseCache:
    """Replies on disk under `root`, two-level fan-out so no folder grows huge."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.json"

    def get(self, key: CacheKey) -> Reply | None:
        """The stored reply, or None when missing or unreadable (it is then asked again)."""
        try:
            data = json.loads(self._path(key.digest).read_text(encoding="utf-8"))
            reply = data["reply"]
            if data.get("version") != CACHE_VERSION or not isinstance(reply["text"], str):
                return None
            return Reply(
                text=reply["text"],
                prompt_tokens=reply.get("prompt_tokens"),
                completion_tokens=reply.get("completion_tokens"),
                cached=True,
            )
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, key: CacheKey, reply: Reply) -> None:
        """Store a reply that was obtained; failures are never stored."""
        if reply.text is None:
            return
        entry = {
            "version": CACHE_VERSION,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "key": key.parts(),
            "reply": {
                "text": reply.text,
                "prompt_tokens": reply.prompt_tokens,
                "completion_tokens": reply.completion_tokens,
            },
        }
        write_atomic(self._path(key.digest), json.dumps(entry, indent=1, ensure_ascii=False))

    def keys(self) -> Iterator[dict[str, Any]]:
        """The key parts of every readable entry (for explaining misses)."""
        for path in self.root.glob("*/*.json"):
            try:
                yield json.loads(path.read_text(encoding="utf-8"))["key"]
            except (OSError, ValueError, KeyError, TypeError):
                continue

    def explain_miss(self, key: CacheKey) -> str:
        """Which parts of `key` differ from the closest stored entry."""
        wanted = key.parts()
        prompt = key.messages[-1][1] if key.messages else ""
        best: tuple[tuple[int, int], dict[str, Any]] | None = None
        for stored in self.keys():
            differing = sum(1 for name in _PART_ORDER if stored.get(name) != wanted[name])
            # Among equally different entries, the one whose prompt shares the longest start
            # with this one is the same question, asked differently.
            shared = _shared_start(_last_content(stored.get("messages")), prompt)
            rank = (differing, -shared)
            if best is None or rank < best[0]:
                best = (rank, stored)
        if best is None:
            return f"the cache in {self.root} is empty"
        stored = best[1]
        changes = [
            _describe_change(name, stored.get(name), wanted[name])
            for name in _PART_ORDER
            if stored.get(name) != wanted[name]
        ]
        return "the closest cached entry differs in " + "; ".join(changes)


_PART_ORDER = ("endpoint", "model", "params", "messages", "sample")


def _describe_change(name: str, stored: Any, wanted: Any) -> str:
    if name != "messages" or not isinstance(stored, list):
        return f"{name}: {stored!r} → {wanted!r}"
    before = {str(m.get("role")): str(m.get("content", "")) for m in stored if isinstance(m, dict)}
    after = {str(m["role"]): str(m["content"]) for m in wanted}
    parts = []
    for role in sorted(set(before) | set(after)):
        old, new = before.get(role), after.get(role)
        if old == new:
            continue
        if old is None or new is None:
            parts.append(f"{role} message {'added' if old is None else 'removed'}")
            continue
        at = _shared_start(old, new)
        parts.append(f"{role} message at character {at}: {_snip(old, at)!r} → {_snip(new, at)!r}")
    return "messages (" + "; ".join(parts) + ")"


def _last_content(messages: Any) -> str:
    if isinstance(messages, list) and messages and isinstance(messages[-1], dict):
        return str(messages[-1].get("content", ""))
    return ""


def _shared_start(a: str, b: str) -> int:
    return next(
        (i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b))
    )


def _snip(text: str, at: int, width: int = 24) -> str:
    return text[max(0, at - 8) : at + width]
