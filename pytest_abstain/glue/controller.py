"""pytest glue on the controller: collects the records from the reports, decides the verdict
once, logs the gate cases, has the outputs written and sets the exit status from the
verdict. Built once per run, never on an xdist worker, by the standby (standby.py), which
hands it pytest's hooks: the methods named for them."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ..asking.asker import Tally, same_failure_stop, stop_message
from ..asking.endpoints import run_description
from ..files import write_atomic
from ..outputs import BaselineUse, OutputPaths, Outputs, checked_baseline, step_summary_path
from ..records import JudgeCase, QuestionRecord
from ..render.expiry import by_suite, expiry_lines
from ..render.junit import (
    calibration_message,
    calibration_properties,
    gate_message,
    orphan_message,
    suite_properties,
)
from ..render.terminal import Section, summary_sections
from ..results.assessment import Assessment, assess
from ..results.baseline import Baseline
from ..results.suites import SuiteResult
from ..results.sweep import Sweep
from ..results.verdict import Verdict
from ..settings import RunSettings
from ..suite import CALIBRATION_GATE_NAME, GATE_NAME, is_suite_file
from .options import option_path
from .scope import run_scope
from .xdist_bridge import (
    attached_case,
    attached_record,
    attached_tally,
    expiry_of,
    is_malformed,
    stopped_after,
)


class AbstainResults:
    """Controller-side results: collects records, gates each suite, reports."""

    def __init__(self, config: pytest.Config, settings: RunSettings) -> None:
        self.config = config
        self.settings = settings
        self.records: dict[str, QuestionRecord] = {}
        #: Judge calibration cases by node id, in the order they ran.
        self.judge_cases: dict[str, JudgeCase] = {}
        self.assessment: Assessment | None = None
        #: The terminal summary, rendered with the assessment.
        self.sections: list[Section] = []
        #: Failed reports of questions without a reply: what an error budget may excuse.
        self.question_errors = 0
        #: Why the asking stopped early (every reply failed the same way), or None.
        self.stopped: str | None = None
        #: xdist: each worker's asking so far, pooled to stop on the run's count.
        self._tallies: dict[str, Tally] = {}
        #: A suite file that did not collect, or a malformed abstain marker: exit 2.
        self.malformed = False
        #: xdist: the file the workers read to follow a stop. The standby names it to each
        #: worker as it starts (standby.py), before this object may exist, and removes it.
        self.stop_file: Path | None = None
        #: Node ids whose xdist worker crashed while running them.
        self.crashed: list[str] = []
        #: Items deselected on this process (-k, -m, --lf, a plugin's own selection).
        self.deselected = 0
        self.session: pytest.Session | None = None
        #: Stale and expiring questions by node id (expiry.py), skipped ones too.
        self.expiry: dict[str, dict[str, Any]] = {}
        #: The SIGINT handler before a Ctrl-C replaced it, restored when pytest is done.
        self._sigint: Any = None
        self.outputs = Outputs(
            OutputPaths(
                report=option_path(config, "report"),
                markdown=option_path(config, "markdown"),
                html=option_path(config, "html"),
                baseline=option_path(config, "baseline"),
                step_summary=step_summary_path(),
            )
        )
        self.baseline: Baseline | None = None
        # --collect-only writes and compares nothing: it lists what a run would ask, whatever
        # the state of the files a run would use.
        if not config.option.collectonly:
            try:
                self.baseline = checked_baseline(self.outputs.paths, settings.update_baseline)
            except ValueError as exc:
                raise pytest.UsageError(str(exc)) from None

    @property
    def problems(self) -> list[str]:
        return self.outputs.problems

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed and is_suite_file(Path(report.nodeid.split("::")[0])):
            self.malformed = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if is_malformed(report):
            self.malformed = True
        record = attached_record(report)
        if record is not None:
            self.records[report.nodeid] = record
        note = expiry_of(report)
        if note is not None:
            self.expiry[report.nodeid] = note
        stopped = stopped_after(report)
        if stopped is not None:
            self._stop(stopped)
        tally = attached_tally(report)
        if tally is not None and self.stopped is None:
            worker, counted = tally
            self._tallies[worker] = counted
            pooled = same_failure_stop(
                sum(t.succeeded for t in self._tallies.values()),
                [failure for t in self._tallies.values() for failure in t.first_failures],
            )
            if pooled is not None:
                self._stop(pooled)
        case = attached_case(report)
        if case is not None and (
            report.when == "call" or (report.when == "setup" and not report.passed)
        ):
            self.judge_cases[report.nodeid] = case
        if report.failed and record is not None and "error" in record.grades:
            self.question_errors += 1

    def _stop(self, reason: str) -> None:
        """The run stops asking: every worker follows (through the stop file) and the exit
        status says the endpoint was unusable; the repo's other tests still run."""
        if self.stopped is not None:
            return
        self.stopped = reason
        if self.stop_file is not None:
            write_atomic(self.stop_file, reason)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.deselected += len(items)

    def pytest_handlecrashitem(self, crashitem: str) -> None:
        """xdist: a worker died while running `crashitem` (killed, out of memory)."""
        self.crashed.append(crashitem)
        self.problems.append(f"an xdist worker crashed while running {crashitem}")

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        assessment = self.assessment or assess([], stopped=self.stopped is not None)
        verdict = assessment.verdict
        session.exitstatus = verdict.exit_status(
            session.exitstatus,
            session.testsfailed,
            run_failed=bool(self.problems),
            malformed=self.malformed,
        )

    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        """A wrapper of pytest's loop, run by the standby once the loop has ended."""
        self.session = session
        try:
            outcome = yield
        except KeyboardInterrupt as exc:
            # session.Interrupted (--maxfail, a stop) and xdist's are KeyboardInterrupts too.
            if self.stopped:
                pass  # nothing is worth reporting: every reply failed the same way
            elif isinstance(exc, session.Interrupted):
                self._report_stopped()
            else:
                self._sigint = _exit_quietly_on_next_interrupt()
            raise
        except session.Failed:
            self._report_stopped()
            raise
        if self.config.option.collectonly or not (self.records or self.judge_cases):
            return outcome
        try:
            self._finish(session)
        except Exception as exc:  # a bug of ours must not hide the summary and verdict
            self.outputs.problem("pytest-abstain failed while gating and reporting", exc)
        return outcome

    def _assess(self, complete: bool) -> Assessment:
        if self.expiry:
            self.outputs.report_extras["expiry"] = by_suite(self.expiry.values())
        self.assessment = assess(
            list(self.records.values()),
            crashed=self.crashed,
            judge_cases=list(self.judge_cases.values()),
            baseline=self.baseline,
            tag_min_questions=self.settings.tag_min_questions,
            update_baseline=self.settings.update_baseline,
            question_errors=self.question_errors,
            stopped=self.stopped is not None,
            complete=complete,
            scope=run_scope(self.config, self.deselected),
        )
        try:
            # Rendered now, not when pytest prints the summary (after the exit status is
            # set): a bug in it is then a problem of the run like any other.
            self.sections = summary_sections(
                self.assessment.results,
                self.assessment.sweeps,
                list(self.judge_cases.values()),
                self.config.get_verbosity(),
                self.assessment.orphans,
                updating=self.settings.update_baseline,
                family=self.assessment.verdict.family,
            )
        except Exception as exc:
            self.outputs.problem("the terminal summary could not be rendered", exc)
        return self.assessment

    def _finish(self, session: pytest.Session) -> None:
        """Decide the verdict, log the gate cases, then write each output; one that fails
        does not stop the rest. After a stop nothing is gated: each gate case fails."""
        assessment = self._assess(complete=self.stopped is None)
        gated = [result for result in assessment.results if result.gated]
        audited = [sweep for sweep in assessment.sweeps if sweep.gated]
        # Counted as collected so the progress percentage stays within 100%.
        session.testscollected += len(gated) + len(audited)
        # The gate cases fail where the verdict says, and show why.
        for result in gated:
            self._report_gate(result, assessment.verdict)
        for sweep in audited:
            self._report_calibration(sweep, assessment.verdict)
        # A baseline entry whose suite is gone fails like that suite's gate would have.
        shown = self.baseline.shown_path if self.baseline is not None else None
        gone = [o for o in assessment.gone if o.key in assessment.verdict.orphaned]
        session.testscollected += len(gone)
        for orphan in gone:
            self._report_case(orphan.key, GATE_NAME, orphan_message(orphan, shown), [])
        s = self.settings
        self.outputs.publish(
            assessment,
            list(self.judge_cases.values()),
            run_description(self.settings),
            f"pytest-abstain: {', '.join(s.models) or 'honesty'} report",
            lambda results, report: self.config.hook.pytest_abstain_results(
                config=self.config, results=results, report=report
            ),
            BaselineUse(
                self.baseline, s.update_baseline, s.baseline_allow_errors, s.baseline_restart
            ),
        )

    def _report_stopped(self) -> None:
        """-x or --maxfail stopped the run: report what ran, but gate and update nothing.

        (Ctrl-C is a KeyboardInterrupt and passes straight through: nothing is written.)
        """
        assessment = self._assess(complete=False)
        if self.outputs.paths.report is not None:
            cases = list(self.judge_cases.values())
            self.outputs.report(
                assessment.results, [], cases, run_description(self.settings), assessment.verdict
            )

    def _report_gate(self, result: SuiteResult, verdict: Verdict) -> None:
        """A synthetic test case per suite gate, so JUnit XML and the exit code carry it."""
        failed = dict(verdict.failed_gates)
        message = gate_message(result) if result.info.key in failed else None
        if self.stopped is not None:
            message = (
                f"honesty gate failed for {result.info.key}: not gated, the asking stopped "
                f"early: {self.stopped}"
            )
        self._report_case(result.info.key, GATE_NAME, message, suite_properties(result))

    def _report_calibration(self, sweep: Sweep, verdict: Verdict) -> None:
        """A threshold sweep's gated calibration audit, as its own test case."""
        message = calibration_message(sweep) if sweep.key in verdict.failed_audits else None
        self._report_case(sweep.key, CALIBRATION_GATE_NAME, message, calibration_properties(sweep))

    def _report_case(
        self, key: str, name: str, failure: str | None, properties: list[tuple[str, object]]
    ) -> None:
        """Log a synthetic test case `key::name`: failed with `failure`, else passed."""
        hook = self.config.hook
        nodeid = f"{key}::{name}"
        # The third part heads the failure section: name the suite, not just the case.
        location = (key, None, nodeid)
        hook.pytest_runtest_logstart(nodeid=nodeid, location=location)
        for when in ("setup", "call", "teardown"):
            failed = when == "call" and failure is not None
            report = pytest.TestReport(
                nodeid=nodeid,
                location=location,
                keywords={name: 1},
                outcome="failed" if failed else "passed",
                longrepr=failure if failed else None,
                when=when,
                user_properties=properties if when == "teardown" else [],
            )
            hook.pytest_runtest_logreport(report=report)
        hook.pytest_runtest_logfinish(nodeid=nodeid, location=location)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        self._summary(terminalreporter)
        if self.problems:
            terminalreporter.write_line("abstain: the run itself FAILED:", red=True, bold=True)
            for problem in self.problems:
                terminalreporter.write_line(f"  {problem}", red=True)

    def pytest_unconfigure(self) -> None:
        if self._sigint is not None:
            signal.signal(signal.SIGINT, self._sigint)

    def _summary(self, terminalreporter: Any) -> None:
        if self.stopped is not None:
            terminalreporter.write_sep("=", "abstain: the endpoint is unusable", red=True)
            terminalreporter.write_line(stop_message(self.stopped), red=True, bold=True)
        for title, lines in self.sections:
            terminalreporter.write_sep("=", title or "abstain")
            for text, markup in lines:
                terminalreporter.write_line(text, **markup)
        if self.expiry:
            terminalreporter.write_sep("=", "abstain: facts that expire (valid_until)")
            for text, markup in expiry_lines(self.expiry.values(), self.config.get_verbosity()):
                terminalreporter.write_line(text, **markup)
        assessment = self.assessment
        if assessment is None or not assessment.results:
            return
        for text, markup in self.outputs.notes():
            terminalreporter.write_line(text, **markup)
        forgiven = assessment.verdict.forgiven
        if forgiven and self.session is not None and self.session.exitstatus == pytest.ExitCode.OK:
            plural = "s" if forgiven != 1 else ""
            terminalreporter.write_line(
                f"{forgiven} question{plural} could not be answered (shown as errors "
                "above), within the suites' error budgets (max_errors): the run passes",
                yellow=True,
            )


def _exit_quietly_on_next_interrupt() -> Any:
    """After a Ctrl-C, another one ends the process at once, without a traceback.

    pytest is then printing its summary; a second KeyboardInterrupt would surface from
    whatever it was doing as a raw traceback (three Ctrl-Cs, three tracebacks). Every file
    we write is written atomically, so stopping at any point leaves them whole.
    """
    if threading.current_thread() is not threading.main_thread():
        return None

    def leave(signum: int, frame: object) -> None:
        os.write(2, b"\nabstain: interrupted again, stopping now\n")
        os._exit(pytest.ExitCode.INTERRUPTED)

    return signal.signal(signal.SIGINT, leave)
