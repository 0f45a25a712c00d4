"""The run's one pass/fail decision on its honesty suites, made once from the suite results,
the calibration audits and the question errors. The exit status, the JUnit gate cases and
every report read it; nothing changes it afterwards.

The run's own problems (an output that could not be made, a crashed worker) are not part of
it: they are about the run, not the model, and can happen while the reports that show the
verdict are being written. They fail the run beside it (exit_status)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..records import JudgeCase
from .family import Family
from .suites import SuiteResult
from .sweep import Sweep

#: pytest's exit codes, as numbers: the core does not import pytest.
EXIT_OK = 0
EXIT_TESTS_FAILED = 1
EXIT_INTERRUPTED = 2
EXIT_INTERNAL_ERROR = 3
EXIT_USAGE_ERROR = 4


@dataclass(frozen=True)
class Verdict:
    #: Suite keys whose gate failed, and why, in suite order.
    failed_gates: tuple[tuple[str, tuple[str, ...]], ...] = ()
    #: Sweep keys whose gated calibration audit failed.
    failed_audits: tuple[str, ...] = ()
    #: Judge calibration cases where the judge disagrees with the person (each a failed test).
    disagreements: tuple[str, ...] = ()
    #: Suite keys with errors beyond their error budget (or with no budget at all).
    unexcused_errors: tuple[str, ...] = ()
    #: Questions without a reply or grade: pytest shows each as a failed test.
    question_errors: int = 0
    #: Every reply failed the same way, so the run stopped asking.
    stopped: bool = False
    #: False when -x, --maxfail or a stop left questions unasked: nothing was gated.
    complete: bool = True
    #: Baseline entries whose suite is gone (removed, renamed, moved) from a run that
    #: collected everything where it lived; each fails like a suite's gate.
    orphaned: tuple[str, ...] = ()
    #: Every baseline test of the run (and gated calibration check), corrected as one
    #: family: the regressions in `failed_gates` and `failed_audits` are its decisions.
    family: Family = field(default_factory=Family)

    @property
    def passed(self) -> bool:
        return not (
            self.orphaned
            or self.failed_gates
            or self.failed_audits
            or self.disagreements
            or self.unexcused_errors
            or self.stopped
        )

    def status(self, run_failed: bool = False) -> str:
        """What a report heads itself: "failed" also when the run itself went wrong."""
        return "passed" if self.passed and not run_failed else "failed"

    @property
    def forgiven(self) -> int:
        """Question errors that the error budgets allow: they alone do not fail the run."""
        return self.question_errors if not self.unexcused_errors and self.complete else 0

    def exit_status(
        self, pytest_status: int, tests_failed: int, run_failed: bool, malformed: bool = False
    ) -> int:
        """The process's exit status (README → "Exit codes"), from pytest's own, the number
        of failed tests, whether the run itself went wrong, and whether a suite file or an
        abstain marker was malformed. The same in a plain run and under xdist."""
        if self.stopped:
            # A wrong key, model or URL: the set-up is at fault, as with a bad option.
            return EXIT_USAGE_ERROR
        if run_failed:
            # Never a pass when the run itself went wrong (exit 3, as pytest's own).
            return EXIT_INTERNAL_ERROR if pytest_status == EXIT_OK else pytest_status
        if malformed and pytest_status in (EXIT_OK, EXIT_TESTS_FAILED):
            # pytest's own code for a test file that does not collect; xdist and a bad
            # marker (found after collection) would otherwise say 1.
            return EXIT_INTERRUPTED
        # Each question error still shows as a failed test with its reason; within every
        # suite's budget they alone do not fail the run. Any other failure still does.
        only_forgiven = self.forgiven and tests_failed == self.forgiven
        if pytest_status == EXIT_TESTS_FAILED and only_forgiven:
            return EXIT_OK
        return pytest_status


def decide(
    results: Sequence[SuiteResult],
    sweeps: Sequence[Sweep],
    *,
    judge_cases: Sequence[JudgeCase] = (),
    question_errors: int = 0,
    stopped: bool = False,
    complete: bool = True,
    orphaned: Sequence[str] = (),
    family: Family | None = None,
) -> Verdict:
    """The verdict on `results` (already compared with the baseline and decided as one
    `family`), `sweeps` and the judge calibration cases."""
    return Verdict(
        failed_gates=tuple(
            (result.info.key, tuple(result.failures))
            for result in results
            if result.verdict == "failed"
        ),
        failed_audits=tuple(sweep.key for sweep in sweeps if sweep.gated and sweep.failed),
        disagreements=tuple(f"{case.suite}::{case.id}" for case in judge_cases if not case.agrees),
        unexcused_errors=tuple(result.info.key for result in results if not result.errors_excused),
        question_errors=question_errors,
        stopped=stopped,
        complete=complete,
        orphaned=tuple(orphaned),
        family=family or Family(),
    )
