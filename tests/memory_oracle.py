"""What PyTorch's autograd keeps for the backward pass, layer by layer of an architecture file.

The file's standard model (``tests/oracle.py``), in train mode, runs one forward pass under
``torch.autograd.graph.saved_tensors_hooks``. Every tensor autograd saves is counted once, by its
storage, and charged to the layer of the file whose step allocated that storage: a storage that is
some layer's output belongs to the first layer that handed it on (a flatten that is a view hands on
its input's storage), and any other storage saved during a layer's step is that layer's own buffer.
The steps are the layers of the file, not modules: add and concat have none. Parameters and buffers
are left out; the input batch belongs to no layer. Nothing here reads the engine's figures.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from cnnmacros.architecture import Architecture

from .oracle import Standard, apply

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
"""The element types of ``--dtype`` that PyTorch can train (int8 tensors cannot require gradients)."""


@dataclass
class TorchMemory:
    saved: list[int]  # bytes charged to each layer of the file
    input_bytes: int
    param_bytes: int
    buffer_bytes: int
    layouts: list[tuple[tuple[int, ...], tuple[int, ...]]]  # each layer's output: sizes and strides
    grad_bytes: int | None = None  # measured after a backward pass, when asked for
    optimizer_bytes: dict[str, int] | None = None  # by optimizer name, after one step of each

    @property
    def saved_bytes(self) -> int:
        return sum(self.saved)


def _storage(t: torch.Tensor) -> tuple[int, int]:
    storage = t.untyped_storage()
    return storage.data_ptr(), storage.nbytes()


def _model(architecture: Architecture, dtype: torch.dtype) -> Standard:
    torch.manual_seed(0)
    model = Standard(architecture).to(dtype)
    model.train()
    return model


def _input(architecture: Architecture, batch: int, dtype: torch.dtype) -> torch.Tensor:
    shape = [int(v) for v in architecture.input]
    dims = [shape[-1], *shape[:-1]] if len(shape) > 1 else shape
    return torch.randn(batch, *dims, generator=torch.Generator().manual_seed(1)).to(dtype)


def training_memory(
    architecture: Architecture, batch: int, dtype: str = "float32", backward: bool = False
) -> TorchMemory:
    """One training forward pass at ``batch``; with ``backward``, also the gradients and the state
    of each optimizer after one step."""
    threads = torch.get_num_threads()
    if _one_by_one(architecture):
        torch.set_num_threads(2)
    try:
        return _training_memory(architecture, batch, dtype, backward)
    finally:
        torch.set_num_threads(threads)


def _one_by_one(architecture: Architecture) -> bool:
    """Whether PyTorch on one thread would take another kernel than on several for this network.

    It sends a convolution whose kernel is 1 x 1 in its last two axes (1 in 1D), with no stride and
    no dilation, to its own slow kernels when it runs on one thread, and oneDNN's otherwise. The two
    differ where it shows: the slow 3D transposed kernel allocates its output as large as its input,
    and the slow kernels write a contiguous output where oneDNN keeps a channels-last input's order
    (which only layer norm and fully connected layers on channels make). The engine counts what
    oneDNN does, as on any machine with more than one core (it counts the slow kernel only where
    every thread count takes it: an output padding as large as the stride), so such a network runs
    with two threads, which costs time on a busy machine."""
    channels_last = any(
        layer.type == "layernorm" or (layer.type == "dense" and not layer.options["flatten"])
        for layer in architecture.layers
    )
    for layer in architecture.layers:
        if not layer.type.startswith("conv") or not (channels_last or layer.type == "convtranspose3d"):
            continue
        o, rank = layer.options, int(layer.type[-2])
        kernel = o["kernel"] if isinstance(o["kernel"], tuple) else (o["kernel"],) * rank
        plain = all(v == 1 or v == (1,) * rank for v in (o["stride"], o["dilation"]))
        if plain and all(k == 1 for k in kernel[-2:]):
            return True
    return False


def _training_memory(architecture: Architecture, batch: int, dtype: str, backward: bool) -> TorchMemory:
    element = DTYPES[dtype]
    model = _model(architecture, element)
    x = _input(architecture, batch, element)
    kept = {_storage(t)[0] for t in (*model.parameters(), *model.buffers())}
    owner: dict[int, int] = {}  # storage -> index of the first layer whose output it is
    saved: dict[int, tuple[int, int]] = {}  # storage -> (layer charged, bytes)
    current = [-1]
    during: list[tuple[int, torch.Tensor]] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        during.append((current[0], t))
        return t

    outputs = {"input": x}
    result = x
    layouts = []
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        for index, layer in enumerate(model.layers):
            xs = [outputs[name] for name in layer.sources] or [result]
            current[0] = index
            start = len(during)
            result = outputs[layer.name] = apply(layer, model.modules_by_layer[layer.name], xs)
            layouts.append((tuple(result.shape), tuple(result.stride())))
            out_ptr, _ = _storage(result)
            if out_ptr not in owner and out_ptr != _storage(x)[0]:
                owner[out_ptr] = index
            for step, t in during[start:]:
                ptr, size = _storage(t)
                if size == 0 or ptr in kept or ptr == _storage(x)[0] or ptr in saved:
                    continue
                saved[ptr] = (owner.get(ptr, step), size)
    per_layer = [0] * len(model.layers)
    for index, size in saved.values():
        per_layer[index] += size
    memory = TorchMemory(
        per_layer,
        x.numel() * x.element_size(),
        sum(p.numel() * p.element_size() for p in model.parameters()),
        sum(b.numel() * b.element_size() for b in model.buffers()),
        layouts,
    )
    if backward:
        returned = [outputs[name] for name in model.returned]
        loss = sum(o.float().sum() for o in returned)
        parameters = list(model.parameters())
        if loss.requires_grad:  # a network without parameters has nothing to train
            loss.backward()
        memory.grad_bytes = sum(p.grad.numel() * p.grad.element_size() for p in parameters if p.grad is not None)
        memory.optimizer_bytes = dict.fromkeys(OPTIMIZERS, 0)
        for name, make in OPTIMIZERS.items():
            if not parameters:
                continue
            optimizer = make(parameters)
            optimizer.step()
            memory.optimizer_bytes[name] = sum(
                v.numel() * v.element_size()
                for state in optimizer.state.values()
                for key, v in state.items()
                if isinstance(v, torch.Tensor) and key != "step"  # Adam's step counters are left out
            )
    return memory


OPTIMIZERS = {
    "sgd": lambda ps: torch.optim.SGD(ps, lr=0.01),
    "momentum": lambda ps: torch.optim.SGD(ps, lr=0.01, momentum=0.9),
    "adam": lambda ps: torch.optim.Adam(ps),
    "adamw": lambda ps: torch.optim.AdamW(ps),
}
