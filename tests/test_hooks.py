"""The plugin's own hooks, each implemented in a conftest.py, end to end; what the pipeline
makes of a bad answer from one, directly."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
from direct_run import run_suite
from openai_server import FakeOpenAI

from pytest_abstain.pipeline import Hooks, failure_text
from pytest_abstain.results.verdict import decide

SUITE = """
questions:
  - {id: capital, question: What is the capital of France?, answer: Paris, tags: [geo]}
  - {id: order, question: What is my order number?, answer: unknown-to-grader, tags: [order-number]}
  - {id: birthday, question: "What is Adam Kalai's birthday?", idk: true}
"""


def run(
    pytester: pytest.Pytester, server: FakeOpenAI, conftest: str, *extra: str
) -> pytest.RunResult:
    pytester.makefile(".yaml", abstain_hooks=SUITE)
    pytester.makeconftest(textwrap.dedent(conftest))
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-report", "r.json", "-v", *extra,
    )  # fmt: skip


def grades(pytester: pytest.Pytester) -> dict[str, list[str]]:
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    return {q["id"]: q["grades"] for s in report["suites"] for q in s["questions"]}


def test_build_messages_replaces_what_is_sent(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.default_reply = "Paris."
    result = run(pytester, openai_server, """
        def pytest_abstain_build_messages(config, question, threshold, messages):
            if "geo" in question.tags:
                return [
                    {"role": "system", "content": f"House rules: be {threshold:.0%} sure."},
                    {"role": "user", "content": question.text},
                ]
            return None
    """)  # fmt: skip
    assert result.ret == 0
    sent = {r["messages"][-1]["content"]: r["messages"] for r in openai_server.requests}
    assert sent["What is the capital of France?"][0] == {
        "role": "system", "content": "House rules: be 75% sure."
    }  # fmt: skip
    # The others keep the default instruction.
    assert any("more than 75% confident" in m[-1]["content"] for m in sent.values())


def test_bad_messages_from_the_hook_are_a_collection_error(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    result = run(pytester, openai_server, """
        def pytest_abstain_build_messages(config, question, threshold, messages):
            return [{"role": "user", "content": 42}]
    """)  # fmt: skip
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*question 'capital': pytest_abstain_build_messages returned*"])
    assert openai_server.requests == []


def test_is_abstention_decides_for_the_phrase_lists(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.replies = {"France": "Paris.", "birthday": "I'll connect you with a colleague."}
    openai_server.default_reply = "I don't know."
    result = run(pytester, openai_server, """
        def pytest_abstain_is_abstention(config, question, reply):
            if "connect you with a colleague" in reply:
                return True
            if question.id == "order":
                return False  # "I don't know" is not an abstention here: it is wrong
            return None
    """)  # fmt: skip
    assert result.ret == 0
    assert grades(pytester) == {
        "capital": ["correct"], "order": ["wrong"], "birthday": ["abstained"]
    }  # fmt: skip


def test_grade_reply_wins_and_falls_back_to_the_built_in_grader(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    openai_server.replies = {"France": "Lyon.", "order": "It is A-123456.", "birthday": "May 1."}
    result = run(pytester, openai_server, """
        import re

        def pytest_abstain_grade_reply(config, question, reply):
            if "order-number" in question.tags:
                return "correct" if re.search(r"\\bA-\\d{6}\\b", reply) else "wrong"
            return None
    """)  # fmt: skip
    assert result.ret == 0
    assert grades(pytester) == {
        "capital": ["wrong"], "order": ["correct"], "birthday": ["wrong"]
    }  # fmt: skip


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_results_reach_the_hook_once_with_the_report(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str, workers: list[str]
) -> None:
    openai_server.default_reply = "Paris."
    result = run(pytester, openai_server, """
        import json

        def pytest_abstain_results(config, results, report):
            with open("seen.jsonl", "a") as out:
                out.write(json.dumps({
                    "keys": [r.info.key for r in results],
                    "score": report["suites"][0]["metrics"]["score"],
                    "worker": hasattr(config, "workerinput"),
                }) + "\\n")
    """, *workers)  # fmt: skip
    assert result.ret == 0
    seen = (pytester.path / "seen.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(seen) == 1  # once, on the controller
    data = json.loads(seen[0])
    # capital correct (+1), order wrong (-3), birthday wrong (-3): -5 / 3.
    assert data == {"keys": ["abstain_hooks.yaml"], "score": pytest.approx(-5 / 3), "worker": False}


def test_a_bad_grade_from_the_hook_is_an_error_never_a_grade(tmp_path: Path) -> None:
    # (The hook's wiring: test_grade_reply_wins_and_falls_back_to_the_built_in_grader.)
    path = tmp_path / "abstain_hooks.yaml"
    path.write_text(SUITE, encoding="utf-8")
    hooks = Hooks(grade=lambda plan, reply: "probably" if plan.question.id == "capital" else None)
    [result] = run_suite(path, lambda prompt: "Paris.", hooks=hooks)
    capital = result.questions[0]
    assert capital.grades == ["error"]
    pytest.LineMatcher((failure_text(capital) or "").splitlines()).fnmatch_lines(
        ["*grading failed: ValueError: pytest_abstain_grade_reply returned 'probably'*"]
    )
    assert not decide([result], [], question_errors=1).passed


def test_each_folder_s_conftest_answers_for_its_own_suites(pytester: pytest.Pytester) -> None:
    # Two teams, two bots: a conftest's responder answers only the suites below it.
    for team in ("a", "b"):
        folder = pytester.mkdir(team)
        (folder / f"abstain_{team}.yaml").write_text(
            "questions:\n  - {id: q, question: Which team?, answer: team-" + team + "}\n",
            encoding="utf-8",
        )
        (folder / "conftest.py").write_text(
            textwrap.dedent(f"""
                def pytest_abstain_make_responder(config, suite_path):
                    def bot(prompt):
                        return "team-{team}"
                    bot.abstain_name = "bot-{team}"
                    return bot
            """),
            encoding="utf-8",
        )
    result = pytester.runpytest("--abstain-report", "r.json")
    assert result.ret == 0
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    answered = {s["name"]: (s["responder"], s["questions"][0]["grades"]) for s in report["suites"]}
    assert answered == {
        "abstain_a.yaml": ("bot-a", ["correct"]),
        "abstain_b.yaml": ("bot-b", ["correct"]),
    }


BUGGY_APP = """
    def lookup(settings):
        return settings["model"]  # the bug: no such key

    def pytest_abstain_make_responder(config, suite_path):
        def buggy(prompt):
            return lookup({})
        return buggy
"""


@pytest.mark.parametrize("tb", ["auto", "short", "native"])
def test_a_responder_that_raises_shows_its_traceback_as_pytest_would(
    pytester: pytest.Pytester, tb: str
) -> None:
    pytester.makefile(".yaml", abstain_app="questions:\n  - {id: q, question: Hi?, answer: x}\n")
    pytester.makeconftest(textwrap.dedent(BUGGY_APP))
    result = pytester.runpytest(f"--tb={tb}")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    out = result.stdout.str()
    assert "buggy' raised KeyError: 'model'" in out
    # The team's frames, by file and line, down to the line that raised; none of ours.
    assert 'return settings["model"]' in out and "return lookup({})" in out
    assert "conftest.py:" in out or 'conftest.py", line' in out
    assert "pytest_abstain/" not in out


def test_with_tb_line_the_failure_is_its_reason_alone(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", abstain_app="questions:\n  - {id: q, question: Hi?, answer: x}\n")
    pytester.makeconftest(textwrap.dedent(BUGGY_APP))
    result = pytester.runpytest("--tb=line")
    assert "buggy' raised KeyError: 'model'" in result.stdout.str()
    assert "return lookup({})" not in result.stdout.str()


def test_a_connection_failure_inside_the_app_names_the_url(
    pytester: pytest.Pytester, free_port: int
) -> None:
    """The team's app calls its own model service through openai; the service is down."""
    pytester.makefile(".yaml", abstain_app="questions:\n  - {id: q, question: Hi?, answer: x}\n")
    pytester.makeconftest(
        textwrap.dedent(f"""
            import openai

            def pytest_abstain_make_responder(config, suite_path):
                client = openai.OpenAI(
                    base_url="http://user:secret@127.0.0.1:{free_port}/v1",
                    api_key="k", max_retries=0,
                )
                def app(prompt):
                    reply = client.chat.completions.create(
                        model="m", messages=[{{"role": "user", "content": prompt}}]
                    )
                    return reply.choices[0].message.content
                return app
        """)
    )
    result = pytester.runpytest()
    out = result.stdout.str()
    assert "APIConnectionError: Connection error. (requesting '" in out
    assert f"127.0.0.1:{free_port}/v1/chat/completions" in out
    assert "secret" not in out


def test_a_make_responder_hook_that_raises_is_a_usage_error_with_its_traceback(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", abstain_app="questions:\n  - {id: q, question: Hi?, answer: x}\n")
    pytester.makeconftest(
        textwrap.dedent("""
            import os

            def pytest_abstain_make_responder(config, suite_path):
                token = os.environ["APP_TOKEN_THAT_IS_NOT_SET"]
                return lambda prompt: token
        """)
    )
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "pytest_abstain_make_responder raised KeyError" in err
    assert 'token = os.environ["APP_TOKEN_THAT_IS_NOT_SET"]' in err
