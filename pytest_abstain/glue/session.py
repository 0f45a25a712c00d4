"""pytest glue for one process (the controller, or an xdist worker): builds the pipeline,
asks ahead of pytest, hands each item its record, ends a wrong answer's test xfailed (failed
on a critical question), and marks its reports."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import time
from collections.abc import Generator
from pathlib import Path
from typing import Any

import pytest

from ..asking.answerers import Answerers
from ..asking.asker import Asker, not_asked_text
from ..asking.cache import ResponseCache, cache_problem
from ..asking.endpoints import Endpoints, NoResponder, SetupError
from ..asking.pacing import Pacer
from ..asking.retrying import RetryPolicy
from ..dry_run import dry_run
from ..grading import bounded_search
from ..judging import read_judge_prompt
from ..pipeline import Hooks, NotAsked, Pipeline, Unanswered, failure_text
from ..plan import QuestionPlan
from ..records import JudgeCase, QuestionRecord, worst_grade
from ..render.junit import question_properties, wrong_message
from ..render.terminal import cache_sections
from ..results.baseline import Baseline, BaselineError, read_baseline
from ..results.settling import settle
from ..results.suites import aggregate
from ..sampling import Settled
from ..settings import RunSettings
from .collection import (
    CASE_KEY,
    CASE_PLAN_KEY,
    PLAN_KEY,
    RECORD_KEY,
)
from .options import option_path
from .tracebacks import team_traceback
from .xdist_bridge import (
    STOP_FILE_INPUT,
    attach_case,
    attach_record,
    attach_tally,
    attached_record,
    mark_stopped,
    queued_on_this_worker,
)

#: Seconds between progress lines: a live terminal gets frequent ones, a CI log fewer.
PROGRESS_EVERY_TTY = 2.0
PROGRESS_EVERY_LOG = 10.0

_STATUS = {
    "correct": ("correct", ".", ("CORRECT", {"green": True})),
    "wrong": ("wrong", "W", ("WRONG", {"yellow": True})),
    "abstained": ("abstained", "A", ("ABSTAINED", {"cyan": True})),
}


@dataclasses.dataclass
class AutoSuite:
    """A samples: auto suite of the run: its items by index, and why it must be asked whole
    (None: it can be settled on first replies)."""

    items: dict[int, pytest.Item] = dataclasses.field(default_factory=dict)
    whole: str | None = None


class AbstainRun:
    """Per-process state: settings, responders and the pipeline (also on xdist workers)."""

    def __init__(self, config: pytest.Config, settings: RunSettings) -> None:
        self.config = config
        self.settings = settings
        self.judge_prompt = _judge_prompt(config)
        self.suite_root = _suite_root(config)
        self.endpoints = Endpoints(settings, os.environ)
        self._next_progress = 0.0
        self._session: pytest.Session | None = None
        #: samples: auto suites, the suite of each of their items by index, and the suites
        #: the pipeline has been told how to ask.
        self._auto: dict[str, AutoSuite] | None = None
        self._auto_index: dict[int, str] = {}
        self._item_index: dict[str, int] | None = None
        self._planned_suites: set[str] = set()
        workerinput = getattr(config, "workerinput", {})
        #: Where the xdist controller writes why the run stops (STOP_FILE_INPUT).
        self._stop_file: str | None = workerinput.get(STOP_FILE_INPUT)
        cache_dir = option_path(config, "cache")
        self.cache = (
            # The keys the endpoints send: no cache entry may hold one (blanks are skipped).
            ResponseCache(cache_dir, secrets=self.endpoints.keys())
            if cache_dir and settings.record != "off"
            else None
        )
        if self.cache is not None:
            self.endpoints.on_secrets = self.cache.forbid
        # --collect-only asks nothing, so a cache it cannot use is no reason to fail it.
        usable = self.cache and cache_dir and not config.option.collectonly
        problem = cache_problem(cache_dir, settings.record) if usable and cache_dir else None
        if problem:
            raise pytest.UsageError(f"cannot use the response cache {cache_dir}: {problem}")
        hook = config.hook
        answerers = Answerers(
            settings,
            self.endpoints,
            self._make_responder,
            lambda: hook.pytest_abstain_make_judge(config=config),
        )
        self.pipeline = Pipeline(
            Asker(
                settings.concurrency,
                RetryPolicy(settings.retries, settings.backoff),
                pacer=_pacer(settings.rpm, settings.tpm),
                model_pacers={
                    model: _pacer(own.rpm, own.tpm)
                    for model, own in settings.model_settings.items()
                },
                rate_limit_wait=settings.rate_limit_wait,
            ),
            responder=answerers.responder,
            judge=answerers.judge,
            cache=self.cache,
            record_mode=settings.record,
            explain_misses=settings.explain_misses,
            hooks=Hooks(
                grade=lambda plan, reply: hook.pytest_abstain_grade_reply(
                    config=config, question=plan.question, reply=reply
                ),
                is_abstention=lambda plan, reply: hook.pytest_abstain_is_abstention(
                    config=config, question=plan.question, reply=reply
                ),
            ),
            # The glue runs grading on the main thread, where a timer can bound a regex.
            search=bounded_search,
            settle=self._settle,
        )

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self._session = session

    # -- samples: auto ----------------------------------------------------------------

    @functools.cached_property
    def _baseline(self) -> Baseline | None:
        """The baseline samples: auto settles against; None without one. (An unreadable
        file stops the run before anything is asked: the controller checks it first.)"""
        path = option_path(self.config, "baseline")
        try:
            return read_baseline(path) if path is not None else None
        except BaselineError:
            return None

    def _settle(self, suite_key: str, firsts: list[QuestionRecord]) -> Settled:
        (result,) = aggregate(firsts)
        baseline = self._baseline
        found = baseline.entry_of(result.info) if baseline is not None else None
        entry = found[1] if found is not None else None
        return settle(result, entry, self.settings.tag_min_questions)

    def _auto_suites(self, items: list[pytest.Item]) -> dict[str, AutoSuite]:
        """The run's samples: auto suites, found once: each one's items by index."""
        if self._auto is None:
            self._auto = {}
            for index, item in enumerate(items):
                plan = item.stash.get(PLAN_KEY, None)
                if plan is None or not plan.adaptive or item.get_closest_marker("skip"):
                    continue  # a skip mark: never asked (as in _ask_ahead)
                suite = self._auto.setdefault(plan.suite_key, AutoSuite())
                suite.items[index] = item
                self._auto_index[index] = plan.suite_key
                if item.get_closest_marker("skipif"):
                    # Decided only when it runs: its suite cannot know ahead what it settles.
                    suite.whole = "a question of the suite has a skipif mark: the whole budget"
                elif plan.calibration_gate:
                    suite.whole = (
                        "its sweep's calibration audit gates the run: every t on its whole budget"
                    )
        return self._auto

    def _plan_auto_suites(self, items: list[pytest.Item], held: set[int] | None) -> None:
        """Tell the pipeline how to ask each samples: auto suite with a question in `held`
        (the indices this worker holds; None: every item, in one process), before any of
        them is asked: in two steps when this process asks all of the suite, else each
        question its whole budget at once."""
        suites = self._auto_suites(items)
        keys = (
            suites if held is None else {self._auto_index[i] for i in held if i in self._auto_index}
        )
        for suite_key in keys:
            if suite_key in self._planned_suites:
                continue
            self._planned_suites.add(suite_key)
            suite = suites[suite_key]
            why = suite.whole
            if self.settings.update_baseline:
                why = (
                    "recording the baseline: the whole budget, so what is recorded does not "
                    "depend on what the run finds"
                )
            elif held is not None and self.config.getoption("dist", None) == "worksteal":
                why = "--dist worksteal can move a suite's questions to another worker"
            elif held is not None and not set(suite.items) <= held:
                why = (
                    "this xdist worker does not hold the whole suite (--dist loadfile keeps "
                    "a file on one worker)"
                )
            if why is not None:
                self.pipeline.whole_budget(suite_key, why)
            else:
                plans = {item.nodeid: item.stash[PLAN_KEY] for item in suite.items.values()}
                self.pipeline.sequential(suite_key, plans)

    def _index_of(self, item: pytest.Item) -> int:
        if self._item_index is None:
            self._item_index = {each.nodeid: i for i, each in enumerate(item.session.items)}
        return self._item_index[item.nodeid]

    def _make_responder(self, suite_path: Path) -> object:
        """The conftest responder for the suite at `suite_path`: only the conftest files
        above the suite answer for it, as for every hook a test's own folder scopes."""
        hooks = self._session.gethookproxy(suite_path) if self._session else self.config.hook
        return hooks.pytest_abstain_make_responder(config=self.config, suite_path=suite_path)

    # -- records for items ------------------------------------------------------------

    def resolve(self, item: pytest.Item) -> QuestionRecord:
        """Wait for the item's replies, grade them, and keep the record on the item."""
        record = item.stash.get(RECORD_KEY, None)
        if record is None:
            self._follow_the_controllers_stop()
            plan = item.stash[PLAN_KEY]
            try:
                record = self.pipeline.record(item.nodeid, plan)
            except NoResponder:
                # One reason for every question, so pytest's summary groups them.
                reason = f"no model to ask: {NoResponder.ADVICE}"
                if self.settings.require_model:
                    pytest.fail(reason, pytrace=False)
                pytest.skip(f"{reason} (or --abstain-require-model to fail instead)")
            except (SetupError, Unanswered) as exc:
                pytest.fail(self._shown(exc), pytrace=False)
            except NotAsked:
                # An error record, not a skip: the suite counts it, and its gate fails.
                stopped = self.pipeline.stopped or "the run stopped early"
                record = self.pipeline.unasked(item.nodeid, plan, not_asked_text(stopped))
            if self.pipeline.stopped is not None:
                # Only the suites fail, not the session: the repo's other tests still run.
                # The controller learns of it from a property that crosses xdist.
                mark_stopped(item, self.pipeline.stopped)
            item.stash[RECORD_KEY] = record
            item.user_properties.extend(question_properties(record))
        failure = failure_text(record)
        if failure is not None:
            # pytrace=False: the reason is the endpoint's, a traceback of ours would bury it;
            # but what the team's own code raised is shown as pytest shows a test's.
            raised = self.pipeline.raised.get(item.nodeid)
            shown = team_traceback(raised, self.config) if raised is not None else None
            pytest.fail(failure if shown is None else f"{failure}\n\n{shown}", pytrace=False)
        return record

    def _shown(self, exc: Exception) -> str:
        """The error, with the traceback of the team's code it was raised from (a hook)."""
        cause = exc.__cause__
        shown = team_traceback(cause, self.config) if cause is not None else None
        return str(exc) if shown is None else f"{exc}\n\n{shown}"

    def _follow_the_controllers_stop(self) -> None:
        """On an xdist worker: stop asking once the controller, counting every worker's
        replies, has seen the run fail the same way (it writes the reason to a file)."""
        path = self._stop_file
        if path is None or self.pipeline.stopped is not None:
            return
        with contextlib.suppress(OSError):  # no file yet: nothing to follow
            self.pipeline.stop(Path(path).read_text(encoding="utf-8"))

    def judge_case(self, item: pytest.Item) -> JudgeCase:
        case = item.stash.get(CASE_KEY, None)
        if case is None:
            try:
                case = self.pipeline.case(item.nodeid, item.stash[CASE_PLAN_KEY])
            except SetupError as exc:
                pytest.fail(self._shown(exc), pytrace=False)
            except NotAsked as exc:
                pytest.fail(f"{exc}: {self.pipeline.stopped}", pytrace=False)
            item.stash[CASE_KEY] = case
            attach_case(item, case)
        return case

    # -- asking ahead -----------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        # Ask everything up front, in item order, so replies arrive while pytest walks the
        # items. An xdist worker only learns its items one at a time, so it asks on demand.
        collecting = self.config.option.collectonly or self.settings.dry_run
        try:
            if not collecting and not hasattr(self.config, "workerinput"):
                self._ask_ahead(session.items)
        except SetupError as exc:
            raise pytest.UsageError(self._shown(exc)) from None
        return (yield)

    def _ask_ahead(self, items: list[pytest.Item]) -> None:
        self._plan_auto_suites(items, None)
        for item in items:
            # A skip mark means the test will not run: asking would cost for nothing.
            # (A skipif is decided at setup; such a test is asked then, if it runs.)
            if item.get_closest_marker("skip") or item.get_closest_marker("skipif"):
                continue
            plan = item.stash.get(PLAN_KEY, None) or item.stash.get(CASE_PLAN_KEY, None)
            if PLAN_KEY in item.stash and not self._answerable(item.stash[PLAN_KEY]):
                continue  # skipped (or failed) when it runs; the rest of the repo runs
            if plan is not None and plan.judge is not None:
                # Before anything is asked: a missing judge is a set-up error, like a
                # missing model, not a failure of every question that needs it.
                self.pipeline.judge(plan)
            if PLAN_KEY in item.stash:
                self.pipeline.submit(item.nodeid, item.stash[PLAN_KEY])
            elif CASE_PLAN_KEY in item.stash:
                self.pipeline.start_case(item.nodeid, item.stash[CASE_PLAN_KEY])

    def _answerable(self, plan: QuestionPlan) -> bool:
        try:
            self.pipeline.responder(plan)
        except NoResponder:
            return False
        return True

    def dry_run(self, session: pytest.Session) -> None:
        """Print what the run would ask, per suite, then the total."""
        plans = [
            (plan, CASE_PLAN_KEY in item.stash)
            for item in session.items
            if (plan := item.stash.get(PLAN_KEY, None) or item.stash.get(CASE_PLAN_KEY, None))
        ]
        try:
            dry = dry_run(self.pipeline, plans)
        except SetupError as exc:
            raise pytest.UsageError(self._shown(exc)) from None
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_sep("=", "abstain: dry run, nothing asked")
            for line in [*dry.lines(), dry.total()]:
                reporter.write_line(line)

    def pytest_runtest_protocol(self, item: pytest.Item, nextitem: pytest.Item | None) -> None:
        """On an xdist worker, ask for every question already queued to this worker."""
        if not hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        waiting = queued_on_this_worker(self.config)
        if len(self._planned_suites) < len(self._auto_suites(item.session.items)):
            # Every suite with a question here is planned before any is asked. xdist holds
            # the next item out of its queue: it is this worker's too.
            here = {self._index_of(item), *([self._index_of(nextitem)] if nextitem else [])}
            self._plan_auto_suites(item.session.items, {*waiting, *here})
        for index in waiting:
            queued = item.session.items[index]
            if PLAN_KEY in queued.stash and not queued.get_closest_marker("skip"):
                self._submit(queued)
        if PLAN_KEY in item.stash:
            self._submit(item)

    def _submit(self, item: pytest.Item) -> None:
        # A set-up error is the question's own failure here, reported when it runs.
        with contextlib.suppress(SetupError):
            self.pipeline.submit(item.nodeid, item.stash[PLAN_KEY])

    def pytest_runtest_logfinish(self) -> None:
        """Every few seconds, a progress line between pytest's own (never under -q)."""
        now = time.monotonic()
        if now < self._next_progress:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        progress = self.pipeline.asker.progress()
        if reporter is None or self.config.get_verbosity() < 0 or progress.submitted < 2:
            return
        if self._next_progress:  # the first call only starts the clock
            reporter.write_line(progress.line(), cyan=True)
        self._next_progress = now + (PROGRESS_EVERY_TTY if reporter.isatty else PROGRESS_EVERY_LOG)

    # -- a wrong answer's outcome -----------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Generator[None, None, None]:
        # The test's own body first (a marked test's extra checks fail it as they would).
        yield
        record = item.stash.get(RECORD_KEY, None)
        # A record with an error never gets here: its setup failed with the reason.
        if record is not None and record.counts.wrong:
            self._wrong(item, record)

    def _wrong(self, item: pytest.Item, record: QuestionRecord) -> None:
        """A wrong answer is an expected failure (xfailed): CI views colour it, and -x,
        --maxfail and --lf pass over it, since the suite's gates judge the score. On a
        critical question (or under --runxfail, which runs xfails as plain tests; pytest
        then makes pytest.xfail a no-op) it is a real failure."""
        message = wrong_message(record)
        option, plugins = item.config.option, item.config.pluginmanager
        # Without pytest's skipping plugin (-p no:skipping) nothing turns an xfail into one.
        plain = getattr(option, "runxfail", False) or not plugins.has_plugin("skipping")
        if record.critical or plain:
            pytest.fail(message, pytrace=False)
        pytest.xfail(message)

    # -- reports ----------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        record = item.stash.get(RECORD_KEY, None)
        if record is not None and (call.when == "call" or (call.when == "setup" and report.failed)):
            attach_record(report, record)
            worker = getattr(self.config, "workerinput", {}).get("workerid")
            if worker is not None:
                attach_tally(report, worker, self.pipeline.asker.tally())
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        # A question passes with its grade, or is xfailed for a wrong answer: 'W' either way.
        xfailed = report.skipped and hasattr(report, "wasxfail")
        if report.when != "call" or not (report.passed or xfailed):
            return None
        record = attached_record(report)
        if record is None:
            return None
        grade = worst_grade(record.grades)
        # A test's own xfail mark on a right answer stays pytest's xfailed.
        return None if xfailed and grade != "wrong" else _STATUS.get(grade)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        for title, lines in cache_sections(self.pipeline.misses, self.cache):
            if title is not None:
                terminalreporter.write_sep("-", title)
            for text, markup in lines:
                terminalreporter.write_line(text, **markup)

    def pytest_unconfigure(self) -> None:
        self.pipeline.asker.close()


def _judge_prompt(config: pytest.Config) -> str:
    """The judge prompt: --abstain-judge-prompt's file, checked, else the built-in one."""
    try:
        return read_judge_prompt(option_path(config, "judge_prompt"))
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _suite_root(config: pytest.Config) -> Path:
    """The folder suites may read files from: --abstain-root / abstain_root, else the rootdir."""
    root = option_path(config, "root") or config.rootpath
    if not root.is_dir():
        source = "--abstain-root" if config.getoption("abstain_root") else "abstain_root (ini)"
        raise pytest.UsageError(f"{source}: {root} is not a folder")
    return root


def _pacer(rpm: int | None, tpm: int | None) -> Pacer:
    """The account's budgets for this process: each xdist worker paces its share, so the
    run as a whole stays within them."""
    workers = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1") or 1))

    def share(budget: int | None) -> int | None:
        return None if budget is None else max(1, budget // workers)

    return Pacer(share(rpm), share(tpm))
