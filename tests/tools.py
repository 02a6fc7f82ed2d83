"""The counting tools themselves, run on a file's standard model: each gives its total and its
count per module path (the layer's name), as that tool reports it.

Adapted from the way each tool is documented to be called (see the conventions page); nothing
here reads the engine's figures.
"""

from __future__ import annotations

import contextlib
import io
import logging
from dataclasses import dataclass

import torch

from cnnmacros.architecture import Architecture

from . import oracle


@dataclass
class Count:
    total: int
    per_layer: dict[str, int]  # module path -> the tool's count for that module
    aggregated: bool = False  # whether a module's entry already holds its submodules' counts

    def of(self, path: str) -> int:
        """The tool's count for the layer at ``path``, submodules (a wrapper's conv) included."""
        if self.aggregated:
            return self.per_layer.get(path, 0)
        return sum(v for k, v in self.per_layer.items() if k == path or k.startswith(path + "."))


def _paths(model: oracle.Standard) -> dict[int, str]:
    return {id(m): name for name, m in model.named_modules()}


def torchinfo_count(architecture: Architecture) -> Count:
    from torchinfo import summary

    model = oracle.model(architecture)
    stats = summary(model, input_data=oracle.zeros(architecture), verbose=0)
    paths = _paths(model)
    per = {paths[id(info.module)]: int(info.macs) for info in stats.summary_list if info.is_leaf_layer}
    return Count(int(stats.total_mult_adds), per)


def torchinfo_bytes(architecture: Architecture) -> tuple[int, int]:
    """torchinfo's (total_param_bytes, total_output_bytes) for the standard model at batch 1."""
    from torchinfo import summary

    stats = summary(oracle.model(architecture), input_data=oracle.zeros(architecture), verbose=0)
    return int(stats.total_param_bytes), int(stats.total_output_bytes)


def fvcore_count(architecture: Architecture) -> Count:
    from fvcore.nn import FlopCountAnalysis

    logging.getLogger("fvcore").setLevel(logging.ERROR)
    analysis = FlopCountAnalysis(oracle.model(architecture), (oracle.zeros(architecture),))
    analysis.unsupported_ops_warnings(False).uncalled_modules_warnings(False).tracer_warnings("none")
    return Count(int(analysis.total()), {k: int(v) for k, v in analysis.by_module().items() if k}, aggregated=True)


def ptflops_count(architecture: Architecture) -> Count:
    """ptflops' total, and per layer its module hook's count plus the patched functions it saw
    while that module ran (ptflops adds those to its total but shows them under no module)."""
    import ptflops.pytorch_engine as engine
    from ptflops import get_model_complexity_info

    model = oracle.model(architecture)
    paths = _paths(model)
    hooked: dict[str, int] = {}
    functional: dict[str, int] = {}
    running: list[str] = []
    remove, call = engine.remove_flops_counter_variables, engine.torch_function_wrapper.__call__

    def keep(module: torch.nn.Module) -> None:  # read __flops__ before ptflops deletes it
        if hasattr(module, "__flops__"):
            hooked[paths[id(module)]] = int(module.__flops__)
        remove(module)

    def counted(self, *args, **kwargs):  # noqa: ANN001 - ptflops' own signature
        before = len(self.collector)
        out = call(self, *args, **kwargs)
        where = running[-1] if running else ""
        functional[where] = functional.get(where, 0) + int(sum(self.collector[before:]))
        return out

    handles = []
    for module in model.modules_by_layer.values():
        if module is not None:
            path = paths[id(module)]
            handles.append(module.register_forward_pre_hook(lambda m, a, path=path: running.append(path)))
            handles.append(module.register_forward_hook(lambda m, a, y: running.pop() and None))
    engine.remove_flops_counter_variables, engine.torch_function_wrapper.__call__ = keep, counted
    try:
        shape = tuple(oracle.zeros(architecture).shape[1:])
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            macs, _ = get_model_complexity_info(
                model, shape, as_strings=False, backend="pytorch", print_per_layer_stat=False
            )
    finally:
        engine.remove_flops_counter_variables, engine.torch_function_wrapper.__call__ = remove, call
        for handle in handles:
            handle.remove()
    assert macs is not None, "ptflops failed (it prints its error and returns None)"
    per = {k: hooked.get(k, 0) + functional.get(k, 0) for k in set(hooked) | set(functional) if k}
    return Count(int(macs), per)


def thop_count(architecture: Architecture) -> Count:
    import thop

    def layers(info: dict, prefix: str = "") -> dict[str, int]:
        out = {}
        for name, (ops, _params, inner) in info.items():
            out[prefix + name] = int(ops)
            out.update(layers(inner, prefix + name + "."))
        return out

    with contextlib.redirect_stdout(io.StringIO()):
        macs, _params, info = thop.profile(
            oracle.model(architecture), inputs=(oracle.zeros(architecture),), verbose=False, ret_layer_info=True
        )
    return Count(int(macs), layers(info), aggregated=True)


TOOLS = {"torchinfo": torchinfo_count, "fvcore": fvcore_count, "ptflops": ptflops_count, "thop": thop_count}
