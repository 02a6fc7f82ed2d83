"""Each architecture file written with blocks against its flat twin in tests/flat/: the same layers,
layer for layer, in a file at most half as long.

The twins are the flat files these networks had before blocks: ResNet-18's written by hand, the
others written by scripts/generate_architectures.py from loops that follow torchvision's and the
paper's construction (tests/test_architecture_files.py keeps them byte for byte what it writes).
So each block file is checked against a second, independent writing of the same network, and
tests/test_architecture_files.py checks the block files against torchvision itself.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from cnnmacros.engine import summarize

from .conftest import ARCHITECTURES, ROOT

FLAT = ROOT / "tests" / "flat"
STEMS = ["densenet121", "efficientnet-b0", "mobilenet-v2", "mobilenet-v3-small", "resnet18", "resnet50", "unet"]
LAYER_KEYS = (
    "type",
    "output",
    "weights",
    "biases",
    "params",
    "non_trainable",
    "macs",
    "activations",
    "receptive_field",
)


def _lines(path: Path) -> int:
    return len(path.read_text(encoding="utf-8").splitlines())


def test_every_twin_has_its_block_file() -> None:
    assert sorted(p.stem for p in FLAT.glob("*.yaml")) == STEMS
    for stem in STEMS:
        assert "\nblocks:\n" in (ARCHITECTURES / f"{stem}.yaml").read_text(encoding="utf-8"), stem
        assert "\nblocks:" not in (FLAT / f"{stem}.yaml").read_text(encoding="utf-8"), stem


@pytest.mark.parametrize("stem", STEMS)
def test_block_file_has_its_twins_layers_and_totals(stem: str) -> None:
    ours = summarize(ARCHITECTURES / f"{stem}.yaml").to_json()
    twin = summarize(FLAT / f"{stem}.yaml").to_json()
    assert len(ours["layers"]) == len(twin["layers"])
    for position, (layer, flat) in enumerate(zip(ours["layers"], twin["layers"], strict=True)):
        where = f"{stem} layer {position}: {layer['name']} (twin: {flat['name']})"
        assert {key: layer[key] for key in LAYER_KEYS} == {key: flat[key] for key in LAYER_KEYS}, where
    assert ours["totals"] == twin["totals"]
    assert ours["input"] == twin["input"]


@pytest.mark.parametrize("stem", STEMS)
def test_block_file_keeps_its_header_and_is_at_most_half_as_long(stem: str) -> None:
    path, twin = ARCHITECTURES / f"{stem}.yaml", FLAT / f"{stem}.yaml"
    assert path.read_text(encoding="utf-8").startswith(
        "# yaml-language-server: $schema=../cnnmacros/architecture.schema.json\n"
    )
    ours, flat = (yaml.safe_load(p.read_text(encoding="utf-8")) for p in (path, twin))
    assert {k: ours[k] for k in ("name", "description", "source", "input")} == {
        k: flat[k] for k in ("name", "description", "source", "input")
    }
    assert 2 * _lines(path) <= _lines(twin), f"{stem}: {_lines(path)} lines, its twin {_lines(twin)}"


def test_resnet50_fits_in_40_lines() -> None:
    assert _lines(ARCHITECTURES / "resnet50.yaml") <= 40
