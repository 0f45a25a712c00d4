"""Questions as the run will ask them: a suite file's questions (one plan per question, and
per model and t of a sweep), a question declared on a test with @pytest.mark.abstain, and
the messages a team's hook builds instead of ours, checked."""

from __future__ import annotations

import dataclasses
import itertools
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .plan import QuestionPlan, plan_question, sweep_key, sweep_thresholds
from .settings import RunSettings
from .suite import (
    Suite,
    SuiteError,
    SuiteSettings,
    question_from_marker,
    settings_from_marker,
)


def file_plans(
    suite: Suite, label: str, path: Path, run: RunSettings, judge_prompt: str
) -> list[tuple[str, QuestionPlan]]:
    """(item name, plan) for each question of a suite file, in file order."""
    if suite.settings.judge_calibration:
        return [
            (question.id, _plan(suite, label, path, run, judge_prompt, index))
            for index, question in enumerate(suite.questions)
        ]
    sweep = sweep_thresholds(run, suite.settings)
    models = run.models if len(run.models) > 1 else (None,)
    plans = []
    for index, question in enumerate(suite.questions):
        # Each model, and each t of a sweep, gets its own item and its own suite result:
        # gates, baselines and JUnit cases then work per model and per t unchanged.
        for model, threshold in itertools.product(models, sweep or (None,)):
            base = label if model is None else f"{label}[{model}]"
            plan = _plan(
                suite,
                base if threshold is None else sweep_key(base, threshold),
                path,
                run,
                judge_prompt,
                index,
                sweep_threshold=threshold,
                sweep=None if threshold is None else base,
                model=model,
                side_by_side=None if model is None else label,
            )
            if threshold is not None and not plan.confidence_stated:
                raise SuiteError(
                    str(path),
                    ["thresholds: a sweep states each t in the prompt, but prompt_template "
                     "is off: every t would send the same question"],
                )  # fmt: skip
            params = [p for p in (model, None if threshold is None else f"t={threshold:g}") if p]
            plans.append((f"{question.id}[{'-'.join(params)}]" if params else question.id, plan))
    return plans


def _plan(
    suite: Suite,
    key: str,
    path: Path,
    run: RunSettings,
    judge_prompt: str,
    index: int,
    **variant: Any,
) -> QuestionPlan:
    return plan_question(
        key,
        path.name,
        path,
        suite.settings,
        run,
        suite.questions[index],
        index,
        suite_size=len(suite.questions),
        judge_prompt=judge_prompt,
        **variant,
    )


@dataclasses.dataclass(frozen=True)
class Marked:
    """A test's @pytest.mark.abstain, with where it sits."""

    nodeid: str
    module_nodeid: str
    module_path: Path
    args: Sequence[Any]
    kwargs: Mapping[str, Any]
    #: The module's abstain_suite marker's keywords; None when it has none.
    suite_kwargs: Mapping[str, Any] | None
    #: The test's closest abstain_suite marker is not its module's (on a class or function).
    suite_marker_misplaced: bool


def marked_plan(
    marked: Marked,
    run: RunSettings,
    suite_root: Path,
    judge_prompt: str,
    index: int,
    suite_size: int,
) -> QuestionPlan:
    """The plan of a question declared with @pytest.mark.abstain; its module is its suite."""
    if len(marked.args) > 1:
        raise SuiteError(
            marked.nodeid,
            ["@pytest.mark.abstain takes the question as its only positional argument; "
             "pass the rest by name (answer=..., idk=True)"],
        )  # fmt: skip
    kwargs = dict(marked.kwargs)
    if marked.args:
        kwargs.setdefault("question", marked.args[0])
    if marked.suite_marker_misplaced:
        raise SuiteError(
            marked.nodeid,
            ["abstain_suite sets a whole module's suite: put it in the module's pytestmark, "
             "not on a class or a function"],
        )  # fmt: skip
    settings = (
        settings_from_marker(
            marked.module_nodeid, marked.suite_kwargs, marked.module_path.parent, suite_root
        )
        if marked.suite_kwargs is not None
        else SuiteSettings()
    )
    if settings.thresholds is not None:
        raise SuiteError(
            marked.nodeid,
            ["thresholds (a sweep) is for suite files: put these questions in an "
             "abstain_*.yaml suite, or parametrize the test over t"],
        )  # fmt: skip
    # The test's name within its module (Class::test[param]) keeps ids unique by default.
    local_name = marked.nodeid[len(marked.module_nodeid) :].lstrip(":")
    question = question_from_marker(marked.nodeid, marker_id(local_name), kwargs)
    return plan_question(
        marked.module_nodeid,
        marked.module_path.name,
        marked.module_path,
        settings,
        run,
        question,
        index,
        suite_size=suite_size,
        judge_prompt=judge_prompt,
    )


def marker_id(name: str) -> str:
    """A question id from a test name: 'TestA::test_x[1]' -> 'TestA.test_x-1'."""
    dotted = name.replace("::", ".")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", dotted).strip("-.") or "question"


def with_messages(plan: QuestionPlan, custom: object, source: str) -> QuestionPlan:
    """`plan` with the messages a team's pytest_abstain_build_messages returned (None: ours),
    checked: a non-empty list of {"role": str, "content": str}."""
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
    assert isinstance(custom, list)
    return dataclasses.replace(plan, messages=[dict(m) for m in custom])
