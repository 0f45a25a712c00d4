"""A suite run without pytest: the suite file loaded and planned as the plugin does, its
questions answered by a team's callable through the real pipeline, the records aggregated,
compared with a baseline and rendered, and the verdict decided. For tests whose behaviour is
pure code's, so that they need no pytester run and no HTTP server."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from pytest_abstain.asking.asker import Asker
from pytest_abstain.asking.cache import CacheKey, ResponseCache
from pytest_abstain.asking.endpoints import SetupError
from pytest_abstain.asking.responders import CallableResponder, Responder
from pytest_abstain.judging import DEFAULT_JUDGE_PROMPT
from pytest_abstain.pipeline import Hooks, Pipeline
from pytest_abstain.plan import QuestionPlan, plan_question
from pytest_abstain.planning import file_plans
from pytest_abstain.records import Reply
from pytest_abstain.render.terminal import render
from pytest_abstain.results.baseline import Baseline
from pytest_abstain.results.comparison import compared
from pytest_abstain.results.suites import SuiteResult, aggregate, overall_metrics
from pytest_abstain.results.sweep import sweeps
from pytest_abstain.results.verdict import Verdict, decide
from pytest_abstain.settings import OPTIONS, RunSettings, resolve
from pytest_abstain.suite import load_suite


@contextmanager
def asker() -> Iterator[Asker]:
    asking = Asker(concurrency=4)
    try:
        yield asking
    finally:
        asking.close()


def answering(replies: Mapping[str, str]) -> Callable[[str], str]:
    """A responder answering each prompt from the first key it contains ("I don't know."
    when none)."""

    def answer(prompt: str) -> str:
        return next((reply for key, reply in replies.items() if key in prompt), "I don't know.")

    return answer


def settings(cli: Mapping[str, Any] | None = None) -> RunSettings:
    """The run's settings from command-line values `cli` (option name: value) alone."""
    values: dict[str, Any] = {option.name: None for option in OPTIONS}
    values.update(cli or {})
    return resolve(values, {}, None, ())


def planned(
    path: Path, cli: Mapping[str, Any] | None = None, only: Callable[[str], bool] | None = None
) -> list[QuestionPlan]:
    """The plans of the suite at `path`, as the plugin makes them; `only` selects question
    ids as -k would."""
    loaded = load_suite(path, root=path.parent)
    plans = file_plans(loaded, path.name, path, settings(cli), DEFAULT_JUDGE_PROMPT)
    return [plan for _, plan in plans if only is None or only(plan.question.id)]


def run_suite(
    path: Path,
    answer: Callable[[str], str],
    *,
    cli: Mapping[str, Any] | None = None,
    only: Callable[[str], bool] | None = None,
    judge: Callable[[str], str] | None = None,
    responder_name: str = "m",
    judge_name: str = "j",
    cache: ResponseCache | None = None,
    record_mode: str = "missing",
    hooks: Hooks | None = None,
) -> list[SuiteResult]:
    """The suite at `path` answered by `answer` (and judged by `judge`), with command-line
    values `cli`; `only` selects question ids as -k would, the rest left unasked."""
    responder = CallableResponder(answer, responder_name, timeout=10)
    judging = None if judge is None else CallableResponder(judge, judge_name, 10)

    def the_judge(plan: QuestionPlan) -> Responder:
        if judging is None:
            raise SetupError("no judge")
        return judging

    plans = planned(path, cli, only)
    with asker() as asking:
        pipeline = Pipeline(
            asking,
            responder=lambda plan: responder,
            judge=the_judge,
            cache=cache,
            record_mode=record_mode,
            hooks=hooks or Hooks(),
        )
        records = [pipeline.record(f"{path.name}::{plan.question.id}", plan) for plan in plans]
    return aggregate(records)


def gated(
    results: Sequence[SuiteResult],
    baseline: Baseline | None = None,
    tag_min_questions: int = 20,
    gating: bool = True,
) -> tuple[list[SuiteResult], Verdict]:
    """`results` compared with `baseline` (when there is one), and the run's verdict."""
    if baseline is not None:
        results = compared(results, baseline, tag_min_questions, gating)
    return list(results), decide(results, sweeps(results))


def summary(results: Sequence[SuiteResult], verbosity: int = 0) -> pytest.LineMatcher:
    """The terminal summary's lines, to match as pytest matches a run's output."""
    lines = render(results, overall_metrics(results), verbosity)
    return pytest.LineMatcher([text for text, _ in lines])


def plans_of(tmp_path: Path, suite: str, file_name: str) -> list[QuestionPlan]:
    """The plans of `suite` (YAML text) written to `file_name`, all keyed "suite"."""
    path = tmp_path / file_name
    path.write_text(suite, encoding="utf-8")
    loaded = load_suite(path, root=tmp_path)
    return [
        plan_question(
            "suite",
            path.name,
            path,
            loaded.settings,
            settings(),
            question,
            index,
            suite_size=len(loaded.questions),
            judge_prompt=DEFAULT_JUDGE_PROMPT,
        )
        for index, question in enumerate(loaded.questions)
    ]


class MemoryCache:
    """An in-memory response cache with the pipeline's interface."""

    root = "memory"

    def __init__(self) -> None:
        self.entries: dict[str, Reply] = {}

    def get(self, key: CacheKey) -> Reply | None:
        stored = self.entries.get(key.digest)
        return None if stored is None else dataclasses.replace(stored, cached=True)

    def put(self, key: CacheKey, reply: Reply) -> None:
        self.entries[key.digest] = reply

    def explain_miss(self, key: CacheKey) -> str:
        return "never asked"
