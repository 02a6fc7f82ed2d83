"""Shared test set-up. In CI (``CI`` set) a skipped test is an error: browser and PyTorch tests must run."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ARCHITECTURES = ROOT / "architectures"
IN_CI = bool(os.environ.get("CI"))


def require(ok: bool, reason: str) -> None:
    """Skip locally when a tool is missing; fail in CI, where everything must be installed."""
    if not ok:
        if IN_CI:
            pytest.fail(f"{reason} (CI is set, so this cannot be skipped)")
        pytest.skip(reason)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> object:
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI, which is an error: {report.longrepr}"


@pytest.fixture
def cli_env() -> dict[str, str]:
    """Environment for running the command as a user would, from the project directory."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    return env


PYTHON = sys.executable
