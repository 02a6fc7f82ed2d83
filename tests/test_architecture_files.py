"""The generated architecture files: committed as the generator writes them, the torchvision networks
equal to torchvision's own models (parameters, every module's output shape, MACs).

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
    assert set(TORCHVISION) == {n[:-5] for n in generated}
    for name, text in generated.items():
        committed = (ARCHITECTURES / name).read_bytes()
        assert committed == text.encode("utf-8"), f"architectures/{name}: run python scripts/generate_architectures.py"


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
