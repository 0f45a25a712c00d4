"""The pooled permutation test: exact where it says exact, calibrated, and fast. Seeded.

    python benchmarks/pooled_test.py           # the figures the README quotes (a few minutes)
    python benchmarks/pooled_test.py --quick   # a smoke run (CI)

1. Agreement with brute-force enumeration on small cases (t = 0.5, 0.75, 0.9, 0.7 and the
   error rate; 1 to 6 baseline and 1 to 3 current samples per question; 1 to 3 questions).
2. False alarms and power (+10 points of error rate) of the gate at 20, 50 and 200 questions
   x 3 samples against one baseline run, next to the sign-flip gate it replaces (per-question
   mean differences, score and error rate, Holm), on the same simulated runs; with 95%
   Monte-Carlo intervals.
3. Speed: one comparison of 10,000 questions x 3 samples with 20 tags (63 tests), median of
   five, next to the sign-flip p-values of the same tests (the reference it replaces).
Exit 1 when a figure is off its mark.
"""

from __future__ import annotations

import argparse
import itertools
import math
import random
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_abstain.records import Counts  # noqa: E402
from pytest_abstain.results.comparison import compare_suite  # noqa: E402
from pytest_abstain.results.permutation import Stratum, pooled_test, stratum  # noqa: E402
from pytest_abstain.results.scoring import points  # noqa: E402
from pytest_abstain.results.stats import holm_rejections, sign_flip_p_value  # noqa: E402
from tests.gate_simulation import as_baseline, draw_profiles, hallucinate_more, run_of  # noqa: E402

VALUE_SETS = [(1, -1, 0), (1, -3, 0), (1, -9, 0), (3, -7, 0), (0, 1, 0)]


def enumerated_lower(strata: list[Stratum]) -> Fraction:
    """P(T <= observed) by listing every choice of the current samples."""
    choices, observed = [], Fraction(0)
    for s in strata:
        base = [v for v, k in s.baseline for _ in range(k)]
        now = [v for v, k in s.current for _ in range(k)]
        pool = base + now
        row = []
        for chosen in itertools.combinations(range(len(pool)), len(now)):
            current = [pool[i] for i in chosen]
            rest = [pool[i] for i in range(len(pool)) if i not in chosen]
            row.append(Fraction(sum(current), len(current)) - Fraction(sum(rest), len(rest)))
        choices.append(row)
        observed += Fraction(sum(now), len(now)) - Fraction(sum(base), len(base))
    totals = [sum(combo) for combo in itertools.product(*choices)]
    return Fraction(sum(t <= observed for t in totals), len(totals))


def agreement(cases: int) -> float:
    rng = random.Random(2026)
    worst = 0.0
    for _ in range(cases):
        values = rng.choice(VALUE_SETS)
        strata = []
        for _ in range(rng.randint(1, 3)):
            base = rng.choices(values, k=rng.randint(1, 6))
            now = rng.choices(values, k=rng.randint(1, 3))
            strata.append(stratum({v: base.count(v) for v in base}, {v: now.count(v) for v in now}))
        worst = max(worst, abs(pooled_test(strata).lower - float(enumerated_lower(strata))))
    return worst


def sign_flip_gate(pairs: list[tuple[Counts, Counts]], threshold: float) -> bool:
    """The gate before pooling: sign-flip tests of the score and the error rate, Holm."""
    score = [points(a, threshold) / a.graded - points(b, threshold) / b.graded for b, a in pairs]
    errors = [b.wrong / b.graded - a.wrong / a.graded for b, a in pairs]
    p_values = [sign_flip_p_value(score)[0], sign_flip_p_value(errors)[0]]
    return any(holm_rejections(p_values, 0.05))


def interval(share: float, n: int) -> str:
    half = 1.96 * math.sqrt(max(share * (1 - share), 1e-12) / n)
    return f"{share:.1%} [{max(0.0, share - half):.1%}, {min(1.0, share + half):.1%}]"


def gate_rates(questions: int, runs: int) -> tuple[float, float, float, float]:
    """False alarms and power of the pooled gate, then of the sign-flip gate, same runs."""
    rng = random.Random(2025 + questions)
    pooled = flipped = pooled_caught = flipped_caught = 0
    for _ in range(runs):
        profiles = draw_profiles(rng, questions)
        base = as_baseline(run_of(rng, profiles, 3))
        for worse, run in ((False, run_of(rng, profiles, 3)),
                           (True, run_of(rng, hallucinate_more(profiles, 0.10), 3))):  # fmt: skip
            ours = bool(compare_suite(run, base, tag_min_questions=20).regressions)
            pairs = [(base.questions[r.id].counts, r.counts) for r in run.questions]
            theirs = sign_flip_gate(pairs, run.info.threshold)
            if worse:
                pooled_caught, flipped_caught = pooled_caught + ours, flipped_caught + theirs
            else:
                pooled, flipped = pooled + ours, flipped + theirs
    return pooled / runs, pooled_caught / runs, flipped / runs, flipped_caught / runs


def speed(repeats: int) -> tuple[float, float, int, int]:
    """Median seconds of one comparison and of the sign-flip reference; tests, exact ones."""
    rng = random.Random(7)
    profiles = draw_profiles(rng, 10_000)
    base = as_baseline(run_of(rng, profiles, 3, tags=20))
    now = run_of(rng, profiles, 3, tags=20)
    ours, reference = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        comparison = compare_suite(now, base, tag_min_questions=20)
        ours.append(time.perf_counter() - started)
        started = time.perf_counter()
        for tag in [None, *(f"tag{i}" for i in range(20))]:
            chosen = [r for r in now.questions if tag is None or tag in r.tags]
            pairs = [(base.questions[r.id].counts, r.counts) for r in chosen]
            sign_flip_gate(pairs, now.info.threshold)
            abstain = [b.abstained / b.graded - a.abstained / a.graded for b, a in pairs]
            sign_flip_p_value(abstain)
        reference.append(time.perf_counter() - started)
    exact = sum(m.exact for m in comparison.metrics)
    return statistics.median(ours), statistics.median(reference), len(comparison.metrics), exact


def main() -> int:
    parser = argparse.ArgumentParser(description="The pooled permutation test's benchmark.")
    parser.add_argument("--quick", action="store_true", help="a smoke run with small counts")
    args = parser.parse_args()
    cases, runs, repeats = (30, 20, 1) if args.quick else (400, 600, 5)
    ok = True

    worst = agreement(cases)
    good = worst < 1e-9
    ok &= good
    print(f"agreement with enumeration, {cases} small cases: largest |p - exact| = {worst:.1e}"
          f" {'ok' if good else 'NO'}")  # fmt: skip

    print("\n| questions x samples | runs | false alarms: pooled test | sign-flip gate (before) "
          "| caught (+10 points): pooled test | sign-flip gate (before) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for questions in (20, 50, 200):
        alarms, caught, old_alarms, old_caught = gate_rates(questions, runs)
        good = args.quick or alarms <= 0.05
        ok &= good
        print(f"| {questions} x 3 | {runs} | {interval(alarms, runs)} | "
              f"{interval(old_alarms, runs)} | {interval(caught, runs)} | "
              f"{interval(old_caught, runs)} |{'' if good else ' NO'}", flush=True)  # fmt: skip

    ours, reference, tests, exact = speed(repeats)
    # Smoke only under --quick: on a busy 2-core machine one timing says little.
    good = args.quick or ours < 1.0
    ok &= good
    verdict = "ok" if good else "NO"
    print(f"\n10,000 questions x 3 samples, 20 tags ({tests} tests, {exact} exact): "
          f"{ours:.2f} s per comparison (median of {repeats}); the sign-flip p-values of the "
          f"same tests {reference:.2f} s; ratio {ours / reference:.1f} {verdict}")  # fmt: skip
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
