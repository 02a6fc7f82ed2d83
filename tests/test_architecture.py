"""Validation into a located architecture; every problem in a file at once."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy

from cnnmacros.architecture import is_symbol_name, read, suggestion, validate
from cnnmacros.errors import ArchitectureError
from cnnmacros.yamlnodes import load


def check(text: str):
    return validate("f.yaml", load("f.yaml", text.encode()))


def problems(text: str) -> list[str]:
    with pytest.raises(ArchitectureError) as info:
        check(text)
    return [str(p) for p in info.value.problems]


def test_defaults_are_filled_and_lines_kept() -> None:
    arch = check("name: n\ninput: [8, 8, 3]\nlayers:\n  - name: c\n    type: conv2d\n    filters: 2\n    kernel: 3\n")
    layer = arch.layers[0]
    assert layer.options == {
        "filters": 2,
        "kernel": (3, 3),
        "stride": 1,
        "padding": 0,
        "dilation": 1,
        "groups": 1,
        "bias": True,
    }
    assert (layer.line, layer.line_of("kernel"), layer.line_of("stride")) == (4, 7, 4)
    assert arch.input == (8, 8, 3) and arch.input_line == 2


def test_symbolic_input_sizes_become_symbols() -> None:
    arch = check("name: n\ninput: [H, W, 3]\nlayers: [{name: r, type: relu}]\n")
    H = sympy.Symbol("H", integer=True, positive=True)
    assert arch.input[0] == H and isinstance(arch.input[2], int)


def test_symbol_names_are_plain_identifiers() -> None:
    assert is_symbol_name("H") and is_symbol_name("width_2")
    for bad in ("2H", "H-1", "lambda", "Ĥ", "H W", "__import__('os')", ""):
        assert not is_symbol_name(bad), bad
    assert problems("name: n\ninput: ['H+1', 3]\nlayers: [{name: r, type: relu}]\n") == [
        "f.yaml:2: input[0]: expected a positive integer or a size name (an identifier such as H), got 'H+1'"
    ]


def test_top_level_problems_all_reported() -> None:
    assert problems("nmae: x\ninput: 5\nlayers: []\nextra: 1\n") == [
        "f.yaml:1: name: required key is missing",
        "f.yaml:1: nmae: unknown key (did you mean 'name'?); expected one of "
        "name, description, source, family, input, metrics, blocks, layers",
        "f.yaml:2: input: expected a list of 1 to 4 sizes, channels last ([L, C], [H, W, C] or [D, H, W, C]), got 5",
        "f.yaml:3: layers: expected a non-empty list of layers, got []",
        "f.yaml:4: extra: unknown key; expected one of name, description, source, family, input, metrics, blocks, "
        "layers",
    ]


def test_layer_without_name_or_type() -> None:
    assert problems("name: n\ninput: [3]\nlayers:\n  - {units: 3}\n  - {name: 5, type: dense, units: 1}\n") == [
        "f.yaml:4: layers[0] name: required key is missing",
        "f.yaml:4: layers[0] type: required key is missing",
        "f.yaml:5: layers[1] name: expected a non-empty string, got 5",
    ]


def test_suggestions() -> None:
    assert suggestion("strdie", ["stride", "kernel"]) == " (did you mean 'stride'?)"
    assert suggestion("zzz", ["stride"]) == ""


def test_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(ArchitectureError) as info:
        read(tmp_path / "missing.yaml", "architectures/missing.yaml")
    assert str(info.value) == "architectures/missing.yaml:1: cannot read the file: No such file or directory"


def test_from_must_name_earlier_layers() -> None:
    assert problems(
        "name: n\ninput: [4, 1]\nlayers:\n"
        "  - {name: a, type: relu, from: b}\n"
        "  - {name: b, type: add, from: [a]}\n"
        "  - {name: c, type: add}\n"
        "  - {name: d, type: relu, from: [a, b]}\n"
        "  - {name: e, type: add, from: [a, 7]}\n"
        "  - {name: input, type: relu}\n"
        "  - {name: f, type: concat, from: [a, inptu]}\n"
    ) == [
        "f.yaml:4: layers[0] (a) from: expected the name of an earlier layer or 'input', got 'b'",
        "f.yaml:5: layers[1] (b) from: expected 2 or more names of earlier layers (or 'input'), got ['a']",
        "f.yaml:6: layers[2] (c) from: required key for add is missing",
        "f.yaml:7: layers[3] (d) from: expected 1 name of earlier layers (or 'input'), got ['a', 'b']",
        "f.yaml:8: layers[4] (e) from: expected 2 or more names of earlier layers (or 'input'), got ['a', 7]",
        "f.yaml:9: layers[5] (input) name: expected a name other than 'input', which `from` uses for the network's "
        "input",
        "f.yaml:10: layers[6] (f) from: expected the name of an earlier layer or 'input' (did you mean 'input'?), "
        "got 'inptu'",
    ]
