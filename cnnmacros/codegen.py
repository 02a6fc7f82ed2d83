"""Turn the SymPy formulas into plain integer Python, so a summary runs without SymPy.

``python -m cnnmacros.codegen`` rewrites ``_compiled.py``; a test regenerates the text and fails if
the file has drifted from the formulas. Floors and ceilings become integer division, so the code is
exact for integers of any size, and it also accepts SymPy expressions for symbolic sizes
(``expr // n`` is SymPy's floor).
"""

from __future__ import annotations

import sys
from pathlib import Path

import sympy
from sympy.printing.pycode import PythonCodePrinter

from cnnmacros.formulas import FORMULAS, Formula

TARGET = Path(__file__).with_name("_compiled.py")

HEADER = '''"""Integer code generated from ``cnnmacros.formulas`` by ``python -m cnnmacros.codegen``.

Do not edit: a test regenerates this file and fails if it differs.
"""

# ruff: noqa: E501, N803


def _max(*values):
    """max() of integers; SymPy's Max when a size is symbolic."""
    if all(isinstance(v, int) for v in values):
        return max(values)
    import sympy

    return sympy.Max(*values)


def _min(*values):
    """min() of integers; SymPy's Min when a size is symbolic."""
    if all(isinstance(v, int) for v in values):
        return min(values)
    import sympy

    return sympy.Min(*values)


def _select(condition, then, otherwise):
    """``then if condition else otherwise``; a SymPy Piecewise when the condition is undecided."""
    if condition in (True, False):
        return then if condition else otherwise
    import sympy

    return sympy.Piecewise((then, condition), (otherwise, True))
'''


class IntegerPrinter(PythonCodePrinter):
    """Prints floor and ceiling as integer division, never through floats."""

    def _print_floor(self, expr: sympy.floor) -> str:
        num, den = sympy.fraction(expr.args[0])
        return f"(({self._print(num)}) // ({self._print(den)}))"

    def _print_ceiling(self, expr: sympy.ceiling) -> str:
        num, den = sympy.fraction(expr.args[0])
        return f"(-((-({self._print(num)})) // ({self._print(den)})))"

    def _print_Max(self, expr: sympy.Max) -> str:
        return "_max(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Min(self, expr: sympy.Min) -> str:
        return "_min(" + ", ".join(self._print(a) for a in expr.args) + ")"

    def _print_Piecewise(self, expr: sympy.Piecewise) -> str:
        (value, condition), (otherwise, _) = expr.args
        return f"_select({self._print(condition)}, {self._print(value)}, {self._print(otherwise)})"


def function_source(f: Formula) -> str:
    """One function per formula; its arguments are the formula's symbols in declared order."""
    printer = IntegerPrinter()
    rhs = f.rhs
    if not rhs.has(sympy.floor, sympy.ceiling, sympy.Piecewise):
        rhs = sympy.together(rhs)
    num, den = sympy.fraction(rhs)
    body = printer.doprint(num) if den == 1 else f"({printer.doprint(num)}) // ({printer.doprint(den)})"
    if "/" in body.replace("//", ""):
        raise ValueError(f"{f.name}: true division would leave the integers: {body}")
    params = ", ".join(s.name for s in f.args)
    return f"def {f.name}({params}):\n    return {body}\n"


def generate() -> str:
    """The full text of ``_compiled.py``."""
    parts = [HEADER]
    for name in sorted(n for n, f in FORMULAS.items() if f.integer):
        parts.append("\n\n" + function_source(FORMULAS[name]))
    return "".join(parts)


def main() -> int:
    TARGET.write_text(generate(), encoding="utf-8")
    print(f"wrote {TARGET}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
