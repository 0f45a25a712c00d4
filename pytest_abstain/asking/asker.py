"""Concurrent asking: every reply of a run goes through one event loop in a background thread.

pytest walks items one at a time; the asking runs beside it, so the whole run takes about
ceil(replies / concurrency) x latency instead of replies x latency, and the first items
are answered first because work is submitted in item order.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import random
import threading
import time
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from typing import Any

from ..records import Message, Reply
from .responders import Responder
from .retrying import AdaptiveLimit, RetryPolicy

#: A run stops when its first this-many replies all failed with one and the same reason
#: (a wrong key, model or URL) and none succeeded: the rest would only repeat it.
STOP_AFTER_SAME_FAILURES = 5
STOP_PREFIX = "abstain: stopped early"


def same_failure_stop(succeeded: int, first_failures: Sequence[str]) -> str | None:
    """Why to stop asking, or None: nothing succeeded and the first failed requests (at
    least STOP_AFTER_SAME_FAILURES of them) all failed with one and the same reason.

    The one rule for a process's own asking and for the xdist controller, which pools the
    workers' tallies so the run stops on the same count whatever the number of workers."""
    if succeeded or len(first_failures) < STOP_AFTER_SAME_FAILURES:
        return None
    return first_failures[0] if len(set(first_failures)) == 1 else None


@dataclass(frozen=True)
class Tally:
    """How a process's asking went so far, as far as stopping early is concerned."""

    succeeded: int
    #: The failed requests since the last mixed batch, while nothing succeeded.
    first_failures: tuple[str, ...]


def stop_message(reason: str) -> str:
    """Why the run stopped asking, for the summary and the suites' gates."""
    return (
        f"{STOP_PREFIX}: the first {STOP_AFTER_SAME_FAILURES} replies all failed the same way "
        f"and none succeeded, so the rest were not asked: {reason}"
    )


def not_asked_text(reason: str) -> str:
    """The error of each question the stop left unasked."""
    return (
        f"not asked: the first {STOP_AFTER_SAME_FAILURES} replies all failed the same way: {reason}"
    )


@dataclass(frozen=True)
class Progress:
    submitted: int
    done: int
    failed: int
    retries: int
    elapsed: float

    def line(self) -> str:
        """'abstain: asked 240/1000 replies, 48.0/s, 0 failed, 3 retried, about 16s left'."""
        rate = self.done / self.elapsed if self.elapsed > 0 else 0.0
        left = self.submitted - self.done
        eta = f"about {left / rate:.0f}s left" if rate > 0 and left else "finishing"
        retried = f"{self.retries} retried, " if self.retries else ""
        return (
            f"abstain: asked {self.done}/{self.submitted} replies, {rate:.1f}/s, "
            f"{self.failed} failed, {retried}{eta}"
        )


class Asker:
    """Runs `responder.ask` calls concurrently, at most `concurrency` at a time, retrying
    transient failures under `retry`."""

    def __init__(self, concurrency: int, retry: RetryPolicy | None = None) -> None:
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy(retries=0, backoff=1.0)
        self.limit = AdaptiveLimit(concurrency)
        self._futures: dict[Hashable, concurrent.futures.Future[Reply]] = {}
        self._responders: dict[int, Responder] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._rng = random.Random()
        self.done = 0
        self.failed = 0
        self.retries = 0
        self.succeeded = 0
        self._first_failures: list[str] = []
        #: Set when the run should stop: every reply so far failed the same way.
        self.fatal: str | None = None
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
        self,
        key: Hashable,
        responder: Responder,
        messages: list[Message],
        store: Callable[[Reply], None] | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> concurrent.futures.Future[Reply]:
        """Schedule one request (once per key) and return its future.

        `store` gets the reply before the future completes, so whoever waits on the future
        finds it stored (the response cache) - a done-callback would race with them.
        """
        with self._lock:
            future = self._futures.get(key)
            if future is None and self.fatal:
                future = concurrent.futures.Future()
                future.cancel()  # the run is stopping: nothing more is asked
                return future
            if future is None:
                if self.started_at is None:
                    self.started_at = time.monotonic()
                loop = self._ensure_loop()
                self._responders.setdefault(id(responder), responder)
                future = asyncio.run_coroutine_threadsafe(
                    self._ask(responder, messages, store, response_format), loop
                )
                self._futures[key] = future
            return future

    async def _ask(
        self,
        responder: Responder,
        messages: list[Message],
        store: Callable[[Reply], None] | None = None,
        response_format: dict[str, Any] | None = None,
    ) -> Reply:
        retry = 0
        while True:
            reply = await self._attempt(responder, messages, response_format)
            if not reply.transient or retry >= self.retry.retries or self.fatal:
                break
            if giving_up := self.retry.gives_up(reply.retry_after):
                reply = dataclasses.replace(reply, error=f"{reply.error}; {giving_up}")
                break
            retry += 1
            self.retries += 1
            await asyncio.sleep(self.retry.delay(retry, reply.retry_after, self._rng))
        if retry:
            reply = dataclasses.replace(reply, attempts=retry + 1)
            if reply.error is not None:
                reply = dataclasses.replace(
                    reply, error=f"{reply.error} (after {retry + 1} attempts)"
                )
        self._finished(reply)
        if store is not None:
            # The reply matters more than keeping it: a storing bug must not lose it.
            with contextlib.suppress(Exception):
                store(reply)
        return reply

    async def _attempt(
        self,
        responder: Responder,
        messages: list[Message],
        response_format: dict[str, Any] | None,
    ) -> Reply:
        """One request, inside a slot of the adaptive limit."""
        sent_in = await self.limit.acquire()
        if self.fatal:
            # The run is stopping: nothing more goes out, and the future ends cancelled.
            await self.limit.release(sent_in, succeeded=False, rate_limited=False, retry_after=None)
            raise asyncio.CancelledError
        reply = Reply.failed("not asked")
        try:
            reply = await responder.ask(messages, response_format)
        except Exception as exc:  # a responder bug must not lose the rest of the run
            reply = Reply.failed(f"{type(exc).__name__}: {exc}", request_failed=True)
        finally:
            await self.limit.release(
                sent_in,
                succeeded=reply.text is not None,
                rate_limited=reply.rate_limited,
                retry_after=reply.retry_after,
            )
        return reply

    def _finished(self, reply: Reply) -> None:
        """Count the reply; stop the run when nothing works and everything fails alike."""
        self.done += 1
        if reply.text is not None:
            self.succeeded += 1
            return
        self.failed += 1
        if self.succeeded or self.fatal or reply.error is None or not reply.request_failed:
            return
        self._first_failures.append(reply.error)
        stop = same_failure_stop(self.succeeded, self._first_failures)
        if stop is not None:
            self.stop(stop)
        elif len(self._first_failures) >= STOP_AFTER_SAME_FAILURES:
            self._first_failures.clear()  # mixed failures: a real run with problems

    def stop(self, reason: str) -> None:
        """Ask nothing more: every request still queued sees this before it goes out
        (_attempt), and later submissions end cancelled. The first reason stays."""
        if self.fatal is None:
            self.fatal = reason

    def tally(self) -> Tally:
        return Tally(self.succeeded, tuple(self._first_failures))

    def progress(self) -> Progress:
        """A snapshot of the asking so far (read from another thread: plain int reads)."""
        elapsed = time.monotonic() - self.started_at if self.started_at is not None else 0.0
        return Progress(len(self._futures), self.done, self.failed, self.retries, elapsed)

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
