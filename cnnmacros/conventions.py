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
from typing import TYPE_CHECKING

from cnnmacros.figures import Context, arguments, work
from cnnmacros.rows import Size, Step, Summary, add_up, product

if TYPE_CHECKING:
    from cnnmacros.architecture import Architecture

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
    """A rule that counts the elements of the layer's input (``A_in``), its output (``A``) or its
    channels (``C``), as its formula names them."""
    names = arguments(formula)

    def rule(ctx: Context) -> tuple[Size, list[Step]]:
        given = {"A_in": product(ctx.row.input), "A": product(ctx.row.output), "C": ctx.row.input[-1]}
        step = work("macs", label, formula, **{n: given[n] for n in names})
        return step.result, [step]

    return uses(formula, words=label)(rule)


def pick(words: str, chooser: Callable[[Context], MacsRule | None], *rules: MacsRule) -> MacsRule:
    """A rule that depends on the layer's options (affine, running statistics, mode, rank):
    ``chooser`` names the rule, or None for 0; ``rules`` are those it may name, for the page."""

    def rule(ctx: Context) -> tuple[Size, list[Step]]:
        chosen = chooser(ctx)
        return chosen(ctx) if chosen is not None else (0, [])

    formulas = tuple(f for r in rules for f in r.formulas)  # type: ignore[attr-defined]
    return uses(*formulas, words=words)(rule)


@uses("macs_of_parameters", words="its parameters, once per example")
def parameters_once(ctx: Context) -> tuple[Size, list[Step]]:
    """torchinfo: a layer that is not a convolution counts its parameters."""
    params = ctx.row.figures.get("weights", 0) + ctx.row.figures.get("biases", 0)
    if params == 0:
        return 0, []
    step = work("macs", "multiply-accumulates, one per parameter", "macs_of_parameters", N_p=params)
    return step.result, [step]


@uses(
    "macs_params_at_outputs1d",
    "macs_params_at_outputs2d",
    "macs_params_at_outputs3d",
    words="every parameter, bias included, at every output position, as for a convolution",
)
def parameters_at_outputs(ctx: Context) -> tuple[Size, list[Step]]:
    params = ctx.row.figures["weights"] + ctx.row.figures.get("biases", 0)
    rank = len(ctx.row.output) - 1
    label = "multiply-accumulates, parameters at each output"
    step = work("macs", label, f"macs_params_at_outputs{rank}d", N_p=params, **_outputs(ctx))
    return step.result, [step]


def _transpose_values(ctx: Context, with_inputs: bool = True, with_outputs: bool = False) -> dict[str, Size]:
    facts, rank = ctx.row.facts, len(ctx.row.input) - 1
    names = {1: ("I_w",), 2: ("I_h", "I_w"), 3: ("I_d", "I_h", "I_w")}[rank]
    kernel = dict(zip({1: ("K_w",), 2: ("K_h", "K_w"), 3: ("K_d", "K_h", "K_w")}[rank], facts["kernel"], strict=True))
    values = {"C_in": facts["C_in"], "C_out": facts["C_out"], "G": facts["G"], **kernel}
    if with_inputs:
        values.update(zip(names, ctx.row.input[:-1], strict=True))
    if with_outputs:
        values.update(_outputs(ctx))
    return values


@uses(
    "convtranspose1d_macs_output_grid",
    "convtranspose2d_macs_output_grid",
    "convtranspose3d_macs_output_grid",
    words="as if it were a convolution producing its output, no bias",
)
def convtranspose_output_grid(ctx: Context) -> tuple[Size, list[Step]]:
    rank = len(ctx.row.input) - 1
    values = _transpose_values(ctx, with_inputs=False, with_outputs=True)
    step = work("macs", "multiply-accumulates on the output grid", f"convtranspose{rank}d_macs_output_grid", **values)
    return step.result, [step]


@uses(
    "convtranspose1d_macs_bias",
    "convtranspose2d_macs_bias",
    "convtranspose3d_macs_bias",
    words="ours, plus one per output value for the bias",
)
def convtranspose_macs_bias(ctx: Context) -> tuple[Size, list[Step]]:
    if not ctx.row.facts["bias"]:
        return convtranspose_macs(ctx)
    rank = len(ctx.row.input) - 1
    values = _transpose_values(ctx, with_outputs=True)
    step = work("macs", "multiply-accumulates, bias counted", f"convtranspose{rank}d_macs_bias", **values)
    return step.result, [step]


@uses(
    "dense_macs_bias",
    "dense_macs_positions_bias",
    words="one per weight and one per unit for the bias, at every position",
)
def dense_macs_bias_positions(ctx: Context) -> tuple[Size, list[Step]]:
    facts = ctx.row.facts
    if "positions" not in facts:
        return dense_macs_bias(ctx)
    if not facts["bias"]:
        return dense_macs(ctx)
    values = {"Q": facts["positions"], "N_in": facts["N_in"], "N_out": facts["N_out"]}
    step = work("macs", "multiply-accumulates at every position, bias counted", "dense_macs_positions_bias", **values)
    return step.result, [step]


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
    "convtranspose": "transposed convolution",
    "layernorm": "layer normalization",
    "groupnorm": "group normalization",
    "instancenorm": "instance normalization",
    "globalavgpool": "global average pooling",
    "globalmaxpool": "global max pooling",
    "adaptiveavgpool": "adaptive average pooling",
    "adaptivemaxpool": "adaptive max pooling",
    "upsample": "upsampling",
    "prelu": "PReLU",
    "leaky_relu": "leaky ReLU",
    "relu": "ReLU",
    "relu6": "ReLU6",
    "elu": "ELU",
    "gelu": "GELU",
    "silu": "SiLU",
}


_TWICE = _per_element("macs_twice_per_input", "operations, two per input element")
_ONCE = _per_element("macs_per_input", "operations, one per input element")
_FOUR = _per_element("macs_four_per_input", "operations, four per input element")
_FIVE = _per_element("macs_five_per_input", "operations, five per input element")
_OUTPUT = _per_element("macs_per_output", "operations, one per output element")
_OUTPUT_TWICE = _per_element("macs_twice_per_output", "operations, two per output element")


def _affine(ctx: Context) -> bool:
    return bool(ctx.layer.options.get("affine", True))


def _tracks(ctx: Context) -> bool:
    return bool(ctx.layer.options.get("track_running_stats", False))


def _spatial_rank(ctx: Context) -> int:
    return len(ctx.row.input) - 1


FVCORE_NORM = pick("4 per element, 5 with a scale and a shift", lambda c: _FIVE if _affine(c) else _FOUR, _FOUR, _FIVE)
FVCORE_BATCHNORM = pick(
    "with running statistics 1 per element, 2 with a scale and a shift; without them 4 or 5",
    lambda c: (_TWICE if _affine(c) else _ONCE) if _tracks(c) else (_FIVE if _affine(c) else _FOUR),
    _ONCE,
    _TWICE,
    _FOUR,
    _FIVE,
)
PTFLOPS_NORM = pick(
    "1 per element, 2 with a scale and a shift", lambda c: _TWICE if _affine(c) else _ONCE, _ONCE, _TWICE
)
THOP_NORM = pick("2 per element, 4 with a scale and a shift", lambda c: _FOUR if _affine(c) else _TWICE, _TWICE, _FOUR)
FVCORE_2D_ONLY = pick(
    "1 per input element in 2D; other ranks are unsupported, 0",
    lambda c: _ONCE if _spatial_rank(c) == 2 else None,
    _ONCE,
)
_UPSAMPLE_2D = {
    "nearest": _OUTPUT,
    "bilinear": _per_element("macs_four_per_output", "operations, four per output element"),
}
FVCORE_UPSAMPLE = pick(
    "2D nearest 1 per output element, 2D bilinear 4; other modes and ranks unsupported, 0",
    lambda c: _UPSAMPLE_2D.get(c.layer.options["mode"]) if _spatial_rank(c) == 2 else None,
    *_UPSAMPLE_2D.values(),
)
_THOP_UPSAMPLE = {
    "nearest": _OUTPUT,
    "linear": _per_element("macs_five_per_output", "operations, five per output element"),
    "bilinear": _per_element("macs_eleven_per_output", "operations, eleven per output element"),
    "bicubic": _per_element("macs_bicubic_thop", "operations of bicubic interpolation"),
}
THOP_UPSAMPLE = pick(
    "per output element: nearest 1, linear 5, bilinear 11, bicubic 259; trilinear 0",
    lambda c: _THOP_UPSAMPLE.get(c.layer.options["mode"]),
    *_THOP_UPSAMPLE.values(),
)

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
            {
                "conv": conv_macs_bias,
                "convtranspose": parameters_at_outputs,
                "dense": dense_macs_bias,
                "batchnorm": parameters_once,
                "layernorm": parameters_once,
                "groupnorm": parameters_once,
                "instancenorm": parameters_once,
                "activation": by_type({"prelu": parameters_once}),
                "scale": parameters_once,
            },
            tool="summary(model, input_size=(1, C, ...)).total_mult_adds",
            version="1.8.0",
            quirks=(
                "A bias counts once per output position.",
                "Batch norm counts 2C, its gamma and beta, whatever the size of its input; so do the "
                "other normalizations, a PReLU counts its slopes and a layer scale its C multipliers.",
                "A transposed convolution counts its parameters at every output position, as a "
                "convolution would; a fully connected layer on the channels of every position counts "
                "its parameters once.",
                "Pooling, activations and every other layer without parameters count 0.",
            ),
        ),
        Convention(
            "fvcore",
            "fvcore",
            "FlopCountAnalysis(model, x).total(): traced aten operators, each with its own handler.",
            {
                "conv": conv_macs_integer_padding,
                "convtranspose": convtranspose_macs,
                "dense": dense_macs,
                "batchnorm": FVCORE_BATCHNORM,
                "layernorm": FVCORE_NORM,
                "groupnorm": FVCORE_NORM,
                "instancenorm": FVCORE_NORM,
                "globalavgpool": FVCORE_2D_ONLY,
                "adaptiveavgpool": FVCORE_2D_ONLY,
                "upsample": FVCORE_UPSAMPLE,
            },
            tool="FlopCountAnalysis(model, x).total()",
            version="0.1.5.post20221221",
            quirks=(
                "A convolution whose padding is a word ('same', 'valid') counts 0: it traces to "
                "aten::_convolution_mode, which fvcore does not support.",
                "Biases are not counted.",
                "Batch norm in eval mode counts 2 per element, but 5 without running statistics, "
                "which PyTorch computes as in training; layer, group and instance norm always 4 or 5.",
                "Pooling and activations are unsupported operators and count 0, except 2D adaptive "
                "average pooling and 2D nearest and bilinear upsampling.",
            ),
        ),
        Convention(
            "ptflops",
            "ptflops",
            "get_model_complexity_info(..., backend='pytorch') MACs: module hooks plus patched "
            "functions, so a module that calls a patched function counts twice.",
            {
                "conv": conv_macs_bias,
                "convtranspose": convtranspose_macs_bias,
                "dense": dense_macs_bias_positions,
                "batchnorm": PTFLOPS_NORM,
                "layernorm": _ONCE,
                "groupnorm": PTFLOPS_NORM,
                "instancenorm": PTFLOPS_NORM,
                "maxpool": _TWICE,
                "avgpool": _TWICE,
                "globalavgpool": _TWICE,
                "globalmaxpool": _TWICE,
                "adaptiveavgpool": _TWICE,
                "adaptivemaxpool": _TWICE,
                "upsample": _OUTPUT_TWICE,
                "activation": by_type(
                    {
                        "relu": _TWICE,
                        "elu": _TWICE,
                        "gelu": _TWICE,
                        "relu6": _ONCE,
                        "leaky_relu": _ONCE,
                        "silu": _ONCE,
                        "softmax": _ONCE,
                        "prelu": _TWICE,
                    }
                ),
                "lrn": lrn_macs_ptflops,
            },
            tool="get_model_complexity_info(model, (C, ...), as_strings=False, backend='pytorch')",
            version="0.7.5",
            quirks=(
                "Pooling (adaptive and global too), upsampling, ReLU, ELU, GELU and PReLU count twice, once "
                "through the module's hook and once through the patched function it calls; pooling counts "
                "its input elements, not its output.",
                "Layer normalization counts 1 per element with or without its scale and shift.",
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
                "convtranspose": convtranspose_output_grid,
                "dense": dense_macs,
                "batchnorm": THOP_NORM,
                "layernorm": THOP_NORM,
                "instancenorm": THOP_NORM,
                "avgpool": _OUTPUT,
                "globalavgpool": _per_element(
                    "macs_input_plus_channels", "a sum per input element, a division per channel"
                ),
                "adaptiveavgpool": _per_element(
                    "macs_input_plus_output", "a sum per input element, a division per output"
                ),
                "upsample": THOP_UPSAMPLE,
                "activation": by_type({"softmax": softmax_macs_thop, "prelu": _ONCE}),
            },
            tool="profile(model, inputs=(x,))",
            version="0.1.1.post2209072238",
            quirks=(
                "Batch norm in eval mode counts 4 per element.",
                "Average pooling counts one per output element; max pooling counts 0.",
                "Softmax counts 3C - 1 per position, PReLU 1 per element; every other activation 0.",
                "Group normalization has no handler and counts 0.",
                "A transposed convolution is counted on its output grid, as a convolution would be.",
                "Adaptive average pooling is counted in floating point, which can come out one below "
                "the exact count when the output size does not divide the input's.",
            ),
        ),
    )
}


def recount(architecture: Architecture, summary: Summary, convention: str) -> Size:
    """The network's multiply-accumulates under ``convention``, from its summary under another: the
    convention's rule runs again on each computed row, and nothing else does (computing every file
    anew for each convention of the conventions page took a sixth of the site's build)."""
    from cnnmacros.architecture import INPUT
    from cnnmacros.errors import ArchitectureError
    from cnnmacros.figures import input_state, state_after
    from cnnmacros.layers import REGISTRY

    if convention == summary.convention:
        return summary.totals["macs"]
    rule = CONVENTIONS[convention]
    state = input_state(summary.input)
    states = {INPUT: state}
    counts: list[Size] = []
    problems = []
    for layer, row in zip(architecture.layers, summary.rows, strict=True):

        def report(key: str, message: str, layer=layer) -> None:
            problems.append(layer.problem(architecture.file, key, message))

        inputs = [states[name] for name in layer.sources] or [state]
        family = REGISTRY[layer.type].family
        context = Context(layer, family, inputs, row, report, convention, summary.dtype, summary.training)
        counts.append(rule.macs(context)[0])
        state = states[layer.name] = state_after(row)
    if problems:
        raise ArchitectureError(problems)
    return add_up(counts)
