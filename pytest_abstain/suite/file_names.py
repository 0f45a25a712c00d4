"""Which files are suite files (abstain_*.yaml, abstain_*.yml): asked of every file pytest
collects, so it imports nothing of the suite stage."""

from __future__ import annotations

import re
from pathlib import Path

SUITE_FILE_PATTERN = re.compile(r"abstain_.*\.ya?ml")


def is_suite_file(path: Path) -> bool:
    return bool(SUITE_FILE_PATTERN.fullmatch(path.name))
