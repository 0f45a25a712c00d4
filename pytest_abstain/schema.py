"""What the files we write and read declare: the JSON Schemas shipped in schemas/ (suite,
report, baseline), loaded once, and the version of the tool that wrote a file."""

from __future__ import annotations

import json
from functools import cache
from importlib import metadata, resources
from typing import Any


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The published schema `schemas/<name>.schema.json`."""
    path = resources.files("pytest_abstain").joinpath(f"schemas/{name}.schema.json")
    schema: dict[str, Any] = json.loads(path.read_text("utf-8"))
    return schema


def plugin_version() -> str:
    try:
        return metadata.version("pytest-abstain")
    except metadata.PackageNotFoundError:
        return "unknown"
