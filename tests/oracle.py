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
}


def _per_axis(value: Any, rank: int) -> Any:
    return tuple(value) if isinstance(value, tuple) else (value,) * rank if isinstance(value, int) else value


def module_for(layer: LayerSpec, x: torch.Tensor) -> nn.Module | None:
    """The PyTorch module for one layer of the file's standard model, given the (channels-first,
    batched) tensor it receives (the first one, for a layer that joins several); None for the
    layers the model's ``forward`` does itself (add, concat)."""
    o, kind = layer.options, layer.type
    if kind in ("add", "concat"):
        return None
    channels = x.shape[1]
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
    if "pool" in kind:
        rank = int(kind[-2])
        cls = {
            "max": {1: nn.MaxPool1d, 2: nn.MaxPool2d, 3: nn.MaxPool3d},
            "avg": {1: nn.AvgPool1d, 2: nn.AvgPool2d, 3: nn.AvgPool3d},
        }[kind[:3]][rank]
        pool = _per_axis(o["pool"], rank)
        stride = pool if o["stride"] is None else _per_axis(o["stride"], rank)
        return cls(pool, stride=stride, padding=_per_axis(o["padding"], rank), ceil_mode=o["ceil_mode"])
    if kind == "batchnorm":
        cls = {2: nn.BatchNorm1d, 3: nn.BatchNorm1d, 4: nn.BatchNorm2d, 5: nn.BatchNorm3d}[x.dim()]
        return cls(channels).eval()
    if kind == "dense":
        return nn.Linear(x[0].numel(), o["units"], bias=o["bias"])
    if kind == "flatten":
        return nn.Flatten()
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
    if layer.type == "add":
        out = xs[0]
        for x in xs[1:]:
            if x.shape != out.shape:  # the engine joins equal shapes only; `+` would broadcast
                raise RuntimeError(f"add of shapes {tuple(out.shape)} and {tuple(x.shape)}")
            out = out + x
        return out
    if layer.type == "concat":
        return torch.cat(xs, dim=1)
    if layer.type == "dense" and xs[0].dim() > 2:
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
            except (RuntimeError, ValueError) as exc:
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
    if "pool" in kind:
        window = pick(o["pool"])
        stride = window if o["stride"] is None else pick(o["stride"])
        return nn.AvgPool1d(window, stride=stride, padding=pick(o["padding"]), ceil_mode=o["ceil_mode"])
    return nn.Identity()


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
    spatial: list[bool] = []
    per_axis: list[list[tuple[int, int, int]]] = [[] for _ in range(rank)]
    for axis in range(rank):
        size = 32
        while True:  # near a border a position may see padding only; far from it the field is steady
            measured = _measure_axis(architecture, axis, rank, size)
            if measured is not None and measured == _measure_axis(architecture, axis, rank, 2 * size):
                break
            size *= 2
            assert size <= 1 << 16, f"{architecture.name}: no field fits an input of {size}"
        per_axis[axis] = [m for m in measured if m is not None]
        if axis == 0:
            spatial = [m is not None for m in measured]
    out: list[tuple[tuple[int, ...], ...] | None] = []
    count = 0
    for is_spatial in spatial:
        if not is_spatial:
            out.append(None)
            continue
        fields = [per_axis[a][count] for a in range(rank)]
        out.append(tuple(tuple(f[i] for f in fields) for i in range(3)))
        count += 1
    return out


def _measure_axis(
    architecture: Architecture, axis: int, rank: int, size: int
) -> list[tuple[int, int, int] | None] | None:
    """(size, jump, offset) of every layer along one axis for an input of ``size``, or None when
    some field reaches an end of the input (a larger input is needed)."""
    x = torch.ones(1, 1, size, dtype=torch.float64, requires_grad=True)
    outputs: dict[str, torch.Tensor | None] = {"input": x}
    previous: torch.Tensor | None = x
    measured: list[tuple[int, int, int] | None] = []
    for layer in architecture.layers:
        xs = [outputs[n] for n in layer.sources] if layer.sources else [previous]
        if any(t is None for t in xs) or layer.type in ("dense", "flatten"):
            outputs[layer.name] = previous = None
            measured.append(None)
            continue
        if layer.type in ("add", "concat"):  # one channel each: the join sees what any input sees
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
