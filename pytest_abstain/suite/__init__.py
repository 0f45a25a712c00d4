"""The suite stage: suite files (strict YAML + JSON Schema) and marker declarations become
Suite and Question objects, or one SuiteError naming the file, the question and the key.

Modules, bottom up: file_names (which files are suites), data (the types), text_file (bytes
to text within a limit), strict_yaml (the YAML loader and its limits), validation (the schema
and its messages), referenced_files (files a suite names, and the secret check), building
(questions and settings from a validated document), loading (a suite file, end to end),
markers (declarations in Python). Each name below is imported on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports

if TYPE_CHECKING:
    from .data import (
        CALIBRATION_GATE_NAME,
        GATE_NAME,
        Gates,
        Question,
        Suite,
        SuiteError,
        SuiteSettings,
    )
    from .file_names import is_suite_file
    from .loading import load_suite
    from .markers import question_from_marker, settings_from_marker

__all__ = [
    "CALIBRATION_GATE_NAME",
    "GATE_NAME",
    "Gates",
    "Question",
    "Suite",
    "SuiteError",
    "SuiteSettings",
    "is_suite_file",
    "load_suite",
    "question_from_marker",
    "settings_from_marker",
]

# Each name is imported from its module on first use (see lazy_exports.py).
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "CALIBRATION_GATE_NAME": "data",
            "GATE_NAME": "data",
            "Gates": "data",
            "Question": "data",
            "Suite": "data",
            "SuiteError": "data",
            "SuiteSettings": "data",
            "is_suite_file": "file_names",
            "load_suite": "loading",
            "question_from_marker": "markers",
            "settings_from_marker": "markers",
        },
    )
