"""The other formats of ``cnnmacros summary``: CSV, a Markdown pipe table and a LaTeX ``tabular``.

CSV carries what the JSON's layers carry, one row per layer with the JSON's keys as the header.
Markdown and LaTeX carry the terminal table (its columns, its input, output and total rows), so
the same table can go into a README or a paper. Author text is escaped for each syntax, after
``printable`` has escaped what a terminal cannot show.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from cnnmacros.errors import printable
from cnnmacros.figures import FIGURES, Figure
from cnnmacros.rows import Summary, format_shape
from cnnmacros.text import count

FORMATS = ("table", "json", "csv", "markdown", "latex")


def csv_text(data: dict) -> str:
    """One row per layer of the ``--json`` data; a list or a mapping (a shape, ``from``, a receptive
    field) is a cell of compact JSON, a missing value an empty cell."""
    keys: list[str] = []
    for layer in data["layers"]:
        keys += [k for k in layer if k not in keys]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(keys)
    for layer in data["layers"]:
        writer.writerow([_cell(layer.get(k)) for k in keys])
    return out.getvalue()


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    return printable(str(value))


def _rows(summary: Summary, text: Callable[[str], str]) -> tuple[list[Figure], list[list[str]], list[str]]:
    """The terminal table's columns: its figures, its body (input row, layers, output row) and its
    total row, every name, shape and count through ``text`` (a symbolic one has ``*`` and ``_``)."""
    figures = [f for f in FIGURES if "terminal" in f.columns]
    zeros = ["0"] * len(figures)
    body = [["Input", "input", text(format_shape(summary.input)), *zeros]]
    for r in summary.rows:
        counts = [text(count(r.figures[f.key])) for f in figures]
        body.append([text(r.name), r.type, text(format_shape(r.output)), *counts])
    body.append(["Output", "output", text(format_shape(summary.output)), *zeros])
    total = ["Total", "", "", *(text(count(summary.totals[f.key])) if f.total else "" for f in figures)]
    return figures, body, total


_MARKDOWN = {c: "\\" + c for c in "\\`*_[]<>|~&#"}


def _markdown(text: str) -> str:
    return "".join(_MARKDOWN.get(c, c) for c in printable(text).replace("\n", " "))


def markdown_table(summary: Summary) -> str:
    """A pipe table with a heading line (the network's name) above it."""
    figures, body, total = _rows(summary, _markdown)
    head = ["Layer", "Type", "Output shape", *(f.heading for f in figures)]
    align = ["---", "---", "---", *("--:" for _ in figures)]

    def line(cells: list[str]) -> str:
        return "| " + " | ".join(cells) + " |"

    total = [f"**{c}**" if c else c for c in total]
    lines = [f"**{_markdown(summary.name)}**", "", line(head), line(align), *(line(b) for b in body), line(total)]
    return "\n".join(lines)


_LATEX = {
    "\\": r"\textbackslash{}",
    "&": r"\&",
    "%": r"\%",
    "$": r"\$",
    "#": r"\#",
    "_": r"\_",
    "{": r"\{",
    "}": r"\}",
    "~": r"\textasciitilde{}",
    "^": r"\textasciicircum{}",
    "<": r"\textless{}",
    ">": r"\textgreater{}",
}


def _latex(text: str) -> str:
    return "".join(_LATEX.get(c, c) for c in printable(text).replace("\n", " "))


def latex_table(summary: Summary) -> str:
    """A ``tabular`` (booktabs-free: ``\\hline`` only), with the network's name in a comment."""
    figures, body, total = _rows(summary, _latex)
    head = ["Layer", "Type", "Output shape", *(f.heading for f in figures)]

    def line(cells: list[str]) -> str:
        return " & ".join(cells) + r" \\"

    spec = "lll" + "r" * len(figures)
    lines = [f"% {_latex(summary.name)}", rf"\begin{{tabular}}{{{spec}}}", r"\hline", line(head), r"\hline"]
    lines += [line(b) for b in body]
    lines += [r"\hline", line(total), r"\hline", r"\end{tabular}"]
    return "\n".join(lines)
