"""samples: auto against a fixed K = 3: replies asked, false alarms and power, seeded.

    python benchmarks/adaptive_samples.py           # the README's table (a few minutes)
    python benchmarks/adaptive_samples.py --quick   # a smoke run (CI)

Each run draws a suite of 200 questions (tests/gate_simulation.py: near-deterministic and
uncertain questions, one in five with no known answer), records a baseline, then runs the
same model and a model with 10 more points of error both ways, fixed and auto, through the
product's own compare_suite. The intervals are 95% Monte-Carlo intervals over runs. Exit 1
when auto's false alarms pass the level, or (full run) its power falls under 90%.
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

from tests.gate_simulation import adaptive_rates  # noqa: E402

#: (label, recordings pooled in the baseline, recorded by auto runs themselves).
BASELINES: tuple[tuple[str, int, bool], ...] = (
    ("one run at K = 3", 1, False),
    ("4 runs at K = 3", 4, False),
    ("4 auto runs", 4, True),
)
LEVEL = 0.05
POWER_FLOOR = 0.90


def _interval(share: float, runs: int) -> str:
    half = 1.96 * math.sqrt(max(share * (1 - share), 1e-12) / runs)
    return f"[{max(0.0, share - half):.1%}, {min(1.0, share + half):.1%}]"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run (20 runs a row)")
    parser.add_argument("--runs", type=int, default=1000, help="runs per row (default 1000)")
    args = parser.parse_args()
    runs = 20 if args.quick else args.runs
    print(f"200 questions, budget K = 3, {runs} runs a row (95% Monte-Carlo intervals)\n")
    print("| baseline | replies per question, stable (auto / fixed) | regressed | false alarms "
          "auto | fixed | power (+10 points) auto | fixed | s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    ok = True
    for label, pooled, by_auto in BASELINES:
        started = time.process_time()
        rates = adaptive_rates(200, 3, runs, baseline_runs=pooled, baseline_auto=by_auto)
        seconds = time.process_time() - started
        stable, regressed = rates.auto_replies
        auto, fixed = rates.auto, rates.fixed
        ok = ok and (args.quick or auto.false_alarms <= LEVEL)
        ok = ok and (args.quick or auto.power >= POWER_FLOOR or by_auto)
        print(
            f"| {label} | {stable:.2f} ({stable / rates.fixed_replies:.0%} of fixed) "
            f"| {regressed:.2f} ({regressed / rates.fixed_replies:.0%}) "
            f"| {auto.false_alarms:.1%} {_interval(auto.false_alarms, runs)} "
            f"| {fixed.false_alarms:.1%} {_interval(fixed.false_alarms, runs)} "
            f"| {auto.power:.1%} {_interval(auto.power, runs)} "
            f"| {fixed.power:.1%} {_interval(fixed.power, runs)} | {seconds:.0f} |",
            flush=True,
        )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
