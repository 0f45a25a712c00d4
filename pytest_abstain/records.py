"""The plain data of a run, at the bottom of the flow: grades and their counts, chat messages,
replies, a question's record (what crosses xdist), a suite's comparison with its baseline,
and a judge calibration case. Every stage and every hook speaks in these; this module
imports nothing of the package but the text guard (untrusted.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from functools import cached_property
from typing import Any, Literal

from .untrusted import error_text, plain

Grade = Literal["correct", "wrong", "abstained", "error"]
GRADES: tuple[Grade, ...] = ("correct", "wrong", "abstained", "error")
#: Worst first: the grade that names a question with mixed replies.
_SEVERITY: tuple[Grade, ...] = ("error", "wrong", "abstained", "correct")

#: One chat message: {"role": ..., "content": ...}.
Message = dict[str, str]
#: The metrics a baseline comparison tests.
Metric = Literal["score", "error_rate", "answerable_abstention"]
#: How each compared metric is named in messages; over-refusal is the abstention rate on the
#: questions that have an answer (idk questions are left out: abstaining is right there).
METRIC_NAMES: dict[Metric, str] = {
    "score": "score",
    "error_rate": "error rate",
    "answerable_abstention": "abstention on answerable",
}


#: What a reply lost to timeouts says to change (in its error, and read back for the summary).
TIMEOUT_FIX = "lower --abstain-concurrency or raise --abstain-timeout"


@dataclass(frozen=True)
class Interval:
    """A confidence interval: [low, high]."""

    low: float
    high: float


def doubt_kind(doubt: str) -> str:
    """The name of a doubt ("hedge") from its text ("hedge: says it does not know, ...")."""
    return doubt.split(":", 1)[0]


@dataclass(frozen=True)
class Counts:
    """How many replies got each grade."""

    correct: int = 0
    wrong: int = 0
    abstained: int = 0
    error: int = 0

    @classmethod
    def of(cls, grades: Iterable[Grade]) -> Counts:
        tally = {"correct": 0, "wrong": 0, "abstained": 0, "error": 0}
        for grade in grades:
            tally[grade] += 1
        return cls(**tally)

    @classmethod
    def summed(cls, parts: Iterable[Counts]) -> Counts:
        return sum(parts, cls())

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            self.correct + other.correct,
            self.wrong + other.wrong,
            self.abstained + other.abstained,
            self.error + other.error,
        )

    @property
    def graded(self) -> int:
        """Replies that were obtained and graded: errors are not among them."""
        return self.correct + self.wrong + self.abstained

    @property
    def attempted(self) -> int:
        return self.correct + self.wrong

    @property
    def total(self) -> int:
        return self.graded + self.error


#: Characters of a reply a baseline keeps per question, to show what the bot used to say.
REPLY_KEPT = 200


def shortened(text: str, limit: int) -> str:
    """`text` on one line, cut to `limit` characters with an ellipsis."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


#: A longer reply is not graded but an error: no honest answer to a fact question is 50,000
#: tokens long, grading is linear but not free, and every report and cache entry carries it.
MAX_REPLY_CHARS = 200_000


#: Characters of a served model name or fingerprint kept: an endpoint's own text.
SERVED_NAME_CHARS = 200


def served_name(value: object) -> str | None:
    """A served model name or fingerprint as the endpoint sent it, made safe and short, or
    None when it sent none (or not a string)."""
    if not isinstance(value, str):
        return None
    shown = shortened(plain(value), SERVED_NAME_CHARS)
    return shown or None


@dataclass(frozen=True)
class Reply:
    """One reply, or why there is none (`error`); never both."""

    text: str | None
    error: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    #: Replayed from the response cache rather than asked.
    cached: bool = False
    #: A failure worth asking again (a dropped connection, a 5xx, a 429); see retrying.py.
    transient: bool = False
    #: The endpoint answered 429: fewer requests at once.
    rate_limited: bool = False
    #: Seconds the endpoint asked to wait (its Retry-After header).
    retry_after: float | None = None
    #: No reply within the timeout: like a 429, a sign of more requests than the server
    #: serves at once (fewer at once, and never a reason to stop the run).
    timed_out: bool = False
    #: Requests it took, retries included (0 when replayed from the cache).
    attempts: int = 1
    #: The request itself failed (an HTTP status, the connection, a timeout, the callable
    #: raised), as opposed to a reply without an answer (a refusal, an empty reply). Only
    #: these can stop a run early: five identical refusals are the model's answers.
    request_failed: bool = False
    #: Parameters the endpoint refused (a 400 naming them), so this request went without
    #: them: reported in the summary, the JSON report and the cache entry.
    dropped: tuple[str, ...] = ()
    #: The exception the team's own code raised (its responder), kept for its traceback:
    #: in this process only, never stored or sent.
    raised: BaseException | None = field(default=None, compare=False, repr=False)
    #: The model the endpoint says answered (the response's `model`) and its
    #: `system_fingerprint`; None when it said nothing, and for the team's own responder.
    #: A gateway's fallback or a local server answers under another name than was asked.
    served_model: str | None = None
    fingerprint: str | None = None

    def __post_init__(self) -> None:
        # Every reply passes here, asked or replayed: the one boundary where outside text
        # is made encodable, free of terminal escapes, and bounded (untrusted.py).
        if self.error is not None:
            object.__setattr__(self, "error", error_text(self.error))
        for name in ("served_model", "fingerprint"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, served_name(value))
        if self.text is None:
            return
        text = plain(self.text)
        if len(text) > MAX_REPLY_CHARS:
            limit = f"more than the {MAX_REPLY_CHARS:,} a reply may be"
            object.__setattr__(self, "text", None)
            object.__setattr__(self, "error", f"the reply is {len(text):,} characters, {limit}")
        else:
            object.__setattr__(self, "text", text)

    @property
    def unfixable(self) -> bool:
        """A failed request that waiting cannot fix (a wrong key, model or URL, another 4xx):
        the only kind that may stop a run early. A rate limit or a timeout says the endpoint
        is busy, and a run that waits gets its replies."""
        return self.request_failed and not self.rate_limited and not self.timed_out

    @classmethod
    def failed(
        cls,
        reason: str,
        *,
        transient: bool = False,
        rate_limited: bool = False,
        retry_after: float | None = None,
        timed_out: bool = False,
        request_failed: bool = False,
        raised: BaseException | None = None,
    ) -> Reply:
        return cls(
            text=None,
            error=reason,
            transient=transient,
            rate_limited=rate_limited,
            retry_after=retry_after,
            timed_out=timed_out,
            request_failed=request_failed,
            raised=raised,
        )


@dataclass(frozen=True)
class SuiteInfo:
    """What a suite was run with, resolved (command line > suite file > ini > default)."""

    key: str
    name: str
    threshold: float
    #: Replies per question; with `adaptive` (samples: auto), at most this many: one, and
    #: the rest if the suite's first replies leave the gate's verdict open.
    samples: int
    responder: str
    confidence_stated: bool
    min_score: float | None = None
    max_error_rate: float | None = None
    #: The most abstention allowed on questions with a known answer (over-refusal).
    max_abstention_rate: float | None = None
    #: How the floors decide: "point" (the estimate) or "interval" (results/floors.py).
    floor: str = "point"
    #: The error budget as written ("3", "5%"); None: any error fails the run.
    max_errors: str | None = None
    #: How many replies the rules may leave undecided ("3", "10%"); None: any number.
    max_undecided: str | None = None
    tolerance: float = 0.0
    significance: float = 0.05
    endpoint: str | None = None
    prompt_sha: str | None = None
    system_prompt_sha: str | None = None
    #: Questions the suite declares; fewer records than this means a partial run (-k, -x).
    size: int = 0
    #: In a threshold sweep: the suite's own key, shared by its per-t results.
    sweep: str | None = None
    #: In a threshold sweep: a problem found by the calibration audit fails the run.
    calibration_gate: bool = False
    #: With several models side by side: the suite's key without the model.
    side_by_side: str | None = None
    #: The LLM judge (its model, or the conftest judge's name), when it grades, its prompt.
    judge: str | None = None
    judge_when: str | None = None
    judge_prompt_sha: str | None = None
    #: Each answer came with a stated confidence (verbal confidence mode).
    verbal_confidence: bool = False
    #: The key of its baseline entry when it is not `key`: the suite's baseline_key or name,
    #: with the model and t of `key`, so that the entry follows the suite when its file moves.
    baseline_key: str | None = None
    #: The generation parameters the responder sent (secret header values redacted); None
    #: for a team's own responder, which takes none. Not compared: a dict is not hashable.
    generation: dict[str, Any] | None = field(default=None, compare=False)
    adaptive: bool = False

    @property
    def samples_label(self) -> str:
        """'3', or 'auto (at most 3)'."""
        return f"auto (at most {self.samples})" if self.adaptive else str(self.samples)

    @property
    def baseline_id(self) -> str:
        """The key its baseline entry is stored under."""
        return self.baseline_key or self.key

    @property
    def source(self) -> str:
        """The suite's file (or test module) as pytest names it: `key` without model and t."""
        return self.side_by_side or self.sweep or self.key

    @cached_property
    def as_json(self) -> dict[str, Any]:
        """Computed once per suite, shared by all its questions' records."""
        return asdict(self)


def worst_grade(grades: Sequence[Grade]) -> Grade:
    """A question's grade over its samples: error > wrong > abstained > correct."""
    return next(g for g in _SEVERITY if g in grades) if grades else "error"


@dataclass(frozen=True)
class QuestionRecord:
    """One question's replies and grades, as carried on its pytest report."""

    suite: SuiteInfo
    nodeid: str
    index: int
    id: str
    question: str
    idk: bool
    expected: list[str | float]
    regex: str | None
    tags: list[str]
    grades: list[Grade]
    replies: list[str | None]
    errors: list[str | None]
    prompt_tokens: int = 0
    completion_tokens: int = 0
    #: Samples replayed from the response cache.
    cached: int = 0
    #: Further attempts after a transient failure (429, 5xx, timeout, ...), all samples.
    retries: int = 0
    #: Requests (samples) that needed more than one attempt.
    retried: int = 0
    #: Per reply: who gave the grade ("rules", "hook", "judge"; None without a reply), the
    #: string rules' grade, and why the rules were unsure (what sent it to the judge).
    graded_by: list[str | None] = field(default_factory=list)
    rule_grades: list[Grade | None] = field(default_factory=list)
    doubts: list[str | None] = field(default_factory=list)
    #: With verbal confidence, per reply: the stated confidence (None: none could be read)
    #: and why none could be read.
    confidences: list[float | None] = field(default_factory=list)
    confidence_problems: list[str | None] = field(default_factory=list)
    #: Tokens the judge's requests used (prompt and completion).
    judge_tokens: int = 0
    #: A wrong answer here fails the run, whatever the score (`critical: true`).
    critical: bool = False
    #: Per reply: the model the endpoint says answered, and its system_fingerprint (None
    #: when it said nothing, for the team's own responder, and without a reply).
    served_models: list[str | None] = field(default_factory=list)
    fingerprints: list[str | None] = field(default_factory=list)
    #: Parameters the endpoint refused for any of its replies, dropped and asked without.
    dropped: list[str] = field(default_factory=list)
    #: Replies lost to a timeout (after their retries): a sign the endpoint serves fewer
    #: requests at once than were sent.
    timed_out: int = 0
    #: Of a with/without-context pair: "with-context" or "without-context" (else None).
    variant: str | None = None
    #: sha256 of the documents and earlier turns before the question (None: neither).
    context_sha: str | None = None
    #: Earlier turns of the conversation before the question.
    turns: int = 0
    #: With pushback, per sample: the first reply, its grade, and the follow-up turn sent
    #: (None where no first reply came back); `replies` and `grades` are the final ones.
    first_replies: list[str | None] = field(default_factory=list)
    first_grades: list[Grade] = field(default_factory=list)
    pushbacks: list[str | None] = field(default_factory=list)
    #: The last day the expected answer is known to hold, and whether the run's day is past
    #: it (then `idk` says whether it was asked expecting "I don't know" instead).
    valid_until: str | None = None
    stale: bool = False
    #: With samples: auto, why the question got one reply or its whole budget (the suite's
    #: decision after its first replies; sampling.py).
    sampling: str | None = None

    @property
    def pushed_back(self) -> bool:
        """Each reply was pushed back on: `grades` are the replies after it."""
        return bool(self.first_grades)

    @property
    def counts(self) -> Counts:
        return Counts.of(self.grades)

    @property
    def verdict(self) -> Grade:
        return worst_grade(self.grades)

    @property
    def undecided(self) -> list[tuple[int, str]]:
        """(reply index, doubt name) of each reply the string rules graded without being sure,
        and that no judge or hook decided."""
        return [
            (index, doubt_kind(doubt))
            for index, (by, doubt, grade) in enumerate(
                zip(self.graded_by, self.doubts, self.grades, strict=False)
            )
            if by == "rules" and doubt is not None and grade != "error"
        ]

    @property
    def short_reply(self) -> str | None:
        """The reply that decided the question's grade (its first sample with that grade),
        on one line and at most REPLY_KEPT characters; None when no reply decided it."""
        verdict = self.verdict
        for grade, reply in zip(self.grades, self.replies, strict=False):
            if grade == verdict and grade != "error" and reply is not None:
                return shortened(reply, REPLY_KEPT)
        return None

    @property
    def content_sha(self) -> str:
        """sha256 of what the question asks and accepts: an edit under the same id changes it."""
        content: list[Any] = [self.question, self.idk, self.expected, self.regex]
        if self.context_sha is not None:
            # Only where there is context: every other question keeps its baseline's sha.
            content.append(self.context_sha)
        return hashlib.sha256(json.dumps(content).encode("utf-8")).hexdigest()

    def to_json(self) -> dict[str, Any]:
        # By hand, not dataclasses.asdict: that deep-copies every list, once per question.
        data = {f.name: getattr(self, f.name) for f in fields(self)}
        data["suite"] = self.suite.as_json
        return data

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> QuestionRecord:
        fields = dict(data)
        fields["suite"] = SuiteInfo(**fields["suite"])
        return cls(**fields)


#: A record's lists with an entry per reply, and its tallies over replies.
_PER_REPLY = (
    "grades", "replies", "errors", "graded_by", "rule_grades", "doubts", "confidences",
    "confidence_problems", "served_models", "fingerprints", "first_replies", "first_grades",
    "pushbacks",
)  # fmt: skip
_TALLIES = (
    "prompt_tokens", "completion_tokens", "cached", "retries", "retried", "judge_tokens",
    "timed_out",
)  # fmt: skip


def joined(first: QuestionRecord, later: QuestionRecord) -> QuestionRecord:
    """One question's record from two batches of its replies (samples: auto asks the rest
    after the first): per-reply lists end to end, tallies added, the rest the first's."""
    merged: dict[str, Any] = {name: getattr(first, name) + getattr(later, name)
                              for name in (*_PER_REPLY, *_TALLIES)}  # fmt: skip
    merged["dropped"] = sorted({*first.dropped, *later.dropped})
    return replace(first, **merged)


@dataclass(frozen=True)
class JudgeCase:
    """A calibration case's outcome: the judge's verdict against the human one."""

    id: str
    suite: str
    judge: str
    human: str
    verdict: str
    #: The string rules' grade of the same reply, to show what the judge adds.
    rules: str | None
    error: str | None

    @property
    def agrees(self) -> bool:
        return self.verdict == self.human


@dataclass(frozen=True)
class MetricComparison:
    """One metric, baseline vs now, over the paired questions of a suite or a tag."""

    metric: Metric
    scope: str
    questions: int
    baseline: float
    now: float
    baseline_interval: Interval
    now_interval: Interval
    delta_interval: Interval
    #: One-sided p-values: that it got worse (tested), and that it got better (reported).
    p_value: float
    p_better: float
    exact: bool
    #: Positive means worse: a lower score, or a higher error rate.
    drop: float
    detectable: float | None
    regressed: bool = False
    improved: bool = False
    #: What the detectable drop scales with: detectable = (z of the level + z of the power)
    #: x noise, so it can be quoted at any level (the run's family; results/family.py).
    noise: float | None = None

    @property
    def delta(self) -> float:
        return self.now - self.baseline

    @property
    def label(self) -> str:
        """'score', or 'tag geo: error rate'."""
        name = METRIC_NAMES[self.metric]
        return name if self.scope == "suite" else f"{self.scope}: {name}"

    def describe(self) -> str:
        """The whole comparison in a sentence; a difference the test does not find
        significant is said to be so, never called 'unchanged'."""
        verdict = (
            "regressed"
            if self.regressed
            else ("improved" if self.improved else "change not significant")
        )
        return (
            f"{self.label} {verdict}: {self.baseline:.3f} → {self.now:.3f} "
            f"(Δ {self.delta:+.3f}, 95% CI [{self.delta_interval.low:+.3f}, "
            f"{self.delta_interval.high:+.3f}], p={self.p_value:.3g}, "
            f"{self.questions} paired questions)"
        )

    def reason(self) -> str:
        """Why it fails the gate, short: the interval and the pairs are in the table."""
        return (
            f"{self.label} regressed against the baseline: {self.baseline:.3f} → "
            f"{self.now:.3f} (Δ {self.delta:+.3f}, p={self.p_value:.3g})"
        )


@dataclass(frozen=True)
class QuestionChange:
    id: str
    kind: Literal["newly wrong", "newly abstaining", "newly correct"]
    before: Counts
    after: Counts
    #: The reply the baseline keeps for the question (None: an older baseline has none).
    before_reply: str | None = None
    #: This run's reply that decided the question's grade, as short as the baseline's.
    after_reply: str | None = None

    def describe(self) -> str:
        return f"{self.id}: {describe_counts(self.before)} → {describe_counts(self.after)}"


@dataclass(frozen=True)
class TagCost:
    """The power a suite's gated tags cost: each adds tests to the family, so every test is
    made at a stricter level. The suite's detectable error-rate rise (80% power), at the
    family's first Holm step, without the tag tests and with them."""

    #: Tests the suite's tags add (a metric per gated tag) and the family's size with them.
    tests: int
    family: int
    without: float | None
    with_tags: float | None


@dataclass
class SuiteComparison:
    """What the baseline says about one suite; `gating` False reports without failing."""

    status: Literal["compared", "refused", "not in baseline"]
    message: str | None = None
    metrics: list[MetricComparison] = field(default_factory=list)
    changes: list[QuestionChange] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    #: In the baseline but deselected in this run.
    not_run: list[str] = field(default_factory=list)
    #: Same id, different question text or expected answer since the baseline.
    edited: list[str] = field(default_factory=list)
    unpaired: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    tags_not_gated: dict[str, int] = field(default_factory=dict)
    tolerance: float = 0.0
    significance: float = 0.05
    gating: bool = True
    #: Too few paired questions for any change to be significant: said, never a silent pass.
    untestable: bool = False
    #: The baseline file, as the command that accepts a change names it.
    baseline_file: str | None = None
    #: Another baseline entry that no suite claims holds most of these questions: this
    #: suite's file was probably renamed or moved from it.
    renamed_from: str | None = None
    #: How the baseline entry was made: runs recorded into its pool, and since when.
    recordings: int = 1
    pooled_since: str | None = None
    #: How many tests were corrected together with this suite's (Holm): its own, or every
    #: baseline test of the run once the run's family decided (results/family.py).
    family_size: int = 0
    #: What the suite's gated tags cost in power; None without gated tags.
    tag_cost: TagCost | None = None
    #: The smallest p-value any outcome could give this comparison's samples (permutation.py):
    #: above the family's first Holm step, no change can be significant.
    smallest_p: float = 0.0

    @property
    def regressions(self) -> list[str]:
        """Why the gate fails on this comparison; empty when it does not."""
        if not self.gating:
            return []
        if self.status == "refused":
            return [f"baseline refused: {self.message}"]
        return [m.reason() for m in self.metrics if m.regressed]

    @property
    def accept_command(self) -> str | None:
        """The command that accepts this comparison's changes, when it has a file to name."""
        if self.baseline_file is None:
            return None
        # A new pool: mixing the accepted results with the old model's would compare the next
        # pull requests with neither.
        return f"pytest ... --abstain-baseline {self.baseline_file} --abstain-baseline-restart"

    def changed(self, kind: str) -> list[QuestionChange]:
        return [c for c in self.changes if c.kind == kind]


@dataclass(frozen=True)
class OrphanEntry:
    """A baseline entry that no suite of the run claims, and why."""

    key: str
    #: Where its suite lived (its file, or test module).
    path: str
    #: "gone": the run collected everything where it lived and found no suite for it, so it
    #: was removed, renamed or moved (this fails the gate); "not collected": the run was a
    #: subset (-k, -m, paths) that left it out; "other variant": its suite ran, with other
    #: models or thresholds.
    status: Literal["gone", "not collected", "other variant"]
    #: The suite of this run that holds most of its questions: where it was renamed to.
    renamed_to: str | None = None
    #: Why the run was a subset ("-k", "3 deselected"), when it was one.
    subset: str | None = None


def describe_counts(counts: Counts) -> str:
    """'wrong 2/3, abstained 1/3': the non-zero grades, most frequent first."""
    graded = counts.graded
    parts = [("correct", counts.correct), ("wrong", counts.wrong), ("abstained", counts.abstained)]
    shown = sorted((p for p in parts if p[1]), key=lambda p: -p[1])
    return ", ".join(f"{name} {n}/{graded}" for name, n in shown) or "no graded reply"
