"""pytest-abstain: model honesty regression tests at a stated confidence target.

The plain data a team's hooks and tools meet: grades, chat messages, replies, a question's
record (also in the JSON report) and a judge calibration case."""

from __future__ import annotations

from .records import GRADES, Grade, JudgeCase, Message, QuestionRecord, Reply, SuiteInfo

__all__ = ["GRADES", "Grade", "JudgeCase", "Message", "QuestionRecord", "Reply", "SuiteInfo"]
