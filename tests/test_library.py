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


def test_results_follow_edits(tmp_path: Path) -> None:
    directory = tmp_path / "architectures"
    directory.mkdir()
    path = directory / "net.yaml"
    path.write_text(NET.format(filters=2))
    library = Library(directory, tmp_path)  # each build makes a new Library
    assert library.summary("net").total_params == (9 + 1) * 2
    assert Library(directory, tmp_path).results() is library.results()  # unchanged tree: from the cache
    path.write_text(NET.format(filters=40))  # same size class, new content
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    library = Library(directory, tmp_path)
    assert library.summary("net").total_params == (9 + 1) * 40
    path.write_text(NET.format(filters=0))
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 2 * 10**9))
    library = Library(directory, tmp_path)
    result = library.get("net")
    assert isinstance(result, ArchitectureError)
    assert str(result) == "architectures/net.yaml:3: layers[0] (c) filters: expected a positive integer, got 0"
    assert library.errors() == [result]
    with pytest.raises(ArchitectureError):
        library.summary("net")


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
