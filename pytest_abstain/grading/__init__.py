"""The grading stage: grade one model reply as correct, wrong or abstained, and say where the
rules cannot be sure (pure; no pytest).

A grade without a doubt is one the rules are sure of. Where they are not (a partial or near
match, an approximate number, a hedge, several candidates, a translation...), the grade
carries a named doubt: the judge decides it, or the reports show it as undecided.

The modules, from the bottom up: text folding (`textforms`), the per-language data and the
guess of a reply's language (`language_data`, `language_detection`), numbers (`number_types`,
`units`, `number_words`, `numerals`), abstentions (`abstention`), answers found in a reply
(`reply_view`, `found`, `spelling`, `text_answers`, `number_answers`, `answers`) and their
competitors (`competing`), the rule grade (`rules`); beside them verbal confidence
(`verbal_confidence`, `risk_coverage`) and both guards on a suite's regexes (`patterns`).
This module holds only the names the other stages use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports

if TYPE_CHECKING:
    from .abstention import DEFAULT_IDK_PHRASES, is_abstention
    from .answers import matches_answer
    from .expectation import Expectation, Tolerance
    from .grades import DOUBTS, RuleGrade
    from .language_data import languages
    from .language_detection import detect
    from .numerals import extract_numbers
    from .patterns import RegexTimeout, Search, bounded_search, regex_problem, unbounded_search
    from .rules import grade_reply, rule_grade
    from .textforms import normalize
    from .verbal_confidence import INSTRUCTION, StatedReply, parse_reply, response_format

__all__ = [
    "DEFAULT_IDK_PHRASES",
    "DOUBTS",
    "INSTRUCTION",
    "Expectation",
    "RegexTimeout",
    "RuleGrade",
    "Search",
    "StatedReply",
    "Tolerance",
    "bounded_search",
    "detect",
    "extract_numbers",
    "grade_reply",
    "is_abstention",
    "languages",
    "matches_answer",
    "normalize",
    "parse_reply",
    "regex_problem",
    "response_format",
    "rule_grade",
    "unbounded_search",
]

# Each name is imported from its module on first use (see lazy_exports.py).
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "DEFAULT_IDK_PHRASES": "abstention",
            "is_abstention": "abstention",
            "matches_answer": "answers",
            "Expectation": "expectation",
            "Tolerance": "expectation",
            "DOUBTS": "grades",
            "RuleGrade": "grades",
            "languages": "language_data",
            "detect": "language_detection",
            "extract_numbers": "numerals",
            "RegexTimeout": "patterns",
            "Search": "patterns",
            "bounded_search": "patterns",
            "regex_problem": "patterns",
            "unbounded_search": "patterns",
            "grade_reply": "rules",
            "rule_grade": "rules",
            "normalize": "textforms",
            "INSTRUCTION": "verbal_confidence",
            "StatedReply": "verbal_confidence",
            "parse_reply": "verbal_confidence",
            "response_format": "verbal_confidence",
        },
    )
