"""pytest glue for every run: the plugin on standby until the run holds honesty questions.

pytest loads the plugin for every run of a repo, most of which (its unit tests) hold no
suite and no @pytest.mark.abstain test. Until one appears, the plugin is only its options,
its settings and this object: the run's objects (session.AbstainRun, and
controller.AbstainResults where the reports gather) and all they import (the grading rules,
the suite schema, openai, the renderers) are built when the first one is needed:
- a suite file is collected, or an @pytest.mark.abstain test (see plugin.py);
- an option given needs them now, to refuse a bad value before anything runs (a file to
  read or write, a cache folder, the dry run), as `needed_at_configure` says;
- on the xdist controller, which collects nothing itself: the first report that carries a
  question's record, a judge case, a worker's tally, an early stop or a malformed marker,
  a suite file a worker could not collect, or a crashed worker.
"""

from __future__ import annotations

import contextlib
import secrets
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ..suite.file_names import is_suite_file
from .options import option_path
from .xdist_bridge import STOP_FILE_INPUT, carries_honesty

if TYPE_CHECKING:
    from ..settings import RunSettings
    from .controller import AbstainResults
    from .session import AbstainRun

#: The options whose values the run's objects check when they are built (files to read or
#: write, the cache folder); given, they are built at configure, so a bad one is a usage error.
FILE_OPTIONS = ("judge_prompt", "root", "cache", "report", "markdown", "html", "baseline")


def needed_at_configure(config: pytest.Config, settings: RunSettings) -> bool:
    """Whether the run's objects must be built now: an option given needs them."""
    if settings.dry_run or settings.update_baseline:
        return True
    return any(option_path(config, name) is not None for name in FILE_OPTIONS)


class Standby:
    """The plugin's state in every process: the settings, and the run's objects once built.

    On the controller (not on an xdist worker) it hands pytest's hooks on to the
    AbstainResults, which is built here and never registered with pytest itself: under
    xdist it appears only while pytest's loop already runs, too late to wrap it."""

    def __init__(self, config: pytest.Config, settings: RunSettings) -> None:
        self.config = config
        self.settings = settings
        self.run: AbstainRun | None = None
        self.results: AbstainResults | None = None
        self._session: pytest.Session | None = None
        self._worker = hasattr(config, "workerinput")
        #: xdist: where the controller writes why the run stops, named to each worker as it
        #: starts: before the controller can know whether the run holds honesty questions.
        self._stop_file: Path | None = None
        #: Items deselected before the results were built (they count them from then on).
        self._deselected = 0

    @property
    def active(self) -> bool:
        return self.run is not None

    def activate(self) -> AbstainRun:
        """The run's objects, built (and the run registered with pytest) on the first call."""
        if self.run is None:
            # Imported here: these modules import the rest of the package.
            from .collection import RUN_KEY
            from .controller import AbstainResults
            from .session import AbstainRun

            run = AbstainRun(self.config, self.settings)
            if self._session is not None:
                run.pytest_sessionstart(self._session)  # a hook it was built too late for
            self.config.stash[RUN_KEY] = run
            self.config.pluginmanager.register(run, "abstain-run")
            self.run = run
            # Results are aggregated and gated once, where the reports arrive.
            if not self._worker:
                self.results = AbstainResults(self.config, self.settings)
                self.results.stop_file = self._stop_file
                self.results.deselected += self._deselected
        return self.run

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session

    # -- the controller's hooks, handed on to the results once built --------------------

    # tryfirst: built before the terminal reporter asks pytest_report_teststatus of the report.
    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if self.results is None and not self._worker and carries_honesty(report):
            self.activate()  # the xdist controller: the first honesty report from a worker
        if self.results is not None:
            self.results.pytest_runtest_logreport(report)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        failed = report.failed and self.results is None and not self._worker
        if failed and is_suite_file(Path(report.nodeid.split("::")[0])):
            self.activate()  # the xdist controller: a worker could not collect a suite file
        if self.results is not None:
            self.results.pytest_collectreport(report)

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        if self.results is None:
            self._deselected += len(items)
        else:
            self.results.pytest_deselected(items)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist: tell each worker where a stop will be written."""
        if self._stop_file is None:
            # Only a name: the file exists once a stop is written, so a run that is killed
            # (or never stops) leaves nothing behind in the temporary folder.
            name = f"abstain-stop-{secrets.token_hex(8)}"
            self._stop_file = Path(tempfile.gettempdir()) / name
            if self.results is not None:
                self.results.stop_file = self._stop_file
        node.workerinput[STOP_FILE_INPUT] = str(self._stop_file)

    @pytest.hookimpl(optionalhook=True)
    def pytest_handlecrashitem(self, crashitem: str) -> None:
        """xdist: a worker died while running `crashitem` (killed, out of memory)."""
        if not self._worker:
            self.activate()
            assert self.results is not None
            self.results.pytest_handlecrashitem(crashitem)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.results is not None:
            self.results.pytest_sessionfinish(session)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        try:
            outcome = yield
        except BaseException as exc:
            if self.results is not None:
                _finish_loop(self.results.pytest_runtestloop(session), exc, None)
            raise
        if self.results is None:
            return outcome
        return _finish_loop(self.results.pytest_runtestloop(session), None, outcome)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self.results is not None:
            self.results.pytest_terminal_summary(terminalreporter)

    def pytest_unconfigure(self) -> None:
        if self.results is not None:
            self.results.pytest_unconfigure()
        if self._stop_file is not None:
            with contextlib.suppress(OSError):
                self._stop_file.unlink(missing_ok=True)


def _finish_loop(
    wrapper: Generator[None, object, object], exc: BaseException | None, outcome: object
) -> object:
    """Run the results' pytest_runtestloop wrapper around a loop that has already ended with
    `outcome` or `exc`: its part before the loop only notes the session, so it loses
    nothing by running late (under xdist the results may be built mid-loop)."""
    next(wrapper)
    try:
        if exc is not None:
            wrapper.throw(exc)
        else:
            wrapper.send(outcome)
    except StopIteration as stop:
        return stop.value
    raise RuntimeError("AbstainResults.pytest_runtestloop yielded twice")


STANDBY_KEY = pytest.StashKey[Standby]()
