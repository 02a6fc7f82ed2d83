"""Reasoning on symbolic sizes: expressions in positive integer symbols (the input's size names).

Every size an architecture computes from a symbolic input is non-decreasing in each symbol (a
window's output size floor((I - K + 2P)/S) + 1 grows with I, and products and sums of positive
sizes grow with their factors), so the smallest inputs decide whether a size can be positive, and
a search that stops once a size passes a number is complete. Nothing here parses text: the
expressions were built by the engine from ``sympy.Symbol`` objects.
"""

from __future__ import annotations

import builtins
import itertools
import math

import sympy
from sympy.printing.pretty.pretty_symbology import greek_letters

Expr = sympy.Expr

SEARCH_BUDGET = 2_000
"""How many inputs a search for a solution of a declared input count may try."""

_RESERVED = frozenset(
    name for names in (dir(sympy), dir(math), dir(builtins)) for name in names if not name.startswith("_")
)
_GREEK = frozenset(greek_letters) | {g.capitalize() for g in greek_letters} | {"lambda", "Lambda"}


def reserved_name(name: str) -> str | None:
    """Why ``name`` cannot be a size name, in the words after "got 'name', ": it is a constant or a
    function to SymPy or Python (``pi``, ``E``, ``I``, ``oo``, ``N``, ``floor``, ``min``), a Greek
    letter that formulas draw as a letter (``pi`` as π, ``alpha_1`` as α₁), or it holds ``__``,
    which SymPy draws as a power (``H__2`` as H²). None when the name reads as itself."""
    if name in _RESERVED:
        return "which SymPy or Python reads as a constant or a function"
    base = name.split("_")[0].rstrip("0123456789")
    if base in _GREEK:
        return f"which formulas draw as the Greek letter {base}"
    if "__" in name:
        return "which formulas draw as a power (the part after __ as an exponent)"
    return None


# Nested floors -------------------------------------------------------------------------------


def flatten_floors(expr: Expr) -> Expr:
    """``floor((floor(y) + c)/b)`` as ``floor((y + c)/b)``: equal for every real y, integer c and
    positive integer b. A chain of strided layers then keeps one floor, floor(H/2**170), where it
    nested 170 deep (and SymPy's evaluation of it recursed past Python's limit)."""
    if not expr.has(sympy.floor):
        return expr
    return expr.replace(lambda e: isinstance(e, sympy.floor), _outer_floor)


def _outer_floor(node: sympy.floor) -> Expr:
    arg = node.args[0]
    if not arg.has(sympy.floor):
        return node
    numerator, denominator = sympy.fraction(sympy.together(arg))
    if not (denominator.is_Integer and denominator > 0):
        return node
    constant, rest = numerator.as_coeff_Add()
    if not (constant.is_Integer and isinstance(rest, sympy.floor)):
        return node
    return sympy.floor((rest.args[0] + constant) / denominator)


# Joins ---------------------------------------------------------------------------------------


def never_equal(a: Expr, b: Expr) -> bool:
    """True when two sizes differ for every input: their difference is a non-zero constant, or
    SymPy shows it is never zero for positive integer symbols (``2*H`` and ``H``)."""
    difference = sympy.expand(a - b)
    if difference.is_Number:
        return difference != 0
    return difference.is_zero is False


# Validity: every size at least 1 ---------------------------------------------------------------


def smallest_positive(expr: Expr, symbol: sympy.Symbol, start: int) -> int | None:
    """The smallest value v >= ``start`` of ``symbol`` (the only symbol of ``expr``) for which
    ``expr`` is at least 1: a doubling, then a bisection, as the size grows with the symbol; None
    if no value up to 2**1000 will do."""

    bound = _linear_bound(expr, symbol)
    if bound is not None:
        return max(start, bound)

    def ok(v: int) -> bool:
        return bool(expr.xreplace({symbol: v}) >= 1)

    if ok(start):
        return start
    low, high = start, start + 1
    while not ok(high):
        if high > 2**1000:
            return None
        low, high = high, start + 2 * (high - start)
    while high - low > 1:  # ok(high), not ok(low)
        middle = (low + high) // 2
        low, high = (low, middle) if ok(middle) else (middle, high)
    return high


def _linear_bound(expr: Expr, symbol: sympy.Symbol) -> int | None:
    """The smallest v with ``expr`` >= 1, solved, when ``expr`` is ``a*v + b`` or
    ``floor(a*v + b) + d`` with a > 0 (the form of every window's output size): floor(u) + d >= 1
    holds exactly when u >= 1 - d, d being an integer. None for any other form."""
    constant, rest = expr.as_coeff_Add()
    if not constant.is_Integer:
        return None
    if isinstance(rest, sympy.floor):
        inner, need = rest.args[0], 1 - constant
    else:
        inner, need = expr, 1
    slope = inner.coeff(symbol)
    offset = sympy.expand(inner - slope * symbol)
    if not (slope.is_Rational and slope > 0 and offset.is_Rational):
        return None
    return max(1, math.ceil((need - offset) / slope))


# Declared counts: is there a solution? -------------------------------------------------------


def has_solution(expr: Expr, target: int, minimums: dict[sympy.Symbol, int]) -> bool | None:
    """Whether ``expr`` = ``target`` for some positive integer symbols at least their ``minimums``:
    True (a solution exists), False (none can), or None (not decided within the search budget).

    First by reasoning: the integer content of ``expr`` (16 in 16*(H - 2)*(W - 2)) divides every
    value a polynomial with integer coefficients takes, and the smallest input gives the smallest
    value. Then by a search over the inputs in order, which stops along each symbol once the value
    passes the target, as every size grows with each symbol.
    """
    symbols = sorted(expr.free_symbols, key=lambda s: s.name)
    low = {s: minimums.get(s, 1) for s in symbols}
    smallest = expr.xreplace(low)
    if smallest > target:
        return False
    if smallest == target:
        return True
    if not expr.has(sympy.floor, sympy.ceiling):
        content = sympy.Poly(sympy.expand(expr), *symbols).content() if symbols else expr
        if content.is_Integer and content != 0 and target % int(content):
            return False
    return _search(expr, target, symbols, low, {}, [SEARCH_BUDGET])


def _search(expr: Expr, target: int, symbols: list, low: dict, fixed: dict, budget: list[int]) -> bool | None:
    """Whether some values of the symbols not in ``fixed`` make ``expr`` equal ``target``."""
    symbol, rest = symbols[0], symbols[1:]

    def value(v: int) -> Expr:
        budget[0] -= 1
        return expr.xreplace({**fixed, **{s: low[s] for s in rest}, symbol: v})

    if not rest:  # one symbol left: the value grows with it, so double, then bisect, for the target
        before, v, step = None, low[symbol], 1
        while True:
            if budget[0] <= 0:
                return None
            got = value(v)
            if got == target:
                return True
            if got > target:
                break
            before, v, step = v, low[symbol] + step, 2 * step
        if before is None:
            return False
        below, above = before, v  # value(below) < target < value(above)
        while above - below > 1:
            if budget[0] <= 0:
                return None
            middle = (below + above) // 2
            got = value(middle)
            if got == target:
                return True
            below, above = (middle, above) if got < target else (below, middle)
        return False
    undecided = False
    for v in itertools.count(low[symbol]):
        if budget[0] <= 0:
            return None
        if value(v) > target:  # the other symbols at their smallest: no larger v can do
            break
        found = _search(expr, target, rest, low, {**fixed, symbol: v}, budget)
        if found:
            return True
        undecided = undecided or found is None
    return None if undecided else False
