"""Computed rows: formatting of shapes and the JSON form."""

from __future__ import annotations

import sympy

from cnnmacros.architecture import validate
from cnnmacros.engine import compute
from cnnmacros.rows import format_shape, format_size, json_size
from cnnmacros.yamlnodes import load

H = sympy.Symbol("H", integer=True, positive=True)


def test_formats() -> None:
    assert format_shape((55, 55, 96)) == "55x55x96"
    assert format_shape((4096,)) == "4096"
    assert format_size(H) == "H" and format_size(H - 4) == "(H - 4)"
    assert json_size(H - 4) == "H - 4" and json_size(7) == 7


def test_summary_json_by_hand() -> None:
    text = b"""name: n
input: [8, 8, 3]
layers:
  - {name: c, type: conv2d, filters: 4, kernel: 3}
  - {name: b, type: batchnorm}
  - {name: p, type: maxpool2d, pool: 2, from: c}
"""
    s = compute(validate("f.yaml", load("f.yaml", text)))
    # c: 3x3 kernels on 8x8x3 give 6x6x4; 3*3*3*4 = 108 weights and 4 biases; 4 x 36 positions x
    # 27 taps = 3,888 MACs; it sees 3x3 inputs, one apart, from position 0.
    # b: gamma and beta per channel (4 + 4), 8 statistics, no MACs, the same field.
    # p: 2x2 windows of c's output, 3x3x4; field 3 + (2 - 1) x 1 = 4, jump 2.
    # Training at batch 1 in float32: c keeps the input (the network's, no layer's), b and p both
    # keep c's output (144 values, 576 bytes, counted once, for c); b keeps a mean and an inverse
    # deviation per channel (2 x 4 x 4 bytes); p keeps an int64 index per output (36 x 8 bytes).
    field = {"size": [3, 3], "jump": [1, 1], "offset": [0, 0]}
    assert s.to_json() == {
        "name": "n",
        "convention": "cnnmacros",
        "dtype": "float32",
        "batch": 1,
        "device": "cuda",
        "optimizer": "adam",
        "input": [8, 8, 3],
        "layers": [
            {
                "name": "c",
                "type": "conv2d",
                "block": None,
                "output": [6, 6, 4],
                "weights": 108,
                "biases": 4,
                "params": 112,
                "non_trainable": 0,
                "macs": 3888,
                "flops": 7776,
                "activations": 144,
                "saved_bytes": 576,
                "receptive_field": field,
            },
            {
                "name": "b",
                "type": "batchnorm",
                "block": None,
                "output": [6, 6, 4],
                "weights": 4,
                "biases": 4,
                "params": 8,
                "non_trainable": 8,
                "macs": 0,
                "flops": 0,
                "activations": 144,
                "saved_bytes": 32,
                "receptive_field": field,
            },
            {
                "name": "p",
                "type": "maxpool2d",
                "block": None,
                "output": [3, 3, 4],
                "weights": 0,
                "biases": 0,
                "params": 0,
                "non_trainable": 0,
                "macs": 0,
                "flops": 0,
                "activations": 36,
                "saved_bytes": 288,
                "receptive_field": {"size": [4, 4], "jump": [2, 2], "offset": [0, 0]},
                "from": ["c"],
            },
        ],
        "totals": {
            "weights": 112,
            "biases": 8,
            "params": 120,
            "non_trainable": 8,
            "macs": 3888,
            "flops": 7776,
            "activations": 324,
            "param_bytes": 480,  # 120 x 4 bytes
            "forward_backward_bytes": 2 * 4 * (144 + 144),  # c and b have parameters, p has none
            "input_bytes": 8 * 8 * 3 * 4,
            "saved_bytes": 576 + 32 + 288,
            "buffer_bytes": 8 * 4 + 8,  # b's running mean and variance, and its int64 batch counter
            "grad_bytes": 480,
            "optimizer_bytes": 2 * 480,  # Adam: two moments per parameter
            "train_bytes": 768 + 896 + 480 + 40 + 480 + 960,
        },
    }
    assert (s.total_params, s.total_non_trainable, s.total_weights, s.total_biases) == (120, 8, 112, 8)
    assert s.output == (3, 3, 4)
    assert s.row("p").params == 0 and s.row("c").macs == 3888
