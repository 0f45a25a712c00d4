"""Who answers each question: the team's responder (from its conftest hook) or the model's
openai client, and the judge (a judge model's client, or the team's judge hook)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..plan import QuestionPlan
from ..settings import RunSettings
from .endpoints import Endpoints, NoResponder, SetupError
from .responders import CallableResponder, Responder

JUDGE_HOOK = "pytest_abstain_make_judge"
RESPONDER_HOOK = "pytest_abstain_make_responder"


class Answerers:
    """`make_responder(suite_path)` and `make_judge()` call the team's hooks (None: no
    answer); each is asked once per suite, and once in all, and its callable wrapped."""

    def __init__(
        self,
        settings: RunSettings,
        endpoints: Endpoints,
        make_responder: Callable[[Path], Any],
        make_judge: Callable[[], Any],
    ) -> None:
        self.settings = settings
        self.endpoints = endpoints
        self._make_responder = make_responder
        self._make_judge = make_judge
        #: What the hooks answered: a responder per suite file, and the judge (keyed by the
        #: hook's name); None where the hook gave none.
        self._hooked: dict[Path | str, Responder | None] = {}

    def responder(self, plan: QuestionPlan) -> Responder:
        path = plan.suite_path
        hooked = self._from_hook(path, RESPONDER_HOOK, lambda: self._make_responder(path))
        if hooked is not None:
            if plan.model is not None:
                raise SetupError(
                    f"several --abstain-model values compare models through the openai client, "
                    f"but pytest_abstain_make_responder answers {plan.suite_path}: pass one "
                    "--abstain-model, or compare models inside your responder"
                )
            return hooked
        model = plan.model or self.settings.model
        if model:
            return self.endpoints.model(model, plan.generation)
        raise NoResponder(
            f"no model to ask for {plan.suite_key}::{plan.question.id}: {NoResponder.ADVICE}"
        )

    def judge(self, plan: QuestionPlan) -> Responder:
        """The judge model's client, else the conftest's pytest_abstain_make_judge."""
        assert plan.judge is not None
        if plan.judge.model is not None:
            return self.endpoints.judge(plan.judge.model)
        judge = self._from_hook(JUDGE_HOOK, JUDGE_HOOK, self._make_judge)
        if judge is None:
            raise SetupError(
                f"{plan.suite_key} asks an LLM judge (judge: {plan.judge.when}) but none is "
                f"set: pass --abstain-judge-model NAME, or implement {JUDGE_HOOK} in a conftest.py"
            )
        return judge

    def _from_hook(self, key: Path | str, hook: str, call: Callable[[], Any]) -> Responder | None:
        """The callable a `pytest_abstain_make_*` hook returns, wrapped as a responder; asked
        once per `key`. None where the hook gives none."""
        if key not in self._hooked:
            try:
                fn = call()
            except Exception as exc:
                # Chained: the glue shows the traceback of what the team's hook raised.
                raise SetupError(f"{hook} raised {type(exc).__name__}: {exc}") from exc
            name = getattr(fn, "abstain_name", None)
            timeout = self.settings.timeout
            self._hooked[key] = None if fn is None else CallableResponder(fn, name, timeout)
        return self._hooked[key]
