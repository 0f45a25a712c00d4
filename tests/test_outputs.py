"""What a finished run leaves behind, written without pytest: each output on its own, a
failure named as the run's problem, GitHub's step summary appended to, and the baseline
updated only from a run that is a fair reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from suite_results import suite_result

from pytest_abstain.outputs import BaselineUse, OutputPaths, Outputs
from pytest_abstain.results.baseline import read_baseline
from pytest_abstain.results.verdict import decide

RUN = {"model": "m", "models": ["m"], "endpoint": None, "samples": None, "concurrency": 4}


def test_each_output_is_written_and_named(tmp_path: Path) -> None:
    results = [suite_result("s.yaml", ["correct", "wrong"])]
    verdict = decide(results, [])
    paths = OutputPaths(tmp_path / "r.json", tmp_path / "s.md", tmp_path / "r.html")
    outputs = Outputs(paths)
    markdown, html = outputs.documents(results, [], verdict, "a title")
    report = outputs.report(results, [], [], RUN, verdict)
    outputs.write_documents(markdown, html)
    assert outputs.problems == []
    assert [what for what, _ in outputs.written] == [
        "JSON report", "Markdown summary", "HTML report"
    ]  # fmt: skip
    assert json.loads((tmp_path / "r.json").read_text(encoding="utf-8")) == report
    assert (tmp_path / "s.md").read_text(encoding="utf-8") == markdown
    assert "a title" in (tmp_path / "r.html").read_text(encoding="utf-8")


def test_nothing_is_rendered_that_is_not_wanted(tmp_path: Path) -> None:
    results = [suite_result("s.yaml", ["correct"])]
    outputs = Outputs(OutputPaths())
    assert outputs.documents(results, [], decide(results, []), "t") == (None, None)
    assert outputs.report(results, [], [], RUN, decide(results, []), wanted=False) is None
    assert outputs.written == [] and list(tmp_path.iterdir()) == []


def test_an_output_that_cannot_be_written_is_a_problem_and_the_rest_still_come(
    tmp_path: Path,
) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    results = [suite_result("s.yaml", ["correct"])]
    verdict = decide(results, [])
    outputs = Outputs(OutputPaths(report=tmp_path / "file" / "r.json", markdown=tmp_path / "s.md"))
    markdown, html = outputs.documents(results, [], verdict, "t")
    outputs.report(results, [], [], RUN, verdict)
    outputs.write_documents(markdown, html)
    [problem] = outputs.problems
    assert problem.startswith(f"the JSON report could not be written to {tmp_path / 'file'}")
    assert outputs.written == [("Markdown summary", tmp_path / "s.md")]


def test_a_renderer_that_fails_is_a_problem_naming_where() -> None:
    outputs = Outputs(OutputPaths())

    def broken() -> str:
        raise KeyError("oops")

    assert outputs.rendered("HTML report", True, broken) is None
    [problem] = outputs.problems
    assert problem.startswith("the HTML report could not be rendered: KeyError: 'oops' (at ")
    assert "test_outputs.py:" in problem


def test_the_step_summary_is_appended_to_never_replaced(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("an earlier step\n", encoding="utf-8")
    outputs = Outputs(OutputPaths(step_summary=str(summary)))
    outputs.write_documents("# ours\n", None)
    assert summary.read_text(encoding="utf-8") == "an earlier step\n# ours\n"
    assert outputs.problems == [] and outputs.step_summary_problem is None
    # One it cannot append to only warns: it is not the run's own output.
    elsewhere = Outputs(OutputPaths(step_summary=str(tmp_path)))
    elsewhere.write_documents("# ours\n", None)
    assert elsewhere.problems == []
    assert (elsewhere.step_summary_problem or "").startswith(
        f"cannot append to $GITHUB_STEP_SUMMARY {tmp_path}: "
    )


def test_without_a_baseline_path_there_is_no_baseline_step(tmp_path: Path) -> None:
    results = [suite_result("s.yaml", ["correct"])]
    assert Outputs(OutputPaths()).baseline_step(BaselineUse(None, True, False), results) is None


def test_an_existing_baseline_without_update_is_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    results = [suite_result("s.yaml", ["correct"])]
    outputs = Outputs(OutputPaths(baseline=path))
    assert outputs.baseline_step(BaselineUse(None, True, False), results) == (
        f"baseline updated: {path} (1 suites)", {"green": True}
    )  # fmt: skip
    before = path.read_text(encoding="utf-8")
    baseline = read_baseline(path)
    changed = [suite_result("s.yaml", ["wrong"])]
    assert outputs.baseline_step(BaselineUse(baseline, False, False), changed) is None
    assert path.read_text(encoding="utf-8") == before


def test_a_run_with_errors_updates_the_baseline_only_when_allowed(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    results = [suite_result("s.yaml", ["correct", "error", "wrong"])]
    outputs = Outputs(OutputPaths(baseline=path))
    text, markup = outputs.baseline_step(BaselineUse(None, True, False), results) or ("", {})
    assert text.startswith("baseline NOT updated: 1 reply could not be obtained")
    assert "--abstain-baseline-allow-errors" in text and markup == {"red": True}
    assert not path.exists()
    allowed = outputs.baseline_step(BaselineUse(None, True, True), results)
    assert allowed is not None and allowed[0].startswith("baseline updated")
    baseline = read_baseline(path)
    assert baseline is not None
    assert sorted(baseline.suites["s.yaml"].questions) == ["q0", "q2"]  # no hole stored


def test_a_run_that_failed_itself_never_updates_the_baseline(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    outputs = Outputs(OutputPaths(baseline=path))
    outputs.problems.append("the HTML report could not be written")
    note = outputs.baseline_step(
        BaselineUse(None, True, True), [suite_result("s.yaml", ["correct"])]
    )
    assert note is not None and note[0].startswith("baseline NOT updated: the run itself failed")
    assert not path.exists()


def test_a_corrupt_baseline_is_not_updated_over(tmp_path: Path) -> None:
    path = tmp_path / "b.json"
    path.write_text("{ broken", encoding="utf-8")
    outputs = Outputs(OutputPaths(baseline=path))
    note = outputs.baseline_step(
        BaselineUse(None, True, False), [suite_result("s.yaml", ["correct"])]
    )
    assert note is not None and note[0].startswith(f"baseline NOT updated: baseline {path}: ")
    assert outputs.problems == [] and path.read_text(encoding="utf-8") == "{ broken"


def test_a_baseline_that_cannot_be_written_is_a_problem_of_the_run(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    path = tmp_path / "file" / "b.json"
    outputs = Outputs(OutputPaths(baseline=path))
    assert (
        outputs.baseline_step(BaselineUse(None, True, False), [suite_result("s.yaml", ["correct"])])
        is None
    )
    [problem] = outputs.problems
    assert problem.startswith(f"the baseline could not be written to {path}: ")


@pytest.mark.parametrize("value", ["", None])
def test_no_step_summary_without_the_variable(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    from pytest_abstain.outputs import step_summary_path

    if value is None:
        monkeypatch.delenv("GITHUB_STEP_SUMMARY", raising=False)
    else:
        monkeypatch.setenv("GITHUB_STEP_SUMMARY", value)
    assert step_summary_path() is None
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", "/tmp/x.md")
    assert step_summary_path() == "/tmp/x.md"
