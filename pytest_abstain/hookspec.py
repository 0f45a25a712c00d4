"""pytest-abstain's own hooks; implement them in a conftest.py or a plugin."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest


@pytest.hookspec(firstresult=True)
def pytest_abstain_make_responder(
    config: pytest.Config, suite_path: Path
) -> Callable[..., Any] | None:
    """Return the callable that answers the questions of the suite at `suite_path`.

    The callable takes the prompt (the question with the confidence instruction) and returns
    the reply text; it may be sync or async. If it has a ``system`` keyword parameter it also
    receives the suite's system prompt. Set an ``abstain_name`` attribute on it to name it in
    reports. Return None to fall back to ``--abstain-model``. Like every hook, a conftest.py
    answers for the suites in its own directory and below.

    Example, in ``conftest.py``::

        from myapp.bot import answer_question   # def answer_question(prompt: str) -> str


        def pytest_abstain_make_responder(config, suite_path):
            return answer_question
    """
