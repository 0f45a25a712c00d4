"""The import rules of the package, read from its source: a pure core, thin pytest glue, and
a flow without circles. A change that breaks one fails here, naming the module."""

from __future__ import annotations

import ast
import functools
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_abstain"
#: The only modules that may import pytest: they wire the pure core into it.
GLUE = {"plugin", "controller", "hookspec"}


def imports(module: Path, *, typing_only: bool) -> set[str]:
    """What `module` imports: package modules by their dotted name under the package, with a
    leading dot (".suite", ".grading.rules"), others by their first dotted part ("pytest").
    Imports under `if TYPE_CHECKING:` count only when `typing_only`."""
    found: set[str] = set()
    tree = ast.parse(module.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for inner in ast.walk(node)}
    known = modules()
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0 and node.module:
                found.add(node.module.split(".")[0])
            elif node.level > 0:
                base = _relative_base(module, node.level, node.module)
                # "from . import hookspec" imports a module, "from .grading import Grade" the
                # (sub)package .grading, and "from .grading import rules" both.
                named = {f"{base}.{alias.name}".lstrip(".") for alias in node.names}
                submodules = named & known.keys()
                found |= {"." + name for name in submodules}
                if base and (node.module or not submodules):
                    found.add("." + base)
    return found


def _relative_base(module: Path, level: int, name: str | None) -> str:
    """The dotted name, under the package, that a relative import of `level` dots starts from
    ("" for the package itself)."""
    parts = list(module.relative_to(PACKAGE).parent.parts)
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, *([name] if name else [])])


@functools.cache
def modules() -> dict[str, Path]:
    """Every module of the package and its subpackages by dotted name under the package
    ("plugin", "grading.rules"); a subpackage's `__init__` by the subpackage's name."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__" and len(parts) > 1:
            parts = parts[:-1]
        found[".".join(parts)] = path
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
    # Subpackages are walked, and their relative imports resolved, up a level too.
    assert {"grading", "grading.rules", "grading.textforms"} <= modules().keys()
    assert ".grading.abstention" in imports(modules()["grading.rules"], typing_only=False)
    assert ".untrusted" in imports(modules()["grading.patterns"], typing_only=False)
    assert ".grading" in imports(results, typing_only=False)
