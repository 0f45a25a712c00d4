"""Bad input everywhere (issue 5): suite, baseline and cache files that cannot be used.

Each case asserts the error type and that the message names the file and the problem: a
SuiteError (a collection error) for suites, a BaselineError (exit code 4) for baselines,
and a miss listed by ResponseCache.corrupt_entries() for cache entries.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from openai_server import FakeOpenAI

from pytest_abstain.asking.cache import CacheKey, ResponseCache
from pytest_abstain.grading import Expectation, RegexTimeout, bounded_search, rule_grade
from pytest_abstain.records import Reply
from pytest_abstain.results.baseline import BaselineError, read_baseline
from pytest_abstain.suite import SuiteError, load_suite
from pytest_abstain.suite.strict_yaml import MAX_SUITE_DEPTH, MAX_SUITE_NODES
from pytest_abstain.suite.text_file import MAX_SUITE_BYTES

NAME = "abstain_bad.yaml"
ONE_QUESTION = "questions:\n  - {id: a, question: q, idk: true}\n"


def suite_error(tmp_path: Path, content: str | bytes) -> str:
    """The rendered SuiteError of loading `content`; it must start with the file's name."""
    path = tmp_path / NAME
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(SuiteError) as excinfo:
        load_suite(path)
    message = excinfo.value.render()
    assert message.startswith(f"{path}: ")
    assert "Traceback" not in message
    return message


# --- suites: the file as a whole -------------------------------------------------------------


@pytest.mark.parametrize("content", ["", "\n\n", "# only a comment\n", "~\n", "---\n...\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    assert "the file is empty" in suite_error(tmp_path, content)


@pytest.mark.parametrize(
    ("content", "kind"),
    [("- a\n- b\n", "a list"), ("just text\n", "a string"), ("42\n", "a number")],
)
def test_non_mapping_document(tmp_path: Path, content: str, kind: str) -> None:
    message = suite_error(tmp_path, content)
    assert f"the top level must be a mapping with 'questions', not {kind}" in message


def test_multiple_documents_are_refused_not_half_read(tmp_path: Path) -> None:
    message = suite_error(tmp_path, ONE_QUESTION + "---\n" + ONE_QUESTION)
    assert "line 3: a second YAML document starts here ('---')" in message


def test_one_document_with_explicit_markers_is_fine(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text("---\n" + ONE_QUESTION + "...\n", encoding="utf-8")
    assert [q.id for q in load_suite(path).questions] == ["a"]


def test_huge_file_is_refused_with_the_limit(tmp_path: Path) -> None:
    filler = "# padding\n" * (MAX_SUITE_BYTES // 10 + 1)
    message = suite_error(tmp_path, ONE_QUESTION + filler)
    assert "larger than the 10 MiB limit" in message and "split it" in message


def test_twenty_thousand_questions_still_load(tmp_path: Path) -> None:
    lines = ["questions:"]
    for i in range(20_000):
        lines.append(
            f"  - {{id: q{i}, question: 'Capital of country {i}?', answer: [Paris, Lyon], "
            "tags: [geo]}"
            if i % 2
            else f"  - {{id: q{i}, question: 'Birthday of person {i}?', idk: true}}"
        )
    path = tmp_path / NAME
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    suite = load_suite(path)
    assert len(suite.questions) == 20_000


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"questions:\n  - {id: a, question: caf\xe9, idk: true}\n", "byte 0xe9 on line 2"),
        ("questions: []\n".encode("utf-16"), "UTF-16 byte-order mark"),
    ],
)
def test_non_utf8_bytes(tmp_path: Path, content: bytes, problem: str) -> None:
    message = suite_error(tmp_path, content)
    assert "not UTF-8 text" in message and problem in message


def test_control_character_names_its_line(tmp_path: Path) -> None:
    message = suite_error(tmp_path, "questions:\n  - {id: a, question: 'q\x00', idk: true}\n")
    assert "line 2: character '\\x00' is not allowed" in message


# --- suites: YAML features that construct things or grow without bound -----------------------


def test_python_object_tags_are_refused_and_never_run(tmp_path: Path) -> None:
    made = tmp_path / "made-by-yaml"
    message = suite_error(tmp_path, f"!!python/object/apply:os.mkdir ['{made}']\n")
    assert "line 1: the YAML tag !!python/object/apply:os.mkdir is not allowed" in message
    assert not made.exists()


@pytest.mark.parametrize(
    "tagged",
    [
        "!!python/name:os.system",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!timestamp 2001-12-14",
        "!!float abc",
        "!!bool maybe",
        "!custom x",
    ],
)
def test_every_tag_but_str_is_refused_with_its_line(tmp_path: Path, tagged: str) -> None:
    message = suite_error(tmp_path, f"questions:\n  - {{id: a, question: {tagged}, idk: true}}\n")
    tag = tagged.split()[0]
    assert f"line 2: the YAML tag {tag} is not allowed" in message


def test_str_tag_and_unquoted_dates_are_text(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text(
        "questions:\n  - {id: a, question: !!str 0755, answer: 2001-12-14}\n", encoding="utf-8"
    )
    (question,) = load_suite(path).questions
    assert (question.text, question.expected) == ("0755", ("2001-12-14",))


def billion_laughs(levels: int) -> str:
    lines = ["questions:", "  - {id: a, question: q, idk: true}", "name: &l0 lol", "x:"]
    for level in range(1, levels + 1):
        lines.append(f"  - &l{level} [" + ", ".join([f"*l{level - 1}"] * 10) + "]")
    return "\n".join(lines) + "\n"


def test_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    message = suite_error(tmp_path, billion_laughs(9))  # 10**9 strings once expanded
    assert f"grows past {MAX_SUITE_NODES:,} values once its aliases (*name) are expanded" in (
        message
    )


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    message = suite_error(tmp_path, "questions: &q\n  - *q\n")
    assert "line 2: alias *q refers to a node containing it" in message


def test_aliases_and_merge_keys_for_sharing_still_work(tmp_path: Path) -> None:
    path = tmp_path / NAME
    path.write_text(
        "questions:\n"
        "  - &capital {id: a, question: Capital of France?, answer: Paris, tags: &geo [geo]}\n"
        "  - {<<: *capital, id: b, answer: [Paris, Lutetia]}\n"
        "  - {id: c, question: q, idk: true, tags: *geo}\n",
        encoding="utf-8",
    )
    a, b, c = load_suite(path).questions
    assert (b.text, b.expected, b.tags) == (a.text, ("Paris", "Lutetia"), ("geo",))
    assert c.tags == ("geo",)


def test_deep_nesting_is_refused_instead_of_crashing_the_interpreter(tmp_path: Path) -> None:
    # 100,000 nested brackets overflow the C stack of libyaml's composer: a segfault.
    # Refused as a clean suite error naming the file and line, by our depth check or by
    # PyYAML's own limit (newer releases stop first, with their own wording).
    message = suite_error(tmp_path, "questions: " + "[" * 100_000 + "]" * 100_000 + "\n")
    assert message.startswith(str(tmp_path / "abstain_bad.yaml"))
    assert "line 1" in message


def test_nesting_past_the_suite_limit_is_refused_by_our_own_check(tmp_path: Path) -> None:
    depth = MAX_SUITE_DEPTH + 5  # far below any parser's own limit
    message = suite_error(tmp_path, "questions: " + "[" * depth + "]" * depth + "\n")
    assert f"line 1: lists and mappings nest more than {MAX_SUITE_DEPTH} deep" in message


def test_unhashable_key_is_a_yaml_error(tmp_path: Path) -> None:
    message = suite_error(tmp_path, "questions:\n  - {? [1, 2] : x, id: a}\n")
    assert "found unhashable key" in message


# --- suites: values the schema lets through -------------------------------------------------


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("threshold: .nan\n" + ONE_QUESTION, "threshold: must be a finite number, not nan"),
        ("gates: {min_score: -.inf}\n" + ONE_QUESTION, "gates.min_score: must be a finite"),
        (
            "questions:\n  - {id: a, question: q, answer: .inf}\n",
            "question 'a' (questions[0].answer): must be a finite number, not inf",
        ),
        (
            "questions:\n  - {id: a, question: q, answer: 1, tolerance: .inf}\n",
            "question 'a' (questions[0].tolerance): must be finite",
        ),
        (
            f"questions:\n  - {{id: a, question: q, answer: {10**400}}}\n",
            "question 'a' (questions[0].answer): is too large to compare as a number",
        ),
        (
            f"questions:\n  - {{id: a, question: q, answer: 1{'0' * 5000}}}\n",
            "line 2: a number 5001 digits long is too long",
        ),
    ],
)
def test_numbers_that_pass_the_schema_but_break_scoring(
    tmp_path: Path, content: str, problem: str
) -> None:
    assert problem in suite_error(tmp_path, content)


@pytest.mark.parametrize(
    "placeholder", ["{question:>999999999}", "{question:{oops}}", "{question!x}"]
)
def test_prompt_template_placeholders_that_would_fail_when_asked(
    tmp_path: Path, placeholder: str
) -> None:
    message = suite_error(tmp_path, f"prompt_template: '{placeholder}'\n" + ONE_QUESTION)
    assert f"prompt_template: prompt template placeholder {placeholder} takes no" in message


def test_system_prompt_file_is_read_within_the_limit(tmp_path: Path) -> None:
    (tmp_path / "prompt.txt").write_bytes(b"x" * (MAX_SUITE_BYTES + 1))
    message = suite_error(tmp_path, "system_prompt_file: prompt.txt\n" + ONE_QUESTION)
    assert "system_prompt_file: cannot read" in message and "10 MiB limit" in message


def test_thousands_of_duplicate_ids_are_one_short_message(tmp_path: Path) -> None:
    message = suite_error(tmp_path, "questions:\n" + "  - {id: a, question: q, idk: true}\n" * 5000)
    assert "4999 problems" in message and "... and 4989 more" in message
    assert len(message.splitlines()) == 12


def test_huge_values_are_clipped_in_messages(tmp_path: Path) -> None:
    message = suite_error(tmp_path, "name: [" + ", ".join(["x" * 100] * 10_000) + "]\n")
    assert "name: " in message and len(message) < 1000


# --- suites: regexes that would take exponential time ----------------------------------------

ADVERSARIAL = "a" * 10_000 + "!"  # 10 kB that (a+)+$ would try to split every possible way


@pytest.mark.parametrize("regex", ["(a+)+$", "(a|aa)*$", r"(\w+\s?)+$", "(x*y?)*z"])
def test_exponential_regex_is_refused_at_load_naming_the_question(
    tmp_path: Path, regex: str
) -> None:
    message = suite_error(
        tmp_path, f"questions:\n  - {{id: year, question: q, regex: '{regex}'}}\n"
    )
    assert "question 'year' (questions[0].regex): the group" in message
    assert "exponential time" in message


@pytest.mark.parametrize(
    "regex",
    [r"19\d\d", "(ab)+", "(?:cat|dog)s?", r"\b(1[0-9]|20)\b", r"^\s*(?:the\s+)?paris\s*$"],
)
def test_ordinary_regexes_load(tmp_path: Path, regex: str) -> None:
    path = tmp_path / NAME
    path.write_text(f"questions:\n  - {{id: a, question: q, regex: '{regex}'}}\n", "utf-8")
    assert load_suite(path).questions[0].regex == regex


@pytest.mark.parametrize(
    ("regex", "problem"),
    [("a{99999999999}", "the repetition number is too large"), ("(" * 5000 + ")" * 5000, "")],
)
def test_regexes_that_break_the_compiler_are_invalid(
    tmp_path: Path, regex: str, problem: str
) -> None:
    message = suite_error(tmp_path, f"questions:\n  - {{id: a, question: q, regex: '{regex}'}}\n")
    assert "question 'a' (questions[0].regex): invalid regex" in message and problem in message


@pytest.mark.parametrize(
    ("regex", "reply"),
    [("(a+)+$", ADVERSARIAL), (r"\d+\d+$", "1" * 10_000 + "x")],  # the second passes the load
)
def test_a_runaway_regex_is_stopped_within_the_deadline(regex: str, reply: str) -> None:
    expectation = Expectation(regex=re.compile(regex, re.IGNORECASE))
    # Raised only by the deadline: left alone, either search runs for minutes.
    with pytest.raises(RegexTimeout, match=r"took more than 0\.5 s on a reply of 10,001"):
        rule_grade(reply, expectation, search=bounded_search)


def test_a_regex_timeout_is_a_question_error_end_to_end(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(
        """
        def pytest_abstain_make_responder(config, suite_path):
            return lambda prompt: "1" * 10_000 + "x"
        """
    )
    pytester.makefile(
        ".yaml",
        abstain_app=r"""
questions:
  - {id: digits, question: 'Digits?', regex: '\d+\d+$'}
  - {id: year, question: 'Year?', regex: '19\d\d'}
""",
    )
    result = pytester.runpytest()
    assert "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(["*grading failed: RegexTimeout: the regex *took more than 0.5 s*"])
    outcomes = result.parseoutcomes()
    assert outcomes.get("errors", outcomes.get("error")) == 1 and outcomes["wrong"] == 1


def test_bad_suites_are_collection_errors_without_traceback(pytester: pytest.Pytester) -> None:
    pytester.makefile(".yaml", abstain_two=ONE_QUESTION + "---\n" + ONE_QUESTION)
    pytester.makefile(".yaml", abstain_tag="!!python/object/apply:os.system ['echo pwned']\n")
    pytester.makefile(
        ".yaml", abstain_regex="questions:\n  - {id: slow, question: q, regex: '(a+)+$'}\n"
    )
    pytester.path.joinpath("abstain_latin1.yaml").write_bytes(b"name: caf\xe9\n" + b"questions: []")
    result = pytester.runpytest()
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines_random(
        [
            "abstain_two.yaml: line 3: a second YAML document starts here*",
            "abstain_tag.yaml: line 1: the YAML tag !!python/object/apply:os.system is not*",
            "abstain_regex.yaml: question 'slow' (questions?0?.regex): the group (a+) is*",
            "abstain_latin1.yaml: not UTF-8 text: byte 0xe9 on line 1*",
        ]
    )
    assert "Traceback" not in result.stdout.str() and "pwned" not in result.stdout.str()


# --- baseline files -------------------------------------------------------------------------


def baseline_error(tmp_path: Path, content: str | bytes) -> str:
    path = tmp_path / "baseline.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(BaselineError) as excinfo:
        read_baseline(path)
    message = str(excinfo.value)
    assert message.startswith(f"baseline {path}: ")
    return message


VALID_SUITE = {
    "name": "s",
    "threshold": 0.75,
    "samples": 1,
    "produced_by": {
        "responder": "m",
        "endpoint": None,
        "prompt_template_sha256": None,
        "system_prompt_sha256": None,
        "plugin_version": "0",
        "date": "2025-01-01",
    },
    "metrics": {},
    "questions": {"a": {"correct": 1, "wrong": 0, "abstained": 0}},
}


def baseline_with(**suite_changes: object) -> str:
    return json.dumps(
        {
            "version": 1,
            "tool": {"name": "pytest-abstain", "version": "0"},
            "created": "2025-01-01T00:00:00+00:00",
            "suites": {"s": {**VALID_SUITE, **suite_changes}},
        }
    )


def test_a_valid_hand_made_baseline_reads(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    path.write_text(baseline_with(), encoding="utf-8")
    baseline = read_baseline(path)
    assert baseline is not None and baseline.suites["s"].questions["a"].counts.correct == 1


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (baseline_with()[:-20], "not valid JSON (line 1, column"),
        ('{"version": 1, <<<<<<< HEAD', "not valid JSON"),
        ('{"version": 3, "suites": {}}', "version 3 is not supported"),
        ('{"version": "1", "suites": {}}', "version '1' is not supported"),
        ('{"suites": {}}', "has no 'version'"),
        ("[1, 2]", "the top level is an array, not a JSON object"),
        ('"baseline"', "the top level is a string, not a JSON object"),
        ("null", "the top level is null, not a JSON object"),
        (baseline_with(threshold=1.5), "suites/s/threshold: 1.5 is greater than or equal"),
        (baseline_with(questions={"a": {"correct": -1}}), "suites/s/questions/a"),
        (baseline_with(questions={"a": {"correct": 10**30, "wrong": 0, "abstained": 0}}), "a"),
        (baseline_with(samples=True), "suites/s/samples: True is not of type 'integer'"),
        (baseline_with().replace("0.75", "NaN"), "not usable JSON: NaN is not a number"),
        (baseline_with().replace("0.75", "1" + "0" * 5000), "not usable JSON: Exceeds the limit"),
        ("[" * 100_000 + "]" * 100_000, "not usable JSON: nested too deeply"),
        (b'{"created": "caf\xe9"}', "not UTF-8 text (invalid continuation byte at byte 16)"),
        (baseline_with(name="x" * 100_000, threshold="high"), "suites/s/threshold: 'high'"),
    ],
)
def test_bad_baselines_name_the_file_and_the_problem(
    tmp_path: Path, content: str | bytes, problem: str
) -> None:
    message = baseline_error(tmp_path, content)
    assert problem in message
    assert len(message) < 600


def test_corrupt_baseline_is_exit_code_4_and_left_alone(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_x=ONE_QUESTION)
    path = pytester.path / "baseline.json"
    path.write_text(baseline_with()[:-20], encoding="utf-8")
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-baseline", "baseline.json", "--abstain-update-baseline",
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["ERROR: baseline *baseline.json: not valid JSON (line 1*"])
    assert "Traceback" not in result.stderr.str() + result.stdout.str()
    assert path.read_text(encoding="utf-8") == baseline_with()[:-20]
    assert openai_server.requests == []


# --- cache entries --------------------------------------------------------------------------

KEY = CacheKey.of(None, "m", {}, [{"role": "user", "content": "Capital of France?"}], 0)


def stored_entry(tmp_path: Path) -> tuple[ResponseCache, Path]:
    cache = ResponseCache(tmp_path / "cache")
    cache.put(KEY, Reply(text="Paris", prompt_tokens=3, completion_tokens=1))
    (path,) = (tmp_path / "cache").glob("*/*.json")
    return cache, path


def edited(path: Path, **changes: object) -> str:
    entry = json.loads(path.read_text(encoding="utf-8"))
    for dotted, value in changes.items():
        *parents, last = dotted.split("__")
        target = entry
        for parent in parents:
            target = target[parent]
        target[last] = value
    return json.dumps(entry)


@pytest.mark.parametrize(
    ("corrupt", "problem"),
    [
        (lambda text: text[: len(text) // 2], "not valid JSON (truncated?)"),
        (lambda text: "", "not valid JSON (truncated?)"),
        (lambda text: "[" * 100_000, "not valid JSON (truncated?)"),
        (lambda text: "[1]", "not a JSON object but a list"),
        (lambda text: text.replace('"version": 1', '"version": 2'), "version 2, this"),
        (lambda text: text.replace("Capital", "Kapital"), "its key is not the one its file"),
        (lambda text: text.replace('"text": "Paris"', '"text": null'), "no reply text"),
        (lambda text: text.replace('"prompt_tokens": 3', '"prompt_tokens": "3"'), "not a count"),
        (lambda text: text.replace('"prompt_tokens": 3', '"prompt_tokens": true'), "not a count"),
    ],
)
def test_corrupt_cache_entry_is_a_listed_miss(
    tmp_path: Path, corrupt: object, problem: str
) -> None:
    cache, path = stored_entry(tmp_path)
    assert callable(corrupt)
    path.write_text(corrupt(path.read_text(encoding="utf-8")), encoding="utf-8")
    assert cache.get(KEY) is None
    ((where, reason),) = cache.corrupt_entries()
    assert where == path and problem in reason
    # Recording over it replaces the bad file whole; the next read replays it.
    cache.put(KEY, Reply(text="Paris"))
    assert cache.get(KEY) == Reply(text="Paris", cached=True)


def test_unreadable_cache_entries_are_listed_not_raised(tmp_path: Path) -> None:
    cache, path = stored_entry(tmp_path)
    path.write_bytes(b'{"version": 1, "caf\xe9": 1}')
    assert cache.get(KEY) is None
    path.unlink()
    path.mkdir()  # a directory where the entry should be
    assert cache.get(KEY) is None
    ((where, reason),) = cache.corrupt_entries()
    assert where == path and reason.startswith("cannot read it:")
    assert "empty" in cache.explain_miss(KEY)


def test_missing_entries_are_not_corrupt(tmp_path: Path) -> None:
    cache = ResponseCache(tmp_path)
    assert cache.get(KEY) is None and cache.corrupt_entries() == []


def test_corrupt_entry_is_asked_again_and_re_recorded_end_to_end(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_c="questions:\n  - {id: c, question: Capital?, answer: X}\n")
    openai_server.replies = {"Capital": "X."}
    run = (
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-cache", "cache",
    )  # fmt: skip
    assert pytester.runpytest(*run).ret == 0
    (entry,) = (pytester.path / "cache").glob("*/*.json")
    entry.write_text(entry.read_text(encoding="utf-8")[:40], encoding="utf-8")
    openai_server.reset_stats()
    result = pytester.runpytest(*run)
    assert result.ret == 0 and "Traceback" not in result.stdout.str()
    assert result.parseoutcomes()["correct"] == 1
    assert len(openai_server.requests) == 1  # asked again, not replayed
    assert json.loads(entry.read_text(encoding="utf-8"))["reply"]["text"] == "X."
    result.stdout.fnmatch_lines(
        [
            "*abstain: unusable cache entries, treated as misses*",
            f"{entry}: not valid JSON (truncated?)*",
        ]
    )


def test_an_unwritable_cache_costs_a_re_ask_not_the_run(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_c="questions:\n  - {id: c, question: Capital?, answer: X}\n")
    openai_server.replies = {"Capital": "X."}
    cache = pytester.path / "cache"
    cache.mkdir()
    # Where the entry's two-letter folder would go, a file: the entry cannot be written.
    for prefix in "0123456789abcdef":
        for second in "0123456789abcdef":
            (cache / f"{prefix}{second}").write_text("", encoding="utf-8")
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-cache", "cache",
    )  # fmt: skip
    assert result.ret == 0 and "Traceback" not in result.stdout.str()
    result.stdout.fnmatch_lines(
        ["abstain: 1 reply could not be stored in the cache (first: *); asked again next time"]
    )


@pytest.mark.parametrize(
    ("setup", "record", "message"),
    [
        ("file", "missing", "it is not a folder"),
        ("none", "replay", "it does not exist (--abstain-record replay)"),
        ("under-file", "missing", "is not a directory"),
    ],
)
def test_an_unusable_cache_folder_is_a_usage_error(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str,
    setup: str, record: str, message: str,
) -> None:  # fmt: skip
    pytester.makefile(".yaml", abstain_c="questions:\n  - {id: c, question: Capital?, answer: X}\n")
    cache = pytester.path / "cache"
    if setup == "file":
        cache.write_text("not a folder", encoding="utf-8")
    elif setup == "under-file":
        (pytester.path / "blocker").write_text("", encoding="utf-8")
        cache = pytester.path / "blocker" / "cache"
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-cache", str(cache), "--abstain-record", record,
    )  # fmt: skip
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert message in result.stderr.str() and "Traceback" not in result.stderr.str()
    assert openai_server.requests == []
