"""The macros: thin wrappers that fetch computed rows and hand them to ``render``.

The plugin (``cnnmacros.plugin``) makes one ``Macros`` per build, bound to its library and its
stash, and registers ``Macros.registry()`` with mkdocs-macros. Architectures are named by file
stem. A broken architecture file shows its errors in place (so ``mkdocs serve`` keeps going),
while the plugin logs them so that ``mkdocs build --strict`` fails.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from fractions import Fraction
from typing import Any

import sympy

from cnnmacros import mathml, render
from cnnmacros.errors import ArchitectureError
from cnnmacros.figures import FIGURES
from cnnmacros.formulas import formula as get_formula
from cnnmacros.library import Library
from cnnmacros.memory import Fit, largest_batch, memory_size
from cnnmacros.rows import Step, Summary, Training
from cnnmacros.stash import Stash

FIELDS = tuple(f.key for f in FIGURES if f.kind == "count")
"""The figures ``count`` and ``total`` accept: every declared count."""
BATCH = sympy.Symbol("B", integer=True, positive=True)
"""The batch size of the site's expressions in B."""


def _exact(value: Any) -> str:
    """An exact value for prose: ``55``, ``62,378,344``, ``54.25`` or ``217/3``."""
    fraction = Fraction(int(value.p), int(value.q)) if hasattr(value, "q") else Fraction(value)
    if fraction.denominator == 1:
        return f"{fraction.numerator:,}"
    d = fraction.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d != 1:
        return f"{fraction.numerator}/{fraction.denominator}"
    digits = 0
    while (fraction * 10**digits).denominator != 1:
        digits += 1
    whole = fraction.numerator * 10**digits // fraction.denominator
    text = f"{whole:0{digits + 1}d}"
    return f"{int(text[:-digits]):,}.{text[-digits:]}"


class Macros:
    """The macros, bound to the architectures of one site; ``directory`` is where their pages are."""

    def __init__(
        self,
        library: Library,
        stash: Stash | None = None,
        directory: str = "architectures",
        repo_url: str = "",
        edit_uri: str = "",
    ) -> None:
        self.library = library
        self.stash = stash or Stash()
        self.directory = directory
        self.blob = _blob_base(repo_url, edit_uri)  # where the site's repository shows a file (or empty)

    def registry(self) -> dict[str, Callable[..., Any]]:
        """Every public macro by name, its MathML and finished HTML set aside for Markdown."""
        return {name: self._hiding_math(getattr(self, name)) for name in MACROS}

    def _hiding_math(self, function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def macro(*args: Any, **kwargs: Any) -> Any:
            result = function(*args, **kwargs)
            return self.stash.hide(result) if isinstance(result, str) else result

        return macro

    def _details(self, summary: Summary) -> str:
        """The per-layer worked formulas: finished HTML, handed to Markdown as one placeholder."""
        return self.stash.hide_block(render.worked_details(summary))

    def _summary(self, arch: str, input: list[int] | None = None) -> Summary | ArchitectureError:
        result = self.library.get(arch)
        if input is None or isinstance(result, ArchitectureError):
            return result
        return self.library.variant(arch, tuple(input))

    def _field(self, field: str) -> str:
        if field not in FIELDS:
            raise KeyError(f"unknown field {field!r}; expected one of {', '.join(FIELDS)}")
        return field

    # Formulas ----------------------------------------------------------------------------------
    def formula(self, name: str) -> str:
        """A formula with its note, a legend of its symbols and a calculator."""
        return render.formula_block(name, with_calculator=True)

    def formula_inline(self, name: str) -> str:
        """A formula as inline math, for prose."""
        return mathml.formula_math(name, display=False)

    def symbol(self, name: str) -> str:
        """One symbol of the formulas as inline math: ``symbol('C_in')``."""
        return mathml.symbol_math(name)

    def _values(
        self, name: str, arch: str | None, layer: str | None, step: str, input: list[int] | None, values: dict
    ) -> tuple[Step, Any]:
        """A formula applied to a layer's own numbers (``values`` override some), worked exactly."""
        f = get_formula(name)
        given: dict[str, Any] = {}
        if arch is not None:
            summary = self._summary(arch, input)
            if isinstance(summary, ArchitectureError):
                raise summary
            given.update(summary.row(layer or "").step(step).values)
        given.update(values)
        missing = [s.name for s in f.args if s.name not in given]
        if missing:
            raise KeyError(f"formula {name!r} needs {', '.join(missing)}")
        given = {s.name: given[s.name] for s in f.args}
        result = f.rhs.xreplace({s: sympy.Integer(given[s.name]) for s in f.args})
        exact = int(result) if result.is_integer else result
        return Step(name, f.title, name, given, exact), result

    def compute(
        self,
        name: str,
        arch: str | None = None,
        layer: str | None = None,
        step: str = "output_size",
        input: list[int] | None = None,
        **values: int,
    ) -> str:
        """A formula worked with the values of a layer's step (by its key), or with numbers given on
        the page, as display math."""
        try:
            return render.step_block(self._values(name, arch, layer, step, input, values)[0])
        except ArchitectureError as exc:
            return render.error_block(exc)

    def value_of(
        self,
        name: str,
        arch: str | None = None,
        layer: str | None = None,
        step: str = "output_size",
        input: list[int] | None = None,
        **values: int,
    ) -> str:
        """The exact value of a formula for prose: ``55``, or ``54.25`` where it does not divide."""
        try:
            return _exact(self._values(name, arch, layer, step, input, values)[1])
        except ArchitectureError:
            return "(file has errors)"

    # Architectures -----------------------------------------------------------------------------
    def layer_table(self, arch: str) -> str:
        """The per-layer table, with every layer's worked formulas in collapsible blocks below it."""
        summary = self._summary(arch)
        if isinstance(summary, ArchitectureError):
            return render.error_block(summary)
        return render.layer_table(summary) + "\n\n" + self._details(summary) + "\n"

    def worked_step(self, arch: str, layer: str, step: str, input: list[int] | None = None, figure: bool = True) -> str:
        """One figure of one layer worked out, by the step's key: ``worked_step('alexnet', 'Conv-1', 'weights')``.
        An output size comes with the figure of its sliding window, unless ``figure`` is false."""
        summary = self._summary(arch, input)
        if isinstance(summary, ArchitectureError):
            return render.error_block(summary)
        return render.step_block(summary.row(layer).step(step), layer, figure)

    def worked_layer(self, arch: str, layer: str) -> str:
        """Every figure of one layer worked out, in the order the engine works them."""
        summary = self._summary(arch)
        if isinstance(summary, ArchitectureError):
            return render.error_block(summary)
        return render.worked(summary.row(layer))

    def shape(self, arch: str, layer: str = "output", input: list[int] | None = None) -> str:
        """A layer's output shape (``input`` and ``output`` name the network's ends)."""
        summary = self._summary(arch, input)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        if layer == "input":
            return render.shape(summary.input)
        if layer == "output":
            return render.shape(summary.output)
        return render.shape(summary.row(layer).output)

    def count(self, arch: str, layer: str, field: str = "params", input: list[int] | None = None) -> str:
        """One count of one layer: any declared count (weights, biases, params, non_trainable, macs...)."""
        summary = self._summary(arch, input)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        return render.count(getattr(summary.row(layer), self._field(field)))

    def total(
        self, arch: str, field: str = "params", layer_type: str | None = None, input: list[int] | None = None
    ) -> str:
        """A total over all layers, or over the layers of one type (``conv2d``)."""
        summary = self._summary(arch, input)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        if layer_type is None and field in summary.totals:  # every declared total, bytes included
            return render.count(summary.totals[field])
        name = self._field(field)
        rows = [r for r in summary.rows if layer_type is None or r.type == layer_type]
        return render.count(sum((r.figures[name] for r in rows), 0))

    def field(self, arch: str, layer: str, part: str = "size", input: list[int] | None = None) -> str:
        """A layer's receptive field for prose: its ``size`` (``163×163``), ``jump`` or ``offset``."""
        summary = self._summary(arch, input)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        value = summary.row(layer).receptive_field
        if value is None:
            raise KeyError(f"layer {layer!r} of {arch!r} has no spatial axes, so no receptive field")
        numbers = [f"{n}".replace("-", "\u2212") for n in getattr(value, part)]
        return numbers[0] if part != "size" and len(set(numbers)) == 1 else "×".join(numbers)

    def field_strip(self, windows: list[list[int]]) -> str:
        """The input positions one output position reads through windows given on the page as
        [kernel, stride, dilation, padding before]: a strip that shows the holes."""
        return render.field_strip([tuple(w) for w in windows])

    def example_inputs(self, arch: str, how_many: int = 3) -> str:
        """The smallest numeric inputs for which a symbolic file is valid, e.g. ``5×8×3, 6×6×3 and 8×5×3``."""
        if isinstance(self._summary(arch), ArchitectureError):
            return "(file has errors)"
        shapes = [render.shape(s) for s in self.library.examples(arch, how_many)]
        return shapes[0] if len(shapes) == 1 else ", ".join(shapes[:-1]) + " and " + shapes[-1]

    def architecture_page(self, arch: str) -> str:
        """The whole page the plugin gives an architecture file: description, table, totals and
        worked formulas."""
        summary = self._summary(arch)
        if isinstance(summary, ArchitectureError):
            return f"# {render.escape(arch)}\n\n" + render.error_block(summary)
        url = f"{self.blob}{summary.file}" if self.blob else ""
        in_batch = self.library.training(arch, Training(BATCH))
        return render.architecture_page(
            summary,
            details=self._details(summary),
            file_url=url,
            file_text=self.library.text(arch),
            recompute=self._recompute(arch, summary),
            in_batch=in_batch,
            fits=self._fits(in_batch),
        )

    def _recompute(self, arch: str, summary: Summary) -> str:
        """The input-size control and the page's generated program; nothing for a file the
        generator cannot handle (its page then keeps the file's own figures)."""
        from cnnmacros import recompute
        from cnnmacros.layers import LAYOUTS

        architecture = self.library.architecture(arch)
        try:
            script = recompute.script(architecture, summary, self.library.programs)
            script += recompute.formula_script("largest_batch")  # the memory calculator's
        except recompute.UnsupportedError:
            return ""
        rank = len(summary.input) - 1
        axes = LAYOUTS[rank].strip("[]").split(", ") if rank in LAYOUTS else ["C"]
        sizes = list(summary.input) if not summary.symbolic else list(self.library.examples(arch, 1)[0])
        return self.stash.hide_block(render.recompute_control(axes, sizes, script))

    # Training memory ---------------------------------------------------------------------------
    def _training(self, arch: str, batch: int | str, optimizer: str, device: str) -> Summary:
        self.library.summary(arch)  # a broken file raises its errors
        size = BATCH if batch == "B" else int(batch)
        return self.library.training(arch, Training(size, device, optimizer))

    def _fits(self, in_batch: Summary, budgets: tuple[str, ...] = render.BUDGETS) -> list[tuple[str, Fit]]:
        """The largest batch for each memory size; none for a file whose input size is symbolic."""
        if in_batch.symbolic:
            return []
        train = in_batch.totals["train_bytes"]
        return [(size, largest_batch(train, BATCH, memory_size(size))) for size in budgets]

    def memory_rules(self) -> str:
        """Every layer type's rule for what its training forward pass keeps, as formulas, with the reason."""
        return render.memory_rules()

    def memory_table(self, arch: str, batch: int = 1, optimizer: str = "adam", device: str = "cuda") -> str:
        """Every layer's saved bytes at ``batch``, and what they are."""
        try:
            return render.memory_table(self._training(arch, batch, optimizer, device))
        except ArchitectureError as exc:
            return render.error_block(exc)

    def memory_totals(self, arch: str, batch: int | str = 1, optimizer: str = "adam", device: str = "cuda") -> str:
        """The training step's totals at ``batch`` (``'B'``: as expressions in the batch size)."""
        try:
            return render.totals_table(self._training(arch, batch, optimizer, device))
        except ArchitectureError as exc:
            return render.error_block(exc)

    def memory_total(
        self, arch: str, field: str = "train_bytes", batch: int | str = 1, optimizer: str = "adam", device: str = "cuda"
    ) -> str:
        """One total of the training step, for prose (``'B'``: the expression in the batch size)."""
        try:
            return render.count(self._training(arch, batch, optimizer, device).totals[field])
        except ArchitectureError:
            return "(file has errors)"

    def memory_fits(self, arch: str, optimizer: str = "adam", device: str = "cuda") -> str:
        """The largest batch that fits in 16, 24, 40 and 80 GiB, each worked from the expression in B."""
        try:
            return render.fits_table(self._fits(self._training(arch, "B", optimizer, device)))
        except ArchitectureError as exc:
            return render.error_block(exc)

    def memory_step(self, arch: str, layer: str, step: str = "kept", batch: int = 1, optimizer: str = "adam") -> str:
        """One kept tensor of one layer worked out at ``batch``, by its step key (``kept``, ``kept_output``)."""
        try:
            summary = self._training(arch, batch, optimizer, "cuda")
        except ArchitectureError as exc:
            return render.error_block(exc)
        return render.step_block(summary.row(layer).step(step), layer)

    def setting(self, arch: str, layer: str, key: str) -> str:
        """One setting of a layer for prose, as the table shows it: ``11×11`` for a kernel, ``4,096`` units."""
        summary = self._summary(arch)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        return render.setting(summary.row(layer), key)

    def layer_count(self, arch: str, layer_type: str | None = None) -> str:
        """How many layers a file has, or how many of one type (``conv2d``), for prose."""
        summary = self._summary(arch)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        return f"{sum(1 for r in summary.rows if layer_type is None or r.type == layer_type):,}"

    def settings(self, arch: str, layer: str) -> str:
        """A layer's settings for prose: ``filters 96, kernel 11×11, stride 4, padding 0``."""
        summary = self._summary(arch)
        if isinstance(summary, ArchitectureError):
            return "(file has errors)"
        return render.settings(summary.row(layer))

    def convention(self, name: str) -> str:
        """One counting convention: its tool, its rules as formulas and its quirks."""
        return render.convention_block(name)

    def conventions_table(self, prefix: str | None = None) -> str:
        """Every architecture's multiply-accumulates under every convention, each name a link to its
        page: ``prefix`` plus ``STEM.md`` (by default the plugin's directory, for a top-level page)."""
        from cnnmacros.conventions import CONVENTIONS

        prefix = f"{self.directory}/" if prefix is None else prefix
        entries = []
        for stem, result in sorted(self.library.results().items()):
            name = result.name if isinstance(result, Summary) else stem
            shape = None
            if isinstance(result, Summary) and result.symbolic:  # counted at its smallest valid input
                shape = self.library.examples(stem, 1)[0]
                name += f" at {'×'.join(map(str, shape))}"
            macs = {c: self.library.macs(stem, c, shape) for c in CONVENTIONS}
            entries.append((f"{prefix}{stem}.md", name, macs))
        return render.conventions_table(entries)

    def layer_types(self) -> str:
        """The table of layer types and their keys, from the registry."""
        return render.layer_types()

    def comparison(self, prefix: str = "", site_prefix: str = "") -> str:
        """Every architecture in one table (sortable, filtered by family) and two charts: acc@1 and
        parameters against MACs; the table links to ``prefix`` plus ``STEM.md``, as for
        ``architecture_index``, and the charts' points to ``site_prefix`` plus ``STEM/`` (built
        addresses: MkDocs rewrites no link inside an SVG)."""
        from cnnmacros.compare import page

        return page(self.library.results(), prefix, site_prefix)

    def architecture_index(self, prefix: str = "") -> str:
        """A table of every architecture (input, output, layers, parameters), each a link to
        ``prefix`` plus ``STEM.md``: the default suits a page in the plugin's directory."""
        entries = [(f"{prefix}{stem}.md", result) for stem, result in sorted(self.library.results().items())]
        return render.index_table(entries)


def _blob_base(repo_url: str, edit_uri: str) -> str:
    """Where the repository shows a file, ``https://github.com/o/r/blob/main/``, from the site's
    ``repo_url`` and the branch its ``edit_uri`` names; empty without a repository."""
    if not repo_url:
        return ""
    match = re.match(r"^/?(?:edit|blob)/([^/]+)/", edit_uri or "")
    return f"{repo_url.rstrip('/')}/blob/{match.group(1) if match else 'main'}/"


MACROS = (
    "formula",
    "formula_inline",
    "symbol",
    "compute",
    "value_of",
    "layer_table",
    "worked_step",
    "worked_layer",
    "shape",
    "count",
    "total",
    "field",
    "field_strip",
    "example_inputs",
    "setting",
    "settings",
    "layer_count",
    "architecture_page",
    "convention",
    "conventions_table",
    "layer_types",
    "architecture_index",
    "comparison",
    "memory_rules",
    "memory_table",
    "memory_totals",
    "memory_total",
    "memory_fits",
    "memory_step",
)
"""The public macros, in the order docs/own-site.md documents them."""


def define_env(env: Any) -> None:
    """What ``modules: [cnnmacros.macros]`` in an older mkdocs.yml meets: the way to the plugin."""
    from mkdocs.exceptions import PluginError

    raise PluginError(
        "cnnmacros: remove 'modules: [cnnmacros.macros]' from the macros plugin and list 'cnnmacros' under "
        "plugins instead; the cnnmacros plugin registers the macros itself"
    )
