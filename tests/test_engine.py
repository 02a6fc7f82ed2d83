"""Shapes flowing through a network: symbolic sizes, exact big numbers, problems reported together."""

from __future__ import annotations

import pytest
import sympy

from cnnmacros.architecture import validate
from cnnmacros.engine import compute, concrete_inputs
from cnnmacros.errors import ArchitectureError
from cnnmacros.yamlnodes import load

H, W = sympy.symbols("H W", integer=True, positive=True)


def arch(text: str):
    return validate("t.yaml", load("t.yaml", text.encode()))


def test_symbolic_sizes_stay_symbolic_and_counts_stay_numbers() -> None:
    summary = compute(
        arch(
            "name: t\ninput: [H, W, 3]\nlayers:\n"
            "  - {name: c, type: conv2d, filters: 8, kernel: 5, stride: 2, padding: 1}\n"
            "  - {name: p, type: maxpool2d, pool: 2}\n"
        )
    )
    conv, pool = summary.rows
    # floor((H + 2 - 5)/2) + 1 = floor((H - 3)/2) + 1
    assert sympy.simplify(conv.output[0] - (sympy.floor((H - 3) / 2) + 1)) == 0
    assert conv.params == (5 * 5 * 3 + 1) * 8 and isinstance(conv.params, int)
    for h in (5, 6, 11, 40):  # the expression agrees with a by-hand count at several sizes
        assert conv.output[0].subs(H, h) == (h + 2 - 5) // 2 + 1
        assert pool.output[0].subs(H, h) == ((h + 2 - 5) // 2 + 1) // 2
    assert summary.symbolic


def test_counts_that_depend_on_symbols_become_expressions() -> None:
    summary = compute(arch("name: t\ninput: [H, W, 2]\nlayers: [{name: d, type: dense, units: 3}]\n"))
    assert sympy.simplify(summary.rows[0].weights - 6 * H * W) == 0
    assert summary.to_json()["layers"][0]["weights"] == "6*H*W"


def test_huge_sizes_are_exact() -> None:
    big = 10**30
    summary = compute(
        arch(
            f"name: t\ninput: [{big}, 3]\nlayers:\n"
            "  - {name: c, type: conv1d, filters: 2, kernel: 3}\n  - {name: d, type: dense, units: 5}\n"
        )
    )
    conv, dense = summary.rows
    assert conv.output == (big - 2, 2)
    assert dense.weights == (big - 2) * 2 * 5 == 10**31 - 20
    assert summary.total_params == (3 * 3 + 1) * 2 + 10**31 - 20 + 5


def test_all_problems_of_a_file_together_and_stop_at_an_unknown_shape() -> None:
    with pytest.raises(ArchitectureError) as info:
        compute(
            arch(
                "name: t\ninput: [8, 8, 6]\nlayers:\n"
                "  - {name: a, type: conv2d, filters: 4, kernel: 3, groups: 4}\n"
                "  - {name: b, type: conv2d, filters: 4, kernel: 9}\n"
                "  - {name: c, type: conv2d, filters: 4, kernel: 99}\n"
            )
        )
    assert [str(p) for p in info.value.problems] == [
        "t.yaml:4: layers[0] (a) groups: expected a divisor of the 6 input channels, got 4",
        "t.yaml:5: layers[1] (b) kernel: expected a kernel that fits the padded input along H (6 + 2x0 = 6), got 9",
    ]


def test_concrete_inputs_for_a_symbolic_file() -> None:
    a = arch(
        "name: t\ninput: [H, W, 1]\nlayers:\n  - {name: c, type: conv2d, filters: 2, kernel: 3}\n"
        "  - {name: d, type: dense, units: 1, inputs: 8}\n"
    )
    # 2(H - 2)(W - 2) = 8: (H - 2)(W - 2) = 4, smallest H first: 3x6, 4x4, 6x3.
    assert concrete_inputs(a, 3) == [(3, 6, 1), (4, 4, 1), (6, 3, 1)]
    assert concrete_inputs(arch("name: t\ninput: [4, 1]\nlayers: [{name: r, type: relu}]\n")) == [(4, 1)]
