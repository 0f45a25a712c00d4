"""Benchmarks of pytest-abstain against references measured in the same run.

    python benchmarks/run.py            # all scenarios, 3 repeats, medians
    python benchmarks/run.py --quick    # smaller, 1 repeat: a smoke test

A loopback OpenAI-compatible server (tests/openai_server.py) answers with a set latency. Every
scenario runs pytest in a subprocess, so start-up, collection, grading and reporting are all
in the figure, and is compared with a reference taken right next to it: the ideal time
ceil(N / C) x L, a bare loop of AsyncOpenAI calls under a semaphore, plain pytest runs of
trivial tests, or the same run without the fault measured. The machine is shared and noisy,
so medians and ratios are what to quote.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from openai_server import Chaos, FakeOpenAI, Fault, last_user_message  # noqa: E402

API_KEY = "sk-benchmark"


def run_pytest(cwd: Path, *args: str) -> tuple[float, float]:
    """Wall seconds and peak memory (MiB) of one pytest run in a fresh process."""
    env = {**os.environ, "OPENAI_API_KEY": API_KEY, "PYTHONHASHSEED": "0"}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args]
    started = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE)
    _, status, usage = os.wait4(process.pid, 0)
    elapsed = time.perf_counter() - started
    output = process.stdout.read().decode() if process.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"pytest {' '.join(args)} failed in {cwd}:\n{output[-3000:]}")
    return elapsed, usage.ru_maxrss / 1024


def median_of(repeats: int, measure: Callable[[], tuple[float, float]]) -> tuple[float, float]:
    samples = [measure() for _ in range(repeats)]
    return statistics.median(s[0] for s in samples), statistics.median(s[1] for s in samples)


def write_suite(folder: Path, questions: int, files: int = 1) -> None:
    """`questions` questions, spread over `files` suite files."""
    for f in range(files):
        lines = ["questions:"]
        lines += [
            f"  - {{id: q{i}, question: 'Question {f}-{i}?', idk: true}}"
            for i in range(f, questions, files)
        ]
        name = "abstain_bench.yaml" if files == 1 else f"abstain_bench{f}.yaml"
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")


def write_trivial(folder: Path, tests: int) -> None:
    (folder / "test_trivial.py").write_text(
        textwrap.dedent(
            f"""
            import pytest

            @pytest.mark.parametrize("i", range({tests}))
            def test_trivial(i):
                assert i >= 0
            """
        ),
        encoding="utf-8",
    )


def bare_loop(base_url: str, requests: int, concurrency: int) -> float:
    """N chat requests through one AsyncOpenAI client under a semaphore: the client's floor."""

    async def main() -> float:
        import openai

        client = openai.AsyncOpenAI(base_url=base_url, api_key=API_KEY, max_retries=0)
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await client.chat.completions.create(
                    model="m", messages=[{"role": "user", "content": f"Question {i}?"}]
                )

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.perf_counter() - started
        await client.close()
        return elapsed

    return asyncio.run(main())


def bare_loop_process(base_url: str, requests: int, concurrency: int) -> tuple[float, float]:
    """The bare loop in its own process, like pytest, including the interpreter start-up."""
    here = str(Path(__file__).parent)
    code = (
        f"import sys; sys.path.insert(0, {here!r}); from run import bare_loop; "
        f"bare_loop({base_url!r}, {requests}, {concurrency})"
    )
    started = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code])
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit("the bare loop failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one repeat")
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    repeats = 1 if options.quick else options.repeats
    n, big = (200, 1000) if options.quick else (1000, 10_000)
    limited = 300 if options.quick else 5000
    latency, concurrency = 0.2, 50
    print(f"machine: {os.cpu_count()} cores, Python {sys.version.split()[0]}; medians of {repeats}")

    with tempfile.TemporaryDirectory() as tmp, FakeOpenAI(latency=latency) as server:
        work = Path(tmp)
        suite, trivial, big_suite, big_trivial = (work / d for d in ("s", "t", "bs", "bt"))
        for folder in (suite, trivial, big_suite, big_trivial):
            folder.mkdir()
        write_suite(suite, n)
        write_trivial(trivial, n)
        write_suite(big_suite, big)
        write_trivial(big_trivial, big)
        model = ["--abstain-model", "m", "--abstain-base-url", server.base_url]
        asked = [*model, "--abstain-concurrency", str(concurrency)]

        # 1. Asking N questions at latency L through C connections.
        ideal = math.ceil(n / concurrency) * latency
        plugin, _ = median_of(repeats, lambda: run_pytest(suite, *asked))
        bare, _ = median_of(repeats, lambda: bare_loop_process(server.base_url, n, concurrency))
        plain, _ = median_of(repeats, lambda: run_pytest(trivial))
        print(f"\n{n} questions x 1 sample, {latency * 1000:.0f} ms, concurrency {concurrency}")
        print(f"  plugin run                  {plugin:6.2f} s")
        print(f"  ideal ceil(N/C) x L         {ideal:6.2f} s   / ideal = {plugin / ideal:.2f}")
        print(f"  bare AsyncOpenAI loop       {bare:6.2f} s")
        print(f"  plain pytest, {n} tests   {plain:6.2f} s")
        print(f"  plugin / (bare + plain)     {plugin / (bare + plain):6.2f}   (goal <= 1.10)")

        # 2. The same run replayed from the cache: no request may reach the server.
        cached = [*asked, "--abstain-cache", str(work / "cache")]
        run_pytest(suite, *cached)
        server.reset_stats()
        replay, _ = median_of(
            repeats, lambda: run_pytest(suite, *cached, "--abstain-record", "replay")
        )
        print(f"\nreplayed from the cache ({len(server.requests)} requests reached the server)")
        print(f"  plugin replay               {replay:6.2f} s")
        print(f"  plain pytest, {n} tests   {plain:6.2f} s   replay / plain = {replay / plain:.2f}"
              "   (goal <= 2)")  # fmt: skip

        # 3. A big suite replayed from the cache: time and peak memory.
        server.latency = 0.0
        big_cached = [*model, "--abstain-concurrency", "50", "--abstain-cache", str(work / "bc")]
        run_pytest(big_suite, *big_cached)
        server.reset_stats()
        big_replay, big_memory = median_of(
            repeats, lambda: run_pytest(big_suite, *big_cached, "--abstain-record", "replay")
        )
        big_plain, big_plain_memory = median_of(repeats, lambda: run_pytest(big_trivial))
        print(f"\n{big} questions replayed from the cache ({len(server.requests)} requests)")
        print(f"  plugin replay               {big_replay:6.2f} s   {big_memory:6.0f} MiB")
        print(f"  plain pytest, {big} tests {big_plain:6.2f} s   {big_plain_memory:6.0f} MiB")
        print(f"  ratios                      {big_replay / big_plain:6.2f} x  "
              f"{big_memory / big_plain_memory:6.2f} x   (goal <= 2 each)")  # fmt: skip

        # 4. pytest-xdist against a plain run on the same suite.
        server.latency = latency
        dist, _ = median_of(repeats, lambda: run_pytest(suite, *asked, "-n", "2"))
        print(f"\n-n 2 on the {n}-question suite")
        print(f"  plain run                   {plugin:6.2f} s")
        print(f"  -n 2                        {dist:6.2f} s   -n 2 / plain = {dist / plugin:.2f}")

        # 5. The same questions in 4 suite files, where --dist loadfile hands each worker
        # whole files, which it asks up front. Concurrency is per process: half each keeps
        # the same number of requests in flight as the plain run.
        files = work / "f"
        files.mkdir()
        write_suite(files, n, files=4)
        half = [*model, "--abstain-concurrency", str(concurrency // 2)]
        spread, _ = median_of(repeats, lambda: run_pytest(files, *asked))
        by_file, _ = median_of(
            repeats, lambda: run_pytest(files, *half, "-n", "2", "--dist", "loadfile")
        )
        print(f"\n-n 2 --dist loadfile, the {n} questions in 4 files, concurrency "
              f"{concurrency // 2} per worker")  # fmt: skip
        print(f"  plain run                   {spread:6.2f} s")
        print(f"  -n 2 --dist loadfile        {by_file:6.2f} s   / plain = {by_file / spread:.2f}")

        # 6. The LLM judge on every reply: each is a hedge the string rules cannot decide,
        # so N judge requests follow the N model requests. Ideal: two waves, 2 ceil(N/C) L.
        judged = work / "j"
        judged.mkdir()
        lines = ["judge: unsure", "questions:"]
        lines += [f"  - {{id: q{i}, question: 'Capital {i}?', answer: Paris}}" for i in range(n)]
        (judged / "abstain_judged.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
        server.responder = hedge_then_verdict
        with_judge, _ = median_of(
            repeats, lambda: run_pytest(judged, *asked, "--abstain-judge-model", "j")
        )
        server.responder = None
        print(f"\nLLM judge on all {n} replies (every one a hedge), {latency * 1000:.0f} ms each")
        print(f"  plugin run with the judge   {with_judge:6.2f} s")
        print(f"  ideal 2 ceil(N/C) x L       {2 * ideal:6.2f} s   / ideal = "
              f"{with_judge / (2 * ideal):.2f}")  # fmt: skip
        print(f"  without the judge (1.)      {plugin:6.2f} s   with / without = "
              f"{with_judge / plugin:.2f}")  # fmt: skip

        # 7. A gateway that refuses a fifth of the requests at random with 429, with and
        # without "Retry-After: 1". The request refused waits its Retry-After; the others
        # must not, or the run crawls. 100 ms: the latency of the run in issue 13.
        rate_limited = work / "rl"
        rate_limited.mkdir()
        write_suite(rate_limited, limited)
        server.latency = 0.1
        wide = [*model, "--abstain-concurrency", "200", "--abstain-retries", "10"]

        def refused_fifth(retry_after: float | None) -> tuple[float, float]:
            # A fresh seed per run: every run draws the same sequence of refusals.
            fault = Fault(429, "Rate limit reached", retry_after=retry_after)
            server.chaos = Chaos([(0.2, fault)], seed=13)
            return run_pytest(rate_limited, *wide)

        with_retry_after, _ = median_of(repeats, lambda: refused_fifth(1.0))
        without_retry_after, _ = median_of(repeats, lambda: refused_fifth(None))
        server.chaos = None
        print(f"\n{limited} questions, 100 ms, concurrency 200, 20% answered 429 at random")
        print(f"  with Retry-After: 1         {with_retry_after:6.2f} s")
        print(f"  without Retry-After         {without_retry_after:6.2f} s   with / without = "
              f"{with_retry_after / without_retry_after:.2f}   (goal <= 2)")  # fmt: skip


def hedge_then_verdict(messages: list[dict[str, Any]]) -> str:
    """The model hedges (the rules cannot decide); the judge says it is right."""
    if last_user_message(messages).startswith("You grade one reply"):
        return "Verdict: CORRECT"
    return "I'm not sure, but I think it is Paris."


if __name__ == "__main__":
    main()
