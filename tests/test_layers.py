"""Each layer type against hand derivations, and the registry's contract."""

from __future__ import annotations

import pytest
import sympy

from cnnmacros.architecture import validate
from cnnmacros.engine import compute
from cnnmacros.errors import ArchitectureError
from cnnmacros.formulas import FORMULAS
from cnnmacros.layers import REGISTRY, ShapeKeeping, register
from cnnmacros.yamlnodes import load


def rows(input_: str, *layers: str):
    text = (
        "name: t\ninput: "
        + input_
        + "\nlayers:\n"
        + "".join(f"  - {{name: l{i}, {s}}}\n" for i, s in enumerate(layers))
    )
    return compute(validate("t.yaml", load("t.yaml", text.encode()))).rows


def problems(input_: str, *layers: str) -> list[str]:
    with pytest.raises(ArchitectureError) as info:
        rows(input_, *layers)
    return [str(p) for p in info.value.problems]


def test_registry_contract() -> None:
    for name, kind in REGISTRY.items():
        assert kind.type_name == name and kind.summary
        for key, option in kind.options.items():
            assert option.help and callable(option.validator), (name, key)
        assert set(kind.formulas) <= set(FORMULAS), name
    with pytest.raises(ValueError, match="registered twice"):
        register(ShapeKeeping("relu", "again"))


def test_conv_dilation_stride_padding() -> None:
    # 2D, 17x12 input, kernel [3, 5], stride 2, padding [1, 0], dilation 2:
    # H: floor((17 + 2 - 2*2 - 1)/2) + 1 = 7 + 1 = 8; W: floor((12 + 0 - 2*4 - 1)/2) + 1 = 1 + 1 = 2.
    (row,) = rows("[17, 12, 6]", "type: conv2d, filters: 4, kernel: [3, 5], stride: 2, padding: [1, 0], dilation: 2")
    assert row.output == (8, 2, 4)
    assert (row.weights, row.biases) == (3 * 5 * 6 * 4, 4)


def test_conv_same_valid_groups_and_no_bias() -> None:
    (row,) = rows("[9, 9, 9, 8]", "type: conv3d, filters: 4, kernel: 2, padding: same, groups: 4, bias: false")
    assert row.output == (9, 9, 9, 4)
    assert (row.weights, row.biases) == (2 * 2 * 2 * (8 // 4) * 4, 0)
    (row,) = rows("[10, 1]", "type: conv1d, filters: 1, kernel: 4, padding: valid")
    assert row.output == (7, 1) and row.params == 4 + 1


def test_conv_problems() -> None:
    # 'same' with a stride, as TensorFlow and Keras do it: ceil(9/2) = 5 outputs; total padding
    # max((5 - 1) x 2 + 3 - 9, 0) = 2, of which the smaller half, 1, goes before the input.
    (row,) = rows("[9, 10, 3]", "type: conv2d, filters: 4, kernel: 3, stride: 2, padding: same")
    assert row.output == (5, 5, 4)
    assert [row.step(k).result for k in ("padding_total_H", "padding_before_H")] == [2, 1]
    # along W: ceil(10/2) = 5, max(4 x 2 + 3 - 10, 0) = 1, so 0 before and the 1 after
    assert [row.step(k).result for k in ("padding_total_W", "padding_before_W")] == [1, 0]
    assert row.receptive_field.offset == (-1, 0)
    assert problems("[9, 9, 6]", "type: conv2d, filters: 5, kernel: 3, groups: 3") == [
        "t.yaml:4: layers[0] (l0) groups: expected a divisor of filters (5), got 3"
    ]
    assert problems("[5, 5, 1]", "type: conv2d, filters: 1, kernel: 3, dilation: 3") == [
        "t.yaml:4: layers[0] (l0) kernel: expected a kernel that fits the padded input along H (5 + 2x0 = 5), "
        "got a dilated extent of 7"
    ]


def test_pools() -> None:
    # ceil mode: ceil((6 - 3)/2) + 1 = 3, last window starts at 4 < 6: kept.
    (row,) = rows("[6, 6, 2]", "type: maxpool2d, pool: 3, stride: 2, ceil_mode: true")
    assert row.output == (6 // 2, 3, 2)
    (row,) = rows("[7, 5]", "type: avgpool1d, pool: 2")  # stride defaults to the window: floor(5/2) + 1 = 3
    assert row.output == (3, 5) and row.params == 0
    assert problems("[8, 8, 1]", "type: maxpool2d, pool: 2, padding: 2") == [
        "t.yaml:4: layers[0] (l0) padding: expected at most half the pool window (1 for a window of 2), got 2"
    ]
    assert problems("[1, 4, 4, 1]", "type: avgpool3d, pool: 2, padding: 1") == [
        "t.yaml:4: layers[0] (l0) pool: expected a window no larger than the unpadded input along D (1), "
        "as PyTorch's 3D average pooling requires, got 2"
    ]
    # A symbolic size in ceil mode gives the rule as a formula of H. By hand, window 3, stride 2:
    # H = 5: ceil(2/2) + 1 = 2, last window at 2 < 5; H = 6: ceil(3/2) + 1 = 3; H = 7: ceil(4/2) + 1 = 3.
    (row,) = rows("[H, 1]", "type: maxpool1d, pool: 3, stride: 2, ceil_mode: true")
    h = sorted(row.output[0].free_symbols, key=str)[0]
    assert [int(row.output[0].subs(h, n)) for n in (5, 6, 7)] == [2, 3, 3]


def test_average_pools_count_the_padding_or_not_for_the_same_sizes() -> None:
    # floor((5 + 2 - 3)/2) + 1 = 3 either way: the option changes the values, not a size or a count
    for include in ("true", "false"):
        (row,) = rows("[5, 5, 2]", f"type: avgpool2d, pool: 3, stride: 2, padding: 1, count_include_pad: {include}")
        assert row.output == (3, 3, 2) and row.params == 0 and row.macs == 0
    assert problems("[5, 5, 2]", "type: maxpool2d, pool: 3, count_include_pad: false") == [
        "t.yaml:4: layers[0] (l0) count_include_pad: unknown key for maxpool2d; expected ceil_mode, from, padding, "
        "pool, stride"
    ]


def test_shuffle_keeps_the_shape_and_needs_groups_that_divide_the_channels() -> None:
    (row,) = rows("[7, 7, 12]", "type: shuffle, groups: 3")
    assert row.output == (7, 7, 12) and (row.params, row.macs, row.activations) == (0, 0, 7 * 7 * 12)
    assert problems("[7, 7, 12]", "type: shuffle, groups: 5") == [
        "t.yaml:4: layers[0] (l0) groups: expected a divisor of the 12 channels, got 5"
    ]
    assert problems("[12]", "type: shuffle, groups: 3") == [
        "t.yaml:4: layers[0] (l0) type: expected an input with spatial axes and channels for shuffle, got 12"
    ]


def test_channel_shuffle_is_another_name_for_shuffle() -> None:
    """import-onnx wrote ``channel_shuffle`` before the zoo named the type ``shuffle``; both read the same."""
    (row,) = rows("[7, 7, 12]", "type: channel_shuffle, groups: 3")
    assert row.type == "shuffle" and row.output == (7, 7, 12)
    assert problems("[7, 7, 12]", "type: channel_shuffle, groups: 5") == [
        "t.yaml:4: layers[0] (l0) groups: expected a divisor of the 12 channels, got 5"
    ]


def test_scale_learns_one_multiplier_per_channel() -> None:
    # ConvNeXt-T's layer scale in stage 1: gamma of shape (96, 1, 1), 96 parameters, no MACs
    (row,) = rows("[56, 56, 96]", "type: scale")
    assert row.output == (56, 56, 96) and (row.weights, row.biases, row.params, row.macs) == (96, 0, 96, 0)
    (row,) = rows("[10]", "type: scale")
    assert row.params == 10


def test_slice_keeps_channels_start_to_stop() -> None:
    # ShuffleNetV2's x.chunk(2, dim=1) of 116 channels: [0, 58) and [58, 116)
    (first,) = rows("[28, 28, 116]", "type: slice, stop: 58")
    (second,) = rows("[28, 28, 116]", "type: slice, start: 58, stop: 116")
    assert first.output == second.output == (28, 28, 58)
    assert (second.params, second.macs, second.activations) == (0, 0, 28 * 28 * 58)
    assert problems("[4, 4, 8]", "type: slice, start: 3, stop: 3") == [
        "t.yaml:4: layers[0] (l0) stop: expected a stop after start (3), got 3"
    ]
    assert problems("[4, 4, 8]", "type: slice, stop: 9") == [
        "t.yaml:4: layers[0] (l0) stop: expected at most the 8 channels of the input, got 9"
    ]


def test_batchnorm_any_rank() -> None:
    for shape, channels in (("[10]", 10), ("[7, 3]", 3), ("[4, 4, 5]", 5), ("[2, 2, 2, 6]", 6)):
        (row,) = rows(shape, "type: batchnorm")
        assert (row.weights, row.biases, row.non_trainable) == (channels, channels, 2 * channels)


def test_dense_flattens_and_checks_declared_inputs() -> None:
    flat, dense = rows("[3, 4, 5]", "type: flatten", "type: dense, units: 7, bias: false")
    assert flat.output == (60,) and (dense.weights, dense.biases) == (60 * 7, 0)
    (row,) = rows("[6, 6, 256]", "type: dense, units: 10, inputs: 9216")
    assert row.params == (6 * 6 * 256 + 1) * 10
    (row,) = rows("[H, 2]", "type: dense, units: 3, inputs: 8")
    assert row.weights == 8 * 3 and row.conditions[0].rhs == 8
    assert sympy.simplify(row.conditions[0].lhs - 2 * sympy.Symbol("H", integer=True, positive=True)) == 0


def test_shape_keeping_layers() -> None:
    layers = [
        "type: relu",
        "type: dropout, rate: 0.2",
        "type: lrn, size: 3",
        "type: leaky_relu, negative_slope: 0.1",
        "type: softmax",
        "type: gelu",
    ]
    for row in rows("[5, 5, 2]", *layers):
        assert row.output == (5, 5, 2) and row.params == 0 and row.non_trainable == 0


def test_add_joins_equal_shapes() -> None:
    rows_ = rows(
        "[8, 8, 4]", "type: conv2d, filters: 4, kernel: 3, padding: 1", "type: add, from: [l0, input]", "type: relu"
    )
    add = rows_[1]
    assert add.output == (8, 8, 4) and add.params == 0 and add.sources == ("l0", "input")
    assert rows_[2].input == (8, 8, 4)  # the layer after an add reads the add
    assert problems("[8, 8, 4]", "type: conv2d, filters: 4, kernel: 3", "type: add, from: [l0, input]") == [
        "t.yaml:5: layers[1] (l1) from: expected inputs whose sizes are equal or 1 along each axis, "
        "got 6x6x4 (l0) and 8x8x4 (input)"
    ]


def test_joins_broadcast_an_axis_of_size_1() -> None:
    # squeeze-excitation: [8, 8, 4] times the [1, 1, 4] of a global pool that keeps its axes
    _, _, scale = rows(
        "[8, 8, 4]",
        "type: globalavgpool, keepdims: true",
        "type: conv2d, filters: 4, kernel: 1",
        "type: multiply, from: [input, l1]",
    )
    assert scale.output == (8, 8, 4) and scale.params == 0
    assert scale.receptive_field is None  # one input is the same for every position: no single field
    (_, add) = rows("[1, 6, 3]", "type: maxpool2d, pool: 1, from: input", "type: add, from: [l0, input]")
    assert add.output == (1, 6, 3)
    assert problems("[4, 2]", "type: conv1d, filters: 3, kernel: 1", "type: multiply, from: [l0, input]") == [
        "t.yaml:5: layers[1] (l1) from: expected inputs whose sizes are equal or 1 along each axis, "
        "got 4x3 (l0) and 4x2 (input)"
    ]


def test_concat_adds_channels_and_needs_equal_spatial_sizes() -> None:
    a, b, c = rows(
        "[5, 5, 3]",
        "type: conv2d, filters: 4, kernel: 1",
        "type: conv2d, filters: 6, kernel: 3, padding: 1, from: input",
        "type: concat, from: [l0, l1, input]",
    )
    assert c.output == (5, 5, 4 + 6 + 3)
    assert [s.result for s in c.steps] == [4 + 6, 4 + 6 + 3]
    assert problems("[5, 5, 3]", "type: conv2d, filters: 4, kernel: 3", "type: concat, from: [l0, input]") == [
        "t.yaml:5: layers[1] (l1) from: expected inputs of one spatial size, got 3x3x4 (l0) and 5x5x3 (input)"
    ]


def test_symbolic_branches_that_may_differ_become_conditions() -> None:
    # ceil(H/2) from a 1-wide stride-2 kernel, floor(H/2) from a 2-wide pool: equal for even H.
    _, _, add = rows(
        "[H, 2]",
        "type: conv1d, filters: 2, kernel: 1, stride: 2",
        "type: maxpool1d, pool: 2, from: input",
        "type: add, from: [l0, l1]",
    )
    assert [c.label for c in add.conditions] == ["equal sizes for add"]
