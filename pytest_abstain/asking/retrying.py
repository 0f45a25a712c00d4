"""When to ask again, how long to wait, and how many requests to keep in flight (pure).

Transient failures (408, 409, 429, 5xx, dropped connections, timeouts, garbage bodies) are
asked again with exponential back-off and jitter, honouring the endpoint's Retry-After, up to
a bounded number of attempts. Permanent ones (400, 401, 403, 404, 422) are not: asking again
would get the same answer, and cost the same.

A 429 also means "fewer at once": `AdaptiveLimit` halves the number of requests in flight on
each rate-limit answer and climbs back one slot per window of successes (additive increase,
multiplicative decrease, as TCP does), so a rate-limited account converges on what it is
allowed instead of hammering the endpoint.

A timeout lowers the limit as a 429 does: a server that queues what it cannot serve at once
(llama.cpp with 2 slots) answers the last of 16 requests after 8 replies' time, and the
limit converges on its slot count instead of timing all of them out.

A Retry-After is always waited out by the request that got it. It holds up every other
request only when the endpoint is out of budget: when more than half of the latest
`RECENT_ANSWERS` answers were 429s (a per-minute window used up, where every request would
be refused). A gateway that refuses a fraction of requests at random is slowed by the halving
alone; pausing everyone on each of its 429s would stall the run. An endpoint out of budget
that gives no Retry-After (LiteLLM's rpm) pauses everyone on one shared clock that doubles
with each pause until a request succeeds: one probe per pause, instead of every request
retrying on its own clock and burning its attempts.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

#: The longest wait between attempts that back-off alone will choose.
MAX_BACKOFF = 30.0
#: A Retry-After longer than this on a failure other than a 429 (a 503 for maintenance) is
#: not waited out: the request fails. A 429's Retry-After draws on the rate-limit wait
#: (--abstain-rate-limit-wait) instead, so only one past it (a daily quota) fails at once.
MAX_RETRY_AFTER = 60.0
#: How many of the latest answers tell a used-up budget (most are 429s) from random refusals.
#: With 32, when a fifth of requests are refused at random, about one 429 in 10,000 finds most
#: of them 429s; a used-up budget is told after at most 17 of its 429s.
RECENT_ANSWERS = 32
#: The shortest shared pause for a 429 without Retry-After, whatever the back-off setting.
MIN_SHARED_PAUSE = 0.1


@dataclass(frozen=True)
class RetryPolicy:
    """`retries` further attempts after the first, `backoff` seconds before the first retry."""

    retries: int
    backoff: float

    def delay(self, retry: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1-based).

        Jitter spreads the retries of requests that failed together, so they do not come back
        as one burst. The endpoint's Retry-After is a floor, never shortened.
        """
        backoff = min(MAX_BACKOFF, self.backoff * 2.0 ** (retry - 1)) * rng.uniform(0.5, 1.0)
        if not retry_after or retry_after <= 0:
            return backoff
        return max(backoff, retry_after * rng.uniform(1.0, 1.1))

    def gives_up(self, retry_after: float | None, wait_left: float | None = None) -> str | None:
        """Why a Retry-After is not worth waiting for, or None. `wait_left`: what is left of
        a rate-limited request's time budget; None for other failures (MAX_RETRY_AFTER)."""
        if retry_after is None:
            return None
        if wait_left is None:
            if retry_after <= MAX_RETRY_AFTER:
                return None
            return (
                f"the endpoint asks to wait {retry_after:g}s before retrying, "
                f"more than the {MAX_RETRY_AFTER:g}s a run waits"
            )
        if retry_after <= wait_left:
            return None
        return (
            f"the endpoint asks to wait {retry_after:g}s before retrying, more than the "
            f"{max(0.0, wait_left):.0f}s left of the rate-limit wait (--abstain-rate-limit-wait)"
        )


class AdaptiveLimit:
    """At most `limit` requests in flight; the limit adapts to rate-limit answers.

    It starts at `ceiling` (the configured concurrency), since most endpoints take it and a
    slow start would cost every healthy run a few round trips. Only a 429 lowers it, and
    only once per round: the answers of requests sent before the last decrease say nothing
    about the new limit. A 429 with a Retry-After pauses new requests until it has passed
    only while 429s are most of the latest answers (`out_of_budget`). `clock` is injectable
    so tests can decide about pauses without waiting.
    """

    def __init__(
        self,
        ceiling: int,
        clock: Callable[[], float] = time.monotonic,
        backoff: float = 1.0,
        longest_pause: float = MAX_RETRY_AFTER,
    ) -> None:
        self.ceiling = ceiling
        #: The longest Retry-After that pauses every request (the run's rate-limit wait):
        #: a longer one fails the request that got it and must not hold up the others.
        self.longest_pause = longest_pause
        #: The first shared pause for a 429 without Retry-After; it doubles up to MAX_BACKOFF.
        self.backoff = backoff
        self.limit = float(ceiling)
        self.in_flight = 0
        self.decreases = 0
        #: How many times new requests were held back for a Retry-After.
        self.pauses = 0
        self._clock = clock
        self._round = 0
        self._resume_at = 0.0
        #: Shared pauses without a Retry-After since the last success (the doubling).
        self._blind_pauses = 0
        #: The latest answers, True for a 429.
        self._recent: collections.deque[bool] = collections.deque(maxlen=RECENT_ANSWERS)
        self._changed: asyncio.Condition | None = None

    def _condition(self) -> asyncio.Condition:
        # Created lazily so it binds to the asking thread's running loop.
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    def out_of_budget(self) -> bool:
        """More than half of the latest answers were 429s: the endpoint refuses everyone."""
        return sum(self._recent) * 2 > len(self._recent)

    def pause_left(self) -> float:
        """Seconds until new requests may go out again (0 or less: they may now)."""
        return self._resume_at - self._clock()

    async def acquire(self) -> int:
        """Wait for a free slot; returns the round the request is sent in."""
        changed = self._condition()
        async with changed:
            while True:
                pause = self.pause_left()
                if pause > 0:
                    # Released by the clock, not by another request: wait_for with a timeout.
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(changed.wait(), pause)
                    continue
                if self.in_flight < int(self.limit):
                    self.in_flight += 1
                    return self._round
                await changed.wait()

    async def release(
        self,
        sent_in: int,
        *,
        succeeded: bool,
        rate_limited: bool,
        retry_after: float | None,
        timed_out: bool = False,
    ) -> None:
        """Free the slot and adapt: halve on a 429 or a timeout, grow by 1/limit on a
        success, and pause new requests when the endpoint is out of budget."""
        changed = self._condition()
        async with changed:
            self.in_flight -= 1
            self._recent.append(rate_limited)
            if (rate_limited or timed_out) and sent_in == self._round:
                self.limit = max(1.0, self.limit / 2)
                self._round += 1
                self.decreases += 1
            if rate_limited and self.out_of_budget():
                self._pause_for(retry_after)
            elif succeeded:
                self._blind_pauses = 0
                # One more slot after `limit` successes: the additive increase.
                self.limit = min(float(self.ceiling), self.limit + 1 / self.limit)
            # Wake only as many as may start: the whole run can be queued here, and waking
            # every waiter on every release costs quadratic time. Paused waiters wake by
            # their own timeout.
            free = int(self.limit) - self.in_flight
            if free > 0:
                changed.notify(free)

    def _pause_for(self, retry_after: float | None) -> None:
        """Pause new requests for a 429 of an endpoint out of budget: its Retry-After, or
        without one the shared back-off, doubling with each pause until a success."""
        if retry_after is not None:
            # A wait longer than a run waits fails that request (RetryPolicy.gives_up);
            # it must not hold up all the others for a day. "Retry-After: 0" says now.
            if 0 < retry_after <= self.longest_pause:
                self._pause(retry_after)
            return
        if self.pause_left() > 0:
            return  # answers to requests sent before this pause: no new information
        self._blind_pauses += 1
        # A floor: with --abstain-backoff 0 the probes would hammer a used-up window.
        first = max(self.backoff, MIN_SHARED_PAUSE)
        self._pause(min(MAX_BACKOFF, first * 2.0 ** (self._blind_pauses - 1)))

    def _pause(self, retry_after: float) -> None:
        """Hold new requests back until `retry_after` seconds from now, or longer if already."""
        now = self._clock()
        if self._resume_at <= now:
            self.pauses += 1
        self._resume_at = max(self._resume_at, now + retry_after)
