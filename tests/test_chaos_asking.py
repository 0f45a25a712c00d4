"""Issue 13 hardening of the asking: Retry-After under random rate limits, and the base URL."""

from __future__ import annotations

import asyncio
import base64
import socket
from collections.abc import Iterator

import pytest
from openai_server import Budget, Chaos, FakeOpenAI, Fault

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.responders import OpenAIResponder, redact, url_secrets
from pytest_abstain.asking.retrying import RECENT_ANSWERS, RetryPolicy
from pytest_abstain.records import Reply
from pytest_abstain.settings.urls import quoted_url, url_problem


def question(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question {i}: what is the capital of France?"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI({"France": "Paris."}) as fake:
        yield fake


def ask_all(server: FakeOpenAI, questions: int, concurrency: int) -> tuple[list[Reply], Asker]:
    asker = Asker(concurrency, RetryPolicy(retries=20, backoff=0.01))
    try:
        responder = OpenAIResponder("m", server.base_url, "sk-1", timeout=10)
        futures = [asker.submit(i, responder, question(i)) for i in range(questions)]
        return [f.result() for f in futures], asker
    finally:
        asker.close()


# -- Retry-After: one request's wait, or everyone's --------------------------------------


def test_a_fifth_refused_at_random_with_retry_after_pauses_nobody(server: FakeOpenAI) -> None:
    # Each 429 tells only its own request to wait. When every 429 held back all new requests,
    # this run paused 24 times (and a 5,000-question run crawled at 5 answers/s).
    server.chaos = Chaos([(0.2, Fault(429, "Rate limit reached", retry_after=0.2))], seed=1)
    replies, asker = ask_all(server, 200, concurrency=50)
    assert [r.text for r in replies] == ["Paris."] * 200
    refused = server.faults_served["429"]
    assert refused >= 20 and asker.retries == refused
    # By chance the first few answers may be mostly 429s, which pauses everyone at the start.
    assert asker.limit.pauses <= 2, (asker.limit.pauses, refused)
    assert asker.limit.decreases >= 2  # slowed by the halving instead


def test_a_used_up_budget_still_pauses_everyone(server: FakeOpenAI) -> None:
    # 25 requests per 1 s window, then 429s until the window ends: a per-minute limit, shrunk.
    server.budget = Budget(requests=25, seconds=1.0)
    concurrency = 10
    replies, asker = ask_all(server, 100, concurrency)
    assert [r.text for r in replies] == ["Paris."] * 100
    assert asker.limit.pauses >= 1
    # Once 429s are most of the latest answers, nothing new goes out until the window ends:
    # each window sees those 429s and the requests already in flight, at most. Were each 429
    # only its own request's wait, freed slots would send every question still waiting
    # (measured: 75, 50 and 25 refusals in the first three windows).
    most = RECENT_ANSWERS // 2 + 1
    assert server.budget.refused and max(server.budget.refused) <= most + concurrency, (
        server.budget.refused
    )


# -- the base URL: checked before the run, and its credentials never shown ----------------


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("http://127.0.0.1:99999/v1", "port"),
        ("http://127.0.0.1:0/v1", "port"),
        ("http://host:abc/v1", "port"),
        ("http://[bad", "not a valid URL"),
        ("ftp://host/v1", "http:// or https://"),
        ("localhost:8000/v1", "http:// or https://"),
        ("http:///v1", "no host"),
        ("http://user:pw@/v1", "no host"),
        ("https://host/v1\n", "control character"),
        ("", "empty"),
    ],
)
def test_url_problems(url: str, problem: str) -> None:
    found = url_problem(url)
    assert found is not None and problem in found


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8000/v1", "https://api.openai.com/v1", "https://[::1]:8443/v1/"]
)
def test_good_urls_have_no_problem(url: str) -> None:
    assert url_problem(url) is None


def test_a_quoted_url_keeps_its_credentials_back() -> None:
    assert quoted_url("http://u:hunter2@host:99999/v1?key=abc") == "'http://***@host:99999/v1?...'"
    assert quoted_url("http://u:pa/ss@[bad") == "'http://***@[bad'"
    assert quoted_url("https://host/v1") == "'https://host/v1'"


def test_url_secrets_in_every_form_an_echo_may_take() -> None:
    url = "https://ci-bot:s3cr%40t-pw@gw.example/v1?api-key=QK-12345%2B&v=1"
    secrets = url_secrets(url)
    pair = "ci-bot:s3cr@t-pw"
    basic = base64.b64encode(pair.encode()).decode()
    expected = {"s3cr%40t-pw", "s3cr@t-pw", "ci-bot:s3cr%40t-pw", pair, basic}
    assert expected | {"QK-12345%2B", "QK-12345+"} == set(secrets)
    # The user name alone, and a short value, are no secret: replacing them would garble text.
    echoed = f"user ci-bot: Authorization: Basic {basic} ({pair}), key QK-12345+ at v=1"
    assert redact(echoed, secrets) == (
        "user ci-bot: Authorization: Basic [URL credentials] ([URL credentials]), "
        "key [URL credentials] at v=1"
    )
    assert url_secrets("http://[bad") == {} and url_secrets(None) == {}


def test_an_echoed_url_password_is_redacted_in_the_reply(server: FakeOpenAI) -> None:
    url = server.base_url.replace("http://", "http://ci-bot:hunter2-pw@")
    server.faults["France"] = Fault(403, "user ci-bot (password hunter2-pw) may not do this")
    asker = Asker(1, RetryPolicy(retries=0, backoff=0.01))
    try:
        reply = asker.submit(0, OpenAIResponder("m", url, "sk-1", timeout=5), question(0)).result()
    finally:
        asker.close()
    assert reply.error is not None and "hunter2" not in reply.error
    assert "(password [URL credentials])" in reply.error


def suite(count: int) -> str:
    lines = "\n".join(
        f"  - {{id: q{i}, question: 'Question number {i}?', idk: true}}" for i in range(count)
    )
    return f"questions:\n{lines}\n"


BAD = "http://ci-bot:hunter2-pw@127.0.0.1:99999/v1"


@pytest.mark.parametrize(
    ("args", "ini", "env", "names"),
    [
        (["--abstain-base-url", BAD], "", None, "--abstain-base-url"),
        (["--abstain-base-url", "http://[bad"], "", None, "--abstain-base-url"),
        (["--abstain-base-url", "ftp://127.0.0.1/v1"], "", None, "--abstain-base-url"),
        ([], f"abstain_base_url = {BAD}", None, "abstain_base_url (ini)"),
        (["--abstain-judge-model", "j", "--abstain-judge-base-url", BAD], "", None,
         "--abstain-judge-base-url"),
        ([], "", BAD, "OPENAI_BASE_URL"),
    ],
    ids=["port", "ipv6", "scheme", "ini", "judge", "env"],
)  # fmt: skip
def test_a_malformed_base_url_is_a_usage_error_naming_its_option(
    pytester: pytest.Pytester,
    monkeypatch: pytest.MonkeyPatch,
    api_key: str,
    args: list[str],
    ini: str,
    env: str | None,
    names: str,
) -> None:
    if env is not None:
        monkeypatch.setenv("OPENAI_BASE_URL", env)
    if ini:
        pytester.makeini(f"[pytest]\n{ini}\n")
    pytester.makefile(".yaml", abstain_few=suite(2))
    result = pytester.runpytest("--abstain-model", "m", *args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    output = result.stdout.str() + result.stderr.str()
    assert f"{names}: " in output and "INTERNALERROR" not in output
    assert "hunter2" not in output


def test_openai_base_url_is_checked_only_when_it_is_used(
    pytester: pytest.Pytester,
    openai_server: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
    api_key: str,
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://[bad")
    pytester.makefile(".yaml", abstain_few=suite(2))
    # --abstain-base-url wins over it: the run goes ahead.
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url
    )
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    # A conftest responder asks no endpoint...
    pytester.makeconftest(
        """
        def pytest_abstain_make_responder(config, suite_path):
            return lambda prompt: "I don't know."
        """
    )
    assert pytester.runpytest().ret == pytest.ExitCode.OK
    # ...until a suite names a judge model, which the client asks at OPENAI_BASE_URL.
    pytester.makefile(".yaml", abstain_judged="judge: {when: always, model: j}\n" + suite(2))
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "OPENAI_BASE_URL: " in result.stdout.str() + result.stderr.str()


def test_credentials_echoed_by_the_endpoint_appear_nowhere(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    user, password = "ci-bot", "s3cr%40t-pw"  # "s3cr@t-pw", percent-encoded in the URL
    pair = f"{user}:s3cr@t-pw"
    basic = base64.b64encode(pair.encode()).decode()
    url = openai_server.base_url.replace("http://", f"http://{user}:{password}@")
    # A proxy that quotes the Authorization header, and an endpoint that quotes the URL.
    openai_server.faults = {
        "number 1?": Fault(401, f"proxy refused 'Authorization: Basic {basic}' ({pair})"),
        "number 2?": Fault(500, f"cannot route http://{user}:{password}@upstream/v1"),
    }
    pytester.makefile(".yaml", abstain_few=suite(4))
    result = pytester.runpytest(
        "-rA", "--abstain-model", "m", "--abstain-base-url", url, "--abstain-retries", "0",
        "--abstain-report", "r.json", "--junitxml", "junit.xml",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.TESTS_FAILED  # the two errors
    output = result.stdout.str() + result.stderr.str()
    assert output.count("[URL credentials]") >= 3  # the echoes were there, redacted
    written = [pytester.path / "r.json", pytester.path / "junit.xml"]
    for text in [output, *(path.read_text(encoding="utf-8") for path in written)]:
        for secret in (password, "s3cr@t-pw", basic):
            assert secret not in text


def test_a_refused_local_port_is_not_retried_and_names_the_url() -> None:
    # Nothing listens on the port: the server is not running, so asking again cannot help.
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    responder = OpenAIResponder("m", f"http://127.0.0.1:{port}/v1", "sk-test", timeout=5)

    async def ask() -> Reply:
        try:
            return await responder.ask([{"role": "user", "content": "hi"}])
        finally:
            await responder.aclose()

    reply = asyncio.run(ask())
    assert reply.text is None and reply.transient is False and reply.request_failed
    assert f"http://127.0.0.1:{port}/v1" in (reply.error or "")
    assert "connection refused" in (reply.error or "")
