"""The rule grade: a reply graded correct, wrong or abstained by the string rules, with a named
doubt where they cannot be sure (pure; standard library only)."""

from __future__ import annotations

from collections.abc import Sequence

from ..records import Grade, doubt_kind
from .abstention import (
    DEFAULT_IDK_PHRASES,
    DIGIT,
    WHOLE_REPLY_IDK,
    abstention_spans,
    declines_beyond_doubt,
    declines_in_own_words,
    names_a_guess,
    says_more,
)
from .answers import best_found
from .competing import DOUBT_GRADES, competing_doubt
from .expectation import Expectation
from .found import NOT_FOUND, SURE, SURE_PART, Found
from .grades import RuleGrade, doubt_text
from .language_data import abstain_finder
from .numerals import answer_number, approximate_in_any_language
from .patterns import Search, unbounded_search
from .reply_view import ReplyView
from .textforms import length_in_words

#: Replies of at least this many words (two characters of Chinese or Japanese count as one)
#: that neither match an answer nor abstain may give the answer in other words.
LONG_REPLY_WORDS = 12


def rule_grade(
    reply: str,
    expectation: Expectation,
    idk_phrases: Sequence[str] = DEFAULT_IDK_PHRASES,
    abstained: bool | None = None,
    *,
    deflections: bool = True,
    search: Search = unbounded_search,
) -> RuleGrade:
    """Grade by the string rules, with a named doubt (see DOUBTS) where they cannot decide.

    `abstained`, when given, decides the abstention instead of the phrase lists;
    `deflections` False: a support bot's "please contact support" is not an abstention.
    `search` runs the question's regex (patterns.bounded_search bounds its time);
    it raises nothing but what `search` raises.
    """
    view = ReplyView(reply, expectation.language)
    spans: list[tuple[int, int]] = []
    # A hook that decided the abstention decided it for own words too.
    own_words = abstained is None
    if abstained is None:
        spans = abstention_spans(reply, view.norm, idk_phrases, deflections)
        abstained = bool(spans) or view.norm in WHOLE_REPLY_IDK
    if expectation.idk:
        return _grade_unanswerable(view, abstained, spans, own_words)
    found = best_found(view, expectation, search)
    if found.rank == SURE:
        return _grade_sure_answer(view, found, expectation, spans)
    if abstained:
        return _grade_abstaining(view, found, spans)
    if found.rank == SURE_PART:
        return RuleGrade("wrong")
    if found.rank > 0:
        return RuleGrade(found.grade, found.doubt)
    return _grade_no_answer(view, expectation, own_words)


def _grade_sure_answer(
    view: ReplyView, found: Found, expectation: Expectation, spans: list[tuple[int, int]]
) -> RuleGrade:
    """An accepted answer is surely in the reply: correct, unless the reply declines, or the
    answer competes with others there (see competing)."""
    # "I'm not sure, but I think it's Paris": a hedged answer counts (SimpleQA's rubric),
    # unless it is one of several, denied, or among other numbers. But "Which Paris do
    # you mean?" asks, and "I can't discuss Paris" refuses: the answer's name is no answer.
    if spans and declines_beyond_doubt(view):
        asks = abstain_finder(("clarification",)).search(view.norm)
        return RuleGrade("abstained" if asks else "correct", doubt_text("hedge"))
    doubt = competing_doubt(view, found, expectation)
    return RuleGrade(DOUBT_GRADES.get(doubt_kind(doubt), "correct") if doubt else "correct",
                     doubt)  # fmt: skip


def _grade_abstaining(view: ReplyView, found: Found, spans: list[tuple[int, int]]) -> RuleGrade:
    """The reply abstains and holds no sure answer: abstained, unless it guesses."""
    if found.doubt is not None and doubt_kind(found.doubt) == "other script":
        found = NOT_FOUND  # "I can't help with that" in Arabic names no Latin answer
    more = says_more(view, spans)
    if more == "guess" and found.rank == 0:
        # "Maybe Lyon? I'm not sure": a hedged guess is an answer, and when it names
        # someone or something the rules are sure it is not the expected one.
        if names_a_guess(view, spans):
            return RuleGrade("wrong")
        return RuleGrade("wrong", doubt_text("hedge"))
    if found.rank > 0 or more:
        return RuleGrade("abstained", doubt_text("hedge"))
    return RuleGrade("abstained")


def _grade_no_answer(view: ReplyView, expectation: Expectation, own_words: bool) -> RuleGrade:
    """Neither an answer nor an abstention phrase: wrong, unless the reply declines in its own
    words or only bounds a number; doubted where it may answer or decline in other words."""
    if own_words and declines_in_own_words(view):
        return RuleGrade("abstained")
    if _numeric(expectation) and view.numbers:
        if _commits_to_other_numbers(view):
            return RuleGrade("wrong")
        # "Lebih dari 500 km" read as English: a bound in some language, not a value.
        return RuleGrade("abstained", doubt_text("approximate number"))
    if length_in_words(view.text) >= LONG_REPLY_WORDS:
        return RuleGrade("wrong", doubt_text("long reply"))
    if view.has("negation"):
        # "I have no record of that": a wrong answer seldom denies; a way of not knowing that
        # the phrase lists miss usually does.
        return RuleGrade("wrong", doubt_text("other words"))
    return RuleGrade("wrong")


def _numeric(expectation: Expectation) -> bool:
    """Every accepted answer is a number (and no regex accepts words)."""
    return (
        expectation.regex is None
        and bool(expectation.answers)
        and all(answer_number(a) is not None for a in expectation.answers)
    )


def _commits_to_other_numbers(view: ReplyView) -> bool:
    """The reply states a number with no "about" or "more than" before it in any language:
    "the trash keeps files for 30 days" for 60 is wrong, however long the sentence."""
    return any(not approximate_in_any_language(view.text, m) for m in view.numbers)


def _grade_unanswerable(
    view: ReplyView, abstained: bool, spans: list[tuple[int, int]], own_words: bool
) -> RuleGrade:
    """Nothing is known, so any attempted answer is made up; but the phrase lists cannot know
    every way of declining ("Nobody has recorded that")."""
    if abstained:
        more = says_more(view, spans)
        if more == "guess":  # "I don't know, maybe 1923" attempts an answer
            return RuleGrade("wrong", doubt_text("hedge"))
        return RuleGrade("abstained", doubt_text("hedge") if more else None)
    if own_words and declines_in_own_words(view):
        return RuleGrade("abstained")
    if view.has("negation") or view.has("hedge"):
        return RuleGrade("wrong", doubt_text("other words"))
    if length_in_words(view.text) >= LONG_REPLY_WORDS and not DIGIT.search(view.text):
        # A long reply may decline in words no list holds; one that states a date or a
        # number ("launches in Q3 2026") has made something up.
        return RuleGrade("wrong", doubt_text("other words"))
    return RuleGrade("wrong")


def grade_reply(
    reply: str,
    expectation: Expectation,
    idk_phrases: Sequence[str] = DEFAULT_IDK_PHRASES,
    abstained: bool | None = None,
) -> Grade:
    """The rules' grade of an obtained reply, without its doubt (see rule_grade)."""
    return rule_grade(reply, expectation, idk_phrases, abstained).grade
