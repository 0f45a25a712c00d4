"""Issue 16: rate budgets and slow servers. A per-window budget without Retry-After loses no
reply and stops no run, the client-side pacer keeps a known budget, and a server with fewer
slots than requests in flight converges instead of timing everything out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from openai_server import Budget, FakeOpenAI, Fault

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.pacing import Pacer
from pytest_abstain.asking.responders import OpenAIResponder
from pytest_abstain.asking.retrying import RetryPolicy
from pytest_abstain.records import Reply


def question(i: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question {i}: what is the capital of France?"}]


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI({"France": "Paris."}) as fake:
        yield fake


def ask_all(asker: Asker, server: FakeOpenAI, questions: int, timeout: float = 10) -> list[Reply]:
    try:
        responder = OpenAIResponder("m", server.base_url, "sk-1", timeout=timeout)
        futures = [asker.submit(i, responder, question(i)) for i in range(questions)]
        return [f.result() for f in futures]
    finally:
        asker.close()


# -- a per-window budget without Retry-After (LiteLLM's rpm) ------------------------------


def test_a_window_budget_without_retry_after_loses_nothing(server: FakeOpenAI) -> None:
    # 8 requests per 0.5 s window, 429 without Retry-After: 48 questions need 6 windows.
    # With the default 4 retries each on its own clock, most of them were lost (issue 16).
    server.budget = Budget(requests=8, seconds=0.5, retry_after=False)
    asker = Asker(16, RetryPolicy(retries=4, backoff=0.05), rate_limit_wait=60)
    replies = ask_all(asker, server, 48)
    assert [r.text for r in replies] == ["Paris."] * 48
    assert asker.fatal is None and server.faults_served["429"] > 0
    # Everyone waits on one clock: the shared pause, not each request hammering on its own.
    assert asker.limit.pauses >= 1
    assert server.faults_served["429"] < 48 * 5, server.budget.refused


def test_a_run_starting_in_a_used_up_window_does_not_stop(server: FakeOpenAI) -> None:
    server.budget = Budget(requests=3, seconds=1.0, retry_after=False)
    for _ in range(3):  # another client used up this window
        assert server.budget.refusal() is None
    asker = Asker(8, RetryPolicy(retries=0, backoff=0.05), rate_limit_wait=60)
    replies = ask_all(asker, server, 12)
    # The first replies all failed the same way (429), which stops a run with a wrong key:
    # a rate limit is not that, and with no retries left by count it still waits its turn.
    assert asker.fatal is None
    assert [r.text for r in replies] == ["Paris."] * 12
    assert server.budget.refused[0] > 0


def test_the_rate_limit_wait_bounds_the_waiting(server: FakeOpenAI) -> None:
    server.budget = Budget(requests=1, seconds=30.0, retry_after=False)
    assert server.budget.refusal() is None  # the window is used up for 30 s
    asker = Asker(2, RetryPolicy(retries=0, backoff=0.05), rate_limit_wait=0.3)
    replies = ask_all(asker, server, 2)
    assert all(r.text is None for r in replies)
    assert all(r.error and "--abstain-rate-limit-wait" in r.error for r in replies)
    assert all(r.attempts > 1 for r in replies) and asker.fatal is None


def test_a_retry_after_past_the_rate_limit_wait_fails_at_once(server: FakeOpenAI) -> None:
    # A daily quota's Retry-After: waiting it out would hold the run for longer than the
    # team allowed, so the request fails on the first answer, saying which option decides.
    server.faults = {"France": Fault(status=429, retry_after=2.0)}
    asker = Asker(1, RetryPolicy(retries=3, backoff=0.05), rate_limit_wait=1.0)
    [reply] = ask_all(asker, server, 1)
    assert reply.text is None and reply.error is not None
    assert "--abstain-rate-limit-wait" in reply.error and reply.attempts == 1
    assert len(server.requests) == 1


def test_a_retry_after_within_the_rate_limit_wait_is_waited_out(server: FakeOpenAI) -> None:
    server.faults = {"France": Fault(status=429, retry_after=0.2, times=1)}
    asker = Asker(1, RetryPolicy(retries=0, backoff=0.05), rate_limit_wait=1.0)
    [reply] = ask_all(asker, server, 1)
    assert reply.text == "Paris." and reply.attempts == 2


# -- the pacer: a known budget is never hit ----------------------------------------------


def test_the_pacer_keeps_a_known_request_budget(server: FakeOpenAI) -> None:
    server.budget = Budget(requests=6, seconds=0.5, retry_after=False)
    # The pacer's window is longer than the server's, as WINDOW is a second longer than a
    # minute: a request arrives later than it was sent (more so on a loaded test machine).
    asker = Asker(16, RetryPolicy(retries=0, backoff=0.05), pacer=Pacer(6, None, window=0.75))
    replies = ask_all(asker, server, 24)
    assert [r.text for r in replies] == ["Paris."] * 24
    assert server.faults_served["429"] == 0 and asker.retries == 0


def test_a_models_own_budget_paces_its_requests_only(server: FakeOpenAI) -> None:
    # abstain_model_settings: [slow] rpm = 2. The other model's requests never wait on it.
    own = Pacer(2, None, window=2.0)
    asker = Asker(8, RetryPolicy(retries=0, backoff=0.05), model_pacers={"slow": own})
    slow = OpenAIResponder("slow", server.base_url, "sk-1", timeout=10)
    fast = OpenAIResponder("fast", server.base_url, "sk-1", timeout=10)
    try:
        futures = [asker.submit(("slow", i), slow, question(i)) for i in range(4)]
        futures += [asker.submit(("fast", i), fast, question(i)) for i in range(4)]
        replies = [f.result() for f in futures]
    finally:
        asker.close()
    assert [r.text for r in replies] == ["Paris."] * 8
    # The third and fourth of the slow model's requests waited for its window; a pacer
    # that the fast model's requests went through too would have held back more.
    assert own.waits == 2


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_rpm_waits_for_the_oldest_request_to_leave_the_window() -> None:
    clock = Clock()
    pacer = Pacer(3, None, window=60, clock=clock)
    for at in (0.0, 10.0, 20.0):
        clock.now = at
        assert pacer.wait_for(1) == 0
        pacer.take(1)
    clock.now = 30.0
    assert pacer.wait_for(1) == 30.0  # the request of t=0 leaves at t=60
    clock.now = 60.0
    assert pacer.wait_for(1) == 0


def test_tpm_reserves_an_estimate_and_the_reply_corrects_it() -> None:
    clock = Clock()
    pacer = Pacer(None, 1000, window=60, clock=clock)
    first = pacer.take(600)
    clock.now = 5.0
    assert pacer.wait_for(600) == 55.0  # 1,200 tokens do not fit in 1,000
    pacer.settle(first, prompt_tokens=100, completion_tokens=50)  # it took 150, not 600
    assert pacer.wait_for(600) == 0
    # The completion the next estimate assumes is the mean the replies reported.
    assert pacer.estimate(400) == pacer.estimate(0) + 100 and pacer.estimate(0) == 8 + 50


def test_a_request_bigger_than_the_whole_budget_goes_alone() -> None:
    clock = Clock()
    pacer = Pacer(None, 100, window=60, clock=clock)
    assert pacer.wait_for(500) == 0
    pacer.take(500)
    clock.now = 1.0
    assert pacer.wait_for(500) == 59.0


def test_admit_waits_then_logs() -> None:
    pacer = Pacer(2, None, window=0.2)

    async def scenario() -> int:
        for _ in range(4):
            await pacer.admit(1)
        return pacer.waits

    assert asyncio.run(scenario()) >= 1


# -- a slow server with few slots ---------------------------------------------------------


def test_a_slow_server_with_two_slots_converges(server: FakeOpenAI) -> None:
    # llama.cpp on a CPU: 2 slots, the rest queue. 16 at once with a timeout of 3 replies'
    # time: the back of the queue times out, the limit halves, and the retries get through.
    server.latency, server.slots = 0.1, 2
    asker = Asker(16, RetryPolicy(retries=4, backoff=0.05))
    replies = ask_all(asker, server, 16, timeout=0.35)
    assert [r.text for r in replies] == ["Paris."] * 16
    assert asker.limit.decreases >= 1 and asker.limit.limit < 16
    assert asker.fatal is None


def test_replies_lost_to_timeouts_name_the_fix(server: FakeOpenAI) -> None:
    server.latency, server.slots = 0.3, 1
    asker = Asker(4, RetryPolicy(retries=0, backoff=0.05))
    replies = ask_all(asker, server, 4, timeout=0.1)
    lost = [r for r in replies if r.text is None]
    assert lost and asker.timed_out == len(lost)
    for reply in lost:
        assert reply.error and "--abstain-concurrency" in reply.error
        assert "--abstain-timeout (now 0.1s)" in reply.error
    # Timeouts do not stop the run: four alike on the first replies would stop a wrong key.
    assert asker.fatal is None


# -- gates on partial data, and the summary's wording ------------------------------------


def test_a_gate_on_partial_data_names_the_missing_replies() -> None:
    from suite_results import suite_result

    grades = ["correct"] * 14 + ["wrong"] * 2 + ["error"] * 32
    failed = suite_result("s", grades, min_score=0.99, max_errors="100%")
    passed = suite_result("s", grades, min_score=0.5, max_errors="100%")
    missing = " (over 16 of 48 replies: 32 missing)"
    assert failed.failures[0].endswith(missing), failed.failures
    assert passed.passes[0].endswith(missing), passed.passes
    # The error budget still decides about the errors themselves.
    assert passed.verdict == "passed" and failed.verdict == "failed"
    whole = suite_result("s", ["correct"] * 4, min_score=0.5)
    assert "missing" not in whole.passes[0]


def test_the_summary_counts_requests_retried_and_attempts() -> None:
    import dataclasses

    from suite_results import suite_result

    from pytest_abstain.render.terminal import render
    from pytest_abstain.results.suites import overall_metrics

    result = suite_result("s", ["correct"] * 24)
    questions = [dataclasses.replace(r, retries=4, retried=1) for r in result.questions]
    result = dataclasses.replace(result, questions=questions)
    text = "\n".join(line for line, _ in render([result], overall_metrics([result]), 0))
    assert "retries: 24 requests asked again (96 more attempts)" in text


def test_progress_on_a_slow_endpoint_is_per_minute() -> None:
    from pytest_abstain.asking.asker import Progress

    line = Progress(submitted=16, done=4, failed=0, retried=0, elapsed=20.0).line()
    assert "12.0/min" in line and "about 60s left" in line
    slow = Progress(submitted=16, done=1, failed=0, retried=0, elapsed=300.0).line()
    assert "5.0 min per reply" in slow
