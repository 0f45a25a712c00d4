"""Generation parameters of the model under test: checks, precedence, the default token cap,
what reaches the endpoint, refused parameters, truncated replies, and secret headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openai_server import FakeOpenAI, Fault

from pytest_abstain import generation
from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.cache import CacheKey, ResponseCache
from pytest_abstain.asking.endpoints import Endpoints, SetupError
from pytest_abstain.asking.responders import OpenAIResponder
from pytest_abstain.records import Reply
from pytest_abstain.render.json_report import report_schema
from pytest_abstain.settings import RunSettings, SettingsError, resolve
from pytest_abstain.suite import SuiteError, load_suite

USER = [{"role": "user", "content": "What is the capital of France?"}]
TOKEN = "tok-gateway-secret-0123456789"


@pytest.fixture
def asker() -> Iterator[Asker]:
    a = Asker(concurrency=1)
    yield a
    a.close()


def settings(
    cli: dict[str, Any] | None = None,
    ini: dict[str, str] | None = None,
    lines: tuple[str, ...] = (),
) -> RunSettings:
    return resolve(cli or {}, ini or {}, None, (), generation_lines=lines)


# -- checks and precedence ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"temperature": 2.5}, "generation.temperature: must be a number [0, 2], got 2.5"),
        ({"top_p": -0.1}, "generation.top_p: must be a number [0, 1]"),
        ({"max_tokens": -1}, "generation.max_tokens: must be a whole number from 0 up"),
        ({"max_tokens": 1.5}, "generation.max_tokens: must be a whole number"),
        ({"seed": "7"}, "generation.seed: must be a whole number"),
        ({"temperature": True}, "generation.temperature: must be a number"),
        ({"reasoning_effort": "huge"}, "generation.reasoning_effort: must be one of none,"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "generation.stop: must be a string or a list"),
        ({"extra_body": ["x"]}, "generation.extra_body: must be a mapping"),
        ({"temprature": 0}, "generation.temprature: not a generation parameter"),
    ],
)
def test_bad_values_are_named_with_their_key(params: dict[str, Any], expected: str) -> None:
    [problem] = generation.problems(params, "generation")
    assert problem.startswith(expected)


def test_a_bad_header_is_named_without_quoting_its_values() -> None:
    [problem] = generation.problems({"extra_headers": {"Authorization": 5}}, "generation")
    assert "Authorization" in problem and "5" not in problem.replace("Authorization", "")


def test_precedence_is_command_line_then_suite_then_the_models_ini_lines_then_the_ini() -> None:
    run = settings(
        cli={"seed": 5},
        ini={"temperature": "0.9", "top_p": "0.5"},
        lines=(
            "stop = ['END']",
            "extra_headers = {X-Team: honesty}",
            "[m] temperature = 0.7",
            "[m] seed = 1",
            "[other] temperature = 0.1",
        ),
    )
    suite = {"temperature": 0.2, "extra_headers": {"X-Route": "canary"}}
    assert run.generation_for("m", suite) == {
        "max_tokens": generation.DEFAULT_MAX_TOKENS,
        "temperature": 0.2,  # the suite over the model's ini line
        "top_p": 0.5,  # the ini twin
        "seed": 5,  # the command line over the model's ini line
        "stop": ["END"],
        "extra_headers": {"X-Team": "honesty", "X-Route": "canary"},  # merged key by key
    }
    assert run.generation_for("m", None)["temperature"] == 0.7
    assert run.generation_for("other", None)["temperature"] == 0.1
    assert run.generation_for("third", None)["temperature"] == 0.9


def test_the_default_cap_is_sent_unless_set_and_0_sends_none() -> None:
    assert settings().generation_for("m", None) == {"max_tokens": 1024}
    assert settings(cli={"max_tokens": 64}).generation_for("m", None) == {"max_tokens": 64}
    assert settings(cli={"max_tokens": 0}).generation_for("m", {"max_tokens": 9}) == {}
    assert settings().generation_for("m", {"max_tokens": 0}) == {}


@pytest.mark.parametrize(
    ("cli", "lines", "expected"),
    [
        ({"temperature": 3.0}, (), "--abstain-temperature: must be a number [0, 2], got 3.0"),
        ({"reasoning_effort": "max"}, (), "--abstain-reasoning-effort: must be one of"),
        ({}, ("temperature 0.2",), "abstain_generation (ini): 'temperature 0.2': expected"),
        ({}, ("[m temperature = 1",), "expected [model] name = value"),
        ({}, ("[m] top_p = 7",), "abstain_generation (ini) [m].top_p: must be a number [0, 1]"),
    ],
)
def test_bad_settings_are_usage_errors(
    cli: dict[str, Any], lines: tuple[str, ...], expected: str
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        settings(cli=cli, lines=lines)
    assert expected in str(excinfo.value)


def test_a_suite_with_a_bad_parameter_is_a_suite_error(tmp_path: Path) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_text(
        "generation: {temperature: 0.5, max_tokens: -3}\n"
        "questions: [{id: a, question: Capital of France?, answer: Paris}]\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path, label="abstain_x.yaml")
    assert excinfo.value.render() == (
        "abstain_x.yaml: generation.max_tokens: must be a whole number from 0 up, got -3"
    )
    path.write_text(
        "generation: 0.5\nquestions: [{id: a, question: Capital of France?, answer: Paris}]\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match="generation: must be a mapping of generation"):
        load_suite(path, label="abstain_x.yaml")


# -- secrets ------------------------------------------------------------------------------


def test_credential_headers_are_redacted_wherever_shown_and_read_from_the_environment() -> None:
    params = {"extra_headers": {"Authorization": "Bearer ${GW}", "X-Route": "canary"}}
    sent = generation.expanded(params, {"GW": TOKEN})
    assert sent["extra_headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert generation.shown(sent)["extra_headers"] == {
        "Authorization": "[redacted]",
        "X-Route": "canary",
    }
    assert TOKEN in generation.secrets(sent)
    with pytest.raises(ValueError, match=r"\$\{GW\} names an unset environment variable"):
        generation.expanded(params, {})


def test_an_unset_header_variable_is_a_set_up_error() -> None:
    endpoints = Endpoints(settings(), {})
    with pytest.raises(SetupError, match="generation parameters of m: extra_headers"):
        endpoints.model("m", {"extra_headers": {"Authorization": "${MISSING}"}})


def test_the_cache_key_changes_with_a_parameter_but_not_with_a_secret_header() -> None:
    def digest(params: dict[str, Any]) -> str:
        responder = OpenAIResponder("m", "http://127.0.0.1:9/v1", None, 5, params=params)
        return CacheKey.of(responder.endpoint, "m", responder.params, USER, 0).digest

    base = digest({"temperature": 0.0, "max_tokens": 1024})
    assert digest({"temperature": 1.0, "max_tokens": 1024}) != base
    assert digest({"temperature": 0.0, "max_tokens": 512}) != base
    assert digest({"temperature": 0.0}) != base
    header = {"temperature": 0.0, "max_tokens": 1024, "extra_headers": {"X-Route": "a"}}
    assert digest(header) != base
    assert digest({**header, "extra_headers": {"X-Route": "b"}}) != digest(header)
    secret = {"temperature": 0.0, "extra_headers": {"Authorization": "Bearer one-token"}}
    other = {"temperature": 0.0, "extra_headers": {"Authorization": "Bearer another-token"}}
    assert digest(secret) == digest(other)


def test_an_echoed_header_secret_is_redacted_from_the_error(asker: Asker) -> None:
    with FakeOpenAI() as server:
        server.faults["*"] = Fault(401, f"bad header: Authorization: Bearer {TOKEN}")
        headers = {"Authorization": f"Bearer {TOKEN}"}
        responder = OpenAIResponder(
            "m", server.base_url, "sk-1", 5, params={"extra_headers": headers}
        )
        reply = asker.submit(0, responder, USER).result()
        assert server.requests[0]["_headers"]["authorization"] == f"Bearer {TOKEN}"
    assert reply.error is not None and "HTTP 401" in reply.error
    assert TOKEN not in reply.error


def test_the_cache_refuses_to_store_a_secret_it_is_told_of(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.forbid([TOKEN])
    key = CacheKey.of(None, "m", {}, USER, 0)
    cache.put(key, Reply(text=f"your token is {TOKEN}"))
    assert cache.get(key) is None and list(cache.unwritable.values()) == [
        "it would store an API key in clear"
    ]


# -- against the loopback server ----------------------------------------------------------


def test_every_parameter_reaches_the_endpoint(asker: Asker) -> None:
    params = {
        "temperature": 0.3,
        "top_p": 0.9,
        "max_tokens": 50,
        "seed": 7,
        "reasoning_effort": "low",
        "stop": ["\n\n"],
        "extra_body": {"top_k": 5},
        "extra_headers": {"X-Route": "canary"},
    }
    with FakeOpenAI({"France": "Paris."}) as server:
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5, params=params)
        reply = asker.submit(0, responder, USER).result()
        [body] = server.requests
    assert reply.text == "Paris." and reply.dropped == ()
    sent = {name: body.get(name) for name in params if not name.startswith("extra_")}
    assert sent == {k: v for k, v in params.items() if not k.startswith("extra_")}
    assert body["top_k"] == 5
    assert body["_headers"]["x-route"] == "canary"


def test_a_refused_parameter_is_dropped_once_and_said_on_every_reply(asker: Asker) -> None:
    with FakeOpenAI({"France": "Paris."}) as server:
        server.unsupported = {"temperature"}
        params = {"temperature": 0.0, "max_tokens": 1024}
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5, params=params)
        replies = [asker.submit(i, responder, USER).result() for i in range(3)]
        sent = [("temperature" in body, body.get("max_tokens")) for body in server.requests]
    assert [reply.text for reply in replies] == ["Paris."] * 3
    assert [reply.dropped for reply in replies] == [("temperature",)] * 3
    # One refused request, then three without it; the cap is sent every time.
    assert sent == [(True, 1024), (False, 1024), (False, 1024), (False, 1024)]


def test_a_reasoning_model_gets_its_cap_under_the_new_name_without_configuration(
    asker: Asker,
) -> None:
    with FakeOpenAI({"France": "Paris."}) as server:
        server.unsupported = {"temperature", "max_tokens"}  # as OpenAI's o-series answer
        params = {"temperature": 0.0, "max_tokens": 1024}
        responder = OpenAIResponder("o-model", server.base_url, "sk-1", 5, params=params)
        first = asker.submit(0, responder, USER).result()
        second = asker.submit(1, responder, USER).result()
        last = server.requests[-1]
    assert first.text == second.text == "Paris."
    assert "temperature" not in last and "max_tokens" not in last
    assert last["max_completion_tokens"] == 1024
    assert second.dropped == ("temperature", "max_tokens (sent as max_completion_tokens)")
    assert len(server.requests) == 4  # two refusals, then one request per question


def test_gateway_wiring_is_never_dropped(asker: Asker) -> None:
    with FakeOpenAI({"France": "Paris."}) as server:
        server.unsupported = {"top_k"}
        responder = OpenAIResponder(
            "m", server.base_url, "sk-1", 5, params={"extra_body": {"top_k": 5}}
        )
        reply = asker.submit(0, responder, USER).result()
    assert reply.text is None and reply.error is not None and "HTTP 400" in reply.error
    assert len(server.requests) == 1


def test_a_reply_cut_off_at_the_cap_is_an_error_not_an_answer(asker: Asker) -> None:
    long_reply = "Paris is the capital, though let me explain at length why " * 3
    with FakeOpenAI({"France": long_reply}) as server:
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5, params={"max_tokens": 5})
        reply = asker.submit(0, responder, USER).result()
        assert server.requests[0]["max_tokens"] == 5
    assert reply.text is None
    assert reply.error == (
        "the reply was cut off at the token limit (max_tokens 5): raise --abstain-max-tokens, "
        "or generation: max_tokens in the suite (0: no cap)"
    )
    # The model's answer, not a failed request: neither asked again nor stopping the run.
    assert not reply.transient and not reply.request_failed and reply.attempts == 1


def test_a_reply_cut_off_by_the_endpoints_own_limit_is_an_error_too(asker: Asker) -> None:
    with FakeOpenAI() as server:
        server.faults["*"] = Fault(kind="truncated", message='{"answer": "Par')
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5)
        reply = asker.submit(0, responder, USER).result()
    assert reply.error == (
        "the reply was cut off at the endpoint's own token limit (finish_reason length)"
    )


def test_a_reply_the_server_cut_off_below_our_cap_names_the_servers_limit(asker: Asker) -> None:
    # llama.cpp's --n-predict caps a reply below the max_tokens asked: raising ours is no fix.
    with FakeOpenAI() as server:
        server.faults["*"] = Fault(kind="truncated", message="Paris is", completion_tokens=7)
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5, params={"max_tokens": 64})
        reply = asker.submit(0, responder, USER).result()
    assert reply.text is None and reply.error is not None
    assert "after 7 tokens" in reply.error and "server's limit" in reply.error
    assert "--abstain-max-tokens" not in reply.error


def test_an_empty_reply_that_used_the_whole_cap_is_cut_off(asker: Asker) -> None:
    # A reasoning model can spend the cap thinking before it writes a word.
    with FakeOpenAI() as server:
        server.faults["*"] = Fault(kind="empty", completion_tokens=3)
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5, params={"max_tokens": 3})
        reply = asker.submit(0, responder, USER).result()
    assert reply.error is not None and reply.error.startswith("the reply was cut off")
    with FakeOpenAI() as server:
        server.faults["*"] = Fault(kind="empty", completion_tokens=2)
        responder = OpenAIResponder("m", server.base_url, "sk-1", 5, params={"max_tokens": 3})
        reply = asker.submit(1, responder, USER).result()
    assert reply.error == "the endpoint returned an empty reply"


def test_the_cache_entry_says_what_was_dropped(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    key = CacheKey.of(None, "m", {"temperature": 0}, USER, 0)
    cache.put(key, Reply(text="Paris.", dropped=("temperature",)))
    [path] = tmp_path.glob("*/*.json")
    assert json.loads(path.read_text(encoding="utf-8"))["dropped"] == ["temperature"]
    stored = cache.get(key)
    assert stored is not None and stored.dropped == ("temperature",)


# -- end to end ---------------------------------------------------------------------------

SUITE = """
generation: {temperature: 0.2, extra_headers: {Authorization: "Bearer ${GW_TOKEN}"}}
questions:
  - {id: france, question: What is the capital of France?, answer: Paris}
  - {id: japan, question: What is the capital of Japan?, answer: Tokyo}
"""


def test_a_run_sends_reports_and_caches_its_parameters(
    pytester: pytest.Pytester,
    openai_server: FakeOpenAI,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("GW_TOKEN", TOKEN)
    openai_server.replies = {"France": "Paris.", "Japan": "Tokyo."}
    openai_server.unsupported = {"seed"}
    pytester.makefile(".yaml", abstain_gen=SUITE)
    pytester.makeini("[pytest]\nabstain_generation =\n    top_p = 0.5\n    [m] temperature = 0.9\n")
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-seed", "5", "--abstain-concurrency", "1", "--abstain-cache", "cache",
        "--abstain-report", "r.json", "--abstain-baseline", "b.json",
        "--abstain-update-baseline", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == 0
    asked = [b for b in openai_server.requests if "seed" not in b]
    assert [(b["temperature"], b["top_p"], b["max_tokens"]) for b in asked] == [
        (0.2, 0.5, 1024)
    ] * 2
    assert all(b["_headers"]["authorization"] == f"Bearer {TOKEN}" for b in asked)
    result.stdout.fnmatch_lines(["*the endpoint refused seed: asked without*"])
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    [suite] = report["suites"]
    shown = {
        "temperature": 0.2, "top_p": 0.5, "seed": 5, "max_tokens": 1024,
        "extra_headers": {"Authorization": "[redacted]"},
    }  # fmt: skip
    assert suite["generation"] == {"params": shown, "dropped": ["seed"]}
    [baseline_suite] = json.loads((pytester.path / "b.json").read_text())["suites"].values()
    assert baseline_suite["produced_by"]["generation"] == shown
    entries = [json.loads(p.read_text()) for p in (pytester.path / "cache").glob("*/*.json")]
    assert [(e["key"]["params"], e["dropped"]) for e in entries] == [(shown, ["seed"])] * 2
    written = "".join(p.read_text() for p in pytester.path.rglob("*") if p.is_file())
    assert TOKEN not in written + result.stdout.str()
