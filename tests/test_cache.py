"""The response cache: keys, record/replay modes (end to end, and through the pipeline without
pytest), concurrent writers, no secrets."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from direct_run import answering, planned, run_suite
from direct_run import asker as direct_asker
from openai_server import FakeOpenAI
from suite_results import suite_result

from pytest_abstain.asking.cache import CacheKey, ResponseCache
from pytest_abstain.asking.responders import CallableResponder
from pytest_abstain.dry_run import dry_run
from pytest_abstain.pipeline import Pipeline, failure_text
from pytest_abstain.records import Reply
from pytest_abstain.render.terminal import render
from pytest_abstain.results.suites import overall_metrics
from pytest_abstain.results.verdict import decide

MESSAGES = [{"role": "user", "content": "What is the capital of France?"}]
SUITE = """
questions:
  - {id: capital, question: 'What is the capital of France?', answer: Paris}
  - {id: birthday, question: "What is Adam Kalai's birthday?", idk: true}
"""


def key(**changes: object) -> CacheKey:
    parts: dict[str, object] = {
        "endpoint": "http://127.0.0.1:1/v1",
        "model": "m",
        "params": {},
        "messages": MESSAGES,
        "sample": 0,
    }
    parts.update(changes)
    return CacheKey.of(**parts)  # type: ignore[arg-type]


def test_every_part_of_the_key_changes_the_entry() -> None:
    variants = [
        key(),
        key(endpoint="http://other/v1"),
        key(model="m2"),
        key(params={"temperature": 0.5}),
        key(messages=[{"role": "user", "content": "What is the capital of Spain?"}]),
        key(messages=[{"role": "system", "content": "Be brief."}, *MESSAGES]),
        key(sample=1),
    ]
    assert len({v.digest for v in variants}) == len(variants)


def test_round_trip_and_what_is_never_stored(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    cache.put(key(), Reply(text="Paris", prompt_tokens=5, completion_tokens=1))
    cache.put(key(sample=1), Reply.failed("HTTP 500"))
    assert cache.get(key()) == Reply(
        text="Paris", prompt_tokens=5, completion_tokens=1, cached=True
    )
    assert cache.get(key(sample=1)) is None  # failures are asked again, never replayed
    (entry,) = tmp_path.glob("*/*.json")
    entry.write_text("{truncated", encoding="utf-8")
    assert cache.get(key()) is None  # an unreadable entry is a miss, not a crash


def test_miss_explanation_names_what_changed(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    assert "empty" in cache.explain_miss(key())
    cache.put(key(), Reply(text="Paris"))
    assert "sample: 0 → 1" in cache.explain_miss(key(sample=1))
    assert "model: 'm' → 'm2'" in cache.explain_miss(key(model="m2"))
    changed = [{"role": "user", "content": "What is the capital of Spain?"}]
    assert (
        "user message at character 23: 'ital of France?' → 'ital of Spain?'"
        in cache.explain_miss(key(messages=changed))
    )


@pytest.fixture
def server(pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str) -> FakeOpenAI:
    pytester.makefile(".yaml", abstain_c=SUITE)
    openai_server.replies = {"France": "Paris.", "birthday": "I don't know."}
    return openai_server


def run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-cache", "cache", *extra,
    )  # fmt: skip


def test_record_then_replay_asks_nothing_and_each_record_mode(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    assert run(pytester, server).ret == 0
    assert len(server.requests) == 2
    server.reset_stats()
    result = run(pytester, server, "--abstain-record", "replay")
    assert result.ret == 0 and server.requests == []
    assert result.parseoutcomes() == {"correct": 1, "abstained": 1}
    result.stdout.fnmatch_lines(["  cache: 2 of 2 replies replayed from the cache"])

    # off neither reads nor writes the cache; all asks again and records what it got.
    server.replies["France"] = "Lyon."
    assert run(pytester, server, "--abstain-record", "off").parseoutcomes()["wrong"] == 1
    assert len(server.requests) == 2
    server.reset_stats()
    assert run(pytester, server).parseoutcomes()["correct"] == 1  # still the recorded Paris
    assert server.requests == []
    assert run(pytester, server, "--abstain-record", "all").parseoutcomes()["wrong"] == 1
    assert len(server.requests) == 2
    server.reset_stats()
    assert run(pytester, server, "--abstain-record", "replay").parseoutcomes()["wrong"] == 1


def test_explain_misses(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    assert run(pytester, server).ret == 0
    result = run(pytester, server, "--abstain-explain-misses", "--abstain-samples", "2")
    result.stdout.fnmatch_lines(
        ["abstain_c.yaml::capital sample 2: the closest cached entry differs in sample: 0 → 1"]
    )


def test_two_processes_filling_one_cache_corrupt_nothing(
    pytester: pytest.Pytester, server: FakeOpenAI, api_key: str
) -> None:
    questions = "\n".join(
        f"  - {{id: q{i}, question: 'Question {i}?', idk: true}}" for i in range(60)
    )
    pytester.makefile(".yaml", abstain_c=f"questions:\n{questions}\n")
    server.latency = 0.01
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--abstain-model", "m",
        "--abstain-base-url", server.base_url, "--abstain-cache", "cache", "--abstain-samples", "2",
    ]  # fmt: skip
    procs = [subprocess.Popen(command, cwd=pytester.path, stdout=subprocess.PIPE) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    entries = list((pytester.path / "cache").glob("*/*.json"))
    assert len(entries) == 120
    for entry in entries:
        json.loads(entry.read_text(encoding="utf-8"))
    assert not list((pytester.path / "cache").glob("*/.*.tmp"))
    everything = "".join(p.read_text(encoding="utf-8") for p in entries)
    assert api_key not in everything and "Bearer" not in everything


# --- the cache in the pipeline, without pytest (tests/direct_run.py) ---------------------------


class Counted:
    """A team's responder answering from `replies`, counting the prompts it is asked."""

    def __init__(self, replies: dict[str, str]) -> None:
        self.answer = answering(replies)
        self.asked: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.asked.append(prompt)
        return self.answer(prompt)


def suite(tmp_path: Path) -> Path:
    path = tmp_path / "abstain_c.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


REPLIES = {"France": "Paris.", "birthday": "I don't know."}


def test_replay_only_fails_clearly_on_a_missing_entry(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    run_suite(suite(tmp_path), Counted(REPLIES), cache=cache)
    again = Counted(REPLIES)
    [result] = run_suite(suite(tmp_path), again, cli={"threshold": 0.9}, cache=cache,
                         record_mode="replay")  # fmt: skip
    assert again.asked == []
    capital = result.questions[0]
    assert capital.grades == ["error"]
    pytest.LineMatcher((failure_text(capital) or "").splitlines()).fnmatch_lines(
        [
            "no reply for 'capital' from m (1 of 1 samples); not scored:",
            "  sample 1: not in the response cache *cache (--abstain-record replay asks nothing):"
            " the closest cached entry differs in messages (user message at character *:"
            " *75%* → *90%*). Record it with --abstain-record missing",
        ]
    )
    assert not decide([result], [], question_errors=2).passed  # no error budget


def test_samples_are_independent_entries(tmp_path: Path) -> None:
    counter = itertools.count()
    cache = ResponseCache(tmp_path / "cache")
    options: dict[str, object] = {"samples": 4}

    def alternating(prompt: str) -> str:
        return "Paris." if next(counter) % 2 else "Lyon."

    def capital(qid: str) -> bool:
        return qid == "capital"

    [first] = run_suite(suite(tmp_path), alternating, cli=options, only=capital, cache=cache)
    assert len(list((tmp_path / "cache").glob("*/*.json"))) == 4
    replayed = Counted(REPLIES)
    [second] = run_suite(suite(tmp_path), replayed, cli=options, only=capital, cache=cache,
                         record_mode="replay")  # fmt: skip
    assert replayed.asked == []
    assert second.questions[0].replies == first.questions[0].replies
    assert sorted(map(str, first.questions[0].replies)) == ["Lyon.", "Lyon.", "Paris.", "Paris."]


def test_dry_run_counts_without_asking(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path / "cache")
    asked = Counted(REPLIES)

    def dry(**cli: object) -> list[str]:
        plans = [(plan, False) for plan in planned(suite(tmp_path), cli)]
        responder = CallableResponder(asked, "m", timeout=10)
        with direct_asker() as asking:
            pipeline = Pipeline(
                asking, responder=lambda plan: responder, judge=lambda plan: responder, cache=cache
            )
            return dry_run(pipeline, plans).lines()

    assert dry(samples=3) == ["abstain_c.yaml: 6 replies, 0 in the cache, 6 to ask"]
    assert asked.asked == []
    run_suite(suite(tmp_path), asked, only=lambda qid: qid == "capital", cache=cache)
    assert dry() == ["abstain_c.yaml: 2 replies, 1 in the cache, 1 to ask"]
    assert len(asked.asked) == 1


def test_replay_is_never_silent_even_under_quiet() -> None:
    app = suite_result("abstain_app.yaml", ["correct", "wrong"])  # a team's callable: no endpoint
    app.questions[:] = [replace(record, cached=1) for record in app.questions]
    quiet = [text for text, _ in render([app], overall_metrics([app]), verbosity=-1)]
    assert quiet[0].endswith("(2 of 2 replies replayed from the cache)"), quiet
    full = [text for text, _ in render([app], overall_metrics([app]), verbosity=0)]
    assert "  cache: 2 of 2 replies replayed from the cache" in full
    assert any("the app itself was not asked" in text for text in full)
    model = suite_result("abstain_model.yaml", ["correct"], endpoint="http://127.0.0.1:1/v1")
    model.questions[:] = [replace(record, cached=1) for record in model.questions]
    asked = [text for text, _ in render([model], overall_metrics([model]), verbosity=0)]
    assert not any("the app itself" in text for text in asked)
