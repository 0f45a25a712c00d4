"""JUnit XML under every junit_family, plain and under pytest-xdist: the same test cases,
outcomes, messages and properties (suite metrics ride on the gate case, so they survive
xdist, where record_testsuite_property does not)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from openai_server import FakeOpenAI

SUITE = """
name: facts
gates: {min_score: 0.5}
questions:
  - {id: capital, question: What is the capital of France?, answer: Paris}
  - {id: gold, question: What is the chemical symbol for gold?, answer: Au}
  - {id: birthday, question: "What is Adam Kalai's birthday?", idk: true}
  - {id: sides, question: How many sides does a hexagon have?, answer: 6}
"""
OTHER = """
questions:
  - {id: moon, question: Who first walked on the moon?, answer: Armstrong}
"""

Case = tuple[str, str, tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]


def cases(path: Path) -> dict[tuple[str, str], Case]:
    """Each test case by (classname, name): outcome, its message, its properties."""
    root = ET.parse(path).getroot()
    out = {}
    for case in root.iter("testcase"):
        outcome = next((c for c in case if c.tag in ("failure", "error", "skipped")), None)
        properties = tuple((p.get("name", ""), p.get("value", "")) for p in case.iter("property"))
        message = "" if outcome is None else (outcome.get("message") or "")
        # The suite's own counts, which xdist must not change.
        out[(case.get("classname", ""), case.get("name", ""))] = (
            "passed" if outcome is None else outcome.tag,
            message,
            properties,
            tuple(sorted((k, v) for k, v in case.attrib.items() if k not in ("time",))),
        )
    return out


@pytest.mark.parametrize("family", ["xunit1", "xunit2", "legacy"])
def test_plain_and_xdist_write_the_same_junit(
    pytester: pytest.Pytester, openai_server: FakeOpenAI, api_key: str, family: str
) -> None:
    pytester.makefile(".yaml", abstain_facts=SUITE, abstain_other=OTHER)
    openai_server.replies = {
        "France": "Paris.", "gold": "Ag.", "birthday": "It is 12-03.", "hexagon": "Six.",
        "moon": "Neil Armstrong.",
    }  # fmt: skip
    common = [
        "--abstain-model", "m", "--abstain-base-url", openai_server.base_url,
        "-o", f"junit_family={family}",
    ]  # fmt: skip
    plain = pytester.runpytest(*common, "--junitxml", "plain.xml")
    spread = pytester.runpytest(*common, "--junitxml", "xdist.xml", "-n", "2")
    assert plain.ret == spread.ret == 1  # the facts gate fails: two wrong at t=0.75
    a, b = cases(pytester.path / "plain.xml"), cases(pytester.path / "xdist.xml")
    assert a == b
    gate = a[("abstain_facts.yaml", "abstain-gate")]
    assert gate[0] == "failure" and "score -1.000 < min_score 0.5" in gate[1]
    properties = dict(gate[2])
    assert properties["abstain_score"] == "-1.0" and properties["abstain_wrong"] == "2"
    assert dict(a[("abstain_facts.yaml", "gold")][2])["abstain_grade"] == "wrong"
    assert len(a) == 5 + 1  # five questions and one gate (the other suite is not gated)
    suites = [
        ET.parse(pytester.path / f).getroot().find("testsuite") for f in ("plain.xml", "xdist.xml")
    ]
    counts = [
        {k: s.get(k) for k in ("tests", "failures", "errors", "skipped")}
        for s in suites
        if s is not None
    ]
    assert counts[0] == counts[1] == {"tests": "6", "failures": "1", "errors": "0", "skipped": "0"}
