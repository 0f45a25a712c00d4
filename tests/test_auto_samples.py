"""samples: auto: a first reply of every question of a suite, then the rest of the budget of
each only if those leave the gate's verdict open (results/settling.py)."""

from __future__ import annotations

import collections
import dataclasses
import json
import re
import threading
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from direct_run import MemoryCache, planned, settings, summary
from gate_simulation import adaptive_rates
from openai_server import FakeOpenAI

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.responders import CallableResponder
from pytest_abstain.dry_run import dry_run
from pytest_abstain.pipeline import Hooks, Pipeline
from pytest_abstain.plan import QuestionPlan
from pytest_abstain.records import Counts, Grade, QuestionRecord, SuiteInfo, joined
from pytest_abstain.results.baseline import BaselineQuestion, BaselineSuite
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.settling import futility_level, settle
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.sampling import Samples, Settled, parse_samples
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


def test_a_critical_question_gets_its_whole_budget_from_the_start(tmp_path: Path) -> None:
    path = tmp_path / "abstain_auto.yaml"
    path.write_text(
        "samples: auto\nquestions:\n  - {id: a, question: Q?, answer: A, critical: true}\n"
    )
    (plan,) = planned(path)
    assert plan.first_samples == plan.samples == 3


def _record(grades: list[Grade], idk: bool = False) -> QuestionRecord:
    info = SuiteInfo(
        key="k", name="n", threshold=0.75, samples=3, responder="m", confidence_stated=True,
        adaptive=True,
    )  # fmt: skip
    return QuestionRecord(
        suite=info, nodeid="n::q", index=0, id="q", question="Q?", idk=idk, expected=["A"],
        regex=None, tags=["geo"], grades=grades, replies=["r"] * len(grades),
        errors=[None] * len(grades),
    )  # fmt: skip


def test_two_batches_of_a_question_join_into_one_record() -> None:
    first = _record(["wrong"])
    later = dataclasses.replace(
        _record(["correct", "wrong"]), retries=2, cached=1, dropped=["seed"]
    )
    both = joined(first, later)
    assert both.grades == ["wrong", "correct", "wrong"]
    assert both.replies == ["r", "r", "r"] and both.errors == [None] * 3
    assert (both.retries, both.cached, both.dropped) == (2, 1, ["seed"])
    # What is the question's, not its replies', is not doubled.
    assert both.expected == ["A"] and both.tags == ["geo"] and both.index == 0


def test_the_one_line_summary_says_what_auto_saved_or_that_it_asked_everything() -> None:
    settled = [dataclasses.replace(_record(["correct"]), sampling="settled")]
    whole = [dataclasses.replace(_record(["correct"] * 3), sampling="recording")]
    for records, shown in ((settled, "67% of replies saved"), (whole, "the whole budget")):
        lines = summary([SuiteResult(records[0].suite, records)], verbosity=-1)
        lines.fnmatch_lines([f"*(samples auto: {shown})*"])


# -- the decision -------------------------------------------------------------------------


def _first_replies(
    rows: list[tuple[Grade, bool]], max_error_rate: float | None = None
) -> SuiteResult:
    suite = SuiteInfo(
        key="k", name="n", threshold=0.75, samples=3, responder="m", confidence_stated=True,
        adaptive=True, size=len(rows), max_error_rate=max_error_rate,
    )  # fmt: skip
    records = [
        QuestionRecord(
            suite=suite,
            nodeid=f"n::{i}",
            index=i,
            id=f"q{i}",
            question="Q?",
            idk=idk,
            expected=[],
            regex=None,
            tags=[],
            grades=[grade],
            replies=[None],
            errors=[None],
        )
        for i, (grade, idk) in enumerate(rows)
    ]
    return SuiteResult(suite, records)


def _baseline(pools: list[Counts]) -> BaselineSuite:
    return BaselineSuite(
        name="n", threshold=0.75, samples=3,
        produced_by={"responder": "m", "prompt_template_sha256": None},
        questions={f"q{i}": BaselineQuestion(c) for i, c in enumerate(pools)},
    )  # fmt: skip


#: 60 questions, two in three right every time in the baseline, the rest mixed.
POOLS = [Counts(correct=3)] * 40 + [Counts(correct=2, wrong=1)] * 20
RIGHT: tuple[Grade, bool] = ("correct", False)
WRONG: tuple[Grade, bool] = ("wrong", False)
AS_BEFORE = [RIGHT] * 54 + [WRONG] * 6


def test_first_replies_like_the_baseline_settle_the_suite() -> None:
    settled = settle(_first_replies(AS_BEFORE), _baseline(POOLS), tag_min_questions=20)
    assert not settled.ask_rest
    assert settled.why == ("settled on first replies: every test against the baseline at p >= 0.12")


def test_first_replies_that_look_worse_ask_the_rest_naming_the_open_test() -> None:
    worse = [WRONG] * 8 + AS_BEFORE[8:]
    settled = settle(_first_replies(worse), _baseline(POOLS), tag_min_questions=20)
    assert settled.ask_rest
    assert re.fullmatch(
        r"(score|error rate) against the baseline is open on first replies "
        r"\(p=0\.\d+, below 0\.12\)",
        settled.why,
    ), settled.why


def test_a_floor_that_first_replies_do_not_pass_asks_the_rest() -> None:
    first = _first_replies(AS_BEFORE, max_error_rate=0.05)
    settled = settle(first, None, tag_min_questions=20)
    assert settled == Settled(True, "max_error_rate is not settled on first replies")
    assert not settle(_first_replies(AS_BEFORE, max_error_rate=0.5), None, 20).ask_rest


def test_without_a_gate_there_is_nothing_to_settle() -> None:
    assert settle(_first_replies(AS_BEFORE), None, 20) == Settled(
        False, "settled on first replies: no gate to settle"
    )


def test_the_futility_level_stays_above_the_level_the_gate_rejects_at() -> None:
    assert futility_level(0.05) == 0.12
    assert futility_level(0.2) == 0.4
    # A suite stopped on first replies cannot fail its baseline test: none of its p-values
    # is below the futility level, which is above the gate's.
    result = _first_replies(AS_BEFORE)
    comparison = compare_suite(result, _baseline(POOLS), 20)
    assert min(m.p_value for m in comparison.metrics) >= futility_level(0.05)
    assert not comparison.regressions


# -- asking -------------------------------------------------------------------------------

SUITE = """
samples: auto
questions:
  - {id: capital, question: "What is the capital of France?", answer: Paris}
  - {id: planet, question: "Which planet is largest?", answer: Jupiter}
  - {id: moon, question: "Who was the 40th person on the Moon?", idk: true}
"""


class Counting:
    """A team's responder answering from a table, counting what it was asked per key."""

    def __init__(self, table: dict[str, str]) -> None:
        self.table = table
        self.asked: collections.Counter[str] = collections.Counter()
        self.lock = threading.Lock()

    def __call__(self, prompt: str) -> str:
        key = next(key for key in self.table if key in prompt)
        with self.lock:
            self.asked[key] += 1
        return self.table[key]


@pytest.fixture
def asker() -> Iterator[Asker]:
    asking = Asker(concurrency=4)
    yield asking
    asking.close()


ANSWERS = {"France": "Paris.", "planet": "Saturn.", "Moon": "I don't know."}


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "abstain_auto.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


Decide = Callable[[str, list[QuestionRecord]], Settled]


def _pipeline(
    asker: Asker,
    answer: Callable[[str], str],
    settle: Decide | None = None,
    *,
    cache: MemoryCache | None = None,
    record_mode: str = "missing",
    hooks: Hooks | None = None,
) -> Pipeline:
    """The pipeline with a team's responder, and `settle` standing in for the decision."""
    responder = CallableResponder(answer, "team-bot", timeout=10)
    hooks = hooks or Hooks()
    return Pipeline(
        asker, responder=lambda p: responder, judge=lambda p: responder, settle=settle,
        cache=cache, record_mode=record_mode, hooks=hooks,
    )  # fmt: skip


def _records_of(run: Pipeline, path: Path) -> list[QuestionRecord]:
    """The suite at `path` asked in two steps: submitted first, then recorded in order."""
    plans = {plan.question.id: plan for plan in planned(path)}
    run.sequential(next(iter(plans.values())).suite_key, plans)
    for key, plan in plans.items():
        run.submit(key, plan)
    return [run.record(key, plan) for key, plan in plans.items()]


def _sequential(
    asker: Asker, answers: Counting, path: Path, ask_rest: bool
) -> tuple[list[QuestionRecord], list[dict[str, int]]]:
    """The suite at `path` asked in two steps, settled by a stand-in decision; the records,
    and what the responder had been asked when the decision was made."""
    seen: list[dict[str, int]] = []

    def decide(suite_key: str, firsts: list[QuestionRecord]) -> Settled:
        seen.append(dict(answers.asked))
        assert [len(r.grades) for r in firsts] == [1, 1, 1]
        return Settled(ask_rest, "because the test says so")

    graded: list[str] = []

    def grade_hook(plan: QuestionPlan, reply: str) -> None:
        graded.append(reply)  # no opinion: the rules grade; counted to see each graded once

    records = _records_of(_pipeline(asker, answers, decide, hooks=Hooks(grade=grade_hook)), path)
    assert len(graded) == sum(len(r.grades) for r in records)
    return records, seen


def test_a_settled_suite_is_asked_once_a_question(suite: Path, asker: Asker) -> None:
    answers = Counting(ANSWERS)
    records, _ = _sequential(asker, answers, suite, ask_rest=False)
    assert answers.asked == {"France": 1, "planet": 1, "Moon": 1}
    assert [r.grades for r in records] == [["correct"], ["wrong"], ["abstained"]]
    assert {r.sampling for r in records} == {"because the test says so"}
    auto = SuiteResult(records[0].suite, records).auto_samples
    assert auto is not None and (auto.replies, auto.most, auto.whole_budget) == (3, 9, False)


def test_an_open_suite_is_asked_the_rest_after_all_its_first_replies(
    suite: Path, asker: Asker
) -> None:
    answers = Counting(ANSWERS)
    records, seen = _sequential(asker, answers, suite, ask_rest=True)
    # Decided once, on every first reply and nothing more.
    assert seen == [{"France": 1, "planet": 1, "Moon": 1}]
    assert answers.asked == {"France": 3, "planet": 3, "Moon": 3}
    assert [r.grades for r in records] == [["correct"] * 3, ["wrong"] * 3, ["abstained"] * 3]
    auto = SuiteResult(records[0].suite, records).auto_samples
    assert auto is not None and (auto.replies, auto.saved, auto.whole_budget) == (9, 0.0, True)


def test_follow_ups_push_back_with_their_own_samples_turns(tmp_path: Path, asker: Asker) -> None:
    path = tmp_path / "abstain_auto.yaml"
    path.write_text(
        "samples: auto\nquestions:\n  - {id: c, question: Capital of France?, answer: Paris,"
        " pushback: true, distractors: [Lyon, Nice, Lille]}\n",
        encoding="utf-8",
    )
    go_on: Decide = lambda key, firsts: Settled(True, "go on")  # noqa: E731
    (record,) = _records_of(_pipeline(asker, lambda prompt: "Paris.", go_on), path)
    assert len(record.grades) == len(record.first_grades) == 3
    # Sample n is pushed back with the n-th distractor, follow-ups included: the record
    # says the turn each sample was sent (the pipeline and the record number them alike).
    turns = record.pushbacks
    assert [("Lyon" in (t or ""), "Nice" in (t or ""), "Lille" in (t or "")) for t in turns] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]


def test_a_suite_not_held_whole_is_asked_its_whole_budget_at_once(
    suite: Path, asker: Asker
) -> None:
    def never(suite_key: str, firsts: list[QuestionRecord]) -> Settled:
        raise AssertionError("a suite asked whole is not settled")

    run = _pipeline(asker, Counting(ANSWERS), never)
    (plan, *_) = planned(suite)
    run.whole_budget(plan.suite_key, "the worker holds part of it")
    record = run.record("capital", plan)
    assert record.grades == ["correct"] * 3 and record.sampling == "the worker holds part of it"


def test_a_replayed_run_makes_the_same_decision_and_asks_nothing(suite: Path, asker: Asker) -> None:
    # The decision goes by the first replies: the planet is wrong, so the rest is asked.
    def decide(suite_key: str, firsts: list[QuestionRecord]) -> Settled:
        return Settled(any(r.grades == ["wrong"] for r in firsts), "by the first replies")

    cache = MemoryCache()
    first = _records_of(_pipeline(asker, Counting(ANSWERS), decide, cache=cache), suite)
    silent = Counting({key: "x" for key in ANSWERS})
    replay = _pipeline(asker, silent, decide, cache=cache, record_mode="replay")
    again = _records_of(replay, suite)
    assert sum(silent.asked.values()) == 0
    assert [r.grades for r in again] == [r.grades for r in first]
    assert sum(r.cached for r in again) == 9


def test_a_dry_run_counts_first_replies_and_says_how_many_more_may_follow(
    suite: Path, asker: Asker
) -> None:
    answers = Counting(ANSWERS)
    dry = dry_run(_pipeline(asker, answers), [(plan, False) for plan in planned(suite)])
    assert dry.total().startswith(
        "dry run: 3 replies, 0 answered by the cache, 3 requests to make; "
        "samples auto: up to 6 more if the first leave it open"
    )
    assert sum(answers.asked.values()) == 0


def test_simulated_auto_keeps_false_alarms_at_the_level_and_asks_fewer_replies() -> None:
    # A reduced run of benchmarks/adaptive_samples.py (1,000 runs a row, in the README).
    rates = adaptive_rates(questions=200, budget=3, runs=100)
    assert rates.auto.false_alarms <= 0.05, rates
    assert rates.auto.power >= 0.90, rates
    stable, regressed = rates.auto_replies
    assert stable < 0.6 * rates.fixed_replies, rates
    assert regressed > 0.9 * rates.fixed_replies, rates


# -- end to end ---------------------------------------------------------------------------

FACTS = 24


def _auto_suite(pytester: pytest.Pytester, name: str = "auto") -> None:
    lines = ["samples: auto", "questions:"]
    lines += [f"  - {{id: f{i}, question: 'Fact {i}?', answer: ans{i}}}" for i in range(FACTS)]
    lines.append("  - {id: idk, question: 'Unknowable?', idk: true}")
    pytester.makefile(".yaml", **{f"abstain_{name}": "\n".join(lines) + "\n"})


def _run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-baseline", "baseline.json", "--abstain-report", "report.json", *extra,
    )  # fmt: skip


def _sampling(pytester: pytest.Pytester) -> dict[str, object]:
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    (suite,) = report["suites"]
    sampling: dict[str, object] = suite["sampling"]
    return sampling


def test_auto_records_its_whole_budget_settles_a_stable_run_and_confirms_a_regression(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    _auto_suite(pytester)
    questions = FACTS + 1
    openai_server.replies = {f"Fact {i}?": f"It is ans{i}." for i in range(FACTS)}
    openai_server.replies["Unknowable?"] = "I don't know."
    recorded = _run(pytester, openai_server, "--abstain-update-baseline")
    assert recorded.ret == 0
    # Recording asks the whole budget: what is recorded does not depend on what it finds.
    assert len(openai_server.requests) == 3 * questions
    assert str(_sampling(pytester)["why"]).startswith("recording the baseline: the whole budget")

    openai_server.requests.clear()
    stable = _run(
        pytester, openai_server, "--junitxml=out.xml", "--abstain-markdown", "summary.md",
        "--abstain-html", "report.html",
    )  # fmt: skip
    assert stable.ret == 0
    assert len(openai_server.requests) == questions
    stable.stdout.fnmatch_lines(
        ["*samples auto (at most 3): 25 of 75 replies asked, 67% saved: settled on first*"]
    )
    assert _sampling(pytester)["saved"] == pytest.approx(2 / 3)
    # Every output says it: the gate case's properties, the Markdown, the HTML.
    gate = ET.parse(pytester.path / "out.xml").find(".//testcase[@name='abstain-gate']")
    assert gate is not None
    properties = {p.get("name"): p.get("value") for p in gate.iter("property")}
    assert (properties["abstain_samples_asked"], properties["abstain_samples_budget"]) == (
        "25",
        "75",
    )
    markdown = (pytester.path / "summary.md").read_text(encoding="utf-8")
    assert "**Samples** auto (at most 3): 25 of 75 replies asked, 67% saved" in markdown
    html = (pytester.path / "report.html").read_text(encoding="utf-8")
    assert "samples auto (at most 3): 25 of 75 replies asked, 67% saved" in html

    openai_server.requests.clear()
    for i in range(8):
        openai_server.replies[f"Fact {i}?"] = "It is nothing."
    worse = _run(pytester, openai_server)
    # The first replies leave it open, the rest of the budget confirms it: the gate fails.
    assert worse.ret == 1
    assert len(openai_server.requests) == 3 * questions
    sampling = _sampling(pytester)
    assert sampling["whole_budget"] is True
    assert "against the baseline is open on first replies" in str(sampling["why"])
    worse.stdout.fnmatch_lines(["*error rate regressed against the baseline*"])


def test_under_xdist_a_suite_on_one_worker_is_settled_and_a_split_one_asked_whole(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    # Three suite files: --dist loadfile sends a worker more than one file at once, and every
    # suite queued there must be settled, not only the one running first.
    for name in ("a", "b", "c"):
        _auto_suite(pytester, name)
    questions = 3 * (FACTS + 1)
    openai_server.replies = {f"Fact {i}?": f"It is ans{i}." for i in range(FACTS)}
    assert _run(pytester, openai_server, "--abstain-update-baseline").ret == 0
    openai_server.requests.clear()
    whole_file = _run(pytester, openai_server, "-n", "2", "--dist", "loadfile")
    assert whole_file.ret == 0
    assert len(openai_server.requests) == questions
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert [s["sampling"]["replies"] for s in report["suites"]] == [FACTS + 1] * 3
    openai_server.requests.clear()
    split = _run(pytester, openai_server, "-n", "2", "--dist", "load")
    assert split.ret == 0
    assert len(openai_server.requests) == 3 * questions
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    whys = {s["sampling"]["why"] for s in report["suites"]}
    assert all("does not hold the whole suite" in why for why in whys), whys
