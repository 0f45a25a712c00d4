"""Run settings: the option table (flags and ini twins), the checks of their values, and
their resolution into one RunSettings, with the defaults where nothing was given.

Modules, bottom up: defaults, urls (endpoint URL checks), checks (option values), options
(the table), resolution (RunSettings and the precedence rules).
"""

from __future__ import annotations

from .checks import parse_thresholds
from .defaults import DEFAULT_SAMPLES, DEFAULT_SIGNIFICANCE, DEFAULT_THRESHOLD, DEFAULT_TOLERANCE
from .options import OPTIONS, OPTIONS_BY_NAME
from .resolution import RunSettings, SettingsError, resolve
from .urls import openai_base_url_problem

__all__ = [
    "DEFAULT_SAMPLES",
    "DEFAULT_SIGNIFICANCE",
    "DEFAULT_THRESHOLD",
    "DEFAULT_TOLERANCE",
    "OPTIONS",
    "OPTIONS_BY_NAME",
    "RunSettings",
    "SettingsError",
    "openai_base_url_problem",
    "parse_thresholds",
    "resolve",
]
