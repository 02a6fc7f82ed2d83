"""Writes architectures/torchvision/NAME.yaml for every convolutional classifier of torchvision 0.28.

Each file is ``cnnmacros import-torch`` of ``torchvision.models.get_model(NAME)``, built on the meta
device (no weights, no memory, no arithmetic), at the evaluation crop of the model's first weights,
with blocks for its repeated modules; the weights' metadata (no download) gives the accuracy that
``metrics:`` records. Run it with torchvision importable, e.g. as the tests set it up:

    .venv/bin/python scripts/generate_zoo.py            # every model
    .venv/bin/python scripts/generate_zoo.py resnet50   # some
    .venv/bin/python scripts/generate_zoo.py --check    # compare with the committed files, write nothing

Two models need care. GoogLeNet is built without its auxiliary heads, as its published count
leaves them out (its builder deletes them after loading the weights). Inception v3 keeps its
auxiliary head, which its published count includes, and is traced in training mode, where the
head runs: the file has it as a branch.
"""

from __future__ import annotations

import argparse
import re
import sys
import types
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "architectures" / "torchvision"
TORCHVISION_DIR = ROOT / ".venv" / "torchvision-0.28.0"
VERSION = "0.28.0"

FAMILIES: dict[str, tuple[str, ...]] = {
    "AlexNet": ("alexnet",),
    "VGG": ("vgg11", "vgg11_bn", "vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19", "vgg19_bn"),
    "ResNet": ("resnet18", "resnet34", "resnet50", "resnet101", "resnet152"),
    "ResNeXt": ("resnext50_32x4d", "resnext101_32x8d", "resnext101_64x4d"),
    "Wide ResNet": ("wide_resnet50_2", "wide_resnet101_2"),
    "SqueezeNet": ("squeezenet1_0", "squeezenet1_1"),
    "DenseNet": ("densenet121", "densenet161", "densenet169", "densenet201"),
    "GoogLeNet": ("googlenet",),
    "Inception": ("inception_v3",),
    "MobileNet": ("mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large"),
    "MNASNet": ("mnasnet0_5", "mnasnet0_75", "mnasnet1_0", "mnasnet1_3"),
    "EfficientNet": tuple(f"efficientnet_b{i}" for i in range(8)),
    "EfficientNetV2": ("efficientnet_v2_s", "efficientnet_v2_m", "efficientnet_v2_l"),
    "RegNet": tuple(
        f"regnet_{kind}_{size}"
        for kind, sizes in (
            ("x", ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf")),
            ("y", ("400mf", "800mf", "1_6gf", "3_2gf", "8gf", "16gf", "32gf", "128gf")),
        )
        for size in sizes
    ),
    "ShuffleNetV2": tuple(f"shufflenet_v2_x{s}" for s in ("0_5", "1_0", "1_5", "2_0")),
    "ConvNeXt": tuple(f"convnext_{s}" for s in ("tiny", "small", "base", "large")),
}
"""The 68 models by family, in the order of torchvision's documentation."""
MODELS = [name for names in FAMILIES.values() for name in names]
FAMILY = {name: family for family, names in FAMILIES.items() for name in names}
TRAINING = {"inception_v3"}
"""Traced in training mode: the auxiliary head that the published parameter count includes runs only there."""
TRANSFORMERS = ("vit_", "swin_", "maxvit_")


def torchvision_models() -> types.ModuleType:
    """torchvision's models on a CPU-only PyTorch: PyPI's wheel is linked against CUDA, and only its
    ``_meta_registrations`` need those libraries, so a stub stands in for them."""
    sys.modules.setdefault("torchvision._meta_registrations", types.ModuleType("torchvision._meta_registrations"))
    if TORCHVISION_DIR.is_dir() and str(TORCHVISION_DIR) not in sys.path:
        sys.path.append(str(TORCHVISION_DIR))
    import torchvision.models

    return torchvision.models


def weights(name: str) -> Any:
    """The model's first weights (an enum member): their metadata needs no download."""
    return next(iter(torchvision_models().get_model_weights(name)))


def crop(name: str) -> int:
    """The evaluation crop of the first weights: 299 for Inception v3, 600 for EfficientNet-B7."""
    (size,) = weights(name).transforms().crop_size
    return int(size)


def build(name: str) -> Any:
    """``get_model(NAME)`` on the meta device, as the published figures count it."""
    import torch

    models = torchvision_models()
    kwargs = {"aux_logits": False} if name == "googlenet" else {}
    regnet = models.regnet.BlockParams
    original = regnet.__dict__["from_init_params"]

    def real_widths(cls: type, *args: Any, **kw: Any) -> Any:  # RegNet computes its widths with tensors
        with torch.device("cpu"):
            return original.__func__(cls, *args, **kw)

    regnet.from_init_params = classmethod(real_widths)
    try:
        with torch.device("meta"):
            model = models.get_model(name, **kwargs)
    finally:
        regnet.from_init_params = original
    return model.eval()


def title(name: str) -> str:
    """A readable name from the weights' enum, with "(torchvision)" after it so that no title on
    the site is another page's (this site's own AlexNet and ResNet-50): ``ResNet50_Weights`` gives
    ``ResNet50``; an underscore between digits is a decimal point (``MNASNet0_5`` is MNASNet 0.5,
    ``RegNet_Y_1_6GF`` 1.6 GFLOPs), except in Wide ResNet's depth and width (``Wide ResNet50-2``)."""
    words = type(weights(name)).__name__.removesuffix("_Weights")
    if words.startswith("Wide_ResNet"):
        words = re.sub(r"(\d)_(\d)", r"\1-\2", words)
    else:
        words = re.sub(r"(?<=\d)_(?=\d+(?:GF|MF)?$)", ".", words)  # not ResNeXt101_32X8D
    return words.replace("_", " ") + " (torchvision)"


def text(name: str) -> str:
    """The architecture file of one model."""
    from cnnmacros.torch_import import import_torch

    w = weights(name)
    size = crop(name)
    ((dataset, metrics),) = w.meta["_metrics"].items()
    header = {
        "family": FAMILY[name],
        "metrics": {
            "acc@1": metrics["acc@1"],
            "acc@5": metrics["acc@5"],
            "dataset": dataset,
            "weights": f"{type(w).__name__}.{w.name}",
            "origin": f"torchvision {VERSION}, {type(w).__name__}.{w.name}.meta['_metrics']",
        },
    }
    return import_torch(
        f"torchvision.models:{name}",
        (size, size, 3),
        name=title(name),
        model=build(name),
        training=name in TRAINING,
        blocks=True,
        header=header,
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Write architectures/torchvision/NAME.yaml from torchvision.")
    parser.add_argument("names", nargs="*", help="models to write (default: all 68)")
    parser.add_argument("--check", action="store_true", help="compare with the committed files; write nothing")
    args = parser.parse_args(argv)
    import warnings

    warnings.filterwarnings("ignore", category=UserWarning)  # torchvision's notes on init_weights
    unknown = [n for n in args.names if n not in FAMILY]
    if unknown:
        print(f"generate_zoo: not a model of the zoo: {', '.join(unknown)}", file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    differ = []
    for name in args.names or MODELS:
        written = text(name)
        path = OUT / f"{name}.yaml"
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != written:
                differ.append(name)
        else:
            path.write_text(written, encoding="utf-8")
            print(f"wrote {path.relative_to(ROOT)} ({len(written.splitlines())} lines)")
    if differ:
        print(f"generate_zoo: differ from a fresh import: {', '.join(differ)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
