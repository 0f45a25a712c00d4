"""The settings of a run, resolved from the command line and the ini and checked (pure).

Precedence for the settings a suite can also set (threshold, samples, gates):
command line > suite file > ini > built-in default. The command line is what a person
typed for this run; the suite is more specific than the project-wide ini.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import generation
from ..prompts import DEFAULT_TEMPLATE, template_problem
from ..sampling import parse_samples
from .checks import parse_bool
from .defaults import (
    DEFAULT_BACKOFF,
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE_LIMIT_WAIT,
    DEFAULT_RETRIES,
    DEFAULT_TAG_MIN_QUESTIONS,
    DEFAULT_TIMEOUT,
)
from .options import GENERATION_OPTIONS, OPTIONS, Option
from .per_model import INI as PER_MODEL_INI
from .per_model import ModelSettings, parse_model_settings
from .urls import openai_base_url_problem


class SettingsError(Exception):
    """A bad option value: which option, what it got, what it takes."""


@dataclass(frozen=True)
class Layer:
    """A setting as given on the command line and in the ini (None = not given there)."""

    cli: Any = None
    ini: Any = None

    @property
    def given(self) -> Any:
        """The run-wide value (command line, else ini), None when only suites decide."""
        return self.cli if self.cli is not None else self.ini

    def pick(self, suite_value: Any, default: Any) -> Any:
        for value in (self.cli, suite_value, self.ini):
            if value is not None:
                return value
        return default


@dataclass(frozen=True)
class RunSettings:
    #: The first of `models`, None when no model is given (a conftest responder answers).
    model: str | None
    #: Every model to ask; more than one puts them side by side.
    models: tuple[str, ...]
    base_url: str | None
    concurrency: int
    timeout: float
    retries: int
    backoff: float
    #: Seconds a request may spend waiting out 429s (they do not count against `retries`).
    rate_limit_wait: float
    #: The account's per-minute budgets, kept client-side; None: no limit.
    rpm: int | None
    tpm: int | None
    #: None turns the confidence instruction off.
    prompt_template: str | None
    idk_phrases: tuple[str, ...]
    threshold: Layer
    #: A sweep's targets as given ("0.5,0.9" or a suite's list); wins over `threshold`.
    thresholds: Layer
    calibration_gate: Layer
    samples: Layer
    verbal_confidence: Layer
    #: When the judge grades ("off", "unsure", "always") and which model: suites may set both.
    judge: Layer
    judge_model: Layer
    judge_base_url: str | None
    #: Path of a judge prompt file as given (read by the plugin, relative to the rootdir).
    judge_prompt: str | None
    min_score: Layer
    max_error_rate: Layer
    max_abstention_rate: Layer
    #: How the floors decide: "point" or "interval" (results/floors.py).
    floor: Layer
    max_errors: Layer
    max_undecided: Layer
    #: Every question critical: a wrong answer fails the run (a question's or suite's
    #: `critical` wins over the ini, the command line over both).
    critical: Layer
    update_baseline: bool
    #: The recording starts each suite's pool afresh (accepting an intended change).
    baseline_restart: bool
    baseline_allow_errors: bool
    tolerance: Layer
    significance: Layer
    tag_min_questions: int
    record: str
    explain_misses: bool
    dry_run: bool
    #: No model and no responder fails the honesty questions instead of skipping them.
    require_model: bool = False
    #: How the openai client asks the model and the judge: "chat" or "responses".
    api: str = "chat"
    #: `api` was typed on the command line: it wins over the ini's per-model lines.
    api_from_cli: bool = False
    #: Per model (the ini's `abstain_model_settings` lines): its API and its own budgets.
    model_settings: Mapping[str, ModelSettings] = field(default_factory=dict)
    #: Generation parameters of the model under test (generation.py): from the command
    #: line, from the ini (its twins over its `abstain_generation` lines), and from the
    #: ini's `[model]` lines, per model.
    generation_cli: Mapping[str, Any] = field(default_factory=dict)
    generation_ini: Mapping[str, Any] = field(default_factory=dict)
    generation_models: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    #: What a stale question becomes ("keep", "idk", "skip"), and the day valid_until is
    #: compared with (YYYY-MM-DD; None: today).
    expired: str = "keep"
    today: str | None = None

    def api_for(self, model: str) -> str:
        """How `model` is asked: the command line, else its own ini line, else the run's."""
        own = self.model_settings.get(model)
        if own is not None and own.api is not None and not self.api_from_cli:
            return own.api
        return self.api

    def generation_for(self, model: str | None, suite: Mapping[str, Any] | None) -> dict[str, Any]:
        """The parameters a model is asked with in a suite: command line > suite > the ini's
        lines for the model > the rest of the ini > default (the token cap)."""
        own = self.generation_models.get(model or "", {})
        layers = (self.generation_ini, own, suite, self.generation_cli)
        return generation.with_default(generation.merged(*layers))


def _samples(layer: Layer) -> Layer:
    """`samples` as given, parsed (its check passed): a fixed number or auto's budget."""
    return Layer(*(None if v is None else parse_samples(v) for v in (layer.cli, layer.ini)))


def _parse_ini(option: Option, raw: str) -> Any:
    try:
        return parse_bool(raw) if option.kind is bool else option.kind(raw.strip())
    except ValueError:
        raise SettingsError(
            f"{option.ini} (ini): expected {option.kind.__name__}, got {raw!r}"
        ) from None


def _checked(option: Option, value: Any, source: str) -> Any:
    if value is None or option.check is None:
        return value
    problem = option.check(value)
    if problem:
        raise SettingsError(f"{source}: {problem}, got {option.quote(value)}")
    return value


def _models(given: Any) -> tuple[str, ...]:
    """Models from a repeated flag (a list) or the ini (comma-separated), in order, unique."""
    names = given if isinstance(given, list) else str(given or "").split(",")
    out: list[str] = []
    for name in (str(n).strip() for n in names):
        if name and name not in out:
            out.append(name)
    return tuple(out)


def resolve(
    cli: Mapping[str, Any],
    ini: Mapping[str, str | None],
    prompt_template: str | None,
    idk_phrases: tuple[str, ...],
    openai_base_url: str | None = None,
    generation_lines: tuple[str, ...] = (),
    model_lines: tuple[str, ...] = (),
) -> RunSettings:
    """Settings from parsed command-line values and raw ini strings, checked, with
    $OPENAI_BASE_URL (`openai_base_url`) where the client will fall back to it."""
    layers: dict[str, Layer] = {}
    for option in OPTIONS:
        raw_ini = ini.get(option.name)
        ini_value = _parse_ini(option, raw_ini) if raw_ini not in (None, "") else None
        layers[option.name] = Layer(
            cli=_checked(option, cli.get(option.name), option.flag),
            ini=_checked(option, ini_value, f"{option.ini} (ini)"),
        )

    def single(name: str, default: Any) -> Any:
        return layers[name].pick(None, default)

    template: str | None = DEFAULT_TEMPLATE
    if prompt_template is not None and prompt_template.strip():
        if prompt_template.strip().lower() in ("off", "false", "none"):
            template = None
        else:
            problem = template_problem(prompt_template)
            if problem:
                raise SettingsError(f"abstain_prompt_template (ini): {problem}")
            template = prompt_template
    models = _models(single("model", None))
    base_url = single("base_url", None)
    judge_base_url = single("judge_base_url", None)
    # The model and a judge without its own URL fall back to OPENAI_BASE_URL. A judge model
    # named only in a suite is not known yet: its responder checks then.
    uses_it = models or (layers["judge_model"].given and judge_base_url is None)
    if base_url is None and openai_base_url is not None and uses_it:
        problem = openai_base_url_problem(openai_base_url)
        if problem:
            raise SettingsError(problem)
    try:
        ini_lines, per_model = generation.parse_ini_lines(list(generation_lines))
    except ValueError as exc:
        raise SettingsError(f"abstain_generation (ini): {exc}") from None
    where = "abstain_generation (ini)"
    found = generation.problems(ini_lines, where)
    for name, params in per_model.items():
        found += generation.problems(params, f"{where} [{name}]")
    if found:
        raise SettingsError("; ".join(found))
    try:
        model_settings = parse_model_settings(model_lines)
    except ValueError as exc:
        raise SettingsError(f"{PER_MODEL_INI} (ini): {exc}") from None
    twins = {name: layers[name].ini for name in GENERATION_OPTIONS}
    return RunSettings(
        generation_cli={
            name: layers[name].cli for name in GENERATION_OPTIONS if layers[name].cli is not None
        },
        generation_ini=generation.merged(ini_lines, twins),
        generation_models=per_model,
        model=models[0] if models else None,
        models=models,
        base_url=base_url,
        concurrency=single("concurrency", DEFAULT_CONCURRENCY),
        timeout=single("timeout", DEFAULT_TIMEOUT),
        retries=single("retries", DEFAULT_RETRIES),
        backoff=single("backoff", DEFAULT_BACKOFF),
        rate_limit_wait=single("rate_limit_wait", DEFAULT_RATE_LIMIT_WAIT),
        rpm=single("rpm", None),
        tpm=single("tpm", None),
        prompt_template=template,
        idk_phrases=idk_phrases,
        threshold=layers["threshold"],
        thresholds=layers["thresholds"],
        calibration_gate=layers["calibration_gate"],
        samples=_samples(layers["samples"]),
        verbal_confidence=layers["verbal_confidence"],
        judge=layers["judge"],
        judge_model=layers["judge_model"],
        judge_base_url=judge_base_url,
        judge_prompt=single("judge_prompt", None),
        min_score=layers["min_score"],
        max_error_rate=layers["max_error_rate"],
        max_abstention_rate=layers["max_abstention_rate"],
        floor=layers["floor"],
        max_errors=layers["max_errors"],
        max_undecided=layers["max_undecided"],
        critical=layers["critical"],
        update_baseline=bool(single("update_baseline", False) or single("baseline_restart", False)),
        baseline_restart=bool(single("baseline_restart", False)),
        baseline_allow_errors=bool(single("baseline_allow_errors", False)),
        tolerance=layers["tolerance"],
        significance=layers["significance"],
        tag_min_questions=single("tag_min_questions", DEFAULT_TAG_MIN_QUESTIONS),
        record=single("record", "missing"),
        explain_misses=bool(single("explain_misses", False)),
        dry_run=bool(single("dry_run", False)),
        require_model=bool(single("require_model", False)),
        api=single("api", "chat"),
        api_from_cli=layers["api"].cli is not None,
        model_settings=model_settings,
        expired=single("expired", "keep"),
        today=single("today", None),
    )
