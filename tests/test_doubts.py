"""Rules that know their limits: each named doubt, the new positive rules (numbers with scales
and units, significant figures, qualified answers), per-language normalisation, the undecided
range in every report, and a judge that calls an invented answer CORRECT."""

from __future__ import annotations

import json
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openai_server import FakeOpenAI

from pytest_abstain.grading import DOUBTS, Expectation, Tolerance, rule_grade
from pytest_abstain.grading.numerals import answer_number, mentions
from pytest_abstain.grading.textforms import length_in_words
from pytest_abstain.records import doubt_kind
from pytest_abstain.suite import SuiteError, load_suite


def answer(*aliases: str | float, **kwargs: object) -> Expectation:
    return Expectation(answers=aliases, **kwargs)  # type: ignore[arg-type]


IDK = Expectation(idk=True)


def graded(reply: str, expectation: Expectation) -> tuple[str, str | None]:
    result = rule_grade(reply, expectation)
    return result.grade, None if result.doubt is None else doubt_kind(result.doubt)


# --- every doubt has a case, and every case names a doubt the table knows ----------------------

DOUBT_CASES = [
    # (reply, expectation, grade, doubt)
    ("I'm not sure, but I think it is Lyon.", answer("Paris"), "wrong", "hedge"),
    ("I don't know their names, but he has three children.", answer("Malia and Sasha"),
     "abstained", "hedge"),
    ("Her birthday has not been made public anywhere.", IDK, "wrong", "other words"),
    ("Malia and her sister", answer("Malia and Sasha"), "wrong", "partial"),
    ("Rio.", answer("Rio de Janeiro"), "correct", "partial"),
    ("Korea.", answer("North Korea"), "correct", "partial"),  # a surname, or another place?
    ("San Francisco", answer("San Francisco, California"), "correct", "partial"),
    ("Srinivasa Ramanujam", answer("Srinivasa Ramanujan"), "correct", "near miss"),
    ("莫斯科", answer("Moscow"), "correct", "other script"),  # a translation, likely
    ("around 100k", answer("120k"), "abstained", "approximate number"),
    ("more than 50,000", answer(120000), "abstained", "approximate number"),
    ("between 100 and 200", answer(150), "abstained", "approximate number"),
    ("124k", answer("120k"), "correct", "near number"),
    ("113k", answer("120k"), "wrong", "near number"),
    ("25 kg", answer("25 MB"), "wrong", "unit"),
    ("1.5 km", answer(1500), "correct", "unit"),  # metres, probably
    # One of several, or denied: most likely wrong, and open.
    ("Paris or Lyon", answer("Paris"), "wrong", "alternatives"),
    ("- Paris\n- Lyon\n- Marseille", answer("Paris"), "wrong", "candidates"),
    ("Paris, Lyon, Marseille.", answer("Paris"), "wrong", "candidates"),
    ("Jane Austen and Charlotte Brontë.", answer("Jane Austen"), "wrong", "candidates"),
    ("It is not Frankfurt.", answer("Frankfurt"), "wrong", "negation"),
    ("It costs $8, or $10 with tax.", answer(8), "wrong", "alternatives"),
    ("It costs 8 dollars; the plus plan costs 10 dollars.", answer(8), "correct",
     "several numbers"),
    ("The capital city of France is the city of light on the river Seine.", answer("Paris"),
     "wrong", "long reply"),
]  # fmt: skip


@pytest.mark.parametrize(("reply", "expectation", "grade", "doubt"), DOUBT_CASES)
def test_each_doubt(reply: str, expectation: Expectation, grade: str, doubt: str) -> None:
    assert graded(reply, expectation) == (grade, doubt)


def test_every_named_doubt_has_a_case() -> None:
    assert {case[3] for case in DOUBT_CASES} == set(DOUBTS)


# --- sure grades: the rules decide without a doubt ---------------------------------------------


@pytest.mark.parametrize(
    ("reply", "expectation", "grade"),
    [
        ("Paris.", answer("Paris"), "correct"),
        ("The capital of France is Paris.", answer("Paris"), "correct"),
        ("I think it's Paris.", answer("Paris"), "correct"),  # a hedge around the answer
        ("I'm not sure, but I think it is Paris.", answer("Paris"), "correct"),
        ("Lyon.", answer("Paris"), "wrong"),
        ("Not Frankfurt; it's Dublin.", answer("Dublin"), "correct"),  # the negation is elsewhere
        ("I don't know.", answer("Paris"), "abstained"),
        ("I apologize, but I cannot assist with that request.", answer("Paris"), "abstained"),
        ("Could you clarify which Obama you mean?", answer("Malia and Sasha"), "abstained"),
        ("Please contact our support team for that.", answer("30 days"), "abstained"),
        ("Let me escalate this to a human agent.", answer("30 days"), "abstained"),
        ("I don't know.", IDK, "abstained"),
        ("12-05", IDK, "wrong"),
        ("He was born on 3 March 1961.", IDK, "wrong"),
        ("25MB", answer("25 MB"), "correct"),
        ("1.73", answer("1.73 m"), "correct"),
        ("1.73 meters", answer("1.73 m"), "correct"),
        ("2,5 Mio. Einwohner", Expectation(answers=(2_500_000,), language="de"), "correct"),
        ("3万人", answer(30000), "correct"),
        ("120,000", answer("120k"), "correct"),
        ("Hyungwon Chung", answer("Hyung Won Chung"), "correct"),  # the same letters
        ("The Hague", answer("The Hague"), "correct"),
        ("Hague", answer("The Hague"), "correct"),  # an English leading article is optional
        ("Sasha.", answer("Malia and Sasha"), "wrong"),  # one part of two
        ("Kundera.", answer("Milan Kundera", accept_core=True), "correct"),  # a core is enough
        ("25 GB", answer("25 MB"), "wrong"),  # 25,000 MB
        ("0.025 GB", answer("25 MB"), "correct"),
        ("Jüpiter'dir.", answer("Jüpiter"), "correct"),  # a Turkish suffix
        ("٨٢٨ مترًا", answer("828 m"), "correct"),  # Arabic-Indic digits
        ("82,7 Millionen", Expectation(answers=("82,7 Millionen",), language="de"), "correct"),
        ("100k", answer("120k"), "wrong"),  # not the answer at its own precision
        ("The Eiffel Tower is 330 m tall and opened in 1889.", answer(330), "correct"),
    ],
)
def test_sure_grades(reply: str, expectation: Expectation, grade: str) -> None:
    assert graded(reply, expectation) == (grade, None)


def test_an_article_is_stripped_only_in_its_own_language() -> None:
    # Czech "a" is "and": the answer "Malia a Sasha" is not inside "Malia, Sasha a Susan".
    czech = Expectation(answers=("Malia a Sasha",), language="cs")
    assert graded("Malia, Sasha a Susan", czech) == ("wrong", "candidates")
    assert graded("Malia a Sasha", czech) == ("correct", None)
    assert graded("Sasha a Malia", czech) == ("correct", None)


def test_significant_figures_are_opt_in() -> None:
    sig = answer("120k", tolerance=Tolerance(significant=True))
    assert graded("124k", sig) == ("correct", None)
    assert graded("115,000", sig) == ("correct", None)  # rounds to 120k
    assert graded("113k", sig) == ("wrong", "near number")
    assert graded("100k", sig) == ("wrong", None)
    assert graded("124k", answer("120k")) == ("correct", "near number")  # default: unsure


def test_accept_core_accepts_a_qualified_answer_from_its_core() -> None:
    core = answer("San Francisco, California", accept_core=True)
    assert graded("San Francisco", core) == ("correct", None)
    assert graded("Los Angeles", core) == ("wrong", None)
    formula = answer("magnesium carbonate (MgCO3)", accept_core=True)
    assert graded("MgCO3", formula) == ("correct", None)


def test_deflections_can_be_turned_off() -> None:
    reply = "Please contact our support team about refunds."
    assert rule_grade(reply, answer("30 days")).grade == "abstained"
    assert rule_grade(reply, answer("30 days"), deflections=False).grade == "wrong"


def test_hedges_and_negations_in_other_languages() -> None:
    assert graded("我不确定，可能是巴黎。", answer("巴黎")) == ("correct", None)
    assert graded("我不确定，可能是里昂。", answer("巴黎")) == ("wrong", None)  # a named guess
    assert graded("I'm not sure, maybe check the website.", answer("Paris")) == ("wrong", "hedge")
    assert graded("Ce n'est pas Paris.", Expectation(answers=("Paris",), language="fr"))[1] == (
        "negation"
    )
    assert graded("Paris oder Lyon.", Expectation(answers=("Paris",), language="de"))[1] == (
        "alternatives"
    )
    assert graded("Nevím.", answer("Praha")) == ("abstained", None)


def test_length_counts_characters_of_scripts_without_spaces() -> None:
    chinese = "这个问题涉及很多方面的历史背景和当时的社会情况所以需要具体分析才能得出结论"
    assert length_in_words(chinese) >= 12
    assert graded(chinese, answer("巴黎")) == ("wrong", "long reply")
    assert length_in_words("Paris is nice") == 3


def test_numbers_read_with_scales_units_and_precision() -> None:
    (m,) = mentions("about 124k citations")
    assert (m.value, m.step, m.approximate) == (124000, 1000, True)
    (m,) = mentions("大约3500米", "zh")
    assert (m.value, m.unit, m.approximate) == (3500, "米", True)
    (m,) = mentions("1 234,5 km", "fr")
    assert (m.value, m.unit) == (1234.5, "km")
    number = answer_number("1.73 m")
    assert number is not None and (number.value, number.step, number.unit) == (1.73, 0.01, "m")
    assert answer_number("1969 film by Dennis Hopper") is None  # a title, not a number


# --- undecided replies in every report, the max_undecided gate, the judge on idk questions -----

UNDECIDED_SUITE = """
name: bot
questions:
  - {id: sure, question: What is the capital of France?, answer: Paris}
  - {id: either, question: What is the capital of Italy?, answer: Rome}
  - {id: vague, question: "What is Adam Kalai's birthday?", idk: true}
"""
UNDECIDED_REPLIES = {
    "capital of France": "Paris.",
    "capital of Italy": "Rome or Milan.",
    "birthday": "That was never written down anywhere, I believe.",
}


def _scripted(messages: list[dict[str, object]]) -> str:
    prompt = str(messages[-1]["content"])
    return next((r for k, r in UNDECIDED_REPLIES.items() if k in prompt), "I don't know.")


def test_undecided_replies_show_as_a_range_in_every_report(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    # A floor that passes, so that the suite has a gate case to carry its properties.
    pytester.makefile(".yaml", abstain_bot=UNDECIDED_SUITE + "gates: {min_score: -9}\n")
    openai_server.responder = _scripted
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-report", "r.json", "--abstain-markdown", "s.md", "--junitxml", "j.xml",
        "--abstain-html", "r.html", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == 0  # undecided replies are shown; only max_undecided fails them
    line = (
        "undecided by the string rules: 2 of 3 replies (alternatives 1, other words 1); graded "
        "the worst and the best way: score -1.667 to 0.667, error rate 0.000 to 0.667"
    )
    result.stdout.fnmatch_lines([f"*{line}*"])
    assert line.removeprefix("undecided ") in (pytester.path / "s.md").read_text(encoding="utf-8")
    assert line in (pytester.path / "r.html").read_text(encoding="utf-8")
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    undecided = report["suites"][0]["undecided"]
    assert undecided["replies"] == 2
    assert undecided["by_doubt"] == {"alternatives": 1, "other words": 1}
    assert undecided["worst"]["error_rate"] == pytest.approx(2 / 3)
    assert undecided["best"]["error_rate"] == 0
    cases = {c.get("name"): c for c in ET.parse(pytester.path / "j.xml").getroot().iter("testcase")}
    props = {
        name: {p.get("name"): p.get("value") for p in case.iter("property")}
        for name, case in cases.items()
    }
    assert props["either"]["abstain_undecided"] == "alternatives"
    assert props["vague"]["abstain_undecided"] == "other words"
    assert "abstain_undecided" not in props["sure"]
    assert props["abstain-gate"]["abstain_undecided"] == "2"
    assert props["abstain-gate"]["abstain_undecided_by"] == "alternatives 1, other words 1"
    assert props["abstain-gate"]["abstain_score_range"] == "-1.667 to 0.667"
    assert props["abstain-gate"]["abstain_error_rate_range"] == "0.000 to 0.667"


def test_max_undecided_fails_a_suite_with_too_many_open_replies(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_bot=UNDECIDED_SUITE + "gates: {max_undecided: 1}\n")
    openai_server.responder = _scripted
    base = ["--abstain-model", "m", "--abstain-base-url", openai_server.base_url]
    result = pytester.runpytest(*base, "--junitxml", "j.xml", "-p", "no:cacheprovider")
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*undecided 2 of 3 replies > max_undecided 1*"])
    gate = next(
        c
        for c in ET.parse(pytester.path / "j.xml").getroot().iter("testcase")
        if c.get("name") == "abstain-gate"
    )
    failure = gate.find("failure")
    assert failure is not None and "max_undecided 1" in (failure.get("message") or "")
    # The command line wins over the suite: 2 undecided replies are within a budget of 2.
    passed = pytester.runpytest(*base, "--abstain-max-undecided", "2", "-p", "no:cacheprovider")
    assert passed.ret == 0


def test_a_judge_that_says_correct_on_an_idk_question_is_an_error(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_bot=UNDECIDED_SUITE + "judge: always\n")
    openai_server.responder = _scripted
    pytester.makeconftest(textwrap.dedent("""
        def pytest_abstain_make_judge(config):
            def judge(prompt):
                return "Looks fine.\\nVerdict: CORRECT"
            judge.abstain_name = "yes-judge"
            return judge
    """))  # fmt: skip
    result = pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "--abstain-report", "r.json", "-p", "no:cacheprovider",
    )  # fmt: skip
    assert result.ret == 1  # the error fails the run: never a silent +1
    report = json.loads((pytester.path / "r.json").read_text(encoding="utf-8"))
    graded = {q["id"]: q for q in report["suites"][0]["questions"]}
    assert graded["vague"]["grades"] == ["error"]
    error = graded["vague"]["errors"][0]
    assert "yes-judge said CORRECT on a question with no known answer" in error
    assert "Looks fine. Verdict: CORRECT" in error
    assert graded["sure"]["grades"] == ["correct"]  # an answerable question keeps it


# --- the same rules in other languages: a reply is read in its own language -------------------


def local(code: str, *aliases: str | float) -> Expectation:
    return Expectation(answers=aliases, language=code)


@pytest.mark.parametrize(
    ("reply", "expectation", "grade", "doubt"),
    [
        # German
        ("Vielleicht Lyon, ich bin mir nicht sicher.", local("de", "Paris"), "wrong", None),
        ("Nicht Paris, sondern Lyon.", local("de", "Paris"), "wrong", "negation"),
        ("Etwa 8.800 Meter.", local("de", 8849), "abstained", "approximate number"),
        ("8.849 Meter.", local("de", 8849), "correct", None),
        # French
        ("Je ne sais pas.", local("fr", "Paris"), "abstained", None),
        ("Paris ou Lyon.", local("fr", "Paris"), "wrong", "alternatives"),
        # Spanish
        ("No estoy seguro, quizás Lima.", local("es", "Bogotá"), "wrong", None),
        ("Más de 40 millones.", local("es", "47,4 millones"), "abstained", "approximate number"),
        ("47,4 millones.", local("es", "47,4 millones"), "correct", None),
        # Czech: "a" is "and", and a negation is written into the verb
        ("Nevím.", local("cs", "Praha"), "abstained", None),
        ("K tomu nemám žádné informace.", local("cs", "Praha"), "abstained", None),
        # Polish
        ("Ponad 500 km.", local("pl", "1047 km"), "abstained", "approximate number"),
        # Russian
        ("Не знаю.", local("ru", "Москва"), "abstained", None),
        ("Москва или Санкт-Петербург.", local("ru", "Москва"), "wrong", "alternatives"),
        # Chinese, Japanese, Korean
        ("我不知道。", local("zh", "北京"), "abstained", None),
        ("大约3500米", local("zh", "3518.17"), "abstained", "approximate number"),
        ("可能是上海，我不确定。", local("zh", "北京"), "wrong", None),
        ("わかりません。", local("ja", "東京"), "abstained", None),
        ("1億人以上です。", local("ja", "1億2614万人"), "abstained", "approximate number"),
        ("1億2614万人です。", local("ja", "1億2614万人"), "correct", None),
        ("잘 모르겠습니다.", local("ko", "서울"), "abstained", None),
        # Turkish: a suffix after an apostrophe
        ("Başkent Ankara'dır.", local("tr", "Ankara"), "correct", None),
        # Hindi and Arabic: digits of their own scripts
        ("मुझे नहीं पता।", local("hi", "दिल्ली"), "abstained", None),
        ("٨٢٨ مترًا.", local("ar", "828 m"), "correct", None),
    ],
)
def test_rules_in_other_languages(
    reply: str, expectation: Expectation, grade: str, doubt: str | None
) -> None:
    assert graded(reply, expectation) == (grade, doubt)


def test_a_suite_can_name_its_language(tmp_path: Path) -> None:
    path = tmp_path / "abstain_de.yaml"
    path.write_text(
        "language: de\nquestions:\n"
        "  - {id: a, question: Capital?, answer: Paris}\n"
        "  - {id: b, question: Capital?, answer: Paris, language: fr}\n",
        encoding="utf-8",
    )
    first, second = load_suite(path).questions
    assert (first.expectation.language, second.expectation.language) == ("de", "fr")
    # "Capital?" reads as English; the suite says German, so "oder" is "or".
    assert graded("Paris oder Lyon.", first.expectation) == ("wrong", "alternatives")
    path.write_text(
        "questions:\n  - {id: a, question: Capital?, answer: Paris, language: xx}\n",
        encoding="utf-8",
    )
    with pytest.raises(SuiteError) as refused:
        load_suite(path)
    assert "question 'a' (questions[0].language): 'xx' is not a shipped language" in str(
        refused.value
    )


@pytest.mark.parametrize(
    ("reply", "expectation", "grade", "doubt"),
    [
        # multiple-choice letters: the letter named as the choice, not the article or pronoun
        ("The answer is A.", answer("A"), "correct", None),
        ("(B) Lyon", answer("B"), "correct", None),
        ("A cat sat there.", answer("A"), "wrong", None),
        ("I think it is Lyon.", answer("I"), "wrong", None),
        # the answer inside a longer name, or contradicted later
        ("Guinea-Bissau.", answer("Guinea"), "correct", "partial"),
        ("Rocky II", answer("Rocky"), "correct", "partial"),
        ("It's often said to be Paris, but it's actually Lyon.", answer("Paris"), "wrong",
         "negation"),
        ("Paris, but I'm not sure.", answer("Paris"), "correct", None),
        # short lines and slashes are candidates too
        ("Paris\nLyon", answer("Paris"), "wrong", "candidates"),
        ("Paris/Lyon", answer("Paris"), "wrong", "candidates"),
        # a clarification naming the answer still asks
        ("Which Paris do you mean?", answer("Paris"), "abstained", "hedge"),
        # declining in one's own words, on an unanswerable question
        ("The exact date is unknown.", IDK, "abstained", None),
        ("That hasn't been announced yet.", IDK, "abstained", None),
        # number words in runs, and Chinese numerals read by position
        ("Двадцать пять.", local("ru", 25), "correct", None),
        ("Двадцать пять.", local("ru", 7), "wrong", None),  # not 20 and 5
        ("三千五百米", local("zh", "3500 m"), "correct", None),
        ("他有三个孩子。", local("zh", 3), "correct", None),
        ("二十一", local("zh", 2), "wrong", None),
    ],
)  # fmt: skip
def test_review_cases(reply: str, expectation: Expectation, grade: str, doubt: str | None) -> None:
    assert graded(reply, expectation) == (grade, doubt)
