"""Run settings: the option table (flags and ini twins), the checks of their values, and
their resolution into one RunSettings, with the defaults where nothing was given.

Modules, bottom up: defaults, urls (endpoint URL checks), checks (option values), options
(the table), resolution (RunSettings and the precedence rules).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..lazy_exports import lazy_exports

if TYPE_CHECKING:
    from .checks import parse_thresholds
    from .defaults import (
        DEFAULT_SAMPLES,
        DEFAULT_SIGNIFICANCE,
        DEFAULT_THRESHOLD,
        DEFAULT_TOLERANCE,
    )
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

# Each name is imported from its module on first use (see lazy_exports.py).
if not TYPE_CHECKING:
    __getattr__ = lazy_exports(
        __name__,
        {
            "parse_thresholds": "checks",
            "DEFAULT_SAMPLES": "defaults",
            "DEFAULT_SIGNIFICANCE": "defaults",
            "DEFAULT_THRESHOLD": "defaults",
            "DEFAULT_TOLERANCE": "defaults",
            "OPTIONS": "options",
            "OPTIONS_BY_NAME": "options",
            "RunSettings": "resolution",
            "SettingsError": "resolution",
            "resolve": "resolution",
            "openai_base_url_problem": "urls",
        },
    )
