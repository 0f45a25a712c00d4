"""The asker and the responders, without pytest in between."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator

import pytest
from openai_server import FakeOpenAI

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.responders import CallableResponder, OpenAIResponder, display_url

USER = [{"role": "user", "content": "What is the capital of France?"}]


@pytest.fixture
def asker() -> Iterator[Asker]:
    a = Asker(concurrency=4)
    yield a
    a.close()


def test_sync_callables_overlap_in_the_thread_pool(asker: Asker) -> None:
    running, peak, lock = 0, 0, threading.Lock()

    def slow(prompt: str) -> str:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        time.sleep(0.05)
        with lock:
            running -= 1
        return "Paris"

    responder = CallableResponder(slow, None, timeout=5)
    futures = [asker.submit(i, responder, USER) for i in range(8)]
    assert [f.result().text for f in futures] == ["Paris"] * 8
    assert peak == 4  # bounded by the concurrency, and reached


def test_same_key_is_asked_once(asker: Asker) -> None:
    calls = []

    async def app(prompt: str) -> str:
        calls.append(prompt)
        return "Paris"

    responder = CallableResponder(app, "app", timeout=5)
    assert asker.submit("k", responder, USER) is asker.submit("k", responder, USER)
    asker.submit("k", responder, USER).result()
    assert calls == [USER[0]["content"]]


@pytest.mark.parametrize(
    ("fn", "message"),
    [
        (lambda prompt: 42, "returned int, expected str"),
        (lambda prompt: "   ", "returned an empty reply"),
        (lambda prompt: 1 / 0, "raised ZeroDivisionError: division by zero"),
    ],
)
def test_bad_callable_replies_become_errors(asker: Asker, fn: object, message: str) -> None:
    reply = asker.submit(0, CallableResponder(fn, "app", timeout=5), USER).result()  # type: ignore[arg-type]
    assert reply.text is None and reply.error is not None and message in reply.error


def test_slow_callable_times_out_as_an_error(asker: Asker) -> None:
    async def app(prompt: str) -> str:
        await asyncio.sleep(5)
        return "late"

    reply = asker.submit(0, CallableResponder(app, "app", timeout=0.05), USER).result()
    assert reply.error is not None
    assert reply.error.startswith("responder 'app' gave no reply within 0.05s; ")
    # The fix is named: fewer requests at once, or a longer wait.
    assert "--abstain-concurrency" in reply.error and "--abstain-timeout" in reply.error


def test_openai_responder_reads_reply_and_usage(asker: Asker) -> None:
    with FakeOpenAI({"France": "Paris."}) as server:
        responder = OpenAIResponder("m", server.base_url, "sk-1", timeout=5)
        reply = asker.submit(0, responder, USER).result()
        assert reply.text == "Paris." and reply.error is None
        assert reply.prompt_tokens and reply.completion_tokens
        assert server.requests[0]["_headers"]["authorization"] == "Bearer sk-1"


def test_openai_responder_reports_an_unreachable_endpoint(asker: Asker) -> None:
    with FakeOpenAI() as server:
        url = server.base_url
    responder = OpenAIResponder("m", url, "sk-1", timeout=2)
    reply = asker.submit(0, responder, USER).result()
    assert reply.error is not None and reply.error.startswith(f"cannot connect to {url}")


def test_display_url_drops_credentials_and_query() -> None:
    assert display_url("https://user:secret@host:8443/v1/?key=abc#x") == "https://host:8443/v1"


def test_a_stuck_sync_call_does_not_time_out_the_calls_queued_behind_it() -> None:
    asker = Asker(concurrency=2)
    try:

        def app(prompt: str) -> str:
            if "slow" in prompt:
                time.sleep(0.6)
            return "Paris"

        responder = CallableResponder(app, "app", timeout=0.3)
        slow = [asker.submit(i, responder, [{"role": "user", "content": "slow"}]) for i in range(2)]
        fast = [asker.submit(10 + i, responder, USER) for i in range(4)]
        assert [f.result().error is not None for f in slow] == [True, True]
        # The fast calls waited for the stuck threads, but their own clock ran only once
        # a thread picked them up.
        assert [f.result().text for f in fast] == ["Paris"] * 4
    finally:
        asker.close()
