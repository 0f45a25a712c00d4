"""pytest glue: the traceback of an exception the team's own code raised (a responder, a
grading hook), shown the way pytest shows a test's, with --tb and --showlocals respected."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pluggy
import pytest

_PATHS = sysconfig.get_paths()
#: Frames here are the machinery between pytest and the team's code: ours, pluggy's hook
#: calls, and the standard library's event loop and thread pool that ran it...
_MACHINERY = (
    Path(__file__).resolve().parent.parent,
    Path(pluggy.__file__).resolve().parent,
    Path(_PATHS["stdlib"]).resolve(),
)
#: ... but not installed packages, which may sit inside the standard library's folder.
_INSTALLED = (Path(_PATHS["purelib"]).resolve(), Path(_PATHS["platlib"]).resolve())


def team_traceback(exc: BaseException, config: pytest.Config) -> str | None:
    """The traceback from the first frame of the team's code down to the raise; None when
    --tb=no, or when no frame is theirs (a bug of ours, reported by its message)."""
    style = config.getoption("tbstyle", "auto")
    if style == "no":
        return None
    info = pytest.ExceptionInfo.from_exception(exc)
    entries = list(info.traceback)
    while entries and _is_machinery(entries[0].path):
        entries.pop(0)
    if not entries:
        return None
    if style == "auto" and len(entries) > 2 and hasattr(entries[0], "with_repr_style"):
        # As pytest shows a test's: the first and last frames in full, the rest short.
        entries[1:-1] = [entry.with_repr_style("short") for entry in entries[1:-1]]
    info.traceback = type(info.traceback)(entries)
    shown = info.getrepr(
        style="long" if style == "auto" else style,
        showlocals=bool(config.getoption("showlocals", False)),
        tbfilter=False,
    )
    return str(shown)


def _is_machinery(path: Path | str) -> bool:
    resolved = Path(path).resolve()
    *packages, stdlib = _MACHINERY
    if any(resolved.is_relative_to(root) for root in packages):
        return True
    installed = any(resolved.is_relative_to(root) for root in _INSTALLED)
    return resolved.is_relative_to(stdlib) and not installed
