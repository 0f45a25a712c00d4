"""The JSON report built directly from suite results: valid against its published schema,
and headed "failed" by exactly what fails a run (the end-to-end runs are in test_plugin.py)."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from suite_results import suite_result

from pytest_abstain.records import JudgeCase
from pytest_abstain.render.json_report import REPORT_VERSION, build_report, report_schema
from pytest_abstain.results.suites import SuiteResult, overall_metrics
from pytest_abstain.results.sweep import Sweep, sweeps
from pytest_abstain.results.verdict import decide

RUN = {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 1}


def report_of(
    results: list[SuiteResult],
    found: list[Sweep] | None = None,
    cases: list[JudgeCase] | None = None,
    problems: list[str] | None = None,
) -> dict[str, Any]:
    verdict = decide(results, found or [], judge_cases=cases or [])
    report = build_report(
        results, overall_metrics(results), RUN, verdict, found or [], cases or [], problems or []
    )
    jsonschema.validate(report, report_schema())
    return report


def swept(calibration_gate: bool) -> tuple[list[SuiteResult], list[Sweep]]:
    """Answering everything, 70% right, at t=0.5 and t=0.9: overconfident at 0.9."""
    per_t = [
        suite_result(
            f"f.yaml[t={t:g}]",
            ["wrong"] * 9 + ["correct"] * 21,
            threshold=t,
            sweep="f.yaml",
            calibration_gate=calibration_gate,
        )
        for t in (0.5, 0.9)
    ]
    return per_t, sweeps(per_t)


def case(verdict: str) -> JudgeCase:
    return JudgeCase(
        id="c", suite="j.yaml", judge="judge", human="wrong", verdict=verdict, rules="correct",
        error=None,
    )  # fmt: skip


def test_a_passing_run_reports_every_suite_question_and_metric() -> None:
    result = suite_result("s.yaml", ["correct", "correct", "wrong", "abstained"], min_score=-1.0)
    report = report_of([result])
    assert report["version"] == REPORT_VERSION and report["verdict"] == "passed"
    assert report["run"] == RUN and "problems" not in report
    (suite,) = report["suites"]
    assert suite["verdict"] == "passed" and suite["reasons"] == []
    assert suite["penalty"] == 3.0 and suite["gates"]["min_score"] == -1.0
    assert [q["grade"] for q in suite["questions"]] == ["correct", "correct", "wrong", "abstained"]
    # score = (2 - 1 * 3) / 4
    assert suite["metrics"]["score"] == pytest.approx(-0.25)
    assert report["overall"] == suite["metrics"]
    assert report["sweeps"] == [] and report["models"] == [] and report["judge_calibration"] == {}


def test_a_failed_gate_fails_the_report() -> None:
    report = report_of([suite_result("s.yaml", ["wrong"] * 4, min_score=0.5)])
    assert report["verdict"] == "failed"
    assert report["suites"][0]["reasons"] == [
        "score -3.000 < min_score 0.5 (90% interval [-3.000, -3.000])"
    ]
    (floor,) = report["suites"][0]["floors"]
    assert (floor["gate"], floor["status"], floor["interval"]) == ("min_score", "failed", [-3, -3])


def test_errors_beyond_the_budget_fail_the_report_even_without_a_gate() -> None:
    assert report_of([suite_result("s.yaml", ["correct", "error"])])["verdict"] == "failed"
    within = suite_result("s.yaml", ["correct", "error"], max_errors="1")
    assert report_of([within])["verdict"] == "passed"


def test_only_a_gated_calibration_audit_fails_the_report() -> None:
    results, found = swept(calibration_gate=False)
    report = report_of(results, found)
    assert report["verdict"] == "passed"
    assert report["sweeps"][0]["audit"]["passed"] is False
    assert report_of(*swept(calibration_gate=True))["verdict"] == "failed"


def test_a_judge_disagreeing_with_a_person_or_a_run_problem_fails_the_report() -> None:
    results = [suite_result("s.yaml", ["correct"])]
    assert report_of(results, cases=[case("wrong")])["verdict"] == "passed"
    assert report_of(results, cases=[case("correct")])["verdict"] == "failed"
    broken = report_of(results, problems=["an xdist worker crashed while running s.yaml::q0"])
    assert broken["verdict"] == "failed" and broken["problems"]
