"""The growth figure as a hand-written SVG: seconds per call against input pixels, both axes log.

Each point is the median of a case's runs; the thin vertical bar through it spans its fastest to
its slowest run.
"""

from __future__ import annotations

import math
import statistics
from xml.sax.saxutils import escape

WIDTH, HEIGHT = 840, 460
LEFT, RIGHT, TOP, BOTTOM = 70, 290, 40, 56

SERIES = (  # (key in a case's runs, label, colour)
    ("torchinfo", "torchinfo.summary, {threads} threads", "#c0392b"),
    ("torchinfo_1_thread", "torchinfo.summary, 1 thread", "#e08e0b"),
    ("cnnmacros_summarize", "cnnmacros summarize (read, check, compute)", "#1f5fa8"),
    ("cnnmacros_compute", "cnnmacros compute alone", "#2e8b57"),
)
NETWORKS = (  # (network name in the raw file, label, dash pattern, marker)
    ("VGG-16 convolutions", "VGG-16 convolutions, 2D", "", "circle"),
    ("3D convolutions", "3D convolutions", "6 4", "square"),
)


def _decades(values: list[float]) -> tuple[int, int]:
    return math.floor(math.log10(min(values))), math.ceil(math.log10(max(values)))


def _superscript(exponent: int) -> str:
    return f'10<tspan dy="-6" font-size="10">{exponent}</tspan>'


def _marker(kind: str, x: float, y: float, colour: str) -> str:
    if kind == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"/>'
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"/>'


def growth_svg(growth: list[dict], title: str, threads: int) -> str:
    xs = [c["pixels"] for c in growth]
    ys = [t for c in growth for key, _, _ in SERIES for t in c["runs"][key]]
    x0, x1 = _decades(xs)
    y0, y1 = _decades(ys)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def px(v: float) -> float:
        return LEFT + (math.log10(v) - x0) / (x1 - x0) * plot_w

    def py(v: float) -> float:
        return TOP + (y1 - math.log10(v)) / (y1 - y0) * plot_h

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="22" font-size="14">{escape(title)}</text>',
    ]
    for e in range(x0, x1 + 1):
        x = px(10**e)
        out.append(f'<line x1="{x:.1f}" y1="{TOP}" x2="{x:.1f}" y2="{TOP + plot_h}" stroke="#ddd"/>')
        out.append(f'<text x="{x:.1f}" y="{TOP + plot_h + 18}" text-anchor="middle">{_superscript(e)}</text>')
    for e in range(y0, y1 + 1):
        y = py(10**e)
        out.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{LEFT + plot_w}" y2="{y:.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 8}" y="{y + 4:.1f}" text-anchor="end">{_superscript(e)}</text>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#333"/>')
    out.append(
        f'<text x="{LEFT + plot_w / 2:.1f}" y="{HEIGHT - 14}" text-anchor="middle">'
        "input pixels (voxels for 3D), log scale</text>"
    )
    out.append(
        f'<text transform="translate(18 {TOP + plot_h / 2:.1f}) rotate(-90)" text-anchor="middle">'
        "seconds per call, log scale</text>"
    )
    for network, _, dash, marker in NETWORKS:
        cases = sorted((c for c in growth if c["network"] == network), key=lambda c: c["pixels"])
        for key, _, colour in SERIES:
            points = [(px(c["pixels"]), py(statistics.median(c["runs"][key]))) for c in cases]
            path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
            dashes = f' stroke-dasharray="{dash}"' if dash else ""
            out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dashes}/>')
            for c, (x, y) in zip(cases, points):
                lo, hi = py(min(c["runs"][key])), py(max(c["runs"][key]))
                out.append(f'<line x1="{x:.1f}" y1="{lo:.1f}" x2="{x:.1f}" y2="{hi:.1f}" stroke="{colour}"/>')
                out.append(_marker(marker, x, y, colour))
    legend_x, legend_y = LEFT + plot_w + 16, TOP + 8
    for i, (_, label, colour) in enumerate(SERIES):
        y = legend_y + i * 20
        out.append(f'<line x1="{legend_x}" y1="{y}" x2="{legend_x + 22}" y2="{y}" stroke="{colour}" stroke-width="3"/>')
        text = escape(label.format(threads=threads))
        out.append(f'<text x="{legend_x + 28}" y="{y + 4}" font-size="11">{text}</text>')
    for i, (_, label, dash, marker) in enumerate(NETWORKS):
        y = legend_y + (len(SERIES) + i) * 20 + 10
        dashes = f' stroke-dasharray="{dash}"' if dash else ""
        line = f'x1="{legend_x}" y1="{y}" x2="{legend_x + 22}" y2="{y}"'
        out.append(f'<line {line} stroke="#555" stroke-width="2"{dashes}/>')
        out.append(_marker(marker, legend_x + 11, y, "#555"))
        out.append(f'<text x="{legend_x + 28}" y="{y + 4}" font-size="11">{escape(label)}</text>')
    note_y = legend_y + (len(SERIES) + len(NETWORKS)) * 20 + 30
    for i, line in enumerate(("points: medians;", "bars: fastest to slowest run")):
        out.append(f'<text x="{legend_x}" y="{note_y + i * 16}" font-size="11" fill="#555">{line}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
