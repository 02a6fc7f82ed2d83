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
    from cnnmacros.rows import Training

    training = Training(args.batch, args.device, args.optimizer)
    result = summarize(args.file, convention=args.convention, dtype=args.dtype, training=training)
    names = {s.name for v in result.input if not isinstance(v, int) for s in v.free_symbols}
    if not isinstance(args.batch, int) and args.batch.name in names:
        name = args.batch.name
        print(f"{args.file}: --batch {name}: the file names an input size {name}; choose another name", file=sys.stderr)
        return 1
    fit = None
    if args.fits is not None:
        fit = _fit(args, result, training)
        if fit is None:
            return 1
    if args.json:
        data = result.to_json()
        if fit is not None:
            data["fits"] = {"memory": fit.memory, "largest_batch": fit.batch}
        print(json_text(data))
    else:
        from cnnmacros.text import explain, fits, table

        print(table(result))
        if fit is not None:
            print(fits(fit))
        if args.explain:
            print()
            print(explain(result))
    return 0


def _fit(args: argparse.Namespace, result, training):  # noqa: ANN001, ANN202 - summary's helper
    """The largest batch that fits in ``--fits``, from the training step's expression in B."""
    import dataclasses

    import sympy

    from cnnmacros.engine import summarize
    from cnnmacros.memory import largest_batch

    if isinstance(args.batch, int):  # the table's batch is a number: count once more in B
        batch = sympy.Symbol("B", integer=True, positive=True)
        result = summarize(
            args.file, convention=args.convention, dtype=args.dtype, training=dataclasses.replace(training, batch=batch)
        )
    else:
        batch = args.batch
    try:
        return largest_batch(result.totals["train_bytes"], batch, args.fits)
    except ValueError as exc:
        print(f"{args.file}: --fits: {exc}", file=sys.stderr)
        return None


def _batch(text: str):  # noqa: ANN202 - an int or a SymPy symbol
    """``--batch``: a positive integer, or a name for an expression in the batch size."""
    from cnnmacros.architecture import is_symbol_name

    if text.isdigit() and int(text) >= 1:
        return int(text)
    if is_symbol_name(text) and not text.isdigit():
        import sympy

        return sympy.Symbol(text, integer=True, positive=True)
    raise argparse.ArgumentTypeError(f"expected a positive integer or a name such as B, got {text!r}")


def _memory(text: str) -> int:
    from cnnmacros.memory import memory_size

    try:
        return memory_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


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


def parser() -> argparse.ArgumentParser:
    from cnnmacros.conventions import CONVENTIONS
    from cnnmacros.figures import DTYPES
    from cnnmacros.memory import DEVICES, OPTIMIZERS

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
        help="element type for the byte totals and the training memory (default float32; int8 and the "
        "indices and masks aside, as PyTorch trains no int8 model)",
    )
    p.add_argument(
        "--batch",
        type=_batch,
        default=1,
        help="batch size of the training memory: a positive integer (default 1) or a name such as B, for "
        "exact expressions in it (PyTorch's counts from batch 2 on: at batch 1 it cannot train batch norm, "
        "and takes some views where it otherwise copies)",
    )
    p.add_argument(
        "--device",
        choices=DEVICES,
        default="cuda",
        help="where the training runs (default cuda): PyTorch's kernels differ for dropout's mask",
    )
    p.add_argument(
        "--optimizer",
        choices=list(OPTIMIZERS),
        default="adam",
        help="0, 1, 2 and 2 state tensors per parameter (default adam); Adam's per-tensor step counters, "
        "4 bytes each, are left out",
    )
    p.add_argument(
        "--fits",
        type=_memory,
        metavar="SIZE",
        help="print the largest batch whose training step fits in SIZE, such as 24GiB (B, KB, MB, GB, KiB, "
        "MiB or GiB), worked exactly from the expression in the batch size",
    )
    p.set_defaults(run=summary)
    p = sub.add_parser("check", help="validate architecture files (all of architectures/ by default)")
    p.add_argument("paths", nargs="*")
    p.set_defaults(run=check)
    p = sub.add_parser("schema", help="print the JSON Schema of architecture files")
    p.set_defaults(run=schema)
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
