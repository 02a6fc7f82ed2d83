"""The files the plugin serves: a real OpenType math font under its licence, carried by the wheel."""

from __future__ import annotations

import struct
import tomllib

from cnnmacros.plugin import ASSETS

from .conftest import ROOT


def _tables(font: bytes) -> dict[str, tuple[int, int]]:
    """An OpenType file's table directory: tag -> (offset, length)."""
    count = struct.unpack(">H", font[4:6])[0]
    entries = (struct.unpack(">4sIII", font[12 + 16 * i : 28 + 16 * i]) for i in range(count))
    return {tag.decode("latin-1"): (offset, length) for tag, _, offset, length in entries}


def _names(font: bytes) -> set[str]:
    """The font's names (the ``name`` table's Windows records, UTF-16)."""
    offset, _ = _tables(font)["name"]
    _, count, strings = struct.unpack(">HHH", font[offset : offset + 6])
    names = set()
    for i in range(count):
        platform, _, _, _, length, start = struct.unpack(">6H", font[offset + 6 + 12 * i : offset + 18 + 12 * i])
        if platform == 3:
            names.add(font[offset + strings + start : offset + strings + start + length].decode("utf-16-be"))
    return names


def test_the_served_font_is_latin_modern_math_with_a_math_table() -> None:
    font = (ASSETS / "latinmodern-math.otf").read_bytes()
    assert font[:4] == b"OTTO"  # OpenType with CFF outlines
    tables = _tables(font)
    assert "MATH" in tables and tables["MATH"][1] > 10_000  # the table that stretches floors and stacks fractions
    assert "Latin Modern Math" in _names(font)


def test_the_font_comes_with_its_licence_unrenamed_as_the_licence_asks() -> None:
    licence = (ASSETS / "GUST-FONT-LICENSE.txt").read_text(encoding="utf-8")
    assert "GUST Font License" in licence and "LaTeX Project Public License" in licence
    readme = (ASSETS / "README-Latin-Modern-Math.txt").read_text(encoding="utf-8")
    assert "Latin Modern Math" in readme and "GUST Font License" in readme
    assert "otf/latinmodern-math.otf" in (ASSETS / "MANIFEST-Latin-Modern-Math.txt").read_text(encoding="utf-8")


def test_the_wheel_carries_every_served_file() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = config["tool"]["setuptools"]["package-data"]["cnnmacros"]
    packaged = {path for pattern in patterns for path in ASSETS.parent.glob(pattern)}  # setuptools' globs
    for path in ASSETS.iterdir():
        assert path in packaged, path.name
    css = (ASSETS / "cnnmacros.css").read_text(encoding="utf-8")
    assert 'src: url("latinmodern-math.otf")' in css  # beside the stylesheet, where the plugin serves both
