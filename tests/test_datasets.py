"""Datasets instead of hand-written YAML: a suite's `dataset:` (CSV or JSONL) read row by row
through its column mapping, each row held to the question schema, every problem naming the
row; and the run over such a suite, end to end through the loopback server."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from openai_server import FakeOpenAI, last_user_message

from pytest_abstain.suite import Question, SuiteError, load_suite, settings_from_marker
from pytest_abstain.suite.dataset import MAX_LINE_BYTES, dataset_questions, derived_id


def suite_with(tmp_path: Path, data: str, name: str = "data.csv", head: str = "") -> Path:
    (tmp_path / name).write_text(data, encoding="utf-8")
    path = tmp_path / "abstain_x.yaml"
    path.write_text(f"dataset: {name}\n{head}", encoding="utf-8")
    return path


def loaded(tmp_path: Path, data: str, name: str = "data.csv", head: str = "") -> list[Question]:
    path = suite_with(tmp_path, data, name, head)
    return list(load_suite(path, label="abstain_x.yaml").questions)


def problems(tmp_path: Path, data: str | bytes, name: str = "data.csv", head: str = "") -> str:
    if isinstance(data, bytes):
        (tmp_path / name).write_bytes(data)
        path = tmp_path / "abstain_x.yaml"
        path.write_text(f"dataset: {name}\n{head}", encoding="utf-8")
    else:
        path = suite_with(tmp_path, data, name, head)
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path, label="abstain_x.yaml")
    message = excinfo.value.render()
    assert message.startswith("abstain_x.yaml")
    return message


# -- reading rows ------------------------------------------------------------------------


def test_csv_rows_become_questions_with_the_default_column_names(tmp_path: Path) -> None:
    questions = loaded(
        tmp_path,
        "id,question,answer,idk,tags\n"
        "q1,Capital of France?,Paris | Paris France,,geo|easy\n"
        "q2,Kalai's birthday?,,yes,\n"
        '"q3","Sides of a hexagon, exactly?",6,false,math\n',
    )
    assert [q.id for q in questions] == ["q1", "q2", "q3"]
    first, second, third = questions
    assert first.expected == ("Paris", "Paris France")
    assert first.tags == ("geo", "easy")
    assert second.expectation.idk and second.expected == ()
    assert third.text == "Sides of a hexagon, exactly?"
    assert third.expected == ("6",) and not third.expectation.idk


def test_columns_map_keys_to_other_names_and_answers_to_several_columns(tmp_path: Path) -> None:
    # SimpleQA's own file: metadata, problem, answer.
    questions = loaded(
        tmp_path,
        "metadata,problem,gold,alias\n"
        "\"{'topic': 'Art'}\",Who painted the Mona Lisa?,Leonardo da Vinci,Leonardo\n"
        "{},Boiling point of water in C?,100,\n",
        head="columns: {question: problem, answer: [gold, alias]}\n",
    )
    assert [q.text for q in questions] == [
        "Who painted the Mona Lisa?",
        "Boiling point of water in C?",
    ]
    assert questions[0].expected == ("Leonardo da Vinci", "Leonardo")
    assert questions[1].expected == ("100",)


def test_jsonl_rows_keep_their_json_types(tmp_path: Path) -> None:
    rows = [
        {"id": "a", "question": "Capital of France?", "answer": ["Paris", "Paris, France"]},
        {"id": "b", "question": "Sides of a hexagon?", "answer": 6, "tolerance": 0},
        {"id": "c", "question": "Kalai's birthday?", "idk": True, "tags": ["people"]},
    ]
    data = "\n".join(json.dumps(row) for row in rows) + "\n\n"
    questions = loaded(tmp_path, data, name="data.jsonl")
    assert questions[0].expected == ("Paris", "Paris, France")
    assert questions[1].expected == (6,)
    assert questions[2].expectation.idk and questions[2].tags == ("people",)


def test_yaml_questions_come_first_and_ids_are_unique_across_both(tmp_path: Path) -> None:
    head = "questions:\n  - {id: hand, question: Written by hand?, answer: 'yes'}\n"
    questions = loaded(tmp_path, "id,question,answer\nrow1,From the file?,yes\n", head=head)
    assert [q.id for q in questions] == ["hand", "row1"]
    message = problems(tmp_path, "id,question,answer\nhand,From the file?,yes\n", head=head)
    assert "dataset data.csv, row 1 (id 'hand', line 2): duplicate question id 'hand'" in message
    assert "also at questions[0]" in message


def test_suite_defaults_apply_to_rows(tmp_path: Path) -> None:
    questions = loaded(
        tmp_path,
        "question,answer,valid_until\nA?,a,\nB?,b,2027-06-30\n",
        head="valid_until: 2027-01-31\naccept_core: true\nlanguage: de\n",
    )
    assert [q.valid_until for q in questions] == ["2027-01-31", "2027-06-30"]
    assert all(q.expectation.accept_core and q.expectation.language == "de" for q in questions)


# -- derived ids -----------------------------------------------------------------------


def test_rows_without_ids_get_ids_that_follow_the_question_not_the_row(tmp_path: Path) -> None:
    first = loaded(tmp_path, "question,answer\nWhat is 2 + 2?,4\nWho wrote Hamlet?,Shakespeare\n")
    swapped = loaded(tmp_path, "question,answer\nWho wrote Hamlet?,Shakespeare\nWhat is 2 + 2?,4\n")
    assert {q.text: q.id for q in first} == {q.text: q.id for q in swapped}
    assert first[0].id.startswith("what-is-2-2-")
    assert first[0].id != first[1].id


def test_derived_ids_are_readable_bounded_and_valid_for_any_text() -> None:
    long = "word " * 100
    assert len(derived_id(long)) <= 40 + 11
    assert derived_id("Wie heißt die Hauptstadt?") == derived_id("Wie  heißt die Hauptstadt? ")
    assert derived_id("首都是哪里？").startswith("q-")
    assert derived_id("A?") != derived_id("B?")


def test_two_rows_with_the_same_question_and_no_id_are_named(tmp_path: Path) -> None:
    message = problems(tmp_path, "question,answer\nSame?,a\nOther?,b\nSame?,c\n")
    assert "dataset data.csv, row 3 (id 'same-" in message
    assert "also at row 1 of data.csv" in message


# -- bad rows and bad files --------------------------------------------------------------


def test_a_bad_row_is_named_by_its_row_id_and_key(tmp_path: Path) -> None:
    message = problems(
        tmp_path,
        "id,question,answer,idk,regex,valid_until\n"
        "q1,Fine?,yes,,,\n"
        "q2,No answer?,,,,\n"
        "q3,Both?,yes,true,,\n"
        "q4,Bad regex?,,,(unclosed,\n"
        "q5,Bad idk?,,maybe,,\n"
        "q6,Bad date?,yes,,,2027-02-30\n"
        "bad id!,Bad id?,yes,,,\n",
    )
    assert "7 problems" in message  # row 5 has two: no answer, and idk is no boolean
    expected = [
        "dataset data.csv, row 2 (id 'q2', line 3): needs an answer, a regex, or idk: true",
        "dataset data.csv, row 3 (id 'q3', line 4): a question with idk: true has no answer",
        "dataset data.csv, row 4 (id 'q4', line 5): regex: invalid regex",
        "dataset data.csv, row 5 (id 'q5', line 6): idk: must be true or false",
        "dataset data.csv, row 6 (id 'q6', line 7): valid_until: '2027-02-30' is not a date",
        "dataset data.csv, row 7 (id 'bad id!', line 8): id: must start with a letter",
    ]
    for line in expected:
        assert line in message


def test_a_mapped_column_missing_from_the_header_is_named(tmp_path: Path) -> None:
    message = problems(
        tmp_path, "problem,answer\nA?,a\n", head="columns: {question: problem, answer: gold}\n"
    )
    assert "columns.answer: no column 'gold' in the header (it has problem, answer)" in message


def test_a_file_without_a_question_column_says_how_to_map_one(tmp_path: Path) -> None:
    message = problems(tmp_path, "prompt,answer\nA?,a\n")
    assert "no 'question' column (the header has prompt, answer)" in message
    assert "columns: {question: <its name>}" in message


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (b"question,answer\nA?,a\nB\xff?,b\n", "line 3: not UTF-8 text: byte 0xff"),
        (b"\xff\xfeq\x00", "UTF-16 byte-order mark"),
        (b"", "the file is empty: a CSV dataset starts with a header line"),
        (b"question,answer\nA?,a,extra\n", "row 1 (line 2) has 3 cells, the header 2"),
        (b"question,question\nA?,B?\n", "the header names the column 'question' twice"),
        (b'question,answer\n"A?,a\n', "not valid CSV"),
    ],
)
def test_bad_csv_files_are_named(tmp_path: Path, data: bytes, expected: str) -> None:
    message = problems(tmp_path, data)
    assert "dataset data.csv: " in message
    assert expected in message


def test_a_utf8_byte_order_mark_is_not_part_of_the_first_column(tmp_path: Path) -> None:
    (tmp_path / "data.csv").write_bytes(b"\xef\xbb\xbfquestion,answer\nA?,a\n")
    (tmp_path / "abstain_x.yaml").write_text("dataset: data.csv\n", encoding="utf-8")
    assert [q.text for q in load_suite(tmp_path / "abstain_x.yaml").questions] == ["A?"]


def test_a_line_longer_than_the_limit_is_refused_without_reading_it_whole(tmp_path: Path) -> None:
    data = b"question,answer\n" + b"x" * (MAX_LINE_BYTES * 3) + b",a\n"
    assert "line 2 is longer than" in problems(tmp_path, data)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ('{"question": "A?", "answer": "a"}\n[1, 2]\n', "row 2 (line 2): not a JSON object"),
        ('{"question": "A?", "answer": "a"\n', "row 1 (line 1): not a JSON object"),
        ('{"question": "A?", "question": "B?", "answer": "a"}\n', "the key 'question' appears"),
    ],
)
def test_bad_jsonl_files_are_named(tmp_path: Path, data: str, expected: str) -> None:
    message = problems(tmp_path, data, name="data.jsonl")
    assert "dataset data.jsonl: " in message
    assert expected in message


def test_a_jsonl_row_of_the_wrong_type_is_named_by_its_key(tmp_path: Path) -> None:
    message = problems(tmp_path, '{"id": "a", "question": "A?", "answer": []}\n', name="d.jsonl")
    assert "dataset d.jsonl, row 1 (id 'a', line 1): answer: must be a non-empty string" in message


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("data.txt", "is neither .csv nor .jsonl"),
        ("../outside.csv", "leads outside the suite root"),
        ("/etc/passwd.csv", "is an absolute path"),
        ("missing.csv", "dataset: cannot read"),
    ],
)
def test_the_dataset_path_is_checked(tmp_path: Path, dataset: str, expected: str) -> None:
    (tmp_path / "data.txt").write_text("question,answer\nA?,a\n", encoding="utf-8")
    suite = tmp_path / "suite" / "abstain_x.yaml"
    suite.parent.mkdir()
    (tmp_path / "suite" / "data.txt").write_text("question\nA?\n", encoding="utf-8")
    suite.write_text(f"dataset: {dataset}\n", encoding="utf-8")
    with pytest.raises(SuiteError) as excinfo:
        load_suite(suite, label="abstain_x.yaml", root=tmp_path / "suite")
    assert expected in excinfo.value.render()


def test_a_row_holding_a_secret_is_never_sent(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SERVICE_TOKEN", "tok-0123456789abcdef")
    message = problems(tmp_path, "question,answer\nA?,a\nWhat is tok-0123456789abcdef?,b\n")
    assert "row 2 (line 3): dataset: 'data.csv' contains the value of SERVICE_TOKEN" in message
    allowed = loaded(
        tmp_path,
        "question,answer\nWhat is tok-0123456789abcdef?,b\n",
        head="allow_secrets: [SERVICE_TOKEN]\n",
    )
    assert len(allowed) == 1


def test_a_suite_needs_questions_or_a_dataset(tmp_path: Path) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_text("threshold: 0.5\n", encoding="utf-8")
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path)
    assert "needs a 'questions' list or a 'dataset' file" in excinfo.value.render()


@pytest.mark.parametrize(
    ("data", "name"), [("question,answer\n", "data.csv"), ("\n\n", "data.jsonl")]
)
def test_a_dataset_without_rows_is_named(tmp_path: Path, data: str, name: str) -> None:
    assert f"dataset {name}: no rows" in problems(tmp_path, data, name=name)


def test_columns_without_a_dataset_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_text(
        "columns: {question: problem}\nquestions: [{id: a, question: A?, answer: a}]\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError, match="columns: maps the columns of a dataset"):
        load_suite(path)


@pytest.mark.parametrize("key", ["dataset", "columns", "valid_until"])
def test_the_suite_marker_takes_no_dataset(tmp_path: Path, key: str) -> None:
    value = {"dataset": "data.csv", "columns": {}, "valid_until": "2027-01-31"}[key]
    with pytest.raises(SuiteError, match=f"unknown key '{key}'"):
        settings_from_marker("test_x.py", {key: value}, tmp_path, tmp_path)


def test_columns_refuse_unknown_keys(tmp_path: Path) -> None:
    message = problems(tmp_path, "question,answer\nA?,a\n", head="columns: {questoin: q}\n")
    assert "columns: unknown key 'questoin'" in message


# -- streaming -------------------------------------------------------------------------


def test_a_big_dataset_costs_its_questions_not_a_copy_of_the_file(tmp_path: Path) -> None:
    """The rows are read one at a time: what reading holds at its peak is the questions it
    returns, plus a little per row (the ids seen), whatever the file's size. A reader that
    read the file whole, or kept its rows, would hold their size again on top."""
    padding = "x" * 400  # a column no key reads: a copy of the file would hold it
    lines = "".join(f"Question number {i}?,{i},{padding}\n" for i in range(10_000))
    (tmp_path / "data.csv").write_text("question,answer,notes\n" + lines, encoding="utf-8")
    suite = {"dataset": "data.csv"}
    list(dataset_questions("abstain_x.yaml", suite, tmp_path, tmp_path, {}))  # warm caches
    tracemalloc.start()
    try:
        questions = list(dataset_questions("abstain_x.yaml", suite, tmp_path, tmp_path, {}))
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(questions) == 10_000
    assert peak - kept < (tmp_path / "data.csv").stat().st_size / 4


# -- end to end ------------------------------------------------------------------------


def test_a_dataset_suite_runs_one_item_per_row(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_data="dataset: rows.csv\ncolumns: {question: problem}\n")
    (pytester.path / "rows.csv").write_text(
        "id,problem,answer,idk\n"
        "capital,What is the capital of France?,Paris,\n"
        "gold,What is the chemical symbol for gold?,Au,\n"
        "birthday,What is Adam Kalai's birthday?,,true\n",
        encoding="utf-8",
    )
    openai_server.replies = {"France": "Paris.", "gold": "Ag.", "birthday": "I don't know."}
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url, "-v", "-p", "no:xdist"
    )
    result.stdout.fnmatch_lines(
        [
            "*abstain_data.yaml::capital*",
            "*abstain_data.yaml::gold*",
            "*abstain_data.yaml::birthday*",
            "*replies 3: correct 1, wrong 1, abstained 1*",
        ]
    )
    asked = sorted(last_user_message(r["messages"]) for r in openai_server.requests)
    assert len(asked) == 3 and any("capital of France" in text for text in asked)


def test_a_bad_row_fails_collection_with_its_row_and_no_traceback(
    pytester: pytest.Pytester,
) -> None:
    pytester.makefile(".yaml", abstain_data="dataset: rows.csv\n")
    (pytester.path / "rows.csv").write_text(
        "id,question,answer\nok,Fine?,yes\nq2,Missing?,\n", encoding="utf-8"
    )
    result = pytester.runpytest("-p", "no:xdist")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [
            "*abstain_data.yaml: dataset rows.csv, row 2 (id 'q2', line 3): needs an answer, "
            "a regex, or idk: true*"
        ]
    )
    assert "Traceback" not in result.stdout.str()
