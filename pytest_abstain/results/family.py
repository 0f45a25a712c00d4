"""Family-wise control across the run: one correction over every test that can fail it on a
p-value (pure; no pytest).

Each suite's comparison with its baseline makes several tests (score and error rate, for
the suite and each gated tag), and a gated calibration audit a few more. Corrected suite by
suite, a run with k suites has up to k chances of a false alarm. Here the raw p-values of
every comparison of the run (suites, their tags, each t of a sweep, each model side by side)
and of every gated calibration audit meet in one family, corrected with Holm's step-down
procedure, and each suite's result then carries the run's decision. "Improved" is decided
the same way, over the comparisons' p-values the other way round.

Suites may state their own significance: each test is then weighted by its suite's level
(weighted Holm), so a suite at 0.01 spends a fifth of what one at 0.05 does. The family-wise
error stays at most the mean of the levels: the level itself when the suites share one.

It runs where all results meet: in `assess`, on the controller under xdist as in a plain run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ..shown import format_number
from .comparison import decide_comparison
from .suites import SuiteResult
from .sweep import Sweep


def weighted_holm(p_values: Sequence[float], levels: Sequence[float]) -> list[bool]:
    """Which hypotheses to reject, each with its own level, family-wise error at most the
    mean of `levels`. Equal levels give Holm's procedure at that level: the i-th smallest
    p-value (from 0) is compared with level / (m - i), and the first that fails stops it.
    No test is rejected above its own level, even as the last step of a family whose mean
    level is higher: a suite's level is the most it is ever tested at (a samples: auto suite
    that stopped relies on it; results/settling.py)."""
    m = len(p_values)
    rejected = [False] * m
    if not m:
        return rejected
    bound = sum(levels) / m
    remaining = sum(levels)
    for index in sorted(range(m), key=lambda i: p_values[i] / levels[i]):
        if p_values[index] > min(levels[index], bound * levels[index] / remaining):
            break
        rejected[index] = True
        remaining -= levels[index]
    return rejected


@dataclass(frozen=True)
class FamilyTest:
    """One test of the family: whose (a suite's or a sweep's key), which, its raw p-value,
    its level (the suite's significance) and the run's decision."""

    owner: str
    test: str
    p_value: float
    level: float
    rejected: bool = False


@dataclass(frozen=True)
class Family:
    """The run's family of tests and what the correction decided."""

    tests: tuple[FamilyTest, ...] = ()
    #: Suites whose baseline comparison is in the family, and of their tests those on tags.
    suites: int = 0
    tag_tests: int = 0
    #: Gated calibration audits in the family, and their checks.
    audits: int = 0
    audit_tests: int = 0
    #: Improvements that hold after the same correction.
    improved: int = 0

    @property
    def size(self) -> int:
        return len(self.tests)

    @property
    def level(self) -> float:
        """The family-wise error bound: the mean of the tests' levels."""
        return sum(t.level for t in self.tests) / self.size if self.tests else 0.0

    @property
    def rejected(self) -> int:
        return sum(t.rejected for t in self.tests)

    def describe(self) -> str:
        """'family-wise control: 14 tests in one family (4 suites against the baseline, 6
        tests on tags; 1 calibration audit, 2 checks), Holm at 0.05: 1 significant, 0
        improvements'."""
        parts = []
        if self.suites:
            suites = f"{self.suites} suite{'s' if self.suites != 1 else ''} against the baseline"
            parts.append(suites + (f", {self.tag_tests} tests on tags" if self.tag_tests else ""))
        if self.audits:
            audits = f"{self.audits} calibration audit{'s' if self.audits != 1 else ''}"
            parts.append(f"{audits}, {self.audit_tests} checks")
        plural = "s" if self.improved != 1 else ""
        return (
            f"family-wise control: {self.size} tests in one family ({'; '.join(parts)}), "
            f"Holm at {format_number(self.level)}: {self.rejected} significant, "
            f"{self.improved} improvement{plural}"
        )


def _compared(result: SuiteResult) -> bool:
    c = result.comparison
    return c is not None and c.status == "compared" and bool(c.metrics)


def run_family(
    results: Sequence[SuiteResult], sweeps: Sequence[Sweep]
) -> tuple[list[SuiteResult], list[Sweep], Family]:
    """`results` and `sweeps` with the run's family-wise decisions, and the family."""
    compared = [r for r in results if _compared(r)]
    audited = [s for s in sweeps if s.gated and s.findings]
    tests: list[FamilyTest] = []
    better_p: list[float] = []
    better_levels: list[float] = []
    for result in compared:
        c = result.comparison
        assert c is not None
        for m in c.metrics:
            tests.append(FamilyTest(result.info.key, m.label, m.p_value, c.significance))
            better_p.append(m.p_better)
            better_levels.append(c.significance)
    for sweep in audited:
        for f in sweep.findings:
            p_value = 1.0 if f.p_value is None else f.p_value
            tests.append(
                FamilyTest(sweep.key, f"calibration: {f.check}", p_value, sweep.significance)
            )
    size = len(tests)
    worse = weighted_holm([t.p_value for t in tests], [t.level for t in tests])
    better = weighted_holm(better_p, better_levels)
    tests = [replace(t, rejected=r) for t, r in zip(tests, worse, strict=True)]

    decided: dict[str, SuiteResult] = {}
    at = 0
    for result in compared:
        c = result.comparison
        assert c is not None
        n = len(c.metrics)
        span = slice(at, at + n)
        at += n
        decided[result.info.key] = replace(
            result,
            comparison=decide_comparison(c, result.info.threshold, worse[span], better[span], size),
        )
    improved = sum(
        m.improved for r in decided.values() if r.comparison for m in r.comparison.metrics
    )
    new_sweeps: dict[str, Sweep] = {}
    for sweep in audited:
        n = len(sweep.findings)
        span = slice(at, at + n)
        at += n
        level = sweep.significance / max(size, 1)
        findings = [
            replace(f, failed=rejected)
            for f, rejected in zip(sweep.findings, worse[span], strict=True)
        ]
        new_sweeps[sweep.key] = replace(
            sweep,
            findings=findings,
            testable=any(f.smallest_p <= level for f in findings),
            family_size=size,
        )
    family = Family(
        tests=tuple(tests),
        suites=len(compared),
        tag_tests=sum(
            1 for r in compared if r.comparison for m in r.comparison.metrics if m.scope != "suite"
        ),
        audits=len(audited),
        audit_tests=sum(len(s.findings) for s in audited),
        improved=improved,
    )
    return (
        [decided.get(r.info.key, r) for r in results],
        [new_sweeps.get(s.key, s) for s in sweeps],
        family,
    )
