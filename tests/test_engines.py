"""The engines of docs/own-site.md: MkDocs and ProperDocs build the same site from the same mkdocs.yml."""

from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import pytest
import yaml

from .conftest import ARCHITECTURES, ROOT, build_site, require

pytestmark = pytest.mark.slow
ENGINES = ("mkdocs", "properdocs")
GENERATOR = re.compile(rb'<meta name="generator" content="[^"]*">')


def _require_properdocs() -> None:
    require(importlib.util.find_spec("properdocs") is not None, "ProperDocs is not installed: bash scripts/setup test")


def _files(site: Path) -> dict[str, bytes]:
    """Every output file, with the generator tag (which names the engine) taken out of the HTML."""
    out = {}
    for path in sorted(site.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            out[path.relative_to(site).as_posix()] = GENERATOR.sub(b"", data) if path.suffix == ".html" else data
    return out


def _same_output(config: Path, tmp_path: Path, built: Path | None = None) -> dict[str, bytes]:
    """Build with both engines, --strict; assert that the outputs agree file by file, and return them.
    ``built``: MkDocs' build of ``config``, made already (the session's site), so only ProperDocs builds."""
    outputs = {}
    for engine in ENGINES:
        if engine == "mkdocs" and built is not None:
            outputs[engine] = _files(built)
            continue
        done = build_site(config, tmp_path / engine, engine=engine)
        assert done.returncode == 0, f"{engine}:\n{done.stderr}"
        assert "WARNING" not in done.stderr, f"{engine}:\n{done.stderr}"
        outputs[engine] = _files(tmp_path / engine)
    mkdocs, properdocs = (outputs[engine] for engine in ENGINES)
    assert sorted(mkdocs) == sorted(properdocs)
    differ = [name for name in mkdocs if mkdocs[name] != properdocs[name]]
    assert not differ, f"MkDocs and ProperDocs disagree on {differ}"
    return mkdocs


def test_properdocs_builds_this_site_as_mkdocs_does(tmp_path: Path, site: Path) -> None:
    """ProperDocs' build of the whole site against MkDocs' (the session's, with the same sitemap date:
    build_site gives every build one SOURCE_DATE_EPOCH)."""
    _require_properdocs()
    files = _same_output(ROOT / "mkdocs.yml", tmp_path, built=site)
    assert "architectures/alexnet/index.html" in files and "own-site/index.html" in files


def _block(text: str, language: str, start: str) -> str:
    blocks = [b for b in re.findall(rf"```{language}\n(.*?)```", text, re.S) if b.startswith(start)]
    assert len(blocks) == 1, f"one {language} block starting {start!r} in docs/own-site.md"
    return blocks[0]


def _plugins_but_the_folder(config: dict) -> list:
    """The ``plugins`` list with cnnmacros' ``directory`` left out: the snippet, whatever the folder."""
    out = []
    for item in config["plugins"]:
        if isinstance(item, dict) and "cnnmacros" in item:
            item = {"cnnmacros": {k: v for k, v in item["cnnmacros"].items() if k != "directory"}}
        out.append(item)
    return out


def minimal_site(project: Path) -> Path:
    """The mkdocs.yml, docs/index.md and models/lenet5.yaml of docs/own-site.md, written to ``project``."""
    text = (ROOT / "docs" / "own-site.md").read_text(encoding="utf-8")
    config = _block(text, "yaml", "site_name:")
    ours = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))
    snippet = yaml.safe_load(_block(text, "yaml", "plugins:"))
    assert snippet["plugins"] == yaml.safe_load(config)["plugins"]
    assert snippet["plugins"] == ["search", "macros", {"cnnmacros": {"directory": "models"}}], "the issue's snippet"
    assert _plugins_but_the_folder(ours) == _plugins_but_the_folder(snippet), "this site's plugins are not the snippet"
    (project / "docs").mkdir(parents=True)
    (project / "models").mkdir()
    (project / "mkdocs.yml").write_text(config, encoding="utf-8")
    (project / "docs" / "index.md").write_text(_block(text, "markdown", "# My networks"), encoding="utf-8")
    shutil.copy(ARCHITECTURES / "lenet5.yaml", project / "models")
    return project / "mkdocs.yml"


def test_the_minimal_site_of_the_docs_builds(tmp_path: Path) -> None:
    """The mkdocs.yml and index.md printed in docs/own-site.md, built in a fresh folder by both engines."""
    _require_properdocs()
    config = minimal_site(tmp_path / "my-site")
    files = _same_output(config, tmp_path)
    index = files["index.html"].decode()
    assert "61,706" in index and "<math" in index and "data-m=" not in index
    assert "models/lenet5/index.html" in files and "assets/cnnmacros/cnnmacros.css" in files
