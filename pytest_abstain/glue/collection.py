"""pytest glue: suite files and @pytest.mark.abstain tests become items with a question plan."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Protocol

import pytest

from ..plan import QuestionPlan, plan_question, sweep_key, sweep_thresholds
from ..records import JudgeCase, QuestionRecord
from ..settings import RunSettings
from ..suite import (
    Suite,
    SuiteError,
    SuiteSettings,
    load_suite,
    question_from_marker,
    settings_from_marker,
)


class Run(Protocol):
    """What items need of the run (session.AbstainRun)."""

    settings: RunSettings
    suite_root: Path
    judge_prompt: str

    def resolve(self, item: pytest.Item) -> QuestionRecord: ...
    def judge_case(self, item: pytest.Item) -> JudgeCase: ...


RUN_KEY = pytest.StashKey[Run]()
PLAN_KEY = pytest.StashKey[QuestionPlan]()
PLAN_ERROR_KEY = pytest.StashKey[str]()
#: A judge calibration case's plan (not PLAN_KEY: nothing asks the model for it) and result.
CASE_PLAN_KEY = pytest.StashKey[QuestionPlan]()
CASE_KEY = pytest.StashKey[JudgeCase]()
RECORD_KEY = pytest.StashKey[QuestionRecord]()


class SuiteFile(pytest.File):
    """An abstain_*.yaml file: one item per question, in file order."""

    def collect(self) -> Iterable[pytest.Item]:
        run = self.config.stash[RUN_KEY]
        label = self.nodeid or self.path.name
        suite = load_suite(self.path, label=label, root=run.suite_root)
        if suite.settings.judge_calibration:
            yield from self._judge_cases(label, suite)
            return
        sweep = sweep_thresholds(run.settings, suite.settings)
        models = run.settings.models if len(run.settings.models) > 1 else (None,)
        for index, question in enumerate(suite.questions):
            # Each model, and each t of a sweep, gets its own item and its own suite result:
            # gates, baselines and JUnit cases then work per model and per t unchanged.
            for model, threshold in itertools.product(models, sweep or (None,)):
                base = label if model is None else f"{label}[{model}]"
                t_param = None if threshold is None else f"t={threshold:g}"
                params = [p for p in (model, t_param) if p]
                plan = plan_question(
                    base if threshold is None else sweep_key(base, threshold),
                    self.path.name,
                    self.path,
                    suite.settings,
                    run.settings,
                    question,
                    index,
                    suite_size=len(suite.questions),
                    sweep_threshold=threshold,
                    sweep=None if threshold is None else base,
                    model=model,
                    side_by_side=None if model is None else label,
                    judge_prompt=run.judge_prompt,
                )
                if threshold is not None and not plan.confidence_stated:
                    raise SuiteError(
                        str(self.path),
                        ["thresholds: a sweep states each t in the prompt, but prompt_template "
                         "is off: every t would send the same question"],
                    )  # fmt: skip
                name = f"{question.id}[{'-'.join(params)}]" if params else question.id
                plan = custom_messages(self.config, plan, str(self.path))
                yield QuestionItem.from_parent(self, name=name, plan=plan)

    def _judge_cases(self, label: str, suite: Suite) -> Iterable[pytest.Item]:
        run = self.config.stash[RUN_KEY]
        for index, question in enumerate(suite.questions):
            plan = plan_question(
                label,
                self.path.name,
                self.path,
                suite.settings,
                run.settings,
                question,
                index,
                suite_size=len(suite.questions),
                judge_prompt=run.judge_prompt,
            )
            yield JudgeCaseItem.from_parent(self, name=question.id, plan=plan)

    def repr_failure(  # type: ignore[override]  # as pytest's own Collector does
        self, excinfo: pytest.ExceptionInfo[BaseException]
    ) -> Any:
        if isinstance(excinfo.value, SuiteError):
            return excinfo.value.render()
        return super().repr_failure(excinfo)


class QuestionItem(pytest.Item):
    """One question of a suite file; its replies are fetched and graded at setup."""

    def __init__(self, *, plan: QuestionPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stash[PLAN_KEY] = plan
        # Tags select with -k; as markers they would break --strict-markers.
        self.extra_keyword_matches.update(plan.question.tags)

    def setup(self) -> None:
        self.config.stash[RUN_KEY].resolve(self)

    def runtest(self) -> None:
        # The grade is the result; a wrong answer is scored, not failed (the gates decide).
        pass

    def reportinfo(self) -> tuple[Path, int | None, str]:
        return self.path, None, f"abstain question {self.name}"


class JudgeCaseItem(pytest.Item):
    """One case of a judge calibration suite: passes when the judge agrees with the human."""

    def __init__(self, *, plan: QuestionPlan, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.stash[CASE_PLAN_KEY] = plan
        self.extra_keyword_matches.update(plan.question.tags)

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
            item.stash[PLAN_KEY] = plan
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
    if len(marker.args) > 1:
        raise SuiteError(
            item.nodeid,
            ["@pytest.mark.abstain takes the question as its only positional argument; "
             "pass the rest by name (answer=..., idk=True)"],
        )  # fmt: skip
    kwargs = dict(marker.kwargs)
    if marker.args:
        kwargs.setdefault("question", marker.args[0])
    suite_marker = module.get_closest_marker("abstain_suite")
    if item.get_closest_marker("abstain_suite") is not suite_marker:
        raise SuiteError(
            item.nodeid,
            ["abstain_suite sets a whole module's suite: put it in the module's pytestmark, "
             "not on a class or a function"],
        )  # fmt: skip
    settings = (
        settings_from_marker(module.nodeid, suite_marker.kwargs, module.path.parent, run.suite_root)
        if suite_marker
        else SuiteSettings()
    )
    if settings.thresholds is not None:
        raise SuiteError(
            item.nodeid,
            ["thresholds (a sweep) is for suite files: put these questions in an "
             "abstain_*.yaml suite, or parametrize the test over t"],
        )  # fmt: skip
    # The test's name within its module (Class::test[param]) keeps ids unique by default.
    local_name = item.nodeid[len(module.nodeid) :].lstrip(":")
    question = question_from_marker(item.nodeid, _marker_id(local_name), kwargs)
    index = positions[module.nodeid] = positions.get(module.nodeid, -1) + 1
    plan = plan_question(
        module.nodeid,
        module.path.name,
        module.path,
        settings,
        run.settings,
        question,
        index,
        suite_size=sizes[module.nodeid],
        judge_prompt=run.judge_prompt,
    )
    return custom_messages(config, plan, item.nodeid)


def _marker_id(name: str) -> str:
    """A question id from a test name: 'TestA::test_x[1]' -> 'TestA.test_x-1'."""
    dotted = name.replace("::", ".")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", dotted).strip("-.") or "question"


def custom_messages(config: pytest.Config, plan: QuestionPlan, source: str) -> QuestionPlan:
    """`plan` with the messages a conftest's pytest_abstain_build_messages returns, checked."""
    custom = config.hook.pytest_abstain_build_messages(
        config=config, question=plan.question, threshold=plan.threshold, messages=plan.messages
    )
    if custom is None:
        return plan
    valid = isinstance(custom, list) and custom and all(
        isinstance(m, dict) and set(m) == {"role", "content"}
        and all(isinstance(v, str) for v in m.values())
        for m in custom
    )  # fmt: skip
    if not valid:
        raise SuiteError(
            source,
            [f"question {plan.question.id!r}: pytest_abstain_build_messages returned "
             f"{str(custom)[:120]!r}: expected a non-empty list of "
             '{"role": str, "content": str} dicts, or None'],
        )  # fmt: skip
    return dataclasses.replace(plan, messages=[dict(m) for m in custom])
