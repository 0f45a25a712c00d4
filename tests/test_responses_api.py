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
        (Fault(200, kind="truncated"), "the reply was cut off at"),
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


STATED = """
verbal_confidence: true
questions:
  - {id: capital, question: Capital of France?, answer: Paris}
  - {id: birthday, question: "Kalai's birthday?", idk: true}
"""


def test_verbal_confidence_through_the_responses_api_reads_the_stated_confidence(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_stated=STATED)
    openai_server.replies = {
        "France": '{"answer": "Paris", "confidence": 0.9}',
        "birthday": '{"answer": "I don\'t know", "confidence": 0.1}',
    }
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-api", "responses", "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret == 0, result.stdout.str()
    # The JSON Schema went as the Responses API's text.format, not as response_format.
    for request in openai_server.requests:
        assert request["_api"] == "responses"
        text_format = request["_responses"]["text"]["format"]
        assert text_format["type"] == "json_schema"
        assert text_format["schema"]["required"] == ["answer", "confidence"]
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    stated = {q["id"]: (q["grades"], q["confidences"]) for q in report["suites"][0]["questions"]}
    assert stated == {"capital": (["correct"], [0.9]), "birthday": (["abstained"], [0.1])}


MODEL_SETTINGS = """
[pytest]
abstain_model_settings =
    [m-responses] api = responses
"""


def test_the_api_is_chosen_per_model_and_the_command_line_wins(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_resp=SUITE)
    pytester.makeini(MODEL_SETTINGS)
    openai_server.replies = {"France": "Paris", "birthday": "I don't know."}
    models = ("--abstain-model", "m-chat", "--abstain-model", "m-responses")
    result = pytester.runpytest(*models, "--abstain-base-url", openai_server.base_url)
    assert result.ret == 0, result.stdout.str()
    apis = {(r["model"], r.get("_api", "chat")) for r in openai_server.requests}
    assert apis == {("m-chat", "chat"), ("m-responses", "responses")}
    openai_server.requests.clear()
    result = pytester.runpytest(
        *models, "--abstain-base-url", openai_server.base_url, "--abstain-api", "chat"
    )
    assert result.ret == 0, result.stdout.str()
    assert {r.get("_api", "chat") for r in openai_server.requests} == {"chat"}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("api = responses", "for every model use abstain_api"),
        ("[m] api = completions", "[m] api = completions"),
        ("[m] rpm = -3", "[m] rpm = -3"),
        ("[m] temperature = 0", "'temperature' is not a per-model setting"),
    ],
)
def test_a_bad_model_settings_line_is_a_usage_error_naming_it(
    pytester: pytest.Pytester, line: str, problem: str
) -> None:
    pytester.makefile(".yaml", abstain_resp=SUITE)
    pytester.makeini(f"[pytest]\nabstain_model_settings =\n    {line}\n")
    result = pytester.runpytest("--abstain-model", "m")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "abstain_model_settings (ini)" in err and problem in err


def test_model_settings_lines_give_each_model_its_api_and_budgets() -> None:
    from pytest_abstain.settings import resolve
    from pytest_abstain.settings.per_model import ModelSettings

    lines = ("[a] api = responses", "# a comment", "[a] rpm = 500", "[b] tpm = 40000", "")
    settings = resolve({}, {}, None, (), model_lines=lines)
    assert settings.model_settings == {
        "a": ModelSettings(api="responses", rpm=500),
        "b": ModelSettings(tpm=40000),
    }
    assert (settings.api_for("a"), settings.api_for("b")) == ("responses", "chat")
    ini_wide = resolve({}, {"api": "responses"}, None, (), model_lines=("[a] api = chat",))
    assert (ini_wide.api_for("a"), ini_wide.api_for("b")) == ("chat", "responses")
