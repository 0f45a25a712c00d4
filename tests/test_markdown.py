"""The Markdown summary, for GitHub's step summary and other CI systems, field by field: once
end to end (files, baseline, step summary), and render_markdown called directly."""

from __future__ import annotations

from pathlib import Path

import pytest
from openai_server import FakeOpenAI
from suite_results import suite_result

from pytest_abstain.render.markdown import render_markdown
from pytest_abstain.results.sweep import sweeps
from pytest_abstain.results.verdict import decide

QUESTIONS = 30
SUITE = "name: facts\nquestions:\n" + "\n".join(
    f"  - {{id: q{i}, question: 'Question {i}: what is the capital of France?', answer: Paris}}"
    for i in range(QUESTIONS)
)


def run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-baseline", "b.json", *extra,
    )  # fmt: skip


def test_markdown_summary_with_baseline_deltas_changes_and_step_summary_append(
    pytester: pytest.Pytester,
    openai_server: FakeOpenAI,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    pytester.makefile(".yaml", abstain_facts=SUITE)
    openai_server.default_reply = "Paris."
    assert run(pytester, openai_server, "--abstain-update-baseline").ret == 0
    # Neither --abstain-markdown nor a step summary: no Markdown anywhere.
    assert not list(Path(pytester.path).glob("*.md"))

    # Now ten questions go wrong and five abstain: a regression against the baseline.
    openai_server.replies = {f"Question {i}:": "Lyon." for i in range(10)}
    openai_server.replies.update({f"Question {i}:": "I don't know." for i in range(10, 15)})
    step_summary = pytester.path / "step_summary.md"
    step_summary.write_text("from an earlier step\n", encoding="utf-8")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))
    result = run(pytester, openai_server, "--abstain-markdown", "out/summary.md")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["Markdown summary: */out/summary.md"])

    text = (pytester.path / "out" / "summary.md").read_text(encoding="utf-8")
    # Appended to what earlier steps wrote, never replacing it.
    assert step_summary.read_text(encoding="utf-8") == "from an earlier step\n" + text
    lines = text.splitlines()
    assert lines[0] == "## pytest-abstain: honesty at a stated confidence target"
    assert lines[2] == "**❌ failed** — 1 suite(s)."
    assert "### abstain\\_facts.yaml — ❌ failed" in lines  # "_" escaped for Markdown
    assert (
        "facts: responder m, t = 0.75 (a wrong answer costs 3), 30 replies: 15 correct, "
        "10 wrong, 5 abstained, 0 without a reply."
    ) in lines
    score = next(line for line in lines if line.startswith("| score |"))
    # score = (15 - 10 * 3) / 30 = -0.5, against 1.0 before.
    assert score.startswith("| score | -0.500 | 1.000 → -0.500 (Δ -1.500, p=")
    assert score.endswith(") ❌ |")
    assert next(x for x in lines if x.startswith("| error rate |")).startswith(
        "| error rate | 0.333 | 0.000 → 0.333 (Δ +0.333, p="
    )
    assert "**Gate failed:**" in lines
    assert (
        "If the change is intended, accept it: "
        "`pytest ... --abstain-baseline b.json --abstain-baseline-restart`"
    ) in lines
    # One changed question a row, with the reply the baseline kept and this run's.
    assert "| q0 | newly wrong | correct 1/1 → wrong 1/1 | Paris. | Lyon. |" in lines
    assert (
        "| q10 | newly abstaining | correct 1/1 → abstained 1/1 | Paris. | I don't know. |"
    ) in lines
    assert not any(line.startswith("| … |") for line in lines)
    assert sum(line.startswith("| q") for line in lines) == 10 + 5


def test_markdown_sweep_table_and_audit() -> None:
    # 21 right and 9 wrong, answering everything at t=0.5 and at t=0.9.
    per_t = [
        suite_result(
            f"abstain_facts.yaml[t={t:g}]",
            ["wrong"] * 9 + ["correct"] * 21,
            threshold=t,
            sweep="abstain_facts.yaml",
        )
        for t in (0.5, 0.9)
    ]
    found = sweeps(per_t)
    lines = render_markdown(per_t, found, decide(per_t, found), run_failed=False).splitlines()
    assert "### abstain\\_facts.yaml — threshold sweep" in lines
    assert "| t | answered | accuracy when answering | error rate | abstention | score |" in lines
    assert "| 0.5 | 100% | 70% | 30% | 0% | 0.400 |" in lines
    assert "| 0.9 | 100% | 70% | 30% | 0% | -2.000 |" in lines
    assert "**Calibration audit: the model does not follow the stated t.**" in lines
    assert any(line.startswith("- overconfident: at t=0.9") for line in lines)
    # Both per-t suites are there, not gated; an audit that is not gated fails nothing.
    assert "### abstain\\_facts.yaml\\[t=0.9\\] — ➖ not gated" in lines
    assert lines[2] == "**✅ passed** — 2 suite(s)."
