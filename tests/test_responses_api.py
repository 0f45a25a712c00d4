"""--abstain-api responses: the model and the judge asked through OpenAI's Responses API,
against the loopback server, with what the chat path has (the system prompt, samples, the
token cap, structured output for verbal confidence, truncation, the cache key)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from openai_server import FakeOpenAI, Fault

from pytest_abstain.asking.responders import OpenAIResponder, responses_request
from pytest_abstain.records import Message, Reply

SUITE = """
system_prompt: Answer in one word.
samples: 2
questions:
  - {id: capital, question: What is the capital of France?, answer: Paris}
  - {id: birthday, question: "What is Adam Kalai's birthday?", idk: true}
"""


def ask(responder: OpenAIResponder, messages: list[Message], **kw: Any) -> Reply:
    async def once() -> Reply:
        try:
            return await responder.ask(messages, **kw)
        finally:
            await responder.aclose()

    return asyncio.run(once())


def test_a_chat_request_is_translated_to_the_responses_api_s_names() -> None:
    messages: list[Message] = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Capital of France?"},
    ]
    schema = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {}, "strict": True},
    }
    sent = responses_request(
        messages,
        {"max_tokens": 64, "temperature": 0, "seed": 7, "reasoning_effort": "low",
         "response_format": schema},
    )  # fmt: skip
    assert sent["instructions"] == "Be brief."
    assert sent["input"] == [{"role": "user", "content": "Capital of France?"}]
    assert sent["max_output_tokens"] == 64 and sent["temperature"] == 0
    assert sent["reasoning"] == {"effort": "low"}
    assert sent["text"] == {"format": {"type": "json_schema", "name": "answer", "schema": {},
                                       "strict": True}}  # fmt: skip
    assert sent["extra_body"] == {"seed": 7}  # not a keyword of responses.create


def test_the_responses_api_answers_like_the_chat_path(openai_server: FakeOpenAI) -> None:
    openai_server.replies = {"France": "Paris."}
    openai_server.served_model = "fake-model-2026-01-01"
    responder = OpenAIResponder(
        "fake-model", openai_server.base_url, "sk-test", timeout=10, params={"max_tokens": 50},
        api="responses",
    )  # fmt: skip
    reply = ask(responder, [{"role": "system", "content": "One word."},
                            {"role": "user", "content": "Capital of France?"}])  # fmt: skip
    assert reply.text == "Paris." and reply.error is None
    assert reply.completion_tokens == 1 and reply.prompt_tokens
    assert reply.served_model == "fake-model-2026-01-01"
    (request,) = openai_server.requests
    assert request["_api"] == "responses"
    assert request["_responses"]["instructions"] == "One word."
    assert request["_responses"]["max_output_tokens"] == 50
    # Cached apart from the chat path's replies.
    assert responder.params["api"] == "responses"


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(200, kind="truncated"), "cut off at the token limit"),
        (Fault(200, "I cannot help with that.", kind="refusal"), "the model refused"),
        (Fault(401, "Incorrect API key"), "HTTP 401"),
    ],
    ids=["truncated", "refusal", "status"],
)
def test_the_responses_api_s_failures_are_errors_with_their_reason(
    openai_server: FakeOpenAI, fault: Fault, error: str
) -> None:
    openai_server.faults = {"*": fault}
    responder = OpenAIResponder(
        "m", openai_server.base_url, "k", timeout=10, params={"max_tokens": 5}, api="responses"
    )
    reply = ask(responder, [{"role": "user", "content": "Capital of France?"}])
    assert reply.text is None and reply.error is not None and error in reply.error


def test_a_run_through_the_responses_api_grades_and_reports(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_resp=SUITE)
    openai_server.replies = {"France": "Paris", "birthday": "I don't know."}
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-api", "responses", "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    grades = {q["id"]: q["grades"] for q in report["suites"][0]["questions"]}
    assert grades == {"capital": ["correct", "correct"], "birthday": ["abstained", "abstained"]}
    assert len(openai_server.requests) == 4
    assert all(r["_api"] == "responses" for r in openai_server.requests)
    assert all(r["_responses"]["instructions"].startswith("Answer in one word.")
               for r in openai_server.requests)  # fmt: skip


def test_an_unknown_api_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", abstain_resp=SUITE)
    result = pytester.runpytest("--abstain-model", "m", "--abstain-api", "completions")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "--abstain-api" in result.stderr.str()
