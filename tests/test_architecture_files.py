"""The long architecture files: the generated ones committed as the generator writes them, the
torchvision networks equal to torchvision's own models (parameters, every module's output shape,
MACs), and the networks from papers equal to totals derived by hand here.

The torchvision networks and U-Net are written with blocks; their flat twins in tests/flat/ are
what the generator writes, and tests/test_flat_twins.py checks each block file against its twin.
tests/test_oracle.py checks every file layer by layer against PyTorch besides; this file checks
that each file is the published network, not only a network PyTorch agrees with.
"""

from __future__ import annotations

import importlib.util
import re
import sys
import types
import warnings

import pytest

from cnnmacros.architecture import read
from cnnmacros.engine import compute

from .conftest import ARCHITECTURES, ROOT, require
from .published import TOTAL_PARAMS

GENERATOR = ROOT / "scripts" / "generate_architectures.py"

# file stem -> (torchvision.models.get_model name, weights enum)
TORCHVISION = {
    "resnet18": ("resnet18", "ResNet18_Weights"),
    "resnet50": ("resnet50", "ResNet50_Weights"),
    "squeezenet1-1": ("squeezenet1_1", "SqueezeNet1_1_Weights"),
    "mobilenet-v2": ("mobilenet_v2", "MobileNet_V2_Weights"),
    "densenet121": ("densenet121", "DenseNet121_Weights"),
    "mobilenet-v3-small": ("mobilenet_v3_small", "MobileNet_V3_Small_Weights"),
    "efficientnet-b0": ("efficientnet_b0", "EfficientNet_B0_Weights"),
}
CALL = re.compile(r"^(?P<path>.+)\((?P<call>\d+)\)$")
"""A module torchvision calls more than once is named by its path and the call: ``layer1.0.relu(2)``."""


def _generator() -> types.ModuleType:
    spec = importlib.util.spec_from_file_location("generate_architectures", GENERATOR)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_generated_files_are_the_committed_files_byte_for_byte() -> None:
    generated = _generator().generate()
    twins = ("resnet50", "mobilenet-v2", "densenet121", "mobilenet-v3-small", "efficientnet-b0", "unet")
    files = ("squeezenet1-1", "dcgan-generator", "wavenet", "unet3d")
    assert set(generated) == {f"tests/flat/{s}.yaml" for s in twins} | {f"architectures/{s}.yaml" for s in files}
    for name, text in generated.items():
        committed = (ROOT / name).read_bytes()
        assert committed == text.encode("utf-8"), f"{name}: run python scripts/generate_architectures.py"


# torchvision ---------------------------------------------------------------------------------


TORCHVISION_DIR = ROOT / ".venv" / "torchvision-0.28.0"
"""Where scripts/test installs torchvision (pip install --no-deps --target): not in site-packages,
where its CUDA-linked wheel would break `import ptflops` for the conventions tests."""


def _torchvision() -> types.ModuleType | None:
    """torchvision 0.28's models, or None. PyPI's wheel is linked against CUDA, and only its
    ``_meta_registrations`` (meta kernels for torch.compile) need those libraries: a stub in their
    place lets the pure-Python models and the weights' metadata import on a CPU-only torch."""
    try:
        import torch  # noqa: F401
    except ImportError:
        return None
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    if TORCHVISION_DIR.is_dir() and str(TORCHVISION_DIR) not in sys.path:
        sys.path.append(str(TORCHVISION_DIR))
    try:
        import torchvision.models
    except ImportError:
        return None
    return torchvision.models


@pytest.fixture
def models() -> types.ModuleType:
    found = _torchvision()
    require(
        found is not None,
        f"torchvision is not installed (bash scripts/test installs it: pip install --no-deps --target "
        f"{TORCHVISION_DIR.relative_to(ROOT)} torchvision==0.28.0)",
    )
    import torch

    torch.set_num_threads(1)
    warnings.filterwarnings("ignore", category=UserWarning)
    return found


def _model(models: types.ModuleType, stem: str):  # noqa: ANN202 - a torchvision model
    return models.get_model(TORCHVISION[stem][0]).eval()  # random weights: nothing is downloaded


def _input(architecture):  # noqa: ANN001, ANN202
    import torch

    *spatial, channels = architecture.input
    return torch.zeros(1, channels, *spatial)


@pytest.mark.oracle
@pytest.mark.parametrize("stem", sorted(TORCHVISION))
def test_parameter_total_is_torchvisions(models: types.ModuleType, stem: str) -> None:
    total = compute(read(ARCHITECTURES / f"{stem}.yaml")).totals["params"]
    published = getattr(models, TORCHVISION[stem][1]).IMAGENET1K_V1.meta["num_params"]
    built = sum(p.numel() for p in _model(models, stem).parameters())
    assert total == published == built == TOTAL_PARAMS[stem]


@pytest.mark.oracle
@pytest.mark.parametrize("stem", sorted(TORCHVISION))
def test_layers_are_torchvisions_modules(models: types.ModuleType, stem: str) -> None:
    """Each layer named by a module path has that module's output shape (every call, for a module
    called more than once) and parameter count; every module with parameters of its own is a layer."""
    import torch

    from .oracle import channels_last

    architecture = read(ARCHITECTURES / f"{stem}.yaml")
    model = _model(models, stem)
    modules = dict(model.named_modules())
    outputs: dict[str, list[tuple[int, ...]]] = {}
    for path, module in modules.items():
        module.register_forward_hook(lambda m, a, y, path=path: outputs.setdefault(path, []).append(y.shape))
    with torch.no_grad():
        model(_input(architecture))
    named = set()
    for row in compute(architecture).rows:
        match = CALL.match(row.name)
        path, call = (match["path"], int(match["call"])) if match else (row.name, 1)
        if path not in modules:
            assert row.params == 0, f"{stem} {row.name}: parameters in a layer that is no module of torchvision"
            continue
        calls = outputs[path]
        assert match or len(calls) == 1, f"{stem} {row.name}: torchvision calls it {len(calls)} times"
        assert tuple(row.output) == channels_last(calls[call - 1]), f"{stem} {row.name}"
        own = sum(p.numel() for p in modules[path].parameters())
        assert row.params == own, f"{stem} {row.name}: {row.params} parameters, torchvision {own}"
        named.add(path)
    with_parameters = {p for p, m in modules.items() if any(True for _ in m.parameters(recurse=False))}
    assert with_parameters <= named, f"{stem}: modules missing from the file: {sorted(with_parameters - named)}"


@pytest.mark.oracle
@pytest.mark.parametrize("stem", sorted(TORCHVISION))
def test_macs_are_flop_counter_mode_halved(models: types.ModuleType, stem: str) -> None:
    import torch
    from torch.utils.flop_counter import FlopCounterMode

    architecture = read(ARCHITECTURES / f"{stem}.yaml")
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        _model(models, stem)(_input(architecture))
    assert 2 * compute(architecture).totals["macs"] == counter.get_total_flops()


# networks from papers: totals derived by hand --------------------------------------------------


def conv_params(k: int, c_in: int, c_out: int, bias: bool = True, rank: int = 2) -> int:
    """k^rank * C_in * C_out weights, plus C_out biases."""
    return k**rank * c_in * c_out + (c_out if bias else 0)


def test_unet_is_the_papers() -> None:
    summary = compute(read(ARCHITECTURES / "unet.yaml"))
    assert tuple(summary.output) == (388, 388, 2)
    # Sizes: each level loses 4 to its two unpadded 3x3 convolutions: 572 -> 568, pool 284 -> 280,
    # 140 -> 136, 68 -> 64, 32 -> 28 at the bottom; up 56 -> 52, 104 -> 100, 200 -> 196, 392 -> 388.
    # The skips are cropped from 64, 136, 280, 568 to 56, 104, 200, 392: by 4, 16, 40 and 88 a side.
    assert [summary.row(f"up{i}.crop").output[0] for i in (4, 3, 2, 1)] == [56, 104, 200, 392]
    # 23 convolutional layers, as the paper counts: 18 3x3, 4 2x2 up-convolutions and the 1x1.
    widths = (64, 128, 256, 512, 1024)
    down = sum(conv_params(3, c_in, c) + conv_params(3, c, c) for c_in, c in zip((1, *widths[:-1]), widths))
    up = sum(conv_params(2, 2 * c, c) + conv_params(3, 2 * c, c) + conv_params(3, c, c) for c in widths[:-1])
    total = down + up + conv_params(1, 64, 2)
    assert total == 31_030_658 == summary.totals["params"] == TOTAL_PARAMS["unet"]
    convolutions = [r for r in summary.rows if r.type in ("conv2d", "convtranspose2d")]
    assert len(convolutions) == 23


def test_dcgan_generator_is_the_papers() -> None:
    summary = compute(read(ARCHITECTURES / "dcgan-generator.yaml"))
    assert tuple(summary.output) == (64, 64, 3)
    assert [summary.row(n).output for n in ("project.conv", "deconv1.conv", "deconv2.conv", "deconv3.conv")] == [
        (4, 4, 1024),
        (8, 8, 512),
        (16, 16, 256),
        (32, 32, 128),
    ]
    # 4x4 kernels without bias: 100x1024, 1024x512, 512x256, 256x128 and 128x3 channel pairs,
    # 16 weights each, plus gamma and beta for the 1024 + 512 + 256 + 128 batch-normed channels.
    pairs = [(100, 1024), (1024, 512), (512, 256), (256, 128), (128, 3)]
    weights = sum(16 * a * b for a, b in pairs)
    assert weights == 12_654_592
    assert (
        weights + 2 * (1024 + 512 + 256 + 128)
        == 12_658_432
        == summary.totals["params"]
        == TOTAL_PARAMS["dcgan-generator"]
    )
    # FlopCounterMode's rule for a transposed convolution: a MAC per weight and input position.
    positions = [1, 16, 64, 256, 1024]
    assert summary.totals["macs"] == sum(16 * a * b * q for (a, b), q in zip(pairs, positions))


def test_wavenet_is_causal_and_its_totals_add_up() -> None:
    summary = compute(read(ARCHITECTURES / "wavenet.yaml"))
    generator = _generator()
    length, classes, r, s = 16_000, 256, 32, 256
    layers = len(generator.WAVENET_DILATIONS)
    assert (generator.WAVENET_LENGTH, generator.WAVENET_CLASSES, generator.WAVENET_RESIDUAL) == (length, classes, r)
    assert generator.WAVENET_SKIP == s and layers == 20
    assert tuple(summary.output) == (length, classes)  # causal padding keeps every sample
    pads = {"causal.pad": 1} | {f"layer{i}.pad": d for i, d in enumerate(generator.WAVENET_DILATIONS, 1)}
    for row in summary.rows:  # a pad adds d samples before the sequence, and its convolutions remove them
        assert row.output[0] == length + pads.get(row.name, 0), row.name
    # Per layer: filter and gate 2*r*r + r each, a 1x1 residual r*r + r (not in the last layer)
    # and a 1x1 skip r*s + s; the causal convolution 2*classes*r + r; two 1x1 output convolutions.
    per_layer = 2 * (2 * r * r + r) + (r * s + s)
    total = (
        2 * classes * r + r + layers * per_layer + (layers - 1) * (r * r + r) + (s * s + s) + (s * classes + classes)
    )
    assert total == 420_224 == summary.totals["params"] == TOTAL_PARAMS["wavenet"]
    macs_per_sample = 2 * classes * r + layers * (2 * 2 * r * r + r * s) + (layers - 1) * r * r + s * s + s * classes
    assert summary.totals["macs"] == length * macs_per_sample
    # receptive field: 2 for the causal convolution, then d more for each layer of dilation d
    assert summary.row("layer20.gated").receptive_field.size == (2 + 2 * 1023,) == (2_048,)


def test_unet3d_totals_add_up() -> None:
    summary = compute(read(ARCHITECTURES / "unet3d.yaml"))
    assert tuple(summary.output) == (32, 32, 32, 3)  # padded convolutions keep the size
    assert summary.row("bottom.2.relu").output == (4, 4, 4, 128)

    def double(c_in: int, c_mid: int, c_out: int) -> int:  # two 3x3x3 convolutions, no bias, batch norm
        return conv_params(3, c_in, c_mid, False, 3) + 2 * c_mid + conv_params(3, c_mid, c_out, False, 3) + 2 * c_out

    analysis = double(3, 8, 16) + double(16, 16, 32) + double(32, 32, 64) + double(64, 64, 128)
    # up-convolutions keep the channels (2x2x2, with bias); the concat adds the skip's channels
    synthesis = (
        conv_params(2, 128, 128, rank=3)
        + double(128 + 64, 64, 64)
        + conv_params(2, 64, 64, rank=3)
        + double(64 + 32, 32, 32)
        + conv_params(2, 32, 32, rank=3)
        + double(32 + 16, 16, 16)
    )
    total = analysis + synthesis + conv_params(1, 16, 3, rank=3)
    assert total == 1_193_643 == summary.totals["params"] == TOTAL_PARAMS["unet3d"]
