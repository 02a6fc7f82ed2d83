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
    shape,
    slug,
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


@pytest.mark.parametrize("path", [p for p in FILES if "batchnorm" not in p.stem], ids=lambda p: p.stem)
def test_table_columns_add_up_to_the_total_row(path) -> None:
    lines = [line for line in layer_table(summarize(path)).splitlines() if line.startswith("| ")]
    heads = [c.strip() for c in lines[0].strip("|").split(" | ")]
    cells = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines[2:]]
    body, total = cells[:-1], cells[-1]
    assert total[0] == "**Total**"
    for column in range(3, len(total)):
        if heads[column] == "Receptive field":
            assert total[column] == ""  # a field does not add up
            continue
        assert sum(_numbers(row[column]) for row in body) == _numbers(total[column]), (path.stem, column)
    # the Parameters column, against an outside figure
    assert _numbers(total[heads.index("Parameters")]) == TOTAL_PARAMS[path.stem]


def test_symbolic_table_totals_add_up() -> None:
    summary = summarize(ARCHITECTURES / "batchnorm-2d.yaml")
    lines = layer_table(summary).splitlines()
    column = [c.strip() for c in lines[0].strip("|").split(" | ")].index("Parameters")
    params = [_numbers(line.strip("|").split(" | ")[column]) for line in lines[2:-1]]
    assert sum(params) == 13_440 and "**13,440**" in lines[-1]  # the total of 002_4edadeb67e7566ee.txt


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
    assert out.startswith("<math") and "<mi>H</mi>" in out and "&#x2212;" in out


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
