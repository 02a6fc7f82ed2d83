"""The Keras semantics checked against real Keras 3 on its torch backend: `padding: same` with
strides, `zeropad1d/2d/3d` (ZeroPadding1D/2D/3D) and `crop1d/2d/3d` (Cropping1D/2D/3D).

Keras runs in a worker process of its own (tests/keras_worker.py). The padding is read from what
Keras computes, never from its formula: a probe convolution copies each kernel tap of each output
position from an input whose positions are numbered, so the numbers it outputs say which input
position every tap reads, and its zeros where it reads Keras' padding. Zero padding and crops get
numbered inputs too, and every value must land where cnnmacros' window puts it. Without Keras these
tests skip locally and fail in CI.
"""

from __future__ import annotations

import importlib.util
import itertools
import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnnmacros.architecture import validate
from cnnmacros.engine import compute
from cnnmacros.errors import ArchitectureError
from cnnmacros.figures import AXES
from cnnmacros.rows import Row
from cnnmacros.yamlnodes import load

from .conftest import require

pytestmark = pytest.mark.oracle
WORKER = Path(__file__).with_name("keras_worker.py")
EXAMPLES = int(os.environ.get("CNNMACROS_KERAS_EXAMPLES", "150"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))

REPORT: Counter[str] = Counter()
"""What was compared with Keras in this run; printed at the end of the test session."""


class Keras:
    """The worker process: one JSON request per line in, one JSON answer per line out."""

    def __init__(self, home: Path) -> None:
        env = dict(os.environ, KERAS_BACKEND="torch", KERAS_HOME=str(home))
        self.log = home / "stderr.txt"  # a file, not a pipe: warnings can never fill it and block Keras
        with self.log.open("w") as log:
            self.process = subprocess.Popen(
                [sys.executable, str(WORKER)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=env,
            )
        hello = self.process.stdout.readline()
        if not hello:
            raise RuntimeError(f"the Keras worker did not start: {self.log.read_text()}")
        self.version = json.loads(hello)

    def ask(self, **request: object) -> dict:
        self.process.stdin.write(json.dumps(request) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the Keras worker stopped: {self.log.read_text()}")
        return json.loads(line)

    def close(self) -> None:
        """Ends the worker without waiting for torch's slow exit: it has answered everything."""
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait(timeout=30)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def keras(tmp_path_factory: pytest.TempPathFactory):
    require(
        importlib.util.find_spec("keras") is not None and importlib.util.find_spec("torch") is not None,
        "Keras or PyTorch is not installed (pip install -e '.[oracle]')",
    )
    worker = Keras(tmp_path_factory.mktemp("keras-home"))
    assert worker.version["backend"] == "torch", worker.version
    yield worker
    worker.close()


def engine(network: dict) -> Row:
    """cnnmacros' row for the network's one layer, through the whole loading path (JSON is YAML)."""
    architecture = validate("keras.yaml", load("keras.yaml", json.dumps(network).encode()))
    return compute(architecture).rows[0]


def shown(row: Row, key: str, axis: str) -> object:
    """The worked step that shows ``key`` along ``axis`` (``output_size`` or ``output_size_HW``...)."""
    for step in row.steps:
        if step.key == key or (step.key.startswith(key + "_") and axis in step.key[len(key) + 1 :]):
            return step
    raise AssertionError(f"{row.name}: no step {key} along {axis} in {[s.key for s in row.steps]}")


def _unravel(index: int, shape: tuple[int, ...]) -> tuple[int, ...]:
    out = []
    for size in reversed(shape):
        index, rest = divmod(index, size)
        out.append(rest)
    return tuple(reversed(out))


def _product(values: tuple[int, ...]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


# padding: same -------------------------------------------------------------------------------


def observed_padding(
    label: str, answer: dict, size: tuple, kernel: tuple, stride: tuple, dilation: tuple, unread: tuple
) -> tuple[list, list]:
    """Keras' padding before and after along each axis, read from the probe's output.

    Tap ``t`` of output ``o`` reads input position ``o*S + t*D - before`` along each axis: every
    number the probe outputs gives ``before``, and all must agree. Then every zero must be a tap
    outside the input, and ``after`` is how far the last output's last tap reaches past the end.
    Where no tap reads the input at all (a dilated kernel at stride 1 straddling a one-position
    axis), Keras' output says only that every tap falls outside: ``unread`` is then checked
    against that, and taken."""
    shape = tuple(answer["probe_shape"])
    outputs, taps = shape[:-1], shape[-1]
    rank = len(size)
    befores: list[set[int]] = [set() for _ in range(rank)]
    reads = []
    for flat, number in enumerate(answer["probe"]):
        index = _unravel(flat, shape)
        o, t = index[:-1], _unravel(index[-1], kernel)
        reads.append((o, t, number))
        if number:
            position = _unravel(number - 1, size)
            for a in range(rank):
                befores[a].add(o[a] * stride[a] + t[a] * dilation[a] - position[a])
    assert taps == _product(kernel)
    assert all(len(b) <= 1 for b in befores), f"{label}: Keras reads no fixed offset per axis: {befores}"
    before = [min(b) if b else guess for b, guess in zip(befores, unread, strict=True)]
    if not all(befores):
        REPORT["convolutions whose probe reads no input (padding seen only as all zeros)"] += 1
    for o, t, number in reads:
        where = [o[a] * stride[a] + t[a] * dilation[a] - before[a] for a in range(rank)]
        inside = all(0 <= w < n for w, n in zip(where, size, strict=True))
        assert inside == (number != 0), f"{label}: output {o} tap {t} reads {number}, yet it is at {where} of {size}"
    after = [
        max(0, (outputs[a] - 1) * stride[a] + (kernel[a] - 1) * dilation[a] - before[a] - (size[a] - 1))
        for a in range(rank)
    ]
    return before, after


def conv_case(keras: Keras, rank: int, size: tuple, channels: int, layer: dict) -> str | None:
    """One `padding: same` convolution in cnnmacros and in Keras; the first difference, or None."""
    kernel, stride, dilation = (tuple(layer[k]) for k in ("kernel", "stride", "dilation"))
    network = {"name": "keras", "input": [*size, channels], "layers": [{"name": "c", "padding": "same", **layer}]}
    label = json.dumps(network)
    answer = keras.ask(
        op="conv",
        input=[*size, channels],
        filters=layer["filters"],
        kernel=kernel,
        strides=stride,
        dilation=dilation,
        groups=layer["groups"],
        bias=layer["bias"],
    )
    row = engine(network)  # every case here is one cnnmacros accepts
    REPORT["convolutions with padding: same"] += 1
    if "refused" in answer:
        if max(stride) > 1 and max(dilation) > 1:
            # Keras' documented refusal ("strides > 1 is incompatible with dilation_rate > 1");
            # cnnmacros follows TensorFlow's formula there, as the layer-types issue asks
            assert "dilation_rate" in answer["refused"], answer["refused"]
            REPORT["refused by Keras only (a stride and a dilation above 1)"] += 1
            return None
        return f"{label}: Keras refused it ({answer['refused']}), cnnmacros gives {row.output}"
    if tuple(row.output) != tuple(answer["output"]):
        return f"{label} output shape: cnnmacros {row.output}, Keras {answer['output']}"
    for figure in ("weights", "biases", "params"):
        if row.figures[figure] != answer[figure]:
            return f"{label} {figure}: cnnmacros {row.figures[figure]}, Keras {answer[figure]}"
    window = row.facts["window"]
    before, after = observed_padding(label, answer, size, kernel, stride, dilation, window.padding_before)
    if tuple(window.padding_before) != tuple(before):
        return f"{label} padding before: cnnmacros {window.padding_before}, Keras {before}"
    if tuple(row.receptive_field.offset) != tuple(-b for b in before):
        return f"{label} receptive-field offset: cnnmacros {row.receptive_field.offset}, Keras' padding {before}"
    if max(stride) > 1:  # the padding cnnmacros shows: the total, then the smaller half before
        for axis, b, a in zip(AXES[rank], before, after, strict=True):
            total = shown(row, f"padding_total_{axis}", axis).result
            half = shown(row, f"padding_before_{axis}", axis).result
            if (half, total - half) != (b, a):
                return f"{label} along {axis}: cnnmacros shows {half} before, {total - half} after; Keras {b}, {a}"
            parity = "no padding" if total == 0 else "an odd total padding" if total % 2 else "an even total padding"
            REPORT[f"axes of strided convolutions with {parity}"] += 1
    REPORT["convolutions with padding: same agreeing with Keras"] += 1
    return None


def test_strided_same_1d_grid(keras: Keras) -> None:
    """Every kernel 1-5, stride 1-4 and input 1-10 (dilation 1-3 at stride 1, where Keras allows it):
    odd totals, even ones, zero ones, and kernels larger than the input."""
    problems = []
    for k, s, d, n in itertools.product(range(1, 6), range(1, 5), range(1, 4), range(1, 11)):
        if d > 1 and s > 1:
            continue
        layer = {"type": "conv1d", "filters": 3, "kernel": [k], "stride": [s], "dilation": [d], "groups": 1}
        problems.append(conv_case(keras, 1, (n,), 2, {**layer, "bias": bool(k % 2)}))
    problems = [p for p in problems if p]
    assert not problems, f"{len(problems)} differences from Keras:\n" + "\n".join(problems)


@st.composite
def conv_layer(draw: st.DrawFn, rank: int) -> tuple:
    high = {2: 9, 3: 6}[rank]
    size = tuple(draw(st.integers(1, high)) for _ in range(rank))
    groups = draw(st.sampled_from([1, 1, 2, 3]))
    channels = groups * draw(st.integers(1, 2))
    stride = [draw(st.integers(1, 3)) for _ in range(rank)]
    dilated = draw(st.integers(0, 3)) == 0  # at stride 1 Keras computes it; with a stride it refuses
    layer = {
        "type": f"conv{rank}d",
        "filters": groups * draw(st.integers(1, 2)),
        "kernel": [draw(st.integers(1, 4)) for _ in range(rank)],
        "stride": stride,
        "dilation": [draw(st.integers(1, 2)) if dilated else 1 for _ in range(rank)],
        "groups": groups,
        "bias": draw(st.booleans()),
    }
    return size, channels, layer


@SETTINGS
@given(conv_layer(2))
def test_strided_same_2d(keras: Keras, case: tuple) -> None:
    problem = conv_case(keras, 2, *case)
    assert problem is None, problem


@SETTINGS
@given(conv_layer(3))
def test_strided_same_3d(keras: Keras, case: tuple) -> None:
    problem = conv_case(keras, 3, *case)
    assert problem is None, problem


# zeropad and crop ----------------------------------------------------------------------------


def keras_form(form: object, rank: int) -> object:
    """The file's form as Keras writes it. In 2D and 3D they are the same literal (an int, one per
    axis, or [before, after] per axis, mixed too); in 1D Keras' pair is the flat (left, right)."""
    if rank == 1 and isinstance(form, list):
        return form[0]  # [n] -> n, [[before, after]] -> (before, after)
    return form


@st.composite
def ends(draw: st.DrawFn, rank: int, high: int) -> object:
    """One of the file's forms: one integer, one per axis, [before, after] per axis, or a mix."""
    value = st.integers(0, high)
    form = draw(st.sampled_from(["one", "per axis", "pairs", "mixed"]))
    if form == "one":
        return draw(value)
    if form == "per axis":
        return [draw(value) for _ in range(rank)]
    if form == "pairs" or rank == 1:
        return [[draw(value), draw(value)] for _ in range(rank)]
    return [draw(st.one_of(value, st.lists(value, min_size=2, max_size=2))) for _ in range(rank)]


@st.composite
def pad_case(draw: st.DrawFn) -> tuple:
    kind, rank = draw(st.sampled_from(["zeropad", "crop"])), draw(st.integers(1, 3))
    high = {1: 10, 2: 8, 3: 6}[rank] + (3 if kind == "crop" else 0)  # crops of 1 to 4 positions mostly leave some
    size = [draw(st.integers(1, high)) for _ in range(rank)]
    return kind, [*size, draw(st.integers(1, 3))], draw(ends(rank, 3 if kind == "zeropad" else 2))


@settings(max_examples=2 * EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(pad_case())
def test_zeropad_and_crop(keras: Keras, case: tuple) -> None:
    kind, shape, form = case
    rank = len(shape) - 1
    key = "padding" if kind == "zeropad" else "crop"
    network = {"name": "keras", "input": shape, "layers": [{"name": "p", "type": f"{kind}{rank}d", key: form}]}
    label = json.dumps(network)
    answer = keras.ask(op=kind, input=shape, padding=keras_form(form, rank))
    REPORT[f"{kind} layers"] += 1
    try:
        row = engine(network)
    except ArchitectureError as exc:
        assert "refused" in answer, f"{label}: cnnmacros refused it ({exc}), Keras gives {answer['output']}"
        assert kind == "crop" and "`cropping`" in answer["refused"], answer  # Keras: the crop is too large
        assert all(p.path.startswith("layers[0]") and p.message.startswith("expected") for p in exc.problems), exc
        REPORT["crops refused by both (nothing left)"] += 1
        return
    assert "refused" not in answer, f"{label}: Keras refused it ({answer['refused']}), cnnmacros gives {row.output}"
    assert tuple(row.output) == tuple(answer["output"]), f"{label} output: cnnmacros {row.output}, Keras {answer}"
    assert answer["params"] == 0 and row.params == 0
    # Keras' ends, read from its values: where the input's first element went (zero padding),
    # or which element is now first (a crop); the output's size gives the other end.
    values, size, out = answer["values"], shape[:-1], answer["output"][:-1]
    if kind == "zeropad":
        first = _unravel(values.index(1), tuple(answer["output"]))[:-1]
        keras_ends = [(f, o - i - f) for f, i, o in zip(first, size, out, strict=True)]
    else:
        first = _unravel(values[0] - 1, tuple(shape))[:-1]
        keras_ends = [(f, i - o - f) for f, i, o in zip(first, size, out, strict=True)]
    names = ("P_b", "P_a") if kind == "zeropad" else ("V_b", "V_a")
    for axis, (b, a) in zip(AXES[rank], keras_ends, strict=True):
        step = shown(row, "output_size", axis)
        assert (step.values[names[0]], step.values[names[1]]) == (b, a), f"{label} along {axis}: {step}, Keras {b}, {a}"
    # Every value where cnnmacros' window puts it: output position j holds input position
    # j - shift (shift = zeros before, or minus the positions cropped before), zeros elsewhere.
    shift = row.facts["window"].padding_before
    for flat, number in enumerate(values):
        *j, c = _unravel(flat, tuple(answer["output"]))
        source = [p - s for p, s in zip(j, shift, strict=True)]
        inside = all(0 <= p < n for p, n in zip(source, size, strict=True))
        expected = 1 + _ravel((*source, c), tuple(shape)) if inside else 0
        assert number == expected, f"{label} output {(*j, c)}: Keras {number}, cnnmacros' window gives {expected}"
    REPORT[f"{kind} layers agreeing with Keras, value by value"] += 1


def _ravel(index: tuple[int, ...], shape: tuple[int, ...]) -> int:
    flat = 0
    for i, n in zip(index, shape, strict=True):
        flat = flat * n + i
    return flat
