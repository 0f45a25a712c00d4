"""The JSON report, and the schema it is published with (pure; no pytest)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime, timezone
from typing import Any

from ..judging import case_tallies
from ..records import Interval, JudgeCase, OrphanEntry, QuestionRecord, SuiteComparison
from ..results.family import Family
from ..results.floors import FloorCheck
from ..results.risk_coverage import StatedConfidence
from ..results.scoring import Metrics, counts_json, metrics_json, penalty
from ..results.suites import SuiteResult, leaderboard
from ..results.sweep import Sweep
from ..results.verdict import Verdict
from ..schema import load_schema, plugin_version

REPORT_VERSION = 1


def report_schema() -> dict[str, Any]:
    """The published JSON Schema of the report."""
    return load_schema("report")


def _question_json(record: QuestionRecord) -> dict[str, Any]:
    counts = record.counts
    return {
        "id": record.id,
        "nodeid": record.nodeid,
        "question": record.question,
        "idk": record.idk,
        "expected": record.expected,
        "regex": record.regex,
        "tags": record.tags,
        "grade": record.verdict,
        "counts": {**counts_json(counts), "error": counts.error},
        "grades": record.grades,
        "replies": record.replies,
        "errors": record.errors,
        "retries": record.retries,
        "graded_by": record.graded_by,
        "rule_grades": record.rule_grades,
        "doubts": record.doubts,
        "confidences": record.confidences,
        "confidence_problems": record.confidence_problems,
        "critical": record.critical,
        "valid_until": record.valid_until,
        "stale": record.stale,
        "served": _served_question_json(record),
        **_context_json(record),
    }


def _context_json(record: QuestionRecord) -> dict[str, Any]:
    """What came before the question and, with pushback, the first replies: only where
    there was any, so other questions' entries read as before."""
    shown: dict[str, Any] = {}
    if record.variant is not None:
        shown["variant"] = record.variant
    if record.context_sha is not None:
        shown["context_sha"] = record.context_sha
    if record.turns:
        shown["turns"] = record.turns
    if record.pushed_back:
        shown["pushback"] = {
            "first_grades": record.first_grades,
            "first_replies": record.first_replies,
            "turns": record.pushbacks,
        }
    return shown


def _served_question_json(record: QuestionRecord) -> dict[str, Any] | None:
    models = Counter(name for name in record.served_models if name is not None)
    if not models:
        return None
    fingerprints = Counter(fp for fp in record.fingerprints if fp is not None)
    return {"models": dict(models.most_common()), "fingerprints": dict(fingerprints.most_common())}


def _served_json(result: SuiteResult) -> dict[str, Any] | None:
    served = result.served
    if not served.models:
        return None
    return {
        "models": dict(served.models.most_common()),
        "fingerprints": dict(served.fingerprints.most_common()),
        "replies": served.replies,
        "other_models": dict(served.others.most_common()),
        "mismatch": served.mismatch,
    }


def _sampling_json(result: SuiteResult) -> dict[str, Any]:
    """How the suite's replies were asked: `samples` each, or with auto at most that many."""
    auto = result.auto_samples
    if auto is None:
        return {"auto": False}
    return {
        "auto": True,
        "replies": auto.replies,
        "most": auto.most,
        "saved": round(auto.saved, 6),
        "whole_budget": auto.whole_budget,
        "why": auto.why,
    }


def suite_json(result: SuiteResult) -> dict[str, Any]:
    info = result.info
    prompt_tokens, completion_tokens = result.tokens
    return {
        "key": info.key,
        "name": info.name,
        "responder": info.responder,
        "threshold": info.threshold,
        "penalty": penalty(info.threshold),
        "samples": info.samples,
        "sampling": _sampling_json(result),
        "confidence_stated": info.confidence_stated,
        "gates": {
            "min_score": info.min_score,
            "max_error_rate": info.max_error_rate,
            "max_abstention_rate": info.max_abstention_rate,
            "floor": info.floor,
            "max_errors": info.max_errors,
            "max_undecided": info.max_undecided,
        },
        "floors": [floor_json(check) for check in result.floor_checks()],
        "verdict": result.verdict,
        "reasons": result.failures,
        "warnings": result.warnings,
        "answerable_abstention_rate": result.answerable_abstention_rate,
        "critical_wrong": [record.id for record in result.critical_wrong],
        "metrics": metrics_json(result.metrics),
        "usage": {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cached_replies": result.cached,
            "retries": result.retries,
            "judge_tokens": result.judged.tokens,
        },
        "served": _served_json(result),
        "generation": {"params": info.generation, "dropped": result.dropped},
        "judge": _judge_json(result),
        "undecided": _undecided_json(result),
        "verbal_confidence": _stated_json(result.stated_confidence()),
        **_pushback_json(result),
        "tags": {tag: metrics_json(m) for tag, m in result.tag_metrics().items()},
        "baseline": comparison_json(result.comparison) if result.comparison else None,
        "questions": [_question_json(r) for r in result.questions],
    }


def floor_json(check: FloorCheck) -> dict[str, Any]:
    """A floor against its metric: the value, the interval (its level), the outcome."""
    return {
        "gate": check.gate,
        "limit": check.limit,
        "metric": check.metric,
        "value": check.value,
        "interval": _interval_json(check.interval),
        "interval_level": check.level,
        "mode": check.mode,
        "status": check.status,
    }


def family_json(family: Family) -> dict[str, Any]:
    """The run's family of tests: its size, level and every test with the run's decision."""
    return {
        "method": "holm",
        "size": family.size,
        "level": family.level,
        "suites": family.suites,
        "tag_tests": family.tag_tests,
        "audits": family.audits,
        "audit_tests": family.audit_tests,
        "rejected": family.rejected,
        "improved": family.improved,
        "tests": [
            {
                "owner": t.owner,
                "test": t.test,
                "p_value": t.p_value,
                "level": t.level,
                "rejected": t.rejected,
            }
            for t in family.tests
        ],
    }


def _pushback_json(result: SuiteResult) -> dict[str, Any]:
    """The pushback figures, under "pushback", only for a suite with pushback."""
    figures = result.pushback()
    return {} if figures is None else {"pushback": figures.to_json()}


def _undecided_json(result: SuiteResult) -> dict[str, Any]:
    span = result.undecided_range()
    return {
        "replies": sum(result.undecided.values()),
        "by_doubt": dict(result.undecided.most_common()),
        "best": None if span is None else metrics_json(span[0]),
        "worst": None if span is None else metrics_json(span[1]),
    }


def _judge_json(result: SuiteResult) -> dict[str, Any] | None:
    info = result.info
    if info.judge_when is None:
        return None
    tally = result.judged
    return {
        "model": info.judge,
        "when": info.judge_when,
        "prompt_sha256": info.judge_prompt_sha,
        "judged": tally.judged,
        "overturned": tally.overturned,
        "failed": tally.failed,
    }


def _stated_json(stated: StatedConfidence | None) -> dict[str, Any] | None:
    if stated is None:
        return None
    calibration = stated.calibration
    return {
        "replies": stated.replies,
        "stated": stated.stated,
        "problems": stated.problems,
        "calibration": None if calibration is None else asdict(calibration),
        "risk_coverage": [asdict(point) for point in stated.curve],
    }


def comparison_json(comparison: SuiteComparison) -> dict[str, Any]:
    """Baseline vs now for one suite, everything the terminal shows and more."""
    return {
        "status": comparison.status,
        "message": comparison.message,
        "gating": comparison.gating,
        "untestable": comparison.untestable,
        "tolerance": comparison.tolerance,
        "significance": comparison.significance,
        "regressions": comparison.regressions,
        "metrics": [
            {
                "metric": m.metric,
                "scope": m.scope,
                "questions": m.questions,
                "baseline": m.baseline,
                "now": m.now,
                "delta": m.delta,
                "baseline_interval": [m.baseline_interval.low, m.baseline_interval.high],
                "now_interval": [m.now_interval.low, m.now_interval.high],
                "delta_interval": [m.delta_interval.low, m.delta_interval.high],
                "p_value": m.p_value,
                "p_better": m.p_better,
                "exact": m.exact,
                "detectable": m.detectable,
                "regressed": m.regressed,
                "improved": m.improved,
            }
            for m in comparison.metrics
        ],
        "changes": [
            {
                "id": c.id,
                "kind": c.kind,
                "before": counts_json(c.before),
                "after": counts_json(c.after),
                "before_reply": c.before_reply,
                "after_reply": c.after_reply,
            }
            for c in comparison.changes
        ],
        "added": comparison.added,
        "removed": comparison.removed,
        "not_run": comparison.not_run,
        "edited": comparison.edited,
        "unpaired": comparison.unpaired,
        "notes": comparison.notes,
        "tags_not_gated": comparison.tags_not_gated,
        "family_size": comparison.family_size,
        "tag_cost": None if comparison.tag_cost is None else asdict(comparison.tag_cost),
        "renamed_from": comparison.renamed_from,
        "baseline_pool": {
            "recordings": comparison.recordings,
            "since": comparison.pooled_since,
        },
        "accept_command": comparison.accept_command if comparison.regressions else None,
    }


def _interval_json(interval: Interval | None) -> list[float] | None:
    return None if interval is None else [interval.low, interval.high]


def sweep_json(sweep: Sweep) -> dict[str, Any]:
    """A threshold sweep: per t the rates with 95% intervals, and the calibration audit."""
    return {
        "key": sweep.key,
        "name": sweep.name,
        "significance": sweep.significance,
        "family_size": sweep.family_size,
        "rows": [
            {
                "threshold": row.threshold,
                "answered_rate": row.answered_rate,
                "answered_interval": _interval_json(row.answered),
                "accuracy_given_attempted_interval": _interval_json(row.accuracy_answered),
                "error_rate_interval": _interval_json(row.error_rate),
                "abstention_rate_interval": _interval_json(row.abstention),
                "score_interval": _interval_json(row.score),
                "abstain_all_score": 0.0,
                "metrics": metrics_json(row.metrics),
            }
            for row in sweep.rows
        ],
        "audit": {
            "passed": not sweep.failed,
            "findings": [
                {"check": f.check, "message": f.message, "p_value": f.p_value, "failed": f.failed}
                for f in sweep.findings
            ],
        },
    }


def build_report(
    results: Sequence[SuiteResult],
    overall: Metrics,
    run: dict[str, Any],
    verdict: Verdict,
    sweeps: Sequence[Sweep] = (),
    judge_cases: Sequence[JudgeCase] = (),
    problems: Sequence[str] = (),
    orphans: Sequence[OrphanEntry] = (),
) -> dict[str, Any]:
    """The whole JSON report; `run` says what produced it (model, endpoint, options),
    `problems` what went wrong in the run itself (any fails it), and `orphans` the baseline
    entries no suite claimed."""
    return {
        "version": REPORT_VERSION,
        "tool": {"name": "pytest-abstain", "version": plugin_version()},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "verdict": verdict.status(run_failed=bool(problems)),
        "run": run,
        "overall": metrics_json(overall),
        "suites": [suite_json(r) for r in results],
        "sweeps": [sweep_json(s) for s in sweeps],
        "models": [
            {
                "model": name,
                "rank_by_score": by_score,
                "rank_by_accuracy": by_accuracy,
                "metrics": metrics_json(m),
            }
            for name, m, by_score, by_accuracy in leaderboard(results)
        ],
        "judge_calibration": case_tallies(judge_cases),
        "family": family_json(verdict.family),
        **({"problems": list(problems)} if problems else {}),
        **({"baseline_orphans": [orphan_json(o) for o in orphans]} if orphans else {}),
    }


def orphan_json(orphan: OrphanEntry) -> dict[str, Any]:
    return {
        "key": orphan.key,
        "path": orphan.path,
        "status": orphan.status,
        "renamed_to": orphan.renamed_to,
    }
