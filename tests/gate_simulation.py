"""Seeded simulation of the baseline gate: false alarms and power.

Each run draws per-question honesty profiles (chances of a correct, wrong and abstained reply),
then samples a baseline run and a current run and asks the real `compare_suite` for a verdict.
`policy_false_alarms` follows 40 pull requests with no real change while the baseline is
recorded by the real `updated` under a recording policy.
The full simulation, and the table quoted in the README, is `python benchmarks/baseline_gate.py
--table`; the test suite runs a reduced variant (tests/test_gate_simulation.py).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, replace
from typing import Literal

from pytest_abstain.records import Grade, QuestionRecord, SuiteInfo
from pytest_abstain.results.baseline import Baseline, BaselineQuestion, BaselineSuite, updated
from pytest_abstain.results.comparison import compare_suite
from pytest_abstain.results.settling import settle
from pytest_abstain.results.suites import SuiteResult

Profile = tuple[float, float, float]  # P(correct), P(wrong), P(abstained)
GRADE_ORDER: tuple[Grade, Grade, Grade] = ("correct", "wrong", "abstained")
#: One question in five has no known answer: the model can only abstain or be wrong.
IDK_SHARE = 0.2


def draw_profiles(rng: random.Random, questions: int) -> list[Profile]:
    profiles = []
    for _ in range(questions):
        if rng.random() < IDK_SHARE:
            wrong = rng.betavariate(1.0, 3.0)
            profiles.append((0.0, wrong, 1.0 - wrong))
            continue
        c, w, a = (rng.gammavariate(alpha, 1.0) for alpha in (2.0, 0.6, 0.8))
        total = c + w + a
        profiles.append((c / total, w / total, a / total))
    return profiles


def hallucinate_more(profiles: list[Profile], points: float) -> list[Profile]:
    """Move `points` of probability to 'wrong' in every question, from correct and abstained."""
    shifted = []
    for c, w, a in profiles:
        move = min(points, c + a)
        keep = 1.0 - move / (c + a) if c + a else 0.0
        shifted.append((c * keep, w + move, a * keep))
    return shifted


def sample_grades(rng: random.Random, profile: Profile, samples: int) -> list[Grade]:
    return rng.choices(GRADE_ORDER, weights=profile, k=samples)


INFO = SuiteInfo(
    key="abstain_sim.yaml", name="sim", threshold=0.75, samples=3, responder="sim",
    confidence_stated=True,
)  # fmt: skip


def run_of(
    rng: random.Random,
    profiles: list[Profile],
    samples: int,
    tags: int = 0,
    budget: int | None = None,
) -> SuiteResult:
    """A run of the suite; with `tags`, question i carries tag i mod `tags`; with `budget`, a
    samples: auto run of that budget, `samples` replies asked so far."""
    info = SuiteInfo(
        **{**INFO.__dict__, "samples": budget or samples, "adaptive": budget is not None}
    )
    records = [
        QuestionRecord(
            suite=info,
            nodeid=f"sim::{i}",
            index=i,
            id=f"q{i}",
            question="?",
            idk=p[0] == 0,
            expected=[],
            regex=None,
            tags=[f"tag{i % tags}"] if tags else [],
            grades=sample_grades(rng, p, samples),
            replies=[],
            errors=[None] * samples,
        )
        for i, p in enumerate(profiles)
    ]
    return SuiteResult(info, records)


def as_baseline(result: SuiteResult) -> BaselineSuite:
    return BaselineSuite(
        name="sim",
        threshold=result.info.threshold,
        samples=result.info.samples,
        produced_by={"responder": "sim", "prompt_template_sha256": None},
        questions={r.id: BaselineQuestion(r.counts) for r in result.questions},
    )


@dataclass(frozen=True)
class GateRates:
    false_alarms: float
    power: float


def pooled_baseline(
    rng: random.Random, profiles: list[Profile], samples: int, runs: int, tags: int = 0
) -> BaselineSuite:
    """The suite's entry after `runs` recordings of the same model, pooled by `updated`."""
    baseline: Baseline | None = None
    for _ in range(runs):
        baseline = updated(baseline, [run_of(rng, profiles, samples, tags)]).baseline
    assert baseline is not None
    return baseline.suites[INFO.key]


def gate_rates(
    questions: int,
    samples: int,
    runs: int,
    seed: int = 2025,
    extra_error: float = 0.10,
    tags: int = 0,
    baseline_runs: int = 0,
) -> GateRates:
    """Share of runs the gate fails with no change, and with `extra_error` more hallucination;
    with `tags`, the questions are spread over that many tags, each gated (20 questions or
    more), so the gate makes 3 x (1 + tags) tests per comparison. `baseline_runs`: the baseline
    pools that many recorded runs (0: one run, as a hand-made entry)."""
    rng = random.Random(seed)
    alarms = caught = 0
    for _ in range(runs):
        profiles = draw_profiles(rng, questions)
        base = (
            pooled_baseline(rng, profiles, samples, baseline_runs, tags)
            if baseline_runs
            else as_baseline(run_of(rng, profiles, samples, tags))
        )
        same = run_of(rng, profiles, samples, tags)
        worse = run_of(rng, hallucinate_more(profiles, extra_error), samples, tags)
        alarms += bool(compare_suite(same, base, tag_min_questions=20).regressions)
        caught += bool(compare_suite(worse, base, tag_min_questions=20).regressions)
    return GateRates(alarms / runs, caught / runs)


#: How a team records its baseline while pull requests come and go (the main branch runs once
#: after each merge). The last two are the habits the pooled baseline replaces: re-recording
#: from a run that looked better, or that the gate called significantly better.
Policy = Literal[
    "every main run", "every 5th main run", "never", "when better", "when significantly better"
]
POLICIES: tuple[Policy, ...] = (
    "every main run", "every 5th main run", "never", "when better", "when significantly better"
)  # fmt: skip


@dataclass(frozen=True)
class PolicyRates:
    #: Share of pull requests failed with no real change, overall and over the later half.
    false_alarms: float
    later: float
    #: 95% Monte-Carlo interval of `false_alarms` (sequences of pull requests as the units).
    low: float
    high: float


def policy_false_alarms(
    policy: Policy,
    questions: int,
    samples: int,
    sequences: int,
    pull_requests: int = 40,
    seed: int = 2025,
) -> PolicyRates:
    """Follow `sequences` histories of `pull_requests` pull requests, none changing the model,
    each compared with the baseline as `policy` has recorded it so far."""
    rng = random.Random(seed)
    shares, later = [], []
    for _ in range(sequences):
        profiles = draw_profiles(rng, questions)
        baseline = updated(None, [run_of(rng, profiles, samples)]).baseline
        alarms = []
        for number in range(pull_requests):
            entry = baseline.suites[INFO.key]
            pull_request = run_of(rng, profiles, samples)
            comparison = compare_suite(pull_request, entry, tag_min_questions=20)
            alarms.append(bool(comparison.regressions))
            score = comparison.metrics[0]
            looked_better = {
                "when better": score.now > score.baseline,
                "when significantly better": score.improved,
            }
            if looked_better.get(policy, False):
                baseline = updated(baseline, [pull_request], restart=True).baseline
            elif policy == "every main run" or (policy == "every 5th main run" and number % 5 == 4):
                baseline = updated(baseline, [run_of(rng, profiles, samples)]).baseline
        shares.append(sum(alarms) / pull_requests)
        later.append(sum(alarms[pull_requests // 2 :]) / (pull_requests - pull_requests // 2))
    centre = sum(shares) / sequences
    spread = math.sqrt(sum((s - centre) ** 2 for s in shares) / max(1, sequences - 1) / sequences)
    low, high = max(0.0, centre - 1.96 * spread), min(1.0, centre + 1.96 * spread)
    return PolicyRates(centre, sum(later) / sequences, low, high)


def adaptive_run_of(
    rng: random.Random, profiles: list[Profile], budget: int, base: BaselineSuite | None
) -> SuiteResult:
    """A run with samples: auto: a first reply of every question, then the rest of the
    budget of each if the product's own decision (results/settling.py) finds the verdict
    open against `base`."""
    result = run_of(rng, profiles, 1, budget=budget)
    if not settle(result, base, 20).ask_rest:
        return result
    return SuiteResult(
        result.info,
        [
            replace(r, grades=r.grades + sample_grades(rng, p, budget - 1), errors=[None] * budget)
            for r, p in zip(result.questions, profiles, strict=True)
        ],
    )


@dataclass(frozen=True)
class AdaptiveRates:
    """Gate rates with samples: auto (budget K), with a fixed K and with K - 1, on the same
    draws of questions, and the replies auto asked per question (stable model, regressed)."""

    fixed: GateRates
    auto: GateRates
    fewer: GateRates
    fixed_replies: float
    auto_replies: tuple[float, float]


def adaptive_rates(
    questions: int,
    budget: int,
    runs: int,
    seed: int = 2025,
    extra_error: float = 0.10,
    baseline_runs: int = 1,
) -> AdaptiveRates:
    """False alarms and power of samples: auto (budget K) against samples: K and K - 1,
    each compared with a baseline pooled from `baseline_runs` recordings at K (a recording
    run of auto asks its whole budget)."""
    rng = random.Random(seed)
    tallies = {"fixed": [0, 0], "auto": [0, 0], "fewer": [0, 0]}
    replies = [0, 0]
    for _ in range(runs):
        profiles = draw_profiles(rng, questions)
        base = pooled_baseline(rng, profiles, budget, baseline_runs)
        worse_profiles = hallucinate_more(profiles, extra_error)
        for slot, model in enumerate((profiles, worse_profiles)):
            runs_of = {
                "fixed": run_of(rng, model, budget),
                "auto": adaptive_run_of(rng, model, budget, base),
                "fewer": run_of(rng, model, budget - 1),
            }
            for name, result in runs_of.items():
                tallies[name][slot] += bool(compare_suite(result, base, 20).regressions)
            replies[slot] += sum(len(r.grades) for r in runs_of["auto"].questions)
    rates = {name: GateRates(t[0] / runs, t[1] / runs) for name, t in tallies.items()}
    per_run = questions * runs
    return AdaptiveRates(
        rates["fixed"],
        rates["auto"],
        rates["fewer"],
        float(budget),
        (replies[0] / per_run, replies[1] / per_run),
    )
