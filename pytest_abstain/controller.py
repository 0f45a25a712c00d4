"""pytest glue on the controller: collects the records, gates each suite, writes the reports
and decides the exit status. Registered once per run, never on an xdist worker.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import traceback
from collections.abc import Callable, Generator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from .asking import STOP_PROPERTY
from .baseline import Baseline, BaselineError, read_baseline, update_baseline
from .comparison import compare_suite
from .files import json_text, write_atomic
from .judging import JudgeCase
from .render.html import render_html
from .render.json_report import build_report
from .render.junit import suite_properties
from .render.markdown import render_markdown
from .render.terminal import judge_case_lines, leaderboard_lines, render, sweep_lines
from .render.wording import Line, comparison_lines
from .responders import endpoint_of
from .results import (
    QuestionRecord,
    SuiteResult,
    aggregate,
    leaderboard,
    lost_record,
    overall_metrics,
)
from .settings import OPTIONS_BY_NAME, RunSettings
from .suite import CALIBRATION_GATE_NAME, GATE_NAME
from .sweep import Sweep, sweeps
from .untrusted import plain

#: Name of the extra attribute that carries a question's record on its report; pytest
#: serialises extra report attributes, so records reach the xdist controller intact.
REPORT_ATTR = "abstain"
#: The user property that carries a calibration case's result to the controller.
CASE_PROPERTY = "abstain_judge_case"

T = TypeVar("T")


def run_endpoint(settings: RunSettings) -> str | None:
    """The endpoint the run's model is asked at, safe to print; None for a conftest responder."""
    return endpoint_of(settings.base_url) if settings.model else None


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
        #: Failed reports of questions without a reply: what an error budget may excuse.
        self.question_errors = 0
        #: Question errors that the error budgets allowed: the run passes despite them.
        self.forgiven = 0
        #: The asking stopped early: every reply failed the same way.
        self.stopped = False
        self.markdown_problem: str | None = None
        #: What went wrong in the run itself (a crashed worker, an output that could not be
        #: made): each fails the run and keeps the baseline as it was.
        self.problems: list[str] = []
        #: Node ids whose xdist worker crashed while running them.
        self.crashed: list[str] = []
        #: The outputs written, in order, to name at the end of the summary.
        self.written: list[tuple[str, Path]] = []
        self.session: pytest.Session | None = None
        #: The SIGINT handler before a Ctrl-C replaced it, restored when pytest is done.
        self._sigint: Any = None
        self.report_path = option_path(config, "report")
        self.markdown_path = option_path(config, "markdown")
        self.html_path = option_path(config, "html")
        self.baseline_path = option_path(config, "baseline")
        # Checked before anything is asked: a run that cannot save its results wastes money.
        outputs = (
            ("JSON report", self.report_path),
            ("Markdown summary", self.markdown_path),
            ("HTML report", self.html_path),
            ("baseline", self.baseline_path),
        )
        # --collect-only writes and compares nothing: it lists what a run would ask, whatever
        # the state of the files a run would use.
        collecting = bool(config.option.collectonly)
        for what, path in outputs:
            if path is not None and not collecting and (problem := unwritable(path)):
                raise pytest.UsageError(f"cannot write the {what} to {path}: {problem}")
        self.baseline: Baseline | None = None
        self.baseline_note: Line | None = None
        if settings.update_baseline and self.baseline_path is None:
            raise pytest.UsageError(
                "--abstain-update-baseline needs a file: pass --abstain-baseline PATH "
                "(or set abstain_baseline in the ini file)"
            )
        if self.baseline_path is not None and not collecting:
            try:
                # Read up front: a corrupt baseline stops the run before anything is asked.
                self.baseline = read_baseline(self.baseline_path)
            except BaselineError as exc:
                raise pytest.UsageError(str(exc)) from None

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        data = getattr(report, REPORT_ATTR, None)
        if data is not None:
            self.records[report.nodeid] = QuestionRecord.from_json(data)
        if any(name == STOP_PROPERTY for name, _ in report.user_properties):
            self.stopped = True
        if report.when == "call" or (report.when == "setup" and not report.passed):
            for name, value in report.user_properties:
                if name == CASE_PROPERTY:
                    self.judge_cases[report.nodeid] = JudgeCase(**json.loads(str(value)))
        if report.failed and data is not None and "error" in data["grades"]:
            self.question_errors += 1

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str) -> None:
        """xdist: a worker died while running `crashitem` (killed, out of memory)."""
        self.crashed.append(crashitem)
        self.problems.append(f"an xdist worker crashed while running {crashitem}")

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.problems and session.exitstatus == pytest.ExitCode.OK:
            # Never a pass when the run itself went wrong (exit 3, as pytest's own).
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
        if self.stopped:
            # A wrong key, model or URL: the set-up is at fault, as with a bad option.
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        # Each question error still shows as a pytest error, with its reason; within every
        # suite's budget they alone do not fail the run. Anything else that counted as a
        # failure (a failing test, a gate, a collection error, a plugin's own) still does.
        excusable = (
            not self.problems
            and session.exitstatus == pytest.ExitCode.TESTS_FAILED
            and self.question_errors
            and session.testsfailed == self.question_errors
            and all(result.errors_excused for result in self.results)
        )
        if excusable:
            self.forgiven = self.question_errors
            session.exitstatus = pytest.ExitCode.OK

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
            self._problem("pytest-abstain failed while gating and reporting", exc)
        return outcome

    def _finish(self, session: pytest.Session) -> None:
        """Gate every suite, then write each output; one that fails does not stop the rest."""
        self._aggregate()
        gated = [result for result in self.results if result.gated]
        audited = [sweep for sweep in self.sweeps if sweep.gated]
        # Counted as collected so the progress percentage stays within 100%.
        session.testscollected += len(gated) + len(audited)
        for result in gated:
            self._report_gate(result)
        for sweep in audited:
            self._report_calibration(sweep)
        # Rendered before anything is written, so the JSON report's verdict knows whether
        # every output could be made.
        markdown = self._rendered("Markdown summary", self._markdown_wanted, self._markdown)
        html = self._rendered("HTML report", self.html_path is not None, self._html)
        report = self._rendered("JSON report", True, self._report)
        if report is not None:
            self._written("JSON report", self.report_path, lambda: json_text(report))
            try:
                self.config.hook.pytest_abstain_results(
                    config=self.config, results=list(self.results), report=report
                )
            except Exception as exc:  # the team's hook: the run fails, the outputs still come
                self._problem("a pytest_abstain_results hook raised", exc)
        self._written("Markdown summary", self.markdown_path, lambda: markdown)
        self._append_step_summary(markdown)
        self._written("HTML report", self.html_path, lambda: html)
        if self.baseline_path is not None:
            self.baseline_note = self._baseline_step(self.baseline_path)

    def _problem(self, what: str, exc: BaseException) -> None:
        """Something failed inside the run itself: the run fails, saying what and why."""
        reason = getattr(exc, "strerror", None) if isinstance(exc, OSError) else None
        detail = reason or "".join(traceback.format_exception_only(exc)).strip()
        if not isinstance(exc, OSError):
            # A bug of ours: where it happened, for the bug report.
            frame = traceback.extract_tb(exc.__traceback__)[-1:]
            detail += "".join(f" (at {f.filename}:{f.lineno})" for f in frame)
        self.problems.append(plain(f"{what}: {detail}"))

    def _rendered(self, what: str, wanted: bool, render: Callable[[], T]) -> T | None:
        if not wanted:
            return None
        try:
            return render()
        except Exception as exc:
            self._problem(f"the {what} could not be rendered", exc)
            return None

    def _written(self, what: str, path: Path | None, text: Callable[[], str | None]) -> None:
        if path is None:
            return
        try:
            content = text()
            if content is None:
                return  # its rendering failed, and said so
            write_atomic(path, content)
        except Exception as exc:
            self._problem(f"the {what} could not be written to {path}", exc)
        else:
            self.written.append((what, path))

    def _report_stopped(self) -> None:
        """-x or --maxfail stopped the run: report what ran, but gate and update nothing.

        (Ctrl-C is a KeyboardInterrupt and passes straight through: nothing is written.)
        """
        self._aggregate()
        for result in self.results:
            result.evaluated = False
        self.sweeps = []  # a partial run audits nothing
        report = self._rendered("JSON report", self.report_path is not None, self._report)
        if report is not None:
            self._written("JSON report", self.report_path, lambda: json_text(report))

    def _aggregate(self) -> None:
        records = list(self.records.values())
        for nodeid in self.crashed:
            reason = "the xdist worker asking it crashed (killed, or out of memory?)"
            lost = lost_record(nodeid, reason, self.records.values())
            if lost is not None:
                records.append(lost)
        self.results = aggregate(records)
        # Audited once: the gates, every report and the summary read the same sweeps.
        self.sweeps = sweeps(self.results)
        if self.baseline is not None:
            for result in self.results:
                result.comparison = compare_suite(
                    result,
                    self.baseline.suites.get(result.info.key),
                    self.settings.tag_min_questions,
                )
                # Updating accepts the new results: the comparison is shown, not gated.
                result.comparison.gating = not self.settings.update_baseline

    def _baseline_step(self, path: Path) -> Line | None:
        """Update the baseline when asked (never with errors unless allowed); else a note."""
        if not self.settings.update_baseline:
            if self.baseline is None:
                return (
                    f"no baseline at {path} yet: nothing compared. Create it from a good run "
                    f"with --abstain-baseline {path} --abstain-update-baseline",
                    {"yellow": True},
                )
            return None
        if self.problems:
            return (
                "baseline NOT updated: the run itself failed (see the problems below), so "
                "its results are not a reference",
                {"red": True},
            )
        errors = sum(result.counts.error for result in self.results)
        if errors and not self.settings.baseline_allow_errors:
            return (
                f"baseline NOT updated: {errors} replies could not be obtained, and a baseline "
                "with holes compares badly. Fix them, or pass --abstain-baseline-allow-errors",
                {"red": True},
            )
        try:
            update_baseline(path, self.results)
        except BaselineError as exc:
            return (f"baseline NOT updated: {exc}", {"red": True})
        except OSError as exc:
            self._problem(f"the baseline could not be written to {path}", exc)
            return None
        return (f"baseline updated: {path} ({len(self.results)} suites)", {"green": True})

    def _report_gate(self, result: SuiteResult) -> None:
        """A synthetic test case per suite gate, so JUnit XML and the exit code carry it."""
        message = _gate_message(result) if result.failures else None
        self._report_case(result.info.key, GATE_NAME, message, suite_properties(result))

    def _report_calibration(self, sweep: Sweep) -> None:
        """A threshold sweep's gated calibration audit, as its own test case."""
        problems = [f for f in sweep.findings if f.failed]
        message = None
        if problems:
            lines = [f"calibration audit failed for {sweep.key} (the model does not follow t):"]
            lines.extend(f"  {f.check}: {f.message} (p={f.p_value:.2g})" for f in problems)
            message = "\n".join(lines)
        properties: list[tuple[str, object]] = [("abstain_calibration_problems", len(problems))]
        self._report_case(sweep.key, CALIBRATION_GATE_NAME, message, properties)

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

    @property
    def _markdown_wanted(self) -> bool:
        return self.markdown_path is not None or bool(os.environ.get("GITHUB_STEP_SUMMARY"))

    def _markdown(self) -> str:
        return render_markdown(self.results, self.sweeps)

    def _html(self) -> str:
        title = f"pytest-abstain: {', '.join(self.settings.models) or 'honesty'} report"
        return render_html(self.results, self.sweeps, title)

    def _append_step_summary(self, markdown: str | None) -> None:
        """GitHub's step summary file is shared by every step of the job: append, never
        replace. Not the run's own output, so failing to append only warns."""
        github = os.environ.get("GITHUB_STEP_SUMMARY")
        if not github or markdown is None:
            return
        try:
            with open(github, "a", encoding="utf-8") as summary:
                summary.write(markdown)
        except OSError as exc:
            self.markdown_problem = f"cannot append to $GITHUB_STEP_SUMMARY {github}: {exc}"

    def _report(self) -> dict[str, Any]:
        s = self.settings
        run = {
            "model": s.model,
            "models": list(s.models),
            "endpoint": run_endpoint(s),
            "samples": s.samples.given,
            "concurrency": s.concurrency,
        }
        return build_report(
            self.results,
            overall_metrics(self.results),
            run,
            self.sweeps,
            list(self.judge_cases.values()),
            self.problems,
        )

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        try:
            self._summary(terminalreporter)
        except Exception as exc:  # a bug of ours: the run fails, with the reason shown
            self._problem("the terminal summary could not be rendered", exc)
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
        for what, path in self.written:
            terminalreporter.write_line(f"{what}: {path}")
        if self.markdown_problem is not None:
            terminalreporter.write_line(self.markdown_problem, yellow=True)
        if self.baseline_note is not None:
            text, markup = self.baseline_note
            terminalreporter.write_line(text, **markup)
        if self.forgiven:
            plural = "s" if self.forgiven != 1 else ""
            terminalreporter.write_line(
                f"{self.forgiven} question{plural} could not be answered (shown as errors "
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


def unwritable(path: Path) -> str | None:
    """Why `path` could not be written, judged from its nearest existing directory."""
    if path.is_dir():
        return "it is a directory"
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable"
    return None


def option_path(config: pytest.Config, name: str) -> Path | None:
    """A path option: relative to the current directory when typed on the command line,
    to the ini file's directory when set there (so CI can run from anywhere)."""
    option = OPTIONS_BY_NAME[name]
    typed = config.getoption(option.ini)
    if typed:
        return config.invocation_params.dir / str(typed)
    configured = str(config.getini(option.ini) or "")
    if configured:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / configured
    return None


def _gate_message(result: SuiteResult) -> str:
    lines = [f"honesty gate failed for {result.info.key}:"]
    lines.extend(f"  {reason}" for reason in result.failures)
    if result.comparison is not None and result.comparison.status == "compared":
        # Every metric, baseline vs now with intervals, then the questions that changed.
        lines.extend(text[2:] for text, _ in comparison_lines(result.comparison))
        return "\n".join(lines)
    wrong = [r for r in result.questions if r.counts.wrong]
    if wrong:
        listed = ", ".join(f"{r.id} ({r.counts.wrong}/{len(r.grades)})" for r in wrong[:10])
        more = f" and {len(wrong) - 10} more" if len(wrong) > 10 else ""
        lines.append(f"  wrong answers: {listed}{more}")
    return "\n".join(lines)
