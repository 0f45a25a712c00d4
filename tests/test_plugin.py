"""The plugin end to end: pytester runs over the real openai client and a loopback server."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import openai  # noqa: F401 - imported up front so timings measure asking, not this import
import pytest
from openai_server import FakeOpenAI, Fault

from pytest_abstain.render.json_report import report_schema

SUITE = """
name: tiny
threshold: 0.75
questions:
  - id: capital
    question: What is the capital of France?
    answer: Paris
  - id: symbol
    question: What is the chemical symbol for gold?
    answer: Au
  - id: birthday
    question: What is Adam Kalai's birthday?
    idk: true
  - id: sides
    question: How many sides does a hexagon have?
    answer: 6
"""

REPLIES = {
    "capital of France": "Paris.",
    "symbol for gold": "It is Ag.",  # wrong
    "birthday": "I don't know.",
    "hexagon": "Six.",
}


def args(server: FakeOpenAI, *extra: str) -> list[str]:
    return ["--abstain-model", "fake-model", "--abstain-base-url", server.base_url, *extra]


@pytest.fixture
def tiny(pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str) -> FakeOpenAI:
    pytester.makefile(".yaml", abstain_tiny=SUITE)
    openai_server.replies = dict(REPLIES)
    return openai_server


def junit_cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    return {case.get("name", ""): case for case in root.iter("testcase")}


def properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def test_asks_grades_summarises_and_reports(pytester: pytest.Pytester, tiny: FakeOpenAI) -> None:
    result = pytester.runpytest(*args(tiny, "--abstain-report", "out/report.json"))
    assert result.ret == 0
    assert result.parseoutcomes() == {"correct": 2, "wrong": 1, "abstained": 1}
    result.stdout.fnmatch_lines(
        [
            "abstain: model=fake-model endpoint=http://127.0.0.1:*/v1 t=per suite*",
            "abstain_tiny.yaml .WA.*",
            "*abstain: honesty at a stated confidence target*",
            "abstain_tiny.yaml  (tiny)",
            "  responder fake-model   t=0.75 (a wrong answer costs 3)   samples 1",
            "  replies 4: correct 2, wrong 1, abstained 1, no reply 0",
            "  score -0.250   error rate 0.250   accuracy 0.500   abstention 0.250 *",
            "  wrong answers (hallucinations):",
            "    symbol: wrong 1/1  'It is Ag.'  (expected: Au)",
            "  gate: none set*",
        ]
    )
    assert len(tiny.requests) == 4
    assert all(r["model"] == "fake-model" for r in tiny.requests)

    # The JSON report: valid, complete, written atomically, and without the key.
    report = json.loads((pytester.path / "out" / "report.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert report["verdict"] == "passed"
    assert report["run"]["model"] == "fake-model"
    assert report["overall"]["wrong"] == 1 and report["overall"]["score"] == pytest.approx(-0.25)
    (suite,) = report["suites"]
    assert suite["key"] == "abstain_tiny.yaml" and suite["threshold"] == 0.75
    assert suite["penalty"] == pytest.approx(3.0) and suite["verdict"] == "not gated"
    assert suite["usage"]["prompt_tokens"] > 0
    by_id = {q["id"]: q for q in suite["questions"]}
    assert list(by_id) == ["capital", "symbol", "birthday", "sides"]
    assert by_id["symbol"]["grades"] == ["wrong"] and by_id["symbol"]["replies"] == ["It is Ag."]
    assert by_id["birthday"]["grade"] == "abstained" and by_id["birthday"]["idk"] is True
    assert not list(pytester.path.glob("out/.*.tmp"))
    assert "sk-test" not in (pytester.path / "out" / "report.json").read_text(encoding="utf-8")


def test_confidence_target_is_stated_and_samples_ask_each_question_k_times(
    pytester: pytest.Pytester, tiny: FakeOpenAI
) -> None:
    result = pytester.runpytest(*args(tiny, "--abstain-threshold", "0.9", "--abstain-samples", "3"))
    assert result.ret == 0
    prompts = [r["messages"][-1]["content"] for r in tiny.requests]
    assert all("more than 90% confident" in p and "costs 9 points" in p for p in prompts)
    assert len(tiny.requests) == 12
    result.stdout.fnmatch_lines(["  replies 12: correct 6, wrong 3, abstained 3, no reply 0"])


def test_instruction_off_sends_the_question_as_is(
    pytester: pytest.Pytester, tiny: FakeOpenAI
) -> None:
    pytester.makeini("[pytest]\nabstain_prompt_template = off\n")
    assert pytester.runpytest(*args(tiny)).ret == 0
    prompts = sorted(r["messages"][-1]["content"] for r in tiny.requests)
    assert prompts[0] == "How many sides does a hexagon have?"


def test_failing_gate_fails_the_run_and_shows_in_junit(
    pytester: pytest.Pytester, tiny: FakeOpenAI
) -> None:
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest(
        *args(tiny, "--abstain-min-score", "0", "--abstain-max-error-rate", "0.1"),
        f"--junitxml={xml}",
    )
    assert result.ret == 1
    outcomes = result.parseoutcomes()
    assert outcomes["failed"] == 1 and outcomes["correct"] == 2
    result.stdout.fnmatch_lines(
        [
            "*gate FAILED: score -0.250 < min_score 0 (90% interval *); "
            "error_rate 0.250 > max_error_rate 0.1 (90% interval *)",
            "FAILED abstain_tiny.yaml::abstain-gate - honesty gate failed*",
        ]
    )
    cases = junit_cases(xml)
    failure = cases["abstain-gate"].find("failure")
    assert failure is not None
    assert "score -0.250 < min_score 0" in failure.get("message", "")
    assert "error_rate 0.250 > max_error_rate 0.1" in failure.get("message", "")
    assert "symbol (1/1)" in failure.get("message", "")
    gate_props = properties(cases["abstain-gate"])
    assert gate_props["abstain_score"] == "-0.25" and gate_props["abstain_verdict"] == "failed"
    symbol = properties(cases["symbol"])
    assert symbol["abstain_grade"] == "wrong" and symbol["abstain_wrong"] == "1"
    assert symbol["abstain_reply"] == "It is Ag."
    assert cases["symbol"].find("failure") is None  # a wrong answer is scored, not failed


def test_passing_gate_from_the_suite_file_is_green(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(
        ".yaml", abstain_tiny=SUITE + "gates: {min_score: -0.5, max_error_rate: 0.3}\n"
    )
    openai_server.replies = dict(REPLIES)
    xml = pytester.path / "junit.xml"
    result = pytester.runpytest(*args(openai_server), f"--junitxml={xml}")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*gate passed: score -0.250 >= min_score -0.5 (90% interval *); "
            "error_rate 0.250 <= max_error_rate 0.3 (90% interval *)"
        ]
    )
    gate = junit_cases(xml)["abstain-gate"]
    assert gate.find("failure") is None and properties(gate)["abstain_verdict"] == "passed"
    # The command line beats the suite file.
    result = pytester.runpytest(*args(openai_server, "--abstain-min-score", "0.5"))
    assert result.ret == 1


def test_collect_only_never_asks_or_fails(pytester: pytest.Pytester, tiny: FakeOpenAI) -> None:
    result = pytester.runpytest(*args(tiny, "--abstain-min-score", "5"), "--collect-only")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*4 tests collected*"])
    assert tiny.requests == []


def test_api_failure_is_an_error_never_a_grade(
    pytester: pytest.Pytester, tiny: FakeOpenAI, api_key: str
) -> None:
    tiny.faults = {"hexagon": Fault(500, "the model server exploded")}
    result = pytester.runpytest(*args(tiny, "--abstain-retries", "0", "--abstain-report", "r.json"))
    assert result.ret == 1
    assert result.parseoutcomes()["errors"] == 1
    result.stdout.fnmatch_lines(
        [
            "*no reply for 'sides' from fake-model (1 of 1 samples); not scored:",
            "*sample 1: HTTP 500 from http://127.0.0.1:*/v1: the model server exploded",
            "  replies 4: correct 1, wrong 1, abstained 1, no reply 1",
        ]
    )
    assert "plugin.py:" not in result.stdout.str()  # no frames of ours, just the reason
    assert api_key not in result.stdout.str()
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["verdict"] == "failed" and report["overall"]["error"] == 1
    assert report["overall"]["graded"] == 3


def test_questions_are_asked_concurrently_up_to_the_limit(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    questions = "\n".join(
        f"  - {{id: q{i}, question: 'Question number {i}?', idk: true}}" for i in range(40)
    )
    pytester.makefile(".yaml", abstain_many=f"questions:\n{questions}\n")
    # Long enough that eight requests overlap on any machine. How fast that makes the run is
    # measured in benchmarks/run.py, not asserted here.
    openai_server.latency = 0.3
    result = pytester.runpytest(*args(openai_server, "--abstain-concurrency", "8"))
    assert result.ret == 0 and result.parseoutcomes() == {"abstained": 40}
    assert openai_server.peak_in_flight == 8


def test_async_responder_from_a_conftest(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import asyncio

        async def app(prompt, system=None):
            await asyncio.sleep(0.01)
            if "France" in prompt:
                return "Paris" if system == "Be brief." else "I don't know"
            return "Je ne sais pas."

        app.abstain_name = "my-app"

        def pytest_abstain_make_responder(config, suite_path):
            return app
        """
    )
    pytester.makefile(
        ".yaml",
        abstain_app="""
system_prompt: Be brief.
questions:
  - {id: capital, question: "What is the capital of France?", answer: Paris}
  - {id: unknown, question: "What is the airspeed of a laden swallow?", answer: 11}
""",
    )
    result = pytester.runpytest("-v")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        ["*::capital CORRECT*", "*::unknown ABSTAINED*", "  responder my-app   t=0.75*"]
    )


def test_sync_responder_without_system_parameter_errors_on_a_system_prompt(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        def pytest_abstain_make_responder(config, suite_path):
            return lambda prompt: "Paris"
        """
    )
    pytester.makefile(
        ".yaml",
        abstain_app="system_prompt: x\nquestions:\n  - {id: c, question: 'Q?', answer: Paris}\n",
    )
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*cannot take the suite's system prompt*"])


def test_questions_declared_in_python(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_abstain_make_responder(config, suite_path):
            return lambda prompt: "Paris" if "France" in prompt else "42"
        """
    )
    pytester.makepyfile(
        test_honesty="""
        import pytest

        pytestmark = pytest.mark.abstain_suite(threshold=0.5, gates={"max_error_rate": 0.4})

        @pytest.mark.abstain("What is the capital of France?", answer="Paris")
        def test_capital(abstain_result):
            assert abstain_result.grades == ["correct"]

        @pytest.mark.abstain(question="What is Kalai's birthday?", idk=True)
        def test_birthday():
            pass

        @pytest.mark.abstain(question="Bad", anwser="x")
        def test_bad():
            pass

        def test_plain():
            assert True
        """
    )
    result = pytester.runpytest()
    outcomes = result.parseoutcomes()
    assert outcomes["correct"] == 1 and outcomes["wrong"] == 1 and outcomes["passed"] == 1
    assert outcomes["errors"] == 1  # the misdeclared marker
    assert outcomes["failed"] == 1  # error rate 0.5 > 0.4
    result.stdout.fnmatch_lines(
        [
            "test_honesty.py::test_bad: 2 problems",
            "  - @pytest.mark.abstain: unknown key 'anwser' "
            "(allowed: accept_core, answer, context, contexts, critical, *)",
            "  - @pytest.mark.abstain: needs an answer, a regex, or idk: true",
            "*gate FAILED: error_rate 0.500 > max_error_rate 0.4 (90% interval *)",
        ]
    )


def test_bad_suite_is_a_clear_collection_error(pytester: pytest.Pytester) -> None:
    pytester.makefile(
        ".yaml",
        abstain_bad="questions:\n  - id: a\n    question: q\n    answer: x\n    idk: true\n",
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*ERROR collecting abstain_bad.yaml*",
            "abstain_bad.yaml: question 'a' (questions?0?): a question with idk: true has no*",
        ]
    )
    assert "Traceback" not in result.stdout.str()


def test_bad_option_is_a_usage_error(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--abstain-threshold", "1.5")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--abstain-threshold: must be in ?0, 1), got 1.5*"])


def test_help_works_with_the_plugin_installed(pytester: pytest.Pytester) -> None:
    result = pytester.runpytest("--help")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["*--abstain-model=NAME*", "*--abstain-max-errors=*"])


A_REPO = {
    "abstain_facts": "questions:\n  - {id: a, question: q, idk: true}\n",
}
UNIT_TEST = "def test_unit():\n    assert 1 + 1 == 2\n"


def test_without_a_model_the_repo_s_other_tests_still_run(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **A_REPO)
    pytester.makepyfile(test_unit=UNIT_TEST)
    result = pytester.runpytest("-rs")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, skipped=1)
    result.stdout.fnmatch_lines(
        ["*SKIPPED*no model to ask: pass --abstain-model NAME*pytest_abstain_make_responder*"]
    )
    # The header names what honesty questions are asked with: there were some to name.
    result.stdout.fnmatch_lines(["abstain: model=(conftest responder)*"])
    # In CI an option makes a missing model a failure of the honesty questions only.
    strict = pytester.runpytest("--abstain-require-model")
    assert strict.ret == pytest.ExitCode.TESTS_FAILED
    strict.assert_outcomes(passed=1, errors=1)  # at set-up, like every question error


def test_a_repo_without_honesty_suites_sees_no_trace_of_the_plugin(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_unit=UNIT_TEST)
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.OK
    # (pytest's own "plugins:" line lists it; nothing of ours is printed.)
    assert not [line for line in result.outlines if "abstain" in line and "plugins:" not in line]


def test_not_abstain_leaves_every_honesty_question_out(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", **A_REPO)
    pytester.makepyfile(
        test_unit=UNIT_TEST
        + "import pytest\n\n@pytest.mark.abstain('q2', idk=True)\n"
        + "def test_marked(abstain_result):\n    pass\n"
    )
    result = pytester.runpytest("-m", "not abstain", "--strict-markers")
    assert result.ret == pytest.ExitCode.OK
    result.assert_outcomes(passed=1, deselected=2)
    only = pytester.runpytest("-m", "abstain", "--collect-only", "-q")
    only.stdout.fnmatch_lines(["*abstain_facts.yaml::a", "*test_unit.py::test_marked"])


def test_conftest_hooks_work_with_the_plugin_left_out(pytester: pytest.Pytester) -> None:
    # The README's conftest, as a team keeps it: optionalhook lets pytest run it (and the
    # repo's other tests) where pytest-abstain is not installed or is disabled.
    pytester.makeconftest(
        "import pytest\n\n"
        "@pytest.hookimpl(optionalhook=True)\n"
        "def pytest_abstain_make_responder(config, suite_path):\n"
        "    return lambda prompt: 'I do not know'\n"
    )
    pytester.makefile(".yaml", **A_REPO)
    pytester.makepyfile(test_unit=UNIT_TEST)
    assert pytester.runpytest("-p", "no:abstain").ret == pytest.ExitCode.OK
    with_plugin = pytester.runpytest()
    assert with_plugin.ret == pytest.ExitCode.OK
    assert with_plugin.parseoutcomes() == {"passed": 1, "abstained": 1}


def test_xdist_run_gates_like_a_plain_run(pytester: pytest.Pytester, tiny: FakeOpenAI) -> None:
    plain_xml, xdist_xml = pytester.path / "plain.xml", pytester.path / "xdist.xml"
    gate = ("--abstain-max-error-rate", "0.1")
    plain = pytester.runpytest(*args(tiny, *gate), f"--junitxml={plain_xml}", "-p", "no:xdist")
    dist = pytester.runpytest_subprocess(*args(tiny, *gate), f"--junitxml={xdist_xml}", "-n", "2")
    assert plain.ret == dist.ret == 1
    assert plain.parseoutcomes() == dist.parseoutcomes()
    for xml in (plain_xml, xdist_xml):
        failure = junit_cases(xml)["abstain-gate"].find("failure")
        assert failure is not None
        assert "error_rate 0.250 > max_error_rate 0.1" in failure.get("message", "")


def test_quiet_summary_and_tag_selection(pytester: pytest.Pytester, tiny: FakeOpenAI) -> None:
    pytester.makefile(
        ".yaml",
        abstain_tagged="questions:\n"
        "  - {id: a, question: 'What is the capital of France?', answer: Paris, tags: [geo]}\n"
        "  - {id: b, question: 'What is the chemical symbol for gold?', answer: Au}\n",
    )
    result = pytester.runpytest(*args(tiny), "-q", "-k", "geo", "abstain_tagged.yaml")
    assert result.ret == 0
    assert result.parseoutcomes() == {"correct": 1, "deselected": 1}
    result.stdout.fnmatch_lines(
        ["abstain_tagged.yaml [ran 1 of 2]: score 1.000, error rate 0.000 at t=0.75: no gate"]
    )
    assert len(tiny.requests) == 1  # deselected questions are not asked


def test_python_questions_in_classes_skips_and_misplaced_suite_settings(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        calls = []

        def pytest_abstain_make_responder(config, suite_path):
            def app(prompt):
                calls.append(prompt)
                return "Paris"
            return app

        def pytest_unconfigure(config):
            print(f"responder calls: {len(calls)}")
        """
    )
    pytester.makepyfile(
        test_classes="""
        import pytest

        capital = pytest.mark.abstain("What is the capital of France?", answer="Paris")

        class TestA:
            @capital
            def test_x(self):
                pass

        class TestB:
            @capital
            def test_x(self):
                pass

            @pytest.mark.abstain("Q?", answer="Paris", id="TestA.test_x")
            def test_clash(self):
                pass

        @pytest.mark.abstain_suite(threshold=0.9)
        class TestC:
            @capital
            def test_y(self):
                pass

        @pytest.mark.skip(reason="not today")
        @capital
        def test_skipped():
            pass

        @pytest.mark.abstain("Q?", "Paris")
        def test_two_positional():
            pass
        """
    )
    result = pytester.runpytest("-s", "-v")
    outcomes = result.parseoutcomes()
    assert outcomes["correct"] == 2 and outcomes["skipped"] == 1 and outcomes["errors"] == 3
    result.stdout.fnmatch_lines_random(
        [
            "*TestB::test_clash*question id 'TestA.test_x' is already taken by *TestA::test_x*",
            "*TestC::test_y*abstain_suite sets a whole module's suite*",
            "*test_two_positional*takes the question as its only positional argument*",
            "responder calls: 2",
        ]
    )


def test_responder_hook_that_raises_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_abstain_make_responder(config, suite_path):
            raise RuntimeError("no credentials for the staging app")
        """
    )
    pytester.makefile(".yaml", abstain_x="questions:\n  - {id: a, question: q, idk: true}\n")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(
        ["*pytest_abstain_make_responder raised RuntimeError: no credentials for the staging app*"]
    )


def test_unwritable_report_path_is_refused_before_asking(
    pytester: pytest.Pytester, tiny: FakeOpenAI
) -> None:
    (pytester.path / "file").write_text("x", encoding="utf-8")
    result = pytester.runpytest(*args(tiny, "--abstain-report", "file/report.json"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*cannot write the JSON report to *file/report.json: *"])
    assert tiny.requests == []


def test_maxfail_still_reports_what_ran(pytester: pytest.Pytester, tiny: FakeOpenAI) -> None:
    tiny.faults = {"symbol for gold": Fault(500)}
    result = pytester.runpytest(
        *args(
            tiny, "--abstain-retries", "0", "--abstain-report", "r.json", "--abstain-min-score", "5"
        ),
        "-x",
    )
    assert result.ret == 1
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    (suite,) = report["suites"]
    assert [q["id"] for q in suite["questions"]] == ["capital", "symbol"]
    result.stdout.fnmatch_lines(
        [
            "abstain_tiny.yaml  (tiny)  [ran 2 of 4 questions]",
            "  gate: not evaluated, the run stopped early",
        ]
    )
    assert suite["verdict"] == "not evaluated"
    assert "abstain-gate" not in result.stdout.str()  # a stopped run is not gated


def test_progress_lines_while_asking_and_none_under_quiet(
    pytester: pytest.Pytester,
    openai_server: FakeOpenAI,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import pytest_abstain.glue.session

    monkeypatch.setattr(pytest_abstain.glue.session, "PROGRESS_EVERY_LOG", 0.1)
    questions = "\n".join(
        f"  - {{id: q{i}, question: 'Question {i}?', idk: true}}" for i in range(24)
    )
    pytester.makefile(".yaml", abstain_many=f"questions:\n{questions}\n")
    openai_server.latency = 0.05
    result = pytester.runpytest(*args(openai_server, "--abstain-concurrency", "2"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["abstain: asked */24 replies, *.*/s, 0 failed, *"])
    quiet = pytester.runpytest(*args(openai_server, "--abstain-concurrency", "2"), "-q")
    assert "abstain: asked" not in quiet.stdout.str()


def test_help_lists_every_option(pytester: pytest.Pytester) -> None:
    # A "%" in an option's help once crashed `pytest --help` for every user of the venv.
    result = pytester.runpytest("--help")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*--abstain-max-errors*", "*(5%, 0.05)*"])


def test_collect_only_lists_the_questions_whatever_the_state_of_the_run_files(
    pytester: pytest.Pytester, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_q="questions:\n  - {id: q1, question: 'Q?', idk: true}\n")
    pytester.path.joinpath("b.json").write_text("{ not json", encoding="utf-8")
    files = [
        "--abstain-baseline", "b.json", "--abstain-cache", "missing", "--abstain-record", "replay",
        "--abstain-model", "m", "--abstain-base-url", "http://127.0.0.1:1/v1",
    ]  # fmt: skip
    # A real run refuses both up front (a corrupt baseline, a cache it cannot replay from)...
    assert pytester.runpytest(*files).ret == pytest.ExitCode.USAGE_ERROR
    # ...while listing what it would ask needs neither.
    listed = pytester.runpytest("--collect-only", "-q", *files)
    assert listed.ret == pytest.ExitCode.OK
    listed.stdout.fnmatch_lines(["abstain_q.yaml::q1"])
