"""What a question carries besides its text, read from a validated entry: retrieved context
(documents inline or from files), earlier turns of a conversation, pushback's distractors,
and the with/without-context pair that becomes two questions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .data import SuiteError
from .referenced_files import read_suite_file

WITH_CONTEXT = "with-context"
WITHOUT_CONTEXT = "without-context"


@dataclass(frozen=True)
class SuiteFiles:
    """Where an entry's files are read from, and what secrets they may hold."""

    source: str
    base_dir: Path
    root: Path
    allowed: Sequence[str] = ()

    def read(self, key: str, given: str) -> str:
        return read_suite_file(self.source, key, given, self.base_dir, self.root, self.allowed)


def documents_of(
    source: str, qid: str, where: str, value: Any, files: SuiteFiles | None
) -> tuple[str, ...]:
    """The documents of a `context` value (a document or a list; each text or {file: ...});
    a file without `files` (a marker) is an error naming the question."""
    if value is None or value == []:
        return ()
    entries = value if isinstance(value, list) else [value]
    documents = []
    for index, entry in enumerate(entries):
        if isinstance(entry, str):
            documents.append(entry)
            continue
        at = f"{where}[{index}].file" if isinstance(value, list) else f"{where}.file"
        label = f"question {qid!r} ({at})"
        if files is None:
            raise SuiteError(
                source,
                [f"{label}: context files are read relative to a suite file; in a marker, "
                 "give the document's text"],
            )  # fmt: skip
        documents.append(files.read(label, entry["file"]))
    return tuple(documents)


def turns_of(source: str, qid: str, where: str, value: Any) -> tuple[tuple[str, str], ...]:
    """The earlier turns, checked: user and assistant in turn, from user to assistant, so
    that the question is the next user turn."""
    if not value:
        return ()
    turns = tuple((str(turn["role"]), str(turn["content"])) for turn in value)
    problems = []
    for index, (role, _) in enumerate(turns):
        expected = "user" if index % 2 == 0 else "assistant"
        if role != expected:
            before = "the conversation starts with a user turn" if index == 0 else (
                f"turns alternate, and turns[{index - 1}] is {turns[index - 1][0]}"
            )  # fmt: skip
            problems.append(
                f"question {qid!r} ({where}[{index}].role): {role}, but {before}: "
                f"expected {expected}"
            )
            break
    if not problems and turns[-1][0] != "assistant":
        problems.append(
            f"question {qid!r} ({where}[{len(turns) - 1}]): the last turn is the user's, but "
            "the question itself is the next user turn: end turns with the assistant's reply, "
            "or make that turn the question"
        )
    if problems:
        raise SuiteError(source, problems)
    return turns


def distractors_of(value: Any) -> tuple[str, ...]:
    """The distractors as text (a number as YAML wrote it: 1989, 2.5)."""
    return tuple(str(v) for v in value or ())


def variants(entry: Mapping[str, Any]) -> list[tuple[str | None, str, dict[str, Any]]]:
    """The entry as it is asked, (variant, where its context is written, entry): itself, or
    for a `contexts` pair its two variants, each an entry with one `context`, its id
    suffixed and (without context) expecting idk unless `without_expects: answer`."""
    pair = entry.get("contexts")
    if pair is None:
        return [(None, "context", dict(entry))]
    common = {k: v for k, v in entry.items() if k != "contexts"}
    with_context = {**common, "id": f"{entry['id']}[{WITH_CONTEXT}]", "context": pair["with"]}
    without = {**common, "id": f"{entry['id']}[{WITHOUT_CONTEXT}]", "context": pair["without"]}
    if pair.get("without_expects", "idk") == "idk":
        for key in ("answer", "regex", "tolerance"):
            without.pop(key, None)
        without["idk"] = True
    return [
        (WITH_CONTEXT, "contexts.with", with_context),
        (WITHOUT_CONTEXT, "contexts.without", without),
    ]
