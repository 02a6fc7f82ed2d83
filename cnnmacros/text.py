"""Plain-text rendering of a summary, for the terminal: author text is escaped (``printable``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cnnmacros.errors import printable
from cnnmacros.figures import FIGURES, TOTALS
from cnnmacros.rows import Size, Summary, format_shape, json_size

if TYPE_CHECKING:
    from cnnmacros.memory import Fit


def count(value: Size) -> str:
    """``62,378,344``; a symbolic count in its SymPy text."""
    return f"{value:,}" if isinstance(value, int) else str(json_size(value))


def decimal(value: int, unit: int, digits: int = 2) -> str:
    """``value / unit`` to ``digits`` places, rounded half up, in integers only (no float division)."""
    scaled = (2 * value * 10**digits + unit) // (2 * unit)
    whole, part = divmod(scaled, 10**digits)
    return f"{whole:,}.{part:0{digits}d}"


def keras_size(value: int) -> str:
    """Bytes in the unit Keras' ``summary()`` picks: the largest of B, KB, MB, GB, TB that leaves at
    least 1, in steps of 1,024."""
    unit = 0
    while unit < 4 and value >= 1024 ** (unit + 1):
        unit += 1
    return f"{decimal(value, 1024**unit)} {('B', 'KB', 'MB', 'GB', 'TB')[unit]}"


def sizes(value: Size) -> str:
    """Bytes exactly, then as torchinfo prints them (MB of 10^6 bytes) and as Keras does."""
    if not isinstance(value, int):
        return f"{count(value)} bytes"
    return f"{value:,} bytes (torchinfo: {decimal(value, 10**6)} MB; Keras: {keras_size(value)})"


def table(summary: Summary) -> str:
    """The per-layer table with an input row, an output row and the totals; its figure columns are
    the declared figures that name the terminal."""
    figures = [f for f in FIGURES if "terminal" in f.columns]
    head = ("Layer", "Type", "Output shape", *(f.heading for f in figures))
    zeros = ("0",) * len(figures)
    body = [("Input", "input", format_shape(summary.input), *zeros)]
    for r in summary.rows:
        body.append((printable(r.name), r.type, format_shape(r.output), *(count(r.figures[f.key]) for f in figures)))
    body.append(("Output", "output", format_shape(summary.output), *zeros))
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    right = (False, False, False, *(True for _ in figures))

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)).rstrip()

    rule = "-" * len(line(head))
    out = [printable(summary.name), rule, line(head), rule, *(line(b) for b in body), rule]
    for total in TOTALS:
        if total.text:
            value = summary.totals[total.key]
            training = summary.training
            label = total.text.format(
                convention=summary.convention,
                dtype=summary.dtype,
                batch=json_size(training.batch),
                device=training.device,
                optimizer=training.optimizer,
            )
            out.append(f"{label}: {sizes(value) if total.bytes else count(value)}")
    conditions = [(printable(r.name), c) for r in summary.rows for c in r.conditions]
    if conditions:
        out.append("Conditions on the input size:")
        out += [f"  {name}: {c.text()} ({c.label})" for name, c in conditions]
    return "\n".join(out)


def fits(fit: Fit) -> str:
    """The ``--fits`` line: the largest batch, or that not one example fits, with the step's bytes."""
    memory = f"{fit.memory:,} bytes"
    step = f"a training step takes {fit.per_example:,} bytes per example + {fit.fixed:,}"
    if fit.batch < 1:
        return f"Batch 1 does not fit in {memory}: {step} = {fit.per_example + fit.fixed:,} bytes at batch 1"
    return f"Largest batch that fits in {memory}: {fit.batch:,} ({step})"


def _plain(expr: object, values: dict | None = None) -> str:
    """A formula in plain text, with symbols replaced by values when given (SymPy's string printer)."""
    import sympy
    from sympy.printing.str import StrPrinter

    class Printer(StrPrinter):
        def _print_Symbol(self, symbol: sympy.Symbol) -> str:
            if values and symbol.name in values:
                value = values[symbol.name]
                if isinstance(value, int):
                    return str(value)
                text = StrPrinter().doprint(value)
                return text if isinstance(value, sympy.Symbol) else f"({text})"
            return symbol.name

        def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
            (value, condition), (otherwise, _) = expr.args
            return f"{self._print(value)} if {self._print(condition)} else {self._print(otherwise)}"

    return Printer().doprint(expr)


def explain(summary: Summary) -> str:
    """Every layer's worked formulas in plain text: the formula, its numbers, the result."""
    from cnnmacros.formulas import formula

    out = ["Worked formulas"]
    for row in summary.rows:
        reads = f", reading {', '.join(map(printable, row.sources))}" if row.sources else ""
        out.append(f"{printable(row.name)} ({row.type}{reads}), output {format_shape(row.output)}")
        for step in row.steps:
            f = formula(step.formula)
            symbolic = _plain(f.rhs)
            substituted = _plain(f.rhs, step.values)
            result = count(step.result)
            parts = [f"{f.lhs} = {symbolic}"] + ([substituted] if substituted != result else []) + [result]
            out.append(f"  {step.label}: " + " = ".join(parts))
        for condition in row.conditions:
            out.append(f"  condition ({condition.label}): {condition.text()}")
        if not row.steps and not row.conditions:
            out.append("  no parameters; the output has the shape of the input")
    return "\n".join(out)
