"""The layer-type registry: one registered class per kind of layer.

As in fvcore's handler registry, a layer type is looked up by its name. Each declares its options
(default and validator), the formulas it uses, and how it turns an input shape into an output
shape and counts. Adding a layer type means adding one class here and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from cnnmacros import _compiled as compiled
from cnnmacros.figures import AXES, per_axis_steps, work
from cnnmacros.options import REQUIRED, Option, boolean, fraction, integer, number, per_axis
from cnnmacros.rows import Condition, Row, Shape, Size, Step, Window, format_shape, is_number, product

if TYPE_CHECKING:
    from cnnmacros.architecture import LayerSpec

Report = Callable[[str, str], None]
"""``report(key, message)`` records a problem with one key of the layer being computed."""

REGISTRY: dict[str, LayerKind] = {}

KERNEL_SYMBOLS = {1: ("K_w",), 2: ("K_h", "K_w"), 3: ("K_d", "K_h", "K_w")}
LAYOUTS = {1: "[L, C]", 2: "[H, W, C]", 3: "[D, H, W, C]"}


def register(kind: LayerKind) -> LayerKind:
    """Adds ``kind`` under its type name; a name may be registered once."""
    if kind.type_name in REGISTRY:
        raise ValueError(f"layer type {kind.type_name!r} is registered twice")
    REGISTRY[kind.type_name] = kind
    return kind


class LayerKind:
    """Base of every layer type: declared options, formulas used, and the computation."""

    type_name: str
    family: str
    """What kind of layer it is for the figure rules (``conv``, ``maxpool``, ``activation``...)."""
    summary: str
    options: dict[str, Option]
    formulas: ClassVar[tuple[str, ...]] = ()
    sources: ClassVar[tuple[int, int | None]] = (1, 1)
    """How many inputs the layer takes (at least, at most): one, the layer before unless `from` says."""

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        """The layer's row, or None when its output shape cannot be known (after a report)."""
        raise NotImplementedError

    def compute_inputs(self, layer: LayerSpec, shapes: list[Shape], report: Report) -> Row | None:
        """The row, given the shapes of all the layer's inputs; a single-input layer has one."""
        return self.compute(layer, shapes[0], report)

    def row(
        self,
        layer: LayerSpec,
        shape: Shape,
        output: Shape,
        steps: list[Step] | None = None,
        conditions: list[Condition] | None = None,
        facts: dict[str, Any] | None = None,
        **figures: Size,
    ) -> Row:
        """The layer's row with the figures its own rule gives; ``cnnmacros.figures`` adds the rest."""
        return Row(
            layer.index,
            layer.name,
            layer.type,
            layer.line,
            shape,
            output,
            figures=figures,
            steps=steps or [],
            conditions=conditions or [],
            sources=layer.sources,
            facts=facts or {},
        )


class Spatial(LayerKind):
    """Layers that slide a window over 1, 2 or 3 spatial axes: they need a matching input."""

    rank: int

    def spatial_input(self, shape: Shape, report: Report) -> bool:
        if len(shape) != self.rank + 1:
            report(
                "type",
                f"expected an input with {self.rank} spatial axes and channels ({LAYOUTS[self.rank]}) "
                f"for {self.type_name}, got {format_shape(shape)}",
            )
            return False
        return True


class Conv(Spatial):
    formulas = ("conv_output_size", "conv_output_size_d1", "conv_output_size_same", "conv_biases", "dilated_extent")

    family = "conv"

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.type_name = f"conv{rank}d"
        self.summary = f"{rank}D convolution"
        self.formulas = (*Conv.formulas, f"conv{rank}d_weights", f"conv{rank}d_params")
        self.options = {
            "filters": Option(REQUIRED, integer(1), "number of kernels, which is the number of output channels"),
            "kernel": Option(REQUIRED, per_axis(1, rank), "kernel size, one for every axis or one per axis"),
            "stride": Option(1, per_axis(1, rank), "stride"),
            "padding": Option(0, per_axis(0, rank, ("valid", "same")), "zeros added to each side"),
            "dilation": Option(1, per_axis(1, rank), "spacing between kernel taps"),
            "groups": Option(1, integer(1), "channel groups; must divide input and output channels"),
            "bias": Option(True, boolean(), "whether each kernel has a bias"),
        }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if not self.spatial_input(shape, report):
            return None
        o = layer.options
        rank, c_in, filters, groups = self.rank, shape[-1], o["filters"], o["groups"]
        kernel, stride, dilation = (_axes(o[k], rank) for k in ("kernel", "stride", "dilation"))
        padding = o["padding"]
        if padding == "valid":
            padding = (0,) * rank
        if is_number(c_in) and c_in % groups:
            report("groups", f"expected a divisor of the {c_in} input channels, got {groups}")
        if filters % groups:
            report("groups", f"expected a divisor of filters ({filters}), got {groups}")
        if padding == "same" and any(s != 1 for s in stride):
            report("padding", f"expected stride 1 with 'same' padding (PyTorch's rule), got stride {_show(stride)}")
            return None
        pad = _axes(padding, rank) if padding != "same" else None
        entries = []
        before = []
        for i, k, st, d, p in zip(shape[:-1], kernel, stride, dilation, pad or kernel, strict=True):
            if padding == "same":
                entries.append(("conv_output_size_same", {"I": i}))
                before.append(compiled.same_padding_before(K=k, D=d))
                continue
            before.append(p)
            if d == 1:
                entries.append(("conv_output_size_d1", {"I": i, "K": k, "S": st, "P": p}))
            else:
                entries.append(("conv_output_size", {"I": i, "K": k, "S": st, "P": p, "D": d}))
        steps, out = per_axis_steps("output_size", "output size", AXES[rank], entries)
        for axis, size, (_formula, values) in zip(AXES[rank], out, entries, strict=True):
            if is_number(size) and size < 1:
                i, k, p, d = values["I"], values["K"], values.get("P", 0), values.get("D", 1)
                what = f"a dilated extent of {compiled.dilated_extent(K=k, D=d)}" if d != 1 else f"{k}"
                report(
                    "kernel",
                    f"expected a kernel that fits the padded input along {axis} "
                    f"({i} + 2x{p} = {i + 2 * p}), got {what}",
                )
                return None
        kvalues = dict(zip(KERNEL_SYMBOLS[rank], kernel, strict=True))
        cvalues = {**kvalues, "C_in": c_in, "G": groups, "C_out": filters}
        weights = work("weights", "weights", f"conv{rank}d_weights", **cvalues)
        steps.append(weights)
        biases: Size = 0
        if o["bias"]:
            steps.append(work("biases", "biases", "conv_biases", C_out=filters))
            biases = steps[-1].result
            steps.append(work("params", "parameters", f"conv{rank}d_params", **cvalues))
        window = Window(kernel, stride, dilation, tuple(before))
        facts = {"window": window, "C_in": c_in, "C_out": filters, "G": groups, "bias": o["bias"]}
        return self.row(layer, shape, (*out, filters), steps=steps, facts=facts, weights=weights.result, biases=biases)


class Pool(Spatial):
    formulas = ("pool_output_size", "pool_output_size_ceil")

    def __init__(self, mode: str, rank: int) -> None:
        self.rank = rank
        self.family = f"{mode}pool"
        self.type_name = f"{mode}pool{rank}d"
        # PyTorch's 3D average pooling also wants the window to fit the unpadded input.
        self.window_within_input = mode == "avg" and rank == 3
        self.summary = f"{rank}D {'max' if mode == 'max' else 'average'} pooling"
        self.options = {
            "pool": Option(REQUIRED, per_axis(1, rank), "window size"),
            "stride": Option(None, per_axis(1, rank), "stride; defaults to the window size"),
            "padding": Option(0, per_axis(0, rank), "padding on each side; at most half the window"),
            "ceil_mode": Option(False, boolean(), "round the output size up instead of down"),
        }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if not self.spatial_input(shape, report):
            return None
        o = layer.options
        rank = self.rank
        pool = _axes(o["pool"], rank)
        stride = pool if o["stride"] is None else _axes(o["stride"], rank)
        padding = _axes(o["padding"], rank)
        ceil = o["ceil_mode"]
        formula = "pool_output_size_ceil" if ceil else "pool_output_size"
        entries = []
        for axis, i, k, st, p in zip(AXES[rank], shape[:-1], pool, stride, padding, strict=True):
            if p > k // 2:
                report("padding", f"expected at most half the pool window ({k // 2} for a window of {k}), got {p}")
                return None
            if self.window_within_input and is_number(i) and i < k:
                report(
                    "pool",
                    f"expected a window no larger than the unpadded input along {axis} ({i}), "
                    f"as PyTorch's 3D average pooling requires, got {k}",
                )
                return None
            entries.append((formula, {"I": i, "K": k, "S": st, "P": p}))
        try:
            steps, out = per_axis_steps("output_size", "output size", AXES[rank], entries)
        except TypeError:  # SymPy cannot decide the ceil-mode rule for a symbolic size
            report(
                "ceil_mode",
                "expected false with a symbolic input size (the ceil-mode rule "
                f"compares sizes, and {next(v['I'] for _f, v in entries if not is_number(v['I']))} "
                "is not a number), got true",
            )
            return None
        for axis, size, (_formula, values) in zip(AXES[rank], out, entries, strict=True):
            if is_number(size) and size < 1:
                i, k, p = values["I"], values["K"], values["P"]
                report(
                    "pool",
                    f"expected a window that fits the padded input along {axis} ({i} + 2x{p} = {i + 2 * p}), got {k}",
                )
                return None
        facts = {"window": Window(pool, stride, (1,) * rank, padding)}
        return self.row(layer, shape, (*out, shape[-1]), steps=steps, facts=facts)


class BatchNorm(LayerKind):
    type_name = "batchnorm"
    family = "batchnorm"
    summary = "batch normalization over the channel axis (the last one), any rank"
    formulas = ("batchnorm_trainable", "batchnorm_non_trainable", "batchnorm_scales", "batchnorm_shifts")
    options: dict[str, Option] = {}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        c = shape[-1]
        # gamma is the per-channel weight and beta the per-channel bias, as PyTorch names them
        steps = [
            work("params", "trainable parameters (gamma and beta)", "batchnorm_trainable", C=c),
            work(
                "non_trainable", "non-trainable statistics (running mean and variance)", "batchnorm_non_trainable", C=c
            ),
            work("weights", "scales (gamma), the weights column", "batchnorm_scales", C=c),
            work("biases", "shifts (beta), the biases column", "batchnorm_shifts", C=c),
        ]
        trainable, statistics, scales, shifts = (s.result for s in steps)
        return self.row(layer, shape, shape, steps=steps, weights=scales, biases=shifts, non_trainable=statistics)


def _flattened(shape: Shape, key: str, label: str, formula: str) -> tuple[Size, list[Step]]:
    """Units after flattening, by the documents' formula for an H x W x C tensor (a plain product
    for other ranks), and the step that shows it."""
    if len(shape) == 3:
        step = work(key, label, formula, **dict(zip(("H", "W", "C"), shape, strict=True)))
        return step.result, [step]
    return product(shape), []


class Dense(LayerKind):
    type_name = "dense"
    family = "dense"
    summary = "fully connected layer; a multi-axis input is flattened first"
    formulas = ("dense_inputs", "dense_weights", "dense_biases", "dense_params")
    options = {
        "units": Option(REQUIRED, integer(1), "number of units (neurons)"),
        "bias": Option(True, boolean(), "whether each unit has a bias"),
        "inputs": Option(None, integer(1), "declared number of input units, checked against the input"),
    }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        o = layer.options
        units, declared = o["units"], o["inputs"]
        received, flatten_steps = _flattened(shape, "inputs", "input units, flattened", "dense_inputs")
        conditions = []
        n = received
        steps: list[Step] = flatten_steps
        if declared is not None:
            if is_number(received):
                if received != declared:
                    report(
                        "inputs",
                        f"expected the {received} units the layer receives ({format_shape(shape)}), got {declared}",
                    )
            else:
                conditions.append(Condition("declared inputs", received, declared))
                n, steps = declared, []
        weights = work("weights", "weights", "dense_weights", N_in=n, N_out=units)
        steps.append(weights)
        biases: Size = 0
        if o["bias"]:
            steps.append(work("biases", "biases", "dense_biases", N_out=units))
            biases = steps[-1].result
            steps.append(work("params", "parameters", "dense_params", N_in=n, N_out=units))
        facts = {"N_in": n, "N_out": units, "bias": o["bias"]}
        return self.row(
            layer,
            shape,
            (units,),
            steps=steps,
            conditions=conditions,
            facts=facts,
            weights=weights.result,
            biases=biases,
        )


class Flatten(LayerKind):
    type_name = "flatten"
    family = "flatten"
    summary = "flattens every axis into one vector"
    formulas = ("flatten_units",)
    options: dict[str, Option] = {}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        units, steps = _flattened(shape, "units", "units after flattening", "flatten_units")
        return self.row(layer, shape, (units,), steps=steps)


class ShapeKeeping(LayerKind):
    """Layers without parameters whose output has the input's shape."""

    def __init__(
        self, type_name: str, summary: str, options: dict[str, Option] | None = None, family: str = "activation"
    ) -> None:
        self.type_name = type_name
        self.family = family
        self.summary = summary
        self.options = options or {}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        return self.row(layer, shape, shape)


class Merge(LayerKind):
    """Layers that join the outputs of two or more earlier layers, named in `from`."""

    sources = (2, None)
    options: dict[str, Option] = {}

    def same_sizes(self, layer: LayerSpec, shapes: list[Shape], axes: slice, report: Report) -> list[Condition] | None:
        """Every input must agree on the sizes in ``axes``: numbers must be equal; symbolic sizes that
        are not the same expression become conditions on the input."""
        first = shapes[0]
        conditions = []
        for name, other in zip(layer.sources[1:], shapes[1:], strict=True):
            if len(other) != len(first):
                report(
                    "from",
                    f"expected inputs with the same number of axes, got {format_shape(first)} "
                    f"({layer.sources[0]}) and {format_shape(other)} ({name})",
                )
                return None
            for a, b in zip(first[axes], other[axes], strict=True):
                if is_number(a) and is_number(b):
                    if a != b:
                        what = "shape" if axes == slice(None) else "spatial size"
                        report(
                            "from",
                            f"expected inputs of one {what}, got {format_shape(first)} "
                            f"({layer.sources[0]}) and {format_shape(other)} ({name})",
                        )
                        return None
                elif a != b:
                    from cnnmacros.symbolic import never_equal  # symbolic sizes have imported SymPy

                    if never_equal(a, b):
                        report(
                            "from",
                            f"expected inputs of sizes that can be equal, got {format_shape(first)} "
                            f"({layer.sources[0]}) and {format_shape(other)} ({name}): {a} and {b} differ "
                            "for every input size",
                        )
                        return None
                    conditions.append(Condition(f"equal sizes for {layer.type}", a, b))
        return conditions


class Add(Merge):
    type_name = "add"
    family = "add"
    summary = "elementwise sum of the layers named in `from` (a residual connection); no parameters"

    def compute_inputs(self, layer: LayerSpec, shapes: list[Shape], report: Report) -> Row | None:
        conditions = self.same_sizes(layer, shapes, slice(None), report)
        if conditions is None:
            return None
        return self.row(layer, shapes[0], shapes[0], conditions=conditions)


class Concat(Merge):
    type_name = "concat"
    family = "concat"
    summary = "the layers named in `from`, stacked along the channel axis; no parameters"
    formulas = ("concat_channels",)

    def compute_inputs(self, layer: LayerSpec, shapes: list[Shape], report: Report) -> Row | None:
        conditions = self.same_sizes(layer, shapes, slice(0, -1), report)
        if conditions is None:
            return None
        channels = shapes[0][-1]
        steps = []
        for other in shapes[1:]:
            steps.append(work("channels", "channels", "concat_channels", C_1=channels, C_2=other[-1]))
            channels = steps[-1].result
        return self.row(layer, shapes[0], (*shapes[0][:-1], channels), steps=steps, conditions=conditions)


def _axes(value: Any, rank: int) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,) * rank


def _show(values: tuple[Any, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "[" + ", ".join(map(str, values)) + "]"


for _rank in (1, 2, 3):
    register(Conv(_rank))
for _mode in ("max", "avg"):
    for _rank in (1, 2, 3):
        register(Pool(_mode, _rank))
register(BatchNorm())
register(Dense())
register(Add())
register(Concat())
register(Flatten())
register(
    ShapeKeeping(
        "dropout",
        "dropout; no parameters",
        {"rate": Option(0.5, fraction(), "share of units dropped in training")},
        family="dropout",
    )
)
register(
    ShapeKeeping(
        "lrn",
        "local response normalization across channels; no parameters",
        {
            "size": Option(5, integer(1), "number of neighbouring channels"),
            "alpha": Option(0.0001, number(), "scale"),
            "beta": Option(0.75, number(), "exponent"),
            "k": Option(1.0, number(), "additive constant"),
        },
        family="lrn",
    )
)
for _name, _words in {
    "relu": "rectified linear unit",
    "relu6": "rectified linear unit capped at 6",
    "leaky_relu": "leaky rectified linear unit",
    "elu": "exponential linear unit",
    "selu": "scaled exponential linear unit",
    "gelu": "Gaussian error linear unit",
    "silu": "sigmoid linear unit (swish)",
    "sigmoid": "logistic sigmoid",
    "tanh": "hyperbolic tangent",
    "softmax": "softmax over the last axis",
}.items():
    options = {"negative_slope": Option(0.01, number(), "slope for negative inputs")} if _name == "leaky_relu" else {}
    register(ShapeKeeping(_name, f"{_words}; no parameters", options))
