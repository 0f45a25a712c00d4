"""The suite stage: suite files (strict YAML + JSON Schema) and marker declarations become
Suite and Question objects, or one SuiteError naming the file, the question and the key.

Modules, bottom up: data (the types), text_file (bytes to text within a limit), strict_yaml
(the YAML loader and its limits), validation (the schema and its messages), referenced_files
(files a suite names, and the secret check), building (questions and settings from a
validated document), loading (a suite file, end to end), markers (declarations in Python).
"""

from __future__ import annotations

from .data import (
    CALIBRATION_GATE_NAME,
    GATE_NAME,
    Gates,
    Question,
    Suite,
    SuiteError,
    SuiteSettings,
)
from .loading import is_suite_file, load_suite
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
