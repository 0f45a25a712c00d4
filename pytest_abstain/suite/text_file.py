"""The text of a file a suite is made of (the suite itself, or a file it names): read within
a size limit, and only when it is UTF-8."""

from __future__ import annotations

import os
from pathlib import Path

#: About 100,000 short questions (20,000 load in about 4 s). A bigger file is a mistake
#: (a log or a dump named abstain_*.yaml) or should be split across suites.
MAX_SUITE_BYTES = 10 * 1024 * 1024


class Unreadable(Exception):
    """A file whose bytes cannot be a suite's text: too big, or not UTF-8."""


def read_text(path: Path, advice: str = "") -> str:
    """The file's UTF-8 text; OSError, or Unreadable saying why the bytes are not usable."""
    with path.open("rb") as handle:
        # One byte past the limit is enough to know: a huge file (or /dev/zero) is never read
        # whole. Asked for no more than the file holds: read(n) sets n bytes aside at once,
        # and 10 MiB for every small suite was most of loading's peak memory.
        size = os.fstat(handle.fileno()).st_size
        wanted = MAX_SUITE_BYTES + 1 if size == 0 else min(size + 1, MAX_SUITE_BYTES + 1)
        data = handle.read(wanted)
        if len(data) == wanted <= MAX_SUITE_BYTES:  # it grew since: read on to the limit
            data += handle.read(MAX_SUITE_BYTES + 1 - len(data))
    if len(data) > MAX_SUITE_BYTES:
        raise Unreadable(
            f"the file is larger than the {MAX_SUITE_BYTES // 2**20} MiB limit{advice}"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise Unreadable(
            "not UTF-8 text: it starts with a UTF-16 byte-order mark; save it as UTF-8"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise Unreadable(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} ({exc.reason}); "
            "save the file as UTF-8"
        ) from None
