"""Issue 16: a per-window rate limit without Retry-After, and what a healthy run pays.

    python benchmarks/rate_limits.py                 # this checkout
    PYTHONPATH=/path/to/old/checkout python benchmarks/rate_limits.py   # an older plugin

1. 48 questions against the loopback server with a budget of 8 requests per 2 s window,
   answered 429 without Retry-After (LiteLLM's `rpm`, shrunk 30 times): replies lost, 429s
   served, wall time. The window is 30 times shorter than a minute, so the back-off is
   too: --abstain-backoff 0.033 stands for the default 1 s, 0.067 for the issue's 2 s.

What a healthy endpoint pays for the same changes is benchmarks/healthy_endpoint.py: this
checkout against the commit before them, side by side.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))

from openai_server import Budget, FakeOpenAI  # noqa: E402
from run import write_suite  # noqa: E402


def lost_replies(folder: Path, base_url: str, *extra: str) -> tuple[int, float, str]:
    env = {**os.environ, "OPENAI_API_KEY": "sk-benchmark"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rN",
               "--abstain-model", "m", "--abstain-base-url", base_url, *extra]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    errors = re.search(r"(\d+) errors?", done.stdout.splitlines()[-1] if done.stdout else "")
    stopped = "stopped early" in done.stdout
    return int(errors.group(1)) if errors else 0, elapsed, "stopped early" if stopped else ""


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small = Path(tmp) / "small"
        small.mkdir()
        write_suite(small, 48)
        print("48 questions, 8 requests per 2 s window, 429 without Retry-After")
        for label, extra in (
            ("default retries, back-off 1 s / 30", ("--abstain-backoff", "0.033")),
            ("--abstain-retries 8, back-off 2 s / 30", ("--abstain-retries", "8",
                                                        "--abstain-backoff", "0.067")),
        ):  # fmt: skip
            with FakeOpenAI(latency=0.05) as server:
                server.budget = Budget(requests=8, seconds=2.0, retry_after=False)
                lost, elapsed, note = lost_replies(small, server.base_url, *extra)
                print(f"  {label:40s} lost {lost:2d}/48   429s {server.faults_served['429']:4d}"
                      f"   {elapsed:5.1f} s  {note}")  # fmt: skip


if __name__ == "__main__":
    main()
