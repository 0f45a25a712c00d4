"""pytest glue: the plugin's options, read into RunSettings, and its path options."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..settings import OPTIONS, OPTIONS_BY_NAME, RunSettings, SettingsError, resolve


def add_options(parser: pytest.Parser) -> None:
    """The plugin's command-line options, each with its ini twin."""
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
    parser.addini(
        "abstain_generation",
        "generation parameters of the model under test, one 'name = value' a line; "
        "'[model] name = value' for one model only",
        type="linelist",
    )
    parser.addini(
        "abstain_model_settings",
        "settings for one model, one '[model] name = value' a line: api, rpm, tpm",
        type="linelist",
    )


def run_settings(config: pytest.Config) -> RunSettings:
    """The run's settings from the command line, the ini file and the environment."""
    cli = {o.name: config.getoption(o.ini) for o in OPTIONS}
    ini = {o.name: str(config.getini(o.ini) or "") for o in OPTIONS}
    try:
        return resolve(
            cli,
            ini,
            prompt_template=str(config.getini("abstain_prompt_template") or "") or None,
            idk_phrases=tuple(config.getini("abstain_idk_phrases")),
            openai_base_url=os.environ.get("OPENAI_BASE_URL"),
            generation_lines=tuple(config.getini("abstain_generation")),
            model_lines=tuple(config.getini("abstain_model_settings")),
        )
    except SettingsError as exc:
        raise pytest.UsageError(str(exc)) from None


def option_path(config: pytest.Config, name: str) -> Path | None:
    """A path option: relative to the current directory when typed on the command line,
    to the ini file's directory when set there (so CI can run from anywhere)."""
    option = OPTIONS_BY_NAME[name]
    typed = config.getoption(option.ini)
    if typed:
        return config.invocation_params.dir / str(typed)
    configured = str(config.getini(option.ini) or "")
    if configured:
        base = config.inipath.parent if config.inipath else config.rootpath
        return base / configured
    return None
