"""pytest-abstain's own hooks; implement them in a conftest.py or a plugin.

Mark each implementation ``@pytest.hookimpl(optionalhook=True)``: pytest then runs the
conftest (and the repo's other tests) where pytest-abstain is not installed, or is disabled
with ``-p no:abstain``, instead of stopping on an unknown hook."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    # Names in signatures only: pytest reads these hooks on every run, most of which hold
    # no honesty question, so they import nothing of the rest of the package.
    from ..records import Message
    from ..results.suites import SuiteResult
    from ..suite import Question


@pytest.hookspec(firstresult=True)
def pytest_abstain_make_responder(
    config: pytest.Config, suite_path: Path
) -> Callable[..., Any] | None:
    """Return the callable that answers the questions of the suite at `suite_path`.

    The callable takes the prompt (the question with the confidence instruction) and returns
    the reply text; it may be sync or async. If it has a ``system`` keyword parameter it also
    receives the suite's system prompt; a ``messages`` parameter receives the whole
    conversation (a question's earlier ``turns:``, and the first reply and the follow-up with
    ``pushback``), the prompt last; a ``context`` parameter receives the question's documents
    when the suite says ``context_as: responder``. Set an ``abstain_name`` attribute on it to
    name it in reports. Return None to fall back to ``--abstain-model``. Like every hook, a
    conftest.py answers for the suites in its own directory and below.

    Example, in ``conftest.py``::

        from myapp.bot import answer_question   # def answer_question(prompt: str) -> str


        def pytest_abstain_make_responder(config, suite_path):
            return answer_question
    """


@pytest.hookspec(firstresult=True)
def pytest_abstain_make_judge(config: pytest.Config) -> Callable[..., Any] | None:
    """Return the callable that judges replies, for suites that ask an LLM judge
    (``judge: unsure`` or ``always``) without a judge model (``--abstain-judge-model``).

    It takes the judge prompt (the question, the expected answer and the reply to grade) and
    returns the judge's text, whose last line must be ``Verdict: CORRECT``, ``Verdict:
    WRONG`` or ``Verdict: ABSTAINED``; anything else makes that reply an ``error``. It may be
    sync or async; an ``abstain_name`` attribute names it in reports and baselines. Its
    replies are cached like the model's. Return None when you have no judge.

    Example, in ``conftest.py``: a judge model on another provider::

        from myapp.llm import complete   # def complete(prompt: str) -> str


        def pytest_abstain_make_judge(config):
            def judge(prompt):
                return complete(prompt, model="house-judge-v2", temperature=0)

            judge.abstain_name = "house-judge-v2"
            return judge
    """


@pytest.hookspec(firstresult=True)
def pytest_abstain_build_messages(
    config: pytest.Config, question: Question, threshold: float, messages: list[Message]
) -> list[dict[str, str]] | None:
    """Return the chat messages to send for `question` at confidence target `threshold`.

    `messages` is what the plugin would send (system prompt, then the question inside the
    confidence instruction); `question.text`, `question.id` and `question.tags` describe the
    question. Return a list of ``{"role": ..., "content": ...}`` dicts with string values,
    or None to keep the default. The messages are part of the cache key. Called at
    collection, once per question (and per t of a sweep).

    Example, in ``conftest.py``: answer in the house style of a support bot::

        def pytest_abstain_build_messages(config, question, threshold, messages):
            rules = f"Only answer if you are {threshold:.0%} sure; else say 'I don't know'."
            return [
                {"role": "system", "content": "You are Acme's support bot. " + rules},
                {"role": "user", "content": question.text},
            ]
    """


@pytest.hookspec(firstresult=True)
def pytest_abstain_is_abstention(
    config: pytest.Config, question: Question, reply: str
) -> bool | None:
    """Say whether `reply` declines to answer `question` ("I don't know").

    Return True or False to decide, or None to let the built-in phrase lists decide. An
    abstention scores 0 whatever else the reply says; otherwise the reply is matched
    against the expected answer as usual.

    Example, in ``conftest.py``: your app hands over to a human when it does not know::

        def pytest_abstain_is_abstention(config, question, reply):
            if "I'll connect you with a colleague" in reply:
                return True
            return None
    """


@pytest.hookspec(firstresult=True)
def pytest_abstain_grade_reply(config: pytest.Config, question: Question, reply: str) -> str | None:
    """Grade `reply` to `question` yourself: return "correct", "wrong" or "abstained".

    Return None to fall back to the built-in grader (abstention phrases, then the expected
    answers). `question.expectation` holds what the suite expects (`answers`, `idk`,
    `regex`). Any other return value, or an exception, makes that reply an `error` with the
    reason: never a silent grade.

    Example, in ``conftest.py``: accept any reply that contains the order number::

        import re


        def pytest_abstain_grade_reply(config, question, reply):
            if "order-number" in question.tags:
                found = re.search(r"\\bA-\\d{6}\\b", reply)
                return "correct" if found else None
            return None
    """


@pytest.hookspec
def pytest_abstain_results(
    config: pytest.Config, results: list[SuiteResult], report: dict[str, Any]
) -> None:
    """Receive the final results, for your own reporting; called once, where results gather
    (the xdist controller), after the gates.

    `results` is the list of per-suite results (`result.info.key`, `result.metrics.score`,
    `result.verdict`, `result.questions`); `report` is the JSON report as a dict (valid
    against ``schemas/report.schema.json``), whether or not ``--abstain-report`` is given.

    Example, in ``conftest.py``: post the scores to your dashboard::

        def pytest_abstain_results(config, results, report):
            for suite in report["suites"]:
                print(f"{suite['key']}: score {suite['metrics']['score']}")
    """
