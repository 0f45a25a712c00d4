"""Suite files (YAML + JSON Schema) and marker declarations -> Question objects.

Every problem becomes a SuiteError naming the file, the question and the key, so the
plugin can show one clear line instead of a traceback.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Collection, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from .grading import Expectation, Tolerance, detect, languages, regex_problem
from .prompts import template_problem
from .schema import load_schema
from .scoring import ErrorBudget
from .untrusted import MIN_SECRET_CHARS, encodable

#: The synthetic test id of a suite's gate; no question may take it.
GATE_NAME = "abstain-gate"
#: The test case of a threshold sweep's calibration audit, when it is gated.
CALIBRATION_GATE_NAME = "abstain-calibration"
RESERVED_IDS = (GATE_NAME, CALIBRATION_GATE_NAME)
SUITE_FILE_PATTERN = re.compile(r"abstain_.*\.ya?ml")

# Limits on what a suite file may make the loader do. Each is far above what a real suite
# needs and keeps the worst file to about as much work as the largest legal one.
#: About 100,000 short questions (20,000 load in about 4 s). A bigger file is a mistake
#: (a log or a dump named abstain_*.yaml) or should be split across suites.
MAX_SUITE_BYTES = 10 * 1024 * 1024
#: YAML nodes after aliases are expanded: a 10 MiB suite has about a million, so a
#: "billion laughs" file of anchors and aliases cannot cost more than a big real one.
MAX_SUITE_NODES = 2_000_000
#: Characters of text (keys and values) after aliases are expanded. Without aliases a suite
#: holds at most MAX_SUITE_BYTES of them (each takes a byte or more in the file), so four
#: times that leaves room for text shared by anchors while a file of aliases costs at most
#: what four of the largest real suites do: every question's text is copied into its prompt,
#: so one 2 MB string aliased 4,000 times would need 8 GB.
MAX_SUITE_CHARS = 4 * MAX_SUITE_BYTES
#: A suite nests five deep (top, questions, question, answer list, answer). libyaml's
#: composer recurses in C: some 100,000 nested brackets crash the interpreter outright.
MAX_SUITE_DEPTH = 32


_SHOWN_PROBLEMS = 10

#: What no name that becomes a test id or a heading may hold: the schema's rule for names
#: ($defs/line), applied to the file name, which the schema never sees.
_CONTROL = re.compile(load_schema("suite")["$defs"]["line"]["not"]["pattern"])


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
        lines.extend(f"  - {p}" for p in self.problems[:_SHOWN_PROBLEMS])
        if len(self.problems) > _SHOWN_PROBLEMS:
            # 20,000 duplicated ids are one mistake, not 20,000 lines to scroll through.
            lines.append(f"  - ... and {len(self.problems) - _SHOWN_PROBLEMS} more")
        return "\n".join(lines)


@dataclass(frozen=True)
class Gates:
    """Floors a suite must meet; None means not gated."""

    min_score: float | None = None
    max_error_rate: float | None = None
    #: Baseline comparison: the smallest drop that counts, and the test's level.
    tolerance: float | None = None
    significance: float | None = None
    #: The error budget as written: a count (3), a percentage ("5%") or a fraction (0.05).
    max_errors: int | float | str | None = None
    #: A threshold sweep fails when its calibration audit finds a problem.
    calibration: bool | None = None
    #: How many replies the rules may leave undecided, written like max_errors.
    max_undecided: int | float | str | None = None


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
    #: In a judge calibration suite: the canned reply, and the human verdict on it.
    canned_reply: str | None = None
    human_verdict: str | None = None


@dataclass(frozen=True)
class SuiteSettings:
    """Suite-level keys; None means 'not set here, use the run's setting'."""

    name: str | None = None
    threshold: float | None = None
    #: A threshold sweep's targets, as written in the suite.
    thresholds: tuple[float, ...] | None = None
    samples: int | None = None
    system_prompt: str | None = None
    #: A template string; False turns the instruction off; None = not set.
    prompt_template: str | bool | None = None
    idk_phrases: tuple[str, ...] = ()
    gates: Gates = field(default_factory=Gates)
    #: When the LLM judge grades ("off", "unsure", "always") and which judge model.
    judge_when: str | None = None
    judge_model: str | None = None
    #: Each question is a canned reply with a human verdict, to check the judge.
    judge_calibration: bool = False
    #: Ask for a stated confidence with each answer (None: the run decides).
    verbal_confidence: bool | None = None
    #: A support bot's "please contact support" counts as "I don't know".
    deflections: bool = True


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


class _Refused(Exception):
    """YAML this loader will not build, with the line it is on; the message is the problem."""


_MERGE_TAG = "tag:yaml.org,2002:merge"


def _construct_unique_mapping(loader: _UniqueKeyLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == _MERGE_TAG:
            continue  # '<<: *shared' is not a key; the node's own keys override what it merges
        key = loader.construct_object(key_node)
        if not isinstance(key, Hashable):
            continue  # construct_mapping reports an unhashable key ('? [1]') with its line
        if key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        seen.add(key)
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = loader.construct_mapping(node)
    return mapping


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG,
    _construct_unique_mapping,
)

_DECIMAL_INT = re.compile(r"[-+]?(0|[1-9][0-9]*)")


def _construct_int(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> int | str:
    # YAML 1.1 reads 9:00 as 540 (base 60) and 0755 as 493 (octal): answers are text there.
    text: str = loader.construct_scalar(node)
    if not _DECIMAL_INT.fullmatch(text):
        return text
    try:
        return int(text)
    except ValueError:  # beyond sys.get_int_max_str_digits() (4300 digits by default)
        raise _Refused(
            f"line {node.start_mark.line + 1}: a number {len(text)} digits long is too long"
        ) from None


def _construct_float(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> float | str:
    text: str = loader.construct_scalar(node)
    if ":" in text:
        return text
    try:
        value: float = loader.construct_yaml_float(node)
        return value
    except ValueError:  # "._" passes YAML 1.1's float pattern but is no number
        return text


def _construct_text(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> str:
    # An answer written 2001-12-14 is that text, not a datetime.date the schema rejects.
    return encodable(loader.construct_scalar(node))


def _construct_str(loader: _UniqueKeyLoader, node: yaml.ScalarNode) -> str:
    # "\ud800" is a valid YAML escape for a string no report, cache or xdist channel can
    # encode: the lone surrogate becomes U+FFFD here, once.
    return encodable(loader.construct_scalar(node))


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:str", _construct_str)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:float", _construct_float)
_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp", _construct_text)

#: Explicit tags a suite may carry: '!' (plain) and '!!str' (force text, like quotes).
#: Every other tag is refused before anything is built: !!python/... would construct
#: objects (the safe loader refuses those too, less clearly), and !!binary, !!set or
#: !!timestamp make values no suite key accepts; !!float abc or !!bool maybe would crash.
_ALLOWED_TAGS = frozenset({"!", "tag:yaml.org,2002:str"})


def _short_tag(tag: str) -> str:
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml") else tag


def _check_yaml_shape(text: str) -> None:
    """Refuse, from the parser's events and before anything is built, YAML that is not one
    plain document: more than one document, tags, too deep, or aliases that expand too far
    (in values or in characters of text).

    The events come from libyaml's parser, which keeps its own stack (no recursion), and cost
    under a tenth of the full load.
    """
    documents = 0
    #: Values and characters of text so far, each alias counted as the node it repeats.
    nodes = chars = 0
    aliased = False
    #: Expanded size (values, characters) of each anchored node, recorded when the node ends.
    sizes: dict[str, tuple[int, int]] = {}
    #: Open collections: (anchor, values and characters when it started).
    open_nodes: list[tuple[str | None, int, int]] = []
    for event in yaml.parse(text, Loader=_SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.DocumentStartEvent):
            documents += 1
            if documents > 1:
                raise _Refused(
                    f"line {line}: a second YAML document starts here ('---'); a suite file "
                    "holds one document: remove the separator or split the file"
                )
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _, _ in open_nodes):
                raise _Refused(f"line {line}: alias *{event.anchor} refers to a node containing it")
            # An unknown anchor is the composer's error, reported after this check.
            values, length = sizes.get(event.anchor or "", (1, 0))
            nodes, chars = nodes + values, chars + length
            aliased = True
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            if event.tag is not None and event.tag not in _ALLOWED_TAGS:
                raise _Refused(
                    f"line {line}: the YAML tag {_short_tag(event.tag)} is not allowed; a suite "
                    "holds plain text, numbers, booleans, lists and mappings"
                )
            if isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = (1, len(event.value))
                chars += len(event.value)
            else:
                if len(open_nodes) >= MAX_SUITE_DEPTH:
                    raise _Refused(
                        f"line {line}: lists and mappings nest more than {MAX_SUITE_DEPTH} deep"
                    )
                open_nodes.append((event.anchor, nodes, chars))
            nodes += 1
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, start_nodes, start_chars = open_nodes.pop()
            if anchor is not None:
                sizes[anchor] = (nodes - start_nodes, chars - start_chars)
        if nodes > MAX_SUITE_NODES or chars > MAX_SUITE_CHARS:
            grows = " once its aliases (*name) are expanded" if aliased else ""
            limit = (
                f"{MAX_SUITE_NODES:,} values"
                if nodes > MAX_SUITE_NODES
                else f"{MAX_SUITE_CHARS:,} characters of text"
            )
            raise _Refused(
                f"line {line}: the document grows past {limit}{grows}; "
                "a suite that large should be split"
            )


def is_suite_file(path: Path) -> bool:
    return bool(SUITE_FILE_PATTERN.fullmatch(path.name))


class _Unreadable(Exception):
    """A file whose bytes cannot be a suite's text: too big, or not UTF-8."""


def _read_text(path: Path, advice: str = "") -> str:
    """The file's UTF-8 text; OSError, or _Unreadable saying why the bytes are not usable."""
    with path.open("rb") as handle:
        # One byte past the limit is enough to know: a huge file (or /dev/zero) is never read whole.
        data = handle.read(MAX_SUITE_BYTES + 1)
    if len(data) > MAX_SUITE_BYTES:
        raise _Unreadable(
            f"the file is larger than the {MAX_SUITE_BYTES // 2**20} MiB limit{advice}"
        )
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise _Unreadable(
            "not UTF-8 text: it starts with a UTF-16 byte-order mark; save it as UTF-8"
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise _Unreadable(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} on line {line} ({exc.reason}); "
            "save the file as UTF-8"
        ) from None


_KINDS = {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean"}


def load_suite(path: Path, label: str | None = None, root: Path | None = None) -> Suite:
    """Read, validate and build the suite in `path`; errors name it as `label`.

    Files the suite names are read only inside `root` (default: the suite's folder).
    """
    source = label or str(path)
    if _CONTROL.search(path.name):
        # The name becomes the test id and a report heading; the message shows it escaped.
        raise SuiteError(
            repr(source)[1:-1],
            [f"the file name {path.name!r} contains a control character (a line break, tab "
             "or bidirectional override); rename the file"],
        )  # fmt: skip
    try:
        text = _read_text(path, "; split it into several suite files")
    except OSError as exc:
        raise SuiteError(source, [f"cannot read: {exc.strerror or exc}"]) from None
    except _Unreadable as exc:
        raise SuiteError(source, [str(exc)]) from None
    try:
        _check_yaml_shape(text)
        document = yaml.load(text, Loader=_UniqueKeyLoader)
    except _Refused as exc:
        raise SuiteError(source, [str(exc)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise SuiteError(source, [f"YAML syntax error: {where}{problem}"]) from None
    except yaml.reader.ReaderError as exc:
        # A control character such as NUL: libyaml reports a byte offset, so find the line here.
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        line = text.count("\n", 0, max(text.find(char), 0)) + 1
        raise SuiteError(
            source, [f"YAML error: line {line}: character {char!r} is not allowed ({exc.reason})"]
        ) from None
    except yaml.YAMLError as exc:
        raise SuiteError(source, [f"YAML error: {exc}"]) from None
    if document is None:
        raise SuiteError(
            source, ["the file is empty (no YAML data); a suite needs a 'questions' list"]
        )
    if not isinstance(document, dict):
        kind = _KINDS.get(type(document), f"a {type(document).__name__}")
        raise SuiteError(source, [f"the top level must be a mapping with 'questions', not {kind}"])
    _check_schema(source, "suite", document)
    base_dir = path.parent
    settings = _settings_from(source, document, base_dir, root=base_dir if root is None else root)
    questions = [
        _question_from(
            source,
            q,
            where=f"questions[{i}]",
            accept_core=bool(document.get("accept_core")),
            language=document.get("language"),
        )
        for i, q in enumerate(document["questions"])
    ]
    _check_ids(source, questions)
    _check_calibration(source, settings.judge_calibration, questions, document)
    return Suite(path=path, settings=settings, questions=tuple(questions))


#: Suite keys a judge calibration suite has no use for: nothing is asked of the model.
_NOT_FOR_CALIBRATION = ("threshold", "thresholds", "samples", "gates", "verbal_confidence")


def _check_calibration(
    source: str,
    calibration: bool,
    questions: Sequence[Question],
    document: Mapping[str, Any] | None = None,
) -> None:
    """A judge calibration suite has a canned reply and verdict on every question, and asks
    the judge; other suites have neither (the model's reply is the one graded there)."""
    if calibration:
        data = document or {}
        problems = [f"question {q.id!r}: a judge_calibration suite needs reply and verdict"
                    for q in questions if q.canned_reply is None]  # fmt: skip
        problems += [f"question {q.id!r}: idk: true has no right answer, so a reply to it "
                     "is wrong or abstained, not correct"
                     for q in questions
                     if q.expectation.idk and q.human_verdict == "correct"]  # fmt: skip
        problems += [f"{key}: a judge_calibration suite asks only the judge; remove it"
                     for key in _NOT_FOR_CALIBRATION if key in data]  # fmt: skip
        judge = data.get("judge")
        when = judge.get("when") if isinstance(judge, dict) else judge
        if when in ("off", False):
            problems.append("judge: a judge_calibration suite always asks the judge")
        if problems:
            raise SuiteError(source, problems)
        return
    canned = [q.id for q in questions if q.canned_reply is not None]
    if canned:
        raise SuiteError(
            source,
            [f"question {qid!r}: reply and verdict are for judge calibration suites "
             "(judge_calibration: true)" for qid in canned],
        )  # fmt: skip


def question_from_marker(source: str, default_id: str, kwargs: Mapping[str, Any]) -> Question:
    """A Question from `@pytest.mark.abstain(...)` keywords, validated like a suite entry."""
    data = dict(kwargs)
    data.setdefault("id", default_id)
    _check_schema(source, "question", data)
    question = _question_from(source, data, where="marker")
    _check_calibration(source, False, [question])
    return question


def settings_from_marker(
    source: str, kwargs: Mapping[str, Any], base_dir: Path, root: Path
) -> SuiteSettings:
    """Suite settings from `pytest.mark.abstain_suite(...)` keywords; files are read from
    `base_dir`, the module's folder, and only inside `root`."""
    data = dict(kwargs)
    _check_schema(source, "settings", data)
    if data.get("judge_calibration"):
        raise SuiteError(
            source, ["judge_calibration is for suite files: put the cases in an abstain_*.yaml"]
        )
    return _settings_from(source, data, base_dir, root)


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
        label = f"question {_clip(qid)!r}" if isinstance(qid, str) else f"question #{parts[1] + 1}"
        return f"{label} ({dotted})"
    return dotted or root


def _describe(document: Any, error: jsonschema.ValidationError, root: str) -> str:
    if error.validator in ("oneOf", "anyOf") and isinstance(error.instance, dict):
        # A mapping has the shape of the mapping branch (judge: {model: ...}): what is wrong
        # is inside it, at the key that branch names, not "must be A or a mapping".
        inside = [e for e in error.context or () if len(e.absolute_path) > len(error.path)]
        if inside:
            return _describe(document, inside[0], root)
    where = _where(document, error.absolute_path, root)
    schema = error.schema if isinstance(error.schema, dict) else {}
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = set(schema.get("properties", {}))
        unknown = sorted(str(k) for k in error.instance if k not in allowed)
        known = ", ".join(sorted(allowed))
        listed = _clip(", ".join(map(repr, unknown)), 300)
        return f"{where}: unknown key {listed} (allowed: {known})"
    if error.validator == "required":
        missing = error.message.split("'")[1] if "'" in error.message else error.message
        return f"{where}: missing required key {missing!r}"
    message = schema.get("x-message") or error.message
    if isinstance(error.instance, bool) and error.validator in ("type", "oneOf"):
        message += " (YAML reads yes/no/true/false/on/off as booleans: quote the value)"
    # jsonschema's own messages quote the whole value, which can be megabytes.
    return f"{where}: {_clip(message, 300)}"


def _clip(text: str, limit: int = 80) -> str:
    return text if len(text) <= limit else f"{text[: limit - 15]}... ({len(text):,} chars)"


def _settings_from(
    source: str, data: Mapping[str, Any], base_dir: Path, root: Path
) -> SuiteSettings:
    system_prompt = data.get("system_prompt")
    if "system_prompt_file" in data:
        system_prompt = _read_suite_file(
            source,
            "system_prompt_file",
            data["system_prompt_file"],
            base_dir,
            root,
            allowed=data.get("allow_secrets", ()),
        )
    template = data.get("prompt_template")
    if isinstance(template, str) and (problem := template_problem(template)):
        raise SuiteError(source, [f"prompt_template: {problem}"])
    gates = data.get("gates", {})
    judge = data.get("judge")
    numbers = [("threshold", data.get("threshold"))]
    numbers += [("thresholds", value) for value in data.get("thresholds", ())]
    numbers += [(f"gates.{name}", value) for name, value in gates.items() if name != "calibration"]
    for key, value in numbers:
        if problem := _number_problem(value):
            raise SuiteError(source, [f"{key}: {problem}"])
    for budget in ("max_errors", "max_undecided"):
        if budget in gates:
            try:
                ErrorBudget.parse(gates[budget])
            except ValueError as exc:
                raise SuiteError(source, [f"gates.{budget}: {exc}"]) from None
    return SuiteSettings(
        name=data.get("name"),
        threshold=data.get("threshold"),
        thresholds=tuple(data["thresholds"]) if "thresholds" in data else None,
        samples=data.get("samples"),
        system_prompt=system_prompt,
        prompt_template=template,
        idk_phrases=tuple(data.get("idk_phrases", ())),
        gates=Gates(**gates),
        # YAML reads a bare `off` as false.
        judge_when=_judge_when(judge.get("when") if isinstance(judge, dict) else judge),
        judge_model=judge.get("model") if isinstance(judge, dict) else None,
        judge_calibration=bool(data.get("judge_calibration", False)),
        verbal_confidence=data.get("verbal_confidence"),
        deflections=bool(data.get("deflections", True)),
    )


#: Environment variables whose names say they hold a secret: OPENAI_API_KEY (the run's key),
#: GITHUB_TOKEN, AWS_SECRET_ACCESS_KEY, DB_PASSWORD, GOOGLE_APPLICATION_CREDENTIALS, ...
_SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)


def _read_suite_file(
    source: str, key: str, given: str, base_dir: Path, root: Path, allowed: Collection[str]
) -> str:
    """The text of the file a suite names under `key`: relative to `base_dir`, inside `root`
    once symlinks and '..' are resolved, and holding no secret the suite did not allow.

    A suite is data, often from a pull request: it must not be able to send
    /proc/self/environ, ~/.netrc or the run's API key to the endpoint as a prompt.
    """
    if Path(given).is_absolute():
        raise SuiteError(
            source,
            [f"{key}: {given!r} is an absolute path; give a path relative to the suite file, "
             f"inside the suite root {root}"],
        )  # fmt: skip
    try:
        path = (base_dir / given).resolve()
    # A symlink loop (a RuntimeError before Python 3.13) or a NUL byte in the path.
    except (OSError, RuntimeError, ValueError) as exc:
        raise SuiteError(source, [f"{key}: cannot read {given!r}: {exc}"]) from None
    if not path.is_relative_to(root.resolve()):
        raise SuiteError(
            source,
            [f"{key}: {given!r} leads outside the suite root {root} (to {path}); keep the "
             "files suites read inside it, or set abstain_root in the ini file"],
        )  # fmt: skip
    try:
        if path.exists() and not path.is_file():
            # A named pipe would block the open until someone writes to it.
            raise _Unreadable("not a regular file")
        text = _read_text(path)
    except (OSError, _Unreadable) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise SuiteError(source, [f"{key}: cannot read {str(path)!r}: {reason}"]) from None
    found = _secrets_in(text, allowed)
    if found:
        names = ", ".join(found)
        raise SuiteError(
            source,
            [f"{key}: {given!r} contains the value of {names}, an environment variable that "
             "looks secret; the suite would send it to the endpoint. Remove it from the file, "
             "or list the variable in allow_secrets if it is meant to be sent"],
        )  # fmt: skip
    return text


def _secrets_in(text: str, allowed: Collection[str]) -> list[str]:
    """The secret-looking environment variables, except `allowed`, whose values `text` holds."""
    found = []
    for name, value in os.environ.items():
        # The run strips the API key before use: a CI secret often ends in a newline.
        secret = value.strip()
        if len(secret) < MIN_SECRET_CHARS or name in allowed or not _SECRET_NAME.search(name):
            continue
        if secret in text:
            found.append(name)
    return sorted(found)


def _judge_when(value: object) -> str | None:
    return "off" if value is False else (str(value) if value is not None else None)


def _question_from(
    source: str,
    data: Mapping[str, Any],
    where: str,
    accept_core: bool = False,
    language: str | None = None,
) -> Question:
    qid = data["id"]
    raw = data.get("answer", [])
    answers: tuple[str | float, ...] = tuple(raw) if isinstance(raw, list) else (raw,)
    for answer in answers:
        if problem := _number_problem(answer):
            raise SuiteError(source, [f"question {qid!r} ({where}.answer): {problem}"])
    tolerance = _tolerance(data.get("tolerance", 0))
    if tolerance is None:
        raise SuiteError(source, [f"question {qid!r} ({where}.tolerance): must be finite"])
    pattern: re.Pattern[str] | None = None
    if "regex" in data:
        try:
            pattern = re.compile(data["regex"], re.IGNORECASE)
            problem = regex_problem(pattern)
        # A huge repeat count overflows and thousands of nested groups overflow the stack
        # of re's parser: both are bad patterns, not crashes.
        except (re.error, OverflowError, RecursionError) as exc:
            problem = f"invalid regex: {exc}"
        if problem:
            raise SuiteError(source, [f"question {qid!r} ({where}.regex): {problem}"])
    return Question(
        id=qid,
        text=data["question"],
        expectation=Expectation(
            idk=bool(data.get("idk", False)),
            answers=answers,
            regex=pattern,
            tolerance=tolerance,
            accept_core=bool(data.get("accept_core", accept_core)),
            language=_language(source, qid, where, data.get("language", language), data),
        ),
        tags=tuple(data.get("tags", ())),
        expected=answers,
        regex=data.get("regex"),
        canned_reply=data.get("reply"),
        human_verdict=data.get("verdict"),
    )


def _language(source: str, qid: str, where: str, given: str | None, data: Mapping[str, Any]) -> str:
    """The question's language: as the suite says, else guessed from the question."""
    if given is None:
        return detect(data["question"])
    if given not in languages():
        shipped = ", ".join(sorted(languages()))
        raise SuiteError(
            source,
            [f"question {qid!r} ({where}.language): {given!r} is not a shipped language "
             f"({shipped})"],
        )  # fmt: skip
    return given


def _tolerance(value: float | str) -> Tolerance | None:
    """The tolerance, or None when it is infinite (it would accept every number)."""
    if value == "significant":
        return Tolerance(significant=True)
    try:
        if isinstance(value, str):
            relative = float(value.rstrip("%")) / 100.0
            return Tolerance(relative=relative) if math.isfinite(relative) else None
        absolute = float(value)
    except OverflowError:
        return None
    return Tolerance(absolute=absolute) if math.isfinite(absolute) else None


def _number_problem(value: object) -> str | None:
    """Why a number cannot be used. NaN passes every bound of the schema (each comparison
    with it is false), and an infinite threshold or answer makes every score meaningless."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    try:
        finite = math.isfinite(value)
    except OverflowError:  # an int too big for a float
        return "is too large to compare as a number"
    return None if finite else f"must be a finite number, not {value!r}"


def _check_ids(source: str, questions: Sequence[Question]) -> None:
    seen: dict[str, int] = {}
    problems = []
    for index, question in enumerate(questions):
        if question.id in RESERVED_IDS:
            problems.append(f"question id {question.id!r} (questions[{index}]) is reserved")
        if question.id in seen:
            problems.append(
                f"duplicate question id {question.id!r}: questions[{seen[question.id]}] "
                f"and questions[{index}]"
            )
        seen.setdefault(question.id, index)
    if problems:
        raise SuiteError(source, problems)
