"""The pooled permutation test: this run's samples against a baseline pooled over runs (pure).

If nothing changed, a question's baseline samples (pooled over the runs that recorded it) and
this run's samples are draws from one distribution, so which of the pooled samples are the
"current" ones is a uniformly random choice of as many as this run asked. The statistic is the
sum over questions of (current mean - baseline mean); under no change it is distributed as the
sum of independent per-question hypergeometric draws, one question at a time (stratified), so it
accounts for the baseline's own sample size and for unequal sample counts. With one baseline
and one current sample per question it is exactly the sign-flip test of stats.py.

Sample values are integers (the caller scales them: a score is 1, 0, -t/(1-t) times the
denominator of t/(1-t)), so every total falls on an integer lattice and ties are counted
exactly. The distribution is convolved question by question while that costs at most
`EXACT_BUDGET` multiply-adds; beyond it, the normal distribution with the same mean and
variance, with a continuity correction of half a lattice step, is used (many questions, so
no single one dominates the sum).
"""

from __future__ import annotations

import functools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import reduce
from statistics import NormalDist

#: Multiply-adds the exact convolution may spend on one distribution (about 10 ms in CPython;
#: the score of 50 questions x 3 samples against one run costs about 70,000).
EXACT_BUDGET = 150_000
#: Float noise allowed when a tolerance shift puts the threshold between lattice points.
_SLACK = 1e-9
_Z = NormalDist()


@dataclass(frozen=True)
class Stratum:
    """One question: (value, how many samples took it) on the baseline side and on the
    current side, values ascending, no zero counts (see `stratum`)."""

    baseline: tuple[tuple[int, int], ...]
    current: tuple[tuple[int, int], ...]


def stratum(baseline: Mapping[int, int], current: Mapping[int, int]) -> Stratum:
    """The stratum of a question whose samples took these values this many times."""
    return Stratum(
        tuple(sorted((v, k) for v, k in baseline.items() if k)),
        tuple(sorted((v, k) for v, k in current.items() if k)),
    )


@dataclass(frozen=True)
class PooledTest:
    """One-sided p-values of the pooled permutation test, in value units."""

    #: P(T <= observed + shift) under no change: the current side is lower.
    lower: float
    #: P(T >= observed - shift) under no change: the current side is higher.
    upper: float
    #: Computed by convolution (True), or by the normal approximation (False).
    exact: bool
    #: Standard deviation of T under no change, in value units (0 when nothing can move).
    spread: float
    #: Multiply-adds the exact convolution spent (0 when approximated).
    cost: int = 0


@dataclass(frozen=True)
class _Question:
    weight: Fraction  # d = weight * (current sum) - constant
    sums: dict[int, int]  # current sum -> ways (number of label choices giving it)
    ways: int  # comb(pool, current)
    observed: int
    mean: float  # of the current sum, under no change
    variance: float
    low: int  # the smallest and largest current sum, and the gcd of the steps between sums
    high: int
    stride: int


# Questions repeat (most pools are one of a few compositions): each is worked out once.
@functools.lru_cache(maxsize=4096)
def _question(stratum: Stratum) -> _Question | None:
    """The null distribution of one question's current sum; None when it cannot move."""
    baseline, current = stratum.baseline, stratum.current
    pool: dict[int, int] = {}
    for value, count in (*baseline, *current):
        pool[value] = pool.get(value, 0) + count
    base, now = sum(k for _, k in baseline), sum(k for _, k in current)
    if len(pool) < 2 or base == 0 or now == 0:
        return None
    size = base + now
    sums: dict[int, int] = {}
    values = sorted(pool)

    def choose(index: int, left: int, total: int, ways: int) -> None:
        if index == len(values) - 1:
            if left <= pool[values[index]]:
                key = total + left * values[index]
                sums[key] = sums.get(key, 0) + ways * math.comb(pool[values[index]], left)
            return
        for taken in range(min(left, pool[values[index]]) + 1):
            step_ways = ways * math.comb(pool[values[index]], taken)
            choose(index + 1, left - taken, total + taken * values[index], step_ways)

    choose(0, now, 0, 1)
    centre = sum(v * k for v, k in pool.items()) / size
    pool_variance = sum(k * (v - centre) ** 2 for v, k in pool.items()) / size
    return _Question(
        weight=Fraction(size, base * now),
        sums=sums,
        ways=math.comb(size, now),
        observed=sum(v * k for v, k in current),
        mean=now * centre,
        variance=now * (size - now) / (size - 1) * pool_variance,
        low=min(sums),
        high=max(sums),
        stride=reduce(math.gcd, (s - min(sums) for s in sums)),
    )


def pooled_test(
    strata: Sequence[Stratum], shift: float = 0.0, budget: int = EXACT_BUDGET
) -> PooledTest:
    """The pooled permutation test over `strata`; `shift` (value units, summed over questions,
    >= 0) moves the threshold away from the observed total on each side, to test a drop
    beyond a tolerance. Exact when the convolution costs at most `budget` multiply-adds."""
    questions = [q for q in map(_question, strata) if q is not None]
    if not questions:
        return PooledTest(1.0, 1.0, True, 0.0)
    # A common unit for the weights, so every question's steps are whole multiples of it.
    denominators = reduce(math.lcm, {q.weight.denominator for q in questions})
    scaled = [q.weight.numerator * (denominators // q.weight.denominator) for q in questions]
    unit_count = reduce(math.gcd, set(scaled))
    weights = [s // unit_count for s in scaled]
    # Positions on the lattice, from each question's lowest sum, with common factors removed.
    step = reduce(math.gcd, {w * q.stride for q, w in zip(questions, weights, strict=True)})
    unit = Fraction(unit_count, denominators) * step  # value units per lattice step
    observed = mean = variance = 0.0
    spans = []
    for q, w in zip(questions, weights, strict=True):
        observed += w * (q.observed - q.low) // step
        mean += w * (q.mean - q.low) / step
        variance += (w / step) ** 2 * q.variance
        spans.append(w * (q.high - q.low) // step)
    shifted = shift / float(unit)
    spread = math.sqrt(variance) * float(unit)
    cost = _cost(spans, [len(q.sums) for q in questions])
    if cost <= budget:
        kernels = [
            [(w * (s - q.low) // step, ways / q.ways) for s, ways in sorted(q.sums.items())]
            for q, w in zip(questions, weights, strict=True)
        ]
        totals = _convolved(kernels)
        at_most = math.floor(observed + shifted + _SLACK)
        at_least = math.ceil(observed - shifted - _SLACK)
        lower = sum(totals[: max(0, min(len(totals), at_most + 1))])
        upper = sum(totals[max(0, at_least) :])
        return PooledTest(min(1.0, lower), min(1.0, upper), True, spread, cost)
    sd = math.sqrt(variance)
    lower = _Z.cdf((math.floor(observed + shifted + _SLACK) + 0.5 - mean) / sd)
    upper = 1 - _Z.cdf((math.ceil(observed - shifted - _SLACK) - 0.5 - mean) / sd)
    return PooledTest(lower, upper, False, spread)


def _cost(spans: Sequence[int], taps: Sequence[int]) -> int:
    """Multiply-adds of the convolution: each question's taps times the width so far."""
    width, cost = 1, 0
    for span, tap in zip(spans, taps, strict=True):
        cost += width * tap
        width += span
    return cost


def _convolved(kernels: Sequence[Sequence[tuple[int, float]]]) -> list[float]:
    """The distribution of the sum of independent lattice variables, position by position."""
    totals = [1.0]
    for kernel in kernels:
        grown = [0.0] * (len(totals) + kernel[-1][0])
        size = len(totals)
        for position, chance in kernel:
            window = grown[position : position + size]
            grown[position : position + size] = [
                a + chance * b for a, b in zip(window, totals, strict=True)
            ]
        totals = grown
    return totals


def smallest_p(samples: Sequence[tuple[int, int]]) -> float:
    """The smallest p-value any outcome could give with these (baseline, current) sample
    counts per question: every question at its single most extreme choice of samples."""
    return math.exp(-sum(math.log(math.comb(b + c, c)) for b, c in samples if b and c))
