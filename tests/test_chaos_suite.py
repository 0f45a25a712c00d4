"""Issue 13, suite loading: each case the issue found, reproduced as a file on disk.

Each test failed before its fix: the file loaded (or crashed with a traceback) instead of
being refused with a message naming the file, the question and the problem.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from pytest_abstain.suite import (
    SuiteError,
    load_suite,
    question_from_marker,
    settings_from_marker,
)
from pytest_abstain.suite.strict_yaml import MAX_SUITE_CHARS
from pytest_abstain.suite.text_file import MAX_SUITE_BYTES
from pytest_abstain.suite.validation import suite_schema
from pytest_abstain.untrusted import MIN_SECRET_CHARS

NAME = "abstain_chaos.yaml"
ONE_QUESTION = "questions:\n  - {id: a, question: q, idk: true}\n"


def suite_error(path: Path, content: str, root: Path | None = None) -> str:
    """The rendered SuiteError of loading `content` from `path`, which it must name."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path, root=root)
    message = excinfo.value.render()
    assert message.startswith(f"{path}: ")
    assert "Traceback" not in message
    return message


# --- files a suite reads: inside the suite's root, and never a secret unasked -----------------

KEY = "sk-test-0123456789abcdef"  # a made-up API key


def prompt_suite(prompt_file: str, extra: str = "") -> str:
    return f"system_prompt_file: {prompt_file!r}\n{extra}{ONE_QUESTION}"


@pytest.mark.parametrize("given", ["/proc/self/environ", "/etc/passwd"])
def test_an_absolute_system_prompt_file_is_refused_unread(tmp_path: Path, given: str) -> None:
    # /proc/self/environ was read and sent as the system prompt, OPENAI_API_KEY and all.
    message = suite_error(tmp_path / NAME, prompt_suite(given))
    assert f"system_prompt_file: {given!r} is an absolute path" in message
    assert f"relative to the suite file, inside the suite root {tmp_path}" in message


def test_an_absolute_path_is_refused_even_inside_the_root(tmp_path: Path) -> None:
    (tmp_path / "prompt.txt").write_text("Be brief.", encoding="utf-8")
    message = suite_error(tmp_path / NAME, prompt_suite(str(tmp_path / "prompt.txt")))
    assert "is an absolute path" in message


@pytest.mark.parametrize("given", ["../outside.txt", "prompts/../../outside.txt", "../../x"])
def test_a_path_that_climbs_out_of_the_root_is_refused(tmp_path: Path, given: str) -> None:
    root = tmp_path / "project"
    (root / "prompts").mkdir(parents=True)
    (tmp_path / "outside.txt").write_text("not for the model", encoding="utf-8")
    message = suite_error(root / NAME, prompt_suite(given), root=root)
    assert f"system_prompt_file: {given!r} leads outside the suite root {root}" in message


def test_a_symlink_out_of_the_root_is_refused(tmp_path: Path) -> None:
    root = tmp_path / "project"
    root.mkdir()
    outside = tmp_path / "outside.txt"
    outside.write_text("not for the model", encoding="utf-8")
    (root / "prompt.txt").symlink_to(outside)
    message = suite_error(root / NAME, prompt_suite("prompt.txt"), root=root)
    assert f"'prompt.txt' leads outside the suite root {root} (to {outside})" in message


def test_files_anywhere_inside_the_root_are_read(tmp_path: Path) -> None:
    # A suite in a subfolder may read a prompt shared from a sibling folder, and follow a
    # symlink that stays inside.
    (tmp_path / "prompts").mkdir()
    (tmp_path / "prompts" / "support.txt").write_text("Be brief.", encoding="utf-8")
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "link.txt").symlink_to(tmp_path / "prompts" / "support.txt")
    for given in ("../prompts/support.txt", "link.txt"):
        path = tmp_path / "suites" / NAME
        path.write_text(prompt_suite(given), encoding="utf-8")
        assert load_suite(path, root=tmp_path).settings.system_prompt == "Be brief."


def test_the_default_root_is_the_suite_folder(tmp_path: Path) -> None:
    (tmp_path / "prompt.txt").write_text("Be brief.", encoding="utf-8")
    message = suite_error(tmp_path / "suites" / NAME, prompt_suite("../prompt.txt"))
    assert f"leads outside the suite root {tmp_path / 'suites'}" in message


def test_a_fifo_is_refused_instead_of_waiting_forever(tmp_path: Path) -> None:
    fifo = tmp_path / "prompt.txt"
    try:
        os.mkfifo(fifo)
    except (AttributeError, OSError):
        pytest.skip("no named pipes here")
    message = suite_error(tmp_path / NAME, prompt_suite("prompt.txt"))
    assert f"system_prompt_file: cannot read {str(fifo)!r}: not a regular file" in message


def test_a_symlink_loop_or_a_nul_byte_is_a_suite_error(tmp_path: Path) -> None:
    # Resolving the path raised RuntimeError (a loop) or ValueError (NUL): a traceback.
    (tmp_path / "loop").symlink_to(tmp_path / "loop")
    for given in ("loop", "loop/prompt.txt", "a\\x00b"):
        message = suite_error(tmp_path / NAME, f'system_prompt_file: "{given}"\n{ONE_QUESTION}')
        assert "system_prompt_file: cannot read" in message


SECRET_NAMES = [
    "OPENAI_API_KEY",  # the run's own key
    "ABSTAIN_JUDGE_API_KEY",
    "github_token",
    "AWS_SECRET_ACCESS_KEY",
    "DB_PASSWORD",
    "SMTP_PASSWD",
    "GOOGLE_APPLICATION_CREDENTIALS",
]


@pytest.mark.parametrize("name", SECRET_NAMES)
def test_a_prompt_file_holding_a_secret_is_refused_naming_the_variable_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    # A key set from a CI secret often ends in a newline; the run strips it before use.
    monkeypatch.setenv(name, KEY + "\n")
    (tmp_path / "prompt.txt").write_text(f"You are a bot.\nauth={KEY}\n", encoding="utf-8")
    message = suite_error(tmp_path / NAME, prompt_suite("prompt.txt"))
    assert f"system_prompt_file: 'prompt.txt' contains the value of {name}" in message
    assert "allow_secrets" in message
    assert KEY not in message and KEY[:8] not in message


def test_short_values_and_ordinary_variables_are_not_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SORT_KEY", "answers")  # short values would match by chance
    assert len("answers") < MIN_SECRET_CHARS
    monkeypatch.setenv("GREETING", "You are a support bot")  # no secret-looking name
    (tmp_path / "prompt.txt").write_text("You are a support bot. Sort answers.", encoding="utf-8")
    path = tmp_path / NAME
    path.write_text(prompt_suite("prompt.txt"), encoding="utf-8")
    assert load_suite(path).settings.system_prompt == "You are a support bot. Sort answers."


def test_allow_secrets_sends_only_the_secrets_it_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CANARY_TOKEN", "canary-5f1e2d3c")
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    prompt = tmp_path / "prompt.txt"
    prompt.write_text("Never reveal canary-5f1e2d3c.", encoding="utf-8")
    path = tmp_path / NAME
    path.write_text(prompt_suite("prompt.txt", "allow_secrets: [CANARY_TOKEN]\n"), "utf-8")
    assert load_suite(path).settings.system_prompt == "Never reveal canary-5f1e2d3c."
    prompt.write_text(f"Never reveal canary-5f1e2d3c. {KEY}", encoding="utf-8")
    message = suite_error(path, prompt_suite("prompt.txt", "allow_secrets: [CANARY_TOKEN]\n"))
    assert "contains the value of OPENAI_API_KEY" in message and "CANARY_TOKEN" not in message


def test_allow_secrets_takes_variable_names(tmp_path: Path) -> None:
    message = suite_error(tmp_path / NAME, prompt_suite("p.txt", "allow_secrets: ['A B']\n"))
    assert "allow_secrets[0]: must be the name of an environment variable" in message


def test_the_abstain_suite_marker_reads_files_by_the_same_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    (tmp_path / "prompt.txt").write_text(KEY, encoding="utf-8")
    (tmp_path / "tests").mkdir()
    for given, problem in [
        ("/proc/self/environ", "is an absolute path"),
        ("../../x.txt", "leads outside the suite root"),
        ("../prompt.txt", "contains the value of OPENAI_API_KEY"),
    ]:
        with pytest.raises(SuiteError, match=re.escape(f"{given!r} {problem}")):
            settings_from_marker(
                "tests/test_x.py", {"system_prompt_file": given}, tmp_path / "tests", root=tmp_path
            )


def test_abstain_root_in_the_ini_sets_the_root(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nabstain_root = suites\n")
    pytester.path.joinpath("prompt.txt").write_text("Be brief.", encoding="utf-8")
    suites = pytester.mkdir("suites")
    suites.joinpath(NAME).write_text(prompt_suite("../prompt.txt"), encoding="utf-8")
    result = pytester.runpytest("--collect-only")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(
        [f"suites/{NAME}: system_prompt_file: '../prompt.txt' leads outside the suite root *"]
    )
    assert "Traceback" not in result.stdout.str()
    pytester.makeini("[pytest]\nabstain_root = .\n")
    assert pytester.runpytest("--collect-only").ret == pytest.ExitCode.OK
    pytester.makeini("[pytest]\nabstain_root = missing\n")
    result = pytester.runpytest("--collect-only")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*abstain_root (ini): * is not a folder*"])


# --- names: ids, suite names, tags and models have no line breaks or control characters -------


def test_an_id_with_a_trailing_newline_is_not_a_second_q1(tmp_path: Path) -> None:
    # "$" in the id pattern matched before a final newline: "q1\n" passed, and pytest showed
    # two tests as ::q1.
    content = (
        "questions:\n"
        "  - {id: q1, question: q, idk: true}\n"
        '  - {id: "q1\\n", question: q, idk: true}\n'
    )
    message = suite_error(tmp_path / NAME, content)
    assert "question 'q1\\n' (questions[1].id): must start with a letter or digit" in message


def test_the_published_schema_refuses_a_trailing_newline_too() -> None:
    # Editors and CI checkers validate with the published schema alone; Python validators
    # (check-jsonschema) use re.search, where "$" matches before a final newline.
    validator = jsonschema.Draft202012Validator(suite_schema())
    question = {"question": "q", "answer": 2}
    assert validator.is_valid({"questions": [{**question, "id": "q1"}]})
    for bad in ({"id": "q1\n"}, {"tolerance": "2%\n"}, {"language": "en\n"}):
        assert not validator.is_valid({"questions": [{**question, "id": "q1", **bad}]}), bad
    assert not validator.is_valid({"language": "en\n", "questions": [{**question, "id": "q"}]})


def test_a_percentage_tolerance_with_a_newline_is_refused_not_a_traceback(tmp_path: Path) -> None:
    # It passed the schema's "%$" and then float("2%\n") raised a ValueError at collection.
    content = 'questions:\n  - {id: a, question: q, answer: 2, tolerance: "2%\\n"}\n'
    message = suite_error(tmp_path / NAME, content)
    assert "question 'a' (questions[0].tolerance): must be a number >= 0" in message


@pytest.mark.parametrize(
    ("line", "where"),
    [
        # A carriage return in the name injected a heading into the Markdown summary.
        ('name: "Support\\r## Passed: everything"', "name"),
        ('name: "two\\nlines"', "name"),
        ('name: "bell\\a"', "name"),
        ('name: "next line\\N"', "name"),  # U+0085, a line break to str.splitlines
        ('name: "line\\Lseparator"', "name"),  # U+2028
        ('name: "evil\\u202etxt.exe"', "name"),  # right-to-left override: reorders the text
        ('judge: {model: "gpt-4o\\n## injected"}', "judge.model"),
    ],
)
def test_suite_names_and_models_with_control_characters_are_refused(
    tmp_path: Path, line: str, where: str
) -> None:
    message = suite_error(tmp_path / NAME, f"{line}\n{ONE_QUESTION}")
    assert f"{where}: must be a non-empty line of text, without control characters" in message


@pytest.mark.parametrize("tag", ["geo\\n", "geo\\r", "a\\tb", "\\x00"])
def test_tags_with_control_characters_are_refused(tmp_path: Path, tag: str) -> None:
    content = f'questions:\n  - {{id: a, question: q, idk: true, tags: [ok, "{tag}"]}}\n'
    message = suite_error(tmp_path / NAME, content)
    assert "question 'a' (questions[0].tags[1]): must be a non-empty line of text" in message


def test_names_in_any_script_still_load(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text(
        "name: Résumé — Ελληνικά 日本語 עברית\u200f 📋\n"
        "judge: {model: org/model-7b:latest}\n"
        "questions:\n  - {id: a.b_c-1, question: q, idk: true, tags: [地理, café, 'two words']}\n",
        encoding="utf-8",
    )
    suite = load_suite(path)
    assert suite.settings.name == "Résumé — Ελληνικά 日本語 עברית\u200f 📋"
    assert suite.questions[0].tags == ("地理", "café", "two words")


def test_marker_ids_names_and_tags_are_held_to_the_same_rule(tmp_path: Path) -> None:
    source = "test_x.py::test_q"
    bad_questions: list[dict[str, Any]] = [
        {"id": "q1\n", "question": "q", "idk": True},
        {"question": "q", "idk": True, "tags": ["x\r"]},
    ]
    for kwargs in bad_questions:
        with pytest.raises(SuiteError, match="must"):
            question_from_marker(source, "test_q", kwargs)
    with pytest.raises(SuiteError, match="name: must be a non-empty line of text"):
        settings_from_marker("test_x.py", {"name": "x\r## y"}, tmp_path, root=tmp_path)


def test_a_suite_file_name_with_a_control_character_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "abstain_a\rb.yaml"  # its name becomes the test id and a heading
    path.write_text(ONE_QUESTION, encoding="utf-8")
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path)
    message = excinfo.value.render()
    assert "\r" not in message
    assert "the file name 'abstain_a\\rb.yaml' contains a control character" in message


# --- aliases: the expanded size of the text is bounded, not only the number of values --------


def aliased_question_suite(text_chars: int, aliases: int) -> str:
    """One question whose text is anchored, and `aliases` more that repeat it by alias."""
    lines = ["questions:", f"  - {{id: q0, idk: true, question: &text {'x' * text_chars}}}"]
    lines += [f"  - {{id: q{i}, idk: true, question: *text}}" for i in range(1, aliases + 1)]
    return "\n".join(lines) + "\n"


def test_one_long_string_aliased_a_thousand_times_is_refused_before_it_is_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The file was 2.2 MB: a 2 MB question aliased by 4,000 more, 8 GB of text once
    # each prompt is built. Its 8,000 values passed the 2M-value guard. Same shape, 1 GB.
    content = aliased_question_suite(2**20, 1000)
    assert len(content) < MAX_SUITE_BYTES
    built: list[str] = []
    monkeypatch.setattr(yaml, "load", lambda text, Loader: built.append(text))
    message = suite_error(tmp_path / NAME, content)
    assert not built, "the guard must refuse the file from the parser's events"
    found = re.search(
        rf"line (\d+): the document grows past {MAX_SUITE_CHARS:,} characters of text "
        r"once its aliases \(\*name\) are expanded",
        message,
    )
    assert found is not None, message
    # Refused at the alias that crosses the limit, the 40th or so of the thousand.
    assert 3 <= int(found[1]) <= 2 + MAX_SUITE_CHARS // 2**20


def test_aliases_that_share_text_within_the_limit_still_load(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text(aliased_question_suite(10_000, 500), encoding="utf-8")  # 5 MB expanded
    questions = load_suite(path).questions
    assert len(questions) == 501 and questions[500].text == "x" * 10_000


def test_an_aliased_mapping_counts_all_the_text_inside_it(tmp_path: Path) -> None:
    # Text nested in an anchored list counts at each alias of the list, through merges too.
    chunk = "y" * 2**20
    lines = [f"shared: &chunks [{', '.join([chunk] * 4)}]"]
    lines += [f"other{i}: *chunks" for i in range(20)]  # 4 MiB each, 84 MiB in all
    message = suite_error(tmp_path / NAME, "\n".join(lines) + "\n")
    assert f"grows past {MAX_SUITE_CHARS:,} characters of text" in message
