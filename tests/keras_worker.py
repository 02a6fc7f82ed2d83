"""The Keras side of tests/test_keras_oracle.py: real Keras 3 on its torch backend, in a process of its own.

It reads one JSON request per line on stdin and answers one JSON line on stdout. It never imports
cnnmacros, and the test process never imports Keras: the backend is chosen before Keras is
imported, and Keras' set-up (its config file, its logging, torch's threads) stays in this process.

Requests (channels last, no batch axis in ``input``):
- ``{"op": "conv", "input": [..., C], "filters", "kernel", "strides", "dilation", "groups", "bias"}``:
  ConvND with ``padding="same"``. Answers the output shape, the kernel's and the bias' sizes, and
  the output of a probe: the same window on an input whose every position holds its own number
  (1 + its flat index), with one output channel per kernel tap, each a one-hot kernel that copies
  that tap. So ``probe[o..., t]`` is the number of the input position that tap ``t`` of output
  ``o`` reads, or 0 where it reads Keras' padding. The probe's input has a second channel, of
  zeros, that no kernel reads: Keras hands torch a channels-last tensor, and PyTorch 2.13.0's
  oneDNN convolution on the CPU computes wrong values for some single-channel channels-last
  inputs (e.g. 5x4 padded, kernel 4x4, stride (1, 3); see pytorch/pytorch#82060 for the family).
- ``{"op": "zeropad" | "crop", "input": [..., C], "padding": Keras' own form}``: ZeroPaddingND or
  CroppingND on an input whose every element holds its own number. Answers the output shape and
  values.
Anything Keras refuses is answered ``{"refused": "ExceptionType: message"}``.
"""

from __future__ import annotations

import json
import os
import sys

os.environ["KERAS_BACKEND"] = "torch"  # before Keras is imported, whatever the caller's environment says

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)


def _tuple(form: object) -> object:
    """JSON has no tuples; Keras reads a pair or one-per-axis form as a tuple."""
    return tuple(_tuple(v) for v in form) if isinstance(form, list) else form


def _numbered(shape: tuple[int, ...]) -> np.ndarray:
    """A batch of one whose elements are 1, 2, 3, ... in C order (exact in float32 at these sizes)."""
    return np.arange(1, int(np.prod(shape)) + 1, dtype="float32").reshape((1, *shape))


def _ints(y: object) -> np.ndarray:
    return np.rint(keras.ops.convert_to_numpy(y)[0]).astype(np.int64)


def conv(request: dict) -> dict:
    rank = len(request["kernel"])
    cls = {1: keras.layers.Conv1D, 2: keras.layers.Conv2D, 3: keras.layers.Conv3D}[rank]
    window = {
        "kernel_size": tuple(request["kernel"]),
        "strides": tuple(request["strides"]),
        "dilation_rate": tuple(request["dilation"]),
        "padding": "same",
    }
    layer = cls(request["filters"], groups=request["groups"], use_bias=request["bias"], **window)
    output = layer(np.zeros((1, *request["input"]), dtype="float32"))
    kernel = layer.kernel.shape
    biases = int(np.prod(layer.bias.shape)) if layer.use_bias else 0
    spatial = tuple(request["input"][:-1])
    taps = int(np.prod(request["kernel"]))
    probe = cls(taps, use_bias=False, **window)
    probe.build((1, *spatial, 2))
    one_hot = np.zeros((*request["kernel"], 2, taps), dtype="float32")
    for t in range(taps):
        one_hot[(*np.unravel_index(t, request["kernel"]), 0, t)] = 1.0
    probe.set_weights([one_hot])
    numbers = _numbered((*spatial, 1))
    read = _ints(probe(np.concatenate([numbers, np.zeros_like(numbers)], axis=-1)))
    return {
        "output": list(output.shape[1:]),
        "weights": int(np.prod(kernel)),
        "biases": biases,
        "params": layer.count_params(),
        "probe_shape": list(read.shape),
        "probe": read.ravel().tolist(),
    }


def pad_or_crop(request: dict) -> dict:
    rank = len(request["input"]) - 1
    if request["op"] == "zeropad":
        layer = {1: keras.layers.ZeroPadding1D, 2: keras.layers.ZeroPadding2D, 3: keras.layers.ZeroPadding3D}[rank]
        module = layer(padding=_tuple(request["padding"]))
    else:
        layer = {1: keras.layers.Cropping1D, 2: keras.layers.Cropping2D, 3: keras.layers.Cropping3D}[rank]
        module = layer(cropping=_tuple(request["padding"]))
    values = _ints(module(_numbered(tuple(request["input"]))))
    return {"output": list(values.shape), "values": values.ravel().tolist(), "params": module.count_params()}


def answer(request: dict) -> dict:
    try:
        return conv(request) if request["op"] == "conv" else pad_or_crop(request)
    except (ValueError, TypeError, RuntimeError) as exc:
        return {"refused": f"{type(exc).__name__}: {exc}"}


def main() -> None:
    assert keras.backend.backend() == "torch", keras.backend.backend()
    print(json.dumps({"keras": keras.__version__, "backend": keras.backend.backend()}), flush=True)
    for line in sys.stdin:
        print(json.dumps(answer(json.loads(line))), flush=True)


if __name__ == "__main__":
    main()
