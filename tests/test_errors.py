"""The one family of errors: file, line, key path, message."""

from __future__ import annotations

from cnnmacros.errors import ArchitectureError, Problem, layer_path


def test_problem_reads_like_mkdocs_config_validation() -> None:
    p = Problem(
        "architectures/vgg16.yaml", 14, layer_path(3, "conv3_1", "kernel"), "expected a positive integer, got 0"
    )
    assert str(p) == "architectures/vgg16.yaml:14: layers[3] (conv3_1) kernel: expected a positive integer, got 0"
    assert str(Problem("a.yaml", 1, "", "file is empty")) == "a.yaml:1: file is empty"


def test_layer_path_without_name_or_key() -> None:
    assert layer_path(0, None) == "layers[0]"
    assert layer_path(2, None, "type") == "layers[2] type"
    assert layer_path(2, "fc") == "layers[2] (fc)"


def test_error_holds_every_problem_in_line_order() -> None:
    error = ArchitectureError([Problem("f", 9, "b", "second"), Problem("f", 2, "a", "first")])
    assert [p.line for p in error.problems] == [2, 9]
    assert str(error) == "f:2: a: first\nf:9: b: second"
