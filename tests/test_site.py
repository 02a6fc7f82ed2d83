"""The built site: a strict build with no warning, and every figure of the source documents on its pages."""

from __future__ import annotations

import html
import re
import subprocess
from pathlib import Path

import pytest

from .conftest import ROOT
from .test_source_documents import ALEXNET_TABLE

pytestmark = pytest.mark.slow  # every test here builds the site or reads the session's build


def text_of(page: Path) -> str:
    """The visible text of a page, roughly: tags dropped, entities decoded, spaces folded."""
    body = page.read_text(encoding="utf-8")
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", body)).split())


def test_strict_build_has_no_warnings(site_build: tuple[Path, subprocess.CompletedProcess[str]]) -> None:
    _, done = site_build
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr


def test_every_architecture_file_has_a_page(site: Path) -> None:
    for path in ROOT.joinpath("architectures").glob("*.yaml"):
        page = site / "architectures" / path.stem / "index.html"
        assert page.exists(), path.name
        assert "<table>" in page.read_text(encoding="utf-8")


def test_alexnet_page_has_every_figure_of_the_source_table(site: Path) -> None:
    page = (site / "alexnet" / "index.html").read_text(encoding="utf-8")
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", page, flags=re.S)
    cells = [
        [
            " ".join(html.unescape(re.sub(r"<[^>]+>", " ", c.replace("<wbr>", ""))).split())
            for c in re.findall(r"<td[^>]*>(.*?)</td>", r, re.S)
        ]
        for r in rows
    ]
    by_name = {c[0]: c for c in cells if c}
    for line in ALEXNET_TABLE.strip().splitlines():
        name, size, weights, biases, params = line.split("\t")
        row = by_name[name]
        expected = size.replace("x", "×")
        expected = expected.removesuffix("×1")  # the document writes vectors as 4096×1
        assert row[2].replace(",", "") == expected, name  # the site groups thousands: 4,096
        assert row[3:6] == [weights, biases, params], name
    assert by_name["Input"][2] == "227×227×3"
    assert "62,378,344" in by_name["Total"][5]


def test_alexnet_page_explains_227_and_the_first_conv(site: Path) -> None:
    text = text_of(site / "alexnet" / "index.html")
    assert "54.25" in text  # (224 - 11)/4 + 1 and (227 - 11 + 1)/4, both from 000 and 001's faults
    assert "34,944" in text and "55×55×96" in text
    assert "60,965,224" in text  # the grouped network of the paper (seeds README)
    assert "3,747,200" in text  # all five convolutions, from 000's prose


def test_mnist_page_answers_the_four_questions(site: Path) -> None:
    text = text_of(site / "mnist" / "index.html")
    assert "After the first max-pool the tensor is 12×12×4." in text
    assert "After the third convolution the tensor is 3×3×16." in text
    assert "Flattening gives 144 units." in text
    assert "The network has 4,058 trainable parameters." in text
    # Each worked step ends on its layer's figure (the document's answers to question 4).
    per_layer = {"Conv-1": "104", "Conv-2": "296", "Conv-3": "1,168", "FC": "2,320", "Output layer": "170"}
    for layer, figure in per_layer.items():
        assert re.search(rf"{re.escape(layer)}: parameters [^:]*?= {re.escape(figure)}(?![\d,])", text), layer


def test_batchnorm_page_has_both_totals_and_the_statistics(site: Path) -> None:
    text = text_of(site / "batchnorm" / "index.html")
    assert "Total: 13,440 parameters." in text
    assert "Total: 23,520 parameters." in text
    for figure in ("448", "4,640", "8,256", "1,312", "13,856"):
        assert re.search(rf"= {re.escape(figure)}(?![\d,])", text), figure
    assert "The 2D example has 96 such statistics and the 3D one 96" in text
    # every input that meets 32 (H - 4)(W - 4) = 128, and 32 (D - 4)(H - 4)(W - 4) = 128, each
    # axis at least 5 (two unpadded 3-wide kernels): the factors multiply to 4, none above 4
    two = [(h, w) for h in range(5, 40) for w in range(5, 40) if 32 * (h - 4) * (w - 4) == 128]
    three = [
        (d, h, w) for d in range(5, 20) for h in range(5, 20) for w in range(5, 20) if (d - 4) * (h - 4) * (w - 4) == 4
    ]

    def listed(shapes: list[tuple[int, ...]]) -> str:
        names = ["×".join(map(str, shape)) + "×3" for shape in shapes]
        return ", ".join(names[:-1]) + " and " + names[-1]

    assert f"Exactly these inputs meet it: {listed(two)}." in text
    assert len(three) == 6 and f"and there exactly these: {listed(three)}." in text


def test_index_lists_every_architecture_with_totals(site: Path) -> None:
    text = text_of(site / "architectures" / "index.html")
    for name, total in [("AlexNet", "62,378,344"), ("MNIST CNN", "4,058"), ("VGG-16", "138,357,544")]:
        assert re.search(rf"{re.escape(name)} .*? {re.escape(total)}", text), name


def test_pages_need_no_network(site: Path) -> None:
    for page in site.rglob("*.html"):
        body = page.read_text(encoding="utf-8")
        for url in re.findall(r'(?:src|href)="(https?://[^"]+)"', body):
            assert not url.endswith((".js", ".css", ".woff", ".woff2")), (page, url)
        assert "fonts.googleapis" not in body, page
