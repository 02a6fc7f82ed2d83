"""The per-directory cache: recomputed when a file changes, never stale."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from cnnmacros.errors import ArchitectureError
from cnnmacros.library import Library
from cnnmacros.rows import Summary

from .conftest import ARCHITECTURES

NET = "name: N\ninput: [8, 8, 1]\nlayers: [{{name: c, type: conv2d, filters: {filters}, kernel: 3}}]\n"


def _touch(path: Path, seconds: int) -> None:
    """A modification time ``seconds`` later, as a save a second apart gives."""
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + seconds * 10**9))


def test_results_follow_edits(tmp_path: Path) -> None:
    directory = tmp_path / "architectures"
    directory.mkdir()
    path = directory / "net.yaml"
    path.write_text(NET.format(filters=2))
    (directory / "other.yaml").write_text(NET.format(filters=3))
    library = Library(directory, tmp_path)  # one library for every build of a `mkdocs serve`
    assert library.summary("net").total_params == (9 + 1) * 2
    other = library.get("other")
    library.refresh()  # the next build: an unchanged file keeps its results
    assert library.get("other") is other
    path.write_text(NET.format(filters=40))  # same size class, new content
    _touch(path, 1)
    library.refresh()
    assert library.summary("net").total_params == (9 + 1) * 40
    assert library.get("other") is other  # only the edited file is read again
    path.write_text(NET.format(filters=0))
    _touch(path, 2)
    library.refresh()
    result = library.get("net")
    assert isinstance(result, ArchitectureError)
    assert str(result) == "architectures/net.yaml:3: layers[0] (c) filters: expected a positive integer, got 0"
    assert library.errors() == [result]
    with pytest.raises(ArchitectureError):
        library.summary("net")
    path.unlink()
    library.refresh()
    assert sorted(library.results()) == ["other"]


def test_a_variant_follows_its_file(tmp_path: Path) -> None:
    path = tmp_path / "net.yaml"
    path.write_text(NET.format(filters=2))
    library = Library(tmp_path, tmp_path)
    # an 8x8 input through a 3x3 kernel is 6x6; a 10x10 one is 8x8
    assert library.variant("net", (10, 10, 1)).row("c").output == (8, 8, 2)
    path.write_text(NET.format(filters=5))
    _touch(path, 1)
    library.refresh()
    assert library.variant("net", (10, 10, 1)).row("c").output == (8, 8, 5)


def test_bad_file_names_and_unknown_stems(tmp_path: Path) -> None:
    (tmp_path / "my net.yaml").write_text(NET.format(filters=1))
    library = Library(tmp_path, tmp_path)
    assert str(library.get("my net")) == (
        "my net.yaml:1: expected a file name of letters, digits, '-' and '_', got 'my net.yaml'"
    )
    with pytest.raises(KeyError, match="no architecture file 'nope'"):
        library.get("nope")


def test_variant_recomputes_for_another_input() -> None:
    library = Library(ARCHITECTURES, ARCHITECTURES.parent)
    at_224 = library.variant("alexnet", (224, 224, 3))
    assert isinstance(at_224, Summary)
    # floor((224 - 11)/4) + 1 = 54, then floor((54 - 3)/2) + 1 = 26
    assert at_224.row("Conv-1").output == (54, 54, 96) and at_224.row("MaxPool-1").output == (26, 26, 96)
    assert library.summary("alexnet").row("Conv-1").output == (55, 55, 96)


ZOO_SAMPLE = ("convnext_tiny", "shufflenet_v2_x0_5", "efficientnet_b0", "inception_v3", "regnet_y_400mf", "mnasnet0_5")


def test_macs_under_a_convention_are_those_of_computing_the_file_under_it() -> None:
    """The conventions page recounts only each layer's MACs on the computed rows; computing the
    whole file under each convention (which tests/test_conventions.py checks against each tool)
    gives the same totals: every file of the site's own and a sample of the zoo, each family once."""
    import dataclasses

    from cnnmacros.conventions import CONVENTIONS
    from cnnmacros.engine import compute

    library = Library(ARCHITECTURES, ARCHITECTURES.parent)
    stems = [p.stem for p in sorted(ARCHITECTURES.glob("*.yaml"))] + [f"torchvision/{n}" for n in ZOO_SAMPLE]
    for stem in stems:
        architecture = library.architecture(stem)
        shape = None
        if library.summary(stem).symbolic:
            shape = library.examples(stem, 1)[0]
            architecture = dataclasses.replace(architecture, input=shape)
        for convention in CONVENTIONS:
            expected = compute(architecture, convention=convention).totals["macs"]
            assert library.macs(stem, convention, shape) == expected, (stem, convention)
    assert library.macs("torchvision/inception_v3", "thop") != library.macs("torchvision/inception_v3", "cnnmacros")
