"""Each counting convention reproduces its tool's own number: every architecture file and random
networks, in total and for every layer the tool reports per module. Fails in CI without the tools."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnmacros.architecture import Architecture, read, validate
from cnnmacros.engine import compute, concrete_inputs
from cnnmacros.errors import ArchitectureError
from cnnmacros.yamlnodes import load

from .conftest import ARCHITECTURES, require

try:
    import fvcore.nn  # noqa: F401
    import ptflops  # noqa: F401
    import thop  # noqa: F401
    import torch
    import torchinfo  # noqa: F401

    from . import oracle, tools
except ImportError:  # pragma: no cover - depends on the machine
    torch = None  # type: ignore[assignment]

pytestmark = pytest.mark.oracle
FILES = sorted(ARCHITECTURES.glob("*.y*ml"))
EXAMPLES = max(1, int(os.environ.get("CNNMACROS_ORACLE_EXAMPLES", "1000")) // 10)
NEW_TYPES = True  # the layer types of the layer-types issue, with each tool's rules for them


@pytest.fixture(autouse=True)
def _tools() -> None:
    require(torch is not None, "PyTorch and the counting tools are not installed (pip install -e '.[oracle]')")
    torch.set_num_threads(1)
    warnings.filterwarnings("ignore")


def numeric(architecture: Architecture) -> Architecture:
    """A symbolic file at its smallest valid input; a numeric one as it is."""
    if all(isinstance(v, int) for v in architecture.input):
        return architecture
    return dataclasses.replace(architecture, input=concrete_inputs(architecture, how_many=1)[0])


def thop_rounds(row) -> bool:
    """thop counts adaptive average pooling as float64 (I/O + 1) x C x O, floored: one below the
    exact count when some output size does not divide its input's (the conventions page says so)."""
    return row.type.startswith("adaptiveavgpool") and any(
        i % o for i, o in zip(row.input[:-1], row.output[:-1], strict=True)
    )


def agree(architecture: Architecture, convention: str, label: str) -> None:
    summary = compute(architecture, convention=convention)
    count = tools.TOOLS[convention](architecture)
    paths = oracle.model(architecture).paths
    rounded = 0  # thop's float64 rounding, the one documented difference
    for row in summary.rows:
        path = paths.get(row.name)
        if path is None:  # add and concat are the forward's own: no tool reports them
            assert row.macs == 0, f"{label} {row.name} under {convention}: {row.macs} for a functional step"
            continue
        theirs = count.of(path)
        if convention == "thop" and thop_rounds(row) and row.macs - theirs == 1:
            rounded += 1
            continue
        assert row.macs == theirs, f"{label} {row.name} under {convention}: engine {row.macs}, tool {theirs}"
    total = summary.totals["macs"]
    assert total - rounded == count.total, f"{label} under {convention}: total {total}, tool {count.total}"
    oracle.REPORT["thop adaptive pools one below in floating point"] += rounded
    oracle.REPORT[f"{convention} comparisons"] += 1


@pytest.mark.parametrize("convention", sorted(tools.TOOLS) if torch is not None else ["torchinfo"])
@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_architecture_file_under_each_convention(path: Path, convention: str) -> None:
    agree(numeric(read(path)), convention, path.name)


@pytest.mark.parametrize("path", FILES, ids=[p.name for p in FILES])
def test_bytes_are_torchinfos(path: Path) -> None:
    architecture = numeric(read(path))
    totals = compute(architecture).totals
    assert (totals["param_bytes"], totals["forward_backward_bytes"]) == tools.torchinfo_bytes(architecture)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_random_networks_under_each_convention(data: st.DataObject) -> None:
    from .test_oracle import _yaml, network

    net = data.draw(network(rank=data.draw(st.integers(1, 3)), max_layers=4, new_types=NEW_TYPES))
    try:
        architecture = validate("random.yaml", load("random.yaml", _yaml(net)))
        compute(architecture)
    except ArchitectureError:
        return  # refused networks are the PyTorch oracle's business
    for convention in tools.TOOLS:
        agree(architecture, convention, "random network " + _yaml(net).decode())


def test_thops_floating_point_adaptive_pool() -> None:
    # 3 channels of 2 positions pooled to 3: exactly 3 x 2 sums + 3 x 3 divisions = 15; thop's
    # (2/3 + 1) x 9 in float64 is 14.999..., floored to 14.
    architecture = validate(
        "r.yaml",
        load(
            "r.yaml",
            b'{"name": "r", "input": [2, 3], "layers": [{"name": "p", "type": "adaptiveavgpool1d", "output": 3}]}',
        ),
    )
    assert compute(architecture, convention="thop").totals["macs"] == 3 * 2 + 3 * 3
    assert tools.thop_count(architecture).total == 14
