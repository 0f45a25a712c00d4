"""The import rules of the package, read from its source: a pure core, thin pytest glue in
its own folder, renderers that do not lean on each other, and a flow without circles. A
change that breaks one fails here, naming the module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_abstain"
#: The only folder whose modules may import pytest: they wire the pure core into it.
GLUE = "glue"
#: The renderers' folder: each renderer may import the shared modules, never another renderer.
RENDER = "render"
#: What several renderers share (the wording of lines that appear in several outputs).
RENDER_SHARED = "render.wording"


def module_name(path: Path) -> str:
    """'glue.plugin' for pytest_abstain/glue/plugin.py; a package by its folder's name."""
    parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def _resolved(name: str, node: ast.ImportFrom) -> set[str]:
    """The package modules a relative `from ... import ...` in module `name` reaches."""
    path = PACKAGE.joinpath(*name.split("."))
    is_package = (path / "__init__.py").exists()
    base = name.split(".") if is_package else name.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
    target = [*base, *node.module.split(".")] if node.module else base
    known = modules()
    found = set()
    for alias in node.names:
        # `from . import hookspec` names a module; `from .x import y` names a thing in x.
        candidate = ".".join([*target, alias.name])
        found.add(candidate if candidate in known else ".".join(target))
    return {f for f in found if f}


def imports(name: str, *, typing_only: bool) -> set[str]:
    """What module `name` imports: package modules by their dotted name inside the package
    (prefixed with '.'), others by their first dotted part. Imports under
    `if TYPE_CHECKING:` count only when `typing_only`."""
    tree = ast.parse(modules()[name].read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for inner in ast.walk(node)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            else:
                found |= {"." + target for target in _resolved(name, node)}
    return found


def in_folder(name: str, folder: str) -> bool:
    return name == folder or name.startswith(folder + ".")


def test_only_the_glue_imports_pytest() -> None:
    offenders = {
        name
        for name in modules()
        if not in_folder(name, GLUE)
        and {"pytest", "_pytest", "xdist"} & imports(name, typing_only=True)
    }
    assert offenders == set(), f"pure modules importing pytest: {sorted(offenders)}"


def test_the_pure_core_never_imports_the_glue() -> None:
    offenders = {
        f"{name} -> {target[1:]}"
        for name in modules()
        if not in_folder(name, GLUE)
        for target in imports(name, typing_only=True)
        if target.startswith(".") and in_folder(target[1:], GLUE)
    }
    assert offenders == set()


def test_no_renderer_imports_another() -> None:
    renderers = {
        name
        for name in modules()
        if in_folder(name, RENDER) and name not in (RENDER, RENDER_SHARED)
    }
    offenders = {
        f"{name} -> {target[1:]}"
        for name in renderers
        for target in imports(name, typing_only=True)
        if target[1:] in renderers - {name}
    }
    assert offenders == set()


def test_no_module_imports_itself_back() -> None:
    # Typing-only imports count too: a cycle is a cycle for a reader, at run time or not.
    names = modules()
    graph = {
        name: {i[1:] for i in imports(name, typing_only=True) if i.startswith(".")}
        for name in names
        # A package imports its own modules to export them: that is no cycle of the flow.
    }
    for name in graph:
        graph[name] = {t for t in graph[name] if not t.startswith(name + ".")}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1: on the current path, 2: done

    def visit(name: str, path: list[str]) -> None:
        state[name] = 1
        path.append(name)
        for target in sorted(graph.get(name, ())):
            if state.get(target) == 1:
                cycles.append([*path[path.index(target) :], target])
            elif target in graph and not state.get(target):
                visit(target, path)
        path.pop()
        state[name] = 2

    for name in graph:
        if not state.get(name):
            visit(name, [])
    assert cycles == [], " ; ".join(" -> ".join(cycle) for cycle in cycles)


def test_the_rules_see_what_they_check() -> None:
    # The checks above pass vacuously if the parser finds nothing: it must see real imports.
    plugin = imports("glue.plugin", typing_only=True)
    assert {"pytest", ".glue.hookspec", ".glue.standby", ".suite.file_names"} <= plugin
    # Imported inside a function (the standby builds the run when it is needed): still seen.
    assert ".glue.session" in imports("glue.standby", typing_only=False)
    assert ".pipeline" in imports("glue.session", typing_only=True)
    # The data at the bottom: records imports no stage of the flow.
    records = {i for i in imports("records", typing_only=True) if i.startswith(".")}
    assert records <= {".stats", ".untrusted"}, records
    assert ".records" in imports("results.suites", typing_only=False)
