"""Figures drawn at build time as inline SVG, from the numbers of computed rows.

Nothing here computes a size again: a sliding-window figure draws the window positions of the
worked step it stands under (its input size, kernel, stride, padding and dilation, and the output
count the formula gave); the charts and the network graph draw the rows' own figures. Colours come
from CSS classes, so that the figures follow the light and dark themes. No script is needed.
"""

from __future__ import annotations

import functools
import html
from dataclasses import dataclass
from typing import Any

from cnnmacros.rows import Row, Shape, Step, Summary, add_up, is_number

CELL = 20  # the side of one input position, in SVG units
LABEL = 64  # room on the left for the row labels ("output 54")

WINDOW_FORMULAS = ("conv_output_size", "conv_output_size_d1", "pool_output_size", "pool_output_size_ceil")
TRANSPOSED_FORMULAS = ("convtranspose_output_size",)


def _n(value: int) -> str:
    """``1,234``; negative numbers with a true minus sign."""
    return f"{value:,}".replace("-", "\u2212")


def _plural(count: int, word: str) -> str:
    if count == 1:
        return f"{_n(count)} {word}"
    return f"{_n(count)} {word}" + ("es" if word.endswith(("s", "x")) else "s")


def _text(x: float, y: float, words: str, anchor: str = "middle", css: str = "") -> str:
    extra = f' class="{css}"' if css else ""
    return f'<text x="{x:g}" y="{y:g}" text-anchor="{anchor}"{extra}>{html.escape(words)}</text>'


@dataclass(frozen=True)
class Slide:
    """A window sliding along one axis: where each output position reads its input."""

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    outputs: int
    ceil: bool = False

    def start(self, output: int) -> int:
        """The first input position (negative in the padding) that an output position reads."""
        return output * self.stride - self.padding

    def end(self, output: int) -> int:
        return self.start(output) + self.dilation * (self.kernel - 1)

    def taps(self, output: int) -> range:
        return range(self.start(output), self.end(output) + 1, self.dilation)

    @property
    def contiguous(self) -> bool:
        """Windows without holes that overlap or touch: together they read one run of positions."""
        return self.dilation == 1 and self.stride <= self.kernel

    @functools.cached_property
    def _reads(self) -> frozenset[int]:
        return frozenset(t for o in range(self.outputs) for t in self.taps(o))

    def read(self, position: int) -> bool:
        """Whether some output position reads this input position (padding included)."""
        if self.contiguous:
            return self.start(0) <= position <= self.end(self.outputs - 1)
        return position in self._reads

    def unread(self) -> int:
        """How many positions of the input itself no output position reads."""
        if self.contiguous:
            return max(0, self.size - 1 - self.end(self.outputs - 1))
        return sum(1 for p in range(self.size) if p not in self._reads)


def _shown(count: int) -> list[int | None]:
    """The positions drawn as rows: all of up to four, else the first two, a gap (None), the last."""
    return list(range(count)) if count <= 4 else [0, 1, None, count - 1]


def _columns(keep: set[int], first: int, last: int) -> list[int | None]:
    """Positions first..last with each run of unkept positions longer than one shown as a gap."""
    columns: list[int | None] = []
    run: list[int] = []
    for position in range(first, last + 1):
        if position in keep:
            columns += run if len(run) < 2 else [None]
            run = []
            columns.append(position)
        else:
            run.append(position)
    return columns + (run if len(run) < 2 else [None])


def _strip(
    columns: list[int | None], kind: dict[int, str], labels: dict[int, str], rows: list[tuple[str, list[int]]]
) -> tuple[str, int, int]:
    """The SVG body of a strip of positions and the rows of taps under it; its width and height."""
    x_of = {p: LABEL + i * CELL for i, p in enumerate(columns) if p is not None}
    parts = []
    for i, position in enumerate(columns):
        x = LABEL + i * CELL
        if position is None:
            parts.append(_text(x + CELL / 2, CELL * 0.7, "\u2026", css="cnn-gap"))
            continue
        css = kind.get(position, "in")
        parts.append(f'<rect class="cnn-c-{css}" x="{x}" y="0" width="{CELL}" height="{CELL}"/>')
        if position in labels:
            parts.append(_text(x + CELL / 2, CELL + 11, labels[position], css="cnn-pos"))
    parts.append(_text(LABEL - 6, CELL * 0.7, "input", anchor="end", css="cnn-row"))
    y = CELL + 22
    for label, taps in rows:
        if not taps:  # the gap between the first rows and the last
            parts.append(_text(LABEL - 6, y + 10, "\u22ee", anchor="end", css="cnn-row"))
            y += CELL
            continue
        left, right = x_of[min(taps)], x_of[max(taps)] + CELL
        parts.append(f'<line class="cnn-span" x1="{left}" y1="{y + 8}" x2="{right}" y2="{y + 8}"/>')
        for tap in taps:
            parts.append(f'<rect class="cnn-tap" x="{x_of[tap] + 3}" y="{y + 2}" width="{CELL - 6}" height="12"/>')
        parts.append(_text(LABEL - 6, y + 12, label, anchor="end", css="cnn-row"))
        y += CELL
    return "".join(parts), LABEL + len(columns) * CELL, y


def _figure(body: str, width: int, height: int, label: str, caption: str, css: str) -> str:
    return (
        f'<figure class="cnn-figure {css}"><svg viewBox="0 0 {width + 2} {height + 2}" width="{width + 2}" '
        f'role="img" aria-label="{html.escape(label)}">{body}</svg>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def slide_figure(slide: Slide, axes: str = "") -> str:
    """A Dumoulin-and-Visin style strip: the padded input along one axis, and under it the taps of
    the first output positions and of the last one. Positions no output reads are marked."""
    s = slide
    rows = _shown(s.outputs)
    last = max(s.size - 1 + s.padding, s.end(s.outputs - 1))
    keep = set(range(-s.padding, 0)) | set(range(s.size, s.size + s.padding)) | {0, s.size - 1}
    for o in rows:
        if o is not None:
            keep |= set(range(s.start(o), s.end(o) + 1))
    keep |= {p for p in range(s.end(s.outputs - 1) + 1, last + 1)}  # what the last window leaves
    columns = _columns(keep, -s.padding, last)
    kind: dict[int, str] = {}
    for p in columns:
        if p is None:
            continue
        if p < 0 or p >= s.size:
            kind[p] = "pad" if -s.padding <= p < s.size + s.padding else "out"
        elif not s.read(p):
            kind[p] = "unread"
    labels = {p: _n(p) for p in columns if p is not None}
    body, width, height = _strip(
        columns, kind, labels, [(f"output {_n(o)}", list(s.taps(o))) if o is not None else ("", []) for o in rows]
    )
    along = f"Along {axes}: " if axes else ""
    padding = "no padding" if not s.padding else f"{_plural(s.padding, 'zero')} of padding on each side"
    dilated = f", its taps {s.dilation} apart (dilation {s.dilation})" if s.dilation != 1 else ""
    caption = (
        f"{along}{_plural(s.size, 'input')} and {padding}. A window of {_plural(s.kernel, 'tap')}{dilated} moves "
        f"{s.stride} at a time: output 0 reads {_n(s.start(0))} to {_n(s.end(0))}, and the last, output "
        f"{_n(s.outputs - 1)}, reads {_n(s.start(s.outputs - 1))} to {_n(s.end(s.outputs - 1))}: "
        f"{_plural(s.outputs, 'output')}."
    )
    unread = s.unread()
    if s.end(s.outputs - 1) > s.size - 1 + s.padding:
        caption += (
            f" The last window reaches {_plural(s.end(s.outputs - 1) - (s.size - 1 + s.padding), 'position')} past"
            " the padded input, and ceil mode still counts it, since it starts inside."
        )
    if unread:
        caption += f" {_plural(unread, 'input position')} no output reads."
    return _figure(body, width, height, caption, caption, "cnn-slide")


@dataclass(frozen=True)
class Spread:
    """A transposed convolution along one axis: each input position places a kernel on the output."""

    size: int
    kernel: int
    stride: int
    padding: int
    dilation: int
    output_padding: int
    outputs: int

    def taps(self, position: int) -> range:
        """The output positions (before padding removes any) that one input position writes."""
        start = position * self.stride
        return range(start, start + self.dilation * (self.kernel - 1) + 1, self.dilation)

    @property
    def full(self) -> int:
        """Positions written before padding removes any, with output_padding's added at the end."""
        return (self.size - 1) * self.stride + self.dilation * (self.kernel - 1) + 1 + self.output_padding


def spread_figure(spread: Spread, axes: str = "") -> str:
    """The output strip of a transposed convolution and the kernel each input position places."""
    s = spread
    rows = _shown(s.size)
    written = s.full - s.output_padding
    keep = set(range(0, s.padding)) | set(range(written - s.padding, s.full)) | {s.padding, s.padding + s.outputs - 1}
    for i in rows:
        if i is not None:
            keep |= set(s.taps(i))
    columns = _columns(keep, 0, s.full - 1)
    kind: dict[int, str] = {}
    labels: dict[int, str] = {}
    for q in columns:
        if q is None:
            continue
        if q < s.padding or q >= s.padding + s.outputs:
            kind[q] = "pad"
        else:
            labels[q] = _n(q - s.padding)
            if q >= written:
                kind[q] = "unread"
    body, width, height = _strip(
        columns, kind, labels, [(f"input {_n(i)}", list(s.taps(i))) if i is not None else ("", []) for i in rows]
    )
    body = body.replace(">input</text>", ">output</text>", 1)
    along = f"Along {axes}: " if axes else ""
    dilated = f" whose taps are {s.dilation} apart" if s.dilation != 1 else ""
    caption = (
        f"{along}each of the {_plural(s.size, 'input position')} places a kernel of {_plural(s.kernel, 'tap')}"
        f"{dilated}, {_plural(s.stride, 'output')} after the one before; together they write "
        f"{_plural(written, 'position')}."
    )
    if s.padding:
        caption += f" Padding {s.padding} removes {_plural(s.padding, 'output')} from each end (dashed)."
    if s.output_padding:
        caption += f" Output padding adds {_plural(s.output_padding, 'output')} after the last one."
    caption += f" {_plural(s.outputs, 'output')} remain."
    return _figure(body, width, height, caption, caption, "cnn-slide")


def step_figure(step: Step, axes: str = "") -> str:
    """The sliding-window figure of an output-size step, or nothing for a step that is not one."""
    return _step_figure(step.formula, tuple(step.values.items()), step.result, axes)


@functools.lru_cache(maxsize=1024)
def _step_figure(formula: str, items: tuple[tuple[str, Any], ...], result: Any, axes: str) -> str:
    """Networks repeat their layers: each figure is drawn once per process."""
    values = dict(items)
    if not (is_number(result) and all(is_number(v) for v in values.values())):
        return ""
    if formula in WINDOW_FORMULAS:
        slide = Slide(
            values["I"],
            values["K"],
            values["S"],
            values["P"],
            values.get("D", 1),
            result,
            ceil=formula == "pool_output_size_ceil",
        )
        return slide_figure(slide, axes)
    if formula in TRANSPOSED_FORMULAS:
        spread = Spread(values["I"], values["K"], values["S"], values["P"], values["D"], values["P_o"], result)
        return spread_figure(spread, axes)
    return ""


# Charts --------------------------------------------------------------------------------------


def _share(part: int, whole: int) -> str:
    """A share in per cent to one decimal, rounded half up, in integers only: ``60.5%``."""
    if whole == 0:
        return "0%"
    tenths = (2000 * part + whole) // (2 * whole)
    return f"{tenths // 10}.{tenths % 10}%"


def cost_chart(summary: Summary) -> str:
    """Bars of each box's share of the parameters and of the multiply-accumulates.

    The rows are the boxes of the network graph (a convolution with the batch norm and ReLU after
    it), those with parameters or multiply-accumulates. Coordinates are percentages of the page's
    width, so the chart fits a phone as it fits a desktop without its text shrinking."""
    nodes = [n for n in graph_nodes(summary) if any(r.params != 0 or r.macs != 0 for r in n.rows)]
    params, macs = summary.totals["params"], summary.totals["macs"]
    rows = [(n, add_up(r.params for r in n.rows), add_up(r.macs for r in n.rows)) for n in nodes]
    if not rows or not (is_number(params) and all(is_number(p) for _, p, _ in rows)):
        return ""
    numeric_macs = is_number(macs) and all(is_number(m) for _, _, m in rows)
    top, line, span = 40, 18, 29.0
    columns = [("Parameters", 38.0, 1, params)] + ([("MACs", 69.5, 2, macs)] if numeric_macs else [])
    parts = []
    for title, x, _, total in columns:  # the title, and the total under it: a phone's column is narrow
        parts.append(f'<text x="{x}%" y="12" class="cnn-head">{title}</text>')
        parts.append(f'<text x="{x}%" y="26" class="cnn-val">of {_n(total)}</text>')
    for i, row in enumerate(rows):
        node, y = row[0], top + i * line
        parts.append(f'<text x="0" y="{y + 12}" class="cnn-row-name">{html.escape(_label(node))}</text>')
        for title, x, position, total in columns:
            value = row[position]
            share = _share(value, total)
            width = span * value / total if total else 0
            tip = f"{', '.join(r.name for r in node.rows)}: {_n(value)} {title.lower()} of {_n(total)}, {share}"
            parts.append(
                f'<rect class="cnn-bar cnn-bar-{title.lower()}" x="{x}%" y="{y + 3}" width="{width:.3f}%" height="12">'
                f"<title>{html.escape(tip)}</title></rect>"
            )
            if width > span - 9:  # a long bar carries its share inside its end
                parts.append(
                    f'<text x="{x + width - 0.6:.3f}%" y="{y + 13}" text-anchor="end" class="cnn-val-in">{share}</text>'
                )
            else:
                parts.append(f'<text x="{x + width + 0.8:.3f}%" y="{y + 13}" class="cnn-val">{share}</text>')
    caption = (
        "Each box's share of the parameters"
        + (" and of the multiply-accumulates" if numeric_macs else "")
        + ", from the input down; the boxes are those of the graph below, and a box with neither is left out."
    )
    if not numeric_macs:
        caption += " The multiply-accumulates depend on the symbolic input size, so they have no bars."
    height = top + line * len(rows) + 4
    return (
        f'<figure class="cnn-figure cnn-chart"><svg width="100%" height="{height}" role="img" '
        f'aria-label="{html.escape(caption)}">{"".join(parts)}</svg><figcaption>{html.escape(caption)}'
        "</figcaption></figure>"
    )


def _label(node: Node) -> str:
    """A box's name: its first layer, and how many layers it folds in."""
    return _short(node.head.name, 17) + (f" +{len(node.rows) - 1}" if len(node.rows) > 1 else "")


def _short(name: str, most: int = 22) -> str:
    return name if len(name) <= most else name[: most - 1] + "\u2026"


# Network graph -------------------------------------------------------------------------------


def _shape_text(shape: Shape) -> str:
    """``56×56×64``; symbolic sizes in their plain form, with true minus signs."""
    parts = []
    for size in shape:
        text = _n(size) if is_number(size) else str(size).replace("-", "\u2212").replace("*", "")
        parts.append(text if is_number(size) or text.isidentifier() else f"({text})")
    return "\u00d7".join(parts)


@dataclass
class Node:
    """One box of the graph: a layer, with the shape-keeping layers that follow it folded in."""

    rows: list[Row]
    sources: list[int]  # the nodes it reads; -1 is the network's input
    rank: int = 0
    column: int = 0

    @property
    def head(self) -> Row:
        return self.rows[0]

    @property
    def output(self) -> Shape:
        return self.rows[-1].output


def _folds(row: Row) -> bool:
    """A layer that keeps its input's shape and learns nothing beyond a normalization's scale."""
    from cnnmacros.layers import REGISTRY

    family = REGISTRY[row.type].family if row.type in REGISTRY else ""
    return row.output == row.input and (row.params == 0 or "norm" in family)


def graph_nodes(summary: Summary) -> list[Node]:
    """The network as boxes: a layer that keeps its input's shape, reads only the layer before and
    is that layer's sole reader joins its box (a convolution with its batch norm and ReLU)."""
    readers: dict[str, int] = {}
    inputs: list[list[str]] = []
    previous = "input"
    for row in summary.rows:
        names = list(row.sources) or [previous]
        inputs.append(names)
        for name in names:
            readers[name] = readers.get(name, 0) + 1
        previous = row.name
    nodes: list[Node] = []
    node_of: dict[str, int] = {"input": -1}
    for row, names in zip(summary.rows, inputs, strict=True):
        source = node_of.get(names[0], -1)
        if (
            len(names) == 1
            and source >= 0
            and readers.get(names[0]) == 1
            and nodes[source].rows[-1].name == names[0]
            and _folds(row)
        ):
            nodes[source].rows.append(row)
            node_of[row.name] = source
            continue
        nodes.append(Node([row], [node_of.get(n, -1) for n in names]))
        node_of[row.name] = len(nodes) - 1
    for node in nodes:  # one rank below its lowest input, so that parallel branches sit side by side
        node.rank = 1 + max((nodes[s].rank if s >= 0 else 0) for s in node.sources)
    taken: dict[int, int] = {}
    for node in nodes:
        node.column = taken.get(node.rank, 0)
        taken[node.rank] = node.column + 1
    return nodes


BOX_W, BOX_H, GAP_X, GAP_Y, LANE = 150, 34, 14, 16, 8


def _lanes(edges: list[tuple[int, int, int]]) -> dict[tuple[int, int, int], int]:
    """A lane for each edge (from rank, to rank, id), free over the ranks it spans, reused after."""
    lanes: list[int] = []
    lane_of = {}
    for edge in sorted(edges):
        low, high, _ = edge
        for lane, busy_until in enumerate(lanes):
            if busy_until <= low:
                lanes[lane] = high
                lane_of[edge] = lane
                break
        else:
            lane_of[edge] = len(lanes)
            lanes.append(high)
    return lane_of


def network_graph(summary: Summary) -> str:
    """The network as a graph of boxes, one rank per row and parallel branches side by side. An
    edge that skips ranks runs in a lane: on the left from the first column, else on the right."""
    nodes = graph_nodes(summary)
    if not nodes:
        return ""

    def rank(i: int) -> int:
        return 0 if i < 0 else nodes[i].rank

    def column(i: int) -> int:
        return 0 if i < 0 else nodes[i].column

    edges = [(s, t) for t, n in enumerate(nodes) for s in n.sources]
    skipping = [(rank(s), rank(t), k) for k, (s, t) in enumerate(edges) if rank(t) - rank(s) > 1]
    left_lanes = _lanes([e for e in skipping if column(edges[e[2]][0]) == 0])
    right_lanes = _lanes([e for e in skipping if column(edges[e[2]][0]) != 0])
    left = 4 + LANE * (max(left_lanes.values(), default=-1) + 1)
    columns = max(n.column for n in nodes) + 1
    right = left + columns * (BOX_W + GAP_X) - GAP_X
    width = right + 4 + LANE * (max(right_lanes.values(), default=-1) + 1)
    height = (max(n.rank for n in nodes) + 1) * (BOX_H + GAP_Y) - GAP_Y + 2

    def corner(i: int) -> tuple[int, int]:
        return left + column(i) * (BOX_W + GAP_X), rank(i) * (BOX_H + GAP_Y)

    lines, boxes = [], []
    for low, high, k in skipping:
        source, target = edges[k]
        (sx, sy), (tx, ty) = corner(source), corner(target)
        if (low, high, k) in left_lanes:
            lane = left - 4 - LANE * left_lanes[(low, high, k)]
            d = f"M{sx} {sy + BOX_H / 2:g} H{lane} V{ty + BOX_H / 2:g} H{tx}"
            lines.append(f'<path class="cnn-edge" data-edge="{source} {target}" d="{d}"/>')
        else:
            lane = right + 4 + LANE * right_lanes[(low, high, k)]
            d = f"M{sx + BOX_W} {sy + BOX_H / 2:g} H{lane} V{ty + BOX_H / 2:g} H{tx + BOX_W}"
            lines.append(f'<path class="cnn-edge" data-edge="{source} {target}" d="{d}"/>')
    for source, target in edges:
        if rank(target) - rank(source) > 1:
            continue
        (sx, sy), (tx, ty) = corner(source), corner(target)
        a, b, middle = sx + BOX_W / 2, tx + BOX_W / 2, (sy + BOX_H + ty) / 2
        d = f"M{a:g} {sy + BOX_H} C{a:g} {middle:g} {b:g} {middle:g} {b:g} {ty}"
        lines.append(f'<path class="cnn-edge" data-edge="{source} {target}" d="{d}"/>')
    x, y = corner(-1)
    boxes.append(_box(-1, x, y, "Input", _shape_text(summary.input), "network input", "cnn-node cnn-node-end"))
    for i, node in enumerate(nodes):
        x, y = corner(i)
        tip = ", ".join(f"{r.name} ({r.type})" for r in node.rows) + f": {_shape_text(node.output)}"
        css = "cnn-node cnn-node-join" if len(node.sources) > 1 else "cnn-node"
        boxes.append(_box(i, x, y, _label(node), _shape_text(node.output), tip, css))
    caption = (
        f"The {_plural(len(summary.rows), 'layer')} as {_plural(len(nodes), 'box')}, from the input down; each box "
        "names its first layer and gives the output shape of its last. A layer that keeps the shape (a "
        "normalization, an activation) joins the box of the layer it follows, counted by +n."
    )
    if skipping:
        caption += " Connections that skip ahead run at the sides."
    return (
        f'<figure class="cnn-figure cnn-graph"><svg viewBox="0 0 {width} {height}" width="{width}" role="img" '
        f'aria-label="{html.escape(caption)}">{"".join(lines)}{"".join(boxes)}</svg>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def _box(index: int, x: int, y: int, name: str, shape: str, tip: str, css: str) -> str:
    """One box; ``data-box`` is its index, which the edges' ``data-edge`` name (-1: the input)."""
    rect = f'<rect class="{css}" x="{x}" y="{y}" width="{BOX_W}" height="{BOX_H}" rx="4"/>'
    name_text = _text(x + 6, y + 14, name, anchor="start", css="cnn-node-name")
    shape_text = _text(x + 6, y + 28, shape, anchor="start", css="cnn-node-shape")
    return f'<g data-box="{index}"><title>{html.escape(tip)}</title>{rect}{name_text}{shape_text}</g>'
