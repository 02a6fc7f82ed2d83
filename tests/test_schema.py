"""The JSON Schema: generated from the registry, shipped unchanged, and agreeing with the files."""

from __future__ import annotations

import json
from unittest.mock import ANY

import jsonschema
import pytest
import yaml

from cnnmacros.layers import REGISTRY
from cnnmacros.schema import SHIPPED, schema, schema_text

from .conftest import ARCHITECTURES, ROOT, run_cli

VALIDATOR = jsonschema.Draft202012Validator(schema())


def test_schema_is_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(schema())


def test_shipped_schema_has_not_drifted_from_the_registry() -> None:
    assert SHIPPED.read_text(encoding="utf-8") == schema_text(), "run python -m cnnmacros.schema"


def test_schema_lists_every_layer_type_and_its_keys() -> None:
    items = schema()["properties"]["layers"]["items"]["else"]
    assert items["properties"]["type"]["enum"] == [*REGISTRY, "channel_shuffle"]
    branches = {b["if"]["properties"]["type"]["const"]: b["then"] for b in items["allOf"]}
    assert set(branches) == {*REGISTRY, "channel_shuffle"}
    assert branches["channel_shuffle"]["properties"].keys() == branches["shuffle"]["properties"].keys()
    for name, kind in REGISTRY.items():
        assert set(branches[name]["properties"]) == {"name", "type", "from", *kind.options}, name
        merge = {"from"} if kind.sources[0] > 1 else set()
        required = {"name", "type"} | merge | {k for k, o in kind.options.items() if o.required}
        assert set(branches[name]["required"]) == required, name


def test_the_schema_knows_metrics_and_needs_their_origin() -> None:
    base = {"name": "n", "input": [4, 4, 3], "layers": [{"name": "a", "type": "relu"}]}
    good = {**base, "metrics": {"acc@1": 76.13, "acc@5": 92.862, "origin": "torchvision 0.28.0"}}
    assert not list(VALIDATOR.iter_errors(good))
    for metrics in ({"acc@1": 76.13}, {"acc@1": 101, "origin": "x"}, {"top1": 1, "origin": "x"}):
        assert list(VALIDATOR.iter_errors({**base, "metrics": metrics})), metrics


def test_the_schema_knows_blocks_and_their_references() -> None:
    """Blocks as the format defines them: a placement needs name and block; inside a block any
    option may be $NAME, and when/unless are references; a reference is $ and an identifier."""
    properties = schema()["properties"]
    block = properties["blocks"]["additionalProperties"]
    assert set(block["properties"]) == {"params", "inputs", "layers"}
    placement = properties["layers"]["items"]["then"]
    assert placement["required"] == ["name", "block"]
    assert placement["properties"]["repeat"] == {"type": "integer", "minimum": 1, "description": ANY}
    inner = block["properties"]["layers"]["items"]["else"]["allOf"]
    conv = next(b["then"] for b in inner if b["if"]["properties"]["type"]["const"] == "conv2d")
    assert {"$ref": "#/$defs/reference"} in conv["properties"]["filters"]["anyOf"]
    assert {"when", "unless"} <= set(conv["properties"])
    data = {
        "name": "n",
        "input": [8, 8, 3],
        "blocks": {
            "b": {"params": {"w": None}, "layers": [{"name": "c", "type": "conv2d", "filters": "$w", "kernel": 1}]}
        },
        "layers": [{"name": "x", "block": "b", "w": 4, "repeat": 2}],
    }
    assert list(VALIDATOR.iter_errors(data)) == []
    data["blocks"]["b"]["layers"][0]["filters"] = "$ w"  # not a reference, and not an integer
    data["layers"][0]["repeat"] = 0
    assert len(list(VALIDATOR.iter_errors(data))) == 2


@pytest.mark.parametrize("path", sorted(ARCHITECTURES.glob("*.yaml")), ids=lambda p: p.name)
def test_every_architecture_file_validates_and_points_at_the_schema(path) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# yaml-language-server: $schema=../cnnmacros/architecture.schema.json\n")
    assert list(VALIDATOR.iter_errors(yaml.safe_load(text))) == []


@pytest.mark.parametrize(
    "name",
    ["unknown-key.yaml", "zero-size.yaml", "wrong-type-float.yaml", "missing-required-key.yaml", "bad-symbol.yaml"],
)
def test_schema_also_rejects_broken_files(name: str) -> None:
    data = yaml.safe_load((ROOT / "tests" / "broken" / name).read_text(encoding="utf-8"))
    assert list(VALIDATOR.iter_errors(data))


def test_schema_command_prints_it() -> None:
    done = run_cli("schema")
    assert done.returncode == 0
    assert json.loads(done.stdout) == schema()
