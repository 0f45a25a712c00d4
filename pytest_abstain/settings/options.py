"""The run options: one table of settings, each with a command-line flag, an ini twin, its
help text and the check of its value."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..expiry import day_problem, policy_problem
from ..generation import CHECKS as GENERATION_CHECKS
from ..generation import DEFAULT_MAX_TOKENS, REASONING_EFFORTS
from ..sampling import AUTO_BUDGET
from .checks import (
    api_problem,
    concurrency_problem,
    error_budget_problem,
    finite_problem,
    floor_problem,
    judge_when_problem,
    level_problem,
    non_negative_problem,
    positive_int_problem,
    positive_problem,
    rate_problem,
    record_mode_problem,
    retries_problem,
    samples_problem,
    threshold_problem,
    thresholds_problem,
)
from .defaults import (
    DEFAULT_BACKOFF,
    DEFAULT_CONCURRENCY,
    DEFAULT_RATE_LIMIT_WAIT,
    DEFAULT_RETRIES,
    DEFAULT_SIGNIFICANCE,
    DEFAULT_TAG_MIN_QUESTIONS,
    DEFAULT_THRESHOLD,
    DEFAULT_TIMEOUT,
)
from .urls import quoted_url, url_problem


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
        threshold_problem,
        "T",
    ),
    Option(
        "thresholds",
        str,
        "a threshold sweep: ask each question once per t, stated in the prompt, and audit "
        "how the model follows it (e.g. 0.5,0.75,0.9)",
        thresholds_problem,
        "T,T,...",
    ),
    Option(
        "calibration_gate",
        bool,
        "fail a threshold sweep whose calibration audit finds a problem",
    ),
    Option(
        "samples",
        str,
        "replies asked per question (default 1); auto: one of each question of a suite, then "
        f"up to {AUTO_BUDGET} (auto:K: K) of each only if those leave the gate's verdict open",
        samples_problem,
        "K|auto",
    ),
    Option(
        "verbal_confidence",
        bool,
        "ask for the answer and a stated confidence as JSON (structured output where the "
        "endpoint has it), and report the risk-coverage curve and calibration error",
    ),
    Option(
        "temperature",
        float,
        "sampling temperature of the model under test, 0 to 2 (default: the endpoint's)",
        GENERATION_CHECKS["temperature"],
        "T",
    ),
    Option(
        "top_p",
        float,
        "nucleus sampling of the model under test, 0 to 1 (default: the endpoint's)",
        GENERATION_CHECKS["top_p"],
        "P",
    ),
    Option(
        "max_tokens",
        int,
        f"the longest reply, in tokens; a reply cut off there is an error "
        f"(default {DEFAULT_MAX_TOKENS}; 0: no cap)",
        GENERATION_CHECKS["max_tokens"],
        "N",
    ),
    Option(
        "seed",
        int,
        "sampling seed sent to the model under test (default: none)",
        GENERATION_CHECKS["seed"],
        "N",
    ),
    Option(
        "reasoning_effort",
        str,
        f"reasoning effort of a reasoning model: {', '.join(REASONING_EFFORTS)} "
        "(default: the endpoint's)",
        GENERATION_CHECKS["reasoning_effort"],
        "EFFORT",
    ),
    Option(
        "judge",
        str,
        "when an LLM judge grades replies: off, unsure (only where the string rules cannot "
        "decide; the default once a judge model is given) or always",
        judge_when_problem,
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
        concurrency_problem,
        "N",
    ),
    Option(
        "timeout",
        float,
        f"seconds to wait for one reply (default {DEFAULT_TIMEOUT:g})",
        positive_problem,
        "SECONDS",
    ),
    Option(
        "retries",
        int,
        f"retries of a transient failure (429, 5xx, timeout, dropped connection) "
        f"(default {DEFAULT_RETRIES})",
        retries_problem,
        "N",
    ),
    Option(
        "backoff",
        float,
        f"seconds before the first retry, doubling each time; a Retry-After wins "
        f"(default {DEFAULT_BACKOFF:g})",
        non_negative_problem,
        "SECONDS",
    ),
    Option(
        "rate_limit_wait",
        float,
        "seconds one request may spend waiting out rate limits (429) before it is an error; "
        "rate limits do not count against --abstain-retries "
        f"(default {DEFAULT_RATE_LIMIT_WAIT:g})",
        non_negative_problem,
        "SECONDS",
    ),
    Option(
        "rpm",
        int,
        "the account's requests per minute: never send more in any 60 s (split between "
        "xdist workers); default: no limit",
        positive_int_problem,
        "N",
    ),
    Option(
        "tpm",
        int,
        "the account's tokens per minute (prompt + completion, as replies report them): "
        "never send more in any 60 s (split between xdist workers); default: no limit",
        positive_int_problem,
        "N",
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
        "min_score",
        float,
        "fail a suite whose penalised score is below this",
        finite_problem,
        "SCORE",
    ),
    Option(
        "max_error_rate", float, "fail a suite whose error rate is above this", rate_problem, "RATE"
    ),
    Option(
        "max_abstention_rate",
        float,
        "fail a suite that abstains on more than this share of its answerable (not idk) "
        "questions' replies: over-refusal",
        rate_problem,
        "RATE",
    ),
    Option(
        "floor",
        str,
        "how min_score, max_error_rate and max_abstention_rate decide: point (the estimate; "
        "default) or interval (fail only when the whole interval is past the floor)",
        floor_problem,
        "MODE",
    ),
    Option(
        "max_errors",
        str,
        "replies per suite that may fail to come back (HTTP errors, timeouts) without failing "
        "the run: a count (3) or a share (5%, 0.05); default: none may",
        error_budget_problem,
        "N|SHARE",
    ),
    Option(
        "max_undecided",
        str,
        "replies per suite that the string rules may leave undecided (a named doubt, no judge "
        "to decide it): a count (3) or a share (0.1); default: any number",
        error_budget_problem,
        "N|SHARE",
    ),
    Option(
        "critical",
        bool,
        "every question is critical: any wrong answer fails its test and the run, whatever "
        "the score (default: a wrong answer is an expected failure, xfailed; the gates decide)",
    ),
    Option("baseline", str, "baseline file to compare with (and to update)", metavar="PATH"),
    Option(
        "update_baseline",
        bool,
        "record this run into the baseline file (pooled with the runs recorded before)",
    ),
    Option(
        "baseline_restart",
        bool,
        "record this run into the baseline as a new pool, dropping the old samples of the "
        "suites that ran: accepts an intended change (implies --abstain-update-baseline)",
    ),
    Option(
        "baseline_allow_errors",
        bool,
        "update the baseline even when some replies could not be obtained",
    ),
    Option(
        "tolerance",
        float,
        "a drop against the baseline must exceed this to count (default 0)",
        non_negative_problem,
        "DROP",
    ),
    Option(
        "significance",
        float,
        f"one-sided level of the regression test (default {DEFAULT_SIGNIFICANCE})",
        level_problem,
        "ALPHA",
    ),
    Option(
        "cache", str, "response cache folder: replay stored replies, record new ones", metavar="DIR"
    ),
    Option(
        "api",
        str,
        "how the model (and judge) are asked: chat (chat completions; default) or responses "
        "(OpenAI's Responses API)",
        api_problem,
        "API",
    ),
    Option(
        "record",
        str,
        "with a cache: missing (record what is not stored; default), replay (stored replies "
        "only, a missing one is an error), all (ask again and re-record), off",
        record_mode_problem,
        "MODE",
    ),
    Option("explain_misses", bool, "say which part of the key changed for each cache miss"),
    Option("dry_run", bool, "count the requests a run would make, and what the cache answers"),
    Option(
        "require_model",
        bool,
        "with no model and no conftest responder, fail the honesty questions (for CI) instead "
        "of skipping them",
    ),
    Option(
        "tag_min_questions",
        int,
        f"tags with fewer questions are reported, not gated (default {DEFAULT_TAG_MIN_QUESTIONS})",
        positive_int_problem,
        "N",
    ),
    Option(
        "expired",
        str,
        "what a stale question (past its valid_until) becomes: keep (graded as written; "
        "the default), idk (expects 'I don't know') or skip (skipped with the reason)",
        policy_problem,
        "POLICY",
    ),
    Option(
        "today",
        str,
        "the day valid_until is compared with, YYYY-MM-DD (default: today, UTC)",
        day_problem,
        "DATE",
    ),
)
OPTIONS_BY_NAME = {option.name: option for option in OPTIONS}
#: The options that are generation parameters of the model under test (generation.py).
GENERATION_OPTIONS = tuple(o.name for o in OPTIONS if o.name in GENERATION_CHECKS)
