"""Strict YAML for suites: one plain document, no tags but '!' and '!!str', no duplicate keys,
numbers only in decimal, and aliases that cannot expand past what a big real suite costs.

Every refusal is a YamlRefused whose message is the problem, with its line.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from typing import Any

import yaml

from ..untrusted import encodable
from .text_file import MAX_SUITE_BYTES

# Limits on what a suite file may make the loader do. Each is far above what a real suite
# needs and keeps the worst file to about as much work as the largest legal one.
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


# The C parser, where PyYAML was built with libyaml, reads big suites several times faster.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _UniqueKeyLoader(_SafeLoader):  # type: ignore[valid-type,misc]
    """Safe loading that refuses duplicate keys, which plain YAML silently overwrites."""


class YamlRefused(Exception):
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
        raise YamlRefused(
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
                raise YamlRefused(
                    f"line {line}: a second YAML document starts here ('---'); a suite file "
                    "holds one document: remove the separator or split the file"
                )
        elif isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _, _ in open_nodes):
                raise YamlRefused(
                    f"line {line}: alias *{event.anchor} refers to a node containing it"
                )
            # An unknown anchor is the composer's error, reported after this check.
            values, length = sizes.get(event.anchor or "", (1, 0))
            nodes, chars = nodes + values, chars + length
            aliased = True
        elif isinstance(event, (yaml.ScalarEvent, yaml.CollectionStartEvent)):
            if event.tag is not None and event.tag not in _ALLOWED_TAGS:
                raise YamlRefused(
                    f"line {line}: the YAML tag {_short_tag(event.tag)} is not allowed; a suite "
                    "holds plain text, numbers, booleans, lists and mappings"
                )
            if isinstance(event, yaml.ScalarEvent):
                if event.anchor is not None:
                    sizes[event.anchor] = (1, len(event.value))
                chars += len(event.value)
            else:
                if len(open_nodes) >= MAX_SUITE_DEPTH:
                    raise YamlRefused(
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
            raise YamlRefused(
                f"line {line}: the document grows past {limit}{grows}; "
                "a suite that large should be split"
            )


def parse_document(text: str) -> Any:
    """The one YAML document in `text`, built by the strict loader; YamlRefused says why not."""
    try:
        _check_yaml_shape(text)
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise YamlRefused(f"YAML syntax error: {where}{problem}") from None
    except yaml.reader.ReaderError as exc:
        # A control character such as NUL: libyaml reports a byte offset, so find the line here.
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        line = text.count("\n", 0, max(text.find(char), 0)) + 1
        raise YamlRefused(
            f"YAML error: line {line}: character {char!r} is not allowed ({exc.reason})"
        ) from None
    except yaml.YAMLError as exc:
        raise YamlRefused(f"YAML error: {exc}") from None
