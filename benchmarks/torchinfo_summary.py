"""What a torchinfo user runs: build the network in PyTorch and print ``torchinfo.summary``.

The network is translated from the same architecture file by the oracle's generic translator, so
both sides of the comparison describe the same layers.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import torchinfo  # noqa: E402

from cnnmacros.architecture import read  # noqa: E402
from tests.oracle import model  # noqa: E402

architecture = read(sys.argv[1])
shape = tuple(int(v) for v in architecture.input)
torchinfo.summary(model(architecture), input_size=(1, shape[-1], *shape[:-1]), device="cpu")
