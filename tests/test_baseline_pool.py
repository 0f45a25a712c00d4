"""Baselines that accumulate: each recording pools its samples with the earlier ones, capped so
an old model ages out, restarted for an edited question, a changed setup or on request; older
files read as a pool of one; end to end, --abstain-update-baseline pools and
--abstain-baseline-restart starts afresh."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import jsonschema
import pytest
from openai_server import FakeOpenAI
from test_baseline import honest_replies, run, suite_text

from pytest_abstain.records import Counts, Grade, QuestionRecord, SuiteInfo
from pytest_abstain.results.baseline import (
    POOL_RUNS,
    Baseline,
    baseline_json,
    baseline_schema,
    read_baseline,
    updated,
    write_baseline,
)
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.suites import SuiteResult

KEY = "abstain_pool.yaml"


def run_of(grades: dict[str, list[Grade]], size: int | None = None, **info: object) -> SuiteResult:
    """A run in which question q got `grades[q]`; `size`: how many questions the suite has
    (more than ran: a partial run)."""
    samples = len(next(iter(grades.values())))
    suite = SuiteInfo(
        key=KEY, name="pool", threshold=0.75, samples=samples, responder="m",
        confidence_stated=True, size=size or len(grades), **info,  # type: ignore[arg-type]
    )  # fmt: skip
    records = [
        QuestionRecord(
            suite=suite,
            nodeid=f"{KEY}::{qid}",
            index=i,
            id=qid,
            question=f"What is {qid}?",
            idk=False,
            expected=["x"],
            regex=None,
            tags=[],
            grades=list(g),
            replies=[None] * len(g),
            errors=[None] * len(g),
        )
        for i, (qid, g) in enumerate(grades.items())
    ]
    return SuiteResult(suite, records)


def recorded(*runs: SuiteResult, restart: bool = False) -> Baseline:
    baseline: Baseline | None = None
    for index, result in enumerate(runs):
        baseline = updated(baseline, [result], restart=restart and index == len(runs) - 1).baseline
    assert baseline is not None
    return baseline


RIGHT: list[Grade] = ["correct"] * 3
WRONG: list[Grade] = ["wrong"] * 3


def test_recordings_pool_each_questions_samples_and_the_file_says_how_many(
    tmp_path: Path,
) -> None:
    first = run_of({"q0": ["correct", "correct", "wrong"], "q1": RIGHT})
    second = run_of({"q0": WRONG, "q1": RIGHT})
    baseline = recorded(first, second)
    entry = baseline.suites[KEY]
    assert entry.questions["q0"].counts == Counts(correct=2, wrong=4)
    assert entry.questions["q0"].runs == 2 and entry.recordings == 2
    write_baseline(tmp_path / "b.json", baseline)
    data = json.loads((tmp_path / "b.json").read_text())
    jsonschema.validate(data, baseline_schema())
    assert data["version"] == 2 and data["suites"][KEY]["recordings"] == 2
    assert data["suites"][KEY]["questions"]["q0"]["runs"] == 2
    again = read_baseline(tmp_path / "b.json")
    assert again is not None and again.suites[KEY].questions["q0"].counts == Counts(2, 4)
    # The comparison's baseline side is the pool: a third of q0's six samples right.
    comparison = compare_suite(second, again.suites[KEY], tag_min_questions=20)
    errors = next(m for m in comparison.metrics if m.metric == "error_rate")
    assert errors.baseline == pytest.approx((4 / 6 + 0) / 2)


def test_the_pool_is_capped_and_an_old_model_ages_out() -> None:
    baseline = recorded(*[run_of({"q0": RIGHT})] * POOL_RUNS)
    assert baseline.suites[KEY].questions["q0"].counts == Counts(correct=3 * POOL_RUNS)
    right_left = []
    for _ in range(12):
        baseline = updated(baseline, [run_of({"q0": WRONG})]).baseline
        counts = baseline.suites[KEY].questions["q0"].counts
        assert counts.graded == 3 * POOL_RUNS  # never more than the cap
        right_left.append(counts.correct)
    assert right_left == sorted(right_left, reverse=True)  # the old samples only leave
    assert right_left[0] == 3 * (POOL_RUNS - 1) and right_left[-1] <= 1
    assert baseline.suites[KEY].questions["q0"].runs == POOL_RUNS + 12


def test_the_same_recording_writes_the_same_pool() -> None:
    old = recorded(*[run_of({"q0": ["correct", "wrong", "abstained"]})] * POOL_RUNS)
    new = run_of({"q0": WRONG})
    first, second = updated(old, [new]).baseline, updated(old, [new]).baseline
    assert first.suites == second.suites


def test_an_edited_question_starts_a_new_pool_and_the_others_keep_theirs() -> None:
    old = recorded(run_of({"q0": RIGHT, "q1": RIGHT}), run_of({"q0": RIGHT, "q1": RIGHT}))
    edited = run_of({"q0": WRONG, "q1": WRONG})
    changed = dataclasses.replace(edited.questions[0], question="What else is q0?")
    edited = SuiteResult(edited.info, [changed, edited.questions[1]])
    entry = updated(old, [edited]).baseline.suites[KEY]
    assert (entry.questions["q0"].counts, entry.questions["q0"].runs) == (Counts(wrong=3), 1)
    assert (entry.questions["q1"].counts, entry.questions["q1"].runs) == (Counts(6, 3), 3)


def test_a_changed_setup_or_a_restart_starts_a_new_pool() -> None:
    old = recorded(run_of({"q0": RIGHT}, prompt_sha="a"), run_of({"q0": RIGHT}, prompt_sha="a"))
    assert old.suites[KEY].recordings == 2
    new_prompt = updated(old, [run_of({"q0": WRONG}, prompt_sha="b")]).baseline.suites[KEY]
    assert (new_prompt.recordings, new_prompt.questions["q0"].counts) == (1, Counts(wrong=3))
    same = run_of({"q0": WRONG}, prompt_sha="a")
    assert updated(old, [same]).baseline.suites[KEY].recordings == 3
    restarted = updated(old, [same], restart=True).baseline.suites[KEY]
    assert (restarted.recordings, restarted.questions["q0"].counts) == (1, Counts(wrong=3))


def test_questions_not_run_or_not_graded_keep_their_pool_and_deleted_ones_leave() -> None:
    old = recorded(run_of({"q0": RIGHT, "q1": RIGHT, "q2": RIGHT}))
    partial = run_of({"q0": WRONG}, size=3)
    assert partial.partial
    kept = updated(old, [partial]).baseline.suites[KEY].questions
    assert kept["q1"].counts == Counts(correct=3) and kept["q0"].counts == Counts(3, 3)
    errored: list[Grade] = ["error"] * 3
    full = run_of({"q0": WRONG, "q1": errored})  # q2 deleted from the suite
    after = updated(old, [full]).baseline.suites[KEY].questions
    assert set(after) == {"q0", "q1"} and after["q1"].counts == Counts(correct=3)


def test_a_version_1_file_reads_as_a_pool_of_one(tmp_path: Path) -> None:
    data = baseline_json(recorded(run_of({"q0": RIGHT})))
    data["version"] = 1
    for suite in data["suites"].values():
        del suite["recordings"], suite["pooled_since"]
        for question in suite["questions"].values():
            del question["runs"]
    (tmp_path / "b.json").write_text(json.dumps(data))
    old = read_baseline(tmp_path / "b.json")
    assert old is not None
    assert old.suites[KEY].questions["q0"].runs == 1 and old.suites[KEY].recordings == 1
    entry = updated(old, [run_of({"q0": WRONG})]).baseline.suites[KEY]
    assert (entry.questions["q0"].counts, entry.recordings) == (Counts(3, 3), 2)


def test_recording_pools_end_to_end_and_restart_starts_afresh(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_facts=suite_text())
    server = openai_server
    server.replies = honest_replies()
    for _ in range(2):
        assert run(pytester, server, "--abstain-update-baseline").ret == 0
    fact = json.loads((pytester.path / "baseline.json").read_text())["suites"]["abstain_facts.yaml"]
    assert fact["recordings"] == 2 and fact["questions"]["fact-0"]["runs"] == 2
    assert fact["questions"]["fact-0"]["correct"] == 2
    compared = run(pytester, server, "--abstain-report", "report.json")
    assert compared.ret == 0
    compared.stdout.fnmatch_lines(
        ["  vs baseline: 32 paired questions (baseline pooled from 2 recordings since 2*)"]
    )
    report = json.loads((pytester.path / "report.json").read_text())
    assert report["suites"][0]["baseline"]["baseline_pool"]["recordings"] == 2
    server.replies = {**honest_replies(), "Fact question 0?": "It is 1900."}
    assert run(pytester, server, "--abstain-baseline-restart").ret == 0
    fact = json.loads((pytester.path / "baseline.json").read_text())["suites"]["abstain_facts.yaml"]
    assert fact["recordings"] == 1
    assert (fact["questions"]["fact-0"]["wrong"], fact["questions"]["fact-0"]["runs"]) == (1, 1)
