"""``cnnmacros import-onnx`` against the ONNX graphs themselves.

The expected figures are worked out here from the graph and ``onnx.shape_inference``, not from the
importer: every compute node's output shape, the elements of its weight tensors and its MACs (our
definition, PyTorch's FlopCounterMode halved: a convolution's weights times its output positions, a
transposed convolution's times its input positions, a matrix product's weights). The files are the
nine model-zoo networks and the single-layer PyTorch files that the onnx package ships, graphs built
here, and the standard model of every architecture file exported by ``torch.onnx.export``.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from pathlib import Path

import pytest

from cnnmacros.architecture import validate
from cnnmacros.engine import compute
from cnnmacros.errors import ArchitectureError
from cnnmacros.import_onnx import INSTALL, import_file
from cnnmacros.yamlnodes import load

from .conftest import ARCHITECTURES, run_cli
from .published import TOTAL_PARAMS

onnx = pytest.importorskip("onnx")  # an error in CI (conftest): the oracle extra brings it
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

DATA = Path(onnx.__file__).parent / "backend" / "test" / "data"
LIGHT = sorted((DATA / "light").glob("light_*.onnx"))


def summary_of(text: str):
    return compute(validate("imported.yaml", load("imported.yaml", text.encode())))


# What the graph says, worked out independently of the importer ---------------------------------


def _sizes(model) -> dict[str, tuple[int, ...]]:
    """The shape of every constant tensor: initializers, Constant and ConstantOfShape outputs."""
    stored = {t.name: t for t in model.graph.initializer}
    shapes = {name: tuple(t.dims) for name, t in stored.items()}
    for node in model.graph.node:
        if node.op_type == "ConstantOfShape" and node.input[0] in stored:
            shapes[node.output[0]] = tuple(int(v) for v in numpy_helper.to_array(stored[node.input[0]]))
        elif node.op_type == "Constant" and node.attribute[0].name == "value":
            shapes[node.output[0]] = tuple(node.attribute[0].t.dims)
        elif node.op_type in ("Identity", "Transpose") and node.input[0] in shapes:
            dims = shapes[node.input[0]]
            shapes[node.output[0]] = dims if node.op_type == "Identity" else dims[::-1]
        elif node.op_type == "Reshape" and node.input[0] in shapes and node.input[1] in stored:
            target = [int(v) for v in numpy_helper.to_array(stored[node.input[1]])]
            if -1 in target:
                known = math.prod(v for v in target if v != -1)
                target[target.index(-1)] = math.prod(shapes[node.input[0]]) // known
            shapes[node.output[0]] = tuple(target)
        elif node.op_type == "Unsqueeze" and node.input[0] in shapes and node.attribute:  # axes: opset < 13
            dims = list(shapes[node.input[0]])
            for axis in sorted(helper.get_attribute_value(node.attribute[0])):
                dims.insert(axis, 1)
            shapes[node.output[0]] = tuple(dims)
    return shapes


def graph_figures(model) -> dict[str, dict]:
    """Per node name: its output shape (channels last, no batch) by ONNX shape inference, the
    parameters and statistics of its weight tensors, and its MACs. Caffe's Scale layer (a Mul and
    an Add of per-channel constants after a batch norm) holds the scale and shift: the batch norm's
    own ones are Caffe2's constants 1 and 0, so the batch norm counts its statistics only."""
    inferred = onnx.shape_inference.infer_shapes(model)
    values = [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]
    shapes = {v.name: [d.dim_value for d in v.type.tensor_type.shape.dim] for v in values}
    sizes = _sizes(model)
    producer = {o: n for n in model.graph.node for o in n.output}

    def size(name: str) -> int:
        return math.prod(sizes[name]) if name else 0

    out: dict[str, dict] = {}
    for node in model.graph.node:
        if node.output[0] in sizes or node.output[0] not in shapes:
            continue
        dims = shapes[node.output[0]]
        entry = {"output": tuple([*dims[2:], dims[1]] if len(dims) > 2 else dims[1:]), "params": 0, "stats": 0}
        entry["macs"] = 0
        inputs = list(node.input) + ["", ""]
        if node.op_type in ("Conv", "ConvTranspose", "Gemm", "MatMul", "PRelu"):
            entry["params"] = size(inputs[1]) + (size(inputs[2]) if node.op_type != "MatMul" else 0)
            if node.op_type == "Conv":
                entry["macs"] = size(inputs[1]) * math.prod(dims[2:])
            elif node.op_type == "ConvTranspose":
                entry["macs"] = size(inputs[1]) * math.prod(shapes[inputs[0]][2:])
            elif node.op_type != "PRelu":
                entry["macs"] = size(inputs[1])
        elif node.op_type == "BatchNormalization":
            entry["stats"] = size(inputs[3]) + size(inputs[4])
            readers = [n for n in model.graph.node if node.output[0] in n.input]
            caffe_scale = len(readers) == 1 and readers[0].op_type == "Mul"
            entry["params"] = 0 if caffe_scale else size(inputs[1]) + size(inputs[2])
        elif node.op_type in ("Mul", "Add") and any(i in sizes for i in node.input):
            constant = next(i for i in node.input if i in sizes)
            before = producer.get(next(i for i in node.input if i not in sizes))
            # Caffe's Scale after a batch norm, or the bias of a matrix product or a convolution
            taken = ("BatchNormalization", "Mul") if node.op_type == "Mul" else ("Mul", "MatMul", "Conv")
            entry["params"] = size(constant) if before is not None and before.op_type in taken else 0
        out[node.name or node.output[0]] = entry
    return out


def check_against_graph(model, text: str) -> None:
    """Every layer named after a node has the node's output shape, parameters, statistics and
    MACs; the totals are the graph's."""
    expected = graph_figures(model)
    summary = summary_of(text)
    rows = {r.name: r for r in summary.rows}
    by_name = {n.name or n.output[0]: n for n in model.graph.node}
    compared = 0
    for name, figures in expected.items():
        row = rows.get(name)
        if row is None:  # taken into another node's layer: Caffe's Scale, a shuffle, a bias Add
            continue
        # Reshape, Transpose, Reshape is a shuffle, and Unsqueeze, a 2D pool, Squeeze a 1D pool: the
        # layer gives the last node's output
        steps = 2 if row.type == "shuffle" else 1 if len(figures["output"]) != len(row.output) else 0
        last = by_name[name]
        for _ in range(steps):
            last = next(n for n in model.graph.node if last.output[0] in n.input)
        figures = {**figures, "output": expected[last.name or last.output[0]]["output"]}
        assert row.output == figures["output"], name
        # a node may need a layer besides its own (zeros before it, a crop after it): name.pad, name.uncropped
        assert sum(r.macs for r in summary.rows if r.name == name or r.name.startswith(name + ".")) == figures["macs"]
        compared += 1
    assert compared >= len(summary.rows) // 2
    totals = summary.totals
    assert totals["params"] == sum(f["params"] for f in expected.values())
    assert totals["non_trainable"] == sum(f["stats"] for f in expected.values())
    assert totals["macs"] == sum(f["macs"] for f in expected.values())


# The nine model-zoo networks -------------------------------------------------------------------

PUBLISHED = {
    "light_bvlc_alexnet": TOTAL_PARAMS["alexnet-grouped"],  # the same two-GPU network: 60,965,224
    "light_densenet121": TOTAL_PARAMS["densenet121"],  # torchvision's 7,978,856
    "light_resnet50": TOTAL_PARAMS["resnet50"],
    "light_squeezenet": TOTAL_PARAMS["squeezenet1-1"],
    "light_vgg19": 143_667_240,  # torchvision.models.vgg19, VGG19_Weights meta["num_params"]
}


def test_the_onnx_package_ships_the_nine_model_zoo_files() -> None:
    assert [p.stem for p in LIGHT] == [
        "light_bvlc_alexnet",
        "light_densenet121",
        "light_inception_v1",
        "light_inception_v2",
        "light_resnet50",
        "light_shufflenet",
        "light_squeezenet",
        "light_vgg19",
        "light_zfnet512",
    ]


@pytest.mark.parametrize("path", LIGHT, ids=lambda p: p.stem)
def test_model_zoo_files_import_and_match_their_graphs(path: Path) -> None:
    imported = import_file(path)
    model = onnx.load(path)
    check_against_graph(model, imported.text)
    if path.stem in PUBLISHED:
        assert summary_of(imported.text).totals["params"] == PUBLISHED[path.stem]
    assert imported.notes == []


def test_bvlc_alexnet_is_the_grouped_network_with_lrn_and_a_ceil_mode_pool() -> None:
    text = import_file(DATA / "light" / "light_bvlc_alexnet.onnx").text
    lines = text.splitlines()
    assert lines[2:9] == [
        "name: light_bvlc_alexnet",
        "input: [224, 224, 3]",
        "layers:",
        "  - {name: n0, type: conv2d, filters: 96, kernel: 11, stride: 4}  # Conv",
        "  - {name: n1, type: relu}  # Relu",
        "  - {name: n2, type: lrn, size: 5}  # LRN",
        "  - {name: n3, type: maxpool2d, pool: 3, stride: 2}  # MaxPool",
    ]
    # pads [0, 0, 1, 1] on 12 x 12: floor((12 + 1 - 3) / 2) + 1 = 6 = ceil((12 - 3) / 2) + 1
    assert (
        "  - {name: n14, type: maxpool2d, pool: 3, stride: 2, ceil_mode: true}  # MaxPool (pads [0, 0, 1, 1]: "
        "the extra end padding is ceil mode's last window)" in lines
    )
    assert sum("groups: 2" in line for line in lines) == 3


def test_the_bvlc_alexnet_file_is_what_the_importer_writes() -> None:
    """architectures/bvlc-alexnet.yaml adds a description and a source to the imported file."""
    imported = import_file(DATA / "light" / "light_bvlc_alexnet.onnx", "BVLC AlexNet").text.splitlines()
    committed = (ARCHITECTURES / "bvlc-alexnet.yaml").read_text(encoding="utf-8").splitlines()
    assert committed[1:4] == imported[:3]
    assert committed[committed.index("input: [224, 224, 3]") :] == imported[3:]


def test_the_adding_page_shows_what_the_command_does() -> None:
    import re

    from .conftest import ROOT

    text = (ROOT / "docs" / "adding.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```text\n(.*?)```", text[text.index("## From an ONNX file") :], re.S)
    start = blocks[0].splitlines()
    assert start == import_file(DATA / "light" / "light_bvlc_alexnet.onnx", "BVLC AlexNet").text.splitlines()[:8]
    command, line = blocks[1].splitlines()
    glu = DATA / "pytorch-converted" / "test_GLU" / "model.onnx"
    assert command == "$ cnnmacros import-onnx test_GLU/model.onnx"
    with pytest.raises(ArchitectureError) as info:
        import_file(glu)
    assert [str(p) for p in info.value.problems] == [line.replace("test_GLU/model.onnx", str(glu))]


def test_caffe_scale_after_batch_norm_is_its_scale_and_shift() -> None:
    text = import_file(DATA / "light" / "light_densenet121.onnx").text
    assert (
        "  - {name: n1, type: batchnorm}  # BatchNormalization, and Caffe's Scale as its scale and shift: "
        "Mul n3 its scale, Add n5 its shift"
    ) in text.splitlines()
    assert "Mul" not in {r.type for r in summary_of(text).rows}


def test_shufflenet_shuffles_are_one_layer_each() -> None:
    text = import_file(DATA / "light" / "light_shufflenet.onnx").text
    assert "  - {name: n7, type: shuffle, groups: 4}  # Reshape, Transpose n8 and Reshape n9" in text
    assert text.count("type: shuffle") == 16


# The single-layer files PyTorch converted -------------------------------------------------------

CONVERTED = sorted(p.parent for p in (DATA / "pytorch-converted").glob("*/model.onnx"))
NOT_EXPRESSED = {
    "test_ConstantPad2d": "node 0 (1) Pad: expected padding with zeros, got the value 2",
    "test_ELU": "node 0 (1) Elu: expected alpha 1 (PyTorch's elu), got 2",
    "test_Embedding": "node 0 (2) Gather: no layer type expresses Gather",
    "test_Embedding_sparse": "node 0 (2) Gather: no layer type expresses Gather",
    "test_GLU": "node 0 (1) Split: no layer type expresses Split",
    "test_GLU_dim": "node 0 (1) Split: no layer type expresses Split",
    "test_LogSoftmax": "node 0 (1) LogSoftmax: no layer type expresses LogSoftmax",
    "test_MaxPool1d_stride_padding_dilation": "node 0 (Y) MaxPool: expected dilations of 1 (no layer type dilates "
    "a pool), got [10]",
    "test_MaxPool2d_stride_padding_dilation": "node 0 (Y) MaxPool: expected dilations of 1 (no layer type dilates "
    "a pool), got [10, 10]",
    "test_PixelShuffle": "node 1 (2) Reshape: expected a Reshape that flattens to [N, C*H*W] or starts a channel "
    "shuffle (Reshape, Transpose, Reshape), got [1, 9, 4, 4] to [1, 1, 3, 3, 4, 4]",
    "test_PoissonNLLLLoss_no_reduce": "node 1 (2) Exp: no layer type expresses Exp",
    "test_ReflectionPad2d": "node 0 (1) Pad: expected mode 'constant' (zeros), got 'reflect': no layer type pads "
    "otherwise",
    "test_ReplicationPad2d": "node 0 (1) Pad: expected mode 'constant' (zeros), got 'edge': no layer type pads "
    "otherwise",
    "test_Softmin": "node 0 (1) Neg: no layer type expresses Neg",
    "test_Softplus": "node 0 (1) Softplus: no layer type expresses Softplus",
    "test_Softsign": "node 0 (1) Abs: no layer type expresses Abs",
    "test_log_softmax_dim3": "node 0 (1) LogSoftmax: no layer type expresses LogSoftmax",
    "test_log_softmax_lastdim": "node 0 (1) LogSoftmax: no layer type expresses LogSoftmax",
    "test_softmax_functional_dim3": "node 0 (1) Softmax: expected a softmax over the channels (axis 1), got axis 3 "
    "of shape [2, 3, 4, 5]",
}


def test_pytorch_converted_files_import_unless_no_layer_type_expresses_them() -> None:
    assert len(CONVERTED) == 82 and set(NOT_EXPRESSED) < {p.name for p in CONVERTED}
    imported = 0
    for folder in CONVERTED:
        path = folder / "model.onnx"
        if folder.name in NOT_EXPRESSED:
            with pytest.raises(ArchitectureError) as info:
                import_file(path)
            assert str(info.value.problems[0]) == f"{path}: {NOT_EXPRESSED[folder.name]}", folder.name
            continue
        check_against_graph(onnx.load(path), import_file(path).text)
        imported += 1
    assert imported == 63


def test_a_1d_pool_written_in_2d_is_one_1d_pool() -> None:
    path = DATA / "pytorch-converted" / "test_AvgPool1d_stride" / "model.onnx"
    lines = import_file(path).text.splitlines()
    assert lines[3:] == [
        "input: [6, 3]",
        "layers:",
        '  - {name: "2", type: avgpool1d, pool: 2, stride: 2}  # AveragePool, with Unsqueeze 1 and Squeeze 3: a 1D '
        "pool written in 2D",
    ]


# Round trip: every architecture file's standard model, exported by PyTorch -------------------------

FILES = sorted(ARCHITECTURES.glob("*.yaml"))
DYNAMO_SAMPLE = {"googlenet-stem", "wavenet", "mobilenet-v3-small", "dcgan-generator", "unet3d", "lenet5"}
"""The dynamo exporter takes 2 to 25 s a file here; CI exports these, which between them hold the
patterns it writes differently from the TorchScript exporter (local response norm written out, a zero
bias expanded for each convolution without one, global pools as ReduceMean, flattens as Reshape, pads
as Pad, 1D, 2D and 3D layers). CNNMACROS_ONNX_ROUND_TRIP=all exports every file with both."""


TORCHSCRIPT_SKIPPED = {"alexnet", "bvlc-alexnet", "vgg16", "densenet121", "resnet50"}
"""Left out of CI's TorchScript exports for time (10 to 35 s each here): AlexNet's and VGG-16's layer
types and options are all in the grouped AlexNet, BVLC AlexNet's in it and the GoogLeNet stem (local
response norm, ceil mode), DenseNet-121's joins in Inception (3a), SqueezeNet and the model-zoo
DenseNet-121 above, and ResNet-50's bottlenecks are ResNet-18's layers in another order."""


def _round_trip_cases() -> list:
    every = os.environ.get("CNNMACROS_ONNX_ROUND_TRIP") == "all"
    cases = [
        pytest.param(p, "torchscript", id=f"{p.stem}-torchscript")
        for p in FILES
        if every or p.stem not in TORCHSCRIPT_SKIPPED
    ]
    cases += [pytest.param(p, "dynamo", id=f"{p.stem}-dynamo") for p in FILES if every or p.stem in DYNAMO_SAMPLE]
    return cases


def export(architecture, path: Path, exporter: str, dynamic: list[str] | None = None) -> None:
    """The file's standard model (tests/oracle.py) exported as torch.onnx.export's documentation says
    for keeping batch norms: without constant folding (TorchScript), without optimization (dynamo)."""
    import warnings

    torch = pytest.importorskip("torch")
    from .oracle import model, zeros

    net, x = model(architecture), zeros(architecture)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "torchscript":
            axes = {"x": {0: "N", **{2 + i: n for i, n in enumerate(dynamic)}}} if dynamic else None
            torch.onnx.export(
                net, (x,), path, dynamo=False, do_constant_folding=False, input_names=["x"], dynamic_axes=axes
            )
        else:
            shapes = None
            if dynamic:
                dims = {2 + i: torch.export.Dim(n, min=8, max=4096) for i, n in enumerate(dynamic)}
                shapes = ({0: torch.export.Dim("N"), **dims},)
            torch.onnx.export(net, (x,), path, dynamo=True, optimize=False, dynamic_shapes=shapes, verbose=False)


def same_network(original, imported) -> None:
    """Shapes and counts identical. What exporters change: no dropout in eval mode, a flatten
    before a dense layer (ONNX's Gemm takes a matrix), one add per pair of inputs."""
    keys = ("params", "weights", "biases", "non_trainable", "macs")
    assert {k: imported.totals[k] for k in keys} == {k: original.totals[k] for k in keys}

    def weighted(summary) -> list:
        return [(r.type, r.output, r.params, r.non_trainable, r.macs) for r in summary.rows if r.params or r.macs]

    assert weighted(imported) == weighted(original)
    kept = [r for r in original.rows if r.type != "dropout"]
    assert Counter(r.output for r in kept) <= Counter(r.output for r in imported.rows)
    types = Counter(r.type for r in imported.rows)
    types.subtract(Counter(r.type for r in kept))
    assert {t for t, n in types.items() if n < 0} == set()
    assert {t for t, n in types.items() if n > 0} <= {"flatten", "add"}
    assert imported.rows[-1].output == original.rows[-1].output


@pytest.mark.oracle
@pytest.mark.parametrize(("path", "exporter"), _round_trip_cases())
def test_round_trip_through_torch_onnx_export(path: Path, exporter: str, tmp_path: Path) -> None:
    import dataclasses

    from cnnmacros.architecture import read
    from cnnmacros.engine import concrete_inputs

    architecture = read(path)
    if not all(isinstance(v, int) for v in architecture.input):  # the smallest input that fits the file
        architecture = dataclasses.replace(architecture, input=concrete_inputs(architecture, 1)[0])
    target = tmp_path / f"{path.stem}.onnx"
    export(architecture, target, exporter)
    imported = import_file(target)
    assert imported.notes == []
    same_network(compute(architecture), summary_of(imported.text))


@pytest.mark.oracle
@pytest.mark.parametrize(
    ("stem", "exporter"),
    [("unet3d", "torchscript"), ("unet3d", "dynamo"), ("mobilenet-v3-small", "torchscript")],
)
def test_symbolic_sizes_round_trip(stem: str, exporter: str, tmp_path: Path) -> None:
    """Exported with dynamic sizes, the 3D U-Net imports with input [D, H, W, 3] (MobileNetV3 with
    [H, W, 3]), and the file computes what the original does with that input, formula for formula."""
    import dataclasses

    import sympy

    from cnnmacros.architecture import read

    architecture = read(ARCHITECTURES / f"{stem}.yaml")
    names = ["D", "H", "W"][3 - (len(architecture.input) - 1) :]
    target = tmp_path / f"{stem}.onnx"
    export(architecture, target, exporter, dynamic=names)
    imported = import_file(target)
    channels = architecture.input[-1]
    assert imported.text.splitlines()[3] == f"input: [{', '.join(names)}, {channels}]"
    sizes = tuple(sympy.Symbol(n, integer=True, positive=True) for n in names)
    symbolic = compute(dataclasses.replace(architecture, input=(*sizes, channels)))
    same_network(symbolic, summary_of(imported.text))


# Graphs built here: one mapping each ------------------------------------------------------------


def weights(name: str, *shape: int):
    import numpy as np

    return numpy_helper.from_array(np.zeros(shape, dtype=np.float32), name)


def ints(name: str, *values: int):
    import numpy as np

    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def floats(name: str, *values: float):
    import numpy as np

    return numpy_helper.from_array(np.array(values, dtype=np.float32), name)


def build(path: Path, nodes: list, x_shape: list, initializers: tuple = (), opset: int = 13, **more) -> Path:
    """A model of ``nodes`` reading ``x``; every output no node reads is a graph output."""
    read = {i for n in nodes for i in n.input}
    outputs = [o for n in nodes for o in n.output if o and o not in read]
    graph = helper.make_graph(
        nodes,
        "g",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, x_shape)],
        [helper.make_tensor_value_info(o, TensorProto.FLOAT, None) for o in outputs],
        initializer=list(initializers),
    )
    imports = [helper.make_opsetid("", opset), *more.get("domains", [])]
    model = helper.make_model(graph, opset_imports=imports, ir_version=8)
    inferred = onnx.shape_inference.infer_shapes(model).graph
    known = {v.name: v for v in [*inferred.value_info, *inferred.output] if v.type.tensor_type.HasField("shape")}
    for output in model.graph.output:  # the checker wants the outputs' shapes declared
        if output.name in known:
            output.CopyFrom(known[output.name])
        else:  # after a custom operator: no dims known
            output.type.tensor_type.shape.SetInParent()
    onnx.save(model, path)
    return path


def layers(path: Path) -> list[str]:
    """The layer lines of the imported file, after checking it against the graph."""
    text = import_file(path).text
    check_against_graph(onnx.load(path), text)
    return [line for line in text.splitlines() if line.startswith("  - ")]


def node(op: str, inputs: list[str], output: str, **attrs):
    return helper.make_node(op, inputs, [output], name=output, **attrs)


def test_convolutions_padding_groups_and_transposed(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w1"], "same", auto_pad="SAME_UPPER", strides=[2, 2], kernel_shape=[3, 3]),
        node("Conv", ["same", "w2", "b2"], "lower", auto_pad="SAME_LOWER", kernel_shape=[2, 2]),
        node("Conv", ["lower", "w3"], "depthwise", group=8, pads=[1, 1, 1, 1]),
        node("ConvTranspose", ["depthwise", "w4"], "up", strides=[2, 2], pads=[0, 1, 1, 0], output_padding=[1, 1]),
    ]
    inits = (weights("w1", 8, 3, 3, 3), weights("w2", 8, 8, 2, 2), weights("b2", 8), weights("w3", 8, 1, 3, 3))
    path = build(tmp_path / "conv.onnx", nodes, [1, 3, 9, 10], (*inits, weights("w4", 8, 2, 3, 3)))
    # SAME_LOWER, kernel 2: one zero in all, before the input; ConvTranspose: [0, 1] pads before and
    # [1, 0] after are padding 0 and a crop of [0, 1] along H and [1, 0] along W
    assert layers(path) == [
        "  - {name: same, type: conv2d, filters: 8, kernel: 3, stride: 2, padding: same, bias: false}  # Conv",
        "  - {name: lower.pad, type: zeropad2d, padding: [[1, 0], [1, 0]]}  # Conv asymmetric pads [1, 1, 0, 0]: "
        "the zeros before the convolution",
        "  - {name: lower, type: conv2d, filters: 8, kernel: 2}  # Conv (its pads in the layer before)",
        "  - {name: depthwise, type: conv2d, filters: 8, kernel: 3, padding: 1, groups: 8, bias: false}  # Conv",
        "  - {name: up.uncropped, type: convtranspose2d, filters: 2, kernel: 3, stride: 2, output_padding: 1, "
        "bias: false}  # ConvTranspose (its asymmetric pads in the crop after it)",
        "  - {name: up, type: crop2d, crop: [[0, 1], [1, 0]]}  # ConvTranspose asymmetric pads [0, 1, 1, 0]",
    ]


def test_pools_auto_pad_ceil_mode_and_count_include_pad(tmp_path: Path) -> None:
    nodes = [
        # 8 x 8, window 3, stride 2, SAME_UPPER: ceil(8 / 2) = 4 outputs, total padding 3 x 2 + 3 - 8 = 1,
        # all of it after: the one position of ceil mode's last window
        node("MaxPool", ["x"], "same", auto_pad="SAME_UPPER", kernel_shape=[3, 3], strides=[2, 2]),
        node("AveragePool", ["same"], "exclude", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        # count_include_pad 1 with pads [0, 0] before and [2, 1] after: zeros, then a plain average
        node("AveragePool", ["exclude"], "include", kernel_shape=[3, 3], pads=[0, 0, 2, 1], count_include_pad=1),
        node("GlobalMaxPool", ["include"], "global"),
        node("ReduceMean", ["exclude"], "mean", axes=[2, 3], keepdims=0),
    ]
    assert layers(build(tmp_path / "pools.onnx", nodes, [1, 2, 8, 8], opset=13)) == [
        "  - {name: same, type: maxpool2d, pool: 3, stride: 2, ceil_mode: true}  # MaxPool (pads [0, 0, 1, 1]: the "
        "extra end padding is ceil mode's last window)",
        "  - {name: exclude, type: avgpool2d, pool: 3, stride: 1, padding: 1, count_include_pad: false}  # AveragePool",
        "  - {name: include.pad, type: zeropad2d, padding: [[0, 2], [0, 1]]}  # AveragePool pads [0, 0, 2, 1]",
        "  - {name: include, type: avgpool2d, pool: 3, stride: 1}  # AveragePool (its pads in the layer before)",
        "  - {name: global, type: globalmaxpool, keepdims: true}  # GlobalMaxPool",
        "  - {name: mean, type: globalavgpool, keepdims: false, from: exclude}  # ReduceMean",
    ]


def test_dense_layers_batch_norm_and_activations(tmp_path: Path) -> None:
    import numpy as np

    nodes = [
        node("BatchNormalization", ["x", "s", "b", "m", "v"], "bn"),
        node("Flatten", ["bn"], "flat"),
        node("MatMul", ["flat", "w1"], "matmul"),
        node("Add", ["matmul", "b1"], "bias"),
        node("Clip", ["bias", "zero", "six"], "relu6"),
        node("Gemm", ["relu6", "w2"], "gemm"),
        node("LeakyRelu", ["gemm"], "leaky", alpha=0.2),
        node("Sigmoid", ["leaky"], "gate"),
        node("Mul", ["leaky", "gate"], "silu"),
        node("Dropout", ["silu", "rate"], "drop"),
        node("Softmax", ["drop"], "softmax"),
    ]
    stats = [weights(n, 4) for n in "sbmv"]
    consts = [weights("w1", 36, 10), weights("b1", 10), floats("zero", 0.0), floats("six", 6.0)]
    consts += [weights("w2", 10, 5), numpy_helper.from_array(np.array(0.25, dtype=np.float32), "rate")]
    path = build(tmp_path / "dense.onnx", nodes, [1, 4, 3, 3], (*stats, *consts), opset=13)
    assert layers(path) == [
        "  - {name: bn, type: batchnorm}  # BatchNormalization",
        "  - {name: flat, type: flatten}  # Flatten",
        "  - {name: matmul, type: dense, units: 10}  # MatMul, and Add bias: its bias",
        "  - {name: relu6, type: relu6}  # Clip",
        "  - {name: gemm, type: dense, units: 5, bias: false}  # Gemm",
        "  - {name: leaky, type: leaky_relu, negative_slope: 0.2}  # LeakyRelu",
        "  - {name: gate, type: silu}  # Sigmoid, and Mul silu: x times it is silu",
        "  - {name: drop, type: dropout, rate: 0.25}  # Dropout",
        "  - {name: softmax, type: softmax}  # Softmax",
    ]


def test_pads_resizes_joins_and_shuffles(tmp_path: Path) -> None:
    nodes = [
        node("Pad", ["x", "pads"], "pad"),
        node("Pad", ["pad", "crops"], "crop"),
        node("Resize", ["crop", "", "scales"], "up", mode="linear"),
        node("Resize", ["crop", "", "", "sizes"], "sized"),
        node("Conv", ["up", "w"], "conv", kernel_shape=[1, 1]),
        node("Sum", ["conv", "up", "conv"], "sum"),
        node("Mul", ["sum", "up"], "product"),
        node("Concat", ["product", "sum"], "cat", axis=1),
        node("Reshape", ["cat", "grouped"], "split"),
        node("Transpose", ["split"], "swap", perm=[0, 2, 1, 3, 4]),
        node("Reshape", ["swap", "merged"], "merge"),
    ]
    inits = (
        ints("pads", 0, 0, 1, 2, 0, 0, 3, 4),
        ints("crops", 0, 0, -1, 0, 0, 0, 0, -2),
        floats("scales", 1, 1, 2, 2),
        ints("sizes", 1, 4, 9, 5),
        weights("w", 4, 4, 1, 1),
        ints("grouped", 1, 2, 4, 14, 14),
        ints("merged", 1, 8, 14, 14),
    )
    # 4 x 3 padded by 1 and 3, 2 and 4: 8 x 9; cropped by 1 before along H and 2 after along W: 7 x 7
    assert layers(build(tmp_path / "joins.onnx", nodes, [1, 4, 4, 3], inits)) == [
        "  - {name: pad, type: zeropad2d, padding: [[1, 3], [2, 4]]}  # Pad",
        "  - {name: crop, type: crop2d, crop: [[1, 0], [0, 2]]}  # Pad",
        "  - {name: up, type: upsample, scale: 2, mode: bilinear}  # Resize",
        "  - {name: sized, type: upsample, size: [9, 5], from: crop}  # Resize",
        "  - {name: conv, type: conv2d, filters: 4, kernel: 1, bias: false, from: up}  # Conv",
        "  - {name: sum, type: add, from: [conv, up, conv]}  # Sum",
        "  - {name: product, type: multiply, from: [sum, up]}  # Mul",
        "  - {name: cat, type: concat, from: [product, sum]}  # Concat",
        "  - {name: split, type: shuffle, groups: 2}  # Reshape, Transpose swap and Reshape merge",
    ]


def test_upsample_of_opset_9(tmp_path: Path) -> None:
    nodes = [node("Upsample", ["x", "scales"], "up", mode="nearest")]
    path = build(tmp_path / "up.onnx", nodes, [1, 2, 3, 5], (floats("scales", 1, 1, 3, 2),), opset=9)
    assert layers(path) == ["  - {name: up, type: upsample, scale: [3, 2]}  # Upsample"]


def test_symbolic_sizes_become_symbolic_inputs_and_the_batch_goes(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w"], "conv", kernel_shape=[3, 3], strides=[2, 2]),
        node("GlobalAveragePool", ["conv"], "pool"),
    ]
    path = build(tmp_path / "sym.onnx", nodes, ["batch", 3, "height", "width-1"], (weights("w", 4, 3, 3, 3),))
    text = import_file(path).text
    assert text.splitlines()[3] == "input: [height, W, 3]"  # 'width-1' is no size name: W, its axis's letter
    conv = summary_of(text).rows[0]
    assert [str(v) for v in conv.output] == ["floor((height - 3)/2) + 1", "floor((W - 3)/2) + 1", "4"]


def test_an_option_that_changes_with_the_input_size_is_refused(tmp_path: Path) -> None:
    nodes = [node("Resize", ["x", "", "", "sizes"], "resize")]
    path = build(tmp_path / "fixed.onnx", nodes, [1, 3, "H", "W"], (ints("sizes", 1, 3, 64, 64),))
    with pytest.raises(ArchitectureError) as info:
        import_file(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: node 0 (resize) Resize: expected a whole-number scale for a symbolic size, got [256, 320] to "
        "[64, 64] (with H = 256, W = 320 for the symbolic sizes)"
    ]


def test_every_node_that_no_layer_type_expresses_is_listed_at_once(tmp_path: Path) -> None:
    nodes = [
        node("Conv", ["x", "w"], "conv", kernel_shape=[1, 1]),
        helper.make_node("Fancy", ["conv"], ["fancy"], name="fancy", domain="com.example"),
        node("Relu", ["fancy"], "after_fancy"),  # reads a node that failed: nothing more said
        node("Reshape", ["conv", "shape"], "reshape"),
        node("Exp", ["conv"], "exp"),
    ]
    path = build(
        tmp_path / "bad.onnx",
        nodes,
        [1, 3, 4, 4],
        (weights("w", 4, 3, 1, 1), ints("shape", 2, -1)),
        domains=[helper.make_opsetid("com.example", 1)],
    )
    done = run_cli("import-onnx", str(path), "-o", str(tmp_path / "out.yaml"))
    assert done.returncode == 1 and done.stdout == "" and "Traceback" not in done.stderr
    assert done.stderr.splitlines() == [
        f"{path}: node 1 (fancy) com.example.Fancy: an operator of the custom domain 'com.example', which no layer "
        "type expresses",
        f"{path}: node 3 (reshape) Reshape: expected a Reshape that flattens to [N, C*H*W] or starts a channel "
        "shuffle (Reshape, Transpose, Reshape), got [1, 4, 4, 4] to [2, 32]",
        f"{path}: node 4 (exp) Exp: no layer type expresses Exp",
    ]
    assert not (tmp_path / "out.yaml").exists()


def _external(tmp_path: Path) -> Path:
    nodes = [node("Conv", ["x", "w"], "conv", kernel_shape=[1, 1])]
    path = build(tmp_path / "external.onnx", nodes, [1, 3, 4, 4], (weights("w", 4, 3, 1, 1),))
    model = onnx.load(path)
    onnx.save(model, path, save_as_external_data=True, location="external.bin", size_threshold=0)
    (tmp_path / "external.bin").unlink()
    return path


def _outside(tmp_path: Path) -> Path:
    path = _external(tmp_path)
    model = onnx.load(path, load_external_data=False)
    model.graph.initializer[0].external_data[0].value = "../../etc/passwd"
    return _write(path, model.SerializeToString())


def _wrong_size(tmp_path: Path) -> Path:
    nodes = [node("Reshape", ["x", "shape"], "flat")]
    path = build(tmp_path / "wrong.onnx", nodes, [1, 3, 2, 2], (ints("shape", 1, 12),))
    model = onnx.load(path)
    model.graph.initializer[0].raw_data = model.graph.initializer[0].raw_data[:12]  # 1.5 int64 values
    return _write(path, model.SerializeToString())


def _no_nodes(tmp_path: Path) -> Path:
    graph = helper.make_graph([], "g", [], [])
    return _write(tmp_path / "nodes.onnx", helper.make_model(graph).SerializeToString())


def _old_opset(tmp_path: Path) -> Path:
    return build(tmp_path / "old.onnx", [node("Relu", ["x"], "relu")], [1, 3], opset=5)


BROKEN = {
    "empty": (lambda t: _write(t / "empty.onnx", b""), "the file is empty: expected an ONNX model"),
    "truncated": (
        lambda t: _write(t / "cut.onnx", (DATA / "light" / "light_bvlc_alexnet.onnx").read_bytes()[:2000]),
        "expected an ONNX model, got bytes that do not parse as one (a truncated file, or not ONNX)",
    ),
    "not ONNX": (
        lambda t: _write(t / "alexnet.onnx", (ARCHITECTURES / "alexnet.yaml").read_bytes()),
        "expected an ONNX model, got bytes that do not parse as one (a truncated file, or not ONNX)",
    ),
    "missing": (lambda t: t / "nothing.onnx", "cannot read the file: No such file or directory"),
    "external data missing": (
        _external,
        "tensor 'w' keeps its data in 'external.bin' beside the model, which is missing",
    ),
    "outside": (_outside, "tensor 'w' keeps its data in '../../etc/passwd', outside the model's folder"),
    "wrong size": (
        _wrong_size,
        "not a valid ONNX model: TensorProto (tensor name: shape) raw_data size (12 bytes) is too small for the "
        "declared shape and type (16 bytes required).",
    ),
    "no nodes": (_no_nodes, "expected an ONNX model with a graph of nodes, got none (an empty model, or not ONNX)"),
    "too old": (
        _old_opset,
        "expected opset 6 or newer, got opset 5: convert it first, with "
        "onnx.version_converter.convert_version(model, 13)",
    ),
}


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_files_give_one_clear_line(case: str, tmp_path: Path) -> None:
    make, message = BROKEN[case]
    path = make(tmp_path)
    with pytest.raises(ArchitectureError) as info:
        import_file(path)
    assert [str(p) for p in info.value.problems] == [f"{path}: {message}"]


def test_the_command_line(tmp_path: Path) -> None:
    """-o writes the file and says so on standard error, --name names it; a broken file is one
    line and exit 1, with no traceback."""
    path = DATA / "light" / "light_zfnet512.onnx"
    out = tmp_path / "zfnet.yaml"
    done = run_cli("import-onnx", str(path), "-o", str(out), "--name", "ZFNet-512")
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"wrote {out}: 22 layers from {path}\n"
    assert out.read_text(encoding="utf-8") == import_file(path, "ZFNet-512").text
    assert "name: ZFNet-512" in out.read_text(encoding="utf-8").splitlines()
    checked = run_cli("check", str(out))
    assert checked.returncode == 0, checked.stderr
    empty = _write(tmp_path / "empty.onnx", b"")
    done = run_cli("import-onnx", str(empty))
    assert (done.returncode, done.stdout, done.stderr) == (
        1,
        "",
        f"{empty}: the file is empty: expected an ONNX model\n",
    )


def test_names_from_the_file_are_made_valid_and_cannot_break_the_yaml(tmp_path: Path) -> None:
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="input"),  # the name `from` keeps for the network's input
        helper.make_node("Relu", ["a"], ["b"], name="evil\n- {name: x}  # \x1b[31m"),
        helper.make_node("Relu", ["b"], ["c"], name="input"),
        helper.make_node("Relu", ["c"], ["d"], name=""),  # no name: the output's
        helper.make_node("Relu", ["d"], ["e"], name="true"),
    ]
    text = import_file(build(tmp_path / "names.onnx", nodes, [1, 3]), 'A "net": v1').text
    assert text.splitlines()[2:] == [
        'name: "A \\"net\\": v1"',
        "input: [3]",
        "layers:",
        "  - {name: input_, type: relu}  # Relu",
        '  - {name: "evil_- {name: x}  # _[31m", type: relu}  # Relu',
        "  - {name: input_2, type: relu}  # Relu",
        "  - {name: d, type: relu}  # Relu",
        '  - {name: "true", type: relu}  # Relu',
    ]
    with pytest.raises(ArchitectureError) as info:
        import_file(tmp_path / "names.onnx", "two\nlines")
    assert str(info.value) == (
        f"{tmp_path / 'names.onnx'}: --name: expected one line of printable text, got 'two\\nlines' "
        "(a line break (U+000A) at character 4)"
    )


def test_without_onnx_the_command_says_how_to_install_it(tmp_path: Path) -> None:
    """The onnx package hidden (sys.modules[name] = None makes its import fail): one line, exit 1."""
    from .conftest import PYTHON, ROOT

    code = "import sys; sys.modules['onnx'] = None; from cnnmacros.cli import main; sys.exit(main(sys.argv[1:]))"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    import subprocess

    done = subprocess.run(
        [PYTHON, "-c", code, "import-onnx", "model.onnx"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, "", INSTALL + "\n")
    assert INSTALL == "import-onnx needs the onnx package: pip install 'cnnmacros[onnx]'"


@pytest.mark.oracle
def test_batch_norms_folded_by_the_exporters_are_named(tmp_path: Path) -> None:
    """torch.onnx.export folds a batch norm into the convolution before it by default; the bias it
    makes is named so (onnx::Conv_N by TorchScript, WEIGHT_bias by dynamo's optimizer)."""
    import warnings

    torch = pytest.importorskip("torch")
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, bias=False), torch.nn.BatchNorm2d(4)).eval()
    net[1].running_mean.fill_(0.5)  # a bias that is not 0, which the dynamo optimizer keeps
    x = torch.zeros(1, 3, 8, 8)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (x,), tmp_path / "ts.onnx", dynamo=False)
        torch.onnx.export(net, (x,), tmp_path / "dynamo.onnx", dynamo=True, verbose=False)
    ts, dynamo = import_file(tmp_path / "ts.onnx"), import_file(tmp_path / "dynamo.onnx")
    assert "type: batchnorm" not in ts.text + dynamo.text
    tail = (
        "as torch.onnx.export names the bias of a batch norm it folded into the convolution: those layers are "
        "convolutions with biases and no batch norm, which cannot be recovered. Export with "
        "do_constant_folding=False (dynamo=False) or optimize=False (dynamo=True) to keep the batch norms."
    )
    conv = onnx.load(tmp_path / "ts.onnx").graph.node[0]
    assert ts.notes == [
        f"{tmp_path / 'ts.onnx'}: note: the bias of Conv node 0 ({conv.name}) is named {conv.input[2]!r}, {tail}"
    ]
    assert dynamo.notes[0].endswith(f"is named '0.weight_bias', {tail}")


def test_activations_whose_attributes_are_not_pytorchs_are_refused(tmp_path: Path) -> None:
    nodes = [
        node("HardSigmoid", ["x"], "hard"),  # ONNX's default alpha is 0.2, PyTorch's 1/6
        node("Gelu", ["x"], "gelu", approximate="tanh"),
        node("Clip", ["x", "zero", "one"], "clip"),
        node("HardSigmoid", ["x"], "torch_hard", alpha=1 / 6),
    ]
    path = build(tmp_path / "acts.onnx", nodes, [1, 3], (floats("zero", 0.0), floats("one", 1.0)), opset=20)
    with pytest.raises(ArchitectureError) as info:
        import_file(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: node 0 (hard) HardSigmoid: expected alpha 0.166667 (PyTorch's hardsigmoid), got 0.2",
        f"{path}: node 1 (gelu) Gelu: expected approximate 'none' (PyTorch's gelu), got 'tanh'",
        f"{path}: node 2 (clip) Clip: expected bounds 0 and 6 (relu6) or 0 and none (relu), got 0 and 1",
    ]


def test_a_constant_that_would_fill_the_memory_is_not_worked_out(tmp_path: Path) -> None:
    """Range(0, 10^12) is a tensor of 10^12 numbers: its shape is known, its values are not worked
    out, and the Reshape that would need them is refused."""
    import numpy as np

    big = [numpy_helper.from_array(np.array(v, dtype=np.int64), n) for n, v in (("start", 0), ("end", 10**12))]
    nodes = [
        node("Range", ["start", "end", "one"], "range"),
        node("Reshape", ["x", "range"], "reshape"),
    ]
    path = build(tmp_path / "range.onnx", nodes, [1, 3], (*big, numpy_helper.from_array(np.array(1), "one")))
    with pytest.raises(ArchitectureError) as info:
        import_file(path)
    assert [str(p) for p in info.value.problems] == [
        f"{path}: node 1 (reshape) Reshape: ONNX shape inference gives no shape for its output 'reshape'"
    ]
