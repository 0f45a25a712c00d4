"""What a run would ask, counted before anything is asked (--abstain-dry-run)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from .pipeline import Pipeline
from .plan import QuestionPlan


@dataclasses.dataclass(frozen=True)
class DryRun:
    """What a run would ask: replies per suite (all, in the cache), and judge requests
    (certain, and at most where the rules are unsure)."""

    replies: dict[str, tuple[int, int]]
    judge_certain: int
    judge_unsure: int
    #: Follow-up requests after pushback, one per sample: their keys hold the first
    #: replies, so whether the cache has them is not known before those are in.
    pushbacks: int = 0
    #: With samples: auto, the most further replies: asked if the first leave the verdict open.
    follow_ups: int = 0

    def lines(self) -> list[str]:
        return [
            f"{key}: {count} replies, {cached} in the cache, {count - cached} to ask"
            for key, (count, cached) in sorted(self.replies.items())
        ]

    def total(self) -> str:
        count = sum(n for n, _ in self.replies.values())
        cached = sum(c for _, c in self.replies.values())
        judge = ""
        if self.judge_certain or self.judge_unsure:
            # Cached verdicts are not counted: their keys hold replies not asked yet.
            judge = f"; the judge: {self.judge_certain} requests"
            if self.judge_unsure:
                judge += f" and up to {self.judge_unsure} more where the rules are unsure"
        pushback = f"; pushback: up to {self.pushbacks} more" if self.pushbacks else ""
        follow_ups = ""
        if self.follow_ups:
            follow_ups = f"; samples auto: up to {self.follow_ups} more if the first leave it open"
        return (
            f"dry run: {count} replies, {cached} answered by the cache, "
            f"{count - cached} requests to make{follow_ups}{pushback}{judge}"
        )


def dry_run(pipeline: Pipeline, plans: Iterable[tuple[QuestionPlan, bool]]) -> DryRun:
    """What asking `plans` would cost; each is (plan, is a judge calibration case)."""
    replies: dict[str, tuple[int, int]] = {}
    judged = [0, 0]  # certain, and at most (where the rules are unsure)
    pushbacks = follow_ups = 0
    for plan, is_case in plans:
        if plan.judge is not None:
            # A calibration case is one canned reply; a question has a reply per sample.
            judged[plan.judge.when == "unsure"] += 1 if is_case else plan.samples
        if is_case:
            continue
        # samples: auto asks the first reply; the rest depends on it.
        keys = pipeline.cache_keys(plan)[: plan.first_samples]
        follow_ups += plan.samples - plan.first_samples
        if plan.pushback is not None:
            pushbacks += plan.samples  # the follow-ups of samples: auto are pushed back too
            if plan.judge is not None:
                judged[plan.judge.when == "unsure"] += plan.samples
        stored = sum(1 for key in keys if pipeline.cache and pipeline.cache.get(key))
        count, cached = replies.get(plan.suite_key, (0, 0))
        replies[plan.suite_key] = (
            count + len(keys),
            cached + (stored if pipeline.record_mode != "all" else 0),
        )
    return DryRun(replies, judged[0], judged[1], pushbacks, follow_ups)
