"""Property-based tests (issue 5): no generated input makes the suite loader raise anything
but SuiteError, or the grader raise at all or return anything but a grade.

Derandomized and without a database, so every CI run tries the same examples; sized to run
in a few seconds.
"""

from __future__ import annotations

import math
import re
import warnings
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from pytest_abstain.grading import (
    DEFAULT_IDK_PHRASES,
    Expectation,
    Tolerance,
    extract_numbers,
    grade_reply,
    is_abstention,
    normalize,
    regex_problem,
)
from pytest_abstain.prompts import DEFAULT_TEMPLATE, build_messages
from pytest_abstain.records import GRADES
from pytest_abstain.suite import SuiteError, load_suite, question_from_marker
from pytest_abstain.suite.validation import suite_schema

PROPERTIES = settings(
    max_examples=200,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One folder for every example (hypothesis reruns a test, not its fixtures)."""
    path = tmp_path_factory.mktemp("properties")
    (path / "prompt.txt").write_text("Be brief.", encoding="utf-8")
    (path / "data.csv").write_text("id,question,answer\nd1,Data?,yes\n", encoding="utf-8")
    (path / "data.jsonl").write_text('{"question": "Data?", "idk": true}\n', encoding="utf-8")
    return path


def loads_or_refuses(workdir: Path, content: bytes) -> None:
    """The property: the suite loads, or a SuiteError names the file in a short message.

    A suite that loads must also build its prompts and grade a reply: a bad value the loader
    lets through would otherwise fail later, at collection or while grading.
    """
    path = workdir / "abstain_generated.yaml"
    path.write_bytes(content)
    try:
        suite = load_suite(path)
    except SuiteError as exc:
        message = exc.render()
        assert message.startswith(f"{path}: ")
        assert len(message) < 20_000, message[:500]
        return
    event("loaded")
    settings = suite.settings
    configured = settings.prompt_template  # None: the default; False: the question alone
    template = configured if isinstance(configured, str) else None
    template = DEFAULT_TEMPLATE if configured is None else template
    threshold = 0.75 if settings.threshold is None else settings.threshold
    assert 0 <= threshold < 1  # NaN would pass the schema's bounds, and fail this
    numbers = [*vars(settings.gates).values(), *(a for q in suite.questions for a in q.expected)]
    assert all(math.isfinite(n) for n in numbers if isinstance(n, (int, float)))
    for question in suite.questions:
        build_messages(question.text, threshold, template, settings.system_prompt)
        phrases = DEFAULT_IDK_PHRASES + settings.idk_phrases
        assert grade_reply("It is 42, Paris.", question.expectation, phrases) in GRADES


# --- generated suite documents ---------------------------------------------------------------

# Any code point but lone surrogates, which no YAML file can hold.
TEXT = st.text(st.characters(codec="utf-8"), max_size=30)
HUGE_INTS = st.sampled_from([2**63, 10**400, -(10**400), 10**4000])
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), HUGE_INTS, st.floats(), TEXT)
ANYTHING = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)

REGEXES = st.sampled_from(
    [r"19\d\d", "(a+)+$", "(a|aa)*", "(", "[", "\\", "a{99999999999}", "(?P<x>a)(?P=x)", "(?#c)a"]
)
ID = st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.-]{0,8}\Z") | TEXT
#: A context: text, a file (some outside the suite root), or a list of them.
DOCUMENT = TEXT | st.fixed_dictionaries(
    {"file": st.sampled_from(["prompt.txt", "missing.txt", ".", "../x", "/etc/hostname"])}
)
DOCUMENTS = DOCUMENT | st.lists(DOCUMENT, max_size=3)
#: For each key of the published schema, values that are often valid and sometimes not.
PLAUSIBLE: dict[str, st.SearchStrategy[Any]] = {
    "id": ID,
    "question": TEXT,
    "answer": st.one_of(TEXT, st.floats(), st.integers(), HUGE_INTS, st.lists(SCALARS, max_size=3)),
    "regex": REGEXES | TEXT,
    "tolerance": st.one_of(
        st.floats(),
        st.integers(),
        st.sampled_from(["5%", "1e400%", "9" * 400 + "%", "x%", "significant", "significantly"]),
    ),
    "accept_core": st.booleans() | TEXT,
    "language": st.sampled_from(["en", "de", "zh", "xx", "EN", ""]) | TEXT,
    "deflections": st.booleans() | TEXT,
    "critical": st.booleans() | st.integers(0, 1) | TEXT,
    "idk": st.booleans(),
    "tags": st.lists(TEXT, max_size=3),
    "reply": TEXT,
    "verdict": st.sampled_from(["correct", "wrong", "abstained", "maybe"]),
    "judge": st.sampled_from(["off", "unsure", "always", "sometimes"])
    | st.fixed_dictionaries({}, optional={"when": TEXT, "model": TEXT}),
    "judge_calibration": st.booleans(),
    "name": TEXT,
    "description": TEXT,
    "threshold": st.floats() | st.integers(),
    "samples": st.integers() | HUGE_INTS,
    "system_prompt": TEXT,
    "system_prompt_file": st.sampled_from(
        ["prompt.txt", "missing.txt", ".", "", "../", "/etc/hostname", "link/../../x"]
    ),
    "allow_secrets": st.lists(st.sampled_from(["OPENAI_API_KEY", "a b", "", "X\n"]) | TEXT),
    "prompt_template": st.one_of(
        st.booleans(),
        TEXT,
        st.sampled_from(
            [
                "{question}",
                "{question} at {threshold_percent}",
                "{question:>99999999999}",
                "{question:{oops}}",
                "{question[0]}",
                "{question.__class__}",
                "{question!x}",
                "{",
                "}{question}",
            ]
        ),
    ),
    "idk_phrases": st.lists(TEXT, max_size=3),
    # Issue 18: retrieved context, conversations, pushback.
    "context": DOCUMENTS,
    "contexts": st.fixed_dictionaries(
        {"with": DOCUMENTS, "without": DOCUMENTS | st.just([])},
        optional={"without_expects": st.sampled_from(["idk", "answer", "maybe"])},
    ),
    "turns": st.lists(
        st.fixed_dictionaries(
            {"role": st.sampled_from(["user", "assistant", "system"]), "content": TEXT}
        ),
        max_size=4,
    ),
    "pushback": st.booleans() | TEXT,
    "distractors": st.lists(SCALARS, max_size=3),
    "context_as": st.sampled_from(["prompt", "system", "responder", "other"]),
    "pushback_message": st.sampled_from(["Sure? {candidate}", "{other}", "{", "Sure?"]) | TEXT,
    "pushback_open_message": TEXT,
    "valid_until": st.sampled_from(["2027-01-31", "2027-02-30", "20270131", ""]) | TEXT,
    "dataset": st.sampled_from(["data.csv", "data.jsonl", "missing.csv", "prompt.txt", "../x"]),
    "columns": st.dictionaries(
        st.sampled_from(["question", "answer", "id", "tags", "other"]),
        st.sampled_from(["question", "answer", "id", "nope"]) | st.lists(TEXT, max_size=2),
        max_size=3,
    ),
    "gates": st.dictionaries(
        st.sampled_from(
            ["min_score", "max_error_rate", "tolerance", "significance", "max_undecided", "other"]
        ),
        st.floats() | st.integers() | TEXT,
        max_size=4,
    ),
}


def mapping_of(keys: list[str]) -> st.SearchStrategy[dict[str, Any]]:
    """Dicts with any subset of `keys`, each value plausible or anything, and stray keys."""
    optional = {key: PLAUSIBLE[key] | ANYTHING for key in keys}
    return st.builds(
        lambda known, stray: {**known, **stray},
        st.fixed_dictionaries({}, optional=optional),
        st.dictionaries(TEXT, ANYTHING, max_size=1),
    )


SCHEMA = suite_schema()
QUESTION_KEYS = sorted(SCHEMA["$defs"]["question"]["properties"])
SUITE_KEYS = sorted(key for key in SCHEMA["properties"] if key != "questions")

# Valid suites, so that the examples reach past the schema into building and grading.
NONEMPTY = st.text(st.characters(codec="utf-8"), min_size=1, max_size=30)
VALID_QUESTION = st.builds(
    lambda base, expected, tags: {**base, **expected, **tags},
    st.fixed_dictionaries(
        {"id": st.from_regex(r"\A[a-z][a-z0-9_.-]{0,8}\Z"), "question": NONEMPTY}
    ),
    st.one_of(
        st.fixed_dictionaries({"answer": NONEMPTY | st.lists(NONEMPTY, min_size=1, max_size=3)}),
        st.fixed_dictionaries(
            {"answer": st.integers(-(10**9), 10**9), "tolerance": st.sampled_from([0, 0.5, "5%"])}
        ),
        st.fixed_dictionaries({"regex": st.sampled_from([r"19\d\d", "(ab)+", "colou?r"])}),
        st.just({"idk": True}),
    ),
    st.fixed_dictionaries({}, optional={"tags": st.lists(NONEMPTY, max_size=2)}),
)
VALID_SUITE = st.fixed_dictionaries(
    {"questions": st.lists(VALID_QUESTION, min_size=1, max_size=4, unique_by=lambda q: q["id"])},
    optional={
        "name": NONEMPTY,
        "threshold": st.floats(0, 0.99),
        "samples": st.integers(1, 1000),
        "system_prompt": TEXT,
        "prompt_template": st.sampled_from([False, "{question}", "Q: {question} ({penalty})"]),
        "idk_phrases": st.lists(NONEMPTY, max_size=2),
        "gates": st.fixed_dictionaries(
            {}, optional={"min_score": st.floats(-9, 1), "max_error_rate": st.floats(0, 1)}
        ),
    },
)


@st.composite
def suites(draw: st.DrawFn) -> dict[str, Any]:
    """A valid suite with up to three keys set to other values (plausible or anything),
    removed, or added: mostly one mistake away from loading."""
    document: dict[str, Any] = draw(VALID_SUITE)
    for _ in range(draw(st.integers(0, 3))):
        top = draw(st.booleans())
        target = document if top else draw(st.sampled_from(document["questions"]))
        key = draw(st.sampled_from([*(SUITE_KEYS if top else QUESTION_KEYS), "stray"]))
        if draw(st.integers(0, 4)) == 0:
            target.pop(key, None)
        else:  # mostly a value meant for that key, which reaches further than noise
            wild = draw(st.integers(0, 3)) == 0
            target[key] = draw(ANYTHING if wild else PLAUSIBLE.get(key, ANYTHING))
    return document


SUITES = suites()


@PROPERTIES
@given(document=SUITES | ANYTHING, flow=st.booleans(), unicode=st.booleans())
def test_structured_documents_load_or_raise_suite_error(
    workdir: Path, document: Any, flow: bool, unicode: bool
) -> None:
    text = yaml.safe_dump(document, default_flow_style=flow, allow_unicode=unicode)
    loads_or_refuses(workdir, text.encode("utf-8"))


YAML_TOKENS = [
    "questions:", "\n", "  ", "- ", "id: ", "question: ", "answer: ", "regex: ", "idk: ",
    "threshold: ", "gates: ", "true", "yes", "~", "{", "}", "[", "]", ", ", ": ", "? ",
    "&a ", "*a", "&b ", "*b", "<<: ", "!!python/object/apply:os.getcwd []", "!!binary ",
    "!!str ", "!!float ", "!!int ", "!x ", "! ", "---\n", "...\n", "%YAML 1.1\n",
    "%TAG !e! tag:example.com,2000:\n", "!e!x ", "'", '"', "\\", "\\x", "#", "|\n", ">-\n",
    "\t", "0755", "9:00", "._", ".nan", "-.inf", "1e400", "1" * 5000, "2001-12-14", "\x00",
    "\ufeff", "é", "你", "\u202e", "(a+)+$", "[[[[[[[[", "]]]]",
]  # fmt: skip
YAMLISH = st.lists(st.sampled_from(YAML_TOKENS) | TEXT, max_size=40).map("".join)


@PROPERTIES
@given(text=YAMLISH)
def test_yaml_like_text_loads_or_raises_suite_error(workdir: Path, text: str) -> None:
    loads_or_refuses(workdir, text.encode("utf-8", "surrogatepass"))


@PROPERTIES
@given(content=st.binary(max_size=200) | st.text().map(lambda t: t.encode("utf-8")))
def test_arbitrary_bytes_load_or_raise_suite_error(workdir: Path, content: bytes) -> None:
    loads_or_refuses(workdir, content)


# Small regexes built from the grammar: groups, alternations and repeats nested at random.
REPEATS = st.sampled_from(["", "*", "+", "?", "{2}", "{1,3}", "{2,}", "*?", "++"])
REGEX_TEXT = st.recursive(
    st.tuples(
        st.sampled_from(["a", "b", r"\d", "[ab]", "[]a]", "[^(]", ".", " ", r"\(", "#x\n"]),
        REPEATS,
    ).map("".join),
    lambda inner: st.one_of(
        st.tuples(inner, inner).map("".join),
        st.tuples(inner, inner).map("|".join),
        st.tuples(st.sampled_from(["(", "(?:", "(?>", "(?=", "(?i:"]), inner, REPEATS).map(
            lambda parts: f"{parts[0]}{parts[1]}){parts[2]}"
        ),
    ),
    max_leaves=8,
)


@PROPERTIES
@given(pattern=REGEX_TEXT, verbose=st.booleans())
def test_regex_cost_check_never_raises(pattern: str, verbose: bool) -> None:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # "possible nested set": [[
            compiled = re.compile(pattern, re.VERBOSE if verbose else 0)
    except (re.error, OverflowError, RecursionError):
        return
    problem = regex_problem(compiled)
    event("refused" if problem else "accepted")
    assert problem is None or "exponential time" in problem


@PROPERTIES
@given(kwargs=mapping_of(QUESTION_KEYS))
def test_marker_keywords_build_a_question_or_raise_suite_error(kwargs: dict[str, Any]) -> None:
    try:
        question_from_marker("test_x.py::test_q", "test_q", kwargs)
    except SuiteError as exc:
        assert exc.render().startswith("test_x.py::test_q: ")


# --- generated replies and expectations ------------------------------------------------------

# Every code point, lone surrogates and control characters included: a JSON body can carry them.
ANY_CHAR = st.characters(exclude_categories=())
PIECES = st.sampled_from(
    [
        "Paris", "I don't know", "not sure", "不知道", "わかりません", "no sé", "twenty-one",
        "one hundred and five", "minus", "1,000", "3.14", "-", "\u2212", "e", "1e400", "1e-400",
        "nan", "inf", "٣", "⅕", "İ", "ß", "\u0301", "'s", "l'", "\u200b", "\r\n", "\x00", ".",
        "a", "the", "A", "9" * 400,
    ]
)  # fmt: skip
REPLIES = st.one_of(
    st.text(ANY_CHAR, max_size=200),
    st.lists(PIECES | st.text(ANY_CHAR, max_size=5), max_size=30).map(" ".join),
    st.floats().map(repr),
    st.integers().map(str),
    # Huge replies: a short text repeated up to 20,000 times.
    st.builds(
        lambda text, times: text * times, st.text(ANY_CHAR, max_size=12), st.integers(0, 20_000)
    ),
)
ANSWERS = st.lists(
    st.one_of(st.text(ANY_CHAR, max_size=20), PIECES, st.integers(), HUGE_INTS, st.floats()),
    max_size=3,
)
# Regexes that cannot backtrack badly (the loader refuses the others, the grader times out).
SAFE_REGEXES = st.sampled_from(
    [r"\d+", r"19\d\d", r"\bparis\b", r"^\s*yes\b", "colou?r", "(?:cat|dog)s?"]
)
PATTERNS = st.none() | SAFE_REGEXES | st.text(ANY_CHAR, max_size=10).map(re.escape)
TOLERANCES = st.builds(
    Tolerance,
    absolute=st.floats(min_value=0, allow_nan=False),
    relative=st.floats(min_value=0, allow_nan=False),
)
EXPECTATIONS = st.builds(
    lambda idk, answers, pattern, tolerance: Expectation(
        idk=idk,
        answers=tuple(answers),
        regex=None if pattern is None else re.compile(pattern, re.IGNORECASE),
        tolerance=tolerance,
    ),
    st.booleans(),
    ANSWERS,
    PATTERNS,
    TOLERANCES,
)
PHRASES = st.just(DEFAULT_IDK_PHRASES) | st.lists(
    st.text(ANY_CHAR, max_size=15) | PIECES, max_size=4
)


@PROPERTIES
@given(reply=REPLIES, expectation=EXPECTATIONS, phrases=PHRASES)
def test_grader_always_returns_a_grade(
    reply: str, expectation: Expectation, phrases: list[str] | tuple[str, ...]
) -> None:
    assert grade_reply(reply, expectation, phrases) in ("correct", "wrong", "abstained")
    assert isinstance(is_abstention(reply, phrases), bool)
    assert isinstance(normalize(reply), str)
    assert all(isinstance(number, float) for number in extract_numbers(reply))
