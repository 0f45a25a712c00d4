"""Baselines follow suites: an entry keyed by the suite's baseline_key or name, older entries
still found by path, entries no suite claims told apart (gone, not collected, another
variant) and dropped by an update; and regression output a reviewer can act on (the
replies then and now, only possible detectable drops, 'not significant')."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openai_server import FakeOpenAI
from suite_results import suite_result
from test_baseline import hallucinating, honest_replies, suite_text

from pytest_abstain.records import REPLY_KEPT, OrphanEntry
from pytest_abstain.render.json_report import build_report, report_schema
from pytest_abstain.render.markdown import render_markdown
from pytest_abstain.render.terminal import summary_sections
from pytest_abstain.render.wording import detectable_line, orphan_lines
from pytest_abstain.results.assessment import assess
from pytest_abstain.results.baseline import (
    Baseline,
    BaselineError,
    baseline_schema,
    read_baseline,
    suite_baseline,
    update_baseline,
    updated,
)
from pytest_abstain.results.comparison import compare_suite, compared
from pytest_abstain.results.orphans import Scope, orphans
from pytest_abstain.results.scoring import compute_metrics
from pytest_abstain.results.suites import SuiteResult

GOOD = ["correct"] * 20 + ["abstained"] * 12


def facts(key: str = "honesty/abstain_facts.yaml", **info: Any) -> SuiteResult:
    return suite_result(key, GOOD, **info)


def baseline_of(*results: SuiteResult) -> Baseline:
    return dataclasses.replace(updated(None, results).baseline, shown_path="b.json")


# --- identity: which entry is a suite's ------------------------------------------------------


def test_a_named_suite_is_stored_under_its_name_and_found_after_its_file_moves() -> None:
    baseline = baseline_of(facts(baseline_key="Facts"))
    assert list(baseline.suites) == ["Facts"]
    assert baseline.suites["Facts"].path == "honesty/abstain_facts.yaml"
    moved = facts("elsewhere/abstain_renamed.yaml", baseline_key="Facts")
    (result,) = compared([moved], baseline, 20, gating=True)
    assert result.comparison is not None and result.comparison.status == "compared"
    assert orphans([moved], baseline, Scope()) == []


def test_an_entry_keyed_by_path_still_matches_and_an_update_moves_it_to_the_name() -> None:
    old = baseline_of(facts())  # made before the suite had a name
    named = facts(baseline_key="Facts")
    (result,) = compared([named], old, 20, gating=True)
    assert result.comparison is not None and result.comparison.status == "compared"
    update = updated(old, [named])
    assert list(update.baseline.suites) == ["Facts"]
    assert update.rekeyed == (("honesty/abstain_facts.yaml", "Facts"),)
    assert update.dropped == ()


def test_an_older_entry_without_a_path_gives_its_key_without_model_and_t() -> None:
    entry = suite_baseline(facts())
    old = dataclasses.replace(entry, path=None)
    assert old.source("honesty/abstain_facts.yaml[gpt-4o][t=0.9]") == "honesty/abstain_facts.yaml"
    assert old.source("Hand made [draft]") == "Hand made [draft]"  # not a path: kept whole
    assert entry.source("anything") == "honesty/abstain_facts.yaml"


def test_the_plan_keys_a_named_suite_by_its_name_with_model_and_t(tmp_path: Path) -> None:
    from direct_run import planned

    path = tmp_path / "abstain_facts.yaml"
    path.write_text(
        "name: Facts\nquestions:\n  - {id: a, question: 'Q?', answer: x}\n", encoding="utf-8"
    )
    (plan,) = planned(path, {"thresholds": "0.5,0.9", "model": ["m1", "m2"]})[:1]
    assert plan.suite_key == "abstain_facts.yaml[m1][t=0.5]"
    assert plan.baseline_key == "Facts[m1][t=0.5]"
    path.write_text(
        "name: Facts\nbaseline_key: facts-v1\nquestions:\n  - {id: a, question: 'Q?', answer: x}\n",
        encoding="utf-8",
    )
    assert planned(path)[0].baseline_key == "facts-v1"
    path.write_text("questions:\n  - {id: a, question: 'Q?', answer: x}\n", encoding="utf-8")
    assert planned(path)[0].baseline_key is None  # keyed by its path, as before


# --- entries no suite claims -----------------------------------------------------------------


def test_a_renamed_suite_leaves_a_gone_entry_that_names_where_it_went() -> None:
    baseline = baseline_of(facts())
    renamed = facts("honesty/abstain_renamed.yaml")
    (result,) = compared([renamed], baseline, 20, gating=True)
    assert result.comparison is not None
    assert result.comparison.status == "not in baseline"
    assert result.comparison.renamed_from == "honesty/abstain_facts.yaml"
    (orphan,) = orphans([result], baseline, Scope())
    assert orphan == OrphanEntry(
        "honesty/abstain_facts.yaml",
        "honesty/abstain_facts.yaml",
        "gone",
        renamed_to="honesty/abstain_renamed.yaml",
    )


def test_an_unrelated_new_suite_is_not_taken_for_a_rename() -> None:
    baseline = baseline_of(facts())
    other = suite_result("honesty/abstain_other.yaml", GOOD)
    other = SuiteResult(
        other.info, [dataclasses.replace(q, id=f"other-{q.id}") for q in other.questions]
    )
    (orphan,) = orphans(compared([other], baseline, 20, True), baseline, Scope())
    assert orphan.status == "gone" and orphan.renamed_to is None


@pytest.mark.parametrize(
    ("scope", "status", "subset"),
    [
        (Scope(), "gone", None),
        (Scope(paths=("honesty",)), "gone", None),
        (Scope(subset="-k"), "not collected", "-k"),
        (Scope(subset="3 deselected"), "not collected", "3 deselected"),
        # Only another folder was collected: the entry's suite was not looked for.
        (Scope(paths=("other", "honesty/abstain_x.yaml")), "not collected", None),
    ],
)
def test_an_entry_fails_only_when_the_run_collected_everything_where_it_lived(
    scope: Scope, status: str, subset: str | None
) -> None:
    baseline = baseline_of(facts(), facts("other/abstain_kept.yaml"))
    ran = [facts("other/abstain_kept.yaml")]
    (orphan,) = orphans(ran, baseline, scope)
    assert (orphan.key, orphan.status, orphan.subset) == (
        "honesty/abstain_facts.yaml",
        status,
        subset,
    )


def test_an_entry_of_another_model_or_t_of_a_suite_that_ran_is_not_gone() -> None:
    baseline = baseline_of(
        facts("honesty/abstain_facts.yaml[m1]", side_by_side="honesty/abstain_facts.yaml")
    )
    ran = [facts("honesty/abstain_facts.yaml[m2]", side_by_side="honesty/abstain_facts.yaml")]
    (orphan,) = orphans(ran, baseline, Scope())
    assert orphan.status == "other variant"


def test_a_gone_entry_fails_the_verdict_unless_the_run_updates_or_stopped() -> None:
    baseline = baseline_of(facts())
    records = facts("honesty/abstain_renamed.yaml").questions
    gated = assess(records, baseline=baseline)
    assert gated.verdict.orphaned == ("honesty/abstain_facts.yaml",)
    assert not gated.verdict.passed
    assert [o.key for o in gated.gone] == ["honesty/abstain_facts.yaml"]
    assert assess(records, baseline=baseline, update_baseline=True).verdict.passed
    assert not assess(records, baseline=baseline, complete=False).verdict.orphaned
    subset = assess(records, baseline=baseline, scope=Scope(subset="-k"))
    assert subset.verdict.passed and subset.orphans[0].status == "not collected"


def test_an_update_drops_the_gone_entries_and_keeps_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    update_baseline(path, [facts(), facts("other/abstain_kept.yaml")])
    update = update_baseline(
        path, [facts("honesty/abstain_renamed.yaml")], ["honesty/abstain_facts.yaml", "absent"]
    )
    assert update.dropped == ("honesty/abstain_facts.yaml",)
    baseline = read_baseline(path)
    assert baseline is not None
    assert sorted(baseline.suites) == ["honesty/abstain_renamed.yaml", "other/abstain_kept.yaml"]


def test_orphans_are_worded_with_what_to_do() -> None:
    gone = OrphanEntry("a.yaml", "a.yaml", "gone", renamed_to="b.yaml")
    skipped = OrphanEntry("c.yaml", "c.yaml", "not collected", subset="-k")
    lines = [text for text, _ in orphan_lines([gone, skipped], "b.json", updating=False)]
    text = "\n".join(lines)
    assert lines[1].startswith("  FAILED: a.yaml: no suite claims this baseline entry, and b.yaml")
    assert "Give the suite a name: (or" in text
    assert "  c.yaml: not collected by this run (-k): not compared" in lines
    assert lines[-1] == (
        "  re-record (drops the entries above): "
        "pytest ... --abstain-baseline b.json --abstain-update-baseline"
    )
    assert max(map(len, lines)) <= 110
    updating = [text for text, _ in orphan_lines([gone], "b.json", updating=True)]
    assert "FAILED" not in "\n".join(updating)
    assert "    dropped from the baseline by this update" in updating


def test_orphans_reach_the_json_report_and_the_markdown_summary() -> None:
    baseline = baseline_of(facts())
    assessment = assess(facts("honesty/abstain_renamed.yaml").questions, baseline=baseline)
    report = build_report(
        assessment.results,
        compute_metrics(assessment.results[0].counts, 0.75),
        {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 4},
        assessment.verdict,
        orphans=assessment.orphans,
    )
    jsonschema.Draft202012Validator(report_schema()).validate(report)
    assert report["verdict"] == "failed"
    assert report["baseline_orphans"] == [
        {
            "key": "honesty/abstain_facts.yaml",
            "path": "honesty/abstain_facts.yaml",
            "status": "gone",
            "renamed_to": "honesty/abstain_renamed.yaml",
        }
    ]
    assert report["suites"][0]["baseline"]["renamed_from"] == "honesty/abstain_facts.yaml"
    markdown = render_markdown(
        assessment.results, [], assessment.verdict, False, assessment.orphans
    ).splitlines()
    assert "### Baseline entries no suite claims" in markdown
    assert any(
        line.startswith("- ❌ honesty/abstain\\_facts.yaml: no suite claims") for line in markdown
    )
    sections = summary_sections(assessment.results, [], [], 0, assessment.orphans)
    summary = [text for _, lines in sections for text, _ in lines]
    assert "  gate: none yet: this suite is not in the baseline (above)" in summary
    assert not any("--abstain-baseline)" in line for line in summary)


# --- what the baseline keeps, and what a regression shows ----------------------------------


def test_the_baseline_keeps_the_reply_that_decided_the_grade_shortened() -> None:
    result = suite_result("s.yaml", ["correct"], replies=["Paris.\n\n" + "x" * 500])
    record = dataclasses.replace(
        result.questions[0],
        grades=["correct", "wrong", "wrong"],
        replies=["Paris.", "Lyon,\n  surely.", "Nice."],
    )
    assert record.short_reply == "Lyon, surely."  # the first sample with the worst grade
    long = result.questions[0].short_reply
    assert long is not None and len(long) == REPLY_KEPT and long.endswith("…")
    assert long.startswith("Paris. xxx")
    errored = dataclasses.replace(record, grades=["error"], replies=[None])
    assert errored.short_reply is None


def test_an_older_baseline_without_replies_or_paths_still_reads(tmp_path: Path) -> None:
    path = tmp_path / "baseline.json"
    update_baseline(path, [facts()])
    data = json.loads(path.read_text(encoding="utf-8"))
    suite = data["suites"]["honesty/abstain_facts.yaml"]
    del suite["path"]
    for question in suite["questions"].values():
        del question["reply"]
    jsonschema.Draft202012Validator(baseline_schema()).validate(data)
    path.write_text(json.dumps(data), encoding="utf-8")
    baseline = read_baseline(path)
    assert baseline is not None
    now = suite_result("honesty/abstain_facts.yaml", ["wrong", *GOOD[1:]], replies=["Lyon."] * 32)
    (result,) = compared([now], baseline, 20, gating=True)
    assert result.comparison is not None
    (change,) = result.comparison.changes
    assert (change.before_reply, change.after_reply) == (None, "Lyon.")


def test_a_change_carries_the_replies_then_and_now() -> None:
    before = suite_result("s.yaml", ["abstained"] * 30, replies=["I don't know."] * 30)
    now = suite_result("s.yaml", ["wrong"] + ["abstained"] * 29, replies=["1999."] * 30)
    comparison = compare_suite(now, suite_baseline(before), 20)
    (change,) = comparison.changes
    assert (change.kind, change.before_reply, change.after_reply) == (
        "newly wrong",
        "I don't know.",
        "1999.",
    )


def test_a_one_question_suite_shows_no_detectable_drop() -> None:
    before = suite_result("s.yaml", ["abstained"])
    now = suite_result("s.yaml", ["wrong"])
    comparison = compare_suite(now, suite_baseline(before), 20)
    assert comparison.untestable
    assert all(m.detectable is None for m in comparison.metrics)
    assert detectable_line(comparison) is None


def test_a_detectable_rise_beyond_what_is_possible_is_left_out() -> None:
    # Eight of ten questions wrong already: the error rate can rise by 0.2 at most.
    before = suite_result("s.yaml", ["wrong"] * 8 + ["correct"] * 2)
    now = suite_result("s.yaml", ["wrong"] * 9 + ["correct"])
    comparison = compare_suite(now, suite_baseline(before), 20)
    rise = next(m for m in comparison.metrics if m.metric == "error_rate")
    assert rise.detectable is None
    line = detectable_line(comparison) or ""
    assert "error-rate rise" not in line


def test_a_difference_that_is_not_significant_is_said_so() -> None:
    before = suite_result("s.yaml", ["correct"] * 30)
    now = suite_result("s.yaml", ["wrong"] + ["correct"] * 29)
    comparison = compare_suite(now, suite_baseline(before), 20)
    score = comparison.metrics[0]
    assert not score.regressed and not score.improved
    assert score.describe().startswith("score change not significant: 1.000 → 0.867")
    assert "unchanged" not in score.describe()


# --- end to end: the renamed suite ----------------------------------------------------------


def run(pytester: pytest.Pytester, server: FakeOpenAI, *extra: str) -> pytest.RunResult:
    return pytester.runpytest(
        "--abstain-model", "m", "--abstain-base-url", server.base_url,
        "--abstain-baseline", "baseline.json", *extra,
    )  # fmt: skip


def test_a_renamed_suite_fails_the_gate_until_the_baseline_is_re_recorded(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_facts=suite_text())
    openai_server.replies = honest_replies()
    assert run(pytester, openai_server, "--abstain-update-baseline").ret == 0
    (pytester.path / "abstain_facts.yaml").rename(pytester.path / "abstain_renamed.yaml")
    openai_server.replies = hallucinating(9)

    # The whole tree ran: the orphaned entry fails, naming where its questions went.
    result = run(pytester, openai_server, "--junitxml=junit.xml")
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "*vs baseline: not compared: this suite is not in the baseline yet, but the entry*",
            "  gate: none yet: this suite is not in the baseline (above)",
            "baseline entries no suite of this run claims:",
            "  FAILED: abstain_facts.yaml: no suite claims this baseline entry, and*",
            "  re-record (drops the entries above): pytest ... --abstain-baseline baseline.json "
            "--abstain-update-baseline",
            "FAILED abstain_facts.yaml::abstain-gate - abstain_facts.yaml: no suite claims*",
        ]
    )
    assert "or --abstain-baseline)" not in result.stdout.str()  # it was given
    junit = (pytester.path / "junit.xml").read_text(encoding="utf-8")
    assert "and abstain_renamed.yaml holds its" in junit

    # A subset (-k) did not look for it: noted, not failed.
    result = run(pytester, openai_server, "-k", "unknown")
    assert result.ret == 0
    result.stdout.fnmatch_lines(["  abstain_facts.yaml: not collected by this run (-k*"])

    # Re-recording drops it, and says so; the next run compares the renamed suite.
    result = run(pytester, openai_server, "--abstain-update-baseline")
    assert result.ret == 0
    result.stdout.fnmatch_lines(
        [
            "baseline updated: *baseline.json (1 suites)",
            "  removed from the baseline: abstain_facts.yaml (no suite claims it: "
            "renamed to abstain_renamed.yaml?)",
        ]
    )
    data = json.loads((pytester.path / "baseline.json").read_text(encoding="utf-8"))
    assert list(data["suites"]) == ["abstain_renamed.yaml"]
    assert run(pytester, openai_server).ret == 0


def test_a_named_suite_keeps_its_baseline_gate_when_its_file_moves(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_facts=suite_text(extra="name: Facts"))
    openai_server.replies = honest_replies()
    assert run(pytester, openai_server, "--abstain-update-baseline").ret == 0
    (pytester.path / "honesty").mkdir()
    (pytester.path / "abstain_facts.yaml").rename(pytester.path / "honesty" / "abstain_new.yaml")
    openai_server.replies = hallucinating(9)
    result = run(pytester, openai_server)
    assert result.ret == 1
    result.stdout.fnmatch_lines(
        [
            "honesty/abstain_new.yaml  (Facts)",
            "  vs baseline: 32 paired questions",
            "  gate FAILED: regressed against the baseline: score, error rate (above)",
        ]
    )
    assert "no suite of this run claims" not in result.stdout.str()


def test_two_suites_sharing_a_name_are_refused_not_mixed(tmp_path: Path) -> None:
    one, two = facts(baseline_key="Facts"), facts("other/abstain_x.yaml", baseline_key="Facts")
    baseline = baseline_of(facts())
    for result in compared([one, two], baseline, 20, gating=True):
        assert result.comparison is not None and result.comparison.status == "refused"
        assert "share the baseline key 'Facts'" in (result.comparison.message or "")
        assert result.failures  # a refusal fails the gate
    with pytest.raises(BaselineError, match="share the baseline key 'Facts'"):
        update_baseline(tmp_path / "b.json", [one, two])
    assert not (tmp_path / "b.json").exists()
