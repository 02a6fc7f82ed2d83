"""Markdown and HTML for the site: formula blocks, worked steps, per-layer tables, pages.

Everything here takes computed rows (or a formula name) and returns text; nothing computes a
figure. Every author string is escaped before it reaches HTML, and tables are plain Markdown
tables so that mkdocs-material styles them.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import markdown as _markdown
import sympy

from cnnmacros import mathml, svg
from cnnmacros.errors import ArchitectureError, printable
from cnnmacros.figures import FIGURES, Figure
from cnnmacros.formulas import formula
from cnnmacros.rows import Field, Row, Shape, Size, Step, Summary, add_up, is_number

if TYPE_CHECKING:
    from cnnmacros.memory import Fit

_MD_SPECIAL = {c: f"&#{ord(c)};" for c in "\\`*_{}[]()#+-.!|~<>&\"'$"}
_SAFE_URL = re.compile(r"^(?:https?://|mailto:|#|/|\./|\.\./|[^:/?#]+(?:[/?#]|$))", re.IGNORECASE)


def escape(text: str) -> str:
    """Author text for Markdown or HTML: shown as typed, never read as markup or as a Jinja tag.

    A line feed reads as a space; every other character that is not printable (a carriage return
    would end a table row, U+2028 a line) is shown as its escape, ``\\r``, as in the terminal."""
    text = text.replace("\n", " ")
    if not text.isprintable():
        text = printable(text)
    return "".join(_MD_SPECIAL.get(c, c) for c in text)


def plain_title(text: str) -> str:
    """A page title that is safe where themes print it unescaped (nav, ``<title>`` after striptags).

    The page's own heading shows the exact text; the title swaps the three characters that could
    start markup for look-alikes.
    """
    return printable(" ".join(text.translate(str.maketrans({"<": "\u2039", ">": "\u203a", "&": "\uff06"})).split()))


def slug(index: int, name: str) -> str:
    """A safe, unique HTML id for a layer: its index and its name reduced to [a-z0-9-]."""
    words = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    return f"layer-{index}-{words}" if words else f"layer-{index}"


def count(value: Size) -> str:
    """A count for a table cell or prose: ``34,944``; a symbolic count as inline MathML, a sum one
    ``<math>`` per term, so that a narrow column or a phone's line may break between terms."""
    if is_number(value):
        return f"{value:,}"
    if not value.is_Add:
        return mathml.math(mathml.expression(value))
    terms = []
    for i, term in enumerate(value.as_ordered_terms()):
        negative = term.could_extract_minus_sign()
        sign = "<mo>&#x2212;</mo>" if negative else "<mo>+</mo>" if i else ""
        terms.append(mathml.math(f"<mrow>{sign}{mathml.expression(-term if negative else term)}</mrow>"))
    return '<span class="cnn-wrap">' + "<wbr>".join(terms) + "</span>"


def shape(value: Shape) -> str:
    """``55×55×96``, ``4,096``; a symbolic size as inline MathML, one ``<math>`` per size, so
    that a line may break after a ×."""
    if all(is_number(v) for v in value):
        return "×".join(f"{v:,}" for v in value)
    parts = []
    for v in value:
        inner = mathml.expression(v)
        if not is_number(v) and not getattr(v, "is_Symbol", False):
            inner = f'<mrow><mo stretchy="false">(</mo>{inner}<mo stretchy="false">)</mo></mrow>'
        parts.append(mathml.math(inner))
    # each size with the × after it kept together: a line breaks only after a ×
    pieces = [f'<span class="cnn-seg">{p}×</span>' for p in parts[:-1]] + [f'<span class="cnn-seg">{parts[-1]}</span>']
    return '<span class="cnn-wrap">' + "<wbr>".join(pieces) + "</span>"


def description(text: str) -> str:
    """Author Markdown with all HTML escaped first and only safe link targets kept."""
    rendered = _markdown.markdown(html.escape(text, quote=False))

    def check(match: re.Match[str]) -> str:
        url = html.unescape(match.group(2))
        return match.group(0) if _SAFE_URL.match(url.strip()) else f'{match.group(1)}="#"'

    safe = re.sub(r'\b(href|src)="([^"]*)"', check, rendered)
    # Braces and hashes as entities: nothing an author writes can look like a Jinja tag.
    return re.sub(r"&#?\w+;|[{}#]", lambda m: m.group(0) if len(m.group(0)) > 1 else f"&#{ord(m.group(0))};", safe)


def formula_block(name: str, with_calculator: bool = False) -> str:
    """A formula as display math, its note, and a legend of every symbol in it; with a
    calculator (the Formulas page's) when asked and the formula gives integers."""
    f = formula(name)
    rows = "".join(
        f"<tr><td>{mathml.symbol_math(symbol)}</td><td>{html.escape(words)}</td></tr>"
        for symbol, words in f.legend.items()
    )
    note = f'<p class="cnn-note">{html.escape(f.note)}</p>' if f.note else ""
    tool = calculator(name) if with_calculator and f.integer else ""
    return (
        f'<div class="cnn-formula" data-formula="{name}">{mathml.formula_display(name)}{note}'
        f'<table class="cnn-legend"><tbody>{rows}</tbody></table>{tool}</div>'
    )


def calculator(name: str) -> str:
    """A form that applies a formula to the reader's integers, with the JavaScript that
    cnnmacros.recompute generates from the formula itself (assets/recompute.js runs it)."""
    from cnnmacros.recompute import formula_script

    f = formula(name)
    fields = "".join(
        f'<label class="cnn-seg">{mathml.symbol_math(s.name)} <input name="{html.escape(s.name)}" '
        f'inputmode="numeric" size="6" value="{1 if s.is_positive else 0}" '
        f'aria-label="{html.escape(s.name)}"></label> '
        for s in f.args
    )
    return (
        f'<form class="cnn-calculator" data-formula="{html.escape(name)}"><span class="cnn-calculator-label">'
        f"Try it:</span> {fields}<span>{mathml.symbol_math(f.lhs)} = <output>…</output></span></form>"
        + formula_script(name)
    )


def step_block(step: Step, layer: str | None = None, figure: bool = True) -> str:
    """One worked step: its label (after the layer's name, when given), the formula with its
    numbers as display math, and for a layer's output size the figure of its sliding window."""
    label = html.escape(step.label[:1].upper() + step.label[1:])
    if layer:
        label = f"{escape(layer)}: {html.escape(step.label)}"
    drawn = ""
    if figure and step.key.startswith("output_size"):
        drawn = svg.step_figure(step, step.label.partition(" along ")[2])
    return (
        f'<div class="cnn-step" data-formula="{step.formula}"><span class="cnn-step-label">{label}</span>'
        f"{mathml.step_display(step)}{drawn}</div>"
    )


def _conditions(row: Row) -> str:
    return "".join(
        f'<div class="cnn-condition"><span class="cnn-step-label">Condition ({html.escape(c.label)})</span>'
        f"{mathml.broken(mathml.expression(c.lhs), (mathml.expression(c.rhs),), c.relation)}"
        "</div>"
        for c in row.conditions
    )


def worked(row: Row, done: dict[tuple, str] | None = None) -> str:
    """Every step of one layer, in the order the engine worked them out. ``done``: the markup of
    steps already rendered, by what they show (a network's repeated blocks work the same steps
    with the same numbers: five in six steps of the site's files are such repeats)."""
    sources = ""
    if row.sources:
        names = ", ".join(escape(name) for name in row.sources)
        sources = f'<p class="cnn-note">Reads {names}.</p>'
    if done is None:
        done = {}
    blocks = []
    for s in row.steps:
        shown = (s.key, s.label, s.formula, tuple((k, type(v), v) for k, v in s.values.items()), s.result)
        if shown not in done:
            done[shown] = step_block(s)
        blocks.append(done[shown])
    steps = "".join(blocks)
    if not steps and not row.conditions:
        steps = '<p class="cnn-note">No parameters; the output has the shape of the input.</p>'
    return sources + steps + _conditions(row)


def has_working(row: Row) -> bool:
    """Whether a layer has anything worked out: a layer without steps (a ReLU, a dropout) gets no box."""
    return bool(row.steps or row.conditions)


def worked_details(summary: Summary) -> str:
    """A collapsible block per layer with working, each the target of its layer's link in the table."""
    blocks = []
    done: dict[tuple, str] = {}
    for row in summary.rows:
        if not has_working(row):
            continue
        title = f"{escape(row.name)} · {row.type} · output {shape(row.output)}"
        blocks.append(
            f'<details class="cnn-worked" id="{slug(row.index, row.name)}"><summary>{title}</summary>'
            f"{worked(row, done)}</details>"
        )
    return "\n".join(blocks)


def field_cell(value: Field | None) -> str:
    """A receptive field's size, ``163×163``; its jump and offset in the cell's tooltip."""
    if value is None:
        return ""
    jump = "×".join(map(str, value.jump))
    offset = ", ".join(str(o).replace("-", "\u2212") for o in value.offset)
    return f'<span title="jump {jump}, offset {offset}">{"×".join(map(str, value.size))}</span>'


def _cell(figure: Figure, value: object) -> str:
    return field_cell(value) if figure.kind == "field" else count(value)  # type: ignore[arg-type]


def site_figures(summary: Summary) -> list[Figure]:
    """The declared figures that are columns of the site's table for this summary."""
    return [
        f
        for f in FIGURES
        if "site" in f.columns and (not f.when_nonzero or any(r.figures[f.key] != 0 for r in summary.rows))
    ]


PRIORITY = {"params": 1, "macs": 2}
"""Which figure columns a narrow screen keeps: 1 always, 2 from 480 px, any other from 760 px (see
cnnmacros.css). A column added by a new figure gives way first."""

WINDOW_KEYS = ("stride", "padding")
"""Settings shown for a sliding-window layer even when the file leaves them at their defaults: a
reader needs them to check the output size."""


def _value(key: str, value: Any, rank: int) -> str:
    """``kernel 11×11``, ``stride 4``, ``no bias``: one setting as the table shows it."""
    if isinstance(value, bool):
        return key.replace("_", " ") if value else f"no {key.replace('_', ' ')}"
    if isinstance(value, (list, tuple)) and len(set(value)) == 1 and key not in ("kernel", "pool"):
        text = str(value[0])  # one stride for every axis
    elif isinstance(value, (list, tuple)):
        text = "×".join(str(v) for v in value)
    elif key in ("kernel", "pool") and isinstance(value, int) and rank > 1:
        text = "×".join([str(value)] * rank)
    elif isinstance(value, int):
        text = f"{value:,}"
    else:
        text = str(value)
    return f"{key.replace('_', ' ')} {text}"


def setting(row: Row, key: str) -> str:
    """One setting's value as prose reads it: ``11×11``, ``4``, ``4,096``."""
    if key not in row.options:
        raise KeyError(f"layer {row.name!r} ({row.type}) has no setting {key!r}; settings: {', '.join(row.options)}")
    value = row.options[key]
    if value is None and key == "stride" and row.facts.get("window"):
        value = list(row.facts["window"].stride)
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and key not in ("kernel", "pool"):
        return f"{value:,}"
    return _value(key, value, len(row.output) - 1).partition(" ")[2]


def settings(row: Row) -> str:
    """A layer's settings as the file gives them, ``filters 96, kernel 11×11, stride 4, padding 0``;
    a sliding window's stride and padding always (a pool's default stride is its window)."""
    return ", ".join(setting_parts(row))


def setting_parts(row: Row) -> list[str]:
    """The settings of ``settings``, one per item."""
    from cnnmacros.layers import REGISTRY

    kind = REGISTRY.get(row.type)
    if kind is None:
        return []
    window = row.facts.get("window") or ("kernel" in row.options and row.facts.get("kernel"))
    rank = len(row.output) - 1
    shown = []
    for key in kind.options:
        value = row.options.get(key)
        if key in row.given or (window and key in WINDOW_KEYS):
            if value is None and key == "stride" and row.facts.get("window"):
                value = list(row.facts["window"].stride)
                value = value[0] if len(set(value)) == 1 else value
            if value is not None:
                shown.append(_value(key, value, rank))
    return shown


def _breakable(text: str) -> str:
    """Escaped text that may break after its dots and underscores (long ResNet layer names), and
    nowhere else: not after the hyphen of ``MaxPool-1``."""
    pieces = re.split(r"(?<=[._])", text)
    if len(pieces) == 1:
        return f'<span class="cnn-seg">{escape(text)}</span>'
    return "<wbr>".join(f'<span class="cnn-seg">{escape(p)}</span>' for p in pieces if p)


def _shape_cell(value: Shape) -> str:
    """A shape that may break after each ×, so that narrow columns wrap it."""
    return shape(value).replace("×", "×<wbr>") if all(is_number(v) for v in value) else shape(value)


def _settings(pairs: tuple[str, ...] | list[str], block: bool = True) -> str:
    """``key: value`` settings that wrap between pairs, never inside one; as a line of their own
    under a layer's type (``block``) or as a cell's whole text."""
    parts = ", ".join(f'<span class="cnn-seg">{html.escape(p)}</span>' for p in pairs)
    if not parts:
        return ""
    return f'<span class="cnn-settings">{parts}</span>' if block else f'<span class="cnn-wrap">{parts}</span>'


def _html_table(
    css: str,
    head: list[tuple[str, str]],
    body: list[list[str]],
    foot: list[str] | None = None,
    keys: list[str] | None = None,
) -> str:
    """A plain HTML table (Material styles it as its Markdown tables), one class per column;
    ``keys`` name the body's rows, then the foot's, for the page's recompute (``data-row``)."""
    classes = [c for _, c in head]

    def row(cells: list[str], tag: str = "td", key: str | None = None) -> str:
        named = f' data-row="{key}"' if key is not None else ""
        return f"<tr{named}>" + "".join(f'<{tag} class="{c}">{v}</{tag}>' for v, c in zip(cells, classes)) + "</tr>"

    names = iter(keys or [])
    out = [f'<div class="cnn-table {css}"><table><thead>{row([h for h, _ in head], "th")}</thead><tbody>']
    out += [row(cells, key=next(names, None)) for cells in body]
    if foot:
        out.append(row(foot, key=next(names, None)))
    out.append("</tbody></table></div>")
    return "\n".join(out)  # a row a line: the site hides the table from Markdown whole (see stash)


def layer_table(summary: Summary) -> str:
    """The per-layer table with input, output and total rows, as the source table has: each layer's
    type and settings, its output and one column per declared figure that names the site.

    Every cell names its column (``cnn-p1`` to ``cnn-p3``), so that a phone keeps the layer, its
    output and its parameters, and hides the rest in that order. Layers that a stage or a block
    holds (``Row.block``, or names such as ``layer1.0.conv1``) come under a row of their group
    with its subtotals, which folds (assets/recompute.js); rows and cells carry what the page's
    recompute fills in (``data-row``, ``data-figure``)."""
    figures = site_figures(summary)
    head = [("Layer", "cnn-name cnn-p1"), ("Type and settings", "cnn-type cnn-p3"), ("Tensor size", "cnn-shape cnn-p1")]
    head += [(f.heading, f"cnn-num cnn-{f.key.replace('_', '-')} cnn-p{PRIORITY.get(f.key, 3)}") for f in figures]
    classes = [c for _, c in head]

    def row(cells: list[str], attributes: str, keys: list[str | None], tag: str = "td") -> str:
        out = []
        for value, css, key in zip(cells, classes, [None, None, None, *keys], strict=True):
            data = f' data-figure="{html.escape(figures[key].json)}"' if key is not None else ""
            out.append(f'<{tag} class="{css}"{data}>{value}</{tag}>')
        return f"<tr{attributes}>" + "".join(out) + "</tr>"

    every = list(range(len(figures)))
    totals_only = [i if f.total else None for i, f in enumerate(figures)]

    def ends(label: str, value: Shape, key: str) -> str:
        cells = [label, "", _shape_cell(value), *("0" if f.total else "" for f in figures)]
        return row(cells, f' data-row="{key}"', [None] * len(figures))

    groups = table_groups(summary.rows)
    holding: dict[int, list[str]] = {}
    starts: dict[int, list[Group]] = {}
    for group in groups:
        starts.setdefault(group.first, []).append(group)
        for i in range(group.first, group.last + 1):
            holding.setdefault(i, []).append(group.id)
    heading = row([h for h, _ in head], "", [None] * len(figures), "th")
    lines = [f'<div class="cnn-table cnn-layers"><table><thead>{heading}</thead><tbody>']
    lines.append(ends("Input", summary.input, "input"))
    for i, r in enumerate(summary.rows):
        for group in starts.get(i, []):
            rows = summary.rows[group.first : group.last + 1]
            button = (
                f'<button type="button" class="cnn-fold" data-fold="{group.id}" aria-expanded="true">'
                f"{_breakable(group.name)}</button>"
            )
            cells = [button, escape(group.kind), _shape_cell(rows[-1].output)]
            cells += [count(add_up(x.figures[f.key] for x in rows)) if f.total else "" for f in figures]
            outer = " ".join(holding[i][: holding[i].index(group.id)])
            lines.append(row(cells, f' class="cnn-group" data-group="{group.id}" data-in="{outer}"', [*totals_only]))
        reads = f" ← {', '.join(escape(n) for n in r.sources)}" if r.sources else ""
        name = _breakable(r.name)
        if has_working(r):
            name = f'<a href="#{slug(r.index, r.name)}">{name}</a>'
        kind = r.type + reads + _settings(setting_parts(r))
        cells = [name, kind, _shape_cell(r.output), *(_cell(f, r.figures[f.key]) for f in figures)]
        inside = f' data-in="{" ".join(holding[i])}"' if i in holding else ""
        lines.append(row(cells, f' data-row="{i + 1}"{inside}', every))
    lines.append(ends("Output", summary.output, "output"))
    total = ["<strong>Total</strong>", "", ""]
    for f in figures:
        value = summary.totals.get(f.key) if f.total else None
        total.append(
            "" if value is None else f"<strong>{count(value)}</strong>" if f.key in BOLD_TOTALS else count(value)
        )
    lines.append(row(total, ' data-row="total"', totals_only))
    lines.append("</tbody></table></div>")
    return "\n".join(lines)  # a row a line: the site hides the table from Markdown whole (see stash)


@dataclass(frozen=True)
class Group:
    """A run of table rows that one stage or block holds: rows ``first`` to ``last`` (0-based)."""

    id: str
    name: str
    kind: str
    first: int
    last: int


def _group_path(row: Row) -> list[str]:
    """The groups that hold a row, outermost first: the prefixes of its block (``layer2``,
    ``layer2.0``), or of its dotted name in a flat file (``layer2.0.conv1``)."""
    path = row.block or (row.name.rsplit(".", 1)[0] if "." in row.name else "")
    parts = path.split(".") if path else []
    return [".".join(parts[: n + 1]) for n in range(len(parts))]


def table_groups(rows: list[Row]) -> list[Group]:
    """Every group of two rows or more, outermost first where several start together; a group
    with the same rows as the one around it, or with every row of the table, is left out."""
    runs: list[tuple[str, int, int]] = []
    open_runs: dict[str, int] = {}
    paths = [_group_path(r) for r in rows]
    for i, path in enumerate([*paths, []]):
        for prefix in list(open_runs):
            if prefix not in path:
                runs.append((prefix, open_runs.pop(prefix), i - 1))
        for prefix in path:
            open_runs.setdefault(prefix, i)
    kept: list[tuple[str, int, int]] = []
    for prefix, first, last in sorted(runs, key=lambda run: (run[1], -run[2], run[0].count("."))):
        if last - first < 1 or (first == 0 and last == len(rows) - 1):
            continue
        if any(k[1] == first and k[2] == last for k in kept):  # the same rows as the group around it
            continue
        kept.append((prefix, first, last))

    def inside(inner: tuple[str, int, int], outer: tuple[str, int, int]) -> bool:
        return inner is not outer and outer[1] <= inner[1] and inner[2] <= outer[2]

    out = []
    for n, group in enumerate(kept):
        prefix, first, last = group
        below = [k for k in kept if inside(k, group)]
        children = [k for k in below if not any(inside(k, o) for o in below)]
        block = rows[first].block_type if rows[first].block == prefix else None
        size = last - first + 1
        if block:
            kind = f"{block} block, {size} layers"
        elif children:
            kind = f"{len(children)} blocks, {size} layers"
        else:
            kind = f"{size} layers"
        out.append(Group(f"cnn-g{n}", prefix, kind, first, last))
    return out


BOLD_TOTALS = ("params", "non_trainable")
"""The totals a reader looks for first, as the documents' tables set them."""


def totals_text(summary: Summary) -> str:
    """One sentence with the totals, in words a reader expects from Keras and PyTorch."""
    totals = summary.totals

    def total(key: str, value: Size | None = None) -> str:  # marked for the page's recompute
        return f'<span data-total="{key}">{count(totals[key] if value is None else value)}</span>'

    text = f"**{total('params')}** parameters (weights and biases), all trainable"
    if totals["non_trainable"] != 0:
        keras = totals["params"] + totals["non_trainable"]
        text += (
            f", and **{total('non_trainable')}** non-trainable batch-norm statistics (running"
            f" mean and variance). Keras reports {total('keras_total', keras)} parameters in all; PyTorch keeps the"
            " statistics as buffers"
        )
    text += (
        f". One example costs **{total('macs')}** multiply-accumulates"
        f" ({total('flops')} floating-point operations), and the layers' outputs hold"
        f" {total('activations')} values."
    )
    return text


def recompute_control(axes: list[str], sizes: list[int], script: str) -> str:
    """The input-size control above the table: one field per entry of the input, channels last;
    ``script`` is the page's generated program (cnnmacros.recompute)."""
    fields = "".join(
        f'<label class="cnn-seg">{escape(axis)} <input name="{escape(axis)}" inputmode="numeric" pattern="[0-9]*" '
        f'size="5" value="{size}" aria-label="input size {escape(axis)}"></label>'
        + ('<span aria-hidden="true">×</span>' if i < len(axes) - 1 else "")
        for i, (axis, size) in enumerate(zip(axes, sizes, strict=True))
    )
    return (
        '<div class="cnn-recompute"><form class="cnn-recompute-form"><span class="cnn-recompute-label">'
        f"Try another input size:</span> {fields} "
        '<button type="submit" class="md-button md-button--primary">Recompute</button> '
        '<button type="reset" class="md-button">Back</button></form>'
        '<p class="cnn-recompute-status" aria-live="polite">The table, the totals and the training-memory '
        "calculator follow the size you enter, computed in your browser from the same formulas (the worked "
        "formulas and figures further down stay at the file's own size).</p>"
        f'<ul class="cnn-recompute-errors"></ul>{script}</div>'
    )


def source_links(text: str) -> str:
    """An author's ``source``: plain text, or Markdown with links (safe targets only), inline."""
    rendered = description(text).strip()
    return rendered.removeprefix("<p>").removesuffix("</p>")


def file_block(name: str, text: str, url: str = "") -> str:
    """The architecture file itself, folded: a reader sees what the page was computed from."""
    escaped = re.sub(r"[{}#]", lambda m: f"&#{ord(m.group(0))};", html.escape(text, quote=False)).replace("\n", "&#10;")
    link = f' (<a href="{html.escape(url)}">in the repository</a>)' if url else ""
    return (
        f'<details class="cnn-file"><summary>The file, <code>{html.escape(name)}</code></summary>'
        f'<pre><code class="language-yaml">{escaped}</code></pre><p class="cnn-note">Edit it{link} and the page '
        "follows: every figure here is computed from it.</p></details>"
    )


BLOCK_FORMULAS = ("weights", "biases", "non_trainable", "macs")
"""The steps whose formulas a block's section shows: what its layers count."""


def blocks_section(summary: Summary) -> str:
    """Each block once, with its parameters, its layers as written and the formulas they count
    with; then the stage table that places them, with each placement's subtotals."""
    if not summary.blocks:
        return ""
    parts = ["## Blocks", "The file writes these layers once, as blocks, and places them in stages."]
    for block in summary.blocks:
        params = ", ".join(
            f"`{escape(k)}` (required)" if v is None else f"`{escape(k)}` = `{escape(v)}`" for k, v in block.params
        )
        parts.append(f"### {escape(block.name)}")
        inputs = ", ".join(f"`{escape(n)}`" for n in block.inputs)
        parts.append(f"Parameters: {params or 'none'}. Inputs: {inputs}.")
        head = [("Layer", "cnn-name cnn-p1"), ("Type and settings", "cnn-type cnn-p1")]
        body = [[_breakable(n), html.escape(t) + _settings(rest)] for n, t, rest in block.layers]
        parts.append(_html_table("cnn-block", head, body))
        formulas: list[str] = []
        for row in summary.rows:
            if row.block_type != block.name:
                continue
            for step in row.steps:
                if step.key in BLOCK_FORMULAS and step.formula not in formulas:
                    formulas.append(step.formula)
        if formulas:
            parts.append("Its layers count with:")
            parts += [formula_block(name) for name in formulas]
    if summary.stages:
        head = [
            ("Stage", "cnn-name cnn-p1"),
            ("Block", "cnn-type cnn-p2"),
            ("Copies", "cnn-num cnn-p1"),
            ("Parameters", "cnn-type cnn-p3"),
            ("Copy 0 instead", "cnn-type cnn-p3"),
            ("Output", "cnn-shape cnn-p1"),
            ("Params", "cnn-num cnn-params cnn-p1"),
            ("MACs", "cnn-num cnn-macs cnn-p2"),
        ]
        body = []
        for stage in summary.stages:
            rows = summary.rows_of(stage.name)
            body.append(
                [
                    _breakable(stage.name),
                    html.escape(stage.block),
                    "1" if stage.repeat is None else str(stage.repeat),
                    _settings(stage.given, block=False),
                    _settings(stage.first, block=False),
                    _shape_cell(rows[-1].output) if rows else "",
                    count(add_up(r.figures["params"] for r in rows)),
                    count(add_up(r.figures["macs"] for r in rows)),
                ]
            )
        parts.append("### Stages")
        parts.append(_html_table("cnn-stages", head, body))
    return "\n\n".join(parts)


def architecture_page(
    summary: Summary,
    heading: bool = True,
    details: str | None = None,
    file_url: str = "",
    file_text: str = "",
    recompute: str = "",
    in_batch: Summary | None = None,
    fits: list[tuple[str, Fit]] | None = None,
) -> str:
    """A whole page for one architecture file: description, source, the file, table, totals, blocks,
    charts, training memory and worked formulas. ``details`` are the per-layer blocks when the caller
    has set them aside for Markdown; ``file_url`` links the file where it is kept; ``file_text`` is
    shown folded; ``in_batch`` is the same file counted for a symbolic batch size, and ``fits`` the
    largest batches that fit common memories."""
    parts = [f"# {escape(summary.name)}"] if heading else []
    if summary.description:
        parts.append(f'<div class="cnn-description">{description(summary.description)}</div>')
    if summary.source:
        parts.append(f'<p class="cnn-source">Source: {source_links(summary.source)}</p>')
    where = (
        f'<a href="{html.escape(file_url)}"><code>{html.escape(summary.file)}</code></a>'
        if file_url
        else (f"<code>{html.escape(summary.file)}</code>")
    )
    parts.append(f"<p>Defined in {where}; input {shape(summary.input)}, channels last.</p>")
    if file_text:
        parts.append(file_block(summary.file, file_text, file_url))
    if recompute:
        parts.append(recompute)
    parts.append(layer_table(summary))
    parts.append(totals_text(summary))
    conditions = [(r, c) for r in summary.rows for c in r.conditions if c.relation == "="]
    if conditions:
        parts.append(
            "The input size is symbolic, and a declared input count ties it down: "
            + "; ".join(f"{escape(r.name)} needs {mathml.equation(c.lhs, c.rhs)}" for r, c in conditions)
            + "."
        )
    bounds = [
        (r, [mathml.equation(c.lhs, c.rhs, relation=c.relation) for c in r.conditions if c.relation != "="])
        for r in summary.rows
    ]
    bounds = [(r, b) for r, b in bounds if b]
    if bounds:
        parts.append(
            "Every size is at least 1 only for a large enough input: "
            + "; ".join(f"{escape(r.name)} needs {' and '.join(b)}" for r, b in bounds)
            + "."
        )
    blocks = blocks_section(summary)
    if blocks:
        parts.append(blocks)
    chart = svg.cost_chart(summary)
    if chart:
        parts.append("## Where the parameters and multiply-accumulates are")
        parts.append(chart)
    graph = svg.network_graph(summary)
    if graph:
        parts.append("## The network, layer by layer")
        boxes = len(svg.graph_nodes(summary))
        opened = " open" if boxes <= GRAPH_OPEN else ""
        parts.append(
            f'<details class="cnn-graph-box"{opened}><summary>Graph of the {len(summary.rows):,} layers, with the '
            f"shape of each output</summary>{graph}</details>"
        )
    parts.append("## Training memory")
    parts.append(memory_text(summary, in_batch, fits or []))
    if recompute:
        parts.append(memory_calculator())
    parts.append(saved_table(in_batch or summary))
    parts.append("## Worked formulas, layer by layer")
    parts.append("Select a layer in the table, or open it below, to see each figure worked out from its formula.")
    parts.append(worked_details(summary) if details is None else details)
    return "\n\n".join(parts) + "\n"


GRAPH_OPEN = 40
"""Graphs of at most this many boxes are shown open; longer ones fold, so the page stays readable."""


def seen_positions(windows: list[tuple[int, int, int, int]]) -> set[int]:
    """The input positions that output position 0 reads through a chain of windows, each given as
    (kernel, stride, dilation, padding before): the receptive field with its holes."""
    seen, jump = {0}, 1
    for kernel, stride, dilation, before in windows:
        seen = {p + (t * dilation - before) * jump for p in seen for t in range(kernel)}
        jump *= stride
    return seen


def field_strip(windows: list[tuple[int, int, int, int]]) -> str:
    """An inline SVG strip of the input positions one output position spans: the ones it reads
    shaded, the holes white, positions in the padding dashed."""
    seen = seen_positions(windows)
    first, last = min(seen), max(seen)
    cell, gap = 22, 2
    width = (last - first + 1) * (cell + gap)
    cells = []
    for i, position in enumerate(range(first, last + 1)):
        x = i * (cell + gap)
        kind = "seen" if position in seen else "hole"
        dash = ' stroke-dasharray="3 2"' if position < 0 else ""
        cells.append(
            f'<rect class="cnn-cell cnn-{kind}" x="{x}" y="0" width="{cell}" height="{cell}"{dash}/>'
            f'<text x="{x + cell / 2}" y="{cell + 14}" text-anchor="middle">{position}</text>'
        )
    label = f"{len(seen)} of {last - first + 1} positions seen, from {first} to {last}"
    return (
        f'<figure class="cnn-strip"><svg viewBox="-1 -1 {width + 2} {cell + 20}" width="{width + 2}" '
        f'role="img" aria-label="{label}">{"".join(cells)}</svg><figcaption>{label}</figcaption></figure>'
    )


def convention_block(name: str) -> str:
    """One counting convention: how its tool is called, its rules as formulas, and its quirks."""
    from cnnmacros.conventions import CONVENTIONS

    convention = CONVENTIONS[name]
    lines = ["| Layers | Counted as | In words |", "| --- | --- | --- |"]
    for layers, formulas, words in convention.table():
        ranked = [f for f in formulas if re.search(r"[123]d(_|$)", f)]
        # one formula per rank: the 2D one stands for all; variants by option are all shown
        shown = [f for f in formulas if f not in ranked] + [f for f in ranked if re.search(r"2d(_|$)", f)]
        layers += " (2D; 1D and 3D alike)" if ranked else ""
        maths = "<br>".join(mathml.formula_math(f, display=False) for f in shown)
        lines.append(f"| {html.escape(layers)} | {maths} | {html.escape(words)} |")
    lines.append("| every other layer | 0 | |")
    parts = [html.escape(convention.description)]
    if convention.tool:
        version = f", version {html.escape(convention.version)}" if convention.version else ""
        parts.append(f"The number it reproduces: `{html.escape(convention.tool)}`{version}.")
    parts.append('<div class="cnn-rules" markdown>\n\n' + "\n".join(lines) + "\n\n</div>")
    if convention.quirks:
        parts.append("\n".join(f"- {html.escape(q)}" for q in convention.quirks))
    return "\n\n".join(parts)


def conventions_table(entries: list[tuple[str, str, dict[str, Size | ArchitectureError]]]) -> str:
    """Every architecture's multiply-accumulates under every convention; ``entries`` are (page url,
    name, MACs or the file's errors by convention)."""
    from cnnmacros.conventions import CONVENTIONS

    names = list(CONVENTIONS)
    lines = ["| Architecture | " + " | ".join(names) + " |", "| --- |" + " --: |" * len(names)]
    for url, name, results in entries:
        cells = []
        for convention in names:
            result = results[convention]
            cells.append("*file has errors*" if isinstance(result, ArchitectureError) else count(result))
        lines.append(f"| [{escape(name)}]({url}) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def error_block(error: ArchitectureError) -> str:
    """What a page shows in place of an architecture whose file is broken (in ``mkdocs serve``)."""
    items = "".join(f"<li><code>{html.escape(str(p))}</code></li>" for p in error.problems)
    return (
        '<div class="admonition failure cnn-error"><p class="admonition-title">This architecture file has errors'
        f"</p><ul>{items}</ul><p>Fix the file and save it: the page rebuilds.</p></div>"
    )


def layer_types() -> str:
    """A Markdown table of every registered layer type with its keys and their defaults."""
    from cnnmacros.layers import REGISTRY

    lines = ["| Type | What it is | Keys (default) |", "| --- | --- | --- |"]
    for name, kind in REGISTRY.items():
        keys = []
        for key, option in kind.options.items():
            if option.required:
                keys.append(f"`{key}` (required)")
            elif option.default is None:
                keys.append(f"`{key}` (optional)")
            else:
                default = str(option.default).lower() if isinstance(option.default, bool) else option.default
                keys.append(f"`{key}` ({default})")
        lines.append(f"| `{name}` | {html.escape(kind.summary)} | {', '.join(keys) or 'none'} |")
    return "\n".join(lines)


def index_table(entries: list[tuple[str, Summary | ArchitectureError]]) -> str:
    """All architectures with input, output and total parameters; ``entries`` are (page url, result).
    A phone keeps the name, the output and the parameters."""
    head = [
        ("Architecture", "cnn-name cnn-p1"),
        ("Input", "cnn-shape cnn-p3"),
        ("Output", "cnn-shape cnn-p1"),
        ("Layers", "cnn-num cnn-p3"),
        ("Parameters", "cnn-num cnn-p1"),
    ]
    body = []
    for url, result in entries:
        if isinstance(result, ArchitectureError):
            name = html.escape(result.problems[0].file)
            body.append([f'<a href="{html.escape(url)}">{name}</a>', "<em>file has errors</em>", "", "", ""])
            continue
        body.append(
            [
                f'<a href="{html.escape(url)}">{escape(result.name)}</a>',
                _shape_cell(result.input),
                _shape_cell(result.output),
                f"{len(result.rows):,}",
                count(result.total_params),
            ]
        )
    return _html_table("cnn-index", head, body)


# Training memory --------------------------------------------------------------------------------

MEMORY_PARTS = (
    ("input_bytes", "the input batch"),
    ("saved_bytes", "what autograd keeps for the backward pass (the table below)"),
    ("param_bytes", "the parameters"),
    ("grad_bytes", "their gradients"),
    ("optimizer_bytes", "the optimizer's state"),
    ("buffer_bytes", "the buffers (running statistics and batch counters)"),
)
BUDGETS = ("16GiB", "24GiB", "40GiB", "80GiB")
"""The memory sizes the site works the largest batch out for: common GPUs."""
DEVICE_WORDS = {"cuda": "on a GPU", "cpu": "on the CPU"}
OPTIMIZER_WORDS = {"sgd": "SGD", "momentum": "SGD with momentum", "adam": "Adam", "adamw": "AdamW"}


def memory_text(summary: Summary, in_batch: Summary | None, fits: list[tuple[str, Fit]]) -> str:
    """The training memory of one architecture: the step at the summary's batch, part by part, the
    expression in B and the largest batch that fits in common GPU memories."""
    t, training = summary.totals, summary.training
    parts = ", ".join(f"{words} {count(t[key])}" for key, words in MEMORY_PARTS)
    where = f"{DEVICE_WORDS[training.device]} in {summary.dtype} under {OPTIMIZER_WORDS[training.optimizer]}"
    text = f"Training {where}, one step at batch {count(training.batch)} takes **{count(t['train_bytes'])}** bytes"
    text += f": {parts}."
    if fits:
        words = [f"{count(fit.batch)} in {size.replace('GiB', ' GiB')}" for size, fit in fits]
        text += " The largest batch that fits is " + ", ".join(words[:-1]) + " and " + words[-1] + "."
    if in_batch is not None:  # display math, which breaks before its + and − where it is too long
        b = in_batch.training.batch
        text += (
            f"\n\nFor a batch of {mathml.math(mathml.expression(b))} examples it takes, in bytes"
            " (PyTorch's count from batch 2 on):\n\n"
        )
        total = mathml.expression(in_batch.totals["train_bytes"])
        text += mathml.broken(mathml.expression(sympy.Symbol("Z_T")), (total,))
    return text


CALCULATOR_BATCH, CALCULATOR_MEMORY = 32, "24GiB"
"""What the calculator starts with: the Training memory page's example batch, and a common GPU."""


def memory_calculator() -> str:
    """The batch-size and memory calculator of an architecture page (assets/cnnmacros/recompute.js):
    the training step at any batch, the largest batch that fits, and the table below filled in, for
    the input size of the control above the layer table; hidden until the script shows it."""
    return (
        '<form class="cnn-memory-form" hidden><span class="cnn-recompute-label">Will it fit?</span> '
        '<label class="cnn-seg">Batch size <input name="batch" inputmode="numeric" size="6" '
        f'value="{CALCULATOR_BATCH}"></label> '
        '<label class="cnn-seg">Memory <input name="memory" size="8" '
        f'value="{CALCULATOR_MEMORY}" aria-describedby="cnn-memory-units"></label> '
        '<button type="submit" class="md-button md-button--primary">Compute</button> '
        '<button type="reset" class="md-button">Back</button>'
        '<small id="cnn-memory-units"> (B, KB, MB, GB, KiB, MiB or GiB)</small>'
        '<div class="cnn-memory-result" aria-live="polite"></div></form>'
    )


def kept_words(row: Row) -> str:
    """What a layer's step keeps, in the words of its worked steps: ``output (kept by conv2)``."""
    words = [s.label.removeprefix("kept: ") for s in row.steps if s.key == "kept"]
    words += [s.label.replace(" for the backward pass", "") for s in row.steps if s.key == "kept_output"]
    return "; ".join(escape(w) for w in words)


def saved_table(summary: Summary) -> str:
    """A narrow table of what each layer keeps for the backward pass, in the summary's batch size
    (an expression in B on the architecture pages), with a bar for where the memory sits: the
    layer table has no room for it. A phone keeps the layer and its bytes."""
    batch = f'<span class="cnn-saved-batch">{count(summary.training.batch)}</span>'
    head = [
        ("Layer", "cnn-name cnn-p1"),
        (f"Saved for a batch of {batch} (bytes)", "cnn-num cnn-saved-bytes cnn-p1"),
        ("Share", "cnn-share cnn-p2"),
        ("What is kept", "cnn-kept cnn-p3"),
    ]
    body = [
        [
            f'<a href="#{slug(r.index, r.name)}">{_breakable(r.name)}</a>' if has_working(r) else _breakable(r.name),
            count(r.saved_bytes),
            bar,
            kept_words(r),
        ]
        for r, bar in zip(summary.rows, memory_bars(summary), strict=True)
    ]
    total = ["<strong>Total</strong>", f"<strong>{count(summary.totals['saved_bytes'])}</strong>", "", ""]
    keys = [str(k) for k in range(1, len(summary.rows) + 1)] + ["total"]
    return _html_table("cnn-memory", head, body, total, keys)


def memory_bars(summary: Summary) -> list[str]:
    """A bar per layer, as long against the largest as its saved bytes (per example, when they are
    an expression in the batch size), titled with its share of the total; none for symbolic sizes."""
    batch = summary.training.batch
    values: list[int] = []
    for r in summary.rows:
        value = r.saved_bytes
        if not isinstance(batch, int):  # the bytes per example: batch norm's statistics are none
            value = 0 if isinstance(value, int) else sympy.expand(value).coeff(batch, 1)
        if not isinstance(value, int):
            if not value.is_Integer:
                return [""] * len(summary.rows)  # symbolic input sizes: no single share
            value = int(value)
        values.append(value)
    largest, total = max(values, default=0), sum(values)
    bars = []
    for value in values:
        if value == 0:
            bars.append("")
            continue
        width = (100 * value + largest - 1) // largest  # at least 1 %
        tenths = (2000 * value + total) // (2 * total)  # the share in tenths of a percent, rounded
        title = f"{tenths // 10}.{tenths % 10} % of the bytes kept"
        bars.append(f'<span class="cnn-bar" style="width: {width}%" title="{title}"></span>')
    return bars


def memory_table(summary: Summary) -> str:
    """Every layer's saved bytes at the summary's batch size, and what they are."""
    lines = ["| Layer | Type | Tensor size | Saved (bytes) | What is kept |", "| --- | --- | --- | --: | --- |"]
    for r in summary.rows:
        lines.append(f"| {escape(r.name)} | {r.type} | {shape(r.output)} | {count(r.saved_bytes)} | {kept_words(r)} |")
    lines.append(f"| **Total** | | | **{count(summary.totals['saved_bytes'])}** | |")
    return "\n".join(lines)


def totals_table(summary: Summary) -> str:
    """The training step's totals, part by part, each with what it counts."""
    from cnnmacros.figures import TOTALS

    helps = {t.key: t.help for t in TOTALS}
    lines = ["| Total | Bytes | What it counts |", "| --- | --: | --- |"]
    for key in (*TRAIN_PARTS, "train_bytes"):
        value = count(summary.totals[key])
        bold = f"**{value}**" if key == "train_bytes" else value
        lines.append(f"| `{key}` | {bold} | {html.escape(helps[key])} |")
    return '<div class="cnn-memory-totals" markdown>\n\n' + "\n".join(lines) + "\n\n</div>"


TRAIN_PARTS = ("input_bytes", "saved_bytes", "param_bytes", "buffer_bytes", "grad_bytes", "optimizer_bytes")
"""The six parts of ``train_bytes``, in the order of its formula."""


def fits_table(fits: list[tuple[str, Fit]]) -> str:
    """The largest batch for each memory size, with its worked formula."""
    lines = ["| Memory | Bytes | Largest batch | Worked out |", "| --- | --: | --: | --- |"]
    for size, fit in fits:
        worked = mathml.step_math(fit.step)
        lines.append(f"| {size.replace('GiB', ' GiB')} | {fit.memory:,} | **{count(fit.batch)}** | {worked} |")
    return "\n".join(lines)


def memory_rules() -> str:
    """Every layer type's rule: what its training forward pass keeps, the formulas, and why;
    layer types with one rule share a row."""
    from cnnmacros.layers import REGISTRY

    groups: dict[tuple, list[str]] = {}
    for name, kind in REGISTRY.items():
        keeps = kind.keeps
        groups.setdefault((keeps.what, keeps.why, keeps.formulas), []).append(name)
    lines = ["| Layers | Keeps, and why | Formulas |", "| --- | --- | --- |"]
    for (what, why, formulas), names in groups.items():
        maths = "<br>".join(mathml.formula_math(f, display=False) for f in formulas)
        types = ", ".join(f"`{n}`" for n in names)
        words = f"{html.escape(what[:1].upper() + what[1:])}: {html.escape(why)}."
        lines.append(f"| {types} | {words} | {maths} |")
    return '<div class="cnn-memory-rules" markdown>\n\n' + "\n".join(lines) + "\n\n</div>"
