"""Retrieved context and conversations (issue 18, items 1 and 2): the messages that reach the
endpoint, the team's responder's keywords, the with/without-context pair, and bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai_server import FakeOpenAI, last_user_message

from pytest_abstain.asking.cache import CacheKey
from pytest_abstain.dialogue import DOCUMENTS_HEADER, documents_text, question_messages
from pytest_abstain.suite import SuiteError, load_suite

PAIR_SUITE = """\
name: Docs bot
threshold: 0.75
prompt_template: false
questions:
  - id: refund
    question: How many days do I have to ask for a refund?
    answer: 30
    contexts:
      with: {file: docs/refunds.md}
      without: ["Our offices are in Dublin."]
"""


def _messages_by_question(server: FakeOpenAI) -> dict[str, list[dict[str, Any]]]:
    return {last_user_message(r["messages"]): r["messages"] for r in server.requests}


def test_a_context_pair_is_two_items_with_the_documents_in_the_prompt(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    (pytester.path / "docs").mkdir()
    (pytester.path / "docs" / "refunds.md").write_text("Refunds: within 30 days.\n")
    pytester.makefile(".yaml", abstain_docs=PAIR_SUITE)

    def answer(messages: list[dict[str, Any]]) -> str:
        # A RAG bot that answers only from its documents.
        return "30 days." if "30 days" in last_user_message(messages) else "I don't know."

    openai_server.responder = answer
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url, "-v",
        "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "*abstain_docs.yaml::refund[[]with-context[]] CORRECT*",
            "*abstain_docs.yaml::refund[[]without-context[]] ABSTAINED*",
        ]
    )
    sent = sorted(r["messages"][-1]["content"] for r in openai_server.requests)
    assert sent == [
        f"{DOCUMENTS_HEADER}\n\n[1] Our offices are in Dublin.\n\n"
        "How many days do I have to ask for a refund?",
        f"{DOCUMENTS_HEADER}\n\n[1] Refunds: within 30 days.\n\n"
        "How many days do I have to ask for a refund?",
    ]
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    questions = report["suites"][0]["questions"]
    assert [(q["id"], q["variant"], q["idk"]) for q in questions] == [
        ("refund[with-context]", "with-context", False),
        ("refund[without-context]", "without-context", True),
    ]


def test_the_failing_variant_is_named(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    (pytester.path / "docs").mkdir()
    (pytester.path / "docs" / "refunds.md").write_text("Refunds: within 30 days.\n")
    pytester.makefile(".yaml", abstain_docs=PAIR_SUITE)
    openai_server.default_reply = "30 days."  # answers whatever the documents say
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-max-error-rate", "0",
    )  # fmt: skip
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*refund[[]without-context[]]: wrong 1/1*"])
    assert "refund[with-context]: wrong" not in result.stdout.str()


def test_context_in_a_template_and_in_the_system_message() -> None:
    suite_text = {
        "template": "Docs:\n{context}\n\nQ: {question} (t={threshold})",
        "question": "Where is the head office?",
    }
    question = _question(["Head office: Dublin.", "Founded 2020."])
    prompt = question_messages(question, 0.5, suite_text["template"], "Be brief.", "prompt")
    block = documents_text(["Head office: Dublin.", "Founded 2020."])
    assert prompt == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": f"Docs:\n{block}\n\nQ: Where is the head office? (t=0.5)"},
    ]
    system = question_messages(question, 0.5, None, "Be brief.", "system")
    assert system == [
        {"role": "system", "content": f"Be brief.\n\n{block}"},
        {"role": "user", "content": "Where is the head office?"},
    ]
    # Handed to the responder: the messages hold no document.
    assert question_messages(question, 0.5, None, None, "responder") == [
        {"role": "user", "content": "Where is the head office?"}
    ]


def _question(context: list[str]) -> Any:
    from pytest_abstain.grading import Expectation
    from pytest_abstain.suite import Question

    return Question(
        id="q",
        text="Where is the head office?",
        expectation=Expectation(answers=("Dublin",)),
        context=tuple(context),
    )


def test_system_mode_reaches_the_server(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(
        ".yaml",
        abstain_sys="""\
system_prompt: You are Acme's bot.
context_as: system
questions:
  - id: office
    question: Where is the head office?
    answer: Dublin
    context: "Head office: Dublin."
""",
    )
    openai_server.default_reply = "Dublin."
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url
    )
    assert result.ret == 0
    [request] = openai_server.requests
    assert request["messages"][0] == {
        "role": "system",
        "content": f"You are Acme's bot.\n\n{DOCUMENTS_HEADER}\n\n[1] Head office: Dublin.",
    }
    assert "Head office" not in request["messages"][-1]["content"]


RESPONDER_CONFTEST = """
seen = []

def pytest_abstain_make_responder(config, suite_path):
    def bot(prompt, context, messages):
        seen.append({"prompt": prompt, "context": context, "messages": messages})
        return "Dublin." if any("Dublin" in doc for doc in context) else "I don't know."
    return bot

def pytest_sessionfinish(session):
    import json, pathlib
    pathlib.Path("seen.json").write_text(json.dumps(seen))
"""


def test_the_teams_responder_gets_the_documents_as_a_keyword(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(RESPONDER_CONFTEST)
    pytester.makefile(
        ".yaml",
        abstain_app="""\
context_as: responder
prompt_template: false
questions:
  - id: office
    question: Where is the head office?
    answer: Dublin
    contexts:
      with: ["Head office: Dublin.", "Founded 2020."]
      without: []
""",
    )
    result = pytester.runpytest("-v")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*office[[]with-context[]] CORRECT*", "*office[[]without-*ABST*"])
    seen = json.loads((pytester.path / "seen.json").read_text(encoding="utf-8"))
    assert sorted(call["context"] for call in seen) == [
        [],
        ["Head office: Dublin.", "Founded 2020."],
    ]
    assert all(call["prompt"] == "Where is the head office?" for call in seen)


def test_context_as_responder_needs_the_keyword_or_a_team_responder(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    suite = (
        "context_as: responder\nquestions:\n  - {id: q, question: 'Q?', answer: A, context: doc}\n"
    )
    pytester.makefile(".yaml", abstain_app=suite)
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url
    )
    assert result.ret != 0
    result.stderr.fnmatch_lines(["*context_as: responder*asked through the openai client*"])
    assert openai_server.requests == []
    pytester.makeconftest(
        "def pytest_abstain_make_responder(config, suite_path):\n    return lambda prompt: 'A'\n"
    )
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*give it a `context` keyword parameter*"])


CONVERSATION_SUITE = """\
prompt_template: false
questions:
  - id: after-small-talk
    question: What is Acme's refund window?
    idk: true
    turns:
      - {role: user, content: Hi there!}
      - {role: assistant, content: Hello! How can I help?}
      - {role: user, content: Nice weather today.}
      - {role: assistant, content: It is! Anything about your account?}
"""


def test_a_conversation_reaches_the_server_turn_by_turn(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_chat=CONVERSATION_SUITE)
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url, "-v",
        "--abstain-report", "r.json",
    )  # fmt: skip
    assert result.ret == 0
    [request] = openai_server.requests
    assert request["messages"] == [
        {"role": "user", "content": "Hi there!"},
        {"role": "assistant", "content": "Hello! How can I help?"},
        {"role": "user", "content": "Nice weather today."},
        {"role": "assistant", "content": "It is! Anything about your account?"},
        {"role": "user", "content": "What is Acme's refund window?"},
    ]
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    assert report["suites"][0]["questions"][0]["turns"] == 4


def test_the_teams_responder_gets_the_whole_conversation(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        import json, pathlib

        def pytest_abstain_make_responder(config, suite_path):
            def bot(prompt, messages):
                pathlib.Path("seen.json").write_text(json.dumps(messages))
                return "I don't know."
            return bot
        """
    )
    pytester.makefile(".yaml", abstain_chat=CONVERSATION_SUITE)
    assert pytester.runpytest().ret == 0
    seen = json.loads((pytester.path / "seen.json").read_text(encoding="utf-8"))
    assert [m["role"] for m in seen] == ["user", "assistant", "user", "assistant", "user"]
    assert seen[-1]["content"] == "What is Acme's refund window?"


def test_a_responder_without_messages_cannot_take_a_conversation(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "def pytest_abstain_make_responder(config, suite_path):\n"
        '    return lambda prompt: "I don\'t know."\n'
    )
    pytester.makefile(".yaml", abstain_chat=CONVERSATION_SUITE)
    result = pytester.runpytest()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*give it a `messages` keyword parameter*"])


@pytest.mark.parametrize(
    ("turns", "problem"),
    [
        ("[{role: assistant, content: Hi}]", "*turns[[]0[]].role): assistant, but the "
         "conversation starts with a user turn: expected user*"),
        ("[{role: user, content: Hi}, {role: user, content: Again}]",
         "*turns[[]1[]].role): user, but turns alternate, and turns[[]0[]] is user*"),
        ("[{role: user, content: Hi}]", "*turns[[]0[]]): the last turn is the user's*"),
        ("[{role: system, content: Hi}]", "*turns[[]0[]].role): must be user or assistant*"),
    ],
)  # fmt: skip
def test_bad_turns_name_the_file_the_question_and_the_turn(
    pytester: pytest.Pytester, turns: str, problem: str
) -> None:
    pytester.makefile(
        ".yaml",
        abstain_chat=f"questions:\n  - id: chat\n    question: Q?\n    idk: true\n"
        f"    turns: {turns}\n",
    )
    result = pytester.runpytest()
    assert result.ret != 0
    result.stdout.fnmatch_lines([f"*abstain_chat.yaml*question 'chat' (questions[[]0[]]{problem}"])
    assert "Traceback" not in result.stdout.str()


def test_bad_context_names_the_question(tmp_path: Path) -> None:
    suite = tmp_path / "abstain_x.yaml"
    suite.write_text(
        "questions:\n  - {id: q, question: Q?, answer: A, context: {file: missing.md}}\n"
    )
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert "question 'q' (questions[0].context.file): cannot read" in str(raised.value)
    suite.write_text(
        "questions:\n  - {id: q, question: Q?, answer: A, context: x, contexts: "
        "{with: a, without: []}}\n"
    )
    with pytest.raises(SuiteError, match="give either context or contexts"):
        load_suite(suite)
    suite.write_text("questions:\n  - {id: q, question: Q?, answer: A, context: {file: ../x}}\n")
    with pytest.raises(SuiteError, match="leads outside the suite root"):
        load_suite(suite, root=tmp_path)


def test_without_expects_answer_keeps_the_answer(tmp_path: Path) -> None:
    suite = tmp_path / "abstain_x.yaml"
    suite.write_text(
        "questions:\n  - id: q\n    question: Capital of France?\n    answer: Paris\n"
        "    contexts: {with: 'Paris is the capital.', without: [], without_expects: answer}\n"
    )
    with_context, without = load_suite(suite).questions
    assert (with_context.id, without.id) == ("q[with-context]", "q[without-context]")
    assert without.expectation.answers == ("Paris",) and not without.expectation.idk
    assert without.context == ()


def _cache_key(suite_text: str, tmp_path: Path) -> str:
    from pytest_abstain.plan import plan_question
    from pytest_abstain.settings import OPTIONS, resolve

    path = tmp_path / "abstain_k.yaml"
    path.write_text(suite_text)
    suite = load_suite(path)
    run = resolve({option.name: None for option in OPTIONS}, {}, None, ())
    plan = plan_question("k", path.name, path, suite.settings, run, suite.questions[0], 0, 1)
    return CacheKey.of("http://x", "m", {}, plan.messages, 0).digest


def test_cache_keys_differ_when_the_context_or_the_turns_differ(tmp_path: Path) -> None:
    base = "questions:\n  - {id: q, question: 'Q?', idk: true"
    keys = {
        _cache_key(base + "}\n", tmp_path),
        _cache_key(base + ", context: one}\n", tmp_path),
        _cache_key(base + ", context: two}\n", tmp_path),
        _cache_key(base + ", turns: [{role: user, content: a}, {role: assistant, content: b}]}\n",
                   tmp_path),
        _cache_key(base + ", turns: [{role: user, content: a}, {role: assistant, content: c}]}\n",
                   tmp_path),
    }  # fmt: skip
    assert len(keys) == 5


def test_responder_cache_keys_differ_by_the_documents_handed_over(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        """
        calls = []

        def pytest_abstain_make_responder(config, suite_path):
            def bot(prompt, context):
                calls.append(context)
                return "A" if context else "I don't know."
            return bot

        def pytest_sessionfinish(session):
            import pathlib
            pathlib.Path("calls.txt").write_text(str(len(calls)))
        """
    )
    suite = (
        "context_as: responder\nquestions:\n  - {id: q, question: 'Q?', answer: A, context: %s}\n"
    )
    pytester.makefile(".yaml", abstain_app=suite % "one")
    assert pytester.runpytest("--abstain-cache", "c").ret == 0
    assert pytester.runpytest("--abstain-cache", "c").ret == 0
    assert (pytester.path / "calls.txt").read_text() == "0"  # replayed
    pytester.makefile(".yaml", abstain_app=suite % "two")
    assert pytester.runpytest("--abstain-cache", "c").ret == 0
    assert (pytester.path / "calls.txt").read_text() == "1"  # another document: asked


def test_a_template_placing_context_needs_context_in_the_prompt(tmp_path: Path) -> None:
    suite = tmp_path / "abstain_x.yaml"
    suite.write_text(
        "prompt_template: '{context} {question}'\ncontext_as: system\n"
        "questions:\n  - {id: q, question: Q?, answer: A, context: doc}\n"
    )
    with pytest.raises(SuiteError, match=r"places \{context\}, but context_as is system"):
        load_suite(suite)


def test_a_judge_calibration_case_takes_no_context(tmp_path: Path) -> None:
    suite = tmp_path / "abstain_x.yaml"
    suite.write_text(
        "judge_calibration: true\nquestions:\n  - {id: q, question: Q?, answer: A, "
        "reply: A, verdict: correct, context: doc}\n"
    )
    with pytest.raises(SuiteError, match="question 'q': context, turns and pushback are for"):
        load_suite(suite)


def test_an_edited_document_is_an_edited_question_against_the_baseline(
    pytester: pytest.Pytester,
) -> None:
    pytester.makeconftest(
        "def pytest_abstain_make_responder(config, suite_path):\n"
        "    return lambda prompt: '30 days.' if '30' in prompt else \"I don't know.\"\n"
    )
    (pytester.path / "docs").mkdir()
    doc = pytester.path / "docs" / "refunds.md"
    doc.write_text("Refunds: within 30 days.\n")
    pytester.makefile(".yaml", abstain_docs=PAIR_SUITE)
    assert pytester.runpytest("--abstain-baseline", "b.json", "--abstain-update-baseline").ret == 0
    doc.write_text("Refunds: within 30 days of paying.\n")
    result = pytester.runpytest("--abstain-baseline", "b.json")
    result.stdout.fnmatch_lines(["*edited since (not compared)*refund[[]with-context[]]*"])
    assert "refund[without-context]" not in result.stdout.str().split("edited since")[1]


def test_a_marker_takes_inline_context_and_turns_but_no_files_or_pairs() -> None:
    from pytest_abstain.suite import question_from_marker

    question = question_from_marker(
        "test_x.py::test_q",
        "test_q",
        {
            "question": "Q?",
            "idk": True,
            "context": ["one", "two"],
            "turns": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
        },
    )
    assert question.context == ("one", "two")
    assert question.turns == (("user", "hi"), ("assistant", "hello"))
    with pytest.raises(SuiteError, match="context files are read relative to a suite file"):
        question_from_marker("t", "q", {"question": "Q?", "idk": True, "context": {"file": "x"}})
    with pytest.raises(SuiteError, match="a marker declares one"):
        question_from_marker(
            "t", "q", {"question": "Q?", "answer": "A", "contexts": {"with": "a", "without": []}}
        )


def test_a_duplicated_pair_names_the_entries_as_written(tmp_path: Path) -> None:
    suite = tmp_path / "abstain_x.yaml"
    entry = "  - {id: q, question: Q?, answer: A, contexts: {with: a, without: []}}\n"
    suite.write_text("questions:\n" + entry + entry)
    with pytest.raises(SuiteError) as raised:
        load_suite(suite)
    assert raised.value.problems == [
        "duplicate question id 'q[with-context]': questions[0] and questions[1]",
        "duplicate question id 'q[without-context]': questions[0] and questions[1]",
    ]
