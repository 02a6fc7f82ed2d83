"""Each formula against a derivation written out here, and the documents' forms as SymPy identities."""

from __future__ import annotations

import sympy
from sympy import simplify, symbols

from cnnmacros.formulas import FORMULAS, LEGEND, equation, formula

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
    # 000's FC-1: W = O^2 x C x F after an O x O x C tensor is the input units H W C (H = W = O)
    # times the units.
    o, ch, units = symbols("O C F", positive=True, integer=True)
    h, w, c = formula("dense_inputs").args
    n_in, n_out = formula("dense_weights").args
    inputs = formula("dense_inputs").rhs.subs({h: o, w: o, c: ch})
    assert simplify(formula("dense_weights").rhs.subs({n_in: inputs, n_out: units}) - o**2 * ch * units) == 0
    # A flatten layer gives the same count as a dense layer's own flattening.
    assert formula("flatten_units").rhs == formula("dense_inputs").rhs


def test_dense_and_batchnorm_by_hand() -> None:
    assert value("dense_params", N_in=128, N_out=64) == 128 * 64 + 64 == 8256
    # 000's FC-1: 6 x 6 x 256 = 9,216 inputs, x 4,096 units = 37,748,736 weights
    assert value("dense_inputs", H=6, W=6, C=256) == 9216
    assert value("dense_weights", N_in=9216, N_out=4096) == 37_748_736
    assert value("batchnorm_trainable", C=64) == 128
    assert value("batchnorm_non_trainable", C=64) == 128


def test_every_symbol_has_words() -> None:
    for f in FORMULAS.values():
        assert f.lhs in LEGEND
        for s in f.args:
            assert s.name in LEGEND
        assert f.rhs.free_symbols <= set(f.args), f.name
        assert set(f.legend) == {f.lhs, *(s.name for s in f.args)}


def test_one_letter_one_meaning() -> None:
    # Every name a formula uses, on its left or right, is one symbol with one set of assumptions and
    # one entry of the legend: width W and weights N_w, padding P and parameters N_p are apart.
    seen: dict[str, sympy.Symbol] = {}
    for f in FORMULAS.values():
        for s in f.args:
            assert seen.setdefault(s.name, s) == s, f"{s.name} has two sets of assumptions ({f.name})"
    lhs = {f.lhs for f in FORMULAS.values()}
    assert {"W", "P"} <= set(seen) and not {"W", "P"} & lhs
    assert {"N_w", "N_p", "N_b"} <= lhs


def test_equation_and_unknown_name() -> None:
    assert str(equation("dense_biases")) == "Eq(N_b, N_out)"
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


def test_macs_by_hand() -> None:
    # AlexNet Conv-1: 96 kernels x 55 x 55 positions x (3 x 11 x 11) taps = 105,415,200.
    m = value("conv2d_macs", C_out=96, O_h=55, O_w=55, C_in=3, G=1, K_h=11, K_w=11)
    assert m == 96 * 55 * 55 * 363 == 105_415_200
    # Grouped: each output sees C_in/G channels; 3D counts the depth too.
    assert value("conv2d_macs", C_out=256, O_h=27, O_w=27, C_in=96, G=2, K_h=5, K_w=5) == 256 * 27 * 27 * 48 * 25
    assert value("conv3d_macs", C_out=2, O_d=3, O_h=4, O_w=5, C_in=6, G=3, K_d=1, K_h=2, K_w=3) == 2 * 60 * 2 * 6
    assert value("conv1d_macs", C_out=4, O_w=10, C_in=2, G=1, K_w=3) == 4 * 10 * 2 * 3
    assert value("dense_macs", N_in=9216, N_out=4096) == 37_748_736  # one per weight, no bias
    assert value("flops", M=105_415_200) == 210_830_400


def test_receptive_field_by_hand() -> None:
    # AlexNet: Conv-1 (K 11, S 4) on the input: R = 1 + 10 x 1 = 11, J = 4, X = 0.
    assert value("field_size", R_in=1, K=11, D=1, J_in=1) == 11
    assert value("field_jump", J_in=1, S=4) == 4
    # MaxPool-1 (K 3, S 2) after it: R = 11 + 2 x 4 = 19, J = 8.
    assert value("field_size", R_in=11, K=3, D=1, J_in=4) == 19
    # Conv-2 (K 5, P 2) after that: R = 19 + 4 x 8 = 51, and the offset moves 2 x 8 into the padding.
    assert value("field_size", R_in=19, K=5, D=1, J_in=8) == 51
    assert value("field_offset", X_in=0, P_b=2, J_in=8) == -16
    # A kernel of 3 with dilation 2 spans 5 inputs: R = 1 + 2 x 2 = 5 (positions 0, 2, 4 and the holes).
    assert value("field_size", R_in=1, K=3, D=2, J_in=1) == 5
    # Two branches, [-2, 4] (X -2, R 7) and [0, 9] (X 0, R 10): together [-2, 9], 12 positions.
    assert value("field_union_offset", X_1=-2, X_2=0) == -2
    assert value("field_union_size", X_1=-2, R_1=7, X_2=0, R_2=10) == 12


def test_bytes_by_hand() -> None:
    # AlexNet: 62,378,344 float32 parameters are 249,513,376 bytes.
    assert value("param_bytes", N_p=62_378_344, Z_e=4) == 249_513_376
    assert value("forward_backward_bytes", A_p=1000, Z_e=2) == 4000
