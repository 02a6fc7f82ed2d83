"""``cnnmacros import-torch``: the file it writes, computed by cnnmacros, is the PyTorch model exactly.

Every check here is against PyTorch itself, outside the code under test: forward hooks give each
module's output shape (every call), the module's own parameters and running statistics are
counted from its tensors, ``model.parameters()`` gives the total, torchvision's weights give the
published total, and FlopCounterMode gives the multiply-accumulates (halved).
"""

from __future__ import annotations

import re
import subprocess
import sys
import types
from pathlib import Path

import pytest

from cnnmacros.architecture import read
from cnnmacros.engine import compute
from cnnmacros.layers import REGISTRY

from .conftest import ARCHITECTURES, ROOT, require, require_torch, run_cli

pytestmark = pytest.mark.oracle
CALL = re.compile(r"^(?P<path>.+)\((?P<call>\d+)\)$")


@pytest.fixture(scope="module")
def torch() -> types.ModuleType:
    return require_torch()


def _import(torch, model, shape: tuple[int, ...], tmp_path: Path, name: str = "model"):  # noqa: ANN001, ANN202
    """The file import-torch writes for ``model``, read and computed as ``cnnmacros check`` does."""
    from cnnmacros.torch_import import import_torch

    text = import_torch(f"tests:{name}", shape, model=model)
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    return text, compute(read(path))


def _statistics(module) -> int:  # noqa: ANN001
    return sum(b.numel() for n, b in module.named_buffers() if n.rsplit(".", 1)[-1] in ("running_mean", "running_var"))


def assert_is_pytorchs(torch, model, shape: tuple[int, ...], summary) -> None:  # noqa: ANN001
    """Each layer named by a module path has that module's output shape (each call) and its own
    parameters and statistics; the totals and the network's output are PyTorch's."""
    from torch.utils.flop_counter import FlopCounterMode

    from .oracle import channels_last

    model.eval()
    modules = dict(model.named_modules())
    parameters = dict(model.named_parameters())
    outputs: dict[str, list] = {}
    for path, module in modules.items():
        module.register_forward_hook(lambda m, a, y, path=path: outputs.setdefault(path, []).append(tuple(y.shape)))
    *spatial, channels = shape
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        result = model(torch.zeros(1, channels, *spatial, device=device))
    named = set()
    for row in summary.rows:
        match = CALL.match(row.name)
        path, call = (match["path"], int(match["call"])) if match else (row.name, 1)
        if path not in modules:
            own = parameters[path].numel() if path in parameters else 0  # a parameter used directly (a scale)
            assert (row.params, row.non_trainable) == (own, 0), f"{row.name}: parameters in a layer that is no module"
            named.add(path)
            continue
        torch_shape = outputs[path][call - 1]
        last = len(torch_shape) > 2 and torch_shape[-1] == row.output[-1] != torch_shape[1]
        if last:  # PyTorch's tensor has its channels last already (after a permute)
            assert tuple(row.output) == tuple(torch_shape[1:]), row.name
        else:
            assert tuple(row.output) == channels_last(torch_shape), row.name
        own = sum(p.numel() for p in modules[path].parameters())
        assert (row.params, row.non_trainable) == (own, _statistics(modules[path])), row.name
        named.add(path)
    missing = [
        path
        for path, m in modules.items()
        if path not in named
        and any(f"{path}.{n}".lstrip(".") not in named for n, _ in m.named_parameters(recurse=False))
    ]
    assert not missing, f"modules missing from the file: {missing}"
    assert tuple(summary.output) == channels_last(result.shape)
    assert summary.totals["params"] == sum(p.numel() for p in model.parameters())
    assert summary.totals["non_trainable"] == _statistics(model)
    assert 2 * summary.totals["macs"] == counter.get_total_flops()


# torchvision's own constructors ----------------------------------------------------------------

TORCHVISION = {
    "resnet50": ("ResNet50_Weights", "resnet50"),
    "mobilenet_v2": ("MobileNet_V2_Weights", "mobilenet-v2"),
    "mobilenet_v3_small": ("MobileNet_V3_Small_Weights", "mobilenet-v3-small"),
    "densenet121": ("DenseNet121_Weights", "densenet121"),
    "squeezenet1_1": ("SqueezeNet1_1_Weights", "squeezenet1-1"),
    "vgg11": ("VGG11_Weights", None),
}
"""torchvision constructor -> its weights enum, and the committed file generated from the same design."""


@pytest.fixture(scope="module")
def models(torch) -> types.ModuleType:  # noqa: ANN001
    from .test_architecture_files import TORCHVISION_DIR, _torchvision

    found = _torchvision()
    require(
        found is not None, f"torchvision is not installed in {TORCHVISION_DIR.relative_to(ROOT)} (bash scripts/test)"
    )
    return found


@pytest.mark.parametrize("constructor", sorted(TORCHVISION))
def test_torchvision_models_round_trip(torch, models, constructor: str, tmp_path: Path) -> None:  # noqa: ANN001
    weights, committed = TORCHVISION[constructor]
    if constructor == "vgg11":  # 133 million weights: made on the meta device, shapes without arithmetic
        with torch.device("meta"):
            model = getattr(models, constructor)()
    else:
        model = getattr(models, constructor)()
    text, summary = _import(torch, model, (224, 224, 3), tmp_path, constructor)
    assert summary.totals["params"] == getattr(models, weights).IMAGENET1K_V1.meta["num_params"]
    assert_is_pytorchs(torch, model, (224, 224, 3), summary)
    if committed:  # the same network written by hand in scripts/generate_architectures.py
        written = compute(read(ARCHITECTURES / f"{committed}.yaml"))
        for key in ("params", "non_trainable", "macs"):  # not activations: a flatten more or less
            assert summary.totals[key] == written.totals[key], key
    assert re.search(r"^  - \{name: [^,]+, type: \w+.*\}  # \S", text, re.M)


# every layer type --------------------------------------------------------------------------------


def test_every_layer_type_comes_from_pytorch(torch, tmp_path: Path) -> None:  # noqa: ANN001
    from . import torch_models

    made: set[str] = set()
    for model, shape in (
        (torch_models.Plane(), (32, 32, 3)),
        (torch_models.ChannelsLast(), (6, 5, 3)),
        (torch_models.Line(), (20, 4)),
        (torch_models.Volume(), (8, 8, 8, 2)),
    ):
        _, summary = _import(torch, model, shape, tmp_path, type(model).__name__)
        assert_is_pytorchs(torch, model, shape, summary)
        made |= {row.type for row in summary.rows}
    assert made == set(REGISTRY), f"layer types import-torch never writes: {sorted(set(REGISTRY) - made)}"


def test_what_no_layer_type_says_is_named(torch, tmp_path: Path) -> None:  # noqa: ANN001
    from cnnmacros.errors import ImportTorchError
    from cnnmacros.torch_import import import_torch

    from . import torch_models

    with pytest.raises(ImportTorchError) as raised:
        import_torch("tests:Unsupported", (8, 8, 3), model=torch_models.Unsupported())
    assert raised.value.problems == [
        "pad (torch.nn.ReflectionPad2d): ReflectionPad2d pads with values of the input; zeropad pads with zeros",
        "shared (torch.nn.Conv2d): it is called 2 times with the same weights; layers cannot share them",
        "torch.nn.functional.softmax in the model's forward: a softmax over axis -1 of a tensor of shape "
        "[1, 3, 8, 8]; softmax is over the channels",
        "operator.add in the model's forward: add of a tensor and a number; add joins layers",
        "torch.matmul in the model's forward: no layer type does what torch.matmul does",
    ]
    with pytest.raises(ImportTorchError) as raised:
        import_torch("tests:Unused", (8, 8, 3), model=torch_models.Unused())
    assert raised.value.problems == [
        "aux (torch.nn.Linear): has parameters, but the forward pass does not call it, so the file cannot count them"
    ]


# the command -------------------------------------------------------------------------------------


def test_the_command_writes_a_file_that_checks(torch, tmp_path: Path) -> None:  # noqa: ANN001
    (tmp_path / "nets.py").write_text((ROOT / "tests" / "torch_models.py").read_text(encoding="utf-8"))
    done = run_cli("import-torch", "nets:net", "--input", "16,16,3", "-o", "net.yaml", cwd=tmp_path)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    text = (tmp_path / "net.yaml").read_text(encoding="utf-8")
    assert text.startswith("# Written by `cnnmacros import-torch nets:net --input 16,16,3` (PyTorch ")
    assert "  - {name: add, type: add, from: [block.1, stem.2]}  # operator.add in the model's forward\n" in text
    assert "  - {name: fc, type: dense, units: 5}  # fc (torch.nn.Linear)\n" in text
    assert run_cli("check", "net.yaml", cwd=tmp_path).returncode == 0
    # 3x3x3x8 + 2x8 (stem), 3x3x8x8 + 2x8 (block), 8x5 + 5 (fc)
    assert compute(read(tmp_path / "net.yaml")).totals["params"] == 216 + 16 + 576 + 16 + 45


def test_the_commands_errors(
    torch,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture,  # noqa: ANN001
) -> None:
    """Every problem, one a line, exit status 1, and no file; in this process, where PyTorch is loaded."""
    from cnnmacros.cli import parser

    (tmp_path / "nets.py").write_text((ROOT / "tests" / "torch_models.py").read_text(encoding="utf-8"))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(sys, "path", list(sys.path))
    for args, first, lines in (
        (
            ["nets:Unsupported", "--input", "8,8,3", "-o", "out.yaml"],
            "nets:Unsupported: pad (torch.nn.ReflectionPad2d): ReflectionPad2d pads with values of the input; "
            "zeropad pads with zeros",
            5,
        ),
        (["nets:net", "--input", "16,3,x"], "--input: expected sizes and channels, channels last, such as", 1),
        (["nets", "--input", "16,16,3"], "nets: expected MODULE:ATTR, such as torchvision.models:resnet18, got", 1),
        (["nope:net", "--input", "16,16,3"], "nope:net: cannot import nope: ModuleNotFoundError: No module named", 1),
        (["nets:nothing", "--input", "16,16,3"], "nets:nothing: nets has no attribute 'nothing'", 1),
        (["nets:INSTALL", "--input", "16,16,3"], "nets:INSTALL: nets:INSTALL is a str, expected an nn.Module", 1),
    ):
        parsed = parser().parse_args(["import-torch", *args])
        assert parsed.run(parsed) == 1
        out, err = capsys.readouterr()
        assert out == "" and err.startswith(first) and len(err.splitlines()) == lines, err
    assert not (tmp_path / "out.yaml").exists()


def test_without_pytorch_it_says_so_in_one_line() -> None:
    code = "import sys; sys.modules['torch'] = None; from cnnmacros.cli import main; sys.exit(main())"
    done = subprocess.run(
        [sys.executable, "-c", code, "import-torch", "m:a", "--input", "8,8,3"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        "cnnmacros import-torch needs PyTorch, which is not installed: pip install 'cnnmacros[torch]'\n"
    )


def test_the_adding_page_shows_real_output(torch, models, tmp_path: Path) -> None:  # noqa: ANN001
    from cnnmacros.errors import ImportTorchError
    from cnnmacros.torch_import import import_torch

    from . import torch_models

    page = (ROOT / "docs" / "adding.md").read_text(encoding="utf-8")
    block = re.search(r"checked by tests/test_import_torch.py.*?\n```yaml\n(.*?)```", page, re.S).group(1)
    text = import_torch("torchvision.models:resnet18", (224, 224, 3), model=models.resnet18())
    assert block in text
    command = re.search(r"\$ (cnnmacros import-torch torchvision.models:resnet18 --input 224,224,3) -o", page)
    assert command and f"`{command.group(1)}`" in text
    error = re.search(r"```text\n(models:Net: pad .*?)\n```", page).group(1)
    with pytest.raises(ImportTorchError) as raised:
        import_torch("models:Net", (8, 8, 3), model=torch_models.Unsupported())
    assert error == f"models:Net: {raised.value.problems[0]}"
