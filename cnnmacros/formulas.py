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

# Symbols are integers, most of them positive: that lets SymPy simplify floors and check identities.
_positive = {"integer": True, "positive": True}
_nonnegative = {"integer": True, "nonnegative": True}

# What each symbol means, in words. One legend serves every formula, left sides included, so a
# letter means one thing on every page: sizes along an axis are capital single letters, counts of
# a layer's numbers are N with a subscript, bytes are Z with a subscript.
LEGEND: dict[str, str] = {
    "I": "size of the input along one spatial axis",
    "K": "size of the kernel (or pool window) along that axis",
    "S": "stride along that axis",
    "P": "padding added to each side along that axis",
    "D": "dilation along that axis (1 for an ordinary kernel)",
    "O": "size of the output along one spatial axis",
    "K_e": "inputs one dilated kernel spans along that axis (its effective size)",
    "P_t": "zeros added along one axis, both sides together",
    "P_b": "zeros added before the first input along that axis",
    "P_a": "zeros added after the last input along that axis",
    "P_o": "extra outputs a transposed convolution adds after the last one (output_padding)",
    "V_b": "positions a crop removes before the first one along that axis",
    "V_a": "positions a crop removes after the last one along that axis",
    "S_u": "scale of an upsampling along that axis",
    "I_d": "input depth",
    "I_h": "input height",
    "I_w": "input width (the input's length in 1D)",
    "Q": "positions a fully connected layer is applied at, one vector of channels each",
    "K_d": "kernel depth",
    "K_h": "kernel height",
    "K_w": "kernel width (the kernel's length in 1D)",
    "O_d": "output depth",
    "O_h": "output height",
    "O_w": "output width (the output's length in 1D)",
    "H": "height of the input",
    "W": "width of the input",
    "C_in": "number of input channels",
    "C_out": "number of output channels (kernels, filters)",
    "G": "number of groups of channels (1 for an ordinary convolution)",
    "C": "number of channels",
    "C_1": "channels of the first input",
    "C_2": "channels of the second input",
    "N_in": "number of input units of a fully connected layer",
    "N_out": "number of units (neurons) of a fully connected layer",
    "U": "number of units after flattening",
    "N_w": "number of weights",
    "N_b": "number of biases",
    "N_p": "number of parameters (weights and biases)",
    "N_t": "number of trainable parameters (gamma and beta)",
    "N_s": "number of non-trainable statistics (running mean and variance)",
    "M": "multiply-accumulates for one example",
    "F": "floating-point operations for one example",
    "A": "number of elements of the layer's output, for one example",
    "A_in": "number of elements of the layer's input, for one example",
    "Z_e": "bytes of one element (4 for float32)",
    "Z_p": "bytes of the parameters",
    "A_p": "elements of the outputs of the layers that have parameters",
    "Z_fb": "torchinfo's forward/backward pass size, in bytes",
    "B": "batch size: examples in one training step",
    "E": "elements of a tensor for one example",
    "I_p": "size along one axis of a zero-padded copy of the input",
    "N_r": "per-channel tensors that instance normalization repeats for every example",
    "N_c": "counters of batches seen: one per normalization that keeps running statistics",
    "N_o": "state tensors the optimizer keeps per parameter (0 for SGD, 1 with momentum, 2 for Adam)",
    "Z_t": "bytes of one tensor (or one kind of tensor) that a layer keeps for the backward pass",
    "Z_x": "bytes of the input batch",
    "Z_s": "bytes kept for the backward pass, summed over the layers",
    "Z_u": "bytes of the buffers: running statistics and their counters",
    "Z_g": "bytes of the gradients, one per trainable parameter",
    "Z_o": "bytes of the optimizer's state",
    "Z_T": "bytes of one training step: input, saved tensors, parameters, buffers, gradients and optimizer state",
    "Z_1": "bytes of a training step that grow with each example of the batch",
    "Z_0": "bytes of a training step that do not depend on the batch size",
    "Z_M": "bytes of memory available",
    "R": "receptive field: input positions one output position sees along an axis",
    "J": "jump: input positions between neighbouring output positions",
    "X": "offset: the first input position that output position 0 sees (negative in the padding)",
    "R_in": "receptive field of the layer's input",
    "J_in": "jump of the layer's input",
    "X_in": "offset of the layer's input",
    "R_1": "receptive field of the first input",
    "X_1": "offset of the first input",
    "R_2": "receptive field of the second input",
    "X_2": "offset of the second input",
}

_SIGNED = {"X", "X_in", "X_1", "X_2"}  # offsets lie before the input when it is padded
_ZERO_OR_MORE = {"P", "P_t", "P_b", "P_a", "P_o", "V_b", "V_a", "A_p", "N_r", "N_c", "N_o"}
_ZERO_OR_MORE |= {"Z_t", "Z_s", "Z_u", "Z_g", "Z_o", "Z_0", "Z_M"}


def _symbol(name: str) -> Symbol:
    if name in _SIGNED:
        return Symbol(name, integer=True)
    return Symbol(name, **(_nonnegative if name in _ZERO_OR_MORE else _positive))


I, K, S, P, D, O = (_symbol(n) for n in ("I", "K", "S", "P", "D", "O"))  # noqa: E741 - the documents' letters
P_b = _symbol("P_b")
K_d, K_h, K_w, O_d, O_h, O_w = (_symbol(n) for n in ("K_d", "K_h", "K_w", "O_d", "O_h", "O_w"))
H, W, C, C_in, C_out, G, C_1, C_2 = (_symbol(n) for n in ("H", "W", "C", "C_in", "C_out", "G", "C_1", "C_2"))
N_in, N_out, M, Z_e, N_p, A_p = (_symbol(n) for n in ("N_in", "N_out", "M", "Z_e", "N_p", "A_p"))
A, A_in = _symbol("A"), _symbol("A_in")
P_a, P_o, V_b, V_a, S_u, Q = (_symbol(n) for n in ("P_a", "P_o", "V_b", "V_a", "S_u", "Q"))
P_t = _symbol("P_t")
I_d, I_h, I_w = (_symbol(n) for n in ("I_d", "I_h", "I_w"))
R_in, J_in, X_in, R_1, X_1, R_2, X_2 = (_symbol(n) for n in ("R_in", "J_in", "X_in", "R_1", "X_1", "R_2", "X_2"))
B, E, I_p, N_r, N_c, N_o, N_s = (_symbol(n) for n in ("B", "E", "I_p", "N_r", "N_c", "N_o", "N_s"))
Z_x, Z_s, Z_p, Z_u, Z_g, Z_o = (_symbol(n) for n in ("Z_x", "Z_s", "Z_p", "Z_u", "Z_g", "Z_o"))
Z_0, Z_1, Z_M = (_symbol(n) for n in ("Z_0", "Z_1", "Z_M"))


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
        return {name: LEGEND[name] for name in (self.lhs, *(s.name for s in self.args))}


_KERNELS = {1: (K_w,), 2: (K_h, K_w), 3: (K_d, K_h, K_w)}
_OUTPUTS = {1: (O_w,), 2: (O_h, O_w), 3: (O_d, O_h, O_w)}


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
            "K_e",
            D * (K - 1) + 1,
            (K, D),
            "Neighbouring taps of a dilated kernel are the dilation apart.",
        ),
        Formula(
            "same_padding_total",
            "Total padding of 'same'",
            "P_t",
            D * (K - 1),
            (K, D),
            "Split between the two sides, the extra one on the right when it is odd.",
        ),
        Formula(
            "same_padding_before",
            "Padding of 'same' before the first input",
            "P_b",
            floor(D * (K - 1) / 2),
            (K, D),
            "The smaller half of the total, as PyTorch splits it; the rest goes after the last input.",
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
            "conv_output_size_same_strided",
            "Output size of 'same' padding with a stride (TensorFlow and Keras)",
            "O",
            ceiling(I / S),
            (I, S),
            "With a stride, 'same' keeps one output per stride of the input, rounded up.",
        ),
        Formula(
            "same_padding_total_strided",
            "Total padding of 'same' with a stride (TensorFlow and Keras)",
            "P_t",
            sympy.Max((ceiling(I / S) - 1) * S + D * (K - 1) + 1 - I, 0),
            (I, S, K, D),
            "Just enough zeros that the last window ends at the input's last position or after it.",
        ),
        Formula(
            "padding_before_half",
            "Padding before, the smaller half",
            "P_b",
            floor(P_t / 2),
            (P_t,),
            "TensorFlow and Keras put the smaller half before the input and the larger after it.",
        ),
        Formula(
            "convtranspose_output_size",
            "Output size of a transposed convolution",
            "O",
            (I - 1) * S - 2 * P + D * (K - 1) + P_o + 1,
            (I, K, S, P, D, P_o),
            "Each input position places a kernel S outputs after the previous one; padding removes "
            "P outputs from each end, and output_padding adds some back at the end.",
        ),
        Formula(
            "pad_output_size",
            "Output size of zero padding",
            "O",
            I + P_b + P_a,
            (I, P_b, P_a),
            "The zeros before and after are added to the input.",
        ),
        Formula(
            "crop_output_size",
            "Output size of a crop",
            "O",
            I - V_b - V_a,
            (I, V_b, V_a),
            "The positions removed from each end are taken away.",
        ),
        Formula(
            "upsample_output_size",
            "Output size of upsampling by a scale",
            "O",
            I * S_u,
            (I, S_u),
            "Each input position becomes S_u output positions.",
        ),
        Formula(
            "global_pool_output_size",
            "Output size of a global pool, with the pooled axes kept",
            "O",
            sympy.Integer(1),
            (),
            "One window spans the whole input along every spatial axis.",
        ),
        Formula(
            "dense_macs_positions",
            "Multiply-accumulates of a fully connected layer on the channels of every position",
            "M",
            Q * N_in * N_out,
            (Q, N_in, N_out),
            "The same weights are applied at each of the Q positions, as nn.Linear does on a channels-last tensor.",
        ),
        Formula(
            "norm_affine_params",
            "Trainable parameters of a normalization with a scale and a shift",
            "N_t",
            2 * C,
            (C,),
            "A scale (gamma) and a shift (beta) per channel, for layer, group and instance normalization alike.",
        ),
        Formula(
            "prelu_weights",
            "Weights of a PReLU with one slope per channel",
            "N_w",
            C,
            (C,),
            "One learned slope for the negative inputs of each channel; a shared PReLU learns one.",
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
            "dense_inputs",
            "Input units of a fully connected layer after an H x W x C tensor",
            "N_in",
            H * W * C,
            (H, W, C),
            "The tensor is flattened first; each of its values is an input unit.",
        ),
        Formula(
            "dense_weights",
            "Weights of a fully connected layer",
            "N_w",
            N_in * N_out,
            (N_in, N_out),
            "Every input unit connects to every unit of the layer.",
        ),
        Formula(
            "dense_biases",
            "Biases of a fully connected layer",
            "N_b",
            N_out,
            (N_out,),
            "One bias per unit.",
        ),
        Formula(
            "dense_params",
            "Parameters of a fully connected layer",
            "N_p",
            (N_in + 1) * N_out,
            (N_in, N_out),
            "Weights and biases together.",
        ),
        Formula(
            "dense_macs",
            "Multiply-accumulates of a fully connected layer",
            "M",
            N_in * N_out,
            (N_in, N_out),
            "One multiply-accumulate per weight. The bias starts the accumulator, so it is not one.",
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
            "N_t",
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
            "N_w",
            C,
            (C,),
            "One scale per channel; PyTorch calls them the layer's weight.",
        ),
        Formula(
            "batchnorm_shifts",
            "Shifts (beta) of batch normalization",
            "N_b",
            C,
            (C,),
            "One shift per channel; PyTorch calls them the layer's bias.",
        ),
        Formula(
            "batchnorm_non_trainable",
            "Non-trainable statistics of batch normalization",
            "N_s",
            2 * C,
            (C,),
            "A running mean and a running variance per channel: Keras counts them as "
            "non-trainable parameters, PyTorch keeps them as buffers.",
        ),
        Formula(
            "dense_macs_bias",
            "Multiply-accumulates of a fully connected layer, bias counted",
            "M",
            N_out * (N_in + 1),
            (N_in, N_out),
            "torchinfo and ptflops count each bias as one more multiply-accumulate per unit.",
        ),
        Formula(
            "batchnorm_macs_params",
            "Batch norm's multiply-accumulates, as torchinfo counts them",
            "M",
            2 * C,
            (C,),
            "torchinfo counts a layer other than a convolution by its parameters: gamma and beta, "
            "once per example, however large the input.",
        ),
        Formula(
            "macs_per_input",
            "One operation per input element",
            "M",
            A_in,
            (A_in,),
            "What ptflops counts for ReLU6, leaky ReLU, SiLU and softmax.",
        ),
        Formula(
            "macs_twice_per_input",
            "Two operations per input element",
            "M",
            2 * A_in,
            (A_in,),
            "Batch norm in eval mode for fvcore and ptflops (a scale and a shift); for ptflops also pooling, "
            "ReLU, ELU and GELU, which it counts once through the module and once through the function.",
        ),
        Formula(
            "macs_four_per_input",
            "Four operations per input element",
            "M",
            4 * A_in,
            (A_in,),
            "thop's count for batch norm in eval mode: subtract the mean, divide by the deviation, scale and shift.",
        ),
        Formula(
            "macs_per_output",
            "One operation per output element",
            "M",
            A,
            (A,),
            "thop's count for average pooling: one division per output value.",
        ),
        Formula(
            "softmax_macs_thop",
            "thop's count for softmax over the channels",
            "M",
            A_in / C * (3 * C - 1),
            (A_in, C),
            "For each of the A_in/C positions: C exponentials, C - 1 additions and C divisions.",
        ),
        Formula(
            "lrn_macs_ptflops",
            "ptflops' count for local response normalization",
            "M",
            3 * A_in + (C + K - 1) * A_in / C,
            (A_in, C, K),
            "What its patched functions see inside PyTorch's implementation: a square, a scale and a "
            "shift per element, and an average pool over C + K - 1 padded channels at each position.",
        ),
        Formula(
            "macs_of_parameters",
            "One multiply-accumulate per parameter",
            "M",
            N_p,
            (N_p,),
            "torchinfo's count for a layer other than a convolution: its parameters, once per example.",
        ),
        Formula(
            "macs_five_per_input",
            "Five operations per input element",
            "M",
            5 * A_in,
            (A_in,),
            "fvcore: a normalization that computes its statistics, with a scale and a shift; 4 without them.",
        ),
        Formula(
            "macs_input_plus_output",
            "One operation per input element and one per output element",
            "M",
            A_in + A,
            (A_in, A),
            "thop's count for average pooling to a given size: a sum over each window and a division per output.",
        ),
        Formula(
            "macs_input_plus_channels",
            "One operation per input element and one per channel",
            "M",
            A_in + C,
            (A_in, C),
            "thop's count for a global average pool: a sum over every position and a division per channel.",
        ),
        Formula(
            "macs_twice_per_output",
            "Two operations per output element",
            "M",
            2 * A,
            (A,),
            "ptflops' count for upsampling: once through its hook and once through its patched interpolate.",
        ),
        Formula(
            "macs_four_per_output",
            "Four operations per output element",
            "M",
            4 * A,
            (A,),
            "fvcore's count for bilinear upsampling in 2D.",
        ),
        Formula(
            "macs_five_per_output",
            "Five operations per output element",
            "M",
            5 * A,
            (A,),
            "thop's count for linear upsampling.",
        ),
        Formula(
            "macs_eleven_per_output",
            "Eleven operations per output element",
            "M",
            11 * A,
            (A,),
            "thop's count for bilinear upsampling.",
        ),
        Formula(
            "macs_bicubic_thop",
            "thop's count for bicubic upsampling",
            "M",
            259 * A,
            (A,),
            "thop's fixed cost of one bicubic interpolation.",
        ),
        Formula(
            "dense_macs_positions_bias",
            "Multiply-accumulates of a fully connected layer at every position, bias counted",
            "M",
            Q * N_out * (N_in + 1),
            (Q, N_in, N_out),
            "ptflops: a bias at every position.",
        ),
        Formula(
            "flops",
            "Floating-point operations",
            "F",
            2 * M,
            (M,),
            "A multiply-accumulate is a multiplication and an addition.",
        ),
        Formula(
            "param_bytes",
            "Bytes of the parameters",
            "Z_p",
            N_p * Z_e,
            (N_p, Z_e),
            "Every parameter is one element of the chosen type.",
        ),
        Formula(
            "forward_backward_bytes",
            "torchinfo's forward/backward pass size",
            "Z_fb",
            2 * A_p * Z_e,
            (A_p, Z_e),
            "torchinfo counts the output of every layer that has parameters twice, once for the "
            "value and once for its gradient; the outputs of layers without parameters are left out.",
        ),
        Formula(
            "field_size",
            "Receptive field after a window",
            "R",
            R_in + D * (K - 1) * J_in,
            (R_in, K, D, J_in),
            "Each step of the window along the input moves J_in input positions; a dilated kernel "
            "spans D(K - 1) + 1 of its own input.",
        ),
        Formula(
            "field_jump",
            "Jump after a window",
            "J",
            J_in * S,
            (J_in, S),
            "Neighbouring outputs are S positions of the layer's input apart.",
        ),
        Formula(
            "field_offset",
            "Offset after a window",
            "X",
            X_in - P_b * J_in,
            (X_in, P_b, J_in),
            "Output position 0 starts where the padded input starts, P_b positions before the input.",
        ),
        Formula(
            "field_union_offset",
            "Offset of two joined fields",
            "X",
            sympy.Min(X_1, X_2),
            (X_1, X_2),
            "A join sees what either input sees: its field starts where the earlier one starts.",
        ),
        Formula(
            "field_union_size",
            "Receptive field of two joined fields",
            "R",
            sympy.Max(X_1 + R_1, X_2 + R_2) - sympy.Min(X_1, X_2),
            (X_1, R_1, X_2, R_2),
            "From the first position either input sees to the last one: the whole span, holes included.",
        ),
    ]
    formulas += _memory()
    for rank, kernel in _KERNELS.items():
        outputs = _OUTPUTS[rank]
        formulas += [
            Formula(
                f"conv{rank}d_weights",
                f"Weights of a {rank}D convolution",
                "N_w",
                _product(kernel) * C_in / G * C_out,
                (*kernel, C_in, G, C_out),
                "Each kernel spans the input channels of its own group; there is one kernel per output channel.",
            ),
            Formula(
                f"conv{rank}d_params",
                f"Parameters of a {rank}D convolution",
                "N_p",
                (_product(kernel) * C_in / G + 1) * C_out,
                (*kernel, C_in, G, C_out),
                "Weights plus one bias per kernel.",
            ),
            Formula(
                f"conv{rank}d_macs_bias",
                f"Multiply-accumulates of a {rank}D convolution, bias counted",
                "M",
                C_out * _product(outputs) * (C_in / G * _product(kernel) + 1),
                (C_out, *outputs, C_in, G, *kernel),
                "torchinfo and ptflops count each bias as one more multiply-accumulate per output value.",
            ),
            Formula(
                f"conv{rank}d_macs",
                f"Multiply-accumulates of a {rank}D convolution",
                "M",
                C_out * _product(outputs) * (C_in / G) * _product(kernel),
                (C_out, *outputs, C_in, G, *kernel),
                "Every output value is one kernel's dot product with the inputs of its group. "
                "The bias starts the accumulator, so it is not a multiply-accumulate.",
            ),
        ]
    for rank, inputs in {1: (I_w,), 2: (I_h, I_w), 3: (I_d, I_h, I_w)}.items():
        kernel = _KERNELS[rank]
        formulas.append(
            Formula(
                f"convtranspose{rank}d_macs",
                f"Multiply-accumulates of a {rank}D transposed convolution",
                "M",
                C_in * _product(inputs) * (C_out / G) * _product(kernel),
                (C_in, *inputs, C_out, G, *kernel),
                "Every input value is multiplied by a whole kernel of its group and added into the "
                "outputs it reaches, as PyTorch's FlopCounterMode counts it.",
            )
        )
    for rank, inputs in {1: (I_w,), 2: (I_h, I_w), 3: (I_d, I_h, I_w)}.items():
        kernel, outputs = _KERNELS[rank], _OUTPUTS[rank]
        formulas += [
            Formula(
                f"convtranspose{rank}d_macs_output_grid",
                f"Multiply-accumulates of a {rank}D transposed convolution counted on its output",
                "M",
                C_out * _product(outputs) * (C_in / G) * _product(kernel),
                (C_out, *outputs, C_in, G, *kernel),
                "thop counts a transposed convolution as if it were a convolution producing its output.",
            ),
            Formula(
                f"convtranspose{rank}d_macs_bias",
                f"Multiply-accumulates of a {rank}D transposed convolution, bias counted",
                "M",
                C_in * _product(inputs) * (C_out / G) * _product(kernel) + C_out * _product(outputs),
                (C_in, *inputs, C_out, G, *kernel, *outputs),
                "ptflops: ours, plus one for the bias at every output value.",
            ),
            Formula(
                f"macs_params_at_outputs{rank}d",
                f"Parameters times output positions, in {rank}D",
                "M",
                N_p * _product(outputs),
                (N_p, *outputs),
                "torchinfo's count for a layer whose class name contains Conv, transposed ones included: "
                "every parameter, bias included, once per output position.",
            ),
        ]
    for rank, outputs in {0: (), **_OUTPUTS}.items():
        formulas.append(
            Formula(
                f"activations{rank}d" if rank else "activations_vector",
                "Elements of an output" + (f" with {rank} spatial axes" if rank else " vector"),
                "A",
                _product(outputs) * C,
                (*outputs, C),
                "Every position of the output holds one value per channel.",
            )
        )
    formulas.append(
        Formula(
            "conv_biases",
            "Biases of a convolution",
            "N_b",
            C_out,
            (C_out,),
            "One bias per kernel (none when the layer has bias: false).",
        )
    )
    return {f.name: f for f in formulas}


def _memory() -> list[Formula]:
    """Training memory: what each layer keeps for the backward pass, and a training step's totals."""
    return [
        Formula(
            "saved_tensor_bytes",
            "Bytes of a tensor kept for the backward pass",
            "Z_t",
            B * E * Z_e,
            (B, E, Z_e),
            "E elements for each of the B examples, each of the chosen type.",
        ),
        Formula(
            "saved_index_bytes",
            "Bytes of the indices max pooling keeps",
            "Z_t",
            8 * B * A,
            (B, A),
            "One int64 index of the maximum per output element, 8 bytes whatever the type of the values.",
        ),
        Formula(
            "saved_mask_bytes",
            "Bytes of dropout's mask on a GPU",
            "Z_t",
            B * A,
            (B, A),
            "CUDA's fused dropout keeps a mask of one byte (a bool) per element; on the CPU the mask is "
            "a tensor of the chosen type (the formula above).",
        ),
        Formula(
            "same_padded_size",
            "Size of the padded copy for 'same' padding with an odd total",
            "I_p",
            I + D * (K - 1) - 2 * floor(D * (K - 1) / 2),
            (I, K, D),
            "PyTorch pads both sides by the smaller half inside the convolution and adds the odd zero to "
            "a copy of the input; where the total is even it pads inside and makes no copy.",
        ),
        Formula(
            "padded_size",
            "Size of the padded copy for 'same' with a stride",
            "I_p",
            I + P_t,
            (I, P_t),
            "The standard model pads with F.pad before the convolution, so the convolution keeps the padded copy.",
        ),
        Formula(
            "batchnorm_saved_bytes",
            "Bytes of batch norm's batch statistics",
            "Z_t",
            2 * C * Z_e,
            (C, Z_e),
            "The mean and the inverse standard deviation of the batch, per channel: they do not grow with B.",
        ),
        Formula(
            "layernorm_saved_bytes",
            "Bytes of layer norm's statistics",
            "Z_t",
            2 * B * A * Z_e / C,
            (B, A, C, Z_e),
            "A mean and an inverse standard deviation for each of the A/C positions of every example.",
        ),
        Formula(
            "groupnorm_saved_bytes",
            "Bytes of group norm's statistics",
            "Z_t",
            2 * B * G * Z_e,
            (B, G, Z_e),
            "A mean and an inverse standard deviation per group of every example.",
        ),
        Formula(
            "instancenorm_saved_bytes",
            "Bytes instance normalization keeps besides its input",
            "Z_t",
            (2 + N_r) * B * C * Z_e,
            (N_r, B, C, Z_e),
            "PyTorch runs batch norm on the batch seen as one example of B x C channels: a mean and an "
            "inverse deviation per channel of every example, and the per-channel tensors it repeats B "
            "times for that (the scales when affine, the running mean and variance when tracked).",
        ),
        Formula(
            "lrn_saved_bytes",
            "Bytes local response normalization keeps besides its input",
            "Z_t",
            B * Z_e * (2 * A + A * (C + K - 1) / C),
            (B, A, C, K, Z_e),
            "F.local_response_norm is a chain of tensor operations: it keeps the squares padded along the "
            "channels (C + K - 1 per position), the scaled sum and its power.",
        ),
        Formula(
            "input_bytes",
            "Bytes of the input batch",
            "Z_x",
            B * E * Z_e,
            (B, E, Z_e),
            "The whole input batch, kept or not.",
        ),
        Formula(
            "grad_bytes",
            "Bytes of the gradients",
            "Z_g",
            N_p * Z_e,
            (N_p, Z_e),
            "One gradient per trainable parameter, of the parameter's type.",
        ),
        Formula(
            "optimizer_bytes",
            "Bytes of the optimizer's state",
            "Z_o",
            N_o * N_p * Z_e,
            (N_o, N_p, Z_e),
            "Momentum keeps one buffer per parameter, Adam and AdamW two moments; Adam's step counters "
            "(4 bytes per parameter tensor) are left out.",
        ),
        Formula(
            "buffer_bytes",
            "Bytes of the buffers",
            "Z_u",
            N_s * Z_e + 8 * N_c,
            (N_s, Z_e, N_c),
            "The running means and variances, of the chosen type, and an int64 counter of batches per "
            "normalization that keeps them.",
        ),
        Formula(
            "train_bytes",
            "Bytes of one training step",
            "Z_T",
            Z_x + Z_s + Z_p + Z_u + Z_g + Z_o,
            (Z_x, Z_s, Z_p, Z_u, Z_g, Z_o),
            "Everything a training step holds at the end of its forward pass, activation gradients and "
            "workspace aside.",
        ),
        Formula(
            "largest_batch",
            "The largest batch that fits",
            "B",
            floor((Z_M - Z_0) / Z_1),
            (Z_M, Z_0, Z_1),
            "A training step takes Z_1 B + Z_0 bytes: every term grows with the batch but batch norm's "
            "statistics, the parameters, gradients, buffers and optimizer state.",
        ),
    ]


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
