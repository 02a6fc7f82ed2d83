"""The set-up scripts as a contributor meets them: a second run installs nothing and answers at once,
and a build by hand prints no upstream banner."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from .conftest import ROOT, require

pytestmark = pytest.mark.slow
VENV = Path(sys.executable).parent.parent
STAMP = VENV / "cnnmacros-setup"


def _require_setup() -> None:
    require(STAMP.exists(), f"{VENV} was not made by scripts/setup (bash scripts/setup test,oracle)")


def _env() -> dict[str, str]:
    """The environment of a shell with none of the banner switches set."""
    return {k: v for k, v in os.environ.items() if k not in ("NO_MKDOCS_2_WARNING", "DISABLE_MKDOCS_2_WARNING")}


def test_a_second_setup_installs_nothing() -> None:
    _require_setup()
    before = STAMP.read_text(encoding="utf-8")
    extras = before.splitlines()[1]
    started = time.perf_counter()
    done = subprocess.run(["bash", "scripts/setup", extras], cwd=ROOT, capture_output=True, text=True, timeout=120)
    seconds = time.perf_counter() - started
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert seconds < 2, f"scripts/setup took {seconds:.2f} s with nothing to install"
    assert STAMP.read_text(encoding="utf-8") == before


def test_serve_on_a_taken_address_says_so_at_once() -> None:
    """Instead of building the whole site and then failing with a traceback."""
    _require_setup()
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        addr = f"127.0.0.1:{taken.getsockname()[1]}"
        started = time.perf_counter()
        done = subprocess.run(
            ["bash", "scripts/serve"],
            cwd=ROOT,
            env=dict(_env(), ADDR=addr),
            capture_output=True,
            text=True,
            timeout=120,
        )
        seconds = time.perf_counter() - started
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"scripts/serve: {addr} is in use (is the site already served at http://{addr}/?); "
        "set ADDR=host:port for another\n"
    )
    assert seconds < 2, f"it took {seconds:.2f} s"


def test_building_by_hand_prints_no_banner(tmp_path: Path) -> None:
    """``.venv/bin/mkdocs build`` with no variable set: only MkDocs' and the plugins' own lines."""
    _require_setup()
    from .test_engines import minimal_site

    config = minimal_site(tmp_path / "site")
    done = subprocess.run(
        [str(VENV / "bin" / "mkdocs"), "build", "--strict", "-q", "-f", str(config), "-d", str(tmp_path / "out")],
        cwd=tmp_path,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
