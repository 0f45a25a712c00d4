"""What the plugin costs a pytest run that holds no honesty question (issue 15, point 2).

    python benchmarks/idle_cost.py            # 20 runs of each kind
    python benchmarks/idle_cost.py --quick    # 3 of each: a smoke test
    python benchmarks/idle_cost.py --check    # exit 1 when the plugin adds over 50 ms

A temporary repo holds a few plain unit tests and no suite. pytest runs there in
subprocesses, in two comparisons, each side by side and alternating, so a slow spell of the
shared machine hits both sides alike:
- as installed: every plugin pytest finds (the plugin through its entry point, and
  whatever else is installed: here pytest-xdist, hypothesis, anyio), against
  `-p no:abstain`. This is what a repo's run pays, but the other plugins' start-up (over a
  second here) makes it noisy: tens of milliseconds from one batch of runs to the next.
- alone: PYTEST_DISABLE_PLUGIN_AUTOLOAD=1, with `-p pytest_abstain.glue.plugin` against
  nothing. The same plugin code is imported and run, without the others' noise; --check
  compares the median of its paired differences with the 50 ms goal.
Reported for each: the median of each side, their difference and ratio, and the median of
the differences of each back-to-back pair. Also the import of the entry-point module alone
(`python -X importtime`), after pytest's own. Bytecode is cached (in the temporary folder),
as in most set-ups; a first run of each side warms it.
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: The goal: the plugin adds at most this to a run without honesty questions.
GOAL_MS = 50.0
ENTRY_POINT = "pytest_abstain.glue.plugin"

UNIT_TESTS = """
import pytest


def add(a: int, b: int) -> int:
    return a + b


@pytest.mark.parametrize("a, b, total", [(1, 2, 3), (2, 2, 4), (0, 0, 0), (-1, 1, 0)])
def test_add(a: int, b: int, total: int) -> None:
    assert add(a, b) == total


def test_text() -> None:
    assert "abc".upper() == "ABC"


class TestList:
    def test_sorted(self) -> None:
        assert sorted([3, 1, 2]) == [1, 2, 3]

    def test_reversed(self) -> None:
        assert list(reversed([1, 2])) == [2, 1]
"""


def make_repo(folder: Path, files: int) -> None:
    """A repo of plain unit tests: `files` test modules, an ini file, no suite."""
    (folder / "pytest.ini").write_text("[pytest]\ntestpaths = tests\n", encoding="utf-8")
    tests = folder / "tests"
    tests.mkdir()
    for index in range(files):
        (tests / f"test_unit_{index}.py").write_text(UNIT_TESTS, encoding="utf-8")


def environment(repo: Path, autoload: bool = True) -> dict[str, str]:
    """This environment, without what would change which plugins pytest loads, and with
    bytecode cached as in most set-ups (PYTHONDONTWRITEBYTECODE would compile every module of
    both sides on every run), in the repo's folder so that nothing is written elsewhere."""
    env = dict(os.environ)
    for name in (
        "PYTEST_ADDOPTS",
        "PYTEST_PLUGINS",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD",
        "PYTHONDONTWRITEBYTECODE",
    ):
        env.pop(name, None)
    env["PYTHONPYCACHEPREFIX"] = str(repo / ".pycache")
    if not autoload:
        env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    return env


def pytest_run(repo: Path, plugin: bool, alone: bool) -> float:
    """Seconds for one whole pytest run in `repo`, in a fresh interpreter: with every
    installed plugin, or `alone` (no plugin autoloaded); with this plugin or without it."""
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
    if alone and plugin:
        command += ["-p", ENTRY_POINT]
    elif not alone and not plugin:
        command += ["-p", "no:abstain"]
    started = time.perf_counter()
    env = environment(repo, autoload=not alone)
    done = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"pytest failed in {repo} ({' '.join(command)}):\n{done.stdout}")
    return elapsed


def check_plugin_loads(repo: Path) -> None:
    """The runs "with the plugin" must really load it: its options are in --help."""
    command = [sys.executable, "-m", "pytest", "--help"]
    shown = subprocess.run(command, cwd=repo, env=environment(repo), capture_output=True, text=True)
    if "--abstain-model" not in shown.stdout:
        raise SystemExit("pytest does not load the plugin here: pip install -e . first")


def import_ms(folder: Path) -> float:
    """Milliseconds to import the entry-point module once pytest itself is imported, as
    installed: run in `folder`, not here, where `-c` would find this checkout's package."""
    code = f"import pytest; import {ENTRY_POINT}"
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code],
        cwd=folder,
        env=environment(folder),
        capture_output=True,
        text=True,
        check=True,
    )
    pattern = rf"^import time:\s+\d+ \|\s+(\d+) \| {re.escape(ENTRY_POINT)}$"
    found = re.search(pattern, done.stderr, re.MULTILINE)
    if found is None:
        raise SystemExit(f"no import time for {ENTRY_POINT} in:\n{done.stderr[-2000:]}")
    return int(found.group(1)) / 1000


class Comparison:
    """Runs of pytest with the plugin and without it, in pairs."""

    def __init__(self, title: str, alone: bool) -> None:
        self.title = title
        self.alone = alone
        self.with_plugin: list[float] = []
        self.without: list[float] = []

    def run_pair(self, repo: Path, plugin_first: bool) -> None:
        for plugin in (True, False) if plugin_first else (False, True):
            elapsed = pytest_run(repo, plugin, self.alone)
            (self.with_plugin if plugin else self.without).append(elapsed)

    def paired_ms(self) -> float:
        pairs = zip(self.with_plugin, self.without, strict=True)
        return statistics.median(a - b for a, b in pairs) * 1000

    def lines(self) -> list[str]:
        with_ms = statistics.median(self.with_plugin) * 1000
        without_ms = statistics.median(self.without) * 1000
        return [
            f"{self.title}: {len(self.with_plugin)} runs with the plugin and without",
            f"  with the plugin:   median {with_ms:7.0f} ms",
            f"  without:           median {without_ms:7.0f} ms",
            f"  added: {with_ms - without_ms:+.0f} ms (ratio {with_ms / without_ms:.3f}); "
            f"median of the paired differences {self.paired_ms():+.0f} ms",
        ]


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="3 runs of each: a smoke test")
    parser.add_argument("--runs", type=int, default=20, help="pytest runs of each kind")
    parser.add_argument("--files", type=int, default=5, help="unit test modules in the repo")
    parser.add_argument(
        "--check", action="store_true", help=f"exit 1 when the plugin adds over {GOAL_MS:g} ms"
    )
    options = parser.parse_args()
    runs = 3 if options.quick else options.runs
    tests = options.files * 8
    installed = Comparison("as installed, against -p no:abstain", alone=False)
    alone = Comparison(f"alone (no plugin autoloaded), -p {ENTRY_POINT} against none", True)

    with tempfile.TemporaryDirectory(prefix="abstain-idle-") as folder:
        repo = Path(folder)
        make_repo(repo, options.files)
        check_plugin_loads(repo)
        for warm in (installed, alone):  # the file cache and the bytecode of every side
            warm.run_pair(repo, plugin_first=True)
            warm.with_plugin.clear()
            warm.without.clear()
        for index in range(runs):
            # Alternate which side goes first, so neither always follows the other.
            installed.run_pair(repo, plugin_first=index % 2 == 0)
            alone.run_pair(repo, plugin_first=index % 2 == 1)
        imports = [import_ms(repo) for _ in range(runs)]

    print(f"pytest runs of {tests} plain unit tests, no suite")
    for comparison in (installed, alone):
        print("\n".join(comparison.lines()))
    print(f"importing {ENTRY_POINT} after pytest: median {statistics.median(imports):.1f} ms")
    added = alone.paired_ms()
    print(f"goal: the plugin adds at most {GOAL_MS:g} ms (checked alone): {added:+.0f} ms")
    if options.check and added > GOAL_MS:
        print(f"FAILED: the plugin adds {added:.0f} ms, over {GOAL_MS:g} ms")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
