"""The package as a user installs it: a wheel built from the repository, in a new virtual environment
(no system site-packages, nothing of this checkout on its path), builds the minimal site of
docs/own-site.md with ``--strict``, with Material and with MkDocs' own theme, the plugins in either
order. This proves the wheel carries every file the plugin and the command need (the schema, the
stylesheet, any fonts and scripts) and that its declared dependencies suffice.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import yaml

from .conftest import QUIET, ROOT
from .test_engines import minimal_site

pytestmark = pytest.mark.slow
PACKAGE = ROOT / "cnnmacros"


def _run(*args: str | Path, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(map(str, args))}:\n{done.stdout}\n{done.stderr}"
    return done


def _shipped_files() -> set[str]:
    """Every file of the package in the checkout, as the wheel names it (no caches)."""
    return {
        p.relative_to(ROOT).as_posix()
        for p in PACKAGE.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new virtual environment with the wheel and its dependencies (from PyPI, through pip's cache)."""
    work = tmp_path_factory.mktemp("wheel")
    source = work / "source"  # a copy, so that building leaves nothing in the checkout
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source)
    shutil.copytree(PACKAGE, source / "cnnmacros", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    _run(*pip, "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", work / "dist", source, cwd=work)
    (wheel,) = (work / "dist").glob("cnnmacros-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = sorted(_shipped_files() - names)
    assert not missing, f"files of the package the wheel does not carry: {missing} (pyproject's package-data)"
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", "--without-pip", venv, cwd=work)  # pip runs from outside it
    _run(*pip, "--python", venv / "bin" / "python", "install", "-q", "--no-compile", wheel, cwd=work)
    return venv


def _clean_env() -> dict[str, str]:
    """Nothing of this checkout on the path; bytecode written, as pip's --no-compile left none, so that
    only the modules a run imports are compiled, once."""
    drop = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "PYTHONDONTWRITEBYTECODE")
    return dict({k: v for k, v in os.environ.items() if k not in drop}, **QUIET)


def test_the_installed_package_is_the_wheels(installed: Path, tmp_path: Path) -> None:
    env = _clean_env()
    where = _run(
        installed / "bin" / "python", "-c", "import cnnmacros; print(cnnmacros.__file__)", cwd=tmp_path, env=env
    )
    assert Path(where.stdout.strip()).is_relative_to(installed), where.stdout
    schema = _run(installed / "bin" / "cnnmacros", "schema", cwd=tmp_path, env=env)
    assert schema.stdout == (PACKAGE / "architecture.schema.json").read_text(encoding="utf-8")


@pytest.mark.parametrize("theme, reverse", [("material", False), ("mkdocs", True)])
def test_the_minimal_site_builds_from_the_wheel(installed: Path, tmp_path: Path, theme: str, reverse: bool) -> None:
    config_path = minimal_site(tmp_path / "site-source")
    config = yaml.safe_load(config_path.read_text(encoding="utf-8"))
    config["theme"] = {"name": theme}
    if reverse:
        config["plugins"].reverse()
    config_path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    project, out, env = config_path.parent, tmp_path / "out", _clean_env()
    done = _run(installed / "bin" / "mkdocs", "build", "--strict", "-d", out, cwd=project, env=env)
    assert "WARNING" not in done.stderr and "ERROR" not in done.stderr, done.stderr
    assert "NO_MKDOCS_2_WARNING" not in done.stderr  # no upstream banner
    index = (out / "index.html").read_text(encoding="utf-8")
    assert "61,706" in index and "<math" in index and "data-m=" not in index
    page = (out / "models" / "lenet5" / "index.html").read_text(encoding="utf-8")
    assert "LeNet-5" in page and 'id="layer-0-c1"' in page and "data-m=" not in page
    assets = sorted(p for p in (PACKAGE / "assets").rglob("*") if p.is_file())
    assert assets, "the package ships no assets"
    for asset in assets:
        served = out / "assets" / "cnnmacros" / asset.relative_to(PACKAGE / "assets")
        assert served.read_bytes() == asset.read_bytes(), served
    assert 'href="../../assets/cnnmacros/cnnmacros.css"' in page
    _run(installed / "bin" / "cnnmacros", "check", "models", cwd=project, env=env)
