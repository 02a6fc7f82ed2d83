"""`cnnmacros summary --input`, and the program each page recomputes with (cnnmacros.recompute).

The browser runs the programs in tests/test_browser_recompute.py; here: the command's sizes and
errors, checked against the file with its input edited and against figures worked in the test,
and what the generated JavaScript may and may not contain.
"""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from cnnmacros import recompute
from cnnmacros.architecture import read
from cnnmacros.cli import main
from cnnmacros.engine import summarize
from cnnmacros.figures import FIGURES, TOTALS

from .conftest import ROOT

ARCHITECTURES = ROOT / "architectures"


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(argv))
    return code, out.getvalue(), err.getvalue()


def test_input_gives_what_the_file_with_that_input_gives(tmp_path: Path) -> None:
    source = (ARCHITECTURES / "alexnet.yaml").read_text(encoding="utf-8")
    edited = tmp_path / "alexnet.yaml"
    edited.write_text(source.replace("input: [227, 227, 3]", "input: [131, 99, 5]"), encoding="utf-8")
    code, out, _ = run("summary", "architectures/alexnet.yaml", "--input", "131, 99,5", "--json")
    assert code == 0
    _, want, _ = run("summary", str(edited), "--json")
    assert json.loads(out) == json.loads(want)


def test_input_comes_before_the_training_memory(tmp_path: Path) -> None:
    """--batch, --device, --optimizer and --fits count the file at the size --input gives."""
    source = (ARCHITECTURES / "resnet18.yaml").read_text(encoding="utf-8")
    assert "input: [224, 224, 3]" in source
    edited = tmp_path / "resnet18.yaml"
    edited.write_text(source.replace("input: [224, 224, 3]", "input: [227, 250, 3]"), encoding="utf-8")
    memory = ["--batch", "3", "--device", "cpu", "--optimizer", "sgd", "--fits", "1GiB", "--json"]
    code, out, err = run("summary", "architectures/resnet18.yaml", "--input", "227,250,3", *memory)
    assert code == 0, err
    _, want, _ = run("summary", str(edited), *memory)
    got, want = json.loads(out), json.loads(want)
    assert got == want
    assert (got["batch"], got["device"], got["optimizer"]) == (3, "cpu", "sgd")
    # the input batch: 3 examples of 227 x 250 x 3 float32 elements
    assert got["totals"]["input_bytes"] == 3 * 227 * 250 * 3 * 4
    assert got["fits"]["largest_batch"] > 0


def test_input_applies_to_a_symbolic_file() -> None:
    # batchnorm-2d.yaml: [H, W, 3], conv 3x3 (32), conv 3x3 (32) with batch norm, FC 128 -> 64 declared
    code, out, err = run("summary", "architectures/batchnorm-2d.yaml", "--input", "6,6,3", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["input"] == [6, 6, 3]
    assert [layer["output"] for layer in data["layers"]][-1] == [64]
    # the FC layer receives (6 - 4) x (6 - 4) x 32 = 128 units, as declared: 128 x 64 + 64 parameters
    assert data["layers"][-1]["params"] == 128 * 64 + 64
    assert all("conditions" not in layer for layer in data["layers"])


@pytest.mark.parametrize(
    ("sizes", "lines"),
    [
        (
            "224,224",
            [
                "architectures/alexnet.yaml:8: input: expected 3 sizes from --input, one per entry of the file's "
                "input [227, 227, 3], got 2"
            ],
        ),
        (
            "0,x,3",
            [
                "architectures/alexnet.yaml:8: input: expected a positive integer for size 1 from --input, got '0'",
                "architectures/alexnet.yaml:8: input: expected a positive integer for size 2 from --input, got 'x'",
            ],
        ),
        (
            "10,227,3",  # Conv-1 is 11x11 with no padding (alexnet.yaml line 10)
            [
                "architectures/alexnet.yaml:10: layers[0] (Conv-1) kernel: expected a kernel that fits the padded "
                "input along H (10 + 2x0 = 10), got 11"
            ],
        ),
    ],
)
def test_bad_input_is_one_located_line_each_and_exit_1(sizes: str, lines: list[str]) -> None:
    code, out, err = run("summary", "architectures/alexnet.yaml", "--input", sizes, "--json")
    assert (code, out) == (1, "")
    assert err.splitlines() == lines
    assert "Traceback" not in err


def test_symbolic_file_at_a_size_its_declared_count_refuses() -> None:
    code, _, err = run("summary", "architectures/batchnorm-2d.yaml", "--input", "10,10,3")
    assert code == 1
    # (10 - 4) x (10 - 4) x 32 = 1152 units reach the FC layer, which declares 128 (line 14)
    assert err.splitlines() == [
        "architectures/batchnorm-2d.yaml:14: layers[4] (FC) inputs: expected the 1152 units the layer receives "
        "(6x6x32), got 128"
    ]


def program_text(stem: str) -> str:
    path = ARCHITECTURES / f"{stem}.yaml"
    display = f"architectures/{stem}.yaml"
    return recompute.program(read(path, display), summarize(path, display))["source"]


@pytest.mark.parametrize("stem", ["alexnet", "resnet50", "unet", "unet3d", "batchnorm-2d", "googlenet-stem"])
def test_the_program_divides_only_through_the_exact_helpers(stem: str) -> None:
    code = "\n".join(line for line in program_text(stem).splitlines() if not line.startswith("//"))
    strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', code)  # messages may say anything
    assert "/" not in strings  # floors and ceilings are F.fdiv and F.cdiv of BigInts
    assert "Math." not in strings and "parseFloat" not in strings
    assert re.search(r"\b\d+n\b", strings)  # integers are BigInt literals


def test_the_program_returns_every_declared_figure_and_total() -> None:
    code = program_text("resnet50")
    for figure in FIGURES:
        assert f'"{figure.json}": ' in code, figure.key
    for total in TOTALS:
        assert f"const t_{total.key} = " in code or f'"{total.key}": ' in code, total.key


def test_layers_with_the_same_options_share_their_text_across_files() -> None:
    cache: dict = {}
    for stem in ("resnet18", "resnet50"):
        path = ARCHITECTURES / f"{stem}.yaml"
        recompute.program(read(path), summarize(path), cache)
    # ResNet-50's 175 layers come from far fewer distinct layers (options and inputs)
    assert len(cache) < 90
