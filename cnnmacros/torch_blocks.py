"""import-torch's blocks: one block per module class that occurs more than once, so that an imported
ResNet-50 reads as its paper draws it.

The flat layers of ``torch_import.translate`` each belong to a module path. A module's layers, in
the file's order, become its *content*: its own layers, and for each child module either a
placement of the child's block or the child's content inlined. The instances of one class become
one block when their contents line up: the same local names in one order (a layer that some
instances lack is kept ``when`` a parameter says so), the same types, and the same ``from`` once
left-out layers stand for their first input. Every option that differs between instances is a
parameter; its default is its most common value, so a placement lists what is special about it.
The children ``0`` to ``n - 1`` of a ``Sequential`` that are copies of one block in a chain are one
placement with ``repeat`` (and ``first`` for what copy 0 does differently).

Nothing is trusted: the file is expanded and validated, and its layers must be the flat file's,
name for name, type, options and inputs. A class whose instances fail is inlined and the file is
written again; in the end the flat file is the fallback.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from cnnmacros.blocks import PLACEMENT_KEYS

if TYPE_CHECKING:
    from torch import nn

    from cnnmacros.torch_import import Layer

INPUT = "input"
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict")
"""torch.nn's containers: a class of their own for every content, never a block."""


@dataclass
class Entry:
    """One item of a content: a layer, or a placement of a block (``repeat`` copies, ``first``)."""

    name: str  # full path while a content is built; local within a block's template
    kind: str  # "layer" or "place"
    what: str  # the layer type, or the block name
    options: dict[str, Any]  # a layer's options (defaults filled in); a placement's arguments (all)
    sources: list[str]  # what it reads (full names, or local ones in a template)
    origin: str
    repeat: int | None = None
    first: dict[str, Any] = field(default_factory=dict)
    when: str | None = None  # in a template: the boolean parameter that keeps it
    output: str = ""  # a placement's output: its (last copy's) last layer


@dataclass
class Template:
    """A block as written: its parameters and their defaults, its inputs and its entries."""

    name: str
    cls: str
    params: dict[str, Any]
    inputs: list[str]
    entries: list[Entry]
    count: int
    members: set[str]
    """The instances it stands for: the paths of those that line up."""


class _MisfitError(Exception):
    """The instances of a class do not line up as one block."""


def _snake(name: str) -> str:
    text = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name.strip("_"))
    text = re.sub(r"[^A-Za-z0-9_]", "_", text).lower()
    return text if text and not text[0].isdigit() else f"b_{text}"


def _ident(text: str) -> str:
    out = re.sub(r"[^A-Za-z0-9_]", "_", text).strip("_")
    out = re.sub(r"_+", "_", out)
    return out if out and not out[0].isdigit() else f"l{out}"


def _defaults(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    from cnnmacros.layers import REGISTRY

    declared = REGISTRY[kind].options
    return {k: options.get(k, o.default) for k, o in declared.items()}


class Writer:
    """Builds the contents and blocks of one imported model."""

    def __init__(self, layers: list[Layer], model: nn.Module, inline: set[str]) -> None:
        self.layers = layers
        self.modules = dict(model.named_modules())
        self.index = {layer.name: i for i, layer in enumerate(layers)}
        self.inline = inline  # classes that must not be blocks
        self.templates: dict[str, Template] = {}  # class path -> its block
        self.names: set[str] = set()
        self.failed: set[str] = set()
        self.args: dict[str, dict[str, Any]] = {}  # an instance's path -> its block's arguments (all)
        self.inputs: dict[str, list[str]] = {}  # an instance's path -> what it reads from outside, in order
        self.instances: Counter[str] = Counter()
        for path, module in self.modules.items():
            if path and type(module).__name__ not in _CONTAINERS:
                self.instances[self._cls(path)] += 1
        self.under = self._group()

    def _cls(self, path: str) -> str:
        m = self.modules[path]
        return f"{type(m).__module__}.{type(m).__qualname__}"

    def _group(self) -> dict[str, list[int]]:
        """Each module path -> the indices of the layers under it."""
        out: dict[str, list[int]] = {}
        for i, layer in enumerate(self.layers):
            parts = layer.name.split(".")
            for k in range(len(parts)):
                prefix = ".".join(parts[:k])
                if prefix == "" or prefix in self.modules:
                    out.setdefault(prefix, []).append(i)
        return out

    # Contents ---------------------------------------------------------------------------------

    def content(self, path: str) -> list[Entry]:
        """The entries of the module at ``path`` ("" for the model), full names."""
        indices = self.under.get(path, [])
        entries: list[Entry] = []
        i = 0
        prefix = f"{path}." if path else ""
        while i < len(indices):
            layer = self.layers[indices[i]]
            rest = layer.name[len(prefix) :]
            child = rest.split(".")[0]
            child_path = prefix + child
            group = self.under.get(child_path, []) if "." in rest and child_path in self.modules else []
            if len(group) > 0 and indices[i : i + len(group)] == group:
                entries += self.child(child_path)
                i += len(group)
                continue
            entries.append(self.layer_entry(layer))
            i += 1
        # a placed block is read by its name, which stands for its output (and for its input where
        # a `when` leaves it out: its inner names do not)
        outputs = {e.output: e.name for e in entries if e.kind == "place"}
        for e in entries:
            e.sources = [outputs.get(x, x) for x in e.sources]
        return entries

    def layer_entry(self, layer: Layer) -> Entry:
        return Entry(
            layer.name, "layer", layer.type, _defaults(layer.type, layer.options), list(layer.sources), layer.origin
        )

    def child(self, path: str) -> list[Entry]:
        """A child module: a placement of its block, a repeat of copies, or its content inlined."""
        module = self.modules[path]
        if type(module).__name__ in _CONTAINERS:
            repeat = self.repeat(path)
            return [repeat] if repeat is not None else self.content(path)
        template = self.template(self._cls(path))
        if template is None or path not in template.members:
            return self.content(path)
        return [self.placement(path, template)]

    def placement(self, path: str, template: Template) -> Entry:
        args, sources = self.arguments(path, template)
        output = self.layers[self.under[path][-1]].name
        return Entry(path, "place", template.name, args, sources, self._cls(path), output=output)

    def repeat(self, path: str) -> Entry | None:
        """``Sequential`` children 0..n-1, copies of one block, each reading the one before."""
        children = [n for n, _ in self.modules[path].named_children()]
        if len(children) < 2 or children != [str(k) for k in range(len(children))]:
            return None
        paths = [f"{path}.{c}" for c in children]
        classes = {self._cls(p) for p in paths if p in self.modules}
        if len(classes) != 1 or any(type(self.modules[p]).__name__ in _CONTAINERS for p in paths):
            return None
        template = self.template(classes.pop())
        if template is None or any(p not in template.members for p in paths):
            return None
        placed = [self.arguments(p, template) for p in paths]
        outputs = [self.layers[self.under[p][-1]].name for p in paths]
        for k in range(1, len(paths)):
            args, sources = placed[k]
            if args != placed[1][0] or sources[0] != outputs[k - 1] or sources[1:] != placed[0][1][1:]:
                return None
        base, first_args = placed[1][0], placed[0][0]
        first = {k: v for k, v in first_args.items() if base.get(k) != v}
        return Entry(
            path, "place", template.name, base, placed[0][1], self._cls(paths[0]), len(paths), first, output=outputs[-1]
        )

    def arguments(self, path: str, template: Template) -> tuple[dict[str, Any], list[str]]:
        return self.args[path], self.inputs[path]

    # Blocks -----------------------------------------------------------------------------------

    def template(self, cls: str) -> Template | None:
        """The block of a class with two or more instances that line up, or None."""
        if cls in self.templates:
            return self.templates[cls]
        if cls in self.failed or cls in self.inline or self.instances[cls] < 2:
            return None
        self.failed.add(cls)  # while it is built: a class inside itself is inlined
        paths = [p for p in self.modules if p and self._cls(p) == cls and p in self.under]
        found = self._largest(cls, paths)
        if found is None:
            return None
        template, args, inputs = found
        short = cls.rsplit(".", 1)[-1]
        template.name = _snake(short)
        while template.name in self.names:
            template.name += "_"
        self.names.add(template.name)
        self.failed.discard(cls)
        self.templates[cls] = template
        self.args.update(args)
        self.inputs.update(inputs)
        return template

    def _largest(self, cls: str, paths: list[str]) -> Any:
        """The block of all instances; else of the most instances that share one layout (MBConv's
        first, which does not expand, stays inlined), grown one instance at a time."""
        try:
            return self.unify(cls, paths)
        except _MisfitError:
            pass
        layouts: dict[tuple, list[str]] = {}
        for path in paths:
            indices = self.under[path]
            if indices != list(range(indices[0], indices[-1] + 1)):
                continue
            entries = self.content(path)
            key = tuple((e.name[len(path) + 1 :], e.kind, e.what if e.kind == "place" else "") for e in entries)
            layouts.setdefault(key, []).append(path)
        groups = sorted(layouts.values(), key=len, reverse=True)
        if not groups or len(groups[0]) < 2:
            return None
        members = list(groups[0])
        try:
            found = self.unify(cls, members)
        except _MisfitError:
            return None
        for path in paths:
            if path in members:
                continue
            try:
                found = self.unify(cls, [*members, path])
                members.append(path)
            except _MisfitError:
                continue
        return found

    def unify(self, cls: str, paths: list[str]) -> tuple[Template, dict[str, dict[str, Any]], dict[str, list[str]]]:
        contents: list[list[Entry]] = []
        externals: list[list[str]] = []
        for path in paths:
            indices = self.under[path]
            if indices != list(range(indices[0], indices[-1] + 1)) or len(indices) < 2:
                raise _MisfitError
            entries = self.content(path)
            prefix = path + "."
            inside = {self.layers[i].name for i in indices} | {e.name for e in entries}
            outside: list[str] = []
            local = []
            for e in entries:
                sources = []
                for s in e.sources:
                    if s in inside or _inner(s, entries):
                        sources.append(s[len(prefix) :])
                    else:
                        if s not in outside:
                            outside.append(s)
                        sources.append(f"\0{outside.index(s)}")
                local.append(
                    Entry(
                        e.name[len(prefix) :],
                        e.kind,
                        e.what,
                        e.options,
                        sources,
                        _local_origin(e.origin, path),
                        e.repeat,
                        e.first,
                        output=e.output[len(prefix) :] if e.output else "",
                    )
                )
            contents.append(local)
            externals.append(outside)
        if len({len(x) for x in externals}) != 1 or not externals[0]:
            raise _MisfitError
        inputs = [INPUT] + [f"input{k + 1}" for k in range(1, len(externals[0]))]
        for local in contents:
            for e in local:
                e.sources = [inputs[int(s[1:])] if s.startswith("\0") else s for s in e.sources]
        order = _merge([[e.name for e in local] for local in contents])
        if any(2 * len(local) < len(order) for local in contents):
            raise _MisfitError  # instances that share too little are no one block
        by_name = [{e.name: e for e in local} for local in contents]
        # one representative per entry: the first instance that has it
        rep = {n: next(b[n] for b in by_name if n in b) for n in order}
        for n in order:
            for b in by_name:
                if n in b and (b[n].kind, b[n].what if b[n].kind == "place" else "") != (
                    rep[n].kind,
                    rep[n].what if rep[n].kind == "place" else "",
                ):
                    raise _MisfitError
        # from: each instance, with what it lacks standing for its first input, reads what it does;
        # of the instances' `from` for one entry, the first that holds for every instance is the template's
        stand: list[dict[str, str]] = [{} for _ in by_name]
        previous = [INPUT for _ in by_name]
        fullest = sorted(range(len(by_name)), key=lambda i: -len(by_name[i]))
        for n in order:
            candidates = []
            for i in fullest:
                if n in by_name[i] and by_name[i][n].sources not in candidates:
                    candidates.append(by_name[i][n].sources)
            chosen = None
            for candidate in candidates:
                if all(
                    [stand[i].get(x, x) for x in candidate] == b[n].sources for i, b in enumerate(by_name) if n in b
                ):
                    chosen = candidate
                    break
            if chosen is None:
                raise _MisfitError
            rep[n] = Entry(**{**rep[n].__dict__, "sources": chosen})
            for i, b in enumerate(by_name):
                if n in b:
                    previous[i] = b[n].output or n
                else:
                    resolved = [stand[i].get(x, x) for x in chosen]
                    stand[i][n] = resolved[0] if resolved else previous[i]
                    previous[i] = stand[i][n]
        for i, local in enumerate(contents):  # the block's output is its last layer's, or what stands for it
            if previous[i] not in (local[-1].name, local[-1].output):
                raise _MisfitError
        # the columns: every option (and type, repeat) that differs is a parameter
        columns: dict[tuple[str, str], list[Any]] = {}
        missing = object()
        for n in order:
            keys: list[str] = []
            for b in by_name:
                if n in b:
                    keys += [k for k in b[n].options if k not in keys]
            if rep[n].kind == "layer":
                columns[(n, "type")] = [b[n].what if n in b else missing for b in by_name]
            else:
                columns[(n, "repeat")] = [b[n].repeat if n in b else missing for b in by_name]
                firsts = {repr(b[n].first) for b in by_name if n in b}
                if len(firsts) != 1:
                    raise _MisfitError
            for k in keys:
                columns[(n, k)] = [b[n].options.get(k, missing) if n in b else missing for b in by_name]
            columns[(n, "")] = [n in b for b in by_name]
        params: dict[str, Any] = {}
        refs: dict[tuple[str, str], str] = {}
        taken = set(PLACEMENT_KEYS)
        varying = []
        for (n, k), values in columns.items():
            present = [v for v in values if v is not missing]
            if k == "":
                if all(values):
                    continue
            elif any(v is missing for v, p in zip(values, columns[(n, "")]) if p):
                raise _MisfitError  # an option a type does not have
            elif len({repr(v) for v in present}) == 1:
                continue
            varying.append((n, k, values))
        signatures: dict[tuple, list[tuple[str, str]]] = {}
        for n, k, values in varying:
            signatures.setdefault((k == "", tuple(repr(v) for v in values)), []).append((n, k))
        keys_used = Counter(
            {c[1] for c in columns_}.pop() if len({c[1] for c in columns_}) == 1 else ""
            for columns_ in signatures.values()
        )
        for members in signatures.values():
            n, k = members[0]
            values = columns[(n, k)]
            keys = {key for _, key in members}
            if k == "":
                name = "has_" + _ident(n)
            elif len(keys) == 1 and keys_used[k] == 1 and k not in ("type", "repeat"):
                name = _ident(k)
            else:
                name = f"{_ident(n)}_{k}"
            while name in taken:
                name += "_"
            taken.add(name)
            for member in members:
                refs[member] = name
            present = [v for v in values if v is not missing]
            counts = Counter(repr(v) for v in present)
            best = max(counts.values())
            params[name] = next(v for v in present if counts[repr(v)] == best)
        entries = []
        for n in order:
            r = rep[n]
            options = {k: f"${refs[(n, k)]}" if (n, k) in refs else v for k, v in r.options.items()}
            what = f"${refs[(n, 'type')]}" if (n, "type") in refs else r.what
            repeat = f"${refs[(n, 'repeat')]}" if (n, "repeat") in refs else r.repeat
            when = refs.get((n, ""))
            entries.append(Entry(n, r.kind, what, options, r.sources, r.origin, repeat, r.first, when, r.output))
        args: dict[str, dict[str, Any]] = {}
        for path, b in zip(paths, by_name):
            given = {}
            for (n, k), name in refs.items():
                if k == "":
                    value = n in b
                elif k == "type":
                    value = b[n].what if n in b else params[name]
                elif k == "repeat":
                    value = b[n].repeat if n in b else params[name]
                else:
                    value = b[n].options[k] if n in b else params[name]
                given[name] = value
            args[path] = given
        inputs_of = {path: ext for path, ext in zip(paths, externals)}
        return Template("", cls, params, inputs, entries, len(paths), set(paths)), args, inputs_of


def _inner(name: str, entries: list[Entry]) -> bool:
    """A name inside a placed block of this content (``conv.bn`` of a placement ``conv``)."""
    return any(e.kind == "place" and name.startswith(e.name + ".") for e in entries)


def _local_origin(origin: str, path: str) -> str:
    return origin.replace(f"{path}.", "", 1).replace(f" in {path} (", " in the block (", 1)


def _merge(sequences: list[list[str]]) -> list[str]:
    """One order that holds each sequence in its order (names missing from some are inserted
    after their predecessor); raises _MisfitError when the orders disagree."""
    order: list[str] = []
    for seq in sequences:
        at = 0
        for name in seq:
            if name in order:
                if order.index(name) < at:
                    raise _MisfitError
                at = order.index(name) + 1
            else:
                order.insert(at, name)
                at += 1
    for seq in sequences:
        positions = [order.index(n) for n in seq]
        if positions != sorted(positions):
            raise _MisfitError
    return order


# Writing --------------------------------------------------------------------------------------


def _entry_line(entry: Entry, previous: str, defaults: dict[str, Any], indent: str) -> str:
    from cnnmacros.torch_import import _yaml

    parts = [f"name: {_yaml(entry.name)}"]
    if entry.kind == "layer":
        parts.append(f"type: {entry.what}")
    else:
        parts.append(f"block: {entry.what}")
        if entry.repeat is not None:
            parts.append(f"repeat: {entry.repeat}")
    for key, value in entry.options.items():
        if isinstance(value, str) and value.startswith("$") or defaults.get(key, _NONE) != value:
            parts.append(f"{key}: {_value(value)}")
    if entry.first:
        parts.append("first: {" + ", ".join(f"{k}: {_value(v)}" for k, v in entry.first.items()) + "}")
    if entry.sources not in ([name] for name in previous.split("\0")):
        parts.append(f"from: {_yaml(entry.sources if len(entry.sources) > 1 else entry.sources[0])}")
    if entry.when:
        parts.append(f"when: ${entry.when}")
    from cnnmacros.errors import printable

    return f"{indent}- {{" + ", ".join(parts) + "}  # " + printable(entry.origin)


_NONE = object()


def _value(value: Any) -> str:
    from cnnmacros.torch_import import _yaml

    if isinstance(value, str) and value.startswith("$") and value[1:].isidentifier():
        return value
    return _yaml(value)


def _lines(entries: list[Entry], writer: Writer, first_input: str, indent: str) -> list[str]:
    from cnnmacros.layers import REGISTRY

    by_block = {t.name: t for t in writer.templates.values()}
    lines, previous = [], first_input
    for entry in entries:
        if entry.kind == "layer":
            kind = REGISTRY.get(entry.what)
            defaults = {k: o.default for k, o in kind.options.items()} if kind else {}
        else:
            defaults = by_block[entry.what].params
        lines.append(_entry_line(entry, previous, defaults, indent))
        previous = f"{entry.name}\0{entry.output}" if entry.output else entry.name
    return lines


def text_of(writer: Writer, head: list[str]) -> str:
    top = writer.content("")
    used = _used(top, writer)
    lines = list(head)
    if used:
        lines.append("blocks:")
        for template in used:
            lines.append(f"  {template.name}:  # {template.cls}, placed {template.count} times")
            if template.params:
                lines.append("    params: {" + ", ".join(f"{k}: {_value(v)}" for k, v in template.params.items()) + "}")
            if template.inputs != [INPUT]:
                lines.append("    inputs: [" + ", ".join(template.inputs) + "]")
            lines.append("    layers:")
            lines += _lines(template.entries, writer, INPUT, "      ")
    lines.append("layers:")
    lines += _lines(top, writer, INPUT, "  ")
    return "\n".join(lines) + "\n"


def _used(top: list[Entry], writer: Writer) -> list[Template]:
    """The blocks the file places, each after the blocks it places."""
    by_block = {t.name: t for t in writer.templates.values()}
    order: list[Template] = []

    def visit(entries: list[Entry]) -> None:
        for e in entries:
            if e.kind == "place" and by_block[e.what] not in order:
                visit(by_block[e.what].entries)
                order.append(by_block[e.what])

    visit(top)
    return order


def _specs(text: str) -> list[tuple[str, str, dict[str, Any], tuple[str, ...], str | None]]:
    """Each layer of a file as (name, type, options, what it reads, the block type that holds it)."""
    from cnnmacros.architecture import validate
    from cnnmacros.yamlnodes import load

    architecture = validate("import", load("import", text.encode("utf-8")))
    out, previous = [], INPUT
    for spec in architecture.layers:
        options = {k: _same(v) for k, v in spec.options.items()}
        out.append((spec.name, spec.type, options, spec.sources or (previous,), spec.block_type))
        previous = spec.name
    return out


def _same(value: Any) -> Any:
    """One value for every axis as that value: ``stride: 1`` and ``stride: [1, 1]`` are one layer."""
    if isinstance(value, tuple | list) and value and len({repr(v) for v in value}) == 1:
        return _same(value[0])
    return value


def block_text(
    name: str,
    source: str,
    input_shape: tuple[int, ...],
    layers: list[Layer],
    note: str,
    header: dict[str, Any] | None,
    model: nn.Module,
    flat: str,
) -> str | None:
    """The file with blocks, whose every layer is the flat file's; None when no block is left."""
    from cnnmacros.errors import ArchitectureError
    from cnnmacros.torch_import import header_lines

    head = [*header_lines(name, source, input_shape, note, header)]
    expected = [s[:4] for s in _specs(flat)]
    inline: set[str] = set()
    for _attempt in range(20):
        writer = Writer(layers, model, inline)
        text = text_of(writer, head)
        if not writer.templates:
            return None
        try:
            got = _specs(text)
        except ArchitectureError:
            return None
        if [g[:4] for g in got] == expected:
            return text
        by_block = {t.name: t.cls for t in writer.templates.values()}
        wrong = {g[4] for g, e in zip(got, expected) if g[:4] != e and g[4]} or set(by_block)
        if len(got) != len(expected):
            wrong = set(by_block)
        inline |= {by_block[b] for b in wrong if b in by_block}
    return None
