"""The layer-type registry: one registered class per kind of layer.

As in fvcore's handler registry, a layer type is looked up by its name. Each declares its options
(default and validator), the formulas it uses, how it turns an input shape into an output
shape and counts, and what its forward pass in training keeps for the backward pass (``forward``,
and ``keeps`` in words for the Training memory page). Adding a layer type means adding one class
here and its tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, ClassVar

from cnnmacros import _compiled as compiled
from cnnmacros import layout as lay
from cnnmacros.figures import AXES, per_axis_steps, work
from cnnmacros.guards import below, both, decide, failed, unequal
from cnnmacros.memory import Forward, Keeps
from cnnmacros.options import REQUIRED, Option, boolean, choice, fraction, integer, number, pairs, per_axis, sizes
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
    keeps: Keeps
    """What its training forward pass keeps for the backward pass, for the Training memory page."""

    def forward(self, f: Forward) -> None:
        """What PyTorch's forward pass of this layer in training saves (``f.keep_input``,
        ``f.keep_output``, ``f.keep``) and how its output is laid out (``f.output``)."""
        raise NotImplementedError(self.type_name)

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
            options=dict(layer.options),
            given=tuple(key for key in layer.options if key in layer.lines),
            block=layer.block,
            block_type=layer.block_type,
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


def check_groups(c_in: Size, filters: int, groups: int, report: Report) -> None:
    """Channel groups must divide the input channels and the filters (convolutions, transposed too)."""
    failed(
        report,
        unequal(c_in % groups, 0),
        "groups",
        "expected a divisor of the {c} input channels, got {groups}",
        stops=False,
        c=c_in,
        groups=groups,
    )
    if filters % groups:
        report("groups", f"expected a divisor of filters ({filters}), got {groups}")


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
            "padding": Option(
                0,
                per_axis(0, rank, ("valid", "same")),
                "zeros added to each side; 'same' with a stride follows TensorFlow and Keras",
            ),
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
        check_groups(c_in, filters, groups, report)
        strided_same = padding == "same" and any(st != 1 for st in stride)
        pad = _axes(padding, rank) if padding != "same" else None
        entries = []
        before = []
        padding_steps: list[Step] = []
        for axis, i, k, st, d, p in zip(AXES[rank], shape[:-1], kernel, stride, dilation, pad or kernel, strict=True):
            if strided_same:  # TensorFlow's and Keras' rule: ceil(I/S) outputs, the smaller half before
                entries.append(("conv_output_size_same_strided", {"I": i, "S": st}))
                total = work(
                    f"padding_total_{axis}",
                    f"total padding along {axis}",
                    "same_padding_total_strided",
                    I=i,
                    S=st,
                    K=k,
                    D=d,
                )
                half = work(
                    f"padding_before_{axis}", f"padding before along {axis}", "padding_before_half", P_t=total.result
                )
                padding_steps += [total, half]
                before.append(half.result)
                continue
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
        steps += padding_steps
        for axis, size, (_formula, values) in zip(AXES[rank], out, entries, strict=True):
            if "K" not in values:  # 'same' padding: at least one output whatever the input
                continue
            i, k, p, d = values["I"], values["K"], values.get("P", 0), values.get("D", 1)
            what = f"a dilated extent of {compiled.dilated_extent(K=k, D=d)}" if d != 1 else f"{k}"
            if failed(
                report,
                below(size, 1),
                "kernel",
                "expected a kernel that fits the padded input along {axis} ({i} + 2x{p} = {padded}), got {what}",
                axis=axis,
                i=i,
                p=p,
                padded=i + 2 * p,
                what=what,
            ):
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

    keeps = Keeps(
        "its input; with 'same' padding whose total is odd along an axis, or 'same' with a stride, a "
        "zero-padded copy of it instead",
        "the gradient of the weights is the input correlated with the output's gradient, so the "
        "input is kept even where it needs no gradient of its own",
        ("saved_tensor_bytes", "same_padded_size", "padded_size"),
    )

    def forward(self, f: Forward) -> None:
        o, rank, x = f.layer.options, self.rank, f.layouts[0]
        kernel, stride, dilation = (_axes(o[k], rank) for k in ("kernel", "stride", "dilation"))
        entries = []
        if o["padding"] == "same" and any(st != 1 for st in stride):  # F.pad, then the convolution
            for axis, i in zip(AXES[rank], f.row.input[:-1], strict=True):
                entries.append(("padded_size", {"I": i, "P_t": f.row.step(f"padding_total_{axis}").result}))
        elif o["padding"] == "same" and any(d * (k - 1) % 2 for k, d in zip(kernel, dilation, strict=True)):
            for i, k, d in zip(f.row.input[:-1], kernel, dilation, strict=True):
                entries.append(("same_padded_size", {"I": i, "K": k, "D": d}))
        if entries:
            steps, padded = per_axis_steps("padded_size", "size of the zero-padded copy", AXES[rank], entries)
            f.steps += steps
            f.keep("zero-padded copy of the input", "saved_tensor_bytes", E=product((*padded, f.row.input[-1])))
            x = pad_layout(x, lay.torch_sizes((*padded, f.row.input[-1])))
        else:
            f.keep_input(0)
        f.output(convolution_layout(x, f.out_sizes))


def convolution_layout(x: lay.Layout, sizes: tuple[int, ...]) -> lay.Layout:
    """oneDNN's convolutions write the format their input suggests; a 1D one runs as 2D on the
    input made contiguous and unsqueezed (a tensor contiguous but for a size-1 axis stays as it is)."""
    if x.dim == 3:
        wide = lay.unsqueeze(lay.make_contiguous(x)[0], 2)
        return lay.squeeze(suggested(wide, (*sizes[:2], 1, sizes[2])), 2)
    return suggested(x, sizes)


def sympy_max(a: Size, b: Size) -> Size:
    return max(a, b) if is_number(a) and is_number(b) else compiled._max(a, b)


def suggested(t: lay.Layout, sizes: tuple[int, ...]) -> lay.Layout:
    """A new tensor of ``sizes`` in the memory format that ``t`` suggests (most 2D and 3D kernels)."""
    return lay.in_format(sizes, lay.suggest_memory_format(t))


def pad_layout(t: lay.Layout, sizes: tuple[int, ...]) -> lay.Layout:
    """``constant_pad_nd``'s output: a clone when nothing is added, else the format ``t`` suggests."""
    return lay.empty_like(t) if sizes == t.sizes else suggested(t, sizes)


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
        if mode == "avg":
            self.options["count_include_pad"] = Option(
                True, boolean(), "count the padding in each average (sizes and counts are the same either way)"
            )

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
            if self.window_within_input and failed(
                report,
                below(i, k),
                "pool",
                "expected a window no larger than the unpadded input along {axis} ({i}), "
                "as PyTorch's 3D average pooling requires, got {k}",
                axis=axis,
                i=i,
                k=k,
            ):
                return None
            entries.append((formula, {"I": i, "K": k, "S": st, "P": p}))
        # in ceil mode a symbolic size gives the rule itself, a formula of the input's size
        steps, out = per_axis_steps("output_size", "output size", AXES[rank], entries)
        for axis, size, (_formula, values) in zip(AXES[rank], out, entries, strict=True):
            i, k, p = values["I"], values["K"], values["P"]
            if failed(
                report,
                below(size, 1),
                "pool",
                "expected a window that fits the padded input along {axis} ({i} + 2x{p} = {padded}), got {k}",
                axis=axis,
                i=i,
                p=p,
                padded=i + 2 * p,
                k=k,
            ):
                return None
        facts = {"window": Window(pool, stride, (1,) * rank, padding)}
        return self.row(layer, shape, (*out, shape[-1]), steps=steps, facts=facts)

    @property
    def keeps(self) -> Keeps:  # type: ignore[override]
        if self.family == "maxpool":
            return Keeps(
                "its input and the index of each maximum, as int64",
                "the gradient flows back to the one input that was the maximum of each window",
                ("saved_tensor_bytes", "saved_index_bytes"),
            )
        return Keeps(
            "its input",
            "the backward pass needs only the input's shape, but PyTorch's avg_pool saves the input itself",
            ("saved_tensor_bytes",),
        )

    def forward(self, f: Forward) -> None:
        f.keep_input(0)
        if self.family == "maxpool":
            f.keep("indices of the maxima (int64)", "saved_index_bytes", A=f.row.figures["activations"])
        mode = "max" if self.family == "maxpool" else "avg"
        f.output(pool_layout(f, mode, self.rank))


def pool_layout(f: Forward, mode: str, rank: int, sizes: tuple[int, ...] | None = None) -> lay.Layout:
    """The output of a pooling kernel: 1D pools are 2D pools of an unsqueezed input (max pooling
    without an autograd node has its own kernel, which makes a contiguous output); 2D kernels keep
    the format the input suggests; 3D average and adaptive pools make a contiguous output."""
    x, out = f.layouts[0], sizes or f.out_sizes
    if rank == 1:
        if mode == "max" and not f.grad:
            return lay.contiguous(out)
        wide = lay.unsqueeze(x, -2)
        return lay.squeeze(suggested(wide, (*out[:2], 1, out[2])), -2)
    if rank == 3 and mode != "max":
        return lay.contiguous(out)
    return suggested(x, out)


def mean_layout(x: lay.Layout, sizes: tuple[int, ...]) -> lay.Layout:
    """Adaptive average pooling to 1 is ``mean`` over the spatial axes, which keeps nothing: a
    contiguous result, restrided as channels last when the input suggests it; 1D goes through 2D."""
    if len(sizes) == 3:
        wide = lay.unsqueeze(x, -2)
        return lay.squeeze(lay.in_format((*sizes[:2], 1, 1), lay.suggest_memory_format(wide)), -2)
    return lay.in_format(sizes, lay.suggest_memory_format(x))


def norm_steps(c: Size, affine: bool, statistics: bool) -> tuple[list[Step], dict[str, Size]]:
    """A normalization's worked steps and counts: gamma and beta when affine (PyTorch's weight and
    bias), a running mean and variance when it tracks statistics."""
    steps: list[Step] = []
    figures: dict[str, Size] = {}
    if affine:
        steps.append(work("params", "trainable parameters (gamma and beta)", "batchnorm_trainable", C=c))
    if statistics:
        steps.append(
            work(
                "non_trainable", "non-trainable statistics (running mean and variance)", "batchnorm_non_trainable", C=c
            )
        )
        figures["non_trainable"] = steps[-1].result
    if affine:
        steps.append(work("weights", "scales (gamma), the weights column", "batchnorm_scales", C=c))
        steps.append(work("biases", "shifts (beta), the biases column", "batchnorm_shifts", C=c))
        figures["weights"], figures["biases"] = steps[-2].result, steps[-1].result
    return steps, figures


class BatchNorm(LayerKind):
    type_name = "batchnorm"
    family = "batchnorm"
    summary = "batch normalization over the channel axis (the last one), any rank"
    options = {
        "affine": Option(True, boolean(), "whether it learns a scale and a shift per channel"),
        "track_running_stats": Option(True, boolean(), "whether it keeps a running mean and variance"),
    }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        o = layer.options
        values = product(shape[:-1])
        if not o["track_running_stats"] and failed(  # it normalizes by the batch
            report,
            below(values, 2),
            "track_running_stats",
            "expected true for one example with one value per channel: without running statistics "
            "PyTorch needs more than one value in each channel, got false",
        ):
            return None
        steps, figures = norm_steps(shape[-1], o["affine"], o["track_running_stats"])
        facts = {"counter": o["track_running_stats"]}  # num_batches_tracked, an int64 buffer
        return self.row(layer, shape, shape, steps=steps, facts=facts, **figures)

    keeps = Keeps(
        "its input, and the batch's mean and inverse standard deviation per channel",
        "the backward pass normalizes the input again with the batch's statistics; running "
        "statistics are buffers, not counted here",
        ("saved_tensor_bytes", "batchnorm_saved_bytes"),
    )

    def forward(self, f: Forward) -> None:
        f.keep_input(0)
        f.keep("batch mean and inverse standard deviation", "batchnorm_saved_bytes", C=f.row.input[-1])
        x = f.layouts[0]  # batch_norm_cpu: contiguous stays contiguous, else the suggested format
        f.output(lay.contiguous(x.sizes) if lay.is_contiguous(x) else suggested(x, x.sizes))


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
        "flatten": Option(
            True, boolean(), "flatten a multi-axis input first; false: act on the channels of each position"
        ),
    }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        o = layer.options
        if not o["flatten"] and len(shape) > 1:
            return self.per_position(layer, shape, report)
        units, declared = o["units"], o["inputs"]
        received, flatten_steps = _flattened(shape, "inputs", "input units, flattened", "dense_inputs")
        conditions = []
        n = received
        steps: list[Step] = flatten_steps
        if declared is not None:
            failed(
                report,
                unequal(received, declared),
                "inputs",
                "expected the {received} units the layer receives ({shape}), got {declared}",
                stops=False,
                received=received,
                shape=tuple(shape),
                declared=declared,
            )
            if not is_number(received):
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

    def per_position(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        """nn.Linear on a channels-last tensor: the same weights at every position, [..., units] out."""
        o, c, units = layer.options, shape[-1], layer.options["units"]
        if o["inputs"] is not None:
            failed(
                report,
                unequal(c, o["inputs"]),
                "inputs",
                "expected the {c} channels the layer receives at each position, got {inputs}",
                stops=False,
                c=c,
                inputs=o["inputs"],
            )
        steps = [work("weights", "weights", "dense_weights", N_in=c, N_out=units)]
        biases: Size = 0
        if o["bias"]:
            steps.append(work("biases", "biases", "dense_biases", N_out=units))
            biases = steps[-1].result
            steps.append(work("params", "parameters", "dense_params", N_in=c, N_out=units))
        rank = len(shape) - 1
        facts = {
            "N_in": c,
            "N_out": units,
            "bias": o["bias"],
            "positions": product(shape[:-1]),
            "window": Window((1,) * rank, (1,) * rank, (1,) * rank, (0,) * rank),
        }
        return self.row(
            layer, shape, (*shape[:-1], units), steps=steps, facts=facts, weights=steps[0].result, biases=biases
        )

    keeps = Keeps(
        "its input (flattened); a copy of it when its layout cannot be flattened or reshaped as a view",
        "the gradient of the weights is the input times the output's gradient; torch.flatten and the "
        "reshape inside nn.Linear copy a tensor whose strides do not allow a view",
        ("saved_tensor_bytes",),
    )

    def forward(self, f: Forward) -> None:
        x, out = f.layouts[0], f.out_sizes
        if f.layer.options["flatten"] or x.dim == 2:
            if x.dim > 2:
                x, copied = lay.flatten(x)
            else:
                copied = False
            result = lay.contiguous(out)
        else:  # nn.Linear on x.movedim(1, -1): the input folded to a matrix by a reshape
            moved = lay.movedim(x, 1, -1)
            rows = product(moved.sizes[:-1])
            _, copied = lay.reshape(moved, (rows, moved.sizes[-1]))
            result = lay.movedim(lay.contiguous((*moved.sizes[:-1], out[1])), -1, 1)
        if copied:
            f.keep("copy of the input, flattened", "saved_tensor_bytes", E=product(f.row.input))
        else:
            f.keep_input(0)
        f.output(result)


class Flatten(LayerKind):
    type_name = "flatten"
    family = "flatten"
    summary = "flattens every axis into one vector"
    formulas = ("flatten_units",)
    options: dict[str, Option] = {}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        units, steps = _flattened(shape, "units", "units after flattening", "flatten_units")
        return self.row(layer, shape, (units,), steps=steps)

    keeps = Keeps(
        "nothing; its output is a view of its input, or a copy where the input's strides allow no view",
        "flattening only reorders; its backward pass reshapes the gradient",
    )

    def forward(self, f: Forward) -> None:
        flat, copied = lay.flatten(f.layouts[0])
        f.output(flat, view_of=None if copied else 0)


class ShapeKeeping(LayerKind):
    """Layers without parameters whose output has the input's shape."""

    def __init__(
        self,
        type_name: str,
        summary: str,
        options: dict[str, Option] | None = None,
        family: str = "activation",
        spatial: bool = False,
    ) -> None:
        self.type_name = type_name
        self.family = family
        self.summary = summary
        self.options = options or {}
        self.spatial = spatial  # PyTorch's module wants spatial axes (local response normalization)

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if self.spatial and len(shape) < 2:
            report(
                "type", f"expected an input with spatial axes and channels for {layer.type}, got {format_shape(shape)}"
            )
            return None
        return self.row(layer, shape, shape)

    @property
    def keeps(self) -> Keeps:  # type: ignore[override]
        if self.type_name == "dropout":
            return Keeps(
                "a mask: on the CPU a tensor of the input's type (the scaled kept positions), on a GPU one "
                "byte per element; nothing at rate 0, where the output is the input itself",
                "the gradient flows back only where the input was kept",
                ("saved_tensor_bytes", "saved_mask_bytes"),
            )
        if self.type_name == "lrn":
            return Keeps(
                "its input, the squares padded along the channels, the scaled sum and its power",
                "PyTorch computes it as a chain of tensor operations, and each keeps what its own backward pass needs",
                ("saved_tensor_bytes", "lrn_saved_bytes"),
            )
        if self.type_name in KEEPS_OUTPUT:
            return Keeps("its output", KEEPS_OUTPUT[self.type_name], ("saved_tensor_bytes",))
        return Keeps(
            "its input",
            "its derivative is a function of the input, which the backward pass evaluates again",
            ("saved_tensor_bytes",),
        )

    def forward(self, f: Forward) -> None:
        x = f.layouts[0]
        if self.type_name == "dropout":
            if f.layer.options["rate"] == 0:  # torch.dropout hands back its input
                f.output(x, view_of=0)
                return
            elements = f.row.figures["activations"]
            if f.ctx.training.device == "cuda":
                f.keep("mask (one byte per element)", "saved_mask_bytes", A=elements)
            else:
                f.keep("mask (scaled kept positions)", "saved_tensor_bytes", E=elements)
            f.output(lay.elementwise([x, lay.empty_like(x)]))
            return
        if self.type_name == "lrn":
            f.keep_input(0)
            c, n = f.row.input[-1], f.layer.options["size"]
            f.keep("padded squares, scaled sum and power", "lrn_saved_bytes", A=f.row.figures["activations"], C=c, K=n)
            f.output(lay.elementwise([x, lrn_divisor(x, n)]))
            return
        if self.type_name == "softmax":
            f.keep_output()
            f.output(lay.contiguous(x.sizes))
            return
        if self.type_name in KEEPS_OUTPUT:
            f.keep_output()
        else:
            f.keep_input(0)
        # hardtanh (ReLU6) writes into empty_like(input); the others let TensorIterator allocate
        f.output(lay.empty_like(x) if self.type_name == "relu6" else lay.elementwise([x]))


KEEPS_OUTPUT = {
    "relu": "the backward pass needs only where the output is positive",
    "sigmoid": "its derivative is s(1 - s), a function of the output s",
    "tanh": "its derivative is 1 - t², a function of the output t",
    "softmax": "its derivative is a function of the output alone",
}
"""The activations whose backward pass reads their output; every other one reads its input."""


def lrn_divisor(x: lay.Layout, size: int) -> lay.Layout:
    """The layout of F.local_response_norm's divisor: the squares, padded along the channels and
    averaged by a 2D (for 3D inputs) or 3D pool, then scaled, shifted and raised to a power."""
    squares = lay.elementwise([x, x])
    c = x.sizes[1]
    if x.dim == 3:
        wide = lay.unsqueeze(squares, 1)
        padded = pad_layout(wide, (wide.sizes[0], 1, c + size - 1, wide.sizes[3]))
        pooled = lay.squeeze(suggested(padded, wide.sizes), 1)
    else:
        rest = product(x.sizes[3:])
        wide = lay.view(squares, (x.sizes[0], 1, c, x.sizes[2], rest))
        assert wide is not None
        padded = pad_layout(wide, (x.sizes[0], 1, c + size - 1, x.sizes[2], rest))
        pooled = lay.squeeze(lay.contiguous(wide.sizes), 1)
        back = lay.view(pooled, x.sizes)
        assert back is not None
        pooled = back
    scaled = lay.elementwise([pooled], scalar=True)
    shifted = lay.elementwise([scaled], scalar=True)
    return lay.elementwise([shifted])


class Shuffle(LayerKind):
    """ShuffleNet's channel shuffle: the channels split into groups, then interleaved."""

    type_name = "shuffle"
    family = "shuffle"
    summary = "channel shuffle: the channels in groups, interleaved (ShuffleNet); no parameters"
    options = {"groups": Option(REQUIRED, integer(1), "number of groups; must divide the channels")}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        c, groups = shape[-1], layer.options["groups"]
        if len(shape) < 2:
            report(
                "type", f"expected an input with spatial axes and channels for {layer.type}, got {format_shape(shape)}"
            )
            return None
        if failed(
            report,
            unequal(c % groups, 0),
            "groups",
            "expected a divisor of the {c} channels, got {groups}",
            c=c,
            groups=groups,
        ):
            return None
        return self.row(layer, shape, shape)

    keeps = Keeps("nothing", "its backward pass shuffles the output's gradient back, by the groups alone")

    def forward(self, f: Forward) -> None:
        f.output(suggested(f.layouts[0], f.out_sizes))  # the CPU kernel writes the suggested format


ALIASES = {"channel_shuffle": "shuffle"}
"""Other names a file may give a layer type: ``channel_shuffle``, which import-onnx wrote first."""


class Scale(LayerKind):
    """A learned multiplier per channel, the same at every position: ConvNeXt's layer scale."""

    type_name = "scale"
    family = "scale"
    summary = "a learned multiplier per channel (ConvNeXt's layer scale); C weights"
    formulas = ("scale_weights",)
    options: dict[str, Option] = {}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        step = work("weights", "weights (one multiplier per channel)", "scale_weights", C=shape[-1])
        return self.row(layer, shape, shape, steps=[step], weights=step.result)

    keeps = Keeps(
        "its input",
        "the gradient of the multipliers is the output's gradient times the input, summed over the "
        "positions; the input's own gradient needs only the multipliers, which are parameters",
        ("saved_tensor_bytes",),
    )

    def forward(self, f: Forward) -> None:
        """``weight * x``, the weight of shape (C, 1, ...) first, as torchvision's ConvNeXt writes it."""
        x = f.layouts[0]
        weight = lay.contiguous((x.sizes[1], *(1,) * (len(x.sizes) - 2)))  # broadcast: one more axis
        f.keep_input(0)
        f.output(lay.elementwise([lay.Layout((1, *weight.sizes), (0, *weight.strides)), x], f.out_sizes))


class Slice(LayerKind):
    """Channels [start, stop) of the input, every position kept: ShuffleNetV2's split in two."""

    type_name = "slice"
    family = "slice"
    summary = "channels [start, stop) of the input (ShuffleNetV2's split); no parameters"
    formulas = ("slice_channels",)
    options = {
        "start": Option(0, integer(0), "the first channel kept, counting from 0"),
        "stop": Option(REQUIRED, integer(1), "the channel to stop before: channels start to stop - 1 are kept"),
    }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        c, start, stop = shape[-1], layer.options["start"], layer.options["stop"]
        if stop <= start:
            report("stop", f"expected a stop after start ({start}), got {stop}")
            return None
        if is_number(c) and stop > c:
            report("stop", f"expected at most the {c} channels of the input, got {stop}")
            return None
        step = work("channels", "channels kept", "slice_channels", C_s=start, C_e=stop)
        return self.row(layer, shape, (*shape[:-1], step.result), steps=[step])

    keeps = Keeps(
        "nothing; its output is a view of its input, which keeps the whole storage",
        "the backward pass places the output's gradient among zeros, by the sizes alone",
    )

    def forward(self, f: Forward) -> None:
        f.output(lay.resized(f.layouts[0], f.out_sizes), view_of=0)


class Merge(LayerKind):
    """Layers that join the outputs of two or more earlier layers, named in `from`."""

    sources = (2, None)
    options: dict[str, Option] = {}

    def broadcast(self, layer: LayerSpec, shapes: list[Shape], report: Report) -> tuple[Shape | None, list[Condition]]:
        """The joined shape under NumPy's broadcasting, in the file's channels-last order: equal
        ranks, and along each axis equal sizes or 1. Symbolic sizes that may differ become
        conditions."""
        output, conditions = tuple(shapes[0]), []
        for name, other in zip(layer.sources[1:], shapes[1:], strict=True):
            if len(other) != len(output):
                report(
                    "from",
                    f"expected inputs with the same number of axes, got {format_shape(shapes[0])} "
                    f"({layer.sources[0]}) and {format_shape(other)} ({name})",
                )
                return None, []
            joined = []
            for a, b in zip(output, other, strict=True):
                size = _broadcast_size(a, b)
                if failed(
                    report,
                    both(unequal(a, b), unequal(a, 1), unequal(b, 1)),
                    "from",
                    "expected inputs whose sizes are equal or 1 along each axis, got {first} ({a_name}) and "
                    "{other} ({b_name})",
                    first=tuple(shapes[0]),
                    a_name=layer.sources[0],
                    other=tuple(other),
                    b_name=name,
                ):
                    return None, []
                if not (a == b or a == 1 or b == 1) and getattr(report, "guard", None) is None:
                    from cnnmacros.symbolic import never_equal  # symbolic sizes have imported SymPy

                    if never_equal(a, b):
                        report(
                            "from",
                            f"expected inputs of sizes that can be equal, got {format_shape(shapes[0])} "
                            f"({layer.sources[0]}) and {format_shape(other)} ({name}): {a} and {b} differ "
                            "for every input size",
                        )
                        return None, []
                    conditions.append(Condition(f"equal sizes for {layer.type}", a, b))
                joined.append(size)
            output = tuple(joined)
        return output, conditions

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
                if failed(
                    report,
                    unequal(a, b),
                    "from",
                    "expected inputs of one {what}, got {first} ({a_name}) and {other} ({b_name})",
                    what="shape" if axes == slice(None) else "spatial size",
                    first=tuple(first),
                    a_name=layer.sources[0],
                    other=tuple(other),
                    b_name=name,
                ):
                    return None
                if is_number(a) and is_number(b) or a == b:
                    continue
                if getattr(report, "guard", None) is None:  # the plain engine states a condition
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


def _broadcast_size(a: Size, b: Size) -> Size | None:
    """NumPy's rule for one axis: equal sizes, or 1 against any size; None when numbers differ."""
    if a == b or b == 1:
        return a
    if a == 1:
        return b
    if is_number(a) and is_number(b):
        return None
    return a  # symbolic sizes that may differ: a condition says they must be equal


class Elementwise(Merge):
    """Joins value by value (sum, product), NumPy's broadcasting over axes of size 1."""

    def compute_inputs(self, layer: LayerSpec, shapes: list[Shape], report: Report) -> Row | None:
        output, conditions = self.broadcast(layer, shapes, report)
        if output is None:
            return None
        return self.row(layer, shapes[0], output, conditions=conditions, facts=_broadcast_facts(shapes, output))

    def forward(self, f: Forward) -> None:
        """``out = xs[0]``, then ``out = out + x`` (or ``*``) for each further input: temporaries
        between the steps; a product keeps each factor that the other's gradient needs."""
        out, grad, shape = f.inputs[0].layout, f.inputs[0].grad, f.shapes[0]
        for index, (other, other_shape) in enumerate(zip(f.inputs[1:], f.shapes[1:], strict=True), start=1):
            if self.family == "multiply":
                if grad:
                    f.keep_input(index)
                if other.grad:
                    if index == 1:
                        f.keep_input(0)
                    else:
                        f.keep("partial product", "saved_tensor_bytes", E=product(shape))
            sizes = tuple(max(a, b) for a, b in zip(out.sizes, other.layout.sizes, strict=True))
            out, grad = lay.elementwise([out, other.layout], sizes), grad or other.grad
            shape = tuple(_broadcast_size(a, b) for a, b in zip(shape, other_shape, strict=True))
        f.output(out)


class Add(Elementwise):
    type_name = "add"
    family = "add"
    summary = "elementwise sum of the layers named in `from` (a residual connection), an axis of size 1 broadcasting"
    keeps = Keeps("nothing", "the gradient of a sum is the output's gradient, unchanged, for every input")


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

    keeps = Keeps("nothing", "the backward pass slices the output's gradient along the channels")

    def forward(self, f: Forward) -> None:
        formats = {lay.suggest_memory_format(t) for t in f.layouts}  # torch.cat's output format
        f.output(lay.in_format(f.out_sizes, formats.pop() if len(formats) == 1 else lay.CONTIGUOUS))


class GlobalPool(LayerKind):
    """One window over every spatial axis: average or max of each channel."""

    def __init__(self, mode: str) -> None:
        self.type_name = f"global{mode}pool"
        self.family = f"global{mode}pool"
        self.summary = f"global {'average' if mode == 'avg' else 'max'} pooling over every spatial axis, any rank"
        self.options = {"keepdims": Option(False, boolean(), "keep the pooled axes, each of size 1")}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        rank = len(shape) - 1
        if rank < 1:
            report(
                "type", f"expected an input with spatial axes and channels for {layer.type}, got {format_shape(shape)}"
            )
            return None
        if not layer.options["keepdims"]:
            return self.row(layer, shape, (shape[-1],))
        step = work("output_size", f"output size along {' and '.join(AXES[rank])}", "global_pool_output_size")
        window = Window(tuple(shape[:-1]), tuple(shape[:-1]), (1,) * rank, (0,) * rank)
        return self.row(layer, shape, (*(step.result,) * rank, shape[-1]), steps=[step], facts={"window": window})

    @property
    def keeps(self) -> Keeps:  # type: ignore[override]
        if self.family == "globalavgpool":
            return Keeps(
                "nothing",
                "PyTorch's adaptive average pooling to 1 is a mean, whose backward pass needs only the input's shape",
            )
        return Keeps(
            "its input and the index of each channel's maximum, as int64",
            "the gradient flows back to the one input that was the maximum",
            ("saved_tensor_bytes", "saved_index_bytes"),
        )

    def forward(self, f: Forward) -> None:
        x = f.layouts[0]
        pooled = (*x.sizes[:2], *(1,) * (x.dim - 2))
        if self.family == "globalavgpool":
            out = mean_layout(x, pooled)
        else:
            f.keep_input(0)
            f.keep("indices of the maxima (int64)", "saved_index_bytes", A=f.row.input[-1])
            out = pool_layout(f, "adaptive_max", x.dim - 2, pooled)
        f.output(out if f.layer.options["keepdims"] else lay.flatten(out)[0])


class AdaptivePool(Spatial):
    """PyTorch's adaptive pooling: the output size is given, and the windows follow from it."""

    def __init__(self, mode: str, rank: int) -> None:
        self.rank = rank
        self.type_name = f"adaptive{mode}pool{rank}d"
        self.family = f"adaptive{mode}pool"
        self.summary = f"{rank}D adaptive {'average' if mode == 'avg' else 'max'} pooling to a given output size"
        self.options = {
            "output": Option(REQUIRED, per_axis(1, rank), "output size, one for every axis or one per axis")
        }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if not self.spatial_input(shape, report):
            return None
        output = _axes(layer.options["output"], self.rank)
        facts: dict[str, Any] = {"no_field": True}
        # Windows of one size exactly when each output size divides its input: then they tile it.
        sizes = shape[:-1]
        if (all(is_number(i) for i in sizes) or hasattr(report, "decide")) and all(
            decide(report, _divides(o, i)) for i, o in zip(sizes, output, strict=True)
        ):
            kernel = tuple(i // o for i, o in zip(shape[:-1], output, strict=True))
            facts = {"window": Window(kernel, kernel, (1,) * self.rank, (0,) * self.rank)}
        return self.row(layer, shape, (*output, shape[-1]), facts=facts)

    @property
    def keeps(self) -> Keeps:  # type: ignore[override]
        if self.family == "adaptiveavgpool":
            return Keeps(
                "its input; nothing for an output of size 1, which PyTorch computes as a mean",
                "the backward pass needs only the input's shape, but PyTorch's adaptive_avg_pool saves the input",
                ("saved_tensor_bytes",),
            )
        return Keeps(
            "its input and the index of each maximum, as int64",
            "the gradient flows back to the one input that was the maximum of each window",
            ("saved_tensor_bytes", "saved_index_bytes"),
        )

    def forward(self, f: Forward) -> None:
        if self.family == "adaptiveavgpool":
            if all(v == 1 for v in f.row.output[:-1]):
                f.output(mean_layout(f.layouts[0], f.out_sizes))
                return
            f.keep_input(0)
            f.output(pool_layout(f, "adaptive_avg", self.rank))
            return
        f.keep_input(0)
        f.keep("indices of the maxima (int64)", "saved_index_bytes", A=f.row.figures["activations"])
        f.output(pool_layout(f, "adaptive_max", self.rank))


class ConvTranspose(Spatial):
    """A transposed convolution: each input position spreads a kernel over the output."""

    family = "convtranspose"

    def __init__(self, rank: int) -> None:
        self.rank = rank
        self.type_name = f"convtranspose{rank}d"
        self.summary = f"{rank}D transposed convolution (upsamples by its stride)"
        self.options = {
            "filters": Option(REQUIRED, integer(1), "number of output channels"),
            "kernel": Option(REQUIRED, per_axis(1, rank), "kernel size, one for every axis or one per axis"),
            "stride": Option(1, per_axis(1, rank), "stride"),
            "padding": Option(0, per_axis(0, rank), "outputs removed from each end"),
            "output_padding": Option(0, per_axis(0, rank), "outputs added after the last one"),
            "dilation": Option(1, per_axis(1, rank), "spacing between kernel taps"),
            "groups": Option(1, integer(1), "channel groups; must divide input and output channels"),
            "bias": Option(True, boolean(), "whether each kernel has a bias"),
        }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if not self.spatial_input(shape, report):
            return None
        o, rank = layer.options, self.rank
        c_in, filters, groups = shape[-1], o["filters"], o["groups"]
        kernel, stride, padding, extra, dilation = (
            _axes(o[k], rank) for k in ("kernel", "stride", "padding", "output_padding", "dilation")
        )
        check_groups(c_in, filters, groups, report)
        for p_o, st, d in zip(extra, stride, dilation, strict=True):
            if p_o >= st and p_o >= d:
                report(
                    "output_padding",
                    f"expected less than the stride ({st}) or the dilation ({d}), as PyTorch requires, got {p_o}",
                )
                return None
        entries = [
            ("convtranspose_output_size", {"I": i, "K": k, "S": st, "P": p, "D": d, "P_o": p_o})
            for i, k, st, p, d, p_o in zip(shape[:-1], kernel, stride, padding, dilation, extra, strict=True)
        ]
        steps, out = per_axis_steps("output_size", "output size", AXES[rank], entries)
        for axis, size in zip(AXES[rank], out, strict=True):
            if failed(
                report,
                below(size, 1),
                "padding",
                "expected padding that leaves an output along {axis}, got an output of {size}",
                axis=axis,
                size=size,
            ):
                return None
        cvalues = {**dict(zip(KERNEL_SYMBOLS[rank], kernel, strict=True)), "C_in": c_in, "G": groups, "C_out": filters}
        weights = work("weights", "weights", f"conv{rank}d_weights", **cvalues)
        steps.append(weights)
        biases: Size = 0
        if o["bias"]:
            steps.append(work("biases", "biases", "conv_biases", C_out=filters))
            biases = steps[-1].result
            steps.append(work("params", "parameters", f"conv{rank}d_params", **cvalues))
        facts = {"no_field": True, "C_in": c_in, "C_out": filters, "G": groups, "bias": o["bias"], "kernel": kernel}
        return self.row(layer, shape, (*out, filters), steps=steps, facts=facts, weights=weights.result, biases=biases)

    keeps = Keeps(
        "its input; on the CPU a 3D one whose output padding is as large as its stride writes its output "
        "into a storage as large as its input (PyTorch's slow kernel)",
        "the gradient of the weights is the input correlated with the output's gradient",
        ("saved_tensor_bytes",),
    )

    def forward(self, f: Forward) -> None:
        f.keep_input(0)
        layout = convolution_layout(f.layouts[0], f.out_sizes)
        o = f.layer.options
        big = any(p >= st for p, st in zip(_axes(o["output_padding"], self.rank), _axes(o["stride"], self.rank)))
        if self.rank == 3 and big and f.ctx.training.device == "cpu":
            # oneDNN takes no output padding as large as the stride: PyTorch's slow 3D kernel writes
            # into empty_like(input), resized to the output, so the storage holds the larger of the two
            larger = sympy_max(product(f.row.input), f.row.figures["activations"])
            f.output(layout, storage=(larger, "a storage as large as the input's: PyTorch's slow CPU kernel"))
            return
        f.output(layout)


UPSAMPLE_MODES = {"nearest": (1, 2, 3), "linear": (1,), "bilinear": (2,), "bicubic": (2,), "trilinear": (3,)}


class Upsample(LayerKind):
    type_name = "upsample"
    family = "upsample"
    summary = "upsampling by a scale or to a size, any rank; no parameters"
    options = {
        "scale": Option(None, sizes(), "scale, one for every axis or one per axis (or give size)"),
        "size": Option(None, sizes(), "output size, one per axis (or give scale)"),
        "mode": Option("nearest", choice(tuple(UPSAMPLE_MODES)), "interpolation, as PyTorch names it"),
    }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        o, rank = layer.options, len(shape) - 1
        if rank < 1:
            report("type", f"expected an input with spatial axes and channels for upsample, got {format_shape(shape)}")
            return None
        if (o["scale"] is None) == (o["size"] is None):
            report("scale", f"expected exactly one of scale and size, got {'both' if o['scale'] else 'neither'}")
            return None
        if rank not in UPSAMPLE_MODES[o["mode"]]:
            ranks = " or ".join(f"{r}D" for r in UPSAMPLE_MODES[o["mode"]])
            report("mode", f"expected a mode for {rank}D inputs, as PyTorch requires ({o['mode']!r} is for {ranks})")
            return None
        key = "scale" if o["scale"] is not None else "size"
        values = o[key]
        if isinstance(values, tuple) and len(values) != rank:
            report(key, f"expected one value or {rank}, one per spatial axis, got {len(values)}")
            return None
        values = _axes(values, rank)
        if key == "size":
            return self.row(layer, shape, (*values, shape[-1]), facts={"no_field": True})
        entries = [("upsample_output_size", {"I": i, "S_u": v}) for i, v in zip(shape[:-1], values, strict=True)]
        steps, out = per_axis_steps("output_size", "output size", AXES[rank], entries)
        return self.row(layer, shape, (*out, shape[-1]), steps=steps, facts={"no_field": True})

    keeps = Keeps("nothing", "the backward pass of interpolation needs only the sizes and the scale")

    def forward(self, f: Forward) -> None:
        if len(f.row.output) == 2:  # 1D interpolation writes a contiguous output
            f.output(lay.contiguous(f.out_sizes))
        else:
            f.output(suggested(f.layouts[0], f.out_sizes))


class Multiply(Elementwise):
    type_name = "multiply"
    family = "multiply"
    summary = "elementwise product of the layers named in `from`, an axis of size 1 broadcasting; no parameters"
    keeps = Keeps(
        "each input whose partner needs a gradient (and, past two inputs, the partial products)",
        "the gradient for one factor is the output's gradient times the other factor",
        ("saved_tensor_bytes",),
    )


def _broadcast_facts(shapes: list[Shape], output: Shape) -> dict[str, Any]:
    """A join that broadcasts one input over the positions of another has no single receptive
    field per position (broadcasting the channels changes nothing there)."""
    return {"no_field": True} if any(tuple(s[:-1]) != tuple(output[:-1]) for s in shapes) else {}


class Norm(LayerKind):
    """Layer, group and instance normalization: gamma and beta per channel when affine."""

    def __init__(self, type_name: str, summary: str, options: dict[str, Option], spatial: bool = False) -> None:
        self.type_name = self.family = type_name
        self.summary = summary
        self.options = options
        self.spatial = spatial

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        o, c = layer.options, shape[-1]
        if self.spatial and len(shape) < 2:
            report(
                "type", f"expected an input with spatial axes and channels for {layer.type}, got {format_shape(shape)}"
            )
            return None
        if "groups" in o and failed(
            report,
            unequal(c % o["groups"], 0),
            "groups",
            "expected a divisor of the {c} channels, got {groups}",
            c=c,
            groups=o["groups"],
        ):
            return None
        # PyTorch computes statistics only over more than one value: per group, or per channel
        # over the positions for instance normalization without running statistics
        values = product(shape[:-1]) * (c // o["groups"] if "groups" in o else 1)
        if (self.type_name == "groupnorm" or not o.get("track_running_stats", True)) and failed(
            report,
            below(values, 2),
            "type",
            "expected more than one value in each {where} for {type}, as PyTorch requires, got 1",
            where="group" if "groups" in o else "channel",
            type=layer.type,
        ):
            return None
        steps, figures = norm_steps(c, o.get("affine", True), o.get("track_running_stats", False))
        facts = {"counter": o.get("track_running_stats", False)}  # num_batches_tracked, an int64 buffer
        return self.row(layer, shape, shape, steps=steps, facts=facts, **figures)

    @property
    def keeps(self) -> Keeps:  # type: ignore[override]
        if self.type_name == "layernorm":
            return Keeps(
                "its input, and a mean and an inverse standard deviation per position",
                "the backward pass normalizes the input again with its statistics",
                ("saved_tensor_bytes", "layernorm_saved_bytes"),
            )
        if self.type_name == "groupnorm":
            return Keeps(
                "its input (a copy where its layout is not the one it suggests), and a mean and an "
                "inverse standard deviation per group",
                "the backward pass normalizes the input again with its statistics",
                ("saved_tensor_bytes", "groupnorm_saved_bytes"),
            )
        return Keeps(
            "its input (a contiguous copy where it is not contiguous), a mean and an inverse standard "
            "deviation per channel of every example, and the per-channel tensors it repeats",
            "PyTorch's instance_norm is batch norm on the batch seen as one example of B x C "
            "channels, and batch norm keeps its input, its weight and running statistics",
            ("saved_tensor_bytes", "instancenorm_saved_bytes"),
        )

    def forward(self, f: Forward) -> None:
        o, x, c = f.layer.options, f.layouts[0], f.row.input[-1]
        elements = f.row.figures["activations"]
        if self.type_name == "layernorm":  # on x.movedim(1, -1) when there are positions
            f.keep_input(0)
            f.keep("mean and inverse standard deviation per position", "layernorm_saved_bytes", A=elements, C=c)
            if x.dim == 2:
                f.output(lay.contiguous(x.sizes))
            else:
                moved = lay.movedim(x, 1, -1)
                f.output(lay.movedim(lay.contiguous(moved.sizes), -1, 1))
            return
        if self.type_name == "groupnorm":
            wanted = lay.suggest_memory_format(x)
            x, copied = lay.make_contiguous(x, wanted)
            self._input(f, copied, elements)
            f.keep("mean and inverse standard deviation per group", "groupnorm_saved_bytes", G=o["groups"])
            f.output(suggested(x, x.sizes))
            return
        x, copied = lay.make_contiguous(x)
        self._input(f, copied, elements)
        repeated = int(o["affine"]) + 2 * int(o["track_running_stats"])
        f.keep(
            "statistics per channel of every example, and the repeated per-channel tensors",
            "instancenorm_saved_bytes",
            N_r=repeated,
            C=c,
        )
        joined = lay.view(x, (1, x.sizes[0] * x.sizes[1], *x.sizes[2:]))
        assert joined is not None  # a view of a contiguous tensor
        back = lay.view(suggested(joined, joined.sizes), x.sizes)
        f.output(back if back is not None else lay.contiguous(x.sizes))

    @staticmethod
    def _input(f: Forward, copied: bool, elements: Size) -> None:
        if copied:
            f.keep("contiguous copy of the input", "saved_tensor_bytes", E=elements)
        else:
            f.keep_input(0)


class PReLU(LayerKind):
    type_name = "prelu"
    family = "activation"
    summary = "leaky ReLU with learned slopes: one shared (PyTorch's default), or one per channel"
    options = {"shared": Option(True, boolean(), "one slope for all channels")}

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if layer.options["shared"]:
            return self.row(layer, shape, shape, weights=1)
        step = work("weights", "weights (one slope per channel)", "prelu_weights", C=shape[-1])
        return self.row(layer, shape, shape, steps=[step], weights=step.result)

    keeps = Keeps(
        "its input",
        "the gradients of the input and of the slopes both depend on the sign of the input",
        ("saved_tensor_bytes",),
    )

    def forward(self, f: Forward) -> None:
        f.keep_input(0)
        x = f.layouts[0]
        if f.layer.options["shared"] or x.dim < 2:
            weight = lay.Layout((1,), (1,))
        else:  # the slopes reshaped to (C, 1, ..., 1)
            weight = lay.contiguous((x.sizes[1], *(1,) * (x.dim - 2)))
        f.output(lay.elementwise([x, weight], x.sizes))


class Pad(Spatial):
    """Zero padding and cropping: positions added to, or removed from, both ends of each axis."""

    def __init__(self, kind: str, rank: int) -> None:
        self.rank, self.kind = rank, kind
        self.type_name = f"{kind}{rank}d"
        self.family = kind
        self.key = "padding" if kind == "zeropad" else "crop"
        words = "zeros added" if kind == "zeropad" else "positions removed"
        self.summary = f"{rank}D {'zero padding' if kind == 'zeropad' else 'crop'}: {words} at both ends of each axis"
        self.options = {
            self.key: Option(REQUIRED, pairs(rank), f"{words}: one for all, one per axis, or [before, after] per axis")
        }

    def compute(self, layer: LayerSpec, shape: Shape, report: Report) -> Row | None:
        if not self.spatial_input(shape, report):
            return None
        ends = layer.options[self.key]
        if self.kind == "zeropad":
            formula, names = "pad_output_size", ("P_b", "P_a")
        else:
            formula, names = "crop_output_size", ("V_b", "V_a")
        entries = [(formula, {"I": i, names[0]: b, names[1]: a}) for i, (b, a) in zip(shape[:-1], ends, strict=True)]
        steps, out = per_axis_steps("output_size", "output size", AXES[self.rank], entries)
        for axis, size, i, (b, a) in zip(AXES[self.rank], out, shape[:-1], ends, strict=True):
            if failed(
                report,
                below(size, 1),
                self.key,
                "expected a crop that leaves positions along {axis} ({i} - {b} - {a} = {size})",
                axis=axis,
                i=i,
                b=b,
                a=a,
                size=size,
            ):
                return None
        sign = 1 if self.kind == "zeropad" else -1  # a crop moves the first position into the input
        window = Window((1,) * self.rank, (1,) * self.rank, (1,) * self.rank, tuple(sign * b for b, _ in ends))
        return self.row(layer, shape, (*out, shape[-1]), steps=steps, facts={"window": window})

    @property
    def keeps(self) -> Keeps:  # type: ignore[override]
        if self.kind == "zeropad":
            return Keeps("nothing", "the backward pass cuts the padding off the output's gradient")
        return Keeps(
            "nothing; its output is a view of its input, which keeps the whole uncropped storage",
            "the backward pass pads the output's gradient back to the input's size",
        )

    def forward(self, f: Forward) -> None:
        if self.kind == "zeropad":
            f.output(pad_layout(f.layouts[0], f.out_sizes))
        else:
            f.output(lay.resized(f.layouts[0], f.out_sizes), view_of=0)


def _divides(divisor: int, size: Size) -> Any:
    """Whether ``divisor`` divides ``size``: a bool for a number, SymPy's condition for a symbol."""
    if is_number(size):
        return size % divisor == 0
    import sympy

    return sympy.Eq(size % divisor, 0)


def _axes(value: Any, rank: int) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else (value,) * rank


def _show(values: tuple[Any, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "[" + ", ".join(map(str, values)) + "]"


for _rank in (1, 2, 3):
    register(Conv(_rank))
for _mode in ("max", "avg"):
    for _rank in (1, 2, 3):
        register(Pool(_mode, _rank))
for _mode in ("avg", "max"):
    register(GlobalPool(_mode))
    for _rank in (1, 2, 3):
        register(AdaptivePool(_mode, _rank))
for _rank in (1, 2, 3):
    register(ConvTranspose(_rank))
    register(Pad("zeropad", _rank))
    register(Pad("crop", _rank))
register(Upsample())
register(Multiply())
register(PReLU())
register(
    Norm(
        "layernorm",
        "layer normalization over the channel axis (the last one), any rank",
        {"affine": Option(True, boolean(), "whether it learns a scale and a shift per channel")},
    )
)
register(
    Norm(
        "groupnorm",
        "group normalization: the channels in groups, any rank",
        {
            "groups": Option(REQUIRED, integer(1), "number of groups; must divide the channels"),
            "affine": Option(True, boolean(), "whether it learns a scale and a shift per channel"),
        },
    )
)
register(
    Norm(
        "instancenorm",
        "instance normalization: each channel over the spatial axes, any spatial rank",
        {
            "affine": Option(False, boolean(), "whether it learns a scale and a shift per channel"),
            "track_running_stats": Option(False, boolean(), "whether it keeps a running mean and variance"),
        },
        spatial=True,
    )
)
register(BatchNorm())
register(Dense())
register(Add())
register(Concat())
register(Flatten())
register(Shuffle())
register(Scale())
register(Slice())
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
        spatial=True,
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
    "hardswish": "hard swish",
    "hardsigmoid": "hard sigmoid",
    "mish": "mish",
}.items():
    options = {"negative_slope": Option(0.01, number(), "slope for negative inputs")} if _name == "leaky_relu" else {}
    register(ShapeKeeping(_name, f"{_words}; no parameters", options))
