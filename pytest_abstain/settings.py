"""Run settings from the command line and ini, with their checks (pure; no pytest).

Precedence for the settings a suite can also set (threshold, samples, gates):
command line > suite file > ini > built-in default. The command line is what a person
typed for this run; the suite is more specific than the project-wide ini.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from .judging import JUDGE_WHEN
from .prompts import DEFAULT_TEMPLATE, template_problem
from .scoring import ErrorBudget

DEFAULT_THRESHOLD = 0.75
DEFAULT_SAMPLES = 1
#: Between promptfoo's 4 and DeepEval's 20: 1,000 one-second replies take about a minute,
#: and a new account's rate limit is not hit on the first burst.
DEFAULT_CONCURRENCY = 16
DEFAULT_TIMEOUT = 60.0
#: Five attempts: a request that meets a fault one time in five still gets through 99.97%
#: of the time, and a dead endpoint costs about 15 s of back-off, not minutes.
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 1.0
MAX_CONCURRENCY = 1000
MAX_RETRIES = 20
DEFAULT_TOLERANCE = 0.0
DEFAULT_SIGNIFICANCE = 0.05
#: A tag with fewer questions is reported but not gated: too few to test on its own.
DEFAULT_TAG_MIN_QUESTIONS = 20


class SettingsError(Exception):
    """A bad option value: which option, what it got, what it takes."""


def parse_thresholds(raw: object) -> tuple[float, ...]:
    """A sweep's confidence targets, ascending: '0.5,0.75,0.9' or a list; ValueError if bad."""
    items = raw.split(",") if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        raise ValueError("must be a list of confidence targets, e.g. 0.5,0.75,0.9")
    values: set[float] = set()
    for item in items:
        try:
            value = float(str(item).strip())
        except ValueError:
            raise ValueError(f"{str(item).strip()!r} is not a number") from None
        if not 0 <= value < 1:
            raise ValueError(f"each t must be in [0, 1), got {value:g}")
        values.add(value)
    if len(values) < 2:
        raise ValueError("a sweep needs at least two different values of t")
    return tuple(sorted(values))


def _thresholds(value: str) -> str | None:
    try:
        parse_thresholds(value)
    except ValueError as exc:
        return str(exc)
    return None


def _error_budget(value: str) -> str | None:
    try:
        ErrorBudget.parse(value)
    except ValueError as exc:
        return str(exc)
    return None


def _threshold(value: float) -> str | None:
    return None if 0 <= value < 1 else "must be in [0, 1)"


def _positive_int(value: int) -> str | None:
    return None if value >= 1 else "must be at least 1"


def _concurrency(value: int) -> str | None:
    ok = 1 <= value <= MAX_CONCURRENCY
    return None if ok else f"must be from 1 to {MAX_CONCURRENCY}"


def _retries(value: int) -> str | None:
    return None if 0 <= value <= MAX_RETRIES else f"must be from 0 to {MAX_RETRIES}"


def _samples(value: int) -> str | None:
    return None if 1 <= value <= 1000 else "must be from 1 to 1000"


def _record_mode(value: str) -> str | None:
    modes = ("missing", "replay", "all", "off")
    return None if value in modes else f"must be one of {', '.join(modes)}"


def _judge_when(value: str) -> str | None:
    return None if value in JUDGE_WHEN else f"must be one of {', '.join(JUDGE_WHEN)}"


def _positive(value: float) -> str | None:
    return None if value > 0 and math.isfinite(value) else "must be a positive number of seconds"


def _rate(value: float) -> str | None:
    return None if 0 <= value <= 1 else "must be in [0, 1]"


def _finite(value: float) -> str | None:
    return None if math.isfinite(value) else "must be a finite number"


def _non_negative(value: float) -> str | None:
    return None if value >= 0 and math.isfinite(value) else "must be a number >= 0"


def _level(value: float) -> str | None:
    return None if 0 < value <= 0.5 else "must be in (0, 0.5], e.g. 0.05"


def url_problem(url: str) -> str | None:
    """What makes `url` unusable as an endpoint base URL, or None."""
    if not url:
        return "is empty"
    if any(c.isspace() or not c.isprintable() for c in url):
        # A URL pasted into a CI secret often ends in a newline, which no HTTP library takes.
        return "contains a space or a control character"
    try:
        parts = urlsplit(url)
    except ValueError:  # an unclosed [ of an IPv6 address
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must start with http:// or https://"
    if not parts.hostname:
        return "has no host"
    try:
        port = parts.port
    except ValueError:  # out of range, or not a number
        port = 0
    if port == 0:
        return "has a port that is not a number from 1 to 65535"
    return None


def quoted_url(url: str) -> str:
    """`url` quoted for a message, even one that does not parse: the user:password before the
    host becomes ***, and the query (which may hold a key) and the fragment are left out."""
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    cut = url[len(head)] + "..." if len(head) < len(url) else ""
    return repr(re.sub(r"^([^:/]+://)?.*@", r"\1***@", head, flags=re.DOTALL) + cut)


def openai_base_url_problem(value: str) -> str | None:
    """The usage error for OPENAI_BASE_URL, when the client will use it, or None."""
    problem = url_problem(value)
    if problem is None:
        return None
    return (
        f"OPENAI_BASE_URL: {problem}, got {quoted_url(value)} "
        "(the endpoint, as --abstain-base-url is not given)"
    )


def parse_bool(raw: str) -> bool:
    """An ini flag: true/false, yes/no, on/off, 1/0."""
    lowered = raw.strip().lower()
    if lowered in ("true", "yes", "on", "1"):
        return True
    if lowered in ("false", "no", "off", "0"):
        return False
    raise ValueError(raw)


@dataclass(frozen=True)
class Option:
    """One setting with a command-line flag (--abstain-NAME) and an ini twin (abstain_NAME)."""

    name: str
    #: The value's type; bool makes a flag that takes no value.
    kind: type
    help: str
    check: Callable[[Any], str | None] | None = None
    metavar: str | None = None
    #: May be given several times on the command line (a list), comma-separated in the ini.
    repeatable: bool = False
    #: How a bad value is quoted back in the usage error.
    quote: Callable[[Any], str] = repr

    @property
    def flag(self) -> str:
        return "--abstain-" + self.name.replace("_", "-")

    @property
    def ini(self) -> str:
        return "abstain_" + self.name


OPTIONS: tuple[Option, ...] = (
    Option(
        "model",
        str,
        "chat model to ask (any OpenAI-compatible endpoint); give it more than once to compare "
        "models side by side (ini: a comma-separated list)",
        metavar="NAME",
        repeatable=True,
    ),
    Option(
        "base_url",
        str,
        "endpoint base URL (default: $OPENAI_BASE_URL, else OpenAI)",
        url_problem,
        "URL",
        quote=quoted_url,
    ),
    Option(
        "threshold",
        float,
        f"confidence target t stated to the model (default {DEFAULT_THRESHOLD})",
        _threshold,
        "T",
    ),
    Option(
        "thresholds",
        str,
        "a threshold sweep: ask each question once per t, stated in the prompt, and audit "
        "how the model follows it (e.g. 0.5,0.75,0.9)",
        _thresholds,
        "T,T,...",
    ),
    Option(
        "calibration_gate",
        bool,
        "fail a threshold sweep whose calibration audit finds a problem",
    ),
    Option("samples", int, "replies asked per question (default 1)", _samples, "K"),
    Option(
        "verbal_confidence",
        bool,
        "ask for the answer and a stated confidence as JSON (structured output where the "
        "endpoint has it), and report the risk-coverage curve and calibration error",
    ),
    Option(
        "judge",
        str,
        "when an LLM judge grades replies: off, unsure (only where the string rules cannot "
        "decide; the default once a judge model is given) or always",
        _judge_when,
        "WHEN",
    ),
    Option(
        "judge_model",
        str,
        "the judge model, through the same OpenAI-compatible client (turns the judge on)",
        metavar="NAME",
    ),
    Option(
        "judge_base_url",
        str,
        "the judge's endpoint base URL (default: the model's); key from "
        "$ABSTAIN_JUDGE_API_KEY, else $OPENAI_API_KEY",
        url_problem,
        "URL",
        quote=quoted_url,
    ),
    Option(
        "judge_prompt",
        str,
        "a text file with the judge prompt, using {question}, {expected} and {reply}",
        metavar="PATH",
    ),
    Option(
        "concurrency",
        int,
        f"requests in flight at once, at most; halved on each rate-limit answer "
        f"(default {DEFAULT_CONCURRENCY})",
        _concurrency,
        "N",
    ),
    Option(
        "timeout",
        float,
        f"seconds to wait for one reply (default {DEFAULT_TIMEOUT:g})",
        _positive,
        "SECONDS",
    ),
    Option(
        "retries",
        int,
        f"retries of a transient failure (429, 5xx, timeout, dropped connection) "
        f"(default {DEFAULT_RETRIES})",
        _retries,
        "N",
    ),
    Option(
        "backoff",
        float,
        f"seconds before the first retry, doubling each time; a Retry-After wins "
        f"(default {DEFAULT_BACKOFF:g})",
        _non_negative,
        "SECONDS",
    ),
    Option(
        "root",
        str,
        "the folder suites may read other files from (system_prompt_file), relative to the "
        "ini file's folder (default: the rootdir)",
        metavar="DIR",
    ),
    Option("report", str, "write a JSON report to this path", metavar="PATH"),
    Option(
        "html",
        str,
        "write a self-contained HTML report to this path (charts, searchable questions)",
        metavar="PATH",
    ),
    Option(
        "markdown",
        str,
        "write a Markdown summary to this path (also appended to $GITHUB_STEP_SUMMARY)",
        metavar="PATH",
    ),
    Option(
        "min_score", float, "fail a suite whose penalised score is below this", _finite, "SCORE"
    ),
    Option("max_error_rate", float, "fail a suite whose error rate is above this", _rate, "RATE"),
    Option(
        "max_errors",
        str,
        "replies per suite that may fail to come back (HTTP errors, timeouts) without failing "
        "the run: a count (3) or a share (5%, 0.05); default: none may",
        _error_budget,
        "N|SHARE",
    ),
    Option(
        "max_undecided",
        str,
        "replies per suite that the string rules may leave undecided (a named doubt, no judge "
        "to decide it): a count (3) or a share (0.1); default: any number",
        _error_budget,
        "N|SHARE",
    ),
    Option("baseline", str, "baseline file to compare with (and to update)", metavar="PATH"),
    Option("update_baseline", bool, "write this run's results to the baseline file"),
    Option(
        "baseline_allow_errors",
        bool,
        "update the baseline even when some replies could not be obtained",
    ),
    Option(
        "tolerance",
        float,
        "a drop against the baseline must exceed this to count (default 0)",
        _non_negative,
        "DROP",
    ),
    Option(
        "significance",
        float,
        f"one-sided level of the regression test (default {DEFAULT_SIGNIFICANCE})",
        _level,
        "ALPHA",
    ),
    Option(
        "cache", str, "response cache folder: replay stored replies, record new ones", metavar="DIR"
    ),
    Option(
        "record",
        str,
        "with a cache: missing (record what is not stored; default), replay (stored replies "
        "only, a missing one is an error), all (ask again and re-record), off",
        _record_mode,
        "MODE",
    ),
    Option("explain_misses", bool, "say which part of the key changed for each cache miss"),
    Option("dry_run", bool, "count the requests a run would make, and what the cache answers"),
    Option(
        "tag_min_questions",
        int,
        f"tags with fewer questions are reported, not gated (default {DEFAULT_TAG_MIN_QUESTIONS})",
        _positive_int,
        "N",
    ),
)
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}


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
    max_errors: Layer
    max_undecided: Layer
    update_baseline: bool
    baseline_allow_errors: bool
    tolerance: Layer
    significance: Layer
    tag_min_questions: int
    record: str
    explain_misses: bool
    dry_run: bool


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
    return RunSettings(
        model=models[0] if models else None,
        models=models,
        base_url=base_url,
        concurrency=single("concurrency", DEFAULT_CONCURRENCY),
        timeout=single("timeout", DEFAULT_TIMEOUT),
        retries=single("retries", DEFAULT_RETRIES),
        backoff=single("backoff", DEFAULT_BACKOFF),
        prompt_template=template,
        idk_phrases=idk_phrases,
        threshold=layers["threshold"],
        thresholds=layers["thresholds"],
        calibration_gate=layers["calibration_gate"],
        samples=layers["samples"],
        verbal_confidence=layers["verbal_confidence"],
        judge=layers["judge"],
        judge_model=layers["judge_model"],
        judge_base_url=judge_base_url,
        judge_prompt=single("judge_prompt", None),
        min_score=layers["min_score"],
        max_error_rate=layers["max_error_rate"],
        max_errors=layers["max_errors"],
        max_undecided=layers["max_undecided"],
        update_baseline=bool(single("update_baseline", False)),
        baseline_allow_errors=bool(single("baseline_allow_errors", False)),
        tolerance=layers["tolerance"],
        significance=layers["significance"],
        tag_min_questions=single("tag_min_questions", DEFAULT_TAG_MIN_QUESTIONS),
        record=single("record", "missing"),
        explain_misses=bool(single("explain_misses", False)),
        dry_run=bool(single("dry_run", False)),
    )
