"""The generated integer code must match the formulas, both as text and as values."""

from __future__ import annotations

import sympy
from hypothesis import given, settings
from hypothesis import strategies as st

from cnnmacros import _compiled
from cnnmacros.codegen import TARGET, generate
from cnnmacros.formulas import FORMULAS


def test_generated_file_has_not_drifted() -> None:
    assert TARGET.read_text(encoding="utf-8") == generate(), (
        "cnnmacros/_compiled.py is stale: run python -m cnnmacros.codegen"
    )


def test_no_true_division_or_float_in_generated_code() -> None:
    text = generate()
    body = "\n".join(line for line in text.splitlines() if line.startswith("    return"))
    assert "/" not in body.replace("//", "")
    assert "math." not in body and "float" not in body


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_compiled_equals_sympy_substitution(data: st.DataObject) -> None:
    name = data.draw(st.sampled_from(sorted(n for n, f in FORMULAS.items() if f.integer)))
    f = FORMULAS[name]
    values = {
        s.name: data.draw(st.integers(min_value=0 if s.is_nonnegative and not s.is_positive else 1, max_value=10**6))
        for s in f.args
    }
    if "G" in values and "C_in" in values:
        values["C_in"] = values["C_in"] * values["G"]
    expected = f.rhs.subs({s: values[s.name] for s in f.args})
    got = getattr(_compiled, name)(**values)
    assert isinstance(got, int) and got == int(sympy.floor(expected))  # floor: the largest batch may be negative


def test_huge_values_stay_exact() -> None:
    # 10**30 inputs times 10**30 units: Python integers, no overflow, no float rounding.
    assert _compiled.dense_weights(N_in=10**30, N_out=10**30 + 1) == 10**60 + 10**30
