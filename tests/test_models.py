"""Several models side by side: items per model, and the leaderboard next to accuracy."""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from openai_server import FakeOpenAI, last_user_message

from pytest_abstain.render.json_report import report_schema

QUESTIONS = 20
SUITE = "name: facts\nquestions:\n" + "\n".join(
    f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
    for i in range(QUESTIONS)
)


def test_models_side_by_side(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_facts=SUITE)
    seen: list[str] = []

    # The fake server hands the responder only the messages; with one request in flight at
    # a time (concurrency 1), the last logged request is this one and names the model.
    # careful: 12 right, 8 "I don't know".  guesser: 14 right, 6 wrong.
    def answer(messages: list[dict[str, Any]]) -> str:
        model = openai_server.requests[-1]["model"]
        seen.append(model)
        i = int(last_user_message(messages).split()[1].rstrip(":"))
        if model == "careful":
            return "Paris." if i < 12 else "I don't know."
        return "Paris." if i < 14 else "Lyon."

    openai_server.responder = answer
    result = pytester.runpytest(
        "--abstain-model", "careful", "--abstain-model", "guesser",
        "--abstain-base-url", openai_server.base_url, "--abstain-concurrency", "1",
        "--abstain-report", "r.json", "--abstain-markdown", "s.md", "--abstain-html", "h.html",
        "-v",
    )  # fmt: skip
    assert result.ret == 0
    assert len(openai_server.requests) == 2 * QUESTIONS
    assert sorted(set(seen)) == ["careful", "guesser"]
    result.stdout.fnmatch_lines(
        [
            "abstain: model=careful,guesser endpoint=*",
            "abstain_facts.yaml::q0[[]careful[]] CORRECT*",
            "abstain_facts.yaml::q0[[]guesser[]] CORRECT*",
            "models side by side (best penalised score first; plain accuracy may rank them*",
            "  model     score  rank  accuracy  rank  error rate  abstention",
            # careful: 12/20 = 0.6 score, accuracy 0.6; guesser: (14 - 6*3)/20 = -0.2, 0.7.
            "  careful   0.600     1     0.600     2       0.000       0.400",
            "  guesser  -0.200     2     0.700     1       0.300       0.000",
        ]
    )
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    jsonschema.validate(report, report_schema())
    assert report["run"]["models"] == ["careful", "guesser"]
    assert [s["key"] for s in report["suites"]] == [
        "abstain_facts.yaml[careful]",
        "abstain_facts.yaml[guesser]",
    ]
    assert [(m["model"], m["rank_by_score"], m["rank_by_accuracy"]) for m in report["models"]] == [
        ("careful", 1, 2),
        ("guesser", 2, 1),
    ]
    markdown = (pytester.path / "s.md").read_text(encoding="utf-8").splitlines()
    assert "| careful | 0.600 | 1 | 0.600 | 2 | 0.000 | 0.400 |" in markdown
    assert "| guesser | -0.200 | 2 | 0.700 | 1 | 0.300 | 0.000 |" in markdown
    page = (pytester.path / "h.html").read_text(encoding="utf-8")
    assert "<tr><td>careful</td><td>0.600</td><td>1</td><td>0.600</td><td>2</td>" in page


def test_one_model_has_no_side_by_side_table(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_facts=SUITE)
    openai_server.default_reply = "Paris."
    result = pytester.runpytest(
        "--abstain-model", "only", "--abstain-base-url", openai_server.base_url,
        "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret == 0
    assert "models side by side" not in result.stdout.str()
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["models"] == [] and report["suites"][0]["key"] == "abstain_facts.yaml"
