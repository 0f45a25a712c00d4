"""Why a reply was not in the response cache: the closest stored key and how it differs.

Pure; the cache hands over every stored key once. The closest entry has the fewest differing
parts (endpoint, model, params, messages, sample), then the longest start of the last message
shared with the wanted one (the same question, asked differently), then the first by that
message and path. Keys are grouped by everything but the messages, and each group keeps its
last messages sorted, so a miss costs a comparison and a bisect per group, not a pass over
every entry: explaining every miss of a replay is linear in the cache, not quadratic.
"""

from __future__ import annotations

import bisect
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

PART_ORDER = ("endpoint", "model", "params", "messages", "sample")
_SIGNATURE = ("endpoint", "model", "params", "sample")


def canonical(value: Any) -> str:
    """The text the cache digests a key from: parts equal here the digest cannot tell apart."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _fingerprint(value: Any) -> bytes:
    return hashlib.blake2b(canonical(value).encode("utf-8"), digest_size=16).digest()


@dataclass
class _Group:
    """Stored keys equal in everything but the messages."""

    signature: tuple[bytes, ...]
    #: (last message's content, path), sorted: the longest shared start is a neighbour.
    prompts: list[tuple[str, str]] = field(default_factory=list)
    #: Fingerprint of the messages → the first path (in path order) with exactly those.
    by_messages: dict[bytes, str] = field(default_factory=dict)


class MissIndex:
    """Stored keys (the `key` part of each entry, by path), grouped to find the closest."""

    def __init__(self, stored: Iterable[tuple[str, dict[str, Any]]]) -> None:
        self.stored = dict(sorted(stored, key=lambda item: item[0]))
        self._groups: dict[tuple[bytes, ...], _Group] = {}
        for path, parts in self.stored.items():
            group = self._group(parts)
            group.prompts.append((_last_content(parts.get("messages")), path))
            group.by_messages.setdefault(_fingerprint(parts.get("messages")), path)
        for group in self._groups.values():
            group.prompts.sort()

    def _group(self, parts: dict[str, Any]) -> _Group:
        signature = tuple(_fingerprint(parts.get(name)) for name in _SIGNATURE)
        return self._groups.setdefault(signature, _Group(signature))

    def add(self, path: str, parts: dict[str, Any]) -> None:
        """Index the key just stored at `path`, in place of the one indexed there, if any."""
        old = self.stored.get(path)
        if old is not None and canonical(old) == canonical(parts):
            return
        if old is not None:  # an entry whose key did not match its name, now rewritten
            group = self._group(old)
            group.prompts.remove((_last_content(old.get("messages")), path))
            messages = _fingerprint(old.get("messages"))
            if group.by_messages.get(messages) == path:
                del group.by_messages[messages]
                same = [p for _, p in group.prompts if self._messages_of(p) == messages]
                if same:
                    group.by_messages[messages] = min(same)
            if not group.prompts:
                del self._groups[group.signature]
        self.stored[path] = parts
        group = self._group(parts)
        bisect.insort(group.prompts, (_last_content(parts.get("messages")), path))
        messages = _fingerprint(parts.get("messages"))
        first = group.by_messages.get(messages)
        if first is None or path < first:
            group.by_messages[messages] = path

    def _messages_of(self, path: str) -> bytes:
        return _fingerprint(self.stored[path].get("messages"))

    def closest(self, wanted: dict[str, Any]) -> tuple[str, dict[str, Any]] | None:
        """The path and key of the stored key closest to `wanted`; None when there is none."""
        signature = tuple(_fingerprint(wanted[name]) for name in _SIGNATURE)
        messages = _fingerprint(wanted["messages"])
        prompt = _last_content(wanted["messages"])
        best: tuple[int, int, str, str] | None = None  # differing, -shared, prompt, path
        for group in self._groups.values():
            differing = sum(a != b for a, b in zip(group.signature, signature, strict=True))
            if best is not None and differing > best[0]:
                continue  # cannot win, whatever its messages
            same = group.by_messages.get(messages)
            if same is not None:
                rank = (differing, -len(prompt), prompt, same)
            else:
                shared, (content, path) = _longest_shared_start(group.prompts, prompt)
                rank = (differing + 1, -shared, content, path)
            if best is None or rank < best:
                best = rank
        return None if best is None else (best[3], self.stored[best[3]])


def differences(stored: dict[str, Any], wanted: dict[str, Any]) -> list[str]:
    """Each part where `stored` and `wanted` differ, described (empty when they are equal)."""
    return [
        _describe_change(name, stored.get(name), wanted[name])
        for name in PART_ORDER
        if canonical(stored.get(name)) != canonical(wanted[name])
    ]


def _longest_shared_start(
    prompts: list[tuple[str, str]], prompt: str
) -> tuple[int, tuple[str, str]]:
    """The longest start `prompt` shares with one of the sorted `prompts`, and the first of
    them sharing it. The sorted neighbours of where `prompt` would go share the most."""
    at = bisect.bisect_left(prompts, (prompt,))
    neighbours = prompts[max(0, at - 1) : at + 1]
    shared = max(_shared_start(content, prompt) for content, _ in neighbours)
    # Those starting with prompt[:shared] are a run, led by the first not sorting before it.
    return shared, prompts[bisect.bisect_left(prompts, (prompt[:shared],))]


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
