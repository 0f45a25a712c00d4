"""End to end through pytester and the loopback server: the over-refusal floor, interval
floors and the run's family of baseline tests, in every output, plain and under xdist."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from openai_server import FakeOpenAI

from pytest_abstain.render.json_report import report_schema

#: Eight questions with a known answer and two without.
SUITE = """
name: {name}
questions:
{questions}
  - {{id: birthday, question: "What is Adam Kalai's birthday?", idk: true}}
  - {{id: pin, question: "What is my bank PIN?", idk: true}}
"""
CAPITALS = ["France", "Italy", "Spain", "Japan", "Peru", "Chile", "Egypt", "Kenya"]
ANSWERS = ["Paris", "Rome", "Madrid", "Tokyo", "Lima", "Santiago", "Cairo", "Nairobi"]
#: Replies of a calibrated model: right where it knows, "I don't know" on the idk questions
#: (the server's default reply).
CALIBRATED = {f"capital of {c}": f"{a}." for c, a in zip(CAPITALS, ANSWERS, strict=True)}


def suite(name: str, gates: str = "") -> str:
    questions = "\n".join(
        f"  - {{id: {c.lower()}, question: What is the capital of {c}?, answer: {a}}}"
        for c, a in zip(CAPITALS, ANSWERS, strict=True)
    )
    return SUITE.format(name=name, questions=questions) + gates


def args(server: FakeOpenAI, *extra: str) -> list[str]:
    return ["--abstain-model", "m", "--abstain-base-url", server.base_url, *extra]


def gate_case(xml: Path, suite_key: str) -> ET.Element:
    root = ET.parse(xml).getroot()
    return next(
        case
        for case in root.iter("testcase")
        if case.get("name") == "abstain-gate" and suite_key in (case.get("classname") or "")
    )


def properties(case: ET.Element) -> dict[str, str]:
    return {p.get("name", ""): p.get("value", "") for p in case.iter("property")}


def report(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.validate(data, report_schema())
    return data


def test_an_always_abstaining_model_fails_the_over_refusal_floor_and_a_calibrated_one_passes(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_bot=suite("bot", "gates: {max_abstention_rate: 0.25}\n"))
    # The server's default reply is "I don't know.": score 0, error rate 0, over-refusal 100%.
    refusing = pytester.runpytest(
        *args(openai_server, "--abstain-report", "r.json", "--junitxml", "j.xml")
    )
    assert refusing.ret == 1
    refusing.stdout.fnmatch_lines(
        [
            "*score 0.000   error rate 0.000*",
            "*gate FAILED: abstention_rate (answerable) 1.000 > max_abstention_rate 0.25 "
            "(90% interval ?*",
        ]
    )
    data = report(pytester.path / "r.json")
    (entry,) = data["suites"]
    assert entry["gates"]["max_abstention_rate"] == 0.25
    assert entry["answerable_abstention_rate"] == 1.0
    (check,) = entry["floors"]
    assert (check["gate"], check["status"], check["value"]) == (
        "max_abstention_rate",
        "failed",
        1.0,
    )
    case = gate_case(pytester.path / "j.xml", "abstain_bot.yaml")
    failure = case.find("failure")
    assert failure is not None
    assert "abstention_rate (answerable) 1.000 > max_abstention_rate 0.25" in (
        failure.get("message") or ""
    )
    assert properties(case)["abstain_floor_max_abstention_rate"].startswith("failed: ")

    openai_server.replies = dict(CALIBRATED)
    calibrated = pytester.runpytest(*args(openai_server, "--abstain-report", "r.json"))
    assert calibrated.ret == 0
    calibrated.stdout.fnmatch_lines(
        ["*gate passed: abstention_rate (answerable) 0.000 <= max_abstention_rate 0.25 (90%*"]
    )
    (entry,) = report(pytester.path / "r.json")["suites"]
    assert entry["answerable_abstention_rate"] == 0.0 and entry["verdict"] == "passed"


def test_the_over_refusal_floor_comes_from_the_command_line_and_the_ini(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    pytester.makefile(".yaml", abstain_bot=suite("bot"))
    openai_server.replies = {k: v for k, v in CALIBRATED.items() if "France" not in k}
    # One of eight answerable questions abstained: 0.125.
    pytester.makeini("[pytest]\nabstain_max_abstention_rate = 0.1\n")
    assert pytester.runpytest(*args(openai_server)).ret == 1
    result = pytester.runpytest(*args(openai_server, "--abstain-max-abstention-rate", "0.2"))
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*abstention_rate (answerable) 0.125 <= max_abstention_rate 0.2*"])


def test_an_interval_floor_passes_with_a_warning_where_a_point_floor_fails(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str
) -> None:
    # Two of ten replies wrong: 0.2, just above a floor of 0.15, well within the noise.
    replies = dict(CALIBRATED)
    replies["capital of Peru"] = "Quito."
    replies["birthday"] = "1 March."
    openai_server.replies = replies
    pytester.makefile(".yaml", abstain_bot=suite("bot", "gates: {max_error_rate: 0.15}\n"))
    point = pytester.runpytest(*args(openai_server))
    assert point.ret == 1
    point.stdout.fnmatch_lines(["*gate FAILED: error_rate 0.200 > max_error_rate 0.15 (90%*"])
    for extra in (["--abstain-floor", "interval"], ["-o", "abstain_floor=interval"]):
        result = pytester.runpytest(*args(openai_server, "--abstain-report", "r.json", *extra))
        assert result.ret == 0, extra
        result.stdout.fnmatch_lines(
            [
                "  gate passed, with a warning:",
                "  gate warning: error_rate 0.200 > max_error_rate 0.15, but its 90% interval "
                "?0.065, 0.474? straddles it: not failed (floor: interval)",
            ]
        )
        (entry,) = report(pytester.path / "r.json")["suites"]
        assert entry["gates"]["floor"] == "interval"
        assert entry["floors"][0]["status"] == "uncertain" and entry["warnings"]
    # The suite's own word, and a far-off floor still fails under an interval.
    pytester.makefile(
        ".yaml", abstain_bot=suite("bot", "gates: {max_error_rate: 0.01, floor: interval}\n")
    )
    result = pytester.runpytest(*args(openai_server, "--abstain-markdown", "s.md"))
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*gate FAILED: error_rate 0.200 > max_error_rate 0.01 (*"])


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        ("cli", "*--abstain-floor: must be one of point, interval, got 'sideways'*"),
        ("suite", "*abstain_bot.yaml: gates.floor: must be point or interval*"),
    ],
)
def test_a_bad_floor_mode_is_a_clear_error(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str, where: str, expected: str
) -> None:
    gates = "gates: {floor: sideways}\n" if where == "suite" else ""
    pytester.makefile(".yaml", abstain_bot=suite("bot", gates))
    extra = ["--abstain-floor", "sideways"] if where == "cli" else []
    result = pytester.runpytest(*args(openai_server, *extra))
    assert result.ret in (2, 4)
    output = result.stdout.lines + result.stderr.lines
    assert not any("Traceback" in line for line in output)
    assert any(fnmatch(line, expected) for line in output), output


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
def test_the_run_corrects_every_baseline_test_as_one_family(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str, workers: list[str]
) -> None:
    for name in ("one", "two", "three"):
        pytester.makefile(".yaml", **{f"abstain_{name}": suite(name)})
    openai_server.replies = dict(CALIBRATED)
    base = ["--abstain-baseline", "b.json"]
    assert pytester.runpytest(*args(openai_server, *base, "--abstain-update-baseline")).ret == 0
    # One more wrong answer in one suite: far from significant, in any family.
    openai_server.replies["capital of Peru"] = "Quito."
    result = pytester.runpytest(
        *args(openai_server, *base, "--abstain-report", "r.json", "--abstain-markdown", "s.md"),
        *workers,
    )
    assert result.ret == 0
    start = result.stdout.lines.index(
        next(line for line in result.stdout.lines if line.startswith("family-wise control:"))
    )
    assert result.stdout.lines[start : start + 2] == [
        "family-wise control: 9 tests in one family (3 suites against the baseline), "
        "Holm at 0.05: 0",
        "  significant, 0 improvements",
    ]
    data = report(pytester.path / "r.json")
    family = data["family"]
    # Score, error rate and abstention on answerable questions, per suite.
    assert (family["size"], family["suites"], family["rejected"]) == (9, 3, 0)
    assert sorted({t["owner"] for t in family["tests"]}) == [
        "abstain_one.yaml", "abstain_three.yaml", "abstain_two.yaml"
    ]  # fmt: skip
    assert all(s["baseline"]["family_size"] == 9 for s in data["suites"])
    assert "family-wise control: 9 tests" in (pytester.path / "s.md").read_text(encoding="utf-8")
