"""A translator from an architecture file to PyTorch modules: the independent oracle.

One generic translation per layer type; no hand-written model per architecture. Each module is
built from the live PyTorch tensor that reaches it (its channels, its flattened size), never from
the engine's figures, so PyTorch's answers do not depend on the code under test.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from cnnmacros.architecture import Architecture, LayerSpec

REPORT: Counter[str] = Counter()
"""What the oracle checked in this run; printed at the end of the test session."""

_ACTIVATIONS = {
    "relu": lambda o: nn.ReLU(),
    "relu6": lambda o: nn.ReLU6(),
    "leaky_relu": lambda o: nn.LeakyReLU(o["negative_slope"]),
    "elu": lambda o: nn.ELU(),
    "selu": lambda o: nn.SELU(),
    "gelu": lambda o: nn.GELU(),
    "silu": lambda o: nn.SiLU(),
    "sigmoid": lambda o: nn.Sigmoid(),
    "tanh": lambda o: nn.Tanh(),
    "softmax": lambda o: nn.Softmax(dim=1),
    "hardswish": lambda o: nn.Hardswish(),
    "hardsigmoid": lambda o: nn.Hardsigmoid(),
    "mish": lambda o: nn.Mish(),
    "prelu": lambda o: nn.PReLU(),  # a per-channel PReLU is built from the tensor, below
}


class KerasSame(nn.Module):
    """TensorFlow's and Keras' 'same' with a stride: F.pad, the smaller half before, then the
    convolution without padding. The padding is worked out here from the live tensor, by the rule
    TensorFlow documents: total = max((ceil(I/S) - 1) * S + D * (K - 1) + 1 - I, 0)."""

    def __init__(self, conv: nn.Module, kernel: tuple, stride: tuple, dilation: tuple) -> None:
        super().__init__()
        self.conv, self.kernel, self.stride, self.dilation = conv, kernel, stride, dilation

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pads: list[int] = []
        for size, k, s, d in zip(x.shape[2:], self.kernel, self.stride, self.dilation, strict=True):
            outputs = -(-size // s)
            total = max((outputs - 1) * s + d * (k - 1) + 1 - size, 0)
            pads = [total // 2, total - total // 2, *pads]  # F.pad lists the last axis first
        return self.conv(torch.nn.functional.pad(x, pads))


class ChannelsLast(nn.Module):
    """A module that works on the last axis (nn.Linear, nn.LayerNorm) applied to the channels of a
    channels-first tensor, as the standard model's forward moves them."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x.movedim(1, -1)).movedim(-1, 1) if x.dim() > 2 else self.inner(x)


class Crop(nn.Module):
    """Slicing in forward: ``crop`` is (before, after) per spatial axis."""

    def __init__(self, crop: tuple) -> None:
        super().__init__()
        self.crop = crop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        index = [slice(None), slice(None)]
        for size, (before, after) in zip(x.shape[2:], self.crop, strict=True):
            if before + after >= size:
                raise RuntimeError(f"a crop of {before} + {after} leaves nothing of {size}")
            index.append(slice(before, size - after))
        return x[tuple(index)]


class GlobalPool(nn.Module):
    """nn.AdaptiveAvgPool/MaxPool to 1, then torch.flatten(x, 1) unless the axes are kept."""

    def __init__(self, pool: nn.Module, keepdims: bool) -> None:
        super().__init__()
        self.pool, self.keepdims = pool, keepdims

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pool(x)
        return y if self.keepdims else torch.flatten(y, 1)


class Scale(nn.Module):
    """ConvNeXt's layer scale: a learned multiplier per channel, broadcast over the positions."""

    def __init__(self, channels: int, dim: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels, *([1] * (dim - 2))))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.weight * x


class Narrow(nn.Module):
    """Channels [start, stop): ``torch.narrow``, which refuses a range outside the tensor."""

    def __init__(self, start: int, stop: int) -> None:
        super().__init__()
        self.start, self.stop = start, stop

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.narrow(x, 1, self.start, self.stop - self.start)


def _per_axis(value: Any, rank: int) -> Any:
    return tuple(value) if isinstance(value, tuple) else (value,) * rank if isinstance(value, int) else value


def module_for(layer: LayerSpec, x: torch.Tensor) -> nn.Module | None:
    """The PyTorch module for one layer of the file's standard model, given the (channels-first,
    batched) tensor it receives (the first one, for a layer that joins several); None for the
    layers the model's ``forward`` does itself (add, concat)."""
    o, kind = layer.options, layer.type
    if kind in ("add", "concat", "multiply"):
        return None
    channels = x.shape[1]
    if kind.startswith("convtranspose"):
        rank = int(kind[-2])
        cls = {1: nn.ConvTranspose1d, 2: nn.ConvTranspose2d, 3: nn.ConvTranspose3d}[rank]
        return cls(
            channels,
            o["filters"],
            _per_axis(o["kernel"], rank),
            stride=_per_axis(o["stride"], rank),
            padding=_per_axis(o["padding"], rank),
            output_padding=_per_axis(o["output_padding"], rank),
            groups=o["groups"],
            bias=o["bias"],
            dilation=_per_axis(o["dilation"], rank),
        )
    if (
        kind.startswith("conv")
        and o["padding"] == "same"
        and _per_axis(o["stride"], int(kind[4])) != (1,) * int(kind[4])
    ):
        rank = int(kind[4])
        conv = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[rank](
            channels,
            o["filters"],
            _per_axis(o["kernel"], rank),
            stride=_per_axis(o["stride"], rank),
            dilation=_per_axis(o["dilation"], rank),
            groups=o["groups"],
            bias=o["bias"],
        )
        return KerasSame(
            conv, _per_axis(o["kernel"], rank), _per_axis(o["stride"], rank), _per_axis(o["dilation"], rank)
        )
    if kind.startswith("conv"):
        rank = int(kind[4])
        cls = {1: nn.Conv1d, 2: nn.Conv2d, 3: nn.Conv3d}[rank]
        padding = o["padding"] if isinstance(o["padding"], str) else _per_axis(o["padding"], rank)
        return cls(
            channels,
            o["filters"],
            _per_axis(o["kernel"], rank),
            stride=_per_axis(o["stride"], rank),
            padding=padding,
            dilation=_per_axis(o["dilation"], rank),
            groups=o["groups"],
            bias=o["bias"],
        )
    if kind.startswith("global"):
        rank = x.dim() - 2
        if rank < 1:
            raise ValueError("a global pool needs spatial axes")
        pools = {"avg": (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)}
        pools["max"] = (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
        return GlobalPool(pools[kind[6:9]][rank - 1](1), o["keepdims"])
    if kind.startswith("adaptive"):
        rank = int(kind[-2])
        cls = {
            "avg": {1: nn.AdaptiveAvgPool1d, 2: nn.AdaptiveAvgPool2d, 3: nn.AdaptiveAvgPool3d},
            "max": {1: nn.AdaptiveMaxPool1d, 2: nn.AdaptiveMaxPool2d, 3: nn.AdaptiveMaxPool3d},
        }[kind[8:11]][rank]
        return cls(_per_axis(o["output"], rank))
    if kind.startswith("zeropad"):
        rank = int(kind[-2])
        pads = [p for before, after in reversed(o["padding"]) for p in (before, after)]
        return {1: nn.ZeroPad1d, 2: nn.ZeroPad2d, 3: nn.ZeroPad3d}[rank](tuple(pads))
    if kind.startswith("crop"):
        return Crop(o["crop"])
    if kind == "upsample":
        if o["size"] is not None:
            return nn.Upsample(size=o["size"], mode=o["mode"])
        scale = o["scale"]
        return nn.Upsample(
            scale_factor=tuple(float(v) for v in scale) if isinstance(scale, tuple) else float(scale), mode=o["mode"]
        )
    if kind == "layernorm":
        return ChannelsLast(nn.LayerNorm(channels, elementwise_affine=o["affine"]))
    if kind == "groupnorm":
        return nn.GroupNorm(o["groups"], channels, affine=o["affine"])
    if kind == "instancenorm":
        rank = x.dim() - 2
        if rank < 1:  # PyTorch would read (N, C) as one unbatched example of C channels
            raise RuntimeError("instance normalization needs spatial axes beside the batch")
        cls = {1: nn.InstanceNorm1d, 2: nn.InstanceNorm2d, 3: nn.InstanceNorm3d}[rank]
        return cls(channels, affine=o["affine"], track_running_stats=o["track_running_stats"]).eval()
    if kind == "prelu" and not o["shared"]:
        return nn.PReLU(num_parameters=channels)
    if "pool" in kind:
        rank = int(kind[-2])
        cls = {
            "max": {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d},
            "avg": {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d},
        }[kind[:3]][rank]
        pool = _per_axis(o["pool"], rank)
        stride = pool if o["stride"] is None else _per_axis(o["stride"], rank)
        more = {"count_include_pad": o["count_include_pad"]} if kind.startswith("avg") else {}
        return cls(pool, stride=stride, padding=_per_axis(o["padding"], rank), ceil_mode=o["ceil_mode"], **more)
    if kind == "batchnorm":
        cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[x.dim()]
        return cls(channels, affine=o["affine"], track_running_stats=o["track_running_stats"]).eval()
    if kind == "dense" and not o["flatten"] and x.dim() > 2:
        return ChannelsLast(nn.Linear(channels, o["units"], bias=o["bias"]))
    if kind == "dense":
        return nn.Linear(x[0].numel(), o["units"], bias=o["bias"])
    if kind == "flatten":
        return nn.Flatten()
    if kind == "shuffle":
        return nn.ChannelShuffle(o["groups"])
    if kind == "scale":
        return Scale(channels, x.dim())
    if kind == "slice":
        return Narrow(o["start"], o["stop"])
    if kind == "dropout":
        return nn.Dropout(o["rate"]).eval()
    if kind == "lrn":
        return nn.LocalResponseNorm(o["size"], alpha=o["alpha"], beta=o["beta"], k=o["k"])
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind](o)
    raise NotImplementedError(f"the oracle has no translation for layer type {kind!r}: add one in tests/oracle.py")


def apply(layer: LayerSpec, module: nn.Module | None, xs: list[torch.Tensor]) -> torch.Tensor:
    """One layer's step of the standard model's ``forward``: ``out + x`` for add, ``torch.cat`` on the
    channels for concat, ``torch.flatten(x, 1)`` before a dense layer on a multi-axis input."""
    rank = layer.type[-2] if layer.type.endswith("d") and layer.type[-2].isdigit() else None
    if rank is not None and xs[0].dim() != int(rank) + 2:
        # PyTorch would read a tensor without its spatial axes as an unbatched example; the
        # standard model always has its batch axis, so that is not the file's network
        raise RuntimeError(f"{layer.type} needs {int(rank) + 2} axes with the batch, got {xs[0].dim()}")
    if layer.type in ("add", "multiply"):
        out = xs[0]
        for x in xs[1:]:
            if x.dim() != out.dim():  # `+` would also broadcast over a missing axis; files join equal ranks
                raise RuntimeError(f"{layer.type} of ranks {out.dim()} and {x.dim()}")
            out = out + x if layer.type == "add" else out * x
        return out
    if layer.type == "concat":
        return torch.cat(xs, dim=1)
    if layer.type == "dense" and xs[0].dim() > 2 and layer.options["flatten"]:
        return module(torch.flatten(xs[0], 1))
    return module(xs[0])


@dataclass
class TorchRow:
    name: str
    output: tuple[int, ...]  # channels last, as the engine writes shapes
    weights: int  # parameters PyTorch names ``weight`` (batch norm's gamma too)
    biases: int  # parameters PyTorch names ``bias`` (batch norm's beta too)
    non_trainable: int
    flops: int  # FlopCounterMode's count for the layer's step

    @property
    def params(self) -> int:
        return self.weights + self.biases


class TorchLayerError(Exception):
    """PyTorch refused the layer at ``index``: building its module or running it raised ``cause``."""

    def __init__(self, index: int, name: str, cause: Exception) -> None:
        super().__init__(f"layers[{index}] ({name}): {type(cause).__name__}: {cause}")
        self.index = index
        self.cause = cause


def _count(module: nn.Module, suffix: str) -> int:
    return sum(p.numel() for n, p in module.named_parameters() if n.rsplit(".", 1)[-1] == suffix)


def channels_last(shape: torch.Size) -> tuple[int, ...]:
    dims = tuple(shape[1:])
    return dims if len(dims) == 1 else (*dims[1:], dims[0])


def _zeros(architecture: Architecture) -> torch.Tensor:
    shape = tuple(int(v) for v in architecture.input)
    return torch.zeros(1, shape[-1], *shape[:-1]) if len(shape) > 1 else torch.zeros(1, shape[0])


def run(architecture: Architecture) -> list[TorchRow]:
    """A forward pass on a zero tensor, layer by layer; a layer PyTorch refuses raises ``TorchLayerError``."""
    from torch.utils.flop_counter import FlopCounterMode

    x = _zeros(architecture)
    outputs = {"input": x}
    rows = []
    with torch.no_grad():
        for layer in architecture.layers:
            xs = [outputs[name] for name in layer.sources] or [x]
            counter = FlopCounterMode(display=False)
            try:
                module = module_for(layer, xs[0])
                if module is not None:
                    module.eval()
                with counter:
                    x = outputs[layer.name] = apply(layer, module, xs)
                if x.numel() == 0:  # a transposed convolution gives an empty tensor where a convolution raises
                    raise RuntimeError(f"an empty output {tuple(x.shape)}")
            except (RuntimeError, ValueError, IndexError) as exc:  # narrow refuses a start past the end with IndexError
                raise TorchLayerError(layer.index, layer.name, exc) from exc
            module = module or nn.Identity()
            statistics = sum(
                b.numel() for n, b in module.named_buffers() if n.rsplit(".", 1)[-1] in ("running_mean", "running_var")
            )
            all_params = sum(p.numel() for p in module.parameters())
            weights, biases = _count(module, "weight"), _count(module, "bias")
            assert weights + biases == all_params, f"{layer.name}: parameters other than weight and bias"
            rows.append(
                TorchRow(layer.name, channels_last(x.shape), weights, biases, statistics, counter.get_total_flops())
            )
    return rows


class Standard(nn.Module):
    """The file's standard PyTorch model, on which the counting conventions are defined.

    One module per layer, registered under the layer's name (a dotted name makes nested modules,
    as PyTorch's module paths do); ``forward`` does add, concat and the flattening before a dense
    layer itself, and returns the last layer's output plus every output that no later layer reads.
    """

    def __init__(self, architecture: Architecture) -> None:
        super().__init__()
        self.layers = list(architecture.layers)
        self.modules_by_layer: dict[str, nn.Module | None] = {}
        self.paths: dict[str, str] = {}  # layer name -> module path
        x = _zeros(architecture)
        outputs = {"input": x}
        with torch.no_grad():
            for layer in self.layers:
                xs = [outputs[name] for name in layer.sources] or [x]
                module = module_for(layer, xs[0])
                if module is not None:
                    self.paths[layer.name] = self._register(layer.name, module.eval())
                self.modules_by_layer[layer.name] = module
                x = outputs[layer.name] = apply(layer, module, xs)
        read, previous = set(), "input"
        for layer in self.layers:
            read.update(layer.sources or (previous,))
            previous = layer.name
        last = self.layers[-1].name
        self.returned = [n.name for n in self.layers[:-1] if n.name not in read] + [last]
        self.eval()

    def _register(self, name: str, module: nn.Module) -> str:
        """Adds ``module`` at the path its dotted name gives; returns that path (a part that would
        shadow an attribute of nn.Module gets a leading underscore)."""
        parts = name.split(".")
        owner: nn.Module = self
        path = []
        for depth, part in enumerate(parts):
            safe = part if part and not hasattr(self, part) or part in owner._modules else f"_{part}"
            path.append(safe)
            if depth == len(parts) - 1:
                owner.add_module(safe, module)
            else:
                if safe not in owner._modules:
                    owner.add_module(safe, nn.Module())
                owner = owner._modules[safe]
        return ".".join(path)

    def forward(self, x: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, ...]:
        outputs = {"input": x}
        for layer in self.layers:
            xs = [outputs[name] for name in layer.sources] or [x]
            x = outputs[layer.name] = apply(layer, self.modules_by_layer[layer.name], xs)
        if len(self.returned) == 1:
            return x
        return tuple(outputs[name] for name in self.returned)


def model(architecture: Architecture) -> Standard:
    """The standard model in eval mode (for torchinfo and the counting tools)."""
    return Standard(architecture)


def zeros(architecture: Architecture) -> torch.Tensor:
    return _zeros(architecture)


def _axis_module(layer: LayerSpec, axis: int, rank: int) -> nn.Module | None:
    """One axis of a one-channel copy of ``layer``: kernels of ones, max pooling replaced by
    average pooling over the same window, everything that keeps positions as the identity."""
    o, kind = layer.options, layer.type

    def pick(value: Any) -> Any:
        return value[axis] if isinstance(value, tuple) else value

    if kind.startswith("conv"):
        padding = o["padding"] if isinstance(o["padding"], str) else pick(o["padding"])
        conv = nn.Conv1d(
            1, 1, pick(o["kernel"]), stride=pick(o["stride"]), padding=padding, dilation=pick(o["dilation"]), bias=False
        ).double()
        nn.init.ones_(conv.weight)
        return conv
    if kind.startswith("zeropad"):
        return nn.ConstantPad1d(o["padding"][axis], 0.0)
    if kind.startswith("crop"):
        return Crop((o["crop"][axis],))
    if kind == "dense":  # flatten: false keeps the positions: a 1-wide window
        return nn.Identity()
    if "pool" in kind:
        window = pick(o["pool"])
        stride = window if o["stride"] is None else pick(o["stride"])
        return nn.AvgPool1d(window, stride=stride, padding=pick(o["padding"]), ceil_mode=o["ceil_mode"])
    return nn.Identity()


NO_FIELD = ("convtranspose", "upsample")
"""Layers after which one (size, jump, offset) does not describe every position: what an output
sees repeats with the stride instead of moving with it. The engine reports null for them."""
INPUT_SIZED = ("global", "adaptive")
"""Layers whose window follows the input's size: measured on a larger input they would see more,
so from the first of them on the fields are not measured here (unit tests derive them by hand)."""
UNMEASURED = "not measured"


def receptive_fields(architecture: Architecture) -> list[tuple[tuple[int, ...], ...] | None]:
    """Each layer's (size, jump, offset) per spatial axis, measured from PyTorch's gradient; None
    where the output has no spatial axes.

    For a copy of the network with one channel, kernels of ones and average pooling, the gradient of
    one output position with respect to the input is positive exactly on the inputs it sees, and it
    factors by axis; so each axis is measured on its own, with 1D modules. The input is doubled
    until the field of a central position touches neither end and is the same for twice that
    input, and two neighbouring positions give the jump.
    """
    rank = len(architecture.input) - 1
    if rank < 1:
        return [None] * len(architecture.layers)
    per_axis_raw: list[list] = []
    joins = _broadcasting(architecture)
    for axis in range(rank):
        size = 32
        while True:  # near a border a position may see padding only; far from it the field is steady
            measured = _measure_axis(architecture, axis, rank, size, joins)
            if measured is not None and measured == _measure_axis(architecture, axis, rank, 2 * size, joins):
                break
            size *= 2
            assert size <= 1 << 16, f"{architecture.name}: no field fits an input of {size}"
        per_axis_raw.append(measured)
    out: list[tuple[tuple[int, ...], ...] | None] = []
    for per_layer in zip(*per_axis_raw, strict=True):  # a layer's measurement along every axis
        if any(m is UNMEASURED for m in per_layer):
            out.append(UNMEASURED)  # type: ignore[arg-type]
        elif any(m is None for m in per_layer):
            out.append(None)
        else:
            out.append(tuple(tuple(m[i] for m in per_layer) for i in range(3)))
    return out


def _strided_same(layer: LayerSpec) -> bool:
    """TensorFlow's 'same' with a stride: its padding, so its offset, follows the input's size."""
    stride = layer.options.get("stride")
    return layer.options.get("padding") == "same" and stride not in (1, None) and set(_per_axis(stride, 3)) != {1}


def _broadcasting(architecture: Architecture) -> set[str]:
    """The joins whose inputs differ along a spatial axis in the real model, at the file's own input."""
    shapes = {"input": tuple(architecture.input)}
    previous = shapes["input"]
    out = set()
    for layer, row in zip(architecture.layers, run(architecture), strict=True):
        inputs = [shapes[n] for n in layer.sources] if layer.sources else [previous]
        if layer.type in ("add", "multiply") and len({tuple(s[:-1]) for s in inputs}) > 1:
            out.add(layer.name)
        shapes[layer.name] = previous = row.output
    return out


def _measure_axis(
    architecture: Architecture, axis: int, rank: int, size: int, broadcasting: set[str] = frozenset()
) -> list[tuple[int, int, int] | None] | None:
    """(size, jump, offset) of every layer along one axis for an input of ``size``, or None when
    some field reaches an end of the input (a larger input is needed)."""
    x = torch.ones(1, 1, size, dtype=torch.float64, requires_grad=True)
    outputs: dict[str, torch.Tensor | None] = {"input": x}
    previous: torch.Tensor | None = x
    measured: list[tuple[int, int, int] | None] = []
    for layer in architecture.layers:
        xs = [outputs[n] for n in layer.sources] if layer.sources else [previous]
        if any(t is UNMEASURED for t in xs) or layer.type.startswith(INPUT_SIZED) or _strided_same(layer):
            outputs[layer.name] = previous = UNMEASURED  # type: ignore[assignment]
            measured.append(UNMEASURED)  # type: ignore[arg-type]
            continue
        flattening = layer.type == "flatten" or (layer.type == "dense" and layer.options["flatten"])
        if any(t is None for t in xs) or flattening or layer.type.startswith(NO_FIELD):
            outputs[layer.name] = previous = None
            measured.append(None)
            continue
        if layer.type in ("add", "concat", "multiply"):  # one channel each: the join sees what any input sees
            if layer.name in broadcasting:  # one input spans every position: no one field
                outputs[layer.name] = previous = None
                measured.append(None)
                continue
            length = min(t.shape[-1] for t in xs)
            y = sum(t[..., :length] for t in xs)
        else:
            try:
                y = _axis_module(layer, axis, rank)(xs[0])
            except RuntimeError:  # a kernel wider than this probe's input: try a larger one
                return None
        outputs[layer.name] = previous = y
        spans = []
        for p in (y.shape[-1] // 2, y.shape[-1] // 2 + 1):
            if p >= y.shape[-1]:
                return None
            (grad,) = torch.autograd.grad(y[0, 0, p], x, retain_graph=True)
            seen = torch.nonzero(grad[0, 0] > 0).flatten()
            if seen.numel() == 0 or seen[0] == 0 or seen[-1] == size - 1:
                return None
            spans.append((int(seen[0]), int(seen[-1])))
        (start, end), (after, _) = spans
        jump = after - start
        p = y.shape[-1] // 2
        measured.append((end - start + 1, jump, start - p * jump))
    return measured
