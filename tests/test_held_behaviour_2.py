"""More behaviour that a mutation changed without any test noticing (benchmarks/mutations.py
names each mutation and the test here that kills it). Direct and fast: no pytest run inside,
no wall clock."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from direct_run import plans_of

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.cache import CacheKey
from pytest_abstain.asking.responders import CallableResponder
from pytest_abstain.glue.xdist_bridge import attach_record, attached_record
from pytest_abstain.pipeline import Pipeline
from pytest_abstain.plan import QuestionPlan
from pytest_abstain.records import Counts, Grade, QuestionRecord, Reply, SuiteInfo
from pytest_abstain.results.baseline import BaselineQuestion, BaselineSuite
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.sweep import Finding, Sweep
from pytest_abstain.results.verdict import (
    EXIT_INTERNAL_ERROR,
    EXIT_OK,
    EXIT_TESTS_FAILED,
    Verdict,
    decide,
)


def info(key: str = "s", **fields: object) -> SuiteInfo:
    values: dict[str, object] = dict(
        key=key, name=key, threshold=0.75, samples=1, responder="m", confidence_stated=True
    )
    values.update(fields)
    return SuiteInfo(**values)  # type: ignore[arg-type]


def record(
    suite: SuiteInfo, qid: str, grade: Grade, index: int = 0, **fields: object
) -> QuestionRecord:
    values: dict[str, object] = dict(
        suite=suite, nodeid=f"{suite.key}::{qid}", index=index, id=qid, question=f"{qid}?",
        idk=False, expected=["A"], regex=None, tags=[], grades=[grade],
        replies=[None if grade == "error" else "A"],
        errors=["HTTP 500" if grade == "error" else None],
    )  # fmt: skip
    values.update(fields)
    return QuestionRecord(**values)  # type: ignore[arg-type]


# --- error budgets and runs cut short ----------------------------------------------------------


def test_a_suite_cut_short_has_its_errors_unexcused() -> None:
    # Mutation: the error budget excusing the errors of a suite -x stopped (2 of 6 asked).
    budget = info(max_errors="5", size=6)
    questions = [record(budget, "q0", "correct"), record(budget, "q1", "error", 1)]
    assert SuiteResult(budget, list(questions)).errors_excused
    cut_short = SuiteResult(budget, list(questions), evaluated=False)
    assert not cut_short.errors_excused
    assert decide([cut_short], []).unexcused_errors == ("s",)


def test_an_incomplete_run_forgives_no_question_error() -> None:
    # Mutation: the verdict forgiving question errors of a run that did not ask everything.
    within_budget = Verdict(question_errors=1)
    assert within_budget.forgiven == 1
    assert within_budget.exit_status(EXIT_TESTS_FAILED, 1, run_failed=False) == EXIT_OK
    incomplete = Verdict(question_errors=1, complete=False)
    assert incomplete.forgiven == 0
    assert incomplete.exit_status(EXIT_TESTS_FAILED, 1, run_failed=False) == EXIT_TESTS_FAILED


# --- the verdict -------------------------------------------------------------------------------


def test_a_failed_calibration_audit_fails_the_verdict() -> None:
    # Mutation: the verdict no longer reading the failed audits.
    finding = Finding("coverage falls as t rises", "abstains less at t=0.9", 0.001, failed=True)
    audited = Sweep(key="sweep", name="sweep", significance=0.05, rows=[], findings=[finding])
    assert decide([], [audited]).passed  # an audit that does not gate only reports
    gated = decide([], [dataclasses.replace(audited, gated=True)])
    assert gated.failed_audits == ("sweep",)
    assert not gated.passed and gated.status() == "failed"


def test_a_run_that_went_wrong_never_exits_ok() -> None:
    # Mutation: a run whose report could not be written (or whose worker crashed) exiting 0.
    verdict = Verdict()
    assert verdict.passed
    assert verdict.exit_status(EXIT_OK, 0, run_failed=False) == EXIT_OK
    assert verdict.exit_status(EXIT_OK, 0, run_failed=True) == EXIT_INTERNAL_ERROR
    assert verdict.status(run_failed=True) == "failed"
    # pytest's own failure stays what it was.
    assert verdict.exit_status(EXIT_TESTS_FAILED, 1, run_failed=True) == EXIT_TESTS_FAILED


# --- the baseline gate's multiple-testing correction ------------------------------------------


TAGS = ("a", "b", "c", "d")


def tagged_suite(wrong: int) -> tuple[SuiteResult, BaselineSuite]:
    """40 questions, ten per tag, all correct in the baseline; now the first `wrong` of tag
    "a" are wrong. The gate tests the suite and each tag (score, error rate and abstention on
    answerable questions): 15 tests."""
    suite = info("tagged", size=40)
    result = SuiteResult(suite)
    for index in range(40):
        tag = TAGS[index // 10]
        grade: Grade = "wrong" if tag == "a" and index < wrong else "correct"
        result.questions.append(record(suite, f"q{index}", grade, index, tags=[tag]))
    base = BaselineSuite(
        name="tagged", threshold=0.75, samples=1, produced_by={},
        questions={r.id: BaselineQuestion(Counts(correct=1)) for r in result.questions},
    )  # fmt: skip
    return result, base


def test_the_baseline_gate_corrects_for_testing_every_tag() -> None:
    # Mutation: Holm's correction removed, each of the 15 tests at the full alpha.
    # Five of 40 questions newly wrong: p = 1/32 for the suite and for tag a, below 0.05 but
    # above 0.05/15. Each test at 0.05 would call it a regression; one of 15, it is not.
    result, base = tagged_suite(wrong=5)
    comparison = compare_suite(result, base, tag_min_questions=10)
    assert len(comparison.metrics) == 15
    smallest = min(m.p_value for m in comparison.metrics)
    assert 0.05 / 15 < smallest <= 0.05
    assert comparison.regressions == []
    # Nine newly wrong: p = 1/512, below 0.05/15: the corrected gate still fails it. (Eight,
    # p = 1/256, passed 0.05/10 when the family was 10 tests; 15 tests cost that power.)
    result, base = tagged_suite(wrong=9)
    failed = compare_suite(result, base, tag_min_questions=10)
    assert {m.scope for m in failed.metrics if m.regressed} == {"suite", "tag a"}


# --- the pipeline: cache keys and replay -------------------------------------------------------


def plans(tmp_path: Path, suite: str) -> list[QuestionPlan]:
    return plans_of(tmp_path, suite, "abstain_held.yaml")


class MemoryCache:
    root = "memory"

    def __init__(self) -> None:
        self.entries: dict[str, Reply] = {}

    def get(self, key: CacheKey) -> Reply | None:
        return self.entries.get(key.digest)

    def put(self, key: CacheKey, reply: Reply) -> None:
        self.entries[key.digest] = reply

    def explain_miss(self, key: CacheKey) -> str:
        return "never asked"


class Counting:
    """A team's responder that numbers its replies and counts the requests."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.asked = 0

    def __call__(self, prompt: str) -> str:
        with self.lock:
            self.asked += 1
            return f"reply {self.asked}"


@pytest.fixture
def asker() -> Iterator[Asker]:
    asker = Asker(concurrency=4)
    yield asker
    asker.close()


def make_pipeline(asker: Asker, answers: Counting, cache: MemoryCache, mode: str) -> Pipeline:
    responder = CallableResponder(answers, "team-bot", timeout=10)
    return Pipeline(
        asker, responder=lambda plan: responder, judge=lambda plan: responder,
        cache=cache, record_mode=mode,
    )  # fmt: skip


SAMPLED = """
samples: 3
questions:
  - {id: capital, question: "What is the capital of France?", answer: Paris}
"""


def test_each_sample_has_its_own_cache_entry(tmp_path: Path, asker: Asker) -> None:
    # Mutation: the cache key leaving out the sample index, so a replayed run repeats the
    # first sample three times and the spread between samples is lost.
    (plan,) = plans(tmp_path, SAMPLED)
    cache = MemoryCache()
    first = make_pipeline(asker, Counting(), cache, "missing").record("asked", plan)
    assert sorted(first.replies) == ["reply 1", "reply 2", "reply 3"]  # type: ignore[type-var]
    assert len(cache.entries) == 3
    later = Counting()
    replayed = make_pipeline(asker, later, cache, "replay").record("replayed", plan)
    assert later.asked == 0
    assert replayed.replies == first.replies and replayed.grades == first.grades


def test_replay_only_answers_a_miss_with_an_error_not_a_request(
    tmp_path: Path, asker: Asker
) -> None:
    # Mutation: a replay-only miss asked the (paid) endpoint.
    (plan,) = plans(tmp_path, SAMPLED)
    answers = Counting()
    replayed = make_pipeline(asker, answers, MemoryCache(), "replay").record("q", plan)
    assert answers.asked == 0
    assert replayed.grades == ["error"] * 3 and replayed.replies == [None] * 3


# --- records crossing xdist --------------------------------------------------------------------


def test_a_record_crosses_to_the_controller_whole(pytestconfig: pytest.Config) -> None:
    # Mutation: the record put on the report without its replies. The report goes through
    # pytest's own serialisation hooks, as pytest-xdist sends it.
    suite = info("s", samples=2)
    sent = record(
        suite, "q", "correct", grades=["correct", "wrong"], replies=["Paris", "Lyon"],
        errors=[None, None], graded_by=["rules", "judge"], rule_grades=["correct", "correct"],
        doubts=[None, "hedge"], cached=1, retries=2, prompt_tokens=7, completion_tokens=3,
    )  # fmt: skip
    report = pytest.TestReport("s::q", ("s", None, "q"), {}, "passed", None, "call")
    attach_record(report, sent)
    hook = pytestconfig.hook
    data = hook.pytest_report_to_serializable(config=pytestconfig, report=report)
    arrived = hook.pytest_report_from_serializable(config=pytestconfig, data=data)
    assert attached_record(arrived) == sent
