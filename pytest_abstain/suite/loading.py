"""A suite file, read: its text, its YAML, the schema, then questions and settings, each
problem a SuiteError naming the file, the question and the key."""

from __future__ import annotations

from pathlib import Path

from ..expiry import date_problem
from .building import check_calibration, check_ids, question_from, settings_from
from .conversations import SuiteFiles, variants
from .data import Suite, SuiteError
from .dataset import dataset_questions
from .strict_yaml import YamlRefused, parse_document
from .text_file import Unreadable, read_text
from .validation import CONTROL, check_schema

_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def load_suite(path: Path, label: str | None = None, root: Path | None = None) -> Suite:
    """Read, validate and build the suite in `path` (with its dataset's rows after its
    questions); errors name it as `label`.

    Files the suite names are read only inside `root` (default: the suite's folder).
    """
    source = label or str(path)
    if CONTROL.search(path.name):
        # The name becomes the test id and a report heading; the message shows it escaped.
        raise SuiteError(
            repr(source)[1:-1],
            [f"the file name {path.name!r} contains a control character (a line break, tab "
             "or bidirectional override); rename the file"],
        )  # fmt: skip
    try:
        text = read_text(path, "; split it into several suite files")
    except OSError as exc:
        raise SuiteError(source, [f"cannot read: {exc.strerror or exc}"]) from None
    except Unreadable as exc:
        raise SuiteError(source, [str(exc)]) from None
    try:
        document = parse_document(text)
    except YamlRefused as exc:
        raise SuiteError(source, [str(exc)]) from None
    if document is None:
        raise SuiteError(
            source,
            ["the file is empty (no YAML data); a suite needs a 'questions' list or a 'dataset'"],
        )
    if not isinstance(document, dict):
        kind = _KINDS.get(type(document), f"a {type(document).__name__}")
        raise SuiteError(source, [f"the top level must be a mapping with 'questions', not {kind}"])
    check_schema(source, "suite", document)
    base_dir = path.parent
    settings = settings_from(source, document, base_dir, root=base_dir if root is None else root)
    if "columns" in document and "dataset" not in document:
        raise SuiteError(source, ["columns: maps the columns of a dataset; the suite has none"])
    if "valid_until" in document and (problem := date_problem(document["valid_until"])):
        raise SuiteError(source, [f"valid_until: {problem}"])
    files = SuiteFiles(
        source,
        base_dir,
        base_dir if root is None else root,
        tuple(document.get("allow_secrets", ())),
    )
    entries_given = document.get("questions", ())
    # A with/without-context pair (contexts:) is asked as two questions.
    questions = [
        question_from(
            source,
            entry,
            where=f"questions[{i}]",
            accept_core=bool(document.get("accept_core")),
            language=document.get("language"),
            valid_until=document.get("valid_until"),
            files=files,
            variant=variant,
            context_key=context_key,
        )
        for i, q in enumerate(entries_given)
        for variant, context_key, entry in variants(q)
    ]
    entries = [i for i, q in enumerate(entries_given) for _ in variants(q)]
    check_ids(source, questions, entries)
    if "dataset" in document:
        taken: dict[str, str | int] = {
            q.id: f"questions[{entry}]" for q, entry in zip(questions, entries, strict=True)
        }
        # Row by row into the one list pytest's items will share: no copy of the file.
        questions.extend(
            dataset_questions(source, document, base_dir, base_dir if root is None else root, taken)
        )
    check_calibration(source, settings.judge_calibration, questions, document)
    return Suite(path=path, settings=settings, questions=tuple(questions))
