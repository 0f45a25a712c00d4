"""How many replies a question gets: a fixed number, or `auto` (a budget): a first reply of
every question of the suite, then the rest of the budget of each only if those leave the
gate's verdict open (results/settling.py decides, and says why that keeps the gate's level)."""

from __future__ import annotations

from dataclasses import dataclass

#: The budget of plain `auto`: the K the baseline test's power was measured at.
AUTO_BUDGET = 3
MAX_SAMPLES = 1000
PROBLEM = f"must be a whole number from 1 to {MAX_SAMPLES}, or auto (auto:K for a budget of K)"


@dataclass(frozen=True)
class Samples:
    """A question's replies: `budget` of them, or with `auto` at most `budget`."""

    budget: int
    auto: bool = False

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
    if text == "auto":
        return Samples(AUTO_BUDGET, auto=True)
    auto = text.startswith("auto:")
    count = text.removeprefix("auto:")
    # auto:1 would be a fixed 1 with extra steps.
    if not count.isdigit() or not 1 + auto <= int(count) <= MAX_SAMPLES:
        raise ValueError(PROBLEM)
    return Samples(int(count), auto)


@dataclass(frozen=True)
class Settled:
    """samples: auto's decision on a suite's first replies (results/settling.py): whether
    the rest of the budget is asked, and why (shown in every output)."""

    ask_rest: bool
    why: str
