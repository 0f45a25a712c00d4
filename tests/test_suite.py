"""Suite loading: the happy path and every kind of bad input, as clear SuiteErrors."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_abstain.suite import SuiteError, load_suite, question_from_marker

EXAMPLES = Path(__file__).parent.parent / "example_suites"


def write(tmp_path: Path, text: str, name: str = "abstain_x.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(SuiteError) as excinfo:
        load_suite(write(tmp_path, text), label="abstain_x.yaml")
    message = excinfo.value.render()
    assert message.startswith("abstain_x.yaml")
    return message


def test_full_suite_loads(tmp_path: Path) -> None:
    (tmp_path / "sys.txt").write_text("Be brief.", encoding="utf-8")
    suite = load_suite(
        write(
            tmp_path,
            """
name: demo
threshold: 0.9
samples: 3
system_prompt_file: sys.txt
prompt_template: "Q: {question} (t={threshold}, penalty {penalty})"
idk_phrases: [pas de réponse]
gates: {min_score: 0.1, max_error_rate: 0.2}
questions:
  - id: a
    question: Capital of France?
    answer: [Paris, "Paris, France"]
    tags: [geo]
  - id: b
    question: Sides of a hexagon?
    answer: 6
    tolerance: "10%"
  - id: c
    question: Year?
    regex: "19\\\\d\\\\d"
  - id: d
    question: Birthday?
    idk: true
""",
        )
    )
    s = suite.settings
    assert (s.name, s.threshold, s.samples, s.system_prompt) == ("demo", 0.9, 3, "Be brief.")
    assert s.gates.min_score == 0.1 and s.gates.max_error_rate == 0.2
    assert s.idk_phrases == ("pas de réponse",)
    assert [q.id for q in suite.questions] == ["a", "b", "c", "d"]
    a, b, c, d = suite.questions
    assert a.expectation.answers == ("Paris", "Paris, France") and a.tags == ("geo",)
    assert b.expectation.answers == (6,) and b.expectation.tolerance.relative == pytest.approx(0.1)
    assert c.expectation.regex is not None and c.expectation.regex.search("in 1989")
    assert d.expectation.idk and not d.expectation.answers


def test_example_suites_are_valid() -> None:
    suites = [load_suite(p) for p in sorted(EXAMPLES.glob("abstain_*.yaml"))]
    assert len(suites) >= 2
    assert all(s.questions for s in suites)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("questions: [\n  - id: a\n    question: x\n", "YAML syntax error: line"),
        ("", "the file is empty"),
        ("- a\n- b\n", "top level must be a mapping"),
        ("threshold: 0.5\n", "needs a 'questions' list or a 'dataset' file"),
        (
            "questions:\n  - id: a\n    question: q\n    anser: Paris\n",
            "question 'a' (questions[0]): unknown key 'anser'",
        ),
        ("questions:\n  - id: a\n    answer: Paris\n", "missing required key 'question'"),
        (
            "questions:\n  - id: a\n    question: q\n    answer: Paris\n    idk: true\n",
            "question 'a' (questions[0]): a question with idk: true has no answer",
        ),
        ("questions:\n  - id: a\n    question: q\n", "needs an answer, a regex, or idk: true"),
        ("threshold: 1\nquestions:\n  - {id: a, question: q, idk: true}\n", "threshold: must be"),
        ("threshold: -0.1\nquestions:\n  - {id: a, question: q, idk: true}\n", "threshold"),
        (
            "questions:\n  - {id: a, question: q, idk: true}\n"
            "  - {id: a, question: r, idk: true}\n",
            "duplicate question id 'a': questions[0] and questions[1]",
        ),
        (
            "questions:\n  - {id: a, question: q, regex: '(unclosed'}\n",
            "question 'a' (questions[0].regex): invalid regex",
        ),
        ("questions:\n  - {id: a, question: q, answer: yes}\n", "quote the value"),
        ("questions:\n  - {id: 'has space', question: q, idk: true}\n", "questions[0].id"),
        ("questions:\n  - {id: abstain-gate, question: q, idk: true}\n", "is reserved"),
        ("questions: []\n", "questions"),
        ("questions:\n  - {id: a, question: q, idk: true}\nquestions: []\n", "duplicate key"),
        (
            "questions:\n  - {id: a, question: q, answer: 3, tolerance: 'lots'}\n",
            "tolerance",
        ),
        (
            "questions:\n  - {id: a, question: q, idk: true, tolerance: 1}\n",
            "has no answer, regex or tolerance",
        ),
        (
            "prompt_template: 'no placeholder'\nquestions:\n  - {id: a, question: q, idk: true}\n",
            "must contain {question}",
        ),
        (
            "prompt_template: '{question} {oops}'\n"
            "questions:\n  - {id: a, question: q, idk: true}\n",
            "unknown placeholder {oops}",
        ),
        (
            "system_prompt: a\nsystem_prompt_file: b.txt\n"
            "questions:\n  - {id: a, question: q, idk: true}\n",
            "either system_prompt or system_prompt_file",
        ),
        (
            "system_prompt_file: missing.txt\nquestions:\n  - {id: a, question: q, idk: true}\n",
            "system_prompt_file: cannot read",
        ),
        ("gates: {min_score: high}\nquestions:\n  - {id: a, question: q, idk: true}\n", "gates"),
        ("!!python/object/apply:os.system ['echo hi']\n", "YAML"),
    ],
)
def test_bad_suites_name_file_question_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in error_of(tmp_path, text)


def test_non_utf8_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_bytes(b"questions:\n  - {id: a, question: caf\xe9, idk: true}\n")
    with pytest.raises(SuiteError, match="not UTF-8"):
        load_suite(path)


def test_several_problems_are_listed_together(tmp_path: Path) -> None:
    message = error_of(
        tmp_path,
        "questions:\n  - {id: a, question: q, anser: x}\n  - {id: b, questoin: q, idk: true}\n",
    )
    assert "problems" in message and "question 'a'" in message and "question 'b'" in message


def test_marker_question_uses_the_same_schema() -> None:
    q = question_from_marker("t.py::test_x", "test_x", {"question": "Q?", "answer": "A"})
    assert q.id == "test_x" and q.expectation.answers == ("A",)
    with pytest.raises(SuiteError, match="unknown key 'anwser'"):
        question_from_marker("t.py::test_x", "test_x", {"question": "Q?", "anwser": "A"})


def test_yaml_base_60_and_octal_numbers_stay_text(tmp_path: Path) -> None:
    suite = load_suite(
        write(
            tmp_path,
            "questions:\n"
            "  - {id: a, question: 'When?', answer: 9:00}\n"
            "  - {id: b, question: 'Mode?', answer: 0755}\n"
            "  - {id: c, question: 'Count?', answer: 12}\n"
            "  - {id: d, question: 'Ratio?', answer: 1.5}\n",
        )
    )
    assert [q.expectation.answers for q in suite.questions] == [("9:00",), ("0755",), (12,), (1.5,)]


# --- judge settings and judge calibration suites: the loader's messages, without a run -------

CALIBRATION = """
judge_calibration: true
questions:
  - {id: hedge-right, question: What is the capital of Australia?, answer: Canberra,
     reply: "I'm not sure, but I think it is Canberra.", verdict: correct}
  - {id: idk-plain, question: "What is Adam Kalai's birthday?", idk: true,
     reply: "I have no way of knowing that.", verdict: abstained}
"""


def test_a_calibration_suite_loads_with_its_canned_replies(tmp_path: Path) -> None:
    suite = load_suite(write(tmp_path, CALIBRATION))
    assert suite.settings.judge_calibration is True
    assert [(q.canned_reply, q.human_verdict) for q in suite.questions] == [
        ("I'm not sure, but I think it is Canberra.", "correct"),
        ("I have no way of knowing that.", "abstained"),
    ]


@pytest.mark.parametrize(
    ("extra", "problem"),
    [
        ("judge: off\n", "judge: a judge_calibration suite always asks the judge"),
        ("samples: 3\n", "samples: a judge_calibration suite asks only the judge"),
        ("", "question 'idk-plain': idk: true has no right answer"),
    ],
)
def test_calibration_suite_misuse_is_a_clear_error(
    tmp_path: Path, extra: str, problem: str
) -> None:
    suite = extra + CALIBRATION
    if not extra:
        suite = suite.replace("verdict: abstained", "verdict: correct")
    assert problem in error_of(tmp_path, suite)


def test_canned_replies_belong_to_calibration_suites(tmp_path: Path) -> None:
    message = error_of(
        tmp_path, "questions:\n  - {id: a, question: Q?, answer: A, reply: A, verdict: correct}\n"
    )
    assert "question 'a': reply and verdict are for judge calibration" in message


@pytest.mark.parametrize("written", ["off", "'off'", "false", "{when: off, model: j}"])
def test_a_bare_off_reads_as_off(tmp_path: Path, written: str) -> None:
    # YAML 1.1 reads a bare `off` as false: the suite still means the judge's "off".
    suite = load_suite(
        write(tmp_path, f"judge: {written}\nquestions:\n  - {{id: a, question: Q?, answer: A}}\n")
    )
    assert suite.settings.judge_when == "off"
