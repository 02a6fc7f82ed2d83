"""Computed rows: what the engine hands to every renderer.

A size or count is an exact ``int``, or a SymPy expression when the input size is symbolic. Rows
keep the formula name and the substituted values of every figure (``Step``), so a renderer can show
the formula that produced a number without computing anything again.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

Size = int | Any  # int, or a sympy.Expr for symbolic input sizes
Shape = tuple[Size, ...]


def is_number(value: Size) -> bool:
    return isinstance(value, int)


def product(values: Shape) -> Size:
    return math.prod(values)


def format_size(value: Size) -> str:
    """``55``, or a SymPy expression in its plain text form, parenthesised when compound."""
    if isinstance(value, int):
        return str(value)
    text = str(value)
    return text if text.isidentifier() else f"({text})"


def format_shape(shape: Shape) -> str:
    """The documents' ``55x55x96`` form; a vector reads ``4096``."""
    return "x".join(format_size(v) for v in shape)


def json_size(value: Size) -> int | str:
    return value if isinstance(value, int) else str(value)


@dataclass(frozen=True)
class Step:
    """One figure worked out by one formula: ``label`` says which figure, ``values`` what went in."""

    label: str
    formula: str
    values: dict[str, Size]
    result: Size


@dataclass(frozen=True)
class Condition:
    """An equation the input must satisfy for the file to make sense, e.g. a declared input count."""

    label: str
    lhs: Size
    rhs: Size


@dataclass
class Row:
    """One layer's output shape and counts, and how each was worked out."""

    index: int
    name: str
    type: str
    line: int
    input: Shape
    output: Shape
    weights: Size = 0
    biases: Size = 0
    non_trainable: Size = 0
    steps: list[Step] = field(default_factory=list)
    conditions: list[Condition] = field(default_factory=list)
    sources: tuple[str, ...] = ()  # the layers named in `from`; empty means the layer before

    @property
    def params(self) -> Size:
        """Weights and biases (gamma and beta for batch norm): what PyTorch calls parameters."""
        return self.weights + self.biases


@dataclass
class Summary:
    """Every row of one architecture and its totals."""

    name: str
    file: str
    description: str
    source: str
    input: Shape
    rows: list[Row]

    @property
    def output(self) -> Shape:
        return self.rows[-1].output if self.rows else self.input

    @property
    def total_params(self) -> Size:
        return sum((r.params for r in self.rows), 0)

    @property
    def total_non_trainable(self) -> Size:
        return sum((r.non_trainable for r in self.rows), 0)

    @property
    def total_weights(self) -> Size:
        return sum((r.weights for r in self.rows), 0)

    @property
    def total_biases(self) -> Size:
        return sum((r.biases for r in self.rows), 0)

    @property
    def symbolic(self) -> bool:
        return not all(isinstance(v, int) for v in self.input)

    def row(self, name: str) -> Row:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"{self.file}: no layer named {name!r}; layers: {', '.join(r.name for r in self.rows)}")

    def to_json(self) -> dict[str, Any]:
        """The ``--json`` form: shapes channels-last, symbolic sizes as SymPy text."""
        return {
            "name": self.name,
            "input": [json_size(v) for v in self.input],
            "layers": [
                {
                    "name": r.name,
                    "type": r.type,
                    "output": [json_size(v) for v in r.output],
                    "weights": json_size(r.weights),
                    "biases": json_size(r.biases),
                    "params": json_size(r.params),
                    "non_trainable": json_size(r.non_trainable),
                    **({"from": list(r.sources)} if r.sources else {}),
                    **(
                        {"conditions": [f"{json_size(c.lhs)} = {json_size(c.rhs)}" for c in r.conditions]}
                        if r.conditions
                        else {}
                    ),
                }
                for r in self.rows
            ],
            "totals": {
                "params": json_size(self.total_params),
                "non_trainable": json_size(self.total_non_trainable),
            },
        }
