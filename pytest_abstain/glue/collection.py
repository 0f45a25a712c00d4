"""pytest glue: suite files and @pytest.mark.abstain tests become items with a question plan."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import pytest

from ..expiry import Dated, dated, run_day
from ..plan import QuestionPlan
from ..planning import Marked, file_plans, marked_plan, with_messages
from ..records import JudgeCase, QuestionRecord
from ..settings import RunSettings
from ..suite import (
    SuiteError,
    load_suite,
)
from .xdist_bridge import mark_expiry


class Run(Protocol):
    """What items need of the run (session.AbstainRun)."""

    settings: RunSettings
    suite_root: Path
    judge_prompt: str

    def resolve(self, item: pytest.Item) -> QuestionRecord: ...
    def judge_case(self, item: pytest.Item) -> JudgeCase: ...
    def dry_run(self, session: pytest.Session) -> None: ...


RUN_KEY = pytest.StashKey[Run]()
PLAN_KEY = pytest.StashKey[QuestionPlan]()
PLAN_ERROR_KEY = pytest.StashKey[str]()
#: A judge calibration case's plan (not PLAN_KEY: nothing asks the model for it) and result.
CASE_PLAN_KEY = pytest.StashKey[QuestionPlan]()
CASE_KEY = pytest.StashKey[JudgeCase]()
RECORD_KEY = pytest.StashKey[QuestionRecord]()
#: Why a question is not asked (a stale one, under --abstain-expired=skip).
SKIP_KEY = pytest.StashKey[str]()


class SuiteFile(pytest.File):
    """An abstain_*.yaml file: one item per question, in file order."""

    def collect(self) -> Iterable[pytest.Item]:
        run = self.config.stash[RUN_KEY]
        label = self.nodeid or self.path.name
        suite = load_suite(self.path, label=label, root=run.suite_root)
        plans = file_plans(suite, label, self.path, run.settings, run.judge_prompt)
        today = run_day(run.settings.today)
        for name, plan in plans:
            if suite.settings.judge_calibration:
                yield JudgeCaseItem.from_parent(self, name=name, plan=plan)
            else:
                plan = custom_messages(self.config, plan, str(self.path))
                found = dated(plan.question, suite_source(plan), today, run.settings.expired)
                item = QuestionItem.from_parent(
                    self, name=name, plan=dated_plan(plan, found), skip=found.skip
                )
                if found.note is not None:
                    mark_expiry(item, found.note)
                yield item

    def repr_failure(  # type: ignore[override]  # as pytest's own Collector does
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> Any:
        if isinstance(excinfo.value, SuiteError):
            return excinfo.value.render()
        return super().repr_failure(excinfo)


class QuestionItem(pytest.Item):
    """One question of a suite file; its replies are fetched and graded at setup."""

    def __init__(self, *, plan: QuestionPlan, skip: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if skip is None:
            self.stash[PLAN_KEY] = plan
        else:
            # Without a plan nothing asks it (ahead, on a worker, in a dry run); not a skip
            # mark, which pytest reports at the item's line, and a question has none.
            self.stash[SKIP_KEY] = skip
        # Tags select with -k; as markers they would break --strict-markers. The abstain
        # marker (registered) lets -m "not abstain" leave every honesty question out.
        self.extra_keyword_matches.update(plan.question.tags)
        self.add_marker("abstain")

    def setup(self) -> None:
        if SKIP_KEY in self.stash:
            pytest.skip(self.stash[SKIP_KEY])
        self.config.stash[RUN_KEY].resolve(self)

    def runtest(self) -> None:
        # The grade is the result. A wrong answer ends it xfailed, or failed on a critical
        # question (session.py, pytest_runtest_call, which marked tests share).
        pass

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"abstain question {self.name}"


class JudgeCaseItem(pytest.Item):
    """One case of a judge calibration suite: passes when the judge agrees with the human."""

    def __init__(self, *, plan: QuestionPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stash[CASE_PLAN_KEY] = plan
        self.extra_keyword_matches.update(plan.question.tags)
        self.add_marker("abstain")

    def setup(self) -> None:
        self.config.stash[RUN_KEY].judge_case(self)

    def runtest(self) -> None:
        case = self.stash[CASE_KEY]
        if case.error is not None:
            pytest.fail(f"no verdict on {case.id!r}: {case.error}", pytrace=False)
        if not case.agrees:
            pytest.fail(
                f"the judge {case.judge} says {case.verdict}, the human verdict is {case.human} "
                f"(the string rules say {case.rules})\n"
                f"  reply: {self.stash[CASE_PLAN_KEY].question.canned_reply!r}",
                pytrace=False,
            )

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"judge calibration case {self.name}"


def plan_marked_tests(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give every @pytest.mark.abstain test its plan (or the reason it has none), and the
    abstain_result fixture; a test module is the suite of its marked tests."""
    run = config.stash[RUN_KEY]
    today = run_day(run.settings.today)
    positions: dict[str, int] = {}
    claimed: dict[tuple[str, str], str] = {}
    sizes: dict[str, int] = {}
    for item in items:
        module = item.getparent(pytest.Module)
        if module is not None and item.get_closest_marker("abstain") is not None:
            sizes[module.nodeid] = sizes.get(module.nodeid, 0) + 1
    for item in items:
        if PLAN_KEY in item.stash or not isinstance(item, pytest.Function):
            continue
        marker = item.get_closest_marker("abstain")
        if marker is None:
            continue
        try:
            plan = _plan_marked(config, item, marker, positions, sizes)
            owner = claimed.setdefault((plan.suite_key, plan.question.id), item.nodeid)
            if owner != item.nodeid:
                raise SuiteError(
                    item.nodeid,
                    [f"question id {plan.question.id!r} is already taken by {owner}: "
                     "give one of them its own id=..."],
                )  # fmt: skip
        except SuiteError as exc:
            item.stash[PLAN_ERROR_KEY] = exc.render()
        else:
            found = dated(plan.question, suite_source(plan), today, run.settings.expired)
            item.stash[PLAN_KEY] = dated_plan(plan, found)
            mark_dated(item, found)
        if "abstain_result" not in item.fixturenames:
            item.fixturenames.append("abstain_result")


def _plan_marked(
    config: pytest.Config,
    item: pytest.Function,
    marker: pytest.Mark,
    positions: dict[str, int],
    sizes: dict[str, int],
) -> QuestionPlan:
    """A question declared with @pytest.mark.abstain; its module is its suite."""
    run = config.stash[RUN_KEY]
    module = item.getparent(pytest.Module)
    assert module is not None  # a Function always lives in a module
    suite_marker = module.get_closest_marker("abstain_suite")
    marked = Marked(
        nodeid=item.nodeid,
        module_nodeid=module.nodeid,
        module_path=module.path,
        args=marker.args,
        kwargs=marker.kwargs,
        suite_kwargs=None if suite_marker is None else suite_marker.kwargs,
        suite_marker_misplaced=item.get_closest_marker("abstain_suite") is not suite_marker,
    )
    index = positions.get(module.nodeid, -1) + 1
    plan = marked_plan(
        marked, run.settings, run.suite_root, run.judge_prompt, index, sizes[module.nodeid]
    )
    positions[module.nodeid] = index  # counted once it is a question
    return custom_messages(config, plan, item.nodeid)


def suite_source(plan: QuestionPlan) -> str:
    """The suite's file (or test module), without the model and t of a variant: a question
    expires once, however many models and thresholds ask it."""
    return plan.side_by_side or plan.sweep or plan.suite_key


def dated_plan(plan: QuestionPlan, found: Dated) -> QuestionPlan:
    """The plan with its question as the run's day leaves it (expiry.py)."""
    if not found.stale:
        return plan
    return dataclasses.replace(plan, question=found.question, stale=True)


def mark_dated(item: pytest.Function, found: Dated) -> None:
    """A stale or expiring marked test tells the controller (and JUnit XML); a stale one the
    policy skips is skipped with the reason, and never asked."""
    if found.note is not None:
        mark_expiry(item, found.note)
    if found.skip is not None:
        item.add_marker(pytest.mark.skip(reason=found.skip))


def custom_messages(config: pytest.Config, plan: QuestionPlan, source: str) -> QuestionPlan:
    """`plan` with the messages a conftest's pytest_abstain_build_messages returns, checked."""
    custom = config.hook.pytest_abstain_build_messages(
        config=config, question=plan.question, threshold=plan.threshold, messages=plan.messages
    )
    return with_messages(plan, custom, source)
