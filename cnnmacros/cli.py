"""The ``cnnmacros`` command: ``summary``, ``check`` and ``schema``.

Bad input ends with every problem printed, one a line, and exit status 1; never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path

from cnnmacros.errors import ArchitectureError

DEFAULT_DIR = Path("architectures")


def _files(paths: list[str]) -> list[Path]:
    out: list[Path] = []
    for p in [Path(x) for x in paths] or [DEFAULT_DIR]:
        if p.is_dir():
            out += sorted(list(p.glob("*.yaml")) + list(p.glob("*.yml")))
        else:
            out.append(p)
    return out


def json_text(data: dict) -> str:
    """Indented JSON with one line per layer: readable, and written by the fast C encoder."""
    parts = []
    for key, value in data.items():
        if key == "layers":
            rows = ",\n".join("    " + json.dumps(layer) for layer in value)
            parts.append(f'  "layers": [\n{rows}\n  ]')
        else:
            parts.append(f"  {json.dumps(key)}: {json.dumps(value)}")
    return "{\n" + ",\n".join(parts) + "\n}"


def summary(args: argparse.Namespace) -> int:
    from cnnmacros.engine import summarize

    result = summarize(args.file, convention=args.convention, dtype=args.dtype)
    if args.json:
        print(json_text(result.to_json()))
    else:
        from cnnmacros.text import explain, table

        print(table(result))
        if args.explain:
            print()
            print(explain(result))
    return 0


def check(args: argparse.Namespace) -> int:
    from cnnmacros.engine import summarize

    files = _files(args.paths)
    if not files:
        print(f"no architecture files found in {', '.join(args.paths) or DEFAULT_DIR}", file=sys.stderr)
        return 1
    failed = 0
    for path in files:
        try:
            summarize(path)
        except ArchitectureError as exc:
            failed += 1
            print(exc, file=sys.stderr)
    if failed:
        print(f"{failed} of {len(files)} files have errors", file=sys.stderr)
        return 1
    print(f"{len(files)} files checked, all valid")
    return 0


def schema(args: argparse.Namespace) -> int:
    from cnnmacros.schema import schema_text

    print(schema_text(), end="")
    return 0


def import_onnx(args: argparse.Namespace) -> int:
    from cnnmacros.import_onnx import command

    return command(args.model, args.output, args.name)


def parser() -> argparse.ArgumentParser:
    from cnnmacros.conventions import CONVENTIONS
    from cnnmacros.figures import DTYPES

    top = argparse.ArgumentParser(
        prog="cnnmacros", description="Tensor sizes and parameter counts of CNNs, from formulas."
    )
    sub = top.add_subparsers(dest="command", required=True)
    p = sub.add_parser("summary", help="per-layer table of one architecture file")
    p.add_argument("file")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--explain", action="store_true", help="also print every layer's worked formulas")
    p.add_argument(
        "--convention",
        choices=sorted(CONVENTIONS),
        default="cnnmacros",
        help="whose multiply-accumulates to count: cnnmacros (default; PyTorch's FlopCounterMode halved) or the "
        "tool's own count for the file's standard PyTorch model at batch 1 in eval mode",
    )
    p.add_argument(
        "--dtype",
        choices=list(DTYPES),
        default="float32",
        help="element type for the byte totals (default float32)",
    )
    p.set_defaults(run=summary)
    p = sub.add_parser("check", help="validate architecture files (all of architectures/ by default)")
    p.add_argument("paths", nargs="*")
    p.set_defaults(run=check)
    p = sub.add_parser("schema", help="print the JSON Schema of architecture files")
    p.set_defaults(run=schema)
    p = sub.add_parser("import-onnx", help="write an architecture file from an ONNX model (needs cnnmacros[onnx])")
    p.add_argument("model", help="the .onnx file")
    p.add_argument("-o", "--output", metavar="FILE", help="write the architecture file here (default: print it)")
    p.add_argument("--name", help="the network's name in the file (default: the model file's name)")
    p.set_defaults(run=import_onnx)
    return top


def main(argv: list[str] | None = None) -> int:
    # A short run over acyclic data: the cycle collector would only add passes that grow with the
    # number of layers (see engine._no_cycle_collection).
    gc.disable()
    for stream in (sys.stdout, sys.stderr):  # a terminal that cannot show a character gets its escape
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")
    args = parser().parse_args(argv)
    try:
        return args.run(args)
    except ArchitectureError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":
    sys.exit(main())
