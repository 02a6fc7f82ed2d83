"""The JSON Schema of architecture files, generated from the layer-type registry.

One source of truth: each layer type's declared options give its keys, types and defaults. The
generated schema is shipped as ``architecture.schema.json`` (editors find it through the
``yaml-language-server`` comment at the top of each file) and printed by ``cnnmacros schema``; a
test fails if the shipped file drifts from the registry.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from cnnmacros.architecture import MAX_LAYERS, MAX_NAME, METRIC_KEYS, TOP_KEYS
from cnnmacros.layers import ALIASES, REGISTRY

SHIPPED = Path(__file__).with_name("architecture.schema.json")
SYMBOL_PATTERN = "^[A-Za-z_][A-Za-z0-9_]*$"
LINE_PATTERN = "^[^\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069]*$"
"""One line without controls or bidirectional controls (the command is stricter: printable text)."""


def _name(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_NAME,
        "pattern": LINE_PATTERN,
        "description": description,
    }


REFERENCE = {
    "type": "string",
    "pattern": "^\\$[A-Za-z_][A-Za-z0-9_]*$",
    "description": "$NAME: the value of the block's parameter NAME, whole",
}


def _layer_schema(type_name: str, in_block: bool = False) -> dict[str, Any]:
    """A layer of this type; inside a block, any option may also be a ``$NAME`` and ``when`` and
    ``unless`` name boolean parameters."""
    kind = REGISTRY[ALIASES.get(type_name, type_name)]
    properties: dict[str, Any] = {
        "name": _name("unique name of the layer in this file"),
        "type": {"const": type_name, "description": kind.summary},
    }
    low, high = kind.sources
    names: dict[str, Any] = {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": low}
    if high is not None:
        names["maxItems"] = high
    properties["from"] = {
        "anyOf": [{"type": "string", "minLength": 1}, names] if low == 1 else [names],
        "description": "the earlier layers (or 'input') this layer reads; by default the layer before",
    }
    required = ["name", "type"] + (["from"] if low > 1 else [])
    for key, option in kind.options.items():
        entry = {**option.validator.schema, "description": option.help}
        if option.required:
            required.append(key)
        elif option.default is not None:
            entry["default"] = list(option.default) if isinstance(option.default, tuple) else option.default
        properties[key] = {"anyOf": [entry, {"$ref": "#/$defs/reference"}]} if in_block else entry
    if in_block:
        properties["type"] = {"anyOf": [properties["type"], {"$ref": "#/$defs/reference"}]}
        for key, words in (("when", "kept only where"), ("unless", "left out where")):
            properties[key] = {"$ref": "#/$defs/reference", "description": f"{words} this boolean parameter is true"}
    return {
        "title": type_name,
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def _layers(in_block: bool) -> dict[str, Any]:
    """A list of layers and placed blocks, of the top level or of a block."""
    layer = {
        "type": "object",
        "required": ["name", "type"],
        "properties": {"type": {"enum": [*REGISTRY, *ALIASES]} if not in_block else {}},
        "allOf": [
            {"if": {"properties": {"type": {"const": t}}}, "then": _layer_schema(t, in_block)}
            for t in (*REGISTRY, *ALIASES)
        ],
    }
    placement = {
        "type": "object",
        "description": "a placed block; its other keys are the block's parameters",
        "required": ["name", "block"],
        "properties": {
            "name": _name("name of the placed block; its layers are NAME.LOCAL, or NAME.i.LOCAL with repeat"),
            "block": {"type": "string", "description": "the name of a block in `blocks`"},
            "from": {
                "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
                "description": "one layer for each of the block's inputs; by default the layer before",
            },
            "repeat": {"type": "integer", "minimum": 1, "description": "copies in a chain, named NAME.0, NAME.1..."},
            "first": {"type": "object", "description": "parameters (or block) that copy 0 of a repeat takes instead"},
        },
    }
    if in_block:
        for key in ("block", "repeat"):
            placement["properties"][key] = {"anyOf": [placement["properties"][key], {"$ref": "#/$defs/reference"}]}
        placement["properties"]["when"] = {"$ref": "#/$defs/reference"}
        placement["properties"]["unless"] = {"$ref": "#/$defs/reference"}
    return {
        "type": "array",
        "minItems": 1,
        "maxItems": MAX_LAYERS,
        "items": {"if": {"required": ["block"]}, "then": placement, "else": layer},
    }


def schema() -> dict[str, Any]:
    """The schema as a dictionary (draft 2020-12)."""
    assert set(TOP_KEYS) == {"name", "description", "source", "family", "input", "metrics", "blocks", "layers"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "cnnmacros architecture file",
        "description": "One convolutional network: its input and its layers, in order.",
        "type": "object",
        "required": ["name", "input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": _name("name of the network"),
            "description": {"type": "string", "minLength": 1, "description": "Markdown shown on its page"},
            "source": {
                "type": "string",
                "minLength": 1,
                "description": "paper or page it comes from; Markdown links, [text](url), show as links on its page",
            },
            "input": {
                "description": "input size, channels last: [L, C], [H, W, C] or [D, H, W, C]; a size may be a name",
                "type": "array",
                "minItems": 1,
                "maxItems": 4,
                "items": {
                    "anyOf": [
                        {"type": "integer", "minimum": 1},
                        {"type": "string", "pattern": SYMBOL_PATTERN, "maxLength": MAX_NAME},
                    ]
                },
            },
            "family": _name("the kind of network (ResNet, VGG...): the site groups its nav and comparison by it"),
            "metrics": {
                "type": "object",
                "description": "published facts about trained weights (accuracy), with where they come from",
                "required": ["origin"],
                "additionalProperties": False,
                "properties": {
                    key: (
                        {"type": "number", "minimum": 0, "maximum": 100, "description": words}
                        if key.startswith("acc@")
                        else {"type": "string", "minLength": 1, "description": words}
                    )
                    for key, words in METRIC_KEYS.items()
                },
            },
            "blocks": {
                "type": "object",
                "description": "named groups of layers, placed by layers with `block: NAME`",
                "propertyNames": {"pattern": SYMBOL_PATTERN},
                "additionalProperties": {
                    "type": "object",
                    "required": ["layers"],
                    "additionalProperties": False,
                    "properties": {
                        "params": {
                            "type": "object",
                            "description": "parameter names and their defaults; null marks a required one",
                            "propertyNames": {"pattern": SYMBOL_PATTERN},
                        },
                        "inputs": {
                            "type": "array",
                            "items": {"type": "string", "pattern": SYMBOL_PATTERN},
                            "minItems": 1,
                            "uniqueItems": True,
                            "description": "the names its layers read for what the placement reads; [input] by default",
                        },
                        "layers": _layers(in_block=True),
                    },
                },
            },
            "layers": _layers(in_block=False),
        },
        "$defs": {"reference": REFERENCE},
    }


def schema_text() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def main() -> int:
    SHIPPED.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SHIPPED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
