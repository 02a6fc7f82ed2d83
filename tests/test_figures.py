"""The figure declarations: every worked step agrees with its SymPy formula and with its row."""

from __future__ import annotations

import pytest
import sympy

from cnnmacros.engine import summarize
from cnnmacros.figures import FIGURE, FIGURES, TOTALS
from cnnmacros.formulas import FORMULAS
from cnnmacros.layers import REGISTRY

from .conftest import ARCHITECTURES
from .published import RECEPTIVE_FIELDS

FILES = sorted(ARCHITECTURES.glob("*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_step_is_its_formula_and_its_rows_figure(path) -> None:
    summary = summarize(path)
    checked = 0
    for row in summary.rows:
        for step in row.steps:
            f = FORMULAS[step.formula]
            substituted = f.rhs.xreplace({s: sympy.sympify(step.values[s.name]) for s in f.args})
            assert sympy.simplify(substituted - step.result) == 0, (path.stem, row.name, step.key)
            if step.key in FIGURE:  # a step that works out a figure is that figure
                assert step.result == row.figures[step.key], (path.stem, row.name, step.key)
            checked += 1
        field = row.figures["receptive_field"]
        for key, values in (("field_size", field and field.size), ("field_jump", field and field.jump)):
            steps = [s for s in row.steps if s.key.startswith(key)]
            if steps:  # the field's steps give the row's field along the axes they name
                assert {s.result for s in steps} == set(values), (path.stem, row.name, key)
    assert checked > len(summary.rows)


def test_declarations_are_consistent() -> None:
    keys = [f.key for f in FIGURES]
    assert len(keys) == len(set(keys)) and len({f.json for f in FIGURES}) == len(FIGURES)
    for figure in FIGURES:
        assert set(figure.formulas) <= set(FORMULAS), figure.key
        assert figure.help and figure.heading
    families = {kind.family for kind in REGISTRY.values()}
    for figure in FIGURES:
        named = {d for d in figure.defined_by if not d.startswith("every")}
        assert named <= families, (figure.key, named - families)
    assert [t.key for t in TOTALS if t.key in FIGURE] == [f.key for f in FIGURES if f.total]


@pytest.mark.parametrize("stem", sorted(RECEPTIVE_FIELDS))
def test_receptive_fields_are_the_published_ones(stem: str) -> None:
    summary = summarize(ARCHITECTURES / f"{stem}.yaml")
    for layer, size in RECEPTIVE_FIELDS[stem].items():
        assert summary.row(layer).receptive_field.size == (size, size), (stem, layer)
