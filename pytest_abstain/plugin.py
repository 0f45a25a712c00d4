"""pytest glue: options, collection of suites and markers, asking, per-item reports.

The glue modules (this one, controller.py and hookspec.py) import pytest; the rest is plain
Python.
"""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import functools
import itertools
import json
import os
import re
import time
from collections.abc import Callable, Generator, Iterable
from pathlib import Path
from typing import Any, cast

import pytest

from . import hookspec
from .asking import STOP_PROPERTY, Asker, stop_message
from .cache import CacheKey, ResponseCache
from .controller import (
    CASE_PROPERTY,
    REPORT_ATTR,
    AbstainResults,
    option_path,
    run_endpoint,
    unwritable,
)
from .grading import Grade, bounded_search, response_format, rule_grade
from .judging import (
    DEFAULT_JUDGE_PROMPT,
    JudgeCase,
    VerdictError,
    judge_prompt_problem,
    parse_verdict,
)
from .plan import (
    FirstGrade,
    Graded,
    QuestionPlan,
    first_grades,
    judge_request,
    plan_question,
    record_of,
    sweep_key,
    sweep_thresholds,
    to_judge,
)
from .prompts import Message
from .report import question_properties
from .responders import CallableResponder, OpenAIResponder, Reply, Responder
from .results import QuestionRecord, worst_grade
from .retrying import RetryPolicy
from .settings import OPTIONS, RunSettings, SettingsError, openai_base_url_problem, resolve
from .suite import (
    Suite,
    SuiteError,
    SuiteSettings,
    is_suite_file,
    load_suite,
    question_from_marker,
    settings_from_marker,
)

PLAN_KEY = pytest.StashKey[QuestionPlan]()
PLAN_ERROR_KEY = pytest.StashKey[str]()
#: A judge calibration case's plan (not PLAN_KEY: nothing asks the model for it) and result.
CASE_PLAN_KEY = pytest.StashKey[QuestionPlan]()
CASE_KEY = pytest.StashKey["JudgeCase"]()
RECORD_KEY = pytest.StashKey[QuestionRecord]()
RUN_KEY = pytest.StashKey["AbstainRun"]()

#: Seconds between progress lines: a live terminal gets frequent ones, a CI log fewer.
PROGRESS_EVERY_TTY = 2.0
PROGRESS_EVERY_LOG = 10.0

_STATUS = {
    "correct": ("correct", ".", ("CORRECT", {"green": True})),
    "wrong": ("wrong", "W", ("WRONG", {"yellow": True})),
    "abstained": ("abstained", "A", ("ABSTAINED", {"cyan": True})),
}


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("abstain", "honesty tests at a stated confidence target")
    for option in OPTIONS:
        # argparse formats help with %: a literal "5%" would crash `pytest --help`.
        help_text = option.help.replace("%", "%%")
        if option.kind is bool:
            group.addoption(
                option.flag, dest=option.ini, action="store_const", const=True, help=help_text
            )
        elif option.repeatable:
            group.addoption(
                option.flag,
                dest=option.ini,
                action="append",
                default=None,
                metavar=option.metavar,
                help=help_text,
            )
        else:
            group.addoption(
                option.flag,
                dest=option.ini,
                type=option.kind,
                default=None,
                metavar=option.metavar,
                help=help_text,
            )
        parser.addini(option.ini, f"{option.help} (twin of {option.flag})", type="string")
    parser.addini(
        "abstain_prompt_template",
        "user message template with {question}, {threshold}, {threshold_percent}, {penalty}; "
        "'off' sends questions as-is",
        type="string",
    )
    parser.addini(
        "abstain_idk_phrases", "extra phrases that count as 'I don't know'", type="linelist"
    )


def _settings(config: pytest.Config) -> RunSettings:
    cli = {o.name: config.getoption(o.ini) for o in OPTIONS}
    ini = {o.name: str(config.getini(o.ini) or "") for o in OPTIONS}
    try:
        return resolve(
            cli,
            ini,
            prompt_template=str(config.getini("abstain_prompt_template") or "") or None,
            idk_phrases=tuple(config.getini("abstain_idk_phrases")),
            openai_base_url=os.environ.get("OPENAI_BASE_URL"),
        )
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "abstain(question, answer=..., idk=..., regex=..., tolerance=..., tags=...): "
        "ask this question of the model; the test receives the graded result as abstain_result",
    )
    config.addinivalue_line(
        "markers",
        "abstain_suite(threshold=..., samples=..., gates=..., ...): suite settings for the "
        "abstain questions of a module, with the keys of a suite file",
    )
    settings = _settings(config)
    run = AbstainRun(config, settings)
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(run, "abstain-run")
    # Results are aggregated and gated once, where the reports arrive: not on xdist workers.
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(AbstainResults(config, settings), "abstain-results")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_suite_file(file_path):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


def pytest_report_header(config: pytest.Config) -> str:
    s = config.stash[RUN_KEY].settings
    threshold = s.threshold.given
    t_text = f"{threshold:g}" if threshold is not None else "per suite (default 0.75)"
    samples = s.samples.given
    models = ",".join(s.models) or "(conftest responder)"
    return (
        f"abstain: model={models} endpoint={run_endpoint(s) or '-'} "
        f"t={t_text} samples={samples or 'per suite (default 1)'} concurrency={s.concurrency}"
    )


@pytest.fixture
def abstain_result(request: pytest.FixtureRequest) -> QuestionRecord:
    """The graded replies of the `@pytest.mark.abstain` question this test declares."""
    item = request.node
    if PLAN_ERROR_KEY in item.stash:
        pytest.fail(item.stash[PLAN_ERROR_KEY], pytrace=False)
    if not isinstance(item, pytest.Item) or PLAN_KEY not in item.stash:
        pytest.fail("abstain_result needs @pytest.mark.abstain(...) on the test", pytrace=False)
    return request.config.stash[RUN_KEY].resolve(item)


def _queued_on_this_worker(config: pytest.Config) -> list[int]:
    """Indices of the items xdist has sent this worker and it has not run yet.

    xdist has no public API for this, so this reads its worker queue defensively: if that
    ever changes, the worker asks each question when its test starts, which is slower but
    still correct.
    """
    for plugin in config.pluginmanager.get_plugins():
        queue = getattr(plugin, "torun", None)
        if queue is None or not hasattr(queue, "lock"):
            continue
        try:
            with queue.lock() as pending:
                return [index for index in pending if isinstance(index, int)]
        except Exception:
            return []
    return []


def _done(reply: Reply) -> concurrent.futures.Future[Reply]:
    future: concurrent.futures.Future[Reply] = concurrent.futures.Future()
    future.set_result(reply)
    return future


class SuiteFile(pytest.File):
    """An abstain_*.yaml file: one item per question, in file order."""

    def collect(self) -> Iterable[pytest.Item]:
        label = self.nodeid or self.path.name
        suite = load_suite(self.path, label=label, root=self.config.stash[RUN_KEY].suite_root)
        settings = self.config.stash[RUN_KEY].settings
        if suite.settings.judge_calibration:
            yield from self._judge_cases(label, suite)
            return
        sweep = sweep_thresholds(settings, suite.settings)
        models = settings.models if len(settings.models) > 1 else (None,)
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
                    settings,
                    question,
                    index,
                    suite_size=len(suite.questions),
                    sweep_threshold=threshold,
                    sweep=None if threshold is None else base,
                    model=model,
                    side_by_side=None if model is None else label,
                    judge_prompt=self.config.stash[RUN_KEY].judge_prompt,
                )
                if threshold is not None and not plan.confidence_stated:
                    raise SuiteError(
                        str(self.path),
                        ["thresholds: a sweep states each t in the prompt, but prompt_template "
                         "is off: every t would send the same question"],
                    )  # fmt: skip
                name = f"{question.id}[{'-'.join(params)}]" if params else question.id
                plan = _custom_messages(self.config, plan, str(self.path))
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


#: Sent with every judge request: the same reply should get the same verdict every run.
JUDGE_PARAMS = {"temperature": 0}
JUDGE_HOOK = "pytest_abstain_make_judge"


def _readable_verdict(reply: Reply) -> bool:
    try:
        parse_verdict(reply.text or "")
    except VerdictError:
        return False
    return True


def _store_if(keep: Callable[[Reply], bool], store: Callable[[Reply], None], reply: Reply) -> None:
    if keep(reply):
        store(reply)


@dataclasses.dataclass
class _Judging:
    graded: list[FirstGrade]
    verdicts: dict[int, concurrent.futures.Future[Reply]]


def _judge_prompt(config: pytest.Config) -> str:
    """The judge prompt: --abstain-judge-prompt's file, checked, else the built-in one."""
    path = option_path(config, "judge_prompt")
    if path is None:
        return DEFAULT_JUDGE_PROMPT
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise pytest.UsageError(f"cannot read the judge prompt {path}: {exc}") from None
    problem = judge_prompt_problem(text)
    if problem:
        raise pytest.UsageError(f"the judge prompt {path} {problem}")
    return text


def _suite_root(config: pytest.Config) -> Path:
    """The folder suites may read files from: --abstain-root / abstain_root, else the rootdir."""
    root = option_path(config, "root") or config.rootpath
    if not root.is_dir():
        source = "--abstain-root" if config.getoption("abstain_root") else "abstain_root (ini)"
        raise pytest.UsageError(f"{source}: {root} is not a folder")
    return root


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


def _marker_id(name: str) -> str:
    """A question id from a test name: 'TestA::test_x[1]' -> 'TestA.test_x-1'."""
    dotted = name.replace("::", ".")
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", dotted).strip("-.") or "question"


class AbstainRun:
    """Per-process state: settings, responders and the asker (also on xdist workers)."""

    def __init__(self, config: pytest.Config, settings: RunSettings) -> None:
        self.config = config
        self.settings = settings
        self.asker = Asker(settings.concurrency, RetryPolicy(settings.retries, settings.backoff))
        #: What the conftest's hooks answer: a responder per suite file, and the judge (keyed
        #: by the hook's name); None where the hook gives none.
        self._hooked: dict[Path | str, Responder | None] = {}
        self._openai: dict[tuple[str, str | None, bool], OpenAIResponder] = {}
        self._futures: dict[str, list[concurrent.futures.Future[Reply]]] = {}
        #: Items whose replies are all in: the judge can be sent what it must grade.
        self._replied: collections.deque[pytest.Item] = collections.deque()
        #: Per item: its replies, their first grades, and the judge's verdicts by reply index.
        self._judging: dict[str, _Judging] = {}
        self.judge_prompt = _judge_prompt(config)
        self.suite_root = _suite_root(config)
        self._misses: list[str] = []
        self._next_progress = 0.0
        cache_dir = option_path(config, "cache")
        # The keys _openai_responder sends: no cache entry may hold one (the cache skips blanks).
        keys = [os.environ.get(name, "") for name in ("OPENAI_API_KEY", "ABSTAIN_JUDGE_API_KEY")]
        self.cache = (
            ResponseCache(cache_dir, secrets=keys)
            if cache_dir and settings.record != "off"
            else None
        )
        # --collect-only asks nothing, so a cache it cannot use is no reason to fail it.
        usable = self.cache and cache_dir and not config.option.collectonly
        problem = _cache_problem(cache_dir, settings.record) if usable and cache_dir else None
        if problem:
            raise pytest.UsageError(f"cannot use the response cache {cache_dir}: {problem}")

    # -- questions declared in Python --------------------------------------------------

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
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
                plan = self._plan_marked(item, marker, positions, sizes)
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
        self,
        item: pytest.Function,
        marker: pytest.Mark,
        positions: dict[str, int],
        sizes: dict[str, int],
    ) -> QuestionPlan:
        """A question declared with @pytest.mark.abstain; its module is its suite."""
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
            settings_from_marker(
                module.nodeid, suite_marker.kwargs, module.path.parent, self.suite_root
            )
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
            self.settings,
            question,
            index,
            suite_size=sizes[module.nodeid],
            judge_prompt=self.judge_prompt,
        )
        return _custom_messages(self.config, plan, item.nodeid)

    # -- asking ---------------------------------------------------------------------

    def _grade(self, plan: QuestionPlan, reply: str) -> Graded:
        """The conftest's grade if it gives one, else the string rules (with their doubt, for
        the judge), with the conftest's word on abstention if it gives one."""
        hook, question = self.config.hook, plan.question
        given = hook.pytest_abstain_grade_reply(config=self.config, question=question, reply=reply)
        if given is not None:
            if given not in ("correct", "wrong", "abstained"):
                raise ValueError(
                    f"pytest_abstain_grade_reply returned {given!r}: expected 'correct', "
                    "'wrong', 'abstained' or None"
                )
            return Graded(cast(Grade, given), "hook")
        abstained = hook.pytest_abstain_is_abstention(
            config=self.config, question=question, reply=reply
        )
        if abstained is not None and not isinstance(abstained, bool):
            raise ValueError(
                f"pytest_abstain_is_abstention returned {abstained!r}: expected True, False or None"
            )
        rules = rule_grade(
            reply,
            question.expectation,
            plan.idk_phrases,
            abstained=abstained,
            deflections=plan.deflections,
            search=bounded_search,  # the glue runs on the main thread, where a timer can be set
        )
        return Graded(rules.grade, "rules", rules.doubt)

    def responder_for(self, item: pytest.Item) -> Responder:
        plan = item.stash[PLAN_KEY]
        hooked = self._hooked_responder(item, plan.suite_path)
        if hooked is not None:
            if plan.model is not None:
                raise pytest.UsageError(
                    f"several --abstain-model values compare models through the openai client, "
                    f"but pytest_abstain_make_responder answers {plan.suite_path}: pass one "
                    "--abstain-model, or compare models inside your responder"
                )
            return hooked
        model = plan.model or self.settings.model
        if model:
            return self._openai_responder(model)
        raise pytest.UsageError(
            f"no model to ask for {item.nodeid}: pass --abstain-model NAME (and "
            "--abstain-base-url for a non-OpenAI endpoint), or implement "
            "pytest_abstain_make_responder in a conftest.py"
        )

    def _hooked_responder(self, item: pytest.Item, path: Path) -> Responder | None:
        """The conftest's responder for the suite at `path`, asked once per suite."""
        return self._from_hook(
            path,
            "pytest_abstain_make_responder",
            lambda: item.ihook.pytest_abstain_make_responder(config=self.config, suite_path=path),
        )

    def _from_hook(self, key: Path | str, hook: str, call: Callable[[], Any]) -> Responder | None:
        """The callable a `pytest_abstain_make_*` hook returns, wrapped as a responder; asked
        once per `key`. None where the hook gives none."""
        if key not in self._hooked:
            try:
                fn = call()
            except Exception as exc:
                raise pytest.UsageError(f"{hook} raised {type(exc).__name__}: {exc}") from None
            name = getattr(fn, "abstain_name", None)
            timeout = self.settings.timeout
            self._hooked[key] = None if fn is None else CallableResponder(fn, name, timeout)
        return self._hooked[key]

    def _openai_responder(self, model: str, judge: bool = False) -> OpenAIResponder:
        """The client for `model`: the model under test's endpoint, or the judge's."""
        s = self.settings
        base_url = (s.judge_base_url or s.base_url) if judge else s.base_url
        # A key pasted into a CI secret often ends in a newline, which no HTTP library
        # sends (and some quote back in their error).
        api_key = os.environ.get("OPENAI_API_KEY", "").strip() or None
        if judge:
            api_key = os.environ.get("ABSTAIN_JUDGE_API_KEY", "").strip() or api_key
        # The judge gets its own client even for the same model and URL: its key may differ.
        responder = self._openai.get((model, base_url, judge))
        if responder is None:
            fallback = os.environ.get("OPENAI_BASE_URL")
            if base_url is None and fallback is not None:
                # Checked at configure time when a model is named there; a judge model named
                # only in a suite is known only now.
                problem = openai_base_url_problem(fallback)
                if problem:
                    raise pytest.UsageError(problem)
            responder = self._openai[(model, base_url, judge)] = OpenAIResponder(
                model=model,
                base_url=base_url,
                api_key=api_key,
                timeout=s.timeout,
                # A grader should give the same verdict on the same reply every time.
                params=JUDGE_PARAMS if judge else None,
            )
        return responder

    def _judge_responder(self, plan: QuestionPlan) -> Responder:
        """The judge model's client, else the conftest's pytest_abstain_make_judge."""
        assert plan.judge is not None
        if plan.judge.model is not None:
            return self._openai_responder(plan.judge.model, judge=True)
        judge = self._from_hook(
            JUDGE_HOOK,
            JUDGE_HOOK,
            lambda: self.config.hook.pytest_abstain_make_judge(config=self.config),
        )
        if judge is None:
            raise pytest.UsageError(
                f"{plan.suite_key} asks an LLM judge (judge: {plan.judge.when}) but none is "
                f"set: pass --abstain-judge-model NAME, or implement {JUDGE_HOOK} in a conftest.py"
            )
        return judge

    def cache_keys(self, item: pytest.Item) -> list[CacheKey]:
        plan = item.stash[PLAN_KEY]
        responder = self.responder_for(item)
        params = responder.params
        if plan.verbal_confidence:
            params = {**params, "response_format": response_format()}
        return [
            CacheKey.of(responder.endpoint, responder.name, params, plan.messages, k)
            for k in range(plan.samples)
        ]

    def submit(self, item: pytest.Item) -> list[concurrent.futures.Future[Reply]]:
        """The item's replies, one future per sample: from the cache, or asked (once)."""
        futures = self._futures.get(item.nodeid)
        if futures is None:
            plan = item.stash[PLAN_KEY]
            responder = self.responder_for(item)
            futures = [
                self._ask(
                    f"{item.nodeid} sample {sample + 1}",
                    (item.nodeid, sample),
                    key,
                    responder,
                    plan.messages,
                    response_format() if plan.verbal_confidence else None,
                )
                for sample, key in enumerate(self.cache_keys(item))
            ]
            self._futures[item.nodeid] = futures
            if plan.judge is not None:
                # Once every reply is in, the judge can start on it before pytest gets there.
                def replied(_: object, item: pytest.Item = item) -> None:
                    if all(future.done() for future in futures):
                        self._replied.append(item)  # deque.append is thread-safe

                for future in futures:
                    future.add_done_callback(replied)
        return futures

    def _ask(
        self,
        label: str,
        ask_key: object,
        key: CacheKey,
        responder: Responder,
        messages: list[Message],
        response_format: dict[str, Any] | None = None,
        keep: Callable[[Reply], bool] | None = None,
    ) -> concurrent.futures.Future[Reply]:
        """One reply: from the cache, or asked (once per `ask_key`) and then stored, unless
        `keep` says it is not worth keeping (a judge's unreadable verdict is asked again)."""
        stored = self._from_cache(label, key)
        if stored is not None:
            return _done(stored)
        store = None
        if self.cache is not None:
            put = functools.partial(self.cache.put, key)
            store = put if keep is None else functools.partial(_store_if, keep, put)
        return self.asker.submit(ask_key, responder, messages, store, response_format)

    def _from_cache(self, label: str, key: CacheKey) -> Reply | None:
        """A stored reply; in replay-only mode a miss is an error reply naming the request."""
        cache, mode = self.cache, self.settings.record
        if cache is None or mode == "all":
            return None
        stored = cache.get(key)
        if stored is not None or mode != "replay":
            if stored is None and self.settings.explain_misses:
                self._misses.append(f"{label}: {cache.explain_miss(key)}")
            return stored
        return Reply.failed(
            f"not in the response cache {cache.root} (--abstain-record replay asks nothing): "
            f"{cache.explain_miss(key)}. Record it with --abstain-record missing"
        )

    def resolve(self, item: pytest.Item) -> QuestionRecord:
        """Wait for the item's replies, grade them, and keep the record on the item."""
        record = item.stash.get(RECORD_KEY, None)
        if record is None:
            plan = item.stash[PLAN_KEY]
            try:
                futures = self.submit(item)
            except pytest.UsageError as exc:
                # Reached only where nothing was asked up front (an xdist worker).
                problem = str(exc)
            else:
                problem = ""
            if problem:
                pytest.fail(problem, pytrace=False)
            try:
                replies = [future.result() for future in futures]
            except concurrent.futures.CancelledError:
                if self.asker.fatal is None:
                    pytest.fail("the request was cancelled before a reply came", pytrace=False)
                replies = []
            if self.asker.fatal is not None:
                # pytest (and each xdist worker) stops after this item; the controller
                # turns the stop into a usage error (AbstainResults.pytest_runtestloop).
                item.session.shouldstop = stop_message(self.asker.fatal)
                # The controller learns of the stop from this property, a value on the report
                # (it crosses xdist), not from the wording of pytest's interruption.
                item.user_properties.append((STOP_PROPERTY, self.asker.fatal))
                if not replies:
                    pytest.skip("not asked: the run stopped early")
            responder = self.responder_for(item)
            graded, verdicts, judge_name = self._judged(item.nodeid, plan, replies)
            record = record_of(
                plan,
                item.nodeid,
                responder.name,
                responder.endpoint,
                replies,
                graded,
                verdicts,
                judge_name,
            )
            item.stash[RECORD_KEY] = record
            item.user_properties.extend(question_properties(record))
        failed = [(i, e) for i, e in enumerate(record.errors) if e is not None]
        if failed:
            # A reply the judge could not grade came back: it has no grade, not no reply.
            got_replies = all(record.replies[i] is not None for i, _ in failed)
            missing = "no grade" if got_replies else "no reply"
            lines = [
                f"{missing} for {record.id!r} from {record.suite.responder} "
                f"({len(failed)} of {len(record.errors)} samples); not scored:"
            ]
            lines.extend(f"  sample {i + 1}: {e}" for i, e in failed)
            # pytrace=False: the reason is the endpoint's, a traceback of ours would bury it.
            pytest.fail("\n".join(lines), pytrace=False)
        return record

    # -- the judge --------------------------------------------------------------------

    def _judged(
        self, nodeid: str, plan: QuestionPlan, replies: list[Reply], hooks: bool = True
    ) -> tuple[list[FirstGrade], dict[int, Reply], str | None]:
        """First grades of the replies, the judge's verdicts where it was asked, its name.

        Before waiting, the judge is sent the replies of every later item already in: the
        judge then works ahead of pytest, as the model does, instead of one item at a time.
        """
        judge_name = None
        if plan.judge is not None:
            try:
                judge_name = self._judge_responder(plan).name
            except pytest.UsageError as exc:  # no judge to ask: this question's error
                pytest.fail(str(exc), pytrace=False)
        judging = self._start_judging(nodeid, plan, replies, hooks)
        while self._replied:
            ready = self._replied.popleft()
            if ready.nodeid not in self._judging:
                # Its own resolve reports a missing judge, on the right question.
                with contextlib.suppress(pytest.UsageError):
                    self._start_judging(ready.nodeid, ready.stash[PLAN_KEY], None)
        verdicts: dict[int, Reply] = {}
        for index, future in judging.verdicts.items():
            try:
                verdicts[index] = future.result()
            except concurrent.futures.CancelledError:
                if self.asker.fatal is not None:
                    pytest.skip("not judged: the run stopped early")
                verdicts[index] = Reply.failed("the judge's request was cancelled")
        return judging.graded, verdicts, judge_name

    def _start_judging(
        self, nodeid: str, plan: QuestionPlan, replies: list[Reply] | None, hooks: bool = True
    ) -> _Judging:
        """Grade the replies by the rules (and the grading hooks, unless `hooks` is False), and
        send the judge the ones it must grade; once per item. `replies` None: read them from
        the item's (done) futures."""
        judging = self._judging.get(nodeid)
        if judging is not None:
            return judging
        if replies is None:
            futures = self._futures[nodeid]
            if any(future.cancelled() for future in futures):
                return _Judging([], {})  # the run is stopping; resolve says so
            replies = [future.result() for future in futures]
        graded = first_grades(plan, replies, self._grade if hooks else None)
        picked = to_judge(plan, graded)
        judging = _Judging(graded, {})
        if picked:
            judge = self._judge_responder(plan)
            for index in picked:
                first = graded[index]
                assert isinstance(first, Graded)  # only graded replies are picked
                # The judge grades what the rules graded: the answer inside a JSON reply.
                text = first.stated.answer if first.stated else replies[index].text
                messages = judge_request(plan, text or "")
                key = CacheKey.of(judge.endpoint, judge.name, judge.params, messages, 0)
                label = f"{nodeid} sample {index + 1} (judge)"
                # Keyed by the request: the same reply to the same question is judged once.
                ask_key = ("judge", key.digest)
                judging.verdicts[index] = self._ask(
                    label, ask_key, key, judge, messages, keep=_readable_verdict
                )
        if plan.judge is not None:
            self._judging[nodeid] = judging
        return judging

    def _start_case(self, item: pytest.Item) -> None:
        """Send a calibration case to the judge ahead of its test (a missing judge is the
        case's own error, reported when it runs)."""
        plan = item.stash[CASE_PLAN_KEY]
        assert plan.question.canned_reply is not None
        with contextlib.suppress(pytest.UsageError):
            replies = [Reply(text=plan.question.canned_reply)]
            self._start_judging(item.nodeid, plan, replies, hooks=False)

    def judge_case(self, item: pytest.Item) -> JudgeCase:
        """A judge calibration case: the judge's verdict on the canned reply (asked once)."""
        case = item.stash.get(CASE_KEY, None)
        if case is None:
            plan = item.stash[CASE_PLAN_KEY]
            question = plan.question
            assert question.canned_reply is not None and question.human_verdict is not None
            replies = [Reply(text=question.canned_reply)]
            # The judge against a person, with the string rules beside it: a team's grading
            # hook is neither, so it is left out here.
            graded, verdicts, judge_name = self._judged(item.nodeid, plan, replies, hooks=False)
            record = record_of(
                plan, item.nodeid, "canned reply", None, replies, graded, verdicts, judge_name
            )
            case = item.stash[CASE_KEY] = JudgeCase(
                id=question.id,
                suite=plan.suite_key,
                judge=judge_name or "",
                human=question.human_verdict,
                verdict=record.grades[0],
                rules=record.rule_grades[0],
                error=record.errors[0],
            )
            item.user_properties.append((CASE_PROPERTY, json.dumps(dataclasses.asdict(case))))
        return case

    @pytest.hookimpl(wrapper=True)
    def pytest_runtestloop(self, session: pytest.Session) -> Generator[None, object, object]:
        # Ask everything up front, in item order, so replies arrive while pytest walks the
        # items. An xdist worker only learns its items one at a time, so it asks on demand.
        if self.settings.dry_run and not self.config.option.collectonly:
            self._dry_run(session)
        if not self.config.option.collectonly and not hasattr(self.config, "workerinput"):
            for item in session.items:
                # A skip mark means the test will not run: asking would cost for nothing.
                # (A skipif is decided at setup; such a test is asked then, if it runs.)
                skipped = item.get_closest_marker("skip") or item.get_closest_marker("skipif")
                if skipped:
                    continue
                plan = item.stash.get(PLAN_KEY, None) or item.stash.get(CASE_PLAN_KEY, None)
                if plan is not None and plan.judge is not None:
                    # Before anything is asked: a missing judge is a set-up error, like a
                    # missing model, not a failure of every question that needs it.
                    self._judge_responder(plan)
                if PLAN_KEY in item.stash:
                    self.submit(item)
                elif CASE_PLAN_KEY in item.stash:
                    self._start_case(item)
        return (yield)

    def _dry_run(self, session: pytest.Session) -> None:
        """Print what the run would ask, per suite, and stop before asking anything."""
        requests: dict[str, list[int]] = {}
        # Judge requests: certain (calibration cases, judge: always) and at most (unsure).
        judged = [0, 0]
        for item in session.items:
            plan = item.stash.get(PLAN_KEY, None) or item.stash.get(CASE_PLAN_KEY, None)
            if plan is not None and plan.judge is not None:
                # A calibration case is one canned reply; a question has a reply per sample.
                replies = 1 if CASE_PLAN_KEY in item.stash else plan.samples
                judged[plan.judge.when == "unsure"] += replies
            if PLAN_KEY not in item.stash:
                continue
            keys = self.cache_keys(item)
            stored = sum(1 for key in keys if self.cache and self.cache.get(key))
            tally = requests.setdefault(item.stash[PLAN_KEY].suite_key, [0, 0])
            tally[0] += len(keys)
            tally[1] += stored if self.settings.record != "all" else 0
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        total = [sum(t[0] for t in requests.values()), sum(t[1] for t in requests.values())]
        if reporter is not None:
            reporter.write_sep("=", "abstain: dry run, nothing asked")
            for key, (count, cached) in sorted(requests.items()):
                reporter.write_line(f"{key}: {count} replies, {cached} in the cache, "
                                    f"{count - cached} to ask")  # fmt: skip
        judge = ""
        if judged[0] or judged[1]:
            # Cached verdicts are not counted: their keys hold replies not asked yet.
            judge = f"; the judge: {judged[0]} requests"
            judge += f" and up to {judged[1]} more where the rules are unsure" if judged[1] else ""
        pytest.exit(
            f"dry run: {total[0]} replies, {total[1]} answered by the cache, "
            f"{total[0] - total[1]} requests to make{judge}",
            returncode=0,
        )

    def pytest_runtest_logfinish(self) -> None:
        """Every few seconds, a progress line between pytest's own (never under -q)."""
        now = time.monotonic()
        if now < self._next_progress:
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        progress = self.asker.progress()
        if reporter is None or self.config.get_verbosity() < 0 or progress.submitted < 2:
            return
        if self._next_progress:  # the first call only starts the clock
            reporter.write_line(progress.line(), cyan=True)
        self._next_progress = now + (PROGRESS_EVERY_TTY if reporter.isatty else PROGRESS_EVERY_LOG)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._misses:
            terminalreporter.write_sep("-", "abstain: cache misses")
            for line in self._misses:
                terminalreporter.write_line(line)
        if self.cache is None:
            return
        corrupt = self.cache.corrupt_entries()
        if corrupt:
            terminalreporter.write_sep("-", "abstain: unusable cache entries, treated as misses")
            for path, problem in corrupt:
                terminalreporter.write_line(f"{path}: {problem}", yellow=True)
        unwritable = sorted(self.cache.unwritable.items())
        if unwritable:
            path, problem = unwritable[0]
            terminalreporter.write_line(
                f"abstain: {len(unwritable)} replies could not be stored in the cache "
                f"(first: {path}: {problem}); they will be asked again next time",
                yellow=True,
            )

    def pytest_runtest_protocol(self, item: pytest.Item) -> None:
        """On an xdist worker, ask for every question already queued to this worker."""
        if not hasattr(self.config, "workerinput") or self.config.option.collectonly:
            return
        for index in _queued_on_this_worker(self.config):
            queued = item.session.items[index]
            if PLAN_KEY in queued.stash and not queued.get_closest_marker("skip"):
                self.submit(queued)
        if PLAN_KEY in item.stash:
            self.submit(item)

    # -- reports ----------------------------------------------------------------------

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        record = item.stash.get(RECORD_KEY, None)
        if record is not None and (call.when == "call" or (call.when == "setup" and report.failed)):
            setattr(report, REPORT_ATTR, record.to_json())
        return report

    def pytest_report_teststatus(self, report: pytest.TestReport) -> Any:
        if report.when != "call":
            return None
        data = getattr(report, REPORT_ATTR, None)
        if data is not None and report.passed:
            return _STATUS.get(worst_grade(data["grades"]))
        return None

    def pytest_unconfigure(self) -> None:
        self.asker.close()


def _cache_problem(folder: Path, record: str) -> str | None:
    """Why the cache folder cannot serve this run, checked before anything is asked."""
    if folder.exists() and not folder.is_dir():
        return "it is not a folder"
    if record == "replay":
        # Replay-only asks nothing: with no cache every question would be an error.
        return None if folder.is_dir() else "it does not exist (--abstain-record replay)"
    if not folder.exists():
        return unwritable(folder)
    return None if os.access(folder, os.W_OK | os.X_OK) else "it is not writable"


def _custom_messages(config: pytest.Config, plan: QuestionPlan, source: str) -> QuestionPlan:
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
