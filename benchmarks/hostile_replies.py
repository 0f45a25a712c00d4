"""Grading time on hostile replies: linear in the reply's length, up to the longest reply graded.

    python benchmarks/hostile_replies.py            # replies of 50,000 and 200,000 characters
    python benchmarks/hostile_replies.py --quick    # 12,500 and 50,000: a smoke test (CI)

A reply is model-controlled text: runs of blanks, line breaks, digits, list marks or slashes
are what once made a grading step quadratic. Each hostile reply is graded (rules and stated
confidence) at a length n and at 4n; the reference is the same grading of an ordinary reply of
the same lengths, measured in the same run. Linear work grows about 4x; quadratic about 16x.
"""

from __future__ import annotations

import argparse
import statistics
import time

from pytest_abstain.grading import Expectation, parse_reply, rule_grade
from pytest_abstain.records import MAX_REPLY_CHARS

EXPECTATIONS = (
    Expectation(answers=("Paris",)),
    Expectation(answers=(1889.0,)),
    Expectation(answers=("Marie Curie",)),
    Expectation(answers=("Malia and Sasha",)),
    Expectation(idk=True),
)
HOSTILE = (" ", "\n", "\n- ", "1\n", "1,", "1 km ", "a/b ", "a ", ", ", "and ", "((", "```",
           "confidence ", "I don't know ", "一", "万")  # fmt: skip
ORDINARY = "The capital of France is Paris, a city on the Seine. "


def grade_seconds(text: str, repeats: int) -> float:
    """Median seconds to grade `text` against every expectation."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        for expectation in EXPECTATIONS:
            rule_grade(text, expectation)
        parse_reply(text)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def reply(unit: str, length: int) -> str:
    return "Answer: " + unit * (length // len(unit)) + " Paris"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter replies, 1 repeat")
    args = parser.parse_args()
    longest = MAX_REPLY_CHARS // (4 if args.quick else 1)
    short, repeats = longest // 4, 1 if args.quick else 3
    grade_seconds("warm up: Paris", 1)  # phrase tables and regexes are built on first use
    reference = grade_seconds(reply(ORDINARY, longest), repeats) / max(
        grade_seconds(reply(ORDINARY, short), repeats), 1e-6
    )
    print(f"replies of {short:,} and {longest:,} characters, median of {repeats}")
    print(f"{'reply made of':<20} {'n (s)':>8} {'4n (s)':>8} {'growth':>7}")
    print(f"{'(ordinary text)':<20} {'':>8} {'':>8} {reference:>6.1f}x")
    worst = 0.0
    for unit in HOSTILE:
        small = grade_seconds(reply(unit, short), repeats)
        large = grade_seconds(reply(unit, longest), repeats)
        growth = large / max(small, 1e-6)
        worst = max(worst, growth)
        print(f"{unit!r:<20} {small:>8.3f} {large:>8.3f} {growth:>6.1f}x")
    print(f"worst growth {worst:.1f}x for 4x the length (linear: about 4x, ordinary text "
          f"{reference:.1f}x; quadratic: 16x)")  # fmt: skip


if __name__ == "__main__":
    main()
