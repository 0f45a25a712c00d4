"""Classified retries, back-off, and the adaptive limit, against the loopback server."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Iterator

import pytest
from openai_server import Chaos, FakeOpenAI, Fault

from pytest_abstain.asking.asker import STOP_AFTER_SAME_FAILURES, Asker
from pytest_abstain.asking.responders import CallableResponder, OpenAIResponder, retry_after_of
from pytest_abstain.asking.retrying import (
    MAX_RETRY_AFTER,
    RECENT_ANSWERS,
    AdaptiveLimit,
    RetryPolicy,
)
from pytest_abstain.records import Reply

USER = [{"role": "user", "content": "What is the capital of France?"}]


def question(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question {i}: what is the capital of France?"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI({"France": "Paris."}) as fake:
        yield fake


def ask(
    server: FakeOpenAI,
    messages: list[dict[str, str]],
    *,
    retries: int = 3,
    timeout: float = 5,
    key: str = "sk-1",
) -> Reply:
    asker = Asker(4, RetryPolicy(retries=retries, backoff=0.01))
    try:
        responder = OpenAIResponder("m", server.base_url, key, timeout=timeout)
        return asker.submit(0, responder, messages).result()
    finally:
        asker.close()


# -- the policy and the header -------------------------------------------------------


def test_backoff_doubles_with_jitter_and_respects_retry_after() -> None:
    policy, rng = RetryPolicy(retries=5, backoff=1.0), random.Random(1)
    for retry, ceiling in ((1, 1.0), (2, 2.0), (3, 4.0), (10, 30.0)):
        delays = [policy.delay(retry, None, rng) for _ in range(200)]
        assert all(ceiling / 2 <= d <= ceiling for d in delays)
        assert max(delays) - min(delays) > ceiling / 4  # jittered, not one value
    assert all(3.0 <= policy.delay(1, 3.0, rng) <= 3.3 for _ in range(100))
    # Retry-After is a floor under the back-off, never a way around it.
    assert all(4.0 <= policy.delay(4, 0.02, rng) <= 8.0 for _ in range(100))
    assert all(0.5 <= policy.delay(1, 0.0, rng) <= 1.0 for _ in range(100))
    assert policy.gives_up(MAX_RETRY_AFTER + 1) is not None
    assert policy.gives_up(MAX_RETRY_AFTER) is None


def test_a_rate_limits_retry_after_draws_on_the_rate_limit_wait() -> None:
    policy = RetryPolicy(retries=0, backoff=1.0)
    # A 429 asking for two minutes is waited out while the run's rate-limit wait lasts...
    assert policy.gives_up(120.0, wait_left=600.0) is None
    # ...a daily quota is not, and the message names the option that would change that.
    too_long = policy.gives_up(86_400.0, wait_left=600.0)
    assert too_long is not None and "--abstain-rate-limit-wait" in too_long
    # What is left of the wait counts, not the whole of it.
    assert policy.gives_up(120.0, wait_left=100.0) is not None


def test_a_long_retry_after_pauses_everyone_within_the_rate_limit_wait() -> None:
    async def scenario() -> AdaptiveLimit:
        limit = AdaptiveLimit(8, clock=FakeClock(), longest_pause=600.0)
        await answer(limit, await send(limit, 4), "xxxx", retry_after=120.0)
        return limit

    limit = asyncio.run(scenario())
    assert limit.pauses == 1 and limit.pause_left() == 120.0


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after": "2"}, 2.0),
        ({"retry-after": "0.5"}, 0.5),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        ({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}, 0.0),  # in the past
        ({"retry-after": "soon"}, None),
        ({}, None),
    ],
)
def test_retry_after_header(headers: dict[str, str], seconds: float | None) -> None:
    assert retry_after_of(headers) == seconds


def test_retry_after_as_a_future_http_date() -> None:
    from email.utils import formatdate

    seconds = retry_after_of({"retry-after": formatdate(time.time() + 30, usegmt=True)})
    assert seconds is not None and 28 <= seconds <= 31


# -- classification, one failure class at a time --------------------------------------


@pytest.mark.parametrize("status", [408, 409, 429, 500, 502, 503])
def test_transient_statuses_are_asked_again(server: FakeOpenAI, status: int) -> None:
    server.faults["France"] = Fault(status, f"flaky {status}", times=2, retry_after=0)
    reply = ask(server, USER)
    assert reply.text == "Paris." and reply.attempts == 3
    assert len(server.requests) == 3


@pytest.mark.parametrize("status", [400, 401, 403, 404, 422])
def test_permanent_statuses_fail_fast_with_the_endpoints_message(
    server: FakeOpenAI, status: int
) -> None:
    server.faults["France"] = Fault(status, f"the endpoint says no ({status})")
    reply = ask(server, USER)
    assert reply.text is None and reply.attempts == 1
    assert reply.error == f"HTTP {status} from {server.base_url}: the endpoint says no ({status})"
    assert len(server.requests) == 1


def test_an_exhausted_quota_is_not_waited_for(server: FakeOpenAI) -> None:
    server.faults["France"] = Fault(429, "You exceeded your quota", code="insufficient_quota")
    reply = ask(server, USER)
    assert reply.error is not None and "You exceeded your quota" in reply.error
    assert len(server.requests) == 1


def test_a_retry_after_beyond_the_limit_fails_with_the_reason(server: FakeOpenAI) -> None:
    server.faults["France"] = Fault(429, "slow down", retry_after=3600)
    reply = ask(server, USER)
    assert reply.error is not None and "asks to wait 3600s" in reply.error
    assert len(server.requests) == 1


def test_a_retry_after_beyond_the_limit_does_not_hold_up_the_others(server: FakeOpenAI) -> None:
    server.faults["Question 0:"] = Fault(429, "come back tomorrow", retry_after=86400)
    asker = Asker(1, RetryPolicy(retries=3, backoff=0.01))
    try:
        responder = OpenAIResponder("m", server.base_url, "sk-1", timeout=5)
        first, second = (asker.submit(i, responder, question(i)) for i in range(2))
        assert first.result(timeout=5).error is not None
        assert second.result(timeout=5).text == "Paris."
    finally:
        asker.close()


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("drop", "cannot connect to"),
        ("garbage", "malformed response from"),
        ("hang", "no reply within 1.5s"),
    ],
)
def test_broken_transport_is_retried_then_named(
    server: FakeOpenAI, kind: str, message: str
) -> None:
    server.faults["France"] = Fault(kind=kind, hang=4.0, times=1)  # type: ignore[arg-type]
    assert ask(server, USER, timeout=1.5).text == "Paris."
    server.faults["France"] = Fault(kind=kind, hang=4.0)  # type: ignore[arg-type]
    reply = ask(server, USER, retries=1, timeout=1.5)
    assert reply.text is None and reply.error is not None
    assert message in reply.error and reply.error.endswith("(after 2 attempts)")


def test_retry_after_is_waited_out(server: FakeOpenAI) -> None:
    server.faults["France"] = Fault(429, "slow down", retry_after=0.5, times=1)
    started = time.perf_counter()
    assert ask(server, USER).text == "Paris."
    assert time.perf_counter() - started >= 0.5


def test_a_key_with_a_trailing_newline_is_not_quoted_back(server: FakeOpenAI) -> None:
    key = "sk-live-0123456789abcdef\n"
    reply = ask(server, USER, key=key, retries=0)
    # The HTTP library refuses the header and quotes it, escaped, in its error.
    assert reply.error is not None and "0123456789abcdef" not in reply.error, reply.error


def test_an_echoed_api_key_is_redacted(server: FakeOpenAI) -> None:
    key = "sk-live-0123456789abcdef"
    server.faults["France"] = Fault(401, f"Incorrect API key provided: {key}.")
    reply = ask(server, USER, key=key)
    assert reply.error is not None and key not in reply.error
    assert "Incorrect API key provided: [API key]." in reply.error


# -- the adaptive limit ----------------------------------------------------------------


def test_limit_halves_once_per_round_and_climbs_back() -> None:
    async def scenario() -> AdaptiveLimit:
        limit = AdaptiveLimit(16)
        rounds = [await limit.acquire() for _ in range(16)]
        # Sixteen 429s from requests sent together: one halving, not sixteen.
        for sent_in in rounds:
            await limit.release(sent_in, succeeded=False, rate_limited=True, retry_after=None)
        assert limit.limit == 8 and limit.decreases == 1
        for _ in range(8):  # one window of successes: one more slot
            await limit.release(await limit.acquire(), succeeded=True, rate_limited=False,
                                retry_after=None)  # fmt: skip
        assert 8.9 < limit.limit < 9.1
        return limit

    assert asyncio.run(scenario()).in_flight == 0


def test_retry_after_pauses_new_requests() -> None:
    async def scenario() -> float:
        limit = AdaptiveLimit(4)
        await limit.release(await limit.acquire(), succeeded=False, rate_limited=True,
                            retry_after=0.3)  # fmt: skip
        started = time.perf_counter()
        await limit.acquire()
        return time.perf_counter() - started

    assert asyncio.run(scenario()) >= 0.29


class FakeClock:
    """A clock that moves only when told: pauses are decided without waiting them out."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def send(limit: AdaptiveLimit, count: int) -> list[int]:
    """Take `count` slots at once (one round); fails, rather than waits, if they are not free."""
    assert limit.pause_left() <= 0, "new requests are paused"
    assert limit.in_flight + count <= int(limit.limit), "no free slots"
    return [await limit.acquire() for _ in range(count)]


async def answer(
    limit: AdaptiveLimit, rounds: list[int], outcomes: str, retry_after: float | None = 1.0
) -> None:
    """Answer requests sent in `rounds`, one letter each: "." a success, "x" a 429."""
    for sent_in, outcome in zip(rounds, outcomes, strict=True):
        refused = outcome == "x"
        await limit.release(sent_in, succeeded=not refused, rate_limited=refused,
                            retry_after=retry_after if refused else None)  # fmt: skip


async def one_by_one(limit: AdaptiveLimit, outcomes: str, retry_after: float = 1.0) -> None:
    """Send and answer one request per letter, each after the last was answered."""
    for outcome in outcomes:
        await answer(limit, await send(limit, 1), outcome, retry_after)


def test_random_refusals_halve_the_limit_but_pause_nobody() -> None:
    async def scenario() -> AdaptiveLimit:
        limit = AdaptiveLimit(200, clock=FakeClock())
        await one_by_one(limit, "....x" * 100 + "xx...xx...")  # a fifth, then bursts
        # Half of the latest answers refused is not most of them.
        half = RECENT_ANSWERS // 2
        await one_by_one(limit, "." * RECENT_ANSWERS + "x" * half + "." * half + "x")
        return limit

    limit = asyncio.run(scenario())
    assert limit.pauses == 0 and limit.pause_left() <= 0
    # The halving still slows the run: each 429 came from the latest round.
    assert limit.decreases == 100 + 4 + RECENT_ANSWERS // 2 + 1 and limit.limit < 3


def test_a_used_up_budget_pauses_everyone_until_its_retry_after() -> None:
    clock = FakeClock()

    async def scenario() -> AdaptiveLimit:
        limit = AdaptiveLimit(200, clock=clock)
        half = RECENT_ANSWERS // 2
        rounds = await send(limit, RECENT_ANSWERS + half + 2)
        await answer(limit, rounds[:RECENT_ANSWERS], "." * RECENT_ANSWERS)
        # Half of the latest answers refused: not yet most of them.
        await answer(limit, rounds[RECENT_ANSWERS:-2], "x" * half)
        assert limit.pauses == 0
        await answer(limit, rounds[-2:-1], "x", retry_after=2.0)
        assert limit.pauses == 1 and limit.pause_left() == 2.0
        # A request sent before the pause comes back refused later: the pause runs to its
        # Retry-After, and is still one pause.
        clock.now += 0.5
        await answer(limit, rounds[-1:], "x", retry_after=2.0)
        assert limit.pauses == 1 and limit.pause_left() == 2.0
        clock.now += 2.0
        # The budget is still used up: the first request out is refused and pauses all again.
        await one_by_one(limit, "x", retry_after=1.0)
        assert limit.pauses == 2 and limit.pause_left() == 1.0
        clock.now += 1.0
        # The budget is back: once successes are most of the latest answers, a 429 is one
        # request's own wait again.
        await one_by_one(limit, "." * RECENT_ANSWERS + "x")
        return limit

    limit = asyncio.run(scenario())
    assert limit.pauses == 2 and limit.pause_left() <= 0 and limit.in_flight == 0


@pytest.mark.parametrize("retry_after", [0.0, MAX_RETRY_AFTER + 1])
def test_no_pause_without_a_retry_after_worth_waiting(retry_after: float | None) -> None:
    async def scenario() -> AdaptiveLimit:
        limit = AdaptiveLimit(8, clock=FakeClock())
        await answer(limit, await send(limit, 4), "xxxx", retry_after=retry_after)
        return limit

    limit = asyncio.run(scenario())
    assert limit.pauses == 0 and limit.pause_left() <= 0 and limit.decreases == 1


def run_rate_limited(concurrency: int, adaptive: bool) -> tuple[list[Reply], FakeOpenAI, Asker]:
    fake = FakeOpenAI({"France": "Paris."}, latency=0.05)
    fake.rate_limit = 4
    asker = Asker(concurrency, RetryPolicy(retries=20, backoff=0.02))
    if not adaptive:
        asker.limit.release = _fixed_release(asker.limit)  # type: ignore[method-assign]
    with fake:
        responder = OpenAIResponder("m", fake.base_url, "sk-1", timeout=5)
        try:
            futures = [asker.submit(i, responder, question(i)) for i in range(120)]
            replies = [f.result() for f in futures]
        finally:
            asker.close()
    return replies, fake, asker


def _fixed_release(limit: AdaptiveLimit):  # type: ignore[no-untyped-def]
    """The same limit with its adaptation switched off: a plain semaphore, for comparison."""

    async def release(sent_in: int, **_: object) -> None:
        condition = limit._condition()
        async with condition:
            limit.in_flight -= 1
            condition.notify_all()

    return release


def test_rate_limited_endpoint_converges_instead_of_hammering() -> None:
    replies, fake, asker = run_rate_limited(32, adaptive=True)
    assert [r.text for r in replies] == ["Paris."] * 120  # nothing lost
    adaptive_429s = fake.faults_served["429"]
    assert asker.limit.limit <= 8 and asker.limit.decreases >= 2
    _, fixed, _ = run_rate_limited(32, adaptive=False)
    # A fixed 32 in flight against a limit of 4 keeps drawing 429s; the adaptive limit
    # settles near 4 and draws a fraction of them.
    assert adaptive_429s * 3 < fixed.faults_served["429"], (adaptive_429s, fixed.faults_served)


# -- stopping early ----------------------------------------------------------------------


def test_every_request_failing_alike_stops_the_asking(server: FakeOpenAI) -> None:
    server.faults["*"] = Fault(401, "Incorrect API key provided")
    server.latency = 0.02
    asker = Asker(2, RetryPolicy(retries=3, backoff=0.01))
    try:
        responder = OpenAIResponder("m", server.base_url, "sk-bad", timeout=5)
        futures = [asker.submit(i, responder, question(i)) for i in range(200)]
        deadline = time.monotonic() + 10
        while asker.fatal is None and time.monotonic() < deadline:
            time.sleep(0.01)
        assert asker.fatal == f"HTTP 401 from {server.base_url}: Incorrect API key provided"
        time.sleep(0.1)
        assert sum(f.cancelled() for f in futures) >= 190
        # The replies that explain the stop are kept, not cancelled with the rest.
        failed = [f.result() for f in futures if not f.cancelled()]
        assert len(failed) >= STOP_AFTER_SAME_FAILURES
        assert all(r.error == asker.fatal for r in failed)
        # Nothing submitted after the stop goes out.
        asked = len(server.requests)
        late = [asker.submit(1000 + i, responder, question(1000 + i)) for i in range(20)]
        assert all(f.cancelled() for f in late) and len(server.requests) == asked
        # At most the ones already in flight when it stopped went out after the fifth.
        assert len(server.requests) <= STOP_AFTER_SAME_FAILURES + 2
    finally:
        asker.close()


def test_replies_without_an_answer_do_not_stop_the_asking() -> None:
    asker = Asker(2, RetryPolicy(retries=0, backoff=0.01))
    try:
        responder = CallableResponder(lambda prompt: "", "app", timeout=5)
        futures = [asker.submit(i, responder, question(i)) for i in range(12)]
        assert all(f.result().error for f in futures)  # twelve empty replies, all kept
        assert asker.fatal is None
    finally:
        asker.close()


def test_mixed_failures_do_not_stop_the_asking(server: FakeOpenAI) -> None:
    server.faults["even"] = Fault(400, "bad one")
    server.faults["odd"] = Fault(404, "no such thing")
    asker = Asker(2, RetryPolicy(retries=0, backoff=0.01))
    try:
        responder = OpenAIResponder("m", server.base_url, "sk-1", timeout=5)
        futures = [
            asker.submit(i, responder, [{"role": "user", "content": f"{i} is {p}"}])
            for i, p in enumerate(["even", "odd"] * 15)
        ]
        errors = [f.result().error for f in futures]
        assert asker.fatal is None and all(errors) and len(server.requests) == 30
    finally:
        asker.close()


def test_chaos_is_deterministic_per_seed() -> None:
    faults = [(0.3, Fault(500)), (0.2, Fault(kind="drop"))]
    one, two = Chaos(faults, seed=3), Chaos(faults, seed=3)
    draws = [one.draw() for _ in range(1000)]
    assert draws == [two.draw() for _ in range(1000)]
    assert 250 < sum(d is not None and d.status == 500 and d.kind == "status" for d in draws) < 350
    assert 150 < sum(d is not None and d.kind == "drop" for d in draws) < 250


def test_429s_without_retry_after_pause_everyone_on_one_doubling_clock() -> None:
    """LiteLLM's rpm answers 429 with no Retry-After until its window resets: an endpoint
    out of budget pauses every request on one shared clock, doubling per pause, and a
    success starts the doubling over."""
    clock = FakeClock()

    async def scenario() -> list[float]:
        limit = AdaptiveLimit(8, clock=clock, backoff=1.0)
        pauses = []
        await answer(limit, await send(limit, 4), "xxxx", retry_after=None)
        pauses.append(limit.pause_left())
        for _ in range(2):  # each probe after a pause is refused again
            clock.now += limit.pause_left()
            await answer(limit, await send(limit, 1), "x", retry_after=None)
            pauses.append(limit.pause_left())
        clock.now += limit.pause_left()
        for outcome in "." * RECENT_ANSWERS + "x" * (RECENT_ANSWERS // 2 + 1):
            await answer(limit, await send(limit, 1), outcome, retry_after=None)
        pauses.append(limit.pause_left())
        return pauses

    # Four 429s at once make one pause, not four: the ones sent before it say nothing new.
    assert asyncio.run(scenario()) == [1.0, 2.0, 4.0, 1.0]


def test_a_timeout_halves_the_limit_as_a_429_does() -> None:
    async def scenario() -> AdaptiveLimit:
        limit = AdaptiveLimit(16, clock=FakeClock())
        sent_in = await send(limit, 16)
        for round_ in sent_in:
            await limit.release(
                round_, succeeded=False, rate_limited=False, retry_after=None, timed_out=True
            )
        return limit

    limit = asyncio.run(scenario())
    # Once per round: sixteen timeouts of one round are one sign of congestion.
    assert limit.limit == 8 and limit.decreases == 1 and limit.pauses == 0
