"""The model that answered: the served model and system_fingerprint read from each response,
kept through the cache, counted per suite, shown where another model answered than the one
asked for, and compared with the baseline's (issue 16)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import jsonschema
import pytest
from direct_run import asker, planned, summary
from openai_server import FakeOpenAI
from suite_results import suite_result

from pytest_abstain.asking.cache import ResponseCache
from pytest_abstain.asking.endpoints import SetupError
from pytest_abstain.asking.responders import OpenAIResponder, Responder
from pytest_abstain.pipeline import Hooks, Pipeline
from pytest_abstain.plan import QuestionPlan
from pytest_abstain.records import Reply
from pytest_abstain.render.html import render_html
from pytest_abstain.render.json_report import build_report, report_schema
from pytest_abstain.render.junit import suite_properties
from pytest_abstain.render.markdown import render_markdown
from pytest_abstain.results.baseline import read_baseline, updated, write_baseline
from pytest_abstain.results.comparison import compared
from pytest_abstain.results.served import same_model
from pytest_abstain.results.suites import SuiteResult, aggregate, overall_metrics
from pytest_abstain.results.verdict import decide

SUITE = """
questions:
  - {id: capital, question: 'What is the capital of France?', answer: Paris}
  - {id: birthday, question: "What is Adam Kalai's birthday?", idk: true}
"""
RUN = {"model": "gpt-4o", "models": ["gpt-4o"], "endpoint": None, "samples": None, "concurrency": 1}


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("gpt-4o", "gpt-4o"),
        ("gpt-4o", "GPT-4o"),
        ("gpt-4o", "gpt-4o-2024-08-06"),
        ("gpt-4", "gpt-4-0613"),
        ("claude-3-5-sonnet", "claude-3-5-sonnet@20240620"),
        ("claude-3-5-sonnet", "claude-3-5-sonnet-20240620"),
        ("my-model", "my-model-v2.1"),
        ("llama3", "llama3:latest"),
    ],
)
def test_a_dated_or_versioned_name_is_the_same_model(requested: str, served: str) -> None:
    assert same_model(requested, served)


@pytest.mark.parametrize(
    ("requested", "served"),
    [
        ("gpt-4o", "gpt-4o-mini"),
        ("gpt-4o", "gpt-4o-mini-2024-07-18"),
        ("gpt-4", "gpt-4o"),
        ("gpt-4", "gpt-4-32k"),
        ("gpt-4", "gpt-4-1106-preview"),
        ("llama3", "llama3:70b"),
        ("gpt-4o-2024-08-06", "gpt-4o"),  # a pinned snapshot asked, an alias answered
        ("fake-model", "/models/llama-3-8b.Q4_K_M.gguf"),  # llama.cpp answers its own
        ("gpt-4o", "gpt-4o-20240806x"),
    ],
)
def test_any_other_name_is_another_model(requested: str, served: str) -> None:
    assert not same_model(requested, served)


def test_the_responder_reads_the_served_model_and_fingerprint() -> None:
    with asker() as asking, FakeOpenAI({"France": "Paris."}) as server:
        responder = OpenAIResponder("gpt-4o", server.base_url, "sk-1", timeout=5)
        user = [{"role": "user", "content": "What is the capital of France?"}]
        echoed = asking.submit(0, responder, user).result()
        server.served_model, server.system_fingerprint = "gpt-4o-mini\x1b[2J", "fp_44709d6fcb"
        other = asking.submit(1, responder, user).result()
    assert (echoed.served_model, echoed.fingerprint) == ("gpt-4o", None)
    # The endpoint's text is made safe like a reply's: no terminal escapes.
    assert (other.served_model, other.fingerprint) == ("gpt-4o-mini", "fp_44709d6fcb")


def run(path: Path, server: FakeOpenAI, cache: ResponseCache, mode: str) -> SuiteResult:
    """The suite at `path` asked of "gpt-4o" at `server`, through the real pipeline."""
    responder = OpenAIResponder("gpt-4o", server.base_url, "sk-1", timeout=5)

    def no_judge(plan: QuestionPlan) -> Responder:
        raise SetupError("no judge")

    plans = planned(path)
    with asker() as asking:
        pipeline = Pipeline(
            asking,
            responder=lambda plan: responder,
            judge=no_judge,
            cache=cache,
            record_mode=mode,
            hooks=Hooks(),
        )
        records = [pipeline.record(f"{path.name}::{p.question.id}", p) for p in plans]
    [result] = aggregate(records)
    return result


def test_served_by_another_model_is_recorded_shown_cached_and_compared(tmp_path: Path) -> None:
    path = tmp_path / "abstain_s.yaml"
    path.write_text(SUITE, encoding="utf-8")
    cache = ResponseCache(tmp_path / "cache")
    with FakeOpenAI({"France": "Paris."}) as server:
        # Behind a gateway's fallback: every reply says another model answered.
        server.served_model, server.system_fingerprint = "gpt-4o-mini", "fp_1"
        first = run(path, server, cache, "missing")
        assert [r.served_models for r in first.questions] == [["gpt-4o-mini"]] * 2
        assert [r.fingerprints for r in first.questions] == [["fp_1"]] * 2
        summary([first]).fnmatch_lines(
            ["  responder gpt-4o (served by gpt-4o-mini on 2 of 2 replies; fingerprint fp_1)  *"]
        )
        # -q's one line per suite says so too: these scores are another model's.
        summary([first], verbosity=-1).fnmatch_lines(
            ["*: no gate (asked for gpt-4o, but served by gpt-4o-mini on 2 of 2 replies)"]
        )
        report = build_report([first], overall_metrics([first]), RUN, decide([first], []))
        jsonschema.validate(report, report_schema())
        suite = report["suites"][0]
        assert suite["served"] == {
            "models": {"gpt-4o-mini": 2},
            "fingerprints": {"fp_1": 2},
            "replies": 2,
            "other_models": {"gpt-4o-mini": 2},
            "mismatch": True,
        }
        assert suite["questions"][0]["served"] == {
            "models": {"gpt-4o-mini": 1},
            "fingerprints": {"fp_1": 1},
        }
        baseline_file = tmp_path / "baseline.json"
        write_baseline(baseline_file, updated(None, [first]).baseline)
        assert "gpt-4o-mini" in baseline_file.read_text(encoding="utf-8")
        baseline = read_baseline(baseline_file)  # the schema holds served_models
        assert baseline is not None

        # Replayed, the replies keep what was served when they were recorded.
        server.served_model, server.system_fingerprint = None, "fp_2"
        asked = len(server.requests)
        replayed = run(path, server, cache, "replay")
        assert len(server.requests) == asked
        assert replayed.served.models == {"gpt-4o-mini": 2}
        assert replayed.served.fingerprints == {"fp_1": 2}

        # Asked again, the requested model answers itself: no mismatch, and the baseline
        # comparison says the served model changed.
        second = run(path, server, cache, "all")
    assert second.served.models == {"gpt-4o": 2} and not second.served.mismatch
    summary([second]).fnmatch_lines(["  responder gpt-4o (fingerprint fp_2)  *"])
    [now] = compared([second], baseline, 20, True)
    assert now.comparison is not None
    assert "served model changed: gpt-4o-mini → gpt-4o" in now.comparison.notes
    [same] = compared([replayed], baseline, 20, True)
    assert same.comparison is not None
    assert not [n for n in same.comparison.notes if n.startswith("served model")]


def test_an_old_cache_entry_without_them_still_replays(tmp_path: Path) -> None:
    path = tmp_path / "abstain_s.yaml"
    path.write_text(SUITE, encoding="utf-8")
    cache = ResponseCache(tmp_path / "cache")
    with FakeOpenAI({"France": "Paris."}) as server:
        server.served_model = "gpt-4o-mini"
        run(path, server, cache, "missing")
        for entry in (tmp_path / "cache").glob("*/*.json"):
            data = json.loads(entry.read_text(encoding="utf-8"))
            del data["reply"]["served_model"], data["reply"]["system_fingerprint"]
            entry.write_text(json.dumps(data), encoding="utf-8")
        asked = len(server.requests)
        replayed = run(path, server, cache, "replay")
        assert len(server.requests) == asked
    assert replayed.counts.error == 0
    assert replayed.served.models == {} and replayed.served.replies == 2
    summary([replayed]).fnmatch_lines(["  responder gpt-4o   t=*"])


def test_a_damaged_served_model_is_a_corrupt_entry(tmp_path: Path) -> None:
    path = tmp_path / "abstain_s.yaml"
    path.write_text(SUITE, encoding="utf-8")
    cache = ResponseCache(tmp_path / "cache")
    with FakeOpenAI({"France": "Paris."}) as server:
        run(path, server, cache, "missing")
        entry = next((tmp_path / "cache").glob("*/*.json"))
        data = json.loads(entry.read_text(encoding="utf-8"))
        data["reply"]["served_model"] = ["not", "a", "name"]
        entry.write_text(json.dumps(data), encoding="utf-8")
        fresh = ResponseCache(tmp_path / "cache")
        run(path, server, fresh, "missing")
    [(_, reason)] = fresh.corrupt_entries()
    assert reason.startswith("served_model is ")


def test_the_team_responder_serves_nothing_and_outputs_stay_quiet() -> None:
    result = suite_result("f.yaml", ["correct", "wrong"])
    assert result.served.models == {} and not result.served.mismatch
    assert not [name for name, _ in suite_properties(result) if "served" in name]
    assert "Another model" not in render_markdown([result], [], decide([result], []), False)
    report = build_report([result], overall_metrics([result]), RUN, decide([result], []))
    assert report["suites"][0]["served"] is None
    assert report["suites"][0]["questions"][0]["served"] is None


def test_markdown_and_junit_name_the_other_model() -> None:
    result = suite_result("f.yaml", ["correct", "wrong"])
    for record, served in zip(result.questions, ("gpt-4o-mini", "m-2024-08-06"), strict=True):
        record.served_models.append(served)
    props = dict(suite_properties(result))
    assert props["abstain_served_models"] == "gpt-4o-mini 1, m-2024-08-06 1"
    assert props["abstain_served_by_other"] == "gpt-4o-mini 1"
    markdown = render_markdown([result], [], decide([result], []), False)
    assert "**Another model answered:** asked for m, but served by gpt-4o-mini on 1 of 2" in (
        markdown
    )
    created = datetime.now(timezone.utc)
    html = render_html([result], [], "t", verdict=decide([result], []), run=RUN, created=created)
    assert "<b>Another model answered:</b> asked for m, but served by gpt-4o-mini on 1" in html


def test_a_reply_keeps_the_served_model_only_as_a_short_plain_name() -> None:
    reply = Reply(text="Paris.", served_model="x" * 500, fingerprint="")
    assert reply.served_model is not None and len(reply.served_model) == 200
    assert reply.fingerprint is None
