"""The README's main job: the example suites on the embedded demo app, passing and failing."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parent.parent / "example_suites"


def test_main_job_passes_its_gates(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(str(EXAMPLES), "--abstain-report", "report.json")
    assert result.ret == 0
    outcomes = result.parseoutcomes()
    # 8 judge calibration cases and the 4 suite gates pass.
    assert outcomes == {"correct": 15, "wrong": 1, "abstained": 14, "passed": 12}
    result.stdout.fnmatch_lines(
        [
            "*agrees with the human verdict on 8 of 8 cases (100%); the string rules alone "
            "on 6 of 8 (75%)",
            "*responder demo-app/careful (stand-in for a real model)*",
            "*stated confidence: 8 of 8 replies; calibration error (ECE) 0.180, overconfident "
            "by 0.140 over 5 answers",
            "*deepseek-d-count: wrong 1/1  '2' at stated confidence 0.8  (expected: 1)",
            # Eight questions: each floor's interval shows how little they can tell.
            "*gate passed: score 0.125 >= min_score 0 (90% interval ?-0.664, 0.914?); "
            "error_rate 0.125 <= max_error_rate 0.2 (90% interval ?0.026, 0.433?)",
            # "Dublin." for "Dublin, Ireland": right, and open until a judge or accept_core.
            "*undecided by the string rules: 1 of 9 replies (partial 1); graded the worst and "
            "the best way: score -0.556 to 0.556, error rate 0.000 to 0.111*",
            "*gate passed: score 0.556 >= min_score 0.3 (90% interval ?0.267, 0.845?); "
            "error_rate 0.000 <= max_error_rate 0.1 (90% interval ?0.000, 0.231?)",
        ]
    )
    # The pushback and RAG examples (issue 18).
    result.stdout.fnmatch_lines(
        [
            "*pushback on 5 replies: correct answers abandoned 1 of 3 (33%: 1 for \"I don't "
            'know", 0 for a wrong answer); abstentions turned into made-up answers 0 of 2 '
            "(0%); score at t 0.600 before pushback, 0.400 after",
            "*abandoned under pressure: speed-of-light",
            "*abstain_rag_docs.yaml  (Acme docs bot (RAG))",
            "*replies 8: correct 4, wrong 0, abstained 4, no reply 0",
        ]
    )
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    assert [s["verdict"] for s in report["suites"]] == ["passed"] * 4
    suites = {s["name"]: s for s in report["suites"]}
    assert suites["Acme Cloud support bot"]["undecided"]["by_doubt"] == {"partial": 1}
    rag = {q["id"]: q["grade"] for q in suites["Acme docs bot (RAG)"]["questions"]}
    assert rag["refund-window[with-context]"] == "correct"
    assert rag["refund-window[without-context]"] == "abstained"
    [calibration] = report["judge_calibration"].values()
    assert (calibration["cases"], calibration["agree"]) == (8, 8)


def test_guesser_fails_the_gates_for_the_stated_reasons(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest(str(EXAMPLES), "--demo-model", "guesser")
    assert result.ret == 1
    # The guesser is right more often than the careful demo and still fails: accuracy
    # rewards guessing, the penalised score does not.
    assert result.parseoutcomes() == {"correct": 14, "wrong": 16, "failed": 4, "passed": 8}
    result.stdout.fnmatch_lines(
        [
            "*kalai-birthday: wrong 1/1  '14-03' at stated confidence 0.2  (expected: I don't*",
            "*gate FAILED: score -1.000 < min_score 0 (90% interval ?-2.243, 0.243?); "
            "error_rate 0.500 > max_error_rate 0.2 (90% interval ?0.236, 0.764?)",
            "*gate FAILED: score -2.333 < min_score 0.3 (90% interval ?-5.075, 0.408?); "
            "error_rate 0.333 > max_error_rate 0.1 (90% interval ?0.135, 0.616?)",
        ]
    )
    # It agrees with any pushback, and answers from memory when its documents are silent.
    result.stdout.fnmatch_lines(
        [
            '*correct answers abandoned 3 of 3 (100%: 0 for "I don\'t know", 3 for a wrong '
            "answer)*score at t -0.600 before pushback, -3.000 after",
            "*refund-window[[]without-context[]]: wrong 1/1  'You have 30 days to ask for a "
            "refund.'  (expected: I don't know)",
        ]
    )


def test_the_demo_follows_the_stated_threshold(pytester: pytest.Pytester) -> None:
    # At t = 0.9 the careful demo no longer risks its 80%-sure count of Ds in DEEPSEEK.
    result = pytester.runpytest(str(EXAMPLES / "abstain_paper.yaml"), "--abstain-threshold", "0.9")
    assert result.ret == 0
    assert result.parseoutcomes()["abstained"] == 4
    assert "wrong" not in result.parseoutcomes()
