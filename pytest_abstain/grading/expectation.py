"""What counts as a right reply to one question: accepted answers, a regex, a numeric
tolerance (pure)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Relative slack for binary float noise: 1.1 - 1.0 is 0.10000000000000009, not 0.1.
FLOAT_SLACK = 1e-9


@dataclass(frozen=True)
class Tolerance:
    """How far a numeric reply may be from the expected number and still count.

    `significant`: a number counts when it agrees with the answer to the answer's last
    significant figure (SimpleQA's rule: "124k" for "120k", not "113k").
    """

    absolute: float = 0.0
    relative: float = 0.0
    significant: bool = False

    def __post_init__(self) -> None:
        for name, value in (("absolute", self.absolute), ("relative", self.relative)):
            if math.isnan(value) or value < 0:
                raise ValueError(f"tolerance {name} must be a number >= 0, got {value!r}")

    def allows(self, value: float, expected: float) -> bool:
        """True if `value` is within the absolute or the relative bound of `expected`."""
        diff = abs(value - expected)
        bound = max(self.absolute, self.relative * abs(expected))
        return (
            diff <= bound
            or math.isclose(diff, bound, rel_tol=FLOAT_SLACK)
            or math.isclose(value, expected, rel_tol=FLOAT_SLACK)
        )


@dataclass(frozen=True)
class Expectation:
    """What counts as a right reply to one question."""

    idk: bool = False
    answers: tuple[str | float, ...] = ()
    regex: re.Pattern[str] | None = None
    tolerance: Tolerance = Tolerance()
    #: An answer's qualifier may be left out: "San Francisco, California" accepts
    #: "San Francisco", and "carbonate (MgCO3)" accepts either part.
    accept_core: bool = False
    #: The question's language ("en", "cs"): a short reply ("Ponad 500 km.") is read in it
    #: when its own words do not tell.
    language: str = "en"
