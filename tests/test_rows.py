"""Computed rows: formatting of shapes and the JSON form."""

from __future__ import annotations

import sympy

from cnnmacros.rows import Row, Summary, format_shape, format_size, json_size

H = sympy.Symbol("H", integer=True, positive=True)


def test_formats() -> None:
    assert format_shape((55, 55, 96)) == "55x55x96"
    assert format_shape((4096,)) == "4096"
    assert format_size(H) == "H" and format_size(H - 4) == "(H - 4)"
    assert json_size(H - 4) == "H - 4" and json_size(7) == 7


def test_summary_totals_and_json() -> None:
    rows = [
        Row(0, "c", "conv2d", 3, (8, 8, 3), (6, 6, 4), weights=108, biases=4),
        Row(1, "b", "batchnorm", 4, (6, 6, 4), (6, 6, 4), weights=4, biases=4, non_trainable=8),
    ]
    s = Summary("n", "f.yaml", "", "", (8, 8, 3), rows)
    assert (s.total_params, s.total_non_trainable, s.total_weights, s.total_biases) == (120, 8, 112, 8)
    assert s.output == (6, 6, 4)
    assert s.to_json() == {
        "name": "n",
        "input": [8, 8, 3],
        "layers": [
            {
                "name": "c",
                "type": "conv2d",
                "output": [6, 6, 4],
                "weights": 108,
                "biases": 4,
                "params": 112,
                "non_trainable": 0,
            },
            {
                "name": "b",
                "type": "batchnorm",
                "output": [6, 6, 4],
                "weights": 4,
                "biases": 4,
                "params": 8,
                "non_trainable": 8,
            },
        ],
        "totals": {"params": 120, "non_trainable": 8},
    }
