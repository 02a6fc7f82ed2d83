"""The comparison page: every architecture of the site in one table, and two charts drawn at build time.

The table's cells carry their exact value in ``data-sort`` (an integer as its digits, so that the
page's script sorts with BigInt), and each row its family in ``data-family`` for the filter. The
charts are SVG: a point per architecture, each a link to its page, one colour per family. A
point's position on a log axis is drawn with floating point; every number a reader sees is exact.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass

from cnnmacros.errors import ArchitectureError
from cnnmacros.render import count, escape
from cnnmacros.rows import Summary, is_number

OWN = "This site's files"
"""The family of a file that names none: the worked examples and the networks written by hand."""


@dataclass(frozen=True)
class Entry:
    url: str
    link: str  # the built page's address, for the charts' links (MkDocs rewrites no link inside an SVG)
    name: str
    family: str
    summary: Summary

    @property
    def params(self):  # noqa: ANN201
        return self.summary.totals["params"]

    @property
    def macs(self):  # noqa: ANN201
        return self.summary.totals["macs"]

    @property
    def acc1(self) -> float | None:
        return self.summary.metrics.get("acc@1")


def entries(results: dict[str, Summary | ArchitectureError], prefix: str, site_prefix: str) -> list[Entry]:
    """The valid files as table rows, this site's own before a subfolder's, each by stem (a broken file
    has no figures to compare)."""
    out = []
    for stem, result in sorted(results.items(), key=lambda item: ("/" in item[0], item[0])):  # own files first
        if isinstance(result, Summary):
            link = f"{site_prefix}{stem}/"
            out.append(Entry(f"{prefix}{stem}.md", link, result.name, result.family or OWN, result))
    return out


def last_field(summary: Summary) -> str:
    """The receptive field of the last layer with spatial axes: ``427`` or ``427×300``; empty without one."""
    for row in reversed(summary.rows):
        field = row.figures.get("receptive_field")
        if field is not None:
            sizes = list(field.size)
            if all(is_number(s) for s in sizes):
                return f"{sizes[0]:,}" if len(set(sizes)) == 1 else "×".join(f"{s:,}" for s in sizes)
            return ""
    return ""


def _cell(value) -> str:  # noqa: ANN001
    """An exact count; a count that depends on a symbolic input size has no one value to compare."""
    return count(value) if is_number(value) else '<span title="depends on the input size">\u2014</span>'


def _sort(value) -> str:  # noqa: ANN001
    return str(value) if is_number(value) else ""


def table(rows: list[Entry]) -> str:
    """The table, with the families' filter; a phone keeps the name, the parameters and the MACs."""
    families = sorted({e.family for e in rows}, key=lambda f: (f == OWN, f.lower()))
    options = "".join(f'<option value="{html.escape(f)}">{html.escape(f)}</option>' for f in families)
    head = [
        ("Architecture", "cnn-name cnn-p1", "text"),
        ("Family", "cnn-family cnn-p3", "text"),
        ("Parameters", "cnn-num cnn-p1", "int"),
        ("MACs", "cnn-num cnn-p1", "int"),
        ("Activations", "cnn-num cnn-p3", "int"),
        ("Receptive field", "cnn-num cnn-p3", "int"),
        ("acc@1", "cnn-num cnn-p2", "num"),
    ]
    out = [
        '<div class="cnn-compare-tools"><label>Family <select class="cnn-compare-filter">'
        f'<option value="">all</option>{options}</select></label></div>',
        '<div class="cnn-table cnn-compare"><table><thead><tr>',
    ]
    for title, css, kind in head:
        out.append(f'<th class="{css}" data-kind="{kind}"><button type="button">{title}</button></th>')
    out.append("</tr></thead><tbody>")
    for e in rows:
        s = e.summary
        field = last_field(s)
        field_sort = field.split("×")[0].replace(",", "") if field else ""
        acc = "" if e.acc1 is None else f"{e.acc1:g}"
        cells = [
            (f'<a href="{html.escape(e.url)}">{escape(e.name)}</a>', e.name),
            (html.escape(e.family), e.family),
            (_cell(e.params), _sort(e.params)),
            (_cell(e.macs), _sort(e.macs)),
            (_cell(s.totals["activations"]), _sort(s.totals["activations"])),
            (field, field_sort),
            (acc, acc),
        ]
        row = "".join(
            f'<td class="{css}" data-sort="{html.escape(key)}">{value}</td>'
            for (value, key), (_, css, _) in zip(cells, head, strict=True)
        )
        out.append(f'<tr data-family="{html.escape(e.family)}">{row}</tr>')
    out.append("</tbody></table></div>")
    return "\n".join(out)


def colours(families: list[str]) -> dict[str, str]:
    """One hue per family, evenly spaced; the site's own files in grey."""
    named = [f for f in families if f != OWN]
    out = {f: f"hsl({round(360 * i / max(len(named), 1))}, 70%, 45%)" for i, f in enumerate(named)}
    out[OWN] = "hsl(0, 0%, 50%)"
    return out


def _ticks(low: float, high: float) -> list[int]:
    """Powers of ten from below ``low`` to above ``high``."""
    return [10**k for k in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1)]


def _power(value: int) -> str:
    names = {3: "k", 6: "M", 9: "G", 12: "T"}
    k = round(math.log10(value))
    return f"{10 ** (k % 3)}{names[k - k % 3]}" if k >= 3 else str(value)


def scatter(rows: list[Entry], y: str, caption: str) -> str:
    """Points of MACs (log scale, across) against acc@1 (up, linear) or parameters (up, log scale)."""
    points = [e for e in rows if is_number(e.macs) and e.macs > 0]
    if y == "acc1":
        points = [e for e in points if e.acc1 is not None]
    else:
        points = [e for e in points if is_number(e.params) and e.params > 0]
    if not points:
        return ""
    width, height, left, bottom, top, right = 640, 360, 52, 40, 12, 12
    xs = [e.macs for e in points]
    x_ticks = _ticks(min(xs), max(xs))
    x0, x1 = math.log10(x_ticks[0]), math.log10(x_ticks[-1])

    def px(value: int) -> float:
        return left + (width - left - right) * (math.log10(value) - x0) / (x1 - x0)

    if y == "acc1":
        accs = [e.acc1 for e in points]
        y0, y1 = math.floor(min(accs) / 5) * 5, math.ceil(max(accs) / 5) * 5
        y_ticks = list(range(int(y0), int(y1) + 1, 5))

        def py(e: Entry) -> float:
            return top + (height - top - bottom) * (y1 - e.acc1) / (y1 - y0)

        def ty(t: float) -> float:
            return top + (height - top - bottom) * (y1 - t) / (y1 - y0)

        y_label, y_text = "acc@1 (%)", str
    else:
        p_ticks = _ticks(min(e.params for e in points), max(e.params for e in points))
        y0, y1 = math.log10(p_ticks[0]), math.log10(p_ticks[-1])
        y_ticks = p_ticks

        def py(e: Entry) -> float:
            return top + (height - top - bottom) * (y1 - math.log10(e.params)) / (y1 - y0)

        def ty(t: float) -> float:
            return top + (height - top - bottom) * (y1 - math.log10(t)) / (y1 - y0)

        y_label, y_text = "parameters", _power
    palette = colours(sorted({e.family for e in rows}))
    parts = [
        f'<rect class="cnn-plot" x="{left}" y="{top}" width="{width - left - right}" height="{height - top - bottom}"/>'
    ]
    for t in x_ticks:
        parts.append(f'<line class="cnn-grid" x1="{px(t):.1f}" x2="{px(t):.1f}" y1="{top}" y2="{height - bottom}"/>')
        parts.append(
            f'<text class="cnn-tick" x="{px(t):.1f}" y="{height - bottom + 14}" text-anchor="middle">{_power(t)}</text>'
        )
    for t in y_ticks:
        parts.append(f'<line class="cnn-grid" x1="{left}" x2="{width - right}" y1="{ty(t):.1f}" y2="{ty(t):.1f}"/>')
        parts.append(f'<text class="cnn-tick" x="{left - 4}" y="{ty(t) + 4:.1f}" text-anchor="end">{y_text(t)}</text>')
    parts.append(
        f'<text class="cnn-tick" x="{(left + width) / 2}" y="{height - 6}" text-anchor="middle">MACs (log scale)</text>'
    )
    parts.append(
        f'<text class="cnn-tick" transform="translate(12 {(top + height - bottom) / 2}) rotate(-90)" '
        f'text-anchor="middle">{y_label}</text>'
    )
    for e in points:
        value = f"{e.acc1:g}% acc@1" if y == "acc1" else f"{e.params:,} parameters"
        tip = f"{e.name} ({e.family}): {e.macs:,} MACs, {value}"
        parts.append(
            f'<a href="{html.escape(e.link)}"><circle class="cnn-point" cx="{px(e.macs):.1f}" cy="{py(e):.1f}" r="5" '
            f'fill="{palette[e.family]}" data-family="{html.escape(e.family)}"><title>{html.escape(tip)}</title>'
            "</circle></a>"
        )
    shown = sorted({e.family for e in points}, key=lambda f: (f == OWN, f.lower()))
    legend = "".join(
        f'<span class="cnn-key"><span class="cnn-swatch" style="background:{palette[f]}"></span>{html.escape(f)}</span>'
        for f in shown
    )
    return (
        f'<figure class="cnn-figure cnn-scatter"><svg viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{html.escape(caption)}">{"".join(parts)}</svg><div class="cnn-legend">{legend}</div>'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
    )


def page(results: dict[str, Summary | ArchitectureError], prefix: str, site_prefix: str) -> str:
    rows = entries(results, prefix, site_prefix)
    return "\n".join(
        [
            table(rows),
            scatter(
                rows,
                "acc1",
                "Top-1 accuracy on ImageNet-1K against multiply-accumulates (log scale), for every file that records "
                "the accuracy of its weights; each point links to its page.",
            ),
            scatter(
                rows,
                "params",
                "Parameters against multiply-accumulates, both on log scales, for every file with a numeric input; "
                "each point links to its page.",
            ),
        ]
    )
