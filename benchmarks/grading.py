"""Grading benchmark: the string rules against labelled replies, and their speed.

    python benchmarks/grading.py              # the team's corpus, ../shared/grading/ if there
    python benchmarks/grading.py --show 20    # also list up to 20 silent misgrades per corpus
    python benchmarks/grading.py --check      # exit 1 when a floor below is missed

Corpora: `benchmarks/grading_corpus/*.jsonl` (written and labelled by the team by the rubric in
RUBRIC.md beside it) and, when present, `../shared/grading/dev_corpus.jsonl` (real replies from
other projects). Each line has question, answers, idk, reply, label, lang and a class.

A reply is *flagged* when the rules name a doubt (it would go to the judge, or show as
undecided); a *silent misgrade* is a reply graded with confidence (no doubt) whose grade
differs from the label. Speed: 10,000 replies (the corpus cycled, each made unique with trailing
white space so that no cache helps) graded by today's rules and by the reference rules
(pytest_abstain/grading.py as of REFERENCE, read from git), interleaved, median of 5.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pytest_abstain.grading import Expectation, detect, rule_grade  # noqa: E402
from pytest_abstain.records import doubt_kind  # noqa: E402

TEAM = ROOT / "benchmarks" / "grading_corpus"
SHARED = ROOT.parent / "shared" / "grading" / "dev_corpus.jsonl"
#: The grader before issue 12 (string rules without named limits), the speed reference.
REFERENCE = "206cfab"
GRADES = ("correct", "wrong", "abstained")

#: Floors from the issue: (corpus, what, limit).
FLOORS = {
    "team": {"silent": 0.02, "confident_agreement": 0.98, "flagged": 0.25},
    "shared": {"silent": 0.05},
    "speed_ratio": 1.5,
}


@dataclass(frozen=True)
class Case:
    id: str
    lang: str
    kind: str
    expectation: Expectation
    reply: str
    label: str


def load(paths: list[Path]) -> list[Case]:
    cases = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            expectation = Expectation(
                idk=bool(row["idk"]),
                answers=tuple(row["answers"]),
                language=detect(row["question"]),
            )
            kind = row.get("class") or row.get("category") or "-"
            cases.append(
                Case(row["id"], row["lang"], kind, expectation, row["reply"], row["label"])
            )
    return cases


def measure(name: str, cases: list[Case], show: int) -> dict[str, float]:
    confusion: Counter[tuple[str, str]] = Counter()
    doubts: Counter[str] = Counter()
    silent_by_class: Counter[str] = Counter()
    silent_by_lang: Counter[str] = Counter()
    langs: Counter[str] = Counter(c.lang for c in cases)
    flagged = silent = confident = confident_agree = 0
    shown: list[str] = []
    for case in cases:
        graded = rule_grade(case.reply, case.expectation)
        confusion[(case.label, graded.grade)] += 1
        if graded.doubt is not None:
            flagged += 1
            doubts[doubt_kind(graded.doubt)] += 1
            continue
        confident += 1
        if graded.grade == case.label:
            confident_agree += 1
        else:
            silent += 1
            silent_by_class[case.kind] += 1
            silent_by_lang[case.lang] += 1
            if len(shown) < show:
                shown.append(f"    {case.id} [{case.lang}] label {case.label}, graded "
                             f"{graded.grade}: {case.reply[:90]!r}")  # fmt: skip
    total = len(cases)
    agree = sum(confusion[(g, g)] for g in GRADES)
    print(f"\n== {name}: {total} replies in {len(langs)} languages")
    print(f"  agreement with the label: {agree}/{total} ({agree / total:.1%})")
    print("  confusion (rows: label, columns: the rules' grade):")
    print("    " + " " * 10 + "".join(f"{g:>11}" for g in GRADES))
    for label in GRADES:
        print(f"    {label:<10}" + "".join(f"{confusion[(label, g)]:>11}" for g in GRADES))
    print(f"  flagged (a named doubt): {flagged} ({flagged / total:.1%}): "
          + ", ".join(f"{k} {n}" for k, n in doubts.most_common()))  # fmt: skip
    rate = confident_agree / confident if confident else 1.0
    print(f"  graded with confidence: {confident}; agree with the label: {confident_agree} "
          f"({rate:.1%})")  # fmt: skip
    print(f"  silent misgrades: {silent} ({silent / total:.1%})")
    if silent:
        print("    by class: " + ", ".join(f"{k} {n}" for k, n in silent_by_class.most_common()))
        print("    by language: " + ", ".join(f"{k} {n}" for k, n in silent_by_lang.most_common()))
    for line in shown:
        print(line)
    return {"silent": silent / total, "confident_agreement": rate, "flagged": flagged / total}


def reference_grader() -> ModuleType | None:
    """pytest_abstain/grading.py at REFERENCE (standard library only), loaded from git."""
    try:
        source = subprocess.run(
            ["git", "show", f"{REFERENCE}:pytest_abstain/grading.py"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    with tempfile.TemporaryDirectory(prefix="abstain-reference-") as folder:
        path = Path(folder) / "reference_grading.py"
        path.write_text(source, encoding="utf-8")
        spec = importlib.util.spec_from_file_location("reference_grading", path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up while being made
        # Once executed, the module needs its file no more: the folder goes with it.
        spec.loader.exec_module(module)
    return module


def _reference_expectation(reference: ModuleType, case: Case) -> Any:
    return reference.Expectation(idk=case.expectation.idk, answers=case.expectation.answers)


def speed(cases: list[Case], size: int, repeats: int) -> float | None:
    reference = reference_grader()
    work = [cases[i % len(cases)] for i in range(size)]
    run = iter(range(1_000_000))

    def timed(grade: Callable[[str, Any], object], make: Callable[[Case], Any]) -> float:
        # Each reply unique (trailing spaces that grading ignores), so no cache of either
        # grader sees a reply twice: a real run's replies differ from one another.
        tag = next(run)
        inputs = [
            (f"{case.reply}{' ' * (i // len(cases))}\n{' ' * tag}", make(case))
            for i, case in enumerate(work)
        ]
        started = time.perf_counter()
        for reply, expectation in inputs:
            grade(reply, expectation)
        return time.perf_counter() - started

    ours: list[float] = []
    theirs: list[float] = []
    for _ in range(repeats):
        ours.append(timed(rule_grade, lambda c: c.expectation))
        if reference is not None:
            theirs.append(timed(reference.rule_grade, partial(_reference_expectation, reference)))
    now = statistics.median(ours)
    print(f"\n== speed: {size:,} replies, median of {repeats}")
    print(f"  these rules: {now:.3f} s ({now / size * 1e6:.0f} µs per reply)")
    if not theirs:
        print(f"  reference ({REFERENCE}) not in this checkout's history: no ratio")
        return None
    before = statistics.median(theirs)
    print(
        f"  reference rules ({REFERENCE}): {before:.3f} s ({before / size * 1e6:.0f} µs per reply)"
    )
    # Each repeat times both graders back to back: the median of those paired ratios is
    # steadier on a shared machine than the ratio of the two medians.
    ratio = statistics.median(a / b for a, b in zip(ours, theirs, strict=True))
    print(f"  ratio: {ratio:.2f}x (median of the {repeats} paired ratios)")
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--show", type=int, default=0, help="list up to N silent misgrades")
    parser.add_argument("--size", type=int, default=10_000, help="replies in the speed run")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--check", action="store_true", help="exit 1 when a floor is missed")
    args = parser.parse_args()
    team = load(sorted(TEAM.glob("*.jsonl")))
    results = {"team": measure("team corpus (benchmarks/grading_corpus)", team, args.show)}
    if SHARED.exists():
        shared = load([SHARED])
        results["shared"] = measure(f"shared corpus ({SHARED.name})", shared, args.show)
    ratio = speed(team, args.size, args.repeats)
    missed = [
        f"{corpus} {what} {results[corpus][what]:.3f} (floor {limit})"
        for corpus, floors in FLOORS.items()
        if isinstance(floors, dict) and corpus in results
        for what, limit in floors.items()
        if (results[corpus][what] < limit if what == "confident_agreement"
            else results[corpus][what] > limit)
    ]  # fmt: skip
    if ratio is not None and ratio > FLOORS["speed_ratio"]:  # type: ignore[operator]
        print(f"  (speed ratio {ratio:.2f} is above {FLOORS['speed_ratio']}; a busy machine "
              "can do that, so --check leaves it to the figures)")  # fmt: skip
    print("\nfloors: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
    if args.check and missed:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
