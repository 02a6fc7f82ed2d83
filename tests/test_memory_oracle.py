"""Training memory against PyTorch's autograd: every architecture file and random networks.

The standard model in train mode runs one forward pass at batch 2 and one at batch 3 under
``saved_tensors_hooks`` (``tests/memory_oracle.py``). Every layer's ``saved_bytes`` and every total
must equal PyTorch's, exactly, at both batches, counted at the batch and as the expression in ``B``
with the batch put in; random networks also run in every type PyTorch can train them in on the CPU,
and a backward pass and an optimizer step give the gradients and the optimizers' state. Without
PyTorch these tests skip locally and fail in CI.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnmacros.architecture import Architecture, read, validate
from cnnmacros.engine import compute, concrete_inputs
from cnnmacros.errors import ArchitectureError
from cnnmacros.memory import OPTIMIZERS
from cnnmacros.rows import Training
from cnnmacros.yamlnodes import load

from .conftest import ARCHITECTURES, require

try:
    import torch

    from . import oracle
    from .memory_oracle import DTYPES, training_memory
    from .test_oracle import conv_layer, network, pool_layer
except ImportError:  # pragma: no cover - depends on the machine
    torch = None  # type: ignore[assignment]

pytestmark = pytest.mark.oracle
EXAMPLES = max(1, int(os.environ.get("CNNMACROS_ORACLE_EXAMPLES", "1000")) // 5)
FILES = sorted(ARCHITECTURES.glob("*.y*ml"))
B = sympy.Symbol("B", integer=True, positive=True)
TRAIN_PARTS = ("input_bytes", "saved_bytes", "param_bytes", "buffer_bytes", "grad_bytes", "optimizer_bytes")


@pytest.fixture(autouse=True)
def _torch() -> None:
    require(torch is not None, "PyTorch is not installed (pip install torch==2.13.0)")
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)


def _at(value: object, batch: int) -> int:
    return value if isinstance(value, int) else int(value.subs(B, batch))  # type: ignore[attr-defined]


def compare(architecture: Architecture, label: str, dtype: str = "float32", backward: bool = False) -> None:
    """Every layer's saved bytes and every total, at batch 2 and 3, against PyTorch."""
    in_b = compute(architecture, dtype=dtype, training=Training(B, "cpu"))
    for batch in (2, 3):
        theirs = training_memory(architecture, batch, dtype, backward=backward)
        mine = compute(architecture, dtype=dtype, training=Training(batch, "cpu"))
        for i, (row, symbolic, got) in enumerate(zip(mine.rows, in_b.rows, theirs.saved, strict=True)):
            where = f"{label} ({dtype}, batch {batch}) layers[{i}] ({row.name}, {row.type})"
            assert row.saved_bytes == got, f"{where} saved bytes: engine {row.saved_bytes}, PyTorch {got}"
            assert _at(symbolic.saved_bytes, batch) == got, f"{where}: {symbolic.saved_bytes} at B = {batch}"
            oracle.REPORT["memory: layers checked"] += 1
        measured = {
            "input_bytes": theirs.input_bytes,
            "saved_bytes": theirs.saved_bytes,
            "param_bytes": theirs.param_bytes,
            "buffer_bytes": theirs.buffer_bytes,
        }
        if backward:
            measured["grad_bytes"] = theirs.grad_bytes
            for name in OPTIMIZERS:
                under = compute(architecture, dtype=dtype, training=Training(batch, "cpu", name))
                assert under.totals["optimizer_bytes"] == theirs.optimizer_bytes[name], f"{label} {name}"
            measured["optimizer_bytes"] = theirs.optimizer_bytes["adam"]
            measured["train_bytes"] = sum(measured[key] for key in TRAIN_PARTS)
        for key, got in measured.items():
            where = f"{label} ({dtype}, batch {batch}) {key}"
            assert mine.totals[key] == got, f"{where}: engine {mine.totals[key]}, PyTorch {got}"
            assert _at(in_b.totals[key], batch) == got, f"{where}: {in_b.totals[key]} at B = {batch}"
    oracle.REPORT["memory: networks checked"] += 1


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_every_architecture_file_keeps_what_pytorch_keeps(path: Path) -> None:
    architecture = read(path)
    if all(isinstance(v, int) for v in architecture.input):
        compare(architecture, path.name, backward=path.stem in SMALL)
    else:  # symbolic sizes: the expressions in the sizes and in B, at a concrete input and batch
        symbolic = compute(architecture, training=Training(B, "cpu"))
        shape = concrete_inputs(architecture, how_many=1)[0]
        concrete = dataclasses.replace(architecture, input=shape)
        compare(concrete, f"{path.name} at {shape}", backward=path.stem in SMALL)
        sizes = {s: v for s, v in zip(architecture.input, shape, strict=True) if not isinstance(s, int)}
        theirs = training_memory(concrete, 3)
        for row, got in zip(symbolic.rows, theirs.saved, strict=True):
            assert int(sympy.sympify(row.saved_bytes).subs({**sizes, B: 3})) == got, f"{path.name} {row.name}"
        assert int(symbolic.totals["saved_bytes"].subs({**sizes, B: 3})) == theirs.saved_bytes
    oracle.REPORT["memory: architecture files checked"] += 1


SMALL = ("mnist", "lenet5", "batchnorm-2d", "batchnorm-3d", "dilated-context", "wavenet")
"""Files small enough for a backward pass and an optimizer step in the test's time."""
CANNOT_TRAIN = "Expected more than 1 spatial element when training"
"""What PyTorch says of instance normalization over one position in train mode; the engine counts
the file's memory all the same (it checks the file in eval mode, where running statistics serve)."""


def memory_agrees(net: dict, dtype: str, backward: bool = False) -> None:
    text = json.dumps(net)
    try:
        architecture = validate("random.yaml", load("random.yaml", text.encode()))
        compute(architecture)
    except ArchitectureError:
        oracle.REPORT["memory: random cases the engine refuses"] += 1
        return
    try:
        compare(architecture, "random network " + text, dtype, backward)
    except (RuntimeError, ValueError, NotImplementedError) as exc:
        message = str(exc)
        if CANNOT_TRAIN in message:
            oracle.REPORT["memory: random cases PyTorch cannot train (instance norm over one position)"] += 1
        elif dtype != "float32" and "not implemented for" in message:
            oracle.REPORT[f"memory: random cases PyTorch cannot run in {dtype} on the CPU"] += 1
        else:
            with pytest.raises(oracle.TorchLayerError):  # refused in eval mode too: tests/test_oracle.py
                oracle.run(architecture)
            oracle.REPORT["memory: random cases PyTorch refuses"] += 1
        return
    oracle.REPORT[f"memory: random cases checked in {dtype}"] += 1


SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
TYPES = st.sampled_from(list(DTYPES)) if torch is not None else st.just("float32")


@SETTINGS
@given(network(rank=1), TYPES)
def test_random_1d_networks_keep_what_pytorch_keeps(net: dict, dtype: str) -> None:
    memory_agrees(net, dtype)


@SETTINGS
@given(network(rank=2), TYPES)
def test_random_2d_networks_keep_what_pytorch_keeps(net: dict, dtype: str) -> None:
    memory_agrees(net, dtype, backward=True)


@SETTINGS
@given(network(rank=3, max_layers=3), TYPES)
def test_random_3d_networks_keep_what_pytorch_keeps(net: dict, dtype: str) -> None:
    memory_agrees(net, dtype)


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
    ),
    TYPES,
)
def test_random_branches_keep_what_pytorch_keeps(case: tuple, dtype: str) -> None:
    rank, a, b, join, size, channels = case
    b = {**b, "from": "input"}
    layers = [a, b, {"name": "j", "type": join, "from": ["l0", "l1"]}]
    memory_agrees({"name": "random", "input": [size] * rank + [channels], "layers": layers}, dtype, backward=True)
