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

from cnnmacros.architecture import MAX_LAYERS, MAX_NAME, TOP_KEYS
from cnnmacros.layers import REGISTRY

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


def _layer_schema(type_name: str) -> dict[str, Any]:
    kind = REGISTRY[type_name]
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
        properties[key] = entry
    return {
        "title": type_name,
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": False,
    }


def schema() -> dict[str, Any]:
    """The schema as a dictionary (draft 2020-12)."""
    assert set(TOP_KEYS) == {"name", "description", "source", "input", "layers"}
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
            "layers": {
                "type": "array",
                "minItems": 1,
                "maxItems": MAX_LAYERS,
                "items": {
                    "type": "object",
                    "required": ["name", "type"],
                    "properties": {"type": {"enum": list(REGISTRY)}},
                    "allOf": [
                        {"if": {"properties": {"type": {"const": t}}}, "then": _layer_schema(t)} for t in REGISTRY
                    ],
                },
            },
        },
    }


def schema_text() -> str:
    return json.dumps(schema(), indent=2) + "\n"


def main() -> int:
    SHIPPED.write_text(schema_text(), encoding="utf-8")
    print(f"wrote {SHIPPED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
