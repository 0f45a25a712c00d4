"""pytest glue, the entry point: hooks, options, configuration, collection and the fixture.

The glue modules (everything in glue/: this one, options, standby, collection, session,
xdist_bridge, controller and hookspec) import pytest; the rest is plain Python.

pytest imports this module on every run, most of which hold no honesty question, so it
imports only what every run needs: the options, the hooks' specifications, the standby
(standby.py) and the check of a file's name. The rest is imported when a suite file or an
@pytest.mark.abstain test is collected (Standby.activate), or an option needs it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ..suite.file_names import is_suite_file
from . import hookspec
from .options import add_options, run_settings
from .standby import STANDBY_KEY, Standby, needed_at_configure

if TYPE_CHECKING:
    from ..records import QuestionRecord


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
    standby = Standby(config, settings)
    config.stash[STANDBY_KEY] = standby
    config.pluginmanager.register(standby, "abstain-standby")
    if needed_at_configure(config, settings):
        standby.activate()


def pytest_collect_file(file_path: Path, parent: pytest.Collector) -> pytest.Collector | None:
    if not is_suite_file(file_path):
        return None
    parent.config.stash[STANDBY_KEY].activate()
    from .collection import SuiteFile

    return SuiteFile.from_parent(parent, path=file_path)


# tryfirst: before the conftests' hooks and pytest's own deselection (-k, -m).
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Give each @pytest.mark.abstain test its question plan: the first such test wakes the
    standby; a run of plain tests only has its markers looked at."""
    standby = config.stash[STANDBY_KEY]
    if not standby.active and not any(item.get_closest_marker("abstain") for item in items):
        return
    standby.activate()
    from .collection import plan_marked_tests

    plan_marked_tests(config, items)


def pytest_report_collectionfinish(config: pytest.Config, items: list[pytest.Item]) -> str:
    """What the honesty questions will be asked with, once pytest knows there are some: a
    repo's other tests run without this line."""
    if not config.stash[STANDBY_KEY].active:
        return ""
    from ..asking.endpoints import run_endpoint
    from .collection import CASE_PLAN_KEY, PLAN_KEY

    if not any(PLAN_KEY in item.stash or CASE_PLAN_KEY in item.stash for item in items):
        return ""
    s = config.stash[STANDBY_KEY].settings
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
    standby = session.config.stash[STANDBY_KEY]
    if not standby.settings.dry_run or session.config.option.collectonly:
        return None
    standby.activate().dry_run(session)  # built at configure: the dry run needs it
    return True


@pytest.fixture
def abstain_result(request: pytest.FixtureRequest) -> QuestionRecord:
    """The graded replies of the `@pytest.mark.abstain` question this test declares."""
    item = request.node
    standby = request.config.stash[STANDBY_KEY]
    if standby.active:
        from .collection import PLAN_ERROR_KEY, PLAN_KEY
        from .xdist_bridge import mark_malformed

        if PLAN_ERROR_KEY in item.stash:
            mark_malformed(item)
            pytest.fail(item.stash[PLAN_ERROR_KEY], pytrace=False)
        if isinstance(item, pytest.Item) and PLAN_KEY in item.stash:
            return standby.activate().resolve(item)
    pytest.fail("abstain_result needs @pytest.mark.abstain(...) on the test", pytrace=False)
