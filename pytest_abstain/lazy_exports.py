"""A package's exported names, each imported from its module on first use (PEP 562).

pytest imports the plugin on every run, most of which hold no honesty question: a package
that imported all it exports would load the grading rules, the JSON Schema validator and
more for nothing. Each package keeps an `if TYPE_CHECKING:` block of the same imports, so
mypy and readers see the names as plain imports."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], object]:
    """The module `__getattr__` of `package`: `where` maps each exported name to the module
    of the package that defines it ("abstention" for `.abstention`)."""
    namespace = importlib.import_module(package).__dict__

    def __getattr__(name: str) -> object:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value  # found once: later lookups never reach __getattr__
        return value

    return __getattr__
