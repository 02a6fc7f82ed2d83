"""The corpus of broken files in tests/broken: one fault each, each with its exact message.

Each file is checked through the real command, as an author would run it: every problem of the
file on stderr, exit status 1, and no traceback.
"""

from __future__ import annotations

import tracemalloc
from pathlib import Path

import pytest

from cnnmacros.errors import ArchitectureError
from cnnmacros.yamlnodes import load

from .conftest import ROOT, run_cli

BROKEN = Path("tests/broken")

EXPECTED: dict[str, list[str]] = {
    "yaml-syntax.yaml": [
        "5: YAML syntax error: while parsing a flow mapping: did not find expected ',' or '}' (it opened at line 4)"
    ],
    "empty.yaml": ["1: file is empty: expected a mapping with name, input and layers"],
    "top-level-list.yaml": [
        "1: expected a mapping with name, input and layers at the top level, got ['just', 'a list']"
    ],
    "missing-name.yaml": ["1: name: required key is missing"],
    "missing-input.yaml": ["1: input: required key is missing"],
    "missing-layers.yaml": ["1: layers: required key is missing"],
    "layers-not-list.yaml": ["4: layers: expected a non-empty list of layers, got a mapping"],
    "layer-not-mapping.yaml": ["4: layers[0]: expected a mapping with name, type and options, got 'conv2d'"],
    "unknown-type.yaml": ["4: layers[0] (c1) type: expected a known layer type (did you mean 'conv2d'?), got 'conv2'"],
    "unknown-key.yaml": [
        "4: layers[0] (c1) strdie: unknown key for conv2d (did you mean 'stride'?); "
        "expected bias, dilation, filters, from, groups, kernel, padding, stride"
    ],
    "missing-required-key.yaml": ["4: layers[0] (c1) filters: required key for conv2d is missing"],
    "wrong-type-text.yaml": ["4: layers[0] (c1) filters: expected a positive integer, got 'eight'"],
    "wrong-type-float.yaml": [
        "4: layers[0] (c1) kernel: expected a positive integer or a list of 2 positive integers, got 2.5"
    ],
    "wrong-type-bool.yaml": [
        "4: layers[0] (c1) stride: expected a positive integer or a list of 2 positive integers, got true"
    ],
    "zero-size.yaml": ["4: layers[0] (conv3_1) kernel: expected a positive integer, got 0"],
    "negative-size.yaml": [
        "2: input[1]: expected a positive integer or a size name (an identifier such as H), got -32",
        "4: layers[0] (c1) padding: expected a non-negative integer, got -1",
    ],
    # 5x5 -> a 3x3 kernel leaves 3x3 -> a 5x5 kernel cannot fit.
    "kernel-too-large.yaml": [
        "5: layers[1] (c2) kernel: expected a kernel that fits the padded input along H (3 + 2x0 = 3), got 5"
    ],
    "pool-too-large.yaml": [
        "4: layers[0] (p1) pool: expected a window that fits the padded input along H (4 + 2x0 = 4), got 5"
    ],
    "wrong-axis-count.yaml": ["4: layers[0] (c1) kernel: expected 2 values, one per spatial axis, got 3: [3, 3, 3]"],
    "rank-mismatch.yaml": [
        "4: layers[0] (c1) type: expected an input with 3 spatial axes and channels "
        "([D, H, W, C]) for conv3d, got 32x32x3"
    ],
    "groups-not-dividing.yaml": ["4: layers[0] (c1) groups: expected a divisor of the 6 input channels, got 4"],
    "duplicate-name.yaml": [
        "5: layers[1] (c1) name: expected a name not used before, got 'c1' (already layers[0], line 4)"
    ],
    # 6 x 6 x 256 = 9216 units reach the layer.
    "dense-inputs-disagree.yaml": [
        "4: layers[0] (FC-1) inputs: expected the 9216 units the layer receives (6x6x256), got 9000"
    ],
    # "name: Bad bytes " is 16 characters, so the bad byte is in column 17.
    "invalid-utf8.yaml": ["1: expected UTF-8 text, got byte 0xff at column 17"],
    "bad-symbol.yaml": ["2: input[0]: expected a positive integer or a size name (an identifier such as H), got '2H'"],
    "python-tag.yaml": [
        "1: name: YAML tag !!python/object/apply:os.system is not allowed: architecture files "
        "hold only plain values, lists and mappings"
    ],
    "alias-bomb.yaml": ["9: YAML aliases repeat more than 100,000 values (the limit is 100,000)"],
    "several-errors.yaml": [
        "4: layers[0] (c1) filters: expected a positive integer, got 0",
        "5: layers[1] (c2) type: expected a known layer type (did you mean 'conv2d'?), got 'conv2'",
        "6: layers[2] (p1) strdie: unknown key for maxpool2d (did you mean 'stride'?); "
        "expected ceil_mode, from, padding, pool, stride",
    ],
    # Symbolic sizes: joins never equal, declared counts no input gives, names that read as others.
    "join-never-equal.yaml": [
        "6: layers[2] (sum) from: expected inputs of sizes that can be equal, got (H - 2)x(W - 2)x3 (a) "
        "and (H - 4)x(W - 4)x3 (b): H - 2 and H - 4 differ for every input size",
    ],
    "dense-inputs-no-solution.yaml": [
        "5: layers[1] (fc) inputs: expected a count that some input size gives, got 7: 16*(H - 2)*(W - "
        "2) = 7 has no solution in positive integers with every size at least 1 (H >= 5, W >= 5)",
    ],
    "reserved-size-name.yaml": [
        "2: input[0]: expected a size name that reads as itself (such as H or width), got 'I', which "
        "SymPy or Python reads as a constant or a function",
        "2: input[1]: expected a size name that reads as itself (such as H or width), got 'oo', which "
        "SymPy or Python reads as a constant or a function",
        "2: input[2]: expected a size name that reads as itself (such as H or width), got 'floor', which "
        "SymPy or Python reads as a constant or a function",
        "2: input[3]: expected a size name that reads as itself (such as H or width), got 'alpha_1', "
        "which formulas draw as the Greek letter alpha",
    ],
    "reserved-size-name-2.yaml": [
        "2: input[0]: expected a size name that reads as itself (such as H or width), got 'N', which "
        "SymPy or Python reads as a constant or a function",
        "2: input[1]: expected a size name that reads as itself (such as H or width), got 'H__2', which "
        "formulas draw as a power (the part after __ as an exponent)",
    ],
    # Hostile files: limits, misread numbers, text that could forge output.
    "huge-integer.yaml": [
        "4: layers[0] (c1) filters: expected a positive integer, got a number of 5,000 digits (the limit "
        "is 100 digits)",
    ],
    "huge-float.yaml": [
        "4: layers[0] (n1) alpha: expected a finite number, got a number of 401 digits (the limit is 100 digits)",
        "4: layers[0] (n1) beta: expected a finite number, got .inf",
    ],
    "deep-flow.yaml": [
        "3: expected lists and mappings nested at most 64 deep, got deeper nesting (the limit is 64 levels)",
    ],
    "deep-block.yaml": [
        "67: expected lists and mappings nested at most 64 deep, got deeper nesting (the limit is 64 levels)",
    ],
    "leading-zero.yaml": [
        "4: layers[0] (c1) filters: expected a positive integer, got 064, which YAML 1.1 reads as octal "
        "(52): write the number in plain decimal digits",
        "5: layers[1] (c2) filters: expected a positive integer, got 010, which YAML 1.1 reads as octal "
        "(8): write the number in plain decimal digits",
        "5: layers[1] (c2) kernel: expected a positive integer or a list of 2 positive integers, got "
        "0x3, which YAML 1.1 reads as hexadecimal (3): write the number in plain decimal digits",
    ],
    "base-60.yaml": [
        "4: layers[0] (c1) filters: expected a positive integer, got 1:30, which YAML 1.1 reads as a "
        "base-60 number (90): write the number in plain decimal digits",
    ],
    "yaml11-boolean.yaml": [
        "4: layers[0] (c1) bias: expected true or false, got yes (YAML 1.1 reads it as true, YAML 1.2 as "
        "text): write true",
        "5: layers[1] (p1) ceil_mode: expected true or false, got Off (YAML 1.1 reads it as false, YAML "
        "1.2 as text): write false",
    ],
    "control-in-name.yaml": [
        "4: layers[0] name: expected one line of printable text, got '\\x1b[2J\\rFAKE.yaml:1: all good' (a "
        "control character (U+001B) at character 1)",
        "5: layers[1] name: expected one line of printable text, got 'two\\nlines' (a line break (U+000A) "
        "at character 4)",
        "6: layers[2] name: expected one line of printable text, got 'nul\\x00' (a control character "
        "(U+0000) at character 4)",
    ],
    "bidi-in-name.yaml": [
        "1: name: expected one line of printable text, got 'Right\\u202eto left' (a bidirectional-text "
        "control (U+202E) at character 6)",
        "4: layers[0] name: expected one line of printable text, got 'r\\u2066x\\u2069' (a "
        "bidirectional-text control (U+2066) at character 2)",
    ],
    "long-name.yaml": [
        "4: layers[0] name: expected a name of at most 200 characters, got one of 201 characters",
    ],
    "too-many-layers.yaml": [
        "3: layers: expected at most 10,000 layers, got 10,001 (the limit is 10,000)",
    ],
    "control-in-description.yaml": [
        "2: description: expected printable text, got 'Fine\\nlines, but \\x1b[31mred' (a control "
        "character (U+001B) at character 17)",
        "3: source: expected one line of printable text, got 'one\\rline' (a line break (U+000D) at character 4)",
    ],
}


def test_corpus_and_expectations_match() -> None:
    assert sorted(p.name for p in (ROOT / BROKEN).glob("*.yaml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_broken_file_gives_its_exact_message(name: str) -> None:
    path = BROKEN / name
    done = run_cli("check", str(path))
    assert done.returncode == 1
    assert done.stdout == ""
    assert "Traceback" not in done.stderr
    expected = [f"{path}:{line}" for line in EXPECTED[name]] + ["1 of 1 files have errors"]
    assert done.stderr.splitlines() == expected


def test_python_tag_is_never_run(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = (
        f'name: !!python/object/apply:os.system ["touch {marker}"]\ninput: [1, 1]\nlayers: [{{name: r, type: relu}}]\n'
    )
    with pytest.raises(ArchitectureError):
        load("t.yaml", text.encode())
    assert not marker.exists()


def test_alias_bomb_fails_fast_and_small() -> None:
    data = (ROOT / BROKEN / "alias-bomb.yaml").read_bytes()
    tracemalloc.start()
    with pytest.raises(ArchitectureError):
        load("bomb.yaml", data)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    # Fully expanded it would hold 10**10 values; sizing the shared nodes stops it at line 9 (a5,
    # 10**6 values), before anything is expanded. How fast that is lives in benchmarks/, not here.
    assert peak < 100 * 2**20
