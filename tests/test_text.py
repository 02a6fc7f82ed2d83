"""Terminal tables: golden files, and per-layer figures that add up to the published totals."""

from __future__ import annotations

import re

import pytest

from cnnmacros.engine import summarize
from cnnmacros.text import count, table

from .conftest import ARCHITECTURES, generated
from .published import TOTAL_PARAMS

FILES = sorted(ARCHITECTURES.glob("*.yaml"))
# Golden tables for the short hand-written files only: the long files that scripts/generate_architectures.py
# writes, and the block files whose flat twins it writes, get none, since a golden file of hundreds of
# layers would be reviewed by nobody; their totals are still checked below, and in
# tests/test_architecture_files.py and tests/test_flat_twins.py.
GOLDEN = [p for p in FILES if not generated(p)]


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: p.stem)
def test_table_matches_golden_file(path, golden) -> None:
    golden(f"tables/{path.stem}.txt", table(summarize(path, f"architectures/{path.name}")) + "\n")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_printed_layers_and_total_are_the_published_total(path) -> None:
    text = table(summarize(path))
    head, body = text.split("\n-")[1].split("\n", 1)[1], text.split("\n-")[2].split("\n", 1)[1]
    end = head.index("Parameters") + len("Parameters")  # the column is right-aligned under its heading
    params = [int(line[:end].split()[-1].replace(",", "")) for line in body.splitlines()]
    total = int(re.search(r"^Parameters \(weights and biases\): ([\d,]+)$", text, re.M).group(1).replace(",", ""))
    assert sum(params) == total == TOTAL_PARAMS[path.stem]


def test_count_formats() -> None:
    assert count(62378344) == "62,378,344"
    assert count(10**24) == "1,000,000,000,000,000,000,000,000"


def test_explain_shows_each_formula_with_its_numbers() -> None:
    from cnnmacros.text import explain

    text = explain(summarize(ARCHITECTURES / "alexnet.yaml"))
    lines = text.splitlines()
    assert lines[1] == "Conv-1 (conv2d), output 55x55x96"
    # (227 - 11 + 2*0)/4 = 54, floored, plus one: 55
    assert (
        lines[2] == "  output size along H and W: O = floor((I - K + 2*P)/S) + 1 = floor((227 - 11 + 2*0)/4) + 1 = 55"
    )
    assert "  parameters: N_p = C_out*(C_in*K_h*K_w/G + 1) = 96*(3*11*11/1 + 1) = 34,944" in lines
    assert "  input units, flattened: N_in = C*H*W = 256*6*6 = 9,216" in lines  # 000: 6 x 6 x 256
    assert "  weights: N_w = N_in*N_out = 9216*4096 = 37,748,736" in lines  # 000: 6^2 x 256 x 4096
    ceil = explain(summarize(ARCHITECTURES / "googlenet-stem.yaml"))
    # ceil((112 - 3)/2) = 55; the 56th window starts at 110 < 112, so it counts: 56
    assert (
        "  output size along H and W: O = ceiling((I - K + 2*P)/S) if I + P <= S*ceiling((I - K + 2*P)/S) else "
        "ceiling((I - K + 2*P)/S) + 1 = ceiling((112 - 3 + 2*0)/2) if 112 + 0 <= 2*ceiling((112 - 3 + 2*0)/2) else "
        "ceiling((112 - 3 + 2*0)/2) + 1 = 56"
    ) in ceil
    symbolic = explain(summarize(ARCHITECTURES / "batchnorm-2d.yaml"))
    assert "  output size along H: O = floor((I - K + 2*P)/S) + 1 = floor((H - 3 + 2*0)/1) + 1 = H - 2" in symbolic
    assert "  condition (declared inputs): 32*(H - 4)*(W - 4) = 128" in symbolic
