"""The full simulation of the baseline gate: false alarms and power, seeded.

    python benchmarks/baseline_gate.py              # the checks, at full size (a few minutes)
    python benchmarks/baseline_gate.py --table      # also the README's table (2,000 runs each)
    python benchmarks/baseline_gate.py --policies   # also 40 pull requests per recording policy
    python benchmarks/baseline_gate.py --quick      # a smoke run of all three (CI)

The test suite runs a reduced variant of the same simulation (tests/test_gate_simulation.py);
this one has the run counts the README's figures were measured with, and fails (exit 1) when
a figure is off its mark.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gate_simulation import (  # noqa: E402
    POLICIES,
    GateRates,
    Policy,
    gate_rates,
    policy_false_alarms,
)

#: (questions, samples, runs, tags, recorded runs pooled in the baseline; 0: one hand-made
#: run), and the bounds on false alarms and on power.
CHECKS: tuple[tuple[tuple[int, int, int, int, int], float, tuple[float, float]], ...] = (
    ((200, 3, 600, 0, 0), 0.05, (0.90, 1.0)),
    ((200, 3, 300, 0, 4), 0.05, (0.90, 1.0)),
    ((50, 3, 600, 0, 0), 0.05, (0.4, 0.95)),
    ((200, 1, 600, 4, 0), 0.05, (0.0, 1.0)),
)
#: The recording policies the README recommends: their false alarms must stay at the level.
RECOMMENDED: tuple[Policy, ...] = ("every main run", "every 5th main run")


def _interval(share: float, runs: int) -> str:
    half = 1.96 * math.sqrt(max(share * (1 - share), 1e-12) / runs)
    return f"[{max(0.0, share - half):.1%}, {min(1.0, share + half):.1%}]"


def check(quick: bool) -> bool:
    ok = True
    print("| questions x samples | tags | baseline | runs | false alarms | caught (+10 points) "
          "| ok | s |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for (questions, samples, runs, tags, pooled), max_alarms, (low, high) in CHECKS:
        runs = 20 if quick else runs
        started = time.process_time()
        rates = gate_rates(questions, samples, runs, tags=tags, baseline_runs=pooled)
        seconds = time.process_time() - started
        good = quick or (rates.false_alarms <= max_alarms and low <= rates.power <= high)
        ok = ok and good
        made = f"{pooled} runs pooled" if pooled else "one run"
        print(
            f"| {questions} x {samples} | {tags} | {made} | {runs} | {rates.false_alarms:.1%} "
            f"{_interval(rates.false_alarms, runs)} | {rates.power:.1%} "
            f"{_interval(rates.power, runs)} | {'yes' if good else 'NO'} | {seconds:.0f} |",
            flush=True,
        )
    return ok


def policies(quick: bool) -> bool:
    """False alarms over 40 pull requests with no real change, per recording policy."""
    sequences, pull_requests = (2, 10) if quick else (20, 40)
    print(f"\n{pull_requests} pull requests in a row, 200 x 3, no real change ({sequences} "
          "histories; 95% Monte-Carlo intervals over histories):\n")  # fmt: skip
    print("| recording policy | false alarms | later half | recommended | s |")
    print("|---|---|---|---|---|")
    ok = True
    for policy in POLICIES:
        started = time.process_time()
        rates = policy_false_alarms(policy, 200, 3, sequences, pull_requests)
        seconds = time.process_time() - started
        recommended = policy in RECOMMENDED
        good = quick or not recommended or rates.false_alarms <= 0.05
        ok = ok and good
        print(
            f"| {policy} | {rates.false_alarms:.1%} [{rates.low:.1%}, {rates.high:.1%}] "
            f"| {rates.later:.1%} | {'yes' if recommended else 'no'}{'' if good else ' NO'} "
            f"| {seconds:.0f} |",
            flush=True,
        )
    return ok


def table(quick: bool) -> None:
    """The README's table."""
    runs = 20 if quick else 2000
    print("\n| questions x samples | false alarms (no change) | caught (+10 points error rate) |")
    print("|---|---|---|")
    for questions, samples in ((200, 3), (200, 1), (50, 3), (50, 1)):
        rates: GateRates = gate_rates(questions, samples, runs=runs)
        print(f"| {questions} x {samples} | {rates.false_alarms:.1%} | {rates.power:.1%} |",
              flush=True)  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description="The baseline gate's full simulation.")
    parser.add_argument("--table", action="store_true", help="also print the README's table")
    parser.add_argument(
        "--policies", action="store_true", help="also 40 pull requests per recording policy"
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of everything")
    args = parser.parse_args()
    ok = check(args.quick)
    if args.policies or args.quick:
        ok = policies(args.quick) and ok
    if args.table or args.quick:
        table(args.quick)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
