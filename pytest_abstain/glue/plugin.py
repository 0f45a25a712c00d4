"""pytest glue, the entry point: hooks, options, configuration, collection and the fixture.

The glue modules (everything in glue/: this one, options, collection, session,
xdist_bridge, controller and hookspec) import pytest; the rest is plain Python.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ..asking.endpoints import run_endpoint
from ..records import QuestionRecord
from ..suite import is_suite_file
from . import hookspec
from .collection import CASE_PLAN_KEY, PLAN_ERROR_KEY, PLAN_KEY, RUN_KEY, SuiteFile
from .controller import AbstainResults
from .options import add_options, run_settings
from .session import AbstainRun
from .xdist_bridge import mark_malformed


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspec)


def pytest_addoption(parser: pytest.Parser) -> None:
    add_options(parser)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "abstain(question, answer=..., idk=..., regex=..., tolerance=..., tags=...): "
        "ask this question of the model; the test receives the graded result as abstain_result",
    )
    config.addinivalue_line(
        "markers",
        "abstain_suite(threshold=..., samples=..., gates=..., ...): suite settings for the "
        "abstain questions of a module, with the keys of a suite file",
    )
    settings = run_settings(config)
    run = AbstainRun(config, settings)
    config.stash[RUN_KEY] = run
    config.pluginmanager.register(run, "abstain-run")
    # Results are aggregated and gated once, where the reports arrive: not on xdist workers.
    if not hasattr(config, "workerinput"):
        config.pluginmanager.register(AbstainResults(config, settings), "abstain-results")


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if is_suite_file(file_path):
        return SuiteFile.from_parent(parent, path=file_path)
    return None


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> str:
    """What the honesty questions will be asked with, once pytest knows there are some: a
    repo's other tests run without this line."""
    if not any(PLAN_KEY in item.stash or CASE_PLAN_KEY in item.stash for item in items):
        return ""
    s = config.stash[RUN_KEY].settings
    threshold = s.threshold.given
    t_text = f"{threshold:g}" if threshold is not None else "per suite (default 0.75)"
    samples = s.samples.given
    models = ",".join(s.models) or "(conftest responder)"
    return (
        f"abstain: model={models} endpoint={run_endpoint(s) or '-'} "
        f"t={t_text} samples={samples or 'per suite (default 1)'} concurrency={s.concurrency}"
    )


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """--abstain-dry-run: count what the run would ask, then end the loop without running
    (and so without asking) anything, exiting 0."""
    run = session.config.stash[RUN_KEY]
    if not run.settings.dry_run or session.config.option.collectonly:
        return None
    run.dry_run(session)
    return True


@pytest.fixture
def abstain_result(request: pytest.FixtureRequest) -> QuestionRecord:
    """The graded replies of the `@pytest.mark.abstain` question this test declares."""
    item = request.node
    if PLAN_ERROR_KEY in item.stash:
        mark_malformed(item)
        pytest.fail(item.stash[PLAN_ERROR_KEY], pytrace=False)
    if not isinstance(item, pytest.Item) or PLAN_KEY not in item.stash:
        pytest.fail("abstain_result needs @pytest.mark.abstain(...) on the test", pytrace=False)
    return request.config.stash[RUN_KEY].resolve(item)
