"""Every figure the four source documents give, asserted against the engine.

The expectations are copied from the documents in ../shared/seeds (fixed where its README lists a
fault), never from the program's output.
"""

from __future__ import annotations

import pytest

from cnnmacros.engine import summarize
from cnnmacros.rows import format_shape

from .conftest import ARCHITECTURES

# 000_11af97326fab15c6.txt, the table "Number of Parameters and Tensor Sizes in AlexNet".
ALEXNET_TABLE = """
Conv-1	55x55x96	34,848	96	34,944
MaxPool-1	27x27x96	0	0	0
Conv-2	27x27x256	614,400	256	614,656
MaxPool-2	13x13x256	0	0	0
Conv-3	13x13x384	884,736	384	885,120
Conv-4	13x13x384	1,327,104	384	1,327,488
Conv-5	13x13x256	884,736	256	884,992
MaxPool-3	6x6x256	0	0	0
FC-1	4096×1	37,748,736	4,096	37,752,832
FC-2	4096×1	16,777,216	4,096	16,781,312
FC-3	1000×1	4,096,000	1,000	4,097,000
"""


def _int(text: str) -> int:
    return int(text.replace(",", ""))


def test_alexnet_every_row_of_the_table() -> None:
    summary = summarize(ARCHITECTURES / "alexnet.yaml")
    assert format_shape(summary.input) == "227x227x3"
    expected = [line.split("\t") for line in ALEXNET_TABLE.strip().splitlines()]
    assert [r.name for r in summary.rows] == [e[0] for e in expected]
    for row, (name, size, weights, biases, params) in zip(summary.rows, expected, strict=True):
        assert format_shape(row.output) == size.removesuffix("×1"), name
        assert (row.weights, row.biases, row.params) == (_int(weights), _int(biases), _int(params)), name
    assert summary.total_params == 62_378_344
    assert summary.total_non_trainable == 0


def test_alexnet_conv_totals_from_the_prose() -> None:
    # "the number of parameters for Conv-2, Conv-3, Conv-4, Conv-5 are 614656, 885120, 1327488
    # and 884992 ... The total number of parameters for the Conv Layers is therefore 3,747,200."
    summary = summarize(ARCHITECTURES / "alexnet.yaml")
    convs = [r for r in summary.rows if r.type == "conv2d"]
    assert [r.params for r in convs[1:]] == [614656, 885120, 1327488, 884992]
    assert sum(r.params for r in convs) == 3_747_200
    # The summary paragraph's "Conv-5 changes the size back to 27x27x256" is one of the listed
    # faults: Conv-5 keeps 13x13, as the document's own table says.
    assert format_shape(summary.row("Conv-5").output) == "13x13x256"


def test_first_alexnet_conv_of_001() -> None:
    # 001: 227x227x3 input, 96 kernels of 11x11x3, stride 4, no padding: 55x55x96, 34,944.
    row = summarize(ARCHITECTURES / "alexnet.yaml").row("Conv-1")
    assert format_shape(row.output) == "55x55x96"
    assert row.params == (11 * 11 * 3 + 1) * 96 == 34_944


def test_mnist_four_questions_of_003() -> None:
    summary = summarize(ARCHITECTURES / "mnist.yaml")
    assert format_shape(summary.row("Conv-1").output) == "24x24x4"
    assert format_shape(summary.row("MaxPool-1").output) == "12x12x4"  # question 1
    assert format_shape(summary.row("Conv-2").output) == "10x10x8"
    assert format_shape(summary.row("MaxPool-2").output) == "5x5x8"
    assert format_shape(summary.row("Conv-3").output) == "3x3x16"  # question 2
    assert summary.row("Flatten").output == (144,)  # question 3
    per_layer = {"Conv-1": 104, "Conv-2": 296, "Conv-3": 1168, "FC": 2320, "Output layer": 170}
    for name, params in per_layer.items():
        assert summary.row(name).params == params, name
    assert summary.total_params == 104 + 296 + 1168 + 2320 + 170 == 4058  # question 4


@pytest.mark.parametrize(
    ("file", "conv1", "conv2", "total"),
    [("batchnorm-2d.yaml", 448, 4640, 13_440), ("batchnorm-3d.yaml", 1312, 13_856, 23_520)],
)
def test_batchnorm_examples_of_002(file: str, conv1: int, conv2: int, total: int) -> None:
    summary = summarize(ARCHITECTURES / file)
    assert summary.row("Conv-1").params == conv1
    assert summary.row("BatchNorm-1").params == 2 * 16 == 32
    assert summary.row("Conv-2").params == conv2
    assert summary.row("BatchNorm-2").params == 2 * 32 == 64
    assert summary.row("FC").params == 128 * 64 + 64 == 8256
    assert summary.total_params == total
    # Listed fault: batch norm also keeps 2 running statistics per channel (16 + 32 channels).
    assert summary.total_non_trainable == 2 * 16 + 2 * 32 == 96


def test_batchnorm_fc_inputs_become_a_visible_condition() -> None:
    fc = summarize(ARCHITECTURES / "batchnorm-2d.yaml").row("FC")
    assert len(fc.conditions) == 1
    condition = fc.conditions[0]
    assert condition.rhs == 128
    # Two unpadded 3x3 convolutions remove 4 from each side length; 32 channels remain.
    import sympy

    H, W = sympy.symbols("H W", integer=True, positive=True)
    assert sympy.simplify(condition.lhs - 32 * (H - 4) * (W - 4)) == 0


def test_branching_networks_match_their_published_figures() -> None:
    # torchvision lists 11,689,512 parameters for resnet18 (ResNet18_Weights.IMAGENET1K_V1).
    resnet = summarize(ARCHITECTURES / "resnet18.yaml")
    assert resnet.total_params == 11_689_512
    # Its 20 batch norms cover 64 + 4*64 + 5*128 + 5*256 + 5*512 = 4,800 channels, two statistics each.
    assert resnet.total_non_trainable == 2 * 4_800
    # GoogLeNet's table: inception (3a) turns 28x28x192 into 28x28x256 (64 + 128 + 32 + 32 channels).
    inception = summarize(ARCHITECTURES / "inception-3a.yaml")
    assert inception.output == (28, 28, 64 + 128 + 32 + 32)
