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


from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from cnnmacros.layers import REGISTRY  # noqa: E402

SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 40),
    st.floats(allow_nan=True),
    st.text(max_size=6),
    st.sampled_from(["same", "valid", "H", "W", "2H", "0b_", "1e3", "-0", ".inf"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
LAYER = st.fixed_dictionaries(
    {"name": st.one_of(st.text(max_size=4), SCALARS), "type": st.sampled_from([*REGISTRY, "conv2", "x"])},
    optional={
        key: VALUES
        for key in (
            "filters",
            "kernel",
            "stride",
            "padding",
            "dilation",
            "groups",
            "bias",
            "pool",
            "ceil_mode",
            "units",
            "inputs",
            "rate",
            "strdie",
        )
    },
)
ARCHITECTURE = st.fixed_dictionaries(
    {
        "name": VALUES,
        "input": st.one_of(
            st.lists(st.one_of(st.integers(-1, 30), st.sampled_from(["H", "W", "x y"])), max_size=5), VALUES
        ),
        "layers": st.one_of(st.lists(LAYER, max_size=5), VALUES),
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))
@given(ARCHITECTURE)
def test_any_file_gives_rows_or_located_errors_never_a_crash(data: dict) -> None:
    import json

    try:
        summary = compute(validate("f.yaml", load("f.yaml", json.dumps(data).encode())))
    except ArchitectureError as exc:
        assert exc.problems and all(str(p).startswith("f.yaml:") for p in exc.problems)
    else:
        assert len(summary.rows) == len(data["layers"])


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=60) | st.text(max_size=60).map(str.encode))
def test_any_bytes_load_or_fail_cleanly(data: bytes) -> None:
    try:
        validate("f.yaml", load("f.yaml", data))
    except ArchitectureError as exc:
        assert exc.problems
