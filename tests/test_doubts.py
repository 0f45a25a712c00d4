"""Rules that know their limits: each named doubt, the new positive rules (numbers with scales
and units, significant figures, qualified answers), per-language normalisation, the undecided
range in every report, and a judge that calls an invented answer CORRECT."""

from __future__ import annotations

import pytest

from pytest_abstain.grading import (
    DOUBTS,
    Expectation,
    Tolerance,
    doubt_kind,
    matches_answer,
    rule_grade,
)
from pytest_abstain.numerals import answer_number, mentions
from pytest_abstain.textforms import length_in_words


def answer(*aliases: str | float, **kwargs: object) -> Expectation:
    return Expectation(answers=aliases, **kwargs)  # type: ignore[arg-type]


IDK = Expectation(idk=True)


def graded(reply: str, expectation: Expectation) -> tuple[str, str | None]:
    result = rule_grade(reply, expectation)
    return result.grade, None if result.doubt is None else doubt_kind(result.doubt)


# --- every doubt has a case, and every case names a doubt the table knows ----------------------

DOUBT_CASES = [
    # (reply, expectation, grade, doubt)
    ("I'm not sure, but I think it is Paris.", answer("Paris"), "correct", "hedge"),
    ("I don't know their names, but he has three children.", answer("Malia and Sasha"),
     "abstained", "hedge"),
    ("Her birthday has not been made public anywhere.", IDK, "wrong", "other words"),
    ("Sasha.", answer("Malia and Sasha"), "wrong", "partial"),
    ("Rio.", answer("Rio de Janeiro"), "wrong", "partial"),
    ("San Francisco", answer("San Francisco, California"), "correct", "partial"),
    ("Srinivasa Ramanujam", answer("Srinivasa Ramanujan"), "correct", "near miss"),
    ("莫斯科", answer("Moscow"), "wrong", "other script"),
    ("around 100k", answer("120k"), "abstained", "approximate number"),
    ("more than 50,000", answer(120000), "abstained", "approximate number"),
    ("between 100 and 200", answer(150), "abstained", "approximate number"),
    ("124k", answer("120k"), "correct", "near number"),
    ("113k", answer("120k"), "wrong", "near number"),
    ("25 GB", answer("25 MB"), "wrong", "unit"),
    ("Paris or Lyon", answer("Paris"), "correct", "alternatives"),
    ("- Paris\n- Lyon\n- Marseille", answer("Paris"), "correct", "candidates"),
    ("Paris, Lyon, Marseille.", answer("Paris"), "correct", "candidates"),
    ("It is not Frankfurt.", answer("Frankfurt"), "correct", "negation"),
    ("It costs $8, or $10 with tax.", answer(8), "correct", "alternatives"),
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
        ("2,5 Mio. Einwohner", answer(2_500_000), "correct"),
        ("3万人", answer(30000), "correct"),
        ("120,000", answer("120k"), "correct"),
        ("Hyungwon Chung", answer("Hyung Won Chung"), "correct"),  # the same letters
        ("The Hague", answer("The Hague"), "correct"),
        ("Hague", answer("The Hague"), "correct"),  # an English leading article is optional
        ("The Eiffel Tower is 330 m tall and opened in 1889.", answer(330), "correct"),
    ],
)
def test_sure_grades(reply: str, expectation: Expectation, grade: str) -> None:
    assert graded(reply, expectation) == (grade, None)


def test_an_article_is_stripped_only_in_its_own_language() -> None:
    # Czech "a" is "and": the answer "Malia a Sasha" is not inside "Malia, Sasha a Susan".
    assert not matches_answer("Malia, Sasha a Susan", answer("Malia a Sasha"))
    assert matches_answer("Malia a Sasha", answer("Malia a Sasha"))


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
    assert graded("我不确定，可能是巴黎。", answer("巴黎"))[1] == "hedge"
    assert graded("Ce n'est pas Paris.", answer("Paris"))[1] == "negation"
    assert graded("Paris oder Lyon.", answer("Paris"))[1] == "alternatives"
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
    assert answer_number("1969 film") is None  # a title, not a number with a unit
