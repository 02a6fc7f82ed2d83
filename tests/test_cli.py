"""The ``cnnmacros`` command as a user runs it: output, exit codes, no tracebacks."""

from __future__ import annotations

import json
import shutil
import subprocess
import tomllib
from pathlib import Path

import sympy

from .conftest import PYTHON, ROOT, run_cli
from .test_source_documents import ALEXNET_TABLE


def test_summary_json_matches_the_alexnet_table() -> None:
    done = run_cli("summary", "architectures/alexnet.yaml", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert data["name"] == "AlexNet" and data["input"] == [227, 227, 3]
    for layer, line in zip(data["layers"], ALEXNET_TABLE.strip().splitlines(), strict=True):
        name, size, weights, biases, params = line.split("\t")
        assert layer["name"] == name
        assert "x".join(map(str, layer["output"])) == size.removesuffix("×1")
        assert [layer["weights"], layer["biases"], layer["params"]] == [
            int(x.replace(",", "")) for x in (weights, biases, params)
        ]
        assert layer["non_trainable"] == 0
    # Multiply-accumulates, C_out x O x O x C_in x K x K per convolution and N_in x N_out per FC:
    convs = [96 * 55**2 * 3 * 11**2, 256 * 27**2 * 96 * 5**2, 384 * 13**2 * 256 * 9, 384 * 13**2 * 384 * 9]
    convs.append(256 * 13**2 * 384 * 9)
    fcs = [9216 * 4096, 4096 * 4096, 4096 * 1000]
    macs = sum(convs) + sum(fcs)
    # Output elements: those of the layers with parameters (convolutions, FCs), then the pools'.
    with_params = 55 * 55 * 96 + 27 * 27 * 256 + 2 * 13 * 13 * 384 + 13 * 13 * 256 + 4096 + 4096 + 1000
    pools = 27 * 27 * 96 + 13 * 13 * 256 + 6 * 6 * 256
    assert data["totals"] == {
        "weights": 62_378_344 - 10_568,
        "biases": 96 + 256 + 384 + 384 + 256 + 4096 + 4096 + 1000,
        "params": 62_378_344,
        "non_trainable": 0,
        "macs": macs,
        "flops": 2 * macs,
        "activations": with_params + pools,
        "param_bytes": 4 * 62_378_344,  # float32
        "forward_backward_bytes": 2 * 4 * with_params,  # torchinfo: value and gradient of each output
        # Training at batch 1 under Adam: the input; every convolution's and FC's output, kept by the
        # layer after it (4 bytes each), but the last FC's; every max pool's int64 indices (8) and its
        # output, kept by the next convolution or, through the flatten view, by FC-1 (4).
        "input_bytes": 227 * 227 * 3 * 4,
        "saved_bytes": 4 * (55 * 55 * 96 + 27 * 27 * 256 + 2 * 13 * 13 * 384 + 13 * 13 * 256 + 2 * 4096) + 12 * pools,
        "buffer_bytes": 0,
        "grad_bytes": 4 * 62_378_344,
        "optimizer_bytes": 2 * 4 * 62_378_344,  # Adam's two moments
        "train_bytes": 227 * 227 * 3 * 4
        + 4 * (55 * 55 * 96 + 27 * 27 * 256 + 2 * 13 * 13 * 384 + 13 * 13 * 256 + 2 * 4096)
        + 12 * pools
        + 4 * 4 * 62_378_344,  # parameters, gradients and two moments
    }
    assert macs == 1_135_256_096
    assert data["convention"] == "cnnmacros" and data["dtype"] == "float32"
    assert (data["batch"], data["device"], data["optimizer"]) == (1, "cuda", "adam")


def test_summary_json_symbolic_shapes_are_strings() -> None:
    data = json.loads(run_cli("summary", "architectures/batchnorm-2d.yaml", "--json").stdout)
    assert data["input"] == ["H", "W", 3]
    assert data["layers"][2]["output"] == ["H - 4", "W - 4", 32]
    assert data["layers"][4]["conditions"] == ["32*(H - 4)*(W - 4) = 128"]
    totals = data["totals"]
    assert (totals["params"], totals["non_trainable"]) == (13_440, 2 * 16 + 2 * 32)
    # Conv-1: 16 kernels of 3x3x3 at (H-2)(W-2) positions; Conv-2: 32 of 3x3x16 at (H-4)(W-4); the FC
    # declares 128 inputs for its 64 units.
    h, w = sympy.symbols("H W")
    macs = 16 * 27 * (h - 2) * (w - 2) + 32 * 144 * (h - 4) * (w - 4) + 128 * 64
    assert sympy.expand(sympy.sympify(totals["macs"]) - macs) == 0
    assert sympy.expand(sympy.sympify(totals["flops"]) - 2 * macs) == 0


def test_summary_table_has_totals() -> None:
    done = run_cli("summary", "architectures/mnist.yaml")
    assert done.returncode == 0
    assert "Parameters (weights and biases): 4,058" in done.stdout
    assert "Non-trainable (batch-norm running statistics): 0" in done.stdout


def test_check_all_files_by_default() -> None:
    """Subfolders included, as the site gives their files pages: the zoo's 68 files too."""
    done = run_cli("check")
    count = len(list((ROOT / "architectures").glob("*.yaml"))) + len(list((ROOT / "architectures").glob("*/*.yaml")))
    assert len(list((ROOT / "architectures" / "torchvision").glob("*.yaml"))) == 68
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{count} files checked, all valid\n", "")


def test_check_of_a_folder_finds_the_files_of_its_subfolders(tmp_path: Path) -> None:
    (tmp_path / "zoo").mkdir()
    (tmp_path / "zoo" / "bad.yml").write_text("name: B\ninput: [8, 8, 1]\nlayers: []\n", encoding="utf-8")
    shutil.copy(ROOT / "architectures" / "mnist.yaml", tmp_path / "mnist.yaml")
    done = run_cli("check", str(tmp_path))
    assert done.returncode == 1 and f"{tmp_path / 'zoo' / 'bad.yml'}:3" in done.stderr, done.stderr
    assert done.stderr.endswith("1 of 2 files have errors\n")


def test_check_reports_every_broken_file() -> None:
    done = run_cli("check", "tests/broken/zero-size.yaml", "architectures/mnist.yaml", "tests/broken/empty.yaml")
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "tests/broken/zero-size.yaml:4: layers[0] (conv3_1) kernel: expected a positive integer, got 0",
        "tests/broken/empty.yaml:1: file is empty: expected a mapping with name, input and layers",
        "2 of 3 files have errors",
    ]


def test_check_shared_among_processes_reports_in_the_order_given(tmp_path: Path) -> None:
    """Eight files, so that check shares them among processes, largest first: the messages still
    come in the order the files were named, as one process gives them. The first file named is
    the largest and the slowest (DenseNet-121 with a bad last layer): in the order the answers
    arrive it would come after the small ones."""
    big = tmp_path / "big.yaml"
    text = (ROOT / "architectures" / "densenet121.yaml").read_text(encoding="utf-8")
    big.write_text(text.rstrip("\n") + "\n  - {name: extra, type: dense, units: 0}\n", encoding="utf-8")
    named = [str(big), "tests/broken/zero-size.yaml", "architectures/mnist.yaml", "tests/broken/empty.yaml"]
    named += ["architectures/lenet5.yaml", "tests/broken/several-errors.yaml", "architectures/alexnet.yaml"]
    named += ["nope.yaml"]
    together = run_cli("check", *named)
    expected = []
    for name in named:
        alone = run_cli("check", name)
        expected += alone.stderr.splitlines()[:-1]  # its own lines, without "1 of 1 files have errors"
    assert together.returncode == 1
    assert together.stderr.splitlines() == [*expected, "5 of 8 files have errors"]
    assert together.stderr.splitlines()[0].startswith(f"{big}:")


def test_summary_of_a_missing_or_broken_file(tmp_path: Path) -> None:
    done = run_cli("summary", "nope.yaml")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == "nope.yaml:1: cannot read the file: No such file or directory\n"
    done = run_cli("summary", "tests/broken/several-errors.yaml", "--json")
    assert done.returncode == 1 and len(done.stderr.splitlines()) == 3 and "Traceback" not in done.stderr


def test_check_with_no_files(tmp_path: Path) -> None:
    done = run_cli("check", str(tmp_path))
    assert done.returncode == 1 and "no architecture files found" in done.stderr


def test_installed_entry_point() -> None:
    exe = Path(PYTHON).with_name("cnnmacros")
    done = subprocess.run([str(exe), "summary", "architectures/mnist.yaml"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0 and "4,058" in done.stdout


def test_summary_explain_prints_the_worked_formulas() -> None:
    done = run_cli("summary", "architectures/mnist.yaml", "--explain")
    assert done.returncode == 0
    table, worked = done.stdout.split("\n\nWorked formulas\n")
    assert "4,058" in table
    # 003: (3 x 3 x 8 + 1) x 16 = 1168
    assert "  parameters: N_p = C_out*(C_in*K_h*K_w/G + 1) = 16*(8*3*3/1 + 1) = 1,168" in worked.splitlines()


def test_summary_csv_is_the_json_layers() -> None:
    import csv
    import io

    data = json.loads(run_cli("summary", "architectures/resnet18.yaml", "--json").stdout)
    done = run_cli("summary", "architectures/resnet18.yaml", "--format", "csv")
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(done.stdout)))
    keys = list(dict.fromkeys(k for layer in data["layers"] for k in layer))
    assert rows[0] == keys and "from" in keys  # a header of the JSON's keys, `from` included
    assert len(rows) == 1 + len(data["layers"])
    for row, layer in zip(rows[1:], data["layers"], strict=True):
        for key, cell in zip(keys, row, strict=True):
            value = layer.get(key)
            if isinstance(value, (list, dict)):
                assert json.loads(cell) == value, key
            else:
                assert cell == ("" if value is None else str(value)), key


def test_summary_markdown_and_latex_are_the_table(tmp_path: Path) -> None:
    """The terminal table's rows in a pipe table and in a tabular; author text escaped for each."""
    (tmp_path / "odd.yaml").write_text(
        'name: "A_b & 50% {x}"\ninput: [8, 8, 1]\nlayers:\n  - {name: "c|1*", type: conv2d, filters: 2, kernel: 3}\n'
    )
    table = run_cli("summary", str(tmp_path / "odd.yaml")).stdout.splitlines()
    done = run_cli("summary", str(tmp_path / "odd.yaml"), "--format", "markdown")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[:4] == [
        r"**A\_b \& 50% {x}**",
        "",
        "| Layer | Type | Output shape | Weights | Biases | Parameters | MACs | Saved |",
        "| --- | --- | --- | --: | --: | --: | --: | --: |",
    ]
    # 3x3x1x2 weights and 2 biases; 6x6 positions x 2 filters x 9 taps = 648 MACs; in training the
    # convolution keeps its input, the network's (no layer's), and no step keeps its output: 0 saved
    assert lines[5] == r"| c\|1\* | conv2d | 6x6x2 | 18 | 2 | 20 | 648 | 0 |"
    assert table[5].split() == ["c|1*", "conv2d", "6x6x2", "18", "2", "20", "648", "0"]
    assert lines[-1] == "| **Total** |  |  | **18** | **2** | **20** | **648** | **0** |"
    done = run_cli("summary", str(tmp_path / "odd.yaml"), "--format", "latex")
    assert done.stdout.splitlines() == [
        r"% A\_b \& 50\% \{x\}",
        r"\begin{tabular}{lllrrrrr}",
        r"\hline",
        r"Layer & Type & Output shape & Weights & Biases & Parameters & MACs & Saved \\",
        r"\hline",
        r"Input & input & 8x8x1 & 0 & 0 & 0 & 0 & 0 \\",
        r"c|1* & conv2d & 6x6x2 & 18 & 2 & 20 & 648 & 0 \\",
        r"Output & output & 6x6x2 & 0 & 0 & 0 & 0 & 0 \\",
        r"\hline",
        r"Total &  &  & 18 & 2 & 20 & 648 & 0 \\",
        r"\hline",
        r"\end{tabular}",
    ]


def test_json_is_the_short_form_and_explain_is_for_the_table() -> None:
    long, short = (
        run_cli("summary", "architectures/mnist.yaml", *a).stdout for a in (["--format", "json"], ["--json"])
    )
    assert long == short and json.loads(long)["totals"]["params"] == 4_058
    done = run_cli("summary", "architectures/mnist.yaml", "--format", "csv", "--explain")
    assert done.returncode == 2 and done.stderr.endswith("error: --explain goes with the table format only\n")
    done = run_cli("summary", "architectures/mnist.yaml", "--format", "csv", "--json")
    assert done.returncode == 2 and "not allowed with argument" in done.stderr


def test_version_and_help_describe_every_argument() -> None:
    import argparse

    from cnnmacros import __version__
    from cnnmacros.cli import parser

    done = run_cli("--version")
    assert (done.returncode, done.stdout) == (0, f"cnnmacros {__version__}\n")
    assert __version__ == tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    top = parser()
    (commands,) = [a for a in top._actions if isinstance(a, argparse._SubParsersAction)]
    assert set(commands.choices) == {"summary", "check", "expand", "schema", "import-torch", "import-onnx"}
    for name, sub in [("cnnmacros", top), *commands.choices.items()]:
        for action in sub._actions:
            if not isinstance(action, argparse._SubParsersAction):
                assert action.help and action.help != argparse.SUPPRESS, f"{name} {action.dest} has no help"
        assert sub.description, name
    for choice in commands._choices_actions:
        assert choice.help, choice.dest
    helped = run_cli("summary", "--help").stdout
    assert "an architecture file (YAML)" in helped and "short for --format json" in helped


def test_check_outside_a_repository_says_there_is_no_architectures_folder(tmp_path: Path) -> None:
    done = run_cli("check", cwd=tmp_path)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "there is no architectures/ directory here: run cnnmacros check in the folder that has it, "
        "or name the files or folders to check\n"
    )


def test_a_file_of_numbers_is_summarized_without_importing_sympy() -> None:
    """SymPy takes about half a second to import: a summary of numbers uses the generated integer
    code only (a module that reads a formula at import time once made every command 4x slower)."""
    script = (
        "import sys, io, contextlib\n"
        "from cnnmacros.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['summary', 'architectures/resnet50.yaml', '--json'])\n"
        "print('sympy' in sys.modules)\n"
    )
    out = subprocess.run([PYTHON, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stderr
