"""Every formula of the site, written once as a SymPy expression.

The numbers the engine computes come from these same expressions: ``codegen`` turns them into
plain integer Python (``_compiled.py``) so that a summary needs no SymPy at run time, and a test
regenerates that code and fails if it drifts. The site renders these expressions as MathML, so a
formula shown on a page and the figure beside it cannot disagree.
"""

from __future__ import annotations

from dataclasses import dataclass

import sympy
from sympy import Eq, Piecewise, Symbol, ceiling, floor

# Symbols are positive integers: that lets SymPy simplify floors and check identities.
_positive = {"integer": True, "positive": True}
_nonnegative = {"integer": True, "nonnegative": True}

I = Symbol("I", **_positive)  # noqa: E741 - the documents' own letter for the input size
K = Symbol("K", **_positive)
S = Symbol("S", **_positive)
P = Symbol("P", **_nonnegative)
D = Symbol("D", **_positive)
O = Symbol("O", **_positive)  # noqa: E741 - the documents' own letter for the output size
K_d = Symbol("K_d", **_positive)
K_h = Symbol("K_h", **_positive)
K_w = Symbol("K_w", **_positive)
C_in = Symbol("C_in", **_positive)
C_out = Symbol("C_out", **_positive)
G = Symbol("G", **_positive)
C = Symbol("C", **_positive)
C_1 = Symbol("C_1", **_positive)
C_2 = Symbol("C_2", **_positive)
N = Symbol("N", **_positive)
F = Symbol("F", **_positive)
H = Symbol("H", **_positive)
W = Symbol("W", **_positive)
U = Symbol("U", **_positive)

# What each symbol means, in words. One legend serves every formula, so a letter means one thing.
LEGEND: dict[str, str] = {
    "I": "size of the input along one spatial axis",
    "K": "size of the kernel (or pool window) along that axis",
    "S": "stride along that axis",
    "P": "padding added to each side along that axis",
    "D": "dilation along that axis (1 for an ordinary kernel)",
    "O": "size of the output along that axis",
    "K_d": "kernel depth",
    "K_h": "kernel height",
    "K_w": "kernel width",
    "C_in": "number of input channels",
    "C_out": "number of output channels (kernels, filters)",
    "G": "number of groups (1 for an ordinary convolution)",
    "C": "number of channels",
    "N": "number of input units",
    "F": "number of units (neurons) in the layer",
    "H": "height of the input",
    "W": "width of the input",
    "U": "number of units produced",
    "C_1": "channels of the first input",
    "C_2": "channels of the second input",
}


@dataclass(frozen=True)
class Formula:
    """A named equation ``lhs = rhs`` whose right side is the single source of a computed figure."""

    name: str
    title: str
    lhs: str
    rhs: sympy.Expr
    args: tuple[Symbol, ...]
    note: str = ""
    integer: bool = True  # False for a formula shown only to be refuted: it may give a fraction

    @property
    def legend(self) -> dict[str, str]:
        """Words for the left side and every symbol of the right side, in argument order."""
        out = {self.lhs_symbol_name: self.lhs_words}
        for symbol in self.args:
            out[symbol.name] = LEGEND[symbol.name]
        return out

    @property
    def lhs_symbol_name(self) -> str:
        return self.lhs

    @property
    def lhs_words(self) -> str:
        return LHS_WORDS[self.lhs]


LHS_WORDS: dict[str, str] = {
    "O": "size of the output along one spatial axis",
    "W": "number of weights",
    "B": "number of biases",
    "P": "number of parameters (weights and biases)",
    "T": "number of trainable parameters (gamma and beta)",
    "R": "number of non-trainable statistics (running mean and variance)",
    "U": "number of units after flattening",
    "E": "number of inputs one kernel position spans",
    "Q": "zeros added along one axis, both sides together",
    "C": "number of channels",
}

_KERNELS = {1: (K_w,), 2: (K_h, K_w), 3: (K_d, K_h, K_w)}


def _product(symbols: tuple[Symbol, ...]) -> sympy.Expr:
    return sympy.Mul(*symbols)


def _build() -> dict[str, Formula]:
    formulas = [
        Formula(
            "conv_output_size",
            "Output size of a convolution",
            "O",
            floor((I + 2 * P - D * (K - 1) - 1) / S) + 1,
            (I, K, S, P, D),
            "The general form, as PyTorch computes it, with dilation.",
        ),
        Formula(
            "conv_output_size_d1",
            "Output size of a convolution without dilation",
            "O",
            floor((I - K + 2 * P) / S) + 1,
            (I, K, S, P),
            "The general form without dilation. Without the floor it is the textbook form, which holds "
            "only when the division is exact.",
        ),
        Formula(
            "dilated_extent",
            "Inputs spanned by a dilated kernel",
            "E",
            D * (K - 1) + 1,
            (K, D),
            "Neighbouring taps of a dilated kernel are the dilation apart.",
        ),
        Formula(
            "same_padding_total",
            "Total padding of 'same'",
            "Q",
            D * (K - 1),
            (K, D),
            "Split between the two sides, the extra one on the right when it is odd.",
        ),
        Formula(
            "conv_output_size_same",
            "Output size of a convolution with 'same' padding",
            "O",
            I,
            (I,),
            "'same' pads just enough that, with stride 1, the output keeps the input's size.",
        ),
        Formula(
            "conv_output_size_textbook",
            "The textbook output size, without the floor",
            "O",
            (I - K + 2 * P) / S + 1,
            (I, K, S, P),
            "Exact only when the stride divides the numerator; otherwise it gives a fraction, and "
            "frameworks take the floor.",
            integer=False,
        ),
        Formula(
            "naive_strided_output_size",
            "The stride-1 count divided by the stride (wrong for S > 1)",
            "O",
            (I - K + 1) / S,
            (I, K, S),
            "Divides the number of stride-1 positions by the stride. Right only for stride 1; it is "
            "here so that the site can compute where it goes wrong.",
            integer=False,
        ),
        Formula(
            "pool_output_size",
            "Output size of a pooling window",
            "O",
            floor((I + 2 * P - K) / S) + 1,
            (I, K, S, P),
            "The stride is the pool's own, and defaults to the window size.",
        ),
        Formula(
            "pool_output_size_ceil",
            "Output size of a pooling window in ceil mode",
            "O",
            Piecewise(
                (ceiling((I + 2 * P - K) / S), ceiling((I + 2 * P - K) / S) * S >= I + P),
                (ceiling((I + 2 * P - K) / S) + 1, True),
            ),
            (I, K, S, P),
            "Rounds up, so a partial window at the end counts, but (as in PyTorch) the last window "
            "must start inside the input or its left padding.",
        ),
        Formula(
            "dense_weights",
            "Weights of a fully connected layer",
            "W",
            N * F,
            (N, F),
            "Every input unit connects to every unit of the layer.",
        ),
        Formula(
            "dense_biases",
            "Biases of a fully connected layer",
            "B",
            F,
            (F,),
            "One bias per unit.",
        ),
        Formula(
            "dense_params",
            "Parameters of a fully connected layer",
            "P",
            (N + 1) * F,
            (N, F),
            "Weights and biases together.",
        ),
        Formula(
            "dense_after_conv_weights",
            "Weights of a fully connected layer after an O x O x C tensor",
            "W",
            O**2 * C * F,
            (O, C, F),
            "The tensor is flattened first; each of its values is an input unit.",
        ),
        Formula(
            "flatten_units",
            "Units after flattening an H x W x C tensor",
            "U",
            H * W * C,
            (H, W, C),
            "Flattening only reorders; it has no parameters.",
        ),
        Formula(
            "batchnorm_trainable",
            "Trainable parameters of batch normalization",
            "T",
            2 * C,
            (C,),
            "A scale (gamma) and a shift (beta) per channel.",
        ),
        Formula(
            "concat_channels",
            "Channels after concatenation",
            "C",
            C_1 + C_2,
            (C_1, C_2),
            "Concatenation stacks the inputs along the channel axis; more than two inputs are added one at a time.",
        ),
        Formula(
            "batchnorm_scales",
            "Scales (gamma) of batch normalization",
            "W",
            C,
            (C,),
            "One scale per channel; PyTorch calls them the layer's weight.",
        ),
        Formula(
            "batchnorm_shifts",
            "Shifts (beta) of batch normalization",
            "B",
            C,
            (C,),
            "One shift per channel; PyTorch calls them the layer's bias.",
        ),
        Formula(
            "batchnorm_non_trainable",
            "Non-trainable statistics of batch normalization",
            "R",
            2 * C,
            (C,),
            "A running mean and a running variance per channel: Keras counts them as "
            "non-trainable parameters, PyTorch keeps them as buffers.",
        ),
    ]
    for rank, kernel in _KERNELS.items():
        formulas += [
            Formula(
                f"conv{rank}d_weights",
                f"Weights of a {rank}D convolution",
                "W",
                _product(kernel) * C_in / G * C_out,
                (*kernel, C_in, G, C_out),
                "Each kernel spans the input channels of its own group; there is one kernel per output channel.",
            ),
            Formula(
                f"conv{rank}d_params",
                f"Parameters of a {rank}D convolution",
                "P",
                (_product(kernel) * C_in / G + 1) * C_out,
                (*kernel, C_in, G, C_out),
                "Weights plus one bias per kernel.",
            ),
        ]
    formulas.append(
        Formula(
            "conv_biases",
            "Biases of a convolution",
            "B",
            C_out,
            (C_out,),
            "One bias per kernel (none when the layer has bias: false).",
        )
    )
    return {f.name: f for f in formulas}


FORMULAS: dict[str, Formula] = _build()


def formula(name: str) -> Formula:
    """The formula called ``name``; a KeyError names the ones that exist."""
    try:
        return FORMULAS[name]
    except KeyError:
        raise KeyError(f"no formula {name!r}; known: {', '.join(sorted(FORMULAS))}") from None


def equation(name: str) -> Eq:
    """The formula as a SymPy equation, for printing."""
    f = formula(name)
    return Eq(Symbol(f.lhs), f.rhs, evaluate=False)
