"""The macros: thin calls that return rendered figures, and error blocks for broken files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from cnnmacros import render
from cnnmacros.library import Library
from cnnmacros.macros import MACROS, Macros, _exact, define_env

from .conftest import ARCHITECTURES, ROOT


@pytest.fixture(scope="module")
def macros() -> Macros:
    return Macros(Library(ARCHITECTURES, ROOT))


def test_values_for_prose(macros: Macros) -> None:
    assert macros.shape("alexnet", "Conv-1") == "55×55×96"
    assert macros.shape("alexnet", "input") == "227×227×3"
    assert macros.shape("mnist") == "10"
    assert macros.count("alexnet", "FC-1", "weights") == "37,748,736"  # 000: 6^2 x 256 x 4096
    assert macros.total("alexnet") == "62,378,344"
    assert macros.total("alexnet", layer_type="conv2d") == "3,747,200"
    assert macros.total("batchnorm-3d", "non_trainable") == "96"


def test_formulas_evaluated_with_a_layers_numbers(macros: Macros) -> None:
    # 000's fault: (224 - 11)/4 + 1 = 54.25; 001's fault: (227 - 11 + 1)/4 = 54.25
    assert macros.value_of("conv_output_size_textbook", "alexnet", "Conv-1", input=[224, 224, 3]) == "54.25"
    assert macros.value_of("naive_strided_output_size", "alexnet", "Conv-1") == "54.25"
    assert macros.value_of("conv_output_size_d1", "alexnet", "Conv-1", S=1) == "217"
    assert macros.value_of("pool_output_size", I=6, K=3, S=2, P=0) == "2"
    assert 'data-formula="naive_strided_output_size"' in macros.compute(
        "naive_strided_output_size", "alexnet", "Conv-1"
    )
    with pytest.raises(KeyError, match="needs S"):
        macros.value_of("pool_output_size", I=6, K=3, P=0)


def test_worked_steps_and_tables(macros: Macros) -> None:
    step = macros.worked_step("alexnet", "Conv-1", "params")
    assert step.count('<div class="cnn-eq">') == 1 and "34,944" in step and "<figure" not in step
    size = macros.worked_step("alexnet", "Conv-1", "output_size")
    assert size.count('<figure class="cnn-figure cnn-slide">') == 1  # its sliding window, drawn
    assert "<figure" not in macros.worked_step("alexnet", "Conv-1", "output_size", figure=False)
    with pytest.raises(KeyError, match="no step 'nothing'"):
        macros.worked_step("alexnet", "Conv-1", "nothing")
    with pytest.raises(KeyError, match="no layer named 'Conv-9'"):
        macros.shape("alexnet", "Conv-9")
    assert macros.layer_table("mnist").startswith('<div class="cnn-table cnn-layers"><table><thead><tr><th')
    assert macros.setting("mnist", "FC", "units") == "16" and macros.layer_count("mnist", "conv2d") == "3"
    assert macros.example_inputs("batchnorm-2d") == "5×8×3, 6×6×3 and 8×5×3"  # 32(H-4)(W-4) = 128


def test_exact_values() -> None:
    assert (_exact(55), _exact(62378344), _exact(0.5)) == ("55", "62,378,344", "0.5")
    import sympy

    assert _exact(sympy.Rational(217, 4)) == "54.25" and _exact(sympy.Rational(1, 3)) == "1/3"


def test_broken_file_shows_its_errors(tmp_path: Path) -> None:
    (tmp_path / "bad.yaml").write_text(
        "name: B\ninput: [4, 1]\nlayers: [{name: c, type: conv1d, filters: 1, kernel: 0}]\n"
    )
    m = Macros(Library(tmp_path, tmp_path))
    for out in (
        m.layer_table("bad"),
        m.architecture_page("bad"),
        m.worked_step("bad", "c", "x"),
        m.compute("conv_output_size_d1", "bad", "c"),
        m.memory_table("bad", 32),
        m.memory_totals("bad"),
        m.memory_fits("bad"),
        m.memory_step("bad", "c"),
    ):
        assert "This architecture file has errors" in out
        assert "bad.yaml:3: layers[0] (c) kernel: expected a positive integer, got 0" in out
    assert (
        m.shape("bad")
        == m.count("bad", "c")
        == m.total("bad")
        == m.value_of("conv_biases", "bad", "c")
        == m.memory_total("bad")
        == "(file has errors)"
    )


def test_the_registry_is_every_public_macro_with_its_math_hidden(macros: Macros) -> None:
    registry = macros.registry()
    public = {n for n in dir(Macros) if not n.startswith("_") and callable(getattr(Macros, n)) and n != "registry"}
    assert list(registry) == list(MACROS) and set(MACROS) == public
    assert registry["total"]("alexnet") == "62,378,344"
    hidden = registry["formula"]("conv_biases")
    assert "<math" not in hidden and "<math" in macros.stash.restore(hidden)


def test_an_old_macros_module_line_says_what_to_do() -> None:
    from mkdocs.exceptions import PluginError

    with pytest.raises(PluginError, match="list 'cnnmacros' under plugins instead"):
        define_env(object())


def test_receptive_field_macros(macros: Macros) -> None:
    # AlexNet Conv-5, by hand: Conv-1 11 (jump 4), MaxPool-1 11 + 2x4 = 19 (jump 8), Conv-2
    # 19 + 4x8 = 51, MaxPool-2 51 + 2x8 = 67 (jump 16), Conv-3..5 67 + 3 x 2x16 = 163.
    assert macros.field("alexnet", "Conv-5") == "163×163"
    assert macros.field("alexnet", "Conv-5", "jump") == "16"
    # offset: Conv-2 pads 2 at jump 8 (-16), Conv-3, 4 and 5 pad 1 at jump 16 (-48 in all): -64
    assert macros.field("alexnet", "Conv-5", "offset") == "\u221264"
    with pytest.raises(KeyError, match="no spatial axes"):
        macros.field("alexnet", "FC-1")


def test_field_strip_shows_the_holes(macros: Macros) -> None:
    # 3 taps, dilation 2: inputs 0, 2 and 4 of a span of 5.
    strip = macros.field_strip([[3, 1, 2, 0]])
    assert strip.count("cnn-seen") == 3 and strip.count("cnn-hole") == 2
    assert "3 of 5 positions seen, from 0 to 4" in strip
    # a 2-wide window at stride 3, then a 2-wide window: {0, 1} and {3, 4}, with 2 skipped
    assert render.seen_positions([(2, 3, 1, 0), (2, 1, 1, 0)]) == {0, 1, 3, 4}
    # padding moves the field before the input: a 3-wide window padded by 1 reads -1, 0, 1
    assert render.seen_positions([(3, 1, 1, 1)]) == {-1, 0, 1}


def test_byte_totals_for_prose(macros: Macros) -> None:
    assert macros.total("alexnet", "param_bytes") == f"{4 * 62_378_344:,}"


def test_conventions_page_macros(macros: Macros) -> None:
    table = macros.conventions_table()
    assert "| [AlexNet](architectures/alexnet.md) | 1,135,256,096 |" in table
    # the symbolic files appear at their smallest valid input
    assert "Conv and batch norm, 2D at 5×8×3" in table
    block = macros.convention("fvcore")
    assert "0.1.5.post20221221" in block and "aten::_convolution_mode" in block


def test_training_memory_macros(macros: Macros) -> None:
    # MNIST at batch 32, by hand: the outputs of Conv-1 (24x24x4), Conv-2 (10x10x8), Conv-3 (3x3x16)
    # and FC (16), kept by the layer after each, and the pools' outputs (12x12x4, 5x5x8) with an
    # int64 index per value: float32, 32 examples.
    saved = 32 * (4 * (2304 + 800 + 144 + 16) + 12 * (576 + 200))
    assert macros.memory_total("mnist", "saved_bytes", 32) == f"{saved:,}"
    assert "<math" in macros.memory_total("mnist", "saved_bytes", "B")  # an expression in B
    table = macros.memory_table("mnist", 32)
    assert f"| MaxPool&#45;1 | maxpool2d | 12×12×4 | {32 * 12 * 576:,} |" in table
    assert "indices of the maxima" in table and f"**{saved:,}**" in table
    totals = macros.memory_totals("mnist", 32, "sgd")
    assert "| `optimizer_bytes` | 0 |" in totals and f"| `grad_bytes` | {4 * 4058:,} |" in totals
    # the largest batch in 16 GiB: floor((16 GiB - 3 x params) / per example), Adam's 2 moments
    per_example = 28 * 28 * 4 + saved // 32
    fits = macros.memory_fits("mnist")
    assert f"| 16 GiB | {16 * 2**30:,} | **{(16 * 2**30 - 4 * 4 * 4058) // per_example:,}** |" in fits
    step = macros.memory_step("mnist", "MaxPool-1", "kept", 32)  # one step: 8 bytes x 32 x 12x12x4 indices
    assert step.count('class="cnn-step"') == 1 and f"{8 * 32 * 576:,}" in re.sub(r"<[^>]+>", "", step)
    # the page's bars: Conv-1 keeps the most (9,216 of 22,368 bytes per example: 41.2 %), MaxPool-1
    # 6,912 of them (30.9 %, a bar 75 % as long), Flatten nothing
    page = macros.architecture_page("mnist")
    assert '<span class="cnn-bar" style="width: 100%" title="41.2 % of the bytes kept"></span>' in page
    assert '<span class="cnn-bar" style="width: 75%" title="30.9 % of the bytes kept"></span>' in page
    rules = macros.memory_rules()
    assert "`maxpool1d`, `maxpool2d`, `maxpool3d`" in rules and "saved_index_bytes" not in rules
