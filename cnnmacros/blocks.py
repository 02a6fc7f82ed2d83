"""Blocks and repeats: a file written the way its paper draws it, expanded into the flat list of
layers that the rest of cnnmacros reads.

Expansion works on located YAML nodes, before validation: a placed block's layers become plain
layer mappings, named ``PLACED.LOCAL`` (``PLACED.i.LOCAL`` for copy i of a repeat), with every
``$NAME`` replaced by its parameter's node, left-out layers (``when``/``unless``) dropped and every
``from`` resolved to expanded names. Each expanded layer keeps the lines of its block's definition,
and a ``Placed`` record of where it was placed, so that validation and the engine can report a
problem at both places. Nothing is evaluated: a value is replaced whole, never computed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from cnnmacros.errors import Problem, layer_path, printable, short
from cnnmacros.yamlnodes import YMap, YNode, YScalar, YSeq, describe, excerpt

INPUT = "input"
PLACEMENT_KEYS = ("name", "block", "from", "repeat", "first", "when", "unless")
"""The keys of a placed block that are not its parameters."""
BLOCK_KEYS = ("params", "inputs", "layers")
MAX_DEPTH = 8
"""How deep blocks may place blocks (a repeat adds no depth)."""


@dataclass(frozen=True)
class Placed:
    """Where an expanded layer comes from: its index in its block's ``layers``, and the chain of
    placements that put it there, innermost first, as (block, line of the placement)."""

    index: int
    chain: tuple[tuple[str, int], ...]
    block: str  # the innermost placed block or copy that holds the layer (``layer2.0``)

    def suffix(self) -> str:
        return placed_suffix(self.chain)


def placed_suffix(chain: tuple[tuple[str, int], ...]) -> str:
    """`` (block bottleneck, placed at line 41)``; nested placements follow, outwards."""
    return " (" + "; ".join(f"block {name}, placed at line {line}" for name, line in chain) + ")"


def once(seen: set[tuple[int, str, str]], line: int, message: str, suffix: str) -> str | None:
    """``message`` with the placement's ``suffix``, or None when it was reported already: the copies
    of one repeat share a fault of their definition, and it is reported once."""
    key = (line, message, suffix)
    if key in seen:
        return None
    seen.add(key)
    return message + suffix


@dataclass
class Block:
    """One entry of ``blocks:`` as written: its parameters (None when required), inputs and layers."""

    name: str
    line: int
    params: dict[str, YNode | None]
    inputs: tuple[str, ...]
    layers: list[YNode]


@dataclass
class Placement:
    """One placed block (of the top level or inside a block), for the pages' stage tables."""

    name: str
    block: str
    line: int
    repeat: int | None
    given: dict[str, YNode]
    first: dict[str, YNode]
    depth: int


@dataclass
class Expansion:
    """The flat layers and, for each, where it was placed (None for a top-level layer)."""

    layers: list[YMap]
    placed: list[Placed | None]
    blocks: dict[str, Block]
    placements: list[Placement] = field(default_factory=list)


class _Scope:
    """The names one list of layers can read: its own layers (and the inner names of the blocks it
    places, ``conv.bn``), and its inputs, each resolved to an expanded name."""

    def __init__(self, inputs: dict[str, str]) -> None:
        self.names: dict[str, str] = dict(inputs)
        self.inputs = tuple(inputs)


class Expander:
    """Expands one file's ``blocks`` and ``layers``, collecting every problem it meets."""

    def __init__(self, file: str, max_layers: int) -> None:
        self.file = file
        self.max_layers = max_layers
        self.problems: list[Problem] = []
        self.seen: set[tuple[int, str, str]] = set()
        self.blocks: dict[str, Block] = {}
        self.out: list[YMap] = []
        self.placed: list[Placed | None] = []
        self.placements: list[Placement] = []
        self.names: dict[str, tuple[int, bool]] = {}  # every name: its line, and whether a block placed it
        self.last = INPUT  # the expanded name that a layer without `from` reads
        self.too_many = False
        self.cyclic: set[str] = set()

    # Problems ------------------------------------------------------------------------------

    def problem(self, line: int, path: str, message: str, chain: tuple[tuple[str, int], ...] = ()) -> None:
        """A problem, once: a fault in a block's definition is reported at its first placement only."""
        if chain:
            message = once(self.seen, line, message, placed_suffix(chain))  # type: ignore[assignment]
            if message is None:
                return
        self.problems.append(Problem(self.file, line, path, message))

    # Definitions ---------------------------------------------------------------------------

    def read_blocks(self, node: YNode) -> None:
        if not isinstance(node, YMap) or not node.items:
            self.problem(node.line, "blocks", f"expected a mapping of block names to blocks, got {describe(node)}")
            return
        for name, definition in node.items.items():
            path = f"blocks.{short(name)}"
            if not name.isidentifier():
                self.problem(
                    node.key_lines[name],
                    path,
                    f"expected a block name of letters, digits and '_' (an identifier), got {excerpt(name)}",
                )
                continue
            block = self.read_block(name, definition, path)
            if block is not None:
                self.blocks[name] = block
        self.check_references()
        self.check_cycles()

    def read_block(self, name: str, node: YNode, path: str) -> Block | None:
        if not isinstance(node, YMap):
            self.problem(node.line, path, f"expected a mapping with params, inputs and layers, got {describe(node)}")
            return None
        for key in node.items:
            if key not in BLOCK_KEYS:
                self.problem(
                    node.key_lines[key], f"{path}.{short(key)}", f"unknown key; expected one of {', '.join(BLOCK_KEYS)}"
                )
        params: dict[str, YNode | None] = {}
        given = node.items.get("params")
        if given is not None:
            if not isinstance(given, YMap):
                self.problem(
                    given.line,
                    f"{path}.params",
                    f"expected a mapping of parameter names to defaults (null: required), got {describe(given)}",
                )
            else:
                for key, value in given.items.items():
                    if not key.isidentifier() or key in PLACEMENT_KEYS:
                        self.problem(
                            given.key_lines[key],
                            f"{path}.params.{short(key)}",
                            "expected a parameter name that is an identifier and none of "
                            f"{', '.join(PLACEMENT_KEYS)}, got {excerpt(key)}",
                        )
                        continue
                    params[key] = None if isinstance(value, YScalar) and value.value is None else value
        inputs: tuple[str, ...] = (INPUT,)
        given_inputs = node.items.get("inputs")
        if given_inputs is not None:
            items = given_inputs.items if isinstance(given_inputs, YSeq) else None
            names = [i.value for i in items or [] if isinstance(i, YScalar) and isinstance(i.value, str)]
            if (
                not items
                or len(names) != len(items)
                or len(set(names)) != len(names)
                or not all(n.isidentifier() for n in names)
            ):
                self.problem(
                    given_inputs.line,
                    f"{path}.inputs",
                    f"expected a list of distinct input names, got {describe(given_inputs)}",
                )
            else:
                inputs = tuple(names)
        layers = node.items.get("layers")
        if layers is None:
            self.problem(node.line, f"{path}.layers", "required key is missing")
            return None
        if not isinstance(layers, YSeq) or not layers.items:
            self.problem(layers.line, f"{path}.layers", f"expected a non-empty list of layers, got {describe(layers)}")
            return None
        return Block(name, node.line, params, inputs, layers.items)

    def check_references(self) -> None:
        """Every ``$NAME`` in a block names one of its parameters, and none stands in a name or a ``from``."""
        for block in self.blocks.values():
            for index, layer in enumerate(block.layers):
                if not isinstance(layer, YMap):
                    continue
                label = _local_name(layer)
                for key, value in layer.items.items():
                    path = f"blocks.{block.name}.{layer_path(index, label, key)}"
                    for node in _scalars(value):
                        ref = _reference(node)
                        if ref is None:
                            continue
                        if key in ("name", "from"):
                            self.problem(
                                node.line,
                                path,
                                f"expected a plain name (a `$` is not replaced in {key}), got {excerpt(node.value)}",
                            )
                        elif ref not in block.params:
                            known = ", ".join(block.params) or "none"
                            self.problem(
                                node.line,
                                path,
                                f"expected a parameter of block {block.name} ({known}), got {excerpt(node.value)}",
                            )

    def check_cycles(self) -> None:
        """A block that places itself, directly or through others, whatever its ``when`` says."""
        edges = {
            name: [
                (v.value, v.line)
                for layer in block.layers
                if isinstance(layer, YMap)
                for v in [layer.items.get("block")]
                if isinstance(v, YScalar) and isinstance(v.value, str) and v.value in self.blocks
            ]
            for name, block in self.blocks.items()
        }
        reported: set[str] = set()
        for start in self.blocks:
            stack = [(start, [start])]
            while stack:
                name, trail = stack.pop()
                for target, line in edges[name]:
                    if target == start and start not in reported:
                        reported.update(trail)
                        cycle = " -> ".join([*trail, start])
                        self.problem(
                            line,
                            f"blocks.{name}",
                            f"expected a block that does not place itself, got the cycle {cycle}",
                        )
                    elif target not in trail:
                        stack.append((target, [*trail, target]))
        self.cyclic = reported

    # Expansion -----------------------------------------------------------------------------

    def expand_top(self, node: YSeq) -> None:
        scope = _Scope({INPUT: INPUT})
        self.expand_list(node.items, None, scope, prefix="", chain=(), depth=0, block=None)

    def expand_list(
        self,
        items: list[YNode],
        params: dict[str, YNode] | None,
        scope: _Scope,
        prefix: str,
        chain: tuple[tuple[str, int], ...],
        depth: int,
        block: str | None,
    ) -> str:
        """Expand one list of layers; returns the expanded name of its output (its last layer's)."""
        previous = scope.names[scope.inputs[0]] if params is not None else self.last
        for index, item in enumerate(items):
            if self.too_many:
                return previous
            if not isinstance(item, YMap):
                if params is None:
                    self.out.append(item)  # type: ignore[arg-type]  # the validator reports it
                    self.placed.append(None)
                    self.last = previous = INPUT
                else:
                    self.problem(
                        item.line,
                        layer_path(index, None),
                        f"expected a mapping with name, type and options, got {describe(item)}",
                        chain,
                    )
                continue
            layer = item if params is None else self.substitute(item, params)
            local = _local_name(layer)
            if params is None and self.top_references(layer, index, local):
                continue
            keep = self.kept(layer, index, local, params, chain)
            if not keep:  # left out (None: after a problem, so that later layers report nothing more)
                stand_in = self.first_source(layer, scope, previous, index, local, chain)
                if local:
                    scope.names[local] = stand_in
                previous = stand_in
                continue
            if "block" in layer.items:
                previous = self.place(layer, index, local, params, scope, previous, prefix, chain, depth)
                continue
            previous = self.emit(layer, index, local, scope, previous, prefix, chain, block, top=params is None)
        return previous

    def top_references(self, layer: YMap, index: int, local: str | None) -> bool:
        """True (with a problem) when a top-level layer holds a ``$NAME``: only blocks have parameters."""
        found = False
        for key, value in layer.items.items():
            for node in _scalars(value):
                if _reference(node) is not None and key not in ("name", "from"):
                    self.problem(
                        node.line,
                        layer_path(index, local, key),
                        f"expected a value, got {excerpt(node.value)} (a `$NAME` is replaced only inside a block, "
                        "by its parameter)",
                    )
                    found = True
        return found

    def substitute(self, layer: YMap, params: dict[str, YNode]) -> YMap:
        """The layer with each ``$NAME`` replaced by its parameter's node, whole."""

        def replace(node: YNode) -> YNode:
            if isinstance(node, YSeq):
                return YSeq(node.line, [replace(i) for i in node.items])
            if isinstance(node, YMap):
                return YMap(node.line, {k: replace(v) for k, v in node.items.items()}, dict(node.key_lines))
            ref = _reference(node)
            if ref is None or ref not in params:
                return node
            value = params[ref]  # at the line of the `$NAME`: a problem shows the block's line first
            if isinstance(value, YScalar):
                return YScalar(node.line, value.value, value.text)
            return type(value)(node.line, *[getattr(value, f) for f in ("items", "key_lines") if hasattr(value, f)])

        items = {key: (value if key in ("name", "from") else replace(value)) for key, value in layer.items.items()}
        return YMap(layer.line, items, dict(layer.key_lines))

    def kept(self, layer: YMap, index: int, local: str | None, params, chain) -> bool | None:
        """Whether ``when``/``unless`` keep the layer; None after a problem."""
        keep = True
        for key in ("when", "unless"):
            node = layer.items.get(key)
            if node is None:
                continue
            path = layer_path(index, local, key)
            if params is None:
                self.problem(
                    node.line,
                    path,
                    f"expected {key} only inside a block, where `{key}: $NAME` names a boolean parameter",
                )
                return None
            if not (isinstance(node, YScalar) and isinstance(node.value, bool)):
                self.problem(
                    node.line, path, f"expected a boolean parameter (true or false), got {describe(node)}", chain
                )
                return None
            keep = keep and (node.value if key == "when" else not node.value)
        return keep

    def resolve(self, node: YScalar, scope: _Scope, index: int, local: str | None, chain, top: bool) -> str | None:
        name = node.value
        if name in scope.names:
            return scope.names[name]
        if top:
            return name  # the validator says what is wrong with it, as for any flat file
        own = ", ".join(repr(n) for n in scope.names) or "none"
        self.problem(
            node.line,
            layer_path(index, local, "from"),
            f"expected the name of an earlier layer of the block or one of its inputs ({own}), "
            f"got {excerpt(str(name))}",
            chain,
        )
        return None

    def sources(self, layer: YMap, scope: _Scope, index: int, local, chain, top: bool) -> list[str] | None:
        """The resolved `from` of a layer, or None when it has none (or a problem)."""
        node = layer.items.get("from")
        if node is None:
            return None
        items = [node] if isinstance(node, YScalar) else node.items if isinstance(node, YSeq) else []
        if not all(isinstance(i, YScalar) and isinstance(i.value, str) for i in items) or not items:
            return [] if top else None  # the validator reports a malformed `from`
        resolved = [self.resolve(i, scope, index, local, chain, top) for i in items]  # type: ignore[arg-type]
        return None if None in resolved else resolved  # type: ignore[return-value]

    def first_source(self, layer: YMap, scope, previous: str, index, local, chain) -> str:
        found = self.sources(layer, scope, index, local, chain, top=False)
        return found[0] if found else previous

    def emit(
        self,
        layer: YMap,
        index: int,
        local: str | None,
        scope: _Scope,
        previous: str,
        prefix: str,
        chain,
        block,
        top: bool,
    ) -> str:
        """One plain layer into the flat list, its name and `from` expanded."""
        if self.count_one(layer.line, index, local, chain):
            return previous
        items = {k: v for k, v in layer.items.items() if k not in ("when", "unless")}
        full = prefix + local if local is not None else None
        if full is not None and prefix:
            items["name"] = YScalar(layer.items["name"].line, full, full)
        if "from" in layer.items:
            found = self.sources(layer, scope, index, local, chain, top)
            if found is None:
                return previous  # a name that is not the block's (reported)
            if found:  # else a malformed `from` at the top level, left for the validator to report
                node = layer.items["from"]
                items["from"] = YSeq(node.line, [YScalar(node.line, n, n) for n in found])
        elif previous != self.last:  # the layer before it was left out, or ended a block
            items["from"] = YSeq(layer.line, [YScalar(layer.line, previous, previous)])
        self.out.append(YMap(layer.line, items, dict(layer.key_lines)))
        self.placed.append(Placed(index, chain, block) if chain else None)
        if full is not None:
            self.claim(full, layer.line, index, local, chain, placed=bool(chain))
            scope.names[local] = full  # type: ignore[index]
        self.last = full if full is not None else INPUT
        return self.last

    def claim(self, name: str, line: int, index: int, local, chain, placed: bool) -> None:
        """A name (of a layer, a placed block or a copy) used once in the whole expanded file. Two
        top-level layers of one name are left to the validator, which reports them as for any file."""
        if name in self.names and (placed or self.names[name][1]):
            self.problem(
                line,
                layer_path(index, local, "name"),
                f"expected a name not used before, got {excerpt(name)} (already used at line {self.names[name][0]})",
                chain,
            )
        self.names.setdefault(name, (line, placed))

    def count_one(self, line: int, index: int, local, chain) -> bool:
        """True (and a problem, once) when the expanded file would pass the layer limit."""
        if len(self.out) < self.max_layers:
            return False
        self.too_many = True
        self.problem(
            line,
            layer_path(index, local),
            f"expected at most {self.max_layers:,} layers once blocks are placed, got more "
            f"(the limit is {self.max_layers:,})",
            chain,
        )
        return True

    def place(
        self,
        layer: YMap,
        index: int,
        local: str | None,
        params,
        scope: _Scope,
        previous: str,
        prefix: str,
        chain,
        depth: int,
    ) -> str:
        """A placed block: its copies, each expanded with its parameters."""
        path = lambda key=None: layer_path(index, local, key)  # noqa: E731
        before = len(self.problems)
        block_node = layer.items["block"]
        if local is None:
            self.problem(layer.line, path("name"), "required key is missing", chain)
        block = self.block_of(block_node, path("block"), chain)
        repeat = self.repeat(layer, path, chain)
        first = layer.items.get("first")
        if first is not None and "repeat" not in layer.items:
            self.problem(
                first.line, path("first"), "expected first only with repeat, which it changes copy 0 of", chain
            )
        if first is not None and not isinstance(first, YMap):
            self.problem(
                first.line,
                path("first"),
                f"expected a mapping of parameters (or block) for copy 0, got {describe(first)}",
                chain,
            )
            first = None
        if depth + 1 > MAX_DEPTH:
            self.problem(
                block_node.line,
                path("block"),
                f"expected blocks placed at most {MAX_DEPTH} deep, got a placement {depth + 1} deep",
                chain,
            )
            return previous
        given = {k: v for k, v in layer.items.items() if k not in PLACEMENT_KEYS}
        first_given = dict(first.items) if isinstance(first, YMap) else {}
        first_block = self.block_of(first_given.pop("block"), path("first"), chain) if "block" in first_given else block
        for candidate, keys in ((block, given), (first_block, first_given)):
            if candidate is None:
                continue
            for key, value in keys.items():
                if key not in candidate.params:
                    known = ", ".join(candidate.params) or "none"
                    self.problem(
                        value.line,
                        path(key),
                        f"unknown parameter of block {candidate.name}; expected one of {known}",
                        chain,
                    )
        sources = self.sources(layer, scope, index, local, chain, top=params is None)
        if sources == [] or (sources is None and "from" in layer.items):
            if params is None and sources == []:
                self.problem(
                    layer.items["from"].line,
                    path("from"),
                    f"expected names of earlier layers (or {INPUT!r}), got {describe(layer.items['from'])}",
                    chain,
                )
            return previous
        if block is None or repeat is None or len(self.problems) > before or local is None:
            return previous
        inputs = sources if sources is not None else [previous]
        for candidate in {block.name: block, first_block.name: first_block}.values():  # type: ignore[union-attr]
            if len(inputs) != len(candidate.inputs):
                node = layer.items.get("from", layer)
                self.problem(
                    node.line,
                    path("from"),
                    f"expected {len(candidate.inputs)} name(s) for the inputs of block {candidate.name} "
                    f"({', '.join(candidate.inputs)}), got {len(inputs)}",
                    chain,
                )
                return previous
        name = prefix + local
        counted = repeat if "repeat" in layer.items else None
        self.placements.append(Placement(name, block.name, layer.line, counted, given, first_given, depth))
        outputs: list[str] = []
        copies = range(repeat) if repeat is not None and "repeat" in layer.items else [None]
        output = previous
        for i in copies:
            this = first_block if i == 0 and first_block is not None else block
            values = {**given, **(first_given if i == 0 else {})}
            missing = [k for k, default in this.params.items() if default is None and k not in values]
            if missing:
                self.problem(layer.line, path(missing[0]), f"required parameter of block {this.name} is missing", chain)
                return previous
            env = {k: values.get(k, default) for k, default in this.params.items()}  # type: ignore[misc]
            copy = name if i is None else f"{name}.{i}"
            self.claim(copy, layer.line, index, local, chain, placed=True)
            copy_inputs = [output if (i is not None and i > 0) else inputs[0], *inputs[1:]]
            inner = _Scope(dict(zip(this.inputs, copy_inputs, strict=True)))
            inner_chain = ((this.name, layer.line), *chain)
            output = self.expand_list(this.layers, env, inner, copy + ".", inner_chain, depth + 1, copy)
            outputs.append(output)
            relative = f"{local}" if i is None else f"{local}.{i}"
            scope.names[relative] = output
            for key, value in inner.names.items():
                if key not in this.inputs:
                    scope.names[f"{relative}.{key}"] = value
        scope.names[local] = output
        if copies != [None]:
            self.claim(name, layer.line, index, local, chain, placed=True)
        return output

    def block_of(self, node: YNode, path: str, chain) -> Block | None:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value in self.blocks:
            return None if node.value in self.cyclic else self.blocks[node.value]  # cycles: reported
        known = ", ".join(self.blocks) or "none are defined"
        self.problem(node.line, path, f"expected the name of a block ({known}), got {describe(node)}", chain)
        return None

    def repeat(self, layer: YMap, path, chain) -> int | None:
        node = layer.items.get("repeat")
        if node is None:
            return 1
        value = node.value if isinstance(node, YScalar) else None
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= self.max_layers:
            return value
        self.problem(
            node.line,
            path("repeat"),
            f"expected a positive integer of at most {self.max_layers:,}, got {describe(node)}",
            chain,
        )
        return None


def _local_name(layer: YMap) -> str | None:
    node = layer.items.get("name")
    return node.value if isinstance(node, YScalar) and isinstance(node.value, str) and node.value else None


def _reference(node: YNode) -> str | None:
    """``width`` for a value written ``$width``; None for any other value."""
    if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.startswith("$"):
        return node.value[1:]
    return None


def _scalars(node: YNode):
    if isinstance(node, YScalar):
        yield node
    elif isinstance(node, YSeq):
        for item in node.items:
            yield from _scalars(item)
    elif isinstance(node, YMap):
        for item in node.items.values():
            yield from _scalars(item)


def expand(file: str, root: YMap, max_layers: int) -> tuple[Expansion | None, list[Problem]]:
    """The flat layers of a file with ``blocks``, or the problems that stop it."""
    expander = Expander(file, max_layers)
    blocks = root.items.get("blocks")
    if blocks is not None:
        expander.read_blocks(blocks)
    layers = root.items.get("layers")
    if isinstance(layers, YSeq) and layers.items:
        expander.expand_top(layers)
    return Expansion(expander.out, expander.placed, expander.blocks, expander.placements), expander.problems


# The flat file ---------------------------------------------------------------------------------

_PLAIN = re.compile(r"\$?[A-Za-z_][A-Za-z0-9_.\-]*")  # $NAME reads back as the string it is
_WORDS = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}


def _value(node: YNode) -> str:
    """A value as YAML flow text that reads back as the same value."""
    if isinstance(node, YSeq):
        return "[" + ", ".join(_value(i) for i in node.items) + "]"
    if isinstance(node, YMap):
        return "{" + ", ".join(f"{_text(k)}: {_value(v)}" for k, v in node.items.items()) + "}"
    assert isinstance(node, YScalar)
    value = node.value
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return node.text if isinstance(value, float) else str(value)  # a decimal as the author wrote it
    return _text(str(value))


def _text(text: str) -> str:
    """A string, plain when YAML cannot read it as anything else, else double-quoted (JSON's
    escapes are YAML's), so that no author text can break out of its value."""
    if _PLAIN.fullmatch(text) and text.lower() not in _WORDS:
        return text
    return json.dumps(text)


def flat_text(root: YMap, expansion: Expansion | None, source: str) -> str:
    """The file with every block placed: one the format reads as it is, whose summary is the
    original's. A comment names the block of each placed copy."""
    lines = [f"# {source} with every block placed, by `cnnmacros expand`"]
    for key in ("name", "description", "source", "input"):
        if key in root.items:
            lines.append(f"{key}: {_value(root.items[key])}")
    lines.append("layers:")
    layers = expansion.layers if expansion else root.items["layers"].items  # type: ignore[union-attr]
    placed = expansion.placed if expansion else [None] * len(layers)
    current = None
    for layer, where in zip(layers, placed, strict=True):
        block = where.block if where else None
        if block != current and where is not None:
            lines.append(f"  # {printable(block)}: block {printable(where.chain[0][0])}")
        current = block
        lines.append(f"  - {_value(layer)}")
    return "\n".join(lines) + "\n"


# What the pages show -------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockView:
    """A block as its page shows it: parameters with their defaults (None: required), inputs, and
    each layer as written, (name, type or block, the other keys, each ``key: value`` as YAML text)."""

    name: str
    params: tuple[tuple[str, str | None], ...]
    inputs: tuple[str, ...]
    layers: tuple[tuple[str, str, tuple[str, ...]], ...]


@dataclass(frozen=True)
class StageView:
    """A top-level placement: its name, block, copies (None without repeat), parameters given and
    those that copy 0 takes instead, each ``key: value`` as YAML text."""

    name: str
    block: str
    repeat: int | None
    given: tuple[str, ...]
    first: tuple[str, ...]


def views(blocks: dict[str, Block], placements: list[Placement]) -> tuple[list[BlockView], list[StageView]]:
    """Plain text for the pages, in the order the file defines and places them."""
    out = []
    for block in blocks.values():
        params = tuple((k, None if v is None else _value(v)) for k, v in block.params.items())
        rows = []
        for layer in block.layers:
            if not isinstance(layer, YMap):
                continue
            kind = layer.items.get("type") or layer.items.get("block")
            what = ("block " if "block" in layer.items else "") + (_value(kind) if kind else "")
            rest = tuple(f"{k}: {_value(v)}" for k, v in layer.items.items() if k not in ("name", "type", "block"))
            rows.append((_local_name(layer) or "", what, rest))
        out.append(BlockView(block.name, params, block.inputs, tuple(rows)))
    stages = [
        StageView(
            p.name,
            p.block,
            p.repeat,
            tuple(f"{k}: {_value(v)}" for k, v in p.given.items()),
            tuple(f"{k}: {_value(v)}" for k, v in p.first.items()),
        )
        for p in placements
        if p.depth == 0
    ]
    return out, stages
