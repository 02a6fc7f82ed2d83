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
from fractions import Fraction

import sympy
from sympy.core.mul import _keep_coeff
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


def factor_terms(expr: Expr) -> Expr:
    """``sympy.factor_terms(expr)``, the same expression, found faster for the sizes a network
    makes: products of linear forms such as (3*H - 2400)*(W - 800).

    SymPy's version runs ``gcd_terms`` on every sum, about 4 ms each, and a file of 6,400 layers
    makes tens of thousands of them. A primitive linear sum (integer coefficients with gcd 1, one
    symbol per term) has no common factor, so its ``gcd_terms`` is itself; only that call is
    skipped. Every other expression (floors, powers, maxima) goes to SymPy unchanged.
    tests/test_symbolic.py checks equality with SymPy's result on random expressions."""
    fast = _factor_linear_products(expr)
    return sympy.factor_terms(expr) if fast is None else fast


def _factor_linear_products(expr: Expr) -> Expr | None:
    """factor_terms' algorithm for an integer, a symbol, a linear sum or a product of those;
    None for anything else."""
    if expr.is_Integer or expr.is_Symbol or _is_tidy(expr):
        return expr
    if expr.is_Add:
        if any(_linear_coefficient(term) is None for term in expr.args):
            return None
        content, primitive = expr.as_content_primitive()
        terms = list(primitive.args) if primitive.is_Add else [primitive]
        if all(term.as_coeff_Mul()[0].is_negative for term in terms):  # factor_terms' common sign
            content, terms = -content, [-term for term in terms]
        return _keep_coeff(content, sympy.Add(*terms), sign=True)
    if expr.is_Mul:
        content, primitive = expr.as_content_primitive()
        factors = sympy.Mul.make_args(primitive)
        done = [_factor_linear_products(factor) for factor in factors]
        if any(factor is None for factor in done):
            return None
        return _keep_coeff(content, primitive.func(*done) if primitive.is_Mul else done[0], sign=True)
    return None


def _is_tidy(expr: Expr) -> bool:
    """True for what factor_terms leaves as it is: a primitive linear sum that is not all
    negative, or an integer times such sums and symbols. Checked with Python integers, since most
    sizes of a long file are already tidy and building SymPy's answer again costs more."""
    if expr.is_Add:
        coefficients = [_linear_coefficient(term) for term in expr.args]
        if None in coefficients:
            return False
        return math.gcd(*coefficients) == 1 and not all(c < 0 for c in coefficients)
    if expr.is_Mul:
        factors = expr.args[1:] if expr.args[0].is_Integer else expr.args
        return all(f.is_Symbol or (f.is_Add and _is_tidy(f)) for f in factors)
    return False


def _linear_coefficient(term: Expr) -> int | None:
    """The integer coefficient of an integer, a symbol or an integer times a symbol; else None."""
    if term.is_Integer:
        return int(term)
    if term.is_Symbol:
        return 1
    if term.is_Mul and len(term.args) == 2 and term.args[0].is_Integer and term.args[1].is_Symbol:
        return int(term.args[0])
    return None


def text(expr: Expr) -> str:
    """``str(expr)``, SymPy's plain text, found faster for a product of linear sizes.

    SymPy orders the terms of every sum it prints through ``as_ordered_terms``, about 10 ms for
    3*(H - 2)*(W - 2), so printing the table of a file of 6,400 symbolic layers took a minute.
    For an integer times symbols and linear sums this follows SymPy's own order: the terms of a
    sum by symbol name, the constant last, except that ``4 - H`` keeps its constant first; the
    factors of a product by SymPy's sort keys. tests/test_symbolic.py checks equality with
    ``str`` on random expressions; anything else is printed by SymPy."""
    fast = _product_text(expr)
    return str(expr) if fast is None else fast


def _product_text(expr: Expr) -> str | None:
    if expr.is_Integer or expr.is_Symbol:
        return str(expr)
    if expr.is_Add:
        return _sum_text(expr)
    if not expr.is_Mul:
        return None
    coefficient, rest = expr.as_coeff_Mul()
    if not coefficient.is_Integer:
        return None
    keyed = []
    for factor in sympy.Mul.make_args(rest):
        if factor.is_Symbol:
            keyed.append((factor.sort_key(), factor.name))
        elif factor.is_Add:
            terms = _ordered_linear_terms(factor)
            if terms is None:
                return None
            key = (factor.class_key(), (len(terms), tuple(t.sort_key() for t in terms)), _ONE_KEY, sympy.S.One)
            keyed.append((key, f"({_join_terms(terms)})"))
        else:
            return None
    keyed.sort(key=lambda item: item[0])
    factors = [text for _, text in keyed]
    magnitude = abs(int(coefficient))
    if magnitude != 1:
        factors.insert(0, str(magnitude))
    return ("-" if coefficient < 0 else "") + "*".join(factors)


_ONE_KEY = sympy.S.One.sort_key()


def _sum_text(expr: Expr) -> str | None:
    terms = _ordered_linear_terms(expr)
    return None if terms is None else _join_terms(terms)


def _ordered_linear_terms(expr: Expr) -> list[Expr] | None:
    """The terms of a linear sum in the order SymPy prints them, or None if it is not linear."""
    if any(_linear_coefficient(term) is None for term in expr.args):
        return None
    constants = [term for term in expr.args if term.is_Integer]
    variables = sorted((term for term in expr.args if not term.is_Integer), key=lambda t: t.free_symbols.pop().name)
    if len(expr.args) == 2 and constants and constants[0] > 0 and _linear_coefficient(variables[0]) < 0:
        return [constants[0], variables[0]]  # as_ordered_terms' special case: 4 - H
    return variables + constants


def _join_terms(terms: list[Expr]) -> str:
    parts = []
    for term in terms:
        coefficient = _linear_coefficient(term)
        magnitude = abs(coefficient)
        body = (
            str(magnitude)
            if term.is_Integer
            else (str(magnitude) + "*" if magnitude != 1 else "") + term.free_symbols.pop().name
        )
        parts.append(("-" if coefficient < 0 else "+", body))
    first_sign, first = parts[0]
    return ("-" if first_sign == "-" else "") + first + "".join(f" {sign} {body}" for sign, body in parts[1:])


def polynomial_sum(terms: list[Expr]) -> Expr:
    """The sum of ``terms``, each multiplied out at its top level as ``expand(term, deep=False)``
    would, and equal terms collected: a polynomial whose variables are the symbols and whatever
    else SymPy does not multiply out (a floor, a maximum), kept whole.

    SymPy's ``expand`` takes about 14 ms per product of sizes, 90 s for the totals of 6,400
    layers; this multiplies Python dictionaries of exact coefficients and builds the sum once.
    tests/test_symbolic.py checks equality with SymPy's result on random terms."""
    total: dict[frozenset, int | Fraction] = {}
    for term in terms:
        for monomial, coefficient in _polynomial(term).items():
            total[monomial] = total.get(monomial, 0) + coefficient
    return sympy.Add(
        *(
            sympy.Mul(sympy.Rational(c.numerator, c.denominator), *(base**power for base, power in monomial))
            for monomial, c in total.items()
            if c
        )
    )


def _polynomial(expr: Expr) -> dict[frozenset, int | Fraction]:
    """``expr`` as {monomial: coefficient}, a monomial being a set of (variable, power); a power
    of a sum is multiplied out too, so (H - 2)**2 adds up with H**2."""
    if expr.is_Integer:
        return {frozenset(): int(expr)}  # ints while they last: Fraction arithmetic is slow
    if expr.is_Rational:
        return {frozenset(): Fraction(int(expr.p), int(expr.q))}
    if expr.is_Add:
        out: dict[frozenset, int | Fraction] = {}
        for term in expr.args:
            for monomial, coefficient in _polynomial(term).items():
                out[monomial] = out.get(monomial, 0) + coefficient
        return out
    if expr.is_Mul:
        out = {frozenset(): 1}
        for factor in expr.args:
            out = _times(out, _polynomial(factor))
        return out
    if expr.is_Pow and expr.exp.is_Integer and expr.exp > 0 and expr.base.is_Add:
        out = {frozenset(): 1}
        for _ in range(int(expr.exp)):
            out = _times(out, _polynomial(expr.base))
        return out
    base, power = expr.as_base_exp()
    return {frozenset({(base, power)}): 1}


def _times(a: dict[frozenset, int | Fraction], b: dict[frozenset, int | Fraction]) -> dict[frozenset, int | Fraction]:
    out: dict[frozenset, int | Fraction] = {}
    for ma, ca in a.items():
        for mb, cb in b.items():
            powers = dict(ma)
            for base, power in mb:
                powers[base] = powers.get(base, 0) + power
            monomial = frozenset(powers.items())
            out[monomial] = out.get(monomial, 0) + ca * cb
    return out


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
    if expr.is_Add:  # a*v + b with integers, the size after unstrided windows: no SymPy needed
        coefficients = {
            term.free_symbols.pop() if term.free_symbols else 1: _linear_coefficient(term) for term in expr.args
        }
        if None not in coefficients.values() and set(coefficients) <= {1, symbol} and coefficients.get(symbol, 0) > 0:
            slope, offset = coefficients[symbol], coefficients.get(1, 0)
            return max(1, -((offset - 1) // slope))
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
