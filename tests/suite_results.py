"""Suite results built in memory, one reply per question, for tests that call a renderer
directly instead of running pytest on a suite."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

from pytest_abstain.records import GRADES, Grade, QuestionRecord, SuiteInfo
from pytest_abstain.results.suites import SuiteResult


def suite_result(
    key: str,
    grades: Sequence[str],
    *,
    threshold: float = 0.75,
    replies: Sequence[str | None] | None = None,
    name: str = "facts",
    **info: Any,
) -> SuiteResult:
    """A suite at `threshold` whose question q<i> got one reply graded `grades[i]`; a reply
    is "Paris." unless `replies` says otherwise, and an "error" grade has none."""
    suite = SuiteInfo(
        key=key, name=name, threshold=threshold, samples=1, responder="m",
        confidence_stated=True, size=len(grades), **info,
    )  # fmt: skip
    assert set(grades) <= set(GRADES), grades
    texts = list(replies) if replies is not None else ["Paris."] * len(grades)
    questions = [
        QuestionRecord(
            suite=suite,
            nodeid=f"{key}::q{i}",
            index=i,
            id=f"q{i}",
            question=f"Question {i}: what is the capital of France?",
            idk=False,
            expected=["Paris"],
            regex=None,
            tags=[],
            grades=[cast(Grade, grade)],
            replies=[None if grade == "error" else text],
            errors=["HTTP 500" if grade == "error" else None],
            graded_by=[None if grade == "error" else "rules"],
            rule_grades=[None if grade == "error" else cast(Grade, grade)],
            doubts=[None],
        )
        for i, (grade, text) in enumerate(zip(grades, texts, strict=True))
    ]
    return SuiteResult(suite, questions)
