"""One real training step on a GPU, its peak memory beside cnnmacros' ``train_bytes``.

    .venv/bin/python benchmarks/training_memory.py [FILE ...] [--batch 32] [--optimizer adam]

Builds each file's standard PyTorch model (``tests/oracle.py``), runs one forward pass, one backward
pass and one optimizer step at the batch size on ``cuda``, and prints
``torch.cuda.max_memory_allocated`` beside ``train_bytes``, and their ratio. The peak is larger: it
also holds the activations' gradients while the backward pass runs, the convolutions' workspace and
the allocator's rounding to blocks, which ``train_bytes`` leaves out. Without a CUDA device it says
so and exits 0. A benchmark, not a test: nothing here asserts a ratio.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT = ["resnet18", "resnet50", "vgg16", "mobilenet-v2", "densenet121", "unet"]


def measure(path: Path, batch: int, optimizer_name: str) -> tuple[int, int]:
    """(measured peak, train_bytes) for one file, in bytes."""
    import torch

    from cnnmacros.architecture import read
    from cnnmacros.engine import compute
    from cnnmacros.rows import Training
    from tests.memory_oracle import OPTIMIZERS
    from tests.oracle import Standard

    architecture = read(path)
    predicted = compute(architecture, training=Training(batch, "cuda", optimizer_name)).totals["train_bytes"]
    model = Standard(architecture).cuda().train()
    optimizer = OPTIMIZERS[optimizer_name](list(model.parameters()))
    shape = [int(v) for v in architecture.input]
    dims = [shape[-1], *shape[:-1]] if len(shape) > 1 else shape
    x = torch.randn(batch, *dims, device="cuda")
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    result = model(x)
    outputs = result if isinstance(result, tuple) else (result,)
    sum(o.float().sum() for o in outputs).backward()
    optimizer.step()
    torch.cuda.synchronize()
    return torch.cuda.max_memory_allocated(), predicted


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", help="architecture files (default: six of architectures/)")
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--optimizer", default="adam", choices=["sgd", "momentum", "adam", "adamw"])
    args = parser.parse_args(argv)
    try:
        import torch
    except ImportError:
        print("PyTorch is not installed (pip install -e '.[oracle]'): nothing to measure")
        return 0
    if not torch.cuda.is_available():
        print("no CUDA device: torch.cuda.max_memory_allocated needs one, so nothing was measured")
        return 0
    files = [Path(f) for f in args.files] or [ROOT / "architectures" / f"{name}.yaml" for name in DEFAULT]
    print(f"{torch.cuda.get_device_name()}, torch {torch.__version__}, batch {args.batch}, {args.optimizer}")
    print(f"{'file':<20} {'peak (bytes)':>16} {'train_bytes':>16} {'peak / train_bytes':>19}")
    for path in files:
        peak, predicted = measure(path, args.batch, args.optimizer)
        print(f"{path.stem:<20} {peak:>16,} {predicted:>16,} {peak / predicted:>19.3f}")
        torch.cuda.empty_cache()
    return 0


if __name__ == "__main__":
    sys.exit(main())
