"""The ``cnnmacros`` command: ``summary``, ``check``, ``schema`` and ``import-torch``.

Bad input ends with every problem printed, one a line, and exit status 1; never a traceback.
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from cnnmacros.errors import ArchitectureError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from cnnmacros.architecture import Architecture

DEFAULT_DIR = Path("architectures")


def _files(paths: list[str]) -> list[Path]:
    """The files named, and every architecture file in the folders named, subfolders included: the
    site gives each a page (``architectures/torchvision/``), so ``check`` must see them too."""
    out: list[Path] = []
    for p in [Path(x) for x in paths] or [DEFAULT_DIR]:
        if p.is_dir():
            out += sorted([*p.rglob("*.yaml"), *p.rglob("*.yml")])
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


def input_sizes(architecture: Architecture, text: str) -> tuple[int, ...]:
    """The sizes of ``--input H,W,C``, one per entry of the file's input (symbolic or not); a bad
    value is reported at the file's ``input`` line, as the page's recompute reports it too."""
    from cnnmacros.errors import Problem

    def problem(message: str) -> Problem:
        return Problem(architecture.file, architecture.input_line, "input", message)

    entries = [entry.strip() for entry in text.split(",")]
    declared = architecture.input
    if len(entries) != len(declared):
        shown = ", ".join(str(v) for v in declared)
        raise ArchitectureError(
            [
                problem(
                    f"expected {len(declared)} sizes from --input, one per entry of the file's input [{shown}], "
                    f"got {len(entries)}"
                )
            ]
        )
    problems = [
        problem(f"expected a positive integer for size {i} from --input, got '{entry}'")
        for i, entry in enumerate(entries, 1)
        if not (entry.isascii() and entry.isdigit() and int(entry) > 0)
    ]
    if problems:
        raise ArchitectureError(problems)
    return tuple(int(entry) for entry in entries)


def _computed(args: argparse.Namespace, training):  # noqa: ANN001, ANN202 - summary's helper
    """The file's summary for ``training``, at ``--input`` when it is given."""
    from cnnmacros.engine import summarize

    if args.input is None:
        return summarize(args.file, convention=args.convention, dtype=args.dtype, training=training)
    import dataclasses

    from cnnmacros.architecture import read
    from cnnmacros.engine import compute

    architecture = read(args.file)
    sized = dataclasses.replace(architecture, input=input_sizes(architecture, args.input))
    return compute(sized, convention=args.convention, dtype=args.dtype, training=training)


def summary(args: argparse.Namespace) -> int:
    from cnnmacros.rows import Training

    training = Training(args.batch, args.device, args.optimizer)
    result = _computed(args, training)
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
    if args.format == "json":
        data = result.to_json()
        if fit is not None:
            data["fits"] = {"memory": fit.memory, "largest_batch": fit.batch}
        print(json_text(data))
    elif args.format != "table":
        from cnnmacros import exports

        if args.format == "csv":
            print(exports.csv_text(result.to_json()), end="")
        else:
            print(exports.markdown_table(result) if args.format == "markdown" else exports.latex_table(result))
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

    from cnnmacros.memory import largest_batch

    if isinstance(args.batch, int):  # the table's batch is a number: count once more in B
        batch = sympy.Symbol("B", integer=True, positive=True)
        result = _computed(args, dataclasses.replace(training, batch=batch))
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

    if text.isascii() and text.isdigit() and int(text) >= 1:  # '²' is a digit that int() refuses
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
    if not args.paths and not DEFAULT_DIR.is_dir():
        print(
            f"there is no {DEFAULT_DIR}/ directory here: run cnnmacros check in the folder that has it, "
            "or name the files or folders to check",
            file=sys.stderr,
        )
        return 1
    files = _files(args.paths)
    if not files:
        print(f"no architecture files found in {', '.join(args.paths) or DEFAULT_DIR}", file=sys.stderr)
        return 1
    failed = 0
    for problems in _checked(files):
        if problems is not None:
            failed += 1
            print(problems, file=sys.stderr)
    if failed:
        print(f"{failed} of {len(files)} files have errors", file=sys.stderr)
        return 1
    print(f"{len(files)} files checked, all valid")
    return 0


def _problems(path: Path) -> str | None:
    """The located errors of one file, as ``check`` prints them, or None for a valid file."""
    from cnnmacros.engine import summarize

    try:
        summarize(path)
    except ArchitectureError as exc:
        return str(exc)
    return None


def _checked(files: list[Path]) -> Iterator[str | None]:
    """``_problems`` of each file, in the order given, shared among the cores (``cnnmacros.forks``):
    checking the 90 files of architectures/ is a whole summary of each, 21,000 layers."""
    import cnnmacros.engine  # noqa: F401  (imported once, before any fork)
    from cnnmacros.forks import in_order

    def size(path: Path) -> int:
        return path.stat().st_size if path.is_file() else 0

    return in_order(_problems, files, weight=size, least=4)


def expand(args: argparse.Namespace) -> int:
    """The flat file: every placed block written out as the layers it stands for."""
    from pathlib import Path

    from cnnmacros.architecture import MAX_LAYERS, read_bytes, validate
    from cnnmacros.blocks import expand as place
    from cnnmacros.blocks import flat_text
    from cnnmacros.yamlnodes import YMap, load

    root = load(args.file, read_bytes(Path(args.file), args.file))
    validate(args.file, root)  # every problem first, as `check` gives them
    assert isinstance(root, YMap)
    expansion, _ = place(args.file, root, MAX_LAYERS) if "blocks" in root.items else (None, [])
    print(flat_text(root, expansion, Path(args.file).name), end="")
    return 0


def schema(args: argparse.Namespace) -> int:
    from cnnmacros.schema import schema_text

    print(schema_text(), end="")
    return 0


def import_onnx(args: argparse.Namespace) -> int:
    from cnnmacros.import_onnx import command

    return command(args.model, args.output, args.name)


def parser() -> argparse.ArgumentParser:
    from cnnmacros import __version__, torch_import
    from cnnmacros.conventions import CONVENTIONS
    from cnnmacros.exports import FORMATS
    from cnnmacros.figures import DTYPES
    from cnnmacros.memory import DEVICES, OPTIMIZERS

    top = argparse.ArgumentParser(
        prog="cnnmacros", description="Tensor sizes and parameter counts of CNNs, from formulas."
    )
    top.add_argument("--version", action="version", version=f"cnnmacros {__version__}")
    sub = top.add_subparsers(dest="command", required=True, title="commands", metavar="COMMAND")
    p = sub.add_parser(
        "summary", help="per-layer table of one architecture file", description="Per-layer table of one file."
    )
    p.add_argument("file", help="an architecture file (YAML)")
    formats = p.add_mutually_exclusive_group()
    formats.add_argument(
        "--format",
        choices=FORMATS,
        default="table",
        help="table (default), json, csv (one row per layer, the JSON's keys as header), markdown (a pipe "
        "table) or latex (a tabular)",
    )
    formats.add_argument("--json", dest="format", action="store_const", const="json", help="short for --format json")
    p.add_argument("--explain", action="store_true", help="also print every layer's worked formulas (table only)")
    p.add_argument(
        "--input",
        metavar="H,W,C",
        help="another input size, channels last, one per entry of the file's input (also for a file whose "
        "sizes are symbols): 224,224,3",
    )
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
        help="element type of the byte totals and the training memory (default float32); int64 indices "
        "and byte masks keep their size; PyTorch trains no int8 model, so int8 memory is a size only",
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
    p = sub.add_parser(
        "check",
        help="validate architecture files (all of architectures/ by default)",
        description="Validate architecture files: every problem, one a line, and exit status 1 if any.",
    )
    p.add_argument("paths", nargs="*", metavar="PATH", help="files, or folders of .yaml and .yml files")
    p.set_defaults(run=check)
    p = sub.add_parser(
        "expand",
        help="print the file with every block placed, as flat layers",
        description="Print the file with every block placed, as flat layers.",
    )
    p.add_argument("file", help="an architecture file (YAML)")
    p.set_defaults(run=expand)
    p = sub.add_parser(
        "schema", help="print the JSON Schema of architecture files", description="Print the JSON Schema."
    )
    p.set_defaults(run=schema)
    torch_import.add_command(sub)
    p = sub.add_parser(
        "import-onnx",
        help="write an architecture file from an ONNX model (needs cnnmacros[onnx])",
        description="Write an architecture file from an ONNX model: one layer per compute node, every "
        "unsupported node listed at once (needs cnnmacros[onnx]).",
    )
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
    command = parser()
    args = command.parse_args(argv)
    if getattr(args, "explain", False) and args.format != "table":
        command.error("--explain goes with the table format only")
    try:
        return args.run(args)
    except ArchitectureError as exc:
        print(exc, file=sys.stderr)
        return 1
    except BrokenPipeError:  # e.g. piped into head
        return 0


if __name__ == "__main__":
    sys.exit(main())
