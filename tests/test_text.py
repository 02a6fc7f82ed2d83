"""Terminal tables: golden files, and per-layer figures that add up to the printed totals."""

from __future__ import annotations

import re

import pytest

from cnnmacros.engine import summarize
from cnnmacros.text import count, table

from .conftest import ARCHITECTURES

FILES = sorted(ARCHITECTURES.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_table_matches_golden_file(path, golden) -> None:
    golden(f"tables/{path.stem}.txt", table(summarize(path, f"architectures/{path.name}")) + "\n")


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_printed_layers_add_up_to_the_printed_total(path) -> None:
    text = table(summarize(path))
    body = text.split("\n-")[2].split("\n", 1)[1]  # the rows between the second and third rules
    params = [int(line.rsplit(None, 1)[1].replace(",", "")) for line in body.splitlines()]
    total = int(re.search(r"^Parameters \(weights and biases\): ([\d,]+)$", text, re.M).group(1).replace(",", ""))
    assert params and sum(params) == total


def test_count_formats() -> None:
    assert count(62378344) == "62,378,344"
    assert count(10**24) == "1,000,000,000,000,000,000,000,000"
