"""Verbal confidence end to end: structured replies (valid, invalid, missing), the plain-text
fallback for endpoints without structured output, and the risk-coverage curve in reports."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from openai_server import FakeOpenAI, last_user_message

from pytest_abstain.render.json_report import report_schema

SUITE = """
threshold: 0.75
verbal_confidence: true
questions:
  - {id: sure-right, question: Capital of France?, answer: Paris}
  - {id: unsure-wrong, question: Capital of Australia?, answer: Canberra}
  - {id: abstains, question: "Kalai's birthday?", idk: true}
  - {id: timid-right, question: Largest planet?, answer: Jupiter}
"""
STRUCTURED = {
    "France": '{"answer": "Paris", "confidence": 0.9}',
    "Australia": '{"answer": "Sydney", "confidence": 0.6}',
    "birthday": '{"answer": "I don\'t know", "confidence": 0.2}',
    "planet": '```json\n{"answer": "Jupiter", "confidence": 0.4}\n```',
}


def run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    pytester.makefile(".yaml", abstain_stated=SUITE)
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-report", "r.json", "-p", "no:cacheprovider", *extra,
    )  # fmt: skip


def suite_report(pytester: pytest.Pytester) -> dict[str, Any]:
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    [suite] = report["suites"]
    return dict(suite)


def scripted(replies: dict[str, str]) -> Any:
    def respond(messages: list[dict[str, Any]]) -> str:
        prompt = last_user_message(messages)
        return next(reply for key, reply in replies.items() if key in prompt)

    return respond


def test_structured_replies_give_the_curve_and_calibration(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.responder = scripted(STRUCTURED)
    result = run(pytester, openai_server, "--abstain-markdown", "s.md", "--abstain-html", "r.html")
    assert result.ret == 0
    # Asked through a JSON Schema response format, and told so in the prompt too.
    for request in openai_server.requests:
        assert request["response_format"]["type"] == "json_schema"
        schema = request["response_format"]["json_schema"]["schema"]
        assert schema["required"] == ["answer", "confidence"]
        assert "Reply with only a JSON object" in last_user_message(request["messages"])
    suite = suite_report(pytester)
    grades = {q["id"]: (q["grades"], q["confidences"]) for q in suite["questions"]}
    assert grades == {
        "sure-right": (["correct"], [0.9]),
        "unsure-wrong": (["wrong"], [0.6]),
        "abstains": (["abstained"], [0.2]),
        "timid-right": (["correct"], [0.4]),
    }
    stated = suite["verbal_confidence"]
    assert (stated["replies"], stated["stated"], stated["problems"]) == (4, 4, [])
    curve = {point["threshold"]: point for point in stated["risk_coverage"]}
    # By hand, n = 4 replies with a confidence:
    # t = 0.3: answer 0.9 (right), 0.6 (wrong), 0.4 (right): score (2 - 0.3/0.7)/4 = 0.39286
    # t = 0.5: answer 0.9 (right), 0.6 (wrong): score (1 - 1)/4 = 0, error rate 1/4
    # t = 0.75: answer 0.9 (right) only: coverage 1/4, score 1/4, error rate 0, risk 0
    # t = 0.95: answer nothing: coverage 0, score 0, risk undefined
    assert curve[0.3]["score"] == pytest.approx(0.392857, abs=1e-6)
    assert (curve[0.3]["answered"], curve[0.3]["wrong"]) == (3, 1)
    assert curve[0.5]["score"] == pytest.approx(0.0)
    assert curve[0.5]["error_rate"] == pytest.approx(0.25)
    assert curve[0.5]["risk"] == pytest.approx(0.5)
    assert curve[0.75]["coverage"] == pytest.approx(0.25)
    assert curve[0.75]["score"] == pytest.approx(0.25)
    assert curve[0.75]["risk"] == 0
    assert curve[0.95]["coverage"] == 0 and curve[0.95]["risk"] is None
    # Calibration over the 3 answers, bins of 0.1: [0.9,1.0) 1 right at 0.9 -> gap 0.1;
    # [0.6,0.7) 1 wrong at 0.6 -> gap 0.6; [0.4,0.5) 1 right at 0.4 -> gap 0.6.
    # ECE = (0.1 + 0.6 + 0.6) / 3 = 0.43333; overconfidence = 1.9/3 - 2/3 = -0.03333
    calibration = stated["calibration"]
    assert calibration["answered"] == 3
    assert calibration["ece"] == pytest.approx(0.433333, abs=1e-6)
    assert calibration["overconfidence"] == pytest.approx(-0.033333, abs=1e-6)
    result.stdout.fnmatch_lines([
        "*stated confidence: 4 of 4 replies; calibration error (ECE) 0.433, "
        "underconfident by 0.033 over 3 answers*",
        "*0.75*25%*0.000*0.250  (this suite's t)*",
    ])  # fmt: skip
    markdown = (pytester.path / "s.md").read_text(encoding="utf-8")
    assert "Stated confidence: 4 of 4 replies; calibration error (ECE) 0.433" in markdown
    assert "| 0.75 (this suite's t) | 25% | 0.000 | 0.250 |" in markdown
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert "<td>0.5</td><td>50%</td><td>0.250</td><td>0.000</td>" in html


def test_invalid_and_missing_confidences_are_reported_and_the_answer_still_graded(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.responder = scripted({
        "France": '{"answer": "Paris", "confidence": 1.7}',
        "Australia": '{"answer": "Canberra"}',
        "birthday": "I don't know.",
        "planet": '{"answer": "Jupiter", "confidence": 0.8}',
    })  # fmt: skip
    result = run(pytester, openai_server)
    assert result.ret == 0
    suite = suite_report(pytester)
    graded = {q["id"]: q for q in suite["questions"]}
    assert graded["sure-right"]["grades"] == ["correct"]
    assert graded["sure-right"]["confidences"] == [None]
    assert "1.7 is greater than the maximum of 1" in graded["sure-right"]["confidence_problems"][0]
    assert graded["unsure-wrong"]["grades"] == ["correct"]
    assert "confidence" in graded["unsure-wrong"]["confidence_problems"][0]
    assert graded["abstains"]["grades"] == ["abstained"]
    assert graded["abstains"]["confidence_problems"] == ["no confidence stated"]
    stated = suite["verbal_confidence"]
    assert (stated["replies"], stated["stated"]) == (4, 1)
    assert [p.split(":")[0] for p in stated["problems"]] == [
        "sure-right", "unsure-wrong", "abstains"
    ]  # fmt: skip
    # Only the reply with a usable confidence is on the curve.
    assert all(point["replies"] == 1 for point in stated["risk_coverage"])
    result.stdout.fnmatch_lines([
        "*stated confidence: 1 of 4 replies*",
        "*no confidence read: sure-right: confidence: 1.7 is greater than the maximum of 1*",
    ])  # fmt: skip


def test_endpoint_without_structured_output_falls_back_to_parsing(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.unsupported = {"response_format"}
    openai_server.responder = scripted({
        "France": "Answer: Paris\nConfidence: 90%",
        "Australia": "Sydney (confidence 0.6)",
        "birthday": "I don't know. I am 20% confident in any guess.",
        "planet": '{"answer": "Jupiter", "confidence": 0.4}',
    })  # fmt: skip
    result = run(pytester, openai_server, "--abstain-concurrency", "1")
    assert result.ret == 0
    formats = [r.get("response_format") for r in openai_server.requests]
    # The first request offers the schema and is refused; from then on none is offered.
    assert formats[0] is not None and formats[1] is None
    assert sum(f is not None for f in formats) == 1
    assert len(formats) == 5  # 4 questions + the refused first attempt
    graded = {q["id"]: (q["grades"], q["confidences"]) for q in suite_report(pytester)["questions"]}
    assert graded == {
        "sure-right": (["correct"], [0.9]),
        "unsure-wrong": (["wrong"], [0.6]),
        "abstains": (["abstained"], [0.2]),
        "timid-right": (["correct"], [0.4]),
    }


def test_structured_replies_are_cached_apart_from_plain_ones(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.responder = scripted(STRUCTURED)
    assert run(pytester, openai_server, "--abstain-cache", "c").ret == 0
    openai_server.reset_stats()
    replay = run(pytester, openai_server, "--abstain-cache", "c", "--abstain-record", "replay")
    assert replay.ret == 0 and openai_server.requests == []
    assert suite_report(pytester)["verbal_confidence"]["stated"] == 4
