"""Computed rows: what the engine hands to every renderer.

A size or count is an exact ``int``, or a SymPy expression when the input size is symbolic. Rows
keep the formula name and the substituted values of every figure (``Step``), so a renderer can show
the formula that produced a number without computing anything again.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

Size = int | Any  # int, or a sympy.Expr for symbolic input sizes
Shape = tuple[Size, ...]


def is_number(value: Size) -> bool:
    return isinstance(value, int)


def product(values: Shape) -> Size:
    return math.prod(values)


def add_up(values: Iterable[Size]) -> Size:
    """The sum of sizes: integers added as integers, symbolic terms in whichever of two exact forms
    has fewer terms. One product per layer, 4608*(H - 4)*(W - 4) + 432*(H - 2)*(W - 2), shows where
    a small network's total comes from; a polynomial in the input sizes, 518400*H*W - ..., keeps
    the total of a long file short (6,400 layers would print a line of a megabyte). Either is built
    in one call: adding terms one by one re-sorts the growing sum each time."""
    number, terms = 0, []
    for value in values:
        if isinstance(value, int):
            number += value
        else:
            terms.append(value)
    if not terms:
        return number
    if number == 0 and len(terms) == 1:  # one term is its own sum, in either form: nothing to expand
        return terms[0]
    from cnnmacros.symbolic import polynomial_sum

    polynomial = number + polynomial_sum(terms)
    if len(set(terms)) + (number != 0) >= len(polynomial.args if polynomial.is_Add else [polynomial]):
        return polynomial
    import sympy

    return sympy.Add(number, *terms)


def format_size(value: Size) -> str:
    """``55``, or a SymPy expression in its plain text form, parenthesised when compound."""
    if isinstance(value, int):
        return str(value)
    text = json_size(value)
    return text if text.isidentifier() else f"({text})"


def format_shape(shape: Shape) -> str:
    """The documents' ``55x55x96`` form; a vector reads ``4096``."""
    return "x".join(format_size(v) for v in shape)


def json_size(value: Size) -> int | str:
    """A number as it is; a symbolic size as SymPy's plain text."""
    if isinstance(value, int):
        return value
    from cnnmacros.symbolic import text  # only reached with symbolic sizes, which imported SymPy

    return text(value)


class Step(NamedTuple):
    """One figure worked out by one formula.

    ``key`` is stable (``output_size``, ``weights``, ``field_size``: what macros and tests ask for);
    ``label`` is what a reader sees; ``values`` what went into ``formula``. A named tuple, as
    immutable as a frozen dataclass and four times as fast to make: every layer makes several.
    """

    key: str
    label: str
    formula: str
    values: dict[str, Size]
    result: Size


@dataclass(frozen=True)
class Condition:
    """An equation the input must satisfy for the file to make sense, e.g. a declared input count,
    or (``relation`` ``>=``) the smallest input size for which every size is at least 1."""

    label: str
    lhs: Size
    rhs: Size
    relation: str = "="

    def text(self) -> str:
        """``32*(H - 4)*(W - 4) = 128``, ``H >= 5``: as the terminal and the JSON print it."""
        return f"{json_size(self.lhs)} {self.relation} {json_size(self.rhs)}"


class Field(NamedTuple):
    """The receptive field of one output position, one integer per spatial axis (a named tuple:
    one per layer, cheap to make)."""

    size: tuple[int, ...]
    jump: tuple[int, ...]
    offset: tuple[int, ...]

    def to_json(self) -> dict[str, list[int]]:
        return {"size": list(self.size), "jump": list(self.jump), "offset": list(self.offset)}


class Window(NamedTuple):
    """A sliding window along each spatial axis, as the receptive field and the cost rules need it
    (a named tuple: one per layer, cheap to make)."""

    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding_before: tuple[int, ...]


@dataclass
class Row:
    """One layer: its output shape, its figures by key (see ``cnnmacros.figures``), and how each
    was worked out. ``row.weights`` reads ``row.figures["weights"]``, and so for every figure."""

    index: int
    name: str
    type: str
    line: int
    input: Shape
    output: Shape
    figures: dict[str, Any] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    sources: tuple[str, ...] = ()  # the layers named in `from`; empty means the layer before
    facts: dict[str, Any] = field(default_factory=dict)
    """What the layer's own rule worked with (input channels, input units, its window), for the
    figures that other rules compute from it."""
    options: dict[str, Any] = field(default_factory=dict)
    """The layer's options, defaults filled in, in the order its type declares them."""
    given: tuple[str, ...] = ()
    """The options the file writes out, so that a table can show the layer's settings as given."""
    block: str | None = None  # the innermost placed block or copy that holds it (``layer2.0``)
    block_type: str | None = None  # the name of that block in the file's ``blocks:``

    def __getattr__(self, name: str) -> Any:
        figures = self.__dict__.get("figures")
        if figures is not None and name in figures:
            return figures[name]
        raise AttributeError(f"{type(self).__name__} has no attribute or figure {name!r}")

    def step(self, key: str) -> Step:
        """The step with this key, or the first whose key starts with it (``output_size`` finds
        ``output_size_H`` when the axes differ)."""
        for step in self.steps:
            if step.key == key:
                return step
        for step in self.steps:
            if step.key.startswith(key):
                return step
        raise KeyError(f"layer {self.name!r} has no step {key!r}; steps: {', '.join(s.key for s in self.steps)}")


@dataclass(frozen=True)
class Training:
    """The training step that memory is counted for: the batch size (a number, or a SymPy symbol for
    an expression in it), the device (PyTorch's kernels differ for dropout's mask) and the optimizer."""

    batch: Size = 1
    device: str = "cuda"
    optimizer: str = "adam"


@dataclass
class Summary:
    """Every row of one architecture, its totals by key, and the choices they were counted under."""

    name: str
    file: str
    description: str
    source: str
    input: Shape
    rows: list[Row]
    totals: dict[str, Size] = field(default_factory=dict)
    convention: str = "cnnmacros"
    dtype: str = "float32"
    training: Training = field(default_factory=Training)
    blocks: list[Any] = field(default_factory=list)  # cnnmacros.blocks.BlockView, for the page
    stages: list[Any] = field(default_factory=list)  # cnnmacros.blocks.StageView: top-level placements
    family: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)  # published accuracy and its origin (``metrics:``)

    @property
    def output(self) -> Shape:
        return self.rows[-1].output if self.rows else self.input

    def __getattr__(self, name: str) -> Any:
        """``summary.total_params`` reads ``summary.totals["params"]``, and so for every total."""
        totals = self.__dict__.get("totals")
        if name.startswith("total_") and totals is not None and name[6:] in totals:
            return totals[name[6:]]
        raise AttributeError(f"{type(self).__name__} has no attribute or total {name!r}")

    @property
    def symbolic(self) -> bool:
        return not all(isinstance(v, int) for v in self.input)

    def rows_of(self, block: str) -> list[Row]:
        """The rows that a placed block or copy holds, nested blocks included."""
        return [r for r in self.rows if r.block is not None and (r.block == block or r.block.startswith(block + "."))]

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{self.file}: no layer named {name!r}; layers: {', '.join(r.name for r in self.rows)}")

    def to_json(self, size: Any = None) -> dict[str, Any]:
        """The ``--json`` form: shapes channels-last, symbolic sizes as SymPy text; one key per
        declared figure and total. ``size`` writes each size instead (the browser's program
        generator keeps the expressions, to print them as JavaScript)."""
        from cnnmacros.figures import FIGURES, TOTALS

        write = size or json_size

        def layer(r: Row) -> dict[str, Any]:
            out: dict[str, Any] = {"name": r.name, "type": r.type, "block": r.block}
            out["output"] = [write(v) for v in r.output]
            for figure in FIGURES:
                out[figure.json] = figure.to_json(r.figures[figure.key], size)
            if r.sources:
                out["from"] = list(r.sources)
            if r.conditions:
                out["conditions"] = [c.text() for c in r.conditions]
            return out

        return {
            "name": self.name,
            "convention": self.convention,
            "dtype": self.dtype,
            "batch": write(self.training.batch),
            "device": self.training.device,
            "optimizer": self.training.optimizer,
            "input": [write(v) for v in self.input],
            "layers": [layer(r) for r in self.rows],
            "totals": {t.key: write(self.totals[t.key]) for t in TOTALS if t.json},
        }
