"""Cheap when idle (issue 15, point 2): a run without honesty questions imports none of the
heavy parts of the plugin. Pinned by what is in sys.modules after a real run, not by a
clock (the time it saves is measured in benchmarks/idle_cost.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

#: What a run without honesty questions must not import: the model's client, the suite
#: schema and YAML, and the stages that only a question needs.
HEAVY = (
    "openai",
    "jsonschema",
    "yaml",
    "pytest_abstain.grading",
    "pytest_abstain.records",
    "pytest_abstain.suite.loading",
    "pytest_abstain.pipeline",
    "pytest_abstain.results.suites",
    "pytest_abstain.render",
    "pytest_abstain.outputs",
    "pytest_abstain.glue.session",
    "pytest_abstain.glue.controller",
)

#: Runs pytest in this process, then reports what it imported (and that the plugin ran).
RUN_AND_REPORT = """
import json, sys
import pytest
code = pytest.main([*sys.argv[1:], "-p", "no:cacheprovider"])
heavy = {heavy!r}
print(json.dumps({{
    "exit": int(code),
    "plugin": "pytest_abstain.glue.standby" in sys.modules,
    "heavy": sorted(m for m in sys.modules if any(m == h or m.startswith(h + ".") for h in heavy)),
}}))
"""


def run_in_subprocess(repo: Path, *args: str) -> dict[str, object]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [sys.executable, "-c", RUN_AND_REPORT.format(heavy=HEAVY), *args],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


@pytest.fixture
def unit_repo(tmp_path: Path) -> Path:
    (tmp_path / "test_unit.py").write_text(
        textwrap.dedent(
            """
            import pytest

            @pytest.mark.parametrize("n", [1, 2])
            def test_double(n):
                assert n * 2 == n + n
            """
        ),
        encoding="utf-8",
    )
    return tmp_path


def test_a_run_without_honesty_questions_imports_nothing_heavy(unit_repo: Path) -> None:
    # A repo that configures the plugin in its ini and runs only its unit tests: the options
    # are resolved and checked (a bad value is still a usage error), and nothing more.
    (unit_repo / "pytest.ini").write_text(
        "[pytest]\nabstain_model = gpt-4o-mini\nabstain_threshold = 0.9\n"
        "abstain_max_error_rate = 0.1\nabstain_judge = unsure\n",
        encoding="utf-8",
    )
    report = run_in_subprocess(unit_repo, "-q")
    assert report["exit"] == 0
    assert report["plugin"] is True  # the plugin was loaded, and stayed on standby
    assert report["heavy"] == []


def test_a_suite_file_wakes_the_plugin(unit_repo: Path) -> None:
    # The control: the same check sees the heavy modules once a suite is collected.
    (unit_repo / "abstain_tiny.yaml").write_text(
        "questions:\n  - {id: a, question: 'Capital of France?', answer: Paris}\n",
        encoding="utf-8",
    )
    report = run_in_subprocess(unit_repo, "-q", "--collect-only")
    assert report["exit"] == 0
    heavy = report["heavy"]
    assert isinstance(heavy, list)
    for module in ("jsonschema", "yaml", "pytest_abstain.grading", "pytest_abstain.glue.session"):
        assert module in heavy


LAZY_EXPORTS_CHECK = """
import importlib, sys, types
name = sys.argv[1]
package = importlib.import_module(name)
for export in package.__all__:
    value = getattr(package, export)
    modules = [m for m in vars(package).values()
               if isinstance(m, types.ModuleType) and m.__name__.startswith(name + ".")]
    if not any(m.__dict__.get(export) is value for m in modules):
        print(f"{name}.{export} is not a name of any of its modules")
try:
    getattr(package, "no_such_name")
    print("no AttributeError for an unknown name")
except AttributeError:
    pass
"""


@pytest.mark.parametrize(
    "name",
    ["pytest_abstain", "pytest_abstain.grading", "pytest_abstain.suite", "pytest_abstain.settings"],
)
def test_lazy_exports_are_the_modules_own_names(name: str) -> None:
    # In a fresh interpreter: pytester's in-process runs put back the sys.modules they
    # found, so in this process a lazy export may be imported again as a second copy.
    done = subprocess.run(
        [sys.executable, "-c", LAZY_EXPORTS_CHECK, name], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout == "", done.stdout
