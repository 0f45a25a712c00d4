"""Tests of the FakeOpenAI server, driven through the real openai client."""

from __future__ import annotations

import asyncio
import http.client
import json
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from openai_server import FakeOpenAI, Fault, last_user_message

MODEL = "fake-model"


def user(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


def ask(client: openai.OpenAI, text: str) -> str:
    completion = client.chat.completions.create(model=MODEL, messages=user(text))
    return completion.choices[0].message.content or ""


@pytest.fixture
def srv() -> Iterator[FakeOpenAI]:
    with FakeOpenAI({"capital of France": "Paris", "capital": "Some city"}) as server:
        yield server


@pytest.fixture
def client(srv: FakeOpenAI) -> Iterator[openai.OpenAI]:
    # max_retries=0 so every injected fault reaches the test as an exception.
    with openai.OpenAI(base_url=srv.base_url, api_key="test-key", max_retries=0) as c:
        yield c


def raw_request(srv: FakeOpenAI, method: str, path: str, body: bytes | None = None) -> Any:
    """Send one request with http.client, for things the openai client won't send."""
    conn = http.client.HTTPConnection("127.0.0.1", urlsplit(srv.base_url).port, timeout=5)
    try:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def test_reply_chosen_by_first_matching_substring(srv: FakeOpenAI, client: openai.OpenAI) -> None:
    assert ask(client, "What is the capital of France?") == "Paris"
    assert ask(client, "What is the capital of Peru?") == "Some city"


def test_only_last_user_message_decides(client: openai.OpenAI) -> None:
    messages: list[ChatCompletionMessageParam] = [
        {"role": "system", "content": "capital of France"},
        {"role": "user", "content": "capital of France"},
        {"role": "assistant", "content": "Paris"},
        {"role": "user", "content": "And the moon?"},
    ]
    completion = client.chat.completions.create(model=MODEL, messages=messages)
    assert completion.choices[0].message.content == "I don't know."


def test_default_reply() -> None:
    with (
        FakeOpenAI(default_reply="No idea.") as srv,
        openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as client,
    ):
        assert ask(client, "anything") == "No idea."


def test_responder_takes_precedence() -> None:
    seen: list[list[dict[str, Any]]] = []

    def responder(messages: list[dict[str, Any]]) -> str:
        seen.append(messages)
        return f"{len(messages)} messages, last: {last_user_message(messages)}"

    with (
        FakeOpenAI({"hi": "ignored"}, responder=responder) as srv,
        openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as client,
    ):
        assert ask(client, "hi there") == "1 messages, last: hi there"
    assert seen == [user("hi there")]


def test_completion_is_well_formed(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(model="my-model", messages=user("capital"))
    assert completion.object == "chat.completion"
    assert completion.model == "my-model"
    assert completion.id
    choice = completion.choices[0]
    assert (choice.index, choice.finish_reason) == (0, "stop")
    assert choice.message.role == "assistant"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens > 0
    assert completion.usage.completion_tokens > 0
    assert completion.usage.total_tokens == (
        completion.usage.prompt_tokens + completion.usage.completion_tokens
    )


def test_request_body_and_headers_recorded(srv: FakeOpenAI, client: openai.OpenAI) -> None:
    client.chat.completions.create(model=MODEL, messages=user("capital"), temperature=0)
    (request,) = srv.requests
    assert request["model"] == MODEL
    assert request["messages"] == user("capital")
    assert request["temperature"] == 0
    assert request["_headers"]["authorization"] == "Bearer test-key"
    assert request["_headers"]["content-type"] == "application/json"


def test_fault_once_then_success(srv: FakeOpenAI, client: openai.OpenAI) -> None:
    srv.faults["*"] = Fault(429, "slow down", times=1)
    with pytest.raises(openai.RateLimitError) as info:
        ask(client, "capital of France")
    assert info.value.status_code == 429
    assert isinstance(info.value.body, dict)
    assert info.value.body["message"] == "slow down"
    assert ask(client, "capital of France") == "Paris"
    assert srv.faults["*"].times == 0


def test_server_error_fault(srv: FakeOpenAI, client: openai.OpenAI) -> None:
    srv.faults["*"] = Fault(500)
    with pytest.raises(openai.InternalServerError):
        ask(client, "capital")
    with pytest.raises(openai.InternalServerError):
        ask(client, "capital")


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (400, openai.BadRequestError),
        (401, openai.AuthenticationError),
        (429, openai.RateLimitError),
        (503, openai.InternalServerError),
    ],
)
def test_fault_status_maps_to_client_error(
    srv: FakeOpenAI, client: openai.OpenAI, status: int, error: type[openai.APIStatusError]
) -> None:
    srv.faults["*"] = Fault(status)
    with pytest.raises(error):
        ask(client, "capital")


def test_fault_matches_by_substring(srv: FakeOpenAI, client: openai.OpenAI) -> None:
    srv.faults["France"] = Fault(503)
    with pytest.raises(openai.InternalServerError):
        ask(client, "capital of France")
    assert ask(client, "capital of Peru") == "Some city"


def test_client_retry_honours_retry_after(srv: FakeOpenAI) -> None:
    srv.faults["*"] = Fault(429, retry_after=0.2, times=1)
    with openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=1) as client:
        start = time.perf_counter()
        assert ask(client, "capital of France") == "Paris"
        elapsed = time.perf_counter() - start
    assert elapsed >= 0.2
    retry_counts = [r["_headers"]["x-stainless-retry-count"] for r in srv.requests]
    assert retry_counts == ["0", "1"]


def test_concurrent_requests_overlap(srv: FakeOpenAI) -> None:
    async def run() -> None:
        async with openai.AsyncOpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as client:
            # Warm up first: the client's first call pays one-off import costs.
            await client.chat.completions.create(model=MODEL, messages=user("warm up"))
            # Long enough that all 10 are in flight at once even on a loaded 2-core machine,
            # where the client spends a few ms of CPU per request (0.1 s once saw only 9).
            srv.latency = 0.5
            srv.reset_stats()
            await asyncio.gather(
                *(
                    client.chat.completions.create(model=MODEL, messages=user(f"q{i}"))
                    for i in range(10)
                )
            )

    asyncio.run(run())
    assert srv.peak_in_flight == 10  # all at once: one after another would keep 1 in flight
    assert len(srv.requests) == 10
    assert srv.in_flight == 0


def test_reset_stats(srv: FakeOpenAI, client: openai.OpenAI) -> None:
    ask(client, "capital")
    assert srv.peak_in_flight == 1
    srv.reset_stats()
    assert (srv.requests, srv.peak_in_flight) == ([], 0)


def test_models_list(client: openai.OpenAI) -> None:
    assert any(model.id == MODEL for model in client.models.list())


def test_unknown_path_and_bad_json(srv: FakeOpenAI) -> None:
    status, body = raw_request(srv, "GET", "/v1/nothing")
    assert status == 404
    assert "message" in body["error"]
    status, body = raw_request(srv, "POST", "/v1/chat/completions", b"{not json")
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error"


def test_stop_is_prompt_with_idle_keepalive_connection() -> None:
    srv = FakeOpenAI().start()
    with openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0) as client:
        ask(client, "open a pooled connection")
        start = time.perf_counter()
        srv.stop()
        assert time.perf_counter() - start < 2


def test_stop_is_prompt_during_a_slow_request() -> None:
    srv = FakeOpenAI(latency=30).start()
    errors: list[BaseException] = []
    client = openai.OpenAI(base_url=srv.base_url, api_key="k", max_retries=0)

    def call() -> None:
        try:
            ask(client, "slow")
        except openai.APIConnectionError as exc:
            errors.append(exc)

    thread = threading.Thread(target=call)
    thread.start()
    deadline = time.monotonic() + 5
    while srv.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    start = time.perf_counter()
    srv.stop()
    assert time.perf_counter() - start < 2
    thread.join(timeout=5)
    client.close()
    assert len(errors) == 1


def test_last_user_message() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "first"},
        {
            "role": "user",
            "content": [{"type": "text", "text": "part one"}, {"type": "text", "text": "two"}],
        },
        {"role": "assistant", "content": "reply"},
    ]
    assert last_user_message(messages) == "part one\ntwo"
    assert last_user_message([{"role": "system", "content": "x"}]) == ""
