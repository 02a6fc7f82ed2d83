"""Validation: located YAML nodes in, a checked architecture out, every problem reported at once.

The architecture still knows the line of each value, so the engine can report a problem it finds
later (a kernel larger than its input) at the right place without looking back at the YAML.
"""

from __future__ import annotations

import difflib
import itertools
import keyword
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cnnmacros.blocks import Block, Placed, Placement, expand, once
from cnnmacros.errors import ArchitectureError, Problem, layer_path, printable, short, unprintable
from cnnmacros.layers import ALIASES, REGISTRY
from cnnmacros.options import OptionError
from cnnmacros.rows import Shape
from cnnmacros.yamlnodes import YMap, YNode, YScalar, YSeq, describe, excerpt, load

TOP_KEYS = ("name", "description", "source", "family", "input", "metrics", "blocks", "layers")
METRIC_KEYS = {
    "acc@1": "top-1 accuracy in percent, as published for the weights",
    "acc@5": "top-5 accuracy in percent, as published for the weights",
    "dataset": "the dataset the accuracy is measured on, such as ImageNet-1K",
    "weights": "the weights the accuracy belongs to, such as ResNet50_Weights.IMAGENET1K_V1",
    "origin": "where the figures come from (required): the document or the metadata they are read from",
}
"""``metrics:``: published facts about trained weights, each with where it comes from."""
INPUT = "input"  # in a layer's `from`, the network's input
MAX_NAME = 200
"""The longest name (of the architecture, of a layer, of a size), in characters."""
MAX_LAYERS = 10_000
"""The most layers a file may have."""
KNOWN = {*REGISTRY, *ALIASES}
"""The type names a file may write: the registered ones and their aliases."""
SUGGEST_FROM = 50
"""How many of the nearest earlier layer names a misspelt `from` is compared with."""
SUGGEST_BUDGET = 20_000
"""How many words one file's "did you mean" suggestions may compare in all: a file of thousands
of misspelt layers gets its errors at once, with suggestions for the first ones."""


def name_fault(text: str, limit: int | None = MAX_NAME) -> str | None:
    """Why ``text`` cannot be a name or a one-line text (too long, or not one line of printable
    text), in the words after "expected"; None when it can."""
    if limit is not None and len(text) > limit:
        return f"a name of at most {limit} characters, got one of {len(text):,} characters"
    fault = unprintable(text)
    if fault:
        return f"one line of printable text, got {describe_text(text)} ({fault})"
    return None


def describe_text(text: str) -> str:
    return describe(YScalar(0, text, text))


@dataclass
class LayerSpec:
    """One validated layer: every option filled in (defaults included), with the lines it came from."""

    index: int
    name: str
    type: str
    line: int
    options: dict[str, Any]
    lines: dict[str, int] = field(default_factory=dict)
    sources: tuple[str, ...] = ()  # names in `from`; empty means the layer before
    placed: Placed | None = None  # where a block placed it; None for a layer of the top level

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)

    @property
    def block(self) -> str | None:
        """The innermost placed block or copy that holds the layer (``layer2.0``), or None."""
        return self.placed.block if self.placed else None

    @property
    def block_type(self) -> str | None:
        """The name of that block in ``blocks:`` (``bottleneck``), or None."""
        return self.placed.chain[0][0] if self.placed else None

    def problem(self, file: str, key: str | None, message: str) -> Problem:
        """A problem of this layer: at the line of ``key``, under its path, and for a layer that a
        block placed, with the index in the block's layers and where the block was placed."""
        index = self.placed.index if self.placed else self.index
        suffix = self.placed.suffix() if self.placed else ""
        return Problem(
            file, self.line_of(key) if key else self.line, layer_path(index, self.name, key), message + suffix
        )


@dataclass
class Architecture:
    file: str
    name: str
    description: str
    source: str
    input: Shape
    input_line: int
    layers: list[LayerSpec]
    blocks: dict[str, Block] = field(default_factory=dict)
    placements: list[Placement] = field(default_factory=list)
    family: str = ""
    """The kind of network it is (``ResNet``): the site's nav and comparison page group by it."""
    metrics: dict[str, Any] = field(default_factory=dict)
    """``acc@1``, ``acc@5`` (numbers), ``dataset``, ``weights`` and ``origin`` (text), as the file gives them."""


def suggestion(word: str, choices: list[str] | tuple[str, ...]) -> str:
    """`` (did you mean 'stride'?)`` when a known word is close, else nothing."""
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def is_symbol_name(text: str) -> bool:
    """A size name must be a plain ASCII identifier: it becomes ``sympy.Symbol(text)``, never parsed."""
    return text.isascii() and text.isidentifier() and not keyword.iskeyword(text)


class _Validator:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.budget = SUGGEST_BUDGET
        self.placed: Placed | None = None  # of the layer being read, when a block placed it
        self.seen: set[tuple[int, str, str]] = set()

    def suggestion(self, word: str, choices: list[str] | tuple[str, ...]) -> str:
        """``suggestion``, while the file's budget of comparisons lasts, with long words skipped."""
        self.budget -= len(choices)
        if self.budget < 0 or len(word) > 2 * MAX_NAME:
            return ""
        return suggestion(word, choices)

    def problem(self, line: int, path: str, message: str) -> None:
        if self.placed is not None:
            message = once(self.seen, line, message, self.placed.suffix())  # type: ignore[assignment]
            if message is None:
                return
        self.problems.append(Problem(self.file, line, path, message))

    def architecture(self, root: YNode) -> Architecture | None:
        if not isinstance(root, YMap):
            self.problem(
                root.line, "", f"expected a mapping with name, input and layers at the top level, got {describe(root)}"
            )
            return None
        for key in root.items:
            if key not in TOP_KEYS:
                self.problem(
                    root.key_lines[key],
                    short(key),
                    f"unknown key{self.suggestion(key, TOP_KEYS)}; expected one of {', '.join(TOP_KEYS)}",
                )
        for key in ("name", "input", "layers"):
            if key not in root.items:
                self.problem(root.line, key, "required key is missing")
        name = self.text(root, "name", MAX_NAME)
        description = self.text(root, "description", None, allowed="\n\t") or ""
        source = self.text(root, "source", None) or ""
        family = self.text(root, "family", MAX_NAME) or ""
        shape = self.input(root.items["input"]) if "input" in root.items else None
        metrics = self.metrics(root.items["metrics"]) if "metrics" in root.items else {}
        expansion = None
        if "layers" in root.items and _has_blocks(root):
            expansion, problems = expand(self.file, root, MAX_LAYERS)
            self.problems += problems
        if expansion is not None and not problems:
            layers = self.layers(YSeq(root.items["layers"].line, expansion.layers), expansion.placed)
        elif "layers" in root.items and expansion is None:
            layers = self.layers(root.items["layers"])
        else:
            layers = []
        if self.problems or name is None or shape is None:
            return None
        blocks, placements = (expansion.blocks, expansion.placements) if expansion else ({}, [])
        return Architecture(
            self.file,
            name,
            description,
            source,
            shape,
            root.items["input"].line,
            layers,
            blocks,
            placements,
            family,
            metrics,
        )

    def metrics(self, node: YNode) -> dict[str, Any]:
        """``metrics:``: accuracies in percent and the text that says whose and where from; ``origin`` required."""
        if not isinstance(node, YMap) or not node.items:
            self.problem(node.line, "metrics", f"expected a mapping of {', '.join(METRIC_KEYS)}, got {describe(node)}")
            return {}
        out: dict[str, Any] = {}
        for key, value in node.items.items():
            path, line = f"metrics.{short(key)}", node.key_lines[key]
            if key not in METRIC_KEYS:
                self.problem(
                    line,
                    path,
                    f"unknown key{self.suggestion(key, tuple(METRIC_KEYS))}; expected one of {', '.join(METRIC_KEYS)}",
                )
            elif key.startswith("acc@"):
                number = value.value if isinstance(value, YScalar) else None
                if isinstance(number, bool) or not isinstance(number, int | float) or not 0 <= number <= 100:
                    self.problem(value.line, path, f"expected a percentage from 0 to 100, got {describe(value)}")
                else:
                    out[key] = number
            elif not (isinstance(value, YScalar) and isinstance(value.value, str) and value.value.strip()):
                self.problem(value.line, path, f"expected a non-empty string, got {describe(value)}")
            elif name_fault(value.value, None):
                self.problem(value.line, path, f"expected {name_fault(value.value, None)}")
            else:
                out[key] = value.value
        if "origin" not in node.items:
            self.problem(node.line, "metrics.origin", "required key is missing: say where the figures come from")
        return out

    def text(self, root: YMap, key: str, limit: int | None, allowed: str = "") -> str | None:
        """A non-empty string; one line of printable text unless ``allowed`` lets more through
        (the description may hold line breaks and tabs), and at most ``limit`` characters."""
        node = root.items.get(key)
        if node is None:
            return None
        if not (isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip()):
            self.problem(node.line, key, f"expected a non-empty string, got {describe(node)}")
            return None
        if allowed:
            fault = unprintable(node.value, allowed, prose=True)
            if fault:
                self.problem(node.line, key, f"expected printable text, got {describe(node)} ({fault})")
                return None
            return node.value
        fault = name_fault(node.value, limit)
        if fault:
            self.problem(node.line, key, f"expected {fault}")
            return None
        return node.value

    def input(self, node: YNode) -> Shape | None:
        expected = "a list of 1 to 4 sizes, channels last ([L, C], [H, W, C] or [D, H, W, C])"
        if not isinstance(node, YSeq) or not 1 <= len(node.items) <= 4:
            self.problem(node.line, "input", f"expected {expected}, got {describe(node)}")
            return None
        sizes: list[Any] = []
        for i, item in enumerate(node.items):
            value = item.value if isinstance(item, YScalar) else None
            if isinstance(value, int) and not isinstance(value, bool) and value > 0:
                sizes.append(value)
            elif isinstance(value, str) and is_symbol_name(value) and len(value) <= MAX_NAME:
                import sympy  # only symbolic sizes need SymPy

                from cnnmacros.symbolic import reserved_name

                why = reserved_name(value)
                if why:
                    self.problem(
                        item.line,
                        f"input[{i}]",
                        f"expected a size name that reads as itself (such as H or width), got {value!r}, {why}",
                    )
                    continue
                sizes.append(sympy.Symbol(value, integer=True, positive=True))
            else:
                self.problem(
                    item.line,
                    f"input[{i}]",
                    f"expected a positive integer or a size name (an identifier such as H), got {describe(item)}",
                )
        return tuple(sizes) if len(sizes) == len(node.items) else None

    def layers(self, node: YNode, placed: list[Placed | None] | None = None) -> list[LayerSpec]:
        """The layers of the file, or of its expansion, where ``placed`` says what placed each."""
        if not isinstance(node, YSeq) or not node.items:
            self.problem(node.line, "layers", f"expected a non-empty list of layers, got {describe(node)}")
            return []
        if len(node.items) > MAX_LAYERS:
            self.problem(
                node.line,
                "layers",
                f"expected at most {MAX_LAYERS:,} layers, got {len(node.items):,} (the limit is {MAX_LAYERS:,})",
            )
            return []
        specs = []
        first_use: dict[str, tuple[int, int]] = {}
        named: dict[str, None] = {}  # every earlier name in order, even of a layer with other problems
        for index, item in enumerate(node.items):
            self.placed = placed[index] if placed else None
            spec = self.layer(index, item, named)  # read only: this layer's own name is added after
            name = item.items.get("name") if isinstance(item, YMap) else None
            if isinstance(name, YScalar) and isinstance(name.value, str):
                named[name.value] = None
            if spec is None:
                continue
            if placed:  # the expansion has checked every name once
                first_use.setdefault(spec.name, (index, spec.line_of("name")))
                specs.append(spec)
                continue
            if spec.name == INPUT:
                self.problem(
                    spec.line_of("name"),
                    layer_path(index, spec.name, "name"),
                    f"expected a name other than {INPUT!r}, which `from` uses for the network's input",
                )
            elif spec.name in first_use:
                other, line = first_use[spec.name]
                self.problem(
                    spec.line_of("name"),
                    layer_path(index, spec.name, "name"),
                    f"expected a name not used before, got {spec.name!r} (already layers[{other}], line {line})",
                )
            else:
                first_use[spec.name] = (index, spec.line_of("name"))
            specs.append(spec)
        self.placed = None
        return specs

    def sources(
        self, index: int, name: str | None, kind_name: str, layer: YMap, earlier: dict[str, None]
    ) -> tuple[str, ...]:
        """The names in a layer's `from`: earlier layers or the network's input, as many as its type takes."""
        kind = REGISTRY[kind_name]
        node = layer.items.get("from")
        low, high = kind.sources
        count = (
            f"{low} or more names" if high is None else f"{low} name" if low == high == 1 else f"{low} to {high} names"
        )
        path = layer_path(index, name, "from")
        if node is None:
            if low > 1:
                self.problem(layer.line, path, f"required key for {kind_name} is missing")
            return ()
        items = [node] if isinstance(node, YScalar) else node.items if isinstance(node, YSeq) else None
        names = [i.value for i in items or [] if isinstance(i, YScalar) and isinstance(i.value, str)]
        if items is None or len(names) != len(items) or not low <= len(names) <= (high or len(names)):
            self.problem(node.line, path, f"expected {count} of earlier layers (or {INPUT!r}), got {describe(node)}")
            return ()
        for found in names:
            if found != INPUT and found not in earlier:
                # the nearest earlier names only: a typo names a layer close by, and comparing every
                # name with every earlier one would take time in the square of the layer count
                close = self.suggestion(found, sorted({*itertools.islice(reversed(earlier), SUGGEST_FROM), INPUT}))
                self.problem(
                    node.line, path, f"expected the name of an earlier layer or {INPUT!r}{close}, got {excerpt(found)}"
                )
        return tuple(names)

    def layer(self, flat_index: int, node: YNode, earlier: dict[str, None]) -> LayerSpec | None:
        index = self.placed.index if self.placed else flat_index  # as a path names it
        if not isinstance(node, YMap):
            self.problem(
                node.line,
                layer_path(index, None),
                f"expected a mapping with name, type and options, got {describe(node)}",
            )
            return None
        name_node = node.items.get("name")
        name = None
        before = len(self.problems)
        if name_node is None:
            self.problem(node.line, layer_path(index, None, "name"), "required key is missing")
        elif isinstance(name_node, YScalar) and isinstance(name_node.value, str) and name_node.value.strip():
            fault = name_fault(name_node.value)
            if fault:
                self.problem(name_node.line, layer_path(index, None, "name"), f"expected {fault}")
            else:
                name = name_node.value
        else:
            self.problem(
                name_node.line,
                layer_path(index, None, "name"),
                f"expected a non-empty string, got {describe(name_node)}",
            )
        type_node = node.items.get("type")
        kind = None
        type_name = ""
        if type_node is None:
            self.problem(node.line, layer_path(index, name, "type"), "required key is missing")
        elif isinstance(type_node, YScalar) and isinstance(type_node.value, str) and type_node.value in KNOWN:
            type_name = ALIASES.get(type_node.value, type_node.value)
            kind = REGISTRY[type_name]
        else:
            found = type_node.value if isinstance(type_node, YScalar) and isinstance(type_node.value, str) else ""
            self.problem(
                type_node.line,
                layer_path(index, name, "type"),
                f"expected a known layer type{self.suggestion(found, sorted(REGISTRY))}, got {describe(type_node)}",
            )
        if kind is None:
            return None
        options: dict[str, Any] = {}
        lines = {key: n.line for key, n in node.items.items()}
        known = sorted([*kind.options, "from"])
        sources = self.sources(index, name, type_name, node, earlier)
        for key, value in node.items.items():
            if key in ("name", "type", "from"):
                continue
            option = kind.options.get(key)
            if option is None:
                keys = ", ".join(known) if known else "no options"
                self.problem(
                    value.line,
                    layer_path(index, name, key),
                    f"unknown key for {type_name}{self.suggestion(key, known)}; expected {keys}",
                )
                continue
            try:
                options[key] = option.validator(value)
            except OptionError as exc:
                self.problem(value.line, layer_path(index, name, key), str(exc))
        for key, option in kind.options.items():
            if key not in node.items:
                if option.required:
                    self.problem(node.line, layer_path(index, name, key), f"required key for {type_name} is missing")
                else:
                    options[key] = option.default
        if len(self.problems) > before or name is None:
            return None
        return LayerSpec(flat_index, name, type_name, node.line, options, lines, sources, self.placed)


def _has_blocks(root: YMap) -> bool:
    """Whether a file defines or places blocks: only then is it expanded."""
    if "blocks" in root.items:
        return True
    layers = root.items.get("layers")
    return isinstance(layers, YSeq) and any(isinstance(i, YMap) and "block" in i.items for i in layers.items)


def validate(file: str, root: YNode) -> Architecture:
    """A checked architecture, or an ``ArchitectureError`` with every problem in the file."""
    validator = _Validator(file)
    architecture = validator.architecture(root)
    if validator.problems or architecture is None:
        raise ArchitectureError(validator.problems)
    return architecture


MAX_BYTES = 1024 * 1024
"""The largest architecture file, in bytes (1 MiB)."""

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _kind(mode: int) -> str:
    return next((words for test, words in _KINDS if test(mode)), "not a regular file")


def read_bytes(path: Path, name: str) -> bytes:
    """The bytes of one architecture file, read with every limit in place.

    Only a regular file is read (a FIFO would block, ``/dev/zero`` never ends), checked before it
    is opened and again once open, and at most ``MAX_BYTES`` + 1 bytes of it. A symbolic link must
    stay inside the file's directory; where it leads is never quoted.
    """

    def fail(message: str) -> ArchitectureError:
        return ArchitectureError([Problem(name, 1, "", message)])

    try:
        if path.is_symlink():
            directory = path.absolute().parent.resolve()
            target = path.resolve()
            if not target.is_relative_to(directory):
                raise fail(
                    f"expected a file in {printable(str(path.parent))}, got a symbolic link that leads out "
                    "of it (links must stay inside the architecture directory)"
                )
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise fail(f"expected a regular file, got {_kind(info.st_mode)}")
        if info.st_size > MAX_BYTES:
            raise fail(_size_message(info.st_size))
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
        try:
            info = os.fstat(fd)  # the file opened is the one checked, not one swapped in since
            if not stat.S_ISREG(info.st_mode):
                raise fail(f"expected a regular file, got {_kind(info.st_mode)}")
            chunks, left = [], MAX_BYTES + 1
            while left > 0:
                chunk = os.read(fd, min(left, 1 << 16))
                if not chunk:
                    break
                chunks.append(chunk)
                left -= len(chunk)
        finally:
            os.close(fd)
    except OSError as exc:
        raise fail(f"cannot read the file: {exc.strerror or exc}") from None
    except RuntimeError:  # a loop of symbolic links, on Pythons that raise it from resolve()
        raise fail("cannot read the file: too many levels of symbolic links") from None
    data = b"".join(chunks)
    if len(data) > MAX_BYTES:  # it grew since it was checked
        raise fail(_size_message(len(data), at_least=True))
    return data


def _size_message(size: int, at_least: bool = False) -> str:
    got = f"{'at least ' if at_least else ''}{size:,} bytes"
    return f"expected a file of at most {MAX_BYTES:,} bytes (1 MiB), got {got}"


def read(path: Path | str, display: str | None = None) -> Architecture:
    """Load and validate one file; ``display`` is how messages name it (the path as given)."""
    path = Path(path)
    name = display if display is not None else str(path)
    return validate(name, load(name, read_bytes(path, name)))
