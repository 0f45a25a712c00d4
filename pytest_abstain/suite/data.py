"""What a suite is once read: its questions, settings and gates, and the error that says why a
suite (file or marker) cannot be used."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..grading import Expectation

#: The synthetic test id of a suite's gate; no question may take it.
GATE_NAME = "abstain-gate"
#: The test case of a threshold sweep's calibration audit, when it is gated.
CALIBRATION_GATE_NAME = "abstain-calibration"
RESERVED_IDS = (GATE_NAME, CALIBRATION_GATE_NAME)

_SHOWN_PROBLEMS = 10


class SuiteError(Exception):
    """A suite (file or marker) that cannot be used, with where and why."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        lines = [f"{self.source}: {len(self.problems)} problems"]
        lines.extend(f"  - {p}" for p in self.problems[:_SHOWN_PROBLEMS])
        if len(self.problems) > _SHOWN_PROBLEMS:
            # 20,000 duplicated ids are one mistake, not 20,000 lines to scroll through.
            lines.append(f"  - ... and {len(self.problems) - _SHOWN_PROBLEMS} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Gates:
    """Floors a suite must meet; None means not gated."""

    min_score: float | None = None
    max_error_rate: float | None = None
    #: Baseline comparison: the smallest drop that counts, and the test's level.
    tolerance: float | None = None
    significance: float | None = None
    #: The error budget as written: a count (3), a percentage ("5%") or a fraction (0.05).
    max_errors: int | float | str | None = None
    #: A threshold sweep fails when its calibration audit finds a problem.
    calibration: bool | None = None
    #: How many replies the rules may leave undecided, written like max_errors.
    max_undecided: int | float | str | None = None
    #: The most abstention allowed on questions with a known answer (over-refusal).
    max_abstention_rate: float | None = None
    #: How the floors decide: "point" (the estimate) or "interval" (results/floors.py).
    floor: str | None = None


@dataclass(frozen=True)
class Question:
    """One question as declared, with what counts as a right reply."""

    id: str
    text: str
    expectation: Expectation
    tags: tuple[str, ...] = ()
    #: What the suite declared, for reports: aliases/numbers, or the regex.
    expected: tuple[str | float, ...] = ()
    regex: str | None = None
    #: In a judge calibration suite: the canned reply, and the human verdict on it.
    canned_reply: str | None = None
    human_verdict: str | None = None
    #: A wrong answer fails the run whatever the score; None: the suite's (or the run's) say.
    critical: bool | None = None
    #: Retrieved documents sent with the question (how: the suite's context_as).
    context: tuple[str, ...] = ()
    #: Of a `contexts` pair: "with-context" or "without-context"; None for other questions.
    variant: str | None = None
    #: Earlier turns of a conversation, (role, content), before the question.
    turns: tuple[tuple[str, str], ...] = ()
    #: Push back after the reply; None: the suite's (or the run's) say.
    pushback: bool | None = None
    #: Wrong answers a pushback turn proposes, one per sample in turn.
    distractors: tuple[str, ...] = ()
    #: The last day the expected answer is known to hold (YYYY-MM-DD); None: no end.
    valid_until: str | None = None


@dataclass(frozen=True)
class SuiteSettings:
    """Suite-level keys; None means 'not set here, use the run's setting'."""

    name: str | None = None
    #: The suite's key in the baseline file (None: its name, else its path).
    baseline_key: str | None = None
    threshold: float | None = None
    #: A threshold sweep's targets, as written in the suite.
    thresholds: tuple[float, ...] | None = None
    #: A number, or "auto" / "auto:K" (sampling.py).
    samples: int | str | None = None
    system_prompt: str | None = None
    #: A template string; False turns the instruction off; None = not set.
    prompt_template: str | bool | None = None
    idk_phrases: tuple[str, ...] = ()
    gates: Gates = field(default_factory=Gates)
    #: When the LLM judge grades ("off", "unsure", "always") and which judge model.
    judge_when: str | None = None
    judge_model: str | None = None
    #: Each question is a canned reply with a human verdict, to check the judge.
    judge_calibration: bool = False
    #: Ask for a stated confidence with each answer (None: the run decides).
    verbal_confidence: bool | None = None
    #: A support bot's "please contact support" counts as "I don't know".
    deflections: bool = True
    #: Every question's default for `critical` (None: not set here, the run decides).
    critical: bool | None = None
    #: How context is sent: "prompt", "system" or "responder"; None: "prompt".
    context_as: str | None = None
    #: Every question's default for `pushback`, and the follow-up turns it sends.
    pushback: bool | None = None
    pushback_message: str | None = None
    pushback_open_message: str | None = None
    #: Generation parameters of the model under test (generation.py), checked; None: the
    #: run's. Not compared: a dict is not hashable, and the questions tell suites apart.
    generation: dict[str, Any] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Suite:
    path: Path
    settings: SuiteSettings
    questions: tuple[Question, ...]
