"""pytest-abstain: model honesty regression tests at a stated confidence target."""

from __future__ import annotations

from .grading import GRADES, Grade
from .results import QuestionRecord

__all__ = ["GRADES", "Grade", "QuestionRecord"]
