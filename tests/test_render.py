"""Site Markdown: golden pages, totals that add up, escaping, and big numbers in full."""

from __future__ import annotations

import html
import re

import pytest
import sympy

from cnnmacros.engine import summarize
from cnnmacros.errors import ArchitectureError, Problem
from cnnmacros.render import (
    architecture_page,
    count,
    description,
    error_block,
    escape,
    layer_table,
    layer_types,
    plain_title,
    setting,
    settings,
    shape,
    slug,
    worked_details,
)

from .conftest import ARCHITECTURES, generated
from .published import TOTAL_PARAMS

FILES = sorted(ARCHITECTURES.glob("*.yaml"))
# Golden pages for the short hand-written files only: the long files that scripts/generate_architectures.py
# writes, and the block files whose flat twins it writes, get none, since a golden file of hundreds of
# layers would be reviewed by nobody; their totals are still checked below, and in
# tests/test_architecture_files.py and tests/test_flat_twins.py.
GOLDEN = [p for p in FILES if not generated(p)]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_page_matches_golden_file(path, golden) -> None:
    golden(f"pages/{path.stem}.md", architecture_page(summarize(path, f"architectures/{path.name}")))


def _numbers(cell: str) -> int | None:
    text = re.sub(r"<[^>]+>|\*", "", cell).strip()
    return int(text.replace(",", "")) if re.fullmatch(r"[\d,]+", text) else None


def table_rows(markup: str) -> tuple[list[str], list[list[str]]]:
    """The headings and the body rows (total row last) of an HTML table, each cell's inner HTML."""
    heads = [re.sub(r"<[^>]+>", "", h) for h in re.findall(r"<th[^>]*>(.*?)</th>", markup, re.S)]
    body = markup[markup.index("<tbody>") :]
    layer_rows = re.findall(r"<tr(?![^>]*data-group)[^>]*>(.*?)</tr>", body, re.S)  # not a group's subtotals
    rows = [re.findall(r"<td[^>]*>(.*?)</td>", row, re.S) for row in layer_rows]
    return heads, rows


@pytest.mark.parametrize("path", [p for p in FILES if "batchnorm" not in p.stem], ids=lambda p: p.stem)
def test_table_columns_add_up_to_the_total_row(path) -> None:
    heads, cells = table_rows(layer_table(summarize(path)))
    body, total = cells[:-1], cells[-1]
    assert re.sub(r"<[^>]+>", "", total[0]) == "Total"
    assert len(heads) == len(total) and all(len(row) == len(heads) for row in body)
    for column in range(3, len(total)):
        if heads[column] == "Receptive field":
            assert total[column] == ""  # a field does not add up
            continue
        assert sum(_numbers(row[column]) for row in body) == _numbers(total[column]), (path.stem, column)
    # the Parameters column, against an outside figure
    assert _numbers(total[heads.index("Parameters")]) == TOTAL_PARAMS[path.stem]


def test_symbolic_table_totals_add_up() -> None:
    summary = summarize(ARCHITECTURES / "batchnorm-2d.yaml")
    heads, cells = table_rows(layer_table(summary))
    column = heads.index("Parameters")
    params = [_numbers(row[column]) for row in cells[:-1]]
    assert sum(params) == 13_440 and "<strong>13,440</strong>" in cells[-1][column]  # 002_4edadeb67e7566ee.txt


def test_every_cell_names_its_column_and_a_phone_keeps_layer_shape_and_parameters() -> None:
    table = layer_table(summarize(ARCHITECTURES / "alexnet.yaml"))
    kept = re.findall(r'<th class="([^"]*cnn-p1[^"]*)">(.*?)</th>', table)
    assert [text for _, text in kept] == ["Layer", "Tensor size", "Parameters"]
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", table, re.S):
        assert len(re.findall(r'<t[hd] class="[^"]*cnn-p[123]', row)) == len(re.findall(r"<t[hd]", row))


def test_settings_show_what_a_reader_needs_to_check_a_size() -> None:
    summary = summarize(ARCHITECTURES / "alexnet.yaml")
    # alexnet.yaml: {filters: 96, kernel: 11, stride: 4, padding: 0}; {pool: 3, stride: 2}; {units: 4096}
    assert settings(summary.row("Conv-1")) == "filters 96, kernel 11×11, stride 4, padding 0"
    assert settings(summary.row("MaxPool-1")) == "pool 3×3, stride 2, padding 0"  # padding by default
    assert settings(summary.row("FC-1")) == "units 4,096"
    mnist = summarize(ARCHITECTURES / "mnist.yaml")
    # mnist.yaml: {pool: 2}: the stride is the window's, written out
    assert settings(mnist.row("MaxPool-1")) == "pool 2×2, stride 2, padding 0"
    assert settings(mnist.row("Conv-1")) == "filters 4, kernel 5×5, stride 1, padding 0"
    resnet = summarize(ARCHITECTURES / "resnet18.yaml")
    assert settings(resnet.row("conv1")) == "filters 64, kernel 7×7, stride 2, padding 3, no bias"
    assert settings(resnet.row("relu")) == ""
    assert setting(summary.row("Conv-1"), "kernel") == "11×11" and setting(summary.row("FC-1"), "units") == "4,096"
    with pytest.raises(KeyError, match="no setting 'rate'"):
        setting(summary.row("Conv-1"), "rate")


def test_layers_without_working_get_no_box_and_no_link() -> None:
    summary = summarize(ARCHITECTURES / "resnet18.yaml")
    details = worked_details(summary)
    # an addition keeps nothing for the backward pass and counts nothing; a ReLU keeps its output
    assert 'id="layer-9-layer1-0-add"' not in details and 'id="layer-0-conv1"' in details
    assert 'id="layer-2-relu"' in details
    table = layer_table(summary)
    assert 'href="#layer-0-conv1"' in table and 'href="#layer-9-layer1-0-add"' not in table
    assert "No parameters" not in details


def test_escape_leaves_no_markup() -> None:
    hostile = "<b>x</b> | *y* _z_ [l](u) `c` {{ j }} & \\"
    out = escape(hostile)
    assert not set(out) & set("<>|*_[]`{}\\")
    assert html.unescape(out) == hostile


def test_escape_cannot_end_a_table_row_or_a_line() -> None:
    # Markdown ends a line at CR and LF; the others end lines elsewhere (str.splitlines, browsers).
    for breaker in "\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029":
        out = escape(f"a{breaker}| b | c")
        assert out.isprintable() and len(f"| {out} |".splitlines()) == 1, repr(breaker)
    assert escape("a\rb") == "a&#92;rb" and escape("a\nb") == "a b"
    assert escape("\x1b[2J\u202e") == "&#92;x1b&#91;2J&#92;u202e"


def test_description_is_markdown_without_html_or_unsafe_links() -> None:
    out = description("**ok** <script>x</script> [a](javascript:alert(1)) [b](https://example.org/p) [c](page.md)")
    assert "<strong>ok</strong>" in out and "&lt;script&gt;" in out
    assert 'href="&#35;"' in out and 'href="https://example.org/p"' in out and 'href="page.md"' in out


def test_counts_and_shapes() -> None:
    assert count(10**40) == "10," + ",".join(["000"] * 13)
    assert shape((227, 227, 3)) == "227×227×3"
    h = sympy.Symbol("H", integer=True, positive=True)
    out = shape((h - 4, h, 16))
    # one <math> per size, so that a line may break after a ×
    assert out.count("<math") == 3 and out.count("×</span><wbr>") == 2
    assert "<mi>H</mi>" in out and "&#x2212;" in out
    assert shape((4096,)) == "4,096"  # as the counts beside it are written


def test_slug_and_title() -> None:
    assert slug(3, "Conv 3_1 (a)") == "layer-3-conv-3-1-a"
    assert slug(0, "<>") == "layer-0"
    assert plain_title("<b>A & B</b>") == "\u2039b\u203aA \uff06 B\u2039/b\u203a"


def test_error_block_escapes_messages() -> None:
    out = error_block(ArchitectureError([Problem("f.yaml", 2, "name", "got '<script>'")]))
    assert "<script>" not in out and "&lt;script&gt;" in out


def test_layer_types_table_lists_the_registry() -> None:
    out = layer_types()
    assert "| `conv2d` | 2D convolution | `filters` (required), `kernel` (required), `stride` (1)" in out
    assert "`ceil_mode` (false)" in out and "| `batchnorm` |" in out
