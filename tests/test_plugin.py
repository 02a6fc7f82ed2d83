"""The MkDocs plugin: generated pages, and a strict build that fails on a broken file."""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from .conftest import ARCHITECTURES, ROOT, build_site, copy_project

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

    from cnnmacros.plugin import CnnMacrosPlugin

    cache = CnnMacrosPlugin().theme_bytecode
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


LENET = ARCHITECTURES / "lenet5.yaml"
SMALL = "name: Small\ninput: [8, 8, 1]\nlayers:\n  - {name: C1, type: conv2d, filters: 2, kernel: 3}\n"


def _build_in_process(project: Path, plugins: str, theme: str = "mkdocs") -> Path:
    """``mkdocs build --strict`` of a one-page site, in this process, as ``mkdocs serve`` runs its builds."""
    from mkdocs.commands.build import build
    from mkdocs.config import load_config

    (project / "docs").mkdir(parents=True, exist_ok=True)
    (project / "docs" / "index.md").write_text("# Home\n\n{{ total('lenet5') }} parameters.\n", encoding="utf-8")
    (project / "mkdocs.yml").write_text(
        f"site_name: S\ntheme: {{name: {theme}}}\nplugins:\n{plugins}", encoding="utf-8"
    )
    config = load_config(str(project / "mkdocs.yml"), site_dir=str(project / "site"), strict=True)
    config.plugins.on_startup(command="build", dirty=False)
    build(config)
    return project / "site"


def test_two_sites_in_one_process_each_see_their_own_files(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """MkDocs keeps one plugin instance for the process; each build still reads its own directory,
    with the plugins in either order and a theme other than Material, and logs nothing at INFO."""
    first, second = tmp_path / "first", tmp_path / "second"
    (first / "models").mkdir(parents=True)
    shutil.copy(LENET, first / "models")
    (second / "nets").mkdir(parents=True)
    # another file of the same stem: 3x3x1x2 weights and 2 biases
    (second / "nets" / "lenet5.yaml").write_text(SMALL, encoding="utf-8")
    caplog.set_level(logging.INFO)
    site = _build_in_process(first, "  - search\n  - macros\n  - cnnmacros: {directory: models}\n")
    assert "61,706 parameters." in (site / "index.html").read_text(encoding="utf-8")
    assert (site / "models" / "lenet5" / "index.html").exists()
    site = _build_in_process(second, "  - cnnmacros: {directory: nets}\n  - search\n  - macros\n")
    assert "20 parameters." in (site / "index.html").read_text(encoding="utf-8")
    page = (site / "nets" / "lenet5" / "index.html").read_text(encoding="utf-8")
    assert "Small" in page and "<math" in page and "data-m=" not in page
    assert 'href="../../assets/cnnmacros/cnnmacros.css"' in page
    ours = [r for r in caplog.records if r.name.startswith("mkdocs.plugins.cnnmacros")]
    assert ours == []


def test_a_folder_outside_the_site_is_refused(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from mkdocs.exceptions import Abort

    message = "Plugin 'cnnmacros' option 'directory': expected a folder below the one of mkdocs.yml, such as 'models'"
    for folder in ("../x", "/abs", "."):
        caplog.clear()
        with pytest.raises(Abort):
            _build_in_process(tmp_path, f"  - cnnmacros: {{directory: {folder}}}\n")
        assert f"Config value 'plugins': {message}, got '{folder}'" in caplog.text


def _record_renders(monkeypatch: pytest.MonkeyPatch, record: Path) -> Callable[[], list[str]]:
    """Each architecture page the macros render, written to ``record`` (pages are rendered in
    forked processes too); the returned function reads and clears the list."""
    from cnnmacros.macros import Macros

    page_of = Macros.architecture_page

    def counting(self: Macros, arch: str) -> str:
        with record.open("a", encoding="utf-8") as out:
            out.write(arch + "\n")
        return page_of(self, arch)

    monkeypatch.setattr(Macros, "architecture_page", counting)

    def rendered() -> list[str]:
        names = sorted(record.read_text(encoding="utf-8").split()) if record.exists() else []
        record.unlink(missing_ok=True)
        return names

    return rendered


def test_a_rebuild_renders_again_only_the_pages_of_changed_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As under ``mkdocs serve``: one plugin instance, a build, then builds after no edit and after
    an edit; a kept page is served whole, MathML included, and an edited file's page is new."""
    (tmp_path / "models").mkdir()
    shutil.copy(LENET, tmp_path / "models")
    (tmp_path / "models" / "small.yaml").write_text(SMALL, encoding="utf-8")
    rendered = _record_renders(monkeypatch, tmp_path / "rendered")
    plugins = "  - search\n  - macros\n  - cnnmacros: {directory: models}\n"
    site = _build_in_process(tmp_path, plugins)
    first = {stem: (site / "models" / stem / "index.html").read_text(encoding="utf-8") for stem in ("lenet5", "small")}
    assert rendered() == ["lenet5", "small"]
    site = _build_in_process(tmp_path, plugins)
    assert rendered() == []
    for stem, page in first.items():
        assert (site / "models" / stem / "index.html").read_text(encoding="utf-8") == page
    # 3x3x1x2 weights and 2 biases become 3x3x1x5 and 5
    (tmp_path / "models" / "small.yaml").write_text(SMALL.replace("filters: 2", "filters: 5"), encoding="utf-8")
    site = _build_in_process(tmp_path, plugins)
    assert rendered() == ["small"]
    page = (site / "models" / "small" / "index.html").read_text(encoding="utf-8")
    assert "<math" in page and "data-m=" not in page and ">50<" in page and ">20<" not in page
    assert (site / "models" / "lenet5" / "index.html").read_text(encoding="utf-8") == first["lenet5"]


def _cache_entries(cache: Path) -> dict[str, int]:
    """The page cache's entries (every site's) and when each was written."""
    return {p.name: p.stat().st_mtime_ns for p in cache.rglob("*.json")}


@pytest.mark.slow
def test_a_new_build_takes_unchanged_pages_from_the_disk_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A second ``mkdocs build`` (a new process, so nothing in memory) writes the same site from the
    pages the first kept in the user's cache folder; an edited file's page is made again and its
    old entry removed; an entry that does not read back is made again; ``cache: false`` keeps none."""
    cache = tmp_path / "user-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    shutil.copy(LENET, project / "models")
    (project / "models" / "small.yaml").write_text(SMALL, encoding="utf-8")
    (project / "docs").mkdir()
    (project / "docs" / "index.md").write_text("# Home\n", encoding="utf-8")
    config = project / "mkdocs.yml"
    config.write_text("site_name: S\nplugins:\n  - cnnmacros: {directory: models}\n", encoding="utf-8")

    def build() -> dict[str, str]:
        done = build_site(config, project / "site")
        assert done.returncode == 0, done.stderr
        pages = project / "site" / "models"
        return {stem: (pages / stem / "index.html").read_text(encoding="utf-8") for stem in ("lenet5", "small")}

    first = build()
    entries = _cache_entries(cache / "cnnmacros")
    assert len(entries) == 2 and ">61,706<" in first["lenet5"]
    assert build() == first
    assert _cache_entries(cache / "cnnmacros") == entries  # read, not written again
    (project / "models" / "small.yaml").write_text(SMALL.replace("filters: 2", "filters: 5"), encoding="utf-8")
    edited = build()
    assert edited["lenet5"] == first["lenet5"] and ">50<" in edited["small"] and ">20<" not in edited["small"]
    now = _cache_entries(cache / "cnnmacros")
    assert len(now) == 2 and len(set(now) & set(entries)) == 1
    kept = next(iter(set(now) & set(entries)))
    assert now[kept] == entries[kept]
    broken = next(cache.rglob(kept))
    broken.write_text('{"markdown": ', encoding="utf-8")
    assert build() == edited
    assert json.loads(broken.read_text(encoding="utf-8"))["markdown"].startswith("# LeNet")
    shutil.rmtree(cache)
    config.write_text("site_name: S\nplugins:\n  - cnnmacros: {directory: models, cache: false}\n", encoding="utf-8")
    assert build() == edited
    assert not cache.exists()
