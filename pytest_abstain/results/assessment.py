"""From the records a run collected to what it found: each suite's result (compared with
the baseline when there is one), the threshold sweeps' audits, and the one verdict."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from ..records import JudgeCase, OrphanEntry, QuestionRecord
from .baseline import Baseline
from .comparison import compared
from .family import run_family
from .orphans import Scope, orphans
from .suites import SuiteResult, aggregate, lost_record
from .sweep import Sweep, sweeps
from .verdict import Verdict, decide


@dataclass(frozen=True)
class Assessment:
    results: list[SuiteResult]
    #: Audited once: the gates, every report and the summary read the same sweeps.
    sweeps: list[Sweep]
    verdict: Verdict
    #: Baseline entries no suite of the run claims (none without a baseline).
    orphans: list[OrphanEntry] = field(default_factory=list)

    @property
    def gone(self) -> list[OrphanEntry]:
        """The entries whose suite was removed, renamed or moved: each fails the gate,
        and updating the baseline drops them."""
        return [orphan for orphan in self.orphans if orphan.status == "gone"]


def assess(
    records: Sequence[QuestionRecord],
    *,
    judge_cases: Sequence[JudgeCase] = (),
    crashed: Sequence[str] = (),
    baseline: Baseline | None = None,
    tag_min_questions: int = 0,
    update_baseline: bool = False,
    question_errors: int = 0,
    stopped: bool = False,
    complete: bool = True,
    scope: Scope | None = None,
) -> Assessment:
    """`crashed`: node ids whose xdist worker died running them (each an error record);
    `complete` False: -x or --maxfail stopped the run, so nothing is gated or audited;
    `scope`: what the run collected (None: everything), to tell a baseline entry whose suite
    is gone from one the run left out."""
    reason = "the xdist worker asking it crashed (killed, or out of memory?)"
    lost = [lost_record(nodeid, reason, records) for nodeid in crashed]
    records = [*records, *(record for record in lost if record is not None)]
    results = aggregate(records, evaluated=complete)
    left: list[OrphanEntry] = []
    if baseline is not None:
        # Updating accepts the new results: the comparison is shown, not gated. (A run cut
        # short is compared too, for its report, but nothing of it is gated.)
        results = compared(results, baseline, tag_min_questions, gating=not update_baseline)
        # A run with no honesty question claims nothing: its baseline is not its business.
        if results:
            left = orphans(results, baseline, scope or Scope())
    gating = complete and not update_baseline
    audited = sweeps(results) if complete else []
    # One correction across every comparison and gated audit of the run, here where all
    # results meet (the controller, under xdist).
    results, audited, family = run_family(results, audited)
    verdict = decide(
        results,
        audited,
        judge_cases=judge_cases,
        question_errors=question_errors,
        stopped=stopped,
        complete=complete,
        orphaned=[o.key for o in left if o.status == "gone"] if gating else [],
        family=family,
    )
    return Assessment(results, audited, verdict, left)
