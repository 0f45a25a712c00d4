"""Facts that expire: valid_until against the run's day (--abstain-today in every test, never
the real date), the --abstain-expired policy, and the summary and JSON report naming stale and
expiring questions."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import date
from pathlib import Path

import jsonschema
import pytest
from openai_server import FakeOpenAI, last_user_message

from pytest_abstain.expiry import date_problem, dated, freshness, run_day
from pytest_abstain.render.expiry import SHOWN, by_suite, expiry_lines
from pytest_abstain.render.json_report import report_schema
from pytest_abstain.suite import Question, SuiteError, load_suite, question_from_marker

SUITE = """
name: facts
questions:
  - id: ceo
    question: Who is the CEO of Examplecorp?
    answer: Alice
    valid_until: 2027-01-31
  - id: price
    question: What does the basic plan cost?
    answer: "$10"
    valid_until: 2027-02-20
  - id: capital
    question: What is the capital of France?
    answer: Paris
    valid_until: 2030-12-31
  - id: symbol
    question: What is the chemical symbol for gold?
    answer: Au
"""
REPLIES = {"CEO": "Alice.", "basic plan": "$10.", "France": "Paris.", "gold": "Au."}
#: The day after the CEO's valid_until: it is stale, the price expires in 19 days.
DAY = "2027-02-01"


def question(valid_until: str | None) -> Question:
    data = {"question": "Who is the CEO?", "answer": "Alice"}
    if valid_until is not None:
        data["valid_until"] = valid_until
    return question_from_marker("t", "ceo", data)


# -- the pure rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "fine"),
    [("2027-01-31", True), ("2027-02-30", False), ("20270131", False), ("2027-1-31", False)],
)
def test_a_date_is_a_real_day_written_yyyy_mm_dd(value: str, fine: bool) -> None:
    assert (date_problem(value) is None) is fine


def test_stale_from_the_day_after_valid_until_and_expiring_within_30_days() -> None:
    q = question("2027-01-31")
    last_day = freshness(q, date(2027, 1, 31))
    assert last_day is not None and not last_day.stale and last_day.expiring
    after = freshness(q, date(2027, 2, 1))
    assert after is not None and after.stale and after.days_left == -1
    early = freshness(q, date(2027, 1, 1))
    assert early is not None and early.expiring and early.days_left == 30
    far = freshness(q, date(2026, 12, 1))
    assert far is not None and not far.expiring and not far.stale
    assert freshness(question(None), date(2027, 2, 1)) is None


@pytest.mark.parametrize("policy", ["keep", "idk", "skip"])
def test_each_policy_on_a_stale_question(policy: str) -> None:
    found = dated(question("2027-01-31"), "abstain_x.yaml", date(2027, 2, 1), policy)
    assert found.stale and found.note is not None
    assert found.note["state"] == "stale" and found.note["action"] == policy
    assert (found.skip is not None) is (policy == "skip")
    assert found.question.expectation.idk is (policy == "idk")
    assert found.question.expected == (() if policy == "idk" else ("Alice",))


def test_a_fresh_question_is_left_alone_and_an_expiring_one_only_noted() -> None:
    q = question("2027-01-31")
    fresh = dated(q, "s", date(2026, 1, 1), "skip")
    assert fresh.question is q and fresh.note is None and fresh.skip is None
    soon = dated(q, "s", date(2027, 1, 20), "skip")
    assert soon.question is q and soon.skip is None and not soon.stale
    assert soon.note is not None and soon.note["state"] == "expiring"
    assert soon.note["days_left"] == 11


def test_the_run_day_is_the_given_one() -> None:
    assert run_day("2027-02-01") == date(2027, 2, 1)


def test_a_suite_level_valid_until_is_every_question_s_default(tmp_path: Path) -> None:
    path = tmp_path / "abstain_x.yaml"
    path.write_text(
        "valid_until: 2027-01-31\nquestions:\n"
        "  - {id: a, question: A?, answer: a}\n"
        "  - {id: b, question: B?, answer: b, valid_until: 2028-01-01}\n",
        encoding="utf-8",
    )
    assert [q.valid_until for q in load_suite(path).questions] == ["2027-01-31", "2028-01-01"]
    path.write_text("valid_until: 2027-02-30\nquestions: [{id: a, question: A?, answer: a}]\n")
    with pytest.raises(SuiteError, match="valid_until: '2027-02-30' is not a date"):
        load_suite(path)


# -- end to end --------------------------------------------------------------------------


def run(
    pytester: pytest.Pytester, server: FakeOpenAI, *extra: str
) -> tuple[pytest.RunResult, dict[str, object]]:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-today", DAY, "--abstain-report", str(report), "-rs", "-p", "no:xdist", *extra,
    )  # fmt: skip
    data = json.loads(report.read_text(encoding="utf-8")) if report.exists() else {}
    if data:
        jsonschema.validate(data, report_schema())
    return result, data


@pytest.fixture
def facts(pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str) -> FakeOpenAI:
    pytester.makefile(".yaml", abstain_facts=SUITE)
    openai_server.replies = dict(REPLIES)
    return openai_server


def questions_of(report: dict[str, object]) -> dict[str, dict[str, object]]:
    suites = report["suites"]
    assert isinstance(suites, list)
    return {q["id"]: q for suite in suites for q in suite["questions"]}


def test_keep_grades_a_stale_question_as_written_and_names_it(
    pytester: pytest.Pytester, facts: FakeOpenAI
) -> None:
    result, report = run(
        pytester, facts, "--junitxml", "out.xml", "--abstain-markdown", "s.md",
        "--abstain-html", "r.html",
    )  # fmt: skip
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "out.xml").iter("testcase")}
    shown = {p.get("name"): p.get("value") for p in cases["ceo"].iter("property")}
    assert json.loads(shown["abstain_expiry"] or "{}")["state"] == "stale"
    assert "abstain_expiry" not in {p.get("name") for p in cases["capital"].iter("property")}
    result.stdout.fnmatch_lines(
        [
            "*abstain: facts that expire (valid_until)*",
            "abstain_facts.yaml",
            "  stale, past valid_until (1)*",
            "    ceo: valid until 2027-01-31, graded as written",
            "  expiring within 30 days (1):",
            "    price: valid until 2027-02-20 (19 days left)",
        ]
    )
    assert "capital:" not in result.stdout.str().split("facts that expire")[1]
    by_id = questions_of(report)
    assert by_id["ceo"]["stale"] is True and by_id["ceo"]["grade"] == "correct"
    assert by_id["price"]["stale"] is False and by_id["price"]["valid_until"] == "2027-02-20"
    assert by_id["symbol"]["valid_until"] is None
    assert report["expiry"] == {
        "abstain_facts.yaml": [
            {"id": "ceo", "valid_until": "2027-01-31", "days_left": -1, "state": "stale",
             "action": "keep"},
            {"id": "price", "valid_until": "2027-02-20", "days_left": 19, "state": "expiring",
             "action": "keep"},
        ]
    }  # fmt: skip
    # The Markdown summary (a PR comment) and the HTML report list them too.
    markdown = (pytester.path / "s.md").read_text(encoding="utf-8")
    section = markdown.split("### Facts that expire (valid_until)")[1]
    assert "  - ceo: valid until 2027-01-31, graded as written" in section
    assert "  - price: valid until 2027-02-20 (19 days left)" in section
    html = (pytester.path / "r.html").read_text(encoding="utf-8")
    assert "<h2>Facts that expire (valid_until)</h2>" in html
    assert "<li>ceo: valid until 2027-01-31, graded as written</li>" in html
    assert result.ret == 0


def test_idk_expects_i_dont_know_from_a_stale_question(
    pytester: pytest.Pytester, facts: FakeOpenAI
) -> None:
    result, report = run(pytester, facts, "--abstain-expired", "idk")
    by_id = questions_of(report)
    # The old answer is now a made-up one: no answer is known any more.
    assert by_id["ceo"]["idk"] is True and by_id["ceo"]["expected"] == []
    assert by_id["ceo"]["grade"] == "wrong"
    assert by_id["price"]["idk"] is False and by_id["price"]["grade"] == "correct"
    result.stdout.fnmatch_lines(["    ceo: valid until 2027-01-31, asked expecting 'I don't know'"])


def test_skip_never_asks_a_stale_question_and_says_why(
    pytester: pytest.Pytester, facts: FakeOpenAI
) -> None:
    result, report = run(pytester, facts, "--abstain-expired", "skip")
    asked = [last_user_message(r["messages"]) for r in facts.requests]
    assert len(asked) == 3 and not any("CEO" in text for text in asked)
    result.stdout.fnmatch_lines(
        [
            "    ceo: valid until 2027-01-31, skipped",
            "SKIPPED*stale: 'ceo' is valid until 2027-01-31, and the run's day is later "
            "(--abstain-expired=skip)",
        ]
    )
    assert "ceo" not in questions_of(report)
    assert report["expiry"]["abstain_facts.yaml"][0]["action"] == "skip"  # type: ignore[index]
    assert result.parseoutcomes()["skipped"] == 1


def test_before_any_date_nothing_is_stale_or_listed(
    pytester: pytest.Pytester, facts: FakeOpenAI
) -> None:
    report = pytester.path / "report.json"
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", facts.base_url, "--abstain-today",
        "2026-06-01", "--abstain-expired", "skip", "--abstain-report", str(report),
        "-p", "no:xdist",
    )  # fmt: skip
    assert "facts that expire" not in result.stdout.str()
    data = json.loads(report.read_text(encoding="utf-8"))
    assert "expiry" not in data and len(facts.requests) == 4


def test_a_marked_question_expires_too(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makepyfile(
        """
        import pytest

        @pytest.mark.abstain("Who is the CEO of Examplecorp?", answer="Alice",
                             valid_until="2027-01-31")
        def test_ceo(abstain_result):
            pass
        """
    )
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-today", DAY, "--abstain-expired", "skip", "-rs", "-p", "no:xdist",
    )  # fmt: skip
    result.stdout.fnmatch_lines(["SKIPPED*stale: 'test_ceo' is valid until 2027-01-31*"])
    assert openai_server.requests == []


def test_a_stale_question_skipped_on_an_xdist_worker_reaches_the_summary(
    pytester: pytest.Pytester, facts: FakeOpenAI
) -> None:
    pytest.importorskip("xdist")
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", facts.base_url, "--abstain-today",
        DAY, "--abstain-expired", "skip", "-n", "2",
    )  # fmt: skip
    result.stdout.fnmatch_lines(
        ["*facts that expire*", "    ceo: valid until 2027-01-31, skipped", "*price*19 days*"]
    )


@pytest.mark.parametrize(
    ("option", "value", "expected"),
    [
        ("--abstain-expired", "later", "must be one of keep, idk, skip"),
        ("--abstain-today", "2027-02-30", "must be a day of the calendar written YYYY-MM-DD"),
    ],
)
def test_bad_option_values_are_usage_errors(
    pytester: pytest.Pytester, option: str, value: str, expected: str
) -> None:
    result = pytester.runpytest(option, value, "-p", "no:xdist")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{option}: {expected}*"])


def test_the_listing_names_each_question_once_and_cuts_long_lists() -> None:
    def note(qid: str, days: int, state: str = "expiring") -> dict[str, object]:
        return {"suite": "abstain_x.yaml", "id": qid, "valid_until": f"2027-03-{days:02d}",
                "days_left": days, "state": state, "action": "keep"}  # fmt: skip

    # The same question asked by two models (or at two t) is one entry.
    notes = [note("a", 5), note("a", 5), note("old", -1, "stale")]
    grouped = by_suite(notes)
    assert [e["id"] for e in grouped["abstain_x.yaml"]] == ["old", "a"]
    many = [note(f"q{i:02d}", i + 1) for i in range(SHOWN + 3)]
    lines = [text for text, _ in expiry_lines(many)]
    assert f"  expiring within 30 days ({SHOWN + 3}):" in lines
    assert "    ... and 3 more (-v shows all)" in lines
    assert len([t for t, _ in expiry_lines(many, verbosity=1) if t.startswith("    q")]) == 13
