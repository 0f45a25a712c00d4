"""Threshold sweeps: the per-t table, the calibration audit, and both end to end."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any

import jsonschema
import pytest
from openai_server import FakeOpenAI, last_user_message

from pytest_abstain.outputs import OutputPaths, Outputs
from pytest_abstain.records import Grade, QuestionRecord, SuiteInfo
from pytest_abstain.render.json_report import report_schema
from pytest_abstain.render.terminal import sweep_lines
from pytest_abstain.render.wording import UNTESTABLE
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.sweep import binomial_cdf, sweeps, wilson
from pytest_abstain.results.verdict import decide
from pytest_abstain.settings import parse_thresholds

# -- arithmetic ---------------------------------------------------------------------------


def test_wilson_interval_matches_the_textbook_values() -> None:
    interval = wilson(5, 10)
    assert interval is not None
    assert interval.low == pytest.approx(0.2366, abs=1e-4)
    assert interval.high == pytest.approx(0.7634, abs=1e-4)
    assert wilson(0, 0) is None
    none, every = wilson(0, 20), wilson(20, 20)
    assert (
        none is not None
        and none.low == pytest.approx(0, abs=1e-12)
        and none.high == pytest.approx(0.1611, abs=1e-4)
    )
    assert every is not None and every.high == 1


def test_binomial_cdf_against_direct_sums() -> None:
    for n, p in ((10, 0.9), (40, 0.5), (7, 0.25)):
        for k in range(n + 1):
            direct = sum(math.comb(n, i) * p**i * (1 - p) ** (n - i) for i in range(k + 1))
            assert binomial_cdf(k, n, p) == pytest.approx(direct, rel=1e-9)
    assert binomial_cdf(28, 40, 0.9) < 0.001  # 70% right where 90% is due


def test_thresholds_parse_sorted_and_checked() -> None:
    assert parse_thresholds("0.9, 0.5,0.75") == (0.5, 0.75, 0.9)
    assert parse_thresholds([0.5, 0.9]) == (0.5, 0.9)
    for bad, message in (("0.5", "at least two"), ("0.5,1", "[0, 1)"), ("0.5,x", "'x'")):
        with pytest.raises(ValueError, match=re.escape(message)):
            parse_thresholds(bad)


def result_of(threshold: float, per_question: list[list[Grade]]) -> SuiteResult:
    """A swept suite's result at `threshold`, one question per list of sample grades."""
    samples = len(per_question[0])
    info = SuiteInfo(
        key=f"s.yaml[t={threshold:g}]", name="s", threshold=threshold, samples=samples,
        responder="m", confidence_stated=True, size=len(per_question), sweep="s.yaml",
    )  # fmt: skip
    questions = [
        QuestionRecord(
            suite=info,
            nodeid=f"s.yaml::q{i}[t={threshold:g}]",
            index=i,
            id=f"q{i}",
            question=f"q{i}?",
            idk=False,
            expected=["x"],
            regex=None,
            tags=[],
            grades=list(grades),
            replies=["r"] * samples,
            errors=[None] * samples,
        )
        for i, grades in enumerate(per_question)
    ]
    return SuiteResult(info, questions)


def test_sweep_table_against_a_hand_computed_one() -> None:
    # t=0.5: 6 correct, 2 wrong, 2 abstained.  t=0.9: 4 correct, 1 wrong, 5 abstained.
    c: Grade = "correct"
    w: Grade = "wrong"
    a: Grade = "abstained"
    low = result_of(0.5, [[g] for g in (c, c, c, c, c, c, w, w, a, a)])
    high = result_of(0.9, [[g] for g in (c, c, c, c, a, a, a, w, a, a)])
    (sweep,) = sweeps([high, low])
    assert [row.threshold for row in sweep.rows] == [0.5, 0.9]
    table = [
        value
        for row in sweep.rows
        for value in (
            row.answered_rate,
            row.metrics.accuracy_given_attempted,
            row.metrics.error_rate,
            row.metrics.abstention_rate,
            row.metrics.score,
        )
    ]
    # answered, accuracy when answering, error rate, abstention, and
    # score = (correct - wrong * t / (1 - t)) / graded
    assert table == pytest.approx(
        [0.8, 0.75, 0.2, 0.2, (6 - 2 * 1) / 10, 0.5, 0.8, 0.1, 0.5, (4 - 1 * 9) / 10]
    )
    interval = sweep.rows[1].accuracy_answered
    assert interval is not None and interval.low < 0.8 < interval.high


# -- end to end: a scripted model that follows the stated t, or does not -------------------

QUESTIONS = 40


def stated_t(prompt: str) -> float:
    match = re.search(r"more than (\d+)% confident", prompt)
    assert match, prompt
    return int(match.group(1)) / 100


def number(prompt: str) -> int:
    match = re.search(r"Question (\d+)\b", prompt)
    assert match, prompt
    return int(match.group(1))


def calibrated(messages: list[dict[str, Any]]) -> str:
    """Knows question i with confidence 1 - i/40; answers only above the stated t."""
    prompt = last_user_message(messages)
    i, t = number(prompt), stated_t(prompt)
    if 1 - i / QUESTIONS <= t:
        return "I don't know."
    # Right on all but every tenth of those it answers: accuracy 0.9 or better.
    return "Lyon." if i % 10 == 9 else "Paris."


def overconfident(messages: list[dict[str, Any]]) -> str:
    """Answers everything whatever t says, right 70% of the time."""
    i = number(last_user_message(messages))
    return "Lyon." if i % 10 >= 7 else "Paris."


def run_sweep(
    pytester: pytest.Pytester, server: FakeOpenAI, model: Callable[[list[dict[str, Any]]], str]
) -> tuple[pytest.RunResult, Any]:
    lines = "\n".join(
        f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
        for i in range(QUESTIONS)
    )
    pytester.makefile(".yaml", abstain_sweep=f"thresholds: [0.5, 0.9]\nquestions:\n{lines}\n")
    server.responder = model
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url, "--abstain-report", "r.json"
    )  # fmt: skip
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, report_schema())
    return result, report


def test_a_calibrated_model_passes_the_audit(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    result, report = run_sweep(pytester, openai_server, calibrated)
    assert result.ret == 0
    assert len(openai_server.requests) == 2 * QUESTIONS  # each question once per t
    result.stdout.fnmatch_lines(
        [
            "abstain_sweep.yaml  (abstain_sweep.yaml): threshold sweep",
            "*t  answered  accuracy when answering  error rate  abstention*",
            "    0.5       50%                      90%          5%         50%   0.400",
            "    0.9       10%                     100%          0%         90%   0.100",
            "  calibration audit: follows the stated t (Holm-corrected at 0.05)",
        ]
    )
    (sweep,) = report["sweeps"]
    assert sweep["audit"]["passed"] is True
    assert [row["threshold"] for row in sweep["rows"]] == [0.5, 0.9]
    assert [s["key"] for s in report["suites"]] == [
        "abstain_sweep.yaml[t=0.5]",
        "abstain_sweep.yaml[t=0.9]",
    ]


@pytest.mark.parametrize("where", ["suite", "command line"])
def test_the_audit_can_be_gated(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str, where: str
) -> None:
    lines = "\n".join(
        f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
        for i in range(QUESTIONS)
    )
    gate = "gates: {calibration: true}\n" if where == "suite" else ""
    pytester.makefile(".yaml", abstain_sweep=f"{gate}questions:\n{lines}\n")
    openai_server.responder = overconfident
    flag = ["--abstain-calibration-gate"] if where == "command line" else []
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-thresholds", "0.5,0.9", "--junitxml", "junit.xml", *flag,
        "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret == 1
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "failed"  # the suites' own gates are not set: the audit's
    result.stdout.fnmatch_lines(
        [
            "*calibration audit failed for abstain_sweep.yaml (the model does not follow t):",
            "*overconfident: at t=0.9 it answered 100% and was right 70%*(p=*)",
            "FAILED abstain_sweep.yaml::abstain-calibration*",
        ]
    )
    junit = (pytester.path / "junit.xml").read_text(encoding="utf-8")
    assert 'name="abstain-calibration"' in junit and "calibration audit failed" in junit
    openai_server.responder = calibrated
    assert pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-thresholds", "0.5,0.9", *flag,
    ).ret == 0  # fmt: skip


def test_baselines_and_the_regression_gate_work_per_t(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    lines = "\n".join(
        f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
        for i in range(QUESTIONS)
    )
    pytester.makefile(".yaml", abstain_sweep=f"thresholds: [0.5, 0.9]\nquestions:\n{lines}\n")
    args = ["--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
            "--abstain-baseline", "b.json"]  # fmt: skip
    openai_server.responder = calibrated
    assert pytester.runpytest(*args, "--abstain-update-baseline").ret == 0

    def worse_at_high_t(messages: list[dict[str, Any]]) -> str:
        # The same at t=0.5; at t=0.9 it now answers what it used to abstain on, wrongly.
        prompt = last_user_message(messages)
        if stated_t(prompt) > 0.6 and number(prompt) >= 20:
            return "Lyon."
        return calibrated(messages)

    openai_server.responder = worse_at_high_t
    result = pytester.runpytest(*args)
    assert result.ret == 1
    result.stdout.fnmatch_lines(["FAILED abstain_sweep.yaml[[]t=0.9[]]::abstain-gate*"])
    assert "abstain_sweep.yaml[t=0.5]::abstain-gate FAILED" not in result.stdout.str()
    assert "FAILED abstain_sweep.yaml[t=0.5]" not in result.stdout.str()


C: Grade = "correct"
W: Grade = "wrong"
A: Grade = "abstained"


def checks_failed(low: SuiteResult, high: SuiteResult) -> list[str]:
    (sweep,) = sweeps([low, high])
    return [f.check for f in sweep.findings if f.failed]


def test_error_rate_rising_with_t_is_flagged_and_falling_is_not() -> None:
    careful = [[C]] * 20 + [[A]] * 20
    reckless = [[C]] * 20 + [[W]] * 20
    assert "error rate rises" in checks_failed(result_of(0.5, careful), result_of(0.9, reckless))
    assert checks_failed(result_of(0.5, reckless), result_of(0.9, careful)) == []


def test_overconfidence_counts_questions_not_repeated_samples() -> None:
    # Ten questions asked five times each, right on seven every time, at t=0.9: 7 of 10
    # questions is not significantly below 0.9 (p = 0.07); 35 of 50 replies would be.
    sure = [[C] * 5] * 7 + [[W] * 5] * 3
    (sweep,) = sweeps([result_of(0.5, sure), result_of(0.9, sure)])
    overconfident = [f for f in sweep.findings if f.check == "overconfident"]
    assert [f.failed for f in overconfident] == [False, False]
    p_value = overconfident[1].p_value
    assert p_value is not None and p_value == pytest.approx(binomial_cdf(7, 10, 0.9))
    assert p_value > binomial_cdf(35, 50, 0.9) * 100


def test_an_audit_too_small_to_fail_says_so() -> None:
    # Three questions at t=0.5 and 0.6: even the most damning replies could not reach
    # Holm's first step (0.05 / 4 tests).
    few = [[C], [W], [A]]
    (sweep,) = sweeps([result_of(0.5, few), result_of(0.6, few)])
    assert sweep.testable is False and not sweep.failed
    assert (f"  calibration audit: {UNTESTABLE}", {"yellow": True}) in sweep_lines(sweep)
    (enough,) = sweeps([result_of(0.5, few * 10), result_of(0.6, few * 10)])
    assert enough.testable is True


def test_a_sweep_without_t_in_the_prompt_is_refused(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(
        ".yaml",
        abstain_sweep="thresholds: [0.5, 0.9]\nprompt_template: false\nquestions:\n"
        "  - {id: q0, question: 'Question 0?', answer: Paris}\n",
    )
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url
    )
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*thresholds: a sweep states each t in the prompt*"])
    assert openai_server.requests == []


# -- the audit's findings, without pytest: the models above as grades per question --------------

RUN = {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 4}


def audited(grades_at: Callable[[int, float], Grade]) -> tuple[list[str], dict[str, Any]]:
    """The sweep's terminal lines and JSON report, each question i graded `grades_at(i, t)`
    at t = 0.5 and 0.9 (the end-to-end sweep's suite)."""
    results = [result_of(t, [[grades_at(i, t)] for i in range(QUESTIONS)]) for t in (0.5, 0.9)]
    audits = sweeps(results)
    report = Outputs(OutputPaths()).report(results, audits, [], RUN, decide(results, audits))
    assert report is not None
    jsonschema.validate(report, report_schema())
    return [text for text, _ in sweep_lines(audits[0])], report


def test_an_overconfident_model_is_flagged_by_how_much() -> None:
    # Answers everything whatever t says, right 70% of the time (`overconfident` above).
    lines, report = audited(lambda i, t: W if i % 10 >= 7 else C)
    pytest.LineMatcher(lines).fnmatch_lines(
        [
            "  calibration audit: 1 problem(s) (Holm-corrected at 0.05)",
            "    overconfident: at t=0.9 it answered 100% and was right 70% [[]55–82%[]] of the "
            "time (40 questions answered): below t by 20 points (overconfident)",
        ]
    )
    findings = report["sweeps"][0]["audit"]["findings"]
    assert [f["check"] for f in findings if f["failed"]] == ["overconfident"]


def test_abstaining_less_as_the_stakes_rise_is_flagged() -> None:
    # Abstains on every other question when the stakes are low, on none when high.
    lines, report = audited(lambda i, t: A if t < 0.6 and i % 2 else C)
    pytest.LineMatcher(lines).fnmatch_lines(
        ["    abstention falls: abstention 50% → 0% from t=0.5 → t=0.9 (40 paired questions)"]
    )
    assert report["sweeps"][0]["audit"]["passed"] is False
