"""MathML for formulas and worked steps, printed at build time by SymPy's presentation printer.

A worked step prints the formula's own expression with each symbol replaced by its number, so the
structure on the page is the structure that computed the figure. No script and no network needed.
"""

from __future__ import annotations

import functools
import re
import xml.dom.minidom
from typing import Any

import sympy
import sympy.printing.precedence
from sympy.printing.mathml import MathMLPresentationPrinter

from cnnmacros.formulas import Formula, formula
from cnnmacros.rows import Size, Step


def _number(value: int) -> str:
    """``34,944``; a negative number with a true minus sign."""
    return f"{value:,}".replace("-", "\u2212")


class _Printer(MathMLPresentationPrinter):
    """Presentation MathML that can print symbols as given values.

    ``values`` maps symbol names to sizes. With ``evaluate_inner`` the argument of each floor or
    ceiling is evaluated (e.g. to 213/4), which shows where rounding happens. Printers are reused
    (see ``_printer``): only ``values`` changes from one expression to the next.
    """

    def __init__(self, substituting: bool = False, evaluate_inner: bool = False, order: tuple[str, ...] = ()) -> None:
        super().__init__({"mul_symbol": "times" if substituting else None, "fold_short_frac": False})
        self.values: dict[str, Size] = {}
        self.evaluate_inner = evaluate_inner
        self.rank = {name: i for i, name in enumerate(order)}

    def doprint(self, expr: Any, values: dict[str, Size] | None = None) -> str:
        self.values = values or {}
        try:
            element = sympy.printing.printer.Printer._print(self, expr)  # what the base doprint does
            _settle_fences(element)
            markup = element.toxml().encode("ascii", "xmlcharrefreplace").decode()
            # A true minus sign, not the hyphen SymPy prints.
            return markup.replace("<mo>-</mo>", "<mo>&#x2212;</mo>")
        finally:
            self.values = {}

    def _key(self, term: sympy.Expr) -> tuple[bool, int]:
        """Terms follow the formula's own argument order (the documents' order), not SymPy's;
        in a product, single symbols come before bracketed sums, as in D(K - 1)."""
        ranks = [self.rank.get(s.name, len(self.rank)) for s in term.free_symbols]
        return (isinstance(term, sympy.Add), max(ranks, default=len(self.rank) + 1))

    def _as_ordered_terms(self, expr: sympy.Expr, order: Any = None) -> list[sympy.Expr]:
        if not self.rank:
            return super()._as_ordered_terms(expr, order)
        terms = sorted(expr.args, key=lambda t: self._key(t)[1])
        if terms[0].could_extract_minus_sign():  # start with a positive term: max(...) - min(...)
            first = next((t for t in terms if not t.could_extract_minus_sign()), terms[0])
            terms.remove(first)
            terms.insert(0, first)
        return terms

    def _print_Mul(self, expr: sympy.Mul) -> Any:
        if not self.rank:
            return super()._print_Mul(expr)
        if expr.could_extract_minus_sign():  # -min(a, b) reads as a difference, not (-1) min(a, b)
            row = self.dom.createElement("mrow")
            row.appendChild(self._element("mo", "\u2212"))
            row.appendChild(self.parenthesize(-expr, sympy.printing.precedence.PRECEDENCE["Mul"]))
            return row
        numer, denom = sympy.fraction(expr)
        if denom != 1 and self._is_one(denom):  # an ordinary convolution: no "/1" for its one group
            return self._print(numer)
        if denom != 1:
            frac = self.dom.createElement("mfrac")
            frac.appendChild(self._print(numer))
            frac.appendChild(self._print(denom))
            return frac
        coeff, terms = expr.as_coeff_mul()
        row = self.dom.createElement("mrow")
        factors: list[sympy.Expr] = ([coeff] if coeff != 1 else []) + sorted(terms, key=self._key)
        for i, factor in enumerate(factors):
            if i:
                row.appendChild(self._element("mo", self.mathml_tag(expr)))
            row.appendChild(self.parenthesize(factor, sympy.printing.precedence.PRECEDENCE["Mul"]))
        return row

    def _is_one(self, denominator: sympy.Expr) -> bool:
        """True when the denominator is a group count given the value 1."""
        return (
            isinstance(denominator, sympy.Symbol)
            and denominator.name in _SILENT_WHEN_ONE
            and self.values.get(denominator.name) == 1
        )

    def _print_Piecewise(self, expr: sympy.Piecewise) -> Any:
        """A brace over rows of ``value  if condition``, the last one ``otherwise``."""
        table = self.dom.createElement("mtable")
        table.setAttribute("columnalign", "left left")
        for value, condition in expr.args:
            tr = self.dom.createElement("mtr")
            cell = self.dom.createElement("mtd")
            cell.appendChild(self._print(value))
            tr.appendChild(cell)
            cell = self.dom.createElement("mtd")
            words = self.dom.createElement("mrow")
            if condition is sympy.true:
                words.appendChild(self._element("mtext", "\u2003otherwise"))
            else:
                words.appendChild(self._element("mtext", "\u2003if\u2002"))
                words.appendChild(self._print(condition))
            cell.appendChild(words)
            tr.appendChild(cell)
            table.appendChild(tr)
        row = self.dom.createElement("mrow")
        row.appendChild(self._element("mo", "{"))
        row.appendChild(table)
        return row

    def _element(self, tag: str, text: str) -> Any:
        element = self.dom.createElement(tag)
        element.appendChild(self.dom.createTextNode(text))
        return element

    def _print_Symbol(self, sym: sympy.Symbol, style: str = "plain") -> Any:
        if sym.name not in self.values:
            return super()._print_Symbol(sym, style)
        value = self.values[sym.name]
        if isinstance(value, int) and value < 0:  # (−48), so that a minus before it stays readable
            row = self.dom.createElement("mrow")
            for part in (self._element("mo", "("), self._element("mn", _number(value)), self._element("mo", ")")):
                row.appendChild(part)
            return row
        if isinstance(value, int):
            return self._element("mn", _number(value))
        return self._plain(value, parenthesize=isinstance(value, sympy.Add))

    def _plain(self, expr: sympy.Expr, parenthesize: bool = False) -> Any:
        """Print a size expression itself (its own symbols are the author's, not the formula's)."""
        saved, self.values = self.values, {}
        try:
            inner = self._print(expr)
        finally:
            self.values = saved
        if not parenthesize:
            return inner
        row = self.dom.createElement("mrow")
        row.appendChild(self._element("mo", "("))
        row.appendChild(inner)
        row.appendChild(self._element("mo", ")"))
        return row

    def _print_Integer(self, e: sympy.Integer) -> Any:
        return self._element("mn", _number(int(e)))

    def _rounded(self, e: sympy.Expr, left: str, right: str) -> Any:
        if not self.evaluate_inner:
            return super()._print_floor(e) if left == "\u230a" else super()._print_ceiling(e)
        inner = e.args[0].xreplace({s: sympy.Integer(self.values[s.name]) for s in e.args[0].free_symbols})
        if inner.is_Integer:  # the division is exact: nothing to round, so no brackets around 54
            return self._plain(inner)
        row = self.dom.createElement("mrow")
        row.appendChild(self._element("mo", left))
        row.appendChild(self._plain(inner))
        row.appendChild(self._element("mo", right))
        return row

    def _print_floor(self, e: sympy.floor) -> Any:
        return self._rounded(e, "\u230a", "\u230b")

    def _print_ceiling(self, e: sympy.ceiling) -> Any:
        return self._rounded(e, "\u2308", "\u2309")


_SILENT_WHEN_ONE = {"G"}
"""Symbols whose division is left out of a worked step when they are 1: a convolution without
groups is not written as a division by one group."""

_FENCES = {"(": ")", "\u230a": "\u230b", "\u2308": "\u2309", "[": "]"}
_TALL = ("mfrac", "mtable", "munderover", "mover", "munder")


def _settle_fences(node: Any) -> None:
    """Brackets around content one line high are marked not to stretch.

    A stretchy bracket around a subscript, as in (N_in + 1), is drawn from the font's next larger
    size, which is wider: the brackets stood apart from what they enclose. Brackets around a
    fraction still stretch to its height."""
    for child in node.childNodes:
        if child.nodeType == child.ELEMENT_NODE:
            _settle_fences(child)
    if getattr(node, "tagName", "") != "mrow" or len(node.childNodes) < 3:
        return
    first, last = node.childNodes[0], node.childNodes[-1]
    if not (_is_mo(first) and _is_mo(last) and _FENCES.get(_text(first)) == _text(last)):
        return
    inside = [n for n in node.childNodes[1:-1] if n.nodeType == n.ELEMENT_NODE]
    if any(n.tagName == tag or n.getElementsByTagName(tag) for n in inside for tag in _TALL):
        return
    first.setAttribute("stretchy", "false")
    last.setAttribute("stretchy", "false")


def _is_mo(node: Any) -> bool:
    return getattr(node, "tagName", "") == "mo"


def _text(node: Any) -> str:
    return "".join(c.data for c in node.childNodes if c.nodeType == c.TEXT_NODE)


def math(content: str, display: bool = False) -> str:
    """Wrap presentation MathML content in a ``<math>`` element."""
    mode = ' display="block"' if display else ""
    return f'<math xmlns="http://www.w3.org/1998/Math/MathML"{mode}>{content}</math>'


@functools.lru_cache(maxsize=64)
def _printer(substituting: bool = False, evaluate_inner: bool = False, order: tuple[str, ...] = ()) -> _Printer:
    """One printer per kind of use, reused: building a printer costs more than printing."""
    return _Printer(substituting, evaluate_inner, order)


@functools.lru_cache(maxsize=4096)
def expression(expr: sympy.Expr | int) -> str:
    """Presentation MathML of a SymPy expression or an integer (no ``<math>`` wrapper)."""
    return _printer().doprint(sympy.sympify(expr) if isinstance(expr, int) else expr)


def _order(f: Formula) -> tuple[str, ...]:
    return tuple(s.name for s in f.args)


@functools.lru_cache(maxsize=256)
def _symbolic_rhs(name: str) -> str:
    """The right side of a formula, printed once."""
    f = formula(name)
    return _printer(order=_order(f)).doprint(f.rhs)


def _symbolic(name: str) -> str:
    """``O = ...`` of a formula."""
    return f"{_lhs(formula(name))}{_eq()}{_symbolic_rhs(name)}"


def _lhs(f: Formula) -> str:
    return _printer().doprint(sympy.Symbol(f.lhs))


def _eq() -> str:
    return "<mo>=</mo>"


@functools.lru_cache(maxsize=256)
def formula_math(name: str, display: bool = True) -> str:
    """``O = ⌊(I − K + 2P)/S⌋ + 1`` for the formula called ``name``."""
    return math(f"<mrow>{_symbolic(name)}</mrow>", display)


def step_math(step: Step, display: bool = False) -> str:
    """The formula, its symbols replaced by the step's values, the rounded inner value, the result."""
    lhs, sides = _step_sides(step.formula, tuple(step.values.items()), step.result)
    return math("<mrow>" + lhs + "".join(_eq() + side for side in sides) + "</mrow>", display)


@functools.lru_cache(maxsize=4096)
def _step_sides(name: str, items: tuple[tuple[str, Size], ...], result: Size) -> tuple[str, tuple[str, ...]]:
    """The left side and the right sides of a worked step: the formula, its numbers, the rounded
    inner value, the result. Pages show the same steps several times (table, prose): each is
    printed once per process."""
    values = dict(items)
    f = formula(name)
    sides = [_symbolic_rhs(name), _printer(True, order=_order(f)).doprint(f.rhs, values)]
    numeric = all(isinstance(v, int) for v in values.values())
    if numeric and f.rhs.has(sympy.floor, sympy.ceiling) and not f.rhs.has(sympy.Piecewise):
        sides.append(_printer(True, True, _order(f)).doprint(f.rhs, values))
    sides.append(expression(result))
    kept: list[str] = []
    for side in sides:  # a side that reads as the one before it says nothing new
        if not kept or side != kept[-1]:
            kept.append(side)
    return _lhs(f), tuple(kept)


def broken(lhs: str, sides: tuple[str, ...] | list[str], relation: str = "=") -> str:
    """Display math that breaks at its equals signs where the line is too narrow.

    The left side is one ``<math>`` and each right side a group of them, the first starting with the
    sign. The sides wrap (CSS flex-wrap), so a continued line starts with "=" under the first one;
    a side too long for a line of its own wraps again before its top-level +, − or ×.
    """
    sign = '<mo form="infix">=</mo>' if relation == "=" else '<mo form="infix">&#x2265;</mo>'
    rhs = []
    for side in sides:  # a side moves to the next line whole where it fits there, else wraps at its signs
        rhs.append('<span class="cnn-side">')
        for i, chunk in enumerate(_chunks(side)):
            rhs.append(f'<math display="block"><mrow>{sign if i == 0 else ""}{chunk}</mrow></math>')
        rhs.append("</span>")
    # an HTML page needs no xmlns on these: the parser puts <math> in MathML's namespace itself
    return f'<div class="cnn-eq"><math display="block">{lhs}</math><div class="cnn-rhs">{"".join(rhs)}</div></div>'


@functools.lru_cache(maxsize=4096)
def _chunks(side: str) -> tuple[str, ...]:
    """A sum or product split before each of its top-level +, − and × signs, each kept as a binary
    operator (``form="infix"``) so that it keeps its spacing at the start of its own ``<math>``."""
    if _visible_length(side) <= SHORT_SIDE:
        return (side,)
    document = xml.dom.minidom.parseString("<r>" + side.replace("&InvisibleTimes;", "&#x2062;") + "</r>")
    top = document.documentElement.childNodes
    if len(top) != 1 or getattr(top[0], "tagName", "") != "mrow":
        return (side,)
    chunks: list[list[Any]] = [[]]
    for child in top[0].childNodes:
        if chunks[-1] and _is_mo(child) and _text(child) in ("+", "\u2212", "\xd7"):
            child.setAttribute("form", "infix")
            chunks.append([])
        chunks[-1].append(child)
    if len(chunks) == 1:
        return (side,)
    return tuple("<mrow>" + _markup("".join(c.toxml() for c in chunk)) + "</mrow>" for chunk in chunks)


SHORT_SIDE = 16
"""Sides of at most this many characters stay one ``<math>``: they fit any line whole."""


def _visible_length(markup: str) -> int:
    """The characters a reader sees in some MathML: tags dropped, each entity one (or none)."""
    text = re.sub(r"<[^>]+>", "", markup).replace("&InvisibleTimes;", "")
    return len(re.sub(r"&#?\w+;", "x", text))


def _markup(text: str) -> str:
    """Serialized MathML in the printer's own spelling of its two invisible and minus characters."""
    text = text.replace("\u2062", "&InvisibleTimes;").replace("\u2212", "&#x2212;").replace("\xd7", "&#xD7;")
    return text.encode("ascii", "xmlcharrefreplace").decode()


def step_display(step: Step) -> str:
    """A worked step as display math that breaks at "=" where it does not fit."""
    lhs, sides = _step_sides(step.formula, tuple(step.values.items()), step.result)
    return broken(lhs, sides)


@functools.lru_cache(maxsize=256)
def formula_display(name: str) -> str:
    """A formula as display math, laid out as a worked step is."""
    return broken(_lhs(formula(name)), (_symbolic_rhs(name),))


def equation(lhs: Size, rhs: Size, display: bool = False, relation: str = "=") -> str:
    """``lhs = rhs`` for two sizes, e.g. a condition on a symbolic input; ``relation`` ``>=``
    writes ``lhs ≥ rhs``."""
    sign = _eq() if relation == "=" else "<mo>&#x2265;</mo>"
    return math(f"<mrow>{expression(lhs)}{sign}{expression(rhs)}</mrow>", display)


@functools.lru_cache(maxsize=256)
def symbol_math(name: str) -> str:
    """A single symbol of a legend, as MathML."""
    return math(_printer().doprint(sympy.Symbol(name)))
