"""Concurrent asking: every reply of a run goes through one event loop in a background thread.

pytest walks items one at a time; the asking runs beside it, so the whole run takes about
ceil(replies / concurrency) x latency instead of replies x latency, and the first items
are answered first because work is submitted in item order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import threading
import time
from collections.abc import Hashable
from dataclasses import dataclass

from .prompts import Message
from .responders import Reply, Responder


@dataclass(frozen=True)
class Progress:
    submitted: int
    done: int
    failed: int
    elapsed: float

    def line(self) -> str:
        """'abstain: asked 240/1000 replies, 48.0/s, 0 failed, about 16s left'."""
        rate = self.done / self.elapsed if self.elapsed > 0 else 0.0
        left = self.submitted - self.done
        eta = f"about {left / rate:.0f}s left" if rate > 0 and left else "finishing"
        return (
            f"abstain: asked {self.done}/{self.submitted} replies, {rate:.1f}/s, "
            f"{self.failed} failed, {eta}"
        )


class Asker:
    """Runs `responder.ask` calls concurrently, at most `concurrency` at a time."""

    def __init__(self, concurrency: int) -> None:
        self.concurrency = concurrency
        self._futures: dict[Hashable, concurrent.futures.Future[Reply]] = {}
        self._responders: dict[int, Responder] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self.done = 0
        self.failed = 0
        self.started_at: float | None = None

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        if self._loop is None:
            loop = asyncio.new_event_loop()
            # Sync user callables run here; sized like the semaphore so it never queues them.
            self._executor = concurrent.futures.ThreadPoolExecutor(
                max_workers=self.concurrency, thread_name_prefix="abstain-ask"
            )
            loop.set_default_executor(self._executor)
            self._thread = threading.Thread(
                target=loop.run_forever, name="abstain-asker", daemon=True
            )
            self._thread.start()
            self._loop = loop
        return self._loop

    def submit(
        self, key: Hashable, responder: Responder, messages: list[Message]
    ) -> concurrent.futures.Future[Reply]:
        """Schedule one request (once per key) and return its future."""
        with self._lock:
            future = self._futures.get(key)
            if future is None:
                if self.started_at is None:
                    self.started_at = time.monotonic()
                loop = self._ensure_loop()
                self._responders.setdefault(id(responder), responder)
                future = asyncio.run_coroutine_threadsafe(self._ask(responder, messages), loop)
                self._futures[key] = future
            return future

    async def _ask(self, responder: Responder, messages: list[Message]) -> Reply:
        if self._semaphore is None:
            self._semaphore = asyncio.Semaphore(self.concurrency)
        async with self._semaphore:
            try:
                reply = await responder.ask(messages)
            except Exception as exc:  # a responder bug must not lose the rest of the run
                reply = Reply.failed(f"{type(exc).__name__}: {exc}")
        self.done += 1
        self.failed += reply.text is None
        return reply

    def progress(self) -> Progress:
        """A snapshot of the asking so far (read from another thread: plain int reads)."""
        elapsed = time.monotonic() - self.started_at if self.started_at is not None else 0.0
        return Progress(len(self._futures), self.done, self.failed, elapsed)

    def close(self) -> None:
        """Cancel what is pending, close the responders and stop the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        for future in self._futures.values():
            future.cancel()

        async def shutdown() -> None:
            for responder in self._responders.values():
                # Closing is best effort at the end of a run.
                with contextlib.suppress(Exception):
                    await responder.aclose()

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(timeout=10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)
        if not thread.is_alive():
            loop.close()
        if self._executor is not None:
            # A sync responder stuck past its timeout must not hold the run open.
            self._executor.shutdown(wait=False, cancel_futures=True)
        self._loop = self._thread = self._executor = None
