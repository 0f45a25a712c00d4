"""The plugin against real servers (issue 16): a LiteLLM proxy (mock model, fallback, rpm
limit) and llama.cpp's server with Gemma 3 270M, each a subprocess on loopback
(tests/loopback_servers.py). Their packages are test-only, in a virtual environment of their
own (.ci/servers.txt); without them the group is skipped, except in CI, which installs them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import pytest
from loopback_servers import (
    LITELLM_MODULES,
    LLAMA_MODEL,
    LLAMA_MODULES,
    MASTER_KEY,
    early_in_a_minute,
    litellm_proxy,
    llama_server,
    missing,
)

SET_UP = (
    "python3 -m venv .ci/servers-venv && .ci/servers-venv/bin/pip install -r .ci/servers.txt"
    " (or set ABSTAIN_SERVERS_PYTHON)"
)

pytestmark = pytest.mark.real_servers


def _needs(modules: tuple[str, ...]) -> None:
    absent = missing(modules)
    if not absent:
        return
    # CI installs them (.ci/run), so there they must run; elsewhere they are optional.
    if os.environ.get("CI") == "true":
        pytest.fail(f"{', '.join(absent)} not installed: .ci/run installs .ci/servers.txt")
    pytest.skip(f"needs {', '.join(absent)}: {SET_UP}")


@pytest.fixture(scope="module")
def litellm_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    _needs(LITELLM_MODULES)
    # rpm 3 keeps the limited model's test short: 5 questions overrun it by 2.
    with litellm_proxy(tmp_path_factory.mktemp("litellm"), rpm=3) as url:
        yield url


@pytest.fixture
def proxy_key(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("OPENAI_API_KEY", MASTER_KEY)
    for name in ("OPENAI_BASE_URL", "OPENAI_CUSTOM_HEADERS", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID"):
        monkeypatch.delenv(name, raising=False)
    return MASTER_KEY


def suite(answers: list[str]) -> str:
    """One question per answer, each asking something whose reply the server decides."""
    lines = [
        f"  - {{id: q{i}, question: 'Question {i}?', answer: {a}}}" for i, a in enumerate(answers)
    ]
    return "name: real\nquestions:\n" + "\n".join(lines) + "\n"


def questions_of(pytester: pytest.Pytester) -> list[dict[str, Any]]:
    report = json.loads((pytester.path / "r.json").read_text("utf-8"))
    return [q for s in report["suites"] for q in s["questions"]]


def lost(question: dict[str, Any]) -> bool:
    """Whether any reply to the question was lost (an error instead of a reply)."""
    return question["counts"]["error"] > 0 or any(e is not None for e in question["errors"])


def run(pytester: pytest.Pytester, url: str, model: str, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", model, "--abstain-base-url", url, "--abstain-report", "r.json",
        "-p", "no:cacheprovider", *extra,
    )  # fmt: skip


def test_litellm_mock_replies_are_graded_and_read_back(
    pytester: pytest.Pytester, litellm_url: str, proxy_key: str
) -> None:
    # The mock model says "Paris" to everything: right for three, wrong for one.
    pytester.makefile(".yaml", abstain_real=suite(["Paris", "Paris", "Paris", "Lyon"]))
    result = run(pytester, litellm_url, "mock-model", "--abstain-min-score", "-1")
    questions = questions_of(pytester)
    assert [q["grade"] for q in questions] == ["correct", "correct", "correct", "wrong"]
    assert all(q["replies"] == ["Paris"] and not lost(q) for q in questions), questions
    assert all(q["served"]["models"] == {"mock-model": 1} for q in questions), questions
    assert result.ret == 0, result.stdout.str()[-3000:]


def test_litellm_fallback_reply_is_graded(
    pytester: pytest.Pytester, litellm_url: str, proxy_key: str
) -> None:
    # broken-model's upstream refuses connections; the proxy answers from backup-model.
    pytester.makefile(".yaml", abstain_real=suite(["Paris", "Paris"]))
    result = run(pytester, litellm_url, "broken-model")
    questions = questions_of(pytester)
    assert [q["grade"] for q in questions] == ["correct", "correct"]
    assert not any(lost(q) for q in questions), questions
    # The served model is recorded: the fallback's, not the one asked for.
    assert all(q["served"]["models"] == {"backup-model": 1} for q in questions), questions
    assert result.ret == 0, result.stdout.str()[-3000:]


def test_litellm_rpm_limit_loses_no_reply(
    pytester: pytest.Pytester, litellm_url: str, proxy_key: str
) -> None:
    pytester.makefile(".yaml", abstain_real=suite(["Paris"] * 5))
    # In one clock minute's window: one that ended mid-run would let the retries through.
    early_in_a_minute()
    run(pytester, litellm_url, "limited-model", "--abstain-min-score", "-1")
    questions = questions_of(pytester)
    assert len(questions) == 5
    assert [q["id"] for q in questions if lost(q)] == []


def test_llama_cpp_replies_all_obtained_and_graded(
    pytester: pytest.Pytester, tmp_path_factory: pytest.TempPathFactory, api_key: str
) -> None:
    _needs(LLAMA_MODULES)
    folder = tmp_path_factory.mktemp("llama")
    lines = [
        "  - {id: q0, question: 'What is the capital of France?', answer: Paris}",
        "  - {id: q1, question: 'Who wrote Hamlet?', answer: Shakespeare}",
        "  - {id: q2, question: 'Which is the largest planet?', answer: Jupiter}",
        "  - {id: q3, question: 'What is the capital of Japan?', answer: Tokyo}",
    ]
    # A reply cut off at the token cap is an error, and the small base model seldom stops by
    # itself: a llama.cpp grammar (at most 40 characters, then a full stop) ends each reply
    # well inside the cap, whatever the model says.
    generation = (
        "generation:\n  max_tokens: 64\n"
        "  extra_body: {grammar: 'root ::= [A-Za-z0-9 ,]{1,40} \".\"'}\n"
    )
    pytester.makefile(
        ".yaml", abstain_real="name: real\n" + generation + "questions:\n" + "\n".join(lines) + "\n"
    )
    # Concurrency at the server's slot count, and a timeout that CPU inference on a busy
    # machine cannot reach; the small model's wording is not what this checks.
    with llama_server(folder, slots=2, max_tokens=24) as url:
        result = run(
            pytester, url, LLAMA_MODEL, "--abstain-concurrency", "2", "--abstain-timeout", "300",
            "--abstain-min-score", "-10", "--abstain-max-error-rate", "1",
        )  # fmt: skip
    questions = questions_of(pytester)
    assert [q["id"] for q in questions] == ["q0", "q1", "q2", "q3"]
    for q in questions:
        assert not lost(q) and len(q["replies"]) == 1 and q["replies"][0], q
        assert q["grade"] in {"correct", "wrong", "abstained"}, q
        assert q["served"]["models"] == {LLAMA_MODEL: 1}, q
    assert result.ret == 0, result.stdout.str()[-3000:]
