"""The import rules of the package, read from its source: a pure core, thin pytest glue, and
a flow without circles. A change that breaks one fails here, naming the module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_abstain"
#: The only modules that may import pytest: they wire the pure core into it.
GLUE = {"plugin", "controller", "hookspec"}


def module_name(path: Path) -> str:
    """A module's dotted name inside the package: 'plan', 'suite.loading'; a subpackage's
    __init__ is the subpackage ('suite'), the package's own is '__init__'."""
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    """Every module of the package, subpackages included, by its dotted name."""
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports(module: Path, *, typing_only: bool) -> set[str]:
    """What `module` imports: package modules as '.' and their dotted name ('.grading',
    '.suite.data'), others by their first dotted part ('pytest'). Imports under
    `if TYPE_CHECKING:` count only when `typing_only`."""
    found: set[str] = set()
    tree = ast.parse(module.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for inner in ast.walk(node)}
    known = set(modules())
    parts = list(module.relative_to(PACKAGE).with_suffix("").parts)
    # The package a relative import starts from: the folder the module's file is in.
    package = parts[:-1]
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - (node.level - 1)]
            target = [*base, *(node.module.split(".") if node.module else [])]
            for alias in node.names:
                # `from . import data` imports a module; `from .data import Suite` a name in one.
                submodule = ".".join([*target, alias.name])
                found.add(
                    "." + (submodule if submodule in known else ".".join(target) or "__init__")
                )
    return found


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
    # Subpackages are walked, and their relative imports resolved both up and across.
    assert {".suite.data", ".grading"} <= imports(modules()["suite.building"], typing_only=False)
    assert ".suite.loading" in imports(modules()["suite"], typing_only=False)
