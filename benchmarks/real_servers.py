"""Issue 16's measurements against real servers on loopback (tests/loopback_servers.py).

    python benchmarks/real_servers.py           # LiteLLM rpm 20 x 48 questions; llama.cpp 16
    python benchmarks/real_servers.py --quick   # rpm 5 x 8 questions; llama.cpp 4: a smoke run

Needs the servers' packages (.ci/servers.txt) in .ci/servers-venv, or in the interpreter that
ABSTAIN_SERVERS_PYTHON names (tests/loopback_servers.py). Each run is pytest in a subprocess
with a suite file and the JSON report read back:

- LiteLLM proxy, a `mock_response` model with `rpm: N` (usage-based-routing-v2: 429 with no
  Retry-After once N requests were made in the clock minute), default settings: replies lost
  and wall time. The run is started early in a clock minute (waiting up to a minute for one)
  so that the whole run meets one window, as a run a minute long would. Then the same run
  again, started right after `rpm` other requests used up the minute's window: nothing may
  be lost, and the run must not stop early.
- llama.cpp's server (xllamacpp, Gemma 3 270M on CPU), 2 slots: default settings, then
  `--abstain-concurrency 2 --abstain-timeout 300` (tuned by hand to the slot count): replies
  obtained and wall time. A llama.cpp grammar in the suite holds each reply to
  LLAMA_REPLY_CHARS characters (the base model seldom stops by itself, and a reply cut off at
  a token cap is an error); the server's cap (--max-tokens, llama.cpp's n_predict) is above it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from loopback_servers import (  # noqa: E402
    LITELLM_MODULES,
    LLAMA_MODEL,
    LLAMA_MODULES,
    MASTER_KEY,
    early_in_a_minute,
    litellm_proxy,
    llama_server,
    missing,
)

FACTS = [
    ("What is the capital of France?", "Paris"),
    ("Who wrote Hamlet?", "Shakespeare"),
    ("Which is the largest planet of the solar system?", "Jupiter"),
    ("What is the capital of Japan?", "Tokyo"),
    ("What is the chemical symbol of gold?", "Au"),
    ("How many continents are there?", "7"),
    ("Who painted the Mona Lisa?", "Leonardo da Vinci"),
    ("What is the boiling point of water in Celsius at sea level?", "100"),
    ("What is the capital of Italy?", "Rome"),
    ("Which ocean is the largest?", "Pacific"),
    ("Who developed the theory of relativity?", "Einstein"),
    ("What is the capital of Germany?", "Berlin"),
    ("How many legs does a spider have?", "8"),
    ("What is the largest mammal?", "Blue whale"),
    ("What is the capital of Spain?", "Madrid"),
    ("What gas do plants absorb from the air?", "Carbon dioxide"),
]


#: The run tuned by hand to the server: concurrency at its slot count, a generous timeout.
TUNED = ("--abstain-concurrency", "2", "--abstain-timeout", "300")


class Outcome(NamedTuple):
    questions: int
    obtained: int
    retries: int
    seconds: float
    #: The run stopped asking early (the stop meant for a wrong key, model or URL).
    stopped: bool = False


def write_suite(folder: Path, pairs: list[tuple[str, str]], grammar: str | None = None) -> None:
    lines = ["name: real"]
    if grammar is not None:
        # The base model seldom stops by itself, and a reply cut off at a token cap is an
        # error: a llama.cpp grammar ends each reply (as tests/test_real_servers.py does).
        lines += ["generation:", f"  extra_body: {{grammar: {grammar!r}}}"]
    lines += ["questions:"]
    lines += [f"  - {{id: q{i}, question: {q!r}, answer: {a!r}}}" for i, (q, a) in enumerate(pairs)]
    (folder / "abstain_real.yaml").write_text("\n".join(lines) + "\n", "utf-8")


def run_plugin(folder: Path, url: str, model: str, key: str, *extra: str) -> Outcome:
    """One pytest run of the suite in `folder`: replies obtained (no error) and wall time."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENAI_")}
    env["OPENAI_API_KEY"] = key
    report = folder / "r.json"
    report.unlink(missing_ok=True)
    command = [
        sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:randomly",
        "--abstain-model", model, "--abstain-base-url", url, "--abstain-report", str(report),
        # The gates are not what is measured: the run must end in a report either way.
        "--abstain-min-score", "-100", "--abstain-max-error-rate", "1", "--abstain-max-errors", "1",
        *extra,
    ]  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if not report.exists():
        raise SystemExit(f"no report from {' '.join(command)}:\n{done.stdout[-3000:]}")
    data = json.loads(report.read_text("utf-8"))
    questions = [q for s in data["suites"] for q in s["questions"]]
    obtained = sum(1 for q in questions if q["counts"]["error"] == 0)
    for question in questions:
        for error in question["errors"]:
            if error:
                print(f"  lost {question['id']}: {error}")
    retries = sum(q["retries"] for q in questions)
    return Outcome(len(questions), obtained, retries, seconds, "stopped early" in done.stdout)


def litellm(rpm: int, questions: int) -> None:
    pairs = [(f"Question {i}: the capital of France?", "Paris") for i in range(questions)]
    with tempfile.TemporaryDirectory() as temp:
        folder, used_up = Path(temp) / "run", Path(temp) / "use-up"
        folder.mkdir()
        used_up.mkdir()
        write_suite(folder, pairs)
        # Exactly the window's budget: the run after it starts with none left.
        write_suite(
            used_up, [(f"Warm-up {i}: the capital of France?", "Paris") for i in range(rpm)]
        )
        started = time.perf_counter()
        with litellm_proxy(Path(temp), rpm=rpm) as url:
            print(f"LiteLLM proxy healthy in {time.perf_counter() - started:.1f} s")
            early_in_a_minute()
            runs = {"default settings": run_plugin(folder, url, "limited-model", MASTER_KEY)}
            early_in_a_minute()
            run_plugin(used_up, url, "limited-model", MASTER_KEY)
            runs["default settings, started inside a used-up window"] = run_plugin(
                folder, url, "limited-model", MASTER_KEY
            )
    for name, out in runs.items():
        print(
            f"LiteLLM rpm {rpm}, {questions} questions, {name}: "
            f"{out.questions - out.obtained} replies lost, {out.obtained} obtained, "
            f"{out.retries} retries, wall {out.seconds:.1f} s"
            + (", stopped early" if out.stopped else ", no early stop")
        )


#: The shortest and longest reply the llama.cpp runs' grammar allows, in characters (about
#: a quarter as many tokens): a base model asked to stop soon seldom does, and a long reply is
#: what a slow local server meets.
LLAMA_REPLY_CHARS = (700, 900)


def llama(questions: int, max_tokens: int) -> None:
    pairs = [FACTS[i % len(FACTS)] for i in range(questions)]
    with tempfile.TemporaryDirectory() as temp:
        folder = Path(temp)
        # LLAMA_REPLY_CHARS characters or more, then a full stop: replies long enough that 16
        # in flight on 2 slots outlast the default 60 s timeout, as the runs did.
        low, high = LLAMA_REPLY_CHARS
        write_suite(folder, pairs, f'root ::= [A-Za-z0-9 ,]{{{low},{high}}} "."')
        started = time.perf_counter()
        with llama_server(folder, slots=2, max_tokens=max_tokens) as url:
            print(f"llama.cpp server healthy in {time.perf_counter() - started:.1f} s")
            runs = {
                "default settings": run_plugin(folder, url, LLAMA_MODEL, "unused"),
                "--abstain-concurrency 2 --abstain-timeout 300": run_plugin(
                    folder, url, LLAMA_MODEL, "unused", *TUNED
                ),
            }
    for name, out in runs.items():
        print(
            f"llama.cpp 2 slots, {questions} questions, cap {max_tokens} tokens, {name}: "
            f"{out.obtained}/{out.questions} replies obtained, {out.retries} retries, "
            f"wall {out.seconds:.1f} s"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run: fewer questions")
    parser.add_argument(
        "--max-tokens",
        type=int,
        default=2048,
        help="llama.cpp's cap on a reply, in tokens (above the grammar's: a base model's "
        "tokens can be one character each)",
    )
    parser.add_argument("--only", choices=["litellm", "llama"], help="one server only")
    args = parser.parse_args()
    needed = {None: LITELLM_MODULES + LLAMA_MODULES, "litellm": LITELLM_MODULES}
    absent = missing(needed.get(args.only, LLAMA_MODULES))
    if absent:
        raise SystemExit(
            f"needs {', '.join(absent)}: python3 -m venv .ci/servers-venv && "
            ".ci/servers-venv/bin/pip install -r .ci/servers.txt"
        )
    if args.only in (None, "litellm"):
        litellm(rpm=5 if args.quick else 20, questions=8 if args.quick else 48)
    if args.only in (None, "llama"):
        llama(questions=4 if args.quick else 16, max_tokens=args.max_tokens)


if __name__ == "__main__":
    main()
