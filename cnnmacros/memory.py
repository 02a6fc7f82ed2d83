"""Training memory: what autograd keeps for the backward pass, layer by layer, and the totals.

Each layer type says, in its ``forward`` (``cnnmacros.layers``), what PyTorch's forward pass of that
layer saves (its input, its output, indices, masks, statistics, copies) and how its output is laid
out; this module does the bookkeeping that is the same for every layer:

- a step creates an autograd node only when one of its inputs needs a gradient or it has trainable
  parameters; without one it keeps nothing;
- a saved tensor is charged to the layer whose step allocated its storage, once: a view (a flatten,
  a crop) keeps the whole storage of the tensor it views, and the network input belongs to no layer;
- sizes are for the batch size in force, ``B`` or a number, and the element size of ``--dtype``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cnnmacros import layout as lay
from cnnmacros.figures import DTYPES, arguments, work
from cnnmacros.rows import Row, Size, Step, add_up, product

if TYPE_CHECKING:
    from cnnmacros.figures import Context

DEVICES = ("cuda", "cpu")
OPTIMIZERS: dict[str, int] = {"sgd": 0, "momentum": 1, "adam": 2, "adamw": 2}
"""State tensors per trainable parameter: none for plain SGD, the momentum buffer, Adam's two moments."""
INDEX_BYTES = 8
"""An int64 index (max pooling), whatever the dtype."""


@dataclass(frozen=True)
class Keeps:
    """What a layer type's forward keeps, in words and formulas, and why: the Training memory page."""

    what: str
    why: str
    formulas: tuple[str, ...] = ()


@dataclass(slots=True)
class Tensor:
    """One tensor of the training forward pass: whose step allocated its storage (None: the network
    input), how many elements that storage holds per example, whether it needs a gradient, and its
    layout (``cnnmacros.layout``)."""

    owner: Row | None
    storage: Size
    grad: bool
    layout: lay.Layout
    note: str = ""
    """Why the storage is larger than the tensor, for the worked step."""


def input_tensor(shape: tuple) -> Tensor:
    return Tensor(None, product(shape), False, lay.contiguous(lay.torch_sizes(shape)))


class Forward:
    """One layer's step of the training forward pass, as its layer type's ``forward`` sees it:
    ``grad`` says whether the step makes an autograd node (an input needs a gradient, or it has
    parameters); ``steps`` are worked steps behind the kept tensors (a padded copy's size)."""

    __slots__ = (
        "ctx", "row", "layer", "inputs", "grad", "out_layout", "view_of", "out_storage",
        "kept_inputs", "kept_output", "buffers", "steps", "_out_sizes",
    )  # fmt: skip

    def __init__(self, ctx: Context, inputs: list[Tensor], grad: bool) -> None:
        self.ctx, self.row, self.layer, self.inputs, self.grad = ctx, ctx.row, ctx.layer, inputs, grad
        self.out_layout: lay.Layout | None = None
        self.view_of: int | None = None
        self.out_storage: tuple[Size, str] | None = None
        self.kept_inputs: list[int] = []
        self.kept_output = False
        self.buffers: list[Step] = []
        self.steps: list[Step] = []
        self._out_sizes: tuple[int, ...] | None = None

    @property
    def rank(self) -> int:
        return len(self.row.output) - 1

    @property
    def batch(self) -> Size:
        return self.ctx.training.batch

    @property
    def element(self) -> int:
        return DTYPES[self.ctx.dtype]

    @property
    def shapes(self) -> list[tuple]:
        """The inputs' shapes, channels last, as the rows write them."""
        return [s.shape for s in self.ctx.inputs]

    @property
    def layouts(self) -> list[lay.Layout]:
        return [t.layout for t in self.inputs]

    @property
    def out_sizes(self) -> tuple[int, ...]:
        if self._out_sizes is None:
            self._out_sizes = lay.torch_sizes(self.row.output)
        return self._out_sizes

    def keep_input(self, index: int = 0) -> None:
        """The step saves input ``index`` as it is: a view keeps its whole storage."""
        self.kept_inputs.append(index)

    def keep_output(self) -> None:
        self.kept_output = True

    def keep(self, label: str, formula: str, **values: Size) -> None:
        """A tensor the step allocates and saves: indices, a mask, statistics, a copy. ``B`` and
        ``Z_e`` are filled in when the formula has them."""
        names = arguments(formula)
        given = dict(values)
        if "B" in names:
            given.setdefault("B", self.batch)
        if "Z_e" in names:
            given.setdefault("Z_e", self.element)
        self.buffers.append(work("kept", f"kept: {label}", formula, **{name: given[name] for name in names}))

    def output(self, layout: lay.Layout, view_of: int | None = None, storage: tuple[Size, str] | None = None) -> None:
        """The output's layout; ``view_of``: the output is input ``view_of`` or a view of it;
        ``storage``: elements per example of a storage larger than the output, and why."""
        self.out_layout, self.view_of, self.out_storage = layout, view_of, storage


@functools.cache
def _kinds() -> dict:
    """The layer-type registry, which imports this module."""
    from cnnmacros.layers import REGISTRY

    return REGISTRY


def saved_rule(ctx: Context) -> tuple[Size, list[Step]]:
    """The ``saved_bytes`` figure: the layer type's ``forward``, then the bookkeeping. The output
    of an earlier layer that this step saves is charged to that layer (its row gains the step)."""
    inputs = [s.tensor for s in ctx.inputs]
    trainable = ctx.row.figures.get("weights", 0) != 0 or ctx.row.figures.get("biases", 0) != 0
    step = Forward(ctx, inputs, any(t.grad for t in inputs) or trainable)
    _kinds()[ctx.layer.type].forward(step)
    assert step.out_layout is not None, ctx.layer.type
    if step.view_of is not None:
        base = inputs[step.view_of]
        out = Tensor(base.owner, base.storage, base.grad or step.grad, step.out_layout)
    elif step.out_storage is not None:
        out = Tensor(ctx.row, *step.out_storage[:1], step.grad, step.out_layout, step.out_storage[1])
    else:
        out = Tensor(ctx.row, ctx.row.figures["activations"], step.grad, step.out_layout)
    ctx.row.facts["tensor"] = out
    ctx.row.figures["saved_bytes"] = 0
    if not step.grad:  # no autograd node: nothing is kept
        return 0, []
    readers = [inputs[i] for i in step.kept_inputs] + ([out] if step.kept_output else [])
    ctx.row.figures["saved_bytes"] = add_up(s.result for s in step.buffers) if step.buffers else 0
    if step.buffers:
        ctx.row.steps += step.steps + step.buffers
    for tensor in readers:
        charge(tensor, ctx.row, ctx)
    return ctx.row.figures["saved_bytes"], []


def charge(tensor: Tensor, reader: Row, ctx: Context) -> None:
    """The storage of ``tensor``, saved by ``reader``'s step, charged once to the layer that wrote it."""
    owner = tensor.owner
    if owner is None or owner.facts.get("kept_by"):
        return
    owner.facts["kept_by"] = reader.name
    who = "by the layer itself" if owner is reader else f"by {reader.name}"
    note = f" ({tensor.note})" if tensor.note else ""
    step = work(
        "kept_output",
        f"output, kept for the backward pass {who}{note}",
        "saved_tensor_bytes",
        B=ctx.training.batch,
        E=tensor.storage,
        Z_e=DTYPES[ctx.dtype],
    )
    owner.steps.append(step)
    before = owner.figures.get("saved_bytes", 0)
    both = isinstance(before, int) and isinstance(step.result, int)
    owner.figures["saved_bytes"] = before + step.result if both else add_up([before, step.result])


UNITS = {"B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "KiB": 2**10, "MiB": 2**20, "GiB": 2**30}
"""The units ``--fits`` accepts: decimal kilo-, mega- and gigabytes, and the binary ones."""
_SIZE = re.compile(r"^[ \t\n\r\f\v]*([0-9]+(?:\.[0-9]+)?)[ \t\n\r\f\v]*([A-Za-z]+)[ \t\n\r\f\v]*\Z")
"""ASCII only, as the browser's calculator reads it (assets/cnnmacros/recompute.js)."""


def memory_size(text: str) -> int:
    """``24GiB`` in bytes, exactly; a ValueError says what was expected."""
    match = _SIZE.match(text)
    units = {u.lower(): u for u in UNITS}
    unit = units.get(match.group(2).lower()) if match else None
    if match is None or unit is None:
        raise ValueError(f"expected a size such as 24GiB, in {', '.join(UNITS)}, got {text!r}")
    whole, _, fraction = match.group(1).partition(".")
    scaled, places = int(whole + fraction) * UNITS[unit], 10 ** len(fraction)  # bytes = scaled / places
    if scaled % places:
        digits = str(scaled % places).zfill(len(fraction)).rstrip("0")
        raise ValueError(f"expected a whole number of bytes, got {text!r} ({scaled // places}.{digits} bytes)")
    if scaled == 0:
        raise ValueError(f"expected a size larger than 0, got {text!r}")
    return scaled // places


@dataclass(frozen=True)
class Fit:
    """The largest batch whose training step fits in ``memory`` bytes (0: not even one example),
    worked from the step's bytes ``per_example * B + fixed``."""

    memory: int
    per_example: int
    fixed: int
    batch: int
    step: Step


def largest_batch(train_bytes: Size, batch: Any, memory: int) -> Fit:
    """From ``train_bytes``, an expression ``Z_1 B + Z_0`` in the batch symbol ``batch``, the largest
    batch that fits, by the formula and in integers. A ValueError when other sizes are symbolic."""
    import sympy

    expression = sympy.expand(train_bytes)
    others = expression.free_symbols - {batch}
    if others:
        names = ", ".join(sorted(s.name for s in others))
        raise ValueError(f"the input size is symbolic ({names}); --fits needs numbers")
    per_example, fixed = int(expression.coeff(batch, 1)), int(expression.coeff(batch, 0))
    assert sympy.expand(per_example * batch + fixed - expression) == 0, "training memory is linear in B"
    step = work("largest_batch", "largest batch", "largest_batch", Z_M=memory, Z_0=fixed, Z_1=per_example)
    return Fit(memory, per_example, fixed, max(step.result, 0), step)
