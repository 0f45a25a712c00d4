"""README → "Exit codes": one table, the same in a plain run and under pytest-xdist. Each row
is a small repo with a unit test beside its honesty questions, answered by a conftest app."""

from __future__ import annotations

import textwrap

import pytest

APP = """
    def pytest_abstain_make_responder(config, suite_path):
        def app(prompt):
            if "down" in prompt:
                raise ConnectionError("the app's model service is down")
            return "Paris" if "France" in prompt else "Lyon"
        return app
"""

ANSWERED = "questions:\n  - {id: capital, question: Capital of France?, answer: Paris}\n"
WRONG = (
    "gates: {max_error_rate: 0.0}\n"
    "questions:\n  - {id: capital, question: Capital of Italy?, answer: Rome}\n"
)
DOWN = "questions:\n" + "".join(
    f"  - {{id: q{i}, question: Is it down {i}?, answer: fine}}\n" for i in range(12)
)
BAD_SUITE = "questions:\n  - {id: capital, question: Capital?, anwser: Paris}\n"
BAD_MARKER = """
    import pytest

    @pytest.mark.abstain(question="Capital of France?", anwser="Paris")
    def test_marked():
        pass
"""

#: name: (suite text or None, a marked test module or None, extra options, exit code)
ROWS = {
    "passed": (ANSWERED, None, [], pytest.ExitCode.OK),
    "gate failed": (WRONG, None, [], pytest.ExitCode.TESTS_FAILED),
    "endpoint unusable": (DOWN, None, ["--abstain-concurrency", "2"], pytest.ExitCode.USAGE_ERROR),
    "bad suite": (BAD_SUITE, None, [], pytest.ExitCode.INTERRUPTED),
    "bad marker": (None, BAD_MARKER, [], pytest.ExitCode.INTERRUPTED),
    "usage error": (ANSWERED, None, ["--abstain-threshold", "2"], pytest.ExitCode.USAGE_ERROR),
}


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["plain", "xdist"])
@pytest.mark.parametrize("row", list(ROWS))
def test_the_exit_code_table(pytester: pytest.Pytester, row: str, workers: list[str]) -> None:
    suite, marked, options, code = ROWS[row]
    pytester.makeconftest(textwrap.dedent(APP))
    pytester.makepyfile(test_unit="def test_arithmetic():\n    assert 1 + 1 == 2\n")
    if suite is not None:
        pytester.makefile(".yaml", abstain_questions=suite)
    if marked is not None:
        pytester.makepyfile(test_marked=textwrap.dedent(marked))
    result = pytester.runpytest(*options, *workers)
    assert result.ret == code, result.stdout.str()
    if row in ("gate failed", "endpoint unusable", "bad marker"):
        # The honesty questions failed; the repo's own test still ran and passed.
        assert result.parseoutcomes()["passed"] >= 1
