"""The test mix: how many test functions need pytester or a subprocess.

A top-level ``test_*`` function in ``tests/test_*.py`` counts as heavy when it takes the
``pytester`` or ``testdir`` fixture, or its body mentions ``subprocess`` or ``runpytest``.
Heavy tests prove the wiring but are slow; the pure pipeline, verdict and renderers should be
held by direct tests instead. Run from the repository root::

    python benchmarks/test_mix.py

It prints "heavy/total = share", then the heavy count per file, most first.
"""

from __future__ import annotations

import ast
import sys
from collections import Counter
from pathlib import Path

HEAVY_FIXTURES = frozenset({"pytester", "testdir"})
HEAVY_WORDS = ("subprocess", "runpytest")


def is_heavy(node: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    """Whether a test function needs pytester or a subprocess."""
    arguments = {argument.arg for argument in node.args.args}
    source = ast.unparse(node)
    return bool(arguments & HEAVY_FIXTURES) or any(word in source for word in HEAVY_WORDS)


def count(tests: Path) -> tuple[int, Counter[str]]:
    """The number of top-level test functions under `tests`, and the heavy ones per file."""
    total = 0
    heavy: Counter[str] = Counter()
    for path in sorted(tests.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith(
                "test_"
            ):
                total += 1
                if is_heavy(node):
                    heavy[path.name] += 1
    return total, heavy


def main(argv: list[str] | None = None) -> int:
    """Print the share of heavy tests in the folder named by the first argument ("tests")."""
    args = sys.argv[1:] if argv is None else argv
    tests = Path(args[0]) if args else Path("tests")
    total, heavy = count(tests)
    share = sum(heavy.values()) / total if total else 0.0
    print(f"{sum(heavy.values())}/{total} = {share:.1%}")
    for name, n in sorted(heavy.items(), key=lambda item: -item[1]):
        print(f"  {name}: {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
