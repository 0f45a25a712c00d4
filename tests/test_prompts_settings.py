"""The confidence instruction, and option values checked into clear errors."""

from __future__ import annotations

import pytest

from pytest_abstain.prompts import DEFAULT_TEMPLATE, build_messages, render_prompt, template_problem
from pytest_abstain.settings import SettingsError, resolve


def test_default_instruction_states_t_and_the_penalty() -> None:
    text = render_prompt("What is the capital of France?", 0.75, DEFAULT_TEMPLATE)
    assert text.startswith("What is the capital of France?")
    assert "more than 75% confident" in text
    assert "costs 3 points" in text and "earns 1 point" in text and "earns 0 points" in text
    assert "costs 9 points" in render_prompt("q", 0.9, DEFAULT_TEMPLATE)
    assert "more than 90% confident" in render_prompt("q", 0.9, DEFAULT_TEMPLATE)


def test_instruction_can_be_turned_off_and_system_prompt_goes_first() -> None:
    assert render_prompt("Q?", 0.75, None) == "Q?"
    messages = build_messages("Q?", 0.75, None, "Be honest.")
    assert messages == [
        {"role": "system", "content": "Be honest."},
        {"role": "user", "content": "Q?"},
    ]


def test_template_problems() -> None:
    assert template_problem("{question} at {threshold_percent}, cost {penalty}") is None
    assert "unknown placeholder {t}" in (template_problem("{question} {t}") or "")
    assert "must contain {question}" in (template_problem("no question") or "")
    assert "malformed" in (template_problem("{question} {") or "")
    for bad in ("{question:>999999999}", "{question!x}", "{question:{threshold}}"):
        assert "takes no conversion or format spec" in (template_problem(bad) or ""), bad


def test_precedence_command_line_then_suite_then_ini_then_default() -> None:
    s = resolve({"threshold": 0.9}, {"threshold": "0.5"}, None, ())
    assert s.threshold.pick(0.6, 0.75) == 0.9
    s = resolve({}, {"threshold": "0.5"}, None, ())
    assert s.threshold.pick(0.6, 0.75) == 0.6
    assert s.threshold.pick(None, 0.75) == 0.5
    assert resolve({}, {}, None, ()).threshold.pick(None, 0.75) == 0.75


@pytest.mark.parametrize(
    ("cli", "ini", "message"),
    [
        ({"threshold": 1.0}, {}, "--abstain-threshold: must be in [0, 1)"),
        ({"threshold": 1.5}, {}, "--abstain-threshold: must be in [0, 1), got 1.5"),
        ({"threshold": -0.5}, {}, "--abstain-threshold"),
        ({}, {"threshold": "1.5"}, "abstain_threshold (ini): must be in [0, 1)"),
        ({}, {"threshold": "high"}, "abstain_threshold (ini): expected float, got 'high'"),
        ({"samples": 0}, {}, "--abstain-samples: must be a whole number from 1 to 1000, or auto"),
        ({"samples": 5000}, {}, "--abstain-samples: must be a whole number from 1 to 1000"),
        ({}, {"samples": "auto:1"}, "abstain_samples (ini): must be a whole number from 1 to"),
        ({"concurrency": 0}, {}, "--abstain-concurrency: must be from 1 to 1000, got 0"),
        ({}, {"concurrency": "5000"}, "abstain_concurrency (ini): must be from 1 to 1000"),
        ({"timeout": 0.0}, {}, "--abstain-timeout"),
        ({"timeout": float("inf")}, {}, "--abstain-timeout: must be a positive number"),
        ({"retries": -1}, {}, "--abstain-retries: must be from 0 to 20, got -1"),
        ({"retries": 50}, {}, "--abstain-retries: must be from 0 to 20, got 50"),
        ({"backoff": -1.0}, {}, "--abstain-backoff: must be a number >= 0"),
        ({}, {"backoff": "soon"}, "abstain_backoff (ini): expected float, got 'soon'"),
        ({"tolerance": float("nan")}, {}, "--abstain-tolerance: must be a number >= 0"),
        ({"significance": 0.9}, {}, "--abstain-significance: must be in (0, 0.5]"),
        ({"tag_min_questions": 0}, {}, "--abstain-tag-min-questions: must be at least 1"),
        ({"max_error_rate": 1.5}, {}, "--abstain-max-error-rate: must be in [0, 1]"),
        ({"min_score": float("nan")}, {}, "--abstain-min-score: must be a finite number"),
    ],
)
def test_bad_option_values(
    cli: dict[str, object], ini: dict[str, str | None], message: str
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve(cli, ini, None, ())
    assert message in str(excinfo.value)


def test_ini_template_off_and_bad_template() -> None:
    assert resolve({}, {}, "off", ()).prompt_template is None
    assert resolve({}, {}, None, ()).prompt_template == DEFAULT_TEMPLATE
    with pytest.raises(SettingsError, match="must contain"):
        resolve({}, {}, "no placeholder", ())


BAD_URL = "http://ci-bot:hunter2-pw@127.0.0.1:99999/v1"


@pytest.mark.parametrize(
    ("cli", "ini", "env", "names"),
    [
        ({"base_url": BAD_URL}, {}, None, "--abstain-base-url"),
        ({"base_url": "http://[bad"}, {}, None, "--abstain-base-url"),
        ({"base_url": "ftp://127.0.0.1/v1"}, {}, None, "--abstain-base-url"),
        ({}, {"base_url": BAD_URL}, None, "abstain_base_url (ini)"),
        ({"judge_model": "j", "judge_base_url": BAD_URL}, {}, None, "--abstain-judge-base-url"),
        ({}, {}, BAD_URL, "OPENAI_BASE_URL"),
    ],
    ids=["port", "ipv6", "scheme", "ini", "judge", "env"],
)
def test_a_malformed_base_url_names_its_source_and_not_its_password(
    cli: dict[str, object], ini: dict[str, str | None], env: str | None, names: str
) -> None:
    with pytest.raises(SettingsError) as excinfo:
        resolve({"model": ["m"], **cli}, ini, None, (), openai_base_url=env)
    message = str(excinfo.value)
    assert message.startswith(f"{names}: ")
    assert "hunter2" not in message


def test_openai_base_url_is_checked_only_when_the_client_will_use_it() -> None:
    bad = "http://[bad"
    # --abstain-base-url wins over it, and a conftest responder (no model) asks no endpoint.
    assert resolve({"model": ["m"], "base_url": "http://127.0.0.1:8/v1"}, {}, None, (), bad)
    assert resolve({}, {}, None, (), openai_base_url=bad).models == ()
    # A judge model without its own URL is asked at OPENAI_BASE_URL.
    for cli in ({"model": ["m"]}, {"judge_model": "j"}):
        with pytest.raises(SettingsError, match=r"^OPENAI_BASE_URL: is not a valid URL"):
            resolve(cli, {}, None, (), openai_base_url=bad)
    assert resolve(
        {"judge_model": "j", "judge_base_url": "http://127.0.0.1:8/v1"}, {}, None, (), bad
    )
