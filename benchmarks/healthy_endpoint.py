"""A healthy endpoint pays nothing for issue 16's asking changes (pacing, the shared pause,
the rate-limit wait, generation parameters, served models): the same run on this checkout
and on a reference commit, side by side, alternating so both meet the same machine load.

    python benchmarks/healthy_endpoint.py                  # 1,000 questions, 5 pairs
    python benchmarks/healthy_endpoint.py --quick          # 200 questions, 1 pair: a smoke run
    python benchmarks/healthy_endpoint.py --reference REV  # another reference commit

The reference is checked out with `git worktree` into a temporary folder and put first on
PYTHONPATH, so the installed entry point (pytest_abstain.glue.plugin) loads its code; the
loopback server (tests/openai_server.py) answers every request after a set latency.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from openai_server import FakeOpenAI  # noqa: E402

#: The last commit before issue 16's asking changes were merged.
BEFORE_ISSUE_16 = "d278d4a"


def write_suite(folder: Path, questions: int) -> None:
    lines = ["questions:"]
    lines += [f"  - {{id: q{i}, question: 'Question {i}?', idk: true}}" for i in range(questions)]
    (folder / "abstain_bench.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def timed_run(folder: Path, code: Path, url: str, concurrency: int) -> float:
    """Wall seconds of one pytest run of the suite in `folder` with the plugin's code from
    `code` (a checkout), in a fresh process."""
    env = {**os.environ, "OPENAI_API_KEY": "sk-bench", "PYTHONPATH": str(code)}
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--abstain-model", "m", "--abstain-base-url", url,
        "--abstain-concurrency", str(concurrency),
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"the run with {code} failed:\n{done.stdout[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="200 questions, one pair")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--reference", default=BEFORE_ISSUE_16, help="the commit to compare")
    options = parser.parse_args()
    questions, pairs = (200, 1) if options.quick else (1000, options.pairs)
    latency, concurrency = 0.2, 50
    with tempfile.TemporaryDirectory() as temp, FakeOpenAI(latency=latency) as server:
        work = Path(temp)
        reference = work / "reference"
        subprocess.run(
            ["git", "-C", str(ROOT), "worktree", "add", "--detach", "-q", str(reference),
             options.reference],
            check=True,
        )  # fmt: skip
        try:
            suite = work / "suite"
            suite.mkdir()
            write_suite(suite, questions)
            times: dict[str, list[float]] = {"reference": [], "current": []}
            for _ in range(pairs):
                for name, code in (("reference", reference), ("current", ROOT)):
                    times[name].append(timed_run(suite, code, server.base_url, concurrency))
        finally:
            subprocess.run(
                ["git", "-C", str(ROOT), "worktree", "remove", "--force", str(reference)],
                check=False,
            )
    before, after = (statistics.median(times[k]) for k in ("reference", "current"))
    print(
        f"{questions} questions x 1 sample, {latency * 1000:.0f} ms, concurrency {concurrency}, "
        f"medians of {pairs} alternating pairs on {os.cpu_count()} cores"
    )
    print(f"  reference {options.reference:<12} {before:6.2f} s   {times['reference']}")
    print(f"  current                {after:6.2f} s   {times['current']}")
    paired = statistics.median(
        a / b for a, b in zip(times["current"], times["reference"], strict=True)
    )
    # The pair's ratio: both runs of a pair met about the same load, so on a busy machine
    # it is steadier than the ratio of the medians.
    print(
        f"  current / reference    {after / before:6.2f}   median of the pairs' ratios {paired:.2f}"
    )


if __name__ == "__main__":
    main()
