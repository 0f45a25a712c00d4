"""Questions and suite settings declared in Python: `@pytest.mark.abstain(...)` on a test and
`pytest.mark.abstain_suite(...)` on a module, held to the same schema as suite files.

Pure: the plugin hands over the marker's keywords; nothing here imports pytest.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .building import check_calibration, question_from, settings_from
from .data import Question, SuiteError, SuiteSettings
from .validation import check_schema


def question_from_marker(source: str, default_id: str, kwargs: Mapping[str, Any]) -> Question:
    """A Question from `@pytest.mark.abstain(...)` keywords, validated like a suite entry."""
    data = dict(kwargs)
    data.setdefault("id", default_id)
    check_schema(source, "question", data)
    if "contexts" in data:
        raise SuiteError(
            source,
            ["contexts (a with/without-context pair) makes two questions, and a marker "
             "declares one: give context, and declare the other variant on its own test"],
        )  # fmt: skip
    question = question_from(source, data, where="marker")
    check_calibration(source, False, [question])
    return question


def settings_from_marker(
    source: str, kwargs: Mapping[str, Any], base_dir: Path, root: Path
) -> SuiteSettings:
    """Suite settings from `pytest.mark.abstain_suite(...)` keywords; files are read from
    `base_dir`, the module's folder, and only inside `root`."""
    data = dict(kwargs)
    check_schema(source, "settings", data)
    if data.get("judge_calibration"):
        raise SuiteError(
            source, ["judge_calibration is for suite files: put the cases in an abstain_*.yaml"]
        )
    return settings_from(source, data, base_dir, root)
