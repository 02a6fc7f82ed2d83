"""The browser's recompute: JavaScript generated from the symbolic engine, one program per page.

Every layer is computed once more with its input's sizes as symbols (the layer types' own code,
``figures.fill`` and ``figures.totals``: nothing is written again here), and SymPy's JavaScript
printer writes each resulting expression with BigInt integers, floors and ceilings as exact
helpers. The program is straight-line code, one ``const`` per size that depends on the input:
a layer's expressions are in the symbols of its own inputs, named the same way for every layer
(``$s0``, ``$s1``...), so that the nested floors of a long network never grow and SymPy's cache
answers for the repeated blocks (ResNet-50's 175 layers take about 0.1 s; expressions in the
network's input took 0.6 s, and 44 s for SqueezeNet's ceil-mode pools).

The input checks of the layer types (``guards.failed``) come along as conditions with the command
line's message templates, in the order the engine makes them, so the page writes the command
line's errors. Where a layer's result depends on a case rather than a formula (two inputs of a
join that are equal, adaptive pooling whose windows tile the input), the program takes the case
the page's own input is in and checks it: another case gets an error saying the page cannot
recompute it, never a wrong figure.

Training memory comes apart from the shared text: each layer's step of the training forward pass
(``memory.saved_rule``) runs on the program's own values, in order, so that what a later layer
keeps of an earlier output is charged to that layer, and each row's ``saved_bytes`` is written
after the last layer. PyTorch's layout rules (a view or a copy) see the page's own sizes.
"""

from __future__ import annotations

import dataclasses
import json
import re
from typing import Any

import sympy
from sympy.printing.jscode import JavascriptCodePrinter

from cnnmacros import figures as declared
from cnnmacros import layout as lay
from cnnmacros.architecture import INPUT, Architecture, LayerSpec
from cnnmacros.errors import printable
from cnnmacros.figures import DTYPES, Context, State, fill, input_state, state_after
from cnnmacros.guards import Value
from cnnmacros.layers import LAYOUTS, REGISTRY
from cnnmacros.memory import saved_rule
from cnnmacros.rows import Field, Row, Step, Summary

_KINDS = {"s": {"positive": True}, "r": {"positive": True}, "j": {"positive": True}, "x": {}}
"""Symbols for what flows between layers: sizes, and a receptive field's size, jump and offset."""


NETWORK_WIDE = ("saved_bytes",)
"""Figures worked apart from the layers' shared text: a layer's saved bytes include what later
layers keep of its output, so they are known only after the last layer."""


class _Size(sympy.Dummy):
    """A value of the program: a symbol, which takes its value at the page's own input where
    PyTorch's layout rules decide between a view and a copy (``cnnmacros.layout``); a Dummy, so
    that two pages' ``v3_0`` are two symbols."""

    layout_value: int


class BigIntPrinter(JavascriptCodePrinter):
    """JavaScript with BigInt integers: floors, ceilings and remainders by exact helpers of the
    runtime (``F``), never by a float division."""

    def __init__(self, names: dict[sympy.Symbol, str]) -> None:
        super().__init__({"strict": False})
        self.names = names

    def _print_Symbol(self, expr: sympy.Symbol) -> str:
        return self.names[expr]

    def _print_Dummy(self, expr: sympy.Dummy) -> str:  # the program's own values (_Size)
        return self.names[expr]

    def _print_Integer(self, expr: sympy.Integer) -> str:
        return f"{int(expr)}n"

    def _print_Zero(self, expr: Any) -> str:
        return "0n"

    def _print_One(self, expr: Any) -> str:
        return "1n"

    def _print_NegativeOne(self, expr: Any) -> str:
        return "-1n"

    def _print_Rational(self, expr: sympy.Rational) -> str:
        raise InexactError

    def _print_Half(self, expr: Any) -> str:
        raise InexactError

    def _fraction(self, arg: sympy.Expr) -> tuple[str, str]:
        num, den = arg.as_numer_denom()  # a denominator of symbols too (a formula's stride S)
        return self._print(num), self._print(den)

    def _print_floor(self, expr: sympy.floor) -> str:
        num, den = self._fraction(expr.args[0])
        return num if den == "1n" else f"F.fdiv({num}, {den})"

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        num, den = self._fraction(expr.args[0])
        return num if den == "1n" else f"F.cdiv({num}, {den})"

    def _print_Add(self, expr: sympy.Add, order: Any = None) -> str:
        """The terms in SymPy's own order, each in parentheses: SymPy's printing order costs
        more than the rest of a page's program (a total is a sum of one term per layer)."""
        return "(" + " + ".join(f"({self._print(term)})" for term in expr.args) + ")"

    def _print_Mod(self, expr: sympy.Mod) -> str:
        return f"F.mod({self._print(expr.args[0])}, {self._print(expr.args[1])})"

    def _print_Max(self, expr: sympy.Max) -> str:
        return "F.max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: sympy.Min) -> str:
        return "F.min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Pow(self, expr: sympy.Pow) -> str:
        if not (expr.exp.is_Integer and expr.exp > 0):
            raise InexactError
        return f"(({self._print(expr.base)}) ** {int(expr.exp)}n)"

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        *cases, (last, _) = expr.args
        text = f"({self._print(last)})"
        for value, condition in reversed(cases):
            text = f"(({self._print(condition)}) ? ({self._print(value)}) : {text})"
        return text

    def _print_Relational(self, expr: sympy.core.relational.Relational) -> str:
        """``a < b`` as JavaScript; with fractions (SymPy writes ``s/4 < 3``), both sides times
        the positive common denominator."""
        op = {"==": "===", "!=": "!==", "<": "<", "<=": "<=", ">": ">", ">=": ">="}[expr.rel_op]
        try:
            return f"({self._print(expr.lhs)} {op} {self._print(expr.rhs)})"
        except InexactError:
            num, den = (expr.lhs - expr.rhs).as_numer_denom()
            if not (den.is_Integer and den > 0):
                raise
            return f"({self._print(num)} {op} 0n)"

    def _print_And(self, expr: sympy.And) -> str:
        return "(" + " && ".join(self._print(a) for a in expr.args) + ")"

    def _print_Or(self, expr: sympy.Or) -> str:
        return "(" + " || ".join(self._print(a) for a in expr.args) + ")"

    def _print_Not(self, expr: sympy.Not) -> str:
        return f"!({self._print(expr.args[0])})"

    def _print_BooleanTrue(self, expr: Any) -> str:
        return "true"

    def _print_BooleanFalse(self, expr: Any) -> str:
        return "false"

    def expression(self, expr: Any) -> str:
        """``expr`` as JavaScript; a sum with fractional coefficients (a total) as one exact division."""
        if isinstance(expr, bool):
            return "true" if expr else "false"
        if isinstance(expr, int):
            return f"{expr}n"
        try:
            return self._print(expr)
        except InexactError:
            num, den = self._fraction(expr)
            return f"F.exact({num}, {den})"


class InexactError(Exception):
    """A coefficient or power that is not an integer: the expression is printed as one division."""


@dataclasses.dataclass
class _Listener:
    """The ``report`` of one layer's symbolic run: its guards, its choices and any problem."""

    resolve: Any
    guards: list[tuple[str, Any, str, dict[str, Value], bool]] = dataclasses.field(default_factory=list)
    choices: list[tuple[Any, bool]] = dataclasses.field(default_factory=list)
    problems: list[tuple[str, str]] = dataclasses.field(default_factory=list)

    def __call__(self, key: str, message: str) -> None:
        self.problems.append((key, message))

    def guard(self, key: str, fails: Any, message: str, values: dict[str, Value], stops: bool) -> None:
        self.guards.append((key, fails, message, values, stops))

    def decide(self, condition: Any) -> bool:
        outcome = self.resolve(condition)
        self.choices.append((condition, outcome))
        return outcome


class UnsupportedError(Exception):
    """A file whose page cannot recompute (its symbolic run found a problem the numbers did not)."""


CANNOT = (
    "the page cannot recompute this input size (the layer is in another case than at the page's own size); "
    "cnnmacros summary --input computes it"
)


class _Program:
    """The straight-line program of one architecture, built layer by layer."""

    def __init__(self, architecture: Architecture, summary: Summary, cache: dict | None = None) -> None:
        self.architecture = architecture
        self.summary = summary
        self.lines: list[str] = []
        self.names: dict[sympy.Symbol, str] = {}  # every symbol of the program: its JavaScript name
        self.reference: dict[sympy.Symbol, Any] = {}  # its value at the page's own input
        self.canonical: dict[tuple[str, int], sympy.Symbol] = {}
        self.checked: set[sympy.Symbol] = set()  # sizes already checked to be at least 1
        self.cache = cache if cache is not None else {}
        self.own = BigIntPrinter(_Own())
        # the batch size is the program's first argument: memory for any batch, as --batch counts it
        batch = self.symbol("b", "s", summary.training.batch)
        batch.layout_value = 2  # PyTorch's layouts are worked out at batch 2 (cnnmacros.layout)
        self.training = dataclasses.replace(summary.training, batch=batch)

    def symbol(self, name: str, kind: str, reference: Any) -> sympy.Symbol:
        s = _Size(name, integer=True, **_KINDS[kind])
        s.layout_value = reference if isinstance(reference, int) else lay.GENERIC
        self.names[s] = name
        self.reference[s] = reference
        return s

    def canon(self, kind: str, n: int) -> sympy.Symbol:
        key = (kind, n)
        if key not in self.canonical:
            self.canonical[key] = sympy.Symbol(f"${kind}{n}", integer=True, **_KINDS[kind])
        return self.canonical[key]

    def build(self) -> str:
        arch, summary = self.architecture, self.summary
        rank = len(arch.input)
        inputs = tuple(self.symbol(f"v0_{i}", "s", v) for i, v in enumerate(summary.input))
        state = input_state(inputs)
        states: dict[str, State] = {INPUT: state}
        rows: list[Row] = []
        memory: list[Row] = []
        for k, (layer, reference) in enumerate(zip(arch.layers, summary.rows, strict=True), 1):
            sources = [states[name] for name in layer.sources] or [state]
            row, kept = self.layer(k, layer, sources, reference)
            rows.append(row)
            memory.append(kept)
            # the tensor of the program's own training step, not of the shared text
            state = states[layer.name] = state_after(row)._replace(tensor=kept.facts["tensor"])
        self.saved(arch, rows, memory, [inputs, *(r.output for r in rows)])
        printer = BigIntPrinter(self.names)
        symbolic = dataclasses.replace(
            summary,
            input=inputs,
            rows=rows,
            totals=self.totals(rows, printer),
            blocks=[],
            stages=[],
            training=self.training,
        )
        template = _literal(symbolic.to_json(size=lambda v: v), printer)
        params = ", ".join(f"v0_{i}" for i in range(rank))
        body = "\n".join(self.lines)
        extra = ", ".join(f"{_string(t.key)}: {_literal(symbolic.totals[t.key], printer)}" for t in declared.TOTALS)
        return (
            f"function (F, b, {params}) {{\nconst P = [];\n{body}\nif (P.length) return P;\n"
            f"return {{json: {template}, totals: {{{extra}}}}};\n}}"
        )

    def totals(self, rows: list[Row], printer: BigIntPrinter) -> dict[str, Any]:
        """Every declared total as a ``const``: a sum over the rows written as one, a computed
        one from the symbols of the totals before it (SymPy's sum of a long file's terms costs
        more than the rest of its program)."""
        out: dict[str, Any] = {}
        element = DTYPES[self.summary.dtype]
        for total in declared.TOTALS:
            reference = self.summary.totals[total.key]
            if total.compute is None:
                terms = [r.figures[total.key] for r in rows]
                number = sum(t for t in terms if isinstance(t, int))
                symbols = [self.names[t] for t in terms if not isinstance(t, int)]
                if not symbols:
                    out[total.key] = number
                    continue
                text = " + ".join([*symbols, f"{number}n"] if number else symbols)
            else:
                text = printer.expression(total.compute(rows, out, element, self.training))
            self.lines.append(f"const t_{total.key} = {text};")
            out[total.key] = self.symbol(f"t_{total.key}", "s", reference)
        return out

    def saved(self, arch: Architecture, rows: list[Row], memory: list[Row], shapes: list[tuple]) -> None:
        """Each layer's saved bytes, once the last layer has charged what it keeps of earlier
        outputs; and, where a tensor of the network is not plainly contiguous, the check that
        the sizes of 1 are where they are at the page's own input (PyTorch's layout rules ignore
        a size of 1, so a view or a copy is then decided as there; a network of contiguous
        tensors stays contiguous whatever its sizes)."""
        layouts = [m.facts["tensor"].layout for m in memory]
        if any(t != lay.contiguous(t.sizes) for t in layouts):
            sizes = dict.fromkeys(v for shape in shapes for v in shape if isinstance(v, _Size))
            ones = [f"({self.names[v]} === 1n) !== {str(v.layout_value == 1).lower()}" for v in sizes]
            if ones:
                fails = "P.length === 0 && (" + " || ".join(ones) + ")"
                self.lines.append(self.check(arch.layers[-1], "", fails, [_string(CANNOT)], True))
        printer = BigIntPrinter(self.names)
        for k, (row, kept, reference) in enumerate(zip(rows, memory, self.summary.rows, strict=True), 1):
            value = kept.figures["saved_bytes"]
            if not isinstance(value, int) and value.is_Integer:
                value = int(value)
            if not isinstance(value, int):
                self.lines.append(f"const m{k}_saved = {printer.expression(value)};")
                value = self.symbol(f"m{k}_saved", "s", reference.figures["saved_bytes"])
            row.figures["saved_bytes"] = value

    def kept(self, layer: LayerSpec, sources: list[State], row: Row, entry: _Entry, back: dict) -> Row:
        """The layer's step of the training forward pass, on the program's own values: what it
        keeps, charged to the layers whose outputs it keeps (``cnnmacros.memory``)."""
        numbers = {c: sympy.Integer(v) if isinstance(v, int) else v for c, v in back.items()}
        values = {f.name: getattr(entry.row, f.name) for f in dataclasses.fields(Row)}
        values.update(input=row.input, output=row.output, figures=dict(row.figures), steps=list(entry.row.steps))
        kept = _KeptRow(**{**values, "facts": {}}, names=numbers)
        family = REGISTRY[layer.type].family
        training, dtype = self.training, self.summary.dtype
        listener = _Listener(lambda condition: False)
        saved_rule(Context(layer, family, sources, kept, listener, self.summary.convention, dtype, training))
        if listener.problems or listener.guards or listener.choices:
            raise UnsupportedError(f"{layer.name}: saved bytes that depend on the input")
        return kept

    def layer(self, k: int, layer: LayerSpec, sources: list[State], reference: Row) -> tuple[Row, Row]:
        shared, separate = _Names(self), _Names(self)
        joined = [shared.state(s, i) for i, s in enumerate(sources)]
        apart = [separate.state(s, i, join=False) for i, s in enumerate(sources)] if shared.assumed else None
        key = (
            layer.type,
            repr(tuple(layer.options.items())),
            layer.sources,
            tuple(joined),
            apart and tuple(apart),
            self.summary.convention,
        )
        entry = self.cache.get(key)
        if entry is None:
            entry = self.run(layer, joined, apart, shared)
            if not entry.choices:  # a choice is made from this layer's own sizes
                self.cache[key] = entry
        comment = re.sub(r"[^A-Za-z0-9_.\- ]", "?", layer.name)[:60]
        self.lines.append(f"// {comment}")
        names = _javascript(shared)
        checking = _javascript(separate) if apart is not None else names
        for guard, fails, parts, stops in entry.guards:
            self.lines.append(
                self.check(layer, guard, _rename(fails, checking), [_rename(p, checking) for p in parts], stops)
            )
        printer = BigIntPrinter(self.names)
        assumed = [printer.expression(sympy.Eq(a, b)) for a, b in shared.assumed]
        assumed += [(c if outcome else f"!{c}") for c, outcome in ((_rename(c, names), o) for c, o in entry.choices)]
        if assumed:
            self.lines.append(self.check(layer, "", "!(" + " && ".join(assumed) + ")", [_string(CANNOT)], True))
        output = tuple(
            self.define(names, None, shared.back, f"v{k}_{i}", "s", v, reference.output[i])
            for i, v in enumerate(entry.output)
        )
        for v in output:
            if not isinstance(v, int) and v not in self.checked:  # a layer type without its own check
                self.checked.add(v)
                self.lines.append(self.check(layer, "", f"{self.names[v]} < 1n", [_string(CANNOT)], True))
        figures: dict[str, Any] = {}
        for figure in declared.FIGURES:  # read when called: a figure declared later comes along
            if figure.key in NETWORK_WIDE:
                figures[figure.key] = 0  # set by self.saved
                continue
            value, ref = entry.figures[figure.key], reference.figures[figure.key]
            if figure.kind == "field":  # from the inputs' own fields, which the layer's text leaves out
                listener = _Listener(lambda condition: self.resolve(condition, shared))
                family = REGISTRY[layer.type].family
                row = dataclasses.replace(entry.row, figures=dict(entry.row.figures))
                value, _steps = figure.rule(Context(layer, family, sources, row, listener, self.summary.convention))
                if listener.problems or listener.guards or listener.choices:
                    raise UnsupportedError(f"{layer.name}: a receptive field that depends on the input")
                printer = BigIntPrinter({**self.names, **{c: names[c.name] for c in shared.back}})
                names_for = (names, printer)
            else:
                names_for = (names, None)
            if isinstance(value, Field):
                value = Field(
                    *(
                        tuple(
                            self.define(*names_for, shared.back, f"{kind}{k}_{i}", kind, v, getattr(ref, part)[i])
                            for i, v in enumerate(getattr(value, part))
                        )
                        for part, kind in (("size", "r"), ("jump", "j"), ("offset", "x"))
                    )
                )
            elif value is not None:
                value = self.define(names, None, shared.back, f"f{k}_{figure.key}", "s", value, ref)
            figures[figure.key] = value
        row = dataclasses.replace(
            reference, input=sources[0].shape, output=output, figures=figures, conditions=[], steps=[]
        )
        return row, self.kept(layer, sources, row, entry, shared.back)

    def run(self, layer: LayerSpec, joined: list[State], apart: list[State] | None, shared: _Names) -> _Entry:
        """One layer computed on symbols, its checks and results printed with the symbols' own
        names (``$s0``): the same for every layer with the same options and inputs."""
        kind = REGISTRY[layer.type]
        listener = _Listener(lambda condition: self.resolve(condition, shared))
        checks = listener
        if apart is not None:  # the checks see every input as it is; the figures the joined case
            checks = _Listener(lambda condition: False)
            kind.compute_inputs(layer, [s.shape for s in apart], checks)
        row = kind.compute_inputs(layer, [s.shape for s in joined], listener)
        if row is not None:
            fill(Context(layer, kind.family, joined, row, listener, self.summary.convention), without=NETWORK_WIDE)
        if listener.problems or checks.problems or row is None:
            problems = "; ".join(m for _, m in listener.problems + checks.problems)
            raise UnsupportedError(f"{layer.name}: {problems or 'no output'}")
        printer = self.own
        guards = []
        for key, fails, message, values, stops in checks.guards:
            parts = []
            for literal, name, _spec, _conversion in _FORMAT.parse(message):
                if literal:
                    parts.append(_string(printable(literal)))
                if name is not None:
                    parts.append(_value(values[name], printer))
            guards.append((key, printer.expression(fails), parts, stops))
        choices = [(f"({printer.expression(c)})", outcome) for c, outcome in listener.choices]

        def text(value: Any) -> Any:
            if isinstance(value, int) or value is None or isinstance(value, str):
                return value
            if isinstance(value, sympy.Basic) and value.is_Integer:
                return int(value)
            if isinstance(value, sympy.Symbol):
                return value
            return _Text(printer.expression(value))

        figures = {}
        for key, value in row.figures.items():
            if isinstance(value, Field):
                value = Field(*(tuple(text(v) for v in getattr(value, p)) for p in ("size", "jump", "offset")))
            else:
                value = text(value)
            figures[key] = value
        return _Entry(guards, choices, tuple(text(v) for v in row.output), figures, row)

    def define(
        self,
        names: dict[str, str],
        printer: BigIntPrinter | None,
        back: dict,
        name: str,
        kind: str,
        value: Any,
        reference: Any,
    ) -> Any:
        """An integer as it is; a size handed on as the symbol it was; an expression (printed
        text, or SymPy's for ``printer``) as a new ``const`` of the program, and its symbol."""
        if isinstance(value, int) or (isinstance(value, sympy.Basic) and value.is_Integer):
            return int(value)
        if isinstance(value, sympy.Symbol):
            return back.get(value, value)
        text = _rename(value, names) if isinstance(value, _Text) else printer.expression(value)  # type: ignore[union-attr]
        self.lines.append(f"const {name} = {text};")
        return self.symbol(name, kind, reference)

    def resolve(self, condition: Any, names: _Names) -> bool:
        """A case as it is at the page's own input (False when that input is symbolic too)."""
        value = condition.xreplace({c: s if isinstance(s, int) else self.reference[s] for c, s in names.back.items()})
        return bool(value) if value in (sympy.true, sympy.false, True, False) else False

    def check(self, layer: LayerSpec, key: str, fails: str, parts: list[str], stops: bool) -> str:
        """A guard as JavaScript: when ``fails``, the problem the command line reports, at its line
        and path, and (``stops``) the end of the program."""
        where = layer.problem(self.architecture.file, key or None, "")
        if where.message:
            parts = [*parts, _string(printable(where.message))]
        text = " + ".join(parts) or '""'
        push = f"P.push([{where.line}, {_string(printable(where.path))}, {text}]);"
        return f"if ({fails}) {{ {push}{' return P;' if stops else ''} }}"


_FORMAT = __import__("string").Formatter()


def _value(value: Value, printer: BigIntPrinter) -> str:
    if isinstance(value, str):
        return _string(printable(value))
    if isinstance(value, tuple):
        return "[" + ", ".join(printer.expression(v) for v in value) + '].join("x")'
    return f"String({printer.expression(value)})"


def _string(value: Any) -> str:
    """JSON as JavaScript inside a page's ``<script>``: ``<``, ``>`` and ``&`` escaped, so that no
    author's text (a layer named ``</script>``) can end the element or read as markup."""
    return json.dumps(value).replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


class _Text(str):
    """An expression already printed, in the symbols' own names (``$s0``)."""


@dataclasses.dataclass
class _KeptRow(Row):
    """A layer's row on the program's values, for its step of the training forward pass: a
    worked step it reads (a padding's total) is renamed from the layer's shared text when read
    (renaming every step of every layer cost as much as the rest of the program)."""

    names: dict = dataclasses.field(default_factory=dict)

    def step(self, key: str) -> Step:
        s = super().step(key)
        if not isinstance(s.result, sympy.Basic):
            return s
        values = {k: v.xreplace(self.names) if isinstance(v, sympy.Basic) else v for k, v in s.values.items()}
        return Step(s.key, s.label, s.formula, values, s.result.xreplace(self.names))


@dataclasses.dataclass(frozen=True)
class _Entry:
    """One layer's checks, choices and results, printed in the symbols' own names."""

    guards: list[tuple[str, str, list[str], bool]]
    choices: list[tuple[str, bool]]
    output: tuple[Any, ...]
    figures: dict[str, Any]
    row: Row  # in the symbols' own names, for the receptive field's rule (its window)


class _Own(dict):
    """Every symbol printed under its own name."""

    def __missing__(self, symbol: sympy.Symbol) -> str:
        return symbol.name


_OWN_NAME = re.compile(r"\$[srjx]\d+")


def _rename(text: str, names: dict[str, str]) -> str:
    """A printed expression with each symbol's own name (``$s0``) replaced by the program's."""
    return _OWN_NAME.sub(lambda m: names[m.group(0)], text)


def _javascript(names: _Names) -> dict[str, str]:
    """The program's name of each symbol a layer computed with: a size of the program, or a
    number (every number an input carries is a symbol too, so that layers share their text)."""
    return {c.name: f"({s}n)" if isinstance(s, int) else names.program.names[s] for c, s in names.back.items()}


class _Names:
    """The symbols one layer computes with: each input size as ``$s0``, ``$s1``... by first
    appearance. With ``join``, two sizes of different inputs that are equal at the page's own
    input get one symbol, and the pair is remembered for the program to check."""

    def __init__(self, program: _Program) -> None:
        self.program = program
        self.forth: dict[sympy.Symbol, sympy.Symbol] = {}
        self.back: dict[sympy.Symbol, sympy.Symbol] = {}
        self.by_reference: dict[tuple[str, int, Any], tuple[int, sympy.Symbol]] = {}
        self.assumed: list[tuple[sympy.Symbol, sympy.Symbol]] = []
        self.counts = dict.fromkeys(_KINDS, 0)

    def value(self, v: Any, kind: str, place: tuple[int, int], join: bool) -> Any:
        """The symbol of size ``v``, found at axis ``place[1]`` of input ``place[0]``."""
        if v is None or (v == 1 and kind == "s"):  # a size of 1 broadcasts: the layer types see it
            return v
        known = (kind, v) if isinstance(v, int) else v
        if known in self.forth:
            return self.forth[known]
        source, axis = place
        reference = (kind, axis, v if isinstance(v, int) else self.program.reference[v])
        earlier = self.by_reference.get(reference)
        if join and earlier is not None and earlier[0] != source:
            canonical = earlier[1]
            self.assumed.append((self.back[canonical], v))
        else:
            canonical = self.program.canon(kind, self.counts[kind])
            self.counts[kind] += 1
            self.back[canonical] = v
            self.by_reference.setdefault(reference, (source, canonical))
        self.forth[known] = canonical
        return canonical

    def state(self, state: State, source: int, join: bool = True) -> State:
        """An input in these symbols, without its receptive field (worked apart, from the
        program's own values: the field grows from layer to layer, so no two layers would share
        their text)."""
        return State(tuple(self.value(v, "s", (source, a), join) for a, v in enumerate(state.shape)), None)


def _literal(tree: Any, printer: BigIntPrinter) -> str:
    """The ``--json`` object as a JavaScript literal, each size an expression of the program."""
    if isinstance(tree, dict):
        return "{" + ", ".join(f"{_string(k)}: {_literal(v, printer)}" for k, v in tree.items()) + "}"
    if isinstance(tree, list | tuple):
        return "[" + ", ".join(_literal(v, printer) for v in tree) + "]"
    if tree is None or isinstance(tree, str | bool | float):
        return _string(tree)
    if isinstance(tree, int):
        return f"{tree}n"
    if isinstance(tree, sympy.Symbol):
        return printer.names[tree]
    return printer.expression(tree)


def program(architecture: Architecture, summary: Summary, cache: dict | None = None) -> dict[str, Any]:
    """What a page needs to recompute: the file, the input's layout and the program's source.
    ``cache`` keeps the layers already worked out (for one build: every page shares blocks)."""
    source = _Program(architecture, summary, cache).build()
    rank = len(architecture.input) - 1
    return {
        "file": printable(architecture.file),
        "line": architecture.input_line,
        "layout": LAYOUTS.get(rank, "[C]" if rank == 0 else ""),
        "input": [v if isinstance(v, int) else str(v) for v in architecture.input],
        "source": source,
    }


def script(architecture: Architecture, summary: Summary, cache: dict | None = None) -> str:
    """The page's ``<script>``: its program, for ``window.cnnmacros`` (assets/cnnmacros/recompute.js)."""
    data = program(architecture, summary, cache)
    source = data.pop("source")
    meta = _string(data)
    return f"<script>(window.cnnmacrosPages = window.cnnmacrosPages || []).push([{meta}, {source}]);</script>"


def formula_script(name: str) -> str:
    """One formula of ``cnnmacros.formulas`` as a JavaScript function of BigInts, registered for
    the Formulas page's calculator: printed as ``codegen`` prints the Python (a formula without
    floors is one exact division), by the same printer as the pages' programs."""
    from cnnmacros.formulas import formula

    f = formula(name)
    names = {symbol: f"a_{symbol.name}" for symbol in f.args}
    printer = BigIntPrinter(names)
    rhs = f.rhs
    if not rhs.has(sympy.floor, sympy.ceiling, sympy.Piecewise):
        num, den = sympy.together(rhs).as_numer_denom()
        body = printer.expression(num) if den == 1 else f"F.fdiv({printer.expression(num)}, {printer.expression(den)})"
    else:
        body = printer.expression(rhs)
    params = ", ".join(names[s] for s in f.args)
    return (
        f"<script>(window.cnnmacrosFormulas = window.cnnmacrosFormulas || {{}})[{_string(name)}] = "
        f"function (F, {params}) {{ return {body}; }};</script>"
    )
