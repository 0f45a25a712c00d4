"""The pipeline from a question's plan to its record, driven directly: real asking on the
asker's event loop, the team's own responder functions, an in-memory cache. No pytest run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from direct_run import MemoryCache, plans_of

from pytest_abstain.asking.asker import STOP_AFTER_SAME_FAILURES, Asker
from pytest_abstain.asking.endpoints import SetupError
from pytest_abstain.asking.responders import CallableResponder, Responder
from pytest_abstain.dry_run import dry_run
from pytest_abstain.pipeline import Hooks, NotAsked, Pipeline, failure_text
from pytest_abstain.plan import QuestionPlan


def plans(tmp_path: Path, suite: str) -> list[QuestionPlan]:
    return plans_of(tmp_path, suite, "abstain_pipeline.yaml")


class Answers:
    """A team's responder: answers from a table, counting the prompts it was asked."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: list[str] = []
        self.lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        with self.lock:
            self.asked.append(prompt)
        return next(reply for key, reply in self.table.items() if key in prompt)


@pytest.fixture
def asker() -> Iterator[Asker]:
    asker = Asker(concurrency=4)
    yield asker
    asker.close()


def pipeline(
    asker: Asker,
    answers: Callable[[str], str],
    judge: Callable[[str], str] | None = None,
    **options: object,
) -> Pipeline:
    responder = CallableResponder(answers, "team-bot", timeout=10)
    judge_responder = None if judge is None else CallableResponder(judge, "team-judge", 10)

    def the_judge(plan: QuestionPlan) -> Responder:
        if judge_responder is None:
            raise SetupError("no judge")
        return judge_responder

    return Pipeline(asker, responder=lambda plan: responder, judge=the_judge, **options)  # type: ignore[arg-type]


SUITE = """
threshold: 0.75
questions:
  - {id: capital, question: "What is the capital of France?", answer: Paris}
  - {id: moon, question: "Who was the 40th person on the Moon?", idk: true}
"""


def test_replies_become_graded_records(tmp_path: Path, asker: Asker) -> None:
    answers = Answers({"France": "It is Paris.", "Moon": "Nobody knows that; I don't know."})
    run = pipeline(asker, answers)
    capital, moon = plans(tmp_path, SUITE)
    records = [run.record("q1", capital), run.record("q2", moon)]
    assert [r.grades for r in records] == [["correct"], ["abstained"]]
    assert records[0].replies == ["It is Paris."]
    assert records[0].suite.responder == "team-bot"
    assert records[0].suite.threshold == 0.75
    assert failure_text(records[0]) is None


def test_each_question_is_asked_once_however_often_its_record_is_asked_for(
    tmp_path: Path, asker: Asker
) -> None:
    answers = Answers({"France": "Paris", "Moon": "I don't know"})
    run = pipeline(asker, answers)
    capital, _ = plans(tmp_path, SUITE)
    run.submit("q1", capital)
    run.submit("q1", capital)
    run.record("q1", capital)
    assert len(answers.asked) == 1


def test_a_cached_reply_is_used_and_a_new_one_stored(tmp_path: Path, asker: Asker) -> None:
    cache = MemoryCache()
    capital, moon = plans(tmp_path, SUITE)
    first = Answers({"France": "Paris", "Moon": "I don't know"})
    pipeline(asker, first, cache=cache).record("q1", capital)
    assert len(cache.entries) == 1
    again = Answers({"France": "Lyon", "Moon": "I don't know"})
    record = pipeline(asker, again, cache=cache).record("q1", capital)
    assert again.asked == [] and record.grades == ["correct"] and record.cached == 1
    # Replay-only: a miss asks nothing and is an error that says how to record it.
    replayed = pipeline(asker, again, cache=cache, record_mode="replay").record("q2", moon)
    assert replayed.grades == ["error"] and again.asked == []
    assert "--abstain-record missing" in (replayed.errors[0] or "")
    assert "no reply for 'moon'" in (failure_text(replayed) or "")


def test_with_record_all_the_cache_is_not_read(tmp_path: Path, asker: Asker) -> None:
    cache = MemoryCache()
    capital, _ = plans(tmp_path, SUITE)
    pipeline(asker, Answers({"France": "Paris"}), cache=cache).record("q1", capital)
    again = Answers({"France": "Lyon"})
    # (Another key: the asker asks each key once per run.)
    record = pipeline(asker, again, cache=cache, record_mode="all").record("q1-again", capital)
    assert record.grades == ["wrong"] and len(again.asked) == 1


def test_the_team_hooks_grade_first_and_their_mistakes_are_the_question_error(
    tmp_path: Path, asker: Asker
) -> None:
    capital, moon = plans(tmp_path, SUITE)
    answers = Answers({"France": "Marseille", "Moon": "Neil"})
    hooked = pipeline(
        asker,
        answers,
        hooks=Hooks(grade=lambda plan, reply: "correct" if reply == "Marseille" else None),
    )
    assert hooked.record("q1", capital).grades == ["correct"]
    assert hooked.record("q2", moon).grades == ["wrong"]  # no opinion: the rules decide
    broken = pipeline(asker, answers, hooks=Hooks(is_abstention=lambda plan, reply: "maybe"))
    record = broken.record("q1", capital)
    assert record.grades == ["error"]
    assert "pytest_abstain_is_abstention returned 'maybe'" in (record.errors[0] or "")


JUDGED = """
judge: always
questions:
  - {id: first, question: "First question?", answer: alpha}
  - {id: second, question: "Second question?", answer: beta}
"""


def test_the_judge_works_ahead_of_the_records_asked_for(tmp_path: Path, asker: Asker) -> None:
    # When the first record is asked for, every later question whose replies are in is sent
    # to the judge too, before anyone asks for its record: the judge never waits on pytest.
    judged: list[str] = []

    def judge(prompt: str) -> str:
        judged.append(prompt)
        return "Verdict: CORRECT"

    first, second = plans(tmp_path, JUDGED)
    run = pipeline(asker, Answers({"First": "alpha", "Second": "beta"}), judge)
    futures = run.submit("q1", first) + run.submit("q2", second)
    # Done callbacks run in the order they were added, after the pipeline's own: once ours
    # have run, the pipeline knows that every reply is in.
    seen = threading.Semaphore(0)
    for future in futures:
        future.add_done_callback(lambda _: seen.release())
    for _ in futures:
        assert seen.acquire(timeout=60)
    record = run.record("q1", first)
    assert record.grades == ["correct"] and record.graded_by == ["judge"]
    # Two replies, and both verdicts already sent, though only the first record was asked for.
    assert asker.progress().submitted == 4
    run.record("q2", second)
    assert len(judged) == 2  # the second verdict was not asked twice


def test_a_missing_judge_is_a_set_up_error(tmp_path: Path, asker: Asker) -> None:
    first, _ = plans(tmp_path, JUDGED)
    run = pipeline(asker, Answers({"First": "alpha"}))
    with pytest.raises(SetupError):
        run.record("q1", first)


def test_an_unreadable_verdict_is_an_error_and_never_cached(tmp_path: Path, asker: Asker) -> None:
    cache = MemoryCache()
    first, _ = plans(tmp_path, JUDGED)
    run = pipeline(asker, Answers({"First": "alpha"}), lambda prompt: "I think so", cache=cache)
    record = run.record("q1", first)
    assert record.grades == ["error"] and "verdict" in (record.errors[0] or "").lower()
    assert len(cache.entries) == 1  # the model's reply only


def test_the_same_failure_everywhere_stops_the_run(tmp_path: Path, asker: Asker) -> None:
    def down(prompt: str) -> str:
        raise ConnectionError("connection refused")

    suite = "questions:\n" + "".join(
        f"  - {{id: q{i}, question: 'Question {i}?', answer: x}}\n"
        for i in range(STOP_AFTER_SAME_FAILURES + 3)
    )
    questions = plans(tmp_path, suite)
    run = pipeline(asker, down)
    for index, plan in enumerate(questions[:STOP_AFTER_SAME_FAILURES]):
        assert run.record(f"q{index}", plan).grades == ["error"]
    assert run.stopped is not None and "connection refused" in run.stopped
    with pytest.raises(NotAsked):
        run.record("late", questions[-1])


def test_a_dry_run_counts_what_would_be_asked(tmp_path: Path, asker: Asker) -> None:
    cache = MemoryCache()
    capital, moon = plans(tmp_path, SUITE)
    answers = Answers({"France": "Paris", "Moon": "I don't know"})
    pipeline(asker, answers, cache=cache).record("q1", capital)
    dry = dry_run(pipeline(asker, answers, cache=cache), [(capital, False), (moon, False)])
    assert dry.lines() == ["suite: 2 replies, 1 in the cache, 1 to ask"]
    assert dry.total().startswith("dry run: 2 replies, 1 answered by the cache, 1 requests")
    assert len(answers.asked) == 1
