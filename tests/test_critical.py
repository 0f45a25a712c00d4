"""critical: true, in the pure core: where a question's critical comes from (the question,
its suite, the ini, the command line), the clear errors for bad values, and a critical
question answered wrong failing its suite's gate whatever the score, in the verdict, the
JSON report, the terminal summary and the JUnit wording. (The JUnit XML of a real run is
in test_junit.py.)"""

from __future__ import annotations

import dataclasses
import html
import itertools
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from direct_run import gated, run_suite, summary
from suite_results import suite_result

from pytest_abstain.judging import DEFAULT_JUDGE_PROMPT
from pytest_abstain.plan import plan_question
from pytest_abstain.render.html import render_html
from pytest_abstain.render.json_report import build_report, report_schema
from pytest_abstain.render.junit import question_properties, wrong_message
from pytest_abstain.render.markdown import render_markdown
from pytest_abstain.results.suites import SuiteResult, overall_metrics
from pytest_abstain.settings import OPTIONS, resolve
from pytest_abstain.suite import SuiteError, load_suite, question_from_marker

SUITE = """
critical: true
questions:
  - {id: dose, question: What is the maximum daily dose of paracetamol?, answer: 4 g}
  - {id: capital, question: What is the capital of France?, answer: Paris, critical: false}
"""


def critical_of(tmp_path: Path, suite: str, cli: bool = False, ini: str = "") -> dict[str, bool]:
    """Each question's resolved critical, with --abstain-critical (`cli`) and the ini value."""
    path = tmp_path / "abstain_x.yaml"
    path.write_text(suite, encoding="utf-8")
    loaded = load_suite(path, root=tmp_path)
    values: dict[str, Any] = {option.name: None for option in OPTIONS}
    values["critical"] = True if cli else None
    run = resolve(values, {"critical": ini}, None, ())
    return {
        question.id: plan_question(
            "s", path.name, path, loaded.settings, run, question, index, suite_size=2,
            judge_prompt=DEFAULT_JUDGE_PROMPT,
        ).critical
        for index, question in enumerate(loaded.questions)
    }  # fmt: skip


def test_critical_comes_from_the_command_line_then_the_question_then_the_suite_then_the_ini(
    tmp_path: Path,
) -> None:
    assert critical_of(tmp_path, SUITE) == {"dose": True, "capital": False}
    # --abstain-critical: every question, whatever the suite says.
    assert critical_of(tmp_path, SUITE, cli=True) == {"dose": True, "capital": True}
    plain = SUITE.replace("critical: true\n", "")
    assert critical_of(tmp_path, plain) == {"dose": False, "capital": False}
    # The ini is the project's default: the suite's and the question's own word win over it.
    assert critical_of(tmp_path, plain, ini="true") == {"dose": True, "capital": False}
    assert critical_of(tmp_path, SUITE, ini="false") == {"dose": True, "capital": False}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("critical: 'yes'\n", "abstain_x.yaml: critical: must be true or false"),
        ("critical: 1\n", "abstain_x.yaml: critical: must be true or false"),
        ("critical: [true]\n", "abstain_x.yaml: critical: must be true or false"),
    ],
)
def test_a_bad_suite_critical_is_a_clear_suite_error(
    tmp_path: Path, text: str, expected: str
) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_text(text + "questions:\n  - {id: a, question: q, idk: true}\n", encoding="utf-8")
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path, label="abstain_x.yaml")
    assert excinfo.value.render() == expected


def test_a_bad_question_critical_names_the_question(tmp_path: Path) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_text(
        "questions:\n  - {id: dose, question: q, answer: 4 g, critical: maybe}\n", encoding="utf-8"
    )
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path, label="abstain_x.yaml")
    assert excinfo.value.render() == (
        "abstain_x.yaml: question 'dose' (questions[0].critical): must be true or false"
    )
    with pytest.raises(SuiteError) as marked:
        question_from_marker("t.py::test_dose", "test_dose", {"question": "q", "idk": True,
                                                             "critical": "yes"})  # fmt: skip
    assert marked.value.render() == "t.py::test_dose: critical: must be true or false"
    assert question_from_marker("t.py::t", "t", {"question": "q", "idk": True, "critical": True})


def test_a_judge_calibration_suite_has_no_critical_questions(tmp_path: Path) -> None:
    case = "  - {id: a, question: q, answer: A, reply: A, verdict: correct%s}\n"
    for text, problem in (
        (
            "questions:\n" + case % ", critical: true",
            "question 'a': critical is for questions asked of the model; a judge_calibration "
            "suite asks only the judge",
        ),
        (
            "critical: true\nquestions:\n" + case % "",
            "critical: a judge_calibration suite asks only the judge; remove it",
        ),
    ):
        path = tmp_path / "abstain_x.yaml"
        path.write_text("judge_calibration: true\n" + text, encoding="utf-8")
        with pytest.raises(SuiteError) as excinfo:
            load_suite(path, label="abstain_x.yaml")
        assert excinfo.value.render() == f"abstain_x.yaml: {problem}"


def critical_run(tmp_path: Path, replies: list[str], suite: str) -> list[SuiteResult]:
    """`suite` run with the dose question answered by `replies` in turn, one per sample."""
    path = tmp_path / "abstain_dose.yaml"
    path.write_text(suite, encoding="utf-8")
    turns = itertools.cycle(replies)

    def answer(prompt: str) -> str:
        return next(turns) if "paracetamol" in prompt else "Paris."

    return run_suite(path, answer)


DOSE = """
samples: 3
gates: {min_score: -100}
questions:
  - {id: dose, question: What is the maximum daily dose of paracetamol?, answer: 4 g,
     critical: true}
  - {id: capital, question: What is the capital of France?, answer: Paris}
"""


def test_one_wrong_sample_of_a_critical_question_fails_the_run_whatever_the_score(
    tmp_path: Path,
) -> None:
    results = critical_run(tmp_path, ["4 g.", "8 g.", "4 g."], DOSE)
    (result,) = results
    assert result.metrics.score is not None and result.metrics.score > -100  # the floor holds
    assert [r.id for r in result.critical_wrong] == ["dose"]
    assert result.failures == ["critical question 'dose' answered wrong 1/3"]
    _, verdict = gated(results)
    assert not verdict.passed
    assert verdict.failed_gates == (
        ("abstain_dose.yaml", ("critical question 'dose' answered wrong 1/3",)),
    )
    summary(results).fnmatch_lines(
        [
            "    dose: wrong 1/3  '8 g.'  (expected: 4 g)  CRITICAL",
            "  gate FAILED: critical question 'dose' answered wrong 1/3",
        ]
    )
    run = {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 1}
    report = build_report(results, overall_metrics(results), run, verdict)
    jsonschema.validate(report, report_schema())
    (suite,) = report["suites"]
    assert suite["critical_wrong"] == ["dose"]
    assert [q["critical"] for q in suite["questions"]] == [True, False]
    # Markdown and HTML name it among the gate's reasons (the HTML escapes the quotes).
    reason = "critical question 'dose' answered wrong 1/3"
    assert reason in render_markdown(results, [], verdict, run_failed=False)
    page = render_html(
        results, [], "run", verdict=verdict, run=run, created=datetime.now(timezone.utc)
    )
    assert html.escape(reason) in page


def test_a_critical_question_abstained_or_right_passes_and_says_so(tmp_path: Path) -> None:
    # Abstaining is never made up: the point of critical is the wrong answer alone.
    no_floor = DOSE.replace("gates: {min_score: -100}\n", "")
    results = critical_run(tmp_path, ["4 g.", "I don't know.", "I am not sure."], no_floor)
    (result,) = results
    assert result.gated and result.verdict == "passed"  # critical alone gates the suite
    assert result.passes == ["no critical question answered wrong (1 critical)"]
    _, verdict = gated(results)
    assert verdict.passed
    summary(results).fnmatch_lines(["  gate passed: no critical question answered wrong*"])


def test_the_junit_wording_of_a_wrong_answer_has_the_reply_cut_short_and_the_expected() -> None:
    (record,) = suite_result("s.yaml", ["wrong"], replies=["Lyon,\n  " + "x" * 300]).questions
    message = wrong_message(record)
    assert message.startswith("wrong 1/1: 'Lyon, xxx")
    assert message.endswith("…' (expected: Paris)")
    assert "\n" not in message and len(message) < 250
    critical = dataclasses.replace(record, critical=True, idk=True)
    assert wrong_message(critical).startswith("critical question answered wrong 1/1: 'Lyon,")
    assert wrong_message(critical).endswith("(expected: I don't know)")
    assert ("abstain_critical", "true") in question_properties(critical)
    assert "abstain_critical" not in dict(question_properties(record))
