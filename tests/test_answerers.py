"""Who answers a question and who judges it, without pytest: the team's hooks (asked once per
suite, once in all), the model's and the judge's openai clients (made once each, never sent),
and the set-up errors that say how to fix a run that has neither."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import pytest
from direct_run import planned, settings

from pytest_abstain.asking.answerers import Answerers
from pytest_abstain.asking.endpoints import JUDGE_PARAMS, Endpoints, SetupError, run_endpoint
from pytest_abstain.asking.responders import CallableResponder, OpenAIResponder
from pytest_abstain.plan import QuestionPlan

SUITE = "questions:\n  - {id: a, question: 'Q?', answer: A}\n"
JUDGED = "judge: unsure\n" + SUITE


def plan(
    tmp_path: Path, text: str = SUITE, name: str = "abstain_s.yaml", **cli: Any
) -> QuestionPlan:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    [first] = planned(path, cli)
    return first


class Hook:
    """A `pytest_abstain_make_*` hook: counts its calls and returns `made`."""

    def __init__(self, made: Any) -> None:
        self.made = made
        self.calls: list[object] = []

    def __call__(self, *args: object) -> Any:
        self.calls.append(args)
        if isinstance(self.made, Exception):
            raise self.made
        return self.made


def answerers(hook: Hook, judge: Hook | None = None, **cli: Any) -> Answerers:
    run = settings(cli)
    return Answerers(run, Endpoints(run, {}), hook, judge or Hook(None))


def test_a_hooked_responder_is_made_once_per_suite_and_named(tmp_path: Path) -> None:
    def app(prompt: str) -> str:
        return "A"

    app.abstain_name = "my-app"  # type: ignore[attr-defined]
    hook = Hook(app)
    who = answerers(hook, model="ignored-when-hooked")
    first, again = plan(tmp_path), plan(tmp_path)
    other = plan(tmp_path, name="abstain_t.yaml")
    responder = who.responder(first)
    assert isinstance(responder, CallableResponder) and responder.name == "my-app"
    assert who.responder(again) is responder
    assert who.responder(other) is not responder
    assert hook.calls == [(first.suite_path,), (other.suite_path,)]


def test_without_a_hooked_responder_the_model_is_asked(tmp_path: Path) -> None:
    who = answerers(Hook(None), model="gpt-x", base_url="http://127.0.0.1:9/v1")
    responder = who.responder(plan(tmp_path))
    assert isinstance(responder, OpenAIResponder) and responder.model == "gpt-x"
    assert who.responder(plan(tmp_path)) is responder  # one client per model


def test_no_responder_and_no_model_says_how_to_set_one(tmp_path: Path) -> None:
    with pytest.raises(SetupError) as raised:
        answerers(Hook(None)).responder(plan(tmp_path))
    message = str(raised.value)
    assert message.startswith("no model to ask for abstain_s.yaml::a: pass --abstain-model NAME")
    assert "pytest_abstain_make_responder" in message


def test_a_hook_that_raises_is_a_set_up_error_naming_it(tmp_path: Path) -> None:
    hook = Hook(RuntimeError("no credentials for the staging app"))
    with pytest.raises(SetupError) as raised:
        answerers(hook).responder(plan(tmp_path))
    assert str(raised.value) == (
        "pytest_abstain_make_responder raised RuntimeError: no credentials for the staging app"
    )


def test_several_models_cannot_be_compared_through_a_hooked_responder(tmp_path: Path) -> None:
    # Collection plans each suite once per model when several are compared side by side.
    compared = dataclasses.replace(plan(tmp_path), model="a")
    with pytest.raises(SetupError, match="several --abstain-model values compare models"):
        answerers(Hook(lambda prompt: "A"), models=["a", "b"]).responder(compared)


def test_the_judge_is_the_judge_model_else_the_hook_else_a_set_up_error(tmp_path: Path) -> None:
    judged = plan(tmp_path, JUDGED)
    with pytest.raises(SetupError) as raised:
        answerers(Hook(None)).judge(judged)
    assert str(raised.value).startswith(
        "abstain_s.yaml asks an LLM judge (judge: unsure) but none is set: "
        "pass --abstain-judge-model NAME, or implement pytest_abstain_make_judge"
    )
    house = Hook(lambda prompt: "Verdict: CORRECT")
    who = answerers(Hook(None), house)
    assert who.judge(judged) is who.judge(judged) and len(house.calls) == 1
    by_model = plan(tmp_path, JUDGED, judge_model="judge-m", base_url="http://127.0.0.1:9/v1")
    client = answerers(Hook(None), house, judge_model="judge-m", base_url="http://127.0.0.1:9/v1")
    judge = client.judge(by_model)
    assert isinstance(judge, OpenAIResponder) and judge.model == "judge-m"


def test_the_judge_gets_its_own_client_key_and_temperature() -> None:
    run = settings({"model": "m", "base_url": "http://127.0.0.1:9/v1"})
    environ = {"OPENAI_API_KEY": "sk-model-key\n", "ABSTAIN_JUDGE_API_KEY": " sk-judge-key "}
    endpoints = Endpoints(run, environ)
    model, judge = endpoints.model("m"), endpoints.judge("m")
    assert model is endpoints.model("m") and judge is endpoints.judge("m")
    assert judge is not model
    assert model.params == {} and judge.params == JUDGE_PARAMS == {"temperature": 0}
    assert endpoints.keys() == ["sk-model-key\n", " sk-judge-key "]


def test_a_judge_on_its_own_endpoint(tmp_path: Path) -> None:
    run = settings({"base_url": "http://127.0.0.1:9/v1", "judge_base_url": "http://127.0.0.1:8/v1"})
    endpoints = Endpoints(run, {})
    assert endpoints.model("m").base_url == "http://127.0.0.1:9/v1"
    assert endpoints.judge("m").base_url == "http://127.0.0.1:8/v1"


def test_a_bad_openai_base_url_is_a_set_up_error_when_a_judge_needs_it() -> None:
    endpoints = Endpoints(settings(), {"OPENAI_BASE_URL": "not a url"})
    with pytest.raises(SetupError):
        endpoints.judge("j")


def test_the_run_endpoint_is_the_model_s_only() -> None:
    assert run_endpoint(settings()) is None
    shown = run_endpoint(settings({"model": "m", "base_url": "http://127.0.0.1:9/v1"}))
    assert shown is not None and shown.startswith("http://127.0.0.1:9")
