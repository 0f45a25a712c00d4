"""A suite's questions read from a dataset file (`dataset: data.csv` or `.jsonl`), one row
at a time: each row becomes a question entry through the suite's column mapping, is held to
the same schema and checks as a question written in YAML, and is dropped once built.

Only the Question objects are kept (pytest makes one item of each); the file's text, its
parsed rows and their dicts never are, so a 100,000-row file costs its questions, not a
second copy of itself. Every problem names the row: `dataset data.csv, row 17 (id 'q17'):
answer: ...`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, BinaryIO

from ..untrusted import encodable
from .building import question_from
from .data import RESERVED_IDS, Question, SuiteError
from .referenced_files import secret_problem, secret_values, suite_file_path
from .validation import entry_problems

#: The question keys a row may carry, each read from the column of its own name unless the
#: suite's `columns:` maps it to another.
ROW_KEYS = (
    "id", "question", "answer", "idk", "tags", "regex", "tolerance", "language",
    "accept_core", "critical", "valid_until",
)  # fmt: skip
#: Keys that hold several values: a CSV cell separates them with CELL_SEPARATOR, and the
#: mapping may name several columns for them.
LIST_KEYS = frozenset({"answer", "tags"})
BOOLEAN_KEYS = frozenset({"idk", "accept_core", "critical"})
CELL_SEPARATOR = "|"
_TRUE = frozenset({"true", "yes", "1"})
_FALSE = frozenset({"false", "no", "0"})

#: A longer line is no question: a binary file, or a dump named .csv.
MAX_LINE_BYTES = 1024 * 1024
#: Each question becomes a pytest item, a few kilobytes each: a million is a long run already.
MAX_DATASET_ROWS = 1_000_000
#: Characters of question text kept in a derived id, before its hash.
_SLUG_CHARS = 40
_FORMATS = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl"}


class _FileProblem(Exception):
    """The file cannot be read on (encoding, a line too long, broken CSV): no row after it."""


def dataset_questions(
    source: str,
    suite: Mapping[str, Any],
    base_dir: Path,
    root: Path,
    taken: dict[str, str | int],
) -> Iterator[Question]:
    """The questions of the suite's dataset, in file order. `taken` maps the ids already in
    the suite to where they are (a place, or a row number of the dataset), and receives the
    dataset's; a duplicate is a problem.

    Raises SuiteError with every row's problem at the end (a file-level problem at once).
    """
    given = str(suite["dataset"])
    path = suite_file_path(source, "dataset", given, base_dir, root)
    kind = _FORMATS.get(path.suffix.lower())
    if kind is None:
        raise SuiteError(
            source,
            [f"dataset: {given!r} is neither .csv nor .jsonl; the extension says how to read it"],
        )
    mapping = _mapping(suite.get("columns", {}))
    defaults = {
        "accept_core": bool(suite.get("accept_core")),
        "language": suite.get("language"),
        "valid_until": suite.get("valid_until"),
    }
    secrets = secret_values(suite.get("allow_secrets", ()))
    problems: list[str] = []
    name = path.name
    number = 0
    try:
        with path.open("rb") as handle:
            lines = _text_lines(handle)
            rows = _csv_rows(lines, mapping) if kind == "csv" else _jsonl_rows(lines, mapping)
            for number, line, values, raw in rows:
                if number > MAX_DATASET_ROWS:
                    raise _FileProblem(
                        f"more than {MAX_DATASET_ROWS:,} rows; split it across several suites"
                    )
                place = f"dataset {name}, row {number}"
                if found := [n for n, secret in secrets.items() if secret in raw]:
                    problem = secret_problem("dataset", given, found)
                    raise SuiteError(source, [f"{place} (line {line}): {problem}"])
                question = _question(source, values, place, line, defaults, problems)
                if question is None:
                    continue
                if question.id in taken or question.id in RESERVED_IDS:
                    other = taken.get(question.id)
                    problems.append(_duplicate(place, line, question.id, other, name))
                    continue
                # The row number, not its place as text: 100,000 strings would cost megabytes.
                taken[question.id] = number
                yield question
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise SuiteError(source, [f"dataset: cannot read {str(path)!r}: {reason}"]) from None
    except _FileProblem as exc:
        raise SuiteError(source, [*problems, f"dataset {name}: {exc}"]) from None
    if problems:
        raise SuiteError(source, problems)
    if number == 0:
        raise SuiteError(source, [f"dataset {name}: no rows, only a header (or nothing)"])


def derived_id(question: str) -> str:
    """An id for a row without one, from its question alone: the same text gets the same id
    in every run and at any position, so baselines follow rows that move. Readable words
    first, for -k and reports; the hash keeps different questions apart."""
    text = " ".join(question.split())
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]
    slug = ""
    for word in re.findall(r"[a-z0-9]+", text.lower()):
        if len(slug) + len(word) + 1 > _SLUG_CHARS:
            break
        slug = f"{slug}-{word}" if slug else word
    return f"{slug}-{digest}" if slug else f"q-{digest}"


def _mapping(columns: Mapping[str, Any]) -> dict[str, tuple[str, ...]]:
    """Each row key and the columns it is read from (explicitly mapped, else its own name)."""
    mapping: dict[str, tuple[str, ...]] = {}
    for key in ROW_KEYS:
        given = columns.get(key, key)
        mapping[key] = tuple(given) if isinstance(given, list) else (given,)
    return mapping


def _question(
    source: str,
    values: dict[str, Any],
    place: str,
    line: int,
    defaults: Mapping[str, Any],
    problems: list[str],
) -> Question | None:
    """The row's question, or None with its problems added to `problems`."""
    if isinstance(values.get("question"), str) and "id" not in values:
        values["id"] = derived_id(values["question"])
    qid = values.get("id")
    where = f"{place} ({_details(line, qid)})"
    found = entry_problems(values)
    if found:
        problems.extend(f"{where}: {problem}" for problem in found)
        return None
    try:
        return question_from(source, values, where="row", **defaults)
    except SuiteError as exc:
        problems.extend(f"{where}: {_without_place(p)}" for p in exc.problems)
        return None


#: How building.py places a problem of a question ("question 'q1' (row.regex): ..."): a
#: row's is placed by its row instead.
_QUESTION_PLACE = re.compile(r"^question '[^']*' \(row\.([a-z_]+)\): ")


def _without_place(problem: str) -> str:
    return _QUESTION_PLACE.sub(r"\1: ", problem)


def _details(line: int, qid: object) -> str:
    """ "id 'q17', line 18": the row's id first (what a team searches for), then its line."""
    return f"id {qid!r}, line {line}" if isinstance(qid, str) else f"line {line}"


def _duplicate(place: str, line: int, qid: str, other: str | int | None, name: str) -> str:
    where = f"{place} ({_details(line, qid)})"
    if other is None:
        return f"{where}: the question id {qid!r} is reserved for the suite's gate"
    also = f"row {other} of {name}" if isinstance(other, int) else other
    return f"{where}: duplicate question id {qid!r}, also at {also}"


# -- reading the file ------------------------------------------------------------------


def _text_lines(handle: BinaryIO) -> Iterator[str]:
    """The file's lines as text, one at a time: UTF-8 (a byte-order mark is dropped), none
    longer than MAX_LINE_BYTES."""
    number = 0
    while True:
        raw = handle.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return
        number += 1
        if len(raw) > MAX_LINE_BYTES:
            raise _FileProblem(f"line {number} is longer than {MAX_LINE_BYTES // 1024} KiB")
        if number == 1:
            if raw.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
                raise _FileProblem(
                    "not UTF-8 text: it starts with a UTF-16 byte-order mark; save it as UTF-8"
                )
            raw = raw.removeprefix(codecs.BOM_UTF8)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _FileProblem(
                f"line {number}: not UTF-8 text: byte 0x{raw[exc.start]:02x} ({exc.reason}); "
                "save the file as UTF-8"
            ) from None
        yield encodable(text)


#: (row number, line it starts on or 0, the row's question entry, its raw text)
_Row = tuple[int, int, dict[str, Any], str]


def _csv_rows(lines: Iterator[str], mapping: Mapping[str, tuple[str, ...]]) -> Iterator[_Row]:
    """Rows of a CSV file with a header line, as question entries; blank lines are skipped."""
    reader = csv.reader(lines, strict=True)
    try:
        header = next((row for row in reader if row), None)
        if header is None:
            raise _FileProblem("the file is empty: a CSV dataset starts with a header line")
        columns = _header(header, mapping)
        number = 0
        line = reader.line_num
        for cells in reader:
            start, line = line + 1, reader.line_num
            if not cells:
                continue
            number += 1
            if len(cells) != len(header):
                where = f"row {number} (line {start})"
                raise _FileProblem(
                    f"{where} has {len(cells)} cells, the header {len(header)}: a separator "
                    "inside a cell must be quoted"
                )
            values = {}
            for key, indices in columns.items():
                value = _cell_value(key, [cells[i] for i in indices])
                if value is not None:
                    values[key] = value
            yield number, start, values, ",".join(cells)
    except csv.Error as exc:
        raise _FileProblem(f"line {reader.line_num}: not valid CSV: {exc}") from None


def _header(header: list[str], mapping: Mapping[str, tuple[str, ...]]) -> dict[str, list[int]]:
    """Each row key and the indices of its columns; a mapped column must be in the header."""
    names = [cell.strip() for cell in header]
    for name in names:
        if names.count(name) > 1:
            raise _FileProblem(f"the header names the column {name!r} twice")
    columns: dict[str, list[int]] = {}
    missing = []
    for key, wanted in mapping.items():
        indices = [names.index(column) for column in wanted if column in names]
        explicit = wanted != (key,)
        if explicit and len(indices) < len(wanted):
            absent = [column for column in wanted if column not in names]
            missing.append(f"columns.{key}: no column {', '.join(map(repr, absent))}")
        elif indices:
            columns[key] = indices
    if missing:
        raise _FileProblem(f"{'; '.join(missing)} in the header (it has {', '.join(names)})")
    if "question" not in columns:
        raise _FileProblem(
            f"no 'question' column (the header has {', '.join(names)}); name one question, or "
            "map yours: columns: {question: <its name>}"
        )
    return columns


def _cell_value(key: str, cells: Iterable[str]) -> Any:
    """A row key's value from its CSV cells; None when they are all empty."""
    texts = [cell.strip() for cell in cells if cell.strip()]
    if not texts:
        return None
    if key in LIST_KEYS:
        parts = [p.strip() for text in texts for p in text.split(CELL_SEPARATOR) if p.strip()]
        return parts[0] if key == "answer" and len(parts) == 1 else parts
    text = texts[0]
    if key in BOOLEAN_KEYS:
        lowered = text.lower()
        # Anything else stays text, which the schema refuses with the key's own message.
        return True if lowered in _TRUE else False if lowered in _FALSE else text
    if key == "tolerance":
        try:
            return float(text)
        except ValueError:
            return text  # "2%" or "significant"
    return text


def _jsonl_rows(lines: Iterator[str], mapping: Mapping[str, tuple[str, ...]]) -> Iterator[_Row]:
    """Rows of a JSON Lines file, one object a line, as question entries."""
    number = 0
    for line, text in enumerate(lines, start=1):
        if not text.strip():
            continue
        number += 1
        try:
            data = json.loads(text, object_pairs_hook=_unique_keys)
        except (ValueError, RecursionError) as exc:
            raise _FileProblem(f"row {number} (line {line}): not a JSON object: {exc}") from None
        if not isinstance(data, dict):
            raise _FileProblem(f"row {number} (line {line}): not a JSON object")
        values = {}
        for key, wanted in mapping.items():
            found = [data[column] for column in wanted if data.get(column) is not None]
            if not found:
                continue
            if key in LIST_KEYS and len(wanted) > 1:
                values[key] = [
                    v for value in found for v in (value if isinstance(value, list) else [value])
                ]
            else:
                values[key] = found[0]
        yield number, line, values, text


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a key given twice (json keeps the last silently)."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise ValueError(f"the key {key!r} appears twice")
        data[key] = value
    return data
