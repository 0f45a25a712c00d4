"""Paired statistics for baseline comparison (pure; standard library only).

The test is a sign-flip (paired randomisation) test over questions. If nothing changed, a
question's baseline replies and its current replies are draws from the same distribution, so
which run is called "before" is a coin flip: every pattern of signs on the per-question
differences is equally likely. The p-value is the share of sign patterns whose total is at
least as bad as the observed one. That needs no assumption about the shape of the scores,
which matters here: a wrong answer at t = 0.9 costs 9 points, so differences are lopsided.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from statistics import NormalDist

from ..records import Interval

#: Up to this many changed questions the sign-flip distribution is computed exactly, by
#: convolution over the distinct totals (grades make the differences fall on a small lattice);
#: beyond it, or when the totals do not collapse, the normal approximation of the same
#: distribution is used, which is accurate when no single question dominates the sum.
EXACT_LIMIT = 60
MAX_TOTALS = 20_000
#: Differences smaller than this are float noise, not changes.
_EPS = 1e-12
_Z = NormalDist()
#: Two-sided 95% intervals are shown next to every compared metric.
INTERVAL_LEVEL = 0.95
#: The power a detectable drop is quoted at.
POWER = 0.8


def mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0


def mean_interval(values: Sequence[float], level: float = INTERVAL_LEVEL) -> Interval:
    """Normal interval of the mean of `values` (question-level standard error)."""
    n = len(values)
    centre = mean(values)
    if n < 2:
        return Interval(centre, centre)
    variance = sum((v - centre) ** 2 for v in values) / (n - 1)
    half = _Z.inv_cdf(0.5 + level / 2) * math.sqrt(variance / n)
    return Interval(centre - half, centre + half)


def sign_flip_p_value(diffs: Sequence[float]) -> tuple[float, bool]:
    """One-sided p-value that the mean of `diffs` is below 0, and whether it was exact.

    Orient `diffs` so that negative means worse. Unchanged questions (0) carry no sign
    information and drop out.
    """
    changed = [d for d in diffs if abs(d) > _EPS]
    if not changed:
        return 1.0, True
    observed = sum(changed)
    if len(changed) <= EXACT_LIMIT:
        exact = _exact_share_at_most(changed, observed)
        if exact is not None:
            return exact, True
    scale = math.sqrt(sum(d * d for d in changed))
    return _Z.cdf(observed / scale), False


def _exact_share_at_most(changed: Sequence[float], observed: float) -> float | None:
    """Share of the 2**n sign patterns whose total is <= observed; None if too many totals."""
    totals: dict[float, int] = {0.0: 1}
    for d in changed:
        grown: dict[float, int] = {}
        for total, ways in totals.items():
            for step in (d, -d):
                key = round(total + step, 9)  # equal totals must meet despite float noise
                grown[key] = grown.get(key, 0) + ways
        if len(grown) > MAX_TOTALS:
            return None
        totals = grown
    at_most = sum(ways for total, ways in totals.items() if total <= observed + 1e-9)
    return at_most / (1 << len(changed))


def min_attainable_p(questions: int) -> float:
    """The smallest p-value any outcome on `questions` paired questions can give."""
    return 0.5 ** min(questions, 1000)


def detectable_drop(diffs: Sequence[float], alpha: float, power: float = POWER) -> float | None:
    """The mean drop this many questions would catch with `power`, from the observed spread."""
    n = len(diffs)
    if n == 0:
        return None
    spread = math.sqrt(sum(d * d for d in diffs))
    if spread == 0:
        return None
    return (_Z.inv_cdf(1 - alpha) + _Z.inv_cdf(power)) * spread / n


def holm_rejections(p_values: Sequence[float], alpha: float) -> list[bool]:
    """Holm's step-down procedure: which hypotheses to reject, family-wise error <= alpha."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    rejected = [False] * len(p_values)
    for rank, index in enumerate(order):
        if p_values[index] > alpha / (len(p_values) - rank):
            break
        rejected[index] = True
    return rejected
