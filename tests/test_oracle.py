"""Every architecture file and thousands of random layer stacks, checked against PyTorch.

Exact equality of each layer's output shape, parameter count and non-trainable count (batch
norm's running mean and variance). Settings that PyTorch rejects must be rejected by the engine
too, with a located error. Without PyTorch these tests skip locally and fail in CI.
"""

from __future__ import annotations

import dataclasses
import os
import re
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from cnnmacros.architecture import Architecture, read, validate
from cnnmacros.engine import compute, concrete_inputs
from cnnmacros.errors import ArchitectureError
from cnnmacros.yamlnodes import load

from .conftest import ARCHITECTURES, require

try:
    import torch

    from . import oracle
except ImportError:  # pragma: no cover - depends on the machine
    torch = None  # type: ignore[assignment]
    oracle = None  # type: ignore[assignment]

pytestmark = pytest.mark.oracle
EXAMPLES = int(os.environ.get("CNNMACROS_ORACLE_EXAMPLES", "1000"))
FILES = sorted(ARCHITECTURES.glob("*.y*ml"))


@pytest.fixture(autouse=True)
def _torch() -> None:
    require(torch is not None, "PyTorch is not installed (pip install torch==2.13.0)")
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)


def compare(architecture: Architecture, label: str) -> None:
    """Engine and PyTorch, layer by layer; a mismatch names the layer and the quantity."""
    engine = compute(architecture).rows
    reference = oracle.run(architecture)
    assert len(engine) == len(reference)
    for i, (mine, theirs) in enumerate(zip(engine, reference, strict=True)):
        where = f"{label} layers[{i}] ({mine.name})"
        assert tuple(mine.output) == theirs.output, (
            f"{where} output shape: engine {mine.output}, PyTorch {theirs.output}"
        )
        assert mine.weights == theirs.weights, f"{where} weights: engine {mine.weights}, PyTorch {theirs.weights}"
        assert mine.biases == theirs.biases, f"{where} biases: engine {mine.biases}, PyTorch {theirs.biases}"
        assert 2 * mine.macs == theirs.flops, f"{where} MACs: engine {mine.macs}, FlopCounterMode {theirs.flops} / 2"
        assert mine.non_trainable == theirs.non_trainable, (
            f"{where} non-trainable: engine {mine.non_trainable}, PyTorch {theirs.non_trainable}"
        )
        oracle.REPORT["layers checked"] += 1


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_architecture_file_matches_pytorch(path: Path) -> None:
    architecture = read(path)
    if all(isinstance(v, int) for v in architecture.input):
        compare(architecture, path.name)
    else:
        # Symbolic sizes: check a few concrete inputs, and that the engine's expressions agree.
        symbolic = compute(architecture)
        inputs = concrete_inputs(architecture, how_many=3)
        assert inputs, f"{path.name}: no concrete input satisfies the file"
        for shape in inputs:
            concrete = dataclasses.replace(architecture, input=shape)
            compare(concrete, f"{path.name} at {shape}")
            mapping = {s: v for s, v in zip(architecture.input, shape, strict=True) if not isinstance(s, int)}
            for mine, theirs in zip(symbolic.rows, oracle.run(concrete), strict=True):
                substituted = tuple(int(v.subs(mapping)) if not isinstance(v, int) else v for v in mine.output)
                assert substituted == theirs.output, f"{path.name} {mine.name} symbolic shape at {shape}"
    oracle.REPORT["architectures checked"] += 1


# Random layers -------------------------------------------------------------------------------


def _axes(draw: st.DrawFn, rank: int, low: int, high: int) -> object:
    if draw(st.booleans()):
        return draw(st.integers(low, high))
    return [draw(st.integers(low, high)) for _ in range(rank)]


@st.composite
def conv_layer(draw: st.DrawFn, rank: int, i: int) -> dict:
    layer = {
        "name": f"l{i}",
        "type": f"conv{rank}d",
        "filters": draw(st.integers(1, 8)),
        "kernel": _axes(draw, rank, 1, 5),
    }
    if draw(st.booleans()):
        layer["stride"] = _axes(draw, rank, 1, 3)
    choice = draw(st.sampled_from(["none", "number", "same", "valid"]))
    if choice == "number":
        layer["padding"] = _axes(draw, rank, 0, 3)
    elif choice in ("same", "valid"):
        layer["padding"] = choice
    if draw(st.booleans()):
        layer["dilation"] = _axes(draw, rank, 1, 3)
    if draw(st.booleans()):
        layer["groups"] = draw(st.integers(1, 4))
    if draw(st.booleans()):
        layer["bias"] = draw(st.booleans())
    return layer


@st.composite
def pool_layer(draw: st.DrawFn, rank: int, i: int) -> dict:
    layer = {
        "name": f"l{i}",
        "type": f"{draw(st.sampled_from(['max', 'avg']))}pool{rank}d",
        "pool": _axes(draw, rank, 1, 4),
    }
    if draw(st.booleans()):
        layer["stride"] = _axes(draw, rank, 1, 3)
    if draw(st.booleans()):
        layer["padding"] = _axes(draw, rank, 0, 2)
    if draw(st.booleans()):
        layer["ceil_mode"] = draw(st.booleans())
    if layer["type"].startswith("avg") and draw(st.booleans()):
        layer["count_include_pad"] = draw(st.booleans())
    return layer


OTHERS = ["relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "sigmoid", "tanh", "softmax", "dropout", "lrn"]
NEW_OTHERS = [
    "hardswish",
    "hardsigmoid",
    "mish",
    "prelu",
    "layernorm",
    "groupnorm",
    "instancenorm",
    "batchnorm",
    "shuffle",
    "scale",
    "slice",
]
MODES = {1: ["nearest", "linear"], 2: ["nearest", "bilinear", "bicubic"], 3: ["nearest", "trilinear"]}


def _pairs(draw: st.DrawFn, rank: int, high: int) -> object:
    choice = draw(st.integers(0, 2))
    if choice == 0:
        return draw(st.integers(0, high))
    if choice == 1:
        return [draw(st.integers(0, high)) for _ in range(rank)]
    return [[draw(st.integers(0, high)), draw(st.integers(0, high))] for _ in range(rank)]


@st.composite
def new_layer(draw: st.DrawFn, rank: int, i: int) -> dict:
    """One layer of a type the layer-types issue added, with its options drawn."""
    kind = draw(st.sampled_from(["transpose", "pad", "crop", "upsample", "global", "adaptive", "norm", "dense"]))
    name = f"l{i}"
    if kind == "transpose":
        layer = {
            "name": name,
            "type": f"convtranspose{rank}d",
            "filters": draw(st.integers(1, 6)),
            "kernel": _axes(draw, rank, 1, 4),
        }
        for key, low, high in (("stride", 1, 3), ("padding", 0, 2), ("output_padding", 0, 2), ("dilation", 1, 2)):
            if draw(st.booleans()):
                layer[key] = _axes(draw, rank, low, high)
        if draw(st.booleans()):
            layer["groups"] = draw(st.integers(1, 3))
        if draw(st.booleans()):
            layer["bias"] = draw(st.booleans())
        return layer
    if kind == "pad":
        return {"name": name, "type": f"zeropad{rank}d", "padding": _pairs(draw, rank, 3)}
    if kind == "crop":
        return {"name": name, "type": f"crop{rank}d", "crop": _pairs(draw, rank, 2)}
    if kind == "upsample":
        layer = {"name": name, "type": "upsample", "mode": draw(st.sampled_from(MODES[rank]))}
        if draw(st.booleans()):
            layer["scale"] = _axes(draw, rank, 1, 3)
        else:
            layer["size"] = [draw(st.integers(1, 12)) for _ in range(rank)]
        return layer
    if kind == "global":
        return {
            "name": name,
            "type": draw(st.sampled_from(["globalavgpool", "globalmaxpool"])),
            "keepdims": draw(st.booleans()),
        }
    if kind == "adaptive":
        return {
            "name": name,
            "type": f"adaptive{draw(st.sampled_from(['avg', 'max']))}pool{rank}d",
            "output": _axes(draw, rank, 1, 6),
        }
    if kind == "dense":
        return {"name": name, "type": "dense", "units": draw(st.integers(1, 6)), "flatten": False}
    other = draw(st.sampled_from(NEW_OTHERS))
    layer = {"name": name, "type": other}
    if other == "prelu":
        layer["shared"] = draw(st.booleans())
    if other in ("layernorm", "groupnorm", "instancenorm", "batchnorm"):
        layer["affine"] = draw(st.booleans())
    if other in ("groupnorm", "shuffle"):
        layer["groups"] = draw(st.integers(1, 4))
    if other == "slice":
        layer["stop"] = draw(st.integers(1, 8))
        if draw(st.booleans()):
            layer["start"] = draw(st.integers(0, 8))
    if other in ("instancenorm", "batchnorm"):
        layer["track_running_stats"] = draw(st.booleans())
    return layer


@st.composite
def network(draw: st.DrawFn, rank: int | None = None, max_layers: int = 4, new_types: bool = True) -> dict:
    rank = rank or draw(st.integers(1, 3))
    high = {1: 40, 2: 20, 3: 9}[rank]
    shape = [draw(st.integers(1, high)) for _ in range(rank)] + [draw(st.integers(1, 8))]
    layers = []
    kinds = ["conv", "conv", "pool", "pool", "batchnorm", "other"] + (["new", "new"] if new_types else [])
    for i in range(draw(st.integers(1, max_layers))):
        kind = draw(st.sampled_from(kinds))
        if kind == "new":
            layers.append(draw(new_layer(rank, i)))
        elif kind == "conv":
            layers.append(draw(conv_layer(rank, i)))
        elif kind == "pool":
            layers.append(draw(pool_layer(rank, i)))
        elif kind == "batchnorm":
            layers.append({"name": f"l{i}", "type": kind})
        else:  # the layers without parameters: each must keep its input's shape in PyTorch too
            other = draw(st.sampled_from(OTHERS))
            layer = {"name": f"l{i}", "type": other}
            if other == "lrn":
                layer["size"] = draw(st.integers(1, 6))
            layers.append(layer)
    if draw(st.booleans()):
        n = len(layers)
        if draw(st.booleans()):
            layers.append({"name": f"l{n}", "type": "flatten"})
            n += 1
        layers.append(
            {"name": f"l{n}", "type": "dense", "units": draw(st.integers(1, 16)), "bias": draw(st.booleans())}
        )
        if draw(st.booleans()):
            layers.append({"name": f"l{n + 1}", "type": "batchnorm"})
    return {"name": "random", "input": shape, "layers": layers}


def _yaml(network: dict) -> bytes:
    import json

    return json.dumps(network).encode()  # JSON is YAML: the full loading path is exercised


def engine_and_torch_agree(net: dict) -> None:
    text = _yaml(net)
    try:
        architecture = validate("random.yaml", load("random.yaml", text))
        compute(architecture)
    except ArchitectureError as exc:
        engine_error = exc
    else:
        engine_error = None
    try:
        spec = architecture if engine_error is None else _torch_only(net)
        torch_error = None
        if spec is not None:
            oracle.run(spec)
    except oracle.TorchLayerError as exc:
        torch_error = exc
    oracle.REPORT["random cases checked"] += 1
    if engine_error is None and torch_error is None:
        compare(architecture, "random network " + text.decode())
        compare_fields(architecture, "random network " + text.decode())
        oracle.REPORT["random cases computed by both"] += 1
        return
    if engine_error is not None and torch_error is not None:
        for problem in engine_error.problems:  # a located, readable message
            assert str(problem).startswith("random.yaml:") and ": expected " in str(problem), str(problem)
        # Both must refuse the same layer: the engine's first located problem is where PyTorch fails.
        first = min(int(re.match(r"layers\[(\d+)\]", p.path).group(1)) for p in engine_error.problems)
        if first != torch_error.index:
            oracle.REPORT["mismatches"] += 1
            raise AssertionError(
                f"engine refused layers[{first}], PyTorch refused {torch_error}: {text.decode()}\n{engine_error}"
            )
        oracle.REPORT["random cases rejected by both"] += 1
        return
    if engine_error is not None and all(JUMPS in p.message for p in engine_error.problems):
        # The one documented difference: a join of inputs whose positions step differently through
        # the network's input has no receptive field, so the engine refuses what PyTorch computes.
        oracle.REPORT["random cases refused by the engine only (joined inputs with different jumps)"] += 1
        return
    oracle.REPORT["mismatches"] += 1
    raise AssertionError(
        f"engine {'rejected' if engine_error else 'accepted'} and PyTorch "
        f"{'rejected' if torch_error else 'accepted'} {text.decode()}: {engine_error or torch_error}"
    )


def _torch_only(net: dict) -> Architecture | None:
    """The same network validated without shape checks, so PyTorch can try what the engine refused."""
    architecture = validate("random.yaml", load("random.yaml", _yaml(net)))
    return architecture


JUMPS = "expected inputs whose positions are equally far apart in the network's input"
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))


@SETTINGS
@given(network(rank=1))
def test_random_1d_networks(net: dict) -> None:
    engine_and_torch_agree(net)


@SETTINGS
@given(network(rank=2))
# a slice that starts past the only channel: PyTorch's narrow refuses it with an IndexError
@example({"name": "random", "input": [1, 1, 1], "layers": [{"name": "l0", "type": "slice", "stop": 2, "start": 2}]})
def test_random_2d_networks(net: dict) -> None:
    engine_and_torch_agree(net)


@SETTINGS
@given(network(rank=3, max_layers=3))
def test_random_3d_networks(net: dict) -> None:
    engine_and_torch_agree(net)


@SETTINGS
@given(
    st.integers(1, 3).flatmap(lambda r: st.tuples(st.just(r), conv_layer(r, 0), st.integers(1, 12), st.integers(1, 8)))
)
def test_random_single_convolutions(case: tuple) -> None:
    rank, layer, size, channels = case
    engine_and_torch_agree({"name": "random", "input": [size] * rank + [channels], "layers": [layer]})


@SETTINGS
@given(
    st.integers(1, 3).flatmap(
        lambda r: st.tuples(
            st.just(r),
            conv_layer(r, 0),
            st.one_of(conv_layer(r, 1), pool_layer(r, 1)),
            st.sampled_from(["add", "concat", "multiply"]),
            st.integers(1, 12),
            st.integers(1, 6),
        )
    )
)
def test_random_branches_joined(case: tuple) -> None:
    rank, a, b, join, size, channels = case
    b = {**b, "from": "input"}
    engine_and_torch_agree(
        {
            "name": "random",
            "input": [size] * rank + [channels],
            "layers": [a, b, {"name": "j", "type": join, "from": ["l0", "l1"]}],
        }
    )


def compare_fields(architecture: Architecture, label: str) -> None:
    """The engine's receptive field of every layer against the one PyTorch's gradient marks."""
    engine = compute(architecture).rows
    measured = oracle.receptive_fields(architecture)
    for row, theirs in zip(engine, measured, strict=True):
        mine = row.receptive_field
        if theirs is oracle.UNMEASURED:
            oracle.REPORT["receptive fields not measured (windows sized by the input)"] += 1
            continue
        if theirs is None:
            assert mine is None, f"{label} {row.name}: engine {mine}, no spatial output in PyTorch"
            continue
        got = (mine.size, mine.jump, mine.offset) if mine is not None else None
        assert got == theirs, f"{label} {row.name} receptive field (size, jump, offset): engine {got}, PyTorch {theirs}"
        oracle.REPORT["receptive fields checked"] += 1


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_receptive_fields_are_pytorchs_gradient(path: Path) -> None:
    architecture = read(path)
    if not all(isinstance(v, int) for v in architecture.input):
        architecture = dataclasses.replace(architecture, input=concrete_inputs(architecture, how_many=1)[0])
    compare_fields(architecture, path.name)
