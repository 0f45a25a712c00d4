"""pytest glue on the controller: collects the records from the reports, decides the verdict
once, logs the gate cases, has the outputs written and sets the exit status from the
verdict. Registered once per run, never on an xdist worker."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Generator
from typing import Any

import pytest

from ..asking import STOP_PROPERTY
from ..baseline import Baseline, BaselineError, read_baseline
from ..comparison import compared
from ..endpoints import run_endpoint
from ..files import unwritable
from ..outputs import OutputPaths, Outputs, step_summary_path
from ..records import JudgeCase, QuestionRecord
from ..render.junit import (
    calibration_message,
    calibration_properties,
    gate_message,
    suite_properties,
)
from ..render.terminal import (
    judge_case_lines,
    leaderboard_lines,
    render,
    sweep_lines,
)
from ..render.wording import Line
from ..results import SuiteResult, aggregate, leaderboard, lost_record, overall_metrics
from ..settings import RunSettings
from ..suite import CALIBRATION_GATE_NAME, GATE_NAME
from ..sweep import Sweep, sweeps
from ..verdict import Verdict, decide
from .options import option_path
from .session import CASE_PROPERTY
from .xdist_bridge import attached_record


class AbstainResults:
    """Controller-side results: collects records, gates each suite, reports."""

    def __init__(self, config: pytest.Config, settings: RunSettings) -> None:
        self.config = config
        self.settings = settings
        self.records: dict[str, QuestionRecord] = {}
        #: Judge calibration cases by node id, in the order they ran.
        self.judge_cases: dict[str, JudgeCase] = {}
        self.results: list[SuiteResult] = []
        self.sweeps: list[Sweep] = []
        self.verdict: Verdict | None = None
        #: Failed reports of questions without a reply: what an error budget may excuse.
        self.question_errors = 0
        #: The asking stopped early: every reply failed the same way.
        self.stopped = False
        #: Node ids whose xdist worker crashed while running them.
        self.crashed: list[str] = []
        self.baseline_note: Line | None = None
        self.session: pytest.Session | None = None
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
        self.baseline = self._check_outputs()

    def _check_outputs(self) -> Baseline | None:
        """Checked before anything is asked: a run that cannot save its results wastes money.
        --collect-only writes and compares nothing: it lists what a run would ask, whatever
        the state of the files a run would use."""
        paths, collecting = self.outputs.paths, bool(self.config.option.collectonly)
        named = (
            ("JSON report", paths.report),
            ("Markdown summary", paths.markdown),
            ("HTML report", paths.html),
            ("baseline", paths.baseline),
        )
        for what, path in named:
            if path is not None and not collecting and (problem := unwritable(path)):
                raise pytest.UsageError(f"cannot write the {what} to {path}: {problem}")
        if self.settings.update_baseline and paths.baseline is None:
            raise pytest.UsageError(
                "--abstain-update-baseline needs a file: pass --abstain-baseline PATH "
                "(or set abstain_baseline in the ini file)"
            )
        if paths.baseline is None or collecting:
            return None
        try:
            # Read up front: a corrupt baseline stops the run before anything is asked.
            return read_baseline(paths.baseline)
        except BaselineError as exc:
            raise pytest.UsageError(str(exc)) from None

    @property
    def problems(self) -> list[str]:
        return self.outputs.problems

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        record = attached_record(report)
        if record is not None:
            self.records[report.nodeid] = record
        if any(name == STOP_PROPERTY for name, _ in report.user_properties):
            self.stopped = True
        if report.when == "call" or (report.when == "setup" and not report.passed):
            for name, value in report.user_properties:
                if name == CASE_PROPERTY:
                    self.judge_cases[report.nodeid] = JudgeCase(**json.loads(str(value)))
        if report.failed and record is not None and "error" in record.grades:
            self.question_errors += 1

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str) -> None:
        """xdist: a worker died while running `crashitem` (killed, out of memory)."""
        self.crashed.append(crashitem)
        self.problems.append(f"an xdist worker crashed while running {crashitem}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        verdict = self.verdict or decide([], [], stopped=self.stopped)
        session.exitstatus = verdict.exit_status(
            session.exitstatus, session.testsfailed, run_failed=bool(self.problems)
        )

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
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

    def _records(self) -> list[QuestionRecord]:
        records = list(self.records.values())
        for nodeid in self.crashed:
            reason = "the xdist worker asking it crashed (killed, or out of memory?)"
            lost = lost_record(nodeid, reason, self.records.values())
            if lost is not None:
                records.append(lost)
        return records

    def _finish(self, session: pytest.Session) -> None:
        """Decide the verdict, log the gate cases, then write each output; one that fails
        does not stop the rest."""
        results = aggregate(self._records())
        if self.baseline is not None:
            # Updating accepts the new results: the comparison is shown, not gated.
            gating = not self.settings.update_baseline
            results = compared(results, self.baseline, self.settings.tag_min_questions, gating)
        self.results = results
        # Audited once: the gates, every report and the summary read the same sweeps.
        self.sweeps = sweeps(results)
        cases = list(self.judge_cases.values())
        self.verdict = verdict = decide(
            results,
            self.sweeps,
            judge_cases=cases,
            question_errors=self.question_errors,
            stopped=self.stopped,
        )
        gated = [result for result in results if result.gated]
        audited = [sweep for sweep in self.sweeps if sweep.gated]
        # Counted as collected so the progress percentage stays within 100%.
        session.testscollected += len(gated) + len(audited)
        for result in gated:
            self._report_gate(result)
        for sweep in audited:
            self._report_calibration(sweep)
        title = f"pytest-abstain: {', '.join(self.settings.models) or 'honesty'} report"
        markdown, html = self.outputs.documents(results, self.sweeps, verdict, title)
        report = self.outputs.report(results, self.sweeps, cases, self._run(), verdict)
        if report is not None:
            try:
                self.config.hook.pytest_abstain_results(
                    config=self.config, results=list(results), report=report
                )
            except Exception as exc:  # the team's hook: the run fails, the outputs still come
                self.outputs.problem("a pytest_abstain_results hook raised", exc)
        self.outputs.write_documents(markdown, html)
        self.baseline_note = self.outputs.baseline_step(
            self.baseline,
            results,
            self.settings.update_baseline,
            self.settings.baseline_allow_errors,
        )

    def _run(self) -> dict[str, Any]:
        s = self.settings
        return {
            "model": s.model,
            "models": list(s.models),
            "endpoint": run_endpoint(s),
            "samples": s.samples.given,
            "concurrency": s.concurrency,
        }

    def _report_stopped(self) -> None:
        """-x or --maxfail stopped the run: report what ran, but gate and update nothing.

        (Ctrl-C is a KeyboardInterrupt and passes straight through: nothing is written.)
        """
        self.results = aggregate(self._records(), evaluated=False)
        self.sweeps = []  # a partial run audits nothing
        self.verdict = decide(
            self.results,
            [],
            question_errors=self.question_errors,
            stopped=self.stopped,
            complete=False,
        )
        wanted = self.outputs.paths.report is not None
        cases = list(self.judge_cases.values())
        self.outputs.report(self.results, [], cases, self._run(), self.verdict, wanted)

    def _report_gate(self, result: SuiteResult) -> None:
        """A synthetic test case per suite gate, so JUnit XML and the exit code carry it."""
        message = gate_message(result) if result.failures else None
        self._report_case(result.info.key, GATE_NAME, message, suite_properties(result))

    def _report_calibration(self, sweep: Sweep) -> None:
        """A threshold sweep's gated calibration audit, as its own test case."""
        message = calibration_message(sweep) if sweep.failed else None
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
        try:
            self._summary(terminalreporter)
        except Exception as exc:  # a bug of ours: the run fails, with the reason shown
            self.outputs.problem("the terminal summary could not be rendered", exc)
            if self.session is not None and self.session.exitstatus == pytest.ExitCode.OK:
                self.session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if self.problems:
            terminalreporter.write_line("abstain: the run itself FAILED:", red=True, bold=True)
            for problem in self.problems:
                terminalreporter.write_line(f"  {problem}", red=True)

    def pytest_unconfigure(self) -> None:
        if self._sigint is not None:
            signal.signal(signal.SIGINT, self._sigint)

    def _summary(self, terminalreporter: Any) -> None:
        if self.judge_cases:
            terminalreporter.write_sep("=", "abstain: judge calibration")
            for text, markup in judge_case_lines(list(self.judge_cases.values())):
                terminalreporter.write_line(text, **markup)
        if not self.results:
            return
        terminalreporter.write_sep("=", "abstain: honesty at a stated confidence target")
        overall = overall_metrics(self.results)
        for text, markup in render(self.results, overall, self.config.get_verbosity()):
            terminalreporter.write_line(text, **markup)
        for sweep in self.sweeps:
            for text, markup in sweep_lines(sweep):
                terminalreporter.write_line(text, **markup)
        for text, markup in leaderboard_lines(leaderboard(self.results)):
            terminalreporter.write_line(text, **markup)
        for what, path in self.outputs.written:
            terminalreporter.write_line(f"{what}: {path}")
        if self.outputs.step_summary_problem is not None:
            terminalreporter.write_line(self.outputs.step_summary_problem, yellow=True)
        if self.baseline_note is not None:
            text, markup = self.baseline_note
            terminalreporter.write_line(text, **markup)
        forgiven = self.verdict.forgiven if self.verdict else 0
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
