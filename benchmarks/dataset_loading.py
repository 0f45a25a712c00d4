"""Loading a suite from a dataset file against loading the same questions from YAML (issue 18,
item 4): time and peak memory, side by side.

    python benchmarks/dataset_loading.py            # 100,000 questions, 3 repeats, medians
    python benchmarks/dataset_loading.py --quick    # 5,000 questions, 1 repeat: a smoke test

One seeded set of questions (answers with aliases, tags, a share of idk) is written four ways:
a YAML suite with `questions:` (the reference), and a suite with `dataset:` pointing at a CSV
file, at the same CSV without its id column (ids derived from the question), and at a JSONL
file. Each is loaded by `load_suite` (the suite stage, all checks included) in a fresh
process, the sides alternating within each repeat so a slow spell of the shared machine hits
all alike: once timed, once under tracemalloc for the peak of Python allocations (tracemalloc
slows the run, so the two are separate). Quoted: medians, and each side's ratio to YAML.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

SEED = 18
#: The suite file's limit (suite/text_file.py): the YAML side must stay under it.
YAML_LIMIT = 10 * 1024 * 1024

SUBJECTS = ["river", "mountain", "city", "island", "lake", "desert", "bridge", "castle"]
ASKED = ["Where is", "How old is", "Who named", "Who built"]

MEASURE = """
import sys, time, tracemalloc
from pathlib import Path
from pytest_abstain.suite import load_suite
warm = Path(sys.argv[1]) / "abstain_warm.yaml"
load_suite(warm)  # the schema validator and the grading data, built once per process
path = Path(sys.argv[2])
if sys.argv[3] == "memory":
    tracemalloc.start()
    suite = load_suite(path)
    _, peak = tracemalloc.get_traced_memory()
    print(len(suite.questions), peak)
else:
    started = time.perf_counter()
    suite = load_suite(path)
    print(len(suite.questions), time.perf_counter() - started)
"""


def questions(count: int) -> list[dict[str, Any]]:
    """`count` seeded questions: one in ten idk, the rest with one or two answers, tags."""
    rng = random.Random(SEED)
    made: list[dict[str, Any]] = []
    asked: set[str] = set()
    for index in range(count):
        text = ""
        while not text or text in asked:  # each question once: ids may be derived from it
            text = f"{rng.choice(ASKED)} the {rng.choice(SUBJECTS)} {rng.randrange(10**6)}?"
        asked.add(text)
        entry: dict[str, Any] = {
            "id": f"q{index:06d}",
            "question": text,
            "tags": [rng.choice(["geo", "history"])],
        }
        if index % 10 == 0:
            entry["idk"] = True
        else:
            answer = f"answer {rng.randrange(10**5)}"
            entry["answer"] = [answer, answer.upper()] if index % 3 == 0 else answer
        made.append(entry)
    return made


def write_files(folder: Path, entries: list[dict[str, Any]]) -> dict[str, Path]:
    """The four suites of the same questions, by name."""
    # Flow style, one question a line: the most compact YAML, to stay under the suite limit.
    yaml_lines = ["threshold: 0.75", "questions:"]
    for e in entries:
        answer = e.get("answer")
        if e.get("idk"):
            expected = "idk: true"
        elif isinstance(answer, list):
            expected = f"answer: [{', '.join(answer)}]"
        else:
            expected = f"answer: {answer}"
        yaml_lines.append(
            f"  - {{id: {e['id']}, question: {e['question']}, {expected}, "
            f"tags: [{', '.join(e['tags'])}]}}"
        )
    (folder / "abstain_yaml.yaml").write_text("\n".join(yaml_lines) + "\n", encoding="utf-8")

    for name, with_ids in (("data.csv", True), ("data_no_ids.csv", False)):
        with open(folder / name, "w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle)
            header = ["id"] if with_ids else []
            writer.writerow([*header, "question", "answer", "idk", "tags"])
            for e in entries:
                answer = e.get("answer", "")
                cell = answer if isinstance(answer, str) else " | ".join(map(str, answer))
                ids = [e["id"]] if with_ids else []
                row = [cell, "true" if e.get("idk") else "", "|".join(e["tags"])]
                writer.writerow([*ids, e["question"], *row])
    with open(folder / "data.jsonl", "w", encoding="utf-8") as handle:
        for e in entries:
            handle.write(json.dumps(e) + "\n")
    suites = {"YAML questions:": folder / "abstain_yaml.yaml"}
    for label, data in (
        ("CSV dataset", "data.csv"),
        ("CSV, ids derived", "data_no_ids.csv"),
        ("JSONL dataset", "data.jsonl"),
    ):
        path = folder / f"abstain_{data.replace('.', '_')}.yaml"
        path.write_text(f"threshold: 0.75\ndataset: {data}\n", encoding="utf-8")
        suites[label] = path
    (folder / "abstain_warm.yaml").write_text(
        "questions: [{id: w, question: Warm up?, answer: ready}]\n",
        encoding="utf-8",
    )
    return suites


def measure(folder: Path, suite: Path, what: str, expected: int) -> float:
    """Seconds to load `suite`, or its peak of Python allocations in MiB, in a fresh process."""
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(folder), str(suite), what],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        raise SystemExit(f"loading {suite.name} failed:\n{done.stderr[-3000:]}")
    out = done.stdout.split()
    if int(out[0]) != expected:
        raise SystemExit(f"{suite.name}: loaded {out[0]} questions, expected {expected}")
    value = float(out[1])
    return value if what == "time" else value / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="5,000 questions, 1 repeat")
    parser.add_argument("--rows", type=int, default=None, help="questions (default 100,000)")
    parser.add_argument("--repeats", type=int, default=None)
    args = parser.parse_args()
    rows = args.rows or (5_000 if args.quick else 100_000)
    repeats = args.repeats or (1 if args.quick else 3)
    entries = questions(rows)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        suites = write_files(folder, entries)
        size = (folder / "abstain_yaml.yaml").stat().st_size
        if size > YAML_LIMIT:
            raise SystemExit(f"the YAML suite is {size:,} bytes, over the 10 MiB suite limit")
        times: dict[str, list[float]] = {label: [] for label in suites}
        peaks: dict[str, list[float]] = {label: [] for label in suites}
        for _ in range(repeats):
            for label, path in suites.items():
                times[label].append(measure(folder, path, "time", rows))
            for label, path in suites.items():
                peaks[label].append(measure(folder, path, "memory", rows))
        files = {
            "YAML questions:": "abstain_yaml.yaml",
            "CSV dataset": "data.csv",
            "CSV, ids derived": "data_no_ids.csv",
            "JSONL dataset": "data.jsonl",
        }
        print(f"loading {rows:,} questions (seed {SEED}), median of {repeats}, fresh processes")
        print(
            f"  {'suite':<18} {'file MiB':>9} {'seconds':>8} {'x YAML':>7} "
            f"{'peak MiB':>9} {'x YAML':>7}"
        )
        base_time = statistics.median(times["YAML questions:"])
        base_peak = statistics.median(peaks["YAML questions:"])
        for label in suites:
            seconds, peak = statistics.median(times[label]), statistics.median(peaks[label])
            file_mib = (folder / files[label]).stat().st_size / 2**20
            print(
                f"  {label:<18} {file_mib:>9.1f} {seconds:>8.2f} {seconds / base_time:>7.2f}"
                f" {peak:>9.1f} {peak / base_peak:>7.2f}"
            )


if __name__ == "__main__":
    main()
