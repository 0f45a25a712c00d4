"""pytest-abstain: model honesty regression tests at a stated confidence target.

The plain data a team's hooks and tools meet: grades, chat messages, replies, a question's
record (also in the JSON report) and a judge calibration case."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .lazy_exports import lazy_exports

if TYPE_CHECKING:
    from .records import GRADES, Grade, JudgeCase, Message, QuestionRecord, Reply, SuiteInfo

__all__ = ["GRADES", "Grade", "JudgeCase", "Message", "QuestionRecord", "Reply", "SuiteInfo"]

# pytest imports this package on every run: records load on first use (see lazy_exports.py).
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(__name__, dict.fromkeys(__all__, "records"))
