"""Suite files (YAML + JSON Schema) and marker declarations -> Question objects.

Every problem becomes a SuiteError naming the file, the question and the key, so the
plugin can show one clear line instead of a traceback.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .grading import Expectation, Tolerance
from .prompts import template_problem
from .schema import load_schema

#: The synthetic test id of a suite's gate; no question may take it.
GATE_NAME = "abstain-gate"
SUITE_FILE_PATTERN = re.compile(r"^abstain_.*\.ya?ml$")


class SuiteError(Exception):
    """A suite (file or marker) that cannot be used, with where and why."""

    def __init__(self, source: str, problems: Sequence[str]) -> None:
        self.source = source
        self.problems = list(problems)
        super().__init__(self.render())

    def render(self) -> str:
        if len(self.problems) == 1:
            return f"{self.source}: {self.problems[0]}"
        lines = [f"{self.source}: {len(self.problems)} problems"]
        lines.extend(f"  - {p}" for p in self.problems)
        return "\n".join(lines)


@dataclass(frozen=True)
class Gates:
    """Floors a suite must meet; None means not gated."""

    min_score: float | None = None
    max_error_rate: float | None = None
    #: Baseline comparison: the smallest drop that counts, and the test's level.
    tolerance: float | None = None
    significance: float | None = None


@dataclass(frozen=True)
class Question:
    """One question as declared, with what counts as a right reply."""

    id: str
    text: str
    expectation: Expectation
    tags: tuple[str, ...] = ()
    #: What the suite declared, for reports: aliases/numbers, or the regex.
    expected: tuple[str | float, ...] = ()
    regex: str | None = None


@dataclass(frozen=True)
class SuiteSettings:
    """Suite-level keys; None means 'not set here, use the run's setting'."""

    name: str | None = None
    threshold: float | None = None
    samples: int | None = None
    system_prompt: str | None = None
    #: A template string; False turns the instruction off; None = not set.
    prompt_template: str | bool | None = None
    idk_phrases: tuple[str, ...] = ()
    gates: Gates = field(default_factory=Gates)


@dataclass(frozen=True)
class Suite:
    path: Path
    settings: SuiteSettings
    questions: tuple[Question, ...]


def suite_schema() -> dict[str, Any]:
    """The published suite JSON Schema (draft 2020-12)."""
    return load_schema("suite")


@cache
def _validator(part: str) -> jsonschema.Draft202012Validator:
    schema = suite_schema()
    if part == "suite":
        return jsonschema.Draft202012Validator(schema)
    defs = {"$defs": schema["$defs"]}
    if part == "question":
        return jsonschema.Draft202012Validator({"$ref": "#/$defs/question", **defs})
    # Suite-level keys given in Python (the abstain_suite marker): everything but questions.
    props = {k: v for k, v in schema["properties"].items() if k != "questions"}
    return jsonschema.Draft202012Validator(
        {"type": "object", "additionalProperties": False, "properties": props, **defs}
    )


# The C parser, where PyYAML was built with libyaml, reads big suites several times faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loading that refuses duplicate keys, which plain YAML silently overwrites."""


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)

_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int | str:
    # YAML 1.1 reads 9:00 as 540 (base 60) and 0755 as 493 (octal): answers are text there.
    text = loader.construct_scalar(node)
    return int(text) if _DECIMAL_INT.fullmatch(text) else text


def _construct_float(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> float | str:
    text = loader.construct_scalar(node)
    return text if ":" in text else float(loader.construct_yaml_float(node))


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)


def is_suite_file(path: Path) -> bool:
    return bool(SUITE_FILE_PATTERN.match(path.name))


def load_suite(path: Path, label: str | None = None) -> Suite:
    """Read, validate and build the suite in `path`; errors name it as `label`."""
    source = label or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise SuiteError(source, [f"not UTF-8 text ({exc.reason} at byte {exc.start})"]) from None
    except OSError as exc:
        raise SuiteError(source, [f"cannot read: {exc.strerror or exc}"]) from None
    try:
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SuiteError(source, [f"YAML syntax error: {where}{problem}"]) from None
    except yaml.YAMLError as exc:
        raise SuiteError(source, [f"YAML error: {exc}"]) from None
    if document is None:
        raise SuiteError(source, ["the file is empty; a suite needs a 'questions' list"])
    if not isinstance(document, dict):
        kind = type(document).__name__
        raise SuiteError(
            source, [f"the top level must be a mapping with 'questions', not a {kind}"]
        )
    _check_schema(source, "suite", document)
    settings = _settings_from(source, document, base_dir=path.parent)
    questions = [
        _question_from(source, q, where=f"questions[{i}]")
        for i, q in enumerate(document["questions"])
    ]
    _check_ids(source, questions)
    return Suite(path=path, settings=settings, questions=tuple(questions))


def question_from_marker(source: str, default_id: str, kwargs: Mapping[str, Any]) -> Question:
    """A Question from `@pytest.mark.abstain(...)` keywords, validated like a suite entry."""
    data = dict(kwargs)
    data.setdefault("id", default_id)
    _check_schema(source, "question", data)
    return _question_from(source, data, where="marker")


def settings_from_marker(source: str, kwargs: Mapping[str, Any], base_dir: Path) -> SuiteSettings:
    """Suite settings from `pytest.mark.abstain_suite(...)` keywords."""
    data = dict(kwargs)
    _check_schema(source, "settings", data)
    return _settings_from(source, data, base_dir=base_dir)


_ROOT_LABELS = {
    "suite": "top level",
    "question": "@pytest.mark.abstain",
    "settings": "@pytest.mark.abstain_suite",
}


def _check_schema(source: str, part: str, document: Any) -> None:
    errors = sorted(_validator(part).iter_errors(document), key=lambda e: list(map(str, e.path)))
    if errors:
        root = _ROOT_LABELS[part]
        raise SuiteError(source, [_describe(document, e, root) for e in errors[:10]])


def _where(document: Any, path: Iterable[Any], root: str) -> str:
    """'question 'x' (questions[3].answer)' or 'key threshold' for an error path."""
    parts = list(path)
    dotted = ""
    for part in parts:
        dotted += f"[{part}]" if isinstance(part, int) else (f".{part}" if dotted else str(part))
    if len(parts) >= 2 and parts[0] == "questions" and isinstance(parts[1], int):
        entry = document["questions"][parts[1]]
        qid = entry.get("id") if isinstance(entry, dict) else None
        label = f"question {qid!r}" if isinstance(qid, str) else f"question #{parts[1] + 1}"
        return f"{label} ({dotted})"
    return dotted or root


def _describe(document: Any, error: jsonschema.ValidationError, root: str) -> str:
    where = _where(document, error.absolute_path, root)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        known = ", ".join(sorted(allowed))
        return f"{where}: unknown key {', '.join(map(repr, unknown))} (allowed: {known})"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where}: missing required key {missing!r}"
    message = schema.get("x-message") or error.message
    if isinstance(error.instance, bool) and error.validator in ("type", "oneOf"):
        message += " (YAML reads yes/no/true/false/on/off as booleans: quote the value)"
    return f"{where}: {message}"


def _settings_from(source: str, data: Mapping[str, Any], base_dir: Path) -> SuiteSettings:
    system_prompt = data.get("system_prompt")
    if "system_prompt_file" in data:
        prompt_path = base_dir / data["system_prompt_file"]
        try:
            system_prompt = prompt_path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise SuiteError(
                source, [f"system_prompt_file: cannot read {str(prompt_path)!r}: {reason}"]
            ) from None
    template = data.get("prompt_template")
    if isinstance(template, str) and (problem := template_problem(template)):
        raise SuiteError(source, [f"prompt_template: {problem}"])
    gates = data.get("gates", {})
    return SuiteSettings(
        name=data.get("name"),
        threshold=data.get("threshold"),
        samples=data.get("samples"),
        system_prompt=system_prompt,
        prompt_template=template,
        idk_phrases=tuple(data.get("idk_phrases", ())),
        gates=Gates(**gates),
    )


def _question_from(source: str, data: Mapping[str, Any], where: str) -> Question:
    qid = data["id"]
    raw = data.get("answer", [])
    answers: tuple[str | float, ...] = tuple(raw) if isinstance(raw, list) else (raw,)
    pattern: re.Pattern[str] | None = None
    if "regex" in data:
        try:
            pattern = re.compile(data["regex"], re.IGNORECASE)
        except re.error as exc:
            raise SuiteError(
                source, [f"question {qid!r} ({where}.regex): invalid regex: {exc}"]
            ) from None
    return Question(
        id=qid,
        text=data["question"],
        expectation=Expectation(
            idk=bool(data.get("idk", False)),
            answers=answers,
            regex=pattern,
            tolerance=_tolerance(data.get("tolerance", 0)),
        ),
        tags=tuple(data.get("tags", ())),
        expected=answers,
        regex=data.get("regex"),
    )


def _tolerance(value: float | str) -> Tolerance:
    if isinstance(value, str):
        return Tolerance(relative=float(value.rstrip("%")) / 100.0)
    return Tolerance(absolute=float(value))


def _check_ids(source: str, questions: Sequence[Question]) -> None:
    seen: dict[str, int] = {}
    problems = []
    for index, question in enumerate(questions):
        if question.id == GATE_NAME:
            problems.append(f"question id {GATE_NAME!r} (questions[{index}]) is reserved")
        if question.id in seen:
            problems.append(
                f"duplicate question id {question.id!r}: questions[{seen[question.id]}] "
                f"and questions[{index}]"
            )
        seen.setdefault(question.id, index)
    if problems:
        raise SuiteError(source, problems)
