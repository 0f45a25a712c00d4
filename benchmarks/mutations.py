"""A reproducible mutation check: small, realistic bugs that the test suite must catch.

    python benchmarks/mutations.py                  # every mutation, its own tests
    python benchmarks/mutations.py --list           # the mutations, their files and tests
    python benchmarks/mutations.py leaderboard-pools-all holm-removed   # some of them
    python benchmarks/mutations.py --check          # only that every snippet still applies
    python benchmarks/mutations.py --whole-suite NAME   # the whole suite against one mutant

Each mutation replaces one exact source snippet (found exactly once, or the script fails:
it must not rot silently when the code moves) in a copy of the repository, in a temporary
folder, and runs the tests meant to kill it there, with the copy first on PYTHONPATH (checked:
the copy's package is the one imported). The repository itself is never changed. Before the
mutants, the union of all the selections runs once on an unchanged copy: a selection that
fails without any mutation would "kill" everything.

A mutant is killed when its tests fail (pytest exit 1, or 2 when collection breaks); it
survives when they pass. Any other exit (no tests collected, a node id not found) stops the
script: the selection is wrong, not the code.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "pytest_abstain"
#: Not copied: version control, environments and caches (a stale .pyc or hypothesis example
#: database must not decide a result).
IGNORED = (".git", ".venv", "venv", "__pycache__", "*.pyc", ".mypy_cache", ".pytest_cache",
           ".ruff_cache", ".hypothesis", "*.egg-info", "build", "dist")  # fmt: skip


@dataclass(frozen=True)
class Mutation:
    name: str
    #: The file, relative to the repository root.
    file: str
    #: An exact snippet of that file (present exactly once) and what replaces it.
    find: str
    replace: str
    #: The tests that should kill it: files or node ids, relative to the repository root.
    tests: tuple[str, ...]
    #: What a user would see if it shipped.
    harm: str


HELD = "tests/test_held_behaviour.py"
HELD_2 = "tests/test_held_behaviour_2.py"

FOLLOWS = "tests/test_baseline_follows.py"
AUTO = "tests/test_auto_samples.py"

MUTATIONS: tuple[Mutation, ...] = (
    Mutation(
        name="orphan-never-gone",
        file="pytest_abstain/results/orphans.py",
        find="        elif scope.subset is None and scope.covers(path):",
        replace="        elif False:",
        tests=(
            f"{FOLLOWS}::test_a_gone_entry_fails_the_verdict_unless_the_run_updates_or_stopped",
        ),
        harm="renaming a suite file silently drops its baseline gate",
    ),
    Mutation(
        name="orphan-subset-ignored",
        file="pytest_abstain/results/orphans.py",
        find="        elif scope.subset is None and scope.covers(path):",
        replace="        elif scope.covers(path):",
        tests=(
            f"{FOLLOWS}::test_an_entry_fails_only_when_the_run_collected_everything_where_it_lived",
        ),
        harm="a -k run fails on every baseline entry it did not select",
    ),
    Mutation(
        name="partial-run-removes",
        file="pytest_abstain/results/comparison.py",
        find="""    if result.partial:
        # Only part of the suite ran (-k, -x): what did not run was not removed.
        comparison.not_run = sorted(set(base.questions) - set(now))
    else:
        comparison.removed = sorted(set(base.questions) - set(now))""",
        replace="""    comparison.removed = sorted(set(base.questions) - set(now))""",
        tests=(f"{HELD}::test_questions_a_partial_run_did_not_ask_are_not_run_not_removed",),
        harm="a -k run reports every question it did not ask as removed from the suite",
    ),
    Mutation(
        name="xdist-no-ask-ahead",
        file="pytest_abstain/glue/session.py",
        find="        for index in waiting:",
        replace="        for index in ():",
        tests=(f"{HELD}::test_xdist_workers_ask_ahead_for_the_questions_queued_to_them",),
        harm="xdist workers ask one question at a time: -n 2 keeps 2 requests in flight, not C",
    ),
    Mutation(
        name="leaderboard-pools-all",
        file="pytest_abstain/results/suites.py",
        find=")] == responders:",
        replace=")]:",
        tests=(f"{HELD}::test_the_leaderboard_pools_only_suites_every_model_answered",),
        harm="models are ranked on suites only some of them answered",
    ),
    Mutation(
        name="budget-forgives-incomplete-run",
        file="pytest_abstain/results/verdict.py",
        find="return self.question_errors if not self.unexcused_errors and self.complete else 0",
        replace="return self.question_errors if not self.unexcused_errors else 0",
        tests=(
            f"{HELD}::test_an_error_budget_does_not_pass_a_run_that_x_stopped",
            f"{HELD_2}::test_an_incomplete_run_forgives_no_question_error",
        ),
        harm="an error budget lets a run that -x cut short exit 0",
    ),
    Mutation(
        name="budget-excuses-unevaluated-suite",
        file="pytest_abstain/results/suites.py",
        find="return budget is not None and budget[0] and self.evaluated",
        replace="return budget is not None and budget[0]",
        tests=(
            f"{HELD}::test_an_error_budget_does_not_pass_a_run_that_x_stopped",
            f"{HELD_2}::test_a_suite_cut_short_has_its_errors_unexcused",
        ),
        harm="an error budget excuses the errors of a suite that -x cut short",
    ),
    Mutation(
        name="judge-not-ahead",
        file="pytest_abstain/pipeline.py",
        find="        while self._replied:\n",
        replace="        while False:\n",
        tests=("tests/test_pipeline.py::test_the_judge_works_ahead_of_the_records_asked_for",),
        harm="the judge grades one item at a time, after pytest reaches it",
    ),
    Mutation(
        name="holm-removed",
        file="pytest_abstain/results/comparison.py",
        find="        holm_rejections([m.p_value for m in metrics], alpha),",
        replace="        [m.p_value <= alpha for m in metrics],",
        tests=(f"{HELD_2}::test_the_baseline_gate_corrects_for_testing_every_tag",),
        harm="each tag is one more chance of a false alarm: big suites fail on noise",
    ),
    Mutation(
        name="over-refusal-untested",
        file="pytest_abstain/results/comparison.py",
        find='            tested.append((scope, "answerable_abstention", answerable))',
        replace="            pass",
        tests=(
            "tests/test_pooled_test.py::test_a_model_that_starts_refusing_is_caught_as_over_refusal",
        ),
        harm="a model that starts refusing every question is only scored lower, never a regression",
    ),
    Mutation(
        name="baseline-pool-uncapped",
        file="pytest_abstain/results/baseline.py",
        find="    cap = POOL_RUNS * new.samples",
        replace="    cap = 10**9",
        tests=("tests/test_baseline_pool.py::test_the_pool_is_capped_and_an_old_model_ages_out",),
        harm="an old model never ages out of the baseline: a year-old run still sets the bar",
    ),
    Mutation(
        name="pooled-test-sign-flips-means",
        file="pytest_abstain/results/permutation.py",
        find="        weight=Fraction(size, base * now),",
        replace="        weight=Fraction(1, now),",
        tests=(
            "tests/test_pooled_test.py::test_the_pooled_test_is_the_enumeration_exactly_ties_included",
        ),
        harm="questions with unequal pools are weighed wrongly: the p-value is not the one stated",
    ),
    Mutation(
        name="penalty-off-by-one",
        file="pytest_abstain/results/scoring.py",
        find="return threshold / (1.0 - threshold)",
        replace="return 1.0 + threshold / (1.0 - threshold)",
        tests=("tests/test_scoring.py",),
        harm="a wrong answer costs one point more than the stated t implies",
    ),
    Mutation(
        name="cache-key-ignores-sample",
        file="pytest_abstain/pipeline.py",
        find="CacheKey.of(responder.endpoint, responder.name, params, plan.messages, sample)",
        replace="CacheKey.of(responder.endpoint, responder.name, params, plan.messages, 0)",
        tests=("tests/test_chaos_cache.py", f"{HELD_2}::test_each_sample_has_its_own_cache_entry"),
        harm="with samples > 1 a replayed run repeats the first sample: the spread is lost",
    ),
    Mutation(
        name="replay-miss-asks",
        file="pytest_abstain/pipeline.py",
        find="""        if stored is not None or mode != "replay":""",
        replace="""        if True:""",
        tests=(f"{HELD_2}::test_replay_only_answers_a_miss_with_an_error_not_a_request",),
        harm="--abstain-record replay asks the paid endpoint on a cache miss",
    ),
    Mutation(
        name="verdict-ignores-audit",
        file="pytest_abstain/results/verdict.py",
        find="""            or self.failed_audits
""",
        replace="",
        tests=(f"{HELD_2}::test_a_failed_calibration_audit_fails_the_verdict",),
        harm="a sweep whose gated calibration audit fails still passes",
    ),
    Mutation(
        name="run-failure-exits-ok",
        file="pytest_abstain/results/verdict.py",
        find="return EXIT_INTERNAL_ERROR if pytest_status == EXIT_OK else pytest_status",
        replace="return pytest_status",
        tests=(f"{HELD_2}::test_a_run_that_went_wrong_never_exits_ok",),
        harm="a report that could not be written (or a crashed worker) still exits 0",
    ),
    Mutation(
        name="people-dont-know-unguarded",
        file="pytest_abstain/grading/abstention.py",
        find="""    "dont know": (re.compile(r"(?:people|you|they|who|many) $"), None),""",
        replace="""    "dont know": (None, None),""",
        tests=("tests/test_grading.py",),
        harm='"Many people don\'t know that it is Canberra" is graded as an abstention',
    ),
    Mutation(
        name="xdist-record-loses-replies",
        file="pytest_abstain/glue/xdist_bridge.py",
        find="report.user_properties.append((RECORD_PROPERTY, json.dumps(record.to_json())))",
        replace="""report.user_properties.append(
        (RECORD_PROPERTY, json.dumps({**record.to_json(), "replies": [None] * len(record.replies)}))
    )""",
        tests=(f"{HELD_2}::test_a_record_crosses_to_the_controller_whole",),
        harm="under -n, the reports (JSON, HTML, baseline) lose every reply",
    ),
    Mutation(
        name="idk-abstention-graded-correct",
        file="pytest_abstain/grading/rules.py",
        find="""return RuleGrade("abstained", doubt_text("hedge") if more else None)""",
        replace="""return RuleGrade("correct", doubt_text("hedge") if more else None)""",
        tests=(
            "tests/test_grading.py::"
            "test_a_reply_is_graded_correct_wrong_or_abstained_and_no_idk_reply_is_correct",
        ),
        harm="abstaining on a question nobody can answer scores as a correct answer",
    ),
    Mutation(
        name="report-schema-without-error-grade",
        file="pytest_abstain/schemas/report.schema.json",
        find=""""grade": {"enum": ["correct", "wrong", "abstained", "error"]},""",
        replace=""""grade": {"enum": ["correct", "wrong", "abstained"]},""",
        tests=("tests/test_grading.py::test_every_published_place_names_the_same_grades",),
        harm="the published report schema rejects reports with a question error",
    ),
    Mutation(
        name="wrong-answer-passes-green",
        file="pytest_abstain/glue/session.py",
        find="        pytest.xfail(message)",
        replace="        return",
        tests=(
            "tests/test_junit.py::"
            "test_a_wrong_answer_is_xfailed_with_its_reply_and_the_gate_alone_fails_the_build",
        ),
        harm="every hallucination is a green test case in JUnit again",
    ),
    Mutation(
        name="runxfail-passes-wrong-green",
        file="pytest_abstain/glue/session.py",
        find="if record.critical or plain:",
        replace="if record.critical:",
        tests=("tests/test_junit.py::test_a_team_can_make_every_wrong_answer_a_failure",),
        harm="under --runxfail pytest.xfail does nothing: every wrong answer passes green",
    ),
    Mutation(
        name="critical-needs-every-sample-wrong",
        file="pytest_abstain/results/suites.py",
        find="if record.critical and record.counts.wrong]",
        replace="if record.critical and record.counts.wrong == len(record.grades)]",
        tests=(
            "tests/test_critical.py::"
            "test_one_wrong_sample_of_a_critical_question_fails_the_run_whatever_the_score",
        ),
        harm="a made-up dosage in one sample of three passes the build",
    ),
    Mutation(
        name="question-critical-ignored",
        file="pytest_abstain/plan.py",
        find="question.critical if question.critical is not None else suite.critical",
        replace="suite.critical",
        tests=(
            "tests/test_critical.py::"
            "test_critical_comes_from_the_command_line_then_the_question_then_the_suite_then_the_ini",
        ),
        harm="critical: true on a question is ignored unless the whole suite is critical",
    ),
    Mutation(
        name="plugin-loads-grading-eagerly",
        file="pytest_abstain/glue/plugin.py",
        find="from ..suite.file_names import is_suite_file",
        replace="from ..suite import is_suite_file, load_suite  # noqa: F401",
        tests=("tests/test_idle.py::test_a_run_without_honesty_questions_imports_nothing_heavy",),
        harm="every pytest run of the repo, unit tests only included, loads the suite schema "
        "and the grading rules",
    ),
    Mutation(
        name="auto-never-asks-the-rest",
        file="pytest_abstain/results/settling.py",
        find="open_tests = [m for m in comparison.metrics if m.p_value < level]",
        replace="open_tests = [m for m in comparison.metrics if m.p_value < level / 1000]",
        tests=(AUTO,),
        harm="samples: auto stops at one reply a question on a regressed model whose first "
        "replies already look worse: the regression passes the gate",
    ),
    Mutation(
        name="auto-records-first-replies",
        file="pytest_abstain/glue/session.py",
        find="            if self.settings.update_baseline:\n                why = (",
        replace="            if False:\n                why = (",
        tests=(AUTO,),
        harm="a recording run of samples: auto stops early, so the baseline pool holds the "
        "whole budget only of the runs that looked worse, and leans toward errors",
    ),
    Mutation(
        name="family-rejects-above-own-level",
        file="pytest_abstain/results/family.py",
        find="p_values[index] > min(levels[index], bound * levels[index] / remaining)",
        replace="p_values[index] > bound * levels[index] / remaining",
        tests=("tests/test_family.py",),
        harm="in a run whose suites state different significances, a suite is tested above "
        "its own level, and a samples: auto suite that stopped at p >= 0.12 can fail",
    ),
    Mutation(
        name="auto-plans-only-the-running-suite",
        file="pytest_abstain/glue/session.py",
        find="self._plan_auto_suites(item.session.items, {*waiting, *here})",
        replace="self._plan_auto_suites(item.session.items, here)",
        tests=(
            f"{AUTO}::test_under_xdist_a_suite_on_one_worker_is_settled_and_a_split_one_asked_whole",
        ),
        harm="under xdist with --dist loadfile, samples: auto never settles a suite: every "
        "question is asked its whole budget",
    ),
    Mutation(
        name="auto-grades-first-replies-twice",
        file="pytest_abstain/pipeline.py",
        find="        self._firsts[key] = first  # graded once, here or with its suite's",
        replace="        pass",
        tests=(AUTO,),
        harm="with samples: auto every first reply is graded twice: a team's grading hook "
        "runs twice, and the judge is waited for twice",
    ),
)


def by_name(names: Sequence[str]) -> list[Mutation]:
    known = {m.name: m for m in MUTATIONS}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise SystemExit(f"unknown mutation(s): {', '.join(unknown)}; see --list")
    return [known[n] for n in names]


def mutated(source: str, mutation: Mutation) -> str:
    """`source` with the mutation applied; SystemExit unless its snippet is there exactly once."""
    found = source.count(mutation.find)
    if found != 1:
        raise SystemExit(
            f"mutation {mutation.name}: its snippet occurs {found} times in {mutation.file} "
            "(expected exactly once): the code moved, update benchmarks/mutations.py"
        )
    return source.replace(mutation.find, mutation.replace)


def check_snippets(mutations: Sequence[Mutation], root: Path = ROOT) -> None:
    for mutation in mutations:
        mutated((root / mutation.file).read_text(encoding="utf-8"), mutation)
        for test in mutation.tests:
            path, _, function = test.partition("::")
            if not (root / path).is_file():
                raise SystemExit(f"mutation {mutation.name}: no test file {path}")
            text = (root / path).read_text(encoding="utf-8")
            if function and f"def {function.split('[')[0]}(" not in text:
                raise SystemExit(f"mutation {mutation.name}: no test {test}")


def copy_repository(into: Path) -> Path:
    copy = into / "repo"
    shutil.copytree(ROOT, copy, ignore=shutil.ignore_patterns(*IGNORED))
    return copy


def environment(copy: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "OPENAI_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(copy), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def assert_imports_copy(copy: Path, python: str) -> None:
    """The copy's package, not the installed (editable) one, is what the tests will import."""
    probe = f"import {PACKAGE}; print({PACKAGE}.__file__)"
    out = subprocess.run(
        [python, "-c", probe], cwd=copy, env=environment(copy), capture_output=True, text=True
    )
    imported = Path(out.stdout.strip()).resolve()
    if out.returncode != 0 or not imported.is_relative_to(copy.resolve()):
        raise SystemExit(f"the copy's package is not the one imported: {imported} {out.stderr}")


def run_tests(copy: Path, python: str, tests: Sequence[str], workers: int) -> tuple[int, str]:
    command = [python, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-p", "no:randomly"]
    if workers > 1:
        command += ["-n", str(workers)]
    process = subprocess.run(
        [*command, *tests], cwd=copy, env=environment(copy), capture_output=True, text=True
    )
    return process.returncode, process.stdout + process.stderr


def last_lines(output: str, count: int = 15) -> str:
    return "\n".join(output.rstrip().splitlines()[-count:])


def control(mutations: Sequence[Mutation], python: str, workers: int) -> None:
    """The selections pass on an unchanged copy, or no kill would mean anything."""
    tests = sorted({t for m in mutations for t in m.tests})
    with tempfile.TemporaryDirectory(prefix="abstain-mutation-") as folder:
        copy = copy_repository(Path(folder))
        assert_imports_copy(copy, python)
        status, output = run_tests(copy, python, tests, workers)
    if status != 0:
        raise SystemExit(f"the selected tests fail without any mutation:\n{last_lines(output)}")


def run_mutation(
    mutation: Mutation, python: str, workers: int, whole_suite: bool
) -> tuple[str, float, str]:
    """('killed' or 'survived', seconds, the end of pytest's output)."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="abstain-mutation-") as folder:
        copy = copy_repository(Path(folder))
        target = copy / mutation.file
        target.write_text(mutated(target.read_text(encoding="utf-8"), mutation), encoding="utf-8")
        assert_imports_copy(copy, python)
        tests = ["tests"] if whole_suite else list(mutation.tests)
        status, output = run_tests(copy, python, tests, workers)
    seconds = time.monotonic() - started
    if status in (1, 2):
        return "killed", seconds, last_lines(output)
    if status == 0:
        return "survived", seconds, last_lines(output)
    raise SystemExit(f"mutation {mutation.name}: pytest exited {status}:\n{last_lines(output)}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("names", nargs="*", help="mutations to run (default: all)")
    parser.add_argument("--list", action="store_true", help="list the mutations and stop")
    parser.add_argument("--check", action="store_true", help="check the snippets and stop")
    parser.add_argument("--whole-suite", action="store_true", help="run all tests per mutant")
    parser.add_argument("--tests", nargs="+", help="run these tests instead of the selections")
    parser.add_argument("--no-control", action="store_true", help="skip the unmutated run")
    parser.add_argument("--workers", type=int, default=1, help="pytest-xdist workers (-n)")
    parser.add_argument("--verbose", action="store_true", help="show pytest's output")
    parser.add_argument("--python", default=sys.executable, help="the interpreter for pytest")
    args = parser.parse_args(argv)

    mutations = by_name(args.names) if args.names else list(MUTATIONS)
    if args.tests:
        mutations = [dataclasses.replace(m, tests=tuple(args.tests)) for m in mutations]
    check_snippets(mutations)
    if args.list:
        for m in mutations:
            print(f"{m.name}\n  {m.file}: {m.harm}\n  killed by: {' '.join(m.tests)}")
        return 0
    if args.check:
        print(f"{len(mutations)} mutations: every snippet found exactly once")
        return 0
    if not args.no_control:
        control(mutations, args.python, args.workers)
        print("control: the selected tests pass on an unchanged copy")

    survivors = []
    print("| mutation | file | result | seconds |")
    print("|---|---|---|---|")
    for mutation in mutations:
        result, seconds, output = run_mutation(
            mutation, args.python, max(args.workers, 2) if args.whole_suite else args.workers,
            args.whole_suite,
        )  # fmt: skip
        print(f"| {mutation.name} | {mutation.file} | {result} | {seconds:.0f} |", flush=True)
        if args.verbose:
            print(output)
        if result == "survived":
            survivors.append(mutation.name)
    if survivors:
        print(f"\n{len(survivors)} survived: {', '.join(survivors)}")
        return 1
    print(f"\nall {len(mutations)} killed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
