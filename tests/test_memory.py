"""Training memory without PyTorch: the formulas by hand, the command's options and messages,
``--fits`` against a brute-force search over the batch size, and the layout rules on PyTorch's own
examples. ``tests/test_memory_oracle.py`` checks every figure against PyTorch's autograd."""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
from dataclasses import dataclass

import pytest
import sympy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnmacros import layout as lay
from cnnmacros.architecture import validate
from cnnmacros.cli import main
from cnnmacros.engine import compute
from cnnmacros.errors import ArchitectureError
from cnnmacros.formulas import formula
from cnnmacros.memory import largest_batch, memory_size
from cnnmacros.rows import Training
from cnnmacros.yamlnodes import load

from .conftest import ROOT
from .test_oracle import network

B = sympy.Symbol("B", integer=True, positive=True)


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def run_cli(*argv: str) -> Done:
    """``cnnmacros ARGS`` in this process, from the project's directory (a process costs seconds)."""
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                status = main(list(argv))
            except SystemExit as exc:  # argparse's usage errors
                status = int(exc.code or 0)
    finally:
        gc.enable()  # main() pauses the cycle collector for its short run
        os.chdir(cwd)
    return Done(status, out.getvalue(), err.getvalue())


def value(name: str, **values: int) -> sympy.Expr:
    f = formula(name)
    return f.rhs.subs({s: values[s.name] for s in f.args})


def test_memory_formulas_by_hand() -> None:
    # ResNet-18's first convolution: 112 x 112 x 64 float32 values for each of 32 examples.
    assert value("saved_tensor_bytes", B=32, E=112 * 112 * 64, Z_e=4) == 102_760_448
    # Its max pool: an int64 index per output value, 56 x 56 x 64 of them per example.
    assert value("saved_index_bytes", B=32, A=56 * 56 * 64) == 8 * 32 * 200_704
    assert value("saved_mask_bytes", B=4, A=1000) == 4000  # one byte (a bool) each on a GPU
    assert value("batchnorm_saved_bytes", C=64, Z_e=4) == 512  # mean and inverse deviation: 2 x 64 x 4
    # Layer norm over 7 x 7 positions of 96 channels: 2 statistics per position and example.
    assert value("layernorm_saved_bytes", B=2, A=7 * 7 * 96, C=96, Z_e=2) == 2 * 2 * 49 * 2
    assert value("groupnorm_saved_bytes", B=3, G=32, Z_e=4) == 2 * 3 * 32 * 4
    # Instance norm, affine and tracked: 2 statistics + the weight and 2 running statistics repeated.
    assert value("instancenorm_saved_bytes", N_r=3, B=2, C=8, Z_e=4) == 5 * 2 * 8 * 4
    # LRN of size 5 over 13 x 13 x 96: padded squares (96 + 4 per position), the sum and its power.
    assert value("lrn_saved_bytes", B=1, A=13 * 13 * 96, C=96, K=5, Z_e=4) == 4 * (13 * 13 * 100 + 2 * 13 * 13 * 96)
    # 'same' with a kernel of 2: one zero added (odd total 1); of 3 with dilation 2: none (total 4).
    assert value("same_padded_size", I=10, K=2, D=1) == 11 and value("same_padded_size", I=10, K=3, D=2) == 10
    assert value("padded_size", I=7, P_t=2) == 9
    assert value("optimizer_bytes", N_o=2, N_p=11_689_512, Z_e=4) == 93_516_096  # Adam on ResNet-18
    assert value("buffer_bytes", N_s=9600, Z_e=4, N_c=20) == 9600 * 4 + 160
    # 24 GiB over ResNet-18's 22,179,840 bytes per example, after 187,109,152 fixed ones.
    assert value("largest_batch", Z_M=24 * 2**30, Z_0=187_109_152, Z_1=22_179_840) == 1153


def test_mnist_in_the_batch_size_by_hand() -> None:
    # Conv-1 (24x24x4), Conv-2 (10x10x8) and Conv-3 (3x3x16): outputs kept by the layer after them;
    # the pools (12x12x4, 5x5x8): output kept by the next convolution, and an int64 index per value;
    # the flatten is a view of Conv-3's output; FC's 16 outputs are kept by the output layer.
    saved = 4 * (24 * 24 * 4 + 10 * 10 * 8 + 3 * 3 * 16 + 16) + 12 * (12 * 12 * 4 + 5 * 5 * 8)
    params = 4_058 * 4
    done = run_cli("summary", "architectures/mnist.yaml", "--batch", "B", "--optimizer", "momentum", "--json")
    assert done.returncode == 0, done.stderr
    data = json.loads(done.stdout)
    assert (data["batch"], data["device"], data["optimizer"]) == ("B", "cuda", "momentum")
    totals = {k: sympy.sympify(v) for k, v in data["totals"].items()}
    b = sympy.Symbol("B")
    assert totals["input_bytes"] == 28 * 28 * 4 * b
    assert totals["saved_bytes"] == saved * b
    assert (totals["grad_bytes"], totals["optimizer_bytes"], totals["buffer_bytes"]) == (params, params, 0)
    assert sympy.expand(totals["train_bytes"] - ((28 * 28 * 4 + saved) * b + 3 * params)) == 0
    assert [sympy.sympify(layer["saved_bytes"]) for layer in data["layers"]][:2] == [4 * 2304 * b, 12 * 576 * b]


def test_the_terminal_prints_the_totals_in_torchinfo_units() -> None:
    done = run_cli("summary", "architectures/resnet18.yaml", "--batch", "32")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert "Input size (float32, batch 32): 19,267,584 bytes (torchinfo: 19.27 MB; Keras: 18.38 MB)" in lines
    # 32 x 224 x 224 x 3 x 4 bytes; and the training step: input + saved + 4 x the parameters' bytes + buffers.
    step = [line for line in lines if line.startswith("Training step (adam, batch 32, cuda): ")]
    saved = int(next(line for line in lines if line.startswith("Saved for")).split(": ")[1].split()[0].replace(",", ""))
    assert step == [
        f"Training step (adam, batch 32, cuda): {19_267_584 + saved + 4 * 46_758_048 + 38_560:,} bytes"
        + f" (torchinfo: {(19_267_584 + saved + 4 * 46_758_048 + 38_560) / 1e6:.2f} MB; Keras: 855.32 MB)"
    ]
    assert "Saved" in lines[2].split()  # the per-layer column


def test_dropout_keeps_a_byte_per_element_on_a_gpu_and_a_value_on_the_cpu(tmp_path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "name: d\ninput: [10]\nlayers:\n  - {name: fc, type: dense, units: 8}\n  - {name: drop, type: dropout}\n"
        "  - {name: out, type: dense, units: 2}\n",
        encoding="utf-8",
    )
    for device, mask in (("cuda", 8 * 5), ("cpu", 8 * 5 * 2)):
        data = json.loads(
            run_cli("summary", str(path), "--batch", "5", "--device", device, "--dtype", "float16", "--json").stdout
        )
        drop = data["layers"][1]
        # the mask; fc's output is dropout's input, kept by nobody (the mask is all the backward needs);
        # dropout's output is kept by the last FC, 8 half-precision values per example
        assert (data["layers"][0]["saved_bytes"], drop["saved_bytes"]) == (0, mask + 8 * 5 * 2), device


def test_fits_reports_the_largest_batch_and_when_none_fits() -> None:
    done = run_cli("summary", "architectures/resnet18.yaml", "--fits", "24GiB")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == (
        "Largest batch that fits in 25,769,803,776 bytes: 1,153 (a training step takes 22,179,840 bytes per "
        "example + 187,109,152)"
    )
    done = run_cli("summary", "architectures/resnet18.yaml", "--fits", "100MB")
    assert done.stdout.splitlines()[-1] == (
        "Batch 1 does not fit in 100,000,000 bytes: a training step takes 22,179,840 bytes per example + "
        "187,109,152 = 209,288,992 bytes at batch 1"
    )
    data = json.loads(run_cli("summary", "architectures/resnet18.yaml", "--fits", "24 GiB", "--json").stdout)
    assert data["fits"] == {"memory": 24 * 2**30, "largest_batch": 1153}


def test_bad_options_are_clear_errors() -> None:
    for args, message in (
        (("--batch", "0"), "argument --batch: expected a positive integer or a name such as B, got '0'"),
        (("--batch", "2x"), "argument --batch: expected a positive integer or a name such as B, got '2x'"),
        (("--fits", "24 GB!"), "argument --fits: expected a size such as 24GiB, in B, KB, MB, GB, KiB, MiB, GiB"),
        (("--fits", "0.1KiB"), "argument --fits: expected a whole number of bytes, got '0.1KiB' (102.4 bytes)"),
    ):
        done = run_cli("summary", "architectures/mnist.yaml", *args)
        assert done.returncode == 2 and message in done.stderr and "Traceback" not in done.stderr, done.stderr
    done = run_cli("summary", "architectures/batchnorm-2d.yaml", "--batch", "H")
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "architectures/batchnorm-2d.yaml: --batch H: the file names an input size H; choose another name\n"
    )
    done = run_cli("summary", "architectures/batchnorm-2d.yaml", "--fits", "16GiB")
    assert (done.returncode, done.stdout) == (1, "")
    assert (
        done.stderr
        == "architectures/batchnorm-2d.yaml: --fits: the input size is symbolic (H, W); --fits needs numbers\n"
    )


def test_memory_sizes() -> None:
    assert [memory_size(t) for t in ("24GiB", "16 GiB", "1.5KiB", "3MB", "7b", "2gb")] == [
        24 * 2**30,
        16 * 2**30,
        1536,
        3_000_000,
        7,
        2 * 10**9,
    ]
    for text in ("", "GiB", "1.5", "-1GiB", "0GB", "1 TiB"):
        with pytest.raises(ValueError):
            memory_size(text)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(network(rank=2), st.integers(1, 12), st.integers(0, 3), st.sampled_from(["sgd", "adam"]))
def test_fits_is_a_brute_force_search_over_the_batch_size(net: dict, batch: int, slack: int, optimizer: str) -> None:
    """The largest batch from the expression in B is the one a search over numeric batches finds."""
    try:
        architecture = validate("random.yaml", load("random.yaml", json.dumps(net).encode()))
        in_b = compute(architecture, training=Training(B, optimizer=optimizer))
    except ArchitectureError:
        return

    def train(n: int) -> int:
        return compute(architecture, training=Training(n, optimizer=optimizer)).totals["train_bytes"]

    memory = train(batch) + slack * (train(batch + 1) - train(batch)) // 4  # between batch and batch + 1
    found = 0
    while train(found + 1) <= memory:
        found += 1
    assert largest_batch(in_b.totals["train_bytes"], B, memory).batch == found == batch
    assert largest_batch(in_b.totals["train_bytes"], B, train(1) - 1).batch == 0


def test_layout_rules_on_pytorchs_own_examples() -> None:
    # c10's comments: an N1H1 tensor [H, 1, 1, 1] is channels last, [H, H, 1, 1] contiguous; N111
    # with identical strides falls back to contiguous.
    h = 5
    assert lay.suggest_memory_format(lay.Layout((2, 1, h, 1), (h, 1, 1, 1))) == lay.CHANNELS_LAST
    assert lay.suggest_memory_format(lay.Layout((2, 1, h, 1), (h, h, 1, 1))) == lay.CONTIGUOUS
    assert lay.suggest_memory_format(lay.Layout((2, 1, 1, 1), (1, 1, 1, 1))) == lay.CONTIGUOUS
    # x.movedim(1, -1) of a contiguous NCHW tensor cannot be flattened to (N*H*W, C) without a copy;
    # of a channels-last one it can.
    x = lay.contiguous((2, 3, 4, 5))
    assert lay.reshape(lay.movedim(x, 1, -1), (40, 3))[1] is True
    assert lay.reshape(lay.movedim(lay.channels_last((2, 3, 4, 5)), 1, -1), (40, 3)) == (lay.contiguous((40, 3)), False)
    # A crop of the width is a view with gaps: flatten copies it, unless one row is left per channel.
    assert lay.flatten(lay.resized(x, (2, 3, 4, 3)))[1] is True
    assert lay.flatten(lay.resized(lay.contiguous((2, 1, 1, 5)), (2, 1, 1, 3)))[1] is False
    # TensorIterator keeps a channels-last input's order, and makes a contiguous output otherwise.
    assert lay.elementwise([lay.channels_last((2, 3, 4, 5))]) == lay.channels_last((2, 3, 4, 5))
    assert lay.elementwise([lay.resized(x, (2, 3, 4, 3))]) == lay.contiguous((2, 3, 4, 3))
