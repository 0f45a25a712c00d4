"""samples: auto against a fixed K = 3 (and K = 2): replies asked, false alarms and power.

    python benchmarks/adaptive_samples.py           # the README's table (about 10 minutes)
    python benchmarks/adaptive_samples.py --futility 0.25   # another futility level
    python benchmarks/adaptive_samples.py --quick   # a smoke run (CI)

Each run draws a suite of 200 questions (tests/gate_simulation.py: near-deterministic and
uncertain questions, one in five with no known answer), records a baseline at K = 3, then
runs the same model and a model with 10 more points of error, each three ways: auto (the
product's own decision on first replies, results/settling.py), fixed K = 3 and fixed K = 2,
all through the product's compare_suite, seeded. The intervals are 95% Monte-Carlo
intervals over runs. Exit 1 (full run) when auto's false alarms pass the level, its power
falls under 90%, or it spends half the fixed budget or more on the stable model.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from pytest_abstain.results import settling  # noqa: E402
from tests.gate_simulation import AdaptiveRates, adaptive_rates  # noqa: E402

#: The product's own futility level: the one held to the README's goal of under half.
PRODUCT_FUTILITY = settling.FUTILITY
#: (label, recordings pooled in the baseline).
BASELINES: tuple[tuple[str, int], ...] = (("one run", 1), ("4 runs pooled", 4))
LEVEL = 0.05
POWER_FLOOR = 0.90


def _share(share: float, runs: int) -> str:
    half = 1.96 * math.sqrt(max(share * (1 - share), 1e-12) / runs)
    return f"{share:.1%} [{max(0.0, share - half):.1%}, {min(1.0, share + half):.1%}]"


def _row(label: str, rates: AdaptiveRates, runs: int, seconds: float) -> str:
    stable, regressed = rates.auto_replies
    budget = rates.fixed_replies
    return (
        f"| {label} | {stable:.2f} ({stable / budget:.0%}) | {regressed:.2f} "
        f"({regressed / budget:.0%}) | {_share(rates.auto.false_alarms, runs)} "
        f"| {_share(rates.fixed.false_alarms, runs)} | {_share(rates.auto.power, runs)} "
        f"| {_share(rates.fixed.power, runs)} | {_share(rates.fewer.power, runs)} "
        f"| {seconds:.0f} |"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (20 runs a row)")
    parser.add_argument("--runs", type=int, default=1000, help="runs per row (default 1000)")
    parser.add_argument(
        "--futility",
        type=float,
        default=settling.FUTILITY,
        help=f"the futility level to try (the product's: {settling.FUTILITY})",
    )
    args = parser.parse_args()
    # The product reads its futility level when it decides: trying another is setting it.
    settling.FUTILITY = args.futility
    runs = 20 if args.quick else args.runs
    print(f"200 questions, budget K = 3, futility level {args.futility}, {runs} runs a row, "
          "+10 points of error for power (95% Monte-Carlo intervals)\n")  # fmt: skip
    print(
        "| baseline (at K = 3) | auto: replies per question, stable | regressed | false "
        "alarms: auto | fixed K = 3 | power: auto | fixed K = 3 | fixed K = 2 | s |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    ok = True
    for label, pooled in BASELINES:
        started = time.process_time()
        rates = adaptive_rates(200, 3, runs, baseline_runs=pooled)
        print(_row(label, rates, runs, time.process_time() - started), flush=True)
        stable, _ = rates.auto_replies
        ok = ok and (
            args.quick
            or (
                rates.auto.false_alarms <= LEVEL
                and rates.auto.power >= POWER_FLOOR
                and (stable < rates.fixed_replies / 2 or args.futility != PRODUCT_FUTILITY)
            )
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
