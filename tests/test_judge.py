"""The LLM judge: where the rules doubt, the verdict parse, and the judge path end to end
through the loopback server, with scripted verdicts (malformed ones included)."""

from __future__ import annotations

import json
import textwrap
import threading
import time
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from direct_run import answering, gated, run_suite, summary
from openai_server import FakeOpenAI, Fault, last_user_message

from pytest_abstain.asking.cache import ResponseCache
from pytest_abstain.grading import Expectation, Tolerance, rule_grade
from pytest_abstain.judging import (
    DEFAULT_JUDGE_PROMPT,
    VerdictError,
    expected_text,
    judge_messages,
    judge_prompt_problem,
    parse_verdict,
)
from pytest_abstain.render.json_report import report_schema
from pytest_abstain.results.baseline import update_baseline
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.verdict import decide

# --- where the string rules doubt ------------------------------------------------------------

PARIS = Expectation(answers=("Paris",))
YEAR = Expectation(answers=(1889,))
IDK = Expectation(idk=True)


@pytest.mark.parametrize(
    ("reply", "expectation", "grade", "doubt"),
    [
        ("Paris.", PARIS, "correct", None),
        ("Lyon.", PARIS, "wrong", None),
        ("I don't know.", PARIS, "abstained", None),
        ("I'm not sure, but I think it is Paris.", PARIS, "correct", None),  # hedged, right
        ("I don't know, maybe Lyon?", PARIS, "wrong", None),  # a hedged guess is an answer
        ("I don't know, maybe ask the city hall?", PARIS, "wrong", "hedge"),
        ("It is not Paris; it is Lyon.", PARIS, "wrong", "negation"),
        ("Paris isn\u2019t the capital.", PARIS, "wrong", "negation"),
        ("1889.", YEAR, "correct", None),
        ("Built from 1887 to 1889.", YEAR, "correct", "approximate number"),
        ("Opened in 1889; the 1887 plans changed.", YEAR, "correct", "several numbers"),
        ("The capital city of France is the city of light on the river Seine.", PARIS,
         "wrong", "long reply"),
        ("12-03", IDK, "wrong", None),  # a short invented answer is surely wrong
        ("Nobody knows.", IDK, "abstained", None),
        ("That was never written down anywhere.", IDK, "wrong", "other words"),
        ("Paris or Lyon.", PARIS, "wrong", "alternatives"),
        ("Either Paris or Lyon.", PARIS, "wrong", "alternatives"),
        ("I don't know.", IDK, "abstained", None),
        ("I don't know, but probably 12-03.", IDK, "wrong", "hedge"),  # a guess is an attempt
    ],
)  # fmt: skip
def test_rules_say_where_they_cannot_decide(
    reply: str, expectation: Expectation, grade: str, doubt: str | None
) -> None:
    graded = rule_grade(reply, expectation)
    assert graded.grade == grade
    if doubt is None:
        assert graded.doubt is None
    else:
        assert graded.doubt is not None and graded.doubt.startswith(doubt)


def test_numbers_within_tolerance_are_not_other_numbers() -> None:
    near = Expectation(answers=(100.0,), tolerance=Tolerance(absolute=2))
    assert rule_grade("99, maybe 101.", near).doubt is None
    assert rule_grade("About 99, not 120.", near).doubt is not None


# --- the judge's prompt and verdict ----------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "verdict"),
    [
        ("Verdict: CORRECT", "correct"),
        ("verdict: wrong", "wrong"),
        ("ABSTAINED", "abstained"),
        ("The reply hedges but names Canberra.\n\nVerdict: CORRECT\n", "correct"),
        ("**Verdict: WRONG**", "wrong"),
        ("Correct.", "correct"),
    ],
)
def test_verdicts_that_read(text: str, verdict: str) -> None:
    assert parse_verdict(text) == verdict


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Verdict: CORRECT or WRONG",
        "Verdict: maybe",
        "The answer is correct.",
        "Verdict: CORRECT\nThough one could argue it is wrong.",
        "A",
        "Verdict: INCORRECT",
    ],
)
def test_verdicts_that_do_not_read_are_refused(text: str) -> None:
    with pytest.raises(VerdictError, match="could not be read"):
        parse_verdict(text)


def test_judge_prompt_checks_and_literal_braces() -> None:
    assert judge_prompt_problem(DEFAULT_JUDGE_PROMPT) is None
    assert "{expected}" in str(judge_prompt_problem("{question} {reply}"))
    assert "{answer}" in str(judge_prompt_problem("{question} {reply} {expected} {answer}"))
    assert "valid template" in str(judge_prompt_problem("{question"))
    # Braces in the question or reply are text, never placeholders.
    [message] = judge_messages("Q={question} E={expected} R={reply}", "{x}", "1", "{reply}")
    assert message == {"role": "user", "content": "Q={x} E=1 R={reply}"}


def test_expected_answer_in_words() -> None:
    assert expected_text(False, ("Paris", "City of Paris"), None) == (
        "Paris (also accepted: City of Paris)"
    )
    assert "no answer to this question is known" in expected_text(True, (), None)
    assert expected_text(False, (330,), None, tolerance="2%") == "330 (numbers within 2% count)"
    assert "regular expression 19\\d\\d" in expected_text(False, (), "19\\d\\d")


# --- end to end through the loopback server --------------------------------------------------

SUITE = """
judge: unsure
questions:
  - {id: sure, question: What is the capital of France?, answer: Paris}
  - {id: hedged, question: What is the capital of Australia?, answer: Canberra}
  - {id: negated, question: What is the largest planet?, answer: Jupiter}
  - {id: unreadable, question: When was the Eiffel Tower finished?, answer: 1889}
  - {id: judge-down, question: "What is Adam Kalai's birthday?", idk: true}
"""
MODEL = {
    "capital of France": "Paris.",
    "capital of Australia": "Canberra or Sydney; I'd guess Canberra.",
    "largest planet": "It is not Jupiter, it is Saturn.",
    "Eiffel": "Work ran from 1887 to 1889.",
    "birthday": "I don't know, but maybe 12-03.",
}
VERDICTS = {
    "Canberra or Sydney; I'd guess Canberra.": "It settles on Canberra.\nVerdict: CORRECT",
    "It is not Jupiter, it is Saturn.": "Verdict: WRONG",
    "Work ran from 1887 to 1889.": "Looks right to me!",
    "I don't know, but maybe 12-03.": "Verdict: WRONG",
}


def _judged_reply(prompt: str) -> str:
    return prompt.split("\nReply: ", 1)[1].split("\n\nAnswer with exactly", 1)[0]


class Scripted:
    """The model answers from MODEL, the judge from VERDICTS; judge arrivals are timed."""

    def __init__(self, model: dict[str, str], verdicts: dict[str, str]) -> None:
        self.model, self.verdicts = model, verdicts
        self.judged: list[tuple[float, str]] = []
        self._lock = threading.Lock()

    def __call__(self, messages: list[dict[str, Any]]) -> str:
        prompt = last_user_message(messages)
        if prompt.startswith("You grade one reply"):
            reply = _judged_reply(prompt)
            with self._lock:
                self.judged.append((time.monotonic(), reply))
            return self.verdicts[reply]
        return next((r for k, r in self.model.items() if k in prompt), "I don't know.")


def run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-report", "r.json", "--abstain-retries", "0", "-p", "no:cacheprovider",
        *extra,
    )  # fmt: skip


def questions(pytester: pytest.Pytester) -> dict[str, dict[str, Any]]:
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    return {q["id"]: q for s in report["suites"] for q in s["questions"]}


def test_judge_grades_only_where_the_rules_doubt(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE)
    scripted = Scripted(MODEL, VERDICTS)
    openai_server.responder = scripted
    # The judge's call for this reply fails for good: an error, never a silent grade.
    openai_server.faults["Reply: I don't know, but maybe 12-03."] = Fault(500, "judge down")
    result = run(pytester, openai_server, "--abstain-judge-model", "judge-m",
                 "--abstain-markdown", "s.md")  # fmt: skip

    judge_requests = [r for r in openai_server.requests if r["model"] == "judge-m"]
    sent = {_judged_reply(last_user_message(r["messages"])) for r in judge_requests}
    assert sent == set(VERDICTS)  # "Paris." was sure: never sent to the judge
    graded = questions(pytester)
    assert graded["sure"]["grades"] == ["correct"]
    assert graded["sure"]["graded_by"] == ["rules"]
    assert graded["hedged"]["grades"] == ["correct"]
    assert graded["hedged"]["rule_grades"] == ["wrong"]  # one of two offered, in doubt
    assert graded["hedged"]["graded_by"] == ["judge"]
    assert graded["hedged"]["doubts"][0].startswith("alternatives")
    assert graded["negated"]["grades"] == ["wrong"]  # the rules said correct
    assert graded["unreadable"]["grades"] == ["error"]
    assert (
        "could not be read: its last line is 'Looks right to me!'"
        in (graded["unreadable"]["errors"][0])
    )
    assert graded["judge-down"]["grades"] == ["error"]
    assert "judge judge-m gave no verdict" in graded["judge-down"]["errors"][0]
    assert "judge down" in graded["judge-down"]["errors"][0]

    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    judge = report["suites"][0]["judge"]
    assert judge["model"] == "judge-m" and judge["when"] == "unsure"
    assert judge["judged"] == 4 and judge["failed"] == 2 and judge["overturned"] == 1
    assert len(judge["prompt_sha256"]) == 64
    assert report["suites"][0]["usage"]["judge_tokens"] > 0
    summary = "judge judge-m (where the rules are unsure): 4 replies judged, 1 overturned the "
    result.stdout.fnmatch_lines([f"*{summary}string rules, 2 without a readable verdict*"])
    assert summary in (pytester.path / "s.md").read_text(encoding="utf-8")
    # Both errors are visible as errors, and fail the run (no error budget).
    assert result.parseoutcomes() == {"errors": 2, "correct": 2, "wrong": 1}
    result.stdout.fnmatch_lines(["*no grade for 'unreadable' from m (1 of 1 samples)*"])
    assert result.ret == 1


def test_judge_replies_are_cached_and_replayed(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE)
    verdicts = {**VERDICTS, "Work ran from 1887 to 1889.": "Verdict: CORRECT"}
    openai_server.responder = Scripted(MODEL, verdicts)
    judge = ("--abstain-judge-model", "judge-m", "--abstain-cache", "cache")
    first = run(pytester, openai_server, *judge)
    assert first.ret == 0
    before = questions(pytester)
    asked = len(openai_server.requests)
    assert asked == 5 + 4

    openai_server.reset_stats()
    replay = run(pytester, openai_server, *judge, "--abstain-record", "replay")
    assert replay.ret == 0
    assert openai_server.requests == []
    assert {k: q["grades"] for k, q in questions(pytester).items()} == {
        k: q["grades"] for k, q in before.items()
    }

    # Another judge model is another cache key: in replay mode, a miss is an error.
    other = run(pytester, openai_server, "--abstain-judge-model", "judge-2",
                "--abstain-cache", "cache", "--abstain-record", "replay")  # fmt: skip
    assert other.ret == 1
    assert "not in the response cache" in questions(pytester)["hedged"]["errors"][0]


def test_always_sends_every_reply_and_off_none(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE)
    verdicts = {**VERDICTS, "Paris.": "Verdict: CORRECT",
                "Work ran from 1887 to 1889.": "Verdict: CORRECT",
                "I don't know, but maybe 12-03.": "Verdict: WRONG"}  # fmt: skip
    openai_server.responder = Scripted(MODEL, verdicts)
    result = run(pytester, openai_server, "--abstain-judge-model", "j", "--abstain-judge", "always")
    assert result.ret == 0
    assert sum(r["model"] == "j" for r in openai_server.requests) == 5
    assert questions(pytester)["judge-down"]["grades"] == ["wrong"]

    openai_server.reset_stats()
    result = run(pytester, openai_server, "--abstain-judge-model", "j", "--abstain-judge", "off")
    assert result.ret == 0
    assert all(r["model"] == "m" for r in openai_server.requests)
    assert questions(pytester)["hedged"]["grades"] == ["wrong"]  # the rules alone


def test_hooks_win_over_the_judge_and_a_conftest_can_be_the_judge(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE)
    openai_server.responder = Scripted(MODEL, {})
    pytester.makeconftest(textwrap.dedent("""
        seen = []

        def pytest_abstain_grade_reply(config, question, reply):
            return "correct" if question.id == "hedged" else None

        def pytest_abstain_make_judge(config):
            def judge(prompt):
                seen.append(prompt)
                return "Verdict: WRONG"
            judge.abstain_name = "house-judge"
            return judge

        def pytest_sessionfinish(session):
            print(f"\\nJUDGED {len(seen)}")
    """))  # fmt: skip
    result = run(pytester, openai_server, "-s")
    assert result.ret == 0
    # hedged was graded by the hook; the other three doubtful replies went to the judge.
    result.stdout.fnmatch_lines(["*JUDGED 3*"])
    graded = questions(pytester)
    assert graded["hedged"]["graded_by"] == ["hook"]
    assert graded["negated"]["grades"] == ["wrong"]
    assert graded["negated"]["graded_by"] == ["judge"]
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["suites"][0]["judge"]["model"] == "house-judge"


def test_a_suite_that_asks_for_a_judge_without_one_says_how_to_set_it(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE)
    openai_server.responder = Scripted(MODEL, {})
    result = run(pytester, openai_server)
    # A set-up error before anything is asked, like a missing model.
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*asks an LLM judge (judge: unsure) but none is set*"])
    assert openai_server.requests == []


def test_judge_asks_at_temperature_zero_unless_the_model_refuses_it(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE)
    verdicts = {**VERDICTS, "Work ran from 1887 to 1889.": "Verdict: CORRECT"}
    openai_server.responder = Scripted(MODEL, verdicts)
    assert run(pytester, openai_server, "--abstain-judge-model", "m").ret == 0
    # The same model judging on the same endpoint: the judge's requests alone are at 0.
    judge = [r for r in openai_server.requests if "You grade one reply" in str(r["messages"])]
    model = [r for r in openai_server.requests if r not in judge]
    assert len(judge) == 4 and all(r["temperature"] == 0 for r in judge)
    assert model and all("temperature" not in r for r in model)

    openai_server.reset_stats()
    openai_server.unsupported = {"temperature"}
    result = run(pytester, openai_server, "--abstain-judge-model", "m", "--abstain-concurrency",
                 "1")  # fmt: skip
    assert result.ret == 0
    refused = [r for r in openai_server.requests if "temperature" in r]
    assert len(refused) == 1  # refused once, then left out
    assert questions(pytester)["hedged"]["grades"] == ["correct"]


def test_dry_run_counts_judge_requests(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judged=SUITE, abstain_judge_calibration=CALIBRATION)
    result = run(pytester, openai_server, "--abstain-judge-model", "j", "--abstain-dry-run")
    assert result.ret == 0
    result.stdout.fnmatch_lines([
        "*dry run: 5 replies, 0 answered by the cache, 5 requests to make; the judge: 3 "
        "requests and up to 5 more where the rules are unsure*"
    ])  # fmt: skip
    assert openai_server.requests == []
    # It ends as a run that ran nothing, not as an interrupted one.
    assert "outcomes.Exit" not in result.stdout.str() + result.stderr.str()


CALIBRATION = """
judge_calibration: true
questions:
  - {id: hedge-right, question: What is the capital of Australia?, answer: Canberra,
     reply: "I'm not sure, but I think it is Canberra.", verdict: correct}
  - {id: negated-wrong, question: What is the capital of Australia?, answer: Canberra,
     reply: "Canberra? No, it is Sydney.", verdict: wrong}
  - {id: idk-plain, question: "What is Adam Kalai's birthday?", idk: true,
     reply: "I have no way of knowing that.", verdict: abstained}
"""


def test_calibration_suite_checks_the_judge_against_human_verdicts(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judge_calibration=CALIBRATION)
    openai_server.responder = Scripted({}, {
        "I'm not sure, but I think it is Canberra.": "Verdict: CORRECT",
        "Canberra? No, it is Sydney.": "Verdict: CORRECT",  # the judge gets this one wrong
        "I have no way of knowing that.": "Verdict: ABSTAINED",
    })  # fmt: skip
    result = run(pytester, openai_server, "--abstain-judge-model", "j")
    assert result.ret == 1
    result.assert_outcomes(passed=2, failed=1)
    assert all(r["model"] == "j" for r in openai_server.requests)  # the model is not asked
    result.stdout.fnmatch_lines([
        "*the judge j says correct, the human verdict is wrong (the string rules say correct)*",
        "*abstain: judge calibration*",
        "*agrees with the human verdict on 2 of 3 cases (67%); "
        "the string rules alone on 2 of 3 (67%)*",
        "*negated-wrong: judge correct, human wrong*",
    ])  # fmt: skip
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert report["verdict"] == "failed"
    [tally] = report["judge_calibration"].values()
    assert (tally["cases"], tally["agree"], tally["rules_agree"]) == (3, 2, 2)


def test_calibration_leaves_the_grading_hook_out(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_judge_calibration=CALIBRATION)
    openai_server.responder = Scripted({}, {
        "I'm not sure, but I think it is Canberra.": "Verdict: CORRECT",
        "Canberra? No, it is Sydney.": "Verdict: WRONG",
        "I have no way of knowing that.": "Verdict: ABSTAINED",
    })  # fmt: skip
    pytester.makeconftest("def pytest_abstain_grade_reply(config, question, reply):\n"
                          "    return 'correct'\n")  # fmt: skip
    result = run(pytester, openai_server, "--abstain-judge-model", "j")
    assert result.ret == 0
    assert len(openai_server.requests) == 3  # every case went to the judge
    result.stdout.fnmatch_lines(["*the string rules alone on 2 of 3 (67%)*"])


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("judge: off\n", "judge: a judge_calibration suite always asks the judge"),
        ("samples: 3\n", "samples: a judge_calibration suite asks only the judge"),
        ("", "question 'idk-plain': idk: true has no right answer"),
    ],
)
def test_calibration_suite_misuse_is_a_clear_error(
    pytester: pytest.Pytester, api_key: str, extra: str, problem: str
) -> None:
    suite = extra + CALIBRATION
    if not extra:
        suite = suite.replace("verdict: abstained", "verdict: correct")
    pytester.makefile(".yaml", abstain_judge_calibration=suite)
    result = pytester.runpytest("--abstain-judge-model", "j")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines([f"*{problem}*"])


def test_a_bare_off_reads_as_off(pytester: pytest.Pytester, api_key: str) -> None:
    pytester.makefile(
        ".yaml", abstain_x="judge: off\nquestions:\n  - {id: a, question: Q?, answer: A}\n"
    )
    result = pytester.runpytest("--abstain-judge-model", "j", "--collect-only")
    assert result.ret == 0


def test_canned_replies_belong_to_calibration_suites(
    pytester: pytest.Pytester, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_x="""
questions:
  - {id: a, question: Q?, answer: A, reply: A, verdict: correct}
""")  # fmt: skip
    result = pytester.runpytest("--abstain-model", "m")
    result.stdout.fnmatch_lines(["*question 'a': reply and verdict are for judge calibration*"])
    assert result.ret != 0


# --- the judge in the pipeline, without pytest (tests/direct_run.py) ---------------------------


def judged_suite(tmp_path: Path, text: str = SUITE) -> Path:
    path = tmp_path / "abstain_judged.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_each_doubtful_reply_is_judged_once_per_question(tmp_path: Path) -> None:
    """(That the judge works ahead of pytest is held without a clock in test_pipeline.py.)"""
    n = 12
    lines = [f"  - {{id: q{i}, question: 'Capital {i}?', answer: Canberra}}" for i in range(n)]
    path = judged_suite(tmp_path, "judge: unsure\nquestions:\n" + "\n".join(lines))
    hedge = "Canberra or Sydney; I'd guess Canberra."
    judged: list[str] = []

    def judge(prompt: str) -> str:
        judged.append(_judged_reply(prompt))
        return "Verdict: CORRECT"

    [result] = run_suite(path, answering({"Capital": hedge}), cli={"judge_model": "j"}, judge=judge)
    assert [q.grades for q in result.questions] == [["correct"]] * n
    assert decide([result], []).passed
    # The same reply to different questions is judged once per question (the prompt differs).
    assert judged == [hedge] * n


def test_an_unreadable_verdict_is_not_cached(tmp_path: Path) -> None:
    path = judged_suite(tmp_path)
    cache = tmp_path / "c"

    def judge(prompt: str) -> str:
        reply = _judged_reply(prompt)
        if reply == "I don't know, but maybe 12-03.":
            raise ConnectionError("judge down")
        return VERDICTS[reply]

    first = run_suite(path, answering(MODEL), cli={"judge_model": "j"}, judge=judge,
                      cache=ResponseCache(cache))  # fmt: skip
    grades = {q.id: q.grades for q in first[0].questions}
    assert grades["unreadable"] == grades["judge-down"] == ["error"]
    asked: list[str] = []

    def again(prompt: str) -> str:
        asked.append(_judged_reply(prompt))
        return VERDICTS[asked[-1]]

    model_asked: list[str] = []

    def model(prompt: str) -> str:
        model_asked.append(prompt)
        return answering(MODEL)(prompt)

    second = run_suite(path, model, cli={"judge_model": "j"}, judge=again,
                       cache=ResponseCache(cache))  # fmt: skip
    assert model_asked == []  # every model reply was cached
    # Only the unreadable verdict is asked again (the failed call was never stored either).
    assert sorted(asked) == ["I don't know, but maybe 12-03.", "Work ran from 1887 to 1889."]
    assert {q.id: q.grades for q in second[0].questions}["unreadable"] == ["error"]
    assert {q.id: q.grades for q in second[0].questions}["judge-down"] == ["wrong"]


def test_baseline_records_the_judge_and_notes_a_change(tmp_path: Path) -> None:
    path = judged_suite(tmp_path)
    verdicts = {**VERDICTS, "Work ran from 1887 to 1889.": "Verdict: CORRECT"}

    def judge(prompt: str) -> str:
        return verdicts.get(_judged_reply(prompt), "Verdict: CORRECT")

    def judged_by(name: str, **cli: str) -> list[SuiteResult]:
        options = {"judge_model": name, **cli}
        return run_suite(path, answering(MODEL), cli=options, judge=judge, judge_name=name)

    baseline = update_baseline(tmp_path / "b.json", judged_by("j1")).baseline
    entry = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))["suites"][path.name]
    assert entry["produced_by"]["judge"] == "j1"
    assert len(entry["produced_by"]["judge_prompt_sha256"]) == 64
    results, _ = gated(judged_by("j2"), baseline)
    summary(results, verbosity=1).fnmatch_lines(["*judge changed: j1 → j2*"])
    results, _ = gated(judged_by("j1", judge="always"), baseline)
    summary(results, verbosity=1).fnmatch_lines(
        ["*the judge grades always now, unsure in the baseline*"]
    )
