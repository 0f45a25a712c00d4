"""The full simulation of the baseline gate: false alarms and power, seeded.

    python benchmarks/baseline_gate.py            # the checks, at full size (about a minute)
    python benchmarks/baseline_gate.py --table    # also the README's table (2,000 runs each)

The test suite runs a reduced variant of the same simulation (tests/test_gate_simulation.py);
this one has the run counts the README's figures were measured with, and fails (exit 1) when
a figure is off its mark.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.gate_simulation import GateRates, gate_rates  # noqa: E402

#: (questions, samples, runs, tags), and the bounds on false alarms and on power.
CHECKS: tuple[tuple[tuple[int, int, int, int], float, tuple[float, float]], ...] = (
    ((200, 3, 600, 0), 0.05, (0.90, 1.0)),
    ((50, 3, 600, 0), 0.05, (0.4, 0.9)),
    ((200, 1, 600, 4), 0.05, (0.0, 1.0)),
)


def check() -> bool:
    ok = True
    print("| questions x samples | tags | runs | false alarms | caught (+10 points) | ok | s |")
    print("|---|---|---|---|---|---|---|")
    for (questions, samples, runs, tags), max_alarms, (low, high) in CHECKS:
        started = time.process_time()
        rates = gate_rates(questions, samples, runs, tags=tags)
        seconds = time.process_time() - started
        good = rates.false_alarms <= max_alarms and low <= rates.power <= high
        ok = ok and good
        print(
            f"| {questions} x {samples} | {tags} | {runs} | {rates.false_alarms:.1%} "
            f"| {rates.power:.1%} | {'yes' if good else 'NO'} | {seconds:.0f} |",
            flush=True,
        )
    return ok


def table() -> None:
    """The README's table."""
    print("\n| questions x samples | false alarms (no change) | caught (+10 points error rate) |")
    print("|---|---|---|")
    for questions, samples in ((200, 3), (200, 1), (50, 3), (50, 1)):
        rates: GateRates = gate_rates(questions, samples, runs=2000)
        print(f"| {questions} x {samples} | {rates.false_alarms:.1%} | {rates.power:.1%} |")


def main() -> int:
    parser = argparse.ArgumentParser(description="The baseline gate's full simulation.")
    parser.add_argument("--table", action="store_true", help="also print the README's table")
    args = parser.parse_args()
    ok = check()
    if args.table:
        table()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
