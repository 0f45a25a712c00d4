"""Writing the files a run leaves behind (reports, baseline, cache entries) atomically.

Readers (a teammate, a CI artifact server, another xdist worker) see the old file or the new
one, never half of it: the text goes to a temporary file beside the target, then is renamed
over it. A writer killed between the two steps leaves only that temporary file, named so that
`is_temporary` can find it and a later run can clear it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
from pathlib import Path
from typing import Any

#: mkstemp's prefix and suffix around its random part: ".<target name>.<random>.tmp".
_TEMPORARY = re.compile(r"\.(?P<target>.+)\.[A-Za-z0-9_]+\.tmp")


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so readers see the old file or the new one, never half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # mkstemp makes an owner-only file; a report or baseline is read by others (CI artifact
    # servers, teammates), so it keeps the mode of the file it replaces, else rw-r--r--.
    mode = 0o644
    with contextlib.suppress(OSError):
        existing = path.stat()
        # Only a regular file's mode: a link to /dev/null would make the report world-writable.
        if stat.S_ISREG(existing.st_mode):
            mode = stat.S_IMODE(existing.st_mode)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, mode)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def temporary_target(name: str) -> str | None:
    """The name of the file a `write_atomic` temporary file called `name` was for, or None."""
    match = _TEMPORARY.fullmatch(name)
    return match.group("target") if match else None


def json_text(data: Any) -> str:
    """The text of a JSON file we write: indented, UTF-8 as is, ending in a newline."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def unwritable(path: Path) -> str | None:
    """Why `path` could not be written, judged from its nearest existing directory."""
    if path.is_dir():
        return "it is a directory"
    folder = path.parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return f"{folder} is not a directory"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"{folder} is not writable"
    return None
