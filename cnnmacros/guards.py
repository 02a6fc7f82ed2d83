"""Checks that depend on the input's sizes, written once for numbers and for the browser.

A layer type checks its input with ``failed(report, fails, key, message, **values)``. With numbers
``fails`` is a bool and a failure is reported at once, ``message`` filled in with ``values``. With
sizes that are symbols it is a SymPy condition: the plain engine skips it (as it always has: a
symbolic file states its conditions instead), and the browser's program generator
(``cnnmacros.recompute``) records it, message template and all, so that the page checks the same
condition and writes the same words as the command line. ``decide`` is the same for a choice that
changes what a layer computes (adaptive pooling's windows tile the input or not).

A condition on symbols is ``Deferred``: SymPy works it out only when something reads it. Deciding
``H - 2*k < 1`` takes SymPy's assumptions milliseconds, and the plain engine never reads it.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import Any

from cnnmacros.rows import Size, format_shape, json_size

Value = Size | tuple[Size, ...] | str


def text(value: Value) -> str:
    """A value as a message shows it: ``55``, ``55x55x96`` for a shape, a string as it is."""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        return format_shape(value)
    return str(json_size(value))


class Deferred:
    """A condition on symbolic sizes, built by SymPy (evaluated, as ``a < b`` builds it) only when
    read: by a listening program generator, or by ``decide``."""

    __slots__ = ("make", "args")

    def __init__(self, make: Callable[..., Any], *args: Any) -> None:
        self.make, self.args = make, args

    def __call__(self) -> Any:
        return self.make(*(resolved(a) for a in self.args))


def resolved(condition: Any) -> Any:
    """The condition itself: a bool, or SymPy's (maybe decided) condition."""
    return condition() if isinstance(condition, Deferred) else condition


def _ne(a: Size, b: Size) -> Any:
    import sympy

    return sympy.Ne(a, b)


def _and(*conditions: Any) -> Any:
    import sympy

    return sympy.And(*conditions)


def _decided(condition: Any) -> bool | None:
    if isinstance(condition, bool):
        return condition
    import sympy

    if condition is sympy.true:
        return True
    if condition is sympy.false:
        return False
    return None


def unequal(a: Size, b: Size) -> Any:
    """``a != b``: a bool for numbers, SymPy's ``Ne`` (maybe undecided) for symbols."""
    if isinstance(a, int) and isinstance(b, int):
        return a != b
    return Deferred(_ne, a, b)


def below(a: Size, b: Size) -> Any:
    """``a < b``: a bool for numbers, SymPy's ``<`` (maybe undecided) for symbols."""
    if isinstance(a, int) and isinstance(b, int):
        return a < b
    return Deferred(operator.lt, a, b)


def both(*conditions: Any) -> Any:
    """Every condition holds: a bool for bools, else SymPy's ``And`` (maybe decided)."""
    if all(isinstance(c, bool) for c in conditions):
        return all(conditions)
    return Deferred(_and, *conditions)


def failed(report: Any, fails: Any, key: str, message: str, stops: bool = True, **values: Value) -> bool:
    """True (after reporting ``message.format(**values)``) when the check fails on numbers; False
    when it holds, or when it is on symbolic sizes: then a program generator that listens
    (``report.guard``) records it, and the computation goes on as if it held. ``stops``
    says whether the layer gives up after this problem, which the generated program must know."""
    if isinstance(fails, bool):
        if fails:
            report(key, message.format(**{name: text(value) for name, value in values.items()}))
        return fails
    guard = getattr(report, "guard", None)
    if guard is None:  # the plain engine: a symbolic file states its conditions instead
        return False
    fails = resolved(fails)
    if _decided(fails) is not False:  # symbolic sizes: checked where the numbers are known
        guard(key, fails, message, values, stops)
    return False


def decide(report: Any, condition: Any) -> bool:
    """A choice a layer makes from its input's sizes: the condition itself for numbers; for
    symbols, what a listening generator chooses (``report.decide``), else False."""
    condition = resolved(condition)
    decided = _decided(condition)
    if decided is not None:
        return decided
    choose = getattr(report, "decide", None)
    return bool(choose(condition)) if choose is not None else False
