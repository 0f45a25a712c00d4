"""The import rules of the package, read from its source: a pure core, thin pytest glue, and
a flow without circles. A change that breaks one fails here, naming the module."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "pytest_abstain"
#: The only modules that may import pytest: they wire the pure core into it.
GLUE = {"plugin", "controller", "hookspec"}
#: The folder of the outputs, and the one module in it that its renderers share.
RENDER = "render"
SHARED_WORDING = "render.wording"


def imports(module: Path, *, typing_only: bool) -> set[str]:
    """What `module` imports: package modules by their dotted name inside the package with a
    leading dot (".results", ".render.wording"), others by their first dotted part. Imports
    under `if TYPE_CHECKING:` count only when `typing_only`."""
    found: set[str] = set()
    tree = ast.parse(module.read_text(encoding="utf-8"))
    skipped: set[int] = set()
    if not typing_only:
        for node in ast.walk(tree):
            if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                skipped |= {id(inner) for inner in ast.walk(node)}
    # The package `module` is in, as parts below pytest_abstain: () or ("render",).
    here = module.parent.relative_to(PACKAGE).parts
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            if node.level == 0:
                found.add((node.module or "").split(".")[0])
                continue
            base = here[: len(here) - (node.level - 1)]
            if node.module:
                found.add("." + ".".join([*base, node.module]))
            else:
                found |= {"." + ".".join([*base, alias.name]) for alias in node.names}
    return found


def modules() -> dict[str, Path]:
    """Every module of the package, subpackages too, by its dotted name inside the package; a
    subpackage's __init__ by the subpackage's name."""
    found: dict[str, Path] = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if parts:
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
    # Subpackages are walked, and their relative imports resolved from where they stand.
    markdown = imports(modules()["render.markdown"], typing_only=False)
    assert {".results", ".shown", ".render.wording"} <= markdown
    assert ".render.junit" in imports(modules()["plugin"], typing_only=False)


def test_no_renderer_imports_another() -> None:
    # Each output reads the results (and later the verdict) itself; what several outputs word
    # alike lives in the shared module, so changing one output never changes another.
    renderers = {name for name in modules() if name.startswith(RENDER + ".")}
    renderers.discard(SHARED_WORDING)
    assert {"render.terminal", "render.json_report", "render.junit"} <= renderers
    offenders = {
        f"{name} -> {target[1:]}"
        for name in sorted(renderers | {SHARED_WORDING, RENDER})
        for target in imports(modules()[name], typing_only=True)
        if target[1:] in renderers
    }
    assert offenders == set(), f"renderers importing another renderer: {sorted(offenders)}"
