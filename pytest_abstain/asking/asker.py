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
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ..records import TIMEOUT_FIX, Message, Reply
from ..settings.defaults import DEFAULT_RATE_LIMIT_WAIT
from ..shown import counted
from .pacing import Pacer, Sent
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
    #: Requests asked more than once (not their attempts).
    retried: int
    elapsed: float

    def line(self) -> str:
        """'abstain: asked 240/1000 replies, 48.0/s, 0 failed, 3 retried, about 16s left'.

        Below one reply a second the rate is per minute ('12.0/min'), and below one a
        minute it is minutes per reply, so a slow endpoint never shows '0.0/s'."""
        rate = self.done / self.elapsed if self.elapsed > 0 else 0.0
        left = self.submitted - self.done
        eta = f"about {_duration(left / rate)} left" if rate > 0 and left else "finishing"
        retried = f"{self.retried} retried, " if self.retried else ""
        return (
            f"abstain: asked {self.done}/{self.submitted} replies, {_rate(rate)}, "
            f"{self.failed} failed, {retried}{eta}"
        )


def _rate(per_second: float) -> str:
    if per_second >= 1 or per_second == 0:
        return f"{per_second:.1f}/s"
    if per_second * 60 >= 1:
        return f"{per_second * 60:.1f}/min"
    return f"{1 / per_second / 60:.1f} min per reply"


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f}s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def timeout_hint(concurrency: int, timeout: float | None) -> str:
    """What to change when replies time out: a slow server queues what it cannot serve at
    once, so fewer requests in flight, or a longer wait, gets the replies."""
    longer = f" (now {timeout:g}s)" if timeout is not None else ""
    return (
        f"the endpoint may serve fewer than {concurrency} requests at once: {TIMEOUT_FIX}{longer}"
    )


def timeout_line(replies: int) -> str:
    """The summary's line about replies lost to timeouts."""
    replies_timed_out = counted(replies, "reply", "replies") + " timed out"
    return (
        f"{replies_timed_out}: the endpoint serves fewer requests at once than were "
        f"sent; {TIMEOUT_FIX}"
    )


class Asker:
    """Runs `responder.ask` calls concurrently, at most `concurrency` at a time, retrying
    transient failures under `retry`, within the `pacer`'s rate budgets.

    A rate-limited request is asked again until it has waited `rate_limit_wait` seconds,
    whatever `retry.retries` says: a rate limit slows a run down, it does not lose replies.
    """

    def __init__(
        self,
        concurrency: int,
        retry: RetryPolicy | None = None,
        *,
        pacer: Pacer | None = None,
        model_pacers: Mapping[str, Pacer] | None = None,
        rate_limit_wait: float = DEFAULT_RATE_LIMIT_WAIT,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.concurrency = concurrency
        self.retry = retry or RetryPolicy(retries=0, backoff=1.0)
        self.limit = AdaptiveLimit(
            concurrency, backoff=self.retry.backoff, longest_pause=rate_limit_wait
        )
        self.pacer = pacer if pacer is not None and pacer.active else None
        #: A model's own budgets, kept besides the run's (`pacer`): both must have room.
        self.model_pacers = {
            model: each for model, each in (model_pacers or {}).items() if each.active
        }
        self.rate_limit_wait = rate_limit_wait
        self._clock = clock
        #: Requests that needed more than one attempt (`retries` counts the attempts).
        self.retried = 0
        #: Replies lost to a timeout, for the summary's hint.
        self.timed_out = 0
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
        attempts = 0
        retry = 0  # retries of failures other than rate limits: those count against a time
        limited_since: float | None = None
        wait_left: float | None = None  # of the rate-limit wait, once rate-limited
        while True:
            reply = await self._attempt(responder, messages, response_format)
            attempts += 1
            if not reply.transient or self.fatal:
                break
            if reply.rate_limited:
                now = self._clock()
                limited_since = now if limited_since is None else limited_since
                wait_left = self.rate_limit_wait - (now - limited_since)
                if wait_left <= 0:
                    waited = f"still rate-limited after {now - limited_since:.0f}s of waiting"
                    reply = dataclasses.replace(
                        reply, error=f"{reply.error}; {waited} (--abstain-rate-limit-wait)"
                    )
                    break
            elif retry >= self.retry.retries:
                break
            else:
                retry += 1
            limited_wait = wait_left if reply.rate_limited else None
            if giving_up := self.retry.gives_up(reply.retry_after, limited_wait):
                reply = dataclasses.replace(reply, error=f"{reply.error}; {giving_up}")
                break
            self.retries += 1
            if attempts == 1:
                self.retried += 1
            await asyncio.sleep(self._delay(reply, attempts))
        if reply.timed_out:
            self.timed_out += 1
            hint = timeout_hint(self.concurrency, getattr(responder, "timeout", None))
            reply = dataclasses.replace(reply, error=f"{reply.error}; {hint}")
        if attempts > 1:
            reply = dataclasses.replace(reply, attempts=attempts)
            if reply.error is not None:
                reply = dataclasses.replace(
                    reply, error=f"{reply.error} (after {attempts} attempts)"
                )
        self._finished(reply)
        if store is not None:
            # The reply matters more than keeping it: a storing bug must not lose it.
            with contextlib.suppress(Exception):
                store(reply)
        return reply

    def _delay(self, reply: Reply, attempts: int) -> float:
        """Seconds before asking again. While the endpoint is out of budget, the limit's
        shared pause holds every request (acquire), this one included: its own clock would
        only add to it."""
        if reply.rate_limited and self.limit.pause_left() > 0:
            return 0.0
        return self.retry.delay(attempts, reply.retry_after, self._rng)

    async def _attempt(
        self,
        responder: Responder,
        messages: list[Message],
        response_format: dict[str, Any] | None,
    ) -> Reply:
        """One request, inside a slot of the adaptive limit and the pacer's budgets."""
        sent_in = await self.limit.acquire()
        admitted: list[tuple[Pacer, Sent]] = []
        chars = sum(len(str(m.get("content") or "")) for m in messages)
        for pacer in self._pacers_of(responder):
            if self.fatal:
                break
            admitted.append((pacer, await pacer.admit(pacer.estimate(chars))))
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
            for pacer, sent in admitted:
                pacer.settle(sent, reply.prompt_tokens, reply.completion_tokens)
            await self.limit.release(
                sent_in,
                succeeded=reply.text is not None,
                rate_limited=reply.rate_limited,
                retry_after=reply.retry_after,
                timed_out=reply.timed_out,
            )
        return reply

    def _pacers_of(self, responder: Responder) -> list[Pacer]:
        """The budgets a request of `responder` must fit: the run's, and its model's own."""
        own = self.model_pacers.get(getattr(responder, "model", None) or "")
        return [pacer for pacer in (self.pacer, own) if pacer is not None]

    def _finished(self, reply: Reply) -> None:
        """Count the reply; stop the run when nothing works and everything fails alike."""
        self.done += 1
        if reply.text is not None:
            self.succeeded += 1
            return
        self.failed += 1
        # Only failures waiting cannot fix: a rate limit or a timeout on the first replies
        # (a run started in a used-up window, a slow server) says "later", not "never".
        if self.succeeded or self.fatal or reply.error is None or not reply.unfixable:
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
        return Progress(len(self._futures), self.done, self.failed, self.retried, elapsed)

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
