"""Reasoning on symbolic sizes: nested floors, joins that can never be equal, declared counts that
no input gives, and the smallest input for which every size is at least 1."""

from __future__ import annotations

import json
from pathlib import Path

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnmacros.engine import summarize
from cnnmacros.render import architecture_page
from cnnmacros.symbolic import (
    factor_terms,
    flatten_floors,
    has_solution,
    never_equal,
    polynomial_sum,
    reserved_name,
    smallest_positive,
    text,
)
from cnnmacros.text import table

from .conftest import run_cli

H, W = (sympy.Symbol(n, integer=True, positive=True) for n in "HW")
D, C = (sympy.Symbol(n, integer=True, positive=True) for n in "DC")

# Sizes as a network makes them: integers times symbols, floors and maxima, and their sums and
# products. The fast paths of factor_terms, text and polynomial_sum are checked against SymPy's
# own factor_terms, str and expand on them.
_atoms = st.sampled_from(
    [H, W, D, C, sympy.floor(H / 2 - sympy.Rational(1, 2)), sympy.floor((W + 1) / 3), sympy.Max(H - 3, 1)]
)
_linear = st.builds(
    lambda terms, constant: sympy.Add(*(c * a for c, a in terms), constant),
    st.lists(st.tuples(st.sampled_from([1, -1, 2, -3, 5, 12]), _atoms), min_size=1, max_size=3),
    st.sampled_from([0, 1, -1, 4, -6000, 37]),
)
_sizes = st.builds(
    lambda coefficient, factors: sympy.Mul(coefficient, *factors),
    st.sampled_from([1, 2, 3, -1, -4, 6, 81]),
    st.lists(st.one_of(_linear, _atoms, st.builds(lambda e: e**2, _linear)), max_size=3),
)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(1, 5), st.integers(-6, 6)), min_size=1, max_size=6),
    st.integers(1, 10_000),
)
def test_flattened_floors_are_equal_to_the_nested_ones(steps: list[tuple[int, int]], value: int) -> None:
    nested = flat = H
    for stride, constant in steps:
        nested = sympy.floor((nested + constant) / stride)
        flat = flatten_floors(sympy.floor((flat + constant) / stride))
    assert flat.xreplace({H: value}) == nested.xreplace({H: value})
    assert sum(1 for e in sympy.preorder_traversal(flat) if isinstance(e, sympy.floor)) <= 1


def test_a_join_of_sizes_a_constant_apart_is_never_equal() -> None:
    assert never_equal(H - 2, H - 4) and never_equal(2 * H, H)
    assert not never_equal(H, W) and not never_equal(sympy.floor(H / 2), sympy.floor((H - 1) / 2))


def test_declared_counts_are_solved_in_positive_integers() -> None:
    assert has_solution(16 * (H - 2) * (W - 2), 7, {H: 3, W: 3}) is False  # 16 does not divide 7
    assert has_solution(16 * (H - 2) * (W - 2), 8, {H: 3, W: 3}) is False  # 16 at the smallest input
    assert has_solution(32 * (H - 4) * (W - 4), 32 * 97, {H: 5, W: 5}) is True  # H = 5, W = 101
    assert has_solution(16 * sympy.floor(H / 2) * sympy.floor(W / 2), 16 * 35, {H: 2, W: 2}) is True
    assert has_solution(3 * (H - 1), 3 * 10**89, {H: 2}) is True  # found by bisection, not by counting
    assert has_solution(3 * (H - 1), 10**90 + 1, {H: 2}) is False
    assert has_solution((H - 4) * (W - 4), 2**61 - 1, {H: 5, W: 5}) is True  # H = 5, W = 2**61 + 3


def test_a_search_out_of_budget_leaves_the_count_undecided(monkeypatch) -> None:
    from cnnmacros import symbolic

    monkeypatch.setattr(symbolic, "SEARCH_BUDGET", 3)
    assert has_solution(3 * (H - 1), 3 * 10**89, {H: 2}) is None


def test_smallest_input_for_positive_sizes() -> None:
    assert smallest_positive(H - 8, H, 1) == 9
    assert smallest_positive(sympy.floor((H - 7) / 2) + 1, H, 3) == 7
    assert smallest_positive(sympy.floor(H / 2**170), H, 1) == 2**170
    assert smallest_positive(sympy.floor((H - 2 * 4 - 1) / 3) + 1, H, 1) == 9  # dilation 2, kernel 5, stride 3
    assert smallest_positive(sympy.floor((H - 4) / 3) + 1, H, 20) == 20  # never below the start
    assert smallest_positive(sympy.floor(H**2 / 7), H, 1) == 3  # not a window's form: searched


def test_names_that_read_as_something_else() -> None:
    for name in ("pi", "E", "I", "oo", "N", "S", "floor", "min", "sqrt", "alpha", "Lambda", "beta2", "H__2"):
        assert reserved_name(name), name
    for name in ("H", "W", "D", "L", "C", "width", "H_in", "x2", "batch"):
        assert reserved_name(name) is None, name


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "a.yaml"
    path.write_text(text)
    return path


def test_a_size_that_is_zero_for_small_inputs_gets_its_condition(tmp_path: Path) -> None:
    path = write(tmp_path, "name: x\ninput: [H, W, 3]\nlayers:\n  - {name: c, type: conv2d, filters: 16, kernel: 9}\n")
    summary = summarize(path)
    assert table(summary).splitlines()[-3:] == [
        "Conditions on the input size:",
        "  c: H >= 9 (every size at least 1)",
        "  c: W >= 9 (every size at least 1)",
    ]
    done = run_cli("summary", "--json", str(path))
    assert json.loads(done.stdout)["layers"][0]["conditions"] == ["H >= 9", "W >= 9"]
    page = architecture_page(summary)
    assert "Every size is at least 1 only for a large enough input: c needs <math" in page
    assert "<mi>H</mi><mo>&#x2265;</mo><mn>9</mn>" in page


def test_padding_can_hide_a_size_that_was_zero(tmp_path: Path) -> None:
    # c1 needs H >= 9; c2 pads it back to H + 10, which is positive for every H: c1 keeps the condition.
    path = write(
        tmp_path,
        "name: x\ninput: [H, 8, 3]\nlayers:\n  - {name: c1, type: conv2d, filters: 4, kernel: [9, 1]}\n"
        "  - {name: c2, type: conv2d, filters: 4, kernel: 3, padding: 10}\n",
    )
    assert [(r.name, [c.text() for c in r.conditions]) for r in summarize(path).rows] == [
        ("c1", ["H >= 9"]),
        ("c2", []),
    ]


def test_170_stride_2_layers_on_a_symbolic_size(tmp_path: Path) -> None:
    layers = "".join(f"  - {{name: p{i}, type: maxpool2d, pool: 2}}\n" for i in range(170))
    path = write(tmp_path, "name: x\ninput: [H, W, 3]\nlayers:\n" + layers)
    done = run_cli("summary", str(path))  # it recursed past Python's limit inside SymPy
    assert done.returncode == 0 and done.stderr == "", done.stderr[-500:]
    assert f"  p169: H >= {2**170} (every size at least 1)" in done.stdout


def test_check_and_summary_agree_on_the_largest_numbers_a_file_can_hold(tmp_path: Path) -> None:
    big = "9" * 100
    path = write(
        tmp_path,
        f"name: x\ninput: [{big}, {big}, {big}, {big}]\nlayers:\n"
        f"  - {{name: c, type: conv3d, filters: {big}, kernel: {big}, padding: {big}}}\n"
        f"  - {{name: d, type: dense, units: {big}}}\n",
    )
    for command in ("check", "summary"):
        done = run_cli(command, str(path))
        assert done.returncode == 0 and done.stderr == "", (command, done.stderr[-500:])


LAYERS = st.sampled_from(
    [
        "{type: conv2d, filters: 4, kernel: 3}",
        "{type: conv2d, filters: 4, kernel: 3, stride: 2}",
        "{type: conv2d, filters: 2, kernel: 3, dilation: 2, padding: 1}",
        "{type: conv2d, filters: 4, kernel: 1, padding: 2, groups: 2}",
        "{type: maxpool2d, pool: 2}",
        "{type: avgpool2d, pool: 3, stride: 2, padding: 1}",
        "{type: batchnorm}",
        "{type: relu}",
    ]
)


@settings(max_examples=40, deadline=None)
@given(st.lists(LAYERS, min_size=1, max_size=6), st.integers(0, 40), st.integers(0, 40))
def test_a_symbolic_file_at_an_input_gives_the_numeric_figures(tmp_path_factory, layers, dh, dw) -> None:
    """Sizes, counts, totals and the bounds of a symbolic file, at an input that meets the bounds,
    equal the figures of the same file with that input written as numbers."""
    body = "".join(f"  - {{name: l{i}, {layer[1:]}\n" for i, layer in enumerate(layers))
    directory = tmp_path_factory.mktemp("s")
    symbolic = summarize(write(directory, "name: x\ninput: [H, W, 4]\nlayers:\n" + body))
    bounds = {c.lhs: c.rhs for r in symbolic.rows for c in r.conditions if c.relation == ">="}
    h, w = bounds.get(H, 1) + dh, bounds.get(W, 1) + dw
    numeric = summarize(write(directory, f"name: x\ninput: [{h}, {w}, 4]\nlayers:\n" + body))
    at = {H: h, W: w}

    def value(v):
        return v if isinstance(v, int) else int(v.xreplace(at))

    for s, n in zip(symbolic.rows, numeric.rows, strict=True):
        assert tuple(map(value, s.output)) == n.output
        for key in ("weights", "biases", "params", "macs", "activations"):
            assert value(s.figures[key]) == n.figures[key], (key, s.name)
    assert {k: value(v) for k, v in symbolic.totals.items()} == numeric.totals
    # the bounds are the smallest: one less along an axis and some size is 0
    for symbol, other in ((H, W), (W, H)):
        if bounds.get(symbol, 1) > 1:
            smaller = {symbol: bounds[symbol] - 1, other: at[other]}
            assert any(v.xreplace(smaller) < 1 for r in symbolic.rows for v in r.output if not isinstance(v, int))


@settings(max_examples=300, deadline=None)
@given(_sizes)
def test_factor_terms_is_sympys(size: sympy.Expr) -> None:
    assert sympy.srepr(factor_terms(size)) == sympy.srepr(sympy.factor_terms(size))


@settings(max_examples=300, deadline=None)
@given(st.one_of(_sizes, st.builds(sympy.factor_terms, _sizes)))
def test_text_is_sympys_str(size: sympy.Expr) -> None:
    assert text(size) == str(size)


@settings(max_examples=200, deadline=None)
@given(st.lists(_sizes, min_size=1, max_size=5))
def test_polynomial_sum_is_the_expanded_sum(terms: list[sympy.Expr]) -> None:
    total = polynomial_sum(terms)
    assert sympy.expand(total - sympy.Add(*terms)) == 0
    if not any(t.has(sympy.Pow) for t in terms):  # then also SymPy's own form, term for term
        assert total == sympy.Add(*(sympy.expand(t, deep=False) for t in terms))


def test_the_total_of_a_long_symbolic_file_is_a_polynomial(tmp_path: Path) -> None:
    """Summed by hand: layer k of n outputs (H - 2k)x(W - 2k)x3, so its MACs are
    81*(H - 2k)*(W - 2k), and the sum over k = 1..n is 81*(n*H*W - n(n+1)*(H + W) + 4*sum(k**2))."""
    n = 40
    layers = "".join(f"  - {{name: c{k}, type: conv2d, filters: 3, kernel: 3}}\n" for k in range(n))
    path = tmp_path / "long.yaml"
    path.write_text(f"name: Long\ninput: [H, W, 3]\nlayers:\n{layers}")
    macs = summarize(path).totals["macs"]
    squares = sum(k * k for k in range(1, n + 1))
    assert macs == 81 * n * H * W - 81 * n * (n + 1) * (H + W) + 81 * 4 * squares
    assert len(macs.args) == 4
    two = tmp_path / "two.yaml"
    second = "  - {name: d, type: conv2d, filters: 3, kernel: 5}"
    two.write_text(f"name: Two\ninput: [H, W, 3]\nlayers:\n{layers.splitlines()[0]}\n{second}\n")
    assert str(summarize(two).totals["macs"]) == "225*(H - 6)*(W - 6) + 81*(H - 2)*(W - 2)"  # 2 terms, not 4
