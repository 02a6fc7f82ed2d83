"""Tests that kill the mutants mutation testing found alive (benchmarks/MUTATION.md).

Each expected value is derived by hand in a comment, from PyTorch's documented output-size rule
O = floor((I + 2P - D(K - 1) - 1) / S) + 1 (pooling: D = 1), or from what the code is documented to
do. The tests call the library in-process: mutmut credits a test only with the functions it reaches
in its own process, so the command-line corpus (tests/broken, run in a subprocess) kills nothing.
"""

from __future__ import annotations

import pytest
import sympy

from cnnmacros.architecture import validate
from cnnmacros.engine import compute, concrete_inputs
from cnnmacros.errors import ArchitectureError
from cnnmacros.formulas import FORMULAS, formula
from cnnmacros.layers import REGISTRY
from cnnmacros.rows import Condition, Row, Summary
from cnnmacros.yamlnodes import load

H = sympy.Symbol("H", integer=True, positive=True)


def arch(input_: str, *layers: str):
    """A file whose layers l0, l1, ... are flow mappings on lines 4, 5, ..."""
    text = (
        "name: t\ninput: "
        + input_
        + "\nlayers:\n"
        + "".join(f"  - {{name: l{i}, {s}}}\n" for i, s in enumerate(layers))
    )
    return validate("t.yaml", load("t.yaml", text.encode()))


def rows(input_: str, *layers: str) -> list[Row]:
    return compute(arch(input_, *layers)).rows


def problems(input_: str, *layers: str) -> list[str]:
    with pytest.raises(ArchitectureError) as info:
        compute(arch(input_, *layers))
    return [str(p) for p in info.value.problems]


# --- sizes that do not fit -------------------------------------------------------------------


def test_kernel_too_large_names_the_padded_size() -> None:
    # I = 3, P = 1: the padded input is 3 + 2x1 = 5 < K = 7; O = floor((3 + 2 - 7) / 1) + 1 = -1.
    assert problems("[3, 3, 1]", "type: conv2d, filters: 1, kernel: 7, padding: 1") == [
        "t.yaml:4: layers[0] (l0) kernel: expected a kernel that fits the padded input along H (3 + 2x1 = 5), got 7"
    ]
    # K = 3, D = 3 spans D(K - 1) + 1 = 7 inputs; O = floor((3 + 2 - 3x2 - 1) / 1) + 1 = -1.
    assert problems("[3, 3, 1]", "type: conv2d, filters: 1, kernel: 3, padding: 1, dilation: 3") == [
        "t.yaml:4: layers[0] (l0) kernel: expected a kernel that fits the padded input along H "
        "(3 + 2x1 = 5), got a dilated extent of 7"
    ]


def test_zero_size_output_is_refused() -> None:
    # conv: O = floor((4 + 0 - 5) / 1) + 1 = -1 + 1 = 0, an empty tensor: refused, not a row of zeros.
    assert problems("[4, 4, 1]", "type: conv2d, filters: 1, kernel: 5") == [
        "t.yaml:4: layers[0] (l0) kernel: expected a kernel that fits the padded input along H (4 + 2x0 = 4), got 5"
    ]
    # pool: P = 1 <= 5 // 2 is allowed, but O = floor((2 + 2 - 5) / 5) + 1 = floor(-0.2) + 1 = 0.
    assert problems("[2, 2, 1]", "type: maxpool2d, pool: 5, padding: 1") == [
        "t.yaml:4: layers[0] (l0) pool: expected a window that fits the padded input along H (2 + 2x1 = 4), got 5"
    ]


def test_unpadded_window_rule_is_for_3d_average_pooling_only() -> None:
    # PyTorch: O = floor((2 + 2x1 - 3) / 3) + 1 = floor(1/3) + 1 = 1 on each axis; the window of 3
    # exceeds the unpadded input (2) but fits the padded one (4), which 2D and max pooling accept.
    assert rows("[2, 2, 1]", "type: avgpool2d, pool: 3, padding: 1")[0].output == (1, 1, 1)
    assert rows("[2, 2, 2, 1]", "type: maxpool3d, pool: 3, padding: 1")[0].output == (1, 1, 1, 1)
    assert problems("[2, 2, 2, 1]", "type: avgpool3d, pool: 3, padding: 1") == [
        "t.yaml:4: layers[0] (l0) pool: expected a window no larger than the unpadded input along D (2), "
        "as PyTorch's 3D average pooling requires, got 3"
    ]
    # A window exactly the input's size fits: O = floor((3 - 3) / 3) + 1 = 1.
    assert rows("[3, 3, 3, 1]", "type: avgpool3d, pool: 3")[0].output == (1, 1, 1, 1)


def test_wrong_rank_for_conv_and_pool() -> None:
    expected = (
        "t.yaml:4: layers[0] (l0) type: expected an input with 2 spatial axes and channels ([H, W, C]) for {}, got 8x3"
    )
    assert problems("[8, 3]", "type: conv2d, filters: 1, kernel: 3") == [expected.format("conv2d")]
    assert problems("[8, 3]", "type: maxpool2d, pool: 2") == [expected.format("maxpool2d")]
    # The output shape is then unknown, so the layers after it are not checked: a wrong declared
    # input count there is not reported.
    for layer in ("type: conv2d, filters: 1, kernel: 3", "type: maxpool2d, pool: 2"):
        assert problems("[8, 3]", layer, "type: dense, units: 1, inputs: 99") == [
            expected.format(layer.split(",")[0][6:])
        ]


def test_declared_dense_inputs_must_match() -> None:
    # 6 x 6 x 2 = 72 units reach the layer.
    assert problems("[6, 6, 2]", "type: dense, units: 3, inputs: 70") == [
        "t.yaml:4: layers[0] (l0) inputs: expected the 72 units the layer receives (6x6x2), got 70"
    ]


def test_merges_check_axes_and_spatial_sizes() -> None:
    # flatten makes 4 x 4 x 2 = 32 units: one axis against three.
    assert problems("[4, 4, 2]", "type: relu", "type: flatten", "type: add, from: [l0, l1]") == [
        "t.yaml:6: layers[2] (l2) from: expected inputs with the same number of axes, got 4x4x2 (l0) and 32 (l1)"
    ]
    # A [1, 2] kernel leaves 4 x (4 - 2 + 1) = 4x3; a [2, 1] kernel leaves 3x4: W, then H, differ.
    for kernel, shape in (("[1, 2]", "4x3x1"), ("[2, 1]", "3x4x1")):
        conv = f"type: conv2d, filters: 1, kernel: {kernel}"
        assert problems("[4, 4, 2]", "type: relu", conv, "type: concat, from: [l0, l1]") == [
            f"t.yaml:6: layers[2] (l2) from: expected inputs of one spatial size, got 4x4x2 (l0) and {shape} (l1)"
        ]


def test_a_problem_points_at_the_line_of_its_key() -> None:
    text = "name: t\ninput: [4, 4, 1]\nlayers:\n  - name: c\n    type: conv2d\n    filters: 1\n    kernel: 9\n"
    with pytest.raises(ArchitectureError) as info:
        compute(validate("t.yaml", load("t.yaml", text.encode())))
    # `kernel: 9` is line 7 of the file, the layer itself starts on line 4.
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:7: layers[0] (c) kernel: expected a kernel that fits the padded input along H (4 + 2x0 = 4), got 9"
    ]


# --- rows ------------------------------------------------------------------------------------


def test_every_row_keeps_its_input_shape_and_line() -> None:
    got = rows(
        "[8, 8, 3]",
        "type: conv2d, filters: 4, kernel: 3",  # O = 8 - 3 + 1 = 6
        "type: maxpool2d, pool: 2, stride: 2",  # O = floor((6 - 2) / 2) + 1 = 3
        "type: batchnorm",
        "type: flatten",  # 3 x 3 x 4 = 36
        "type: dense, units: 2",
    )
    assert [(r.input, r.output, r.line) for r in got] == [
        ((8, 8, 3), (6, 6, 4), 4),
        ((6, 6, 4), (3, 3, 4), 5),
        ((3, 3, 4), (3, 3, 4), 6),
        ((3, 3, 4), (36,), 7),
        ((36,), (2,), 8),
    ]


def test_steps_name_the_formula_that_gives_their_result() -> None:
    got = rows(
        "[5, 5, 2]",
        "type: conv2d, filters: 1, kernel: 3, padding: same",  # O = I = 5
        "type: conv2d, filters: 1, kernel: 3, dilation: 2",  # O = floor((5 - 2x2 - 1) / 1) + 1 = 1
    )
    first, second = got[0].steps[0], got[1].steps[0]
    assert (first.label, first.formula, first.values, first.result) == (
        "output size along H and W",
        "conv_output_size_same",
        {"I": 5},
        5,
    )
    assert (second.formula, second.values, second.result) == (
        "conv_output_size",
        {"I": 5, "K": 3, "S": 1, "P": 0, "D": 2},
        1,
    )
    for step in (*got[0].steps, *got[1].steps):  # a page shows the formula with these values
        f = FORMULAS[step.formula]
        assert f.rhs.subs({s: step.values[s.name] for s in f.args}) == step.result


def test_three_axes_with_one_size_are_one_step() -> None:
    (row,) = rows("[5, 5, 5, 2]", "type: conv3d, filters: 1, kernel: 3")
    assert row.steps[0].label == "output size along D, H and W"


def _merge_layer(kind: str):
    return arch("[4, 2]", "type: relu", "type: relu", f"type: {kind}, from: [l0, l1]").layers[2]


def test_symbolic_merge_sizes_become_conditions() -> None:
    found: list[tuple[str, str]] = []

    def report(key: str, message: str) -> None:
        found.append((key, message))

    # H against 4 cannot be decided, so it is a condition, not an error; the row is the first input's.
    add = REGISTRY["add"].compute_inputs(_merge_layer("add"), [(H, 2), (4, 2)], report)
    assert (add.input, add.output, add.conditions) == ((H, 2), (H, 2), [Condition("equal sizes for add", H, 4)])
    # channels 2 + 3 = 5
    concat = REGISTRY["concat"].compute_inputs(_merge_layer("concat"), [(H, 4, 2), (4, 4, 3)], report)
    assert (concat.input, concat.output, concat.conditions) == (
        (H, 4, 2),
        (H, 4, 5),
        [Condition("equal sizes for concat", H, 4)],
    )
    assert found == []


def test_json_has_from_and_conditions() -> None:
    # ceil(H/2) from a 1-wide stride-2 kernel against floor(H/2) from a 2-wide pool: a condition.
    summary = compute(
        arch(
            "[H, 2]",
            "type: conv1d, filters: 2, kernel: 1, stride: 2",
            "type: maxpool1d, pool: 2, from: input",
            "type: add, from: [l0, l1]",
        )
    )
    layer = summary.to_json()["layers"][2]
    assert layer["from"] == ["l0", "l1"]
    assert len(layer["conditions"]) == 1 and layer["conditions"][0].endswith(" = floor(H/2)")


def test_unknown_names_list_the_known_ones() -> None:
    s = Summary("n", "f.yaml", "", "", (2,), [Row(0, "a", "relu", 4, (2,), (2,)), Row(1, "b", "relu", 5, (2,), (2,))])
    with pytest.raises(KeyError) as info:
        s.row("x")
    assert info.value.args[0] == "f.yaml: no layer named 'x'; layers: a, b"
    with pytest.raises(KeyError) as info:
        formula("x")
    # every formula name, in alphabetical order
    assert info.value.args[0] == "no formula 'x'; known: " + ", ".join(sorted(FORMULAS))


# --- concrete inputs of a symbolic file ------------------------------------------------------


def test_concrete_inputs_start_at_size_1() -> None:
    # ReLU is valid at every size, so the first three inputs are H = 1, 2, 3 (3 is the default).
    assert concrete_inputs(arch("[H, 1]", "type: relu")) == [(1, 1), (2, 1), (3, 1)]
    # A budget of 1 tries H = 1 only.
    assert concrete_inputs(arch("[H, 1]", "type: relu"), budget=1) == [(1, 1)]


def test_concrete_inputs_stay_within_the_budget() -> None:
    # One symbol, budget 1000: H runs over 1..1000. A kernel of K needs H - K + 1 >= 1, so H >= K.
    assert concrete_inputs(arch("[H, 1]", "type: conv1d, filters: 1, kernel: 1000"), 1) == [(1000, 1)]
    assert concrete_inputs(arch("[H, 1]", "type: conv1d, filters: 1, kernel: 1001"), 1) == []
    # Two symbols: each runs over 1..31, as 31 x 31 = 961 <= 1000 < 1024 = 32 x 32.
    assert concrete_inputs(arch("[H, W, 1]", "type: conv2d, filters: 1, kernel: [31, 1]"), 1) == [(31, 1, 1)]
    assert concrete_inputs(arch("[H, W, 1]", "type: conv2d, filters: 1, kernel: [32, 1]"), 1) == []


def test_textbook_formula_agrees_with_the_floor_when_the_stride_divides() -> None:
    # (I - K + 2P) / S + 1 with I = 6, K = 2, P = 1, S = 3: (6 - 2 + 2) / 3 + 1 = 6 / 3 + 1 = 3, and
    # PyTorch's floor((6 + 2 - 2) / 3) + 1 = 3 too; with S = 4 the division is not exact: 6/4 + 1 = 5/2.
    f = FORMULAS["conv_output_size_textbook"]
    values = {"I": 6, "K": 2, "P": 1}
    assert f.rhs.subs({s: {**values, "S": 3}[s.name] for s in f.args}) == 3
    assert f.rhs.subs({s: {**values, "S": 4}[s.name] for s in f.args}) == sympy.Rational(5, 2)
