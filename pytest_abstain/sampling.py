"""How many replies a question gets: a fixed number, or `auto` (a budget): one reply, then
the rest of the budget only where it was not the expected grade (results/staged.py says why
that keeps the baseline test's error rate)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the settings read this module, and a run without a suite imports little
    from .records import QuestionRecord

#: The budget of plain `auto`: the K the baseline test's power was measured at.
AUTO_BUDGET = 3
MAX_SAMPLES = 1000
PROBLEM = f"must be a whole number from 1 to {MAX_SAMPLES}, or auto (auto:K for a budget of K)"


@dataclass(frozen=True)
class Samples:
    """A question's replies: `budget` of them, or with `auto` at most `budget`."""

    budget: int
    auto: bool = False

    @property
    def first(self) -> int:
        """Replies asked of every question before any is graded."""
        return 1 if self.auto else self.budget

    def __str__(self) -> str:
        if not self.auto:
            return str(self.budget)
        return "auto" if self.budget == AUTO_BUDGET else f"auto:{self.budget}"


def parse_samples(value: object) -> Samples:
    """A suite's, the ini's or the command line's `samples`: 3, "3", "auto", "auto:5".
    ValueError (saying what is allowed) for anything else."""
    if isinstance(value, Samples):
        return value
    text = str(value).strip().lower() if not isinstance(value, bool) else ""
    auto = text == "auto" or text.startswith("auto:")
    count = text.removeprefix("auto").removeprefix(":") if auto else text
    if auto and text == "auto":
        count = str(AUTO_BUDGET)
    if not count.isdigit() or not 1 <= int(count) <= MAX_SAMPLES or (auto and int(count) < 2):
        raise ValueError(PROBLEM)
    return Samples(int(count), auto)


def follow_up_wanted(first: QuestionRecord) -> bool:
    """With samples: auto, whether a question's first reply leaves it open: graded, but not
    the expected grade (correct, or abstained where no answer is known). Only this reply
    decides, never the baseline: the baseline's samples are what the further replies are
    compared with, and choosing by them would bias that comparison. A reply that failed
    is not followed up: the question is not scored, and asking a failing endpoint costs."""
    grade = first.grades[0] if first.grades else "error"
    return grade != "error" and grade != ("abstained" if first.idk else "correct")
