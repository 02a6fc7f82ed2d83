"""The figures drawn at build time: windows as PyTorch slides them, charts and graphs from the rows.

The sliding-window figures are checked against PyTorch's own gradients: the input positions that
one output of ``conv1d``, ``avg_pool1d`` (ceil mode too) or ``conv_transpose1d`` depends on are
the positions its gradient reaches, which is what the figure must shade for that output.
"""

from __future__ import annotations

import re
from fractions import Fraction

import pytest

from cnnmacros import svg
from cnnmacros.engine import summarize
from cnnmacros.rows import Step

from .conftest import ARCHITECTURES, require

try:
    import torch
except ImportError:  # pragma: no cover - depends on the machine
    torch = None  # type: ignore[assignment]


def _positions(figure: str) -> dict[float, int]:
    """The x of each labelled cell of the strip, to the position its label names (cells in the
    padding a transposed convolution removes have no label)."""
    labels = {
        float(x) - svg.CELL / 2: int(t.replace("\u2212", "-").replace(",", ""))
        for x, t in re.findall(
            r'<text x="([\d.]+)" y="\d+" text-anchor="middle" class="cnn-pos">([^<]+)</text>', figure
        )
    }
    cells = {float(x) for x in re.findall(r'<rect class="cnn-c-\w+" x="([\d.]+)" y="0"', figure)}
    return {x: p for x, p in labels.items() if x in cells}


def _drawn(figure: str) -> dict[int, set[int]]:
    """Row number (an output position, or an input one for a transposed convolution) -> the
    labelled strip positions its taps cover (a tap is drawn 3 units inside its cell)."""
    where = _positions(figure)
    taps = [(float(x) - 3, float(y)) for x, y in re.findall(r'<rect class="cnn-tap" x="([\d.]+)" y="([\d.]+)"', figure)]
    rows = {}
    for y, label in re.findall(r'y="([\d.]+)" text-anchor="end" class="cnn-row">(?:output|input) ([\d,]+)<', figure):
        xs = {x for x, top in taps if abs(top + 10 - float(y)) < 1e-9}
        rows[int(label.replace(",", ""))] = {where[x] for x in xs if x in where}
    return rows


def _torch_reads(kind: str, size: int, kernel: int, stride: int, padding: int, dilation: int = 1) -> list[set[int]]:
    """For each output position, the input positions its value depends on, from PyTorch's gradient."""
    x = torch.ones(1, 1, size, dtype=torch.float64, requires_grad=True)
    if kind == "conv":
        weight = torch.ones(1, 1, kernel, dtype=torch.float64)
        out = torch.nn.functional.conv1d(x, weight, stride=stride, padding=padding, dilation=dilation)
    else:
        ceil = kind == "ceil"
        out = torch.nn.functional.avg_pool1d(x, kernel, stride, padding, ceil_mode=ceil, count_include_pad=False)
    reads = []
    for o in range(out.shape[-1]):
        (grad,) = torch.autograd.grad(out[0, 0, o], x, retain_graph=True)
        reads.append({i for i in range(size) if grad[0, 0, i] != 0})
    return reads


CASES = [
    # formula, values, PyTorch's kind: AlexNet Conv-1 and MaxPool-1, Conv-2 (padding), the dilated
    # context module's Layer-3, GoogLeNet's MaxPool-1 in ceil mode, and a stride wider than the window
    ("conv_output_size_d1", {"I": 227, "K": 11, "S": 4, "P": 0}, "conv"),
    ("pool_output_size", {"I": 55, "K": 3, "S": 2, "P": 0}, "pool"),
    ("conv_output_size_d1", {"I": 27, "K": 5, "S": 1, "P": 2}, "conv"),
    ("conv_output_size", {"I": 64, "K": 3, "S": 1, "P": 2, "D": 2}, "conv"),
    ("pool_output_size_ceil", {"I": 112, "K": 3, "S": 2, "P": 0}, "ceil"),
    ("pool_output_size_ceil", {"I": 6, "K": 3, "S": 2, "P": 1}, "ceil"),
    ("conv_output_size_d1", {"I": 10, "K": 1, "S": 3, "P": 0}, "conv"),
    ("conv_output_size_d1", {"I": 224, "K": 11, "S": 4, "P": 0}, "conv"),
]


@pytest.mark.oracle
@pytest.mark.parametrize(("formula", "values", "kind"), CASES)
def test_each_drawn_window_reads_what_pytorch_differentiates(formula: str, values: dict, kind: str) -> None:
    require(torch is not None, "PyTorch is not installed (pip install torch==2.13.0)")
    reads = _torch_reads(kind, values["I"], values["K"], values["S"], values["P"], values.get("D", 1))
    step = Step("output_size", "output size along H and W", formula, values, len(reads))
    figure = svg.step_figure(step, "H and W")
    drawn = _drawn(figure)
    outputs = len(reads)
    assert sorted(drawn) == ([0, 1, outputs - 1] if outputs > 4 else list(range(outputs)))
    for o, positions in drawn.items():
        inside = {p for p in positions if 0 <= p < values["I"]}
        assert inside == reads[o], (formula, values, o)
    never = sorted(set(range(values["I"])) - set().union(*reads))
    caption = re.search(r"<figcaption>(.*?)</figcaption>", figure).group(1)
    assert f"{outputs:,} output" in caption
    if never:  # AlexNet at 224: the floor leaves the last pixels unread, and the caption says how many
        assert f"{len(never)} input position" in caption
        cells = re.findall(r'<rect class="cnn-c-unread" x="([\d.]+)"', figure)
        assert {_positions(figure)[float(x)] for x in cells} <= set(never)
    else:
        assert "no output reads" not in caption


@pytest.mark.oracle
def test_a_transposed_convolution_places_its_kernel_where_pytorch_writes() -> None:
    require(torch is not None, "PyTorch is not installed (pip install torch==2.13.0)")
    # DCGAN's deconv1: 4 inputs, kernel 4, stride 2, padding 1 -> 8 outputs
    size, kernel, stride, padding = 4, 4, 2, 1
    x = torch.ones(1, 1, size, dtype=torch.float64, requires_grad=True)
    weight = torch.ones(1, 1, kernel, dtype=torch.float64)
    out = torch.nn.functional.conv_transpose1d(x, weight, stride=stride, padding=padding)
    writes: dict[int, set[int]] = {i: set() for i in range(size)}
    for q in range(out.shape[-1]):
        (grad,) = torch.autograd.grad(out[0, 0, q], x, retain_graph=True)
        for i in range(size):
            if grad[0, 0, i] != 0:
                writes[i].add(q)
    values = {"I": size, "K": kernel, "S": stride, "P": padding, "D": 1, "P_o": 0}
    figure = svg.step_figure(Step("output_size", "output size", "convtranspose_output_size", values, out.shape[-1]))
    drawn = _drawn(figure)
    assert sorted(drawn) == list(range(size))
    for i, positions in drawn.items():
        assert positions == writes[i], i
    assert f"{out.shape[-1]} outputs remain" in figure
    assert figure.count('class="cnn-c-pad"') == 2 * padding  # the outputs padding removes, one per end


def test_steps_that_are_no_sliding_window_get_no_figure() -> None:
    h = __import__("sympy").Symbol("H", integer=True, positive=True)
    assert svg.step_figure(Step("biases", "biases", "conv_biases", {"C_out": 96}, 96)) == ""
    symbolic = Step("output_size", "output size", "conv_output_size_d1", {"I": h, "K": 3, "S": 1, "P": 0}, h - 2)
    assert svg.step_figure(symbolic) == ""


def _share(part: int, whole: int) -> str:
    tenths = Fraction(1000 * part, whole)
    rounded = int(tenths + Fraction(1, 2))  # half up
    return f"{rounded // 10}.{rounded % 10}%"


@pytest.mark.parametrize("stem", ["alexnet", "resnet18", "inception-3a", "batchnorm-2d"])
def test_the_chart_gives_each_box_its_exact_share(stem: str) -> None:
    summary = summarize(ARCHITECTURES / f"{stem}.yaml")
    chart = svg.cost_chart(summary)
    tips = re.findall(r"<title>([^<]*): ([\d,]+) (parameters|macs) of ([\d,]+), ([\d.]+%)</title>", chart)
    by_kind: dict[str, list[tuple[str, int]]] = {}
    for names, value, kind, total, share in tips:
        value, total = int(value.replace(",", "")), int(total.replace(",", ""))
        assert share == _share(value, total)
        by_kind.setdefault(kind, []).append((names, value))
    # the boxes' values add up to the network's totals, with every counted layer in one box
    rows = {r.name: r for r in summary.rows}
    for kind, key in (("parameters", "params"), ("macs", "macs")):
        if kind not in by_kind:
            assert summary.symbolic  # symbolic MACs get no bars
            continue
        assert sum(v for _, v in by_kind[kind]) == summary.totals[key]
        for names, value in by_kind[kind]:
            assert value == sum(rows[n].figures[key] for n in names.split(", "))
    counted = {r.name for r in summary.rows if r.params or (r.macs != 0)}
    listed = {n for names, _ in by_kind["parameters"] for n in names.split(", ")}
    assert counted <= listed


@pytest.mark.parametrize("stem", ["resnet18", "inception-3a", "densenet121", "unet", "alexnet"])
def test_the_graph_has_an_edge_for_every_input_a_layer_reads(stem: str) -> None:
    summary = summarize(ARCHITECTURES / f"{stem}.yaml")
    graph = svg.network_graph(summary)
    boxes = {int(i): names for i, names in re.findall(r'<g data-box="(-?\d+)"><title>([^<]*)</title>', graph)}
    box_of = {"input": -1}
    for index, tip in boxes.items():
        if index >= 0:
            for name in re.findall(r"(?:^|, )(.+?) \(\w+\)", tip.rsplit(": ", 1)[0]):
                box_of[name] = index
    assert set(box_of) == {"input", *(r.name for r in summary.rows)}  # every layer is in one box
    edges = {tuple(map(int, e.split())) for e in re.findall(r'data-edge="(-?\d+ -?\d+)"', graph)}
    previous = "input"
    for row in summary.rows:
        for source in row.sources or (previous,):
            if box_of[source] != box_of[row.name]:
                assert (box_of[source], box_of[row.name]) in edges, (row.name, source)
        previous = row.name
    assert all(a != b for a, b in edges)
    # a box folds only layers that keep the shape of the one before, which they alone read
    for index in range(len(boxes) - 1):
        names = [n for n, b in box_of.items() if b == index]
        members = [r for r in summary.rows if r.name in names]
        assert all(r.output == r.input and not r.sources for r in members[1:]), names
