"""``cnnmacros import-onnx``: an ONNX model in, an architecture file out.

Every compute node becomes one layer of a registered type (``cnnmacros.layers``), named after the
node, with its operator in a comment. Weights are read from initializers, ``Constant`` and
``ConstantOfShape`` nodes; constants and the side graphs that compute shapes (Shape, Gather,
Unsqueeze, Concat feeding a Reshape) are worked out and fold away. A node that no layer type
expresses is refused, every such node at once, so that no file is written that counts something
other than the model. ONNX is channels-first with a batch axis; the file is channels-last without it.

Sizes come from ``onnx.shape_inference`` on a copy whose input has numbers for its sizes. A
symbolic height or width (``H``, ``W`` in the ONNX input) is imported twice, with two sets of
numbers: the two files must agree, so that every option written holds for every size. Before the
file is handed out, the engine computes it and must give ONNX's shape and the parameters of the
node's tensors for every layer.
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cnnmacros.errors import ArchitectureError, NodeProblem, printable

if TYPE_CHECKING:
    import numpy as np
    import onnx

INSTALL = "import-onnx needs the onnx package: pip install 'cnnmacros[onnx]'"
MIN_OPSET = 6
"""The oldest opset of the default domain read: before it, batch norm, the activations and the
elementwise operators carry the in-place ``consumed_inputs`` attribute, and Reshape takes its shape
as an attribute. PyTorch's converted test files are opset 6."""
KNOWN_LIMIT = 1 << 16
"""Values are worked out only for tensors of at most this many elements: shapes, pads, scales."""
DEFAULT_DOMAINS = ("", "ai.onnx")
AXIS_LETTERS = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}
SUBSTITUTES = (256, 384)
"""Numbers for the symbolic sizes in the two imports: the first, then the second, plus 64 for
each further size name (multiples of 64, so that networks that halve the size often fit)."""
FOLDED_BIAS = re.compile(r"onnx::Conv_\d+")
"""torch.onnx.export (TorchScript) names the bias of a convolution it folded a batch norm into."""
MAX_NAME = 200


class UnsupportedNodeError(Exception):
    """A node that no layer type expresses, or that is broken: the message says what is missing."""


class _Failed:
    """The output of a node that could not be imported: later nodes reading it say nothing more."""


FAILED = _Failed()


@dataclass
class Const:
    """A tensor whose value does not depend on the input: a weight, or a computed shape."""

    shape: tuple[int, ...]
    value: np.ndarray | None = None
    """Known for small tensors only."""
    stored: str | None = None
    """The initializer, Constant or ConstantOfShape it is (through layout operators such as
    Identity, Cast, Unsqueeze); None when other operators computed it."""

    @property
    def size(self) -> int:
        return math.prod(self.shape)


@dataclass
class Act:
    """A tensor computed from the input: the output of a layer (or the input itself)."""

    layer: str
    tensor: str
    shape: tuple[int, ...]
    """ONNX's shape, channels first, with the batch."""


@dataclass
class Layer:
    name: str
    type: str
    options: dict[str, Any]
    sources: list[str]
    node: int
    comment: str
    tensor: str | None = None
    """The ONNX tensor whose shape the layer's output must have (None for a layer that a node
    needed besides its own, such as the padding before an asymmetric pool)."""
    params: int | None = None
    """The elements of the node's weight tensors, which the layer must count as parameters."""
    statistics: int = 0
    inputs: list[str] = field(default_factory=list)
    """The ONNX tensors the layer reads."""
    fused: list[str] = field(default_factory=list)


@dataclass
class Imported:
    text: str
    layers: list[Layer]
    notes: list[str]


def command(model: str, output: str | None, name: str | None) -> int:
    """The subcommand: the file to ``output`` (or standard output), notes to standard error."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        print(INSTALL, file=sys.stderr)
        return 1
    result = import_file(model, name)
    for note in result.notes:
        print(note, file=sys.stderr)
    if output is None:
        sys.stdout.write(result.text)
        return 0
    try:
        Path(output).write_text(result.text, encoding="utf-8")
    except OSError as exc:
        print(printable(f"{output}: cannot write the file: {exc.strerror or exc}"), file=sys.stderr)
        return 1
    print(printable(f"wrote {output}: {len(result.layers)} layers from {model}"), file=sys.stderr)
    return 0


def _fail(display: str, message: str) -> ArchitectureError:
    return ArchitectureError([NodeProblem(display, 0, "", message)])


def load(path: str | Path) -> tuple[onnx.ModelProto, onnx.ModelProto]:
    """The model and its light copy (``light_copy``), checked: one located line for a file that is
    missing, empty, truncated, not ONNX, missing its external data, or of an opset the mapper does
    not read."""
    import onnx
    from google.protobuf.message import DecodeError

    display = str(path)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise _fail(display, f"cannot read the file: {exc.strerror or exc}") from None
    if not data:
        raise _fail(display, "the file is empty: expected an ONNX model")
    model = onnx.ModelProto()
    try:
        model.ParseFromString(data)
    except (DecodeError, RuntimeError, ValueError):
        raise _fail(
            display, "expected an ONNX model, got bytes that do not parse as one (a truncated file, or not ONNX)"
        ) from None
    if not model.HasField("graph") or not model.graph.node:
        raise _fail(display, "expected an ONNX model with a graph of nodes, got none (an empty model, or not ONNX)")
    _check_external_data(model, Path(path).parent, display)
    opset = default_opset(model)
    if opset is None:
        raise _fail(display, "expected an opset for the default ONNX domain in opset_import, got none")
    newest = onnx.defs.onnx_opset_version()
    if opset < MIN_OPSET:
        raise _fail(
            display,
            f"expected opset {MIN_OPSET} or newer, got opset {opset}: convert it first, with "
            f"onnx.version_converter.convert_version(model, {max(MIN_OPSET, 13)})",
        )
    if opset > newest:
        raise _fail(display, f"expected opset {newest} or older (onnx {onnx.__version__}), got opset {opset}")
    light = light_copy(model)
    try:  # on the copy without the weights' data, which the checker would only copy
        onnx.checker.check_model(light)
    except onnx.checker.ValidationError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise _fail(display, f"not a valid ONNX model: {first}") from None
    return model, light


def light_copy(model: onnx.ModelProto) -> onnx.ModelProto:
    """The model without the data of its large (or external) initializers, which become inputs of
    their shape: all that the checker and shape inference read of them."""
    import onnx

    graph = model.graph
    light = onnx.ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    light.graph.name = graph.name
    light.graph.node.extend(graph.node)
    large = set()
    for tensor in graph.initializer:
        if math.prod(tensor.dims) <= KNOWN_LIMIT and tensor.data_location != onnx.TensorProto.EXTERNAL:
            light.graph.initializer.append(tensor)
        else:
            large.add(tensor.name)
    light.graph.input.extend(v for v in graph.input if v.name not in large)
    for tensor in graph.initializer:
        if tensor.name in large:
            light.graph.input.append(
                onnx.helper.make_tensor_value_info(tensor.name, tensor.data_type, list(tensor.dims))
            )
    light.graph.output.extend(graph.output)
    return light


def default_opset(model: onnx.ModelProto) -> int | None:
    versions = [o.version for o in model.opset_import if o.domain in DEFAULT_DOMAINS]
    return versions[0] if versions else None


def _check_external_data(model: onnx.ModelProto, base: Path, display: str) -> None:
    """Weights kept in another file must be there, and long enough: a model copied without them
    is refused here rather than half read."""
    import onnx

    tensors = list(model.graph.initializer)
    tensors += [a.t for n in model.graph.node for a in n.attribute if a.type == onnx.AttributeProto.TENSOR]
    for tensor in tensors:
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        entries = {e.key: e.value for e in tensor.external_data}
        location = entries.get("location", "")
        target = (base / location).resolve()
        if location and not target.is_relative_to(base.resolve()):
            raise _fail(display, f"tensor {tensor.name!r} keeps its data in {location!r}, outside the model's folder")
        if not location or not target.is_file():
            raise _fail(
                display,
                f"tensor {tensor.name!r} keeps its data in {location!r} beside the model, which is missing",
            )
        end = int(entries.get("offset", 0) or 0) + int(entries.get("length", 0) or 0)
        if target.stat().st_size < end:
            raise _fail(
                display,
                f"tensor {tensor.name!r} keeps its data in {location!r}, which ends before byte {end:,}",
            )


def import_file(path: str | Path, name: str | None = None) -> Imported:
    """The architecture file of the ONNX model at ``path``; raises ``ArchitectureError`` with every
    problem (each unsupported node, or the one reason the file cannot be read)."""
    from cnnmacros.architecture import name_fault

    display = str(path)
    title = name if name is not None else Path(path).stem
    fault = name_fault(title)
    if fault:
        raise _fail(display, f"--name: expected {fault}" if name is not None else f"the file's name: expected {fault}")
    model, light = load(path)
    network = _network_input(model, display)
    symbols = [d for d in network.dims[2:] if isinstance(d, str)]
    names = list(dict.fromkeys(symbols))
    first = _Importer(model, light, display, network, {s: SUBSTITUTES[0] + 64 * i for i, s in enumerate(names)})
    layers = first.run()
    if names:
        second = _Importer(model, light, display, network, {s: SUBSTITUTES[1] + 64 * i for i, s in enumerate(names)})
        _same_for_every_size(display, first, layers, second.run())
    text = _text(title, Path(path).name, network, layers, first.opset)
    _verify(display, text, layers, first, names)
    return Imported(text, layers, first.notes)


# The network's input -------------------------------------------------------------------------


@dataclass
class NetworkInput:
    tensor: str
    dims: list[int | str]
    """ONNX's dims, channels first: the batch (dropped), the channels, then numbers or size names."""

    def channels_last(self) -> list[int | str]:
        return [*self.dims[2:], self.dims[1]]


def _network_input(model: onnx.ModelProto, display: str) -> NetworkInput:
    from cnnmacros.architecture import is_symbol_name
    from cnnmacros.symbolic import reserved_name

    stored = {t.name for t in model.graph.initializer}
    inputs = [i for i in model.graph.input if i.name not in stored]
    if len(inputs) != 1:
        listed = ", ".join(repr(i.name) for i in inputs) or "none"
        raise _fail(display, f"expected one input besides the initializers, got {len(inputs)}: {listed}")
    (graph_input,) = inputs
    what = f"input {graph_input.name!r}"
    if not graph_input.type.HasField("tensor_type") or not graph_input.type.tensor_type.HasField("shape"):
        raise _fail(display, f"{what}: expected a tensor with a shape, got none")
    dims = list(graph_input.type.tensor_type.shape.dim)
    if not 2 <= len(dims) <= 5:
        raise _fail(
            display,
            f"{what}: expected [N, C], [N, C, L], [N, C, H, W] or [N, C, D, H, W], got {len(dims)} axes",
        )
    channels = dims[1]
    if not channels.HasField("dim_value") or channels.dim_value < 1:
        got = repr(channels.dim_param) if channels.dim_param else "an unknown size"
        raise _fail(display, f"{what}: expected a number of channels in axis 1, got {got}")
    out: list[int | str] = [1, channels.dim_value]
    if dims[0].HasField("dim_value") and dims[0].dim_value > 0:
        out[0] = dims[0].dim_value
    letters = AXIS_LETTERS.get(len(dims) - 2, ())
    for axis, dim in enumerate(dims[2:]):
        if dim.HasField("dim_value") and dim.dim_value > 0:
            out.append(dim.dim_value)
            continue
        param = dim.dim_param
        good = param and is_symbol_name(param) and len(param) <= MAX_NAME and reserved_name(param) is None
        out.append(param if good else letters[axis])
    return NetworkInput(graph_input.name, out)


# One import ----------------------------------------------------------------------------------


class _Importer:
    """One pass over the graph, with numbers for the symbolic sizes."""

    def __init__(
        self, model: onnx.ModelProto, light: onnx.ModelProto, display: str, network: NetworkInput, sizes: dict[str, int]
    ) -> None:
        self.model, self.light, self.display, self.network = model, light, display, network
        self.opset = default_opset(model) or MIN_OPSET
        self.symbolic, self.sizes = bool(sizes), sizes
        self.dims = [sizes.get(d, d) if isinstance(d, str) else d for d in network.dims]
        self.nodes = list(model.graph.node)
        self.elem_types: dict[str, int] = {}
        self.shapes = self._infer()
        self.values: dict[str, Act | Const | _Failed] = {}
        self.layers: list[Layer] = []
        self.by_name: dict[str, Layer] = {}
        self.problems: list[NodeProblem] = []
        self.notes: list[str] = []
        self.absorbed: dict[int, int] = {}  # node -> the node whose layer took it in
        self.consumers: dict[str, list[int]] = {}
        for index, node in enumerate(self.nodes):
            for name in node.input:
                if name:
                    self.consumers.setdefault(name, []).append(index)
        for output in model.graph.output:
            self.consumers.setdefault(output.name, []).append(-1)
        self.folded_biases: list[tuple[int, str]] = []

    # shapes

    def _infer(self) -> dict[str, tuple[int | None, ...]]:
        """Every tensor's shape by ONNX shape inference, on the copy without large tensor data,
        with numbers for the input's sizes."""
        import onnx

        graph = self.model.graph
        light = onnx.ModelProto()
        light.CopyFrom(self.light)
        for value in light.graph.input:
            if value.name == self.network.tensor:
                for dim, size in zip(value.type.tensor_type.shape.dim, self.dims, strict=True):
                    dim.Clear()
                    dim.dim_value = size
        for value in light.graph.output:  # declared output shapes may name what the numbers replace
            value.type.tensor_type.ClearField("shape")
        try:
            inferred = onnx.shape_inference.infer_shapes(light, data_prop=True)
        except Exception as exc:  # InferenceError, ValidationError, and what the C++ side raises
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise _fail(self.display, f"ONNX shape inference failed: {first}") from None
        shapes: dict[str, tuple[int | None, ...]] = {}
        for value in [*inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]:
            if value.type.HasField("tensor_type"):
                self.elem_types[value.name] = value.type.tensor_type.elem_type
                if value.type.tensor_type.HasField("shape"):
                    dims = value.type.tensor_type.shape.dim
                    shapes[value.name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)
        for tensor in graph.initializer:
            shapes[tensor.name] = tuple(tensor.dims)
            self.elem_types[tensor.name] = tensor.data_type
        return shapes

    def _infer_node(self, node: onnx.NodeProto, inputs: list[Any]) -> None:
        """Shapes that the whole-graph inference left open (after pads or sizes it could not work
        out), by inferring this node alone with the constants worked out so far."""
        import onnx
        from onnx import helper, numpy_helper

        if all(_complete(self.shapes.get(o)) for o in node.output if o) or node.op_type in ("If", "Loop", "Scan"):
            return
        types, data = {}, {}
        for name, value in zip(node.input, inputs, strict=False):
            if not name:
                continue
            shape = self.shapes.get(name)
            if shape is None:
                return
            types[name] = helper.make_tensor_type_proto(self.elem_types.get(name, 1), list(shape))
            if isinstance(value, Const) and value.value is not None:
                data[name] = numpy_helper.from_array(value.value, name)
        try:
            schema = onnx.defs.get_schema(node.op_type, self.opset, node.domain)
            result = onnx.shape_inference.infer_node_outputs(
                schema, node, types, data, opset_imports=list(self.model.opset_import)
            )
        except Exception:  # no schema, or inference refuses: the handler reports the missing shape
            return
        for name, value in result.items():
            if value.HasField("tensor_type"):
                self.elem_types[name] = value.tensor_type.elem_type
                if value.tensor_type.HasField("shape"):
                    dims = value.tensor_type.shape.dim
                    self.shapes[name] = tuple(d.dim_value if d.HasField("dim_value") else None for d in dims)

    def shape(self, tensor: str, index: int) -> tuple[int, ...]:
        shape = self.shapes.get(tensor)
        if shape is None or any(d is None for d in shape):
            raise UnsupportedNodeError(f"ONNX shape inference gives no shape for its output {tensor!r}")
        return shape  # type: ignore[return-value]

    # the walk

    def run(self) -> list[Layer]:

        base = str(Path(self.display).parent)
        for tensor in self.model.graph.initializer:
            value = None
            if math.prod(tensor.dims) <= KNOWN_LIMIT:
                try:
                    value = _array(tensor, base)
                except UnsupportedNodeError as exc:
                    raise _fail(self.display, str(exc)) from None
            self.values[tensor.name] = Const(tuple(tensor.dims), value, tensor.name)
        self.values[self.network.tensor] = Act("input", self.network.tensor, tuple(self.dims))
        self.written_out = self._written_out_lrn()
        for index, node in enumerate(self.nodes):
            if index in self.absorbed:
                if self.absorbed[index] in self.written_out:  # shapes inside, for Shape nodes that read them
                    self._infer_node(node, [self.values.get(name) for name in node.input])
                continue
            try:
                if index in self.written_out:
                    self._lrn_from_parts(index, node)
                    continue
                self.node(index, node)
            except UnsupportedNodeError as exc:
                message = str(exc)
                if self.sizes:
                    message += (
                        " (with " + ", ".join(f"{k} = {v}" for k, v in self.sizes.items()) + " for the symbolic sizes)"
                    )
                self.problems.append(self.problem(index, message))
                for output in node.output:
                    self.values[output] = FAILED
        if self.problems:
            raise ArchitectureError(self.problems)
        self._folding_note()
        return self.layers

    def _written_out_lrn(self) -> dict[int, dict[str, int]]:
        """PyTorch's local_response_norm as both exporters write it out, since it is no aten
        operator: x / (k + alpha * avg_pool(pad(x * x)))^beta over a window of channels. Each such
        region ends in a Div; its nodes, found from the Div back to x, become one lrn layer."""
        produced = {o: i for i, node in enumerate(self.nodes) for o in node.output if o}
        dynamic = {self.network.tensor}
        for node in self.nodes:
            if node.op_type not in ("Shape", "Size") and any(n in dynamic for n in _reads(node)):
                dynamic.update(o for o in node.output if o)
        found: dict[int, dict[str, int]] = {}
        for index, node in enumerate(self.nodes):
            if node.op_type != "Div" or len(node.input) != 2 or not all(n in dynamic for n in node.input):
                continue
            x, divisor = node.input
            region: set[int] = set()
            stack = [divisor]
            while stack and len(region) <= 40:
                tensor = stack.pop()
                if tensor == x:
                    continue
                j = produced.get(tensor)
                if j is None or j in region:
                    continue
                region.add(j)
                stack += [n for n in _reads(self.nodes[j]) if n in dynamic]
            parts = self._lrn_parts(x, region, index)
            if parts is not None:
                found[index] = parts
                for j in region:
                    self.absorbed[j] = index
        return found

    def _lrn_parts(self, x: str, region: set[int], div: int) -> dict[str, int] | None:
        if not region or len(region) > 40:
            return None
        inside = region | {div}
        for j in region:
            for output in self.nodes[j].output:
                readers = set(self.consumers.get(output, [])) - inside
                if output and any(r < 0 or self.nodes[r].op_type not in ("Shape", "Size") for r in readers):
                    return None
        parts: dict[str, int] = {}
        for j in region:
            node = self.nodes[j]
            op = node.op_type
            if op == "Mul" and list(node.input) == [x, x]:
                key = "square"
            elif op in ("Mul", "Add", "Pow"):
                key = {"Mul": "alpha", "Add": "k", "Pow": "beta"}[op]
            elif op == "AveragePool":
                key = "pool"
            elif op in ("Pad", "Reshape", "Unsqueeze", "Squeeze", "If", "Identity", "Cast"):
                continue
            else:
                return None
            if key in parts:
                return None
            parts[key] = j
        return parts if set(parts) == {"square", "alpha", "k", "beta", "pool"} else None

    def _lrn_from_parts(self, index: int, node: onnx.NodeProto) -> None:
        parts = self.written_out[index]
        x = self.values.get(node.input[0])
        if x is FAILED:
            self.values[node.output[0]] = FAILED
            return
        if not isinstance(x, Act):
            raise UnsupportedNodeError("expected the input of a written-out local response norm to be computed")
        kernel = [int(k) for k in _attributes(self.nodes[parts["pool"]]).get("kernel_shape", [])]
        if not kernel or any(k != 1 for k in kernel[1:]):
            raise UnsupportedNodeError(f"expected a window over the channels alone, got kernel_shape {kernel}")
        options: dict[str, Any] = {"size": kernel[0]}
        for key, default in (("alpha", 0.0001), ("beta", 0.75), ("k", 1.0)):
            constants = [self.values.get(n) for n in self.nodes[parts[key]].input]
            known = [c for c in constants if isinstance(c, Const) and c.value is not None and c.size == 1]
            if len(known) != 1:
                raise UnsupportedNodeError(f"expected a constant {key} in the written-out local response norm")
            value = _float32(float(known[0].value.reshape(-1)[0]))
            if value != default:
                options[key] = value
        self.shapes[node.output[0]] = x.shape
        ops = ", ".join(sorted({self.nodes[j].op_type for j in self.absorbed if self.absorbed[j] == index}))
        layer = self.emit(
            index, "lrn", options, [x], node.output[0], f"Div, and {ops}: PyTorch's local_response_norm written out"
        )
        self.values[node.output[0]] = Act(layer.name, node.output[0], x.shape)

    def problem(self, index: int, message: str) -> NodeProblem:
        node = self.nodes[index]
        op = node.op_type if node.domain in DEFAULT_DOMAINS else f"{node.domain}.{node.op_type}"
        label = node.name or (node.output[0] if node.output else "")
        return NodeProblem(self.display, index + 1, f"node {index} ({label}) {op}", message)

    def node(self, index: int, node: onnx.NodeProto) -> None:
        if node.domain not in DEFAULT_DOMAINS:
            raise UnsupportedNodeError(
                f"an operator of the custom domain {node.domain!r}, which no layer type expresses"
            )
        inputs = []
        for name in node.input:
            if not name:
                inputs.append(None)
            elif name not in self.values and node.op_type in ("Shape", "Size") and _complete(self.shapes.get(name)):
                inputs.append(Const(self.shapes[name]))  # the shape of a tensor inside a region taken in
            elif name not in self.values:
                raise UnsupportedNodeError(f"reads {name!r}, which no earlier node writes")
            else:
                inputs.append(self.values[name])
        if any(v is FAILED for v in inputs):
            for output in node.output:
                self.values[output] = FAILED
            return
        self._infer_node(node, inputs)
        present = [v for v in inputs if v is not None]
        if node.op_type == "CastLike":  # only the second input's element type counts
            present = present[:1]
        if node.op_type in ("Shape", "Size") or all(isinstance(v, Const) for v in present):
            if node.op_type not in NEVER_FOLDED:
                self._fold(index, node, inputs)
                return
        handler = HANDLERS.get(node.op_type)
        if handler is None:
            raise UnsupportedNodeError(f"no layer type expresses {node.op_type}")
        handler(_Node(self, index, node, inputs))

    # constants

    def _fold(self, index: int, node: onnx.NodeProto, inputs: list[Any]) -> None:
        """Works out a node whose inputs do not depend on the network's input (and Shape of any
        tensor): its outputs' shapes, their values when small, and whether they are stored weights."""
        import numpy as np
        from onnx import helper

        op = node.op_type
        outputs = list(node.output)
        if op == "Constant":
            attribute = node.attribute[0] if node.attribute else None
            if attribute is None:
                raise UnsupportedNodeError("a Constant without a value")
            if attribute.name == "value":
                tensor = attribute.t
                value = None
                if math.prod(tensor.dims) <= KNOWN_LIMIT:
                    value = _array(tensor, str(Path(self.display).parent))
                self.values[outputs[0]] = Const(tuple(tensor.dims), value, outputs[0])
                return
            if attribute.name == "sparse_value":
                self.values[outputs[0]] = Const(tuple(attribute.sparse_tensor.dims), None, outputs[0])
                return
            value = np.array(helper.get_attribute_value(attribute))
            self.values[outputs[0]] = Const(tuple(value.shape), value, outputs[0])
            return
        if op == "ConstantOfShape":
            wanted = inputs[0].value
            if wanted is None:
                raise UnsupportedNodeError("ConstantOfShape with a shape that is not worked out")
            shape = tuple(int(v) for v in np.asarray(wanted).reshape(-1))
            value = None
            if math.prod(shape) <= KNOWN_LIMIT:
                fill = node.attribute[0].t if node.attribute else None
                fill_value = _array(fill, "").reshape(-1)[0] if fill is not None else np.float32(0)
                value = np.full(shape, fill_value)
            self.values[outputs[0]] = Const(shape, value, outputs[0])
            return
        if op == "CastLike":
            source, like = inputs[0], node.input[1]
            value = source.value
            if value is not None:
                value = value.astype(helper.tensor_dtype_to_np_dtype(self.elem_types.get(like, 1)))
            self.values[outputs[0]] = Const(source.shape, value, source.stored)
            return
        if op in ("Shape", "Size"):
            source = inputs[0]
            dims = source.shape if isinstance(source, (Act, Const)) else ()
            if op == "Size":
                self.values[outputs[0]] = Const((), np.array(math.prod(dims), dtype=np.int64))
                return
            attrs = _attributes(node)
            start, end = attrs.get("start", 0), attrs.get("end", None)
            picked = list(dims)[start:end]
            self.values[outputs[0]] = Const((len(picked),), np.array(picked, dtype=np.int64))
            return
        stored = inputs[0].stored if op in LAYOUT_OPERATORS and inputs and inputs[0] is not None else None
        values: list[Any] = [None] * len(outputs)
        known = all(v is None or v.value is not None for v in inputs)
        small = all(_complete(self.shapes.get(o)) and math.prod(self.shapes[o]) <= KNOWN_LIMIT for o in outputs if o)
        # outputs of an unknown shape are worked out only from operators that cannot make a tensor
        # larger than their inputs: Expand or Range of a few numbers could fill the memory
        bounded = op not in GROWING and all(v is None or v.size <= KNOWN_LIMIT for v in inputs)
        if known and (small or bounded):
            values = _evaluate(node, inputs, self.opset)
        for output, value in zip(outputs, values, strict=True):
            if not output:
                continue
            if value is not None and not _complete(self.shapes.get(output)):
                self.shapes[output] = tuple(value.shape)
            if value is not None and value.size > KNOWN_LIMIT:
                value = None
            self.values[output] = Const(tuple(self.shape(output, index)), value, stored)

    def _folding_note(self) -> None:
        if not self.folded_biases:
            return
        index, bias = self.folded_biases[0]
        node = self.nodes[index]
        label = node.name or node.output[0]
        if len(self.folded_biases) == 1:
            which = f"the bias of Conv node {index} ({label}) is named {bias!r},"
        else:
            which = (
                f"the biases of {len(self.folded_biases)} Conv nodes (the first: node {index}, {label}, "
                f"{bias!r}) are named"
            )
        self.notes.append(
            printable(
                f"{self.display}: note: {which} as torch.onnx.export names the bias of a batch norm it folded "
                "into the convolution: those layers are convolutions with biases and no batch norm, which cannot "
                "be recovered. Export with do_constant_folding=False (dynamo=False) or optimize=False "
                "(dynamo=True) to keep the batch norms."
            )
        )

    # layers

    def emit(
        self,
        index: int,
        type_: str,
        options: dict[str, Any],
        sources: list[Act],
        tensor: str | None,
        comment: str,
        params: int | None = None,
        statistics: int = 0,
        suffix: str = "",
    ) -> Layer:
        layer = Layer(
            self._unique(self._base_name(index) + suffix),
            type_,
            options,
            [a.layer for a in sources],
            index,
            comment,
            tensor,
            params,
            statistics,
            [a.tensor for a in sources],
        )
        self.layers.append(layer)
        self.by_name[layer.name] = layer
        return layer

    def _base_name(self, index: int) -> str:
        node = self.nodes[index]
        base = node.name or (node.output[0] if node.output else "") or f"{node.op_type}_{index}"
        base = "".join(c if c.isprintable() else "_" for c in base).strip() or f"{node.op_type}_{index}"
        return base[: MAX_NAME - 10]

    def _unique(self, base: str) -> str:
        name = base if base != "input" else "input_"
        count = 1
        while name in self.by_name:
            count += 1
            name = f"{base}_{count}"
        return name

    def single_consumer(self, tensor: str) -> bool:
        return len(self.consumers.get(tensor, [])) == 1


def _array(tensor: onnx.TensorProto, base: str) -> np.ndarray:
    """A small tensor's values; data that do not fit the tensor's shape are a node's problem."""
    from onnx import numpy_helper

    try:
        return numpy_helper.to_array(tensor, base_dir=base)
    except Exception as exc:  # ValueError for a wrong size, and whatever the external-data reader raises
        raise UnsupportedNodeError(f"the data of tensor {tensor.name!r} do not fit its shape: {exc}") from None


def _reads(node: onnx.NodeProto) -> list[str]:
    """The tensors a node reads, the outer ones its subgraphs (If, Loop) read included."""
    import onnx

    names = [n for n in node.input if n]
    for attribute in node.attribute:
        graphs = [attribute.g] if attribute.type == onnx.AttributeProto.GRAPH else list(attribute.graphs)
        for graph in graphs:
            for inner in graph.node:
                names += _reads(inner)
    return names


def _complete(shape: tuple[int | None, ...] | None) -> bool:
    return shape is not None and all(d is not None for d in shape)


def _attributes(node: onnx.NodeProto) -> dict[str, Any]:
    from onnx import helper

    out = {}
    for attribute in node.attribute:
        value = helper.get_attribute_value(attribute)
        out[attribute.name] = value.decode() if isinstance(value, bytes) else value
    return out


def _evaluate(node: onnx.NodeProto, inputs: list[Any], opset: int) -> list[Any]:
    """The node's outputs by ONNX's reference implementation (small tensors only), or Nones."""
    from onnx.reference import ReferenceEvaluator

    feeds = {name: v.value for name, v in zip(node.input, inputs, strict=False) if name and v is not None}
    try:
        results = ReferenceEvaluator(node, opsets={"": opset}).run(None, feeds)
    except Exception:  # an operator the reference does not implement: its values stay unknown
        return [None] * len(node.output)
    return list(results) + [None] * (len(node.output) - len(results))


NEVER_FOLDED = frozenset({"RandomNormal", "RandomUniform", "RandomNormalLike", "RandomUniformLike", "Multinomial"})
GROWING = frozenset({"Expand", "Tile", "Range", "Pad", "Resize", "Upsample", "OneHot", "ConstantOfShape", "MatMul"})
LAYOUT_OPERATORS = frozenset(
    {"Identity", "Cast", "CastLike", "Reshape", "Squeeze", "Unsqueeze", "Flatten", "Transpose"}
)


# Nodes ---------------------------------------------------------------------------------------


class _Node:
    """One compute node as the handlers see it."""

    def __init__(self, importer: _Importer, index: int, node: onnx.NodeProto, inputs: list[Any]) -> None:
        self.importer, self.index, self.proto, self.inputs = importer, index, node, inputs
        self.op = node.op_type
        self.attrs = _attributes(node)
        self.opset = importer.opset
        self.output = node.output[0] if node.output else ""
        """The tensor the node's layer writes (the last node's, for a layer that takes in several)."""

    def attr(self, name: str, default: Any = None) -> Any:
        return self.attrs.get(name, default)

    def act(self, i: int) -> Act:
        value = self.inputs[i] if i < len(self.inputs) else None
        if not isinstance(value, Act):
            raise UnsupportedNodeError(f"expected input {i} to be computed from the network's input, got a constant")
        return value

    def const(self, i: int, what: str) -> Const | None:
        value = self.inputs[i] if i < len(self.inputs) else None
        if value is None:
            return None
        if not isinstance(value, Const):
            raise UnsupportedNodeError(
                f"expected {what} (input {i}) to be a constant, got a tensor computed from the input"
            )
        return value

    def known(self, i: int, what: str) -> Any:
        """The value of a small constant input (a shape, pads, scales), or None when absent."""
        value = self.const(i, what)
        if value is None:
            return None
        if value.value is None:
            raise UnsupportedNodeError(
                f"expected {what} (input {i}) to be worked out, got a value computed by operators "
                "that import-onnx does not evaluate"
            )
        return value.value

    def out_shape(self) -> tuple[int, ...]:
        return self.importer.shape(self.output, self.index)

    def extra_outputs_unused(self, what: str) -> None:
        for name in list(self.proto.output)[1:]:
            if name and self.importer.consumers.get(name):
                raise UnsupportedNodeError(f"its output {name!r} ({what}) is used, which no layer type gives")

    def emit(self, type_: str, options: dict[str, Any], sources: list[Act], comment: str = "", **more: Any) -> Layer:
        note = self.op + (comment if comment.startswith(",") else f" {comment}" if comment else "")
        tensor = more.pop("tensor", self.output)
        layer = self.importer.emit(self.index, type_, options, sources, tensor, note, **more)
        if tensor is not None:
            self.importer.values[tensor] = Act(layer.name, tensor, self.importer.shape(tensor, self.index))
        return layer

    def alias(self, act: Act, output: str | None = None) -> None:
        """The node's output is ``act``'s layer's output (a node taken into an earlier layer)."""
        name = output or self.output
        self.importer.values[name] = Act(act.layer, name, self.importer.shape(name, self.index))
        layer = self.importer.by_name.get(act.layer)
        if layer is not None:
            layer.tensor = name


def _spatial(act: Act, what: str) -> int:
    rank = len(act.shape) - 2
    if rank not in (1, 2, 3):
        raise UnsupportedNodeError(
            f"expected an input with 1 to 3 spatial axes for {what}, got shape {list(act.shape)}"
        )
    return rank


def _window_weights(options: dict[str, Any], dilation, groups: int, has_bias: bool, w, bias) -> int:  # noqa: ANN001
    """The keys a convolution and a transposed one write alike (dilation, groups, bias), into
    ``options``; and their parameter count, the weights and the bias if it has one."""
    if any(d != 1 for d in dilation):
        options["dilation"] = _one(dilation)
    if groups != 1:
        options["groups"] = groups
    if not has_bias:
        options["bias"] = False
    return w.size + (bias.size if has_bias else 0)


def _one(values: list[int] | tuple[int, ...]) -> int | list[int]:
    """One number when every axis has it, else the list."""
    values = [int(v) for v in values]
    return values[0] if len(set(values)) == 1 else values


def _pads(n: _Node, rank: int) -> tuple[list[int], list[int]]:
    pads = list(n.attr("pads", [0] * (2 * rank)))
    if len(pads) != 2 * rank:
        raise UnsupportedNodeError(f"expected {2 * rank} pads, got {pads}")
    return [int(p) for p in pads[:rank]], [int(p) for p in pads[rank:]]


def _auto_pads(
    n: _Node, sizes: tuple[int, ...], kernel: list[int], stride: list[int], dilation: list[int]
) -> tuple[list[int], list[int]] | None:
    """The pads that auto_pad SAME_UPPER or SAME_LOWER gives (None for NOTSET and VALID handled by the caller)."""
    mode = n.attr("auto_pad", "NOTSET")
    rank = len(kernel)
    if mode in ("NOTSET", ""):
        return _pads(n, rank)
    if mode == "VALID":
        return [0] * rank, [0] * rank
    if mode not in ("SAME_UPPER", "SAME_LOWER"):
        raise UnsupportedNodeError(f"expected auto_pad NOTSET, VALID, SAME_UPPER or SAME_LOWER, got {mode!r}")
    before, after = [], []
    for i, k, s, d in zip(sizes, kernel, stride, dilation, strict=True):
        total = max((-(-i // s) - 1) * s + (k - 1) * d + 1 - i, 0)
        small, large = total // 2, total - total // 2
        before.append(small if mode == "SAME_UPPER" else large)
        after.append(large if mode == "SAME_UPPER" else small)
    return before, after


def _conv(n: _Node) -> None:
    x = n.act(0)
    rank = _spatial(x, "Conv")
    w = n.const(1, "the weights")
    if w is None or len(w.shape) != rank + 2:
        raise UnsupportedNodeError(f"expected weights with {rank + 2} axes, got {list(w.shape) if w else 'none'}")
    kernel = list(w.shape[2:])
    declared = n.attr("kernel_shape")
    if declared is not None and list(declared) != kernel:
        raise UnsupportedNodeError(f"expected kernel_shape to match the weights {kernel}, got {list(declared)}")
    groups = int(n.attr("group", 1))
    filters, per_group = w.shape[0], w.shape[1]
    if per_group * groups != x.shape[1]:
        raise UnsupportedNodeError(
            f"expected weights for {x.shape[1]} input channels in {groups} groups, got {per_group} per group"
        )
    stride = list(n.attr("strides", [1] * rank))
    dilation = list(n.attr("dilations", [1] * rank))
    bias = n.const(2, "the bias") if len(n.inputs) > 2 else None
    has_bias = bias is not None and not _computed_zeros(bias)
    if bias is not None and bias.stored and (FOLDED_BIAS.fullmatch(bias.stored) or _fused_name(w, bias)):
        n.importer.folded_biases.append((n.index, bias.stored))
    options: dict[str, Any] = {"filters": filters, "kernel": _one(kernel)}
    if any(s != 1 for s in stride):
        options["stride"] = _one(stride)
    layers_before: list[Act] = [x]
    comment = ""
    mode = n.attr("auto_pad", "NOTSET")
    if mode == "SAME_UPPER":
        options["padding"] = "same"  # TensorFlow's rule, which the layer follows with a stride too
    else:
        if mode == "SAME_LOWER" and n.importer.symbolic and any(s != 1 for s in stride):
            raise UnsupportedNodeError(
                "auto_pad SAME_LOWER with a stride pads by the input's size, which no layer writes for a symbolic size"
            )
        before, after = _auto_pads(n, x.shape[2:], kernel, stride, dilation)
        if before != after:
            pad = n.importer.emit(
                n.index,
                f"zeropad{rank}d",
                {"padding": [[b, a] for b, a in zip(before, after, strict=True)]},
                [x],
                None,
                f"{n.op} asymmetric pads {before + after}: the zeros before the convolution",
                suffix=".pad",
            )
            layers_before = [Act(pad.name, "", x.shape)]
            comment = "(its pads in the layer before)"
        elif any(before):
            options["padding"] = _one(before)
    params = _window_weights(options, dilation, groups, has_bias, w, bias)
    if has_bias and bias.size != filters:
        raise UnsupportedNodeError(f"expected a bias of {filters} values, got {bias.size}")
    n.emit(f"conv{rank}d", options, layers_before, comment, params=params)


def _computed_zeros(value: Const) -> bool:
    """A bias that the graph computes as zeros (torch's dynamo export without optimization expands a
    0 for a convolution without bias) is no parameter."""
    return value.stored is None and value.value is not None and not value.value.any()


def _fused_name(weight: Const, bias: Const) -> bool:
    """The dynamo exporter's optimizer names the bias of a folded batch norm after the weight."""
    return bool(weight.stored and bias.stored == f"{weight.stored}_bias")


def _conv_transpose(n: _Node) -> None:
    x = n.act(0)
    rank = _spatial(x, "ConvTranspose")
    w = n.const(1, "the weights")
    if w is None or len(w.shape) != rank + 2:
        raise UnsupportedNodeError(f"expected weights with {rank + 2} axes, got {list(w.shape) if w else 'none'}")
    groups = int(n.attr("group", 1))
    if w.shape[0] != x.shape[1]:
        raise UnsupportedNodeError(f"expected weights for {x.shape[1]} input channels, got {w.shape[0]}")
    filters = w.shape[1] * groups
    kernel = list(w.shape[2:])
    stride = list(n.attr("strides", [1] * rank))
    dilation = list(n.attr("dilations", [1] * rank))
    extra = list(n.attr("output_padding", [0] * rank))
    out = n.out_shape()
    if n.attr("output_shape") is not None or n.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID", ""):
        if n.importer.symbolic:
            raise UnsupportedNodeError(
                "output_shape or auto_pad SAME sets the padding by the input's size, which no layer "
                "writes for a symbolic size"
            )
        before, after = [], []
        for i, k, s, d, p, o in zip(x.shape[2:], kernel, stride, dilation, extra, out[2:], strict=True):
            total = s * (i - 1) + p + (k - 1) * d + 1 - o
            if total < 0:
                raise UnsupportedNodeError(f"expected an output_shape that the kernel reaches, got {list(out[2:])}")
            small, large = total // 2, total - total // 2
            upper = n.attr("auto_pad", "NOTSET") == "SAME_UPPER"
            before.append(small if upper else large)
            after.append(large if upper else small)
    elif n.attr("auto_pad", "NOTSET") == "VALID":
        before, after = [0] * rank, [0] * rank
    else:
        before, after = _pads(n, rank)
    both = [min(b, a) for b, a in zip(before, after, strict=True)]
    bias = n.const(2, "the bias") if len(n.inputs) > 2 else None
    has_bias = bias is not None and not _computed_zeros(bias)
    options: dict[str, Any] = {"filters": filters, "kernel": _one(kernel)}
    if any(s != 1 for s in stride):
        options["stride"] = _one(stride)
    if any(both):
        options["padding"] = _one(both)
    if any(extra):
        options["output_padding"] = _one(extra)
    params = _window_weights(options, dilation, groups, has_bias, w, bias)
    if before == after:
        n.emit(f"convtranspose{rank}d", options, [x], params=params)
        return
    layer = n.emit(
        f"convtranspose{rank}d",
        options,
        [x],
        "(its asymmetric pads in the crop after it)",
        params=params,
        tensor=None,
        suffix=".uncropped",
    )
    crop = [[b - m, a - m] for b, a, m in zip(before, after, both, strict=True)]
    n.emit(f"crop{rank}d", {"crop": crop}, [Act(layer.name, "", x.shape)], f"asymmetric pads {before + after}")


def _pool(n: _Node) -> None:
    x = n.act(0)
    rank = _spatial(x, n.op)
    mode = "max" if n.proto.op_type == "MaxPool" else "avg"
    n.extra_outputs_unused("the indices")
    kernel = [int(k) for k in n.attr("kernel_shape", [])]
    if len(kernel) != rank:
        raise UnsupportedNodeError(f"expected kernel_shape with {rank} sizes, got {kernel}")
    stride = [int(s) for s in n.attr("strides", [1] * rank)]
    dilation = [int(d) for d in n.attr("dilations", [1] * rank)]
    if any(d != 1 for d in dilation):
        raise UnsupportedNodeError(f"expected dilations of 1 (no layer type dilates a pool), got {dilation}")
    ceil = bool(n.attr("ceil_mode", 0))
    include = bool(n.attr("count_include_pad", 0))
    auto = n.attr("auto_pad", "NOTSET")
    if auto in ("SAME_UPPER", "SAME_LOWER") and n.importer.symbolic and any(s != 1 for s in stride):
        raise UnsupportedNodeError(
            f"auto_pad {auto} with a stride pads by the input's size, which no layer writes for a symbolic size"
        )
    before, after = _auto_pads(n, x.shape[2:], kernel, stride, dilation)
    options: dict[str, Any] = {"pool": _one(kernel), "stride": _one(stride)}
    comment = ""
    sources = [x]
    half_ok = all(b <= k // 2 for b, k in zip(before, kernel, strict=True))
    if before == after and half_ok:
        padding = before
    elif (
        not ceil
        and half_ok
        and (mode == "max" or not include)
        and all(a >= b for b, a in zip(before, after, strict=True))
        and all(
            _ceil_equivalent(n, i, k, s, b, a)
            for i, k, s, b, a in zip(x.shape[2:], kernel, stride, before, after, strict=True)
        )
    ):
        padding, ceil = before, True
        comment = f"(pads {before + after}: the extra end padding is ceil mode's last window)"
    else:
        pad = n.importer.emit(
            n.index,
            f"zeropad{rank}d",
            {"padding": [[b, a] for b, a in zip(before, after, strict=True)]},
            [x],
            None,
            f"{n.op} pads {before + after}"
            + ("" if mode == "avg" and include else ", with zeros where ONNX leaves padding out (sizes are the same)"),
            suffix=".pad",
        )
        sources = [Act(pad.name, "", x.shape)]
        padding = [0] * rank
        include = True
        comment = "(its pads in the layer before)"
    if any(padding):
        options["padding"] = _one(padding)
    if ceil:
        options["ceil_mode"] = True
    if mode == "avg" and any(padding) and not include:
        options["count_include_pad"] = False
    n.emit(f"{mode}pool{rank}d", options, sources, comment)


def _ceil_equivalent(n: _Node, size: int, k: int, s: int, before: int, after: int) -> bool:
    """Whether the extra padding at the end gives what ceil mode gives with the padding before on
    both sides: always when it is one less than the stride, else (for numeric sizes only) when
    the numbers agree."""
    extra = after - before
    if extra in (0, s - 1):
        return True
    if n.importer.symbolic:
        return False
    span = size + 2 * before - k
    return span >= 0 and (span + extra) // s == -(-span // s)


def _global_pool(n: _Node) -> None:
    x = n.act(0)
    _spatial(x, n.op)
    n.emit("globalavgpool" if n.op == "GlobalAveragePool" else "globalmaxpool", {"keepdims": True}, [x])


def _reduce(n: _Node) -> None:
    x = n.act(0)
    rank = _spatial(x, n.op)
    axes = n.attr("axes")
    if axes is None and len(n.inputs) > 1:
        axes = n.known(1, "the axes")
        axes = None if axes is None else [int(a) for a in axes.reshape(-1)]
    dims = len(x.shape)
    normal = sorted({int(a) % dims for a in axes}) if axes is not None else None
    if normal != list(range(2, 2 + rank)):
        raise UnsupportedNodeError(
            f"expected a reduction over the spatial axes {list(range(2, 2 + rank))}, got axes {axes}: only that "
            "is a global pool"
        )
    keep = bool(n.attr("keepdims", 1))
    kind = "globalavgpool" if n.op == "ReduceMean" else "globalmaxpool"
    n.emit(kind, {"keepdims": keep}, [x])


def _gemm(n: _Node) -> None:
    x = n.act(0)
    if len(x.shape) != 2:
        raise UnsupportedNodeError(f"expected a matrix [N, K] as input, got shape {list(x.shape)}")
    if n.attr("transA", 0):
        raise UnsupportedNodeError("expected transA 0, got 1: the input transposed")
    w = n.const(1, "the weights")
    if w is None or len(w.shape) != 2:
        raise UnsupportedNodeError("expected weights with 2 axes")
    units, inputs = (w.shape[0], w.shape[1]) if n.attr("transB", 0) else (w.shape[1], w.shape[0])
    if inputs != x.shape[1]:
        raise UnsupportedNodeError(f"expected weights for {x.shape[1]} inputs, got {inputs}")
    bias = n.const(2, "the bias") if len(n.inputs) > 2 else None
    has_bias = bias is not None and not _computed_zeros(bias)
    if has_bias and bias.size != units:
        raise UnsupportedNodeError(f"expected a bias of {units} values, got shape {list(bias.shape)}")
    options: dict[str, Any] = {"units": units}
    if not has_bias:
        options["bias"] = False
    n.emit("dense", options, [x], params=w.size + (bias.size if has_bias else 0))


def _matmul(n: _Node) -> None:
    x = n.act(0)
    w = n.const(1, "the weights")
    if len(x.shape) != 2 or w is None or len(w.shape) != 2:
        raise UnsupportedNodeError(
            "expected a matrix [N, K] times constant weights [K, units], got shapes "
            f"{list(x.shape)} and {list(w.shape) if w else 'none'}: only that is a dense layer"
        )
    if w.shape[0] != x.shape[1]:
        raise UnsupportedNodeError(f"expected weights for {x.shape[1]} inputs, got {w.shape[0]}")
    n.emit("dense", {"units": w.shape[1], "bias": False}, [x], params=w.size)


def _batchnorm(n: _Node) -> None:
    x = n.act(0)
    if len(x.shape) < 2:
        raise UnsupportedNodeError(f"expected an input with channels, got shape {list(x.shape)}")
    if n.opset < 9 and n.attr("spatial", 1) == 0:
        raise UnsupportedNodeError(
            "expected spatial 1, got 0: statistics for every position, which no layer type keeps"
        )
    if n.attr("training_mode", 0):
        raise UnsupportedNodeError("expected training_mode 0, got 1: the batch's statistics, not running ones")
    n.extra_outputs_unused("training statistics")
    channels = x.shape[1]
    tensors = [
        n.const(i, what) for i, what in enumerate(("", "the scale", "the shift", "the mean", "the variance")) if i > 0
    ]
    for tensor in tensors:
        if tensor is None or tensor.size != channels:
            raise UnsupportedNodeError(f"expected scale, shift, mean and variance of {channels} values each")
    n.emit("batchnorm", {}, [x], params=2 * channels, statistics=2 * channels)


def _lrn(n: _Node) -> None:
    x = n.act(0)
    _spatial(x, "LRN")
    options: dict[str, Any] = {"size": int(n.attr("size"))}
    for key, onnx_key, default in (("alpha", "alpha", 0.0001), ("beta", "beta", 0.75), ("k", "bias", 1.0)):
        value = _float32(n.attr(onnx_key, default))
        if value != default:
            options[key] = value
    n.emit("lrn", options, [x])


def _float32(value: float) -> float:
    """The shortest decimal that reads back as the same float32 (ONNX keeps attributes as float32)."""
    import numpy as np

    return float(np.format_float_positional(np.float32(value), unique=True, trim="-")) if value else 0.0


def _dropout(n: _Node) -> None:
    x = n.act(0)
    n.extra_outputs_unused("the mask")
    rate = n.attr("ratio", 0.5)
    if len(n.inputs) > 1 and n.inputs[1] is not None:
        known = n.known(1, "the ratio")
        rate = float(known.reshape(-1)[0])
    rate = _float32(rate)
    n.emit("dropout", {} if rate == 0.5 else {"rate": rate}, [x])


def _activation(type_: str) -> Callable[[_Node], None]:
    def handle(n: _Node) -> None:
        n.emit(type_, {}, [n.act(0)])

    return handle


def _leaky_relu(n: _Node) -> None:
    slope = _float32(n.attr("alpha", 0.01))
    n.emit("leaky_relu", {} if slope == 0.01 else {"negative_slope": slope}, [n.act(0)])


def _fixed(type_: str, **expected: tuple[float | str, float | str]) -> Callable[[_Node], None]:
    """An activation whose ONNX attributes must have PyTorch's values, the layer type having no
    options: ``key=(PyTorch's value, ONNX's default)``."""

    def handle(n: _Node) -> None:
        for key, (value, default) in expected.items():
            got = n.attr(key, default)
            same = got == value if isinstance(value, str) else math.isclose(got, value, rel_tol=1e-6)
            if not same:
                raise UnsupportedNodeError(f"expected {key} {_shown(value)} (PyTorch's {type_}), got {_shown(got)}")
        n.emit(type_, {}, [n.act(0)])

    return handle


def _shown(value: float | str) -> str:
    return repr(value) if isinstance(value, str) else f"{value:g}"


def _clip(n: _Node) -> None:
    x = n.act(0)
    if n.opset < 11:
        low, high = n.attr("min", -math.inf), n.attr("max", math.inf)
    else:
        low_value = n.known(1, "the minimum") if len(n.inputs) > 1 else None
        high_value = n.known(2, "the maximum") if len(n.inputs) > 2 else None
        low = -math.inf if low_value is None else float(low_value.reshape(-1)[0])
        high = math.inf if high_value is None else float(high_value.reshape(-1)[0])
    if low == 0 and high == 6:
        n.emit("relu6", {}, [x])
    elif low == 0 and (high == math.inf or high >= 3.4e38):
        n.emit("relu", {}, [x])
    else:
        raise UnsupportedNodeError(f"expected bounds 0 and 6 (relu6) or 0 and none (relu), got {low:g} and {high:g}")


def _softmax(n: _Node) -> None:
    x = n.act(0)
    default = 1 if n.opset < 13 else -1
    axis = int(n.attr("axis", default)) % len(x.shape)
    # before opset 13, a softmax over axis 1 spans every axis after it: the channels alone only
    # when the positions are one
    if axis == 1 and (n.opset >= 13 or math.prod(x.shape[2:]) == 1):
        n.emit("softmax", {}, [x])
    else:
        raise UnsupportedNodeError(
            f"expected a softmax over the channels (axis 1), got axis {axis} of shape {list(x.shape)}"
        )


def _prelu(n: _Node) -> None:
    x = n.act(0)
    slope = n.const(1, "the slopes")
    if slope is None:
        raise UnsupportedNodeError("expected slopes")
    if slope.size == 1:
        n.emit("prelu", {}, [x], params=1)
    elif len(x.shape) >= 2 and slope.size == x.shape[1] and (slope.shape[0] == x.shape[1] or slope.shape[:1] == (1,)):
        n.emit("prelu", {"shared": False}, [x], params=slope.size)
    else:
        raise UnsupportedNodeError(f"expected one slope or one per channel, got shape {list(slope.shape)}")


def _join(type_: str) -> Callable[[_Node], None]:
    def handle(n: _Node) -> None:
        acts = [v for v in n.inputs if isinstance(v, Act)]
        consts = [v for v in n.inputs if isinstance(v, Const)]
        if consts:
            if len(acts) == 1 and len(consts) == 1 and n.op in ("Add", "Mul"):
                _with_constant(n, acts[0], consts[0])
                return
            raise UnsupportedNodeError(
                f"{'adds' if n.op != 'Mul' else 'multiplies by'} a constant of shape {list(consts[0].shape)}, which "
                "no layer type does"
            )
        if type_ == "multiply" and len(acts) == 2 and _fuse_gate(n, acts):
            return
        ranks = {len(a.shape) for a in acts}
        if len(ranks) != 1:
            raise UnsupportedNodeError(
                f"expected inputs with the same number of axes, got {[list(a.shape) for a in acts]}"
            )
        if len(acts) == 1:
            n.alias(acts[0])
            return
        n.emit(type_, {}, acts)

    return handle


def _fuse_gate(n: _Node, acts: list[Act]) -> bool:
    """x * sigmoid(x) is SiLU, and x * hardsigmoid(x) hard swish, when the gate feeds nothing else."""
    importer = n.importer
    for x, gate in (acts, acts[::-1]):
        layer = importer.by_name.get(gate.layer)
        if layer is None or layer.type not in ("sigmoid", "hardsigmoid") or layer.inputs != [x.tensor]:
            continue
        if layer.tensor != gate.tensor or not importer.single_consumer(gate.tensor):
            continue
        layer.type = "silu" if layer.type == "sigmoid" else "hardswish"
        layer.comment += f", and Mul {n.proto.name or n.output}: x times it is {layer.type}"
        n.alias(gate)
        return True
    return False


def _with_constant(n: _Node, x: Act, c: Const) -> None:
    """A constant added or multiplied where a layer takes it in: a dense layer's or a convolution's
    bias, or Caffe's Scale layer after a batch norm (its scale, then its shift)."""
    importer = n.importer
    layer = importer.by_name.get(x.layer)
    alone = importer.single_consumer(x.tensor) and layer is not None and layer.tensor == x.tensor
    channels = x.shape[1] if len(x.shape) > 1 else None
    per_channel = channels is not None and c.size == channels and _broadcasts_per_channel(c.shape, len(x.shape))
    label = n.proto.name or n.output
    if alone and layer is not None and n.op == "Add":
        if layer.type == "dense" and layer.options.get("bias") is False and per_channel:
            del layer.options["bias"]
            layer.params = (layer.params or 0) + c.size
            layer.comment += f", and Add {label}: its bias"
            n.alias(x)
            return
        if layer.type.startswith("conv") and layer.options.get("bias") is False and per_channel:
            del layer.options["bias"]
            layer.params = (layer.params or 0) + c.size
            layer.comment += f", and Add {label}: its bias"
            n.alias(x)
            return
        if layer.type == "batchnorm" and "scale" in layer.fused and "shift" not in layer.fused and per_channel:
            layer.fused.append("shift")
            layer.comment += f", Add {label} its shift"
            n.alias(x)
            return
    if alone and layer is not None and n.op == "Mul" and layer.type == "batchnorm" and not layer.fused and per_channel:
        layer.fused.append("scale")
        layer.comment += f", and Caffe's Scale as its scale and shift: Mul {label} its scale"
        n.alias(x)
        return
    what = "adds" if n.op == "Add" else "multiplies by"
    raise UnsupportedNodeError(
        f"{what} a constant of shape {list(c.shape)}, which no layer type does (the bias of a MatMul or a Conv, or "
        "Caffe's Scale after a BatchNormalization, are taken in)"
    )


def _broadcasts_per_channel(shape: tuple[int, ...], rank: int) -> bool:
    """[C], [C, 1, 1] or [1, C, 1, 1] against [N, C, H, W]: one value per channel, in axis 1."""
    dims = list(shape)
    if rank == 2:
        return len(dims) in (1, 2) and (len(dims) == 1 or dims[0] == 1)
    while dims and dims[0] == 1 and len(dims) > rank - 1:
        dims.pop(0)
    return len(dims) == rank - 1 and all(d == 1 for d in dims[1:])


def _concat(n: _Node) -> None:
    acts = [v for v in n.inputs if v is not None]
    if not all(isinstance(v, Act) for v in acts):
        raise UnsupportedNodeError("expected every input to be computed from the network's input, got a constant")
    axis = int(n.attr("axis")) % len(acts[0].shape)
    if axis != 1:
        raise UnsupportedNodeError(f"expected a concatenation of channels (axis 1), got axis {axis}")
    if len(acts) == 1:
        n.alias(acts[0])
        return
    n.emit("concat", {}, acts)


def _pad(n: _Node) -> None:
    x = n.act(0)
    rank = _spatial(x, "Pad")
    mode = n.attr("mode", "constant")
    if mode != "constant":
        raise UnsupportedNodeError(f"expected mode 'constant' (zeros), got {mode!r}: no layer type pads otherwise")
    dims = len(x.shape)
    if n.opset < 11:
        pads = [int(p) for p in n.attr("pads", [])]
        value = float(n.attr("value", 0.0))
    else:
        known = n.known(1, "the pads")
        pads = [int(p) for p in known.reshape(-1)] if known is not None else []
        fill = n.known(2, "the value") if len(n.inputs) > 2 else None
        value = float(fill.reshape(-1)[0]) if fill is not None and fill.size else 0.0
        axes = n.known(3, "the axes") if len(n.inputs) > 3 else None
        if axes is not None:
            full = [0] * (2 * dims)
            picked = [int(a) % dims for a in axes.reshape(-1)]
            for j, a in enumerate(picked):
                full[a], full[dims + a] = pads[j], pads[len(picked) + j]
            pads = full
    if len(pads) != 2 * dims:
        raise UnsupportedNodeError(f"expected {2 * dims} pads, got {pads}")
    if value != 0:
        raise UnsupportedNodeError(f"expected padding with zeros, got the value {value:g}")
    before, after = pads[:dims], pads[dims:]
    if any(before[:2]) or any(after[:2]):
        raise UnsupportedNodeError(f"expected padding of the spatial axes only, got pads {pads}")
    ends = [[b, a] for b, a in zip(before[2:], after[2:], strict=True)]
    if all(v >= 0 for pair in ends for v in pair):
        n.emit(f"zeropad{rank}d", {"padding": ends}, [x])
    elif all(v <= 0 for pair in ends for v in pair):
        n.emit(f"crop{rank}d", {"crop": [[-b, -a] for b, a in ends]}, [x])
    else:
        raise UnsupportedNodeError(f"expected pads that all add or all remove, got {pads}")


RESIZE_MODES = {
    "nearest": {1: "nearest", 2: "nearest", 3: "nearest"},
    "linear": {1: "linear", 2: "bilinear", 3: "trilinear"},
    "bilinear": {2: "bilinear"},
    "cubic": {2: "bicubic"},
}


def _resize(n: _Node) -> None:
    x = n.act(0)
    rank = _spatial(x, n.op)
    mode = n.attr("mode", "nearest")
    if mode not in RESIZE_MODES or rank not in RESIZE_MODES[mode]:
        raise UnsupportedNodeError(f"expected mode nearest, linear or cubic (2D), got {mode!r} for {rank}D")
    out = n.out_shape()
    if tuple(out[:2]) != tuple(x.shape[:2]):
        raise UnsupportedNodeError(f"expected a resize of the spatial axes only, got {list(x.shape)} to {list(out)}")
    sizes, spatial = list(x.shape[2:]), list(out[2:])
    options: dict[str, Any] = {}
    if all(o % i == 0 for i, o in zip(sizes, spatial, strict=True)):
        options["scale"] = _one([o // i for i, o in zip(sizes, spatial, strict=True)])
    elif not n.importer.symbolic:
        options["size"] = spatial
    else:
        raise UnsupportedNodeError(f"expected a whole-number scale for a symbolic size, got {sizes} to {spatial}")
    options["mode"] = RESIZE_MODES[mode][rank]
    if options["mode"] == "nearest":
        del options["mode"]
    n.emit("upsample", options, [x])


def _layout(n: _Node) -> None:
    """Reshape, Flatten, Squeeze and Unsqueeze of a computed tensor: a flatten to [N, C*H*W], a
    channel shuffle (Reshape, Transpose, Reshape), or nothing at all."""
    x = n.act(0)
    out = n.out_shape()
    if tuple(out) == tuple(x.shape):
        n.alias(x)
        return
    if n.op == "Flatten" and int(n.attr("axis", 1)) % max(len(x.shape), 1) != 1:
        raise UnsupportedNodeError(f"expected axis 1 (flatten all but the batch), got {n.attr('axis')}")
    if len(out) == 2 and out[0] == x.shape[0] and out[1] == math.prod(x.shape[1:]):
        if len(x.shape) == 2:
            n.alias(x)
            return
        n.emit("flatten", {}, [x])
        return
    if n.op == "Reshape" and _channel_shuffle(n, x, tuple(out)):
        return
    if n.op == "Unsqueeze" and _pool_written_as_2d(n, x, tuple(out)):
        return
    raise UnsupportedNodeError(
        f"expected a {n.op} that flattens to [N, C*H*W] or starts a channel shuffle (Reshape, Transpose, Reshape), "
        f"got {list(x.shape)} to {list(out)}"
    )


def _pool_written_as_2d(n: _Node, x: Act, out: tuple[int, ...]) -> bool:
    """Unsqueeze, a pool with a window of 1 along the new axis, and Squeeze: a 1D pool as PyTorch's
    early exporter wrote it."""
    importer = n.importer
    if len(x.shape) != 3 or out != (*x.shape, 1):
        return False
    readers = importer.consumers.get(n.output, [])
    if len(readers) != 1 or readers[0] < 0 or importer.nodes[readers[0]].op_type not in ("AveragePool", "MaxPool"):
        return False
    pool_index = readers[0]
    pool = importer.nodes[pool_index]
    attrs = _attributes(pool)
    kernel, strides = list(attrs.get("kernel_shape", [])), list(attrs.get("strides", [1, 1]))
    pads, dilations = list(attrs.get("pads", [0, 0, 0, 0])), list(attrs.get("dilations", [1, 1]))
    if len(kernel) != 2 or kernel[1] != 1 or strides[1:] != [1] or pads[1::2] != [0, 0] or dilations[1:] != [1]:
        return False
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID", "") or len(pool.output) > 1 and pool.output[1]:
        return False
    readers = importer.consumers.get(pool.output[0], [])
    if len(readers) != 1 or readers[0] < 0 or importer.nodes[readers[0]].op_type != "Squeeze":
        return False
    squeeze_index = readers[0]
    squeeze = importer.nodes[squeeze_index]
    pooled = importer.shapes.get(pool.output[0])
    if not _complete(pooled) or importer.shapes.get(squeeze.output[0]) != tuple(pooled[:3]):
        return False
    one_d = _Node(importer, pool_index, pool, [x])
    one_d.attrs = {
        **attrs,
        "kernel_shape": kernel[:1],
        "strides": strides[:1],
        "pads": pads[::2],
        "dilations": dilations[:1],
    }
    one_d.output = squeeze.output[0]
    one_d.op = (
        f"{pool.op_type}, with Unsqueeze {n.proto.name or n.output} and Squeeze "
        f"{squeeze.name or squeeze.output[0]}: a 1D pool written in 2D"
    )
    importer.absorbed[pool_index] = importer.absorbed[squeeze_index] = n.index
    _pool(one_d)
    return True


def _channel_shuffle(n: _Node, x: Act, out: tuple[int, ...]) -> bool:
    importer = n.importer
    if len(out) != len(x.shape) + 1 or out[0] != x.shape[0] or out[3:] != x.shape[2:]:
        return False
    groups, per_group = out[1], out[2]
    if groups * per_group != x.shape[1]:
        return False
    readers = importer.consumers.get(n.output, [])
    if len(readers) != 1 or readers[0] < 0:
        return False
    transpose = importer.nodes[readers[0]]
    perm = [int(p) for p in _attributes(transpose).get("perm", [])]
    if transpose.op_type != "Transpose" or perm != [0, 2, 1, *range(3, len(out))]:
        return False
    readers = importer.consumers.get(transpose.output[0], [])
    if len(readers) != 1 or readers[0] < 0:
        return False
    back = importer.nodes[readers[0]]
    if back.op_type != "Reshape" or importer.shapes.get(back.output[0]) != tuple(x.shape):
        return False
    n.emit(
        "shuffle",
        {"groups": groups},
        [x],
        f", Transpose {transpose.name or transpose.output[0]} and Reshape {back.name or back.output[0]}",
        tensor=back.output[0],
    )
    importer.absorbed[readers[0]] = n.index
    importer.absorbed[importer.consumers[n.output][0]] = n.index
    return True


def _slice(n: _Node) -> None:
    """A slice of the spatial axes with step 1 is a crop; two in a row (one per axis, as
    exporters write x[:, :, a:b, c:d]) are one."""
    x = n.act(0)
    rank = _spatial(x, "Slice")
    dims = len(x.shape)
    if n.opset < 10:
        starts, ends = list(n.attr("starts", [])), list(n.attr("ends", []))
        axes, steps = n.attr("axes"), None
    else:
        starts, ends = (list(n.known(i, what).reshape(-1)) for i, what in ((1, "the starts"), (2, "the ends")))
        axes = n.known(3, "the axes") if len(n.inputs) > 3 else None
        steps = n.known(4, "the steps") if len(n.inputs) > 4 else None
    axes = (
        list(range(len(starts)))
        if axes is None
        else [int(a) for a in list(axes.reshape(-1) if hasattr(axes, "reshape") else axes)]
    )
    steps = [1] * len(starts) if steps is None else [int(v) for v in steps.reshape(-1)]
    before, after = [0] * dims, [0] * dims
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        axis = int(axis) % dims
        size = x.shape[axis]
        if step != 1:
            raise UnsupportedNodeError(f"expected steps of 1 (a crop), got {step} along axis {axis}")
        first = min(max(int(start) + size if start < 0 else int(start), 0), size)
        last = min(max(int(end) + size if end < 0 else int(end), 0), size)
        before[axis], after[axis] = first, size - max(last, first)
    if any(before[:2]) or any(after[:2]):
        raise UnsupportedNodeError(
            f"expected a slice of the spatial axes only, got {list(x.shape)} to {list(n.out_shape())}"
        )
    crop = [[b, a] for b, a in zip(before[2:], after[2:], strict=True)]
    if not any(v for pair in crop for v in pair):
        n.alias(x)
        return
    importer = n.importer
    layer = importer.by_name.get(x.layer)
    if (
        layer is not None
        and layer.type == f"crop{rank}d"
        and layer.tensor == x.tensor
        and importer.single_consumer(x.tensor)
        and "Slice" in layer.comment
    ):
        layer.options["crop"] = [[b + b2, a + a2] for (b, a), (b2, a2) in zip(layer.options["crop"], crop, strict=True)]
        layer.comment += f", and Slice {n.proto.name or n.output}"
        n.alias(x)
        return
    n.emit(f"crop{rank}d", {"crop": crop}, [x])


def _alias(n: _Node) -> None:
    n.alias(n.act(0))


HANDLERS: dict[str, Callable[[_Node], None]] = {
    "Conv": _conv,
    "ConvTranspose": _conv_transpose,
    "MaxPool": _pool,
    "AveragePool": _pool,
    "GlobalAveragePool": _global_pool,
    "GlobalMaxPool": _global_pool,
    "ReduceMean": _reduce,
    "ReduceMax": _reduce,
    "Gemm": _gemm,
    "MatMul": _matmul,
    "BatchNormalization": _batchnorm,
    "LRN": _lrn,
    "Dropout": _dropout,
    "Flatten": _layout,
    "Reshape": _layout,
    "Squeeze": _layout,
    "Unsqueeze": _layout,
    "Identity": _alias,
    "Cast": _alias,
    "Relu": _activation("relu"),
    "Clip": _clip,
    "Sigmoid": _activation("sigmoid"),
    "Tanh": _activation("tanh"),
    "LeakyRelu": _leaky_relu,
    "Softmax": _softmax,
    "Elu": _fixed("elu", alpha=(1.0, 1.0)),
    "Selu": _fixed(
        "selu",
        alpha=(1.6732632423543772, 1.67326319217681884765625),
        gamma=(1.0507009873554805, 1.05070102214813232421875),
    ),
    "HardSigmoid": _fixed("hardsigmoid", alpha=(1 / 6, 0.2), beta=(0.5, 0.5)),
    "HardSwish": _activation("hardswish"),
    "Mish": _activation("mish"),
    "Gelu": _fixed("gelu", approximate=("none", "none")),
    "PRelu": _prelu,
    "Add": _join("add"),
    "Sum": _join("add"),
    "Mul": _join("multiply"),
    "Concat": _concat,
    "Pad": _pad,
    "Slice": _slice,
    "Resize": _resize,
    "Upsample": _resize,
}


# Two imports, one file -----------------------------------------------------------------------


def _same_for_every_size(display: str, first: _Importer, a: list[Layer], b: list[Layer]) -> None:
    """A symbolic input's two imports must write the same layers: an option that changed with
    the numbers would not hold for every size."""
    for one, other in zip(a, b, strict=False):
        if (one.type, one.options, one.sources) != (other.type, other.options, other.sources):
            sizes = ", ".join(
                f"{s} = {SUBSTITUTES[0] + 64 * i} or {SUBSTITUTES[1] + 64 * i}"
                for i, s in enumerate(dict.fromkeys(d for d in first.network.dims[2:] if isinstance(d, str)))
            )
            raise ArchitectureError(
                [
                    first.problem(
                        one.node,
                        f"expected options that hold for every input size, got {_flow(one.options)} and "
                        f"{_flow(other.options)} for {sizes}",
                    )
                ]
            )
    if len(a) != len(b):
        raise _fail(display, "expected the same layers for every input size, got a different number")


# The file ------------------------------------------------------------------------------------

PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_./-]*")
YAML_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"})


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"
        return text
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_scalar(v) for v in value) + "]"
    text = str(value)
    if PLAIN.fullmatch(text) and text.lower() not in YAML_WORDS:
        return text
    import json

    return json.dumps(text, ensure_ascii=False)


def _flow(options: dict[str, Any]) -> str:
    return "{" + ", ".join(f"{k}: {_scalar(v)}" for k, v in options.items()) + "}"


def _text(title: str, source: str, network: NetworkInput, layers: list[Layer], opset: int) -> str:
    lines = [
        printable(f"# Imported from {source} (ONNX opset {opset}) by cnnmacros import-onnx: one layer per compute"),
        "# node, named after it, with its operator in the comment.",
        f"name: {_scalar(title)}",
        f"input: {_scalar(network.channels_last())}",
        "layers:",
    ]
    previous = "input"
    for layer in layers:
        parts = {"name": layer.name, "type": layer.type, **layer.options}
        if layer.sources != [previous]:
            parts["from"] = layer.sources if len(layer.sources) > 1 else layer.sources[0]
        lines.append(f"  - {_flow(parts)}  # {printable(layer.comment)}")
        previous = layer.name
    return "\n".join(lines) + "\n"


def _verify(display: str, text: str, layers: list[Layer], first: _Importer, names: list[str]) -> None:
    """The engine computes the file it is handed: each layer must give ONNX's shape and count the
    node's weights. A difference is a fault of the importer, reported rather than written."""
    from cnnmacros.architecture import validate
    from cnnmacros.engine import compute
    from cnnmacros.yamlnodes import load as load_yaml

    try:
        summary = compute(validate(display, load_yaml(display, text.encode())))
    except ArchitectureError as exc:
        first = exc.problems[0].message if exc.problems else str(exc)
        raise _fail(display, f"import-onnx wrote a file the engine refuses (please report): {first}") from None
    values = {s: SUBSTITUTES[0] + 64 * i for i, s in enumerate(names)}
    for layer, row in zip(layers, summary.rows, strict=True):
        if layer.tensor is not None:
            onnx_shape = first.shapes.get(layer.tensor)
            if onnx_shape is not None and None not in onnx_shape:
                expected = [*onnx_shape[2:], onnx_shape[1]] if len(onnx_shape) > 2 else list(onnx_shape[1:])
                got = [
                    v if isinstance(v, int) else int(v.subs({s: values[s.name] for s in v.free_symbols}))
                    for v in row.output
                ]
                if got != expected:
                    raise ArchitectureError(
                        [first.problem(layer.node, f"import-onnx's layer gives {got}, ONNX {expected} (please report)")]
                    )
        if row.figures["non_trainable"] != layer.statistics:
            raise ArchitectureError(
                [
                    first.problem(
                        layer.node,
                        f"import-onnx's layer keeps {row.figures['non_trainable']} statistics, the node's tensors "
                        f"{layer.statistics} (please report)",
                    )
                ]
            )
        if layer.params is not None and row.figures["params"] != layer.params:
            raise ArchitectureError(
                [
                    first.problem(
                        layer.node,
                        f"import-onnx's layer counts {row.figures['params']} parameters, the node's tensors "
                        f"{layer.params} (please report)",
                    )
                ]
            )
