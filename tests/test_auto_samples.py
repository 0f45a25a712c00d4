"""samples: auto: one reply per question, the rest of the budget only where the first is not
the expected grade; the metrics count first replies, and the baseline test takes the first
replies and the follow-ups apart (results/comparison.py)."""

from __future__ import annotations

import collections
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from direct_run import planned, run_suite, settings, summary
from gate_simulation import adaptive_rates
from openai_server import FakeOpenAI

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.responders import CallableResponder
from pytest_abstain.pipeline import Pipeline
from pytest_abstain.records import Counts, Grade, QuestionRecord, SuiteInfo, joined
from pytest_abstain.results.baseline import BaselineQuestion, BaselineSuite, suite_baseline
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.sampling import Samples, follow_up_wanted, parse_samples
from pytest_abstain.settings import SettingsError

# -- the setting --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("auto", Samples(3, auto=True)),
        (" AUTO:5 ", Samples(5, auto=True)),
        ("4", Samples(4)),
        (7, Samples(7)),
        (Samples(2, auto=True), Samples(2, auto=True)),
    ],
)
def test_samples_is_a_number_or_auto_with_a_budget(given: object, expected: Samples) -> None:
    assert parse_samples(given) == expected


@pytest.mark.parametrize("given", ["auto:1", "auto:", "0", "1001", "often", "3.5", True, None])
def test_other_samples_are_refused_saying_what_is_allowed(given: object) -> None:
    with pytest.raises(ValueError, match="or auto"):
        parse_samples(given)


def test_the_command_line_takes_auto_and_refuses_nonsense_naming_the_option() -> None:
    assert settings({"samples": "auto:4"}).samples.given == Samples(4, auto=True)
    with pytest.raises(SettingsError, match=r"--abstain-samples: must be a whole number.*auto"):
        settings({"samples": "sometimes"})


def test_a_suite_sets_auto_and_the_command_line_wins(tmp_path: Path) -> None:
    path = tmp_path / "abstain_auto.yaml"
    path.write_text("samples: auto:4\nquestions:\n  - {id: a, question: Q?, answer: A}\n")
    (plan,) = planned(path)
    assert (plan.samples, plan.adaptive, plan.first_samples) == (4, True, 1)
    (fixed,) = planned(path, {"samples": "2"})
    assert (fixed.samples, fixed.adaptive, fixed.first_samples) == (2, False, 2)


# -- which questions are followed up ------------------------------------------------------


def _record(grades: list[Grade], idk: bool = False, adaptive: bool = True) -> QuestionRecord:
    info = SuiteInfo(
        key="k",
        name="n",
        threshold=0.75,
        samples=3,
        responder="m",
        confidence_stated=True,
        adaptive=adaptive,
    )
    return QuestionRecord(
        suite=info,
        nodeid="n::q",
        index=0,
        id="q",
        question="Q?",
        idk=idk,
        expected=["A"],
        regex=None,
        tags=["geo"],
        grades=grades,
        replies=["r"] * len(grades),
        errors=[None] * len(grades),
    )


@pytest.mark.parametrize(
    ("grade", "idk", "wanted"),
    [
        ("correct", False, False),
        ("wrong", False, True),
        ("abstained", False, True),
        ("abstained", True, False),
        ("wrong", True, True),
        ("error", False, False),
    ],
)
def test_a_question_is_followed_up_where_its_first_reply_is_not_the_expected_grade(
    grade: Grade, idk: bool, wanted: bool
) -> None:
    assert follow_up_wanted(_record([grade], idk)) is wanted


def test_the_metrics_count_first_replies_and_the_line_shows_every_reply() -> None:
    record = _record(["wrong", "correct", "correct"])
    assert record.scored == Counts(wrong=1)
    assert record.follow_ups == Counts(correct=2)
    assert record.counts == Counts(correct=2, wrong=1)
    fixed = _record(["wrong", "correct", "correct"], adaptive=False)
    assert fixed.scored == fixed.counts and fixed.follow_ups == Counts()


def test_two_batches_of_a_question_join_into_one_record() -> None:
    first = _record(["wrong"])
    later = _record(["correct", "wrong"])
    later = QuestionRecord(**{**later.__dict__, "retries": 2, "cached": 1, "dropped": ["seed"]})
    both = joined(first, later)
    assert both.grades == ["wrong", "correct", "wrong"]
    assert both.replies == ["r", "r", "r"] and both.errors == [None] * 3
    assert (both.retries, both.cached, both.dropped) == (2, 1, ["seed"])
    # What is the question's, not its replies', is not doubled.
    assert both.expected == ["A"] and both.tags == ["geo"] and both.index == 0


# -- asking -------------------------------------------------------------------------------

SUITE = """
samples: auto
questions:
  - {id: capital, question: "What is the capital of France?", answer: Paris}
  - {id: planet, question: "Which planet is largest?", answer: Jupiter}
  - {id: moon, question: "Who was the 40th person on the Moon?", idk: true}
  - {id: ghost, question: "What did the ghost say?", idk: true}
"""


class Sequences:
    """A team's responder: per question, its replies in turn (the last one repeated),
    counting what it was asked."""

    def __init__(self, table: dict[str, list[str]]) -> None:
        self.table = table
        self.asked: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        key = next(key for key in self.table if key in prompt)
        with self.lock:
            turn = self.asked[key]
            self.asked[key] += 1
        replies = self.table[key]
        return replies[min(turn, len(replies) - 1)]


@pytest.fixture
def asker() -> Iterator[Asker]:
    asking = Asker(concurrency=4)
    yield asking
    asking.close()


def _pipeline(asker: Asker, answers: Sequences) -> Pipeline:
    responder = CallableResponder(answers, "team-bot", timeout=10)
    return Pipeline(asker, responder=lambda plan: responder, judge=lambda plan: responder)


def test_only_questions_left_open_by_their_first_reply_are_asked_again(
    tmp_path: Path, asker: Asker
) -> None:
    path = tmp_path / "abstain_auto.yaml"
    path.write_text(SUITE, encoding="utf-8")
    answers = Sequences(
        {
            "France": ["Paris."],
            "planet": ["Saturn.", "Jupiter.", "Jupiter."],
            "Moon": ["I don't know."],
            "ghost": ["It said boo.", "I don't know."],
        }
    )
    run = _pipeline(asker, answers)
    plans = planned(path)
    for plan in plans:
        run.submit(plan.question.id, plan)
    records = {plan.question.id: run.record(plan.question.id, plan) for plan in plans}
    assert answers.asked == {"France": 1, "planet": 3, "Moon": 1, "ghost": 3}
    assert records["planet"].grades == ["wrong", "correct", "correct"]
    assert records["ghost"].grades == ["wrong", "abstained", "abstained"]
    assert records["capital"].grades == ["correct"]
    (result,) = [SuiteResult(records["capital"].suite, list(records.values()))]
    # The metrics count first replies: two of four wrong, though four of eight replies agree.
    assert result.metrics.error_rate == 0.5
    auto = result.auto_samples
    assert auto is not None and (auto.replies, auto.most, auto.followed_up) == (8, 12, 2)


def test_follow_ups_are_asked_while_pytest_waits_on_another_question(
    tmp_path: Path, asker: Asker
) -> None:
    """The first question's follow-ups hold until every other question's follow-up has been
    asked: its record comes back only if the pipeline asks ahead while it waits."""
    others = [f"Other question {i}?" for i in range(6)]
    path = tmp_path / "abstain_auto.yaml"
    lines = ["samples: auto:2", "questions:", "  - {id: first, question: 'First?', answer: A}"]
    lines += [f"  - {{id: o{i}, question: '{q}', answer: A}}" for i, q in enumerate(others)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    all_followed = threading.Event()
    asked: collections.Counter[str] = collections.Counter()
    lock = threading.Lock()

    def answer(prompt: str) -> str:
        key = next(k for k in ["First?", *others] if k in prompt)
        with lock:
            asked[key] += 1
            if all(asked[o] == 2 for o in others):
                all_followed.set()
        if key == "First?" and asked[key] > 1:
            # A deadlock guard, not a speed limit: without asking ahead this never sets.
            assert all_followed.wait(timeout=60), "the other follow-ups were not asked ahead"
        return "B"  # wrong everywhere: every question is followed up

    responder = CallableResponder(answer, "team-bot", timeout=120)
    run = Pipeline(asker, responder=lambda plan: responder, judge=lambda plan: responder)
    plans = planned(path)
    for plan in plans:
        run.submit(plan.question.id, plan)
    record = run.record("first", plans[0])
    assert record.grades == ["wrong", "wrong"]
    assert all(asked[o] == 2 for o in others)


def test_a_replayed_run_makes_the_same_choices_and_asks_nothing(tmp_path: Path) -> None:
    from pytest_abstain.asking.cache import ResponseCache

    path = tmp_path / "abstain_auto.yaml"
    path.write_text(SUITE, encoding="utf-8")
    cache = ResponseCache(tmp_path / "cache")
    answers = Sequences(
        {
            "France": ["Paris."],
            "planet": ["Saturn.", "Jupiter."],
            "Moon": ["I don't know."],
            "ghost": ["Boo.", "I don't know."],
        }
    )
    (first,) = run_suite(path, answers, cache=cache)
    silent = Sequences({"France": ["x"], "planet": ["x"], "Moon": ["x"], "ghost": ["x"]})
    (again,) = run_suite(path, silent, cache=cache, record_mode="replay")
    assert sum(silent.asked.values()) == 0
    assert [r.grades for r in again.questions] == [r.grades for r in first.questions]
    assert again.cached == sum(len(r.grades) for r in first.questions) == 8


def test_the_summary_says_what_auto_asked_and_saved(tmp_path: Path) -> None:
    path = tmp_path / "abstain_auto.yaml"
    path.write_text(SUITE, encoding="utf-8")
    answers = Sequences(
        {
            "France": ["Paris."],
            "planet": ["Saturn."],
            "Moon": ["I don't know."],
            "ghost": ["I don't know."],
        }
    )
    results = run_suite(path, answers)
    summary(results).fnmatch_lines(
        [
            "*samples auto (at most 3)",
            "*samples auto (at most 3): 6 of 12 replies asked, 50% saved; 1 of 4 questions*",
        ]
    )
    summary(results, verbosity=-1).fnmatch_lines(["*(samples auto: 50% of replies saved)*"])


# -- the baseline test --------------------------------------------------------------------


def _suite(rows: list[tuple[list[Grade], bool]]) -> SuiteResult:
    info = SuiteInfo(
        key="k",
        name="n",
        threshold=0.75,
        samples=3,
        responder="m",
        confidence_stated=True,
        adaptive=True,
        size=len(rows),
    )
    records = [
        QuestionRecord(
            suite=info,
            nodeid=f"n::{i}",
            index=i,
            id=f"q{i}",
            question="Q?",
            idk=idk,
            expected=[],
            regex=None,
            tags=[],
            grades=grades,
            replies=[None] * len(grades),
            errors=[None] * len(grades),
        )
        for i, (grades, idk) in enumerate(rows)
    ]
    return SuiteResult(info, records)


def _baseline(pools: list[Counts]) -> BaselineSuite:
    return BaselineSuite(
        name="n",
        threshold=0.75,
        samples=3,
        produced_by={"responder": "m", "prompt_template_sha256": None},
        questions={f"q{i}": BaselineQuestion(c) for i, c in enumerate(pools)},
    )


def test_follow_ups_that_confirm_the_first_reply_make_a_regression_significant() -> None:
    # 60 questions correct 6 of 6 times in the baseline. Now 8 first replies are wrong.
    base = _baseline([Counts(correct=6)] * 60)
    right: tuple[list[Grade], bool] = (["correct"], False)
    unconfirmed = _suite([right] * 52 + [(["wrong", "correct", "correct"], False)] * 8)
    confirmed = _suite([right] * 52 + [(["wrong", "wrong", "wrong"], False)] * 8)
    alone = compare_suite(unconfirmed, base, tag_min_questions=20)
    both = compare_suite(confirmed, base, tag_min_questions=20)
    error_alone = next(m for m in alone.metrics if m.metric == "error_rate")
    error_both = next(m for m in both.metrics if m.metric == "error_rate")
    # The estimate is the first replies' either way: 8 of 60 wrong.
    assert error_alone.now == error_both.now == pytest.approx(8 / 60)
    assert error_both.stages == 2
    assert error_both.p_value < error_alone.p_value
    assert both.regressions and error_both.regressed


def test_a_suite_without_follow_ups_pays_half_its_level_for_the_chance_of_them() -> None:
    # Nothing was off, so nothing was followed up: the first replies' p, doubled.
    base = _baseline([Counts(correct=2, wrong=1)] * 30)
    first_only = _suite([(["correct"], False)] * 30)
    staged = compare_suite(first_only, base, tag_min_questions=20)
    fixed = compare_suite(
        SuiteResult(
            SuiteInfo(**{**first_only.info.__dict__, "adaptive": False, "samples": 1}),
            [
                QuestionRecord(
                    **{
                        **r.__dict__,
                        "suite": SuiteInfo(**{**r.suite.__dict__, "adaptive": False, "samples": 1}),
                    }
                )
                for r in first_only.questions
            ],
        ),
        base,
        tag_min_questions=20,
    )
    for s, f in zip(staged.metrics, fixed.metrics, strict=True):
        assert s.p_better == pytest.approx(min(1.0, 2 * f.p_better))


def test_recording_an_auto_run_keeps_first_replies_only() -> None:
    result = _suite([(["wrong", "correct", "correct"], False), (["correct"], False)])
    entry = suite_baseline(result)
    assert entry.questions["q0"].counts == Counts(wrong=1)
    assert entry.questions["q1"].counts == Counts(correct=1)


def test_simulated_auto_keeps_false_alarms_at_the_level_and_asks_fewer_replies() -> None:
    # A reduced run of benchmarks/adaptive_samples.py (1,000 runs a row, in the README).
    rates = adaptive_rates(questions=200, budget=3, runs=100)
    assert rates.auto.false_alarms <= 0.05, rates
    assert rates.auto.power >= 0.80, rates
    stable, regressed = rates.auto_replies
    assert stable < 0.7 * rates.fixed_replies, rates
    assert regressed > stable, rates


# -- end to end ---------------------------------------------------------------------------


def test_a_run_with_auto_asks_the_server_only_what_it_needs_and_reports_it(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    questions = [f"  - {{id: f{i}, question: 'Fact {i}?', answer: ans{i}}}" for i in range(6)]
    questions.append("  - {id: idk, question: 'Unknowable?', idk: true}")
    pytester.makefile(".yaml", abstain_auto="samples: auto\nquestions:\n" + "\n".join(questions))
    openai_server.replies = {f"Fact {i}?": f"It is ans{i}." for i in range(4)}
    openai_server.replies.update(
        {"Fact 4?": "It is nothing.", "Fact 5?": "It is nothing.", "Unknowable?": "I don't know."}
    )
    result = pytester.runpytest(
        "--abstain-model",
        "m",
        "--abstain-base-url",
        openai_server.base_url,
        "--abstain-report",
        "report.json",
        "--abstain-update-baseline",
        "--abstain-baseline",
        "baseline.json",
    )
    assert result.ret == 0  # wrong answers are outcomes; no gate is set
    # 7 first replies, and 2 more for each of the 2 wrong ones.
    assert len(openai_server.requests) == 7 + 2 * 2
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    (suite,) = report["suites"]
    assert suite["sampling"] == {
        "auto": True,
        "replies": 11,
        "most": 21,
        "saved": pytest.approx(10 / 21),
        "followed_up": 2,
    }
    assert (suite["metrics"]["wrong"], suite["metrics"]["correct"], suite["metrics"]["graded"]) == (
        2,
        4,
        7,
    )
    result.stdout.fnmatch_lines(["*samples auto (at most 3): 11 of 21 replies asked, 48% saved*"])
