"""The engines: MkDocs and ProperDocs build the same site from the same mkdocs.yml."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from .conftest import ROOT, build_site, require

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


def _same_output(config: Path, tmp_path: Path) -> dict[str, bytes]:
    """Build with both engines, --strict; assert that the outputs agree file by file, and return them."""
    outputs = {}
    for engine in ENGINES:
        done = build_site(config, tmp_path / engine, engine=engine)
        assert done.returncode == 0, f"{engine}:\n{done.stderr}"
        assert "WARNING" not in done.stderr, f"{engine}:\n{done.stderr}"
        outputs[engine] = _files(tmp_path / engine)
    mkdocs, properdocs = (outputs[engine] for engine in ENGINES)
    assert sorted(mkdocs) == sorted(properdocs)
    differ = [name for name in mkdocs if mkdocs[name] != properdocs[name]]
    assert not differ, f"MkDocs and ProperDocs disagree on {differ}"
    return mkdocs


def test_properdocs_builds_this_site_as_mkdocs_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _require_properdocs()
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1764547200")  # the sitemap's dates, the same for both builds
    files = _same_output(ROOT / "mkdocs.yml", tmp_path)
    assert "architectures/alexnet/index.html" in files
