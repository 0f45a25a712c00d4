"""The response cache: one JSON file per reply, keyed by everything that changes the reply.

Entries are written atomically (temporary file, then rename), so several processes (xdist
workers) can fill one cache at once, and an interrupted run leaves only whole entries. A writer
killed between the two steps (SIGTERM, SIGKILL, power loss) leaves its temporary file behind:
a cache that records removes such files once they are `ORPHAN_AGE_SECONDS` old, an age no live
writer's file reaches. The key covers the endpoint, the model, the generation parameters, the
full messages (so the stated t and the system prompt are in it) and the sample index; it never
covers the API key, and no entry is written whose text contains one of the run's API keys
(`secrets`), however it got into the messages or the reply. Failed replies are not stored:
they must be asked again.

A reply is only ever replayed from an entry that validates: a regular file (a symbolic link is
followed to one) of at most `MAX_ENTRY_BYTES`, read with that cap and without blocking, holding
readable JSON of this cache version, whose stored key hashes to the key asked for, with the
reply's text and token counts of the right types. Anything else (a FIFO, a device or a link to
one, a directory, an oversize file; an entry truncated by a crash in an old version, edited by
hand, copied from another cache, written by another version) is a miss, so the reply is asked
again and, when recording, written atomically over the bad file. Such entries are listed by
`ResponseCache.corrupt_entries()` for the run's summary, never raised.

Explaining a miss compares its key with every stored key: they are read once, on the first
miss, and indexed (`misses.MissIndex`), so explaining every miss of a run is linear.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from ..files import temporary_target, unwritable, write_atomic
from ..records import Message, Reply
from ..untrusted import MIN_SECRET_CHARS
from .misses import MissIndex, canonical, differences

CACHE_VERSION = 1
RecordMode = Literal["missing", "replay", "all", "off"]
#: An entry holds one reply and the messages that asked for it: even a prompt that fills a
#: million-token context is a few MiB of UTF-8, so a larger file is not an entry.
MAX_ENTRY_BYTES = 16 * 1024 * 1024
#: Writing an entry takes milliseconds; a temporary file this old lost its writer.
ORPHAN_AGE_SECONDS = 10 * 60

# Where the platform has them: O_NONBLOCK makes opening a FIFO return at once.
_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
_ENTRY_NAME = re.compile(r"[0-9a-f]{64}\.json")
_FOLDER = re.compile(r"[0-9a-f]{2}")


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
    return hashlib.sha256(canonical(parts).encode("utf-8")).hexdigest()


class _Damaged(Exception):
    """Something that cannot be an entry is where one should be; the message says why."""


_KINDS = {
    stat.S_IFDIR: "a directory",
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
}


def _check(path: Path, info: os.stat_result) -> None:
    """Raise _Damaged unless `info` is a regular file within the size cap."""
    if not stat.S_ISREG(info.st_mode):
        what = _KINDS.get(stat.S_IFMT(info.st_mode), "a special file")
        if path.is_symlink():
            what = f"a symbolic link to {what} ({_target(path)})"
        raise _Damaged(f"cannot read it: {what}, not a regular file")
    if info.st_size > MAX_ENTRY_BYTES:
        raise _Damaged(_too_large(f"{info.st_size / 2**20:.1f} MiB"))


def _target(link: Path) -> str:
    try:
        return repr(os.readlink(link)[:200])
    except OSError:
        return "unreadable"


def _too_large(size: str) -> str:
    return f"too large: {size}, over the {MAX_ENTRY_BYTES >> 20} MiB an entry may take"


def _read_entry(path: Path) -> str:
    """An entry's text. FileNotFoundError when there is none; _Damaged for anything that
    is not a regular file within MAX_ENTRY_BYTES (read no further than that, never blocking)."""
    try:
        info = os.stat(path)  # follows a symbolic link: its target must be an entry
    except FileNotFoundError:
        if not path.is_symlink():
            raise
        dangling = f"cannot read it: a symbolic link to {_target(path)}, which does not exist"
        raise _Damaged(dangling) from None
    _check(path, info)  # before opening: opening a device can have effects
    with open(os.open(path, _OPEN_FLAGS), "rb") as handle:
        _check(path, os.fstat(handle.fileno()))  # it may have been replaced since the stat
        data = handle.read(MAX_ENTRY_BYTES + 1)
    if len(data) > MAX_ENTRY_BYTES:  # it grew since the stat
        raise _Damaged(_too_large("more than that"))
    return data.decode("utf-8")


def _stored_key(path: Path) -> dict[str, Any] | None:
    """The key part of the entry at `path` when it is readable, else None."""
    try:
        stored = json.loads(_read_entry(path))["key"]
    except (OSError, _Damaged, ValueError, KeyError, TypeError, RecursionError):
        return None
    return stored if isinstance(stored, dict) else None


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
    for name in ("served_model", "system_fingerprint"):
        # Absent from entries written before they were kept: those replay without them.
        value = reply.get(name)
        if value is not None and not isinstance(value, str):
            return f"{name} is {str(value)[:40]}, not a name"
    return None


class ResponseCache:
    """Replies on disk under `root`, two-level fan-out so no folder grows huge. No entry is
    written whose text contains one of `secrets` (the run's API keys)."""

    def __init__(self, root: Path, secrets: Iterable[str] = ()) -> None:
        self.root = root
        self._corrupt: dict[Path, str] = {}
        #: Entries that could not be written this run, with why (they are asked next time).
        self.unwritable: dict[Path, str] = {}
        self._secrets: set[str] = set()
        self.forbid(secrets)
        self._index: MissIndex | None = None
        self._index_lock = threading.Lock()
        self._swept = False
        self._sweep_lock = threading.Lock()  # apart: writers need not wait for the index

    def forbid(self, secrets: Iterable[str]) -> None:
        """Never write an entry holding one of `secrets` (credential header values, learnt
        as each endpoint's client is made)."""
        keys = {s.strip() for s in secrets if len(s.strip()) >= MIN_SECRET_CHARS}
        # A key with a quote or a backslash is spelled escaped in the JSON text.
        self._secrets |= keys | {canonical(s)[1:-1] for s in keys}

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
            text = _read_entry(path)
        except FileNotFoundError:
            return None
        except _Damaged as exc:
            self._corrupt[path] = str(exc)
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
            # What was served when the reply was recorded, not now: nothing is asked.
            served_model=reply.get("served_model"),
            fingerprint=reply.get("system_fingerprint"),
            dropped=_dropped(data.get("dropped")),
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
                "served_model": reply.served_model,
                "system_fingerprint": reply.fingerprint,
            },
        }
        if reply.dropped:
            # Not in the key (it is learnt by asking), but said: this reply was asked
            # without parameters the key holds.
            entry["dropped"] = list(reply.dropped)
        text = json.dumps(entry, indent=1, ensure_ascii=False)
        path = self._path(key.digest)
        problem = self._unstorable(text) or _clear_the_way(path)
        if problem is None:
            with self._sweep_lock:
                swept, self._swept = self._swept, True
            if not swept:
                self.remove_orphans()
            try:
                write_atomic(path, text)
            except OSError as exc:
                # A full disk or a read-only cache costs a re-ask next time, not this run.
                problem = exc.strerror or str(exc)
        if problem is not None:
            self.unwritable[path] = problem
            return
        with self._index_lock:
            if self._index is not None:  # as it would read back from the file
                self._index.add(str(path), json.loads(canonical(entry["key"])))

    def _unstorable(self, text: str) -> str | None:
        if any(secret in text for secret in self._secrets):
            return "it would store an API key in clear"  # not which: this goes to CI logs
        size = len(text.encode("utf-8"))
        return _too_large(f"{size / 2**20:.1f} MiB") if size > MAX_ENTRY_BYTES else None

    def remove_orphans(self, older_than: float = ORPHAN_AGE_SECONDS) -> list[Path]:
        """Delete the temporary files of writers killed mid-write (write_atomic removes its own
        on any exception, but SIGTERM and SIGKILL raise none) once they are `older_than`
        seconds old, so a concurrent writer's file is left to be renamed. Done by the first
        `put`: a cache only read (replay) is never modified."""
        removed: list[Path] = []
        cutoff = time.time() - older_than
        try:
            with os.scandir(self.root) as listing:
                folders = [e.path for e in listing if _FOLDER.fullmatch(e.name)]
        except OSError:
            return removed
        for folder in folders:
            try:
                with os.scandir(folder) as listing:
                    found = [e for e in listing if _ENTRY_NAME.fullmatch(_written_for(e.name))]
                for temporary in found:
                    info = temporary.stat(follow_symlinks=False)
                    if stat.S_ISREG(info.st_mode) and info.st_mtime < cutoff:
                        os.unlink(temporary.path)
                        removed.append(Path(temporary.path))
            except OSError:
                continue  # not a folder, or another process removed the file first
        return removed

    def explain_miss(self, key: CacheKey) -> str:
        """Which parts of `key` differ from the closest stored entry (see `misses`): one stored
        when the first miss was explained, or since by this process (not by others)."""
        with self._index_lock:
            if self._index is None:
                self._index = MissIndex(self._stored_keys())
        wanted = key.parts()
        found = self._index.closest(wanted)
        if found is None:
            return f"the cache in {self.root} is empty"
        changes = differences(found[1], wanted)
        if not changes:  # its key is this one, yet it was not replayed
            why = self._corrupt.get(Path(found[0]))
            if why is None:  # it was not there when looked up
                return "an entry with this very key was stored since (by another process?)"
            return f"the entry stored with this very key is unusable: {why}"
        return "the closest cached entry differs in " + "; ".join(changes)

    def _stored_keys(self) -> Iterator[tuple[str, dict[str, Any]]]:
        for path in self.root.glob("*/*.json"):
            stored = _stored_key(path)
            if stored is not None:
                yield str(path), stored


def _dropped(value: object) -> tuple[str, ...]:
    """The parameters an entry says its reply was asked without (none when unreadable)."""
    if not isinstance(value, list):
        return ()
    return tuple(str(name)[:80] for name in value if isinstance(name, str))[:20]


def _clear_the_way(path: Path) -> str | None:
    """Remove a link or special file where the entry goes, or say why the entry cannot go
    there. A rename would replace it too, but write_atomic first copies the mode of what the
    path leads to, and /dev/zero's rw-rw-rw- is no mode for a cache entry."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode):
            return "a directory is where the entry goes"
        if not stat.S_ISREG(mode):
            path.unlink(missing_ok=True)
    except FileNotFoundError:
        return None
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__


def _written_for(name: str) -> str:
    """The entry a temporary file was being written for ("" when it is no temporary file)."""
    return temporary_target(name) or ""


def cache_problem(folder: Path, record: str) -> str | None:
    """Why the cache folder cannot serve this run, checked before anything is asked."""
    if folder.exists() and not folder.is_dir():
        return "it is not a folder"
    if record == "replay":
        # Replay-only asks nothing: with no cache every question would be an error.
        return None if folder.is_dir() else "it does not exist (--abstain-record replay)"
    if not folder.exists():
        return unwritable(folder)
    return None if os.access(folder, os.W_OK | os.X_OK) else "it is not writable"
