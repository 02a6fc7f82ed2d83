"""The MkDocs plugin: generated pages, and a strict build that fails on a broken file."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import ROOT, build_site, copy_project

BROKEN = "name: Broken\ninput: [8, 8, 3]\nlayers:\n  - {name: conv3_1, type: conv2d, filters: 4, kernel: 0}\n"


@pytest.mark.slow
def test_strict_build_fails_on_a_broken_file_naming_it(tmp_path: Path) -> None:
    root = copy_project(tmp_path)
    (root / "architectures" / "broken.yaml").write_text(BROKEN)
    block = (ROOT / "tests" / "blocks" / "bad-value.yaml").read_text(encoding="utf-8")
    (root / "architectures" / "broken-block.yaml").write_text(block.replace("../../", "../"), encoding="utf-8")
    done = build_site(root / "mkdocs.yml", root / "site")
    assert done.returncode != 0
    assert "ERROR   -  architectures/broken.yaml:4: layers[0] (conv3_1) kernel: expected a positive integer, got 0" in (
        done.stderr
    )
    assert (
        "architectures/broken-block.yaml:8: layers[0] (s.0.conv) stride: expected a positive integer, got 0 "
        "(block unit, placed at line 13)"
    ) in done.stderr
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_generated_pages_are_in_the_nav_and_a_hand_written_page_wins(tmp_path: Path, site: Path) -> None:
    nav = (site / "index.html").read_text(encoding="utf-8")
    for path in (ROOT / "architectures").glob("*.yaml"):
        assert f'href="architectures/{path.stem}/"' in nav, path.stem
    root = copy_project(tmp_path)
    (root / "docs" / "architectures" / "mnist.md").write_text("# Hand-written\n\n{{ total('mnist') }} parameters.\n")
    done = build_site(root / "mkdocs.yml", root / "site")
    assert done.returncode == 0, done.stderr
    page = (root / "site" / "architectures" / "mnist" / "index.html").read_text(encoding="utf-8")
    assert "Hand-written" in page and "4,058 parameters." in page


def test_theme_templates_compile_once_per_serve_process() -> None:
    import jinja2

    from cnnmacros.plugin import _MemoryBytecodeCache

    cache = _MemoryBytecodeCache()
    sources = {"page.html": "Hello {{ name }}"}
    compiled: list[str] = []

    class CountingEnvironment(jinja2.Environment):
        def _compile(self, source: str, filename: str):  # called only when no cached bytecode fits
            compiled.append(filename)
            return super()._compile(source, filename)

    def render() -> str:  # MkDocs makes a new environment for every build
        env = CountingEnvironment(loader=jinja2.DictLoader(sources), bytecode_cache=cache)
        return env.get_template("page.html").render(name="x")

    assert render() == render() == "Hello x"
    assert len(compiled) == 1
    sources["page.html"] = "Bye {{ name }}"  # an edited template is compiled again
    assert render() == "Bye x" and len(compiled) == 2
