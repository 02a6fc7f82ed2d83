"""Every per-layer figure and every total, declared once.

As torchinfo's ``ColumnSettings`` and rich's ``Column`` do for columns, a ``Figure`` says what a
figure is called (its key, heading and JSON name), whether it totals, which formulas give it and
which layer types define it. The engine fills a row's figures by looping over these declarations;
the terminal table, the JSON, the site's tables, the worked steps and the macros loop over them
too. Adding a figure means its declaration here, its formulas in ``formulas.py`` and its tests.

A figure is computed in one of three ways:

- by the layer type itself (``rule is None``): its shape rule also gives weights, biases and
  statistics, because they come from the same options;
- by a ``rule`` here, from what the layer's own rule recorded (its window, its input units) and
  from the state that flows along the network (each input's receptive field);
- from other figures of the same row (``derived``), such as parameters from weights and biases.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple

from cnnmacros import _compiled as compiled
from cnnmacros.rows import Field, Row, Shape, Size, Step, Training, Window, add_up

if TYPE_CHECKING:
    from cnnmacros.architecture import LayerSpec

Report = Callable[[str, str], None]
AXES = {1: ("L",), 2: ("H", "W"), 3: ("D", "H", "W")}


class State(NamedTuple):
    """What flows from one layer to the next: the output's shape, its receptive field, and the
    tensor of the training forward pass (``cnnmacros.memory.Tensor``: its storage and layout).
    A named tuple: one per layer, cheap to make."""

    shape: Shape
    field: Field | None
    tensor: Any = None


def state_after(row: Row) -> State:
    """What a computed layer hands on to the layers that read it."""
    return State(row.output, row.figures["receptive_field"], row.facts.get("tensor"))


def input_state(shape: Shape) -> State:
    """The network's input: each position sees itself; its storage belongs to no layer."""
    from cnnmacros.memory import input_tensor

    rank = len(shape) - 1
    return State(shape, Field((1,) * rank, (1,) * rank, (0,) * rank) if rank else None, input_tensor(shape))


@dataclass
class Context:
    """What a figure's rule may read about one layer."""

    layer: LayerSpec
    family: str
    inputs: list[State]
    row: Row
    report: Report
    convention: str = "cnnmacros"
    dtype: str = "float32"
    training: Training = field(default_factory=Training)


Rule = Callable[[Context], tuple[Any, list[Step]]]


def work(key: str, label: str, formula: str, **values: Size) -> Step:
    """One worked step: the generated function of ``formula`` applied to ``values``.

    The formula is named once, here, and both the figure and the step that shows it come from it.
    """
    return Step(key, label, formula, values, tidy(_apply(getattr(compiled, formula), values)))


@functools.lru_cache(maxsize=256)
def arguments(formula: str) -> tuple[str, ...]:
    """A formula's arguments, in order, from its generated function: no SymPy on the numeric path
    (importing the formula module costs a command half a second)."""
    code = getattr(compiled, formula).__code__
    return code.co_varnames[: code.co_argcount]


_STANDS_FOR: dict[str, Any] = {}
"""One integer symbol per formula argument, standing for a compound symbolic value."""


def _apply(function: Callable[..., Size], values: dict[str, Size]) -> Size:
    """``function(**values)``; a compound symbolic value (``H - 4``) goes in as an integer symbol,
    replaced by the value in the result. SymPy then decides floor(36*a*b) = 36*a*b once for all
    layers, not again for each new expression (a new one per layer in a file whose sizes shrink:
    about 10 ms each). Exact: the result holds for every integer the symbol takes."""
    for v in values.values():  # numbers only, the common case: no dictionary to build
        if not isinstance(v, int):
            break
    else:
        return function(**values)
    compound = {k: v for k, v in values.items() if not isinstance(v, int) and not v.is_Symbol}
    if not compound:
        return function(**values)
    import sympy

    for name in compound:
        if name not in _STANDS_FOR:
            _STANDS_FOR[name] = sympy.Dummy(name, integer=True)
    result = function(**{**values, **{k: _STANDS_FOR[k] for k in compound}})
    if isinstance(result, int):
        return result
    return result.xreplace({_STANDS_FOR[k]: v for k, v in compound.items()})


def tidy(value: Size) -> Size:
    """A symbolic size in a tidy form, 32*(H - 4) rather than 32*H - 128; a number as it is."""
    if isinstance(value, int):
        return value
    from cnnmacros.symbolic import factor_terms, flatten_floors

    return factor_terms(flatten_floors(value))


def _join(names: list[str] | tuple[str, ...]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


_AXES_WORDS = {axes: _join(axes) for axes in AXES.values()}


def per_axis_steps(
    key: str, label: str, axes: tuple[str, ...], entries: list[tuple[str, dict[str, Size]]]
) -> tuple[list[Step], tuple[Size, ...]]:
    """The steps of one figure along each axis, and its value along each axis.

    One step per distinct (formula, values), so a square kernel on a square input is worked once;
    the key gains the axes' names only when they differ (``output_size_H``, ``output_size_W``).
    """
    if all(entry == entries[0] for entry in entries):  # a square kernel on a square input: one step
        step = work(key, f"{label} along {_AXES_WORDS[axes]}", entries[0][0], **entries[0][1])
        return [step], (step.result,) * len(axes)
    groups: dict[tuple[str, tuple[tuple[str, Any], ...]], list[str]] = {}
    for axis, (formula, values) in zip(axes, entries, strict=True):
        groups.setdefault((formula, tuple(values.items())), []).append(axis)
    steps, by_axis = [], {}
    for (formula, items), names in groups.items():
        suffix = "" if len(groups) == 1 else "_" + "".join(names)
        step = work(key + suffix, f"{label} along {_join(names)}", formula, **dict(items))
        steps.append(step)
        by_axis.update(dict.fromkeys(names, step.result))
    return steps, tuple(by_axis[a] for a in axes)


# Rules ---------------------------------------------------------------------------------------


_OUTPUT_NAMES = {0: (), 1: ("O_w",), 2: ("O_h", "O_w"), 3: ("O_d", "O_h", "O_w")}
_ACTIVATIONS = {0: compiled.activations_vector, 1: compiled.activations1d, 2: compiled.activations2d}
_ACTIVATIONS[3] = compiled.activations3d


def _activations(ctx: Context) -> tuple[Size, list[Step]]:
    """No worked step: the product of the output's sizes, shown once on the Formulas page."""
    out = ctx.row.output
    rank = len(out) - 1
    values = dict(zip(_OUTPUT_NAMES[rank], out[:-1], strict=True))
    return tidy(_apply(_ACTIVATIONS[rank], {**values, "C": out[-1]})), []


def _macs(ctx: Context) -> tuple[Size, list[Step]]:
    from cnnmacros.conventions import CONVENTIONS

    return CONVENTIONS[ctx.convention].macs(ctx)


def _flops(row: Row) -> Size:
    return compiled.flops(row.figures["macs"])


def _params(row: Row) -> Size:
    return row.figures["weights"] + row.figures["biases"]


def _saved(ctx: Context) -> tuple[Size, list[Step]]:
    from cnnmacros.memory import saved_rule  # the memory rules import this module

    return saved_rule(ctx)


def _field(ctx: Context) -> tuple[Field | None, list[Step]]:
    """The receptive field of one output position: through a window, through a join, or kept."""
    rank = len(ctx.row.output) - 1
    if rank < 1:
        return None, []
    if ctx.row.facts.get("no_field"):  # windows that differ from position to position
        return None, []
    fields = [s.field for s in ctx.inputs]
    if ctx.family in ("add", "concat", "multiply"):
        return _union(ctx, fields)
    before = fields[0]
    if before is None:
        return None, []
    window: Window | None = ctx.row.facts.get("window")
    if window is None:  # the layer keeps every position where it is
        return before, []
    axes = AXES[rank]
    size_steps, sizes = per_axis_steps(
        "field_size",
        "receptive field",
        axes,
        [
            ("field_size", {"R_in": r, "K": k, "D": d, "J_in": j})
            for r, k, d, j in zip(before.size, window.kernel, window.dilation, before.jump, strict=True)
        ],
    )
    jump_steps, jumps = per_axis_steps(
        "field_jump",
        "jump",
        axes,
        [("field_jump", {"J_in": j, "S": s}) for j, s in zip(before.jump, window.stride, strict=True)],
    )
    offset_steps, offsets = per_axis_steps(
        "field_offset",
        "offset",
        axes,
        [
            ("field_offset", {"X_in": x, "P_b": p, "J_in": j})
            for x, p, j in zip(before.offset, window.padding_before, before.jump, strict=True)
        ],
    )
    return Field(sizes, jumps, offsets), size_steps + jump_steps + offset_steps


def _union(ctx: Context, fields: list[Field | None]) -> tuple[Field | None, list[Step]]:
    """A join sees what any of its inputs sees; inputs that step over the input differently cannot
    be joined position by position."""
    if any(f is None for f in fields):
        return None, []
    first = fields[0]
    names = ctx.layer.sources or ("the layer before",)
    for name, other in zip(names[1:], fields[1:], strict=True):
        if other.jump != first.jump:
            ctx.report(
                "from",
                f"expected inputs whose positions are equally far apart in the network's input (jump "
                f"{_show(first.jump)} for {names[0]}), got jump {_show(other.jump)} for {name}",
            )
            return None, []
    offset, size = list(first.offset), list(first.size)
    for other in fields[1:]:
        for a in range(len(offset)):
            values = {"X_1": offset[a], "R_1": size[a], "X_2": other.offset[a], "R_2": other.size[a]}
            size[a] = compiled.field_union_size(**values)
            offset[a] = compiled.field_union_offset(X_1=values["X_1"], X_2=values["X_2"])
    return Field(tuple(size), first.jump, tuple(offset)), []


def _show(values: tuple[int, ...]) -> str:
    return str(values[0]) if len(set(values)) == 1 else "[" + ", ".join(map(str, values)) + "]"


# Declarations --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    """One per-layer figure.

    ``kind`` says how renderers print it: ``count`` (an exact integer or expression) or ``field``
    (size, jump and offset per axis). ``columns`` names the tables it is a column of: ``terminal``
    and ``site``; ``when_nonzero`` shows the column only when some layer has a non-zero value.
    """

    key: str
    heading: str
    help: str
    json: str = ""
    total: bool = True
    formulas: tuple[str, ...] = ()
    defined_by: tuple[str, ...] = ()
    """Layer families that give the figure; every other layer gives ``default``."""
    rule: Rule | None = None
    derived: Callable[[Row], Size] | None = None
    default: Any = 0
    kind: str = "count"
    columns: tuple[str, ...] = ()
    when_nonzero: bool = False
    short: str = field(default="")

    def __post_init__(self) -> None:
        if not self.json:
            object.__setattr__(self, "json", self.key)

    def to_json(self, value: Any, size: Callable[[Size], Any] | None = None) -> Any:
        """The figure's JSON value; ``size`` writes each size (default: a number as it is, a
        symbolic size as its text; the browser's program generator keeps expressions)."""
        if self.kind == "field":
            if value is None:
                return None
            return {k: v if size is None else [size(x) for x in v] for k, v in value.to_json().items()}
        if size is not None:
            return size(value)
        return value if isinstance(value, int) else str(value)


FIGURES: tuple[Figure, ...] = (
    Figure(
        "weights",
        "Weights",
        "kernel weights, or a fully connected layer's weights; batch norm's scales (gamma)",
        formulas=("conv1d_weights", "conv2d_weights", "conv3d_weights", "dense_weights", "batchnorm_scales"),
        defined_by=("conv", "dense", "batchnorm"),
        columns=("terminal", "site"),
    ),
    Figure(
        "biases",
        "Biases",
        "one per kernel or unit; batch norm's shifts (beta)",
        formulas=("conv_biases", "dense_biases", "batchnorm_shifts"),
        defined_by=("conv", "dense", "batchnorm"),
        columns=("terminal", "site"),
    ),
    Figure(
        "params",
        "Parameters",
        "weights and biases: what PyTorch counts as parameters, all of them trainable",
        formulas=("conv1d_params", "conv2d_params", "conv3d_params", "dense_params", "batchnorm_trainable"),
        defined_by=("conv", "dense", "batchnorm"),
        derived=_params,
        columns=("terminal", "site"),
    ),
    Figure(
        "non_trainable",
        "Non-trainable",
        "batch norm's running mean and variance: buffers in PyTorch, non-trainable parameters in Keras",
        formulas=("batchnorm_non_trainable",),
        defined_by=("batchnorm",),
        columns=("site",),
        when_nonzero=True,
    ),
    Figure(
        "macs",
        "MACs",
        "multiply-accumulates for one example, under the convention in force (cnnmacros: convolutions and "
        "fully connected layers, no bias)",
        formulas=("conv1d_macs", "conv2d_macs", "conv3d_macs", "dense_macs"),
        defined_by=("conv", "dense"),
        rule=_macs,
        columns=("terminal", "site"),
    ),
    Figure(
        "flops",
        "FLOPs",
        "floating-point operations for one example: two per multiply-accumulate",
        formulas=("flops",),
        defined_by=("conv", "dense"),
        derived=_flops,
    ),
    Figure(
        "activations",
        "Activations",
        "elements of the layer's output for one example",
        formulas=("activations_vector", "activations1d", "activations2d", "activations3d"),
        defined_by=("every layer",),
        rule=_activations,
    ),
    Figure(
        "saved_bytes",
        "Saved",
        "bytes this layer's training forward pass allocates and autograd keeps for the backward pass: its "
        "output when a later step saves it, its own indices, masks, statistics and copies; for the batch "
        "size, dtype and device in force (a view, such as a flatten, allocates nothing; the input belongs "
        "to no layer)",
        formulas=(
            "saved_tensor_bytes",
            "saved_index_bytes",
            "saved_mask_bytes",
            "batchnorm_saved_bytes",
            "layernorm_saved_bytes",
            "groupnorm_saved_bytes",
            "instancenorm_saved_bytes",
            "lrn_saved_bytes",
            "same_padded_size",
            "padded_size",
        ),
        defined_by=("every layer",),
        rule=_saved,
        columns=("terminal",),  # the site gives it a table of its own: the layer table is full
    ),
    Figure(
        "receptive_field",
        "Receptive field",
        "input positions one output position sees along each spatial axis; null without spatial axes",
        total=False,
        formulas=("field_size", "field_jump", "field_offset", "field_union_size", "field_union_offset"),
        defined_by=("every layer with spatial axes",),
        rule=_field,
        default=None,
        kind="field",
        columns=("site",),
    ),
)
FIGURE: dict[str, Figure] = {f.key: f for f in FIGURES}


def fill(ctx: Context, without: tuple[str, ...] = ()) -> None:
    """Every declared figure of ``ctx.row``: the layer's own, then the rules', then the derived ones.
    ``without`` leaves rules out (the browser's program generator works ``saved_bytes`` apart: it
    needs the tensors of the whole network)."""
    figures = ctx.row.figures
    for figure in FIGURES:
        if figure.key in without:
            continue
        if figure.rule is not None:
            value, steps = figure.rule(ctx)
            figures[figure.key] = value
            ctx.row.steps += steps
        elif figure.derived is None:
            figures.setdefault(figure.key, figure.default)
    for figure in FIGURES:
        if figure.derived is not None:
            figures[figure.key] = figure.derived(ctx.row)


# Totals --------------------------------------------------------------------------------------

DTYPES: dict[str, int] = {"float32": 4, "float16": 2, "bfloat16": 2, "int8": 1}
"""Bytes of one element of each type that ``--dtype`` accepts."""


@dataclass(frozen=True)
class Total:
    """One figure of the totals: a sum over the rows, or worked from the totals before it.

    ``text`` is its line in the terminal (``{convention}``, ``{dtype}``, ``{batch}``, ``{device}``
    and ``{optimizer}`` are filled in; empty: no line); ``json`` false keeps a line the terminal
    prints for readers out of the JSON.
    """

    key: str
    text: str
    help: str
    compute: Callable[[list[Row], dict[str, Size], int, Training], Size] | None = None
    bytes: bool = False
    json: bool = True
    formula: str = ""


def _forward_backward(rows: list[Row], totals: dict[str, Size], element: int, training: Training) -> Size:
    outputs = add_up(r.figures["activations"] for r in rows if r.figures["params"] != 0)
    return compiled.forward_backward_bytes(A_p=outputs, Z_e=element)


def _input_bytes(rows: list[Row], totals: dict[str, Size], element: int, training: Training) -> Size:
    elements = rows[0].input if rows else ()
    from cnnmacros.rows import product

    return expanded(compiled.input_bytes(B=training.batch, E=product(elements), Z_e=element))


def _buffer_bytes(rows: list[Row], totals: dict[str, Size], element: int, training: Training) -> Size:
    counters = sum(1 for r in rows if r.facts.get("counter"))
    return compiled.buffer_bytes(N_s=totals["non_trainable"], Z_e=element, N_c=counters)


def _optimizer_bytes(rows: list[Row], totals: dict[str, Size], element: int, training: Training) -> Size:
    from cnnmacros.memory import OPTIMIZERS

    return compiled.optimizer_bytes(N_o=OPTIMIZERS[training.optimizer], N_p=totals["params"], Z_e=element)


def _train_bytes(rows: list[Row], totals: dict[str, Size], element: int, training: Training) -> Size:
    parts = {"Z_x": "input_bytes", "Z_s": "saved_bytes", "Z_p": "param_bytes"}
    parts.update({"Z_u": "buffer_bytes", "Z_g": "grad_bytes", "Z_o": "optimizer_bytes"})
    return expanded(compiled.train_bytes(**{symbol: totals[key] for symbol, key in parts.items()}))


def expanded(value: Size) -> Size:
    """A total in the batch size as ``a*B + b``: expanded, where ``tidy`` factors."""
    if isinstance(value, int):
        return value
    import sympy

    return sympy.expand(value)


TOTALS: tuple[Total, ...] = (
    Total("weights", "", FIGURE["weights"].help),
    Total("biases", "", FIGURE["biases"].help),
    Total("params", "Parameters (weights and biases)", FIGURE["params"].help),
    Total("trainable", "Trainable", "all parameters are trainable", lambda rows, t, e, m: t["params"], json=False),
    Total("non_trainable", "Non-trainable (batch-norm running statistics)", FIGURE["non_trainable"].help),
    Total(
        "keras_total",
        "Total as Keras counts it (trainable + non-trainable)",
        "Keras lists batch norm's statistics as parameters",
        lambda rows, t, e, m: t["params"] + t["non_trainable"],
        json=False,
    ),
    Total("macs", "MACs ({convention} convention, one example)", FIGURE["macs"].help),
    Total("flops", "FLOPs (2 per MAC)", FIGURE["flops"].help),
    Total("activations", "Activations (output elements, one example)", FIGURE["activations"].help),
    Total(
        "param_bytes",
        "Params size ({dtype})",
        "parameters x bytes per element (torchinfo's total_param_bytes)",
        compute=lambda rows, totals, element, m: compiled.param_bytes(N_p=totals["params"], Z_e=element),
        bytes=True,
        formula="param_bytes",
    ),
    Total(
        "forward_backward_bytes",
        "Forward/backward pass size ({dtype})",
        "torchinfo's figure: twice the output bytes of the layers that have parameters (total_output_bytes)",
        compute=_forward_backward,
        bytes=True,
        formula="forward_backward_bytes",
    ),
    Total(
        "input_bytes",
        "Input size ({dtype}, batch {batch})",
        "the input batch, kept or not",
        compute=_input_bytes,
        bytes=True,
        formula="input_bytes",
    ),
    Total(
        "saved_bytes",
        "Saved for the backward pass ({dtype}, batch {batch}, {device})",
        "the sum over the layers of what autograd keeps for the backward pass",
        bytes=True,
    ),
    Total(
        "buffer_bytes",
        "Buffers (running statistics and batch counters)",
        "batch norm's running mean and variance, of the chosen type, and its int64 counter of batches",
        compute=_buffer_bytes,
        bytes=True,
        formula="buffer_bytes",
    ),
    Total(
        "grad_bytes",
        "Gradients ({dtype})",
        "one gradient per trainable parameter",
        compute=lambda rows, totals, element, m: compiled.grad_bytes(N_p=totals["params"], Z_e=element),
        bytes=True,
        formula="grad_bytes",
    ),
    Total(
        "optimizer_bytes",
        "Optimizer state ({optimizer})",
        "0, 1, 2 and 2 state tensors per trainable parameter for sgd, momentum, adam and adamw; Adam's "
        "per-tensor step counters (4 bytes each) are left out",
        compute=_optimizer_bytes,
        bytes=True,
        formula="optimizer_bytes",
    ),
    Total(
        "train_bytes",
        "Training step ({optimizer}, batch {batch}, {device})",
        "input, saved tensors, parameters, buffers, gradients and optimizer state: what a training step "
        "holds at the end of its forward pass (activation gradients and workspace come on top)",
        compute=_train_bytes,
        bytes=True,
        formula="train_bytes",
    ),
)


def totals(rows: list[Row], dtype: str, training: Training | None = None) -> dict[str, Size]:
    """Every declared total of ``rows``, for elements of ``dtype`` and the training step in force."""
    training = training or Training()
    out: dict[str, Size] = {}
    for total in TOTALS:
        if total.compute is None:
            out[total.key] = add_up(r.figures[total.key] for r in rows)
        else:
            out[total.key] = total.compute(rows, out, DTYPES[dtype], training)
    return out
