"""``cnnmacros import-torch MODULE:ATTR --input H,W,C [-o FILE]``: an architecture file from a PyTorch model.

The model is traced with ``torch.fx``, so every module call and every function call on a tensor
becomes one node; ``ShapeProp`` runs it once on zeros of the given input, so each node knows its
output shape. Each node becomes one layer (``translate``), named by its module path; a function
call is named after the module it is called in (``layer1.0.add``), and a module called more than
once by its path and the call (``layer1.0.relu(2)``). ``from`` is written where a layer does not
read the layer before it, and each layer's comment names where it comes from.

What no layer type expresses (an LSTM, a reflection padding, a softmax over the width) is an
error that names the module path, its type and what is missing, and nothing is written. Neither is
a file that would be wrong: before writing, the file is read and computed like any other, and every
layer's output shape, every module's parameters and batch-norm statistics, and the totals must be
PyTorch's own.

The layers are made first (``Layer``: one per node, with the module path it belongs to) and
written second (``file_text``), so that a writer of blocks can group them by that path.
"""

from __future__ import annotations

import argparse
import importlib
import json
import math
import operator
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnmacros.errors import ImportTorchError, printable

if TYPE_CHECKING:
    from torch import fx, nn

INSTALL = "pip install 'cnnmacros[torch]'"
INPUT = "input"


class UnsupportedError(Exception):
    """Raised by a translation: its message says what is missing, and the caller puts where first."""


ALIAS = "alias"
"""What a translation returns for a node that passes its input on unchanged (``nn.Identity``)."""


@dataclass
class Layer:
    """One layer of the file: its type and the options that differ from the defaults, the layers it
    reads, the module path it belongs to and where it comes from (for its comment)."""

    name: str
    type: str
    options: dict[str, Any]
    sources: list[str]
    module: str
    origin: str
    node: str = field(repr=False, default="")
    """The fx node it was made from."""
    torch_channels_last: bool = field(repr=False, default=False)
    """PyTorch's tensor here already has its channels last (between a permute and its inverse)."""
    parameters: tuple[str, ...] = field(repr=False, default=())
    """Parameters the layer reads directly, by path (``features.1.0.layer_scale``), not through a module."""


# Writing -----------------------------------------------------------------------------------------


_PLAIN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.()\-]*$")


def _yaml(value: Any) -> str:
    """A value as a flow-style YAML scalar or list; names that are not plain are JSON strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):  # YAML 1.1 reads 1e-05 as text: the mantissa needs a point
        text = repr(value)
        return text.replace("e", ".0e") if "e" in text and "." not in text else text
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_yaml(v) for v in value) + "]"
    text = str(value)
    return (
        text
        if _PLAIN.match(text) and text not in ("true", "false", "null", "yes", "no", "on", "off")
        else json.dumps(text)
    )


def header_lines(
    name: str, source: str, input_shape: tuple[int, ...], note: str, header: dict[str, Any] | None
) -> list[str]:
    """The note as comments, then name, source, the ``header`` keys (a mapping one level deep) and input."""
    lines = [f"# {line}" for line in note.splitlines()]
    lines += [f"name: {_yaml(name)}", f"source: {json.dumps(source)}"]
    for key, value in (header or {}).items():
        if isinstance(value, dict):
            lines.append(f"{key}:")
            lines += [f"  {k}: {v if isinstance(v, int | float) else json.dumps(v)}" for k, v in value.items()]
        else:
            lines.append(f"{key}: {_yaml(value)}")
    lines.append(f"input: {_yaml(list(input_shape))}")
    return lines


def layer_line(layer: Layer, previous: str, indent: str = "  ") -> str:
    """One layer, ``from`` only where it does not read ``previous``, with its origin in a comment."""
    parts = [f"name: {_yaml(layer.name)}", f"type: {layer.type}"]
    parts += [f"{key}: {_yaml(value)}" for key, value in layer.options.items()]
    if len(layer.sources) > 1 or layer.sources[0] != previous:
        parts.append(f"from: {_yaml(layer.sources if len(layer.sources) > 1 else layer.sources[0])}")
    return indent + "- {" + ", ".join(parts) + "}  # " + printable(layer.origin)


def file_text(
    name: str,
    source: str,
    input_shape: tuple[int, ...],
    layers: list[Layer],
    note: str,
    header: dict[str, Any] | None = None,
) -> str:
    """The architecture file: a flat list of layers, ``from`` only where a layer does not read the
    layer before it, and each layer's origin in a comment."""
    lines = [*header_lines(name, source, input_shape, note, header), "layers:"]
    previous = INPUT
    for layer in layers:
        lines.append(layer_line(layer, previous))
        previous = layer.name
    return "\n".join(lines) + "\n"


# Reading a node ----------------------------------------------------------------------------------


def _arg(node: fx.Node, index: int, name: str, default: Any = None) -> Any:
    """A call's argument by position or keyword."""
    if len(node.args) > index:
        return node.args[index]
    return node.kwargs.get(name, default)


def _axes(value: Any, rank: int) -> list[int]:
    if isinstance(value, int):
        return [value] * rank
    values = [int(v) for v in value]
    return values * rank if len(values) == 1 else values


def _per_axis(values: list[int]) -> Any:
    """One number when every axis has it, else the list."""
    return values[0] if len(set(values)) == 1 else values


def _only(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options that differ from the layer type's defaults, in the order the type declares them."""
    from cnnmacros.layers import REGISTRY

    declared = REGISTRY[kind].options
    unknown = set(options) - set(declared)
    assert not unknown, f"{kind} has no option {sorted(unknown)}"
    return {k: options[k] for k in declared if k in options and options[k] != declared[k].default}


@dataclass
class Call:
    """What a translation sees of one node: its input and output shapes (channels first, batch
    included) and its arguments."""

    node: fx.Node
    inputs: list[tuple[int, ...]]
    output: tuple[int, ...]
    plain: dict[Any, Any] = field(default_factory=dict, repr=False)
    """The values of the nodes that are no tensors (sizes read from a tensor), at this input."""

    @property
    def rank(self) -> int:
        """Spatial axes of the first input."""
        return len(self.inputs[0]) - 2

    def arg(self, index: int, name: str, default: Any = None) -> Any:
        """An argument, with every node in it replaced by its value at this input (``x.shape[2] - 4``)."""
        return _concrete(_arg(self.node, index, name, default), self.plain)


def _concrete(value: Any, plain: dict[Any, Any]) -> Any:
    if isinstance(value, list | tuple):
        return type(value)(_concrete(v, plain) for v in value)
    if isinstance(value, slice):
        return slice(*(_concrete(v, plain) for v in (value.start, value.stop, value.step)))
    if hasattr(value, "op"):
        if value not in plain:
            raise UnsupportedError(f"an argument computed from a tensor's values ({value.name})")
        return plain[value]
    return value


def _spatial(call: Call, kind: str) -> int:
    rank = call.rank
    if rank not in (1, 2, 3):
        raise UnsupportedError(f"{kind} on a tensor of shape {list(call.inputs[0])}, which has {rank} spatial axes")
    return rank


def _conv(call: Call, m: nn.Module, transposed: bool) -> tuple[str, dict[str, Any]]:
    rank = len(m.kernel_size)
    if m.padding_mode != "zeros":
        raise UnsupportedError(f"padding_mode {m.padding_mode!r}: the convolution layer types pad with zeros")
    if transposed and len(call.node.args) > 1:
        raise UnsupportedError("a call with output_size: write output_padding in the module instead")
    options: dict[str, Any] = {"filters": m.out_channels, "kernel": _per_axis(list(m.kernel_size))}
    options["stride"] = _per_axis(list(m.stride))
    options["padding"] = m.padding if isinstance(m.padding, str) else _per_axis(list(m.padding))
    if transposed:
        options["output_padding"] = _per_axis(list(m.output_padding))
    options["dilation"] = _per_axis(list(m.dilation))
    options["groups"] = m.groups
    options["bias"] = m.bias is not None
    kind = f"convtranspose{rank}d" if transposed else f"conv{rank}d"
    return kind, options


def _pool(
    call: Call, mode: str, kernel: Any, stride: Any, padding: Any, dilation: Any, ceil: bool
) -> tuple[str, dict[str, Any]]:
    rank = _spatial(call, f"{mode} pooling")
    if any(d != 1 for d in _axes(dilation, rank)):
        raise UnsupportedError(f"dilation {dilation}: the pooling layer types have no dilation")
    pool = _axes(kernel, rank)
    stride = pool if stride is None or stride == [] or stride == () else _axes(stride, rank)
    options: dict[str, Any] = {"pool": _per_axis(pool)}
    if stride != pool:
        options["stride"] = _per_axis(stride)
    options["padding"] = _per_axis(_axes(padding, rank))
    options["ceil_mode"] = bool(ceil)
    return f"{mode}pool{rank}d", options


def _adaptive(call: Call, mode: str, output: Any) -> tuple[str, dict[str, Any]]:
    rank = _spatial(call, f"adaptive {mode} pooling")
    sizes = list(output) if isinstance(output, list | tuple) else [output] * rank
    if len(sizes) == 1:
        sizes *= rank
    sizes = [call.inputs[0][2 + i] if s is None else int(s) for i, s in enumerate(sizes)]
    if all(s == 1 for s in sizes):
        return f"global{mode}pool", {"keepdims": True}
    return f"adaptive{mode}pool{rank}d", {"output": _per_axis(sizes)}


def _pad(call: Call, pad: Any, mode: str = "constant", value: Any = 0) -> tuple[str, dict[str, Any]] | str:
    """F.pad's list (the last axis first, before and after) as zero padding or a crop per axis."""
    rank = _spatial(call, "padding")
    if mode != "constant":
        raise UnsupportedError(f"mode {mode!r}: zeropad pads with zeros")
    if value not in (None, 0, 0.0):
        raise UnsupportedError(f"value {value}: zeropad pads with zeros")
    pad = [int(p) for p in pad]
    if len(pad) % 2 or len(pad) // 2 > rank:
        raise UnsupportedError(f"padding {pad} of {len(pad) // 2} axes for a tensor with {rank} spatial axes")
    ends = [(pad[2 * k], pad[2 * k + 1]) for k in range(len(pad) // 2)]  # the last axis first
    ends = [(0, 0)] * (rank - len(ends)) + ends[::-1]
    flat = [p for pair in ends for p in pair]
    if all(p == 0 for p in flat):
        return ALIAS
    if all(p >= 0 for p in flat):
        return f"zeropad{rank}d", {"padding": _ends(ends)}
    if all(p <= 0 for p in flat):
        return f"crop{rank}d", {"crop": _ends([(-b, -a) for b, a in ends])}
    raise UnsupportedError(f"padding {pad}, which both pads and crops")


def _ends(ends: list[tuple[int, int]]) -> Any:
    if len({p for pair in ends for p in pair}) == 1:
        return ends[0][0]
    if all(b == a for b, a in ends):
        return [b for b, _ in ends]
    return [[b, a] for b, a in ends]


def _softmax(call: Call, dim: Any) -> tuple[str, dict[str, Any]]:
    ndim = len(call.inputs[0])
    if dim is None:  # PyTorch's implicit choice, torch.nn.functional._get_softmax_dim
        dim = 0 if ndim in (0, 1, 3) else 1
    if dim % ndim != 1:
        raise UnsupportedError(
            f"a softmax over axis {dim} of a tensor of shape {list(call.inputs[0])}; softmax is over the channels"
        )
    return "softmax", {}


def _upsample(call: Call, size: Any, scale: Any, mode: str) -> tuple[str, dict[str, Any]]:
    from cnnmacros.layers import UPSAMPLE_MODES

    rank = _spatial(call, "upsampling")
    if mode not in UPSAMPLE_MODES:
        raise UnsupportedError(f"mode {mode!r}: upsample knows {', '.join(UPSAMPLE_MODES)}")
    options: dict[str, Any] = {}
    if size is not None:
        options["size"] = _per_axis(_axes(size, rank))
    else:
        scales = list(scale) if isinstance(scale, list | tuple) else [scale] * rank
        if any(float(s) != int(s) for s in scales):
            raise UnsupportedError(f"scale_factor {scale}: upsample scales by whole numbers")
        options["scale"] = _per_axis([int(s) for s in scales])
    options["mode"] = mode
    return "upsample", options


def _flatten(call: Call) -> tuple[str, dict[str, Any]] | str:
    shape, out = call.inputs[0], call.output
    if len(shape) == 2 and out == shape:
        return ALIAS
    if len(out) == 2 and out[0] == shape[0] and out[1] == math.prod(shape[1:]):
        return "flatten", {}
    raise UnsupportedError(
        f"a reshape of {list(shape)} to {list(out)}; flatten keeps the batch and joins every other axis"
    )


def _global(call: Call, mode: str, dims: Any, keepdim: bool) -> tuple[str, dict[str, Any]]:
    ndim = len(call.inputs[0])
    dims = [dims] if isinstance(dims, int) else list(dims or [])
    if ndim < 3 or sorted(d % ndim for d in dims) != list(range(2, ndim)):
        raise UnsupportedError(
            f"a {mode} over axes {dims} of a tensor of shape {list(call.inputs[0])}; "
            "global pools take every spatial axis"
        )
    return f"global{mode}pool", {"keepdims": bool(keepdim)}


def _crop_by_index(call: Call, index: Any) -> tuple[str, dict[str, Any]] | str:
    """``x[:, :, 1:-1, 2:]``: a crop of the spatial axes."""
    shape = call.inputs[0]
    items = list(index) if isinstance(index, tuple) else [index]
    if Ellipsis in items:
        at = items.index(Ellipsis)
        items[at : at + 1] = [slice(None)] * (len(shape) - len(items) + 1)
    items += [slice(None)] * (len(shape) - len(items))
    if len(items) != len(shape) or not all(isinstance(i, slice) for i in items):
        raise UnsupportedError(f"indexing with {index!r}; a crop slices the spatial axes")
    if any(i != slice(None) for i in items[:2]) or any(i.step not in (None, 1) for i in items):
        raise UnsupportedError(f"indexing with {index!r}; a crop slices the spatial axes only, with a step of 1")
    ends = []
    for size, item in zip(shape[2:], items[2:], strict=True):
        start, stop, _ = item.indices(size)
        ends.append((start, size - stop))
    if all(b == a == 0 for b, a in ends):
        return ALIAS
    return f"crop{len(ends)}d", {"crop": _ends(ends)}


ACTIVATIONS = {
    "ReLU": "relu",
    "ReLU6": "relu6",
    "LeakyReLU": "leaky_relu",
    "ELU": "elu",
    "SELU": "selu",
    "GELU": "gelu",
    "SiLU": "silu",
    "Sigmoid": "sigmoid",
    "Tanh": "tanh",
    "Hardswish": "hardswish",
    "Hardsigmoid": "hardsigmoid",
    "Mish": "mish",
}
"""torch.nn activation classes by name, and their layer types (the functions have the same names, lower case)."""


def _layernorm_2d(call: Call, m: nn.Module) -> tuple[str, dict[str, Any]]:
    """torchvision's ConvNeXt ``LayerNorm2d``: a layer norm over the channels of (batch, C, H, W)."""
    if tuple(m.normalized_shape) != (call.inputs[0][1],):
        raise UnsupportedError(
            f"normalized_shape {list(m.normalized_shape)} of a tensor of shape {list(call.inputs[0])}"
        )
    return "layernorm", {"affine": m.elementwise_affine}


KNOWN_MODULES = {"torchvision.models.convnext.LayerNorm2d": _layernorm_2d}
"""Modules of other libraries, by class path, whose forward is known: each is one layer (a leaf of the trace)."""


def _class_path(m: nn.Module) -> str:
    return f"{type(m).__module__}.{type(m).__qualname__}"


def channels_last_layer(call: Call, m: nn.Module) -> tuple[str, dict[str, Any]] | str:
    """A module called on a tensor whose channels are last (``x.permute(0, 2, 3, 1)``, as ConvNeXt's
    blocks do): what acts on the last axis is what the file's channels-last layers do."""
    from torch import nn

    channels = call.inputs[0][-1]
    if isinstance(m, nn.LayerNorm):
        if tuple(m.normalized_shape) != (channels,) or (m.elementwise_affine and m.bias is None):
            raise UnsupportedError(f"normalized_shape {list(m.normalized_shape)} of a channels-last tensor")
        return "layernorm", {"affine": m.elementwise_affine}
    if isinstance(m, nn.Linear):
        return "dense", {"units": m.out_features, "bias": m.bias is not None, "flatten": False}
    name = type(m).__name__
    if name in ACTIVATIONS and type(m).__module__.startswith("torch.nn") and name != "PReLU":
        return ACTIVATIONS[name], {"negative_slope": m.negative_slope} if name == "LeakyReLU" else {}
    if isinstance(m, nn.modules.dropout._DropoutNd):
        return "dropout", {"rate": m.p}
    if isinstance(m, nn.Identity):
        return ALIAS
    raise UnsupportedError(f"{name} on a tensor whose channels a permute moved last")


def module_layer(call: Call, m: nn.Module) -> tuple[str, dict[str, Any]] | str:
    """The layer type and options for one call of a module (``torch.nn``'s own classes)."""
    from torch import nn

    name = type(m).__name__
    if _class_path(m) in KNOWN_MODULES:
        return KNOWN_MODULES[_class_path(m)](call, m)
    if isinstance(m, nn.ChannelShuffle):
        return "shuffle", {"groups": m.groups}
    if isinstance(m, nn.modules.conv._ConvTransposeNd):
        return _conv(call, m, transposed=True)
    if isinstance(m, nn.modules.conv._ConvNd):
        return _conv(call, m, transposed=False)
    if isinstance(m, nn.modules.pooling._MaxPoolNd):
        if m.return_indices:
            raise UnsupportedError("return_indices=True: a layer gives one tensor")
        return _pool(call, "max", m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode)
    if isinstance(m, nn.modules.pooling._AvgPoolNd):  # count_include_pad changes values, not sizes or counts
        return _pool(call, "avg", m.kernel_size, m.stride, m.padding, 1, m.ceil_mode)
    if isinstance(m, nn.modules.pooling._AdaptiveAvgPoolNd):
        return _adaptive(call, "avg", m.output_size)
    if isinstance(m, nn.modules.pooling._AdaptiveMaxPoolNd):
        if m.return_indices:
            raise UnsupportedError("return_indices=True: a layer gives one tensor")
        return _adaptive(call, "max", m.output_size)
    if isinstance(m, nn.modules.batchnorm._BatchNorm):
        return "batchnorm", {"affine": m.affine, "track_running_stats": m.track_running_stats}
    if isinstance(m, nn.modules.instancenorm._InstanceNorm):
        _spatial(call, "instance normalization")
        return "instancenorm", {"affine": m.affine, "track_running_stats": m.track_running_stats}
    if isinstance(m, nn.GroupNorm):
        return "groupnorm", {"groups": m.num_groups, "affine": m.affine}
    if isinstance(m, nn.LayerNorm):
        channels = call.inputs[0][1]
        if len(call.inputs[0]) != 2 or tuple(m.normalized_shape) != (channels,):
            raise UnsupportedError(
                f"normalized_shape {list(m.normalized_shape)} of a tensor of shape {list(call.inputs[0])}: "
                "layernorm normalizes the channels of a (batch, channels) tensor"
            )
        if m.elementwise_affine and m.bias is None:
            raise UnsupportedError("bias=False: layernorm learns a scale and a shift, or neither")
        return "layernorm", {"affine": m.elementwise_affine}
    if isinstance(m, nn.Linear):
        if len(call.inputs[0]) != 2:
            raise UnsupportedError(
                f"a linear layer on a tensor of shape {list(call.inputs[0])}, which acts on its last axis, not "
                "the channels; dense takes a (batch, features) tensor"
            )
        return "dense", {"units": m.out_features, "bias": m.bias is not None}
    if name in ACTIVATIONS and type(m).__module__.startswith("torch.nn"):
        options = {"negative_slope": m.negative_slope} if name == "LeakyReLU" else {}
        return ACTIVATIONS[name], options
    if isinstance(m, nn.Softmax):
        return _softmax(call, m.dim)
    if isinstance(m, nn.PReLU):
        if m.num_parameters not in (1, call.inputs[0][1]):
            raise UnsupportedError(f"num_parameters {m.num_parameters} for {call.inputs[0][1]} channels")
        return "prelu", {"shared": m.num_parameters == 1}
    if isinstance(m, nn.modules.dropout._DropoutNd):
        return "dropout", {"rate": m.p}
    if isinstance(m, nn.LocalResponseNorm):
        _spatial(call, "local response normalization")
        return "lrn", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}
    if isinstance(m, nn.Flatten):
        return _flatten(call)
    if isinstance(m, nn.Upsample):  # UpsamplingNearest2d and UpsamplingBilinear2d too
        return _upsample(call, m.size, m.scale_factor, m.mode)
    if isinstance(m, nn.modules.padding._ConstantPadNd):  # ZeroPad1d, 2d and 3d too
        return _pad(call, m.padding, "constant", m.value)
    if isinstance(m, nn.Identity):
        return ALIAS
    padding = nn.modules.padding
    if isinstance(m, (padding._ReflectionPadNd, padding._ReplicationPadNd, padding._CircularPadNd)):
        raise UnsupportedError(f"{name} pads with values of the input; zeropad pads with zeros")
    raise UnsupportedError(f"no layer type does what {name} does")


def _activation_function(word: str) -> Any:
    def translate(call: Call) -> tuple[str, dict[str, Any]]:
        if word == "leaky_relu":
            return "leaky_relu", {"negative_slope": float(call.arg(1, "negative_slope", 0.01))}
        return word, {}

    return translate


def _functions() -> dict[Any, Any]:
    """Translations of the functions a forward may call on tensors, by function object."""
    import torch
    import torch.nn.functional as F  # noqa: N812

    table: dict[Any, Any] = {
        operator.add: "add",
        operator.iadd: "add",
        torch.add: "add",
        operator.mul: "multiply",
        operator.imul: "multiply",
        torch.mul: "multiply",
        torch.cat: "concat",
        torch.concat: "concat",
        torch.flatten: lambda c: _flatten(c),
        torch.reshape: lambda c: _flatten(c),
        F.relu: _activation_function("relu"),
        torch.relu: _activation_function("relu"),
        F.relu6: _activation_function("relu6"),
        F.leaky_relu: _activation_function("leaky_relu"),
        F.elu: _activation_function("elu"),
        F.selu: _activation_function("selu"),
        torch.selu: _activation_function("selu"),
        F.gelu: _activation_function("gelu"),
        F.silu: _activation_function("silu"),
        torch.sigmoid: _activation_function("sigmoid"),
        F.sigmoid: _activation_function("sigmoid"),
        torch.tanh: _activation_function("tanh"),
        F.tanh: _activation_function("tanh"),
        F.hardswish: _activation_function("hardswish"),
        F.hardsigmoid: _activation_function("hardsigmoid"),
        F.mish: _activation_function("mish"),
        F.softmax: lambda c: _softmax(c, c.arg(1, "dim")),
        torch.softmax: lambda c: _softmax(c, c.arg(1, "dim")),
        torch.mean: lambda c: _global(c, "avg", c.arg(1, "dim"), c.arg(2, "keepdim", False)),
        torch.amax: lambda c: _global(c, "max", c.arg(1, "dim"), c.arg(2, "keepdim", False)),
        F.dropout: lambda c: ("dropout", {"rate": float(c.arg(1, "p", 0.5))}),
        F.dropout1d: lambda c: ("dropout", {"rate": float(c.arg(1, "p", 0.5))}),
        F.dropout2d: lambda c: ("dropout", {"rate": float(c.arg(1, "p", 0.5))}),
        F.dropout3d: lambda c: ("dropout", {"rate": float(c.arg(1, "p", 0.5))}),
        F.pad: lambda c: _pad(c, c.arg(1, "pad"), c.arg(2, "mode", "constant"), c.arg(3, "value", None)),
        F.interpolate: lambda c: _upsample(c, c.arg(1, "size"), c.arg(2, "scale_factor"), c.arg(3, "mode", "nearest")),
        operator.getitem: lambda c: _crop_by_index(c, c.arg(1, "index")),
    }
    for rank in (1, 2, 3):
        table[getattr(F, f"adaptive_avg_pool{rank}d")] = lambda c: _adaptive(c, "avg", c.arg(1, "output_size"))
        table[getattr(F, f"adaptive_max_pool{rank}d")] = lambda c: _adaptive(c, "max", c.arg(1, "output_size"))
        table[getattr(F, f"max_pool{rank}d")] = lambda c: _pool(
            c,
            "max",
            c.arg(1, "kernel_size"),
            c.arg(2, "stride"),
            c.arg(3, "padding", 0),
            c.arg(4, "dilation", 1),
            c.arg(5, "ceil_mode", False),
        )
        table[getattr(F, f"avg_pool{rank}d")] = lambda c: _pool(
            c,
            "avg",
            c.arg(1, "kernel_size"),
            c.arg(2, "stride"),
            c.arg(3, "padding", 0),
            1,
            c.arg(4, "ceil_mode", False),
        )
    shufflenet = sys.modules.get("torchvision.models.shufflenetv2")
    if shufflenet is not None:  # a leaf of the trace (known_functions): its reshapes are one shuffle
        table[shufflenet.channel_shuffle] = lambda c: ("shuffle", {"groups": int(c.arg(1, "groups"))})
    # torchvision's stochastic depth is the identity at inference; a model that uses it has
    # imported it (torchvision itself is not imported here: its compiled part may not load)
    depth = sys.modules.get("torchvision.ops.stochastic_depth")
    if depth is not None:
        table[depth.stochastic_depth] = lambda c: ALIAS if not c.arg(3, "training", True) else _training(c)
    return table


def known_functions() -> list[Any]:
    """Functions of other libraries that the trace keeps whole, one node each, because one layer type
    says what they do: ShuffleNetV2's ``channel_shuffle`` (a reshape, a transpose and a reshape)."""
    shufflenet = sys.modules.get("torchvision.models.shufflenetv2")
    return [shufflenet.channel_shuffle] if shufflenet is not None else []


def _training(call: Call) -> Any:
    raise UnsupportedError("stochastic depth in training mode")


METHODS: dict[str, Any] = {
    "add": "add",
    "add_": "add",
    "mul": "multiply",
    "mul_": "multiply",
    "flatten": lambda c: _flatten(c),
    "view": lambda c: _flatten(c),
    "reshape": lambda c: _flatten(c),
    "relu": _activation_function("relu"),
    "relu_": _activation_function("relu"),
    "sigmoid": _activation_function("sigmoid"),
    "sigmoid_": _activation_function("sigmoid"),
    "tanh": _activation_function("tanh"),
    "softmax": lambda c: _softmax(c, c.arg(1, "dim")),
    "mean": lambda c: _global(c, "avg", c.arg(1, "dim"), c.arg(2, "keepdim", False)),
    "amax": lambda c: _global(c, "max", c.arg(1, "dim"), c.arg(2, "keepdim", False)),
    "contiguous": lambda c: ALIAS,
    "__getitem__": lambda c: _crop_by_index(c, c.arg(1, "index")),
}
"""Translations of tensor methods, by name."""

JOINS = {"add", "multiply", "concat"}


def _function_name(target: Any) -> str:
    """``torch.flatten``, ``operator.add``, ``torch.nn.functional.relu``: how a comment names a function."""
    module = getattr(target, "__module__", None) or ""
    name = getattr(target, "__name__", str(target))
    if module in ("_operator", "operator"):
        return f"operator.{name}"
    if module.startswith("torch._C") or module == "torch":
        return f"torch.{name}"
    return f"{module}.{name}" if module else name


_SHORT = {"iadd": "add", "imul": "mul", "concat": "cat", "getitem": "crop", "__getitem__": "crop"}


def _word(node: fx.Node) -> str:
    """The short name of a function or method for a layer's name: ``add``, ``cat``, ``flatten``;
    ``slice`` for a piece of a chunk."""
    first = node.args[0] if node.args else None
    if node.target is operator.getitem and hasattr(first, "op") and first.target in ("chunk", "split"):
        return "slice"
    name = node.target if isinstance(node.target, str) else getattr(node.target, "__name__", "call")
    name = name.rstrip("_") if not name.startswith("__") else name
    return _SHORT.get(name, name)


def _class_name(m: nn.Module) -> str:
    """``torch.nn.Conv2d`` for PyTorch's own classes, else the class's module and name."""
    import torch

    cls = type(m)
    if getattr(torch.nn, cls.__name__, None) is cls:
        return f"torch.nn.{cls.__name__}"
    return f"{cls.__module__}.{cls.__qualname__}"


# Translating a model ---------------------------------------------------------------------------


def trace(model: nn.Module) -> fx.GraphModule:
    """The model as an fx graph: torch.nn's modules are leaves, and so are the subclasses of its
    modules with parameters that keep torch.nn's forward (a user's ``MyConv(nn.Conv2d)``)."""
    import torch.fx
    from torch import nn

    bases = (nn.modules.conv._ConvNd, nn.modules.batchnorm._NormBase, nn.Linear, nn.GroupNorm, nn.LayerNorm, nn.PReLU)

    class Tracer(torch.fx.Tracer):
        def is_leaf_module(self, m: nn.Module, qualname: str) -> bool:
            inherited = getattr(type(m).forward, "__module__", "").startswith("torch.nn.")
            return (
                super().is_leaf_module(m, qualname)
                or (isinstance(m, bases) and inherited)
                or _class_path(m) in KNOWN_MODULES
            )

    tracer = Tracer(autowrap_functions=tuple(known_functions()))
    graph = tracer.trace(model)
    return torch.fx.GraphModule(tracer.root, graph)


def _shape(node: Any) -> tuple[int, ...] | None:
    """A node's output shape, when its value is one tensor."""
    from torch.fx.passes.shape_prop import TensorMetadata

    meta = node.meta.get("tensor_meta") if hasattr(node, "meta") else None
    return tuple(int(s) for s in meta.shape) if isinstance(meta, TensorMetadata) else None


def _tensor_args(node: fx.Node) -> list[fx.Node]:
    """The nodes among a call's arguments (in lists too) whose value is a tensor, in order."""
    out: list[fx.Node] = []

    def visit(value: Any) -> None:
        if isinstance(value, list | tuple):
            for v in value:
                visit(v)
        elif isinstance(value, dict):
            for v in value.values():
                visit(v)
        elif hasattr(value, "op") and _shape(value) is not None:
            out.append(value)

    visit(node.args)
    visit(node.kwargs)
    return out


def channels_last(shape: tuple[int, ...]) -> tuple[int, ...]:
    """(batch, C, *spatial) as the file writes it: (*spatial, C); (batch, F) as (F,)."""
    dims = shape[1:]
    return dims if len(dims) == 1 else (*dims[1:], dims[0])


def translate(
    model: nn.Module, input_shape: tuple[int, ...], training: bool = False
) -> tuple[list[Layer], dict[str, Any]]:
    """Every layer of the traced model at ``input_shape`` (channels last, no batch), and what the
    check after writing compares with: each layer's PyTorch shape, each module's own counts and
    the model's totals. Raises ``ImportTorchError`` with every node no layer type expresses.

    ``training``: trace the forward of training mode, with the branches that run only there (an
    auxiliary classifier), whose extra outputs become branches of the file; shapes are still
    propagated in evaluation mode, so that batch norm works on one example."""
    import torch
    from torch.fx.passes.shape_prop import ShapeProp

    class Recorder(ShapeProp):
        """ShapeProp that also keeps the plain values (sizes, their arithmetic) of the nodes."""

        def __init__(self, module: fx.GraphModule) -> None:
            super().__init__(module)
            self.plain: dict[Any, Any] = {}

        def run_node(self, n: fx.Node) -> Any:
            result = super().run_node(n)
            if isinstance(result, int | float | bool | torch.Size) or result is None:
                self.plain[n] = result
            return result

    model.train(training)
    try:
        graph_module = trace(model)
    except Exception as exc:  # noqa: BLE001 - any tracing failure is reported, in one line
        raise ImportTorchError([f"torch.fx cannot trace it: {_first_line(exc)}"]) from None
    finally:
        model.eval()
    graph_module.eval()
    *spatial, channels = input_shape
    # on the model's device: a model made on the meta device is traced without weights or arithmetic
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    example = torch.zeros(1, channels, *spatial, device=device)
    try:
        with torch.no_grad():
            recorder = Recorder(graph_module)
            recorder.propagate(example)
    except Exception as exc:  # noqa: BLE001
        raise ImportTorchError(
            [f"PyTorch cannot run it on zeros of shape {list(example.shape)}: {_first_line(exc)}"]
        ) from None
    modules = dict(model.named_modules())  # the model's own classes, for messages and comments
    parameters = dict(model.named_parameters())
    nodes = list(graph_module.graph.nodes)
    live = _live(nodes)
    calls = Counter(n.target for n in nodes if n.op == "call_module" and n in live)
    names = _names([n for n in nodes if n in live], modules, calls)
    functions = _functions()
    problems: list[str] = []
    layers: list[Layer] = []
    value: dict[fx.Node, str] = {}  # a tensor node -> the layer (or "input") whose output it is
    last_axis: set[fx.Node] = set()  # tensor nodes whose channels a permute moved to the last axis
    pieces: dict[fx.Node, tuple[fx.Node, list[tuple[int, int]]]] = {}  # chunk/split: its input, channel ranges
    failed: set[fx.Node] = set()  # nodes with a problem: what reads them is not checked again
    seen: Counter[str] = Counter()
    taken = set(names.values())
    inputs = [n for n in nodes if n.op == "placeholder"]
    if len(inputs) != 1:
        raise ImportTorchError([f"the model takes {len(inputs)} inputs; an architecture file has one"])
    value[inputs[0]] = INPUT
    (result_node,) = [n for n in nodes if n.op == "output"]
    returned = result_node.args[0]
    outputs = _outputs(returned) if training else None  # (logits, auxiliary logits): the first is the output
    if outputs is not None:
        returned = outputs[0]
    for node in nodes:
        if node not in live or node.op in ("placeholder", "output", "get_attr"):
            continue
        if outputs is not None and node is result_node.args[0]:
            continue  # the namedtuple of the outputs
        if node.op == "call_module":
            seen[node.target] += 1
        if any(s in failed for s in node.all_input_nodes):
            failed.add(node)
            continue
        try:
            special = _special(node, value, last_axis, pieces, parameters, modules)
        except UnsupportedError as exc:
            problem = f"{_where(node, modules)}: {exc}"
            if problem not in problems:
                problems.append(problem)
            failed.add(node)
            continue
        if special is not None:
            if special == ALIAS:
                continue
            kind, options, source, parameter = special
            name = names[node]
            if parameter and parameter not in taken:  # a layer scale is named after its parameter
                name = parameter
                taken.add(name)
            owner = _owner(node)
            layers.append(
                Layer(
                    name,
                    kind,
                    _only(kind, options),
                    [source],
                    owner,
                    _origin(node, modules, calls, seen),
                    node.name,
                    node in last_axis,
                    (parameter,) if parameter else (),
                )
            )
            value[node] = name
            continue
        sources = _tensor_args(node)
        output = _shape(node)
        if output is None and node.meta.get("tensor_meta") is None:
            continue  # sizes and other plain values, which a reshape may read
        try:
            if node.op == "call_module" and any(s in last_axis for s in sources):
                if not all(s in last_axis for s in sources) or len(sources) != 1:
                    raise UnsupportedError("joins a channels-last tensor (after a permute) with another")
                call = Call(node, [_shape(s) for s in sources], output, recorder.plain)  # type: ignore[misc]
                result = channels_last_layer(call, modules[node.target])
                last_axis.add(node)
            else:
                if any(s in last_axis for s in sources):
                    result = _channels_last_function(node, sources)
                    last_axis.add(node)
                else:
                    result = _translate_node(node, sources, output, modules, calls, functions, value, recorder.plain)
        except UnsupportedError as exc:
            problem = f"{_where(node, modules)}: {exc}"
            if problem not in problems:  # a module called twice has one problem
                problems.append(problem)
            failed.add(node)
            continue
        if result == ALIAS:
            value[node] = value[sources[0]]
            continue
        kind, options = result
        owner = node.target if node.op == "call_module" else _owner(node)
        origin = _origin(node, modules, calls, seen)
        layers.append(
            Layer(
                names[node],
                kind,
                _only(kind, options),
                [value[s] for s in sources],
                owner,
                origin,
                node.name,
                node in last_axis,
            )
        )
        value[node] = names[node]
    if problems:
        raise ImportTorchError(problems)
    if not hasattr(returned, "op") or _shape(returned) is None:
        raise ImportTorchError(
            ["the model returns something other than one tensor; an architecture file has one output"]
        )
    if returned in last_axis:
        raise ImportTorchError(["the model returns a tensor whose channels a permute moved last"])
    if not layers or value[returned] != layers[-1].name:
        raise ImportTorchError(["the model returns its input unchanged; an architecture file needs a layer"])
    return layers, _expected(model, nodes, layers, modules)


def _outputs(returned: Any) -> list[Any] | None:
    """The tensors of a tuple the model returns (InceptionOutputs(logits, aux_logits) in training
    mode), or None for one tensor."""
    if isinstance(returned, tuple):
        return list(returned) or None
    if hasattr(returned, "op") and returned.op == "call_function" and isinstance(returned.target, type):
        if issubclass(returned.target, tuple):
            return list(returned.args) + list(returned.kwargs.values()) or None
    return None


def _permutation(node: fx.Node) -> list[int] | None:
    """The axes of ``torch.permute(x, dims)`` or ``x.permute(*dims)``; None for any other node."""
    import torch

    if node.op == "call_function" and node.target is torch.permute:
        dims = _arg(node, 1, "dims")
    elif node.op == "call_method" and node.target == "permute":
        dims = node.args[1] if len(node.args) == 2 and isinstance(node.args[1], list | tuple) else node.args[1:]
    else:
        return None
    return [int(d) for d in dims]


_PIECES = {"chunk", "split", "tensor_split"}


def _special(
    node: fx.Node,
    value: dict[fx.Node, str],
    last_axis: set[fx.Node],
    pieces: dict[fx.Node, tuple[fx.Node, list[tuple[int, int]]]],
    parameters: dict[str, Any],
    modules: dict[str, nn.Module],
) -> tuple[str, dict[str, Any], str, str] | str | None:
    """The nodes that are no plain call of a layer: a permute that moves the channels last or back
    (``ALIAS``, with the layout recorded), a chunk of the channels (``ALIAS``; each piece taken
    from it is a ``slice``), and a parameter times a tensor (a ``scale``). Returns (type, options,
    source, parameter path) for a layer, ``ALIAS``, or None for any other node."""
    import torch

    dims = _permutation(node)
    if dims is not None:
        (source,) = [a for a in node.all_input_nodes]
        shape = _shape(source)
        rank = len(shape) - 2
        forward, back = [0, *range(2, rank + 2), 1], [0, rank + 1, *range(1, rank + 1)]
        if rank >= 1 and source not in last_axis and dims == forward:
            last_axis.add(node)
        elif rank >= 1 and source in last_axis and dims == back:
            pass
        else:
            raise UnsupportedError(f"a permute {dims} of shape {list(shape)}; only moving the channels last and back")
        value[node] = value[source]
        return ALIAS
    is_chunk = (node.op == "call_method" and node.target in _PIECES) or (
        node.op == "call_function" and node.target in (torch.chunk, torch.split)
    )
    if is_chunk:
        source = node.args[0]
        shape = _shape(source)
        count_or_size = _arg(node, 1, "chunks" if node.target in ("chunk", torch.chunk) else "split_size_or_sections")
        dim = _arg(node, 2, "dim", 0)
        if shape is None or source in last_axis or dim % len(shape) != 1:
            raise UnsupportedError(f"a {_word(node)} along axis {dim}; a slice takes channels")
        outputs = node.meta.get("tensor_meta")
        sizes = [int(t.shape[1]) for t in outputs]
        del count_or_size
        ranges, start = [], 0
        for size in sizes:
            ranges.append((start, start + size))
            start += size
        pieces[node] = (source, ranges)
        return ALIAS
    if node.op == "call_function" and node.target is operator.getitem and node.args[0] in pieces:
        source, ranges = pieces[node.args[0]]
        start, stop = ranges[int(node.args[1])]
        return "slice", {"start": start, "stop": stop}, value[source], ""
    if node.op == "call_function" and node.target in (operator.mul, torch.mul) and len(node.args) == 2:
        attrs = [a for a in node.args if hasattr(a, "op") and a.op == "get_attr"]
        tensors = [a for a in node.args if hasattr(a, "op") and a.op != "get_attr"]
        if len(attrs) == 1 and len(tensors) == 1:
            target, (source,) = attrs[0].target, tensors
            shape, weight = _shape(source), parameters.get(attrs[0].target)
            if weight is None or shape is None or source in last_axis:
                raise UnsupportedError(f"multiplies by {target}, which is no parameter of a channels-first tensor")
            channels, rank = shape[1], len(shape) - 2
            if tuple(weight.shape) not in ((channels, *([1] * rank)), (channels,) if rank == 0 else ()):
                raise UnsupportedError(
                    f"multiplies by {target} of shape {list(weight.shape)}; scale learns one number per channel"
                )
            return "scale", {}, value[source], target
    return None


def _channels_last_function(node: fx.Node, sources: list[fx.Node]) -> tuple[str, dict[str, Any]] | str:
    """A function called on a channels-last tensor: the activations only (ConvNeXt's blocks call none)."""
    if node.op == "call_function":
        table = _functions()
        translation = table.get(node.target)
        if translation is not None and len(sources) == 1:
            kind = translation if isinstance(translation, str) else None
            if kind is None and callable(translation):
                word = _function_name(node.target).rsplit(".", 1)[-1]
                if word in ACTIVATIONS.values():
                    return word, {}
    raise UnsupportedError("a function on a tensor whose channels a permute moved last")


def _translate_node(
    node: fx.Node,
    sources: list[fx.Node],
    output: tuple[int, ...] | None,
    modules: dict[str, nn.Module],
    calls: Counter,
    functions: dict[Any, Any],
    value: dict[fx.Node, str],
    plain: dict[Any, Any],
) -> tuple[str, dict[str, Any]] | str:
    """One node's layer type and options, or ``ALIAS``; raises ``UnsupportedError`` with what is missing."""
    import torch

    if output is None:
        raise UnsupportedError("gives several tensors; a layer gives one")
    unknown = [s for s in sources if s not in value]
    if unknown:
        names = ", ".join(str(s.target) for s in unknown)
        raise UnsupportedError(f"reads {names}, which is no layer's output (a parameter or buffer used directly)")
    if not sources:
        raise UnsupportedError("makes a tensor from no input (a constant); a layer reads another layer")
    call = Call(node, [_shape(s) for s in sources], output, plain)  # type: ignore[misc]
    if node.op == "call_module":
        m = modules[node.target]
        if calls[node.target] > 1 and any(True for _ in m.parameters()):
            raise UnsupportedError(
                f"it is called {calls[node.target]} times with the same weights; layers cannot share them"
            )
        result = module_layer(call, m)
    else:
        table, what = (
            (functions, _function_name(node.target))
            if node.op == "call_function"
            else (METHODS, f"Tensor.{node.target}")
        )
        translation = table.get(node.target)
        if translation is None:
            raise UnsupportedError(f"no layer type does what {what} does")
        result = translation(call) if callable(translation) else (translation, {})
    if result == ALIAS:
        return result
    kind = result[0]
    if kind == "concat" and len(sources) == 1:  # torch.cat of one tensor is that tensor
        return ALIAS
    if kind in JOINS:
        if len(sources) < 2 or (kind != "concat" and any(isinstance(a, int | float) for a in node.args)):
            raise UnsupportedError(f"{kind} of a tensor and a number; {kind} joins layers")
        if node.target is torch.add and node.kwargs.get("alpha", 1) != 1:
            raise UnsupportedError(f"add with alpha={node.kwargs['alpha']}; add sums its inputs")
        if kind == "concat":
            dim = _arg(node, 1, "dim", 0)
            if dim % len(output) != 1:
                raise UnsupportedError(
                    f"a concatenation along axis {dim} of shape {list(output)}; concat stacks the channels"
                )
    return result


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return printable(f"{type(exc).__name__}: {text[0] if text else ''}".rstrip(": "))


def _live(nodes: list[fx.Node]) -> set[fx.Node]:
    """The nodes the output depends on: a branch whose result is never used is not a layer."""
    output = [n for n in nodes if n.op == "output"]
    live: set[fx.Node] = set()
    stack = list(output)
    while stack:
        node = stack.pop()
        if node in live:
            continue
        live.add(node)
        stack += node.all_input_nodes
    return live


def _owner(node: fx.Node) -> str:
    """The path of the innermost module a function is called in; "" at the top level."""
    stack = node.meta.get("nn_module_stack") or {}
    return list(stack.values())[-1][0] if stack else ""


def _where(node: fx.Node, modules: dict[str, nn.Module]) -> str:
    """``layer1.0.conv1 (torch.nn.Conv2d)``, or ``torch.nn.functional.pad in layer1.0``: where a node is."""
    if node.op == "call_module":
        return printable(f"{node.target} ({_class_name(modules[node.target])})")
    what = _function_name(node.target) if node.op == "call_function" else f"Tensor.{node.target}"
    owner = _owner(node)
    return printable(
        f"{what} in {owner} ({_class_name(modules[owner])})" if owner else f"{what} in the model's forward"
    )


def _origin(node: fx.Node, modules: dict[str, nn.Module], calls: Counter, seen: Counter) -> str:
    if node.op == "call_module" and calls[node.target] > 1:
        return f"{_where(node, modules)}, call {seen[node.target]} of {calls[node.target]}"
    return _where(node, modules)


def _names(nodes: list[fx.Node], modules: dict[str, nn.Module], calls: Counter) -> dict[fx.Node, str]:
    """Layer names: the module path, with the call for a module called more than once
    (``layer1.0.relu(2)``); for a function, the path of the module it is called in and the function's
    word (``layer1.0.add``); where one module calls it again, or the name is a module's path, a
    number follows as torch.fx numbers its nodes (``add``, ``add_1``, ``add_2``)."""
    names: dict[fx.Node, str] = {}
    module_calls: Counter[str] = Counter()
    bases: dict[fx.Node, str] = {}
    for node in nodes:
        if node.op == "call_module":
            module_calls[node.target] += 1
            n = calls[node.target]
            names[node] = node.target if n == 1 else f"{node.target}({module_calls[node.target]})"
        elif node.op in ("call_function", "call_method") and _shape(node) is not None:
            owner = _owner(node)
            bases[node] = f"{owner}.{_word(node)}" if owner else _word(node)
    count = Counter(bases.values())
    taken = set(modules) | set(names.values())
    numbered: Counter[str] = Counter()
    for node, base in bases.items():
        name = base
        if count[base] > 1 or base in taken:
            while name in taken:
                numbered[base] += 1
                name = f"{base}_{numbered[base]}"
        taken.add(name)
        names[node] = name
    return names


def _own_counts(m: nn.Module) -> tuple[int, int]:
    """A leaf module's parameters, and its running statistics (mean and variance, not the count of batches)."""
    params = sum(p.numel() for p in m.parameters())
    stats = sum(
        b.numel() for name, b in m.named_buffers() if name.rsplit(".", 1)[-1] in ("running_mean", "running_var")
    )
    return params, stats


def _expected(
    model: nn.Module, nodes: list[fx.Node], layers: list[Layer], modules: dict[str, nn.Module]
) -> dict[str, Any]:
    """What the written file must give: each layer's shape, each module layer's own parameters and
    statistics, the model's totals, and the modules with parameters that no layer is."""
    by_node = {n.name: n for n in nodes}
    shapes = {
        layer.name: _shape(by_node[layer.node])[1:]  # type: ignore[index]
        if layer.torch_channels_last
        else channels_last(_shape(by_node[layer.node]))  # type: ignore[arg-type]
        for layer in layers
    }
    own = {
        layer.name: _own_counts(modules[by_node[layer.node].target])
        for layer in layers
        if by_node[layer.node].op == "call_module"
    }
    named = dict(model.named_parameters())
    for layer in layers:
        if layer.parameters:
            own[layer.name] = (sum(named[p].numel() for p in layer.parameters), 0)
    params = sum(p.numel() for p in model.parameters())
    stats = sum(
        b.numel() for name, b in model.named_buffers() if name.rsplit(".", 1)[-1] in ("running_mean", "running_var")
    )
    used = {by_node[layer.node].target for layer in layers if by_node[layer.node].op == "call_module"}
    read = {p for layer in layers for p in layer.parameters}
    unused = [
        path
        for path, m in model.named_modules()
        if path not in used
        and any(f"{path}.{n}".lstrip(".") not in read for n, _ in m.named_parameters(recurse=False))
        and not any(path.startswith(u + ".") for u in used)
    ]
    return {"shapes": shapes, "own": own, "params": params, "stats": stats, "unused": unused, "modules": modules}


def check(text: str, expected: dict[str, Any], display: str) -> None:
    """Read and compute the file as ``cnnmacros check`` does; every figure that is not PyTorch's is a problem."""
    from cnnmacros.architecture import validate
    from cnnmacros.engine import compute
    from cnnmacros.errors import ArchitectureError
    from cnnmacros.yamlnodes import load

    try:
        summary = compute(validate(display, load(display, text.encode("utf-8"))))
    except ArchitectureError as exc:
        raise ImportTorchError([f"the file it would write is not valid: {p}" for p in exc.problems]) from None
    problems = []
    for row in summary.rows:
        torch_shape = expected["shapes"][row.name]
        if tuple(row.output) != torch_shape:
            problems.append(f"{row.name}: the file gives an output of {list(row.output)}, PyTorch {list(torch_shape)}")
        if row.name in expected["own"]:
            params, stats = expected["own"][row.name]
            if (row.params, row.non_trainable) != (params, stats):
                problems.append(
                    f"{row.name}: the file gives {row.params} parameters and {row.non_trainable} statistics, "
                    f"PyTorch {params} and {stats}"
                )
    for path in expected["unused"]:
        problems.append(
            f"{path} ({_class_name(expected['modules'][path]) if path in expected['modules'] else 'module'}): has "
            "parameters, but the forward pass does not call it, so the file cannot count them"
        )
    if not problems and (summary.totals["params"], summary.totals["non_trainable"]) != (
        expected["params"],
        expected["stats"],
    ):
        problems.append(
            f"the file gives {summary.totals['params']} parameters and {summary.totals['non_trainable']} statistics "
            f"in all, PyTorch {expected['params']} and {expected['stats']}"
        )
    if problems:
        raise ImportTorchError(problems)


# The command -------------------------------------------------------------------------------------


def parse_input(text: str) -> tuple[int, ...]:
    """``224,224,3`` (channels last): one to three sizes and the channels, each a positive integer."""
    parts = [p.strip() for p in text.split(",")]
    if not 2 <= len(parts) <= 4 or not all(p.isdigit() and int(p) > 0 for p in parts):
        raise ValueError(
            f"--input: expected sizes and channels, channels last, such as 224,224,3 or 100,16 (L,C), got {text!r}"
        )
    return tuple(int(p) for p in parts)


def load_model(spec: str) -> nn.Module:
    """``MODULE:ATTR``: an ``nn.Module``, or a callable (a class, a function) that returns one when called
    with no arguments. The current folder is on the path, as for ``python -m``."""
    from torch import nn

    module_name, _, attr = spec.partition(":")
    if not module_name or not attr:
        raise ImportTorchError([f"expected MODULE:ATTR, such as torchvision.models:resnet18, got {spec!r}"])
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - whatever the import raises, one line
        raise ImportTorchError([f"cannot import {module_name}: {_first_line(exc)}"]) from None
    target: Any = module
    for part in attr.split("."):
        if not hasattr(target, part):
            raise ImportTorchError([f"{module_name} has no attribute {attr!r}"])
        target = getattr(target, part)
    if isinstance(target, nn.Module):
        return target
    if not callable(target):
        raise ImportTorchError(
            [f"{spec} is a {type(target).__name__}, expected an nn.Module or a callable that returns one"]
        )
    try:
        model = target()
    except Exception as exc:  # noqa: BLE001
        raise ImportTorchError([f"{spec}() raised {_first_line(exc)}"]) from None
    if not isinstance(model, nn.Module):
        raise ImportTorchError([f"{spec}() returned a {type(model).__name__}, expected an nn.Module"])
    return model


def import_torch(
    spec: str,
    input_shape: tuple[int, ...],
    name: str | None = None,
    model: Any = None,
    training: bool = False,
    blocks: bool = True,
    header: dict[str, Any] | None = None,
) -> str:
    """The checked architecture file for ``spec`` (or for ``model``, already made) at ``input_shape``:
    with a block for each module class that occurs more than once (``blocks``), and ``header``'s
    top-level keys (``family``, ``metrics``) after ``source``. ``training``: see ``translate``."""
    import torch

    model = load_model(spec) if model is None else model
    layers, expected = translate(model, input_shape, training)
    mode = " in training mode" if training else ""
    note = (
        f"Written by `cnnmacros import-torch {spec} --input {','.join(map(str, input_shape))}` (PyTorch "
        f"{torch.__version__}, torch.fx{mode}).\nEach comment names the module, or the function and the module it "
        "is called in, that the layer comes from."
    )
    title = name or type(model).__name__
    flat = file_text(title, spec, input_shape, layers, note, header)
    check(flat, expected, f"{spec} as a file")
    if not blocks:
        return flat
    from cnnmacros.torch_blocks import block_text

    return block_text(title, spec, input_shape, layers, note, header, model, flat) or flat


def run(args: argparse.Namespace) -> int:
    try:
        import torch  # noqa: F401
    except ImportError:
        print(f"cnnmacros import-torch needs PyTorch, which is not installed: {INSTALL}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - e.g. a CUDA build without its libraries
        print(f"cnnmacros import-torch cannot import PyTorch: {_first_line(exc)}", file=sys.stderr)
        return 1
    try:
        shape = parse_input(args.input)
        text = import_torch(args.model, shape, args.name, blocks=not args.flat)
    except ValueError as exc:
        print(exc, file=sys.stderr)
        return 1
    except ImportTorchError as exc:
        for problem in exc.problems:
            print(f"{printable(args.model)}: {problem}", file=sys.stderr)
        return 1
    if args.output:
        Path(args.output).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


def add_command(sub: Any) -> None:
    """The ``import-torch`` subcommand, for ``cnnmacros.cli``; PyTorch is imported only when it runs."""
    p = sub.add_parser(
        "import-torch",
        help="write an architecture file from a PyTorch model (traced with torch.fx)",
        description="Write an architecture file from a PyTorch model, traced with torch.fx at the given input "
        f"size. Needs PyTorch ({INSTALL}).",
    )
    p.add_argument(
        "model",
        metavar="MODULE:ATTR",
        help="where the model is: an nn.Module, or a callable that returns one, such as torchvision.models:resnet18",
    )
    p.add_argument(
        "--input", required=True, metavar="H,W,C", help="input size, channels last: H,W,C, or L,C or D,H,W,C"
    )
    p.add_argument("-o", "--output", metavar="FILE", help="write the file there instead of to standard output")
    p.add_argument("--name", help="the network's name in the file (default: the model's class name)")
    p.add_argument(
        "--flat",
        action="store_true",
        help="one line per layer, without blocks (by default each module class that occurs more than once is a block)",
    )
    p.set_defaults(run=run)
