"""Safe YAML loading that keeps the line of every value.

Architecture files are untrusted. The text is composed with PyYAML's safe composer (no object is
ever constructed from a tag), every tag is checked against the plain YAML types, aliases are
expanded under a node budget (a "billion laughs" file fails at once), and each value remembers its
line so that errors can name it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import yaml

from cnnmacros.errors import ArchitectureError, Problem, short

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
"""The most values YAML aliases may add by repeating what they name (a "billion laughs" file)."""
MAX_DEPTH = 64
"""The deepest nesting of lists and mappings inside each other."""
MAX_DIGITS = 100
"""The most digits a number may have."""
_YAML = "tag:yaml.org,2002:"
_SCALAR_TAGS = {_YAML + t for t in ("null", "bool", "int", "float", "str", "timestamp")}
_MAP = _YAML + "map"
_SEQ = _YAML + "seq"
_MERGE = _YAML + "merge"
_STR = _YAML + "str"
_INT = _YAML + "int"
_FLOAT = _YAML + "float"
_BOOL = _YAML + "bool"


@dataclass(frozen=True)
class Refused:
    """A number that is not read: a value of this type fits no option, and ``describe`` says why.

    ``why`` follows the number as written: ``, which YAML 1.1 reads as octal (52): ...``;
    ``shown``, when given, replaces both (a number too long to quote).
    """

    why: str
    shown: str = ""


_PREFIX = re.compile(r"^[-+]?0[bx]")
_DECIMAL = re.compile(r"[-+]?(?:0|[1-9][0-9_]*)")
_BASES = (("0b", "binary"), ("0x", "hexadecimal"), ("0", "octal"))


def _refused_int(text: str, reading: Callable[[], Any]) -> Refused | None:
    """Why an integer as YAML 1.1 writes it is refused, or None for a plain decimal one."""
    if _DECIMAL.fullmatch(text):
        return None
    digits = text.lstrip("+-")
    if ":" in digits:
        base = "a base-60 number"
    else:
        base = next(words for prefix, words in _BASES if digits.startswith(prefix))
    return Refused(f", which YAML 1.1 reads as {base} ({reading()}): write the number in plain decimal digits")


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


EXCERPT = 40
"""How many characters of a long string a message quotes."""


def excerpt(text: str) -> str:
    """A string quoted for a message: whole when short, else its first characters and its length."""
    if len(text) <= EXCERPT + 20:
        return repr(text)
    return f"{text[:EXCERPT]!r}... ({len(text):,} characters)"


def describe(node: YNode, depth: int = 0) -> str:
    """How a found value is quoted in a message: as the author wrote it, never at length."""
    if isinstance(node, YMap):
        return "a mapping"
    if isinstance(node, YSeq):
        if depth > 1 and node.items:
            return "[...]"
        items = [describe(i, depth + 1) for i in node.items[:8]]
        return "[" + ", ".join(items) + (", ..." if len(node.items) > 8 else "") + "]"
    assert isinstance(node, YScalar)
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return node.text
    if isinstance(value, Refused):
        return value.shown or node.text + value.why
    if isinstance(value, str):
        return excerpt(value) if value else "an empty string"
    return excerpt(node.text)


def _tag_name(tag: str) -> str:
    return "!!" + tag[len(_YAML) :] if tag.startswith(_YAML) else tag


class _Converter:
    """Walks composed nodes into Y-nodes, collecting every problem it meets."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.budget = MAX_NODES
        self.constructor = yaml.SafeLoader("")
        self.depth = 0

    def problem(self, node: yaml.Node, path: str, message: str) -> None:
        self.problems.append(Problem(self.file, node.start_mark.line + 1, path, message))

    def tag_problem(self, node: yaml.Node, path: str) -> None:
        self.problem(
            node,
            path,
            f"YAML tag {excerpt(_tag_name(node.tag))[1:-1]} is not allowed: architecture files "
            "hold only plain values, lists and mappings",
        )

    def convert(self, node: yaml.Node, path: str = "") -> YNode:
        self.budget -= 1
        if self.budget < 0:
            raise _TooLargeError(node)
        line = node.start_mark.line + 1
        if isinstance(node, yaml.ScalarNode):
            return self.scalar(node, path, line)
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _TooDeepError(node)
        try:
            if isinstance(node, yaml.SequenceNode):
                if node.tag != _SEQ:
                    self.tag_problem(node, path)
                return YSeq(line, [self.convert(item, f"{path}[{i}]") for i, item in enumerate(node.value)])
            return self.mapping(node, path, line)
        finally:
            self.depth -= 1

    def scalar(self, node: yaml.ScalarNode, path: str, line: int) -> YScalar:
        """A plain value. Numbers of more than ``MAX_DIGITS`` digits, and integers YAML 1.1 reads
        in another base (``010`` is 8, ``1:30`` is 90), are ``Refused``; ``yes``, ``no``, ``on`` and
        ``off`` are text, as in YAML 1.2: only ``true`` and ``false`` are booleans."""
        text = node.value
        if node.tag not in _SCALAR_TAGS:
            self.tag_problem(node, path)
            return YScalar(line, None, text)
        if node.tag == _STR:
            return YScalar(line, text, text)
        if node.tag == _INT and text.isdigit() and text.isascii() and text[0] != "0" and len(text) <= MAX_DIGITS:
            return YScalar(line, int(text), text)  # decimal: YAML's own reading, faster
        if node.tag == _BOOL and text.lower() not in ("true", "false"):
            return YScalar(line, text, text)
        if node.tag in (_INT, _FLOAT):
            if node.tag == _FLOAT:
                digits = sum(c.isdigit() for c in text)
            else:  # hexadecimal digits count too, the base's prefix does not
                digits = sum(c.isalnum() for c in _PREFIX.sub("", text, count=1))
            if digits > MAX_DIGITS:
                shown = f"a number of {digits:,} digits (the limit is {MAX_DIGITS} digits)"
                return YScalar(line, Refused("", shown), text)
            if node.tag == _FLOAT and ":" in text:
                return YScalar(line, Refused(", which YAML 1.1 reads as a base-60 number: write it in decimal"), text)
        try:
            value = self.constructor.yaml_constructors[node.tag](self.constructor, node)
        except (ValueError, ArithmeticError, yaml.YAMLError):  # e.g. PyYAML reads 0b_ as an int, then fails
            self.problem(node, path, f"expected a readable {_tag_name(node.tag)[2:]}, got {excerpt(text)}")
            return YScalar(line, None, text)
        if node.tag == _INT:
            refused = _refused_int(text, lambda: value)
            if refused:
                return YScalar(line, refused, text)
        return YScalar(line, value, text)

    def mapping(self, node: yaml.Node, path: str, line: int) -> YMap:
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
            child = f"{path} {short(key)}" if path else short(key)
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

    Aliased nodes are shared objects in the composed graph, so each distinct node is sized once
    (with the height of its subtree, so that an alias cannot nest values deeper than
    ``MAX_DEPTH``). The aliases may add at most ``MAX_NODES`` values to those written: a node whose
    expanded size passes the distinct nodes seen so far by more than that stops the count. A node
    that contains itself (a recursive alias) counts as too large.
    """
    sizes: dict[int, tuple[int, int]] = {}  # id -> (expanded size, height)
    active: set[int] = set()

    def size(node: yaml.Node, depth: int, parent: yaml.Node | None = None) -> tuple[int, int]:
        key = id(node)
        if key in sizes:
            total, height = sizes[key]
            if depth + height > MAX_DEPTH:  # an alias nests what it names too deep: say where
                raise _TooDeepError(parent or node)
            return total, height
        if key in active:
            raise _RecursiveAliasError(node)
        total, height = 1, 0
        if isinstance(node, (yaml.SequenceNode, yaml.MappingNode)):
            if depth >= MAX_DEPTH:
                raise _TooDeepError(node)
            active.add(key)
            children = node.value if isinstance(node, yaml.SequenceNode) else [c for kv in node.value for c in kv]
            for child in children:
                child_total, child_height = size(child, depth + 1, node)
                total += child_total
                height = max(height, child_height + 1)
            active.discard(key)
        limit = MAX_NODES + len(sizes) + 1
        if total > limit:
            raise _TooLargeError(node)
        sizes[key] = (total, height)
        return total, height

    return size(root, 0)[0]


class _TooLargeError(Exception):
    def __init__(self, node: yaml.Node) -> None:
        self.node = node


class _TooDeepError(_TooLargeError):
    pass


class _RecursiveAliasError(_TooLargeError):
    pass


DEPTH_MESSAGE = (
    f"expected lists and mappings nested at most {MAX_DEPTH} deep, got deeper nesting (the limit is {MAX_DEPTH} levels)"
)
RECURSIVE_MESSAGE = "expected no YAML alias inside the value it names, got one that would repeat it without end"
ALIAS_MESSAGE = f"YAML aliases repeat more than {MAX_NODES:,} values (the limit is {MAX_NODES:,})"


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
    except RecursionError:  # PyYAML's pure-Python composer, without libyaml, on deep nesting
        raise ArchitectureError([Problem(file, 1, "", DEPTH_MESSAGE)]) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        if "maximum nesting depth" in str(exc.problem):  # libyaml's own limit, deeper than ours
            raise ArchitectureError([Problem(file, line, "", DEPTH_MESSAGE)]) from None
        what = ": ".join(filter(None, [exc.context, exc.problem]))
        if len(what) > 200:  # e.g. an undefined alias's name, quoted whole
            what = what[:200] + "..."
        if exc.context_mark and exc.problem_mark and exc.context_mark.line != exc.problem_mark.line:
            what += f" (it opened at line {exc.context_mark.line + 1})"
        raise ArchitectureError([Problem(file, line, "", f"YAML syntax error: {what}")]) from None
    except yaml.YAMLError as exc:
        raise ArchitectureError([Problem(file, 1, "", f"YAML syntax error: {exc}")]) from None
    if root is None:
        raise ArchitectureError([Problem(file, 1, "", "file is empty: expected a mapping with name, input and layers")])
    converter = _Converter(file)
    converter.budget += len(text)  # each written value takes at least a character
    try:
        if "&" in text and "*" in text:  # an alias needs an anchor: only then can values repeat
            _expanded_size(root)
        tree = converter.convert(root)
    except _TooLargeError as exc:
        message = (
            DEPTH_MESSAGE
            if isinstance(exc, _TooDeepError)
            else RECURSIVE_MESSAGE
            if isinstance(exc, _RecursiveAliasError)
            else ALIAS_MESSAGE
        )
        raise ArchitectureError([Problem(file, exc.node.start_mark.line + 1, "", message)]) from None
    if converter.problems:
        raise ArchitectureError(converter.problems)
    return tree
