"""Reply grading: normalisation, aliases, numbers, regex and abstention phrases."""

from __future__ import annotations

import dataclasses
import re
import signal
import typing
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_abstain.grading import (
    DEFAULT_IDK_PHRASES,
    Expectation,
    Tolerance,
    bounded_search,
    extract_numbers,
    grade_reply,
    is_abstention,
    matches_answer,
    normalize,
    rule_grade,
)
from pytest_abstain.records import GRADES, Counts, Grade
from pytest_abstain.schema import load_schema


def answer(*aliases: str | float, tolerance: Tolerance | None = None) -> Expectation:
    return Expectation(answers=aliases, tolerance=tolerance or Tolerance())


# --- normalize -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Paris", "paris"),
        ("PARIS", "paris"),
        ("Paris.", "paris"),
        ("  Paris \n\t is   nice ", "paris is nice"),
        ("São Paulo", "sao paulo"),
        ("sé", "se"),
        ("Nguyễn", "nguyen"),
        ("İstanbul", "istanbul"),
        ("weiß", "weiss"),
        ("STRASSE Straße", "strasse strasse"),
        ("ＰＡＲＩＳ　１２", "paris 12"),  # fullwidth forms, ideographic space
        ("ﬁne", "fine"),  # ligature
        ("don't", "dont"),
        ("don’t", "dont"),
        ("I‘m", "im"),
        ("rock`n", "rockn"),
        ("doesnʼt", "doesnt"),
        ("new-york, city!", "new york city"),
        ("x_y/z", "x y z"),
        ("(a) [b] {c}", "a b c"),  # articles are kept: Czech "a" is "and"
        ("price: $5 + 10%", "price 5 10"),
        ("The Eiffel Tower", "the eiffel tower"),
        ("a cat and an owl saw the moon", "a cat and an owl saw the moon"),
        ("theatre, another, anthem", "theatre another anthem"),
        ("1.5", "1.5"),
        ("It is 1.5.", "it is 1.5"),
        ("v1.2.3", "v1.2.3"),
        ("Mr. Smith", "mr smith"),
        ("3,000", "3000"),
        ("1,234,567.89", "1234567.89"),
        ("1,2,3", "1 2 3"),
        ("12,34", "12 34"),
        ("東京は日本の首都です。", "東京は日本の首都です"),
        ("「北京」", "北京"),
        ("がっこう", "がっこう"),  # kana voicing marks are not accents
        ("", ""),
        ("?!...", ""),
    ],
)
def test_normalize(text: str, expected: str) -> None:
    assert normalize(text) == expected


def test_normalize_is_idempotent() -> None:
    once = normalize("The São-Paulo's  3,000 inhabitants, roughly 1.5%.")
    assert once == "the sao paulos 3000 inhabitants roughly 1.5"
    assert normalize(once) == once


# --- text aliases ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reply", "aliases"),
    [
        ("The capital is Paris.", ("Paris",)),
        ("paris", ("PARIS",)),
        ("It is São Paulo.", ("Sao Paulo",)),
        ("It is Sao Paulo.", ("São Paulo",)),
        ("it's new-york city", ("New York City",)),
        ("New York City, of course.", ("new york city",)),
        ("The Hague", ("Hague",)),
        ("Den Haag", ("The Hague", "Den Haag")),
        ("I'd say Lyon... no, Marseille", ("Marseille", "Marseilles")),
        ("Paris's museums", ("Paris",)),  # possessive
        ("C'est l'Italie.", ("Italie",)),  # French elision
        ("Il s'agit d'Italie", ("Italie",)),
        ("He was Shaquille O'Neal", ("O'Neal",)),
        ("He was Shaquille O’Neal", ("ONeal",)),
        ("首都は東京です。", ("東京",)),  # no spaces in Japanese
        ("中国的首都是北京", ("北京市", "北京")),
        ("答案是Paris。", ("Paris",)),  # Latin word bounded by CJK characters
        ("The answer: Straße", ("strasse",)),
        ("A", ("A",)),  # multiple-choice letter that is also an article
        ("(B).", ("B",)),
    ],
)
def test_text_alias_matches(reply: str, aliases: tuple[str, ...]) -> None:
    assert matches_answer(reply, answer(*aliases))


@pytest.mark.parametrize(
    ("reply", "aliases"),
    [
        ("He is Parisian.", ("Paris",)),
        ("Comparison", ("Paris",)),
        ("Lyon", ("Paris",)),
        ("York", ("New York City",)),
        ("New York", ("New York City",)),
        ("city of new york", ("New York City",)),
        ("It is Brien", ("O'Brien",)),
        ("The capital is Lyon.", ("Paris", "Marseille")),
        ("首都は大阪です", ("東京",)),
        ("It's a city.", ("A",)),  # the article is not answer A
        ("The answer is B.", ("A",)),
        ("I'd say B", ("D",)),  # the "d" of "I'd" is not answer D
        ("Paris", ("!!!",)),  # an alias that normalises to nothing never matches
        ("", ("Paris",)),
    ],
)
def test_text_alias_rejects(reply: str, aliases: tuple[str, ...]) -> None:
    assert not matches_answer(reply, answer(*aliases))


def test_no_answers_and_no_regex_never_matches() -> None:
    assert not matches_answer("Paris", Expectation())


# --- numbers ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3", [3.0]),
        ("-2", [-2.0]),
        ("−2", [-2.0]),  # Unicode minus sign
        ("it is -2 degrees", [-2.0]),
        ("1.0", [1.0]),
        ("3.14159", [3.14159]),
        ("3,000", [3000.0]),
        ("1,234,567.5", [1234567.5]),
        ("1.5e3", [1500.0]),
        ("2E-3", [0.002]),
        ("about 42.", [42.0]),
        ("COVID-19", [19.0]),
        ("1990-2000", [1990.0, 2000.0]),
        ("5-3", [5.0, 3.0]),
        ("1,2,3", [1.0, 2.0, 3.0]),
        ("答案是42", [42.0]),
        ("４２", [42.0]),
        ("zero", [0.0]),
        ("seven", [7.0]),
        ("Thirteen", [13.0]),
        ("twenty", [20.0]),
        ("twenty-one", [21.0]),
        ("twenty one", [21.0]),
        ("Ninety-Nine", [99.0]),
        ("a hundred", [100.0]),
        ("one hundred", [100.0]),
        ("two hundred and five", [205.0]),
        ("nineteen hundred", [1900.0]),
        ("three thousand", [3000.0]),
        ("a thousand and one nights", [1001.0]),
        ("one thousand five hundred and twelve", [1512.0]),
        ("five hundred thousand", [500000.0]),
        ("three million two hundred thousand", [3200000.0]),
        ("minus five", [-5.0]),
        ("one, two, three", [1.0, 2.0, 3.0]),
        ("nineteen eighty-four", [19.0, 84.0]),
        ("2.1 million people", [2100000.0]),  # one number, with its scale
        ("between 3 and seven", [3.0, 7.0]),
        ("someone alone at the station", []),
        ("no numbers here", []),
        ("", []),
    ],
)
def test_extract_numbers(text: str, expected: list[float]) -> None:
    assert extract_numbers(text) == pytest.approx(expected)


@pytest.mark.parametrize(
    ("reply", "number"),
    [
        ("42", 42),
        ("The answer is 42.", 42),
        ("forty-two", 42),
        ("It is 1.0", 1),
        ("It is 1", 1.0),
        ("3,000 metres", 3000),
        ("three thousand", 3000.0),
        ("It is -40 degrees", -40),
        ("minus forty", -40),
        ("0.5", 0.5),
        ("Roughly 10 or 12", 12),  # any number in the reply may match
    ],
)
def test_numeric_answer_matches(reply: str, number: float) -> None:
    assert matches_answer(reply, answer(number))


@pytest.mark.parametrize(
    ("reply", "number"),
    [
        ("43", 42),
        ("4.2", 42),
        ("420", 42),
        ("40", -40),
        ("forty", -40),
        ("The answer is unknowable", 42),
        ("1.01", 1),
    ],
)
def test_numeric_answer_rejects(reply: str, number: float) -> None:
    assert not matches_answer(reply, answer(number))


@pytest.mark.parametrize(
    ("reply", "alias", "matches"),
    [
        ("one", "1", True),
        ("It is 1.0", "1", True),
        ("3,000", "3000", True),
        ("three thousand", "3,000", True),
        ("minus two", "-2", True),
        ("2", "-2", False),
        ("1.01", "1", False),
        ("1984", "1984", True),
        ("nineteen eighty-four", "1984", False),
    ],
)
def test_text_alias_that_is_a_number_is_compared_numerically(
    reply: str, alias: str, matches: bool
) -> None:
    assert matches_answer(reply, answer(alias)) is matches


def test_text_number_alias_ignores_the_tolerance() -> None:
    loose = Tolerance(absolute=5)
    assert matches_answer("103", answer(100, tolerance=loose))
    assert not matches_answer("103", answer("100", tolerance=loose))


@pytest.mark.parametrize(
    ("tolerance", "value", "expected", "allowed"),
    [
        (Tolerance(), 5.0, 5.0, True),
        (Tolerance(), 5.001, 5.0, False),
        (Tolerance(), 0.1 + 0.2, 0.3, True),  # float rounding
        (Tolerance(absolute=0.5), 5.5, 5.0, True),
        (Tolerance(absolute=0.5), 4.5, 5.0, True),
        (Tolerance(absolute=0.5), 5.51, 5.0, False),
        (Tolerance(absolute=0.1), 1.1, 1.0, True),  # 1.1 - 1.0 > 0.1 in binary floats
        (Tolerance(relative=0.02), 102.0, 100.0, True),
        (Tolerance(relative=0.02), 98.0, 100.0, True),
        (Tolerance(relative=0.02), 102.1, 100.0, False),
        (Tolerance(relative=0.02), -102.0, -100.0, True),  # relative to |expected|
        (Tolerance(relative=0.02), -103.0, -100.0, False),
        (Tolerance(relative=0.02), 100.0, -100.0, False),
        (Tolerance(absolute=1.0), -2.5, -2.0, True),
        (Tolerance(absolute=1.0, relative=0.5), 14.0, 10.0, True),  # the wider bound wins
        (Tolerance(absolute=5.0, relative=0.01), 104.0, 100.0, True),
        (Tolerance(absolute=1.0, relative=0.01), 103.0, 100.0, False),
        (Tolerance(relative=0.5), 0.0001, 0.0, False),  # relative to zero is exact
    ],
)
def test_tolerance_allows(
    tolerance: Tolerance, value: float, expected: float, allowed: bool
) -> None:
    assert tolerance.allows(value, expected) is allowed


@pytest.mark.parametrize(
    "kwargs", [{"absolute": -1.0}, {"relative": -0.1}, {"relative": float("nan")}]
)
def test_tolerance_rejects_negative_or_nan(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="tolerance"):
        Tolerance(absolute=kwargs.get("absolute", 0.0), relative=kwargs.get("relative", 0.0))


@pytest.mark.parametrize(
    ("reply", "tolerance", "matches"),
    [
        # "about" makes a number an estimate: found, but not surely (see the doubt tests).
        ("about 8,849 metres", Tolerance(absolute=10), False),
        ("8,849 metres", Tolerance(absolute=10), True),
        ("8,860 metres", Tolerance(absolute=10), False),
        ("8,900 metres", Tolerance(relative=0.01), True),
        ("9,000 metres", Tolerance(relative=0.01), False),
        ("8.8 thousand metres", Tolerance(relative=0.01), True),
        ("eight thousand eight hundred and fifty", Tolerance(absolute=1), True),
    ],
)
def test_numeric_answer_with_tolerance(reply: str, tolerance: Tolerance, matches: bool) -> None:
    assert matches_answer(reply, answer(8849, tolerance=tolerance)) is matches


@pytest.mark.parametrize("flag", [True, False])
def test_a_bool_is_never_a_number(flag: bool) -> None:
    as_number = "1" if flag else "0"
    assert not matches_answer(as_number, answer(flag))
    assert not matches_answer(f"It is {as_number}.0", answer(flag))
    assert matches_answer(f"That is {str(flag).lower()}.", answer(flag))


# --- regex -----------------------------------------------------------------------------------


def test_regex_matches() -> None:
    expectation = Expectation(regex=re.compile(r"\b(19|20)\d\d\b"))
    assert matches_answer("It happened in 1969.", expectation)
    assert not matches_answer("It happened in 1869.", expectation)


def test_regex_sees_nfkc_text_and_leaves_flags_to_the_caller() -> None:
    # Fullwidth "１９６９" reads as "1969" after NFKC.
    assert matches_answer("１９６９年", Expectation(regex=re.compile(r"1969")))
    assert not matches_answer("APOLLO", Expectation(regex=re.compile(r"apollo")))
    assert matches_answer("APOLLO", Expectation(regex=re.compile(r"apollo", re.IGNORECASE)))


def test_regex_or_alias_is_enough() -> None:
    expectation = Expectation(answers=("Armstrong",), regex=re.compile(r"Neil\s+A\."))
    assert matches_answer("Neil A. was first", expectation)
    assert matches_answer("Armstrong was first", expectation)
    assert not matches_answer("Aldrin was first", expectation)


# --- abstention ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        # English
        "I don't know.",
        "I do not know the answer to that.",
        "Honestly? Don't know.",
        "I'm not sure.",
        "I am not sure about this one.",
        "I’m uncertain.",
        "I cannot answer that reliably.",
        "I'm unable to determine the exact date.",
        "I don't have enough information to answer.",
        "There is no reliable information on this.",
        "I have no way of knowing that.",
        "The exact figure cannot be determined.",
        "No idea, sorry.",
        "IDK",
        "I can't say.",
        "I'm not certain.",
        "That is unknown to me.",
        "This information is not publicly available.",
        # Chinese
        "我不知道。",
        "这个问题我不清楚。",
        "无法确定。",
        "我不确定答案。",
        # Spanish
        "No lo sé.",
        "Lo siento, no sé.",
        "No estoy seguro.",
        "Desconozco la respuesta.",
        "No tengo información sobre eso.",
        # French
        "Je ne sais pas.",
        "Je ne suis pas sûr.",
        "Je ne suis pas sure.",  # accents are optional
        "Aucune idée.",
        "Je l'ignore.",
        "Je n’en sais rien.",
        # German
        "Ich weiß nicht.",
        "Das weiß ich nicht.",
        "Ich bin mir nicht sicher.",
        "Keine Ahnung!",
        "Ich weiss es nicht.",  # Swiss spelling
        # Japanese
        "わかりません。",
        "すみません、分かりません。",
    ],
)
def test_default_phrases_detect_abstention(reply: str) -> None:
    assert is_abstention(reply)


@pytest.mark.parametrize(
    "reply",
    [
        "Paris.",
        "The capital is Paris.",
        "Paris is not unknown to anyone.",
        "The author is unknown.",  # a plausible answer, not the model abstaining
        "No.",
        "No, it is Lyon.",
        "Yes, I know: it is Paris.",
        "I know it is Paris.",
        "I am sure it is Paris.",
        "Many people don't know that the capital is Canberra.",
        "The knowledge is not surely lost.",
        "Niemand bezweifelt das: Berlin.",
        "No se encuentra en Italia, sino en Francia.",  # "no se" is not "no sé"
        "海森堡提出了不确定性原理。",  # 不确定性 is "uncertainty", a topic
        "Die Antwort ist: weiß.",
        "",
    ],
)
def test_default_phrases_leave_answers_alone(reply: str) -> None:
    assert not is_abstention(reply)


def test_default_phrases_cover_every_required_language() -> None:
    normalised = {normalize(phrase) for phrase in DEFAULT_IDK_PHRASES}
    for phrase in ("i dont know", "不知道", "no lo se", "je ne sais pas", "ich weiss nicht"):
        assert phrase in normalised
    assert "unknown" not in normalised
    assert "no" not in normalised


def test_custom_phrase_is_detected_only_when_passed() -> None:
    reply = "Search me, honestly."
    assert not is_abstention(reply)
    assert is_abstention(reply, ["search me"])
    assert is_abstention(reply, (*DEFAULT_IDK_PHRASES, "Search me!"))
    assert not is_abstention("I don't know.", ["search me"])  # a custom list replaces defaults


def test_custom_phrases_are_whole_words_and_cjk_substrings() -> None:
    assert not is_abstention("It searches measles", ["search me"])
    assert is_abstention("这个嘛说不好啊", ["说不好"])
    assert not is_abstention("anything", ["", "?!"])  # phrases that normalise to nothing


def test_phrase_list_can_be_any_sequence() -> None:
    phrases = ["pass on this one"]
    assert is_abstention("I'll pass on this one.", phrases)
    assert is_abstention("I'll pass on this one.", tuple(phrases))


# --- grade_reply -----------------------------------------------------------------------------


def test_every_published_place_names_the_same_grades() -> None:
    # The grades the code knows are the ones the reports, baselines and suites declare: a
    # grade added or renamed on one side only breaks every reader of the other.
    assert typing.get_args(Grade) == GRADES
    assert [f.name for f in dataclasses.fields(Counts)] == list(GRADES)
    report = load_schema("report")["$defs"]
    assert report["grade"]["enum"] == list(GRADES)
    assert report["counts"]["required"] == list(GRADES)
    graded = [g for g in GRADES if g != "error"]  # what a person or a baseline can count
    assert report["gradeCounts"]["required"] == graded
    assert load_schema("baseline")["$defs"]["question"]["required"] == graded
    assert load_schema("suite")["$defs"]["question"]["properties"]["verdict"]["enum"] == graded


PARIS = answer("Paris")
IDK = Expectation(idk=True)


@pytest.mark.parametrize(
    ("reply", "expectation", "grade"),
    [
        ("Paris", PARIS, "correct"),
        ("The capital of France is Paris.", PARIS, "correct"),
        ("Lyon", PARIS, "wrong"),
        ("Parisian cafés", PARIS, "wrong"),
        ("I don't know.", PARIS, "abstained"),
        # A hedged right answer counts (SimpleQA's rubric); the rules flag it as a hedge.
        ("I don't know, but maybe Paris", PARIS, "correct"),
        ("Paris, but I'm not sure.", PARIS, "correct"),
        ("No lo sé, quizás París", PARIS, "correct"),
        ("I don't know.", IDK, "abstained"),
        ("不知道", IDK, "abstained"),
        # A guess is an attempt; the reply is read in its (German) question's language.
        ("Keine Ahnung, vielleicht 1923", Expectation(idk=True, language="de"), "wrong"),
        ("Paris", IDK, "wrong"),  # nothing is known, so any answer is made up
        ("It was John Smith in 1923.", IDK, "wrong"),
        ("The author is unknown.", IDK, "abstained"),  # declines in its own words
        ("Forty-two", answer(42), "correct"),
        ("43", answer(42), "wrong"),
        ("I'm not sure, maybe 42", answer(42), "correct"),
        ("I'm not sure, maybe 41", answer(42), "abstained"),
        ("", PARIS, "wrong"),
    ],
)
def test_grade_reply(reply: str, expectation: Expectation, grade: str) -> None:
    assert grade_reply(reply, expectation) == grade


def test_grade_reply_uses_the_given_phrases() -> None:
    assert grade_reply("Search me. Paris?", PARIS) == "correct"
    assert grade_reply("Search me. Lyon?", PARIS) == "wrong"
    assert grade_reply("Search me. Lyon?", PARIS, ["search me"]) == "abstained"
    assert grade_reply("Search me.", IDK) == "wrong"
    assert grade_reply("Search me.", IDK, ("search me",)) == "abstained"


def test_unknown_can_be_an_answer() -> None:
    # "unknown" is no abstention phrase, so a question whose answer is "unknown" is gradable.
    expectation = answer("unknown")
    assert grade_reply("The author is unknown.", expectation) == "correct"
    assert grade_reply("It is known: Homer.", expectation) == "wrong"


#: Replies from pieces that steer the rules: answers, abstentions, hedges, numbers, noise.
REPLY_PIECES = st.sampled_from(
    ["Paris", "Lyon", "42", "forty-two", "41.9", "I don't know", "not sure", "maybe", "but",
     "Many people don't know that", "No lo sé", "不知道", "or", "not", "?", ".", ","]
)  # fmt: skip
REPLIES = st.one_of(st.text(max_size=80), st.lists(REPLY_PIECES, max_size=8).map(" ".join))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reply=REPLIES, expectation=st.sampled_from([PARIS, IDK, answer(42), Expectation()]))
def test_a_reply_is_graded_correct_wrong_or_abstained_and_no_idk_reply_is_correct(
    reply: str, expectation: Expectation
) -> None:
    # "error" means no reply (or no grade) at all: a reply the rules read is never one; and
    # a question nobody can answer is never answered correctly, whatever the reply says.
    graded = rule_grade(reply, expectation)
    assert graded.grade in ("correct", "wrong", "abstained")
    assert grade_reply(reply, expectation) == graded.grade
    if expectation.idk:
        assert graded.grade != "correct"


# --- abstentions seen from real models, and look-alikes that are answers ----------------------


@pytest.mark.parametrize(
    "reply",
    [
        "I'm unsure.",
        "His birthday is not publicly known.",
        "I'm sorry, but I don't have that information.",
        "I couldn't find any information about that.",
        "I'm not aware of any such protocol.",
        "I cannot provide personal information about private individuals.",
        "No tengo idea.",
        "Weiß ich leider nicht.",
        "Je n'ai pas cette information.",
        "抱歉，我没有这方面的信息。",
        "我没有相关信息",
    ],
)
def test_real_abstentions_are_abstained(reply: str) -> None:
    assert grade_reply(reply, IDK) == "abstained"


@pytest.mark.parametrize(
    "reply",
    [
        "Paris. Let me know if you are not sure about anything else.",
        "Paris! I can't say enough good things about it.",
    ],
)
def test_answers_that_merely_contain_idk_words_are_graded_as_answers(reply: str) -> None:
    assert grade_reply(reply, answer("Paris")) == "correct"


def test_a_bare_unknown_abstains_but_not_inside_a_sentence() -> None:
    assert is_abstention("Unknown.")
    assert not is_abstention("The author is unknown to most readers, but it is Homer.")


def test_only_the_caller_turns_the_regex_deadline_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """Grading without `search=` never touches SIGALRM, whether or not someone owns it: a
    process or plugin that set a handler keeps it, and a library caller never has a timer set
    under it. The deadline runs only where the caller passes bounded_search."""
    if signal.getitimer(signal.ITIMER_REAL) != (0.0, 0.0):
        pytest.skip("a timer of this process is running (pytest-timeout?): SIGALRM is not ours")
    calls: list[str] = []
    real_signal, real_setitimer = signal.signal, signal.setitimer

    def recorded_signal(signum: int, handler: Any) -> Any:
        calls.append("signal")
        return real_signal(signum, handler)

    def recorded_setitimer(which: int, seconds: float, interval: float = 0.0) -> Any:
        calls.append("setitimer")
        return real_setitimer(which, seconds, interval)

    def owners_handler(signum: int, frame: object) -> None:
        raise AssertionError("the alarm rang")

    monkeypatch.setattr(signal, "signal", recorded_signal)
    monkeypatch.setattr(signal, "setitimer", recorded_setitimer)
    expectation = Expectation(answers=("1923",), regex=re.compile(r"\b19\d\d\b"))

    def grade() -> None:
        assert rule_grade("It opened in 1924.", expectation).grade == "correct"
        assert grade_reply("It opened in 1924.", expectation) == "correct"
        assert matches_answer("It opened in 1924.", expectation)

    # Nobody owns SIGALRM: a deadline on by default would set its handler and timer here.
    previous = real_signal(signal.SIGALRM, signal.SIG_DFL)
    try:
        grade()
        assert calls == []
        real_signal(signal.SIGALRM, owners_handler)
        grade()
        assert calls == []
        assert signal.getsignal(signal.SIGALRM) is owners_handler
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
        # The recorders do see the deadline where the caller turns it on.
        real_signal(signal.SIGALRM, signal.SIG_DFL)
        rule_grade("It opened in 1924.", expectation, search=bounded_search)
        assert "setitimer" in calls
    finally:
        real_signal(signal.SIGALRM, previous)
