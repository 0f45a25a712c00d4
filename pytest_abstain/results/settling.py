"""samples: auto's one decision per suite: once every question has its first reply, is the
gate's verdict settled, or is the rest of the budget asked of every question? (pure)

The rest is asked when the first replies leave the verdict open: a floor that does not pass
on them, or a test against the baseline whose p-value is below the futility level (0.12, or
twice the suite's significance if that is more). Otherwise the suite stops at one reply a
question. The baseline test keeps its level: a suite that goes on is tested on its whole
budget, exactly as a fixed K would be, and one that stops reports its first replies' p-values,
which are all above the futility level and so above any level the gate rejects at. Stopping
can only take rejections away; it cannot add one. A regression is never failed on first
replies alone: it is confirmed on the whole budget.
"""

from __future__ import annotations

from ..sampling import Settled
from ..shown import format_number
from .baseline import BaselineSuite
from .comparison import compare_suite
from .suites import SuiteResult

#: Below this p-value on first replies, a test against the baseline is worth more replies.
#: Measured (benchmarks/adaptive_samples.py --futility F): 0.1 spent 47% of samples: 3 on a
#: stable model for 2.4 points of power less; 0.12 spends 48% for 0.6 (one recorded run) to
#: 1.1 (a pool of 4) points less; 0.15 spends 51-52% for 0 to 0.7 points less.
FUTILITY = 0.12


def futility_level(significance: float) -> float:
    """Never at or below the level the gate rejects at: a stopped suite cannot fail."""
    return max(FUTILITY, 2 * significance)


def settle(first: SuiteResult, entry: BaselineSuite | None, tag_min_questions: int) -> Settled:
    """The decision on a suite's first replies (`first`), with its baseline entry, if any."""
    floors = first.floor_checks()
    level = futility_level(first.info.significance)
    for check in floors:
        if check.status != "passed":
            return Settled(True, f"{check.gate} is not settled on first replies")
    # A budget that counts replies would be laxer on fewer of them.
    if first.info.max_errors is not None and first.counts.error:
        return Settled(True, "replies were lost among the first: max_errors counts them all")
    if first.info.max_undecided is not None and first.undecided:
        return Settled(
            True, "the rules left first replies undecided: max_undecided counts them all"
        )
    compared = False
    if entry is not None:
        comparison = compare_suite(first, entry, tag_min_questions)
        if comparison.status == "compared":
            if comparison.untestable:
                return Settled(True, "first replies are too few for any verdict on the baseline")
            open_tests = [m for m in comparison.metrics if m.p_value < level]
            if open_tests:
                worst = min(open_tests, key=lambda m: m.p_value)
                return Settled(
                    True,
                    f"{worst.label} against the baseline is open on first replies "
                    f"(p={worst.p_value:.3g}, below {format_number(level)})",
                )
            compared = True
    done = [f"every test against the baseline at p >= {format_number(level)}"] if compared else []
    if floors:
        done.append("every floor passed")
    return Settled(False, "settled on first replies: " + ("; ".join(done) or "no gate to settle"))
