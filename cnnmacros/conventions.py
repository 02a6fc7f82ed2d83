"""Whose multiply-accumulates: our own definition, and the conventions of the tools people use.

Every tool that reports multiply-accumulates counts them its own way: with or without the bias,
with or without batch norm, pooling and activations, some of them twice. A ``Convention`` gives
one rule per layer family; each rule is a formula of ``cnnmacros.formulas``, so the site can show
why torchinfo, fvcore, ptflops and thop disagree on the same network, and each rule reproduces its
tool's number exactly on the file's standard PyTorch model (see the conventions page).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from cnnmacros.figures import Context, work
from cnnmacros.rows import Size, Step, product

MacsRule = Callable[[Context], tuple[Size, list[Step]]]


def uses(*formulas: str, words: str = "") -> Callable[[MacsRule], MacsRule]:
    """Records on a rule the formulas it counts with, and in words when it applies, for the
    conventions page."""

    def mark(rule: MacsRule) -> MacsRule:
        rule.formulas = formulas  # type: ignore[attr-defined]
        rule.words = words or (rule.__doc__ or "").strip()  # type: ignore[attr-defined]
        return rule

    return mark


def _outputs(ctx: Context) -> dict[str, Size]:
    names = {1: ("O_w",), 2: ("O_h", "O_w"), 3: ("O_d", "O_h", "O_w")}[len(ctx.row.output) - 1]
    return dict(zip(names, ctx.row.output[:-1], strict=True))


def _conv_values(ctx: Context) -> dict[str, Size]:
    facts, rank = ctx.row.facts, len(ctx.row.output) - 1
    kernel_names = {1: ("K_w",), 2: ("K_h", "K_w"), 3: ("K_d", "K_h", "K_w")}[rank]
    kernel = dict(zip(kernel_names, facts["window"].kernel, strict=True))
    return {"C_out": facts["C_out"], **_outputs(ctx), "C_in": facts["C_in"], "G": facts["G"], **kernel}


@uses("conv1d_macs", "conv2d_macs", "conv3d_macs", words="one per weight and output position; the bias is not counted")
def conv_macs(ctx: Context) -> tuple[Size, list[Step]]:
    """C_out x prod(O) x C_in/G x prod(K): one multiply-accumulate per weight and output position."""
    rank = len(ctx.row.output) - 1
    step = work("macs", "multiply-accumulates", f"conv{rank}d_macs", **_conv_values(ctx))
    return step.result, [step]


@uses(
    "conv1d_macs_bias",
    "conv2d_macs_bias",
    "conv3d_macs_bias",
    words="one per weight and output position, and one per output value for the bias",
)
def conv_macs_bias(ctx: Context) -> tuple[Size, list[Step]]:
    """Ours, plus one per output value for the bias, when the layer has one (torchinfo, ptflops)."""
    if not ctx.row.facts["bias"]:
        return conv_macs(ctx)
    rank = len(ctx.row.output) - 1
    step = work("macs", "multiply-accumulates, bias counted", f"conv{rank}d_macs_bias", **_conv_values(ctx))
    return step.result, [step]


@uses(
    "conv1d_macs",
    "conv2d_macs",
    "conv3d_macs",
    words="one per weight and output position, no bias; 0 when the padding is a word ('same', 'valid')",
)
def conv_macs_integer_padding(ctx: Context) -> tuple[Size, list[Step]]:
    """fvcore: ours, but 0 for padding given as a word, which traces to an operator it cannot count."""
    o = ctx.layer.options
    strided_same = o["padding"] == "same" and set(ctx.row.facts["window"].stride) != {1}
    if isinstance(o["padding"], str) and not strided_same:  # a strided 'same' is F.pad and then padding 0
        return 0, []
    return conv_macs(ctx)


@uses("dense_macs", "dense_macs_positions", words="one per weight (at every position it is applied at); no bias")
def dense_macs(ctx: Context) -> tuple[Size, list[Step]]:
    """N_in x N_out: one multiply-accumulate per weight, at each position for ``flatten: false``."""
    facts = ctx.row.facts
    if "positions" in facts:
        values = {"Q": facts["positions"], "N_in": facts["N_in"], "N_out": facts["N_out"]}
        step = work("macs", "multiply-accumulates at every position", "dense_macs_positions", **values)
    else:
        step = work("macs", "multiply-accumulates", "dense_macs", N_in=facts["N_in"], N_out=facts["N_out"])
    return step.result, [step]


@uses(
    "convtranspose1d_macs",
    "convtranspose2d_macs",
    "convtranspose3d_macs",
    words="one per weight and input position, as PyTorch's FlopCounterMode counts it",
)
def convtranspose_macs(ctx: Context) -> tuple[Size, list[Step]]:
    facts, rank = ctx.row.facts, len(ctx.row.input) - 1
    inputs = dict(
        zip({1: ("I_w",), 2: ("I_h", "I_w"), 3: ("I_d", "I_h", "I_w")}[rank], ctx.row.input[:-1], strict=True)
    )
    kernel = dict(zip({1: ("K_w",), 2: ("K_h", "K_w"), 3: ("K_d", "K_h", "K_w")}[rank], facts["kernel"], strict=True))
    values = {"C_in": facts["C_in"], **inputs, "C_out": facts["C_out"], "G": facts["G"], **kernel}
    step = work("macs", "multiply-accumulates", f"convtranspose{rank}d_macs", **values)
    return step.result, [step]


@uses("dense_macs_bias", words="one per weight, and one per unit for the bias")
def dense_macs_bias(ctx: Context) -> tuple[Size, list[Step]]:
    """N_out x (N_in + 1) with a bias (torchinfo, ptflops)."""
    if not ctx.row.facts["bias"]:
        return dense_macs(ctx)
    facts = ctx.row.facts
    step = work(
        "macs", "multiply-accumulates, bias counted", "dense_macs_bias", N_in=facts["N_in"], N_out=facts["N_out"]
    )
    return step.result, [step]


def _per_element(formula: str, label: str) -> MacsRule:
    """A rule that counts the elements of the layer's input (``A_in``) or output (``A``)."""

    def rule(ctx: Context) -> tuple[Size, list[Step]]:
        shape = ctx.row.output if formula == "macs_per_output" else ctx.row.input
        values = {"A": product(shape)} if formula == "macs_per_output" else {"A_in": product(shape)}
        step = work("macs", label, formula, **values)
        return step.result, [step]

    return uses(formula, words=label)(rule)


@uses("batchnorm_macs_params", words="its gamma and beta, once")
def batchnorm_macs_params(ctx: Context) -> tuple[Size, list[Step]]:
    step = work("macs", "multiply-accumulates, as its parameters", "batchnorm_macs_params", C=ctx.row.input[-1])
    return step.result, [step]


@uses("softmax_macs_thop", words="softmax: exponentials, a sum and divisions at each position")
def softmax_macs_thop(ctx: Context) -> tuple[Size, list[Step]]:
    shape = ctx.row.input
    step = work("macs", "operations of softmax", "softmax_macs_thop", A_in=product(shape), C=shape[-1])
    return step.result, [step]


@uses("lrn_macs_ptflops", words="what its patched functions see inside PyTorch's implementation")
def lrn_macs_ptflops(ctx: Context) -> tuple[Size, list[Step]]:
    shape = ctx.row.input
    values = {"A_in": product(shape), "C": shape[-1], "K": ctx.layer.options["size"]}
    step = work("macs", "operations its patched functions see", "lrn_macs_ptflops", **values)
    return step.result, [step]


def by_type(rules: dict[str, MacsRule]) -> MacsRule:
    """A family rule that depends on the layer type (ptflops treats ReLU and ReLU6 apart)."""

    def rule(ctx: Context) -> tuple[Size, list[Step]]:
        chosen = rules.get(ctx.layer.type)
        return chosen(ctx) if chosen is not None else (0, [])

    rule.by_type = rules  # type: ignore[attr-defined]
    return rule


@dataclass(frozen=True)
class Convention:
    """One way of counting multiply-accumulates: a rule per layer family, 0 for the others.

    ``tool`` is how the tool's number is obtained, ``quirks`` what surprises its users, each in
    words; the rules themselves are formulas.
    """

    name: str
    title: str
    description: str
    rules: dict[str, MacsRule] = field(default_factory=dict)
    tool: str = ""
    version: str = ""
    quirks: tuple[str, ...] = ()

    def macs(self, ctx: Context) -> tuple[Size, list[Step]]:
        rule = self.rules.get(ctx.family)
        return rule(ctx) if rule is not None else (0, [])

    def table(self) -> list[tuple[str, tuple[str, ...], str]]:
        """(layers, formulas, words) for every rule, a layer type at a time where the rule depends on
        the type; every layer not listed counts 0."""
        out = []
        for family, rule in self.rules.items():
            for name, inner in getattr(rule, "by_type", {family: rule}).items():
                out.append((FAMILY_WORDS.get(name, name), inner.formulas, inner.words))  # type: ignore[attr-defined]
        return out


FAMILY_WORDS = {
    "conv": "convolution",
    "dense": "fully connected",
    "batchnorm": "batch normalization",
    "maxpool": "max pooling",
    "avgpool": "average pooling",
    "lrn": "local response normalization",
    "leaky_relu": "leaky ReLU",
    "relu": "ReLU",
    "relu6": "ReLU6",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
}


_TWICE = _per_element("macs_twice_per_input", "operations, two per input element")
_ONCE = _per_element("macs_per_input", "operations, one per input element")

CONVENTIONS: dict[str, Convention] = {
    c.name: c
    for c in (
        Convention(
            "cnnmacros",
            "cnnmacros (and PyTorch's FlopCounterMode, halved)",
            "Convolutions and fully connected layers, one multiply-accumulate per weight and output "
            "position; a bias only starts the accumulator, and every other layer counts 0. PyTorch's "
            "FlopCounterMode reports exactly twice these, and torchvision's published GFLOPS are these "
            "in billions.",
            {"conv": conv_macs, "convtranspose": convtranspose_macs, "dense": dense_macs},
            tool="torch.utils.flop_counter.FlopCounterMode total, halved",
            version="PyTorch 2.13",
        ),
        Convention(
            "torchinfo",
            "torchinfo",
            "summary(model, input_size=...).total_mult_adds: a layer is counted by its parameters, times "
            "the output positions for a convolution.",
            {"conv": conv_macs_bias, "dense": dense_macs_bias, "batchnorm": batchnorm_macs_params},
            tool="summary(model, input_size=(1, C, ...)).total_mult_adds",
            version="1.8.0",
            quirks=(
                "A bias counts once per output position.",
                "Batch norm counts 2C, its gamma and beta, whatever the size of its input.",
                "Pooling, activations and every other layer without parameters count 0.",
            ),
        ),
        Convention(
            "fvcore",
            "fvcore",
            "FlopCountAnalysis(model, x).total(): traced aten operators, each with its own handler.",
            {"conv": conv_macs_integer_padding, "dense": dense_macs, "batchnorm": _TWICE},
            tool="FlopCountAnalysis(model, x).total()",
            version="0.1.5.post20221221",
            quirks=(
                "A convolution whose padding is a word ('same', 'valid') counts 0: it traces to "
                "aten::_convolution_mode, which fvcore does not support.",
                "Biases are not counted.",
                "Batch norm in eval mode counts 2 per element; pooling and activations are "
                "unsupported operators and count 0.",
            ),
        ),
        Convention(
            "ptflops",
            "ptflops",
            "get_model_complexity_info(..., backend='pytorch') MACs: module hooks plus patched "
            "functions, so a module that calls a patched function counts twice.",
            {
                "conv": conv_macs_bias,
                "dense": dense_macs_bias,
                "batchnorm": _TWICE,
                "maxpool": _TWICE,
                "avgpool": _TWICE,
                "activation": by_type(
                    {
                        "relu": _TWICE,
                        "elu": _TWICE,
                        "gelu": _TWICE,
                        "relu6": _ONCE,
                        "leaky_relu": _ONCE,
                        "silu": _ONCE,
                        "softmax": _ONCE,
                    }
                ),
                "lrn": lrn_macs_ptflops,
            },
            tool="get_model_complexity_info(model, (C, ...), as_strings=False, backend='pytorch')",
            version="0.7.5",
            quirks=(
                "Pooling, ReLU, ELU and GELU count twice, once through the module's hook and once through "
                "the patched function it calls; pooling counts its input elements, not its output.",
                "A bias counts once per output position.",
                "SiLU, softmax and local response normalization count only through patched functions, "
                "which its per-layer listing does not show.",
            ),
        ),
        Convention(
            "thop",
            "thop",
            "profile(model, inputs=(x,)) MACs: one handler per module type, none for most activations.",
            {
                "conv": conv_macs,
                "dense": dense_macs,
                "batchnorm": _per_element("macs_four_per_input", "operations, four per input element"),
                "avgpool": _per_element("macs_per_output", "operations, one per output element"),
                "activation": by_type({"softmax": softmax_macs_thop}),
            },
            tool="profile(model, inputs=(x,))",
            version="0.1.1.post2209072238",
            quirks=(
                "Batch norm in eval mode counts 4 per element.",
                "Average pooling counts one per output element; max pooling counts 0.",
                "Softmax counts 3C - 1 per position; every other activation 0.",
            ),
        ),
    )
}
