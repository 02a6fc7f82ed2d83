"""A real ``mkdocs serve`` on 127.0.0.1 survives a bad edit and recovers once the file is fixed."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from .conftest import ROOT, copy_project

pytestmark = pytest.mark.slow

GOOD = "4,058"  # the MNIST network's total, from 003_3158b1b40f59c9ac.txt
BROKEN_MESSAGE = "architectures/mnist.yaml:9: layers[0] (Conv-1) kernel: expected a positive integer, got 0"


def served_path(config: Path = ROOT / "mkdocs.yml") -> str:
    """Where ``mkdocs serve`` puts the site: under the path of its ``site_url`` (``/cnnmacros/``),
    as GitHub Pages serves a project site."""
    site_url = yaml.safe_load(config.read_text(encoding="utf-8")).get("site_url") or "/"
    return urlparse(site_url).path or "/"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fetch(url: str) -> str:
    """The page's text; raises when the server does not answer, so a check on it cannot pass by default."""
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.read().decode("utf-8")


def wait_for(url: str, text: str, timeout: float = 90, poll: float = 0.1) -> float:
    """Seconds until the page at ``url`` contains ``text`` (also used by benchmarks/run.py); while the
    server starts or rebuilds, a refused connection only means "not yet"."""
    started = time.perf_counter()
    last = ""
    while time.perf_counter() - started < timeout:
        try:
            last = fetch(url)
        except OSError as exc:
            last = f"(no answer: {exc})"
        if text in last:
            return time.perf_counter() - started
        time.sleep(poll)
    raise AssertionError(f"{url} did not show {text!r} within {timeout} s:\n{last[:2000]}")


def test_serve_survives_a_bad_edit(tmp_path: Path) -> None:
    mnist = copy_project(tmp_path) / "architectures" / "mnist.yaml"
    port = free_port()
    env = dict(os.environ, PYTHONPATH=str(ROOT), NO_MKDOCS_2_WARNING="1")
    log = (tmp_path / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "mkdocs", "serve", "-a", f"127.0.0.1:{port}", "-f", "mkdocs.yml"],
        cwd=tmp_path,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}{served_path()}"
    url = f"{base}architectures/mnist/"
    try:
        wait_for(url, GOOD)
        good = mnist.read_text(encoding="utf-8")
        assert "{name: Conv-1, type: conv2d, filters: 4, kernel: 5}" in good
        mnist.write_text(good.replace("filters: 4, kernel: 5}", "filters: 4, kernel: 0}"), encoding="utf-8")
        wait_for(url, BROKEN_MESSAGE)
        assert server.poll() is None, "mkdocs serve stopped on a bad file"
        assert GOOD not in fetch(url)
        # The hand-written MNIST page shows the error too, instead of stale figures.
        assert "This architecture file has errors" in fetch(f"{base}mnist/")
        mnist.write_text(good, encoding="utf-8")
        wait_for(url, GOOD)
        assert BROKEN_MESSAGE not in fetch(url)
        assert server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()
    output = (tmp_path / "serve.log").read_text(encoding="utf-8")
    assert f"ERROR   -  {BROKEN_MESSAGE}" in output
    assert "Traceback" not in output
