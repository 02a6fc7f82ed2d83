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


class Sum(nn.Module):
    """Elementwise sum; ``torch.stack`` refuses inputs of different shapes, as a residual add must."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.stack(xs).sum(0)


class Cat(nn.Module):
    """Concatenation along the channel axis (axis 1, channels first)."""

    def forward(self, *xs: torch.Tensor) -> torch.Tensor:
        return torch.cat(xs, dim=1)


def module_for(layer: LayerSpec, x: torch.Tensor) -> nn.Module:
    """The PyTorch module for one layer, given the (channels-first, batched) tensor it receives
    (the first one, for a layer that joins several)."""
    o, kind = layer.options, layer.type
    if kind == "add":
        return Sum()
    if kind == "concat":
        return Cat()
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
        return nn.Sequential(nn.Flatten(), nn.Linear(x[0].numel(), o["units"], bias=o["bias"]))
    if kind == "flatten":
        return nn.Flatten()
    if kind == "dropout":
        return nn.Dropout(o["rate"]).eval()
    if kind == "lrn":
        return nn.LocalResponseNorm(o["size"], alpha=o["alpha"], beta=o["beta"], k=o["k"])
    if kind in _ACTIVATIONS:
        return _ACTIVATIONS[kind](o)
    raise NotImplementedError(f"the oracle has no translation for layer type {kind!r}: add one in tests/oracle.py")


@dataclass
class TorchRow:
    name: str
    output: tuple[int, ...]  # channels last, as the engine writes shapes
    weights: int  # parameters PyTorch names ``weight`` (batch norm's gamma too)
    biases: int  # parameters PyTorch names ``bias`` (batch norm's beta too)
    non_trainable: int

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


def model(architecture: Architecture) -> nn.Sequential:
    """The whole network as one ``nn.Sequential`` (for torchinfo), built by one pass on zeros."""
    x = _zeros(architecture)
    modules = []
    with torch.no_grad():
        for layer in architecture.layers:
            module = module_for(layer, x).eval()
            x = module(x)
            modules.append(module)
    return nn.Sequential(*modules).eval()


def run(architecture: Architecture) -> list[TorchRow]:
    """A forward pass on a zero tensor, layer by layer; a layer PyTorch refuses raises ``TorchLayerError``."""
    x = _zeros(architecture)
    outputs = {"input": x}
    rows = []
    with torch.no_grad():
        for layer in architecture.layers:
            xs = [outputs[name] for name in layer.sources] or [x]
            try:
                module = module_for(layer, xs[0])
                module.eval()
                x = outputs[layer.name] = module(*xs)
            except (RuntimeError, ValueError) as exc:
                raise TorchLayerError(layer.index, layer.name, exc) from exc
            statistics = sum(
                b.numel() for n, b in module.named_buffers() if n.rsplit(".", 1)[-1] in ("running_mean", "running_var")
            )
            all_params = sum(p.numel() for p in module.parameters())
            weights, biases = _count(module, "weight"), _count(module, "bias")
            assert weights + biases == all_params, f"{layer.name}: parameters other than weight and bias"
            rows.append(TorchRow(layer.name, channels_last(x.shape), weights, biases, statistics))
    return rows
