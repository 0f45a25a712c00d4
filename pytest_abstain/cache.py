"""The response cache: one JSON file per reply, keyed by everything that changes the reply.

Entries are written atomically (temporary file, then rename), so several processes (xdist
workers) can fill one cache at once, and an interrupted run leaves only whole entries. The key
covers the endpoint, the model, the generation parameters, the full messages (so the stated t
and the system prompt are in it) and the sample index; it never covers the API key, and nothing
the cache stores does either. Failed replies are not stored: they must be asked again.

A reply is only ever replayed from an entry that validates: readable JSON of this cache
version, whose stored key hashes to the key asked for, with the reply's text and token counts
of the right types. Any other entry (truncated by a crash in an old version, edited by hand,
copied from another cache, written by another version) is a miss, so the reply is asked
again and, when recording, written atomically over the bad file. Such entries are listed by
`ResponseCache.corrupt_entries()` for the run's summary, never raised.
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
        return _digest(self.parts())


def _digest(parts: Any) -> str:
    canonical = json.dumps(parts, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _entry_problem(data: Any, digest: str) -> str | None:
    """Why a loaded entry cannot be replayed for the key with `digest`, or None."""
    if not isinstance(data, dict):
        return f"not a JSON object but a {type(data).__name__}"
    if data.get("version") != CACHE_VERSION:
        return f"version {str(data.get('version'))[:40]}, this pytest-abstain reads {CACHE_VERSION}"
    try:
        matches = _digest(data.get("key")) == digest
    except (TypeError, ValueError, UnicodeError):
        matches = False
    if not matches:
        return "its key is not the one its file name stands for (edited or copied in?)"
    reply = data.get("reply")
    if not isinstance(reply, dict) or not isinstance(reply.get("text"), str):
        return "no reply text"
    for name in ("prompt_tokens", "completion_tokens"):
        count = reply.get(name)
        if count is not None and (type(count) is not int or count < 0):
            return f"{name} is {count!r}, not a count"
    return None


class ResponseCache:
    """Replies on disk under `root`, two-level fan-out so no folder grows huge."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._corrupt: dict[Path, str] = {}
        #: Entries that could not be written this run, with why (they are asked next time).
        self.unwritable: dict[Path, str] = {}

    def _path(self, digest: str) -> Path:
        return self.root / digest[:2] / f"{digest}.json"

    def corrupt_entries(self) -> list[tuple[Path, str]]:
        """Entries this run found unusable and treated as misses, with why, sorted by path."""
        return sorted(self._corrupt.items())

    def get(self, key: CacheKey) -> Reply | None:
        """The stored reply, or None when missing or unusable (it is then asked again)."""
        digest = key.digest
        path = self._path(digest)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return None
        except (OSError, UnicodeDecodeError) as exc:
            self._corrupt[path] = f"cannot read it: {getattr(exc, 'strerror', None) or exc}"
            return None
        try:
            data = json.loads(text)
        # RecursionError: a file of ten thousand '[' is valid-looking input to the parser.
        except (ValueError, RecursionError) as exc:
            self._corrupt[path] = f"not valid JSON (truncated?): {_first_line(exc)}"
            return None
        problem = _entry_problem(data, digest)
        if problem is not None:
            self._corrupt[path] = problem
            return None
        reply = data["reply"]
        return Reply(
            text=reply["text"],
            prompt_tokens=reply.get("prompt_tokens"),
            completion_tokens=reply.get("completion_tokens"),
            cached=True,
        )

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
        path = self._path(key.digest)
        try:
            write_atomic(path, json.dumps(entry, indent=1, ensure_ascii=False))
        except OSError as exc:
            # A full disk or a read-only cache costs a re-ask next time, not this run.
            self.unwritable[path] = exc.strerror or str(exc)

    def keys(self) -> Iterator[dict[str, Any]]:
        """The key parts of every readable entry (for explaining misses)."""
        for path in self.root.glob("*/*.json"):
            try:
                stored = json.loads(path.read_text(encoding="utf-8"))["key"]
            except (OSError, ValueError, KeyError, TypeError, RecursionError):
                continue
            if isinstance(stored, dict):
                yield stored

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


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


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
