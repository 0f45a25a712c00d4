"""Baseline gate end to end: write, read back, compare, refuse; over the loopback server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from openai_server import FakeOpenAI

from pytest_abstain.render.json_report import report_schema
from pytest_abstain.results.baseline import baseline_schema

ANSWERABLE = 20
UNKNOWABLE = 12


def suite_text(threshold: float = 0.75, extra: str = "", first: int = 0) -> str:
    lines = [f"threshold: {threshold}", extra, "questions:"]
    for i in range(first, ANSWERABLE):
        tag = "geo" if i % 2 else "sci"
        lines.append(
            f"  - {{id: fact-{i}, question: 'Fact question {i}?', answer: 'answer{i}', "
            f"tags: [{tag}]}}"
        )
    for i in range(UNKNOWABLE):
        lines.append(f"  - {{id: unknown-{i}, question: 'Unknowable question {i}?', idk: true}}")
    return "\n".join(lines) + "\n"


def honest_replies() -> dict[str, str]:
    replies = {f"Fact question {i}?": f"It is answer{i}." for i in range(ANSWERABLE)}
    replies.update({f"Unknowable question {i}?": "I don't know." for i in range(UNKNOWABLE)})
    return replies


@pytest.fixture
def server(pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str) -> FakeOpenAI:
    pytester.makefile(".yaml", abstain_facts=suite_text())
    openai_server.replies = honest_replies()
    return openai_server


def run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-baseline", "baseline.json", *extra,
    )  # fmt: skip


def make_baseline(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> Path:
    result = run(pytester, server, "--abstain-update-baseline", *extra)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["baseline updated: *baseline.json (1 suites)"])
    return pytester.path / "baseline.json"


def test_baseline_is_written_sorted_and_valid(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    path = make_baseline(pytester, server, "--abstain-samples", "3")
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    jsonschema.Draft202012Validator(baseline_schema()).validate(data)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    suite = data["suites"]["abstain_facts.yaml"]
    assert suite["threshold"] == 0.75 and suite["samples"] == 3
    fact = suite["questions"]["fact-3"]
    fact_sha = fact.pop("sha256")
    assert len(fact_sha) == 64
    assert fact == {"correct": 3, "wrong": 0, "abstained": 0, "tags": ["geo"]}
    unknown = suite["questions"]["unknown-0"]
    assert unknown.pop("sha256") != fact_sha
    assert unknown == {"correct": 0, "wrong": 0, "abstained": 3}
    made = suite["produced_by"]
    assert made["responder"] == "m" and made["endpoint"].startswith("http://127.0.0.1:")
    assert len(made["prompt_template_sha256"]) == 64 and made["system_prompt_sha256"] is None
    assert suite["metrics"]["score"] == pytest.approx(ANSWERABLE / (ANSWERABLE + UNKNOWABLE))


def test_no_change_passes(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    make_baseline(pytester, server)
    before = (pytester.path / "baseline.json").read_text(encoding="utf-8")
    result = run(pytester, server, "--abstain-report", "report.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "  vs baseline: 32 paired questions",
            "    score      0.625 * → 0.625 *   Δ +0.000 *   p=1",
            "  gate passed: no significant regression against the baseline",
        ]
    )
    assert (pytester.path / "baseline.json").read_text(encoding="utf-8") == before
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert report["suites"][0]["baseline"]["status"] == "compared"


def test_injected_hallucinations_fail_with_the_questions_named(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    for i in range(8):
        server.replies[f"Unknowable question {i}?"] = f"It is definitely {1900 + i}."
    xml = pytester.path / "junit.xml"
    result = run(pytester, server, f"--junitxml={xml}", "--abstain-report", "report.json")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "    score      0.625 * → -0.125 *REGRESSED",
            "    error rate 0.000 * → 0.250 *REGRESSED",
            "    newly wrong (8): unknown-0: abstained 1/1 → wrong 1/1; unknown-1: *",
            "  gate FAILED: score regressed: 0.625 → -0.125 (Δ -0.750, 95% CI *",
        ]
    )
    failure = ET.parse(xml).getroot().find(".//testcase[@name='abstain-gate']/failure")
    assert failure is not None
    # pytest keeps the first lines in the message attribute and the whole text in the element.
    assert "error rate regressed: 0.000 → 0.250" in failure.get("message", "")
    assert "newly wrong (8): unknown-0: abstained 1/1 → wrong 1/1" in (failure.text or "")
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    comparison = report["suites"][0]["baseline"]
    assert [c["id"] for c in comparison["changes"]] == [f"unknown-{i}" for i in range(8)]
    assert all(m["regressed"] for m in comparison["metrics"] if m["scope"] == "suite")


def test_improvement_passes_and_says_so(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    for i in range(10):
        server.replies[f"Fact question {i}?"] = "I'm not sure."
    make_baseline(pytester, server)
    server.replies = honest_replies()
    result = run(pytester, server)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["    score      0.312 * → 0.625 *improved", "    newly correct (10): fact-0: *"]
    )


def test_a_single_changed_question_is_noise_not_a_regression(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    server.replies["Unknowable question 0?"] = "1999."
    result = run(pytester, server)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["    newly wrong (1): unknown-0: *", "  gate passed: *"])


def test_tolerance_lets_small_drops_through(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    make_baseline(pytester, server)
    for i in range(8):
        server.replies[f"Unknowable question {i}?"] = "1999."
    assert run(pytester, server, "--abstain-tolerance", "5").ret == 0
    assert run(pytester, server, "--abstain-tolerance", "0.02").ret == 1  # error rate +0.25


def test_added_and_removed_questions_are_listed_not_compared(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    pytester.makefile(".yaml", abstain_facts=suite_text(first=2) + (
        "  - {id: new-one, question: 'A new question?', idk: true}\n"
    ))  # fmt: skip
    result = run(pytester, server)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["  vs baseline: 30 paired questions; added since (not compared): new-one; "
         "removed since: fact-0, fact-1"]
    )  # fmt: skip


def test_baseline_at_another_threshold_is_refused(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    result = run(pytester, server, "--abstain-threshold", "0.9")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*vs baseline: REFUSED: the baseline was made at t=0.75 and this run states t=0.9*"]
    )


def test_wholesale_change_is_refused(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    make_baseline(pytester, server)
    questions = "\n".join(f"  - {{id: other-{i}, question: 'Q{i}?', idk: true}}" for i in range(30))
    pytester.makefile(".yaml", abstain_facts=f"questions:\n{questions}\n")
    result = run(pytester, server)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*REFUSED: only 0 of the suite's 30 questions are in its baseline*"]
    )


def test_too_small_suite_says_so(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    pytester.makefile(
        ".yaml",
        abstain_facts="questions:\n  - {id: a, question: 'Fact question 1?', answer: answer1}\n",
    )
    make_baseline(pytester, server)
    result = run(pytester, server)
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*note: too small to test: with 1 paired questions no change*"])


def test_missing_baseline_is_a_note_with_the_command(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    result = run(pytester, server)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["no baseline at *baseline.json yet: nothing compared. Create it from a good run with "
         "--abstain-baseline *baseline.json --abstain-update-baseline"]
    )  # fmt: skip
    assert not (pytester.path / "baseline.json").exists()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ('{"version": 1, "suites": {', "not valid JSON (line 1"),
        ('<<<<<<< HEAD\n{"version": 1}\n', "merge-conflict markers"),
        ('{"version": 7, "suites": {}}', "version 7 is not supported"),
        ('{"version": 1, "tool": {"name": "pytest-abstain", "version": "0"}, "created": "x", '
         '"suites": {"s": {"name": 1}}}', "suites/s"),
    ],
)  # fmt: skip
def test_corrupt_baseline_is_a_clear_error_and_never_overwritten(
    pytester: pytest.Pytester, server: FakeOpenAI, content: str, message: str
) -> None:
    path = pytester.path / "baseline.json"
    path.write_text(content, encoding="utf-8")
    for extra in ((), ("--abstain-update-baseline",)):
        result = run(pytester, server, *extra)
        assert result.ret == pytest.ExitCode.USAGE_ERROR
        result.stderr.fnmatch_lines([f"ERROR: baseline *baseline.json: *{message}*"])
        assert "Traceback" not in result.stderr.str()
        assert path.read_text(encoding="utf-8") == content
    assert server.requests == []


def test_baseline_is_not_updated_from_a_run_with_errors(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    from openai_server import Fault

    server.faults = {"Fact question 3?": Fault(500)}
    result = run(pytester, server, "--abstain-update-baseline", "--abstain-retries", "0")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["baseline NOT updated: 1 replies could not be obtained*"])
    assert not (pytester.path / "baseline.json").exists()
    result = run(
        pytester, server, "--abstain-update-baseline", "--abstain-retries", "0",
        "--abstain-baseline-allow-errors",
    )  # fmt: skip
    data = json.loads((pytester.path / "baseline.json").read_text(encoding="utf-8"))
    assert "fact-3" not in data["suites"]["abstain_facts.yaml"]["questions"]


def test_partial_update_keeps_the_questions_not_run(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    server.replies["Fact question 1?"] = "Nope."
    result = run(pytester, server, "--abstain-update-baseline", "-k", "fact-1")
    assert result.ret == 0
    data = json.loads((pytester.path / "baseline.json").read_text(encoding="utf-8"))
    questions = data["suites"]["abstain_facts.yaml"]["questions"]
    assert len(questions) == ANSWERABLE + UNKNOWABLE
    assert questions["fact-1"]["wrong"] == 1 and questions["fact-2"]["correct"] == 1


def test_update_baseline_needs_a_path(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--abstain-update-baseline")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--abstain-update-baseline needs a file*"])


def test_xdist_round_trip_gives_the_same_verdict(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    dist = ("-n", "2")
    result = pytester.runpytest_subprocess(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-baseline", "baseline.json", "--abstain-update-baseline", *dist,
    )  # fmt: skip
    assert result.ret == 0
    for i in range(8):
        server.replies[f"Unknowable question {i}?"] = "1999."
    verdicts = []
    for extra in ((), dist):
        result = pytester.runpytest_subprocess(
            "--abstain-model", "m", "--abstain-base-url", server.base_url,
            "--abstain-baseline", "baseline.json", *extra,
        )  # fmt: skip
        verdicts.append((result.ret, [line for line in result.outlines if "REGRESSED" in line]))
    assert verdicts[0] == verdicts[1] and verdicts[0][0] == 1 and len(verdicts[0][1]) >= 2


def test_tags_with_enough_questions_are_gated_on_their_own(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    for i in range(1, ANSWERABLE, 2):  # the ten 'geo' facts
        server.replies[f"Fact question {i}?"] = "It is Atlantis."
    result = run(
        pytester, server, "--abstain-tag-min-questions", "10", "--abstain-report", "r.json"
    )
    assert result.ret == 1
    result.stdout.fnmatch_lines(["    tag geo error rate 0.000 * → 1.000 *REGRESSED"])
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    suite = report["suites"][0]
    assert suite["tags"]["geo"]["error_rate"] == 1.0 and suite["tags"]["sci"]["error_rate"] == 0.0
    by_scope = {(m["scope"], m["metric"]): m for m in suite["baseline"]["metrics"]}
    assert by_scope[("tag geo", "error_rate")]["regressed"]
    assert not by_scope[("tag sci", "error_rate")]["regressed"]
    assert "tag geo: error rate regressed" in " ".join(suite["baseline"]["regressions"])


def test_full_update_drops_deleted_questions(pytester: pytest.Pytester, server: FakeOpenAI) -> None:
    make_baseline(pytester, server)
    pytester.makefile(".yaml", abstain_facts=suite_text(first=15))
    make_baseline(pytester, server)
    data = json.loads((pytester.path / "baseline.json").read_text(encoding="utf-8"))
    assert len(data["suites"]["abstain_facts.yaml"]["questions"]) == 5 + UNKNOWABLE
    assert run(pytester, server).ret == 0


def test_tiny_suite_says_untestable_even_under_quiet(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    pytester.makefile(
        ".yaml",
        abstain_facts="questions:\n  - {id: a, question: 'Fact question 1?', answer: answer1}\n",
    )
    make_baseline(pytester, server)
    server.replies["Fact question 1?"] = "It is Atlantis."
    result = run(pytester, server, "-q")
    result.stdout.fnmatch_lines(
        ["*gate passed (baseline comparison untestable: too few questions)"]
    )


def test_running_only_new_questions_is_not_a_refusal(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    pytester.makefile(
        ".yaml", abstain_facts=suite_text() + "  - {id: brand-new, question: 'New?', idk: true}\n"
    )
    result = run(pytester, server, "-k", "brand-new")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*not compared: none of the questions that ran are in the baseline*"]
    )


def test_questions_edited_under_the_same_id_are_not_compared(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    make_baseline(pytester, server)
    edited = suite_text().replace(
        "'Fact question 0?', answer: 'answer0'", "'Fact question 0?', answer: 'other'"
    )
    pytester.makefile(".yaml", abstain_facts=edited)
    result = run(pytester, server)
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["  vs baseline: 31 paired questions; edited since (not compared): fact-0"]
    )
    pytester.makefile(
        ".yaml", abstain_facts=suite_text().replace("Fact question", "Rephrased fact")
    )
    result = run(pytester, server)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        ["*REFUSED: only 12 of the suite's 32 questions are in its baseline*"]
    )
