"""Issue 13 hardening of the asking: Retry-After under random rate limits, and the base URL."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from openai_server import Budget, Chaos, FakeOpenAI, Fault

from pytest_abstain.asking import Asker
from pytest_abstain.responders import OpenAIResponder, Reply
from pytest_abstain.retrying import RECENT_ANSWERS, RetryPolicy


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
    # 50 requests per 1 s window, then 429s until the window ends: a per-minute limit, shrunk.
    server.budget = Budget(requests=50, seconds=1.0)
    concurrency = 10
    replies, asker = ask_all(server, 150, concurrency)
    assert [r.text for r in replies] == ["Paris."] * 150
    assert asker.limit.pauses >= 1
    # Once 429s are most of the latest answers, nothing new goes out until the window ends:
    # each window sees those 429s and the requests already in flight, at most. Were each 429
    # only its own request's wait, freed slots would send every question still waiting
    # (measured: 100 refusals in the first window, 50 in the second).
    most = RECENT_ANSWERS // 2 + 1
    assert server.budget.refused and max(server.budget.refused) <= most + concurrency, (
        server.budget.refused
    )
