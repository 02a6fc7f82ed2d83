"""Declared layer options: each has a default and a validator, as pymdown-extensions declares its.

A validator takes the located YAML value and returns the Python value, or raises ``OptionError``
with the words "expected ..., got ...". Validators also describe themselves for the JSON Schema.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from cnnmacros.yamlnodes import YNode, YScalar, YSeq, describe

REQUIRED: Any = object()


class OptionError(ValueError):
    """A value that does not fit its option."""


@dataclass(frozen=True)
class Validator:
    """Checks a value; ``schema`` is its JSON Schema, ``expected`` its words in messages."""

    check: Callable[[YNode], Any]
    expected: str
    schema: dict[str, Any]

    def __call__(self, node: YNode) -> Any:
        return self.check(node)


@dataclass(frozen=True)
class Option:
    """One key a layer type accepts."""

    default: Any
    validator: Validator
    help: str

    @property
    def required(self) -> bool:
        return self.default is REQUIRED


def _fail(expected: str, node: YNode) -> OptionError:
    return OptionError(f"expected {expected}, got {describe(node)}")


def _is_int(node: YNode) -> bool:
    return isinstance(node, YScalar) and isinstance(node.value, int) and not isinstance(node.value, bool)


def integer(minimum: int) -> Validator:
    """An integer of at least ``minimum`` (1: positive, 0: non-negative)."""
    expected = "a positive integer" if minimum == 1 else "a non-negative integer"

    def check(node: YNode) -> int:
        if not _is_int(node) or node.value < minimum:  # type: ignore[attr-defined]
            raise _fail(expected, node)
        return node.value  # type: ignore[attr-defined]

    return Validator(check, expected, {"type": "integer", "minimum": minimum})


def per_axis(minimum: int, rank: int, words: tuple[str, ...] = ()) -> Validator:
    """One integer for every spatial axis, or a list of ``rank`` of them; ``words`` also allowed."""
    single = integer(minimum)
    noun = "positive integer" if minimum == 1 else "non-negative integer"
    expected = f"a {noun} or a list of {rank} {noun}s"
    if words:
        expected += ", or " + " or ".join(repr(w) for w in words)

    def check(node: YNode) -> Any:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value in words:
            return node.value
        if isinstance(node, YSeq):
            if len(node.items) != rank:
                raise OptionError(
                    f"expected {rank} values, one per spatial axis, got {len(node.items)}: {describe(node)}"
                )
            values = []
            for item in node.items:
                if not _is_int(item) or item.value < minimum:  # type: ignore[attr-defined]
                    raise _fail(f"a {noun} in every position", node)
                values.append(item.value)  # type: ignore[attr-defined]
            return tuple(values)
        if _is_int(node):  # the right kind of value, out of range: say so plainly
            return (single(node),) * rank
        raise _fail(expected, node)

    any_of: list[dict[str, Any]] = [
        {"type": "integer", "minimum": minimum},
        {"type": "array", "items": {"type": "integer", "minimum": minimum}, "minItems": rank, "maxItems": rank},
    ]
    if words:
        any_of.append({"enum": list(words)})
    return Validator(check, expected, {"anyOf": any_of})


YAML11_BOOLEANS = {"yes": True, "no": False, "on": True, "off": False}
"""Words YAML 1.1 reads as booleans and YAML 1.2 as text: refused, with a word on what to write."""


def boolean() -> Validator:
    def check(node: YNode) -> bool:
        if isinstance(node, YScalar) and isinstance(node.value, str) and node.value.lower() in YAML11_BOOLEANS:
            meant = "true" if YAML11_BOOLEANS[node.value.lower()] else "false"
            raise OptionError(
                f"expected true or false, got {node.value} (YAML 1.1 reads it as {meant}, YAML 1.2 as text): "
                f"write {meant}"
            )
        if not (isinstance(node, YScalar) and isinstance(node.value, bool)):
            raise _fail("true or false", node)
        return node.value

    return Validator(check, "true or false", {"type": "boolean"})


def fraction() -> Validator:
    """A number from 0 up to (not including) 1, such as a dropout rate."""
    expected = "a number from 0 up to 1"

    def check(node: YNode) -> float:
        ok = isinstance(node, YScalar) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        if not ok or not 0 <= node.value < 1:  # type: ignore[attr-defined]
            raise _fail(expected, node)
        return node.value  # type: ignore[attr-defined]

    return Validator(check, expected, {"type": "number", "minimum": 0, "exclusiveMaximum": 1})


def number() -> Validator:
    """Any finite real number (hyperparameters that do not change a size or a count)."""

    def check(node: YNode) -> float:
        ok = isinstance(node, YScalar) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool)
        if not ok or not math.isfinite(node.value):  # type: ignore[attr-defined]
            raise _fail("a finite number", node)
        return node.value  # type: ignore[attr-defined]

    return Validator(check, "a finite number", {"type": "number"})


def text() -> Validator:
    def check(node: YNode) -> str:
        if not (isinstance(node, YScalar) and isinstance(node.value, str) and node.value.strip()):
            raise _fail("a non-empty string", node)
        return node.value

    return Validator(check, "a non-empty string", {"type": "string", "minLength": 1})


def choice(words: tuple[str, ...]) -> Validator:
    """One of a few words, such as an upsampling mode."""
    expected = "one of " + ", ".join(repr(w) for w in words)

    def check(node: YNode) -> str:
        if not (isinstance(node, YScalar) and isinstance(node.value, str) and node.value in words):
            raise _fail(expected, node)
        return node.value

    return Validator(check, expected, {"enum": list(words)})


def pairs(rank: int) -> Validator:
    """Zeros (or positions) at both ends of each spatial axis: one non-negative integer for every
    end, ``rank`` of them (one per axis, both ends), or ``rank`` pairs ``[before, after]``.
    Returns a tuple of (before, after) per axis."""
    noun = "non-negative integer"
    expected = f"a {noun}, a list of {rank} {noun}s, or a list of {rank} [before, after] pairs"

    def one(item: YNode) -> int:
        if not _is_int(item) or item.value < 0:  # type: ignore[attr-defined]
            raise _fail(expected, item)
        return item.value  # type: ignore[attr-defined]

    def check(node: YNode) -> tuple[tuple[int, int], ...]:
        if _is_int(node):
            value = one(node)
            return ((value, value),) * rank
        if not isinstance(node, YSeq) or len(node.items) != rank:
            raise _fail(expected, node)
        out = []
        for item in node.items:
            if isinstance(item, YSeq):
                if len(item.items) != 2:
                    raise OptionError(f"expected a [before, after] pair, got {describe(item)}")
                out.append((one(item.items[0]), one(item.items[1])))
            else:
                value = one(item)
                out.append((value, value))
        return tuple(out)

    pair = {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 2, "maxItems": 2}
    schema = {
        "anyOf": [
            {"type": "integer", "minimum": 0},
            {
                "type": "array",
                "items": {"anyOf": [{"type": "integer", "minimum": 0}, pair]},
                "minItems": rank,
                "maxItems": rank,
            },
        ]
    }
    return Validator(check, expected, schema)


def sizes() -> Validator:
    """A positive integer, or a list of them whose length the layer checks against its input's
    spatial axes (upsampling accepts any rank). Returns an int or a tuple."""
    expected = "a positive integer or a list of positive integers, one per spatial axis"

    def check(node: YNode) -> int | tuple[int, ...]:
        if _is_int(node) and node.value >= 1:  # type: ignore[attr-defined]
            return node.value  # type: ignore[attr-defined]
        if isinstance(node, YSeq) and node.items:
            values = []
            for item in node.items:
                if not _is_int(item) or item.value < 1:  # type: ignore[attr-defined]
                    raise _fail(expected, node)
                values.append(item.value)  # type: ignore[attr-defined]
            return tuple(values)
        raise _fail(expected, node)

    schema = {
        "anyOf": [
            {"type": "integer", "minimum": 1},
            {"type": "array", "items": {"type": "integer", "minimum": 1}, "minItems": 1, "maxItems": 3},
        ]
    }
    return Validator(check, expected, schema)
