"""Each formula against a derivation written out here, and the documents' forms as SymPy identities."""

from __future__ import annotations

import sympy
from sympy import simplify, symbols

from cnnmacros.formulas import FORMULAS, LEGEND, LHS_WORDS, equation, formula

I, K, S, P, D = FORMULAS["conv_output_size"].args


def value(name: str, **values: int) -> sympy.Expr:
    f = formula(name)
    return f.rhs.subs({s: values[s.name] for s in f.args})


def test_conv_output_size_by_hand() -> None:
    # AlexNet Conv-1: (227 + 0 - 1*(11 - 1) - 1) / 4 = 216/4 = 54, plus one.
    assert value("conv_output_size", I=227, K=11, S=4, P=0, D=1) == 55
    # 224 does not divide: 213/4 = 53.25, floored to 53, plus one.
    assert value("conv_output_size", I=224, K=11, S=4, P=0, D=1) == 54
    # Dilation 2 makes a 3-tap kernel span 5 inputs: (10 + 2 - 4 - 1)/1 + 1 = 8.
    assert value("conv_output_size", I=10, K=3, S=1, P=1, D=2) == 8
    # Stride 2, padding 1, kernel 3 on 7: floor((7 + 2 - 2 - 1)/2) + 1 = 3 + 1.
    assert value("conv_output_size", I=7, K=3, S=2, P=1, D=1) == 4


def test_general_form_reduces_to_the_documents_form_without_dilation() -> None:
    general = formula("conv_output_size").rhs.subs(D, 1)
    assert simplify(general - formula("conv_output_size_d1").rhs) == 0


def test_exact_division_gives_the_textbook_fraction() -> None:
    # With I = S*q + K - 2P the division is exact, and the floor can be dropped.
    q = symbols("q", integer=True, positive=True)
    exact = {I: S * q + K - 2 * P}
    floored = formula("conv_output_size_d1").rhs.subs(exact)
    textbook = ((I - K + 2 * P) / S + 1).subs(exact)
    assert simplify(floored - textbook) == 0


def test_pool_output_size_by_hand() -> None:
    assert value("pool_output_size", I=55, K=3, S=2, P=0) == 27  # AlexNet MaxPool-1
    assert value("pool_output_size", I=13, K=3, S=2, P=0) == 6  # MaxPool-3
    assert value("pool_output_size", I=24, K=2, S=2, P=0) == 12  # MNIST pool 1


def test_pool_ceil_mode_by_hand() -> None:
    # 6 with window 3, stride 2: floor gives (6-3)/2 -> 1 + 1 = 2; ceil gives 2 + 1 = 3, and the
    # last window starts at 4 < 6, inside the input, so 3 stands.
    assert value("pool_output_size_ceil", I=6, K=3, S=2, P=0) == 3
    # 5 with window 2, stride 2, padding 1: ceil((5 + 2 - 2)/2) + 1 = 4, but window 4 would start
    # at 3*2 = 6 >= 5 + 1, in the right padding only, so PyTorch drops it: 3.
    assert value("pool_output_size_ceil", I=5, K=2, S=2, P=1) == 3


def test_conv_weights_and_params_by_hand() -> None:
    # 001: (11*11*3 + 1)*96 = 34,944
    assert value("conv2d_params", K_h=11, K_w=11, C_in=3, G=1, C_out=96) == 34_944
    assert value("conv2d_weights", K_h=11, K_w=11, C_in=3, G=1, C_out=96) == 11 * 11 * 3 * 96
    # 002: 3D, (3*3*3*16 + 1)*32 = 13,856
    assert value("conv3d_params", K_d=3, K_h=3, K_w=3, C_in=16, G=1, C_out=32) == 13_856
    # groups: AlexNet's original Conv-2 in two groups: 5*5*(96/2)*256 = 307,200 weights
    assert value("conv2d_weights", K_h=5, K_w=5, C_in=96, G=2, C_out=256) == 307_200
    assert value("conv1d_params", K_w=7, C_in=4, G=4, C_out=8) == (7 * 1 + 1) * 8


def test_documents_forms_are_special_cases() -> None:
    f = formula("conv2d_weights")
    K_h, K_w, C_in, G, C_out = f.args
    k, c, n = symbols("K C N", positive=True, integer=True)
    # 000: W_c = K^2 x C x N for square kernels, C input channels, N kernels, no groups.
    assert simplify(f.rhs.subs({K_h: k, K_w: k, C_in: c, G: 1, C_out: n}) - k**2 * c * n) == 0
    # Params are weights plus one bias per kernel.
    assert (
        simplify(
            formula("conv2d_params").rhs
            - f.rhs
            - formula("conv_biases").rhs.subs(formula("conv_biases").args[0], C_out)
        )
        == 0
    )
    # FC after an O x O x C tensor: flatten first, then an ordinary dense layer.
    o, ch, fu = formula("dense_after_conv_weights").args
    flat = formula("flatten_units").rhs.subs(dict(zip(formula("flatten_units").args, (o, o, ch), strict=True)))
    dense = formula("dense_weights").rhs.subs(dict(zip(formula("dense_weights").args, (flat, fu), strict=True)))
    assert simplify(formula("dense_after_conv_weights").rhs - dense) == 0


def test_dense_and_batchnorm_by_hand() -> None:
    assert value("dense_params", N=128, F=64) == 128 * 64 + 64 == 8256
    assert value("dense_after_conv_weights", O=6, C=256, F=4096) == 37_748_736
    assert value("batchnorm_trainable", C=64) == 128
    assert value("batchnorm_non_trainable", C=64) == 128


def test_every_symbol_has_words() -> None:
    for f in FORMULAS.values():
        assert f.lhs in LHS_WORDS
        for s in f.args:
            assert s.name in LEGEND
        assert f.rhs.free_symbols <= set(f.args), f.name
        assert set(f.legend) == {f.lhs, *(s.name for s in f.args)}


def test_equation_and_unknown_name() -> None:
    assert str(equation("dense_biases")) == "Eq(B, F)"
    try:
        formula("nope")
    except KeyError as exc:
        assert "conv_output_size" in str(exc)
    else:  # pragma: no cover
        raise AssertionError("expected a KeyError")


def test_no_floats_in_any_formula() -> None:
    for f in FORMULAS.values():
        assert not f.rhs.atoms(sympy.Float), f.name


def test_dilation_and_same_padding_by_hand() -> None:
    # 3 taps with dilation 2: positions 0, 2, 4 span 5 inputs; 'same' then pads 4 in all.
    assert value("dilated_extent", K=3, D=2) == 5
    assert value("same_padding_total", K=3, D=2) == 4
    # With that total padding and stride 1, the general formula keeps the size: I + Q - D(K - 1) - 1 + 1 = I.
    q = formula("same_padding_total").rhs
    general_with_total = sympy.floor(I + q - D * (K - 1) - 1) + 1
    assert simplify(general_with_total - formula("conv_output_size_same").rhs) == 0


def test_batchnorm_trainable_is_scales_plus_shifts() -> None:
    c = formula("batchnorm_trainable").args[0]
    scales = formula("batchnorm_scales").rhs.subs(formula("batchnorm_scales").args[0], c)
    shifts = formula("batchnorm_shifts").rhs.subs(formula("batchnorm_shifts").args[0], c)
    assert simplify(formula("batchnorm_trainable").rhs - scales - shifts) == 0
