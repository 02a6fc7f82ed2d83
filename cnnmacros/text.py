"""Plain-text rendering of a summary, for the terminal."""

from __future__ import annotations

from cnnmacros.rows import Size, Summary, format_shape, json_size


def count(value: Size) -> str:
    """``62,378,344``; a symbolic count in its SymPy text."""
    return f"{value:,}" if isinstance(value, int) else str(json_size(value))


def table(summary: Summary) -> str:
    """The per-layer table with an input row, an output row and the totals."""
    head = ("Layer", "Type", "Output shape", "Weights", "Biases", "Parameters")
    body = [("Input", "input", format_shape(summary.input), "0", "0", "0")]
    for r in summary.rows:
        body.append((r.name, r.type, format_shape(r.output), count(r.weights), count(r.biases), count(r.params)))
    body.append(("Output", "output", format_shape(summary.output), "0", "0", "0"))
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]
    right = (False, False, False, True, True, True)

    def line(cells: tuple[str, ...]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    rule = "-" * len(line(head))
    out = [summary.name, rule, line(head), rule, *(line(b) for b in body), rule]
    trainable = summary.total_params
    out.append(f"Parameters (weights and biases): {count(trainable)}")
    out.append(f"Trainable: {count(trainable)}")
    out.append(f"Non-trainable (batch-norm running statistics): {count(summary.total_non_trainable)}")
    out.append(
        f"Total as Keras counts it (trainable + non-trainable): {count(trainable + summary.total_non_trainable)}"
    )
    conditions = [(r.name, c) for r in summary.rows for c in r.conditions]
    if conditions:
        out.append("Conditions on the input size:")
        out += [f"  {name}: {json_size(c.lhs)} = {json_size(c.rhs)} ({c.label})" for name, c in conditions]
    return "\n".join(out)
