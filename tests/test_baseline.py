"""The baseline gate: end to end over the loopback server (write, read back, compare, refuse,
the JUnit case, xdist), and the comparison and update rules driven without pytest."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from direct_run import answering, gated, run_suite, summary
from openai_server import FakeOpenAI

from pytest_abstain.outputs import BaselineUse, OutputPaths, Outputs
from pytest_abstain.render.json_report import report_schema
from pytest_abstain.results.baseline import (
    Baseline,
    BaselineError,
    baseline_schema,
    read_baseline,
    update_baseline,
)
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.verdict import decide

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


def test_no_change_passes_and_the_baseline_is_written_sorted_and_valid(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    path = make_baseline(pytester, server, "--abstain-samples", "3")
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    jsonschema.Draft202012Validator(baseline_schema()).validate(data)
    assert text == json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    suite = data["suites"]["abstain_facts.yaml"]
    assert suite["threshold"] == 0.75 and suite["samples"] == 3
    assert suite["path"] == "abstain_facts.yaml"
    fact = suite["questions"]["fact-3"]
    fact_sha = fact.pop("sha256")
    assert len(fact_sha) == 64
    assert fact == {
        "correct": 3, "wrong": 0, "abstained": 0, "tags": ["geo"], "reply": "It is answer3.",
        "runs": 1,
    }  # fmt: skip
    unknown = suite["questions"]["unknown-0"]
    assert unknown.pop("sha256") != fact_sha
    assert unknown == {
        "correct": 0, "wrong": 0, "abstained": 3, "reply": "I don't know.", "runs": 1
    }  # fmt: skip
    made = suite["produced_by"]
    assert made["responder"] == "m" and made["endpoint"].startswith("http://127.0.0.1:")
    assert len(made["prompt_template_sha256"]) == 64 and made["system_prompt_sha256"] is None
    assert suite["metrics"]["score"] == pytest.approx(ANSWERABLE / (ANSWERABLE + UNKNOWABLE))

    # The same replies again: compared, passed, and the baseline left as it was.
    result = run(pytester, server, "--abstain-samples", "3", "--abstain-report", "report.json")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "  vs baseline: 32 paired questions",
            "    score      0.625 * → 0.625 *   Δ +0.000 *   p=1",
            "  gate passed: no significant regression against the baseline",
        ]
    )
    assert path.read_text(encoding="utf-8") == text
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
    # (--abstain-tag-min-questions reaches the comparison: the ten-question tags are gated.)
    result = run(
        pytester, server, f"--junitxml={xml}", "--abstain-report", "report.json",
        "--abstain-tag-min-questions", "10",
    )  # fmt: skip
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "    score      0.625 * → -0.125 *REGRESSED",
            "    error rate 0.000 * → 0.250 *REGRESSED",
            "    newly wrong (8):",
            "      unknown-0: abstained 1/1 → wrong 1/1: "
            '"I don\'t know." → "It is definitely 1900."',
            "      unknown-1: abstained 1/1 → wrong 1/1: "
            '"I don\'t know." → "It is definitely 1901."',
            "  gate FAILED: regressed against the baseline: score, error rate (above)",
            "    if the change is intended, accept it: "
            "pytest ... --abstain-baseline baseline.json --abstain-baseline-restart",
        ]
    )
    # The failure and the summary in short lines (pytest's own header names long tmp paths).
    start = next(i for i, line in enumerate(result.outlines) if "FAILURES" in line)
    ours = [line for line in result.outlines[start:] if str(pytester.path) not in line]
    assert max(len(line) for line in ours) <= 120
    failure = ET.parse(xml).getroot().find(".//testcase[@name='abstain-gate']/failure")
    assert failure is not None
    # pytest keeps the first lines in the message attribute and the whole text in the element.
    assert "error rate regressed against the baseline: 0.000 → 0.250" in failure.get("message", "")
    assert "unknown-0: abstained 1/1 → wrong 1/1" in (failure.text or "")
    report = json.loads((pytester.path / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    comparison = report["suites"][0]["baseline"]
    assert [c["id"] for c in comparison["changes"]] == [f"unknown-{i}" for i in range(8)]
    first = comparison["changes"][0]
    assert (first["before_reply"], first["after_reply"]) == (
        "I don't know.",
        "It is definitely 1900.",
    )
    suite_wide = {
        m["metric"]: m["regressed"] for m in comparison["metrics"] if m["scope"] == "suite"
    }
    # Hallucinating on the unknowable questions: no more refusals where there is an answer.
    assert suite_wide == {"score": True, "error_rate": True, "answerable_abstention": False}
    assert {m["scope"] for m in comparison["metrics"]} == {"suite", "tag geo", "tag sci"}


CORRUPT = [
    ('{"version": 1, "suites": {', "not valid JSON (line 1"),
    ('<<<<<<< HEAD\n{"version": 1}\n', "merge-conflict markers"),
    ('{"version": 7, "suites": {}}', "version 7 is not supported"),
    ('{"version": 1, "tool": {"name": "pytest-abstain", "version": "0"}, "created": "x", '
     '"suites": {"s": {"name": 1}}}', "suites/s"),
]  # fmt: skip


def test_corrupt_baseline_is_a_usage_error_and_never_overwritten(
    pytester: pytest.Pytester, server: FakeOpenAI
) -> None:
    # Each kind of corruption's message: test_corrupt_baseline_says_what_is_wrong.
    content, message = CORRUPT[1]
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
    result.stdout.fnmatch_lines(["baseline NOT updated: 1 reply could not be obtained*"])
    assert not (pytester.path / "baseline.json").exists()
    result = run(
        pytester, server, "--abstain-update-baseline", "--abstain-retries", "0",
        "--abstain-baseline-allow-errors",
    )  # fmt: skip
    data = json.loads((pytester.path / "baseline.json").read_text(encoding="utf-8"))
    assert "fact-3" not in data["suites"]["abstain_facts.yaml"]["questions"]


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


# --- the comparison and the update rules, without pytest --------------------------------------
# The suite above, answered by the pipeline, compared with a baseline written and read back,
# rendered as the terminal summary and decided as the run's verdict (tests/direct_run.py).


def facts(tmp_path: Path, text: str | None = None) -> Path:
    path = tmp_path / "abstain_facts.yaml"
    path.write_text(suite_text() if text is None else text, encoding="utf-8")
    return path


def saved(tmp_path: Path, results: list[SuiteResult]) -> Baseline:
    """`results` written to the baseline file (updating it) and read back."""
    path = tmp_path / "baseline.json"
    update_baseline(path, results)
    baseline = read_baseline(path)
    assert baseline is not None
    return baseline


def hallucinating(count: int, reply: str = "1999.") -> dict[str, str]:
    replies = honest_replies()
    replies.update({f"Unknowable question {i}?": reply for i in range(count)})
    return replies


def test_improvement_passes_and_says_so(tmp_path: Path) -> None:
    replies = honest_replies()
    replies.update({f"Fact question {i}?": "I'm not sure." for i in range(10)})
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(replies)))
    results, verdict = gated(run_suite(facts(tmp_path), answering(honest_replies())), baseline)
    assert verdict.passed
    summary(results).fnmatch_lines(
        [
            "    score      0.312 * → 0.625 *improved",
            "    newly correct (10):",
            '      fact-0: abstained 1/1 → correct 1/1: "I\'m not sure." → "It is answer0."',
        ]
    )


def test_a_single_changed_question_is_noise_not_a_regression(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    results, verdict = gated(run_suite(facts(tmp_path), answering(hallucinating(1))), baseline)
    assert verdict.passed
    summary(results).fnmatch_lines(
        ["    newly wrong (1):", "      unknown-0: *", "  gate passed: *"]
    )


def test_tolerance_lets_small_drops_through(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    worse = answering(hallucinating(8))
    _, lenient = gated(run_suite(facts(tmp_path), worse, cli={"tolerance": 5.0}), baseline)
    assert lenient.passed
    _, strict = gated(run_suite(facts(tmp_path), worse, cli={"tolerance": 0.02}), baseline)
    assert strict.failed_gates and not strict.passed  # error rate +0.25


def test_added_and_removed_questions_are_listed_not_compared(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    changed = suite_text(first=2) + "  - {id: new-one, question: 'A new question?', idk: true}\n"
    results, verdict = gated(
        run_suite(facts(tmp_path, changed), answering(honest_replies())), baseline
    )
    assert verdict.passed
    summary(results).fnmatch_lines(
        ["  vs baseline: 30 paired questions",
         "    added since (not compared): new-one",
         "    removed since: fact-0, fact-1"]
    )  # fmt: skip


def test_baseline_at_another_threshold_is_refused(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    results, verdict = gated(
        run_suite(facts(tmp_path), answering(honest_replies()), cli={"threshold": 0.9}), baseline
    )
    assert not verdict.passed
    summary(results).fnmatch_lines(
        ["*vs baseline: REFUSED: the baseline was made at t=0.75 and this run states t=0.9*"]
    )


def test_wholesale_change_is_refused(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    questions = "\n".join(f"  - {{id: other-{i}, question: 'Q{i}?', idk: true}}" for i in range(30))
    path = facts(tmp_path, f"questions:\n{questions}\n")
    results, verdict = gated(run_suite(path, answering(honest_replies())), baseline)
    assert not verdict.passed
    summary(results).fnmatch_lines(
        ["*REFUSED: only 0 of the suite's 30 questions are in its baseline*"]
    )


TINY = "questions:\n  - {id: a, question: 'Fact question 1?', answer: answer1}\n"


def test_too_small_suite_says_so_even_under_quiet(tmp_path: Path) -> None:
    path = facts(tmp_path, TINY)
    baseline = saved(tmp_path, run_suite(path, answering(honest_replies())))
    results, verdict = gated(run_suite(path, answering(honest_replies())), baseline)
    assert verdict.passed
    summary(results).fnmatch_lines(["*note: too small to test: with 1 paired questions no change*"])
    # A hallucination is no more testable: said on the one line of -q too, and the gate passes.
    wrong = {"Fact question 1?": "It is Atlantis."}
    results, verdict = gated(run_suite(path, answering(wrong)), baseline)
    assert verdict.passed
    summary(results, verbosity=-1).fnmatch_lines(
        ["*gate passed (baseline comparison untestable: too few questions)"]
    )


def test_running_only_new_questions_is_not_a_refusal(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    path = facts(tmp_path, suite_text() + "  - {id: brand-new, question: 'New?', idk: true}\n")
    ran = run_suite(path, answering(honest_replies()), only=lambda qid: qid == "brand-new")
    results, verdict = gated(ran, baseline)
    assert verdict.passed
    summary(results).fnmatch_lines(
        ["*not compared: none of the questions that ran are in the baseline*"]
    )


def test_questions_edited_under_the_same_id_are_not_compared(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    edited = suite_text().replace(
        "'Fact question 0?', answer: 'answer0'", "'Fact question 0?', answer: 'other'"
    )
    results, verdict = gated(
        run_suite(facts(tmp_path, edited), answering(honest_replies())), baseline
    )
    assert verdict.passed
    summary(results).fnmatch_lines(
        ["  vs baseline: 31 paired questions", "    edited since (not compared): fact-0"]
    )
    rephrased = suite_text().replace("Fact question", "Rephrased fact")
    replies = {k.replace("Fact question", "Rephrased fact"): v for k, v in honest_replies().items()}
    results, verdict = gated(run_suite(facts(tmp_path, rephrased), answering(replies)), baseline)
    assert not verdict.passed
    summary(results).fnmatch_lines(
        ["*REFUSED: only 12 of the suite's 32 questions are in its baseline*"]
    )


def test_tags_with_enough_questions_are_gated_on_their_own(tmp_path: Path) -> None:
    baseline = saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    replies = honest_replies()
    replies.update({f"Fact question {i}?": "It is Atlantis." for i in range(1, ANSWERABLE, 2)})
    results, verdict = gated(
        run_suite(facts(tmp_path), answering(replies)), baseline, tag_min_questions=10
    )
    assert not verdict.passed
    summary(results).fnmatch_lines(["    tag geo error rate 0.000 * → 1.000 *REGRESSED"])
    report = Outputs(OutputPaths()).report(results, [], [], RUN, verdict)
    assert report is not None
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    suite = report["suites"][0]
    assert suite["tags"]["geo"]["error_rate"] == 1.0 and suite["tags"]["sci"]["error_rate"] == 0.0
    by_scope = {(m["scope"], m["metric"]): m for m in suite["baseline"]["metrics"]}
    assert by_scope[("tag geo", "error_rate")]["regressed"]
    assert not by_scope[("tag sci", "error_rate")]["regressed"]
    assert "tag geo: error rate regressed" in " ".join(suite["baseline"]["regressions"])


RUN = {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 4}


def test_partial_update_keeps_the_questions_not_run(tmp_path: Path) -> None:
    saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    replies = {**honest_replies(), "Fact question 1?": "Nope."}
    ran = run_suite(facts(tmp_path), answering(replies), only=lambda qid: qid == "fact-1")
    questions = saved(tmp_path, ran).suites["abstain_facts.yaml"].questions
    assert len(questions) == ANSWERABLE + UNKNOWABLE
    assert questions["fact-1"].counts.wrong == 1 and questions["fact-2"].counts.correct == 1


def test_full_update_drops_deleted_questions(tmp_path: Path) -> None:
    saved(tmp_path, run_suite(facts(tmp_path), answering(honest_replies())))
    shorter = run_suite(facts(tmp_path, suite_text(first=15)), answering(honest_replies()))
    baseline = saved(tmp_path, shorter)
    assert len(baseline.suites["abstain_facts.yaml"].questions) == 5 + UNKNOWABLE
    again = run_suite(facts(tmp_path, suite_text(first=15)), answering(honest_replies()))
    assert gated(again, baseline)[1].passed


def test_missing_baseline_is_a_note_with_the_command(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    results = run_suite(facts(tmp_path), answering(honest_replies()))
    note = Outputs(OutputPaths(baseline=path)).baseline_step(
        BaselineUse(None, False, False), results
    )
    assert note is not None
    pytest.LineMatcher([note[0]]).fnmatch_lines(
        [f"no baseline at {path} yet: nothing compared. Create it from a good run with "
         f"--abstain-baseline {path} --abstain-update-baseline"]
    )  # fmt: skip
    assert decide(results, []).passed
    assert not path.exists()


@pytest.mark.parametrize(("content", "message"), CORRUPT)
def test_corrupt_baseline_says_what_is_wrong(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as raised:
        read_baseline(path)
    pytest.LineMatcher([str(raised.value)]).fnmatch_lines([f"baseline {path}: *{message}*"])
    assert path.read_text(encoding="utf-8") == content
