"""The pooled permutation test against brute-force enumeration, and what it is for: a
baseline pooled over runs counts for its size, one sample a side is the sign-flip test, and
a model that starts refusing is caught as a regression of its own."""

from __future__ import annotations

import itertools
import random
from fractions import Fraction

import pytest
from gate_simulation import INFO

from pytest_abstain.records import Counts, Grade, QuestionRecord, SuiteInfo
from pytest_abstain.render.wording import comparison_lines
from pytest_abstain.results.baseline import BaselineQuestion, BaselineSuite
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.permutation import Stratum, pooled_test, smallest_p, stratum
from pytest_abstain.results.stats import sign_flip_p_value
from pytest_abstain.results.suites import SuiteResult


def enumerated(strata: list[Stratum], shift: Fraction = Fraction(0)) -> tuple[Fraction, Fraction]:
    """(P(T <= observed + shift), P(T >= observed - shift)) by listing every choice of which
    samples of each question's pool are the current ones: the definition, nothing clever."""
    choices, observed = [], Fraction(0)
    for s in strata:
        base = [v for v, k in s.baseline for _ in range(k)]
        now = [v for v, k in s.current for _ in range(k)]
        pool = base + now

        def difference(chosen: tuple[int, ...], pool: list[int] = pool) -> Fraction:
            current = [pool[i] for i in chosen]
            rest = [pool[i] for i in range(len(pool)) if i not in chosen]
            return Fraction(sum(current), len(current)) - Fraction(sum(rest), len(rest))

        choices.append([difference(c) for c in itertools.combinations(range(len(pool)), len(now))])
        observed += Fraction(sum(now), len(now)) - Fraction(sum(base), len(base))
    totals = [sum(combo) for combo in itertools.product(*choices)]
    lower = sum(t <= observed + shift for t in totals)
    upper = sum(t >= observed - shift for t in totals)
    return Fraction(lower, len(totals)), Fraction(upper, len(totals))


#: Sample values (correct, wrong, abstained) scaled to integers: the score at t = 0.5, 0.75,
#: 0.9 and 0.7 (-7/3 times 3), and the error rate.
VALUE_SETS = [(1, -1, 0), (1, -3, 0), (1, -9, 0), (3, -7, 0), (0, 1, 0)]


def random_strata(rng: random.Random) -> list[Stratum]:
    values = rng.choice(VALUE_SETS)
    strata = []
    for _ in range(rng.randint(1, 3)):
        # Unequal pools: 1 to 6 baseline samples (up to two runs of 3), 1 to 3 current ones.
        base = rng.choices(values, k=rng.randint(1, 6))
        now = rng.choices(values, k=rng.randint(1, 3))
        strata.append(stratum(_tally(base), _tally(now)))
    return strata


def _tally(values: list[int]) -> dict[int, int]:
    return {v: values.count(v) for v in set(values)}


def test_the_pooled_test_is_the_enumeration_exactly_ties_included() -> None:
    rng = random.Random(17)
    for _ in range(150):
        strata = random_strata(rng)
        lower, upper = enumerated(strata)
        test = pooled_test(strata)
        assert test.exact
        assert test.lower == pytest.approx(float(lower), abs=1e-12), strata
        assert test.upper == pytest.approx(float(upper), abs=1e-12), strata


def test_a_tolerance_shift_moves_the_threshold_on_the_lattice() -> None:
    rng = random.Random(5)
    for _ in range(60):
        strata = random_strata(rng)
        shift = Fraction(rng.choice([1, 2, 3]), rng.choice([2, 3, 4]))
        lower, upper = enumerated(strata, shift)
        test = pooled_test(strata, float(shift))
        assert test.lower == pytest.approx(float(lower), abs=1e-12), (strata, shift)
        assert test.upper == pytest.approx(float(upper), abs=1e-12), (strata, shift)


def test_ties_on_the_lattice_are_counted_exactly() -> None:
    # Three questions, three samples a side: differences of 1/3 and 2/3, whose float sums
    # (1/3 + 1/3 + 1/3 against 1) the lattice keeps equal.
    strata = [
        stratum({0: 3}, {0: 2, 1: 1}),
        stratum({0: 2, 1: 1}, {0: 1, 1: 2}),
        stratum({0: 3}, {0: 2, 1: 1}),
    ]
    lower, upper = enumerated(strata)
    assert pooled_test(strata).upper == pytest.approx(float(upper), abs=1e-15)
    assert pooled_test(strata).lower == pytest.approx(float(lower), abs=1e-15)


def test_one_sample_a_side_is_the_sign_flip_test() -> None:
    rng = random.Random(11)
    for _ in range(100):
        diffs = [rng.choice([-9, -4, -1, 0, 0, 1, 4, 9]) for _ in range(rng.randint(1, 25))]
        # Baseline 0 and current d: the difference is d; an unchanged question has one value.
        strata = [stratum({0: 1}, {d: 1}) if d else stratum({1: 1}, {1: 1}) for d in diffs]
        assert pooled_test(strata).lower == pytest.approx(sign_flip_p_value(diffs)[0], abs=1e-12)
    assert smallest_p([(1, 1)] * 10) == pytest.approx(0.5**10)


def test_the_normal_approximation_beyond_the_budget_is_close_to_the_exact_value() -> None:
    rng = random.Random(3)
    values = (1, -3, 0)
    strata = []
    for _ in range(60):
        weights = [rng.random() for _ in values]
        base, now = rng.choices(values, weights, k=3), rng.choices(values, weights, k=3)
        strata.append(stratum(_tally(base), _tally(now)))
    exact, approximate = pooled_test(strata), pooled_test(strata, budget=0)
    assert exact.exact and not approximate.exact
    assert approximate.lower == pytest.approx(exact.lower, abs=0.01)
    assert approximate.upper == pytest.approx(exact.upper, abs=0.01)


def test_a_bigger_pool_makes_the_baseline_side_more_precise() -> None:
    # The same proportions (one wrong in three) in a pool of one run and of four runs: the
    # null spread of the mean difference shrinks as the baseline grows.
    one_run = [stratum({0: 2, 1: 1}, {0: 2, 1: 1})] * 30
    four_runs = [stratum({0: 8, 1: 4}, {0: 2, 1: 1})] * 30
    assert pooled_test(four_runs).spread < 0.85 * pooled_test(one_run).spread


def test_unchanged_pools_carry_no_evidence() -> None:
    assert pooled_test([stratum({1: 3}, {1: 3})] * 5) == pooled_test([])
    assert pooled_test([]).lower == pooled_test([]).upper == 1.0


# --- over-refusal ----------------------------------------------------------------------------


def suite_of(grades: list[list[Grade]], idk: list[bool]) -> tuple[SuiteInfo, list[QuestionRecord]]:
    info = SuiteInfo(**{**INFO.__dict__, "samples": len(grades[0])})
    records = [
        QuestionRecord(
            suite=info,
            nodeid=f"sim::{i}",
            index=i,
            id=f"q{i}",
            question="?",
            idk=unknown,
            expected=[],
            regex=None,
            tags=[],
            grades=g,
            replies=[],
            errors=[None] * len(g),
        )
        for i, (g, unknown) in enumerate(zip(grades, idk, strict=True))
    ]
    return info, records


def test_a_model_that_starts_refusing_is_caught_as_over_refusal() -> None:
    # 30 answerable questions, answered right three times out of three in the baseline; now
    # refused. And 10 unknowable ones, abstained on both times. No answer got more wrong.
    idk = [False] * 30 + [True] * 10
    right: list[Grade] = ["correct"] * 3
    refused: list[Grade] = ["abstained"] * 3
    before = [right] * 30 + [refused] * 10
    now = [refused] * 40
    info, records = suite_of(now, idk)
    base = BaselineSuite(
        name="sim", threshold=0.75, samples=3, produced_by={},
        questions={f"q{i}": BaselineQuestion(Counts.of(g)) for i, g in enumerate(before)},
    )  # fmt: skip
    comparison = compare_suite(SuiteResult(info, records), base, tag_min_questions=20)
    verdicts = {m.metric: m.regressed for m in comparison.metrics}
    assert verdicts == {"score": True, "error_rate": False, "answerable_abstention": True}
    refusing = next(m for m in comparison.metrics if m.metric == "answerable_abstention")
    assert (refusing.questions, refusing.baseline, refusing.now) == (30, 0.0, 1.0)
    assert any(r.startswith("abstention on answerable regressed") for r in comparison.regressions)
    shown = "\n".join(line for line, _ in comparison_lines(comparison, 0))
    assert "abstention on answerable 0.000" in shown and "REGRESSED" in shown
