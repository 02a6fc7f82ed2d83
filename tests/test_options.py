"""Option validators: what they accept, and the exact words when they do not."""

from __future__ import annotations

import pytest

from cnnmacros.options import REQUIRED, Option, OptionError, boolean, fraction, integer, number, per_axis, text
from cnnmacros.yamlnodes import load


def node(yaml_value: str):
    return load("f.yaml", f"v: {yaml_value}\n".encode()).items["v"]


def error(validator, yaml_value: str) -> str:
    with pytest.raises(OptionError) as info:
        validator(node(yaml_value))
    return str(info.value)


def test_integer() -> None:
    assert integer(1)(node("7")) == 7
    assert integer(0)(node("0")) == 0
    assert error(integer(1), "0") == "expected a positive integer, got 0"
    assert error(integer(0), "-1") == "expected a non-negative integer, got -1"
    assert error(integer(1), "true") == "expected a positive integer, got true"
    assert error(integer(1), "'3'") == "expected a positive integer, got '3'"


def test_per_axis() -> None:
    v = per_axis(1, 2)
    assert v(node("3")) == (3, 3)
    assert v(node("[1, 7]")) == (1, 7)
    assert error(v, "0") == "expected a positive integer, got 0"
    assert error(v, "[3, 0]") == "expected a positive integer in every position, got [3, 0]"
    assert error(v, "[3]") == "expected 2 values, one per spatial axis, got 1: [3]"
    assert error(v, "2.5") == "expected a positive integer or a list of 2 positive integers, got 2.5"
    words = per_axis(0, 3, ("valid", "same"))
    assert words(node("same")) == "same"
    assert error(words, "full") == (
        "expected a non-negative integer or a list of 3 non-negative integers, or 'valid' or 'same', got 'full'"
    )


def test_boolean_fraction_number_text() -> None:
    assert boolean()(node("false")) is False
    assert error(boolean(), "1") == "expected true or false, got 1"
    assert fraction()(node("0.5")) == 0.5
    assert error(fraction(), "1") == "expected a number from 0 up to 1, got 1"
    assert number()(node("-2")) == -2
    assert error(number(), "x") == "expected a finite number, got 'x'"
    assert text()(node("hi")) == "hi"
    assert error(text(), "''") == "expected a non-empty string, got an empty string"


def test_option_required_and_schema() -> None:
    assert Option(REQUIRED, integer(1), "h").required
    assert not Option(1, integer(1), "h").required
    assert per_axis(1, 2).schema["anyOf"][1] == {
        "type": "array",
        "items": {"type": "integer", "minimum": 1},
        "minItems": 2,
        "maxItems": 2,
    }
