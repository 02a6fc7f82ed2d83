"""Computation: a validated architecture in, one row per layer out.

Shapes flow from the input through every layer in order. A problem found here (a kernel larger
than its input, groups that do not divide the channels) is reported with the line the
architecture kept, and the file's problems are raised together.
"""

from __future__ import annotations

import contextlib
import dataclasses
import gc
from collections.abc import Iterator
from pathlib import Path

from cnnmacros.architecture import INPUT, Architecture, read
from cnnmacros.blocks import views
from cnnmacros.errors import ArchitectureError, Problem
from cnnmacros.figures import Context, State, fill, input_state, state_after, totals
from cnnmacros.layers import REGISTRY
from cnnmacros.rows import Condition, Row, Summary, Training, json_size


def compute(
    architecture: Architecture,
    convention: str = "cnnmacros",
    dtype: str = "float32",
    training: Training | None = None,
) -> Summary:
    """Every layer's row and the totals; raises ``ArchitectureError`` with all problems found.

    A state (the shape, the receptive field, the training tensor) flows from each layer to the
    layers that read it; the layer type gives the shape and its own counts, and ``figures.fill``
    every other figure. ``convention`` names whose multiply-accumulates are counted, ``dtype`` the
    size of an element, ``training`` the batch size, device and optimizer of the memory figures.
    """
    training = training or Training()
    problems: list[Problem] = []
    rows: list[Row] = []
    bounds = _Bounds(architecture.input)
    state = input_state(architecture.input)
    states: dict[str, State] = {INPUT: state}  # for `from`: what each layer hands on, by name
    for layer in architecture.layers:
        found: list[Problem] = []

        def report(key: str, message: str, layer=layer, found=found) -> None:
            found.append(layer.problem(architecture.file, key, message))

        inputs = [states[name] for name in layer.sources] or [state]
        kind = REGISTRY[layer.type]
        row = kind.compute_inputs(layer, [s.shape for s in inputs], report)
        if row is not None:
            fill(Context(layer, kind.family, inputs, row, report, convention, dtype, training))
        problems += found
        if row is None:
            break  # the output is unknown, so later layers cannot be checked
        rows.append(row)
        bounds.see(row)
        state = states[layer.name] = state_after(row)
    if not problems and bounds.symbols:
        problems += bounds.finish(architecture, rows)
    if problems:
        raise ArchitectureError(problems)
    block_views, stage_views = views(architecture.blocks, architecture.placements)
    return Summary(
        architecture.name,
        architecture.file,
        architecture.description,
        architecture.source,
        architecture.input,
        rows,
        totals=totals(rows, dtype, training),
        convention=convention,
        dtype=dtype,
        training=training,
        blocks=block_views,
        stages=stage_views,
        family=architecture.family,
        metrics=dict(architecture.metrics),
    )


class _Bounds:
    """The smallest value of each size name for which every size so far is at least 1, and the
    layer that set it; with them, the declared input counts that no input can meet."""

    def __init__(self, shape: tuple) -> None:
        self.symbols = {s: 1 for v in shape if not isinstance(v, int) for s in v.free_symbols}
        self.where: dict = {}
        self.seen: set = set()  # sizes already bounded: most layers hand their input's sizes on

    def see(self, row: Row) -> None:
        if not self.symbols:
            return
        from cnnmacros.symbolic import smallest_positive

        for size in row.output:
            if isinstance(size, int) or size in self.seen:
                continue
            self.seen.add(size)
            free = size.free_symbols
            if len(free) != 1:  # a product or a sum of sizes: positive when its sizes are
                continue
            (symbol,) = free
            smallest = smallest_positive(size, symbol, self.symbols[symbol])
            if smallest is not None and smallest > self.symbols[symbol]:
                self.symbols[symbol] = smallest
                self.where[symbol] = row

    def finish(self, architecture: Architecture, rows: list[Row]) -> list[Problem]:
        """The conditions ``H >= 9`` on the layers that set them, and a problem for each declared
        input count that no input meeting them can give."""
        from cnnmacros.symbolic import has_solution

        problems = []
        bounds = ", ".join(f"{s} >= {v}" for s, v in sorted(self.symbols.items(), key=lambda i: i[0].name) if v > 1)
        for layer, row in zip(architecture.layers, rows, strict=False):
            for condition in row.conditions:
                if condition.label != "declared inputs":
                    continue
                if has_solution(condition.lhs, condition.rhs, self.symbols) is False:
                    sizes = f" with every size at least 1 ({bounds})" if bounds else ""
                    problems.append(
                        layer.problem(
                            architecture.file,
                            "inputs",
                            f"expected a count that some input size gives, got {condition.rhs}: "
                            f"{json_size(condition.lhs)} = {condition.rhs} has no solution in positive "
                            f"integers{sizes}",
                        )
                    )
        for symbol in sorted(self.where, key=lambda s: s.name):
            self.where[symbol].conditions.append(
                Condition("every size at least 1", symbol, self.symbols[symbol], relation=">=")
            )
        return problems


@contextlib.contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """Pause the cycle collector: loading builds many small acyclic objects, and its passes over
    them made time grow faster than the number of layers (x21 from 1,000 to 10,000 layers)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def summarize(
    path: Path | str,
    display: str | None = None,
    convention: str = "cnnmacros",
    dtype: str = "float32",
    training: Training | None = None,
) -> Summary:
    """Read, validate and compute one architecture file."""
    return read_and_compute(path, display, convention, dtype, training)[1]


def read_and_compute(
    path: Path | str,
    display: str | None = None,
    convention: str = "cnnmacros",
    dtype: str = "float32",
    training: Training | None = None,
) -> tuple[Architecture, Summary]:
    """``summarize``, keeping the validated architecture too (the site's pages ask for both)."""
    with _no_cycle_collection():
        architecture = read(path, display)
        return architecture, compute(architecture, convention, dtype, training)


def concrete_inputs(architecture: Architecture, how_many: int = 3, budget: int = 1000) -> list[tuple[int, ...]]:
    """The first numeric inputs (smallest sizes first) for which a symbolic file is valid.

    Every symbol runs over 1..n, with n chosen so that at most ``budget`` inputs are tried; an input
    counts when the whole network computes without a problem, declared input counts included.
    """
    import itertools

    symbols = sorted({s for v in architecture.input if not isinstance(v, int) for s in v.free_symbols}, key=str)
    if not symbols:
        return [tuple(architecture.input)]
    bound = max(1, int(budget ** (1 / len(symbols))))
    found: list[tuple[int, ...]] = []
    for values in itertools.product(range(1, bound + 1), repeat=len(symbols)):
        mapping = dict(zip(symbols, values, strict=True))
        # validated input sizes are numbers or bare symbols, so a lookup is the substitution
        shape = tuple(v if isinstance(v, int) else mapping[v] for v in architecture.input)
        candidate = dataclasses.replace(architecture, input=shape)
        try:
            compute(candidate)
        except ArchitectureError:
            continue
        found.append(shape)
        if len(found) == how_many:
            break
    return found
