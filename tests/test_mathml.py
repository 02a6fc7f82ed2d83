"""MathML printed from the formulas: structure, substituted numbers, rounding shown."""

from __future__ import annotations

import re
import xml.dom.minidom

import sympy

from cnnmacros.formulas import FORMULAS
from cnnmacros.mathml import equation, formula_math, step_display, step_math, symbol_math
from cnnmacros.rows import Step


def flat(markup: str) -> str:
    """The text a reader sees, in order, with operators spelled out."""
    text = re.sub(r"<[^>]+>", " ", markup)
    for entity, char in {
        "&#x2212;": "−",
        "&#xD7;": "×",
        "&InvisibleTimes;": "",
        "&#8970;": "⌊",
        "&#8971;": "⌋",
        "&#8968;": "⌈",
        "&#8969;": "⌉",
        "&#x2264;": "≤",
        "&#8195;": " ",
        "&#8194;": " ",
    }.items():
        text = text.replace(entity, char)
    return " ".join(text.split())


def test_every_formula_prints_as_well_formed_mathml() -> None:
    for name in FORMULAS:
        markup = formula_math(name)
        xml.dom.minidom.parseString(markup.replace("&InvisibleTimes;", "&#x2062;"))
        assert markup.startswith('<math xmlns="http://www.w3.org/1998/Math/MathML" display="block">')


def test_conv_step_shows_formula_numbers_rounding_and_result() -> None:
    step = Step("output_size", "output size", "conv_output_size_d1", {"I": 224, "K": 11, "S": 4, "P": 0}, 54)
    # O = ⌊(I − K + 2P)/S⌋ + 1 = ⌊(224 − 11 + 2 × 0)/4⌋ + 1 = ⌊213/4⌋ + 1 = 54
    assert flat(step_math(step)) == "O = ⌊ I − K + 2 P S ⌋ + 1 = ⌊ 224 − 11 + 2 × 0 4 ⌋ + 1 = ⌊ 213 4 ⌋ + 1 = 54"


def test_general_conv_formula_reads_in_pytorch_order() -> None:
    assert flat(formula_math("conv_output_size")) == "O = ⌊ I + 2 P − D ( K − 1 ) − 1 S ⌋ + 1"


def test_weights_follow_the_documents_order_and_group_thousands() -> None:
    step = Step("weights", "weights", "conv2d_weights", {"K_h": 11, "K_w": 11, "C_in": 3, "G": 1, "C_out": 96}, 34_848)
    # one group is no division: no "/1" after the numbers of an ordinary convolution
    assert flat(step_math(step)) == "N w = K h K w C in C out G = 11 × 11 × 3 × 96 = 34,848"


def test_two_groups_stay_a_division() -> None:
    step = Step("weights", "weights", "conv2d_weights", {"K_h": 5, "K_w": 5, "C_in": 96, "G": 2, "C_out": 256}, 307_200)
    assert flat(step_math(step)) == "N w = K h K w C in C out G = 5 × 5 × 96 × 256 2 = 307,200"


def test_an_exact_division_is_not_rounded() -> None:
    # (227 - 11 + 0)/4 = 54 exactly: the step reads "= 54 + 1", never "⌊54⌋ + 1"
    step = Step("output_size", "output size", "conv_output_size_d1", {"I": 227, "K": 11, "S": 4, "P": 0}, 55)
    assert flat(step_math(step)).endswith("⌊ 227 − 11 + 2 × 0 4 ⌋ + 1 = 54 + 1 = 55")


def test_brackets_stretch_only_around_fractions() -> None:
    dense = formula_math("dense_params")  # N_out (N_in + 1): one line high
    assert dense.count('stretchy="false"') == 2
    conv = formula_math("conv2d_params")  # C_out (K_h K_w C_in / G + 1): a fraction inside
    assert "stretchy" not in conv


def test_display_breaks_into_one_math_per_side() -> None:
    step = Step("output_size", "output size", "conv_output_size_d1", {"I": 224, "K": 11, "S": 4, "P": 0}, 54)
    markup = step_display(step)
    sides = re.findall(r'<span class="cnn-side">(.*?)</span>', markup)
    assert [flat(s) for s in sides] == [
        "= ⌊ I − K + 2 P S ⌋ + 1",
        "= ⌊ 224 − 11 + 2 × 0 4 ⌋ + 1",
        "= ⌊ 213 4 ⌋ + 1",
        "= 54",
    ]
    assert flat(re.search(r"<math\b.*?</math>", markup).group(0)) == "O"  # the left side on its own
    assert markup.startswith('<div class="cnn-eq">') and '<div class="cnn-rhs">' in markup
    # a side too long for a phone's line is split before its top-level signs, each kept binary
    values = {"I": 16002, "K": 2, "S": 1, "P": 0, "D": 2}
    long = step_display(Step("output_size", "output size", "conv_output_size", values, 16000))
    pieces = [
        flat(m) for m in re.findall(r"<math\b.*?</math>", re.findall(r'<span class="cnn-side">(.*?)</span>', long)[1])
    ]
    assert pieces == ["= ⌊ 16,002 + 2 × 0 − 2 × ( 2 − 1 ) − 1 1 ⌋", "+ 1"]
    assert '<mo form="infix">+</mo>' in long


def test_symbolic_values_are_parenthesised() -> None:
    h = sympy.Symbol("H", integer=True, positive=True)
    step = Step("output_size", "output size", "conv_output_size_d1", {"I": h - 2, "K": 3, "S": 1, "P": 0}, h - 4)
    assert flat(step_math(step)) == "O = ⌊ I − K + 2 P S ⌋ + 1 = ⌊ ( H − 2 ) − 3 + 2 × 0 1 ⌋ + 1 = H − 4"


def test_result_equal_to_substitution_is_not_repeated() -> None:
    step = Step("biases", "biases", "conv_biases", {"C_out": 96}, 96)
    assert flat(step_math(step)) == "N b = C out = 96"


def test_ceil_mode_is_a_brace_of_cases() -> None:
    text = flat(formula_math("pool_output_size_ceil"))
    assert text.startswith("O = { ⌈ I − K + 2 P S ⌉ if I + P ≤ S ⌈")
    assert text.endswith("+ 1 otherwise")
    assert "<mtable" in formula_math("pool_output_size_ceil")


def test_equation_and_symbol() -> None:
    assert flat(equation(sympy.Symbol("H") * 2, 8)) == "2 H = 8"
    assert "<msub><mi>C</mi><mi>in</mi></msub>" in symbol_math("C_in")
