"""Family-wise control across the run (results/family.py): one correction over every baseline
test and gated calibration check, decided where all results meet."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest
from gate_simulation import as_baseline, draw_profiles, hallucinate_more, run_of
from suite_results import suite_result

from pytest_abstain.records import Interval, MetricComparison, SuiteComparison
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.family import run_family, weighted_holm
from pytest_abstain.results.stats import holm_rejections
from pytest_abstain.results.suites import SuiteResult
from pytest_abstain.results.sweep import Finding, Sweep
from pytest_abstain.results.verdict import decide

SPAN = Interval(0.0, 0.0)


def metric(scope: str, name: str, p_value: float, p_better: float = 1.0) -> MetricComparison:
    """A comparison whose error rate (or score) moved by 0.2 the bad way, or the good way
    when `p_better` is the small one."""
    drop = 0.2 if p_value < p_better else -0.2
    return MetricComparison(
        metric=name, scope=scope, questions=200, baseline=0.1, now=0.1 + drop,  # type: ignore[arg-type]
        baseline_interval=SPAN, now_interval=SPAN, delta_interval=SPAN, p_value=p_value,
        p_better=p_better, exact=False, drop=drop if name == "error_rate" else -drop,
        detectable=None, noise=0.02,
    )  # fmt: skip


def compared(
    key: str, *metrics: MetricComparison, significance: float = 0.05, smallest_p: float = 1e-30
) -> SuiteResult:
    """A suite compared with its baseline, with the given tests; `smallest_p`: the smallest
    p-value its samples could give."""
    result = suite_result(key, ["correct"] * 4)
    comparison = SuiteComparison(
        status="compared", metrics=list(metrics), significance=significance,
        smallest_p=smallest_p,
    )  # fmt: skip
    return replace(result, comparison=comparison)


@pytest.mark.parametrize("seed", range(20))
def test_weighted_holm_with_equal_levels_is_holm(seed: int) -> None:
    rng = random.Random(seed)
    p_values = [rng.random() ** 3 for _ in range(rng.randint(1, 12))]
    assert weighted_holm(p_values, [0.05] * len(p_values)) == holm_rejections(p_values, 0.05)


def test_weighted_holm_spends_each_level_in_proportion() -> None:
    # Two tests: at 0.05 and at 0.01. The bound is their mean (0.03); the first step gives
    # each its own level over the family size, as Holm's first step does.
    assert weighted_holm([0.024, 0.9], [0.05, 0.01]) == [True, False]
    assert weighted_holm([0.026, 0.9], [0.05, 0.01]) == [False, False]
    assert weighted_holm([0.9, 0.0049], [0.05, 0.01]) == [False, True]
    assert weighted_holm([0.9, 0.0051], [0.05, 0.01]) == [False, False]
    assert weighted_holm([], []) == []


def test_a_regression_one_suite_calls_significant_is_not_across_five() -> None:
    # p = 0.02 is significant for a suite on its own (two tests: 0.02 <= 0.05 / 2), not in a
    # run of five suites (ten tests: the smallest p must be <= 0.005).
    alone = compared("a.yaml", metric("suite", "error_rate", 0.02), metric("suite", "score", 0.5))
    (decided,), _, family = run_family([alone], [])
    assert decided.comparison is not None and decided.comparison.regressions
    others = [
        compared(f"{k}.yaml", metric("suite", "error_rate", 0.6), metric("suite", "score", 0.7))
        for k in "bcde"
    ]
    results, _, family = run_family([alone, *others], [])
    assert family.size == 10 and family.suites == 5 and family.rejected == 0
    assert all(r.comparison is not None and not r.comparison.regressions for r in results)
    assert all(r.comparison is not None and r.comparison.family_size == 10 for r in results)
    verdict = decide(results, [], family=family)
    assert verdict.passed and verdict.family.size == 10
    assert family.describe().startswith(
        "family-wise control: 10 tests in one family (5 suites against the baseline), Holm at 0.05"
    )
    # A clear regression still fails in a big run.
    clear = compared("a.yaml", metric("suite", "error_rate", 0.001), metric("suite", "score", 0.5))
    results, _, family = run_family([clear, *others], [])
    assert family.rejected == 1 and not decide(results, [], family=family).passed
    assert [key for key, _ in decide(results, [], family=family).failed_gates] == ["a.yaml"]


def test_improved_is_corrected_across_the_run_too() -> None:
    better = compared("a.yaml", metric("suite", "error_rate", 0.99, p_better=0.02))
    (alone,), _, family = run_family([better], [])
    assert alone.comparison is not None and alone.comparison.metrics[0].improved
    assert family.improved == 1
    others = [compared(f"{k}.yaml", metric("suite", "error_rate", 0.6)) for k in "bcde"]
    results, _, family = run_family([better, *others], [])
    assert results[0].comparison is not None and not results[0].comparison.metrics[0].improved
    assert family.improved == 0


def audit(key: str, p_value: float, gated: bool = True) -> Sweep:
    finding = Finding("error rate rises", "error rate 10% → 30%", p_value, failed=True)
    return Sweep(key, "s", 0.05, rows=[], findings=[finding], gated=gated)


def test_a_gated_calibration_audit_joins_the_family() -> None:
    suites = [compared(f"{k}.yaml", metric("suite", "error_rate", 0.5)) for k in "abc"]
    _, sweeps, family = run_family(suites, [audit("sw.yaml", 0.02)])
    assert family.size == 4 and family.audits == 1 and family.audit_tests == 1
    # 0.02 > 0.05 / 4: the audit's own Holm failed it; the run's family does not.
    assert not sweeps[0].failed and sweeps[0].family_size == 4
    _, sweeps, family = run_family(suites, [audit("sw.yaml", 0.01)])
    assert sweeps[0].failed and family.rejected == 1
    # An audit that only reports stays out of the family, with its own decision.
    _, sweeps, family = run_family(suites, [audit("sw.yaml", 0.02, gated=False)])
    assert family.size == 3 and sweeps[0].failed and sweeps[0].family_size == 0


def test_suites_that_are_not_compared_stay_out_of_the_family() -> None:
    refused = replace(
        suite_result("r.yaml", ["correct"]),
        comparison=SuiteComparison(status="refused", message="another t"),
    )
    plain = suite_result("p.yaml", ["correct"])
    results, _, family = run_family([refused, plain], [])
    assert family.size == 0 and results == [refused, plain]
    assert decide(results, [], family=family).family.size == 0


def tagged_comparison(tags: int, seed: int = 3) -> SuiteComparison:
    rng = random.Random(seed)
    profiles = draw_profiles(rng, 200)
    base = as_baseline(run_of(rng, profiles, 1, tags))
    now = run_of(rng, hallucinate_more(profiles, 0.0), 1, tags)
    return compare_suite(now, base, tag_min_questions=20)


def test_the_power_tags_cost_is_measured_at_the_family_level() -> None:
    untagged = tagged_comparison(0)
    # Score, error rate and abstention on answerable questions, for the suite and each tag.
    assert untagged.tag_cost is None and untagged.family_size == 3
    comparison = tagged_comparison(5)
    cost = comparison.tag_cost
    assert cost is not None and comparison.family_size == 18
    assert (cost.tests, cost.family) == (15, 18)
    assert cost.without is not None and cost.with_tags is not None
    assert cost.without < cost.with_tags
    # Without the tags the suite's own detectable rise is the untagged suite's figure.
    suite_rise = next(
        m for m in comparison.metrics if m.scope == "suite" and m.metric == "error_rate"
    )
    assert suite_rise.detectable == pytest.approx(cost.with_tags)


def test_a_bigger_family_makes_a_suite_untestable_and_says_at_what() -> None:
    # 6 paired questions: the smallest p is 1/64, below 0.05 / 2 but not below 0.05 / 10.
    small = compared("a.yaml", replace(metric("suite", "error_rate", 0.5), questions=6),
                     replace(metric("suite", "score", 0.5), questions=6),
                     smallest_p=1 / 64)  # fmt: skip
    (alone,), _, _ = run_family([small], [])
    assert alone.comparison is not None and not alone.comparison.untestable
    others = [
        compared(f"{k}.yaml", metric("suite", "error_rate", 0.6), metric("suite", "score", 0.7))
        for k in "bcde"
    ]
    results, _, _ = run_family([small, *others], [])
    comparison = results[0].comparison
    assert comparison is not None and comparison.untestable
    assert comparison.notes == [
        "too small to test: with 6 paired questions no change can be significant at 0.05 "
        "across 10 tests; add questions or samples"
    ]


def test_no_test_is_rejected_above_its_own_level_in_a_family_of_mixed_levels() -> None:
    # Six tests at 0.5 and one at 0.05: the family's mean level is 0.44, but the last test
    # is still only rejected at its own 0.05 (a samples: auto suite that stopped at p >= 0.12
    # relies on it: results/settling.py).
    levels = [0.5] * 6 + [0.05]
    assert weighted_holm([0.001] * 6 + [0.15], levels) == [True] * 6 + [False]
    assert weighted_holm([0.001] * 6 + [0.04], levels) == [True] * 7
