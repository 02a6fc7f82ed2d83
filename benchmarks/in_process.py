"""In one process, after the imports: cnnmacros against ``torchinfo.summary``, as a notebook (or
the MkDocs plugin) sees them.

    python benchmarks/in_process.py REPEAT WORK_DIR     # prints one JSON object: every raw run

Every case times a few callables the way ``timeit`` does: each call is repeated ``number`` times
in a batch (``number`` chosen once, by doubling, so that a batch takes at least 0.1 s, or one call
when a call takes longer), and a batch gives one figure, its time divided by ``number``. The
callables of a case are interleaved, batch by batch (ours, theirs, ours, theirs, ...), so that both
sides see the same moments of a shared, noisy machine. The calibration batches are the warm-up and
are not kept. The cycle collector stays on, as in a notebook.

PyTorch runs ``torchinfo.summary`` twice in every round: with its default number of threads (one
per core) and with one thread, as cnnmacros runs. On a shared machine the default can be several
times slower for a small network (its threads wait for cores other work holds), so the report
compares cnnmacros with the faster of the two in each round.

Cases:

* AlexNet at its declared 227x227x3: ``summarize(path)`` (read, check, compute),
  ``compute(architecture)`` alone, ``table(summarize(path))`` (the text ``cnnmacros summary``
  prints), and ``torchinfo.summary(model, input_size=..., verbose=0)`` of the same network built
  by the oracle's translator (``tests/oracle.py``).
* Growth with input size: VGG-16's thirteen convolutions and five pools (its dense layers would
  take 2.1 billion weights at 1024 px) at 224, 512 and 1024 px, and a small 3D network (three
  convolutions with batch norm, ReLU and pooling) at 32, 64 and 128 voxels a side. These files are
  generated here; neither declares ``inputs:``, so each file is the same network at another size.
"""

from __future__ import annotations

import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torch  # noqa: E402
import torchinfo  # noqa: E402

from cnnmacros.architecture import read  # noqa: E402
from cnnmacros.engine import compute, summarize  # noqa: E402
from cnnmacros.text import table  # noqa: E402
from tests.oracle import model  # noqa: E402

TARGET = 0.1  # seconds a batch should take at least
VGG_SIZES = (224, 512, 1024)
CUBE_SIZES = (32, 64, 128)
THREADS = torch.get_num_threads()  # PyTorch's default


def vgg16_convs(size: int, work: Path) -> Path:
    """architectures/vgg16.yaml up to pool5 (no dense layers), at ``size`` x ``size`` x 3."""
    text = (ROOT / "architectures" / "vgg16.yaml").read_text(encoding="utf-8")
    head, _, _ = text.partition("  - {name: fc6,")
    assert "input: [224, 224, 3]\n" in head and "dense" not in head and "inputs:" not in head
    path = work / f"vgg16-convs-{size}.yaml"
    path.write_text(head.replace("input: [224, 224, 3]", f"input: [{size}, {size}, 3]"), encoding="utf-8")
    return path


def cube(size: int, work: Path) -> Path:
    """A small 3D network over a ``size``-voxel cube with 3 channels."""
    lines = [
        "name: 3D convolutions",
        f"input: [{size}, {size}, {size}, 3]",
        "layers:",
        "  - {name: conv1, type: conv3d, filters: 16, kernel: 3, padding: 1}",
        "  - {name: bn1, type: batchnorm}",
        "  - {name: relu1, type: relu}",
        "  - {name: pool1, type: maxpool3d, pool: 2}",
        "  - {name: conv2, type: conv3d, filters: 32, kernel: 3, padding: 1}",
        "  - {name: bn2, type: batchnorm}",
        "  - {name: relu2, type: relu}",
        "  - {name: pool2, type: maxpool3d, pool: 2}",
        "  - {name: conv3, type: conv3d, filters: 64, kernel: 3, padding: 1}",
        "  - {name: relu3, type: relu}",
    ]
    path = work / f"cube-{size}.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def batch(fn, number: int) -> float:
    started = time.perf_counter()
    for _ in range(number):
        fn()
    return time.perf_counter() - started


def calibrate(fn) -> int:
    number = 1
    while batch(fn, number) < TARGET:
        number *= 2
    return number


def case(network: str, path: Path, repeat: int, with_table: bool = False) -> dict:
    architecture = read(path)
    shape = tuple(int(v) for v in architecture.input)
    net = model(architecture)
    input_size = (1, shape[-1], *shape[:-1])
    stats = torchinfo.summary(net, input_size=input_size, verbose=0)
    ours = summarize(path)
    # the same network on both sides: same parameter count
    assert stats.total_params == ours.total_params, (network, stats.total_params, ours.total_params)

    def theirs() -> None:
        torchinfo.summary(net, input_size=input_size, verbose=0)

    callables = {  # name: (function, PyTorch threads while it runs)
        "cnnmacros_summarize": (lambda: summarize(path), THREADS),
        "cnnmacros_compute": (lambda: compute(architecture), THREADS),
        "torchinfo": (theirs, THREADS),
        "torchinfo_1_thread": (theirs, 1),
    }
    if with_table:
        callables = {"cnnmacros_table": (lambda: table(summarize(path)), THREADS), **callables}
    number = {}
    for name, (fn, threads) in callables.items():
        torch.set_num_threads(threads)
        number[name] = calibrate(fn)
    runs: dict[str, list[float]] = {name: [] for name in callables}
    for _ in range(repeat):
        for name, (fn, threads) in callables.items():
            torch.set_num_threads(threads)  # outside the timed batch
            runs[name].append(batch(fn, number[name]) / number[name])
    torch.set_num_threads(THREADS)
    return {
        "network": network,
        "file": str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else path.name,
        "input": list(shape),
        "pixels": math.prod(shape[:-1]),
        "params": ours.total_params,
        "torchinfo_mult_adds": int(stats.total_mult_adds),
        "number": number,
        "runs": runs,
    }


def main() -> None:
    repeat, work = int(sys.argv[1]), Path(sys.argv[2])
    out = {
        "threads": THREADS,
        "alexnet": case("AlexNet", ROOT / "architectures" / "alexnet.yaml", repeat, with_table=True),
        "growth": [case("VGG-16 convolutions", vgg16_convs(s, work), repeat) for s in VGG_SIZES]
        + [case("3D convolutions", cube(s, work), repeat) for s in CUBE_SIZES],
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
