"""Safe-loading YAML while remembering the line of every key and list item.

PyYAML's ``safe_load`` returns plain values and forgets where they came from; an instructor needs
"line 23" in an error message. So the text is composed into nodes with the safe loader (no Python
objects can be constructed) and converted here into :class:`LocatedMap` and :class:`LocatedList`:
ordinary dicts and lists that also know the line of each key and item.

Timestamps are not resolved (``2024-05-01`` stays a string) and duplicate keys are errors, not a
silent "last one wins". Anchors and aliases work, but a document that expands beyond
:data:`MAX_NODES` values (an alias bomb) or nests deeper than :data:`MAX_DEPTH` is refused.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_BYTES = 1_000_000
MAX_NODES = 200_000
MAX_DEPTH = 60
_COLLECTION_TAGS = ("tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


class YamlProblem(Exception):
    """A problem reading the YAML text itself; ``line`` counts from 1 when known."""

    def __init__(self, message: str, line: int | None = None, column: int | None = None) -> None:
        self.message = message
        self.line = line
        self.column = column  # from 0, when known: 0 means a top-level key
        super().__init__(message)


class LocatedMap(dict):
    """A YAML mapping: a dict whose ``line`` is where it starts and ``key_lines`` where each key is."""

    line: int | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.key_lines: dict[Any, int] = {}

    def line_of(self, key: Any) -> int | None:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    """A YAML sequence: a list whose ``line`` is where it starts and ``item_lines`` where each item is."""

    line: int | None = None

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.item_lines: list[int] = []

    def line_of(self, index: int) -> int | None:
        if 0 <= index < len(self.item_lines):
            return self.item_lines[index]
        return self.line


class _Loader(yaml.SafeLoader):
    """The safe loader without implicit timestamps (dates stay strings)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


# Hints for the YAML mistakes lesson authors make most.
_HINTS = (
    ("found character '\\t'", "YAML indents with spaces, not tabs"),
    ("mapping values are not allowed", "a ': ' inside a text? Quote the text, or write it as a block after '|'"),
    ("but got '['", "a condition with [Variant] inside {...}? Quote it"),
    ("cannot start any token", "a text starting with a special character, or a condition with [Variant] "
                               "inside {...}? Quote it"),
    ("expected <block end>", "check the indentation of this line against the lines above"),
)


def _hint(problem: str) -> str:
    for fragment, hint in _HINTS:
        if fragment in problem:
            return f" ({hint})"
    return ""


def line_of(value: Any, default: int | None = None) -> int | None:
    """The line a located value starts on (scalars do not know theirs: pass ``default``)."""
    return getattr(value, "line", None) or default


def load(text: str) -> tuple[Any, list[YamlProblem]]:
    """Parse one YAML document into located values.

    Returns the value and the problems that did not stop reading (duplicate keys, keys that are not
    names: the rest of the file is still read); raises :class:`YamlProblem` when nothing can be read.
    """
    if len(text) > MAX_BYTES:
        raise YamlProblem(f"the file is larger than {MAX_BYTES // 1000} kB")
    try:
        loader = _Loader(text)
    except yaml.YAMLError as exc:  # unprintable characters are refused when reading starts
        raise YamlProblem(f"YAML syntax: {getattr(exc, 'reason', None) or exc}") from None
    try:
        try:
            node = loader.get_single_node()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            problem = " ".join(p for p in (exc.context, exc.problem) if p) or str(exc)
            raise YamlProblem(f"YAML syntax: {problem}{_hint(problem)}", line) from None
        except yaml.YAMLError as exc:
            raise YamlProblem(f"YAML syntax: {exc}") from None
        except RecursionError:
            raise YamlProblem("YAML syntax: the document is nested too deeply") from None
        if node is None:
            return None, []
        converter = _Converter(loader)
        value = converter.convert(node, 0)
        return value, converter.problems
    finally:
        loader.dispose()


class _Converter:
    def __init__(self, loader: _Loader) -> None:
        self.loader = loader
        self.count = 0
        self.problems: list[YamlProblem] = []

    def convert(self, node: Node, depth: int) -> Any:
        self.count += 1
        if self.count > MAX_NODES:
            raise YamlProblem(
                f"the document expands to more than {MAX_NODES} values (too many aliases?)",
                node.start_mark.line + 1,
            )
        if depth > MAX_DEPTH:
            raise YamlProblem("the document is nested too deeply", node.start_mark.line + 1)
        line = node.start_mark.line + 1
        if isinstance(node, ScalarNode):
            try:
                return self.loader.construct_object(node, deep=True)
            except (yaml.YAMLError, ValueError, OverflowError, TypeError) as exc:
                reason = getattr(exc, "problem", None) or str(exc)
                raise YamlProblem(f"cannot read the value {node.value!r}: {reason}", line) from None
        if isinstance(node, (SequenceNode, MappingNode)) and node.tag not in _COLLECTION_TAGS:
            raise YamlProblem(f"unsupported YAML tag {node.tag!r}: lessons use plain lists and mappings", line)
        if isinstance(node, SequenceNode):
            items = LocatedList()
            items.line = line
            for child in node.value:
                items.append(self.convert(child, depth + 1))
                items.item_lines.append(child.start_mark.line + 1)
            return items
        if isinstance(node, MappingNode):
            try:
                self.loader.flatten_mapping(node)  # resolves `<<: *anchor` merge keys
            except (yaml.YAMLError, RecursionError) as exc:
                raise YamlProblem(f"YAML merge key: {exc}", line) from None
            mapping = LocatedMap()
            mapping.line = line
            for key_node, value_node in node.value:
                key_line = key_node.start_mark.line + 1
                column = key_node.start_mark.column
                if not isinstance(key_node, ScalarNode):
                    self.problems.append(
                        YamlProblem("a key must be a plain name, not a list or mapping", key_line, column)
                    )
                    continue
                key = self.convert(key_node, depth + 1)
                if key is None:
                    self.problems.append(YamlProblem("a key is missing before ':'", key_line, column))
                    continue
                if key in mapping:
                    self.problems.append(
                        YamlProblem(
                            f"duplicate key {key!r} (first at line {mapping.key_lines[key]})", key_line, column
                        )
                    )
                    continue
                mapping[key] = self.convert(value_node, depth + 1)
                mapping.key_lines[key] = key_line
            return mapping
        raise YamlProblem(f"unsupported YAML node {type(node).__name__}", line)  # pragma: no cover
