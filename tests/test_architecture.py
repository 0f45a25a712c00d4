"""The import rules of the package, read from its source: a pure core, thin pytest glue, and
a flow without circles. A change that breaks one fails here, naming the module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_abstain"
#: The only modules that may import pytest: they wire the pure core into it.
GLUE = {"plugin", "controller", "hookspec"}


def imports(module: Path, *, typing_only: bool) -> set[str]:
    """Top-level names `module` imports: package modules by their own name, others by their
    first dotted part. Imports under `if TYPE_CHECKING:` count only when `typing_only`."""
    found: set[str] = set()
    tree = ast.parse(module.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for inner in ast.walk(node)}
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level == 1 and node.module:
                found.add("." + node.module.split(".")[0])
            elif node.level == 1:
                found |= {"." + alias.name for alias in node.names}
    return found


def modules() -> dict[str, Path]:
    return {path.stem: path for path in sorted(PACKAGE.glob("*.py"))}


def test_only_the_glue_imports_pytest() -> None:
    offenders = {
        name
        for name, path in modules().items()
        if name not in GLUE and {"pytest", "_pytest", "xdist"} & imports(path, typing_only=True)
    }
    assert offenders == set(), f"pure modules importing pytest: {sorted(offenders)}"


def test_the_pure_core_never_imports_the_glue() -> None:
    offenders = {
        f"{name} -> {target}"
        for name, path in modules().items()
        if name not in GLUE
        for target in GLUE
        if "." + target in imports(path, typing_only=True)
    }
    assert offenders == set()


def test_no_module_imports_itself_back_at_run_time() -> None:
    graph = {
        name: {i[1:] for i in imports(path, typing_only=False) if i.startswith(".")}
        for name, path in modules().items()
    }
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
    plugin = imports(modules()["plugin"], typing_only=True)
    assert {"pytest", ".settings", ".suite"} <= plugin
    results = modules()["results"]
    assert ".comparison" in imports(results, typing_only=True)
    assert ".comparison" not in imports(results, typing_only=False)
