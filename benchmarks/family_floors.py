"""Family-wise control and interval floors, simulated: false alarms per run, the power a tag
split (and a big run) costs, and how often a floor flaps. Seeded, with 95% Monte-Carlo
intervals (Wilson) on every rate.

    python benchmarks/family_floors.py           # the README's table (about 10 min of CPU)
    python benchmarks/family_floors.py --quick   # a smoke run: fewer runs, same checks

Each run calls the real code: `compare_suite` for each suite against its baseline (the
question model of tests/gate_simulation.py), then `run_family`, the run-level step a real
run takes in `assess`; the floors are a `SuiteResult`'s own verdict. Every rate is set
beside its reference from the same runs: each suite corrected on its own (before issue 17),
and the point floor. Exit 1 when a bound of issue 17 is missed.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_abstain.records import Grade, QuestionRecord, SuiteInfo  # noqa: E402
from pytest_abstain.results.comparison import compare_suite  # noqa: E402
from pytest_abstain.results.family import run_family  # noqa: E402
from pytest_abstain.results.suites import SuiteResult  # noqa: E402
from tests.gate_simulation import (  # noqa: E402
    Profile,
    as_baseline,
    draw_profiles,
    hallucinate_more,
    run_of,
)

TAG_MIN_QUESTIONS = 20


@dataclass(frozen=True)
class Rate:
    hits: int
    runs: int

    @property
    def share(self) -> float:
        return self.hits / self.runs

    @property
    def interval(self) -> tuple[float, float]:
        """The share's 95% Wilson interval: the Monte-Carlo error of `runs` runs."""
        z, n, p = 1.96, self.runs, self.share
        centre = (p + z * z / (2 * n)) / (1 + z * z / n)
        half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
        return max(0.0, centre - half), min(1.0, centre + half)

    def at_most(self, bound: float, quick: bool) -> bool:
        """Within `bound`: the share itself, or in a smoke run (too few runs to tell) not
        clearly above it (the Monte-Carlo interval reaches down to it)."""
        return (self.interval[0] if quick else self.share) <= bound

    def __str__(self) -> str:
        """'3.1% [2.4, 4.0]': the share and its 95% Monte-Carlo interval."""
        low, high = self.interval
        return f"{self.share:.1%} [{low:.1%}, {high:.1%}]"


def _regressed(results: list[SuiteResult]) -> bool:
    return any(r.comparison is not None and r.comparison.regressions for r in results)


def _caught(results: list[SuiteResult]) -> bool:
    """The regressed suite (the first) fails: a false alarm elsewhere is not a catch."""
    comparison = results[0].comparison
    return comparison is not None and bool(comparison.regressions)


def _suite_run(
    rng: random.Random, questions: int, samples: int, tags: int, key: str, worse_tag: float
) -> SuiteResult:
    """A suite compared with its baseline; `worse_tag` more points of error on one question
    in five: the 40 of 200 that carry its first tag (question i carries tag i mod `tags`),
    and the same questions when it has no tags."""
    profiles = draw_profiles(rng, questions)
    base = as_baseline(run_of(rng, profiles, samples, tags))
    now_profiles: list[Profile] = [
        hallucinate_more([p], worse_tag)[0] if i % 5 == 0 else p for i, p in enumerate(profiles)
    ]
    now = run_of(rng, now_profiles, samples, tags)
    info = replace(now.info, key=key)
    now = SuiteResult(info, [replace(q, suite=info) for q in now.questions])
    comparison = compare_suite(now, base, tag_min_questions=TAG_MIN_QUESTIONS)
    return replace(now, comparison=comparison)


def gate_runs(
    runs: int, suites: int, questions: int, samples: int, tags: int, worse: float, seed: int
) -> tuple[Rate, Rate]:
    """(each suite on its own, the run's family): with no change (`worse` 0), how often the
    run fails on a baseline comparison; with `worse` points more error on one tag of the
    first suite, how often that suite fails."""
    rng = random.Random(seed)
    alone = family = 0
    for _ in range(runs):
        results = [
            _suite_run(rng, questions, samples, tags, f"s{k}.yaml", worse if k == 0 else 0.0)
            for k in range(suites)
        ]
        decided, _, _ = run_family(results, [])
        verdict = _caught if worse else _regressed
        alone += verdict(results)
        family += verdict(decided)
    return Rate(alone, runs), Rate(family, runs)


def floor_fails(
    runs: int,
    questions: int,
    samples: int,
    true_rate: float,
    floor: float,
    mode: str,
    seed: int,
) -> Rate:
    """How often max_error_rate `floor` fails a model whose error rate is `true_rate`: each
    run draws its questions' chances of a wrong reply (mean `true_rate`, spread between
    questions as a Beta(2 mean, 2 (1 - mean))) and `samples` replies to each."""
    rng = random.Random(seed)
    info = SuiteInfo(
        key="f.yaml", name="f", threshold=0.75, samples=samples, responder="sim",
        confidence_stated=True, max_error_rate=floor, floor=mode,
    )  # fmt: skip
    fails = 0
    for _ in range(runs):
        records = []
        for i in range(questions):
            chance = rng.betavariate(2 * true_rate, 2 * (1 - true_rate))
            grades: list[Grade] = [
                "wrong" if rng.random() < chance else "correct" for _ in range(samples)
            ]
            records.append(
                QuestionRecord(
                    suite=info,
                    nodeid=f"f::{i}",
                    index=i,
                    id=f"q{i}",
                    question="?",
                    idk=False,
                    expected=[],
                    regex=None,
                    tags=[],
                    grades=grades,
                    replies=[],
                    errors=[None] * samples,
                )
            )
        fails += SuiteResult(info, records).verdict == "failed"
    return Rate(fails, runs)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer runs")
    parser.add_argument("--seed", type=int, default=17)
    options = parser.parse_args()
    runs = 30 if options.quick else 500
    floor_runs = 100 if options.quick else 2000
    seed = options.seed
    ok = True
    started = time.process_time()

    print("false alarms per run, no change (5 suites x 200 questions x 1 sample, 5 tags each):")
    print("| correction | runs failed |")
    print("|---|---|")
    alone, family = gate_runs(runs, 5, 200, 1, 5, 0.0, seed)
    print(f"| each suite on its own (Holm per suite) | {alone} |")
    print(f"| the run's family (one Holm over every suite's tests) | {family} |")
    ok &= family.at_most(0.05, options.quick)

    print("\npower: one tag of 40 questions (of 200) gets +30 points of error rate:")
    print("| design | each suite on its own | the run's family |")
    print("|---|---|---|")
    for label, suites, samples, tags in (
        ("1 suite, 200 x 1, no tags", 1, 1, 0),
        ("1 suite, 200 x 1, 5 tags", 1, 1, 5),
        ("5 suites, 200 x 1, 5 tags each", 5, 1, 5),
        ("5 suites, 200 x 3, 5 tags each", 5, 3, 5),
    ):
        alone, family = gate_runs(runs, suites, 200, samples, tags, 0.30, seed + 1)
        print(f"| {label} | {alone} | {family} |")

    print("\nmax_error_rate 0.2: runs failed, by the model's true error rate (the floor flaps")
    print("where a model 2 points below it fails; interval floors trade power right above it):")
    print("| questions x samples | floor | 0.18 (2 below) | 0.20 (at it) | 0.25 | 0.30 |")
    print("|---|---|---|---|---|---|")
    for questions, samples in ((50, 1), (200, 1), (50, 3), (200, 3)):
        for mode in ("point", "interval"):
            rates = [
                floor_fails(floor_runs, questions, samples, true, 0.2, mode, seed + 2)
                for true in (0.18, 0.20, 0.25, 0.30)
            ]
            print(f"| {questions} x {samples} | {mode} | " + " | ".join(map(str, rates)) + " |")
            if mode == "interval":
                ok &= rates[0].at_most(0.05, options.quick)
    print(f"\n({time.process_time() - started:.0f} s of CPU; seed {seed})")
    if not ok:
        print("a bound of issue 17 is missed (above)", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
