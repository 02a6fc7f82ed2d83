"""Safe YAML loading that keeps the line of every value.

Architecture files are untrusted. The text is composed with PyYAML's safe composer (no object is
ever constructed from a tag), every tag is checked against the plain YAML types, aliases are
expanded under a node budget (a "billion laughs" file fails at once), and each value remembers its
line so that errors can name it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from cnnmacros.errors import ArchitectureError, Problem

try:  # the C composer is several times faster when libyaml is present
    from yaml import CSafeLoader as _BaseLoader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _BaseLoader  # type: ignore[assignment]

# Plain words that YAML 1.1 reads as booleans or null; every other word starting with a letter is a string.
_WORDS = {
    w
    for base in ("yes", "no", "true", "false", "on", "off", "y", "n", "null")
    for w in (base, base.title(), base.upper())
}


class _Loader(_BaseLoader):  # type: ignore[misc, valid-type]
    """The safe loader with a fast path for the two commonest plain scalars: decimal integers and words.

    Anything else goes to PyYAML's own resolver, so the types are exactly YAML 1.1's.
    """

    def resolve(self, kind: type, value: str, implicit: tuple[bool, bool]) -> str:
        if kind is yaml.ScalarNode and implicit[0] and value:
            if value.isdigit() and value.isascii() and (value[0] != "0" or value == "0"):
                return _INT
            if value[0].isalpha() and value.isascii() and value not in _WORDS and value.isidentifier():
                return _STR
        return super().resolve(kind, value, implicit)


MAX_NODES = 100_000
_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_YAML + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_MAP = _YAML + "map"
_SEQ = _YAML + "seq"
_MERGE = _YAML + "merge"
_STR = _YAML + "str"
_INT = _YAML + "int"


@dataclass
class YNode:
    """A YAML value and the (1-based) line it starts on."""

    line: int


@dataclass
class YScalar(YNode):
    value: Any
    text: str


@dataclass
class YSeq(YNode):
    items: list[YNode] = field(default_factory=list)


@dataclass
class YMap(YNode):
    """Keys are the keys' text; ``key_lines`` says where each key stands."""

    items: dict[str, YNode] = field(default_factory=dict)
    key_lines: dict[str, int] = field(default_factory=dict)


def describe(node: YNode) -> str:
    """How a found value is quoted in a message: as the author wrote it."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        items = [describe(i) for i in node.items[:8]]
        return "[" + ", ".join(items) + (", ..." if len(node.items) > 8 else "") + "]"
    assert isinstance(node, YScalar)
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return node.text
    if isinstance(value, str):
        return repr(value) if value else "an empty string"
    return repr(node.text)


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


class _Converter:
    """Walks composed nodes into Y-nodes, collecting every problem it meets."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.budget = MAX_NODES
        self.constructor = yaml.SafeLoader("")

    def problem(self, node: yaml.Node, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, path, message))

    def tag_problem(self, node: yaml.Node, path: str) -> None:
        self.problem(
            node,
            path,
            f"YAML tag {_tag_name(node.tag)} is not allowed: architecture files "
            "hold only plain values, lists and mappings",
        )

    def convert(self, node: yaml.Node, path: str = "") -> YNode:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLargeError(node)
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            if node.tag not in _SCALAR_TAGS:
                self.tag_problem(node, path)
                return YScalar(line, None, node.value)
            if node.tag == _STR:
                return YScalar(line, node.value, node.value)
            if node.tag == _INT and node.value.isdigit() and node.value.isascii() and node.value[0] != "0":
                return YScalar(line, int(node.value), node.value)  # decimal: YAML's own reading, faster
            try:
                value = self.constructor.yaml_constructors[node.tag](self.constructor, node)
            except (ValueError, ArithmeticError, yaml.YAMLError):  # e.g. PyYAML reads 0b_ as an int, then fails
                self.problem(node, path, f"expected a readable {_tag_name(node.tag)[2:]}, got {node.value!r}")
                return YScalar(line, None, node.value)
            return YScalar(line, value, node.value)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ:
                self.tag_problem(node, path)
            return YSeq(line, [self.convert(item, f"{path}[{i}]") for i, item in enumerate(node.value)])
        assert isinstance(node, yaml.MappingNode)
        if node.tag != _MAP:
            self.tag_problem(node, path)
        out = YMap(line)
        merged: list[YMap] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE:
                merged += self._merge_sources(value_node, path)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "expected a plain key, got a list or mapping as a key")
                continue
            key = key_node.value
            child = f"{path} {key}" if path else key
            if key in out.items:
                self.problem(key_node, child, f"duplicate key (first at line {out.key_lines[key]})")
                continue
            out.key_lines[key] = key_node.start_mark.line + 1
            out.items[key] = self.convert(value_node, child)
        for source in merged:  # explicit keys win over merged ones, as YAML's merge key says
            for key, value in source.items.items():
                if key not in out.items:
                    out.items[key] = value
                    out.key_lines[key] = source.key_lines[key]
        return out

    def _merge_sources(self, node: yaml.Node, path: str) -> list[YMap]:
        sources = node.value if isinstance(node, yaml.SequenceNode) else [node]
        out = []
        for source in sources:
            converted = self.convert(source, path)
            if isinstance(converted, YMap):
                out.append(converted)
            else:
                self.problem(source, path, "expected a mapping to merge with <<")
        return out


def _expanded_size(root: yaml.Node) -> int:
    """How many values the document holds once aliases are expanded, counted without expanding.

    Aliased nodes are shared objects in the composed graph, so each distinct node is sized once.
    A node that contains itself (a recursive alias) counts as too large.
    """
    sizes: dict[int, int] = {}
    active: set[int] = set()

    def size(node: yaml.Node) -> int:
        key = id(node)
        if key in sizes:
            return sizes[key]
        if key in active:
            raise _TooLargeError(node)
        active.add(key)
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        active.discard(key)
        sizes[key] = total = min(total, MAX_NODES + 1)
        if total > MAX_NODES:
            raise _TooLargeError(node)
        return total

    return size(root)


class _TooLargeError(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


def _utf8(file: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        byte = data[exc.start]
        raise ArchitectureError(
            [Problem(file, line, "", f"expected UTF-8 text, got byte 0x{byte:02x} at column {column}")]
        ) from None


def load(file: str, data: bytes) -> YNode:
    """Parse ``data`` (the bytes of ``file``) into located nodes, or raise ``ArchitectureError``."""
    text = _utf8(file, data)
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        root = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        what = ": ".join(filter(None, [exc.context, exc.problem]))
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            what += f" (it opened at line {exc.context_mark.line + 1})"
        raise ArchitectureError([Problem(file, line, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ArchitectureError([Problem(file, 1, "", f"YAML syntax error: {exc}")]) from None
    if root is None:
        raise ArchitectureError([Problem(file, 1, "", "file is empty: expected a mapping with name, input and layers")])
    converter = _Converter(file)
    try:
        if "&" in text and "*" in text:  # an alias needs an anchor: only then can values repeat
            _expanded_size(root)
        tree = converter.convert(root)
    except _TooLargeError as exc:
        raise ArchitectureError(
            [
                Problem(
                    file,
                    exc.node.start_mark.line + 1,
                    "",
                    f"document expands to more than {MAX_NODES:,} values (nested YAML aliases?)",
                )
            ]
        ) from None
    if converter.problems:
        raise ArchitectureError(converter.problems)
    return tree
