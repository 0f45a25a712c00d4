"""pytest glue: what part of the suites a run collected, so that a baseline entry whose suite
is gone is told apart from one the run left out (-k, -m, --deselect, --lf, a path)."""

from __future__ import annotations

from pathlib import Path

import pytest

from ..results.orphans import Scope

#: Options that leave collected items out, as they are typed.
_SELECTING = (
    ("keyword", "-k"),
    ("markexpr", "-m"),
    ("deselect", "--deselect"),
    ("ignore", "--ignore"),
    ("ignore_glob", "--ignore-glob"),
    ("lf", "--lf"),
    ("stepwise", "--sw"),
)


def run_scope(config: pytest.Config, deselected: int) -> Scope:
    """The paths the run collected (relative to the rootdir) and why it is a subset;
    `deselected`: the items pytest_deselected reported on this process (none on an xdist
    controller, which collects nothing: the options stand in for it there)."""
    given = [name for option, name in _SELECTING if config.getoption(option, None)]
    if deselected:
        given.append(f"{deselected} deselected")
    return Scope(subset=", ".join(given) or None, paths=_paths(config))


def _paths(config: pytest.Config) -> tuple[str, ...]:
    root = config.rootpath.resolve()
    paths = []
    for arg in config.args:
        where = Path(arg.split("::", 1)[0])
        if not where.is_absolute():
            where = config.invocation_params.dir / where
        where = where.resolve()
        if where == root or root.is_relative_to(where):
            return ("",)  # the whole rootdir
        if where.is_relative_to(root):
            paths.append(where.relative_to(root).as_posix())
    return tuple(paths)
